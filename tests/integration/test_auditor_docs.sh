#!/usr/bin/env bash
# A database an auditor can read (issue 18 §4): audit.reason_codes holds
# every code of the daemon's table (daemon/reason.def) with its French label
# and rule, and db migrate keeps it so; every view, table and column of the
# audit schema has a comment; a refused privilege is said in one sentence;
# a quarantined file's .reason gives its reception time in ISO 8601 with
# its offset; the README's query runs as the auditor.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.sh"
scenario_init || { fail "scenario_init"; finish; exit 1; }

# The C table, read from its source (entries span lines; the header's
# example does not match).
perl -0777 -ne 'while (/REASON\(\s*\w+,\s*"([a-z0-9_]+)",\s*\w+,\s*\w+,\s*"(?:[^"\\]|\\.)*",\s*"([^"]*)",\s*"([^"]*)"\)/g) { print "$1\t$2\t$3\n" }' \
	"$TOP/daemon/reason.def" | LC_ALL=C sort > "$WORK/reason.def.tsv"
n_def=$(wc -l < "$WORK/reason.def.tsv")
if [ "$n_def" -ge 50 ]; then pass "reason.def read ($n_def codes)"; else fail "reason.def read" "only $n_def codes"; fi
codes_in_db() { sql "COPY (SELECT code, label_fr, rule FROM audit.reason_codes WHERE NOT retired ORDER BY code COLLATE \"C\") TO STDOUT"; }
codes_in_db > "$WORK/reason.db.tsv"
expect_eq "every code of the C table is in audit.reason_codes, with its label and rule" "" \
	"$(diff "$WORK/reason.def.tsv" "$WORK/reason.db.tsv")"
expect_eq "a French label for signature_invalid" "signature invalide|rules.md §2; exchange-format.md §5|permanent|document" \
	"$(sql "SELECT label_fr || '|' || rule || '|' || class || '|' || level FROM audit.reason_codes WHERE code = 'signature_invalid'")"

# Drift mended: a label edited by hand and a code the binary does not know.
sql "UPDATE audit.reason_codes SET label_fr = 'edited' WHERE code = 'late_transmission'" >/dev/null
sql "INSERT INTO audit.reason_codes VALUES ('old_code', 'ancien code', '', 'permanent', 'document', 'gone', false)" >/dev/null
run_attestd db migrate
expect_eq "db migrate again: exit 0" 0 "$RC"
codes_in_db > "$WORK/reason.db2.tsv"
expect_eq "db migrate rewrites the codes from the binary" "" "$(diff "$WORK/reason.def.tsv" "$WORK/reason.db2.tsv")"
expect_eq "a code the binary no longer writes stays, retired" "t" \
	"$(sql "SELECT retired FROM audit.reason_codes WHERE code = 'old_code'")"

# Comments on everything an auditor sees.
expect_eq "every view and table of audit has a comment" "" \
	"$(sql "SELECT string_agg(c.relname, ' ') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'audit' AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
		AND coalesce(obj_description(c.oid, 'pg_class'), '') = ''")"
expect_eq "every column of audit has a comment" "" \
	"$(sql "SELECT string_agg(c.relname || '.' || a.attname, ' ') FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE n.nspname = 'audit' AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
		AND coalesce(col_description(c.oid, a.attnum), '') = ''")"
described=$(psql -X -U attestd_auditor -d "$DB" -c '\d+ audit.attestation_decisions' 2>&1)
expect_match "\\d+ audit.attestation_decisions explains the columns" \
	'^ decision +\| text .*\| credited \(points ajoutés\), no_credit' "$described"
expect_eq "the auditor reads the codes" "$n_def" \
	"$(psql -X -At -U attestd_auditor -d "$DB" -c 'SELECT count(*) FROM audit.reason_codes WHERE NOT retired' 2>&1)"

# A rejected file: its .reason, and the README's query over it.
printf '<attestations xmlns="urn:ssr:stage:1"' > "$WORK/out/broken.xml"
drop broken.xml
run_once
expect_match "the broken file is rejected" 'file=broken.xml .*outcome=rejected reason=not_well_formed' "$ERR"
reason_file=$(find "$WORK/quarantine" -name '*broken.xml.reason' | head -n 1)
expect_match ".reason: reception time in ISO 8601 with its offset" \
	'^received: 20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9][+-][0-9]{2}:[0-9]{2}$' \
	"$(cat "$reason_file" 2>&1)"
query=$(sed -n '/^<!-- test_auditor_docs.sh runs this query -->$/,/^```$/p' "$TOP/README.md" |
	sed -n 's/^psql -U attestd_auditor -d attestd -c "\(.*\)"$/\1/p')
expect_match "the README's query is there" '^SELECT .*audit.reason_codes' "$query"
expect_eq "the README's query, as the auditor" "rejected|not_well_formed|XML mal formé|rules.md §2|1" \
	"$(psql -X -At -U attestd_auditor -d "$DB" -c "$query" 2>&1)"

# A command the auditor's role may not run: one sentence, not PostgreSQL's.
sed "s/user=attestd\$/user=attestd_auditor/" "$CONF" > "$WORK/auditor.conf"
run_attestd review list --config "$WORK/auditor.conf"
expect_eq "review list as the auditor: refused as a configuration fault (exit 3, never 5)" 3 "$RC"
expect_match "the refusal says what the role may and may not do" \
	"^attestd: the database role attestd_auditor may not do this \(permission denied for [a-z]+ [a-z_.]+\): an auditor's role \(attestd_auditor\) may only read the audit schema, with psql or 'attestd audit', and every other command must run as the attestd role" "$ERR"
run_attestd audit verify-log --config "$WORK/auditor.conf"
expect_eq "what the auditor may do still works" 0 "$RC"

finish
