#!/usr/bin/env bash
# plain pass only: it installs the .deb `make deb` builds and runs `make install`, both without sanitizers (not $ATTESTD): the plain pass has run that very guide
# The README's install guide, run as written: its blocks (marked
# "<!-- guide: NAME -->") are extracted and run line by line as root in a
# throwaway root made of this machine's own system (throwaway_root.sh: an
# overlay over /, its own mount and PID namespaces; nothing reaches the
# host), with a PostgreSQL cluster of the Debian kind inside (socket in
# /run/postgresql, peer authentication, superuser postgres).  Only what
# cannot run there is substituted: `sudo -u U` by `runuser -u U --`, `sudo`
# by nothing, `sudoedit F` by a check that F is there; and, no systemd
# running there, `systemctl enable --now` by `systemctl enable` (the links;
# test_service.sh and test_systemd.sh run the service), `daemon-reload` by
# nothing, `systemctl reload attestd` by the unit's ExecReload= check.
#
# "package": apt install of the .deb `make deb` builds, so its maintainer
# scripts run for real (sysusers, tmpfiles, deb-systemd-helper,
# statoverride); then remove and purge.  "source": make install.  Both:
# the configuration root:attestd 0640, `attestd config check` says ok, the
# registries are in, the units enabled, the manual pages found by man; then
# the "metrics" block, and the daemon run as the unit runs it (the unit's
# own ReadWritePaths= and StateDirectory= over a read-only root, user
# attestd) writes the README's metrics file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/throwaway_root.sh"

if [ "$(id -u)" -ne 0 ]; then
	fail "needs root: the guide's sudo steps run in a throwaway root (overlay, chroot)"
	finish
	exit 1
fi
for tool in unshare chroot apt-get dpkg-buildpackage runuser setfacl man; do
	command -v "$tool" >/dev/null || fail "$tool is missing (make deps)"
done
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$PG_BIN/initdb" ] || fail "no PostgreSQL server (make deps: postgresql-15)"

# guide_block NAME: the lines of the README's block "<!-- guide: NAME ... -->",
# continuation comments dropped.
guide_block() {
	awk -v name="$1" '
		$0 ~ "^<!-- guide: " name "[ -]" { want = 1; next }
		want && /^```sh$/ { inside = 1; next }
		inside && /^```$/ { exit }
		inside' "$TOP/README.md" | grep -v '^[[:space:]]*#' | sed 's/[[:space:]]\{2,\}#.*$//'
}
for b in package source metrics; do
	[ -n "$(guide_block $b)" ] || fail "the README has its \"$b\" block"
done

# The package, built once for all tests (test_package.sh builds it too).
mkdir -p "$TOP/build"
if ! flock "$TOP/build/.deb.lock" env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$TOP" deb \
	>"$WORK/deb.log" 2>&1; then
	fail "make deb" "$(tail -n 30 "$WORK/deb.log")"
	finish
	exit 1
fi
DEB=$(ls "$TOP"/build/deb/attestd_*.deb | grep -v dbgsym | head -n 1)

# What the administrator brings: the trust files and the registries.
GUIDE=$WORK/guide
mkdir -p "$GUIDE"
sh "$TOP/tests/fixtures/pki.sh" "$WORK/pki" >/dev/null 2>&1 || fail "pki.sh"
cp "$WORK/pki/ca-bundle.pem" "$GUIDE/centres-ca.pem"
cp "$WORK/pki/crl.pem" "$GUIDE/centres.crl"
cp "$WORK/pki/prefecture.key" "$WORK/pki/prefecture.pem" "$GUIDE/"
cp "$TOP"/contrib/demo/{centres,facilitators,licences,events}.csv "$GUIDE/"
cp "$DEB" "$GUIDE/"
chmod 0755 "$GUIDE" && chmod 0644 "$GUIDE"/*
guide_block package > "$GUIDE/package.sh"
guide_block source > "$GUIDE/source.sh"
guide_block metrics > "$GUIDE/metrics.sh"
README_METRICS=$(sed -n 's/^With `\[paths\] metrics = \([^`]*\)`.*/\1/p' "$TOP/README.md")
[ -n "$README_METRICS" ] || fail "the README names a metrics path"

# The script run inside: each guide line with its substitutions, stopping
# at the first that fails; then the checks, one "check NAME: RESULT" line
# each, read back out here.
cat > "$WORK/inside.sh" <<'INSIDE'
set -u
KIND=$1 TOP=$2 PG_BIN=$3 METRICS=$4
export LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive
say() { echo "check $1: $2"; }
cd /srv/guide
# A PostgreSQL cluster set up as Debian's postgresql package sets it up.
install -d -o postgres -g postgres /run/postgresql /var/lib/postgresql/guide
runuser -u postgres -- "$PG_BIN/initdb" -D /var/lib/postgresql/guide -U postgres \
	--auth-local=peer --auth-host=reject -E UTF8 --locale=C.UTF-8 --no-sync >/tmp/initdb.log 2>&1 ||
	{ cat /tmp/initdb.log; exit 1; }
runuser -u postgres -- "$PG_BIN/pg_ctl" -D /var/lib/postgresql/guide -l /tmp/pg.log -w -t 120 \
	-o "-c listen_addresses='' -k /run/postgresql -c fsync=off" start >/dev/null ||
	{ cat /tmp/pg.log; exit 1; }
PATH=$PATH:/usr/lib/postgresql/15/bin

run_guide() {	# run_guide FILE: each line as the administrator would
	local line cmd n=0
	while IFS= read -r line; do
		n=$((n + 1))
		[ -n "${line//[[:space:]]/}" ] || continue
		cmd=$line
		# No systemd runs here: daemon-reload has nothing to tell; a reload
		# runs what the unit's ExecReload= runs before its HUP, as the unit
		# would (user attestd); enable makes its links, start is skipped.
		cmd=$(printf '%s' "$cmd" | sed -E 's/sudoedit ([^ ;&]+)/test -f \1 -a -w \1/g;
			s/sudo -u ([a-z_-]+) /runuser -u \1 -- /g; s/(^|[;&|] *|do )sudo /\1/g
			s/systemctl daemon-reload/true/g; s/systemctl enable --now/systemctl enable/g
			s/systemctl reload attestd(\.service)?/runuser -u attestd -- sh -c "$RELOAD_GATE"/g')
		echo "guide\$ $cmd"
		if ! bash -e -o pipefail -c "$cmd" </dev/null 2>&1; then
			say "$(basename "$1" .sh) line $n" "FAILED: $line"
			return 1
		fi
		if [ "$n" -eq 1 ] && [ "$1" = /srv/guide/package.sh ]; then
			say "installing enables nothing" \
				"$(ls /etc/systemd/system/*.wants 2>/dev/null | grep -c attestd)"
		fi
	done < "$1"
	say "$(basename "$1" .sh) guide" "ran"
}

# The unit's reload gate (ExecReload= before the HUP), systemd's $$ undone.
reload_gate() {
	sed -n "s/^ExecReload=\/bin\/sh -c '\(.*\)'$/\1/p" "$1" | sed 's/\$\$/$/g'
}
if [ "$KIND" = source ]; then
	# The tree, as a person who cloned it has it (the overlay keeps the
	# host's copy untouched).
	cd "$TOP"
	cp /srv/guide/*.pem /srv/guide/*.crl /srv/guide/*.key /srv/guide/*.csv .
	RELOAD_GATE=$(reload_gate systemd/attestd.service | sed 's|/usr/local/bin/attestd|attestd|')
	export RELOAD_GATE
	run_guide /srv/guide/source.sh || exit 0
	BIN=/usr/local/bin/attestd UNITDIR=/usr/local/lib/systemd/system
else
	RELOAD_GATE=$(dpkg-deb --fsys-tarfile attestd_*.deb | tar -xOf - ./lib/systemd/system/attestd.service |
		reload_gate /dev/stdin)
	export RELOAD_GATE
	run_guide /srv/guide/package.sh || exit 0
	BIN=/usr/bin/attestd UNITDIR=/lib/systemd/system
fi
say "config owner and mode" "$(stat -c '%U:%G %a' /etc/attestd/attestd.conf)"
say "config check" "$(runuser -u attestd -- attestd config check 2>&1 | tr '\n' ' ')"
say "centres imported" "$(runuser -u postgres -- psql -X -At -d attestd -c 'SELECT count(*) FROM attestd.centres' 2>&1)"
say "licences imported" "$(runuser -u postgres -- psql -X -At -d attestd -c 'SELECT count(*) FROM attestd.licences' 2>&1)"
say "units enabled" "$(ls /etc/systemd/system/multi-user.target.wants/attestd.service \
	/etc/systemd/system/timers.target.wants/attestd-purge.timer 2>&1 | tr '\n' ' ')"
say "man attestd" "$(man -w attestd 2>&1)"
say "man attestd.conf" "$(man attestd.conf 2>/dev/null | col -b | grep -c 'conninfo')"
say "man attestd-centre" "$(man -w attestd-centre 2>&1)"
say "unit names the binary" "$(sed -n 's/^ExecStart=//p' "$UNITDIR/attestd.service")"

# The metrics block, with the edit its comment asks for made first (the
# reload at its end checks it).
sed -i "s|^quarantine *=.*|&\nmetrics = $METRICS|" /etc/attestd/attestd.conf
run_guide /srv/guide/metrics.sh || exit 0
# The daemon as the unit runs it: the root read-only (ProtectSystem=strict)
# but for the unit's ReadWritePaths= and StateDirectory=, user attestd.
rw=$(sed -n 's/^ReadWritePaths=//p' "$UNITDIR/attestd.service" | tr ' ' '\n' | sed 's/^-//')
state=$(sed -n 's/^StateDirectory=//p' "$UNITDIR/attestd.service" | tr ' ' '\n' | sed 's|^|/var/lib/|')
say "the unit's writable paths" "$(echo $rw $state)"
unshare --mount --propagation private bash -c '
	mount --bind / / && mount -o remount,bind,ro /
	for p in $1; do
		[ -e "$p" ] || continue
		mount --bind "$p" "$p" && mount -o remount,bind,rw "$p"
	done
	runuser -u attestd -- "$2" run --once
' _ "$rw $state" "$BIN" >/tmp/once.log 2>&1
say "run --once under the unit's file system" "$? $(tail -n 3 /tmp/once.log | tr '\n' ' ')"
say "metrics written" "$(stat -c '%U %a' "$METRICS" 2>&1)"
# Writing elsewhere is refused there: the emulation is real.
say "read-only elsewhere" "$(unshare --mount --propagation private bash -c '
	mount --bind / / && mount -o remount,bind,ro / && touch /etc/attestd/x' 2>&1 | grep -c 'Read-only')"

if [ "$KIND" = package ]; then
	apt-get remove -y attestd >/tmp/remove.log 2>&1
	say "remove" "$? conf:$(test -f /etc/attestd/attestd.conf && echo kept) archive:$(test -d /var/lib/attestd/archive && echo kept) binary:$(test -e /usr/bin/attestd && echo left || echo gone)"
	apt-get purge -y attestd >/tmp/purge.log 2>&1
	say "purge" "$? conf:$(test -f /etc/attestd/attestd.conf && echo left || echo gone) key:$(test -f /etc/attestd/prefecture.key && echo kept) archive:$(test -d /var/lib/attestd/archive && echo kept) spool:$(test -d /var/spool/attestd/inbox && echo kept) override:$(dpkg-statoverride --list /etc/attestd/attestd.conf || echo none)"
	say "purge keeps the database" "$(runuser -u postgres -- psql -X -At -d attestd -c 'SELECT count(*) FROM attestd.licences' 2>&1)"
	say "purge keeps the user" "$(id -un attestd 2>&1)"
fi
runuser -u postgres -- "$PG_BIN/pg_ctl" -D /var/lib/postgresql/guide -m immediate stop >/dev/null 2>&1
INSIDE

ncentres=$(($(wc -l < "$GUIDE/centres.csv") - 1))
nlicences=$(($(wc -l < "$GUIDE/licences.csv") - 1))
for kind in package source; do
	echo "  -- the guide, $kind"
	# A checkout under /tmp or /run is hidden by the root's own: shown
	# through an overlay of its own (throwaway_root.sh).
	case $TOP in /tmp/*|/run/*) export THROWAWAY_KEEP=$TOP ;; esac
	out=$(throwaway_root "$WORK/root-$kind" "$WORK/inside.sh" "$GUIDE:/srv/guide" \
		-- "$kind" "$TOP" "$PG_BIN" "$README_METRICS" 2>&1)
	printf '%s\n' "$out" > "$WORK/$kind.log"
	echo "  (the run's output: $WORK/$kind.log, kept with KEEP_WORK=1)"
	check() { printf '%s\n' "$out" | sed -n "s/^check $1: //p" | tail -n 1; }
	failed_line=$(printf '%s\n' "$out" | sed -n 's/^check \([a-z]* line [0-9]*\): //p')
	[ -z "$failed_line" ] || fail "$kind: a guide line failed" "$failed_line" "$(printf '%s\n' "$out" | tail -n 25)"
	expect_eq "$kind: the whole guide ran" "ran" "$(check "$kind guide")"
	[ "$kind" = package ] && expect_eq "$kind: installing enables nothing" "0" "$(check 'installing enables nothing')"
	expect_eq "$kind: attestd.conf is root:attestd 0640" "root:attestd 640" "$(check 'config owner and mode')"
	expect_eq "$kind: attestd config check says ok as the service's user" "ok " "$(check 'config check')"
	expect_eq "$kind: the centres are imported" "$ncentres" "$(check 'centres imported')"
	expect_eq "$kind: the licences are imported" "$nlicences" "$(check 'licences imported')"
	expect_match "$kind: the service and the timer are enabled" 'multi-user.target.wants/attestd.service .*timers.target.wants/attestd-purge.timer' "$(check 'units enabled')"
	expect_match "$kind: man attestd finds the page" 'man8/attestd\.8' "$(check 'man attestd')"
	expect_match "$kind: man attestd.conf shows the keys" '^[1-9]' "$(check 'man attestd.conf')"
	expect_match "$kind: man attestd-centre finds the page" 'man8/attestd-centre\.8' "$(check 'man attestd-centre')"
	expect_match "$kind: the unit runs the installed binary" "^/usr/(local/)?bin/attestd run$" "$(check 'unit names the binary')"
	expect_eq "$kind: the metrics block ran" "ran" "$(check 'metrics guide')"
	expect_match "$kind: the README's metrics directory is writable under the unit" "(^| )${README_METRICS%/*}( |$)" "$(check "the unit's writable paths")"
	expect_match "$kind: run --once under the unit's file system" '^0 ' "$(check 'run --once under the unit.s file system')"
	expect_eq "$kind: the README's metrics file is written, readable by node_exporter" "attestd 644" "$(check 'metrics written')"
	expect_eq "$kind: the emulated unit's file system is read-only elsewhere" "1" "$(check 'read-only elsewhere')"
	if [ "$kind" = package ]; then
		expect_eq "package: remove keeps configuration and data" "0 conf:kept archive:kept binary:gone" "$(check remove)"
		expect_eq "package: purge removes the configuration, keeps keys, archive, spool" \
			"0 conf:gone key:kept archive:kept spool:kept override:none" "$(check purge)"
		expect_eq "package: purge keeps the database" "$nlicences" "$(check 'purge keeps the database')"
		expect_eq "package: purge keeps the user" "attestd" "$(check 'purge keeps the user')"
	fi
done
expect_eq "the host has no attestd binary from this test" "" "$(ls /usr/bin/attestd 2>/dev/null)"

finish
