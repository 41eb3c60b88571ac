/*
 * rules - the regulation of rules.md §3-§7 as pure functions: parsed
 * documents and registry snapshots in, decisions out; no I/O, no SQL, no
 * clock ("today" is a parameter).  Inputs are borrowed for the call; the
 * outputs are plain structs owned by the caller, with nothing to free.
 *
 * The pipeline asks two questions:
 *   rules_check_stage(): what does the stage itself fail (sign-in sheet,
 *     attestations file if received, facilitator registry)?  The findings go
 *     on the sheet's receipt and into every decision of the stage.
 *   rules_decide(): the decision of one attestation, given those findings.
 */
#ifndef ATTESTD_RULES_H
#define ATTESTD_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "date.h"
#include "document.h"
#include "ledger.h"
#include "reason.h"

#define RULES_MAX_REASONS	24	/* more than the distinct codes one decision can carry */
#define RULES_LATE_TRANSMISSION_DAYS	15
#define RULES_NEAR_DEADLINE_DAYS	7
#define RULES_MIN_DAY_MINUTES	(7 * 60)
#define RULES_MIN_LUNCH_MINUTES	45
#define RULES_MIN_GROUP	6
#define RULES_MAX_GROUP	20

enum rules_decision {
	RULES_CREDITED,
	RULES_NO_CREDIT,
	RULES_REJECTED,
	RULES_PENDING,
	RULES_REVIEW,
};

/* Codes in the order they were found, each at most once. */
struct rules_reasons {
	size_t n;
	enum reason codes[RULES_MAX_REASONS];
};

/* One record of the facilitator registry. */
struct rules_facilitator {
	const char *authorisation;
	enum doc_role role;
	date_t valid_from;		/* DATE_NONE: no start */
	date_t valid_to;		/* inclusive; DATE_NONE: open-ended */
};

/* The registry's view of one licence. */
struct rules_licence {
	const char *surname;
	const char *given_names;
	date_t birth_date;
	struct ledger_licence ledger;	/* probation_end, status, status_date */
	const struct ledger_event *events;	/* registry events and this daemon's credits */
	size_t n_events;
	/* Last days of this licence's other stages this daemon decided
	 * `credited`, before and after this one (their stage_credit events
	 * may be among events too). */
	const date_t *credited_last_days;
	size_t n_credited;
};

struct rules_context {
	date_t received;		/* local date the attestations file was received */
	date_t today;			/* local date of this decision */
	int late_tolerance_min;		/* [limits] late_arrival_tolerance */
	/* An operator accepted the attestation in review (rules.md §1): the
	 * review checks (group_size, lunch_break_too_short, identity_mismatch)
	 * are cleared, neither listed nor holding it, and the points rules
	 * decide.  The rejecting and pending checks still apply. */
	bool review_cleared;
};

struct rules_outcome {
	enum rules_decision decision;
	int points;			/* credited: 1-4; otherwise 0 */
	date_t effective;		/* E = last day + 1 */
	date_t registration_deadline;	/* reception + 1 month, the last day allowed */
	bool near_deadline;		/* pending/review and within 7 days of it */
	/* within_one_year: the last day of the point-granting stage less
	 * than a year away (§5.4), the latest before this stage, else the
	 * earliest after it; DATE_NONE otherwise. */
	date_t previous_credit_last_day;
	struct rules_reasons reasons;
	struct rules_reasons flags;	/* in reason.def order */
	/* credited: the event to append to the licence's ledger: stage_credit,
	 * 4 points, effective E, the stage's first day; ref NULL (the caller
	 * names it, see rules_credit_ref). */
	bool has_credit;
	struct ledger_event credit;
};

/*
 * The stage checks of §3 on a sign-in sheet, and on the attestations file
 * when it has arrived (NULL otherwise: stage_mismatch is then left to
 * rules_decide).  `registry` holds the facilitator records (those of the
 * two authorisations are enough).  Returns REASON_OK, or
 * REASON_INTERNAL_ERROR for a misuse (wrong document kinds, NULLs).
 */
enum reason rules_check_stage(const struct document *sheet, const struct document *attestations,
			      const struct rules_facilitator *registry, size_t n_registry,
			      struct rules_reasons *findings);
/* group_size and lunch_break_too_short send to review; the others reject. */
bool rules_finding_is_review(enum reason code);

/*
 * Decides attestations->attestations[index].  sheet NULL: not received
 * (the decision is then pending, awaiting_signin_sheet); stage_findings are
 * rules_check_stage()'s for that sheet (required with a sheet); licence
 * NULL: not in the registry.  Returns REASON_OK with *out filled, or
 * REASON_INTERNAL_ERROR for a misuse.
 */
enum reason rules_decide(const struct document *attestations, size_t index,
			 const struct document *sheet, const struct rules_reasons *stage_findings,
			 const struct rules_licence *licence, const struct rules_context *ctx,
			 struct rules_outcome *out);

/* §7: the reception date + 1 month (clamped), the last day allowed. */
date_t rules_registration_deadline(date_t received);
/* Within RULES_NEAR_DEADLINE_DAYS of the deadline, and not past it. */
bool rules_near_deadline(date_t deadline, date_t today);

#define RULES_REF_SIZE (DOC_APPROVAL_SIZE + DOC_NUMBER_SIZE + 8)
/* The ledger reference of an attestation's credit: "stage:<approval>:<number>"
 * (attestation numbers are unique per centre, ever). */
void rules_credit_ref(const char *approval, const char *number, char buf[static RULES_REF_SIZE]);

bool rules_reasons_has(const struct rules_reasons *r, enum reason code);
/* "credited", "no_credit", "rejected", "pending", "review". */
const char *rules_decision_name(enum rules_decision d);

#endif
