/*
 * report - how the audit and review commands write what they show: a table
 * for a person at a terminal, CSV or JSON for programs.  PostgreSQL writes
 * the CSV and JSON text itself (store_report); this module frames it (one
 * result, or named sections in order) and lays out tables.  The caller
 * owns the stream; a table owns the cells it buffers.
 */
#ifndef ATTESTD_REPORT_H
#define ATTESTD_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Rows a table holds to size its columns; later rows keep those widths. */
#define REPORT_TABLE_BATCH 1000

enum report_format { REPORT_TABLE, REPORT_CSV, REPORT_JSON };

/* "table", "csv", "json"; false when unknown. */
bool report_format_from_name(const char *name, enum report_format *out);
/* A table on a terminal, CSV otherwise (interfaces.md). */
enum report_format report_format_default(FILE *out);

/*
 * One command's output.  With sections: a table gets a title line over
 * each part, CSV a blank line between the blocks (each with its header),
 * JSON one object with a key per part; without, the lone result as it is
 * (a JSON array).
 */
struct report {
	FILE *out;
	enum report_format format;
	bool sections;
	size_t n_sections;
	bool one;			/* the current part is one record */
	size_t n_items;			/* JSON items written in the current part */
};

void report_begin(struct report *r, FILE *out, enum report_format format, bool sections);
/* Starts a part.  one: a single record (JSON object or null, a vertical table). */
void report_section(struct report *r, const char *key, const char *title, bool one);
/* JSON: one record of the current part, as JSON text. */
void report_json_item(struct report *r, const char *json);
void report_section_end(struct report *r);
void report_end(struct report *r);

/*
 * A table written as rows come: the first REPORT_TABLE_BATCH rows are held
 * to size the columns, the rest are written at once.  vertical (for a
 * part of one record): one "column | value" line per field, records apart
 * by a blank line.  Control characters in cells are shown as spaces;
 * widths are display widths (UTF-8).
 */
struct report_table;

/* names are copied. */
struct report_table *report_table_new(FILE *out, size_t n_cols, const char *const *names,
				      bool vertical);
/* values[n_cols], copied; NULL is SQL NULL (shown empty). */
void report_table_row(struct report_table *t, const char *const *values);
/* Writes what is held and the row count, then frees the table (NULL is fine). */
void report_table_end(struct report_table *t);

#endif
