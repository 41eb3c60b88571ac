# scenario.sh - end-to-end scenarios for the integration tests (sourced
# after lib.sh): a test PKI, the registries, signed attestations and
# sign-in sheets built from a few shell calls, dropped into the inbox the
# way a centre's SFTP client does (temporary name, then rename).
#
#   scenario_init                  PKI, config with trust and receipt signing, migrated db,
#                                  centre R2402800010 (dept 28) with the RSA certificate,
#                                  the two facilitators of the spec's example
#   licence NUM SURNAME GIVEN BIRTH [PROBATION_END] [STATUS] [STATUS_DATE]
#   event NUM DATE KIND POINTS REF
#   registries                     imports what licence/event collected
#   stage REF FIRST LAST [DEP]     starts a stage (resets trainees)
#   trainee NUM SURNAME GIVEN BIRTH [CASE] [EXTRA]   on both documents; EXTRA is XML
#                                  inside the attestation (letter-48n, court-order)
#   ARRIVALS="08:20 12:50 08:20 12:50" and SIGNED="true true true true" apply to the
#   next trainee only; SHEET_ONLY=1 / ATT_ONLY=1 put it on one document only
#   attestations_file NAME ; sheet_file NAME   write and sign into $WORK/out/NAME
#   drop NAME [DIR]                drop into inbox/DIR (default the centre's)
#   run_once                       ATTESTD_TEST_NOW=$NOW attestd run --once

APPROVAL=R2402800010
NOW=${NOW:-2026-11-16T10:00:00+01:00}

scenario_init() {
	fresh_db "${1:-t_$T_NAME}"
	test_pki "$WORK/pki" || { echo "pki.sh failed" >&2; return 1; }
	SIGNER=${SIGNER:-$(dirname "$ATTESTD")/tests/attestd-sign}
	[ -x "$SIGNER" ] || { echo "no signer at $SIGNER (make build/.../tests/attestd-sign)" >&2; return 1; }
	cat >> "$CONF" <<CONF

[limits]
settle_time = 0s
CONF
	sed -i "s|^centres_ca = .*|centres_ca = $WORK/pki/ca-bundle.pem\nreceipt_key = $WORK/pki/prefecture.key\nreceipt_cert = $WORK/pki/prefecture.pem|" "$CONF"
	"$ATTESTD" db migrate >/dev/null || return 1
	CENTRE_FP=$(openssl x509 -in "$WORK/pki/centre-rsa.pem" -outform DER | sha256sum | cut -d' ' -f1)
	mkdir -p "$WORK/csv" "$WORK/out"
	printf 'approval,name,departement,valid_from,valid_to,cert_sha256\n%s,Centre de test,28,2024-01-01,,%s\n' \
		"$APPROVAL" "$CENTRE_FP" > "$WORK/csv/centres.csv"
	printf 'authorisation,role,surname,given_names,valid_from,valid_to\nPSY-28-2019-004,psychologist,DURAND,Anne,2019-01-01,\nBAFM-28-2015-011,road-safety-expert,LEROY,Marc,2015-01-01,\n' \
		> "$WORK/csv/facilitators.csv"
	"$ATTESTD" registry import centres "$WORK/csv/centres.csv" >/dev/null || return 1
	"$ATTESTD" registry import facilitators "$WORK/csv/facilitators.csv" >/dev/null || return 1
	echo 'licence,surname,given_names,birth_date,issued,probation_end,status,status_date' > "$WORK/csv/licences.csv"
	echo 'licence,effective_date,kind,points,ref' > "$WORK/csv/events.csv"
	mkdir -p "$WORK/inbox/$APPROVAL"
}

licence() {
	echo "$1,$2,$3,$4,2000-01-01,${5:-},${6:-valid},${7:-}" >> "$WORK/csv/licences.csv"
}

event() {
	echo "$1,$2,$3,$4,$5" >> "$WORK/csv/events.csv"
}

registries() {
	"$ATTESTD" registry import licences "$WORK/csv/licences.csv" >/dev/null &&
	"$ATTESTD" registry import events "$WORK/csv/events.csv" >/dev/null
}

stage() {
	S_REF=$1 S_FIRST=$2 S_LAST=$3 S_DEP=${4:-28}
	S_ISSUED=$S_LAST
	S_SESSIONS=${S_SESSIONS:-"08:30 12:00 13:00 16:30 08:30 12:00 13:00 16:30"}
	S_ATT="" S_PART="" S_N=0
}

trainee() {
	local num=$1 surname=$2 given=$3 birth=$4 case=${5:-1} extra=${6:-}
	local arrivals=(${ARRIVALS:-08:20 12:50 08:20 12:50}) signed=(${SIGNED:-true true true true})
	local ids=(1am 1pm 2am 2pm) presences="" i n2
	S_N=$((S_N + 1))
	for i in 0 1 2 3; do
		[ "${arrivals[$i]}" = "-" ] && continue
		presences+="    <presence session=\"${ids[$i]}\" arrived=\"${arrivals[$i]}\" signed=\"${signed[$i]}\"/>
"
	done
	if [ -z "${SHEET_ONLY:-}" ]; then
		printf -v n2 %02d "$S_N"
		S_ATT+="  <attestation number=\"$S_REF-$n2\" case=\"$case\" issued=\"$S_ISSUED\">
    <trainee licence=\"$num\" surname=\"$surname\" given-names=\"$given\" birth-date=\"$birth\"/>
$extra  </attestation>
"
	fi
	if [ -z "${ATT_ONLY:-}" ]; then
		b64_nopad "$num"
		S_PART+="  <participant licence=\"$num\" surname=\"$surname\" given-names=\"$given\" birth-date=\"$birth\">
    <identity-document type=\"id-card\" number=\"ID$num\" media-type=\"image/jpeg\">/9j/4AAQSkZJRgABAQAAAQABAAD/$B64</identity-document>
$presences  </participant>
"
	fi
	ARRIVALS="" SIGNED="" SHEET_ONLY="" ATT_ONLY=""
}

# b64_nopad TEXT: base64 of TEXT (ASCII) without its '=' padding, in B64:
# what `printf %s TEXT | base64 | tr -d '=\n'` prints, without the pipeline's
# three processes (one per trainee: thousands in a pass).
B64_ALPHABET=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/
b64_nopad() {
	local t=$1 i n=${#1} a b c v
	B64=
	for ((i = 0; i < n; i += 3)); do
		printf -v a %d "'${t:i:1}"
		b=0 c=0
		[ $((i + 1)) -lt "$n" ] && printf -v b %d "'${t:i+1:1}"
		[ $((i + 2)) -lt "$n" ] && printf -v c %d "'${t:i+2:1}"
		v=$(((a << 16) | (b << 8) | c))
		B64+=${B64_ALPHABET:v >> 18 & 63:1}${B64_ALPHABET:v >> 12 & 63:1}
		[ $((i + 1)) -lt "$n" ] && B64+=${B64_ALPHABET:v >> 6 & 63:1}
		[ $((i + 2)) -lt "$n" ] && B64+=${B64_ALPHABET:v & 63:1}
	done
}

# sign_into FILE: signs $WORK/.unsigned.xml (the document just written) into
# FILE.  One scratch file, overwritten each time, rather than FILE.unsigned
# and an rm per document.
sign_into() {
	"$SIGNER" "$WORK/pki/${SIGN_KEY:-centre-rsa}.key" "$WORK/pki/${SIGN_KEY:-centre-rsa}.pem" "$WORK/.unsigned.xml" "$1" ||
		{ echo "signing $1 failed" >&2; return 1; }
}

attestations_file() {
	local f=$WORK/out/$1
	# A here-document read by the shell itself (no cat).
	local xml
	IFS= read -r -d '' xml <<XML || :
<?xml version="1.0" encoding="UTF-8"?>
<attestations xmlns="urn:ssr:stage:1" version="1" created="2026-11-14T17:05:00+01:00">
  <centre approval="${DOC_APPROVAL:-$APPROVAL}"/>
  <stage ref="$S_REF" departement="$S_DEP" first-day="$S_FIRST" last-day="$S_LAST"/>
$S_ATT</attestations>
XML
	printf '%s' "$xml" > "$WORK/.unsigned.xml"
	sign_into "$f"
}

sheet_file() {
	local f=$WORK/out/$1 s=($S_SESSIONS) xml
	IFS= read -r -d '' xml <<XML || :
<?xml version="1.0" encoding="UTF-8"?>
<signin-sheet xmlns="urn:ssr:stage:1" version="1" created="2026-11-14T17:00:00+01:00">
  <centre approval="${DOC_APPROVAL:-$APPROVAL}"/>
  <stage ref="$S_REF" departement="$S_DEP" first-day="$S_FIRST" last-day="$S_LAST">
    <venue>Salle Jean Moulin, 12 rue des Lices, 28000 Chartres</venue>
    <session id="1am" date="$S_FIRST" start="${s[0]}" end="${s[1]}"/>
    <session id="1pm" date="$S_FIRST" start="${s[2]}" end="${s[3]}"/>
    <session id="2am" date="$S_LAST" start="${s[4]}" end="${s[5]}"/>
    <session id="2pm" date="$S_LAST" start="${s[6]}" end="${s[7]}"/>
  </stage>
  <facilitator role="psychologist" authorisation="${PSY:-PSY-28-2019-004}" surname="DURAND" given-names="Anne"/>
  <facilitator role="road-safety-expert" authorisation="BAFM-28-2015-011" surname="LEROY" given-names="Marc"/>
$S_PART</signin-sheet>
XML
	printf '%s' "$xml" > "$WORK/.unsigned.xml"
	sign_into "$f"
}

drop() {
	local dir=$WORK/inbox/${2:-$APPROVAL}
	mkdir -p "$dir"
	cp "$WORK/out/$1" "$dir/.$1.part"
	mv "$dir/.$1.part" "$dir/$1"
}

run_once() {
	OUT=$(ATTESTD_TEST_NOW=${1:-$NOW} "$ATTESTD" run --once --foreground 2>"$WORK/stderr")
	RC=$?
	ERR=$(<"$WORK/stderr")
	if sanitizer_report "$ERR"; then
		fail "sanitizer clean: run --once" "$ERR"
	fi
}

# decision NUMBER: "decision points reasons flags" from the audit view.
decision() {
	sql "SELECT decision || ' ' || points || ' ' || array_to_string(reasons, ',') || ' ' || array_to_string(flags, ',') FROM audit.attestation_decisions WHERE attestation_number = '$1'"
}

balance() {
	sql "SELECT balance FROM audit.licence_balances WHERE licence = '$1'"
}

# receipt NAME N: the path of receipt N of a dropped file.
receipt() {
	echo "$WORK/outbox/${3:-$APPROVAL}/${1%.xml}.$2.receipt.xml"
}

# fillers N: N more participants, on the sign-in sheet only, who signed every
# session (a stage needs 6 to 20); call after the stage's real trainees.
fillers() {
	local i n
	for ((i = 1; i <= $1; i++)); do
		printf -v n %010d "$i"
		SHEET_ONLY=1 trainee "FL$n" AUTRE Personne 1980-01-01
	done
}

# latest_receipt NAME [DIR]: the path of the highest-numbered receipt of a file.
latest_receipt() {
	local base=$WORK/outbox/${2:-$APPROVAL}/${1%.xml} n=1
	while [ -e "$base.$((n + 1)).receipt.xml" ]; do n=$((n + 1)); done
	echo "$base.$n.receipt.xml"
}

# receipt_codes FILE XPATH ELEMENT: the codes of ELEMENT children, comma-joined.
receipt_codes() {
	xmllint --xpath "$2/*[local-name()='$3']/@code" "$1" 2>/dev/null |
		sed -E 's/ ?code="([^"]*)"/\1\n/g' | sed '/^$/d' | paste -sd, -
}

# receipt_attestation FILE NUMBER: "decision|points|effective-date|reasons|flags"
# of one attestation element of a receipt ("-" for no effective date).  Two
# xmllint runs (the element's attributes with its reasons' codes, then its
# flags' codes, each printed as name="value" in document order) where there
# were eight, with their seds and pastes.
receipt_attestation() {
	local f=$1 x="//*[local-name()='attestation'][@number='$2']" out re='^[[:space:]]*([a-z-]+)="([^"]*)"(.*)$'
	local dec="" pts="" eff="" reasons="" flags=""
	[ -f "$f" ] || { echo "no receipt $f"; return; }
	out=$(xmllint --xpath "$x/@decision | $x/@points | $x/@effective-date | $x/*[local-name()='reason']/@code" "$f" 2>/dev/null)
	out=${out//$'\n'/ }
	while [[ $out =~ $re ]]; do
		case ${BASH_REMATCH[1]} in
		decision) dec=${BASH_REMATCH[2]} ;;
		points) pts=${BASH_REMATCH[2]} ;;
		effective-date) eff=${BASH_REMATCH[2]} ;;
		code) reasons+=${reasons:+,}${BASH_REMATCH[2]} ;;
		esac
		out=${BASH_REMATCH[3]}
	done
	out=$(xmllint --xpath "$x/*[local-name()='flag']/@code" "$f" 2>/dev/null)
	out=${out//$'\n'/ }
	while [[ $out =~ $re ]]; do
		flags+=${flags:+,}${BASH_REMATCH[2]}
		out=${BASH_REMATCH[3]}
	done
	printf '%s|%s|%s|%s|%s\n' "$dec" "$pts" "${eff:--}" "$reasons" "$flags"
}

# attestation_row NUMBER: the same five fields from audit.attestation_decisions.
attestation_row() {
	sql "SELECT decision || '|' || points || '|' || coalesce(effective_date::text, '-') || '|'
		|| array_to_string(reasons, ',') || '|' || array_to_string(flags, ',')
		FROM audit.attestation_decisions WHERE attestation_number = '$1'"
}

# expect_attestation LABEL FILE NUMBER EXPECTED [DIR]: the audit view and the
# file's latest receipt both say EXPECTED (decision|points|effective|reasons|flags).
expect_attestation() {
	expect_eq "$1 (audit)" "$4" "$(attestation_row "$3")"
	expect_eq "$1 (receipt)" "$4" "$(receipt_attestation "$(latest_receipt "$2" "${5:-}")" "$3")"
}
