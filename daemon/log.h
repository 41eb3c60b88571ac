/*
 * log - syslog(3) (facility daemon, ident "attestd") with key=value lines;
 * log_open(true) mirrors every line to stderr (--foreground, commands).
 * Never pass names or birth dates: licence numbers only.
 */
#ifndef ATTESTD_LOG_H
#define ATTESTD_LOG_H

#include <stdbool.h>

void log_open(bool mirror_to_stderr);
void log_close(void);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Start-up or environment failure: log and exit with the given status. */
_Noreturn void log_fatal(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A broken invariant: log and abort. */
_Noreturn void log_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
