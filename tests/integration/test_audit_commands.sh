#!/usr/bin/env bash
# The auditors' commands through the binary, run as attestd_auditor (a
# read-only role that sees the audit.* views only): attestations with their
# filters, licence, centre, overdue, in CSV, JSON and table (CSV and JSON
# parsed back), verify-archive on an intact, a corrupt and a missing file;
# and the auditor cannot write.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.sh"
scenario_init || { fail "scenario_init"; finish; exit 1; }

licence 120575300042 MARTIN Claire 1990-04-12
event 120575300042 2009-06-01 grant 12 G-A
event 120575300042 2026-03-01 retrait -5 R-A
licence 210412300077 NGUYEN Bao 2003-02-01
event 210412300077 2021-06-01 grant 12 G-B
licence 300000000001 PETIT Jean 1970-01-01
event 300000000001 2000-01-01 grant 12 G-C
event 300000000001 2025-01-01 retrait -2 R-C
registries

# S1: A credited.  S2: B's attestations, no sheet ever: pending, then overdue.
# S3: received 23 days after the stage: late transmission, C credited.
stage CH-2026-1113 2026-11-13 2026-11-14
trainee 120575300042 MARTIN Claire 1990-04-12
for i in 1 2 3 4 5; do SHEET_ONLY=1 trainee 99000000000$i AUTRE Personne 1980-01-0$i; done
sheet_file s1-sheet.xml; attestations_file s1-att.xml
stage CH-2026-1106 2026-11-06 2026-11-07
trainee 210412300077 NGUYEN Bao 2003-02-01
attestations_file s2-att.xml
stage CH-2026-1023 2026-10-23 2026-10-24
trainee 300000000001 PETIT Jean 1970-01-01
for i in 1 2 3 4 5; do SHEET_ONLY=1 trainee 99000000001$i AUTRE Personne 1980-01-1$i; done
sheet_file s3-sheet.xml; attestations_file s3-att.xml
printf '<attestations xmlns="urn:ssr:stage:1"' > "$WORK/out/broken.xml"
for f in s1-sheet s1-att s2-att s3-sheet s3-att broken; do drop $f.xml; done
run_once
expect_eq "files processed" 0 "$RC"
# A month later the daemon flags what is still undecided past its deadline.
run_once 2026-12-20T10:00:00+01:00
expect_eq "S2 overdue" "pending 0 awaiting_signin_sheet registration_overdue" "$(decision CH-2026-1106-01)"

sed "s/user=attestd\$/user=attestd_auditor/" "$CONF" > "$WORK/auditor.conf"
AUD=(--config "$WORK/auditor.conf")

# --- attestations ------------------------------------------------------------------
run_attestd audit attestations "${AUD[@]}" --format csv
expect_eq "attestations as the auditor: exit 0" 0 "$RC"
csv_rows() { python3 -c '
import csv, sys
rows = list(csv.reader(sys.stdin))
print(len(rows) - 1, " ".join(sorted(r[2] + ":" + r[7] for r in rows[1:])))'; }
expect_eq "attestations csv: every decision, parsed back" \
	"3 CH-2026-1023-01:credited CH-2026-1106-01:pending CH-2026-1113-01:credited" \
	"$(printf '%s\n' "$OUT" | csv_rows)"
expect_match "attestations csv: the header names the view's columns" \
	'^approval,stage_ref,attestation_number,licence,stage_case,first_day,last_day,decision,points,effective_date,reasons,flags,received_at,decided_at,registration_deadline$' \
	"$OUT"
run_attestd audit attestations "${AUD[@]}"
expect_match "csv by default when stdout is not a terminal" '^approval,stage_ref,' "$OUT"
run_attestd audit attestations "${AUD[@]}" --licence 300000000001 --format csv
expect_eq "--licence" "1 CH-2026-1023-01:credited" "$(printf '%s\n' "$OUT" | csv_rows)"
run_attestd audit attestations "${AUD[@]}" --from 2026-11-01 --to 2026-11-30 --format csv
expect_eq "--from --to: stages held within" "2 CH-2026-1106-01:pending CH-2026-1113-01:credited" \
	"$(printf '%s\n' "$OUT" | csv_rows)"
run_attestd audit attestations "${AUD[@]}" --from 2026-11-07 --format csv
expect_eq "--from alone: a stage that began before is out" "1 CH-2026-1113-01:credited" \
	"$(printf '%s\n' "$OUT" | csv_rows)"
run_attestd audit attestations "${AUD[@]}" --to 2026-11-06 --format csv
expect_eq "--to alone: a stage that ended after is out" "1 CH-2026-1023-01:credited" \
	"$(printf '%s\n' "$OUT" | csv_rows)"
run_attestd audit attestations "${AUD[@]}" --centre R2402800010 --licence 120575300042 --format csv
expect_eq "--centre with --licence" "1 CH-2026-1113-01:credited" "$(printf '%s\n' "$OUT" | csv_rows)"
run_attestd audit attestations "${AUD[@]}" --centre "R9'; DROP TABLE x; --" --format csv
expect_eq "a quoted value is a value: no rows, no error" "0|0 " "$RC|$(printf '%s\n' "$OUT" | csv_rows)"
run_attestd audit attestations "${AUD[@]}" --format json
expect_eq "attestations json: typed values (numbers, arrays, ISO times with the offset)" \
	"3|4|['late_transmission']|+01:00" \
	"$(printf '%s' "$OUT" | python3 -c '
import json, sys
a = json.load(sys.stdin)
s3 = [x for x in a if x["attestation_number"] == "CH-2026-1023-01"][0]
s1 = [x for x in a if x["attestation_number"] == "CH-2026-1113-01"][0]
print(len(a), s1["points"], s3["flags"], s1["received_at"][-6:], sep="|")')"
run_attestd audit attestations "${AUD[@]}" --format table
expect_match "attestations table: aligned" '^ approval +\| stage_ref +\| attestation_number' "$OUT"
expect_match "attestations table: count" '^\(3 rows\)$' "$OUT"

# --- licence ----------------------------------------------------------------------------
run_attestd audit licence 120575300042 "${AUD[@]}" --format json
expect_eq "licence: exit 0" 0 "$RC"
expect_eq "licence json: balance, ledger, history, attestations, decisions" \
	"11|12|grant,retrait,stage_credit|7>11|CH-2026-1113-01|attestd" \
	"$(printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["balance"]["balance"], d["balance"]["ceiling"], ",".join(e["kind"] for e in d["events"]),
      " ".join("%s>%s" % (h["old_balance"], h["new_balance"]) for h in d["balance_history"]
               if h["old_balance"] is not None),
      d["attestations"][0]["attestation_number"], d["decision_history"][-1]["actor"], sep="|")')"
run_attestd audit licence 120575300042 "${AUD[@]}" --format csv
expect_eq "licence csv: five blocks, each with its header" \
	"licence,balance,ceiling,status,last_credit_stage_last_day effective_date,kind,points,ref,source,stage_first_day,created_at changed_at,old_balance,new_balance,cause approval,stage_ref,attestation_number,stage_case,first_day,last_day,decision,points,effective_date,reasons,flags,received_at,decided_at at,approval,stage_ref,attestation_number,actor,cause,decision,points,reasons,flags,note|120575300042,11,12,valid,2026-11-14" \
	"$(printf '%s\n' "$OUT" | python3 -c '
import csv, io, sys
blocks = [list(csv.reader(io.StringIO(b))) for b in sys.stdin.read().split("\n\n")]
print(" ".join(",".join(b[0]) for b in blocks), ",".join(blocks[0][1]), sep="|")')"
run_attestd audit licence 120575300042 "${AUD[@]}" --format table
expect_match "licence table: the balance as one record" '^balance +\| 11$' "$OUT"
expect_match "licence table: titled parts" '^Balance history$' "$OUT"
run_attestd audit licence 999999999 "${AUD[@]}"
expect_eq "unknown licence: exit 1" 1 "$RC"
expect_match "unknown licence: said" 'nothing is recorded for licence 999999999' "$ERR"
expect_eq "unknown licence: nothing written" "" "$OUT"

# --- centre -------------------------------------------------------------------------------
run_attestd audit centre R2402800099 "${AUD[@]}"
expect_eq "unknown centre: exit 1" 1 "$RC"
expect_match "unknown centre: said" 'nothing is recorded for centre R2402800099 \(no file received\)' "$ERR"
expect_eq "unknown centre: nothing written" "" "$OUT"
run_attestd audit centre R2402800010 "${AUD[@]}" --format json
expect_eq "centre: exit 0" 0 "$RC"
expect_eq "centre json: submissions, the late one, the rejected file" \
	"6|CH-2026-1023:23|file:broken.xml:['not_well_formed']" \
	"$(printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(len(d["submissions"]),
      " ".join("%s:%s" % (l["stage_ref"], l["days_after_last_day"]) for l in d["late_transmissions"]),
      " ".join("%s:%s:%s" % (r["what"], r["file_name"], r["reasons"]) for r in d["rejections"]), sep="|")')"
run_attestd audit centre R2402800010 "${AUD[@]}" --format csv
expect_eq "centre csv: exit 0" "0" "$RC${ERR:+ stderr: $ERR}"
expect_eq "centre csv: three blocks" "3" "$(printf '%s\n' "$OUT" | python3 -c '
import sys; print(len(sys.stdin.read().split("\n\n")))')"
run_attestd audit centre R2402899999 "${AUD[@]}"
expect_eq "unknown centre: exit 1" 1 "$RC"

# --- overdue -----------------------------------------------------------------------------------
run_attestd audit overdue "${AUD[@]}" --format csv
expect_eq "overdue csv: the pending attestation past its deadline" \
	"1|CH-2026-1106-01|pending|2026-12-16" \
	"$(printf '%s\n' "$OUT" | python3 -c '
import csv, sys
r = list(csv.DictReader(sys.stdin))
print(len(r), r[0]["attestation_number"], r[0]["decision"], r[0]["registration_deadline"], sep="|")')"
run_attestd audit overdue "${AUD[@]}" --format json
expect_eq "overdue json" "1" "$(printf '%s' "$OUT" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')"

# --- usage errors --------------------------------------------------------------------------
run_attestd audit attestations "${AUD[@]}" --format xml
expect_eq "unknown format: exit 2" 2 "$RC"
run_attestd audit attestations "${AUD[@]}" --from 2026-02-30
expect_eq "bad date: exit 2" 2 "$RC"
run_attestd audit attestations "${AUD[@]}" --from 2026-12-01 --to 2026-11-01
expect_eq "from after to: exit 2" 2 "$RC"
run_attestd audit licence "${AUD[@]}"
expect_eq "licence without a number: exit 2" 2 "$RC"
run_attestd audit overdue "${AUD[@]}" --licence 120575300042
expect_eq "a filter where none applies: exit 2" 2 "$RC"

# --- verify-archive --------------------------------------------------------------------------
run_attestd audit verify-archive "${AUD[@]}"
expect_eq "verify-archive as the auditor: exit 0" 0 "$RC"
# s1: sheet (6 scans) + attestations; s2; s3: sheet (6 scans) + attestations.
expect_match "verify-archive: every original and scan" '^archive: 17 files checked: 0 missing, 0 corrupt, 0 unreadable$' "$OUT"
sha=$(sha256sum "$WORK/out/s1-att.xml" | cut -d' ' -f1)
file=$WORK/archive/${sha:0:2}/${sha:2:2}/$sha
cp -p "$file" "$WORK/kept"
chmod u+w "$file"; printf 'x' >> "$file"
run_attestd audit verify-archive "${AUD[@]}"
expect_eq "corrupt file: exit 1" 1 "$RC"
expect_match "corrupt file: named, with its submission" "^corrupt $file: original of submission [0-9]+ \(R2402800010/s1-att.xml\)$" "$OUT"
expect_match "corrupt file: summary" '^archive: 17 files checked: 0 missing, 1 corrupt, 0 unreadable$' "$OUT"
rm -f "$file"
run_attestd audit verify-archive "${AUD[@]}"
expect_match "missing file: named" "^missing $file: original of submission" "$OUT"
expect_eq "missing file: exit 1" 1 "$RC"
cp -p "$WORK/kept" "$file"
run_attestd audit verify-archive "${AUD[@]}"
expect_eq "restored: intact again" 0 "$RC"

run_attestd audit verify-log "${AUD[@]}"
expect_eq "verify-log as the auditor still works" 0 "$RC"

# --- the auditor cannot write ------------------------------------------------------------------
as_auditor() { psql -X -At -U attestd_auditor -d "$DB" -c "$1" 2>&1; }
expect_match "auditor: cannot insert into the tables" 'permission denied' \
	"$(as_auditor "INSERT INTO attestd.licence_events (licence, effective_date, kind, points, ref) VALUES ('120575300042', '2026-01-01', 'recovery', 1, 'X')")"
expect_match "auditor: cannot update through a view" 'permission denied' \
	"$(as_auditor "UPDATE audit.balance_history SET new_balance = 12")"
expect_match "auditor: cannot append to the log" 'permission denied' \
	"$(as_auditor "SELECT audit.append('x', 'y', 'z', '')")"
expect_eq "auditor: reads the new views" "3" \
	"$(as_auditor "SELECT count(DISTINCT licence) FROM audit.licence_events")"
id_b=$(sql "SELECT id FROM attestd.attestations WHERE number = 'CH-2026-1106-01'")
run_attestd review reject "$id_b" "${AUD[@]}" --by "Someone" --note "try"
expect_eq "auditor: a review action fails, a configuration fault (exit 3)" "3" "$RC"
expect_match "auditor: for want of rights" 'permission denied' "$ERR"
expect_eq "auditor: and changed nothing" "pending|0" \
	"$(sql "SELECT decision FROM attestd.attestations WHERE id = $id_b")|$(sql "SELECT count(*) FROM audit.log WHERE action LIKE 'review.%'")"

finish
