/*
 * store_retention - the SQL of the retention purge (retention.h): what is
 * due, the archived files only those rows reference, the deletions, and
 * the queue of files to remove once a deletion is committed.  Functions
 * run in the caller's transaction (store_begin ... store_commit) unless
 * they say otherwise.
 */
#ifndef ATTESTD_STORE_RETENTION_H
#define ATTESTD_STORE_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store.h"

/* One purge batch: stages and stage-less rejected submissions that are
 * due, with every submission that goes with them. */
struct store_purge_batch {
	int64_t *stages;
	size_t n_stages;
	int64_t *rejected;		/* rejected submissions without a stage */
	size_t n_rejected;
	int64_t *submissions;		/* of the stages (duplicates included) and the rejected */
	size_t n_submissions;
	/* where the next batch starts (keyset: a batch never sees one twice) */
	char stage_after_day[11];
	int64_t stage_after_id;
	char rejected_after[64];
	int64_t rejected_after_id;
};

void store_purge_batch_init(struct store_purge_batch *b);
void store_purge_batch_clear(struct store_purge_batch *b);

/* Session-wide: one purge at a time on a database.  *got false when
 * another session holds it. */
enum store_status store_purge_lock(struct store *st, bool *got, char **err);

/* The latest of the database's own timestamps (reception, processing,
 * decision, audit log) when it is after limit: *found (allocated) names it,
 * NULL when none is. */
enum store_status store_purge_future(struct store *st, time_t limit, char **found, char **err);

/*
 * The next batch, after b's keyset positions: up to max stages whose last
 * day (and their attestations' and sheet's) is more than three years
 * before today, oldest first, and up to max rejected submissions without a
 * stage received (local date in timezone) more than three years before
 * today.  With lock, the rows are locked (FOR UPDATE) for the transaction.
 * The previous contents of b are replaced.
 */
enum store_status store_purge_next(struct store *st, const char *today, const char *timezone,
				   size_t max, bool lock, struct store_purge_batch *b, char **err);

/* A quarantined original of the batch. */
struct store_purge_rejected {
	char inbox_dir[256];
	char claim_id[64];
	char file_name[256];
	char sha256[65];		/* "" when the file was never read */
};

/*
 * What the batch's rows leave to remove: the archived hashes (originals and
 * identity scans) that no row outside the batch references, sorted, and
 * the rejected submissions' quarantined originals.  The caller frees each
 * hash, the arrays.
 */
enum store_status store_purge_files(struct store *st, const struct store_purge_batch *b,
				    char ***hashes, size_t *n_hashes,
				    struct store_purge_rejected **rejected, size_t *n_rejected,
				    char **err);

/* Rows of a batch, per table. */
struct store_purge_counts {
	long stages;
	long submissions;
	long attestations;
	long decisions;			/* decision_history rows */
	long sheets;
	long participants;
	long receipts;
	long rejected;			/* stage-less rejected submissions (in submissions) */
};

/* Deletes the batch's rows (count_only: counts them, deletes nothing),
 * adding the counts to *c. */
enum store_status store_purge_rows(struct store *st, const struct store_purge_batch *b,
				   bool count_only, struct store_purge_counts *c, char **err);

/* The queue of files to remove (attestd.purge_files): area is "archive"
 * (name a SHA-256) or "quarantine" (name <dir>/<file>). */
struct store_purge_file {
	char area[16];
	char name[600];
};
enum store_status store_purge_queue(struct store *st, const struct store_purge_file *files,
				    size_t n, char **err);
/* Everything queued (outside a transaction too); the caller frees *files. */
enum store_status store_purge_queued(struct store *st, struct store_purge_file **files,
				     size_t *n, char **err);
enum store_status store_purge_dequeue(struct store *st, const struct store_purge_file *files,
				      size_t n, char **err);

/* For each hash, whether an accepted submission or an identity document
 * references it now (out[i]). */
enum store_status store_hashes_referenced(struct store *st, char *const *hashes, size_t n,
					  bool *out, char **err);

#endif
