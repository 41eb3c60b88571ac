/*
 * store_report - the SQL of the audit and review commands, and the engine
 * that streams a query's rows out as a table, CSV or JSON (report.h).
 * PostgreSQL writes the CSV (COPY ... TO STDOUT) and the JSON (row_to_json,
 * one row at a time); nothing is escaped here and no result sits whole in
 * memory.  The audit queries read the audit.* views only, so that they run
 * under the read-only attestd_auditor role; the review queries read the
 * daemon's own tables (operators run them as attestd).
 */
#ifndef ATTESTD_STORE_REPORT_H
#define ATTESTD_STORE_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "report.h"
#include "store.h"

/* Shows times in the prefecture's time zone, dates as ISO. */
enum store_status store_report_session(struct store *st, const char *timezone, char **err);

/* What `audit attestations` keeps; NULL members do not filter.  Dates are
 * YYYY-MM-DD: stages held within [from, to]. */
struct store_report_filter {
	const char *centre;
	const char *licence;
	const char *from;
	const char *to;
	const char *action;	/* audit log: an action or its dotted prefix */
};

/* Each writes its whole answer to out in one read-only snapshot.
 * STORE_INVALID with *err when there is nothing to show for the licence,
 * centre or attestation asked about (nothing is written then). */
enum store_status store_report_attestations(struct store *st, const struct store_report_filter *f,
					    enum report_format format, FILE *out, char **err);
enum store_status store_report_licence(struct store *st, const char *licence,
				       enum report_format format, FILE *out, char **err);
enum store_status store_report_centre(struct store *st, const char *approval,
				      enum report_format format, FILE *out, char **err);
/* The audit log's rows (audit.log), oldest first: action, from, to. */
enum store_status store_report_log(struct store *st, const struct store_report_filter *f,
				   enum report_format format, FILE *out, char **err);
enum store_status store_report_overdue(struct store *st, enum report_format format, FILE *out,
				       char **err);
enum store_status store_report_review_list(struct store *st, enum report_format format,
					   FILE *out, char **err);
enum store_status store_report_review_show(struct store *st, int64_t id,
					   enum report_format format, FILE *out, char **err);

/* One file the archive must hold (audit.archived_files); borrowed for the call. */
struct store_archived_file {
	const char *sha256;
	const char *kind;		/* "original" or "identity-scan" */
	int64_t submission;
	const char *approval;
	const char *file_name;
};
/* Calls fn for each, as the rows stream in. */
enum store_status store_report_archived_files(struct store *st,
					      void (*fn)(const struct store_archived_file *f,
							 void *ctx),
					      void *ctx, char **err);

#endif
