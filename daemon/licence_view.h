/*
 * licence_view - a licence's balance and ceiling on a given date by the
 * daemon's own replay (ledger.c) of the events store_console reads: what
 * the console's licence page and `attestd audit licence L --as-of D` show.
 * The caller owns the view and frees it with licence_view_free().
 */
#ifndef ATTESTD_LICENCE_VIEW_H
#define ATTESTD_LICENCE_VIEW_H

#include <stdbool.h>

#include "date.h"
#include "ledger.h"
#include "store_console.h"

struct licence_view {
	date_t as_of;
	bool has_balance;		/* false before the first grant */
	int balance;			/* at the end of as_of */
	int ceiling;
	struct store_console_ledger ledger;
	struct ledger_timeline timeline;	/* every event, replay order */
};

/* *known false (and nothing to free) when nothing is recorded for it. */
enum store_status licence_view_load(struct store *st, const char *licence, date_t as_of,
				    struct licence_view *out, bool *known, char **err);
void licence_view_free(struct licence_view *v);

/* A licence number as the registry takes them ([0-9A-Z]{9,15}). */
bool licence_view_number_ok(const char *licence);

/* Writes the view up to as_of: "table" (text), "csv" or "json"; the
 * command line twin of the console's licence page. */
void licence_view_print(const struct licence_view *v, const char *licence, int format,
			FILE *out);

#endif
