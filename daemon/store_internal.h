/*
 * store_internal - what the store_*.c files share: the connection struct and
 * small result helpers.  Not for use outside the store module.
 */
#ifndef ATTESTD_STORE_INTERNAL_H
#define ATTESTD_STORE_INTERNAL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "date.h"
#include "store.h"

struct store {
	PGconn *conn;
	char *conninfo;			/* to reconnect */
	bool prepared;			/* the pipeline's statements, once per connection */
	char sqlstate[6];		/* of the last error, "" when none */
	char synchronous_commit[16];	/* set on every session, reconnects too */
	/*
	 * A pipelined transaction (store_begin_pipelined .. store_commit or
	 * store_abort): statements go out without waiting for their results,
	 * which come back in order at the next store_pipe_wait.  awaiting[i]
	 * is where the i-th unread result goes (NULL: only its status counts).
	 */
	bool piping;
	PGresult ***awaiting;
	size_t n_awaiting, cap_awaiting;
	enum store_status pipe_rc;	/* the pipeline's first failure */
	char *pipe_err;
};

/* True when the connection is closed (the server gone, or the link). */
bool store_connection_lost(struct store *st);
/* STORE_OK for a successful result; otherwise sets *err (allocated);
 * STORE_UNAVAILABLE when the failure is the connection's, not the SQL's. */
enum store_status store_result_status(struct store *st, PGresult *res, char **err);
/* Runs SQL without parameters or rows wanted. */
enum store_status store_exec(struct store *st, const char *sql, char **err);
/*
 * Runs prepared statement `name`: at once outside a pipelined transaction
 * (*slot gets the result when slot is not NULL), otherwise only sent, its
 * result delivered into *slot (or just checked) by the next
 * store_pipe_wait.  values, lengths and formats are copied before return.
 */
enum store_status store_send_prepared(struct store *st, const char *name, int n,
				      const char *const *values, const int *lengths,
				      const int *formats, int result_format, PGresult **slot,
				      char **err);
/* Reads every result sent so far (one round trip for all of them): the
 * first failure among them, with its message. */
enum store_status store_pipe_wait(struct store *st, char **err);
/* A pipelined transaction: BEGIN sent (not waited for); statements run
 * through store_send_prepared until store_pipe_commit or store_rollback. */
enum store_status store_pipe_begin(struct store *st, char **err);
/* COMMIT, or the pipeline's first failure (the caller then rolls back). */
enum store_status store_pipe_commit(struct store *st, char **err);
/* Rolls back an open transaction, if any (a pipelined one too). */
void store_rollback(struct store *st);
/* Removes trailing white space (libpq messages end with a newline). */
char *store_trim(char *s);

/*
 * A text-format result's value at (row, col), for the readers that turn
 * rows into structs.  A NULL reads as "" (text, truncated to size), 0,
 * false, or DATE_NONE.
 */
void store_col_text(const PGresult *res, int row, int col, char *buf, size_t size);
date_t store_col_date(const PGresult *res, int row, int col);
int64_t store_col_int64(const PGresult *res, int row, int col);
bool store_col_bool(const PGresult *res, int row, int col);

#endif
