/*
 * pipeline - one file, start to end (design.md "One file's way through"):
 * read, parse and verify, then one database transaction that checks the
 * centre's binding and the duplicates, applies the rules and records
 * everything, then the archive or the quarantine, the receipts, and the
 * spool copy dropped.  A struct pipeline holds what is loaded once (schemas,
 * trust, the receipt signer) and borrows the configuration and the store.
 */
#ifndef ATTESTD_PIPELINE_H
#define ATTESTD_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "document.h"
#include "inbox.h"
#include "metrics.h"
#include "reason.h"
#include "rules.h"
#include "store.h"

struct pipeline;

/* What happened to the files processed so far (for logs and metrics). */
struct pipeline_counts {
	size_t accepted;
	size_t rejected;
	size_t duplicate;
	size_t retried;			/* kept in the spool for a temporary reason */
	size_t busy;			/* left to another instance that had it in hand */
	size_t attestations[5];		/* by enum rules_decision */
	size_t rejected_by[REASON_COUNT];	/* rejected files by their reason */
	struct metrics_histogram processing;	/* seconds, files that reached an outcome */
	time_t last_success;		/* when a file last reached its outcome, 0: none */
};

/* Loads the receipt signer and, with verify, the schemas and trust files
 * (without: a pipeline that only decides and answers, for registry
 * imports).  NULL and *err (allocated) when they cannot be loaded. */
struct pipeline *pipeline_new(const struct config *cfg, struct store *st, bool verify,
			      char **err);
void pipeline_free(struct pipeline *p);

/*
 * Processes one claimed file.  REASON_OK when its outcome is committed
 * and the file has left the spool (to the archive or the quarantine);
 * a temporary reason (database unreachable, CRL stale, disk) when it stays
 * in the spool to be retried; REASON_INTERNAL_ERROR when it stays there
 * for an operator (logged).  REASON_OK too, counted in busy and not
 * logged, when another instance has the claim in hand or has finished it.
 */
enum reason pipeline_process(struct pipeline *p, const struct inbox_claim *claim);

/* Writes every receipt committed but not yet in the outbox. */
enum reason pipeline_flush_receipts(struct pipeline *p);

/* Takes a new configuration (SIGHUP): the trust files and the receipt
 * signer reloaded; on failure the old ones stay and *err says why. */
enum reason pipeline_reload(struct pipeline *p, const struct config *cfg, char **err);

/* Flags the attestations still pending or in review past their
 * registration deadline (rules.md §7). */
enum reason pipeline_sweep(struct pipeline *p);

/*
 * The registry import's hook (struct registry_hook, ctx = the pipeline):
 * re-decides the attestations pending on a licence the import brought,
 * and replays the cached balances of the file's licences, in the import's
 * transaction.  Their receipts are written by pipeline_flush_receipts()
 * once the import has committed.
 */
enum store_status pipeline_registry_changed(void *ctx, struct store *st, const char *cause,
					    const int64_t *stages, size_t n_stages,
					    char *const *licences, size_t n_licences, char **err);

const struct pipeline_counts *pipeline_counts(const struct pipeline *p);

/* What an operator's review action decided. */
struct pipeline_review {
	char approval[DOC_APPROVAL_SIZE];
	char stage_ref[DOC_REF_SIZE];
	char number[DOC_NUMBER_SIZE];
	char licence[DOC_LICENCE_SIZE];
	int64_t submission;		/* the attestations file, which got a new receipt */
	struct rules_outcome outcome;
};

/*
 * An operator's action on attestation id, which must be in `review`
 * (rules.md §1), in the caller's transaction.  accept: the rules decide
 * again with the review checks cleared (rules_context.review_cleared) and
 * the decision is recorded as any other: the stage credit in the ledger,
 * the balance cache and its history (cause "review ID by NAME").  reject:
 * `rejected`, with the reasons that sent it to review.  Both: a decision
 * history row (actor `by`, the note) and a new receipt for the attestations
 * file (written by pipeline_flush_receipts() after the commit).
 * STORE_INVALID with *err when the id is unknown, the attestation is not in
 * review, or the rules now hold it for something else than the review
 * checks; the caller then rolls back.
 */
enum store_status pipeline_review_decide(struct pipeline *p, int64_t id, bool accept,
					 const char *by, const char *note,
					 struct pipeline_review *out, char **err);

#endif
