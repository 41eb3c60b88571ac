/*
 * log - syslog with an optional stderr mirror.  The logger is, with the
 * configuration, the only mutable global state of the program.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

#include "log.h"

static bool log_mirror;

void log_open(bool mirror_to_stderr)
{
	log_mirror = mirror_to_stderr;
	openlog("attestd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_close(void)
{
	closelog();
}

static void log_emit(int priority, const char *level, const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	vsyslog(priority, fmt, ap);
	if (log_mirror) {
		fprintf(stderr, "attestd: level=%s ", level);
		vfprintf(stderr, fmt, copy);
		fputc('\n', stderr);
	}
	va_end(copy);
}

void log_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit(LOG_INFO, "info", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit(LOG_WARNING, "warning", fmt, ap);
	va_end(ap);
}

void log_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit(LOG_ERR, "error", fmt, ap);
	va_end(ap);
}

void log_fatal(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit(LOG_CRIT, "fatal", fmt, ap);
	va_end(ap);
	exit(status);
}

void log_panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit(LOG_ALERT, "panic", fmt, ap);
	va_end(ap);
	abort();
}
