/*
 * retention - the purge.  See retention.h.
 *
 * One run: finish the file removals an interrupted run left queued; refuse
 * a database dated in the future; walk every batch that is due without
 * locking anything, checking each file it would remove (a dry run counts
 * the rows too, and stops there); refuse when any file is missing or
 * different; then walk again, each batch in its own transaction: lock its
 * rows, delete them, queue its files, append the audit-log row, commit,
 * remove the files.  The second walk checks only what the first did not
 * see (a stage that fell due in between).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive.h"
#include "clock.h"
#include "date.h"
#include "exitcode.h"
#include "log.h"
#include "progress.h"
#include "retention.h"
#include "store_pipeline.h"
#include "store_retention.h"
#include "xmalloc.h"


/* A timestamp of ours this far after now means a wrong clock, not a race. */
#define RETENTION_FUTURE_SLACK (24 * 3600)
#define RETENTION_PROBLEMS_SHOWN 20
/* Files removed per round trip (set aside, asked about, removed, synced). */
#define RETENTION_FILE_CHUNK 500

struct totals {
	struct store_purge_counts rows;
	long archive_files;
	long quarantine_files;
	long kept_files;		/* referenced again before their removal: kept */
	long batches;
};

/* Files the first walk checked: "archive/<sha256>", "quarantine/<dir>/<claim id>". */
struct checked {
	char **keys;
	size_t n;
	bool sorted;
};

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void checked_add(struct checked *c, char *key)
{
	c->keys = xreallocarray(c->keys, c->n + 1, sizeof(*c->keys));
	c->keys[c->n++] = key;
	c->sorted = false;
}

static bool checked_has(struct checked *c, const char *key)
{
	if (!c->sorted && c->n > 1)
		qsort(c->keys, c->n, sizeof(*c->keys), key_cmp);
	c->sorted = true;
	return c->n && bsearch(&key, c->keys, c->n, sizeof(*c->keys), key_cmp) != NULL;
}

static void checked_clear(struct checked *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->keys[i]);
	free(c->keys);
}

static enum reason store_reason(enum store_status s)
{
	return store_fault_is_environment(s) ? REASON_DB_UNAVAILABLE : REASON_INTERNAL_ERROR;
}

static long ms_since(struct timespec t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
}

/* The first last day that is kept: D + 3 years >= today (with the clamp of
 * date + interval, 2024-02-29 + 3 years = 2027-02-28). */
static date_t first_kept_day(date_t today)
{
	date_t d = date_add_years(today, -3);
	while (date_add_years(d, 3) < today)
		d = date_add_days(d, 1);
	while (date_add_years(date_add_days(d, -1), 3) >= today)
		d = date_add_days(d, -1);
	return d;
}

/*
 * Removes queued files (their rows are gone, committed) and takes them off
 * the queue.  An archived file is set aside, then removed unless a row
 * references its hash again (a new row sharing that content): see
 * archive_remove_begin().  Stops at the first failure; what is left stays
 * queued for the next run.
 */
static enum reason remove_files(const struct config *cfg, struct store *st,
				const struct store_purge_file *files, size_t n, struct totals *t)
{
	enum reason r = REASON_OK;
	char *err = NULL;
	char **hashes = xcalloc(RETENTION_FILE_CHUNK, sizeof(*hashes));
	bool *keep = xcalloc(RETENTION_FILE_CHUNK, sizeof(*keep));
	for (size_t from = 0; from < n && r == REASON_OK; from += RETENTION_FILE_CHUNK) {
		size_t count = n - from < RETENTION_FILE_CHUNK ? n - from : RETENTION_FILE_CHUNK;
		const struct store_purge_file *chunk = files + from;
		size_t n_hashes = 0;
		bool any_quarantine = false;
		for (size_t i = 0; i < count && r == REASON_OK; i++) {
			if (strcmp(chunk[i].area, "archive") != 0)
				continue;
			hashes[n_hashes++] = (char *)chunk[i].name;
			r = archive_remove_begin(cfg->archive, chunk[i].name);
		}
		if (r != REASON_OK)
			break;
		memset(keep, 0, RETENTION_FILE_CHUNK * sizeof(*keep));
		enum store_status s = store_hashes_referenced(st, hashes, n_hashes, keep, &err);
		if (s != STORE_OK) {
			/* Unknown: every file set aside goes back. */
			for (size_t i = 0; i < n_hashes; i++)
				archive_remove_end(cfg->archive, hashes[i], true);
			r = store_reason(s);
			break;
		}
		for (size_t i = 0; i < n_hashes && r == REASON_OK; i++) {
			r = archive_remove_end(cfg->archive, hashes[i], keep[i]);
			if (keep[i])
				t->kept_files++;
			else
				t->archive_files++;
		}
		for (size_t i = 0; i < count && r == REASON_OK; i++) {
			if (strcmp(chunk[i].area, "quarantine") != 0)
				continue;
			any_quarantine = true;
			char *dir = xstrdup(chunk[i].name);
			char *slash = strchr(dir, '/');
			if (slash == NULL) {
				r = REASON_INTERNAL_ERROR;
			} else {
				*slash = '\0';
				r = archive_quarantine_remove(cfg->quarantine, dir, slash + 1);
				t->quarantine_files++;
			}
			free(dir);
		}
		/* Durable before they leave the queue, or a crash could bring back
		 * files nobody would remove any more. */
		if (r == REASON_OK && n_hashes)
			r = archive_sync(cfg->archive);
		if (r == REASON_OK && any_quarantine)
			r = archive_sync(cfg->quarantine);
		if (r != REASON_OK)
			break;
		if ((s = store_purge_dequeue(st, chunk, count, &err)) != STORE_OK)
			r = store_reason(s);
	}
	if (r != REASON_OK)
		log_error("action=purge-files outcome=error reason=%s error=\"%s\" hint=\"the files "
			  "stay queued; the next attestd purge removes them\"", reason_code(r),
			  err ? err : strerror(errno));
	free(err);
	free(hashes);
	free(keep);
	return r;
}

/*
 * Checks the files a batch would remove against the database: each archived
 * file re-hashed, each quarantined original found (and re-hashed when it was
 * read), except those in skip (checked by the first walk).  Counts the
 * problems into *problems (the first ones said on stderr), records what was
 * checked into done (may be NULL), and fills *queue with what to remove
 * once the rows are gone.
 */
static void check_files(const struct config *cfg, char *const *hashes, size_t n_hashes,
			const struct store_purge_rejected *rejected, size_t n_rejected,
			struct checked *skip, struct checked *done, size_t *problems,
			struct store_purge_file **queue, size_t *n_queue)
{
	*queue = xcalloc(n_hashes + n_rejected + 1, sizeof(**queue));
	*n_queue = 0;
	for (size_t i = 0; i < n_hashes; i++) {
		char *key = xasprintf("archive/%s", hashes[i]);
		if ((skip && checked_has(skip, key)) ||
		    archive_check(cfg->archive, hashes[i]) == REASON_OK) {
			struct store_purge_file *f = &(*queue)[(*n_queue)++];
			snprintf(f->area, sizeof(f->area), "archive");
			snprintf(f->name, sizeof(f->name), "%s", hashes[i]);
			if (done) {
				checked_add(done, key);
				key = NULL;
			}
		} else if (++*problems <= RETENTION_PROBLEMS_SHOWN) {
			fprintf(stderr, "  %s/%.2s/%.2s/%s: %s\n", cfg->archive, hashes[i],
				hashes[i] + 2, hashes[i], archive_has(cfg->archive, hashes[i])
				? "its content does not match the SHA-256 the database records"
				: "missing, but the database records it");
		}
		free(key);
	}
	for (size_t i = 0; i < n_rejected; i++) {
		const struct store_purge_rejected *q = &rejected[i];
		char *key = xasprintf("quarantine/%s/%s", q->inbox_dir, q->claim_id);
		bool seen = skip && checked_has(skip, key);
		char *file = NULL;
		if (archive_quarantine_find(cfg->quarantine, q->inbox_dir, q->claim_id, q->file_name,
					    seen ? "" : q->sha256, &file) == REASON_OK) {
			struct store_purge_file *f = &(*queue)[(*n_queue)++];
			snprintf(f->area, sizeof(f->area), "quarantine");
			snprintf(f->name, sizeof(f->name), "%s/%s", q->inbox_dir, file);
			if (done) {
				checked_add(done, key);
				key = NULL;
			}
		} else if (++*problems <= RETENTION_PROBLEMS_SHOWN) {
			fprintf(stderr, "  %s/%s/%s.%s: %s\n", cfg->quarantine, q->inbox_dir,
				q->claim_id, q->file_name, file ? "its content does not match the "
				"SHA-256 the database records" : "missing, but a rejected submission "
				"records it");
		}
		free(key);
		free(file);
	}
}

static void totals_add(struct totals *t, const struct store_purge_counts *c)
{
	t->rows.stages += c->stages;
	t->rows.submissions += c->submissions;
	t->rows.attestations += c->attestations;
	t->rows.decisions += c->decisions;
	t->rows.sheets += c->sheets;
	t->rows.participants += c->participants;
	t->rows.receipts += c->receipts;
	t->rows.rejected += c->rejected;
}

static char *counts_detail(const struct store_purge_counts *c, long archive, long quarantine)
{
	return xasprintf("stages=%ld attestations=%ld decisions=%ld sheets=%ld participants=%ld "
			 "submissions=%ld rejected=%ld receipts=%ld archive_files=%ld "
			 "quarantine_files=%ld", c->stages, c->attestations, c->decisions, c->sheets,
			 c->participants, c->submissions, c->rejected, c->receipts, archive, quarantine);
}

static bool batch_full(const struct store_purge_batch *b)
{
	return b->n_stages == RETENTION_BATCH || b->n_rejected == RETENTION_BATCH;
}

static long queued_archive(const struct store_purge_file *q, size_t n)
{
	long k = 0;
	for (size_t i = 0; i < n; i++)
		k += strcmp(q[i].area, "archive") == 0;
	return k;
}

/*
 * The first walk: every batch that is due, nothing locked; each file it
 * would remove checked into done; with count, the rows counted into t.
 * Returns 0 or an exit status; *problems counts the files that fail.
 */
static int walk_check(const struct config *cfg, struct store *st, const char *today, bool count,
		      struct checked *done, size_t *problems, struct totals *t)
{
	struct store_purge_batch b;
	store_purge_batch_init(&b);
	char *err = NULL;
	enum store_status s;
	do {
		char **hashes = NULL;
		size_t n_hashes = 0, n_rejected = 0, n_queue = 0;
		struct store_purge_rejected *rejected = NULL;
		struct store_purge_file *queue = NULL;
		struct store_purge_counts c = { 0 };
		s = store_purge_next(st, today, cfg->timezone, RETENTION_BATCH, false, &b, &err);
		if (s == STORE_OK && b.n_stages + b.n_rejected > 0)
			s = store_purge_files(st, &b, &hashes, &n_hashes, &rejected, &n_rejected, &err);
		if (s == STORE_OK) {
			check_files(cfg, hashes, n_hashes, rejected, n_rejected, NULL, done, problems,
				    &queue, &n_queue);
			if (count && (s = store_purge_rows(st, &b, true, &c, &err)) == STORE_OK) {
				totals_add(t, &c);
				long n_archive = queued_archive(queue, n_queue);
				t->archive_files += n_archive;
				t->quarantine_files += (long)n_queue - n_archive;
			}
		}
		for (size_t i = 0; i < n_hashes; i++)
			free(hashes[i]);
		free(hashes);
		free(rejected);
		free(queue);
	} while (s == STORE_OK && batch_full(&b));
	store_purge_batch_clear(&b);
	if (s != STORE_OK) {
		fprintf(stderr, "attestd: purge: %s\n", err ? err : "database error");
		free(err);
		return store_exit_code(s);
	}
	return 0;
}

/*
 * The second walk, one batch: one transaction.  *more says whether another
 * may follow (this one was full).  Returns 0 or an exit status (the batch
 * rolled back).
 */
static int purge_batch(const struct config *cfg, struct store *st, const char *today,
		       const char *cutoff, struct store_purge_batch *b, struct checked *checked,
		       struct totals *t, bool *more, FILE *out)
{
	char *err = NULL;
	char **hashes = NULL;
	size_t n_hashes = 0, n_rejected = 0, n_queue = 0, problems = 0;
	struct store_purge_rejected *rejected = NULL;
	struct store_purge_file *queue = NULL;
	struct store_purge_counts c = { 0 };
	char *detail = NULL;
	int status = 0;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	*more = false;

	enum store_status s = store_begin(st, &err);
	if (s == STORE_OK)
		s = store_purge_next(st, today, cfg->timezone, RETENTION_BATCH, true, b, &err);
	if (s == STORE_OK && b->n_stages + b->n_rejected == 0 && t->batches > 0)
		goto out;	/* the previous batch was exactly full: nothing more */
	if (s == STORE_OK)
		s = store_purge_files(st, b, &hashes, &n_hashes, &rejected, &n_rejected, &err);
	if (s != STORE_OK)
		goto out;
	check_files(cfg, hashes, n_hashes, rejected, n_rejected, checked, NULL, &problems, &queue,
		    &n_queue);
	if (problems) {
		fprintf(stderr, "attestd: purge refused: %zu files of a stage that fell due meanwhile "
			"are not what the database records (above); this batch was rolled back\n",
			problems);
		status = EXIT_INVALID;
		goto out;
	}
	if ((s = store_purge_rows(st, b, false, &c, &err)) != STORE_OK)
		goto out;
	long n_archive = queued_archive(queue, n_queue);
	detail = counts_detail(&c, n_archive, (long)n_queue - n_archive);
	char subject[64];
	snprintf(subject, sizeof(subject), "stages ended before %s", cutoff);
	s = store_purge_queue(st, queue, n_queue, &err);
	if (s == STORE_OK)
		s = store_audit(st, "attestd", "retention.purge", subject, detail, &err);
	if (s == STORE_OK)
		s = store_commit(st, &err);
	if (s != STORE_OK)
		goto out;
	long db_ms = ms_since(t0);
	if (remove_files(cfg, st, queue, n_queue, t) != REASON_OK)
		status = EXIT_INTERNAL;
	long files_ms = ms_since(t0) - db_ms;
	log_info("action=purge outcome=committed %s db_ms=%ld files_ms=%ld", detail, db_ms,
		 files_ms);
	fprintf(out, "transaction %ld: %ld stages, %ld attestations, %ld rejected files: "
		"committed in %.1f s, %zu files removed in %.1f s\n", t->batches + 1, c.stages,
		c.attestations, c.rejected, (double)db_ms / 1000.0, n_queue,
		(double)files_ms / 1000.0);
	totals_add(t, &c);
	t->batches++;
	*more = status == 0 && batch_full(b);
out:
	if (s != STORE_OK) {
		fprintf(stderr, "attestd: purge: %s\n", err ? err : "database error");
		log_error("action=purge outcome=error error=\"%s\"", err ? err : "");
		status = store_exit_code(s);
	}
	store_abort(st);	/* a no-op after the commit */
	for (size_t i = 0; i < n_hashes; i++)
		free(hashes[i]);
	free(hashes);
	free(rejected);
	free(queue);
	free(detail);
	free(err);
	return status;
}

static void report(FILE *out, const struct totals *t, bool dry_run)
{
	const struct store_purge_counts *c = &t->rows;
	fprintf(out, "%s:\n", dry_run ? "would remove" : "removed");
	fprintf(out, "  stages            %8ld\n", c->stages);
	fprintf(out, "  attestations      %8ld  (and %ld decisions of their history)\n",
		c->attestations, c->decisions);
	fprintf(out, "  sign-in sheets    %8ld  (and %ld participants with their identity data)\n",
		c->sheets, c->participants);
	fprintf(out, "  submissions       %8ld  (files received, %ld of them rejected)\n",
		c->submissions, c->rejected);
	fprintf(out, "  receipts          %8ld\n", c->receipts);
	fprintf(out, "  archived files    %8ld  (originals and identity scans)\n", t->archive_files);
	fprintf(out, "  quarantined files %8ld\n", t->quarantine_files);
	if (t->kept_files)
		fprintf(out, "kept %ld archived files a new row references again\n", t->kept_files);
	fprintf(out, "kept: licence events (the ledger), balances and their history, the audit log\n");
}

/* Refuses a database that records our own timestamps after now. */
static int refuse_future(const struct config *cfg, struct store *st, time_t now)
{
	char *err = NULL, *future = NULL;
	enum store_status s = store_purge_future(st, now + RETENTION_FUTURE_SLACK, &future, &err);
	if (s != STORE_OK) {
		fprintf(stderr, "attestd: purge: %s\n", err ? err : "database error");
		free(err);
		return store_exit_code(s);
	}
	if (future == NULL)
		return 0;
	char at[26] = "";
	date_format_local_datetime(now, cfg->timezone, at);
	fprintf(stderr, "attestd: purge refused: the database records %s, later than now (%s): "
		"the system clock or the data is wrong, and a purge on a wrong date would remove "
		"what must be kept. Nothing was removed; set the clock right (or find the row), "
		"then run attestd purge again\n", future, at);
	log_error("action=purge outcome=refused reason=future_data found=\"%s\"", future);
	free(future);
	return EXIT_INVALID;
}

/* Files an earlier run queued and did not remove (it stopped after its commit). */
static int finish_interrupted(const struct config *cfg, struct store *st, bool dry_run, FILE *out)
{
	char *err = NULL;
	struct store_purge_file *left = NULL;
	size_t n_left = 0;
	int status = 0;
	enum store_status s = store_purge_queued(st, &left, &n_left, &err);
	if (s != STORE_OK) {
		fprintf(stderr, "attestd: purge: %s\n", err ? err : "database error");
		status = store_exit_code(s);
	} else if (n_left && dry_run) {
		fprintf(out, "an interrupted purge left %zu files to remove\n", n_left);
	} else if (n_left) {
		struct totals done = { 0 };
		if (remove_files(cfg, st, left, n_left, &done) != REASON_OK)
			status = EXIT_INTERNAL;
		else
			fprintf(out, "finished an interrupted purge: %ld archived and %ld quarantined "
				"files removed\n", done.archive_files, done.quarantine_files);
	}
	free(left);
	free(err);
	return status;
}

int retention_purge(const struct config *cfg, struct store *st, bool dry_run, bool progress,
		    FILE *out)
{
	char *err = NULL;
	struct totals t = { 0 };
	struct checked checked = { 0 };
	size_t problems = 0;
	int status = 0;

	struct timespec now = clock_now();
	date_t today;
	if (!date_local_from_epoch(now.tv_sec, cfg->timezone, &today)) {
		fprintf(stderr, "attestd: unknown time zone %s\n", cfg->timezone);
		return EXIT_INTERNAL;
	}
	char day[11], cutoff[11];
	date_format(today, day);
	date_format(first_kept_day(today), cutoff);

	bool locked = false;
	enum store_status s = store_purge_lock(st, &locked, &err);
	if (s != STORE_OK) {
		fprintf(stderr, "attestd: purge: %s\n", err ? err : "database error");
		free(err);
		return store_exit_code(s);
	}
	if (!locked) {
		fprintf(out, "purge: another purge is running on this database; nothing done\n");
		return 0;
	}
	fprintf(out, "purge%s: today %s (%s): stages whose last day is before %s and rejected "
		"files received before %s are due\n", dry_run ? " (dry run)" : "", day, cfg->timezone,
		cutoff, cutoff);

	if ((status = finish_interrupted(cfg, st, dry_run, out)) != 0)
		goto out;
	if ((status = refuse_future(cfg, st, now.tv_sec)) != 0)
		goto out;
	if ((status = walk_check(cfg, st, day, dry_run, &checked, &problems, &t)) != 0)
		goto out;
	if (problems) {
		if (problems > RETENTION_PROBLEMS_SHOWN)
			fprintf(stderr, "  ... and %zu more\n", problems - RETENTION_PROBLEMS_SHOWN);
		fprintf(stderr, "attestd: purge %s: %zu of the files it would remove are not what the "
			"database records (above)%s. Restore them from backup (or find out why they "
			"differ), then run attestd purge again\n",
			dry_run ? "would be refused" : "refused", problems,
			dry_run ? "" : "; nothing was removed");
		log_error("action=purge outcome=refused problems=%zu hint=\"archived or quarantined "
			  "files missing or different; attestd purge --dry-run lists them\"", problems);
		status = EXIT_INVALID;
		goto out;
	}
	if (dry_run) {
		report(out, &t, true);
		goto out;
	}

	struct store_purge_batch b;
	store_purge_batch_init(&b);
	bool more = true;
	/* Of the files the first walk checked: those the batches remove. */
	struct progress *pg = progress_new(stderr, progress, "purge", "files",
					   (long long)checked.n);
	progress_update(pg, 0, 0);
	while (more && status == 0) {
		status = purge_batch(cfg, st, day, cutoff, &b, &checked, &t, &more, out);
		long long files = t.archive_files + t.quarantine_files + t.kept_files;
		progress_update(pg, files, files);
	}
	progress_end(pg);
	store_purge_batch_clear(&b);
	if (t.batches > 0)
		report(out, &t, false);
	if (t.batches > 1)
		fprintf(out, "(%ld transactions, each with its audit-log row)\n", t.batches);
out:
	checked_clear(&checked);
	return status;
}
