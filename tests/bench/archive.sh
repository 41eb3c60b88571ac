#!/usr/bin/env bash
# archive.sh - years of national volume, and what it costs attestd.
#
#   bash tests/bench/archive.sh bench [YEARS]      (make bench-archive [YEARS=3])
#       a throwaway cluster; the same measures on an empty database and on
#       one holding YEARS years of national volume (archive_data.sql) with
#       its archive directory, side by side: run --once files/s, start-up
#       (reconcile) time and peak RSS, status, each `attestd audit`
#       command's p50/p95, database and archive size per year, and the
#       purge of one year while files keep being processed.  Measured, not
#       asserted.
#
#   bash tests/bench/archive.sh generate DB DIR [YEARS]
#       only the data: into database DB of the running cluster that PGHOST
#       (and PGPORT) name, schema migrated by `attestd db migrate`, and
#       DIR/archive, DIR/quarantine; DIR/attestd.conf points at them.
#       psql connects as PGUSER, which must be the cluster's superuser
#       (attestd_admin in the clusters tests/integration/pg.sh starts):
#       run by hand, `PGUSER=attestd_admin bash tests/bench/archive.sh ...`.
#       The cluster is left running.  Other benchmarks (the console's)
#       call this, or source this file and call archive_generate.
#
# Environment: STAGES_PER_YEAR (35000), LICENCES (1000000), EVENTS
# (3000000), BENCH_STAGES (files of the run --once measures: 2 per stage,
# default 200), BENCH_DIR (default /dev/shm), ATTESTD (default ./attestd),
# BENCH_KEEP=1 (leave the cluster and the directory), BENCH_PURGE=0 (skip
# the purge), BENCH_REUSE=DIR (a directory BENCH_KEEP left: its data again,
# the benchmark's own files and rows forgotten first, the schema migrated
# by this attestd: the same data measured before and after a change),
# BENCH_BEFORE=BIN (an attestd built from the code before a change, e.g.
# without its migration: each database is created, generated and measured
# with BIN first, then migrated by this attestd and measured again, so one
# run prints empty and populated, before and after, on the same data).
set -euo pipefail
ARCHIVE_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ATTESTD=${ATTESTD:-$ARCHIVE_TOP/attestd}
ARCHIVE_GEN=${ARCHIVE_GEN:-$ARCHIVE_TOP/${BUILD:-build/release}/tests/bench_gen}

# archive_conf DB DIR: DIR/attestd.conf for database DB, paths under DIR.
archive_conf() {
	local db=$1 d=$2
	mkdir -p "$d"/{inbox,outbox,spool,archive,quarantine}
	[ -f "$d/ca.pem" ] || : > "$d/ca.pem"
	cat > "$d/attestd.conf" <<CONF
[paths]
inbox = $d/inbox
outbox = $d/outbox
spool = $d/spool
archive = $d/archive
quarantine = $d/quarantine

[database]
conninfo = host=$PGHOST port=${PGPORT:-5432} dbname=$db user=attestd

[trust]
centres_ca = ${ARCHIVE_CA:-$d/ca.pem}
${ARCHIVE_TRUST_EXTRA:-}

[prefecture]
departements = 28
timezone = Europe/Paris

[limits]
settle_time = 0s
CONF
}

# archive_generate DB DIR [YEARS [NOW]]: the data (see the header).
archive_generate() {
	local db=$1 d=$2 years=${3:-3} now=${4:-$(date +%F)}
	local per_year=${STAGES_PER_YEAR:-35000}
	local stages=$((per_year * years)) days=$((365 * years)) first
	first=$(date -d "$now -3 days -$days days" +%F)
	[ -x "$ARCHIVE_GEN" ] || { echo "archive.sh: $ARCHIVE_GEN missing (make $ARCHIVE_GEN)" >&2; return 1; }
	[ -x "$ATTESTD" ] || { echo "archive.sh: $ATTESTD missing (make attestd)" >&2; return 1; }
	[ -f "$d/attestd.conf" ] || archive_conf "$db" "$d"
	ATTESTD_CONFIG=$d/attestd.conf "$ATTESTD" db migrate >/dev/null
	psql -X -q -d "$db" -v ON_ERROR_STOP=1 -v stages="$stages" -v days="$days" -v first="$first" \
		-v now="$now" -v trainees=20 -v licences="${LICENCES:-1000000}" \
		-v events="${EVENTS:-3000000}" -f "$ARCHIVE_TOP/tests/bench/archive_data.sql" >/dev/null
	# The archive: originals of accepted files, identity scans (content
	# 'orig' || id and 'scan' || licence: their names are their hashes).
	psql -X -At -d "$db" -v ON_ERROR_STOP=1 -c "COPY (
		SELECT 'orig' || id FROM attestd.submissions WHERE status = 'accepted'
		UNION ALL SELECT DISTINCT 'scan' || licence FROM attestd.signin_participants) TO STDOUT" |
		"$ARCHIVE_GEN" archive "$d/archive" >/dev/null
	# The quarantine: each rejected file and its .reason.
	psql -X -At -F $'\t' -d "$db" -v ON_ERROR_STOP=1 -c "SELECT inbox_dir, claim_id || '.' || file_name, id
		FROM attestd.submissions WHERE status = 'rejected'" |
	while IFS=$'\t' read -r dir name id; do
		mkdir -p "$d/quarantine/$dir"
		printf 'orig%s' "$id" > "$d/quarantine/$dir/$name"
		printf 'file: %s\nreason: schema_invalid\n' "$name" > "$d/quarantine/$dir/$name.reason"
	done
	age_dirs "$d"
}

# age_dirs DIR: the archive's and quarantine's directories as years of
# service leave them, last changed a day ago rather than by the generator a
# minute ago (a start compares the directories changed lately).
age_dirs() {
	find "$1/archive" "$1/quarantine" -mindepth 1 -type d -exec touch -d '1 day ago' {} +
}

# --- make bench-archive ----------------------------------------------------------
archive_bench() {
	local years=${1:-3}
	. "$ARCHIVE_TOP/tests/integration/pg.sh"
	local n_stages=${BENCH_STAGES:-200} NOW=2026-11-16T10:00:00+01:00
	local base=${BENCH_DIR:-}
	if [ -z "$base" ]; then
		if [ -d /dev/shm ] && [ -w /dev/shm ]; then base=/dev/shm; else base=${TMPDIR:-/tmp}; fi
	fi
	if [ -n "${BENCH_REUSE:-}" ]; then
		W=$BENCH_REUSE
	else
		W=$(mktemp -d "$base/attestd-archive.XXXXXX")
	fi
	if [ -n "${BENCH_KEEP:-}" ]; then
		trap 'echo "kept: $W (PGHOST=$W/pg/socket)"' EXIT
	else
		trap 'pg_stop "$W/pg"; rm -rf "$W"' EXIT
	fi
	trap 'exit 130' INT TERM
	secs() { date +%s.%N; }
	since() { awk -v s="$1" -v e="$(secs)" 'BEGIN { printf "%.2f", e - s }'; }
	echo "== attestd on $years years of national volume ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
	echo "   work directory $W ($(df -T "$W" | awk 'NR == 2 { print $2 }')), PostgreSQL as the tests run it (fsync off)"
	if [ -z "${BENCH_REUSE:-}" ]; then
		sh "$ARCHIVE_TOP/tests/fixtures/pki.sh" "$W/pki" >/dev/null 2>&1 || { echo "archive.sh: pki.sh failed" >&2; return 1; }
		"$ARCHIVE_GEN" make "$W/pki" "$W/gen" "$n_stages" 2048
	fi
	local fp
	fp=$(openssl x509 -in "$W/pki/centre-rsa.pem" -outform DER | sha256sum | cut -d' ' -f1)
	printf 'approval,name,departement,valid_from,valid_to,cert_sha256\nR2402800010,Centre du banc,28,2024-01-01,,%s\n' \
		"$fp" > "$W/gen/centres.csv"
	printf 'authorisation,role,surname,given_names,valid_from,valid_to\nPSY-28-2019-004,psychologist,DURAND,Anne,2019-01-01,\nBAFM-28-2015-011,road-safety-expert,LEROY,Marc,2015-01-01,\n' \
		> "$W/gen/facilitators.csv"
	pg_start "$W/pg"
	export ARCHIVE_CA=$W/pki/ca-bundle.pem
	export ARCHIVE_TRUST_EXTRA="crl = $W/pki/crl.pem
receipt_key = $W/pki/prefecture-ec.key
receipt_cert = $W/pki/prefecture-ec.pem"
	local t before=${BENCH_BEFORE:-} tags=after
	[ -z "$before" ] || { [ -x "$before" ] || { echo "archive.sh: BENCH_BEFORE=$before is not executable" >&2; return 1; }; tags="before after"; }
	for side in empty full; do
		# The first measure's binary creates and generates the database.
		local first=${before:-$ATTESTD}
		if [ -n "${BENCH_REUSE:-}" ]; then
			forget "$side"
			t=$(secs)
			ATTESTD_CONFIG=$W/$side/attestd.conf "$first" db migrate >/dev/null
			echo "   $side: schema migrated by $first in $(since "$t") s"
		elif [ "$side" = full ]; then
			pg_createdb "$side"
			archive_conf "$side" "$W/$side"
			t=$(secs)
			ATTESTD=$first archive_generate full "$W/full" "$years"
			echo "   generated $years years in $(since "$t") s (schema of $first)"
		else
			pg_createdb "$side"
			archive_conf "$side" "$W/$side"
			ATTESTD_CONFIG=$W/$side/attestd.conf "$first" db migrate >/dev/null
		fi
		for kind in centres facilitators licences events; do
			ATTESTD_CONFIG=$W/$side/attestd.conf "$first" registry import "$kind" "$W/gen/$kind.csv" >/dev/null
		done
		psql -X -q -d "$side" -c "ANALYZE attestd.licences, attestd.licence_events, attestd.centres" >/dev/null
		if [ -n "$before" ]; then
			ATTESTD=$before MEASURING_BEFORE=1 measure "$side" before
			# The same data, migrated by this attestd (its new migrations,
			# their index builds and back-fills, timed), then measured again.
			forget "$side"
			t=$(secs)
			ATTESTD_CONFIG=$W/$side/attestd.conf "$ATTESTD" db migrate >/dev/null
			printf '%s\t%s\n' "migrating to this attestd's schema, s" "$(since "$t")" > "$W/$side/migrate"
			psql -X -q -d "$side" -c "VACUUM ANALYZE attestd.attestations, attestd.stages" >/dev/null
			psql -X -q -d "$side" -c "VACUUM ANALYZE attestd.decision_counts" >/dev/null 2>&1 || true
		fi
		measure "$side" after
		[ -z "$before" ] || cat "$W/$side/migrate" >> "$W/$side/figures.after"
	done
	echo
	local cols=() heads=()
	for side in empty full; do
		for tag in $tags; do
			cols+=("$W/$side/figures.$tag")
			heads+=("$([ $side = empty ] && echo empty || echo "$years years"), $tag")
		done
	done
	# Rows by figure name and its occurrence (a name such as "its peak RSS"
	# recurs under several figures; a figure only one side has shows "-").
	awk -F'\t' -v heads="$(IFS='|'; echo "${heads[*]}")" '
		BEGIN { n = split(heads, h, "|") }
		FNR == 1 { f++ }
		{ k = $1 SUBSEP (++occ[f, $1]); if (!(k in seen)) { seen[k] = ++rows; key[rows] = k; name[rows] = $1 } v[f, k] = $2 }
		END {
			printf "   %-50s", "figure"; for (i = 1; i <= n; i++) printf " %18s", h[i]; printf "\n"
			for (r = 1; r <= rows; r++) {
				printf "   %-50s", name[r]
				for (i = 1; i <= n; i++) printf " %18s", ((i, key[r]) in v) ? v[i, key[r]] : "-"
				printf "\n"
			}
		}' "${cols[@]}"
	local e=${cols[$((${#cols[@]} / 2 - 1))]} fl=${cols[$((${#cols[@]} - 1))]}
	paste "$e" "$fl" | awk -F'\t' -v y="$years" '
		$1 ~ /^database size/ { printf "   database per year of data: %.0f MiB\n", ($4 - $2) / y }
		$1 ~ /^archive size/ { printf "   archive per year of data: %.0f MiB\n", ($4 - $2) / y }
		$1 ~ /^archive: files/ { printf "   archived files per year: %.0f\n", ($4 - $2) / y }'
	echo "   load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	[ ! -e "$W/failed" ] || { echo "archive.sh: a command of this attestd failed (FAILED in the table)" >&2; return 1; }
	if [ "${BENCH_PURGE:-1}" != 0 ]; then purge_year; fi
}

# forget SIDE: the rows and files of the benchmark's own centre (the
# generated data has none), as if its files had never come.
forget() {
	local d=$W/$1
	rm -rf "$d"/inbox/* "$d"/outbox/* "$d"/spool/*
	psql -X -At -d "$1" -v ON_ERROR_STOP=1 -c "SELECT sha256 FROM attestd.submissions
		WHERE inbox_dir = 'R2402800010' AND status = 'accepted'
		UNION SELECT p.id_sha256 FROM attestd.signin_participants p JOIN attestd.submissions s
		ON s.id = p.submission_id WHERE s.inbox_dir = 'R2402800010'" |
	while read -r h; do rm -f "$d/archive/${h:0:2}/${h:2:2}/$h"; done
	age_dirs "$d"
	psql -X -q -d "$1" -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
BEGIN;
CREATE TEMP TABLE bs AS SELECT id FROM attestd.submissions WHERE inbox_dir = 'R2402800010';
DELETE FROM attestd.decision_history WHERE attestation_id IN
	(SELECT id FROM attestd.attestations WHERE submission_id IN (SELECT id FROM bs));
DELETE FROM attestd.attestations WHERE submission_id IN (SELECT id FROM bs);
DELETE FROM attestd.signin_participants WHERE submission_id IN (SELECT id FROM bs);
DELETE FROM attestd.signin_sheets WHERE submission_id IN (SELECT id FROM bs);
DELETE FROM attestd.receipts WHERE submission_id IN (SELECT id FROM bs);
DELETE FROM attestd.submissions WHERE id IN (SELECT id FROM bs);
DELETE FROM attestd.stages WHERE approval = 'R2402800010';
DELETE FROM attestd.balance_history WHERE licence LIKE 'B%';
DELETE FROM attestd.licence_balances WHERE licence LIKE 'B%';
DELETE FROM attestd.licence_events WHERE licence LIKE 'B%' AND source = 'stage';
COMMIT;
VACUUM ANALYZE attestd.submissions, attestd.attestations, attestd.stages;
SQL
}


# CPU of N runs of a command, in ms a run: the command's own (user + sys,
# its children's times as the shell counts them) and the cluster's (its
# backend), which a loaded machine disturbs much less than the wall clock.
pcpu() {
	local n=$1; shift
	runs_ok "$@" || return 0
	local p0 p1 c
	p0=$(pg_cpu_ticks "$W/pg")
	c=$( (for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 || true; done; times) | tail -1)
	sleep 0.5	# the last backend's exit, reaped
	p1=$(pg_cpu_ticks "$W/pg")
	echo "$c" | awk -v n="$n" -v pg="$((p1 - p0))" -v hz="$(getconf CLK_TCK)" '
		function s(t,   m) { m = t; sub(/m.*/, "", m); sub(/^[0-9]+m/, "", t); sub(/s$/, "", t); return 60 * m + t }
		{ c = 1000 * (s($1) + s($2)) / n; p = 1000 * pg / hz / n
		  printf "%.0f + %.0f", c, p }'
}

# runs_ok CMD...: run the command once; a figure is only a figure of a
# command that worked. One that fails prints "n/a (exit N)" in place of
# the figure when it is the attestd before a change (BENCH_BEFORE, which
# may not have that command yet); otherwise "FAILED", and the benchmark
# ends in failure once its table is printed.
runs_ok() {
	local rc=0
	"$@" >/dev/null 2>"$W/cmd.err" || rc=$?
	[ "$rc" = 0 ] && return 0
	if [ "${MEASURING_BEFORE:-}" = 1 ]; then
		echo "n/a (exit $rc)"
		return 1
	fi
	echo "archive.sh: '$*' failed (exit $rc):" >&2
	head -5 "$W/cmd.err" >&2
	: > "$W/failed"
	echo "FAILED (exit $rc)"
	return 1
}

# p50 and p95 of N runs of a command, in ms.
pctl() {
	local n=$1; shift
	runs_ok "$@" || return 0
	for _ in $(seq "$n"); do
		local s e
		s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N)
		echo $(((e - s) / 1000))
	done | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f / %.1f", v[int(NR * 0.5) + (NR % 2)] / 1000, v[int(NR * 0.95 + 0.5)] / 1000 }'
}

# measure SIDE TAG: the figures of one database, one per line "name<TAB>value",
# into SIDE/figures.TAG, measured with $ATTESTD.
measure() {
	local side=$1 d=$W/$1 f=$W/$1/figures.$2
	export ATTESTD_CONFIG=$d/attestd.conf
	: > "$f"
	fig() { printf '%s\t%s\n' "$1" "$2" >> "$f"; }
	local t wall rss
	# Start-up alone: the reconcile of an idle run --once (inbox empty);
	# the first compares everything (no clean comparison recorded yet),
	# the next what changed since.
	local i
	for i in 1 2; do
		/usr/bin/time -f '%e %M' -o "$W/time" "$ATTESTD" run --once 2>"$d/idle.log" || { tail "$d/idle.log" >&2; return 1; }
		read -r wall rss < "$W/time"
		fig "$([ $i = 1 ] && echo "first start (idle run --once), s" || echo "next start (idle run --once), s")" "$wall"
		fig "  its peak RSS, MiB" "$(awk -v r="$rss" 'BEGIN { printf "%.1f", r / 1024 }')"
	done
	mkdir -p "$d/inbox/R2402800010"
	"$ARCHIVE_GEN" drop "$W/gen" "$d/inbox/R2402800010"
	local n_files
	n_files=$(wc -l < "$W/gen/order")
	local pg0 pg1
	pg0=$(pg_cpu_ticks "$W/pg")
	ATTESTD_TEST_NOW=$NOW /usr/bin/time -f '%e %M %U %S' -o "$W/time" "$ATTESTD" run --once 2>"$d/run.log" ||
		{ tail "$d/run.log" >&2; return 1; }
	sleep 0.5	# its backend's exit, reaped (the count only misses it if not)
	pg1=$(pg_cpu_ticks "$W/pg")
	local user sys
	read -r wall rss user sys < "$W/time"
	local acc
	acc=$(psql -X -At -d "$side" -c "SELECT count(*) FROM attestd.submissions WHERE status = 'accepted' AND approval = 'R2402800010'")
	[ "$acc" = "$n_files" ] || { echo "archive.sh: $side: $acc of $n_files accepted" >&2; grep -v outcome=accepted "$d/run.log" | head >&2; return 1; }
	fig "run --once, $n_files files: files/s" "$(awk -v w="$wall" -v n="$n_files" 'BEGIN { printf "%.0f", n / w }')"
	fig "  attestd CPU per file, ms" "$(awk -v u="$user" -v s="$sys" -v n="$n_files" 'BEGIN { printf "%.2f", 1000 * (u + s) / n }')"
	fig "  PostgreSQL CPU per file, ms" "$(awk -v t="$((pg1 - pg0))" -v hz="$(getconf CLK_TCK)" -v n="$n_files" 'BEGIN { printf "%.2f", 1000 * t / hz / n }')"
	fig "  its peak RSS, MiB" "$(awk -v r="$rss" 'BEGIN { printf "%.1f", r / 1024 }')"
	fig "status, ms p50 / p95" "$(pctl 10 "$ATTESTD" status)"
	# The floor of status and of every command below: the process's start
	# (its libraries loaded and relocated, no database), then a session.
	fig "  attestd --version alone (a start, no session)" "$(pctl 10 "$ATTESTD" --version)"
	local lic centre
	lic=$(psql -X -At -d "$side" -c "SELECT licence FROM attestd.attestations ORDER BY id DESC LIMIT 1")
	centre=$(psql -X -At -d "$side" -c "SELECT approval FROM attestd.attestations ORDER BY id LIMIT 1")
	fig "audit attestations --centre --from --to (a month)" "$(pctl 10 "$ATTESTD" audit attestations --centre "$centre" --from 2026-10-01 --to 2026-10-31 --format csv)"
	fig "audit attestations --from --to (a month, all)" "$(pctl 5 "$ATTESTD" audit attestations --from 2026-10-01 --to 2026-10-31 --format csv)"
	fig "  CPU a run, ms: attestd + PostgreSQL (month)" "$(pcpu 5 "$ATTESTD" audit attestations --from 2026-10-01 --to 2026-10-31 --format csv)"
	# The floor of that export: the same month's rows, three of their
	# columns, unsorted and joined to nothing, copied out by psql.
	local month_copy="COPY (SELECT approval, number, licence FROM attestd.attestations
		WHERE first_day BETWEEN '2026-10-01' AND '2026-10-31') TO STDOUT"
	fig "  psql COPY of its rows, 3 columns, unsorted (its floor)" "$(pctl 5 psql -X -q -d "$side" -c "$month_copy")"
	fig "audit attestations --licence" "$(pctl 10 "$ATTESTD" audit attestations --licence "$lic" --format csv)"
	fig "audit licence" "$(pctl 10 "$ATTESTD" audit licence "$lic" --format csv)"
	fig "audit centre" "$(pctl 10 "$ATTESTD" audit centre "$centre" --format csv)"
	fig "  CPU a run, ms: attestd + PostgreSQL (centre)" "$(pcpu 10 "$ATTESTD" audit centre "$centre" --format csv)"
	fig "audit overdue" "$(pctl 10 "$ATTESTD" audit overdue --format csv)"
	fig "  CPU a run, ms: attestd + PostgreSQL (overdue)" "$(pcpu 10 "$ATTESTD" audit overdue --format csv)"
	fig "audit report --month (csv)" "$(pctl 5 "$ATTESTD" audit report --month 2026-10 --format csv)"
	fig "  CPU a run, ms: attestd + PostgreSQL (report)" "$(pcpu 5 "$ATTESTD" audit report --month 2026-10 --format csv)"
	fig "audit report --month (html)" "$(pctl 5 "$ATTESTD" audit report --month 2026-10)"
	# An auditor's question in SQL: a year's decisions per month, outcome
	# and reason (the summary of 014 when there, else the decisions).
	local year_sql
	if [ "$(psql -X -At -d "$side" -c "SELECT to_regclass('audit.monthly_decisions') IS NOT NULL")" = t ]; then
		year_sql="SELECT month, decision, reason, sum(attestations) FROM audit.monthly_decisions
			WHERE month >= '2025-11-01' AND month < '2026-11-01' GROUP BY 1, 2, 3"
	else
		year_sql="SELECT date_trunc('month', decided_at)::date, decision, reason, count(*)
			FROM audit.attestation_decisions, unnest(array_prepend('', reasons)) reason
			WHERE decided_at >= '2025-11-01' AND decided_at < '2026-11-01' GROUP BY 1, 2, 3"
	fi
	fig "a year's decisions per month and reason (psql)" "$(pctl 10 psql -X -q -d "$side" -c "$year_sql")"
	fig "  CPU a run, ms: psql + PostgreSQL (a year)" "$(pcpu 10 psql -X -q -d "$side" -c "$year_sql")"
	# The auditor asks through psql: its own start and session are the
	# floor of that figure, whatever the query.
	fig "  psql -c 'SELECT 1' alone (the floor of the above)" "$(pctl 10 psql -X -q -d "$side" -c "SELECT 1")"
	fig "  CPU a run, ms: psql + PostgreSQL (SELECT 1)" "$(pcpu 10 psql -X -q -d "$side" -c "SELECT 1")"
	t=$(secs); "$ATTESTD" audit verify-log >/dev/null 2>&1 || true
	fig "audit verify-log (report), s" "$(since "$t")"
	local db_bytes arch_bytes
	db_bytes=$(psql -X -At -d "$side" -c "SELECT pg_database_size(current_database())")
	arch_bytes=$(du -sb "$d/archive" | cut -f1)
	fig "database size, MiB" "$((db_bytes / 1048576))"
	fig "archive: files" "$(find "$d/archive" -type f | wc -l)"
	fig "archive size (du), MiB" "$((arch_bytes / 1048576))"
}

# The first year of the populated database becomes due (three years after
# its stages' last days): purged while the service keeps processing files.
purge_year() {
	local d=$W/full when
	export ATTESTD_CONFIG=$d/attestd.conf
	# The day the oldest year is due: four years after the first stage.
	when=$(date -d "$(psql -X -At -d full -c "SELECT min(last_day) FROM attestd.stages") +4 years" +%F)T03:00:00+01:00
	echo
	echo "== purge of one year's worth (as of $when), while the service (attestd run) processes files"
	psql -X -q -d full -c "DELETE FROM attestd.receipts r USING attestd.submissions s WHERE s.id = r.submission_id AND s.approval = 'R2402800010'" >/dev/null 2>&1 || true
	local t s2 t0 svc k
	# The service as it runs in production: one daemon, started before the
	# purge (its start-up compared the archive), takes each round of files
	# as it lands; a round is the benchmark's files again, under other names.
	: > "$d/during-purge.log"
	ATTESTD_TEST_NOW=$NOW "$ATTESTD" run --foreground 2>"$d/during-purge.log" &
	svc=$!
	for ((k = 0; k < 3000; k++)); do
		grep -Eq 'action=reconcile outcome=(ok|alarm)' "$d/during-purge.log" && break
		kill -0 "$svc" 2>/dev/null || { echo "archive.sh: the service did not start" >&2; tail "$d/during-purge.log" >&2; return 1; }
		sleep 0.2
	done
	grep -Eq 'action=reconcile outcome=(ok|alarm)' "$d/during-purge.log" ||
		{ echo "archive.sh: the service did not start in 10 minutes" >&2; tail "$d/during-purge.log" >&2; return 1; }
	t=$(secs)
	t0=$(date +%s)
	ATTESTD_TEST_NOW=$when "$ATTESTD" purge > "$W/purge.txt" 2>&1 &
	local pid=$!
	# A second batch of the benchmark's files, as new files (other names).
	mkdir -p "$W/gen2/files"
	while read -r name; do cp "$W/gen/files/$name" "$W/gen2/files/again-$name"; echo "again-$name"; done \
		< "$W/gen/order" > "$W/gen2/order"
	local rounds=0 n_round n0 n k
	n_round=$(wc -l < "$W/gen2/order")
	rows_now() { psql -X -At -d full -c "SELECT count(*) FROM attestd.submissions WHERE inbox_dir = 'R2402800010'"; }
	while kill -0 "$pid" 2>/dev/null; do
		s2=$(secs)
		n0=$(rows_now)
		rm -f "$d"/inbox/R2402800010/*
		"$ARCHIVE_GEN" drop "$W/gen2" "$d/inbox/R2402800010"
		# Every file of the round has its row (a hung service, not a
		# slow one, reaches the 20 minutes).
		for ((k = 0; k < 6000; k++)); do
			n=$(rows_now)
			[ $((n - n0)) -ge "$n_round" ] && break
			kill -0 "$svc" 2>/dev/null || { echo "archive.sh: the service died during the purge" >&2; tail "$d/during-purge.log" >&2; return 1; }
			sleep 0.2
		done
		[ $((n - n0)) -ge "$n_round" ] || { echo "archive.sh: $((n - n0)) of $n_round files processed in 20 minutes" >&2; return 1; }
		rounds=$((rounds + 1))
		echo "   meanwhile: round $rounds, $n_round files processed by the service in $(since "$s2") s"
	done
	wait "$pid" || { cat "$W/purge.txt" >&2; return 1; }
	kill -TERM "$svc"
	wait "$svc" || { echo "archive.sh: the service did not stop cleanly" >&2; tail "$d/during-purge.log" >&2; return 1; }
	echo "   purge: $(since "$t") s in all; $(grep -c . "$W/purge.txt") lines of report:"
	sed 's/^/   | /' "$W/purge.txt" | head -20
	echo "   files processed meanwhile (rows of submissions since the purge began): $(psql -X -At -d full \
		-c "SELECT count(*) FROM attestd.submissions WHERE processed_at >= to_timestamp($t0)")"
}

# Sourced: only the functions.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case "${1:-}" in
	generate)
		[ $# -ge 3 ] || { echo "usage: archive.sh generate DB DIR [YEARS]" >&2; exit 2; }
		archive_generate "$2" "$3" "${4:-3}"
		;;
	bench)
		archive_bench "${2:-3}"
		;;
	*)
		echo "usage: archive.sh bench [YEARS] | generate DB DIR [YEARS]" >&2
		exit 2
		;;
	esac
fi
