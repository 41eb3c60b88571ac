/*
 * ledger - a licence's points as the replay of its events (rules.md §6):
 * events in, balances out; no I/O, no clock.  Events (and their refs) are
 * borrowed for the duration of a call; a timeline points into the events it
 * was replayed from, so they must outlive it.  The caller frees a timeline
 * with ledger_timeline_free().
 */
#ifndef ATTESTD_LEDGER_H
#define ATTESTD_LEDGER_H

#include <stdbool.h>
#include <stddef.h>

#include "date.h"

#define LEDGER_FULL_POINTS	12
#define LEDGER_PROBATION_POINTS	6
#define LEDGER_STAGE_POINTS	4	/* a stage_credit is stored as 4; the replay caps it */
#define LEDGER_NO_BALANCE	(-1)	/* before the licence's first grant */

/* In the order of one day's replay: grant, stage_credit (it takes effect at
 * the start of its day), the other credits, then retrait. */
enum ledger_kind {
	LEDGER_GRANT,
	LEDGER_STAGE_CREDIT,
	LEDGER_RECOVERY,
	LEDGER_PROBATION_INCREMENT,
	LEDGER_RETRAIT,
};

enum licence_status { LICENCE_VALID, LICENCE_SUSPENDED, LICENCE_INVALIDATED, LICENCE_CANCELLED };

struct ledger_event {
	date_t effective;		/* date de valeur */
	enum ledger_kind kind;
	int points;			/* as the registry signs them: a retrait is negative */
	date_t stage_first_day;		/* stage_credit: the stage's first day (DATE_NONE: unknown) */
	const char *ref;		/* unique per licence; borrowed */
};

/* What the registry says of the licence itself. */
struct ledger_licence {
	date_t probation_end;		/* DATE_NONE: not probationary; ended on that day */
	enum licence_status status;
	date_t status_date;		/* when the status was notified (DATE_NONE: unknown) */
};

/* What the replay made of one event. */
enum ledger_effect {
	LEDGER_APPLIED,			/* applied (possibly capped to nothing) */
	LEDGER_NO_GRANT,		/* before the first grant: nothing to apply it to */
	LEDGER_BLOCKED,			/* a credit after the invalidation or cancellation */
};

struct ledger_step {
	const struct ledger_event *event;	/* borrowed */
	int old_balance;		/* LEDGER_NO_BALANCE before the first grant */
	int new_balance;
	int ceiling;			/* at the event's date */
	enum ledger_effect effect;
};

struct ledger_timeline {
	size_t n;
	struct ledger_step *steps;	/* owned, in replay order, one per event */
};

/* Replays the events, given in any order, into *out: one step per event,
 * sorted by date, same-day kind order, then ref. */
void ledger_replay(const struct ledger_licence *lic, const struct ledger_event *events,
		   size_t n, struct ledger_timeline *out);
/* Frees the steps (not the events); accepts NULL and an empty timeline. */
void ledger_timeline_free(struct ledger_timeline *tl);

/* The balance at the end of day t (every event effective on or before t),
 * LEDGER_NO_BALANCE before the first grant. */
int ledger_timeline_balance_at(const struct ledger_timeline *tl, date_t t);
/* The balance a stage credit effective on t meets: after the events of
 * earlier days and the grants of day t (§6 order). */
int ledger_timeline_balance_before_stage_credit(const struct ledger_timeline *tl, date_t t);

/* The same, replaying the events; false (and *balance untouched) when the
 * licence has no balance then. */
bool ledger_balance_at(const struct ledger_licence *lic, const struct ledger_event *events,
		       size_t n, date_t t, int *balance);
bool ledger_balance_before_stage_credit(const struct ledger_licence *lic,
					const struct ledger_event *events, size_t n, date_t t,
					int *balance);

/* Ceiling at t: 12 unless probationary on t; during probation 6 plus the
 * probation_increment events dated on or before t (at most 12). */
int ledger_ceiling_at(const struct ledger_licence *lic, const struct ledger_event *events,
		      size_t n, date_t t);

/* True when the licence has at least one grant event. */
bool ledger_has_grant(const struct ledger_event *events, size_t n);

/* Names as in the registry CSV ("grant", "retrait", ...; "valid", ...). */
const char *ledger_kind_name(enum ledger_kind kind);
bool ledger_kind_from_name(const char *name, enum ledger_kind *out);
const char *ledger_status_name(enum licence_status status);
bool ledger_status_from_name(const char *name, enum licence_status *out);

#endif
