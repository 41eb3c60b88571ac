/*
 * test_parsers - the whole wall through parsers_parse(): documents signed
 * by our signer and by the xmlsec1 command-line tool pass with the expected
 * values and evidence; documents that fail two checks at once prove the
 * order of rules.md §2; every document-level code the parsers can give is
 * earned at least once here; certificate validity is judged at the
 * reception time passed in; a stale CRL is temporary.
 *
 * The PKI is made once per run (pki_fixture.h).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "parsers.h"
#include "parsers_docs.h"
#include "pki_fixture.h"
#include "xmalloc.h"
#include "each_row.h"

/* 2026-11-14T12:00:00Z: the reception time of every case unless stated. */
#define AT ((time_t)1794657600)
/* 2020-06-01T12:00:00Z: inside the validity of expired.pem. */
#define AT_2020 1591012800LL
/* 2019-06-01T12:00:00Z: before every certificate of the PKI. */
#define AT_2019 1559390400LL
/* 2050-01-02T00:00:00Z: after every certificate of the PKI. */
#define AT_2050 2524694400LL

#define ATT "valid/attestations-example.xml"
#define SHEET "valid/signin-sheet-example.xml"

/* kind_out values */
#define K_ATT DOC_ATTESTATIONS
#define K_SHEET DOC_SIGNIN_SHEET
#define K_NONE (-1)

/* --- per-test state --------------------------------------------------------- */

static void setup(void)
{
	struct parse_error err = { 0 };

	pki_dir();	/* fails here without the PKI */
	cr_assert_eq(parsers_global_init(&err), REASON_OK, "%s", err.message);
}

static void teardown(void)
{
	parsers_global_shutdown();
	xmlCleanupParser();
}

TestSuite(parsers, .init = setup, .fini = teardown);

/* --- helpers ---------------------------------------------------------------- */

/* The CA bundle with the given CRL file ("" for none). */
static struct parsers *make_parsers(const char *crl, size_t max_file_size)
{
	struct parse_error err = { 0 };
	struct parsers_limits limits = { .max_file_size = max_file_size ? max_file_size
									 : 32u << 20 };
	struct parsers *p = parsers_new(pki("ca-bundle.pem"), crl[0] ? pki(crl) : NULL,
					&limits, &err);

	cr_assert_not_null(p, "parsers_new (CRL '%s'): %s", crl, err.message);
	return p;
}

/* A document of tests/fixtures/docs/, NUL-terminated. */
static char *doc_text(const char *file)
{
	char *path = xasprintf(DOCS "%s", file);
	size_t len;
	unsigned char *bytes = docs_read(path, &len);
	char *text = xmalloc(len + 1);

	memcpy(text, bytes, len);
	text[len] = '\0';
	free(bytes);
	free(path);
	return text;
}

/* In place: text with one occurrence of from replaced (asserted unique). */
static void mutate(char **text, const char *from, const char *to)
{
	char *next;

	if (from[0] == '\0')
		return;
	next = docs_replace(*text, from, to);
	free(*text);
	*text = next;
}

struct outcome {
	enum reason r;
	int kind;
	struct document *doc;
	struct parse_evidence ev;
	struct parse_error err;
};

/* parsers_parse, with its contracts checked: on failure no document, no
 * evidence, err saying why; on success the document carries the evidence's
 * fingerprint. */
static enum reason parse_text(const struct parsers *p, const char *xml, size_t len, time_t at,
			      struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	/* Garbage in the out-parameters must not matter. */
	o->doc = (struct document *)(uintptr_t)1;
	o->kind = 42;
	memset(&o->err, 'x', sizeof(o->err));
	o->r = parsers_parse(p, (const unsigned char *)xml, len, at, &o->doc, &o->kind, &o->ev,
			     &o->err);
	if (o->r != REASON_OK) {
		cr_expect_null(o->doc, "a document on failure");
		cr_expect_eq(o->err.reason, o->r, "err.reason %s, returned %s",
			     reason_code(o->err.reason), reason_code(o->r));
		cr_expect_neq(o->err.message[0], '\0', "no message for %s", reason_code(o->r));
		cr_expect_not_null(memchr(o->err.message, '\0', sizeof(o->err.message)));
		cr_expect_null(o->ev.signer_der, "evidence left on failure");
		cr_expect_null(o->ev.chain_pem, "evidence left on failure");
		cr_expect_eq(o->ev.signer_sha256[0], '\0', "evidence left on failure");
	} else {
		cr_assert_not_null(o->doc);
		cr_expect_eq((int)o->doc->kind, o->kind);
		cr_expect_eq(strlen(o->ev.signer_sha256), 64);
		cr_expect_str_eq(o->doc->signer_sha256, o->ev.signer_sha256);
		cr_expect_not_null(o->ev.signer_der);
		cr_expect_not_null(o->ev.chain_pem);
	}
	return o->r;
}

static void outcome_clear(struct outcome *o)
{
	document_free(o->doc);
	parse_evidence_clear(&o->ev);
	memset(o, 0, sizeof(*o));
}

/* --- the table: one document, up to two changes after signing ------------- */

struct pcase {
	char name[48];
	char file[64];			/* under tests/fixtures/docs/ */
	char signer[16];		/* a key of the PKI; "" = left unsigned */
	char from1[112], to1[112];	/* applied to the (signed) text */
	char from2[112], to2[112];
	char crl[24];			/* "" = no CRL configured */
	long long at;			/* reception time; 0 = AT */
	size_t max_size;		/* [limits] max_file_size; 0 = 32 MiB */
	enum reason expect;
	int kind;			/* expected kind_out */
	int line;			/* expected err.line; 0 = not checked */
};

#define DOCTYPE_FROM "<attestations "
#define DOCTYPE_TO "<!DOCTYPE attestations>\n<attestations "
#define BAD_LICENCE_FROM "licence=\"120575300042\""
#define BAD_LICENCE_TO "licence=\"120575300042a\""
#define REF_FROM "<ds:Reference URI=\"\">"
#define REF_TO "<ds:Reference>"
#define TAMPER_FROM "surname=\"MARTIN\""
#define TAMPER_TO "surname=\"DUPONT\""

static const struct pcase pcases[] = {
	/* Valid, both kinds, both key types. */
	{ .name = "ok_rsa_attestations", .file = ATT, .signer = "centre-rsa", .crl = "crl.pem",
	  .expect = REASON_OK, .kind = K_ATT },
	{ .name = "ok_ec_attestations", .file = ATT, .signer = "centre-ec", .crl = "crl.pem",
	  .expect = REASON_OK, .kind = K_ATT },
	{ .name = "ok_rsa_signin_sheet", .file = SHEET, .signer = "centre-rsa", .crl = "crl.pem",
	  .expect = REASON_OK, .kind = K_SHEET },
	{ .name = "ok_ec_signin_sheet", .file = SHEET, .signer = "centre-ec", .crl = "crl-both.pem",
	  .expect = REASON_OK, .kind = K_SHEET },

	/* Loading comes first: DOCTYPE, comments, PIs, xsi, well-formedness. */
	{ .name = "doctype_and_unsigned", .file = ATT, .from1 = DOCTYPE_FROM, .to1 = DOCTYPE_TO,
	  .expect = REASON_DOCTYPE_FORBIDDEN, .kind = K_NONE, .line = 2 },
	{ .name = "doctype_in_signed", .file = ATT, .signer = "centre-rsa",
	  .from1 = DOCTYPE_FROM, .to1 = DOCTYPE_TO, .crl = "crl.pem",
	  .expect = REASON_DOCTYPE_FORBIDDEN, .kind = K_NONE },
	{ .name = "doctype_and_bad_profile", .file = ATT, .signer = "centre-rsa",
	  .from1 = DOCTYPE_FROM, .to1 = DOCTYPE_TO, .from2 = REF_FROM, .to2 = REF_TO,
	  .expect = REASON_DOCTYPE_FORBIDDEN, .kind = K_NONE },
	{ .name = "entity_in_signed", .file = ATT, .signer = "centre-ec",
	  .from1 = DOCTYPE_FROM, .to1 = "<!DOCTYPE a [<!ENTITY n \"MARTIN\">]>\n<attestations ",
	  .from2 = TAMPER_FROM, .to2 = "surname=\"&n;\"",
	  .expect = REASON_DOCTYPE_FORBIDDEN, .kind = K_NONE },
	{ .name = "comment_injected_after_signing", .file = SHEET, .signer = "centre-ec",
	  .from1 = "<venue>Salle Jean Moulin", .to1 = "<venue>Salle Jean<!---->Moulin",
	  .crl = "crl.pem", .expect = REASON_XML_CONSTRUCT_FORBIDDEN, .kind = K_NONE, .line = 5 },
	{ .name = "pi_injected_after_signing", .file = ATT, .signer = "centre-rsa",
	  .from1 = "<centre ", .to1 = "<?attestd skip?><centre ", .crl = "crl.pem",
	  .expect = REASON_XML_CONSTRUCT_FORBIDDEN, .kind = K_NONE },
	{ .name = "xsi_injected_after_signing", .file = ATT, .signer = "centre-rsa",
	  .from1 = "<centre ",
	  .to1 = "<centre xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:nil=\"true\" ",
	  .crl = "crl.pem", .expect = REASON_XML_CONSTRUCT_FORBIDDEN, .kind = K_NONE },
	{ .name = "truncated_signed", .file = ATT, .signer = "centre-rsa",
	  .from1 = "</ds:Signature></attestations>", .to1 = "</ds:Signature>",
	  .expect = REASON_NOT_WELL_FORMED, .kind = K_NONE },
	{ .name = "not_well_formed_unsigned", .file = ATT,
	  .from1 = "<centre ", .to1 = "<centre <", .expect = REASON_NOT_WELL_FORMED,
	  .kind = K_NONE, .line = 3 },

	/* The profile comes before the schema. */
	{ .name = "unsigned_and_schema_invalid", .file = ATT,
	  .from1 = BAD_LICENCE_FROM, .to1 = BAD_LICENCE_TO,
	  .expect = REASON_SIGNATURE_MISSING, .kind = K_ATT },
	{ .name = "unsigned_signin_sheet", .file = SHEET,
	  .expect = REASON_SIGNATURE_MISSING, .kind = K_SHEET },
	{ .name = "bad_profile_and_schema_invalid", .file = ATT, .signer = "centre-rsa",
	  .from1 = REF_FROM, .to1 = REF_TO, .from2 = BAD_LICENCE_FROM, .to2 = BAD_LICENCE_TO,
	  .crl = "crl.pem", .expect = REASON_SIGNATURE_PROFILE, .kind = K_ATT },
	{ .name = "algorithm_downgrade", .file = ATT, .signer = "centre-rsa",
	  .from1 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
	  .to1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1", .crl = "crl.pem",
	  .expect = REASON_SIGNATURE_PROFILE, .kind = K_ATT },
	{ .name = "key_name_instead_of_certificate", .file = SHEET, .signer = "centre-ec",
	  .from1 = "<ds:KeyInfo>", .to1 = "<ds:KeyInfo><ds:KeyName>centre</ds:KeyName>",
	  .crl = "crl.pem", .expect = REASON_SIGNATURE_PROFILE, .kind = K_SHEET },

	/* The schema comes before the signature value. */
	{ .name = "signed_then_schema_invalid", .file = ATT, .signer = "centre-rsa",
	  .from1 = BAD_LICENCE_FROM, .to1 = BAD_LICENCE_TO, .crl = "crl.pem",
	  .expect = REASON_SCHEMA_INVALID, .kind = K_ATT, .line = 6 },
	{ .name = "schema_invalid_signed_properly", .file = "schema_invalid/bad-licence-lowercase.xml",
	  .signer = "centre-ec", .crl = "crl.pem", .expect = REASON_SCHEMA_INVALID, .kind = K_ATT },
	{ .name = "schema_invalid_with_untrusted_key", .file = "schema_invalid/sessions-3.xml",
	  .signer = "other", .crl = "crl.pem", .expect = REASON_SCHEMA_INVALID, .kind = K_SHEET },
	{ .name = "mapping_check_signed_properly", .file = "schema_invalid/scan-magic-jpeg-as-pdf.xml",
	  .signer = "centre-ec", .crl = "crl.pem", .expect = REASON_SCHEMA_INVALID,
	  .kind = K_SHEET },
	{ .name = "receipt_signed_properly", .file = "valid/receipt-accepted.xml",
	  .signer = "prefecture", .crl = "crl.pem", .expect = REASON_SCHEMA_INVALID,
	  .kind = K_NONE },
	{ .name = "unknown_root_signed", .file = "schema_invalid/wrong-root.xml",
	  .signer = "centre-rsa", .crl = "crl.pem", .expect = REASON_SCHEMA_INVALID,
	  .kind = K_NONE },

	/* The signature value comes before the certificate. */
	{ .name = "tampered_name", .file = ATT, .signer = "centre-rsa",
	  .from1 = TAMPER_FROM, .to1 = TAMPER_TO, .crl = "crl.pem",
	  .expect = REASON_SIGNATURE_INVALID, .kind = K_ATT },
	{ .name = "tampered_arrival", .file = SHEET, .signer = "centre-ec",
	  .from1 = "arrived=\"08:45\"", .to1 = "arrived=\"08:25\"", .crl = "crl.pem",
	  .expect = REASON_SIGNATURE_INVALID, .kind = K_SHEET },
	{ .name = "tampered_and_untrusted", .file = ATT, .signer = "other",
	  .from1 = TAMPER_FROM, .to1 = TAMPER_TO, .crl = "crl.pem",
	  .expect = REASON_SIGNATURE_INVALID, .kind = K_ATT },
	{ .name = "tampered_and_revoked", .file = ATT, .signer = "revoked",
	  .from1 = TAMPER_FROM, .to1 = TAMPER_TO, .crl = "crl.pem",
	  .expect = REASON_SIGNATURE_INVALID, .kind = K_ATT },
	{ .name = "tampered_and_crl_stale", .file = ATT, .signer = "centre-rsa",
	  .from1 = TAMPER_FROM, .to1 = TAMPER_TO, .crl = "crl-stale.pem",
	  .expect = REASON_SIGNATURE_INVALID, .kind = K_ATT },

	/* The certificate, judged at the reception time. */
	{ .name = "untrusted", .file = ATT, .signer = "other", .crl = "crl.pem",
	  .expect = REASON_CERT_UNTRUSTED, .kind = K_ATT },
	{ .name = "expired", .file = ATT, .signer = "expired", .crl = "crl.pem",
	  .expect = REASON_CERT_EXPIRED, .kind = K_ATT },
	{ .name = "expired_received_while_valid", .file = ATT, .signer = "expired", .crl = "crl.pem",
	  .at = AT_2020, .expect = REASON_OK, .kind = K_ATT },
	{ .name = "not_yet_valid", .file = SHEET, .signer = "notyet", .crl = "crl.pem",
	  .expect = REASON_CERT_EXPIRED, .kind = K_SHEET },
	{ .name = "received_before_validity", .file = ATT, .signer = "centre-rsa",
	  .at = AT_2019, .expect = REASON_CERT_EXPIRED, .kind = K_ATT },
	{ .name = "received_after_validity", .file = ATT, .signer = "centre-ec",
	  .at = AT_2050, .expect = REASON_CERT_EXPIRED, .kind = K_ATT },
	{ .name = "revoked", .file = ATT, .signer = "revoked", .crl = "crl.pem",
	  .expect = REASON_CERT_REVOKED, .kind = K_ATT },
	{ .name = "revoked_der_crl", .file = SHEET, .signer = "revoked", .crl = "crl.der",
	  .expect = REASON_CERT_REVOKED, .kind = K_SHEET },
	{ .name = "revoked_without_crl", .file = ATT, .signer = "revoked",
	  .expect = REASON_OK, .kind = K_ATT },
	{ .name = "rsa_1024", .file = ATT, .signer = "rsa1024", .crl = "crl.pem",
	  .expect = REASON_CERT_POLICY, .kind = K_ATT },
	{ .name = "key_encipherment_only", .file = ATT, .signer = "keyusage", .crl = "crl.pem",
	  .expect = REASON_CERT_POLICY, .kind = K_ATT },
	{ .name = "ec_p384", .file = SHEET, .signer = "p384", .crl = "crl.pem",
	  .expect = REASON_CERT_POLICY, .kind = K_SHEET },
	{ .name = "crl_stale", .file = ATT, .signer = "centre-rsa", .crl = "crl-stale.pem",
	  .expect = REASON_CRL_STALE, .kind = K_ATT },
	{ .name = "crl_stale_revoked", .file = ATT, .signer = "revoked", .crl = "crl-stale.pem",
	  .expect = REASON_CRL_STALE, .kind = K_ATT },
	{ .name = "crl_of_another_ca", .file = ATT, .signer = "centre-rsa", .crl = "crl-other.pem",
	  .expect = REASON_CRL_STALE, .kind = K_ATT },

	/* The size is checked before anything is parsed. */
	{ .name = "too_large_signed", .file = ATT, .signer = "centre-rsa", .crl = "crl.pem",
	  .max_size = 1000, .expect = REASON_TOO_LARGE, .kind = K_NONE },
	{ .name = "too_large_and_not_well_formed", .file = ATT,
	  .from1 = "</attestations>", .to1 = "</attestations", .max_size = 100,
	  .expect = REASON_TOO_LARGE, .kind = K_NONE },
	{ .name = "too_large_and_doctype", .file = ATT, .from1 = DOCTYPE_FROM, .to1 = DOCTYPE_TO,
	  .max_size = 100, .expect = REASON_TOO_LARGE, .kind = K_NONE },
};

/* One case of parsers::order (issue 12: the cases share one process). */
static void parsers_order_case(const struct pcase *c)
{
	struct parsers *p = make_parsers(c->crl, c->max_size);
	char *text = doc_text(c->file);
	struct outcome o;

	if (c->signer[0] != '\0') {
		char *signed_text = pki_sign_text(text, c->signer);
		free(text);
		text = signed_text;
	}
	mutate(&text, c->from1, c->to1);
	mutate(&text, c->from2, c->to2);
	parse_text(p, text, strlen(text), c->at ? (time_t)c->at : AT, &o);
	cr_expect_eq(o.r, c->expect, "%s: expected %s, got %s (line %d: %s)", c->name,
		     reason_code(c->expect), reason_code(o.r), o.err.line, o.err.message);
	cr_expect_eq(o.kind, c->kind, "%s: kind_out %d, expected %d", c->name, o.kind, c->kind);
	cr_expect_eq(reason_is_temporary(o.r), c->expect == REASON_CRL_STALE,
		     "%s: %s temporary?", c->name, reason_code(o.r));
	if (c->line)
		cr_expect_eq(o.err.line, c->line, "%s: line %d, expected %d (%s)", c->name,
			     o.err.line, c->line, o.err.message);
	outcome_clear(&o);
	free(text);
	parsers_free(p);
}

Test(parsers, order)
{
	EACH_ROW_FRESH(sizeof(pcases) / sizeof(pcases[0]), teardown, setup, parsers_order_case, pcases);
}

/* --- values and evidence ---------------------------------------------------- */

static date_t ymd(int y, int m, int d)
{
	return date_from_ymd(y, m, d);
}

static void expect_evidence(const struct outcome *o, const char *pem_file, bool with_crl)
{
	pki_expect_evidence(&o->ev, pem_file, with_crl);
	cr_expect_str_eq(o->doc->signer_sha256, o->ev.signer_sha256);
}

static void expect_example_attestations(const struct document *d)
{
	cr_assert_eq(d->kind, DOC_ATTESTATIONS);
	cr_expect_eq(d->created, (time_t)1794672300, "2026-11-14T17:05:00+01:00");
	cr_expect_str_eq(d->approval, "R2402800010");
	cr_expect_str_eq(d->stage.ref, "CH-2026-1113");
	cr_expect_str_eq(d->stage.departement, "28");
	cr_expect_eq(d->stage.first_day, ymd(2026, 11, 13));
	cr_expect_eq(d->stage.last_day, ymd(2026, 11, 14));
	cr_assert_eq(d->n_attestations, 5);
	cr_expect_str_eq(d->attestations[0].number, "CH-2026-1113-01");
	cr_expect_eq(d->attestations[0].stage_case, 1);
	cr_expect_eq(d->attestations[0].issued, ymd(2026, 11, 14));
	cr_expect_str_eq(d->attestations[0].trainee.licence, "120575300042");
	cr_expect_str_eq(d->attestations[0].trainee.surname, "MARTIN");
	cr_expect_eq(d->attestations[0].trainee.birth_date, ymd(1990, 4, 12));
	cr_expect(d->attestations[1].has_letter_48n);
	cr_expect_eq(d->attestations[1].letter_48n_received, ymd(2026, 9, 30));
	cr_expect(d->attestations[2].has_court_order);
	cr_expect_str_eq(d->attestations[2].court_order_ref, "PARQUET-28-2026-1234");
	cr_expect_str_eq(d->attestations[2].trainee.given_names, "Jean-Loïc");
	cr_expect_str_eq(d->attestations[3].trainee.surname, "O'BRIEN");
	cr_expect_eq(d->attestations[3].court_order_date, ymd(2026, 6, 15));
	cr_expect_not(d->attestations[4].has_letter_48n);
	cr_expect_eq(d->attestations[4].trainee.birth_date, ymd(2000, 2, 29));
	cr_expect_eq(d->n_attestations, 5);
	cr_expect_eq(d->sheet.n_participants, 0);
}

static void expect_example_sheet(const struct document *d)
{
	const struct doc_signin_sheet *s = &d->sheet;

	cr_assert_eq(d->kind, DOC_SIGNIN_SHEET);
	cr_expect_eq(d->created, (time_t)1794672000, "2026-11-14T17:00:00+01:00");
	cr_expect_str_eq(d->approval, "R2402800010");
	cr_expect_str_eq(d->stage.ref, "CH-2026-1113");
	cr_expect_str_eq(s->venue, "Salle Jean Moulin, 12 rue des Lices, 28000 Chartres");
	cr_expect_eq(s->sessions[SESSION_1AM].date, ymd(2026, 11, 13));
	cr_expect_eq(s->sessions[SESSION_1AM].start, 8 * 60 + 30);
	cr_expect_eq(s->sessions[SESSION_2PM].date, ymd(2026, 11, 14));
	cr_expect_eq(s->sessions[SESSION_2PM].end, 16 * 60 + 30);
	cr_expect_eq(s->facilitators[0].role, ROLE_PSYCHOLOGIST);
	cr_expect_str_eq(s->facilitators[0].authorisation, "PSY-28-2019-004");
	cr_expect_eq(s->facilitators[1].role, ROLE_ROAD_SAFETY_EXPERT);
	cr_expect_str_eq(s->facilitators[1].surname, "LEROY");
	cr_assert_eq(s->n_participants, 3);
	cr_expect_str_eq(s->participants[0].person.licence, "120575300042");
	cr_expect_eq(s->participants[0].identity.type, ID_CARD);
	cr_expect_eq(s->participants[0].identity.media_type, MEDIA_JPEG);
	cr_expect_eq(s->participants[0].identity.scan_size, 22);
	cr_expect_eq(s->participants[0].identity.scan[0], 0xff);
	cr_expect_eq(strlen(s->participants[0].identity.scan_sha256), 64);
	cr_expect_eq(s->participants[1].identity.media_type, MEDIA_PNG);
	cr_expect_not(s->participants[1].presence[SESSION_2PM].present);
	cr_expect(s->participants[1].presence[SESSION_2AM].present);
	cr_expect_not(s->participants[1].presence[SESSION_2AM].signed_in);
	cr_expect_eq(s->participants[2].identity.media_type, MEDIA_PDF);
	cr_expect_eq(s->participants[2].presence[SESSION_1AM].arrived, 8 * 60 + 45);
	cr_expect_eq(d->n_attestations, 0);
}

Test(parsers, attestations_signed_rsa_values_and_evidence)
{
	struct parsers *p = make_parsers("crl.pem", 0);
	char *text = doc_text(ATT), *signed_text = pki_sign_text(text, "centre-rsa");
	struct outcome o;

	cr_assert_eq(parse_text(p, signed_text, strlen(signed_text), AT, &o), REASON_OK,
		     "%s: %s", reason_code(o.r), o.err.message);
	cr_expect_eq(o.kind, DOC_ATTESTATIONS);
	expect_example_attestations(o.doc);
	expect_evidence(&o, "centre-rsa.pem", true);
	outcome_clear(&o);
	free(text);
	free(signed_text);
	parsers_free(p);
}

Test(parsers, signin_sheet_signed_ec_values_and_evidence)
{
	struct parsers *p = make_parsers("", 0);
	char *text = doc_text(SHEET), *signed_text = pki_sign_text(text, "centre-ec");
	struct outcome o;

	cr_assert_eq(parse_text(p, signed_text, strlen(signed_text), AT, &o), REASON_OK,
		     "%s: %s", reason_code(o.r), o.err.message);
	cr_expect_eq(o.kind, DOC_SIGNIN_SHEET);
	expect_example_sheet(o.doc);
	expect_evidence(&o, "centre-ec.pem", false);
	outcome_clear(&o);
	free(text);
	free(signed_text);
	parsers_free(p);
}

/* --- another implementation: `xmlsec1 --sign` with a profile template ------- */

struct xcase {
	char file[64];
	char root[16];
	char who[16];
	char alg[64];
};

static const struct xcase xcases[] = {
	{ ATT, "attestations", "centre-rsa", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" },
	{ ATT, "attestations", "centre-ec", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256" },
	{ SHEET, "signin-sheet", "centre-rsa", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" },
	{ SHEET, "signin-sheet", "centre-ec", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256" },
};

ParameterizedTestParameters(parsers, xmlsec1_signed)
{
	return cr_make_param_array(struct xcase, xcases, sizeof(xcases) / sizeof(xcases[0]));
}

ParameterizedTest(const struct xcase *c, parsers, xmlsec1_signed)
{
	struct parsers *p = make_parsers("crl.pem", 0);
	char *text = doc_text(c->file);
	char *end_tag = xasprintf("</%s>", c->root);
	char *sig = xasprintf(
		"  <ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">\n"
		"    <ds:SignedInfo>\n"
		"      <ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>\n"
		"      <ds:SignatureMethod Algorithm=\"%s\"/>\n"
		"      <ds:Reference URI=\"\">\n"
		"        <ds:Transforms>\n"
		"          <ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>\n"
		"          <ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>\n"
		"        </ds:Transforms>\n"
		"        <ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>\n"
		"        <ds:DigestValue/>\n"
		"      </ds:Reference>\n"
		"    </ds:SignedInfo>\n"
		"    <ds:SignatureValue/>\n"
		"    <ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo>\n"
		"  </ds:Signature>\n%s", c->alg, end_tag);
	char *tmpl = docs_replace(text, end_tag, sig);
	char *signed_text = pki_xmlsec1_sign(tmpl, c->who);
	char pem[64];
	struct outcome o;

	cr_assert_eq(parse_text(p, signed_text, strlen(signed_text), AT, &o), REASON_OK,
		     "%s by xmlsec1 with %s: %s: %s", c->file, c->who, reason_code(o.r),
		     o.err.message);
	if (o.doc->kind == DOC_ATTESTATIONS)
		expect_example_attestations(o.doc);
	else
		expect_example_sheet(o.doc);
	snprintf(pem, sizeof(pem), "%s.pem", c->who);
	expect_evidence(&o, pem, true);
	outcome_clear(&o);

	/* And what xmlsec1 signed is as tamper-evident as ours. */
	mutate(&signed_text, "surname=\"MARTIN\"", "surname=\"MARTIM\"");
	cr_expect_eq(parse_text(p, signed_text, strlen(signed_text), AT, &o),
		     REASON_SIGNATURE_INVALID, "%s: %s", reason_code(o.r), o.err.message);
	outcome_clear(&o);

	free(signed_text);
	free(tmpl);
	free(sig);
	free(end_tag);
	free(text);
	parsers_free(p);
}

/* --- whole directories of tests/fixtures/docs/ ------------------------------ */

/* Every file of the directories named after a loading code earns that code,
 * unsigned as they are: loading comes before the signature. */
Test(parsers, hostile_directories)
{
	static const struct {
		const char *dir;
		enum reason expect;
	} dirs[] = {
		{ "not_well_formed", REASON_NOT_WELL_FORMED },
		{ "doctype_forbidden", REASON_DOCTYPE_FORBIDDEN },
		{ "xml_construct_forbidden", REASON_XML_CONSTRUCT_FORBIDDEN },
		{ "too_large", REASON_TOO_LARGE },
	};
	struct parsers *p = make_parsers("crl.pem", 0);
	size_t total = 0;

	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		char *dir = xasprintf(DOCS "%s", dirs[d].dir);
		char **names = docs_list(dir);
		for (size_t i = 0; names[i]; i++, total++) {
			char *path = xasprintf("%s/%s", dir, names[i]);
			size_t len;
			unsigned char *bytes = docs_read(path, &len);
			struct outcome o;
			parse_text(p, (const char *)bytes, len, AT, &o);
			cr_expect_eq(o.r, dirs[d].expect, "%s: %s (%s)", path, reason_code(o.r),
				     o.err.message);
			cr_expect_eq(o.kind, K_NONE, "%s: kind_out %d", path, o.kind);
			outcome_clear(&o);
			free(bytes);
			free(path);
		}
		docs_free_list(names);
		free(dir);
	}
	cr_expect_geq(total, 40, "only %zu hostile files found", total);
	parsers_free(p);
}

/* The schema-invalid documents: unsigned, the missing signature is what is
 * reported; signed properly, the schema (or the mapping) refuses them. */
Test(parsers, schema_invalid_directory)
{
	struct parsers *p = make_parsers("crl.pem", 0);
	char **names = docs_list(DOCS "schema_invalid");
	size_t n = 0;

	for (size_t i = 0; names[i]; i++, n++) {
		char *file = xasprintf("schema_invalid/%s", names[i]);
		char *text = doc_text(file);
		bool has_signature = strstr(text, "xmldsig#") != NULL;
		struct outcome o;

		parse_text(p, text, strlen(text), AT, &o);
		cr_expect_eq(o.r, has_signature ? REASON_SIGNATURE_PROFILE : REASON_SIGNATURE_MISSING,
			     "%s unsigned: %s (%s)", file, reason_code(o.r), o.err.message);
		outcome_clear(&o);
		if (!has_signature) {
			char *signed_text = pki_sign_text(text, "centre-ec");
			parse_text(p, signed_text, strlen(signed_text), AT, &o);
			cr_expect_eq(o.r, REASON_SCHEMA_INVALID, "%s signed: %s (%s)", file,
				     reason_code(o.r), o.err.message);
			cr_expect_gt(o.err.line, 0, "%s: no line (%s)", file, o.err.message);
			outcome_clear(&o);
			free(signed_text);
		}
		free(text);
		free(file);
	}
	cr_expect_geq(n, 60);
	docs_free_list(names);
	parsers_free(p);
}

/* Every valid submission, signed, passes; its kind follows its name. */
Test(parsers, valid_directory_signed)
{
	struct parsers *p = make_parsers("crl.pem", 0);
	char **names = docs_list(DOCS "valid");
	size_t n = 0;

	for (size_t i = 0; names[i]; i++) {
		if (strncmp(names[i], "receipt-", 8) == 0 || strstr(names[i], "-with-signature"))
			continue;
		char *file = xasprintf("valid/%s", names[i]);
		char *text = doc_text(file);
		char *signed_text = pki_sign_text(text, n % 2 ? "centre-ec" : "centre-rsa");
		int kind = strncmp(names[i], "signin-sheet", 12) == 0 ? K_SHEET : K_ATT;
		struct outcome o;

		parse_text(p, signed_text, strlen(signed_text), AT, &o);
		cr_expect_eq(o.r, REASON_OK, "%s: %s (line %d: %s)", file, reason_code(o.r),
			     o.err.line, o.err.message);
		cr_expect_eq(o.kind, kind, "%s: kind_out %d", file, o.kind);
		outcome_clear(&o);
		free(signed_text);
		free(text);
		free(file);
		n++;
	}
	cr_expect_geq(n, 14);
	docs_free_list(names);
	parsers_free(p);
}

/* A placeholder signature (the generator's, "AAAA") is refused: it names
 * no certificate. */
Test(parsers, placeholder_signature)
{
	struct parsers *p = make_parsers("crl.pem", 0);
	static const char *const files[] = { "valid/attestations-with-signature.xml",
					     "valid/signin-sheet-with-signature.xml" };

	for (size_t i = 0; i < 2; i++) {
		char *text = doc_text(files[i]);
		struct outcome o;
		parse_text(p, text, strlen(text), AT, &o);
		cr_expect_eq(o.r, REASON_SIGNATURE_PROFILE, "%s: %s (%s)", files[i],
			     reason_code(o.r), o.err.message);
		outcome_clear(&o);
		free(text);
	}
	parsers_free(p);
}

/* --- size limit, trust files ------------------------------------------------ */

Test(parsers, size_limit_is_inclusive)
{
	char *text = doc_text(ATT), *signed_text = pki_sign_text(text, "centre-rsa");
	size_t len = strlen(signed_text);
	struct parsers *at_limit = make_parsers("", len), *below = make_parsers("", len - 1);
	struct outcome o;

	cr_expect_eq(parse_text(at_limit, signed_text, len, AT, &o), REASON_OK, "%s",
		     o.err.message);
	outcome_clear(&o);
	cr_expect_eq(parse_text(below, signed_text, len, AT, &o), REASON_TOO_LARGE);
	cr_expect_eq(o.err.line, 0);
	outcome_clear(&o);
	free(text);
	free(signed_text);
	parsers_free(at_limit);
	parsers_free(below);
}

Test(parsers, stale_crl_then_reload)
{
	struct parsers *p = make_parsers("crl-stale.pem", 0);
	char *text = doc_text(SHEET), *signed_text = pki_sign_text(text, "centre-ec");
	struct parse_error err = { 0 };
	struct outcome o;

	cr_expect_eq(parse_text(p, signed_text, strlen(signed_text), AT, &o), REASON_CRL_STALE);
	cr_expect(reason_is_temporary(o.r));
	cr_expect_eq(o.kind, K_SHEET);
	outcome_clear(&o);

	/* A reload that fails keeps the old trust. */
	cr_expect_eq(parsers_reload_trust(p, pki("ca-bundle.pem"), pki("no-such.crl"), &err),
		     REASON_TRUST_UNAVAILABLE);
	cr_expect_eq(parse_text(p, signed_text, strlen(signed_text), AT, &o), REASON_CRL_STALE);
	outcome_clear(&o);

	cr_expect_eq(parsers_reload_trust(p, pki("ca-bundle.pem"), pki("crl.pem"), &err), REASON_OK,
		     "%s", err.message);
	cr_expect_eq(parse_text(p, signed_text, strlen(signed_text), AT, &o), REASON_OK, "%s",
		     o.err.message);
	outcome_clear(&o);

	/* A bundle without the centres' CAs: the same file is untrusted. */
	cr_expect_eq(parsers_reload_trust(p, pki("otherca.pem"), NULL, &err), REASON_OK, "%s",
		     err.message);
	cr_expect_eq(parse_text(p, signed_text, strlen(signed_text), AT, &o),
		     REASON_CERT_UNTRUSTED);
	outcome_clear(&o);

	free(text);
	free(signed_text);
	parsers_free(p);
}

Test(parsers, unreadable_trust_files)
{
	struct parsers_limits limits = { .max_file_size = 1 << 20 };
	struct parse_error err = { 0 };

	cr_expect_null(parsers_new(pki("no-such-bundle.pem"), NULL, &limits, &err));
	cr_expect_eq(err.reason, REASON_TRUST_UNAVAILABLE);
	cr_expect(reason_is_temporary(err.reason));
	cr_expect_neq(err.message[0], '\0');
	memset(&err, 0, sizeof(err));
	cr_expect_null(parsers_new(pki("ca-bundle.pem"), pki("centre-ec.key"), &limits, &err));
	cr_expect_eq(err.reason, REASON_TRUST_UNAVAILABLE);
}

/* One parsers object, many files: nothing of one file carries over. */
Test(parsers, no_state_between_files)
{
	struct parsers *p = make_parsers("crl.pem", 0);
	char *att = doc_text(ATT), *sheet = doc_text(SHEET);
	char *good = pki_sign_text(att, "centre-rsa"), *other = pki_sign_text(sheet, "other");
	struct outcome o;

	for (int i = 0; i < 3; i++) {
		cr_expect_eq(parse_text(p, good, strlen(good), AT, &o), REASON_OK);
		outcome_clear(&o);
		cr_expect_eq(parse_text(p, other, strlen(other), AT, &o), REASON_CERT_UNTRUSTED);
		outcome_clear(&o);
		cr_expect_eq(parse_text(p, sheet, strlen(sheet), AT, &o), REASON_SIGNATURE_MISSING);
		outcome_clear(&o);
	}
	free(att);
	free(sheet);
	free(good);
	free(other);
	parsers_free(p);
}

/* The table earns every document-level code the parsers can give (an edit
 * that drops the last case of one fails here). */
Test(parsers, table_covers_every_document_code)
{
	static const enum reason codes[] = {
		REASON_TOO_LARGE, REASON_NOT_WELL_FORMED, REASON_DOCTYPE_FORBIDDEN,
		REASON_XML_CONSTRUCT_FORBIDDEN, REASON_SCHEMA_INVALID, REASON_SIGNATURE_MISSING,
		REASON_SIGNATURE_PROFILE, REASON_SIGNATURE_INVALID, REASON_CERT_UNTRUSTED,
		REASON_CERT_EXPIRED, REASON_CERT_REVOKED, REASON_CERT_POLICY, REASON_CRL_STALE,
	};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		bool found = false;
		for (size_t j = 0; j < sizeof(pcases) / sizeof(pcases[0]); j++)
			found = found || pcases[j].expect == codes[i];
		cr_expect(found, "no case earns %s", reason_code(codes[i]));
	}
}
