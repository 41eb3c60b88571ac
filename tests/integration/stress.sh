#!/usr/bin/env bash
# stress.sh - the integration suite RUNS times (default 5) with every core
# kept busy by stress-ng, to find the checks that depend on the machine's
# speed (issue 12).  Prints, per run, its time and its failed checks; exits
# 0 only if every run passed.  `make check-stress [RUNS=5]`; ONLY narrows
# the files as in run.sh.  Needs $ATTESTD, like run.sh.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
: "${ATTESTD:?set ATTESTD to the binary under test}"
RUNS=${RUNS:-5}
command -v stress-ng >/dev/null 2>&1 ||
	{ echo "check-stress: stress-ng is missing (Debian package stress-ng: make deps)" >&2; exit 1; }
case "$RUNS" in ''|*[!0-9]*|0) echo "check-stress: RUNS must be a positive number, not '$RUNS'" >&2; exit 1 ;; esac

LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/attestd-stress.XXXXXX")
hog=
stop_hog() { [ -n "$hog" ] && kill "$hog" 2>/dev/null && wait "$hog" 2>/dev/null; hog=; }
trap 'stop_hog' EXIT
trap 'exit 130' INT TERM
# One CPU hog per core, at full load (STRESS_LOAD percent: test_check_stress
# tests this runner inside make check, without hogging the other files'
# cores), for as long as the runs last.
cores=$(nproc)
load=${STRESS_LOAD:-100}
case "$load" in ''|*[!0-9]*|0) echo "check-stress: STRESS_LOAD must be a percentage, not '$load'" >&2; exit 1 ;; esac
stress-ng --cpu "$cores" --cpu-load "$load" --timeout 0 --quiet &
hog=$!
# Started once its workers are there (it exits at once on a bad option).
for ((i = 0; i < 600; i++)); do
	pgrep -P "$hog" >/dev/null 2>&1 && break
	kill -0 "$hog" 2>/dev/null || break
	sleep 0.1
done
pgrep -P "$hog" >/dev/null 2>&1 || { echo "check-stress: stress-ng did not start" >&2; exit 1; }
echo "check-stress: $RUNS run(s) of the integration suite, $cores CPU hog(s) at $load% from stress-ng (pid $hog); logs in $LOGDIR"

bad=0
for ((run = 1; run <= RUNS; run++)); do
	t0=$(date +%s)
	bash "$HERE/run.sh" >"$LOGDIR/run$run.log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - t0 ))
	total=$(grep -E '^integration: [0-9]+ passed, [0-9]+ failed$' "$LOGDIR/run$run.log" | tail -n 1)
	[ -n "$total" ] || total="integration: no summary (exit $rc)"
	echo "run $run/$RUNS: ${total#integration: } in ${secs} s"
	if [ "$rc" -ne 0 ]; then
		bad=$((bad + 1))
		# Each failure under the name of the file it came from.
		awk '/^== /{f=$2} /^  FAIL /{sub(/^  FAIL +/, ""); print "    " f ": " $0}' "$LOGDIR/run$run.log"
	fi
done
stop_hog
if [ "$bad" -eq 0 ]; then
	echo "check-stress: $RUNS of $RUNS runs passed"
	rm -rf "$LOGDIR"
else
	echo "check-stress: $bad of $RUNS runs failed (logs in $LOGDIR)"
	exit 1
fi
