#!/usr/bin/env bash
# Three instances of the service on one inbox, one spool and one database:
# every file taken once, every attestation decided exactly once, no
# deadlock, no error logged, and the end state of a single instance (what
# does not depend on which file was taken first: final decisions,
# balances, ledger, archive, quarantine; batch_dump_final), identical
# files taken at the same moment included.  make check
# runs ~100 files; `make instances-test` 1,000 (INSTANCES_FILES).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.sh"
. "$(dirname "$0")/batch.sh"
scenario_init || { fail "scenario_init"; finish; exit 1; }
FILES=${INSTANCES_FILES:-100}
N=${INSTANCES:-3}

batch_make "$FILES" || { fail "batch_make"; finish; exit 1; }
# Identical copies dropped right after every third document (the name
# sorts just after the original's): instances race for them, and one copy
# must be accepted and the other a duplicate, whichever comes first.
awk 'NR % 3 == 0 && /-(att|sheet)-/ { print; c = $0; sub(/\.xml$/, "c.xml", c); print c > "/dev/stderr"; print c; next } { print }' \
	"$WORK/batch/ORDER" > "$WORK/batch/ORDER.new" 2> "$WORK/batch/COPIES"
while read -r c; do cp "$WORK/batch/${c%c.xml}.xml" "$WORK/batch/$c"; done < "$WORK/batch/COPIES"
mv "$WORK/batch/ORDER.new" "$WORK/batch/ORDER"
B_FILES=$(wc -l < "$WORK/batch/ORDER")
limit=$((300 + B_FILES))

service_start() {
	ATTESTD_TEST_NOW=$NOW "$ATTESTD" run --foreground 2>>"$R/daemon.$1.log" &
	pids[$1]=$!
}

batch_env one || { fail "batch_env one"; finish; exit 1; }
batch_drop
t0=$(date +%s%N)
service_start 1
batch_wait "$limit" batch_finished
expect_eq "one instance: the batch is processed" 0 $?
one_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
kill -TERM "${pids[1]}"; wait "${pids[1]}"
batch_dump_final "$WORK/one.dump"
expect_eq "one instance: every file has its row" "$B_FILES" "$(sql "SELECT count(*) FROM attestd.submissions")"

# The instances start together on a full inbox, then half the batch more
# arrives while they work: they race for claims and for stages.
batch_env many
half=$((B_FILES / 2))
batch_drop 1 "$half"
t0=$(date +%s%N)
for ((i = 1; i <= N; i++)); do service_start "$i"; done
# The second half once every instance is ready (it compared the archive with
# the database, the last step before it waits for files): then each one
# takes some, however slowly the others started.
all_ready() { local i; for ((i = 1; i <= N; i++)); do grep -q 'action=reconcile' "$R/daemon.$i.log" || return 1; done; }
wait_until 300 all_ready
expect_eq "$N instances: every one ready" 0 $?
batch_drop $((half + 1))
batch_wait "$limit" batch_finished
expect_eq "$N instances: the batch is processed (no deadlock)" 0 $?
many_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
for ((i = 1; i <= N; i++)); do
	kill -0 "${pids[$i]}" 2>/dev/null
	expect_eq "instance $i still running" 0 $?
	kill -TERM "${pids[$i]}"; wait "${pids[$i]}"
	expect_eq "instance $i: SIGTERM, exit 0" 0 $?
	sanitizer_clean "instance $i: sanitizer clean" "$R/daemon.$i.log"
done
logs=$(cat "$R"/daemon.*.log)
expect_no_match "no error logged" 'level=error' "$logs"
took=$(grep -h -c 'outcome=' "$R"/daemon.*.log | tr '\n' ' ')
busy=0
for ((i = 1; i <= N; i++)); do
	[ "$(grep -c 'outcome=\(accepted\|rejected\|duplicate\)' "$R/daemon.$i.log")" -gt 0 ] && busy=$((busy + 1))
done
expect_eq "every instance took files" "$N" "$busy"
expect_eq "every file logged once across the instances" "$B_FILES" \
	"$(printf '%s\n' "$logs" | grep -c 'outcome=\(accepted\|rejected\|duplicate\) ')"
expect_eq "every file has exactly one row" "$B_FILES|$B_FILES" \
	"$(sql "SELECT count(*) || '|' || count(DISTINCT file_name) FROM attestd.submissions")"
batch_dump_final "$WORK/many.dump"
batch_compare "$N instances: same end state as one" "$WORK/one.dump" "$WORK/many.dump"
retries=$(printf '%s\n' "$logs" | grep -c 'outcome=retry')
echo "        ($B_FILES files: one instance ${one_ms} ms, $N instances ${many_ms} ms;" \
	"files per instance: $took; retried files: $retries)"
finish
