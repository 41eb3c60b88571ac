/*
 * progress - one self-rewriting status line on a terminal for the long
 * commands (registry import, purge, audit verify-archive): rows, rows per
 * second, percent done.  Silent when the stream is not a terminal: the
 * caller decides (isatty), so tests can decide too.  The progress owns
 * nothing but itself; the stream is borrowed.
 */
#ifndef ATTESTD_PROGRESS_H
#define ATTESTD_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

struct progress;

/* what: the line's label (copied); unit: what is counted ("rows", static);
 * total: the units percent is of (bytes of a file, files of a list), 0
 * when unknown.  Never NULL. */
struct progress *progress_new(FILE *out, bool terminal, const char *what, const char *unit,
			      long long total);
/* rows (units) so far, done of total; drawn at most four times a second. */
void progress_update(struct progress *p, long long rows, long long done);
/* A phase after the rows (e.g. "validating"): drawn at once. */
void progress_phase(struct progress *p, const char *phase);
/* Leaves the last line drawn (with its newline) and frees; NULL is fine. */
void progress_end(struct progress *p);

#endif
