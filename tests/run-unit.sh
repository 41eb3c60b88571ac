#!/bin/sh
# Runs every Criterion unit-test binary given; fails if any fails or if none ran.
[ "$#" -gt 0 ] || { echo "run-unit: no unit test binaries" >&2; exit 1; }
failed=0
for t in "$@"; do
	echo "== $t"
	"$t" --jobs 2 || failed=$((failed + 1))
done
if [ "$failed" -ne 0 ]; then
	echo "unit: $failed test binaries failed" >&2
	exit 1
fi
