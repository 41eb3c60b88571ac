#!/usr/bin/env bash
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.sh"
. "$(dirname "$0")/batch.sh"
scenario_init || { fail "scenario_init"; finish; exit 1; }
t0=$(date +%s%N)
batch_make ${FILES:-12}
echo "make: $B_FILES files $(( ($(date +%s%N)-t0)/1000000 )) ms"
cat $WORK/batch/ORDER | tr '\n' ' '; echo
t0=$(date +%s%N)
batch_env ref
echo "env: $(( ($(date +%s%N)-t0)/1000000 )) ms"
batch_drop
t0=$(date +%s%N)
run_once
echo "run: $RC $(( ($(date +%s%N)-t0)/1000000 )) ms"
echo "$ERR" | tail -3
batch_dump $WORK/ref.dump
cp $WORK/ref.dump /tmp/kt/ref.dump
finish
