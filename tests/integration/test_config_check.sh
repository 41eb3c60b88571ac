#!/usr/bin/env bash
# attestd config check: one "ok" line for a good configuration, and each kind
# of fault found, located (FILE:LINE: [section] key: what is wrong) and
# classed by the exit code (3 configuration, 4 environment); then the unit's
# reload gate, run as the unit writes it.
. "$(dirname "$0")/lib.sh"

fresh_db t_config_check
test_pki "$WORK/pki" || fail "pki.sh"
PKI=$WORK/pki
run_attestd db migrate
expect_eq "db migrate" 0 "$RC"

# good.conf: every check has something to check (CRL, receipt key, metrics).
mkdir -p "$WORK/metrics"
sed -e "s|^centres_ca = .*|centres_ca = $PKI/ca-bundle.pem\ncrl = $PKI/crl.pem\nreceipt_key = $PKI/prefecture.key\nreceipt_cert = $PKI/prefecture.pem|" \
	-e "s|^quarantine = .*|&\nmetrics = $WORK/metrics/attestd.prom|" "$CONF" > "$WORK/good.conf"
# conf_with NAME SED-EXPRESSION: a copy of good.conf changed by one edit.
conf_with() { sed -e "$2" "$WORK/good.conf" > "$WORK/$1.conf"; }
line_of() { grep -n "$1" "$WORK/good.conf" | head -n 1 | cut -d: -f1; }

run_attestd config check --config "$WORK/good.conf"
expect_eq "good configuration: exit 0" 0 "$RC"
expect_eq "good configuration: one ok line" "ok" "$OUT"

run_attestd help config
expect_match "help config shows the usage" '^usage: attestd config check \[--config F\]' "$OUT"
run_attestd config check --bogus
expect_eq "unknown option: exit 2" 2 "$RC"

# ATTESTD_CONFIG is the default, as for every command.
OUT=$(ATTESTD_CONFIG=$WORK/good.conf "$ATTESTD" config check 2>&1)
expect_eq "ATTESTD_CONFIG names the file" "ok" "$OUT"

# --- the configuration's own faults: 3 ---------------------------------------------

conf_with badkey "s|^\[limits\]|&|; \$a [limits]\nsettle_tme = 2s"
run_attestd config check --config "$WORK/badkey.conf"
expect_eq "bad key: exit 3" 3 "$RC"
expect_match "bad key: file, line, section, key" "^$WORK/badkey.conf:[0-9]+: \[limits\] settle_tme: unknown key$" "$OUT"

conf_with badvalue "s|^departements = .*|departements = 28, 99|"
run_attestd config check --config "$WORK/badvalue.conf"
expect_eq "bad value: exit 3" 3 "$RC"
expect_match "bad value: located" "^$WORK/badvalue.conf:$(line_of '^departements'): \[prefecture\] departements: \"99\" is not a département code" "$OUT"

cp "$PKI/ca-bundle.pem" "$WORK/ca-unreadable.pem"
conf_with noca "s|^centres_ca = .*|centres_ca = $WORK/no-such-ca.pem|"
run_attestd config check --config "$WORK/noca.conf"
expect_eq "missing CA bundle: exit 3" 3 "$RC"
expect_match "missing CA bundle: located" "^$WORK/noca.conf:$(line_of '^centres_ca'): \[trust\] centres_ca: cannot read the CA bundle $WORK/no-such-ca.pem$" "$OUT"

echo "not a certificate" > "$WORK/garbage-ca.pem"
conf_with garbageca "s|^centres_ca = .*|centres_ca = $WORK/garbage-ca.pem|"
run_attestd config check --config "$WORK/garbageca.conf"
expect_eq "unparsable CA bundle: exit 3" 3 "$RC"
expect_match "unparsable CA bundle: said" "^$WORK/garbageca.conf:[0-9]+: \[trust\] centres_ca: .*garbage-ca.pem" "$OUT"

# Unreadable for the user running the check: root reads anything, so the
# check runs as nobody (setpriv) on a file only root may read.
chmod 0600 "$WORK/ca-unreadable.pem"
conf_with unreadca "s|^centres_ca = .*|centres_ca = $WORK/ca-unreadable.pem|"
chmod 0644 "$WORK/unreadca.conf"
if [ "$(id -u)" -eq 0 ]; then
	chmod o+x "$WORK"
	OUT=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$ATTESTD" config check --config "$WORK/unreadca.conf" 2>&1)
	RC=$?
	expect_eq "CA bundle unreadable by the service's user: exit 3" 3 "$RC"
	expect_match "CA bundle unreadable: said" "\[trust\] centres_ca: cannot read the CA bundle $WORK/ca-unreadable.pem$" "$OUT"
else
	run_attestd config check --config "$WORK/unreadca.conf"
	expect_eq "CA bundle unreadable: exit 3" 3 "$RC"
	expect_match "CA bundle unreadable: said" "\[trust\] centres_ca: cannot read the CA bundle" "$OUT"
fi

echo "not a CRL" > "$WORK/garbage.crl"
conf_with badcrl "s|^crl = .*|crl = $WORK/garbage.crl|"
run_attestd config check --config "$WORK/badcrl.conf"
expect_eq "unparsable CRL: exit 3" 3 "$RC"
expect_match "unparsable CRL: located" "^$WORK/badcrl.conf:$(line_of '^crl'): \[trust\] crl: .*garbage.crl" "$OUT"

conf_with mismatch "s|^receipt_key = .*|receipt_key = $PKI/centre-rsa.key|"
run_attestd config check --config "$WORK/mismatch.conf"
expect_eq "receipt key not the certificate's: exit 3" 3 "$RC"
expect_match "receipt key mismatch: located" "^$WORK/mismatch.conf:$(line_of '^receipt_key'): \[trust\] receipt_key: .*prefecture.pem is not one certificate for the key .*centre-rsa.key" "$OUT"

conf_with nodir "s|^archive = .*|archive = $WORK/no-archive|"
run_attestd config check --config "$WORK/nodir.conf"
expect_eq "missing directory: exit 3" 3 "$RC"
expect_match "missing directory: located" "^$WORK/nodir.conf:$(line_of '^archive'): \[paths\] archive: $WORK/no-archive: No such file or directory" "$OUT"

mkdir -p "$WORK/notmine"
chown nobody "$WORK/notmine" 2>/dev/null || chmod 0555 "$WORK/notmine"
conf_with notmine "s|^quarantine = .*|quarantine = $WORK/notmine|"
run_attestd config check --config "$WORK/notmine.conf"
expect_eq "state directory of another user: exit 3" 3 "$RC"
expect_match "state directory of another user: said" "\[paths\] quarantine: $WORK/notmine (is owned by uid|: this user)" "$OUT"
[ "$(id -u)" -eq 0 ] && expect_match "as root: run it as the service's user" "sudo -u attestd attestd config check" "$OUT"

conf_with nometrics "s|^metrics = .*|metrics = $WORK/no-metrics-dir/attestd.prom|"
run_attestd config check --config "$WORK/nometrics.conf"
expect_eq "metrics directory missing: exit 3" 3 "$RC"
expect_match "metrics directory missing: said" "\[paths\] metrics: $WORK/no-metrics-dir: No such file" "$OUT"

# The inbox and the spool on two file systems: claims are rename(2).
if [ -d /dev/shm ] && [ "$(stat -f -c %T /dev/shm)" != "$(stat -f -c %T "$WORK")" ]; then
	SHM=$(mktemp -d /dev/shm/attestd-cc.XXXXXX)
	trap 'rm -rf "$SHM"; [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT
	conf_with twofs "s|^spool = .*|spool = $SHM|"
	run_attestd config check --config "$WORK/twofs.conf"
	expect_eq "inbox and spool on two file systems: exit 3" 3 "$RC"
	expect_match "two file systems: said" "\[paths\] spool: $SHM is not on the file system of the inbox" "$OUT"
else
	fail "no second file system to put the spool on (/dev/shm is not a tmpfs here)"
fi

# Several faults: every one is listed, not just the first.
conf_with several "s|^archive = .*|archive = $WORK/no-archive|; s|^receipt_key = .*|receipt_key = $PKI/centre-rsa.key|"
run_attestd config check --config "$WORK/several.conf"
expect_eq "several faults: all listed" 2 "$(printf '%s\n' "$OUT" | grep -c "^$WORK/several.conf:")"

# --- the environment's faults: 4 ------------------------------------------------------

conf_with stalecrl "s|^crl = .*|crl = $PKI/crl-stale.pem|"
run_attestd config check --config "$WORK/stalecrl.conf"
expect_eq "expired CRL: exit 4" 4 "$RC"
expect_match "expired CRL: located, with its date" "^$WORK/stalecrl.conf:$(line_of '^crl'): \[trust\] crl: $PKI/crl-stale.pem: .*expired on 2020-02-01" "$OUT"

conf_with dbdown "s|^conninfo = .*|conninfo = host=$WORK/no-socket-here dbname=x user=attestd connect_timeout=5|"
run_attestd config check --config "$WORK/dbdown.conf"
expect_eq "database down: exit 4" 4 "$RC"
expect_match "database down: located" "^$WORK/dbdown.conf:$(line_of '^conninfo'): \[database\] conninfo: cannot connect to the database" "$OUT"

pg_createdb t_config_check_old
conf_with oldschema "s|dbname=$DB|dbname=t_config_check_old|"
run_attestd config check --config "$WORK/oldschema.conf"
expect_eq "schema not migrated: exit 4" 4 "$RC"
expect_match "schema not migrated: said, with the remedy" "\[database\] conninfo: schema: .*attestd db migrate" "$OUT"

# A configuration fault wins over an environment one.
conf_with both "s|^crl = .*|crl = $PKI/crl-stale.pem|; s|^archive = .*|archive = $WORK/no-archive|"
run_attestd config check --config "$WORK/both.conf"
expect_eq "configuration and environment faults: exit 3" 3 "$RC"

# --- the unit's reload gate, as systemd runs it ---------------------------------------------

gate=$(sed -n "s/^ExecReload=\/bin\/sh -c '\(.*\)'$/\1/p" "$TOP/systemd/attestd.service")
expect_match "the unit checks before it reloads" 'attestd config check' "$gate"
gate=${gate//\$\$/\$}
gate=${gate//\/usr\/local\/bin\/attestd/$ATTESTD}
reload_gate() { ATTESTD_CONFIG=$WORK/$1.conf sh -c "$gate" >/dev/null 2>&1; echo $?; }
expect_eq "reload gate: a good configuration passes" 0 "$(reload_gate good)"
expect_eq "reload gate: a bad key refuses the reload" 1 "$(reload_gate badkey)"
expect_eq "reload gate: a key that is not the certificate's refuses it" 1 "$(reload_gate mismatch)"
expect_eq "reload gate: the database down does not" 0 "$(reload_gate dbdown)"
expect_eq "the HUP comes after the gate" "ExecReload=/bin/kill -HUP \$MAINPID" \
	"$(grep '^ExecReload=' "$TOP/systemd/attestd.service" | tail -n 1)"

finish
