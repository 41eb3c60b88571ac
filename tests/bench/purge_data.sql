-- purge_data.sql - national volume straight into the tables (no files, no
-- pipeline): :stages stages whose last days are spread evenly from :first
-- over :days days, each with a sign-in sheet (:trainees participants) and
-- one attestations file (:trainees attestations), the rows a real run
-- leaves (decision history, receipts, ledger credits, balances), and a
-- few rejected and duplicate files.  Used by tests/bench/purge.sh.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET synchronous_commit = off;

INSERT INTO attestd.centres (approval, name, departement, valid_from)
SELECT 'R24028' || lpad(c::text, 5, '0'), 'Centre ' || c, '28', date '2015-01-01'
  FROM generate_series(0, 99) c;

-- A licence registry of 1.2 M, with one grant each.
INSERT INTO attestd.licences (licence, surname, given_names, birth_date, issued, status)
SELECT lpad(i::text, 12, '0'), 'NOM' || i, 'Prénom', date '1950-01-01' + i % 20000,
       date '2000-01-01', 'valid'
  FROM generate_series(1, 1200000) i;
INSERT INTO attestd.licence_events (licence, effective_date, kind, points, ref)
SELECT lpad(i::text, 12, '0'), date '2000-01-01', 'grant', 12, 'G-' || i
  FROM generate_series(1, 1200000) i;

CREATE TEMP TABLE g AS
SELECT k, 'R24028' || lpad((k % 100)::text, 5, '0') AS approval,
       :'first'::date + ((k - 1)::bigint * :days / :stages)::int AS last_day
  FROM generate_series(1, :stages) k;

INSERT INTO attestd.stages (id, approval, ref, departement, first_day, last_day, findings)
SELECT k, approval, 'S-' || k, '28', last_day - 1, last_day, '{}' FROM g;

-- Submissions: 3k-2 the sign-in sheet, 3k-1 the attestations, 3k a
-- rejected file (one stage in 50) or a duplicate of the attestations (one
-- other in 50).  The evidence columns carry realistic sizes.
INSERT INTO attestd.submissions (id, claim_id, inbox_dir, file_name, sha256, size, kind, approval,
	stage_id, received_at, processed_at, status, errors, error_messages, duplicate_of,
	signer_sha256, signer_der, chain_pem, crl_number, crl_sha256, verifier)
SELECT 3 * k - 2 + j,
       lpad((extract(epoch FROM last_day)::bigint + 86400 * 2 + j)::text, 11, '0')
	|| '.000000000-' || lpad(to_hex(k), 8, '0'),
       approval, CASE j WHEN 0 THEN 'sheet-' WHEN 1 THEN 'att-' ELSE 'again-' END || k || '.xml',
       encode(sha256(convert_to('orig' || (3 * k - 2 + j), 'UTF8')), 'hex'), 40000,
       CASE WHEN j = 0 THEN 'signin-sheet' WHEN j = 2 AND k % 50 = 0 THEN 'unknown'
	    ELSE 'attestations' END,
       approval,
       CASE WHEN j = 2 AND k % 50 = 0 THEN NULL ELSE k END,
       (last_day + 2)::timestamptz + j * interval '1 hour',
       (last_day + 2)::timestamptz + j * interval '1 hour' + interval '1 second',
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
SELECT 3 * k - 2, k, '28', last_day - 1, last_day, 'Salle des fêtes, 1 place de la Mairie',
       ARRAY[last_day - 1, last_day - 1, last_day, last_day], '{510,780,510,780}',
       '{720,990,720,990}', 'PSY-' || k % 300, 'DURAND', 'Anne', 'BAFM-' || k % 300, 'LEROY', 'Marc'
  FROM g;

-- Trainee t of stage k: a licence of the 1.2 M, each once, except that
-- the last trainee of every stage is the first of the stage two months
-- before, back with the same scan of the same identity card (an archive
-- file two stages share, one of them purged before the other).
CREATE TEMP TABLE tr AS
SELECT k, t, approval, last_day,
       lpad((((CASE WHEN t = :trainees AND k > 2800 THEN (k - 2800)::bigint * :trainees + 1
		    ELSE k::bigint * :trainees + t END) * 7919) % 1200000 + 1)::text, 12, '0') AS licence
  FROM g, generate_series(1, :trainees) t;

INSERT INTO attestd.signin_participants (submission_id, licence, surname, given_names, birth_date,
	id_type, id_number, id_media_type, id_size, id_sha256, arrived, signed)
SELECT 3 * k - 2, licence, 'NOM' || licence, 'Prénom', date '1970-01-01', 'id-card',
       'ID' || licence, 'image/jpeg', 120000,
       encode(sha256(convert_to('scan' || licence, 'UTF8')), 'hex'), '{500,770,500,770}',
       '{t,t,t,t}'
  FROM tr;

INSERT INTO attestd.attestations (id, submission_id, stage_id, approval, number, stage_case, issued,
	departement, first_day, last_day, licence, surname, given_names, birth_date, received_at,
	received_on, registration_deadline, decision, points, effective_date, reasons, flags,
	decided_at, decided_on)
SELECT k::bigint * :trainees + t, 3 * k - 1, k, approval, 'S-' || k || '-' || t, 1 + t % 4,
       last_day, '28', last_day - 1, last_day, licence, 'NOM' || licence, 'Prénom',
       date '1970-01-01', (last_day + 2)::timestamptz, last_day + 2, last_day + 32,
       CASE WHEN t <= 17 THEN 'credited' WHEN t = 18 THEN 'no_credit' WHEN t = 19 THEN 'rejected'
	    WHEN k % 2 = 0 THEN 'pending' ELSE 'review' END,
       CASE WHEN t <= 17 THEN 4 ELSE 0 END,
       CASE WHEN t <= 17 THEN last_day + 1 END,
       CASE WHEN t = 19 THEN '{late_arrival}'::text[] ELSE '{}' END, '{}',
       CASE WHEN t <= 19 THEN (last_day + 2)::timestamptz + interval '2 hours' END,
       CASE WHEN t <= 19 THEN last_day + 2 END
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
SELECT audit.append('bench', 'bench.generated', 'purge_data.sql', :'stages' || ' stages');
ANALYZE attestd.stages, attestd.submissions, attestd.signin_sheets, attestd.signin_participants,
	attestd.attestations, attestd.decision_history, attestd.receipts, attestd.licence_events,
	attestd.licence_balances, attestd.balance_history, attestd.licences;
