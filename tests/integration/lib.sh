# lib.sh - assertions and helpers for the integration tests (sourced by each
# test_*.sh, which runs with PGHOST etc. set by run.sh and $ATTESTD the
# binary under test).  Each test file ends with `finish`, which prints
# "N passed, N failed" and exits non-zero on any failure.

set -u
. "$(dirname "${BASH_SOURCE[0]}")/pg.sh"
PASSED=0
FAILED=0
T_NAME=${0##*/}
T_NAME=${T_NAME%.sh}
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
	if line_match "$2" "$3"; then pass "$1"; else fail "$1" "no line matches: $2" "in: $3"; fi
}

expect_no_match() {
	if line_match "$2" "$3"; then fail "$1" "a line matches: $2" "in: $3"; else pass "$1"; fi
}

# line_match REGEX TEXT: a line of TEXT matches REGEX, as grep -Eq says.  A
# one-line ASCII text and pattern are matched by bash's [[ =~ ]] (the same
# POSIX ERE of the C library; no process); anything else, or a pattern the
# library refuses (status 2), goes to grep, without the printf subshell.
line_match() {
	local rc
	if [[ $2 != *$'\n'* && $1 != *$'\n'* && $1$2 != *[^\ -~$'\t']* ]]; then
		[[ $2 =~ $1 ]]
		rc=$?
		[ "$rc" -ne 2 ] && return "$rc"
	fi
	grep -Eq -- "$1" <<<"$2"
}

# run_attestd: runs the binary, sets OUT (stdout), ERR (stderr), RC.
run_attestd() {
	OUT=$("$ATTESTD" "$@" 2>"$WORK/stderr")
	RC=$?
	ERR=$(<"$WORK/stderr")
	# A sanitizer report is a failure whatever the exit code says.  (In
	# bash: a grep per command was two processes for nothing.)
	if sanitizer_report "$ERR"; then
		fail "sanitizer clean: attestd $*" "$ERR"
	fi
}

# sanitizer_report TEXT: true when TEXT holds an ASan/LSan/UBSan report.
sanitizer_report() {
	[[ $1 == *"ERROR: AddressSanitizer"* || $1 == *"ERROR: LeakSanitizer"* || $1 == *"runtime error:"* ]]
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

# expect_decision_counts WHAT: the monthly decision counts (migration 014's
# attestd.decision_counts, kept by a trigger) equal a GROUP BY of the
# attestations they summarise, row for row, and count something (a check
# comparing two empty sets proves nothing).  Rows at zero are what a purge
# or a re-decision leaves; they must agree as absent.
expect_decision_counts() {
	local diff
	diff=$(sql "WITH g AS (SELECT date_trunc('month', a.decided_on)::date AS month, a.approval,
			a.decision, r.reason, count(*)::bigint AS attestations, sum(a.points)::bigint AS points
			FROM attestd.attestations a, unnest(array_prepend('', a.reasons)) r(reason)
			WHERE a.decided_on IS NOT NULL GROUP BY 1, 2, 3, 4),
		s AS (SELECT month, approval, decision, reason, attestations, points
			FROM attestd.decision_counts WHERE attestations <> 0 OR points <> 0)
		SELECT 'missing ' || x::text FROM (TABLE g EXCEPT TABLE s) x
		UNION ALL SELECT 'extra ' || y::text FROM (TABLE s EXCEPT TABLE g) y ORDER BY 1" 2>&1)
	expect_eq "$1: the monthly decision counts equal a GROUP BY of the attestations" "" "$diff"
	expect_match "$1: and count decisions" '^[1-9]' \
		"$(sql "SELECT sum(attestations) FROM audit.monthly_decisions WHERE reason = ''")"
}

# test_pki DIR: the throwaway test PKI (tests/fixtures/pki.sh) in DIR, a
# copy of the one run.sh made for the whole pass ($TEST_PKI): the keys and
# certificates are the same for every file (fixed dates, the names pki.sh
# documents), so making them once saves each file its openssl runs.  Made
# here when the file runs without run.sh.
test_pki() {
	if [ -n "${TEST_PKI:-}" ] && [ -f "$TEST_PKI/ca-bundle.pem" ]; then
		mkdir -p "$1" && cp -R "$TEST_PKI/." "$1/"
	else
		sh "$TOP/tests/fixtures/pki.sh" "$1" >/dev/null 2>&1
	fi
}

finish() {
	echo "$T_NAME: $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}

# --- waiting on events (issue 12) -------------------------------------------
# A check waits for what it is about (a log line, the status file, a row, a
# receipt), never for a time: the timeouts below are for a hung product
# only, and are wall-clock, so a loaded machine's slow polls do not shorten
# or stretch them.  WAIT_SCALE multiplies every timeout (a very slow host).
#
#   wait_until TIMEOUT CMD...      polls CMD every 0.1 s (WAIT_POLL), every
#                                  0.3 s after 3 s unless WAIT_POLL is set: 0
#                                  once it succeeds, 1 if TIMEOUT seconds pass
#   wait_for WHAT TIMEOUT CMD...   the same, as a check named WHAT
#   status_after PIDFILE T         true once the service's status file
#                                  (spool/.status.PID) was rewritten in a
#                                  second after T (epoch seconds): its main
#                                  loop went round at least once since T
wait_until() {
	local deadline=$((EPOCHSECONDS + $1 * ${WAIT_SCALE:-1})) start=$EPOCHSECONDS poll
	shift
	until "$@"; do
		[ "$EPOCHSECONDS" -ge "$deadline" ] && return 1
		# The first seconds at WAIT_POLL; a longer wait (a batch going
		# through) at 0.3 s: a condition that runs psql costs a process
		# and a server backend a poll.  WAIT_POLL set by the caller holds.
		poll=${WAIT_POLL:-0.1}
		[ -z "${WAIT_POLL:-}" ] && [ $((EPOCHSECONDS - start)) -ge 3 ] && poll=0.3
		nap "$poll"
	done
	return 0
}

# notify_listen SOCKET LOG: a NOTIFY_SOCKET for a service under test, bound
# before it returns (datagrams sent from then on wait in the socket's
# queue); each datagram's lines are appended to LOG, then an empty line, so
# that a line's neighbours in LOG came in the same datagram.  NOTIFY_PID:
# the listener, for kill.
notify_listen() {
	command -v python3 >/dev/null || { fail "python3 is needed (the NOTIFY_SOCKET listener)"; return 1; }
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        out.write(s.recv(4096).decode().rstrip("\n") + "\n\n")
' "$1" "$2" &
	NOTIFY_PID=$!
	wait_until 60 test -S "$1" || { fail "the NOTIFY_SOCKET listener is bound"; return 1; }
}

# nap SECONDS: sleep without starting a process (a read that times out on a
# pipe nobody writes to, opened once): the poll loops nap thousands of times.
exec {NAP_FD}<> <(:)
nap() { read -r -t "$1" -u "$NAP_FD" _ || :; }

# dir_empty DIR: DIR has no entry, hidden ones included (no process).
dir_empty() {
	local e
	for e in "$1"/* "$1"/.[!.]* "$1"/..?*; do
		[ -e "$e" ] || [ -L "$e" ] && return 1
	done
	return 0
}

# dir_count DIR: sets DIR_N to the number of DIR's entries not starting
# with a dot, as `ls DIR | wc -l` counts them (no process).
dir_count() {
	local e
	DIR_N=0
	for e in "$1"/*; do
		[ -e "$e" ] || [ -L "$e" ] && DIR_N=$((DIR_N + 1))
	done
}

wait_for() {
	local what=$1 timeout=$2
	shift 2
	if wait_until "$timeout" "$@"; then pass "$what"
	else fail "$what" "not seen within $timeout s: $*"; fi
}

status_after() {
	local updated= line
	# Read in bash: the status file is a few lines, polled often.
	while IFS= read -r line; do
		[[ $line == updated=* ]] && updated=${line#updated=}
	done 2>/dev/null < "$1"
	[ -n "${updated:-}" ] && [ "$updated" -gt "$2" ]
}
