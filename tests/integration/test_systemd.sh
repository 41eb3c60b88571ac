#!/usr/bin/env bash
# The systemd side, checked without a running systemd: the units' exposure
# score (systemd-analyze security --offline, printed; 1.5 at most), the
# units as installed (systemd-analyze verify), `make install` into a DESTDIR,
# sysusers.d and tmpfiles.d applied to a scratch root, and the daemon's
# system calls (strace, release build) against the units' SystemCallFilter=.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.sh"
. "$(dirname "$0")/console_lib.sh"

command -v systemd-analyze >/dev/null || { fail "systemd-analyze is missing (make deps: systemd)"; finish; exit 1; }
MAKE_ENV=(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL)

# --- exposure score ------------------------------------------------------------------

for unit in attestd.service attestd-purge.service attestd-console.service; do
	out=$(cd "$TOP/systemd" && systemd-analyze security --offline=yes "$unit" 2>&1)
	line=$(printf '%s\n' "$out" | grep 'Overall exposure level')
	echo "  $line"
	score=$(printf '%s\n' "$line" | sed -nE 's/.*: ([0-9]+\.[0-9]+) .*/\1/p')
	if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 1.5) }'; then
		pass "$unit: exposure $score <= 1.5"
	else
		fail "$unit: exposure ${score:-?} <= 1.5" "$out"
	fi
done

# The console reads the archive and writes nothing (spec/console.md): no
# writable path, no state directory, the daemon's account.
expect_eq "console unit: nothing writable, the archive read-only under ProtectSystem=strict" \
	"User=attestd|ProtectSystem=strict|" \
	"$(grep -E '^(ProtectSystem|User)=' "$TOP/systemd/attestd-console.service" | tr '\n' '|')$(grep -E '^(ReadWritePaths|StateDirectory|RuntimeDirectory|LogsDirectory|CacheDirectory)=' "$TOP/systemd/attestd-console.service")"
expect_match "console unit: started as attestd console, Type=notify" '^ExecStart=/usr/local/bin/attestd console$' \
	"$(grep -E '^(ExecStart|Type)=' "$TOP/systemd/attestd-console.service")"

# --- make install ---------------------------------------------------------------------

DEST=$WORK/dest
if "${MAKE_ENV[@]}" make -s -C "$TOP" install DESTDIR="$DEST" PREFIX=/usr INSTALL_BIN="$ATTESTD" \
	>"$WORK/install.log" 2>&1; then
	pass "make install DESTDIR= PREFIX=/usr"
else
	fail "make install DESTDIR= PREFIX=/usr" "$(cat "$WORK/install.log")"
fi
expected="/etc/attestd/attestd.conf.example 640
/etc/ssh/sshd_config.d/attestd-centres.conf 644
/usr/bin/attestd 755
/usr/lib/systemd/system/attestd-purge.service 644
/usr/lib/systemd/system/attestd-console.service 644
/usr/lib/systemd/system/attestd-purge.timer 644
/usr/lib/systemd/system/attestd.service 644
/usr/lib/sysusers.d/attestd.conf 644
/usr/lib/tmpfiles.d/attestd.conf 644
/usr/sbin/attestd-centre 755
/usr/share/bash-completion/completions/attestd 644
/usr/share/bash-completion/completions/attestd-centre 644
/usr/share/doc/attestd/README.md 644
/usr/share/doc/attestd/systemd.md 644
/usr/share/man/man5/attestd.conf.5 644
/usr/share/man/man8/attestd-centre.8 644
/usr/share/man/man8/attestd.8 644"
for f in "$TOP"/sql/*.sql; do expected+=$'\n'"/usr/share/attestd/sql/${f##*/} 644"; done
for f in "$TOP"/parsers/schemas/*.xsd; do expected+=$'\n'"/usr/share/attestd/schemas/${f##*/} 644"; done
expect_eq "installed tree: every file, its mode" "$(printf '%s\n' "$expected" | LC_ALL=C sort)" \
	"$(cd "$DEST" && find . -type f -printf '/%P %m\n' | LC_ALL=C sort)"
expect_match "roles.sql installed" "roles.sql" "$(ls "$DEST/usr/share/attestd/sql")"
expect_match "the installed binary runs" "^attestd " "$("$DEST/usr/bin/attestd" --version 2>&1)"
expect_eq "units name the installed binary" \
	"ExecStart=/usr/bin/attestd run ExecStart=/usr/bin/attestd purge" \
	"$(grep -h '^ExecStart=' "$DEST/usr/lib/systemd/system/attestd.service" \
		"$DEST/usr/lib/systemd/system/attestd-purge.service" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "no /usr/local left in the units" "" "$(grep -l /usr/local "$DEST"/usr/lib/systemd/system/* 2>/dev/null)"
expect_eq "installed drop-in is the shipped one" "" \
	"$(cmp "$TOP/systemd/attestd-centres.sshd.conf" "$DEST/etc/ssh/sshd_config.d/attestd-centres.conf" 2>&1)"

# Installed for real under a scratch prefix (no DESTDIR), so that the units
# name a binary that exists: systemd-analyze verify reads them as systemd
# would and must have nothing to say.
P=$WORK/prefix
if "${MAKE_ENV[@]}" make -s -C "$TOP" install PREFIX="$P" SYSCONFDIR="$P/etc" INSTALL_BIN="$ATTESTD" \
	>"$WORK/install2.log" 2>&1; then
	pass "make install PREFIX=scratch"
else
	fail "make install PREFIX=scratch" "$(cat "$WORK/install2.log")"
fi
U=$P/lib/systemd/system
out=$(cd "$U" && systemd-analyze verify attestd.service attestd-purge.service attestd-purge.timer \
	attestd-console.service 2>&1)
expect_eq "systemd-analyze verify: no complaint" "" "$out"
expect_eq "the timer starts the purge service daily" "OnCalendar=*-*-* 03:30:00 Persistent=true" \
	"$(grep -E '^(OnCalendar|Persistent)=' "$U/attestd-purge.timer" | tr '\n' ' ' | sed 's/ $//')"

# --- sysusers.d and tmpfiles.d on a scratch root --------------------------------------------

if [ "$(id -u)" -eq 0 ]; then
	R=$WORK/root
	mkdir -p "$R/etc"
	systemd-sysusers --root="$R" "$DEST/usr/lib/sysusers.d/attestd.conf" >"$WORK/sysusers.log" 2>&1
	expect_eq "sysusers: exit 0" 0 "$?"
	expect_match "sysusers: the service account, shell nologin" '^attestd:x:[0-9]+:[0-9]+:attestd service:/var/lib/attestd:/usr/sbin/nologin$' \
		"$(cat "$R/etc/passwd" 2>&1)"
	expect_match "sysusers: the centres' group" '^attestd-centres:x:[0-9]+:' "$(cat "$R/etc/group" 2>&1)"
	systemd-tmpfiles --create --root="$R" "$DEST/usr/lib/tmpfiles.d/attestd.conf" >"$WORK/tmpfiles.log" 2>&1
	expect_eq "tmpfiles: exit 0" 0 "$?"
	uid=$(awk -F: '$1 == "attestd" { print $3 }' "$R/etc/passwd")
	gid=$(awk -F: '$1 == "attestd" { print $3 }' "$R/etc/group")
	want="var/spool/attestd 0:0 755
var/spool/attestd/inbox 0:$gid 751
var/spool/attestd/outbox 0:$gid 751
var/lib/attestd $uid:$gid 750
var/lib/attestd/spool $uid:$gid 750
var/lib/attestd/archive $uid:$gid 750
var/lib/attestd/quarantine $uid:$gid 750
etc/attestd 0:$gid 750
etc/ssh/attestd-centres 0:0 755"
	got=$(cd "$R" && while read -r p _; do stat -c '%n %u:%g %a' "$p" 2>&1; done <<< "$want")
	expect_eq "tmpfiles: the directories, owners and modes" "$want" "$got"
	# sshd's rule for ChrootDirectory: every component root-owned, not
	# group/world writable.
	bad=$(cd "$R" && for p in var var/spool var/spool/attestd; do
		stat -c '%n %u %a' "$p"; done | awk '$2 != 0 || substr($3, length($3) - 1, 1) ~ /[2367]/ || substr($3, length($3), 1) ~ /[2367]/')
	expect_eq "the chroot path suits sshd" "" "$bad"
else
	echo "  skip  sysusers/tmpfiles on a scratch root (needs root)"
fi

# --- system calls against SystemCallFilter= ---------------------------------------------------

# The daemon runs as a service would (long-running, a file dropped, SIGHUP,
# SIGTERM) under strace; every system call it made must be one the filter
# allows: @system-service without @privileged and @resources.  A sanitized
# binary makes calls of its own, so only the release build is checked.
filter_expand() {
	systemd-analyze syscall-filter "$1" | tail -n +2 | sed 's/^ *//' | grep -v -e '^#' -e '^$' |
		while read -r n; do case $n in @*) filter_expand "$n" ;; *) echo "$n" ;; esac; done
}
if [ -n "${SANITIZE:-}" ]; then
	echo "  skip  system calls (sanitized build)"
elif ! command -v strace >/dev/null || ! strace -f -qq -o /dev/null true 2>/dev/null; then
	fail "strace missing or not permitted (make deps: strace)"
else
	filter=$(grep -E '^SystemCallFilter=' "$TOP/systemd/attestd.service" | tr '\n' ' ')
	expect_eq "the filter checked here is the unit's" \
		"SystemCallFilter=@system-service SystemCallFilter=~@privileged @resources " "$filter"
	filter_expand @system-service | sort -u > "$WORK/sys-service"
	{ filter_expand @privileged; filter_expand @resources; } | sort -u > "$WORK/sys-denied"
	comm -23 "$WORK/sys-service" "$WORK/sys-denied" > "$WORK/sys-allowed"

	scenario_init t_systemd || fail "scenario_init"
	licence 120575300042 MARTIN Claire 1990-04-12
	event 120575300042 2009-06-01 grant 12 G1
	registries
	stage CH-2026-1113 2026-11-13 2026-11-14
	trainee 120575300042 MARTIN Claire 1990-04-12
	attestations_file att.xml
	cat >> "$CONF" <<CONF
rescan_interval = 1s
CONF
	sed -i "s|^quarantine = .*|&\nmetrics = $WORK/attestd.prom|" "$CONF"
	# sd_notify's calls are made too (to a socket nobody listens on).
	NOTIFY_SOCKET=$WORK/notify ATTESTD_TEST_NOW=$NOW \
		strace -f -qq -o "$WORK/trace" "$ATTESTD" run --foreground 2>"$WORK/run.log" &
	pid=$!
	waitfor() {	# waitfor REGEX FILE
		wait_until 120 grep -Eqs "$1" "$2"
	}
	waitfor 'action=start' "$WORK/run.log" || fail "daemon started under strace" "$(cat "$WORK/run.log")"
	drop att.xml
	waitfor 'file=att.xml .*outcome=' "$WORK/run.log" || fail "file processed under strace" "$(cat "$WORK/run.log")"
	kill -HUP "$(pgrep -P "$pid" -x attestd || echo "$pid")"
	waitfor 'action=reload' "$WORK/run.log" || fail "reload logged"
	kill -TERM "$(pgrep -P "$pid" -x attestd || echo "$pid")"
	wait "$pid"
	expect_match "the daemon stopped on SIGTERM" "action=stop" "$(cat "$WORK/run.log")"
	sed -nE 's/^[0-9]+ +([a-z_0-9]+)\(.*/\1/p' "$WORK/trace" | sort -u > "$WORK/sys-used"
	echo "  $(wc -l < "$WORK/sys-used") distinct system calls made: $(tr "\n" " " < "$WORK/sys-used")"
	expect_eq "every system call the daemon made is allowed by the unit" "" \
		"$(comm -23 "$WORK/sys-used" "$WORK/sys-allowed" | tr '\n' ' ')"

	# The console the same way (its unit has the same filter): start, pages
	# signed in and refused, SIGHUP, SIGTERM.
	expect_eq "the console's unit has the daemon's filter" "$filter" \
		"$(grep -E '^SystemCallFilter=' "$TOP/systemd/attestd-console.service" | tr '\n' ' ')"
	console_people t_systemd
	CONSOLE_PORT=$(console_free_port)
	CONSOLE_URL=http://127.0.0.1:$CONSOLE_PORT
	printf '\n[console]\nlisten = 127.0.0.1:%s\n' "$CONSOLE_PORT" >> "$CONF"
	NOTIFY_SOCKET=$WORK/notify strace -f -qq -o "$WORK/ctrace" "$ATTESTD" console --foreground \
		--config "$CONF" 2>"$WORK/console.log" &
	pid=$!
	# Ready once it logged its start (in this file's own log: the port is
	# its, not another file's console's) and /healthz answers.
	console_up() {
		grep -q 'action=console-start pid=' "$WORK/console.log" &&
		curl -s -o /dev/null "$CONSOLE_URL/healthz"
	}
	wait_until 120 console_up || fail "console under strace: started" "$(cat "$WORK/console.log")"
	expect_eq "console under strace: a page for an auditor" 200 \
		"$(curl -s -o /dev/null -w '%{http_code}' -u console_auditor:pw-console_auditor "$CONSOLE_URL/")"
	expect_eq "console under strace: a wrong password" 401 \
		"$(curl -s -o /dev/null -w '%{http_code}' -u console_auditor:wrong "$CONSOLE_URL/")"
	curl -s -o /dev/null -u console_reviewer:pw-console_reviewer "$CONSOLE_URL/reports/monthly?month=2026-11"
	kill -HUP "$(pgrep -P "$pid" -x attestd || echo "$pid")"
	waitfor 'action=console-reload' "$WORK/console.log" || fail "console: SIGHUP logged"
	kill -TERM "$(pgrep -P "$pid" -x attestd || echo "$pid")"
	wait "$pid"
	expect_match "the console stopped on SIGTERM" "action=console-stop" "$(cat "$WORK/console.log")"
	sed -nE 's/^[0-9]+ +([a-z_0-9]+)\(.*/\1/p' "$WORK/ctrace" | sort -u > "$WORK/csys-used"
	echo "  console: $(wc -l < "$WORK/csys-used") distinct system calls made"
	expect_eq "every system call the console made is allowed by its unit" "" \
		"$(comm -23 "$WORK/csys-used" "$WORK/sys-allowed" | tr '\n' ' ')"
fi

finish
