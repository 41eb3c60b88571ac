#!/usr/bin/env bash
# make check-stress's runner (tests/integration/stress.sh): it fails loudly
# without stress-ng, prints each run's totals and failed checks, and exits
# 0 only if every run passed.  Small runs (one cheap test file), so that
# the suite does not run itself, and hogs at 1% (STRESS_LOAD), so that the
# files beside it keep their cores.
. "$(dirname "$0")/lib.sh"
STRESS=$TOP/tests/integration/stress.sh

mkdir -p "$WORK/bin"
for t in bash sh date mktemp nproc dirname cat grep awk sed rm sleep kill; do
	ln -s "$(command -v "$t")" "$WORK/bin/$t"
done
out=$(PATH=$WORK/bin RUNS=1 "$WORK/bin/bash" "$STRESS" 2>&1); rc=$?
expect_eq "without stress-ng: fails" 1 "$rc"
expect_match "without stress-ng: says what is missing" 'stress-ng is missing \(Debian package stress-ng: make deps\)' "$out"

out=$(RUNS=two bash "$STRESS" 2>&1); rc=$?
expect_eq "RUNS not a number: fails" 1 "$rc"

command -v stress-ng >/dev/null || { fail "stress-ng installed (make deps)"; finish; exit 1; }
out=$(STRESS_LOAD=1 RUNS=2 ONLY=test_cli.sh bash "$STRESS" 2>&1); rc=$?
expect_eq "two passing runs: exit 0" 0 "$rc"
expect_match "each run's totals and time" '^run 2/2: [1-9][0-9]* passed, 0 failed in [0-9]+ s$' "$out"
expect_match "the verdict" '^check-stress: 2 of 2 runs passed$' "$out"

# A failing run keeps its logs (said on the verdict's line): here, under $WORK.
out=$(TMPDIR=$WORK STRESS_LOAD=1 RUNS=1 ONLY=no_such_test bash "$STRESS" 2>&1); rc=$?
expect_eq "a failing run: exit 1" 1 "$rc"
expect_match "a failing run: said" '^check-stress: 1 of 1 runs failed' "$out"
expect_match "... with where its logs are" "^check-stress: 1 of 1 runs failed \(logs in $WORK/attestd-stress\.[A-Za-z0-9]+\)\$" "$out"
finish
