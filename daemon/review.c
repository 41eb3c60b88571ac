/*
 * review - the review queue.  See review.h.
 *
 * An action runs as the pipeline's transactions do: BEGIN, the work, the
 * audit-log row last (its head lock is held briefly), COMMIT, run again on
 * a serialization failure or a deadlock with a running daemon; then the
 * receipt goes to the outbox.  The audit-log row names the operator and
 * what was decided, and carries the note's SHA-256, so the chain vouches
 * for the note kept in the decision history without holding its words.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "archive.h"
#include "exitcode.h"
#include "pipeline.h"
#include "review.h"
#include "store_pipeline.h"
#include "store_report.h"
#include "xmalloc.h"

#define REVIEW_MAX_TRIES 5



bool review_text_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max || u8_check((const uint8_t *)s, n) != NULL)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* list and show: one query each, written as it streams. */
static int report(const struct config *cfg, int64_t id, bool show, enum report_format format,
		  FILE *out)
{
	struct store *st = store_connect_or_say(cfg->conninfo, cfg->path);
	if (st == NULL)
		return EXIT_ENVIRONMENT;
	char *err = NULL;
	enum store_status rc = store_report_session(st, cfg->timezone, &err);
	if (rc == STORE_OK)
		rc = show ? store_report_review_show(st, id, format, out, &err)
			  : store_report_review_list(st, format, out, &err);
	if (rc != STORE_OK)
		fprintf(stderr, "attestd: %s\n", err ? err : "database error");
	free(err);
	store_free(st);
	return store_exit_code(rc);
}

int review_list(const struct config *cfg, enum report_format format, FILE *out)
{
	return report(cfg, 0, false, format, out);
}

int review_show(const struct config *cfg, int64_t id, enum report_format format, FILE *out)
{
	return report(cfg, id, true, format, out);
}

static char *codes_text(const struct rules_reasons *r)
{
	size_t cap = 1;
	for (size_t i = 0; i < r->n; i++)
		cap += strlen(reason_code(r->codes[i])) + 1;
	char *s = xcalloc(1, cap);
	for (size_t i = 0; i < r->n; i++) {
		if (i)
			strcat(s, ",");
		strcat(s, reason_code(r->codes[i]));
	}
	return s;
}

/* The audit-log row of one action, the transaction's last statement. */
static enum store_status audit_action(struct store *st, int64_t id, bool accept, const char *by,
				      const char *note, const struct pipeline_review *rv,
				      char **err)
{
	char subject[48], note_sha[65];
	snprintf(subject, sizeof(subject), "attestation %" PRId64, id);
	archive_sha256_hex(note, strlen(note), note_sha);
	char *reasons = codes_text(&rv->outcome.reasons);
	char *flags = codes_text(&rv->outcome.flags);
	/* No licence number: the log outlives the attestations (never purged). */
	char *detail = xasprintf("approval=%s stage=%s number=%s submission=%" PRId64
				 " decision=%s points=%d reasons=%s flags=%s note_sha256=%s",
				 rv->approval, rv->stage_ref, rv->number, rv->submission,
				 rules_decision_name(rv->outcome.decision), rv->outcome.points,
				 reasons, flags, note_sha);
	enum store_status rc = store_audit(st, by, accept ? "review.accept" : "review.reject",
					   subject, detail, err);
	free(reasons);
	free(flags);
	free(detail);
	return rc;
}

enum store_status review_apply(struct pipeline *p, struct store *st, int64_t id, bool accept,
				const char *by, const char *note, struct pipeline_review *rv,
				char **err)
{
	enum store_status rc = STORE_ERROR;
	for (int attempt = 1; attempt <= REVIEW_MAX_TRIES; attempt++) {
		free(*err);
		*err = NULL;
		memset(rv, 0, sizeof(*rv));
		if ((rc = store_begin(st, err)) == STORE_OK &&
		    (rc = pipeline_review_decide(p, id, accept, by, note, rv, err)) == STORE_OK &&
		    (rc = audit_action(st, id, accept, by, note, rv, err)) == STORE_OK &&
		    (rc = store_commit(st, err)) == STORE_OK)
			break;
		store_abort(st);
		if (!store_should_retry(st))
			break;
	}
	return rc;
}

int review_decide(const struct config *cfg, int64_t id, bool accept, const char *by,
		  const char *note, FILE *out)
{
	struct store *st = store_connect_or_say(cfg->conninfo, cfg->path);
	if (st == NULL)
		return EXIT_ENVIRONMENT;
	char *err = NULL;
	int status = 0;
	struct pipeline *p = NULL;
	struct pipeline_review rv;
	/* The decision is told (printed, logged) once committed: durably. */
	enum store_status rc = store_set_synchronous_commit(st, cfg->synchronous_commit, &err);
	if (rc == STORE_OK)
		rc = store_schema_status(st, NULL, &err);
	if (rc != STORE_OK) {
		fprintf(stderr, "attestd: %s\n", err);
		status = store_exit_code(rc);
		goto out;
	}
	/* Without verification: the pipeline only decides and answers. */
	if ((p = pipeline_new(cfg, st, false, &err)) == NULL) {
		fprintf(stderr, "attestd: %s\n", err);
		status = EXIT_CONFIG;
		goto out;
	}
	rc = review_apply(p, st, id, accept, by, note, &rv, &err);
	if (rc != STORE_OK) {
		fprintf(stderr, "attestd: %s\n", err ? err : "database error");
		status = store_exit_code(rc);
		goto out;
	}
	const struct rules_outcome *o = &rv.outcome;
	char *reasons = codes_text(&o->reasons);
	fprintf(out, "attestation %" PRId64 " (%s %s): %s by %s: %s", id, rv.approval, rv.number,
		accept ? "accepted" : "rejected", by, rules_decision_name(o->decision));
	if (o->decision == RULES_CREDITED) {
		char day[11];
		date_format(o->effective, day);
		fprintf(out, ", %d point%s effective %s", o->points, o->points == 1 ? "" : "s", day);
	}
	fprintf(out, "%s%s%s\n", reasons[0] ? " (" : "", reasons, reasons[0] ? ")" : "");
	free(reasons);
	/* Committed: a receipt that cannot be written now is written by the
	 * daemon's next pass (written_at stays NULL until it is). */
	if (pipeline_flush_receipts(p) != REASON_OK)
		fprintf(stderr, "attestd: the decision is recorded but the centre's receipt could not "
			"be written to %s yet; the next run writes it\n", cfg->outbox);
	else
		fprintf(out, "receipt written for the centre's attestations file\n");
out:
	free(err);
	pipeline_free(p);
	store_free(st);
	return status;
}
