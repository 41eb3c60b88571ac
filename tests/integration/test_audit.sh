#!/usr/bin/env bash
# The audit log: append-only, hash-chained; verify-log names the first
# broken row for an edit, a deletion in the middle, and a cut at the end;
# the auditor role reads it and writes nothing.
. "$(dirname "$0")/lib.sh"
fresh_db
run_attestd db migrate
for i in 1 2 3 4 5; do sql "SELECT audit.append('test', 'check', 'row', 'n=$i')" >/dev/null; done

run_attestd audit verify-log
expect_eq "intact chain: exit 0" 0 "$RC"
expect_match "intact chain: said" '^audit log: 5 rows, hash chain intact$' "$OUT"

# The auditor reads the log and the views, and can neither append nor edit.
expect_eq "auditor reads the log" "5" "$(psql -X -At -U attestd_auditor -d "$DB" -c 'SELECT count(*) FROM audit.log')"
expect_match "auditor cannot append" 'permission denied' \
	"$(psql -X -At -U attestd_auditor -d "$DB" -c "SELECT audit.append('x', 'y', 'z', '')" 2>&1)"
expect_match "auditor cannot read the tables behind" 'permission denied' \
	"$(psql -X -At -U attestd_auditor -d "$DB" -c 'SELECT count(*) FROM attestd.licences' 2>&1)"
sed "s/user=attestd\$/user=attestd_auditor/" "$CONF" > "$WORK/auditor.conf"
run_attestd audit verify-log --config "$WORK/auditor.conf"
expect_eq "verify-log runs as the auditor" 0 "$RC"

# Tampering needs the superuser (the trigger refuses everyone else).
tamper() { pg_admin -q -d "$DB" -c "ALTER TABLE audit.log_entries DISABLE TRIGGER USER" -c "$1" \
	-c "ALTER TABLE audit.log_entries ENABLE TRIGGER USER" >/dev/null; }

tamper "UPDATE audit.log_entries SET detail = 'n=33' WHERE seq = 3"
run_attestd audit verify-log
expect_eq "edited row: exit 1" 1 "$RC"
expect_match "edited row: named" '^audit log: BROKEN at row 3: its content does not match its hash' "$OUT"
tamper "UPDATE audit.log_entries SET detail = 'n=3' WHERE seq = 3"
run_attestd audit verify-log
expect_eq "restored: intact again" 0 "$RC"

tamper "DELETE FROM audit.log_entries WHERE seq = 2"
run_attestd audit verify-log
expect_match "deleted row: named" '^audit log: BROKEN at row 3: row 2 missing' "$OUT"

# Anchors: the head logged outside the database (action=audit-anchor) catches
# a chain rewritten from its first row on, which chains again.
fresh_db t_audit_anchor
run_attestd db migrate
for i in 1 2 3; do sql "SELECT audit.append('test', 'check', 'row', 'n=$i')" >/dev/null; done
head=$(sql "SELECT seq || ':' || hash FROM audit.log_head")
run_attestd audit verify-log "$head" "1:$(sql "SELECT hash FROM audit.log WHERE seq = 1")"
expect_eq "anchors that hold: exit 0" 0 "$RC"
expect_match "anchors that hold: said" '^audit log: anchor 3 matches$' "$OUT"
# The owner rewrites every row (another detail in row 2), hashes recomputed
# in order, head included: the chain alone cannot tell.
tamper "UPDATE audit.log_entries SET detail = 'n=22' WHERE seq = 2"
for seq in 2 3; do
	tamper "UPDATE audit.log_entries e SET prev_hash = p.hash FROM audit.log_entries p WHERE p.seq = e.seq - 1 AND e.seq = $seq"
	tamper "UPDATE audit.log_entries SET hash = audit.row_hash(prev_hash, seq, at, actor, action, subject, detail) WHERE seq = $seq"
done
pg_admin -q -d "$DB" -c "UPDATE audit.log_head SET hash = (SELECT hash FROM audit.log_entries WHERE seq = 3)" >/dev/null
run_attestd audit verify-log
expect_match "a rewritten chain chains again" '^audit log: 3 rows, hash chain intact$' "$OUT"
run_attestd audit verify-log "$head"
expect_eq "the logged anchor catches it: exit 1" 1 "$RC"
expect_match "the logged anchor catches it: said" "^audit log: BROKEN: row 3 has another hash, not the hash ${head#3:} logged for it" "$OUT"
run_attestd audit verify-log "9:${head#3:}"
expect_match "an anchor past the end: the row is gone" '^audit log: BROKEN: row 9 is gone' "$OUT"
run_attestd audit verify-log "3-abc"
expect_eq "a malformed anchor: usage error" 2 "$RC"
expect_match "a malformed anchor: says the form" 'is not an anchor SEQ:HASH' "$ERR"

fresh_db t_audit_cut
run_attestd db migrate
for i in 1 2 3; do sql "SELECT audit.append('test', 'check', 'row', 'n=$i')" >/dev/null; done
tamper "DELETE FROM audit.log_entries WHERE seq = 3"
run_attestd audit verify-log
expect_match "rows cut off the end: named" '^audit log: BROKEN at row 3: the log ends at row 2 but its head records row 3' "$OUT"

finish
