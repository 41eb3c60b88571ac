/*
 * pages_reports - the monthly compliance report: volumes; decisions and
 * points; late transmissions by centre; registrations past the one-month
 * deadline (R223-8 III) and the review turnaround; rejected files by reason
 * and centre.  Each table downloadable as CSV; the page prints on A4 (the
 * stylesheet's print rules).  `attestd audit report --month M` writes the
 * same page, the stylesheet inline, or the same tables as CSV.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "console.h"
#include "report.h"
#include "store_console.h"
#include "xmalloc.h"

/* YYYY-MM, months 01-12. */
static bool month_ok(const char *m)
{
	return m && strlen(m) == 7 && strspn(m, "0123456789") == 4 && m[4] == '-' &&
	       strspn(m + 5, "0123456789") == 2 && atoi(m + 5) >= 1 && atoi(m + 5) <= 12 &&
	       atoi(m) >= 1900;
}

static void this_month(char out[8])
{
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(out, 8, "%Y-%m", &tm);
}

/* French column headers of the report's tables (the CSV keeps the SQL names). */
static const char *column_fr(const char *name)
{
	static const char *const map[][2] = {
		{ "kind", "Type" }, { "status", "Issue" }, { "files", "Fichiers" },
		{ "decision", "Décision" }, { "attestations", "Attestations" },
		{ "points", "Points" }, { "approval", "Centre" }, { "files_late", "Fichiers en retard" },
		{ "max_days_after", "Retard max. (jours après le stage)" },
		{ "max_days_overdue", "Dépassement max. (jours)" }, { "decided", "Décidées" },
		{ "avg_days", "Délai moyen (jours)" }, { "max_days", "Délai max. (jours)" },
		{ "reason", "Motif" },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i][0], name) == 0)
			return map[i][1];
	return name;
}

/* The page; NULL with *rc and *err when a query failed. */
static struct html *monthly_build(const struct http_req *r, struct store *st, const char *month,
				  int *rc, char **err)
{
	char *title = xasprintf("Rapport mensuel de conformité — %s", month);
	html_node *main;
	struct html *h = page_new(r, title, &main);
	free(title);
	html_node *p = html_el(main, "p", "Mois : ");
	html_node *m = html_el(p, "span", month);
	html_attr(m, "data-field", "month");
	if (r) {
		html_node *form = html_el(main, "form", NULL);
		html_attr(form, "method", "get");
		html_attr(form, "class", "filters");
		html_node *label = html_el(form, "label", "Mois ");
		html_node *in = html_el(label, "input", NULL);
		html_attr(in, "type", "month");
		html_attr(in, "name", "month");
		html_attr(in, "value", month);
		html_el(form, "button", "Afficher");
	}
	for (size_t i = 0; i < STORE_CONSOLE_MONTHLY_N; i++) {
		struct store_table t;
		const char *name = store_console_monthly_names[i];
		*rc = store_console_monthly(st, month, name, &t, err);
		if (*rc != STORE_OK) {
			html_free(h);
			return NULL;
		}
		html_node *sec = html_el(main, "section", NULL);
		html_el(sec, "h2", store_console_monthly_titles[i]);
		html_node *table = html_el(sec, "table", NULL);
		html_attr(table, "data-table", name);
		html_node *tr = html_el(html_el(table, "thead", NULL), "tr", NULL);
		for (size_t c = 0; c < t.n_cols; c++)
			html_el(tr, "th", column_fr(t.names[c]));
		html_node *tbody = html_el(table, "tbody", NULL);
		for (size_t row = 0; row < t.n_rows; row++) {
			tr = html_el(tbody, "tr", NULL);
			for (size_t c = 0; c < t.n_cols; c++) {
				if (strcmp(t.names[c], "reason") == 0)
					page_reason(html_td(tr, NULL), store_table_get(&t, row, c));
				else if (strcmp(t.names[c], "decision") == 0 ||
					 strcmp(t.names[c], "kind") == 0 ||
					 strcmp(t.names[c], "status") == 0)
					html_td(tr, page_fr(store_table_get(&t, row, c)));
				else
					html_td(tr, store_table_get(&t, row, c));
			}
		}
		if (t.n_rows == 0)
			html_el(sec, "p", "Rien ce mois-ci.");
		if (r) {
			char *href = xasprintf("/reports/monthly.csv?month=%s&table=%s", month, name);
			html_node *a = html_link(html_el(sec, "p", NULL), href, "Télécharger en CSV");
			html_attr(a, "class", "csv");
			free(href);
		}
		store_table_free(&t);
	}
	return h;
}

void pages_monthly(struct http_req *r, struct http_resp *out)
{
	char month[8];
	const char *q = http_query(r, "month");
	if (q && !month_ok(q)) {
		http_error(out, 400, "Paramètre month invalide : AAAA-MM.");
		return;
	}
	if (q)
		snprintf(month, sizeof(month), "%s", q);
	else
		this_month(month);
	int rc = STORE_OK;
	char *err = NULL;
	struct html *h = monthly_build(r, r->st, month, &rc, &err);
	if (h == NULL)
		page_store_error(out, rc, err);
	else
		http_page(out, h);
	free(err);
}

/* RFC 4180: every field quoted, quotes doubled. */
static void csv_field(char **buf, size_t *len, size_t *cap, const char *s, bool last)
{
	size_t need = *len + 2 * strlen(s) + 4;
	if (need > *cap) {
		*cap = need * 2;
		*buf = xrealloc(*buf, *cap);
	}
	char *o = *buf + *len;
	*o++ = '"';
	for (; *s; s++) {
		if (*s == '"')
			*o++ = '"';
		*o++ = *s;
	}
	*o++ = '"';
	if (last) {
		*o++ = '\r';
		*o++ = '\n';
	} else {
		*o++ = ',';
	}
	*o = '\0';
	*len = (size_t)(o - *buf);
}

static char *table_csv(const struct store_table *t)
{
	size_t len = 0, cap = 256;
	char *buf = xmalloc(cap);
	buf[0] = '\0';
	for (size_t c = 0; c < t->n_cols; c++)
		csv_field(&buf, &len, &cap, t->names[c], c + 1 == t->n_cols);
	for (size_t row = 0; row < t->n_rows; row++)
		for (size_t c = 0; c < t->n_cols; c++)
			csv_field(&buf, &len, &cap, store_table_get(t, row, c), c + 1 == t->n_cols);
	return buf;
}

static bool table_known(const char *name)
{
	for (size_t i = 0; i < STORE_CONSOLE_MONTHLY_N; i++)
		if (strcmp(store_console_monthly_names[i], name) == 0)
			return true;
	return false;
}

void pages_monthly_csv(struct http_req *r, struct http_resp *out)
{
	const char *month = http_query(r, "month"), *table = http_query(r, "table");
	if (!month_ok(month) || table == NULL || !table_known(table)) {
		http_error(out, 400, "Paramètres month=AAAA-MM et table=NOM requis.");
		return;
	}
	struct store_table t;
	char *err = NULL;
	enum store_status rc = store_console_monthly(r->st, month, table, &t, &err);
	if (rc != STORE_OK) {
		page_store_error(out, rc, err);
		free(err);
		return;
	}
	http_text(out, "text/csv; charset=utf-8", table_csv(&t));
	out->disposition = xasprintf("attachment; filename=\"rapport-%s-%s.csv\"", month, table);
	store_table_free(&t);
}

int console_report_monthly(struct store *st, const char *month, bool csv, FILE *out,
			   char **err)
{
	if (!month_ok(month)) {
		*err = xasprintf("'%s' is not a month (YYYY-MM)", month);
		return STORE_INVALID;
	}
	if (csv) {
		for (size_t i = 0; i < STORE_CONSOLE_MONTHLY_N; i++) {
			struct store_table t;
			int rc = store_console_monthly(st, month, store_console_monthly_names[i], &t,
						       err);
			if (rc != STORE_OK)
				return rc;
			char *text = table_csv(&t);
			/* One block per table, its name first, a blank line between. */
			fprintf(out, "%s# %s\r\n%s", i ? "\r\n" : "", store_console_monthly_names[i],
				text);
			free(text);
			store_table_free(&t);
		}
		return STORE_OK;
	}
	int rc = STORE_OK;
	struct html *h = monthly_build(NULL, st, month, &rc, err);
	if (h == NULL)
		return rc;
	html_inline_style(h, console_css);
	size_t len;
	char *text = html_render(h, &len);
	fwrite(text, 1, len, out);
	free(text);
	html_free(h);
	return STORE_OK;
}
