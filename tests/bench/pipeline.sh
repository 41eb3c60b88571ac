#!/usr/bin/env bash
# make bench [STAGES=1000] [SCAN_BYTES=2048]: the throughput of
# `attestd run --once` (issue 5's benchmark).  Measured, not asserted.
#
# STAGES stages of 20 trainees, each an attestations file and a sign-in
# sheet (20 identity scans of SCAN_BYTES), signed RSA-2048 by the test PKI's
# centre certificate in one process (tests/bench/bench_gen.c), dropped in
# one inbox (half the stages sheet first, half attestations first, so half
# go through `pending`), with their licences and events imported, on a
# throwaway PostgreSQL cluster (pg.sh: fsync=off, as in the tests).
# Receipts are signed (EC P-256 by default, BENCH_RECEIPT_KEY=rsa for
# RSA-2048) and the CRL is checked, as in production.
#
#   run 1: ./attestd run --once under /usr/bin/time: files/s,
#          attestations/s, peak RSS, CPU a file of attestd, of the whole
#          cluster and of attestd's backend alone (pg_backend_ticks)
#   run 2: the same files into a fresh database with attestd-timed, the same
#          code linked with tests/bench/timing.c (ld --wrap): wall-clock time
#          split by what the process was doing (parse, schema, verify, rules,
#          receipts, database round trips, files, fsync, log), and the
#          server's own account (pg_stat_statements: planning, execution)
#
# Environment:
#   BENCH_DIR=DIR      where the work directory goes (default /dev/shm, a
#                      tmpfs): attestd fsyncs every archived file, receipt and
#                      directory (38 fsyncs per file on average here, a
#                      sheet's 20 scans one by one: each file and its
#                      archive/ab/cd/ directory, and, the archive being empty,
#                      most scans make that directory, so its parent too;
#                      about 27 once the directories exist), so on a disk
#                      the result measures the disk; BENCH_DIR=var/bench
#                      shows that
#   BENCH_COLD=1       no ANALYZE after the import and autovacuum at its
#                      default pace: a batch planned on empty-table estimates
#   BENCH_INSTANCES=K  run 3: K instances of run --once sharing one inbox
#   BENCH_RECEIPT_KEY=ec|rsa  the prefecture key signing receipts (default ec)
#
# Last, the yardstick: the xmlsec1 command-line tool verifying the same
# files (signature and chain only: no schema, rules, database, receipt or
# archive), one process per file, two loops side by side (one per core);
# attestd's files/s over the loop's is printed (issue 14: at least 14x).
#   BENCH_PERF=1       run 1 under perf record; its CPU profile at the end
#   BENCH_KEEP=1       leave the cluster and the directory, to look
#   BENCH_SQL_TOP=N    statements listed (default 6)
set -euo pipefail
# No `head` after a pipe below: it exits at its n-th line, the writer gets
# SIGPIPE, and pipefail turns that into the bench's failure (make error 141).
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP"
. tests/integration/pg.sh
STAGES=${1:-1000}
SCAN_BYTES=${2:-2048}
BUILD=${BUILD:-build/release}
ATTESTD=$TOP/attestd
TIMED=$TOP/$BUILD/tests/attestd-timed
GEN=$TOP/$BUILD/tests/bench_gen
NOW=2026-11-16T10:00:00+01:00
case ${BENCH_RECEIPT_KEY:-ec} in
ec) RECEIPT_KEY=prefecture-ec RECEIPT_ALG="EC P-256" ;;
rsa) RECEIPT_KEY=prefecture RECEIPT_ALG=RSA-2048 ;;
*) echo "bench: BENCH_RECEIPT_KEY is ec or rsa" >&2; exit 2 ;;
esac
command -v xmlsec1 >/dev/null || { echo "bench: xmlsec1 missing (make deps)" >&2; exit 1; }
for tool in "$ATTESTD" "$TIMED" "$GEN"; do
	[ -x "$tool" ] || { echo "bench: $tool missing (run: make bench)" >&2; exit 1; }
done

if [ -z "${BENCH_DIR:-}" ]; then
	if [ -d /dev/shm ] && [ -w /dev/shm ]; then BENCH_DIR=/dev/shm; else BENCH_DIR=${TMPDIR:-/tmp}; fi
fi
mkdir -p "$BENCH_DIR"
W=$(mktemp -d "$BENCH_DIR/attestd-bench.XXXXXX")
W=$(cd "$W" && pwd)
if [ -n "${BENCH_KEEP:-}" ]; then
	trap 'echo "kept: $W (PGHOST=$W/pg/socket; stop: . tests/integration/pg.sh; pg_stop $W/pg)"' EXIT
else
	trap 'pg_stop "$W/pg"; rm -rf "$W"' EXIT
fi
trap 'exit 130' INT TERM

secs() { date +%s.%N; }
since() { awk -v s="$1" -v e="$(secs)" 'BEGIN { printf "%.2f", e - s }'; }

echo "== attestd pipeline benchmark: $STAGES stages x 20 trainees, 2 files each signed RSA-2048, receipts $RECEIPT_ALG"
echo "   load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   work directory $W ($(df -T "$W" | awk 'NR == 2 { print $2 }')), $(nproc) cores"
t=$(secs)
sh tests/fixtures/pki.sh "$W/pki" >/dev/null 2>&1 || { echo "bench: pki.sh failed" >&2; exit 1; }
"$GEN" make "$W/pki" "$W/gen" "$STAGES" "$SCAN_BYTES"
n_files=$(wc -l < "$W/gen/order")
bytes=$(du -sb "$W/gen/files" | cut -f1)
echo "   generated $n_files signed files ($((bytes / 1024 / 1024)) MiB) in $(since "$t") s"

t=$(secs)
pg_start "$W/pg"
# Statistics as in a database in service: autovacuum analyzes a table
# once 10 % of it changed, a minute at most after; here within a second,
# so that a batch on a fresh database is not planned on empty-table
# estimates throughout (BENCH_COLD=1 keeps the default, to see that case).
if [ -z "${BENCH_COLD:-}" ]; then
	pg_admin -q -c "ALTER SYSTEM SET autovacuum_naptime = '1s'" >/dev/null
fi
# The server's own account of its time (planning, execution), for run 2.
pg_admin -q -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null
pg_stop "$W/pg"
pg_start "$W/pg"
# Each autovacuum and autoanalyze logs its CPU time: run 1's share of the
# cluster's CPU that is theirs (tables grown from empty by 10 % a second
# are analyzed and vacuumed again and again; a database in service is not).
pg_admin -q -c "ALTER SYSTEM SET log_autovacuum_min_duration = 0" >/dev/null
pg_admin -q -c "ALTER SYSTEM SET pg_stat_statements.track_planning = on" -c "SELECT pg_reload_conf()" \
	-c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
FP=$(openssl x509 -in "$W/pki/centre-rsa.pem" -outform DER | sha256sum | cut -d' ' -f1)
printf 'approval,name,departement,valid_from,valid_to,cert_sha256\nR2402800010,Centre du banc,28,2024-01-01,,%s\n' \
	"$FP" > "$W/gen/centres.csv"
printf 'authorisation,role,surname,given_names,valid_from,valid_to\nPSY-28-2019-004,psychologist,DURAND,Anne,2019-01-01,\nBAFM-28-2015-011,road-safety-expert,LEROY,Marc,2015-01-01,\n' \
	> "$W/gen/facilitators.csv"

# setup NAME: a database, a configuration, the registries, the files dropped.
setup() {
	local name=$1 d=$W/$1
	mkdir -p "$d"/{inbox/R2402800010,outbox,spool,archive,quarantine}
	pg_createdb "$name"
	cat > "$d/attestd.conf" <<CONF
[paths]
inbox = $d/inbox
outbox = $d/outbox
spool = $d/spool
archive = $d/archive
quarantine = $d/quarantine

[database]
conninfo = host=$PGHOST port=$PGPORT dbname=$name user=attestd

[trust]
centres_ca = $W/pki/ca-bundle.pem
crl = $W/pki/crl.pem
receipt_key = $W/pki/$RECEIPT_KEY.key
receipt_cert = $W/pki/$RECEIPT_KEY.pem

[prefecture]
departements = 28
timezone = Europe/Paris

[limits]
settle_time = 0s
CONF
	export ATTESTD_CONFIG=$d/attestd.conf
	"$ATTESTD" db migrate >/dev/null
	for kind in centres facilitators licences events; do
		"$ATTESTD" registry import "$kind" "$W/gen/$kind.csv" >/dev/null
	done
	# What a bulk load is followed by (the registry import does not analyze).
	[ -n "${BENCH_COLD:-}" ] || psql -X -q -d "$name" -c "ANALYZE attestd.licences, attestd.licence_events" >/dev/null
	"$GEN" drop "$W/gen" "$d/inbox/R2402800010"
}
# Run 2's and run 3's databases are made after run 1: with autovacuum's
# one-second naptime, each database of the cluster that has been used
# costs a worker's start a second whether it has work or not, which a
# cluster in service, at the default minute, does not pay (three idle
# databases more: PostgreSQL's CPU a file 28.6 ms instead of 18.7 at load
# 16, its backend's the same, 6.2 and 6.3 ms; issue 14).
setup run1
INSTANCES=${BENCH_INSTANCES:-1}
echo "   cluster, schema, $((STAGES * 20)) licences imported, files dropped in $(since "$t") s"

# --- run 1: the real binary -------------------------------------------------
export ATTESTD_CONFIG=$W/run1/attestd.conf
PERF=()
if [ -n "${BENCH_PERF:-}" ]; then
	PERF=(perf record -q -F 499 --call-graph dwarf,16384 -o "$W/perf.data" --)
fi
pg_cpu0=$(pg_cpu_ticks "$W/pg")
pg_log0=$(wc -l < "$W/pg/postgres.log")
pg_backend_ticks "$W/pg" run1 "$W/backend1" &
poller=$!
ATTESTD_TEST_NOW=$NOW /usr/bin/time -f '%e %M %U %S' -o "$W/time1" "${PERF[@]}" "$ATTESTD" run --once \
	2>"$W/run1.log" || { echo "bench: run --once failed:" >&2; tail "$W/run1.log" >&2; exit 1; }
sleep 0.2	# the backend's exit, reaped
pg_cpu1=$(pg_cpu_ticks "$W/pg")
touch "$W/backend1.stop"
wait "$poller"
backend1=$(cat "$W/backend1")
# "automatic vacuum of table "run1.x.y": ..." then, lines below, "system
# usage: CPU: user: 0.01 s, system: 0.00 s, elapsed: 0.02 s".
autovac=$(tail -n +"$((pg_log0 + 1))" "$W/pg/postgres.log" | awk '
	/automatic (vacuum|analyze) of table/ { mine = index($0, "\"run1.") > 0 }
	mine && /CPU: user:/ { for (i = 1; i <= NF; i++) if ($i == "user:" || $i == "system:") t += $(i + 1); mine = 0 }
	END { printf "%.3f", t }')
read -r wall rss user sys < "$W/time1"
q() { psql -X -At -d "$1" -c "$2"; }
accepted=$(q run1 "SELECT count(*) FROM attestd.submissions WHERE status = 'accepted'")
n_att=$(q run1 "SELECT count(*) FROM attestd.attestations")
echo
echo "== run 1: attestd run --once"
awk -v w="$wall" -v n="$n_files" -v a="$n_att" -v rss="$rss" -v u="$user" -v s="$sys" -v acc="$accepted" 'BEGIN {
	printf "   %d files (%d accepted), %d attestations in %.2f s wall (%.2f s user, %.2f s sys in attestd)\n", n, acc, a, w, u, s
	printf "   %.0f files/s   %.0f attestations/s   %.2f ms/file   peak RSS %.1f MiB\n", n / w, a / w, 1000 * w / n, rss / 1024
}'
awk -v n="$n_files" -v u="$user" -v s="$sys" -v pg="$((pg_cpu1 - pg_cpu0))" -v be="$backend1" -v av="$autovac" -v hz="$(getconf CLK_TCK)" 'BEGIN {
	printf "   CPU per file: attestd %.2f ms, PostgreSQL %.2f ms (its backend, autovacuum and background processes)\n",
		1000 * (u + s) / n, 1000 * pg / hz / n
	printf "   of which its backend (the statements, their protocol, commits) %.2f ms\n", 1000 * be / hz / n
	printf "   of which autovacuum and autoanalyze of run 1'"'"'s tables at least %.2f ms (their logs, to 10 ms a pass): attestd + PostgreSQL %.2f ms, %.2f ms without them\n",
		1000 * av / n, 1000 * ((u + s) + pg / hz) / n, 1000 * ((u + s) + pg / hz - av) / n
}'
echo "   decisions:" $(q run1 "SELECT string_agg(decision || '=' || n, ' ' ORDER BY decision) FROM (SELECT decision, count(*) AS n FROM audit.attestation_decisions GROUP BY decision) d")
echo "   receipts: $(q run1 "SELECT count(*) FROM attestd.receipts WHERE written_at IS NOT NULL") written," \
	"archive: $(find "$W/run1/archive" -type f | wc -l) files"
if [ "$accepted" != "$n_files" ]; then
	echo "bench: only $accepted of $n_files files accepted; see the log:" >&2
	grep -v 'outcome=accepted' "$W/run1.log" | awk 'NR <= 10' >&2
	exit 1
fi

# --- run 2: where the time goes -----------------------------------------------
t=$(secs)
setup run2
[ "$INSTANCES" -gt 1 ] && setup run3
echo
echo "   (runs 2 and 3: schema, licences and files again in $(since "$t") s)"
export ATTESTD_CONFIG=$W/run2/attestd.conf
pg_admin -q -c "SELECT pg_stat_statements_reset()" >/dev/null
ATTESTD_TIMING=$W/timing ATTESTD_TEST_NOW=$NOW /usr/bin/time -f '%e %M %U %S' -o "$W/time2" \
	"$TIMED" run --once 2>"$W/run2.log" || { echo "bench: attestd-timed failed" >&2; exit 1; }
read -r wall2 _ user2 sys2 < "$W/time2"
echo
echo "== run 2: the same batch, attestd-timed (wall-clock time by what attestd was doing)"
awk -v w="$wall2" -v n="$n_files" -v u="$user2" -v s="$sys2" -v alg="$RECEIPT_ALG" '
	BEGIN {
		label["parse"] = "read, XML, profile, mapping"
		label["schema"] = "XSD validation"
		label["verify"] = "signature and certificate (sig_verify)"
		label["rules"] = "rules and ledger replay"
		label["receipt"] = "receipts built (libxml2)"
		label["receipt_sign"] = "receipts signed (" alg ")"
		label["db"] = "PostgreSQL round trips (server work included)"
		label["files"] = "claim, archive, outbox, quarantine (without fsync)"
		label["fsync"] = "fsync of files and directories"
		label["log"] = "syslog"
		label["glue"] = "the rest (pipeline glue, process start and exit)"
	}
	$1 == "sql" { next }
	{ t[$1] = $2; c[$1] = $3; total += $2; order[++n_cat] = $1 }
	END {
		printf "   %.2f s wall, %.0f files/s (the wrappers cost two clock reads per call)\n", w, n / w
		for (i = 1; i <= n_cat; i++) {
			k = order[i]
			printf "   %-13s %7.3f s %5.1f %%  %7.3f ms/file  %8d calls  %s\n", k, t[k], 100 * t[k] / total,
				1000 * t[k] / n, c[k], label[k]
		}
		printf "   parse+schema+verify %.1f %%, rules %.1f %%, database %.1f %%, receipts %.1f %%, files+fsync %.1f %%\n",
			100 * (t["parse"] + t["schema"] + t["verify"]) / total, 100 * t["rules"] / total,
			100 * t["db"] / total, 100 * (t["receipt"] + t["receipt_sign"]) / total,
			100 * (t["files"] + t["fsync"]) / total
		printf "   attestd CPU: %.2f s user + %.2f s sys of %.2f s wall\n", u, s, w
	}' "$W/timing"
echo "   round trips per file: $(awk -v n="$n_files" '$1 == "db" { printf "%.1f", $3 / n }' "$W/timing")," \
	"fsyncs per file: $(awk -v n="$n_files" '$1 == "fsync" { printf "%.1f", $3 / n }' "$W/timing")"
echo "   the statements that cost most of the round trips they wait for alone (not pipelined):"
awk -v n="$n_files" '$1 == "sql" { t = $2; c = $3; $1 = $2 = $3 = ""; sub(/^ +/, ""); printf "   %7.3f s %7.3f ms/call %6d calls  %s\n", t, 1000 * t / (c ? c : 1), c, $0 }' \
	"$W/timing" | sort -rn | awk -v n="${BENCH_SQL_TOP:-6}" 'NR <= n'
pg_admin -At -F ' ' -c "SELECT sum(calls), sum(total_plan_time) / 1000, sum(total_exec_time) / 1000, sum(plans)
	FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'run2')
	AND userid = 'attestd'::regrole" > "$W/pgss"
read -r pg_calls pg_plan pg_exec pg_plans < "$W/pgss"
awk -v c="$pg_calls" -v p="$pg_plan" -v e="$pg_exec" -v np="$pg_plans" -v n="$n_files" '$1 == "db" {
	printf "   database time, as the server counts it: planning %.2f s (%.2f ms/file), execution %.2f s (%.2f ms/file)\n", p, 1000 * p / n, e, 1000 * e / n
	printf "   statements per file %.1f, plans made per file %.1f (a prepared statement run on its cached plan makes none)\n", c / n, np / n
	printf "   the rest of the round trips (%.2f s, %.2f ms/file, %.0f us each) is protocol, wake-ups and waiting for a core\n", $2 - p - e, 1000 * ($2 - p - e) / n, 1e6 * ($2 - p - e) / $3
}' "$W/timing"
echo "   the statements the server spent most on (execution + planning):"
pg_admin -At -F '|' -c "SELECT round(((total_exec_time + total_plan_time) / 1000)::numeric, 3), calls,
	round(((total_exec_time + total_plan_time) / calls)::numeric, 3),
	left(regexp_replace(query, '\s+', ' ', 'g'), 70)
	FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'run2')
	AND userid = 'attestd'::regrole ORDER BY total_exec_time + total_plan_time DESC LIMIT ${BENCH_SQL_TOP:-6}" |
	awk -F'|' '{ printf "   %7.3f s %7.3f ms/call %6d calls  %s\n", $1, $3, $2, $4 }'

# --- run 3 (BENCH_INSTANCES=K): K instances share one inbox -------------------
if [ "$INSTANCES" -gt 1 ]; then
	export ATTESTD_CONFIG=$W/run3/attestd.conf
	t=$(secs)
	for i in $(seq "$INSTANCES"); do
		ATTESTD_TEST_NOW=$NOW "$ATTESTD" run --once 2>"$W/run3.$i.log" &
	done
	wait
	wall3=$(since "$t")
	acc3=$(q run3 "SELECT count(*) FROM attestd.submissions WHERE status = 'accepted'")
	echo
	echo "== run 3: $INSTANCES instances of attestd run --once on the same inbox (claims by rename)"
	awk -v w="$wall3" -v n="$n_files" -v a="$n_att" -v acc="$acc3" 'BEGIN {
		printf "   %d files (%d accepted) in %.2f s: %.0f files/s, %.0f attestations/s\n", n, acc, w, n / w, a / w
	}'
fi

# --- the yardstick: the xmlsec1 CLI over the same files ------------------------
t=$(secs)
(cd "$W/gen/files" && ls | xargs -P 2 -n 1 xmlsec1 --verify --enabled-key-data x509 \
	--trusted-pem "$W/pki/root.pem" --untrusted-pem "$W/pki/inter.pem" >/dev/null 2>"$W/xmlsec1.log") ||
	{ echo "bench: xmlsec1 --verify failed:" >&2; grep -v '^OK$' "$W/xmlsec1.log" | tail >&2; exit 1; }
wall4=$(since "$t")
echo
echo "== the yardstick: xmlsec1 --verify, one process per file, two loops side by side"
awk -v w="$wall4" -v n="$n_files" -v w1="$wall" -v w3="${wall3:-}" -v k="$INSTANCES" 'BEGIN {
	printf "   %d files in %.2f s: %.1f files/s (signature and chain only)\n", n, w, n / w
	printf "   attestd run --once (run 1) does everything %.1fx as fast\n", w / w1
	if (w3 != "") printf "   %d instances (run 3): %.1fx as fast\n", k, w / w3
}'
echo "   load after: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ -n "${BENCH_PERF:-}" ]; then
	echo
	echo "== run 1's CPU profile (perf, attestd only: inclusive share of its samples)"
	perf report -i "$W/perf.data" --children --sort symbol --no-demangle -q --percent-limit 2 \
		-g none 2>/dev/null | grep -E '^ +[0-9]' | grep -v -E '\] 0x[0-9a-f]+ *$' | awk 'NR <= 45'
fi
