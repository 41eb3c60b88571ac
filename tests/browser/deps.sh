#!/bin/sh
# puppeteer-core for the browser tests, as package-lock.json pins it, when
# it is not there yet (make deps).  It never downloads a browser: the tests
# drive Debian's chromium.  Node.js 18 or later and npm must be installed.
cd "$(dirname "$0")" || exit 1
[ -f node_modules/puppeteer-core/package.json ] && exit 0
command -v npm >/dev/null 2>&1 || {
	echo "attestd: the browser tests need Node.js (18 or later) and npm; install them, then make deps" >&2
	exit 1
}
echo "attestd: npm ci in tests/browser (puppeteer-core)"
PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --ignore-scripts
