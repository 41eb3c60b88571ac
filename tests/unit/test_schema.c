/*
 * test_schema - the embedded XSD schemas accept the conforming documents
 * (exchange-format.md §2-4, §6) and reject each violation with its line and
 * a message that names the place but never quotes the value.
 * Documents: tests/fixtures/docs/valid/ and schema_invalid/.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>

#include "parsers_docs.h"
#include "schema.h"
#include "each_row.h"

static struct schema_set *schemas;

static void schema_setup(void)
{
	docs_init();
	struct parse_error err;
	schemas = schema_set_load(&err);
	cr_assert_not_null(schemas, "schema_set_load: %s", err.message);
}

static void schema_teardown(void)
{
	schema_set_free(schemas);
	schemas = NULL;
}

/* Loads path (must be well-formed) and validates it. */
static enum reason validate_file(const char *path, enum schema_kind *kind, struct parse_error *err)
{
	xmlDocPtr doc = NULL;
	enum reason r = docs_load(path, &doc, err);
	cr_assert_eq(r, REASON_OK, "%s does not load: %s", path, err->message);
	r = schema_set_validate(schemas, doc, kind, err);
	xmlFreeDoc(doc);
	return r;
}

static enum reason validate_string(const char *text, enum schema_kind *kind,
				   struct parse_error *err)
{
	xmlDocPtr doc = NULL;
	enum reason r = xml_load((const unsigned char *)text, strlen(text), NULL, &doc, err);
	cr_assert_eq(r, REASON_OK, "does not load: %s", err->message);
	r = schema_set_validate(schemas, doc, kind, err);
	xmlFreeDoc(doc);
	return r;
}

struct violation {
	char name[48];		/* schema_invalid/<name>.xml */
	int line;
	char where[48];		/* a fragment the message must hold */
};

static const struct violation violations[] = {
	{ "wrong-namespace", 2, "root element" },
	{ "no-namespace", 2, "root element" },
	{ "wrong-root", 2, "root element" },
	{ "bad-approval-letter", 3, "attribute 'approval'" },
	{ "bad-approval-departement", 3, "attribute 'approval'" },
	{ "bad-approval-short", 3, "attribute 'approval'" },
	{ "bad-departement", 4, "attribute 'departement'" },
	{ "bad-departement-977", 4, "attribute 'departement'" },
	{ "bad-licence-lowercase", 6, "attribute 'licence'" },
	{ "bad-licence-short", 6, "attribute 'licence'" },
	{ "bad-licence-space", 6, "attribute 'licence'" },
	{ "bad-stage-ref", 4, "attribute 'ref'" },
	{ "bad-attestation-number", 5, "attribute 'number'" },
	{ "attestations-21", 80, "not expected" },
	{ "attestations-0", 2, "Missing child" },
	{ "unknown-case-5", 5, "attribute 'case'" },
	{ "case-01", 5, "attribute 'case'" },
	{ "bad-date-feb-30", 6, "attribute 'birth-date'" },
	{ "bad-date-timezone", 6, "attribute 'birth-date'" },
	{ "bad-date-feb-29-2025", 4, "attribute 'first-day'" },
	{ "created-without-offset", 2, "attribute 'created'" },
	{ "missing-version", 2, "'version' is required" },
	{ "version-2", 2, "attribute 'version'" },
	{ "name-101-characters", 6, "attribute 'surname'" },
	{ "name-empty", 6, "attribute 'surname'" },
	{ "name-control-char", 6, "attribute 'surname'" },
	{ "name-c1-control", 6, "attribute 'surname'" },
	{ "unknown-attribute", 5, "'points' is not allowed" },
	{ "unknown-element", 10, "}note'" },
	{ "elements-out-of-order", 3, "}stage'" },
	{ "letter-and-court-order", 11, "}court-order'" },
	{ "duplicate-attestation-number", 8, "attestation-number-unique" },
	{ "duplicate-trainee-licence", 9, "trainee-licence-unique" },
	{ "signature-not-last", 24, "not expected" },
	{ "text-in-root", 2, "Character content" },
	{ "court-order-ref-leading-space", 14, "attribute 'ref'" },
	{ "depth-16", 3, "}c'" },
	{ "sessions-3", 4, "}session" },
	{ "sessions-5", 10, "}session'" },
	{ "duplicate-session-id", 9, "session-id-unique" },
	{ "unknown-session-id", 9, "attribute 'id'" },
	{ "bad-time-24-00", 7, "attribute 'end'" },
	{ "bad-time-seconds", 6, "attribute 'start'" },
	{ "bad-time-single-digit", 15, "attribute 'arrived'" },
	{ "two-psychologists", 12, "facilitator-role-unique" },
	{ "one-facilitator", 12, "}facilitator" },
	{ "three-facilitators", 13, "}facilitator'" },
	{ "unknown-role", 12, "attribute 'role'" },
	{ "participants-31", 223, "not expected" },
	{ "participants-0", 2, "Missing child" },
	{ "presences-5", 19, "}presence'" },
	{ "duplicate-presence-session", 24, "presence-session-unique" },
	{ "signed-yes", 15, "attribute 'signed'" },
	{ "duplicate-participant-licence", 20, "participant-licence-unique" },
	{ "media-type-gif", 21, "attribute 'media-type'" },
	{ "unknown-document-type", 21, "attribute 'type'" },
	{ "bad-base64-characters", 14, "}identity-document'" },
	{ "bad-base64-length", 14, "}identity-document'" },
	{ "scan-base64-noncanonical-padding", 14, "}identity-document'" },
	{ "empty-scan", 14, "the scan is empty" },
	{ "venue-newline", 5, "}venue'" },
	{ "venue-missing", 5, "}venue" },
	{ "authorisation-with-space", 11, "attribute 'authorisation'" },
	{ "identity-number-41", 14, "attribute 'number'" },
	{ "receipt-bad-status", 4, "attribute 'status'" },
	{ "receipt-bad-sha256", 4, "attribute 'sha256'" },
};

/* What XSD 1.0 cannot say: valid for the schema, refused by the mapping
 * (tests/unit/test_mapping.c). */
static const char *const cross_field[] = {
	"court-order-with-case-1", "court-order-with-case-2", "letter-48n-with-case-1",
	"letter-48n-with-case-3", "case-3-without-court-order", "case-4-without-court-order",
	"scan-magic-png-as-jpeg", "scan-magic-jpeg-as-pdf", "scan-magic-text-as-pdf",
};

#define N_VIOLATIONS (sizeof(violations) / sizeof(violations[0]))
#define N_CROSS (sizeof(cross_field) / sizeof(cross_field[0]))

/* One case of schema::violations (issue 12: the cases share one process). */
static void schema_violations_case(const struct violation *v)
{
	char path[256];
	snprintf(path, sizeof(path), DOCS "schema_invalid/%s.xml", v->name);
	struct parse_error err;
	enum reason r = validate_file(path, NULL, &err);
	cr_expect_eq(r, REASON_SCHEMA_INVALID, "%s: %s", v->name, reason_code(r));
	cr_expect_eq(err.reason, REASON_SCHEMA_INVALID, "%s: err.reason %s", v->name,
		     reason_code(err.reason));
	cr_expect_eq(err.line, v->line, "%s: line %d, expected %d (%s)", v->name, err.line, v->line,
		     err.message);
	cr_expect_not_null(strstr(err.message, v->where), "%s: '%s' not in '%s'", v->name,
			   v->where, err.message);
}

Test(schema, violations, .init = schema_setup, .fini = schema_teardown)
{
	EACH_ROW_FRESH(N_VIOLATIONS, schema_teardown, schema_setup, schema_violations_case, violations);
}

Test(schema, cross_field_violations_pass_the_schema, .init = schema_setup,
     .fini = schema_teardown)
{
	for (size_t i = 0; i < N_CROSS; i++) {
		char path[256];
		snprintf(path, sizeof(path), DOCS "schema_invalid/%s.xml", cross_field[i]);
		struct parse_error err;
		cr_expect_eq(validate_file(path, NULL, &err), REASON_OK, "%s: %s", cross_field[i],
			     err.message);
	}
}

static bool is_file_of(const char *file, const char *name)
{
	size_t n = strlen(name);
	return strncmp(file, name, n) == 0 && strcmp(file + n, ".xml") == 0;
}

/* Every file of schema_invalid/ is in one of the two lists above. */
Test(schema, every_fixture_is_listed)
{
	char **names = docs_list(DOCS "schema_invalid");
	size_t n = 0;
	for (; names[n]; n++) {
		int found = 0;
		for (size_t i = 0; i < N_VIOLATIONS; i++)
			found += is_file_of(names[n], violations[i].name);
		for (size_t i = 0; i < N_CROSS; i++)
			found += is_file_of(names[n], cross_field[i]);
		cr_expect_eq(found, 1, "schema_invalid/%s is listed %d times", names[n], found);
	}
	cr_expect_eq(n, N_VIOLATIONS + N_CROSS);
	docs_free_list(names);
}

Test(schema, valid_documents_validate_with_their_kind, .init = schema_setup,
     .fini = schema_teardown)
{
	char **names = docs_list(DOCS "valid");
	size_t n = 0;
	for (; names[n]; n++) {
		char path[256];
		snprintf(path, sizeof(path), DOCS "valid/%s", names[n]);
		enum schema_kind kind = SCHEMA_KIND_UNKNOWN;
		struct parse_error err;
		enum reason r = validate_file(path, &kind, &err);
		cr_expect_eq(r, REASON_OK, "%s: %s line %d", names[n], err.message, err.line);
		cr_expect_str_eq(err.message, "");
		enum schema_kind want = strncmp(names[n], "attestations", 12) == 0 ? SCHEMA_KIND_ATTESTATIONS
				      : strncmp(names[n], "signin-sheet", 12) == 0 ? SCHEMA_KIND_SIGNIN_SHEET
										   : SCHEMA_KIND_RECEIPT;
		cr_expect_eq(kind, want, "%s: kind %d", names[n], kind);
	}
	cr_expect_geq(n, 20);
	docs_free_list(names);
}

/* The kind is known from the root even when the document is invalid, so
 * that a rejection receipt can say it. */
Test(schema, kind_is_set_before_validation, .init = schema_setup, .fini = schema_teardown)
{
	enum schema_kind kind = SCHEMA_KIND_RECEIPT;
	struct parse_error err;
	cr_expect_eq(validate_file(DOCS "schema_invalid/attestations-21.xml", &kind, &err),
		     REASON_SCHEMA_INVALID);
	cr_expect_eq(kind, SCHEMA_KIND_ATTESTATIONS);
	cr_expect_eq(validate_file(DOCS "schema_invalid/sessions-3.xml", &kind, &err),
		     REASON_SCHEMA_INVALID);
	cr_expect_eq(kind, SCHEMA_KIND_SIGNIN_SHEET);
	cr_expect_eq(validate_file(DOCS "schema_invalid/wrong-namespace.xml", &kind, &err),
		     REASON_SCHEMA_INVALID);
	cr_expect_eq(kind, SCHEMA_KIND_UNKNOWN);
	cr_expect_eq((int)SCHEMA_KIND_ATTESTATIONS, (int)DOC_ATTESTATIONS);
	cr_expect_eq((int)SCHEMA_KIND_SIGNIN_SHEET, (int)DOC_SIGNIN_SHEET);
}

/* Values may be names or birth dates, and messages may be logged. */
Test(schema, messages_never_quote_the_value, .init = schema_setup, .fini = schema_teardown)
{
	static const struct {
		const char *file;
		const char *value;
	} cases[] = {
		{ "name-control-char", "MAR" },
		{ "name-101-characters", "MMMM" },
		{ "bad-date-feb-30", "2026-02-30" },
		{ "bad-licence-lowercase", "12057530004a" },
		{ "duplicate-trainee-licence", "120575300042" },
		{ "venue-newline", "Moulin" },
		{ "bad-base64-characters", "not base64" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[256];
		snprintf(path, sizeof(path), DOCS "schema_invalid/%s.xml", cases[i].file);
		struct parse_error err;
		cr_expect_eq(validate_file(path, NULL, &err), REASON_SCHEMA_INVALID);
		cr_expect_null(strstr(err.message, cases[i].value), "%s: '%s'", cases[i].file,
			       err.message);
		cr_expect_not_null(strstr(err.message, "…"), "%s: '%s'", cases[i].file, err.message);
	}
}

/* A value holding quotes and the words libxml2 uses after a value cannot
 * push part of itself out of the redaction. */
Test(schema, redaction_holds_with_quotes_in_the_value, .init = schema_setup,
     .fini = schema_teardown)
{
	size_t len;
	char *text = (char *)docs_read(DOCS "valid/attestations-example.xml", &len);
	text = xrealloc(text, len + 1);
	text[len] = '\0';
	char *bad = docs_replace(text, "surname=\"MARTIN\"",
				 "surname=\"SECRET' is not accepted by the pattern 'x'. "
				 "The value 'SECRET' has a length of 'SECRET&#9;\"");
	struct parse_error err;
	cr_expect_eq(validate_string(bad, NULL, &err), REASON_SCHEMA_INVALID);
	cr_expect_null(strstr(err.message, "SECRET"), "%s", err.message);
	cr_expect_not_null(strstr(err.message, "attribute 'surname'"), "%s", err.message);
	free(bad);
	free(text);
}

/* The tree that was signed is the tree that is read: validation adds no
 * default or fixed attribute and changes nothing. */
Test(schema, validation_does_not_modify_the_document, .init = schema_setup,
     .fini = schema_teardown)
{
	static const char *const files[] = { DOCS "valid/attestations-example.xml",
					     DOCS "valid/signin-sheet-example.xml",
					     DOCS "schema_invalid/missing-version.xml" };
	for (size_t i = 0; i < 3; i++) {
		xmlDocPtr doc = NULL;
		struct parse_error err;
		cr_assert_eq(docs_load(files[i], &doc, &err), REASON_OK);
		xmlChar *before = NULL, *after = NULL;
		int blen = 0, alen = 0;
		xmlDocDumpMemory(doc, &before, &blen);
		schema_set_validate(schemas, doc, NULL, &err);
		xmlDocDumpMemory(doc, &after, &alen);
		cr_expect_eq(blen, alen, "%s", files[i]);
		cr_expect_str_eq((const char *)before, (const char *)after, "%s", files[i]);
		if (i == 2)
			cr_expect_null(xmlHasProp(xmlDocGetRootElement(doc), (const xmlChar *)"version"),
				       "no fixed value added for the missing version");
		xmlFree(before);
		xmlFree(after);
		xmlFreeDoc(doc);
	}
}

Test(schema, no_state_between_validations, .init = schema_setup, .fini = schema_teardown)
{
	struct parse_error err;
	cr_expect_eq(validate_file(DOCS "schema_invalid/bad-licence-short.xml", NULL, &err),
		     REASON_SCHEMA_INVALID);
	cr_expect_eq(validate_file(DOCS "valid/attestations-example.xml", NULL, &err), REASON_OK);
	cr_expect_eq(err.line, 0);
	cr_expect_str_eq(err.message, "");
	cr_expect_eq(validate_file(DOCS "schema_invalid/sessions-5.xml", NULL, &err),
		     REASON_SCHEMA_INVALID);
	cr_expect_eq(err.line, 10, "the first error of this file, not of an earlier one");
}

Test(schema, no_schema_never_reaches_the_validator, .init = docs_init)
{
	xmlDocPtr doc = NULL;
	struct parse_error err;
	cr_assert_eq(docs_load(DOCS "valid/attestations-example.xml", &doc, &err), REASON_OK);
	enum schema_kind kind;
	cr_expect_eq(schema_set_validate(NULL, doc, &kind, &err), REASON_INTERNAL_ERROR);
	cr_expect_eq(kind, SCHEMA_KIND_ATTESTATIONS);
	xmlFreeDoc(doc);
	schema_set_free(NULL);
}

static char *b64_encode(const unsigned char *data, size_t len)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = xmalloc((len + 2) / 3 * 4 + 1), *o = out;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)data[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)data[i + 1] << 8;
		if (i + 2 < len)
			v |= data[i + 2];
		*o++ = tab[(v >> 18) & 63];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? tab[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* The sign-in sheet example with its first scan replaced by a PNG of
 * `size` bytes (caller frees). */
static char *sheet_with_scan(size_t size)
{
	size_t len;
	char *text = (char *)docs_read(DOCS "valid/signin-sheet-example.xml", &len);
	text = xrealloc(text, len + 1);
	text[len] = '\0';
	unsigned char *scan = xcalloc(size, 1);
	memcpy(scan, "\x89PNG\r\n\x1A\n", 8);
	char *b64 = b64_encode(scan, size);
	char *to = xasprintf("media-type=\"image/png\">%s<", b64);
	char *out = docs_replace(text, "media-type=\"image/jpeg\">/9j/4AAQSkZJRgABAQAAAQABAAD/2Q==<",
				 to);
	free(to);
	free(b64);
	free(scan);
	free(text);
	return out;
}

/* 2 MiB decoded is the most a scan may hold (exchange-format.md §4). */
Test(schema, scan_size_limit, .init = schema_setup, .fini = schema_teardown)
{
	struct parse_error err;
	char *at_limit = sheet_with_scan(DOC_MAX_SCAN_BYTES);
	cr_expect_eq(validate_string(at_limit, NULL, &err), REASON_OK, "%s", err.message);
	free(at_limit);
	char *over = sheet_with_scan(DOC_MAX_SCAN_BYTES + 1);
	cr_expect_eq(validate_string(over, NULL, &err), REASON_SCHEMA_INVALID);
	/* By length, before libxml2 validates (no facet to decode it for). */
	cr_expect_not_null(strstr(err.message, "the scan has 2097153 bytes, more than the 2097152 "
				  "allowed"), "%s", err.message);
	cr_expect_eq(err.line, 14);
	cr_expect_lt(strlen(err.message), sizeof(err.message) - 1, "the scan is not in the message");
	free(over);
}
