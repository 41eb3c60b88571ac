/*
 * run - `attestd run --once`: finish what the spool holds, then take every
 * settled file of the inbox, oldest first, through the pipeline, and exit.
 */
#ifndef ATTESTD_RUN_H
#define ATTESTD_RUN_H

#include <stdbool.h>

#include "config.h"

/* Exit status: 0 all done, 4 database unreachable or schema not ready
 * (files left where they were), 5 some file kept for an internal error. */
int run_once(const struct config *cfg);

/*
 * `attestd run`: the service.  Takes ownership of cfg (installed as the
 * current configuration; SIGHUP loads config_path again).  Watches the
 * inbox (inotify, and a scan every rescan_interval), processes files in
 * order of reception, pauses on environment faults (database, disk, trust
 * files) and resumes by itself, tells systemd how it is.  SIGTERM/SIGINT:
 * the file in hand is finished, then exit 0.
 */
int run_service(struct config *cfg, const char *config_path);

#endif
