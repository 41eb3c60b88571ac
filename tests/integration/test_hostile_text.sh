#!/usr/bin/env bash
# No byte of a document reaches a message raw (issue 11 §5).  A file whose
# XML declaration names encoding="UTF-8\nreason: ok\e[2J\r..." is refused
# (xml_construct_forbidden) and no sink carries the forged line or a
# control character: `attestd check` output, the quarantine .reason, the
# database (submissions.error_messages), the receipt, the log line (the
# --foreground mirror of what goes to syslog).  A name with a bidirectional
# override (U+202E) or a line separator (U+2028), which the schema accepts,
# is shown escaped where a person reads it (`review show`, tables).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.sh"
scenario_init || { fail "scenario_init"; finish; exit 1; }

FORGED=$WORK/out/forged.xml
printf '<?xml version="1.0" encoding="UTF-8\nreason: ok\033[2J\r\342\200\256"?>\n<attestations/>\n' > "$FORGED"
# has_control TEXT: any C0 control but newline, DEL, or a bidi/separator character.
has_control() { printf '%s' "$1" | LC_ALL=C grep -qP '[\x00-\x09\x0b-\x1f\x7f]|\xe2\x80[\xa8-\xae]'; }

# --- attestd check ------------------------------------------------------------------
run_attestd check --config "$CONF" "$FORGED"
expect_eq "check: exit 1" 1 "$RC"
expect_eq "check: one line for the one problem" 1 "$(printf '%s\n' "$OUT" | wc -l)"
expect_match "check: xml_construct_forbidden, named" "^$FORGED:1(:[0-9]+)?: xml_construct_forbidden: " "$OUT"
expect_no_match "check: no forged line" 'reason: ok' "$OUT"
if has_control "$OUT$ERR"; then fail "check: no control character in the output" "$(printf '%s' "$OUT" | od -c | head)"
else pass "check: no control character in the output"; fi

# --- the daemon: .reason, database, receipt, log -----------------------------------------
drop forged.xml
run_once
expect_eq "run: exit 0" 0 "$RC"
REASON=$(cat "$WORK"/quarantine/"$APPROVAL"/*forged.xml.reason)
expect_eq ".reason: one reason line, the true one" "reason: xml_construct_forbidden" \
	"$(printf '%s\n' "$REASON" | grep '^reason:')"
if has_control "$REASON"; then fail ".reason: no control character" "$(printf '%s' "$REASON" | od -c | head)"
else pass ".reason: no control character"; fi
expect_eq "database: the message stored without control characters" "0|1" \
	"$(sql "SELECT count(*) FILTER (WHERE array_to_string(error_messages, ' ') ~ '[[:cntrl:]]|\u202e|reason: ok') || '|' || count(*) FROM attestd.submissions")"
RECEIPT=$(<"$(receipt forged.xml 1)")
expect_match "receipt: rejected xml_construct_forbidden" '<error code="xml_construct_forbidden">' "$RECEIPT"
if has_control "$(printf '%s' "$RECEIPT" | tr -d '\n')"; then fail "receipt: no control character" "$RECEIPT"
else pass "receipt: no control character"; fi
expect_no_match "receipt: no forged text" 'reason: ok' "$RECEIPT"
LOG=$(printf '%s\n' "$ERR" | grep 'file=forged.xml')
expect_match "log: the file's line" 'outcome=rejected reason=xml_construct_forbidden' "$LOG"
if has_control "$ERR"; then fail "log: no control character" "$ERR"; else pass "log: no control character"; fi

# --- names with a bidi override or a line separator: shown escaped ---------------------
RLO=$(printf '\342\200\256') LS=$(printf '\342\200\250')
licence HOSTILE00001 "DUPONT${RLO}TNOPUD" "Jean${LS}Paul" 1980-05-05
event HOSTILE00001 2009-06-01 grant 12 G-HOSTILE
registries || fail "registries imported"
stage HOSTILE 2026-11-13 2026-11-14
# The attestation names another person: identity_mismatch, to review.
trainee HOSTILE00001 "MARTIN${RLO}NITRAM" "Luc${LS}" 1980-05-05
fillers 5
attestations_file hostile-att.xml
sheet_file hostile-sheet.xml
drop hostile-att.xml; drop hostile-sheet.xml
run_once
expect_eq "the names are accepted (schema), the attestation in review" "review 0 identity_mismatch " \
	"$(decision HOSTILE-01)"
ID=$(sql "SELECT id FROM attestd.attestations WHERE number = 'HOSTILE-01'")
run_attestd review show "$ID" --format table
expect_eq "review show: exit 0" 0 "$RC"
expect_match "review show: the override shown as <U+202E>" 'MARTIN<U\+202E>NITRAM' "$OUT"
expect_match "review show: the registry's name too" 'DUPONT<U\+202E>TNOPUD' "$OUT"
expect_match "review show: the line separator shown as <U+2028>" 'Luc<U\+2028>' "$OUT"
if has_control "$OUT"; then fail "review show: no raw override or separator" "$OUT"
else pass "review show: no raw override or separator"; fi
run_attestd audit licence HOSTILE00001 --format table
expect_eq "audit licence: exit 0" 0 "$RC"
if has_control "$OUT"; then fail "audit table: no raw override or separator" "$OUT"
else pass "audit table: no raw override or separator"; fi

# --- a file name in a log line: never raw ---------------------------------------------
# A claim that fails (here: the spool's directory for that inbox is a file)
# names the file in the log; a newline in the name must not forge a line.
mkdir -p "$WORK/inbox/R2402800099"
: > "$WORK/spool/R2402800099"
touch "$WORK/inbox/R2402800099/$(printf 'a\nfile=forged outcome=accepted.xml')"
run_once
expect_eq "claim failure: exit 4 (this machine's spool)" 4 "$RC"
expect_match "claim failure: the name made printable in the log" \
	'action=claim file=R2402800099/a_file=forged_outcome=accepted.xml outcome=error' "$ERR"
expect_no_match "claim failure: no forged log line" '^file=forged' "$ERR"

finish
