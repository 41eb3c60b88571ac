/*
 * registry - `attestd registry import KIND FILE.csv`: reads the file
 * through the CSV reader (csv.h: separator, encoding, every bad record with
 * its line), hashes it, hands its records to the store's COPY import, and,
 * once committed, logs the import as the audit log records it.
 */
#ifndef ATTESTD_REGISTRY_H
#define ATTESTD_REGISTRY_H

#include <stdbool.h>

#include "csv.h"
#include "store.h"

struct registry_options {
	enum csv_encoding encoding;
	const char *by;		/* --by NAME (a person acting through a shared account), or NULL */
	const char *timezone;	/* the prefecture's: "today" for the date checks */
	bool progress;		/* stderr is a terminal: show progress there */
};

/* Imports the file; on STORE_INVALID rep->problems carry record and line.
 * *separator: the one the header decided. */
enum store_status registry_import_file(struct store *st, enum registry_kind kind,
				       const char *path, const struct registry_options *opt,
				       const struct registry_hook *hook,
				       struct registry_report *rep, char *separator, char **err);

#endif
