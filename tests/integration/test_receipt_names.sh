#!/usr/bin/env bash
# Receipts name the file as it was dropped (exchange-format.md §6, issue 11
# §4): a name rejected as bad_file_name (too long, or with bytes outside
# printable ASCII) gets its receipt under its whole stem, and the receipt's
# `file` attribute is the whole name (such bytes as '_'); the receipt's own
# name is cut only where it would exceed 255 bytes.  The quarantine's
# .reason and the database name it whole too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.sh"
scenario_init || { fail "scenario_init"; finish; exit 1; }

INBOX=$WORK/inbox/$APPROVAL OUTBOX=$WORK/outbox/$APPROVAL
printf '<x/>' > "$WORK/x.xml"
STEM129=$(printf 'S%.0s' $(seq 129))
STEM250=$(printf 'L%.0s' $(seq 246))
cp "$WORK/x.xml" "$INBOX/$STEM129.xml"
cp "$WORK/x.xml" "$INBOX/$STEM250.xml"
cp "$WORK/x.xml" "$INBOX/$(printf 'ctl\001name.xml')"
run_once
expect_eq "run: exit 0" 0 "$RC"

attr() { xmllint --xpath "string(/*/@file)" "$1" 2>/dev/null; }

# 129-character stem: rejected, receipt under the whole stem, file attribute whole.
R=$OUTBOX/$STEM129.1.receipt.xml
expect_eq "129-character stem: the receipt keeps the whole stem" yes "$([ -f "$R" ] && echo yes || echo "no: $(ls "$OUTBOX")")"
expect_eq "129-character stem: file attribute is the whole name" "$STEM129.xml" "$(attr "$R")"
expect_match "129-character stem: rejected bad_file_name" 'status="rejected".*code="bad_file_name"' "$(tr -d '\n' < "$R")"
expect_eq "129-character stem: the database names it whole" "$STEM129.xml|{bad_file_name}" \
	"$(sql "SELECT file_name || '|' || errors::text FROM audit.submissions WHERE file_name LIKE 'SSS%'")"
expect_eq "129-character stem: the .reason names it whole" "file: $STEM129.xml" \
	"$(grep -h '^file: S' "$WORK"/quarantine/"$APPROVAL"/*.reason)"

# 250-character name: the receipt's name cut to 255 bytes, the attribute whole.
R=$(ls "$OUTBOX" | grep '^LLL')
expect_eq "250-character name: the receipt name is 255 bytes" 255 "${#R}"
expect_eq "250-character name: the receipt name is the stem cut, then .1.receipt.xml" \
	"${STEM250:0:241}.1.receipt.xml" "$R"
expect_eq "250-character name: the file attribute is the whole name" "$STEM250.xml" "$(attr "$OUTBOX/$R")"

# A control byte: '_' in the attribute and the receipt's name.
R=$OUTBOX/ctl_name.1.receipt.xml
expect_eq "control byte: shown as _" "ctl_name.xml" "$(attr "$R")"

finish
