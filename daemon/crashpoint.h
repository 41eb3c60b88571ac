/*
 * crashpoint - rehearsing crashes.  ATTESTD_CRASH_AT=STEP[:N] makes the
 * process kill itself with SIGKILL (no cleanup, no flush: as a power cut
 * would) the N-th time (default 1st) it reaches STEP: after_claim,
 * after_parse, before_commit, after_commit, after_archive, after_receipt,
 * reconcile_dir (after each archive directory ab/ a comparison lists).
 * Tests use it to prove that a restart after any of them ends as if
 * nothing had happened; operators may rehearse with it on a test system.
 * ATTESTD_HOLD_AT=STEP[:N] and ATTESTD_HOLD_FILE=PATH hold the process at
 * STEP (PATH created, removed by the test to let it go on) instead;
 * ATTESTD_HOLD_EVERY=M holds again every M-th passage after that.
 */
#ifndef ATTESTD_CRASHPOINT_H
#define ATTESTD_CRASHPOINT_H

void crashpoint(const char *step);

#endif
