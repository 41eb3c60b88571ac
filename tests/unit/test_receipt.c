/*
 * test_receipt - receipts (exchange-format.md §6): the four shapes a
 * receipt takes, each validated against receipt.xsd and read back with
 * plain libxml2, signed ones verified by our own verifier and by the
 * xmlsec1 command-line tool against a throwaway PKI (pki_fixture.h, made
 * once per run); descriptions the builder must refuse; free text made
 * valid; and the outbox writer (paths, atomic, never overwriting).
 *
 * Parameter rows hold no pointers: Criterion runs each test in a process
 * of its own and copies the rows there.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "outbox.h"
#include "pki_fixture.h"
#include "schema.h"
#include "signature.h"
#include "xml_load.h"
#include "xmalloc.h"
#include "each_row.h"

/* 2026-11-14T16:06:10Z = 17:06:10 in Paris (winter time). */
#define T_RECEIVED ((time_t)1794672370)
/* 2026-07-01T08:00:00Z = 10:00:00 in Paris (summer time). */
#define T_SUMMER ((time_t)1782892800)

#define SHA_A "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

/* --- per-test state --------------------------------------------------------- */

static struct schema_set *schemas;

static void setup(void)
{
	struct parse_error err = { 0 };

	cr_assert_eq(parsers_global_init(&err), REASON_OK, "%s", err.message);
	schemas = schema_set_load(&err);
	cr_assert_not_null(schemas, "%s", err.message);
}

static void teardown(void)
{
	schema_set_free(schemas);
	schemas = NULL;
	parsers_global_shutdown();
}

TestSuite(receipt, .init = setup, .fini = teardown);

static struct receipt_attestation atts[4];
static struct receipt_message errors[2], findings[2];

/* What a case found when it had a process of its own, for the tables that
 * loop over their cases in one test (issue 12): zeroed attestations and
 * messages, freshly initialised parsers and schemas. */
static void fresh_setup(void)
{
	memset(atts, 0, sizeof(atts));
	memset(errors, 0, sizeof(errors));
	memset(findings, 0, sizeof(findings));
	setup();
}

/* --- the four shapes --------------------------------------------------------- */

enum shape { ACCEPTED, REJECTED, DUPLICATE, SIGNIN_SHEET, SHAPES };

/* The description's arrays live here: one receipt per test process. */

static date_t D(const char *s)
{
	date_t d;
	cr_assert(date_parse(s, &d), "%s", s);
	return d;
}

static void att(struct receipt_attestation *a, const char *number, const char *licence,
		const char *decision, int points, date_t effective)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->number, sizeof(a->number), "%s", number);
	snprintf(a->licence, sizeof(a->licence), "%s", licence);
	a->decision = decision;
	a->points = points;
	a->effective = effective;
}

static void att_reason(struct receipt_attestation *a, enum reason code, const char *message)
{
	a->reasons[a->n_reasons].code = code;
	snprintf(a->reasons[a->n_reasons].message, RECEIPT_MESSAGE_SIZE, "%s", message);
	a->n_reasons++;
}

/* The four attestations of the accepted file (and of its duplicate). */
static void four_attestations(void)
{
	att(&atts[0], "CH-2026-1113-01", "120575300042", "credited", 4, D("2026-11-15"));
	att(&atts[1], "CH-2026-1113-02", "210412300077", "no_credit", 0, DATE_NONE);
	att_reason(&atts[1], REASON_WITHIN_ONE_YEAR, "last point-granting stage ended 2026-03-07");
	atts[1].flags[atts[1].n_flags++] = REASON_MANDATORY_STAGE_COMPLETED;
	att(&atts[2], "CH-2026-1113-03", "0987654321AB", "pending", 0, DATE_NONE);
	att_reason(&atts[2], REASON_AWAITING_SIGNIN_SHEET, "");
	atts[2].flags[atts[2].n_flags++] = REASON_LATE_TRANSMISSION;
	atts[2].flags[atts[2].n_flags++] = REASON_REGISTRATION_OVERDUE;
	att(&atts[3], "CH-2026-1113-04", "123456789", "review", 0, DATE_NONE);
	att_reason(&atts[3], REASON_GROUP_SIZE, "5 participants signed");
	att_reason(&atts[3], REASON_LUNCH_BREAK_TOO_SHORT, "day 1: 30 minutes");
}

static struct receipt make(enum shape shape)
{
	struct receipt r = {
		.file_name = "CH-2026-1113-att.xml",
		.sha256 = SHA_A,
		.kind = "attestations",
		.received = T_RECEIVED,
		.processed = T_RECEIVED + 2,
		.timezone = "Europe/Paris",
		.status = "accepted",
	};

	switch (shape) {
	case ACCEPTED:
		four_attestations();
		r.attestations = atts;
		r.n_attestations = 4;
		break;
	case REJECTED:
		r.file_name = "garbage.xml";
		r.kind = "unknown";
		r.status = "rejected";
		errors[0].code = REASON_NOT_WELL_FORMED;
		snprintf(errors[0].message, RECEIPT_MESSAGE_SIZE,
			 "line 3: Opening and ending tag mismatch: stage and <centre> & \"co\"");
		errors[1].code = REASON_SIGNATURE_MISSING;
		errors[1].message[0] = '\0';
		r.errors = errors;
		r.n_errors = 2;
		break;
	case DUPLICATE:
		four_attestations();
		r.file_name = "CH-2026-1113-att-again.xml";
		r.status = "duplicate";
		r.first_file = "CH-2026-1113-att.xml";
		r.first_received = T_SUMMER;
		r.attestations = atts;
		r.n_attestations = 4;
		break;
	case SIGNIN_SHEET:
		r.file_name = "CH-2026-1113-sheet.xml";
		r.kind = "signin-sheet";
		findings[0].code = REASON_GROUP_SIZE;
		snprintf(findings[0].message, RECEIPT_MESSAGE_SIZE, "5 participants signed");
		findings[1].code = REASON_STAGE_ON_PUBLIC_HOLIDAY;
		r.findings = findings;
		r.n_findings = 2;
		break;
	default:
		cr_assert_fail("no shape %d", (int)shape);
	}
	return r;
}

static void build(const struct receipt *r, const struct sig_signer *signer, unsigned char **xml,
		  size_t *len)
{
	struct parse_error err = { 0 };

	*xml = NULL;
	cr_assert_eq(receipt_build(r, signer, xml, len, &err), REASON_OK, "%s", err.message);
	cr_assert_not_null(*xml);
	cr_assert_gt(*len, 0);
}

static struct sig_signer *prefecture(void)
{
	struct parse_error err = { 0 };
	struct sig_signer *s;

	s = receipt_signer_load(pki("prefecture.key"), pki("prefecture.pem"), &err);
	cr_assert_not_null(s, "%s", err.message);
	return s;
}

static xmlDocPtr read_back(const unsigned char *xml, size_t len)
{
	xmlDocPtr doc = xmlReadMemory((const char *)xml, (int)len, NULL, NULL, XML_PARSE_NONET);

	cr_assert_not_null(doc, "receipt not well-formed:\n%.*s", (int)len, (const char *)xml);
	return doc;
}

static void expect_valid(xmlDocPtr doc, const unsigned char *xml, size_t len)
{
	struct parse_error err = { 0 };
	enum schema_kind kind = SCHEMA_KIND_UNKNOWN;

	cr_expect_eq(schema_set_validate(schemas, doc, &kind, &err), REASON_OK,
		     "receipt.xsd refuses the receipt: line %d: %s\n%.*s", err.line, err.message,
		     (int)len, (const char *)xml);
	cr_expect_eq(kind, SCHEMA_KIND_RECEIPT, "kind %d for the receipt:\n%.*s", kind, (int)len,
		     (const char *)xml);
}

/* An attribute's value, or NULL; the result lives until the next call. */
static const char *attr(xmlNodePtr n, const char *name)
{
	static char value[2048];
	xmlChar *v = xmlGetNoNsProp(n, BAD_CAST name);

	if (v == NULL)
		return NULL;
	snprintf(value, sizeof(value), "%s", (const char *)v);
	xmlFree(v);
	return value;
}

static void expect_attr(xmlNodePtr n, const char *name, const char *want)
{
	const char *got = attr(n, name);

	if (want == NULL) {
		cr_expect_null(got, "%s=\"%s\" should be absent", name, got);
		return;
	}
	cr_expect_not_null(got, "no %s on <%s>", name, (const char *)n->name);
	if (got != NULL)
		cr_expect_str_eq(got, want, "%s", name);
}

static bool is_receipt_element(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	       strcmp((const char *)n->ns->href, "urn:ssr:stage:1") == 0 &&
	       strcmp((const char *)n->name, name) == 0;
}

static xmlNodePtr next_element(xmlNodePtr n)
{
	while (n != NULL && n->type != XML_ELEMENT_NODE) {
		/* Only indentation between elements. */
		if (n->type == XML_TEXT_NODE)
			cr_expect_eq(strspn((const char *)n->content, " \n"),
				     strlen((const char *)n->content), "stray text in the receipt");
		n = n->next;
	}
	return n;
}

/* <name code="...">text</name> for a receipt_message. */
static xmlNodePtr expect_message(xmlNodePtr n, const char *name, const struct receipt_message *m)
{
	xmlChar *text;

	n = next_element(n);
	cr_assert_not_null(n, "missing <%s code=\"%s\">", name, reason_code(m->code));
	cr_expect(is_receipt_element(n, name), "<%s> where <%s> was expected",
		  (const char *)n->name, name);
	expect_attr(n, "code", reason_code(m->code));
	text = xmlNodeGetContent(n);
	cr_expect_str_eq((const char *)text, m->message[0] ? m->message : reason_text(m->code));
	xmlFree(text);
	return n->next;
}

/* The document says what the description says, in the schema's order. */
static void expect_round_trip(xmlDocPtr doc, const struct receipt *r)
{
	xmlNodePtr root = xmlDocGetRootElement(doc), n;

	cr_assert(is_receipt_element(root, "receipt"));
	expect_attr(root, "version", "1");
	expect_attr(root, "file", r->file_name);
	expect_attr(root, "sha256", r->sha256);
	expect_attr(root, "kind", r->kind);
	expect_attr(root, "status", r->status);
	expect_attr(root, "first-file", r->first_file);
	n = root->children;
	for (size_t i = 0; i < r->n_errors; i++)
		n = expect_message(n, "error", &r->errors[i]);
	for (size_t i = 0; i < r->n_findings; i++)
		n = expect_message(n, "stage-finding", &r->findings[i]);
	for (size_t i = 0; i < r->n_attestations; i++) {
		const struct receipt_attestation *a = &r->attestations[i];
		char points[8], date[11];
		xmlNodePtr c;

		n = next_element(n);
		cr_assert_not_null(n, "attestation %zu missing", i);
		cr_expect(is_receipt_element(n, "attestation"));
		expect_attr(n, "number", a->number);
		expect_attr(n, "licence", a->licence);
		expect_attr(n, "decision", a->decision);
		snprintf(points, sizeof(points), "%d", a->points);
		expect_attr(n, "points", points);
		date_format(a->effective, date);
		expect_attr(n, "effective-date", a->effective == DATE_NONE ? NULL : date);
		c = n->children;
		for (size_t k = 0; k < a->n_reasons; k++)
			c = expect_message(c, "reason", &a->reasons[k]);
		for (size_t k = 0; k < a->n_flags; k++) {
			c = next_element(c);
			cr_assert_not_null(c, "flag %zu of attestation %zu missing", k, i);
			cr_expect(is_receipt_element(c, "flag"));
			expect_attr(c, "code", reason_code(a->flags[k]));
			cr_expect_null(c->children);
			c = c->next;
		}
		cr_expect_null(next_element(c), "extra content in attestation %zu", i);
		n = n->next;
	}
	n = next_element(n);
	if (n != NULL) {
		cr_expect_str_eq((const char *)n->name, "Signature", "extra element <%s>",
				 (const char *)n->name);
		cr_expect_null(next_element(n->next), "something after the signature");
	}
}

struct shape_row {
	int shape;
	bool sign;
};

ParameterizedTestParameters(receipt, shapes)
{
	static struct shape_row rows[] = {
		{ ACCEPTED, false }, { REJECTED, false }, { DUPLICATE, false }, { SIGNIN_SHEET, false },
		{ ACCEPTED, true }, { REJECTED, true }, { DUPLICATE, true }, { SIGNIN_SHEET, true },
	};
	return cr_make_param_array(struct shape_row, rows, sizeof(rows) / sizeof(rows[0]));
}

/* Valid, the values come back, and when signed the signature holds under
 * our own verifier, on the document as our hardened loader reads it. */
ParameterizedTest(struct shape_row *row, receipt, shapes)
{
	struct sig_signer *signer = row->sign ? prefecture() : NULL;
	struct receipt r = make((enum shape)row->shape);
	unsigned char *xml;
	size_t len;
	xmlDocPtr doc;

	build(&r, signer, &xml, &len);
	cr_expect(len > 38 && memcmp(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 38) == 0,
		  "no XML declaration:\n%.*s", (int)len, (const char *)xml);
	doc = read_back(xml, len);
	expect_valid(doc, xml, len);
	expect_round_trip(doc, &r);
	cr_expect_eq(next_element(xmlDocGetRootElement(doc)->last) != NULL &&
			     strcmp((const char *)next_element(xmlDocGetRootElement(doc)->last)->name,
				    "Signature") == 0,
		     row->sign, "signature %s", row->sign ? "missing" : "unexpected");
	xmlFreeDoc(doc);

	if (row->sign) {
		struct parse_error err = { 0 };
		struct sig_trust *trust = pki_trust("");
		struct parse_evidence ev = { 0 };
		xmlDocPtr loaded = NULL;

		cr_assert_eq(xml_load(xml, len, NULL, &loaded, &err), REASON_OK, "%s", err.message);
		cr_expect_eq(sig_check_profile(loaded, &err), REASON_OK, "%s", err.message);
		cr_expect_eq(sig_verify(loaded, trust, T_RECEIVED, &ev, &err), REASON_OK, "%s",
			     err.message);
		parse_evidence_clear(&ev);
		xmlFreeDoc(loaded);
		sig_trust_free(trust);
	}
	sig_signer_free(signer);
	free(xml);
}

/* The literal values a centre reads, written here by hand. */
Test(receipt, accepted_literal_values)
{
	struct receipt r = make(ACCEPTED);
	unsigned char *xml;
	size_t len;
	char *text;

	build(&r, NULL, &xml, &len);
	text = xstrndup((const char *)xml, len);
	cr_expect_not_null(strstr(text, "<receipt xmlns=\"urn:ssr:stage:1\" version=\"1\" "
					"file=\"CH-2026-1113-att.xml\" sha256=\"" SHA_A "\" "
					"kind=\"attestations\" received=\"2026-11-14T17:06:10+01:00\" "
					"processed=\"2026-11-14T17:06:12+01:00\" status=\"accepted\">"),
			   "%s", text);
	cr_expect_not_null(strstr(text, "<attestation number=\"CH-2026-1113-01\" "
					"licence=\"120575300042\" decision=\"credited\" points=\"4\" "
					"effective-date=\"2026-11-15\"/>"), "%s", text);
	cr_expect_not_null(strstr(text, "decision=\"no_credit\" points=\"0\">\n"
					"    <reason code=\"within_one_year\">last point-granting "
					"stage ended 2026-03-07</reason>\n"
					"    <flag code=\"mandatory_stage_completed\"/>\n  </attestation>"),
			   "%s", text);
	cr_expect_not_null(strstr(text, "<reason code=\"awaiting_signin_sheet\">the stage's "
					"sign-in sheet has not been received yet</reason>"), "%s", text);
	cr_expect_null(strstr(text, "first-"), "%s", text);
	free(text);
	free(xml);
}

Test(receipt, duplicate_literal_values)
{
	struct receipt r = make(DUPLICATE);
	unsigned char *xml;
	size_t len;
	xmlDocPtr doc;

	build(&r, NULL, &xml, &len);
	doc = read_back(xml, len);
	expect_attr(xmlDocGetRootElement(doc), "status", "duplicate");
	expect_attr(xmlDocGetRootElement(doc), "first-file", "CH-2026-1113-att.xml");
	/* Summer time for the first reception, winter for this one. */
	expect_attr(xmlDocGetRootElement(doc), "first-received", "2026-07-01T10:00:00+02:00");
	expect_attr(xmlDocGetRootElement(doc), "received", "2026-11-14T17:06:10+01:00");
	xmlFreeDoc(doc);
	free(xml);
}

Test(receipt, rejected_literal_values)
{
	struct receipt r = make(REJECTED);
	unsigned char *xml;
	size_t len;
	char *text;

	r.timezone = "America/Guadeloupe";
	build(&r, NULL, &xml, &len);
	text = xstrndup((const char *)xml, len);
	cr_expect_not_null(strstr(text, "received=\"2026-11-14T12:06:10-04:00\""), "%s", text);
	cr_expect_not_null(strstr(text, "kind=\"unknown\""), "%s", text);
	/* Markup in a message is text, escaped. */
	cr_expect_not_null(strstr(text, "<error code=\"not_well_formed\">line 3: Opening and ending "
					"tag mismatch: stage and &lt;centre&gt; &amp; \"co\"</error>"),
			   "%s", text);
	cr_expect_not_null(strstr(text, "<error code=\"signature_missing\">"), "%s", text);
	cr_expect_null(strstr(text, "<attestation"), "%s", text);
	free(text);
	free(xml);
}

Test(receipt, signin_sheet_literal_values)
{
	struct receipt r = make(SIGNIN_SHEET);
	unsigned char *xml;
	size_t len;
	char *text;

	build(&r, NULL, &xml, &len);
	text = xstrndup((const char *)xml, len);
	cr_expect_not_null(strstr(text, "kind=\"signin-sheet\""), "%s", text);
	cr_expect_not_null(strstr(text, "<stage-finding code=\"group_size\">5 participants signed"
					"</stage-finding>\n  <stage-finding "
					"code=\"stage_on_public_holiday\">"), "%s", text);
	free(text);
	free(xml);
}

/* --- signatures seen by another implementation ------------------------------ */

/* One byte of the decision of the second attestation changed after signing. */
static void tamper(unsigned char *xml, size_t len)
{
	char *text = xstrndup((const char *)xml, len);
	char *at = strstr(text, "decision=\"no_credit\"");

	cr_assert_not_null(at);
	memcpy(xml + (at - text), "decision=\"credited\" ", 20);
	free(text);
}

/* One case of receipt::xmlsec1_verifies (issue 12: the cases share one process). */
static void receipt_xmlsec1_verifies_case(int *shape)
{
	struct sig_signer *signer = prefecture();
	struct receipt r = make((enum shape)*shape);
	unsigned char *xml;
	size_t len;

	build(&r, signer, &xml, &len);
	cr_expect_eq(pki_xmlsec1_verify(xml, len), 0, "shape %d: xmlsec1 --verify refused:\n%.*s",
		     *shape, (int)len, (const char *)xml);
	sig_signer_free(signer);
	free(xml);
}

Test(receipt, xmlsec1_verifies)
{
	static int shapes[] = { ACCEPTED, REJECTED, DUPLICATE, SIGNIN_SHEET };
	EACH_ROW_FRESH(sizeof(shapes) / sizeof(shapes[0]), teardown, fresh_setup, receipt_xmlsec1_verifies_case, shapes);
}

/* Both verifiers notice a change after signing (so the tests above can fail). */
Test(receipt, tampered_receipt_fails_both_verifiers)
{
	struct sig_signer *signer = prefecture();
	struct receipt r = make(ACCEPTED);
	struct parse_error err = { 0 };
	struct sig_trust *trust = pki_trust("");
	unsigned char *xml;
	size_t len;
	xmlDocPtr doc = NULL;

	build(&r, signer, &xml, &len);
	tamper(xml, len);
	cr_expect_neq(pki_xmlsec1_verify(xml, len), 0, "xmlsec1 accepted a tampered receipt");
	cr_assert_eq(xml_load(xml, len, NULL, &doc, &err), REASON_OK, "%s", err.message);
	cr_expect_eq(sig_verify(doc, trust, T_RECEIVED, NULL, &err), REASON_SIGNATURE_INVALID,
		     "%s", err.message);
	xmlFreeDoc(doc);
	sig_trust_free(trust);
	sig_signer_free(signer);
	free(xml);
}

/* The EC P-256 prefecture key (the demo's, the benchmarks', the example
 * configuration's advice): its receipts verify like the RSA key's. */
Test(receipt, ec_prefecture_key_verifies)
{
	struct parse_error err = { 0 };
	struct sig_signer *ec;
	struct receipt r = make(ACCEPTED);
	unsigned char *xml;
	size_t len;

	ec = receipt_signer_load(pki("prefecture-ec.key"), pki("prefecture-ec.pem"), &err);
	cr_assert_not_null(ec, "%s", err.message);
	build(&r, ec, &xml, &len);
	cr_expect_neq(strstr((const char *)xml, "ecdsa-sha256"), NULL, "not signed ecdsa-sha256");
	cr_expect_eq(pki_xmlsec1_verify(xml, len), 0, "xmlsec1 --verify refused:\n%.*s", (int)len,
		     (const char *)xml);
	sig_signer_free(ec);
	free(xml);
}

/* A key from elsewhere: xmlsec1 does not trust it (the trust is real). */
Test(receipt, xmlsec1_refuses_untrusted_signer)
{
	struct parse_error err = { 0 };
	struct sig_signer *other;
	struct receipt r = make(SIGNIN_SHEET);
	unsigned char *xml;
	size_t len;

	other = receipt_signer_load(pki("other.key"), pki("other.pem"), &err);
	cr_assert_not_null(other, "%s", err.message);
	build(&r, other, &xml, &len);
	cr_expect_neq(pki_xmlsec1_verify(xml, len), 0, "xmlsec1 trusted another CA's signer");
	sig_signer_free(other);
	free(xml);
}

Test(receipt, signer_load_failure)
{
	struct parse_error err = { 0 };

	cr_expect_null(receipt_signer_load("/nonexistent/prefecture.key",
					   "/nonexistent/prefecture.pem", &err));
	cr_expect_eq(err.reason, REASON_TRUST_UNAVAILABLE);
	receipt_signer_free(NULL);
}

/* --- descriptions the builder refuses ---------------------------------------- */

enum mutation {
	M_STATUS, M_KIND, M_DECISION, M_POINTS_HIGH, M_POINTS_NEGATIVE, M_SHA_UPPER, M_SHA_SHORT,
	M_LICENCE_LOWER, M_LICENCE_SHORT, M_NUMBER_SPACE, M_NUMBER_EMPTY, M_TEMPORARY_ERROR,
	M_FLAG_NOT_FLAG, M_REASON_IS_FLAG, M_REASON_OK, M_REJECTED_NO_ERRORS,
	M_ACCEPTED_WITH_ERRORS, M_DUPLICATE_NO_FIRST, M_ACCEPTED_WITH_FIRST,
	M_REJECTED_WITH_ATTESTATIONS, M_TOO_MANY_ATTESTATIONS, M_TOO_MANY_REASONS, M_ZONE,
	M_NO_ZONE, M_NO_FILE_NAME, M_UNTERMINATED, M_NULL_ARRAY,
};

struct refuse_row {
	char name[32];
	int mutation;
};

/* One case of receipt::refused (issue 12: the cases share one process). */
static void receipt_refused_case(struct refuse_row *row)
{
	static struct receipt_attestation many[RECEIPT_MAX_ATTESTATIONS + 1];
	struct receipt r = make(ACCEPTED);
	struct parse_error err = { 0 };
	unsigned char *xml = NULL;
	size_t len = 0;

	switch ((enum mutation)row->mutation) {
	case M_STATUS: r.status = "received"; break;
	case M_KIND: r.kind = "receipt"; break;
	case M_DECISION: atts[2].decision = "maybe"; break;
	case M_POINTS_HIGH: atts[0].points = 13; break;
	case M_POINTS_NEGATIVE: atts[0].points = -1; break;
	case M_SHA_UPPER: r.sha256[0] = 'F'; break;
	case M_SHA_SHORT: r.sha256[63] = '\0'; break;
	case M_LICENCE_LOWER: atts[1].licence[0] = 'a'; break;
	case M_LICENCE_SHORT: snprintf(atts[1].licence, DOC_LICENCE_SIZE, "12345678"); break;
	case M_NUMBER_SPACE: atts[3].number[2] = ' '; break;
	case M_NUMBER_EMPTY: atts[3].number[0] = '\0'; break;
	case M_TEMPORARY_ERROR:
		r.status = "rejected";
		r.n_attestations = 0;
		errors[0].code = REASON_DB_UNAVAILABLE;
		r.errors = errors;
		r.n_errors = 1;
		break;
	case M_FLAG_NOT_FLAG: atts[1].flags[0] = REASON_WITHIN_ONE_YEAR; break;
	case M_REASON_IS_FLAG: atts[1].reasons[0].code = REASON_LATE_TRANSMISSION; break;
	case M_REASON_OK: atts[1].reasons[0].code = REASON_OK; break;
	case M_REJECTED_NO_ERRORS: r.status = "rejected"; r.n_attestations = 0; break;
	case M_ACCEPTED_WITH_ERRORS:
		errors[0].code = REASON_SCHEMA_INVALID;
		r.errors = errors;
		r.n_errors = 1;
		break;
	case M_DUPLICATE_NO_FIRST: r.status = "duplicate"; break;
	case M_ACCEPTED_WITH_FIRST: r.first_file = "x.xml"; break;
	case M_REJECTED_WITH_ATTESTATIONS:
		r.status = "rejected";
		errors[0].code = REASON_SCHEMA_INVALID;
		r.errors = errors;
		r.n_errors = 1;
		break;
	case M_TOO_MANY_ATTESTATIONS:
		for (size_t i = 0; i < RECEIPT_MAX_ATTESTATIONS + 1; i++)
			many[i] = atts[0];
		r.attestations = many;
		r.n_attestations = RECEIPT_MAX_ATTESTATIONS + 1;
		break;
	case M_TOO_MANY_REASONS: atts[1].n_reasons = RECEIPT_MAX_REASONS + 1; break;
	case M_ZONE: r.timezone = "Europe/Atlantis"; break;
	case M_NO_ZONE: r.timezone = NULL; break;
	case M_NO_FILE_NAME: r.file_name = NULL; break;
	case M_UNTERMINATED:
		memset(atts[1].reasons[0].message, 'x', RECEIPT_MESSAGE_SIZE);
		break;
	case M_NULL_ARRAY: r.attestations = NULL; break;
	}
	cr_expect_eq(receipt_build(&r, NULL, &xml, &len, &err), REASON_INTERNAL_ERROR, "%s",
		     row->name);
	cr_expect_null(xml, "%s: output on failure", row->name);
	cr_expect_eq(err.reason, REASON_INTERNAL_ERROR, "%s", row->name);
	cr_expect_neq(err.message[0], '\0', "%s", row->name);
}

Test(receipt, refused)
{
	static struct refuse_row rows[] = {
		{ "status", M_STATUS }, { "kind", M_KIND }, { "decision", M_DECISION },
		{ "points 13", M_POINTS_HIGH }, { "points -1", M_POINTS_NEGATIVE },
		{ "sha256 upper case", M_SHA_UPPER }, { "sha256 short", M_SHA_SHORT },
		{ "licence lower case", M_LICENCE_LOWER }, { "licence 8", M_LICENCE_SHORT },
		{ "number space", M_NUMBER_SPACE }, { "number empty", M_NUMBER_EMPTY },
		{ "temporary error", M_TEMPORARY_ERROR }, { "flag not a flag", M_FLAG_NOT_FLAG },
		{ "reason is a flag", M_REASON_IS_FLAG }, { "reason ok", M_REASON_OK },
		{ "rejected no errors", M_REJECTED_NO_ERRORS },
		{ "accepted with errors", M_ACCEPTED_WITH_ERRORS },
		{ "duplicate no first", M_DUPLICATE_NO_FIRST },
		{ "accepted with first", M_ACCEPTED_WITH_FIRST },
		{ "rejected attestations", M_REJECTED_WITH_ATTESTATIONS },
		{ "21 attestations", M_TOO_MANY_ATTESTATIONS },
		{ "25 reasons", M_TOO_MANY_REASONS }, { "unknown zone", M_ZONE },
		{ "no zone", M_NO_ZONE }, { "no file name", M_NO_FILE_NAME },
		{ "unterminated message", M_UNTERMINATED }, { "null array", M_NULL_ARRAY },
	};
	EACH_ROW_FRESH(sizeof(rows) / sizeof(rows[0]), teardown, fresh_setup, receipt_refused_case, rows);
}

/* The limits themselves are accepted: 20 attestations, 24 reasons, 8 flags,
 * 12 points. */
Test(receipt, limits_accepted)
{
	static struct receipt_attestation many[RECEIPT_MAX_ATTESTATIONS];
	struct receipt r = make(ACCEPTED);
	unsigned char *xml;
	size_t len;
	xmlDocPtr doc;

	for (size_t i = 0; i < RECEIPT_MAX_ATTESTATIONS; i++) {
		att(&many[i], "N", "123456789012345", "review", 12, D("9999-12-31"));
		snprintf(many[i].number, sizeof(many[i].number), "%064zu", i);
		for (size_t k = 0; k < RECEIPT_MAX_REASONS; k++)
			att_reason(&many[i], REASON_IDENTITY_MISMATCH, "");
		for (size_t k = 0; k < RECEIPT_MAX_FLAGS; k++)
			many[i].flags[many[i].n_flags++] = REASON_INVALIDATION_TO_REVIEW;
	}
	r.attestations = many;
	r.n_attestations = RECEIPT_MAX_ATTESTATIONS;
	build(&r, NULL, &xml, &len);
	doc = read_back(xml, len);
	expect_valid(doc, xml, len);
	expect_round_trip(doc, &r);
	xmlFreeDoc(doc);
	free(xml);
}

/* --- free text made valid ------------------------------------------------------ */

struct clean_row {
	char name[300];
	char message[RECEIPT_MESSAGE_SIZE];
	char want_name[300];
	char want_message[RECEIPT_MESSAGE_SIZE];
};

/* One case of receipt::text_made_valid (issue 12: the cases share one process). */
static void receipt_text_made_valid_case(struct clean_row *row)
{
	struct receipt r = make(REJECTED);
	unsigned char *xml;
	size_t len;
	xmlDocPtr doc;
	xmlNodePtr root, error;
	xmlChar *text;

	r.file_name = row->name;
	snprintf(errors[0].message, RECEIPT_MESSAGE_SIZE, "%s", row->message);
	build(&r, NULL, &xml, &len);
	doc = read_back(xml, len);
	expect_valid(doc, xml, len);
	root = xmlDocGetRootElement(doc);
	/* A refused character is one '?' per refused byte or sequence, as
	 * libunistring cuts them; the exact count only matters where the
	 * row says so. */
	/* Every message names the row by its file name (the rows share one test). */
	const char *file = attr(root, "file");
	cr_expect_not_null(file, "row '%s': no file attribute", row->name);
	if (file != NULL && row->want_name[0] != '\0')
		cr_expect_str_eq(file, row->want_name, "row '%s': file=\"%s\"", row->name, file);
	else if (file != NULL)
		cr_expect_null(strpbrk(file, "\x80\xed"), "row '%s': raw bytes kept", row->name);
	error = next_element(root->children);
	cr_assert_not_null(error, "row '%s': no error element", row->name);
	text = xmlNodeGetContent(error);
	if (row->want_message[0] != '\0')
		cr_expect_str_eq((const char *)text, row->want_message, "row '%s': message",
				 row->name);
	else
		cr_expect_eq(xmlCheckUTF8(text), 1, "row '%s': message not UTF-8", row->name);
	xmlFree(text);
	xmlFreeDoc(doc);
	free(xml);
}

Test(receipt, text_made_valid)
{
	static struct clean_row rows[] = {
		/* C0 controls, DEL, a C1 control (U+0085), '/' in a name. */
		{ "a\tb\nc\x7f" "d\xc2\x85" "e/f.xml", "tab\there\r\nnext\x01",
		  "a?b?c?d?e?f.xml", "tab?here??next?" },
		/* Invalid UTF-8: a lone continuation, a truncated sequence, an
		 * overlong '/', a UTF-16 surrogate, U+FFFF. */
		{ "x\x80y\xc3", "bad\xc0\xaf" "end", "x?y?", "" },
		{ "sur\xed\xa0\x80.xml", "nc\xef\xbf\xbf", "", "nc?" },
		/* Accents, CJK, an emoji and a genuine U+FFFD are kept. */
		{ "\xc3\xa9t\xc3\xa9-\xe6\x97\xa5\xf0\x9f\x98\x80\xef\xbf\xbd.xml",
		  "d\xc3\xa9j\xc3\xa0 re\xc3\xa7u",
		  "\xc3\xa9t\xc3\xa9-\xe6\x97\xa5\xf0\x9f\x98\x80\xef\xbf\xbd.xml",
		  "d\xc3\xa9j\xc3\xa0 re\xc3\xa7u" },
		/* Only refused characters: never an empty file name. */
		{ "\x01", "\x02", "?", "?" },
		{ "", "ok", "?", "ok" },
	};
	EACH_ROW_FRESH(sizeof(rows) / sizeof(rows[0]), teardown, fresh_setup, receipt_text_made_valid_case, rows);
}

/* Names longer than the schema's 255 characters are cut, by characters. */
Test(receipt, long_names_cut)
{
	struct receipt r = make(DUPLICATE);
	char name[1200] = "", first[300];
	unsigned char *xml;
	size_t len;
	xmlDocPtr doc;
	const char *got;

	for (int i = 0; i < 300; i++)
		strcat(name, "\xc3\xa9");	/* 300 two-byte characters */
	memset(first, 'a', sizeof(first) - 1);
	first[sizeof(first) - 1] = '\0';
	r.file_name = name;
	r.first_file = first;
	build(&r, NULL, &xml, &len);
	doc = read_back(xml, len);
	expect_valid(doc, xml, len);
	got = attr(xmlDocGetRootElement(doc), "file");
	cr_expect_eq(strlen(got), 2 * 255);
	cr_expect_eq(strncmp(got, name, 2 * 255), 0);
	cr_expect_eq(strlen(attr(xmlDocGetRootElement(doc), "first-file")), 255);
	xmlFreeDoc(doc);
	free(xml);
}

/* --- the outbox ---------------------------------------------------------------- */

struct relpath_row {
	char dir[300];
	char name[300];
	unsigned n;
	char want[600];		/* "" = refused */
};

/* One case of receipt::relpath (issue 12: the cases share one process). */
static void receipt_relpath_case(struct relpath_row *row)
{
	char *path = NULL;
	enum reason r = outbox_relpath(row->dir, row->name, row->n, &path);

	if (row->want[0] == '\0') {
		cr_expect_eq(r, REASON_INTERNAL_ERROR, "'%s' '%s' %u accepted as %s", row->dir,
			     row->name, row->n, path);
		cr_expect_null(path, "'%s' '%s' %u: a path on failure", row->dir, row->name,
			       row->n);
	} else {
		cr_expect_eq(r, REASON_OK, "'%s' '%s' %u", row->dir, row->name, row->n);
		cr_expect_str_eq(path, row->want, "'%s' '%s' %u: %s", row->dir, row->name, row->n,
				 path);
	}
	free(path);
}

Test(receipt, relpath)
{
	static struct relpath_row rows[] = {
		{ "R2402800010", "CH-2026-1113-att.xml", 1,
		  "R2402800010/CH-2026-1113-att.1.receipt.xml" },
		{ "R2402800010", "CH-2026-1113-att.xml", 12,
		  "R2402800010/CH-2026-1113-att.12.receipt.xml" },
		/* Only a trailing ".xml" goes. */
		{ "R2402800010", "a.xml.xml", 2, "R2402800010/a.xml.2.receipt.xml" },
		{ "R2402800010", "notes.txt", 1, "R2402800010/notes.txt.1.receipt.xml" },
		{ "R2402800010", "x.XML", 1, "R2402800010/x.XML.1.receipt.xml" },
		{ "R2402800010", ".xml", 1, "R2402800010/.xml.1.receipt.xml" },
		/* A printable stand-in from the claim. */
		{ "R2402800010", "~bad*name?", 3, "R2402800010/~bad*name?.3.receipt.xml" },
		{ "", "a.xml", 1, "" },
		{ ".", "a.xml", 1, "" },
		{ "..", "a.xml", 1, "" },
		{ "R24/..", "a.xml", 1, "" },
		{ "R24\n", "a.xml", 1, "" },
		{ "R2402800010", "", 1, "" },
		{ "R2402800010", "..", 1, "" },
		{ "R2402800010", "../../etc/cron.d/x.xml", 1, "" },
		{ "R2402800010", "a\x01.xml", 1, "" },
		{ "R2402800010", "a.xml", 0, "" },
		/* A 129-character stem keeps its whole name (exchange-format.md §6). */
		{ "R2402800010",
		  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
		  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.xml",
		  1,
		  "R2402800010/"
		  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
		  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.1.receipt.xml" },
		/* 250 characters + ".4294967295.receipt.xml" > NAME_MAX: the stem is
		 * cut to what fits in 255 bytes, and there only. */
		{ "R2402800010",
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.xml",
		  4294967295u,
		  "R2402800010/"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.4294967295.receipt.xml" },
		{ "R2402800010",
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.xml",
		  1,
		  "R2402800010/"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.1.receipt.xml" },
	};
	EACH_ROW_FRESH(sizeof(rows) / sizeof(rows[0]), teardown, fresh_setup, receipt_relpath_case, rows);
}

static char outbox[64];

static void outbox_setup(void)
{
	snprintf(outbox, sizeof(outbox), "/tmp/attestd-outbox.XXXXXX");
	cr_assert_not_null(mkdtemp(outbox));
}

static void outbox_teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", outbox);
	cr_expect_eq(system(cmd), 0);
	free(cmd);
}

static char *slurp(const char *rel)
{
	char *path = xasprintf("%s/%s", outbox, rel);
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	free(path);
	if (f == NULL)
		return NULL;
	buf = xcalloc(1, 4096);
	n = fread(buf, 1, 4095, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Names in outbox/<dir>, sorted, joined by spaces: no temporary file left. */
static char *listing(const char *dir)
{
	char *path = xasprintf("%s/%s", outbox, dir);
	struct dirent **entries;
	int n = scandir(path, &entries, NULL, alphasort);
	char *out = xstrdup("");

	free(path);
	cr_assert_geq(n, 0);
	for (int i = 0; i < n; i++) {
		if (strcmp(entries[i]->d_name, ".") != 0 && strcmp(entries[i]->d_name, "..") != 0) {
			char *next = xasprintf("%s%s%s", out, out[0] ? " " : "", entries[i]->d_name);
			free(out);
			out = next;
		}
		free(entries[i]);
	}
	free(entries);
	return out;
}

#define BODY(s) (const unsigned char *)(s), strlen(s)

Test(outbox_write, atomic_with_modes, .init = outbox_setup, .fini = outbox_teardown)
{
	char *rel = NULL, *content, *names, *path;
	struct stat st;

	cr_assert_eq(outbox_relpath("R2402800010", "CH-att.xml", 1, &rel), REASON_OK);
	cr_assert_eq(outbox_write(outbox, rel, BODY("<receipt/>\n")), REASON_OK);
	content = slurp(rel);
	cr_expect_str_eq(content, "<receipt/>\n");
	names = listing("R2402800010");
	cr_expect_str_eq(names, "CH-att.1.receipt.xml");
	path = xasprintf("%s/R2402800010", outbox);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0750);
	free(path);
	path = xasprintf("%s/%s", outbox, rel);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0640);
	cr_expect_eq(st.st_nlink, 1, "the temporary name is still linked");
	free(path);
	free(names);
	free(content);
	free(rel);
}

/* One receipt per outcome change, each kept. */
Test(outbox_write, numbered_receipts_side_by_side, .init = outbox_setup, .fini = outbox_teardown)
{
	char *rel1 = NULL, *rel2 = NULL, *c1, *c2, *names;

	cr_assert_eq(outbox_relpath("R2402800010", "CH-att.xml", 1, &rel1), REASON_OK);
	cr_assert_eq(outbox_relpath("R2402800010", "CH-att.xml", 2, &rel2), REASON_OK);
	cr_assert_eq(outbox_write(outbox, rel1, BODY("pending")), REASON_OK);
	cr_assert_eq(outbox_write(outbox, rel2, BODY("credited")), REASON_OK);
	c1 = slurp(rel1);
	c2 = slurp(rel2);
	cr_expect_str_eq(c1, "pending");
	cr_expect_str_eq(c2, "credited");
	names = listing("R2402800010");
	cr_expect_str_eq(names, "CH-att.1.receipt.xml CH-att.2.receipt.xml");
	free(names);
	free(c1);
	free(c2);
	free(rel1);
	free(rel2);
}

/* A crash after the write, before the database noted it: writing the same
 * bytes again is success. */
Test(outbox_write, same_content_again_is_success, .init = outbox_setup, .fini = outbox_teardown)
{
	const char *rel = "R2402800010/x.1.receipt.xml";
	char *content, *names;

	cr_assert_eq(outbox_write(outbox, rel, BODY("<receipt>one</receipt>")), REASON_OK);
	cr_expect_eq(outbox_write(outbox, rel, BODY("<receipt>one</receipt>")), REASON_OK);
	content = slurp(rel);
	cr_expect_str_eq(content, "<receipt>one</receipt>");
	names = listing("R2402800010");
	cr_expect_str_eq(names, "x.1.receipt.xml");
	free(names);
	free(content);
}

/* A name already in the outbox (a purged submission's receipt) is taken;
 * another number, or a centre without a directory yet, is not. */
Test(outbox_taken, existing_names_only, .init = outbox_setup, .fini = outbox_teardown)
{
	cr_expect_not(outbox_taken(outbox, "R2402800010/x.1.receipt.xml"), "no centre directory yet");
	cr_assert_eq(outbox_write(outbox, "R2402800010/x.1.receipt.xml",
				  BODY("<receipt>one</receipt>")), REASON_OK);
	cr_expect(outbox_taken(outbox, "R2402800010/x.1.receipt.xml"));
	cr_expect_not(outbox_taken(outbox, "R2402800010/x.2.receipt.xml"));
	cr_expect_not(outbox_taken(outbox, "R2402800011/x.1.receipt.xml"));
}

struct other_row {
	char second[32];
};

/* One case of outbox_write::other_content_never_overwrites (issue 12: the cases
 * share one process). */
static void outbox_write_other_content_never_overwrites_case(struct other_row *row)
{
	const char *rel = "R2402800010/x.1.receipt.xml";
	char *content, *names;

	cr_assert_eq(outbox_write(outbox, rel, BODY("<receipt>one</receipt>")), REASON_OK,
		     "'%s': the first write", row->second);
	cr_expect_eq(outbox_write(outbox, rel, BODY(row->second)), REASON_IO_ERROR,
		     "'%s': written over the first", row->second);
	content = slurp(rel);
	cr_expect_str_eq(content, "<receipt>one</receipt>", "'%s': content %s", row->second,
			 content);
	names = listing("R2402800010");
	cr_expect_str_eq(names, "x.1.receipt.xml", "'%s': temporary file left behind: %s",
			 row->second, names);
	free(names);
	free(content);
}

Test(outbox_write, other_content_never_overwrites, .init = outbox_setup, .fini = outbox_teardown)
{
	static struct other_row rows[] = {
		{ "<receipt>two</receipt>" },	/* same length */
		{ "<receipt>one</receipt>!" },	/* longer, same start */
		{ "<receipt>" },		/* shorter, same start */
	};
	EACH_ROW_FRESH(sizeof(rows) / sizeof(rows[0]), outbox_teardown, outbox_setup, outbox_write_other_content_never_overwrites_case, rows);
}

struct bad_rel_row {
	char rel[64];
};

/* One case of outbox_write::bad_relpath_refused (issue 12: the cases share one process). */
static void outbox_write_bad_relpath_refused_case(struct bad_rel_row *row)
{
	char *names;

	cr_expect_eq(outbox_write(outbox, row->rel, BODY("<receipt/>")), REASON_INTERNAL_ERROR,
		     "'%s'", row->rel);
	/* Nothing created anywhere. */
	names = listing(".");
	cr_expect_str_eq(names, "", "'%s' created %s", row->rel, names);
	free(names);
}

Test(outbox_write, bad_relpath_refused, .init = outbox_setup, .fini = outbox_teardown)
{
	static struct bad_rel_row rows[] = {
		{ "x.1.receipt.xml" }, { "/x.1.receipt.xml" }, { "R24/" }, { "R24/../x.xml" },
		{ "../x/y.xml" }, { "./y.xml" }, { "R24/.." }, { "R24/." }, { "a/b/c.xml" },
		{ "R24/a\nb.xml" }, { "" },
	};
	EACH_ROW_FRESH(sizeof(rows) / sizeof(rows[0]), outbox_teardown, outbox_setup, outbox_write_bad_relpath_refused_case, rows);
}

/* The centre's directory must be a directory, not a link to elsewhere. */
Test(outbox_write, dir_symlink_refused, .init = outbox_setup, .fini = outbox_teardown)
{
	char *target = xasprintf("%s/elsewhere", outbox);
	char *link_path = xasprintf("%s/R2402800010", outbox);
	char *names;

	cr_assert_eq(mkdir(target, 0700), 0);
	cr_assert_eq(symlink(target, link_path), 0);
	cr_expect_eq(outbox_write(outbox, "R2402800010/x.1.receipt.xml", BODY("<receipt/>")),
		     REASON_IO_ERROR);
	names = listing("elsewhere");
	cr_expect_str_eq(names, "");
	free(names);
	free(target);
	free(link_path);
}

Test(outbox_write, outbox_missing_is_created, .init = outbox_setup, .fini = outbox_teardown)
{
	char *deep = xasprintf("%s/var/outbox", outbox);
	char *path = xasprintf("%s/R2402800010/x.1.receipt.xml", deep);
	struct stat st;

	cr_expect_eq(outbox_write(deep, "R2402800010/x.1.receipt.xml", BODY("<receipt/>")),
		     REASON_OK);
	cr_expect_eq(stat(path, &st), 0);
	free(deep);
	free(path);
}

/* A receipt built, then written: the file on disk is the signed bytes. */
Test(outbox_write, built_receipt_written, .init = setup, .fini = teardown)
{
	struct sig_signer *signer = prefecture();
	struct receipt r = make(ACCEPTED);
	char *rel = NULL, *path;
	unsigned char *xml;
	size_t len;
	FILE *f;
	char buf[16384];
	size_t n;

	outbox_setup();
	build(&r, signer, &xml, &len);
	cr_assert_lt(len, sizeof(buf));
	cr_assert_eq(outbox_relpath("R2402800010", r.file_name, 1, &rel), REASON_OK);
	cr_expect_eq(outbox_write(outbox, rel, xml, len), REASON_OK);
	path = xasprintf("%s/%s", outbox, rel);
	f = fopen(path, "rb");
	cr_assert_not_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	cr_expect_eq(n, len);
	cr_expect_eq(memcmp(buf, xml, len), 0);
	cr_expect_eq(pki_xmlsec1_verify(buf, n), 0);
	outbox_teardown();
	free(path);
	free(rel);
	free(xml);
	sig_signer_free(signer);
}
