/*
 * test_ledger - the replay of rules.md §6: a table of hand-checked histories,
 * then properties over thousands of generated ones (fixed-seed xorshift, so
 * a failure names the history that broke and reproduces).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ledger.h"

static date_t D(const char *s)
{
	date_t d;
	if (s[0] == '\0')
		return DATE_NONE;
	cr_assert(date_parse(s, &d), "test date %s", s);
	return d;
}

/* --- hand-checked histories ------------------------------------------------ */

#define MAX_EV 8

struct ev_row {
	char kind;		/* G grant, S stage_credit, R recovery, I increment, X retrait; 0 ends */
	char date[11];
	int points;
	char first_day[11];	/* stage_credit only */
};

struct replay_row {
	char name[64];
	char probation_end[11];
	enum licence_status status;
	char status_date[11];
	struct ev_row ev[MAX_EV];
	char at[11];		/* query date */
	int balance;		/* at the end of `at`; LEDGER_NO_BALANCE */
	int before_credit;	/* what a stage credit on `at` would meet */
	int ceiling;
};

static enum ledger_kind kind_of(char k)
{
	switch (k) {
	case 'G': return LEDGER_GRANT;
	case 'S': return LEDGER_STAGE_CREDIT;
	case 'R': return LEDGER_RECOVERY;
	case 'I': return LEDGER_PROBATION_INCREMENT;
	default: return LEDGER_RETRAIT;
	}
}

static size_t load_events(const struct ev_row *rows, struct ledger_event *ev, char refs[][16])
{
	size_t n = 0;
	for (; n < MAX_EV && rows[n].kind; n++) {
		snprintf(refs[n], 16, "ref-%u", (unsigned)(n % 100u));
		ev[n] = (struct ledger_event){
			.effective = D(rows[n].date),
			.kind = kind_of(rows[n].kind),
			.points = rows[n].points,
			.stage_first_day = rows[n].kind == 'S' ? D(rows[n].first_day) : DATE_NONE,
			.ref = refs[n],
		};
	}
	return n;
}

#define V LICENCE_VALID
#define INV LICENCE_INVALIDATED
#define CAN LICENCE_CANCELLED
#define NB LEDGER_NO_BALANCE

/* One case of ledger::replay (issue 12: the cases share one process). */
static void ledger_replay_case(struct replay_row *row)
{
	struct ledger_licence lic = {
		.probation_end = D(row->probation_end),
		.status = row->status,
		.status_date = D(row->status_date),
	};
	struct ledger_event ev[MAX_EV];
	char refs[MAX_EV][16];
	size_t n = load_events(row->ev, ev, refs);
	date_t at = D(row->at);

	int b = -99;
	bool has = ledger_balance_at(&lic, ev, n, at, &b);
	cr_expect_eq(has, row->balance != NB, "%s: has balance", row->name);
	cr_expect_eq(has ? b : NB, row->balance, "%s: balance %d", row->name, b);
	b = -99;
	has = ledger_balance_before_stage_credit(&lic, ev, n, at, &b);
	cr_expect_eq(has ? b : NB, row->before_credit, "%s: before a credit %d", row->name, b);
	cr_expect_eq(ledger_ceiling_at(&lic, ev, n, at), row->ceiling, "%s: ceiling", row->name);
}

Test(ledger, replay)
{
	static struct replay_row rows[] = {
		{ "grant only", "", V, "", { { 'G', "2020-01-01", 12, "" } },
		  "2026-01-01", 12, 12, 12 },
		{ "no grant: no balance", "", V, "",
		  { { 'X', "2020-01-01", -3, "" }, { 'R', "2021-01-01", 2, "" } },
		  "2026-01-01", NB, NB, 12 },
		{ "before the grant: no balance", "", V, "", { { 'G', "2020-01-01", 12, "" } },
		  "2019-12-31", NB, NB, 12 },
		{ "events before the grant are void", "", V, "",
		  { { 'X', "2019-01-01", -6, "" }, { 'G', "2020-01-01", 12, "" } },
		  "2020-01-01", 12, 12, 12 },
		{ "retrait stops at 0", "", V, "",
		  { { 'G', "2020-01-01", 12, "" }, { 'X', "2021-01-01", -8, "" },
		    { 'X', "2021-02-01", -8, "" } },
		  "2021-02-01", 0, 4, 12 },
		{ "credit capped at 12", "", V, "",
		  { { 'G', "2020-01-01", 12, "" }, { 'X', "2021-01-01", -3, "" },
		    { 'S', "2021-06-01", 4, "2021-05-30" } },
		  "2021-06-01", 12, 9, 12 },
		{ "stage credit stored as 4, gives 4", "", V, "",
		  { { 'G', "2020-01-01", 12, "" }, { 'X', "2021-01-01", -6, "" },
		    { 'S', "2021-06-01", 4, "2021-05-30" } },
		  "2021-06-01", 10, 6, 12 },
		/* Same day: the stage credit comes before the retrait. */
		{ "same day: credit then retrait", "", V, "",
		  { { 'X', "2021-06-01", -4, "" }, { 'S', "2021-06-01", 4, "2021-05-30" },
		    { 'G', "2020-01-01", 12, "" }, { 'X', "2021-01-01", -2, "" } },
		  "2021-06-01", 8, 10, 12 },
		/* Same day: the grant first, so the credit and retrait apply to it. */
		{ "same day: grant first", "", V, "",
		  { { 'X', "2020-01-01", -5, "" }, { 'R', "2020-01-01", 3, "" },
		    { 'G', "2020-01-01", 12, "" } },
		  "2020-01-01", 7, 12, 12 },
		{ "probation: ceiling 6, capped", "2028-06-01", V, "",
		  { { 'G', "2025-06-01", 6, "" }, { 'R', "2025-07-01", 4, "" } },
		  "2026-01-01", 6, 6, 6 },
		{ "probation: increment lifts the ceiling", "2028-06-01", V, "",
		  { { 'G', "2025-06-01", 6, "" }, { 'I', "2026-06-01", 2, "" } },
		  "2026-06-01", 8, 6, 8 },
		{ "probation: increment counts on its own day", "2028-06-01", V, "",
		  { { 'G', "2025-06-01", 6, "" }, { 'X', "2025-08-01", -2, "" },
		    { 'I', "2026-06-01", 2, "" }, { 'S', "2026-06-01", 4, "2026-05-30" } },
		  "2026-06-01", 8, 4, 8 },
		{ "probation: the day before the increment", "2028-06-01", V, "",
		  { { 'G', "2025-06-01", 6, "" }, { 'I', "2026-06-01", 2, "" } },
		  "2026-05-31", 6, 6, 6 },
		{ "probation: ceiling capped at 12", "2028-06-01", V, "",
		  { { 'G', "2025-06-01", 6, "" }, { 'I', "2026-06-01", 3, "" },
		    { 'I', "2027-06-01", 3, "" }, { 'I', "2027-12-01", 3, "" } },
		  "2028-01-01", 12, 12, 12 },
		{ "probation ended on probation_end itself", "2028-06-01", V, "",
		  { { 'G', "2025-06-01", 6, "" }, { 'R', "2028-06-01", 6, "" } },
		  "2028-06-01", 12, 6, 12 },
		{ "probation: the day before its end", "2028-06-01", V, "",
		  { { 'G', "2025-06-01", 6, "" }, { 'R', "2028-05-31", 6, "" } },
		  "2028-05-31", 6, 6, 6 },
		{ "probation ending on Feb 29: that day", "2028-02-29", V, "",
		  { { 'G', "2025-02-28", 6, "" }, { 'R', "2028-02-29", 6, "" } },
		  "2028-02-29", 12, 6, 12 },
		{ "probation ending on Feb 29: the day before", "2028-02-29", V, "",
		  { { 'G', "2025-02-28", 6, "" }, { 'R', "2028-02-28", 6, "" } },
		  "2028-02-28", 6, 6, 6 },
		{ "events on Feb 29 in their place", "", V, "",
		  { { 'G', "2020-01-01", 12, "" }, { 'X', "2024-02-29", -5, "" },
		    { 'X', "2024-03-01", -1, "" }, { 'R', "2024-02-28", 3, "" } },
		  "2024-02-29", 7, 12, 12 },
		{ "grant above the ceiling is capped", "2028-06-01", V, "",
		  { { 'G', "2025-06-01", 12, "" } }, "2025-06-01", 6, 6, 6 },
		{ "invalidated: later credits void", "", INV, "2026-12-20",
		  { { 'G', "2020-01-01", 12, "" }, { 'X', "2026-12-01", -12, "" },
		    { 'R', "2026-12-21", 4, "" }, { 'S', "2027-02-01", 4, "2027-01-30" } },
		  "2027-03-01", 0, 0, 12 },
		{ "invalidated: a credit on the notification day applies", "", INV, "2026-12-20",
		  { { 'G', "2020-01-01", 12, "" }, { 'X', "2026-12-01", -12, "" },
		    { 'R', "2026-12-20", 4, "" } },
		  "2027-03-01", 4, 4, 12 },
		{ "invalidated: stage begun before it stands", "", INV, "2026-12-20",
		  { { 'G', "2020-01-01", 12, "" }, { 'X', "2026-12-01", -12, "" },
		    { 'S', "2026-12-21", 4, "2026-12-19" } },
		  "2027-03-01", 4, 4, 12 },
		{ "invalidated: stage begun on the day is void", "", INV, "2026-12-20",
		  { { 'G', "2020-01-01", 12, "" }, { 'X', "2026-12-01", -12, "" },
		    { 'S', "2026-12-22", 4, "2026-12-20" } },
		  "2027-03-01", 0, 0, 12 },
		{ "invalidated: a new grant lifts it", "", INV, "2026-12-20",
		  { { 'G', "2020-01-01", 12, "" }, { 'X', "2026-12-01", -12, "" },
		    { 'G', "2027-06-01", 6, "" }, { 'R', "2027-07-01", 2, "" } },
		  "2027-08-01", 8, 8, 12 },
		{ "cancelled: later credits void", "", CAN, "2026-01-10",
		  { { 'G', "2020-01-01", 12, "" }, { 'X', "2025-12-01", -5, "" },
		    { 'R', "2026-02-01", 3, "" } },
		  "2026-03-01", 7, 7, 12 },
		{ "suspended: no obstacle", "", LICENCE_SUSPENDED, "2026-01-10",
		  { { 'G', "2020-01-01", 12, "" }, { 'X', "2025-12-01", -5, "" },
		    { 'R', "2026-02-01", 3, "" } },
		  "2026-03-01", 10, 10, 12 },
		{ "retrait given positive counts as a loss", "", V, "",
		  { { 'G', "2020-01-01", 12, "" }, { 'X', "2021-01-01", 3, "" } },
		  "2021-01-01", 9, 12, 12 },
		{ "negative credit counts as nothing", "", V, "",
		  { { 'G', "2020-01-01", 12, "" }, { 'X', "2021-01-01", -3, "" },
		    { 'R', "2021-02-01", -2, "" } },
		  "2021-02-01", 9, 9, 12 },
		{ "worked example 8", "2028-06-01", V, "",
		  { { 'G', "2025-06-01", 6, "" }, { 'I', "2026-06-01", 2, "" },
		    { 'X', "2026-08-01", -3, "" }, { 'S', "2026-11-15", 4, "2026-11-13" } },
		  "2026-11-15", 8, 5, 8 },
		{ "worked example 9", "", V, "",
		  { { 'G', "2020-01-01", 12, "" }, { 'X', "2026-03-01", -4, "" },
		    { 'S', "2026-11-15", 4, "2026-11-13" }, { 'X', "2026-12-01", -4, "" } },
		  "2026-12-01", 8, 12, 12 },
	};
	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++)
		ledger_replay_case(&rows[k]);
}

Test(ledger, timeline_names_each_change)
{
	/* Worked example 10: 3 at E, the stage gives 4, the retrait takes 4. */
	struct ledger_event ev[] = {
		{ D("2026-12-01"), LEDGER_RETRAIT, -4, DATE_NONE, "fine-2" },
		{ D("2020-01-01"), LEDGER_GRANT, 12, DATE_NONE, "grant" },
		{ D("2026-11-15"), LEDGER_STAGE_CREDIT, 4, D("2026-11-13"), "stage" },
		{ D("2026-02-01"), LEDGER_RETRAIT, -9, DATE_NONE, "fine-1" },
	};
	struct ledger_licence lic = { DATE_NONE, LICENCE_INVALIDATED, D("2026-12-20") };
	struct ledger_timeline tl = { 0 };
	ledger_replay(&lic, ev, 4, &tl);
	cr_assert_eq(tl.n, 4);
	static const struct { const char *ref; int old, new; } want[] = {
		{ "grant", NB, 12 }, { "fine-1", 12, 3 }, { "stage", 3, 7 }, { "fine-2", 7, 3 },
	};
	for (size_t i = 0; i < 4; i++) {
		cr_expect_str_eq(tl.steps[i].event->ref, want[i].ref);
		cr_expect_eq(tl.steps[i].old_balance, want[i].old, "step %zu", i);
		cr_expect_eq(tl.steps[i].new_balance, want[i].new, "step %zu", i);
		cr_expect_eq(tl.steps[i].effect, LEDGER_APPLIED);
		cr_expect_eq(tl.steps[i].ceiling, 12);
	}
	cr_expect_eq(ledger_timeline_balance_at(&tl, D("2026-11-14")), 3);
	cr_expect_eq(ledger_timeline_balance_at(&tl, D("2026-11-15")), 7);
	cr_expect_eq(ledger_timeline_balance_at(&tl, D("2026-12-01")), 3);
	ledger_timeline_free(&tl);
	cr_expect_null(tl.steps);
	ledger_timeline_free(&tl);
	ledger_timeline_free(NULL);

	/* Effects are named. */
	struct ledger_event blocked[] = {
		{ D("2026-12-21"), LEDGER_RECOVERY, 2, DATE_NONE, "late" },
		{ D("2019-01-01"), LEDGER_RETRAIT, -2, DATE_NONE, "early" },
		{ D("2020-01-01"), LEDGER_GRANT, 12, DATE_NONE, "grant" },
	};
	ledger_replay(&lic, blocked, 3, &tl);
	cr_expect_eq(tl.steps[0].effect, LEDGER_NO_GRANT);
	cr_expect_eq(tl.steps[0].new_balance, NB);
	cr_expect_eq(tl.steps[1].effect, LEDGER_APPLIED);
	cr_expect_eq(tl.steps[2].effect, LEDGER_BLOCKED);
	cr_expect_eq(tl.steps[2].old_balance, tl.steps[2].new_balance);
	ledger_timeline_free(&tl);

	ledger_replay(&lic, NULL, 0, &tl);
	cr_expect_eq(tl.n, 0);
	cr_expect_eq(ledger_timeline_balance_at(&tl, 0), NB);
	ledger_timeline_free(&tl);
}

Test(ledger, names)
{
	enum ledger_kind k;
	enum licence_status s;
	static const char *kinds[] = { "grant", "stage_credit", "recovery", "probation_increment", "retrait" };
	for (size_t i = 0; i < 5; i++) {
		cr_assert(ledger_kind_from_name(kinds[i], &k));
		cr_expect_str_eq(ledger_kind_name(k), kinds[i]);
	}
	static const char *statuses[] = { "valid", "suspended", "invalidated", "cancelled" };
	for (size_t i = 0; i < 4; i++) {
		cr_assert(ledger_status_from_name(statuses[i], &s));
		cr_expect_str_eq(ledger_status_name(s), statuses[i]);
	}
	cr_expect(!ledger_kind_from_name("Grant", &k));
	cr_expect(!ledger_kind_from_name(NULL, &k));
	cr_expect(!ledger_status_from_name("revoked", &s));
	cr_expect_str_eq(ledger_kind_name((enum ledger_kind)77), "?");
	cr_expect(ledger_has_grant((struct ledger_event[]){ { 0, LEDGER_GRANT, 12, DATE_NONE, "g" } }, 1));
	cr_expect(!ledger_has_grant((struct ledger_event[]){ { 0, LEDGER_RECOVERY, 1, DATE_NONE, "r" } }, 1));
}

/* --- properties over generated histories ------------------------------------ */

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	/* xorshift64 (Marsaglia) */
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s;
}

static int rng_int(struct rng *r, int lo, int hi)	/* inclusive */
{
	return lo + (int)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

#define GEN_MAX 24
#define HISTORIES 4000

struct history {
	struct ledger_licence lic;
	size_t n;
	struct ledger_event ev[GEN_MAX + 1];
	char refs[GEN_MAX + 1][16];
	date_t from, to;	/* dates to sample */
};

static struct ledger_event gen_event(struct rng *r, date_t base, int span)
{
	struct ledger_event e = { .effective = base + rng_int(r, 0, span), .stage_first_day = DATE_NONE };
	switch (rng_int(r, 0, 9)) {
	case 0:
		e.kind = LEDGER_GRANT;
		e.points = rng_int(r, 0, 1) ? 12 : 6;
		break;
	case 1: case 2: case 3:
		e.kind = LEDGER_RETRAIT;
		e.points = -rng_int(r, 1, 8);
		break;
	case 4: case 5:
		e.kind = LEDGER_STAGE_CREDIT;
		e.points = 4;
		e.stage_first_day = e.effective - rng_int(r, 2, 40);
		break;
	case 6: case 7:
		e.kind = LEDGER_RECOVERY;
		e.points = rng_int(r, 1, 12);
		break;
	default:
		e.kind = LEDGER_PROBATION_INCREMENT;
		e.points = rng_int(r, 2, 3);
		break;
	}
	return e;
}

static void gen_history(struct rng *r, struct history *h)
{
	date_t base = date_from_ymd(2022, 1, 1);
	int span = rng_int(r, 0, 1) ? 60 : 1500;	/* short spans crowd same-day events */
	h->lic.probation_end = rng_int(r, 0, 2) ? DATE_NONE : base + rng_int(r, 0, span);
	h->lic.status = (enum licence_status)rng_int(r, 0, 3);
	h->lic.status_date = rng_int(r, 0, 4) ? base + rng_int(r, 0, span) : DATE_NONE;
	h->n = (size_t)rng_int(r, 0, GEN_MAX);
	bool granted = false;
	for (size_t i = 0; i < h->n; i++) {
		h->ev[i] = gen_event(r, base, span);
		granted |= h->ev[i].kind == LEDGER_GRANT;
	}
	/* Most histories have a grant, early. */
	if (!granted && h->n > 0 && rng_int(r, 0, 4)) {
		h->ev[0].kind = LEDGER_GRANT;
		h->ev[0].points = 12;
		h->ev[0].effective = base - 1;
		h->ev[0].stage_first_day = DATE_NONE;
	}
	for (size_t i = 0; i < h->n; i++) {
		snprintf(h->refs[i], 16, "e%02u", (unsigned)(i % 100u));
		h->ev[i].ref = h->refs[i];
	}
	h->from = base - 2;
	h->to = base + span + 2;
}

/* An independent reading of §6, to compare the replay with: day by day
 * over the days that have events, kinds in the listed order. */
static int oracle_balance(const struct history *h, date_t t)
{
	int balance = NB;
	bool regranted = false;
	date_t block = (h->lic.status == LICENCE_INVALIDATED || h->lic.status == LICENCE_CANCELLED)
			       ? h->lic.status_date : DATE_NONE;
	date_t day = DATE_NONE;
	for (;;) {
		/* The next day with an event. */
		date_t next = DATE_NONE;
		for (size_t i = 0; i < h->n; i++) {
			date_t e = h->ev[i].effective;
			if ((day == DATE_NONE || e > day) && e <= t && (next == DATE_NONE || e < next))
				next = e;
		}
		if (next == DATE_NONE)
			break;
		day = next;
		int increments = 0;
		for (size_t i = 0; i < h->n; i++)
			if (h->ev[i].effective <= day && h->ev[i].kind == LEDGER_PROBATION_INCREMENT)
				increments += h->ev[i].points;
		int ceiling = 12;
		if (h->lic.probation_end != DATE_NONE && day < h->lic.probation_end)
			ceiling = 6 + increments < 12 ? 6 + increments : 12;
		static const enum ledger_kind order[] = {
			LEDGER_GRANT, LEDGER_STAGE_CREDIT, LEDGER_RECOVERY,
			LEDGER_PROBATION_INCREMENT, LEDGER_RETRAIT,
		};
		for (size_t k = 0; k < 5; k++)
			for (size_t i = 0; i < h->n; i++) {
				const struct ledger_event *e = &h->ev[i];
				if (e->effective != day || e->kind != order[k])
					continue;
				if (e->kind == LEDGER_GRANT) {
					balance = e->points < ceiling ? e->points : ceiling;
					if (block != DATE_NONE && day > block)
						regranted = true;
					continue;
				}
				if (balance == NB)
					continue;
				if (e->kind == LEDGER_RETRAIT) {
					balance = balance + e->points > 0 ? balance + e->points : 0;
					continue;
				}
				bool void_credit = block != DATE_NONE && day > block && !regranted &&
						   !(e->kind == LEDGER_STAGE_CREDIT && e->stage_first_day < block);
				if (!void_credit)
					balance = balance + e->points < ceiling ? balance + e->points : ceiling;
			}
	}
	return balance;
}

static bool same_timeline(const struct ledger_timeline *a, const struct ledger_timeline *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct ledger_step *x = &a->steps[i], *y = &b->steps[i];
		if (strcmp(x->event->ref, y->event->ref) != 0 || x->old_balance != y->old_balance ||
		    x->new_balance != y->new_balance || x->ceiling != y->ceiling || x->effect != y->effect)
			return false;
	}
	return true;
}

static void shuffle(struct rng *r, struct ledger_event *ev, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(rng_next(r) % i);
		struct ledger_event t = ev[i - 1];
		ev[i - 1] = ev[j];
		ev[j] = t;
	}
}

Test(ledger_properties, generated_histories)
{
	struct rng r = { 0x9E3779B97F4A7C15ull };
	static struct history h, shuffled, more;
	size_t checked_credit = 0, nonempty = 0;

	for (int k = 0; k < HISTORIES; k++) {
		gen_history(&r, &h);
		struct ledger_timeline tl = { 0 }, again = { 0 }, tl_shuffled = { 0 }, tl_more = { 0 };
		ledger_replay(&h.lic, h.ev, h.n, &tl);

		/* Every step stays within [0, ceiling]. */
		for (size_t i = 0; i < tl.n; i++) {
			const struct ledger_step *s = &tl.steps[i];
			if (s->new_balance != NB)
				cr_assert(s->new_balance >= 0 && s->new_balance <= s->ceiling,
					  "history %d step %zu: %d of %d", k, i, s->new_balance, s->ceiling);
			if (i > 0)
				cr_assert_eq(s->old_balance, tl.steps[i - 1].new_balance);
		}

		/* Replaying the same events twice is identical. */
		ledger_replay(&h.lic, h.ev, h.n, &again);
		cr_assert(same_timeline(&tl, &again), "history %d: second replay differs", k);

		/* The input order does not matter. */
		shuffled = h;
		for (size_t i = 0; i < shuffled.n; i++)
			shuffled.ev[i].ref = shuffled.refs[i];
		shuffle(&r, shuffled.ev, shuffled.n);
		ledger_replay(&shuffled.lic, shuffled.ev, shuffled.n, &tl_shuffled);
		cr_assert(same_timeline(&tl, &tl_shuffled), "history %d: order matters", k);

		/* One more credit, anywhere, never lowers the balance. */
		more = h;
		for (size_t i = 0; i < more.n; i++)
			more.ev[i].ref = more.refs[i];
		struct ledger_event extra;
		do
			extra = gen_event(&r, date_from_ymd(2022, 1, 1), (int)(h.to - h.from));
		while (extra.kind == LEDGER_GRANT || extra.kind == LEDGER_RETRAIT);
		snprintf(more.refs[more.n], 16, "extra");
		extra.ref = more.refs[more.n];
		more.ev[more.n++] = extra;
		ledger_replay(&more.lic, more.ev, more.n, &tl_more);

		/* Sample dates: against the oracle, the bounds and the extra credit. */
		for (int s = 0; s < 12; s++) {
			date_t t = (date_t)rng_int(&r, h.from, h.to);
			int b = ledger_timeline_balance_at(&tl, t);
			int c = ledger_ceiling_at(&h.lic, h.ev, h.n, t);
			cr_assert_eq(b, oracle_balance(&h, t), "history %d at %d", k, t);
			int via_api = NB;
			if (!ledger_balance_at(&h.lic, h.ev, h.n, t, &via_api))
				via_api = NB;
			cr_assert_eq(via_api, b);
			if (b != NB) {
				cr_assert(b >= 0 && b <= c, "history %d at %d: %d of %d", k, t, b, c);
				nonempty++;
			}
			int bm = ledger_timeline_balance_at(&tl_more, t);
			cr_assert_eq(bm, oracle_balance(&more, t), "history %d+extra at %d", k, t);
			if (b != NB) {
				cr_assert(bm >= b, "history %d: a credit lowered %d to %d at %d", k, b, bm, t);
				checked_credit++;
			} else {
				cr_assert_eq(bm, NB, "a credit created a balance");
			}
		}
		ledger_timeline_free(&tl);
		ledger_timeline_free(&again);
		ledger_timeline_free(&tl_shuffled);
		ledger_timeline_free(&tl_more);
	}
	/* The generator must actually produce balances to check. */
	cr_expect_gt(nonempty, HISTORIES * 6);
	cr_expect_gt(checked_credit, HISTORIES * 6);
}
