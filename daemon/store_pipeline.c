/*
 * store_pipeline - the SQL of one file's transaction.  See store_pipeline.h.
 *
 * Every statement is prepared once per connection and takes text
 * parameters; sets of rows travel as PostgreSQL array literals and are
 * unnested server-side, so a 20-attestation file costs one INSERT, not 20.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers.h"
#include "store_internal.h"
#include "store_pipeline.h"
#include "xmalloc.h"

/* --- statements ------------------------------------------------------------ */

enum stmt {
	S_FIND_CLAIM, S_FIND_SHA, S_CENTRE, S_STAGE_UPSERT, S_STAGE_LOCK, S_NUMBER_TAKEN,
	S_SHEET, S_PARTICIPANTS, S_PENDING, S_LICENCES, S_EVENTS, S_CREDITED,
	S_FACILITATORS, S_INS_SUBMISSION, S_INS_SHEET, S_INS_PARTICIPANTS, S_STAGE_FINDINGS,
	S_INS_ATTESTATIONS, S_UPD_DECISIONS, S_INS_CREDITS, S_UPSERT_BALANCES,
	S_SUB_DECISIONS, S_GET_FINDINGS, S_NEXT_SEQ, S_INS_RECEIPT,
	S_UNWRITTEN, S_MARK_WRITTEN, S_AUDIT, S_PENDING_ON, S_FIND_ID, S_FLAG_OVERDUE,
	S_STAGE_BY_ID, S_ATT_STAGE, S_ATT_BY_ID, S_NEXT_SUBMISSION_ID, S_GENERIC_PLANS, S_COUNT
};

#define SUBMISSION_REF_COLUMNS \
	"id, status, kind, file_name, inbox_dir, extract(epoch FROM received_at)::bigint," \
	" coalesce(errors[1], ''), coalesce(error_messages[1], ''), coalesce(stage_id, 0)," \
	" coalesce(sha256, ''), coalesce(approval, '')"

/* An attestation as store_pending holds it (attestations_read). */
#define ATTESTATION_COLUMNS \
	"id, submission_id, number, stage_case, issued, licence, surname, given_names, birth_date," \
	" letter_48n_received, court_order_ref, court_order_date, departement, first_day, last_day," \
	" extract(epoch FROM received_at)::bigint, received_on, array_to_string(reasons, ',')," \
	" array_to_string(flags, ',')"

static const char *const stmt_sql[S_COUNT] = {
	[S_FIND_CLAIM] = "SELECT " SUBMISSION_REF_COLUMNS " FROM attestd.submissions WHERE claim_id = $1",
	[S_FIND_ID] = "SELECT " SUBMISSION_REF_COLUMNS " FROM attestd.submissions WHERE id = $1",
	[S_FIND_SHA] = "SELECT " SUBMISSION_REF_COLUMNS " FROM attestd.submissions"
		" WHERE sha256 = $1 AND status = 'accepted'",
	[S_CENTRE] = "SELECT c.departement, c.valid_from, c.valid_to, EXISTS (SELECT FROM"
		" attestd.centre_certificates cc WHERE cc.approval = c.approval AND cc.cert_sha256 = $2)"
		" FROM attestd.centres c WHERE c.approval = $1",
	[S_STAGE_UPSERT] = "INSERT INTO attestd.stages (approval, ref, departement, first_day, last_day)"
		" VALUES ($1, $2, $3, $4, $5) ON CONFLICT (approval, ref) DO NOTHING",
	[S_STAGE_LOCK] = "SELECT s.id, s.departement, s.first_day, s.last_day,"
		" (SELECT submission_id FROM attestd.signin_sheets WHERE stage_id = s.id),"
		" a.departement, a.first_day, a.last_day"
		" FROM attestd.stages s LEFT JOIN LATERAL (SELECT departement, first_day, last_day"
		"  FROM attestd.attestations WHERE stage_id = s.id LIMIT 1) a ON true"
		" WHERE s.approval = $1 AND s.ref = $2 FOR UPDATE OF s",
	[S_STAGE_BY_ID] = "SELECT approval, ref, (SELECT submission_id FROM attestd.signin_sheets"
		" WHERE stage_id = s.id) FROM attestd.stages s WHERE id = $1 FOR UPDATE",
	/* No ORDER BY ... LIMIT 1: it leads the planner to walk the centre's
	 * whole (approval, number) index in order, filtering on number; the
	 * caller names the smallest of the (at most 20) rows. */
	/* An attestation purged after three years leaves its credit in the
	 * ledger (rules_credit_ref: stage:<approval>:<number>): its number
	 * stays taken, or a copy sent again would be credited twice over in
	 * the receipt and the balance cache. */
	[S_NUMBER_TAKEN] = "SELECT number FROM attestd.attestations WHERE approval = $1"
		" AND number = ANY ($2::text[])"
		" UNION SELECT substr(ref, length('stage:' || $1 || ':') + 1)"
		" FROM attestd.licence_events"
		" WHERE ref = ANY (SELECT 'stage:' || $1 || ':' || n FROM unnest($2::text[]) AS n)",
	[S_SHEET] = "SELECT departement, first_day, last_day, venue, session_dates, session_starts,"
		" session_ends, psychologist_authorisation, psychologist_surname,"
		" psychologist_given_names, expert_authorisation, expert_surname, expert_given_names"
		" FROM attestd.signin_sheets WHERE submission_id = $1",
	[S_PARTICIPANTS] = "SELECT licence, surname, given_names, birth_date, id_type, id_number,"
		" id_media_type, id_size, id_sha256, arrived, signed"
		" FROM attestd.signin_participants WHERE submission_id = $1 ORDER BY licence",
	/* (SELECT $1): see S_CREDITED.  With the id in sight the planner
	 * estimated a new stage's rows from the statistics (one, past their
	 * histogram) and the generic plan's from the average (twenty), so it
	 * planned anew at 295 calls of 300 in make bench, 0.5 ms each. */
	[S_PENDING] = "SELECT " ATTESTATION_COLUMNS
		" FROM attestd.attestations WHERE stage_id = (SELECT $1::bigint)"
		" AND decision = 'pending' ORDER BY id FOR UPDATE",
	[S_ATT_STAGE] = "SELECT stage_id FROM attestd.attestations WHERE id = $1",
	[S_ATT_BY_ID] = "SELECT " ATTESTATION_COLUMNS ", decision"
		" FROM attestd.attestations WHERE id = $1 FOR UPDATE",
	/* The licences joined to the list (an index probe each, the list
	 * being estimated small), not "licence = ANY ($1)": given the 20,000
	 * licences of an import's batch, the planner chose a sequential scan
	 * of the whole table filtered by the hashed list, once per batch,
	 * which a national registry's million licences made quadratic (50
	 * scans of 3,000,000 events; make bench-import).  (SELECT $1): with
	 * the list in sight the planner counted its 20,000 elements and
	 * sorted the whole table for a merge join instead. */
	[S_LICENCES] = "SELECT l.licence, l.surname, l.given_names, l.birth_date, l.probation_end,"
		" l.status, l.status_date, b.balance, b.licence IS NOT NULL"
		" FROM unnest((SELECT $1::text[])) AS u(licence)"
		" JOIN attestd.licences l ON l.licence = u.licence"
		" LEFT JOIN attestd.licence_balances b ON b.licence = l.licence"
		" ORDER BY l.licence FOR UPDATE OF l",
	[S_EVENTS] = "SELECT e.licence, e.effective_date, e.kind, e.points, e.ref, e.stage_first_day"
		" FROM unnest((SELECT $1::text[])) AS u(licence)"
		" JOIN attestd.licence_events e ON e.licence = u.licence ORDER BY e.licence, e.id",
	/* (SELECT $1): the planner sees no value, so custom and generic plans
	 * cost the same and the cached generic one is used; with the values in
	 * sight it re-planned these at nearly every call (pg_stat_statements
	 * plans/calls 278/400, 201/200, 163/400 in make bench), 0.1 ms each. */
	[S_CREDITED] = "SELECT licence, last_day FROM attestd.attestations"
		" WHERE licence = ANY ((SELECT $1::text[])::text[]) AND decision = 'credited'"
		" ORDER BY licence",
	[S_FACILITATORS] = "SELECT authorisation, role, valid_from, valid_to FROM attestd.facilitators"
		" WHERE authorisation = ANY ((SELECT $1::text[])::text[])",
	/* The id comes first (S_NEXT_SUBMISSION_ID, read with the file's
	 * look-ups), so that the insert needs no answer. */
	[S_NEXT_SUBMISSION_ID] = "SELECT nextval('attestd.submissions_id_seq'::regclass)",
	[S_INS_SUBMISSION] = "INSERT INTO attestd.submissions (id, claim_id, inbox_dir, file_name,"
		" sha256, size, kind, approval, stage_id, received_at, status, errors, error_messages,"
		" duplicate_of, signer_sha256, signer_der, chain_pem, crl_number, crl_sha256, verifier)"
		" VALUES ($20, $1, $2, $3, $4, $5, $6, $7, $8, to_timestamp($9::numeric), $10,"
		" $11::text[], $12::text[], $13, $14, decode($15, 'hex'), $16, $17, $18, $19)",
	[S_INS_SHEET] = "INSERT INTO attestd.signin_sheets (submission_id, stage_id, departement,"
		" first_day, last_day, venue, session_dates, session_starts, session_ends,"
		" psychologist_authorisation, psychologist_surname, psychologist_given_names,"
		" expert_authorisation, expert_surname, expert_given_names)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7::date[], $8::smallint[], $9::smallint[], $10, $11,"
		" $12, $13, $14, $15)",
	/* Arrivals travel as "510,770,NULL,780": NULL is a session not attended. */
	[S_INS_PARTICIPANTS] = "INSERT INTO attestd.signin_participants (submission_id, licence,"
		" surname, given_names, birth_date, id_type, id_number, id_media_type, id_size,"
		" id_sha256, arrived, signed)"
		" SELECT $1, u.licence, u.surname, u.given_names, u.birth_date, u.id_type, u.id_number,"
		" u.media, u.size, u.sha, string_to_array(u.arrived, ',', 'NULL')::smallint[],"
		" string_to_array(u.signed, ',')::boolean[]"
		" FROM unnest($2::text[], $3::text[], $4::text[], $5::date[], $6::text[], $7::text[],"
		" $8::text[], $9::int[], $10::text[], $11::text[], $12::text[])"
		" AS u(licence, surname, given_names, birth_date, id_type, id_number, media, size, sha,"
		" arrived, signed)",
	[S_STAGE_FINDINGS] = "UPDATE attestd.stages SET findings = $2::text[] WHERE id = $1",
	/* A file's attestations with their first history rows, in one
	 * statement: no ids travel back and forth. */
	[S_INS_ATTESTATIONS] = "WITH a AS (INSERT INTO attestd.attestations (submission_id,"
		" stage_id, approval,"
		" number, stage_case, issued, departement, first_day, last_day, licence, surname,"
		" given_names, birth_date, letter_48n_received, court_order_ref, court_order_date,"
		" received_at, received_on, registration_deadline, decision, points, effective_date,"
		" reasons, flags, previous_credit_last_day, decided_at, decided_on)"
		" SELECT $1, $2, $3, u.number, u.c, u.issued, $4, $5, $6, u.licence, u.surname,"
		" u.given_names, u.birth_date, u.l48n, u.co_ref, u.co_date, to_timestamp($7::numeric),"
		" $8, u.deadline, u.decision, u.points, u.effective, string_to_array(u.reasons, ','),"
		" string_to_array(u.flags, ','), u.previous,"
		" CASE WHEN u.decision IN ('pending', 'review') THEN NULL ELSE now() END,"
		" CASE WHEN u.decision IN ('pending', 'review') THEN NULL ELSE $9::date END"
		" FROM unnest($10::text[], $11::smallint[], $12::date[], $13::text[], $14::text[],"
		" $15::text[], $16::date[], $17::date[], $18::text[], $19::date[], $20::date[],"
		" $21::text[], $22::smallint[], $23::date[], $24::text[], $25::text[], $26::date[])"
		" WITH ORDINALITY AS u(number, c, issued, licence, surname, given_names, birth_date,"
		" l48n, co_ref, co_date, deadline, decision, points, effective, reasons, flags, previous, o)"
		" ORDER BY u.o RETURNING id, decision, points, reasons, flags)"
		" INSERT INTO attestd.decision_history (attestation_id, actor, cause, decision, points,"
		" reasons, flags, note) SELECT a.id, $27, $28, a.decision, a.points, a.reasons, a.flags,"
		" NULL FROM a ORDER BY a.id",
	/* A decision and its history row in one statement, the rows the
	 * update wrote (RETURNING) being the history's: one executor start-up
	 * and one round of foreign-key look-ups for the pair.  (SELECT $n):
	 * see S_CREDITED; the arrays in sight made the planner plan anew at
	 * 135 calls of 297 (0.76 ms each) for the same plan, a nested loop
	 * over the primary key. */
	[S_UPD_DECISIONS] = "WITH a AS (UPDATE attestd.attestations a SET decision = u.decision,"
		" points = u.points, effective_date = u.effective,"
		" reasons = string_to_array(u.reasons, ','), flags = string_to_array(u.flags, ','),"
		" previous_credit_last_day = u.previous,"
		" decided_at = CASE WHEN u.decision IN ('pending', 'review') THEN NULL ELSE now() END,"
		" decided_on = CASE WHEN u.decision IN ('pending', 'review') THEN NULL ELSE $1::date END"
		" FROM unnest((SELECT $2::bigint[]), (SELECT $3::text[]), (SELECT $4::smallint[]),"
		" (SELECT $5::date[]), (SELECT $6::text[]), (SELECT $7::text[]), (SELECT $8::date[]))"
		" WITH ORDINALITY AS u(id, decision, points, effective, reasons, flags, previous, o)"
		" WHERE a.id = u.id RETURNING a.id, a.decision, a.points, a.reasons, a.flags, u.o)"
		" INSERT INTO attestd.decision_history (attestation_id, actor, cause, decision, points,"
		" reasons, flags, note) SELECT a.id, $9, $10, a.decision, a.points, a.reasons, a.flags,"
		" $11 FROM a ORDER BY a.o",
	[S_INS_CREDITS] = "INSERT INTO attestd.licence_events (licence, effective_date, kind, points,"
		" ref, source, stage_first_day)"
		" SELECT u.licence, u.effective, 'stage_credit', 4, u.ref, 'stage', u.first_day"
		" FROM unnest($1::text[], $2::date[], $3::text[], $4::date[])"
		" AS u(licence, effective, ref, first_day) ON CONFLICT (ref) DO NOTHING",
	/* The balances and the history of those that changed, one statement
	 * (one executor start-up); none changed: $5..$7 are empty arrays. */
	[S_UPSERT_BALANCES] = "WITH b AS (INSERT INTO attestd.licence_balances AS b (licence,"
		" balance, ceiling, last_credit_stage_last_day, updated_at)"
		" SELECT u.licence, u.balance, u.ceiling, u.last_day, now()"
		" FROM unnest($1::text[], $2::smallint[], $3::smallint[], $4::date[])"
		" AS u(licence, balance, ceiling, last_day)"
		" ON CONFLICT (licence) DO UPDATE SET balance = EXCLUDED.balance,"
		" ceiling = EXCLUDED.ceiling, last_credit_stage_last_day ="
		" EXCLUDED.last_credit_stage_last_day, updated_at = now()"
		/* A row the replay leaves as it was is not written again (an
		 * import replays a million licences: no dead row, no index entry
		 * for each that did not move). */
		" WHERE (b.balance, b.ceiling, b.last_credit_stage_last_day) IS DISTINCT FROM"
		" (EXCLUDED.balance, EXCLUDED.ceiling, EXCLUDED.last_credit_stage_last_day))"
		" INSERT INTO attestd.balance_history (licence, old_balance, new_balance, cause)"
		" SELECT u.licence, u.old, u.new, $8"
		" FROM unnest($5::text[], $6::smallint[], $7::smallint[]) AS u(licence, old, new)",
	/* (SELECT $1): see S_CREDITED. */
	[S_SUB_DECISIONS] = "SELECT number, licence, decision, points, effective_date,"
		" previous_credit_last_day, array_to_string(reasons, ','), array_to_string(flags, ','),"
		" last_day FROM attestd.attestations WHERE submission_id = (SELECT $1::bigint) ORDER BY id",
	[S_GET_FINDINGS] = "SELECT array_to_string(findings, ','), findings IS NOT NULL"
		" FROM attestd.stages WHERE id = $1",
	/* Numbered per name in the outbox: a file sent again under the same
	 * name gets the next number, never another's. */
	[S_NEXT_SEQ] = "SELECT coalesce(max(r.seq), 0) + 1 FROM attestd.receipts r"
		" JOIN attestd.submissions s ON s.id = r.submission_id"
		" WHERE s.inbox_dir = $1 AND s.file_name = $2",
	[S_INS_RECEIPT] = "INSERT INTO attestd.receipts (submission_id, seq, path, body)"
		" VALUES ($1, $2, $3, $4)",
	[S_UNWRITTEN] = "SELECT submission_id, seq, path, body FROM attestd.receipts"
		" WHERE written_at IS NULL ORDER BY submission_id, seq",
	[S_MARK_WRITTEN] = "UPDATE attestd.receipts SET written_at = now()"
		" WHERE submission_id = $1 AND seq = $2",
	[S_AUDIT] = "SELECT audit.append($1, $2, $3, $4)",
	[S_FLAG_OVERDUE] = "UPDATE attestd.attestations SET flags = array_append(flags,"
		" 'registration_overdue') WHERE decision IN ('pending', 'review')"
		" AND registration_deadline < $1::date AND NOT 'registration_overdue' = ANY (flags)",
	/* Sent after each file's BEGIN (see store_begin_pipelined). */
	[S_GENERIC_PLANS] = "SET LOCAL plan_cache_mode = force_generic_plan",
	[S_PENDING_ON] = "SELECT DISTINCT stage_id FROM attestd.attestations"
		" WHERE licence = ANY ($1::text[]) AND decision = 'pending'"
		" AND 'licence_unknown' = ANY (reasons) ORDER BY stage_id",
};

static const char *stmt_name(enum stmt s)
{
	static char names[S_COUNT][8];
	if (names[s][0] == '\0')
		snprintf(names[s], sizeof(names[s]), "p%d", (int)s);
	return names[s];
}

static enum store_status store_prepare(struct store *st, char **err)
{
	if (st->prepared)
		return STORE_OK;
	for (int s = 0; s < S_COUNT; s++) {
		PGresult *res = PQprepare(st->conn, stmt_name(s), stmt_sql[s], 0, NULL);
		enum store_status rc = store_result_status(st, res, err);
		PQclear(res);
		if (rc != STORE_OK) {
			char *why = *err;
			*err = xasprintf("preparing statement %d: %s", s, why);
			free(why);
			return rc;
		}
	}
	st->prepared = true;
	return STORE_OK;
}

/* Runs a prepared statement; on success *res is the result (caller clears).
 * In a pipelined transaction, a statement whose result is not wanted is
 * only sent: its failure shows at the next statement that waits. */
static enum store_status run(struct store *st, enum stmt s, int n, const char *const *values,
			     PGresult **res, char **err)
{
	enum store_status rc = store_prepare(st, err);
	if (rc != STORE_OK)
		return rc;
	PGresult *r = NULL;
	rc = store_send_prepared(st, stmt_name(s), n, values, NULL, NULL, 0, res ? &r : NULL, err);
	if (rc == STORE_OK && res)
		rc = store_pipe_wait(st, err);
	if (res)
		*res = rc == STORE_OK ? r : NULL;
	if (rc != STORE_OK)
		PQclear(r);
	return rc;
}

/* Sends a statement without waiting (outside a pipelined transaction, runs
 * it): *res holds its result after the next store_pipe_wait, NULL on a
 * failure.  Several reads sent this way cost one round trip. */
static enum store_status send_stmt(struct store *st, enum stmt s, int n,
				   const char *const *values, PGresult **res, char **err)
{
	enum store_status rc = store_prepare(st, err);
	if (rc != STORE_OK)
		return rc;
	return store_send_prepared(st, stmt_name(s), n, values, NULL, NULL, 0, res, err);
}

/* --- transactions ------------------------------------------------------------ */

void store_push(struct store *st)
{
	if (st->piping)
		PQflush(st->conn);	/* a failure shows at the next wait */
}

enum store_status store_begin(struct store *st, char **err)
{
	return store_exec(st, "BEGIN", err);
}

enum store_status store_begin_pipelined(struct store *st, char **err)
{
	/* Statements are prepared one at a time, before the pipeline. */
	enum store_status rc = store_prepare(st, err);
	if (rc == STORE_OK)
		rc = store_pipe_begin(st, err);
	/*
	 * Every statement of a file's transaction is one of ours, written for
	 * a generic plan (keys looked up by equality, arrays of one file's
	 * rows), so none gains from being planned with its values: PostgreSQL
	 * chose custom plans anyway whenever the generic plan's cost exceeded
	 * the average of the custom ones so far, which from a small or young
	 * table's first plans it did for good (make bench: S_CREDITED planned
	 * at 535 calls of 597, S_PENDING 295 of 300, 0.1-0.8 ms each; 0.8 ms
	 * a file).  LOCAL: the session's other queries (reconcile, status,
	 * sweep) keep the server's choice.  Sent, not waited for.
	 */
	if (rc == STORE_OK)
		rc = send_stmt(st, S_GENERIC_PLANS, 0, NULL, NULL, err);
	return rc;
}

enum store_status store_commit(struct store *st, char **err)
{
	return store_pipe_commit(st, err);
}

void store_abort(struct store *st)
{
	store_rollback(st);
}

bool store_should_retry(const struct store *st)
{
	/* 23505: two instances took the same unique key at once; run again,
	 * the loser then sees the winner's row. */
	return strcmp(st->sqlstate, "40001") == 0 || strcmp(st->sqlstate, "40P01") == 0 ||
	       strcmp(st->sqlstate, "23505") == 0;
}

/* --- values --------------------------------------------------------------------- */

/* An array literal under construction: {"a","b",NULL}. */
struct pgarr {
	char *buf;
	size_t len, cap;
	bool any;
};

static void pgarr_raw(struct pgarr *a, const char *s, size_t n)
{
	if (a->len + n + 3 > a->cap) {
		a->cap = (a->len + n + 3) * 2;
		a->buf = xrealloc(a->buf, a->cap);
	}
	if (a->len == 0)
		a->buf[a->len++] = '{';
	memcpy(a->buf + a->len, s, n);
	a->len += n;
	a->buf[a->len] = '\0';
}

static void pgarr_sep(struct pgarr *a)
{
	if (a->any)
		pgarr_raw(a, ",", 1);
	else
		pgarr_raw(a, "", 0);
	a->any = true;
}

static void pgarr_text(struct pgarr *a, const char *s)
{
	pgarr_sep(a);
	if (s == NULL) {
		pgarr_raw(a, "NULL", 4);
		return;
	}
	pgarr_raw(a, "\"", 1);
	for (const char *p = s; *p; p++) {
		if (*p == '"' || *p == '\\')
			pgarr_raw(a, "\\", 1);
		pgarr_raw(a, p, 1);
	}
	pgarr_raw(a, "\"", 1);
}

static void pgarr_int(struct pgarr *a, long long v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%lld", v);
	pgarr_sep(a);
	pgarr_raw(a, buf, (size_t)n);
}

static void pgarr_date(struct pgarr *a, date_t d)
{
	if (d == DATE_NONE) {
		pgarr_text(a, NULL);
		return;
	}
	char buf[11];
	date_format(d, buf);
	pgarr_text(a, buf);
}

/* The finished literal ("{}" when empty); the caller frees it. */
static char *pgarr_done(struct pgarr *a)
{
	if (a->len == 0)
		return xstrdup("{}");
	pgarr_raw(a, "}", 1);
	char *s = a->buf;
	memset(a, 0, sizeof(*a));
	return s;
}

/* Runs a statement whose one parameter is the text[] of these strings. */
static enum store_status run_list(struct store *st, enum stmt s, const char *const *items,
				  size_t n, PGresult **res, char **err)
{
	struct pgarr a = { 0 };
	for (size_t i = 0; i < n; i++)
		pgarr_text(&a, items[i]);
	char *list = pgarr_done(&a);
	const char *v[] = { list };
	enum store_status rc = run(st, s, 1, v, res, err);
	free(list);
	return rc;
}

/* Codes joined by commas (they never contain one). */
static char *codes_join(const enum reason *codes, size_t n)
{
	size_t cap = 1;
	for (size_t i = 0; i < n; i++)
		cap += strlen(reason_code(codes[i])) + 1;
	char *s = xmalloc(cap);
	s[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(s, ",");
		strcat(s, reason_code(codes[i]));
	}
	return s;
}

static void codes_split(const char *joined, enum reason *codes, size_t *n, size_t max)
{
	*n = 0;
	char *copy = xstrdup(joined);
	for (char *save = NULL, *c = strtok_r(copy, ",", &save); c && *n < max;
	     c = strtok_r(NULL, ",", &save)) {
		enum reason r = reason_from_code(c);
		if (r != REASON_COUNT)
			codes[(*n)++] = r;
	}
	free(copy);
}

static char *epoch_text(struct timespec t)
{
	return xasprintf("%lld.%09ld", (long long)t.tv_sec, t.tv_nsec);
}

/* --- look-ups ------------------------------------------------------------------- */

static void submission_ref_read(PGresult *res, struct store_submission_ref *out)
{
	out->id = store_col_int64(res, 0, 0);
	store_col_text(res, 0, 1, out->status, sizeof(out->status));
	store_col_text(res, 0, 2, out->kind, sizeof(out->kind));
	store_col_text(res, 0, 3, out->file_name, sizeof(out->file_name));
	store_col_text(res, 0, 4, out->inbox_dir, sizeof(out->inbox_dir));
	out->received_at = (time_t)store_col_int64(res, 0, 5);
	out->first_error = reason_from_code(PQgetvalue(res, 0, 6));
	if (out->first_error == REASON_COUNT)
		out->first_error = REASON_OK;
	store_col_text(res, 0, 7, out->first_message, sizeof(out->first_message));
	out->stage_id = store_col_int64(res, 0, 8);
	store_col_text(res, 0, 9, out->sha256, sizeof(out->sha256));
	store_col_text(res, 0, 10, out->approval, sizeof(out->approval));
}

static enum store_status find_submission(struct store *st, enum stmt s, const char *key,
					 struct store_submission_ref *out, bool *found, char **err)
{
	PGresult *res;
	enum store_status rc = run(st, s, 1, &key, &res, err);
	if (rc != STORE_OK)
		return rc;
	*found = PQntuples(res) > 0;
	if (*found)
		submission_ref_read(res, out);
	PQclear(res);
	return STORE_OK;
}

enum store_status store_find_claim(struct store *st, const char *claim_id,
				   struct store_submission_ref *out, bool *found, char **err)
{
	return find_submission(st, S_FIND_CLAIM, claim_id, out, found, err);
}

enum store_status store_find_submission(struct store *st, int64_t id,
				       struct store_submission_ref *out, bool *found, char **err)
{
	char key[24];
	snprintf(key, sizeof(key), "%" PRId64, id);
	return find_submission(st, S_FIND_ID, key, out, found, err);
}

enum store_status store_find_sha256(struct store *st, const char *sha256,
				    struct store_submission_ref *out, bool *found, char **err)
{
	return find_submission(st, S_FIND_SHA, sha256, out, found, err);
}

static void centre_read(PGresult *res, struct store_centre *out)
{
	memset(out, 0, sizeof(*out));
	if (PQntuples(res) == 1) {
		out->found = true;
		store_col_text(res, 0, 0, out->departement, sizeof(out->departement));
		out->valid_from = store_col_date(res, 0, 1);
		out->valid_to = store_col_date(res, 0, 2);
		out->certificate_registered = store_col_bool(res, 0, 3);
	}
}

static void stage_read(PGresult *res, struct store_stage *out)
{
	out->id = store_col_int64(res, 0, 0);
	store_col_text(res, 0, 1, out->departement, sizeof(out->departement));
	out->first_day = store_col_date(res, 0, 2);
	out->last_day = store_col_date(res, 0, 3);
	out->sheet_submission = PQgetisnull(res, 0, 4) ? 0 : store_col_int64(res, 0, 4);
	out->has_attestations = !PQgetisnull(res, 0, 5);
	if (out->has_attestations) {
		store_col_text(res, 0, 5, out->att_departement, sizeof(out->att_departement));
		out->att_first_day = store_col_date(res, 0, 6);
		out->att_last_day = store_col_date(res, 0, 7);
	}
}

enum store_status store_stage_lock(struct store *st, const char *approval,
				   const struct doc_stage *stage, const char *sha256,
				   struct store_stage *out, bool *duplicate,
				   struct store_submission_ref *first, char **err)
{
	char first_day[11], last_day[11];
	date_format(stage->first_day, first_day);
	date_format(stage->last_day, last_day);
	const char *v[] = { approval, stage->ref, stage->departement, first_day, last_day };
	memset(out, 0, sizeof(*out));
	*duplicate = false;
	/* Upsert, lock, and (sent after the lock, so run once it is held)
	 * the look-up for identical bytes: one round trip. */
	PGresult *res = NULL, *dup = NULL;
	enum store_status rc = run(st, S_STAGE_UPSERT, 5, v, NULL, err);
	if (rc == STORE_OK)
		rc = send_stmt(st, S_STAGE_LOCK, 2, v, &res, err);
	if (rc == STORE_OK && sha256)
		rc = send_stmt(st, S_FIND_SHA, 1, &sha256, &dup, err);
	if (rc == STORE_OK)
		rc = store_pipe_wait(st, err);
	if (rc == STORE_OK && PQntuples(res) != 1) {
		*err = xstrdup("stage row vanished after its upsert");
		rc = STORE_ERROR;
	}
	if (rc == STORE_OK) {
		stage_read(res, out);
		if (dup && PQntuples(dup) > 0) {
			*duplicate = true;
			submission_ref_read(dup, first);
		}
	}
	PQclear(res);
	PQclear(dup);
	return rc;
}

static void taken_read(PGresult *res, char *taken)
{
	taken[0] = '\0';
	for (int r = 0; r < PQntuples(res); r++)
		if (taken[0] == '\0' || strcmp(PQgetvalue(res, r, 0), taken) < 0)
			store_col_text(res, r, 0, taken, DOC_NUMBER_SIZE);
}

static char *numbers_literal(const struct document *doc)
{
	struct pgarr a = { 0 };
	for (size_t i = 0; i < doc->n_attestations; i++)
		pgarr_text(&a, doc->attestations[i].number);
	return pgarr_done(&a);
}

enum store_status store_file_lookup(struct store *st, const struct document *doc,
				    const char *sha256, const char *inbox_dir,
				    const char *file_name, struct store_file_lookup *out, char **err)
{
	memset(out, 0, sizeof(*out));
	const char *centre_v[] = { doc->approval, doc->signer_sha256 };
	char *numbers = doc->kind == DOC_ATTESTATIONS ? numbers_literal(doc) : NULL;
	const char *number_v[] = { doc->approval, numbers };
	const char *seq_v[] = { inbox_dir, file_name };
	PGresult *centre = NULL, *dup = NULL, *taken = NULL, *seq = NULL;
	PGresult *id = NULL;
	enum store_status rc = send_stmt(st, S_NEXT_SUBMISSION_ID, 0, NULL, &id, err);
	if (rc == STORE_OK)
		rc = send_stmt(st, S_NEXT_SEQ, 2, seq_v, &seq, err);
	if (rc == STORE_OK)
		rc = send_stmt(st, S_CENTRE, 2, centre_v, &centre, err);
	if (rc == STORE_OK)
		rc = send_stmt(st, S_FIND_SHA, 1, &sha256, &dup, err);
	if (rc == STORE_OK && numbers)
		rc = send_stmt(st, S_NUMBER_TAKEN, 2, number_v, &taken, err);
	if (rc == STORE_OK)
		rc = store_pipe_wait(st, err);
	if (rc == STORE_OK) {
		centre_read(centre, &out->centre);
		if (PQntuples(dup) > 0) {
			out->duplicate = true;
			submission_ref_read(dup, &out->first);
		}
		if (taken)
			taken_read(taken, out->taken);
		out->next_seq = atoi(PQgetvalue(seq, 0, 0));
		out->submission_id = store_col_int64(id, 0, 0);
	}
	PQclear(id);
	PQclear(seq);
	PQclear(centre);
	PQclear(dup);
	PQclear(taken);
	free(numbers);
	return rc;
}

/* "{2026-11-13,2026-11-13,...}" -> dates; "{510,780,...}" -> numbers. */
static size_t parse_array(const char *lit, char items[][16], size_t max)
{
	size_t n = 0;
	const char *p = lit + (lit[0] == '{');
	while (*p && *p != '}' && n < max) {
		size_t len = strcspn(p, ",}");
		snprintf(items[n], 16, "%.*s", (int)(len < 15 ? len : 15), p);
		n++;
		p += len + (p[len] == ',');
	}
	return n;
}

static bool role_of(const char *s, enum doc_role *out)
{
	if (strcmp(s, "psychologist") == 0)
		*out = ROLE_PSYCHOLOGIST;
	else if (strcmp(s, "road-safety-expert") == 0)
		*out = ROLE_ROAD_SAFETY_EXPERT;
	else
		return false;
	return true;
}

enum store_status store_load_sheet(struct store *st, int64_t sheet_submission,
				   const char *approval, const char *ref, struct document **out,
				   char **err)
{
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, sheet_submission);
	const char *v[] = { id };
	PGresult *res = NULL, *parts = NULL;
	struct document *doc = NULL;
	enum store_status rc = send_stmt(st, S_SHEET, 1, v, &res, err);
	if (rc == STORE_OK)
		rc = send_stmt(st, S_PARTICIPANTS, 1, v, &parts, err);
	if (rc == STORE_OK)
		rc = store_pipe_wait(st, err);
	if (rc != STORE_OK)
		goto out;
	if (PQntuples(res) != 1) {
		*err = xasprintf("sign-in sheet %s has no row", id);
		rc = STORE_ERROR;
		goto out;
	}
	doc = xcalloc(1, sizeof(*doc));
	doc->kind = DOC_SIGNIN_SHEET;
	snprintf(doc->approval, sizeof(doc->approval), "%s", approval);
	snprintf(doc->stage.ref, sizeof(doc->stage.ref), "%s", ref);
	store_col_text(res, 0, 0, doc->stage.departement, sizeof(doc->stage.departement));
	doc->stage.first_day = store_col_date(res, 0, 1);
	doc->stage.last_day = store_col_date(res, 0, 2);
	struct doc_signin_sheet *sh = &doc->sheet;
	store_col_text(res, 0, 3, sh->venue, sizeof(sh->venue));
	char dates[SESSION_COUNT][16], starts[SESSION_COUNT][16], ends[SESSION_COUNT][16];
	parse_array(PQgetvalue(res, 0, 4), dates, SESSION_COUNT);
	parse_array(PQgetvalue(res, 0, 5), starts, SESSION_COUNT);
	parse_array(PQgetvalue(res, 0, 6), ends, SESSION_COUNT);
	for (int s = 0; s < SESSION_COUNT; s++) {
		date_parse(dates[s], &sh->sessions[s].date);
		sh->sessions[s].start = (minute_of_day_t)atoi(starts[s]);
		sh->sessions[s].end = (minute_of_day_t)atoi(ends[s]);
	}
	sh->facilitators[0].role = ROLE_PSYCHOLOGIST;
	store_col_text(res, 0, 7, sh->facilitators[0].authorisation, DOC_AUTH_SIZE);
	store_col_text(res, 0, 8, sh->facilitators[0].surname, DOC_NAME_SIZE);
	store_col_text(res, 0, 9, sh->facilitators[0].given_names, DOC_NAME_SIZE);
	sh->facilitators[1].role = ROLE_ROAD_SAFETY_EXPERT;
	store_col_text(res, 0, 10, sh->facilitators[1].authorisation, DOC_AUTH_SIZE);
	store_col_text(res, 0, 11, sh->facilitators[1].surname, DOC_NAME_SIZE);
	store_col_text(res, 0, 12, sh->facilitators[1].given_names, DOC_NAME_SIZE);

	sh->n_participants = (size_t)PQntuples(parts);
	sh->participants = xcalloc(sh->n_participants ? sh->n_participants : 1,
				   sizeof(*sh->participants));
	for (int i = 0; i < PQntuples(parts); i++) {
		struct doc_participant *p = &sh->participants[i];
		store_col_text(parts, i, 0, p->person.licence, DOC_LICENCE_SIZE);
		store_col_text(parts, i, 1, p->person.surname, DOC_NAME_SIZE);
		store_col_text(parts, i, 2, p->person.given_names, DOC_NAME_SIZE);
		p->person.birth_date = store_col_date(parts, i, 3);
		store_col_text(parts, i, 5, p->identity.number, DOC_ID_NUMBER_SIZE);
		p->identity.scan_size = (size_t)strtoull(PQgetvalue(parts, i, 7), NULL, 10);
		store_col_text(parts, i, 8, p->identity.scan_sha256, DOC_SHA256_HEX_SIZE);
		char arrived[SESSION_COUNT][16], signed_in[SESSION_COUNT][16];
		parse_array(PQgetvalue(parts, i, 9), arrived, SESSION_COUNT);
		parse_array(PQgetvalue(parts, i, 10), signed_in, SESSION_COUNT);
		for (int s = 0; s < SESSION_COUNT; s++) {
			p->presence[s].present = strcmp(arrived[s], "NULL") != 0;
			p->presence[s].arrived = (minute_of_day_t)(p->presence[s].present
								   ? atoi(arrived[s]) : 0);
			p->presence[s].signed_in = signed_in[s][0] == 't';
		}
	}
	*out = doc;
	doc = NULL;
out:
	PQclear(res);
	PQclear(parts);
	document_free(doc);
	return rc;
}

void store_pending_clear(struct store_pending *p)
{
	document_free(p->doc);
	free(p->ids);
	free(p->submissions);
	free(p->received_at);
	free(p->received_on);
	free(p->reasons);
	free(p->flags);
	memset(p, 0, sizeof(*p));
}

/* Rows of ATTESTATION_COLUMNS into *out: one document of the stage's
 * approval and ref (the rows' own stage data, which stage_conflict keeps
 * equal within a stage), with ids, submissions and reception times. */
static void attestations_read(PGresult *res, const char *approval, const char *ref,
			      struct store_pending *out)
{
	size_t n = (size_t)PQntuples(res);
	struct document *doc = xcalloc(1, sizeof(*doc));
	doc->kind = DOC_ATTESTATIONS;
	snprintf(doc->approval, sizeof(doc->approval), "%s", approval);
	snprintf(doc->stage.ref, sizeof(doc->stage.ref), "%s", ref);
	doc->n_attestations = n;
	doc->attestations = xcalloc(n ? n : 1, sizeof(*doc->attestations));
	out->ids = xcalloc(n ? n : 1, sizeof(*out->ids));
	out->submissions = xcalloc(n ? n : 1, sizeof(*out->submissions));
	out->received_at = xcalloc(n ? n : 1, sizeof(*out->received_at));
	out->received_on = xcalloc(n ? n : 1, sizeof(*out->received_on));
	out->reasons = xcalloc(n ? n : 1, sizeof(*out->reasons));
	out->flags = xcalloc(n ? n : 1, sizeof(*out->flags));
	for (size_t i = 0; i < n; i++) {
		int r = (int)i;
		struct doc_attestation *a = &doc->attestations[i];
		out->ids[i] = store_col_int64(res, r, 0);
		out->submissions[i] = store_col_int64(res, r, 1);
		store_col_text(res, r, 2, a->number, sizeof(a->number));
		a->stage_case = atoi(PQgetvalue(res, r, 3));
		a->issued = store_col_date(res, r, 4);
		store_col_text(res, r, 5, a->trainee.licence, DOC_LICENCE_SIZE);
		store_col_text(res, r, 6, a->trainee.surname, DOC_NAME_SIZE);
		store_col_text(res, r, 7, a->trainee.given_names, DOC_NAME_SIZE);
		a->trainee.birth_date = store_col_date(res, r, 8);
		a->letter_48n_received = store_col_date(res, r, 9);
		a->has_letter_48n = a->letter_48n_received != DATE_NONE;
		a->has_court_order = !PQgetisnull(res, r, 10);
		if (a->has_court_order) {
			store_col_text(res, r, 10, a->court_order_ref, sizeof(a->court_order_ref));
			a->court_order_date = store_col_date(res, r, 11);
		}
		store_col_text(res, r, 12, doc->stage.departement, sizeof(doc->stage.departement));
		doc->stage.first_day = store_col_date(res, r, 13);
		doc->stage.last_day = store_col_date(res, r, 14);
		out->received_at[i] = (time_t)store_col_int64(res, r, 15);
		out->received_on[i] = store_col_date(res, r, 16);
		codes_split(PQgetvalue(res, r, 17), out->reasons[i].codes, &out->reasons[i].n,
			    RULES_MAX_REASONS);
		codes_split(PQgetvalue(res, r, 18), out->flags[i].codes, &out->flags[i].n,
			    RULES_MAX_REASONS);
	}
	out->doc = doc;
	out->n = n;
}

enum store_status store_load_pending(struct store *st, int64_t stage_id, const char *approval,
				     const char *ref, struct store_pending *out, char **err)
{
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, stage_id);
	const char *v[] = { id };
	PGresult *res;
	memset(out, 0, sizeof(*out));
	enum store_status rc = run(st, S_PENDING, 1, v, &res, err);
	if (rc != STORE_OK)
		return rc;
	attestations_read(res, approval, ref, out);
	PQclear(res);
	return STORE_OK;
}

enum store_status store_attestation_stage(struct store *st, int64_t id, int64_t *stage_id,
					  bool *found, char **err)
{
	char key[24];
	snprintf(key, sizeof(key), "%" PRId64, id);
	const char *v[] = { key };
	PGresult *res;
	*found = false;
	enum store_status rc = run(st, S_ATT_STAGE, 1, v, &res, err);
	if (rc != STORE_OK)
		return rc;
	if (PQntuples(res) == 1) {
		*found = true;
		*stage_id = store_col_int64(res, 0, 0);
	}
	PQclear(res);
	return STORE_OK;
}

enum store_status store_load_attestation(struct store *st, int64_t id, const char *approval,
					 const char *ref, struct store_pending *out,
					 char decision[static 16], char **err)
{
	char key[24];
	snprintf(key, sizeof(key), "%" PRId64, id);
	const char *v[] = { key };
	PGresult *res;
	memset(out, 0, sizeof(*out));
	decision[0] = '\0';
	enum store_status rc = run(st, S_ATT_BY_ID, 1, v, &res, err);
	if (rc != STORE_OK)
		return rc;
	attestations_read(res, approval, ref, out);
	if (out->n == 1)
		store_col_text(res, 0, 19, decision, 16);
	PQclear(res);
	return STORE_OK;
}

/* --- licences ------------------------------------------------------------------- */

static int licence_cmp(const void *a, const void *b)
{
	return strcmp(((const struct store_licence *)a)->licence,
		      ((const struct store_licence *)b)->licence);
}

struct store_licence *store_licences_find(struct store_licences *set, const char *licence)
{
	struct store_licence key;
	snprintf(key.licence, sizeof(key.licence), "%s", licence);
	return bsearch(&key, set->items, set->n, sizeof(*set->items), licence_cmp);
}

void store_licences_clear(struct store_licences *set)
{
	for (size_t i = 0; i < set->n; i++) {
		struct store_licence *l = &set->items[i];
		for (size_t e = 0; e < l->n_events; e++)
			free((char *)l->events[e].ref);
		free(l->events);
		free(l->credited_last_days);
	}
	free(set->items);
	memset(set, 0, sizeof(*set));
}

enum store_status store_load_licences(struct store *st, const char *const *licences, size_t n,
				      struct store_licences *out, char **err)
{
	memset(out, 0, sizeof(*out));
	out->items = xcalloc(n ? n : 1, sizeof(*out->items));
	/* Distinct and sorted: the lock order, the same in every instance. */
	for (size_t i = 0; i < n; i++)
		snprintf(out->items[i].licence, DOC_LICENCE_SIZE, "%s", licences[i]);
	qsort(out->items, n, sizeof(*out->items), licence_cmp);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (m == 0 || strcmp(out->items[m - 1].licence, out->items[i].licence) != 0)
			out->items[m++] = out->items[i];
	out->n = m;
	for (size_t i = 0; i < m; i++)
		out->items[i].cached_balance = LEDGER_NO_BALANCE;

	struct pgarr a = { 0 };
	for (size_t i = 0; i < m; i++)
		pgarr_text(&a, out->items[i].licence);
	char *list = pgarr_done(&a);
	const char *v[] = { list };
	/* Three reads, one round trip. */
	PGresult *res = NULL, *events = NULL, *credited = NULL;
	enum store_status rc = send_stmt(st, S_LICENCES, 1, v, &res, err);
	if (rc == STORE_OK)
		rc = send_stmt(st, S_EVENTS, 1, v, &events, err);
	if (rc == STORE_OK)
		rc = send_stmt(st, S_CREDITED, 1, v, &credited, err);
	if (rc == STORE_OK)
		rc = store_pipe_wait(st, err);
	if (rc != STORE_OK)
		goto out;
	for (int r = 0; r < PQntuples(res); r++) {
		struct store_licence *l = store_licences_find(out, PQgetvalue(res, r, 0));
		if (l == NULL)
			continue;
		l->found = true;
		store_col_text(res, r, 1, l->surname, DOC_NAME_SIZE);
		store_col_text(res, r, 2, l->given_names, DOC_NAME_SIZE);
		l->birth_date = store_col_date(res, r, 3);
		l->ledger.probation_end = store_col_date(res, r, 4);
		ledger_status_from_name(PQgetvalue(res, r, 5), &l->ledger.status);
		l->ledger.status_date = store_col_date(res, r, 6);
		l->has_cache = store_col_bool(res, r, 8);
		if (!PQgetisnull(res, r, 7))
			l->cached_balance = atoi(PQgetvalue(res, r, 7));
	}
	PQclear(res);
	res = events;
	events = NULL;
	for (int r = 0; r < PQntuples(res); r++) {
		struct store_licence *l = store_licences_find(out, PQgetvalue(res, r, 0));
		if (l == NULL)
			continue;
		l->events = xreallocarray(l->events, l->n_events + 1, sizeof(*l->events));
		struct ledger_event *e = &l->events[l->n_events++];
		e->effective = store_col_date(res, r, 1);
		if (!ledger_kind_from_name(PQgetvalue(res, r, 2), &e->kind))
			e->kind = LEDGER_RECOVERY;
		e->points = atoi(PQgetvalue(res, r, 3));
		e->ref = xstrdup(PQgetvalue(res, r, 4));
		e->stage_first_day = store_col_date(res, r, 5);
	}
	PQclear(res);
	res = credited;
	credited = NULL;
	for (int r = 0; r < PQntuples(res); r++) {
		struct store_licence *l = store_licences_find(out, PQgetvalue(res, r, 0));
		if (l == NULL)
			continue;
		l->credited_last_days = xreallocarray(l->credited_last_days, l->n_credited + 1,
						      sizeof(date_t));
		l->credited_last_days[l->n_credited++] = store_col_date(res, r, 1);
	}
out:
	PQclear(res);
	PQclear(events);
	PQclear(credited);
	free(list);
	return rc;
}

static void facilitators_read(PGresult *res, struct rules_facilitator **out, size_t *n_out,
			      char **storage)
{
	int rows = PQntuples(res);
	*out = xcalloc(rows ? (size_t)rows : 1, sizeof(**out));
	*storage = xcalloc((size_t)rows ? (size_t)rows : 1, DOC_AUTH_SIZE);
	for (int r = 0; r < rows; r++) {
		char *auth = *storage + (size_t)r * DOC_AUTH_SIZE;
		store_col_text(res, r, 0, auth, DOC_AUTH_SIZE);
		struct rules_facilitator *f = &(*out)[*n_out];
		if (!role_of(PQgetvalue(res, r, 1), &f->role))
			continue;
		f->authorisation = auth;
		f->valid_from = store_col_date(res, r, 2);
		f->valid_to = store_col_date(res, r, 3);
		(*n_out)++;
	}
}

enum store_status store_load_facilitators(struct store *st, const char *const *auths, size_t n,
					  struct rules_facilitator **out, size_t *n_out,
					  char **storage, char **err)
{
	return store_sheet_context(st, auths, n, 0, NULL, NULL, out, n_out, storage, NULL, err);
}

enum store_status store_sheet_context(struct store *st, const char *const *auths, size_t n,
				      int64_t stage_id, const char *approval, const char *ref,
				      struct rules_facilitator **regs, size_t *n_regs,
				      char **storage, struct store_pending *pending, char **err)
{
	*regs = NULL;
	*n_regs = 0;
	*storage = NULL;
	if (pending)
		memset(pending, 0, sizeof(*pending));
	struct pgarr a = { 0 };
	for (size_t i = 0; i < n; i++)
		pgarr_text(&a, auths[i]);
	char *list = pgarr_done(&a);
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, stage_id);
	const char *fv[] = { list }, *pv[] = { id };
	PGresult *fres = NULL, *pres = NULL;
	enum store_status rc = send_stmt(st, S_FACILITATORS, 1, fv, &fres, err);
	if (rc == STORE_OK && pending)
		rc = send_stmt(st, S_PENDING, 1, pv, &pres, err);
	if (rc == STORE_OK)
		rc = store_pipe_wait(st, err);
	if (rc == STORE_OK) {
		facilitators_read(fres, regs, n_regs, storage);
		if (pending)
			attestations_read(pres, approval, ref, pending);
	}
	PQclear(fres);
	PQclear(pres);
	free(list);
	return rc;
}

/* --- inserts -------------------------------------------------------------------- */

/* By table, not snprintf(3) per byte: the signer's certificate is about
 * 900 bytes, hexed for every file (issue 14). */
static char *bytes_hex(const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s = xmalloc(2 * n + 1);
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 0xf];
	}
	s[2 * n] = '\0';
	return s;
}

enum store_status store_next_submission_id(struct store *st, int64_t *id, char **err)
{
	PGresult *res;
	enum store_status rc = run(st, S_NEXT_SUBMISSION_ID, 0, NULL, &res, err);
	if (rc == STORE_OK) {
		*id = store_col_int64(res, 0, 0);
		PQclear(res);
	}
	return rc;
}

enum store_status store_insert_submission(struct store *st, const struct store_submission *s,
					  int64_t id, char **err)
{
	char size[24], stage[24], dup[24], key[24];
	snprintf(key, sizeof(key), "%" PRId64, id);
	snprintf(size, sizeof(size), "%" PRId64, s->size);
	snprintf(stage, sizeof(stage), "%" PRId64, s->stage_id);
	snprintf(dup, sizeof(dup), "%" PRId64, s->duplicate_of);
	char *received = epoch_text(s->received_at);
	struct pgarr ea = { 0 }, ma = { 0 };
	for (size_t i = 0; i < s->n_errors; i++) {
		pgarr_text(&ea, reason_code(s->errors[i]));
		pgarr_text(&ma, s->error_messages ? s->error_messages[i] : reason_text(s->errors[i]));
	}
	char *errors = pgarr_done(&ea), *messages = pgarr_done(&ma);
	const struct parse_evidence *ev = s->evidence;
	char *der = ev && ev->signer_der ? bytes_hex(ev->signer_der, ev->signer_der_len) : NULL;
	const char *v[] = {
		s->claim_id, s->inbox_dir, s->file_name, s->sha256, s->size >= 0 ? size : NULL,
		s->kind, s->approval, s->stage_id ? stage : NULL, received, s->status, errors,
		messages, s->duplicate_of ? dup : NULL,
		ev ? ev->signer_sha256 : NULL, der, ev ? ev->chain_pem : NULL,
		ev ? ev->crl_number : NULL, ev && ev->crl_sha256[0] ? ev->crl_sha256 : NULL,
		ev ? ev->verifier : NULL, key,
	};
	enum store_status rc = run(st, S_INS_SUBMISSION, 20, v, NULL, err);
	free(received);
	free(errors);
	free(messages);
	free(der);
	return rc;
}

static const char *id_type_name(enum doc_id_type t)
{
	static const char *names[] = { "id-card", "passport", "residence-permit", "driving-licence" };
	return (unsigned)t < 4 ? names[t] : "id-card";
}

static const char *media_name(enum doc_media_type m)
{
	static const char *names[] = { "application/pdf", "image/jpeg", "image/png" };
	return (unsigned)m < 3 ? names[m] : "application/pdf";
}

enum store_status store_insert_sheet(struct store *st, int64_t submission, int64_t stage_id,
				     const struct document *doc, char **err)
{
	const struct doc_signin_sheet *sh = &doc->sheet;
	char sub[24], stage[24], first[11], last[11];
	snprintf(sub, sizeof(sub), "%" PRId64, submission);
	snprintf(stage, sizeof(stage), "%" PRId64, stage_id);
	date_format(doc->stage.first_day, first);
	date_format(doc->stage.last_day, last);
	struct pgarr da = { 0 }, sa = { 0 }, ea = { 0 };
	for (int s = 0; s < SESSION_COUNT; s++) {
		pgarr_date(&da, sh->sessions[s].date);
		pgarr_int(&sa, sh->sessions[s].start);
		pgarr_int(&ea, sh->sessions[s].end);
	}
	char *dates = pgarr_done(&da), *starts = pgarr_done(&sa), *ends = pgarr_done(&ea);
	const struct doc_facilitator *psy = &sh->facilitators[0], *exp = &sh->facilitators[1];
	if (psy->role != ROLE_PSYCHOLOGIST) {
		psy = &sh->facilitators[1];
		exp = &sh->facilitators[0];
	}
	const char *v[] = { sub, stage, doc->stage.departement, first, last, sh->venue, dates,
			    starts, ends, psy->authorisation, psy->surname, psy->given_names,
			    exp->authorisation, exp->surname, exp->given_names };
	enum store_status rc = run(st, S_INS_SHEET, 15, v, NULL, err);
	free(dates);
	free(starts);
	free(ends);
	if (rc != STORE_OK || sh->n_participants == 0)
		return rc;

	struct pgarr cols[11] = { 0 };
	for (size_t i = 0; i < sh->n_participants; i++) {
		const struct doc_participant *p = &sh->participants[i];
		pgarr_text(&cols[0], p->person.licence);
		pgarr_text(&cols[1], p->person.surname);
		pgarr_text(&cols[2], p->person.given_names);
		pgarr_date(&cols[3], p->person.birth_date);
		pgarr_text(&cols[4], id_type_name(p->identity.type));
		pgarr_text(&cols[5], p->identity.number);
		pgarr_text(&cols[6], media_name(p->identity.media_type));
		pgarr_int(&cols[7], (long long)p->identity.scan_size);
		pgarr_text(&cols[8], p->identity.scan_sha256);
		char arrived[64] = "", signed_in[64] = "";
		for (int s = 0; s < SESSION_COUNT; s++) {
			char one[16];
			snprintf(one, sizeof(one), "%s%s", s ? "," : "",
				 p->presence[s].present ? "" : "NULL");
			if (p->presence[s].present)
				snprintf(one, sizeof(one), "%s%d", s ? "," : "", p->presence[s].arrived);
			strcat(arrived, one);
			strcat(signed_in, s ? "," : "");
			strcat(signed_in, p->presence[s].present && p->presence[s].signed_in ? "t" : "f");
		}
		pgarr_text(&cols[9], arrived);
		pgarr_text(&cols[10], signed_in);
	}
	char *lits[11];
	const char *pv[12];
	pv[0] = sub;
	for (int c = 0; c < 11; c++)
		pv[c + 1] = lits[c] = pgarr_done(&cols[c]);
	rc = run(st, S_INS_PARTICIPANTS, 12, pv, NULL, err);
	for (int c = 0; c < 11; c++)
		free(lits[c]);
	return rc;
}

enum store_status store_set_stage_findings(struct store *st, int64_t stage_id,
					   const struct rules_reasons *findings, char **err)
{
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, stage_id);
	struct pgarr a = { 0 };
	for (size_t i = 0; i < findings->n; i++)
		pgarr_text(&a, reason_code(findings->codes[i]));
	char *lit = pgarr_done(&a);
	const char *v[] = { id, lit };
	enum store_status rc = run(st, S_STAGE_FINDINGS, 2, v, NULL, err);
	free(lit);
	return rc;
}

/* Appends one outcome's columns (decision, points, effective, reasons, flags, previous). */
static void outcome_columns(struct pgarr *c, const struct rules_outcome *o)
{
	pgarr_text(&c[0], rules_decision_name(o->decision));
	pgarr_int(&c[1], o->points);
	/* The effective date is that of the points (exchange-format.md §6
	 * shows none on a no_credit line). */
	pgarr_date(&c[2], o->decision == RULES_CREDITED ? o->effective : DATE_NONE);
	char *r = codes_join(o->reasons.codes, o->reasons.n);
	char *f = codes_join(o->flags.codes, o->flags.n);
	pgarr_text(&c[3], r);
	pgarr_text(&c[4], f);
	free(r);
	free(f);
	pgarr_date(&c[5], rules_reasons_has(&o->reasons, REASON_WITHIN_ONE_YEAR)
			  ? o->previous_credit_last_day : DATE_NONE);
}

enum store_status store_insert_attestations(struct store *st, int64_t submission,
					    int64_t stage_id, const char *approval,
					    const struct document *doc, struct timespec received_at,
					    date_t received_on, date_t today,
					    const struct store_decision *d, const char *actor,
					    const char *cause, char **err)
{
	char sub[24], stage[24], first[11], last[11], on[11], day[11];
	snprintf(sub, sizeof(sub), "%" PRId64, submission);
	snprintf(stage, sizeof(stage), "%" PRId64, stage_id);
	date_format(doc->stage.first_day, first);
	date_format(doc->stage.last_day, last);
	date_format(received_on, on);
	date_format(today, day);
	char *received = epoch_text(received_at);
	struct pgarr c[17] = { 0 };
	for (size_t i = 0; i < doc->n_attestations; i++) {
		const struct doc_attestation *a = &doc->attestations[i];
		pgarr_text(&c[0], a->number);
		pgarr_int(&c[1], a->stage_case);
		pgarr_date(&c[2], a->issued);
		pgarr_text(&c[3], a->trainee.licence);
		pgarr_text(&c[4], a->trainee.surname);
		pgarr_text(&c[5], a->trainee.given_names);
		pgarr_date(&c[6], a->trainee.birth_date);
		pgarr_date(&c[7], a->has_letter_48n ? a->letter_48n_received : DATE_NONE);
		pgarr_text(&c[8], a->has_court_order ? a->court_order_ref : NULL);
		pgarr_date(&c[9], a->has_court_order ? a->court_order_date : DATE_NONE);
		pgarr_date(&c[10], d[i].outcome.registration_deadline);
		outcome_columns(&c[11], &d[i].outcome);
	}
	const char *v[28] = { sub, stage, approval, doc->stage.departement, first, last, received,
			      on, day };
	v[26] = actor;
	v[27] = cause;
	char *lits[17];
	for (int k = 0; k < 17; k++)
		v[9 + k] = lits[k] = pgarr_done(&c[k]);
	enum store_status rc = run(st, S_INS_ATTESTATIONS, 28, v, NULL, err);
	for (int k = 0; k < 17; k++)
		free(lits[k]);
	free(received);
	return rc;
}

enum store_status store_update_decisions(struct store *st, const struct store_decision *d,
					 size_t n, date_t today, const char *actor,
					 const char *cause, const char *note, char **err)
{
	if (n == 0)
		return STORE_OK;
	char day[11];
	date_format(today, day);
	struct pgarr c[7] = { 0 };
	for (size_t i = 0; i < n; i++) {
		pgarr_int(&c[0], d[i].id);
		outcome_columns(&c[1], &d[i].outcome);
	}
	const char *v[11] = { day };
	char *lits[7];
	for (int k = 0; k < 7; k++)
		v[1 + k] = lits[k] = pgarr_done(&c[k]);
	v[8] = actor;
	v[9] = cause;
	v[10] = note;
	enum store_status rc = run(st, S_UPD_DECISIONS, 11, v, NULL, err);
	for (int k = 0; k < 7; k++)
		free(lits[k]);
	return rc;
}

enum store_status store_insert_credits(struct store *st, const struct store_credit *cr, size_t n,
				       char **err)
{
	if (n == 0)
		return STORE_OK;
	struct pgarr c[4] = { 0 };
	for (size_t i = 0; i < n; i++) {
		pgarr_text(&c[0], cr[i].licence);
		pgarr_date(&c[1], cr[i].effective);
		pgarr_text(&c[2], cr[i].ref);
		pgarr_date(&c[3], cr[i].stage_first_day);
	}
	const char *v[4];
	char *lits[4];
	for (int k = 0; k < 4; k++)
		v[k] = lits[k] = pgarr_done(&c[k]);
	enum store_status rc = run(st, S_INS_CREDITS, 4, v, NULL, err);
	for (int k = 0; k < 4; k++)
		free(lits[k]);
	return rc;
}

enum store_status store_write_balances(struct store *st, const struct store_balance *b, size_t n,
				       const char *cause, char **err)
{
	if (n == 0)
		return STORE_OK;
	struct pgarr c[4] = { 0 }, h[3] = { 0 };
	for (size_t i = 0; i < n; i++) {
		pgarr_text(&c[0], b[i].licence);
		if (b[i].new_balance == LEDGER_NO_BALANCE)
			pgarr_text(&c[1], NULL);
		else
			pgarr_int(&c[1], b[i].new_balance);
		pgarr_int(&c[2], b[i].ceiling);
		pgarr_date(&c[3], b[i].last_credit_stage_last_day);
		if (!b[i].changed)
			continue;
		pgarr_text(&h[0], b[i].licence);
		if (b[i].old_balance == LEDGER_NO_BALANCE)
			pgarr_text(&h[1], NULL);
		else
			pgarr_int(&h[1], b[i].old_balance);
		if (b[i].new_balance == LEDGER_NO_BALANCE)
			pgarr_text(&h[2], NULL);
		else
			pgarr_int(&h[2], b[i].new_balance);
	}
	const char *v[8];
	char *lits[4], *hl[3];
	for (int k = 0; k < 4; k++)
		v[k] = lits[k] = pgarr_done(&c[k]);
	for (int k = 0; k < 3; k++)
		v[4 + k] = hl[k] = pgarr_done(&h[k]);
	v[7] = cause;
	enum store_status rc = run(st, S_UPSERT_BALANCES, 8, v, NULL, err);
	for (int k = 0; k < 4; k++)
		free(lits[k]);
	for (int k = 0; k < 3; k++)
		free(hl[k]);
	return rc;
}

/* --- receipts and audit ------------------------------------------------------------ */

enum store_status store_receipt_inputs(struct store *st, int64_t submission,
				       const char *inbox_dir, const char *file_name,
				       struct store_receipt_row **rows, size_t *n, int *seq,
				       char **err)
{
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, submission);
	const char *v[] = { id };
	const char *seq_v[] = { inbox_dir, file_name };
	PGresult *res = NULL, *next = NULL;
	*rows = NULL;
	*n = 0;
	enum store_status rc = STORE_OK;
	if (submission)
		rc = send_stmt(st, S_SUB_DECISIONS, 1, v, &res, err);
	if (rc == STORE_OK)
		rc = send_stmt(st, S_NEXT_SEQ, 2, seq_v, &next, err);
	if (rc == STORE_OK)
		rc = store_pipe_wait(st, err);
	if (rc != STORE_OK)
		goto out;
	*seq = atoi(PQgetvalue(next, 0, 0));
	int count = res ? PQntuples(res) : 0;
	*rows = xcalloc(count ? (size_t)count : 1, sizeof(**rows));
	for (int r = 0; r < count; r++) {
		struct store_receipt_row *row = &(*rows)[r];
		store_col_text(res, r, 0, row->number, sizeof(row->number));
		store_col_text(res, r, 1, row->licence, sizeof(row->licence));
		store_col_text(res, r, 2, row->decision, sizeof(row->decision));
		row->points = atoi(PQgetvalue(res, r, 3));
		row->effective = store_col_date(res, r, 4);
		row->previous_credit_last_day = store_col_date(res, r, 5);
		row->stage_last_day = store_col_date(res, r, 8);
		codes_split(PQgetvalue(res, r, 6), row->reasons, &row->n_reasons, RULES_MAX_REASONS);
		codes_split(PQgetvalue(res, r, 7), row->flags, &row->n_flags, RULES_MAX_REASONS);
	}
	*n = (size_t)count;
out:
	PQclear(res);
	PQclear(next);
	return rc;
}

enum store_status store_stage_findings(struct store *st, int64_t stage_id,
				       struct rules_reasons *out, bool *known, char **err)
{
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, stage_id);
	const char *v[] = { id };
	PGresult *res;
	memset(out, 0, sizeof(*out));
	*known = false;
	enum store_status rc = run(st, S_GET_FINDINGS, 1, v, &res, err);
	if (rc != STORE_OK)
		return rc;
	if (PQntuples(res) == 1 && store_col_bool(res, 0, 1)) {
		*known = true;
		codes_split(PQgetvalue(res, 0, 0), out->codes, &out->n, RULES_MAX_REASONS);
	}
	PQclear(res);
	return STORE_OK;
}

enum store_status store_insert_receipt(struct store *st, int64_t submission, int seq,
				       const char *path, const unsigned char *body, size_t len,
				       char **err)
{
	char id[24], s[16];
	snprintf(id, sizeof(id), "%" PRId64, submission);
	snprintf(s, sizeof(s), "%d", seq);
	const char *v[] = { id, s, path, (const char *)body };
	int lengths[] = { 0, 0, 0, (int)len };
	int formats[] = { 0, 0, 0, 1 };
	enum store_status rc = store_prepare(st, err);
	if (rc != STORE_OK)
		return rc;
	return store_send_prepared(st, stmt_name(S_INS_RECEIPT), 4, v, lengths, formats, 0, NULL,
				   err);
}

void store_receipt_files_free(struct store_receipt_file *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].path);
		free(f[i].body);
	}
	free(f);
}

enum store_status store_unwritten_receipts(struct store *st, struct store_receipt_file **out,
					   size_t *n, char **err)
{
	enum store_status rc = store_prepare(st, err);
	*out = NULL;
	*n = 0;
	if (rc != STORE_OK)
		return rc;
	/* Binary results: the body comes back as raw bytes. */
	PGresult *res = PQexecPrepared(st->conn, stmt_name(S_UNWRITTEN), 0, NULL, NULL, NULL, 1);
	rc = store_result_status(st, res, err);
	if (rc != STORE_OK) {
		PQclear(res);
		return rc;
	}
	int rows = PQntuples(res);
	*out = xcalloc(rows ? (size_t)rows : 1, sizeof(**out));
	for (int r = 0; r < rows; r++) {
		struct store_receipt_file *f = &(*out)[r];
		uint64_t id = 0;
		uint32_t seq = 0;
		for (int b = 0; b < PQgetlength(res, r, 0); b++)
			id = id << 8 | (unsigned char)PQgetvalue(res, r, 0)[b];
		for (int b = 0; b < PQgetlength(res, r, 1); b++)
			seq = seq << 8 | (unsigned char)PQgetvalue(res, r, 1)[b];
		f->submission = (int64_t)id;
		f->seq = (int)seq;
		f->path = xstrndup(PQgetvalue(res, r, 2), (size_t)PQgetlength(res, r, 2));
		f->len = (size_t)PQgetlength(res, r, 3);
		f->body = xmalloc(f->len + 1);
		memcpy(f->body, PQgetvalue(res, r, 3), f->len);
	}
	*n = (size_t)rows;
	PQclear(res);
	return STORE_OK;
}

enum store_status store_mark_receipt_written(struct store *st, int64_t submission, int seq,
					     char **err)
{
	char id[24], s[16];
	snprintf(id, sizeof(id), "%" PRId64, submission);
	snprintf(s, sizeof(s), "%d", seq);
	const char *v[] = { id, s };
	return run(st, S_MARK_WRITTEN, 2, v, NULL, err);
}

enum store_status store_audit(struct store *st, const char *actor, const char *action,
			      const char *subject, const char *detail, char **err)
{
	const char *v[] = { actor, action, subject, detail };
	return run(st, S_AUDIT, 4, v, NULL, err);
}

enum store_status store_stages_pending_on(struct store *st, const char *const *licences,
					  size_t n, int64_t **stage_ids, size_t *n_stages,
					  char **err)
{
	PGresult *res;
	*stage_ids = NULL;
	*n_stages = 0;
	enum store_status rc = run_list(st, S_PENDING_ON, licences, n, &res, err);
	if (rc != STORE_OK)
		return rc;
	int rows = PQntuples(res);
	*stage_ids = xcalloc(rows ? (size_t)rows : 1, sizeof(**stage_ids));
	for (int r = 0; r < rows; r++)
		(*stage_ids)[r] = store_col_int64(res, r, 0);
	*n_stages = (size_t)rows;
	PQclear(res);
	return STORE_OK;
}

enum store_status store_flag_overdue(struct store *st, date_t today, long *flagged, char **err)
{
	char day[11];
	date_format(today, day);
	const char *v[] = { day };
	*flagged = 0;
	enum store_status rc = store_prepare(st, err);
	if (rc != STORE_OK)
		return rc;
	PGresult *res = PQexecPrepared(st->conn, stmt_name(S_FLAG_OVERDUE), 1, v, NULL, NULL, 0);
	rc = store_result_status(st, res, err);
	if (rc == STORE_OK)
		*flagged = strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return rc;
}

enum store_status store_stage_by_id(struct store *st, int64_t id, char *approval, char *ref,
				    int64_t *sheet_submission, bool *found, char **err)
{
	char key[24];
	snprintf(key, sizeof(key), "%" PRId64, id);
	const char *v[] = { key };
	PGresult *res;
	*found = false;
	enum store_status rc = run(st, S_STAGE_BY_ID, 1, v, &res, err);
	if (rc != STORE_OK)
		return rc;
	if (PQntuples(res) == 1) {
		*found = true;
		store_col_text(res, 0, 0, approval, DOC_APPROVAL_SIZE);
		store_col_text(res, 0, 1, ref, DOC_REF_SIZE);
		*sheet_submission = PQgetisnull(res, 0, 2) ? 0 : store_col_int64(res, 0, 2);
	}
	PQclear(res);
	return STORE_OK;
}
