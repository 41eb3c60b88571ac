#!/usr/bin/env bash
# kill -9 at random moments: the service (attestd run) on a batch, killed
# KILLS times and restarted each time, then left to finish, ends with the
# end state of an uninterrupted run of the same batch on a fresh database.
# make check runs a small one; `make kill-test` the campaign (KILLS=50
# FILES=500).  KILL_SEED replays a campaign.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.sh"
. "$(dirname "$0")/batch.sh"
scenario_init || { fail "scenario_init"; finish; exit 1; }
KILLS=${KILLS:-5}
FILES=${FILES:-40}
KILL_SEED=${KILL_SEED:-$(( $(date +%s) % 32768 ))}
RANDOM=$KILL_SEED

batch_make "$FILES" || { fail "batch_make"; finish; exit 1; }

# service_start: attestd run in the background, $pid, log in $R/daemon.log.
service_start() {
	ATTESTD_TEST_NOW=$NOW "$ATTESTD" run --foreground 2>>"$R/daemon.log" &
	pid=$!
}

# Long enough for the slowest machine to go through the batch.
limit=$((60 + B_FILES / 2))

batch_env ref || { fail "batch_env ref"; finish; exit 1; }
batch_drop
t0=$(date +%s%N)
service_start
batch_wait "$limit" batch_finished
expect_eq "uninterrupted service: the batch is processed" 0 $?
ref_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
kill -TERM "$pid"; wait "$pid"
expect_eq "uninterrupted service: SIGTERM, exit 0" 0 $?
sanitizer_clean "uninterrupted service: sanitizer clean" "$R/daemon.log"
batch_dump "$WORK/ref.dump"
expect_eq "uninterrupted service: every file has its row" "$B_FILES" "$(sql "SELECT count(*) FROM attestd.submissions")"

batch_env kill
batch_drop
in_hand=0 early=0
inbox_left() { ls "$R/inbox/$APPROVAL" | wc -l; }
# Each run is killed after taking a random number of files (0 to about
# 1.2 times its share: some die starting up, some deep into the batch), a
# random few milliseconds into the next one.
span=$((6 * B_FILES / (5 * KILLS) + 1))
t0=$(date +%s%N)
for ((k = 1; k <= KILLS; k++)); do
	target=$(( $(inbox_left) - RANDOM % span ))
	[ "$target" -lt 1 ] && target=1
	service_start
	for ((i = 0; i < 3000; i++)); do
		[ "$(inbox_left)" -le "$target" ] && break
		sleep 0.01
	done
	sleep "$(printf '0.%03d' $((RANDOM % 30)))"
	[ "$(inbox_left)" -eq 0 ] && early=$((early + 1))
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	# A claimed file not yet finished: the kill came with work in hand.
	[ -n "$(find "$R/spool" -type f ! -name '.status.*')" ] && in_hand=$((in_hand + 1))
done
done_at_end=$(sql "SELECT count(*) FROM attestd.submissions")
stale=$(ls -A "$R/spool" | grep -c '^\.status\.')
service_start
batch_wait "$limit" batch_finished
expect_eq "after $KILLS kills: the batch is processed" 0 $?
batch_wait 20 test -f "$R/spool/.status.$pid"
expect_eq "the killed runs' status files are swept at start-up" ".status.$pid" "$(ls -A "$R/spool" | grep '^\.status\.')"
kill -TERM "$pid"; wait "$pid"
expect_eq "after $KILLS kills: SIGTERM, exit 0" 0 $?
kill_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
sanitizer_clean "after $KILLS kills: sanitizer clean" "$R/daemon.log"
batch_dump "$WORK/kill.dump"
batch_compare "after $KILLS kills: same end state as the uninterrupted run" "$WORK/ref.dump" "$WORK/kill.dump"
if [ "$early" -le $((KILLS / 4)) ]; then pass "kills mid-batch: $((KILLS - early)) of $KILLS"
else fail "kills mid-batch" "$early of $KILLS kills came with the inbox already empty"; fi
expect_no_match "no error logged" 'level=error' "$(cat "$R/daemon.log")"
echo "        (seed $KILL_SEED: $B_FILES files, $KILLS kills, $in_hand with a file in hand," \
	"$done_at_end files done when the kills ended; uninterrupted ${ref_ms} ms, with kills ${kill_ms} ms;" \
	"$stale status file(s) of killed runs before the last start)"
finish
