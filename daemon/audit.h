/*
 * audit - the auditors' commands (`attestd audit`): the questions of
 * interfaces.md answered from the audit.* views only, so that they run
 * under the read-only attestd_auditor role, as a table, CSV or JSON; and
 * verify-archive, which re-hashes every file the database says the archive
 * holds.
 */
#ifndef ATTESTD_AUDIT_H
#define ATTESTD_AUDIT_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "report.h"
#include "store_report.h"

enum audit_query {
	AUDIT_ATTESTATIONS,		/* filter: centre, licence, from, to */
	AUDIT_LICENCE,			/* subject: the licence */
	AUDIT_CENTRE,			/* subject: the approval */
	AUDIT_OVERDUE,
	AUDIT_LOG,			/* filter: action, from, to */
};

struct audit_request {
	enum audit_query query;
	struct store_report_filter filter;
	const char *subject;
	enum report_format format;
};

/* Exit status: 0; 1 nothing recorded for that licence or centre; 4
 * database unreachable; 5 internal (a query failed: said on stderr). */
int audit_report(const struct config *cfg, const struct audit_request *req, FILE *out);

/* One line per archived file missing, corrupt or unreadable, then a
 * summary.  Exit status: 0 all intact; 1 some are not; 4 database. */
int audit_verify_archive(const struct config *cfg, bool progress, FILE *out);

#endif
