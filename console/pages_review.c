/*
 * pages_review - the review queue, one item (the three identities side by
 * side with the differences marked, the scans, attendance, reasons,
 * history), the reviewer's decision and the scans' bytes.
 *
 * The decision goes through review_apply (the code of `attestd review
 * accept|reject`) on the console's service connection, after this
 * request's own connection said the person is a member of
 * attestd_reviewer; the person's role name is the one recorded.
 * A scan's media type comes from a centre's file: only JPEG, PNG and PDF
 * are served as such, anything else as an attachment of bytes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "console.h"
#include "log.h"
#include "names.h"
#include "review.h"
#include "store_console.h"
#include "xmalloc.h"

#define SCAN_MAX (64u * 1024 * 1024)

void pages_review_list(struct http_req *r, struct http_resp *out)
{
	const char *after = http_query(r, "after"), *centre = http_query(r, "centre");
	if (centre && (strlen(centre) > 16 || strspn(centre, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") !=
						       strlen(centre))) {
		http_error(out, 400, "Paramètre centre invalide (un numéro d'agrément).");
		return;
	}
	const char *after_deadline = NULL;
	int64_t after_id = 0;
	char deadline[11] = "";
	/* after=YYYY-MM-DD.ID: the keyset of the last row shown. */
	if (after) {
		date_t d;
		const char *dot = strchr(after, '.');
		if (dot == NULL || dot - after != 10 || (memcpy(deadline, after, 10), !date_parse(deadline, &d)) ||
		    strspn(dot + 1, "0123456789") != strlen(dot + 1) || strlen(dot + 1) == 0 ||
		    strlen(dot + 1) > 18) {
			http_error(out, 400, "Paramètre after invalide (AAAA-MM-JJ.ID).");
			return;
		}
		after_deadline = deadline;
		after_id = strtoll(dot + 1, NULL, 10);
	}
	struct store_table t;
	char *err = NULL;
	enum store_status rc = store_console_review_list(r->st, centre, after_deadline, after_id, &t,
							  &err);
	if (rc != STORE_OK) {
		page_store_error(out, rc, err);
		free(err);
		return;
	}
	html_node *main;
	struct html *h = page_new(r, "File de révision", &main);
	html_el(main, "p", "Les attestations laissées à une personne, par date limite "
		"d'enregistrement (un mois après réception).");
	html_node *form = html_el(main, "form", NULL);
	html_attr(form, "method", "get");
	html_attr(form, "class", "filters");
	html_node *label = html_el(form, "label", "Centre ");
	html_node *in = html_el(label, "input", NULL);
	html_attr(in, "type", "text");
	html_attr(in, "name", "centre");
	if (centre)
		html_attr(in, "value", centre);
	html_el(form, "button", "Filtrer");
	html_node *table = html_el(main, "table", NULL);
	html_attr(table, "data-table", "review");
	static const char *const head[] = { "Attestation", "Centre", "Stage", "Permis", "Motifs",
					    "Date limite", "Jours restants" };
	html_header_row(table, head, 7);
	html_node *tbody = html_el(table, "tbody", NULL);
	for (size_t i = 0; i < t.n_rows; i++) {
		html_node *tr = html_el(tbody, "tr", NULL);
		html_attr(tr, "data-id", store_table_get(&t, i, 0));
		char *href = xasprintf("/review/%s", store_table_get(&t, i, 0));
		html_link(html_td(tr, NULL), href, store_table_get(&t, i, 3));
		free(href);
		html_td(tr, store_table_get(&t, i, 1));
		html_td(tr, store_table_get(&t, i, 2));
		html_td(tr, store_table_get(&t, i, 4));
		page_reasons(html_td(tr, NULL), store_table_get(&t, i, 5));
		html_td(tr, store_table_get(&t, i, 6));
		html_node *left = html_td(tr, store_table_get(&t, i, 7));
		html_attr(left, "data-field", "days-left");
	}
	if (t.n_rows == 0)
		html_el(main, "p", "Aucune attestation en révision.");
	if (t.more) {
		char *href = xasprintf("/review?after=%s.%s%s%s", store_table_get(&t, t.n_rows - 1, 6),
				       store_table_get(&t, t.n_rows - 1, 0), centre ? "&centre=" : "",
				       centre ? centre : "");
		html_node *nav = html_el(main, "nav", NULL);
		html_attr(nav, "class", "pages");
		html_link(nav, href, "Page suivante");
		free(href);
	}
	store_table_free(&t);
	http_page(out, h);
}

/* "{a,b,NULL,c}" (an array of numbers or booleans) into items[4]. */
static void array4(const char *s, char items[4][16])
{
	for (int i = 0; i < 4; i++)
		items[i][0] = '\0';
	if (s == NULL || s[0] != '{')
		return;
	int i = 0;
	for (const char *p = s + 1; *p && *p != '}' && i < 4; i++) {
		size_t n = strcspn(p, ",}");
		snprintf(items[i], 16, "%.*s", (int)n, p);
		if (strcmp(items[i], "NULL") == 0)
			items[i][0] = '\0';
		p += n;
		if (*p == ',')
			p++;
	}
}

static void hhmm(const char *minutes, char out[8])
{
	if (minutes[0] == '\0') {
		snprintf(out, 8, "—");
		return;
	}
	int m = atoi(minutes);
	snprintf(out, 8, "%02d:%02d", (m / 60) % 100, m % 60);
}

/* The attendance grid of one trainee: four sessions, late marked. */
static void attendance(html_node *parent, const char *dates, const char *starts,
		       const char *ends, const char *arrived, const char *signed_, int tolerance)
{
	char d[4][16], s[4][16], e[4][16], a[4][16], g[4][16];
	array4(dates, d);
	array4(starts, s);
	array4(ends, e);
	array4(arrived, a);
	array4(signed_, g);
	html_node *table = html_el(parent, "table", NULL);
	html_attr(table, "data-table", "attendance");
	static const char *const head[] = { "Séance", "Date", "Début", "Fin", "Arrivée",
					    "Signature" };
	html_header_row(table, head, 6);
	html_node *tbody = html_el(table, "tbody", NULL);
	static const char *const names[] = { "Jour 1 matin", "Jour 1 après-midi", "Jour 2 matin",
					     "Jour 2 après-midi" };
	for (int i = 0; i < 4; i++) {
		char t1[8], t2[8], t3[8];
		hhmm(s[i], t1);
		hhmm(e[i], t2);
		hhmm(a[i], t3);
		html_node *tr = html_el(tbody, "tr", NULL);
		html_td(tr, names[i]);
		html_td(tr, d[i]);
		html_td(tr, t1);
		html_td(tr, t2);
		html_node *arr = html_td(tr, a[i][0] ? t3 : "absent");
		if (a[i][0] && s[i][0] && atoi(a[i]) > atoi(s[i]) + tolerance) {
			html_attr(arr, "class", "late");
			html_text(arr, " (retard)");
		}
		html_td(tr, strcmp(g[i], "t") == 0 ? "oui" : "non");
	}
}

/* Folded for comparison (rules.md §4); the raw text when it cannot be. */
static char *folded(const char *s)
{
	char *f = names_fold(s);
	return f ? f : xstrdup(s);
}

static void identities(html_node *parent, const struct store_table *t)
{
	html_node *table = html_el(parent, "table", NULL);
	html_attr(table, "data-table", "identities");
	static const char *const head[] = { "Champ", "Attestation", "Feuille d'émargement",
					    "Registre" };
	html_header_row(table, head, 4);
	html_node *tbody = html_el(table, "tbody", NULL);
	static const struct {
		const char *key, *label;
		size_t col;
		bool fold;
	} rows[] = {
		{ "surname", "Nom", 16, true },
		{ "given-names", "Prénoms", 17, true },
		{ "birth-date", "Date de naissance", 18, false },
	};
	static const char *const sources[] = { "attestation", "sheet", "registry" };
	for (size_t i = 0; i < 3; i++) {
		html_node *tr = html_el(tbody, "tr", NULL);
		html_attr(tr, "data-field", rows[i].key);
		html_el(tr, "th", rows[i].label);
		char *v[3];
		bool present[3];
		for (size_t s = 0; s < 3; s++) {
			present[s] = !store_table_null(t, 0, rows[i].col + 3 * s);
			const char *raw = store_table_get(t, 0, rows[i].col + 3 * s);
			v[s] = rows[i].fold ? folded(raw) : xstrdup(raw);
		}
		for (size_t s = 0; s < 3; s++) {
			/* Differs: another source has it otherwise, and no other agrees. */
			int others = 0, same = 0;
			for (size_t o = 0; o < 3; o++) {
				if (o == s || !present[o])
					continue;
				others++;
				same += strcmp(v[o], v[s]) == 0;
			}
			bool diff = present[s] && others > 0 && same < others &&
				    (same == 0 || others == 1);
			html_node *td = html_td(tr, NULL);
			html_attr(td, "data-source", sources[s]);
			if (!present[s]) {
				html_text(td, "—");
			} else {
				html_text(td, store_table_get(t, 0, rows[i].col + 3 * s));
				if (diff) {
					html_attr(td, "class", "diff");
					html_node *mark = html_el(td, "span", " ≠");
					html_attr(mark, "class", "mark");
					html_attr(mark, "title", "différent");
				}
			}
		}
		for (size_t s = 0; s < 3; s++)
			free(v[s]);
	}
}

static void field(html_node *dl, const char *label, const char *name, const char *value,
		  const char *href)
{
	html_el(dl, "dt", label);
	html_node *dd = html_el(dl, "dd", NULL);
	html_node *v = href ? html_link(dd, href, value) : html_el(dd, "span", value);
	html_attr(v, "data-field", name);
}

void pages_review_item(struct http_req *r, struct http_resp *out, int64_t id)
{
	struct store_table t = { 0 }, scans = { 0 }, hist = { 0 };
	char *err = NULL;
	enum store_status rc = store_console_review_item(r->st, id, &t, &err);
	if (rc == STORE_OK && r->reviewer)
		rc = store_console_review_scans(r->st, id, &scans, &err);
	if (rc == STORE_OK)
		rc = store_console_review_history(r->st, id, &hist, &err);
	if (rc != STORE_OK) {
		page_store_error(out, rc, rc == STORE_INVALID ? "Aucune attestation n'a cet identifiant."
							       : err);
		goto out;
	}
	const char *approval = store_table_get(&t, 0, 1), *ref = store_table_get(&t, 0, 2);
	const char *licence = store_table_get(&t, 0, 4), *decision = store_table_get(&t, 0, 5);
	char *title = xasprintf("Attestation %s", store_table_get(&t, 0, 3));
	html_node *main;
	struct html *h = page_new(r, title, &main);
	free(title);
	html_node *dl = html_el(main, "dl", NULL);
	char *href = xasprintf("/centres/%s", approval);
	field(dl, "Centre", "approval", approval, href);
	free(href);
	href = xasprintf("/stages/%s/%s", approval, ref);
	field(dl, "Stage", "stage", ref, href);
	free(href);
	href = xasprintf("/licences/%s", licence);
	field(dl, "Permis", "licence", licence, href);
	free(href);
	field(dl, "Décision", "decision", page_fr(decision), NULL);
	field(dl, "Points", "points", store_table_get(&t, 0, 6), NULL);
	field(dl, "Reçue le", "received", store_table_get(&t, 0, 9), NULL);
	field(dl, "Date limite d'enregistrement", "deadline", store_table_get(&t, 0, 10), NULL);
	field(dl, "Jours restants", "days-left", store_table_get(&t, 0, 11), NULL);
	html_el(dl, "dt", "Motifs");
	page_reasons(html_el(dl, "dd", NULL), store_table_get(&t, 0, 7));

	html_el(main, "h2", "Identités");
	identities(main, &t);

	html_el(main, "h2", "Pièces d'identité");
	if (!r->reviewer) {
		html_el(main, "p", "Les pièces d'identité ne sont montrées qu'aux réviseurs "
			"(rôle attestd_reviewer).");
	} else if (scans.n_rows == 0) {
		html_el(main, "p", "Aucune pièce d'identité (pas de feuille d'émargement pour ce "
			"stagiaire).");
	}
	for (size_t i = 0; i < scans.n_rows; i++) {
		const char *sha = store_table_get(&scans, i, 0), *type = store_table_get(&scans, i, 1);
		char *src = xasprintf("/review/%" PRId64 "/scans/%s", id, sha);
		char *alt = xasprintf("Pièce d'identité (%s) du stagiaire", store_table_get(&scans, i, 3));
		if (strncmp(type, "image/", 6) == 0) {
			html_node *img = html_el(main, "img", NULL);
			html_attr(img, "class", "scan");
			html_attr(img, "src", src);
			html_attr(img, "alt", alt);
		} else {
			html_node *a = html_link(html_el(main, "p", NULL), src, alt);
			html_attr(a, "class", "scan");
		}
		free(src);
		free(alt);
	}

	html_el(main, "h2", "Présence (feuille d'émargement)");
	if (store_table_null(&t, 0, 25))
		html_el(main, "p", "Pas de feuille d'émargement pour ce stagiaire.");
	else
		attendance(main, store_table_get(&t, 0, 25), store_table_get(&t, 0, 26),
			   store_table_get(&t, 0, 27), store_table_get(&t, 0, 28),
			   store_table_get(&t, 0, 29), (int)r->cfg->late_arrival_tolerance_min);

	html_el(main, "h2", "Historique des décisions");
	html_node *table = html_el(main, "table", NULL);
	html_attr(table, "data-table", "history");
	static const char *const head[] = { "Date", "Par", "Cause", "Décision", "Points",
					    "Motifs", "Note" };
	html_header_row(table, head, 7);
	html_node *tbody = html_el(table, "tbody", NULL);
	for (size_t i = 0; i < hist.n_rows; i++) {
		html_node *tr = html_el(tbody, "tr", NULL);
		html_td(tr, store_table_get(&hist, i, 0));
		html_td(tr, store_table_get(&hist, i, 1));
		html_td(tr, store_table_get(&hist, i, 2));
		html_td(tr, page_fr(store_table_get(&hist, i, 3)));
		html_td(tr, store_table_get(&hist, i, 4));
		page_reasons(html_td(tr, NULL), store_table_get(&hist, i, 5));
		html_td(tr, store_table_get(&hist, i, 6));
	}

	if (strcmp(decision, "review") == 0) {
		html_el(main, "h2", "Décision");
		char *action = xasprintf("/review/%" PRId64, id);
		html_node *form = page_form(r, main, action);
		free(action);
		html_node *fs = html_el(form, "fieldset", NULL);
		if (!r->reviewer) {
			html_attr(fs, "disabled", "disabled");
			html_el(fs, "p", "Réservé aux réviseurs (rôle attestd_reviewer).");
		}
		static const char *const choice[][2] = { { "accept", "Accepter (les règles décident "
							   "des points)" },
							 { "reject", "Rejeter" } };
		for (int i = 0; i < 2; i++) {
			html_node *label = html_el(fs, "label", NULL);
			html_node *in = html_el(label, "input", NULL);
			html_attr(in, "type", "radio");
			html_attr(in, "name", "decision");
			html_attr(in, "value", choice[i][0]);
			html_attr(in, "required", "required");
			html_text(label, choice[i][1]);
			html_el(fs, "br", NULL);
		}
		html_node *label = html_el(fs, "label", "Note (obligatoire) ");
		html_node *ta = html_el(label, "textarea", NULL);
		html_attr(ta, "name", "note");
		html_attr(ta, "required", "required");
		html_attr(ta, "maxlength", "2000");
		html_attr(ta, "rows", "3");
		html_attr(ta, "cols", "60");
		html_el(fs, "br", NULL);
		html_node *b = html_el(fs, "button", "Enregistrer la décision");
		html_attr(b, "type", "submit");
	}
	http_page(out, h);
out:
	free(err);
	store_table_free(&t);
	store_table_free(&scans);
	store_table_free(&hist);
}

void pages_review_post(struct http_req *r, struct http_resp *out, int64_t id)
{
	if (!r->reviewer) {
		log_warn("action=review outcome=forbidden id=%" PRId64 " role=%s", id, r->role);
		http_error(out, 403, "Seuls les membres de attestd_reviewer peuvent décider.");
		return;
	}
	const char *decision = http_form(r, "decision"), *note = http_form(r, "note");
	bool accept = decision && strcmp(decision, "accept") == 0;
	if (decision == NULL || (!accept && strcmp(decision, "reject") != 0)) {
		http_error(out, 400, "Choisissez accepter ou rejeter.");
		return;
	}
	/* A note typed in a textarea may hold line breaks: one line recorded. */
	char *line = note ? xstrdup(note) : NULL;
	for (char *p = line; p && *p; p++)
		if (*p == '\r' || *p == '\n' || *p == '\t')
			*p = ' ';
	if (!review_text_ok(line, REVIEW_MAX_NOTE)) {
		free(line);
		http_error(out, 400, "La note est obligatoire (au plus 2000 octets, texte UTF-8).");
		return;
	}
	char *err = NULL;
	int rc = console_decide(r->app, id, accept, r->role, line, &err);
	free(line);
	if (rc == STORE_OK) {
		char *loc = xasprintf("/review/%" PRId64, id);
		http_redirect(out, loc);
		free(loc);
	} else if (rc == STORE_INVALID) {
		char *msg = xasprintf("Rien n'a changé : %s", err ? err : "");
		http_error(out, 409, msg);
		free(msg);
	} else {
		page_store_error(out, rc, err);
	}
	free(err);
}

static bool sha_ok(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

static const char *safe_type(const char *type, const char **ext)
{
	if (strcmp(type, "image/jpeg") == 0)
		return *ext = "jpg", "image/jpeg";
	if (strcmp(type, "image/png") == 0)
		return *ext = "png", "image/png";
	if (strcmp(type, "application/pdf") == 0)
		return *ext = "pdf", "application/pdf";
	return *ext = "bin", "application/octet-stream";
}

static void serve_archived(struct http_req *r, struct http_resp *out, const char *sha,
			   const char *type, const char *filename)
{
	unsigned char *bytes = NULL;
	size_t len = 0;
	enum archive_state s = archive_read(console_archive(r->app), sha, SCAN_MAX, &bytes, &len);
	if (s != ARCHIVE_OK) {
		log_error("action=console-archive outcome=error sha256=%s state=%s", sha,
			  s == ARCHIVE_MISSING ? "missing" : s == ARCHIVE_CORRUPT ? "corrupt"
										  : "unreadable");
		http_error(out, s == ARCHIVE_MISSING ? 404 : 500,
			   "Le document n'a pas pu être lu dans l'archive (voir le journal).");
		return;
	}
	http_bytes(out, type, bytes, len, filename);
}

void pages_review_scan(struct http_req *r, struct http_resp *out, int64_t id, const char *sha)
{
	char type[128];
	bool found = false;
	char *err = NULL;
	if (!r->reviewer || !sha_ok(sha)) {
		http_error(out, 404, "Document introuvable.");
		return;
	}
	enum store_status rc = store_console_scan(r->st, id, sha, type, &found, &err);
	if (rc != STORE_OK) {
		page_store_error(out, rc, err);
	} else if (!found) {
		http_error(out, 404, "Document introuvable.");
	} else {
		const char *ext;
		const char *served = safe_type(type, &ext);
		char name[96];
		snprintf(name, sizeof(name), "piece-identite-%.12s.%s", sha, ext);
		serve_archived(r, out, sha, served, name);
		if (out->status == 200 && strcmp(ext, "bin") == 0) {
			free(out->disposition);
			out->disposition = xasprintf("attachment; filename=\"%s\"", name);
		}
	}
	free(err);
}

void pages_file_original(struct http_req *r, struct http_resp *out, int64_t id)
{
	char sha[65], name[256];
	bool found = false;
	char *err = NULL;
	if (!r->reviewer) {
		http_error(out, 403, "Les fichiers originaux ne sont montrés qu'aux réviseurs.");
		return;
	}
	enum store_status rc = store_console_original(r->st, id, sha, name, &found, &err);
	if (rc != STORE_OK)
		page_store_error(out, rc, err);
	else if (!found)
		http_error(out, 404, "Pas d'original archivé pour ce fichier.");
	else {
		/* The centre's file name passed [A-Za-z0-9._-] at intake. */
		serve_archived(r, out, sha, "application/xml", name);
		if (out->status == 200) {
			free(out->disposition);
			out->disposition = xasprintf("attachment; filename=\"%s\"", name);
		}
	}
	free(err);
}
