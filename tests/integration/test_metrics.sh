#!/usr/bin/env bash
# The metrics file ([paths] metrics): written at the end of run --once and
# by the service after each file and at least every rescan interval;
# accepted by promtool; values read back: files by outcome and rejection
# reason, attestations by decision, the processing-time histogram, queue
# depth, the database's pending/review counts, last success, faults.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.sh"
scenario_init || { fail "scenario_init"; finish; exit 1; }
mkdir -p "$WORK/metrics"
PROM=$WORK/metrics/attestd.prom
sed -i "s|^quarantine = .*|&\nmetrics = $PROM|" "$CONF"

# promtool is part of the test: missing, it is a failure, not a skip.
PROMTOOL=$(command -v promtool)
[ -n "$PROMTOOL" ] || fail "promtool is installed" "install the Debian package prometheus (make deps)"
promcheck() {
	if [ -z "$PROMTOOL" ]; then fail "$1: promtool check metrics" "promtool missing"; return; fi
	local out
	out=$("$PROMTOOL" check metrics < "$2" 2>&1)
	expect_eq "$1: promtool check metrics" "0" "$?"
	[ -n "$out" ] && echo "        promtool: $out"
}
# metric NAME{LABELS}: its value in the file ("" when absent).
metric() { grep -F "$1 " "$PROM" 2>/dev/null | grep -v '^#' | awk -v k="$1" '$1 == k { print $2 }'; }

licence 120575300042 MARTIN Claire 1990-04-12
licence 210412300077 BERNARD Luc 1985-09-30
event 120575300042 2009-06-01 grant 12 G1
event 120575300042 2026-03-01 retrait -5 R1
event 210412300077 2009-06-01 grant 12 G2
registries

stage CH-2026-1113 2026-11-13 2026-11-14
trainee 120575300042 MARTIN Claire 1990-04-12
trainee 210412300077 BERNARD Luc 1985-09-30
fillers 4
attestations_file att.xml
sheet_file sheet.xml
stage CH-2026-1120 2026-11-20 2026-11-21
trainee 120575300042 MARTIN Claire 1990-04-12
attestations_file waiting.xml
printf '<attestations' > "$WORK/out/broken.xml"

# --- run --once -----------------------------------------------------------
drop att.xml
drop waiting.xml
run_once
drop sheet.xml
drop broken.xml
drop att.xml	# byte-identical: a duplicate
start=$(date +%s)
run_once
expect_eq "run --once: exit 0" 0 "$RC"
expect_eq "metrics file written by run --once" "yes" "$(test -f "$PROM" && echo yes || echo no)"
expect_eq "readable by the node_exporter's user" "644" "$(stat -c %a "$PROM" 2>&1)"
expect_eq "no temporary file left beside it" "attestd.prom" "$(ls -A "$WORK/metrics" | tr '\n' ' ' | sed 's/ $//')"
promcheck "run --once" "$PROM"
# The second run's process: the sheet, the broken file and the duplicate.
expect_eq "files accepted" "1" "$(metric 'attestd_files_total{outcome="accepted"}')"
expect_eq "files rejected" "1" "$(metric 'attestd_files_total{outcome="rejected"}')"
expect_eq "files duplicate" "1" "$(metric 'attestd_files_total{outcome="duplicate"}')"
expect_eq "rejected by reason" "1" "$(metric 'attestd_files_rejected_total{reason="not_well_formed"}')"
expect_eq "other reasons at zero" "0" "$(metric 'attestd_files_rejected_total{reason="cert_revoked"}')"
# The sheet decided the two attestations of the first stage.
decided=$(( $(metric 'attestd_attestations_total{decision="credited"}') + $(metric 'attestd_attestations_total{decision="no_credit"}') ))
expect_eq "attestations decided by the sheet: credited or no_credit" "2" "$decided"
expect_eq "attestations credited as the database says" \
	"$(sql "SELECT count(*) FROM attestd.attestations WHERE decision = 'credited'")" \
	"$(metric 'attestd_attestations_total{decision="credited"}')"
expect_eq "attestations rejected" "0" "$(metric 'attestd_attestations_total{decision="rejected"}')"
expect_eq "histogram count: one per file" "3" "$(metric 'attestd_file_processing_seconds_count')"
expect_eq "histogram +Inf bucket = count" "3" "$(metric 'attestd_file_processing_seconds_bucket{le="+Inf"}')"
expect_match "histogram sum in seconds" '^[0-9]+\.[0-9]{6}$' "$(metric 'attestd_file_processing_seconds_sum')"
expect_eq "pending (database): the second stage's attestation" \
	"$(sql "SELECT count(*) FROM attestd.attestations WHERE decision = 'pending'")" \
	"$(metric 'attestd_attestations_waiting{decision="pending"}')"
expect_eq "pending is 1" "1" "$(metric 'attestd_attestations_waiting{decision="pending"}')"
expect_eq "review" "0" "$(metric 'attestd_attestations_waiting{decision="review"}')"
expect_eq "overdue" "0" "$(metric 'attestd_attestations_overdue')"
expect_eq "inbox empty" "0" "$(metric 'attestd_inbox_files')"
expect_eq "spool empty" "0" "$(metric 'attestd_spool_files')"
expect_eq "no fault" "0" "$(metric 'attestd_fault{fault="db_unavailable"}')"
last=$(metric attestd_last_success_timestamp_seconds)
expect_eq "last success: the database's last processed file" \
	"$(sql "SELECT extract(epoch FROM max(processed_at))::bigint FROM attestd.submissions")" "$last"
started=$(metric attestd_start_time_seconds)
expect_eq "start time is this run's" "yes" "$([ "${started:-0}" -ge "$start" ] && [ "$started" -le "$(date +%s)" ] && echo yes || echo no)"

# Near the deadline: the pending attestation, reception 2026-11-16, is due
# 2026-12-16; on 2026-12-12 it is within 7 days.
run_once 2026-12-12T10:00:00+01:00
expect_eq "near the deadline" "1" "$(metric 'attestd_attestations_near_deadline')"
run_once 2026-12-20T10:00:00+01:00
expect_eq "overdue once past it" "1" "$(metric 'attestd_attestations_overdue')"
expect_eq "not near any more" "0" "$(metric 'attestd_attestations_near_deadline')"

# Database unreachable: exit 4, the fault shown, its counts left out.
sed "s|dbname=$DB|dbname=nonexistent_db|" "$CONF" > "$WORK/nodb.conf"
OUT=$("$ATTESTD" run --once --config "$WORK/nodb.conf" 2>"$WORK/stderr"); RC=$?
expect_eq "no database: exit 4" 4 "$RC"
expect_eq "no database: fault 1" "1" "$(metric 'attestd_fault{fault="db_unavailable"}')"
expect_eq "no database: no stale counts" "" "$(metric 'attestd_attestations_waiting{decision="pending"}')"
promcheck "database unreachable" "$PROM"

# --- the service ------------------------------------------------------------
sed -i 's/^settle_time = 0s/settle_time = 0s\nrescan_interval = 1s/' "$CONF"
stage CH-2026-1127 2026-11-27 2026-11-28
trainee 210412300077 BERNARD Luc 1985-09-30
attestations_file later.xml
rm -f "$PROM"
ATTESTD_TEST_NOW=$NOW "$ATTESTD" run --foreground 2>"$WORK/daemon.log" &
pid=$!
wait_until 60 test -f "$PROM"
expect_eq "the service writes the file from the start" 0 $?
expect_eq "a fresh process counts from zero" "0" "$(metric 'attestd_files_total{outcome="accepted"}')"
drop later.xml
wait_until 60 test -f "$(receipt later.xml 1)"
wait_until 60 grep -qs '^attestd_files_total{outcome="accepted"} 1$' "$PROM"
expect_eq "rewritten after the file" 0 $?
expect_eq "its attestation counted" "1" "$(metric 'attestd_attestations_total{decision="pending"}')"
promcheck "the service" "$PROM"
inode=$(stat -c %i "$PROM")
prom_replaced() { [ "$(stat -c %i "$PROM" 2>/dev/null)" != "$inode" ]; }
wait_until 60 prom_replaced
expect_eq "rewritten while idle, every rescan interval" 0 $?
kill -TERM $pid
wait $pid
expect_eq "service: exit 0" 0 $?

# A service that cannot reach the database: paused, and it says so.
rm -f "$PROM"
sed "s|dbname=$DB|dbname=nonexistent_db|" "$CONF" > "$WORK/nodb.conf"
"$ATTESTD" run --foreground --config "$WORK/nodb.conf" 2>"$WORK/nodb.log" &
pid=$!
wait_until 60 grep -qs '^attestd_fault{fault="db_unavailable"} 1$' "$PROM"
expect_eq "paused service: the fault in the metrics" 0 $?
expect_eq "paused service: the queue still counted" "0" "$(metric 'attestd_inbox_files')"
kill -TERM $pid
wait $pid

# A metrics directory that is not there: one warning, the work goes on.
rm -rf "$WORK/metrics"
cp "$WORK/out/later.xml" "$WORK/inbox/$APPROVAL/again.xml"
run_once
expect_eq "missing metrics directory: run still exit 0" 0 "$RC"
expect_match "missing metrics directory: said once" 'action=metrics path=.* outcome=error' "$ERR"
expect_eq "said once only" "1" "$(grep -c 'action=metrics' <<<"$ERR")"

for f in "$WORK/daemon.log" "$WORK/nodb.log"; do
	if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f"; then
		fail "sanitizer clean: $(basename "$f")" "$(<"$f")"
	fi
done
finish
