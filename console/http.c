/*
 * http - the console's server: libmicrohttpd, one thread per connection
 * (a request may wait on PostgreSQL; the pages are few and people few).
 *
 * Who may do what is PostgreSQL's answer: each request carries HTTP Basic
 * credentials and reads through a connection opened as that person (the
 * [database] conninfo with their user and password), so pg_hba.conf,
 * password policy and role membership apply.  Connections are kept for a
 * short while (CONN_IDLE_S), keyed by the user and a salted SHA-256 of the
 * password, so that a page does not pay a login (SCRAM) per request; a
 * changed password is asked for again at once, a revoked role is seen on
 * the next request (membership is asked every time).
 *
 * Anti-forgery: the session cookie (attestd_session: random, HttpOnly,
 * SameSite=Strict, Secure under TLS) and the token of each form, an HMAC of
 * the session and the role under a key drawn at start-up; a POST needs
 * both to agree and an Origin absent or equal to our own.
 *
 * A wrong password: 401, one log line with the address (never the
 * password or the user name), and after RATE_FAILURES failures from one
 * address in RATE_WINDOW_S every further attempt from it waits
 * RATE_DELAY_MS before it is even looked at.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <unistr.h>

#include "archive.h"
#include "console.h"
#include "http.h"
#include "log.h"
#include "pipeline.h"
#include "review.h"
#include "store_console.h"
#include "xmalloc.h"

#define MAX_BODY	(64 * 1024)
#define CONN_IDLE_S	60
/* Idle connections kept (0: a login per request; measured in README). */
#ifndef CONSOLE_CONN_CACHE
#define CONSOLE_CONN_CACHE 16
#endif
#define CONN_CACHE	CONSOLE_CONN_CACHE
#define RATE_FAILURES	5
#define RATE_WINDOW_S	60
#define RATE_DELAY_MS	2000
#define RATE_SLOTS	256
#define SESSION_HEX	64

struct cached_conn {
	char user[64];
	unsigned char pw_hash[32];
	struct store *st;
	time_t last_used;
};

struct rate_slot {
	char addr[64];
	time_t window_start;
	int failures;
};

struct console_app {
	const struct config *cfg;
	struct MHD_Daemon *mhd;
	bool tls;
	unsigned char key[32];		/* HMAC key of the anti-forgery tokens */
	unsigned char salt[16];		/* of the cached passwords' hashes */
	pthread_mutex_t lock;		/* the caches and the service connection */
	struct cached_conn cache[CONN_CACHE + 1];
	size_t n_cache;
	struct rate_slot rates[RATE_SLOTS];
	struct store *service;		/* the daemon's role: decisions, healthz */
	char months_for[8];		/* console_months_*: the month they were counted in */
	time_t months_at;
	struct console_month months[CONSOLE_MONTHS];
	size_t n_months;
	struct pipeline *pipeline;
};

/* One request's state across the handler's calls. */
struct request {
	char *body;
	size_t len;
	bool too_big;
	struct timespec started;
};

const char *console_archive(const struct console_app *app)
{
	return app->cfg->archive;
}

/* --- small helpers --------------------------------------------------------------------- */

static void hex(const unsigned char *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void client_addr(struct MHD_Connection *c, char out[64])
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(out, 64, "local");
	if (ci == NULL || ci->client_addr == NULL)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, 64);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
			  64);
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
		: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* application/x-www-form-urlencoded, decoded in place ('+' is a space). */
static void form_decode(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (*p == '+') {
			*o++ = ' ';
		} else if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
			*o++ = (char)(hexval(p[1]) * 16 + hexval(p[2]));
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
}

static void form_parse(struct http_req *r, char *body)
{
	for (char *save = NULL, *kv = strtok_r(body, "&", &save); kv;
	     kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		if (eq)
			*eq++ = '\0';
		form_decode(kv);
		if (eq)
			form_decode(eq);
		r->form_keys = xreallocarray(r->form_keys, r->n_form + 1, sizeof(char *));
		r->form_values = xreallocarray(r->form_values, r->n_form + 1, sizeof(char *));
		r->form_keys[r->n_form] = kv;
		r->form_values[r->n_form] = eq ? eq : kv + strlen(kv);
		r->n_form++;
	}
}

const char *http_query(const struct http_req *r, const char *name)
{
	const char *v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
	return v && *v ? v : NULL;
}

const char *http_form(const struct http_req *r, const char *name)
{
	for (size_t i = 0; i < r->n_form; i++)
		if (strcmp(r->form_keys[i], name) == 0)
			return r->form_values[i];
	return NULL;
}

/* --- responses ------------------------------------------------------------------------- */

void http_page(struct http_resp *out, struct html *page)
{
	out->status = 200;
	out->content_type = "text/html; charset=utf-8";
	out->body = html_render(page, &out->len);
	html_free(page);
}

void http_error(struct http_resp *out, int status, const char *message)
{
	struct html *h = html_new(message);
	html_node *main = html_el(html_body(h), "main", NULL);
	html_elf(main, "h1", "Erreur %d", status);
	html_el(main, "p", message);
	html_link(html_el(main, "p", NULL), "/", "Retour au tableau de bord");
	http_page(out, h);
	out->status = status;
}

void http_redirect(struct http_resp *out, const char *location)
{
	out->status = 303;
	out->content_type = "text/plain; charset=utf-8";
	out->body = xstrdup("");
	out->len = 0;
	out->location = xstrdup(location);
}

void http_bytes(struct http_resp *out, const char *type, unsigned char *bytes, size_t len,
		const char *filename)
{
	out->status = 200;
	out->content_type = type;
	out->body = (char *)bytes;
	out->len = len;
	out->disposition = xasprintf("inline; filename=\"%s\"", filename);
}

void http_text(struct http_resp *out, const char *type, char *text)
{
	out->status = 200;
	out->content_type = type;
	out->body = text;
	out->len = strlen(text);
}

/* Every response's headers (spec/console.md); personal pages no-store. */
static void security_headers(struct MHD_Response *resp, bool personal)
{
	MHD_add_response_header(resp, "Content-Security-Policy", "default-src 'self'");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (personal)
		MHD_add_response_header(resp, "Cache-Control", "no-store");
}

/* --- the person's connection ----------------------------------------------------------- */

static void pw_hash(const struct console_app *app, const char *password, unsigned char out[32])
{
	unsigned int n = 32;
	HMAC(EVP_sha256(), app->salt, sizeof(app->salt), (const unsigned char *)password,
	     strlen(password), out, &n);
}

/* A cached connection of that user with that password, or a new one. */
static struct store *person_connect(struct console_app *app, const char *user,
				    const char *password, enum store_status *why)
{
	unsigned char h[32];
	pw_hash(app, password, h);
	time_t now = time(NULL);
	struct store *st = NULL;
	pthread_mutex_lock(&app->lock);
	for (size_t i = 0; i < app->n_cache; i++) {
		struct cached_conn *c = &app->cache[i];
		if (strcmp(c->user, user) == 0 && CRYPTO_memcmp(c->pw_hash, h, 32) == 0 &&
		    now - c->last_used < CONN_IDLE_S) {
			st = c->st;
			app->cache[i] = app->cache[--app->n_cache];
			break;
		}
	}
	pthread_mutex_unlock(&app->lock);
	if (st) {
		*why = STORE_OK;
		return st;
	}
	char *err = NULL;
	st = store_console_connect_as(app->cfg->conninfo, user, password, why, &err);
	if (st == NULL && *why != STORE_INVALID)
		log_error("action=console-connect outcome=error error=\"%s\"", err);
	free(err);
	if (st && store_console_session(st, app->cfg->timezone, &err) != STORE_OK) {
		log_error("action=console-connect outcome=error error=\"%s\"", err);
		free(err);
		store_free(st);
		*why = STORE_UNAVAILABLE;
		return NULL;
	}
	return st;
}

/* Back to the cache (dropping the idle ones), or closed. */
static void person_release(struct console_app *app, const char *user, const char *password,
			   struct store *st, bool healthy)
{
	if (st == NULL)
		return;
	time_t now = time(NULL);
	struct store *drop[CONN_CACHE + 1];
	size_t n_drop = 0;
	pthread_mutex_lock(&app->lock);
	for (size_t i = 0; i < app->n_cache;) {
		if (now - app->cache[i].last_used >= CONN_IDLE_S) {
			drop[n_drop++] = app->cache[i].st;
			app->cache[i] = app->cache[--app->n_cache];
		} else {
			i++;
		}
	}
	if (healthy && app->n_cache < CONN_CACHE && strlen(user) < sizeof(app->cache[0].user)) {
		struct cached_conn *c = &app->cache[app->n_cache++];
		snprintf(c->user, sizeof(c->user), "%s", user);
		pw_hash(app, password, c->pw_hash);
		c->st = st;
		c->last_used = now;
		st = NULL;
	}
	pthread_mutex_unlock(&app->lock);
	store_free(st);
	for (size_t i = 0; i < n_drop; i++)
		store_free(drop[i]);
}

/* --- the slow-down --------------------------------------------------------------------- */

static struct rate_slot *rate_slot(struct console_app *app, const char *addr, time_t now)
{
	struct rate_slot *oldest = &app->rates[0];
	for (size_t i = 0; i < RATE_SLOTS; i++) {
		struct rate_slot *s = &app->rates[i];
		if (strcmp(s->addr, addr) == 0)
			return s;
		if (s->window_start < oldest->window_start)
			oldest = s;
	}
	(void)now;
	memset(oldest, 0, sizeof(*oldest));
	snprintf(oldest->addr, sizeof(oldest->addr), "%s", addr);
	return oldest;
}

static bool rate_limited(struct console_app *app, const char *addr)
{
	time_t now = time(NULL);
	pthread_mutex_lock(&app->lock);
	struct rate_slot *s = rate_slot(app, addr, now);
	bool limited = now - s->window_start < RATE_WINDOW_S && s->failures >= RATE_FAILURES;
	pthread_mutex_unlock(&app->lock);
	return limited;
}

static int rate_failure(struct console_app *app, const char *addr)
{
	time_t now = time(NULL);
	pthread_mutex_lock(&app->lock);
	struct rate_slot *s = rate_slot(app, addr, now);
	if (now - s->window_start >= RATE_WINDOW_S) {
		s->window_start = now;
		s->failures = 0;
	}
	int n = ++s->failures;
	pthread_mutex_unlock(&app->lock);
	return n;
}

/* --- sessions and anti-forgery --------------------------------------------------------- */

static bool session_valid(const char *s)
{
	return s && strlen(s) == SESSION_HEX && strspn(s, "0123456789abcdef") == SESSION_HEX;
}

static void csrf_token(const struct console_app *app, const char *session, const char *role,
		       char out[65])
{
	unsigned char md[32];
	unsigned int n = 32;
	char *msg = xasprintf("%s\n%s", session, role);
	HMAC(EVP_sha256(), app->key, sizeof(app->key), (const unsigned char *)msg, strlen(msg), md,
	     &n);
	free(msg);
	hex(md, 32, out);
}

/* Origin absent, or ours: the Host asked for, over https (under TLS, or
 * behind a TLS proxy on loopback that passes Host on) or, without TLS,
 * plain http.  Any other site's page has another host. */
static bool origin_ok(const struct console_app *app, struct MHD_Connection *c)
{
	const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	if (origin == NULL)
		return true;
	/* Our pages go with Referrer-Policy: no-referrer, so a browser sends
	 * "Origin: null" with their own forms (Fetch: serializing a request
	 * origin); Sec-Fetch-Site, which no page can set, then tells whether
	 * the form was ours.  The token is checked all the same. */
	if (strcmp(origin, "null") == 0) {
		const char *site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
		return site != NULL && strcmp(site, "same-origin") == 0;
	}
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	if (host == NULL)
		return false;
	char *https = xasprintf("https://%s", host), *http = xasprintf("http://%s", host);
	bool ok = strcmp(origin, https) == 0 || (!app->tls && strcmp(origin, http) == 0);
	free(https);
	free(http);
	return ok;
}

/* --- the dashboard's closed months ------------------------------------------------------ */

#define MONTHS_TTL_S 300

bool console_months_get(struct console_app *app, const char *this_month,
			struct console_month out[static CONSOLE_MONTHS], size_t *n)
{
	pthread_mutex_lock(&app->lock);
	bool hit = strcmp(app->months_for, this_month) == 0 &&
		   time(NULL) - app->months_at < MONTHS_TTL_S;
	if (hit) {
		memcpy(out, app->months, sizeof(app->months));
		*n = app->n_months;
	}
	pthread_mutex_unlock(&app->lock);
	return hit;
}

void console_months_put(struct console_app *app, const char *this_month,
			const struct console_month *in, size_t n)
{
	pthread_mutex_lock(&app->lock);
	snprintf(app->months_for, sizeof(app->months_for), "%s", this_month);
	app->months_at = time(NULL);
	app->n_months = n < CONSOLE_MONTHS ? n : CONSOLE_MONTHS;
	memcpy(app->months, in, app->n_months * sizeof(*in));
	pthread_mutex_unlock(&app->lock);
}

/* --- decisions -------------------------------------------------------------------------- */

int console_decide(struct console_app *app, int64_t id, bool accept, const char *by,
		   const char *note, char **err)
{
	struct pipeline_review rv;
	enum store_status rc = STORE_UNAVAILABLE;
	pthread_mutex_lock(&app->lock);
	if (app->service && !store_ok(app->service)) {
		pipeline_free(app->pipeline);
		app->pipeline = NULL;
	}
	if (app->service == NULL)
		app->service = store_connect(app->cfg->conninfo, err);
	/* The receipt is built and signed in the decision's transaction, as
	 * `review accept` does (so with the receipt key); its file is written
	 * to the outbox by the daemon's next pass, never by the console. */
	if (app->service && app->pipeline == NULL)
		app->pipeline = pipeline_new(app->cfg, app->service, false, err);
	if (app->service && app->pipeline)
		rc = review_apply(app->pipeline, app->service, id, accept, by, note, &rv, err);
	pthread_mutex_unlock(&app->lock);
	if (rc == STORE_OK)
		log_info("action=review.%s id=%" PRId64 " approval=%s number=%s decision=%s by=%s "
			 "via=console", accept ? "accept" : "reject", id, rv.approval, rv.number,
			 rules_decision_name(rv.outcome.decision), by);
	return rc;
}

static int schema_version(struct console_app *app, int *version)
{
	char *err = NULL;
	enum store_status rc = STORE_UNAVAILABLE;
	pthread_mutex_lock(&app->lock);
	if (app->service == NULL)
		app->service = store_connect(app->cfg->conninfo, &err);
	if (app->service && store_ok(app->service))
		rc = store_console_schema_version(app->service, version, &err);
	pthread_mutex_unlock(&app->lock);
	free(err);
	return rc;
}

/* --- routing ---------------------------------------------------------------------------- */

static bool all_digits(const char *s, size_t max)
{
	size_t n = strlen(s);
	return n > 0 && n <= max && strspn(s, "0123456789") == n;
}

static bool id_parse(const char *s, int64_t *id)
{
	if (!all_digits(s, 18))
		return false;
	*id = strtoll(s, NULL, 10);
	return *id > 0;
}

/* Splits path into at most max segments (in buf); returns the count, or
 * -1 when there are more. */
static int segments(const char *path, char *buf, size_t size, char **seg, int max)
{
	snprintf(buf, size, "%s", path);
	int n = 0;
	for (char *save = NULL, *s = strtok_r(buf, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
		if (n == max)
			return -1;
		seg[n++] = s;
	}
	return n;
}

static bool name_ok(const char *s, size_t max)
{
	static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
	size_t n = strlen(s);
	return n > 0 && n <= max && strspn(s, ok) == n && strcmp(s, ".") && strcmp(s, "..");
}

static void route(struct http_req *r, struct http_resp *out)
{
	char buf[1024], *seg[5];
	int n = segments(r->path, buf, sizeof(buf), seg, 5);
	bool get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
	bool post = strcmp(r->method, "POST") == 0;
	int64_t id;
	if (n < 0 || strlen(r->path) >= sizeof(buf)) {
		http_error(out, 404, "Page introuvable.");
		return;
	}
	if (n == 0 && get) {
		pages_dashboard(r, out);
	} else if (n == 1 && get && strcmp(seg[0], "files") == 0) {
		pages_files(r, out);
	} else if (n >= 2 && n <= 3 && get && strcmp(seg[0], "files") == 0) {
		if (!id_parse(seg[1], &id))
			http_error(out, 400, "Identifiant de fichier invalide.");
		else if (n == 2)
			pages_file(r, out, id);
		else if (strcmp(seg[2], "original") == 0)
			pages_file_original(r, out, id);
		else
			http_error(out, 404, "Page introuvable.");
	} else if (n == 1 && get && strcmp(seg[0], "review") == 0) {
		pages_review_list(r, out);
	} else if (n == 2 && strcmp(seg[0], "review") == 0 && (get || post)) {
		if (!id_parse(seg[1], &id))
			http_error(out, 400, "Identifiant d'attestation invalide.");
		else if (post)
			pages_review_post(r, out, id);
		else
			pages_review_item(r, out, id);
	} else if (n == 4 && get && strcmp(seg[0], "review") == 0 && strcmp(seg[2], "scans") == 0) {
		/* Anything but a visible scan's hash is "not found", also a path. */
		if (!id_parse(seg[1], &id))
			http_error(out, 404, "Document introuvable.");
		else
			pages_review_scan(r, out, id, seg[3]);
	} else if (n == 2 && get && strcmp(seg[0], "licences") == 0) {
		pages_licence(r, out, seg[1]);
	} else if (n == 3 && get && strcmp(seg[0], "stages") == 0) {
		if (!name_ok(seg[1], 16) || !name_ok(seg[2], 64))
			http_error(out, 400, "Agrément ou référence de stage invalide.");
		else
			pages_stage(r, out, seg[1], seg[2]);
	} else if (n == 2 && get && strcmp(seg[0], "centres") == 0) {
		if (!name_ok(seg[1], 16))
			http_error(out, 400, "Numéro d'agrément invalide.");
		else
			pages_centre(r, out, seg[1]);
	} else if (n == 2 && get && strcmp(seg[0], "reports") == 0 &&
		   strcmp(seg[1], "monthly") == 0) {
		pages_monthly(r, out);
	} else if (n == 2 && get && strcmp(seg[0], "reports") == 0 &&
		   strcmp(seg[1], "monthly.csv") == 0) {
		pages_monthly_csv(r, out);
	} else if (n >= 1 && !get && !post) {
		http_error(out, 405, "Méthode non admise.");
	} else {
		http_error(out, 404, "Page introuvable.");
	}
}

/* --- the handler ------------------------------------------------------------------------ */

static enum MHD_Result respond(struct MHD_Connection *c, struct http_resp *out, bool personal,
			    const char *set_cookie, bool auth_fail)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(out->len, out->body, MHD_RESPMEM_MUST_FREE);
	out->body = NULL;
	security_headers(resp, personal);
	MHD_add_response_header(resp, "Content-Type", out->content_type);
	if (out->location)
		MHD_add_response_header(resp, "Location", out->location);
	if (out->disposition)
		MHD_add_response_header(resp, "Content-Disposition", out->disposition);
	if (set_cookie)
		MHD_add_response_header(resp, "Set-Cookie", set_cookie);
	enum MHD_Result r = auth_fail ? MHD_queue_basic_auth_fail_response(c, "attestd", resp)
				      : MHD_queue_response(c, (unsigned)out->status, resp);
	MHD_destroy_response(resp);
	free(out->location);
	free(out->disposition);
	return r;
}

/* A request's path as the log may show it: printable, no blanks, bounded
 * (it comes from the client: no line of ours may be forged through it). */
static void log_path(const char *url, char out[201])
{
	size_t i = 0;
	for (; url[i] && i < 200; i++) {
		unsigned char ch = (unsigned char)url[i];
		out[i] = ch <= 0x20 || ch >= 0x7f || ch == '"' || ch == '=' ? '?' : (char)ch;
	}
	out[i] = '\0';
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000L + (t1.tv_nsec - t0->tv_nsec) / 1000000L;
}

static enum MHD_Result query_utf8(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	bool *ok = cls;
	(void)kind;
	if (u8_check((const uint8_t *)key, strlen(key)) != NULL ||
	    (value && u8_check((const uint8_t *)value, strlen(value)) != NULL)) {
		*ok = false;
		return MHD_NO;
	}
	return MHD_YES;
}

static enum MHD_Result handle(struct console_app *app, struct MHD_Connection *c,
			      const char *url, const char *method, struct request *rq)
{
	struct http_resp out = { .status = 500, .content_type = "text/plain; charset=utf-8" };
	char addr[64];
	client_addr(c, addr);

	if (strcmp(url, "/healthz") == 0) {
		int version = 0;
		if (schema_version(app, &version) == STORE_OK) {
			http_text(&out, "text/plain; charset=utf-8", xasprintf("ok %d\n", version));
		} else {
			http_text(&out, "text/plain; charset=utf-8", xstrdup("unavailable\n"));
			out.status = 503;
		}
		return respond(c, &out, false, NULL, false);
	}
	if (strcmp(url, "/static/console.css") == 0) {
		http_text(&out, "text/css; charset=utf-8", xstrdup(console_css));
		return respond(c, &out, false, NULL, false);
	}

	/* A person, then what PostgreSQL lets them do. */
	if (rate_limited(app, addr)) {
		struct timespec pause = { RATE_DELAY_MS / 1000, (RATE_DELAY_MS % 1000) * 1000000L };
		/* Said, so that an operator (and a test) sees the slow-down. */
		log_warn("action=console-login-delayed addr=%s delay_ms=%d", addr, RATE_DELAY_MS);
		nanosleep(&pause, NULL);
	}
	char *pass = NULL;
	char *user = MHD_basic_auth_get_username_password(c, &pass);
	struct store *st = NULL;
	enum store_status why = STORE_INVALID;
	if (user && pass && *user && strlen(user) < 64 && strlen(pass) < 1024)
		st = person_connect(app, user, pass, &why);
	if (st == NULL) {
		bool refused = why == STORE_INVALID;
		if (refused && user) {
			int n = rate_failure(app, addr);
			log_warn("action=console-login outcome=refused addr=%s failures=%d", addr, n);
		}
		http_error(&out, refused ? 401 : 503, refused
			   ? "Identifiant ou mot de passe refusé par la base de données."
			   : "La base de données est indisponible ; réessayez dans un moment.");
		enum MHD_Result r = respond(c, &out, true, NULL, refused);
		MHD_free(user);
		MHD_free(pass);
		return r;
	}
	char role[64];
	bool auditor = false, reviewer = false;
	char *err = NULL;
	bool healthy = true;
	char *set_cookie = NULL;
	struct http_req r = { .method = method, .path = url, .conn = c, .app = app,
			      .cfg = app->cfg, .st = st };
	if (store_console_whoami(st, role, &auditor, &reviewer, &err) != STORE_OK) {
		healthy = false;
		http_error(&out, 503, "La base de données est indisponible ; réessayez.");
		goto done;
	}
	r.role = role;
	r.reviewer = reviewer;
	if (!auditor) {
		http_error(&out, 403, "Votre rôle PostgreSQL n'est pas membre de attestd_auditor : "
			   "demandez l'accès à l'administrateur de la base.");
		goto done;
	}
	const char *cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "attestd_session");
	char session[SESSION_HEX + 1], csrf[65];
	if (session_valid(cookie)) {
		snprintf(session, sizeof(session), "%s", cookie);
	} else {
		unsigned char b[SESSION_HEX / 2];
		if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
			log_panic("action=console-session error=\"getrandom: %s\"", strerror(errno));
		hex(b, sizeof(b), session);
		set_cookie = xasprintf("attestd_session=%s; Path=/; HttpOnly; SameSite=Strict%s",
				       session, app->tls ? "; Secure" : "");
	}
	csrf_token(app, session, role, csrf);
	r.csrf = csrf;
	if (strcmp(method, "POST") == 0) {
		if (rq->too_big) {
			http_error(&out, 413, "Formulaire trop volumineux.");
			goto done;
		}
		rq->body = xrealloc(rq->body, rq->len + 1);
		rq->body[rq->len] = '\0';
		form_parse(&r, rq->body);
		const char *token = http_form(&r, "csrf");
		/* A token from another session (or none) or a foreign page. */
		if (cookie == NULL || !session_valid(cookie) || token == NULL ||
		    strlen(token) != 64 || CRYPTO_memcmp(token, csrf, 64) != 0 || !origin_ok(app, c)) {
			char lp[201];
			log_path(url, lp);
			log_warn("action=console-post outcome=forbidden addr=%s path=%s "
				 "reason=anti-forgery", addr, lp);
			http_error(&out, 403, "Requête refusée : jeton anti-falsification ou origine "
				   "invalide. Rechargez la page et recommencez.");
			goto done;
		}
	}
	/* PostgreSQL refuses text that is not UTF-8: a parameter's bytes are
	 * checked here, so that they make a 400, not a failed query's 500. */
	bool utf8 = true;
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_utf8, &utf8);
	if (!utf8)
		http_error(&out, 400, "Paramètre invalide : le texte doit être de l'UTF-8.");
	else
		route(&r, &out);
	/* Only an idle, live connection goes back to the cache. */
	healthy = store_console_alive(st);
done:;
	char lp[201], lr[201];
	log_path(url, lp);
	log_path(r.role ? r.role : "-", lr);
	log_info("action=console-request method=%s path=%s status=%d role=%s ms=%ld", method, lp,
		 out.status, lr, elapsed_ms(&rq->started));
	free(err);
	free(r.form_keys);
	free(r.form_values);
	person_release(app, user, pass, st, healthy);
	enum MHD_Result res = respond(c, &out, true, set_cookie, false);
	free(set_cookie);
	MHD_free(user);
	MHD_free(pass);
	return res;
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *c, const char *url,
				      const char *method, const char *version,
				      const char *upload, size_t *upload_size, void **con_cls)
{
	(void)version;
	struct console_app *app = cls;
	struct request *rq = *con_cls;
	if (rq == NULL) {
		rq = xcalloc(1, sizeof(*rq));
		clock_gettime(CLOCK_MONOTONIC, &rq->started);
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (!rq->too_big && rq->len + *upload_size <= MAX_BODY) {
			rq->body = xrealloc(rq->body, rq->len + *upload_size + 1);
			memcpy(rq->body + rq->len, upload, *upload_size);
			rq->len += *upload_size;
		} else {
			rq->too_big = true;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	return handle(app, c, url, method, rq);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	struct request *rq = *con_cls;
	if (rq) {
		free(rq->body);
		free(rq);
	}
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_warn("action=console-http detail=\"%s\"", msg);
}

static int hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* libmicrohttpd's own unescaping turns %00 into a NUL that ends the C
 * string: /review/%00/scans/X reached route() as /review/ and answered
 * another page.  Ours decodes every %XX but %00, which stays as written, so
 * no path or parameter is ever cut short: a '%' matches no route and no
 * parameter's syntax, and the request is refused as what it is. */
static size_t unescape_keeping_nul(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	char *w = s;
	for (const char *r = s; *r; r++) {
		int hi, lo;
		if (r[0] == '%' && (hi = hex_value(r[1])) >= 0 && (lo = hex_value(r[2])) >= 0 &&
		    (hi | lo) != 0) {
			*w++ = (char)(hi * 16 + lo);
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

struct console_app *http_start(const struct config *cfg, int listen_fd, const char *cert,
			       const char *key, char **err)
{
	struct console_app *app = xcalloc(1, sizeof(*app));
	app->cfg = cfg;
	app->tls = cert != NULL;
	pthread_mutex_init(&app->lock, NULL);
	if (getrandom(app->key, sizeof(app->key), 0) != (ssize_t)sizeof(app->key) ||
	    getrandom(app->salt, sizeof(app->salt), 0) != (ssize_t)sizeof(app->salt)) {
		*err = xasprintf("getrandom: %s", strerror(errno));
		free(app);
		return NULL;
	}
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
			 MHD_USE_ERROR_LOG | (app->tls ? MHD_USE_TLS : 0);
	if (app->tls)
		app->mhd = MHD_start_daemon(flags, 0, NULL, NULL, access_handler, app,
					    MHD_OPTION_LISTEN_SOCKET, listen_fd,
					    MHD_OPTION_NOTIFY_COMPLETED, completed, app,
					    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, app,
					    MHD_OPTION_UNESCAPE_CALLBACK, unescape_keeping_nul, app,
					    MHD_OPTION_CONNECTION_LIMIT, 64u,
					    MHD_OPTION_CONNECTION_TIMEOUT, 30u,
					    MHD_OPTION_HTTPS_MEM_CERT, cert,
					    MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
	else
		app->mhd = MHD_start_daemon(flags, 0, NULL, NULL, access_handler, app,
					    MHD_OPTION_LISTEN_SOCKET, listen_fd,
					    MHD_OPTION_NOTIFY_COMPLETED, completed, app,
					    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, app,
					    MHD_OPTION_UNESCAPE_CALLBACK, unescape_keeping_nul, app,
					    MHD_OPTION_CONNECTION_LIMIT, 64u,
					    MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
	if (app->mhd == NULL) {
		*err = xstrdup(app->tls ? "cannot start the HTTPS server (check tls_cert and tls_key)"
				       : "cannot start the HTTP server");
		pthread_mutex_destroy(&app->lock);
		free(app);
		return NULL;
	}
	return app;
}

void http_stop(struct console_app *app)
{
	if (app == NULL)
		return;
	MHD_stop_daemon(app->mhd);
	for (size_t i = 0; i < app->n_cache; i++)
		store_free(app->cache[i].st);
	pipeline_free(app->pipeline);
	store_free(app->service);
	pthread_mutex_destroy(&app->lock);
	free(app);
}
