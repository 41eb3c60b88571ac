/*
 * pages_stage - `/stages/{approval}/{ref}` (the stage, its sessions, its
 * facilitators and whether they were authorised on its days, the
 * attendance grid: trainee x session, arrival, late marked, and the
 * attestations) and `/centres/{approval}` (files per month, late
 * transmissions, rejections by reason, registered certificates).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "store_console.h"
#include "xmalloc.h"

/* Item i of a PostgreSQL array of numbers, dates or booleans ("" = NULL). */
static void item(const char *a, int i, char out[16])
{
	out[0] = '\0';
	if (a == NULL || *a != '{')
		return;
	const char *p = a + 1;
	for (int k = 0; *p && *p != '}'; k++) {
		size_t n = strcspn(p, ",}");
		if (k == i) {
			snprintf(out, 16, "%.*s", (int)n, p);
			if (strcmp(out, "NULL") == 0)
				out[0] = '\0';
			return;
		}
		p += n;
		if (*p == ',')
			p++;
	}
}

static void hhmm(const char *m, char out[8])
{
	if (*m == '\0')
		snprintf(out, 8, "absent");
	else
		snprintf(out, 8, "%02d:%02d", (atoi(m) / 60) % 100, atoi(m) % 60);
}

static void dd(html_node *dl, const char *label, const char *name, const char *value)
{
	html_el(dl, "dt", label);
	html_node *v = html_el(html_el(dl, "dd", NULL), "span", *value ? value : "—");
	html_attr(v, "data-field", name);
}

static const char *valid_fr(const char *v)
{
	return strcmp(v, "t") == 0 ? "agréé sur ces dates" : strcmp(v, "f") == 0
		? "NON agréé sur ces dates" : "inconnu du registre";
}

void pages_stage(struct http_req *r, struct http_resp *out, const char *approval,
		 const char *ref)
{
	struct store_table s = { 0 }, grid = { 0 }, att = { 0 };
	char *err = NULL;
	enum store_status rc = store_console_stage(r->st, approval, ref, &s, &err);
	if (rc == STORE_OK)
		rc = store_console_stage_attendance(r->st, approval, ref, &grid, &err);
	if (rc == STORE_OK)
		rc = store_console_stage_attestations(r->st, approval, ref, &att, &err);
	if (rc != STORE_OK) {
		page_store_error(out, rc, rc == STORE_INVALID ? "Aucun stage n'a cette référence." : err);
		goto out;
	}
	char *title = xasprintf("Stage %s", ref);
	html_node *main;
	struct html *h = page_new(r, title, &main);
	free(title);
	html_node *dl = html_el(main, "dl", NULL);
	dd(dl, "Centre", "approval", approval);
	dd(dl, "Département", "departement", store_table_get(&s, 0, 2));
	dd(dl, "Premier jour", "first-day", store_table_get(&s, 0, 3));
	dd(dl, "Dernier jour", "last-day", store_table_get(&s, 0, 4));
	dd(dl, "Lieu", "venue", store_table_get(&s, 0, 6));
	html_el(dl, "dt", "Constats sur le stage");
	page_reasons(html_el(dl, "dd", NULL), store_table_get(&s, 0, 5));
	char *fac = xasprintf("%s (%s) : %s", store_table_get(&s, 0, 11), store_table_get(&s, 0, 10),
			      valid_fr(store_table_get(&s, 0, 12)));
	dd(dl, "Psychologue", "psychologist", store_table_null(&s, 0, 10) ? "" : fac);
	free(fac);
	fac = xasprintf("%s (%s) : %s", store_table_get(&s, 0, 14), store_table_get(&s, 0, 13),
			valid_fr(store_table_get(&s, 0, 15)));
	dd(dl, "Expert en sécurité routière", "expert", store_table_null(&s, 0, 13) ? "" : fac);
	free(fac);

	html_el(main, "h2", "Séances");
	html_node *table = html_el(main, "table", NULL);
	html_attr(table, "data-table", "sessions");
	static const char *const sh[] = { "Séance", "Date", "Début", "Fin" };
	html_header_row(table, sh, 4);
	html_node *tbody = html_el(table, "tbody", NULL);
	static const char *const names[] = { "J1 matin", "J1 après-midi", "J2 matin",
					     "J2 après-midi" };
	char starts[4][16];
	for (int i = 0; i < 4; i++) {
		char d[16], st[16], en[16], t1[8], t2[8];
		item(store_table_get(&s, 0, 7), i, d);
		item(store_table_get(&s, 0, 8), i, st);
		item(store_table_get(&s, 0, 9), i, en);
		snprintf(starts[i], 16, "%s", st);
		hhmm(st, t1);
		hhmm(en, t2);
		html_node *tr = html_el(tbody, "tr", NULL);
		html_td(tr, names[i]);
		html_td(tr, d);
		html_td(tr, t1);
		html_td(tr, t2);
	}

	html_el(main, "h2", "Émargement (stagiaire × séance)");
	table = html_el(main, "table", NULL);
	html_attr(table, "data-table", "attendance-grid");
	static const char *const gh[] = { "Permis", "Nom", "Prénoms", "J1 matin", "J1 après-midi",
					  "J2 matin", "J2 après-midi" };
	html_header_row(table, gh, 7);
	tbody = html_el(table, "tbody", NULL);
	int tolerance = (int)r->cfg->late_arrival_tolerance_min;
	for (size_t i = 0; i < grid.n_rows; i++) {
		html_node *tr = html_el(tbody, "tr", NULL);
		char *href = xasprintf("/licences/%s", store_table_get(&grid, i, 0));
		html_link(html_td(tr, NULL), href, store_table_get(&grid, i, 0));
		free(href);
		html_td(tr, store_table_get(&grid, i, 1));
		html_td(tr, store_table_get(&grid, i, 2));
		for (int k = 0; k < 4; k++) {
			char a[16], sig[16], t[8];
			item(store_table_get(&grid, i, 3), k, a);
			item(store_table_get(&grid, i, 4), k, sig);
			hhmm(a, t);
			html_node *td = html_td(tr, t);
			if (*a && *starts[k] && atoi(a) > atoi(starts[k]) + tolerance) {
				html_attr(td, "class", "late");
				html_text(td, " (retard)");
			}
			if (strcmp(sig, "t") != 0 && *a)
				html_text(td, " — non signé");
		}
	}

	html_el(main, "h2", "Attestations et décisions");
	table = html_el(main, "table", NULL);
	html_attr(table, "data-table", "attestations");
	static const char *const ah[] = { "Attestation", "Permis", "Décision", "Points", "Motifs" };
	html_header_row(table, ah, 5);
	tbody = html_el(table, "tbody", NULL);
	for (size_t i = 0; i < att.n_rows; i++) {
		html_node *tr = html_el(tbody, "tr", NULL);
		char *href = xasprintf("/review/%s", store_table_get(&att, i, 0));
		html_link(html_td(tr, NULL), href, store_table_get(&att, i, 1));
		free(href);
		html_td(tr, store_table_get(&att, i, 2));
		html_td(tr, page_fr(store_table_get(&att, i, 3)));
		html_td(tr, store_table_get(&att, i, 4));
		page_reasons(html_td(tr, NULL), store_table_get(&att, i, 5));
	}
	http_page(out, h);
out:
	free(err);
	store_table_free(&s);
	store_table_free(&grid);
	store_table_free(&att);
}

static void simple_table(html_node *main, const char *title, const char *name,
			 const struct store_table *t, const char *const *head, int reason_col)
{
	html_el(main, "h2", title);
	html_node *table = html_el(main, "table", NULL);
	html_attr(table, "data-table", name);
	html_header_row(table, head, t->n_cols);
	html_node *tbody = html_el(table, "tbody", NULL);
	for (size_t i = 0; i < t->n_rows; i++) {
		html_node *tr = html_el(tbody, "tr", NULL);
		for (size_t c = 0; c < t->n_cols; c++) {
			if ((int)c == reason_col)
				page_reason(html_td(tr, NULL), store_table_get(t, i, c));
			else
				html_td(tr, store_table_get(t, i, c));
		}
	}
	if (t->n_rows == 0)
		html_el(main, "p", "Rien.");
}

void pages_centre(struct http_req *r, struct http_resp *out, const char *approval)
{
	struct store_table c = { 0 }, pm = { 0 }, rej = { 0 }, certs = { 0 };
	char *err = NULL;
	enum store_status rc = store_console_centre(r->st, approval, "centre", &c, &err);
	if (rc == STORE_OK)
		rc = store_console_centre(r->st, approval, "per-month", &pm, &err);
	if (rc == STORE_OK)
		rc = store_console_centre(r->st, approval, "rejections", &rej, &err);
	if (rc == STORE_OK)
		rc = store_console_centre(r->st, approval, "certificates", &certs, &err);
	if (rc != STORE_OK) {
		page_store_error(out, rc, rc == STORE_INVALID ? "Aucun centre n'a cet agrément." : err);
		goto out;
	}
	char *title = xasprintf("Centre %s — %s", approval, store_table_get(&c, 0, 1));
	html_node *main;
	struct html *h = page_new(r, title, &main);
	free(title);
	html_node *dl = html_el(main, "dl", NULL);
	dd(dl, "Agrément", "approval", approval);
	dd(dl, "Nom", "name", store_table_get(&c, 0, 1));
	dd(dl, "Département", "departement", store_table_get(&c, 0, 2));
	dd(dl, "Agréé du", "valid-from", store_table_get(&c, 0, 3));
	dd(dl, "Agréé jusqu'au", "valid-to", store_table_get(&c, 0, 4));
	long files = 0, late = 0;
	for (size_t i = 0; i < pm.n_rows; i++) {
		files += atol(store_table_get(&pm, i, 1));
		late += atol(store_table_get(&pm, i, 3));
	}
	char rate[32];
	snprintf(rate, sizeof(rate), "%.1f %%", files ? 100.0 * (double)late / (double)files : 0.0);
	dd(dl, "Taux de transmissions tardives (15 jours), 36 mois", "late-rate", rate);
	static const char *const ph[] = { "Mois", "Fichiers", "Rejetés", "Tardifs" };
	simple_table(main, "Fichiers par mois", "per-month", &pm, ph, -1);
	static const char *const rh[] = { "Motif", "Fichiers" };
	simple_table(main, "Rejets par motif", "rejections", &rej, rh, 0);
	html_el(main, "h2", "Certificats enregistrés");
	html_node *table = html_el(main, "table", NULL);
	html_attr(table, "data-table", "certificates");
	static const char *const ch[] = { "Empreinte (SHA-256)", "Sujet", "Expire le",
					  "Dernier fichier signé" };
	html_header_row(table, ch, 4);
	html_node *tbody = html_el(table, "tbody", NULL);
	for (size_t i = 0; i < certs.n_rows; i++) {
		char subject[256], not_after[32];
		page_cert_info(store_table_get(&certs, i, 2), subject, not_after);
		html_node *tr = html_el(tbody, "tr", NULL);
		html_td(tr, store_table_get(&certs, i, 0));
		html_td(tr, *subject ? subject : "(aucun fichier signé : certificat inconnu)");
		html_node *exp = html_td(tr, not_after);
		html_attr(exp, "data-field", "not-after");
		html_td(tr, store_table_get(&certs, i, 1));
	}
	http_page(out, h);
out:
	free(err);
	store_table_free(&c);
	store_table_free(&pm);
	store_table_free(&rej);
	store_table_free(&certs);
}
