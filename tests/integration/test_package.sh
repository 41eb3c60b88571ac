#!/usr/bin/env bash
# plain pass only: it tests the .deb `make deb` builds, always without sanitizers (not $ATTESTD): the plain pass has tested that very package
# The Debian package `make deb` builds: its contents (every file of
# `make install`, units from systemd/ by pattern, conffiles, modes), its
# maintainer scripts (the Debian helpers' snippets, nothing enabled or
# started), lintian (no error, no warning: each is fixed or overridden with
# its reason in debian/), and the manual pages it ships (mandoc -T lint).
# test_install_guide.sh installs it, removes and purges it.
. "$(dirname "$0")/lib.sh"

for tool in dpkg-buildpackage dpkg-deb lintian mandoc fakeroot dh; do
	command -v "$tool" >/dev/null || fail "$tool is missing (make deps)"
done

mkdir -p "$TOP/build"
if ! flock "$TOP/build/.deb.lock" env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$TOP" deb \
	>"$WORK/deb.log" 2>&1; then
	fail "make deb" "$(tail -n 30 "$WORK/deb.log")"
	finish
	exit 1
fi
pass "make deb"
DEB=$(ls "$TOP"/build/deb/attestd_*.deb | grep -v dbgsym | head -n 1)
expect_match "the package is under build/deb" "^$TOP/build/deb/attestd_[0-9.]+_[a-z0-9]+\.deb$" "$DEB"
expect_eq "nothing written beside the tree" "" "$(ls "$TOP"/../attestd_* 2>/dev/null)"

# --- contents -----------------------------------------------------------------------

contents=$(dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6, $1 }' | LC_ALL=C sort)
want="/etc/attestd/attestd.conf -rw-r--r--
/etc/ssh/sshd_config.d/attestd-centres.conf -rw-r--r--
/usr/bin/attestd -rwxr-xr-x
/usr/lib/sysusers.d/attestd.conf -rw-r--r--
/usr/lib/tmpfiles.d/attestd.conf -rw-r--r--
/usr/sbin/attestd-centre -rwxr-xr-x
/usr/share/bash-completion/completions/attestd -rw-r--r--
/usr/share/bash-completion/completions/attestd-centre -rw-r--r--
/usr/share/doc/attestd/README.md -rw-r--r--
/usr/share/doc/attestd/changelog.gz -rw-r--r--
/usr/share/doc/attestd/copyright -rw-r--r--
/usr/share/doc/attestd/examples/attestd.conf.example -rw-r--r--
/usr/share/doc/attestd/systemd.md -rw-r--r--
/usr/share/lintian/overrides/attestd -rw-r--r--
/usr/share/man/man5/attestd.conf.5.gz -rw-r--r--
/usr/share/man/man8/attestd-centre.8.gz -rw-r--r--
/usr/share/man/man8/attestd.8.gz -rw-r--r--"
# Every unit of systemd/, whatever their number (the console's comes from
# another branch).
for u in "$TOP"/systemd/*.service "$TOP"/systemd/*.timer; do want+=$'\n'"/lib/systemd/system/${u##*/} -rw-r--r--"; done
for f in "$TOP"/sql/*.sql; do want+=$'\n'"/usr/share/attestd/sql/${f##*/} -rw-r--r--"; done
for f in "$TOP"/parsers/schemas/*.xsd; do want+=$'\n'"/usr/share/attestd/schemas/${f##*/} -rw-r--r--"; done
expect_eq "every file of the package, its mode" "$(printf '%s\n' "$want" | LC_ALL=C sort)" "$contents"
expect_eq "every file owned by root" "" "$(dpkg-deb -c "$DEB" | awk '$2 != "root/root"')"

X=$WORK/x
dpkg-deb -x "$DEB" "$X"
dpkg-deb -e "$DEB" "$X/DEBIAN"
expect_match "the packaged binary runs" '^attestd [0-9]' "$("$X/usr/bin/attestd" --version 2>&1)"
expect_match "the packaged binary knows config check" 'attestd config check' "$("$X/usr/bin/attestd" help 2>&1)"
expect_eq "the conffiles: the configuration and the sshd drop-in" \
	"/etc/attestd/attestd.conf /etc/ssh/sshd_config.d/attestd-centres.conf" \
	"$(LC_ALL=C sort "$X/DEBIAN/conffiles" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "the conffile is the example" "" "$(cmp "$TOP/attestd.conf.example" "$X/etc/attestd/attestd.conf" 2>&1)"
expect_eq "the units run /usr/bin/attestd" "ExecStart=/usr/bin/attestd run ExecStart=/usr/bin/attestd purge" \
	"$(grep -h '^ExecStart=' "$X/lib/systemd/system/attestd.service" "$X/lib/systemd/system/attestd-purge.service" | tr '\n' ' ' | sed 's/ $//')"
expect_match "the unit checks the configuration before a reload" \
	"^ExecReload=/bin/sh -c '/usr/bin/attestd config check" "$(grep '^ExecReload=' "$X/lib/systemd/system/attestd.service")"
expect_eq "the units' documentation exists as named" "" \
	"$(grep -h '^Documentation=file:' "$X"/lib/systemd/system/* | sed 's/^Documentation=file://' | sort -u |
		while read -r f; do [ -f "$X$f" ] || echo "$f"; done)"
expect_eq "no /usr/local left" "" "$(grep -rl /usr/local "$X/lib" "$X/etc" 2>/dev/null)"
expect_eq "the sql is the tree's" "" "$(diff -r "$TOP/sql" "$X/usr/share/attestd/sql" 2>&1)"
expect_eq "the sshd drop-in is the tree's" "" \
	"$(cmp "$TOP/systemd/attestd-centres.sshd.conf" "$X/etc/ssh/sshd_config.d/attestd-centres.conf" 2>&1)"
expect_eq "the sysusers.d file is the tree's" "" "$(cmp "$TOP/systemd/attestd.sysusers" "$X/usr/lib/sysusers.d/attestd.conf" 2>&1)"
expect_eq "the tmpfiles.d file is the tree's" "" "$(cmp "$TOP/systemd/attestd.tmpfiles" "$X/usr/lib/tmpfiles.d/attestd.conf" 2>&1)"

# --- control and maintainer scripts -------------------------------------------------------

control=$(dpkg-deb -f "$DEB")
expect_match "depends on sysusers" 'Depends:.*systemd \| systemd-standalone-sysusers' "$control"
expect_match "depends on the libraries (shlibs)" 'Depends:.*libxmlsec1-openssl' "$control"
expect_match "the description says purge keeps the archive and the database" \
	'never the archive .*/var/lib/attestd' "$(printf '%s\n' "$control" | tr '\n' ' ' | sed 's/  */ /g')"
post=$(cat "$X/DEBIAN/postinst")
expect_match "postinst: systemd-sysusers (dh_installsysusers)" '^ *systemd-sysusers .*attestd\.conf' "$post"
expect_match "postinst: systemd-tmpfiles --create (dh_installtmpfiles)" 'systemd-tmpfiles .*--create attestd\.conf' "$post"
expect_match "postinst: deb-systemd-helper (dh_installsystemd)" 'deb-systemd-helper update-state .attestd\.service' "$post"
# dh_installsystemd --no-enable: a unit is enabled again on upgrade only if
# it was (debian-installed); a first install enables nothing
# (test_install_guide.sh shows it on a real install).
for u in "$TOP"/systemd/*.service "$TOP"/systemd/*.timer; do
	u=${u##*/}
	grep -q "^\[Install\]" "$TOP/systemd/$u" || continue
	expect_match "postinst: $u enabled only if it was" "if deb-systemd-helper debian-installed '$u'; then" "$post"
done
expect_no_match "postinst: starts nothing on install" 'deb-systemd-invoke (start|restart) ' "$post"
expect_match "postinst: the configuration root:attestd 0640 by statoverride" \
	'dpkg-statoverride --update --add root attestd 0640 /etc/attestd/attestd.conf' "$post"
# The statoverride needs the group: it comes after the sysusers snippet.
expect_eq "postinst: the user exists before the statoverride" "yes" \
	"$(awk '/systemd-sysusers/ && !s { s = NR } /dpkg-statoverride --update/ { o = NR } END { print (s && o > s) ? "yes" : "no" }' "$X/DEBIAN/postinst")"
for s in postinst postrm; do
	sh -n "$X/DEBIAN/$s" 2>&1 && pass "$s: sh -n" || fail "$s: sh -n"
done
expect_match "postrm: purge drops the override" 'dpkg-statoverride --remove /etc/attestd/attestd.conf' "$(cat "$X/DEBIAN/postrm")"
expect_no_match "postrm: never removes the archive, spool or database" 'rm -[a-z]*r[a-z]* .*/var/(lib|spool)/attestd|dropdb|DROP DATABASE' \
	"$(cat "$X/DEBIAN/postrm")"

# --- lintian, mandoc ------------------------------------------------------------------------

lintian --fail-on error,warning --pedantic "$DEB" >"$WORK/lintian.log" 2>&1
rc=$?
out=$(grep -v 'running with root privileges' "$WORK/lintian.log")
expect_eq "lintian: no error, no warning (nor pedantic tag)" "" "$out"
expect_eq "lintian: exit 0" 0 "$rc"
expect_match "lintian: each override says why" '^# ' "$(cat "$TOP/debian/attestd.lintian-overrides")"
for page in "$X"/usr/share/man/man*/*.gz; do
	out=$(zcat "$page" | mandoc -T lint -W warning 2>&1)
	expect_eq "${page##*/}: mandoc -T lint -W warning" "" "$out"
done

finish
