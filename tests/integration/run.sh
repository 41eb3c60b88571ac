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
PASS_T0=$EPOCHREALTIME

# The files run side by side (each has its own database, directories,
# ports and sockets), JOBS at a time: most of a file's time is spent
# waiting for an event (a receipt, a log line, a restarted server), so
# twice as many files as cores keep the cores busy.  Their outputs are shown
# in order once all have ended.
JOBS=${JOBS:-$((2 * $(nproc)))}
case "$JOBS" in ''|*[!0-9]*|0) echo "integration: JOBS must be a positive number, not '$JOBS'" >&2; exit 1 ;; esac
OUTDIR=$PGWORK/outputs
mkdir -p "$OUTDIR"
# The longest files start first, so that the pass does not end with one of
# them running alone (their order: the times table the runner prints, slowest
# first, from a plain pass on a 2-core machine).  Files not named here start
# after these, in alphabetical order.
SLOW_FIRST=(test_console_hostile.sh test_crash.sh test_instances.sh test_durability.sh test_install_guide.sh
	test_kill.sh test_documents.sh test_console.sh test_audit_commands.sh test_package.sh test_sftp.sh
	test_browser.sh)
all=()
for t in "$HERE"/test_*.sh; do
	[ -n "${ONLY:-}" ] && case "$t" in *"$ONLY"*) ;; *) continue ;; esac
	all+=("$t")
done
files=()
for name in "${SLOW_FIRST[@]}"; do
	for t in "${all[@]}"; do [ "$(basename "$t")" = "$name" ] && files+=("$t"); done
done
for t in "${all[@]}"; do
	case " ${SLOW_FIRST[*]} " in *" $(basename "$t") "*) ;; *) files+=("$t") ;; esac
done

# The cluster and the PKI only when there is a file to run (ONLY may match
# none: the runner's own test asks for that).
if [ ${#files[@]} -gt 0 ]; then
	pg_start "$PGWORK" || { echo "integration: cannot start PostgreSQL" >&2; exit 1; }
	# One test PKI for the pass, copied by each file that needs one (test_pki
	# in lib.sh); a file makes its own if this failed.  A run inside a run
	# (test_check_stress) uses the outer one's: the same fixed keys and
	# certificates, without 16 openssl runs.
	if [ -n "${TEST_PKI:-}" ] && [ -f "$TEST_PKI/ca-bundle.pem" ]; then :
	elif sh "$HERE/../fixtures/pki.sh" "$PGWORK/pki" >/dev/null 2>&1; then export TEST_PKI=$PGWORK/pki
	else unset TEST_PKI; fi
fi

# Each file's wall time and CPU time (user+sys of the file and of every
# process it waited for, the service included; PostgreSQL's backends are not
# counted) go to $OUTDIR/NAME.time as "WALL CPU", in seconds.
run_one() {
	local name TIMEFORMAT='%R %U %S'
	name=$(basename "$1" .sh)
	{ time bash "$1" >"$OUTDIR/$name.out" 2>&1; echo $? >"$OUTDIR/$name.rc"; } 2>"$OUTDIR/$name.cpu"
	awk '{ printf "%.1f %.1f\n", $1, $2 + $3 }' "$OUTDIR/$name.cpu" >"$OUTDIR/$name.time"
}

# A file that says "# plain pass only: WHY" on a line of its own is not run
# again in the sanitized pass (SANITIZE set): it does not run the binary
# under test (the packaging tests build their own, without sanitizers), so
# a second run would test nothing new.  The skip is announced with its
# reason, and counted.
skip_reason() {
	[ -n "${SANITIZE:-}" ] && sed -n 's/^# plain pass only: //p' "$1" | head -n 1 | grep .
}

# A file that stops the shared cluster or changes its roles (it says
# "# exclusive" on a line of its own) runs alone, after the others.
running=0
exclusive=()
skipped=()
for t in "${files[@]}"; do
	if skip_reason "$t" >/dev/null; then
		skipped+=("$t")
		continue
	fi
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
	if why=$(skip_reason "$t"); then
		echo "  skip  $name.sh is not run again in the sanitized pass: $why"
		continue
	fi
	out=$(<"$OUTDIR/$name.out")
	rc=$(cat "$OUTDIR/$name.rc" 2>/dev/null || echo 1)
	echo "$out"
	read -r wall cpu <"$OUTDIR/$name.time" 2>/dev/null || wall=? cpu=?
	echo "  time  $name.sh: $wall s wall, $cpu s cpu"
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
# The slowest files first: they are the pass's tail, and the order in
# which they should start (SLOW_FIRST above).
echo "== times (wall s, cpu s), slowest first"
for t in "${files[@]}"; do
	name=$(basename "$t" .sh)
	[ -f "$OUTDIR/$name.time" ] || continue
	read -r wall cpu <"$OUTDIR/$name.time" 2>/dev/null || wall=0 cpu=0
	printf '%8s %8s  %s\n' "$wall" "$cpu" "$name.sh"
done | sort -rn
awk -v t0="$PASS_T0" -v t1="$EPOCHREALTIME" -v j="$JOBS" -v n="$(( ${#files[@]} - ${#skipped[@]} ))" \
	'BEGIN { printf "integration: %d files in %.0f s (JOBS=%d)\n", n, t1 - t0, j }'
[ "${#skipped[@]}" -gt 0 ] &&
	echo "integration: ${#skipped[@]} file(s) not run in the sanitized pass (announced above):" \
		"$(for t in "${skipped[@]}"; do basename "$t"; done | tr '\n' ' ' | sed 's/ $//')"
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && { [ "$passed" -gt 0 ] || [ "${#skipped[@]}" -gt 0 ]; }
