/*
 * http - the console's HTTP server (libmicrohttpd): authentication as the
 * person's own PostgreSQL role, sessions, anti-forgery, the slow-down,
 * the security headers, routing to the pages (console.h).
 */
#ifndef ATTESTD_HTTP_H
#define ATTESTD_HTTP_H

#include "config.h"

struct console_app;

/* Serves on listen_fd (bound and listening; MHD closes it at stop).  cert
 * and key: PEM text for TLS, NULL for plain HTTP.  cfg is borrowed until
 * http_stop.  NULL and *err when the server cannot start. */
struct console_app *http_start(const struct config *cfg, int listen_fd, const char *cert,
			       const char *key, char **err);
void http_stop(struct console_app *app);

#endif
