/*
 * test_report - the output of the audit and review commands: format names
 * and the terminal default, table layout (widths, UTF-8, NULLs, control
 * characters, vertical records, no trailing blanks), the batch that sizes
 * the columns and then streams, and the framing of sections in table, CSV
 * and JSON.  Output goes to a memory stream and is compared byte for byte.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"

#define MAX_COLS 3
#define MAX_ROWS 3

struct table_case {
	char name[64];
	bool vertical;
	size_t n_cols;
	char names[MAX_COLS][16];
	size_t n_rows;
	char cells[MAX_ROWS][MAX_COLS][32];
	unsigned nulls[MAX_ROWS];	/* bit c: cell c is SQL NULL */
	char expected[512];
};

struct capture {
	char *buf;
	size_t len;
	FILE *f;
};

static void capture_open(struct capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	cr_assert_not_null(c->f);
}

static const char *capture_text(struct capture *c)
{
	fflush(c->f);
	return c->buf;
}

static void capture_close(struct capture *c)
{
	fclose(c->f);
	free(c->buf);
}

/* One case of report::tables (issue 12: the cases share one process). */
static void report_tables_case(struct table_case *tc)
{
	struct capture c;
	capture_open(&c);
	const char *names[MAX_COLS];
	for (size_t i = 0; i < tc->n_cols; i++)
		names[i] = tc->names[i];
	struct report_table *t = report_table_new(c.f, tc->n_cols, names, tc->vertical);
	for (size_t r = 0; r < tc->n_rows; r++) {
		const char *values[MAX_COLS];
		for (size_t i = 0; i < tc->n_cols; i++)
			values[i] = tc->nulls[r] & (1u << i) ? NULL : tc->cells[r][i];
		report_table_row(t, values);
	}
	report_table_end(t);
	cr_expect_str_eq(capture_text(&c), tc->expected, "%s", tc->name);
	capture_close(&c);
}

Test(report, tables)
{
	static struct table_case cases[] = {
		{ "two columns aligned, NULL empty", false, 2, { "id", "licence" }, 2,
		  { { "7", "120575300042" }, { "12", "" } }, { 0, 2 },
		  " id | licence\n"
		  "----+--------------\n"
		  " 7  | 120575300042\n"
		  " 12 |\n"
		  "(2 rows)\n" },
		{ "widths are display widths", false, 2, { "surname", "n" }, 2,
		  { { "\u00C9LODIE", "1" }, { "NGUY\u1EC4N", "2" } }, { 0, 0 },
		  " surname | n\n"
		  "---------+---\n"
		  " \u00C9LODIE  | 1\n"
		  " NGUY\u1EC4N  | 2\n"
		  "(2 rows)\n" },
		{ "control characters shown as spaces", false, 2, { "name", "note" }, 1,
		  { { "Centre\nde test", "a\tb" } }, { 0 },
		  " name           | note\n"
		  "----------------+------\n"
		  " Centre de test | a b\n"
		  "(1 row)\n" },
		{ "bidi overrides and separators shown escaped", false, 2, { "surname", "n" }, 2,
		  { { "\u202Egnp.exe", "1" }, { "A\u2028B\u2066C\xc2\x85", "2" } }, { 0, 0 },
		  " surname                     | n\n"
		  "-----------------------------+---\n"
		  " <U+202E>gnp.exe             | 1\n"
		  " A<U+2028>B<U+2066>C<U+0085> | 2\n"
		  "(2 rows)\n" },
		{ "no rows: header, rule, count", false, 3, { "a", "bb", "ccc" }, 0, { { "" } }, { 0 },
		  " a | bb | ccc\n"
		  "---+----+-----\n"
		  "(0 rows)\n" },
		{ "an empty cell before the last is padded", false, 3, { "a", "b", "c" }, 1,
		  { { "", "", "x" } }, { 3 },
		  " a | b | c\n"
		  "---+---+---\n"
		  "   |   | x\n"
		  "(1 row)\n" },
		{ "vertical: one line per field", true, 3, { "id", "decision", "note" }, 1,
		  { { "12", "review", "" } }, { 4 },
		  "id       | 12\n"
		  "decision | review\n"
		  "note     |\n" },
		{ "vertical: records apart", true, 2, { "k", "value" }, 2,
		  { { "1", "a" }, { "2", "b" } }, { 0, 0 },
		  "k     | 1\n"
		  "value | a\n"
		  "\n"
		  "k     | 2\n"
		  "value | b\n" },
		{ "vertical: no record", true, 2, { "k", "v" }, 0, { { "" } }, { 0 },
		  "(0 rows)\n" },
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		report_tables_case(&cases[k]);
}

/* The first batch sizes the columns and is written as soon as it is full;
 * later rows stream with those widths (a wider cell just pushes). */
Test(report, batch_then_stream)
{
	struct capture c;
	capture_open(&c);
	const char *names[] = { "n", "x" };
	struct report_table *t = report_table_new(c.f, 2, names, false);
	char num[16];
	for (int i = 0; i < REPORT_TABLE_BATCH - 1; i++) {
		snprintf(num, sizeof(num), "%d", i % 10);
		const char *v[] = { num, "y" };
		report_table_row(t, v);
	}
	cr_expect_eq(strlen(capture_text(&c)), 0, "nothing written before the batch is full");
	const char *v[] = { "10", "y" };
	report_table_row(t, v);
	const char *text = capture_text(&c);
	const char *head = " n  | x\n----+---\n 0  | y\n";
	cr_expect(strncmp(text, head, strlen(head)) == 0, "sized on the batch: %.40s", text);
	size_t after_batch = strlen(text);
	const char *wide[] = { "12345", "z" };
	report_table_row(t, wide);
	text = capture_text(&c);
	cr_expect_str_eq(text + after_batch, " 12345 | z\n", "streamed at once");
	report_table_end(t);
	text = capture_text(&c);
	cr_expect(strstr(text, "\n(1001 rows)\n") != NULL);
	capture_close(&c);
}

Test(report, format_names)
{
	enum report_format f = REPORT_TABLE;
	cr_expect(report_format_from_name("csv", &f));
	cr_expect_eq(f, REPORT_CSV);
	cr_expect(report_format_from_name("json", &f));
	cr_expect_eq(f, REPORT_JSON);
	cr_expect(report_format_from_name("table", &f));
	cr_expect_eq(f, REPORT_TABLE);
	cr_expect(!report_format_from_name("xml", &f));
	cr_expect(!report_format_from_name("CSV", &f));
	cr_expect_eq(f, REPORT_TABLE, "left alone when unknown");
}

/* A terminal gets a table, anything else CSV. */
Test(report, default_format)
{
	struct capture c;
	capture_open(&c);
	cr_expect_eq(report_format_default(c.f), REPORT_CSV);
	capture_close(&c);
	FILE *devnull = fopen("/dev/null", "w");
	cr_assert_not_null(devnull);
	cr_expect_eq(report_format_default(devnull), REPORT_CSV);
	fclose(devnull);

	int master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0)
		cr_skip_test("no pseudo-terminal here");
	FILE *tty = fopen(ptsname(master), "w");
	cr_assert_not_null(tty);
	cr_expect_eq(report_format_default(tty), REPORT_TABLE);
	fclose(tty);
	close(master);
}

struct frame_case {
	char name[48];
	enum report_format format;
	bool sections;
	char expected[256];
};

/* Two parts: "a" of two records, "b" of one record that is not there. */
/* One case of report::framing (issue 12: the cases share one process). */
static void report_framing_case(struct frame_case *fc)
{
	struct capture c;
	capture_open(&c);
	struct report r;
	report_begin(&r, c.f, fc->format, fc->sections);
	report_section(&r, "a", "Part A", false);
	if (fc->format == REPORT_JSON) {
		report_json_item(&r, "{\"x\":1}");
		report_json_item(&r, "{\"x\":2}");
	} else {
		fputs("A\n", c.f);	/* what PostgreSQL or a table would write */
	}
	report_section_end(&r);
	report_section(&r, "b", "Part B", true);
	if (fc->format != REPORT_JSON)
		fputs("B", c.f);
	report_section_end(&r);
	report_end(&r);
	cr_expect_str_eq(capture_text(&c), fc->expected, "%s", fc->name);
	capture_close(&c);
}

Test(report, framing)
{
	static struct frame_case cases[] = {
		{ "json sections", REPORT_JSON, true,
		  "{\n \"a\": [\n  {\"x\":1},\n  {\"x\":2}\n],\n \"b\": null\n}\n" },
		{ "json lone array", REPORT_JSON, false,
		  "[\n  {\"x\":1},\n  {\"x\":2}\n]\nnull\n" },
		{ "csv blocks", REPORT_CSV, true, "A\n\nB" },
		{ "table titles", REPORT_TABLE, true, "Part A\nA\n\nPart B\nB" },
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		report_framing_case(&cases[k]);
}

/* A one-record part keeps the first record only. */
Test(report, one_record)
{
	struct capture c;
	capture_open(&c);
	struct report r;
	report_begin(&r, c.f, REPORT_JSON, true);
	report_section(&r, "balance", NULL, true);
	report_json_item(&r, "{\"b\":11}");
	report_json_item(&r, "{\"b\":12}");
	report_section_end(&r);
	report_end(&r);
	cr_expect_str_eq(capture_text(&c), "{\n \"balance\": {\"b\":11}\n}\n");
	capture_close(&c);
}
