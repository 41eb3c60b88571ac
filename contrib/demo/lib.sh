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

# demo_scan LICENCE: an identity card's scan, base64: a real 240x150 JPEG (a
# drawn card, so that a browser shows it) with the licence in a comment
# segment, so that each trainee's scan has its own SHA-256 in the archive.
DEMO_SCAN_TAIL=/+AAEEpGSUYAAQEBAEgASAAA/9sAQwASDA0QDQsSEA4QFBMSFRssHRsYGBs2JykgLEA5REM/OT49R1BmV0dLYU09Pll5WmFpbXJzckVVfYZ8b4VmcHJu/9sAQwETFBQbFxs0HR00bkk+SW5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5u/8AAEQgAlgDwAwEiAAIRAQMRAf/EAB8AAAEFAQEBAQEBAAAAAAAAAAABAgMEBQYHCAkKC//EALUQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYXGBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+v/EAB8BAAMBAQEBAQEBAQEAAAAAAAABAgMEBQYHCAkKC//EALURAAIBAgQEAwQHBQQEAAECdwABAgMRBAUhMQYSQVEHYXETIjKBCBRCkaGxwQkjM1LwFWJy0QoWJDThJfEXGBkaJicoKSo1Njc4OTpDREVGR0hJSlNUVVZXWFlaY2RlZmdoaWpzdHV2d3h5eoKDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uLj5OXm5+jp6vLz9PX29/j5+v/aAAwDAQACEQMRAD8A1qKKK6DEKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAooooAKKKKACiiigAoq59g/wCmn/jtH2D/AKaf+O0rodmU6KufYP8App/47R9g/wCmn/jtF0FmU6KufYP+mn/jtH2D/pp/47RdBZlOirn2D/pp/wCO0fYP+mn/AI7RdBZlOirn2D/pp/47R9g/6af+O0XQWZToq59g/wCmn/jtH2D/AKaf+O0XQWZToq59g/6af+O0fYP+mn/jtF0FmU6KufYP+mn/AI7R9g/6af8AjtF0FmU6KufYP+mn/jtH2D/pp/47RdBZlOirn2D/AKaf+O0fYP8App/47RdBZlOirn2D/pp/47R9g/6af+O0XQWZToq59g/6af8AjtH2D/pp/wCO0XQWZToq59g/6af+O0fYP+mn/jtF0FmU6KufYP8App/47R9g/wCmn/jtF0FmU6KufYP+mn/jtH2D/pp/47RdBZluiimT/wCqasyx9FUqKVx2LtFUqKLhYu0VSoouFi7RVKii4WLtFQW38X4VPTQgooooEFFFFABRRRQAUUUUAFFFFABRRRQAUUUUAFFFFABRRRQAUyf/AFTU+mT/AOqahjKtFFFQUFFVri68iQLs3ZGc5xUX9of9Mv8Ax7/61PlYrovUVR/tD/pl/wCPf/WpyX2+RV8vG4gZ3U+VhzIuUUUVIya2/i/Cp6gtv4vwqerWxLMPxN/y7f8AAv6Vh13FFO4rHD0V3FFO4rHD0V3FFFwscPRXcUUXCxw9FdxRRcLHD0V3FFFwscPRXcUUXCxw9bnhn/l5/wCA/wBa3KKVx2CiiikAUyf/AFTU+mT/AOqahjKtFFFQUZ2of69f93+pqrVrUP8AXr/u/wBTVWtY7Gb3CpIP9fH/ALw/nUdSQf6+P/eH86bEa9FFFYmpNbfxfhU9QW38X4VPVrYlmVrt5PaeR9nk2bt2eAc4x61lf2zf/wDPf/xxf8K6O6s4Lvb9oj37c45Ixn6VB/Y1h/zw/wDH2/xpiMP+2b//AJ7/APji/wCFH9s3/wDz3/8AHF/wrc/saw/54f8Aj7f40f2NYf8APD/x9v8AGndCMP8Atm//AOe//ji/4Uf2zf8A/Pf/AMcX/Ctz+xrD/nh/4+3+NH9jWH/PD/x9v8aLoDD/ALZv/wDnv/44v+FH9s3/APz3/wDHF/wrc/saw/54f+Pt/jR/Y1h/zw/8fb/Gi6Aw/wC2b/8A57/+OL/hR/bN/wD89/8Axxf8K3P7GsP+eH/j7f40f2NYf88P/H2/xougMP8Atm//AOe//ji/4Uf2zf8A/Pf/AMcX/Ctz+xrD/nh/4+3+NH9jWH/PD/x9v8aLoDD/ALZv/wDnv/44v+FdVVH+xrD/AJ4f+Pt/jV6kxhRRRSAKKKKACmT/AOqan0yf/VNQxlWiioribyIw23dk4xnFQUU9Q/16/wC7/U1Vq7/aH/TL/wAe/wDrUf2h/wBMv/Hv/rVorroZuzKVSQf6+P8A3h/OrP8AaH/TL/x7/wCtR/aH/TL/AMe/+tTu+wWXcvUVWt7rz5CuzbgZznNWazasaXuTW38X4VPUFt/F+FT1S2JZR1PUv7P8v915m/P8WMYx7e9Uf+Ej/wCnX/yJ/wDWq9qem/2h5f73y9mf4c5zj39qo/8ACOf9PX/kP/69PQWof8JH/wBOv/kT/wCtR/wkf/Tr/wCRP/rUf8I5/wBPX/kP/wCvR/wjn/T1/wCQ/wD69PQWof8ACR/9Ov8A5E/+tR/wkf8A06/+RP8A61H/AAjn/T1/5D/+vR/wjn/T1/5D/wDr0aBqH/CR/wDTr/5E/wDrUf8ACR/9Ov8A5E/+tR/wjn/T1/5D/wDr0f8ACOf9PX/kP/69Ggah/wAJH/06/wDkT/61H/CR/wDTr/5E/wDrUf8ACOf9PX/kP/69H/COf9PX/kP/AOvRoGof8JH/ANOv/kT/AOtR/wAJH/06/wDkT/61H/COf9PX/kP/AOvR/wAI5/09f+Q//r0aBqH/AAkf/Tr/AORP/rUf8JH/ANOv/kT/AOtR/wAI5/09f+Q//r0f8I5/09f+Q/8A69GgamrZXP2u0SfZs3Z+XOcYOKnqCytvslokG/ftz82MZyc1PSGFFFFIApk/+qan0yf/AFTUMZVqrqH+oX/e/oatVV1D/UL/AL39DUx3G9jOooorYzCiiigC1p/+vb/d/qK0aztP/wBe3+7/AFFaNZS3LjsTW38X4VPUFt/F+FT01sDILq8gtNv2iTZuzjgnOPpUH9s2H/Pf/wAcb/CoNds57vyPs8e/buzyBjOPWsr+xr//AJ4f+Pr/AI0xG5/bNh/z3/8AHG/wo/tmw/57/wDjjf4Vh/2Nf/8APD/x9f8AGj+xr/8A54f+Pr/jTshG5/bNh/z3/wDHG/wo/tmw/wCe/wD443+FYf8AY1//AM8P/H1/xo/sa/8A+eH/AI+v+NFkBuf2zYf89/8Axxv8KP7ZsP8Anv8A+ON/hWH/AGNf/wDPD/x9f8aP7Gv/APnh/wCPr/jRZAbn9s2H/Pf/AMcb/CrcE0dxEssTbkbocYrmP7Gv/wDnh/4+v+NdBpcMlvp8UUq7XXORnPc0mMtUUUUgCiiigAooooAKKKKACmT/AOqan0yf/VNQxlWquof6hf8Ae/oatVV1D/UL/vf0NTHcb2M6iiitjMKKKKALWn/69v8Ad/qK0aztP/17f7v9RWjWUty47E1t/F+FT1BbfxfhU9NbAwooooEFFFFABRRRQAUUUUAFFFFABRWF4o/5dv8Agf8ASsGspVeV2sdtLCe0gpcx3dFcJRU+28jX6h/e/D/gnd0VwlFHtvIPqH978P8Agnd0VR0P/kEwf8C/9CNXq2TurnBOPLJx7BSMoYYPSlopkjPJj/u/rR5Mf939afRRYBnkx/3f1o8mP+7+tPoosAzyY/7v60eTH/d/Wn0UWAZ5Mf8Ad/WjyY/7v60+iiwCKipnaMZpaKKACiiigQUUUUAFFFFABRRRQAUUUUAYXij/AJdv+B/0rBrrdU0z+0fK/e+X5ef4c5zj39qof8I1/wBPf/kP/wCvXPOEnK6PUw+IpwpqMnqYNFb3/CNf9Pf/AJD/APr0f8I1/wBPf/kP/wCvU+zl2NvrdHv+Zg0Vvf8ACNf9Pf8A5D/+vR/wjX/T3/5D/wDr0ezl2D63R7/mX9D/AOQTB/wL/wBCNXqgsbb7HaJBv37M/NjGcnP9anrpirJHk1GpTbXcKKKKZmFFFFABRRRQAUUUUAFFFFABRRRQAUUUUAFFFFABRRRQAUUUUAFFFFABRRRQAUUUUAFFFFABRRRQB//Z
demo_scan() {
	local len
	len=$(printf '\\%03o' $((${#1} + 2)))
	{ printf "\\377\\330\\377\\376\\000$len%s" "$1"; printf %s "$DEMO_SCAN_TAIL" | base64 -d; } | base64 -w0
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
    <identity-document type=\"id-card\" number=\"ID$lic\" media-type=\"image/jpeg\">$(demo_scan "$lic")</identity-document>
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
