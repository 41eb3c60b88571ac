/*
 * confcheck - `attestd config check`: is this configuration good, before a
 * start or a reload?  Reads the file, the trust files, the directories and
 * the database as the service would, and prints every finding as
 * "FILE:LINE: [section] key: what is wrong" (LINE left out when the key
 * keeps its default), or one "ok" line.  Borrows nothing it keeps.
 */
#ifndef ATTESTD_CONFCHECK_H
#define ATTESTD_CONFCHECK_H

#include <stdio.h>
#include <time.h>

/*
 * Checks the configuration at `path` as the user running it (run it as the
 * service's user: the unit does).  Findings go to `out`.  Returns 0 (ok),
 * 3 (the configuration or a file it names is wrong: a start or reload would
 * fail or misbehave) or 4 (only the environment is at fault: database
 * unreachable or schema not migrated, a CRL out of its validity), 5 when
 * the XML libraries cannot start.
 */
int confcheck_run(const char *path, time_t now, FILE *out);

#endif
