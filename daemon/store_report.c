/*
 * store_report - the audit and review queries.  See store_report.h.
 *
 * COPY cannot take bind parameters, so a query's $N are replaced by
 * literals that libpq quotes (PQescapeLiteral, in the connection's
 * encoding) before it is sent; the templates are this file's constants and
 * hold no other '$'.  CSV comes from COPY ... TO STDOUT and is copied
 * through as it arrives; JSON and tables read one row at a time
 * (PQsetSingleRowMode).  Each command reads one REPEATABLE READ, READ ONLY
 * snapshot, so its parts agree with each other.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "store_report.h"
#include "xmalloc.h"

/* One part of a command's answer. */
struct part {
	const char *key;		/* JSON key */
	const char *title;		/* over the table */
	const char *sql;		/* $1, $2 ... the parameters */
	bool one;			/* a single record */
};

/* --- the engine ------------------------------------------------------------- */

struct sbuf {
	char *s;
	size_t len, cap;
};

static void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* The template with its $N replaced by quoted literals (NULL: SQL NULL). */
static enum store_status bind(struct store *st, const char *sql, const char *const *params,
			      size_t n_params, char **out, char **err)
{
	struct sbuf b = { 0 };
	const char *p = sql;
	while (*p) {
		size_t plain = strcspn(p, "$");
		sbuf_add(&b, p, plain);
		p += plain;
		if (*p == '\0')
			break;
		char *end;
		unsigned long k = strtoul(p + 1, &end, 10);
		if (end == p + 1 || k == 0 || k > n_params) {
			free(b.s);
			*err = xasprintf("query parameter %.8s out of range", p);
			return STORE_ERROR;
		}
		const char *v = params[k - 1];
		if (v == NULL) {
			sbuf_add(&b, "NULL", 4);
		} else {
			char *lit = PQescapeLiteral(st->conn, v, strlen(v));
			if (lit == NULL) {
				free(b.s);
				*err = xasprintf("cannot quote \"%.40s\": %s", v,
						 store_trim(PQerrorMessage(st->conn)));
				return STORE_INVALID;
			}
			sbuf_add(&b, lit, strlen(lit));
			PQfreemem(lit);
		}
		p = end;
	}
	*out = b.s ? b.s : xstrdup("");
	return STORE_OK;
}

/* Reads what is left of a query's results; the first failure sets *err. */
static enum store_status drain(struct store *st, enum store_status rc, char **err)
{
	PGresult *res;
	while ((res = PQgetResult(st->conn)) != NULL) {
		if (rc == STORE_OK)
			rc = store_result_status(st, res, err);
		PQclear(res);
	}
	return rc;
}

static enum store_status part_csv(struct store *st, const char *sql, FILE *out, char **err)
{
	char *copy = xasprintf("COPY (%s) TO STDOUT (FORMAT csv, HEADER)", sql);
	PGresult *res = PQexec(st->conn, copy);
	free(copy);
	if (PQresultStatus(res) != PGRES_COPY_OUT) {
		enum store_status rc = store_result_status(st, res, err);
		PQclear(res);
		return drain(st, rc == STORE_OK ? STORE_ERROR : rc, err);
	}
	PQclear(res);
	char *buf;
	int n;
	while ((n = PQgetCopyData(st->conn, &buf, 0)) > 0) {
		fwrite(buf, 1, (size_t)n, out);
		PQfreemem(buf);
	}
	enum store_status rc = STORE_OK;
	if (n == -2) {
		*err = xasprintf("reading the rows: %s", store_trim(PQerrorMessage(st->conn)));
		rc = PQstatus(st->conn) == CONNECTION_OK ? STORE_ERROR : STORE_UNAVAILABLE;
	}
	return drain(st, rc, err);
}

/* Table and JSON: rows one at a time. */
static enum store_status part_rows(struct store *st, struct report *r, const struct part *part,
				   const char *sql, char **err)
{
	char *query = r->format == REPORT_JSON
		? xasprintf("SELECT row_to_json(q)::text FROM (%s) q", sql) : xstrdup(sql);
	int sent = PQsendQuery(st->conn, query);
	free(query);
	if (!sent) {
		*err = xasprintf("cannot send the query: %s", store_trim(PQerrorMessage(st->conn)));
		return PQstatus(st->conn) == CONNECTION_OK ? STORE_ERROR : STORE_UNAVAILABLE;
	}
	PQsetSingleRowMode(st->conn);
	struct report_table *t = NULL;
	const char **values = NULL;
	enum store_status rc = STORE_OK;
	PGresult *res;
	while ((res = PQgetResult(st->conn)) != NULL) {
		ExecStatusType s = PQresultStatus(res);
		if (rc == STORE_OK && (s == PGRES_SINGLE_TUPLE || s == PGRES_TUPLES_OK) &&
		    r->format == REPORT_TABLE && t == NULL) {
			/* Every result, even an empty last one, names the columns. */
			int n = PQnfields(res);
			values = xcalloc(n ? (size_t)n : 1, sizeof(*values));
			for (int c = 0; c < n; c++)
				values[c] = PQfname(res, c);
			t = report_table_new(r->out, (size_t)n, values, part->one);
		}
		if (rc == STORE_OK && s == PGRES_SINGLE_TUPLE) {
			if (r->format == REPORT_JSON) {
				report_json_item(r, PQgetvalue(res, 0, 0));
			} else {
				for (int c = 0; c < PQnfields(res); c++)
					values[c] = PQgetisnull(res, 0, c) ? NULL : PQgetvalue(res, 0, c);
				report_table_row(t, values);
			}
		} else if (rc == STORE_OK && s != PGRES_TUPLES_OK) {
			rc = store_result_status(st, res, err);
			if (rc == STORE_OK) {
				*err = xasprintf("unexpected result %s", PQresStatus(s));
				rc = STORE_ERROR;
			}
		}
		PQclear(res);
	}
	report_table_end(t);
	free(values);
	return rc;
}

/* Writes the parts in order from one read-only snapshot; settings (SET
 * LOCAL ..., or NULL) apply to all of them. */
static enum store_status run_parts(struct store *st, const struct part *parts, size_t n_parts,
				   const char *const *params, size_t n_params, const char *settings,
				   enum report_format format, FILE *out, char **err)
{
	struct report r;
	enum store_status rc = store_exec(st, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);
	if (rc != STORE_OK)
		return rc;
	/* A month of all centres is tens of thousands of rows to sort: in
	 * memory, rather than spilled to disk past the default 4 MB. */
	if ((rc = store_exec(st, "SET LOCAL work_mem = '64MB'", err)) != STORE_OK ||
	    (settings != NULL && (rc = store_exec(st, settings, err)) != STORE_OK)) {
		store_rollback(st);
		return rc;
	}
	report_begin(&r, out, format, n_parts > 1);
	for (size_t i = 0; i < n_parts && rc == STORE_OK; i++) {
		char *sql = NULL;
		if ((rc = bind(st, parts[i].sql, params, n_params, &sql, err)) != STORE_OK)
			break;
		report_section(&r, parts[i].key, parts[i].title, parts[i].one);
		rc = format == REPORT_CSV ? part_csv(st, sql, out, err)
					  : part_rows(st, &r, &parts[i], sql, err);
		report_section_end(&r);
		free(sql);
	}
	if (rc == STORE_OK)
		report_end(&r);
	else
		fflush(out);
	if (rc == STORE_OK)
		return store_exec(st, "COMMIT", err);
	store_rollback(st);
	return rc;
}

/* The parts about one thing (their one bind parameter, key), or
 * STORE_INVALID with missing (a format whose one %s is the key) when
 * exists_sql finds nothing recorded about it. */
static enum store_status run_parts_about(struct store *st, const char *exists_sql,
					 const char *key, const char *missing,
					 const struct part *parts, size_t n_parts,
					 enum report_format format, FILE *out, char **err)
{
	const char *params[] = { key };
	PGresult *res = PQexecParams(st->conn, exists_sql, 1, NULL, params, NULL, NULL, 0);
	enum store_status rc = store_result_status(st, res, err);
	bool known = rc == STORE_OK && PQntuples(res) == 1 && store_col_bool(res, 0, 0);
	PQclear(res);
	if (rc != STORE_OK)
		return rc;
	if (!known) {
		*err = xasprintf(missing, key);
		return STORE_INVALID;
	}
	return run_parts(st, parts, n_parts, params, 1, NULL, format, out, err);
}

enum store_status store_report_session(struct store *st, const char *timezone, char **err)
{
	const char *v[] = { timezone };
	PGresult *res = PQexecParams(st->conn, "SELECT set_config('TimeZone', $1, false),"
				     " set_config('DateStyle', 'ISO, YMD', false)", 1, NULL, v, NULL,
				     NULL, 0);
	enum store_status rc = store_result_status(st, res, err);
	PQclear(res);
	return rc;
}

/* --- the auditors' questions (audit.* views only) ------------------------------ */

enum store_status store_report_attestations(struct store *st, const struct store_report_filter *f,
					    enum report_format format, FILE *out, char **err)
{
	static const struct part part = {
		"attestations", "Attestations",
		"SELECT approval, stage_ref, attestation_number, licence, stage_case, first_day,"
		" last_day, decision, points, effective_date, reasons, flags, received_at, decided_at,"
		" registration_deadline FROM audit.attestation_decisions"
		" WHERE ($1::text IS NULL OR approval = $1::text)"
		" AND ($2::text IS NULL OR licence = $2::text)"
		" AND ($3::date IS NULL OR first_day >= $3::date)"
		" AND ($4::date IS NULL OR last_day <= $4::date)"
		/* The same rows, said so that the index on first_day reads the
		 * period only, not everything received since its start: a stage's
		 * first day is in the period when it ends in it, unless its days
		 * are inverted (stage_days_not_consecutive), which 014's partial
		 * index finds apart. */
		" AND ($3::date IS NULL OR $4::date IS NULL"
		"  OR first_day BETWEEN $3::date AND $4::date"
		"  OR (first_day > last_day AND first_day >= $3::date))"
		/* Byte order for the text keys: a month of all centres is tens of
		 * thousands of rows, and the database's collation (C.UTF-8 or a
		 * language's) compares each pair through strcoll, most of the
		 * sort's cost (server CPU a month, fresh session: 317 -> 227 ms
		 * on one year's 57,540 rows).  Approvals and numbers are ASCII
		 * codes: the same order as C.UTF-8's, and one order whatever the
		 * database's locale. */
		" ORDER BY received_at, approval COLLATE \"C\", attestation_number COLLATE \"C\"",
		false,
	};
	/* Each row's stage ref by the stages' key, remembered per stage
	 * (Memoize: a month of all centres is ~2,900 stages for 57,540 rows),
	 * rather than a hash of every stage of the archive, which the planner
	 * prefers for tens of thousands of rows and which grows with the
	 * archive: the backend's CPU for the month with 105,000 stages, min
	 * of 7 fresh sessions, 400-429 -> 316-325 ms.  The view's join is an
	 * inner join on a NOT NULL foreign key: any join method gives the
	 * same rows. */
	static const char settings[] = "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off";
	const char *params[] = { f->centre, f->licence, f->from, f->to };
	return run_parts(st, &part, 1, params, 4, settings, format, out, err);
}

enum store_status store_report_licence(struct store *st, const char *licence,
				       enum report_format format, FILE *out, char **err)
{
	static const struct part parts[] = {
		{ "balance", "Balance",
		  "SELECT licence, balance, ceiling, status, last_credit_stage_last_day"
		  " FROM audit.licence_balances WHERE licence = $1", true },
		{ "events", "Ledger events",
		  "SELECT effective_date, kind, points, ref, source, stage_first_day, created_at"
		  " FROM audit.licence_events WHERE licence = $1"
		  " ORDER BY effective_date, CASE kind WHEN 'grant' THEN 0 WHEN 'stage_credit' THEN 1"
		  " WHEN 'retrait' THEN 3 ELSE 2 END, ref", false },
		{ "balance_history", "Balance history",
		  "SELECT changed_at, old_balance, new_balance, cause FROM audit.balance_history"
		  " WHERE licence = $1 ORDER BY changed_at", false },
		{ "attestations", "Attestations",
		  "SELECT approval, stage_ref, attestation_number, stage_case, first_day, last_day,"
		  " decision, points, effective_date, reasons, flags, received_at, decided_at"
		  " FROM audit.attestation_decisions WHERE licence = $1"
		  " ORDER BY first_day, approval, attestation_number", false },
		{ "decision_history", "Decision history",
		  "SELECT at, approval, stage_ref, attestation_number, actor, cause, decision, points,"
		  " reasons, flags, note FROM audit.decision_history WHERE licence = $1 ORDER BY seq",
		  false },
	};
	return run_parts_about(st,
		"SELECT EXISTS (SELECT FROM audit.licence_balances WHERE licence = $1)"
		" OR EXISTS (SELECT FROM audit.licence_events WHERE licence = $1)"
		" OR EXISTS (SELECT FROM audit.attestation_decisions WHERE licence = $1)",
		licence, "nothing is recorded for licence %s (no balance, ledger event or "
		"attestation)", parts, sizeof(parts) / sizeof(parts[0]), format, out, err);
}

enum store_status store_report_centre(struct store *st, const char *approval,
				      enum report_format format, FILE *out, char **err)
{
	static const struct part parts[] = {
		{ "submissions", "Submissions",
		  "SELECT id, file_name, kind, sha256, received_at, processed_at, status, errors"
		  " FROM audit.submissions WHERE approval = $1 ORDER BY received_at, id", false },
		{ "late_transmissions", "Late transmissions (more than 15 days after the stage)",
		  "SELECT stage_ref, submission_id, last_day, received_at, days_after_last_day"
		  " FROM audit.late_transmissions WHERE approval = $1 ORDER BY received_at, stage_ref",
		  false },
		{ "rejections", "Rejections (files and attestations)",
		  "SELECT what, received_at, submission_id, file_name, stage_ref, attestation_number,"
		  " licence, reasons FROM ("
		  "  SELECT 'file' AS what, received_at, id AS submission_id, file_name,"
		  "   NULL::text AS stage_ref, NULL::text AS attestation_number, NULL::text AS licence,"
		  "   errors AS reasons FROM audit.submissions WHERE approval = $1 AND status = 'rejected'"
		  "  UNION ALL"
		  "  SELECT 'attestation', received_at, NULL, NULL, stage_ref, attestation_number,"
		  "   licence, reasons FROM audit.attestation_decisions"
		  "   WHERE approval = $1 AND decision = 'rejected') r"
		  " ORDER BY received_at, what, attestation_number", false },
	};
	return run_parts_about(st, "SELECT EXISTS (SELECT FROM audit.submissions WHERE approval = $1)",
			       approval, "nothing is recorded for centre %s (no file received)", parts,
			       sizeof(parts) / sizeof(parts[0]), format, out, err);
}

enum store_status store_report_overdue(struct store *st, enum report_format format, FILE *out,
				       char **err)
{
	static const struct part part = {
		"overdue", "Registrations overdue",
		"SELECT approval, stage_ref, attestation_number, licence, decision, received_at,"
		" registration_deadline, decided_at, days_overdue FROM audit.registrations_overdue"
		" ORDER BY registration_deadline, approval, attestation_number",
		false,
	};
	return run_parts(st, &part, 1, NULL, 0, NULL, format, out, err);
}

enum store_status store_report_log(struct store *st, const struct store_report_filter *f,
				   enum report_format format, FILE *out, char **err)
{
	/* --action registry matches registry.import: actions are dotted names. */
	static const struct part part = {
		"log", "Audit log",
		"SELECT seq, at, actor, action, subject, detail FROM audit.log"
		" WHERE ($1::text IS NULL OR action = $1::text OR action LIKE $1::text || '.%')"
		" AND ($2::date IS NULL OR at >= $2::date)"
		" AND ($3::date IS NULL OR at < $3::date + 1)"
		" ORDER BY seq",
		false,
	};
	const char *params[] = { f->action, f->from, f->to };
	return run_parts(st, &part, 1, params, 3, NULL, format, out, err);
}

enum store_status store_report_archived_files(struct store *st,
					      void (*fn)(const struct store_archived_file *f,
							 void *ctx),
					      void *ctx, char **err)
{
	if (!PQsendQuery(st->conn, "SELECT sha256, kind, submission_id, approval, file_name"
				   " FROM audit.archived_files ORDER BY submission_id, kind, sha256")) {
		*err = xasprintf("cannot send the query: %s", store_trim(PQerrorMessage(st->conn)));
		return PQstatus(st->conn) == CONNECTION_OK ? STORE_ERROR : STORE_UNAVAILABLE;
	}
	PQsetSingleRowMode(st->conn);
	enum store_status rc = STORE_OK;
	PGresult *res;
	while ((res = PQgetResult(st->conn)) != NULL) {
		ExecStatusType s = PQresultStatus(res);
		if (rc == STORE_OK && s == PGRES_SINGLE_TUPLE) {
			struct store_archived_file f = {
				.sha256 = PQgetvalue(res, 0, 0),
				.kind = PQgetvalue(res, 0, 1),
				.submission = store_col_int64(res, 0, 2),
				.approval = PQgetvalue(res, 0, 3),
				.file_name = PQgetvalue(res, 0, 4),
			};
			fn(&f, ctx);
		} else if (rc == STORE_OK && s != PGRES_TUPLES_OK) {
			rc = store_result_status(st, res, err);
		}
		PQclear(res);
	}
	return rc;
}

/* --- the review queue (the daemon's tables: operators run these as attestd) --- */

#define HHMM(x) "to_char(make_time((" x ") / 60, (" x ") % 60, 0), 'HH24:MI')"

enum store_status store_report_review_list(struct store *st, enum report_format format,
					   FILE *out, char **err)
{
	static const struct part part = {
		"review", "Review queue",
		"SELECT a.id, a.approval AS centre, s.ref AS stage, a.number, a.licence, a.reasons,"
		" a.flags, date_trunc('second', a.received_at) AS received,"
		" a.registration_deadline AS deadline"
		" FROM attestd.attestations a JOIN attestd.stages s ON s.id = a.stage_id"
		" WHERE a.decision = 'review' ORDER BY a.registration_deadline, a.id",
		false,
	};
	return run_parts(st, &part, 1, NULL, 0, NULL, format, out, err);
}

enum store_status store_report_review_show(struct store *st, int64_t id,
					   enum report_format format, FILE *out, char **err)
{
	static const struct part parts[] = {
		{ "attestation", "Attestation",
		  "SELECT a.id, a.approval AS centre, c.name AS centre_name, s.ref AS stage,"
		  " a.departement, a.first_day, a.last_day, a.number, a.stage_case AS \"case\","
		  " a.issued, a.letter_48n_received, a.decision, a.points, a.reasons, a.flags,"
		  " s.findings AS stage_findings, date_trunc('second', a.received_at) AS received,"
		  " a.registration_deadline AS deadline, a.submission_id, sub.file_name"
		  " FROM attestd.attestations a JOIN attestd.stages s ON s.id = a.stage_id"
		  " JOIN attestd.submissions sub ON sub.id = a.submission_id"
		  " LEFT JOIN attestd.centres c ON c.approval = a.approval"
		  " WHERE a.id = $1::bigint", true },
		/* rules.md §4 compares these three (after folding). */
		{ "identity", "Identity: the attestation, the sign-in sheet, the registry",
		  "SELECT source, surname, given_names, birth_date, document, document_number,"
		  " scan_sha256, licence_status FROM ("
		  "  SELECT 1 AS o, 'attestation' AS source, a.surname, a.given_names, a.birth_date,"
		  "   NULL::text AS document, NULL::text AS document_number, NULL::text AS scan_sha256,"
		  "   NULL::text AS licence_status FROM attestd.attestations a WHERE a.id = $1::bigint"
		  "  UNION ALL"
		  "  SELECT 2, 'sign-in sheet', p.surname, p.given_names, p.birth_date, p.id_type,"
		  "   p.id_number, p.id_sha256, NULL FROM attestd.attestations a"
		  "   JOIN attestd.signin_sheets sh ON sh.stage_id = a.stage_id"
		  "   JOIN attestd.signin_participants p ON p.submission_id = sh.submission_id"
		  "    AND p.licence = a.licence WHERE a.id = $1::bigint"
		  "  UNION ALL"
		  "  SELECT 3, 'registry', l.surname, l.given_names, l.birth_date, NULL, NULL, NULL,"
		  "   l.status || coalesce(' since ' || l.status_date, '')"
		  "   FROM attestd.attestations a JOIN attestd.licences l ON l.licence = a.licence"
		  "   WHERE a.id = $1::bigint) i ORDER BY o", false },
		{ "attendance", "Attendance (sign-in sheet)",
		  "SELECT (ARRAY['1am', '1pm', '2am', '2pm'])[u.o] AS session, u.day AS date,"
		  " " HHMM("u.st") " AS start, " HHMM("u.en") " AS \"end\","
		  " " HHMM("u.arr") " AS arrived, u.sig AS signed"
		  " FROM attestd.attestations a"
		  " JOIN attestd.signin_sheets sh ON sh.stage_id = a.stage_id"
		  " JOIN attestd.signin_participants p ON p.submission_id = sh.submission_id"
		  "  AND p.licence = a.licence,"
		  " unnest(sh.session_dates, sh.session_starts, sh.session_ends, p.arrived, p.signed)"
		  "  WITH ORDINALITY AS u(day, st, en, arr, sig, o)"
		  " WHERE a.id = $1::bigint ORDER BY u.o", false },
		/* What group_size and lunch_break_too_short are about (rules.md §3). */
		{ "stage", "Stage (sign-in sheet)",
		  "SELECT sh.venue, (SELECT count(*) FROM attestd.signin_participants p"
		  "  WHERE p.submission_id = sh.submission_id) AS participants,"
		  " (SELECT count(*) FROM attestd.signin_participants p"
		  "  WHERE p.submission_id = sh.submission_id AND true = ANY (p.signed))"
		  "  AS participants_signed,"
		  " sh.session_starts[2] - sh.session_ends[1] AS lunch_day1_minutes,"
		  " sh.session_starts[4] - sh.session_ends[3] AS lunch_day2_minutes,"
		  " sh.psychologist_authorisation, sh.expert_authorisation, s.findings"
		  " FROM attestd.attestations a JOIN attestd.stages s ON s.id = a.stage_id"
		  " JOIN attestd.signin_sheets sh ON sh.stage_id = a.stage_id"
		  " WHERE a.id = $1::bigint", true },
		{ "history", "Decision history",
		  "SELECT date_trunc('second', at) AS at, actor, cause, decision, points, reasons,"
		  " flags, note FROM attestd.decision_history WHERE attestation_id = $1::bigint"
		  " ORDER BY id", false },
	};
	char key[24];
	snprintf(key, sizeof(key), "%" PRId64, id);
	return run_parts_about(st,
		"SELECT EXISTS (SELECT FROM attestd.attestations WHERE id = $1::bigint)", key,
		"no attestation has id %s (see attestd review list)", parts,
		sizeof(parts) / sizeof(parts[0]), format, out, err);
}
