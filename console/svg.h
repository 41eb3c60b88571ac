/*
 * svg - charts drawn on the server as SVG inside the page tree (html.h):
 * stacked bars and a step line, each with a <title>, axis labels and the
 * same numbers in a <table data-table="NAME"> beside it (the contract's
 * markup hooks: svg.chart[data-chart], g.bar[data-key], path.step,
 * circle.credit[data-date]).  Inputs are borrowed for the call.
 */
#ifndef ATTESTD_SVG_H
#define ATTESTD_SVG_H

#include <stdbool.h>
#include <stddef.h>

#include "html.h"

#define SVG_MAX_SERIES 6

struct svg_series {
	const char *label;		/* French, in the legend and the table's header */
	const char *css;		/* class of its rects ("s-credited") */
};

struct svg_bar {
	const char *key;		/* YYYY-MM-DD or YYYY-MM: data-key and the table's first column */
	long values[SVG_MAX_SERIES];
};

/* A stacked bar chart and its table under parent. */
void svg_bars(html_node *parent, const char *name, const char *title, const char *x_label,
	      const char *y_label, const struct svg_series *series, size_t n_series,
	      const struct svg_bar *bars, size_t n_bars);

struct svg_step {
	const char *date;		/* YYYY-MM-DD */
	int value;			/* the value from that date on */
	bool credit;			/* a stage credit: marked with a circle */
	const char *what;		/* the table's last column (the event) */
};

/* A step line from the first date to end_date (YYYY-MM-DD), its table. */
void svg_steps(html_node *parent, const char *name, const char *title, const char *y_label,
	       const struct svg_step *steps, size_t n, const char *end_date, int y_max);

#endif
