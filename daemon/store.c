/*
 * store - connection and schema migrations.  Only this module (and its
 * store_*.c companions) includes libpq-fe.h.
 *
 * Migrations are the embedded sql/NNN_name.sql files: a binary always
 * applies the ones it was built with.  Each runs in its own transaction with
 * its row in attestd.schema_migrations (version, name, SHA-256); an advisory
 * lock keeps two migrators from racing.  A database that has a migration
 * this binary does not know, or one whose text changed, is refused.
 */
#include <ctype.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "exitcode.h"
#include "reason.h"
#include "store.h"
#include "store_internal.h"
#include "xmalloc.h"

/* Arbitrary but fixed: "attestd migrate". */
#define MIGRATION_LOCK_KEY 727001

struct migration {
	int version;
	const char *name;		/* "001_registries" */
	const struct embedded_file *file;
	char sha256[65];
};

/*
 * What every session gets before it changes anything.  synchronous_commit:
 * a COMMIT returns only once its WAL is on disk (or further, as
 * configured), whatever the server's own setting; a server tuned to "off"
 * would otherwise take back, in a crash, decisions already receipted,
 * logged and moved out of the spool.  Our messages carry what matters;
 * NOTICEs of IF NOT EXISTS are noise.
 */
static bool session_setup(struct store *st)
{
	char sql[96];
	snprintf(sql, sizeof(sql), "SET client_min_messages = warning; SET synchronous_commit = %s",
		 st->synchronous_commit);
	PGresult *res = PQexec(st->conn, sql);
	bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	return ok;
}

bool store_synchronous_commit_valid(const char *level)
{
	return strcmp(level, "on") == 0 || strcmp(level, "remote_write") == 0 ||
	       strcmp(level, "remote_apply") == 0;
}

enum store_status store_set_synchronous_commit(struct store *st, const char *level, char **err)
{
	if (!store_synchronous_commit_valid(level)) {
		*err = xasprintf("synchronous_commit \"%s\" is not durable (on, remote_write or "
				 "remote_apply)", level);
		return STORE_ERROR;
	}
	snprintf(st->synchronous_commit, sizeof(st->synchronous_commit), "%s", level);
	char sql[64];
	snprintf(sql, sizeof(sql), "SET synchronous_commit = %s", level);
	return store_exec(st, sql, err);
}

static struct store *connect_session(const char *conninfo, bool setup, char **err)
{
	const char *keys[] = { "dbname", "application_name", "client_encoding", NULL };
	const char *values[] = { conninfo, "attestd", "UTF8", NULL };
	PGconn *conn = PQconnectdbParams(keys, values, 1);

	if (conn == NULL) {
		*err = xstrdup("cannot allocate a database connection");
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		*err = xasprintf("cannot connect to the database (%s): %s", conninfo,
				 store_trim(PQerrorMessage(conn)));
		PQfinish(conn);
		return NULL;
	}
	struct store *st = xcalloc(1, sizeof(*st));
	st->conn = conn;
	st->conninfo = xstrdup(conninfo);
	snprintf(st->synchronous_commit, sizeof(st->synchronous_commit), "on");
	if (setup && !session_setup(st)) {
		*err = xasprintf("cannot set up the database session (%s): %s", conninfo,
				 store_trim(PQerrorMessage(conn)));
		store_free(st);
		return NULL;
	}
	return st;
}

struct store *store_connect(const char *conninfo, char **err)
{
	return connect_session(conninfo, true, err);
}

struct store *store_connect_reader(const char *conninfo, char **err)
{
	return connect_session(conninfo, false, err);
}

struct store *store_connect_or_say(const char *conninfo, const char *config_path)
{
	char *err = NULL;
	struct store *st = store_connect(conninfo, &err);
	if (st == NULL) {
		fprintf(stderr, "attestd: %s\nattestd: check [database] conninfo in %s and that "
			"PostgreSQL is running\n", err, config_path);
		free(err);
	}
	return st;
}

int store_exit_code(enum store_status s)
{
	switch (s) {
	case STORE_OK:			return EXIT_OK;
	case STORE_INVALID:		return EXIT_INVALID;
	case STORE_UNAVAILABLE:
	case STORE_SCHEMA_MISMATCH:	return EXIT_ENVIRONMENT;
	case STORE_DENIED:		return EXIT_CONFIG;
	case STORE_ERROR:		break;
	}
	return EXIT_INTERNAL;
}

bool store_fault_is_environment(enum store_status s)
{
	return s == STORE_UNAVAILABLE || s == STORE_SCHEMA_MISMATCH || s == STORE_DENIED;
}

void store_free(struct store *st)
{
	if (st == NULL)
		return;
	PQfinish(st->conn);
	free(st->conninfo);
	free(st->awaiting);
	free(st->pipe_err);
	free(st);
}

bool store_ok(struct store *st)
{
	if (PQstatus(st->conn) == CONNECTION_OK)
		return true;
	PQreset(st->conn);
	st->prepared = false;
	if (PQstatus(st->conn) != CONNECTION_OK)
		return false;
	return session_setup(st);
}

bool store_ping(struct store *st)
{
	PGresult *res = PQexec(st->conn, "SELECT 1");
	bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	PQclear(res);
	return ok && PQstatus(st->conn) == CONNECTION_OK;
}

char *store_trim(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

void store_col_text(const PGresult *res, int row, int col, char *buf, size_t size)
{
	snprintf(buf, size, "%s", PQgetvalue(res, row, col));
}

date_t store_col_date(const PGresult *res, int row, int col)
{
	date_t d = DATE_NONE;
	if (!PQgetisnull(res, row, col))
		date_parse(PQgetvalue(res, row, col), &d);
	return d;
}

int64_t store_col_int64(const PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

bool store_col_bool(const PGresult *res, int row, int col)
{
	return PQgetvalue(res, row, col)[0] == 't';
}

bool store_connection_lost(struct store *st)
{
	return PQstatus(st->conn) != CONNECTION_OK;
}

enum store_status store_result_status(struct store *st, PGresult *res, char **err)
{
	ExecStatusType rs = PQresultStatus(res);
	st->sqlstate[0] = '\0';
	if (rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK || rs == PGRES_COPY_IN)
		return STORE_OK;
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (state)
		snprintf(st->sqlstate, sizeof(st->sqlstate), "%s", state);
	/* Class 08 (connection) and 57P (server shutting down) are ours, not
	 * the data's: the file waits for the database to come back.  So is an
	 * error libpq made itself (no SQLSTATE: the server said nothing) on a
	 * connection that turns out closed when read again. */
	if (store_connection_lost(st) || strncmp(st->sqlstate, "08", 2) == 0 ||
	    strncmp(st->sqlstate, "57P", 3) == 0 ||
	    (state == NULL && (!PQconsumeInput(st->conn) || store_connection_lost(st)))) {
		*err = xasprintf("lost the database connection: %s",
				 store_trim(PQerrorMessage(st->conn)));
		return STORE_UNAVAILABLE;
	}
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *ctx = PQresultErrorField(res, PG_DIAG_CONTEXT);
	/* 42501, a privilege missing: most often an auditor's role running an
	 * operator's command.  PostgreSQL's "permission denied for table …"
	 * does not say who may do what; one sentence does (issue 18 §4). */
	if (strcmp(st->sqlstate, "42501") == 0) {
		*err = xasprintf("the database role %s may not do this (%s): an auditor's role "
				 "(attestd_auditor) may only read the audit schema, with psql or "
				 "'attestd audit', and every other command must run as the attestd "
				 "role (conninfo user=attestd)",
				 PQuser(st->conn), msg ? msg : "permission denied");
		return STORE_DENIED;
	}
	*err = xasprintf("%s%s%s", msg ? msg : store_trim(PQerrorMessage(st->conn)),
			 ctx ? " (" : "", ctx ? ctx : "");
	if (ctx) {
		store_trim(*err);
		char *full = xasprintf("%s)", *err);
		free(*err);
		*err = full;
	}
	return STORE_ERROR;
}

enum store_status store_exec(struct store *st, const char *sql, char **err)
{
	PGresult *res = PQexec(st->conn, sql);
	enum store_status s = store_result_status(st, res, err);
	PQclear(res);
	return s;
}

/* --- pipelined transactions ----------------------------------------------------- */

/* Keeps the pipeline's first failure (takes err); later ones only follow it. */
static void pipe_fail(struct store *st, enum store_status rc, char *err)
{
	if (st->pipe_rc == STORE_OK) {
		st->pipe_rc = rc;
		st->pipe_err = err;
	} else {
		free(err);
	}
}

static char *lost_connection(struct store *st)
{
	return xasprintf("lost the database connection: %s", store_trim(PQerrorMessage(st->conn)));
}

/*
 * A statement that failed for want of a server is no fault of the data:
 * whatever the first failure looked like (a statement skipped, an error
 * without SQLSTATE), a connection found closed after it makes the whole
 * pipeline's failure a lost database.
 */
static void pipe_classify(struct store *st)
{
	if (st->pipe_rc != STORE_ERROR || !store_connection_lost(st))
		return;
	char *was = st->pipe_err;
	st->pipe_rc = STORE_UNAVAILABLE;
	st->pipe_err = xasprintf("lost the database connection: %s (%s)",
				 store_trim(PQerrorMessage(st->conn)), was ? was : "");
	free(was);
}

static enum store_status pipe_status(struct store *st, char **err)
{
	pipe_classify(st);
	if (st->pipe_rc != STORE_OK)
		*err = xstrdup(st->pipe_err);
	return st->pipe_rc;
}

static void pipe_await(struct store *st, PGresult **slot)
{
	if (st->n_awaiting == st->cap_awaiting) {
		st->cap_awaiting = st->cap_awaiting ? 2 * st->cap_awaiting : 32;
		st->awaiting = xreallocarray(st->awaiting, st->cap_awaiting, sizeof(*st->awaiting));
	}
	st->awaiting[st->n_awaiting++] = slot;
}

enum store_status store_send_prepared(struct store *st, const char *name, int n,
				      const char *const *values, const int *lengths,
				      const int *formats, int result_format, PGresult **slot,
				      char **err)
{
	if (slot)
		*slot = NULL;
	if (!st->piping) {
		PGresult *res = PQexecPrepared(st->conn, name, n, values, lengths, formats,
					       result_format);
		enum store_status rc = store_result_status(st, res, err);
		if (rc == STORE_OK && slot)
			*slot = res;
		else
			PQclear(res);
		return rc;
	}
	if (st->pipe_rc != STORE_OK) {
		*err = xstrdup(st->pipe_err);
		return st->pipe_rc;
	}
	if (!PQsendQueryPrepared(st->conn, name, n, values, lengths, formats, result_format)) {
		pipe_fail(st, STORE_UNAVAILABLE, lost_connection(st));
		return pipe_status(st, err);
	}
	pipe_await(st, slot);
	return STORE_OK;
}

/* Reads the results of everything sent, in order: each into its slot
 * (when deliver) while nothing has failed, else only cleared. */
static void pipe_read(struct store *st, bool deliver)
{
	for (size_t i = 0; i < st->n_awaiting; i++) {
		PGresult *res = PQgetResult(st->conn);
		if (res == NULL) {
			pipe_fail(st, STORE_UNAVAILABLE, lost_connection(st));
			break;
		}
		if (PQresultStatus(res) == PGRES_PIPELINE_ABORTED) {
			pipe_fail(st, STORE_ERROR, xstrdup("statement skipped after an earlier failure"));
			PQclear(res);
		} else if (st->pipe_rc != STORE_OK) {
			PQclear(res);
		} else {
			char *e = NULL;
			enum store_status rc = store_result_status(st, res, &e);
			if (rc != STORE_OK) {
				pipe_fail(st, rc, e);
				PQclear(res);
			} else if (deliver && st->awaiting[i]) {
				*st->awaiting[i] = res;
			} else {
				PQclear(res);
			}
		}
		/* Each statement's results end with a NULL. */
		while ((res = PQgetResult(st->conn)) != NULL)
			PQclear(res);
	}
	st->n_awaiting = 0;
}

enum store_status store_pipe_wait(struct store *st, char **err)
{
	if (st->piping && st->n_awaiting > 0 && st->pipe_rc == STORE_OK) {
		/* A flush request, not a sync: the transaction goes on. */
		if (!PQsendFlushRequest(st->conn) || PQflush(st->conn) != 0)
			pipe_fail(st, STORE_UNAVAILABLE, lost_connection(st));
		else
			pipe_read(st, true);
	}
	return pipe_status(st, err);
}

/* Ends pipeline mode: a sync, every result up to it read, back to one
 * statement at a time. */
static void pipe_finish(struct store *st)
{
	if (PQpipelineSync(st->conn)) {
		/* Statuses only: whoever sent with a slot has waited, or gone
		 * on an error of its own. */
		if (st->pipe_rc == STORE_OK)
			pipe_read(st, false);
		size_t nulls = 0;
		for (;;) {
			PGresult *res = PQgetResult(st->conn);
			if (res == NULL) {
				if (PQstatus(st->conn) != CONNECTION_OK || ++nulls > st->n_awaiting + 1)
					break;
				continue;
			}
			ExecStatusType rs = PQresultStatus(res);
			PQclear(res);
			if (rs == PGRES_PIPELINE_SYNC)
				break;
		}
	} else {
		pipe_fail(st, STORE_UNAVAILABLE, lost_connection(st));
	}
	st->n_awaiting = 0;
	st->piping = false;
	pipe_classify(st);
	if (!PQexitPipelineMode(st->conn) && PQstatus(st->conn) == CONNECTION_OK) {
		/* Results we could not account for: start afresh. */
		PQreset(st->conn);
		st->prepared = false;
		session_setup(st);
	}
}

static void pipe_clear(struct store *st)
{
	st->pipe_rc = STORE_OK;
	free(st->pipe_err);
	st->pipe_err = NULL;
}

enum store_status store_pipe_begin(struct store *st, char **err)
{
	if (!PQenterPipelineMode(st->conn)) {
		*err = lost_connection(st);
		return STORE_UNAVAILABLE;
	}
	st->piping = true;
	pipe_clear(st);
	if (!PQsendQueryParams(st->conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0)) {
		pipe_fail(st, STORE_UNAVAILABLE, lost_connection(st));
		return pipe_status(st, err);
	}
	pipe_await(st, NULL);
	return STORE_OK;
}

enum store_status store_pipe_commit(struct store *st, char **err)
{
	if (!st->piping)
		return store_exec(st, "COMMIT", err);
	if (st->pipe_rc == STORE_OK) {
		if (PQsendQueryParams(st->conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0))
			pipe_await(st, NULL);
		else
			pipe_fail(st, STORE_UNAVAILABLE, lost_connection(st));
	}
	pipe_finish(st);
	enum store_status rc = pipe_status(st, err);
	pipe_clear(st);
	return rc;
}

void store_rollback(struct store *st)
{
	if (st->piping) {
		pipe_finish(st);
		pipe_clear(st);
	}

	if (PQtransactionStatus(st->conn) != PQTRANS_IDLE)
		PQclear(PQexec(st->conn, "ROLLBACK"));
}

static void sha256_hex(const unsigned char *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < md_len; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	out[2 * md_len] = '\0';
}

/* The embedded migrations, in version order.  Returns the count. */
static size_t migrations_list(struct migration **out)
{
	struct migration *list = NULL;
	size_t n = 0;
	for (const struct embedded_file *e = embedded_files; e->name; e++) {
		const char *base = e->name;
		if (strncmp(base, "sql/", 4) != 0)
			continue;
		base += 4;
		if (!isdigit((unsigned char)base[0]) || !isdigit((unsigned char)base[1]) ||
		    !isdigit((unsigned char)base[2]) || base[3] != '_')
			continue;
		list = xreallocarray(list, n + 1, sizeof(*list));
		list[n].version = atoi(base);
		list[n].name = base;
		list[n].file = e;
		sha256_hex(e->data, e->size, list[n].sha256);
		n++;
	}
	/* embedded_files is sorted by name, so by version too. */
	*out = list;
	return n;
}

struct applied {
	int version;
	char *sha256;
	char *applied_at;
};

static enum store_status applied_list(struct store *st, struct applied **out, size_t *n_out,
				      char **err)
{
	enum store_status s = store_exec(st,
		"CREATE SCHEMA IF NOT EXISTS attestd;"
		"CREATE TABLE IF NOT EXISTS attestd.schema_migrations ("
		" version integer PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL,"
		" applied_at timestamptz NOT NULL DEFAULT now())", err);
	if (s != STORE_OK)
		return s;
	PGresult *res = PQexec(st->conn,
		"SELECT version, sha256, to_char(applied_at, 'YYYY-MM-DD HH24:MI:SS TZ') "
		"FROM attestd.schema_migrations ORDER BY version");
	s = store_result_status(st, res, err);
	if (s == STORE_OK) {
		int rows = PQntuples(res);
		struct applied *list = xcalloc((size_t)rows + 1, sizeof(*list));
		for (int i = 0; i < rows; i++) {
			list[i].version = atoi(PQgetvalue(res, i, 0));
			list[i].sha256 = xstrdup(PQgetvalue(res, i, 1));
			list[i].applied_at = xstrdup(PQgetvalue(res, i, 2));
		}
		*out = list;
		*n_out = (size_t)rows;
	}
	PQclear(res);
	return s;
}

static void applied_free(struct applied *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++) {
		free(list[i].sha256);
		free(list[i].applied_at);
	}
	free(list);
}

static const struct applied *applied_find(const struct applied *list, size_t n, int version)
{
	for (size_t i = 0; i < n; i++)
		if (list[i].version == version)
			return &list[i];
	return NULL;
}

/*
 * Compares the database's migrations with the binary's: a version the
 * binary does not know, or a changed text, is a mismatch no migration can
 * mend.  Counts the pending ones.
 */
static enum store_status migrations_compare(const struct migration *mig, size_t n_mig,
					    const struct applied *app, size_t n_app,
					    size_t *pending, char **err)
{
	int newest = n_mig ? mig[n_mig - 1].version : 0;
	for (size_t i = 0; i < n_app; i++) {
		const struct migration *m = NULL;
		for (size_t j = 0; j < n_mig; j++)
			if (mig[j].version == app[i].version)
				m = &mig[j];
		if (m == NULL) {
			*err = xasprintf("the database has schema version %03d, newer than this "
					 "binary's %03d: run the attestd release that migrated it",
					 app[i].version, newest);
			return STORE_SCHEMA_MISMATCH;
		}
		if (strcmp(m->sha256, app[i].sha256) != 0) {
			*err = xasprintf("migration %s was applied with another text than this "
					 "binary's: the database and the binary disagree", m->name);
			return STORE_SCHEMA_MISMATCH;
		}
	}
	*pending = 0;
	for (size_t j = 0; j < n_mig; j++)
		if (!applied_find(app, n_app, mig[j].version))
			(*pending)++;
	return STORE_OK;
}

static enum store_status migration_apply(struct store *st, const struct migration *m, char **err)
{
	enum store_status s = store_exec(st, "BEGIN", err);
	if (s != STORE_OK)
		return s;
	s = store_exec(st, (const char *)m->file->data, err);
	if (s != STORE_OK) {
		char *why = *err;
		*err = xasprintf("migration %s failed: %s", m->name, why);
		free(why);
		goto out;
	}
	char version[16];
	snprintf(version, sizeof(version), "%d", m->version);
	const char *params[] = { version, m->name, m->sha256 };
	PGresult *res = PQexecParams(st->conn,
		"INSERT INTO attestd.schema_migrations (version, name, sha256) VALUES ($1, $2, $3)",
		3, NULL, params, NULL, NULL, 0);
	s = store_result_status(st, res, err);
	PQclear(res);
	if (s == STORE_OK)
		s = store_exec(st, "COMMIT", err);
out:
	if (s != STORE_OK)
		store_rollback(st);
	return s;
}

static enum store_status roles_check(struct store *st, char **err)
{
	PGresult *res = PQexec(st->conn,
		"SELECT count(*) FROM pg_roles WHERE rolname IN ('attestd', 'attestd_auditor')");
	enum store_status s = store_result_status(st, res, err);
	if (s == STORE_OK && atoi(PQgetvalue(res, 0, 0)) != 2) {
		*err = xstrdup("the roles attestd and attestd_auditor do not exist: a DBA must "
			       "run " ATTESTD_DATADIR "/sql/roles.sql as the PostgreSQL superuser "
			       "first (see attestd(8))");
		s = STORE_ERROR;
	}
	PQclear(res);
	return s;
}

static const char *reason_level_name(enum reason_level l)
{
	switch (l) {
	case REASON_LEVEL_DOCUMENT: return "document";
	case REASON_LEVEL_STAGE: return "stage";
	case REASON_LEVEL_ATTESTATION: return "attestation";
	case REASON_LEVEL_FLAG: return "flag";
	default: return "environment";
	}
}

/*
 * audit.reason_codes (010) from the binary's own table (reason.def), at
 * every migrate, in one transaction: the database names exactly the codes
 * this binary writes, with the labels it shows, and cannot drift from it.
 * A code the binary no longer knows stays (old rows may hold it), retired.
 */
static enum store_status reason_codes_sync(struct store *st, char **err)
{
	enum store_status s = store_exec(st, "BEGIN", err);
	if (s != STORE_OK)
		return s;
	size_t cap = 16;
	for (int r = 1; r < REASON_COUNT; r++)
		cap += strlen(reason_code((enum reason)r)) + 1;
	char *codes = xmalloc(cap);
	size_t used = 0;
	codes[used++] = '{';
	for (int r = 1; r < REASON_COUNT && s == STORE_OK; r++) {
		enum reason rr = (enum reason)r;
		const char *v[6] = { reason_code(rr), reason_label_fr(rr), reason_rule(rr),
				     reason_is_temporary(rr) ? "temporary" : "permanent",
				     reason_level_name(reason_level(rr)), reason_text(rr) };
		PGresult *res = PQexecParams(st->conn,
			"INSERT INTO audit.reason_codes (code, label_fr, rule, class, level, description, retired) "
			"VALUES ($1, $2, $3, $4, $5, $6, false) ON CONFLICT (code) DO UPDATE SET "
			"label_fr = excluded.label_fr, rule = excluded.rule, class = excluded.class, "
			"level = excluded.level, description = excluded.description, retired = false",
			6, NULL, v, NULL, NULL, 0);
		s = store_result_status(st, res, err);
		PQclear(res);
		/* Codes are [a-z0-9_]: an array literal needs no quoting. */
		used += (size_t)snprintf(codes + used, cap - used, "%s%s", r > 1 ? "," : "", v[0]);
	}
	snprintf(codes + used, cap - used, "}");
	if (s == STORE_OK) {
		const char *v[1] = { codes };
		PGresult *res = PQexecParams(st->conn,
			"UPDATE audit.reason_codes SET retired = true WHERE NOT code = ANY ($1::text[])",
			1, NULL, v, NULL, NULL, 0);
		s = store_result_status(st, res, err);
		PQclear(res);
	}
	free(codes);
	if (s == STORE_OK)
		return store_exec(st, "COMMIT", err);
	PQclear(PQexec(st->conn, "ROLLBACK"));
	return s;
}

enum store_status store_migrate(struct store *st, FILE *out, char **err)
{
	struct migration *mig = NULL;
	struct applied *app = NULL;
	size_t n_app = 0, pending = 0;
	size_t n_mig = migrations_list(&mig);
	bool locked = false;

	enum store_status s = roles_check(st, err);
	if (s != STORE_OK)
		goto out;
	char lock[96];
	snprintf(lock, sizeof(lock), "SELECT pg_advisory_lock(%d)", MIGRATION_LOCK_KEY);
	if ((s = store_exec(st, lock, err)) != STORE_OK)
		goto out;
	locked = true;
	if ((s = applied_list(st, &app, &n_app, err)) != STORE_OK)
		goto out;
	if ((s = migrations_compare(mig, n_mig, app, n_app, &pending, err)) != STORE_OK)
		goto out;
	for (size_t i = 0; i < n_mig; i++) {
		if (applied_find(app, n_app, mig[i].version))
			continue;
		if ((s = migration_apply(st, &mig[i], err)) != STORE_OK)
			goto out;
		fprintf(out, "applied %s\n", mig[i].name);
	}
	if (pending == 0)
		fprintf(out, "schema is up to date (version %03d)\n",
			n_mig ? mig[n_mig - 1].version : 0);
	if ((s = reason_codes_sync(st, err)) != STORE_OK)
		goto out;
out:
	if (locked) {
		snprintf(lock, sizeof(lock), "SELECT pg_advisory_unlock(%d)", MIGRATION_LOCK_KEY);
		PQclear(PQexec(st->conn, lock));
	}
	applied_free(app, n_app);
	free(mig);
	return s;
}

enum store_status store_schema_status(struct store *st, FILE *out, char **err)
{
	struct migration *mig = NULL;
	struct applied *app = NULL;
	size_t n_app = 0, pending = 0;
	size_t n_mig = migrations_list(&mig);

	enum store_status s = applied_list(st, &app, &n_app, err);
	if (s != STORE_OK)
		goto out;
	for (size_t i = 0; out && i < n_mig; i++) {
		const struct applied *a = applied_find(app, n_app, mig[i].version);
		fprintf(out, "%-32s %s%s\n", mig[i].name, a ? "applied " : "pending",
			a ? a->applied_at : "");
	}
	s = migrations_compare(mig, n_mig, app, n_app, &pending, err);
	if (s == STORE_OK && pending > 0) {
		*err = xasprintf("%zu migration%s pending: run 'attestd db migrate'", pending,
				 pending > 1 ? "s" : "");
		s = STORE_SCHEMA_MISMATCH;
	}
out:
	applied_free(app, n_app);
	free(mig);
	return s;
}

enum store_status store_durability(struct store *st, struct store_durability *out, char **err)
{
	memset(out, 0, sizeof(*out));
	/* reset_val: the server's (or the role's, the database's) own value,
	 * which our SET hides from current_setting(). */
	PGresult *res = PQexec(st->conn,
		"SELECT current_setting('fsync')::bool, current_setting('full_page_writes')::bool,"
		" (SELECT reset_val FROM pg_settings WHERE name = 'synchronous_commit'),"
		" current_setting('synchronous_commit')");
	enum store_status rc = store_result_status(st, res, err);
	if (rc == STORE_OK) {
		out->fsync = store_col_bool(res, 0, 0);
		out->full_page_writes = store_col_bool(res, 0, 1);
		store_col_text(res, 0, 2, out->server_synchronous_commit,
			       sizeof(out->server_synchronous_commit));
		store_col_text(res, 0, 3, out->session_synchronous_commit,
			       sizeof(out->session_synchronous_commit));
	}
	PQclear(res);
	return rc;
}

const char *store_durability_warning(const struct store_durability *d, char *buf, size_t size)
{
	if (d->fsync && d->full_page_writes)
		return NULL;
	snprintf(buf, size, "the database server runs with %s: a crash of its machine can lose "
		 "decisions already receipted", !d->fsync && !d->full_page_writes
		 ? "fsync=off and full_page_writes=off" : !d->fsync ? "fsync=off"
		 : "full_page_writes=off");
	return buf;
}

enum store_status store_db_status(struct store *st, FILE *out, char **err)
{
	enum store_status rc = store_schema_status(st, out, err);
	struct store_durability d;
	char *e = NULL;
	if (store_durability(st, &d, &e) != STORE_OK) {
		fprintf(out, "durability: cannot read the server's settings: %s\n", e);
		free(e);
		return rc == STORE_OK ? STORE_ERROR : rc;
	}
	fprintf(out, "durability: fsync=%s full_page_writes=%s synchronous_commit=%s "
		"(attestd's sessions: %s)\n", d.fsync ? "on" : "off",
		d.full_page_writes ? "on" : "off", d.server_synchronous_commit,
		d.session_synchronous_commit);
	char buf[256];
	if (store_durability_warning(&d, buf, sizeof(buf)))
		fprintf(out, "warning: %s\n", buf);
	return rc;
}

enum store_status store_audit_head(struct store *st, long *seq, char hash[static 65], char **err)
{
	PGresult *res = PQexec(st->conn, "SELECT seq, hash FROM audit.log_head");
	enum store_status rc = store_result_status(st, res, err);
	if (rc == STORE_OK && PQntuples(res) != 1) {
		*err = xstrdup("the audit log has no head row");
		rc = STORE_ERROR;
	}
	if (rc == STORE_OK) {
		*seq = strtol(PQgetvalue(res, 0, 0), NULL, 10);
		snprintf(hash, 65, "%s", PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	return rc;
}

enum store_status store_audit_row_hash(struct store *st, long seq, char hash[static 65],
				       bool *found, char **err)
{
	char key[24];
	snprintf(key, sizeof(key), "%ld", seq);
	const char *v[] = { key };
	PGresult *res = PQexecParams(st->conn, "SELECT hash FROM audit.log WHERE seq = $1", 1, NULL,
				     v, NULL, NULL, 0);
	enum store_status rc = store_result_status(st, res, err);
	*found = rc == STORE_OK && PQntuples(res) == 1;
	hash[0] = '\0';
	if (*found)
		snprintf(hash, 65, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

enum store_status store_audit_verify(struct store *st, long *rows, long *broken_seq,
				     char **why, char **err)
{
	/* One pass in the server: each row's link to the previous one, its own
	 * hash, and no gap in the sequence (a deleted row). */
	PGresult *res = PQexec(st->conn,
		"WITH l AS (SELECT seq, prev_hash, hash,"
		"  audit.row_hash(prev_hash, seq, at, actor, action, subject, detail) AS expected,"
		"  coalesce(lag(hash) OVER w, repeat('0', 64)) AS previous,"
		"  coalesce(lag(seq) OVER w, 0) AS previous_seq"
		"  FROM audit.log WINDOW w AS (ORDER BY seq))"
		" SELECT (SELECT count(*) FROM audit.log), seq,"
		"  CASE WHEN seq <> previous_seq + 1 THEN 'row ' || (previous_seq + 1) ||"
		"       CASE WHEN seq - previous_seq > 2 THEN ' to ' || (seq - 1) ELSE '' END ||"
		"       ' missing (deleted)'"
		"   WHEN prev_hash <> previous THEN 'its prev_hash is not the hash of the row before'"
		"   ELSE 'its content does not match its hash (edited)' END"
		" FROM l WHERE seq <> previous_seq + 1 OR prev_hash <> previous OR hash <> expected"
		" ORDER BY seq LIMIT 1");
	enum store_status rc = store_result_status(st, res, err);
	*broken_seq = 0;
	*why = NULL;
	if (rc == STORE_OK && PQntuples(res) == 1) {
		*rows = strtol(PQgetvalue(res, 0, 0), NULL, 10);
		*broken_seq = strtol(PQgetvalue(res, 0, 1), NULL, 10);
		*why = xstrdup(PQgetvalue(res, 0, 2));
	}
	PQclear(res);
	if (rc != STORE_OK || *broken_seq)
		return rc;
	res = PQexec(st->conn, "SELECT count(*), coalesce(max(seq), 0), (SELECT seq FROM audit.log_head),"
			       " (SELECT hash FROM audit.log_head) = coalesce((SELECT hash FROM audit.log"
			       "  ORDER BY seq DESC LIMIT 1), repeat('0', 64)) FROM audit.log");
	rc = store_result_status(st, res, err);
	if (rc == STORE_OK) {
		*rows = strtol(PQgetvalue(res, 0, 0), NULL, 10);
		long last = strtol(PQgetvalue(res, 0, 1), NULL, 10);
		long head = strtol(PQgetvalue(res, 0, 2), NULL, 10);
		/* Rows cut off the end leave the head pointing past them. */
		if (head != last || PQgetvalue(res, 0, 3)[0] != 't') {
			*broken_seq = last + 1;
			*why = xasprintf("the log ends at row %ld but its head records row %ld "
					 "(rows deleted from the end)", last, head);
		}
	}
	PQclear(res);
	return rc;
}

/* A text[] literal of names, each quoted (a quarantined file's name is
 * whatever landed there). */
static char *text_array(const char *const *names, size_t n)
{
	size_t len = 3;
	for (size_t i = 0; i < n; i++)
		len += 2 * strlen(names[i]) + 3;
	char *out = xmalloc(len), *p = out;
	*p++ = '{';
	for (size_t i = 0; i < n; i++) {
		if (i)
			*p++ = ',';
		*p++ = '"';
		for (const char *c = names[i]; *c; c++) {
			if (*c == '"' || *c == '\\')
				*p++ = '\\';
			*p++ = *c;
		}
		*p++ = '"';
	}
	*p++ = '}';
	*p = '\0';
	return out;
}

/* known[i]: whether row i of a one-boolean-column result over unnest($1)
 * WITH ORDINALITY says true. */
static enum store_status names_known(struct store *st, const char *sql, const char *const *names,
				     size_t n, bool *known, char **err)
{
	char *arr = text_array(names, n);
	const char *v[] = { arr };
	PGresult *res = PQexecParams(st->conn, sql, 1, NULL, v, NULL, NULL, 0);
	enum store_status rc = store_result_status(st, res, err);
	if (rc == STORE_OK) {
		for (size_t i = 0; i < n; i++)
			known[i] = i < (size_t)PQntuples(res) && PQgetvalue(res, (int)i, 0)[0] == 't';
	}
	PQclear(res);
	free(arr);
	return rc;
}

enum store_status store_hashes_known(struct store *st, const char *const *names, size_t n,
				     bool *known, char **err)
{
	/* Two index look-ups a name: submissions_sha256_once, the scans' index. */
	return names_known(st,
		"SELECT EXISTS (SELECT FROM attestd.submissions s WHERE s.sha256 = x.h"
		"  AND s.status = 'accepted')"
		" OR EXISTS (SELECT FROM attestd.signin_participants p WHERE p.id_sha256 = x.h)"
		" FROM unnest($1::text[]) WITH ORDINALITY x(h, o) ORDER BY x.o", names, n, known, err);
}

enum store_status store_claims_rejected(struct store *st, const char *const *names, size_t n,
					bool *known, char **err)
{
	return names_known(st,
		"SELECT EXISTS (SELECT FROM attestd.submissions s WHERE s.claim_id = x.c"
		"  AND s.status = 'rejected')"
		" FROM unnest($1::text[]) WITH ORDINALITY x(c, o) ORDER BY x.o", names, n, known, err);
}

#define STORE_HASHES_PAGE 5000
#define STORE_STR(x) STORE_STR_(x)
#define STORE_STR_(x) #x

struct store_hashes {
	struct store *st;
	PGresult *page;
	int row, rows;
	bool done;
};

enum store_status store_hashes_open(struct store *st, struct store_hashes **out, char **err)
{
	*out = NULL;
	/* A sort of every hash (the scans' index is a hash index: no order to
	 * read), in byte order: the archive's listing is sorted by strcmp, and
	 * "C" compares bytes rather than calling strcoll per pair. */
	PGresult *res = PQexec(st->conn,
		"BEGIN READ ONLY;"
		" DECLARE reconcile_hashes NO SCROLL CURSOR FOR"
		" SELECT h, m FROM ("
		"  SELECT s.sha256 AS h, s.processed_at < now() - interval '10 minutes' AS m"
		"  FROM attestd.submissions s WHERE s.status = 'accepted' AND s.sha256 IS NOT NULL"
		"  UNION ALL SELECT p.id_sha256, s.status = 'accepted'"
		"  AND s.processed_at < now() - interval '10 minutes'"
		"  FROM attestd.signin_participants p JOIN attestd.submissions s ON s.id = p.submission_id"
		" ) x ORDER BY h COLLATE \"C\"");
	enum store_status rc = store_result_status(st, res, err);
	PQclear(res);
	if (rc != STORE_OK) {
		PQclear(PQexec(st->conn, "ROLLBACK"));
		return rc;
	}
	struct store_hashes *h = xcalloc(1, sizeof(*h));
	h->st = st;
	*out = h;
	return STORE_OK;
}

enum store_status store_hashes_next(struct store_hashes *h, const char **sha256, bool *must,
				    char **err)
{
	*sha256 = NULL;
	*must = false;
	if (h->row == h->rows) {
		PQclear(h->page);
		h->page = NULL;
		h->row = h->rows = 0;
		if (h->done)
			return STORE_OK;
		h->page = PQexec(h->st->conn, "FETCH " STORE_STR(STORE_HASHES_PAGE) " FROM reconcile_hashes");
		enum store_status rc = store_result_status(h->st, h->page, err);
		if (rc != STORE_OK) {
			PQclear(h->page);
			h->page = NULL;
			h->done = true;
			return rc;
		}
		h->rows = PQntuples(h->page);
		h->done = h->rows < STORE_HASHES_PAGE;
		if (h->rows == 0)
			return STORE_OK;
	}
	*sha256 = PQgetvalue(h->page, h->row, 0);
	*must = PQgetvalue(h->page, h->row, 1)[0] == 't';
	h->row++;
	return STORE_OK;
}

void store_hashes_close(struct store_hashes *h)
{
	if (h == NULL)
		return;
	PQclear(h->page);
	/* Read only: ending it undoes nothing. */
	PQclear(PQexec(h->st->conn, "ROLLBACK"));
	free(h);
}

enum store_status store_reconcile_mark(struct store *st, long long *clean_at, char **err)
{
	PGresult *res = PQexec(st->conn, "SELECT clean_at FROM attestd.reconcile_mark");
	enum store_status rc = store_result_status(st, res, err);
	*clean_at = rc == STORE_OK && PQntuples(res) == 1 ? atoll(PQgetvalue(res, 0, 0)) : 0;
	PQclear(res);
	return rc;
}

enum store_status store_reconcile_mark_set(struct store *st, long long clean_at, char **err)
{
	char t[32];
	snprintf(t, sizeof(t), "%lld", clean_at);
	const char *v[] = { t };
	PGresult *res = PQexecParams(st->conn, "INSERT INTO attestd.reconcile_mark (clean_at)"
				     " VALUES ($1::bigint) ON CONFLICT (one) DO UPDATE"
				     " SET clean_at = excluded.clean_at", 1, NULL, v, NULL, NULL, 0);
	enum store_status rc = store_result_status(st, res, err);
	PQclear(res);
	return rc;
}

enum store_status store_recorded_since(struct store *st, long long since, bool rejected_only,
				       long long *after, size_t limit,
				       void (*fn)(const struct store_recorded *r, void *ctx),
				       void *ctx, size_t *rows, char **err)
{
	char since_s[32], after_s[32], limit_s[32];
	snprintf(since_s, sizeof(since_s), "%lld", since);
	snprintf(after_s, sizeof(after_s), "%lld", *after);
	snprintf(limit_s, sizeof(limit_s), "%zu", limit);
	const char *v[] = { since_s, after_s, limit_s, rejected_only ? "t" : "f" };
	/* submissions (processed_at) bounds the window (011); id pages it. */
	PGresult *res = PQexecParams(st->conn,
		"SELECT s.id, s.status = 'accepted', coalesce(s.sha256, ''), s.inbox_dir, s.claim_id,"
		" s.file_name, array_to_string(ARRAY(SELECT p.id_sha256 FROM attestd.signin_participants p"
		"  WHERE p.submission_id = s.id AND s.status = 'accepted'), ',')"
		" FROM attestd.submissions s"
		" WHERE s.processed_at >= to_timestamp($1::bigint)"
		" AND s.processed_at < now() - interval '10 minutes'"
		" AND s.status IN ('accepted', 'rejected') AND s.id > $2::bigint"
		" AND (NOT $4::bool OR s.status = 'rejected')"
		" ORDER BY s.id LIMIT $3::int", 4, NULL, v, NULL, NULL, 0);
	enum store_status rc = store_result_status(st, res, err);
	*rows = 0;
	if (rc == STORE_OK) {
		int n = PQntuples(res);
		for (int i = 0; i < n; i++) {
			struct store_recorded r = {
				.id = atoll(PQgetvalue(res, i, 0)),
				.accepted = PQgetvalue(res, i, 1)[0] == 't',
				.sha256 = PQgetvalue(res, i, 2),
				.inbox_dir = PQgetvalue(res, i, 3),
				.claim_id = PQgetvalue(res, i, 4),
				.file_name = PQgetvalue(res, i, 5),
				.scans = PQgetvalue(res, i, 6),
			};
			fn(&r, ctx);
			*after = r.id;
		}
		*rows = (size_t)n;
	}
	PQclear(res);
	return rc;
}

/*
 * One statement, so that `attestd status` is one round trip after the
 * connection: the undecided attestations' counts, the last file (its name,
 * centre and time from the same row: two subqueries could each pick
 * another of two files processed at the same instant), today's count, and
 * the two settings of store_durability_warning.  A fresh backend pays for
 * every statement's parsing, planning and catalog look-ups, so the
 * pg_settings query status used to send (whose synchronous_commit values
 * the warning does not read) is not repeated here.
 */
enum store_status store_counts(struct store *st, const char *today, struct store_counts *out,
			       char **err)
{
	const char *v[] = { today };
	memset(out, 0, sizeof(*out));
	PGresult *res = PQexecParams(st->conn,
		"SELECT a.pending, a.review, a.overdue, a.near_deadline,"
		" l.file_name, l.centre, l.at, t.files,"
		" current_setting('fsync')::bool, current_setting('full_page_writes')::bool"
		" FROM (SELECT count(*) FILTER (WHERE decision = 'pending') AS pending,"
		"  count(*) FILTER (WHERE decision = 'review') AS review,"
		"  count(*) FILTER (WHERE 'registration_overdue' = ANY (flags)) AS overdue,"
		"  count(*) FILTER (WHERE registration_deadline BETWEEN $1::date AND $1::date + 7"
		"   AND NOT 'registration_overdue' = ANY (flags)) AS near_deadline"
		"  FROM attestd.attestations WHERE decision IN ('pending', 'review')) a"
		" CROSS JOIN (SELECT count(*) AS files FROM attestd.submissions"
		"  WHERE processed_at >= $1::date) t"
		" LEFT JOIN (SELECT file_name, coalesce(approval, inbox_dir) AS centre,"
		"  extract(epoch FROM processed_at)::bigint AS at FROM attestd.submissions"
		"  ORDER BY processed_at DESC LIMIT 1) l ON true",
		1, NULL, v, NULL, NULL, 0);
	enum store_status rc = store_result_status(st, res, err);
	if (rc == STORE_OK) {
		out->pending = atol(PQgetvalue(res, 0, 0));
		out->review = atol(PQgetvalue(res, 0, 1));
		out->overdue = atol(PQgetvalue(res, 0, 2));
		out->near_deadline = atol(PQgetvalue(res, 0, 3));
		snprintf(out->last_file, sizeof(out->last_file), "%s", PQgetvalue(res, 0, 4));
		snprintf(out->last_approval, sizeof(out->last_approval), "%s", PQgetvalue(res, 0, 5));
		out->last_at = atoll(PQgetvalue(res, 0, 6));
		out->files_today = atol(PQgetvalue(res, 0, 7));
		out->fsync = store_col_bool(res, 0, 8);
		out->full_page_writes = store_col_bool(res, 0, 9);
	}
	PQclear(res);
	return rc;
}
