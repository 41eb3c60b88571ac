-- 006: what each file's transaction pays the server for nothing (issue 5,
-- measured on `make bench`: pg_stat_statements, EXPLAIN (ANALYZE, BUFFERS)).

-- attestations (submission_id) was indexed twice: attestations_submission
-- (004) and attestations_submission_id_idx (005).  Every attestation
-- inserted, and every one decided later (a decision changes an indexed
-- column, so the update is never HOT), wrote both.  The one kept serves
-- the receipt's look-up and the purge's foreign-key checks alike
-- (tests/bench/purge.sh drops it by that name to show the purge without it).
DROP INDEX attestd.attestations_submission;

-- A submission row is ~3.4 kB with its certificate chain (~2.3 kB of PEM),
-- over the 2 kB at which PostgreSQL compresses: pglz tried the chain on
-- every file, failed (base64 does not compress by its 25 % rule), then
-- moved it out of line anyway.  Out of line at once: the row's insert
-- takes half the time (75 -> 40 us measured, without its indexes).
ALTER TABLE attestd.submissions ALTER COLUMN chain_pem SET STORAGE EXTERNAL;

-- A receipt (~4.7 kB of signed XML) is compressed (pglz showed in the
-- profiles) and still goes out of line; lz4 does it faster (17 -> 13 us
-- a receipt) and unpacks faster when the receipt is written to the
-- outbox.  New values only; a server built without lz4 keeps pglz.
DO $$
BEGIN
	ALTER TABLE attestd.receipts ALTER COLUMN body SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
	RAISE NOTICE 'no lz4 in this server: receipts stay pglz-compressed';
END
$$;
