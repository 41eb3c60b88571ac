/*
 * check - `attestd check FILE...`: the offline check a centre's IT person
 * runs before sending: name, size, XML, signature profile, schema,
 * signature value and certificate trust, with the configuration's trust
 * files and no database.  Prints one line per problem,
 * FILE:LINE: code: message, and OK lines for good files.
 */
#ifndef ATTESTD_CHECK_H
#define ATTESTD_CHECK_H

#include <stdio.h>
#include <time.h>

#include "config.h"

/* Returns 0 when every file passed, 1 when some did not, 5 when the
 * parsers could not be set up (trust files unreadable: said on err). */
int check_files(const struct config *cfg, char *const *files, int n, time_t now,
		FILE *out, FILE *err);

#endif
