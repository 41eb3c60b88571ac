#!/usr/bin/env bash
# The pipeline end to end: a stage's two files in both orders, receipts,
# archive, audit rows, and the basic document-level rejections.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.sh"
scenario_init || { fail "scenario_init"; finish; exit 1; }

licence 120575300042 MARTIN Claire 1990-04-12
event 120575300042 2009-06-01 grant 12 G1
event 120575300042 2026-03-01 retrait -5 R1
registries

stage CH-2026-1113 2026-11-13 2026-11-14
trainee 120575300042 MARTIN Claire 1990-04-12
for i in 1 2 3 4 5; do SHEET_ONLY=1 trainee 99000000000$i "AUTRE" "Personne" 1980-01-0$i; done
attestations_file att.xml
sheet_file sheet.xml

# Attestations first: pending, awaiting the sheet.
drop att.xml
run_once
expect_eq "run --once: exit 0" 0 "$RC"
expect_match "one final log line per file" 'file=att.xml approval=R2402800010 sha256=[0-9a-f]{64} kind=attestations outcome=accepted reason=ok attestations=1 ms=' "$ERR"
expect_eq "attestation pending without its sheet" "pending 0 awaiting_signin_sheet " "$(decision CH-2026-1113-01)"
expect_match "first receipt written" 'status="accepted"' "$(cat "$(receipt att.xml 1)" 2>&1)"
expect_match "first receipt says pending" 'decision="pending"' "$(cat "$(receipt att.xml 1)" 2>&1)"
expect_eq "inbox emptied" "" "$(ls "$WORK/inbox/$APPROVAL")"
expect_eq "spool emptied" "" "$(find "$WORK/spool" -type f)"
sha=$(sha256sum "$WORK/out/att.xml" | cut -d' ' -f1)
expect_eq "original archived under its hash" "$sha" \
	"$(sha256sum "$WORK/archive/${sha:0:2}/${sha:2:2}/$sha" 2>/dev/null | cut -d' ' -f1)"

# Then the sheet: the attestation is decided in the sheet's transaction.
drop sheet.xml
run_once
expect_eq "sheet: exit 0" 0 "$RC"
expect_eq "decided when the sheet arrives: 7 + 4" "credited 4  " "$(decision CH-2026-1113-01)"
expect_eq "balance 11" "11" "$(balance 120575300042)"
expect_match "a second receipt for the attestations file" 'decision="credited" points="4" effective-date="2026-11-15"' \
	"$(cat "$(receipt att.xml 2)" 2>&1)"
expect_match "the sheet's own receipt" 'kind="signin-sheet".*status="accepted"' "$(tr -d '\n' < "$(receipt sheet.xml 1)" 2>&1)"
expect_eq "identity scans archived (6 participants + the sheet)" "8" "$(find "$WORK/archive" -type f | wc -l)"
expect_eq "balance history names the cause" "7|11" \
	"$(sql "SELECT old_balance || '|' || new_balance FROM audit.balance_history WHERE licence = '120575300042' AND cause LIKE 'signin-sheet submission %'")"
expect_eq "a stage_credit event in the ledger" "1" \
	"$(sql "SELECT count(*) FROM attestd.licence_events WHERE ref = 'stage:R2402800010:CH-2026-1113-01' AND points = 4 AND effective_date = '2026-11-15'")"
expect_eq "receipts verify with xmlsec1 against the prefecture certificate" "OK" \
	"$(xmlsec1 --verify --enabled-key-data x509 --trusted-pem "$WORK/pki/root.pem" "$(receipt att.xml 2)" 2>&1 | grep -o '^OK$')"
expect_eq "audit log: one row per file, chain intact" "2|true" \
	"$(sql "SELECT count(*) FILTER (WHERE action LIKE 'file.%') || '|' || bool_and(hash = audit.row_hash(prev_hash, seq, at, actor, action, subject, detail)) FROM audit.log")"

# Byte-identical again: duplicate, receipt repeats the current decisions.
drop att.xml
run_once
expect_match "duplicate logged" 'outcome=duplicate reason=duplicate_file' "$ERR"
dup=$(tr -d '\n' < "$(receipt att.xml 3)" 2>&1)
expect_match "duplicate receipt" 'status="duplicate".*first-file="att.xml"' "$dup"
expect_match "duplicate receipt repeats the decisions" 'decision="credited"' "$dup"
expect_eq "nothing twice" "1" "$(sql "SELECT count(*) FROM attestd.attestations")"

# Not well-formed: rejected, quarantined with its reason, receipt rejected.
printf '<attestations xmlns="urn:ssr:stage:1"' > "$WORK/out/broken.xml"
drop broken.xml
run_once
expect_match "rejected file logged" 'file=broken.xml .*outcome=rejected reason=not_well_formed' "$ERR"
expect_match "rejected receipt" 'status="rejected".*<error code="not_well_formed">line 1' "$(tr -d '\n' < "$(receipt broken.xml 1)")"
expect_eq "quarantined with a .reason" "1 1" \
	"$(find "$WORK/quarantine" -name '*broken.xml' | wc -l) $(find "$WORK/quarantine" -name '*broken.xml.reason' | wc -l)"
expect_eq "rejected submission row" "rejected|{not_well_formed}" \
	"$(sql "SELECT status || '|' || errors::text FROM audit.submissions WHERE file_name = 'broken.xml'")"

# A bad name and a symlink: never read.
cp "$WORK/out/broken.xml" "$WORK/inbox/$APPROVAL/bad name.xml"
ln -s /etc/passwd "$WORK/inbox/$APPROVAL/link.xml"
run_once
expect_match "bad name rejected" 'outcome=rejected reason=bad_file_name' "$ERR"
expect_match "symlink rejected" 'file=link.xml .*outcome=rejected reason=not_regular_file' "$ERR"
expect_eq "the symlink is quarantined as a link" "1" "$(find "$WORK/quarantine" -type l -name '*link.xml' | wc -l)"

# Start-up reconciliation: an archived file no row knows, a row whose file
# is gone, a quarantined file of no submission: reported, nothing deleted.
fake=$(printf 'stray' | sha256sum | cut -d' ' -f1)
mkdir -p "$WORK/archive/${fake:0:2}/${fake:2:2}"
printf 'stray' > "$WORK/archive/${fake:0:2}/${fake:2:2}/$fake"
mv "$WORK/archive/${sha:0:2}/${sha:2:2}/$sha" "$WORK/moved-away"
# Rows of the last ten minutes may still be being archived by another
# instance: age them, as if processed an hour ago, and the last clean
# comparison with them (attestd.reconcile_mark), as if two hours ago.
sql "UPDATE attestd.submissions SET processed_at = processed_at - interval '1 hour'" >/dev/null
expect_eq "a clean start-up leaves its mark" 1 "$(sql "SELECT count(*) FROM attestd.reconcile_mark WHERE clean_at > 0")"
sql "UPDATE attestd.reconcile_mark SET clean_at = clean_at - 7200" >/dev/null
echo x > "$WORK/quarantine/$APPROVAL/00000000001.000000001-deadbeef.x.xml"
run_once
expect_match "orphan archive file reported" "action=reconcile orphan=archive id=$fake" "$ERR"
expect_match "missing archive file reported" "action=reconcile missing=archive id=$sha" "$ERR"
expect_match "orphan quarantine file reported" 'action=reconcile orphan=quarantine id=00000000001.000000001-deadbeef' "$ERR"
expect_match "alarm summary" 'outcome=alarm archive_orphans=1 archive_missing=1 quarantine_orphans=1 quarantine_missing=0' "$ERR"
expect_eq "nothing deleted" "yes yes" \
	"$(test -f "$WORK/archive/${fake:0:2}/${fake:2:2}/$fake" && echo yes) $(test -f "$WORK/quarantine/$APPROVAL/00000000001.000000001-deadbeef.x.xml" && echo yes)"

# The start-up comparison costs what changed since the last clean one, not
# the archive: mended, one full look (the mark stayed while in alarm), then
# the next start reads no row and only the directories touched lately
# (issue 19: three years of archive must not be walked at every start).
rm "$WORK/archive/${fake:0:2}/${fake:2:2}/$fake" "$WORK/quarantine/$APPROVAL/00000000001.000000001-deadbeef.x.xml"
mv "$WORK/moved-away" "$WORK/archive/${sha:0:2}/${sha:2:2}/$sha"
run_once
expect_match "mended: clean again" 'action=reconcile outcome=ok since=[0-9]+ dirs=[0-9]+ dirs_read=[0-9]+ rows=[1-9]' "$ERR"
touch -d '2 hours ago' "$WORK"/archive/*/* "$WORK"/quarantine/*
sql "UPDATE attestd.reconcile_mark SET clean_at = extract(epoch FROM now())::bigint - 60" >/dev/null
run_once
expect_match "the next start reads nothing it already compared" \
	'action=reconcile outcome=ok since=[0-9]+ dirs=[1-9][0-9]* dirs_read=0 rows=0' "$ERR"
# A file that lands in the archive after that (by hand, or a crash of
# another host's purge) is in a directory changed since: found.
mkdir -p "$WORK/archive/${fake:0:2}/${fake:2:2}"
printf 'stray' > "$WORK/archive/${fake:0:2}/${fake:2:2}/$fake"
run_once
expect_match "a stray file after the mark: reported" "action=reconcile orphan=archive id=$fake" "$ERR"
expect_match "and only its directory read" 'outcome=alarm archive_orphans=1 archive_missing=0' "$ERR"
# The README's way to ask for a full comparison: forget the mark.
rm "$WORK/archive/${fake:0:2}/${fake:2:2}/$fake"
sql "DELETE FROM attestd.reconcile_mark" >/dev/null
run_once
dirs=$(printf '%s\n' "$ERR" | sed -n 's/.*action=reconcile outcome=ok since=0 dirs=\([0-9]*\) dirs_read=\([0-9]*\) .*/\1 \2/p')
expect_match "without a mark: every directory and row compared" '^([1-9][0-9]*) \1$' "$dirs"

# Without a mark the comparison is a merge of the archive's sorted listing
# with the database's sorted hashes: it finds what the look-ups find (a
# stray file, a recorded file gone, a quarantined file of no submission),
# and a file outside the directory its name gives, which no look-up finds.
printf 'stray' > "$WORK/archive/${fake:0:2}/${fake:2:2}/$fake"
mv "$WORK/archive/${sha:0:2}/${sha:2:2}/$sha" "$WORK/moved-away"
echo x > "$WORK/quarantine/$APPROVAL/00000000001.000000001-deadbeef.x.xml"
known=$(sql "SELECT id_sha256 FROM attestd.signin_participants ORDER BY id_sha256 LIMIT 1")
wrong=$([ "${known:0:2}" = ff ] && echo 00 || echo ff)
mkdir -p "$WORK/archive/$wrong/${known:2:2}"
cp "$WORK/archive/${known:0:2}/${known:2:2}/$known" "$WORK/archive/$wrong/${known:2:2}/$known"
sql "DELETE FROM attestd.reconcile_mark" >/dev/null
run_once
expect_match "full: orphan archive file reported" "action=reconcile orphan=archive id=$fake" "$ERR"
expect_match "full: missing archive file reported" "action=reconcile missing=archive id=$sha" "$ERR"
expect_match "full: orphan quarantine file reported" 'action=reconcile orphan=quarantine id=00000000001.000000001-deadbeef' "$ERR"
expect_match "full: a file outside its directory reported" \
	"action=reconcile orphan=archive id=$known detail=\"an archived file outside the directory its name gives \\(${known:0:2}/${known:2:2}/\\)" "$ERR"
expect_match "full: alarm summary" 'outcome=alarm archive_orphans=2 archive_missing=1 quarantine_orphans=1 quarantine_missing=0' "$ERR"
expect_eq "full: nothing deleted" "yes yes yes" \
	"$(test -f "$WORK/archive/${fake:0:2}/${fake:2:2}/$fake" && echo yes) $(test -f "$WORK/quarantine/$APPROVAL/00000000001.000000001-deadbeef.x.xml" && echo yes) $(test -f "$WORK/archive/$wrong/${known:2:2}/$known" && echo yes)"
# The same by the look-ups of an ordinary start (the mark is set by hand:
# an alarm leaves none): the misplaced file too.
sql "INSERT INTO attestd.reconcile_mark (clean_at) VALUES (extract(epoch FROM now())::bigint - 7200)" >/dev/null
run_once
expect_match "since a mark: a file outside its directory reported" \
	"action=reconcile orphan=archive id=$known detail=\"an archived file outside" "$ERR"
expect_match "since a mark: the same alarm" 'outcome=alarm archive_orphans=2 archive_missing=1 quarantine_orphans=1 quarantine_missing=0' "$ERR"
rm "$WORK/archive/${fake:0:2}/${fake:2:2}/$fake" "$WORK/archive/$wrong/${known:2:2}/$known" \
	"$WORK/quarantine/$APPROVAL/00000000001.000000001-deadbeef.x.xml"
mv "$WORK/moved-away" "$WORK/archive/${sha:0:2}/${sha:2:2}/$sha"
sql "DELETE FROM attestd.reconcile_mark" >/dev/null
run_once
expect_match "full, mended: clean, every hash row merged" 'action=reconcile outcome=ok since=0 dirs=[0-9]+ dirs_read=[0-9]+ rows=[1-9]' "$ERR"

# The service's full comparison feeds the watchdog and tells systemd where
# it is after each directory ab/ of the archive (a whole archive on a slow
# disk outlasts WatchdogSec=: killed before its first clean comparison, the
# service would start it again forever), then after each page of rows.
tops=$(find "$WORK/archive" -mindepth 1 -maxdepth 1 -type d -regex '.*/[0-9a-f][0-9a-f]' | wc -l)
sql "DELETE FROM attestd.reconcile_mark" >/dev/null
notify_listen "$WORK/notify" "$WORK/notify.log"
# A file waiting at start goes before the comparison (minutes on a slow
# disk): its centre does not wait for it.
drop att.xml
NOTIFY_SOCKET=$WORK/notify ATTESTD_TEST_NOW=$NOW "$ATTESTD" run --foreground 2>"$WORK/service.log" &
service=$!
wait_until 60 grep -q 'action=reconcile outcome=ok since=0' "$WORK/service.log" ||
	fail "service: the full comparison done" "$(cat "$WORK/service.log")"
expect_eq "service: the file waiting at start taken, then the archive compared" \
	"file=att.xml action=reconcile" \
	"$(grep -oE 'file=att\.xml|action=reconcile' "$WORK/service.log" | tr '\n' ' ' | sed 's/ $//')"
kill -TERM "$service"; wait "$service"
expect_eq "service: SIGTERM, exit 0" 0 $?
# STOPPING=1 is the last datagram: the ones before it are in the log then.
wait_until 60 grep -q '^STOPPING=1' "$WORK/notify.log" || fail "service: STOPPING=1 told"
kill "$NOTIFY_PID"; wait "$NOTIFY_PID" 2>/dev/null
# A datagram a line, its fields joined by " | ".
awk 'BEGIN { RS = ""; FS = "\n"; OFS = " | " } { $1 = $1; print }' "$WORK/notify.log" > "$WORK/datagrams"
ticks=$(grep -c '^WATCHDOG=1 | STATUS=comparing the archive with the database: [0-9]* of '"$tops"' archive directories$' "$WORK/datagrams")
expect_eq "service: a watchdog tick per archive directory ab/ ($tops)" "$tops" "$ticks"
expect_match "... the last one says all are done" "STATUS=comparing the archive with the database: $tops of $tops archive directories" \
	"$(grep 'archive directories$' "$WORK/datagrams" | tail -n 1)"
expect_match "... then the rows" '^WATCHDOG=1 \| STATUS=comparing the archive with the database: [1-9][0-9]* rows checked$' \
	"$(cat "$WORK/datagrams")"
expect_eq "... then, done, systemctl status says processing" "STATUS=processing" \
	"$(grep -o 'STATUS=.*' "$WORK/datagrams" | tail -n 1)"
if sanitizer_report "$(cat "$WORK/service.log")"; then
	fail "sanitizer clean: the service" "$(cat "$WORK/service.log")"
fi

# The database lost in the middle of a full comparison: held after the
# second archive directory, its session killed, let go.  An environment
# fault (exit 4), said once; nothing the comparison had not finished is
# called an orphan or missing; no mark, so the next start compares all.
sql "DELETE FROM attestd.reconcile_mark" >/dev/null
rm -f "$WORK/hold"
ATTESTD_HOLD_AT=reconcile_dir:2 ATTESTD_HOLD_FILE=$WORK/hold ATTESTD_TEST_NOW=$NOW \
	"$ATTESTD" run --once --foreground 2>"$WORK/lost.log" &
held=$!
if wait_until 60 test -f "$WORK/hold"; then
	killed=$(sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()")
	expect_eq "lost mid-comparison: its session killed" 1 "$killed"
else
	fail "lost mid-comparison: held after the second directory" "$(cat "$WORK/lost.log")"
fi
rm -f "$WORK/hold"
wait "$held"
expect_eq "lost mid-comparison: exit 4 (the database)" 4 $?
lost=$(<"$WORK/lost.log")
expect_match "... the comparison's error logged" 'action=reconcile outcome=error' "$lost"
expect_no_match "... nothing called an orphan or missing" 'action=reconcile (orphan|missing)=' "$lost"
expect_eq "... no mark left" 0 "$(sql "SELECT count(*) FROM attestd.reconcile_mark")"
if sanitizer_report "$lost"; then
	fail "sanitizer clean: lost mid-comparison" "$lost"
fi
run_once
expect_match "... the next start compares all, clean" 'action=reconcile outcome=ok since=0 ' "$ERR"

finish
