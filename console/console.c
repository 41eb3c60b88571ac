/*
 * console - `attestd console`: checks [console], opens the listening
 * socket, starts the server (http.c), tells systemd it is ready and waits
 * for SIGTERM.  See console.h.
 *
 * Plain HTTP is only for a loopback address or a UNIX socket (a reverse
 * proxy on the same host); anything else without tls_cert and tls_key is a
 * configuration error (exit 3): credentials never cross a network in clear.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "console.h"
#include "exitcode.h"
#include "http.h"
#include "log.h"
#include "xmalloc.h"

#define TLS_MAX_FILE	(256 * 1024)

static bool loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	}
	return false;
}

/* "host:port", "[v6]:port": resolved numerically (no DNS at start-up). */
static int parse_listen(const char *listen, struct addrinfo **ai, char **err)
{
	char host[256], port[16];
	const char *colon = strrchr(listen, ':');
	if (colon == NULL || colon == listen || strlen(colon + 1) == 0 ||
	    strlen(colon + 1) >= sizeof(port) || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    (size_t)(colon - listen) >= sizeof(host)) {
		*err = xasprintf("\"%s\" is not host:port nor an absolute socket path", listen);
		return -1;
	}
	const char *h = listen;
	size_t hl = (size_t)(colon - listen);
	if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, sizeof(port), "%s", colon + 1);
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE };
	int rc = getaddrinfo(host, port, &hints, ai);
	if (rc != 0) {
		*err = xasprintf("\"%s\": %s (give a numeric address and port)", listen,
				 gai_strerror(rc));
		return -1;
	}
	return 0;
}

static char *read_pem(const char *path, char **err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > TLS_MAX_FILE) {
		*err = xasprintf("%s: %s", path, fd < 0 ? strerror(errno) : "not a PEM file");
		goto out;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	ssize_t n = read(fd, buf, (size_t)st.st_size);
	if (n != st.st_size) {
		*err = xasprintf("%s: cannot read", path);
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = '\0';
out:
	if (fd >= 0)
		close(fd);
	return buf;
}

static int listen_unix(const char *path, char **err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sun.sun_path)) {
		*err = xasprintf("%s: socket path too long", path);
		return -1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	struct stat st;
	/* A socket left by a previous run; never anything else. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    chmod(path, 0660) != 0 || listen(fd, 64) != 0) {
		*err = xasprintf("%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int listen_inet(const struct addrinfo *ai, char **err, const char *what)
{
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0) {
		*err = xasprintf("%s: %s", what, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Start-up failures: the log, and the terminal of whoever started it. */
static void start_error(bool foreground, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void start_error(bool foreground, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	log_error("%s", msg);
	if (!foreground)
		fprintf(stderr, "attestd: %s\n", msg);
	free(msg);
}

int console_main(struct config *cfg, bool foreground)
{
	char *err = NULL, *cert = NULL, *key = NULL;
	struct addrinfo *ai = NULL;
	struct console_app *app = NULL;
	int status = 0, fd = -1;
	const char *listen = cfg->console_listen;
	bool unix_socket = listen[0] == '/';
	bool tls = cfg->console_tls_cert || cfg->console_tls_key;

	if (!cfg->console_tls_cert != !cfg->console_tls_key) {
		start_error(foreground, "action=console-start outcome=config-error config=%s error=\"[console] "
			  "tls_cert and tls_key go together: set both or neither\"", cfg->path);
		status = EXIT_CONFIG;
		goto out;
	}
	if (!unix_socket && parse_listen(listen, &ai, &err) != 0) {
		start_error(foreground, "action=console-start outcome=config-error config=%s error=\"[console] "
			  "listen: %s\"", cfg->path, err);
		status = EXIT_CONFIG;
		goto out;
	}
	if (!unix_socket && !tls && !loopback(ai->ai_addr)) {
		start_error(foreground, "action=console-start outcome=config-error config=%s error=\"[console] "
			  "listen = %s is not a loopback address: set tls_cert and tls_key, or listen "
			  "on 127.0.0.1 or a UNIX socket behind a TLS proxy\"", cfg->path, listen);
		status = EXIT_CONFIG;
		goto out;
	}
	if (tls && ((cert = read_pem(cfg->console_tls_cert, &err)) == NULL ||
		    (key = read_pem(cfg->console_tls_key, &err)) == NULL)) {
		start_error(foreground, "action=console-start outcome=config-error config=%s error=\"[console] "
			  "%s\"", cfg->path, err);
		status = EXIT_CONFIG;
		goto out;
	}
	fd = unix_socket ? listen_unix(listen, &err) : listen_inet(ai, &err, listen);
	if (fd < 0) {
		start_error(foreground, "action=console-start outcome=error error=\"cannot listen on %s\" "
			  "hint=\"check [console] listen in %s\"", err, cfg->path);
		status = EXIT_ENVIRONMENT;
		goto out;
	}
	/* Signals are taken by sigwait here, never by the server's threads. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((app = http_start(cfg, fd, cert, key, &err)) == NULL) {
		start_error(foreground, "action=console-start outcome=error error=\"%s\"", err);
		close(fd);
		status = tls ? EXIT_CONFIG : EXIT_ENVIRONMENT;
		goto out;
	}
	log_info("action=console-start pid=%ld listen=%s tls=%s", (long)getpid(), listen,
		 tls ? "yes" : "no");
	sd_notify(0, "READY=1\nSTATUS=serving");
	for (;;) {
		int sig = 0;
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			/* The console keeps no state a reload would change. */
			log_info("action=console-reload detail=\"nothing to reload: restart to change "
				 "[console] or [database]\"");
			continue;
		}
		break;
	}
	sd_notify(0, "STOPPING=1");
	http_stop(app);
	log_info("action=console-stop");
out:
	if (ai)
		freeaddrinfo(ai);
	free(err);
	free(cert);
	free(key);
	return status;
}
