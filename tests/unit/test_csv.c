/*
 * test_csv - the registry CSV reader: what spreadsheets write (`;`, CRLF,
 * BOM, quoted separators and line breaks, Windows-1252) comes out as the
 * same normalised records; each malformed record is named with its line.
 * Every input is also fed one byte at a time: no state may depend on how
 * the file is cut into reads.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "xmalloc.h"

struct got {
	char out[8192];
	char problems[8192];
};

static void on_record(void *ctx, long record, long line, const char *out, size_t len)
{
	struct got *g = ctx;
	(void)record;
	(void)line;
	strncat(g->out, out, len);
}

static void on_problem(void *ctx, long record, long line, const char *message)
{
	struct got *g = ctx;
	char buf[1024];
	snprintf(buf, sizeof(buf), "%ld:%ld: %s\n", line, record, message);
	strcat(g->problems, buf);
}

static const char *const cols[] = { "a", "b", "c" };

static void read_csv(const char *in, size_t len, enum csv_encoding enc, bool bytewise,
		     struct got *g)
{
	memset(g, 0, sizeof(*g));
	struct csv_sink sink = { g, on_record, on_problem };
	struct csv_reader *r = csv_new(enc, cols, 3, &sink);
	if (bytewise)
		for (size_t i = 0; i < len; i++)
			csv_feed(r, in + i, 1);
	else
		csv_feed(r, in, len);
	csv_finish(r);
	csv_free(r);
}

/* Reads in both ways and checks that they agree. */
static void expect(const char *in, size_t len, enum csv_encoding enc, const char *out,
		   const char *problems)
{
	struct got whole, bytes;
	read_csv(in, len, enc, false, &whole);
	read_csv(in, len, enc, true, &bytes);
	cr_expect_str_eq(whole.out, out, "records of %s", in);
	cr_expect_str_eq(whole.problems, problems, "problems of %s", in);
	cr_expect_str_eq(bytes.out, whole.out, "byte by byte: records of %s", in);
	cr_expect_str_eq(bytes.problems, whole.problems, "byte by byte: problems of %s", in);
}

#define EXPECT(in, enc, out, problems) expect(in, sizeof(in) - 1, enc, out, problems)

Test(csv, plain_comma)
{
	EXPECT("a,b,c\n1,2,3\n4,,6\n", CSV_UTF8, "1,2,\"1\",\"2\",\"3\"\n2,3,\"4\",,\"6\"\n", "");
}

Test(csv, spreadsheet_semicolon_crlf_bom_windows_1252)
{
	/* What a French Excel writes: BOM-less, ';', CRLF, 0xE9 for é, 0x80 for €. */
	EXPECT("a;b;c\r\nL\xe9ger;\"x;y\";\x80\r\n", CSV_WINDOWS_1252,
	       "1,2,\"L\xc3\xa9ger\",\"x;y\",\"\xe2\x82\xac\"\n", "");
	EXPECT("\xef\xbb\xbf" "a,b,c\r\n1,2,3\r\n", CSV_UTF8, "1,2,\"1\",\"2\",\"3\"\n", "");
	EXPECT("a,b,c\n\xe9,\x9f,3\n", CSV_LATIN1, "1,2,\"\xc3\xa9\",\"\xc2\x9f\",\"3\"\n", "");
}

Test(csv, quoting_as_rfc4180)
{
	/* A quoted comma, a doubled quote, a line break inside a value: the
	 * record's line is where it begins, the next record's counts it. */
	EXPECT("a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\nq,r,s\n", CSV_UTF8,
	       "1,2,\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\n2,4,\"q\",\"r\",\"s\"\n", "");
	/* Blank lines (a spreadsheet's trailing ones) are no records. */
	EXPECT("a,b,c\n1,2,3\n\r\n\n", CSV_UTF8, "1,2,\"1\",\"2\",\"3\"\n", "");
}

Test(csv, each_bad_record_named_with_its_line)
{
	EXPECT("a,b,c\n1,2\n1,2,3,4\n\"x\"y,2,3\nok,2,3\nx\"y,2,3\n", CSV_UTF8,
	       "4,5,\"ok\",\"2\",\"3\"\n",
	       "2:1: 2 fields where the header has 3\n"
	       "3:2: 4 fields where the header has 3: a value with the separator in it must be "
	       "quoted\n"
	       "4:3: byte 4 of the line: text after the closing quote of field 1 (a quote inside "
	       "a quoted value is written \"\")\n"
	       "6:5: byte 2 of the line: a quote inside an unquoted value (quote the whole value, "
	       "the quote doubled)\n");
}

Test(csv, unterminated_quote_names_where_it_opened)
{
	EXPECT("a,b,c\n1,2,3\n1,\"open,3\n4,5,6\n", CSV_UTF8, "1,2,\"1\",\"2\",\"3\"\n",
	       "3:2: a quoted value opened on line 3 is never closed: its closing quote is "
	       "missing\n");
}

Test(csv, not_utf8_names_line_and_byte_and_the_option)
{
	EXPECT("a,b,c\n1,2,3\nL\xe9ger,2,3\n", CSV_UTF8, "1,2,\"1\",\"2\",\"3\"\n",
	       "3:2: byte 2 of the line (0xE9) is not UTF-8; a spreadsheet export? import the "
	       "file again with --encoding windows-1252 (or --encoding latin-1)\n");
	/* Overlong, surrogate, cut short. */
	EXPECT("a,b,c\n\xc0\xaf,2,3\n\xed\xa0\x80,2,3\nx\xc3,2,3\n", CSV_UTF8, "",
	       "2:1: byte 1 of the line (0xC0) is not UTF-8; a spreadsheet export? import the "
	       "file again with --encoding windows-1252 (or --encoding latin-1)\n"
	       "4:0: and 2 more records, up to line 4, with bytes that are not UTF-8: the file "
	       "is not UTF-8; import it again with --encoding windows-1252 (or --encoding "
	       "latin-1)\n");
	/* The first named, the rest counted, the other faults still named. */
	EXPECT("a,b,c\n\xe9,2,3\n1,2\n\xe9,2,3\n", CSV_UTF8, "",
	       "2:1: byte 1 of the line (0xE9) is not UTF-8; a spreadsheet export? import the "
	       "file again with --encoding windows-1252 (or --encoding latin-1)\n"
	       "3:2: 2 fields where the header has 3\n"
	       "4:0: and 1 more record, up to line 4, with bytes that are not UTF-8: the file "
	       "is not UTF-8; import it again with --encoding windows-1252 (or --encoding "
	       "latin-1)\n");
	EXPECT("a,b,c\n\x81,2,3\n", CSV_WINDOWS_1252, "",
	       "2:1: byte 1 of the line (0x81) is not a Windows-1252 character\n");
	EXPECT("a,b,c\nx\0y,2,3\n", CSV_UTF8, "", "2:1: byte 2 of the line is a NUL byte: not text\n");
}

Test(csv, empty_header_alone_wrong_header)
{
	EXPECT("", CSV_UTF8, "",
	       "1:0: the file is empty: a registry file starts with its header line, then one "
	       "line per record\n");
	EXPECT("a;b;c\r\n", CSV_UTF8, "",
	       "2:0: the file has its header and no record: nothing to import (is it the right "
	       "file?)\n");
	EXPECT("a,x,c\n1,2,3\n", CSV_UTF8, "",
	       "1:0: the header's column 2 is \"x\" where \"b\" is expected: the file must start "
	       "with the line a,b,c (or the same with ;)\n");
	EXPECT("a,b\n1,2\n", CSV_UTF8, "",
	       "1:0: the header has 2 columns, not 3: the file must start with the line a,b,c "
	       "(or the same with ;)\n");
	/* Spreadsheets capitalise and pad headers; that is still the header. */
	EXPECT("A ; B;c\n1;2;3", CSV_UTF8, "1,2,\"1\",\"2\",\"3\"\n", "");
	EXPECT("\xef\xbb\xbf" "a,b,c\n1,2,3\n", CSV_WINDOWS_1252, "",
	       "1:0: the file starts with a UTF-8 byte order mark: it is UTF-8; import it again "
	       "without --encoding\n");
}

Test(csv, separator_from_the_header)
{
	struct got g;
	memset(&g, 0, sizeof(g));
	struct csv_sink sink = { &g, on_record, on_problem };
	struct csv_reader *r = csv_new(CSV_UTF8, cols, 3, &sink);
	csv_feed(r, "a;b;c\n1,5;2;3\n", 14);
	csv_finish(r);
	cr_expect_eq(csv_separator(r), ';');
	cr_expect_eq(csv_records(r), 1);
	cr_expect_str_eq(g.out, "1,2,\"1,5\",\"2\",\"3\"\n");
	csv_free(r);
}

Test(csv, a_record_too_long_is_refused_in_bounded_memory)
{
	size_t n = CSV_MAX_RECORD + 100;
	char *in = xmalloc(n + 32);
	strcpy(in, "a,b,c\n");
	memset(in + 6, 'x', n);
	strcpy(in + 6 + n, ",2,3\n1,2,3\n");
	struct got g;
	read_csv(in, strlen(in), CSV_UTF8, false, &g);
	cr_expect_str_eq(g.out, "2,3,\"1\",\"2\",\"3\"\n");
	cr_expect(strstr(g.problems, "2:1: the record is longer than 65536 bytes") != NULL, "%s",
		  g.problems);
	free(in);
}
