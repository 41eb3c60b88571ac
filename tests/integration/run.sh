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

passed=0 failed=0 files_failed=0
for t in "$HERE"/test_*.sh; do
	[ -n "${ONLY:-}" ] && case "$t" in *"$ONLY"*) ;; *) continue ;; esac
	echo "== $(basename "$t")"
	out=$(bash "$t" 2>&1)
	rc=$?
	echo "$out"
	summary=$(printf '%s\n' "$out" | grep -E ': [0-9]+ passed, [0-9]+ failed$' | tail -n 1)
	if [ -z "$summary" ]; then
		echo "  FAIL  $(basename "$t") ended without its summary (exit $rc)"
		failed=$((failed + 1)); files_failed=$((files_failed + 1))
		continue
	fi
	p=$(echo "$summary" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1/')
	f=$(echo "$summary" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\2/')
	passed=$((passed + p)); failed=$((failed + f))
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && { failed=$((failed + 1)); echo "  FAIL  exit $rc"; }
done
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
