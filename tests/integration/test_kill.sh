#!/usr/bin/env bash
# kill -9 in the middle of files: the service (attestd run) on a batch,
# killed until KILLS kills came with a file in hand (at crash points and
# from outside at random moments) and restarted each time, then left to
# finish, ends with the end state of an uninterrupted run of the same batch
# on a fresh database: nothing lost, nothing done twice, nothing rejected.
# make check runs a small one; `make kill-test` the campaign (KILLS=50
# FILES=500).  KILL_SEED replays a campaign.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.sh"
. "$(dirname "$0")/batch.sh"
scenario_init || { fail "scenario_init"; finish; exit 1; }
KILLS=${KILLS:-5}
FILES=${FILES:-40}
KILL_SEED=${KILL_SEED:-$((EPOCHSECONDS % 32768))}
RANDOM=$KILL_SEED

batch_make "$FILES" || { fail "batch_make"; finish; exit 1; }

# service_start: attestd run in the background, $pid, log in $R/daemon.log.
# ATTESTD_CRASH_AT=STEP:N before it: a run that dies at a crash point.
service_start() {
	ATTESTD_CRASH_AT=${ATTESTD_CRASH_AT:-} ATTESTD_TEST_NOW=$NOW "$ATTESTD" run --foreground 2>>"$R/daemon.log" &
	pid=$!
}

# Long enough for the slowest machine to go through the batch.
limit=$((300 + B_FILES))

batch_env ref || { fail "batch_env ref"; finish; exit 1; }
batch_drop
t0=$(date +%s%N)
service_start
wait_until "$limit" batch_finished
expect_eq "uninterrupted service: the batch is processed" 0 $?
ref_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
kill -TERM "$pid"; wait "$pid"
expect_eq "uninterrupted service: SIGTERM, exit 0" 0 $?
sanitizer_clean "uninterrupted service: sanitizer clean" "$R/daemon.log"
batch_dump "$WORK/ref.dump"
expect_eq "uninterrupted service: every file has its row" "$B_FILES" "$(sql "SELECT count(*) FROM attestd.submissions")"

batch_env kill
batch_drop
# In bash, without a process: inbox_at_most and gone are polled (every
# 0.01 s for the one).
inbox_left() { dir_count "$R/inbox/$APPROVAL"; echo "$DIR_N"; }
inbox_at_most() { dir_count "$R/inbox/$APPROVAL"; [ "$DIR_N" -le "$1" ]; }
# Gone: exited, or a zombie not yet waited for (kill -0 still finds those):
# the state in /proc/PID/stat, after the command's closing parenthesis.
gone() {
	local st
	{ read -r st < "/proc/$1/stat"; } 2>/dev/null || return 0
	st=${st##*) }
	[ "${st:0:1}" = Z ]
}
exited_or_finished() { gone "$pid" || batch_finished; }
# Kills until KILLS of them came with a file in hand, whatever the speed of
# the machine.  Every other run dies at a random crash point, the N-th time
# it gets there (ATTESTD_CRASH_AT: in the middle of a file by construction);
# the others are killed with -9 from outside a few random milliseconds after
# they took a random number of files (0 to about twice their share), and
# count when the spool holds a claimed file after the kill; one that fell
# between two files is tried again.  Enough of the batch is kept for the
# crash points that are still owed.
STEPS=(after_claim after_parse before_commit after_commit after_archive after_receipt)
span=$((B_FILES / (2 * KILLS) + 1))
in_hand=0 at_points=0 outside=0 missed=0 attempts=0
t0=$(date +%s%N)
while [ "$in_hand" -lt "$KILLS" ] && [ "$attempts" -lt $((4 * KILLS)) ] && ! batch_finished; do
	attempts=$((attempts + 1))
	if [ $((attempts % 2)) -eq 1 ] || [ "$(inbox_left)" -le $(((span + 1) * (KILLS - in_hand))) ]; then
		ATTESTD_CRASH_AT=${STEPS[RANDOM % ${#STEPS[@]}]}:$((1 + RANDOM % span)) service_start
		wait_until "$limit" exited_or_finished
		if gone "$pid"; then
			wait "$pid" 2>/dev/null
			rc=$?
			if [ "$rc" -eq 137 ]; then in_hand=$((in_hand + 1)) at_points=$((at_points + 1))
			else fail "a run with a crash point dies there" "exit $rc"; fi
		else
			# The batch ran out before the crash point's N-th passage.
			kill -TERM "$pid"; wait "$pid" 2>/dev/null
		fi
		continue
	fi
	target=$(( $(inbox_left) - 1 - RANDOM % span ))
	[ "$target" -lt 1 ] && target=1
	service_start
	WAIT_POLL=0.01 wait_until "$limit" inbox_at_most "$target"
	printf -v ms '0.%03d' $((RANDOM % 30))
	nap "$ms"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	# A claimed file not yet finished: the kill came with work in hand.
	if [ -n "$(find "$R/spool" -type f ! -name '.status.*')" ]; then
		in_hand=$((in_hand + 1)) outside=$((outside + 1))
	else
		missed=$((missed + 1))
	fi
done
kills=$((at_points + outside))
done_at_end=$(sql "SELECT count(*) FROM attestd.submissions")
stale=$(ls -A "$R/spool" | grep -c '^\.status\.')
service_start
wait_until "$limit" batch_finished
expect_eq "after the kills: the batch is processed" 0 $?
wait_until 60 test -f "$R/spool/.status.$pid"
expect_eq "the killed runs' status files are swept at start-up" ".status.$pid" "$(ls -A "$R/spool" | grep '^\.status\.')"
kill -TERM "$pid"; wait "$pid"
expect_eq "after the kills: SIGTERM, exit 0" 0 $?
kill_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
sanitizer_clean "after the kills: sanitizer clean" "$R/daemon.log"
batch_dump "$WORK/kill.dump"
batch_compare "after the kills: same end state as the uninterrupted run" "$WORK/ref.dump" "$WORK/kill.dump"
if [ "$in_hand" -ge "$KILLS" ]; then pass "$KILLS kills with a file in hand ($at_points at crash points, $outside from outside)"
else fail "$KILLS kills with a file in hand" "only $in_hand ($at_points at crash points, $outside from outside, $missed between files) in $attempts runs"; fi
expect_no_match "no error logged" 'level=error' "$(<"$R/daemon.log")"
echo "        (seed $KILL_SEED: $B_FILES files, $kills kills, $in_hand with a file in hand, $missed between files," \
	"$done_at_end files done when the kills ended; uninterrupted ${ref_ms} ms, with kills ${kill_ms} ms;" \
	"$stale status file(s) of killed runs before the last start)"
finish
