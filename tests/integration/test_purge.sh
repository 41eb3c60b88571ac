#!/usr/bin/env bash
# attestd purge: stages over four years through the pipeline (placed in time
# with ATTESTD_TEST_NOW), plus stage rows generated in SQL for the batches;
# purged on 2027-03-01: exactly the rows and files of stages that ended
# more than three years before (2024-02-29 + 3 years = 2027-02-28: gone;
# 2024-03-01: kept) and of files rejected more than three years before;
# the ledger, balances, balance history and audit log intact; one audit row
# per transaction; --dry-run removes nothing; refusals on a file that is
# missing or not what the database records and on timestamps in the future;
# file removals left by an interrupted purge finished, a file a row
# references again kept.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.sh"
scenario_init || { fail "scenario_init"; finish; exit 1; }
PURGE_NOW=2027-03-01T03:00:00+01:00

purge() {
	OUT=$(ATTESTD_TEST_NOW=$PURGE_NOW "$ATTESTD" purge "$@" 2>"$WORK/stderr")
	RC=$?
	ERR=$(<"$WORK/stderr")
	if sanitizer_report "$ERR"; then
		fail "sanitizer clean: purge $*" "$ERR"
	fi
}
# count TABLE [WHERE]
count() { sql "SELECT count(*) FROM $1 ${2:+WHERE $2}"; }
# A checksum of every row of the tables the purge may touch, and of the files.
tables="attestd.stages attestd.submissions attestd.signin_sheets attestd.signin_participants
	attestd.attestations attestd.decision_history attestd.receipts attestd.licence_events
	attestd.licence_balances attestd.balance_history attestd.purge_files attestd.decision_counts
	audit.log_entries"
# One psql for the 13 tables (one connection; a psql and a backend a table before).
db_state() {
	local t args=()
	for t in $tables; do
		args+=(-c "SELECT '$t ' || count(*) || ' ' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '-') FROM $t x")
	done
	psql -X -At -d "$DB" "${args[@]}"
}
files_state() { (cd "$WORK" && find archive quarantine -type f | sort | xargs -r sha256sum | sha256sum); }
# "purged" or "kept" for a file of the archive
archived() { [ -e "$WORK/archive/${1:0:2}/${1:2:2}/$1" ] && echo kept || echo purged; }
sha() { sha256sum "$WORK/out/$1" | cut -d' ' -f1; }

# The centre, approved since 2015 (the scenario's is from 2024).
sed -i 's/,2024-01-01,,/,2015-01-01,,/' "$WORK/csv/centres.csv"
"$ATTESTD" registry import centres "$WORK/csv/centres.csv" >/dev/null || fail "centre approved since 2015"

# Five drivers; T2 comes to two stages, two years apart, with the same
# identity card scan.
licence 100000000001 ALPHA Anne 1980-01-01
licence 100000000002 BRAVO Bruno 1981-02-02
licence 100000000003 CHARLIE Chloe 1982-03-03
licence 100000000004 DELTA Denis 1983-04-04
licence 100000000005 ECHO Emma 1984-05-05
for n in 1 2 3 4 5; do
	event 10000000000$n 2009-06-01 grant 12 G$n
	event 10000000000$n 2020-06-01 retrait -6 R$n
done
registries

# stage REF FIRST LAST, a driver, four fillers (a stage needs six), both
# files, dropped and processed on RECEIVED.
stage_through() {
	local ref=$1 first=$2 last=$3 received=$4
	shift 4
	stage "$ref" "$first" "$last"
	local lic
	for lic in "$@"; do
		trainee "$lic" "$(sql "SELECT surname FROM attestd.licences WHERE licence = '$lic'")" \
			"$(sql "SELECT given_names FROM attestd.licences WHERE licence = '$lic'")" \
			"$(sql "SELECT birth_date FROM attestd.licences WHERE licence = '$lic'")"
	done
	fillers 5
	attestations_file "att-$ref.xml"
	sheet_file "sheet-$ref.xml"
	drop "att-$ref.xml"
	drop "sheet-$ref.xml"
	run_once "${received}T10:00:00+01:00"
	[ "$RC" -eq 0 ] || fail "processing stage $ref on $received" "$ERR"
}
stage_through A 2023-06-09 2023-06-10 2023-06-12 100000000001 100000000002
stage_through B 2024-02-28 2024-02-29 2024-03-04 100000000003
stage_through C 2024-02-29 2024-03-01 2024-03-04 100000000004
stage_through D 2025-05-16 2025-05-17 2025-05-19 100000000002
stage_through E 2026-11-13 2026-11-14 2026-11-16 100000000005
# A's attestations sent again, byte for byte: a duplicate of stage A.
drop att-A.xml
run_once 2023-07-03T10:00:00+02:00
# Two rejected files, one received in 2023, one in 2026.
printf '<attestations' > "$WORK/out/broken-2023.xml"
drop broken-2023.xml
run_once 2023-09-04T10:00:00+02:00
printf '<attestations' > "$WORK/out/broken-2026.xml"
drop broken-2026.xml
run_once 2026-11-18T10:00:00+01:00

expect_eq "the pipeline took every stage, with its participants" "A 7|B 6|C 6|D 6|E 6" \
	"$(sql "SELECT string_agg(s.ref || ' ' || (SELECT count(*) FROM attestd.signin_participants p
		JOIN attestd.signin_sheets h USING (submission_id) WHERE h.stage_id = s.id), '|' ORDER BY s.ref)
		FROM attestd.stages s")"
expect_eq "every attestation decided" "0" "$(count attestd.attestations "decision IN ('pending', 'review')")"
expect_eq "six attestations in all" "6" "$(count attestd.attestations)"
expect_eq "submissions: 10 files, a duplicate, two rejected" "accepted 10|duplicate 1|rejected 2" \
	"$(sql "SELECT string_agg(status || ' ' || n, '|' ORDER BY status) FROM (SELECT status, count(*) n FROM attestd.submissions GROUP BY 1) x")"

# Old stage rows without files (as a stage_conflict leaves them), enough
# for a purge of two transactions.
sql "INSERT INTO attestd.stages (approval, ref, departement, first_day, last_day)
	SELECT 'R2402800010', 'BULK-' || i, '28', date '2022-01-10' + i % 300, date '2022-01-11' + i % 300
	FROM generate_series(1, 2010) i" >/dev/null

# What must go and what must stay, known before the purge.
att_a=$(sha att-A.xml) sheet_a=$(sha sheet-A.xml) att_b=$(sha att-B.xml) sheet_b=$(sha sheet-B.xml)
att_c=$(sha att-C.xml) sheet_d=$(sha sheet-D.xml)
scan1=$(sql "SELECT id_sha256 FROM attestd.signin_participants WHERE licence = '100000000001'")
scan2=$(sql "SELECT DISTINCT id_sha256 FROM attestd.signin_participants WHERE licence = '100000000002'")
scan3=$(sql "SELECT id_sha256 FROM attestd.signin_participants WHERE licence = '100000000003'")
filler=$(sql "SELECT DISTINCT id_sha256 FROM attestd.signin_participants WHERE licence = 'FL0000000001'")
expect_eq "the returning driver's scan is one archived file for two stages" "1" \
	"$(sql "SELECT count(DISTINCT id_sha256) FROM attestd.signin_participants WHERE licence = '100000000002'")"
q2023=$(ls "$WORK/quarantine/$APPROVAL" | grep -v '\.reason$' | grep 'broken-2023')
q2026=$(ls "$WORK/quarantine/$APPROVAL" | grep -v '\.reason$' | grep 'broken-2026')
expect_match "the rejected files are in quarantine" 'broken-2023' "$q2023"
ledger_before=$(sql "SELECT md5(string_agg(x::text, '|' ORDER BY id)) FROM attestd.licence_events x")
balances_before=$(sql "SELECT md5(string_agg(x::text, '|' ORDER BY licence)) FROM attestd.licence_balances x")
history_before=$(sql "SELECT md5(string_agg(x::text, '|' ORDER BY id)) FROM attestd.balance_history x")
credits_before=$(count attestd.licence_events "kind = 'stage_credit'")
expect_eq "the stages' credits are in the ledger" "6" "$credits_before"
audit_before=$(count audit.log_entries)
expected_subs=$(sql "SELECT count(*) FROM attestd.submissions s LEFT JOIN attestd.stages g ON g.id = s.stage_id
	WHERE g.ref IN ('A', 'B') OR (s.status = 'rejected' AND s.file_name = 'broken-2023.xml')")
expect_eq "submissions due: A's three, B's two, the 2023 rejection" "6" "$expected_subs"

# --- dry run ------------------------------------------------------------------
state0=$(db_state) files0=$(files_state)
purge --dry-run
expect_eq "dry run: exit 0" 0 "$RC"
expect_match "dry run: the cut-off" 'stages whose last day is before 2024-03-01' "$OUT"
expect_match "dry run: would remove" '^would remove:$' "$OUT"
expect_match "dry run: stages (A, B and the 2010 bare ones)" '^  stages +2012$' "$OUT"
expect_match "dry run: attestations" '^  attestations +3  \(and [0-9]+ decisions' "$OUT"
expect_match "dry run: sheets and participants" '^  sign-in sheets +2  \(and 13 participants' "$OUT"
expect_match "dry run: submissions" '^  submissions +6  \(files received, 1 of them rejected\)' "$OUT"
expect_match "dry run: archived files (originals of A and B, two scans)" '^  archived files +6 ' "$OUT"
expect_match "dry run: quarantined" '^  quarantined files +1$' "$OUT"
expect_eq "dry run: no row changed, no audit row" "$state0" "$(db_state)"
expect_eq "dry run: no file changed" "$files0" "$(files_state)"

# --- refusals -----------------------------------------------------------------
# A timestamp of ours in the future: the clock or the data is wrong.
received_e=$(sql "SELECT received_at FROM attestd.submissions WHERE file_name = 'att-E.xml'")
sql "UPDATE attestd.submissions SET received_at = '2027-03-20 10:00+01' WHERE file_name = 'att-E.xml'" >/dev/null
purge
expect_eq "future data: refused, exit 1" 1 "$RC"
expect_match "future data: says what and why" 'purge refused: the database records a file received at 2027-03-20.*clock or the data is wrong' "$ERR"
sql "UPDATE attestd.submissions SET received_at = '$received_e' WHERE file_name = 'att-E.xml'" >/dev/null

# An archived original that is not what the database records.
p=$WORK/archive/${sheet_a:0:2}/${sheet_a:2:2}/$sheet_a
cp -p "$p" "$WORK/sheet-a.saved"
chmod u+w "$p" && echo tampered >> "$p"
purge --dry-run
expect_eq "dry run, tampered file: would be refused, exit 1" 1 "$RC"
purge
expect_eq "tampered file: refused, exit 1" 1 "$RC"
expect_match "tampered file: named, with why" "$sheet_a: its content does not match the SHA-256" "$ERR"
expect_match "tampered file: nothing removed" 'nothing was removed' "$ERR"
# A scan that is missing.
s=$WORK/archive/${scan1:0:2}/${scan1:2:2}/$scan1
mv "$s" "$WORK/scan1.saved"
purge
expect_match "missing scan: named" "$scan1: missing, but the database records it" "$ERR"
# A quarantined original that is missing.
mv "$WORK/quarantine/$APPROVAL/$q2023" "$WORK/q2023.saved"
purge
expect_eq "missing quarantined file: refused" 1 "$RC"
expect_match "missing quarantined file: named" "quarantine/$APPROVAL/.*broken-2023.xml: missing" "$ERR"
expect_eq "refusals: no row changed, no audit row" "$state0" "$(db_state)"
cp -p "$WORK/sheet-a.saved" "$p"
mv "$WORK/scan1.saved" "$s"
mv "$WORK/q2023.saved" "$WORK/quarantine/$APPROVAL/$q2023"
expect_eq "files restored as they were" "$files0" "$(files_state)"

# --- an interrupted purge's queue -----------------------------------------------
# A file whose rows a purge removed, set aside when it stopped; and a queued
# file a row references again (the returning driver's scan): kept.
printf 'orphan' > "$WORK/orphan"
orphan=$(sha256sum "$WORK/orphan" | cut -d' ' -f1)
mkdir -p "$WORK/archive/${orphan:0:2}/${orphan:2:2}"
mv "$WORK/orphan" "$WORK/archive/${orphan:0:2}/${orphan:2:2}/.$orphan.purge"
sql "INSERT INTO attestd.purge_files (area, name) VALUES ('archive', '$orphan'), ('archive', '$sheet_d')" >/dev/null

# --- the purge ----------------------------------------------------------------
expect_decision_counts "before the purge"
counted_due=$(sql "SELECT count(*) FROM attestd.decision_counts c WHERE EXISTS (SELECT FROM attestd.attestations a
	JOIN attestd.stages g ON g.id = a.stage_id WHERE g.last_day < '2024-03-01' AND a.approval = c.approval
	AND date_trunc('month', a.decided_on) = c.month)")
expect_match "the due stages' decisions are counted before" '^[1-9]' "$counted_due"
purge
expect_eq "purge: exit 0" 0 "$RC"
expect_decision_counts "after the purge"
expect_eq "purge: no count of what it removed is left, not even at zero" "0" \
	"$(sql "SELECT count(*) FROM attestd.decision_counts WHERE attestations = 0 AND points = 0")"
expect_match "purge: finished the interrupted one first" '^finished an interrupted purge: 1 archived' "$OUT"
expect_match "purge: removed" '^removed:$' "$OUT"
expect_match "purge: stages" '^  stages +2012$' "$OUT"
expect_match "purge: two transactions" '^\(2 transactions, each with its audit-log row\)$' "$OUT"
expect_eq "purge: quiet on stderr" "" "$ERR"

expect_eq "stages left: C, D, E" "C D E" "$(sql "SELECT string_agg(ref, ' ' ORDER BY ref) FROM attestd.stages")"
expect_eq "attestations left: of C, D, E" "C-01 D-01 E-01" \
	"$(sql "SELECT string_agg(number, ' ' ORDER BY number) FROM attestd.attestations")"
expect_eq "decision history: of the attestations left only" "0" \
	"$(count attestd.decision_history "attestation_id NOT IN (SELECT id FROM attestd.attestations)")"
expect_eq "decision history of C, D, E kept" "yes" \
	"$([ "$(count attestd.decision_history)" -ge 3 ] && echo yes || echo no)"
expect_eq "sheets left: of C, D, E" "3" "$(count attestd.signin_sheets)"
expect_eq "participants left: of C, D, E" "18" "$(count attestd.signin_participants)"
expect_eq "no identity data of A or B" "0" \
	"$(count attestd.signin_participants "licence IN ('100000000001', '100000000003')")"
expect_eq "submissions left: C, D, E and the 2026 rejection" \
	"att-C.xml att-D.xml att-E.xml broken-2026.xml sheet-C.xml sheet-D.xml sheet-E.xml" \
	"$(sql "SELECT string_agg(file_name, ' ' ORDER BY file_name) FROM attestd.submissions")"
expect_eq "receipts: only of the submissions left" "0" \
	"$(count attestd.receipts "submission_id NOT IN (SELECT id FROM attestd.submissions)")"
expect_eq "receipts of the files left kept" "yes" "$([ "$(count attestd.receipts)" -ge 7 ] && echo yes || echo no)"

expect_eq "A's attestations file removed" purged "$(archived "$att_a")"
expect_eq "A's sheet removed" purged "$(archived "$sheet_a")"
expect_eq "B's files removed" "purged purged" "$(archived "$att_b") $(archived "$sheet_b")"
expect_eq "a scan only A had: removed" purged "$(archived "$scan1")"
expect_eq "a scan only B had: removed" purged "$(archived "$scan3")"
expect_eq "the returning driver's scan, D still has it: kept" kept "$(archived "$scan2")"
expect_eq "the fillers' scan, shared with C, D, E: kept" kept "$(archived "$filler")"
expect_eq "C's file (3 years on 2027-03-01 exactly): kept" kept "$(archived "$att_c")"
expect_eq "a queued file a row references: kept" kept "$(archived "$sheet_d")"
expect_eq "the interrupted purge's file: removed" purged "$(archived "$orphan")"
expect_eq "nothing set aside is left" "" "$(find "$WORK/archive" -name '.*')"
expect_eq "the queue is empty" "0" "$(count attestd.purge_files)"
expect_eq "every row's file is still archived" "" \
	"$(sql "SELECT sha256 FROM attestd.submissions WHERE status = 'accepted' UNION SELECT id_sha256 FROM attestd.signin_participants" |
		while read -r h; do [ "$(archived "$h")" = kept ] || echo "$h"; done)"
expect_eq "archive: only what rows reference" \
	"$(sql "SELECT sha256 FROM attestd.submissions WHERE status = 'accepted' UNION SELECT id_sha256 FROM attestd.signin_participants ORDER BY 1" | tr '\n' ' ')" \
	"$(find "$WORK/archive" -type f -printf '%f\n' | sort | tr '\n' ' ')"
expect_eq "quarantine: the 2023 file and its reason gone" "no no" \
	"$(test -e "$WORK/quarantine/$APPROVAL/$q2023" && echo yes || echo no) $(test -e "$WORK/quarantine/$APPROVAL/$q2023.reason" && echo yes || echo no)"
expect_eq "quarantine: the 2026 file kept" "yes" \
	"$(test -e "$WORK/quarantine/$APPROVAL/$q2026" && echo yes || echo no)"

expect_eq "the ledger intact" "$ledger_before" \
	"$(sql "SELECT md5(string_agg(x::text, '|' ORDER BY id)) FROM attestd.licence_events x")"
expect_eq "A's credits still in the ledger, with the stage's first day" "2|2023-06-09" \
	"$(sql "SELECT count(*) || '|' || min(stage_first_day) FROM attestd.licence_events WHERE ref LIKE 'stage:R2402800010:A-%'")"
expect_eq "balances intact" "$balances_before" \
	"$(sql "SELECT md5(string_agg(x::text, '|' ORDER BY licence)) FROM attestd.licence_balances x")"
expect_eq "balance history intact" "$history_before" \
	"$(sql "SELECT md5(string_agg(x::text, '|' ORDER BY id)) FROM attestd.balance_history x")"

expect_eq "two audit rows, one per transaction" "$((audit_before + 2))" "$(count audit.log_entries)"
expect_eq "the audit rows' counts add up" "2012|3|2|13|6|1|6|1" \
	"$(sql "SELECT sum(substring(detail FROM 'stages=([0-9]+)')::int) || '|' ||
		sum(substring(detail FROM 'attestations=([0-9]+)')::int) || '|' ||
		sum(substring(detail FROM 'sheets=([0-9]+)')::int) || '|' ||
		sum(substring(detail FROM 'participants=([0-9]+)')::int) || '|' ||
		sum(substring(detail FROM 'submissions=([0-9]+)')::int) || '|' ||
		sum(substring(detail FROM ' rejected=([0-9]+)')::int) || '|' ||
		sum(substring(detail FROM 'archive_files=([0-9]+)')::int) || '|' ||
		sum(substring(detail FROM 'quarantine_files=([0-9]+)')::int)
		FROM audit.log WHERE action = 'retention.purge'")"
expect_eq "audit rows name the cut-off" "stages ended before 2024-03-01" \
	"$(sql "SELECT DISTINCT subject FROM audit.log WHERE action = 'retention.purge'")"
run_attestd audit verify-log
expect_match "audit log chain intact" 'hash chain intact' "$OUT"

# --- again: nothing due, still one audit row ---------------------------------------
purge
expect_eq "again: exit 0" 0 "$RC"
expect_match "again: nothing" '^  stages +0$' "$OUT"
expect_eq "again: one audit row with zeros" "$((audit_before + 3))|stages=0" \
	"$(sql "SELECT count(*) || '|' || (SELECT substring(detail FROM 'stages=[0-9]+') FROM audit.log ORDER BY seq DESC LIMIT 1) FROM audit.log")"

# A's attestations sent again after the purge: their rows are gone but
# their credits stay in the ledger, so the numbers are still taken.
ledger_after=$(sql "SELECT md5(string_agg(x::text, '|' ORDER BY id)) FROM attestd.licence_events x")
balances_after=$(sql "SELECT md5(string_agg(x::text, '|' ORDER BY licence)) FROM attestd.licence_balances x")
drop att-A.xml
run_once 2027-03-02T10:00:00+01:00
expect_match "A re-sent after the purge: rejected, its numbers still taken" \
	'file=att-A.xml .*outcome=rejected reason=duplicate_attestation_number' "$ERR"
expect_match "its receipt says which number" 'code="duplicate_attestation_number".*attestation number A-01 was already used' \
	"$(tr -d '\n' < "$(latest_receipt att-A.xml)" 2>&1)"
expect_eq "no credit twice: the ledger unchanged" "$ledger_after" \
	"$(sql "SELECT md5(string_agg(x::text, '|' ORDER BY id)) FROM attestd.licence_events x")"
expect_eq "no credit twice: the balances unchanged" "$balances_after" \
	"$(sql "SELECT md5(string_agg(x::text, '|' ORDER BY licence)) FROM attestd.licence_balances x")"
expect_eq "no attestation row again" "0" "$(count attestd.attestations "number LIKE 'A-%'")"

# Two purges at once (two hosts' timers): the second does nothing.
# The other one holds the lock until told (its backend ended), however
# slowly each side starts.
PGAPPNAME=test_purge_locker sql "SELECT pg_advisory_lock(727002), pg_sleep(600)" >/dev/null 2>&1 &
locker=$!
purge_locked() { [ "$(sql "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
	WHERE l.locktype = 'advisory' AND l.objid = 727002 AND l.granted
	AND a.application_name = 'test_purge_locker'")" = 1 ]; }
wait_for "the other purge holds the lock" 60 purge_locked
purge
expect_eq "a purge already running: exit 0" 0 "$RC"
expect_match "a purge already running: said" 'another purge is running' "$OUT"
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'test_purge_locker'" >/dev/null
wait $locker

finish
