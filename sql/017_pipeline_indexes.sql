-- 017: indexes every file's transaction wrote and no query reads (issue 14,
-- PostgreSQL's CPU per file; perf on the backend during `make bench`:
-- index insertions were 12 % of its samples).
--
-- attestd.attestations had 15 indexes.  An attestations file inserts 20
-- rows, and when its sign-in sheet came second (or the decision waited
-- for it) the same 20 rows are updated again: a decision sets decided_at,
-- an indexed column, so that update is never HOT and writes a new entry in
-- every index once more.  Each index below was made for a console query
-- that a later migration moved to another index or to a summary table;
-- every query of store_console.c, store_report.c, store.c and
-- store_retention.c that reads these tables was checked (EXPLAIN, and
-- tests/integration/test_archive_scale.sh, which fails on a plan reading a
-- whole large table with sequential scans priced out).  Nothing changes
-- in what a query answers: an index only speeds a read.

-- 012's (received_at) on attestations, for the console's monthly late
-- transmissions: 013 gave that query a partial index,
-- console_attestations_late_received (received_at WHERE
-- 'late_transmission' = ANY (flags)), a few rows of millions.  No other
-- query reads attestations by received_at but after another condition
-- (a centre's, a licence's or a month's rows, found by their own index,
-- then sorted).
DROP INDEX attestd.console_attestations_received_at;

-- 012's (registration_deadline) on attestations.  Every query on the
-- deadline reads only the undecided or the overdue attestations, each
-- through a partial index: the review queue by
-- console_attestations_review_queue (registration_deadline, id WHERE
-- decision = 'review'), today's overdue count and `status`'s "due within
-- 7 days" by attestations_decision_idx (WHERE decision IN ('pending',
-- 'review')), the monthly overdue registrations by
-- attestations_overdue_items (registration_deadline ... WHERE
-- 'registration_overdue' = ANY (flags)).
DROP INDEX attestd.console_attestations_deadline;

-- 012's (at) on decision_history, for the review turnaround of the
-- monthly report: 013 gave it console_decision_history_review_at (at WHERE
-- cause LIKE 'review%'), which leaves out the pipeline's own decisions
-- (all but a few of the rows).  Nothing else reads the history by time:
-- an attestation's or a licence's history is found by attestation_id.
DROP INDEX attestd.console_decision_history_at;
