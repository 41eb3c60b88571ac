#!/usr/bin/env bash
# The console in a real browser (tests/browser/run.mjs: Debian's chromium,
# headless, driven by puppeteer-core) on the demo's data: an auditor and a
# reviewer sign in; the dashboard's chart, the review item with its scans
# and the three identities, a reviewer's accept and an auditor's refused,
# the licence's balance as of a past date against the ledger, the monthly
# report printed to an A4 PDF.  Fails loudly when node, chromium,
# puppeteer-core (make deps) or pdftotext is missing.  Screenshots in
# $SHOTS (default build/browser/): make doc-screenshots copies them to doc/.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/console.sh"

missing=""
command -v node >/dev/null || missing="$missing node (Node.js 18 or later)"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || missing="$missing chromium"
command -v pdftotext >/dev/null || missing="$missing pdftotext (poppler-utils)"
[ -d "$TOP/tests/browser/node_modules/puppeteer-core" ] || missing="$missing puppeteer-core (npm ci --prefix tests/browser)"
if [ -n "$missing" ]; then
	fail "the browser tests' tools are installed (make deps)" "missing:$missing"
	finish; exit 1
fi
pass "node, chromium, puppeteer-core and pdftotext are there"

console_demo || { fail "the demo's data loaded"; finish; exit 1; }
pass "the demo's data loaded (contrib/demo/demo.sh)"
console_start || { fail "attestd console started"; finish; exit 1; }
pass "attestd console answers /healthz"

SHOTS=${SHOTS:-$TOP/build/browser${SANITIZE:+-sanitize}}
mkdir -p "$SHOTS"
CONSOLE_URL=$URL AUDITOR=$ANNE REVIEWER=$REMI PASSWORD=$PASS DB=$DB SHOTS=$SHOTS \
	CONSOLE_NOW=$CONSOLE_NOW ATTESTD=$ATTESTD ATTESTD_CONFIG=$CONF OUTBOX=$DEMO/outbox \
	timeout 600 node "$TOP/tests/browser/run.mjs" > "$WORK/browser.out" 2>&1
rc=$?
sed -n '/^browser: [0-9]* passed/!p' "$WORK/browser.out"
p=$(grep -c '^  ok    ' "$WORK/browser.out")
f=$(grep -c '^  FAIL  ' "$WORK/browser.out")
PASSED=$((PASSED + p)) FAILED=$((FAILED + f))
expect_eq "node tests/browser/run.mjs: exit 0 and its summary" "0 browser: $p passed, $f failed" \
	"$rc $(grep '^browser: ' "$WORK/browser.out" | tail -n 1)"

# The auditor's 403 must be for her role: every POST the browser sent came
# from the console's own form with its token, so none may be a forgery.
expect_eq "no browser POST refused as a forgery (the auditor's 403 is her role's)" "" \
	"$(grep 'reason=anti-forgery' "$WORK/console.log")"
console_stop
finish
