-- 014: the auditors' questions that still read the archive (issue 19),
-- measured with `make bench-archive` on three years of national volume
-- (README.md, "Costs that do not grow with the archive").  Each object
-- names the query it serves; tests/integration/test_archive_scale.sh
-- EXPLAINs those queries and checks the summary against its base table.

-- --- monthly decisions by centre and reason ------------------------------------------
-- "How many attestations were decided each month, by outcome and reason,
-- over a year" read every attestation of the year (a third of the table on
-- three years).  These counts are kept as the decisions are written: a
-- trigger per statement on attestd.attestations adds what a statement's
-- new rows bring and takes away what its old rows had, so every writer
-- (a file, a re-decision when its sheet arrives, a review, the overdue
-- flag, the purge, a benchmark's clean-up) keeps it exact by construction
-- rather than each remembering to.  One upsert per statement, its keys in
-- order; a file's transaction writes a handful of rows (its centre's month).
-- A materialised view refreshed by the report was the other choice: its
-- refresh reads all the attestations again, which is the cost to remove.
--
-- Only decided attestations (decided_on set) count, in the month of
-- decided_on, the local date of the decision ([prefecture] timezone) the
-- daemon records: the month the monthly report and the dashboard count a
-- decision in.  reason '' counts every attestation with that outcome;
-- another reason counts those of them whose reasons include it.  A row
-- whose counts fall to 0 (a re-decision, a purge) stays until the purge
-- removes it (store_retention.c); readers skip zeros.
CREATE TABLE attestd.decision_counts (
	month		date NOT NULL,		-- first day of decided_on's month
	approval	text NOT NULL,
	decision	text NOT NULL,
	reason		text NOT NULL,		-- '' for all of the outcome
	attestations	bigint NOT NULL,
	points		bigint NOT NULL,	-- points of those attestations
	PRIMARY KEY (month, approval, decision, reason)
);
-- The primary key serves each reader, a range of months:
--   the monthly report's decisions (store_console_monthly, "decisions"):
--	SELECT decision, sum(attestations), sum(points) FROM audit.monthly_decisions
--	 WHERE month = $1 AND reason = '' GROUP BY 1
--   the dashboard's decisions per month (store_console_decisions_per_month):
--	... WHERE month >= $1 AND month < $2 AND reason = '' GROUP BY month
--   an auditor's counts per reason for a year:
--	SELECT month, decision, reason, sum(attestations) FROM audit.monthly_decisions
--	 WHERE month >= $1 AND month < $1 + interval '1 year' GROUP BY 1, 2, 3

-- The rows one side of a statement brings, signed: +1 for its new rows,
-- -1 for its old ones.
CREATE FUNCTION attestd.decision_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO attestd.decision_counts AS c
		SELECT date_trunc('month', n.decided_on)::date, n.approval, n.decision, r.reason,
		       count(*), sum(n.points)
		  FROM new_rows n, unnest(array_prepend('', n.reasons)) r(reason)
		 WHERE n.decided_on IS NOT NULL
		 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
		ON CONFLICT (month, approval, decision, reason) DO UPDATE
		   SET attestations = c.attestations + EXCLUDED.attestations,
		       points = c.points + EXCLUDED.points;
	ELSIF TG_OP = 'DELETE' THEN
		INSERT INTO attestd.decision_counts AS c
		SELECT date_trunc('month', o.decided_on)::date, o.approval, o.decision, r.reason,
		       -count(*), -sum(o.points)
		  FROM old_rows o, unnest(array_prepend('', o.reasons)) r(reason)
		 WHERE o.decided_on IS NOT NULL
		 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
		ON CONFLICT (month, approval, decision, reason) DO UPDATE
		   SET attestations = c.attestations + EXCLUDED.attestations,
		       points = c.points + EXCLUDED.points;
	ELSE
		-- An update: only the rows whose counted columns changed (the
		-- overdue flag, the common update at each run, changes none).
		INSERT INTO attestd.decision_counts AS c
		SELECT month, approval, decision, reason, sum(n), sum(p)
		  FROM (SELECT date_trunc('month', d.decided_on)::date AS month, d.approval,
			       d.decision, r.reason, d.sign AS n, d.sign * d.points AS p
			  FROM (SELECT 1 AS sign, n.* FROM new_rows n JOIN old_rows o ON o.id = n.id
				 WHERE (n.decided_on, n.approval, n.decision, n.reasons, n.points)
				       IS DISTINCT FROM (o.decided_on, o.approval, o.decision, o.reasons, o.points)
				UNION ALL
				SELECT -1, o.* FROM old_rows o JOIN new_rows n ON n.id = o.id
				 WHERE (n.decided_on, n.approval, n.decision, n.reasons, n.points)
				       IS DISTINCT FROM (o.decided_on, o.approval, o.decision, o.reasons, o.points)) d,
			       unnest(array_prepend('', d.reasons)) r(reason)
			 WHERE d.decided_on IS NOT NULL) x
		 GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 OR sum(p) <> 0 ORDER BY 1, 2, 3, 4
		ON CONFLICT (month, approval, decision, reason) DO UPDATE
		   SET attestations = c.attestations + EXCLUDED.attestations,
		       points = c.points + EXCLUDED.points;
	END IF;
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION attestd.decision_counts_apply() FROM PUBLIC;
CREATE TRIGGER decision_counts_insert AFTER INSERT ON attestd.attestations
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION attestd.decision_counts_apply();
CREATE TRIGGER decision_counts_update AFTER UPDATE ON attestd.attestations
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION attestd.decision_counts_apply();
CREATE TRIGGER decision_counts_delete AFTER DELETE ON attestd.attestations
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION attestd.decision_counts_apply();

-- What is already there (a database upgraded to 014): one pass.
INSERT INTO attestd.decision_counts
SELECT date_trunc('month', a.decided_on)::date, a.approval, a.decision, r.reason,
       count(*), sum(a.points)
  FROM attestd.attestations a, unnest(array_prepend('', a.reasons)) r(reason)
 WHERE a.decided_on IS NOT NULL
 GROUP BY 1, 2, 3, 4;

CREATE VIEW audit.monthly_decisions AS
	SELECT month, approval, decision, reason, attestations, points
	  FROM attestd.decision_counts WHERE attestations <> 0;
GRANT SELECT ON audit.monthly_decisions TO attestd_auditor;
COMMENT ON VIEW audit.monthly_decisions IS 'Attestations décidées par mois, centre, décision et motif, tenues à jour à chaque décision (mêmes nombres qu''un regroupement de audit.attestation_decisions, sans le relire).';
COMMENT ON COLUMN audit.monthly_decisions.month IS 'Premier jour du mois de la décision (heure de la préfecture).';
COMMENT ON COLUMN audit.monthly_decisions.approval IS 'Agrément du centre.';
COMMENT ON COLUMN audit.monthly_decisions.decision IS 'credited, no_credit ou rejected (les attestations en attente ou à examiner ne sont pas encore comptées).';
COMMENT ON COLUMN audit.monthly_decisions.reason IS 'Vide : toutes les attestations de cette décision ; sinon un code motif (audit.reason_codes) : celles d''entre elles qui le portent.';
COMMENT ON COLUMN audit.monthly_decisions.attestations IS 'Nombre d''attestations.';
COMMENT ON COLUMN audit.monthly_decisions.points IS 'Points ajoutés par ces attestations.';

-- --- registrations overdue --------------------------------------------------------
-- `attestd audit overdue` and the monthly report's overdue table: the flagged
-- attestations (a few thousand of millions), each with its stage's ref.
-- 011's partial index found them, but the plan then hashed every stage to
-- join a few thousand (a full scan of stages, growing with the archive) and
-- fetched each attestation from the heap.  Now the index holds every
-- column the view shows, in the view's order (an index-only scan, no sort),
-- and the stage's ref is looked up for each row by the stages' key: the
-- query reads the overdue items and their stages, nothing else.  The
-- flag stays a member of flags (the daemon and the rules write it there);
-- the index's predicate is the stored "overdue" column:
--   SELECT ... FROM audit.registrations_overdue
--	ORDER BY registration_deadline, approval, attestation_number
--   the monthly report's overdue registrations (store_console_monthly):
--	... FROM audit.registrations_overdue WHERE registration_deadline >= $1 ...
CREATE INDEX attestations_overdue_items ON attestd.attestations
	(registration_deadline, approval, number)
	INCLUDE (stage_id, licence, decision, received_at, decided_at, decided_on)
	WHERE 'registration_overdue' = ANY (flags);
DROP INDEX attestd.attestations_overdue;

-- The same rows and columns as 002's view; the stage's ref by its key for
-- each row (stage_id is NOT NULL and references stages: the join never
-- dropped a row, so neither does the subquery).
CREATE OR REPLACE VIEW audit.registrations_overdue AS
	SELECT a.approval,
	       (SELECT s.ref FROM attestd.stages s WHERE s.id = a.stage_id) AS stage_ref,
	       a.number AS attestation_number, a.licence,
	       a.decision, a.received_at, a.registration_deadline, a.decided_at,
	       coalesce(a.decided_on, current_date) - a.registration_deadline AS days_overdue
	  FROM attestd.attestations a
	 WHERE 'registration_overdue' = ANY (a.flags);

-- --- a period of all centres' attestations ------------------------------------------
-- `attestd audit attestations --from D --to D` (store_report_attestations)
-- bounds the range of 011's attestations_first_day index by the period
-- (first_day BETWEEN D AND D: a stage that ends in the period begins in
-- it), instead of reading every attestation from D to the archive's end;
-- the stages whose days are inverted (rejected stage_days_not_consecutive,
-- stored all the same) are the exception, found here, an index empty in a
-- sound archive and written by no normal row:
--   ... WHERE first_day >= $3 AND last_day <= $4 AND (first_day BETWEEN $3 AND $4
--	OR (first_day > last_day AND first_day >= $3))
CREATE INDEX attestations_inverted_days ON attestd.attestations (first_day)
	WHERE first_day > last_day;

-- --- late transmissions --------------------------------------------------------------
-- The monthly report's late transmissions (store_console_monthly,
-- "late-transmissions") and `attestd audit centre A`'s: a month's late
-- files found by 013's and 011's partial indexes, then, as above, every
-- stage hashed to name a few hundred.  The same rows, each stage's ref by
-- its key:
--   SELECT approval, count(*), max(days_after_last_day) FROM audit.late_transmissions
--	WHERE received_at >= $1::date AND received_at < ($1::date + interval '1 month') ...
CREATE OR REPLACE VIEW audit.late_transmissions AS
	SELECT DISTINCT a.approval,
	       (SELECT s.ref FROM attestd.stages s WHERE s.id = a.stage_id) AS stage_ref,
	       a.submission_id, a.last_day,
	       a.received_at, a.received_on - a.last_day AS days_after_last_day
	  FROM attestd.attestations a
	 WHERE 'late_transmission' = ANY (a.flags);
