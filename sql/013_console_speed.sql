-- 013: the console's speed on years of national volume (spec/console.md
-- "Speed": every page p95 < 100 ms, the monthly report < 1 s), measured
-- with `make bench-console` and EXPLAIN (ANALYZE) of store_console.c's
-- queries (tests/browser/FINDINGS.md §7).  Each index names the query it
-- serves; all are partial or narrow, so a file's transaction writes little
-- more than before.  No summary table: the pages read bounded ranges of
-- these indexes, exact by construction.

-- The review queue (store_console_review_list), first page and the next
-- ones, all centres or one: the items in review in (deadline, id) order,
-- read from the index's start (a few thousand entries of millions) and
-- joined to their stages row by row, rather than hashing every stage:
--   SELECT ... FROM console.review_items WHERE decision = 'review'
--	AND ($1::date IS NULL OR (registration_deadline, id) > ($1::date, $2::bigint))
--	AND ($3::text IS NULL OR approval = $3)
--	ORDER BY registration_deadline, id LIMIT 51
CREATE INDEX console_attestations_review_queue ON attestd.attestations
	(registration_deadline, id) INCLUDE (approval) WHERE decision = 'review';

-- The monthly report's late transmissions (store_console_monthly,
-- "late-transmissions"): a month of audit.late_transmissions by reception,
-- without reading the attestations that are not late:
--   SELECT approval, count(*), max(days_after_last_day) FROM audit.late_transmissions
--	WHERE received_at >= $1::date AND received_at < ($1::date + interval '1 month') ...
CREATE INDEX console_attestations_late_received ON attestd.attestations (received_at)
	WHERE 'late_transmission' = ANY (flags);

-- The monthly report's review turnaround (store_console_monthly,
-- "review-turnaround"): the month's review decisions, without reading
-- the decisions the pipeline made (all but a few of decision_history):
--   SELECT ... FROM audit.decision_history h JOIN audit.attestation_decisions a ...
--	WHERE h.cause LIKE 'review%' AND h.at >= $1::date AND h.at < ($1::date + interval '1 month')
CREATE INDEX console_decision_history_review_at ON attestd.decision_history (at)
	WHERE cause LIKE 'review%';
