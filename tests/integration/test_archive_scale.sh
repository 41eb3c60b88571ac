#!/usr/bin/env bash
# Costs that must not grow with the archive (issue 19), checked on the plans
# rather than on timings: every query the auditors' commands and `status`
# send is EXPLAINed by the server itself (auto_explain, in this test's
# database only), with sequential scans priced out (enable_seqscan = off)
# so that a plan still reading a whole table means no index can serve it.
# No plan may read all of attestations, submissions or the other large
# tables: a Seq Scan, or an index scan with no condition on a non-partial
# index.  The data is make bench-archive's generator (tests/bench/archive.sh)
# at a small size, which also checks the generator runs.
. "$(dirname "$0")/lib.sh"
fresh_db
LOG=$PGWORK/postgres.log
[ -f "$LOG" ] || { fail "the cluster's log $LOG is there"; finish; exit 1; }
[ -x "$TOP/${BUILD:-build/release}/tests/bench_gen" ] || make -s -C "$TOP" "${BUILD:-build/release}/tests/bench_gen" >/dev/null ||
	{ fail "bench_gen built"; finish; exit 1; }

export STAGES_PER_YEAR=60 LICENCES=600 EVENTS=1500
. "$TOP/tests/bench/archive.sh"
set +e
out=$(archive_generate "$DB" "$WORK" 1 2>&1)
expect_eq "the archive generator runs" "" "$out"
expect_eq "its stages" 60 "$(sql "SELECT count(*) FROM attestd.stages")"
expect_eq "its archive: the originals and the distinct scans" \
	"$(sql "SELECT count(DISTINCT sha256) FROM audit.archived_files")" "$(find "$WORK/archive" -type f | wc -l)"
f=$(find "$WORK/archive" -type f | head -1)
expect_eq "an archived file's name is its SHA-256" "$(basename "$f")" "$(sha256sum < "$f" | cut -d' ' -f1)"
expect_match "the quarantine holds the rejected files" '[0-9]' "$(find "$WORK/quarantine" -type f -name '*.xml' | wc -l)"
run_attestd audit verify-archive
expect_eq "verify-archive: the generated archive is whole" 0 "$RC"

# Each index of the schema: its table, its first key (a condition on
# another key reads the whole index), whether it is partial (a scan of it
# reads only its few rows, condition or not).
sql "SELECT c.relname, t.relname, pg_get_indexdef(i.indexrelid, 1, true), i.indpred IS NOT NULL
	FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
	JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'attestd'" > "$WORK/indexes"
pg_admin -q -c "ALTER DATABASE \"$DB\" SET session_preload_libraries = 'auto_explain'" \
	-c "ALTER DATABASE \"$DB\" SET auto_explain.log_min_duration = 0" \
	-c "ALTER DATABASE \"$DB\" SET enable_seqscan = off" >/dev/null

# full_scans OFFSET [MORE]: the plans logged since OFFSET that read the
# whole of a large table (stages and the registries' small tables may be
# hashed whole for a join, unless MORE, a regex of table names, adds them).
full_scans() {
	local big='attestations|submissions|signin_participants|decision_history|receipts|licence_events|balance_history'
	tail -c +"$1" "$LOG" | awk -F'|' -v big="^($big${2:+|$2})\$" '
		FILENAME == ARGV[1] { tab[$1] = $2; key[$1] = $3; part[$1] = $4; next }
		function done_node(   k) {
			if (rel ~ big) {
				if (type == "Seq Scan")
					print "Seq Scan on " rel
				else if (type != "" && part[idx] != "t" && index(cond, key[idx]) == 0)
					print type " of " rel " using " idx (cond == "" ? " (no condition)" : " (not on its first key " key[idx] ")")
			}
			rel = ""; type = ""; idx = ""; cond = ""
		}
		/\(cost=/ {
			done_node()
			if (match($0, /Seq Scan on [a-z_]+/)) {
				type = "Seq Scan"; rel = substr($0, RSTART + 12, RLENGTH - 12)
			} else if (match($0, /(Index Only Scan|Index Scan) using [a-z0-9_]+/)) {
				type = "Index Scan"; s = substr($0, RSTART, RLENGTH); sub(/.* using /, "", s); idx = s; rel = tab[idx]
			} else if (match($0, /Bitmap Index Scan on [a-z0-9_]+/)) {
				type = "Bitmap Index Scan"; idx = substr($0, RSTART + 21, RLENGTH - 21); rel = tab[idx]
			}
			next
		}
		/Index Cond:/ { cond = $0 }
		/LOG: / { done_node() }
		END { done_node() }' "$WORK/indexes" -
}
plans() { tail -c +"$1" "$LOG" | grep -c 'Query Text:.*\(audit\.\|attestd\.\)'; }

lic=$(sql "SELECT licence FROM attestd.attestations ORDER BY id DESC LIMIT 1")
centre=$(sql "SELECT approval FROM attestd.attestations ORDER BY id LIMIT 1")
month_from=$(sql "SELECT date_trunc('month', max(first_day))::date FROM attestd.attestations")
month_to=$(sql "SELECT (date_trunc('month', max(first_day)) + interval '1 month - 1 day')::date FROM attestd.attestations")
# A plan is logged by the command's backend when its query ends, which may
# be after the command has had its reply (a portal closed at the end of the
# session): every backend of this database gone means all their lines are
# in the log (a backend leaves pg_stat_activity only after its last line).
backends_gone() {
	[ "$(pg_admin -At -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DB'")" = 0 ]
}
# check WHAT [--stages] COMMAND...: the command's plans read no large
# table whole (with --stages, not stages either: its question needs a few
# stages, not a hash of all of them).
check() {
	local what=$1; shift
	local more=
	[ "$1" != --stages ] || { more=stages; shift; }
	local off
	off=$(($(stat -c %s "$LOG") + 1))
	run_attestd "$@"
	expect_eq "$what: exit 0" 0 "$RC"
	wait_until 60 backends_gone || fail "$what: its backends ended"
	logged "$off"
	local n
	n=$(plans "$off")
	expect_match "$what: its plans were logged" '^[1-9]' "$n"
	expect_eq "$what: no full scan of a large table" "" "$(full_scans "$off" "$more")"
}
# logged OFFSET: waits for the server to have logged the plans of the
# statements sent since OFFSET, up to a marker statement sent last (the
# log line is written after the reply, so the reply alone says nothing).
logged() {
	local mark="SELECT 'plans-logged-$RANDOM$RANDOM' AS attestd"
	sql "$mark" >/dev/null
	wait_until 30 grep -qF "$mark" <(tail -c +"$1" "$LOG") || fail "the server logged the plans since $1"
}
check "audit attestations --centre --from --to" audit attestations --centre "$centre" --from "$month_from" --to "$month_to" --format csv
# A month of all centres names each row's stage by the stages' key,
# remembered per stage, not by a hash of every stage of the archive.
check "audit attestations --from --to" --stages audit attestations --from "$month_from" --to "$month_to" --format csv
check "audit attestations --licence" audit attestations --licence "$lic" --format csv
check "audit licence" audit licence "$lic" --format csv
off_centre=$(($(stat -c %s "$LOG") + 1))
check "audit centre" audit centre "$centre" --format csv
# Its rejections are the centre's rejected attestations (018's partial
# index), not every attestation of the centre read to keep a few (a
# heap page each on years of data; bounded by the centre, so the check
# above does not see it).
expect_match "audit centre: it lists rejected attestations" '^attestation,' "$OUT"
expect_eq "audit centre: its rejections read only the rejected attestations" "" \
	"$(tail -c +"$off_centre" "$LOG" | grep -o 'using attestations_approval_number_key\|on attestations_approval_number_key' | head -1)"
expect_match "audit centre: ... through the index of rejected attestations" 'attestations_undecided_rejected' \
	"$(tail -c +"$off_centre" "$LOG")"
check "audit overdue" --stages audit overdue --format csv
check "status" status
# The monthly report reads the month's counts (014's summary for the
# decisions), not the archive; CSV and HTML send the same queries.
check "audit report --month" --stages audit report --month "${month_from:0:7}" --format csv
expect_match "audit report --month: the decisions' counts, from the summary" '^"credited","[1-9]' "$OUT"
# An auditor's counts per reason for a year, in SQL on the summary.
off=$(($(stat -c %s "$LOG") + 1))
year=$(sql "SELECT month, decision, reason, sum(attestations) FROM audit.monthly_decisions
	WHERE month >= date_trunc('month', '$month_from'::date) - interval '11 months'
	AND month <= '$month_from' GROUP BY 1, 2, 3")
expect_match "a year's counts per month and reason: rows" '\|rejected\|late_arrival\|[1-9]' "$year"
wait_until 60 backends_gone || fail "a year's counts: its backend ended"
logged "$off"
expect_eq "a year's counts per month and reason: no full scan" "" "$(full_scans "$off" stages)"

# The period's bounded reading returns the rows of its plain condition
# (first_day >= from, last_day <= to), an inverted stage's included: one
# whose first day falls after the period though its last day is in it.
inv=$(sql "UPDATE attestd.attestations SET first_day = '$month_to'::date + 1 WHERE id = (SELECT id
	FROM attestd.attestations WHERE last_day BETWEEN '$month_from' AND '$month_to' ORDER BY id LIMIT 1)
	RETURNING number" | head -1)
expect_match "an attestation made inverted" '.' "$inv"
run_attestd audit attestations --from "$month_from" --to "$month_to" --format csv
expect_eq "audit attestations --from --to: the rows of the plain condition, the inverted one with them" \
	"$(sql "SELECT count(*) FROM audit.attestation_decisions WHERE first_day >= '$month_from' AND last_day <= '$month_to'")|1" \
	"$(($(printf '%s\n' "$OUT" | wc -l) - 1))|$(printf '%s\n' "$OUT" | grep -c ",$inv,")"

# The check itself finds what it guards: without the month's index, the
# all-centres month reads the whole of attestations.
sql "DROP INDEX attestd.attestations_first_day" >/dev/null
off=$(($(stat -c %s "$LOG") + 1))
run_attestd audit attestations --from "$month_from" --to "$month_to" --format csv
wait_until 60 backends_gone || fail "without the index: its backends ended"
logged "$off"
expect_match "without attestations (first_day): a full scan is seen" 'of attestations|on attestations' "$(full_scans "$off")"
finish
