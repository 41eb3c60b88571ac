#!/usr/bin/env bash
# Every worked example of rules.md §8, end to end: registries imported, both
# files of each stage signed and dropped into the centre's inbox,
# `attestd run --once` at the reception time (ATTESTD_TEST_NOW), then the
# decision, points, effective date, reasons and flags read back from
# audit.attestation_decisions AND from the attestations file's latest
# receipt, and the balance from audit.licence_balances.
#
# Each example has its own licences and stage refs; the runs follow the
# calendar (2025-01-31 … 2026-12-17), since each run's date is "today" for
# the registration deadline and the overdue sweep.  Unless said, the stage is
# 2026-11-13 (Fri) – 2026-11-14 (Sat), E = 2026-11-15, received 2026-11-16.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.sh"
scenario_init || { fail "scenario_init"; finish; exit 1; }

# Example 13 needs a stage in département 67: the prefecture serves it too,
# and a centre approved there signs with the same certificate.
A67=R2406700010
sed -i 's/^departements = 28$/departements = 28, 67/' "$CONF"
printf '%s,Centre du Bas-Rhin,67,2024-01-01,,%s\n' "$A67" "$CENTRE_FP" >> "$WORK/csv/centres.csv"
"$ATTESTD" registry import centres "$WORK/csv/centres.csv" >/dev/null || fail "centre 67 imported"

F=2026-11-13 L=2026-11-14 E=2026-11-15

# lic NUM [PROBATION_END] [STATUS] [STATUS_DATE]: every driver is DUPONT Jean.
lic() { licence "$1" DUPONT Jean 1980-05-05 "${2:-}" "${3:-}" "${4:-}"; }
# tr NUM [CASE] [EXTRA]: the driver on both documents of the current stage.
tr_() { trainee "$1" DUPONT Jean 1980-05-05 "${2:-1}" "${3:-}"; }
# new_stage REF FIRST LAST [DEP]: a stage with the default sessions.
new_stage() { S_SESSIONS=""; stage "$@"; }
# pair X: X-att.xml and X-sheet.xml for the current stage (6 participants
# unless the example sets its own group).
pair() { attestations_file "$1-att.xml"; sheet_file "$1-sheet.xml"; }
# at DAY: the reception instant of a run on DAY.
at() { echo "${1}T10:00:00+01:00"; }
letter() { printf '    <letter-48n received="%s"/>\n' "$1"; }
court() { printf '    <court-order ref="PARQUET-28-2026-%s" date="2026-08-02"/>\n' "$1"; }

# --- the registries -----------------------------------------------------------
# Non-probationary licences: granted 12 in 2009; retraits bring them to the
# example's balance.
plain() { # NUM BALANCE
	lic "$1"
	event "$1" 2009-06-01 grant 12 "G-$1"
	[ "$2" -lt 12 ] && event "$1" 2024-06-01 retrait "-$((12 - $2))" "R-$1"
	return 0
}
plain EX01A0000001 7
plain EX02A0000001 10
plain EX03A0000001 12
# 4: a credited stage 2025-11-13/14 (decided by attestd in 2025), and one
# 2025-11-11/12 known from the registry (a stage_credit event: that stage
# ran on Armistice day, which attestd itself would have rejected).
for n in EX04A0000001 EX04B0000001; do
	lic $n
	event $n 2009-06-01 grant 12 "G-$n"
	event $n 2025-06-01 retrait -8 "R-$n"
done
event EX04B0000001 2025-11-13 stage_credit 4 SC-EX04B
# 4, forward (rules.md §5.4 "in either direction"): an earlier stage decided
# after a later one of the same licence was credited, by each path that
# decides: a late sign-in sheet (F), a review accept (H), a registry import
# bringing the licence with a later stage_credit (G, unknown until then).
plain EX04F0000001 4
plain EX04H0000001 4
# 5: previous stage 2024-02-28/29 (registry), earliest next first day 2025-03-01.
lic EX05A0000001
event EX05A0000001 2009-06-01 grant 12 G-EX05
event EX05A0000001 2023-06-01 retrait -8 R-EX05
event EX05A0000001 2024-03-01 stage_credit 4 SC-EX05
# 6: probationary licences at 3 of 6 points, case 2.
for n in EX06A0000001 EX06B0000001 EX06C0000001; do
	lic $n 2028-01-01
	event $n 2025-01-01 grant 6 "G-$n"
	event $n 2026-09-01 retrait -3 "R-$n"
done
plain EX07A0000001 5
plain EX07B0000001 5
# 8: probationary, issued 2025-06-01, +2 on 2026-06-01, -3 on 2026-08-01.
lic EX08A0000001 2028-06-01
event EX08A0000001 2025-06-01 grant 6 G-EX08
event EX08A0000001 2026-06-01 probation_increment 2 P-EX08
event EX08A0000001 2026-08-01 retrait -3 R-EX08
# 9: at 8 on E; the retrait -4 effective 2026-12-01 (a fine paid after the
# stage) is imported on 2026-12-02, before the sheet of 9a arrives and after
# 9b was decided.
plain EX09A0000001 8
plain EX09B0000001 8
# 10: 3 at E, zeroed by a retrait effective 2026-12-01, 48SI notified 2026-12-20.
lic EX10A0000001 "" invalidated 2026-12-20
event EX10A0000001 2009-06-01 grant 12 G-EX10
event EX10A0000001 2026-03-01 retrait -9 R1-EX10
event EX10A0000001 2026-12-01 retrait -4 R2-EX10
# 11: zeroed by a retrait effective 2026-10-20; 48SI notified 2026-11-01 (a), none (b).
lic EX11A0000001 "" invalidated 2026-11-01
lic EX11B0000001
for n in EX11A0000001 EX11B0000001; do
	event $n 2009-06-01 grant 12 "G-$n"
	event $n 2026-10-20 retrait -12 "R-$n"
done
for n in EX12A0000001 EX13A0000001 EX13A0000002 EX13B0000001 EX13B0000002 EX13C0000001 \
	EX13D0000001 EX14A0000001 EX14B0000001 EX14C0000001 EX15A0000001 EX15B0000001 \
	EX16A0000001 EX17A0000001 EX18A0000001 EX18B0000001; do
	plain $n 7
done
registries || fail "registries imported"

# --- 17: received 2025-01-31, deadline 2025-02-28 (clamped) -----------------
new_stage EX17 2025-01-24 2025-01-25
tr_ EX17A0000001; fillers 5; pair ex17
drop ex17-att.xml
run_once "$(at 2025-01-31)"
expect_eq "17: run exit 0" 0 "$RC"
expect_attestation "17: pending without its sheet" ex17-att.xml EX17-01 "pending|0|-|awaiting_signin_sheet|"
expect_eq "17: registration deadline 2025-01-31 + 1 month = 2025-02-28" "2025-02-28" \
	"$(sql "SELECT registration_deadline FROM audit.attestation_decisions WHERE attestation_number = 'EX17-01'")"
run_once "$(at 2025-02-28)"
expect_eq "17: still pending on its deadline day: not overdue" "pending|0|-|awaiting_signin_sheet|" \
	"$(attestation_row EX17-01)"
drop ex17-sheet.xml
run_once "$(at 2025-03-01)"
expect_attestation "17: decided the day after its deadline: credited, registration_overdue" \
	ex17-att.xml EX17-01 "credited|4|2025-01-26||registration_overdue"
expect_eq "17: the decision is in the attestations file's second receipt" \
	"$(receipt ex17-att.xml 2)" "$(latest_receipt ex17-att.xml)"
expect_eq "17: balance 11" 11 "$(balance EX17A0000001)"

# --- 5: previous stage 2024-02-28/29 -------------------------------------------
new_stage EX05X 2025-02-28 2025-03-01
tr_ EX05A0000001; fillers 5; pair ex05x
new_stage EX05Y 2025-03-03 2025-03-04
tr_ EX05A0000001; fillers 5; pair ex05y
for f in ex05x-sheet ex05x-att ex05y-att ex05y-sheet; do drop $f.xml; done
run_once "$(at 2025-03-05)"
expect_attestation "5: first day 2025-02-28 < 2025-03-01: within_one_year" ex05x-att.xml EX05X-01 \
	"no_credit|0|-|within_one_year|"
expect_match "5: the receipt names the previous stage's last day" \
	'<reason code="within_one_year">last point-granting stage ended 2024-02-29</reason>' \
	"$(<"$(latest_receipt ex05x-att.xml)")"
expect_attestation "5: the first stage possible from 2025-03-01 (Mon 03-03): credited" ex05y-att.xml \
	EX05Y-01 "credited|4|2025-03-05||"
expect_eq "5: balance 8 + 4" 12 "$(balance EX05A0000001)"

# --- 4a, first part: a stage credited by attestd on 2025-11-13/14 -------------
new_stage EX04P 2025-11-13 2025-11-14
tr_ EX04A0000001; fillers 5; pair ex04p
drop ex04p-sheet.xml; drop ex04p-att.xml
run_once "$(at 2025-11-17)"
expect_attestation "4: the earlier stage 2025-11-13/14 credited" ex04p-att.xml EX04P-01 \
	"credited|4|2025-11-15||"

# --- 13c/d: Good Friday 2026-04-03, département 67 vs 28 ----------------------
new_stage EX13C 2026-04-02 2026-04-03 67
tr_ EX13C0000001; fillers 5
DOC_APPROVAL=$A67 pair ex13c
new_stage EX13D 2026-04-02 2026-04-03 28
tr_ EX13D0000001; fillers 5; pair ex13d
drop ex13c-att.xml $A67; drop ex13c-sheet.xml $A67
drop ex13d-sheet.xml; drop ex13d-att.xml
run_once "$(at 2026-04-07)"
expect_attestation "13: Good Friday in département 67: stage_on_public_holiday" ex13c-att.xml EX13C-01 \
	"rejected|0|-|stage_on_public_holiday|" $A67
expect_match "13: the 67 sheet's receipt names the finding" '<stage-finding code="stage_on_public_holiday"' \
	"$(<"$(latest_receipt ex13c-sheet.xml $A67)")"
expect_eq "13: balance unchanged in 67" 7 "$(balance EX13C0000001)"
expect_attestation "13: Good Friday in département 28 is a working day" ex13d-att.xml EX13D-01 \
	"credited|4|2026-04-04||"

# --- the main run: received 2026-11-16 ------------------------------------------
# Order of the drops varies: sheet first (decided in the attestations' own
# transaction) or attestations first (pending, decided in the sheet's).
simple() { # X NUM [CASE] [EXTRA]
	new_stage "${1^^}" $F $L
	tr_ "$2" "${3:-1}" "${4:-}"
	fillers 5
	pair "$1"
}
simple ex01 EX01A0000001
simple ex02 EX02A0000001
simple ex03 EX03A0000001
simple ex04a EX04A0000001
simple ex04b EX04B0000001
simple ex06a EX06A0000001 2 "$(letter 2026-09-30)"$'\n'
simple ex06b EX06B0000001 2 "$(letter 2026-11-20)"$'\n'
simple ex06c EX06C0000001 2 "$(letter 2026-07-10)"$'\n'
simple ex07a EX07A0000001 3 "$(court 0007)"$'\n'
simple ex07b EX07B0000001 4 "$(court 0008)"$'\n'
simple ex08 EX08A0000001
simple ex09a EX09A0000001
simple ex09b EX09B0000001
simple ex10 EX10A0000001
simple ex11a EX11A0000001
simple ex11b EX11B0000001
new_stage EX12 $F $L
ARRIVALS="08:31 12:50 08:20 12:50" tr_ EX12A0000001
fillers 5; pair ex12
new_stage EX13A 2026-11-14 2026-11-15
tr_ EX13A0000001; tr_ EX13A0000002; fillers 4; pair ex13a
new_stage EX13B 2026-11-10 2026-11-11
tr_ EX13B0000001; tr_ EX13B0000002; fillers 4; pair ex13b
new_stage EX14A $F $L
tr_ EX14A0000001; fillers 20; pair ex14a
new_stage EX14B $F $L
tr_ EX14B0000001; fillers 4; pair ex14b
new_stage EX14C $F $L
S_SESSIONS="08:30 12:00 12:30 16:30 08:30 12:00 12:30 16:30"
ARRIVALS="08:20 12:25 08:20 12:25" tr_ EX14C0000001
for i in 1 2 3 4 5; do ARRIVALS="08:20 12:25 08:20 12:25" SHEET_ONLY=1 trainee FL000000000$i AUTRE Personne 1980-01-01; done
pair ex14c
simple ex16 EX16A0000001
simple ex18 EX18A0000001
new_stage EX04FE 2026-11-02 2026-11-03
tr_ EX04F0000001; fillers 5; pair ex04fe
simple ex04fl EX04F0000001
new_stage EX04HE 2026-11-02 2026-11-03
tr_ EX04H0000001; fillers 4; pair ex04he
simple ex04hl EX04H0000001
simple ex04g EX04G0000001

n=0
for x in ex01 ex02 ex03 ex04a ex04b ex06a ex06b ex06c ex07a ex07b ex08 ex09b ex10 ex11a ex11b ex12 \
	ex13a ex13b ex14a ex14b ex14c ex18 ex04fl ex04he ex04hl ex04g; do
	if [ $((n++ % 2)) -eq 0 ]; then drop $x-sheet.xml; drop $x-att.xml
	else drop $x-att.xml; drop $x-sheet.xml; fi
done
drop ex09a-att.xml
drop ex16-att.xml
drop ex04fe-att.xml
run_once "$(at 2026-11-16)"
expect_eq "main run: exit 0" 0 "$RC"
expect_no_match "main run: nothing rejected whole" 'outcome=rejected' "$ERR"

expect_attestation "1: balance 7 → credited 4" ex01-att.xml EX01-01 "credited|4|$E||"
expect_eq "1: balance 11" 11 "$(balance EX01A0000001)"
expect_attestation "2: balance 10 → credited 2" ex02-att.xml EX02-01 "credited|2|$E||"
expect_eq "2: balance 12" 12 "$(balance EX02A0000001)"
expect_attestation "3: balance 12 → no_points_lost" ex03-att.xml EX03-01 "no_credit|0|-|no_points_lost|"
expect_eq "3: balance 12" 12 "$(balance EX03A0000001)"
expect_attestation "4: last credited stage 2025-11-13/14 → within_one_year" ex04a-att.xml EX04A-01 \
	"no_credit|0|-|within_one_year|"
expect_match "4: the receipt names 2025-11-14" \
	'<reason code="within_one_year">last point-granting stage ended 2025-11-14</reason>' \
	"$(<"$(latest_receipt ex04a-att.xml)")"
expect_eq "4: balance stays 4 + 4" "8|2025-11-14" \
	"$(sql "SELECT balance || '|' || last_credit_stage_last_day FROM audit.licence_balances WHERE licence = 'EX04A0000001'")"
expect_attestation "4: last stage 2025-11-11/12 → first day 2026-11-13 allowed" ex04b-att.xml EX04B-01 \
	"credited|4|$E||"
expect_eq "4: balance 8 + 4, last credit this stage" "12|2026-11-14" \
	"$(sql "SELECT balance || '|' || last_credit_stage_last_day FROM audit.licence_balances WHERE licence = 'EX04B0000001'")"
expect_attestation "6: 48N 2026-09-30 → mandatory_stage_completed" ex06a-att.xml EX06A-01 \
	"credited|3|$E||mandatory_stage_completed"
expect_attestation "6: 48N 2026-11-20 → case 1, stage_before_letter_48n" ex06b-att.xml EX06B-01 \
	"credited|3|$E|stage_before_letter_48n|"
expect_attestation "6: 48N 2026-07-10 → case 1, letter_48n_window_exceeded" ex06c-att.xml EX06C-01 \
	"credited|3|$E||letter_48n_window_exceeded"
expect_eq "6: probationary balances reach their ceiling 6" "6 6 6" \
	"$(balance EX06A0000001) $(balance EX06B0000001) $(balance EX06C0000001)"
expect_attestation "7: case 3 → case_no_points" ex07a-att.xml EX07A-01 "no_credit|0|-|case_no_points|"
expect_attestation "7: case 4 → case_no_points" ex07b-att.xml EX07B-01 "no_credit|0|-|case_no_points|"
expect_eq "7: balances stay 5" "5 5" "$(balance EX07A0000001) $(balance EX07B0000001)"
expect_attestation "8: probationary b=5 c=8 → credited 3" ex08-att.xml EX08-01 "credited|3|$E||"
expect_eq "8: balance 8, ceiling 8" "8|8" \
	"$(sql "SELECT balance || '|' || ceiling FROM audit.licence_balances WHERE licence = 'EX08A0000001'")"
expect_attestation "9: decided before the late retrait: credited 4" ex09b-att.xml EX09B-01 "credited|4|$E||"
expect_eq "9: balance 12 before the late retrait" 12 "$(balance EX09B0000001)"
expect_attestation "10: 3 at E, 48SI after F → credited 4, invalidation_to_review" ex10-att.xml EX10-01 \
	"credited|4|$E||invalidation_to_review"
expect_eq "10: 7 at E, 3 after the retrait" "3|invalidated" \
	"$(sql "SELECT balance || '|' || status FROM audit.licence_balances WHERE licence = 'EX10A0000001'")"
expect_attestation "11: 48SI notified 2026-11-01 → licence_invalidated" ex11a-att.xml EX11A-01 \
	"no_credit|0|-|licence_invalidated|"
expect_eq "11: invalidated licence stays at 0" 0 "$(balance EX11A0000001)"
expect_attestation "11: balance 0, no 48SI → credited 4" ex11b-att.xml EX11B-01 "credited|4|$E||"
expect_eq "11: balance 4" 4 "$(balance EX11B0000001)"
expect_attestation "12: arrived 08:31 for 08:30 → late_arrival" ex12-att.xml EX12-01 "rejected|0|-|late_arrival|"
expect_eq "12: balance unchanged" 7 "$(balance EX12A0000001)"
for k in 1 2; do
	expect_attestation "13: Sat–Sun stage, attestation $k → stage_on_sunday" ex13a-att.xml EX13A-0$k \
		"rejected|0|-|stage_on_sunday|"
	expect_attestation "13: stage on Armistice day, attestation $k → stage_on_public_holiday" \
		ex13b-att.xml EX13B-0$k "rejected|0|-|stage_on_public_holiday|"
done
expect_match "13: the sheet's receipt names stage_on_sunday" '<stage-finding code="stage_on_sunday"' \
	"$(<"$(latest_receipt ex13a-sheet.xml)")"
expect_eq "13: balances unchanged" "7 7" "$(balance EX13A0000001) $(balance EX13B0000002)"
expect_attestation "14: 21 participants → review group_size" ex14a-att.xml EX14A-01 "review|0|-|group_size|"
expect_attestation "14: 5 participants → review group_size" ex14b-att.xml EX14B-01 "review|0|-|group_size|"
expect_attestation "14: lunch 12:00–12:30 → review lunch_break_too_short" ex14c-att.xml EX14C-01 \
	"review|0|-|lunch_break_too_short|"
expect_match "14: the sheet's receipt names group_size" '<stage-finding code="group_size"' \
	"$(<"$(latest_receipt ex14a-sheet.xml)")"
expect_match "14: the sheet's receipt names lunch_break_too_short" \
	'<stage-finding code="lunch_break_too_short"' "$(<"$(latest_receipt ex14c-sheet.xml)")"
expect_eq "14: review items wait, undecided" "3" \
	"$(sql "SELECT count(*) FROM audit.attestation_decisions WHERE stage_ref LIKE 'EX14%' AND decided_at IS NULL")"
expect_attestation "16: sheet never arrives → pending awaiting_signin_sheet" ex16-att.xml EX16-01 \
	"pending|0|-|awaiting_signin_sheet|"
expect_eq "16: deadline 2026-12-16" 2026-12-16 \
	"$(sql "SELECT registration_deadline FROM audit.attestation_decisions WHERE attestation_number = 'EX16-01'")"
expect_attestation "18: the first file" ex18-att.xml EX18-01 "credited|4|$E||"
expect_attestation "4 forward: the later stage, first decided, credited" ex04fl-att.xml EX04FL-01 \
	"credited|4|$E||"
expect_attestation "4 forward: the earlier stage waits for its sheet" ex04fe-att.xml EX04FE-01 \
	"pending|0|-|awaiting_signin_sheet|"
expect_attestation "4 forward: the earlier stage in review (group of 5)" ex04he-att.xml EX04HE-01 \
	"review|0|-|group_size|"
expect_attestation "4 forward: licence unknown yet" ex04g-att.xml EX04G-01 \
	"pending|0|-|licence_unknown|"

# --- 4, forward, by review accept: the earlier stage accepted after the later
# one was credited gives no points, and its new receipt says why.
run_attestd review accept "$(sql "SELECT id FROM attestd.attestations WHERE number = 'EX04HE-01'")" \
	--by "Agent Dupuis" --note "group of 5 checked"
expect_eq "4 forward, review accept: exit 0" 0 "$RC"
expect_attestation "4 forward, review accept → no_credit within_one_year" ex04he-att.xml EX04HE-01 \
	"no_credit|0|-|within_one_year|"
expect_match "4 forward, review accept: the receipt names the later stage" \
	'<reason code="within_one_year">a point-granting stage ending 2026-11-14, less than a year from this one, was credited first</reason>' \
	"$(<"$(latest_receipt ex04he-att.xml)")"
expect_eq "4 forward, review accept: the credit already given stands, balance 8" \
	"credited|4|$E|||8" "$(attestation_row EX04HL-01)|$(balance EX04H0000001)"

# --- 18: the same number in another file; the same bytes again ----------------
new_stage EX18B $F $L
tr_ EX18B0000001; fillers 5
S_ATT=${S_ATT//EX18B-01/EX18-01}
pair ex18b
drop ex18b-att.xml
cp "$WORK/out/ex18-att.xml" "$WORK/out/ex18-again.xml"
drop ex18-again.xml
run_once "$(at 2026-11-16 | sed 's/T10/T11/')"
expect_eq "18: submissions" "rejected|{duplicate_attestation_number} duplicate|{duplicate_file}" \
	"$(sql "SELECT string_agg(status || '|' || errors::text, ' ' ORDER BY id) FROM audit.submissions WHERE file_name IN ('ex18b-att.xml', 'ex18-again.xml')")"
expect_match "18: the second file's receipt: rejected, duplicate_attestation_number" \
	'status="rejected".*<error code="duplicate_attestation_number">attestation number EX18-01' \
	"$(tr -d '\n' < "$(receipt ex18b-att.xml 1)")"
expect_eq "18: the second file quarantined with its reason" "1 1" \
	"$(find "$WORK/quarantine" -name '*ex18b-att.xml' | wc -l) $(find "$WORK/quarantine" -name '*ex18b-att.xml.reason' | wc -l)"
expect_match "18: identical bytes: duplicate_file" 'file=ex18-again.xml .*outcome=duplicate reason=duplicate_file' "$ERR"
expect_match "18: the duplicate's receipt names the first file and repeats its decision" \
	'status="duplicate".*first-file="ex18-att.xml".*number="EX18-01"[^>]*decision="credited" points="4"' \
	"$(tr -d '\n' < "$(receipt ex18-again.xml 1)")"
expect_eq "18: the first decision stands, nothing recorded twice" "1|EX18A0000001|11" \
	"$(sql "SELECT count(*) || '|' || min(licence) FROM audit.attestation_decisions WHERE attestation_number = 'EX18-01'")|$(balance EX18A0000001)"

# --- 15: received L+15 (on time) and L+16 (late) -----------------------------
simple ex15b EX15B0000001
simple ex15a EX15A0000001
drop ex15b-sheet.xml; drop ex15b-att.xml
drop ex04fe-sheet.xml
run_once "$(at 2026-11-29)"
expect_attestation "4 forward, late sheet: the earlier stage → no_credit within_one_year" \
	ex04fe-att.xml EX04FE-01 "no_credit|0|-|within_one_year|"
expect_match "4 forward, late sheet: the receipt names the later stage" \
	'<reason code="within_one_year">a point-granting stage ending 2026-11-14, less than a year from this one, was credited first</reason>' \
	"$(<"$(latest_receipt ex04fe-att.xml)")"
expect_eq "4 forward, late sheet: the decision already taken stands, balance 8" \
	"credited|4|$E|||8" "$(attestation_row EX04FL-01)|$(balance EX04F0000001)"
expect_attestation "15: received 2026-11-29 (L+15): on time" ex15b-att.xml EX15B-01 "credited|4|$E||"
drop ex15a-sheet.xml; drop ex15a-att.xml
run_once "$(at 2026-11-30)"
expect_attestation "15: received 2026-11-30 (L+16): decided, late_transmission" ex15a-att.xml EX15A-01 \
	"credited|4|$E||late_transmission"
expect_eq "15: audit.late_transmissions lists that stage only" "EX15A|16" \
	"$(sql "SELECT string_agg(stage_ref || '|' || days_after_last_day, ' ') FROM audit.late_transmissions")"

# --- 9: the retrait -4 effective 2026-12-01 imported on 2026-12-02 ------------
event EX09A0000001 2026-12-01 retrait -4 R2-EX09A
event EX09B0000001 2026-12-01 retrait -4 R2-EX09B
ATTESTD_TEST_NOW=$(at 2026-12-02) registries || fail "9: late retraits imported"
expect_eq "9: decided before: replay 12 then -4 → 8" 8 "$(balance EX09B0000001)"
expect_eq "9: the balance history names the import" "12|8|registry import events events.csv" \
	"$(sql "SELECT old_balance || '|' || new_balance || '|' || cause FROM audit.balance_history WHERE licence = 'EX09B0000001' ORDER BY changed_at DESC LIMIT 1")"
expect_eq "9: pending on its sheet: balance 4 today, by the import" "8|4|registry import events events.csv" \
	"$(sql "SELECT old_balance || '|' || new_balance || '|' || cause FROM audit.balance_history WHERE licence = 'EX09A0000001' ORDER BY changed_at DESC LIMIT 1")"
expect_eq "9: no other licence's balance moved" "" \
	"$(sql "SELECT string_agg(licence || ' ' || old_balance || '>' || new_balance, ', ') FROM audit.balance_history WHERE cause LIKE 'registry import%' AND licence NOT IN ('EX09A0000001', 'EX09B0000001')")"
expect_eq "9: the decision is not taken again" "credited|4|$E||" "$(attestation_row EX09B-01)"
drop ex09a-sheet.xml
run_once "$(at 2026-12-03)"
expect_attestation "9: balance 4 today, 8 at E → credited 4" ex09a-att.xml EX09A-01 "credited|4|$E||"
expect_eq "9: replay 8 + 4 = 12 at E, then -4 → 8" 8 "$(balance EX09A0000001)"

# --- 4, forward, by registry import: the licence arrives with a stage_credit
# effective 2026-11-25 (a stage of 2026-11-23/24, after this one) --------------
lic EX04G0000001
event EX04G0000001 2009-06-01 grant 12 G-EX04G
event EX04G0000001 2025-06-01 retrait -8 R-EX04G
event EX04G0000001 2026-11-25 stage_credit 4 SC-EX04G
ATTESTD_TEST_NOW=$(at 2026-12-04) registries || fail "4 forward: licence EX04G imported"
expect_attestation "4 forward, registry import → no_credit within_one_year" ex04g-att.xml EX04G-01 \
	"no_credit|0|-|within_one_year|"
expect_match "4 forward, registry import: the receipt names the registry's stage" \
	'<reason code="within_one_year">a point-granting stage ending 2026-11-24, less than a year from this one, was credited first</reason>' \
	"$(<"$(latest_receipt ex04g-att.xml)")"
expect_eq "4 forward, registry import: balance 4 + 4 from the registry only" 8 "$(balance EX04G0000001)"

# --- 16: deadline 2026-12-16 is the last day allowed ----------------------------
run_once "$(at 2026-12-16)"
expect_eq "16: on 2026-12-16 still pending, not overdue" "pending|0|-|awaiting_signin_sheet|" \
	"$(attestation_row EX16-01)"
run_once "$(at 2026-12-17)"
expect_eq "16: on 2026-12-17 → registration_overdue" "pending|0|-|awaiting_signin_sheet|registration_overdue" \
	"$(attestation_row EX16-01)"
expect_eq "16: audit.registrations_overdue: 16, the reviews of 14 (still waiting), 17 (decided late)" \
	"EX14A-01|review EX14B-01|review EX14C-01|review EX16-01|pending EX17-01|credited" \
	"$(sql "SELECT string_agg(attestation_number || '|' || decision, ' ' ORDER BY attestation_number) FROM audit.registrations_overdue")"
run_once "$(at 2026-12-18)"
expect_eq "16: flagged once" "{registration_overdue}" \
	"$(sql "SELECT flags FROM audit.attestation_decisions WHERE attestation_number = 'EX16-01'")"

expect_eq "receipts verify with xmlsec1 against the prefecture certificate" "OK" \
	"$(xmlsec1 --verify --enabled-key-data x509 --trusted-pem "$WORK/pki/root.pem" "$(latest_receipt ex10-att.xml)" 2>&1 | grep -o '^OK$')"
expect_decision_counts "the worked examples"
expect_eq "audit log chain intact" "t" \
	"$(sql "SELECT bool_and(hash = audit.row_hash(prev_hash, seq, at, actor, action, subject, detail)) FROM audit.log")"

finish
