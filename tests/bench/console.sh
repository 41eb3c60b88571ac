#!/usr/bin/env bash
# console.sh - make bench-console: each page type of `attestd console`
# requested a few hundred times with realistic parameters (random existing
# files, stages, review items, licences and dates, centres, months) on years
# of national volume (tests/bench/archive.sh generate: 35,000 stages a year,
# 20 trainees each, a million licences), as a reviewer signed in with their
# own PostgreSQL role; prints p50/p95/p99 and the maximum per page type
# (curl's time_total, one kept-alive connection per page type, as a browser
# does), against the targets: p95 < 100 ms, the monthly report < 1 s.
# Measured, not asserted.
#
# Environment: YEARS (3), STAGES_PER_YEAR (35000), LICENCES (1000000),
# EVENTS (3000000): the data's size; N (300) requests per page type,
# TYPES (all: dashboard files files-filtered file original stage
# review-queue review-item scan licence centre report report-csv),
# N_REPORT (30) for the monthly report; BENCH_DIR (default /dev/shm, else
# /tmp); BENCH_KEEP=1 leaves the cluster, data and console running there
# (BENCH_REUSE=DIR measures again on a kept one without generating).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/integration/pg.sh"
ATTESTD=${ATTESTD:-$TOP/attestd}
export ATTESTD BUILD=${BUILD:-build/release}
YEARS=${YEARS:-3}
N=${N:-300}
N_REPORT=${N_REPORT:-30}
NOW=${BENCH_NOW:-$(date +%F)}
PASS='bench password'
WHO=bench_relecteur

if [ -n "${BENCH_REUSE:-}" ]; then
	W=$BENCH_REUSE
else
	base=${BENCH_DIR:-}
	[ -z "$base" ] && { [ -d /dev/shm ] && [ -w /dev/shm ] && base=/dev/shm || base=${TMPDIR:-/tmp}; }
	W=$(mktemp -d "$base/attestd-bench-console.XXXXXX")
fi
CONSOLE_PID=
cleanup() {
	[ -n "$CONSOLE_PID" ] && [ -z "${BENCH_KEEP:-}" ] && kill -TERM "$CONSOLE_PID" 2>/dev/null && wait "$CONSOLE_PID" 2>/dev/null
	if [ -z "${BENCH_KEEP:-}" ] && [ -z "${BENCH_REUSE:-}" ]; then
		pg_stop "$W/pg"
		rm -rf "$W"
	fi
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pg_start "$W/pg"
# PostgreSQL checks the people's passwords, as in production.
printf '%s\n' 'local all attestd_admin trust' 'local all attestd trust' 'local all all scram-sha-256' \
	> "$W/pg/data/pg_hba.conf"
pg_run_as "$PG_BIN/pg_ctl" -D "$W/pg/data" reload >/dev/null
DB=console_bench
export PGDATABASE=$DB
if [ -z "${BENCH_REUSE:-}" ]; then
	pg_createdb "$DB"
	echo "== ${YEARS} years of national volume ($((${STAGES_PER_YEAR:-35000} * YEARS)) stages) into $W"
	t0=$(date +%s)
	bash "$TOP/tests/bench/archive.sh" generate "$DB" "$W/data" "$YEARS"
	psql -X -q -d "$DB" -c "SET client_min_messages = error" -c "VACUUM ANALYZE" >/dev/null
	echo "   generated in $(($(date +%s) - t0)) s: $(psql -X -At -d "$DB" -c "SELECT count(*) FROM attestd.attestations") attestations, $(psql -X -At -d "$DB" -c "SELECT count(*) FROM attestd.submissions") submissions, $(psql -X -At -d "$DB" -c "SELECT pg_size_pretty(pg_database_size(current_database()))")"
fi
pg_admin -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
SET client_min_messages = warning;
DROP ROLE IF EXISTS $WHO;
CREATE ROLE $WHO LOGIN PASSWORD '$PASS';
GRANT attestd_reviewer TO $WHO;
SQL

CONF=$W/data/attestd.conf
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -i '/^\[console\]/,$d' "$CONF"
printf '\n[console]\nlisten = 127.0.0.1:%s\n' "$port" >> "$CONF"
URL=http://127.0.0.1:$port
ATTESTD_TEST_NOW=${NOW}T12:00:00+01:00 "$ATTESTD" console --config "$CONF" --foreground 2>"$W/console.log" &
CONSOLE_PID=$!
for ((i = 0; i < 600; i++)); do
	[ "$(curl -s --noproxy '*' -m 5 "$URL/healthz" | cut -c1-2)" = ok ] && break
	kill -0 "$CONSOLE_PID" 2>/dev/null || { cat "$W/console.log" >&2; exit 1; }
	sleep 0.1
done

q() { psql -X -At -d "$DB" -v ON_ERROR_STOP=1 -c "$1"; }
# Random existing things (TABLESAMPLE would favour nothing; random() over
# an index range is cheap enough for a few hundred).
pick() { q "SELECT $1 FROM $2 ORDER BY random() LIMIT $3"; }
mapfile -t FILES < <(pick id attestd.submissions "$N")
mapfile -t ACCEPTED < <(q "SELECT id FROM attestd.submissions WHERE status = 'accepted' ORDER BY random() LIMIT $N")
mapfile -t STAGES < <(pick "approval || '/' || ref" attestd.stages "$N")
mapfile -t ITEMS < <(q "SELECT id FROM attestd.attestations WHERE decision = 'review' ORDER BY random() LIMIT $N")
mapfile -t LICENCES < <(pick licence attestd.attestations "$N")
mapfile -t CENTRES < <(pick approval attestd.centres "$N")
mapfile -t MONTHS < <(q "SELECT to_char(d, 'YYYY-MM') FROM generate_series(date '$NOW' - interval '$((YEARS * 12 - 1)) months', date '$NOW', interval '1 month') d")
mapfile -t SCANS < <(q "SELECT a.id || '/scans/' || p.id_sha256 FROM attestd.attestations a
	JOIN attestd.signin_sheets sh ON sh.stage_id = a.stage_id
	JOIN attestd.signin_participants p ON p.submission_id = sh.submission_id AND p.licence = a.licence
	WHERE a.decision = 'review' ORDER BY random() LIMIT $N")
mapfile -t REASONS < <(q "SELECT DISTINCT unnest(errors) FROM attestd.submissions WHERE status = 'rejected' LIMIT 20")
[ "${#REASONS[@]}" -gt 0 ] || REASONS=(signature_invalid)
rnd() { local -n a=$1; echo "${a[RANDOM % ${#a[@]}]}"; }
rdate() { date -d "$NOW - $((RANDOM % (365 * YEARS))) days" +%F; }

# urls TYPE: N paths of that page type.
urls() {
	local i n=$N
	[ "$1" = report ] || [ "$1" = report-csv ] && n=$N_REPORT
	for ((i = 0; i < n; i++)); do
		case $1 in
		dashboard) echo "/" ;;
		files) echo "/files" ;;
		files-filtered) echo "/files?centre=$(rnd CENTRES)&status=rejected&reason=$(rnd REASONS)" ;;
		file) echo "/files/$(rnd FILES)" ;;
		original) echo "/files/$(rnd ACCEPTED)/original" ;;
		stage) echo "/stages/$(rnd STAGES)" ;;
		review-queue) echo "/review" ;;
		review-item) echo "/review/$(rnd ITEMS)" ;;
		scan) echo "/review/$(rnd SCANS)" ;;
		licence) echo "/licences/$(rnd LICENCES)?as_of=$(rdate)" ;;
		centre) echo "/centres/$(rnd CENTRES)" ;;
		report) echo "/reports/monthly?month=$(rnd MONTHS)" ;;
		report-csv) echo "/reports/monthly.csv?month=$(rnd MONTHS)&table=volumes" ;;
		esac
	done
}

pct() { sort -n | awk '{ v[NR] = $1 } END {
	if (NR == 0) { print "-"; exit }
	split("50 95 99", p, " ");
	for (i = 1; i <= 3; i++) { k = int((p[i] / 100) * NR + 0.999999); if (k < 1) k = 1; printf "%8.1f", v[k] * 1000 }
	printf "%8.1f", v[NR] * 1000 }'; }

echo
echo "== attestd console on $URL, as $WHO (attestd_reviewer), $N requests per page type ($N_REPORT for the report)"
printf '%-16s %6s %8s %8s %8s %8s  %-8s %s\n' page n p50_ms p95_ms p99_ms max_ms target status
: > "$W/results"
for type in ${TYPES:-dashboard files files-filtered file original stage review-queue review-item scan licence centre report report-csv}; do
	cfg=$W/curl-$type.cfg
	: > "$cfg"
	while read -r path; do
		printf 'url = "%s"\noutput = "/dev/null"\n' "$URL$path" >> "$cfg"
	done < <(urls "$type")
	# One warm-up request (the person's first sign-in opens their connection).
	curl -s --noproxy '*' -u "$WHO:$PASS" -c "$W/jar" -b "$W/jar" -o /dev/null "$URL$(urls "$type" | head -n 1)"
	curl -s --noproxy '*' -m 120 -u "$WHO:$PASS" -c "$W/jar" -b "$W/jar" -K "$cfg" \
		-w '%{time_total} %{http_code}\n' > "$W/t-$type" || true
	codes=$(awk '{ print $2 }' "$W/t-$type" | sort | uniq -c | awk '{ printf "%s%s:%s", sep, $2, $1; sep = "," }')
	target=0.100
	case $type in report | report-csv) target=1.000 ;; esac
	line=$(awk '{ print $1 }' "$W/t-$type" | pct)
	p95=$(echo "$line" | awk '{ print $2 }')
	verdict=$(awk -v p="$p95" -v t="$target" 'BEGIN { print (p != "" && p / 1000 < t) ? "ok" : "MISS" }')
	printf '%-16s %6s %s  %-8s %s\n' "$type" "$(wc -l < "$W/t-$type")" "$line" "<$(awk -v t=$target 'BEGIN { print t * 1000 }')ms $verdict" "$codes" | tee -a "$W/results"
done
echo
echo "(status: HTTP codes seen; a page type with codes other than 200 measured errors, not pages)"
if [ -n "${BENCH_KEEP:-}" ]; then
	echo "kept: $W (cluster $W/pg, PGHOST=$PGHOST, database $DB; console pid $CONSOLE_PID on $URL, user $WHO / '$PASS')"
fi
