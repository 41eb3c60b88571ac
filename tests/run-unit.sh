#!/usr/bin/env bash
# Runs every Criterion unit-test binary given; fails if any fails, if none
# ran, or if a sanitizer reported anything: Criterion runs each test in a
# child process and does not fail a test whose child leaked at exit, so
# the output itself is checked for sanitizer reports.
#
# UNIT_JOBS binaries (default: the number of cores) run at a time, each
# with --jobs 1: one binary with --jobs 2 left a core idle while it
# started, at its end and in its slow tests (issue 12).  The outputs are
# printed in the order given, each once its binary has ended.
[ "$#" -gt 0 ] || { echo "run-unit: no unit test binaries" >&2; exit 1; }
JOBS=${UNIT_JOBS:-$(nproc 2>/dev/null || echo 1)}
case "$JOBS" in '' | *[!0-9]* | 0) echo "run-unit: UNIT_JOBS must be a positive number" >&2; exit 1 ;; esac
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# run_one N BINARY: its output in $dir/N.log, exit status in $dir/N.rc,
# wall time in $dir/N.time.
run_one() {
	local t0=$EPOCHSECONDS
	"$2" --jobs 1 >"$dir/$1.log" 2>&1
	echo $? >"$dir/$1.rc"
	echo $((EPOCHSECONDS - t0)) >"$dir/$1.time"
}

bins=("$@")
failed=0
shown=0
# show_ended: prints, in order, the outputs of the binaries that have ended.
show_ended() {
	local t rc
	while [ "$shown" -lt "${#bins[@]}" ] && [ -f "$dir/$shown.time" ]; do
		t=${bins[$shown]}
		echo "== $t"
		cat "$dir/$shown.log"
		echo "   ($t: $(<"$dir/$shown.time") s)"
		rc=$(<"$dir/$shown.rc")
		if [ "$rc" -ne 0 ]; then
			failed=$((failed + 1))
		elif grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$dir/$shown.log"; then
			echo "run-unit: $t: a sanitizer reported a problem (above)" >&2
			failed=$((failed + 1))
		fi
		shown=$((shown + 1))
	done
}

running=0
for i in "${!bins[@]}"; do
	if [ "$running" -ge "$JOBS" ]; then
		wait -n
		running=$((running - 1))
		show_ended
	fi
	run_one "$i" "${bins[$i]}" &
	running=$((running + 1))
done
wait
show_ended
if [ "$shown" -ne "${#bins[@]}" ]; then
	echo "run-unit: $(( ${#bins[@]} - shown )) binaries did not report" >&2
	exit 1
fi
if [ "$failed" -ne 0 ]; then
	echo "unit: $failed test binaries failed" >&2
	exit 1
fi
