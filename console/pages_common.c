/*
 * pages_common - what every page shares: the frame (navigation, who is
 * signed in), forms with their anti-forgery field, reason codes in French
 * with the code itself, errors, and the stylesheet (print styles for A4).
 */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "log.h"
#include "reason.h"
#include "xmalloc.h"

const char console_css[] =
	"body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fff}\n"
	"header{background:#000091;color:#fff;padding:.5rem 1rem;display:flex;gap:1rem;"
	"align-items:center;flex-wrap:wrap}\n"
	"header a{color:#fff;text-decoration:none;font-weight:600}\n"
	"header .who{margin-left:auto;font-size:.9rem}\n"
	"main{padding:1rem;max-width:75rem}\n"
	"table{border-collapse:collapse;margin:.5rem 0 1.5rem}\n"
	"th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}\n"
	"th{background:#eee}\n"
	"td.diff{background:#fde2e1;font-weight:700}\n"
	"td.late{background:#fff3cd}\n"
	"code{font-size:.85em;background:#f4f4f4;padding:0 .2em}\n"
	".chart{width:100%;max-width:44rem;height:auto}\n"
	".chart .axis{stroke:#333}\n.axis-label{font-size:11px}\n"
	".s-accepted,.s-credited{fill:#18753c;background:#18753c}\n"
	".s-rejected{fill:#ce0500;background:#ce0500}\n"
	".s-duplicate,.s-no_credit{fill:#888;background:#888}\n"
	".legend{display:inline-block;color:#fff;padding:0 .4em;margin-right:.5em}\n"
	"path.step{fill:none;stroke:#000091;stroke-width:2}\n"
	"circle.credit{fill:#18753c}\n"
	"img.scan{max-width:30rem;border:1px solid #ccc;display:block;margin:.5rem 0}\n"
	"form.filters label{margin-right:.75rem}\n"
	".field{font-weight:700}\n"
	"nav.pages a{margin-right:1rem}\n"
	"@page{size:A4;margin:15mm}\n"
	"@media print{header,nav.pages,form{display:none}main{max-width:none;padding:0}"
	"table{page-break-inside:auto}tr{page-break-inside:avoid}"
	"a{color:inherit;text-decoration:none}}\n";

struct html *page_new(const struct http_req *r, const char *title, html_node **main)
{
	struct html *h = html_new(title);
	html_node *body = html_body(h);
	html_node *header = html_el(body, "header", NULL);
	html_link(header, "/", "Tableau de bord");
	html_link(header, "/files", "Fichiers");
	html_link(header, "/review", "Révision");
	html_link(header, "/reports/monthly", "Rapport mensuel");
	if (r) {
		html_node *who = html_el(header, "span", NULL);
		html_attr(who, "class", "who");
		html_text(who, "Connecté : ");
		html_node *role = html_el(who, "span", r->role);
		html_attr(role, "data-field", "role");
		html_text(who, r->reviewer ? " (réviseur)" : " (auditeur)");
	}
	*main = html_el(body, "main", NULL);
	html_el(*main, "h1", title);
	return h;
}

html_node *page_form(const struct http_req *r, html_node *parent, const char *action)
{
	html_node *f = html_el(parent, "form", NULL);
	html_attr(f, "method", "post");
	html_attr(f, "action", action);
	html_node *in = html_el(f, "input", NULL);
	html_attr(in, "type", "hidden");
	html_attr(in, "name", "csrf");
	html_attr(in, "value", r->csrf);
	return f;
}

void page_reason(html_node *parent, const char *code)
{
	enum reason rs = reason_from_code(code);
	html_node *span = html_el(parent, "span", NULL);
	html_attr(span, "class", "reason");
	html_text(span, rs == REASON_COUNT ? code : reason_label_fr(rs));
	html_text(span, " ");
	html_el(span, "code", code);
}

/* "{a,b}" (PostgreSQL's text[] output: our codes need no quoting). */
void page_reasons(html_node *parent, const char *array)
{
	if (array == NULL || strlen(array) < 2)
		return;
	char *s = xstrdup(array + 1);
	s[strlen(s) - 1] = '\0';
	bool first = true;
	for (char *save = NULL, *c = strtok_r(s, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
		if (c[0] == '"') {
			c++;
			c[strcspn(c, "\"")] = '\0';
		}
		if (!first)
			html_el(parent, "br", NULL);
		page_reason(parent, c);
		first = false;
	}
	free(s);
}

void page_store_error(struct http_resp *out, int store_status, const char *err)
{
	if (store_status == STORE_INVALID)
		http_error(out, 404, err ? err : "Introuvable.");
	else if (store_status == STORE_UNAVAILABLE)
		http_error(out, 503, "La base de données est indisponible ; réessayez dans un moment.");
	else {
		log_error("action=console-query outcome=error error=\"%s\"", err ? err : "");
		http_error(out, 500, "Erreur interne : la requête a échoué (voir le journal).");
	}
}

bool page_cert_info(const char *der_b64, char subject[static 256], char not_after[static 32])
{
	subject[0] = not_after[0] = '\0';
	if (der_b64 == NULL || *der_b64 == '\0')
		return false;
	/* PostgreSQL's base64 breaks lines every 76 characters. */
	size_t n = strlen(der_b64);
	char *clean = xmalloc(n + 1), *o = clean;
	for (const char *p = der_b64; *p; p++)
		if (*p != '\n' && *p != '\r')
			*o++ = *p;
	*o = '\0';
	size_t len = strlen(clean);
	unsigned char *der = xmalloc(len + 1);
	int got = EVP_DecodeBlock(der, (const unsigned char *)clean, (int)len);
	bool ok = false;
	if (got > 0) {
		while (len > 0 && clean[len - 1] == '=') {
			got--;
			len--;
		}
		const unsigned char *p = der;
		X509 *x = d2i_X509(NULL, &p, got);
		struct tm tm;
		if (x) {
			X509_NAME_oneline(X509_get_subject_name(x), subject, 256);
			if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
				strftime(not_after, 32, "%Y-%m-%d", &tm);
			X509_free(x);
			ok = true;
		}
	}
	free(clean);
	free(der);
	return ok;
}

const char *page_fr(const char *code)
{
	static const char *const map[][2] = {
		{ "credited", "crédité" }, { "no_credit", "sans crédit" }, { "rejected", "rejeté" },
		{ "pending", "en attente" }, { "review", "en révision" },
		{ "accepted", "accepté" }, { "duplicate", "doublon" },
		{ "attestations", "attestations" }, { "signin-sheet", "feuille d'émargement" },
		{ "unknown", "inconnu" }, { "valid", "valide" }, { "suspended", "suspendu" },
		{ "invalidated", "invalidé" }, { "cancelled", "annulé" },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i][0], code) == 0)
			return map[i][1];
	return code;
}
