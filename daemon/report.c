/*
 * report - output framing and tables.  See report.h.
 *
 * A table is psql's aligned format, simplified: left-aligned cells, " | "
 * between columns, a rule under the header, "(N rows)" at the end.  It
 * holds a batch of rows to size the columns, so a three-year export to a
 * terminal starts at once and never sits whole in memory.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uniwidth.h>
#include <unistd.h>

#include "report.h"
#include "xmalloc.h"

bool report_format_from_name(const char *name, enum report_format *out)
{
	static const char *const names[] = { "table", "csv", "json" };
	for (int i = 0; i < 3; i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum report_format)i;
			return true;
		}
	}
	return false;
}

enum report_format report_format_default(FILE *out)
{
	return isatty(fileno(out)) ? REPORT_TABLE : REPORT_CSV;
}

/* --- framing ---------------------------------------------------------------- */

void report_begin(struct report *r, FILE *out, enum report_format format, bool sections)
{
	memset(r, 0, sizeof(*r));
	r->out = out;
	r->format = format;
	r->sections = sections;
	if (format == REPORT_JSON && sections)
		fputs("{", out);
}

/* A JSON object key: ours are plain identifiers, but quote them properly. */
static void json_key(FILE *out, const char *key)
{
	fputc('"', out);
	for (const char *p = key; *p; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', out);
		fputc(*p, out);
	}
	fputs("\": ", out);
}

void report_section(struct report *r, const char *key, const char *title, bool one)
{
	FILE *out = r->out;
	r->one = one;
	r->n_items = 0;
	switch (r->format) {
	case REPORT_JSON:
		if (r->sections) {
			fputs(r->n_sections ? ",\n " : "\n ", out);
			json_key(out, key);
		}
		if (!one)
			fputs("[", out);
		break;
	case REPORT_CSV:
		if (r->n_sections)
			fputc('\n', out);
		break;
	case REPORT_TABLE:
		if (r->n_sections)
			fputc('\n', out);
		if (r->sections && title)
			fprintf(out, "%s\n", title);
		break;
	}
	r->n_sections++;
}

void report_json_item(struct report *r, const char *json)
{
	/* One record only, whatever the query gave: the first is the one. */
	if (r->one && r->n_items > 0)
		return;
	if (!r->one)
		fputs(r->n_items ? ",\n  " : "\n  ", r->out);
	fputs(json, r->out);
	r->n_items++;
}

void report_section_end(struct report *r)
{
	if (r->format != REPORT_JSON)
		return;
	if (r->one)
		fputs(r->n_items ? "" : "null", r->out);
	else
		fputs(r->n_items ? "\n]" : "]", r->out);
	if (!r->sections)
		fputc('\n', r->out);
}

void report_end(struct report *r)
{
	if (r->format == REPORT_JSON && r->sections)
		fputs("\n}\n", r->out);
	fflush(r->out);
}

/* --- tables ----------------------------------------------------------------- */

struct report_table {
	FILE *out;
	size_t n_cols;
	char **names;
	bool vertical;
	size_t *width;
	char **held;			/* n_held rows of n_cols cells (NULL: SQL NULL) */
	size_t n_held;
	bool started;			/* header written, widths fixed */
	long n_rows;
};

/* The code point of a character a table shows escaped, at s (UTF-8), or
 * 0: C1 controls, the line and paragraph separators and the bidirectional
 * controls (U+061C, U+200E-F, U+202A-E, U+2066-9), which the schema
 * accepts in names but which would break or reorder the line a person
 * reads.  *len is the sequence's length. */
static unsigned cell_escaped(const unsigned char *s, size_t *len)
{
	unsigned cp = 0;
	if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
		cp = s[1], *len = 2;
	else if (s[0] == 0xd8 && s[1] == 0x9c)
		cp = 0x061c, *len = 2;
	else if (s[0] == 0xe2 && s[1] == 0x80 && s[2] != 0)
		cp = 0x2000 + (s[2] & 0x3fu), *len = 3;
	else if (s[0] == 0xe2 && s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9)
		cp = 0x2040 + (s[2] & 0x3fu), *len = 3;
	if (cp >= 0x2000 && !(cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
			      (cp >= 0x2066 && cp <= 0x2069)))
		cp = 0;
	return cp;
}

/* A cell as shown: control characters (a centre name on two lines, a tab
 * in a note) become spaces, so one record stays on one line; the
 * characters of cell_escaped() are shown as <U+XXXX>. */
static char *cell_copy(const char *s)
{
	if (s == NULL)
		return NULL;
	size_t n = strlen(s);
	char *c = xmalloc(n * 4 + 1);	/* "<U+XXXX>": 8 bytes for 2 at worst */
	size_t j = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t len = 1;
		unsigned cp = cell_escaped(p, &len);
		if (cp) {
			j += (size_t)sprintf(c + j, "<U+%04X>", cp);
			p += len;
		} else {
			c[j++] = *p < 0x20 || *p == 0x7f ? ' ' : (char)*p;
			p++;
		}
	}
	c[j] = '\0';
	return c;
}

static size_t cell_width(const char *s)
{
	if (s == NULL)
		return 0;
	int w = u8_strwidth((const uint8_t *)s, "UTF-8");
	/* Not UTF-8 after all (it always is from the database): bytes. */
	return w < 0 ? strlen(s) : (size_t)w;
}

static void pad(FILE *out, size_t n)
{
	while (n-- > 0)
		fputc(' ', out);
}

static void write_row(struct report_table *t, char *const *cells)
{
	for (size_t c = 0; c < t->n_cols; c++) {
		const char *v = cells[c] ? cells[c] : "";
		bool last = c + 1 == t->n_cols;
		if (c)
			fputs(" |", t->out);
		/* No trailing blanks after the last column. */
		if (last && v[0] == '\0')
			break;
		fputc(' ', t->out);
		fputs(v, t->out);
		if (!last) {
			size_t w = cell_width(v);
			pad(t->out, w < t->width[c] ? t->width[c] - w : 0);
		}
	}
	fputc('\n', t->out);
}

static void write_vertical(struct report_table *t, char *const *cells)
{
	if (t->n_rows > 0)
		fputc('\n', t->out);
	for (size_t c = 0; c < t->n_cols; c++) {
		fputs(t->names[c], t->out);
		pad(t->out, t->width[c] - cell_width(t->names[c]));
		if (cells[c] && cells[c][0])
			fprintf(t->out, " | %s\n", cells[c]);
		else
			fputs(" |\n", t->out);
	}
}

/* Sizes the columns on the header and the rows held, writes them all. */
static void table_start(struct report_table *t)
{
	for (size_t c = 0; c < t->n_cols; c++)
		for (size_t r = 0; r < t->n_held; r++) {
			size_t w = cell_width(t->held[r * t->n_cols + c]);
			if (w > t->width[c])
				t->width[c] = w;
		}
	write_row(t, t->names);
	for (size_t c = 0; c < t->n_cols; c++) {
		fputs(c ? "-+-" : "-", t->out);
		for (size_t i = 0; i < t->width[c]; i++)
			fputc('-', t->out);
	}
	fputs("-\n", t->out);
	for (size_t r = 0; r < t->n_held; r++) {
		write_row(t, &t->held[r * t->n_cols]);
		for (size_t c = 0; c < t->n_cols; c++)
			free(t->held[r * t->n_cols + c]);
	}
	t->n_held = 0;
	t->started = true;
}

struct report_table *report_table_new(FILE *out, size_t n_cols, const char *const *names,
				      bool vertical)
{
	struct report_table *t = xcalloc(1, sizeof(*t));
	t->out = out;
	t->n_cols = n_cols;
	t->vertical = vertical;
	t->names = xcalloc(n_cols ? n_cols : 1, sizeof(*t->names));
	t->width = xcalloc(n_cols ? n_cols : 1, sizeof(*t->width));
	size_t widest = 0;
	for (size_t c = 0; c < n_cols; c++) {
		t->names[c] = cell_copy(names[c]);
		t->width[c] = cell_width(t->names[c]);
		if (t->width[c] > widest)
			widest = t->width[c];
	}
	/* Vertical: the names are one column. */
	for (size_t c = 0; vertical && c < n_cols; c++)
		t->width[c] = widest;
	if (!vertical)
		t->held = xcalloc(REPORT_TABLE_BATCH * (n_cols ? n_cols : 1), sizeof(*t->held));
	return t;
}

void report_table_row(struct report_table *t, const char *const *values)
{
	if (t->vertical) {
		char **cells = xcalloc(t->n_cols ? t->n_cols : 1, sizeof(*cells));
		for (size_t c = 0; c < t->n_cols; c++)
			cells[c] = cell_copy(values[c]);
		write_vertical(t, cells);
		for (size_t c = 0; c < t->n_cols; c++)
			free(cells[c]);
		free(cells);
		t->n_rows++;
		return;
	}
	if (t->started) {
		char **cells = xcalloc(t->n_cols ? t->n_cols : 1, sizeof(*cells));
		for (size_t c = 0; c < t->n_cols; c++)
			cells[c] = cell_copy(values[c]);
		write_row(t, cells);
		for (size_t c = 0; c < t->n_cols; c++)
			free(cells[c]);
		free(cells);
	} else {
		for (size_t c = 0; c < t->n_cols; c++)
			t->held[t->n_held * t->n_cols + c] = cell_copy(values[c]);
		if (++t->n_held == REPORT_TABLE_BATCH)
			table_start(t);
	}
	t->n_rows++;
}

void report_table_end(struct report_table *t)
{
	if (t == NULL)
		return;
	if (!t->vertical && !t->started)
		table_start(t);
	if (!t->vertical || t->n_rows == 0)
		fprintf(t->out, "(%ld row%s)\n", t->n_rows, t->n_rows == 1 ? "" : "s");
	for (size_t c = 0; c < t->n_cols; c++)
		free(t->names[c]);
	free(t->names);
	free(t->width);
	free(t->held);
	free(t);
}
