/*
 * retention - `attestd purge`: the three-year keep of rules.md §7.
 * Attestations (with their decision history), sign-in sheets with their
 * participants' identity data, the submissions and receipts of those files
 * and their archived originals and scans go three years after the stage's
 * last day; a rejected file (it has no stage) three years after its
 * reception, with its quarantined original.  The ledger (licence events:
 * licence, date, points, reference with the centre, stage's first day),
 * the balances and their history, and the audit log stay.
 *
 * Batched deletes, not partitions (make bench-purge: a month of national
 * volume, 1,444 stages and 28,880 attestations, is a few seconds of
 * database time; partitions would have meant reworking 002 for nothing).
 * A batch of at most RETENTION_BATCH stages is one transaction with its own
 * audit-log row, so the daily run is one transaction, and a catch-up after
 * months without a purge several, each complete.
 *
 * Nothing is removed unless everything due is consistent: a database
 * holding timestamps of ours later than now (the clock or the data is
 * wrong) is refused first; then every archived file the run would remove is
 * re-hashed against the database and every quarantined original looked
 * for, and one missing or different file refuses the whole run, listing
 * them.  Files are removed after their rows' commit, from a queue in the
 * database (attestd.purge_files), so a crash in between is finished by the
 * next run; an archived file a new row references again meanwhile is kept.
 * The caller owns the store; an advisory lock keeps two hosts' timers from
 * purging at once.
 */
#ifndef ATTESTD_RETENTION_H
#define ATTESTD_RETENTION_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "store.h"

#define RETENTION_BATCH 2000	/* stages per transaction: about six weeks of national volume */

/*
 * Purges what is due today (the configured time zone, on clock_now()),
 * saying on out what it removed (problems on stderr); with dry_run, what it
 * would remove, checking the same files, and it removes nothing.  Exit
 * status: 0 done (also: nothing due, or another purge running), 1 refused
 * (nothing removed), 4 database unreachable, 5 internal or file-system
 * error (files still queued are removed by the next run).
 */
/* progress: stderr is a terminal (show how far the removal is there). */
int retention_purge(const struct config *cfg, struct store *st, bool dry_run, bool progress,
		    FILE *out);

#endif
