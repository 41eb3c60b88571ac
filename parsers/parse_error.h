/*
 * parse_error - filling a struct parse_error (parsers.h) in one call, so that
 * every check of parsers/ reports the same way: reason, line, column, and a
 * message about the markup, never the payload's personal content.
 */
#ifndef ATTESTD_PARSE_ERROR_H
#define ATTESTD_PARSE_ERROR_H

#include "parsers.h"

/* Sets all fields of err (which may be NULL) and returns r, so that a check
 * can end with `return parse_error_set(err, ...)`. */
enum reason parse_error_set(struct parse_error *err, enum reason r, int line, int column,
			    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * The backstop every message of parsers/ goes through (parse_error_set
 * and the signature checks' own setter call it): whatever a check echoes,
 * a message never carries a control character (C0, DEL, C1), a line or
 * paragraph separator or a bidirectional control; each becomes '?', so a
 * message stays one line that reads in order wherever it goes (check
 * output, .reason, database, receipt, log).  Rewrites msg in place.
 */
void parse_error_scrub(char *msg);

/* Resets err to "no error" (REASON_OK, empty message). */
void parse_error_clear(struct parse_error *err);

#endif
