/*
 * rules - the regulation as code (rules.md).  Each check is a few lines
 * named after its paragraph; the order of the checks is the order of the
 * reasons on the receipt, and the decision is the first category that
 * applies (§1): a rejecting stage check, a rejecting attestation check,
 * pending, review, then the points rules of §5.
 *
 * Choices where the text leaves room (each also in the tests):
 * - "morning ends before afternoon starts" is strict: a morning ending at
 *   the minute the afternoon starts has no lunch at all, so stage_too_short;
 * - b of §5.5 is the balance a credit effective on E meets in the §6 replay
 *   (events of earlier days and E's grants), so the points granted are
 *   exactly those the replay then adds: a retrait effective on E itself
 *   comes after the credit;
 * - a licence whose registry record is incomplete for its own decision (no
 *   grant on or before E, or invalidated/cancelled with no notification
 *   date) is pending, licence_unknown, until the registry completes it: an
 *   unknown date must not cost the driver the points.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "rules.h"
#include "xmalloc.h"

static void rules_add(struct rules_reasons *r, enum reason code)
{
	if (rules_reasons_has(r, code))
		return;
	/* The array holds more than every distinct code a decision can get. */
	if (r->n < RULES_MAX_REASONS)
		r->codes[r->n++] = code;
}

bool rules_reasons_has(const struct rules_reasons *r, enum reason code)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->codes[i] == code)
			return true;
	return false;
}

bool rules_finding_is_review(enum reason code)
{
	return code == REASON_GROUP_SIZE || code == REASON_LUNCH_BREAK_TOO_SHORT;
}

const char *rules_decision_name(enum rules_decision d)
{
	switch (d) {
	case RULES_CREDITED: return "credited";
	case RULES_NO_CREDIT: return "no_credit";
	case RULES_REJECTED: return "rejected";
	case RULES_PENDING: return "pending";
	case RULES_REVIEW: return "review";
	}
	return "?";
}

date_t rules_registration_deadline(date_t received)
{
	return date_add_months(received, 1);
}

bool rules_near_deadline(date_t deadline, date_t today)
{
	return deadline != DATE_NONE && today != DATE_NONE && today <= deadline &&
	       deadline - today <= RULES_NEAR_DEADLINE_DAYS;
}

void rules_credit_ref(const char *approval, const char *number, char buf[static RULES_REF_SIZE])
{
	snprintf(buf, RULES_REF_SIZE, "stage:%.*s:%.*s", DOC_APPROVAL_SIZE - 1, approval,
		 DOC_NUMBER_SIZE - 1, number);
}

/* --- §3 stage checks ----------------------------------------------------- */

static bool rules_same_stage(const struct doc_stage *a, const struct doc_stage *b)
{
	return a->first_day == b->first_day && a->last_day == b->last_day &&
	       strcmp(a->departement, b->departement) == 0;
}

static bool rules_days_not_consecutive(const struct doc_stage *s)
{
	return s->first_day == DATE_NONE || s->last_day != date_add_days(s->first_day, 1);
}

static bool rules_on_sunday(const struct doc_stage *s)
{
	return date_weekday(s->first_day) == 6 || date_weekday(s->last_day) == 6;
}

static bool rules_on_holiday(const struct doc_stage *s)
{
	return date_is_public_holiday(s->first_day, s->departement) ||
	       date_is_public_holiday(s->last_day, s->departement);
}

/* Four sessions on the right days, the morning over before the afternoon
 * starts, and at least 7 h on each day. */
static bool rules_too_short(const struct doc_stage *stage, const struct doc_signin_sheet *sh)
{
	const struct doc_session_times *s = sh->sessions;
	if (s[SESSION_1AM].date != stage->first_day || s[SESSION_1PM].date != stage->first_day ||
	    s[SESSION_2AM].date != stage->last_day || s[SESSION_2PM].date != stage->last_day)
		return true;
	for (int i = 0; i < SESSION_COUNT; i++)
		if (s[i].start >= s[i].end)
			return true;
	for (int am = SESSION_1AM; am <= SESSION_2AM; am += 2) {
		const struct doc_session_times *m = &s[am], *a = &s[am + 1];
		if (m->end >= a->start)
			return true;
		if ((m->end - m->start) + (a->end - a->start) < RULES_MIN_DAY_MINUTES)
			return true;
	}
	return false;
}

static bool rules_lunch_too_short(const struct doc_signin_sheet *sh)
{
	const struct doc_session_times *s = sh->sessions;
	return s[SESSION_1PM].start - s[SESSION_1AM].end < RULES_MIN_LUNCH_MINUTES ||
	       s[SESSION_2PM].start - s[SESSION_2AM].end < RULES_MIN_LUNCH_MINUTES;
}

static bool rules_registered_on(const struct doc_facilitator *f, date_t day,
				const struct rules_facilitator *registry, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct rules_facilitator *r = &registry[i];
		if (r->authorisation != NULL && strcmp(r->authorisation, f->authorisation) == 0 &&
		    r->role == f->role && (r->valid_from == DATE_NONE || r->valid_from <= day) &&
		    (r->valid_to == DATE_NONE || day <= r->valid_to))
			return true;
	}
	return false;
}

static bool rules_facilitators_invalid(const struct doc_stage *stage,
				       const struct doc_signin_sheet *sh,
				       const struct rules_facilitator *registry, size_t n)
{
	const struct doc_facilitator *a = &sh->facilitators[0], *b = &sh->facilitators[1];
	bool one_of_each = (a->role == ROLE_PSYCHOLOGIST && b->role == ROLE_ROAD_SAFETY_EXPERT) ||
			   (a->role == ROLE_ROAD_SAFETY_EXPERT && b->role == ROLE_PSYCHOLOGIST);
	if (!one_of_each || strcmp(a->authorisation, b->authorisation) == 0)
		return true;
	for (int i = 0; i < 2; i++) {
		const struct doc_facilitator *f = &sh->facilitators[i];
		if (!rules_registered_on(f, stage->first_day, registry, n) ||
		    !rules_registered_on(f, stage->last_day, registry, n))
			return true;
	}
	return false;
}

static bool rules_signed_any(const struct doc_participant *p)
{
	for (int s = 0; s < SESSION_COUNT; s++)
		if (p->presence[s].present && p->presence[s].signed_in)
			return true;
	return false;
}

static bool rules_group_size_wrong(const struct doc_signin_sheet *sh)
{
	size_t signed_in = 0;
	for (size_t i = 0; i < sh->n_participants; i++)
		signed_in += rules_signed_any(&sh->participants[i]);
	return signed_in < RULES_MIN_GROUP || signed_in > RULES_MAX_GROUP;
}

enum reason rules_check_stage(const struct document *sheet, const struct document *attestations,
			      const struct rules_facilitator *registry, size_t n_registry,
			      struct rules_reasons *findings)
{
	if (sheet == NULL || sheet->kind != DOC_SIGNIN_SHEET || findings == NULL ||
	    (attestations != NULL && attestations->kind != DOC_ATTESTATIONS) ||
	    (registry == NULL && n_registry > 0) ||
	    (sheet->sheet.participants == NULL && sheet->sheet.n_participants > 0))
		return REASON_INTERNAL_ERROR;
	findings->n = 0;

	/* The days are checked on both documents' stage data: when they
	 * disagree, neither is taken on trust. */
	const struct doc_stage *stages[2] = { &sheet->stage, NULL };
	size_t n_stages = 1;
	bool mismatch = attestations != NULL && !rules_same_stage(&sheet->stage, &attestations->stage);
	if (mismatch)
		stages[n_stages++] = &attestations->stage;
	for (size_t i = 0; i < n_stages; i++)
		if (rules_days_not_consecutive(stages[i]))
			rules_add(findings, REASON_STAGE_DAYS_NOT_CONSECUTIVE);
	for (size_t i = 0; i < n_stages; i++)
		if (rules_on_sunday(stages[i]))
			rules_add(findings, REASON_STAGE_ON_SUNDAY);
	for (size_t i = 0; i < n_stages; i++)
		if (rules_on_holiday(stages[i]))
			rules_add(findings, REASON_STAGE_ON_PUBLIC_HOLIDAY);
	if (rules_too_short(&sheet->stage, &sheet->sheet))
		rules_add(findings, REASON_STAGE_TOO_SHORT);
	if (rules_facilitators_invalid(&sheet->stage, &sheet->sheet, registry, n_registry))
		rules_add(findings, REASON_FACILITATOR_INVALID);
	if (mismatch)
		rules_add(findings, REASON_STAGE_MISMATCH);
	if (rules_group_size_wrong(&sheet->sheet))
		rules_add(findings, REASON_GROUP_SIZE);
	if (rules_lunch_too_short(&sheet->sheet))
		rules_add(findings, REASON_LUNCH_BREAK_TOO_SHORT);
	return REASON_OK;
}

/* --- §4 attestation checks ------------------------------------------------ */

static const struct doc_participant *rules_find_participant(const struct doc_signin_sheet *sh,
							    const char *licence)
{
	for (size_t i = 0; i < sh->n_participants; i++)
		if (strcmp(sh->participants[i].person.licence, licence) == 0)
			return &sh->participants[i];
	return NULL;
}

static bool rules_attendance_incomplete(const struct doc_participant *p)
{
	for (int s = 0; s < SESSION_COUNT; s++)
		if (!p->presence[s].present || !p->presence[s].signed_in)
			return true;
	return false;
}

static bool rules_late(const struct doc_participant *p, const struct doc_signin_sheet *sh,
		       int tolerance_min)
{
	for (int s = 0; s < SESSION_COUNT; s++)
		if (p->presence[s].present &&
		    p->presence[s].arrived > sh->sessions[s].start + tolerance_min)
			return true;
	return false;
}

static bool rules_same_identity(const struct doc_person *a, const char *surname,
				const char *given_names, date_t birth_date)
{
	return a->birth_date == birth_date && names_same_surname(a->surname, surname) &&
	       names_same_first_given(a->given_names, given_names);
}

/* --- §5 points ------------------------------------------------------------ */

/* Whether a point-granting stage ending on other_last (and begun the day
 * before: a credited stage's days are consecutive, and a registry
 * stage_credit stands for such a stage) is less than one year, date to
 * date, from the stage first..last, in either direction (§5.4): the later
 * one must begin on or after the earlier one's last day + 1 year + 1 day. */
static bool rules_within_one_year(date_t first, date_t last, date_t other_last)
{
	if (other_last < first)
		return first < date_add_days(date_add_years(other_last, 1), 1);
	return date_add_days(other_last, -1) < date_add_days(date_add_years(last, 1), 1);
}

/* Keeps in *p the conflicting stage to name: the latest one that ended
 * before this stage began, else the earliest one after it. */
static void rules_conflict_keep(date_t first, date_t *p, date_t other_last)
{
	if (*p == DATE_NONE)
		*p = other_last;
	else if (other_last < first)
		*p = *p >= first || other_last > *p ? other_last : *p;
	else if (*p >= first && other_last < *p)
		*p = other_last;
}

/* The last day of a point-granting stage less than one year from this
 * one, before or after it (§5.4), from this daemon's credits and every
 * stage_credit event, or DATE_NONE.  Looking forward matters when an
 * earlier stage is decided after a later one was credited: the decision
 * already taken stands, and this one gives no points. */
static date_t rules_credit_conflict(const struct rules_licence *lic, date_t first, date_t last)
{
	date_t p = DATE_NONE;
	for (size_t i = 0; i < lic->n_credited; i++) {
		date_t other = lic->credited_last_days[i];
		if (other != DATE_NONE && rules_within_one_year(first, last, other))
			rules_conflict_keep(first, &p, other);
	}
	for (size_t i = 0; i < lic->n_events; i++) {
		const struct ledger_event *e = &lic->events[i];
		if (e->kind != LEDGER_STAGE_CREDIT || e->effective == DATE_NONE)
			continue;
		date_t other = date_add_days(e->effective, -1);
		if (other != DATE_NONE && rules_within_one_year(first, last, other))
			rules_conflict_keep(first, &p, other);
	}
	return p;
}

/* §5.6: with this credit, does the replayed balance stay above 0 from E on? */
static bool rules_invalidation_undone(const struct rules_licence *lic,
				      const struct ledger_event *credit)
{
	struct ledger_event *events = xreallocarray(NULL, lic->n_events + 1, sizeof(*events));
	struct ledger_timeline tl = { 0 };
	bool undone = true;

	if (lic->n_events)
		memcpy(events, lic->events, lic->n_events * sizeof(*events));
	events[lic->n_events] = *credit;
	ledger_replay(&lic->ledger, events, lic->n_events + 1, &tl);
	for (size_t i = 0; i < tl.n; i++)
		if (tl.steps[i].event->effective >= credit->effective &&
		    tl.steps[i].new_balance <= 0)
			undone = false;
	ledger_timeline_free(&tl);
	free(events);
	return undone;
}

static void rules_points(const struct doc_stage *stage, const struct doc_attestation *att,
			 const struct rules_licence *lic, int balance, struct rules_outcome *out)
{
	date_t first = stage->first_day, last = stage->last_day, e = out->effective;
	const struct ledger_licence *l = &lic->ledger;

	/* 1. Judicial stages never give points. */
	if (att->stage_case == 3 || att->stage_case == 4) {
		out->decision = RULES_NO_CREDIT;
		rules_add(&out->reasons, REASON_CASE_NO_POINTS);
		return;
	}
	/* 2. Case 2 counts as such only with its letter, after it, within 4 months. */
	if (att->stage_case == 2) {
		if (!att->has_letter_48n || att->letter_48n_received == DATE_NONE)
			rules_add(&out->reasons, REASON_LETTER_48N_MISSING);
		else if (first < att->letter_48n_received)
			rules_add(&out->reasons, REASON_STAGE_BEFORE_LETTER_48N);
		else if (last > date_add_months(att->letter_48n_received, 4))
			rules_add(&out->flags, REASON_LETTER_48N_WINDOW_EXCEEDED);
		else
			rules_add(&out->flags, REASON_MANDATORY_STAGE_COMPLETED);
	}
	/* 3. Cancellation or invalidation notified on or before F. */
	if (l->status == LICENCE_CANCELLED && l->status_date <= first) {
		out->decision = RULES_NO_CREDIT;
		rules_add(&out->reasons, REASON_LICENCE_CANCELLED);
		return;
	}
	if (l->status == LICENCE_INVALIDATED && l->status_date <= first) {
		out->decision = RULES_NO_CREDIT;
		rules_add(&out->reasons, REASON_LICENCE_INVALIDATED);
		return;
	}
	/* 4. Once a year, date to date, looking both ways. */
	out->previous_credit_last_day = rules_credit_conflict(lic, first, last);
	if (out->previous_credit_last_day != DATE_NONE) {
		out->decision = RULES_NO_CREDIT;
		rules_add(&out->reasons, REASON_WITHIN_ONE_YEAR);
		return;
	}
	/* 5. Balance and ceiling at E, without this stage. */
	int ceiling = ledger_ceiling_at(l, lic->events, lic->n_events, e);
	if (balance >= ceiling) {
		out->decision = RULES_NO_CREDIT;
		rules_add(&out->reasons, REASON_NO_POINTS_LOST);
		return;
	}
	out->decision = RULES_CREDITED;
	out->points = ceiling - balance < LEDGER_STAGE_POINTS ? ceiling - balance : LEDGER_STAGE_POINTS;
	out->has_credit = true;
	out->credit = (struct ledger_event){
		.effective = e,
		.kind = LEDGER_STAGE_CREDIT,
		.points = LEDGER_STAGE_POINTS,
		.stage_first_day = first,
		.ref = NULL,
	};
	/* 6. A 48SI notified after F that this credit makes baseless. */
	if (l->status == LICENCE_INVALIDATED && l->status_date > first &&
	    rules_invalidation_undone(lic, &out->credit))
		rules_add(&out->flags, REASON_INVALIDATION_TO_REVIEW);
}

/* --- the decision ---------------------------------------------------------- */

static int rules_cmp_reason(const void *a, const void *b)
{
	enum reason x = *(const enum reason *)a, y = *(const enum reason *)b;
	return (x > y) - (x < y);
}

/* The registry knows enough of the licence to decide with it; *balance is
 * what a credit effective on E would meet. */
static bool rules_licence_known(const struct rules_licence *lic, date_t e, int *balance)
{
	if (lic == NULL || (lic->events == NULL && lic->n_events > 0))
		return false;
	if ((lic->ledger.status == LICENCE_INVALIDATED || lic->ledger.status == LICENCE_CANCELLED) &&
	    lic->ledger.status_date == DATE_NONE)
		return false;
	return ledger_balance_before_stage_credit(&lic->ledger, lic->events, lic->n_events, e,
						  balance);
}

enum reason rules_decide(const struct document *attestations, size_t index,
			 const struct document *sheet, const struct rules_reasons *stage_findings,
			 const struct rules_licence *licence, const struct rules_context *ctx,
			 struct rules_outcome *out)
{
	if (attestations == NULL || attestations->kind != DOC_ATTESTATIONS ||
	    index >= attestations->n_attestations || attestations->attestations == NULL ||
	    ctx == NULL || out == NULL ||
	    (sheet != NULL && (sheet->kind != DOC_SIGNIN_SHEET || stage_findings == NULL ||
			       (sheet->sheet.participants == NULL && sheet->sheet.n_participants > 0))))
		return REASON_INTERNAL_ERROR;

	const struct doc_stage *stage = &attestations->stage;
	const struct doc_attestation *att = &attestations->attestations[index];
	memset(out, 0, sizeof(*out));
	out->effective = date_add_days(stage->last_day, 1);
	out->registration_deadline = rules_registration_deadline(ctx->received);
	out->previous_credit_last_day = DATE_NONE;
	out->credit.effective = DATE_NONE;
	out->credit.stage_first_day = DATE_NONE;

	if (sheet == NULL) {
		/* Nothing is decided before the sign-in sheet. */
		out->decision = RULES_PENDING;
		rules_add(&out->reasons, REASON_AWAITING_SIGNIN_SHEET);
		goto time_limits;
	}

	/* A rejecting stage check. */
	for (size_t i = 0; i < stage_findings->n; i++)
		if (!rules_finding_is_review(stage_findings->codes[i]))
			rules_add(&out->reasons, stage_findings->codes[i]);
	if (!rules_same_stage(stage, &sheet->stage))
		rules_add(&out->reasons, REASON_STAGE_MISMATCH);

	/* A rejecting attestation check. */
	if (att->issued != stage->last_day)
		rules_add(&out->reasons, REASON_ISSUED_DATE_MISMATCH);
	const struct doc_participant *p = rules_find_participant(&sheet->sheet, att->trainee.licence);
	if (p == NULL) {
		rules_add(&out->reasons, REASON_NOT_ON_SIGNIN_SHEET);
	} else {
		if (rules_attendance_incomplete(p))
			rules_add(&out->reasons, REASON_ATTENDANCE_INCOMPLETE);
		if (rules_late(p, &sheet->sheet, ctx->late_tolerance_min))
			rules_add(&out->reasons, REASON_LATE_ARRIVAL);
	}
	bool rejected = out->reasons.n > 0;

	/* Pending: the registry does not know the licence (well enough). */
	int balance = 0;
	bool known = rules_licence_known(licence, out->effective, &balance);
	if (!known)
		rules_add(&out->reasons, REASON_LICENCE_UNKNOWN);

	/* Review: the centre's conduct of the stage, the person's identity;
	 * an operator's accept has already weighed them. */
	size_t before_review = out->reasons.n;
	const struct doc_person *t = &att->trainee;
	if (!ctx->review_cleared) {
		for (size_t i = 0; i < stage_findings->n; i++)
			if (rules_finding_is_review(stage_findings->codes[i]))
				rules_add(&out->reasons, stage_findings->codes[i]);
		if ((p != NULL && !rules_same_identity(t, p->person.surname, p->person.given_names,
						       p->person.birth_date)) ||
		    (licence != NULL && !rules_same_identity(t, licence->surname, licence->given_names,
							     licence->birth_date)))
			rules_add(&out->reasons, REASON_IDENTITY_MISMATCH);
	}
	bool review = out->reasons.n > before_review;

	if (rejected)
		out->decision = RULES_REJECTED;
	else if (!known)
		out->decision = RULES_PENDING;
	else if (review)
		out->decision = RULES_REVIEW;
	else
		rules_points(stage, att, licence, balance, out);

time_limits:
	if (ctx->received != DATE_NONE &&
	    ctx->received > date_add_days(stage->last_day, RULES_LATE_TRANSMISSION_DAYS))
		rules_add(&out->flags, REASON_LATE_TRANSMISSION);
	if (out->registration_deadline != DATE_NONE && ctx->today != DATE_NONE &&
	    ctx->today > out->registration_deadline)
		rules_add(&out->flags, REASON_REGISTRATION_OVERDUE);
	out->near_deadline = (out->decision == RULES_PENDING || out->decision == RULES_REVIEW) &&
			     rules_near_deadline(out->registration_deadline, ctx->today);
	qsort(out->flags.codes, out->flags.n, sizeof(out->flags.codes[0]), rules_cmp_reason);
	return REASON_OK;
}
