#!/usr/bin/env bash
# The document-level codes that need the database (rules.md §2,
# exchange-format.md §7): centre and certificate binding, inbox, approval
# dates, département, duplicates, stage conflicts; then correlation of a
# stage's two files in both orders, and a registry import that brings the
# licence an attestation was pending on.  Every rejection is checked in
# audit.submissions, in quarantine/ (with its .reason) and in the receipt.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.sh"
scenario_init || { fail "scenario_init"; finish; exit 1; }

sed -i 's/^departements = 28$/departements = 28, 67/' "$CONF"
EC_FP=$(openssl x509 -in "$WORK/pki/centre-ec.pem" -outform DER | sha256sum | cut -d' ' -f1)
# centre NUM DEP FROM TO: another centre, signing with the RSA certificate.
centre() {
	printf '%s,Centre %s,%s,%s,%s,%s\n' "$1" "$1" "$2" "$3" "$4" "$CENTRE_FP" >> "$WORK/csv/centres.csv"
}
centre R2402800020 28 2024-01-01 ""
centre R2402800030 28 2026-11-14 ""		# valid from the stage's last day
centre R2402800040 28 2024-01-01 2026-11-13	# valid to the stage's first day
centre R2402800050 28 2026-11-13 2026-11-14	# valid on exactly the stage days
centre R2404500010 45 2024-01-01 ""		# a département this prefecture does not serve
centre R2406700010 67 2024-01-01 ""
"$ATTESTD" registry import centres "$WORK/csv/centres.csv" >/dev/null || fail "centres imported"

F=2026-11-13 L=2026-11-14 NOW=2026-11-16T10:00:00+01:00
lic() { licence "$1" DUPONT Jean 1980-05-05; event "$1" 2009-06-01 grant 12 "G-$1"; event "$1" 2024-06-01 retrait -5 "R-$1"; }
tr_() { trainee "$1" DUPONT Jean 1980-05-05; }
# both X REF [DEP]: X-att.xml and X-sheet.xml of a stage REF with one driver
# (DOC_APPROVAL and SIGN_KEY apply).
both() {
	S_SESSIONS=""
	stage "$2" $F $L "${3:-28}"
	tr_ "${4:-DOCS00000001}"
	fillers 5
	attestations_file "$1-att.xml"
	sheet_file "$1-sheet.xml"
}
lic DOCS00000001
lic DOCS00000003
lic EDGE00000001
lic CORA00000001
lic CORB00000001
registries || fail "registries imported"

# expect_rejected LABEL FILE CODE [DIR]: the file's latest submission is
# rejected with CODE, its original is quarantined with a .reason naming CODE,
# and its latest receipt is a rejection with <error code="CODE">.
expect_rejected() {
	local dir=${4:-$APPROVAL} q
	expect_eq "$1: submission rejected" "rejected|{$3}" \
		"$(sql "SELECT status || '|' || errors::text FROM audit.submissions WHERE file_name = '$2' ORDER BY id DESC LIMIT 1")"
	q=$(find "$WORK/quarantine/$dir" -name "*.$2" 2>/dev/null | head -n 1)
	expect_eq "$1: original quarantined unchanged" "$(sha256sum < "$WORK/out/$2")" \
		"$( [ -n "$q" ] && sha256sum < "$q")"
	expect_match "$1: .reason names the code" "^reason: $3\$" "$(cat "$q.reason" 2>/dev/null)"
	expect_match "$1: receipt rejected with the code" \
		"status=\"rejected\".*<error code=\"$3\">" "$(tr -d '\n' < "$(latest_receipt "$2" "$dir")")"
	expect_match "$1: logged" "file=$2 .*outcome=rejected reason=$3 " "$ERR"
}

# --- binding, inbox, approval dates, département (both kinds of file) --------
DOC_APPROVAL=R2402800099 both unknown U1
SIGN_KEY=centre-ec both cert C1
both inbox I1
DOC_APPROVAL=R2402800030 both from A1
DOC_APPROVAL=R2402800040 both to A2
DOC_APPROVAL=R2402800050 both edges A3 28 EDGE00000001
DOC_APPROVAL=R2404500010 both dep45 D1 45
both dep67 D2 67
DOC_APPROVAL=R2406700010 both dep28 D3 28
for k in att sheet; do
	drop unknown-$k.xml R2402800099
	drop cert-$k.xml
	drop inbox-$k.xml R2402800020
	drop from-$k.xml R2402800030
	drop to-$k.xml R2402800040
	drop edges-$k.xml R2402800050
	drop dep45-$k.xml R2404500010
	drop dep67-$k.xml
	drop dep28-$k.xml R2406700010
done
run_once
expect_eq "binding run: exit 0" 0 "$RC"
for k in att sheet; do
	expect_rejected "centre not in the registry ($k)" unknown-$k.xml centre_unknown R2402800099
	expect_rejected "signed with an unregistered certificate ($k)" cert-$k.xml cert_not_registered
	expect_rejected "dropped in another centre's inbox ($k)" inbox-$k.xml wrong_inbox R2402800020
	expect_rejected "approval valid from the last day ($k)" from-$k.xml approval_invalid R2402800030
	expect_rejected "approval valid to the first day ($k)" to-$k.xml approval_invalid R2402800040
	expect_eq "approval valid on exactly the stage days ($k)" "accepted|{}" \
		"$(sql "SELECT status || '|' || errors::text FROM audit.submissions WHERE file_name = 'edges-$k.xml'")"
	expect_rejected "stage in a département not served ($k)" dep45-$k.xml wrong_departement R2404500010
	expect_rejected "stage in a served département not the approval's ($k)" dep67-$k.xml wrong_departement
	expect_rejected "centre of 67 with a stage in 28 ($k)" dep28-$k.xml wrong_departement R2406700010
done
expect_match "wrong_inbox: the message names both centres" 'names centre R2402800010 but was dropped in the inbox of R2402800020' \
	"$(<"$(latest_receipt inbox-att.xml R2402800020)")"
expect_eq "nothing of a rejected file is stored but its submission" "A3" \
	"$(sql "SELECT string_agg(DISTINCT ref, ' ') FROM attestd.stages")"
expect_eq "the stage on exactly the approval's days is decided" "credited|4|2026-11-15||" \
	"$(attestation_row A3-01)"

# A rejected file sent again as it is is judged again: once its certificate
# is registered, the same bytes are accepted.
sed -i "s/^\(R2402800010,.*,\)$CENTRE_FP\$/\1$CENTRE_FP;$EC_FP/" "$WORK/csv/centres.csv"
"$ATTESTD" registry import centres "$WORK/csv/centres.csv" >/dev/null || fail "EC certificate registered"
drop cert-att.xml
run_once
expect_eq "resent once the certificate is registered: accepted" "rejected|{cert_not_registered} accepted|{}" \
	"$(sql "SELECT string_agg(status || '|' || errors::text, ' ' ORDER BY id) FROM audit.submissions WHERE file_name = 'cert-att.xml'")"
expect_match "its second receipt is accepted" 'status="accepted"' "$(cat "$(receipt cert-att.xml 2)" 2>&1)"

# --- duplicates and stage conflicts -----------------------------------------
S_SESSIONS=""; stage S1 $F $L; tr_ DOCS00000001; SHEET_ONLY=1 tr_ DOCS00000003; fillers 4
attestations_file first-att.xml; sheet_file first-sheet.xml
drop first-att.xml
run_once
expect_eq "first attestations file of S1 accepted" "pending|0|-|awaiting_signin_sheet|" "$(attestation_row S1-01)"
# Same bytes under another name; a second sign-in sheet comes later.
cp "$WORK/out/first-att.xml" "$WORK/out/again-att.xml"
# Same stage, same numbers, another trainee: other bytes.
S_SESSIONS=""; stage S1 $F $L; trainee DOCS00000002 DURAND Paul 1975-01-01
attestations_file renum-att.xml
# Same ref, other dates, fresh numbers.
S_SESSIONS=""; stage S1 2026-11-20 2026-11-21; tr_ DOCS00000001; S_ATT=${S_ATT//S1-01/S1-11}
attestations_file moved-att.xml
# Same ref, same data, fresh numbers: a second attestations file of the stage is fine.
S_SESSIONS=""; stage S1 $F $L; tr_ DOCS00000003; S_ATT=${S_ATT//S1-01/S1-21}
attestations_file more-att.xml
for f in again-att renum-att moved-att more-att first-sheet; do drop $f.xml; done
run_once
expect_eq "byte-identical: a duplicate submission" "duplicate|{duplicate_file}" \
	"$(sql "SELECT status || '|' || errors::text FROM audit.submissions WHERE file_name = 'again-att.xml'")"
expect_match "byte-identical: logged duplicate_file" 'file=again-att.xml .*outcome=duplicate reason=duplicate_file' "$ERR"
expect_match "byte-identical: receipt duplicate, naming the first file" \
	'status="duplicate".*first-file="first-att.xml"' "$(tr -d '\n' < "$(receipt again-att.xml 1)")"
expect_eq "byte-identical: not quarantined, archived once" "0 1" \
	"$(find "$WORK/quarantine" -name '*again-att.xml' | wc -l) $(find "$WORK/archive" -type f -name "$(sha256sum < "$WORK/out/first-att.xml" | cut -d' ' -f1)" | wc -l)"
expect_rejected "same numbers in another file of the stage" renum-att.xml duplicate_attestation_number
expect_rejected "same stage ref with other dates" moved-att.xml stage_conflict
expect_eq "same stage ref, same data, new numbers: accepted" "accepted|{}" \
	"$(sql "SELECT status || '|' || errors::text FROM audit.submissions WHERE file_name = 'more-att.xml'")"
expect_eq "the stage keeps its dates" "2026-11-13|2026-11-14" \
	"$(sql "SELECT first_day || '|' || last_day FROM attestd.stages WHERE ref = 'S1'")"
expect_eq "both attestations files decided by the sheet" "credited credited" \
	"$(sql "SELECT string_agg(decision, ' ' ORDER BY attestation_number) FROM audit.attestation_decisions WHERE stage_ref = 'S1'")"

# A second sign-in sheet for the stage, other bytes, same stage data.
S_SESSIONS=""; stage S1 $F $L; tr_ DOCS00000001; tr_ DOCS00000003; fillers 5
sheet_file second-sheet.xml
drop second-sheet.xml
run_once
expect_rejected "a second sign-in sheet for the stage" second-sheet.xml stage_conflict
expect_eq "the first sheet stays the stage's" "first-sheet.xml" \
	"$(sql "SELECT s.file_name FROM attestd.signin_sheets sh JOIN attestd.submissions s ON s.id = sh.submission_id JOIN attestd.stages st ON st.id = sh.stage_id WHERE st.ref = 'S1'")"

# Sheet and attestations that disagree are stage_mismatch, not stage_conflict.
S_SESSIONS=""; stage M1 $F $L; tr_ DOCS00000001; fillers 5; attestations_file mism-att.xml
S_SESSIONS=""; stage M1 2026-11-20 2026-11-21; tr_ DOCS00000001; fillers 5; sheet_file mism-sheet.xml
drop mism-att.xml; drop mism-sheet.xml
run_once
expect_eq "sheet with other dates: accepted" "accepted accepted" \
	"$(sql "SELECT string_agg(status, ' ' ORDER BY id) FROM audit.submissions WHERE file_name LIKE 'mism-%'")"
expect_attestation "sheet with other dates: stage_mismatch" mism-att.xml M1-01 "rejected|0|-|stage_mismatch|"

# --- correlation in both orders ---------------------------------------------
S_SESSIONS=""; stage CA $F $L; tr_ CORA00000001; fillers 5
attestations_file ca-att.xml; sheet_file ca-sheet.xml
S_SESSIONS=""; stage CB $F $L; tr_ CORB00000001; fillers 5
attestations_file cb-att.xml; sheet_file cb-sheet.xml
# CA: the sheet first; CB: the attestations first.
drop ca-sheet.xml; drop cb-att.xml
run_once
expect_match "sheet first: its receipt accepted" 'kind="signin-sheet".*status="accepted"' \
	"$(tr -d '\n' < "$(receipt ca-sheet.xml 1)")"
expect_attestation "attestations first: pending" cb-att.xml CB-01 "pending|0|-|awaiting_signin_sheet|"
drop ca-att.xml; drop cb-sheet.xml
run_once
expect_attestation "sheet first: decided on arrival" ca-att.xml CA-01 "credited|4|2026-11-15||"
expect_eq "sheet first: one receipt for the attestations" "1" \
	"$(ls "$WORK/outbox/$APPROVAL" | grep -c '^ca-att\.')"
expect_eq "sheet first: history, one decision by the attestations file" "credited|attestations submission" \
	"$(sql "SELECT string_agg(h.decision || '|' || regexp_replace(h.cause, ' [0-9]+$', ''), ' ' ORDER BY h.id) FROM attestd.decision_history h JOIN attestd.attestations a ON a.id = h.attestation_id WHERE a.number = 'CA-01'")"
expect_attestation "attestations first: decided when the sheet arrives" cb-att.xml CB-01 "credited|4|2026-11-15||"
expect_eq "attestations first: a second receipt for the attestations file" \
	"$(receipt cb-att.xml 2)" "$(latest_receipt cb-att.xml)"
expect_match "attestations first: the first receipt still says pending" 'decision="pending"' \
	"$(<"$(receipt cb-att.xml 1)")"
expect_eq "attestations first: history pending, then credited by the sheet" \
	"pending|attestations submission credited|signin-sheet submission" \
	"$(sql "SELECT string_agg(h.decision || '|' || regexp_replace(h.cause, ' [0-9]+$', ''), ' ' ORDER BY h.id) FROM attestd.decision_history h JOIN attestd.attestations a ON a.id = h.attestation_id WHERE a.number = 'CB-01'")"
expect_eq "balances 7 + 4" "11 11" "$(balance CORA00000001) $(balance CORB00000001)"

# --- a registry import brings the missing licence -----------------------------
S_SESSIONS=""; stage RI $F $L; trainee NEWL00000001 MARTIN Claire 1990-04-12; fillers 5
attestations_file ri-att.xml; sheet_file ri-sheet.xml
drop ri-sheet.xml; drop ri-att.xml
run_once
expect_attestation "licence not in the registry: pending" ri-att.xml RI-01 "pending|0|-|licence_unknown|"
expect_eq "no balance without the registry" "" "$(balance NEWL00000001)"
licence NEWL00000001 MARTIN Claire 1990-04-12
ATTESTD_TEST_NOW=2026-11-17T09:00:00+01:00 run_attestd registry import licences "$WORK/csv/licences.csv"
expect_eq "licence imported" 0 "$RC"
expect_eq "a licence without its grant: still pending" "pending|0|-|licence_unknown|" "$(attestation_row RI-01)"
expect_eq "no new receipt while the outcome is the same" "1" \
	"$(ls "$WORK/outbox/$APPROVAL" | grep -c '^ri-att\.')"
event NEWL00000001 2008-01-10 grant 12 G-NEWL
event NEWL00000001 2025-02-01 retrait -4 R-NEWL
ATTESTD_TEST_NOW=2026-11-17T09:05:00+01:00 run_attestd registry import events "$WORK/csv/events.csv"
expect_eq "events imported" 0 "$RC"
expect_attestation "decided in the import's transaction" ri-att.xml RI-01 "credited|4|2026-11-15||"
expect_eq "a new receipt for the attestations file" "$(receipt ri-att.xml 2)" "$(latest_receipt ri-att.xml)"
expect_eq "balance 8 + 4" 12 "$(balance NEWL00000001)"
expect_eq "balance history names the import" "8|12|registry import events events.csv" \
	"$(sql "SELECT old_balance || '|' || new_balance || '|' || cause FROM audit.balance_history WHERE licence = 'NEWL00000001'")"
expect_eq "decision history names the import" "credited|registry import events events.csv" \
	"$(sql "SELECT h.decision || '|' || h.cause FROM attestd.decision_history h JOIN attestd.attestations a ON a.id = h.attestation_id WHERE a.number = 'RI-01' ORDER BY h.id DESC LIMIT 1")"
expect_eq "audit log: the re-decision" "1" \
	"$(sql "SELECT count(*) FROM audit.log WHERE action = 'attestations.redecided' AND subject = 'registry import events events.csv' AND detail LIKE '%credited=1 %'")"
expect_eq "receipts verify with xmlsec1 against the prefecture certificate" "OK" \
	"$(xmlsec1 --verify --enabled-key-data x509 --trusted-pem "$WORK/pki/root.pem" "$(receipt ri-att.xml 2)" 2>&1 | grep -o '^OK$')"

finish
