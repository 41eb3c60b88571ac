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

# CPU seconds the server has used so far: the postmaster's own and its
# reaped children's (backends that have ended), plus its live children's.
# Less disturbed by other work on the machine than the wall clock.
pg_cpu() {
	local pm
	pm=$(head -n 1 "$W/pg/data/postmaster.pid")
	{ cat "/proc/$pm/stat"; for c in $(pgrep -P "$pm"); do cat "/proc/$c/stat" 2>/dev/null; done; } |
		awk -v hz="$(getconf CLK_TCK)" -v pm="$pm" '{ sub(/^.*\) /, ""); t += $12 + $13; if (NR == 1) t += $14 + $15 }
			END { printf "%.2f", t / hz }'
}
# The server's work for the last step done: its backend gone (the
# postmaster has reaped it and counts its time) and no autovacuum running.
pg_quiet() {
	local pm
	pm=$(head -n 1 "$W/pg/data/postmaster.pid")
	while pgrep -P "$pm" -f 'attestd bench|autovacuum worker' >/dev/null; do sleep 0.2; done
}
# Wall seconds, and CPU seconds of attestd (user+sys) and of the server
# (with what autovacuum did meanwhile or right after).
t() {
	local s e c0 c1 u
	pg_quiet; c0=$(pg_cpu); s=$(date +%s.%N)
	/usr/bin/time -o "$W/time" -f "%U %S" "$@"
	u=$(tail -n 1 "$W/time")
	e=$(date +%s.%N); pg_quiet; c1=$(pg_cpu)
	awk -v s="$s" -v e="$e" -v u="$u" -v c0="$c0" -v c1="$c1" 'BEGIN { split(u, a, " ")
		printf "  %.1f s wall, %.1f s CPU attestd, %.1f s CPU server\n", e - s, a[1] + a[2], c1 - c0 }'
}
echo "import licences (first)";  t "$ATTESTD" registry import licences "$W/licences.csv"
echo "import events (first)";    t "$ATTESTD" registry import events "$W/events.csv"
echo "import licences (again)";  t "$ATTESTD" registry import licences "$W/licences.csv"
echo "import events (again)";    t "$ATTESTD" registry import events "$W/events.csv"
