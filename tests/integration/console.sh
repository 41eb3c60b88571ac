# console.sh - the console under test, on the demo's data (sourced by
# test_browser.sh and test_console_hostile.sh after lib.sh; the bench uses
# it too).
#
#   console_demo           a PostgreSQL cluster of its own under $WORK/demo/pg
#                          in which passwords are checked (the shared one trusts
#                          everyone, and "wrong password: 401" needs a server
#                          that says no), the demo's story loaded
#                          (contrib/demo/demo.sh with the binary under test),
#                          the people's roles, $CONF, $DB, $DEMO
#   console_people         the people: ANNE (auditor), REMI (reviewer), NOEL
#                          (a login role that is neither), password $PASS
#   console_start [ENV=V...]  [console] listen on a free loopback port in $CONF,
#                          `attestd console --foreground` in the background
#                          (stderr in $WORK/console.log), waits for /healthz;
#                          sets $URL, $CONSOLE_PID
#   console_stop           SIGTERM, waits for the exit, sanitizer check
#   free_port              a TCP port nobody listens on
#   http ARGS...           curl with the test's defaults (no proxy, 60 s)
#   console_cleanup       for the EXIT trap: the console and the cluster stopped
#   db_digest              md5 of what a request could change: decisions and
#                          their history, ledger, balances and their history,
#                          receipts, audit log
#
# The clock is the demo's: Wednesday 18 November 2026, after delivery 2
# (ATTESTD_TEST_NOW), so the 30 days of the dashboard hold the demo's files
# whatever today's date.

CONSOLE_NOW=${CONSOLE_NOW:-2026-11-18T15:00:00+01:00}
PASS='Mot de passe 1!'
ANNE=anne_auditrice
REMI=remi_relecteur
NOEL=noel_nobody

# demo_reload: the demo cluster's pg_hba.conf taken, not only asked for: a
# reload is a signal the postmaster handles later; a new session's
# pg_conf_load_time() is the postmaster's, later once it has reloaded
# (configuration and pg_hba.conf in the same handler).
demo_reload() {
	local before
	before=$(pg_admin -At -c "SELECT pg_conf_load_time()") || return 1
	pg_run_as "$PG_BIN/pg_ctl" -D "$DEMO/pg/data" reload >/dev/null || return 1
	wait_until 60 demo_reloaded_after "$before" ||
		{ echo "console.sh: the demo cluster did not reload within 60 s" >&2; return 1; }
}
demo_reloaded_after() {
	[ "$(pg_admin -At -c "SELECT pg_conf_load_time() > '$1'::timestamptz")" = t ]
}

console_demo() {
	DEMO=$WORK/demo
	mkdir -p "$DEMO"
	pg_start "$DEMO/pg" || return 1
	# Passwords checked for every role but the service's and the cluster's
	# own (the demo and the tests' psql connect as those without one).
	local hba=$DEMO/pg/data/pg_hba.conf
	printf '%s\n' 'local all attestd_admin trust' 'local all attestd trust' \
		'local all attestd_auditor trust' 'local all all scram-sha-256' > "$hba"
	demo_reload || return 1
	DEMO_DIR=$DEMO ATTESTD=$ATTESTD SIGNER=${SIGNER:-$(dirname "$ATTESTD")/tests/attestd-sign} \
		bash "$TOP/contrib/demo/demo.sh" > "$WORK/demo.log" 2>&1 ||
		{ echo "console.sh: the demo failed:" >&2; tail -n 30 "$WORK/demo.log" >&2; return 1; }
	# The demo's psql as attestd_auditor is done: from now on only the
	# service role and the cluster's own go without a password.
	sed -i '/attestd_auditor trust/d' "$hba"
	demo_reload || return 1
	DB=attestd
	export PGDATABASE=$DB
	CONF=$DEMO/attestd.conf
	export ATTESTD_CONFIG=$CONF
	console_people
}

console_people() {
	pg_admin -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
SET client_min_messages = warning;
DROP ROLE IF EXISTS $ANNE; DROP ROLE IF EXISTS $REMI; DROP ROLE IF EXISTS $NOEL;
CREATE ROLE $ANNE LOGIN PASSWORD '$PASS';
GRANT attestd_auditor TO $ANNE;
CREATE ROLE $REMI LOGIN PASSWORD '$PASS';
GRANT attestd_reviewer TO $REMI;
CREATE ROLE $NOEL LOGIN PASSWORD '$PASS';
SQL
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Ready once it has logged its start with its own pid (it listens, its
# signals are set: a /healthz answer alone could come from another file's
# console on a port taken meanwhile) and /healthz answers.  A port taken
# between free_port and the console's bind: another port.
console_start() {
	local port try off
	for try in 1 2 3; do
		port=$(free_port)
		sed -i '/^\[console\]/,$d' "$CONF"
		printf '\n[console]\nlisten = 127.0.0.1:%s\n' "$port" >> "$CONF"
		URL=http://127.0.0.1:$port
		off=$(( $(stat -c %s "$WORK/console.log" 2>/dev/null || echo 0) + 1 ))
		env ATTESTD_TEST_NOW="$CONSOLE_NOW" "$@" "$ATTESTD" console --config "$CONF" --foreground \
			2>>"$WORK/console.log" &
		CONSOLE_PID=$!
		wait_until 120 console_up_or_gone
		console_ready && return 0
		kill -0 "$CONSOLE_PID" 2>/dev/null && kill -TERM "$CONSOLE_PID"
		wait "$CONSOLE_PID" 2>/dev/null
		CONSOLE_PID=
		tail -c +"$off" "$WORK/console.log" | grep -q 'cannot listen on' || break
	done
	echo "console.sh: attestd console did not answer /healthz on $URL:" >&2
	tail -n 20 "$WORK/console.log" >&2
	return 1
}
console_ready() {
	grep -q "action=console-start pid=$CONSOLE_PID " "$WORK/console.log" &&
	[ "$(curl -s --noproxy '*' -m 5 "$URL/healthz" 2>/dev/null | cut -c1-2)" = ok ]
}
console_up_or_gone() { console_ready || ! kill -0 "$CONSOLE_PID" 2>/dev/null; }

console_stop() {
	[ -n "${CONSOLE_PID:-}" ] || return 0
	kill -TERM "$CONSOLE_PID" 2>/dev/null
	local rc=0
	wait "$CONSOLE_PID" || rc=$?
	CONSOLE_PID=
	expect_eq "attestd console stops on SIGTERM with exit 0" 0 "$rc"
	console_sanitizer_clean "attestd console: no sanitizer report" "$WORK/console.log"
}

console_sanitizer_clean() {
	if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$2"; then
		fail "$1" "$(grep -E -A5 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$2" | head -40)"
	else
		pass "$1"
	fi
}

http() { curl -s --noproxy '*' -m 60 "$@"; }

db_digest() {
	psql -X -At -d "$DB" -c "SELECT md5(string_agg(t, E'\n' ORDER BY t)) FROM (
		SELECT 'a ' || a::text AS t FROM attestd.attestations a
		UNION ALL SELECT 'h ' || h::text FROM attestd.decision_history h
		UNION ALL SELECT 'e ' || e::text FROM attestd.licence_events e
		UNION ALL SELECT 'b ' || b::text FROM attestd.licence_balances b
		UNION ALL SELECT 'bh ' || bh::text FROM attestd.balance_history bh
		UNION ALL SELECT 'r ' || r::text FROM attestd.receipts r
		UNION ALL SELECT 'l ' || l::text FROM audit.log l) x"
}

console_cleanup() {
	[ -n "${CONSOLE_PID:-}" ] && kill -TERM "$CONSOLE_PID" 2>/dev/null && wait "$CONSOLE_PID" 2>/dev/null
	[ -n "${DEMO:-}" ] && pg_stop "$DEMO/pg"
	[ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap console_cleanup EXIT
