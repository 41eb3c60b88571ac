#!/usr/bin/env bash
# The command line as its help says (issue 11 §7, issue 18 §2): every usage
# line `attestd help` prints is run as printed — optional parts included,
# the first of each alternative, placeholders filled from a real scenario —
# and must succeed (exit 0); then again with --config moved right after the
# command words and to the very end (options anywhere after the command
# words), which must never be a usage error.  `attestd CMD --help` and
# `attestd CMD -h` print that command's help and exit 0, as does
# `attestd-centre --help`; no help or message cites the source tree's
# documents (rules.md, exchange-format.md, README), only what an installed
# system has: the manual pages.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.sh"
scenario_init || { fail "scenario_init"; finish; exit 1; }
unset ATTESTD_CONFIG	# every line names its configuration itself

licence USAGE0000001 DUPONT Jean 1980-05-05
licence USAGE0000002 MARTIN Paul 1981-06-06
for n in USAGE0000001 USAGE0000002; do
	event $n 2009-06-01 grant 12 "G-$n"
	event $n 2024-06-01 retrait -5 "R-$n"
done
ATTESTD_CONFIG=$CONF registries || fail "registries imported"
# A group of 5: both attestations go to review (one to accept, one to reject).
stage USAGE 2026-11-13 2026-11-14
trainee USAGE0000001 DUPONT Jean 1980-05-05
trainee USAGE0000002 MARTIN Paul 1981-06-06
fillers 3
attestations_file usage-att.xml
sheet_file usage-sheet.xml
drop usage-att.xml; drop usage-sheet.xml
ATTESTD_CONFIG=$CONF run_once
expect_eq "scenario: two attestations in review" "review review" \
	"$(sql "SELECT string_agg(decision, ' ' ORDER BY number) FROM attestd.attestations")"
ID1=$(sql "SELECT id FROM attestd.attestations WHERE number = 'USAGE-01'")
ID2=$(sql "SELECT id FROM attestd.attestations WHERE number = 'USAGE-02'")
ANCHOR=$(sql "SELECT seq || ':' || hash FROM audit.log ORDER BY seq DESC LIMIT 1")

# instantiate LINE: the words of a usage line, optional parts kept, the
# first of each alternative, each placeholder given a value; one per line.
instantiate() {
	local line=$1 cmd w d=0
	line=${line#attestd }
	line=$(printf '%s' "$line" | sed -E 's/\[([^]]*)\]/\1/g; s/([A-Za-z0-9_.:-]+)(\|[A-Za-z0-9_.:-]+)+/\1/g')
	cmd=$(printf '%s' "$line" | awk '{print $1 " " $2}')
	for w in $line; do
		case $w in
		F) echo "$CONF" ;;
		FILE.csv) echo "$WORK/csv/centres.csv" ;;
		FILE...) echo "$WORK/out/usage-att.xml" ;;
		ID) case $cmd in "review reject") echo "$ID2" ;; *) echo "$ID1" ;; esac ;;
		NAME) echo "Agent Dupuis" ;;
		TEXT) echo "checked against the registry" ;;
		COMMAND) echo registry ;;
		A) echo "$APPROVAL" ;;
		L) echo USAGE0000001 ;;
		D) if [ $d -eq 0 ]; then echo 2026-01-01; else echo 2026-12-31; fi; d=$((d + 1)) ;;
		SEQ:HASH) echo "$ANCHOR" ;;
		YYYY-MM) echo 2026-11 ;;
		...) ;;
		*) echo "$w" ;;
		esac
	done
}

# The console serves until SIGTERM: its line runs in the background, on a
# UNIX socket of this test, until /healthz answers; then SIGTERM must end it
# with exit 0.  Same variables as run_attestd (RC, OUT, ERR).
printf '\n[console]\nlisten = %s\n' "$WORK/console.sock" >>"$CONF"
run_console() {
	"$ATTESTD" "$@" >"$WORK/console.out" 2>"$WORK/stderr" &
	local pid=$! tries=0
	# curl only once the socket is there (a test in bash, no process).
	until [ -S "$WORK/console.sock" ] &&
		curl -sf --unix-socket "$WORK/console.sock" http://console/healthz >/dev/null 2>&1; do
		tries=$((tries + 1))
		if [ $tries -gt 1200 ] || ! kill -0 $pid 2>/dev/null; then break; fi
		nap 0.1
	done
	kill -TERM $pid 2>/dev/null
	wait $pid; RC=$?
	OUT=$(<"$WORK/console.out"); ERR=$(<"$WORK/stderr")
}
run_line() {
	if [ "$1" = console ]; then run_console "$@"; else run_attestd "$@"; fi
}

HELP=$("$ATTESTD" help)
mapfile -t LINES < <(printf '%s\n' "$HELP" | sed -n 's/^  \(attestd .*\)$/\1/p')
expect_eq "help prints the usage line of every command (22 and --version)" 23 "${#LINES[@]}"
for line in "${LINES[@]}"; do
	mapfile -t ARGS < <(instantiate "$line")
	run_line "${ARGS[@]}"
	if [ "$RC" -eq 0 ]; then pass "as printed: attestd ${ARGS[*]}"
	else fail "as printed: attestd ${ARGS[*]}" "exit $RC" "$ERR"; fi
	# The same with --config F right after the command words, and last.
	nwords=1
	case ${ARGS[0]} in db|registry|review|audit|config) nwords=2 ;; esac
	rest=()
	for ((i = nwords; i < ${#ARGS[@]}; i++)); do
		if [ "${ARGS[$i]}" = --config ]; then i=$((i + 1)); else rest+=("${ARGS[$i]}"); fi
	done
	[ "${ARGS[0]}" = help ] || [ "${ARGS[0]}" = --version ] && continue
	for variant in first last; do
		if [ $variant = first ]; then
			v=("${ARGS[@]:0:nwords}" --config "$CONF" "${rest[@]}")
		else
			v=("${ARGS[@]:0:nwords}" "${rest[@]}" --config "$CONF")
		fi
		run_line "${v[@]}"
		if [ "$RC" -ne 2 ] && ! line_match '^usage:' "$ERR"; then
			pass "--config $variant: attestd ${v[*]}"
		else
			fail "--config $variant: attestd ${v[*]}" "exit $RC" "$ERR"
		fi
	done
done
expect_eq "review accept and reject as printed took effect" "credited rejected" \
	"$(sql "SELECT string_agg(decision, ' ' ORDER BY number) FROM attestd.attestations")"

# --- CMD --help, CMD -h: that command's help, exit 0, wherever it stands ----------
ALL_HELP=$HELP
for line in "${LINES[@]}"; do
	# The command words, split in bash as awk would (no process per line).
	read -r -a lw <<<"$line"
	words=${lw[1]:-}
	case $words in db|registry|review|audit|config) words+=" ${lw[2]:-}" ;; esac
	[ "$words" = --version ] && continue
	for h in --help -h; do
		# shellcheck disable=SC2086
		run_attestd $words $h
		expect_eq "attestd $words $h: exit 0" 0 "$RC"
		expect_eq "attestd $words $h: that command's usage" "usage: $line" "${OUT%%$'\n'*}"
		expect_match "attestd $words $h: names the manual page" 'attestd\(8\)' "$OUT"
		ALL_HELP+=$OUT
	done
done
# Asking for help after arguments and options, or with an option that does
# not apply, is still help.
run_attestd registry import licences x.csv --config /nonexistent --help
expect_eq "help after the arguments: exit 0" "0|usage: attestd registry import centres|facilitators|licences|events FILE.csv [--encoding windows-1252|latin-1] [--by NAME] [--config F]" \
	"$RC|$(printf '%s\n' "$OUT" | head -1)"
run_attestd db --help
expect_eq "a group's --help: exit 0" 0 "$RC"
expect_eq "a group's --help: each of its commands" "usage: attestd db migrate [--config F]|usage: attestd db status [--config F]" \
	"$(printf '%s\n' "$OUT" | grep '^usage:' | paste -sd'|' -)"
ALL_HELP+=$OUT
run_attestd --help
expect_eq "attestd --help: the overview" "0|$HELP" "$RC|$OUT"

# attestd-centre --help / -h: its help on stdout, exit 0.
for h in --help -h; do
	OUT=$(sh "$TOP/contrib/sftp/attestd-centre" $h 2>"$WORK/stderr"); RC=$?
	expect_eq "attestd-centre $h: exit 0" 0 "$RC"
	expect_match "attestd-centre $h: its commands" '^  attestd-centre add APPROVAL --key FILE.pub' "$OUT"
	expect_match "attestd-centre $h: names its manual page" 'attestd-centre\(8\)' "$OUT"
	ALL_HELP+=$OUT
done
OUT=$(sh "$TOP/contrib/sftp/attestd-centre" 2>&1 >/dev/null); RC=$?
expect_eq "attestd-centre without arguments: usage error" 2 "$RC"

# --- documents an installed system has ---------------------------------------------
expect_no_match "no help cites a document of the source tree" '[A-Za-z_-]+\.md\b|README' "$ALL_HELP"
# Every message string of the binary: the SQL and the schemas it embeds
# are quoted with their comments (lines starting with -- or a space), the
# rest is what people read.  The data written for auditors is not a
# message: the rule each reason code applies (reason.def's last column, in
# audit.reason_codes) and the audit schema's COMMENTs name the section of
# the regulation's specification on purpose (issue 18 §4).
cited=$(strings -n 6 "$ATTESTD" | grep -E '[A-Za-z_-]+\.md\b|\(see README\)|exchange format, section' |
	grep -Ev '^[[:space:]]|^--')
messages=
while IFS= read -r line; do
	[ -n "$line" ] || continue
	grep -qF -- "$line" "$TOP"/sql/*.sql "$TOP/daemon/reason.def" || messages+="$line"$'\n'
done <<<"$cited"
expect_eq "no message of the binary cites a document of the source tree" "" "$messages"

finish
