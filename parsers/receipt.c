/*
 * receipt - builds, signs and serialises a receipt (see receipt.h).
 *
 * The document is made node by node with libxml2's tree API, so every value
 * is escaped by the serialiser and no text of ours is ever parsed as
 * markup.  Values the schema constrains are either checked (they come from
 * our own tables or from documents the parsers validated: a mismatch is our
 * defect, REASON_INTERNAL_ERROR) or, for free text (file name, messages),
 * made valid: a receipt must be writable whatever a centre named its file.
 *
 * Indentation is added as whitespace text nodes before signing, so the
 * signature covers the document exactly as it is written out.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <unistr.h>

#include "parse_error.h"
#include "receipt.h"
#include "schema.h"
#include "signature.h"
#include "xmalloc.h"

#define RECEIPT_FILE_NAME_MAX	255	/* characters, receipt.xsd file-name */
#define RECEIPT_TEXT_MAX	1000	/* characters, receipt.xsd message */

static const char *const receipt_kinds[] = { "attestations", "signin-sheet", "unknown", NULL };
static const char *const receipt_statuses[] = { "accepted", "rejected", "duplicate", NULL };
static const char *const receipt_decisions[] = {
	"credited", "no_credit", "rejected", "pending", "review", NULL,
};

static bool receipt_one_of(const char *s, const char *const *list)
{
	if (s == NULL)
		return false;
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/* 1..max characters, each from the ASCII set `allowed` (ranges as "az"). */
static bool receipt_token(const char *s, size_t max, const char *ranges, const char *extra)
{
	size_t n = strnlen(s, max + 1);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool ok = strchr(extra, s[i]) != NULL;
		for (const char *r = ranges; !ok && r[0] && r[1]; r += 2)
			ok = s[i] >= r[0] && s[i] <= r[1];
		if (!ok)
			return false;
	}
	return true;
}

/*
 * Free text as the schema wants it: valid UTF-8, none of \p{Cc} (C0, DEL,
 * C1) nor XML-forbidden code points, '/' too in a file name, at most max
 * characters.  Each refused byte or sequence becomes one '?', so the result
 * is never longer than the input.  Freshly allocated.
 */
static char *receipt_clean(const char *in, size_t max, bool file_name)
{
	size_t n = strlen(in), o = 0, chars = 0;
	char *out = xmalloc(n + 1);

	for (size_t i = 0; i < n && chars < max; chars++) {
		ucs4_t uc;
		int k = u8_mbtouc(&uc, (const uint8_t *)in + i, n - i);
		bool refused = uc < 0x20 || (uc >= 0x7f && uc <= 0x9f) || uc == 0xfffd ||
			       uc == 0xfffe || uc == 0xffff || (file_name && uc == '/');
		/* u8_mbtouc reports an invalid sequence as U+FFFD; a genuine
		 * U+FFFD in the input is kept. */
		if (uc == 0xfffd && k == 3 && memcmp(in + i, "\xef\xbf\xbd", 3) == 0)
			refused = false;
		if (refused) {
			out[o++] = '?';
		} else {
			memcpy(out + o, in + i, (size_t)k);
			o += (size_t)k;
		}
		i += (size_t)k;
	}
	out[o] = '\0';
	return out;
}

/* --- the tree ------------------------------------------------------------- */

struct receipt_tree {
	xmlDocPtr doc;
	xmlNsPtr ns;
	bool failed;			/* libxml2 could not allocate */
};

static void receipt_prop(struct receipt_tree *t, xmlNodePtr node, const char *name,
			 const char *value)
{
	if (node != NULL && xmlNewProp(node, BAD_CAST name, BAD_CAST value) == NULL)
		t->failed = true;
}

static void receipt_indent(struct receipt_tree *t, xmlNodePtr parent, int depth)
{
	static const char spaces[] = "\n        ";
	xmlNodePtr text;

	if (parent == NULL)
		return;
	text = xmlNewDocTextLen(t->doc, BAD_CAST spaces, 1 + 2 * depth);
	if (text == NULL || xmlAddChild(parent, text) == NULL) {
		xmlFreeNode(text);
		t->failed = true;
	}
}

/* A child element on its own indented line; text (may be NULL) is escaped. */
static xmlNodePtr receipt_child(struct receipt_tree *t, xmlNodePtr parent, int depth,
				const char *name, const char *text)
{
	xmlNodePtr node;

	if (parent == NULL)
		return NULL;
	receipt_indent(t, parent, depth);
	node = xmlNewTextChild(parent, t->ns, BAD_CAST name, text ? BAD_CAST text : NULL);
	if (node == NULL)
		t->failed = true;
	return node;
}

/* A permanent code of one of the message levels, for error, stage-finding
 * and reason elements. */
static bool receipt_message_code(enum reason code)
{
	return code > REASON_OK && code < REASON_COUNT && !reason_is_temporary(code) &&
	       reason_level(code) != REASON_LEVEL_FLAG;
}

static void receipt_message(struct receipt_tree *t, xmlNodePtr parent, int depth,
			    const char *name, const struct receipt_message *m)
{
	char *text = receipt_clean(m->message[0] != '\0' ? m->message : reason_text(m->code),
				   RECEIPT_TEXT_MAX, false);
	xmlNodePtr node = receipt_child(t, parent, depth, name, text);

	receipt_prop(t, node, "code", reason_code(m->code));
	free(text);
}

static enum reason receipt_check_messages(const struct receipt_message *m, size_t n,
					  const char *what, struct parse_error *err)
{
	if (n > 0 && m == NULL)
		return parse_error_set(err, REASON_INTERNAL_ERROR, 0, 0, "receipt: %zu %s, no array",
				       n, what);
	for (size_t i = 0; i < n; i++)
		if (!receipt_message_code(m[i].code) ||
		    memchr(m[i].message, '\0', sizeof(m[i].message)) == NULL)
			return parse_error_set(err, REASON_INTERNAL_ERROR, 0, 0,
					       "receipt: %s %zu: code %d is not for a receipt, or "
					       "the message is not terminated", what, i, (int)m[i].code);
	return REASON_OK;
}

static enum reason receipt_check_attestation(const struct receipt_attestation *a, size_t i,
					     struct parse_error *err)
{
	const char *bad = NULL;

	if (!receipt_token(a->number, DOC_NUMBER_SIZE - 1, "azAZ09", "_-"))
		bad = "number";
	else if (!receipt_token(a->licence, DOC_LICENCE_SIZE - 1, "AZ09", "") ||
		 strlen(a->licence) < 9)
		bad = "licence";
	else if (!receipt_one_of(a->decision, receipt_decisions))
		bad = "decision";
	else if (a->points < 0 || a->points > 12)
		bad = "points";
	else if (a->effective != DATE_NONE && date_add_days(a->effective, 0) == DATE_NONE)
		bad = "effective date";
	else if (a->n_reasons > RECEIPT_MAX_REASONS || a->n_flags > RECEIPT_MAX_FLAGS)
		bad = "number of reasons or flags";
	if (bad != NULL)
		return parse_error_set(err, REASON_INTERNAL_ERROR, 0, 0,
				       "receipt: attestation %zu: invalid %s", i, bad);
	for (size_t k = 0; k < a->n_flags; k++)
		if (a->flags[k] <= REASON_OK || a->flags[k] >= REASON_COUNT ||
		    reason_level(a->flags[k]) != REASON_LEVEL_FLAG)
			return parse_error_set(err, REASON_INTERNAL_ERROR, 0, 0,
					       "receipt: attestation %zu: code %d is not a flag", i,
					       (int)a->flags[k]);
	return receipt_check_messages(a->reasons, a->n_reasons, "reason", err);
}

/* What receipt.xsd and §6 require of the description, before any node. */
static enum reason receipt_check(const struct receipt *r, struct parse_error *err)
{
	const char *bad = NULL;
	bool rejected, duplicate;
	enum reason rc;

	if (r->file_name == NULL)
		bad = "no file name";
	else if (!receipt_token(r->sha256, 64, "af09", "") || strlen(r->sha256) != 64)
		bad = "sha256 is not 64 lower-case hex digits";
	else if (!receipt_one_of(r->kind, receipt_kinds))
		bad = "unknown kind";
	else if (!receipt_one_of(r->status, receipt_statuses))
		bad = "unknown status";
	else if (r->timezone == NULL)
		bad = "no time zone";
	if (bad != NULL)
		return parse_error_set(err, REASON_INTERNAL_ERROR, 0, 0, "receipt: %s", bad);
	rejected = strcmp(r->status, "rejected") == 0;
	duplicate = strcmp(r->status, "duplicate") == 0;
	if (rejected ? r->n_errors == 0 : strcmp(r->status, "accepted") == 0 && r->n_errors > 0)
		bad = "a rejected file needs errors, an accepted one has none";
	else if (duplicate != (r->first_file != NULL))
		bad = "first-file goes with status duplicate, and only there";
	else if (r->n_attestations > RECEIPT_MAX_ATTESTATIONS ||
		 (rejected && r->n_attestations > 0))
		bad = "too many attestations, or attestations on a rejected file";
	else if (r->n_attestations > 0 && r->attestations == NULL)
		bad = "attestations without an array";
	if (bad != NULL)
		return parse_error_set(err, REASON_INTERNAL_ERROR, 0, 0, "receipt: %s", bad);
	if ((rc = receipt_check_messages(r->errors, r->n_errors, "error", err)) != REASON_OK ||
	    (rc = receipt_check_messages(r->findings, r->n_findings, "stage-finding", err)) !=
		    REASON_OK)
		return rc;
	for (size_t i = 0; i < r->n_attestations; i++)
		if ((rc = receipt_check_attestation(&r->attestations[i], i, err)) != REASON_OK)
			return rc;
	return REASON_OK;
}

static void receipt_attestation(struct receipt_tree *t, xmlNodePtr root,
				const struct receipt_attestation *a)
{
	xmlNodePtr node = receipt_child(t, root, 1, "attestation", NULL);
	char points[8], date[11];

	receipt_prop(t, node, "number", a->number);
	receipt_prop(t, node, "licence", a->licence);
	receipt_prop(t, node, "decision", a->decision);
	snprintf(points, sizeof(points), "%d", a->points);
	receipt_prop(t, node, "points", points);
	if (a->effective != DATE_NONE) {
		date_format(a->effective, date);
		receipt_prop(t, node, "effective-date", date);
	}
	for (size_t i = 0; i < a->n_reasons; i++)
		receipt_message(t, node, 2, "reason", &a->reasons[i]);
	for (size_t i = 0; i < a->n_flags; i++) {
		xmlNodePtr flag = receipt_child(t, node, 2, "flag", NULL);
		receipt_prop(t, flag, "code", reason_code(a->flags[i]));
	}
	if (a->n_reasons + a->n_flags > 0)
		receipt_indent(t, node, 1);
}

static enum reason receipt_times(const struct receipt *r, char received[26], char processed[26],
				 char first[26], struct parse_error *err)
{
	if (!date_format_local_datetime(r->received, r->timezone, received) ||
	    !date_format_local_datetime(r->processed, r->timezone, processed) ||
	    (r->first_file != NULL &&
	     !date_format_local_datetime(r->first_received, r->timezone, first)))
		return parse_error_set(err, REASON_INTERNAL_ERROR, 0, 0,
				       "receipt: cannot show the times in time zone '%.64s'",
				       r->timezone);
	return REASON_OK;
}

enum reason receipt_build(const struct receipt *r, const struct sig_signer *signer,
			  unsigned char **xml, size_t *len, struct parse_error *err)
{
	struct receipt_tree t = { 0 };
	char received[26], processed[26], first[26];
	char *file = NULL, *first_file = NULL;
	xmlChar *mem = NULL;
	xmlNodePtr root;
	int size = 0;
	enum reason rc;

	if ((rc = receipt_check(r, err)) != REASON_OK ||
	    (rc = receipt_times(r, received, processed, first, err)) != REASON_OK)
		return rc;
	file = receipt_clean(r->file_name, RECEIPT_FILE_NAME_MAX, true);
	if (file[0] == '\0') {
		free(file);
		file = xstrdup("?");
	}
	t.doc = xmlNewDoc(BAD_CAST "1.0");
	root = t.doc ? xmlNewDocNode(t.doc, NULL, BAD_CAST "receipt", NULL) : NULL;
	if (root == NULL) {
		rc = parse_error_set(err, REASON_INTERNAL_ERROR, 0, 0, "receipt: out of memory");
		goto out;
	}
	xmlDocSetRootElement(t.doc, root);
	if ((t.ns = xmlNewNs(root, BAD_CAST SCHEMA_NAMESPACE, NULL)) == NULL)
		t.failed = true;
	xmlSetNs(root, t.ns);
	receipt_prop(&t, root, "version", "1");
	receipt_prop(&t, root, "file", file);
	receipt_prop(&t, root, "sha256", r->sha256);
	receipt_prop(&t, root, "kind", r->kind);
	receipt_prop(&t, root, "received", received);
	receipt_prop(&t, root, "processed", processed);
	receipt_prop(&t, root, "status", r->status);
	if (r->first_file != NULL) {
		first_file = receipt_clean(r->first_file, RECEIPT_FILE_NAME_MAX, true);
		receipt_prop(&t, root, "first-file", first_file[0] ? first_file : "?");
		receipt_prop(&t, root, "first-received", first);
	}
	for (size_t i = 0; i < r->n_errors; i++)
		receipt_message(&t, root, 1, "error", &r->errors[i]);
	for (size_t i = 0; i < r->n_findings; i++)
		receipt_message(&t, root, 1, "stage-finding", &r->findings[i]);
	for (size_t i = 0; i < r->n_attestations; i++)
		receipt_attestation(&t, root, &r->attestations[i]);
	receipt_indent(&t, root, 0);
	if (t.failed) {
		rc = parse_error_set(err, REASON_INTERNAL_ERROR, 0, 0, "receipt: out of memory");
		goto out;
	}
	if (signer != NULL && (rc = sig_sign(t.doc, signer, err)) != REASON_OK)
		goto out;
	xmlDocDumpMemoryEnc(t.doc, &mem, &size, "UTF-8");
	if (mem == NULL || size <= 0) {
		rc = parse_error_set(err, REASON_INTERNAL_ERROR, 0, 0, "receipt: cannot serialise");
		goto out;
	}
	/* Ours to free with free(3), whatever allocator libxml2 was given. */
	*xml = xmalloc((size_t)size);
	memcpy(*xml, mem, (size_t)size);
	*len = (size_t)size;
	rc = REASON_OK;
out:
	xmlFree(mem);
	xmlFreeDoc(t.doc);
	free(file);
	free(first_file);
	return rc;
}

struct sig_signer *receipt_signer_load(const char *key_file, const char *cert_file,
				       struct parse_error *err)
{
	return sig_signer_load(key_file, cert_file, err);
}

void receipt_signer_free(struct sig_signer *signer)
{
	sig_signer_free(signer);
}
