/*
 * csv - reads a registry CSV as spreadsheets write it (RFC 4180 quoting,
 * `,` or `;` decided from the header line, CRLF or LF, a UTF-8 BOM,
 * UTF-8 or, when asked, Windows-1252/Latin-1) and hands each good record
 * on as one normalised UTF-8 CSV line for PostgreSQL's COPY.  Pure: bytes
 * in, callbacks out, no I/O.  Every byte is hostile: each bad record is
 * named with its physical line and what is wrong, and is not handed on.
 * The caller owns the reader; the reader copies the column names.
 */
#ifndef ATTESTD_CSV_H
#define ATTESTD_CSV_H

#include <stdbool.h>
#include <stddef.h>

/* A record (its quoted fields may span lines) longer than this is refused. */
#define CSV_MAX_RECORD (64 * 1024)

enum csv_encoding { CSV_UTF8, CSV_WINDOWS_1252, CSV_LATIN1 };

/* "utf-8", "windows-1252" (or "cp1252"), "latin-1" (or "iso-8859-1"),
 * any case; false when unknown. */
bool csv_encoding_from_name(const char *name, enum csv_encoding *out);
const char *csv_encoding_name(enum csv_encoding enc);

struct csv_sink {
	void *ctx;
	/* A good record: out is "RECORD,LINE,field,...\n" (fields quoted, an
	 * empty field unquoted: SQL NULL), borrowed for the call. */
	void (*record)(void *ctx, long record, long line, const char *out, size_t len);
	/* A problem; record 0 for the file as a whole (header, empty file). */
	void (*problem)(void *ctx, long record, long line, const char *message);
};

struct csv_reader;

/* columns: the header's names in order (what the file must start with). */
struct csv_reader *csv_new(enum csv_encoding enc, const char *const *columns, size_t n_columns,
			   const struct csv_sink *sink);
void csv_feed(struct csv_reader *r, const char *buf, size_t len);
/* End of file: the last record, an unterminated quote, an empty file. */
void csv_finish(struct csv_reader *r);
/* The separator the header decided (',' before it is read). */
char csv_separator(const struct csv_reader *r);
/* Records seen after the header, good or bad. */
long csv_records(const struct csv_reader *r);
void csv_free(struct csv_reader *r);

#endif
