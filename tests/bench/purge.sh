#!/usr/bin/env bash
# make bench-purge [STAGES_PER_YEAR=17000]: the retention purge on three
# years and a month of national volume (≈ 1 M attestations, 1 M
# participants, 2 M decisions), generated straight into the tables
# (purge_data.sql), on a throwaway cluster with PostgreSQL's durable
# defaults (fsync, full-page writes, synchronous commit).  Measures:
#   - the cost of a delete without the foreign-key indexes of 004 (20
#     stages, rolled back), to show why they are there;
#   - the purge of the month that is due (one transaction), while a
#     pipeline-like transaction runs 20 times a second beside it (its worst
#     latency says whether the purge gets in the daemon's way);
#   - the next day's purge (the daily timer's steady state);
#   - WAL written, dead rows and the VACUUM that follows.
# Measured, not asserted.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/integration/pg.sh"
PER_YEAR=${STAGES_PER_YEAR:-17000}
ATTESTD=${ATTESTD:-$TOP/attestd}
W=$(mktemp -d "${TMPDIR:-/tmp}/attestd-bench-purge.XXXXXX")
trap 'pg_stop "$W/pg"; rm -rf "$W"' EXIT

# The test harness's cluster trades durability for speed; a purge is
# measured with the defaults a production server keeps.
pg_start "$W/pg" >/dev/null
pg_run_as "$PG_BIN/pg_ctl" -D "$W/pg/data" -m fast -w stop >/dev/null
pg_run_as "$PG_BIN/pg_ctl" -D "$W/pg/data" -l "$W/pg/postgres.log" -w -t 60 \
	-o "-c listen_addresses='' -k $W/pg/socket" start >/dev/null
pg_createdb bench
export PGDATABASE=bench
mkdir -p "$W/archive" "$W/quarantine"
: > "$W/ca.pem"
cat > "$W/attestd.conf" <<CONF
[paths]
archive = $W/archive
quarantine = $W/quarantine
[database]
conninfo = host=$PGHOST dbname=bench user=attestd
[trust]
centres_ca = $W/ca.pem
[prefecture]
departements = 28
CONF
export ATTESTD_CONFIG=$W/attestd.conf
"$ATTESTD" db migrate >/dev/null

psql_q() { psql -X -At -v ON_ERROR_STOP=1 -c "$1"; }
secs() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }

# Stages end from 37 months ago to 3 days ago: today, the oldest month is due.
TODAY=$(date +%F)
FIRST=$(date -d "$TODAY -37 months" +%F)
DAYS=$(( ( $(date -d "$TODAY -3 days" +%s) - $(date -d "$FIRST" +%s) ) / 86400 ))
STAGES=$(( PER_YEAR * DAYS / 365 ))
echo "generating $STAGES stages (last days $FIRST + $DAYS days), 20 trainees each"
s=$(date +%s.%N)
psql -X -q -v stages="$STAGES" -v days="$DAYS" -v first="$FIRST" -v trainees=20 \
	-f "$TOP/tests/bench/purge_data.sql" >/dev/null
echo "  generated in $(secs "$s") s"
psql_q "SELECT '  ' || rpad(relname, 20) || lpad(n_live_tup::text, 9) || ' rows ' || lpad(pg_size_pretty(pg_total_relation_size(relid)), 8)
	FROM pg_stat_user_tables WHERE schemaname = 'attestd' AND n_live_tup > 0 ORDER BY pg_total_relation_size(relid) DESC"

# The archive and quarantine files of what is due today and tomorrow (their
# content is short: the purge's own cost is measured, plus a hashing rate).
TOMORROW=$(date -d "$TODAY +1 day" +%F)
psql -X -At -F $'\t' -v ON_ERROR_STOP=1 -c "
	WITH sub AS (SELECT s.id, s.sha256, s.status FROM attestd.submissions s
		JOIN attestd.stages g ON g.id = s.stage_id
		WHERE (g.last_day + interval '3 years')::date < '$TOMORROW')
	SELECT 'archive/' || substr(sha256, 1, 2) || '/' || substr(sha256, 3, 2) || '/' || sha256, 'orig' || id
	  FROM sub WHERE status = 'accepted'
	UNION SELECT 'archive/' || substr(id_sha256, 1, 2) || '/' || substr(id_sha256, 3, 2) || '/' || id_sha256,
		'scan' || licence FROM attestd.signin_participants WHERE submission_id IN (SELECT id FROM sub)
	UNION SELECT 'quarantine/' || inbox_dir || '/' || claim_id || '.' || file_name, 'orig' || id
	  FROM attestd.submissions WHERE status = 'rejected' AND stage_id IS NULL
	   AND ((received_at AT TIME ZONE 'Europe/Paris')::date + interval '3 years')::date < '$TOMORROW'" > "$W/files.tsv"
(cd "$W" && cut -f1 files.tsv | sed 's|/[^/]*$||' | sort -u | xargs mkdir -p)
(cd "$W" && while IFS=$'\t' read -r p c; do printf %s "$c" > "$p"; done < files.tsv)
echo "  $(wc -l < "$W/files.tsv") archive and quarantine files for the stages due today and tomorrow"

echo
echo "without the foreign-key indexes of 004 (20 stages, rolled back):"
psql -X -q -v ON_ERROR_STOP=1 > "$W/noindex.txt" <<'SQL'
BEGIN;
DROP INDEX attestd.attestations_submission_id_idx;
DROP INDEX attestd.submissions_duplicate_of_idx;
SELECT array_agg(id) AS ids FROM (SELECT id FROM attestd.stages ORDER BY last_day, id LIMIT 20) s \gset
SELECT array_agg(id) AS sids FROM attestd.submissions WHERE stage_id = ANY(:'ids') \gset
DELETE FROM attestd.decision_history WHERE attestation_id IN (SELECT id FROM attestd.attestations WHERE stage_id = ANY(:'ids'));
DELETE FROM attestd.attestations WHERE stage_id = ANY(:'ids');
DELETE FROM attestd.signin_participants WHERE submission_id = ANY(:'sids');
DELETE FROM attestd.signin_sheets WHERE stage_id = ANY(:'ids');
DELETE FROM attestd.receipts WHERE submission_id = ANY(:'sids');
SELECT clock_timestamp() AS t0 \gset
DELETE FROM attestd.submissions WHERE id = ANY(:'sids');
SELECT 'submissions', cardinality(:'sids'::bigint[]), extract(epoch FROM clock_timestamp() - :'t0') \g (format=unaligned tuples_only fieldsep=' ')
ROLLBACK;
SQL
read -r _ n t < <(grep '^submissions' "$W/noindex.txt")
due=$(psql_q "SELECT count(*) FROM attestd.submissions s JOIN attestd.stages g ON g.id = s.stage_id WHERE (g.last_day + interval '3 years')::date < '$TODAY'")
awk -v n="$n" -v t="$t" -v due="$due" 'BEGIN {
	printf "  deleting %d submissions: %.1f s (%.0f ms each: a scan of attestations per row)\n", n, t, 1000 * t / n
	printf "  the %d submissions due today would take about %.0f min\n", due, t / n * due / 60 }'

echo
echo "the month due today, while a pipeline-like transaction runs 20 times a second:"
cat > "$W/tick.sql" <<'SQL'
\set n random(1, 1000000000)
BEGIN;
INSERT INTO attestd.stages (approval, ref, departement, first_day, last_day)
VALUES ('R2402800001', 'TICK-' || :n, '28', current_date - 1, current_date) ON CONFLICT DO NOTHING;
SELECT audit.append('bench', 'bench.tick', 'pgbench', '');
COMMIT;
SQL
"$ATTESTD" purge --dry-run > "$W/dry.txt" 2>&1 || { cat "$W/dry.txt"; exit 1; }
(cd "$W" && "$PG_BIN/pgbench" -n -f tick.sql -c 1 -R 20 -T 600 -l --log-prefix=tick bench >/dev/null 2>&1) &
bench_pid=$!
sleep 3
wal0=$(psql_q "SELECT pg_current_wal_lsn()")
s=$(date +%s.%N)
"$ATTESTD" purge > "$W/purge.txt" 2>&1 || { cat "$W/purge.txt"; exit 1; }
took=$(secs "$s")
wal=$(psql_q "SELECT pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), '$wal0'))")
sleep 3
kill "$bench_pid" 2>/dev/null; wait "$bench_pid" 2>/dev/null || true
sed 's/^/  /' "$W/purge.txt"
echo "  in all $took s, $wal of WAL"
# pgbench log: client, tx, latency (us), ...: the worst and the 99th percentile.
cat "$W"/tick.* | awk '{ print $3 }' | sort -n | awk '{ v[NR] = $1 } END {
	if (NR == 0) { print "  (no pipeline-like transactions logged)"; exit }
	printf "  pipeline-like transactions beside it: %d, median %.1f ms, p99 %.1f ms, worst %.1f ms\n",
		NR, v[int(NR / 2) + 1] / 1000, v[int(NR * 0.99) + 1] / 1000, v[NR] / 1000 }'

echo
echo "dead rows left, and the VACUUM that makes their space reusable:"
psql_q "SELECT '  ' || rpad(relname, 20) || lpad(n_dead_tup::text, 9) || ' dead' FROM pg_stat_user_tables
	WHERE schemaname = 'attestd' AND n_dead_tup > 1000 ORDER BY n_dead_tup DESC"
s=$(date +%s.%N)
psql_q "VACUUM attestd.decision_history, attestd.attestations, attestd.signin_participants,
	attestd.signin_sheets, attestd.receipts, attestd.submissions, attestd.stages" >/dev/null
echo "  VACUUM of the purged tables: $(secs "$s") s (autovacuum does it in the background)"

echo
echo "the next day (the daily timer's steady state):"
s=$(date +%s.%N)
ATTESTD_TEST_NOW="${TOMORROW}T03:00:00+01:00" "$ATTESTD" purge > "$W/day.txt" 2>&1 || { cat "$W/day.txt"; exit 1; }
sed -n 's/^/  /; /^  transaction\|attestations  /p' "$W/day.txt"
echo "  in all $(secs "$s") s"

echo
n_files=1000
mkdir -p "$W/hash"
head -c $((200 * 1024 * n_files)) /dev/urandom | split -b $((200 * 1024)) - "$W/hash/f"
sync
s=$(date +%s.%N)
cat "$W"/hash/f* | sha256sum >/dev/null
echo "re-hashing before removal: $n_files scans of 200 KiB in $(secs "$s") s (from the page cache; disk-bound otherwise)"
