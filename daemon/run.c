/*
 * run - batch processing of the inbox.  See run.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inbox.h"
#include "log.h"
#include "pipeline.h"
#include "run.h"
#include "store.h"

#define EXIT_DATABASE 4
#define EXIT_INTERNAL 5

/* Processes one claim; false when the batch must stop (database gone). */
static bool run_one(struct pipeline *p, const struct inbox_claim *c, int *status)
{
	enum reason r = pipeline_process(p, c);
	if (r == REASON_DB_UNAVAILABLE) {
		*status = EXIT_DATABASE;
		return false;
	}
	if (r != REASON_OK && *status == 0)
		*status = EXIT_INTERNAL;
	return true;
}

static bool run_spool(struct pipeline *p, const struct config *cfg, int *status)
{
	struct inbox_claim *claims = NULL;
	size_t n = 0;
	bool go_on = true;
	if (inbox_spool_list(cfg->spool, &claims, &n) != 0) {
		log_error("action=spool path=%s outcome=error error=\"%s\"", cfg->spool, strerror(errno));
		*status = EXIT_INTERNAL;
		return false;
	}
	for (size_t i = 0; i < n && go_on; i++)
		go_on = run_one(p, &claims[i], status);
	for (size_t i = 0; i < n; i++)
		inbox_claim_clear(&claims[i]);
	free(claims);
	return go_on;
}

/* One pass over the inbox; *unsettled counts files not yet still long enough. */
static bool run_inbox(struct pipeline *p, const struct config *cfg, size_t *unsettled,
		      int *status)
{
	struct inbox_list list;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	if (inbox_scan(cfg->inbox, cfg->settle_time_ms, &now, &list, unsettled) != 0) {
		log_error("action=scan path=%s outcome=error error=\"%s\"", cfg->inbox, strerror(errno));
		*status = EXIT_INTERNAL;
		return false;
	}
	bool go_on = true;
	for (size_t i = 0; i < list.n && go_on; i++) {
		struct inbox_claim c;
		int got = inbox_claim(cfg->inbox, cfg->spool, &list.entries[i], &c);
		if (got < 0) {
			log_error("action=claim file=%s/%s outcome=error error=\"%s\"%s",
				  list.entries[i].dir, list.entries[i].name, strerror(errno),
				  errno == EXDEV ? " hint=\"inbox and spool must be on one file system\"" : "");
			*status = EXIT_INTERNAL;
			go_on = errno != EXDEV;
			continue;
		}
		if (got == 0)
			continue;
		go_on = run_one(p, &c, status);
		inbox_claim_clear(&c);
	}
	inbox_list_clear(&list);
	return go_on;
}

int run_once(const struct config *cfg)
{
	char *err = NULL;
	int status = 0;
	struct store *st = store_connect(cfg->conninfo, &err);
	if (st == NULL) {
		log_error("action=start outcome=error reason=db_unavailable error=\"%s\"", err);
		free(err);
		return EXIT_DATABASE;
	}
	if (store_schema_status(st, NULL, &err) != STORE_OK) {
		log_error("action=start outcome=error error=\"%s\" hint=\"run attestd db migrate\"", err);
		free(err);
		store_free(st);
		return EXIT_DATABASE;
	}
	struct pipeline *p = pipeline_new(cfg, st, true, &err);
	if (p == NULL) {
		log_error("action=start outcome=error error=\"%s\"", err);
		free(err);
		store_free(st);
		return EXIT_INTERNAL;
	}
	/* The spool first: files a previous run claimed and did not finish. */
	bool go_on = run_spool(p, cfg, &status);
	if (go_on && pipeline_flush_receipts(p) == REASON_DB_UNAVAILABLE) {
		status = EXIT_DATABASE;
		go_on = false;
	}
	/* Files still being written in place are waited for, a settle time
	 * at a time, as long as new ones keep settling. */
	size_t unsettled = 0, done_before = 0, idle_rounds = 0;
	while (go_on) {
		go_on = run_inbox(p, cfg, &unsettled, &status);
		if (!go_on || unsettled == 0)
			break;
		/* A file rewritten without end is left for the next run. */
		const struct pipeline_counts *c = pipeline_counts(p);
		size_t done = c->accepted + c->rejected + c->duplicate;
		idle_rounds = done == done_before ? idle_rounds + 1 : 0;
		done_before = done;
		if (idle_rounds > 5) {
			log_warn("action=run-once outcome=partial unsettled=%zu detail=\"files still "
				 "being written are left for the next run\"", unsettled);
			break;
		}
		struct timespec pause = { .tv_sec = cfg->settle_time_ms / 1000,
					  .tv_nsec = (long)(cfg->settle_time_ms % 1000) * 1000000L };
		nanosleep(&pause, NULL);
	}
	if (go_on && pipeline_sweep(p) == REASON_DB_UNAVAILABLE)
		status = EXIT_DATABASE;
	const struct pipeline_counts *c = pipeline_counts(p);
	log_info("action=run-once accepted=%zu rejected=%zu duplicate=%zu kept=%zu credited=%zu "
		 "no_credit=%zu rejected_attestations=%zu pending=%zu review=%zu", c->accepted,
		 c->rejected, c->duplicate, c->retried, c->attestations[0], c->attestations[1],
		 c->attestations[2], c->attestations[3], c->attestations[4]);
	pipeline_free(p);
	store_free(st);
	return status;
}
