-- archive_data.sql - years of national volume straight into the tables (no
-- files, no pipeline), for make bench-archive (tests/bench/archive.sh) and
-- whoever measures on the same data (the console's bench).  Variables:
--   :stages     stages in all (≈ 35,000 a year), :trainees each (20)
--   :first      the first stage's last day; :days the span of last days
--   :now        the day the data is "as of" (a stage ends 3 days before)
--   :licences   the licence registry (1,000,000), one grant each
--   :events     registry events in all (3,000,000): the grants, then
--               retraits and recoveries
-- The rows a real run leaves: submissions with their evidence, sign-in
-- sheets and participants, attestations with two decisions each, receipts,
-- ledger credits, balances and their history; and what auditors look for:
-- review items (the last 90 days), pending ones (the last 10 days),
-- registrations overdue (review past its deadline, 1 stage in 500 decided
-- late), late transmissions (1 stage in 40, sent 20 days after its last
-- day), rejected files (1 stage in 50) and duplicates (1 in 50).
-- Content-addressed names as the pipeline makes them: an original's
-- SHA-256 is that of 'orig' || submission id, a scan's that of
-- 'scan' || licence (archive.sh writes those bytes under those names).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET synchronous_commit = off;
SET maintenance_work_mem = '256MB';
SET work_mem = '64MB';

-- About a thousand centres over the départements of metropolitan France.
INSERT INTO attestd.centres (approval, name, departement, valid_from)
SELECT 'R240' || lpad((1 + c % 95)::text, 2, '0') || lpad((c / 95)::text, 5, '0'),
       'Centre ' || c, lpad((1 + c % 95)::text, 2, '0'), date '2015-01-01'
  FROM generate_series(0, 949) c
ON CONFLICT DO NOTHING;

INSERT INTO attestd.licences (licence, surname, given_names, birth_date, issued, status)
SELECT lpad(i::text, 12, '0'), 'NOM' || i, 'Prénom', date '1950-01-01' + i % 20000,
       date '2000-01-01', 'valid'
  FROM generate_series(1, :licences) i;
INSERT INTO attestd.licence_events (licence, effective_date, kind, points, ref)
SELECT lpad(i::text, 12, '0'), date '2000-01-01', 'grant', 12, 'G-' || i
  FROM generate_series(1, :licences) i;
-- The rest of the registry: retraits, one recovery in four.
INSERT INTO attestd.licence_events (licence, effective_date, kind, points, ref)
SELECT lpad((1 + (e::bigint * 104729) % :licences)::text, 12, '0'),
       date '2010-01-01' + (e % 5000), CASE WHEN e % 4 = 0 THEN 'recovery' ELSE 'retrait' END,
       CASE WHEN e % 4 = 0 THEN 1 ELSE -(1 + e % 4) END, 'E-' || e
  FROM generate_series(1, greatest(:events - :licences, 0)) e;

CREATE TEMP TABLE g AS
SELECT k, 'R240' || lpad((1 + c % 95)::text, 2, '0') || lpad((c / 95)::text, 5, '0') AS approval,
       lpad((1 + c % 95)::text, 2, '0') AS departement, last_day,
       last_day + CASE WHEN k % 40 = 7 THEN 20 ELSE 2 END AS recv
  FROM (SELECT k, (k * 7) % 950 AS c,
	       :'first'::date + ((k - 1)::bigint * :days / :stages)::int AS last_day
	  FROM generate_series(1, :stages) k) s;

INSERT INTO attestd.stages (id, approval, ref, departement, first_day, last_day, findings)
SELECT k, approval, 'S-' || k, departement, last_day - 1, last_day, '{}' FROM g;

-- Submissions: 3k-2 the sign-in sheet, 3k-1 the attestations, 3k a
-- rejected file (one stage in 50) or a duplicate of the attestations (one
-- other in 50).  The evidence columns carry realistic sizes.
INSERT INTO attestd.submissions (id, claim_id, inbox_dir, file_name, sha256, size, kind, approval,
	stage_id, received_at, processed_at, status, errors, error_messages, duplicate_of,
	signer_sha256, signer_der, chain_pem, crl_number, crl_sha256, verifier)
SELECT 3 * k - 2 + j,
       lpad((extract(epoch FROM recv)::bigint + j)::text, 11, '0')
	|| '.000000000-' || lpad(to_hex(k), 8, '0'),
       approval, CASE j WHEN 0 THEN 'sheet-' WHEN 1 THEN 'att-' ELSE 'again-' END || k || '.xml',
       encode(sha256(convert_to('orig' || (3 * k - 2 + j), 'UTF8')), 'hex'), 40000,
       CASE WHEN j = 0 THEN 'signin-sheet' WHEN j = 2 AND k % 50 = 0 THEN 'unknown'
	    ELSE 'attestations' END,
       CASE WHEN j = 2 AND k % 50 = 0 THEN NULL ELSE approval END,
       CASE WHEN j = 2 AND k % 50 = 0 THEN NULL ELSE k END,
       recv::timestamptz + j * interval '1 hour',
       recv::timestamptz + j * interval '1 hour' + interval '1 second',
       CASE WHEN j < 2 THEN 'accepted' WHEN k % 50 = 0 THEN 'rejected' ELSE 'duplicate' END,
       (CASE WHEN j < 2 THEN '{}' WHEN k % 50 = 0 THEN '{schema_invalid}' ELSE '{duplicate_file}' END)::text[],
       (CASE WHEN j < 2 THEN '{}' ELSE '{"line 3: something"}' END)::text[],
       CASE WHEN j = 2 AND k % 50 <> 0 THEN 3 * k - 1 END,
       md5(approval), decode(repeat(md5(k::text), 24), 'hex'), repeat(md5(approval), 40),
       '17', md5('crl'), 'xmlsec1 1.2.37; libxml2 2.9.14; openssl 3.0.15'
  FROM g, generate_series(0, 2) j
 WHERE j < 2 OR k % 50 IN (0, 25);
-- duplicates share the original's bytes
UPDATE attestd.submissions SET sha256 = encode(sha256(convert_to('orig' || duplicate_of, 'UTF8')), 'hex')
 WHERE status = 'duplicate';

INSERT INTO attestd.signin_sheets (submission_id, stage_id, departement, first_day, last_day, venue,
	session_dates, session_starts, session_ends, psychologist_authorisation,
	psychologist_surname, psychologist_given_names, expert_authorisation, expert_surname,
	expert_given_names)
SELECT 3 * k - 2, k, departement, last_day - 1, last_day, 'Salle des fêtes, 1 place de la Mairie',
       ARRAY[last_day - 1, last_day - 1, last_day, last_day], '{510,780,510,780}',
       '{720,990,720,990}', 'PSY-' || k % 300, 'DURAND', 'Anne', 'BAFM-' || k % 300, 'LEROY', 'Marc'
  FROM g;

-- Trainee t of stage k: a licence of the registry (each about twice over
-- three years), with the scan of its identity card.
CREATE TEMP TABLE tr AS
SELECT k, t, approval, departement, last_day, recv,
       lpad(((((k::bigint * :trainees + t) * 7919) % :licences) + 1)::text, 12, '0') AS licence,
       CASE WHEN t <= 17 THEN 'credited' WHEN t = 18 THEN 'no_credit' WHEN t = 19 THEN 'rejected'
	    WHEN last_day > :'now'::date - 10 THEN 'pending'
	    WHEN last_day > :'now'::date - 90 AND k % 7 = 0 THEN 'review'
	    ELSE 'credited' END AS decision
  FROM g, generate_series(1, :trainees) t;

INSERT INTO attestd.signin_participants (submission_id, licence, surname, given_names, birth_date,
	id_type, id_number, id_media_type, id_size, id_sha256, arrived, signed)
SELECT 3 * k - 2, licence, 'NOM' || licence, 'Prénom', date '1970-01-01', 'id-card',
       'ID' || licence, 'image/jpeg', 120000,
       encode(sha256(convert_to('scan' || licence, 'UTF8')), 'hex'), '{500,770,500,770}',
       '{t,t,t,t}'
  FROM tr;

-- Decided two hours after reception; one stage in 500 forty days after
-- (past the month of rules.md §7: flagged overdue), review items past their
-- deadline flagged overdue too.
-- On a schema with migration 014 this one statement also fills the
-- monthly decision counts (attestd.decision_counts: its trigger aggregates
-- the statement's rows); on an older one, 014 fills them from these rows
-- when it is applied.
INSERT INTO attestd.attestations (id, submission_id, stage_id, approval, number, stage_case, issued,
	departement, first_day, last_day, licence, surname, given_names, birth_date, received_at,
	received_on, registration_deadline, decision, points, effective_date, reasons, flags,
	decided_at, decided_on)
SELECT k::bigint * :trainees + t, 3 * k - 1, k, approval, 'S-' || k || '-' || t, 1 + t % 4,
       last_day, departement, last_day - 1, last_day, licence, 'NOM' || licence, 'Prénom',
       date '1970-01-01', recv::timestamptz, recv, recv + 30,
       decision, CASE WHEN decision = 'credited' THEN 4 ELSE 0 END,
       CASE WHEN decision = 'credited' THEN last_day + 1 END,
       CASE WHEN decision = 'rejected' THEN '{late_arrival}'::text[] ELSE '{}' END,
       array_remove(array_remove(ARRAY[
		CASE WHEN k % 40 = 7 THEN 'late_transmission' END,
		CASE WHEN (decision = 'review' AND recv + 30 < :'now'::date)
			  OR (k % 500 = 3 AND decision IN ('credited', 'no_credit', 'rejected'))
		     THEN 'registration_overdue' END], NULL), NULL),
       CASE WHEN decision IN ('pending', 'review') THEN NULL
	    WHEN k % 500 = 3 THEN recv::timestamptz + interval '40 days'
	    ELSE recv::timestamptz + interval '2 hours' END,
       CASE WHEN decision IN ('pending', 'review') THEN NULL
	    WHEN k % 500 = 3 THEN recv + 40 ELSE recv END
  FROM tr;

-- Two decisions each: pending (no sheet yet), then the sheet's.
INSERT INTO attestd.decision_history (attestation_id, at, actor, cause, decision, points, reasons, flags)
SELECT a.id, a.received_at + h * interval '1 hour', 'attestd',
       CASE h WHEN 0 THEN 'attestations submission ' ELSE 'signin-sheet submission ' END || a.submission_id,
       CASE h WHEN 0 THEN 'pending' ELSE a.decision END, CASE h WHEN 0 THEN 0 ELSE a.points END,
       CASE h WHEN 0 THEN '{awaiting_signin_sheet}'::text[] ELSE a.reasons END, '{}'
  FROM attestd.attestations a, generate_series(0, 1) h;

-- Receipts: the sheet's, the attestations file's two, one per other file.
INSERT INTO attestd.receipts (submission_id, seq, created_at, path, body, written_at)
SELECT s.id, q, s.processed_at, s.inbox_dir || '/' || s.file_name || '.' || q || '.receipt.xml',
       convert_to(repeat(md5(s.id::text || q), CASE WHEN s.kind = 'attestations' THEN 80 ELSE 30 END), 'UTF8'),
       s.processed_at
  FROM attestd.submissions s, generate_series(1, 2) q
 WHERE q = 1 OR (s.kind = 'attestations' AND s.status = 'accepted');

-- The ledger's stage credits, the balance cache and its history.
INSERT INTO attestd.licence_events (licence, effective_date, kind, points, ref, source, stage_first_day)
SELECT licence, effective_date, 'stage_credit', 4, 'stage:' || approval || ':' || number, 'stage', first_day
  FROM attestd.attestations WHERE decision = 'credited';
INSERT INTO attestd.licence_balances (licence, balance, ceiling, last_credit_stage_last_day)
SELECT licence, 12, 12, max(last_day) FROM attestd.attestations GROUP BY licence;
INSERT INTO attestd.balance_history (licence, changed_at, old_balance, new_balance, cause)
SELECT licence, decided_at, 8, 12, 'signin-sheet submission ' || (submission_id - 1)
  FROM attestd.attestations WHERE decision = 'credited';

SELECT setval('attestd.stages_id_seq', (SELECT max(id) FROM attestd.stages));
SELECT setval('attestd.submissions_id_seq', (SELECT max(id) FROM attestd.submissions));
SELECT setval('attestd.attestations_id_seq', (SELECT max(id) FROM attestd.attestations));
SELECT audit.append('bench', 'bench.generated', 'archive_data.sql', :'stages' || ' stages');
VACUUM ANALYZE attestd.stages, attestd.submissions, attestd.signin_sheets, attestd.signin_participants,
	attestd.attestations, attestd.decision_history, attestd.receipts, attestd.licence_events,
	attestd.licence_balances, attestd.balance_history, attestd.licences, attestd.centres;
