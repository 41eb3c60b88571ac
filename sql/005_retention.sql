-- 004: the retention purge (rules.md §7, `attestd purge`): attestations,
-- sign-in sheets with their participants (identity data), the submissions
-- and receipts of those files, and their archived originals and scans go
-- three years after the stage's last day; the ledger, the balances and
-- their history, and the audit log stay.
--
-- The purge deletes in batches of stages (measured on three years of
-- national volume: `make bench-purge`); these indexes are what makes a
-- delete cost its own rows rather than a scan of a three-year table.

-- Deleting a submission makes PostgreSQL look for the rows that still
-- reference it (the foreign keys of attestations and of duplicates).
CREATE INDEX ON attestd.attestations (submission_id);
CREATE INDEX ON attestd.submissions (duplicate_of) WHERE duplicate_of IS NOT NULL;
-- An archived identity scan goes only when no remaining participant has
-- the same one (a driver's second stage may carry the same scan).
CREATE INDEX ON attestd.signin_participants (id_sha256);

-- Files whose rows a committed purge removed, until they are gone from the
-- archive or the quarantine.  Queued in the purge's transaction and cleared
-- file by file after it, so a crash in between leaves a list for the next
-- purge to finish, not orphans nobody can tell from lost files.
CREATE TABLE attestd.purge_files (
	area		text NOT NULL CHECK (area IN ('archive', 'quarantine')),
	-- archive: the SHA-256 (archive/ab/cd/<sha256>); quarantine:
	-- <inbox dir>/<quarantined name> (its .reason goes with it)
	name		text NOT NULL,
	queued_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (area, name)
);
