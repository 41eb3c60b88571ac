# contrib/demo/lib.sh - what make demo builds its batch with (sourced by
# demo.sh): the demo PKI's centre certificates, the people of the
# registries, and the centres' files, signed and queued for one of the two
# deliveries of the demo.
#
#   demo_pki DIR                 tests/fixtures/pki.sh, then one certificate per
#                                demo centre (issued by its intermediate CA), once
#   people_load FILE.csv         the licences a trainee line may name
#   stage APPROVAL REF FIRST LAST   starts a stage of that centre
#   t LICENCE [CASE] [EXTRA]     a trainee, on both documents, names and birth date
#                                from the registry; for the next trainee only:
#                                AS="SURNAME|GIVEN|BIRTH" (what the documents say),
#                                ARRIVALS="08:20 12:50 08:20 12:50", SIGNED="true ...",
#                                SHEET_ONLY=1, ATT_ONLY=1; for the next stage only:
#                                S_SESSIONS, S_ARRIVALS, S_PSY, S_VENUE, SIGN_KEY
#   stage_files PHASE_ATT PHASE_SHEET   writes and signs both files of the stage, queued
#                                for delivery 1 or 2 ("-": written, not delivered)
#   queue PHASE FILE [INBOX_DIR] a written file, delivered (again) in that phase
#   deliver PHASE                drops that phase's files into the inbox as an SFTP
#                                client does (temporary name, then rename)

# The demo centres, their signing key and their certificates.
declare -A CENTRE_KEY
CENTRE_KEY[R2402800010]=centre-rsa		# RSA-2048 (pki.sh)
CENTRE_KEY[R2402800020]=centre-ec		# EC P-256 (pki.sh)
CENTRE_KEY[R2502800030]=centre-nogent-2026	# RSA-2048, its second certificate
CENTRE_KEY[R2302800040]=centre-beauce		# EC P-256

demo_issue() {
	local dir=$1 name=$2 subject=$3 alg=$4
	(
		cd "$dir"
		umask 077
		if [ "$alg" = rsa ]; then
			openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$name.key" 2>/dev/null
		else
			openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$name.key" 2>/dev/null
		fi
		openssl req -new -key "$name.key" -subj "$subject" -out "$name.csr"
		openssl ca -batch -notext -config ca-inter/ca.cnf -extensions v3_sig \
			-startdate 20200101000000Z -enddate 20491231235959Z \
			-in "$name.csr" -out "$name.pem" 2>/dev/null
		rm -f "$name.csr"
		chmod 0644 "$name.pem"
	)
}

demo_pki() {
	local dir=$1
	[ -f "$dir/centre-beauce.pem" ] && return 0
	rm -rf "$dir"
	sh "$TOP/tests/fixtures/pki.sh" "$dir" >/dev/null 2>&1 || { echo "demo: pki.sh failed" >&2; return 1; }
	demo_issue "$dir" centre-nogent-2025 "/O=Securite Routiere 28/CN=R2502800030 2025" rsa &&
	demo_issue "$dir" centre-nogent-2026 "/O=Securite Routiere 28/CN=R2502800030 2026" rsa &&
	demo_issue "$dir" centre-beauce "/O=Auto-Ecole Beauceronne/CN=R2302800040" ec
}

fingerprint() {
	openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1
}

# The sample centres with the fingerprints of this PKI's certificates.
centres_csv() {
	local pki=$1
	local fp10 fp20 fp30a fp30b fp40
	fp10=$(fingerprint "$pki/centre-rsa.pem")
	fp20=$(fingerprint "$pki/centre-ec.pem")
	fp30a=$(fingerprint "$pki/centre-nogent-2025.pem")
	fp30b=$(fingerprint "$pki/centre-nogent-2026.pem")
	fp40=$(fingerprint "$pki/centre-beauce.pem")
	awk -F, -v OFS=, -v a="$fp10" -v b="$fp20" -v c="$fp30a;$fp30b" -v d="$fp40" '
		NR == 1 { print; next }
		{
			fp = $1 == "R2402800010" ? a : $1 == "R2402800020" ? b : $1 == "R2502800030" ? c : d
			# The fingerprints are the last field (quoted when there are several).
			sub(/,("[^"]*"|[^,]*)$/, "," (fp ~ /;/ ? "\"" fp "\"" : fp))
			print
		}' "$TOP/contrib/demo/centres.csv"
}

declare -A PERSON VENUE
people_load() {
	local lic surname given birth rest
	while IFS=, read -r lic surname given birth rest; do
		[ "$lic" = licence ] && continue
		PERSON[$lic]="$surname|$given|$birth"
	done < "$1"
}

stage() {
	S_APPROVAL=$1 S_REF=$2 S_FIRST=$3 S_LAST=$4 S_DEP=${S_DEP:-28}
	S_SESSIONS=${S_SESSIONS:-"08:30 12:00 13:00 16:30 08:30 12:00 13:00 16:30"}
	S_PSY=${S_PSY:-PSY-28-2019-004|DURAND|Anne}
	S_ATT="" S_PART="" S_N=0
}

t() {
	local lic=$1 case=${2:-1} extra=${3:-}
	local who=${AS:-${PERSON[$lic]:-}}
	[ -n "$who" ] || { echo "demo: no registry entry for $lic (use AS=)" >&2; return 1; }
	local surname=${who%%|*} rest=${who#*|}
	local given=${rest%%|*} birth=${rest#*|}
	local arrivals=(${ARRIVALS:-${S_ARRIVALS:-08:20 12:50 08:20 12:50}}) signed=(${SIGNED:-true true true true})
	local ids=(1am 1pm 2am 2pm) presences="" i
	S_N=$((S_N + 1))
	for i in 0 1 2 3; do
		[ "${arrivals[$i]}" = "-" ] && continue
		presences+="    <presence session=\"${ids[$i]}\" arrived=\"${arrivals[$i]}\" signed=\"${signed[$i]}\"/>
"
	done
	if [ -z "${SHEET_ONLY:-}" ]; then
		S_ATT+="  <attestation number=\"$S_REF-$(printf %02d $S_N)\" case=\"$case\" issued=\"$S_LAST\">
    <trainee licence=\"$lic\" surname=\"$surname\" given-names=\"$given\" birth-date=\"$birth\"/>
$extra  </attestation>
"
	fi
	if [ -z "${ATT_ONLY:-}" ]; then
		S_PART+="  <participant licence=\"$lic\" surname=\"$surname\" given-names=\"$given\" birth-date=\"$birth\">
    <identity-document type=\"id-card\" number=\"ID$lic\" media-type=\"image/jpeg\">/9j/4AAQSkZJRgABAQAAAQABAAD/$(printf %s "$lic" | base64 | tr -d '=\n')</identity-document>
$presences  </participant>
"
	fi
	AS="" ARRIVALS="" SIGNED="" SHEET_ONLY="" ATT_ONLY=""
}

# sign NAME: signs OUT/NAME.unsigned into OUT/NAME with the stage centre's key.
sign() {
	local key=$PKI/${SIGN_KEY:-${CENTRE_KEY[$S_APPROVAL]}}
	"$SIGNER" "$key.key" "$key.pem" "$OUT/$1.unsigned" "$OUT/$1" ||
		{ echo "demo: signing $1 failed" >&2; return 1; }
	rm -f "$OUT/$1.unsigned"
}

declare -a QUEUE_1 QUEUE_2
queue() {
	local phase=$1 name=$2 dir=${3:-${FILE_DIR[$2]}}
	[ "$phase" = - ] && return 0
	eval "QUEUE_$phase+=(\"\$dir/\$name\")"
}

declare -A FILE_DIR
stage_files() {
	local att=att-$S_REF.xml sheet=sheet-$S_REF.xml s=($S_SESSIONS)
	local psy_auth=${S_PSY%%|*} psy_rest=${S_PSY#*|}
	cat > "$OUT/$att.unsigned" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<attestations xmlns="urn:ssr:stage:1" version="1" created="${S_LAST}T17:05:00+01:00">
  <centre approval="$S_APPROVAL"/>
  <stage ref="$S_REF" departement="$S_DEP" first-day="$S_FIRST" last-day="$S_LAST"/>
$S_ATT</attestations>
XML
	cat > "$OUT/$sheet.unsigned" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<signin-sheet xmlns="urn:ssr:stage:1" version="1" created="${S_LAST}T17:00:00+01:00">
  <centre approval="$S_APPROVAL"/>
  <stage ref="$S_REF" departement="$S_DEP" first-day="$S_FIRST" last-day="$S_LAST">
    <venue>${S_VENUE:-${VENUE[$S_APPROVAL]:-Salle des fêtes, place de la Mairie}}</venue>
    <session id="1am" date="$S_FIRST" start="${s[0]}" end="${s[1]}"/>
    <session id="1pm" date="$S_FIRST" start="${s[2]}" end="${s[3]}"/>
    <session id="2am" date="$S_LAST" start="${s[4]}" end="${s[5]}"/>
    <session id="2pm" date="$S_LAST" start="${s[6]}" end="${s[7]}"/>
  </stage>
  <facilitator role="psychologist" authorisation="$psy_auth" surname="${psy_rest%%|*}" given-names="${psy_rest#*|}"/>
  <facilitator role="road-safety-expert" authorisation="BAFM-28-2015-011" surname="LEROY" given-names="Marc"/>
$S_PART</signin-sheet>
XML
	sign "$att" && sign "$sheet" || return 1
	FILE_DIR[$att]=$S_APPROVAL
	FILE_DIR[$sheet]=$S_APPROVAL
	# The attestations first when both come together: the sheet then
	# settles them in its own transaction, as it does in real life.
	queue "$1" "$att"
	queue "$2" "$sheet"
	S_SESSIONS="" S_PSY="" S_DEP="" S_VENUE="" S_ARRIVALS="" SIGN_KEY=""
}

deliver() {
	local phase=$1 item dir name
	eval "local items=(\"\${QUEUE_$phase[@]}\")"
	for item in "${items[@]}"; do
		dir=$DEMO/inbox/${item%%/*} name=${item#*/}
		mkdir -p "$dir"
		cp "$OUT/$name" "$dir/.$name.part"
		mv "$dir/.$name.part" "$dir/$name"
	done
	echo "${#items[@]}"
}
