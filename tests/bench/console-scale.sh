#!/usr/bin/env bash
set -u
# A first look at the console's pages on synthetic data (tests/bench/console-scale.sql:
# 20,000 stages, 40,000 files, 384,000 attestations, about a fifth of three
# national years): p50/p95/max per page over 40 requests (20 for the report),
# signed in as an auditor.  make bench-console (the console-tests branch) is the
# full measure on the national archive.  Usage: bash tests/bench/console-scale.sh
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
. tests/integration/console_lib.sh
export PGWORK=$(mktemp -d /tmp/attestd-cscale.XXXXXX)
trap 'pg_stop $PGWORK; rm -rf $PGWORK $WORK' EXIT
pg_start "$PGWORK" >/dev/null || exit 1
ATTESTD=$PWD/build/release/attestd
T_NAME=cscale
fresh_db t_cscale
"$ATTESTD" db migrate > /dev/null || exit 1
start=$(date +%s); psql -X -q -d t_cscale -f "$PWD/tests/bench/console-scale.sql" || exit 1; echo "load: $(( $(date +%s) - start )) s"
psql -X -At -d t_cscale -c "SELECT (SELECT count(*) FROM attestd.attestations), (SELECT count(*) FROM attestd.submissions)"
console_people t_cscale
console_start || exit 1
bench() {
	local name=$1 path=$2 n=${3:-40}
	local urls=(); for i in $(seq $n); do urls+=(-o /dev/null "$CONSOLE_URL$path"); done
	curl -s -u console_auditor:pw-console_auditor -w '%{http_code} %{time_total}\n' "${urls[@]}" > $PGWORK/times
	grep -v '^200 ' $PGWORK/times | head -2
	cut -d' ' -f2 $PGWORK/times | sort -n | awk -v b="$name" '{ a[NR] = $1 } END { printf "%-16s p50 %6.1f ms  p95 %6.1f ms  max %6.1f ms\n", b, a[int(NR*0.5)]*1000, a[int(NR*0.95)]*1000, a[NR]*1000 }'
}
ID=$(psql -X -At -d t_cscale -c "SELECT id FROM attestd.attestations ORDER BY id DESC LIMIT 1")
SUB=$(psql -X -At -d t_cscale -c "SELECT id FROM attestd.submissions ORDER BY id DESC LIMIT 1")
bench dashboard /
bench files "/files"
bench files-centre "/files?centre=R2402800042&status=rejected"
bench file "/files/$SUB"
bench review "/review"
bench review-item "/review/$ID"
bench licence "/licences/000000012345?as_of=2025-06-01"
bench stage "/stages/R2402800042/S41"
bench centre "/centres/R2402800042"
bench monthly "/reports/monthly?month=2025-06" 20
console_stop
