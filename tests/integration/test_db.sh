#!/usr/bin/env bash
# Migrations: fresh, re-run, status, a database newer than the binary, a
# migration whose text changed, missing roles.
. "$(dirname "$0")/lib.sh"
fresh_db

run_attestd db status
expect_eq "status before migrating: exit 4 (pending)" 4 "$RC"
expect_match "status lists pending migrations" '^001_registries\.sql +pending' "$OUT"
expect_match "status says what to do" "run 'attestd db migrate'" "$ERR"

run_attestd db migrate
expect_eq "migrate on a fresh database: exit 0" 0 "$RC"
expect_match "migrate names what it applied" '^applied 001_registries\.sql' "$OUT"
expect_eq "registries exist" "centre_certificates centres facilitators licence_events licences schema_migrations" \
	"$(sql "SELECT string_agg(tablename, ' ' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'attestd'")"
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
expect_match "missing roles: says to run roles.sql" 'run sql/roles.sql as superuser' "$ERR"

finish
