-- 003: the back office's review queue and the auditors' commands.  Views
-- for what `attestd audit` shows beyond 002's (the ledger, the decisions'
-- history with the operators' review actions, the files the archive must
-- hold), and a guard on final decisions.

-- A licence's ledger, as replayed (rules.md §6): what explains a balance.
CREATE VIEW audit.licence_events AS
	SELECT licence, effective_date, kind, points, ref, source, stage_first_day, created_at
	  FROM attestd.licence_events;

-- Every decision each attestation had, and who made it: 'attestd', or the
-- operator who accepted or rejected it in review, with the note they gave.
CREATE VIEW audit.decision_history AS
	SELECT a.approval, s.ref AS stage_ref, a.number AS attestation_number, a.licence,
	       h.at, h.actor, h.cause, h.decision, h.points, h.reasons, h.flags, h.note, h.id AS seq
	  FROM attestd.decision_history h
	  JOIN attestd.attestations a ON a.id = h.attestation_id
	  JOIN attestd.stages s ON s.id = a.stage_id;

-- The files the archive must hold (archive/ab/cd/<sha256>): the originals
-- of accepted submissions and the identity scans of the sign-in sheets.
-- Hashes and file names only: `attestd audit verify-archive` re-hashes them.
CREATE VIEW audit.archived_files AS
	SELECT sha256, 'original' AS kind, id AS submission_id, coalesce(approval, inbox_dir) AS approval,
	       file_name, received_at
	  FROM attestd.submissions
	 WHERE status = 'accepted' AND sha256 IS NOT NULL
	UNION ALL
	SELECT p.id_sha256, 'identity-scan', p.submission_id, coalesce(s.approval, s.inbox_dir),
	       s.file_name, s.received_at
	  FROM attestd.signin_participants p JOIN attestd.submissions s ON s.id = p.submission_id;

GRANT SELECT ON audit.licence_events, audit.decision_history, audit.archived_files
	TO attestd_auditor;

-- rules.md §1: a decision once credited, no_credit or rejected is final for
-- the daemon.  The review queue acts on 'review' decisions only, so nothing
-- of ours ever rewrites a final one; this trigger makes that a property of
-- the database rather than of the code (flags may still be added).
CREATE FUNCTION attestd.decision_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF (NEW.decision, NEW.points, NEW.effective_date)
	   IS DISTINCT FROM (OLD.decision, OLD.points, OLD.effective_date) THEN
		RAISE EXCEPTION 'attestation % is %: a final decision is never changed', OLD.id,
			OLD.decision USING ERRCODE = 'integrity_constraint_violation';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER decision_final BEFORE UPDATE ON attestd.attestations
	FOR EACH ROW WHEN (OLD.decision IN ('credited', 'no_credit', 'rejected'))
	EXECUTE FUNCTION attestd.decision_final();
REVOKE ALL ON FUNCTION attestd.decision_final() FROM PUBLIC;
