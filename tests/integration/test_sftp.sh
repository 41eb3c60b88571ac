#!/usr/bin/env bash
# The centres' SFTP drop boxes end to end, with a real OpenSSH server on
# 127.0.0.1 (a high port, its own host key and configuration; the shipped
# drop-in included first, as Debian's sshd_config does): two centres made
# by contrib/sftp/attestd-centre, an upload under a temporary name then a
# rename, attestd run --once as an unprivileged service account, the receipt
# fetched through SFTP, and the second centre unable to see the first one's
# files.  Accounts and groups carry a test-specific prefix and are removed
# at the end, as are sshd and the directories.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/scenario.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "  skip  needs root (sshd's chroot, system accounts)"
	finish
	exit
fi
for tool in /usr/sbin/sshd sftp ssh ssh-keygen setfacl getfacl setpriv useradd; do
	command -v "$tool" >/dev/null || { fail "$tool is missing (make deps)"; finish; exit 1; }
done

CENTRE_TOOL=$TOP/contrib/sftp/attestd-centre
TAG=atdt$$
SVC=${TAG}s			# attestd's account
GRP=${TAG}c			# the centres' group (attestd-centres)
U1=${TAG}a U2=${TAG}b		# the two centres' accounts
A1=$APPROVAL A2=R2402800028
SSHD_PID="" MADE_RUN_SSHD="" T=""

cleanup() {
	[ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null && wait "$SSHD_PID" 2>/dev/null
	for u in "$U1" "$U2" "$SVC"; do
		id "$u" >/dev/null 2>&1 && userdel "$u" 2>/dev/null
		getent group "$u" >/dev/null && groupdel "$u" 2>/dev/null
	done
	getent group "$GRP" >/dev/null && groupdel "$GRP"
	[ -n "$T" ] && rm -rf "$T"
	[ -n "$MADE_RUN_SSHD" ] && rmdir /run/sshd 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

# sshd wants every component of a chroot path root-owned and not writable
# by group or others, which rules out /tmp: the tree lives under the first
# such directory.
for base in /srv /var/lib /opt; do
	[ -d "$base" ] && [ "$(stat -c '%u' "$base")" = 0 ] &&
		case $(stat -c '%a' "$base") in *[2367]? | *[2367]) false ;; *) true ;; esac && break
	base=""
done
[ -n "$base" ] || { fail "no root-owned, non-writable base directory for the chroot"; finish; exit 1; }
T=$(mktemp -d "$base/attestd-sftp-test.XXXXXX")
chmod 0755 "$T"
CHROOT=$T/chroot KEYS=$T/keys SSH=$T/ssh
mkdir -p "$SSH" "$T/bin" "$T/etc" "$T/dl"

scenario_init || { fail "scenario_init"; finish; exit 1; }
licence 120575300042 MARTIN Claire 1990-04-12
event 120575300042 2009-06-01 grant 12 G1
event 120575300042 2026-03-01 retrait -5 R1
registries
stage CH-2026-1113 2026-11-13 2026-11-14
trainee 120575300042 MARTIN Claire 1990-04-12
for i in 1 2 3 4 5; do SHEET_ONLY=1 trainee 99000000000$i "AUTRE" "Personne" 1980-01-0$i; done
attestations_file att.xml
sheet_file sheet.xml

# --- accounts and boxes ---------------------------------------------------------------

groupadd --system "$GRP"
useradd --system --user-group --no-create-home --shell /usr/sbin/nologin "$SVC"
ssh-keygen -q -t ed25519 -N '' -C centre1 -f "$SSH/c1"
ssh-keygen -q -t ed25519 -N '' -C centre2 -f "$SSH/c2"
centre() {
	OUT=$(sh "$CENTRE_TOOL" "$@" --root "$CHROOT" --keys-dir "$KEYS" --group "$GRP" \
		--service-user "$SVC" 2>&1)
	RC=$?
}

centre add "$A1" --user "$U1" --key "$SSH/c1.pub"
expect_eq "attestd-centre add: first centre" 0 "$RC"
centre add "$A2" --user "$U2" --key "$SSH/c2.pub"
expect_eq "attestd-centre add: second centre" 0 "$RC"
centre add R2402800010/../x --user "${TAG}x" --key "$SSH/c1.pub"
expect_eq "an approval that is not one is refused" 1 "$RC"
centre add R2402800037 --user root --key "$SSH/c1.pub"
expect_match "an existing account outside the centres' group is left alone" "refusing to touch it" "$OUT"
centre add R2402800037 --user "${TAG}x" --key "$SSH/c1"
expect_match "a private key is refused" "not an OpenSSH public key|private key" "$OUT"
expect_eq "no account made for refused requests" "" "$(getent passwd "${TAG}x")"

expect_eq "chroot: root:root 0755" "root:root 755" "$(stat -c '%U:%G %a' "$CHROOT")"
expect_eq "inbox and outbox roots: root:service 0751" "root:$SVC 751 root:$SVC 751" \
	"$(stat -c '%U:%G %a' "$CHROOT/inbox" "$CHROOT/outbox" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "a centre's inbox: root:service 2770" "root:$SVC 2770" "$(stat -c '%U:%G %a' "$CHROOT/inbox/$A1")"
expect_match "a centre's inbox: ACL for its account only" "^user:$U1:rwx$" "$(getfacl -cp "$CHROOT/inbox/$A1" 2>/dev/null)"
expect_no_match "no ACL for the other centre" "$U2" "$(getfacl -cp "$CHROOT/inbox/$A1" 2>/dev/null)"
expect_eq "a centre's outbox: service:centre 2750" "$SVC:$U1 2750" "$(stat -c '%U:%G %a' "$CHROOT/outbox/$A1")"
expect_match "key installed with restrict" "^restrict ssh-ed25519 " "$(cat "$KEYS/$U1" 2>&1)"
expect_eq "account: home in the chroot, nologin, in the centres' group" "/inbox/$A1 /usr/sbin/nologin yes" \
	"$(getent passwd "$U1" | cut -d: -f6,7 | tr ':' ' ') $(id -Gn "$U1" | tr ' ' '\n' | grep -qx "$GRP" && echo yes)"

# --- sshd -----------------------------------------------------------------------------

ssh-keygen -q -t ed25519 -N '' -f "$SSH/host"
sed -e "s|^Match Group attestd-centres|Match Group $GRP|" \
    -e "s|ChrootDirectory /var/spool/attestd|ChrootDirectory $CHROOT|" \
    -e "s|AuthorizedKeysFile /etc/ssh/attestd-centres/%u|AuthorizedKeysFile $KEYS/%u|" \
    "$TOP/systemd/attestd-centres.sshd.conf" > "$SSH/attestd-centres.conf"
expect_eq "drop-in adapted to the test tree (3 lines)" 3 \
	"$(diff "$TOP/systemd/attestd-centres.sshd.conf" "$SSH/attestd-centres.conf" | grep -c '^>')"
if [ ! -d /run/sshd ]; then mkdir -m 0755 /run/sshd && MADE_RUN_SSHD=1; fi

start_sshd() {
	for _ in 1 2 3 4 5; do
		PORT=$((20000 + RANDOM % 30000))
		# The drop-in first, then global settings, as in Debian's
		# sshd_config: its Match block must not swallow them.
		cat > "$SSH/sshd_config" <<CONF
Include $SSH/attestd-centres.conf
Port $PORT
ListenAddress 127.0.0.1
HostKey $SSH/host
PidFile none
UsePAM no
StrictModes yes
PermitRootLogin no
AuthorizedKeysFile none
LogLevel VERBOSE
Subsystem sftp internal-sftp
CONF
		/usr/sbin/sshd -t -f "$SSH/sshd_config" 2>"$SSH/sshd-t.log" || return 1
		/usr/sbin/sshd -D -e -f "$SSH/sshd_config" 2>"$SSH/sshd.log" &
		SSHD_PID=$!
		local i
		for i in $(seq 600); do
			grep -q "Server listening on 127.0.0.1 port $PORT" "$SSH/sshd.log" && return 0
			kill -0 "$SSHD_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$SSHD_PID" 2>/dev/null
		wait "$SSHD_PID" 2>/dev/null
		SSHD_PID=""
	done
	return 1
}
if start_sshd; then pass "sshd listening on 127.0.0.1:$PORT"; else
	fail "sshd did not start" "$(cat "$SSH/sshd-t.log" "$SSH/sshd.log" 2>/dev/null)"
	finish
	exit 1
fi
echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$SSH/host.pub")" > "$SSH/known_hosts"

# The effective settings for a centre, and for anyone else.
eff=$(/usr/sbin/sshd -T -f "$SSH/sshd_config" -C "user=$U1,host=localhost,addr=127.0.0.1" 2>&1)
for want in "chrootdirectory $CHROOT" "forcecommand internal-sftp -u 0027 -P symlink,hardlink,mkdir,rmdir,users-groups-by-id" \
	"authorizedkeysfile $KEYS/%u" "authenticationmethods publickey" "passwordauthentication no" \
	"kbdinteractiveauthentication no" "allowtcpforwarding no" "allowagentforwarding no" \
	"allowstreamlocalforwarding no" "x11forwarding no" "permittunnel no" "permittty no" "disableforwarding yes"; do
	expect_match "centre's sshd setting: $want" "^$want\$" "$eff"
done
eff=$(/usr/sbin/sshd -T -f "$SSH/sshd_config" -C "user=$SVC,host=localhost,addr=127.0.0.1" 2>&1)
expect_no_match "the Match block ends with the drop-in (no chroot for others)" "^chrootdirectory $CHROOT" "$eff"

SSH_OPTS=(-F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityAgent=none
	-o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$SSH/known_hosts" -o ConnectTimeout=10)
# sftp_as USER KEY: runs the batch on stdin; SFTP_OUT, SFTP_RC.
sftp_as() {
	SFTP_OUT=$(timeout 60 sftp "${SSH_OPTS[@]}" -P "$PORT" -i "$2" -b - "$1@127.0.0.1" 2>&1)
	SFTP_RC=$?
}
# sftp_fails NAME USER KEY COMMAND: one command that must be refused, in a
# session that did open (pwd answered first).
sftp_fails() {
	sftp_as "$2" "$3" <<< "pwd
$4"
	if [ "$SFTP_RC" -ne 0 ] && printf '%s\n' "$SFTP_OUT" | grep -q '^Remote working directory: /'; then
		pass "$1"
	else
		fail "$1" "sftp exit $SFTP_RC: $SFTP_OUT"
	fi
}
# sftp_denied NAME USER KEY: the login itself is refused.
sftp_denied() {
	sftp_as "$2" "$3" <<< "pwd"
	expect_match "$1" "Permission denied \\(publickey" "$SFTP_OUT"
}

# --- a centre uploads -----------------------------------------------------------------

cp "$WORK/out/att.xml" "$WORK/out/sheet.xml" "$T/dl/"
chmod 0644 "$T/dl/att.xml" "$T/dl/sheet.xml"
# A private file sent with its mode (put -p): the daemon cannot read it.
cp "$WORK/out/att.xml" "$T/dl/private.xml"
chmod 0600 "$T/dl/private.xml"
sftp_as "$U1" "$SSH/c1" <<BATCH
pwd
put $T/dl/att.xml .att.xml.part
rename .att.xml.part att.xml
put $T/dl/sheet.xml sheet.xml.part
rename sheet.xml.part sheet.xml
put -p $T/dl/private.xml private.xml
ls -l
BATCH
expect_eq "upload: sftp exit 0" 0 "$SFTP_RC"
expect_match "the centre starts in its inbox" "Remote working directory: /inbox/$A1" "$SFTP_OUT"
expect_eq "the files under their final names" "att.xml private.xml sheet.xml" "$(ls "$CHROOT/inbox/$A1" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "uploaded file: the centre's, group service, 0640 (umask 0027)" "$U1:$SVC 640" \
	"$(stat -c '%U:%G %a' "$CHROOT/inbox/$A1/att.xml" 2>&1)"

# --- attestd, as its own unprivileged account -------------------------------------------

install -m 0755 "$ATTESTD" "$T/bin/attestd"
cp -r "$WORK/pki" "$T/etc/pki"
mkdir -p "$T/lib"
install -d -o "$SVC" -g "$SVC" -m 0750 "$T/lib/spool" "$T/lib/archive" "$T/lib/quarantine"
sed -e "s|^inbox = .*|inbox = $CHROOT/inbox|" -e "s|^outbox = .*|outbox = $CHROOT/outbox|" \
    -e "s|^spool = .*|spool = $T/lib/spool|" -e "s|^archive = .*|archive = $T/lib/archive|" \
    -e "s|^quarantine = .*|quarantine = $T/lib/quarantine|" -e "s|$WORK/pki|$T/etc/pki|g" \
    "$CONF" > "$T/etc/attestd.conf"
chgrp -R "$SVC" "$T/etc"
chmod -R g+rX,o-rwx "$T/etc"
# The receipt key is private to the service's account (attestd refuses a
# key that group or others may read, as sshd does).
chown "$SVC" "$T/etc/pki/prefecture.key"
chmod 0600 "$T/etc/pki/prefecture.key"
run_service() {
	OUT=$(cd / && setpriv --reuid="$SVC" --regid="$SVC" --init-groups \
		env ATTESTD_TEST_NOW="$NOW" "$T/bin/attestd" run --once --foreground \
		--config "$T/etc/attestd.conf" 2>"$WORK/stderr")
	RC=$?
	ERR=$(<"$WORK/stderr")
	if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$WORK/stderr"; then
		fail "sanitizer clean: run --once" "$ERR"
	fi
}
run_service
expect_eq "run --once as the service account: exit 0" 0 "$RC"
expect_match "the attestations file accepted" "file=att.xml approval=$A1 .*outcome=accepted" "$ERR"
expect_match "the sheet accepted" "file=sheet.xml approval=$A1 .*outcome=accepted" "$ERR"
expect_eq "claimed out of the centre's inbox" "" "$(ls -A "$CHROOT/inbox/$A1")"
expect_match "a file the service may not read: rejected, not retried" \
	"file=private.xml approval=$A1 .*outcome=rejected reason=not_regular_file" "$ERR"
expect_match "its receipt says why and what to do" 'not readable by the prefecture \(mode 0600\)' \
	"$(cat "$CHROOT/outbox/$A1/private.1.receipt.xml" 2>&1)"
expect_eq "credited" "credited 4  " "$(decision CH-2026-1113-01)"
r=$CHROOT/outbox/$A1/att.2.receipt.xml
expect_eq "receipt: the service's, group of the centre, 0640" "$SVC:$U1 640" "$(stat -c '%U:%G %a' "$r" 2>&1)"

# --- the centre fetches its receipt -------------------------------------------------------

sftp_as "$U1" "$SSH/c1" <<BATCH
cd /outbox/$A1
ls
get att.2.receipt.xml $T/dl/att.2.receipt.xml
BATCH
expect_eq "download: sftp exit 0" 0 "$SFTP_RC"
expect_match "the centre lists its receipts" "att.1.receipt.xml" "$SFTP_OUT"
if cmp -s "$r" "$T/dl/att.2.receipt.xml"; then pass "downloaded receipt is the outbox's"; else fail "downloaded receipt is the outbox's"; fi
expect_match "the receipt says credited" 'decision="credited" points="4"' "$(cat "$T/dl/att.2.receipt.xml" 2>&1)"

sftp_fails "a centre cannot delete a receipt" "$U1" "$SSH/c1" "rm /outbox/$A1/att.1.receipt.xml"
sftp_fails "a centre cannot write into its outbox" "$U1" "$SSH/c1" "put $T/dl/att.xml /outbox/$A1/x.xml"
sftp_fails "a centre cannot write at the chroot's root" "$U1" "$SSH/c1" "put $T/dl/att.xml /x.xml"
sftp_fails "a centre cannot list the inbox root" "$U1" "$SSH/c1" "ls /inbox"
sftp_fails "mkdir refused in the inbox" "$U1" "$SSH/c1" "mkdir /inbox/$A1/d"
sftp_fails "symlinks refused" "$U1" "$SSH/c1" "symlink /outbox/$A1/att.1.receipt.xml /inbox/$A1/l.xml"
expect_eq "nothing left behind by refused requests" "" "$(ls -A "$CHROOT/inbox/$A1")"

# --- the other centre sees nothing of it ---------------------------------------------------

sftp_as "$U2" "$SSH/c2" <<< "ls -la /outbox/$A2"
expect_eq "the second centre lists its own outbox" 0 "$SFTP_RC"
sftp_fails "second centre: ls of the first one's inbox fails" "$U2" "$SSH/c2" "ls /inbox/$A1"
sftp_fails "second centre: ls of the first one's outbox fails" "$U2" "$SSH/c2" "ls /outbox/$A1"
sftp_fails "second centre: get of the first one's receipt fails" "$U2" "$SSH/c2" \
	"get /outbox/$A1/att.1.receipt.xml $T/dl/stolen.xml"
sftp_fails "second centre: put into the first one's inbox fails" "$U2" "$SSH/c2" "put $T/dl/att.xml /inbox/$A1/x.xml"
sftp_fails "second centre: ls of the outbox root fails" "$U2" "$SSH/c2" "ls /outbox"
sftp_denied "the first centre's account with the second one's key" "$U1" "$SSH/c2"
expect_eq "nothing taken" "" "$(ls "$T/dl/stolen.xml" 2>/dev/null)"

# --- what the account cannot do besides SFTP ----------------------------------------------

methods=$(timeout 30 ssh "${SSH_OPTS[@]}" -p "$PORT" -v -o PreferredAuthentications=none "$U1@127.0.0.1" true 2>&1 </dev/null |
	tr -d '\r' | grep -o 'Authentications that can continue: .*' | head -n 1)
expect_eq "public key is the only method offered" "Authentications that can continue: publickey" "$methods"
out=$(timeout 30 ssh "${SSH_OPTS[@]}" -p "$PORT" -i "$SSH/c1" "$U1@127.0.0.1" 'echo shell-ran' 2>&1 </dev/null)
expect_no_match "no command runs (ForceCommand internal-sftp)" "^shell-ran" "$out"
timeout 30 ssh "${SSH_OPTS[@]}" -p "$PORT" -i "$SSH/c1" -N -o ExitOnForwardFailure=yes \
	-R "127.0.0.1:0:127.0.0.1:$PORT" "$U1@127.0.0.1" </dev/null >/dev/null 2>&1
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then pass "remote port forwarding refused"; else fail "remote port forwarding refused" "ssh exit $rc"; fi

# --- removing a centre -----------------------------------------------------------------------

centre remove "$A2" --user "$U2"
expect_eq "attestd-centre remove: exit 0" 0 "$RC"
expect_eq "account gone" "" "$(getent passwd "$U2")"
expect_eq "its outbox kept, no longer naming its group" "$SVC:$SVC 2750" "$(stat -c '%U:%G %a' "$CHROOT/outbox/$A2")"
expect_no_match "its inbox ACL gone" "user:$U2" "$(getfacl -cp "$CHROOT/inbox/$A2" 2>/dev/null)"
sftp_denied "a removed centre cannot log in" "$U2" "$SSH/c2"

finish
