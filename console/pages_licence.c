/*
 * pages_licence - a licence's balance and ceiling on a date (default
 * today) by the daemon's replay (licence_view, ledger.c), the events
 * behind it, the balance as a step chart with the stage credits marked,
 * and every decision about the licence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "console.h"
#include "licence_view.h"
#include "svg.h"
#include "xmalloc.h"

static const char *kind_fr(enum ledger_kind k)
{
	switch (k) {
	case LEDGER_GRANT:		return "attribution";
	case LEDGER_STAGE_CREDIT:	return "stage (récupération)";
	case LEDGER_RECOVERY:		return "reconstitution";
	case LEDGER_PROBATION_INCREMENT: return "majoration probatoire";
	case LEDGER_RETRAIT:		return "retrait";
	}
	return "?";
}

static void dd(html_node *dl, const char *label, const char *name, const char *value)
{
	html_el(dl, "dt", label);
	html_node *v = html_el(html_el(dl, "dd", NULL), "span", value);
	html_attr(v, "data-field", name);
}

static date_t today_local(void)
{
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	char buf[11];
	strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
	date_t d = 0;
	date_parse(buf, &d);
	return d;
}

void pages_licence(struct http_req *r, struct http_resp *out, const char *licence)
{
	if (!licence_view_number_ok(licence)) {
		http_error(out, 400, "Numéro de permis invalide (9 à 15 chiffres ou majuscules).");
		return;
	}
	const char *as_of_s = http_query(r, "as_of");
	date_t as_of = today_local();
	if (as_of_s && !date_parse(as_of_s, &as_of)) {
		http_error(out, 400, "Paramètre as_of invalide : une date AAAA-MM-JJ.");
		return;
	}
	struct licence_view v;
	struct store_table dec = { 0 };
	bool known = false;
	char *err = NULL;
	enum store_status rc = licence_view_load(r->st, licence, as_of, &v, &known, &err);
	if (rc == STORE_OK && !known) {
		/* Nothing in the registry or the ledger: its decisions may remain. */
		memset(&v, 0, sizeof(v));
		v.as_of = as_of;
	}
	if (rc == STORE_OK)
		rc = store_console_licence_decisions(r->st, licence, &dec, &err);
	if (rc == STORE_OK && !known && dec.n_rows == 0) {
		free(err);
		store_table_free(&dec);
		http_error(out, 404, "Rien n'est enregistré pour ce permis.");
		return;
	}
	if (rc != STORE_OK) {
		page_store_error(out, rc, err);
		free(err);
		licence_view_free(&v);
		return;
	}
	char day[11], num[16];
	date_format(as_of, day);
	char *title = xasprintf("Permis %s", licence);
	html_node *main;
	struct html *h = page_new(r, title, &main);
	free(title);

	html_node *form = html_el(main, "form", NULL);
	html_attr(form, "method", "get");
	html_attr(form, "class", "filters");
	html_node *label = html_el(form, "label", "Solde au ");
	html_node *in = html_el(label, "input", NULL);
	html_attr(in, "type", "date");
	html_attr(in, "name", "as_of");
	html_attr(in, "value", day);
	html_el(form, "button", "Afficher");

	html_node *dl = html_el(main, "dl", NULL);
	dd(dl, "À la date du", "as-of", day);
	snprintf(num, sizeof(num), "%d", v.balance);
	dd(dl, "Solde", "balance", v.has_balance ? num : "aucun (pas encore d'attribution)");
	snprintf(num, sizeof(num), "%d", v.ceiling);
	dd(dl, "Plafond", "ceiling", known ? num : "—");
	dd(dl, "Statut (registre)", "status", v.ledger.registered
	   ? page_fr(ledger_status_name(v.ledger.licence.status)) : "inconnu du registre");

	/* The chart: one step per event up to as_of. */
	struct svg_step *steps = xcalloc(v.timeline.n + 1, sizeof(*steps));
	char (*dates)[11] = xcalloc(v.timeline.n + 1, sizeof(*dates));
	char **what = xcalloc(v.timeline.n + 1, sizeof(*what));
	size_t n = 0;
	for (size_t i = 0; i < v.timeline.n; i++) {
		const struct ledger_step *s = &v.timeline.steps[i];
		if (s->event->effective > as_of || s->new_balance == LEDGER_NO_BALANCE)
			continue;
		date_format(s->event->effective, dates[n]);
		what[n] = xasprintf("%s %+d (%s)%s", kind_fr(s->event->kind), s->event->points,
				    s->event->ref, s->effect == LEDGER_BLOCKED ? " — bloqué"
						   : s->effect == LEDGER_NO_GRANT ? " — sans attribution" : "");
		steps[n] = (struct svg_step){ .date = dates[n], .value = s->new_balance,
					      .credit = s->event->kind == LEDGER_STAGE_CREDIT &&
							s->effect == LEDGER_APPLIED,
					      .what = what[n] };
		n++;
	}
	html_el(main, "h2", "Évolution du solde");
	svg_steps(main, "balance", "Solde de points au fil du temps (stages marqués)", "Points",
		  steps, n, day, 12);
	for (size_t i = 0; i < n; i++)
		free(what[i]);
	free(what);
	free(dates);
	free(steps);

	html_el(main, "h2", "Événements du relevé (rejoués comme par le démon)");
	html_node *table = html_el(main, "table", NULL);
	html_attr(table, "data-table", "events");
	static const char *const head[] = { "Date de valeur", "Nature", "Points", "Référence",
					    "Solde avant", "Solde après", "Effet" };
	html_header_row(table, head, 7);
	html_node *tbody = html_el(table, "tbody", NULL);
	for (size_t i = 0; i < v.timeline.n; i++) {
		const struct ledger_step *s = &v.timeline.steps[i];
		if (s->event->effective > as_of)
			continue;
		html_node *tr = html_el(tbody, "tr", NULL);
		date_format(s->event->effective, day);
		html_td(tr, day);
		html_td(tr, kind_fr(s->event->kind));
		html_tdf(tr, "%+d", s->event->points);
		html_td(tr, s->event->ref);
		if (s->old_balance == LEDGER_NO_BALANCE)
			html_td(tr, "—");
		else
			html_tdf(tr, "%d", s->old_balance);
		if (s->new_balance == LEDGER_NO_BALANCE)
			html_td(tr, "—");
		else
			html_tdf(tr, "%d", s->new_balance);
		html_td(tr, s->effect == LEDGER_APPLIED ? "appliqué" : s->effect == LEDGER_BLOCKED
			? "bloqué (permis invalidé ou annulé)" : "avant toute attribution");
	}

	html_el(main, "h2", "Décisions sur ce permis");
	table = html_el(main, "table", NULL);
	html_attr(table, "data-table", "decisions");
	static const char *const dh[] = { "Centre", "Stage", "Attestation", "Premier jour",
					  "Dernier jour", "Décision", "Points", "Date d'effet",
					  "Motifs", "Décidée le" };
	html_header_row(table, dh, 10);
	tbody = html_el(table, "tbody", NULL);
	for (size_t i = 0; i < dec.n_rows; i++) {
		html_node *tr = html_el(tbody, "tr", NULL);
		char *href = xasprintf("/centres/%s", store_table_get(&dec, i, 0));
		html_link(html_td(tr, NULL), href, store_table_get(&dec, i, 0));
		free(href);
		href = xasprintf("/stages/%s/%s", store_table_get(&dec, i, 0),
				 store_table_get(&dec, i, 1));
		html_link(html_td(tr, NULL), href, store_table_get(&dec, i, 1));
		free(href);
		for (size_t c = 2; c < 8; c++)
			html_td(tr, c == 5 ? page_fr(store_table_get(&dec, i, c))
					   : store_table_get(&dec, i, c));
		page_reasons(html_td(tr, NULL), store_table_get(&dec, i, 8));
		html_td(tr, store_table_get(&dec, i, 9));
	}
	store_table_free(&dec);
	licence_view_free(&v);
	free(err);
	http_page(out, h);
}
