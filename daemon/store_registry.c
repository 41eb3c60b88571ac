/*
 * store_registry - the registries' CSV import (interfaces.md).  The file is
 * read and checked in C (csv.h: separator, quoting, encoding, one line per
 * record), which hands its good records, normalised, to COPY into a staging
 * table of text columns (with each record's number and line); every field
 * is then validated in one set-based query, and the rows merged with
 * INSERT ... ON CONFLICT, all in one transaction with the import's
 * audit-log row.  Nothing is done row by row: a national licence file has
 * tens of millions of rows.
 *
 * Upsert semantics: rows of the file are inserted or updated, rows not in
 * the file are left alone.  For a centre, the file's cert_sha256 list
 * replaces its registered certificates.  Ledger events are immutable: a
 * known ref with other content is an error, the same content a no-op.
 */
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_internal.h"
#include "xmalloc.h"

#define REGISTRY_MAX_LISTED 100
#define COPY_CHUNK (64 * 1024)

struct registry_def {
	const char *name;
	const char *columns;	/* CSV header, in order */
	const char *key;	/* column that must be unique within the file */
	const char *checks;	/* comma-separated CASE ... END messages, NULL when fine */
	const char *cross;	/* (rec, line, msg) rows from checks against the tables, or NULL */
	const char *merge;	/* one row: inserted, updated */
};

/* Reusable message fragments. */
#define DATE_REQUIRED(col) \
	"CASE WHEN NOT coalesce(attestd.is_date(" col "), false) THEN '" col ": ' || " \
	"attestd.show(" col ") || " \
	"' is not a date (YYYY-MM-DD)' END"
#define DATE_OPTIONAL(col) \
	"CASE WHEN " col " IS NOT NULL AND " col " <> '' AND NOT attestd.is_date(" col ") THEN '" \
	col ": ' || attestd.show(" col ") || ' is not a date (YYYY-MM-DD, or empty)' END"
#define NAME_REQUIRED(col) \
	"CASE WHEN " col " IS NULL OR " col " = '' OR length(" col ") > 100 OR " col \
	" ~ '[[:cntrl:]]' THEN '" col ": ' || attestd.show(" col ") || " \
	"' must be 1 to 100 characters without control characters' END"
#define VALIDITY_ORDER \
	"CASE WHEN attestd.is_date(valid_from) AND attestd.is_date(valid_to) AND " \
	"valid_to::date < valid_from::date THEN 'valid_to: ' || attestd.show(valid_to) || " \
	"' is before valid_from' END"
/* ^[0-9A-Z]{9,15}$ without the regex: a regex match costs twice the
 * length and the trim of those characters, once a row (3,000,000 in a
 * national events file, every import). */
#define LICENCE_OK(col) \
	"(length(" col ") BETWEEN 9 AND 15 AND rtrim(" col ", " \
	"'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ') = '')"
#define LICENCE_FORMAT \
	"CASE WHEN licence IS NULL OR NOT " LICENCE_OK("licence") " THEN 'licence: ' || " \
	"attestd.show(licence) || ' is not a licence number (9 to 15 of 0-9 A-Z)' END"
/* The prefecture's date, YYYY-MM-DD, set by the import (registry_source.today):
 * compared as text with a value attestd.is_date accepted. */
#define TODAY "current_setting('attestd.today')"
#define FINGERPRINT "lower(replace(btrim(f), ':', ''))"

static const struct registry_def registry_defs[REGISTRY_KIND_COUNT] = {
	[REGISTRY_CENTRES] = {
		"centres", "approval,name,departement,valid_from,valid_to,cert_sha256", "approval",
		"CASE WHEN approval IS NULL OR approval !~ "
		"'^R[0-9]{2}(0(0[1-9]|[1-8][0-9]|9[0-5])|02A|02B|97[1-6])[0-9]{5}$' "
		"THEN 'approval: ' || attestd.show(approval) || ' is not an approval number "
		"(R, year, departement on 3 characters, 5 digits: R2402800010)' END,"
		/* A centre's name may span lines (a spreadsheet cell's line break). */
		"CASE WHEN name IS NULL OR name = '' OR length(name) > 200 OR name ~ "
		"'[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]' THEN 'name: ' || attestd.show(name) || "
		"' must be 1 to 200 characters without control characters' END,"
		"CASE WHEN NOT coalesce(attestd.is_departement(departement), false) THEN "
		"'departement: ' || attestd.show(departement) || ' is not a departement code "
		"(01-95, 2A, 2B, 971-976)' END,"
		"CASE WHEN attestd.is_departement(departement) AND approval ~ '^R..(...)' AND "
		"attestd.approval_departement(approval) <> departement THEN 'departement: ' || "
		"attestd.show(departement) || ' differs from the approval''s departement ' || "
		"attestd.show(attestd.approval_departement(approval)) END,"
		DATE_REQUIRED("valid_from") "," DATE_OPTIONAL("valid_to") "," VALIDITY_ORDER ","
		"CASE WHEN EXISTS (SELECT FROM unnest(string_to_array(cert_sha256, ';')) f "
		"WHERE " FINGERPRINT " !~ '^[0-9a-f]{64}$') THEN 'cert_sha256: ' || "
		"attestd.show(cert_sha256) || ' must be SHA-256 fingerprints in hex (64 digits), "
		"separated by ;' END",
		NULL,
		"WITH src AS ("
		" SELECT approval, name, departement, valid_from::date AS valid_from,"
		" NULLIF(valid_to, '')::date AS valid_to FROM pg_temp.staging),"
		"up AS (INSERT INTO attestd.centres AS c (approval, name, departement, valid_from, valid_to)"
		" SELECT * FROM src ON CONFLICT (approval) DO UPDATE SET name = EXCLUDED.name,"
		" departement = EXCLUDED.departement, valid_from = EXCLUDED.valid_from,"
		" valid_to = EXCLUDED.valid_to, updated_at = now()"
		" WHERE (c.name, c.departement, c.valid_from, c.valid_to) IS DISTINCT FROM"
		" (EXCLUDED.name, EXCLUDED.departement, EXCLUDED.valid_from, EXCLUDED.valid_to)"
		" RETURNING approval, (xmax = 0) AS inserted),"
		"certs AS (SELECT DISTINCT s.approval, " FINGERPRINT " AS sha FROM pg_temp.staging s,"
		" unnest(string_to_array(s.cert_sha256, ';')) f WHERE btrim(f) <> ''),"
		"del AS (DELETE FROM attestd.centre_certificates cc USING pg_temp.staging s"
		" WHERE cc.approval = s.approval AND NOT EXISTS (SELECT FROM certs"
		" WHERE certs.approval = cc.approval AND certs.sha = cc.cert_sha256)"
		" RETURNING cc.approval),"
		"ins AS (INSERT INTO attestd.centre_certificates (approval, cert_sha256)"
		" SELECT approval, sha FROM certs ON CONFLICT DO NOTHING RETURNING approval) "
		"SELECT (SELECT count(*) FROM up WHERE inserted),"
		" (SELECT count(*) FROM (SELECT approval FROM up WHERE NOT inserted"
		"  UNION SELECT approval FROM del UNION SELECT approval FROM ins"
		"  EXCEPT SELECT approval FROM up WHERE inserted) changed)",
	},
	[REGISTRY_FACILITATORS] = {
		"facilitators", "authorisation,role,surname,given_names,valid_from,valid_to",
		"authorisation",
		"CASE WHEN authorisation IS NULL OR authorisation !~ '^[A-Za-z0-9_./-]{1,64}$' THEN "
		"'authorisation: ' || attestd.show(authorisation) || ' must be 1 to 64 of "
		"A-Z a-z 0-9 _ . / -' END,"
		"CASE WHEN role IS NULL OR role NOT IN ('psychologist', 'road-safety-expert') THEN "
		"'role: ' || attestd.show(role) || ' must be psychologist or road-safety-expert' END,"
		NAME_REQUIRED("surname") "," NAME_REQUIRED("given_names") ","
		DATE_REQUIRED("valid_from") "," DATE_OPTIONAL("valid_to") "," VALIDITY_ORDER,
		NULL,
		"WITH up AS (INSERT INTO attestd.facilitators AS f"
		" (authorisation, role, surname, given_names, valid_from, valid_to)"
		" SELECT authorisation, role, surname, given_names, valid_from::date,"
		" NULLIF(valid_to, '')::date FROM pg_temp.staging"
		" ON CONFLICT (authorisation) DO UPDATE SET role = EXCLUDED.role,"
		" surname = EXCLUDED.surname, given_names = EXCLUDED.given_names,"
		" valid_from = EXCLUDED.valid_from, valid_to = EXCLUDED.valid_to, updated_at = now()"
		" WHERE (f.role, f.surname, f.given_names, f.valid_from, f.valid_to) IS DISTINCT FROM"
		" (EXCLUDED.role, EXCLUDED.surname, EXCLUDED.given_names, EXCLUDED.valid_from,"
		" EXCLUDED.valid_to) RETURNING (xmax = 0) AS inserted) "
		"SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up",
	},
	[REGISTRY_LICENCES] = {
		"licences",
		"licence,surname,given_names,birth_date,issued,probation_end,status,status_date",
		"licence",
		LICENCE_FORMAT "," NAME_REQUIRED("surname") "," NAME_REQUIRED("given_names") ","
		/* One attestd.is_date per row (it is the validation's main cost);
		 * a well-formed date compares with today as text.  is_date
		 * refuses years before 1900: say why for a birth. */
		"CASE WHEN NOT coalesce(attestd.is_date(birth_date), false) THEN 'birth_date: ' || "
		"attestd.show(birth_date) || CASE WHEN birth_date ~ '^1[0-8][0-9][0-9]-' THEN "
		"' is not plausible: before 1900 or after today (' || " TODAY " || ')' ELSE "
		"' is not a date (YYYY-MM-DD)' END WHEN birth_date COLLATE \"C\" > " TODAY " THEN 'birth_date: ' || "
		"attestd.show(birth_date) || ' is not plausible: before 1900 or after today (' || "
		TODAY " || ')' END,"
		DATE_REQUIRED("issued") ","
		DATE_OPTIONAL("probation_end") "," DATE_OPTIONAL("status_date") ","
		"CASE WHEN status IS NULL OR status NOT IN ('valid', 'suspended', 'invalidated', "
		"'cancelled') THEN 'status: ' || attestd.show(status) || ' must be valid, "
		"suspended, invalidated or cancelled' END,"
		"CASE WHEN status IN ('suspended', 'invalidated', 'cancelled') AND "
		"coalesce(status_date, '') = '' THEN 'status_date: a ' || status || ' licence "
		"needs the date its status was notified' END,"
		"CASE WHEN attestd.is_date(issued) AND attestd.is_date(probation_end) AND "
		"probation_end::date < issued::date THEN 'probation_end: ' || "
		"attestd.show(probation_end) || ' is before issued' END",
		NULL,
		"WITH up AS (INSERT INTO attestd.licences AS l (licence, surname, given_names,"
		" birth_date, issued, probation_end, status, status_date)"
		" SELECT licence, surname, given_names, birth_date::date, issued::date,"
		" NULLIF(probation_end, '')::date, status, NULLIF(status_date, '')::date"
		" FROM pg_temp.staging"
		" ON CONFLICT (licence) DO UPDATE SET surname = EXCLUDED.surname,"
		" given_names = EXCLUDED.given_names, birth_date = EXCLUDED.birth_date,"
		" issued = EXCLUDED.issued, probation_end = EXCLUDED.probation_end,"
		" status = EXCLUDED.status, status_date = EXCLUDED.status_date, updated_at = now()"
		" WHERE (l.surname, l.given_names, l.birth_date, l.issued, l.probation_end, l.status,"
		" l.status_date) IS DISTINCT FROM (EXCLUDED.surname, EXCLUDED.given_names,"
		" EXCLUDED.birth_date, EXCLUDED.issued, EXCLUDED.probation_end, EXCLUDED.status,"
		" EXCLUDED.status_date) RETURNING licence, (xmax = 0) AS inserted),"
		"t AS (INSERT INTO pg_temp.touched SELECT licence FROM up) "
		"SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up",
	},
	[REGISTRY_EVENTS] = {
		"events", "licence,effective_date,kind,points,ref", "ref",
		LICENCE_FORMAT ","
		"CASE WHEN NOT coalesce(attestd.is_date(effective_date), false) THEN "
		"'effective_date: ' || attestd.show(effective_date) || ' is not a date (YYYY-MM-DD)' "
		"WHEN effective_date COLLATE \"C\" > " TODAY " THEN 'effective_date: ' || attestd.show(effective_date) "
		"|| ' is after today (' || " TODAY " || '): the registry records events that have "
		"taken effect' END,"
		"CASE WHEN kind IS NULL OR kind NOT IN ('grant', 'retrait', 'recovery', "
		"'probation_increment', 'stage_credit') THEN 'kind: ' || attestd.show(kind) || "
		"' must be grant, retrait, recovery, probation_increment or stage_credit' END,"
		"CASE WHEN points IS NULL OR points !~ '^[+-]?[0-9]{1,2}$' THEN 'points: ' || "
		"attestd.show(points) || ' is not a whole number' "
		"WHEN kind = 'retrait' AND points::int NOT BETWEEN -12 AND -1 THEN 'points: ' || "
		"attestd.show(points) || ' must be -1 to -12 for a retrait' "
		"WHEN kind = 'stage_credit' AND points::int NOT BETWEEN 1 AND 4 THEN 'points: ' || "
		"attestd.show(points) || ' must be 1 to 4 for a stage_credit' "
		"WHEN kind IN ('grant', 'recovery', 'probation_increment') AND "
		"points::int NOT BETWEEN 1 AND 12 THEN 'points: ' || attestd.show(points) || "
		"' must be 1 to 12 for a ' || kind END,"
		"CASE WHEN ref IS NULL OR ref = '' OR length(ref) > 100 OR ref ~ '[[:cntrl:]]' THEN "
		"'ref: ' || attestd.show(ref) || ' must be 1 to 100 characters without control "
		"characters' END",
		/* The well-formed licences among those missing from the registry
		 * (nearly always none), not the missing among the well-formed:
		 * the format is checked above already, once a row is enough. */
		"SELECT s.rec, s.line, 'licence: ' || attestd.show(s.licence) || ' is not in the licence "
		"registry: import it in licences.csv first' FROM (SELECT rec, line, licence"
		" FROM pg_temp.staging s WHERE NOT EXISTS"
		" (SELECT FROM attestd.licences l WHERE l.licence = s.licence) OFFSET 0) s"
		" WHERE " LICENCE_OK("s.licence") " "
		/* A re-imported file joins every row: points written as stored
		 * ("-2") are equal without the regex and the cast. */
		"UNION ALL SELECT s.rec, s.line, 'ref: ' || attestd.show(s.ref) || ' is already recorded "
		"with other content; events never change: give the correction a new ref'"
		" FROM pg_temp.staging s JOIN attestd.licence_events e ON e.ref = s.ref"
		" WHERE (e.licence, e.effective_date::text, e.kind) IS DISTINCT FROM"
		" (s.licence, s.effective_date, s.kind) OR (e.points::text IS DISTINCT FROM s.points"
		" AND e.points::text IS DISTINCT FROM"
		"  CASE WHEN s.points ~ '^[+-]?[0-9]{1,2}$' THEN s.points::int::text END)",
		"WITH ins AS (INSERT INTO attestd.licence_events (licence, effective_date, kind,"
		" points, ref) SELECT licence, effective_date::date, kind, points::int, ref"
		" FROM pg_temp.staging ON CONFLICT (ref) DO NOTHING RETURNING licence),"
		"t AS (INSERT INTO pg_temp.touched SELECT DISTINCT licence FROM ins) "
		"SELECT count(*), 0 FROM ins",
	},
};

static const char *registry_kind_names[REGISTRY_KIND_COUNT] = {
	"centres", "facilitators", "licences", "events",
};

enum registry_kind registry_kind_from_name(const char *name)
{
	for (int k = 0; k < REGISTRY_KIND_COUNT; k++)
		if (strcmp(registry_kind_names[k], name) == 0)
			return (enum registry_kind)k;
	return REGISTRY_KIND_COUNT;
}

const char *registry_kind_name(enum registry_kind kind)
{
	return kind < REGISTRY_KIND_COUNT ? registry_kind_names[kind] : "?";
}

void registry_report_clear(struct registry_report *rep)
{
	for (size_t i = 0; i < rep->n_problems; i++)
		free(rep->problems[i].message);
	free(rep->problems);
	memset(rep, 0, sizeof(*rep));
}

static void report_add(struct registry_report *rep, long record, long line, const char *message)
{
	rep->problems = xreallocarray(rep->problems, rep->n_problems + 1, sizeof(*rep->problems));
	rep->problems[rep->n_problems].record = record;
	rep->problems[rep->n_problems].line = line;
	rep->problems[rep->n_problems].message = xstrdup(message);
	rep->n_problems++;
}

/* Streams the source's records into COPY; then the source's own problems. */
static enum store_status registry_copy(struct store *st, const struct registry_def *def,
				       struct registry_source *src, struct registry_report *rep,
				       char **err)
{
	char *sql = xasprintf("COPY pg_temp.staging (rec, line, %s) FROM STDIN (FORMAT csv)",
			      def->columns);
	PGresult *res = PQexec(st->conn, sql);
	free(sql);
	enum store_status s = store_result_status(st, res, err);
	PQclear(res);
	if (s != STORE_OK)
		return s;

	char *buf = xmalloc(COPY_CHUNK);
	bool read_failed = false;
	for (;;) {
		ssize_t n = src->read(src->ctx, buf, COPY_CHUNK);
		if (n < 0) {
			read_failed = true;
			break;
		}
		if (n == 0)
			break;
		if (PQputCopyData(st->conn, buf, (int)n) != 1)
			break;
	}
	free(buf);
	PQputCopyEnd(st->conn, read_failed ? "the registry file could not be read" : NULL);
	res = PQgetResult(st->conn);
	if (read_failed) {
		*err = xasprintf("%s: could not be read", src->file);
		s = STORE_ERROR;
	} else if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		/* The reader checked every record: a refusal here is the
		 * database's (connection, space), not the file's. */
		s = store_result_status(st, res, err);
		if (s == STORE_OK) {
			*err = xstrdup("COPY of the registry file failed");
			s = STORE_ERROR;
		}
	}
	PQclear(res);
	while ((res = PQgetResult(st->conn)) != NULL)
		PQclear(res);
	if (s == STORE_OK && src->finished)
		src->finished(src->ctx, rep);
	return s;
}

static int problem_order(const void *a, const void *b)
{
	/* By line: a record's line grows with its number, and the reader's
	 * problems about the whole file (record 0) sit at their own line. */
	const struct registry_problem *pa = a, *pb = b;
	if (pa->line != pb->line)
		return (pa->line > pb->line) - (pa->line < pb->line);
	return (pa->record > pb->record) - (pa->record < pb->record);
}

static enum store_status registry_validate(struct store *st, const struct registry_def *def,
					   struct registry_report *rep, char **err)
{
	char *sql = xasprintf(
		"SELECT rec, line, msg, count(*) OVER () FROM ("
		" SELECT rec, line, unnest(array_remove(ARRAY[%s]::text[], NULL)) AS msg"
		" FROM pg_temp.staging"
		/* The keys seen twice by a hash aggregate, not a window over
		 * the file sorted by key: millions of text comparisons for a
		 * file that has, nearly always, no duplicate at all. */
		" UNION ALL SELECT s.rec, s.line, '%s: ' || attestd.show(s.%s) || ' appears more than"
		" once in the file' FROM pg_temp.staging s JOIN (SELECT %s FROM pg_temp.staging"
		" WHERE %s IS NOT NULL GROUP BY 1 HAVING count(*) > 1) d USING (%s)"
		" %s%s) e ORDER BY rec, msg LIMIT %d",
		def->checks, def->key, def->key, def->key, def->key, def->key,
		def->cross ? "UNION ALL " : "", def->cross ? def->cross : "",
		REGISTRY_MAX_LISTED);
	PGresult *res = PQexec(st->conn, sql);
	free(sql);
	enum store_status s = store_result_status(st, res, err);
	if (s == STORE_OK) {
		for (int i = 0; i < PQntuples(res); i++)
			report_add(rep, strtol(PQgetvalue(res, i, 0), NULL, 10),
				   strtol(PQgetvalue(res, i, 1), NULL, 10), PQgetvalue(res, i, 2));
		if (PQntuples(res) > 0)
			rep->problems_total += strtol(PQgetvalue(res, 0, 3), NULL, 10);
	}
	PQclear(res);
	if (s == STORE_OK && rep->problems_total > 0) {
		/* The reader's problems and the fields', in the file's order. */
		qsort(rep->problems, rep->n_problems, sizeof(*rep->problems), problem_order);
		while (rep->n_problems > REGISTRY_MAX_LISTED)
			free(rep->problems[--rep->n_problems].message);
		s = STORE_INVALID;
	}
	return s;
}

static enum store_status registry_merge(struct store *st, const struct registry_def *def,
					struct registry_report *rep, char **err)
{
	PGresult *res = PQexec(st->conn, "SELECT count(*) FROM pg_temp.staging");
	enum store_status s = store_result_status(st, res, err);
	if (s == STORE_OK)
		rep->records = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (s != STORE_OK)
		return s;
	res = PQexec(st->conn, def->merge);
	s = store_result_status(st, res, err);
	if (s == STORE_OK) {
		rep->inserted = strtol(PQgetvalue(res, 0, 0), NULL, 10);
		rep->updated = strtol(PQgetvalue(res, 0, 1), NULL, 10);
		rep->unchanged = rep->records - rep->inserted - rep->updated;
	}
	PQclear(res);
	return s;
}

/* What the import touched that the daemon keeps: stages with attestations
 * pending on the file's licences, and the file's licences with a cached
 * balance; then the hook. */
static enum store_status registry_after_merge(struct store *st, const struct registry_hook *hook,
					      const char *cause, char **err)
{
	PGresult *stages = PQexec(st->conn,
		"SELECT DISTINCT a.stage_id FROM attestd.attestations a"
		" JOIN (SELECT DISTINCT licence FROM pg_temp.staging) s USING (licence)"
		" WHERE a.decision = 'pending' AND 'licence_unknown' = ANY (a.reasons)"
		" ORDER BY 1");
	enum store_status rc = store_result_status(st, stages, err);
	PGresult *lics = NULL;
	if (rc == STORE_OK) {
		/* The licences whose events or registry row the import changed
		 * and that have a grant (no grant, no balance: a new licence of
		 * a licences file has nothing to replay), and every licence with
		 * a grant but no balance yet (rules.md §6: the balance is a
		 * cache of the replay; a licence no file has touched has one
		 * too). */
		/* One pass over the grants, joined to both sets (hash joins,
		 * whatever their size): touched with a grant, or a grant and
		 * no balance; a licence without a grant has no balance to
		 * change, its events being immutable.  In licence order: the
		 * lock order of every transaction. */
		lics = PQexec(st->conn,
			"SELECT DISTINCT e.licence FROM attestd.licence_events e"
			" LEFT JOIN pg_temp.touched t ON t.licence = e.licence"
			" LEFT JOIN attestd.licence_balances b ON b.licence = e.licence"
			" WHERE e.kind = 'grant' AND (t.licence IS NOT NULL OR b.licence IS NULL)"
			" ORDER BY 1");
		rc = store_result_status(st, lics, err);
	}
	if (rc == STORE_OK) {
		size_t ns = (size_t)PQntuples(stages), nl = (size_t)PQntuples(lics);
		int64_t *ids = xcalloc(ns ? ns : 1, sizeof(*ids));
		char **numbers = xcalloc(nl ? nl : 1, sizeof(*numbers));
		for (size_t i = 0; i < ns; i++)
			ids[i] = strtoll(PQgetvalue(stages, (int)i, 0), NULL, 10);
		for (size_t i = 0; i < nl; i++)
			numbers[i] = PQgetvalue(lics, (int)i, 0);
		if (ns + nl > 0)
			rc = hook->after_merge(hook->ctx, st, cause, ids, ns, numbers, nl, err);
		free(ids);
		free(numbers);
	}
	PQclear(stages);
	PQclear(lics);
	return rc;
}

/* A value for a key="value" pair: `"` and `\` escaped, control bytes as
 * \xNN, so that no file name can end the value and forge a key after it. */
static char *quoted(const char *v)
{
	size_t n = strlen(v);
	char *q = xmalloc(4 * n + 3), *o = q;
	*o++ = '"';
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\') {
			*o++ = '\\';
			*o++ = (char)*p;
		} else if (*p < 0x20 || *p == 0x7f) {
			o += sprintf(o, "\\x%02x", *p);
		} else {
			*o++ = (char)*p;
		}
	}
	*o++ = '"';
	*o = '\0';
	return q;
}

/* The import's row of the audit log (audit.append chains it). */
static enum store_status registry_audit(struct store *st, enum registry_kind kind,
					const struct registry_source *src,
					const struct registry_report *rep, char **detail, char **err)
{
	char *file = quoted(src->file), *by = src->by ? quoted(src->by) : NULL;
	char *user = quoted(src->os_user);
	*detail = xasprintf("kind=%s file=%s sha256=%s records=%ld added=%ld changed=%ld "
			    "removed=0 unchanged=%ld encoding=%s separator=\"%c\" os_user=%s%s%s",
			    registry_kind_name(kind), file, src->sha256, rep->records,
			    rep->inserted, rep->updated, rep->unchanged, src->encoding,
			    src->separator, user, by ? " by=" : "", by ? by : "");
	free(file);
	free(by);
	free(user);
	const char *v[] = { src->actor, registry_kind_name(kind), *detail };
	PGresult *res = PQexecParams(st->conn, "SELECT audit.append($1, 'registry.import', $2, $3)",
				     3, NULL, v, NULL, NULL, 0);
	enum store_status s = store_result_status(st, res, err);
	PQclear(res);
	return s;
}

static void phase(const struct registry_source *src, const char *what)
{
	if (src->phase)
		src->phase(src->ctx, what);
}

enum store_status store_registry_import(struct store *st, enum registry_kind kind,
					struct registry_source *src,
					const struct registry_hook *hook, const char *cause,
					struct registry_report *rep, char **audit_detail, char **err)
{
	*audit_detail = NULL;
	if (kind >= REGISTRY_KIND_COUNT) {
		*err = xstrdup("unknown registry kind");
		return STORE_ERROR;
	}
	const struct registry_def *def = &registry_defs[kind];
	memset(rep, 0, sizeof(*rep));

	enum store_status s = store_exec(st, "BEGIN; SET LOCAL DateStyle = 'ISO, YMD';"
					 "SET LOCAL work_mem = '256MB'", err);
	if (s != STORE_OK)
		return s;
	const char *today[] = { src->today };
	PGresult *res = PQexecParams(st->conn, "SELECT set_config('attestd.today', $1, true)", 1,
				     NULL, today, NULL, NULL, 0);
	s = store_result_status(st, res, err);
	PQclear(res);
	if (s != STORE_OK)
		goto out;
	/* Text columns: every value reaches the validation, none aborts COPY. */
	char *cols = xstrdup(def->columns);
	char *create = xstrdup("CREATE TEMP TABLE staging (rec bigint, line bigint");
	for (char *save = NULL, *c = strtok_r(cols, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
		char *more = xasprintf("%s, %s text", create, c);
		free(create);
		create = more;
	}
	char *sql = xasprintf("%s) ON COMMIT DROP;"
			      "CREATE TEMP TABLE touched (licence text) ON COMMIT DROP", create);
	free(create);
	free(cols);
	s = store_exec(st, sql, err);
	free(sql);
	if (s != STORE_OK)
		goto out;
	if ((s = registry_copy(st, def, src, rep, err)) != STORE_OK)
		goto out;
	phase(src, "validating");
	/* Statistics let the planner hash-join millions of staged rows against
	 * the registry instead of probing an index row by row. */
	if ((s = store_exec(st, "ANALYZE pg_temp.staging", err)) != STORE_OK)
		goto out;
	if ((s = registry_validate(st, def, rep, err)) != STORE_OK)
		goto out;
	phase(src, "merging");
	if ((s = registry_merge(st, def, rep, err)) != STORE_OK)
		goto out;
	phase(src, "balances and pending attestations");
	/* The events just merged counted: without them the planner took the
	 * refresh's batches of 20,000 licences for a few rows of an empty
	 * table and read the events by a scan of the whole table per batch,
	 * not by the licence index (quadratic for a national registry). */
	if (hook && kind == REGISTRY_EVENTS && rep->inserted > 0 &&
	    (s = store_exec(st, "ANALYZE attestd.licence_events", err)) != STORE_OK)
		goto out;
	if (hook && (kind == REGISTRY_LICENCES || kind == REGISTRY_EVENTS) &&
	    (s = registry_after_merge(st, hook, cause, err)) != STORE_OK)
		goto out;
	if ((s = registry_audit(st, kind, src, rep, audit_detail, err)) != STORE_OK)
		goto out;
	phase(src, "committing");
	s = store_exec(st, "COMMIT", err);
out:
	if (s != STORE_OK) {
		store_rollback(st);
		free(*audit_detail);
		*audit_detail = NULL;
	}
	return s;
}
