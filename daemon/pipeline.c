/*
 * pipeline - one file, start to end.  See pipeline.h.
 *
 * The order of the checks is that of rules.md §2: what the parsers can say
 * (name, size, XML, signature profile, schema, signature, certificate),
 * then, inside the transaction, the centre and its certificate, the inbox,
 * the approval's dates, the département, and the duplicate checks.  A
 * document-level failure commits a 'rejected' submission row with its
 * reason and a receipt, and sends the original to quarantine; nothing else
 * of it is stored.
 *
 * Crash safety: the submission row (unique claim id) is the commit point.
 * Everything after it (archive, receipts, dropping the spool copy) is
 * idempotent and is done again, from the database's word, when the spool
 * still holds the file at start-up.
 *
 * Several instances: whoever processes a claim holds flock(2) on its spool
 * file, so that another instance's pass over the spool leaves it alone
 * while its owner lives (the kernel drops the lock when it dies); should
 * two ever get into the transaction with one claim, the unique claim id
 * lets one commit and the other step aside.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive.h"
#include "clock.h"
#include "crashpoint.h"
#include "fsutil.h"
#include "log.h"
#include "parsers.h"
#include "pipeline.h"
#include "outbox.h"
#include "rules.h"
#include "store_pipeline.h"
#include "xmalloc.h"

#define PIPELINE_MAX_TRIES 5
/* Receipt names found taken in the outbox before giving up (the write then
 * fails and says so). */
#define RECEIPT_MAX_SKIPPED 1000
#define DATE_END_OF_TIME 2932896	/* 9999-12-31: "after every known event" */

struct pipeline {
	const struct config *cfg;
	struct store *st;
	struct parsers *parsers;
	struct sig_signer *signer;	/* NULL: receipts unsigned */
	struct pipeline_counts counts;
	/* The receipts of the transaction in hand: once it commits, written
	 * from memory (the database holds them too, for a crash before). */
	struct store_receipt_file *fresh;
	size_t n_fresh, cap_fresh;
	/* Receipts written but not yet marked so in the database: sent with
	 * the next transaction, or by pipeline_flush_receipts.  A crash
	 * before only makes the next start write them again, identically. */
	struct receipt_mark {
		int64_t submission;
		int seq;
	} *marks;
	size_t n_marks, cap_marks;
};

/* One file's state while it goes through. */
struct job {
	const struct inbox_claim *claim;
	struct timespec received;	/* on the (possibly shifted) clock */
	date_t received_on;
	date_t today;
	time_t processed;
	unsigned char *bytes;
	size_t len;
	char sha256[DOC_SHA256_HEX_SIZE];	/* "" when never read */
	int kind;			/* enum doc_kind, or -1 */
	struct document *doc;
	struct parse_evidence evidence;
	/* a document-level rejection */
	enum reason reject;
	int reject_line;
	char reject_message[512];
	/* outcome of the transaction */
	int64_t submission;
	const char *status;
	int64_t duplicate_of;
	size_t decided[5];
	/* an operator's accept: the rules decide with the review checks cleared */
	bool review_cleared;
	/* the first error message as the submission row records it */
	char recorded_message[512];
	/* known from the look-ups: its receipt's number (0: to be read) */
	int receipt_seq;
};

static const char *kind_name(int kind)
{
	return kind == DOC_ATTESTATIONS ? "attestations"
	       : kind == DOC_SIGNIN_SHEET ? "signin-sheet" : "unknown";
}

static void job_reject(struct job *job, enum reason r, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void job_reject(struct job *job, enum reason r, int line, const char *fmt, ...)
{
	job->reject = r;
	job->reject_line = line;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(job->reject_message, sizeof(job->reject_message), fmt, ap);
	va_end(ap);
}

struct pipeline *pipeline_new(const struct config *cfg, struct store *st, bool verify,
			      char **err)
{
	struct parse_error perr;
	struct pipeline *p = xcalloc(1, sizeof(*p));
	p->cfg = cfg;
	p->st = st;
	if (parsers_global_init(&perr) != REASON_OK) {
		*err = xasprintf("cannot initialise the XML libraries: %s", perr.message);
		free(p);
		return NULL;
	}
	struct parsers_limits limits = { .max_file_size = cfg->max_file_size };
	if (verify)
		p->parsers = parsers_new(cfg->centres_ca, cfg->crl, &limits, &perr);
	if (verify && p->parsers == NULL) {
		*err = xasprintf("%s: %s (check [trust] in %s)", reason_code(perr.reason),
				 perr.message, cfg->path);
		goto fail;
	}
	if (cfg->receipt_key && cfg->receipt_cert) {
		p->signer = receipt_signer_load(cfg->receipt_key, cfg->receipt_cert, &perr);
		if (p->signer == NULL) {
			*err = xasprintf("receipt signing key: %s (check [trust] receipt_key and "
					 "receipt_cert in %s)", perr.message, cfg->path);
			goto fail;
		}
	}
	return p;
fail:
	pipeline_free(p);
	return NULL;
}

void pipeline_free(struct pipeline *p)
{
	if (p == NULL)
		return;
	parsers_free(p->parsers);
	receipt_signer_free(p->signer);
	store_receipt_files_free(p->fresh, p->n_fresh);
	free(p->marks);
	free(p);
	parsers_global_shutdown();
}

const struct pipeline_counts *pipeline_counts(const struct pipeline *p)
{
	return &p->counts;
}

/* --- receipts ------------------------------------------------------------------ */

/* The message of an attestation's reason on a receipt ("" = the code's own). */
static void attestation_reason_message(enum reason code, date_t previous, date_t stage_last,
				       char *buf, size_t size)
{
	buf[0] = '\0';
	if (code == REASON_WITHIN_ONE_YEAR && previous != DATE_NONE) {
		char day[11];
		date_format(previous, day);
		/* rules.md §5.4 looks both ways: a later stage credited first
		 * is named as such, so the centre sees why. */
		if (stage_last == DATE_NONE || previous < date_add_days(stage_last, -1))
			snprintf(buf, size, "last point-granting stage ended %s", day);
		else
			snprintf(buf, size, "a point-granting stage ending %s, less than a year from "
				 "this one, was credited first", day);
	}
}

struct receipt_input {
	int64_t submission;		/* the receipt's own submission */
	const char *inbox_dir;
	const char *file_name;
	const char *sha256;
	const char *kind;
	time_t received;
	const char *status;
	const struct receipt_message *errors;
	size_t n_errors;
	const struct rules_reasons *findings;
	int64_t decisions_of;		/* submission whose attestations are listed, 0: none */
	const char *first_file;
	time_t first_received;
	/* Known already (no read): the receipt's number (0: unknown) and,
	 * with decisions_of, its lines (rows not NULL). */
	int seq;
	const struct store_receipt_row *rows;
	size_t n_rows;
};

/* A receipt line for a decision just taken, as the database would give
 * it back (store_receipt_inputs). */
static void receipt_line(const struct doc_attestation *a, const struct rules_outcome *o,
			 struct store_receipt_row *row)
{
	snprintf(row->number, sizeof(row->number), "%s", a->number);
	snprintf(row->licence, sizeof(row->licence), "%s", a->trainee.licence);
	snprintf(row->decision, sizeof(row->decision), "%s", rules_decision_name(o->decision));
	row->points = o->points;
	row->effective = o->decision == RULES_CREDITED ? o->effective : DATE_NONE;
	row->previous_credit_last_day = rules_reasons_has(&o->reasons, REASON_WITHIN_ONE_YEAR)
					? o->previous_credit_last_day : DATE_NONE;
	row->stage_last_day = date_add_days(o->effective, -1);
	row->n_reasons = o->reasons.n < RULES_MAX_REASONS ? o->reasons.n : RULES_MAX_REASONS;
	memcpy(row->reasons, o->reasons.codes, row->n_reasons * sizeof(*row->reasons));
	row->n_flags = o->flags.n < RULES_MAX_REASONS ? o->flags.n : RULES_MAX_REASONS;
	memcpy(row->flags, o->flags.codes, row->n_flags * sizeof(*row->flags));
}

/* Builds, signs and records a receipt, in the current transaction. */
static enum store_status receipt_record(struct pipeline *p, const struct receipt_input *in,
					time_t processed, char **err)
{
	struct store_receipt_row *rows = NULL;
	size_t n_rows = 0;
	struct receipt_attestation *atts = NULL;
	struct receipt_message *findings = NULL;
	unsigned char *xml = NULL;
	size_t len = 0;
	char *path = NULL;
	enum store_status rc = STORE_OK;

	int seq = in->seq;
	const struct store_receipt_row *lines = in->rows;
	size_t n_lines = in->n_rows;
	if (seq == 0 || (in->decisions_of && lines == NULL)) {
		rc = store_receipt_inputs(p->st, lines ? 0 : in->decisions_of, in->inbox_dir,
					  in->file_name, &rows, &n_rows, &seq, err);
		if (rc != STORE_OK)
			goto out;
		if (lines == NULL) {
			lines = rows;
			n_lines = n_rows;
		}
	}
	/* Not zeroed: a line is 12 KiB of room for 24 reasons, 240 KiB for a
	 * receipt of 20 that uses a few hundred bytes (issue 14); every field
	 * receipt_build reads is set below, the reasons and flags up to their
	 * counts. */
	atts = xreallocarray(NULL, n_lines ? n_lines : 1, sizeof(*atts));
	for (size_t i = 0; i < n_lines; i++) {
		struct receipt_attestation *a = &atts[i];
		a->n_reasons = 0;
		a->n_flags = 0;
		snprintf(a->number, sizeof(a->number), "%s", lines[i].number);
		snprintf(a->licence, sizeof(a->licence), "%s", lines[i].licence);
		a->decision = lines[i].decision;
		a->points = lines[i].points;
		a->effective = lines[i].effective;
		for (size_t k = 0; k < lines[i].n_reasons && k < RECEIPT_MAX_REASONS; k++) {
			a->reasons[k].code = lines[i].reasons[k];
			attestation_reason_message(lines[i].reasons[k], lines[i].previous_credit_last_day,
						   lines[i].stage_last_day,
						   a->reasons[k].message, sizeof(a->reasons[k].message));
			a->n_reasons++;
		}
		for (size_t k = 0; k < lines[i].n_flags && k < RECEIPT_MAX_FLAGS; k++)
			a->flags[a->n_flags++] = lines[i].flags[k];
	}
	size_t n_findings = in->findings ? in->findings->n : 0;
	findings = xcalloc(n_findings ? n_findings : 1, sizeof(*findings));
	for (size_t i = 0; i < n_findings; i++)
		findings[i].code = in->findings->codes[i];

	struct receipt r = {
		.file_name = in->file_name,
		.kind = in->kind,
		.received = in->received,
		.processed = processed,
		.timezone = p->cfg->timezone,
		.status = in->status,
		.first_file = in->first_file,
		.first_received = in->first_received,
		.n_errors = in->n_errors,
		.errors = in->errors,
		.n_findings = n_findings,
		.findings = findings,
		.n_attestations = n_lines,
		.attestations = atts,
	};
	/* A file never read has no hash: the receipt shows the empty file's. */
	if (in->sha256 && in->sha256[0])
		snprintf(r.sha256, sizeof(r.sha256), "%s", in->sha256);
	else
		archive_sha256_hex("", 0, r.sha256);
	struct parse_error perr;
	if (receipt_build(&r, p->signer, &xml, &len, &perr) != REASON_OK) {
		*err = xasprintf("cannot build the receipt: %s", perr.message);
		rc = STORE_ERROR;
		goto out;
	}
	/* A name the database no longer knows (a purged submission's
	 * receipt, still in the outbox) is passed over, not overwritten. */
	for (int skipped = 0;; skipped++, seq++) {
		if (outbox_relpath(in->inbox_dir, in->file_name, (unsigned)seq, &path) != REASON_OK) {
			*err = xasprintf("no receipt path for %s/%s", in->inbox_dir, in->file_name);
			rc = STORE_ERROR;
			goto out;
		}
		if (skipped == RECEIPT_MAX_SKIPPED || !outbox_taken(p->cfg->outbox, path))
			break;
		free(path);
		path = NULL;
	}
	rc = store_insert_receipt(p->st, in->submission, seq, path, xml, len, err);
	if (rc == STORE_OK) {
		if (p->n_fresh == p->cap_fresh) {
			p->cap_fresh = p->cap_fresh ? 2 * p->cap_fresh : 8;
			p->fresh = xreallocarray(p->fresh, p->cap_fresh, sizeof(*p->fresh));
		}
		p->fresh[p->n_fresh++] = (struct store_receipt_file){
			.submission = in->submission, .seq = seq, .path = path, .body = xml,
			.len = len,
		};
		path = NULL;
		xml = NULL;
	}
out:
	free(rows);
	free(atts);
	free(findings);
	free(xml);
	free(path);
	return rc;
}

/* --- deciding attestations ----------------------------------------------------- */

/* Appends a credit to a licence's in-memory events, so that a second
 * attestation of the same licence in the batch sees it. */
static void licence_add_credit(struct store_licence *l, const struct store_credit *c,
			       date_t last_day)
{
	l->events = xreallocarray(l->events, l->n_events + 1, sizeof(*l->events));
	l->events[l->n_events++] = (struct ledger_event){
		.effective = c->effective,
		.kind = LEDGER_STAGE_CREDIT,
		.points = LEDGER_STAGE_POINTS,
		.stage_first_day = c->stage_first_day,
		.ref = xstrdup(c->ref),
	};
	l->credited_last_days = xreallocarray(l->credited_last_days, l->n_credited + 1,
					      sizeof(date_t));
	l->credited_last_days[l->n_credited++] = last_day;
}

static int licence_final_balance(const struct store_licence *l)
{
	struct ledger_timeline tl;
	ledger_replay(&l->ledger, l->events, l->n_events, &tl);
	int b = ledger_timeline_balance_at(&tl, DATE_END_OF_TIME);
	ledger_timeline_free(&tl);
	return b;
}

static date_t licence_last_credit_day(const struct store_licence *l)
{
	date_t last = DATE_NONE;
	for (size_t i = 0; i < l->n_credited; i++)
		if (last == DATE_NONE || l->credited_last_days[i] > last)
			last = l->credited_last_days[i];
	for (size_t i = 0; i < l->n_events; i++)
		if (l->events[i].kind == LEDGER_STAGE_CREDIT &&
		    (last == DATE_NONE || l->events[i].effective - 1 > last))
			last = l->events[i].effective - 1;
	return last;
}

/*
 * Decides every attestation of att (a file, or the pending ones of a
 * stage) and records what follows: stage credits in the ledger, cached
 * balances and their history.  d[i].id must be set for an update; the
 * outcomes are left in d[].
 */
static enum store_status decide_all(struct pipeline *p, struct job *job,
				    const struct document *att, const struct document *sheet,
				    const struct rules_reasons *findings, const date_t *received_on,
				    struct store_decision *d, const char *cause, char **err)
{
	size_t n = att->n_attestations;
	const char **numbers = xcalloc(n ? n : 1, sizeof(*numbers));
	struct store_credit *credits = xcalloc(n ? n : 1, sizeof(*credits));
	struct store_balance *balances = NULL;
	int *before = NULL;
	size_t n_credits = 0;
	struct store_licences lics = { 0 };

	for (size_t i = 0; i < n; i++)
		numbers[i] = att->attestations[i].trainee.licence;
	enum store_status rc = store_load_licences(p->st, numbers, n, &lics, err);
	if (rc != STORE_OK)
		goto out;
	before = xcalloc(lics.n ? lics.n : 1, sizeof(*before));
	for (size_t k = 0; k < lics.n; k++)
		before[k] = lics.items[k].found ? licence_final_balance(&lics.items[k])
						: LEDGER_NO_BALANCE;

	for (size_t i = 0; i < n; i++) {
		const struct doc_attestation *a = &att->attestations[i];
		struct store_licence *l = store_licences_find(&lics, a->trainee.licence);
		struct rules_licence rl;
		const struct rules_licence *rlp = NULL;
		if (l && l->found) {
			rl = (struct rules_licence){
				.surname = l->surname,
				.given_names = l->given_names,
				.birth_date = l->birth_date,
				.ledger = l->ledger,
				.events = l->events,
				.n_events = l->n_events,
				.credited_last_days = l->credited_last_days,
				.n_credited = l->n_credited,
			};
			rlp = &rl;
		}
		struct rules_context ctx = {
			.received = received_on[i],
			.today = job->today,
			.late_tolerance_min = (int)p->cfg->late_arrival_tolerance_min,
			.review_cleared = job->review_cleared,
		};
		if (rules_decide(att, i, sheet, findings, rlp, &ctx, &d[i].outcome) != REASON_OK) {
			*err = xasprintf("the rules refused attestation %s", a->number);
			rc = STORE_ERROR;
			goto out;
		}
		job->decided[d[i].outcome.decision]++;
		if (d[i].outcome.has_credit && l) {
			struct store_credit *c = &credits[n_credits++];
			c->licence = l->licence;
			rules_credit_ref(att->approval, a->number, c->ref);
			c->effective = d[i].outcome.credit.effective;
			c->stage_first_day = d[i].outcome.credit.stage_first_day;
			licence_add_credit(l, c, att->stage.last_day);
		}
	}
	if ((rc = store_insert_credits(p->st, credits, n_credits, err)) != STORE_OK)
		goto out;

	/* The cache of every licence involved that has a balance, with a
	 * history row where this batch changed it. */
	balances = xcalloc(lics.n ? lics.n : 1, sizeof(*balances));
	size_t nb = 0;
	for (size_t k = 0; k < lics.n; k++) {
		struct store_licence *l = &lics.items[k];
		if (!l->found || !ledger_has_grant(l->events, l->n_events))
			continue;
		int after = licence_final_balance(l);
		balances[nb++] = (struct store_balance){
			.licence = l->licence,
			.old_balance = l->has_cache ? l->cached_balance : before[k],
			.new_balance = after,
			.ceiling = ledger_ceiling_at(&l->ledger, l->events, l->n_events, job->today),
			.last_credit_stage_last_day = licence_last_credit_day(l),
			.changed = after != before[k] || (l->has_cache && after != l->cached_balance),
		};
	}
	rc = store_write_balances(p->st, balances, nb, cause, err);
out:
	store_licences_clear(&lics);
	free(numbers);
	free(credits);
	free(balances);
	free(before);
	return rc;
}

static enum store_status facilitators_of(struct pipeline *p, const struct document *sheet,
					 struct rules_facilitator **regs, size_t *n, char **storage,
					 char **err)
{
	const char *auths[2] = { sheet->sheet.facilitators[0].authorisation,
				 sheet->sheet.facilitators[1].authorisation };
	return store_load_facilitators(p->st, auths, 2, regs, n, storage, err);
}

/* --- the transaction ------------------------------------------------------------- */

/* The document-level checks that need the registries (rules.md §2). */
static void check_binding(struct pipeline *p, struct job *job, const struct store_centre *centre)
{
	const struct document *doc = job->doc;
	char first[11], last[11];
	date_format(doc->stage.first_day, first);
	date_format(doc->stage.last_day, last);
	if (!centre->found)
		job_reject(job, REASON_CENTRE_UNKNOWN, 0, "centre %s is not in the registry",
			   doc->approval);
	else if (!centre->certificate_registered)
		job_reject(job, REASON_CERT_NOT_REGISTERED, 0, "certificate sha256:%s is not "
			   "registered for centre %s", doc->signer_sha256, doc->approval);
	else if (strcmp(job->claim->dir, doc->approval) != 0)
		job_reject(job, REASON_WRONG_INBOX, 0, "the file names centre %s but was dropped "
			   "in the inbox of %s", doc->approval, job->claim->dir);
	else if (doc->stage.first_day < centre->valid_from ||
		 (centre->valid_to != DATE_NONE && doc->stage.last_day > centre->valid_to))
		job_reject(job, REASON_APPROVAL_INVALID, 0, "approval %s is not valid on the "
			   "stage days %s and %s", doc->approval, first, last);
	else if (!config_serves(p->cfg, doc->stage.departement) ||
		 strcmp(centre->departement, doc->stage.departement) != 0)
		job_reject(job, REASON_WRONG_DEPARTEMENT, 0, "the stage is in departement %s; "
			   "this prefecture serves the approval's departement %s only",
			   doc->stage.departement, centre->departement);
}

static bool same_stage_data(const char *dep, date_t first, date_t last,
			    const struct doc_stage *s)
{
	return strcmp(dep, s->departement) == 0 && first == s->first_day && last == s->last_day;
}

static enum store_status record_submission(struct pipeline *p, struct job *job,
					   int64_t stage_id, char **err)
{
	static const enum reason duplicate = REASON_DUPLICATE_FILE;
	const char *message = job->duplicate_of ? reason_text(duplicate) : job->reject_message;
	char *with_line = NULL;
	if (job->reject != REASON_OK && job->reject_line > 0)
		message = with_line = xasprintf("line %d: %s", job->reject_line, job->reject_message);
	snprintf(job->recorded_message, sizeof(job->recorded_message), "%s",
		 job->status && strcmp(job->status, "accepted") != 0 ? message : "");
	struct store_submission s = {
		.claim_id = job->claim->claim_id,
		.inbox_dir = job->claim->dir,
		.file_name = job->claim->name,
		.sha256 = job->sha256[0] ? job->sha256 : NULL,
		.size = job->bytes ? (int64_t)job->len : -1,
		.kind = kind_name(job->kind),
		.approval = job->doc ? job->doc->approval : NULL,
		.stage_id = stage_id,
		.received_at = job->received,
		.status = job->status,
		.n_errors = job->reject != REASON_OK || job->duplicate_of,
		.errors = job->duplicate_of ? &duplicate : &job->reject,
		.error_messages = &message,
		.duplicate_of = job->duplicate_of,
		.evidence = job->doc ? &job->evidence : NULL,
	};
	enum store_status rc = STORE_OK;
	if (job->submission == 0)
		rc = store_next_submission_id(p->st, &job->submission, err);
	if (rc == STORE_OK)
		rc = store_insert_submission(p->st, &s, job->submission, err);
	free(with_line);
	return rc;
}

static enum store_status audit_file(struct pipeline *p, struct job *job, char **err)
{
	char subject[48];
	snprintf(subject, sizeof(subject), "submission %" PRId64, job->submission);
	char *action = xasprintf("file.%s", job->status);
	char *detail = xasprintf("file=%s inbox=%s sha256=%s kind=%s reason=%s credited=%zu "
				 "no_credit=%zu rejected=%zu pending=%zu review=%zu",
				 job->claim->name, job->claim->dir, job->sha256[0] ? job->sha256 : "-",
				 kind_name(job->kind), reason_code(job->reject),
				 job->decided[RULES_CREDITED], job->decided[RULES_NO_CREDIT],
				 job->decided[RULES_REJECTED], job->decided[RULES_PENDING],
				 job->decided[RULES_REVIEW]);
	enum store_status rc = store_audit(p->st, "attestd", action, subject, detail, err);
	free(action);
	free(detail);
	return rc;
}

static enum store_status transact_rejected(struct pipeline *p, struct job *job, char **err)
{
	job->status = "rejected";
	enum store_status rc = record_submission(p, job, 0, err);
	if (rc != STORE_OK)
		return rc;
	struct receipt_message e = { .code = job->reject };
	if (job->reject_line > 0)
		snprintf(e.message, sizeof(e.message), "line %d: %.480s", job->reject_line,
			 job->reject_message);
	else
		snprintf(e.message, sizeof(e.message), "%s", job->reject_message);
	struct receipt_input in = {
		.submission = job->submission, .inbox_dir = job->claim->dir,
		.file_name = job->claim->name, .sha256 = job->sha256, .kind = kind_name(job->kind),
		.received = job->received.tv_sec, .status = "rejected", .errors = &e, .n_errors = 1,
		.seq = job->receipt_seq,
	};
	if ((rc = receipt_record(p, &in, job->processed, err)) != STORE_OK)
		return rc;
	return audit_file(p, job, err);
}

static enum store_status transact_duplicate(struct pipeline *p, struct job *job,
					    const struct store_submission_ref *first, char **err)
{
	job->status = "duplicate";
	job->duplicate_of = first->id;
	enum store_status rc = record_submission(p, job, first->stage_id, err);
	if (rc != STORE_OK)
		return rc;
	struct receipt_input in = {
		.submission = job->submission, .inbox_dir = job->claim->dir,
		.file_name = job->claim->name, .sha256 = job->sha256, .kind = kind_name(job->kind),
		.received = job->received.tv_sec, .status = "duplicate",
		.decisions_of = strcmp(first->kind, "attestations") == 0 ? first->id : 0,
		.first_file = first->file_name, .first_received = first->received_at,
		.seq = job->receipt_seq,
	};
	if ((rc = receipt_record(p, &in, job->processed, err)) != STORE_OK)
		return rc;
	return audit_file(p, job, err);
}

/* New receipts for the attestations files whose decisions a sign-in sheet
 * (or a registry import) settled. */
static enum store_status receipts_for_submissions(struct pipeline *p, const int64_t *subs,
						  size_t n, time_t processed,
						  const struct inbox_claim *claim, bool *same_name,
						  char **err)
{
	/* (claim, same_name): whether one of them has the claim's name. */
	if (same_name)
		*same_name = false;
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		for (size_t k = 0; k < i; k++)
			seen |= subs[k] == subs[i];
		if (seen)
			continue;
		struct store_submission_ref ref;
		bool found;
		enum store_status rc = store_find_submission(p->st, subs[i], &ref, &found, err);
		if (rc != STORE_OK)
			return rc;
		if (!found)
			continue;
		if (claim && same_name)
			*same_name |= strcmp(ref.inbox_dir, claim->dir) == 0 &&
				      strcmp(ref.file_name, claim->name) == 0;
		struct receipt_input in = {
			.submission = ref.id, .inbox_dir = ref.inbox_dir, .file_name = ref.file_name,
			.sha256 = ref.sha256, .kind = ref.kind, .received = ref.received_at,
			.status = "accepted", .decisions_of = ref.id,
		};
		if ((rc = receipt_record(p, &in, processed, err)) != STORE_OK)
			return rc;
	}
	return STORE_OK;
}

static enum store_status transact_sheet(struct pipeline *p, struct job *job,
					const struct store_stage *stage, char **err)
{
	struct rules_facilitator *regs = NULL;
	char *storage = NULL;
	size_t n_regs = 0;
	struct store_pending pending = { 0 };
	struct store_decision *d = NULL;
	struct rules_reasons findings = { 0 };
	bool same_name = false;

	job->status = "accepted";
	enum store_status rc = record_submission(p, job, stage->id, err);
	if (rc != STORE_OK)
		goto out;
	if ((rc = store_insert_sheet(p->st, job->submission, stage->id, job->doc, err)) != STORE_OK)
		goto out;
	const char *auths[2] = { job->doc->sheet.facilitators[0].authorisation,
				 job->doc->sheet.facilitators[1].authorisation };
	rc = store_sheet_context(p->st, auths, 2, stage->id, job->doc->approval,
				 job->doc->stage.ref, &regs, &n_regs, &storage, &pending, err);
	if (rc != STORE_OK)
		goto out;
	if (rules_check_stage(job->doc, pending.n ? pending.doc : NULL, regs, n_regs, &findings)
	    != REASON_OK) {
		*err = xstrdup("the rules refused the stage check");
		rc = STORE_ERROR;
		goto out;
	}
	if ((rc = store_set_stage_findings(p->st, stage->id, &findings, err)) != STORE_OK)
		goto out;
	if (pending.n > 0) {
		d = xcalloc(pending.n, sizeof(*d));
		for (size_t i = 0; i < pending.n; i++)
			d[i].id = pending.ids[i];
		char cause[64];
		snprintf(cause, sizeof(cause), "signin-sheet submission %" PRId64, job->submission);
		rc = decide_all(p, job, pending.doc, job->doc, &findings, pending.received_on, d,
				cause, err);
		if (rc == STORE_OK)
			rc = store_update_decisions(p->st, d, pending.n, job->today, "attestd", cause,
						    NULL, err);
		if (rc == STORE_OK)
			rc = receipts_for_submissions(p, pending.submissions, pending.n,
						      job->processed, job->claim, &same_name, err);
		if (rc != STORE_OK)
			goto out;
	}
	struct receipt_input in = {
		.submission = job->submission, .inbox_dir = job->claim->dir,
		.file_name = job->claim->name, .sha256 = job->sha256, .kind = "signin-sheet",
		.received = job->received.tv_sec, .status = "accepted", .findings = &findings,
		/* Known, unless an attestations file of the same name has just
		 * had a receipt: then the next number is read. */
		.seq = same_name ? 0 : job->receipt_seq,
	};
	if ((rc = receipt_record(p, &in, job->processed, err)) != STORE_OK)
		goto out;
	rc = audit_file(p, job, err);
out:
	free(regs);
	free(storage);
	free(d);
	store_pending_clear(&pending);
	return rc;
}

static enum store_status transact_attestations(struct pipeline *p, struct job *job,
					       const struct store_stage *stage, char **err)
{
	const struct document *doc = job->doc;
	struct document *sheet = NULL;
	struct rules_facilitator *regs = NULL;
	char *storage = NULL;
	size_t n_regs = 0;
	struct rules_reasons findings = { 0 };
	size_t n = doc->n_attestations;
	struct store_decision *d = xcalloc(n ? n : 1, sizeof(*d));
	date_t *received_on = xcalloc(n ? n : 1, sizeof(*received_on));
	struct store_receipt_row *lines = NULL;
	enum store_status rc = STORE_OK;

	for (size_t i = 0; i < n; i++)
		received_on[i] = job->received_on;
	if (stage->sheet_submission) {
		rc = store_load_sheet(p->st, stage->sheet_submission, doc->approval, doc->stage.ref,
				      &sheet, err);
		if (rc == STORE_OK)
			rc = facilitators_of(p, sheet, &regs, &n_regs, &storage, err);
		if (rc != STORE_OK)
			goto out;
		if (rules_check_stage(sheet, doc, regs, n_regs, &findings) != REASON_OK) {
			*err = xstrdup("the rules refused the stage check");
			rc = STORE_ERROR;
			goto out;
		}
	}
	job->status = "accepted";
	if ((rc = record_submission(p, job, stage->id, err)) != STORE_OK)
		goto out;
	char cause[64];
	snprintf(cause, sizeof(cause), "attestations submission %" PRId64, job->submission);
	rc = decide_all(p, job, doc, sheet, sheet ? &findings : NULL, received_on, d, cause, err);
	if (rc == STORE_OK)
		rc = store_insert_attestations(p->st, job->submission, stage->id, doc->approval, doc,
					       job->received, job->received_on, job->today, d,
					       "attestd", cause, err);
	if (rc != STORE_OK)
		goto out;
	/* The receipt's lines are the decisions just taken: built here while
	 * the server writes them. */
	store_push(p->st);
	lines = xcalloc(n ? n : 1, sizeof(*lines));
	for (size_t i = 0; i < n; i++)
		receipt_line(&doc->attestations[i], &d[i].outcome, &lines[i]);
	struct receipt_input in = {
		.submission = job->submission, .inbox_dir = job->claim->dir,
		.file_name = job->claim->name, .sha256 = job->sha256, .kind = "attestations",
		.received = job->received.tv_sec, .status = "accepted",
		.decisions_of = job->submission, .seq = job->receipt_seq, .rows = lines,
		.n_rows = n,
	};
	if ((rc = receipt_record(p, &in, job->processed, err)) != STORE_OK)
		goto out;
	rc = audit_file(p, job, err);
out:
	free(lines);
	document_free(sheet);
	free(regs);
	free(storage);
	free(d);
	free(received_on);
	return rc;
}

/* A byte-identical file already accepted: recorded as its duplicate
 * (job->status set), else nothing done. */
static enum store_status duplicate_check(struct pipeline *p, struct job *job, char **err)
{
	struct store_submission_ref first;
	bool found;
	enum store_status rc = store_find_sha256(p->st, job->sha256, &first, &found, err);
	if (rc == STORE_OK && found)
		rc = transact_duplicate(p, job, &first, err);
	return rc;
}

/* Everything between BEGIN and COMMIT for one file. */
static enum store_status transact(struct pipeline *p, struct job *job, char **err)
{
	enum store_status rc = STORE_OK;
	memset(job->decided, 0, sizeof(job->decided));
	job->duplicate_of = 0;
	job->status = NULL;
	job->submission = 0;
	job->receipt_seq = 0;
	struct store_file_lookup look;
	if (job->reject == REASON_OK) {
		if ((rc = store_file_lookup(p->st, job->doc, job->sha256, job->claim->dir,
					    job->claim->name, &look, err)) != STORE_OK)
			return rc;
		job->submission = look.submission_id;
		job->receipt_seq = look.next_seq;
		check_binding(p, job, &look.centre);
	}
	if (job->reject == REASON_OK && look.duplicate)
		return transact_duplicate(p, job, &look.first, err);
	if (job->reject == REASON_OK && look.taken[0]) {
		/* Taken, perhaps, by an identical file another instance
		 * committed since we looked for one: that is a duplicate. */
		if ((rc = duplicate_check(p, job, err)) != STORE_OK || job->status)
			return rc;
		job_reject(job, REASON_DUPLICATE_ATTESTATION_NUMBER, 0, "attestation number "
			   "%s was already used by centre %s in another file", look.taken,
			   job->doc->approval);
	}
	if (job->reject != REASON_OK)
		return transact_rejected(p, job, err);

	struct store_stage stage;
	const struct doc_stage *s = &job->doc->stage;
	/* The stage lock waited for whoever held it: an identical file may
	 * have been committed meanwhile (several instances). */
	bool duplicate = false;
	struct store_submission_ref first;
	if ((rc = store_stage_lock(p->st, job->doc->approval, s, job->sha256, &stage, &duplicate,
				   &first, err)) != STORE_OK)
		return rc;
	if (duplicate)
		return transact_duplicate(p, job, &first, err);
	if (job->doc->kind == DOC_SIGNIN_SHEET && stage.sheet_submission)
		job_reject(job, REASON_STAGE_CONFLICT, 0, "a sign-in sheet was already received for "
			   "stage %s (submission %" PRId64 ")", s->ref, stage.sheet_submission);
	else if (job->doc->kind == DOC_ATTESTATIONS && stage.has_attestations &&
		 !same_stage_data(stage.att_departement, stage.att_first_day, stage.att_last_day, s))
		job_reject(job, REASON_STAGE_CONFLICT, 0, "stage %s was already received with other "
			   "dates or departement", s->ref);
	if (job->reject != REASON_OK)
		return transact_rejected(p, job, err);
	return job->doc->kind == DOC_SIGNIN_SHEET ? transact_sheet(p, job, &stage, err)
						  : transact_attestations(p, job, &stage, err);
}

/* --- after the commit ------------------------------------------------------------ */

static void mark_add(struct pipeline *p, int64_t submission, int seq)
{
	if (p->n_marks == p->cap_marks) {
		p->cap_marks = p->cap_marks ? 2 * p->cap_marks : 8;
		p->marks = xreallocarray(p->marks, p->cap_marks, sizeof(*p->marks));
	}
	p->marks[p->n_marks++] = (struct receipt_mark){ submission, seq };
}

/* The marks of receipts written, into the transaction in hand (or at once
 * outside one); forgotten by the caller once that commits. */
static enum store_status marks_send(struct pipeline *p, char **err)
{
	for (size_t i = 0; i < p->n_marks; i++) {
		enum store_status rc = store_mark_receipt_written(p->st, p->marks[i].submission,
								  p->marks[i].seq, err);
		if (rc != STORE_OK)
			return rc;
	}
	return STORE_OK;
}

static void fresh_clear(struct pipeline *p)
{
	store_receipt_files_free(p->fresh, p->n_fresh);
	p->fresh = NULL;
	p->n_fresh = p->cap_fresh = 0;
}

/* Writes receipts to the outbox; each one written is to be marked. */
static enum reason receipts_write(struct pipeline *p, const struct store_receipt_file *files,
				  size_t n)
{
	for (size_t i = 0; i < n; i++) {
		enum reason r = outbox_write(p->cfg->outbox, files[i].path, files[i].body,
					     files[i].len);
		if (r != REASON_OK) {
			log_error("action=receipt path=%s outcome=retry reason=%s", files[i].path,
				  reason_code(r));
			return r;
		}
		mark_add(p, files[i].submission, files[i].seq);
	}
	return REASON_OK;
}

enum reason pipeline_flush_receipts(struct pipeline *p)
{
	struct store_receipt_file *files = NULL;
	size_t n = 0;
	char *err = NULL;
	enum reason r = REASON_OK;
	fresh_clear(p);
	enum store_status rc = marks_send(p, &err);
	if (rc == STORE_OK) {
		p->n_marks = 0;
		rc = store_unwritten_receipts(p->st, &files, &n, &err);
	}
	if (rc == STORE_OK) {
		r = receipts_write(p, files, n);
		rc = marks_send(p, &err);
		if (rc == STORE_OK)
			p->n_marks = 0;
	}
	if (rc != STORE_OK) {
		log_error("action=receipts outcome=retry reason=%s error=\"%s\"",
			  store_fault_is_environment(rc) ? "db_unavailable" : "internal_error", err);
		free(err);
		r = store_fault_is_environment(rc) ? REASON_DB_UNAVAILABLE : REASON_INTERNAL_ERROR;
	}
	store_receipt_files_free(files, n);
	return r;
}

/* The receipts of the transaction this process just committed, from
 * memory; any other time, every receipt the database says is unwritten. */
static enum reason receipts_flush(struct pipeline *p, bool committed_now)
{
	if (!committed_now)
		return pipeline_flush_receipts(p);
	enum reason r = receipts_write(p, p->fresh, p->n_fresh);
	fresh_clear(p);
	return r;
}

static enum reason drop_spool_copy(const struct inbox_claim *claim)
{
	if (unlink(claim->spool_path) != 0 && errno != ENOENT)
		return REASON_IO_ERROR;
	char *dir = xstrdup(claim->spool_path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	int rc = fsutil_sync_dir(dir);
	free(dir);
	return rc == 0 ? REASON_OK : REASON_IO_ERROR;
}

/* Archive (or quarantine), receipts, spool copy dropped: all idempotent. */
static enum reason finish(struct pipeline *p, const struct inbox_claim *claim,
			  const struct store_submission_ref *sub, struct job *job, bool committed_now)
{
	enum reason r = REASON_OK;
	if (strcmp(sub->status, "rejected") == 0) {
		struct stat st;
		if (lstat(claim->spool_path, &st) == 0)
			r = archive_quarantine(p->cfg->quarantine, claim, sub->first_error,
					       sub->first_message, p->cfg->timezone);
		if (r != REASON_OK)
			return r;
		crashpoint("after_archive");
		r = receipts_flush(p, committed_now);
		if (r == REASON_OK)
			crashpoint("after_receipt");
		return r;
	}
	if (strcmp(sub->status, "accepted") == 0) {
		if (job->bytes == NULL &&
		    (r = inbox_read(claim->spool_path, p->cfg->max_file_size, &job->bytes,
				    &job->len)) != REASON_OK)
			return r == REASON_IO_ERROR ? r : REASON_INTERNAL_ERROR;
		if ((r = archive_put(p->cfg->archive, sub->sha256, job->bytes, job->len)) != REASON_OK)
			return r;
		crashpoint("after_archive");
		if (job->doc == NULL && strcmp(sub->kind, "signin-sheet") == 0) {
			/* Redone after a crash: the scans are in the file. */
			int kind;
			struct parse_error perr;
			r = parsers_parse(p->parsers, job->bytes, job->len, sub->received_at, &job->doc,
					  &kind, &job->evidence, &perr);
			if (r != REASON_OK)
				return reason_is_temporary(r) ? r : REASON_INTERNAL_ERROR;
		}
		if (job->doc && job->doc->kind == DOC_SIGNIN_SHEET) {
			/* The scans in one batch: all written, fsynced, then named. */
			size_t n = job->doc->sheet.n_participants;
			struct archive_blob *scans = xcalloc(n ? n : 1, sizeof(*scans));
			for (size_t i = 0; i < n; i++) {
				const struct doc_identity_document *id =
					&job->doc->sheet.participants[i].identity;
				scans[i] = (struct archive_blob){ id->scan_sha256, id->scan, id->scan_size };
			}
			r = archive_put_all(p->cfg->archive, scans, n);
			free(scans);
			if (r != REASON_OK)
				return r;
		}
	}
	if ((r = receipts_flush(p, committed_now)) != REASON_OK)
		return r;
	crashpoint("after_receipt");
	return drop_spool_copy(claim);
}

/* --- one file -------------------------------------------------------------------- */

static void job_clear(struct job *job)
{
	free(job->bytes);
	document_free(job->doc);
	parse_evidence_clear(&job->evidence);
}

/* Reads and parses: sets job->reject for the centre's faults; returns a
 * temporary reason when the file must wait. */
static enum reason job_parse(struct pipeline *p, struct job *job)
{
	const struct inbox_claim *claim = job->claim;
	enum reason r = inbox_read(claim->spool_path, p->cfg->max_file_size, &job->bytes, &job->len);
	if (r == REASON_IO_ERROR)
		return r;
	if (r != REASON_OK) {
		struct stat st;
		if (r == REASON_NOT_REGULAR_FILE && lstat(claim->spool_path, &st) == 0 &&
		    S_ISREG(st.st_mode) && st.st_nlink == 1)
			job_reject(job, r, 0, "the file is not readable by the prefecture (mode %04o): "
				   "upload it readable by its group (no put -p of a private file)",
				   (unsigned)(st.st_mode & 07777));
		else
			job_reject(job, r, 0, "%s", r == REASON_TOO_LARGE
				   ? "the file exceeds the size limit" : reason_text(r));
		return REASON_OK;
	}
	archive_sha256_hex(job->bytes, job->len, job->sha256);
	if (claim->bad_name) {
		job_reject(job, REASON_BAD_FILE_NAME, 0, "%s", reason_text(REASON_BAD_FILE_NAME));
		return REASON_OK;
	}
	struct parse_error perr;
	r = parsers_parse(p->parsers, job->bytes, job->len, job->received.tv_sec, &job->doc,
			  &job->kind, &job->evidence, &perr);
	if (r != REASON_OK && reason_is_temporary(r)) {
		log_warn("file=%s approval=%s outcome=retry reason=%s detail=\"%s\"", claim->name,
			 claim->dir, reason_code(r), perr.message);
		return r;
	}
	if (r != REASON_OK)
		job_reject(job, r, perr.line, "%s", perr.message[0] ? perr.message : reason_text(r));
	return REASON_OK;
}

/*
 * Takes a claim for this process: flock on its spool file.  False when
 * another instance has it in hand or has finished it meanwhile (the path
 * is gone or names another file).  *fd (-1 when nothing to hold: a claim
 * that is not a regular file is not opened, the claim id still guards it)
 * is closed by the caller, which releases the lock.
 */
static bool claim_take(const struct inbox_claim *claim, int *fd)
{
	struct stat before, held, now;
	*fd = -1;
	if (lstat(claim->spool_path, &before) != 0)
		return errno != ENOENT;
	if (!S_ISREG(before.st_mode))
		return true;
	*fd = open(claim->spool_path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (*fd < 0)
		return errno != ENOENT;
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0)
		return errno != EWOULDBLOCK;
	/* Locked, but perhaps only once its owner had finished and dropped it. */
	if (fstat(*fd, &held) != 0 || lstat(claim->spool_path, &now) != 0)
		return false;
	return held.st_ino == now.st_ino && held.st_dev == now.st_dev;
}

static double elapsed_s(struct timespec since)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - since.tv_sec) + (double)(now.tv_nsec - since.tv_nsec) / 1e9;
}

/* The submission the job has just committed, as store_find_claim would
 * read it back. */
static void job_submission_ref(const struct job *job, struct store_submission_ref *out)
{
	memset(out, 0, sizeof(*out));
	out->id = job->submission;
	snprintf(out->status, sizeof(out->status), "%s", job->status);
	snprintf(out->kind, sizeof(out->kind), "%s", kind_name(job->kind));
	snprintf(out->file_name, sizeof(out->file_name), "%s", job->claim->name);
	snprintf(out->inbox_dir, sizeof(out->inbox_dir), "%s", job->claim->dir);
	out->received_at = job->received.tv_sec + (job->received.tv_nsec >= 500000000L);
	out->first_error = job->duplicate_of ? REASON_DUPLICATE_FILE : job->reject;
	snprintf(out->first_message, sizeof(out->first_message), "%s", job->recorded_message);
	snprintf(out->sha256, sizeof(out->sha256), "%s", job->sha256);
	snprintf(out->approval, sizeof(out->approval), "%s", job->doc ? job->doc->approval : "");
}

enum reason pipeline_process(struct pipeline *p, const struct inbox_claim *claim)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct job job = { .claim = claim, .kind = -1 };
	struct timespec now = clock_now();
	job.received = clock_shift(claim->received);
	job.processed = now.tv_sec;
	if (!date_local_from_epoch(job.received.tv_sec, p->cfg->timezone, &job.received_on) ||
	    !date_local_from_epoch(now.tv_sec, p->cfg->timezone, &job.today)) {
		log_error("file=%s outcome=retry reason=internal_error detail=\"time zone %s\"",
			  claim->name, p->cfg->timezone);
		return REASON_INTERNAL_ERROR;
	}

	char *err = NULL;
	enum reason r = REASON_OK;
	struct store_submission_ref sub;
	bool found = false;
	int lock_fd = -1;
	if (!claim_take(claim, &lock_fd)) {
		p->counts.busy++;
		goto out;
	}
	bool committed_now = false;
	/* A claim just taken from the inbox cannot have a row yet; one found
	 * in the spool may (a crash after its commit): the database says. */
	enum store_status rc = claim->fresh ? STORE_OK
					    : store_find_claim(p->st, claim->claim_id, &sub, &found, &err);
	if (rc == STORE_OK && !found) {
		struct stat st;
		if (lstat(claim->spool_path, &st) != 0) {
			/* Gone (another instance finished it): nothing to do. */
			p->counts.busy++;
			goto out;
		}
		if ((r = job_parse(p, &job)) != REASON_OK)
			goto out;
		crashpoint("after_parse");
		for (int attempt = 1; attempt <= PIPELINE_MAX_TRIES; attempt++) {
			free(err);
			err = NULL;
			/* Lost to another instance that committed this very claim:
			 * it finishes the file. */
			if (attempt > 1 &&
			    (rc = store_find_claim(p->st, claim->claim_id, &sub, &found, &err)) == STORE_OK &&
			    found) {
				p->counts.busy++;
				goto out;
			}
			if (rc != STORE_OK)
				break;
			fresh_clear(p);
			if ((rc = store_begin_pipelined(p->st, &err)) == STORE_OK &&
			    (rc = marks_send(p, &err)) == STORE_OK &&
			    (rc = transact(p, &job, &err)) == STORE_OK) {
				crashpoint("before_commit");
				if ((rc = store_commit(p->st, &err)) == STORE_OK) {
					p->n_marks = 0;
					committed_now = true;
					crashpoint("after_commit");
					break;
				}
			}
			store_abort(p->st);
			/* Another instance got there first (serialization, deadlock,
			 * or a unique key both tried to take): run it again. */
			if (!store_should_retry(p->st))
				break;
		}
		if (rc == STORE_OK) {
			job_submission_ref(&job, &sub);
			found = true;
		}
	}
	if (rc != STORE_OK) {
		r = store_fault_is_environment(rc) ? REASON_DB_UNAVAILABLE : REASON_INTERNAL_ERROR;
		(store_fault_is_environment(rc) ? log_warn : log_error)(
			"file=%s approval=%s outcome=retry reason=%s error=\"%s\"", claim->name,
			claim->dir, reason_code(r), err ? err : "");
		goto out;
	}
	if (!found) {
		r = REASON_INTERNAL_ERROR;
		log_error("file=%s outcome=retry reason=internal_error error=\"committed but not found\"",
			  claim->name);
		goto out;
	}
	if ((r = finish(p, claim, &sub, &job, committed_now)) != REASON_OK) {
		log_error("file=%s approval=%s outcome=retry reason=%s detail=\"archive, quarantine "
			  "or receipt\"", claim->name, claim->dir, reason_code(r));
		goto out;
	}
	if (strcmp(sub.status, "accepted") == 0) {
		p->counts.accepted++;
	} else if (strcmp(sub.status, "rejected") == 0) {
		p->counts.rejected++;
		if (sub.first_error > REASON_OK && sub.first_error < REASON_COUNT)
			p->counts.rejected_by[sub.first_error]++;
	} else {
		p->counts.duplicate++;
	}
	for (int k = 0; k < 5; k++)
		p->counts.attestations[k] += job.decided[k];
	double seconds = elapsed_s(t0);
	metrics_observe(&p->counts.processing, seconds);
	p->counts.last_success = time(NULL);
	size_t n_att = job.doc && job.doc->kind == DOC_ATTESTATIONS ? job.doc->n_attestations : 0;
	log_info("file=%s approval=%s sha256=%s kind=%s outcome=%s reason=%s attestations=%zu ms=%ld",
		 claim->name, sub.approval[0] ? sub.approval : claim->dir,
		 sub.sha256[0] ? sub.sha256 : "-", sub.kind, sub.status,
		 strcmp(sub.status, "duplicate") == 0 ? "duplicate_file" : reason_code(sub.first_error),
		 n_att, (long)(seconds * 1000));
out:
	if (r != REASON_OK)
		p->counts.retried++;
	if (lock_fd >= 0)
		close(lock_fd);
	free(err);
	job_clear(&job);
	return r;
}

enum reason pipeline_sweep(struct pipeline *p)
{
	date_t today;
	struct timespec now = clock_now();
	if (!date_local_from_epoch(now.tv_sec, p->cfg->timezone, &today))
		return REASON_INTERNAL_ERROR;
	char *err = NULL;
	long flagged = 0;
	enum store_status rc = store_begin(p->st, &err);
	if (rc == STORE_OK)
		rc = store_flag_overdue(p->st, today, &flagged, &err);
	if (rc == STORE_OK && flagged > 0) {
		char *detail = xasprintf("flagged=%ld", flagged);
		rc = store_audit(p->st, "attestd", "attestations.overdue", "registration deadline",
				 detail, &err);
		free(detail);
	}
	if (rc == STORE_OK)
		rc = store_commit(p->st, &err);
	if (rc != STORE_OK) {
		store_abort(p->st);
		log_error("action=sweep outcome=retry error=\"%s\"", err ? err : "");
		free(err);
		return store_fault_is_environment(rc) ? REASON_DB_UNAVAILABLE : REASON_INTERNAL_ERROR;
	}
	if (flagged > 0)
		log_warn("action=sweep registration_overdue=%ld", flagged);
	return REASON_OK;
}

/* --- registry imports -------------------------------------------------------- */

static bool same_codes(const struct rules_reasons *a, const struct rules_reasons *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!rules_reasons_has(b, a->codes[i]))
			return false;
	return true;
}

/* A pending attestation decided again that is still pending for the same
 * reasons, with the same flags. */
static bool same_outcome(const struct rules_outcome *o, const struct rules_reasons *reasons,
			 const struct rules_reasons *flags)
{
	return o->decision == RULES_PENDING && same_codes(&o->reasons, reasons) &&
	       same_codes(&o->flags, flags);
}

/* The pending attestations of a stage decided again (a licence arrived). */
static enum store_status redecide_stage(struct pipeline *p, struct job *job, int64_t stage_id,
					const char *cause, char **err)
{
	char approval[DOC_APPROVAL_SIZE], ref[DOC_REF_SIZE];
	int64_t sheet_sub = 0;
	bool found = false;
	struct document *sheet = NULL;
	struct store_pending pending = { 0 };
	struct store_decision *d = NULL;
	struct rules_reasons findings;
	bool known = false;
	enum store_status rc = store_stage_by_id(p->st, stage_id, approval, ref, &sheet_sub, &found,
						 err);
	/* Without its sheet the stage waits for it, whatever the registry says. */
	if (rc != STORE_OK || !found || sheet_sub == 0)
		return rc;
	if ((rc = store_load_sheet(p->st, sheet_sub, approval, ref, &sheet, err)) != STORE_OK)
		goto out;
	if ((rc = store_stage_findings(p->st, stage_id, &findings, &known, err)) != STORE_OK)
		goto out;
	if ((rc = store_load_pending(p->st, stage_id, approval, ref, &pending, err)) != STORE_OK)
		goto out;
	if (pending.n == 0)
		goto out;
	d = xcalloc(pending.n, sizeof(*d));
	for (size_t i = 0; i < pending.n; i++)
		d[i].id = pending.ids[i];
	rc = decide_all(p, job, pending.doc, sheet, &findings, pending.received_on, d, cause, err);
	if (rc != STORE_OK)
		goto out;
	/* Only a changed outcome is recorded again and makes a new receipt
	 * (exchange-format.md §6): a licence that arrives without its grant
	 * leaves the attestation pending as it was. */
	size_t changed = 0;
	for (size_t i = 0; i < pending.n; i++) {
		if (same_outcome(&d[i].outcome, &pending.reasons[i], &pending.flags[i]))
			continue;
		d[changed] = d[i];
		pending.submissions[changed++] = pending.submissions[i];
	}
	rc = store_update_decisions(p->st, d, changed, job->today, "attestd", cause, NULL, err);
	if (rc == STORE_OK)
		rc = receipts_for_submissions(p, pending.submissions, changed, job->processed, NULL,
					      NULL, err);
out:
	document_free(sheet);
	store_pending_clear(&pending);
	free(d);
	return rc;
}

/* Licences replayed per round trip: an import may bring a million (the
 * first events file gives each licence with a grant its balance), and the
 * round trips, not the rows, are then what costs. */
#define REFRESH_BATCH 20000

/* The cached balances of these licences replayed again (events may have
 * come before decisions already taken: a fine paid late), with a history
 * row naming the import wherever the balance moved. */
static enum store_status refresh_balances(struct pipeline *p, struct job *job,
					  char *const *licences, size_t n, const char *cause,
					  char **err)
{
	enum store_status rc = STORE_OK;
	for (size_t from = 0; from < n && rc == STORE_OK; from += REFRESH_BATCH) {
		size_t count = n - from < REFRESH_BATCH ? n - from : REFRESH_BATCH;
		struct store_licences lics = { 0 };
		rc = store_load_licences(p->st, (const char *const *)licences + from, count, &lics, err);
		struct store_balance *b = xcalloc(lics.n ? lics.n : 1, sizeof(*b));
		size_t nb = 0;
		for (size_t k = 0; rc == STORE_OK && k < lics.n; k++) {
			struct store_licence *l = &lics.items[k];
			bool grant = l->found && ledger_has_grant(l->events, l->n_events);
			/* A licence with a grant has its balance, cached or not yet. */
			if (!l->found || (!l->has_cache && !grant))
				continue;
			int after = grant ? licence_final_balance(l) : LEDGER_NO_BALANCE;
			b[nb++] = (struct store_balance){
				.licence = l->licence,
				.old_balance = l->cached_balance,
				.new_balance = after,
				.ceiling = ledger_ceiling_at(&l->ledger, l->events, l->n_events,
							     job->today),
				.last_credit_stage_last_day = licence_last_credit_day(l),
				.changed = after != l->cached_balance,
			};
		}
		if (rc == STORE_OK)
			rc = store_write_balances(p->st, b, nb, cause, err);
		free(b);
		store_licences_clear(&lics);
	}
	return rc;
}

enum store_status pipeline_registry_changed(void *ctx, struct store *st, const char *cause,
					    const int64_t *stages, size_t n_stages,
					    char *const *licences, size_t n_licences, char **err)
{
	struct pipeline *p = ctx;
	(void)st;
	struct timespec now = clock_now();
	struct job job = { .kind = -1, .processed = now.tv_sec };
	if (!date_local_from_epoch(now.tv_sec, p->cfg->timezone, &job.today)) {
		*err = xasprintf("unknown time zone %s", p->cfg->timezone);
		return STORE_ERROR;
	}
	enum store_status rc = STORE_OK;
	for (size_t i = 0; i < n_stages && rc == STORE_OK; i++)
		rc = redecide_stage(p, &job, stages[i], cause, err);
	if (rc == STORE_OK)
		rc = refresh_balances(p, &job, licences, n_licences, cause, err);
	if (rc == STORE_OK && n_stages > 0) {
		char *detail = xasprintf("stages=%zu credited=%zu no_credit=%zu rejected=%zu "
					 "pending=%zu review=%zu", n_stages,
					 job.decided[RULES_CREDITED], job.decided[RULES_NO_CREDIT],
					 job.decided[RULES_REJECTED], job.decided[RULES_PENDING],
					 job.decided[RULES_REVIEW]);
		rc = store_audit(p->st, "attestd", "attestations.redecided", cause, detail, err);
		free(detail);
	}
	return rc;
}

enum reason pipeline_reload(struct pipeline *p, const struct config *cfg, char **err)
{
	struct parse_error perr;
	if (p->parsers &&
	    parsers_reload_trust(p->parsers, cfg->centres_ca, cfg->crl, &perr) != REASON_OK) {
		*err = xasprintf("%s: %s", reason_code(perr.reason), perr.message);
		return perr.reason;
	}
	struct sig_signer *signer = NULL;
	if (cfg->receipt_key && cfg->receipt_cert) {
		signer = receipt_signer_load(cfg->receipt_key, cfg->receipt_cert, &perr);
		if (signer == NULL) {
			*err = xasprintf("receipt signing key: %s", perr.message);
			return REASON_TRUST_UNAVAILABLE;
		}
	}
	receipt_signer_free(p->signer);
	p->signer = signer;
	p->cfg = cfg;
	return REASON_OK;
}

/* --- the review queue ------------------------------------------------------------ */

enum store_status pipeline_review_decide(struct pipeline *p, int64_t id, bool accept,
					 const char *by, const char *note,
					 struct pipeline_review *out, char **err)
{
	struct timespec now = clock_now();
	struct job job = { .kind = -1, .processed = now.tv_sec, .review_cleared = accept };
	char approval[DOC_APPROVAL_SIZE], ref[DOC_REF_SIZE], decision[16];
	int64_t stage_id = 0, sheet_sub = 0;
	bool found = false;
	struct document *sheet = NULL;
	struct store_pending one = { 0 };
	struct rules_reasons findings;
	bool known = false;
	struct store_decision d = { .id = id };
	char *cause = NULL;

	if (!date_local_from_epoch(now.tv_sec, p->cfg->timezone, &job.today)) {
		*err = xasprintf("unknown time zone %s", p->cfg->timezone);
		return STORE_ERROR;
	}
	/* The stage first, then the attestation: the lock order of every
	 * transaction on a stage. */
	enum store_status rc = store_attestation_stage(p->st, id, &stage_id, &found, err);
	if (rc == STORE_OK && !found) {
		*err = xasprintf("no attestation has id %" PRId64 " (see attestd review list)", id);
		return STORE_INVALID;
	}
	if (rc == STORE_OK)
		rc = store_stage_by_id(p->st, stage_id, approval, ref, &sheet_sub, &found, err);
	if (rc == STORE_OK && !found) {
		*err = xasprintf("attestation %" PRId64 " has no stage row", id);
		return STORE_ERROR;
	}
	if (rc == STORE_OK)
		rc = store_load_attestation(p->st, id, approval, ref, &one, decision, err);
	if (rc != STORE_OK)
		goto out;
	if (one.n != 1 || strcmp(decision, "review") != 0) {
		*err = xasprintf("attestation %" PRId64 " is %s, not in review: only review decisions "
				 "can be accepted or rejected", id, one.n ? decision : "gone");
		rc = STORE_INVALID;
		goto out;
	}
	if (sheet_sub == 0) {
		*err = xasprintf("attestation %" PRId64 " is in review but its stage has no sign-in "
				 "sheet", id);
		rc = STORE_ERROR;
		goto out;
	}
	if ((rc = store_load_sheet(p->st, sheet_sub, approval, ref, &sheet, err)) != STORE_OK ||
	    (rc = store_stage_findings(p->st, stage_id, &findings, &known, err)) != STORE_OK)
		goto out;

	/* The same path as every decision: the rules, the ledger credit, the
	 * balance cache and its history, named after the operator. */
	cause = xasprintf("review %" PRId64 " by %s", id, by);
	rc = decide_all(p, &job, one.doc, sheet, &findings, one.received_on, &d, cause, err);
	if (rc != STORE_OK)
		goto out;
	enum rules_decision got = d.outcome.decision;
	if (accept ? got != RULES_CREDITED && got != RULES_NO_CREDIT : got != RULES_REVIEW) {
		char codes[256] = "";
		for (size_t i = 0; i < d.outcome.reasons.n; i++)
			snprintf(codes + strlen(codes), sizeof(codes) - strlen(codes), "%s%s",
				 i ? "," : "", reason_code(d.outcome.reasons.codes[i]));
		*err = xasprintf("the rules now decide attestation %" PRId64 " %s (%s), not on the "
				 "review checks alone: nothing changed", id, rules_decision_name(got),
				 codes[0] ? codes : "no reason");
		rc = STORE_INVALID;
		goto out;
	}
	if (!accept) {
		/* Rejected for what sent it to review: the reasons stay. */
		d.outcome.decision = RULES_REJECTED;
		d.outcome.points = 0;
		d.outcome.near_deadline = false;
	}
	if ((rc = store_update_decisions(p->st, &d, 1, job.today, by, accept ? "review accept"
					 : "review reject", note, err)) != STORE_OK ||
	    (rc = receipts_for_submissions(p, one.submissions, 1, job.processed, NULL, NULL,
					   err)) != STORE_OK)
		goto out;
	snprintf(out->approval, sizeof(out->approval), "%s", approval);
	snprintf(out->stage_ref, sizeof(out->stage_ref), "%s", ref);
	snprintf(out->number, sizeof(out->number), "%s", one.doc->attestations[0].number);
	snprintf(out->licence, sizeof(out->licence), "%s", one.doc->attestations[0].trainee.licence);
	out->submission = one.submissions[0];
	out->outcome = d.outcome;
out:
	free(cause);
	document_free(sheet);
	store_pending_clear(&one);
	return rc;
}
