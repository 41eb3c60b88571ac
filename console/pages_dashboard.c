/*
 * pages_dashboard - `/`: today's files by outcome, pending, review,
 * overdue, the last success; files per day by outcome (the 30 days, a bar
 * per day with files) and decisions per month (12 months) as charts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "console.h"
#include "inbox.h"
#include "store_console.h"
#include "svg.h"
#include "xmalloc.h"

static void ago(int days, const char *fmt, char *out, size_t size)
{
	time_t t = time(NULL) - (time_t)days * 86400;
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(out, size, fmt, &tm);
}

/* Bars from rows (key, v1, v2, v3). */
static void chart(html_node *parent, const struct store_table *t, const char *name,
		  const char *title, const char *x_label, const struct svg_series *series)
{
	struct svg_bar *bars = xcalloc(t->n_rows ? t->n_rows : 1, sizeof(*bars));
	for (size_t i = 0; i < t->n_rows; i++) {
		bars[i].key = store_table_get(t, i, 0);
		for (size_t s = 0; s < 3; s++)
			bars[i].values[s] = atol(store_table_get(t, i, s + 1));
	}
	svg_bars(parent, name, title, x_label, "Nombre", series, 3, bars, t->n_rows);
	free(bars);
}

/* The 12 months: the closed ones kept (console_months_*), this one counted. */
static enum store_status months_chart(struct http_req *r, struct svg_bar *bars, size_t *n,
				      struct console_month *m, char **err)
{
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	char this_month[8], this_first[11], from[11];
	strftime(this_month, sizeof(this_month), "%Y-%m", &tm);
	strftime(this_first, sizeof(this_first), "%Y-%m-01", &tm);
	tm.tm_mon -= CONSOLE_MONTHS - 1;
	tm.tm_mday = 1;
	tm.tm_isdst = -1;
	mktime(&tm);
	strftime(from, sizeof(from), "%Y-%m-01", &tm);
	size_t closed = 0;
	struct store_table t;
	enum store_status rc;
	if (!console_months_get(r->app, this_month, m, &closed)) {
		if ((rc = store_console_decisions_per_month(r->st, from, this_first, &t, err)) != STORE_OK)
			return rc;
		for (size_t i = 0; i < t.n_rows && closed < CONSOLE_MONTHS - 1; i++, closed++) {
			snprintf(m[closed].month, sizeof(m[closed].month), "%s", store_table_get(&t, i, 0));
			for (size_t s = 0; s < 3; s++)
				m[closed].v[s] = atol(store_table_get(&t, i, s + 1));
		}
		store_table_free(&t);
		console_months_put(r->app, this_month, m, closed);
	}
	if ((rc = store_console_decisions_per_month(r->st, this_first, NULL, &t, err)) != STORE_OK)
		return rc;
	size_t total = closed;
	if (t.n_rows > 0 && total < CONSOLE_MONTHS) {
		snprintf(m[total].month, sizeof(m[total].month), "%s", store_table_get(&t, 0, 0));
		for (size_t s = 0; s < 3; s++)
			m[total].v[s] = atol(store_table_get(&t, 0, s + 1));
		total++;
	}
	store_table_free(&t);
	for (size_t i = 0; i < total; i++) {
		bars[i].key = m[i].month;
		for (size_t s = 0; s < 3; s++)
			bars[i].values[s] = m[i].v[s];
	}
	*n = total;
	return STORE_OK;
}

void pages_dashboard(struct http_req *r, struct http_resp *out)
{
	struct store_table today = { 0 }, days = { 0 };
	struct console_month months[CONSOLE_MONTHS];
	struct svg_bar month_bars[CONSOLE_MONTHS];
	size_t n_months = 0;
	char *err = NULL;
	char from_day[11];
	ago(29, "%Y-%m-%d", from_day, sizeof(from_day));
	memset(month_bars, 0, sizeof(month_bars));
	enum store_status rc = store_console_today(r->st, &today, &err);
	if (rc == STORE_OK)
		rc = store_console_files_per_day(r->st, from_day, &days, &err);
	if (rc == STORE_OK)
		rc = months_chart(r, month_bars, &n_months, months, &err);
	if (rc != STORE_OK) {
		page_store_error(out, rc, err);
		goto out;
	}
	html_node *main;
	struct html *h = page_new(r, "Tableau de bord", &main);
	html_el(main, "h2", "Aujourd'hui");
	html_node *dl = html_el(main, "dl", NULL);
	static const char *const labels[][2] = {
		{ "Fichiers acceptés", "accepted" }, { "Fichiers rejetés", "rejected" },
		{ "Doublons", "duplicate" }, { "Attestations en attente", "pending" },
		{ "Attestations en révision", "review" },
		{ "En retard (délai d'un mois dépassé)", "overdue" },
		{ "Dernier fichier accepté", "last-success" },
	};
	for (size_t i = 0; i < 7; i++) {
		html_el(dl, "dt", labels[i][0]);
		const char *v = store_table_get(&today, 0, i);
		html_node *s = html_el(html_el(dl, "dd", NULL), "span", *v ? v : "—");
		html_attr(s, "data-field", labels[i][1]);
	}
	/* The spool is the daemon's: listed read-only, as `attestd status` does. */
	struct inbox_claim *claims = NULL;
	size_t n_spool = 0;
	html_el(dl, "dt", "Fichiers dans le spool (en cours ou gardés pour réessai)");
	html_node *sp;
	if (inbox_spool_list(r->cfg->spool, &claims, &n_spool) == 0) {
		sp = html_el(html_el(dl, "dd", NULL), "span", NULL);
		char num[24];
		snprintf(num, sizeof(num), "%zu", n_spool);
		html_text(sp, num);
	} else {
		sp = html_el(html_el(dl, "dd", NULL), "span", "illisible");
	}
	html_attr(sp, "data-field", "spool");
	for (size_t i = 0; i < n_spool; i++)
		inbox_claim_clear(&claims[i]);
	free(claims);
	html_link(html_el(main, "p", NULL), "/review", "Voir la file de révision");
	static const struct svg_series files[] = {
		{ "acceptés", "s-accepted" }, { "rejetés", "s-rejected" },
		{ "doublons", "s-duplicate" },
	};
	static const struct svg_series decisions[] = {
		{ "crédités", "s-credited" }, { "sans crédit", "s-no_credit" },
		{ "rejetés", "s-rejected" },
	};
	html_el(main, "h2", "Fichiers par jour (30 jours)");
	chart(main, &days, "files-per-day", "Fichiers reçus par jour et par issue, 30 derniers jours",
	      "Jour", files);
	html_el(main, "h2", "Décisions par mois (12 mois)");
	svg_bars(main, "decisions-per-month", "Décisions par mois, 12 derniers mois", "Mois",
		 "Nombre", decisions, 3, month_bars, n_months);
	http_page(out, h);
out:
	free(err);
	store_table_free(&today);
	store_table_free(&days);
}
