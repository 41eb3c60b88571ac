#!/usr/bin/env bash
# The console against hostile HTTP (curl), on the demo's data in a cluster
# that checks passwords: who may reach what (every route x no credentials,
# a wrong password, a login role that is not an auditor, an auditor, a
# reviewer); the security headers and no-store on every response; wrong
# passwords slowed down after five; POSTs without the anti-forgery token,
# with a bad one, from another Origin, or by an auditor: 403 and nothing
# changed; a trainee named <script> shown as text; SQL metacharacters, NUL
# and huge values in every parameter of every route: never 500, nothing
# changed; scans and originals only for a reviewer and only the item's; a
# non-loopback listen without TLS: exit 3.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/console.sh"

command -v curl >/dev/null || { fail "curl is installed (make deps)"; finish; exit 1; }
console_demo || { fail "the demo's data loaded"; finish; exit 1; }
console_start || { fail "attestd console started"; finish; exit 1; }
pass "attestd console answers /healthz"

# --- the demo's things to ask for ---------------------------------------------------
ITEM=$(sql "SELECT id FROM attestd.attestations WHERE licence = '170296300012' AND decision = 'review'")
OTHER_ITEM=$(sql "SELECT min(id) FROM attestd.attestations WHERE decision = 'review' AND id <> $ITEM")
SCAN=$(sql "SELECT p.id_sha256 FROM attestd.signin_participants p JOIN attestd.attestations a
	ON a.licence = p.licence JOIN attestd.submissions s ON s.id = p.submission_id
	WHERE a.id = $ITEM AND s.stage_id = a.stage_id LIMIT 1")
# A scan of another trainee, and an original: real archive hashes, not this item's.
FOREIGN_SCAN=$(sql "SELECT id_sha256 FROM attestd.signin_participants WHERE licence <> '170296300012'
	AND id_sha256 IS NOT NULL ORDER BY id_sha256 LIMIT 1")
FILE=$(sql "SELECT min(id) FROM attestd.submissions WHERE status = 'accepted'")
FILE_SHA=$(sql "SELECT sha256 FROM attestd.submissions WHERE id = $FILE")
REJECTED=$(sql "SELECT min(id) FROM attestd.submissions WHERE status = 'rejected'")
read -r APPROVAL REF <<<"$(sql "SELECT approval || ' ' || ref FROM attestd.stages ORDER BY id LIMIT 1")"
LICENCE=170296300012
MONTH=2026-11
for v in ITEM OTHER_ITEM SCAN FOREIGN_SCAN FILE FILE_SHA REJECTED APPROVAL REF; do
	[ -n "${!v}" ] || { fail "the demo has a $v"; finish; exit 1; }
done
[ -f "$DEMO/archive/${SCAN:0:2}/${SCAN:2:2}/$SCAN" ] && [ -f "$DEMO/archive/${FOREIGN_SCAN:0:2}/${FOREIGN_SCAN:2:2}/$FOREIGN_SCAN" ]
expect_eq "the scans asked for are in the archive (a 404 is then the console's refusal)" 0 $?
STYLE=$(http -u "$ANNE:$PASS" "$URL/" | grep -o '<link[^>]*stylesheet[^>]*>' | grep -o 'href="[^"]*"' | head -n 1 | cut -d'"' -f2)
expect_match "the dashboard links its stylesheet under /static/" '^/static/' "$STYLE"
STYLE=${STYLE:-/static/console.css}

# route KIND PATH: KIND page (auditors and reviewers), personal (reviewers
# only: scans, originals), open (/healthz, /static).
ROUTES=(
	"open /healthz"
	"open $STYLE"
	"page /"
	"page /files"
	"page /files?status=rejected"
	"page /files/$FILE"
	"page /files/$REJECTED"
	"page /stages/$APPROVAL/$REF"
	"page /review"
	"page /review/$ITEM"
	"page /licences/$LICENCE"
	"page /licences/$LICENCE?as_of=2026-03-01"
	"page /centres/$APPROVAL"
	"page /reports/monthly?month=$MONTH"
	"csv /reports/monthly.csv?month=$MONTH&table=volumes"
	"personal /review/$ITEM/scans/$SCAN"
	"personal /files/$FILE/original"
)

# Each wrong password from its own loopback address (127.0.0.0/8 is all
# loopback): the matrix must not trip the slow-down it does not test.
SRC=10
next_src() { SRC=$((SRC + 1)); echo "127.0.0.$SRC"; }

# get WHO PATH: status, then headers in $WORK/h, body in $WORK/b.
get() {
	local who=$1 path=$2 auth=()
	case $who in
	none) ;;
	wrong) auth=(-u "$ANNE:not the password" --interface "$(next_src)") ;;
	nobody) auth=(-u "$NOEL:$PASS") ;;
	auditor) auth=(-u "$ANNE:$PASS") ;;
	reviewer) auth=(-u "$REMI:$PASS") ;;
	esac
	http "${auth[@]}" -D "$WORK/h" -o "$WORK/b" -w '%{http_code}' "$URL$path"
}
# header NAME: the value of the last NAME: line of the last response's
# headers.  In bash alone: it runs about five times for each of the file's
# requests, and the pipeline of five programs it replaces cost 47 ms of CPU
# a call against 5 (200 calls: 9.4 s against 1.0 s); the whole file went
# from 246 s of CPU (433 s wall in make check) to 62 s (85 s wall, alone).
header() {
	local want=${1,,} line val=
	while IFS= read -r line; do
		line=${line%$'\r'}
		[[ ${line,,} == "$want:"* ]] && val=${line#*:}
	done < "$WORK/h"
	printf '%s\n' "${val# }"
}
# headers_load: every header of the last response in HDR (names in lower
# case, the last line of a name wins), for the loops below: read once per
# request instead of a subshell per header asked for.
declare -A HDR
headers_load() {
	local line name
	HDR=()
	while IFS= read -r line; do
		line=${line%$'\r'}
		[[ $line == *:* ]] || continue
		name=${line%%:*} line=${line#*:}
		HDR[${name,,}]=${line# }
	done < "$WORK/h"
}

check_headers() {
	local what=$1 personal=$2 bad=""
	headers_load
	[ "${HDR[content-security-policy]-}" = "default-src 'self'" ] || bad="$bad CSP=[${HDR[content-security-policy]-}]"
	[ "${HDR[x-frame-options]-}" = DENY ] || bad="$bad X-Frame-Options=[${HDR[x-frame-options]-}]"
	[ "${HDR[referrer-policy]-}" = no-referrer ] || bad="$bad Referrer-Policy=[${HDR[referrer-policy]-}]"
	[ "${HDR[x-content-type-options]-}" = nosniff ] || bad="$bad X-Content-Type-Options=[${HDR[x-content-type-options]-}]"
	if [ "$personal" = 1 ]; then
		[[ ${HDR[cache-control]-} == *no-store* ]] || bad="$bad Cache-Control=[${HDR[cache-control]-}]"
	fi
	[ -z "$bad" ] || HEADER_FAULTS+=("$what:$bad")
}

# --- who may reach what ----------------------------------------------------------------
HEADER_FAULTS=()
MATRIX_FAULTS=()
for r in "${ROUTES[@]}"; do
	kind=${r%% *} path=${r#* }
	personal=1
	[ "$kind" = open ] && personal=0
	for who in none wrong nobody auditor reviewer; do
		# The status through a file: no subshell for each request.
		get "$who" "$path" > "$WORK/code"
		code=$(<"$WORK/code")
		case $kind/$who in
		open/*) want=200 ;;
		*/none | */wrong) want=401 ;;
		*/nobody) want=403 ;;
		personal/auditor) want="403|404" ;;
		*) want=200 ;;
		esac
		[[ $code =~ ^($want)$ ]] || MATRIX_FAULTS+=("$who GET $path: $code, want $want")
		headers_load
		if [ "$want" = 401 ]; then
			[[ ${HDR[www-authenticate]-} == 'Basic realm="attestd"'* ]] ||
				MATRIX_FAULTS+=("$who GET $path: WWW-Authenticate [${HDR[www-authenticate]-}]")
		fi
		# Never the bytes of a scan or an original to someone refused.
		if [ "$kind" = personal ] && [ "$code" != 200 ] && grep -q 'JFIF\|<?xml' "$WORK/b"; then
			MATRIX_FAULTS+=("$who GET $path: $code with the file's bytes")
		fi
		check_headers "$who GET $path ($code)" "$personal"
	done
done
expect_eq "status matrix: ${#ROUTES[@]} routes x {none, wrong password, non-auditor, auditor, reviewer}" \
	"" "$(printf '%s\n' "${MATRIX_FAULTS[@]}")"
expect_eq "security headers and Cache-Control: no-store on every response of the matrix" \
	"" "$(printf '%s\n' "${HEADER_FAULTS[@]}")"

code=$(get none /healthz)
expect_eq "/healthz: ok and the schema version, nothing else" \
	"ok $(sql "SELECT max(version) FROM attestd.schema_migrations")" "$(tr -d '\n' < "$WORK/b" | sed 's/^ok 0*/ok /')"

# What a reviewer gets is the scan, with its stored type and the no-store.
code=$(get reviewer "/review/$ITEM/scans/$SCAN")
expect_eq "scan for a reviewer: the archive's bytes" "$SCAN" "$(sha256sum < "$WORK/b" | cut -c1-64)"
expect_eq "scan: its stored media type" "image/jpeg" "$(header Content-Type | cut -d';' -f1)"
expect_match "scan: Content-Disposition" '^(inline|attachment)' "$(header Content-Disposition)"
code=$(get reviewer "/files/$FILE/original")
expect_eq "original for a reviewer: the archive's bytes" "$FILE_SHA" "$(sha256sum < "$WORK/b" | cut -c1-64)"
expect_match "original: Content-Disposition names the file" 'filename' "$(header Content-Disposition)"

# --- scans the person may not see, and paths -----------------------------------------
for who in reviewer auditor; do
	for p in "/review/$ITEM/scans/$FOREIGN_SCAN" "/review/$ITEM/scans/$FILE_SHA" \
		"/review/$OTHER_ITEM/scans/$SCAN" "/review/999999999/scans/$SCAN" \
		"/review/$ITEM/scans/${SCAN^^}" "/review/$ITEM/scans/${SCAN:0:63}" \
		"/review/$ITEM/scans/../../../../etc/passwd" "/review/$ITEM/scans/..%2F..%2F..%2Fetc%2Fpasswd" \
		"/review/$ITEM/scans/%2e%2e%2f%2e%2e%2fattestd.conf" "/review/$ITEM/scans/${SCAN:0:2}%2F${SCAN:2:2}%2F$SCAN" \
		"/files/999999999/original" "/files/$REJECTED/original" "/static/../attestd.conf" \
		"/static/..%2F..%2F..%2F..%2Fetc%2Fpasswd" "/static/%2e%2e/%2e%2e/etc/passwd" \
		"/review/$ITEM/scans/$SCAN%00" "/review/$ITEM/scans/$SCAN%00.jpg" "/review/%00/scans/$SCAN" \
		"/files/%00/original" "/files/$FILE/original%00" "/files/$FILE%00/original"; do
		user=$ANNE
		[ "$who" = reviewer ] && user=$REMI
		curl -s --noproxy '*' -m 60 --path-as-is -u "$user:$PASS" \
			-D "$WORK/h" -o "$WORK/b" -w '%{http_code}' "$URL$p" > "$WORK/code"
		code=$(<"$WORK/code")
		if ! [[ $code =~ ^(400|403|404)$ ]] || grep -q 'root:\|JFIF\|\[database\]\|<?xml' "$WORK/b"; then
			fail "$who GET $p: refused without the bytes" "status $code, body: $(head -c 200 "$WORK/b" | tr -d '\0')"
		else
			pass "$who GET $p: $code"
		fi
	done
done

# --- anti-forgery and roles on POST ------------------------------------------------------
# login WHO PASSWORD JAR PATH: a page through that person's session; its token.
csrf_of() {
	http -u "$1:$PASS" -c "$2" -b "$2" "$URL$3" | grep -o '<input[^>]*name="csrf"[^>]*>' | head -n 1 |
		grep -o 'value="[^"]*"' | cut -d'"' -f2
}
post() {
	local who=$1 jar=$2 item=$3
	shift 3
	http -u "$who:$PASS" -c "$jar" -b "$jar" -D "$WORK/h" -o "$WORK/b" -w '%{http_code}' "$@" "$URL/review/$item"
}
TOKEN=$(csrf_of "$REMI" "$WORK/remi.jar" "/review/$ITEM")
expect_match "the review item carries the reviewer's anti-forgery token" '.{16,}' "$TOKEN"
expect_match "the session cookie attestd_session is HttpOnly (curl's jar; SameSite: the browser test)" 'attestd_session' "$(grep -i '^#HttpOnly_.*attestd_session' "$WORK/remi.jar")"
BEFORE=$(db_digest)
attempt() {
	local what=$1
	shift
	expect_eq "reviewer POST with $what: 403" 403 "$(post "$REMI" "$WORK/remi.jar" "$ITEM" "$@")"
}
attempt "no token" -d decision=reject -d note=forgery
attempt "an empty token" -d decision=reject -d note=forgery -d csrf=
attempt "a wrong token" -d decision=reject -d note=forgery --data-urlencode "csrf=${TOKEN%?}x"
attempt "another Origin" -H "Origin: http://evil.example" -d decision=reject -d note=forgery --data-urlencode "csrf=$TOKEN"
attempt "Origin null" -H "Origin: null" -d decision=reject -d note=forgery --data-urlencode "csrf=$TOKEN"
attempt "Origin null from another site (Sec-Fetch-Site: cross-site)" -H "Origin: null" -H "Sec-Fetch-Site: cross-site" \
	-d decision=reject -d note=forgery --data-urlencode "csrf=$TOKEN"
attempt "another port on the same host" -H "Origin: ${URL%:*}:1" -d decision=reject -d note=forgery --data-urlencode "csrf=$TOKEN"
code=$(http -u "$REMI:$PASS" -D "$WORK/h" -o "$WORK/b" -w '%{http_code}' -d decision=reject -d note=forgery \
	--data-urlencode "csrf=$TOKEN" "$URL/review/$ITEM")
expect_eq "reviewer POST with the token but without the session cookie: 403" 403 "$code"
expect_eq "those POSTs changed nothing (decisions, ledger, balances, receipts, audit log)" "$BEFORE" "$(db_digest)"
# An auditor with her own session and token (if her page shows one).
ATOKEN=$(csrf_of "$ANNE" "$WORK/anne.jar" "/review/$ITEM")
expect_match "the auditor's page carries her own token (so her 403 below is for her role)" '.{16,}' "$ATOKEN"
code=$(post "$ANNE" "$WORK/anne.jar" "$ITEM" -d decision=accept -d note=auditrice --data-urlencode "csrf=$ATOKEN")
expect_eq "auditor POST /review/$ITEM with her session's token: 403" 403 "$code"
code=$(post "$NOEL" "$WORK/noel.jar" "$ITEM" -d decision=accept -d note=x -d csrf=x)
expect_eq "non-auditor POST: 403" 403 "$code"
code=$(http -d decision=accept -d note=x -o /dev/null -w '%{http_code}' "$URL/review/$ITEM")
expect_eq "POST without credentials: 401" 401 "$code"
code=$(post "$REMI" "$WORK/remi.jar" "$ITEM" -d decision=accept -d note= --data-urlencode "csrf=$TOKEN")
expect_match "reviewer POST with an empty note: refused (400 or 403)" '^(400|403|422)$' "$code"
code=$(post "$REMI" "$WORK/remi.jar" "$ITEM" -d decision=maybe -d note=x --data-urlencode "csrf=$TOKEN")
expect_match "reviewer POST with decision=maybe: 400" '^(400|422)$' "$code"
expect_eq "and those changed nothing either" "$BEFORE" "$(db_digest)"
# The control: the same request, right token and own Origin, is taken.
code=$(post "$REMI" "$WORK/remi.jar" "$OTHER_ITEM" -H "Origin: $URL" -d decision=reject -d "note=contrôle" \
	--data-urlencode "csrf=$(csrf_of "$REMI" "$WORK/remi.jar" "/review/$OTHER_ITEM")")
expect_eq "control: the reviewer's POST with token and own Origin: 303" 303 "$code"
expect_eq "control: 303 to the item" "/review/$OTHER_ITEM" "$(header Location | sed -E 's|^https?://[^/]*||')"
expect_eq "control: the item is decided, by the reviewer's role" "rejected $REMI" \
	"$(sql "SELECT h.decision || ' ' || h.actor FROM attestd.decision_history h WHERE h.attestation_id = $OTHER_ITEM ORDER BY h.id DESC LIMIT 1")"

# --- the same page, malformed or hostile parameters -----------------------------------------------
HUGE=$(head -c 20000 /dev/zero | tr '\0' 9)
PAYLOADS=("'" '%22%3B--' "%27%3B%20DROP%20TABLE%20attestd.attestations%3B--" '%25' '%5C' '%00' 'a%00b'
	"%27%20OR%20%271%27%3D%271" '-1' '0' '99999999999999999999999' '1e5' '%F0%9F%98%80' '%C0%AF' "$HUGE")
# Templates: @ is where a payload goes.
TEMPLATES=(
	"/files/@" "/files/@/original" "/stages/@/$REF" "/stages/$APPROVAL/@" "/review/@" "/review/@/scans/$SCAN"
	"/review/$ITEM/scans/@" "/licences/@" "/licences/$LICENCE?as_of=@" "/centres/@"
	"/reports/monthly?month=@" "/reports/monthly.csv?month=@&table=volumes" "/reports/monthly.csv?month=$MONTH&table=@"
	"/files?centre=@" "/files?from=@" "/files?to=@" "/files?status=@" "/files?reason=@" "/files?name=@"
	"/files?after=@" "/files?before=@" "/review?after=@" "/centres/$APPROVAL?after=@"
	"/stages/$APPROVAL/$REF?after=@" "/licences/$LICENCE?after=@" "/?@=1" "/files?@=@"
)
BEFORE=$(db_digest)
bad=()
n=0
for tpl in "${TEMPLATES[@]}"; do
	for p in "${PAYLOADS[@]}"; do
		# The auditor too where a refusal is what is tested.
		whos=("$REMI")
		case $tpl in */scans/* | */original*) whos+=("$ANNE") ;; esac
		for who in "${whos[@]}"; do
			n=$((n + 1))
			curl -s --noproxy '*' -m 60 --path-as-is -u "$who:$PASS" -o "$WORK/b" -D "$WORK/h" -w '%{http_code}' \
				"$URL${tpl//@/$p}" > "$WORK/code"
			code=$(<"$WORK/code")
			case $code in
			200 | 400 | 403 | 404 | 414 | 431) ;;
			*) bad+=("$who ${tpl//@/${p:0:40}}: $code") ;;
			esac
			# An auditor never gets a scan's or an original's bytes (a 200
			# there must be a page: %00 cuts the path short, FINDINGS.md).
			headers_load
			if [ "$code" = 200 ] && [ "$who" = "$ANNE" ] && [[ ${HDR[content-type]-} != text/html* ]]; then
				case $tpl in */scans/* | */original) bad+=("$ANNE ${tpl//@/${p:0:40}}: 200 ${HDR[content-type]-}") ;; esac
			fi
			# 414 and 431 come from libmicrohttpd itself, before the console
			# sees the request (FINDINGS.md): no headers of ours, but no
			# echo of the request either.
			case $code in
			414 | 431) grep -q 99999999999999999999 "$WORK/b" && bad+=("${tpl//@/${p:0:40}}: $code echoes the request") ;;
			*) check_headers "$who ${tpl//@/${p:0:40}} ($code)" 1 ;;
			esac
		done
	done
done
expect_eq "$n requests with metacharacters, NUL, huge values in every parameter: 200/400/404, never 500" \
	"" "$(printf '%s\n' "${bad[@]}")"
expect_eq "and they changed nothing" "$BEFORE" "$(db_digest)"
kill -0 "$CONSOLE_PID" 2>/dev/null
expect_eq "the console is still running" 0 $?
code=$(get auditor /no/such/page)
expect_eq "unknown route: 404" 404 "$code"
code=$(get auditor /review/abc)
expect_eq "malformed id: 400" 400 "$code"
code=$(get auditor "/reports/monthly?month=2026-13")
expect_eq "month 2026-13: 400" 400 "$code"
code=$(get auditor "/licences/$LICENCE?as_of=2026-02-30")
expect_eq "as_of 2026-02-30: 400" 400 "$code"
expect_eq "every response above had the security headers" "" "$(printf '%s\n' "${HEADER_FAULTS[@]}")"

# --- a trainee named <script> ------------------------------------------------------------------
(
	set -e
	. "$TOP/contrib/demo/lib.sh"
	PKI=$DEMO/pki OUT=$WORK/xss REG=$WORK/xss-reg SIGNER=${SIGNER:-$(dirname "$ATTESTD")/tests/attestd-sign}
	mkdir -p "$OUT" "$REG"
	. "$TOP/contrib/demo/batch.sh"
	people_load "$TOP/contrib/demo/licences.csv"
	filler_make 260
	FILLER_NEXT=240
	stage R2402800010 CH-2026-1117 2026-11-16 2026-11-17
	S_VENUE='&lt;script&gt;alert("salle")&lt;/script&gt; Salle &amp; &lt;b&gt;'
	AS='&lt;script&gt;alert(1)&lt;/script&gt;|&lt;img src=x onerror=alert(2)&gt;|1955-03-04' t "$(filler_lic 250)"
	fill 6
	stage_files 1 1
	deliver 1 >/dev/null
) > "$WORK/xss.log" 2>&1
expect_eq "a stage with a trainee named <script> signed and dropped" 0 $?
ATTESTD_TEST_NOW=2026-11-18T12:00:00+01:00 run_attestd run --once --foreground
expect_eq "attestd run --once takes it" 0 "$RC"
XSS_ITEM=$(sql "SELECT id FROM attestd.attestations WHERE surname LIKE '<script>%'")
expect_match "the <script> name is stored as sent" '^[0-9]+$' "$XSS_ITEM"
for p in "/stages/R2402800010/CH-2026-1117" "/review/$XSS_ITEM" "/review" "/files?name=att-CH-2026-1117.xml"; do
	code=$(get reviewer "$p")
	body=$(cat "$WORK/b")
	expect_eq "GET $p: 200" 200 "$code"
	expect_no_match "GET $p: no markup from the file (<script, <img, <b> as markup)" '<script|<img src=x|Salle (&amp;|&) <b>' "$body"
done
get reviewer "/review/$XSS_ITEM" >/dev/null
expect_match "the review item shows the name as text (&lt;script&gt;)" '&lt;script&gt;alert\(1\)&lt;/script&gt;' "$(cat "$WORK/b")"
get reviewer "/stages/R2402800010/CH-2026-1117" >/dev/null
expect_match "the stage shows the venue as text" '&lt;script&gt;alert\(.*salle.*\)&lt;/script&gt;' "$(cat "$WORK/b")"

# --- wrong passwords: a log line, then slowed down after five -------------------------------------
# Its own address, so nothing above counts.
: > "$WORK/before-throttle"
lines0=$(wc -l < "$WORK/console.log")
codes=() retry=()
for i in 1 2 3 4 5 6 7; do
	codes+=("$(http --interface 127.0.0.200 -u "$ANNE:wrong $i" -D "$WORK/h" -o /dev/null -w '%{http_code}' "$URL/")")
	retry+=("$(header Retry-After)")
done
expect_eq "five wrong passwords: 401 each" "401 401 401 401 401" "${codes[*]:0:5}"
new_log=$(tail -n +$((lines0 + 1)) "$WORK/console.log")
expect_match "a wrong password is a line in the log" "$ANNE|127\.0\.0\.200|401|password|mot de passe" "$new_log"
expect_no_match "the log holds no password" 'wrong [0-9]|not the password|Mot de passe 1' "$(cat "$WORK/console.log")"
if [ -n "${retry[5]}${retry[6]}" ] ||
	printf '%s\n' "$new_log" | grep -Eiq '127\.0\.0\.200.*(slow|throttl|delay|retry|ralenti|too many|limited)|(slow|throttl|delay|retry|ralenti|too many|limited).*127\.0\.0\.200'; then
	pass "the sixth wrong password from one address is slowed down (Retry-After or a log line)"
else
	fail "the sixth wrong password from one address is slowed down (Retry-After or a log line)" \
		"codes: ${codes[*]}, Retry-After: [${retry[*]}]" "log: $new_log"
fi
code=$(http --interface 127.0.0.201 -u "$ANNE:$PASS" -o /dev/null -w '%{http_code}' "$URL/")
expect_eq "another address is not slowed down: the right password, 200" 200 "$code"

console_stop

# --- listen without TLS beyond loopback ------------------------------------------------------------
for listen in "0.0.0.0:$(free_port)" "192.0.2.10:8470" "[::]:8470" "example.org:8470"; do
	sed -e '/^\[console\]/,$d' "$CONF" > "$WORK/open.conf"
	printf '\n[console]\nlisten = %s\n' "$listen" >> "$WORK/open.conf"
	# A console that took it would listen: timeout, not a hang.
	OUT=$(timeout 60 "$ATTESTD" console --config "$WORK/open.conf" --foreground 2>"$WORK/stderr")
	RC=$? ERR=$(cat "$WORK/stderr")
	console_sanitizer_clean "listen = $listen: no sanitizer report" "$WORK/stderr"
	expect_eq "listen = $listen without TLS: exit 3" 3 "$RC"
	expect_match "listen = $listen without TLS: the message names the key" 'listen' "$ERR"
done
finish
