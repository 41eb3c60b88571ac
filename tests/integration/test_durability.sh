#!/usr/bin/env bash
# Durability and the truth about faults (issue 17), on a cluster of this
# file's own, tuned as many are: fsync on, synchronous_commit OFF.
#
# 1. PostgreSQL stopped with -m immediate several times while the service
#    works through a batch: every file the service told about (a receipt in
#    the outbox, an outcome=accepted line) has its row after the restarts,
#    and the end state is that of an undisturbed run.  attestd sets
#    synchronous_commit itself; without it the server's "off" takes back
#    the last commits.
# 2. The database taken away at each step of the write path
#    (ATTESTD_HOLD_AT: its backend terminated, or the server stopped): the
#    log says reason=db_unavailable, never internal_error, the fault is
#    db_unavailable (not io_error), and each file is processed once after.
#    A registry import whose COPY loses the server exits 4, blaming no line.
# 3. Idle (empty inbox): the server stopped is noticed within the rescan
#    interval in the status file, the metrics and systemd's STATUS=, and
#    its return clears all three.
# Plus: the server's fsync=off reported by db status, status and the log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.sh"
. "$(dirname "$0")/batch.sh"
command -v python3 >/dev/null || { fail "python3 is needed (the NOTIFY_SOCKET listener)"; finish; exit 1; }

PG2=$WORK/pg
# Exported: every pg_start of this file (restarts too) starts it so.
export PG_SERVER_OPTIONS="-c fsync=on -c full_page_writes=on -c synchronous_commit=off"
pg_start "$PG2" ||
	{ fail "a second cluster (fsync on, synchronous_commit off)"; finish; exit 1; }
trap 'pg_stop "$PG2"; [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT
expect_eq "own cluster: synchronous_commit off, fsync on" "off on" \
	"$(pg_admin -At -c "SELECT current_setting('synchronous_commit') || ' ' || current_setting('fsync')")"
scenario_init || { fail "scenario_init"; finish; exit 1; }

service_start() {
	env "$@" ATTESTD_TEST_NOW=$NOW "$ATTESTD" run --foreground 2>>"$R/daemon.log" &
	pid=$!
}
log_count() { grep -c -E -- "$1" "$R/daemon.log" 2>/dev/null; }
told() { log_count 'outcome=(accepted|rejected|duplicate)'; }
told_at_least() { [ "$(told)" -ge "$1" ]; }
log_at_least() { [ "$(log_count "$1")" -ge "$2" ]; }
log_has() { grep -q -E -- "$1" "$R/daemon.log"; }
status_has() { grep -q -E -- "$1" "$R/spool/.status.$pid" 2>/dev/null; }
# shas_with_row STATUS SHA...: how many of the hashes have a submission row with that status.
shas_with_row() {
	local status=$1; shift
	sql "SELECT count(*) FROM unnest('{$(echo "$*" | tr ' ' ',')}'::text[]) AS s(sha)
		WHERE EXISTS (SELECT 1 FROM attestd.submissions WHERE sha256 = s.sha AND status = '$status')"
}

# --- the session's synchronous_commit, whatever the server's -----------------------
batch_env settings
run_attestd db status
expect_eq "db status: exit 0" 0 "$RC"
expect_match "db status: the server's settings and ours" \
	'^durability: fsync=on full_page_writes=on synchronous_commit=off \(attestd.s sessions: on\)$' "$OUT"
expect_no_match "db status: no warning with fsync on" '^warning:' "$OUT"
run_attestd status
expect_eq "status: exit 0" 0 "$RC"
expect_no_match "status: no warning with fsync on" '^warning:' "$OUT"
sed -i 's/^conninfo = .*/&\nsynchronous_commit = remote_apply/' "$CONF"
run_attestd db status
expect_match "db status: a stronger configured value is what the sessions use" \
	'\(attestd.s sessions: remote_apply\)$' "$OUT"
sed -i 's/^synchronous_commit = .*/synchronous_commit = off/' "$CONF"
run_attestd db status
expect_eq "synchronous_commit = off: refused (exit 3)" 3 "$RC"
expect_match "... naming the key and what to use" \
	'attestd.conf:[0-9]+: \[database\] synchronous_commit: "off" is refused: .*use on, remote_write or remote_apply' "$ERR"
sed -i '/^synchronous_commit = /d' "$CONF"

# --- 1. immediate stops mid-batch, synchronous_commit off on the server ----------------
# 60 files: five stops need six stretches of a batch, each with a commit
# made at the server's synchronous_commit=off right before the held one
# (240 were for the stops of old, timed by counting told files).
batch_make "${DURABLE_FILES:-60}" || { fail "batch_make"; finish; exit 1; }
batch_env ref || { fail "batch_env ref"; finish; exit 1; }
batch_drop
run_once
expect_eq "undisturbed run: exit 0" 0 "$RC"
batch_dump "$WORK/ref.dump"

batch_env stops || { fail "batch_env stops"; finish; exit 1; }
# The service holds before every EVERY-th commit, a file in hand, and the
# server is stopped right there: five stops mid-batch whatever this
# machine's speed (a stop after "every few files told" raced the batch: on
# a busy machine the test's stop came after the last file).
every=$((B_FILES / 6))
[ "$every" -ge 1 ] || every=1
rm -f "$R/hold"
batch_drop
service_start ATTESTD_HOLD_AT=before_commit:$every ATTESTD_HOLD_EVERY=$every ATTESTD_HOLD_FILE=$R/hold
batch_wait 60 test -f "$R/spool/.status.$pid"
stops=0
for k in 1 2 3 4 5; do
	# Polled fast (a builtin, no process): the stop follows the hold as
	# closely as before, while the last commit may still be unflushed.
	WAIT_POLL=0.05 batch_wait 600 test -f "$R/hold" || break
	pg_stop "$PG2" immediate
	stops=$((stops + 1))
	rm -f "$R/hold"
	batch_wait 60 log_at_least 'action=pause fault=db_unavailable' "$stops"
	pg_start "$PG2" || fail "PostgreSQL started again ($k)"
	batch_wait 60 log_at_least 'action=resume fault=db_unavailable' "$stops"
done
# The later holds are let go at once: the rest of the batch runs through.
(while kill -0 "$pid" 2>/dev/null; do [ -e "$R/hold" ] && rm -f "$R/hold"; nap 0.05; done) &
releaser=$!
expect_eq "PostgreSQL stopped -m immediate mid-batch 5 times, each with a file held before its commit" 5 "$stops"
expect_eq "each stop seen as one db_unavailable pause" "$stops" "$(log_count 'action=pause fault=db_unavailable')"
batch_wait 600 batch_finished
expect_eq "every file processed after the last restart" 0 $?
kill -TERM "$pid"; wait "$pid"
expect_eq "SIGTERM: exit 0" 0 $?
wait "$releaser"
sanitizer_clean "sanitizer clean (immediate stops)" "$R/daemon.log"
acked=$(sed -nE 's/.* sha256=([0-9a-f]{64}) .* outcome=accepted .*/\1/p' "$R/daemon.log" | sort -u)
n_acked=$(echo "$acked" | grep -c .)
n_rows=$(shas_with_row accepted $acked)
echo "        (files acknowledged accepted in the log: $n_acked; of them with their accepted row: $n_rows)"
expect_eq "every outcome=accepted line has its row" "$n_acked" "$n_rows"
receipted=$(ls "$R/outbox/$APPROVAL" | sed -E 's/\.[0-9]+\.receipt\.xml$/.xml/' | sort -u)
n_receipted=$(echo "$receipted" | grep -c .)
n_rrows=$(sql "SELECT count(*) FROM unnest('{$(echo $receipted | tr ' ' ',')}'::text[]) AS f(name)
	WHERE EXISTS (SELECT 1 FROM attestd.submissions WHERE file_name = f.name)")
echo "        (files with a receipt in the outbox: $n_receipted; of them with their row: $n_rrows)"
expect_eq "every receipt in the outbox has its row" "$n_receipted" "$n_rrows"
expect_eq "every file of the batch has a receipt" "$B_FILES" "$n_receipted"
batch_dump "$WORK/stops.dump"
batch_compare "immediate stops: same rows and balances as the undisturbed run" "$WORK/ref.dump" "$WORK/stops.dump"

# --- 2. the database taken away at each step of the write path -----------------------
for step in after_parse before_commit after_commit; do
	for how in terminate stop; do
		batch_env "${step}_$how" || { fail "batch_env ${step}_$how"; continue; }
		sed -i "s|^quarantine = .*|&\nmetrics = $R/attestd.prom|" "$CONF"
		rm -f "$R/hold"
		service_start ATTESTD_HOLD_AT=$step:2 ATTESTD_HOLD_FILE=$R/hold
		batch_wait 60 test -f "$R/spool/.status.$pid"
		batch_drop 1 4
		batch_wait 120 test -f "$R/hold"
		expect_eq "$step/$how: the service holds at $step" 0 $?
		if [ "$how" = terminate ]; then
			pg_admin -At -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
				WHERE datname = '$DB' AND application_name = 'attestd'" >/dev/null
			rm -f "$R/hold"
		else
			pg_stop "$PG2" immediate
			rm -f "$R/hold"
			batch_wait 60 log_has "action=pause fault=db_unavailable"
			expect_eq "$step/$how: the pause says fault=db_unavailable" 0 $?
			batch_wait 30 grep -q '^attestd_fault{fault="db_unavailable"} 1$' "$R/attestd.prom"
			expect_eq "$step/$how: metrics: the db_unavailable fault" 0 $?
			expect_no_match "$step/$how: metrics: no io_error fault" \
				'^attestd_fault\{fault="io_error"\} 1$' "$(<"$R/attestd.prom")"
			pg_start "$PG2" || fail "$step/$how: PostgreSQL started again"
		fi
		batch_wait 120 batch_finished
		expect_eq "$step/$how: every file processed after" 0 $?
		kill -TERM "$pid"; wait "$pid"
		sanitizer_clean "$step/$how: sanitizer clean" "$R/daemon.log"
		log=$(<"$R/daemon.log")
		expect_no_match "$step/$how: never internal_error nor io_error" \
			'reason=internal_error|fault=io_error' "$log"
		if [ "$how" = stop ] || printf '%s\n' "$log" | grep -q 'outcome=retry'; then
			expect_match "$step/$how: the retry says reason=db_unavailable" \
				'outcome=retry reason=db_unavailable' "$log"
		fi
		expect_eq "$step/$how: each file once (rows, distinct names)" "4 4" \
			"$(sql "SELECT count(*) || ' ' || count(DISTINCT file_name) FROM attestd.submissions")"
	done
done

# --- a registry import's COPY, the server stopped in the middle -------------------------
batch_env copy || fail "batch_env copy"
# A million lines: a COPY of seconds even on a fast machine, which the
# 0.1 to 0.3 s polls below catch (three million cost awk, attestd and the
# server three times the CPU for the same check).
awk 'BEGIN { print "licence,effective_date,kind,points,ref";
	for (i = 0; i < 1000000; i++) printf "1400%08d,2020-01-01,grant,12,BIG%d\n", i, i }' > "$WORK/big-events.csv"
"$ATTESTD" registry import events "$WORK/big-events.csv" >"$R/import.out" 2>"$R/import.err" &
ipid=$!
copying() {
	[ "$(pg_admin -At -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DB'
		AND state = 'active' AND query LIKE 'COPY pg_temp.staging%'")" -gt 0 ]
}
batch_wait 120 copying
expect_eq "registry import: caught in its COPY" 0 $?
pg_stop "$PG2" immediate
wait "$ipid"
expect_eq "registry import, server stopped mid-COPY: exit 4 (environment), not 1 (bad file)" 4 $?
expect_match "... says the connection was lost" 'lost the database connection' "$(<"$R/import.err")"
expect_no_match "... blames no line of the file" '(line|record) [0-9]' "$(<"$R/import.err")"
sanitizer_clean "registry import: sanitizer clean" "$R/import.err"
pg_start "$PG2" || fail "PostgreSQL started again (COPY)"
expect_eq "... nothing imported" 0 "$(sql "SELECT count(*) FROM attestd.licence_events WHERE ref LIKE 'BIG%'")"
rm -f "$WORK/big-events.csv"

# --- 3. idle: the fault seen without a file, and its end ------------------------------
batch_env idle || { fail "batch_env idle"; finish; exit 1; }
sed -i "s|^quarantine = .*|&\nmetrics = $R/attestd.prom|" "$CONF"
sed -i 's/^settle_time = 0s/settle_time = 0s\nrescan_interval = 2s/' "$CONF"
grep -q '^rescan_interval = 2s' "$CONF" || fail "idle: rescan_interval set"
notify_listen "$R/notify" "$R/notify.log"
service_start NOTIFY_SOCKET=$R/notify
last_status() { grep '^STATUS=' "$R/notify.log" | tail -n 1; }
metric_fault() { grep -q "^attestd_fault{fault=\"db_unavailable\"} $1\$" "$R/attestd.prom" 2>/dev/null; }
batch_wait 60 grep -q '^READY=1' "$R/notify.log"
expect_eq "idle: READY=1" 0 $?
batch_wait 20 status_has '^state=running$'
expect_eq "idle: running" 0 $?
pg_stop "$PG2" immediate
# Nothing arrives: only the service's own check can see it.  Generous
# bounds (a loaded machine), far below "never".
batch_wait 30 status_has '^state=paused$'
expect_eq "idle, database stopped: status file state=paused" 0 $?
expect_match "... naming the fault" '^faults=db_unavailable since' "$(cat "$R/spool/.status.$pid" 2>&1)"
batch_wait 30 metric_fault 1
expect_eq "... metrics attestd_fault{fault=\"db_unavailable\"} 1" 0 $?
batch_wait 30 sh -c "grep '^STATUS=' '$R/notify.log' | tail -n 1 | grep -q '^STATUS=paused: db_unavailable'"
expect_eq "... STATUS= says paused: db_unavailable" 0 $?
pg_start "$PG2" || fail "idle: PostgreSQL started again"
batch_wait 30 status_has '^state=running$'
expect_eq "database back: status file state=running" 0 $?
batch_wait 30 metric_fault 0
expect_eq "... metrics attestd_fault{fault=\"db_unavailable\"} 0" 0 $?
batch_wait 30 sh -c "grep '^STATUS=' '$R/notify.log' | tail -n 1 | grep -vq paused"
expect_eq "... STATUS= no longer says paused ($(last_status))" 0 $?
kill -TERM "$pid"; wait "$pid"
expect_eq "idle: SIGTERM: exit 0" 0 $?
kill "$NOTIFY_PID"; wait "$NOTIFY_PID" 2>/dev/null
sanitizer_clean "idle: sanitizer clean" "$R/daemon.log"

# --- the server's fsync=off reported (the shared cluster runs so) --------------------
pg_stop "$PG2" fast
PG_SERVER_OPTIONS="-c fsync=off -c full_page_writes=on -c synchronous_commit=off"
pg_start "$PG2" ||
	fail "own cluster restarted with fsync=off"
run_attestd db status
expect_match "db status: fsync=off shown" '^durability: fsync=off full_page_writes=on ' "$OUT"
expect_match "db status: the warning" \
	'^warning: the database server runs with fsync=off: a crash of its machine can lose decisions already receipted$' "$OUT"
run_attestd status
expect_match "status: the warning" \
	'^warning: the database server runs with fsync=off: a crash of its machine can lose decisions already receipted$' "$OUT"
readme_warning=$(sed -n '/^### Durability/,/^### Metrics/p' "$TOP/README.md" | sed -n 's/^    \(warning: .*\)$/\1/p')
expect_eq "README (Durability): the warning is the one status prints" "$readme_warning" \
	"$(printf '%s\n' "$OUT" | grep '^warning:')"
: > "$R/daemon.log"
run_once
expect_eq "run --once with fsync=off: exit 0 (reported, not refused)" 0 "$RC"
expect_match "run --once: the warning logged" \
	'level=warning action=durability outcome=warning fsync=off full_page_writes=on detail="the database server runs with fsync=off' "$ERR"
: > "$R/daemon.log"
service_start
batch_wait 60 log_has 'level=warning action=durability outcome=warning fsync=off '
expect_eq "the service: the warning logged at start" 0 $?
kill -TERM "$pid"; wait "$pid"
expect_eq "the service, fsync=off: runs (exit 0 on SIGTERM)" 0 $?
expect_eq "... warned once" 1 "$(log_count 'action=durability')"
# --- values from outside quoted in the log --------------------------------------------
# A database name built to end the error="..." value and forge a key after it.
sed -i "s|dbname=[^ ]*|dbname='nosuch\" reason=forged x=\"'|" "$CONF"
run_once
expect_eq "run --once, no such database: exit 4" 4 "$RC"
line=$(printf '%s\n' "$ERR" | grep 'action=start outcome=error reason=db_unavailable')
expect_match "the PostgreSQL error's quotes are escaped in error=\"...\"" \
	'database \\"nosuch\\" reason=forged x=\\"\\" does not exist' "$line"
expect_match "... the value is one quoted string to the end of the line" \
	'error="([^"\\]|\\.)*"$' "$line"
expect_no_match "... no unescaped quote lets reason=forged out" '[^\\]" reason=forged' "$line"

finish
