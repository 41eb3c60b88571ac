#!/usr/bin/env bash
# Environment faults while the service works through a batch: PostgreSQL
# stopped mid-batch and started again, then a full disk (min_free_space set
# above what is free, by SIGHUP) and mended.  Processing pauses, files wait
# where they are, the pause and the resume are logged, nothing is rejected
# for it, and the end state is that of an undisturbed run.  The periodic
# rescan is an hour here: the resume must not wait for it.
# On a cluster of this file's own: it stops it, and the other files run
# side by side on the shared one meanwhile.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.sh"
. "$(dirname "$0")/batch.sh"
PG2=$WORK/pg
pg_start "$PG2" || { fail "a cluster of this file's own"; finish; exit 1; }
trap 'pg_stop "$PG2"; [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT
scenario_init || { fail "scenario_init"; finish; exit 1; }
sed -i 's/^settle_time = 0s/settle_time = 0s\nrescan_interval = 3600s\nmin_free_space = 0B/' "$WORK/attestd.conf"

batch_make 60 || { fail "batch_make"; finish; exit 1; }
half=$((B_FILES / 2))

batch_env ref || { fail "batch_env ref"; finish; exit 1; }
batch_drop
run_once
expect_eq "undisturbed run: exit 0" 0 "$RC"
batch_dump "$WORK/ref.dump"

service_start() {
	ATTESTD_TEST_NOW=$NOW "$ATTESTD" run --foreground 2>>"$R/daemon.log" &
	pid=$!
}
# Counted in bash: inbox_at_most is polled.
inbox_left() { dir_count "$R/inbox/$APPROVAL"; echo "$DIR_N"; }
log_has() { grep -q -E -- "$1" "$R/daemon.log"; }
status_has() { grep -q -E -- "$1" "$R/spool/.status.$pid" 2>/dev/null; }

# --- the database stopped mid-batch ------------------------------------------------
batch_env db
service_start
wait_until 60 test -f "$R/spool/.status.$pid"
batch_drop 1 "$half"
# Stopped once the service is a few files in (a fast machine may be done).
inbox_at_most() { dir_count "$R/inbox/$APPROVAL"; [ "$DIR_N" -le "$1" ]; }
wait_until 300 inbox_at_most $((half - 3))
pg_stop "$PG2" fast
stopped_at=$(inbox_left)
expect_eq "PostgreSQL stopped" "no" "$(psql -X -At -c 'SELECT 1' >/dev/null 2>&1 && echo yes || echo no)"
# One file wakes a service that went idle; it may be claimed before the
# service knows the database is gone, and then waits in the spool.
batch_drop $((half + 1)) $((half + 1))
wait_until 60 log_has 'action=pause fault=db_unavailable'
expect_eq "the pause is logged (fault=db_unavailable)" 0 $?
wait_until 60 status_has '^state=paused$'
expect_eq "status file: state=paused" 0 $?
expect_match "status file names the fault" '^faults=db_unavailable since' "$(cat "$R/spool/.status.$pid" 2>&1)"
# Files that come once the pause is known wait in the inbox, however long
# the service takes to go round its loop (it must have gone round once).
batch_drop $((half + 2))
dropped_at=$EPOCHSECONDS
wait_until 60 status_after "$R/spool/.status.$pid" $((dropped_at + 1))
expect_eq "the paused service went round its loop after the drop" 0 $?
left=0
for f in $(sed -n "$((half + 2)),\$p" "$WORK/batch/ORDER"); do
	[ -f "$R/inbox/$APPROVAL/$f" ] && left=$((left + 1))
done
expect_eq "nothing claimed while the database is down (of the files dropped during the pause)" \
	"$((B_FILES - half - 1))" "$left"
kill -0 "$pid" 2>/dev/null
expect_eq "the service waits (still running)" 0 $?
pg_start "$PG2"
expect_eq "PostgreSQL started again" 0 $?
wait_until 300 batch_finished
expect_eq "every file processed once PostgreSQL is back" 0 $?
expect_match "the resume is logged" 'action=resume fault=db_unavailable lasted_s=' "$(<"$R/daemon.log")"
wait_until 60 status_has '^state=running$'
expect_eq "status file: running again" 0 $?
kill -TERM "$pid"; wait "$pid"
expect_eq "SIGTERM: exit 0" 0 $?
sanitizer_clean "sanitizer clean (database stopped)" "$R/daemon.log"
expect_no_match "no file rejected for the outage" 'outcome=rejected reason=(db_unavailable|internal_error|io_error)' "$(<"$R/daemon.log")"
batch_dump "$WORK/db.dump"
batch_compare "database stopped mid-batch: same end state as undisturbed" "$WORK/ref.dump" "$WORK/db.dump"
echo "        ($stopped_at of $half files still in the inbox when PostgreSQL stopped)"

# --- the disk full (the free-space threshold above what is free) ----------------------
batch_env disk
service_start
wait_until 60 test -f "$R/spool/.status.$pid"
batch_drop 1 "$half"
wait_until 300 batch_finished
expect_eq "disk: the first half processed" 0 $?
sed -i 's/^min_free_space = .*/min_free_space = 1024GiB/' "$CONF"
kill -HUP "$pid"
wait_until 60 log_has 'action=reload outcome=ok'
expect_eq "disk: threshold raised by SIGHUP" 0 $?
wait_until 60 log_has 'action=pause fault=disk_full'
expect_eq "the pause is logged (fault=disk_full)" 0 $?
wait_until 60 status_has '^state=paused$'
expect_eq "status file: state=paused" 0 $?
expect_match "status file names the fault" '^faults=disk_full since' "$(cat "$R/spool/.status.$pid" 2>&1)"
batch_drop $((half + 1))
dropped_at=$EPOCHSECONDS
wait_until 60 status_after "$R/spool/.status.$pid" $((dropped_at + 1))
expect_eq "disk: the paused service went round its loop after the drop" 0 $?
expect_eq "files stay in the inbox while the disk is full" "$((B_FILES - half))" "$(inbox_left)"
expect_eq "nothing in the spool" "" "$(find "$R/spool" -type f ! -name '.status.*')"
sed -i 's/^min_free_space = .*/min_free_space = 0B/' "$CONF"
kill -HUP "$pid"
wait_until 300 batch_finished
expect_eq "every file processed once the threshold is back to 0B" 0 $?
expect_match "the resume is logged" 'action=resume fault=disk_full lasted_s=' "$(<"$R/daemon.log")"
wait_until 60 status_has '^state=running$'
expect_eq "status file: running again" 0 $?
kill -TERM "$pid"; wait "$pid"
expect_eq "SIGTERM: exit 0" 0 $?
sanitizer_clean "sanitizer clean (disk full)" "$R/daemon.log"
batch_dump "$WORK/disk.dump"
batch_compare "disk full and mended: same end state as undisturbed" "$WORK/ref.dump" "$WORK/disk.dump"

finish
