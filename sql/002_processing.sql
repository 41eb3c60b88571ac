-- 002: what the daemon records of the files it processes: submissions (with
-- the validation evidence), stages, sign-in sheets, attestations and their
-- decisions, the licences' cached balances and balance history, receipts,
-- and the hash-chained audit log.  Personal data (names, birth dates,
-- identity documents) stays in these tables, which only attestd reads.

-- The credit of a stage needs its first day (rules.md §6: a credit dated
-- after an invalidation still applies when the stage began before it).
ALTER TABLE attestd.licence_events ADD COLUMN stage_first_day date;
ALTER TABLE attestd.licence_events ADD CONSTRAINT licence_events_stage_first_day_check
	CHECK (stage_first_day IS NULL OR kind = 'stage_credit');

CREATE TABLE attestd.stages (
	id		bigserial PRIMARY KEY,
	approval	text NOT NULL,
	ref		text NOT NULL,
	departement	text NOT NULL,
	first_day	date NOT NULL,
	last_day	date NOT NULL,
	-- the stage checks of rules.md §3, once the sign-in sheet is in
	findings	text[],
	UNIQUE (approval, ref)
);

CREATE TABLE attestd.submissions (
	id		bigserial PRIMARY KEY,
	-- the spool claim: a restart recognises its own committed work by it
	claim_id	text NOT NULL UNIQUE,
	inbox_dir	text NOT NULL,
	file_name	text NOT NULL,
	sha256		text CHECK (sha256 ~ '^[0-9a-f]{64}$'),	-- NULL: never read (not a regular file)
	size		bigint,
	kind		text NOT NULL CHECK (kind IN ('attestations', 'signin-sheet', 'unknown')),
	approval	text,			-- centre/@approval, once read
	stage_id	bigint REFERENCES attestd.stages,
	received_at	timestamptz NOT NULL,
	processed_at	timestamptz NOT NULL DEFAULT now(),
	status		text NOT NULL CHECK (status IN ('accepted', 'rejected', 'duplicate')),
	errors		text[] NOT NULL DEFAULT '{}',	-- reason codes
	error_messages	text[] NOT NULL DEFAULT '{}',	-- one per code, with its line
	duplicate_of	bigint REFERENCES attestd.submissions,
	-- validation evidence, so that a verdict can be proven again in year three
	signer_sha256	text,
	signer_der	bytea,
	chain_pem	text,
	crl_number	text,
	crl_sha256	text,
	verifier	text,
	CHECK ((status = 'duplicate') = (duplicate_of IS NOT NULL))
);
-- A byte-identical copy of an accepted file is a 'duplicate' row; a
-- rejected file may be sent again as it is (e.g. once its certificate is
-- registered) and is then judged again.
CREATE UNIQUE INDEX submissions_sha256_once ON attestd.submissions (sha256)
	WHERE status = 'accepted';
CREATE INDEX ON attestd.submissions (approval, received_at);
CREATE INDEX ON attestd.submissions (stage_id);

CREATE TABLE attestd.signin_sheets (
	submission_id	bigint PRIMARY KEY REFERENCES attestd.submissions,
	stage_id	bigint NOT NULL UNIQUE REFERENCES attestd.stages,
	departement	text NOT NULL,
	first_day	date NOT NULL,
	last_day	date NOT NULL,
	venue		text NOT NULL,
	-- the four sessions 1am 1pm 2am 2pm: date, start and end (minutes)
	session_dates	date[] NOT NULL CHECK (cardinality(session_dates) = 4),
	session_starts	smallint[] NOT NULL CHECK (cardinality(session_starts) = 4),
	session_ends	smallint[] NOT NULL CHECK (cardinality(session_ends) = 4),
	psychologist_authorisation	text NOT NULL,
	psychologist_surname		text NOT NULL,
	psychologist_given_names	text NOT NULL,
	expert_authorisation		text NOT NULL,
	expert_surname			text NOT NULL,
	expert_given_names		text NOT NULL
);

CREATE TABLE attestd.signin_participants (
	submission_id	bigint NOT NULL REFERENCES attestd.signin_sheets,
	licence		text NOT NULL,
	surname		text NOT NULL,
	given_names	text NOT NULL,
	birth_date	date NOT NULL,
	id_type		text NOT NULL,
	id_number	text NOT NULL,
	id_media_type	text NOT NULL,
	id_size		integer NOT NULL,
	id_sha256	text NOT NULL,		-- the scan, in the archive
	-- per session 1am 1pm 2am 2pm: arrival (minutes, NULL = no presence) and signature
	arrived		smallint[] NOT NULL CHECK (cardinality(arrived) = 4),
	signed		boolean[] NOT NULL CHECK (cardinality(signed) = 4),
	PRIMARY KEY (submission_id, licence)
);

CREATE TABLE attestd.attestations (
	id		bigserial PRIMARY KEY,
	submission_id	bigint NOT NULL REFERENCES attestd.submissions,
	stage_id	bigint NOT NULL REFERENCES attestd.stages,
	approval	text NOT NULL,
	number		text NOT NULL,
	stage_case	smallint NOT NULL CHECK (stage_case BETWEEN 1 AND 4),
	issued		date NOT NULL,
	departement	text NOT NULL,		-- as the attestations file gives the stage
	first_day	date NOT NULL,
	last_day	date NOT NULL,
	licence		text NOT NULL,
	surname		text NOT NULL,
	given_names	text NOT NULL,
	birth_date	date NOT NULL,
	letter_48n_received	date,
	court_order_ref		text,
	court_order_date	date,
	received_at	timestamptz NOT NULL,
	received_on	date NOT NULL,		-- local date of reception ([prefecture] timezone)
	registration_deadline	date NOT NULL,
	-- the current decision (rules.md §1)
	decision	text NOT NULL CHECK (decision IN ('credited', 'no_credit', 'rejected',
							  'pending', 'review')),
	points		smallint NOT NULL DEFAULT 0,
	effective_date	date,
	reasons		text[] NOT NULL DEFAULT '{}',
	flags		text[] NOT NULL DEFAULT '{}',
	-- P of rules.md §5.4 when within_one_year applies (for the receipt's message)
	previous_credit_last_day	date,
	decided_at	timestamptz,		-- NULL while pending or in review
	decided_on	date,			-- its local date
	UNIQUE (approval, number)
);
CREATE INDEX ON attestd.attestations (licence);
CREATE INDEX ON attestd.attestations (stage_id);
CREATE INDEX ON attestd.attestations (decision) WHERE decision IN ('pending', 'review');

-- Every decision an attestation had, with who or what made it.
CREATE TABLE attestd.decision_history (
	id		bigserial PRIMARY KEY,
	attestation_id	bigint NOT NULL REFERENCES attestd.attestations,
	at		timestamptz NOT NULL DEFAULT now(),
	actor		text NOT NULL,		-- 'attestd' or the operator's name
	cause		text NOT NULL,		-- e.g. 'file 12', 'signin-sheet 14', 'registry import', 'review'
	decision	text NOT NULL,
	points		smallint NOT NULL,
	reasons		text[] NOT NULL,
	flags		text[] NOT NULL,
	note		text
);
CREATE INDEX ON attestd.decision_history (attestation_id);

-- The cache of each licence's replayed ledger, rewritten in the same
-- transaction as any new event (rules.md §6).
CREATE TABLE attestd.licence_balances (
	licence		text PRIMARY KEY REFERENCES attestd.licences,
	balance		smallint,		-- NULL: no grant yet
	ceiling		smallint NOT NULL,
	last_credit_stage_last_day	date,
	updated_at	timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE attestd.balance_history (
	id		bigserial PRIMARY KEY,
	licence		text NOT NULL REFERENCES attestd.licences,
	changed_at	timestamptz NOT NULL DEFAULT now(),
	old_balance	smallint,
	new_balance	smallint,
	cause		text NOT NULL
);
CREATE INDEX ON attestd.balance_history (licence, changed_at);

-- Receipts, built and signed inside the transaction that decides what they
-- say, written to the outbox after it commits; written_at stays NULL until
-- the file is durably there, so a crash in between is mended on restart.
-- seq counts the receipts of one name in one inbox directory (a file sent
-- again under its name gets the next number).
CREATE TABLE attestd.receipts (
	submission_id	bigint NOT NULL REFERENCES attestd.submissions,
	seq		integer NOT NULL CHECK (seq >= 1),
	created_at	timestamptz NOT NULL DEFAULT now(),
	path		text NOT NULL UNIQUE,	-- <dir>/<name>.<seq>.receipt.xml under the outbox
	body		bytea NOT NULL,
	written_at	timestamptz,
	PRIMARY KEY (submission_id, seq)
);
CREATE INDEX ON attestd.receipts (submission_id) WHERE written_at IS NULL;

-- The audit log: append-only, each row's hash covering the previous row's,
-- so that any edit or deletion breaks the chain (attestd audit verify-log).
CREATE SCHEMA IF NOT EXISTS audit;
REVOKE ALL ON SCHEMA audit FROM PUBLIC;

CREATE TABLE audit.log_head (
	one		boolean PRIMARY KEY DEFAULT true CHECK (one),
	seq		bigint NOT NULL,
	hash		text NOT NULL
);
INSERT INTO audit.log_head VALUES (true, 0, repeat('0', 64));

CREATE TABLE audit.log_entries (
	seq		bigint PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT clock_timestamp(),
	actor		text NOT NULL,
	action		text NOT NULL,
	subject		text NOT NULL,
	detail		text NOT NULL DEFAULT '',
	prev_hash	text NOT NULL,
	hash		text NOT NULL
);

-- What one row's hash covers, in a fixed text form (also used to verify).
CREATE FUNCTION audit.row_hash(prev_hash text, seq bigint, at timestamptz, actor text,
			       action text, subject text, detail text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT encode(sha256(convert_to(concat_ws(E'\x1f', prev_hash, seq::text,
		to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
		actor, action, subject, detail), 'UTF8')), 'hex')
$$;

-- Appends one row.  The head row's lock serialises writers (held to the
-- end of the transaction), so the chain never forks; callers append last,
-- just before COMMIT, to hold it briefly.
CREATE FUNCTION audit.append(p_actor text, p_action text, p_subject text, p_detail text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	h audit.log_head;
	t timestamptz := clock_timestamp();
	new_hash text;
BEGIN
	SELECT * INTO h FROM audit.log_head FOR UPDATE;
	new_hash := audit.row_hash(h.hash, h.seq + 1, t, p_actor, p_action, p_subject, p_detail);
	INSERT INTO audit.log_entries (seq, at, actor, action, subject, detail, prev_hash, hash)
	VALUES (h.seq + 1, t, p_actor, p_action, p_subject, p_detail, h.hash, new_hash);
	UPDATE audit.log_head SET seq = h.seq + 1, hash = new_hash;
	RETURN h.seq + 1;
END
$$;

-- Nobody updates or deletes log rows (they hold no personal data, so the
-- retention purge leaves them too).
CREATE FUNCTION audit.log_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit.log is append-only';
END
$$;
CREATE TRIGGER log_immutable BEFORE UPDATE OR DELETE ON audit.log_entries
	FOR EACH ROW EXECUTE FUNCTION audit.log_immutable();
CREATE TRIGGER log_no_truncate BEFORE TRUNCATE ON audit.log_entries
	FOR EACH STATEMENT EXECUTE FUNCTION audit.log_immutable();

-- The auditors' views (interfaces.md).
CREATE VIEW audit.log AS
	SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit.log_entries;

CREATE VIEW audit.submissions AS
	SELECT id, coalesce(approval, inbox_dir) AS approval, file_name, sha256, kind,
	       received_at, processed_at, status, errors
	  FROM attestd.submissions;

CREATE VIEW audit.attestation_decisions AS
	SELECT a.approval, s.ref AS stage_ref, a.number AS attestation_number, a.licence,
	       a.stage_case, a.first_day, a.last_day, a.decision, a.points, a.effective_date,
	       a.reasons, a.flags, a.received_at, a.decided_at, a.registration_deadline
	  FROM attestd.attestations a JOIN attestd.stages s ON s.id = a.stage_id;

CREATE VIEW audit.licence_balances AS
	SELECT b.licence, b.balance, b.ceiling, l.status, b.last_credit_stage_last_day
	  FROM attestd.licence_balances b JOIN attestd.licences l USING (licence);

CREATE VIEW audit.balance_history AS
	SELECT licence, changed_at, old_balance, new_balance, cause FROM attestd.balance_history;

-- Attestations not decided within one month of reception (rules.md §7):
-- decided late (the rules flag them), or still pending / in review past the
-- deadline (the daemon flags them at each run).
CREATE VIEW audit.registrations_overdue AS
	SELECT a.approval, s.ref AS stage_ref, a.number AS attestation_number, a.licence,
	       a.decision, a.received_at, a.registration_deadline, a.decided_at,
	       coalesce(a.decided_on, current_date) - a.registration_deadline AS days_overdue
	  FROM attestd.attestations a JOIN attestd.stages s ON s.id = a.stage_id
	 WHERE 'registration_overdue' = ANY (a.flags);

-- Files received more than 15 days after the stage's last day.
CREATE VIEW audit.late_transmissions AS
	SELECT DISTINCT a.approval, s.ref AS stage_ref, a.submission_id, a.last_day,
	       a.received_at, a.received_on - a.last_day AS days_after_last_day
	  FROM attestd.attestations a JOIN attestd.stages s ON s.id = a.stage_id
	 WHERE 'late_transmission' = ANY (a.flags);

-- Functions are executable by PUBLIC by default: only attestd appends.
REVOKE ALL ON FUNCTION audit.append(text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION audit.log_immutable() FROM PUBLIC;
GRANT USAGE ON SCHEMA audit TO attestd_auditor;
GRANT EXECUTE ON FUNCTION audit.row_hash(text, bigint, timestamptz, text, text, text, text)
	TO attestd_auditor;
GRANT SELECT ON audit.log_head, audit.log, audit.submissions, audit.attestation_decisions,
	audit.licence_balances, audit.balance_history, audit.registrations_overdue,
	audit.late_transmissions TO attestd_auditor;
