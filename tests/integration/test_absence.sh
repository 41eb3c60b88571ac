#!/usr/bin/env bash
# A sign-in sheet where a participant has no presence for a session: the
# sheet is stored (the absence as a NULL arrival) and the attestation is
# rejected for incomplete attendance, in both orders of arrival.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.sh"
scenario_init || { fail "scenario_init"; finish; exit 1; }

licence 120575300042 MARTIN Claire 1990-04-12
event 120575300042 2009-06-01 grant 12 G1
event 120575300042 2026-03-01 retrait -5 R1
licence 120575300043 PETIT Lucas 1985-02-03
event 120575300043 2009-06-01 grant 12 G2
event 120575300043 2026-03-01 retrait -5 R2
registries

others() { for i in 1 2 3 4 5; do SHEET_ONLY=1 trainee 99000000000$i AUTRE Personne 1980-01-0$i; done; }

# Sheet first.
stage CH-2026-1113 2026-11-13 2026-11-14
ARRIVALS="08:20 12:50 08:20 -" trainee 120575300042 MARTIN Claire 1990-04-12
others
attestations_file att1.xml
sheet_file sheet1.xml
drop sheet1.xml
run_once
expect_match "sheet with an absence accepted" 'file=sheet1.xml .*outcome=accepted' "$ERR"
expect_eq "the absence stored as NULL" "{500,770,500,NULL}" \
	"$(sql "SELECT arrived FROM attestd.signin_participants WHERE licence = '120575300042'")"
drop att1.xml
run_once
expect_eq "sheet first: attendance_incomplete" "rejected 0 attendance_incomplete " "$(decision CH-2026-1113-01)"

# Attestations first.
stage CH-2026-1120 2026-11-19 2026-11-20
ARRIVALS="- 12:50 08:20 12:50" trainee 120575300043 PETIT Lucas 1985-02-03
others
attestations_file att2.xml
sheet_file sheet2.xml
drop att2.xml
run_once "2026-11-23T10:00:00+01:00"
drop sheet2.xml
run_once "2026-11-23T10:00:00+01:00"
expect_match "second sheet accepted" 'file=sheet2.xml .*outcome=accepted' "$ERR"
expect_eq "attestations first: attendance_incomplete" "rejected 0 attendance_incomplete " "$(decision CH-2026-1120-01)"

finish
