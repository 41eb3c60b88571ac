/*
 * store_console - the queries of the console's pages and of their command
 * line twins (attestd audit licence --as-of, audit report --month): the
 * one place they are written.  They read the audit.* and console.* views
 * (migration 012) on the connection they are given, which for the console
 * is the person's own: PostgreSQL's grants decide what each person sees.
 * Results come back as small tables of text (struct store_table, owned by
 * the caller) or C structs; every query is bounded (LIMIT), no HTML here.
 */
#ifndef ATTESTD_STORE_CONSOLE_H
#define ATTESTD_STORE_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger.h"
#include "store.h"

/* Rows per page of every list (keyset pagination). */
#define STORE_CONSOLE_PAGE 50

struct store_table {
	size_t n_cols, n_rows;
	char **names;			/* n_cols column names */
	char **cells;			/* n_rows x n_cols, NULL = SQL NULL */
	bool more;			/* a list: rows beyond this page exist */
};
void store_table_free(struct store_table *t);
/* The cell's text; "" for SQL NULL or out of range. */
const char *store_table_get(const struct store_table *t, size_t row, size_t col);
bool store_table_null(const struct store_table *t, size_t row, size_t col);

/*
 * A connection as a person: the conninfo of [database] with user and
 * password overridden.  NULL on failure, with *why STORE_INVALID when the
 * server refused the credentials (the message never holds the password),
 * STORE_UNAVAILABLE otherwise.
 */
struct store *store_console_connect_as(const char *conninfo, const char *user,
				       const char *password, enum store_status *why,
				       char **err);
/* The session of a person's connection: read-only, the prefecture's time
 * zone, ISO dates. */
enum store_status store_console_session(struct store *st, const char *timezone, char **err);
/* Whether a person's connection is still up.  Never reconnects: a reset
 * connection would lose the session settings above. */
bool store_console_alive(struct store *st);
/* Who the connection is, and which of the console's roles it has
 * (pg_has_role ... MEMBER). */
enum store_status store_console_whoami(struct store *st, char role[static 64], bool *auditor,
				       bool *reviewer, char **err);
/* The highest migration applied (the daemon's role). */
enum store_status store_console_schema_version(struct store *st, int *version, char **err);

/* --- pages: one table each (parameters are text, checked by the caller) --- */

/* The dashboard: today's files by outcome; pending, review, overdue counts
 * and the last file processed (one row). */
enum store_status store_console_today(struct store *st, struct store_table *out, char **err);
/* Rows (day, accepted, rejected, duplicate) for days since from with files. */
enum store_status store_console_files_per_day(struct store *st, const char *from,
					      struct store_table *out, char **err);
/* Rows (month, credited, no_credit, rejected) for decisions from the day
 * from to before the day to (NULL: up to now). */
enum store_status store_console_decisions_per_month(struct store *st, const char *from,
						    const char *to, struct store_table *out,
						    char **err);

struct store_console_file_filter {
	const char *centre, *from, *to, *status, *reason, *name;	/* NULL: any */
	int64_t before;			/* keyset: ids below this (0: the newest) */
};
enum store_status store_console_files(struct store *st, const struct store_console_file_filter *f,
				      struct store_table *out, char **err);
/* One submission (STORE_INVALID when unknown), its receipts. */
enum store_status store_console_file(struct store *st, int64_t id, struct store_table *out,
				     char **err);
enum store_status store_console_file_receipts(struct store *st, int64_t id,
					      struct store_table *out, char **err);
enum store_status store_console_file_attestations(struct store *st, int64_t id,
						  struct store_table *out, char **err);

/* The review queue by deadline, after (deadline, id) when after_id > 0;
 * centre NULL: every centre. */
enum store_status store_console_review_list(struct store *st, const char *centre,
					    const char *after_deadline, int64_t after_id,
					    struct store_table *out, char **err);
/* One attestation (console.review_items; STORE_INVALID when unknown). */
enum store_status store_console_review_item(struct store *st, int64_t id,
					    struct store_table *out, char **err);
/* Its identity scans (reviewers only: anybody else gets a permission
 * error from PostgreSQL). */
enum store_status store_console_review_scans(struct store *st, int64_t id,
					     struct store_table *out, char **err);
/* The decision history of one attestation. */
enum store_status store_console_review_history(struct store *st, int64_t id,
					       struct store_table *out, char **err);
/* Whether sha256 is a scan of attestation id this connection may see, and
 * its media type.  *found false otherwise (also without the grant). */
enum store_status store_console_scan(struct store *st, int64_t id, const char *sha256,
				     char media_type[static 128], bool *found, char **err);
/* An original file's hash and name (reviewers only), *found as above. */
enum store_status store_console_original(struct store *st, int64_t submission,
					 char sha256[static 65], char name[static 256],
					 bool *found, char **err);

/* A licence's ledger for the replay (ledger.h): *known false when nothing
 * is recorded for it.  events[i].ref point into *refs; the caller frees
 * both with store_console_ledger_free. */
struct store_console_ledger {
	struct ledger_licence licence;
	bool registered;		/* the registry knows the licence */
	struct ledger_event *events;
	size_t n;
	char *refs;
};
enum store_status store_console_ledger(struct store *st, const char *licence,
				       struct store_console_ledger *out, bool *known, char **err);
void store_console_ledger_free(struct store_console_ledger *l);
/* Every decision about a licence (most recent 500). */
enum store_status store_console_licence_decisions(struct store *st, const char *licence,
						  struct store_table *out, char **err);

/* The stage (STORE_INVALID when unknown), its attendance grid and its
 * attestations. */
enum store_status store_console_stage(struct store *st, const char *approval, const char *ref,
				      struct store_table *out, char **err);
enum store_status store_console_stage_attendance(struct store *st, const char *approval,
						 const char *ref, struct store_table *out,
						 char **err);
enum store_status store_console_stage_attestations(struct store *st, const char *approval,
						   const char *ref, struct store_table *out,
						   char **err);
/* A centre: submissions per month, late transmissions rate, rejections by
 * reason (STORE_INVALID when nothing is recorded). */
enum store_status store_console_centre(struct store *st, const char *approval,
				       const char *table, struct store_table *out, char **err);

/* The monthly report's tables, by name (STORE_CONSOLE_MONTHLY), for the
 * month YYYY-MM.  STORE_INVALID for an unknown name. */
#define STORE_CONSOLE_MONTHLY_N 6
extern const char *const store_console_monthly_names[STORE_CONSOLE_MONTHLY_N];
extern const char *const store_console_monthly_titles[STORE_CONSOLE_MONTHLY_N];
enum store_status store_console_monthly(struct store *st, const char *month, const char *table,
					struct store_table *out, char **err);

#endif
