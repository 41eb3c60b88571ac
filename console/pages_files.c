/*
 * pages_files - `/files` (filter by centre, dates, status, reason, file
 * name; keyset pages of 50, newest first) and `/files/{id}`: outcome, each
 * reason with its message, the receipts, the validation evidence, the
 * attestations it carried; the original for reviewers.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "date.h"
#include "reason.h"
#include "store_console.h"
#include "xmalloc.h"

static void filter_input(html_node *form, const char *label, const char *name,
			 const char *type, const char *value)
{
	html_node *l = html_el(form, "label", label);
	html_text(l, " ");
	html_node *in = html_el(l, "input", NULL);
	html_attr(in, "type", type);
	html_attr(in, "name", name);
	if (value)
		html_attr(in, "value", value);
}

/* Appends "&name=value" (URL-escaped) to a query string. */
static void qs_add(char **qs, const char *name, const char *value)
{
	if (value == NULL)
		return;
	size_t n = strlen(*qs);
	*qs = xrealloc(*qs, n + strlen(name) + 3 * strlen(value) + 3);
	char *o = *qs + n;
	o += sprintf(o, "&%s=", name);
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~", *p))
			*o++ = (char)*p;
		else
			o += sprintf(o, "%%%02X", *p);
	}
	*o = '\0';
}

void pages_files(struct http_req *r, struct http_resp *out)
{
	struct store_console_file_filter f = {
		.centre = http_query(r, "centre"), .from = http_query(r, "from"),
		.to = http_query(r, "to"), .status = http_query(r, "status"),
		.reason = http_query(r, "reason"), .name = http_query(r, "name"),
	};
	const char *before = http_query(r, "before");
	date_t d;
	if ((f.from && !date_parse(f.from, &d)) || (f.to && !date_parse(f.to, &d)) ||
	    (f.status && strcmp(f.status, "accepted") && strcmp(f.status, "rejected") &&
	     strcmp(f.status, "duplicate")) ||
	    (f.reason && reason_from_code(f.reason) == REASON_COUNT) ||
	    (f.centre && strlen(f.centre) > 32) || (f.name && strlen(f.name) > 128) ||
	    (before && (strlen(before) > 18 || strspn(before, "0123456789") != strlen(before)))) {
		http_error(out, 400, "Filtre invalide : dates AAAA-MM-JJ, issue accepted, rejected ou "
			   "duplicate, un code de motif connu.");
		return;
	}
	f.before = before ? strtoll(before, NULL, 10) : 0;
	struct store_table t;
	char *err = NULL;
	enum store_status rc = store_console_files(r->st, &f, &t, &err);
	if (rc != STORE_OK) {
		page_store_error(out, rc, err);
		free(err);
		return;
	}
	html_node *main;
	struct html *h = page_new(r, "Fichiers reçus", &main);
	html_node *form = html_el(main, "form", NULL);
	html_attr(form, "method", "get");
	html_attr(form, "class", "filters");
	filter_input(form, "Centre", "centre", "text", f.centre);
	filter_input(form, "Du", "from", "date", f.from);
	filter_input(form, "Au", "to", "date", f.to);
	filter_input(form, "Issue", "status", "text", f.status);
	filter_input(form, "Motif", "reason", "text", f.reason);
	filter_input(form, "Nom de fichier", "name", "text", f.name);
	html_el(form, "button", "Filtrer");
	html_node *table = html_el(main, "table", NULL);
	html_attr(table, "data-table", "files");
	static const char *const head[] = { "N°", "Centre", "Fichier", "Type", "Reçu le", "Issue",
					    "Motifs" };
	html_header_row(table, head, 7);
	html_node *tbody = html_el(table, "tbody", NULL);
	for (size_t i = 0; i < t.n_rows; i++) {
		html_node *tr = html_el(tbody, "tr", NULL);
		char *href = xasprintf("/files/%s", store_table_get(&t, i, 0));
		html_link(html_td(tr, NULL), href, store_table_get(&t, i, 0));
		free(href);
		html_td(tr, store_table_get(&t, i, 1));
		html_td(tr, store_table_get(&t, i, 2));
		html_td(tr, page_fr(store_table_get(&t, i, 3)));
		html_td(tr, store_table_get(&t, i, 4));
		html_td(tr, page_fr(store_table_get(&t, i, 5)));
		page_reasons(html_td(tr, NULL), store_table_get(&t, i, 6));
	}
	if (t.n_rows == 0)
		html_el(main, "p", "Aucun fichier ne correspond.");
	if (t.more) {
		char *qs = xstrdup("");
		qs_add(&qs, "centre", f.centre);
		qs_add(&qs, "from", f.from);
		qs_add(&qs, "to", f.to);
		qs_add(&qs, "status", f.status);
		qs_add(&qs, "reason", f.reason);
		qs_add(&qs, "name", f.name);
		char *href = xasprintf("/files?before=%s%s", store_table_get(&t, t.n_rows - 1, 0), qs);
		html_node *nav = html_el(main, "nav", NULL);
		html_attr(nav, "class", "pages");
		html_link(nav, href, "Page suivante");
		free(href);
		free(qs);
	}
	store_table_free(&t);
	http_page(out, h);
}

static void dd(html_node *dl, const char *label, const char *name, const char *value)
{
	html_el(dl, "dt", label);
	html_node *v = html_el(html_el(dl, "dd", NULL), "span", *value ? value : "—");
	html_attr(v, "data-field", name);
}

/* "{a,b}" with quoted items ("...") as PostgreSQL writes text[]: item i. */
static char *array_item(const char *a, size_t want)
{
	if (a == NULL || *a != '{')
		return NULL;
	const char *p = a + 1;
	for (size_t i = 0; *p && *p != '}'; i++) {
		char *item = xmalloc(strlen(p) + 1), *o = item;
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				*o++ = *p;
			}
			if (*p == '"')
				p++;
		} else {
			while (*p && *p != ',' && *p != '}')
				*o++ = *p++;
		}
		*o = '\0';
		if (i == want)
			return item;
		free(item);
		if (*p == ',')
			p++;
	}
	return NULL;
}

void pages_file(struct http_req *r, struct http_resp *out, int64_t id)
{
	struct store_table t = { 0 }, rec = { 0 }, att = { 0 };
	char *err = NULL;
	enum store_status rc = store_console_file(r->st, id, &t, &err);
	if (rc == STORE_OK)
		rc = store_console_file_receipts(r->st, id, &rec, &err);
	if (rc == STORE_OK)
		rc = store_console_file_attestations(r->st, id, &att, &err);
	if (rc != STORE_OK) {
		page_store_error(out, rc, rc == STORE_INVALID ? "Aucun fichier n'a ce numéro." : err);
		goto out;
	}
	char *title = xasprintf("Fichier %s", store_table_get(&t, 0, 2));
	html_node *main;
	struct html *h = page_new(r, title, &main);
	free(title);
	html_node *dl = html_el(main, "dl", NULL);
	dd(dl, "Numéro", "id", store_table_get(&t, 0, 0));
	dd(dl, "Centre", "approval", store_table_get(&t, 0, 1));
	dd(dl, "Nom du fichier", "file-name", store_table_get(&t, 0, 2));
	dd(dl, "SHA-256", "sha256", store_table_get(&t, 0, 3));
	dd(dl, "Taille (octets)", "size", store_table_get(&t, 0, 4));
	dd(dl, "Type", "kind", page_fr(store_table_get(&t, 0, 5)));
	dd(dl, "Reçu le", "received", store_table_get(&t, 0, 6));
	dd(dl, "Traité le", "processed", store_table_get(&t, 0, 7));
	dd(dl, "Issue", "status", page_fr(store_table_get(&t, 0, 8)));
	dd(dl, "Doublon de", "duplicate-of", store_table_get(&t, 0, 11));

	html_el(main, "h2", "Motifs");
	html_node *table = html_el(main, "table", NULL);
	html_attr(table, "data-table", "reasons");
	static const char *const rh[] = { "Motif", "Message" };
	html_header_row(table, rh, 2);
	html_node *tbody = html_el(table, "tbody", NULL);
	for (size_t i = 0;; i++) {
		char *code = array_item(store_table_get(&t, 0, 9), i);
		if (code == NULL)
			break;
		char *msg = array_item(store_table_get(&t, 0, 10), i);
		html_node *tr = html_el(tbody, "tr", NULL);
		page_reason(html_td(tr, NULL), code);
		html_td(tr, msg ? msg : "");
		free(code);
		free(msg);
	}

	html_el(main, "h2", "Preuve de validation");
	dl = html_el(main, "dl", NULL);
	char subject[256], not_after[32];
	page_cert_info(store_table_get(&t, 0, 17), subject, not_after);
	dd(dl, "Signataire (sujet du certificat)", "signer-subject", subject);
	dd(dl, "Certificat valable jusqu'au", "signer-not-after", not_after);
	dd(dl, "Empreinte du certificat (SHA-256)", "signer", store_table_get(&t, 0, 12));
	dd(dl, "Numéro de la CRL", "crl-number", store_table_get(&t, 0, 14));
	dd(dl, "CRL (SHA-256)", "crl-sha256", store_table_get(&t, 0, 15));
	dd(dl, "Vérifié par", "verifier", store_table_get(&t, 0, 16));
	html_el(dl, "dt", "Chaîne de certificats");
	html_el(html_el(dl, "dd", NULL), "pre", store_table_get(&t, 0, 13));

	html_el(main, "h2", "Accusés de réception");
	table = html_el(main, "table", NULL);
	html_attr(table, "data-table", "receipts");
	static const char *const ch[] = { "N°", "Chemin", "Créé le", "Écrit le" };
	html_header_row(table, ch, 4);
	tbody = html_el(table, "tbody", NULL);
	for (size_t i = 0; i < rec.n_rows; i++) {
		html_node *tr = html_el(tbody, "tr", NULL);
		for (size_t c = 0; c < 3; c++)
			html_td(tr, store_table_get(&rec, i, c));
		html_td(tr, store_table_null(&rec, i, 3) ? "pas encore (le démon l'écrira)"
							   : store_table_get(&rec, i, 3));
	}

	if (att.n_rows > 0) {
		html_el(main, "h2", "Attestations");
		table = html_el(main, "table", NULL);
		html_attr(table, "data-table", "attestations");
		static const char *const ah[] = { "Attestation", "Permis", "Décision", "Points",
						  "Motifs" };
		html_header_row(table, ah, 5);
		tbody = html_el(table, "tbody", NULL);
		for (size_t i = 0; i < att.n_rows; i++) {
			html_node *tr = html_el(tbody, "tr", NULL);
			char *href = xasprintf("/review/%s", store_table_get(&att, i, 0));
			html_link(html_td(tr, NULL), href, store_table_get(&att, i, 1));
			free(href);
			href = xasprintf("/licences/%s", store_table_get(&att, i, 2));
			html_link(html_td(tr, NULL), href, store_table_get(&att, i, 2));
			free(href);
			html_td(tr, page_fr(store_table_get(&att, i, 3)));
			html_td(tr, store_table_get(&att, i, 4));
			page_reasons(html_td(tr, NULL), store_table_get(&att, i, 5));
		}
	}
	if (r->reviewer && strcmp(store_table_get(&t, 0, 8), "accepted") == 0) {
		char *href = xasprintf("/files/%" PRId64 "/original", id);
		html_link(html_el(main, "p", NULL), href, "Télécharger le fichier original");
		free(href);
	}
	http_page(out, h);
out:
	free(err);
	store_table_free(&t);
	store_table_free(&rec);
	store_table_free(&att);
}
