#!/usr/bin/env bash
# make demo: the whole mission on this machine, in a minute.
#
# A throwaway PostgreSQL under ./var/demo (reused when it is there), a demo
# PKI (var/demo/pki, made once: the centres' CA, one certificate per demo
# centre, the prefecture's receipt key), the sample registries of
# contrib/demo with the centres' real fingerprints, then the batch of
# contrib/demo/batch.sh in two deliveries through `attestd run --once`, a
# registry import, and a summary read from the audit views as the auditor.
#
# Running it again starts the story again: the database is dropped and
# created, and the inbox, outbox, spool, archive and quarantine emptied
# (the cluster and the PKI are kept).  The clock is that of the story
# (ATTESTD_TEST_NOW), whatever today's date.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP"
. tests/integration/pg.sh
. contrib/demo/lib.sh
. contrib/demo/batch.sh

# DEMO_DIR and ATTESTD: the console's browser tests build this story in their
# own directory with the binary under test.
DEMO=${DEMO_DIR:-$TOP/var/demo}
ATTESTD=${ATTESTD:-$TOP/attestd}
PKI=$DEMO/pki
REG=$DEMO/registries
OUT=$DEMO/batch
SIGNER=${SIGNER:-$TOP/build/release/tests/attestd-sign}
NOW1=2026-11-16T10:00:00+01:00
NOW2=2026-11-18T09:30:00+01:00
[ -x "$SIGNER" ] || { echo "demo: no signer at $SIGNER (make build/release/tests/attestd-sign)" >&2; exit 1; }

echo "== PostgreSQL cluster in var/demo/pg"
mkdir -p "$DEMO"
pg_start "$DEMO/pg"
pg_admin -q -c "SET client_min_messages = warning" \
	-c "DROP DATABASE IF EXISTS attestd WITH (FORCE)" -c "CREATE DATABASE attestd OWNER attestd" >/dev/null
rm -rf "$DEMO"/{inbox,outbox,spool,archive,quarantine,batch,registries} "$DEMO"/delivery-*.log
mkdir -p "$DEMO"/{inbox,outbox,spool,archive,quarantine,batch,registries}

echo "== Demo PKI in var/demo/pki"
demo_pki "$PKI"

CONF=$DEMO/attestd.conf
cat > "$CONF" <<CONF
; attestd demo configuration (written by make demo)
[paths]
inbox = $DEMO/inbox
outbox = $DEMO/outbox
spool = $DEMO/spool
archive = $DEMO/archive
quarantine = $DEMO/quarantine

[database]
conninfo = host=$PGHOST port=$PGPORT dbname=attestd user=attestd

[trust]
centres_ca = $PKI/ca-bundle.pem
crl = $PKI/crl.pem
receipt_key = $PKI/prefecture-ec.key
receipt_cert = $PKI/prefecture-ec.pem

[prefecture]
departements = 28
timezone = Europe/Paris

[limits]
settle_time = 0s
CONF
export ATTESTD_CONFIG=$CONF

echo "== attestd db migrate"
"$ATTESTD" db migrate | sed 's/^/   /'

echo "== Registries: contrib/demo with this PKI's fingerprints, and the batch's trainees"
people_load contrib/demo/licences.csv
centres_csv "$PKI" > "$REG/centres.csv"
batch_build
import() {
	printf '   %-13s %-42s ' "$1" "${2#"$TOP"/}"
	ATTESTD_TEST_NOW=${IMPORT_NOW:-$NOW1} "$ATTESTD" registry import "$1" "$2" | tail -n 1 |
		sed 's/^.*: \([0-9]* records\)/\1/'
}
import centres "$REG/centres.csv"
import facilitators contrib/demo/facilitators.csv
import licences contrib/demo/licences.csv
import events contrib/demo/events.csv
import licences "$REG/licences-batch.csv"
import events "$REG/events-batch.csv"

# run_once N NOW: one delivery's run, its per-file log kept in var/demo.
run_once() {
	local log=$DEMO/delivery-$1.log rc=0
	ATTESTD_TEST_NOW=$2 "$ATTESTD" run --once --foreground 2>"$log" || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "demo: attestd run --once exited $rc:" >&2
		tail -n 20 "$log" >&2
		exit 1
	fi
	# Its files by outcome (the attestation counters there are those of
	# the moment each file went through: the summary below has the end).
	grep -o 'action=run-once .*' "$log" | grep -o 'accepted=[0-9]* rejected=[0-9]* duplicate=[0-9]* kept=[0-9]*' |
		sed 's/^/   files: /; s/kept=/kept for a retry=/'
}

echo
echo "== Delivery 1, Monday 16 November 2026 10:00: $(deliver 1) files from 4 centres, attestd run --once"
run_once 1 "$NOW1"

echo
echo "== Delivery 2, Wednesday 18 November 09:30: $(deliver 2) files (a late sheet, a corrected file, a misplaced file resent, a duplicate)"
run_once 2 "$NOW2"

echo
echo "== The licence the registry lacked arrives: attestd registry import (its pending attestation is decided again)"
IMPORT_NOW=$NOW2 import licences "$REG/licences-late.csv"
IMPORT_NOW=$NOW2 import events "$REG/events-late.csv"
psql -X -q -At -F ' ' -U attestd_auditor -d attestd -c "SELECT '   ' || attestation_number, licence, decision,
	points || ' points', array_to_string(reasons || flags, ', ') FROM audit.attestation_decisions
	WHERE licence = '991205300777'"

# --- summary, as an auditor reads it ------------------------------------------------
echo
echo "== Summary (psql as attestd_auditor, on the audit views)"
psql -X -q -U attestd_auditor -d attestd -v ON_ERROR_STOP=1 <<'SQL'
\pset footer off
\pset null '-'
\echo '-- files received'
SELECT approval, count(*) FILTER (WHERE status = 'accepted') AS accepted,
       count(*) FILTER (WHERE status = 'rejected') AS rejected,
       count(*) FILTER (WHERE status = 'duplicate') AS duplicate
  FROM audit.submissions GROUP BY approval ORDER BY approval;
\echo '-- rejected files'
SELECT approval AS inbox_or_centre, file_name, array_to_string(errors, ', ') AS reason,
       to_char(received_at AT TIME ZONE 'Europe/Paris', 'DD/MM HH24:MI') AS received
  FROM audit.submissions WHERE status = 'rejected' ORDER BY id;
\echo '-- decisions'
SELECT decision, count(*) AS attestations, sum(points) AS points
  FROM audit.attestation_decisions GROUP BY decision
 ORDER BY array_position(ARRAY['credited', 'no_credit', 'rejected', 'pending', 'review'], decision);
\echo '-- why (reasons and flags)'
SELECT decision, code, count(*) AS attestations
  FROM audit.attestation_decisions, unnest(reasons || flags) AS code
 GROUP BY decision, code
 ORDER BY array_position(ARRAY['credited', 'no_credit', 'rejected', 'pending', 'review'], decision), count(*) DESC;
\echo '-- stages'
SELECT approval, stage_ref, first_day, count(*) AS att,
       count(*) FILTER (WHERE decision = 'credited') AS credited,
       count(*) FILTER (WHERE decision = 'no_credit') AS no_credit,
       count(*) FILTER (WHERE decision = 'rejected') AS rejected,
       count(*) FILTER (WHERE decision = 'pending') AS pending,
       count(*) FILTER (WHERE decision = 'review') AS review,
       array_to_string(ARRAY(SELECT DISTINCT c FROM audit.attestation_decisions d2,
              unnest(d2.reasons || d2.flags) AS c
              WHERE d2.approval = d.approval AND d2.stage_ref = d.stage_ref ORDER BY c), ', ') AS codes
  FROM audit.attestation_decisions d GROUP BY approval, stage_ref, first_day ORDER BY approval, stage_ref;
\echo '-- waiting for someone: the review queue and what is pending'
SELECT decision, stage_ref, array_to_string(reasons, ', ') AS reasons, count(*) AS attestations,
       min(registration_deadline) AS deadline
  FROM audit.attestation_decisions WHERE decision IN ('review', 'pending')
 GROUP BY decision, stage_ref, reasons ORDER BY decision DESC, stage_ref;
\echo '-- balances that changed (first 12 of the history)'
SELECT licence, old_balance, new_balance, cause
  FROM audit.balance_history ORDER BY changed_at, licence LIMIT 12;
SELECT count(DISTINCT licence) AS licences, count(*) AS changes,
       sum(new_balance - coalesce(old_balance, 0)) AS points_restored
  FROM audit.balance_history;
\echo '-- audit log'
SELECT count(*) AS entries, bool_and(hash = audit.row_hash(prev_hash, seq, at, actor, action, subject, detail)
       AND prev_hash = coalesce(previous, prev_hash)) AS chain_intact
  FROM (SELECT *, lag(hash) OVER (ORDER BY seq) AS previous FROM audit.log) l;
SQL

echo "-- why each rejected file was refused (var/demo/quarantine/*/*.reason)"
for f in "$DEMO"/quarantine/*/*.reason; do
	[ -f "$f" ] || continue
	awk -F': ' '$1 == "file" { file = $2 } $1 == "inbox" { inbox = $2 } $1 == "message" { msg = substr($0, 10) }
		END { printf "   %s/%s: %s\n", inbox, file, msg }' "$f"
done

cat <<EOF

== Where to look next
   receipts        var/demo/outbox/<approval>/<file>.<n>.receipt.xml   (signed by the prefecture:
                   xmlsec1 --verify --enabled-key-data x509 --trusted-pem var/demo/pki/root.pem FILE)
                   e.g. var/demo/outbox/R2402800010/att-CH-2026-1113.2.receipt.xml: pending, then credited
   per-file log    var/demo/delivery-1.log, var/demo/delivery-2.log
   archive         var/demo/archive/ab/cd/<sha256>   (originals and identity scans)
   quarantine      var/demo/quarantine/<inbox>/       (rejected originals, each with a .reason)
   the audit views psql -h $PGHOST -U attestd_auditor -d attestd
                   \\dv audit.*   SELECT * FROM audit.attestation_decisions WHERE licence = '041274300001';
   the database    psql -h $PGHOST -U attestd -d attestd   (schema attestd)
   the commands    ATTESTD_CONFIG=var/demo/attestd.conf ./attestd help
   stop            make demo-stop
EOF
