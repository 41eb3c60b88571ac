/*
 * clock - the one place the daemon reads the time.  ATTESTD_TEST_NOW
 * (an ISO date-time with offset, e.g. 2026-11-16T10:00:00+01:00) shifts
 * it, for tests and for rehearsing the time limits: "now" becomes that
 * instant, and a reception time keeps its distance to the real now.
 * Read once, at the first call; an unparsable value is fatal (exit 3).
 */
#ifndef ATTESTD_CLOCK_H
#define ATTESTD_CLOCK_H

#include <time.h>

/* The current time (real, or shifted). */
struct timespec clock_now(void);
/* A file-system timestamp (a ctime) on the same, possibly shifted, clock. */
struct timespec clock_shift(struct timespec t);

#endif
