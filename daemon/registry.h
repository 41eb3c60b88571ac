/*
 * registry - `attestd registry import KIND FILE.csv`: opens the file, hands
 * it to the store's COPY import, and maps the record numbers of any
 * problems back to the file's physical lines for the operator.
 */
#ifndef ATTESTD_REGISTRY_H
#define ATTESTD_REGISTRY_H

#include "store.h"

/* Imports the file; on STORE_INVALID rep->problems carry record and line. */
enum store_status registry_import_file(struct store *st, enum registry_kind kind,
				       const char *path, const struct registry_hook *hook,
				       struct registry_report *rep, char **err);

#endif
