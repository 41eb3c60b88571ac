#!/usr/bin/env bash
# Exit codes of `attestd run --once` say whose problem it is (interfaces.md
# "Exit codes", issue 11 §3): an environment fault that kept the files for
# later — a stale CRL, free space below min_free_space, the database
# unreachable, the daemon's role lacking a privilege — is exit 4, each file
# left in the inbox or the spool and nothing rejected; exit 5 is for bugs
# only.  Once mended, the same files go through (exit 0).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.sh"
scenario_init || { fail "scenario_init"; finish; exit 1; }

licence EXIT00000001 DUPONT Jean 1980-05-05
event EXIT00000001 2009-06-01 grant 12 G-EXIT
event EXIT00000001 2024-06-01 retrait -5 R-EXIT
registries || fail "registries imported"
stage EXIT 2026-11-13 2026-11-14
trainee EXIT00000001 DUPONT Jean 1980-05-05
fillers 5
attestations_file exit-att.xml
sheet_file exit-sheet.xml
cp "$CONF" "$WORK/good.conf"

# kept: the files neither processed nor rejected, still in the inbox or the spool.
kept() {
	local n
	n=$(find "$WORK/inbox" "$WORK/spool" -type f -name '*exit-*.xml' | wc -l)
	echo "$n files kept, $(sql "SELECT count(*) FROM attestd.submissions") submissions, $(find "$WORK/quarantine" "$WORK/outbox" -type f | wc -l) quarantined or answered"
}

# --- a stale CRL (past its nextUpdate): the setup's fault -------------------------
sed -i "s|^centres_ca = .*|&\ncrl = $WORK/pki/crl-stale.pem|" "$CONF"
drop exit-att.xml
run_once
expect_eq "stale CRL: exit 4 (environment), not 5 (bug)" 4 "$RC"
expect_match "stale CRL: the log says crl_stale" 'reason=crl_stale' "$ERR"
expect_eq "stale CRL: the file kept, nothing rejected, no receipt" \
	"1 files kept, 0 submissions, 0 quarantined or answered" "$(kept)"

# --- free space below min_free_space -------------------------------------------------
cp "$WORK/good.conf" "$CONF"
echo "min_free_space = 1024GiB" >> "$CONF"
drop exit-sheet.xml
run_once
expect_eq "disk below min_free_space: exit 4" 4 "$RC"
expect_match "disk below min_free_space: the log says disk_full and what to do" \
	'reason=disk_full .*min_free_space' "$ERR"
expect_eq "disk below min_free_space: the files kept, nothing rejected" \
	"2 files kept, 0 submissions, 0 quarantined or answered" "$(kept)"
expect_eq "disk below min_free_space: nothing claimed from the inbox" 1 \
	"$(find "$WORK/inbox" -type f -name 'exit-sheet.xml' | wc -l)"

# --- the database unreachable ----------------------------------------------------------
cp "$WORK/good.conf" "$CONF"
sed -i "s|^conninfo = .*|conninfo = host=$PGHOST port=1 dbname=$DB user=attestd connect_timeout=5|" "$CONF"
run_once
expect_eq "database unreachable: exit 4" 4 "$RC"
expect_match "database unreachable: the log says db_unavailable" 'reason=db_unavailable' "$ERR"
expect_eq "database unreachable: the files kept" 2 \
	"$(find "$WORK/inbox" "$WORK/spool" -type f -name '*exit-*.xml' | wc -l)"

# --- the daemon's role lacking a privilege (42501): the setup's fault too -----------
# A grant taken back by hand, or conninfo naming another role: an operator
# mends it, so the file waits and the exit says environment, not bug.
cp "$WORK/good.conf" "$CONF"
sql "REVOKE INSERT ON attestd.submissions FROM attestd" >/dev/null
run_once
expect_eq "a privilege missing: exit 4, not 5" 4 "$RC"
expect_match "a privilege missing: db_unavailable, with the role and what to do" \
	'outcome=retry reason=db_unavailable error="the database role attestd may not do this' "$ERR"
expect_no_match "a privilege missing: never internal_error" 'reason=internal_error' "$ERR"
expect_eq "a privilege missing: the files kept, nothing rejected" \
	"2 files kept, 0 submissions, 0 quarantined or answered" "$(kept)"
sql "GRANT INSERT ON attestd.submissions TO attestd" >/dev/null

# A command run with an auditor's role: bad configuration (exit 3), as for
# every other command, not a bug.
sed "s/user=attestd\$/user=attestd_auditor/" "$CONF" > "$WORK/auditor.conf"
OUT=$("$ATTESTD" purge --dry-run --config "$WORK/auditor.conf" 2>&1)
RC=$?
expect_eq "purge with an auditor's role: exit 3 (configuration), not 5" 3 "$RC"
expect_match "purge with an auditor's role: says which role may not" \
	'the database role attestd_auditor may not do this' "$OUT"

# --- mended: the same files go through -------------------------------------------------
cp "$WORK/good.conf" "$CONF"
run_once
expect_eq "mended: exit 0" 0 "$RC"
expect_eq "mended: both files accepted, the attestation credited" "accepted accepted credited" \
	"$(sql "SELECT string_agg(status, ' ' ORDER BY id) FROM attestd.submissions") $(decision EXIT-01 | cut -d' ' -f1)"

finish
