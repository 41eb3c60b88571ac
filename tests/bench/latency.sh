#!/usr/bin/env bash
# make bench-latency [RATE=200] [DURATION=15] [IDLE=50] [INSTANCES=1]: the
# time from a file's drop (its rename into the inbox) to its first receipt,
# p50/p99/max, for an idle service (one file at a time, each once the last
# has its receipt) and under a steady RATE files/s for DURATION seconds.
# Measured, not asserted.  The files are distinct signed documents of the
# integration kit (tests/integration/batch.sh), staged in the inbox under
# temporary names beforehand, so that a drop is one rename.  A receipt's
# time is its inode's change time, set when it is linked into the outbox.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/integration/pg.sh"
export ATTESTD=${ATTESTD:-$TOP/build/release/attestd}
RATE=${RATE:-200}
DURATION=${DURATION:-15}
IDLE=${IDLE:-50}
INSTANCES=${INSTANCES:-1}
PGWORK=$(mktemp -d "${TMPDIR:-/tmp}/attestd-bench-pg.XXXXXX")
pg_start "$PGWORK" || { echo "bench-latency: cannot start PostgreSQL" >&2; exit 1; }
. "$TOP/tests/integration/lib.sh"
. "$TOP/tests/integration/scenario.sh"
. "$TOP/tests/integration/batch.sh"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	pg_stop "$PGWORK"
	rm -rf "$PGWORK" "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

scenario_init || exit 1
# The default settle time: a renamed file is taken on its event anyway.
sed -i 's/^settle_time = 0s/settle_time = 2s/' "$WORK/attestd.conf"
load=$((RATE * DURATION))
echo "signing $((IDLE + load)) files..."
batch_make $((IDLE + load)) || exit 1
batch_env bench || exit 1
dir=$R/inbox/$APPROVAL
while read -r f; do cp "$WORK/batch/$f" "$dir/.$f.part"; done < "$WORK/batch/ORDER"

for ((i = 0; i < INSTANCES; i++)); do
	ATTESTD_TEST_NOW=$NOW "$ATTESTD" run --foreground 2>>"$R/daemon.$i.log" &
	pids+=($!)
done
batch_wait 30 grep -q 'action=start' "$R/daemon.0.log" || { echo "the service did not start" >&2; exit 1; }

# A sleep without a process: read's timeout on a descriptor nobody writes.
exec {nap}<> <(:)
nap() { read -t "$1" -u "$nap" _; }
usec() { local t=$EPOCHREALTIME; echo "${t/./}"; }
drop() { mv "$dir/.$1.part" "$dir/$1"; echo "$1 $EPOCHREALTIME" >> "$WORK/drops.$2"; }
receipt_of() { echo "$R/outbox/$APPROVAL/${1%.xml}.1.receipt.xml"; }

mapfile -t files < "$WORK/batch/ORDER"
nap 1
echo "idle: $IDLE files, one at a time"
for ((i = 0; i < IDLE && i < ${#files[@]}; i++)); do
	drop "${files[$i]}" idle
	for ((w = 0; w < 10000; w++)); do [ -e "$(receipt_of "${files[$i]}")" ] && break; nap 0.001; done
	nap 0.2
done

echo "load: $RATE files/s for $DURATION s ($load files)"
t0=$(usec)
for ((k = 0; k < load && IDLE + k < ${#files[@]}; k++)); do
	due=$((t0 + k * 1000000 / RATE))
	now=$(usec)
	[ "$now" -lt "$due" ] && nap "$(printf '0.%06d' $((due - now)))"
	drop "${files[$((IDLE + k))]}" load
done
fed=$(( ($(usec) - t0) / 1000 ))
# The batch rounds up to whole stages: the files not dropped go.
rm -f "$dir"/.*.part
batch_wait 600 batch_finished || echo "warning: not finished after 10 min" >&2
echo "  fed in $fed ms ($(awk -v n="$k" -v ms="$fed" 'BEGIN { printf "%.0f", n * 1000 / ms }') files/s)"

# drop times, receipt times: latency in ms, then the percentiles.
find "$R/outbox/$APPROVAL" -name '*.1.receipt.xml' -printf '%f %C@\n' |
	sed 's/\.1\.receipt\.xml / /' > "$WORK/receipts"
report() {
	[ -s "$WORK/drops.$1" ] || return 0
	awk 'NR == FNR { r[$1] = $2; next }
	     { n = $1; sub(/\.xml$/, "", n); if (n in r) printf "%.3f\n", (r[n] - $2) * 1000; else missing++ }
	     END { if (missing) printf "missing %d\n", missing > "/dev/stderr" }' \
		"$WORK/receipts" "$WORK/drops.$1" | sort -n > "$WORK/lat.$1"
	awk -v what="$1" '{ v[NR] = $1 } END {
		if (NR == 0) { print what ": no receipts"; exit }
		p50 = v[int(NR * 0.50 + 0.999999)]; p99 = v[int(NR * 0.99 + 0.999999)]
		printf "%-5s n=%d  p50 %.1f ms  p99 %.1f ms  max %.1f ms\n", what, NR, p50, p99, v[NR] }' "$WORK/lat.$1"
}
echo "drop to receipt ($INSTANCES instance(s)):"
report idle
report load
first=$(awk 'NR == 1 { print $2 }' "$WORK/drops.load" 2>/dev/null)
[ -n "$first" ] || exit 0
last=$(awk '{ print $2 }' "$WORK/receipts" | sort -n | tail -n 1)
awk -v n="$k" -v a="$first" -v b="$last" 'BEGIN { printf "throughput under load: %.0f files/s (%d files in %.1f s)\n", n / (b - a), n, b - a }'
grep -h 'level=error' "$R"/daemon.*.log | head -5
