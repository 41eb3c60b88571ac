-- 003: indexes for two look-ups of every file's transaction that otherwise
-- read whole tables, a cost that grows with every file ever received:
-- a receipt's number (the receipts already sent under this file name in
-- this inbox) and a receipt's decisions (the attestations of a submission).
CREATE INDEX submissions_inbox_name ON attestd.submissions (inbox_dir, file_name);
CREATE INDEX attestations_submission ON attestd.attestations (submission_id);
