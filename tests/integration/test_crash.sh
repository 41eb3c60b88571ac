#!/usr/bin/env bash
# Crash points: a batch interrupted at each step of the pipeline
# (ATTESTD_CRASH_AT, the process SIGKILLs itself there) and run again ends
# with exactly the end state of an uninterrupted run of the same batch on a
# fresh database: the same rows, balances, archive, quarantine and receipts,
# nothing lost, nothing twice.  Each step twice: one crash mid-batch, then
# a crash at nearly every file (STEP:2 again and again until a run gets
# through).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.sh"
. "$(dirname "$0")/batch.sh"
scenario_init || { fail "scenario_init"; finish; exit 1; }
STEPS="after_claim after_parse before_commit after_commit after_archive after_receipt"

batch_make "${CRASH_FILES:-12}" || { fail "batch_make"; finish; exit 1; }
echo "        (batch of $B_FILES files)"

batch_env ref || { fail "batch_env ref"; finish; exit 1; }
batch_drop
run_once
expect_eq "uninterrupted run: exit 0" 0 "$RC"
batch_finished
expect_eq "uninterrupted run: finished" 0 $?
batch_dump "$WORK/ref.dump"
expect_eq "every file has its submission row" "$B_FILES" "$(sql "SELECT count(*) FROM attestd.submissions")"
expect_match "the batch has accepted, rejected and duplicate files" '^accepted=[1-9][0-9]* duplicate=[1-9][0-9]* rejected=[1-9]' \
	"$(sql "SELECT string_agg(status || '=' || n, ' ' ORDER BY status) FROM (SELECT status, count(*) n FROM attestd.submissions GROUP BY status) s")"
expect_match "the batch credits, rejects and waits" '^credited=[1-9][0-9]* pending=[1-9][0-9]* rejected=[1-9]' \
	"$(sql "SELECT string_agg(decision || '=' || n, ' ' ORDER BY decision) FROM (SELECT decision, count(*) n FROM attestd.attestations GROUP BY decision) s")"

for step in $STEPS; do
	# One crash mid-batch, then a plain restart.
	batch_env "$step"
	batch_drop
	ATTESTD_CRASH_AT=$step:6 run_once
	expect_eq "$step:6: the process dies (SIGKILL)" 137 "$RC"
	left=$(ls "$R/inbox/$APPROVAL" | wc -l)
	if [ "$left" -gt 0 ] && [ "$left" -lt "$B_FILES" ]; then pass "$step:6: died mid-batch ($left files left)"
	else fail "$step:6: died mid-batch" "files left in the inbox: $left of $B_FILES"; fi
	run_once
	expect_eq "$step:6: restart: exit 0" 0 "$RC"
	batch_finished
	expect_eq "$step:6: restart: finished" 0 $?
	batch_dump "$WORK/$step.dump"
	batch_compare "$step:6: same end state as the uninterrupted run" "$WORK/ref.dump" "$WORK/$step.dump"

	# A crash at (nearly) every file: each run redoes what the last left.
	batch_env "chain_$step"
	batch_drop
	kills=0
	for ((i = 0; i < 3 * B_FILES; i++)); do
		ATTESTD_CRASH_AT=$step:2 run_once
		[ "$RC" -eq 137 ] || break
		kills=$((kills + 1))
	done
	expect_eq "$step:2 again and again: a run gets through at last" 0 "$RC"
	if [ "$kills" -ge $((B_FILES / 3)) ]; then pass "$step:2: $kills crashes"
	else fail "$step:2: crashes at many files" "only $kills crashes for $B_FILES files"; fi
	batch_finished
	expect_eq "$step:2: finished" 0 $?
	batch_dump "$WORK/chain_$step.dump"
	batch_compare "$step:2: same end state as the uninterrupted run" "$WORK/ref.dump" "$WORK/chain_$step.dump"
done

finish
