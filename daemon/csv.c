/*
 * csv - the registry CSV reader.  See csv.h.
 *
 * One pass, byte by byte, with a state machine that survives any split of
 * the input into buffers (a quote, a CRLF or a UTF-8 sequence may straddle
 * two reads).  `,`, `;`, `"`, CR and LF are ASCII, so the CSV structure is
 * read on the raw bytes in every accepted encoding; only field contents are
 * transcoded (or, in UTF-8, checked).  Memory is bounded by one record
 * (CSV_MAX_RECORD), whatever the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv.h"
#include "xmalloc.h"

/* Room kept before a record's fields for its "RECORD,LINE," prefix. */
#define PREFIX_ROOM 48
/* A raw byte is at most 3 in UTF-8; a field adds at most 3 (,""). */
#define OUT_SIZE (PREFIX_ROOM + 6 * CSV_MAX_RECORD + 64)

struct csv_reader {
	enum csv_encoding enc;
	char **columns;
	size_t n_columns;
	struct csv_sink sink;

	/* Before the header is read: its bytes, to choose the separator. */
	bool decided;
	char *head;
	size_t head_len;
	char sep;

	bool stop;		/* a bad header: the rest means nothing */
	bool header_done;
	long records;		/* after the header */
	long line;		/* current physical line, 1-based */
	long col;		/* byte of the current line, 1-based */
	long rec_line;		/* where the record began */
	long quote_line;	/* where the open quoted field began */
	size_t rec_bytes;	/* raw bytes of the record so far */

	bool in_quotes, after_quote, pending_cr;
	size_t n_fields;
	size_t field_start;	/* in out: after the field's opening quote */
	bool field_open;	/* the opening quote is written */

	/* UTF-8 check: continuation bytes still expected, and the range of the next. */
	int need;
	unsigned char lo, hi;
	long seq_col, seq_line;
	unsigned char seq_byte;

	bool bad;
	long bad_line;
	char *bad_msg;

	char *out;
	size_t len;		/* from PREFIX_ROOM */
	bool too_long;
	/* A file that is not UTF-8 has the fault on most lines: the first
	 * record is named in full, the others counted (one message at the end). */
	bool bad_utf8;		/* the current record's fault is its encoding */
	bool utf8_named;	/* a record with that fault has been named */
	long utf8_more, utf8_last_line;
	/* The header's fields, raw, to compare with the columns. */
	char **hfields;
	size_t n_hfields;
};

/* Windows-1252's 0x80-0x9F; 0 where it defines no character. */
static const unsigned short cp1252_high[32] = {
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
};

bool csv_encoding_from_name(const char *name, enum csv_encoding *out)
{
	static const struct {
		const char *name;
		enum csv_encoding enc;
	} names[] = {
		{ "utf-8", CSV_UTF8 }, { "utf8", CSV_UTF8 },
		{ "windows-1252", CSV_WINDOWS_1252 }, { "cp1252", CSV_WINDOWS_1252 },
		{ "latin-1", CSV_LATIN1 }, { "latin1", CSV_LATIN1 }, { "iso-8859-1", CSV_LATIN1 },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i].name) == 0) {
			*out = names[i].enc;
			return true;
		}
	return false;
}

const char *csv_encoding_name(enum csv_encoding enc)
{
	switch (enc) {
	case CSV_WINDOWS_1252:
		return "windows-1252";
	case CSV_LATIN1:
		return "latin-1";
	case CSV_UTF8:
		break;
	}
	return "utf-8";
}

struct csv_reader *csv_new(enum csv_encoding enc, const char *const *columns, size_t n_columns,
			   const struct csv_sink *sink)
{
	struct csv_reader *r = xcalloc(1, sizeof(*r));
	r->enc = enc;
	r->columns = xcalloc(n_columns ? n_columns : 1, sizeof(*r->columns));
	for (size_t i = 0; i < n_columns; i++)
		r->columns[i] = xstrdup(columns[i]);
	r->n_columns = n_columns;
	r->sink = *sink;
	r->sep = ',';
	r->line = 1;
	r->rec_line = 1;
	r->head = xmalloc(CSV_MAX_RECORD);
	r->out = xmalloc(OUT_SIZE);
	r->hfields = xcalloc(n_columns + 1, sizeof(*r->hfields));
	return r;
}

void csv_free(struct csv_reader *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_columns; i++)
		free(r->columns[i]);
	for (size_t i = 0; i < r->n_hfields; i++)
		free(r->hfields[i]);
	free(r->hfields);
	free(r->columns);
	free(r->head);
	free(r->out);
	free(r->bad_msg);
	free(r);
}

char csv_separator(const struct csv_reader *r)
{
	return r->sep;
}

long csv_records(const struct csv_reader *r)
{
	return r->records;
}

/* The first problem of a record is the one said: the others may be its
 * consequences (a stray quote shifts every field after it). */
static void mark_bad(struct csv_reader *r, long line, char *msg)
{
	if (r->bad) {
		free(msg);
		return;
	}
	r->bad = true;
	r->bad_line = line;
	r->bad_msg = msg;
}

static void put(struct csv_reader *r, char c)
{
	if (PREFIX_ROOM + r->len + 4 >= OUT_SIZE)
		return;		/* too long, and said so already */
	r->out[PREFIX_ROOM + r->len++] = c;
}

static void put_utf8(struct csv_reader *r, unsigned cp)
{
	if (cp < 0x80) {
		put(r, (char)cp);
	} else if (cp < 0x800) {
		put(r, (char)(0xC0 | (cp >> 6)));
		put(r, (char)(0x80 | (cp & 0x3F)));
	} else {
		put(r, (char)(0xE0 | (cp >> 12)));
		put(r, (char)(0x80 | ((cp >> 6) & 0x3F)));
		put(r, (char)(0x80 | (cp & 0x3F)));
	}
}

static void not_utf8(struct csv_reader *r, long line, long col, unsigned char c)
{
	if (!r->bad)
		r->bad_utf8 = true;
	mark_bad(r, line, xasprintf("byte %ld of the line (0x%02X) is not UTF-8; a spreadsheet "
				    "export? import the file again with --encoding windows-1252 "
				    "(or --encoding latin-1)", col, c));
}

/* A UTF-8 sequence cut short (by ASCII, the end of a field or line): its
 * first byte is the culprit, typically a Latin-1 letter (0xE9 for é). */
static void utf8_cut(struct csv_reader *r)
{
	if (r->need > 0) {
		not_utf8(r, r->seq_line, r->seq_col, r->seq_byte);
		r->need = 0;
	}
}

/* One byte of a field's value. */
static void content(struct csv_reader *r, unsigned char c)
{
	if (c == 0) {
		mark_bad(r, r->line, xasprintf("byte %ld of the line is a NUL byte: not text",
					       r->col));
		return;
	}
	if (c == '"')
		put(r, '"');	/* doubled in the output: every value is quoted */
	if (c < 0x80) {
		utf8_cut(r);
		put(r, (char)c);
		return;
	}
	switch (r->enc) {
	case CSV_LATIN1:
		put_utf8(r, c);
		return;
	case CSV_WINDOWS_1252:
		if (c >= 0xA0) {
			put_utf8(r, c);
		} else if (cp1252_high[c - 0x80]) {
			put_utf8(r, cp1252_high[c - 0x80]);
		} else {
			mark_bad(r, r->line, xasprintf("byte %ld of the line (0x%02X) is not a "
						       "Windows-1252 character", r->col, c));
		}
		return;
	case CSV_UTF8:
		break;
	}
	if (r->need > 0) {
		if (c < r->lo || c > r->hi) {
			not_utf8(r, r->line, r->col, c);
			r->need = 0;
			return;
		}
		r->lo = 0x80;
		r->hi = 0xBF;
		r->need--;
		put(r, (char)c);
		return;
	}
	r->lo = 0x80;
	r->hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF) {
		r->need = 1;
	} else if (c >= 0xE0 && c <= 0xEF) {
		r->need = 2;
		if (c == 0xE0)
			r->lo = 0xA0;	/* no overlong forms */
		else if (c == 0xED)
			r->hi = 0x9F;	/* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		r->need = 3;
		if (c == 0xF0)
			r->lo = 0x90;
		else if (c == 0xF4)
			r->hi = 0x8F;	/* nothing above U+10FFFF */
	} else {
		not_utf8(r, r->line, r->col, c);
		return;
	}
	r->seq_line = r->line;
	r->seq_col = r->col;
	r->seq_byte = c;
	put(r, (char)c);
}

static void field_begin(struct csv_reader *r)
{
	if (r->n_fields > 0)
		put(r, ',');
	put(r, '"');
	r->field_start = r->len;
	r->field_open = true;
}

static void field_end(struct csv_reader *r)
{
	utf8_cut(r);
	if (!r->field_open)
		field_begin(r);
	if (!r->header_done && r->n_hfields < r->n_columns + 1) {
		size_t n = r->len - r->field_start;
		char *f = xmalloc(n + 1);
		memcpy(f, r->out + PREFIX_ROOM + r->field_start, n);
		f[n] = '\0';
		r->hfields[r->n_hfields++] = f;
	}
	if (r->len == r->field_start)
		r->len--;	/* empty: unquoted, which COPY reads as NULL */
	else
		put(r, '"');
	r->field_open = false;
	r->n_fields++;
}

static const char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

static void header_check(struct csv_reader *r)
{
	bool ok = r->n_hfields == r->n_columns;
	for (size_t i = 0; ok && i < r->n_columns; i++)
		ok = strcasecmp(trim(r->hfields[i]), r->columns[i]) == 0;
	if (ok)
		return;
	size_t cap = 64;
	for (size_t i = 0; i < r->n_columns; i++)
		cap += strlen(r->columns[i]) + 1;
	char *want = xcalloc(1, cap);
	for (size_t i = 0; i < r->n_columns; i++) {
		if (i)
			strcat(want, ",");
		strcat(want, r->columns[i]);
	}
	char *msg;
	if (r->n_hfields != r->n_columns)
		msg = xasprintf("the header has %zu%s columns, not %zu: the file must start with "
				"the line %s (or the same with ;)", r->n_hfields,
				r->n_hfields > r->n_columns ? " or more" : "", r->n_columns, want);
	else {
		size_t i = 0;
		while (strcasecmp(r->hfields[i], r->columns[i]) == 0)
			i++;
		msg = xasprintf("the header's column %zu is \"%.40s\" where \"%s\" is expected: the "
				"file must start with the line %s (or the same with ;)", i + 1,
				r->hfields[i], r->columns[i], want);
	}
	r->sink.problem(r->sink.ctx, 0, r->rec_line, msg);
	free(msg);
	free(want);
	r->stop = true;
}

static void record_end(struct csv_reader *r)
{
	if (r->rec_bytes == 0 && !r->bad) {
		/* A blank line is no record (spreadsheets leave some at the end). */
		r->n_fields = 0;
		r->len = 0;
		r->field_open = false;
		return;
	}
	field_end(r);
	if (!r->header_done) {
		r->header_done = true;
		if (r->bad) {
			r->sink.problem(r->sink.ctx, 0, r->bad_line, r->bad_msg);
			r->stop = true;
		} else {
			header_check(r);
		}
	} else {
		r->records++;
		if (!r->bad && r->n_fields != r->n_columns)
			mark_bad(r, r->rec_line,
				 xasprintf("%zu fields where the header has %zu%s", r->n_fields,
					   r->n_columns, r->n_fields > r->n_columns
					   ? ": a value with the separator in it must be quoted"
					   : ""));
		if (r->bad && r->bad_utf8 && r->utf8_named) {
			r->utf8_more++;
			r->utf8_last_line = r->bad_line;
		} else if (r->bad) {
			r->utf8_named |= r->bad_utf8;
			r->sink.problem(r->sink.ctx, r->records, r->bad_line, r->bad_msg);
		} else {
			char prefix[PREFIX_ROOM];
			int n = snprintf(prefix, sizeof(prefix), "%ld,%ld,", r->records, r->rec_line);
			char *start = r->out + PREFIX_ROOM - n;
			memcpy(start, prefix, (size_t)n);
			r->out[PREFIX_ROOM + r->len] = '\n';
			r->sink.record(r->sink.ctx, r->records, r->rec_line, start,
				       (size_t)n + r->len + 1);
		}
	}
	free(r->bad_msg);
	r->bad_msg = NULL;
	r->bad = false;
	r->bad_utf8 = false;
	r->too_long = false;
	r->n_fields = 0;
	r->len = 0;
	r->field_open = false;
	r->rec_bytes = 0;
	r->after_quote = false;
}

static void newline(struct csv_reader *r)
{
	record_end(r);
	r->line++;
	r->col = 0;
	r->rec_line = r->line;
}

static void byte(struct csv_reader *r, unsigned char c)
{
	r->col++;
	if (r->pending_cr) {
		r->pending_cr = false;
		if (c == '\n') {
			r->rec_bytes--;	/* the CR of a CRLF is no content */
			newline(r);
			return;
		}
		/* A lone CR is part of the value (the field checks refuse it). */
		if (!r->field_open)
			field_begin(r);
		content(r, '\r');
	}
	if (c != '\n' && c != '\r')
		r->rec_bytes++;
	if (r->rec_bytes > CSV_MAX_RECORD && !r->too_long) {
		r->too_long = true;
		mark_bad(r, r->rec_line, xasprintf("the record is longer than %d bytes",
						   CSV_MAX_RECORD));
	}
	if (r->in_quotes) {
		if (c == '"') {
			r->in_quotes = false;
			r->after_quote = true;
			return;
		}
		content(r, c);
		if (c == '\n') {
			r->line++;
			r->col = 0;
		}
		return;
	}
	if (r->after_quote) {
		r->after_quote = false;
		if (c == '"') {		/* a doubled quote inside a quoted value */
			r->in_quotes = true;
			content(r, c);
			return;
		}
		if (c != r->sep && c != '\n' && c != '\r')
			mark_bad(r, r->line, xasprintf("byte %ld of the line: text after the closing "
						       "quote of field %zu (a quote inside a quoted "
						       "value is written \"\")", r->col,
						       r->n_fields + 1));
	}
	if (c == r->sep) {
		field_end(r);
		return;
	}
	if (c == '\n') {
		newline(r);
		return;
	}
	if (c == '\r') {
		r->pending_cr = true;
		r->rec_bytes++;	/* undone at the LF if it ends the line */
		return;
	}
	if (!r->field_open) {
		field_begin(r);
		if (c == '"') {
			r->in_quotes = true;
			r->quote_line = r->line;
			return;
		}
	} else if (c == '"') {
		mark_bad(r, r->line, xasprintf("byte %ld of the line: a quote inside an unquoted "
					       "value (quote the whole value, the quote doubled)",
					       r->col));
	}
	content(r, c);
}

static void run(struct csv_reader *r, const char *buf, size_t len)
{
	for (size_t i = 0; i < len && !r->stop; i++)
		byte(r, (unsigned char)buf[i]);
}

/* The header line is in head: drop a BOM, choose the separator, read it. */
static void decide(struct csv_reader *r)
{
	r->decided = true;
	const char *p = r->head;
	size_t n = r->head_len;
	if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
		if (r->enc != CSV_UTF8) {
			r->sink.problem(r->sink.ctx, 0, 1, "the file starts with a UTF-8 byte order "
					"mark: it is UTF-8; import it again without --encoding");
			r->stop = true;
			return;
		}
		p += 3;
		n -= 3;
	}
	size_t commas = 0, semis = 0;
	for (size_t i = 0; i < n && p[i] != '\n'; i++) {
		commas += p[i] == ',';
		semis += p[i] == ';';
	}
	r->sep = semis > commas ? ';' : ',';
	run(r, p, n);
}

void csv_feed(struct csv_reader *r, const char *buf, size_t len)
{
	if (len == 0)
		return;
	if (!r->decided) {
		size_t take = 0;
		while (take < len && buf[take] != '\n' && r->head_len + take < CSV_MAX_RECORD)
			take++;
		if (take < len && r->head_len + take < CSV_MAX_RECORD)
			take++;		/* the newline */
		memcpy(r->head + r->head_len, buf, take);
		r->head_len += take;
		buf += take;
		len -= take;
		if (r->head_len == CSV_MAX_RECORD || r->head[r->head_len - 1] == '\n' || len > 0)
			decide(r);
		else
			return;
	}
	run(r, buf, len);
}

void csv_finish(struct csv_reader *r)
{
	if (!r->decided && r->head_len > 0)
		decide(r);
	if (r->stop)
		return;
	if (r->pending_cr) {
		r->pending_cr = false;
		r->rec_bytes--;
		newline(r);
	}
	if (r->in_quotes) {
		mark_bad(r, r->quote_line, xasprintf("a quoted value opened on line %ld is never "
						     "closed: its closing quote is missing",
						     r->quote_line));
		r->in_quotes = false;
		r->rec_bytes++;
	}
	if (r->rec_bytes > 0 || r->bad)
		newline(r);
	if (r->stop)
		return;
	if (r->utf8_more > 0) {
		char *msg = xasprintf("and %ld more record%s, up to line %ld, with bytes that are not "
				      "UTF-8: the file is not UTF-8; import it again with --encoding "
				      "windows-1252 (or --encoding latin-1)", r->utf8_more,
				      r->utf8_more > 1 ? "s" : "", r->utf8_last_line);
		r->sink.problem(r->sink.ctx, 0, r->utf8_last_line, msg);
		free(msg);
	}
	if (!r->header_done)
		r->sink.problem(r->sink.ctx, 0, 1, "the file is empty: a registry file starts with "
				"its header line, then one line per record");
	else if (r->records == 0)
		r->sink.problem(r->sink.ctx, 0, 2, "the file has its header and no record: nothing "
				"to import (is it the right file?)");
}
