/*
 * html - pages built as trees (libxml2's HTML document and serializer), so
 * that text and attribute values are escaped by construction: nothing is
 * ever pasted into markup.  With parsers/, the one place that includes
 * libxml2 (pages only build and serialize; they never parse).  A page owns
 * its nodes; html_node pointers are borrowed until html_free().
 */
#ifndef ATTESTD_HTML_H
#define ATTESTD_HTML_H

#include <stdarg.h>
#include <stddef.h>

typedef struct _xmlNode html_node;
struct html;

/* <!DOCTYPE html><html lang="fr"> with head (charset, title, the
 * stylesheet /static/console.css) and an empty body. */
struct html *html_new(const char *title);
void html_free(struct html *h);
html_node *html_body(struct html *h);
/* The stylesheet inline in a <style> instead of the link (self-contained
 * files: attestd audit report --format html). */
void html_inline_style(struct html *h, const char *css);

/* A new element under parent; text (NULL: none) becomes its text content. */
html_node *html_el(html_node *parent, const char *tag, const char *text);
html_node *html_elf(html_node *parent, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Appends text to n's content. */
void html_text(html_node *n, const char *text);
void html_attr(html_node *n, const char *name, const char *value);
void html_attrf(html_node *n, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The document as UTF-8 HTML (allocated; *len its length). */
char *html_render(struct html *h, size_t *len);

/* Shorthands the pages use: a link, a <td>, a row of header cells. */
html_node *html_link(html_node *parent, const char *href, const char *text);
html_node *html_td(html_node *tr, const char *text);
html_node *html_tdf(html_node *tr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void html_header_row(html_node *table, const char *const *names, size_t n);

#endif
