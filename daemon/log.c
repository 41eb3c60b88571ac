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
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/types.h>
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

/* A value between double quotes: \ and " escaped, control characters
 * (a newline would start a forged line) written as \n, \r, \t, \xHH. */
static void log_quoted(FILE *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\r')
			fputs("\\r", out);
		else if (*p == '\t')
			fputs("\\t", out);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
}

/*
 * printf, except that a %s written between double quotes in the format
 * (key=\"%s\") is a value from outside (a database or libxml2 message, a
 * file name): escaped, so that no message can end the value and forge a
 * key=value after it.  Takes the conversions -Wformat lets through.
 */
static void log_vformat(FILE *out, const char *fmt, va_list ap)
{
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			fputc(*p, out);
			continue;
		}
		const char *start = p++;
		if (*p == '%') {
			fputc('%', out);
			continue;
		}
		int star[2], n_star = 0;
		p += strspn(p, "-+ #0");
		if (*p == '*') {
			star[n_star++] = va_arg(ap, int);
			p++;
		}
		p += strspn(p, "0123456789");
		if (*p == '.') {
			p++;
			if (*p == '*') {
				star[n_star++] = va_arg(ap, int);
				p++;
			}
			p += strspn(p, "0123456789");
		}
		char len[3] = "";
		size_t n_len = strspn(p, "hljztL");
		if (n_len > 2)
			n_len = 2;
		memcpy(len, p, n_len);
		p += n_len;
		char spec[32];
		size_t n_spec = (size_t)(p - start) + 1;
		if (n_spec >= sizeof(spec) || *p == '\0')
			return;		/* not a format -Wformat accepts */
		memcpy(spec, start, n_spec);
		spec[n_spec] = '\0';
		bool quoted = *p == 's' && start > fmt && start[-1] == '"' && p[1] == '"';
#define LOG_ARG(type) do { type v_ = va_arg(ap, type); \
		if (n_star == 2) fprintf(out, spec, star[0], star[1], v_); \
		else if (n_star == 1) fprintf(out, spec, star[0], v_); \
		else fprintf(out, spec, v_); } while (0)
		switch (*p) {
		case 'd': case 'i':
			if (strcmp(len, "l") == 0) LOG_ARG(long);
			else if (strcmp(len, "ll") == 0) LOG_ARG(long long);
			else if (strcmp(len, "z") == 0) LOG_ARG(ssize_t);
			else if (strcmp(len, "j") == 0) LOG_ARG(intmax_t);
			else if (strcmp(len, "t") == 0) LOG_ARG(ptrdiff_t);
			else LOG_ARG(int);
			break;
		case 'u': case 'x': case 'X': case 'o':
			if (strcmp(len, "l") == 0) LOG_ARG(unsigned long);
			else if (strcmp(len, "ll") == 0) LOG_ARG(unsigned long long);
			else if (strcmp(len, "z") == 0) LOG_ARG(size_t);
			else if (strcmp(len, "j") == 0) LOG_ARG(uintmax_t);
			else if (strcmp(len, "t") == 0) LOG_ARG(ptrdiff_t);
			else LOG_ARG(unsigned);
			break;
		case 'c':
			LOG_ARG(int);
			break;
		case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': case 'a': case 'A':
			if (strcmp(len, "L") == 0) LOG_ARG(long double);
			else LOG_ARG(double);
			break;
		case 'p':
			LOG_ARG(void *);
			break;
		case 's':
			if (!quoted) {
				LOG_ARG(const char *);
				break;
			}
			/* Width and precision first, escaping after. */
			char *value = NULL;
			size_t size = 0;
			FILE *mem = open_memstream(&value, &size);
			if (mem == NULL)
				return;
			FILE *real = out;
			out = mem;
			LOG_ARG(const char *);
			out = real;
			fclose(mem);
			log_quoted(out, value);
			free(value);
			break;
		default:
			return;		/* %n and the like: never ours */
		}
#undef LOG_ARG
	}
}

static void log_emit(int priority, const char *level, const char *fmt, va_list ap)
{
	char *line = NULL;
	size_t size = 0;
	FILE *mem = open_memstream(&line, &size);
	if (mem == NULL)
		return;
	log_vformat(mem, fmt, ap);
	fclose(mem);
	if (!log_syslog && log_now() >= log_look_at)
		log_look_for_syslog();
	if (log_syslog)
		syslog(priority, "%s", line);
	if (log_mirror)
		fprintf(stderr, "attestd: level=%s %s\n", level, line);
	free(line);
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
