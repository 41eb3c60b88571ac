/*
 * log - syslog with an optional stderr mirror.  The logger is, with the
 * configuration, the only mutable global state of the program.
 *
 * Where no syslog daemon listens (a container, a test machine), syslog(3)
 * would try to connect again at every line (socket, connect, close): the
 * socket is looked for at log_open() and then at most once a minute, and
 * lines in between go to the stderr mirror only.
 */
#include <errno.h>
#include <paths.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LOOK_AGAIN_S 60

static bool log_mirror;
static bool log_syslog;		/* a syslog daemon answered at _PATH_LOG */
static time_t log_look_at;	/* CLOCK_MONOTONIC second of the next look, when not */

static time_t log_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* True when something listens at _PATH_LOG (EPROTOTYPE: a stream socket,
 * which syslog(3) also speaks). */
static bool log_syslog_listens(void)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", _PATH_LOG);
	bool listens = connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) == 0 ||
		       errno == EPROTOTYPE;
	close(fd);
	return listens;
}

/* LOG_NDELAY: connected once, now, rather than at the first line. */
static void log_look_for_syslog(void)
{
	log_syslog = log_syslog_listens();
	openlog("attestd", LOG_PID | (log_syslog ? LOG_NDELAY : 0), LOG_DAEMON);
	if (!log_syslog)
		log_look_at = log_now() + LOG_LOOK_AGAIN_S;
}

void log_open(bool mirror_to_stderr)
{
	log_mirror = mirror_to_stderr;
	log_look_for_syslog();
}

void log_close(void)
{
	closelog();
	log_syslog = false;
	log_look_at = 0;
}

static void log_emit(int priority, const char *level, const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	if (!log_syslog && log_now() >= log_look_at)
		log_look_for_syslog();
	if (log_syslog)
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
