-- 018: the auditors' questions still over 100 ms on three years (issue 19).
-- What they cost was not rows but pages: a fresh backend (every `attestd
-- audit` command, every auditor's psql) pays for each shared-buffer page
-- it touches the first time, about 25 us a 4 kB page on the project's
-- machine (minor faults on the shared memory, measured with the backend's
-- /proc counters: 750 faults, 39 ms of CPU, for 740 pages already in
-- shared buffers that a second run reads in 1.7 ms).  So each question
-- should touch the pages of its answer, not of everything near it.

-- `attestd audit centre A`'s rejections (store_report_centre):
--   SELECT ... FROM audit.attestation_decisions WHERE approval = $1 AND decision = 'rejected'
-- read every attestation of the centre through UNIQUE (approval, number)
-- (about 2,200 heap pages for three years, one row a page) to keep the
-- 5 % rejected.  002's partial index of the undecided attestations now
-- holds the rejected ones too, keyed by centre: one index where there was
-- one (each row's insert evaluates the same kind of predicate, and only a
-- rejected, pending or in-review row adds an entry).  It still serves
-- 002's readers by its first key:
--   `status`'s and the metrics' counts (store.c):
--	SELECT count(*) FILTER (...) FROM attestd.attestations WHERE decision IN ('pending', 'review')
--   the overdue sweep (store_pipeline.c):
--	UPDATE attestd.attestations SET flags = ... WHERE decision IN ('pending', 'review') AND ...
CREATE INDEX attestations_undecided_rejected ON attestd.attestations (decision, approval)
	WHERE decision IN ('pending', 'review', 'rejected');
DROP INDEX attestd.attestations_decision_idx;

-- An auditor's counts per reason for a year (README.md, "The audit schema"):
--   SELECT month, decision, reason, sum(attestations) FROM audit.monthly_decisions
--	WHERE month >= $1 AND month < $1 + interval '1 year' GROUP BY 1, 2, 3
-- reads the year's range of decision_counts' primary key, then its heap
-- pages.  Rows written as decisions happen land in month order; 014's
-- back-fill wrote them in hash order, which spread each month over every
-- page (three years: 1,371 pages read for a third of them; 107 -> 71 ms
-- of the server's CPU a fresh session once in month order).  Once, here:
-- the table in its key's order.
CLUSTER attestd.decision_counts USING decision_counts_pkey;
