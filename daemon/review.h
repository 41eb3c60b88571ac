/*
 * review - the back office's review queue (`attestd review`): the
 * attestations the rules left to a person (an identity that does not match,
 * the centre's conduct of the stage), the evidence behind each, and the
 * operator's accept or reject.  Each action is one transaction: the
 * decision through the pipeline's own deciding path, its history, the
 * centre's new receipt, one audit-log row.  Names are shown here, on the
 * operator's terminal, never logged.
 */
#ifndef ATTESTD_REVIEW_H
#define ATTESTD_REVIEW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "pipeline.h"
#include "report.h"

#define REVIEW_MAX_BY	100		/* bytes of an operator's name */
#define REVIEW_MAX_NOTE	2000		/* bytes of a note */

/* Exit status (interfaces.md): 0; 1 unknown id; 4 database; 5 internal. */
int review_list(const struct config *cfg, enum report_format format, FILE *out);
int review_show(const struct config *cfg, int64_t id, enum report_format format, FILE *out);

/*
 * accept: the rules decide again as if the review checks were cleared;
 * reject: `rejected` with the reasons that sent it to review.  by and note
 * are the operator's name and why.  Exit status: 0 done; 1 unknown id, not
 * in review, or the rules hold it for something else (nothing changed);
 * 3 the receipt signing key cannot be loaded; 4 database; 5 internal.
 */
int review_decide(const struct config *cfg, int64_t id, bool accept, const char *by,
		  const char *note, FILE *out);

/*
 * The action itself, shared by review_decide and the console: one
 * transaction on st (the daemon's role, the store p was made with): the
 * decision through pipeline_review_decide, the audit-log row naming by,
 * COMMIT; run again on a serialization failure or deadlock.  The
 * receipt is queued in the database (receipts.written_at NULL): the
 * caller writes it (pipeline_flush_receipts) or leaves it to the daemon.
 * STORE_INVALID with *err (allocated) as pipeline_review_decide says.
 */
enum store_status review_apply(struct pipeline *p, struct store *st, int64_t id, bool accept,
				const char *by, const char *note, struct pipeline_review *rv,
				char **err);

/* An operator's name or note as the commands take them: not empty, at
 * most max bytes, valid UTF-8 without control characters. */
bool review_text_ok(const char *s, size_t max);

#endif
