/*
 * test_rules - rules.md as tables.  Each row describes a stage, its sign-in
 * sheet, the licence's registry record and the dates by their differences
 * from one default scenario (stage Fri 2026-11-13 - Sat 2026-11-14 in 28,
 * 12 participants on time, balance 12, received and decided 2026-11-16),
 * and states the exact decision, points, reasons, flags and the balance
 * that results.  The first table is rules.md §8, one row per worked example;
 * the second puts every rule on both sides of its boundary.
 *
 * Each table is one test that loops over its rows (issue 12);
 * empty strings and zeros mean "the default".
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

#define TRAINEE_LICENCE "120575300042"

struct ev_row {
	char kind;		/* G grant, S stage_credit, R recovery, I increment, X retrait; 0 ends */
	char date[11];
	int points;
	char first_day[11];	/* stage_credit */
};

struct case_row {
	char name[96];

	/* The attestations file and the attestation. */
	char first[11], last[11];	/* default 2026-11-13, 2026-11-14 */
	char dep[4];			/* default 28 */
	int stage_case;			/* default 1 */
	char letter[11];		/* 48N received; "" none */
	char issued[11];		/* default the last day */

	/* The sign-in sheet. */
	bool no_sheet;
	char sheet_first[11], sheet_last[11], sheet_dep[4];	/* default: as the attestations */
	char am_end[6], pm_start[6], pm_end[6];	/* both days; default 12:00 13:00 16:30 */
	char day2_pm_end[6];		/* default pm_end */
	bool session_wrong_day;		/* 2am dated on the first day */
	int participants;		/* signing participants incl. the trainee; default 12 */
	int silent;			/* further participants who signed nothing */
	int late;			/* trainee's arrival at 1am, minutes after its start */
	int tolerance;
	unsigned absent;		/* sessions (bits) with no presence for the trainee */
	unsigned not_signed;		/* sessions (bits) present with signed="false" */
	bool off_sheet;			/* the trainee is not among the participants */
	char sheet_surname[48], sheet_given[48], sheet_birth[11];	/* default as attested */
	int facilitators;		/* FAC_* variant */
	bool skip_stage_checks;		/* the stage days are not what the row is about */

	/* The registry's licence. */
	bool no_licence;
	char reg_surname[48], reg_given[48], reg_birth[11];	/* default as attested */
	char probation_end[11];
	enum licence_status status;
	char status_date[11];
	int lost;			/* no events given: grant 12 in 2010, then a retrait of this */
	struct ev_row ev[6];
	char credited_last[11];		/* this daemon's earlier credited stage, last day */

	/* Dates. */
	char received[11];		/* default last day + 2 */
	char today[11];			/* default received */
	bool review_cleared;		/* an operator accepted it in review */

	/* Expected. */
	enum rules_decision decision;
	int points;
	enum reason reasons[6];		/* in order, REASON_OK ends */
	enum reason flags[4];
	char deadline[11];		/* "" unchecked */
	char near;			/* 'y', 'n', 0 unchecked */
	char balance_on[11];		/* "" = the effective date */
	int balance;			/* after appending the credit, if any */
};

enum { FAC_OK, FAC_PSY_UNREGISTERED, FAC_EXPERT_ENDS_FIRST_DAY, FAC_EXPERT_ENDS_LAST_DAY,
       FAC_PSY_STARTS_LAST_DAY, FAC_PSY_STARTS_FIRST_DAY, FAC_SAME_AUTHORISATION,
       FAC_PSY_REGISTERED_AS_EXPERT, FAC_TWO_PSYCHOLOGISTS };

static date_t D(const char *s)
{
	date_t d;
	if (s[0] == '\0')
		return DATE_NONE;
	cr_assert(date_parse(s, &d), "bad test date \"%s\"", s);
	return d;
}

static minute_of_day_t T(const char *s, const char *dflt)
{
	minute_of_day_t t;
	cr_assert(date_parse_time(s[0] ? s : dflt, &t), "bad test time \"%s\"", s);
	return t;
}

static const char *or(const char *s, const char *dflt)
{
	return s[0] ? s : dflt;
}

struct fixture {
	struct document att;
	struct doc_attestation attestation;
	struct document sheet;
	struct rules_facilitator reg[3];
	size_t n_reg;
	struct rules_licence lic;
	struct ledger_event ev[8];
	char refs[8][16];
	date_t credited[1];
	struct rules_context ctx;
	struct rules_reasons findings;
	struct rules_outcome out;
};

static void set_person(struct doc_person *p, const char *licence, const char *surname,
		       const char *given, const char *birth)
{
	snprintf(p->licence, sizeof(p->licence), "%.15s", licence);
	snprintf(p->surname, sizeof(p->surname), "%s", surname);
	snprintf(p->given_names, sizeof(p->given_names), "%s", given);
	p->birth_date = D(birth);
}

static void build_sheet(struct fixture *f, const struct case_row *row)
{
	struct document *s = &f->sheet;
	s->kind = DOC_SIGNIN_SHEET;
	snprintf(s->approval, sizeof(s->approval), "R2402800010");
	s->stage = f->att.stage;
	if (row->sheet_first[0])
		s->stage.first_day = D(row->sheet_first);
	if (row->sheet_last[0])
		s->stage.last_day = D(row->sheet_last);
	if (row->sheet_dep[0])
		snprintf(s->stage.departement, sizeof(s->stage.departement), "%s", row->sheet_dep);

	struct doc_signin_sheet *sh = &s->sheet;
	snprintf(sh->venue, sizeof(sh->venue), "Salle Jean Moulin, Chartres");
	for (int day = 0; day < 2; day++) {
		date_t date = day == 0 ? s->stage.first_day : s->stage.last_day;
		struct doc_session_times *am = &sh->sessions[2 * day], *pm = &sh->sessions[2 * day + 1];
		am->date = pm->date = date;
		am->start = T("08:30", "");
		am->end = T(row->am_end, "12:00");
		pm->start = T(row->pm_start, "13:00");
		pm->end = T(day == 1 && row->day2_pm_end[0] ? row->day2_pm_end : row->pm_end, "16:30");
	}
	if (row->session_wrong_day)
		sh->sessions[SESSION_2AM].date = s->stage.first_day;

	static const char *auth[2] = { "PSY-28-2019-004", "BAFM-28-2015-011" };
	for (int i = 0; i < 2; i++) {
		struct doc_facilitator *fa = &sh->facilitators[i];
		fa->role = i == 0 ? ROLE_PSYCHOLOGIST : ROLE_ROAD_SAFETY_EXPERT;
		snprintf(fa->authorisation, sizeof(fa->authorisation), "%s", auth[i]);
		snprintf(fa->surname, sizeof(fa->surname), "%s", i == 0 ? "DURAND" : "LEROY");
		snprintf(fa->given_names, sizeof(fa->given_names), "%s", i == 0 ? "Anne" : "Marc");
		f->reg[i] = (struct rules_facilitator){ auth[i], fa->role, D("2015-01-01"), DATE_NONE };
	}
	f->n_reg = 2;
	switch (row->facilitators) {
	case FAC_PSY_UNREGISTERED: f->reg[0].authorisation = "PSY-28-2019-005"; break;
	case FAC_EXPERT_ENDS_FIRST_DAY: f->reg[1].valid_to = s->stage.first_day; break;
	case FAC_EXPERT_ENDS_LAST_DAY: f->reg[1].valid_to = s->stage.last_day; break;
	case FAC_PSY_STARTS_LAST_DAY: f->reg[0].valid_from = s->stage.last_day; break;
	case FAC_PSY_STARTS_FIRST_DAY: f->reg[0].valid_from = s->stage.first_day; break;
	case FAC_SAME_AUTHORISATION:
		snprintf(sh->facilitators[1].authorisation, DOC_AUTH_SIZE, "%s", auth[0]);
		f->reg[1].authorisation = auth[0];
		break;
	case FAC_PSY_REGISTERED_AS_EXPERT: f->reg[0].role = ROLE_ROAD_SAFETY_EXPERT; break;
	case FAC_TWO_PSYCHOLOGISTS:
		sh->facilitators[1].role = ROLE_PSYCHOLOGIST;
		f->reg[1].role = ROLE_PSYCHOLOGIST;
		break;
	default: break;
	}

	size_t signing = row->participants ? (size_t)row->participants : 12;
	sh->n_participants = signing + (size_t)row->silent;
	sh->participants = calloc(sh->n_participants, sizeof(*sh->participants));
	cr_assert_not_null(sh->participants);
	for (size_t i = 0; i < sh->n_participants; i++) {
		struct doc_participant *p = &sh->participants[i];
		char licence[16];
		snprintf(licence, sizeof(licence), "P%011u", (unsigned)(i % 1000u));
		set_person(&p->person, licence, "PARTICIPANT", "Dominique", "1980-01-01");
		p->identity.type = ID_CARD;
		for (int k = 0; k < SESSION_COUNT; k++) {
			p->presence[k].present = i < signing;
			p->presence[k].signed_in = i < signing;
			p->presence[k].arrived = (minute_of_day_t)(sh->sessions[k].start - 10);
		}
	}
	struct doc_participant *t = &sh->participants[0];
	set_person(&t->person, row->off_sheet ? "999999999999" : TRAINEE_LICENCE,
		   or(row->sheet_surname, f->attestation.trainee.surname),
		   or(row->sheet_given, f->attestation.trainee.given_names),
		   or(row->sheet_birth, "1990-04-12"));
	t->presence[SESSION_1AM].arrived = (minute_of_day_t)(sh->sessions[SESSION_1AM].start + row->late);
	for (int k = 0; k < SESSION_COUNT; k++) {
		if (row->absent & (1u << k))
			t->presence[k].present = t->presence[k].signed_in = false;
		if (row->not_signed & (1u << k))
			t->presence[k].signed_in = false;
	}
}

static void build_licence(struct fixture *f, const struct case_row *row)
{
	struct rules_licence *l = &f->lic;
	size_t n = 0;
	l->surname = row->reg_surname[0] ? row->reg_surname : "Martin";
	l->given_names = row->reg_given[0] ? row->reg_given : "Claire Marie";
	l->birth_date = D(or(row->reg_birth, "1990-04-12"));
	l->ledger.probation_end = D(row->probation_end);
	l->ledger.status = row->status;
	l->ledger.status_date = D(row->status_date);
	if (row->ev[0].kind == 0) {
		f->ev[n++] = (struct ledger_event){ D("2010-01-01"), LEDGER_GRANT, 12, DATE_NONE, NULL };
		if (row->lost)
			f->ev[n++] = (struct ledger_event){ D("2020-01-01"), LEDGER_RETRAIT, -row->lost,
							    DATE_NONE, NULL };
	}
	for (size_t i = 0; i < 6 && row->ev[i].kind; i++) {
		static const char kinds[] = "GSRIX";
		f->ev[n++] = (struct ledger_event){
			.effective = D(row->ev[i].date),
			.kind = (enum ledger_kind)(strchr(kinds, row->ev[i].kind) - kinds),
			.points = row->ev[i].points,
			.stage_first_day = D(row->ev[i].first_day),
		};
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(f->refs[i], sizeof(f->refs[i]), "reg-%u", (unsigned)(i % 100u));
		f->ev[i].ref = f->refs[i];
	}
	l->events = f->ev;
	l->n_events = n;
	if (row->credited_last[0]) {
		f->credited[0] = D(row->credited_last);
		l->credited_last_days = f->credited;
		l->n_credited = 1;
	}
}

/* The documents, registry and context of a row, into f. */
static void setup_case(struct fixture *f, const struct case_row *row)
{
	memset(f, 0, sizeof(*f));

	f->att.kind = DOC_ATTESTATIONS;
	snprintf(f->att.approval, sizeof(f->att.approval), "R2402800010");
	snprintf(f->att.stage.ref, sizeof(f->att.stage.ref), "CH-TEST");
	snprintf(f->att.stage.departement, sizeof(f->att.stage.departement), "%s", or(row->dep, "28"));
	f->att.stage.first_day = D(or(row->first, "2026-11-13"));
	f->att.stage.last_day = D(or(row->last, "2026-11-14"));
	struct doc_attestation *a = &f->attestation;
	snprintf(a->number, sizeof(a->number), "CH-TEST-01");
	a->stage_case = row->stage_case ? row->stage_case : 1;
	a->issued = row->issued[0] ? D(row->issued) : f->att.stage.last_day;
	set_person(&a->trainee, TRAINEE_LICENCE, "MARTIN", "Claire", "1990-04-12");
	if (row->letter[0]) {
		a->has_letter_48n = true;
		a->letter_48n_received = D(row->letter);
	}
	f->att.n_attestations = 1;
	f->att.attestations = a;

	if (!row->no_sheet)
		build_sheet(f, row);
	build_licence(f, row);

	f->ctx.received = row->received[0] ? D(row->received)
					   : date_add_days(f->att.stage.last_day, 2);
	f->ctx.today = row->today[0] ? D(row->today) : f->ctx.received;
	f->ctx.late_tolerance_min = row->tolerance;
	f->ctx.review_cleared = row->review_cleared;
}

static void run_case(const struct case_row *row)
{
	static struct fixture fx;
	struct fixture *f = &fx;
	setup_case(f, row);

	/* A row that cannot be decided is reported and the next rows still run
	 * (the rows share one test, issue 12). */
	const struct document *sheet = row->no_sheet ? NULL : &f->sheet;
	if (sheet) {
		enum reason r = rules_check_stage(sheet, &f->att, f->reg, f->n_reg, &f->findings);
		cr_expect_eq(r, REASON_OK, "%s: rules_check_stage %s", row->name, reason_code(r));
		if (r != REASON_OK)
			goto out;
		if (row->skip_stage_checks)
			f->findings.n = 0;
	}
	enum reason r = rules_decide(&f->att, 0, sheet, sheet ? &f->findings : NULL,
				     row->no_licence ? NULL : &f->lic, &f->ctx, &f->out);
	cr_expect_eq(r, REASON_OK, "%s: rules_decide %s", row->name, reason_code(r));
	if (r != REASON_OK)
		goto out;
	const struct rules_outcome *o = &f->out;

	cr_expect_eq(o->decision, row->decision, "%s: decision %s, expected %s", row->name,
		     rules_decision_name(o->decision), rules_decision_name(row->decision));
	cr_expect_eq(o->points, row->points, "%s: %d points", row->name, o->points);
	size_t n = 0;
	while (n < 6 && row->reasons[n] != REASON_OK)
		n++;
	cr_expect_eq(o->reasons.n, n, "%s: %zu reasons, expected %zu", row->name, o->reasons.n, n);
	for (size_t i = 0; i < n && i < o->reasons.n; i++)
		cr_expect_eq(o->reasons.codes[i], row->reasons[i], "%s: reason %zu is %s, expected %s",
			     row->name, i, reason_code(o->reasons.codes[i]), reason_code(row->reasons[i]));
	n = 0;
	while (n < 4 && row->flags[n] != REASON_OK)
		n++;
	cr_expect_eq(o->flags.n, n, "%s: %zu flags (first %s), expected %zu", row->name, o->flags.n,
		     o->flags.n ? reason_code(o->flags.codes[0]) : "-", n);
	for (size_t i = 0; i < n && i < o->flags.n; i++)
		cr_expect_eq(o->flags.codes[i], row->flags[i], "%s: flag %zu is %s, expected %s",
			     row->name, i, reason_code(o->flags.codes[i]), reason_code(row->flags[i]));
	if (row->deadline[0])
		cr_expect_eq(o->registration_deadline, D(row->deadline), "%s: deadline", row->name);
	if (row->near)
		cr_expect_eq(o->near_deadline, row->near == 'y', "%s: near deadline", row->name);
	cr_expect_eq(o->effective, date_add_days(f->att.stage.last_day, 1), "%s: effective date",
		     row->name);

	/* A credit is the event to append, exactly; nothing else has one. */
	cr_expect_eq(o->has_credit, o->decision == RULES_CREDITED, "%s: credit event", row->name);
	if (o->has_credit) {
		cr_expect_eq(o->credit.kind, LEDGER_STAGE_CREDIT, "%s: credit kind", row->name);
		cr_expect_eq(o->credit.points, 4, "%s: credit points", row->name);
		cr_expect_eq(o->credit.effective, o->effective, "%s: credit date", row->name);
		cr_expect_eq(o->credit.stage_first_day, f->att.stage.first_day,
			     "%s: credit stage first day", row->name);
		cr_expect(o->points >= 1 && o->points <= 4, "%s: %d points", row->name, o->points);
	}

	/* The balance that results, by replaying the ledger with the credit. */
	size_t ne = f->lic.n_events;
	if (o->has_credit) {
		f->ev[ne] = o->credit;
		f->ev[ne].ref = "this-stage";
		ne++;
	}
	date_t on = row->balance_on[0] ? D(row->balance_on) : o->effective;
	int b = LEDGER_NO_BALANCE;
	if (!ledger_balance_at(&f->lic.ledger, f->ev, ne, on, &b))
		b = LEDGER_NO_BALANCE;
	cr_expect_eq(b, row->balance, "%s: balance %d, expected %d", row->name, b, row->balance);
	/* The points granted are what the replay adds. */
	if (o->has_credit) {
		int before = -1, after = -1;
		ledger_balance_before_stage_credit(&f->lic.ledger, f->ev, ne - 1, o->effective, &before);
		struct ledger_timeline tl = { 0 };
		ledger_replay(&f->lic.ledger, f->ev, ne, &tl);
		for (size_t i = 0; i < tl.n; i++)
			if (tl.steps[i].event->ref && strcmp(tl.steps[i].event->ref, "this-stage") == 0)
				after = tl.steps[i].new_balance;
		ledger_timeline_free(&tl);
		cr_expect_eq(after - before, o->points, "%s: replay adds %d", row->name, after - before);
	}
out:
	free(f->sheet.sheet.participants);
}

#define R(x) REASON_##x
#define CREDITED RULES_CREDITED
#define NO_CREDIT RULES_NO_CREDIT
#define REJECTED RULES_REJECTED
#define PENDING RULES_PENDING
#define REVIEW RULES_REVIEW

/* --- rules.md §8, one row per worked example ------------------------------- */

/* One case of rules::worked_examples (issue 12: the cases share one process). */
static void rules_worked_examples_case(struct case_row *row)
{
	run_case(row);
}

Test(rules, worked_examples)
{
	static struct case_row rows[] = {
		{ .name = "1. balance 7, no earlier stage", .lost = 5,
		  .decision = CREDITED, .points = 4, .balance = 11 },
		{ .name = "2. balance 10", .lost = 2,
		  .decision = CREDITED, .points = 2, .balance = 12 },
		{ .name = "3. balance 12",
		  .decision = NO_CREDIT, .reasons = { R(NO_POINTS_LOST) }, .balance = 12 },
		{ .name = "4. last credited stage 2025-11-13/14", .lost = 5,
		  .credited_last = "2025-11-14",
		  .decision = NO_CREDIT, .reasons = { R(WITHIN_ONE_YEAR) }, .balance = 7 },
		{ .name = "4. the same stage known as a registry stage_credit",
		  .ev = { { 'G', "2010-01-01", 12, "" }, { 'X', "2025-06-01", -9, "" },
			  { 'S', "2025-11-15", 4, "2025-11-13" } },
		  .decision = NO_CREDIT, .reasons = { R(WITHIN_ONE_YEAR) }, .balance = 7 },
		{ .name = "4. last stage 2025-11-11/12: earliest next first day 2026-11-13",
		  .lost = 5, .credited_last = "2025-11-12",
		  .decision = CREDITED, .points = 4, .balance = 11 },
		{ .name = "4. the same as a registry stage_credit",
		  .ev = { { 'G', "2010-01-01", 12, "" }, { 'X', "2025-06-01", -9, "" },
			  { 'S', "2025-11-13", 4, "2025-11-11" } },
		  .decision = CREDITED, .points = 4, .balance = 11 },
		/* The forward case (§5.4 "in either direction"): this stage is
		 * decided after a later one of the licence was credited. */
		{ .name = "4. forward: later credited stage 2027-11-14/15", .lost = 5,
		  .credited_last = "2027-11-15",
		  .decision = NO_CREDIT, .reasons = { R(WITHIN_ONE_YEAR) }, .balance = 7 },
		{ .name = "4. forward: the later stage as a registry stage_credit",
		  .ev = { { 'G', "2010-01-01", 12, "" }, { 'X', "2025-06-01", -5, "" },
			  { 'S', "2027-11-16", 4, "2027-11-14" } },
		  .decision = NO_CREDIT, .reasons = { R(WITHIN_ONE_YEAR) }, .balance = 7 },
		{ .name = "4. forward: later stage 2027-11-15/16, a year and a day after", .lost = 5,
		  .credited_last = "2027-11-16",
		  .decision = CREDITED, .points = 4, .balance = 11 },
		{ .name = "4. forward: registry stage_credit effective 2027-11-17",
		  .ev = { { 'G', "2010-01-01", 12, "" }, { 'X', "2025-06-01", -5, "" },
			  { 'S', "2027-11-17", 4, "2027-11-15" } },
		  .decision = CREDITED, .points = 4, .balance = 11 },
		{ .name = "5. previous stage 2024-02-28/29, stage 2025-02-28/03-01",
		  .first = "2025-02-28", .last = "2025-03-01", .lost = 5,
		  .credited_last = "2024-02-29",
		  .decision = NO_CREDIT, .reasons = { R(WITHIN_ONE_YEAR) }, .balance = 7 },
		{ .name = "5. previous stage 2024-02-28/29, first day 2025-03-01",
		  .first = "2025-03-01", .last = "2025-03-02", .skip_stage_checks = true, .lost = 5,
		  .credited_last = "2024-02-29",
		  .decision = CREDITED, .points = 4, .balance = 11 },
		{ .name = "6. case 2, 48N received 2026-09-30", .stage_case = 2, .letter = "2026-09-30",
		  .lost = 5,
		  .decision = CREDITED, .points = 4, .flags = { R(MANDATORY_STAGE_COMPLETED) },
		  .balance = 11 },
		{ .name = "6. case 2, 48N received 2026-11-20", .stage_case = 2, .letter = "2026-11-20",
		  .lost = 5,
		  .decision = CREDITED, .points = 4, .reasons = { R(STAGE_BEFORE_LETTER_48N) },
		  .balance = 11 },
		{ .name = "6. case 2, 48N received 2026-07-10", .stage_case = 2, .letter = "2026-07-10",
		  .lost = 5,
		  .decision = CREDITED, .points = 4, .flags = { R(LETTER_48N_WINDOW_EXCEEDED) },
		  .balance = 11 },
		{ .name = "7. case 3, whatever the balance", .stage_case = 3, .lost = 8,
		  .decision = NO_CREDIT, .reasons = { R(CASE_NO_POINTS) }, .balance = 4 },
		{ .name = "7. case 4 likewise", .stage_case = 4, .lost = 8,
		  .decision = NO_CREDIT, .reasons = { R(CASE_NO_POINTS) }, .balance = 4 },
		{ .name = "8. probationary, ceiling 8, b 5", .probation_end = "2028-06-01",
		  .ev = { { 'G', "2025-06-01", 6, "" }, { 'I', "2026-06-01", 2, "" },
			  { 'X', "2026-08-01", -3, "" } },
		  .decision = CREDITED, .points = 3, .balance = 8 },
		{ .name = "9. retrait effective after the stage (fine paid late)",
		  .ev = { { 'G', "2010-01-01", 12, "" }, { 'X', "2026-03-01", -4, "" },
			  { 'X', "2026-12-01", -4, "" } },
		  .today = "2026-12-10",
		  .decision = CREDITED, .points = 4, .balance_on = "2026-12-10", .balance = 8 },
		{ .name = "10. 48SI notified after F, undone by the credit",
		  .ev = { { 'G', "2010-01-01", 12, "" }, { 'X', "2026-03-01", -9, "" },
			  { 'X', "2026-12-01", -4, "" } },
		  .status = LICENCE_INVALIDATED, .status_date = "2026-12-20",
		  .received = "2026-11-25", .today = "2026-12-21",
		  .decision = CREDITED, .points = 4, .flags = { R(INVALIDATION_TO_REVIEW) },
		  .balance_on = "2026-12-21", .balance = 3 },
		{ .name = "11. 48SI notified 2026-11-01, before F",
		  .ev = { { 'G', "2010-01-01", 12, "" }, { 'X', "2026-10-01", -12, "" } },
		  .status = LICENCE_INVALIDATED, .status_date = "2026-11-01",
		  .decision = NO_CREDIT, .reasons = { R(LICENCE_INVALIDATED) }, .balance = 0 },
		{ .name = "11. balance 0 since 2026-10-20, no 48SI notified",
		  .ev = { { 'G', "2010-01-01", 12, "" }, { 'X', "2026-10-20", -12, "" } },
		  .decision = CREDITED, .points = 4, .balance = 4 },
		{ .name = "12. arrived 08:31 for 08:30", .late = 1, .lost = 5,
		  .decision = REJECTED, .reasons = { R(LATE_ARRIVAL) }, .balance = 7 },
		{ .name = "13. stage Sat 2026-11-14 - Sun 2026-11-15",
		  .first = "2026-11-14", .last = "2026-11-15", .lost = 5,
		  .decision = REJECTED, .reasons = { R(STAGE_ON_SUNDAY) }, .balance = 7 },
		{ .name = "13. stage 2026-11-10/11 (Armistice)",
		  .first = "2026-11-10", .last = "2026-11-11", .lost = 5,
		  .decision = REJECTED, .reasons = { R(STAGE_ON_PUBLIC_HOLIDAY) }, .balance = 7 },
		{ .name = "13. stage 2026-04-02/03 (Good Friday) in 67",
		  .first = "2026-04-02", .last = "2026-04-03", .dep = "67", .lost = 5,
		  .decision = REJECTED, .reasons = { R(STAGE_ON_PUBLIC_HOLIDAY) }, .balance = 7 },
		{ .name = "13. stage 2026-04-02/03 (Good Friday) in 28",
		  .first = "2026-04-02", .last = "2026-04-03", .dep = "28", .lost = 5,
		  .decision = CREDITED, .points = 4, .balance = 11 },
		{ .name = "14. 21 participants signed", .participants = 21, .lost = 5,
		  .decision = REVIEW, .reasons = { R(GROUP_SIZE) }, .balance = 7 },
		{ .name = "14. 5 participants signed", .participants = 5, .lost = 5,
		  .decision = REVIEW, .reasons = { R(GROUP_SIZE) }, .balance = 7 },
		{ .name = "14. lunch 12:00-12:30", .pm_start = "12:30", .pm_end = "16:00", .lost = 5,
		  .decision = REVIEW, .reasons = { R(LUNCH_BREAK_TOO_SHORT) }, .balance = 7 },
		{ .name = "15. received 2026-11-30 (L + 16)", .received = "2026-11-30", .lost = 5,
		  .decision = CREDITED, .points = 4, .flags = { R(LATE_TRANSMISSION) }, .balance = 11 },
		{ .name = "16. no sheet, on the deadline 2026-12-16", .no_sheet = true,
		  .received = "2026-11-16", .today = "2026-12-16", .lost = 5,
		  .decision = PENDING, .reasons = { R(AWAITING_SIGNIN_SHEET) },
		  .deadline = "2026-12-16", .near = 'y', .balance = 7 },
		{ .name = "16. no sheet, on 2026-12-17", .no_sheet = true,
		  .received = "2026-11-16", .today = "2026-12-17", .lost = 5,
		  .decision = PENDING, .reasons = { R(AWAITING_SIGNIN_SHEET) },
		  .flags = { R(REGISTRATION_OVERDUE) }, .deadline = "2026-12-16", .near = 'n',
		  .balance = 7 },
		{ .name = "17. received 2025-01-31: deadline 2025-02-28",
		  .first = "2025-01-17", .last = "2025-01-18", .received = "2025-01-31", .lost = 5,
		  .decision = CREDITED, .points = 4, .deadline = "2025-02-28", .balance = 11 },
		/* 18 (duplicate numbers and files) is decided on whole files by the
		 * store, before any rule of this module runs. */
	};
	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++)
		rules_worked_examples_case(&rows[k]);
}

/* --- every rule on both sides of its boundary --------------------------------- */

/* One case of rules::boundaries (issue 12: the cases share one process). */
static void rules_boundaries_case(struct case_row *row)
{
	run_case(row);
}

Test(rules, boundaries)
{
	static struct case_row rows[] = {
		/* §3 length: 7 h 00 each day. */
		{ .name = "day 1: 3h30 + 3h29 = 6h59", .pm_end = "16:29", .day2_pm_end = "16:30",
		  .lost = 5, .decision = REJECTED, .reasons = { R(STAGE_TOO_SHORT) }, .balance = 7 },
		{ .name = "day 2: 6h59", .day2_pm_end = "16:29", .pm_end = "16:30", .lost = 5,
		  .decision = REJECTED, .reasons = { R(STAGE_TOO_SHORT) }, .balance = 7 },
		{ .name = "7h00 each day", .pm_end = "16:30", .lost = 5,
		  .decision = CREDITED, .points = 4, .balance = 11 },
		{ .name = "morning ends as the afternoon starts", .am_end = "12:00",
		  .pm_start = "12:00", .pm_end = "15:30", .lost = 5,
		  .decision = REJECTED, .reasons = { R(STAGE_TOO_SHORT), R(LUNCH_BREAK_TOO_SHORT) },
		  .balance = 7 },
		{ .name = "morning overlaps the afternoon", .am_end = "13:30", .lost = 5,
		  .decision = REJECTED, .reasons = { R(STAGE_TOO_SHORT), R(LUNCH_BREAK_TOO_SHORT) },
		  .balance = 7 },
		{ .name = "session 2am dated on the first day", .session_wrong_day = true, .lost = 5,
		  .decision = REJECTED, .reasons = { R(STAGE_TOO_SHORT) }, .balance = 7 },
		/* §3 lunch: 45 minutes. */
		{ .name = "lunch 44 min", .pm_start = "12:44", .pm_end = "16:14", .lost = 5,
		  .decision = REVIEW, .reasons = { R(LUNCH_BREAK_TOO_SHORT) }, .balance = 7 },
		{ .name = "lunch 45 min", .pm_start = "12:45", .pm_end = "16:15", .lost = 5,
		  .decision = CREDITED, .points = 4, .balance = 11 },
		/* §3 group: 6 to 20 who signed at least one session. */
		{ .name = "5 signed", .participants = 5, .lost = 5,
		  .decision = REVIEW, .reasons = { R(GROUP_SIZE) }, .balance = 7 },
		{ .name = "6 signed", .participants = 6, .lost = 5,
		  .decision = CREDITED, .points = 4, .balance = 11 },
		{ .name = "20 signed", .participants = 20, .lost = 5,
		  .decision = CREDITED, .points = 4, .balance = 11 },
		{ .name = "21 signed", .participants = 21, .lost = 5,
		  .decision = REVIEW, .reasons = { R(GROUP_SIZE) }, .balance = 7 },
		{ .name = "5 signed and 3 who signed nothing", .participants = 5, .silent = 3,
		  .lost = 5, .decision = REVIEW, .reasons = { R(GROUP_SIZE) }, .balance = 7 },
		{ .name = "20 signed and 4 who signed nothing", .participants = 20, .silent = 4,
		  .lost = 5, .decision = CREDITED, .points = 4, .balance = 11 },
		/* §3 days. */
		{ .name = "days not consecutive (Thu, Sat)", .first = "2026-11-12",
		  .last = "2026-11-14", .lost = 5,
		  .decision = REJECTED, .reasons = { R(STAGE_DAYS_NOT_CONSECUTIVE) }, .balance = 7 },
		{ .name = "Good Friday in 57", .first = "2026-04-02", .last = "2026-04-03",
		  .dep = "57", .lost = 5,
		  .decision = REJECTED, .reasons = { R(STAGE_ON_PUBLIC_HOLIDAY) }, .balance = 7 },
		{ .name = "Good Friday in 68", .first = "2026-04-02", .last = "2026-04-03",
		  .dep = "68", .lost = 5,
		  .decision = REJECTED, .reasons = { R(STAGE_ON_PUBLIC_HOLIDAY) }, .balance = 7 },
		{ .name = "26 December in 67", .first = "2025-12-26", .last = "2025-12-27",
		  .dep = "67", .lost = 5,
		  .decision = REJECTED, .reasons = { R(STAGE_ON_PUBLIC_HOLIDAY) }, .balance = 7 },
		{ .name = "26 December in 28", .first = "2025-12-26", .last = "2025-12-27",
		  .dep = "28", .lost = 5, .decision = CREDITED, .points = 4, .balance = 11 },
		{ .name = "Whit Monday 2026", .first = "2026-05-25", .last = "2026-05-26", .lost = 5,
		  .decision = REJECTED, .reasons = { R(STAGE_ON_PUBLIC_HOLIDAY) }, .balance = 7 },
		{ .name = "Feb 29 is a working day", .first = "2024-02-29", .last = "2024-03-01",
		  .lost = 5, .decision = CREDITED, .points = 4, .balance = 11 },
		/* §3 facilitators. */
		{ .name = "psychologist not registered", .facilitators = FAC_PSY_UNREGISTERED,
		  .lost = 5, .decision = REJECTED, .reasons = { R(FACILITATOR_INVALID) }, .balance = 7 },
		{ .name = "expert's registration ends on the first day",
		  .facilitators = FAC_EXPERT_ENDS_FIRST_DAY, .lost = 5,
		  .decision = REJECTED, .reasons = { R(FACILITATOR_INVALID) }, .balance = 7 },
		{ .name = "expert's registration ends on the last day (inclusive)",
		  .facilitators = FAC_EXPERT_ENDS_LAST_DAY, .lost = 5,
		  .decision = CREDITED, .points = 4, .balance = 11 },
		{ .name = "psychologist's registration starts on the last day",
		  .facilitators = FAC_PSY_STARTS_LAST_DAY, .lost = 5,
		  .decision = REJECTED, .reasons = { R(FACILITATOR_INVALID) }, .balance = 7 },
		{ .name = "psychologist's registration starts on the first day",
		  .facilitators = FAC_PSY_STARTS_FIRST_DAY, .lost = 5,
		  .decision = CREDITED, .points = 4, .balance = 11 },
		{ .name = "one authorisation for both", .facilitators = FAC_SAME_AUTHORISATION,
		  .lost = 5, .decision = REJECTED, .reasons = { R(FACILITATOR_INVALID) }, .balance = 7 },
		{ .name = "psychologist registered as expert",
		  .facilitators = FAC_PSY_REGISTERED_AS_EXPERT, .lost = 5,
		  .decision = REJECTED, .reasons = { R(FACILITATOR_INVALID) }, .balance = 7 },
		{ .name = "two psychologists", .facilitators = FAC_TWO_PSYCHOLOGISTS, .lost = 5,
		  .decision = REJECTED, .reasons = { R(FACILITATOR_INVALID) }, .balance = 7 },
		/* §3 sheet and attestations agree. */
		{ .name = "sheet says another first day", .sheet_first = "2026-11-12",
		  .sheet_last = "2026-11-13", .lost = 5,
		  .decision = REJECTED, .reasons = { R(STAGE_MISMATCH) }, .balance = 7 },
		{ .name = "sheet says another departement", .sheet_dep = "45", .lost = 5,
		  .decision = REJECTED, .reasons = { R(STAGE_MISMATCH) }, .balance = 7 },
		/* §4 attestation checks. */
		{ .name = "issued the first day", .issued = "2026-11-13", .lost = 5,
		  .decision = REJECTED, .reasons = { R(ISSUED_DATE_MISMATCH) }, .balance = 7 },
		{ .name = "not on the sheet", .off_sheet = true, .lost = 5,
		  .decision = REJECTED, .reasons = { R(NOT_ON_SIGNIN_SHEET) }, .balance = 7 },
		{ .name = "no presence for 2pm", .absent = 1u << SESSION_2PM, .lost = 5,
		  .decision = REJECTED, .reasons = { R(ATTENDANCE_INCOMPLETE) }, .balance = 7 },
		{ .name = "1pm not signed", .not_signed = 1u << SESSION_1PM, .lost = 5,
		  .decision = REJECTED, .reasons = { R(ATTENDANCE_INCOMPLETE) }, .balance = 7 },
		{ .name = "arrived at the start minute", .late = 0, .lost = 5,
		  .decision = CREDITED, .points = 4, .balance = 11 },
		{ .name = "arrived one minute late", .late = 1, .lost = 5,
		  .decision = REJECTED, .reasons = { R(LATE_ARRIVAL) }, .balance = 7 },
		{ .name = "5 minutes late, tolerance 5", .late = 5, .tolerance = 5, .lost = 5,
		  .decision = CREDITED, .points = 4, .balance = 11 },
		{ .name = "6 minutes late, tolerance 5", .late = 6, .tolerance = 5, .lost = 5,
		  .decision = REJECTED, .reasons = { R(LATE_ARRIVAL) }, .balance = 7 },
		{ .name = "licence not in the registry", .no_licence = true,
		  .decision = PENDING, .reasons = { R(LICENCE_UNKNOWN) }, .balance = 12 },
		{ .name = "licence without a grant", .ev = { { 'X', "2020-01-01", -2, "" } },
		  .decision = PENDING, .reasons = { R(LICENCE_UNKNOWN) },
		  .balance = LEDGER_NO_BALANCE },
		{ .name = "licence granted only after the stage",
		  .ev = { { 'G', "2027-01-01", 6, "" } },
		  .decision = PENDING, .reasons = { R(LICENCE_UNKNOWN) },
		  .balance = LEDGER_NO_BALANCE },
		{ .name = "invalidated with no notification date", .lost = 12,
		  .status = LICENCE_INVALIDATED,
		  .decision = PENDING, .reasons = { R(LICENCE_UNKNOWN) }, .balance = 0 },
		{ .name = "surname differs from the registry", .reg_surname = "MARTINEZ", .lost = 5,
		  .decision = REVIEW, .reasons = { R(IDENTITY_MISMATCH) }, .balance = 7 },
		{ .name = "birth date differs from the registry", .reg_birth = "1990-04-13",
		  .lost = 5,
		  .decision = REVIEW, .reasons = { R(IDENTITY_MISMATCH) }, .balance = 7 },
		{ .name = "first given name differs from the sheet", .sheet_given = "Clara",
		  .lost = 5,
		  .decision = REVIEW, .reasons = { R(IDENTITY_MISMATCH) }, .balance = 7 },
		{ .name = "surname differs from the sheet only", .sheet_surname = "MARTIN-DUPONT",
		  .lost = 5,
		  .decision = REVIEW, .reasons = { R(IDENTITY_MISMATCH) }, .balance = 7 },
		{ .name = "birth date differs from the sheet only", .sheet_birth = "1991-04-12",
		  .lost = 5,
		  .decision = REVIEW, .reasons = { R(IDENTITY_MISMATCH) }, .balance = 7 },
		{ .name = "same identity after folding", .reg_surname = "Mart\u00EDn",
		  .reg_given = "CLAIRE-MARIE", .sheet_given = "claire \u00E9lise", .lost = 5,
		  .decision = CREDITED, .points = 4, .balance = 11 },
		/* §1 precedence: every failing code listed, the first category decides. */
		{ .name = "stage, attestation, pending and review all fail",
		  .first = "2026-11-14", .last = "2026-11-15", .late = 3, .participants = 4,
		  .reg_surname = "DUPONT", .ev = { { 'X', "2020-01-01", -2, "" } },
		  .decision = REJECTED,
		  .reasons = { R(STAGE_ON_SUNDAY), R(LATE_ARRIVAL), R(LICENCE_UNKNOWN),
			       R(GROUP_SIZE), R(IDENTITY_MISMATCH) },
		  .balance = LEDGER_NO_BALANCE },
		{ .name = "attestation check and review", .issued = "2026-11-15", .participants = 21,
		  .lost = 5,
		  .decision = REJECTED, .reasons = { R(ISSUED_DATE_MISMATCH), R(GROUP_SIZE) },
		  .balance = 7 },
		{ .name = "pending before review", .no_licence = true, .pm_start = "12:30",
		  .pm_end = "16:00", .sheet_surname = "DURAND",
		  .decision = PENDING,
		  .reasons = { R(LICENCE_UNKNOWN), R(LUNCH_BREAK_TOO_SHORT), R(IDENTITY_MISMATCH) },
		  .balance = 12 },
		{ .name = "review before the points rules", .participants = 5, .stage_case = 3,
		  .decision = REVIEW, .reasons = { R(GROUP_SIZE) }, .balance = 12 },
		{ .name = "no sheet, whatever else", .no_sheet = true, .issued = "2026-11-13",
		  .no_licence = true, .stage_case = 3,
		  .decision = PENDING, .reasons = { R(AWAITING_SIGNIN_SHEET) }, .balance = 12 },
		/* §5.2 the 48N window and order. */
		{ .name = "48N: window ends on the last day", .stage_case = 2,
		  .letter = "2026-07-14", .lost = 5, .decision = CREDITED, .points = 4,
		  .flags = { R(MANDATORY_STAGE_COMPLETED) }, .balance = 11 },
		{ .name = "48N: window ended the day before", .stage_case = 2,
		  .letter = "2026-07-13", .lost = 5, .decision = CREDITED, .points = 4,
		  .flags = { R(LETTER_48N_WINDOW_EXCEEDED) }, .balance = 11 },
		{ .name = "48N received on the first day", .stage_case = 2, .letter = "2026-11-13",
		  .lost = 5, .decision = CREDITED, .points = 4,
		  .flags = { R(MANDATORY_STAGE_COMPLETED) }, .balance = 11 },
		{ .name = "48N received on the last day", .stage_case = 2, .letter = "2026-11-14",
		  .lost = 5, .decision = CREDITED, .points = 4,
		  .reasons = { R(STAGE_BEFORE_LETTER_48N) }, .balance = 11 },
		{ .name = "48N window ending on Feb 29", .stage_case = 2, .letter = "2023-10-31",
		  .first = "2024-02-28", .last = "2024-02-29", .lost = 5, .decision = CREDITED,
		  .points = 4, .flags = { R(MANDATORY_STAGE_COMPLETED) }, .balance = 11 },
		{ .name = "48N window ended Feb 29", .stage_case = 2, .letter = "2023-10-31",
		  .first = "2024-02-29", .last = "2024-03-01", .lost = 5, .decision = CREDITED,
		  .points = 4, .flags = { R(LETTER_48N_WINDOW_EXCEEDED) }, .balance = 11 },
		{ .name = "case 2 without its letter", .stage_case = 2, .lost = 5,
		  .decision = CREDITED, .points = 4, .reasons = { R(LETTER_48N_MISSING) },
		  .balance = 11 },
		{ .name = "case 2 within the window but at the ceiling", .stage_case = 2,
		  .letter = "2026-09-30", .decision = NO_CREDIT,
		  .reasons = { R(NO_POINTS_LOST) }, .flags = { R(MANDATORY_STAGE_COMPLETED) },
		  .balance = 12 },
		/* §5.3 cancellation and invalidation on F and after. */
		{ .name = "cancelled on F", .status = LICENCE_CANCELLED, .status_date = "2026-11-13",
		  .lost = 5, .decision = NO_CREDIT, .reasons = { R(LICENCE_CANCELLED) }, .balance = 7 },
		{ .name = "cancelled the day after F", .status = LICENCE_CANCELLED,
		  .status_date = "2026-11-14", .lost = 5,
		  .decision = CREDITED, .points = 4, .balance = 11 },
		{ .name = "48SI on F", .status = LICENCE_INVALIDATED, .status_date = "2026-11-13",
		  .lost = 12, .decision = NO_CREDIT, .reasons = { R(LICENCE_INVALIDATED) },
		  .balance = 0 },
		{ .name = "48SI the day after F", .status = LICENCE_INVALIDATED,
		  .status_date = "2026-11-14", .lost = 12,
		  .decision = CREDITED, .points = 4, .flags = { R(INVALIDATION_TO_REVIEW) },
		  .balance = 4 },
		{ .name = "48SI after F, still 0 later even with the credit",
		  .ev = { { 'G', "2010-01-01", 12, "" }, { 'X', "2026-03-01", -9, "" },
			  { 'X', "2026-12-01", -8, "" } },
		  .status = LICENCE_INVALIDATED, .status_date = "2026-12-20",
		  .decision = CREDITED, .points = 4, .balance_on = "2026-12-02", .balance = 0 },
		{ .name = "suspended: no obstacle", .status = LICENCE_SUSPENDED,
		  .status_date = "2026-10-01", .lost = 5,
		  .decision = CREDITED, .points = 4, .balance = 11 },
		/* §5.4 once a year, date to date. */
		{ .name = "F = P + 1 year + 1 day", .credited_last = "2025-11-12", .lost = 5,
		  .decision = CREDITED, .points = 4, .balance = 11 },
		{ .name = "F = P + 1 year", .credited_last = "2025-11-13", .lost = 5,
		  .decision = NO_CREDIT, .reasons = { R(WITHIN_ONE_YEAR) }, .balance = 7 },
		{ .name = "P = 2023-02-28: F = 2024-02-29 allowed", .credited_last = "2023-02-28",
		  .first = "2024-02-29", .last = "2024-03-01", .lost = 5,
		  .decision = CREDITED, .points = 4, .balance = 11 },
		{ .name = "P = 2023-02-28: F = 2024-02-28 too early", .credited_last = "2023-02-28",
		  .first = "2024-02-28", .last = "2024-02-29", .lost = 5,
		  .decision = NO_CREDIT, .reasons = { R(WITHIN_ONE_YEAR) }, .balance = 7 },
		{ .name = "a later credited stage within a year counts", .credited_last = "2026-12-20",
		  .lost = 5, .decision = NO_CREDIT, .reasons = { R(WITHIN_ONE_YEAR) }, .balance = 7 },
		{ .name = "the same stage credited already counts", .credited_last = "2026-11-14",
		  .lost = 5, .decision = NO_CREDIT, .reasons = { R(WITHIN_ONE_YEAR) }, .balance = 7 },
		{ .name = "P = L + 1 year + 1 day later: allowed", .credited_last = "2027-11-16",
		  .lost = 5, .decision = CREDITED, .points = 4, .balance = 11 },
		{ .name = "later stage begins L + 1 year: too close", .credited_last = "2027-11-15",
		  .lost = 5, .decision = NO_CREDIT, .reasons = { R(WITHIN_ONE_YEAR) }, .balance = 7 },
		{ .name = "registry stage_credit capped to nothing still counts",
		  .ev = { { 'G', "2010-01-01", 12, "" }, { 'S', "2026-03-01", 4, "2026-02-27" },
			  { 'X', "2026-06-01", -5, "" } },
		  .decision = NO_CREDIT, .reasons = { R(WITHIN_ONE_YEAR) }, .balance = 7 },
		/* §5.5 and §6 at E. */
		{ .name = "probation ends on E: ceiling 12",
		  .probation_end = "2026-11-15", .ev = { { 'G', "2024-11-15", 6, "" } },
		  .decision = CREDITED, .points = 4, .balance = 10 },
		{ .name = "probation ends the day after E: ceiling 6",
		  .probation_end = "2026-11-16", .ev = { { 'G', "2024-11-15", 6, "" } },
		  .decision = NO_CREDIT, .reasons = { R(NO_POINTS_LOST) }, .balance = 6 },
		{ .name = "retrait on the last day comes before the credit",
		  .ev = { { 'G', "2010-01-01", 12, "" }, { 'X', "2026-11-14", -4, "" } },
		  .decision = CREDITED, .points = 4, .balance = 12 },
		{ .name = "retrait on E comes after the credit",
		  .ev = { { 'G', "2010-01-01", 12, "" }, { 'X', "2026-11-15", -4, "" } },
		  .decision = NO_CREDIT, .reasons = { R(NO_POINTS_LOST) }, .balance = 8 },
		{ .name = "increment on E counts in the ceiling", .probation_end = "2028-06-01",
		  .ev = { { 'G', "2024-06-01", 6, "" }, { 'I', "2026-11-15", 2, "" } },
		  .decision = CREDITED, .points = 2, .balance = 8 },
		/* §7 time limits. */
		{ .name = "received L + 15", .received = "2026-11-29", .lost = 5,
		  .decision = CREDITED, .points = 4, .balance = 11 },
		{ .name = "received L + 16", .received = "2026-11-30", .lost = 5,
		  .decision = CREDITED, .points = 4, .flags = { R(LATE_TRANSMISSION) },
		  .balance = 11 },
		{ .name = "L + 15 across Feb 29", .first = "2024-02-16", .last = "2024-02-17",
		  .received = "2024-03-03", .lost = 5,
		  .decision = CREDITED, .points = 4, .balance = 11 },
		{ .name = "L + 16 across Feb 29", .first = "2024-02-16", .last = "2024-02-17",
		  .received = "2024-03-04", .lost = 5,
		  .decision = CREDITED, .points = 4, .flags = { R(LATE_TRANSMISSION) }, .balance = 11 },
		{ .name = "decided on the deadline", .received = "2026-11-16", .today = "2026-12-16",
		  .lost = 5, .decision = CREDITED, .points = 4, .near = 'n', .balance = 11 },
		{ .name = "decided the day after the deadline", .received = "2026-11-16",
		  .today = "2026-12-17", .lost = 5, .decision = CREDITED, .points = 4,
		  .flags = { R(REGISTRATION_OVERDUE) }, .balance = 11 },
		{ .name = "review 8 days before the deadline", .participants = 5,
		  .received = "2026-11-16", .today = "2026-12-08", .lost = 5, .decision = REVIEW,
		  .reasons = { R(GROUP_SIZE) }, .near = 'n', .balance = 7 },
		{ .name = "review 7 days before the deadline", .participants = 5,
		  .received = "2026-11-16", .today = "2026-12-09", .lost = 5, .decision = REVIEW,
		  .reasons = { R(GROUP_SIZE) }, .near = 'y', .balance = 7 },
		{ .name = "review past the deadline", .participants = 5,
		  .received = "2026-11-16", .today = "2026-12-17", .lost = 5, .decision = REVIEW,
		  .reasons = { R(GROUP_SIZE) }, .flags = { R(REGISTRATION_OVERDUE) }, .near = 'n',
		  .balance = 7 },
		{ .name = "received 2024-01-31: pending on 2024-02-29", .no_sheet = true,
		  .first = "2024-01-19", .last = "2024-01-20", .received = "2024-01-31",
		  .today = "2024-02-29", .decision = PENDING,
		  .reasons = { R(AWAITING_SIGNIN_SHEET) }, .deadline = "2024-02-29", .near = 'y',
		  .balance = 12 },
		{ .name = "received 2024-01-31: overdue on 2024-03-01", .no_sheet = true,
		  .first = "2024-01-19", .last = "2024-01-20", .received = "2024-01-31",
		  .today = "2024-03-01", .decision = PENDING,
		  .reasons = { R(AWAITING_SIGNIN_SHEET) }, .flags = { R(REGISTRATION_OVERDUE) },
		  .deadline = "2024-02-29", .near = 'n', .balance = 12 },
		{ .name = "late, overdue and 48N at once", .stage_case = 2, .letter = "2026-09-30",
		  .received = "2026-12-01", .today = "2027-01-05", .lost = 5,
		  .decision = CREDITED, .points = 4,
		  .flags = { R(LATE_TRANSMISSION), R(REGISTRATION_OVERDUE),
			     R(MANDATORY_STAGE_COMPLETED) },
		  .balance = 11 },
	};
	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++)
		rules_boundaries_case(&rows[k]);
}

/* --- an operator's accept: the review checks cleared, the points rules decide --- */

/* One case of rules::review_accepted (issue 12: the cases share one process). */
static void rules_review_accepted_case(struct case_row *row)
{
	run_case(row);
}

Test(rules, review_accepted)
{
	static struct case_row rows[] = {
		{ .name = "identity mismatch accepted: credited", .reg_surname = "MARTINEZ",
		  .lost = 5, .review_cleared = true,
		  .decision = CREDITED, .points = 4, .balance = 11 },
		{ .name = "identity mismatch with the sheet accepted", .sheet_given = "Clara",
		  .sheet_birth = "1991-04-12", .lost = 1, .review_cleared = true,
		  .decision = CREDITED, .points = 1, .balance = 12 },
		{ .name = "group size accepted: the points rules still say no points",
		  .participants = 21, .review_cleared = true,
		  .decision = NO_CREDIT, .reasons = { R(NO_POINTS_LOST) }, .balance = 12 },
		{ .name = "lunch break accepted on a judicial stage", .pm_start = "12:30",
		  .pm_end = "16:00", .stage_case = 3, .lost = 5, .review_cleared = true,
		  .decision = NO_CREDIT, .reasons = { R(CASE_NO_POINTS) }, .balance = 7 },
		{ .name = "group size and identity accepted, within one year", .participants = 5,
		  .reg_birth = "1990-04-13", .lost = 5, .credited_last = "2026-03-01",
		  .review_cleared = true,
		  .decision = NO_CREDIT, .reasons = { R(WITHIN_ONE_YEAR) }, .balance = 7 },
		{ .name = "accepted past the deadline: overdue flag", .participants = 5,
		  .received = "2026-11-16", .today = "2026-12-17", .lost = 5, .review_cleared = true,
		  .decision = CREDITED, .points = 4, .flags = { R(REGISTRATION_OVERDUE) },
		  .near = 'n', .balance = 11 },
		/* Clearing the review checks lifts nothing else. */
		{ .name = "accepted, but a rejecting check", .participants = 21, .late = 1,
		  .lost = 5, .review_cleared = true,
		  .decision = REJECTED, .reasons = { R(LATE_ARRIVAL) }, .balance = 7 },
		{ .name = "accepted, but the licence unknown", .no_licence = true,
		  .sheet_surname = "DURAND", .review_cleared = true,
		  .decision = PENDING, .reasons = { R(LICENCE_UNKNOWN) }, .balance = 12 },
		{ .name = "nothing to clear", .lost = 2, .review_cleared = true,
		  .decision = CREDITED, .points = 2, .balance = 12 },
	};
	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++)
		rules_review_accepted_case(&rows[k]);
}

/* --- the registration deadline from the end of a month ------------------------ */

struct deadline_row {
	char received[11];
	char deadline[11];
};

/* One case of rules::registration_deadline (issue 12: the cases share one process). */
static void rules_registration_deadline_case(struct deadline_row *row)
{
	cr_expect_eq(rules_registration_deadline(D(row->received)), D(row->deadline), "%s",
		     row->received);
}

Test(rules, registration_deadline)
{
	static struct deadline_row rows[] = {
		{ "2025-01-27", "2025-02-27" }, { "2025-01-28", "2025-02-28" },
		{ "2025-01-29", "2025-02-28" }, { "2025-01-30", "2025-02-28" },
		{ "2025-01-31", "2025-02-28" }, { "2024-01-28", "2024-02-28" },
		{ "2024-01-29", "2024-02-29" }, { "2024-01-30", "2024-02-29" },
		{ "2024-01-31", "2024-02-29" }, { "2024-02-29", "2024-03-29" },
		{ "2026-03-31", "2026-04-30" }, { "2026-03-30", "2026-04-30" },
		{ "2026-05-31", "2026-06-30" }, { "2026-08-31", "2026-09-30" },
		{ "2026-10-31", "2026-11-30" }, { "2026-11-30", "2026-12-30" },
		{ "2026-12-31", "2027-01-31" }, { "2026-11-16", "2026-12-16" },
	};
	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++)
		rules_registration_deadline_case(&rows[k]);
}

Test(rules, near_deadline)
{
	date_t dl = D("2026-12-16");
	cr_expect(!rules_near_deadline(dl, D("2026-12-08")));
	cr_expect(rules_near_deadline(dl, D("2026-12-09")));
	cr_expect(rules_near_deadline(dl, dl));
	cr_expect(!rules_near_deadline(dl, D("2026-12-17")));
	cr_expect(!rules_near_deadline(DATE_NONE, dl));
}

/* --- the stage findings on their own (the sign-in sheet's receipt) ------------ */

Test(rules, stage_findings_in_order)
{
	static struct fixture fx;
	struct case_row row = { .name = "many", .pm_start = "12:30", .pm_end = "15:59",
				.participants = 3, .facilitators = FAC_PSY_UNREGISTERED };
	memset(&fx, 0, sizeof(fx));
	fx.att.kind = DOC_ATTESTATIONS;
	snprintf(fx.att.stage.departement, sizeof(fx.att.stage.departement), "67");
	fx.att.stage.first_day = D("2025-12-25");
	fx.att.stage.last_day = D("2025-12-26");
	set_person(&fx.attestation.trainee, TRAINEE_LICENCE, "MARTIN", "Claire", "1990-04-12");
	build_sheet(&fx, &row);

	/* Without the attestations: no stage_mismatch yet. */
	struct rules_reasons r;
	cr_assert_eq(rules_check_stage(&fx.sheet, NULL, fx.reg, fx.n_reg, &r), REASON_OK);
	enum reason want[] = { R(STAGE_ON_PUBLIC_HOLIDAY), R(STAGE_TOO_SHORT),
			       R(FACILITATOR_INVALID), R(GROUP_SIZE), R(LUNCH_BREAK_TOO_SHORT) };
	cr_assert_eq(r.n, 5);
	for (size_t i = 0; i < 5; i++)
		cr_expect_eq(r.codes[i], want[i], "finding %zu: %s", i, reason_code(r.codes[i]));
	cr_expect(rules_finding_is_review(R(GROUP_SIZE)));
	cr_expect(rules_finding_is_review(R(LUNCH_BREAK_TOO_SHORT)));
	cr_expect(!rules_finding_is_review(R(STAGE_TOO_SHORT)));

	/* Attestations that give other days: their days are checked too. */
	fx.att.stage.first_day = D("2025-12-27");
	fx.att.stage.last_day = D("2025-12-28");
	cr_assert_eq(rules_check_stage(&fx.sheet, &fx.att, fx.reg, fx.n_reg, &r), REASON_OK);
	cr_expect(rules_reasons_has(&r, R(STAGE_ON_SUNDAY)));
	cr_expect(rules_reasons_has(&r, R(STAGE_MISMATCH)));
	cr_expect_eq(r.codes[0], R(STAGE_ON_SUNDAY));
	cr_expect_eq(r.codes[1], R(STAGE_ON_PUBLIC_HOLIDAY));

	/* Misuse is an internal error, not a decision. */
	cr_expect_eq(rules_check_stage(NULL, NULL, NULL, 0, &r), REASON_INTERNAL_ERROR);
	cr_expect_eq(rules_check_stage(&fx.att, NULL, NULL, 0, &r), REASON_INTERNAL_ERROR);
	cr_expect_eq(rules_check_stage(&fx.sheet, &fx.sheet, NULL, 0, &r), REASON_INTERNAL_ERROR);
	free(fx.sheet.sheet.participants);
}

/* Several attestations of one stage share its findings, each decided alone;
 * the decision found without stage_mismatch in the findings still sees it. */
Test(rules, decide_by_index_and_misuse)
{
	static struct fixture fx;
	struct case_row row = { .name = "multi" };
	memset(&fx, 0, sizeof(fx));
	struct doc_attestation atts[2];
	memset(atts, 0, sizeof(atts));
	fx.att.kind = DOC_ATTESTATIONS;
	snprintf(fx.att.stage.departement, sizeof(fx.att.stage.departement), "28");
	fx.att.stage.first_day = D("2026-11-13");
	fx.att.stage.last_day = D("2026-11-14");
	set_person(&fx.attestation.trainee, TRAINEE_LICENCE, "MARTIN", "Claire", "1990-04-12");
	build_sheet(&fx, &row);
	for (int i = 0; i < 2; i++) {
		atts[i].stage_case = 1;
		atts[i].issued = fx.att.stage.last_day;
	}
	set_person(&atts[0].trainee, "P00000000005", "PARTICIPANT", "Dominique", "1980-01-01");
	set_person(&atts[1].trainee, "P00000000099", "PARTICIPANT", "Dominique", "1980-01-01");
	fx.att.attestations = atts;
	fx.att.n_attestations = 2;
	struct ledger_event grant = { D("2010-01-01"), LEDGER_GRANT, 12, DATE_NONE, "g" };
	struct rules_licence lic = { .surname = "Participant", .given_names = "Dominique",
				     .birth_date = D("1980-01-01"),
				     .ledger = { DATE_NONE, LICENCE_VALID, DATE_NONE },
				     .events = &grant, .n_events = 1 };
	struct rules_context ctx = { .received = D("2026-11-16"), .today = D("2026-11-16") };
	struct rules_reasons findings;
	cr_assert_eq(rules_check_stage(&fx.sheet, NULL, fx.reg, fx.n_reg, &findings), REASON_OK);
	cr_assert_eq(findings.n, 0);
	struct rules_outcome o;
	cr_assert_eq(rules_decide(&fx.att, 0, &fx.sheet, &findings, &lic, &ctx, &o), REASON_OK);
	cr_expect_eq(o.decision, RULES_NO_CREDIT);
	cr_assert_eq(rules_decide(&fx.att, 1, &fx.sheet, &findings, &lic, &ctx, &o), REASON_OK);
	cr_expect_eq(o.decision, RULES_REJECTED);
	cr_expect_eq(o.reasons.codes[0], R(NOT_ON_SIGNIN_SHEET));

	fx.sheet.stage.last_day = D("2026-11-15");
	cr_assert_eq(rules_decide(&fx.att, 0, &fx.sheet, &findings, &lic, &ctx, &o), REASON_OK);
	cr_expect_eq(o.decision, RULES_REJECTED);
	cr_expect(rules_reasons_has(&o.reasons, R(STAGE_MISMATCH)));

	cr_expect_eq(rules_decide(&fx.att, 2, &fx.sheet, &findings, &lic, &ctx, &o),
		     REASON_INTERNAL_ERROR);
	cr_expect_eq(rules_decide(&fx.att, 0, &fx.sheet, NULL, &lic, &ctx, &o),
		     REASON_INTERNAL_ERROR);
	cr_expect_eq(rules_decide(&fx.sheet, 0, NULL, NULL, &lic, &ctx, &o), REASON_INTERNAL_ERROR);
	cr_expect_eq(rules_decide(&fx.att, 0, NULL, NULL, &lic, NULL, &o), REASON_INTERNAL_ERROR);
	free(fx.sheet.sheet.participants);
}

Test(rules, names_and_refs)
{
	cr_expect_str_eq(rules_decision_name(RULES_CREDITED), "credited");
	cr_expect_str_eq(rules_decision_name(RULES_NO_CREDIT), "no_credit");
	cr_expect_str_eq(rules_decision_name(RULES_REJECTED), "rejected");
	cr_expect_str_eq(rules_decision_name(RULES_PENDING), "pending");
	cr_expect_str_eq(rules_decision_name(RULES_REVIEW), "review");
	char ref[RULES_REF_SIZE];
	rules_credit_ref("R2402800010", "CH-2026-1113-01", ref);
	cr_expect_str_eq(ref, "stage:R2402800010:CH-2026-1113-01");
}

/* --- §5.4 as a property: whatever the order of arrival --------------------- */

struct one_year_rng {
	uint64_t s;
};

static int one_year_rand(struct one_year_rng *r, int lo, int hi)	/* inclusive */
{
	/* xorshift64 (Marsaglia), fixed seed: a failure is reproducible */
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return lo + (int)(r->s % (uint64_t)(hi - lo + 1));
}

/* Decides a stage first..first+1 for a licence holding the credits given
 * (this daemon's credited last days, and registry-style stage_credit
 * events), with points to gain; returns the decision. */
static struct rules_outcome decide_stage_of(struct fixture *f, date_t first,
					    const date_t *credited, size_t n_credited,
					    const struct ledger_event *credits, size_t n_events)
{
	struct case_row row = { .name = "one-year property", .lost = 8, .skip_stage_checks = true };
	date_format(first, row.first);
	date_format(date_add_days(first, 1), row.last);
	setup_case(f, &row);
	/* grant and retrait from setup_case, then the credits */
	for (size_t i = 0; i < n_events && f->lic.n_events < 8; i++)
		f->ev[f->lic.n_events++] = credits[i];
	f->lic.credited_last_days = credited;
	f->lic.n_credited = n_credited;
	cr_assert_eq(rules_check_stage(&f->sheet, &f->att, f->reg, f->n_reg, &f->findings), REASON_OK);
	f->findings.n = 0;	/* the days may be a Sunday or a holiday: not the point here */
	cr_assert_eq(rules_decide(&f->att, 0, &f->sheet, &f->findings, &f->lic, &f->ctx, &f->out),
		     REASON_OK);
	struct rules_outcome o = f->out;
	free(f->sheet.sheet.participants);
	return o;
}

/*
 * Two stages of one licence, A then B in time, B beginning d days after A
 * ended; they arrive in either order, and the first decided is known to the
 * second either as this daemon's credit or as a registry stage_credit.
 * Less than a year and a day apart: exactly one is credited, the other is
 * no_credit within_one_year naming it.  Further apart: both are credited.
 */
Test(rules_properties, once_a_year_either_order)
{
	static struct fixture fx;
	struct one_year_rng rng = { 0x9e3779b97f4a7c15ULL };
	int both = 0, one = 0;
	for (int k = 0; k < 3000; k++) {
		date_t a_first = D("2024-01-01") + one_year_rand(&rng, 0, 1500);
		date_t a_last = date_add_days(a_first, 1);
		int gap = one_year_rand(&rng, 0, 4) == 0 ? one_year_rand(&rng, 360, 372)
							 : one_year_rand(&rng, 0, 800);
		date_t b_first = date_add_days(a_last, gap);
		bool b_first_decided = one_year_rand(&rng, 0, 1);
		bool as_registry = one_year_rand(&rng, 0, 1);
		date_t firsts[2] = { b_first_decided ? b_first : a_first,
				     b_first_decided ? a_first : b_first };
		date_t lasts[2] = { date_add_days(firsts[0], 1), date_add_days(firsts[1], 1) };

		struct rules_outcome o1 = decide_stage_of(&fx, firsts[0], NULL, 0, NULL, 0);
		cr_assert_eq(o1.decision, RULES_CREDITED, "first decided, nothing before it");
		date_t credited[1] = { lasts[0] };
		struct ledger_event ev = o1.credit;
		ev.ref = "first-stage";
		struct rules_outcome o2 = as_registry
			? decide_stage_of(&fx, firsts[1], NULL, 0, &ev, 1)
			: decide_stage_of(&fx, firsts[1], credited, 1, NULL, 0);

		bool apart = b_first >= date_add_days(date_add_years(a_last, 1), 1);
		char a[11], b[11];
		date_format(a_first, a);
		date_format(b_first, b);
		if (apart) {
			cr_expect_eq(o2.decision, RULES_CREDITED, "A %s, B %s, %s first, %s: both credit",
				     a, b, b_first_decided ? "B" : "A", as_registry ? "registry" : "daemon");
			both++;
		} else {
			cr_expect_eq(o2.decision, RULES_NO_CREDIT, "A %s, B %s, %s first, %s: one credit",
				     a, b, b_first_decided ? "B" : "A", as_registry ? "registry" : "daemon");
			cr_expect(rules_reasons_has(&o2.reasons, REASON_WITHIN_ONE_YEAR));
			cr_expect_eq(o2.previous_credit_last_day, lasts[0]);
			one++;
		}
	}
	cr_expect(both > 100 && one > 100, "both sides of the boundary drawn: %d %d", both, one);
}

