/*
 * ledger - replay of a licence's events (rules.md §6).
 *
 * The replay sorts the events by (effective date, same-day kind order, ref,
 * then the remaining fields), so its result depends only on the set of
 * events, never on the order the database returned them in.  Points are
 * read leniently (a retrait counts by its magnitude, a credit or increment
 * below zero counts as nothing) so that a badly signed registry row can
 * never push a balance outside [0, ceiling] or make a credit lower it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "xmalloc.h"

static const struct ledger_licence ledger_plain_licence = {
	.probation_end = DATE_NONE,
	.status = LICENCE_VALID,
	.status_date = DATE_NONE,
};

static int ledger_cmp_int(long long a, long long b)
{
	return (a > b) - (a < b);
}

static int ledger_cmp_event(const void *pa, const void *pb)
{
	const struct ledger_event *a = *(const struct ledger_event *const *)pa;
	const struct ledger_event *b = *(const struct ledger_event *const *)pb;
	int c;

	if ((c = ledger_cmp_int(a->effective, b->effective)) != 0 ||
	    (c = ledger_cmp_int(a->kind, b->kind)) != 0)
		return c;
	if (a->ref != b->ref) {
		if (a->ref == NULL || b->ref == NULL)
			return a->ref == NULL ? -1 : 1;
		if ((c = strcmp(a->ref, b->ref)) != 0)
			return c;
	}
	if ((c = ledger_cmp_int(a->points, b->points)) != 0)
		return c;
	return ledger_cmp_int(a->stage_first_day, b->stage_first_day);
}

static int ledger_ceiling(const struct ledger_licence *lic, long long increments, date_t t)
{
	if (lic->probation_end == DATE_NONE || t >= lic->probation_end)
		return LEDGER_FULL_POINTS;
	long long c = LEDGER_PROBATION_POINTS + increments;
	return c < LEDGER_FULL_POINTS ? (int)c : LEDGER_FULL_POINTS;
}

static long long ledger_increment(const struct ledger_event *e)
{
	return e->kind == LEDGER_PROBATION_INCREMENT && e->points > 0 ? e->points : 0;
}

/* The date from which credits stop applying (until a new grant), or
 * DATE_NONE when the licence is neither invalidated nor cancelled. */
static date_t ledger_block_date(const struct ledger_licence *lic)
{
	if (lic->status == LICENCE_INVALIDATED || lic->status == LICENCE_CANCELLED)
		return lic->status_date;
	return DATE_NONE;
}

static bool ledger_blocked(const struct ledger_event *e, date_t block, bool regranted)
{
	if (block == DATE_NONE || regranted || e->effective <= block)
		return false;
	/* The stage began before the notification: its credit stands (§5.3). */
	if (e->kind == LEDGER_STAGE_CREDIT && e->stage_first_day != DATE_NONE &&
	    e->stage_first_day < block)
		return false;
	return true;
}

void ledger_replay(const struct ledger_licence *lic, const struct ledger_event *events,
		   size_t n, struct ledger_timeline *out)
{
	const struct ledger_event **order = NULL;

	if (lic == NULL)
		lic = &ledger_plain_licence;
	out->n = n;
	out->steps = n ? xcalloc(n, sizeof(*out->steps)) : NULL;
	if (n == 0)
		return;
	order = xreallocarray(NULL, n, sizeof(*order));
	for (size_t i = 0; i < n; i++)
		order[i] = &events[i];
	qsort(order, n, sizeof(*order), ledger_cmp_event);

	date_t block = ledger_block_date(lic);
	bool regranted = false;
	long long balance = LEDGER_NO_BALANCE, increments = 0;
	size_t seen = 0;	/* events whose increments are counted in the ceiling */

	for (size_t i = 0; i < n; i++) {
		const struct ledger_event *e = order[i];
		struct ledger_step *step = &out->steps[i];

		/* The ceiling of a day counts that whole day's increments. */
		while (seen < n && order[seen]->effective <= e->effective)
			increments += ledger_increment(order[seen++]);
		int ceiling = ledger_ceiling(lic, increments, e->effective);

		step->event = e;
		step->old_balance = (int)balance;
		step->ceiling = ceiling;
		step->effect = LEDGER_APPLIED;
		if (e->kind == LEDGER_GRANT) {
			balance = e->points < 0 ? 0 : e->points > ceiling ? ceiling : e->points;
			if (block != DATE_NONE && e->effective > block)
				regranted = true;
		} else if (balance == LEDGER_NO_BALANCE) {
			step->effect = LEDGER_NO_GRANT;
		} else if (e->kind == LEDGER_RETRAIT) {
			long long loss = e->points < 0 ? -(long long)e->points : e->points;
			balance = balance > loss ? balance - loss : 0;
		} else if (ledger_blocked(e, block, regranted)) {
			step->effect = LEDGER_BLOCKED;
		} else {
			long long gain = e->points > 0 ? e->points : 0;
			long long next = balance + gain;
			if (next > ceiling)
				next = ceiling > balance ? ceiling : balance;
			balance = next;
		}
		step->new_balance = (int)balance;
	}
	free(order);
}

void ledger_timeline_free(struct ledger_timeline *tl)
{
	if (tl == NULL)
		return;
	free(tl->steps);
	tl->steps = NULL;
	tl->n = 0;
}

int ledger_timeline_balance_at(const struct ledger_timeline *tl, date_t t)
{
	int balance = LEDGER_NO_BALANCE;
	for (size_t i = 0; i < tl->n && tl->steps[i].event->effective <= t; i++)
		balance = tl->steps[i].new_balance;
	return balance;
}

int ledger_timeline_balance_before_stage_credit(const struct ledger_timeline *tl, date_t t)
{
	int balance = LEDGER_NO_BALANCE;
	for (size_t i = 0; i < tl->n; i++) {
		const struct ledger_event *e = tl->steps[i].event;
		if (e->effective > t || (e->effective == t && e->kind != LEDGER_GRANT))
			break;
		balance = tl->steps[i].new_balance;
	}
	return balance;
}

static bool ledger_query(const struct ledger_licence *lic, const struct ledger_event *events,
			 size_t n, date_t t, bool before_stage_credit, int *balance)
{
	struct ledger_timeline tl = { 0 };
	ledger_replay(lic, events, n, &tl);
	int b = before_stage_credit ? ledger_timeline_balance_before_stage_credit(&tl, t)
				    : ledger_timeline_balance_at(&tl, t);
	ledger_timeline_free(&tl);
	if (b == LEDGER_NO_BALANCE)
		return false;
	*balance = b;
	return true;
}

bool ledger_balance_at(const struct ledger_licence *lic, const struct ledger_event *events,
		       size_t n, date_t t, int *balance)
{
	return ledger_query(lic, events, n, t, false, balance);
}

bool ledger_balance_before_stage_credit(const struct ledger_licence *lic,
					const struct ledger_event *events, size_t n, date_t t,
					int *balance)
{
	return ledger_query(lic, events, n, t, true, balance);
}

int ledger_ceiling_at(const struct ledger_licence *lic, const struct ledger_event *events,
		      size_t n, date_t t)
{
	long long increments = 0;
	if (lic == NULL)
		lic = &ledger_plain_licence;
	for (size_t i = 0; i < n; i++)
		if (events[i].effective <= t)
			increments += ledger_increment(&events[i]);
	return ledger_ceiling(lic, increments, t);
}

bool ledger_has_grant(const struct ledger_event *events, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (events[i].kind == LEDGER_GRANT)
			return true;
	return false;
}

static const char *const ledger_kind_names[] = {
	[LEDGER_GRANT] = "grant",
	[LEDGER_STAGE_CREDIT] = "stage_credit",
	[LEDGER_RECOVERY] = "recovery",
	[LEDGER_PROBATION_INCREMENT] = "probation_increment",
	[LEDGER_RETRAIT] = "retrait",
};

static const char *const ledger_status_names[] = {
	[LICENCE_VALID] = "valid",
	[LICENCE_SUSPENDED] = "suspended",
	[LICENCE_INVALIDATED] = "invalidated",
	[LICENCE_CANCELLED] = "cancelled",
};

#define LEDGER_COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *ledger_kind_name(enum ledger_kind kind)
{
	return (unsigned)kind < LEDGER_COUNT(ledger_kind_names) ? ledger_kind_names[kind] : "?";
}

bool ledger_kind_from_name(const char *name, enum ledger_kind *out)
{
	for (size_t i = 0; name && i < LEDGER_COUNT(ledger_kind_names); i++)
		if (strcmp(name, ledger_kind_names[i]) == 0) {
			*out = (enum ledger_kind)i;
			return true;
		}
	return false;
}

const char *ledger_status_name(enum licence_status status)
{
	return (unsigned)status < LEDGER_COUNT(ledger_status_names) ? ledger_status_names[status]
								     : "?";
}

bool ledger_status_from_name(const char *name, enum licence_status *out)
{
	for (size_t i = 0; name && i < LEDGER_COUNT(ledger_status_names); i++)
		if (strcmp(name, ledger_status_names[i]) == 0) {
			*out = (enum licence_status)i;
			return true;
		}
	return false;
}
