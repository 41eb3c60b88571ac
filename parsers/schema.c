/*
 * schema - compiles the embedded XSD schemas and validates documents
 * against them (see schema.h).
 *
 * The schemas are read from the copies compiled into the binary
 * (daemon/embedded.h), never from the disk or the network.  The common
 * types.xsd is named by an xs:include in each document schema, so that
 * other tools can use the files as they are; here the include is resolved
 * by splicing the embedded types.xsd into the including schema before it is
 * compiled, so libxml2 never loads anything.
 *
 * libxml2 quotes the offending value in its validation messages, and the
 * value may be a name or a birth date: messages are redacted (the value
 * replaced by an ellipsis) before they reach a struct parse_error, which may
 * be logged.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include "document.h"
#include "embedded.h"
#include "parse_error.h"
#include "schema.h"
#include "xmalloc.h"

#define SCHEMA_XS_NS	"http://www.w3.org/2001/XMLSchema"
#define SCHEMA_DIR	"parsers/schemas/"
#define SCHEMA_TYPES	"types.xsd"

static const struct {
	enum schema_kind kind;
	const char *root;
	const char *file;
} schema_table[] = {
	{ SCHEMA_KIND_ATTESTATIONS, "attestations", SCHEMA_DIR "attestations.xsd" },
	{ SCHEMA_KIND_SIGNIN_SHEET, "signin-sheet", SCHEMA_DIR "signin-sheet.xsd" },
	{ SCHEMA_KIND_RECEIPT, "receipt", SCHEMA_DIR "receipt.xsd" },
};
#define SCHEMA_COUNT (sizeof(schema_table) / sizeof(schema_table[0]))

struct schema_set {
	/* The compiled schemas may point into their source documents, which
	 * therefore live as long as they do. */
	xmlDocPtr docs[SCHEMA_COUNT];
	xmlSchemaPtr schemas[SCHEMA_COUNT];
};

/* The first error of a libxml2 parse, compilation or validation. */
struct schema_capture {
	bool seen;
	int line;
	int code;
	char message[1024];
};

static void schema_capture_error(void *data, xmlErrorPtr e)
{
	struct schema_capture *cap = data;
	if (cap == NULL || e == NULL || e->level < XML_ERR_ERROR || cap->seen)
		return;
	cap->seen = true;
	cap->line = e->line;
	cap->code = e->code;
	snprintf(cap->message, sizeof(cap->message), "%s", e->message ? e->message : "");
}

/* The parser's error channel receives the parser context. */
static void schema_read_error(void *ctx, xmlErrorPtr e)
{
	xmlParserCtxtPtr ctxt = ctx;
	schema_capture_error(ctxt ? ctxt->_private : NULL, e);
}

/* --- redaction of validation messages ------------------------------------ */

/* Length of "Element '<name>'" or ", attribute '<name>'" at s, or 0.  XML
 * names cannot hold a quote, so the closing quote is the name's end. */
static size_t schema_named_part(const char *s, const char *intro)
{
	size_t n = strlen(intro);
	if (strncmp(s, intro, n) != 0)
		return 0;
	const char *q = strchr(s + n, '\'');
	return q ? (size_t)(q + 1 - s) : 0;
}

/* Last occurrence of needle in [from, end), or NULL. */
static const char *schema_last(const char *from, const char *end, const char *needle)
{
	const char *last = NULL;
	size_t n = strlen(needle);
	for (const char *p = from; p + n <= end; p++)
		if (memcmp(p, needle, n) == 0)
			last = p;
	return last;
}

/*
 * Copies msg to out with the document's value left out.  libxml2 writes
 * "Element 'e', attribute 'a': <body>" where the body quotes the value as
 * "The value '<v>' is/has/does ...", "'<v>' is not a valid value ..." or
 * "key-sequence ['<v>'] in ...".  The value may hold anything, quotes
 * included, so it runs to the last continuation of that shape; when the
 * message was cut short, everything after the value's start goes.
 */
static void schema_redact(const char *msg, char *out, size_t size)
{
	const char *p = msg;
	size_t n = schema_named_part(p, "Element '");
	if (n) {
		p += n;
		p += schema_named_part(p, ", attribute '");
		if (strncmp(p, ": ", 2) == 0)
			p += 2;
	}
	const char *end = msg + strlen(msg);
	const char *value = NULL;
	const char *rest = NULL;
	const char *mask = "'…'";
	if (*p == '\'') {
		value = p;
	} else if ((value = strstr(p, "value '")) != NULL) {
		value += strlen("value ");
	} else if ((value = strstr(p, "key-sequence [")) != NULL) {
		value += strlen("key-sequence ");
		mask = "[…]";
		rest = schema_last(value + 1, end, "] in ");
		if (rest)
			rest++;
	}
	if (value && mask[0] == '\'') {
		static const char *const anchors[] = { "' is ", "' has ", "' does " };
		for (size_t i = 0; i < sizeof(anchors) / sizeof(anchors[0]); i++) {
			const char *a = schema_last(value + 1, end, anchors[i]);
			if (a && (rest == NULL || a + 1 > rest))
				rest = a + 1;
		}
	}
	if (value == NULL)
		snprintf(out, size, "%s", msg);
	else
		snprintf(out, size, "%.*s%s%s", (int)(value - msg), msg, mask, rest ? rest : "");
}

/* --- loading ------------------------------------------------------------- */

/* Parses one embedded file (our own, trusted: a failure is a build defect). */
static xmlDocPtr schema_read(const char *name, struct parse_error *err)
{
	const struct embedded_file *f = embedded_find(name);
	if (f == NULL) {
		parse_error_set(err, REASON_INTERNAL_ERROR, 0, 0,
				"schema %s is not embedded in this binary", name);
		return NULL;
	}
	struct schema_capture cap = { 0 };
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	if (ctxt == NULL) {
		parse_error_set(err, REASON_INTERNAL_ERROR, 0, 0, "cannot create a parser context");
		return NULL;
	}
	ctxt->sax->serror = schema_read_error;
	ctxt->sax->warning = NULL;
	ctxt->sax->error = NULL;
	ctxt->sax->fatalError = NULL;
	ctxt->_private = &cap;
	xmlDocPtr doc = xmlCtxtReadMemory(ctxt, (const char *)f->data, (int)f->size, name, "UTF-8",
					  XML_PARSE_NONET);
	xmlFreeParserCtxt(ctxt);
	if (doc == NULL || xmlDocGetRootElement(doc) == NULL)
		parse_error_set(err, REASON_INTERNAL_ERROR, cap.line, 0,
				"embedded schema %s is not well-formed: %s", name, cap.message);
	return doc;
}

static bool schema_is_xs(const xmlNode *node, const char *name)
{
	return node->type == XML_ELEMENT_NODE && node->ns && node->ns->href &&
	       strcmp((const char *)node->ns->href, SCHEMA_XS_NS) == 0 &&
	       strcmp((const char *)node->name, name) == 0;
}

/* Replaces each <xs:include schemaLocation="types.xsd"/> of doc by copies of
 * the top-level components of types.xsd (same target namespace). */
static enum reason schema_splice_includes(xmlDocPtr doc, const char *name, xmlDocPtr types,
					  struct parse_error *err)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlNodePtr types_root = xmlDocGetRootElement(types);
	xmlNodePtr next;
	for (xmlNodePtr child = root->children; child; child = next) {
		next = child->next;
		if (!schema_is_xs(child, "include"))
			continue;
		xmlChar *loc = xmlGetNoNsProp(child, (const xmlChar *)"schemaLocation");
		bool ours = loc && strcmp((const char *)loc, SCHEMA_TYPES) == 0;
		xmlFree(loc);
		if (!ours)
			return parse_error_set(err, REASON_INTERNAL_ERROR, (int)xmlGetLineNo(child), 0,
					       "schema %s includes something other than %s",
					       name, SCHEMA_TYPES);
		for (xmlNodePtr t = types_root->children; t; t = t->next) {
			if (t->type != XML_ELEMENT_NODE)
				continue;
			xmlNodePtr copy = xmlDocCopyNode(t, doc, 1);
			if (copy == NULL || xmlAddPrevSibling(child, copy) == NULL) {
				xmlFreeNode(copy);
				return parse_error_set(err, REASON_INTERNAL_ERROR, 0, 0,
						       "cannot splice %s into %s", SCHEMA_TYPES, name);
			}
		}
		xmlUnlinkNode(child);
		xmlFreeNode(child);
	}
	return REASON_OK;
}

static xmlSchemaPtr schema_compile(xmlDocPtr doc, const char *name, struct parse_error *err)
{
	struct schema_capture cap = { 0 };
	xmlSchemaParserCtxtPtr pctxt = xmlSchemaNewDocParserCtxt(doc);
	if (pctxt == NULL) {
		parse_error_set(err, REASON_INTERNAL_ERROR, 0, 0, "cannot create a schema parser");
		return NULL;
	}
	xmlSchemaSetParserStructuredErrors(pctxt, schema_capture_error, &cap);
	xmlSchemaPtr schema = xmlSchemaParse(pctxt);
	xmlSchemaFreeParserCtxt(pctxt);
	if (schema == NULL)
		parse_error_set(err, REASON_INTERNAL_ERROR, cap.line, 0,
				"embedded schema %s does not compile: %s", name,
				cap.seen ? cap.message : "unknown error");
	return schema;
}

struct schema_set *schema_set_load(struct parse_error *err)
{
	struct schema_set *set = xcalloc(1, sizeof(*set));
	xmlDocPtr types = NULL;
	bool ok = false;

	parse_error_clear(err);
	if ((types = schema_read(SCHEMA_DIR SCHEMA_TYPES, err)) == NULL)
		goto out;
	for (size_t i = 0; i < SCHEMA_COUNT; i++) {
		const char *name = schema_table[i].file;
		if ((set->docs[i] = schema_read(name, err)) == NULL)
			goto out;
		if (schema_splice_includes(set->docs[i], name, types, err) != REASON_OK)
			goto out;
		if ((set->schemas[i] = schema_compile(set->docs[i], name, err)) == NULL)
			goto out;
	}
	ok = true;
out:
	xmlFreeDoc(types);
	if (!ok) {
		schema_set_free(set);
		set = NULL;
	}
	return set;
}

void schema_set_free(struct schema_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < SCHEMA_COUNT; i++) {
		if (set->schemas[i])
			xmlSchemaFree(set->schemas[i]);
		xmlFreeDoc(set->docs[i]);
	}
	free(set);
}

/* --- validation ---------------------------------------------------------- */

enum schema_kind schema_root_kind(const xmlDoc *doc)
{
	const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (root == NULL || root->ns == NULL || root->ns->href == NULL ||
	    strcmp((const char *)root->ns->href, SCHEMA_NAMESPACE) != 0)
		return SCHEMA_KIND_UNKNOWN;
	for (size_t i = 0; i < SCHEMA_COUNT; i++)
		if (strcmp((const char *)root->name, schema_table[i].root) == 0)
			return schema_table[i].kind;
	return SCHEMA_KIND_UNKNOWN;
}

/* How many of s[0..n) are among the characters of `which`: memchr(3) per
 * character rather than a test per byte, the scans being long. */
static size_t schema_count(const xmlChar *s, size_t n, const char *which)
{
	size_t count = 0;
	for (; *which; which++)
		for (const xmlChar *p = s, *end = s + n;
		     (p = memchr(p, *which, (size_t)(end - p))) != NULL; p++)
			count++;
	return count;
}

/*
 * The identity scans' size (1 byte to 2 MiB decoded), by length, before the
 * schema: with length facets on xs:base64Binary, libxml2 decodes every
 * scan to measure it, most of a sheet's validation time (issue 14).  The
 * characters counted are the base64 ones (whitespace is allowed anywhere);
 * whether they are valid base64 is the schema's lexical check and the
 * mapping's strict decode.  The reason stays the spec's: schema_invalid.
 */
static enum reason schema_scan_sizes(xmlNodePtr node, struct parse_error *err)
{
	for (; node; node = node->next) {
		if (node->type != XML_ELEMENT_NODE)
			continue;
		if (node->ns && strcmp((const char *)node->ns->href, SCHEMA_NAMESPACE) == 0 &&
		    strcmp((const char *)node->name, "identity-document") == 0) {
			size_t sig = 0, pad = 0;
			for (xmlNodePtr t = node->children; t; t = t->next) {
				if ((t->type != XML_TEXT_NODE && t->type != XML_CDATA_SECTION_NODE) ||
				    t->content == NULL)
					continue;
				size_t n = strlen((const char *)t->content);
				sig += n - schema_count(t->content, n, " \t\n\r");
				pad += schema_count(t->content, n, "=");
			}
			size_t bytes = sig / 4 * 3 + (sig % 4 ? sig % 4 - 1 : 0);
			bytes = bytes > pad ? bytes - pad : 0;
			if (bytes == 0)
				return parse_error_set(err, REASON_SCHEMA_INVALID,
						       (int)xmlGetLineNo(node), 0,
						       "identity-document: the scan is empty");
			if (bytes > DOC_MAX_SCAN_BYTES)
				return parse_error_set(err, REASON_SCHEMA_INVALID,
						       (int)xmlGetLineNo(node), 0,
						       "identity-document: the scan has %zu bytes, more "
						       "than the %u allowed", bytes, DOC_MAX_SCAN_BYTES);
			continue;
		}
		enum reason r = schema_scan_sizes(node->children, err);
		if (r != REASON_OK)
			return r;
	}
	return REASON_OK;
}

enum reason schema_set_validate(const struct schema_set *set, xmlDocPtr doc,
				enum schema_kind *kind, struct parse_error *err)
{
	struct schema_capture cap = { 0 };
	xmlSchemaValidCtxtPtr vctxt = NULL;
	xmlSchemaPtr schema = NULL;
	enum reason r;

	parse_error_clear(err);
	enum schema_kind k = schema_root_kind(doc);
	if (kind)
		*kind = k;
	if (k == SCHEMA_KIND_UNKNOWN) {
		xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
		return parse_error_set(err, REASON_SCHEMA_INVALID,
				       root ? (int)xmlGetLineNo(root) : 0, 0,
				       "the root element must be attestations, signin-sheet or receipt "
				       "in namespace %s", SCHEMA_NAMESPACE);
	}
	for (size_t i = 0; set && i < SCHEMA_COUNT; i++)
		if (schema_table[i].kind == k)
			schema = set->schemas[i];
	if (schema == NULL)
		return parse_error_set(err, REASON_INTERNAL_ERROR, 0, 0, "no compiled schema");
	if (k == SCHEMA_KIND_SIGNIN_SHEET &&
	    (r = schema_scan_sizes(xmlDocGetRootElement(doc), err)) != REASON_OK)
		return r;

	if ((vctxt = xmlSchemaNewValidCtxt(schema)) == NULL) {
		r = parse_error_set(err, REASON_INTERNAL_ERROR, 0, 0,
				    "cannot create a validation context");
		goto out;
	}
	xmlSchemaSetValidStructuredErrors(vctxt, schema_capture_error, &cap);
	/* No XML_SCHEMA_VAL_VC_I_CREATE: the tree that was signed is the tree
	 * that is read, so the validator must not add default attributes. */
	xmlSchemaSetValidOptions(vctxt, 0);
	int ret = xmlSchemaValidateDoc(vctxt, doc);
	if (ret == 0) {
		r = REASON_OK;
	} else if (ret > 0) {
		char redacted[sizeof(err->message)];
		schema_redact(cap.seen ? cap.message : "the document does not follow the schema",
			      redacted, sizeof(redacted));
		r = parse_error_set(err, REASON_SCHEMA_INVALID, cap.line, 0, "%s", redacted);
	} else {
		r = parse_error_set(err, REASON_INTERNAL_ERROR, cap.line, 0,
				    "the schema validator failed");
	}
out:
	if (vctxt)
		xmlSchemaFreeValidCtxt(vctxt);
	return r;
}
