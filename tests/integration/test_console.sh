#!/usr/bin/env bash
# The console over HTTP (curl), on the review scenario's data: /healthz;
# HTTP Basic checked by PostgreSQL (401, the log line without the password),
# a role that is not an auditor (403); the security headers and no-store;
# the pages an auditor reads (dashboard chart = days with files, review item
# with the identities' differences marked, licence balance as of a date by
# the replay, monthly report and its CSV); scans for reviewers only (bytes
# from the archive, 404 for anyone or anything else); anti-forgery (no
# token, a foreign Origin, an auditor: 403, nothing changed); a reviewer's
# accept through HTTP changing the decision, the balance, the history and
# the audit log (their role as `by`), the receipt queued and written by the
# daemon; the command-line twins; bad parameters 400, unknown routes 404;
# a non-loopback listen without TLS (exit 3); the slow-down after five
# wrong passwords; SIGTERM.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.sh"
. "$(dirname "$0")/console_lib.sh"
command -v curl >/dev/null || { fail "curl is missing (make deps)"; finish; exit 1; }
scenario_init || { fail "scenario_init"; finish; exit 1; }

licence 120575300042 MARTIN Claire 1990-04-12
event 120575300042 2009-06-01 grant 12 G-A
event 120575300042 2026-03-01 retrait -5 R-A
licence 210412300077 DUPONT Bao 2003-02-01
event 210412300077 2021-06-01 grant 12 G-B
event 210412300077 2026-02-01 retrait -3 R-B
licence 300000000009 PETIT Luc 1975-05-05
event 300000000009 2000-01-01 grant 12 G-C
registries
stage CH-2026-1113 2026-11-13 2026-11-14
trainee 120575300042 MARTIN Claire 1990-04-12
trainee 210412300077 NGUYEN Bao 2003-02-01
# C came at 08:45 to the first session (08:30): late on the grid.
ARRIVALS="08:45 12:50 08:20 12:50" trainee 300000000009 PETIT Luc 1975-05-05
for i in 1 2 3 4 5; do SHEET_ONLY=1 trainee 99000000000$i AUTRE Personne 1980-01-0$i; done
sheet_file sheet1.xml
attestations_file att1.xml
drop sheet1.xml
run_once
drop att1.xml
run_once
expect_eq "scenario: B in review for identity_mismatch" "review 0 identity_mismatch " "$(decision CH-2026-1113-02)"
ID_A=$(sql "SELECT id FROM attestd.attestations WHERE number = 'CH-2026-1113-01'")
ID_B=$(sql "SELECT id FROM attestd.attestations WHERE number = 'CH-2026-1113-02'")
SCAN_A=$(sql "SELECT sha256 FROM console.identity_scans WHERE attestation_id = $ID_A")
SCAN_B=$(sql "SELECT sha256 FROM console.identity_scans WHERE attestation_id = $ID_B")
# A centre name with markup: it must come out as text.
printf 'approval,name,departement,valid_from,valid_to,cert_sha256\n%s,<script>alert(1)</script> & Cie,28,2024-01-01,,%s\n' \
	"$APPROVAL" "$CENTRE_FP" > "$WORK/csv/centres2.csv"
"$ATTESTD" registry import centres "$WORK/csv/centres2.csv" >/dev/null

console_people "$DB" || { fail "console_people"; finish; exit 1; }
if ! console_start; then fail "console starts"; finish; exit 1; fi
pass "console starts and answers /healthz"

# --- /healthz, authentication, headers ------------------------------------------------------
http - /healthz
# The latest migration this tree embeds (sql/NNN_*.sql), as the binary does.
latest=$(ls "$TOP"/sql/[0-9][0-9][0-9]_*.sql | sed 's|.*/0*\([0-9]*\)_[^/]*$|\1|' | sort -n | tail -n 1)
expect_eq "healthz: 200 ok and the schema version, no credentials" "200|ok $latest" "$CODE|$BODY"
http - /
expect_eq "no credentials: 401" 401 "$CODE"
expect_match "401 asks for Basic credentials" '^WWW-Authenticate: Basic realm="attestd"' "$HDRS"
CODE=$(curl -s -o /dev/null -w '%{http_code}' -u "console_auditor:not-the-password" "$CONSOLE_URL/")
expect_eq "wrong password: 401" 401 "$CODE"
expect_match "wrong password: a log line with the address" 'action=console-login outcome=refused addr=127\.0\.0\.1' \
	"$(cat "$WORK/console.err")"
expect_no_match "the log never holds the password" 'not-the-password' "$(cat "$WORK/console.err")"
http console_nobody /
expect_eq "a role that is not an auditor: 403" 403 "$CODE"
http console_nobody /static/console.css
expect_eq "the stylesheet needs no credentials" "200" "$CODE"
http console_auditor /
expect_eq "auditor: dashboard 200" 200 "$CODE"
for h in "Content-Security-Policy: default-src 'self'" "X-Frame-Options: DENY" \
	"Referrer-Policy: no-referrer" "X-Content-Type-Options: nosniff" "Cache-Control: no-store"; do
	expect_match "dashboard header: $h" "^$h\$" "$HDRS"
done
expect_match "pages are French" '<html lang="fr">' "$BODY"
days=$(PGTZ=Europe/Paris psql -X -At -d "$DB" -c "SELECT count(DISTINCT received_at::date) FROM audit.submissions WHERE received_at >= current_date - 29")
expect_eq "dashboard: one bar per day with files (and more than none)" "$days|1" \
	"$(sed -n 's/.*data-chart="files-per-day"\(.*\)/\1/p' "$WORK/body" | sed 's|</svg>.*||' | grep -o '<g class="bar" data-key="[0-9-]*"' | wc -l)|$([ "$days" -gt 0 ] && echo 1)"
http - /healthz
expect_match "healthz too has the security headers" "^Content-Security-Policy: default-src 'self'\$" "$HDRS"
http console_auditor /
expect_match "dashboard: the chart has a title and its table" '<svg class="chart" data-chart="files-per-day" role="img"' "$BODY"
expect_match "dashboard: the numbers beside it" '<table data-table="files-per-day">' "$BODY"
expect_match "dashboard: review count" '<span data-field="review">1</span>' "$BODY"
expect_match "dashboard: the spool is empty" '<span data-field="spool">0</span>' "$BODY"
expect_match "session cookie: HttpOnly, SameSite=Strict" \
	'^Set-Cookie: attestd_session=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict$' "$HDRS"

# --- escaping -----------------------------------------------------------------------------
http console_auditor "/centres/$APPROVAL"
expect_match "a centre name with <script> is shown as text" '&lt;script&gt;alert\(1\)&lt;/script&gt; &amp; Cie' "$BODY"
expect_no_match "and never as markup" '<script>' "$BODY"

# --- review item as an auditor ----------------------------------------------------------------
http console_auditor "/review/$ID_B"
expect_eq "review item: 200" 200 "$CODE"
expect_match "identities: the registry's surname marked different" \
	'<td data-source="registry" class="diff">DUPONT<span class="mark" title="différent"> ≠</span></td>' "$BODY"
expect_match "identities: the attestation's and the sheet's surname not marked" \
	'<td data-source="attestation">NGUYEN</td><td data-source="sheet">NGUYEN</td>' "$BODY"
expect_match "reason in French with its code" '<code>identity_mismatch</code>' "$BODY"
expect_no_match "auditor: no scan shown" 'class="scan"' "$BODY"
expect_match "the form carries the anti-forgery token" '<input type="hidden" name="csrf" value="[0-9a-f]{64}">' "$BODY"
http console_auditor "/review/$ID_B/scans/$SCAN_B"
expect_eq "auditor: the scan route is 404" 404 "$CODE"
http console_auditor "/review"
expect_match "review queue lists B" "<tr data-id=\"$ID_B\">" "$BODY"
http console_auditor "/review?centre=R9999999999"
expect_no_match "review queue filtered by another centre: not B" "<tr data-id=" "$BODY"
http console_auditor "/review?centre=$APPROVAL"
expect_match "review queue filtered by B's centre" "<tr data-id=\"$ID_B\">" "$BODY"

# --- scans for a reviewer -------------------------------------------------------------------
http console_reviewer "/review/$ID_B"
expect_match "reviewer: the scan shown as an image" "<img class=\"scan\" src=\"/review/$ID_B/scans/$SCAN_B\" alt=" "$BODY"
http console_reviewer "/review/$ID_B/scans/$SCAN_B"
expect_eq "reviewer: the scan's bytes, from the archive" "200|$SCAN_B" "$CODE|$(sha256sum < "$WORK/body" | cut -d' ' -f1)"
expect_match "scan: stored media type" '^Content-Type: image/jpeg$' "$HDRS"
expect_match "scan: no-store" '^Cache-Control: no-store$' "$HDRS"
expect_match "scan: Content-Disposition" '^Content-Disposition: inline; filename=' "$HDRS"
http console_reviewer "/review/$ID_B/scans/$SCAN_A"
expect_eq "another item's scan through this item: 404" 404 "$CODE"
http console_reviewer "/review/$ID_B/scans/..%2f..%2f..%2fetc%2fpasswd"
expect_eq "a path for a scan: 404" 404 "$CODE"
http console_reviewer "/review/$ID_B/scans/$(printf '%064d' 0)"
expect_eq "an unknown hash: 404" 404 "$CODE"
SUB=$(sql "SELECT submission_id FROM attestd.attestations WHERE id = $ID_B")
http console_auditor "/files/$SUB/original"
expect_eq "original: not for auditors" 403 "$CODE"
http console_reviewer "/files/$SUB/original"
expect_eq "original: for reviewers, the archived bytes" "200|$(sql "SELECT sha256 FROM audit.submissions WHERE id = $SUB")" \
	"$CODE|$(sha256sum < "$WORK/body" | cut -d' ' -f1)"

# --- anti-forgery and roles on the decision -----------------------------------------------------
state() { echo "$(decision CH-2026-1113-02)|$(balance 210412300077)|$(sql "SELECT count(*) FROM audit.log WHERE action LIKE 'review.%'")"; }
before=$(state)
JAR_R=$WORK/jar-reviewer JAR_A=$WORK/jar-auditor
http console_reviewer "/review/$ID_B" -c "$JAR_R"
TOKEN_R=$(grep -o 'name="csrf" value="[0-9a-f]*"' "$WORK/body" | sed 's/.*value="//; s/"//')
http console_auditor "/review/$ID_B" -c "$JAR_A"
TOKEN_A=$(grep -o 'name="csrf" value="[0-9a-f]*"' "$WORK/body" | sed 's/.*value="//; s/"//')
http console_reviewer "/review/$ID_B" -b "$JAR_R" --data-urlencode decision=accept --data-urlencode note=checked
expect_eq "POST without the token: 403" 403 "$CODE"
http console_reviewer "/review/$ID_B" -b "$JAR_R" --data-urlencode decision=accept --data-urlencode note=checked \
	--data-urlencode "csrf=$TOKEN_A"
expect_eq "POST with another session's token: 403" 403 "$CODE"
http console_reviewer "/review/$ID_B" -b "$JAR_R" -H "Origin: https://evil.example" \
	--data-urlencode decision=accept --data-urlencode note=checked --data-urlencode "csrf=$TOKEN_R"
expect_eq "POST from another Origin: 403" 403 "$CODE"
http console_auditor "/review/$ID_B" -b "$JAR_A" --data-urlencode decision=accept --data-urlencode note=checked \
	--data-urlencode "csrf=$TOKEN_A"
expect_eq "an auditor's POST with a good token: 403" 403 "$CODE"
http console_reviewer "/review/$ID_B" -b "$JAR_R" --data-urlencode decision=accept --data-urlencode "note=" \
	--data-urlencode "csrf=$TOKEN_R"
expect_eq "no note: 400" 400 "$CODE"
expect_eq "refused posts changed nothing" "$before" "$(state)"

# --- the reviewer accepts ----------------------------------------------------------------------
http console_reviewer "/review/$ID_B" -b "$JAR_R" -H "Origin: $CONSOLE_URL" --data-urlencode decision=accept \
	--data-urlencode "note=Nom d'épouse au registre ; pièce vérifiée" --data-urlencode "csrf=$TOKEN_R"
expect_eq "accept through HTTP: 303 to the item" "303|/review/$ID_B" \
	"$CODE|$(printf '%s\n' "$HDRS" | sed -n 's/^Location: //p')"
expect_eq "accept: credited 3, balance 9 to 12" "credited 3  |12" "$(decision CH-2026-1113-02)|$(balance 210412300077)"
expect_eq "accept: decision history names the reviewer's role, with the note" \
	"console_reviewer|review accept|credited|Nom d'épouse au registre ; pièce vérifiée" \
	"$(sql "SELECT actor || '|' || cause || '|' || decision || '|' || note FROM attestd.decision_history WHERE attestation_id = $ID_B ORDER BY id DESC LIMIT 1")"
expect_eq "accept: the audit log names the role" "console_reviewer|review.accept|attestation $ID_B" \
	"$(sql "SELECT actor || '|' || action || '|' || subject FROM audit.log WHERE action LIKE 'review.%'")"
expect_eq "accept: balance history cause names the role" "1" \
	"$(sql "SELECT count(*) FROM audit.balance_history WHERE cause = 'review $ID_B by console_reviewer'")"
expect_eq "accept: the receipt is queued, not written by the console" "1" \
	"$(sql "SELECT count(*) FROM attestd.receipts WHERE submission_id = $SUB AND written_at IS NULL")"
receipts_before=$(ls "$WORK/outbox/$APPROVAL" | grep -c '^att1\.')
run_once
expect_eq "the daemon writes the queued receipt" "$((receipts_before + 1))|0" \
	"$(ls "$WORK/outbox/$APPROVAL" | grep -c '^att1\.')|$(sql "SELECT count(*) FROM attestd.receipts WHERE written_at IS NULL")"
expect_match "the receipt carries the reviewer's decision" 'number="CH-2026-1113-02" licence="210412300077" decision="credited" points="3"' \
	"$(cat "$(latest_receipt att1.xml)")"
expect_eq "the receipt is signed by the prefecture, as review accept's are" "OK" \
	"$(xmlsec1 --verify --enabled-key-data x509 --trusted-pem "$WORK/pki/root.pem" "$(latest_receipt att1.xml)" 2>&1 | grep -o '^OK$')"
http console_reviewer "/review/$ID_B" -b "$JAR_R" --data-urlencode decision=reject --data-urlencode note=again \
	--data-urlencode "csrf=$TOKEN_R"
expect_eq "a decided item cannot be decided again: 409" 409 "$CODE"
run_attestd audit verify-log
expect_eq "the audit chain is intact" 0 "$RC"
http console_auditor /
# A decision's month is that of its local date as the daemon recorded it
# (decided_on, which 014's monthly counts follow); here the daemon's clock
# is the test's (ATTESTD_TEST_NOW), the server's decided_at today's.
expect_eq "dashboard: decisions per month as the database counts them (closed months kept, this one live)" \
	"$(PGTZ=Europe/Paris psql -X -At -d "$DB" -c "SELECT string_agg(m || ':' || c || ',' || n || ',' || r, ' ' ORDER BY m) FROM (
		SELECT to_char(decided_on, 'YYYY-MM') m, count(*) FILTER (WHERE decision = 'credited') c,
		count(*) FILTER (WHERE decision = 'no_credit') n, count(*) FILTER (WHERE decision = 'rejected') r
		FROM attestd.attestations WHERE decided_on >= date_trunc('month', now()) - interval '11 months' GROUP BY 1) x")" \
	"$(sed -n 's/.*<table data-table="decisions-per-month">\(.*\)/\1/p' "$WORK/body" | sed 's|</table>.*||' |
		grep -o '<tr data-key="[0-9-]*"><td>[^<]*</td><td>[0-9]*</td><td>[0-9]*</td><td>[0-9]*</td>' |
		sed -E 's|<tr data-key="([0-9-]*)"><td>[^<]*</td><td>([0-9]*)</td><td>([0-9]*)</td><td>([0-9]*)</td>|\1:\2,\3,\4|' | paste -sd' ')"

# --- licence as of a date: page and command line agree with the ledger ---------------------------
http console_auditor "/licences/120575300042?as_of=2026-02-15"
expect_eq "licence before the retrait: balance 12, ceiling 12" "200|12|12|2026-02-15" \
	"$CODE|$(grep -o '<span data-field="balance">[^<]*' "$WORK/body" | sed 's/.*>//')|$(grep -o '<span data-field="ceiling">[^<]*' "$WORK/body" | sed 's/.*>//')|$(grep -o '<span data-field="as-of">[^<]*' "$WORK/body" | sed 's/.*>//')"
http console_auditor "/licences/120575300042?as_of=2026-11-30"
expect_eq "licence after the retrait and the stage: 7 + 4 = 11" "11" \
	"$(grep -o '<span data-field="balance">[^<]*' "$WORK/body" | sed 's/.*>//')"
expect_match "licence status in French" '<span data-field="status">valide</span>' "$BODY"
expect_match "the stage credit is marked on the chart" '<circle class="credit" data-date="2026-11-15"' "$BODY"
expect_match "the chart is a step line" '<path class="step"' "$BODY"
http console_auditor "/licences/999999999999"
expect_eq "a licence nothing is recorded for: 404" 404 "$CODE"
run_attestd audit licence 120575300042 --as-of 2026-02-15 --format csv
expect_eq "CLI twin: the same balance" "0|120575300042,2026-02-15,12,12,valid" "$RC|$(printf '%s\n' "$OUT" | sed -n 2p)"
run_attestd audit licence 120575300042 --as-of 2026-11-30 --format table
expect_match "CLI twin as a table" '^licence 120575300042 as of 2026-11-30: balance 11, ceiling 12, status valid$' "$OUT"
run_attestd audit licence 120575300042 --as-of 2026-02-31
expect_eq "CLI twin: a bad date is a usage error" 2 "$RC"

# --- monthly report ---------------------------------------------------------------------------------
http console_auditor "/reports/monthly?month=2026-11"
expect_eq "monthly report: 200" 200 "$CODE"
for t in volumes decisions late-transmissions overdue-registrations review-turnaround rejected-files; do
	expect_match "monthly report: table $t" "<table data-table=\"$t\">" "$BODY"
done
expect_match "monthly report: print CSS for A4 in the stylesheet" '@page\{size:A4' "$(curl -s "$CONSOLE_URL/static/console.css")"
http console_auditor "/reports/monthly.csv?month=2026-11&table=volumes"
expect_match "monthly CSV: text/csv" '^Content-Type: text/csv; charset=utf-8$' "$HDRS"
expect_eq "monthly CSV: header and the two files" '"kind","status","files"|"attestations","accepted","1"|"signin-sheet","accepted","1"' \
	"$(tr -d '\r' < "$WORK/body" | paste -sd'|')"
run_attestd audit report --month 2026-11 --format html
expect_match "CLI twin: the same page, the stylesheet inline" '<style>' "$OUT"
expect_match "CLI twin: with the same tables" '<table data-table="review-turnaround">' "$OUT"
run_attestd audit report --month 2026-11 --format csv
expect_match "CLI twin CSV: each table" '^# rejected-files' "$OUT"
run_attestd audit report --month 2026-13
expect_eq "CLI twin: a bad month" 1 "$RC"

# --- parameters and routes ----------------------------------------------------------------------------
for p in "/review/abc" "/files/12x" "/licences/abc" "/files?from=yesterday" "/files?status=lost" \
	"/reports/monthly?month=2026-13" "/licences/120575300042?as_of=2026-02-30" "/review?after=x" \
	"/review?centre=%27%3B--"; do
	http console_auditor "$p"
	expect_eq "bad parameter $p: 400" 400 "$CODE"
done
http console_auditor "/files?name=%27%3B%20DROP%20TABLE%20attestd.submissions%3B--&centre=%27%20OR%201%3D1--"
expect_eq "SQL metacharacters in filters: a plain empty answer" "200" "$CODE"
# Keyset pages of 50: sixty rejected files (rows as the daemon writes them).
sql "INSERT INTO attestd.submissions (claim_id, inbox_dir, file_name, kind, received_at, status, errors, error_messages)
	SELECT 'fake-' || i, '$APPROVAL', 'bad name ' || i || '.xml', 'unknown', '2026-11-20 10:00+01'::timestamptz + i * interval '1 minute',
	       'rejected', '{bad_file_name}', '{\"the final file name must match\"}' FROM generate_series(1, 60) i" >/dev/null
http console_auditor "/files?status=rejected&centre=$APPROVAL"
expect_eq "files: a page of 50, newest first" "50|bad name 60.xml" \
	"$(grep -o '<tr><td><a href="/files/[0-9]*">' "$WORK/body" | wc -l)|$(grep -o 'bad name [0-9]*\.xml' "$WORK/body" | head -n 1)"
next=$(grep -o 'href="/files?before=[^"]*"' "$WORK/body" | sed 's/^href="//; s/"$//; s/&amp;/\&/g')
expect_match "files: the next page keeps the filters" "^/files\\?before=[0-9]+&centre=$APPROVAL&status=rejected$" "$next"
http console_auditor "$next"
expect_eq "files: the second page holds the other 10, no further link" "10|bad name 10.xml|0" \
	"$(grep -o '<tr><td><a href="/files/[0-9]*">' "$WORK/body" | wc -l)|$(grep -o 'bad name [0-9]*\.xml' "$WORK/body" | head -n 1)|$(grep -c 'Page suivante' "$WORK/body")"
http console_auditor "/reports/monthly.csv?month=2026-11&table=rejected-files"
expect_eq "monthly CSV: rejected files by centre and reason" "\"approval\",\"reason\",\"files\"|\"$APPROVAL\",\"bad_file_name\",\"60\"" \
	"$(tr -d '\r' < "$WORK/body" | paste -sd'|')"
http console_auditor "/reports/monthly?month=2026-11"
expect_match "monthly report: values in French (the CSV keeps the codes)" "<td>feuille d'émargement</td><td>accepté</td><td>1</td>" "$BODY"
expect_match "monthly report: the reason with its code" '<code>bad_file_name</code></span></td><td>60</td>' "$BODY"

http console_auditor "/x%0Aaction=forged%20outcome=ok"
expect_eq "a line break in a path: 404" 404 "$CODE"
expect_no_match "and no forged log line" '^(attestd: )?action=forged' "$(cat "$WORK/console.err")"
expect_match "the path is logged defanged" 'path=/x\?action\?forged\?outcome\?ok status=404' "$(cat "$WORK/console.err")"
http console_auditor "/nowhere"
expect_eq "unknown route: 404" 404 "$CODE"
http console_auditor "/files"
expect_match "files list" '<table data-table="files">' "$BODY"
http console_auditor "/files/$SUB"
expect_match "file page: its receipts" '<table data-table="receipts">' "$BODY"
cn=$(openssl x509 -in "$WORK/pki/centre-rsa.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//; s/.*CN=\([^,]*\).*/\1/')
expect_match "file page: the signer's subject from the evidence" "<span data-field=\"signer-subject\">/[^<]*CN=$cn" "$BODY"
not_after=$(date -u -d "$(openssl x509 -in "$WORK/pki/centre-rsa.pem" -noout -enddate | cut -d= -f2)" +%F)
http console_auditor "/centres/$APPROVAL"
expect_match "centre page: the registered certificate's expiry" "<td data-field=\"not-after\">$not_after</td>" "$BODY"
http console_auditor "/stages/$APPROVAL/CH-2026-1113"
expect_match "stage page: the attendance grid" '<table data-table="attendance-grid">' "$BODY"
expect_eq "stage page: one late arrival marked, C's first session" "1|08:45 (retard)" \
	"$(grep -o 'class="late"' "$WORK/body" | wc -l)|$(grep -o '300000000009</a></td><td>PETIT</td><td>Luc</td><td class="late">[^<]*' "$WORK/body" | sed 's/.*>//')"

# --- the slow-down after five wrong passwords, from another loopback address -------------------------------
for i in 1 2 3 4 5; do
	curl -s -o /dev/null --interface 127.0.0.2 -u "console_auditor:wrong$i" "$CONSOLE_URL/"
done
start=$(date +%s%N)
CODE=$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 -u "console_auditor:wrong6" "$CONSOLE_URL/")
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
expect_eq "sixth failure still 401" 401 "$CODE"
if [ "$elapsed" -ge 1900 ]; then pass "sixth failure slowed down (${elapsed} ms >= 2 s)"; else fail "sixth failure slowed down" "took ${elapsed} ms"; fi
http console_auditor "/"
expect_eq "another address is not slowed (answers)" 200 "$CODE"

# --- help ---------------------------------------------------------------------------------------------------
run_attestd help console
expect_match "help console: its usage" '^usage: attestd console \[--foreground\] \[--config F\]$' "$OUT"
run_attestd help audit report
expect_match "help audit report: its usage" '^usage: attestd audit report --month YYYY-MM \[--format html\|csv\] \[--config F\]$' "$OUT"
run_attestd help audit licence
expect_match "help audit licence: --as-of" 'attestd audit licence L \[--as-of D\]' "$OUT"
run_attestd console --bogus
expect_eq "console: an unknown option is a usage error" 2 "$RC"
run_attestd audit report
expect_eq "audit report without --month: usage error" 2 "$RC"

# --- the README's role block, as a DBA would paste it ---------------------------------------------------
readme_sql=$(awk '/^### Console/ { c = 1 } c && /^```sql$/ { s = 1; next } s && /^```$/ { exit } s' "$TOP/README.md")
expect_match "README: the console's role block" 'GRANT attestd_reviewer TO amartin' "$readme_sql"
pg_admin -q -c "DROP ROLE IF EXISTS console_doc" >/dev/null
printf '%s\n' "$readme_sql" | sed 's/amartin/console_doc/g' | pg_admin -q >/dev/null
CODE=$(curl -s -o "$WORK/body" -w '%{http_code}' -u "console_doc:change-me-at-first-use" "$CONSOLE_URL/review/$ID_B")
expect_eq "README: the role it creates signs in as a reviewer" "200|1" \
	"$CODE|$(grep -c 'console_doc</span> (réviseur)' "$WORK/body")"
CODE=$(curl -s -o /dev/null -w '%{http_code}' -u "console_doc:another" "$CONSOLE_URL/")
expect_eq "README: and PostgreSQL checks its password" 401 "$CODE"

# --- stop, and a listen address that needs TLS -------------------------------------------------------------
console_stop
expect_eq "SIGTERM: exit 0" 0 "$CONSOLE_RC"
expect_no_match "console: sanitizer clean" 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$(cat "$WORK/console.err")"
sed -i "s|^listen = .*|listen = 0.0.0.0:$(console_free_port)|" "$CONF"
run_attestd console --config "$CONF"
expect_eq "non-loopback listen without TLS: exit 3" 3 "$RC"
expect_match "and says why" 'is not a loopback address: set tls_cert and tls_key' "$ERR"

# The README's TLS block, with a certificate of our own: HTTPS, the cookie Secure.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -keyout "$WORK/console.key" \
	-out "$WORK/console.pem" >/dev/null 2>&1
readme_ini=$(awk '/^### Console/ { c = 1 } c && /^```ini$/ { s = 1; next } s && /^```$/ { exit } s' "$TOP/README.md")
expect_match "README: the TLS block" '^tls_key = ' "$readme_ini"
TLS_PORT=$(console_free_port)
sed -i '/^\[console\]/,$d' "$CONF"
printf '%s\n' "$readme_ini" | sed -e "s|:8470|:$TLS_PORT|" -e "s|/etc/attestd/console.pem|$WORK/console.pem|" \
	-e "s|/etc/attestd/console.key|$WORK/console.key|" >> "$CONF"
CONSOLE_URL=https://127.0.0.1:$TLS_PORT CURL_OPTS=-k
if console_run; then
	pass "README's TLS configuration: the console starts on a non-loopback address"
	CODE=$(curl -s -k -o /dev/null -D "$WORK/headers" -w '%{http_code}' -u console_auditor:pw-console_auditor "$CONSOLE_URL/")
	expect_eq "HTTPS: the dashboard" 200 "$CODE"
	expect_match "HTTPS: the session cookie is Secure" '^Set-Cookie: attestd_session=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict; Secure' \
		"$(tr -d '\r' < "$WORK/headers")"
	expect_eq "plain HTTP on the TLS port gets nothing" "000" \
		"$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$TLS_PORT/healthz")"
	console_stop
	expect_eq "HTTPS console: SIGTERM, exit 0" 0 "$CONSOLE_RC"
else
	fail "README's TLS configuration: the console starts" "$(cat "$WORK/console.err")"
fi

# A UNIX socket (for a proxy on the same host): plain HTTP is allowed there.
sed -i '/^\[console\]/,$d' "$CONF"
printf '[console]\nlisten = %s\n' "$WORK/console.sock" >> "$CONF"
CONSOLE_URL=http://localhost CURL_OPTS="--unix-socket $WORK/console.sock"
if console_run; then
	pass "listen on a UNIX socket without TLS"
	expect_eq "the socket is for its owner and group only" "660" "$(stat -c %a "$WORK/console.sock")"
	expect_eq "a page through the socket" 200 \
		"$(curl -s --unix-socket "$WORK/console.sock" -o /dev/null -w '%{http_code}' -u console_auditor:pw-console_auditor http://localhost/review)"
	console_stop
	expect_eq "socket console: SIGTERM, exit 0" 0 "$CONSOLE_RC"
else
	fail "listen on a UNIX socket" "$(cat "$WORK/console.err")"
fi
finish
