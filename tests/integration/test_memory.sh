#!/usr/bin/env bash
# Memory stays proportional to the limit (issue 11 §6): the peak RSS of
# `attestd check` on generated files of 20 MB and 50 MB (one huge
# attribute; 1 MB text nodes) under a raised max_file_size stays under
# 2 × max_file_size + 30 MiB: the bytes read once, parsed in place (no
# copy of them by libxml2, no encoding conversion), and the tree.  Peak
# RSS is the kernel's (getrusage of the child).  No database is used.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { fail "python3 is needed to measure peak RSS"; finish; exit 1; }
PKI=$WORK/pki
test_pki "$PKI" || { fail "tests/fixtures/pki.sh"; finish; exit 1; }

# gen KIND MB FILE: one attribute of MB megabytes, or MB text nodes of 1 MB.
gen() {
	python3 - "$1" "$2" "$3" <<'PY'
import sys
kind, mb, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(path, 'wb') as f:
    f.write(b'<?xml version="1.0" encoding="UTF-8"?>\n'
            b'<attestations xmlns="urn:ssr:stage:1" version="1" created="2026-11-14T17:05:00+01:00"')
    if kind == 'attribute':
        f.write(b' note="' + b'A' * (mb * 1000 * 1000) + b'"/>\n')
    else:
        f.write(b'>')
        for _ in range(mb):
            f.write(b'<x>' + b'B' * (1000 * 1000 - 7) + b'</x>')
        f.write(b'</attestations>\n')
PY
}

# peak_rss_mib CMD...: runs CMD, prints "PEAK_MIB RC".  Under AddressSanitizer
# its quarantine of freed blocks (kept back to catch a use after free, 256 MiB
# by default) is turned off for the measure: it is the sanitizer's memory, not
# the program's; everything else of the sanitizer stays on.
peak_rss_mib() {
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0 \
	python3 -c '
import resource, subprocess, sys
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024, rc)' "$@"
}

for case in "20 24" "50 64"; do
	set -- $case
	mb=$1 limit_mib=$2
	bound=$((2 * limit_mib + 30))
	conf=$WORK/limit$limit_mib.conf
	printf '[trust]\ncentres_ca = %s\n[prefecture]\ndepartements = 28\n[limits]\nmax_file_size = %sMiB\n' \
		"$PKI/ca-bundle.pem" "$limit_mib" > "$conf"
	for kind in attribute text; do
		f=$WORK/$kind-$mb.xml
		gen $kind "$mb" "$f"
		read -r peak rc < <(peak_rss_mib "$ATTESTD" check --config "$conf" "$f")
		expect_eq "$kind, $mb MB, limit $limit_mib MiB: refused as a bad file (exit 1)" 1 "$rc"
		if [ "$peak" -lt "$bound" ]; then
			pass "$kind, $mb MB, limit $limit_mib MiB: peak RSS $peak MiB < $bound MiB"
		else
			fail "$kind, $mb MB, limit $limit_mib MiB: peak RSS under 2 × limit + 30 MiB" \
				"peak $peak MiB, bound $bound MiB"
		fi
		rm -f "$f"
	done
done

finish
