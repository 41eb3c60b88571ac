/*
 * svg - bar and step charts.  See svg.h.
 *
 * Fixed geometry (a viewBox scaled by CSS): the plot is W x H user units
 * with margins for the axis labels.  Dates on the step chart's x axis are
 * days since 1970 (date.h), so steps are proportional to time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "svg.h"
#include "xmalloc.h"

#define W	640
#define H	220
#define ML	48	/* left margin: y labels */
#define MB	36	/* bottom margin: x labels */
#define MT	12

static html_node *chart_svg(html_node *fig, const char *name, const char *title)
{
	html_node *svg = html_el(fig, "svg", NULL);
	html_attr(svg, "class", "chart");
	html_attr(svg, "data-chart", name);
	html_attr(svg, "role", "img");
	html_attr(svg, "xmlns", "http://www.w3.org/2000/svg");
	html_attrf(svg, "viewBox", "0 0 %d %d", W + ML, H + MB + MT);
	html_el(svg, "title", title);
	return svg;
}

static void line(html_node *svg, int x1, int y1, int x2, int y2, const char *cls)
{
	html_node *l = html_el(svg, "line", NULL);
	html_attrf(l, "x1", "%d", x1);
	html_attrf(l, "y1", "%d", y1);
	html_attrf(l, "x2", "%d", x2);
	html_attrf(l, "y2", "%d", y2);
	html_attr(l, "class", cls);
}

static void label(html_node *svg, int x, int y, const char *anchor, const char *text)
{
	html_node *t = html_el(svg, "text", text);
	html_attrf(t, "x", "%d", x);
	html_attrf(t, "y", "%d", y);
	html_attr(t, "text-anchor", anchor);
	html_attr(t, "class", "axis-label");
}

/* Axes, y ticks at 0, max/2, max, and the axis titles. */
static void axes(html_node *svg, long y_max, const char *x_label, const char *y_label)
{
	line(svg, ML, MT, ML, MT + H, "axis");
	line(svg, ML, MT + H, ML + W, MT + H, "axis");
	for (int i = 0; i <= 2; i++) {
		char v[24];
		snprintf(v, sizeof(v), "%ld", y_max * i / 2);
		label(svg, ML - 4, MT + H - (int)(H * i / 2) + 4, "end", v);
	}
	label(svg, ML + W / 2, MT + H + MB - 4, "middle", x_label);
	html_node *t = html_el(svg, "text", y_label);
	html_attrf(t, "transform", "translate(12 %d) rotate(-90)", MT + H / 2);
	html_attr(t, "text-anchor", "middle");
	html_attr(t, "class", "axis-label");
}

void svg_bars(html_node *parent, const char *name, const char *title, const char *x_label,
	      const char *y_label, const struct svg_series *series, size_t n_series,
	      const struct svg_bar *bars, size_t n_bars)
{
	html_node *fig = html_el(parent, "figure", NULL);
	html_attr(fig, "class", "chart-figure");
	html_node *svg = chart_svg(fig, name, title);
	long y_max = 1;
	for (size_t i = 0; i < n_bars; i++) {
		long total = 0;
		for (size_t s = 0; s < n_series; s++)
			total += bars[i].values[s];
		if (total > y_max)
			y_max = total;
	}
	axes(svg, y_max, x_label, y_label);
	int slot = n_bars ? W / (int)n_bars : W;
	int bw = slot > 4 ? slot * 3 / 4 : slot;
	for (size_t i = 0; i < n_bars; i++) {
		html_node *g = html_el(svg, "g", NULL);
		html_attr(g, "class", "bar");
		html_attr(g, "data-key", bars[i].key);
		long below = 0;
		char tip[256];
		int off = snprintf(tip, sizeof(tip), "%s", bars[i].key);
		for (size_t s = 0; s < n_series; s++) {
			long v = bars[i].values[s];
			if (off > 0 && (size_t)off < sizeof(tip))
				off += snprintf(tip + off, sizeof(tip) - (size_t)off, " · %s : %ld",
						series[s].label, v);
			if (v == 0)
				continue;
			int y0 = MT + H - (int)(H * below / y_max);
			int y1 = MT + H - (int)(H * (below + v) / y_max);
			html_node *r = html_el(g, "rect", NULL);
			html_attrf(r, "x", "%d", ML + (int)i * slot + (slot - bw) / 2);
			html_attrf(r, "y", "%d", y1);
			html_attrf(r, "width", "%d", bw > 0 ? bw : 1);
			html_attrf(r, "height", "%d", y0 - y1 > 0 ? y0 - y1 : 1);
			html_attr(r, "class", series[s].css);
			below += v;
		}
		html_el(g, "title", tip);
		/* A key under the first, the middle and the last bar. */
		if (i == 0 || i + 1 == n_bars || i == n_bars / 2)
			label(svg, ML + (int)i * slot + slot / 2, MT + H + 14, "middle", bars[i].key);
	}
	/* The legend, then the numbers. */
	html_node *legend = html_el(fig, "figcaption", NULL);
	for (size_t s = 0; s < n_series; s++) {
		html_node *k = html_el(legend, "span", series[s].label);
		html_attrf(k, "class", "legend %s", series[s].css);
	}
	html_node *table = html_el(fig, "table", NULL);
	html_attr(table, "data-table", name);
	html_node *tr = html_el(html_el(table, "thead", NULL), "tr", NULL);
	html_el(tr, "th", x_label);
	for (size_t s = 0; s < n_series; s++)
		html_el(tr, "th", series[s].label);
	html_el(tr, "th", "Total");
	html_node *tbody = html_el(table, "tbody", NULL);
	for (size_t i = 0; i < n_bars; i++) {
		tr = html_el(tbody, "tr", NULL);
		html_attr(tr, "data-key", bars[i].key);
		html_td(tr, bars[i].key);
		long total = 0;
		for (size_t s = 0; s < n_series; s++) {
			html_tdf(tr, "%ld", bars[i].values[s]);
			total += bars[i].values[s];
		}
		html_tdf(tr, "%ld", total);
	}
}

static long day_of(const char *s)
{
	date_t d;
	return date_parse(s, &d) ? (long)d : 0;
}

void svg_steps(html_node *parent, const char *name, const char *title, const char *y_label,
	       const struct svg_step *steps, size_t n, const char *end_date, int y_max)
{
	html_node *fig = html_el(parent, "figure", NULL);
	html_attr(fig, "class", "chart-figure");
	html_node *svg = chart_svg(fig, name, title);
	if (y_max < 1)
		y_max = 1;
	axes(svg, y_max, "Date", y_label);
	if (n > 0) {
		long d0 = day_of(steps[0].date), d1 = day_of(end_date);
		if (d1 <= d0)
			d1 = d0 + 1;
#define SX(d) (ML + (int)((double)W * (double)((d) - d0) / (double)(d1 - d0)))
#define SY(v) (MT + H - (int)((long)H * ((v) < 0 ? 0 : (v)) / y_max))
		size_t cap = 64 + n * 48, len = 0;
		char *d = xmalloc(cap);
		len += (size_t)snprintf(d, cap, "M%d %d", SX(d0), SY(steps[0].value));
		for (size_t i = 1; i < n; i++) {
			long x = day_of(steps[i].date);
			len += (size_t)snprintf(d + len, cap - len, " H%d V%d", SX(x), SY(steps[i].value));
		}
		snprintf(d + len, cap - len, " H%d", SX(d1));
		html_node *p = html_el(svg, "path", NULL);
		html_attr(p, "class", "step");
		html_attr(p, "d", d);
		free(d);
		for (size_t i = 0; i < n; i++) {
			if (!steps[i].credit)
				continue;
			html_node *c = html_el(svg, "circle", NULL);
			html_attr(c, "class", "credit");
			html_attr(c, "data-date", steps[i].date);
			html_attrf(c, "cx", "%d", SX(day_of(steps[i].date)));
			html_attrf(c, "cy", "%d", SY(steps[i].value));
			html_attr(c, "r", "5");
			html_elf(c, "title", "Stage crédité le %s : %d points", steps[i].date,
				 steps[i].value);
		}
		label(svg, ML, MT + H + 14, "start", steps[0].date);
		label(svg, ML + W, MT + H + 14, "end", end_date);
#undef SX
#undef SY
	}
	html_node *table = html_el(fig, "table", NULL);
	html_attr(table, "data-table", name);
	static const char *const head[] = { "Date", "Solde", "Événement" };
	html_header_row(table, head, 3);
	html_node *tbody = html_el(table, "tbody", NULL);
	for (size_t i = 0; i < n; i++) {
		html_node *tr = html_el(tbody, "tr", NULL);
		if (steps[i].credit)
			html_attr(tr, "class", "credit");
		html_td(tr, steps[i].date);
		html_tdf(tr, "%d", steps[i].value);
		html_td(tr, steps[i].what);
	}
}
