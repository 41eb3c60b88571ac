#!/usr/bin/env bash
# Runs every tests/integration/test_*.sh against one throwaway PostgreSQL
# cluster, which is always stopped and removed, also on failure or ^C.
# Needs $ATTESTD (the binary under test).  Prints the totals as
# "integration: N passed, N failed".
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/pg.sh"
: "${ATTESTD:?set ATTESTD to the binary under test}"
export ATTESTD
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Exported: the fault tests stop and start the cluster (pg_stop, pg_start).
export PGWORK=$(mktemp -d "${TMPDIR:-/tmp}/attestd-pg.XXXXXX")
cleanup() { pg_stop "$PGWORK"; rm -rf "$PGWORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
pg_start "$PGWORK" || { echo "integration: cannot start PostgreSQL" >&2; exit 1; }

# The files run side by side (each has its own database and directories),
# JOBS at a time; their outputs are shown in order once all have ended.
JOBS=${JOBS:-3}
OUTDIR=$PGWORK/outputs
mkdir -p "$OUTDIR"
files=()
for t in "$HERE"/test_*.sh; do
	[ -n "${ONLY:-}" ] && case "$t" in *"$ONLY"*) ;; *) continue ;; esac
	files+=("$t")
done
# A file that stops the shared cluster (it says "# exclusive" on a line of
# its own) runs alone, after the others.
run_one() {
	local name
	name=$(basename "$1" .sh)
	bash "$1" >"$OUTDIR/$name.out" 2>&1
	echo $? >"$OUTDIR/$name.rc"
}
running=0
exclusive=()
for t in "${files[@]}"; do
	if grep -qx '# exclusive' "$t"; then
		exclusive+=("$t")
		continue
	fi
	run_one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait
for t in "${exclusive[@]}"; do
	run_one "$t"
done

passed=0 failed=0
for t in "${files[@]}"; do
	name=$(basename "$t" .sh)
	echo "== $name.sh"
	out=$(cat "$OUTDIR/$name.out")
	rc=$(cat "$OUTDIR/$name.rc" 2>/dev/null || echo 1)
	echo "$out"
	summary=$(printf '%s\n' "$out" | grep -E ': [0-9]+ passed, [0-9]+ failed$' | tail -n 1)
	if [ -z "$summary" ]; then
		echo "  FAIL  $name.sh ended without its summary (exit $rc)"
		failed=$((failed + 1))
		continue
	fi
	p=$(echo "$summary" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1/')
	f=$(echo "$summary" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\2/')
	passed=$((passed + p)); failed=$((failed + f))
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && { failed=$((failed + 1)); echo "  FAIL  exit $rc"; }
done
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
