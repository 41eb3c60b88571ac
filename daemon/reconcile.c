/*
 * reconcile - see reconcile.h.  Both sides are turned into sorted lists
 * and merged, so the cost is a directory walk and two queries, whatever the
 * size of three years of archive.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "log.h"
#include "reconcile.h"
#include "xmalloc.h"

#define RECONCILE_LOGGED_MAX 20	/* orphans logged one by one, then counted */
#define CLAIM_ID_LEN 30		/* "<sec:11>.<nsec:9>-<hex:8>" */

struct names {
	char **items;
	size_t n;
};

static void names_add(struct names *l, const char *s)
{
	l->items = xreallocarray(l->items, l->n + 1, sizeof(*l->items));
	l->items[l->n++] = xstrdup(s);
}

static void names_free(char **items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void collect_hash(const char *sha, void *ctx)
{
	names_add(ctx, sha);
}

static void collect_quarantined(const char *dir, const char *file, void *ctx)
{
	(void)dir;
	if (strlen(file) > CLAIM_ID_LEN) {
		char id[CLAIM_ID_LEN + 1];
		memcpy(id, file, CLAIM_ID_LEN);
		id[CLAIM_ID_LEN] = '\0';
		names_add(ctx, id);
	}
}

/* Merges two sorted lists; reports what is only on one side. */
static void compare(char **fs, size_t n_fs, char **db, size_t n_db, const char *what,
		    const char *fs_only_msg, const char *db_only_msg, size_t *fs_only,
		    size_t *db_only)
{
	size_t i = 0, j = 0;
	while (i < n_fs || j < n_db) {
		int c = i == n_fs ? 1 : j == n_db ? -1 : strcmp(fs[i], db[j]);
		if (c == 0) {
			i++;
			j++;
		} else if (c < 0) {
			if (fs_only && ++*fs_only <= RECONCILE_LOGGED_MAX)
				log_error("action=reconcile orphan=%s id=%s detail=\"%s\"", what, fs[i],
					  fs_only_msg);
			i++;
		} else {
			if (db_only && ++*db_only <= RECONCILE_LOGGED_MAX)
				log_error("action=reconcile missing=%s id=%s detail=\"%s\"", what, db[j],
					  db_only_msg);
			j++;
		}
	}
}

enum reason reconcile_run(const struct config *cfg, struct store *st,
			  struct reconcile_report *rep)
{
	struct names fs_archive = { 0 }, fs_quarantine = { 0 };
	/* All rows, for files no row knows; settled rows, for rows whose file
	 * is missing (another instance may still be archiving a recent one). */
	char **db_archive = NULL, **db_rejected = NULL, **db_archive_settled = NULL,
	     **db_rejected_settled = NULL;
	size_t n_archive = 0, n_rejected = 0, n_archive_settled = 0, n_rejected_settled = 0;
	char *err = NULL;
	enum reason r = REASON_OK;
	memset(rep, 0, sizeof(*rep));

	if (archive_list(cfg->archive, collect_hash, &fs_archive) != 0 ||
	    archive_quarantine_list(cfg->quarantine, collect_quarantined, &fs_quarantine) != 0) {
		r = REASON_IO_ERROR;
		goto out;
	}
	enum store_status s = store_archive_hashes(st, false, &db_archive, &n_archive, &err);
	if (s == STORE_OK)
		s = store_archive_hashes(st, true, &db_archive_settled, &n_archive_settled, &err);
	if (s == STORE_OK)
		s = store_rejected_claims(st, false, &db_rejected, &n_rejected, &err);
	if (s == STORE_OK)
		s = store_rejected_claims(st, true, &db_rejected_settled, &n_rejected_settled, &err);
	if (s != STORE_OK) {
		log_error("action=reconcile outcome=error error=\"%s\"", err ? err : "");
		r = s == STORE_UNAVAILABLE ? REASON_DB_UNAVAILABLE : REASON_INTERNAL_ERROR;
		goto out;
	}
	if (fs_archive.n > 1)
		qsort(fs_archive.items, fs_archive.n, sizeof(char *), name_cmp);
	if (fs_quarantine.n > 1)
		qsort(fs_quarantine.items, fs_quarantine.n, sizeof(char *), name_cmp);
	const char *orphan = "an archived file no submission or identity document records: keep "
			     "it and find where it came from";
	const char *missing = "recorded but not in the archive: restore it from backup";
	compare(fs_archive.items, fs_archive.n, db_archive, n_archive, "archive", orphan, missing,
		&rep->archive_orphans, NULL);
	compare(fs_archive.items, fs_archive.n, db_archive_settled, n_archive_settled, "archive",
		orphan, missing, NULL, &rep->archive_missing);
	orphan = "a quarantined file of no rejected submission";
	missing = "a rejected submission whose original is not in quarantine";
	compare(fs_quarantine.items, fs_quarantine.n, db_rejected, n_rejected, "quarantine",
		orphan, missing, &rep->quarantine_orphans, NULL);
	compare(fs_quarantine.items, fs_quarantine.n, db_rejected_settled, n_rejected_settled,
		"quarantine", orphan, missing, NULL, &rep->quarantine_missing);
	size_t total = rep->archive_orphans + rep->archive_missing + rep->quarantine_orphans +
		       rep->quarantine_missing;
	if (total)
		log_error("action=reconcile outcome=alarm archive_orphans=%zu archive_missing=%zu "
			  "quarantine_orphans=%zu quarantine_missing=%zu hint=\"nothing was deleted; "
			  "see the lines above\"", rep->archive_orphans, rep->archive_missing,
			  rep->quarantine_orphans, rep->quarantine_missing);
	else
		log_info("action=reconcile outcome=ok archived=%zu quarantined=%zu", fs_archive.n,
			 fs_quarantine.n);
out:
	free(err);
	names_free(fs_archive.items, fs_archive.n);
	names_free(fs_quarantine.items, fs_quarantine.n);
	names_free(db_archive, n_archive);
	names_free(db_rejected, n_rejected);
	names_free(db_archive_settled, n_archive_settled);
	names_free(db_rejected_settled, n_rejected_settled);
	return r;
}
