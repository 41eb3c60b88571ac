#!/bin/sh
# Runs every Criterion unit-test binary given; fails if any fails, if none
# ran, or if a sanitizer reported anything: Criterion runs each test in a
# child process and does not fail a test whose child leaked at exit, so
# the output itself is checked for sanitizer reports.
[ "$#" -gt 0 ] || { echo "run-unit: no unit test binaries" >&2; exit 1; }
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$@"; do
	echo "== $t"
	t0=$(date +%s)
	"$t" --jobs 2 >"$log" 2>&1
	rc=$?
	cat "$log"
	echo "   ($t: $(( $(date +%s) - t0 )) s)"
	if [ "$rc" -ne 0 ]; then
		failed=$((failed + 1))
	elif grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log"; then
		echo "run-unit: $t: a sanitizer reported a problem (above)" >&2
		failed=$((failed + 1))
	fi
done
if [ "$failed" -ne 0 ]; then
	echo "unit: $failed test binaries failed" >&2
	exit 1
fi
