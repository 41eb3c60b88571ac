/*
 * status - `attestd status`: what an operator asks first.  The queue in the
 * inbox per centre and its oldest file, the spool, the pending, review,
 * overdue and near-deadline counts, the last file processed, and each
 * running instance's state and faults (from its state file).
 */
#ifndef ATTESTD_STATUS_H
#define ATTESTD_STATUS_H

#include <stdio.h>

#include "config.h"

/* Exit status: 0, or 4 when the database could not be read (the rest is
 * still shown). */
int status_show(const struct config *cfg, FILE *out);

#endif
