/*
 * parsers_docs - helpers shared by the parsers' unit tests: reading the
 * documents of tests/fixtures/docs/ (paths relative to the repository root,
 * where the tests run), listing a directory of them, and making variants
 * of a document at run time (for the ones too big to commit).
 */
#ifndef ATTESTD_TESTS_PARSERS_DOCS_H
#define ATTESTD_TESTS_PARSERS_DOCS_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "xml_load.h"
#include "xmalloc.h"

#define DOCS "tests/fixtures/docs/"

/* Once per test process: what parsers_global_init does for these modules. */
static inline void docs_init(void)
{
	xmlInitParser();
	xml_load_install_entity_loader();
}

static inline unsigned char *docs_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s (run the tests from the repository root)", path);
	size_t cap = 4096, n = 0;
	unsigned char *buf = xmalloc(cap);
	size_t got;
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap)
			buf = xrealloc(buf, cap *= 2);
	}
	fclose(f);
	*len = n;
	return buf;
}

/* Loads a document with the default limits. */
static inline enum reason docs_load(const char *path, xmlDocPtr *doc, struct parse_error *err)
{
	size_t len;
	unsigned char *bytes = docs_read(path, &len);
	enum reason r = xml_load(bytes, len, NULL, doc, err);
	free(bytes);
	return r;
}

/* text with the one occurrence of `from` replaced by `to` (asserted). */
static inline char *docs_replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	cr_assert_not_null(at, "'%s' not found", from);
	cr_assert_null(strstr(at + 1, from), "'%s' found twice", from);
	size_t head = (size_t)(at - text), flen = strlen(from), tlen = strlen(to);
	char *out = xmalloc(strlen(text) - flen + tlen + 1);
	memcpy(out, text, head);
	memcpy(out + head, to, tlen);
	strcpy(out + head + tlen, at + flen);
	return out;
}

/* Names of the .xml files of a directory, NULL-terminated (free with
 * docs_free_list). */
static inline char **docs_list(const char *dir)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "cannot open %s", dir);
	size_t n = 0;
	char **names = xcalloc(1, sizeof(*names));
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 4, ".xml") != 0)
			continue;
		names = xreallocarray(names, n + 2, sizeof(*names));
		names[n++] = xstrdup(e->d_name);
		names[n] = NULL;
	}
	closedir(d);
	return names;
}

static inline void docs_free_list(char **names)
{
	for (size_t i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
}

#endif
