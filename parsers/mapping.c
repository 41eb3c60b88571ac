/*
 * mapping - xmlDoc to struct document (see mapping.h).
 *
 * The schema has already said most of this; the mapping says it again for
 * every value it copies (format, length, uniqueness), because the structs
 * go to the rules and the database with fixed-size buffers and must hold
 * whatever path led here.  What only the mapping can say: the pairings of
 * case with letter-48n and court-order, and the scans (strict base64,
 * 2 MiB, magic bytes of the declared media type, SHA-256).
 *
 * Messages name elements, attributes, lines, attestation numbers and
 * licences, never names or birth dates: they may be logged.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "date.h"
#include "mapping.h"
#include "parse_error.h"
#include "schema.h"
#include "xmalloc.h"

#define MAPPING_DSIG_NS "http://www.w3.org/2000/09/xmldsig#"

/* One mapping run: the error to fill and nothing else. */
struct mapping {
	struct parse_error *err;
};

static enum reason mapping_fail(struct mapping *m, const xmlNode *node, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum reason mapping_fail(struct mapping *m, const xmlNode *node, const char *fmt, ...)
{
	char msg[sizeof(m->err->message)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return parse_error_set(m->err, REASON_SCHEMA_INVALID, node ? (int)xmlGetLineNo(node) : 0, 0,
			       "%s", msg);
}

/* --- values --------------------------------------------------------------- */

static bool mapping_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The value without leading and trailing XML whitespace, as the schema
 * sees a value of a whitespace-collapsing type (dates, booleans). */
static void mapping_trim(const char *s, const char **start, size_t *len)
{
	size_t n = strlen(s);
	while (n > 0 && mapping_is_space(*s)) {
		s++;
		n--;
	}
	while (n > 0 && mapping_is_space(s[n - 1]))
		n--;
	*start = s;
	*len = n;
}

static bool mapping_digits(const char *s, size_t n, int *out)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return n > 0;
}

/* xs:date restricted to YYYY-MM-DD, no time zone; the schema's type
 * collapses whitespace, so the value is trimmed first. */
static bool mapping_parse_date(const char *value, date_t *out)
{
	const char *s;
	size_t n;
	char buf[11];
	mapping_trim(value, &s, &n);
	if (n != 10)
		return false;
	memcpy(buf, s, 10);
	buf[10] = '\0';
	return date_parse(buf, out);
}

/* xs:dateTime with an offset: YYYY-MM-DDTHH:MM:SS[.fff](Z|+hh:mm|-hh:mm).
 * Fractions of a second are dropped; 24:00:00 is the next midnight. */
static bool mapping_parse_date_time(const char *value, time_t *out)
{
	const char *s;
	size_t n;
	int h, mi, sec, oh = 0, om = 0;
	date_t day;
	mapping_trim(value, &s, &n);
	if (n < 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':')
		return false;
	char date[11];
	memcpy(date, s, 10);
	date[10] = '\0';
	if (!date_parse(date, &day) || !mapping_digits(s + 11, 2, &h) ||
	    !mapping_digits(s + 14, 2, &mi) || !mapping_digits(s + 17, 2, &sec))
		return false;
	size_t i = 19;
	bool fraction_zero = true;
	if (i < n && s[i] == '.') {
		size_t start = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			if (s[i] != '0')
				fraction_zero = false;
			i++;
		}
		if (i == start)
			return false;
	}
	if (i == n - 1 && s[i] == 'Z') {
		/* UTC */
	} else if (i == n - 6 && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':' &&
		   mapping_digits(s + i + 1, 2, &oh) && mapping_digits(s + i + 4, 2, &om)) {
		if (oh > 14 || om > 59 || (oh == 14 && om != 0))
			return false;
		if (s[i] == '-') {
			oh = -oh;
			om = -om;
		}
	} else {
		return false;
	}
	if (mi > 59 || sec > 59)
		return false;
	if (h > 23 && !(h == 24 && mi == 0 && sec == 0 && fraction_zero))
		return false;
	*out = (time_t)day * 86400 + h * 3600 + mi * 60 + sec -
	       (oh * 3600 + om * 60);
	return true;
}

/* Copies a value of at most max_chars characters, none of them a control
 * character (C0, DEL, C1), into buf.  libxml2 guarantees UTF-8. */
static bool mapping_text(const char *s, size_t max_chars, char *buf, size_t size)
{
	size_t chars = 0, len = strlen(s);
	const unsigned char *u = (const unsigned char *)s;
	if (len == 0 || len >= size)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (u[i] < 0x20 || u[i] == 0x7F)
			return false;
		if (u[i] == 0xC2 && i + 1 < len && u[i + 1] >= 0x80 && u[i + 1] <= 0x9F)
			return false;
		if ((u[i] & 0xC0) != 0x80)
			chars++;
	}
	if (chars > max_chars)
		return false;
	memcpy(buf, s, len + 1);
	return true;
}

/* Copies a value of min..max characters, all from the set `allowed`
 * (ranges as "AZ" pairs, then single characters after a '|'). */
static bool mapping_token(const char *s, size_t min, size_t max, const char *ranges,
			  const char *singles, char *buf, size_t size)
{
	size_t len = strlen(s);
	if (len < min || len > max || len >= size)
		return false;
	for (size_t i = 0; i < len; i++) {
		bool ok = strchr(singles, s[i]) != NULL;
		for (const char *r = ranges; !ok && r[0] && r[1]; r += 2)
			ok = s[i] >= r[0] && s[i] <= r[1];
		if (!ok)
			return false;
	}
	memcpy(buf, s, len + 1);
	return true;
}

/* 01-95, 2A, 2B, 971-976 (length tells which). */
static bool mapping_departement_ok(const char *s, size_t len)
{
	int v;
	if (len == 2 && s[0] == '2' && (s[1] == 'A' || s[1] == 'B'))
		return true;
	if (len == 2 && mapping_digits(s, 2, &v))
		return v >= 1 && v <= 95;
	if (len == 3 && mapping_digits(s, 3, &v))
		return v >= 971 && v <= 976;
	return false;
}

/* R + 2 digits + 001-095|02A|02B|971-976 + 5 digits. */
static bool mapping_approval_ok(const char *s)
{
	int v;
	if (strlen(s) != 11 || s[0] != 'R' || !mapping_digits(s + 1, 2, &v) ||
	    !mapping_digits(s + 6, 5, &v))
		return false;
	if (s[3] == '0' && s[4] == '2' && (s[5] == 'A' || s[5] == 'B'))
		return true;
	if (!mapping_digits(s + 3, 3, &v))
		return false;
	return (v >= 1 && v <= 95) || (v >= 971 && v <= 976);
}

/* --- elements and attributes ---------------------------------------------- */

static bool mapping_is(const xmlNode *node, const char *name)
{
	return node->type == XML_ELEMENT_NODE && node->ns && node->ns->href &&
	       strcmp((const char *)node->ns->href, SCHEMA_NAMESPACE) == 0 &&
	       strcmp((const char *)node->name, name) == 0;
}

static const xmlNode *mapping_next_element(const xmlNode *node)
{
	while (node && node->type != XML_ELEMENT_NODE)
		node = node->next;
	return node;
}

static const xmlNode *mapping_first_child(const xmlNode *node)
{
	return mapping_next_element(node->children);
}

static const xmlNode *mapping_next(const xmlNode *node)
{
	return mapping_next_element(node->next);
}

/* Text children only (the schema allows nothing else in these elements). */
static enum reason mapping_content(struct mapping *m, const xmlNode *node, xmlChar **out)
{
	*out = NULL;
	if (mapping_first_child(node))
		return mapping_fail(m, node, "element %s must not contain elements", node->name);
	*out = xmlNodeGetContent(node);
	if (*out == NULL)
		*out = xmlStrdup((const xmlChar *)"");
	return REASON_OK;
}

/*
 * Attribute values, without namespace, freed at the end of the run: the
 * mapping holds at most a handful at once, so a small pool avoids a free
 * after every check.
 */
struct mapping_attrs {
	xmlChar *v[8];
	size_t n;
};

static void mapping_attrs_free(struct mapping_attrs *a)
{
	for (size_t i = 0; i < a->n; i++)
		xmlFree(a->v[i]);
	a->n = 0;
}

static enum reason mapping_attr(struct mapping *m, struct mapping_attrs *a, const xmlNode *node,
				const char *name, const char **out)
{
	*out = NULL;
	xmlChar *v = xmlGetNoNsProp(node, (const xmlChar *)name);
	if (v == NULL)
		return mapping_fail(m, node, "element %s lacks attribute %s", node->name, name);
	if (a->n == sizeof(a->v) / sizeof(a->v[0])) {
		xmlFree(v);
		return parse_error_set(m->err, REASON_INTERNAL_ERROR, 0, 0, "mapping: attribute pool full");
	}
	a->v[a->n++] = v;
	*out = (const char *)v;
	return REASON_OK;
}

/* Looks a value up in a NULL-terminated table; -1 when absent. */
static int mapping_lookup(const char *value, const char *const *table)
{
	for (int i = 0; table[i]; i++)
		if (strcmp(value, table[i]) == 0)
			return i;
	return -1;
}

static const char *const mapping_sessions[] = { "1am", "1pm", "2am", "2pm", NULL };
static const char *const mapping_roles[] = { "psychologist", "road-safety-expert", NULL };
static const char *const mapping_id_types[] = { "id-card", "passport", "residence-permit",
						"driving-licence", NULL };
static const char *const mapping_media_types[] = { "application/pdf", "image/jpeg", "image/png",
						   NULL };

/* Fetches an attribute into var, or returns the failure from the caller. */
#define MAPPING_GET(m, a, node, name, var)                                   \
	do {                                                                 \
		enum reason r_ = mapping_attr((m), (a), (node), (name), &(var)); \
		if (r_ != REASON_OK)                                         \
			return r_;                                           \
	} while (0)

static enum reason mapping_bad(struct mapping *m, const xmlNode *node, const char *attr)
{
	return mapping_fail(m, node, "element %s: attribute %s has an invalid value",
			    node->name, attr);
}

static enum reason mapping_date_attr(struct mapping *m, struct mapping_attrs *a,
				     const xmlNode *node, const char *name, date_t *out)
{
	const char *v;
	MAPPING_GET(m, a, node, name, v);
	return mapping_parse_date(v, out) ? REASON_OK : mapping_bad(m, node, name);
}

static enum reason mapping_time_attr(struct mapping *m, struct mapping_attrs *a,
				     const xmlNode *node, const char *name, minute_of_day_t *out)
{
	const char *v;
	MAPPING_GET(m, a, node, name, v);
	return date_parse_time(v, out) ? REASON_OK : mapping_bad(m, node, name);
}

static enum reason mapping_name_attr(struct mapping *m, struct mapping_attrs *a,
				     const xmlNode *node, const char *name, char *buf, size_t size)
{
	const char *v;
	MAPPING_GET(m, a, node, name, v);
	return mapping_text(v, 100, buf, size) ? REASON_OK : mapping_bad(m, node, name);
}

static enum reason mapping_licence_attr(struct mapping *m, struct mapping_attrs *a,
					const xmlNode *node, char *buf)
{
	const char *v;
	MAPPING_GET(m, a, node, "licence", v);
	return mapping_token(v, 9, 15, "09AZ", "", buf, DOC_LICENCE_SIZE)
		       ? REASON_OK
		       : mapping_bad(m, node, "licence");
}

static enum reason mapping_enum_attr(struct mapping *m, struct mapping_attrs *a,
				     const xmlNode *node, const char *name,
				     const char *const *table, int *out)
{
	const char *v;
	MAPPING_GET(m, a, node, name, v);
	*out = mapping_lookup(v, table);
	return *out >= 0 ? REASON_OK : mapping_bad(m, node, name);
}

/* --- common parts ----------------------------------------------------------- */

static enum reason mapping_root(struct mapping *m, const xmlNode *root, struct document *doc)
{
	struct mapping_attrs a = { 0 };
	const char *v;
	enum reason r;

	if ((r = mapping_attr(m, &a, root, "version", &v)) != REASON_OK)
		goto out;
	if (strcmp(v, "1") != 0) {
		r = mapping_bad(m, root, "version");
		goto out;
	}
	if ((r = mapping_attr(m, &a, root, "created", &v)) != REASON_OK)
		goto out;
	if (!mapping_parse_date_time(v, &doc->created))
		r = mapping_bad(m, root, "created");
out:
	mapping_attrs_free(&a);
	return r;
}

static enum reason mapping_centre(struct mapping *m, const xmlNode *node, struct document *doc)
{
	struct mapping_attrs a = { 0 };
	const char *v;
	enum reason r = mapping_attr(m, &a, node, "approval", &v);
	if (r == REASON_OK) {
		if (mapping_approval_ok(v))
			memcpy(doc->approval, v, strlen(v) + 1);
		else
			r = mapping_bad(m, node, "approval");
	}
	mapping_attrs_free(&a);
	return r;
}

static enum reason mapping_stage_attrs(struct mapping *m, const xmlNode *node,
				       struct doc_stage *stage)
{
	struct mapping_attrs a = { 0 };
	const char *v;
	enum reason r;

	if ((r = mapping_attr(m, &a, node, "ref", &v)) != REASON_OK)
		goto out;
	if (!mapping_token(v, 1, 40, "AZaz09", "_-", stage->ref, sizeof(stage->ref))) {
		r = mapping_bad(m, node, "ref");
		goto out;
	}
	if ((r = mapping_attr(m, &a, node, "departement", &v)) != REASON_OK)
		goto out;
	if (!mapping_departement_ok(v, strlen(v))) {
		r = mapping_bad(m, node, "departement");
		goto out;
	}
	memcpy(stage->departement, v, strlen(v) + 1);
	if ((r = mapping_date_attr(m, &a, node, "first-day", &stage->first_day)) != REASON_OK)
		goto out;
	r = mapping_date_attr(m, &a, node, "last-day", &stage->last_day);
out:
	mapping_attrs_free(&a);
	return r;
}

static enum reason mapping_person(struct mapping *m, const xmlNode *node, struct doc_person *p)
{
	struct mapping_attrs a = { 0 };
	enum reason r;
	if ((r = mapping_licence_attr(m, &a, node, p->licence)) != REASON_OK ||
	    (r = mapping_name_attr(m, &a, node, "surname", p->surname,
				   sizeof(p->surname))) != REASON_OK ||
	    (r = mapping_name_attr(m, &a, node, "given-names", p->given_names,
				   sizeof(p->given_names))) != REASON_OK)
		goto out;
	r = mapping_date_attr(m, &a, node, "birth-date", &p->birth_date);
out:
	mapping_attrs_free(&a);
	return r;
}

/* Counts the elements named `name` among the children from `first` on. */
static size_t mapping_count(const xmlNode *first, const char *name)
{
	size_t n = 0;
	for (const xmlNode *c = first; c; c = mapping_next(c))
		if (mapping_is(c, name))
			n++;
	return n;
}

/* The optional trailing ds:Signature: nothing but it may follow the content. */
static enum reason mapping_tail(struct mapping *m, const xmlNode *node)
{
	if (node && node->ns && node->ns->href &&
	    strcmp((const char *)node->ns->href, MAPPING_DSIG_NS) == 0 &&
	    strcmp((const char *)node->name, "Signature") == 0)
		node = mapping_next(node);
	if (node)
		return mapping_fail(m, node, "unexpected element %s", node->name);
	return REASON_OK;
}

/* centre then stage, the start of both kinds; *next is what follows. */
static enum reason mapping_head(struct mapping *m, const xmlNode *root, struct document *doc,
				const xmlNode **stage, const xmlNode **next)
{
	enum reason r;
	const xmlNode *c = mapping_first_child(root);
	if (c == NULL || !mapping_is(c, "centre"))
		return mapping_fail(m, c ? c : root, "the first element must be centre");
	if ((r = mapping_centre(m, c, doc)) != REASON_OK)
		return r;
	c = mapping_next(c);
	if (c == NULL || !mapping_is(c, "stage"))
		return mapping_fail(m, c ? c : root, "stage must follow centre");
	if ((r = mapping_stage_attrs(m, c, &doc->stage)) != REASON_OK)
		return r;
	*stage = c;
	*next = mapping_next(c);
	return REASON_OK;
}

/* --- attestations ------------------------------------------------------------ */

static enum reason mapping_attestation(struct mapping *m, const xmlNode *node,
				       struct doc_attestation *at)
{
	struct mapping_attrs a = { 0 };
	const char *v;
	enum reason r;
	int c;

	at->line = (int)xmlGetLineNo(node);
	at->letter_48n_received = DATE_NONE;
	at->court_order_date = DATE_NONE;
	if ((r = mapping_attr(m, &a, node, "number", &v)) != REASON_OK)
		goto out;
	if (!mapping_token(v, 1, 64, "AZaz09", "_-", at->number, sizeof(at->number))) {
		r = mapping_bad(m, node, "number");
		goto out;
	}
	if ((r = mapping_attr(m, &a, node, "case", &v)) != REASON_OK)
		goto out;
	if (strlen(v) != 1 || !mapping_digits(v, 1, &c) || c < 1 || c > 4) {
		r = mapping_bad(m, node, "case");
		goto out;
	}
	at->stage_case = c;
	if ((r = mapping_date_attr(m, &a, node, "issued", &at->issued)) != REASON_OK)
		goto out;
	mapping_attrs_free(&a);

	const xmlNode *t = mapping_first_child(node);
	if (t == NULL || !mapping_is(t, "trainee")) {
		r = mapping_fail(m, t ? t : node, "attestation %s: trainee expected", at->number);
		goto out;
	}
	if ((r = mapping_person(m, t, &at->trainee)) != REASON_OK)
		goto out;
	const xmlNode *extra = mapping_next(t);
	if (extra && mapping_is(extra, "letter-48n")) {
		at->has_letter_48n = true;
		if ((r = mapping_date_attr(m, &a, extra, "received",
					   &at->letter_48n_received)) != REASON_OK)
			goto out;
	} else if (extra && mapping_is(extra, "court-order")) {
		at->has_court_order = true;
		if ((r = mapping_attr(m, &a, extra, "ref", &v)) != REASON_OK)
			goto out;
		/* printable ASCII, no space at either end */
		size_t len = strlen(v);
		if (len == 0 || v[0] == ' ' || v[len - 1] == ' ' ||
		    !mapping_token(v, 1, 100, " ~", "", at->court_order_ref,
				   sizeof(at->court_order_ref))) {
			r = mapping_bad(m, extra, "ref");
			goto out;
		}
		if ((r = mapping_date_attr(m, &a, extra, "date", &at->court_order_date)) != REASON_OK)
			goto out;
	} else if (extra) {
		r = mapping_fail(m, extra, "attestation %s: unexpected element %s", at->number,
				 extra->name);
		goto out;
	}
	if (extra && mapping_next(extra)) {
		r = mapping_fail(m, mapping_next(extra), "attestation %s: unexpected element %s",
				 at->number, mapping_next(extra)->name);
		goto out;
	}

	/* The pairings of §3, which XSD 1.0 cannot express. */
	if (at->has_letter_48n && at->stage_case != 2)
		r = mapping_fail(m, node, "attestation %s: a letter-48n is only allowed with case 2, "
				 "not case %d", at->number, at->stage_case);
	else if (at->has_court_order && at->stage_case < 3)
		r = mapping_fail(m, node, "attestation %s: a court-order is only allowed with "
				 "cases 3 and 4, not case %d", at->number, at->stage_case);
	else if (!at->has_court_order && at->stage_case >= 3)
		r = mapping_fail(m, node, "attestation %s: case %d requires a court-order",
				 at->number, at->stage_case);
out:
	mapping_attrs_free(&a);
	return r;
}

static enum reason mapping_attestations(struct mapping *m, const xmlNode *root,
					struct document *doc)
{
	const xmlNode *stage, *c;
	enum reason r;

	if ((r = mapping_head(m, root, doc, &stage, &c)) != REASON_OK)
		return r;
	if (mapping_first_child(stage))
		return mapping_fail(m, stage, "stage must be empty in an attestations file");
	size_t n = mapping_count(c, "attestation");
	if (n < 1 || n > DOC_MAX_ATTESTATIONS)
		return mapping_fail(m, root, "an attestations file holds 1 to %d attestations, "
				    "not %zu", DOC_MAX_ATTESTATIONS, n);
	doc->attestations = xcalloc(n, sizeof(*doc->attestations));
	for (; c && mapping_is(c, "attestation"); c = mapping_next(c)) {
		struct doc_attestation *at = &doc->attestations[doc->n_attestations];
		if ((r = mapping_attestation(m, c, at)) != REASON_OK)
			return r;
		for (size_t i = 0; i < doc->n_attestations; i++) {
			if (strcmp(doc->attestations[i].number, at->number) == 0)
				return mapping_fail(m, c, "attestation number %s appears twice",
						    at->number);
			if (strcmp(doc->attestations[i].trainee.licence, at->trainee.licence) == 0)
				return mapping_fail(m, c, "licence %s appears in two attestations",
						    at->trainee.licence);
		}
		doc->n_attestations++;
	}
	return mapping_tail(m, c);
}

/* --- sign-in sheet ------------------------------------------------------------- */

/* The RFC 4648 alphabet, for the value of the last character before '='. */
static const char mapping_b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static bool mapping_xml_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* How many of s[0..n) are among the characters of `which`: memchr(3) per
 * character rather than a test per byte, a sheet's scans being 20 times 2 KiB
 * or more (issue 14). */
static size_t mapping_count_bytes(const unsigned char *s, size_t n, const char *which)
{
	size_t count = 0;
	for (; *which; which++)
		for (const unsigned char *p = s, *end = s + n;
		     (p = memchr(p, *which, (size_t)(end - p))) != NULL; p++)
			count++;
	return count;
}

/*
 * The scan's base64, decoded by OpenSSL (EVP_DecodeBlock), not by code of
 * ours.  The schema has already checked the lexical form of xs:base64Binary
 * (alphabet, groups of four, '=' only at the end, canonical padding); what
 * is checked here anyway, because EVP_DecodeBlock does not and a document
 * may reach the mapping by another way than the pipeline's:
 *   - XML whitespace may sit anywhere: removed first (EVP_DecodeBlock only
 *     trims the ends and fails on inner spaces);
 *   - '=' only as the last one or two characters (EVP_DecodeBlock decodes
 *     "Q===" or "QQ=A" as zero bits), their bytes removed from the length;
 *   - the bits left unused before the padding are zero (xs:base64Binary's
 *     canonical form: one scan, one text, one hash);
 *   - any other character makes EVP_DecodeBlock fail: refused the same way.
 * The size is known before the decoded scan is allocated, so an oversized
 * scan costs nothing.
 */
static enum reason mapping_base64(struct mapping *m, const xmlNode *node, const char *text,
				  unsigned char **out, size_t *out_len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t total = strlen(text), spaces = mapping_count_bytes(s, total, " \t\n\r");
	size_t sig = total - spaces, pad = 0;
	/* From the first '=' on, only '=' and whitespace. */
	const unsigned char *eq = memchr(s, '=', total);
	for (const unsigned char *p = eq; p != NULL && *p; p++) {
		if (mapping_xml_space(*p))
			continue;
		if (*p != '=')
			return mapping_fail(m, node, "identity-document: the scan is not valid base64");
		pad++;
	}
	if (sig == 0 || sig % 4 != 0 || pad > 2)
		return mapping_fail(m, node, "identity-document: the scan is not valid base64");
	size_t len = sig / 4 * 3 - pad;
	if (len > DOC_MAX_SCAN_BYTES)
		return mapping_fail(m, node, "identity-document: the scan has %zu bytes, more than "
				    "the %u allowed", len, DOC_MAX_SCAN_BYTES);
	/* Packed only when there is whitespace to take out: a scan on one
	 * line (bench_gen's, most writers') is decoded where it is. */
	unsigned char *packed = NULL;
	const unsigned char *in = s;
	if (spaces > 0) {
		size_t n = 0;
		packed = xmalloc(sig + 1);
		for (const unsigned char *p = s; *p; p++)
			if (!mapping_xml_space(*p))
				packed[n++] = *p;
		packed[n] = '\0';
		in = packed;
	}
	/* 3 bytes for every 4 characters, padding decoded as zero bytes. */
	unsigned char *buf = xmalloc(sig / 4 * 3 + 1);
	enum reason r = REASON_OK;
	if (EVP_DecodeBlock(buf, in, (int)sig) != (int)(sig / 4 * 3)) {
		r = mapping_fail(m, node, "identity-document: the scan is not valid base64");
		goto out;
	}
	if (pad > 0) {
		const char *last = strchr(mapping_b64_alphabet, in[sig - pad - 1]);
		unsigned unused = pad == 1 ? 0x3 : 0xF;
		if (last == NULL || ((unsigned)(last - mapping_b64_alphabet) & unused) != 0) {
			r = mapping_fail(m, node, "identity-document: the scan's base64 padding is "
					 "not canonical");
			goto out;
		}
	}
	*out = buf;
	*out_len = len;
	buf = NULL;
out:
	free(buf);
	free(packed);
	return r;
}

static void mapping_sha256_hex(const unsigned char *data, size_t len, char hex[DOC_SHA256_HEX_SIZE])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];

	if (SHA256(data, len, md) == NULL) {
		hex[0] = '\0';
		return;
	}
	for (size_t i = 0; i < sizeof(md); i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[2 * sizeof(md)] = '\0';
}

static enum reason mapping_identity(struct mapping *m, const xmlNode *node,
				    struct doc_identity_document *id)
{
	static const struct {
		const char *magic;
		size_t len;
	} magic[] = {
		[MEDIA_PDF] = { "%PDF-", 5 },
		[MEDIA_JPEG] = { "\xFF\xD8\xFF", 3 },
		[MEDIA_PNG] = { "\x89PNG\r\n\x1A\n", 8 },
	};
	struct mapping_attrs a = { 0 };
	xmlChar *text = NULL;
	const char *v;
	int e;
	enum reason r;

	if ((r = mapping_enum_attr(m, &a, node, "type", mapping_id_types, &e)) != REASON_OK)
		goto out;
	id->type = (enum doc_id_type)e;
	if ((r = mapping_attr(m, &a, node, "number", &v)) != REASON_OK)
		goto out;
	if (!mapping_token(v, 1, 40, "!~", "", id->number, sizeof(id->number))) {
		r = mapping_bad(m, node, "number");
		goto out;
	}
	if ((r = mapping_enum_attr(m, &a, node, "media-type", mapping_media_types, &e)) != REASON_OK)
		goto out;
	id->media_type = (enum doc_media_type)e;
	if ((r = mapping_content(m, node, &text)) != REASON_OK)
		goto out;
	if ((r = mapping_base64(m, node, (const char *)text, &id->scan, &id->scan_size)) != REASON_OK)
		goto out;
	if (id->scan_size < magic[e].len || memcmp(id->scan, magic[e].magic, magic[e].len) != 0) {
		r = mapping_fail(m, node, "identity-document: the scan's first bytes are not "
				 "those of its media-type %s", mapping_media_types[e]);
		goto out;
	}
	mapping_sha256_hex(id->scan, id->scan_size, id->scan_sha256);
	if (id->scan_sha256[0] == '\0')
		r = parse_error_set(m->err, REASON_INTERNAL_ERROR, 0, 0, "SHA-256 unavailable");
out:
	xmlFree(text);
	mapping_attrs_free(&a);
	return r;
}

static enum reason mapping_presence(struct mapping *m, const xmlNode *node,
				    struct doc_participant *p)
{
	struct mapping_attrs a = { 0 };
	const char *v;
	int s;
	enum reason r;

	if ((r = mapping_enum_attr(m, &a, node, "session", mapping_sessions, &s)) != REASON_OK)
		goto out;
	struct doc_presence *pr = &p->presence[s];
	if (pr->present) {
		r = mapping_fail(m, node, "participant %s: two presences for session %s",
				 p->person.licence, mapping_sessions[s]);
		goto out;
	}
	pr->present = true;
	if ((r = mapping_time_attr(m, &a, node, "arrived", &pr->arrived)) != REASON_OK)
		goto out;
	if ((r = mapping_attr(m, &a, node, "signed", &v)) != REASON_OK)
		goto out;
	const char *t;
	size_t n;
	mapping_trim(v, &t, &n);
	if ((n == 4 && memcmp(t, "true", 4) == 0) || (n == 1 && t[0] == '1'))
		pr->signed_in = true;
	else if ((n == 5 && memcmp(t, "false", 5) == 0) || (n == 1 && t[0] == '0'))
		pr->signed_in = false;
	else
		r = mapping_bad(m, node, "signed");
out:
	mapping_attrs_free(&a);
	return r;
}

static enum reason mapping_participant(struct mapping *m, const xmlNode *node,
				       struct doc_participant *p)
{
	enum reason r;
	p->line = (int)xmlGetLineNo(node);
	if ((r = mapping_person(m, node, &p->person)) != REASON_OK)
		return r;
	const xmlNode *c = mapping_first_child(node);
	if (c == NULL || !mapping_is(c, "identity-document"))
		return mapping_fail(m, c ? c : node, "participant %s: identity-document expected",
				    p->person.licence);
	if ((r = mapping_identity(m, c, &p->identity)) != REASON_OK)
		return r;
	for (c = mapping_next(c); c && mapping_is(c, "presence"); c = mapping_next(c))
		if ((r = mapping_presence(m, c, p)) != REASON_OK)
			return r;
	if (c)
		return mapping_fail(m, c, "participant %s: unexpected element %s", p->person.licence,
				    c->name);
	return REASON_OK;
}

static enum reason mapping_sheet_stage(struct mapping *m, const xmlNode *stage,
				       struct doc_signin_sheet *sheet)
{
	struct mapping_attrs a = { 0 };
	xmlChar *text = NULL;
	bool seen[SESSION_COUNT] = { false };
	enum reason r;
	int s;

	const xmlNode *c = mapping_first_child(stage);
	if (c == NULL || !mapping_is(c, "venue")) {
		r = mapping_fail(m, c ? c : stage, "venue must be the stage's first element");
		goto out;
	}
	if ((r = mapping_content(m, c, &text)) != REASON_OK)
		goto out;
	if (!mapping_text((const char *)text, 300, sheet->venue, sizeof(sheet->venue))) {
		r = mapping_fail(m, c, "venue must have 1 to 300 characters, no control character");
		goto out;
	}
	size_t n = 0;
	for (c = mapping_next(c); c && mapping_is(c, "session"); c = mapping_next(c), n++) {
		if ((r = mapping_enum_attr(m, &a, c, "id", mapping_sessions, &s)) != REASON_OK)
			goto out;
		if (seen[s]) {
			r = mapping_fail(m, c, "session %s appears twice", mapping_sessions[s]);
			goto out;
		}
		seen[s] = true;
		struct doc_session_times *t = &sheet->sessions[s];
		if ((r = mapping_date_attr(m, &a, c, "date", &t->date)) != REASON_OK ||
		    (r = mapping_time_attr(m, &a, c, "start", &t->start)) != REASON_OK ||
		    (r = mapping_time_attr(m, &a, c, "end", &t->end)) != REASON_OK)
			goto out;
		mapping_attrs_free(&a);
	}
	if (c) {
		r = mapping_fail(m, c, "unexpected element %s in stage", c->name);
		goto out;
	}
	if (n != SESSION_COUNT)
		r = mapping_fail(m, stage, "the stage must have exactly 4 sessions, not %zu", n);
out:
	xmlFree(text);
	mapping_attrs_free(&a);
	return r;
}

static enum reason mapping_facilitator(struct mapping *m, const xmlNode *node,
				       struct doc_signin_sheet *sheet, bool seen[2])
{
	struct mapping_attrs a = { 0 };
	const char *v;
	int role;
	enum reason r;

	if ((r = mapping_enum_attr(m, &a, node, "role", mapping_roles, &role)) != REASON_OK)
		goto out;
	if (seen[role]) {
		r = mapping_fail(m, node, "two facilitators have the role %s: one psychologist and "
				 "one road-safety-expert are required", mapping_roles[role]);
		goto out;
	}
	seen[role] = true;
	struct doc_facilitator *f = &sheet->facilitators[role];
	f->role = (enum doc_role)role;
	if ((r = mapping_attr(m, &a, node, "authorisation", &v)) != REASON_OK)
		goto out;
	if (!mapping_token(v, 1, 64, "!~", "", f->authorisation, sizeof(f->authorisation))) {
		r = mapping_bad(m, node, "authorisation");
		goto out;
	}
	if ((r = mapping_name_attr(m, &a, node, "surname", f->surname,
				   sizeof(f->surname))) != REASON_OK)
		goto out;
	r = mapping_name_attr(m, &a, node, "given-names", f->given_names, sizeof(f->given_names));
out:
	mapping_attrs_free(&a);
	return r;
}

static enum reason mapping_sheet(struct mapping *m, const xmlNode *root, struct document *doc)
{
	struct doc_signin_sheet *sheet = &doc->sheet;
	const xmlNode *stage, *c;
	bool roles[2] = { false, false };
	enum reason r;

	if ((r = mapping_head(m, root, doc, &stage, &c)) != REASON_OK)
		return r;
	if ((r = mapping_sheet_stage(m, stage, sheet)) != REASON_OK)
		return r;
	size_t n_fac = 0;
	for (; c && mapping_is(c, "facilitator"); c = mapping_next(c), n_fac++) {
		if (n_fac == 2)
			return mapping_fail(m, c, "a sign-in sheet names exactly 2 facilitators");
		if ((r = mapping_facilitator(m, c, sheet, roles)) != REASON_OK)
			return r;
	}
	if (n_fac != 2)
		return mapping_fail(m, c ? c : root, "a sign-in sheet names exactly 2 facilitators");
	size_t n = mapping_count(c, "participant");
	if (n < 1 || n > DOC_MAX_PARTICIPANTS)
		return mapping_fail(m, root, "a sign-in sheet lists 1 to %d participants, not %zu",
				    DOC_MAX_PARTICIPANTS, n);
	sheet->participants = xcalloc(n, sizeof(*sheet->participants));
	for (; c && mapping_is(c, "participant"); c = mapping_next(c)) {
		struct doc_participant *p = &sheet->participants[sheet->n_participants];
		/* Counted before the mapping, so document_free releases the scan
		 * of a participant that fails half-way. */
		sheet->n_participants++;
		if ((r = mapping_participant(m, c, p)) != REASON_OK)
			return r;
		for (size_t i = 0; i + 1 < sheet->n_participants; i++)
			if (strcmp(sheet->participants[i].person.licence, p->person.licence) == 0)
				return mapping_fail(m, c, "licence %s appears for two participants",
						    p->person.licence);
	}
	return mapping_tail(m, c);
}

/* --- entry point ------------------------------------------------------------------- */

enum reason mapping_document(xmlDocPtr xml, struct document **out, struct parse_error *err)
{
	struct mapping m = { .err = err };
	struct parse_error local;
	struct document *doc = NULL;
	enum reason r;

	if (m.err == NULL)
		m.err = &local;
	parse_error_clear(m.err);
	*out = NULL;
	const xmlNode *root = xml ? xmlDocGetRootElement(xml) : NULL;
	enum schema_kind kind = schema_root_kind(xml);
	if (root == NULL || (kind != SCHEMA_KIND_ATTESTATIONS && kind != SCHEMA_KIND_SIGNIN_SHEET)) {
		r = mapping_fail(&m, root, "the root element must be attestations or signin-sheet "
				 "in namespace %s", SCHEMA_NAMESPACE);
		goto out;
	}
	doc = xcalloc(1, sizeof(*doc));
	doc->kind = (enum doc_kind)kind;
	if ((r = mapping_root(&m, root, doc)) != REASON_OK)
		goto out;
	if (kind == SCHEMA_KIND_ATTESTATIONS)
		r = mapping_attestations(&m, root, doc);
	else
		r = mapping_sheet(&m, root, doc);
	if (r == REASON_OK) {
		*out = doc;
		doc = NULL;
	}
out:
	document_free(doc);
	return r;
}
