/*
 * html - the page tree.  See html.h.
 *
 * Text goes in as text nodes (xmlNewDocText) and attribute values through
 * xmlSetProp, both stored literally and escaped by the serializer: a
 * centre's name "<script>" comes out as &lt;script&gt;.  The document's
 * encoding is UTF-8, so French text is written as it is, not as entities.
 */
#include <libxml/HTMLtree.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "xmalloc.h"

struct html {
	xmlDocPtr doc;
	xmlNodePtr head, body, stylesheet;
};

#define X(s) ((const xmlChar *)(s))

struct html *html_new(const char *title)
{
	struct html *h = xcalloc(1, sizeof(*h));
	h->doc = htmlNewDocNoDtD(NULL, NULL);
	if (h->doc == NULL)
		abort();
	h->doc->encoding = xmlStrdup(X("UTF-8"));
	xmlCreateIntSubset(h->doc, X("html"), NULL, NULL);
	xmlNodePtr root = xmlNewDocNode(h->doc, NULL, X("html"), NULL);
	xmlDocSetRootElement(h->doc, root);
	xmlSetProp(root, X("lang"), X("fr"));
	h->head = xmlNewChild(root, NULL, X("head"), NULL);
	xmlNodePtr meta = xmlNewChild(h->head, NULL, X("meta"), NULL);
	xmlSetProp(meta, X("charset"), X("utf-8"));
	meta = xmlNewChild(h->head, NULL, X("meta"), NULL);
	xmlSetProp(meta, X("name"), X("viewport"));
	xmlSetProp(meta, X("content"), X("width=device-width, initial-scale=1"));
	html_el(h->head, "title", title);
	h->stylesheet = xmlNewChild(h->head, NULL, X("link"), NULL);
	xmlSetProp(h->stylesheet, X("rel"), X("stylesheet"));
	xmlSetProp(h->stylesheet, X("href"), X("/static/console.css"));
	h->body = xmlNewChild(root, NULL, X("body"), NULL);
	return h;
}

void html_free(struct html *h)
{
	if (h == NULL)
		return;
	xmlFreeDoc(h->doc);
	free(h);
}

html_node *html_body(struct html *h)
{
	return h->body;
}

void html_inline_style(struct html *h, const char *css)
{
	xmlNodePtr style = xmlNewDocNode(h->doc, NULL, X("style"), NULL);
	/* Our own constant, never input: raw text inside <style>. */
	xmlAddChild(style, xmlNewDocText(h->doc, X(css)));
	xmlReplaceNode(h->stylesheet, style);
	xmlFreeNode(h->stylesheet);
	h->stylesheet = style;
}

html_node *html_el(html_node *parent, const char *tag, const char *text)
{
	xmlNodePtr n = xmlNewDocNode(parent->doc, NULL, X(tag), NULL);
	xmlAddChild(parent, n);
	if (text)
		html_text(n, text);
	return n;
}

html_node *html_elf(html_node *parent, const char *tag, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	html_node *n = html_el(parent, tag, s);
	free(s);
	return n;
}

void html_text(html_node *n, const char *text)
{
	xmlAddChild(n, xmlNewDocText(n->doc, X(text)));
}

void html_attr(html_node *n, const char *name, const char *value)
{
	xmlSetProp(n, X(name), X(value));
}

void html_attrf(html_node *n, const char *name, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	html_attr(n, name, s);
	free(s);
}

char *html_render(struct html *h, size_t *len)
{
	/* Through a UTF-8 output buffer: only <, >, & and quotes become
	 * references; French text stays as it is. */
	xmlBufferPtr buf = xmlBufferCreate();
	xmlCharEncodingHandlerPtr utf8 = xmlFindCharEncodingHandler("UTF-8");
	xmlOutputBufferPtr o = buf ? xmlOutputBufferCreateBuffer(buf, utf8) : NULL;
	if (o == NULL)
		abort();
	htmlDocContentDumpFormatOutput(o, h->doc, "UTF-8", 0);
	xmlOutputBufferClose(o);
	size_t n = (size_t)xmlBufferLength(buf);
	char *out = xmalloc(n + 1);
	memcpy(out, xmlBufferContent(buf), n);
	out[n] = '\0';
	xmlBufferFree(buf);
	*len = n;
	return out;
}

html_node *html_link(html_node *parent, const char *href, const char *text)
{
	html_node *a = html_el(parent, "a", text);
	html_attr(a, "href", href);
	return a;
}

html_node *html_td(html_node *tr, const char *text)
{
	return html_el(tr, "td", text ? text : "");
}

html_node *html_tdf(html_node *tr, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	html_node *n = html_td(tr, s);
	free(s);
	return n;
}

void html_header_row(html_node *table, const char *const *names, size_t n)
{
	html_node *tr = html_el(html_el(table, "thead", NULL), "tr", NULL);
	for (size_t i = 0; i < n; i++)
		html_el(tr, "th", names[i]);
}
