-- 011: costs that do not grow with the archive (issue 19), measured with
-- `make bench-archive` on three years of national volume (2.1 M
-- attestations).  Each index names the query it serves; the auditors'
-- ones are checked by tests/integration/test_archive_scale.sh (EXPLAIN of
-- each audit command's query: no full scan of attestations or submissions).

-- `attestd status` and the metrics file (store_counts): the last processed
-- file, its time and today's count, by processed_at:
--   SELECT file_name FROM attestd.submissions ORDER BY processed_at DESC LIMIT 1
--   SELECT count(*) FROM attestd.submissions WHERE processed_at >= $1::date
-- and the start-up reconcile's window (store_recorded_since):
--   ... WHERE processed_at >= to_timestamp($1) AND processed_at < now() - '10 minutes'
CREATE INDEX submissions_processed_at ON attestd.submissions (processed_at);

-- `attestd audit centre A` (store_report_centre) and audit.submissions for
-- one centre: the view's approval is coalesce(approval, inbox_dir), which
-- the (approval, received_at) index cannot serve:
--   SELECT ... FROM audit.submissions WHERE approval = $1 ORDER BY received_at, id
CREATE INDEX submissions_centre_received ON attestd.submissions
	((coalesce(approval, inbox_dir)), received_at);
-- ... which replaces 002's (approval, received_at): no query of ours reads
-- submissions by approval but through that coalesce, and each file's
-- insert wrote it.
DROP INDEX attestd.submissions_approval_received_at_idx;

-- `attestd audit attestations --from D --to D` (all centres' month) and
-- `--centre A --from D --to D` (one centre's month: the month's entries of
-- the index are read, approval checked in the index, only the centre's
-- rows fetched; one index for both rather than two to write per row):
--   SELECT ... FROM audit.attestation_decisions WHERE ($1 IS NULL OR approval = $1)
--	AND first_day >= $3 AND last_day <= $4 ORDER BY received_at, ...
CREATE INDEX attestations_first_day ON attestd.attestations (first_day, approval);

-- `attestd audit overdue` and `status`'s overdue count (audit.registrations_overdue:
-- WHERE 'registration_overdue' = ANY (flags)); a few thousand rows of
-- millions, found without reading the others:
--   SELECT ... FROM audit.registrations_overdue ORDER BY registration_deadline, ...
CREATE INDEX attestations_overdue ON attestd.attestations (registration_deadline)
	WHERE 'registration_overdue' = ANY (flags);

-- `attestd audit centre A`'s late transmissions (audit.late_transmissions:
-- WHERE 'late_transmission' = ANY (flags)):
--   SELECT ... FROM audit.late_transmissions WHERE approval = $1 ORDER BY received_at, ...
CREATE INDEX attestations_late ON attestd.attestations (approval, received_at)
	WHERE 'late_transmission' = ANY (flags);

-- The identity scans' index (005, for the purge's "does a remaining
-- participant still have this scan" and the reconcile's "is this archived
-- file recorded"): both look a hash up by equality, never by range or
-- order.  A B-tree of 64-character random keys is ~120 MB for three years
-- and every sign-in sheet inserts 20 keys at random places in it; a hash
-- index stores 4-byte hash codes (a third of the size), so the pages a
-- file's insert touches stay in memory.  Serves:
--   SELECT EXISTS (SELECT FROM attestd.signin_participants WHERE id_sha256 = $1)
DROP INDEX attestd.signin_participants_id_sha256_idx;
CREATE INDEX signin_participants_id_sha256 ON attestd.signin_participants USING hash (id_sha256);

-- The start-up reconcile's mark: when (seconds since the epoch, on the
-- clock of the host that compared, the clock the archive's mtimes follow)
-- the archive and the database were last found to agree.  The next start
-- compares only what changed since (daemon/reconcile.c).
CREATE TABLE attestd.reconcile_mark (
	one		boolean PRIMARY KEY DEFAULT true CHECK (one),
	clean_at	bigint NOT NULL
);
