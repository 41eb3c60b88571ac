#!/usr/bin/env bash
# What a registry import leaves behind (issue 17 §4, issue 11 item 2,
# issue 18 §2): one audit-log row and one syslog line per import, with the
# file's SHA-256 and name, the counts, the OS user and --by; `attestd audit
# log` shows them and `audit verify-log` covers them; every licence with a
# grant has its balance, and each balance the import changed a history row
# naming it; progress on a terminal, silence elsewhere.
. "$(dirname "$0")/lib.sh"
fresh_db
run_attestd db migrate
expect_eq "migrate" 0 "$RC"
C=$WORK/csv
mkdir -p "$C"
export ATTESTD_TEST_NOW=2026-11-17T09:00:00+01:00
ME=$(id -un)

# with_syslog CMD...: runs CMD with a syslog of its own (a private /dev/log
# in a mount namespace), its lines in $WORK/syslog; sets OUT ERR RC.
with_syslog() {
	command -v unshare >/dev/null || { fail "unshare (util-linux) is needed to read the syslog line"; return; }
	local d=$WORK/ns
	rm -rf "$d"; mkdir -p "$d/realdev" "$d/dev"; : > "$WORK/syslog"
	OUT=$(unshare -m bash -c '
		set -e
		d=$1; shift
		mount --make-rprivate /
		mount --rbind /dev "$d/realdev"
		for f in null zero tty urandom random pts ptmx fd stdin stdout stderr shm; do
			ln -s "$d/realdev/$f" "$d/dev/$f"
		done
		mount --bind "$d/dev" /dev
		python3 -u -c "
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(\"/dev/log\")
open(sys.argv[2], \"w\").close()
with open(sys.argv[1], \"ab\") as out:
    while True:
        out.write(s.recv(65536) + b\"\\n\"); out.flush()
" "$d/../syslog" "$d/ready" &
		listener=$!
		for i in $(seq 600); do [ -e "$d/ready" ] && break; sleep 0.1; done
		set +e
		"$@"
		rc=$?
		# The command has sent its lines; the listener may not have read
		# them yet.  A last datagram, read after them (a socket keeps
		# their order), says when it has.
		logger -u /dev/log -d "with_syslog: end of the command" 2>/dev/null
		for i in $(seq 600); do
			grep -q "with_syslog: end of the command" "$d/../syslog" && break
			sleep 0.1
		done
		kill $listener
		exit $rc
	' with_syslog "$d" "$ATTESTD" "$@" 2>"$WORK/stderr")
	RC=$?
	ERR=$(<"$WORK/stderr")
}

cat > "$C/licences.csv" <<'CSV'
licence,surname,given_names,birth_date,issued,probation_end,status,status_date
120575300042,MARTIN,Claire,1990-04-12,2009-06-01,,valid,
210412300077,NGUYEN,Bao,2003-02-01,2025-06-01,2028-06-01,valid,
190101300011,LEGER,Jean,1970-01-01,1990-01-01,,valid,
CSV
with_syslog registry import licences "$C/licences.csv" --by "Marie Dupont"
expect_eq "licences: exit 0" 0 "$RC"
LIC_SHA=$(sha256sum "$C/licences.csv" | cut -d' ' -f1)
row=$(sql "SELECT actor || '|' || action || '|' || subject || '|' || detail FROM audit.log WHERE action = 'registry.import' ORDER BY seq")
expect_eq "one audit row" 1 "$(printf '%s\n' "$row" | grep -c .)"
expect_eq "audit row: who, what, the facts" \
	"Marie Dupont|registry.import|licences|kind=licences file=\"$C/licences.csv\" sha256=$LIC_SHA records=3 added=3 changed=0 removed=0 unchanged=0 encoding=utf-8 separator=\",\" os_user=\"$ME\" by=\"Marie Dupont\"" \
	"$row"
expect_match "syslog: the same facts, once committed" \
	"attestd\[[0-9]+\]: action=registry-import outcome=committed kind=licences file=\"$C/licences.csv\" sha256=$LIC_SHA records=3 added=3 changed=0 removed=0 unchanged=0 encoding=utf-8 separator=\",\" os_user=\"$ME\" by=\"Marie Dupont\"" \
	"$(<"$WORK/syslog")"

# --- balances: every licence with a grant, history naming the import ------------------
cat > "$C/events.csv" <<'CSV'
licence,effective_date,kind,points,ref
120575300042,2009-06-01,grant,12,G-120575300042
120575300042,2026-03-01,retrait,-5,R-2026-0001
210412300077,2025-06-01,grant,6,G-210412300077
CSV
with_syslog registry import events "$C/events.csv"
expect_eq "events: exit 0" 0 "$RC"
expect_eq "every licence with a grant has its balance; none without" \
	"120575300042 7 12|210412300077 6 6" \
	"$(sql "SELECT string_agg(licence || ' ' || balance || ' ' || ceiling, '|' ORDER BY licence) FROM audit.licence_balances")"
expect_eq "their history names the import" \
	"120575300042  7 registry import events events.csv|210412300077  6 registry import events events.csv" \
	"$(sql "SELECT string_agg(licence || ' ' || coalesce(old_balance::text, '') || ' ' || new_balance || ' ' || cause, '|' ORDER BY licence) FROM audit.balance_history")"
EV_SHA=$(sha256sum "$C/events.csv" | cut -d' ' -f1)
expect_eq "events: the OS user acts when no --by" \
	"$ME|events|kind=events file=\"$C/events.csv\" sha256=$EV_SHA records=3 added=3 changed=0 removed=0 unchanged=0 encoding=utf-8 separator=\",\" os_user=\"$ME\"" \
	"$(sql "SELECT actor || '|' || subject || '|' || detail FROM audit.log WHERE action = 'registry.import' ORDER BY seq DESC LIMIT 1")"
expect_match "events: its syslog line" "action=registry-import outcome=committed kind=events .*sha256=$EV_SHA records=3 added=3" "$(<"$WORK/syslog")"

# A fine paid late: an earlier retrait moves one balance, history names it;
# the re-import moves none and adds no history, but is on the log.
printf 'licence,effective_date,kind,points,ref\n120575300042,2025-01-10,retrait,-2,R-2025-0009\n' > "$C/late.csv"
run_attestd registry import events "$C/late.csv"
expect_eq "late retrait: balance 5" "5" "$(sql "SELECT balance FROM audit.licence_balances WHERE licence = '120575300042'")"
expect_eq "late retrait: its history row" "7 5 registry import events late.csv" \
	"$(sql "SELECT old_balance || ' ' || new_balance || ' ' || cause FROM audit.balance_history WHERE licence = '120575300042' ORDER BY changed_at DESC, old_balance LIMIT 1")"
n_hist=$(sql "SELECT count(*) FROM audit.balance_history")
run_attestd registry import events "$C/events.csv"
expect_eq "re-import: no history row" "$n_hist" "$(sql "SELECT count(*) FROM audit.balance_history")"
expect_eq "re-import: on the audit log all the same" "4" "$(sql "SELECT count(*) FROM audit.log WHERE action = 'registry.import'")"

# A licence that gets a grant through a licences import of a licence
# whose events are already there (a database from before this change):
# the next import gives it its balance, though the file does not change
# that licence.  The same import changes another licence's registry row
# (a name): replayed, its balance does not move, so its balance row is
# not written again (same row version) and it gets no history row.
sql "DELETE FROM attestd.licence_balances WHERE licence = '210412300077'" >/dev/null
xmin_before=$(sql "SELECT xmin FROM attestd.licence_balances WHERE licence = '120575300042'")
n_hist=$(sql "SELECT count(*) FROM audit.balance_history")
sed 's/,MARTIN,Claire,/,MARTIN,Claire Anne,/' "$C/licences.csv" > "$C/renamed.csv"
run_attestd registry import licences "$C/renamed.csv"
expect_match "licences import: one licence changed" "3 records: 0 new, 1 updated, 2 unchanged" "$OUT"
expect_eq "licences import: a grant without a balance gets one" "6" \
	"$(sql "SELECT balance FROM audit.licence_balances WHERE licence = '210412300077'")"
expect_eq "licences import: a replayed balance that did not move is not rewritten" \
	"$xmin_before" "$(sql "SELECT xmin FROM attestd.licence_balances WHERE licence = '120575300042'")"
expect_eq "licences import: history only for the balance it gave" \
	"$((n_hist + 1)) 210412300077  6" \
	"$(sql "SELECT count(*) FROM audit.balance_history") $(sql "SELECT licence || ' ' || coalesce(old_balance::text, '') || ' ' || new_balance FROM attestd.balance_history ORDER BY id DESC LIMIT 1")"

# A refused import is not on the log.
printf 'licence,effective_date,kind,points,ref\n999999999999,2026-01-01,grant,12,G-9\n' > "$C/bad.csv"
run_attestd registry import events "$C/bad.csv"
expect_eq "refused: exit 1" 1 "$RC"
expect_eq "refused: no audit row" "5" "$(sql "SELECT count(*) FROM audit.log WHERE action = 'registry.import'")"

# --- attestd audit log; verify-log covers the rows -------------------------------------------
run_attestd audit log --action registry --format csv
expect_eq "audit log: exit 0" 0 "$RC"
expect_eq "audit log csv: header" "seq,at,actor,action,subject,detail" "$(printf '%s\n' "$OUT" | head -1)"
expect_eq "audit log csv: the five imports" 5 "$(printf '%s\n' "$OUT" | grep -c ',registry.import,')"
expect_match "audit log csv: the first with --by" '^[0-9]+,[^,]+,Marie Dupont,registry.import,licences,"kind=licences' "$OUT"
run_attestd audit log --action registry.import --from 2000-01-01 --format json
expect_eq "audit log json: five rows" 5 "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
run_attestd audit log --action review --format csv
expect_eq "audit log: another action filters them out" 1 "$(printf '%s\n' "$OUT" | grep -c .)"
run_attestd audit log --from 2999-01-01 --format table
expect_match "audit log table: empty range" '\(0 rows\)' "$OUT"
run_attestd audit log --licence 120575300042
expect_eq "audit log: --licence is no filter of it" 2 "$RC"
run_attestd audit verify-log
expect_eq "verify-log: the chain holds with the imports" 0 "$RC"
expect_match "verify-log: counts them" "$(sql "SELECT max(seq) FROM audit.log") rows" "$OUT"
# An import's row changed afterwards (another file's hash): verify-log names it.
seq1=$(sql "SELECT min(seq) FROM audit.log WHERE action = 'registry.import'")
pg_admin -q -d "$DB" -c "ALTER TABLE audit.log_entries DISABLE TRIGGER USER" \
	-c "UPDATE audit.log_entries SET detail = replace(detail, '$LIC_SHA', repeat('0', 64)) WHERE seq = $seq1" \
	-c "ALTER TABLE audit.log_entries ENABLE TRIGGER USER" >/dev/null
run_attestd audit verify-log
expect_eq "verify-log: an import's row edited: exit 1" 1 "$RC"
expect_match "verify-log: names the import's row" "BROKEN at row $seq1" "$OUT"
pg_admin -q -d "$DB" -c "ALTER TABLE audit.log_entries DISABLE TRIGGER USER" \
	-c "UPDATE audit.log_entries SET detail = replace(detail, repeat('0', 64), '$LIC_SHA') WHERE seq = $seq1" \
	-c "ALTER TABLE audit.log_entries ENABLE TRIGGER USER" >/dev/null
run_attestd audit verify-log
expect_eq "verify-log: restored, intact again" 0 "$RC"

# --- progress: on a terminal only --------------------------------------------------------------
{ echo 'licence,surname,given_names,birth_date,issued,probation_end,status,status_date'
  for i in $(seq 2000); do printf '4%011d,N,P,1980-01-01,2000-01-01,,valid,\n' "$i"; done; } > "$C/more.csv"
script -qec "$ATTESTD registry import licences $C/more.csv" /dev/null > "$WORK/tty.out" 2>&1
expect_eq "on a terminal: exit 0" 0 "$?"
tty_out=$(tr '\r' '\n' < "$WORK/tty.out")
expect_match "on a terminal: rows, rows/s, percent of the file" 'more.csv: 2000 rows, [0-9]+ rows/s, 100%$' "$tty_out"
expect_match "on a terminal: the phases" 'more.csv: 2000 rows, [0-9]+ rows/s, 100%, validating' "$tty_out"
run_attestd registry import licences "$C/more.csv"
expect_no_match "not a terminal: no progress" 'rows/s' "$ERR$OUT"
expect_eq "not a terminal: nothing on stderr" "" "$ERR"
script -qec "$ATTESTD audit verify-archive" /dev/null > "$WORK/tty.out" 2>&1
expect_match "verify-archive on a terminal: files, files/s" '^.*archive: 0 files, [0-9]+ files/s' "$(tr '\r' '\n' < "$WORK/tty.out")"
run_attestd audit verify-archive
expect_no_match "verify-archive elsewhere: silent" 'files/s' "$ERR$OUT"
# The log's rows are stamped with the real clock: purge on it (a shifted
# one earlier than them is refused, rightly).
unset ATTESTD_TEST_NOW
script -qec "$ATTESTD purge" /dev/null > "$WORK/tty.out" 2>&1
expect_match "purge on a terminal: files, files/s" '^.*purge: 0 files, [0-9]+ files/s' "$(tr '\r' '\n' < "$WORK/tty.out")"
run_attestd purge
expect_eq "purge elsewhere: exit 0" 0 "$RC"
expect_no_match "purge elsewhere: silent" 'files/s' "$ERR$OUT"

# --- the README's block, as printed ------------------------------------------------------------
block=$(awk '/<!-- test_registry_audit.sh runs this block -->/ { on = 1; next }
	on && /^```sh/ { inside = 1; next } inside && /^```/ { exit } inside { print }' "$TOP/README.md")
expect_eq "README block found (3 commands)" 3 "$(printf '%s\n' "$block" | grep -c '^attestd ')"
mkdir -p "$WORK/readme"
printf 'licence;surname;given_names;birth_date;issued;probation_end;status;status_date\r\n500000000001;L\xc9GER;\xc9lodie;1980-01-01;2000-01-01;;valid;\r\n' > "$WORK/readme/licences.csv"
printf 'licence,effective_date,kind,points,ref\n500000000001,2000-01-01,grant,12,G-500000000001\n' > "$WORK/readme/events.csv"
readme_out=$(cd "$WORK/readme" && attestd() { "$ATTESTD" "$@"; } && eval "$(printf '%s\n' "$block" | sed 's/$/ || echo "FAILED: $?"/')" 2>&1)
expect_no_match "README block: every command succeeds" 'FAILED' "$readme_out"
expect_match "README block: the import says separator and encoding" "licences.csv: separator ';', encoding windows-1252: 1 records: 1 new" "$readme_out"
expect_match "README block: audit log shows the imports by Marie Dupont" ',Marie Dupont,registry\.import,events,' "$readme_out"
expect_eq "README block: the balance is there" "12" "$(sql "SELECT balance FROM audit.licence_balances WHERE licence = '500000000001'")"

finish
