/*
 * timing - where `attestd run --once` spends its wall-clock time, without
 * touching the production code: linked into a copy of the attestd binary
 * (attestd-timed) with `ld --wrap`, so that the calls between the
 * library's modules, and from them into libpq and libc, go through the
 * wrappers below.  Each wrapper charges the time since the last change of
 * state to the category on top of a small stack, then pushes its own:
 * every nanosecond is charged once, to the innermost category (sig_verify's
 * time is `verify`, not also `parse`; what is not in any wrapper is `glue`).
 *
 * At exit, with ATTESTD_TIMING=FILE in the environment, writes one line
 * per category: "name seconds calls", then one per prepared statement:
 * "sql seconds calls text" (the text cut to 70 characters).  Not thread-safe (attestd is not
 * threaded).  WRAPPED below lists the symbols: the Makefile's
 * --wrap options must name the same ones.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <libxml/tree.h>

#include "archive.h"
#include "inbox.h"
#include "ledger.h"
#include "outbox.h"
#include "parsers.h"
#include "receipt.h"
#include "rules.h"
#include "schema.h"
#include "signature.h"

enum cat { GLUE, PARSE, SCHEMA, VERIFY, RULES, RECEIPT, SIGN, DB, FILES, FSYNC, LOG, N_CAT };

static const char *const cat_name[N_CAT] = {
	"glue", "parse", "schema", "verify", "rules", "receipt", "receipt_sign", "db", "files",
	"fsync", "log",
};

static double spent[N_CAT];
static unsigned long calls[N_CAT];
static enum cat stack[64];
static int depth;
static struct timespec last;

static void charge(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (last.tv_sec != 0)
		spent[depth > 0 ? stack[depth - 1] : GLUE] +=
			(double)(now.tv_sec - last.tv_sec) + (double)(now.tv_nsec - last.tv_nsec) / 1e9;
	last = now;
}

static void enter(enum cat c)
{
	charge();
	calls[c]++;
	if (depth < 64)
		stack[depth] = c;
	depth++;
}

/* Time, but not a call: the halves of a pipelined round trip. */
static void enter_quiet(enum cat c)
{
	enter(c);
	calls[c]--;
}

static void leave(void)
{
	charge();
	depth--;
}

/* The prepared statements, by name, with the time of their executions. */
static struct {
	char name[32];
	char text[80];
	double spent;
	unsigned long calls;
} stmts[128];
static int n_stmts;

static int stmt_find(const char *name)
{
	for (int s = 0; s < n_stmts; s++)
		if (strcmp(stmts[s].name, name) == 0)
			return s;
	return -1;
}

static double seconds(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

__attribute__((destructor)) static void timing_report(void)
{
	const char *path = getenv("ATTESTD_TIMING");
	charge();
	if (path == NULL)
		return;
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return;
	for (int c = 0; c < N_CAT; c++)
		fprintf(f, "%s %.6f %lu\n", cat_name[c], spent[c], calls[c]);
	for (int s = 0; s < n_stmts; s++)
		fprintf(f, "sql %.6f %lu %.70s\n", stmts[s].spent, stmts[s].calls, stmts[s].text);
	fclose(f);
}

/* WRAP(cat, ret, name, (params), (args)) defines __wrap_name around __real_name. */
#define WRAP_ENTERING(enter_fn, c, ret, name, params, args)		\
	ret __real_##name params;					\
	ret __wrap_##name params;					\
	ret __wrap_##name params					\
	{								\
		enter_fn(c);						\
		ret result_ = __real_##name args;				\
		leave();						\
		return result_;					\
	}
#define WRAP(c, ret, name, params, args) WRAP_ENTERING(enter, c, ret, name, params, args)
/* The same, counting no call (DB calls are round trips). */
#define WRAP_QUIET(c, ret, name, params, args) \
	WRAP_ENTERING(enter_quiet, c, ret, name, params, args)

#define WRAP_VOID(c, name, params, args)				\
	void __real_##name params;					\
	void __wrap_##name params;					\
	void __wrap_##name params					\
	{								\
		enter(c);						\
		__real_##name args;					\
		leave();						\
	}

/* Reading, well-formedness, profile, mapping: what parsers_parse does besides the two below. */
WRAP(PARSE, enum reason, parsers_parse,
     (const struct parsers *p, const unsigned char *bytes, size_t len, time_t received,
      struct document **out, int *kind_out, struct parse_evidence *evidence,
      struct parse_error *err),
     (p, bytes, len, received, out, kind_out, evidence, err))
WRAP(SCHEMA, enum reason, schema_set_validate,
     (const struct schema_set *set, xmlDocPtr doc, enum schema_kind *kind, struct parse_error *err),
     (set, doc, kind, err))
WRAP(VERIFY, enum reason, sig_verify,
     (xmlDocPtr doc, const struct sig_trust *trust, time_t at, struct parse_evidence *evidence,
      struct parse_error *err),
     (doc, trust, at, evidence, err))

WRAP(RULES, enum reason, rules_check_stage,
     (const struct document *sheet, const struct document *attestations,
      const struct rules_facilitator *registry, size_t n_registry, struct rules_reasons *findings),
     (sheet, attestations, registry, n_registry, findings))
WRAP(RULES, enum reason, rules_decide,
     (const struct document *attestations, size_t index, const struct document *sheet,
      const struct rules_reasons *stage_findings, const struct rules_licence *licence,
      const struct rules_context *ctx, struct rules_outcome *out),
     (attestations, index, sheet, stage_findings, licence, ctx, out))
WRAP_VOID(RULES, ledger_replay,
	  (const struct ledger_licence *lic, const struct ledger_event *events, size_t n,
	   struct ledger_timeline *out),
	  (lic, events, n, out))
WRAP(RULES, int, ledger_ceiling_at,
     (const struct ledger_licence *lic, const struct ledger_event *events, size_t n, date_t t),
     (lic, events, n, t))

WRAP(RECEIPT, enum reason, receipt_build,
     (const struct receipt *r, const struct sig_signer *signer, unsigned char **xml, size_t *len,
      struct parse_error *err),
     (r, signer, xml, len, err))
WRAP(SIGN, enum reason, sig_sign,
     (xmlDocPtr doc, const struct sig_signer *signer, struct parse_error *err),
     (doc, signer, err))

/* Every round trip to PostgreSQL, the server's work included. */
WRAP(DB, PGresult *, PQexec, (PGconn *conn, const char *query), (conn, query))
PGresult *__real_PQexecPrepared(PGconn *conn, const char *stmt, int n, const char *const *values,
				const int *lengths, const int *formats, int result_format);
PGresult *__wrap_PQexecPrepared(PGconn *conn, const char *stmt, int n, const char *const *values,
				const int *lengths, const int *formats, int result_format);
PGresult *__wrap_PQexecPrepared(PGconn *conn, const char *stmt, int n, const char *const *values,
				const int *lengths, const int *formats, int result_format)
{
	int s = stmt_find(stmt);
	double t0 = seconds();
	enter(DB);
	PGresult *res = __real_PQexecPrepared(conn, stmt, n, values, lengths, formats,
					      result_format);
	leave();
	if (s >= 0) {
		stmts[s].spent += seconds() - t0;
		stmts[s].calls++;
	}
	return res;
}

PGresult *__real_PQprepare(PGconn *conn, const char *stmt, const char *query, int n,
			   const Oid *types);
PGresult *__wrap_PQprepare(PGconn *conn, const char *stmt, const char *query, int n,
			   const Oid *types);
PGresult *__wrap_PQprepare(PGconn *conn, const char *stmt, const char *query, int n,
			   const Oid *types)
{
	if (stmt_find(stmt) < 0 && n_stmts < 128) {
		snprintf(stmts[n_stmts].name, sizeof(stmts[n_stmts].name), "%s", stmt);
		snprintf(stmts[n_stmts].text, sizeof(stmts[n_stmts].text), "%s", query);
		n_stmts++;
	}
	enter(DB);
	PGresult *res = __real_PQprepare(conn, stmt, query, n, types);
	leave();
	return res;
}
WRAP(DB, PGresult *, PQexecParams,
     (PGconn *conn, const char *command, int n, const Oid *types, const char *const *values,
      const int *lengths, const int *formats, int result_format),
     (conn, command, n, types, values, lengths, formats, result_format))
/* Pipelined transactions: statements sent, then one round trip (a flush
 * request or a sync) for the results of all of them. */
WRAP_QUIET(DB, int, PQsendQueryPrepared,
	   (PGconn *conn, const char *stmt, int n, const char *const *values, const int *lengths,
	    const int *formats, int result_format),
	   (conn, stmt, n, values, lengths, formats, result_format))
WRAP_QUIET(DB, int, PQsendQueryParams,
	   (PGconn *conn, const char *command, int n, const Oid *types, const char *const *values,
	    const int *lengths, const int *formats, int result_format),
	   (conn, command, n, types, values, lengths, formats, result_format))
WRAP_QUIET(DB, PGresult *, PQgetResult, (PGconn *conn), (conn))
WRAP_QUIET(DB, int, PQflush, (PGconn *conn), (conn))
WRAP(DB, int, PQsendFlushRequest, (PGconn *conn), (conn))
WRAP(DB, int, PQpipelineSync, (PGconn *conn), (conn))
WRAP(DB, PGconn *, PQconnectdbParams,
     (const char *const *keywords, const char *const *values, int expand_dbname),
     (keywords, values, expand_dbname))

WRAP(FILES, int, inbox_scan,
     (const char *inbox, unsigned settle_ms, const struct timespec *now, struct inbox_list *out,
      size_t *unsettled),
     (inbox, settle_ms, now, out, unsettled))
WRAP(FILES, int, inbox_claim,
     (const char *inbox, const char *spool, const struct inbox_entry *entry,
      struct inbox_claim *out),
     (inbox, spool, entry, out))
WRAP(FILES, enum reason, inbox_read,
     (const char *path, size_t max_size, unsigned char **data, size_t *len),
     (path, max_size, data, len))
WRAP(FILES, enum reason, archive_put,
     (const char *root, const char *sha256_hex, const void *data, size_t len),
     (root, sha256_hex, data, len))
WRAP(FILES, enum reason, archive_put_all,
     (const char *root, const struct archive_blob *blobs, size_t n), (root, blobs, n))
WRAP(FILES, enum reason, archive_quarantine,
     (const char *quarantine, const struct inbox_claim *claim, enum reason why,
      const char *detail),
     (quarantine, claim, why, detail))
WRAP(FILES, enum reason, outbox_write,
     (const char *outbox, const char *relpath, const unsigned char *body, size_t len),
     (outbox, relpath, body, len))
WRAP(FSYNC, int, fsync, (int fd), (fd))

WRAP_VOID(LOG, vsyslog, (int priority, const char *fmt, va_list ap), (priority, fmt, ap))
