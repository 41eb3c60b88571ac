#!/usr/bin/env bash
# The review queue through the binary: an identity mismatch and a group
# too small sent to review; list and show (CSV and JSON parsed back); accept
# credits points through the rules (ledger, balance and its history,
# decision history, receipt, audit row), reject keeps the reasons; and the
# errors: unknown id, a decision not in review, missing --by/--note.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.sh"
scenario_init || { fail "scenario_init"; finish; exit 1; }

licence 120575300042 MARTIN Claire 1990-04-12
event 120575300042 2009-06-01 grant 12 G-A
event 120575300042 2026-03-01 retrait -5 R-A
# The registry knows B under another name: identity_mismatch.
licence 210412300077 DUPONT Bao 2003-02-01
event 210412300077 2021-06-01 grant 12 G-B
event 210412300077 2026-02-01 retrait -3 R-B
licence 300000000001 PETIT Jean 1970-01-01
event 300000000001 2000-01-01 grant 12 G-C
licence 300000000002 ROUX Anne 1971-02-02
event 300000000002 2000-01-01 grant 12 G-D
event 300000000002 2026-01-01 retrait -4 R-D
licence 300000000003 BLANC Paul 1972-03-03
event 300000000003 2000-01-01 grant 12 G-E
registries

# Stage 1: A fine, B's identity differs from the registry's.
stage CH-2026-1113 2026-11-13 2026-11-14
trainee 120575300042 MARTIN Claire 1990-04-12
trainee 210412300077 NGUYEN Bao 2003-02-01
for i in 1 2 3 4 5; do SHEET_ONLY=1 trainee 99000000000$i AUTRE Personne 1980-01-0$i; done
sheet_file sheet1.xml
attestations_file att1.xml
# Stage 2: three participants only: group_size, all three in review.
stage CH-2026-1106 2026-11-06 2026-11-07
trainee 300000000001 PETIT Jean 1970-01-01
trainee 300000000002 ROUX Anne 1971-02-02
trainee 300000000003 BLANC Paul 1972-03-03
sheet_file sheet2.xml
attestations_file att2.xml

drop sheet1.xml; drop sheet2.xml
run_once
drop att1.xml; drop att2.xml
run_once
expect_eq "files processed" 0 "$RC"
expect_eq "A credited" "credited 4  " "$(decision CH-2026-1113-01)"
expect_eq "B in review: identity" "review 0 identity_mismatch " "$(decision CH-2026-1113-02)"
expect_eq "stage 2 in review: group size" "review 0 group_size " "$(decision CH-2026-1106-01)"
expect_decision_counts "files processed, four in review"

id_of() { sql "SELECT id FROM attestd.attestations WHERE number = '$1'"; }
ID_A=$(id_of CH-2026-1113-01) ID_B=$(id_of CH-2026-1113-02)
ID_C=$(id_of CH-2026-1106-01) ID_D=$(id_of CH-2026-1106-02) ID_E=$(id_of CH-2026-1106-03)

# --- list ---------------------------------------------------------------------
run_attestd review list --format csv
expect_eq "list: exit 0" 0 "$RC"
expect_eq "list csv: header and the four in review, by deadline then id" \
	"id,centre,stage,number,licence,reasons,flags,received,deadline|$ID_B,$ID_C,$ID_D,$ID_E|CH-2026-1113-02:{identity_mismatch}|2026-12-16" \
	"$(printf '%s\n' "$OUT" | python3 -c '
import csv, sys
rows = list(csv.reader(sys.stdin))
print(",".join(rows[0]), ",".join(sorted((r[0] for r in rows[1:]), key=int)), sep="|", end="|")
b = [r for r in rows[1:] if r[3] == "CH-2026-1113-02"][0]
print(b[3] + ":" + b[5], b[8], sep="|")')"
run_attestd review list
expect_match "list: CSV by default when stdout is not a terminal" '^id,centre,stage,number,' "$OUT"
run_attestd review list --format json
expect_eq "list json: an array of four objects with the licence and reasons as an array" \
	"4 210412300077 ['identity_mismatch']" \
	"$(printf '%s' "$OUT" | python3 -c '
import json, sys
a = json.load(sys.stdin)
b = [x for x in a if x["number"] == "CH-2026-1113-02"][0]
print(len(a), b["licence"], b["reasons"])')"
run_attestd review list --format table
expect_match "list table: aligned columns" '^ id +\| centre +\| stage +\| number' "$OUT"
expect_match "list table: row count" '^\(4 rows\)$' "$OUT"

# --- show ---------------------------------------------------------------------
run_attestd review show "$ID_B" --format json
expect_eq "show: exit 0" 0 "$RC"
expect_eq "show json: the three identities side by side, attendance, stage, history" \
	"attestation:NGUYEN sign-in sheet:NGUYEN registry:DUPONT|review ['identity_mismatch']|4 08:30 08:20 True|7|attestd" \
	"$(printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join(i["source"] + ":" + i["surname"] for i in d["identity"]),
      d["attestation"]["decision"] + " " + str(d["attestation"]["reasons"]),
      " ".join([str(len(d["attendance"])), d["attendance"][0]["start"], d["attendance"][0]["arrived"],
                str(d["attendance"][0]["signed"])]),
      d["stage"]["participants_signed"], d["history"][0]["actor"], sep="|")')"
run_attestd review show "$ID_B" --format table
expect_match "show table: the attestation as one record" '^number +\| CH-2026-1113-02$' "$OUT"
expect_match "show table: the registry's name" '^ registry +\| DUPONT ' "$OUT"
expect_match "show table: sections titled" '^Identity: the attestation, the sign-in sheet, the registry$' "$OUT"
run_attestd review show "$ID_C" --format csv
expect_match "show csv: the stage's lunch breaks and signed count (group_size evidence)" \
	'^"Salle Jean Moulin.*",3,3,60,60,PSY-28-2019-004,BAFM-28-2015-011,\{group_size\}$' "$OUT"

# --- errors -------------------------------------------------------------------
run_attestd review accept 999999 --by "Agent Dupuis" --note "checked"
expect_eq "unknown id: exit 1" 1 "$RC"
expect_match "unknown id: said" 'no attestation has id 999999' "$ERR"
run_attestd review show 999999
expect_eq "show unknown id: exit 1" 1 "$RC"
run_attestd review accept "$ID_A" --by "Agent Dupuis" --note "checked"
expect_eq "a credited decision cannot be accepted: exit 1" 1 "$RC"
expect_match "not in review: said" "attestation $ID_A is credited, not in review" "$ERR"
run_attestd review reject "$ID_A" --by "Agent Dupuis" --note "checked"
expect_eq "nor rejected: exit 1" 1 "$RC"
run_attestd review accept "$ID_B" --note "checked"
expect_eq "missing --by: exit 2" 2 "$RC"
run_attestd review accept "$ID_B" --by "Agent Dupuis"
expect_eq "missing --note: exit 2" 2 "$RC"
run_attestd review reject "$ID_B" --by "" --note "x"
expect_eq "empty --by: exit 2" 2 "$RC"
run_attestd review accept abc --by "Agent Dupuis" --note "x"
expect_eq "not an id: exit 2" 2 "$RC"
run_attestd review accept --by "Agent Dupuis" --note "x"
expect_eq "no id: exit 2" 2 "$RC"
run_attestd review accept "$ID_B" --by "Agent Dupuis" --note "x" --format csv
expect_eq "accept takes no --format: exit 2" 2 "$RC"
expect_eq "errors changed nothing" "review 0 identity_mismatch |9|0" \
	"$(decision CH-2026-1113-02)|$(balance 210412300077)|$(sql "SELECT count(*) FROM audit.log WHERE action LIKE 'review.%'")"

# --- accept: the identity mismatch cleared, B had 9 points -------------------------
receipts_before=$(ls "$WORK/outbox/$APPROVAL" | grep -c '^att1\.')
run_attestd review accept "$ID_B" --by "Agent Dupuis" --note "Registry name is the married name; ID scan checked"
expect_eq "accept: exit 0" 0 "$RC"
expect_match "accept: says what was decided" \
	"^attestation $ID_B \(R2402800010 CH-2026-1113-02\): accepted by Agent Dupuis: credited, 3 points effective 2026-11-15$" "$OUT"
expect_eq "accept: credited 3 (9 + 3 = 12), the review reason cleared" "credited 3  " "$(decision CH-2026-1113-02)"
expect_eq "accept: balance 12" "12" "$(balance 210412300077)"
expect_eq "accept: balance history names the review and the operator" "9|12" \
	"$(sql "SELECT old_balance || '|' || new_balance FROM audit.balance_history WHERE licence = '210412300077' AND cause = 'review $ID_B by Agent Dupuis'")"
expect_eq "accept: a stage_credit event in the ledger" "1" \
	"$(sql "SELECT count(*) FROM attestd.licence_events WHERE ref = 'stage:R2402800010:CH-2026-1113-02' AND kind = 'stage_credit' AND effective_date = '2026-11-15' AND stage_first_day = '2026-11-13'")"
expect_eq "accept: decision history with the operator and the note" \
	"Agent Dupuis|review accept|credited|3|Registry name is the married name; ID scan checked" \
	"$(sql "SELECT actor || '|' || cause || '|' || decision || '|' || points || '|' || note FROM attestd.decision_history WHERE attestation_id = $ID_B ORDER BY id DESC LIMIT 1")"
expect_eq "accept: decided_at set" "t" "$(sql "SELECT decided_at IS NOT NULL FROM attestd.attestations WHERE id = $ID_B")"
expect_eq "accept: a new receipt for the attestations file" "$((receipts_before + 1))" \
	"$(ls "$WORK/outbox/$APPROVAL" | grep -c '^att1\.')"
new_receipt=$(receipt att1.xml $((receipts_before + 1)))
expect_match "accept: the receipt carries the new decision" \
	'number="CH-2026-1113-02" licence="210412300077" decision="credited" points="3" effective-date="2026-11-15"' \
	"$(cat "$new_receipt" 2>&1)"
expect_match "accept: and the other attestation as it was" 'number="CH-2026-1113-01"[^>]*decision="credited" points="4"' \
	"$(cat "$new_receipt" 2>&1)"
expect_eq "accept: the receipt verifies against the prefecture certificate" "OK" \
	"$(xmlsec1 --verify --enabled-key-data x509 --trusted-pem "$WORK/pki/root.pem" "$new_receipt" 2>&1 | grep -o '^OK$')"
note_sha=$(printf '%s' "Registry name is the married name; ID scan checked" | sha256sum | cut -d' ' -f1)
expect_eq "accept: one audit row, the operator as actor, no licence number, the note's hash" \
	"1|Agent Dupuis|attestation $ID_B|approval=R2402800010 stage=CH-2026-1113 number=CH-2026-1113-02 submission=$(sql "SELECT submission_id FROM attestd.attestations WHERE id = $ID_B") decision=credited points=3 reasons= flags= note_sha256=$note_sha" \
	"$(sql "SELECT count(*) OVER () || '|' || actor || '|' || subject || '|' || detail FROM audit.log WHERE action = 'review.accept'")"
expect_eq "accept: B leaves the queue" "3" \
	"$(run_attestd review list --format csv; printf '%s\n' "$OUT" | tail -n +2 | wc -l)"

run_attestd review accept "$ID_B" --by "Agent Dupuis" --note "again"
expect_eq "accept twice: exit 1" 1 "$RC"
expect_match "accept twice: no longer in review" "is credited, not in review" "$ERR"

# --- accept on group_size: the points rules still decide -----------------------
run_attestd review accept "$ID_C" --by "Agent Dupuis" --note "Group of 3: centre warned"
expect_eq "accept at the ceiling: no_credit no_points_lost" "0|no_credit 0 no_points_lost " "$RC|$(decision CH-2026-1106-01)"
expect_eq "no ledger event for no points" "0" \
	"$(sql "SELECT count(*) FROM attestd.licence_events WHERE ref = 'stage:R2402800010:CH-2026-1106-01'")"
run_attestd review accept "$ID_D" --by "Agent Martin" --note "Group of 3: centre warned"
expect_eq "accept D: credited 4, balance 8 to 12" "0|credited 4  |12" \
	"$RC|$(decision CH-2026-1106-02)|$(balance 300000000002)"

# --- reject: rejected, the review reason kept ---------------------------------------
receipts_before=$(ls "$WORK/outbox/$APPROVAL" | grep -c '^att2\.')
run_attestd review reject "$ID_E" --by "Agent Martin" --note "Trainee absent from the group photo"
expect_eq "reject: exit 0" 0 "$RC"
expect_match "reject: says so" "^attestation $ID_E \(R2402800010 CH-2026-1106-03\): rejected by Agent Martin: rejected \(group_size\)$" "$OUT"
expect_eq "reject: rejected with group_size" "rejected 0 group_size " "$(decision CH-2026-1106-03)"
expect_eq "reject: no ledger event, balance untouched" "0|12" \
	"$(sql "SELECT count(*) FROM attestd.licence_events WHERE ref = 'stage:R2402800010:CH-2026-1106-03'")|$(balance 300000000003)"
expect_eq "reject: history" "Agent Martin|review reject|rejected|Trainee absent from the group photo" \
	"$(sql "SELECT actor || '|' || cause || '|' || decision || '|' || note FROM attestd.decision_history WHERE attestation_id = $ID_E ORDER BY id DESC LIMIT 1")"
expect_eq "reject: a new receipt" "$((receipts_before + 1))" "$(ls "$WORK/outbox/$APPROVAL" | grep -c '^att2\.')"
expect_match "reject: the receipt says rejected with the reason" \
	'number="CH-2026-1106-03"[^>]*decision="rejected" points="0"><reason code="group_size"' \
	"$(tr -d '\n' < "$(receipt att2.xml $((receipts_before + 1)))" | sed 's/> *</></g')"
expect_eq "reject: audit row" "Agent Martin|attestation $ID_E" \
	"$(sql "SELECT actor || '|' || subject FROM audit.log WHERE action = 'review.reject'")"
run_attestd review list --format csv
expect_eq "the queue is empty" "1" "$(printf '%s\n' "$OUT" | wc -l)"
expect_decision_counts "after the review decisions"
expect_eq "the reviews' decisions are counted in their month, with their reasons" \
	"credited|3|11 no_credit|1|0 no_credit:no_points_lost|1|0 rejected|1|0 rejected:group_size|1|0" \
	"$(sql "SELECT string_agg(d || '|' || n || '|' || p, ' ' ORDER BY d) FROM (SELECT decision
		|| coalesce(nullif(':' || reason, ':'), '') AS d, sum(attestations) AS n, sum(points) AS p
		FROM audit.monthly_decisions WHERE approval = '$APPROVAL' GROUP BY 1) x")"

# --- what the decisions are now -------------------------------------------------
run_attestd audit verify-log
expect_eq "the audit log's chain is intact after the review actions" 0 "$RC"
expect_match "final decisions cannot be rewritten, even as attestd" 'a final decision is never changed' \
	"$(psql -X -At -d "$DB" -c "UPDATE attestd.attestations SET decision = 'rejected', points = 0 WHERE id = $ID_A" 2>&1)"
expect_eq "flags may still be added to a final decision" "UPDATE 1" \
	"$(psql -X -At -d "$DB" -c "UPDATE attestd.attestations SET flags = flags WHERE id = $ID_A" 2>&1 | tail -n 1)"

# The review commands need the daemon's role: the auditor can do none of it.
sed "s/user=attestd\$/user=attestd_auditor/" "$CONF" > "$WORK/auditor.conf"
run_attestd review list --config "$WORK/auditor.conf"
expect_eq "auditor: review list refused, a configuration fault (exit 3)" 3 "$RC"
expect_match "auditor: permission denied" 'permission denied' "$ERR"

finish
