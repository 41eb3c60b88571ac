-- 012: the console's views (spec/console.md).  The console reads through
-- each person's own connection, so what a person may see is decided here,
-- by grants: attestd_auditor reads the console schema's views (the review
-- queue with its identities, a file's evidence, its receipts, a licence's
-- registry status); only attestd_reviewer reads where identity scans and
-- original files are (their SHA-256 in the archive).  Needs the role
-- attestd_reviewer (sql/roles.sql, run by the DBA before migrating).
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'attestd_reviewer') THEN
		RAISE EXCEPTION 'role attestd_reviewer is missing: run sql/roles.sql as a superuser '
			'(it is idempotent), then attestd db migrate again';
	END IF;
END
$$;

CREATE SCHEMA IF NOT EXISTS console;
REVOKE ALL ON SCHEMA console FROM PUBLIC;

-- The review queue and one item: the attestation's identity, the sheet's,
-- the registry's (rules.md §4 compares them), without the scans.
CREATE VIEW console.review_items AS
	SELECT a.id, a.approval, s.ref AS stage_ref, a.number, a.licence, a.decision, a.points,
	       a.reasons, a.flags, a.received_at, a.registration_deadline, a.submission_id,
	       a.first_day, a.last_day, a.stage_case,
	       a.surname AS att_surname, a.given_names AS att_given_names,
	       a.birth_date AS att_birth_date,
	       p.surname AS sheet_surname, p.given_names AS sheet_given_names,
	       p.birth_date AS sheet_birth_date, p.id_type AS sheet_id_type,
	       l.surname AS reg_surname, l.given_names AS reg_given_names,
	       l.birth_date AS reg_birth_date, l.status AS reg_status,
	       sh.session_dates, sh.session_starts, sh.session_ends, p.arrived, p.signed
	  FROM attestd.attestations a
	  JOIN attestd.stages s ON s.id = a.stage_id
	  LEFT JOIN attestd.signin_sheets sh ON sh.stage_id = a.stage_id
	  LEFT JOIN attestd.signin_participants p ON p.submission_id = sh.submission_id
	   AND p.licence = a.licence
	  LEFT JOIN attestd.licences l ON l.licence = a.licence;

-- Personal data: the identity scans of an attestation's trainee, and the
-- original files, for reviewers only.
CREATE VIEW console.identity_scans AS
	SELECT a.id AS attestation_id, p.id_sha256 AS sha256, p.id_media_type AS media_type,
	       p.id_size AS size, p.id_type
	  FROM attestd.attestations a
	  JOIN attestd.signin_sheets sh ON sh.stage_id = a.stage_id
	  JOIN attestd.signin_participants p ON p.submission_id = sh.submission_id
	   AND p.licence = a.licence;

CREATE VIEW console.originals AS
	SELECT id AS submission_id, sha256, file_name, size
	  FROM attestd.submissions WHERE status = 'accepted' AND sha256 IS NOT NULL;

-- A file's outcome and validation evidence (no personal data).
CREATE VIEW console.submissions AS
	SELECT id, coalesce(approval, inbox_dir) AS approval, file_name, sha256, size, kind,
	       received_at, processed_at, status, errors, error_messages, duplicate_of,
	       signer_sha256, chain_pem, crl_number, crl_sha256, verifier, stage_id,
	       encode(signer_der, 'base64') AS signer_der_b64
	  FROM attestd.submissions;

CREATE VIEW console.receipts AS
	SELECT submission_id, seq, created_at, path, written_at FROM attestd.receipts;

-- What the ledger replay needs of the registry's licence (no names).
CREATE VIEW console.licences AS
	SELECT licence, probation_end, status, status_date FROM attestd.licences;

-- A stage with its sheet and facilitators (valid on the stage's days?).
CREATE VIEW console.stages AS
	SELECT s.approval, s.ref, s.departement, s.first_day, s.last_day, s.findings, sh.venue,
	       sh.session_dates, sh.session_starts, sh.session_ends,
	       sh.psychologist_authorisation, sh.psychologist_surname,
	       (SELECT f.valid_from <= s.first_day AND coalesce(f.valid_to, s.last_day) >= s.last_day
		  FROM attestd.facilitators f WHERE f.authorisation = sh.psychologist_authorisation)
		 AS psychologist_valid,
	       sh.expert_authorisation, sh.expert_surname,
	       (SELECT f.valid_from <= s.first_day AND coalesce(f.valid_to, s.last_day) >= s.last_day
		  FROM attestd.facilitators f WHERE f.authorisation = sh.expert_authorisation)
		 AS expert_valid
	  FROM attestd.stages s LEFT JOIN attestd.signin_sheets sh ON sh.stage_id = s.id;

-- The attendance grid: one row per trainee of a sheet.
CREATE VIEW console.attendance AS
	SELECT s.approval, s.ref AS stage_ref, p.licence, p.surname, p.given_names, p.arrived,
	       p.signed
	  FROM attestd.stages s JOIN attestd.signin_sheets sh ON sh.stage_id = s.id
	  JOIN attestd.signin_participants p ON p.submission_id = sh.submission_id;

CREATE VIEW console.centres AS
	SELECT approval, name, departement, valid_from, valid_to FROM attestd.centres;

-- A centre's registered certificates and when a file last came signed by each.
CREATE VIEW console.centre_certificates AS
	SELECT c.approval, c.cert_sha256 AS sha256, u.received_at AS last_used,
	       encode(u.signer_der, 'base64') AS der_b64
	  FROM attestd.centre_certificates c
	  LEFT JOIN LATERAL (SELECT s.received_at, s.signer_der FROM attestd.submissions s
			      WHERE coalesce(s.approval, s.inbox_dir) = c.approval
				AND s.signer_sha256 = c.cert_sha256
			      ORDER BY s.received_at DESC LIMIT 1) u ON true;

-- Decisions without the stage (no join): what the counts per month read.
CREATE VIEW console.decisions AS
	SELECT approval, decision, points, decided_at FROM attestd.attestations;

GRANT USAGE ON SCHEMA console TO attestd_auditor;
GRANT SELECT ON console.review_items, console.submissions, console.receipts, console.licences,
	console.stages, console.attendance, console.centres, console.centre_certificates,
	console.decisions TO attestd_auditor;
GRANT SELECT ON console.identity_scans, console.originals TO attestd_reviewer;

-- The console's pages and monthly figures: every page reads a bounded
-- range of one of these, never a whole table.
CREATE INDEX console_attestations_decided_at ON attestd.attestations (decided_at)
	INCLUDE (decision, points);
CREATE INDEX console_attestations_received_at ON attestd.attestations (received_at);
CREATE INDEX console_attestations_deadline ON attestd.attestations (registration_deadline);
CREATE INDEX console_submissions_received_at ON attestd.submissions (received_at, id);
-- audit.submissions and console.submissions show coalesce(approval, inbox_dir).
CREATE INDEX console_submissions_centre ON attestd.submissions
	((coalesce(approval, inbox_dir)), id);
CREATE INDEX console_decision_history_at ON attestd.decision_history (at);
