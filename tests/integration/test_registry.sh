#!/usr/bin/env bash
# Registry import (interfaces.md): each registry valid, RFC 4180 quoting,
# embedded newlines, CRLF, BOM; bad values listed with record and line and
# nothing imported; re-import a no-op; updates; immutable events.
. "$(dirname "$0")/lib.sh"
fresh_db
run_attestd db migrate
expect_eq "migrate" 0 "$RC"

C=$WORK/csv
mkdir -p "$C"

# --- centres: quoting, embedded newline, doubled quotes, CRLF, BOM ----------
printf '\xef\xbb\xbfapproval,name,departement,valid_from,valid_to,cert_sha256\r\n' > "$C/centres.csv"
printf 'R2402800010,"Centre ""Route Sûre"", Chartres",28,2024-01-01,,%s\r\n' \
	"$(printf 'a%.0s' $(seq 64))" >> "$C/centres.csv"
printf 'R2402800020,"Stage Plus\r\nsite de Dreux",28,2024-01-01,2026-12-31,"%s;%s"\r\n' \
	"$(printf 'b%.0s' $(seq 64))" "$(printf 'AB:%.0s' $(seq 31))AB" >> "$C/centres.csv"
printf 'R2402A00010,Ajaccio Conduite,2A,2025-03-01,,\r\n' >> "$C/centres.csv"
run_attestd registry import centres "$C/centres.csv"
expect_eq "centres: exit 0" 0 "$RC"
expect_match "centres: counts" '3 records: 3 new, 0 updated, 0 unchanged' "$OUT"
expect_eq "centres: doubled quotes and comma kept" 'Centre "Route Sûre", Chartres' \
	"$(sql "SELECT name FROM attestd.centres WHERE approval = 'R2402800010'")"
expect_eq "centres: embedded CRLF kept inside the field" 'Stage Plus|site de Dreux' \
	"$(sql "SELECT replace(replace(name, E'\r\n', '|'), E'\n', '|') FROM attestd.centres WHERE approval = 'R2402800020'")"
expect_eq "centres: open-ended validity is NULL" "t" \
	"$(sql "SELECT valid_to IS NULL FROM attestd.centres WHERE approval = 'R2402800010'")"
expect_eq "centres: fingerprints normalised (colons, case)" "2" \
	"$(sql "SELECT count(*) FROM attestd.centre_certificates WHERE approval = 'R2402800020' AND cert_sha256 ~ '^[0-9a-f]{64}$'")"
expect_eq "centres: no certificate is no row" "0" \
	"$(sql "SELECT count(*) FROM attestd.centre_certificates WHERE approval = 'R2402A00010'")"

run_attestd registry import centres "$C/centres.csv"
expect_eq "centres re-import: exit 0" 0 "$RC"
expect_match "centres re-import: nothing changes" '3 records: 0 new, 0 updated, 3 unchanged' "$OUT"

# An update: name changed on one, a certificate dropped on another.
sed -e 's/Ajaccio Conduite/Ajaccio Conduite Sud/' -e "s/;AB:[A-F0-9:]*//" "$C/centres.csv" > "$C/centres2.csv"
run_attestd registry import centres "$C/centres2.csv"
expect_match "centres update: counted" '3 records: 0 new, 2 updated, 1 unchanged' "$OUT"
expect_eq "centres update: certificate set replaced" "1" \
	"$(sql "SELECT count(*) FROM attestd.centre_certificates WHERE approval = 'R2402800020'")"

# --- a bad record rolls back everything, with record and line -------------
cat > "$C/bad-centres.csv" <<'CSV'
approval,name,departement,valid_from,valid_to,cert_sha256
R2402800030,"Nouveau
centre",28,2025-01-01,,
R2402800040,Deux,28,2025-02-30,,
X123,Trois,28,2025-01-01,2024-01-01,
R2402800050,Quatre,45,2025-01-01,,
R2402800030,Doublon,28,2025-01-01,,
CSV
run_attestd registry import centres "$C/bad-centres.csv"
expect_eq "bad centres: exit 1" 1 "$RC"
expect_match "bad date: record 2 on line 4" 'bad-centres.csv:4: record 2: valid_from: "2025-02-30" is not a date' "$ERR"
expect_match "bad approval: record 3 on line 5" 'bad-centres.csv:5: record 3: approval: "X123" is not an approval number' "$ERR"
expect_match "validity order: record 3" 'bad-centres.csv:5: record 3: valid_to: "2024-01-01" is before valid_from' "$ERR"
expect_match "departement differs from the approval's" 'bad-centres.csv:6: record 4: departement: "45" differs' "$ERR"
expect_match "duplicate key within the file" 'bad-centres.csv:2: record 1: approval: "R2402800030" appears more than once' "$ERR"
expect_match "says nothing was imported" 'nothing imported' "$ERR"
expect_eq "bad centres: nothing imported" "0" \
	"$(sql "SELECT count(*) FROM attestd.centres WHERE approval = 'R2402800030'")"

# Malformed CSV (unterminated quote, missing column, wrong header).
printf 'approval,name,departement,valid_from,valid_to,cert_sha256\nR2402800060,"open,28,2025-01-01,,\n' > "$C/unterminated.csv"
run_attestd registry import centres "$C/unterminated.csv"
expect_eq "unterminated quote: exit 1" 1 "$RC"
expect_match "unterminated quote: said, with the line it opened on" 'unterminated.csv:2: record 1: a quoted value opened on line 2 is never closed' "$ERR"
printf 'approval,name,departement,valid_from,valid_to,cert_sha256\nR2402800060,Short,28\n' > "$C/short.csv"
run_attestd registry import centres "$C/short.csv"
expect_eq "missing column: exit 1" 1 "$RC"
expect_match "missing column: record named" 'short.csv:2: record 1: 3 fields where the header has 6' "$ERR"
printf 'approval,nom,departement,valid_from,valid_to,cert_sha256\n' > "$C/header.csv"
run_attestd registry import centres "$C/header.csv"
expect_eq "wrong header: exit 1" 1 "$RC"
expect_match "wrong header: column named" 'header.csv:1: the header.s column 2 is "nom" where "name" is expected' "$ERR"
printf 'approval,name,departement,valid_from,valid_to,cert_sha256\nR2402800060,\xff\xfe,28,2025-01-01,,\n' > "$C/latin1.csv"
run_attestd registry import centres "$C/latin1.csv"
expect_eq "invalid UTF-8: exit 1" 1 "$RC"
expect_match "invalid UTF-8: line, byte and the option" 'latin1.csv:2: record 1: byte 13 of the line \(0xFF\) is not UTF-8.*--encoding windows-1252' "$ERR"
run_attestd registry import centres "$C/no-such-file.csv"
expect_eq "missing file: exit 1" 1 "$RC"
expect_match "missing file: named" 'no-such-file.csv: cannot open' "$ERR"

# --- facilitators ------------------------------------------------------------
cat > "$C/facilitators.csv" <<'CSV'
authorisation,role,surname,given_names,valid_from,valid_to
PSY-28-2019-004,psychologist,DURAND,Anne,2019-01-01,
BAFM-28-2015-011,road-safety-expert,LEROY,Marc Henri,2015-06-01,2030-06-01
CSV
run_attestd registry import facilitators "$C/facilitators.csv"
expect_match "facilitators: imported" '2 records: 2 new, 0 updated, 0 unchanged' "$OUT"
printf 'authorisation,role,surname,given_names,valid_from,valid_to\nPSY-1,doctor,X,Y,2020-01-01,\n' > "$C/bad-fac.csv"
run_attestd registry import facilitators "$C/bad-fac.csv"
expect_match "facilitators: bad role named" 'record 1: role: "doctor" must be psychologist or road-safety-expert' "$ERR"

# --- licences ------------------------------------------------------------------
cat > "$C/licences.csv" <<'CSV'
licence,surname,given_names,birth_date,issued,probation_end,status,status_date
120575300042,MARTIN,Claire,1990-04-12,2009-06-01,,valid,
210412300077,NGUYEN,Bao,2003-02-01,2025-06-01,2028-06-01,valid,
190101300011,LÉGER-D'ALMEIDA,Jean-Édouard Marie,1970-01-01,1990-01-01,,invalidated,2026-11-01
CSV
run_attestd registry import licences "$C/licences.csv"
expect_match "licences: imported" '3 records: 3 new, 0 updated, 0 unchanged' "$OUT"
expect_eq "licences: accents and apostrophes kept" "LÉGER-D'ALMEIDA" \
	"$(sql "SELECT surname FROM attestd.licences WHERE licence = '190101300011'")"
sed 's/2003-02-01,2025-06-01,2028-06-01,valid,/2003-02-01,2025-06-01,2028-06-01,suspended,2026-10-01/' "$C/licences.csv" > "$C/licences2.csv"
run_attestd registry import licences "$C/licences2.csv"
expect_match "licences: one update" '3 records: 0 new, 1 updated, 2 unchanged' "$OUT"
printf 'licence,surname,given_names,birth_date,issued,probation_end,status,status_date\nabc,X,Y,1990-01-01,2010-01-01,,cancelled,\n' > "$C/bad-lic.csv"
run_attestd registry import licences "$C/bad-lic.csv"
expect_match "licences: bad number" 'record 1: licence: "abc" is not a licence number' "$ERR"
expect_match "licences: status date required" 'record 1: status_date: a cancelled licence needs' "$ERR"

# --- events ----------------------------------------------------------------------
cat > "$C/events.csv" <<'CSV'
licence,effective_date,kind,points,ref
120575300042,2009-06-01,grant,12,G-120575300042
120575300042,2026-03-01,retrait,-5,R-2026-0001
210412300077,2025-06-01,grant,6,G-210412300077
210412300077,2026-06-01,probation_increment,+2,P-2026-0007
CSV
run_attestd registry import events "$C/events.csv"
expect_match "events: imported" '4 records: 4 new, 0 updated, 0 unchanged' "$OUT"
expect_eq "events: signed points stored" "-5 2" \
	"$(sql "SELECT string_agg(points::text, ' ' ORDER BY ref DESC) FROM attestd.licence_events WHERE ref IN ('R-2026-0001', 'P-2026-0007')")"
run_attestd registry import events "$C/events.csv"
expect_match "events: re-import is a no-op" '4 records: 0 new, 0 updated, 4 unchanged' "$OUT"

sed 's/R-2026-0001$/R-2026-0001/; s/retrait,-5/retrait,-4/' "$C/events.csv" > "$C/events-changed.csv"
run_attestd registry import events "$C/events-changed.csv"
expect_eq "events: changed content of a known ref: exit 1" 1 "$RC"
expect_match "events: immutable" 'record 2: ref: "R-2026-0001" is already recorded with other content' "$ERR"

cat > "$C/bad-events.csv" <<'CSV'
licence,effective_date,kind,points,ref
999999999999,2026-01-01,grant,12,G-9
120575300042,2026-01-01,retrait,3,R-X
120575300042,2026-01-01,bonus,1,B-X
120575300042,2026-01-01,stage_credit,4,S-1
1205753000421234,2026-01-01,retrait,-1,R-Y
12057530004a,2026-01-01,retrait,-1,R-Z
CSV
run_attestd registry import events "$C/bad-events.csv"
expect_eq "bad events: exit 1" 1 "$RC"
# The format is checked without a regex, and only a well-formed number is
# looked up in the registry: a malformed one gets one message, not two.
expect_match "events: 16 characters are not a licence number" \
	'record 5: licence: "1205753000421234" is not a licence number' "$ERR"
expect_match "events: a lower-case letter is not in a licence number" \
	'record 6: licence: "12057530004a" is not a licence number' "$ERR"
expect_no_match "events: a malformed number is not also said to be unknown" \
	'record [56]: licence: .* is not in the licence registry' "$ERR"
expect_match "events: unknown licence" 'record 1: licence: "999999999999" is not in the licence registry' "$ERR"
expect_match "events: retrait sign" 'record 2: points: "3" must be -1 to -12 for a retrait' "$ERR"
expect_match "events: unknown kind" 'record 3: kind: "bonus" must be' "$ERR"
expect_eq "bad events: the good record was not imported either" "0" \
	"$(sql "SELECT count(*) FROM attestd.licence_events WHERE ref = 'S-1'")"

# An event, a balance or a balance-history row names a licence of the
# registry, whoever writes it: checked once per statement since 016 (the
# foreign keys' query per row was half the cost of an import's inserts).
# The SQLSTATE of a statement run as the superuser (who may also delete).
sqlstate() { psql -X -At -q -v VERBOSITY=verbose -U "$PG_SUPERUSER" -d "$DB" -c "$1" 2>&1 |
	sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p'; }
expect_eq "unknown licence: an event refused (23503)" "23503" \
	"$(sqlstate "INSERT INTO attestd.licence_events (licence, effective_date, kind, points, ref)
		VALUES ('120575300042', '2026-01-02', 'retrait', -1, 'K-1'), ('999999999999', '2026-01-02', 'retrait', -1, 'K-2')")"
expect_eq "unknown licence: nor the known one of the same statement" "0" \
	"$(sql "SELECT count(*) FROM attestd.licence_events WHERE ref = 'K-1'")"
expect_eq "unknown licence: a balance refused (23503)" "23503" \
	"$(sqlstate "INSERT INTO attestd.licence_balances (licence, balance, ceiling) VALUES ('999999999999', 12, 12)")"
expect_eq "unknown licence: a balance renamed to one refused (23503)" "23503" \
	"$(sqlstate "UPDATE attestd.licence_balances SET licence = '999999999999' WHERE licence = '120575300042'")"
expect_eq "unknown licence: a history row refused (23503)" "23503" \
	"$(sqlstate "INSERT INTO attestd.balance_history (licence, old_balance, new_balance, cause) VALUES ('999999999999', NULL, 12, 'test')")"
expect_eq "known licence: a history row accepted" "" \
	"$(sqlstate "INSERT INTO attestd.balance_history (licence, old_balance, new_balance, cause) VALUES ('120575300042', 7, 7, 'test')")"
expect_eq "a licence with events: not deleted (23503)" "23503" \
	"$(sqlstate "DELETE FROM attestd.licences WHERE licence = '210412300077'")"
expect_eq "a licence with history: not renumbered (23503)" "23503" \
	"$(sqlstate "UPDATE attestd.licences SET licence = '999999999999' WHERE licence = '120575300042'")"
expect_eq "a licence nothing names: deleted" "" \
	"$(sqlstate "INSERT INTO attestd.licences (licence, surname, given_names, birth_date, issued, status)
		VALUES ('888888888888', 'X', 'Y', '1980-01-01', '2000-01-01', 'valid');
		DELETE FROM attestd.licences WHERE licence = '888888888888'")"
expect_eq "refused statements left nothing" "0|0|1" \
	"$(sql "SELECT (SELECT count(*) FROM attestd.licence_events WHERE licence = '999999999999'),
		(SELECT count(*) FROM attestd.licence_balances WHERE licence = '999999999999'),
		(SELECT count(*) FROM attestd.licences WHERE licence = '210412300077')")"

# A deadlock: another transaction holds the second licence, waits until the
# import (which has locked the first) waits for it, then asks for the
# first. PostgreSQL aborts the import, the first waiter; it runs again.
sed -e 's/^120575300042,MARTIN,Claire/120575300042,MARTIN,Claire Anne/' \
    -e 's/^210412300077,NGUYEN,Bao/210412300077,NGUYEN,Bao Long/' "$C/licences2.csv" > "$C/licences3.csv"
# The other transaction never runs the deadlock check itself (a superuser's
# session, deadlock_timeout raised): which one PostgreSQL aborts must not
# depend on which backend a loaded machine wakes first.
PGAPPNAME=test_locker psql -X -q -v ON_ERROR_STOP=1 -U "$PG_SUPERUSER" -d "$DB" >"$WORK/locker.out" 2>&1 <<'SQL' &
SET deadlock_timeout = '10min';
DO $$
BEGIN
	PERFORM 1 FROM attestd.licences WHERE licence = '210412300077' FOR UPDATE;
	FOR i IN 1 .. 6000 LOOP
		PERFORM pg_stat_clear_snapshot();
		EXIT WHEN EXISTS (SELECT FROM pg_locks l JOIN pg_stat_activity a USING (pid)
				  WHERE NOT l.granted AND a.datname = current_database()
				  AND a.application_name = 'attestd');
		PERFORM pg_sleep(0.05);
	END LOOP;
	PERFORM 1 FROM attestd.licences WHERE licence = '120575300042' FOR UPDATE;
	PERFORM pg_sleep(1);
END $$;
SQL
locker=$!
# The import must come after the other transaction holds its row: it
# sleeps in its loop only once it does.
locker_holds() { [ "$(psql -X -At -U "$PG_SUPERUSER" -d "$DB" -c "SELECT count(*) FROM pg_stat_activity
	WHERE application_name = 'test_locker' AND wait_event = 'PgSleep'")" = 1 ]; }
wait_until 60 locker_holds
run_attestd registry import licences "$C/licences3.csv"
wait $locker
expect_eq "deadlocked import: exit 0" 0 "$RC"
expect_match "deadlocked import: run again, and says so" 'deadlock detected.*importing again \(attempt 2 of 5\)' "$ERR"
expect_match "deadlocked import: counts of the import that committed" '3 records: 0 new, 2 updated, 1 unchanged' "$OUT"
expect_eq "deadlocked import: both rows updated" "Claire Anne|Bao Long" \
	"$(sql "SELECT string_agg(given_names, '|' ORDER BY licence) FROM attestd.licences WHERE licence IN ('120575300042', '210412300077')")"
expect_eq "the other transaction was not the victim" "" "$(<"$WORK/locker.out")"

# More problems than listed: the count of the rest is given.
{ echo 'licence,effective_date,kind,points,ref'; for i in $(seq 150); do echo "X,2026-01-01,grant,12,Z-$i"; done; } > "$C/many.csv"
run_attestd registry import events "$C/many.csv"
expect_match "many problems: the rest counted" 'and [0-9]+ more problems' "$ERR"

finish
