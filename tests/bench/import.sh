#!/usr/bin/env bash
# make bench-import [LICENCES=1000000] [EVENTS=3000000]: time the registry
# import of a national-size licence file and its events on a throwaway
# cluster (first import, then a re-import that must change nothing).
# Measured, not asserted.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/integration/pg.sh"
# ATTESTD: the binary to time (another build, to compare on the same data).
ATTESTD=${ATTESTD:-$TOP/attestd}
N_LIC=${1:-1000000}
N_EV=${2:-3000000}
W=$(mktemp -d "${TMPDIR:-/tmp}/attestd-bench.XXXXXX")
trap 'pg_stop "$W/pg"; rm -rf "$W"' EXIT
pg_start "$W/pg"
pg_createdb bench
: > "$W/ca.pem"
cat > "$W/attestd.conf" <<CONF
[database]
conninfo = host=$PGHOST dbname=bench user=attestd
[trust]
centres_ca = $W/ca.pem
[prefecture]
departements = 28
CONF
export ATTESTD_CONFIG=$W/attestd.conf
"$ATTESTD" db migrate >/dev/null

echo "generating $N_LIC licences and $N_EV events"
awk -v n="$N_LIC" 'BEGIN {
	print "licence,surname,given_names,birth_date,issued,probation_end,status,status_date"
	for (i = 1; i <= n; i++)
		printf "%012d,NOM%d,\"Prénom-%d, Marie\",19%02d-%02d-%02d,20%02d-01-15,%s,valid,\n",
			i, i, i, 50 + i % 50, 1 + i % 12, 1 + i % 28, i % 25,
			(i % 10 == 0) ? "2028-01-15" : ""
}' > "$W/licences.csv"
awk -v n="$N_LIC" -v m="$N_EV" 'BEGIN {
	print "licence,effective_date,kind,points,ref"
	for (i = 1; i <= m; i++) {
		l = 1 + (i - 1) % n
		if (i <= n) printf "%012d,20%02d-01-15,grant,12,G-%d\n", l, l % 25, i
		else printf "%012d,2025-%02d-%02d,retrait,-%d,R-%d\n", l, 1 + i % 12, 1 + i % 28, 1 + i % 4, i
	}
}' > "$W/events.csv"
ls -la "$W"/*.csv | awk '{ print "  " $5 " bytes  " $9 }'

t() { local s e; s=$(date +%s.%N); "$@"; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN { printf "  %.1f s\n", e - s }'; }
echo "import licences (first)";  t "$ATTESTD" registry import licences "$W/licences.csv"
echo "import events (first)";    t "$ATTESTD" registry import events "$W/events.csv"
echo "import licences (again)";  t "$ATTESTD" registry import licences "$W/licences.csv"
echo "import events (again)";    t "$ATTESTD" registry import events "$W/events.csv"
