/*
 * test_reason - the reason table matches the spec's list (exchange-format.md
 * §7) and its classes are the ones the pipeline relies on.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reason.h"

/* Every code of exchange-format.md §7, copied from the spec; the test below
 * also reads the spec itself when it is there (../shared). */
static const char *spec_codes[] = {
	"bad_file_name", "not_regular_file", "too_large", "not_well_formed",
	"doctype_forbidden", "xml_construct_forbidden", "schema_invalid",
	"signature_missing", "signature_profile", "signature_invalid",
	"cert_untrusted", "cert_expired", "cert_revoked", "cert_policy",
	"cert_not_registered", "centre_unknown", "wrong_inbox", "approval_invalid",
	"wrong_departement", "duplicate_file", "stage_conflict",
	"duplicate_attestation_number", "stage_days_not_consecutive",
	"stage_on_sunday", "stage_on_public_holiday", "stage_too_short",
	"facilitator_invalid", "stage_mismatch", "group_size",
	"lunch_break_too_short", "licence_unknown", "identity_mismatch",
	"not_on_signin_sheet", "attendance_incomplete", "late_arrival",
	"issued_date_mismatch", "licence_invalidated", "licence_cancelled",
	"within_one_year", "no_points_lost", "case_no_points",
	"awaiting_signin_sheet", "letter_48n_missing", "stage_before_letter_48n",
	"late_transmission", "registration_overdue", "mandatory_stage_completed",
	"letter_48n_window_exceeded", "invalidation_to_review",
};

Test(reason, every_spec_code_is_in_the_table)
{
	for (size_t i = 0; i < sizeof(spec_codes) / sizeof(spec_codes[0]); i++) {
		enum reason r = reason_from_code(spec_codes[i]);
		cr_expect(r != REASON_COUNT, "%s missing from reason.def", spec_codes[i]);
		if (r != REASON_COUNT)
			cr_expect_str_eq(reason_code(r), spec_codes[i]);
	}
}

/* Reads §7 of the spec and checks every backquoted code of it is known. */
Test(reason, table_covers_the_spec_text)
{
	const char *path = getenv("ATTESTD_SPEC_DIR");
	char file[4096];
	snprintf(file, sizeof(file), "%s/exchange-format.md", path ? path : "../shared/spec");
	FILE *f = fopen(file, "r");
	cr_assert_not_null(f, "cannot open %s (set ATTESTD_SPEC_DIR)", file);
	char line[4096];
	bool in_section = false;
	int seen = 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "## ", 3) == 0)
			in_section = strncmp(line, "## 7.", 5) == 0;
		if (!in_section)
			continue;
		for (char *p = strchr(line, '`'); p; p = strchr(p, '`')) {
			char *end = strchr(p + 1, '`');
			if (!end)
				break;
			char code[128];
			size_t n = (size_t)(end - p - 1);
			if (n > 0 && n < sizeof(code)) {
				memcpy(code, p + 1, n);
				code[n] = '\0';
				/* Decisions (rejected, review) are named in §7 too. */
				bool decision = strcmp(code, "rejected") == 0 ||
						strcmp(code, "review") == 0;
				if (!decision &&
				    strspn(code, "abcdefghijklmnopqrstuvwxyz0123456789_") == n) {
					cr_expect(reason_from_code(code) != REASON_COUNT,
						  "spec code %s missing from reason.def", code);
					seen++;
				}
			}
			p = end + 1;
		}
	}
	fclose(f);
	cr_expect_geq(seen, 49, "only %d codes read from the spec's section 7", seen);
}

Test(reason, codes_are_unique_and_classes_are_right)
{
	for (int a = 0; a < REASON_COUNT; a++)
		for (int b = a + 1; b < REASON_COUNT; b++)
			cr_expect_str_neq(reason_code(a), reason_code(b));
	cr_expect(!reason_is_temporary(REASON_SIGNATURE_INVALID));
	cr_expect(!reason_is_temporary(REASON_LATE_ARRIVAL));
	cr_expect(reason_is_temporary(REASON_DB_UNAVAILABLE));
	cr_expect(reason_is_temporary(REASON_CRL_STALE));
	cr_expect(reason_is_temporary(REASON_DISK_FULL));
	cr_expect_eq(reason_level(REASON_GROUP_SIZE), REASON_LEVEL_STAGE);
	cr_expect_eq(reason_level(REASON_LATE_TRANSMISSION), REASON_LEVEL_FLAG);
	cr_expect_eq(reason_level(REASON_DUPLICATE_FILE), REASON_LEVEL_DOCUMENT);
	cr_expect_str_eq(reason_code(REASON_OK), "ok");
	cr_expect_eq(reason_from_code("no_such_code"), REASON_COUNT);
	/* Out-of-range values never index past the table. */
	cr_expect_str_eq(reason_code((enum reason)9999), "internal_error");
}

/* Every code has its French label (the console and audit.reason_codes show
 * it) and every code the centres can get names the rule it applies. */
Test(reason, every_code_has_a_french_label_and_a_rule)
{
	for (int r = 1; r < REASON_COUNT; r++) {
		cr_expect(reason_label_fr(r)[0] != '\0', "%s has no French label", reason_code(r));
		cr_expect(strchr(reason_label_fr(r), '"') == NULL, "%s: a quote in its label",
			  reason_code(r));
		if (reason_class(r) == REASON_PERMANENT)
			cr_expect(strstr(reason_rule(r), ".md §") != NULL,
				  "%s names no section of the spec: '%s'", reason_code(r), reason_rule(r));
		else
			cr_expect_str_eq(reason_rule(r), "", "%s: our environment applies no rule",
					 reason_code(r));
	}
	cr_expect_str_eq(reason_label_fr(REASON_SIGNATURE_INVALID), "signature invalide");
	cr_expect_str_eq(reason_rule(REASON_LATE_TRANSMISSION),
			 "rules.md §7; arrêté du 26 juin 2012 art. 15");
}
