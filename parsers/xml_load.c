/*
 * xml_load - hardened libxml2 loading of a centre's bytes (see xml_load.h).
 *
 * Two passes.  A linear pre-scan of the raw bytes settles what must be
 * known before libxml2 sees them: the encoding (UTF-8 only: no UTF-16/32,
 * strict UTF-8 byte sequences, no NUL, an encoding declaration naming
 * UTF-8 if any) and the attribute count of every start tag (libxml2 2.9
 * checks duplicate attributes in quadratic time, before any callback could
 * count them).  Then one libxml2 parse with a per-call context whose SAX
 * handler is ours: a DOCTYPE stops the parser the moment its name is read,
 * before the internal subset is looked at; comments, processing
 * instructions and xsi:* attributes are noted; depth and element count are
 * checked as elements open; errors go to a per-context structured handler,
 * so nothing leaks between files and nothing is printed.
 *
 * CDATA sections are accepted (the format does not forbid them, and
 * exclusive c14n signs their content exactly as the equivalent text) and
 * merged into text nodes (XML_PARSE_NOCDATA), so they cannot multiply nodes.
 * XML_PARSE_NOBLANKS is not used: whitespace-only text is signed content.
 * Never NOENT, DTDLOAD, HUGE or RECOVER.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/entities.h>
#include <libxml/xmlerror.h>

#include "parse_error.h"
#include "xml_load.h"

#define XML_LOAD_XSI_NS "http://www.w3.org/2001/XMLSchema-instance"

/* What the SAX hooks learn during one parse; lives on xml_load's stack. */
struct xml_load_state {
	unsigned max_depth;
	unsigned depth;
	unsigned elements;
	bool stopped;			/* we halted the parser: stop_err says why */
	struct parse_error stop_err;
	bool construct_seen;		/* first comment, PI or xsi:* attribute */
	struct parse_error construct_err;
	bool error_seen;		/* first libxml2 error or fatal error */
	struct parse_error first_err;
};

static xmlParserInputPtr xml_load_refuse_entity(const char *url, const char *id,
						 xmlParserCtxtPtr ctxt)
{
	(void)url;
	(void)id;
	(void)ctxt;
	return NULL;
}

void xml_load_install_entity_loader(void)
{
	xmlSetExternalEntityLoader(xml_load_refuse_entity);
}

/* --- pre-scan of the raw bytes ------------------------------------------ */

/* Line and column (in characters, 1-based) of offset `at`. */
static void xml_load_position(const unsigned char *b, size_t at, int *line, int *column)
{
	int l = 1, c = 1;
	for (size_t i = 0; i < at; i++) {
		if (b[i] == '\n') {
			l++;
			c = 1;
		} else if ((b[i] & 0xC0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*column = c;
}

/* Length of the strict UTF-8 sequence (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF) at b[0..n), or 0 if there is none. */
static size_t xml_load_utf8_seq(const unsigned char *b, size_t n)
{
	unsigned char c = b[0];
	if (c < 0x80)
		return 1;
	size_t len;
	unsigned char lo = 0x80, hi = 0xBF;	/* bounds of the second byte */
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (n < len || b[1] < lo || b[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((b[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

static bool xml_load_is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The encoding named by an XML declaration at the start of b, if any, must
 * be UTF-8.  A declaration this scan cannot read is left to libxml2, which
 * then reports it as not well-formed; the decoding is forced to UTF-8
 * anyway, so a missed declaration cannot change how the bytes are read. */
static enum reason xml_load_check_declaration(const unsigned char *b, size_t n,
					      struct parse_error *err)
{
	if (n < 6 || memcmp(b, "<?xml", 5) != 0 || !xml_load_is_space(b[5]))
		return REASON_OK;
	size_t i = 5;
	for (;;) {
		while (i < n && xml_load_is_space(b[i]))
			i++;
		if (i >= n || b[i] == '?')
			return REASON_OK;
		size_t name = i;
		while (i < n && b[i] >= 'a' && b[i] <= 'z')
			i++;
		size_t name_len = i - name;
		while (i < n && xml_load_is_space(b[i]))
			i++;
		if (name_len == 0 || i >= n || b[i] != '=')
			return REASON_OK;
		i++;
		while (i < n && xml_load_is_space(b[i]))
			i++;
		if (i >= n || (b[i] != '"' && b[i] != '\''))
			return REASON_OK;
		unsigned char quote = b[i++];
		size_t value = i;
		while (i < n && b[i] != quote && b[i] != '<' && b[i] != '>')
			i++;
		if (i >= n || b[i] != quote)
			return REASON_OK;
		size_t value_len = i - value;
		i++;
		if (name_len == 8 && memcmp(b + name, "encoding", 8) == 0 &&
		    !(value_len == 5 && strncasecmp((const char *)b + value, "UTF-8", 5) == 0)) {
			int line, column;
			xml_load_position(b, value, &line, &column);
			/* The value is echoed only when it is plain printable
			 * ASCII: a newline, CR or ESC in it would forge lines
			 * wherever the message goes (check, .reason, database). */
			bool plain = value_len <= 40;
			for (size_t k = 0; plain && k < value_len; k++)
				plain = b[value + k] > 0x20 && b[value + k] < 0x7f;
			if (!plain)
				return parse_error_set(err, REASON_XML_CONSTRUCT_FORBIDDEN, line, column,
						       "the XML declaration names an encoding other "
						       "than UTF-8: only UTF-8 is accepted");
			return parse_error_set(err, REASON_XML_CONSTRUCT_FORBIDDEN, line, column,
					       "the XML declaration names encoding \"%.*s\": only UTF-8 is accepted",
					       (int)value_len, (const char *)b + value);
		}
	}
}

/* UTF-8 only: the byte order marks and first bytes of UTF-16 and UTF-32,
 * bytes that are not strict UTF-8, and NUL (never XML text) are refused. */
static enum reason xml_load_check_encoding(const unsigned char *b, size_t n,
					   struct parse_error *err)
{
	static const struct {
		const char *bytes;
		size_t len;
		const char *name;
	} marks[] = {
		{ "\x00\x00\xFE\xFF", 4, "a UTF-32 byte order mark" },
		{ "\xFF\xFE\x00\x00", 4, "a UTF-32 byte order mark" },
		{ "\xFE\xFF", 2, "a UTF-16 byte order mark" },
		{ "\xFF\xFE", 2, "a UTF-16 byte order mark" },
		{ "\x00\x00\x00\x3C", 4, "UTF-32 text" },
		{ "\x3C\x00\x00\x00", 4, "UTF-32 text" },
		{ "\x00\x3C", 2, "UTF-16 text" },
		{ "\x3C\x00", 2, "UTF-16 text" },
	};
	for (size_t m = 0; m < sizeof(marks) / sizeof(marks[0]); m++)
		if (n >= marks[m].len && memcmp(b, marks[m].bytes, marks[m].len) == 0)
			return parse_error_set(err, REASON_XML_CONSTRUCT_FORBIDDEN, 1, 1,
					       "the file starts with %s: only UTF-8 is accepted",
					       marks[m].name);
	for (size_t i = 0; i < n;) {
		/* Eight bytes of ASCII without NUL at once: most of any file. */
		if (n - i >= 8) {
			uint64_t w;
			memcpy(&w, b + i, sizeof(w));
			if (((w | ((w - 0x0101010101010101ULL) & ~w)) & 0x8080808080808080ULL) == 0) {
				i += 8;
				continue;
			}
		}
		size_t len = b[i] == 0 ? 0 : xml_load_utf8_seq(b + i, n - i);
		if (len == 0) {
			int line, column;
			xml_load_position(b, i, &line, &column);
			return parse_error_set(err, REASON_XML_CONSTRUCT_FORBIDDEN, line, column,
					       b[i] == 0 ? "NUL byte: the file is not UTF-8 text"
							 : "byte 0x%02X does not begin a valid UTF-8 sequence: only UTF-8 is accepted",
					       b[i]);
		}
		i += len;
	}
	return xml_load_check_declaration(b, n, err);
}

/* Offset of needle in b[from..n), or n. */
static size_t xml_load_find(const unsigned char *b, size_t n, size_t from, const char *needle)
{
	if (from >= n)
		return n;
	const unsigned char *p = memmem(b + from, n - from, needle, strlen(needle));
	return p ? (size_t)(p - b) : n;
}

/* Counts the attributes of every start tag (each has one '=' outside
 * quotes) without parsing: markup that can hold a '<' (comments, CDATA,
 * PIs) is skipped, a DOCTYPE ends the scan (the parser stops there).  For
 * well-formed tags the count is libxml2's; a malformed tag makes libxml2
 * stop before the quadratic part, so no count is needed for it. */
static enum reason xml_load_check_attributes(const unsigned char *b, size_t n,
					     struct parse_error *err)
{
	size_t i = 0;
	while (i < n) {
		const unsigned char *lt = memchr(b + i, '<', n - i);
		if (lt == NULL)
			break;
		i = (size_t)(lt - b);
		size_t rest = n - i;
		if (rest >= 4 && memcmp(b + i, "<!--", 4) == 0) {
			i = xml_load_find(b, n, i + 4, "-->") + 3;
		} else if (rest >= 9 && memcmp(b + i, "<![CDATA[", 9) == 0) {
			i = xml_load_find(b, n, i + 9, "]]>") + 3;
		} else if (rest >= 2 && b[i + 1] == '!') {
			break;
		} else if (rest >= 2 && b[i + 1] == '?') {
			i = xml_load_find(b, n, i + 2, "?>") + 2;
		} else {
			size_t start = i;
			unsigned count = 0;
			unsigned char quote = 0;
			for (i++; i < n; i++) {
				unsigned char c = b[i];
				if (quote) {
					if (c == quote)
						quote = 0;
				} else if (c == '"' || c == '\'') {
					quote = c;
				} else if (c == '=') {
					if (++count > XML_LOAD_MAX_ATTRIBUTES) {
						int line, column;
						xml_load_position(b, start, &line, &column);
						return parse_error_set(err, REASON_TOO_LARGE, line, column,
								       "an element has more than %d attributes",
								       XML_LOAD_MAX_ATTRIBUTES);
					}
				} else if (c == '>' || c == '<') {
					break;
				}
			}
		}
	}
	return REASON_OK;
}

/* --- SAX hooks ----------------------------------------------------------- */

static struct xml_load_state *xml_load_state_of(void *ctx)
{
	return ((xmlParserCtxtPtr)ctx)->_private;
}

static void xml_load_where(void *ctx, int *line, int *column)
{
	xmlParserCtxtPtr ctxt = ctx;
	*line = ctxt->input ? ctxt->input->line : 0;
	*column = ctxt->input ? ctxt->input->col : 0;
}

/* Ends the parse now: the reason is ours, whatever libxml2 says after. */
static void xml_load_stop(void *ctx, enum reason r, const char *what)
{
	struct xml_load_state *st = xml_load_state_of(ctx);
	if (!st->stopped) {
		int line, column;
		xml_load_where(ctx, &line, &column);
		st->stopped = true;
		parse_error_set(&st->stop_err, r, line, column, "%s", what);
	}
	xmlStopParser(ctx);
}

static void xml_load_construct(void *ctx, const char *what)
{
	struct xml_load_state *st = xml_load_state_of(ctx);
	if (st->construct_seen)
		return;
	int line, column;
	xml_load_where(ctx, &line, &column);
	st->construct_seen = true;
	parse_error_set(&st->construct_err, REASON_XML_CONSTRUCT_FORBIDDEN, line, column,
			"%s", what);
}

static void xml_load_internal_subset(void *ctx, const xmlChar *name, const xmlChar *external_id,
				     const xmlChar *system_id)
{
	(void)name;
	(void)external_id;
	(void)system_id;
	xml_load_stop(ctx, REASON_DOCTYPE_FORBIDDEN, "a DOCTYPE declaration is not allowed");
}

/* Never reached once internal_subset has stopped the parser; there in case
 * some path of libxml2 reaches declarations without it. */
static void xml_load_external_subset(void *ctx, const xmlChar *name, const xmlChar *external_id,
				     const xmlChar *system_id)
{
	xml_load_internal_subset(ctx, name, external_id, system_id);
}

static void xml_load_entity_decl(void *ctx, const xmlChar *name, int type,
				 const xmlChar *public_id, const xmlChar *system_id,
				 xmlChar *content)
{
	(void)name;
	(void)type;
	(void)public_id;
	(void)system_id;
	(void)content;
	xml_load_stop(ctx, REASON_DOCTYPE_FORBIDDEN, "an entity declaration is not allowed");
}

/* Only the five predefined entities exist; nothing is ever resolved. */
static xmlEntityPtr xml_load_get_entity(void *ctx, const xmlChar *name)
{
	(void)ctx;
	return xmlGetPredefinedEntity(name);
}

static xmlEntityPtr xml_load_get_parameter_entity(void *ctx, const xmlChar *name)
{
	(void)ctx;
	(void)name;
	return NULL;
}

static xmlParserInputPtr xml_load_resolve_entity(void *ctx, const xmlChar *public_id,
						  const xmlChar *system_id)
{
	(void)ctx;
	(void)public_id;
	(void)system_id;
	return NULL;
}

static void xml_load_comment(void *ctx, const xmlChar *value)
{
	(void)value;
	xml_load_construct(ctx, "comments are not allowed");
}

static void xml_load_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
	(void)target;
	(void)data;
	xml_load_construct(ctx, "processing instructions are not allowed");
}

/* Called right after the XML declaration: libxml2 keeps the declared
 * encoding in one of two places depending on its value. */
static void xml_load_start_document(void *ctx)
{
	xmlParserCtxtPtr ctxt = ctx;
	const xmlChar *declared[] = { ctxt->encoding, ctxt->input ? ctxt->input->encoding : NULL };
	for (size_t i = 0; i < 2; i++)
		if (declared[i] && strcasecmp((const char *)declared[i], "UTF-8") != 0) {
			xml_load_stop(ctx, REASON_XML_CONSTRUCT_FORBIDDEN,
				      "the XML declaration names an encoding other than UTF-8");
			return;
		}
	xmlSAX2StartDocument(ctx);
}

static void xml_load_start_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
				   const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
				   int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	struct xml_load_state *st = xml_load_state_of(ctx);
	st->depth++;
	st->elements++;
	if (st->depth > st->max_depth) {
		char what[96];
		snprintf(what, sizeof(what), "elements are nested more than %u deep", st->max_depth);
		xml_load_stop(ctx, REASON_TOO_LARGE, what);
		return;
	}
	if (st->elements > XML_LOAD_MAX_ELEMENTS) {
		char what[96];
		snprintf(what, sizeof(what), "the document has more than %d elements",
			 XML_LOAD_MAX_ELEMENTS);
		xml_load_stop(ctx, REASON_TOO_LARGE, what);
		return;
	}
	if (nb_namespaces + nb_attributes > XML_LOAD_MAX_ATTRIBUTES) {
		xml_load_stop(ctx, REASON_TOO_LARGE, "an element has too many attributes");
		return;
	}
	/* attributes: (localname, prefix, URI, value, end) per attribute. */
	for (int i = 0; i < nb_attributes; i++) {
		const xmlChar *ns = attributes[5 * i + 2];
		if (ns && strcmp((const char *)ns, XML_LOAD_XSI_NS) == 0)
			xml_load_construct(ctx, "xsi:* attributes are not allowed");
	}
	xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces,
			      nb_attributes, nb_defaulted, attributes);
}

static void xml_load_end_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
				 const xmlChar *uri)
{
	struct xml_load_state *st = xml_load_state_of(ctx);
	if (st->depth > 0)
		st->depth--;
	xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

/* Per-context error channel: keeps the first error, prints nothing.
 * Warnings (e.g. a relative namespace URI) are not failures. */
static void xml_load_error(void *ctx, xmlErrorPtr e)
{
	xmlParserCtxtPtr ctxt = ctx;
	if (ctxt == NULL || ctxt->_private == NULL || e == NULL || e->level < XML_ERR_ERROR)
		return;
	struct xml_load_state *st = ctxt->_private;
	if (st->error_seen)
		return;
	st->error_seen = true;
	/* Some messages quote the document after a newline ("CData section
	 * not finished\n<content>"): only the first line is kept. */
	const char *msg = e->message ? e->message : "not well-formed";
	parse_error_set(&st->first_err, REASON_NOT_WELL_FORMED, e->line, e->int2,
			"%.*s", (int)strcspn(msg, "\n"), msg);
}

/* --- the parse ----------------------------------------------------------- */

/* The caller's bytes, handed to libxml2 a chunk at a time. */
struct xml_load_reader {
	const unsigned char *bytes;
	size_t len;
	size_t at;
};

static int xml_load_read(void *ctx, char *buf, int size)
{
	struct xml_load_reader *rd = ctx;
	size_t n = rd->len - rd->at;
	if (size <= 0)
		return 0;
	if (n > (size_t)size)
		n = (size_t)size;
	memcpy(buf, rd->bytes + rd->at, n);
	rd->at += n;
	return (int)n;
}

enum reason xml_load(const unsigned char *bytes, size_t len, const struct parsers_limits *limits,
		     xmlDocPtr *out, struct parse_error *err)
{
	enum reason r;
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	struct xml_load_state st = { 0 };

	*out = NULL;
	parse_error_clear(err);
	size_t max_size = limits && limits->max_file_size ? limits->max_file_size
							  : XML_LOAD_DEFAULT_MAX_SIZE;
	st.max_depth = limits && limits->max_depth ? limits->max_depth : XML_LOAD_DEFAULT_MAX_DEPTH;
	if (len > max_size || len > INT_MAX) {
		r = parse_error_set(err, REASON_TOO_LARGE, 0, 0,
				    "the file has %zu bytes, more than the limit of %zu",
				    len, max_size);
		goto out;
	}
	if (len == 0) {
		r = parse_error_set(err, REASON_NOT_WELL_FORMED, 1, 1, "the file is empty");
		goto out;
	}
	/* A UTF-8 byte order mark is UTF-8 and not part of the document. */
	if (len >= 3 && memcmp(bytes, "\xEF\xBB\xBF", 3) == 0) {
		bytes += 3;
		len -= 3;
	}
	if ((r = xml_load_check_encoding(bytes, len, err)) != REASON_OK)
		goto out;
	if ((r = xml_load_check_attributes(bytes, len, err)) != REASON_OK)
		goto out;

	ctxt = xmlNewParserCtxt();
	if (ctxt == NULL) {
		r = parse_error_set(err, REASON_INTERNAL_ERROR, 0, 0,
				    "cannot create an XML parser context");
		goto out;
	}
	xmlSAXHandlerPtr sax = ctxt->sax;
	sax->internalSubset = xml_load_internal_subset;
	sax->externalSubset = xml_load_external_subset;
	sax->entityDecl = xml_load_entity_decl;
	sax->getEntity = xml_load_get_entity;
	sax->getParameterEntity = xml_load_get_parameter_entity;
	sax->resolveEntity = xml_load_resolve_entity;
	sax->comment = xml_load_comment;
	sax->processingInstruction = xml_load_pi;
	sax->startDocument = xml_load_start_document;
	sax->startElementNs = xml_load_start_element;
	sax->endElementNs = xml_load_end_element;
	sax->serror = xml_load_error;
	sax->warning = NULL;
	sax->error = NULL;
	sax->fatalError = NULL;
	ctxt->_private = &st;

	/* The parser reads the caller's bytes through a callback, a chunk at
	 * a time, without encoding conversion (the bytes are strict UTF-8,
	 * checked above; XML_PARSE_IGNORE_ENC keeps a declaration, checked
	 * above too, from switching the decoding): libxml2 holds a window of
	 * the input, not a copy of it and a converted copy, so the peak
	 * memory of a parse is the bytes and the tree. */
	struct xml_load_reader reader = { bytes, len, 0 };
	doc = xmlCtxtReadIO(ctxt, xml_load_read, NULL, &reader, NULL, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_IGNORE_ENC);

	if (st.stopped) {
		r = st.stop_err.reason;
		if (err)
			*err = st.stop_err;
	} else if (doc == NULL || !ctxt->wellFormed || !ctxt->nsWellFormed || st.error_seen) {
		r = REASON_NOT_WELL_FORMED;
		if (err && st.error_seen)
			*err = st.first_err;
		else
			parse_error_set(err, r, 0, 0, "the file is not well-formed XML");
	} else if (st.construct_seen) {
		r = REASON_XML_CONSTRUCT_FORBIDDEN;
		if (err)
			*err = st.construct_err;
	} else if (xmlDocGetRootElement(doc) == NULL) {
		r = parse_error_set(err, REASON_NOT_WELL_FORMED, 0, 0, "the file has no root element");
	} else {
		*out = doc;
		doc = NULL;
		r = REASON_OK;
	}

out:
	xmlFreeDoc(doc);
	if (ctxt) {
		ctxt->_private = NULL;
		xmlFreeParserCtxt(ctxt);
	}
	return r;
}
