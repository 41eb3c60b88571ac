/*
 * exitcode - the exit statuses of every command (interfaces.md), in one
 * place: a script, cron or systemd decides on them, so a command may not
 * say 4 where another says 5 for the same kind of fault.
 */
#ifndef ATTESTD_EXITCODE_H
#define ATTESTD_EXITCODE_H

enum exit_code {
	EXIT_OK = 0,
	EXIT_INVALID = 1,	/* some input invalid or refused: a file, an id, a purge's files */
	EXIT_USAGE = 2,		/* the command line */
	EXIT_CONFIG = 3,	/* the configuration, or a path it names */
	EXIT_ENVIRONMENT = 4,	/* the database unreachable or its schema too old, a stale
				 * CRL, the disk full: mended by the operator, then retried */
	EXIT_INTERNAL = 5,	/* a bug: never for a condition the operator can mend */
};

#endif
