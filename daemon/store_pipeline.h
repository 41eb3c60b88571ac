/*
 * store_pipeline - the SQL of one file's transaction (design.md "One file's
 * way through"): look-ups, locks, and batched inserts.  The pipeline
 * orchestrates; every function here runs inside the caller's transaction
 * (store_begin ... store_commit) and speaks plain C structs.  Statements are
 * prepared once per connection.
 */
#ifndef ATTESTD_STORE_PIPELINE_H
#define ATTESTD_STORE_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "document.h"
#include "ledger.h"
#include "rules.h"
#include "store.h"

enum store_status store_begin(struct store *st, char **err);
/* The same, pipelined: statements whose results the caller does not read
 * go out without a round trip each; a failure shows at the next read or at
 * the commit.  Only the functions of this header may run until then. */
enum store_status store_begin_pipelined(struct store *st, char **err);
enum store_status store_commit(struct store *st, char **err);
void store_abort(struct store *st);
/* In a pipelined transaction, sends what is queued now: the server works
 * on it while the caller goes on (signing a receipt, say). */
void store_push(struct store *st);
/* True when the last error was a serialization failure or a deadlock: the
 * whole transaction is to be run again. */
bool store_should_retry(const struct store *st);

/* A submission already recorded. */
struct store_submission_ref {
	int64_t id;
	char status[16];		/* accepted, rejected, duplicate */
	char kind[16];
	char file_name[256];
	char inbox_dir[256];
	time_t received_at;
	enum reason first_error;	/* rejected: the reason; REASON_OK otherwise */
	char first_message[512];
	int64_t stage_id;		/* 0: none */
	char sha256[DOC_SHA256_HEX_SIZE];	/* "" when never read */
	char approval[DOC_APPROVAL_SIZE];	/* "" when unknown */
};

/* The submission recorded for this spool claim, if any (*found). */
enum store_status store_find_claim(struct store *st, const char *claim_id,
				   struct store_submission_ref *out, bool *found, char **err);
/* The submission of that id. */
enum store_status store_find_submission(struct store *st, int64_t id,
				       struct store_submission_ref *out, bool *found, char **err);
/* The accepted submission with these bytes, if any. */
enum store_status store_find_sha256(struct store *st, const char *sha256,
				    struct store_submission_ref *out, bool *found, char **err);

/* A file's centre as the registry knows it (store_file_lookup). */
struct store_centre {
	bool found;
	bool certificate_registered;
	char departement[DOC_DEPARTEMENT_SIZE];
	date_t valid_from;
	date_t valid_to;		/* DATE_NONE: open-ended */
};

struct store_stage {
	int64_t id;
	char departement[DOC_DEPARTEMENT_SIZE];	/* as first received */
	date_t first_day;
	date_t last_day;
	int64_t sheet_submission;	/* 0: no sign-in sheet yet */
	bool has_attestations;
	/* stage data of the attestations already received (when has_attestations) */
	char att_departement[DOC_DEPARTEMENT_SIZE];
	date_t att_first_day;
	date_t att_last_day;
};
/* Creates the stage if new, then locks it (FOR UPDATE) for the
 * transaction; with sha256, then also looks for an accepted submission of
 * these bytes (*duplicate, *first): one committed while the lock was
 * awaited (several instances). */
enum store_status store_stage_lock(struct store *st, const char *approval,
				   const struct doc_stage *stage, const char *sha256,
				   struct store_stage *out, bool *duplicate,
				   struct store_submission_ref *first, char **err);

/* A stage by id, locked: its approval and ref (buffers of DOC_APPROVAL_SIZE
 * and DOC_REF_SIZE) and its sign-in sheet's submission (0: none). */
enum store_status store_stage_by_id(struct store *st, int64_t id, char *approval, char *ref,
				    int64_t *sheet_submission, bool *found, char **err);

/* What a file's document-level checks read, in one round trip: its
 * centre, an accepted submission of the same bytes, (attestations) the
 * first of its numbers the centre already used, the number its receipt
 * will take (as store_receipt_inputs) and an id for its submission row. */
struct store_file_lookup {
	struct store_centre centre;
	bool duplicate;
	struct store_submission_ref first;	/* when duplicate */
	char taken[DOC_NUMBER_SIZE];		/* "" when none */
	int next_seq;
	int64_t submission_id;			/* for the file's submission row */
};
enum store_status store_file_lookup(struct store *st, const struct document *doc,
				    const char *sha256, const char *inbox_dir,
				    const char *file_name, struct store_file_lookup *out, char **err);


/* The stage's sign-in sheet, rebuilt as a document (no scans). */
enum store_status store_load_sheet(struct store *st, int64_t sheet_submission,
				   const char *approval, const char *ref, struct document **out,
				   char **err);

/* The stage's pending attestations (locked), as one document, with their
 * ids, submissions and reception times. */
struct store_pending {
	struct document *doc;		/* attestations of several files, possibly */
	int64_t *ids;
	int64_t *submissions;
	time_t *received_at;
	date_t *received_on;
	struct rules_reasons *reasons;	/* as recorded: a decision taken again */
	struct rules_reasons *flags;	/* compares with them */
	size_t n;
};
enum store_status store_load_pending(struct store *st, int64_t stage_id, const char *approval,
				     const char *ref, struct store_pending *out, char **err);
void store_pending_clear(struct store_pending *p);

/* The stage of attestation id (*found false: no such attestation). */
enum store_status store_attestation_stage(struct store *st, int64_t id, int64_t *stage_id,
					  bool *found, char **err);
/* Attestation id, locked, whatever its decision, as a store_pending of
 * one (none when gone), with its current decision ("review", ...); the
 * caller has locked its stage (approval, ref) first, as every transaction does. */
enum store_status store_load_attestation(struct store *st, int64_t id, const char *approval,
					 const char *ref, struct store_pending *out,
					 char decision[static 16], char **err);

/* The registry's view of some licences, locked in licence order. */
struct store_licence {
	char licence[DOC_LICENCE_SIZE];
	bool found;
	char surname[DOC_NAME_SIZE];
	char given_names[DOC_NAME_SIZE];
	date_t birth_date;
	struct ledger_licence ledger;
	struct ledger_event *events;	/* owned, refs owned too */
	size_t n_events;
	date_t *credited_last_days;	/* owned */
	size_t n_credited;
	bool has_cache;			/* a licence_balances row exists */
	int cached_balance;		/* LEDGER_NO_BALANCE when none */
};
struct store_licences {
	struct store_licence *items;	/* sorted by licence */
	size_t n;
};
enum store_status store_load_licences(struct store *st, const char *const *licences, size_t n,
				      struct store_licences *out, char **err);
struct store_licence *store_licences_find(struct store_licences *set, const char *licence);
void store_licences_clear(struct store_licences *set);

/* Facilitator registry records of the given authorisations.  Strings in
 * *out point into *storage (free both with free()). */
enum store_status store_load_facilitators(struct store *st, const char *const *auths, size_t n,
					  struct rules_facilitator **out, size_t *n_out,
					  char **storage, char **err);
/* Both in one round trip: the facilitators of a sign-in sheet and its
 * stage's pending attestations, locked (as store_load_pending). */
enum store_status store_sheet_context(struct store *st, const char *const *auths, size_t n,
				      int64_t stage_id, const char *approval, const char *ref,
				      struct rules_facilitator **regs, size_t *n_regs,
				      char **storage, struct store_pending *pending, char **err);

/* What the submissions row records. */
struct store_submission {
	const char *claim_id;
	const char *inbox_dir;
	const char *file_name;
	const char *sha256;		/* NULL: never read */
	int64_t size;			/* -1: never read */
	const char *kind;
	const char *approval;		/* NULL: unknown */
	int64_t stage_id;		/* 0: none */
	struct timespec received_at;
	const char *status;
	size_t n_errors;
	const enum reason *errors;
	const char *const *error_messages;
	int64_t duplicate_of;		/* 0: none */
	const struct parse_evidence *evidence;	/* NULL: none */
};
/* An id for a submission row (one read; store_file_lookup gives one too). */
enum store_status store_next_submission_id(struct store *st, int64_t *id, char **err);
/* The row, under that id (sent without waiting in a pipelined transaction). */
enum store_status store_insert_submission(struct store *st, const struct store_submission *s,
					  int64_t id, char **err);

enum store_status store_insert_sheet(struct store *st, int64_t submission, int64_t stage_id,
				     const struct document *sheet, char **err);
enum store_status store_set_stage_findings(struct store *st, int64_t stage_id,
					   const struct rules_reasons *findings, char **err);

/* One attestation's decision, to insert or update. */
struct store_decision {
	int64_t id;			/* update: the attestation; insert: unused */
	const struct doc_attestation *att;	/* insert only */
	struct rules_outcome outcome;
};
/* The document's attestations with their decisions, and each one's first
 * history row (actor, cause). */
enum store_status store_insert_attestations(struct store *st, int64_t submission,
					    int64_t stage_id, const char *approval,
					    const struct document *doc, struct timespec received_at,
					    date_t received_on, date_t today,
					    const struct store_decision *decisions, const char *actor,
					    const char *cause, char **err);
/* The decisions, and a history row for each (actor, cause, the operator's
 * note or NULL), in one statement. */
enum store_status store_update_decisions(struct store *st, const struct store_decision *d,
					 size_t n, date_t today, const char *actor,
					 const char *cause, const char *note, char **err);

/* A stage credit to append to the ledger. */
struct store_credit {
	const char *licence;
	char ref[RULES_REF_SIZE];
	date_t effective;
	date_t stage_first_day;
};
enum store_status store_insert_credits(struct store *st, const struct store_credit *c, size_t n,
				       char **err);

/* A licence's replayed balance, cached, and its history row when it changed. */
struct store_balance {
	const char *licence;
	int old_balance;		/* LEDGER_NO_BALANCE when none */
	int new_balance;
	int ceiling;
	date_t last_credit_stage_last_day;
	bool changed;
};
enum store_status store_write_balances(struct store *st, const struct store_balance *b, size_t n,
				       const char *cause, char **err);

/* The current decisions of a submission's attestations, for its receipt. */
struct store_receipt_row {
	char number[DOC_NUMBER_SIZE];
	char licence[DOC_LICENCE_SIZE];
	char decision[16];
	int points;
	date_t effective;
	date_t previous_credit_last_day;
	date_t stage_last_day;		/* L, to say whether that stage came before or after */
	size_t n_reasons;
	enum reason reasons[RULES_MAX_REASONS];
	size_t n_flags;
	enum reason flags[RULES_MAX_REASONS];
};
/* What a receipt for a file needs, in one round trip: the current
 * decisions of submission's attestations (none when submission is 0) and
 * the next receipt number for its name in its inbox directory (numbered
 * per name: a file sent again under the same name gets the next number). */
enum store_status store_receipt_inputs(struct store *st, int64_t submission,
				       const char *inbox_dir, const char *file_name,
				       struct store_receipt_row **rows, size_t *n, int *seq,
				       char **err);
/* The stage findings recorded for a stage. */
enum store_status store_stage_findings(struct store *st, int64_t stage_id,
				       struct rules_reasons *out, bool *known, char **err);

/* A receipt (its path is unique: a race gives 23505, retried). */
enum store_status store_insert_receipt(struct store *st, int64_t submission, int seq,
				       const char *path, const unsigned char *body, size_t len,
				       char **err);

struct store_receipt_file {
	int64_t submission;
	int seq;
	char *path;			/* owned, relative to the outbox */
	unsigned char *body;		/* owned */
	size_t len;
};
/* Receipts committed but not yet written to the outbox (all of them). */
enum store_status store_unwritten_receipts(struct store *st, struct store_receipt_file **out,
					   size_t *n, char **err);
enum store_status store_mark_receipt_written(struct store *st, int64_t submission, int seq,
					     char **err);
void store_receipt_files_free(struct store_receipt_file *f, size_t n);

/* One audit-log row (audit.append), last statement before COMMIT. */
enum store_status store_audit(struct store *st, const char *actor, const char *action,
			      const char *subject, const char *detail, char **err);

/* Flags registration_overdue on the attestations still pending or in
 * review after their deadline (rules.md §7); *flagged counts them. */
enum store_status store_flag_overdue(struct store *st, date_t today, long *flagged, char **err);

/* The licence numbers of pending licence_unknown attestations among these
 * licences, with their stages (registry import re-decisions). */
enum store_status store_stages_pending_on(struct store *st, const char *const *licences,
					  size_t n, int64_t **stage_ids, size_t *n_stages,
					  char **err);

#endif
