/*
 * store_retention - see store_retention.h.
 *
 * A batch is a list of stage ids and of stage-less rejected submission
 * ids; every statement takes them as arrays, so a batch costs a handful of
 * statements whatever its size, and each delete finds its rows (and
 * PostgreSQL the rows that reference them) through indexes (004).
 */
#include <inttypes.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "store_retention.h"
#include "xmalloc.h"

/* "pg_advisory_lock" key, arbitrary but fixed: "attestd purge". */
#define PURGE_LOCK_KEY "727002"

static enum store_status query(struct store *st, const char *sql, int n, const char *const *v,
			       PGresult **res, char **err)
{
	PGresult *r = PQexecParams(st->conn, sql, n, NULL, v, NULL, NULL, 0);
	enum store_status rc = store_result_status(st, r, err);
	if (rc != STORE_OK || res == NULL)
		PQclear(r);
	else
		*res = r;
	return rc;
}

/* "{1,2,3}" */
static char *int_array(const int64_t *v, size_t n)
{
	size_t cap = 3 + n * 21, len = 0;
	char *buf = xmalloc(cap);
	buf[len++] = '{';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s%" PRId64, i ? "," : "", v[i]);
	buf[len++] = '}';
	buf[len] = '\0';
	return buf;
}

/* {"a","b"}, quoted and escaped; get(ctx, i) gives element i. */
static char *text_array(size_t n, const char *(*get)(const void *ctx, size_t i), const void *ctx)
{
	size_t cap = 3, len = 0;
	for (size_t i = 0; i < n; i++)
		cap += 2 * strlen(get(ctx, i)) + 3;
	char *buf = xmalloc(cap);
	buf[len++] = '{';
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf[len++] = ',';
		buf[len++] = '"';
		for (const char *p = get(ctx, i); *p; p++) {
			if (*p == '"' || *p == '\\')
				buf[len++] = '\\';
			buf[len++] = *p;
		}
		buf[len++] = '"';
	}
	buf[len++] = '}';
	buf[len] = '\0';
	return buf;
}

static const char *get_string(const void *ctx, size_t i)
{
	return ((char *const *)ctx)[i];
}

static const char *get_area(const void *ctx, size_t i)
{
	return ((const struct store_purge_file *)ctx)[i].area;
}

static const char *get_name(const void *ctx, size_t i)
{
	return ((const struct store_purge_file *)ctx)[i].name;
}

static int64_t *int_column(PGresult *res, int col, size_t *n)
{
	size_t rows = (size_t)PQntuples(res);
	int64_t *v = xcalloc(rows ? rows : 1, sizeof(*v));
	for (size_t i = 0; i < rows; i++)
		v[i] = store_col_int64(res, (int)i, col);
	*n = rows;
	return v;
}

/*
 * One page of a keyset walk over rows (id, key) ordered by (key, id): the
 * ids into *ids, and (after_key, *after_id) moved on to the last row's.
 */
static enum store_status id_page(struct store *st, const char *sql, int n, const char *const *v,
				 int64_t **ids, size_t *n_ids, char *after_key, size_t key_size,
				 int64_t *after_id, char **err)
{
	PGresult *res;
	enum store_status rc = query(st, sql, n, v, &res, err);
	if (rc != STORE_OK)
		return rc;
	*ids = int_column(res, 0, n_ids);
	if (*n_ids) {
		int last = (int)*n_ids - 1;
		store_col_text(res, last, 1, after_key, key_size);
		*after_id = (*ids)[last];
	}
	PQclear(res);
	return STORE_OK;
}

void store_purge_batch_init(struct store_purge_batch *b)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->stage_after_day, sizeof(b->stage_after_day), "0001-01-01");
	snprintf(b->rejected_after, sizeof(b->rejected_after), "-infinity");
}

void store_purge_batch_clear(struct store_purge_batch *b)
{
	free(b->stages);
	free(b->rejected);
	free(b->submissions);
	b->stages = b->rejected = b->submissions = NULL;
	b->n_stages = b->n_rejected = b->n_submissions = 0;
}

enum store_status store_purge_lock(struct store *st, bool *got, char **err)
{
	PGresult *res;
	enum store_status rc = query(st, "SELECT pg_try_advisory_lock(" PURGE_LOCK_KEY ")", 0, NULL,
				     &res, err);
	if (rc == STORE_OK) {
		*got = store_col_bool(res, 0, 0);
		PQclear(res);
	}
	return rc;
}

enum store_status store_purge_future(struct store *st, time_t limit, char **found, char **err)
{
	char at[24];
	snprintf(at, sizeof(at), "%lld", (long long)limit);
	const char *v[] = { at };
	PGresult *res;
	*found = NULL;
	/* Our own timestamps only: the stage days are the centres' word. */
	enum store_status rc = query(st,
		"SELECT what || ' at ' || to_char(t, 'YYYY-MM-DD HH24:MI:SS TZ') FROM ("
		" SELECT 'a file received' AS what, max(received_at) AS t FROM attestd.submissions"
		" UNION ALL SELECT 'a file processed', max(processed_at) FROM attestd.submissions"
		" UNION ALL SELECT 'an attestation decided', max(decided_at) FROM attestd.attestations"
		" UNION ALL SELECT 'an audit-log row', (SELECT at FROM audit.log_entries"
		"  ORDER BY seq DESC LIMIT 1)) x"
		" WHERE t > to_timestamp($1::double precision) ORDER BY t DESC LIMIT 1",
		1, v, &res, err);
	if (rc == STORE_OK) {
		if (PQntuples(res) == 1)
			*found = xstrdup(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	return rc;
}

enum store_status store_purge_next(struct store *st, const char *today, const char *timezone,
				   size_t max, bool lock, struct store_purge_batch *b, char **err)
{
	char limit[24], after_id[24];
	snprintf(limit, sizeof(limit), "%zu", max);
	store_purge_batch_clear(b);
	PGresult *res = NULL;
	char *stages = NULL, *rejected = NULL;

	/* A stage goes once its last day, and that of its attestations and
	 * sheet (they may disagree: stage_mismatch), is three years past. */
	char *sql = xasprintf(
		"SELECT s.id, s.last_day FROM attestd.stages s"
		" WHERE (s.last_day + interval '3 years')::date < $1::date"
		" AND (s.last_day, s.id) > ($2::date, $3::bigint)"
		" AND NOT EXISTS (SELECT 1 FROM attestd.attestations a WHERE a.stage_id = s.id"
		"  AND (a.last_day + interval '3 years')::date >= $1::date)"
		" AND NOT EXISTS (SELECT 1 FROM attestd.signin_sheets h WHERE h.stage_id = s.id"
		"  AND (h.last_day + interval '3 years')::date >= $1::date)"
		" ORDER BY s.last_day, s.id LIMIT $4::bigint%s", lock ? " FOR UPDATE OF s" : "");
	snprintf(after_id, sizeof(after_id), "%" PRId64, b->stage_after_id);
	const char *v1[] = { today, b->stage_after_day, after_id, limit };
	enum store_status rc = id_page(st, sql, 4, v1, &b->stages, &b->n_stages, b->stage_after_day,
				       sizeof(b->stage_after_day), &b->stage_after_id, err);
	free(sql);
	if (rc != STORE_OK)
		goto out;

	/* A rejected file has no stage: three years from its reception. */
	sql = xasprintf(
		"SELECT id, received_at FROM attestd.submissions"
		" WHERE status = 'rejected' AND stage_id IS NULL"
		" AND ((received_at AT TIME ZONE $2)::date + interval '3 years')::date < $1::date"
		" AND (received_at, id) > ($3::timestamptz, $4::bigint)"
		" ORDER BY received_at, id LIMIT $5::bigint%s", lock ? " FOR UPDATE" : "");
	snprintf(after_id, sizeof(after_id), "%" PRId64, b->rejected_after_id);
	const char *v2[] = { today, timezone, b->rejected_after, after_id, limit };
	rc = id_page(st, sql, 5, v2, &b->rejected, &b->n_rejected, b->rejected_after,
		     sizeof(b->rejected_after), &b->rejected_after_id, err);
	free(sql);
	if (rc != STORE_OK)
		goto out;

	/* Every file of those stages: duplicates carry their original's stage. */
	stages = int_array(b->stages, b->n_stages);
	rejected = int_array(b->rejected, b->n_rejected);
	const char *v3[] = { stages, rejected };
	rc = query(st,
		"SELECT id FROM attestd.submissions WHERE stage_id = ANY ($1::bigint[])"
		" OR id = ANY ($2::bigint[]) OR duplicate_of IN (SELECT id FROM attestd.submissions"
		"  WHERE stage_id = ANY ($1::bigint[])) ORDER BY id", 2, v3, &res, err);
	if (rc != STORE_OK)
		goto out;
	b->submissions = int_column(res, 0, &b->n_submissions);
out:
	PQclear(res);
	free(stages);
	free(rejected);
	return rc;
}

enum store_status store_purge_files(struct store *st, const struct store_purge_batch *b,
				    char ***hashes, size_t *n_hashes,
				    struct store_purge_rejected **rejected, size_t *n_rejected,
				    char **err)
{
	*hashes = NULL;
	*n_hashes = 0;
	*rejected = NULL;
	*n_rejected = 0;
	char *subs = int_array(b->submissions, b->n_submissions);
	const char *v[] = { subs };
	PGresult *res = NULL;
	/* A driver's scan may be shared with a stage that stays, an original
	 * with nothing else (one accepted row per content). */
	enum store_status rc = query(st,
		"WITH c AS (SELECT sha256 AS h FROM attestd.submissions"
		"  WHERE id = ANY ($1::bigint[]) AND status = 'accepted'"
		" UNION SELECT id_sha256 FROM attestd.signin_participants"
		"  WHERE submission_id = ANY ($1::bigint[]))"
		" SELECT h COLLATE \"C\" FROM c"
		" WHERE NOT EXISTS (SELECT 1 FROM attestd.submissions s WHERE s.sha256 = c.h"
		"  AND s.status = 'accepted' AND NOT s.id = ANY ($1::bigint[]))"
		" AND NOT EXISTS (SELECT 1 FROM attestd.signin_participants p WHERE p.id_sha256 = c.h"
		"  AND NOT p.submission_id = ANY ($1::bigint[]))"
		" ORDER BY 1", 1, v, &res, err);
	if (rc != STORE_OK)
		goto out;
	size_t rows = (size_t)PQntuples(res);
	*hashes = xcalloc(rows ? rows : 1, sizeof(**hashes));
	for (size_t i = 0; i < rows; i++)
		(*hashes)[i] = xstrdup(PQgetvalue(res, (int)i, 0));
	*n_hashes = rows;
	PQclear(res);
	res = NULL;

	rc = query(st,
		"SELECT inbox_dir, claim_id, file_name, coalesce(sha256, '') FROM attestd.submissions"
		" WHERE id = ANY ($1::bigint[]) AND status = 'rejected' ORDER BY id", 1, v, &res, err);
	if (rc != STORE_OK)
		goto out;
	rows = (size_t)PQntuples(res);
	*rejected = xcalloc(rows ? rows : 1, sizeof(**rejected));
	for (size_t i = 0; i < rows; i++) {
		struct store_purge_rejected *r = &(*rejected)[i];
		store_col_text(res, (int)i, 0, r->inbox_dir, sizeof(r->inbox_dir));
		store_col_text(res, (int)i, 1, r->claim_id, sizeof(r->claim_id));
		store_col_text(res, (int)i, 2, r->file_name, sizeof(r->file_name));
		store_col_text(res, (int)i, 3, r->sha256, sizeof(r->sha256));
	}
	*n_rejected = rows;
out:
	PQclear(res);
	free(subs);
	return rc;
}

/*
 * The purge, table by table, children first.  $1 is the batch's stage ids
 * (by_stage) or its submission ids.  A table added later that references
 * one of these (a foreign key) must be added here, before what it
 * references: the delete fails otherwise, and nothing is purged.
 */
static const struct purge_step {
	const char *table;
	const char *where;
	bool by_stage;
	size_t counter;			/* offset in struct store_purge_counts */
} purge_steps[] = {
	{ "attestd.decision_history",
	  "attestation_id IN (SELECT id FROM attestd.attestations WHERE stage_id = ANY ($1::bigint[]))",
	  true, offsetof(struct store_purge_counts, decisions) },
	{ "attestd.attestations", "stage_id = ANY ($1::bigint[])", true,
	  offsetof(struct store_purge_counts, attestations) },
	{ "attestd.signin_participants", "submission_id = ANY ($1::bigint[])", false,
	  offsetof(struct store_purge_counts, participants) },
	{ "attestd.signin_sheets", "stage_id = ANY ($1::bigint[])", true,
	  offsetof(struct store_purge_counts, sheets) },
	{ "attestd.receipts", "submission_id = ANY ($1::bigint[])", false,
	  offsetof(struct store_purge_counts, receipts) },
	{ "attestd.submissions", "id = ANY ($1::bigint[])", false,
	  offsetof(struct store_purge_counts, submissions) },
	{ "attestd.stages", "id = ANY ($1::bigint[])", true,
	  offsetof(struct store_purge_counts, stages) },
};

enum store_status store_purge_rows(struct store *st, const struct store_purge_batch *b,
				   bool count_only, struct store_purge_counts *c, char **err)
{
	char *stages = int_array(b->stages, b->n_stages);
	char *subs = int_array(b->submissions, b->n_submissions);
	enum store_status rc = STORE_OK;
	for (size_t i = 0; i < sizeof(purge_steps) / sizeof(purge_steps[0]) && rc == STORE_OK; i++) {
		const struct purge_step *s = &purge_steps[i];
		const char *v[] = { s->by_stage ? stages : subs };
		char *sql = count_only ? xasprintf("SELECT count(*) FROM %s WHERE %s", s->table, s->where)
				       : xasprintf("DELETE FROM %s WHERE %s", s->table, s->where);
		PGresult *res;
		rc = query(st, sql, 1, v, &res, err);
		free(sql);
		if (rc != STORE_OK)
			break;
		long *counter = (long *)((char *)c + s->counter);
		*counter += strtol(count_only ? PQgetvalue(res, 0, 0) : PQcmdTuples(res), NULL, 10);
		PQclear(res);
	}
	/* The attestations' delete took their counts out of
	 * attestd.decision_counts (its trigger, migration 014); the months
	 * and centres left with none go too, so the summary holds what the
	 * attestations still say and nothing of what was purged. */
	if (rc == STORE_OK && !count_only)
		rc = query(st, "DELETE FROM attestd.decision_counts WHERE attestations = 0"
			   " AND points = 0", 0, NULL, NULL, err);
	if (rc == STORE_OK)
		c->rejected += (long)b->n_rejected;
	free(stages);
	free(subs);
	return rc;
}

/* Runs sql with $1 the files' areas and $2 their names (text arrays). */
static enum store_status files_exec(struct store *st, const char *sql,
				    const struct store_purge_file *files, size_t n, char **err)
{
	if (n == 0)
		return STORE_OK;
	char *areas = text_array(n, get_area, files);
	char *names = text_array(n, get_name, files);
	const char *v[] = { areas, names };
	enum store_status rc = query(st, sql, 2, v, NULL, err);
	free(areas);
	free(names);
	return rc;
}

enum store_status store_purge_queue(struct store *st, const struct store_purge_file *files,
				    size_t n, char **err)
{
	return files_exec(st, "INSERT INTO attestd.purge_files (area, name)"
			  " SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
			  files, n, err);
}

enum store_status store_purge_queued(struct store *st, struct store_purge_file **files,
				     size_t *n, char **err)
{
	PGresult *res;
	*files = NULL;
	*n = 0;
	enum store_status rc = query(st, "SELECT area, name FROM attestd.purge_files"
					 " ORDER BY area, name COLLATE \"C\"", 0, NULL, &res, err);
	if (rc != STORE_OK)
		return rc;
	size_t rows = (size_t)PQntuples(res);
	*files = xcalloc(rows ? rows : 1, sizeof(**files));
	for (size_t i = 0; i < rows; i++) {
		struct store_purge_file *f = &(*files)[i];
		store_col_text(res, (int)i, 0, f->area, sizeof(f->area));
		store_col_text(res, (int)i, 1, f->name, sizeof(f->name));
	}
	*n = rows;
	PQclear(res);
	return STORE_OK;
}

enum store_status store_purge_dequeue(struct store *st, const struct store_purge_file *files,
				      size_t n, char **err)
{
	return files_exec(st, "DELETE FROM attestd.purge_files WHERE (area, name) IN"
			  " (SELECT * FROM unnest($1::text[], $2::text[]))", files, n, err);
}

enum store_status store_hashes_referenced(struct store *st, char *const *hashes, size_t n,
					  bool *out, char **err)
{
	if (n == 0)
		return STORE_OK;
	char *list = text_array(n, get_string, hashes);
	const char *v[] = { list };
	PGresult *res;
	enum store_status rc = query(st,
		"SELECT EXISTS (SELECT 1 FROM attestd.submissions s WHERE s.sha256 = u.h"
		"  AND s.status = 'accepted')"
		" OR EXISTS (SELECT 1 FROM attestd.signin_participants p WHERE p.id_sha256 = u.h)"
		" FROM unnest($1::text[]) WITH ORDINALITY AS u(h, o) ORDER BY u.o", 1, v, &res, err);
	free(list);
	if (rc != STORE_OK)
		return rc;
	for (size_t i = 0; i < n && i < (size_t)PQntuples(res); i++)
		out[i] = store_col_bool(res, (int)i, 0);
	PQclear(res);
	return STORE_OK;
}
