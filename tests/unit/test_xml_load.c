/*
 * test_xml_load - hostile bytes get their exact reason code and line
 * (exchange-format.md §5, §7), conforming ones load, and nothing of one
 * parse leaks into the next.  Documents: tests/fixtures/docs/<reason>/.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "parsers_docs.h"
#include "parse_error.h"
#include "xml_load.h"

struct hostile {
	char path[96];		/* under tests/fixtures/docs/ (an array: parameters are
				 * copied into the test process, pointers would not be) */
	enum reason reason;
	int line;		/* 0: not asserted */
};

static const struct hostile hostile_docs[] = {
	/* DOCTYPE in any form: refused when its name is read, before the
	 * internal subset, so no entity is ever declared or expanded. */
	{ "doctype_forbidden/internal-subset.xml", REASON_DOCTYPE_FORBIDDEN, 2 },
	{ "doctype_forbidden/external-system.xml", REASON_DOCTYPE_FORBIDDEN, 2 },
	{ "doctype_forbidden/external-public.xml", REASON_DOCTYPE_FORBIDDEN, 2 },
	{ "doctype_forbidden/bare.xml", REASON_DOCTYPE_FORBIDDEN, 2 },
	{ "doctype_forbidden/no-declaration.xml", REASON_DOCTYPE_FORBIDDEN, 1 },
	{ "doctype_forbidden/internal-entity.xml", REASON_DOCTYPE_FORBIDDEN, 2 },
	{ "doctype_forbidden/billion-laughs.xml", REASON_DOCTYPE_FORBIDDEN, 2 },
	{ "doctype_forbidden/xxe-passwd.xml", REASON_DOCTYPE_FORBIDDEN, 2 },
	{ "doctype_forbidden/xxe-in-content.xml", REASON_DOCTYPE_FORBIDDEN, 2 },
	{ "doctype_forbidden/parameter-entities.xml", REASON_DOCTYPE_FORBIDDEN, 2 },
	{ "doctype_forbidden/parameter-entity-oob.xml", REASON_DOCTYPE_FORBIDDEN, 2 },
	/* A DOCTYPE outranks an earlier comment (rules.md §2 order). */
	{ "doctype_forbidden/after-comment.xml", REASON_DOCTYPE_FORBIDDEN, 3 },

	/* Comments, PIs and xsi:* anywhere. */
	{ "xml_construct_forbidden/comment-prolog.xml", REASON_XML_CONSTRUCT_FORBIDDEN, 2 },
	{ "xml_construct_forbidden/comment-body.xml", REASON_XML_CONSTRUCT_FORBIDDEN, 10 },
	{ "xml_construct_forbidden/comment-after-root.xml", REASON_XML_CONSTRUCT_FORBIDDEN, 24 },
	{ "xml_construct_forbidden/comment-splitting-text.xml", REASON_XML_CONSTRUCT_FORBIDDEN, 5 },
	{ "xml_construct_forbidden/pi-prolog.xml", REASON_XML_CONSTRUCT_FORBIDDEN, 2 },
	{ "xml_construct_forbidden/pi-body.xml", REASON_XML_CONSTRUCT_FORBIDDEN, 3 },
	{ "xml_construct_forbidden/pi-after-root.xml", REASON_XML_CONSTRUCT_FORBIDDEN, 24 },
	{ "xml_construct_forbidden/xsi-type.xml", REASON_XML_CONSTRUCT_FORBIDDEN, 2 },
	{ "xml_construct_forbidden/xsi-schema-location.xml", REASON_XML_CONSTRUCT_FORBIDDEN, 2 },
	{ "xml_construct_forbidden/xsi-no-namespace-schema-location.xml",
	  REASON_XML_CONSTRUCT_FORBIDDEN, 2 },
	{ "xml_construct_forbidden/xsi-nil-other-prefix.xml", REASON_XML_CONSTRUCT_FORBIDDEN, 6 },
	/* Anything but UTF-8. */
	{ "xml_construct_forbidden/encoding-utf16-declared.xml", REASON_XML_CONSTRUCT_FORBIDDEN, 1 },
	{ "xml_construct_forbidden/encoding-iso-8859-1-declared.xml",
	  REASON_XML_CONSTRUCT_FORBIDDEN, 1 },
	{ "xml_construct_forbidden/encoding-windows-1252-single-quotes.xml",
	  REASON_XML_CONSTRUCT_FORBIDDEN, 1 },
	{ "xml_construct_forbidden/encoding-latin1-bytes.xml", REASON_XML_CONSTRUCT_FORBIDDEN, 13 },
	{ "xml_construct_forbidden/latin1-bytes-undeclared.xml", REASON_XML_CONSTRUCT_FORBIDDEN, 12 },
	{ "xml_construct_forbidden/utf16le-bom.xml", REASON_XML_CONSTRUCT_FORBIDDEN, 1 },
	{ "xml_construct_forbidden/utf16be-bom.xml", REASON_XML_CONSTRUCT_FORBIDDEN, 1 },
	{ "xml_construct_forbidden/utf16le-no-bom.xml", REASON_XML_CONSTRUCT_FORBIDDEN, 1 },
	{ "xml_construct_forbidden/utf32-bom.xml", REASON_XML_CONSTRUCT_FORBIDDEN, 1 },
	{ "xml_construct_forbidden/utf8-overlong.xml", REASON_XML_CONSTRUCT_FORBIDDEN, 6 },
	{ "xml_construct_forbidden/utf8-surrogate.xml", REASON_XML_CONSTRUCT_FORBIDDEN, 6 },
	{ "xml_construct_forbidden/utf8-truncated-sequence.xml", REASON_XML_CONSTRUCT_FORBIDDEN, 6 },
	{ "xml_construct_forbidden/utf8-above-10ffff.xml", REASON_XML_CONSTRUCT_FORBIDDEN, 6 },
	{ "xml_construct_forbidden/nul-byte.xml", REASON_XML_CONSTRUCT_FORBIDDEN, 6 },

	/* Not XML. */
	{ "not_well_formed/empty.xml", REASON_NOT_WELL_FORMED, 1 },
	{ "not_well_formed/whitespace-only.xml", REASON_NOT_WELL_FORMED, 0 },
	{ "not_well_formed/text-only.xml", REASON_NOT_WELL_FORMED, 1 },
	{ "not_well_formed/undefined-entity.xml", REASON_NOT_WELL_FORMED, 6 },
	{ "not_well_formed/undefined-entity-in-content.xml", REASON_NOT_WELL_FORMED, 5 },
	{ "not_well_formed/truncated.xml", REASON_NOT_WELL_FORMED, 0 },
	{ "not_well_formed/truncated-in-tag.xml", REASON_NOT_WELL_FORMED, 9 },
	{ "not_well_formed/truncated-in-scan.xml", REASON_NOT_WELL_FORMED, 21 },
	{ "not_well_formed/mismatched-tags.xml", REASON_NOT_WELL_FORMED, 7 },
	{ "not_well_formed/two-roots.xml", REASON_NOT_WELL_FORMED, 24 },
	{ "not_well_formed/undeclared-prefix.xml", REASON_NOT_WELL_FORMED, 2 },
	{ "not_well_formed/duplicate-attribute.xml", REASON_NOT_WELL_FORMED, 5 },
	{ "not_well_formed/invalid-char-ref.xml", REASON_NOT_WELL_FORMED, 6 },
	{ "not_well_formed/control-char.xml", REASON_NOT_WELL_FORMED, 6 },
	{ "not_well_formed/declaration-not-at-start.xml", REASON_NOT_WELL_FORMED, 2 },
	{ "not_well_formed/lt-in-attribute.xml", REASON_NOT_WELL_FORMED, 6 },
	{ "not_well_formed/unquoted-attribute.xml", REASON_NOT_WELL_FORMED, 5 },
	{ "not_well_formed/cdata-unterminated.xml", REASON_NOT_WELL_FORMED, 0 },
	{ "not_well_formed/xml-version-2.xml", REASON_NOT_WELL_FORMED, 1 },

	/* Limits: depth, element count, attributes (quadratic in libxml2 2.9). */
	{ "too_large/depth-bomb.xml", REASON_TOO_LARGE, 3 },
	{ "too_large/depth-17.xml", REASON_TOO_LARGE, 3 },
	{ "too_large/element-bomb.xml", REASON_TOO_LARGE, 3 },
	{ "too_large/attribute-bomb.xml", REASON_TOO_LARGE, 3 },
	{ "too_large/namespace-bomb.xml", REASON_TOO_LARGE, 3 },
};

static const char *const hostile_dirs[] = {
	"doctype_forbidden", "xml_construct_forbidden", "not_well_formed", "too_large",
};

/* One case of xml_load::hostile (issue 12: the cases share one process). */
static void xml_load_hostile_case(const struct hostile *h)
{
	char path[512];
	snprintf(path, sizeof(path), DOCS "%s", h->path);
	xmlDocPtr doc = (xmlDocPtr)1;
	struct parse_error err;
	enum reason r = docs_load(path, &doc, &err);
	cr_expect_eq(r, h->reason, "%s: %s (%s), expected %s", h->path, reason_code(r), err.message,
		     reason_code(h->reason));
	cr_expect_eq(err.reason, r, "%s: err.reason agrees with the return value", h->path);
	cr_expect_null(doc, "%s: no document on failure", h->path);
	cr_expect_neq(err.message[0], '\0', "%s: a message for people", h->path);
	if (h->line)
		cr_expect_eq(err.line, h->line, "%s: line %d, expected %d (%s)", h->path, err.line,
			     h->line, err.message);
	/* Never the payload in the message: no /etc/passwd, no names. */
	cr_expect_null(strstr(err.message, "root:"), "%s: payload in '%s'", h->path, err.message);
	cr_expect_null(strstr(err.message, "MARTIN"), "%s: a name in '%s'", h->path, err.message);
	cr_expect_null(strstr(err.message, "Chartres"), "%s: a place in '%s'", h->path,
		       err.message);
}

Test(xml_load, hostile, .init = docs_init)
{
	for (size_t k = 0; k < sizeof(hostile_docs) / sizeof(hostile_docs[0]); k++)
		xml_load_hostile_case(&hostile_docs[k]);
}

/* Every hostile fixture is in the table above: a file added without its
 * expected reason fails here. */
Test(xml_load, every_hostile_fixture_is_listed)
{
	for (size_t d = 0; d < sizeof(hostile_dirs) / sizeof(hostile_dirs[0]); d++) {
		char dir[256];
		snprintf(dir, sizeof(dir), DOCS "%s", hostile_dirs[d]);
		char **names = docs_list(dir);
		size_t n = 0;
		for (; names[n]; n++) {
			char rel[512];
			snprintf(rel, sizeof(rel), "%s/%s", hostile_dirs[d], names[n]);
			bool listed = false;
			for (size_t i = 0; i < sizeof(hostile_docs) / sizeof(hostile_docs[0]); i++)
				listed = listed || strcmp(hostile_docs[i].path, rel) == 0;
			cr_expect(listed, "%s has no expected reason in hostile_docs", rel);
			/* and the directory is the reason */
			for (size_t i = 0; i < sizeof(hostile_docs) / sizeof(hostile_docs[0]); i++)
				if (strcmp(hostile_docs[i].path, rel) == 0)
					cr_expect_str_eq(reason_code(hostile_docs[i].reason),
							 hostile_dirs[d]);
		}
		cr_expect_gt(n, 0, "%s is empty", dir);
		docs_free_list(names);
	}
	cr_expect_geq(sizeof(hostile_docs) / sizeof(hostile_docs[0]), 25);
}

/* Conforming files, and files whose fault is for the schema or the
 * mapping, are well-formed XML without forbidden constructs. */
Test(xml_load, valid_and_schema_invalid_documents_load, .init = docs_init)
{
	static const char *const dirs[] = { DOCS "valid", DOCS "schema_invalid" };
	for (size_t d = 0; d < 2; d++) {
		char **names = docs_list(dirs[d]);
		for (size_t i = 0; names[i]; i++) {
			char path[512];
			snprintf(path, sizeof(path), "%s/%s", dirs[d], names[i]);
			xmlDocPtr doc = NULL;
			struct parse_error err;
			enum reason r = docs_load(path, &doc, &err);
			cr_expect_eq(r, REASON_OK, "%s: %s (%s, line %d)", path, reason_code(r),
				     err.message, err.line);
			cr_expect_eq(err.reason, REASON_OK);
			cr_expect_str_eq(err.message, "");
			if (r == REASON_OK)
				cr_expect_not_null(xmlDocGetRootElement(doc));
			xmlFreeDoc(doc);
		}
		docs_free_list(names);
	}
}

Test(xml_load, size_limit_is_checked_before_parsing, .init = docs_init)
{
	size_t len;
	unsigned char *bytes = docs_read(DOCS "valid/attestations-example.xml", &len);
	struct parsers_limits limits = { .max_file_size = len - 1, .max_depth = 0 };
	xmlDocPtr doc = NULL;
	struct parse_error err;
	cr_expect_eq(xml_load(bytes, len, &limits, &doc, &err), REASON_TOO_LARGE);
	cr_expect_null(doc);
	cr_expect_eq(err.line, 0);
	limits.max_file_size = len;
	cr_expect_eq(xml_load(bytes, len, &limits, &doc, &err), REASON_OK);
	xmlFreeDoc(doc);
	/* Over the size limit, even content that is not XML at all. */
	limits.max_file_size = 10;
	cr_expect_eq(xml_load((const unsigned char *)"<!DOCTYPE x>", 12, &limits, &doc, &err),
		     REASON_TOO_LARGE);
	free(bytes);
}

Test(xml_load, depth_limit_is_configurable, .init = docs_init)
{
	/* attestations > attestation > trainee: depth 3 */
	size_t len;
	unsigned char *bytes = docs_read(DOCS "valid/attestations-example.xml", &len);
	struct parsers_limits limits = { .max_file_size = 0, .max_depth = 2 };
	xmlDocPtr doc = NULL;
	struct parse_error err;
	cr_expect_eq(xml_load(bytes, len, &limits, &doc, &err), REASON_TOO_LARGE);
	cr_expect_eq(err.line, 6, "the trainee of line 6 is too deep, not line %d", err.line);
	cr_expect_null(doc);
	limits.max_depth = 3;
	cr_expect_eq(xml_load(bytes, len, &limits, &doc, &err), REASON_OK);
	xmlFreeDoc(doc);
	free(bytes);
	/* The default is 16: 16 levels load, 17 do not (too_large/depth-17.xml). */
	cr_expect_eq(docs_load(DOCS "schema_invalid/depth-16.xml", &doc, &err), REASON_OK);
	xmlFreeDoc(doc);
}

static enum reason load_string(const char *s, xmlDocPtr *doc, struct parse_error *err)
{
	return xml_load((const unsigned char *)s, strlen(s), NULL, doc, err);
}

/* One parse's findings never reach the next one. */
Test(xml_load, no_state_between_parses, .init = docs_init)
{
	xmlDocPtr doc = NULL;
	struct parse_error err;
	cr_expect_eq(load_string("<r><!-- c --></r>", &doc, &err), REASON_XML_CONSTRUCT_FORBIDDEN);
	cr_expect_eq(load_string("<r><a></r>", &doc, &err), REASON_NOT_WELL_FORMED);
	cr_expect_eq(load_string("<!DOCTYPE r><r/>", &doc, &err), REASON_DOCTYPE_FORBIDDEN);
	cr_expect_eq(load_string("<r>" "<a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a>"
				 "</a></a></a></a></a></a></a></a></a></a></a></a></a></a></a></a>"
				 "</r>", &doc, &err), REASON_TOO_LARGE);
	cr_expect_eq(load_string("<r a='1'/>", &doc, &err), REASON_OK);
	cr_expect_str_eq(err.message, "");
	cr_expect_eq(err.line, 0);
	xmlFreeDoc(doc);
}

/* The predefined entities and character references are not DTD business. */
Test(xml_load, predefined_entities_and_char_refs, .init = docs_init)
{
	xmlDocPtr doc = NULL;
	struct parse_error err;
	cr_assert_eq(load_string("<r a='&lt;&gt;&amp;&apos;&quot;&#233;&#x1F600;'/>", &doc, &err),
		     REASON_OK, "%s", err.message);
	xmlChar *a = xmlGetProp(xmlDocGetRootElement(doc), (const xmlChar *)"a");
	cr_expect_str_eq((const char *)a, "<>&'\"\xC3\xA9\xF0\x9F\x98\x80");
	xmlFree(a);
	xmlFreeDoc(doc);
}

/* CDATA is accepted and merged into the text it belongs to: one text node,
 * the very content a c14n of the document signs. */
Test(xml_load, cdata_becomes_plain_text, .init = docs_init)
{
	xmlDocPtr doc = NULL;
	struct parse_error err;
	cr_assert_eq(docs_load(DOCS "valid/signin-sheet-cdata.xml", &doc, &err), REASON_OK);
	xmlNodePtr n = xmlDocGetRootElement(doc)->children;
	xmlNodePtr id = NULL;
	for (; n && !id; n = n->next)
		if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, "participant") == 0)
			for (xmlNodePtr c = n->children; c; c = c->next)
				if (c->type == XML_ELEMENT_NODE)
					id = id ? id : c;
	cr_assert_not_null(id);
	cr_expect_str_eq((const char *)id->name, "identity-document");
	cr_expect_not_null(id->children);
	cr_expect_eq(id->children->type, XML_TEXT_NODE);
	cr_expect_null(id->children->next, "a single text node");
	cr_expect_str_eq((const char *)id->children->content, "/9j/4AAQSkZJRgABAQAAAQABAAD/2Q==");
	xmlFreeDoc(doc);
}

/* Whitespace is content: XML_PARSE_NOBLANKS would change the signed bytes. */
Test(xml_load, whitespace_text_is_kept, .init = docs_init)
{
	xmlDocPtr doc = NULL;
	struct parse_error err;
	cr_assert_eq(load_string("<r>\n  <a/>\n</r>", &doc, &err), REASON_OK);
	xmlNodePtr first = xmlDocGetRootElement(doc)->children;
	cr_expect_eq(first->type, XML_TEXT_NODE);
	cr_expect_str_eq((const char *)first->content, "\n  ");
	xmlFreeDoc(doc);
}

Test(xml_load, utf8_bom_is_accepted, .init = docs_init)
{
	xmlDocPtr doc = NULL;
	struct parse_error err;
	cr_assert_eq(docs_load(DOCS "valid/attestations-bom.xml", &doc, &err), REASON_OK);
	cr_expect_str_eq((const char *)xmlDocGetRootElement(doc)->name, "attestations");
	xmlFreeDoc(doc);
}

/* The installed loader refuses every URL, whoever asks. */
Test(xml_load, external_entity_loader_refuses_everything, .init = docs_init)
{
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	cr_assert_not_null(ctxt);
	static const char *const urls[] = {
		"file:///etc/passwd", "/etc/passwd", "http://example.invalid/x.dtd",
		"tests/fixtures/docs/valid/attestations-example.xml",
	};
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
		cr_expect_null(xmlLoadExternalEntity(urls[i], NULL, ctxt), "%s was loaded", urls[i]);
	xmlFreeParserCtxt(ctxt);
}

/* libxml2 prints nothing: errors go to the per-context handler only. */
Test(xml_load, nothing_is_printed, .init = docs_init)
{
	cr_redirect_stderr();
	cr_redirect_stdout();
	static const char *const inputs[] = {
		"<r><a></r>", "<r xsi:type='x'/>", "<r>&nbsp;</r>", "<!DOCTYPE r SYSTEM 'x'><r/>",
		"<r xmlns='relative/uri'/>", "<?xml version='1.0' encoding='KOI8-R'?><r/>",
	};
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		xmlDocPtr doc = NULL;
		struct parse_error err;
		load_string(inputs[i], &doc, &err);
		xmlFreeDoc(doc);
	}
	fflush(stderr);
	fflush(stdout);
	cr_expect_stderr_eq_str("");
	cr_expect_stdout_eq_str("");
}

Test(xml_load, error_positions_are_lines_and_columns, .init = docs_init)
{
	xmlDocPtr doc = NULL;
	struct parse_error err;
	cr_expect_eq(load_string("<r>\n  <a>\n</r>", &doc, &err), REASON_NOT_WELL_FORMED);
	cr_expect_eq(err.line, 3);
	cr_expect_gt(err.column, 0);
	cr_expect_eq(load_string("<r>\n\xC3\xA9\xC3\xA9\xFF</r>", &doc, &err),
		     REASON_XML_CONSTRUCT_FORBIDDEN);
	cr_expect_eq(err.line, 2);
	cr_expect_eq(err.column, 3, "columns count characters, not bytes: %d", err.column);
}

/* The DOCTYPE is refused where its name ends: the error points at the
 * opening of the internal subset, not into it (billion-laughs.xml declares
 * its entities on lines 3-12), and nothing of the subset is reported. */
Test(xml_load, doctype_stops_before_the_internal_subset, .init = docs_init)
{
	xmlDocPtr doc = NULL;
	struct parse_error err;
	cr_expect_eq(docs_load(DOCS "doctype_forbidden/billion-laughs.xml", &doc, &err),
		     REASON_DOCTYPE_FORBIDDEN);
	cr_expect_eq(err.line, 2);
	cr_expect_leq(err.column, (int)strlen("<!DOCTYPE attestations [") + 1, "column %d",
		      err.column);
	cr_expect_str_eq(err.message, "a DOCTYPE declaration is not allowed");
	/* A subset that is not even well-formed changes nothing. */
	cr_expect_eq(load_string("<!DOCTYPE r [ <!ENTITY % p SYSTEM 'file:///etc/passwd'> %p; "
				 "<!BOGUS <<<< ]><r/>", &doc, &err), REASON_DOCTYPE_FORBIDDEN);
	cr_expect_null(doc);
}

/* A byte that cannot be UTF-8 text (or a NUL), at every offset of a plain
 * ASCII document with a two-byte character near the start: refused, and
 * located at its line and column (in characters), wherever it falls. */
Test(xml_load, bad_byte_at_every_offset)
{
	static const char text[] = "<r a=\"\xC3\xA9t\xC3\xA9\">\n  <c>some text, long enough</c>\n"
				   "  <c>for several eight-byte blocks</c>\n</r>\n";
	static const unsigned char bad[] = { 0x00, 0x80, 0xC0, 0xFF, 0xF8 };
	size_t n = sizeof(text) - 1;

	for (size_t at = 12; at < n - 1; at++)
		for (size_t k = 0; k < sizeof(bad); k++) {
			unsigned char *b = xmalloc(n);
			xmlDocPtr doc = NULL;
			struct parse_error err = { 0 };
			int line = 1, column = 1;

			memcpy(b, text, n);
			b[at] = bad[k];
			for (size_t i = 0; i < at; i++) {
				if (b[i] == '\n') {
					line++;
					column = 1;
				} else if ((b[i] & 0xC0) != 0x80) {
					column++;
				}
			}
			cr_expect_eq(xml_load(b, n, NULL, &doc, &err), REASON_XML_CONSTRUCT_FORBIDDEN,
				     "0x%02X at %zu", bad[k], at);
			cr_expect_eq(err.line, line, "0x%02X at %zu", bad[k], at);
			cr_expect_eq(err.column, column, "0x%02X at %zu", bad[k], at);
			cr_expect_null(doc);
			xmlFreeDoc(doc);
			free(b);
		}
}

/* No byte of a document reaches a message raw (issue 11 §5): an encoding
 * value carrying a newline, CR and ESC is refused without echoing them. */
Test(xml_load, forged_encoding_value_is_not_echoed, .init = docs_init)
{
	static const char forged[] = "<?xml version=\"1.0\" encoding=\"UTF-8\nreason: ok\033[2J\r"
				     "\xe2\x80\xae\"?>\n<r/>";
	struct parsers_limits limits = { .max_file_size = 1 << 20, .max_depth = 0 };
	xmlDocPtr doc = NULL;
	struct parse_error err;
	cr_expect_eq(xml_load((const unsigned char *)forged, sizeof(forged) - 1, &limits, &doc, &err),
		     REASON_XML_CONSTRUCT_FORBIDDEN);
	cr_expect_null(doc);
	for (const unsigned char *p = (const unsigned char *)err.message; *p; p++)
		cr_expect(*p >= 0x20 && *p != 0x7f, "control byte 0x%02x in \"%s\"", *p, err.message);
	cr_expect_null(strstr(err.message, "reason: ok"), "%s", err.message);
	cr_expect_null(strstr(err.message, "\xe2\x80\xae"), "%s", err.message);
}

/* The backstop: whatever a check echoes, parse_error_set leaves no control
 * character, separator or bidirectional control in a message. */
Test(xml_load, every_message_is_scrubbed)
{
	struct parse_error err;
	parse_error_set(&err, REASON_SCHEMA_INVALID, 3, 0, "a%sb%sc%sd%se%sf%sg", "\n", "\033",
			"\r", "\xc2\x85", "\xe2\x80\xa8", "\xe2\x81\xa6");
	cr_expect_str_eq(err.message, "a?b?c?d?e?f?g");
	parse_error_set(&err, REASON_SCHEMA_INVALID, 3, 0, "cut %s", "\xe2\x80");
	cr_expect_str_eq(err.message, "cut \xe2\x80", "a cut sequence that is no control stays");
	parse_error_set(&err, REASON_SCHEMA_INVALID, 3, 0, "%s", "\xc3\x89LODIE \xe2\x80\x99");
	cr_expect_str_eq(err.message, "\xc3\x89LODIE \xe2\x80\x99", "letters and quotes stay");
}
