#!/usr/bin/env bash
# Registry files as the prefecture has them (issue 11 item 8, issue 18 §3):
# every bad record named with its line and what is wrong (up to 100, then
# a count), nothing imported; `;` decided from the header and said;
# Windows-1252 and Latin-1 on request, a message naming line and byte
# without; empty file, header alone, unterminated quote, too many or too
# few fields; implausible dates.
. "$(dirname "$0")/lib.sh"
fresh_db
run_attestd db migrate
expect_eq "migrate" 0 "$RC"
C=$WORK/csv
mkdir -p "$C"
export ATTESTD_TEST_NOW=2026-11-17T09:00:00+01:00
H='licence,surname,given_names,birth_date,issued,probation_end,status,status_date'
count() { sql "SELECT count(*) FROM attestd.licences"; }

# --- issue 11 item 8: every bad record, not the first COPY meets ----------------
# BOM, CRLF and a quoted field with a comma on line 2 are fine; line 3 has a
# 5-character licence number and a month 13, line 4 a missing column.
{
	printf '\xef\xbb\xbf%s\r\n' "$H"
	printf '120575300042,MARTIN,"Claire, Anne",1990-04-12,2009-06-01,,valid,\r\n'
	printf '12345,DUPONT,Jean,1980-13-02,2000-01-01,,valid,\r\n'
	printf '210412300077,NGUYEN,Bao,2003-02-01,2025-06-01,2028-06-01,valid\r\n'
} > "$C/three-bad.csv"
run_attestd registry import licences "$C/three-bad.csv"
expect_eq "bad licences: exit 1" 1 "$RC"
expect_match "line 3: the licence number" 'three-bad.csv:3: record 2: licence: "12345" is not a licence number' "$ERR"
expect_match "line 3: the month 13" 'three-bad.csv:3: record 2: birth_date: "1980-13-02" is not a date' "$ERR"
expect_match "line 4: the missing column" 'three-bad.csv:4: record 3: 7 fields where the header has 8' "$ERR"
expect_no_match "line 2 (BOM, CRLF, quoted comma) is fine" 'three-bad.csv:2:' "$ERR"
expect_eq "nothing imported" "0" "$(count)"

# Up to 100 listed, then the count of the rest, in the file's order.
{ echo "$H"; for i in $(seq 130); do
	if [ $((i % 2)) = 0 ]; then echo "X$i,A,B,1990-01-01,2010-01-01,,valid,"; else echo "12057530$(printf %04d "$i"),A,B,1990-01-01,2010-01-01,valid,"; fi
done; } > "$C/many.csv"
run_attestd registry import licences "$C/many.csv"
expect_eq "many: exit 1" 1 "$RC"
expect_eq "many: 100 listed" 100 "$(printf '%s\n' "$ERR" | grep -c '^.*many.csv:[0-9]*: record')"
expect_match "many: the rest counted" 'many.csv: \.\.\. and 30 more problems' "$ERR"
expect_match "many: first is line 2 (a structural one)" "$(printf '%s\n' "$ERR" | head -1 | grep -q 'many.csv:2: record 1: 7 fields' && echo yes)" "yes"
expect_match "many: a field problem on line 3 is listed too" 'many.csv:3: record 2: licence: "X2"' "$ERR"
expect_eq "many: nothing imported" "0" "$(count)"

# --- issue 18 §3: ; and Windows-1252, as a French Excel writes ---------------------
{
	printf 'licence;surname;given_names;birth_date;issued;probation_end;status;status_date\r\n'
	printf '190101300011;L\xc9GER-D'"'"'ALMEIDA;Jean-\xc9douard;1970-01-01;1990-01-01;;valid;\r\n'
	printf '120575300042;MARTIN;"Claire; Anne";1990-04-12;2009-06-01;;valid;\r\n'
} > "$C/excel.csv"
run_attestd registry import licences "$C/excel.csv"
expect_eq "Windows-1252 without --encoding: exit 1" 1 "$RC"
expect_match "without --encoding: line, byte, the option" 'excel.csv:2: record 1: byte 15 of the line \(0xC9\) is not UTF-8; a spreadsheet export\? import the file again with --encoding windows-1252' "$ERR"
expect_eq "without --encoding: nothing imported" "0" "$(count)"
# A whole file in Windows-1252: the first record named, the others counted
# in one line, not a hundred times the same advice.
{
	printf 'licence;surname;given_names;birth_date;issued;probation_end;status;status_date\r\n'
	for i in $(seq 10 49); do printf '1901013000%s;L\xc9GER;Jean;1970-01-01;1990-01-01;;valid;\r\n' "$i"; done
} > "$C/excel40.csv"
run_attestd registry import licences "$C/excel40.csv"
expect_eq "a Windows-1252 file: exit 1" 1 "$RC"
expect_eq "a Windows-1252 file: the advice once, then one line for the 39 others" \
	"1|$C/excel40.csv:41: and 39 more records, up to line 41, with bytes that are not UTF-8: the file is not UTF-8; import it again with --encoding windows-1252 (or --encoding latin-1)" \
	"$(printf '%s\n' "$ERR" | grep -c 'a spreadsheet export?')|$(printf '%s\n' "$ERR" | grep 'more records')"
run_attestd registry import licences "$C/excel.csv" --encoding windows-1252
expect_eq "--encoding windows-1252: exit 0" 0 "$RC"
expect_match "separator and encoding said" "excel.csv: separator ';', encoding windows-1252: 2 records: 2 new" "$OUT"
expect_eq "letters transcoded to UTF-8" "LÉGER-D'ALMEIDA|Jean-Édouard" \
	"$(sql "SELECT surname || '|' || given_names FROM attestd.licences WHERE licence = '190101300011'")"
expect_eq "a quoted ; kept" "Claire; Anne" \
	"$(sql "SELECT given_names FROM attestd.licences WHERE licence = '120575300042'")"
printf 'licence,effective_date,kind,points,ref\n190101300011,1990-01-01,grant,12,G-\xe9\n' > "$C/latin1.csv"
run_attestd registry import --encoding latin-1 events "$C/latin1.csv"
expect_eq "--encoding latin-1: exit 0" 0 "$RC"
expect_eq "latin-1 transcoded" "1" "$(sql "SELECT count(*) FROM attestd.licence_events WHERE ref = 'G-é'")"
run_attestd registry import licences "$C/excel.csv" --encoding ebcdic
expect_eq "unknown encoding: usage error" 2 "$RC"
expect_match "unknown encoding: the accepted ones" "unknown encoding 'ebcdic' \(windows-1252, latin-1 or utf-8\)" "$ERR"

# --- each malformed file names its line -------------------------------------------
: > "$C/empty.csv"
run_attestd registry import licences "$C/empty.csv"
expect_eq "empty file: exit 1" 1 "$RC"
expect_match "empty file: line 1" 'empty.csv:1: the file is empty' "$ERR"
echo "$H" > "$C/header-only.csv"
run_attestd registry import licences "$C/header-only.csv"
expect_eq "header alone: exit 1" 1 "$RC"
expect_match "header alone: line 2" 'header-only.csv:2: the file has its header and no record' "$ERR"
printf '%s\n190101300011,"LEGER,Jean,1970-01-01,1990-01-01,,valid,\n120575300042,MARTIN,Claire,1990-04-12,2009-06-01,,valid,\n' "$H" > "$C/open-quote.csv"
run_attestd registry import licences "$C/open-quote.csv"
expect_eq "unterminated quote: exit 1" 1 "$RC"
expect_match "unterminated quote: the line it opened on" 'open-quote.csv:2: record 1: a quoted value opened on line 2 is never closed' "$ERR"
printf '%s\n190101300011,LEGER,Jean,1970-01-01,1990-01-01,,valid,,extra\n120575300042,MARTIN,Claire,1990-04-12\n' "$H" > "$C/fields.csv"
run_attestd registry import licences "$C/fields.csv"
expect_match "too many fields: line 2" 'fields.csv:2: record 1: 9 fields where the header has 8: a value with the separator in it must be quoted' "$ERR"
expect_match "too few fields: line 3" 'fields.csv:3: record 2: 4 fields where the header has 8' "$ERR"

# --- plausible dates -----------------------------------------------------------------
printf '%s\n300101300011,A,B,2027-01-01,2020-01-01,,valid,\n300101300012,A,B,1899-12-31,1990-01-01,,valid,\n300101300013,A,B,1990-01-01,2010-01-01,,valid,\n300101300014,A,B,,2010-01-01,,valid,\n' "$H" > "$C/births.csv"
run_attestd registry import licences "$C/births.csv"
expect_eq "implausible births: exit 1" 1 "$RC"
expect_match "birth date in the future" 'births.csv:2: record 1: birth_date: "2027-01-01" is not plausible: before 1900 or after today \(2026-11-17\)' "$ERR"
expect_match "birth date before 1900" 'births.csv:3: record 2: birth_date: "1899-12-31" is not plausible' "$ERR"
expect_no_match "a plausible one is not named" 'births.csv:4' "$ERR"
expect_match "no birth date at all: named" 'births.csv:5: record 4: birth_date: .* is not a date' "$ERR"
printf 'licence,effective_date,kind,points,ref\n190101300011,2026-11-18,retrait,-2,R-FUTURE\n190101300011,2026-11-17,retrait,-2,R-TODAY\n' > "$C/future.csv"
run_attestd registry import events "$C/future.csv"
expect_eq "event after today: exit 1" 1 "$RC"
expect_match "event after today: named" 'future.csv:2: record 1: effective_date: "2026-11-18" is after today \(2026-11-17\)' "$ERR"
expect_no_match "an event of today is fine" 'future.csv:3' "$ERR"
printf 'authorisation,role,surname,given_names,valid_from,valid_to\nPSY-1,psychologist,X,Y,2020-01-01,2019-12-31\n' > "$C/validity.csv"
run_attestd registry import facilitators "$C/validity.csv"
expect_match "valid_to before valid_from" 'validity.csv:2: record 1: valid_to: "2019-12-31" is before valid_from' "$ERR"

# --- the command line: --help, options after the words, --by checked -------------------
run_attestd registry import licences --help
expect_eq "--help: exit 0" 0 "$RC"
expect_eq "--help: the usage line help prints" "$("$ATTESTD" help registry | head -1)" "$(printf '%s\n' "$OUT" | head -1)"
expect_match "--help: says the options" '\[--encoding windows-1252\|latin-1\] \[--by NAME\] \[--config F\]' "$OUT"
run_attestd registry import licences "$C/excel.csv" --config "$CONF" --encoding cp1252 --by "Agent 7"
expect_eq "options after the file: exit 0" 0 "$RC"
run_attestd registry import licences "$C/excel.csv" --by ""
expect_eq "--by empty: usage error" 2 "$RC"
expect_match "--by empty: what it wants" '--by wants the name of the person acting' "$ERR"

finish
