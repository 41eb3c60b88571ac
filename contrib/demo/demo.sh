#!/usr/bin/env bash
# make demo: a throwaway PostgreSQL under ./var/demo (reused when it is
# there), the schema, the sample registries of contrib/demo, and a summary of
# what is loaded.  Safe to run again: migrations and imports are idempotent.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP"
. tests/integration/pg.sh

DEMO=$TOP/var/demo
mkdir -p "$DEMO"/{inbox,outbox,spool,archive,quarantine}
echo "== PostgreSQL cluster in $DEMO/pg"
pg_start "$DEMO/pg"
if [ -z "$(pg_admin -At -c "SELECT 1 FROM pg_database WHERE datname = 'attestd'")" ]; then
	pg_createdb attestd
fi

CONF=$DEMO/attestd.conf
[ -f "$DEMO/centres-ca.pem" ] || : > "$DEMO/centres-ca.pem"
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
centres_ca = $DEMO/centres-ca.pem

[prefecture]
departements = 28
timezone = Europe/Paris
CONF
export ATTESTD_CONFIG=$CONF

echo "== attestd db migrate"
./attestd db migrate
for kind in centres facilitators licences events; do
	echo "== attestd registry import $kind contrib/demo/$kind.csv"
	./attestd registry import "$kind" "contrib/demo/$kind.csv"
done
echo "== attestd db status"
./attestd db status

echo
echo "== What is loaded"
psql -X -q -d attestd <<'SQL'
\pset footer off
SELECT c.approval, c.name, c.departement, c.valid_from, coalesce(c.valid_to::text, 'open') AS valid_to,
       count(cc.cert_sha256) AS certificates
  FROM attestd.centres c LEFT JOIN attestd.centre_certificates cc USING (approval)
 GROUP BY c.approval ORDER BY c.approval;
SELECT role, count(*) AS facilitators FROM attestd.facilitators GROUP BY role ORDER BY role;
SELECT status, count(*) AS licences, count(*) FILTER (WHERE probation_end IS NOT NULL) AS probationary
  FROM attestd.licences GROUP BY status ORDER BY status;
SELECT kind, count(*) AS events, sum(points) AS points FROM attestd.licence_events GROUP BY kind ORDER BY kind;
SQL

cat <<EOF2

Next:
  psql -h $PGHOST -d attestd -U attestd      # the database (schema attestd)
  ATTESTD_CONFIG=$CONF ./attestd help        # the commands
  make demo-stop                               # stop the demo cluster
EOF2
