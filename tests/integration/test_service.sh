#!/usr/bin/env bash
# The long-running service: a file dropped into an idle daemon gets its
# receipt at once; temporary names are never touched; a file written in
# place is taken once closed; SIGHUP reloads (a bad configuration keeps the
# old one); SIGTERM exits 0; the status file while it runs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.sh"
scenario_init || { fail "scenario_init"; finish; exit 1; }
sed -i 's/^settle_time = 0s/settle_time = 2s\nrescan_interval = 1s/' "$CONF"

licence 120575300042 MARTIN Claire 1990-04-12
event 120575300042 2009-06-01 grant 12 G1
registries
stage S-1 2026-11-13 2026-11-14
trainee 120575300042 MARTIN Claire 1990-04-12
attestations_file att.xml

ATTESTD_TEST_NOW=$NOW "$ATTESTD" run --foreground 2>"$WORK/daemon.log" &
pid=$!
wait_until 60 grep -q 'action=start' "$WORK/daemon.log"
expect_eq "the service starts" 0 $?
wait_until 60 test -f "$WORK/spool/.status.$pid"
expect_match "status file: running" '^state=running$' "$(cat "$WORK/spool/.status.$pid" 2>&1)"

start=$(date +%s%N)
drop att.xml
wait_until 60 test -f "$(receipt att.xml 1)"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_eq "a dropped file gets its receipt" 0 $?
echo "        (drop to receipt: ${ms} ms)"
# The line is logged once the file has left the spool, after its receipt.
wait_until 60 grep -q 'file=att.xml .*outcome=accepted' "$WORK/daemon.log"
expect_match "processed by the service" 'file=att.xml .*outcome=accepted' "$(<"$WORK/daemon.log")"

run_attestd status
expect_eq "status: exit 0" 0 "$RC"
expect_match "status: pending count" '^attestations pending: 1, in review: 0, registration overdue: 0' "$OUT"
expect_match "status: last file" "^last file processed: $APPROVAL/att.xml at 20" "$OUT"
expect_match "status: the running instance" "^instance .* pid $pid: running, 1 files processed" "$OUT"
expect_match "status: empty inbox" '^inbox: 0 files waiting$' "$OUT"

# Temporary names are left alone.
echo '<partial' > "$WORK/inbox/$APPROVAL/.upload.xml"
echo '<partial' > "$WORK/inbox/$APPROVAL/next.xml.part"
# Looked at, and left: a file dropped after them is done (their events came
# first), and the service has gone round its loop past a rescan since.
since=$(date +%s)
printf '<x/>' > "$WORK/probe.xml"; mv "$WORK/probe.xml" "$WORK/inbox/$APPROVAL/probe.xml"
wait_until 60 test -f "$(receipt probe.xml 1)"
expect_eq "a file dropped after them is done" 0 $?
wait_until 60 status_after "$WORK/spool/.status.$pid" $((since + 2))
expect_eq "temporary names untouched" ".upload.xml next.xml.part" "$(ls -A "$WORK/inbox/$APPROVAL" | tr '\n' ' ' | sed 's/ $//')"
rm -f "$WORK/inbox/$APPROVAL/.upload.xml" "$WORK/inbox/$APPROVAL/next.xml.part"

# Written in place, slowly: not taken before it is closed.
# Written a piece every 0.3 s (well under the 2 s settle time) through one
# descriptor held open meanwhile, as sftp-server does, until the test says
# stop; the sleeps must not inherit it, or their exits would be closes
# after writing.
( exec 3>"$WORK/inbox/$APPROVAL/slow.xml"; printf '<attestations xmlns="urn:ssr:stage:1"' >&3
  for i in $(seq 2000); do [ -f "$WORK/slow.stop" ] && break; sleep 0.3 3>&-; printf ' ' >&3; done
  printf ' version="1"/>' >&3; exec 3>&- ) &
writer=$!
wait_until 60 test -s "$WORK/inbox/$APPROVAL/slow.xml"
since=$(date +%s)
# Past the settle time and a rescan (at most settle_time + 50 ms away).
wait_until 60 status_after "$WORK/spool/.status.$pid" $((since + 3))
expect_eq "a file being written is not taken" "slow.xml" "$(ls "$WORK/inbox/$APPROVAL")"
touch "$WORK/slow.stop"
wait $writer
wait_until 60 test -f "$(receipt slow.xml 1)"
expect_eq "taken once complete" 0 $?
# Logged after its receipt (as att.xml above): the line, not the receipt.
wait_until 60 grep -q 'file=slow.xml .*outcome=' "$WORK/daemon.log"
expect_match "judged on its whole content (schema, not truncation)" 'file=slow.xml .*reason=signature_missing' "$(<"$WORK/daemon.log")"

# A zero-length file.
: > "$WORK/inbox/$APPROVAL/empty.xml"
wait_until 60 test -f "$(receipt empty.xml 1)"
wait_until 60 grep -q 'file=empty.xml .*outcome=' "$WORK/daemon.log"
expect_match "zero-length file rejected" 'file=empty.xml .*outcome=rejected reason=not_well_formed' "$(<"$WORK/daemon.log")"

# Reload: a bad configuration keeps the old one, a good one is taken.
cp "$CONF" "$WORK/good.conf"
echo "bogus = 1" >> "$CONF"
kill -HUP $pid
wait_until 60 grep -q 'action=reload outcome=kept-old' "$WORK/daemon.log"
expect_eq "bad reload keeps the old configuration" 0 $?
cp "$WORK/good.conf" "$CONF"
kill -HUP $pid
wait_until 60 grep -q 'action=reload outcome=ok' "$WORK/daemon.log"
expect_eq "good reload taken" 0 $?
kill -0 $pid 2>/dev/null
expect_eq "still running after reloads" 0 $?

kill -TERM $pid
wait $pid
expect_eq "SIGTERM: exit 0" 0 $?
expect_eq "the audit log's head logged at start and at stop" "2" \
	"$(grep -c 'action=audit-anchor seq=[0-9]* hash=[0-9a-f]\{64\}' "$WORK/daemon.log")"
expect_match "the last anchor is the head at stop" \
	"action=audit-anchor $(sql "SELECT 'seq=' || seq || ' hash=' || hash FROM audit.log_head")" \
	"$(grep 'action=audit-anchor' "$WORK/daemon.log" | tail -1)"
expect_eq "status file removed on exit" "no" "$(test -f "$WORK/spool/.status.$pid" && echo yes || echo no)"
mkdir -p "$WORK/inbox/R2402800099"
echo '<x/>' > "$WORK/inbox/R2402800099/waiting.xml"
run_attestd status
expect_match "status without a daemon: the queue per centre" '^  R2402800099 +1$' "$OUT"
expect_match "status without a daemon: says none runs" '^instances: none running' "$OUT"
if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$WORK/daemon.log"; then
	fail "sanitizer clean: the service" "$(<"$WORK/daemon.log")"
fi

finish
