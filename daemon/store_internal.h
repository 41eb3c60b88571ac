/*
 * store_internal - what the store_*.c files share: the connection struct and
 * small result helpers.  Not for use outside the store module.
 */
#ifndef ATTESTD_STORE_INTERNAL_H
#define ATTESTD_STORE_INTERNAL_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "store.h"

struct store {
	PGconn *conn;
	char *conninfo;			/* to reconnect */
	bool prepared;			/* the pipeline's statements, once per connection */
	char sqlstate[6];		/* of the last error, "" when none */
};

/* STORE_OK for a successful result; otherwise sets *err (allocated). */
enum store_status store_result_status(struct store *st, PGresult *res, char **err);
/* Runs SQL without parameters or rows wanted. */
enum store_status store_exec(struct store *st, const char *sql, char **err);
/* Rolls back an open transaction, if any. */
void store_rollback(struct store *st);
/* Removes trailing white space (libpq messages end with a newline). */
char *store_trim(char *s);

#endif
