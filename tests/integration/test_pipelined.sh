#!/usr/bin/env bash
# Pipelined transactions (libpq pipeline mode): a file's writes go out
# without waiting for each one, so a failure shows later, at the next read
# or at the commit.  Proven here: a write failing in the middle of a file's
# transaction leaves nothing of that file in the database, keeps it in the
# spool, says which statement failed, and the next file on the same
# connection goes through; once the cause is gone the kept file is done,
# exactly once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.sh"
scenario_init || { fail "scenario_init"; finish; exit 1; }

licence 120575300042 MARTIN Claire 1990-04-12
event 120575300042 2009-06-01 grant 12 G1
event 120575300042 2026-03-01 retrait -5 R1
licence 120575300043 BERNARD Paul 1985-02-03
event 120575300043 2010-06-01 grant 12 G2
event 120575300043 2026-02-01 retrait -3 R2
registries

stage CH-2026-1113 2026-11-13 2026-11-14
trainee 120575300042 MARTIN Claire 1990-04-12
fillers 5
attestations_file first.xml
sheet_file first-sheet.xml

stage CH-2026-1120 2026-11-13 2026-11-14
trainee 120575300043 BERNARD Paul 1985-02-03
fillers 5
attestations_file second.xml

# A fault in the middle of the first file's transaction: its attestations
# and their history rows are one statement, sent without waiting; after it
# come credits, balances, the receipt and the audit row.
sql "CREATE FUNCTION attestd.test_refuse() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
	IF NEW.cause LIKE 'attestations submission %' AND (SELECT file_name FROM attestd.submissions
	   WHERE id = split_part(NEW.cause, ' ', 3)::bigint) = 'first.xml' THEN
		RAISE EXCEPTION 'refused by the test trigger';
	END IF;
	RETURN NEW;
END \$\$" >/dev/null
sql "CREATE TRIGGER test_refuse BEFORE INSERT ON attestd.decision_history
	FOR EACH ROW EXECUTE FUNCTION attestd.test_refuse()" >/dev/null

drop first.xml
sleep 0.05
drop second.xml
run_once
expect_eq "a file kept for an internal error: exit 5" 5 "$RC"
expect_match "the failing statement's own message is logged" \
	'file=first.xml .*outcome=retry reason=internal_error error="refused by the test trigger' "$ERR"
expect_eq "nothing of the failed file in the database" "0|0|0|0" \
	"$(sql "SELECT (SELECT count(*) FROM attestd.submissions WHERE file_name = 'first.xml') || '|' ||
		(SELECT count(*) FROM attestd.attestations WHERE number LIKE 'CH-2026-1113-%') || '|' ||
		(SELECT count(*) FROM attestd.licence_events WHERE ref LIKE '%CH-2026-1113%') || '|' ||
		(SELECT count(*) FROM attestd.stages WHERE ref = 'CH-2026-1113')")"
expect_eq "the failed file waits in the spool" "1" "$(find "$WORK/spool" -type f -name '*first.xml' | wc -l)"
expect_eq "no receipt for it" "" "$(ls "$WORK/outbox/$APPROVAL" 2>/dev/null | grep '^first\.')"
expect_match "the next file went through on the same connection" \
	'file=second.xml approval=R2402800010 .*outcome=accepted' "$ERR"
expect_eq "its attestation is recorded" "pending 0 awaiting_signin_sheet " "$(decision CH-2026-1120-01)"
expect_eq "its receipt is written and marked so" "1|1" \
	"$(sql "SELECT count(*) || '|' || count(written_at) FROM attestd.receipts r JOIN attestd.submissions s ON s.id = r.submission_id WHERE s.file_name = 'second.xml'")"
expect_eq "audit log: the accepted file only, chain intact" "1|true" \
	"$(sql "SELECT count(*) FILTER (WHERE action LIKE 'file.%') || '|' || bool_and(hash = audit.row_hash(prev_hash, seq, at, actor, action, subject, detail)) FROM audit.log")"

# The cause gone: the spool's file is done on the next run, once.
sql "DROP TRIGGER test_refuse ON attestd.decision_history" >/dev/null
drop first-sheet.xml
run_once
expect_eq "after the fault: exit 0" 0 "$RC"
expect_match "the kept file is accepted" 'file=first.xml approval=R2402800010 .*outcome=accepted' "$ERR"
expect_eq "decided with its sheet: 7 + 4" "credited 4  " "$(decision CH-2026-1113-01)"
expect_eq "one submission, one attestation, two history rows" "1|1|2" \
	"$(sql "SELECT (SELECT count(*) FROM attestd.submissions WHERE file_name = 'first.xml') || '|' ||
		(SELECT count(*) FROM attestd.attestations WHERE number LIKE 'CH-2026-1113-%') || '|' ||
		(SELECT count(*) FROM attestd.decision_history h JOIN attestd.attestations a ON a.id = h.attestation_id WHERE a.number LIKE 'CH-2026-1113-%')")"
expect_match "its first receipt is numbered 1 (pending)" 'decision="pending"' "$(cat "$(receipt first.xml 1)" 2>&1)"
expect_match "its second receipt carries the credit" 'decision="credited" points="4"' "$(cat "$(receipt first.xml 2)" 2>&1)"
expect_eq "every receipt written and marked so" "0" \
	"$(sql "SELECT count(*) FROM attestd.receipts WHERE written_at IS NULL")"
expect_eq "spool emptied" "" "$(find "$WORK/spool" -type f)"

# A receipt's number is read with the file's look-ups; a sign-in sheet that
# bears the name of its attestations file (whose new receipt takes a number
# first in the same transaction) reads its own number again.
stage CH-2026-1127 2026-11-13 2026-11-14
trainee 120575300043 BERNARD Paul 1985-02-03
fillers 5
attestations_file same-att.xml
sheet_file same-sheet.xml
cp "$WORK/out/same-att.xml" "$WORK/out/same.xml"
drop same.xml
run_once
expect_eq "attestations named same.xml: exit 0" 0 "$RC"
expect_match "its receipt 1: pending" 'kind="attestations".*decision="pending"' \
	"$(tr -d '\n' < "$(receipt same.xml 1)" 2>&1)"
cp "$WORK/out/same-sheet.xml" "$WORK/out/same.xml"
drop same.xml
run_once
expect_eq "the sheet named same.xml too: exit 0" 0 "$RC"
expect_match "receipt 2: the attestations decided" 'kind="attestations".*decision="credited"' \
	"$(tr -d '\n' < "$(receipt same.xml 2)" 2>&1)"
expect_match "receipt 3: the sheet's own" 'kind="signin-sheet".*status="accepted"' \
	"$(tr -d '\n' < "$(receipt same.xml 3)" 2>&1)"
expect_match "run --once logs the audit log's head (the anchor verify-log takes)" \
	"action=audit-anchor $(sql "SELECT 'seq=' || seq || ' hash=' || hash FROM audit.log_head")" "$ERR"
run_attestd audit verify-log "$(sql "SELECT seq || ':' || hash FROM audit.log_head")"
expect_match "verify-log takes the logged anchor" '^audit log: anchor [0-9]+ matches$' "$OUT"
expect_eq "three receipts for the name, none lost" "1 2 3" \
	"$(sql "SELECT string_agg(r.seq::text, ' ' ORDER BY r.seq) FROM attestd.receipts r JOIN attestd.submissions s ON s.id = r.submission_id WHERE s.file_name = 'same.xml'")"

finish
