/*
 * reconcile - at start-up, once the spool is finished: the file system
 * against the database.  Every archived file has its row and every row its
 * archived file; every quarantined original its rejected submission and
 * back.  Orphans on either side are reported (log, status), never deleted:
 * an operator decides what they are.  A row committed in the last ten
 * minutes is not yet expected to have its file: another instance sharing
 * the database may be archiving it.  Only what changed since the last clean
 * comparison (attestd.reconcile_mark, less a margin) is compared: the
 * archive directories modified since and the rows processed since, so a
 * start costs the work done since, not the archive's size (issue 19); a
 * full comparison is the first start's (no mark yet), or any start after
 * DELETE FROM attestd.reconcile_mark.
 * While in alarm the mark stays, so each start reports again until mended.
 */
#ifndef ATTESTD_RECONCILE_H
#define ATTESTD_RECONCILE_H

#include <stddef.h>

#include "config.h"
#include "reason.h"
#include "store.h"

struct reconcile_report {
	size_t archive_orphans;		/* archived files no row knows */
	size_t archive_missing;		/* rows whose archived file is not there */
	size_t quarantine_orphans;	/* quarantined files of no rejected submission */
	size_t quarantine_missing;	/* rejected submissions without their original */
};

/*
 * A sign of life during a comparison: a full one lists the whole archive,
 * minutes on a slow disk, longer than a service manager's watchdog waits.
 * fn is called after each of the archive's directories ab/ and each page of
 * rows, with where the comparison is ("12 of 256 archive directories").
 */
struct reconcile_alive {
	void (*fn)(const char *where, void *ctx);
	void *ctx;
};

/* REASON_OK with the report filled (and each orphan logged), or the
 * reason the comparison could not be made.  alive may be NULL. */
enum reason reconcile_run(const struct config *cfg, struct store *st,
			  const struct reconcile_alive *alive, struct reconcile_report *rep);

#endif
