# lib.sh - assertions and helpers for the integration tests (sourced by each
# test_*.sh, which runs with PGHOST etc. set by run.sh and $ATTESTD the
# binary under test).  Each test file ends with `finish`, which prints
# "N passed, N failed" and exits non-zero on any failure.

set -u
. "$(dirname "${BASH_SOURCE[0]}")/pg.sh"
PASSED=0
FAILED=0
T_NAME=$(basename "$0" .sh)
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/attestd-$T_NAME.XXXXXX")
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT

pass() { PASSED=$((PASSED + 1)); echo "  ok    $1"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL  $1"; shift; [ $# -gt 0 ] && printf '        %s\n' "$@"; }

# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected: $2" "actual:   $3"; fi
}

# expect_match NAME REGEX TEXT  (grep -E, multi-line text)
expect_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then pass "$1"; else fail "$1" "no line matches: $2" "in: $3"; fi
}

expect_no_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then fail "$1" "a line matches: $2" "in: $3"; else pass "$1"; fi
}

# run_attestd: runs the binary, sets OUT (stdout), ERR (stderr), RC.
run_attestd() {
	OUT=$("$ATTESTD" "$@" 2>"$WORK/stderr")
	RC=$?
	ERR=$(cat "$WORK/stderr")
	# A sanitizer report is a failure whatever the exit code says.
	if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$WORK/stderr"; then
		fail "sanitizer clean: attestd $*" "$ERR"
	fi
}

# sql QUERY: one value or rows, unaligned, as the attestd role.
sql() { psql -X -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }

# fresh_db: a new database for this test file, with a configuration file
# pointing at it ($CONF) and directories under $WORK.
fresh_db() {
	DB=${1:-t_$T_NAME}
	pg_createdb "$DB"
	export PGDATABASE=$DB
	mkdir -p "$WORK/inbox" "$WORK/outbox" "$WORK/spool" "$WORK/archive" "$WORK/quarantine"
	: > "$WORK/centres-ca.pem"
	CONF=$WORK/attestd.conf
	cat > "$CONF" <<CONF
[paths]
inbox = $WORK/inbox
outbox = $WORK/outbox
spool = $WORK/spool
archive = $WORK/archive
quarantine = $WORK/quarantine

[database]
conninfo = host=$PGHOST port=$PGPORT dbname=$DB user=attestd

[trust]
centres_ca = $WORK/centres-ca.pem

[prefecture]
departements = 28
timezone = Europe/Paris
CONF
	export ATTESTD_CONFIG=$CONF
}

finish() {
	echo "$T_NAME: $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}
