/*
 * reconcile - see reconcile.h.  What can be inconsistent after a crash or a
 * hand in the archive is what changed since the last clean comparison: the
 * archive directories whose mtime moved since (a stat each, a listing of
 * those only), and the rows processed since (an index range).  Names go to
 * the database in batches, so memory stays the same whatever the archive's
 * size; the cost follows the work done since, not three years of archive.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive.h"
#include "crashpoint.h"
#include "log.h"
#include "reconcile.h"
#include "xmalloc.h"

#define RECONCILE_LOGGED_MAX 20	/* orphans logged one by one, then counted */
#define CLAIM_ID_LEN 30		/* "<sec:11>.<nsec:9>-<hex:8>" */
/* Looked at again before the last clean mark: mtime granularity, clocks of
 * the hosts sharing the archive, and the ten minutes a row may wait for
 * its files (store_recorded_since) on top. */
#define RECONCILE_SLACK (15 * 60)
#define RECONCILE_PAGE 500

static void alive_say(const struct reconcile_alive *alive, const char *where)
{
	if (alive != NULL && alive->fn != NULL)
		alive->fn(where, alive->ctx);
}

/* After each archive directory ab/: also where a test holds a comparison
 * half done (ATTESTD_HOLD_AT=reconcile_dir:N). */
static void alive_dirs(const struct reconcile_alive *alive, size_t done, size_t total)
{
	crashpoint("reconcile_dir");
	char where[64];
	snprintf(where, sizeof(where), "%zu of %zu archive directories", done, total);
	alive_say(alive, where);
}

static void alive_rows(const struct reconcile_alive *alive, size_t rows)
{
	char where[64];
	snprintf(where, sizeof(where), "%zu rows checked", rows);
	alive_say(alive, where);
}

/* A batch of names waiting for the database's answer. */
struct batch {
	const struct config *cfg;
	struct store *st;
	const struct reconcile_alive *alive;
	bool quarantine;		/* claim ids, else hashes */
	char *names[STORE_RECONCILE_BATCH];
	size_t n;
	size_t *orphans;
	enum store_status status;
	char *err;
};

static void batch_flush(struct batch *b)
{
	bool known[STORE_RECONCILE_BATCH];
	if (b->n == 0)
		return;
	if (b->status == STORE_OK) {
		const char *const *names = (const char *const *)b->names;
		b->status = b->quarantine
			? store_claims_rejected(b->st, names, b->n, known, &b->err)
			: store_hashes_known(b->st, names, b->n, known, &b->err);
	}
	for (size_t i = 0; i < b->n; i++) {
		if (b->status == STORE_OK && !known[i] && ++*b->orphans <= RECONCILE_LOGGED_MAX) {
			if (b->quarantine)
				log_error("action=reconcile orphan=quarantine id=%s detail=\"a "
					  "quarantined file of no rejected submission\"", b->names[i]);
			else
				log_error("action=reconcile orphan=archive id=%s detail=\"an archived "
					  "file no submission or identity document records: keep it "
					  "and find where it came from\"", b->names[i]);
		}
		free(b->names[i]);
	}
	b->n = 0;
}

static void batch_add(struct batch *b, const char *name)
{
	b->names[b->n++] = xstrdup(name);
	if (b->n == STORE_RECONCILE_BATCH)
		batch_flush(b);
}

/* A file no look-up finds: its name says ab/cd/, it is elsewhere. */
static void misplaced(struct batch *b, const char *sha)
{
	if (++*b->orphans <= RECONCILE_LOGGED_MAX)
		log_error("action=reconcile orphan=archive id=%s detail=\"an archived file outside "
			  "the directory its name gives (%.2s/%.2s/): move it there or find where it "
			  "came from\"", sha, sha, sha + 2);
}

static void collect_hash(const char *sha, bool in_place, void *ctx)
{
	if (in_place)
		batch_add(ctx, sha);
	else
		misplaced(ctx, sha);
}

static void batch_tick(size_t done, size_t total, void *ctx)
{
	struct batch *b = ctx;
	alive_dirs(b->alive, done, total);
}

static void collect_quarantined(const char *dir, const char *file, void *ctx)
{
	(void)dir;
	if (strlen(file) > CLAIM_ID_LEN) {
		char id[CLAIM_ID_LEN + 1];
		memcpy(id, file, CLAIM_ID_LEN);
		id[CLAIM_ID_LEN] = '\0';
		batch_add(ctx, id);
	}
}

struct missing {
	const struct config *cfg;
	struct reconcile_report *rep;
};

static void archive_missing(struct missing *m, const char *sha)
{
	if (!archive_has(m->cfg->archive, sha) &&
	    ++m->rep->archive_missing <= RECONCILE_LOGGED_MAX)
		log_error("action=reconcile missing=archive id=%s detail=\"recorded but not in the "
			  "archive: restore it from backup\"", sha);
}

/*
 * A full comparison (no clean one recorded: the first start, or the mark
 * forgotten on purpose): the archive's listing and the database's hashes,
 * both in byte order, merged, rather than two million look-ups by name and
 * a stat a hash (three years: 29 s).  What one side lacks is only a
 * candidate, checked again the usual way: a name the cursor's snapshot did
 * not know goes to the batch (another instance may have committed it
 * since), a hash the listing lacked is stat'ed (it may have come since).
 */
struct merge {
	struct store_hashes *db;
	struct batch *orphans;		/* names the database may not know */
	struct missing *missing;
	char next[65];			/* its next distinct hash, "" after the last */
	bool next_must;			/* an accepted row among those of next */
	char ahead[65];			/* the row read past next's run, "" at the end */
	bool ahead_must;
	size_t rows;
	enum store_status status;
	char *err;
};

/* One row of the cursor into ahead. */
static void merge_read(struct merge *m)
{
	const char *h = NULL;
	bool must = false;
	do {
		if (m->status == STORE_OK)
			m->status = store_hashes_next(m->db, &h, &must, &m->err);
		if (m->status != STORE_OK || h == NULL) {
			m->ahead[0] = '\0';
			return;
		}
		m->rows++;
		/* Not a hash (a scan's is not checked by the schema): no file of
		 * the archive can bear that name. */
	} while (strlen(h) != 64 || strspn(h, "0123456789abcdef") != 64);
	if (m->next[0] && strcmp(h, m->next) < 0) {
		/* Byte order is the merge's premise: never guess past it. */
		m->status = STORE_ERROR;
		m->err = xasprintf("the database's hashes came out of byte order at %.70s", h);
		m->ahead[0] = '\0';
		return;
	}
	memcpy(m->ahead, h, 65);
	m->ahead_must = must;
}

/* The next distinct hash, its rows' "must" or'ed. */
static void merge_advance(struct merge *m)
{
	memcpy(m->next, m->ahead, sizeof(m->next));
	m->next_must = m->ahead_must;
	if (!m->next[0])
		return;
	for (;;) {
		merge_read(m);
		if (strcmp(m->ahead, m->next) != 0)
			break;
		m->next_must |= m->ahead_must;
	}
}

static void merge_file(const char *sha, bool in_place, void *ctx)
{
	struct merge *m = ctx;
	if (!in_place) {
		misplaced(m->orphans, sha);
		return;
	}
	while (m->next[0] && strcmp(m->next, sha) < 0) {
		if (m->next_must)
			archive_missing(m->missing, m->next);
		merge_advance(m);
	}
	if (m->next[0] && strcmp(m->next, sha) == 0)
		merge_advance(m);
	else if (m->status == STORE_OK)
		batch_add(m->orphans, sha);
}

static void merge_tick(size_t done, size_t total, void *ctx)
{
	struct merge *m = ctx;
	alive_dirs(m->orphans->alive, done, total);
}

/* The files one recorded submission must have. */
static void check_recorded(const struct store_recorded *r, void *ctx)
{
	struct missing *m = ctx;
	if (r->accepted) {
		if (r->sha256[0])
			archive_missing(m, r->sha256);
		for (const char *p = r->scans; *p;) {
			size_t n = strcspn(p, ",");
			if (n == 64) {
				char sha[65];
				memcpy(sha, p, 64);
				sha[64] = '\0';
				archive_missing(m, sha);
			}
			p += n + (p[n] == ',');
		}
		return;
	}
	char *file = NULL;
	if (archive_quarantine_find(m->cfg->quarantine, r->inbox_dir, r->claim_id, r->file_name, "",
				    &file) != REASON_OK && file == NULL &&
	    ++m->rep->quarantine_missing <= RECONCILE_LOGGED_MAX)
		log_error("action=reconcile missing=quarantine id=%s detail=\"a rejected submission "
			  "whose original is not in quarantine\"", r->claim_id);
	free(file);
}

enum reason reconcile_run(const struct config *cfg, struct store *st,
			  const struct reconcile_alive *alive, struct reconcile_report *rep)
{
	enum reason r = REASON_OK;
	char *err = NULL;
	memset(rep, 0, sizeof(*rep));
	long long started = (long long)time(NULL);
	long long mark = 0;
	enum store_status s = store_reconcile_mark(st, &mark, &err);
	if (s != STORE_OK) {
		log_error("action=reconcile outcome=error error=\"%s\"", err ? err : "");
		free(err);
		return store_fault_is_environment(s) ? REASON_DB_UNAVAILABLE : REASON_INTERNAL_ERROR;
	}
	long long since = mark > RECONCILE_SLACK ? mark - RECONCILE_SLACK : 0;

	/* Files no row knows, in the directories changed since (all of them
	 * and every accepted row's files, merged, in a full comparison). */
	struct batch b = { .cfg = cfg, .st = st, .alive = alive, .orphans = &rep->archive_orphans };
	struct missing m = { .cfg = cfg, .rep = rep };
	size_t dirs = 0, dirs_read = 0, rows = 0;
	bool full = since == 0;
	if (full) {
		struct merge mg = { .orphans = &b, .missing = &m };
		mg.status = store_hashes_open(st, &mg.db, &mg.err);
		merge_read(&mg);
		merge_advance(&mg);
		if (mg.status == STORE_OK &&
		    archive_list(cfg->archive, 0, merge_file, merge_tick, &mg, &dirs, &dirs_read) != 0)
			r = REASON_IO_ERROR;
		/* Hashes past the archive's last file: a stat each. */
		for (size_t tail = 0; r == REASON_OK && mg.next[0]; merge_advance(&mg)) {
			if (mg.next_must)
				archive_missing(&m, mg.next);
			if (++tail % RECONCILE_PAGE == 0)
				alive_rows(alive, mg.rows);
		}
		store_hashes_close(mg.db);
		rows = mg.rows;
		if (mg.status != STORE_OK && b.status == STORE_OK) {
			b.status = mg.status;
			b.err = mg.err;
		} else {
			free(mg.err);
		}
	} else if (archive_list(cfg->archive, since, collect_hash, batch_tick, &b, &dirs,
				&dirs_read) != 0) {
		r = REASON_IO_ERROR;
	}
	batch_flush(&b);
	struct batch q = { .cfg = cfg, .st = st, .quarantine = true,
			   .orphans = &rep->quarantine_orphans };
	if (r == REASON_OK && archive_quarantine_list(cfg->quarantine, since, collect_quarantined,
						       &q) != 0)
		r = REASON_IO_ERROR;
	batch_flush(&q);
	s = b.status != STORE_OK ? b.status : q.status;
	err = b.err ? b.err : q.err;
	if (b.err && q.err)
		free(q.err);

	/* Rows whose files are not there, among those processed since (the
	 * rejected only in a full comparison: the merge saw every accepted). */
	long long after = 0;
	size_t page = 0;
	while (r == REASON_OK && s == STORE_OK) {
		s = store_recorded_since(st, since, full, &after, RECONCILE_PAGE, check_recorded,
					 &m, &page, &err);
		rows += page;
		alive_rows(alive, rows);
		if (page < RECONCILE_PAGE)
			break;
	}
	if (r != REASON_OK) {
		log_error("action=reconcile outcome=error error=\"cannot list %s or %s\"",
			  cfg->archive, cfg->quarantine);
		goto out;
	}
	if (s != STORE_OK) {
		log_error("action=reconcile outcome=error error=\"%s\"", err ? err : "");
		r = store_fault_is_environment(s) ? REASON_DB_UNAVAILABLE : REASON_INTERNAL_ERROR;
		goto out;
	}
	size_t total = rep->archive_orphans + rep->archive_missing + rep->quarantine_orphans +
		       rep->quarantine_missing;
	if (total) {
		/* The mark stays: the next start looks again until it is mended. */
		log_error("action=reconcile outcome=alarm archive_orphans=%zu archive_missing=%zu "
			  "quarantine_orphans=%zu quarantine_missing=%zu hint=\"nothing was deleted; "
			  "see the lines above\"", rep->archive_orphans, rep->archive_missing,
			  rep->quarantine_orphans, rep->quarantine_missing);
	} else {
		if (store_reconcile_mark_set(st, started, &err) != STORE_OK) {
			log_error("action=reconcile outcome=error error=\"%s\"", err ? err : "");
			r = REASON_DB_UNAVAILABLE;
			goto out;
		}
		log_info("action=reconcile outcome=ok since=%lld dirs=%zu dirs_read=%zu rows=%zu",
			 since, dirs, dirs_read, rows);
	}
out:
	free(err);
	return r;
}
