# console_lib.sh - helpers for the console's tests (sourced after lib.sh and
# scenario.sh; not a test file itself).
#
#   console_people DB           login roles with passwords, checked by PostgreSQL
#                               (scram-sha-256 for them on DB, added to pg_hba.conf):
#                               console_auditor (attestd_auditor), console_reviewer
#                               (attestd_reviewer), console_nobody (no role), each
#                               with password "pw-<name>"; any member of attestd_auditor
#                               signs in with a password on DB
#   console_start [EXTRA_CONF]  [console] listen on a free loopback port in $CONF,
#                               attestd console --foreground in the background; waits
#                               for /healthz; sets CONSOLE_URL, CONSOLE_PID
#   console_stop                SIGTERM, waits; CONSOLE_RC its exit status
#   http USER PATH [curl args]  CODE, HDRS (headers), BODY (file $WORK/body);
#                               USER "-" for no credentials

console_people() {
	local db=$1 hba
	hba=$(pg_admin -At -c "SHOW hba_file") || return 1
	# Test files run side by side on one cluster: the roles (cluster-wide)
	# and pg_hba.conf are changed by one of them at a time.
	(
		flock 9
		pg_admin -q -c "SET client_min_messages = warning" -c "DO \$\$ BEGIN
			IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'console_auditor') THEN
				CREATE ROLE console_auditor LOGIN IN ROLE attestd_auditor; END IF;
			IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'console_reviewer') THEN
				CREATE ROLE console_reviewer LOGIN IN ROLE attestd_reviewer; END IF;
			IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'console_nobody') THEN
				CREATE ROLE console_nobody LOGIN; END IF;
		END \$\$" \
			-c "ALTER ROLE console_auditor PASSWORD 'pw-console_auditor'" \
			-c "ALTER ROLE console_reviewer PASSWORD 'pw-console_reviewer'" \
			-c "ALTER ROLE console_nobody PASSWORD 'pw-console_nobody'" >/dev/null || exit 1
		# The test cluster trusts every local login: passwords are checked
		# on this database for every member of attestd_auditor (the roles a
		# README block creates too) and console_nobody (first match wins).
		if ! grep -q "^local $db +attestd_auditor" "$hba"; then
			{ echo "local $db +attestd_auditor,console_nobody scram-sha-256"; cat "$hba"; } > "$hba.new" &&
				cat "$hba.new" > "$hba" && rm -f "$hba.new" || exit 1
			pg_admin -q -c "SELECT pg_reload_conf()" >/dev/null || exit 1
		fi
	) 9>"$hba.lock" || return 1
	# The reload is asynchronous (a signal to the postmaster), this file's
	# or another's: wait until a new session on DB is asked for a password.
	wait_until 60 console_passwords_checked "$db" ||
		{ echo "console_people: pg_hba.conf's rule for $db not in effect" >&2; return 1; }
}

console_passwords_checked() {
	env -u PGPASSWORD PGPASSFILE=/dev/null psql -X -w -At -U console_nobody -d "$1" \
		-c 'SELECT 1' 2>&1 | grep -q 'no password supplied'
}

console_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

console_start() {
	local try
	CONSOLE_PORT=$(console_free_port)
	printf '\n[console]\nlisten = 127.0.0.1:%s\n%s\n' "$CONSOLE_PORT" "${1:-}" >> "$CONF"
	for try in 1 2 3; do
		if [ "$try" -gt 1 ]; then
			local old=$CONSOLE_PORT
			CONSOLE_PORT=$(console_free_port)
			sed -i "s|^listen = 127.0.0.1:$old\$|listen = 127.0.0.1:$CONSOLE_PORT|" "$CONF"
		fi
		CONSOLE_URL=http://127.0.0.1:$CONSOLE_PORT
		console_run && return 0
		# The free port was taken in the meantime (the files run side by
		# side): another one.  Any other failure is the console's.
		grep -q 'cannot listen on' "$WORK/console.err" || return 1
	done
	return 1
}

# console_run: starts attestd console with $CONF as it is; ready once it
# has logged its start with its own pid (it listens, its signals are set:
# a /healthz answer alone could come from another file's console on a port
# taken meanwhile) and $CONSOLE_URL/healthz answers (curl $CURL_OPTS).
console_ready() {
	grep -q "action=console-start pid=$CONSOLE_PID " "$WORK/console.err" &&
	[ "$(curl -s ${CURL_OPTS:-} -o /dev/null -w '%{http_code}' "$CONSOLE_URL/healthz")" = 200 ]
}
console_up_or_gone() { console_ready || ! kill -0 "$CONSOLE_PID" 2>/dev/null; }
console_run() {
	"$ATTESTD" console --foreground --config "$CONF" >"$WORK/console.out" 2>"$WORK/console.err" &
	CONSOLE_PID=$!
	wait_until 120 console_up_or_gone
	console_ready && return 0
	if kill -0 "$CONSOLE_PID" 2>/dev/null; then
		echo "console_run: not ready within 120 s" >&2
		kill -TERM "$CONSOLE_PID"
	fi
	wait "$CONSOLE_PID" 2>/dev/null
	cat "$WORK/console.err" >&2
	return 1
}

console_stop() {
	kill -TERM "$CONSOLE_PID" 2>/dev/null
	wait "$CONSOLE_PID"
	CONSOLE_RC=$?
}

http() {
	local user=$1 path=$2
	shift 2
	local auth=()
	[ "$user" != "-" ] && auth=(-u "$user:pw-$user")
	CODE=$(curl -s -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' --max-time 120 \
		"${auth[@]}" "$@" "$CONSOLE_URL$path")
	# $(<f) and the expansion run in bash itself: no tr, no cat, no
	# subshell for each of the tests' hundreds of requests.
	HDRS=$(<"$WORK/headers")
	HDRS=${HDRS//$'\r'/}
	BODY=$(<"$WORK/body")
}
