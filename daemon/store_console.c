/*
 * store_console - the console's queries.  See store_console.h.
 *
 * Every statement takes bind parameters (PQexecParams), never text pasted
 * into SQL; every list asks for one row more than a page to know whether
 * another page follows.  The month and date parameters were checked by the
 * caller; PostgreSQL checks them again by their casts.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_console.h"
#include "store_internal.h"
#include "xmalloc.h"

void store_table_free(struct store_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n_cols; i++)
		free(t->names[i]);
	for (size_t i = 0; i < t->n_cols * t->n_rows; i++)
		free(t->cells[i]);
	free(t->names);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

const char *store_table_get(const struct store_table *t, size_t row, size_t col)
{
	if (row >= t->n_rows || col >= t->n_cols || t->cells[row * t->n_cols + col] == NULL)
		return "";
	return t->cells[row * t->n_cols + col];
}

bool store_table_null(const struct store_table *t, size_t row, size_t col)
{
	return row >= t->n_rows || col >= t->n_cols || t->cells[row * t->n_cols + col] == NULL;
}

/* Runs sql with its text parameters into *out: at most max_rows rows
 * (out->more when the query had one more). */
static enum store_status query(struct store *st, const char *sql, int n,
			       const char *const *params, size_t max_rows, struct store_table *out,
			       char **err)
{
	memset(out, 0, sizeof(*out));
	PGresult *res = PQexecParams(st->conn, sql, n, NULL, params, NULL, NULL, 0);
	enum store_status rc = store_result_status(st, res, err);
	if (rc != STORE_OK) {
		PQclear(res);
		return rc;
	}
	size_t rows = (size_t)PQntuples(res), cols = (size_t)PQnfields(res);
	out->more = rows > max_rows;
	if (out->more)
		rows = max_rows;
	out->n_cols = cols;
	out->n_rows = rows;
	out->names = xcalloc(cols ? cols : 1, sizeof(*out->names));
	out->cells = xcalloc(rows * cols > 0 ? rows * cols : 1, sizeof(*out->cells));
	for (size_t c = 0; c < cols; c++)
		out->names[c] = xstrdup(PQfname(res, (int)c));
	for (size_t r = 0; r < rows; r++)
		for (size_t c = 0; c < cols; c++)
			if (!PQgetisnull(res, (int)r, (int)c))
				out->cells[r * cols + c] = xstrdup(PQgetvalue(res, (int)r, (int)c));
	PQclear(res);
	return STORE_OK;
}

/* A query about one thing: STORE_INVALID with *err when it has no row. */
static enum store_status query_one(struct store *st, const char *sql, int n,
				   const char *const *params, struct store_table *out,
				   const char *missing, char **err)
{
	enum store_status rc = query(st, sql, n, params, 1, out, err);
	if (rc == STORE_OK && out->n_rows == 0) {
		store_table_free(out);
		*err = xstrdup(missing);
		return STORE_INVALID;
	}
	return rc;
}

struct store *store_console_connect_as(const char *conninfo, const char *user,
				       const char *password, enum store_status *why,
				       char **err)
{
	/* The conninfo is expanded where dbname stands; the keys after it
	 * override what it says of user and password. */
	const char *keys[] = { "dbname", "user", "password", "application_name",
			       "client_encoding", NULL };
	const char *values[] = { conninfo, user, password, "attestd-console", "UTF8", NULL };
	PGconn *conn = PQconnectdbParams(keys, values, 1);
	*why = STORE_UNAVAILABLE;
	if (conn == NULL) {
		*err = xstrdup("cannot allocate a database connection");
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		const char *m = PQerrorMessage(conn);
		/* libpq gives no SQLSTATE for a refused login: its message does. */
		if (strstr(m, "authentication failed") || strstr(m, "no password supplied") ||
		    strstr(m, "does not exist") || strstr(m, "not permitted to log in") ||
		    strstr(m, "no pg_hba.conf entry"))
			*why = STORE_INVALID;
		*err = xstrdup(*why == STORE_INVALID ? "credentials refused by PostgreSQL"
			       : "cannot connect to the database");
		PQfinish(conn);
		return NULL;
	}
	struct store *st = xcalloc(1, sizeof(*st));
	st->conn = conn;
	st->conninfo = xstrdup(conninfo);
	PQclear(PQexec(conn, "SET client_min_messages = warning"));
	*why = STORE_OK;
	return st;
}

enum store_status store_console_session(struct store *st, const char *timezone, char **err)
{
	const char *v[] = { timezone };
	PGresult *res = PQexecParams(st->conn, "SELECT set_config('TimeZone', $1, false),"
				     " set_config('DateStyle', 'ISO, YMD', false),"
				     " set_config('default_transaction_read_only', 'on', false),"
				     " set_config('statement_timeout', '10s', false)", 1, NULL, v,
				     NULL, NULL, 0);
	enum store_status rc = store_result_status(st, res, err);
	PQclear(res);
	return rc;
}

bool store_console_alive(struct store *st)
{
	return PQstatus(st->conn) == CONNECTION_OK && PQtransactionStatus(st->conn) == PQTRANS_IDLE;
}

enum store_status store_console_whoami(struct store *st, char role[static 64], bool *auditor,
				       bool *reviewer, char **err)
{
	struct store_table t;
	enum store_status rc = query(st, "SELECT current_user,"
				     " pg_has_role(current_user, 'attestd_auditor', 'MEMBER'),"
				     " pg_has_role(current_user, 'attestd_reviewer', 'MEMBER')",
				     0, NULL, 1, &t, err);
	if (rc != STORE_OK)
		return rc;
	snprintf(role, 64, "%s", store_table_get(&t, 0, 0));
	*auditor = strcmp(store_table_get(&t, 0, 1), "t") == 0;
	*reviewer = strcmp(store_table_get(&t, 0, 2), "t") == 0;
	store_table_free(&t);
	return STORE_OK;
}

enum store_status store_console_schema_version(struct store *st, int *version, char **err)
{
	struct store_table t;
	enum store_status rc = query(st, "SELECT coalesce(max(version), 0)"
				     " FROM attestd.schema_migrations", 0, NULL, 1, &t, err);
	if (rc == STORE_OK)
		*version = atoi(store_table_get(&t, 0, 0));
	store_table_free(&t);
	return rc;
}

/* --- dashboard -------------------------------------------------------------------- */

enum store_status store_console_today(struct store *st, struct store_table *out, char **err)
{
	return query(st,
		"SELECT (SELECT count(*) FROM audit.submissions WHERE received_at >= current_date"
		"   AND status = 'accepted') AS accepted,"
		" (SELECT count(*) FROM audit.submissions WHERE received_at >= current_date"
		"   AND status = 'rejected') AS rejected,"
		" (SELECT count(*) FROM audit.submissions WHERE received_at >= current_date"
		"   AND status = 'duplicate') AS duplicate,"
		" (SELECT count(*) FROM console.review_items WHERE decision = 'pending') AS pending,"
		" (SELECT count(*) FROM console.review_items WHERE decision = 'review') AS review,"
		" (SELECT count(*) FROM console.review_items WHERE decision IN ('pending', 'review')"
		"   AND registration_deadline < current_date) AS overdue,"
		" (SELECT date_trunc('second', processed_at) FROM audit.submissions"
		"   WHERE status = 'accepted' ORDER BY id DESC LIMIT 1) AS last_success",
		0, NULL, 1, out, err);
}

enum store_status store_console_files_per_day(struct store *st, const char *from,
					      struct store_table *out, char **err)
{
	const char *p[] = { from };
	return query(st,
		"SELECT received_at::date AS day,"
		" count(*) FILTER (WHERE status = 'accepted') AS accepted,"
		" count(*) FILTER (WHERE status = 'rejected') AS rejected,"
		" count(*) FILTER (WHERE status = 'duplicate') AS duplicate"
		" FROM audit.submissions WHERE received_at >= $1::date"
		" GROUP BY 1 ORDER BY 1 LIMIT 400", 1, p, 400, out, err);
}

enum store_status store_console_decisions_per_month(struct store *st, const char *from,
						    const char *to, struct store_table *out,
						    char **err)
{
	const char *p[] = { from, to };
	/* The months' counts as the decisions were written (audit.monthly_decisions,
	 * migration 014): a few rows a month and centre rather than every
	 * decision of the months.  from and to are months' first days. */
	return query(st,
		"SELECT to_char(month, 'YYYY-MM') AS month,"
		" coalesce(sum(attestations) FILTER (WHERE decision = 'credited'), 0) AS credited,"
		" coalesce(sum(attestations) FILTER (WHERE decision = 'no_credit'), 0) AS no_credit,"
		" coalesce(sum(attestations) FILTER (WHERE decision = 'rejected'), 0) AS rejected"
		" FROM audit.monthly_decisions WHERE reason = '' AND month >= $1::date"
		" AND ($2::date IS NULL OR month < $2::date)"
		" GROUP BY month ORDER BY month LIMIT 400", 2, p, 400, out, err);
}

/* --- files ------------------------------------------------------------------------ */

enum store_status store_console_files(struct store *st, const struct store_console_file_filter *f,
				      struct store_table *out, char **err)
{
	char before[24];
	snprintf(before, sizeof(before), "%" PRId64, f->before);
	const char *p[] = { f->centre, f->from, f->to, f->status, f->reason, f->name,
			    f->before > 0 ? before : NULL };
	return query(st,
		"SELECT id, approval, file_name, kind, date_trunc('second', received_at) AS received,"
		" status, errors FROM audit.submissions"
		" WHERE ($1::text IS NULL OR approval = $1)"
		" AND ($2::date IS NULL OR received_at >= $2::date)"
		" AND ($3::date IS NULL OR received_at < $3::date + 1)"
		" AND ($4::text IS NULL OR status = $4)"
		" AND ($5::text IS NULL OR $5 = ANY (errors))"
		" AND ($6::text IS NULL OR strpos(file_name, $6) > 0)"
		" AND ($7::bigint IS NULL OR id < $7::bigint)"
		" ORDER BY id DESC LIMIT 51", 7, p, STORE_CONSOLE_PAGE, out, err);
}

enum store_status store_console_file(struct store *st, int64_t id, struct store_table *out,
				     char **err)
{
	char k[24];
	snprintf(k, sizeof(k), "%" PRId64, id);
	const char *p[] = { k };
	return query_one(st,
		"SELECT id, approval, file_name, sha256, size, kind,"
		" date_trunc('second', received_at) AS received,"
		" date_trunc('second', processed_at) AS processed, status, errors, error_messages,"
		" duplicate_of, signer_sha256, chain_pem, crl_number, crl_sha256, verifier, signer_der_b64"
		" FROM console.submissions WHERE id = $1::bigint", 1, p, out,
		"no such file", err);
}

enum store_status store_console_file_receipts(struct store *st, int64_t id,
					      struct store_table *out, char **err)
{
	char k[24];
	snprintf(k, sizeof(k), "%" PRId64, id);
	const char *p[] = { k };
	return query(st,
		"SELECT seq, path, date_trunc('second', created_at) AS created,"
		" date_trunc('second', written_at) AS written FROM console.receipts"
		" WHERE submission_id = $1::bigint ORDER BY seq LIMIT 100", 1, p, 100, out, err);
}

enum store_status store_console_file_attestations(struct store *st, int64_t id,
						  struct store_table *out, char **err)
{
	char k[24];
	snprintf(k, sizeof(k), "%" PRId64, id);
	const char *p[] = { k };
	return query(st,
		"SELECT id, number, licence, decision, points, reasons FROM console.review_items"
		" WHERE submission_id = $1::bigint ORDER BY number LIMIT 200", 1, p, 200, out, err);
}

/* --- review ----------------------------------------------------------------------- */

enum store_status store_console_review_list(struct store *st, const char *centre,
					    const char *after_deadline, int64_t after_id,
					    struct store_table *out, char **err)
{
	char k[24];
	snprintf(k, sizeof(k), "%" PRId64, after_id);
	const char *p[] = { after_id > 0 ? after_deadline : NULL, after_id > 0 ? k : NULL, centre };
	return query(st,
		"SELECT id, approval, stage_ref, number, licence, reasons, registration_deadline,"
		" registration_deadline - current_date AS days_left"
		" FROM console.review_items WHERE decision = 'review'"
		" AND ($1::date IS NULL OR (registration_deadline, id) > ($1::date, $2::bigint))"
		" AND ($3::text IS NULL OR approval = $3)"
		" ORDER BY registration_deadline, id LIMIT 51", 3, p, STORE_CONSOLE_PAGE, out, err);
}

enum store_status store_console_review_item(struct store *st, int64_t id,
					    struct store_table *out, char **err)
{
	char k[24];
	snprintf(k, sizeof(k), "%" PRId64, id);
	const char *p[] = { k };
	return query_one(st,
		"SELECT id, approval, stage_ref, number, licence, decision, points, reasons, flags,"
		" date_trunc('second', received_at) AS received, registration_deadline,"
		" registration_deadline - current_date AS days_left, submission_id, first_day,"
		" last_day, stage_case,"
		" att_surname, att_given_names, att_birth_date,"
		" sheet_surname, sheet_given_names, sheet_birth_date,"
		" reg_surname, reg_given_names, reg_birth_date,"
		" session_dates, session_starts, session_ends, arrived, signed, sheet_id_type"
		" FROM console.review_items WHERE id = $1::bigint", 1, p, out,
		"no such attestation", err);
}

enum store_status store_console_review_scans(struct store *st, int64_t id,
					     struct store_table *out, char **err)
{
	char k[24];
	snprintf(k, sizeof(k), "%" PRId64, id);
	const char *p[] = { k };
	return query(st, "SELECT sha256, media_type, size, id_type FROM console.identity_scans"
		     " WHERE attestation_id = $1::bigint ORDER BY sha256 LIMIT 10", 1, p, 10, out, err);
}

enum store_status store_console_review_history(struct store *st, int64_t id,
					       struct store_table *out, char **err)
{
	char k[24];
	snprintf(k, sizeof(k), "%" PRId64, id);
	const char *p[] = { k };
	return query(st,
		"SELECT date_trunc('second', h.at) AS at, h.actor, h.cause, h.decision, h.points,"
		" h.reasons, h.note FROM audit.decision_history h"
		" JOIN console.review_items r ON r.approval = h.approval"
		"  AND r.number = h.attestation_number"
		" WHERE r.id = $1::bigint ORDER BY h.seq LIMIT 100", 1, p, 100, out, err);
}

enum store_status store_console_scan(struct store *st, int64_t id, const char *sha256,
				     char media_type[static 128], bool *found, char **err)
{
	char k[24];
	snprintf(k, sizeof(k), "%" PRId64, id);
	const char *p[] = { k, sha256 };
	struct store_table t;
	*found = false;
	enum store_status rc = query(st, "SELECT media_type FROM console.identity_scans"
				     " WHERE attestation_id = $1::bigint AND sha256 = $2", 2, p, 1,
				     &t, err);
	/* Without the grant (42501) the scan does not exist for this person. */
	if (rc != STORE_OK && strcmp(st->sqlstate, "42501") == 0) {
		free(*err);
		*err = NULL;
		return STORE_OK;
	}
	if (rc == STORE_OK && t.n_rows == 1) {
		*found = true;
		snprintf(media_type, 128, "%s", store_table_get(&t, 0, 0));
	}
	store_table_free(&t);
	return rc;
}

enum store_status store_console_original(struct store *st, int64_t submission,
					 char sha256[static 65], char name[static 256],
					 bool *found, char **err)
{
	char k[24];
	snprintf(k, sizeof(k), "%" PRId64, submission);
	const char *p[] = { k };
	struct store_table t;
	*found = false;
	enum store_status rc = query(st, "SELECT sha256, file_name FROM console.originals"
				     " WHERE submission_id = $1::bigint", 1, p, 1, &t, err);
	if (rc != STORE_OK && strcmp(st->sqlstate, "42501") == 0) {
		free(*err);
		*err = NULL;
		return STORE_OK;
	}
	if (rc == STORE_OK && t.n_rows == 1) {
		*found = true;
		snprintf(sha256, 65, "%s", store_table_get(&t, 0, 0));
		snprintf(name, 256, "%s", store_table_get(&t, 0, 1));
	}
	store_table_free(&t);
	return rc;
}

/* --- licences --------------------------------------------------------------------- */

/* A licence has tens of events; this bound only guards the page. */
#define LEDGER_MAX_EVENTS 10000

enum store_status store_console_ledger(struct store *st, const char *licence,
				       struct store_console_ledger *out, bool *known, char **err)
{
	memset(out, 0, sizeof(*out));
	out->licence.probation_end = DATE_NONE;
	out->licence.status_date = DATE_NONE;
	*known = false;
	const char *p[] = { licence };
	struct store_table lic, ev;
	enum store_status rc = query(st, "SELECT probation_end, status, status_date"
				     " FROM console.licences WHERE licence = $1", 1, p, 1, &lic, err);
	if (rc != STORE_OK)
		return rc;
	rc = query(st, "SELECT effective_date, kind, points, stage_first_day, ref"
		   " FROM audit.licence_events WHERE licence = $1 ORDER BY effective_date, ref"
		   " LIMIT 10001", 1, p, LEDGER_MAX_EVENTS, &ev, err);
	if (rc != STORE_OK) {
		store_table_free(&lic);
		return rc;
	}
	if (lic.n_rows == 1) {
		out->registered = true;
		date_t d;
		if (date_parse(store_table_get(&lic, 0, 0), &d))
			out->licence.probation_end = d;
		ledger_status_from_name(store_table_get(&lic, 0, 1), &out->licence.status);
		if (date_parse(store_table_get(&lic, 0, 2), &d))
			out->licence.status_date = d;
	}
	size_t refs_len = 0;
	for (size_t i = 0; i < ev.n_rows; i++)
		refs_len += strlen(store_table_get(&ev, i, 4)) + 1;
	out->refs = xmalloc(refs_len ? refs_len : 1);
	out->events = xcalloc(ev.n_rows ? ev.n_rows : 1, sizeof(*out->events));
	size_t off = 0;
	for (size_t i = 0; i < ev.n_rows; i++) {
		struct ledger_event *e = &out->events[out->n];
		if (!date_parse(store_table_get(&ev, i, 0), &e->effective) ||
		    !ledger_kind_from_name(store_table_get(&ev, i, 1), &e->kind))
			continue;
		e->points = atoi(store_table_get(&ev, i, 2));
		e->stage_first_day = DATE_NONE;
		date_parse(store_table_get(&ev, i, 3), &e->stage_first_day);
		size_t n = strlen(store_table_get(&ev, i, 4)) + 1;
		memcpy(out->refs + off, store_table_get(&ev, i, 4), n);
		e->ref = out->refs + off;
		off += n;
		out->n++;
	}
	*known = lic.n_rows == 1 || ev.n_rows > 0;
	store_table_free(&lic);
	store_table_free(&ev);
	return STORE_OK;
}

void store_console_ledger_free(struct store_console_ledger *l)
{
	if (l == NULL)
		return;
	free(l->events);
	free(l->refs);
	memset(l, 0, sizeof(*l));
}

enum store_status store_console_licence_decisions(struct store *st, const char *licence,
						  struct store_table *out, char **err)
{
	const char *p[] = { licence };
	return query(st,
		"SELECT approval, stage_ref, attestation_number, first_day, last_day, decision, points,"
		" effective_date, reasons, date_trunc('second', decided_at) AS decided"
		" FROM audit.attestation_decisions WHERE licence = $1"
		" ORDER BY first_day DESC, approval, attestation_number LIMIT 500", 1, p, 500, out,
		err);
}

/* --- stages and centres --------------------------------------------------------------- */

enum store_status store_console_stage(struct store *st, const char *approval, const char *ref,
				      struct store_table *out, char **err)
{
	const char *p[] = { approval, ref };
	return query_one(st,
		"SELECT approval, ref, departement, first_day, last_day, findings, venue,"
		" session_dates, session_starts, session_ends,"
		" psychologist_authorisation, psychologist_surname, psychologist_valid,"
		" expert_authorisation, expert_surname, expert_valid"
		" FROM console.stages WHERE approval = $1 AND ref = $2", 2, p, out,
		"no such stage", err);
}

enum store_status store_console_stage_attendance(struct store *st, const char *approval,
						 const char *ref, struct store_table *out,
						 char **err)
{
	const char *p[] = { approval, ref };
	return query(st,
		"SELECT licence, surname, given_names, arrived, signed"
		" FROM console.attendance WHERE approval = $1 AND stage_ref = $2"
		" ORDER BY surname, given_names, licence LIMIT 100", 2, p, 100, out, err);
}

enum store_status store_console_stage_attestations(struct store *st, const char *approval,
						   const char *ref, struct store_table *out,
						   char **err)
{
	const char *p[] = { approval, ref };
	return query(st,
		"SELECT r.id, r.number, r.licence, r.decision, r.points, r.reasons"
		" FROM console.review_items r WHERE r.approval = $1 AND r.stage_ref = $2"
		" ORDER BY r.number LIMIT 100", 2, p, 100, out, err);
}

enum store_status store_console_centre(struct store *st, const char *approval,
				       const char *table, struct store_table *out, char **err)
{
	const char *p[] = { approval };
	if (strcmp(table, "centre") == 0)
		return query_one(st,
			"SELECT c.approval, c.name, c.departement, c.valid_from, c.valid_to"
			" FROM console.centres c WHERE c.approval = $1", 1, p, out,
			"no such centre", err);
	if (strcmp(table, "per-month") == 0)
		return query(st,
			"SELECT m.month, m.files, m.rejected, coalesce(l.late, 0) AS late FROM"
			" (SELECT to_char(received_at, 'YYYY-MM') AS month, count(*) AS files,"
			"   count(*) FILTER (WHERE status = 'rejected') AS rejected"
			"  FROM audit.submissions WHERE approval = $1"
			"  AND received_at >= date_trunc('month', current_date) - interval '35 months'"
			"  GROUP BY 1) m"
			" LEFT JOIN (SELECT to_char(received_at, 'YYYY-MM') AS month, count(*) AS late"
			"  FROM audit.late_transmissions WHERE approval = $1"
			"  AND received_at >= date_trunc('month', current_date) - interval '35 months'"
			"  GROUP BY 1) l USING (month)"
			" ORDER BY 1 DESC LIMIT 36", 1, p, 36, out, err);
	if (strcmp(table, "rejections") == 0)
		return query(st,
			"SELECT reason, count(*) AS files FROM audit.submissions, unnest(errors) reason"
			" WHERE approval = $1 AND status = 'rejected'"
			" GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 100", 1, p, 100, out, err);
	if (strcmp(table, "certificates") == 0)
		return query(st,
			"SELECT sha256, date_trunc('second', last_used) AS last_used, der_b64"
			" FROM console.centre_certificates WHERE approval = $1"
			" ORDER BY last_used DESC NULLS LAST LIMIT 100", 1, p, 100, out,
			err);
	*err = xasprintf("unknown table %s", table);
	return STORE_INVALID;
}

/* --- the monthly report ----------------------------------------------------------- */

const char *const store_console_monthly_names[STORE_CONSOLE_MONTHLY_N] = {
	"volumes", "decisions", "late-transmissions", "overdue-registrations",
	"review-turnaround", "rejected-files",
};

const char *const store_console_monthly_titles[STORE_CONSOLE_MONTHLY_N] = {
	"Volumes : fichiers reçus par type et issue",
	"Décisions et points",
	"Transmissions tardives (plus de 15 jours après le stage), par centre",
	"Enregistrements hors délai d'un mois (R223-8 III), par centre",
	"Délai de traitement des révisions",
	"Fichiers rejetés par motif et par centre",
};

/* $1 is the month's first day; the month is [$1, $1 + 1 month) in the
 * prefecture's time zone (the session's). */
#define MONTH(col) " " col " >= $1::date AND " col " < ($1::date + interval '1 month')"

static const char *const monthly_sql[STORE_CONSOLE_MONTHLY_N] = {
	"SELECT kind, status, count(*) AS files FROM audit.submissions WHERE" MONTH("received_at")
	" GROUP BY 1, 2 ORDER BY 1, 2 LIMIT 1001",
	/* The month's counts as the decisions were written (014). */
	"SELECT decision, sum(attestations) AS attestations, sum(points) AS points"
	" FROM audit.monthly_decisions WHERE month = $1::date AND reason = ''"
	" GROUP BY 1 ORDER BY 1 LIMIT 1001",
	"SELECT approval, count(*) AS files_late, max(days_after_last_day) AS max_days_after"
	" FROM audit.late_transmissions WHERE" MONTH("received_at")
	" GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1001",
	"SELECT approval, count(*) AS attestations, max(days_overdue) AS max_days_overdue"
	" FROM audit.registrations_overdue WHERE" MONTH("registration_deadline")
	" GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1001",
	"SELECT h.decision, count(*) AS decided,"
	" round(avg(extract(epoch FROM h.at - a.received_at) / 86400)::numeric, 1) AS avg_days,"
	" round(max(extract(epoch FROM h.at - a.received_at) / 86400)::numeric, 1) AS max_days"
	" FROM audit.decision_history h JOIN audit.attestation_decisions a"
	"  ON a.approval = h.approval AND a.attestation_number = h.attestation_number"
	" WHERE h.cause LIKE 'review%' AND" MONTH("h.at") " GROUP BY 1 ORDER BY 1 LIMIT 1001",
	"SELECT approval, reason, count(*) AS files FROM audit.submissions, unnest(errors) reason"
	" WHERE status = 'rejected' AND" MONTH("received_at")
	" GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 1001",
};

enum store_status store_console_monthly(struct store *st, const char *month, const char *table,
					struct store_table *out, char **err)
{
	char first[16];
	snprintf(first, sizeof(first), "%.7s-01", month);
	const char *p[] = { first };
	for (size_t i = 0; i < STORE_CONSOLE_MONTHLY_N; i++)
		if (strcmp(store_console_monthly_names[i], table) == 0)
			return query(st, monthly_sql[i], 1, p, 1000, out, err);
	*err = xasprintf("no table %s in the monthly report", table);
	return STORE_INVALID;
}
