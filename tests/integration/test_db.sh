#!/usr/bin/env bash
# Migrations: fresh, re-run, status, a database newer than the binary, a
# migration whose text changed, missing roles.  On a cluster of this file's
# own: it renames a role the other files, side by side, rely on.
. "$(dirname "$0")/lib.sh"
PG2=$WORK/pg
pg_start "$PG2" || { fail "a cluster of this file's own"; finish; exit 1; }
trap 'pg_stop "$PG2"; [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT
fresh_db

run_attestd db status
expect_eq "status before migrating: exit 4 (pending)" 4 "$RC"
expect_match "status lists pending migrations" '^001_registries\.sql +pending' "$OUT"
expect_match "status says what to do" "run 'attestd db migrate'" "$ERR"

run_attestd db migrate
expect_eq "migrate on a fresh database: exit 0" 0 "$RC"
expect_match "migrate names what it applied" '^applied 001_registries\.sql' "$OUT"
expect_eq "registries exist" "centre_certificates centres facilitators licence_events licences" \
	"$(sql "SELECT string_agg(tablename, ' ' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'attestd' AND tablename IN ('centres', 'centre_certificates', 'facilitators', 'licences', 'licence_events')")"
expect_eq "the auditor role reads the audit views and nothing else" "t|f|f" \
	"$(sql "SELECT has_table_privilege('attestd_auditor', 'audit.attestation_decisions', 'SELECT'), has_table_privilege('attestd_auditor', 'attestd.licences', 'SELECT'), has_function_privilege('attestd_auditor', 'audit.append(text, text, text, text)', 'EXECUTE')")"
sql "SELECT audit.append('test', 'check', 'chain', 'one')" >/dev/null
sql "SELECT audit.append('test', 'check', 'chain', 'two')" >/dev/null
expect_eq "audit log rows chain their hashes" "t" \
	"$(sql "SELECT bool_and(prev_hash = lag_hash AND hash = audit.row_hash(prev_hash, seq, at, actor, action, subject, detail)) FROM (SELECT *, coalesce(lag(hash) OVER (ORDER BY seq), repeat('0', 64)) AS lag_hash FROM audit.log) l")"
expect_match "audit log refuses updates" 'append-only' "$(sql "UPDATE audit.log_entries SET detail = 'x'" 2>&1)"
expect_match "audit log refuses deletes" 'append-only' "$(sql "DELETE FROM audit.log_entries" 2>&1)"
n_applied=$(sql "SELECT count(*) FROM attestd.schema_migrations")
expect_eq "every embedded migration recorded" "$(ls "$TOP"/sql/[0-9][0-9][0-9]_*.sql | wc -l)" "$n_applied"

run_attestd db migrate
expect_eq "re-run: exit 0" 0 "$RC"
expect_match "re-run: up to date" 'schema is up to date' "$OUT"
expect_no_match "re-run: applies nothing" '^applied' "$OUT"
expect_eq "re-run: no new rows" "$n_applied" "$(sql "SELECT count(*) FROM attestd.schema_migrations")"

run_attestd db status
expect_eq "status when up to date: exit 0" 0 "$RC"
expect_match "status shows applied" '^001_registries\.sql +applied ' "$OUT"

# Two migrators at once: the advisory lock makes one wait for the other.
fresh_db t_db_race
"$ATTESTD" db migrate >"$WORK/m1" 2>&1 & p1=$!
"$ATTESTD" db migrate >"$WORK/m2" 2>&1 & p2=$!
wait $p1; r1=$?; wait $p2; r2=$?
expect_eq "concurrent migrators both succeed" "0 0" "$r1 $r2"
expect_eq "concurrent migrators apply each migration once" "$n_applied" \
	"$(sql "SELECT count(*) FROM attestd.schema_migrations")"

sql "INSERT INTO attestd.schema_migrations (version, name, sha256) VALUES (999, '999_future.sql', 'x')" >/dev/null
run_attestd db migrate
expect_eq "database newer than the binary: migrate exits 4" 4 "$RC"
expect_match "newer database: says so" 'schema version 999, newer than this binary' "$ERR"
run_attestd db status
expect_eq "database newer than the binary: status exits 4" 4 "$RC"
sql "DELETE FROM attestd.schema_migrations WHERE version = 999" >/dev/null

sql "UPDATE attestd.schema_migrations SET sha256 = 'edited' WHERE version = 1" >/dev/null
run_attestd db migrate
expect_eq "changed migration text: exit 4" 4 "$RC"
expect_match "changed migration text: named" '001_registries.sql was applied with another text' "$ERR"

# A cluster without the roles: migrate says what the DBA must run.
fresh_db t_db_noroles
pg_admin -q -c "ALTER ROLE attestd_auditor RENAME TO attestd_auditor_away" >/dev/null
run_attestd db migrate
pg_admin -q -c "ALTER ROLE attestd_auditor_away RENAME TO attestd_auditor" >/dev/null
expect_eq "missing roles: exit 5" 5 "$RC"
expect_match "missing roles: says to run roles.sql" 'run /.*/share/attestd/sql/roles.sql as the PostgreSQL superuser' "$ERR"

finish
