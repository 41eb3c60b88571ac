/*
 * run - `attestd run --once`: finish what the spool holds, then take every
 * settled file of the inbox, oldest first, through the pipeline, and exit.
 */
#ifndef ATTESTD_RUN_H
#define ATTESTD_RUN_H

#include "config.h"

/* Exit status: 0 all done, 4 database unreachable or schema not ready
 * (files left where they were), 5 some file kept for an internal error. */
int run_once(const struct config *cfg);

#endif
