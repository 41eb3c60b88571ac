/*
 * test_html - the console's page tree and charts (console/html.c, svg.c):
 * text and attribute values are escaped by construction (a name holding
 * <script> comes out as text, a quote cannot close an attribute), French
 * text is written as UTF-8, the document is HTML5 in French; the charts
 * carry the contract's hooks (svg.chart[data-chart], g.bar[data-key] with
 * one rect per non-zero segment, path.step, circle.credit[data-date]) and
 * the same numbers in a table beside them; the inline stylesheet.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "svg.h"

static char *render(struct html *h)
{
	size_t len;
	char *s = html_render(h, &len);
	cr_assert_eq(strlen(s), len);
	html_free(h);
	return s;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

struct escape_case {
	char text[64];
	char expected[128];
};

static struct escape_case escape_cases[] = {
	{ "<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>" },
	{ "Dupont & fils", "<p>Dupont &amp; fils</p>" },
	{ "élève à l'été", "<p>élève à l'été</p>" },
	{ "</p><img src=x onerror=alert(1)>", "<p>&lt;/p&gt;&lt;img src=x onerror=alert(1)&gt;</p>" },
};

/* One case of html::text_escaped (issue 12: the cases share one process). */
static void html_text_escaped_case(struct escape_case *c)
{
	struct html *h = html_new("t");
	html_el(html_body(h), "p", c->text);
	char *s = render(h);
	cr_expect(strstr(s, c->expected) != NULL, "%s\nnot in\n%s", c->expected, s);
	cr_expect(strstr(s, "<script>") == NULL, "%s: <script> in\n%s", c->text, s);

	free(s);
}

Test(html, text_escaped)
{
	for (size_t k = 0; k < sizeof(escape_cases) / sizeof(escape_cases[0]); k++)
		html_text_escaped_case(&escape_cases[k]);
}

Test(html, attribute_escaped)
{
	struct html *h = html_new("t");
	html_node *a = html_link(html_body(h), "/x", "lien");
	html_attr(a, "title", "\" onmouseover=\"alert(1)");
	html_attr(a, "data-x", "'\"><script>");
	char *s = render(h);
	/* libxml2 quotes with ' when the value holds a " (and no '), else
	 * writes &quot;: either way the value cannot end the attribute. */
	cr_expect(strstr(s, "title='\" onmouseover=\"alert(1)'") != NULL, "%s", s);
	cr_expect(strstr(s, "data-x=\"'&quot;&gt;&lt;script&gt;\"") != NULL, "%s", s);
	free(s);
}

Test(html, document_frame)
{
	struct html *h = html_new("Tableau <de> bord");
	char *s = render(h);
	cr_expect(strncmp(s, "<!DOCTYPE html>\n<html lang=\"fr\">", 32) == 0, "%s", s);
	cr_expect(strstr(s, "<meta charset=\"utf-8\">") != NULL);
	cr_expect(strstr(s, "<title>Tableau &lt;de&gt; bord</title>") != NULL, "%s", s);
	cr_expect(strstr(s, "<link rel=\"stylesheet\" href=\"/static/console.css\">") != NULL);
	free(s);
}

Test(html, inline_style_replaces_the_link)
{
	struct html *h = html_new("t");
	html_inline_style(h, "body{color:red}");
	char *s = render(h);
	cr_expect(strstr(s, "<style>body{color:red}</style>") != NULL, "%s", s);
	cr_expect(strstr(s, "console.css") == NULL);
	free(s);
}

Test(svg, stacked_bars_and_table)
{
	struct html *h = html_new("t");
	static const struct svg_series series[] = { { "acceptés", "s-accepted" },
						    { "rejetés", "s-rejected" } };
	struct svg_bar bars[] = { { "2026-11-14", { 3, 0 } }, { "2026-11-16", { 2, 1 } } };
	svg_bars(html_body(h), "files-per-day", "Fichiers <par> jour", "Jour", "Nombre", series, 2,
		 bars, 2);
	char *s = render(h);
	cr_expect(strstr(s, "<svg class=\"chart\" data-chart=\"files-per-day\" role=\"img\"") != NULL,
		  "%s", s);
	cr_expect(strstr(s, "<title>Fichiers &lt;par&gt; jour</title>") != NULL);
	cr_expect_eq(count(s, "<g class=\"bar\""), 2);
	/* One rect per non-zero segment: 1 + 2. */
	cr_expect_eq(count(s, "<rect"), 3, "%s", s);
	cr_expect(strstr(s, "<g class=\"bar\" data-key=\"2026-11-14\">") != NULL);
	cr_expect(strstr(s, "<table data-table=\"files-per-day\">") != NULL);
	cr_expect(strstr(s, "<tr data-key=\"2026-11-16\"><td>2026-11-16</td><td>2</td><td>1</td>"
			    "<td>3</td></tr>") != NULL, "%s", s);
	free(s);
}

Test(svg, steps_with_credits)
{
	struct html *h = html_new("t");
	struct svg_step steps[] = {
		{ "2009-06-01", 12, false, "grant" },
		{ "2026-03-01", 7, false, "retrait <R-A>" },
		{ "2026-11-15", 11, true, "stage" },
	};
	svg_steps(html_body(h), "balance", "Solde", "Points", steps, 3, "2026-11-30", 12);
	char *s = render(h);
	cr_expect_eq(count(s, "<path class=\"step\""), 1, "%s", s);
	cr_expect_eq(count(s, "<circle class=\"credit\""), 1);
	cr_expect(strstr(s, "<circle class=\"credit\" data-date=\"2026-11-15\"") != NULL);
	cr_expect(strstr(s, "<td>retrait &lt;R-A&gt;</td>") != NULL, "%s", s);
	cr_expect(strstr(s, "<table data-table=\"balance\">") != NULL);
	free(s);
}
