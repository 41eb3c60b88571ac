/*
 * console - `attestd console`: the web console of spec/console.md, a second
 * front end on the same core (store_console for reading, review_apply for
 * deciding, ledger for balances).  console_main runs the server until
 * SIGTERM.  The rest of this header is the folder's own: the request and
 * response the pages see (http.c fills them), and the pages.
 */
#ifndef ATTESTD_CONSOLE_H
#define ATTESTD_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "html.h"
#include "store.h"

/* Exit status: 0 stopped by SIGTERM; 3 configuration (listen without TLS,
 * unreadable TLS files); 4 environment (cannot listen). */
int console_main(struct config *cfg, bool foreground);

/* attestd audit report --month M: the monthly report page, self-contained
 * (the stylesheet inline), or its tables as CSV (each block headed by a
 * "# NAME" line).  A store_status; *err (allocated) on failure. */
int console_report_monthly(struct store *st, const char *month, bool csv, FILE *out,
			   char **err);

/* --- inside the console ---------------------------------------------------------- */

struct console_app;			/* http.c: the server's state */

/* What a page sees of one request; everything borrowed for the call. */
struct http_req {
	const char *method;		/* "GET" or "POST" */
	const char *path;		/* decoded, without the query */
	void *conn;			/* the MHD connection (http.c) */
	struct console_app *app;
	const struct config *cfg;
	struct store *st;		/* the person's own connection */
	const char *role;		/* their PostgreSQL role */
	bool reviewer;
	const char *csrf;		/* this session's anti-forgery token */
	/* a POST's form, decoded */
	size_t n_form;
	char **form_keys, **form_values;
};

struct http_resp {
	int status;
	const char *content_type;	/* static */
	char *body;			/* owned */
	size_t len;
	char *location;			/* 303: owned */
	char *disposition;		/* Content-Disposition: owned */
};

/* A query-string argument (NULL when absent) and a form field. */
const char *http_query(const struct http_req *r, const char *name);
const char *http_form(const struct http_req *r, const char *name);

/* Responses. */
void http_page(struct http_resp *out, struct html *page);	/* 200 text/html, frees page */
void http_error(struct http_resp *out, int status, const char *message);
void http_redirect(struct http_resp *out, const char *location);
void http_bytes(struct http_resp *out, const char *type, unsigned char *bytes, size_t len,
		const char *filename);	/* takes bytes */
void http_text(struct http_resp *out, const char *type, char *text);	/* takes text */

/* The page frame: title, the navigation, who is signed in; returns <main>. */
struct html *page_new(const struct http_req *r, const char *title, html_node **main);
/* A form posting to action with the anti-forgery field. */
html_node *page_form(const struct http_req *r, html_node *parent, const char *action);
/* A reason code: its French label and <code>code</code>. */
void page_reason(html_node *parent, const char *code);
/* A PostgreSQL text[] literal ({a,b}) shown as reasons, one per line. */
void page_reasons(html_node *parent, const char *array);
/* The subject and expiry (YYYY-MM-DD) of a certificate given as base64 DER. */
bool page_cert_info(const char *der_b64, char subject[static 256], char not_after[static 32]);
/* The French word for a decision, a file's outcome or kind, a licence
 * status (the code itself when it is none of those). */
const char *page_fr(const char *code);
/* A page's failed query: 400 for bad input, 503 unavailable, else 500. */
void page_store_error(struct http_resp *out, int store_status, const char *err);

/* The stylesheet served at /static/console.css and inlined in files. */
extern const char console_css[];

/* The decision of a reviewer on the service connection (http.c). */
int console_decide(struct console_app *app, int64_t id, bool accept, const char *by,
		   const char *note, char **err);
/* The dashboard's decisions per closed month (before this_month): counted
 * once and kept (MONTHS_TTL_S at most), since decisions are dated when
 * made and a closed month gains none; only the current month is counted
 * on each request.  Every signed-in person is an auditor and these are
 * counts of audit data, the same for all of them. */
struct console_month {
	char month[8];
	long v[3];			/* credited, no_credit, rejected */
};
#define CONSOLE_MONTHS 12
bool console_months_get(struct console_app *app, const char *this_month,
			struct console_month out[static CONSOLE_MONTHS], size_t *n);
void console_months_put(struct console_app *app, const char *this_month,
			const struct console_month *in, size_t n);

/* The archive root, for scans and originals. */
const char *console_archive(const struct console_app *app);

/* Pages: each fills out. */
void pages_dashboard(struct http_req *r, struct http_resp *out);
void pages_files(struct http_req *r, struct http_resp *out);
void pages_file(struct http_req *r, struct http_resp *out, int64_t id);
void pages_file_original(struct http_req *r, struct http_resp *out, int64_t id);
void pages_review_list(struct http_req *r, struct http_resp *out);
void pages_review_item(struct http_req *r, struct http_resp *out, int64_t id);
void pages_review_post(struct http_req *r, struct http_resp *out, int64_t id);
void pages_review_scan(struct http_req *r, struct http_resp *out, int64_t id, const char *sha);
void pages_licence(struct http_req *r, struct http_resp *out, const char *licence);
void pages_stage(struct http_req *r, struct http_resp *out, const char *approval,
		 const char *ref);
void pages_centre(struct http_req *r, struct http_resp *out, const char *approval);
void pages_monthly(struct http_req *r, struct http_resp *out);
void pages_monthly_csv(struct http_req *r, struct http_resp *out);

#endif
