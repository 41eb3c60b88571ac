/*
 * test_signature - the XML-DSig profile of exchange-format.md §5 against
 * hostile documents, each case with the exact reason it must produce; the
 * certificate checks against a throwaway PKI (pki_fixture.h, made once per
 * run); and interoperability with the xmlsec1 command-line tool, which
 * signs independently of our code.
 *
 * Documents are parsed with plain xmlReadMemory(): the hardened loader is
 * another module's, and the signature must hold on its own.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/crypto.h>
#include <xmlsec/io.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmltree.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "pki_fixture.h"
#include "signature.h"
#include "xmalloc.h"
#include "each_row.h"

/* 2026-11-14T12:00:00Z, the reception time of every case unless stated. */
#define AT ((time_t)1794657600)
/* 2020-06-01T12:00:00Z, inside the validity of expired.pem. */
#define AT_2020 ((time_t)1591012800)

#define NS_DS_DECL "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\""

static const char base_doc[] =
	"<attestations xmlns=\"urn:ssr:stage:1\" version=\"1\" created=\"2026-11-14T17:05:00+01:00\">\n"
	"  <centre approval=\"R2402800010\"/>\n"
	"  <stage ref=\"CH-2026-1113\" departement=\"28\" first-day=\"2026-11-13\" last-day=\"2026-11-14\">"
	"<venue>Salle Jean Moulin</venue></stage>\n"
	"  <attestation number=\"CH-2026-1113-01\" case=\"1\" issued=\"2026-11-14\">\n"
	"    <trainee licence=\"120575300042\" surname=\"MARTIN\" given-names=\"Claire\" birth-date=\"1990-04-12\"/>\n"
	"  </attestation>\n"
	"</attestations>\n";

/* --- per-test state --------------------------------------------------------- */

struct cached_trust {
	char crl[32];
	struct sig_trust *trust;
};
static struct cached_trust trusts[8];
static size_t ntrusts;

static void setup(void)
{
	struct parse_error err = { 0 };

	pki_dir();	/* fails here without the PKI */
	cr_assert_eq(sig_global_init(&err), REASON_OK, "%s", err.message);
}

static void teardown(void)
{
	for (size_t i = 0; i < ntrusts; i++)
		sig_trust_free(trusts[i].trust);
	ntrusts = 0;
	sig_global_shutdown();
}

TestSuite(signature, .init = setup, .fini = teardown);

/* The CA bundle with the given CRL file ("" for none), loaded once per test. */
static const struct sig_trust *trust(const char *crl)
{
	struct sig_trust *t;

	for (size_t i = 0; i < ntrusts; i++)
		if (strcmp(trusts[i].crl, crl) == 0)
			return trusts[i].trust;
	cr_assert_lt(ntrusts, sizeof(trusts) / sizeof(trusts[0]));
	t = pki_trust(crl);
	snprintf(trusts[ntrusts].crl, sizeof(trusts[0].crl), "%s", crl);
	trusts[ntrusts++].trust = t;
	return t;
}

static xmlDocPtr parse(const char *xml)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, 0);

	cr_assert_not_null(doc, "test document not well-formed:\n%s", xml);
	return doc;
}

/* base_doc signed by our code with WHO.key / WHO.pem. */
static char *signed_by(const char *who)
{
	return pki_sign_text(base_doc, who);
}

/*
 * Profile check, then verification, as the pipeline runs them; also
 * verification alone (it must enforce the profile itself).  Returns the
 * reason and checks the error and evidence contracts on the way.
 */
static enum reason run(const char *xml, const struct sig_trust *t, time_t at,
		       struct parse_evidence *ev_out)
{
	struct parse_error err = { 0 }, err2 = { 0 };
	struct parse_evidence ev = { 0 };
	xmlDocPtr doc = parse(xml);
	enum reason profile, r;

	profile = sig_check_profile(doc, &err);
	r = sig_verify(doc, t, at, &ev, &err2);
	if (r != REASON_SIGNATURE_MISSING && r != REASON_SIGNATURE_PROFILE)
		cr_expect_eq(profile, REASON_OK, "the profile refused (%s) what verify judged %s",
			     err.message, reason_code(r));
	if (profile != REASON_OK) {
		cr_expect_eq(r, profile, "verify alone gave %s, the profile %s (%s)",
			     reason_code(r), reason_code(profile), err.message);
		cr_expect_eq(err.reason, profile);
		cr_expect_neq(err.message[0], '\0');
	}
	if (r != REASON_OK) {
		cr_expect_eq(err2.reason, r);
		cr_expect_neq(err2.message[0], '\0');
		cr_expect_null(ev.signer_der, "evidence filled on failure");
		cr_expect_null(ev.chain_pem);
	} else {
		cr_expect_not_null(ev.signer_der);
		cr_expect_not_null(ev.chain_pem);
	}
	if (ev_out != NULL)
		*ev_out = ev;
	else
		parse_evidence_clear(&ev);
	xmlFreeDoc(doc);
	return r;
}

/* --- text surgery on a signed document ------------------------------------- */

/* xml with the first `find` replaced by `repl`; the case is wrong if absent. */
static char *replace(const char *xml, const char *find, const char *repl)
{
	const char *at = strstr(xml, find);
	size_t head;
	char *out;

	cr_assert_not_null(at, "mutation target not found: %s", find);
	head = (size_t)(at - xml);
	out = xmalloc(strlen(xml) - strlen(find) + strlen(repl) + 1);
	memcpy(out, xml, head);
	strcpy(out + head, repl);
	strcat(out, at + strlen(find));
	return out;
}

/* The signature element's text, "<ds:Signature ...</ds:Signature>". */
static char *signature_of(const char *xml)
{
	const char *start = strstr(xml, "<ds:Signature ");
	const char *end = strstr(xml, "</ds:Signature>");

	cr_assert(start != NULL && end != NULL && end > start);
	return xstrndup(start, (size_t)(end - start) + strlen("</ds:Signature>"));
}

/* One character of the base64 after `marker` changed. */
static char *flip_after(const char *xml, const char *marker, size_t offset)
{
	char *out = xstrdup(xml);
	char *p = strstr(out, marker);

	cr_assert_not_null(p);
	p += strlen(marker) + offset;
	*p = *p == 'A' ? 'B' : 'A';
	return out;
}

/* The base64 body of a PEM certificate of the PKI. */
static char *pem_body(const char *file)
{
	FILE *f = fopen(pki(file), "r");
	char line[256], *body = xstrdup("");

	cr_assert_not_null(f, "%s", file);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *next;
		if (strncmp(line, "-----", 5) == 0)
			continue;
		next = xasprintf("%s%s", body, line);
		free(body);
		body = next;
	}
	fclose(f);
	return body;
}

static char *m_unsigned(const char *xml)
{
	(void)xml;
	return xstrdup(base_doc);
}

/* xml with `at` replaced by head, its Signature element and tail; the
 * original Signature kept (then there are two) or taken out (moved). */
static char *signature_put(const char *xml, bool keep, const char *at, const char *head,
			   const char *tail)
{
	char *sig = signature_of(xml);
	char *base = keep ? xstrdup(xml) : replace(xml, sig, "");
	char *with = xasprintf("%s%s%s", head, sig, tail);
	char *out = replace(base, at, with);

	free(sig);
	free(base);
	free(with);
	return out;
}

static char *m_copy_deeper(const char *xml)
{
	return signature_put(xml, true, "<venue>", "", "<venue>");
}

static char *m_signature_first(const char *xml)
{
	return signature_put(xml, false, "<centre ", "", "\n  <centre ");
}

static char *m_signature_in_child(const char *xml)
{
	return signature_put(xml, false, "</attestation>", "", "</attestation>");
}

/* Classic wrapping: the signed original kept in an Object, the root changed. */
static char *m_content_in_object(const char *xml)
{
	char *obj = xasprintf("<ds:Object>%s</ds:Object></ds:Signature>", base_doc);
	char *wrapped = replace(xml, "</ds:Signature>", obj);
	char *out = replace(wrapped, "surname=\"MARTIN\"", "surname=\"DUPONT\"");

	free(obj);
	free(wrapped);
	return out;
}

/* The reference pointing at a signed copy in an Object, the root changed. */
static char *m_uri_to_copy(const char *xml)
{
	char *obj = xasprintf("<ds:Object Id=\"copy\">%s</ds:Object></ds:Signature>", base_doc);
	char *a = replace(xml, "</ds:Signature>", obj);
	char *b = replace(a, "URI=\"\"", "URI=\"#copy\"");
	char *out = replace(b, "surname=\"MARTIN\"", "surname=\"DUPONT\"");

	free(obj);
	free(a);
	free(b);
	return out;
}

static char *m_signature_in_keyinfo(const char *xml)
{
	return signature_put(xml, true, "<ds:KeyInfo>", "<ds:KeyInfo>", "");
}

/* Root = a detached signature. */
static char *m_root_is_signature(const char *xml)
{
	return signature_of(xml);
}

static char *m_keyinfo_empty(const char *xml)
{
	char *out = xstrdup(xml);
	char *start = strstr(out, "<ds:KeyInfo>");
	char *end = strstr(out, "</ds:KeyInfo>");

	cr_assert(start != NULL && end != NULL);
	start += strlen("<ds:KeyInfo>");
	memmove(start, end, strlen(end) + 1);
	return out;
}

static char *m_no_signature_value(const char *xml)
{
	char *out = xstrdup(xml);
	char *start = strstr(out, "<ds:SignatureValue>");
	char *end = strstr(out, "</ds:SignatureValue>");

	cr_assert(start != NULL && end != NULL);
	end += strlen("</ds:SignatureValue>");
	memmove(start, end, strlen(end) + 1);
	return out;
}

static char *m_two_certificates(const char *xml)
{
	char *cert = pem_body("centre-rsa.pem");
	char *two = xasprintf("<ds:X509Certificate>%s</ds:X509Certificate><ds:X509Certificate>", cert);
	char *out = replace(xml, "<ds:X509Certificate>", two);

	free(cert);
	free(two);
	return out;
}

/* xml carrying another certificate (base64 DER) in its KeyInfo, which is
 * not signed: the value still verifies when the key is the same. */
static char *with_cert(const char *xml, const char *b64)
{
	const char *start = strstr(xml, "<ds:X509Certificate>");
	const char *end = strstr(xml, "</ds:X509Certificate>");
	char *old, *out;

	cr_assert(start != NULL && end != NULL);
	start += strlen("<ds:X509Certificate>");
	old = xstrndup(start, (size_t)(end - start));
	out = replace(xml, old, b64);
	free(old);
	return out;
}

/* Key confusion: a trusted party's certificate, the value made by another key. */
static char *swap_cert(const char *xml, const char *pem)
{
	char *cert = pem_body(pem);
	char *out = with_cert(xml, cert);

	free(cert);
	return out;
}

static char *m_other_parties_ec_cert(const char *xml)
{
	return swap_cert(xml, "centre-ec.pem");
}

static char *m_other_parties_rsa_cert(const char *xml)
{
	return swap_cert(xml, "prefecture.pem");
}

/* A key type xmlsec could not even use: the policy, not an internal error. */
static char *m_ed25519_cert(const char *xml)
{
	return swap_cert(xml, "ed25519.pem");
}

static char *m_digest(const char *xml)
{
	return flip_after(xml, "<ds:DigestValue>", 0);
}

static char *m_signature_value(const char *xml)
{
	return flip_after(xml, "<ds:SignatureValue>", 20);
}

static char *m_unused_ns_moved(const char *xml)
{
	char *a = replace(xml, "<ds:Signature " NS_DS_DECL ">", "<ds:Signature>");
	char *out = replace(a, "<attestations ", "<attestations " NS_DS_DECL " ");

	free(a);
	return out;
}

#define SM "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/>"
#define CM "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>"
#define T_ENV "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>"
#define T_EXC "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>"
#define DM "<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>"
#define REF "<ds:Reference URI=\"\">"
#define KEY_VALUE "<ds:KeyValue><ds:RSAKeyValue><ds:Modulus>AQAB</ds:Modulus>" \
	"<ds:Exponent>AQAB</ds:Exponent></ds:RSAKeyValue></ds:KeyValue>"

struct hostile {
	const char *name;
	const char *find;		/* replaced once by repl, or ... */
	const char *repl;
	char *(*mutate)(const char *xml);	/* ... this, on the RSA-signed document */
	enum reason expect;
};

static const struct hostile hostile[] = {
	/* Where the signature is, and how many. */
	{ "no signature at all", NULL, NULL, m_unsigned, REASON_SIGNATURE_MISSING },
	{ "Signature outside the XML-DSig namespace", NS_DS_DECL,
	  "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#more\"", NULL, REASON_SIGNATURE_MISSING },
	{ "second Signature deeper in the tree", NULL, NULL, m_copy_deeper, REASON_SIGNATURE_PROFILE },
	{ "second Signature inside KeyInfo", NULL, NULL, m_signature_in_keyinfo,
	  REASON_SIGNATURE_PROFILE },
	{ "element after the Signature", "</ds:Signature>",
	  "</ds:Signature><centre approval=\"R2402800010\"/>", NULL, REASON_SIGNATURE_PROFILE },
	{ "Signature as the first child", NULL, NULL, m_signature_first, REASON_SIGNATURE_PROFILE },
	{ "Signature inside a child element", NULL, NULL, m_signature_in_child,
	  REASON_SIGNATURE_PROFILE },
	{ "the root is the Signature", NULL, NULL, m_root_is_signature, REASON_SIGNATURE_PROFILE },
	{ "signed content moved into an Object", NULL, NULL, m_content_in_object,
	  REASON_SIGNATURE_PROFILE },
	{ "Reference URI=#id pointing at a copy", NULL, NULL, m_uri_to_copy,
	  REASON_SIGNATURE_PROFILE },
	{ "whitespace added after the Signature (it is signed content)", "</ds:Signature>",
	  "</ds:Signature>\n  ", NULL, REASON_SIGNATURE_INVALID },

	/* Key material: one X509Certificate, nothing else. */
	{ "KeyValue before X509Data", "<ds:X509Data>", KEY_VALUE "<ds:X509Data>", NULL,
	  REASON_SIGNATURE_PROFILE },
	{ "KeyValue after X509Data", "</ds:X509Data>", "</ds:X509Data>" KEY_VALUE, NULL,
	  REASON_SIGNATURE_PROFILE },
	{ "KeyName", "<ds:X509Data>", "<ds:KeyName>centre</ds:KeyName><ds:X509Data>", NULL,
	  REASON_SIGNATURE_PROFILE },
	{ "RetrievalMethod", "<ds:X509Data>",
	  "<ds:RetrievalMethod URI=\"file:///etc/attestd/key.pem\"/><ds:X509Data>", NULL,
	  REASON_SIGNATURE_PROFILE },
	{ "two X509Certificate", NULL, NULL, m_two_certificates, REASON_SIGNATURE_PROFILE },
	{ "two X509Data", "</ds:X509Data>", "</ds:X509Data><ds:X509Data/>", NULL,
	  REASON_SIGNATURE_PROFILE },
	{ "X509IssuerSerial", "</ds:X509Data>",
	  "<ds:X509IssuerSerial><ds:X509IssuerName>CN=x</ds:X509IssuerName>"
	  "<ds:X509SerialNumber>1</ds:X509SerialNumber></ds:X509IssuerSerial></ds:X509Data>", NULL,
	  REASON_SIGNATURE_PROFILE },
	{ "X509SubjectName", "</ds:X509Data>",
	  "<ds:X509SubjectName>CN=centre</ds:X509SubjectName></ds:X509Data>", NULL,
	  REASON_SIGNATURE_PROFILE },
	{ "foreign element in KeyInfo", "</ds:KeyInfo>", "<x:key xmlns:x=\"urn:x\"/></ds:KeyInfo>",
	  NULL, REASON_SIGNATURE_PROFILE },
	{ "KeyInfo without X509Data", NULL, NULL, m_keyinfo_empty, REASON_SIGNATURE_PROFILE },
	{ "X509Certificate that is not a certificate", "<ds:X509Certificate>",
	  "<ds:X509Certificate>AAAA", NULL, REASON_SIGNATURE_PROFILE },
	{ "another party's EC certificate, value by an RSA key", NULL, NULL,
	  m_other_parties_ec_cert, REASON_SIGNATURE_INVALID },
	{ "another party's RSA certificate, value by another RSA key", NULL, NULL,
	  m_other_parties_rsa_cert, REASON_SIGNATURE_INVALID },
	{ "Ed25519 certificate", NULL, NULL, m_ed25519_cert, REASON_CERT_POLICY },

	/* Algorithms. */
	{ "rsa-sha1", SM,
	  "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2000/09/xmldsig#rsa-sha1\"/>", NULL,
	  REASON_SIGNATURE_PROFILE },
	{ "sha1 digest", DM, "<ds:DigestMethod Algorithm=\"http://www.w3.org/2000/09/xmldsig#sha1\"/>",
	  NULL, REASON_SIGNATURE_PROFILE },
	{ "HMAC", SM,
	  "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#hmac-sha256\"/>",
	  NULL, REASON_SIGNATURE_PROFILE },
	{ "HMACOutputLength", SM,
	  "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\">"
	  "<ds:HMACOutputLength>8</ds:HMACOutputLength></ds:SignatureMethod>", NULL,
	  REASON_SIGNATURE_PROFILE },
	{ "inclusive c14n 1.0 for SignedInfo", CM,
	  "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"/>",
	  NULL, REASON_SIGNATURE_PROFILE },
	{ "inclusive c14n 1.0 transform", T_EXC,
	  "<ds:Transform Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"/>", NULL,
	  REASON_SIGNATURE_PROFILE },
	{ "exc-c14n with comments", T_EXC,
	  "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#WithComments\"/>", NULL,
	  REASON_SIGNATURE_PROFILE },
	{ "XPath transform", T_ENV,
	  "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\">"
	  "<ds:XPath>not(ancestor-or-self::ds:Signature)</ds:XPath></ds:Transform>", NULL,
	  REASON_SIGNATURE_PROFILE },
	{ "XSLT transform", T_EXC,
	  T_EXC "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xslt-19991116\"/>", NULL,
	  REASON_SIGNATURE_PROFILE },
	{ "transforms in the other order", T_ENV "\n" T_EXC, T_EXC "\n" T_ENV, NULL,
	  REASON_SIGNATURE_PROFILE },
	{ "enveloped-signature only", T_EXC, "", NULL, REASON_SIGNATURE_PROFILE },
	{ "no Transforms", "<ds:Transforms>\n" T_ENV "\n" T_EXC "\n</ds:Transforms>", "", NULL,
	  REASON_SIGNATURE_PROFILE },
	{ "parameter on the enveloped transform", T_ENV,
	  "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\">"
	  "x</ds:Transform>", NULL, REASON_SIGNATURE_PROFILE },
	{ "InclusiveNamespaces with another attribute", T_EXC,
	  "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\">"
	  "<ec:InclusiveNamespaces xmlns:ec=\"http://www.w3.org/2001/10/xml-exc-c14n#\" "
	  "PrefixList=\"ds\" Other=\"1\"/></ds:Transform>", NULL, REASON_SIGNATURE_PROFILE },

	/* The reference. */
	{ "Reference without URI", REF, "<ds:Reference>", NULL, REASON_SIGNATURE_PROFILE },
	{ "Reference URI=#x", REF, "<ds:Reference URI=\"#x\">", NULL, REASON_SIGNATURE_PROFILE },
	{ "Reference to a file", REF, "<ds:Reference URI=\"file:///etc/passwd\">", NULL,
	  REASON_SIGNATURE_PROFILE },
	{ "Reference with a Type", REF,
	  "<ds:Reference URI=\"\" Type=\"http://www.w3.org/2000/09/xmldsig#Object\">", NULL,
	  REASON_SIGNATURE_PROFILE },
	{ "two References", "</ds:SignedInfo>",
	  "<ds:Reference URI=\"\"><ds:Transforms>" T_ENV T_EXC "</ds:Transforms>" DM
	  "<ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:SignedInfo>", NULL,
	  REASON_SIGNATURE_PROFILE },

	/* Other shapes. */
	{ "unexpected attribute on Signature", "<ds:Signature ", "<ds:Signature foo=\"bar\" ", NULL,
	  REASON_SIGNATURE_PROFILE },
	{ "xml:lang on SignedInfo", "<ds:SignedInfo>", "<ds:SignedInfo xml:lang=\"fr\">", NULL,
	  REASON_SIGNATURE_PROFILE },
	{ "text inside SignedInfo", "<ds:SignedInfo>", "<ds:SignedInfo>text", NULL,
	  REASON_SIGNATURE_PROFILE },
	{ "no SignatureValue", NULL, NULL, m_no_signature_value, REASON_SIGNATURE_PROFILE },
	{ "Object element", "</ds:Signature>", "<ds:Object/></ds:Signature>", NULL,
	  REASON_SIGNATURE_PROFILE },
	{ "Id on Signature is allowed", "<ds:Signature ", "<ds:Signature Id=\"sig\" ", NULL,
	  REASON_OK },

	/* The value. */
	{ "attribute changed after signing", "surname=\"MARTIN\"", "surname=\"DUPONT\"", NULL,
	  REASON_SIGNATURE_INVALID },
	{ "text changed after signing", "Salle Jean Moulin", "Salle Jean Jaures", NULL,
	  REASON_SIGNATURE_INVALID },
	{ "element added after signing", "</attestation>",
	  "</attestation><attestation number=\"X\" case=\"1\" issued=\"2026-11-14\"/>", NULL,
	  REASON_SIGNATURE_INVALID },
	{ "whitespace changed after signing", "  <centre ", "   <centre ", NULL,
	  REASON_SIGNATURE_INVALID },
	{ "comment injection changing the value", "Salle Jean Moulin",
	  "Salle Jean Moulin<!---->, annexe", NULL, REASON_SIGNATURE_INVALID },
	/* exclusive c14n drops comments: this one verifies, which is why the
	 * loader refuses comments altogether (xml_construct_forbidden). */
	{ "comment splitting a text node, same text", "Salle Jean Moulin",
	  "Salle Jean <!---->Moulin", NULL, REASON_OK },
	{ "tampered DigestValue", NULL, NULL, m_digest, REASON_SIGNATURE_INVALID },
	{ "tampered SignatureValue", NULL, NULL, m_signature_value, REASON_SIGNATURE_INVALID },
	{ "SignedInfo changed (Id added)", "<ds:SignedInfo>", "<ds:SignedInfo Id=\"si\">", NULL,
	  REASON_SIGNATURE_INVALID },

	/* Namespaces. */
	{ "unused namespace declaration added", "<attestations ",
	  "<attestations xmlns:x=\"urn:unused\" ", NULL, REASON_OK },
	{ "ds declaration moved to the root", NULL, NULL, m_unused_ns_moved, REASON_OK },
	{ "document namespace changed", "xmlns=\"urn:ssr:stage:1\"", "xmlns=\"urn:ssr:stage:2\"", NULL,
	  REASON_SIGNATURE_INVALID },
	{ "prefix rebound inside the content", "<venue>",
	  "<venue xmlns=\"urn:other\">", NULL, REASON_SIGNATURE_INVALID },
};

#define NHOSTILE (sizeof(hostile) / sizeof(hostile[0]))

/* One case of signature::hostile (issue 12: the cases share one process). */
static void signature_hostile_case(size_t *i)
{
	const struct hostile *c = &hostile[*i];
	char *xml = signed_by("centre-rsa");
	char *bad;
	enum reason r;

	bad = c->mutate != NULL ? c->mutate(xml) : replace(xml, c->find, c->repl);
	r = run(bad, trust("crl.pem"), AT, NULL);
	cr_expect_eq(r, c->expect, "case \"%s\": got %s, expected %s", c->name, reason_code(r),
		     reason_code(c->expect));
	free(bad);
	free(xml);
}

Test(signature, hostile)
{
	static size_t idx[NHOSTILE];

	for (size_t i = 0; i < NHOSTILE; i++)
		idx[i] = i;
	EACH_ROW_FRESH(NHOSTILE, teardown, setup, signature_hostile_case, idx);
}

/* --- certificates ------------------------------------------------------------ */

struct cert_case {
	const char *signer;		/* PKI file stem */
	const char *crl;		/* "" for none */
	time_t at;
	enum reason expect;
};

static const struct cert_case cert_cases[] = {
	{ "centre-rsa", "crl.pem", AT, REASON_OK },
	{ "centre-ec", "crl.pem", AT, REASON_OK },
	{ "centre-rsa", "", AT, REASON_OK },
	{ "centre-ec", "crl.der", AT, REASON_OK },
	{ "centre-ec", "crl-both.pem", AT, REASON_OK },
	{ "other", "crl.pem", AT, REASON_CERT_UNTRUSTED },
	{ "other", "", AT, REASON_CERT_UNTRUSTED },
	{ "expired", "crl.pem", AT, REASON_CERT_EXPIRED },
	{ "expired", "crl.pem", AT_2020, REASON_OK },	/* judged at reception */
	{ "centre-ec", "crl.pem", (time_t)1546300800, REASON_CERT_EXPIRED },	/* 2019 */
	{ "notyet", "crl.pem", AT, REASON_CERT_EXPIRED },
	{ "revoked", "crl.pem", AT, REASON_CERT_REVOKED },
	{ "revoked", "crl-both.pem", AT, REASON_CERT_REVOKED },
	{ "revoked", "crl-future.pem", AT, REASON_CERT_REVOKED },
	{ "revoked", "", AT, REASON_OK },		/* no CRL configured */
	{ "rsa1024", "crl.pem", AT, REASON_CERT_POLICY },
	{ "keyusage", "crl.pem", AT, REASON_CERT_POLICY },
	{ "p384", "crl.pem", AT, REASON_CERT_POLICY },
	{ "inter", "", AT, REASON_CERT_POLICY },	/* the issuing CA itself */
	{ "centre-ec", "crl-stale.pem", AT, REASON_CRL_STALE },
	{ "centre-ec", "crl-other.pem", AT, REASON_CRL_STALE },
	{ "centre-ec", "crl-forged.pem", AT, REASON_CRL_STALE },
	{ "centre-ec", "crl-future.pem", AT, REASON_OK },	/* newer, not stale */
	{ "prefecture", "crl.pem", AT, REASON_CRL_STALE },	/* root-issued: CRL doesn't cover */
	{ "prefecture", "", AT, REASON_OK },
};

#define NCERT (sizeof(cert_cases) / sizeof(cert_cases[0]))

/* One case of signature::certificate (issue 12: the cases share one process). */
static void signature_certificate_case(size_t *i)
{
	const struct cert_case *c = &cert_cases[*i];
	char *xml = signed_by(c->signer);
	enum reason r = run(xml, trust(c->crl), c->at, NULL);

	cr_expect_eq(r, c->expect, "case %zu: %s with CRL '%s': got %s, expected %s", *i, c->signer,
		     c->crl, reason_code(r), reason_code(c->expect));
	free(xml);
}

Test(signature, certificate)
{
	static size_t idx[NCERT];

	for (size_t i = 0; i < NCERT; i++)
		idx[i] = i;
	EACH_ROW_FRESH(NCERT, teardown, setup, signature_certificate_case, idx);
}

/* --- the verifier's memory (sig_cache_stats) ---------------------------------- */

/* Each test here loads a trust of its own (pki_trust, not trust()), so that
 * what it remembers is this test's alone. */

struct outcome {
	enum reason r;
	char message[512];
	struct parse_evidence ev;
};

static void verdict(const char *xml, const struct sig_trust *t, time_t at, struct outcome *o)
{
	struct parse_error err = { 0 };
	xmlDocPtr doc = parse(xml);

	memset(o, 0, sizeof(*o));
	o->r = sig_verify(doc, t, at, &o->ev, &err);
	snprintf(o->message, sizeof(o->message), "%s", o->r == REASON_OK ? "" : err.message);
	xmlFreeDoc(doc);
}

/* The same verdict, message and evidence, field by field. */
static void expect_same(const struct outcome *got, const struct outcome *want, const char *what)
{
	const struct parse_evidence *a = &got->ev, *b = &want->ev;

	cr_expect_eq(got->r, want->r, "%s: %s, expected %s", what, reason_code(got->r),
		     reason_code(want->r));
	cr_expect_str_eq(got->message, want->message, "%s", what);
	if (got->r != REASON_OK || want->r != REASON_OK)
		return;
	cr_expect_str_eq(a->signer_sha256, b->signer_sha256, "%s", what);
	cr_assert_eq(a->signer_der_len, b->signer_der_len, "%s", what);
	cr_expect_arr_eq(a->signer_der, b->signer_der, a->signer_der_len, "%s", what);
	cr_expect_str_eq(a->chain_pem, b->chain_pem, "%s", what);
	cr_expect_eq(a->crl_number == NULL, b->crl_number == NULL, "%s", what);
	if (a->crl_number != NULL && b->crl_number != NULL)
		cr_expect_str_eq(a->crl_number, b->crl_number, "%s", what);
	cr_expect_str_eq(a->crl_sha256, b->crl_sha256, "%s", what);
	cr_expect_str_eq(a->verifier, b->verifier, "%s", what);
}

/* What a verifier that never saw anything says. */
static void cold(const char *xml, const char *crl, time_t at, struct outcome *o)
{
	struct sig_trust *t = pki_trust(crl);

	verdict(xml, t, at, o);
	sig_trust_free(t);
}

static struct sig_cache_stats stats_of(const struct sig_trust *t)
{
	struct sig_cache_stats s;

	sig_trust_cache_stats(t, &s);
	return s;
}

/*
 * The 25 certificate cases, each on a verifier of its own: twice (a
 * success is served from memory the second time, a failure is never
 * remembered), then once more after every signer of the table has been
 * verified on it at both reception times, good ones first remembered.
 */
/* One case of signature::certificate_warm (issue 12: the cases share one process). */
static void signature_certificate_warm_case(size_t *i)
{
	const struct cert_case *c = &cert_cases[*i];
	struct sig_trust *t = pki_trust(c->crl);
	char *xml = signed_by(c->signer);
	struct outcome first, again, warm;
	struct sig_cache_stats s;
	bool ok = c->expect == REASON_OK;
	size_t remembered = 0;

	char what[160];

	verdict(xml, t, c->at, &first);
	cr_expect_eq(first.r, c->expect, "case %zu: %s with CRL '%s': got %s, expected %s", *i,
		     c->signer, c->crl, reason_code(first.r), reason_code(c->expect));
	verdict(xml, t, c->at, &again);
	snprintf(what, sizeof(what), "case %zu (%s, CRL '%s'): the second time", *i, c->signer,
		 c->crl);
	expect_same(&again, &first, what);
	s = stats_of(t);
	cr_expect_eq(s.entries, ok ? 1u : 0u, "case %zu: %s: %zu remembered", *i, c->signer,
		     s.entries);
	cr_expect_eq(s.cert_hits, ok ? 1u : 0u, "case %zu: %s: cert hits", *i, c->signer);
	cr_expect_eq(s.chain_hits, ok ? 1u : 0u, "case %zu: %s: chain hits", *i, c->signer);

	for (size_t k = 0; k < NCERT; k++) {
		bool seen = false;
		for (size_t j = 0; j < k; j++)
			seen = seen || strcmp(cert_cases[j].signer, cert_cases[k].signer) == 0;
		if (seen)
			continue;
		char *other = signed_by(cert_cases[k].signer);
		bool good = false;
		for (int pass = 0; pass < 2; pass++) {
			struct outcome o;
			verdict(other, t, pass == 0 ? AT : AT_2020, &o);
			good = good || o.r == REASON_OK;
			parse_evidence_clear(&o.ev);
		}
		remembered += good;
		free(other);
	}
	cr_expect_eq(stats_of(t).entries, remembered,
		     "case %zu: the good ones are remembered, only they", *i);
	verdict(xml, t, c->at, &warm);
	snprintf(what, sizeof(what), "case %zu (%s, CRL '%s'): after the others", *i, c->signer,
		 c->crl);
	expect_same(&warm, &first, what);

	parse_evidence_clear(&first.ev);
	parse_evidence_clear(&again.ev);
	parse_evidence_clear(&warm.ev);
	sig_trust_free(t);
	free(xml);
}

Test(signature, certificate_warm)
{
	static size_t idx[NCERT];

	for (size_t i = 0; i < NCERT; i++)
		idx[i] = i;
	EACH_ROW_FRESH(NCERT, teardown, setup, signature_certificate_warm_case, idx);
}

/*
 * expired.pem (2020-01-01 .. 2021-01-01, the CAs' and the CRL's first
 * date too), remembered in 2020: around both of its dates, in an order that
 * crosses them both ways, each verdict is a cold verifier's.
 */
Test(signature, cached_certificate_still_expires)
{
	const time_t start = 1577836800, end = 1609459200;
	const time_t times[] = { end - 3600, end - 60, end - 3, end - 2, end - 1, end, end + 1,
				 end + 3, end + 3600, AT, end - 30, start + 3600, start + 1, start,
				 start - 1, start - 3600, AT_2020 };
	struct sig_trust *t = pki_trust("crl.pem");
	char *xml = signed_by("expired");

	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		struct outcome warm, fresh;
		char what[64];

		snprintf(what, sizeof(what), "at %lld", (long long)times[i]);
		verdict(xml, t, times[i], &warm);
		cold(xml, "crl.pem", times[i], &fresh);
		expect_same(&warm, &fresh, what);
		if (times[i] < end - 1 && times[i] > start + 1)
			cr_expect_eq(warm.r, REASON_OK, "%s", what);
		if (times[i] > end || times[i] < start)
			cr_expect_eq(warm.r, REASON_CERT_EXPIRED, "%s", what);
		parse_evidence_clear(&warm.ev);
		parse_evidence_clear(&fresh.ev);
	}
	/* The control: memory was used, inside the validity. */
	cr_expect_geq(stats_of(t).chain_hits, 3u);
	sig_trust_free(t);
	free(xml);
}

/* centre-ec.pem again, with another serial, notAfter (NULL: the same) and
 * issuer key, base64 DER: the same subject, issuer name and key. */
static char *twin(const char *issuer_key, long serial, const char *not_after)
{
	X509 *cert = pki_x509("centre-ec.pem");
	FILE *f = fopen(pki(issuer_key), "r");
	EVP_PKEY *key;
	unsigned char *der = NULL;
	char *b64;
	int len;

	cr_assert_not_null(f);
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	cr_assert_not_null(key);
	cr_assert_eq(ASN1_INTEGER_set(X509_get_serialNumber(cert), serial), 1);
	if (not_after != NULL)
		cr_assert_eq(ASN1_TIME_set_string(X509_getm_notAfter(cert), not_after), 1);
	cr_assert_gt(X509_sign(cert, key, EVP_sha256()), 0);
	len = i2d_X509(cert, &der);
	cr_assert_gt(len, 0);
	b64 = xmalloc(4 * ((size_t)len + 2) / 3 + 1);
	EVP_EncodeBlock((unsigned char *)b64, der, len);
	OPENSSL_free(der);
	EVP_PKEY_free(key);
	X509_free(cert);
	return b64;
}

/* Remembering centre-ec.pem says nothing of another certificate with its
 * subject and key: each is judged as a cold verifier judges it. */
Test(signature, same_subject_and_key_is_another_certificate)
{
	const struct {
		const char *issuer_key;
		long serial;
		const char *not_after;
		enum reason expect;
	} twins[] = {
		{ "inter.key", 77, "20210101000000Z", REASON_CERT_EXPIRED },
		{ "forged.key", 78, NULL, REASON_CERT_UNTRUSTED },	/* the issuer's name, not its key */
		{ "inter.key", 79, NULL, REASON_OK },			/* the control */
	};
	struct sig_trust *t = pki_trust("crl.pem");
	char *xml = signed_by("centre-ec");
	struct outcome o;

	for (int pass = 0; pass < 2; pass++) {
		verdict(xml, t, AT, &o);
		cr_assert_eq(o.r, REASON_OK, "%s", o.message);
		parse_evidence_clear(&o.ev);
	}
	cr_assert_eq(stats_of(t).chain_hits, 1u);
	for (size_t i = 0; i < sizeof(twins) / sizeof(twins[0]); i++) {
		char *b64 = twin(twins[i].issuer_key, twins[i].serial, twins[i].not_after);
		char *other = with_cert(xml, b64);
		struct sig_cache_stats before = stats_of(t);
		struct outcome fresh;

		verdict(other, t, AT, &o);
		cold(other, "crl.pem", AT, &fresh);
		cr_expect_eq(o.r, twins[i].expect, "twin %zu: %s (%s)", i, reason_code(o.r), o.message);
		expect_same(&o, &fresh, "a twin");
		cr_expect_eq(stats_of(t).cert_hits, before.cert_hits, "twin %zu taken from memory", i);
		cr_expect_eq(stats_of(t).entries, before.entries + (o.r == REASON_OK), "twin %zu", i);
		parse_evidence_clear(&o.ev);
		parse_evidence_clear(&fresh.ev);
		free(other);
		free(b64);
	}
	sig_trust_free(t);
	free(xml);
}

/* The memory is bounded: past its capacity the oldest certificate is
 * forgotten (and verified again from scratch), the newest kept. */
Test(signature, remembers_a_bounded_number)
{
	struct sig_trust *t = pki_trust("crl.pem");
	char *xml = signed_by("centre-ec");
	size_t capacity = stats_of(t).capacity, n;
	char *first = NULL, *last = NULL;
	struct outcome o;
	unsigned long hits;

	cr_assert_gt(capacity, 0u);
	n = capacity + 4;
	for (size_t k = 0; k < n; k++) {
		char *b64 = twin("inter.key", 1000 + (long)k, NULL);
		char *other = with_cert(xml, b64);

		verdict(other, t, AT, &o);
		cr_assert_eq(o.r, REASON_OK, "certificate %zu: %s", k, o.message);
		parse_evidence_clear(&o.ev);
		free(b64);
		if (k == 0)
			first = other;
		else if (k == n - 1)
			last = other;
		else
			free(other);
	}
	cr_expect_eq(stats_of(t).entries, capacity);
	cr_expect_eq(stats_of(t).cert_hits, 0u);
	verdict(last, t, AT, &o);
	cr_expect_eq(o.r, REASON_OK);
	parse_evidence_clear(&o.ev);
	cr_expect_eq(stats_of(t).chain_hits, 1u, "the newest was forgotten");
	hits = stats_of(t).cert_hits;
	verdict(first, t, AT, &o);
	cr_expect_eq(o.r, REASON_OK, "%s", o.message);
	parse_evidence_clear(&o.ev);
	cr_expect_eq(stats_of(t).cert_hits, hits, "the oldest was kept");
	cr_expect_eq(stats_of(t).entries, capacity);
	sig_trust_free(t);
	free(first);
	free(last);
	free(xml);
}

/* A reload is a new trust: it remembers nothing of the old one. */
Test(signature, a_new_trust_starts_empty)
{
	struct sig_trust *old = pki_trust("crl.pem"), *fresh;
	char *xml = signed_by("centre-rsa");
	struct outcome o;
	struct sig_cache_stats s;

	for (int pass = 0; pass < 2; pass++) {
		verdict(xml, old, AT, &o);
		cr_assert_eq(o.r, REASON_OK, "%s", o.message);
		parse_evidence_clear(&o.ev);
	}
	cr_expect_eq(stats_of(old).entries, 1u);
	cr_expect_eq(stats_of(old).chain_hits, 1u);
	fresh = pki_trust("crl.pem");
	s = stats_of(fresh);
	cr_expect(s.entries == 0 && s.cert_hits == 0 && s.chain_hits == 0);
	verdict(xml, fresh, AT, &o);
	cr_expect_eq(o.r, REASON_OK, "%s", o.message);
	parse_evidence_clear(&o.ev);
	s = stats_of(fresh);
	cr_expect(s.entries == 1 && s.cert_hits == 0 && s.chain_hits == 0);
	sig_trust_cache_stats(NULL, &s);
	cr_expect_eq(s.entries, 0u);
	sig_trust_free(old);
	sig_trust_free(fresh);
	free(xml);
}

/* --- evidence ---------------------------------------------------------------- */

static size_t count(const char *s, const char *what)
{
	size_t n = 0;

	for (s = strstr(s, what); s != NULL; s = strstr(s + 1, what))
		n++;
	return n;
}

Test(signature, evidence)
{
	struct parse_evidence ev = { 0 };
	char *xml = signed_by("centre-rsa");

	cr_assert_eq(run(xml, trust("crl.pem"), AT, &ev), REASON_OK);
	pki_expect_evidence(&ev, "centre-rsa.pem", true);
	parse_evidence_clear(&ev);
	cr_expect_null(ev.signer_der);
	cr_expect_null(ev.crl_number);
	parse_evidence_clear(NULL);
	free(xml);
}

Test(signature, evidence_without_crl)
{
	struct parse_evidence ev = { 0 };
	char *xml = signed_by("centre-ec");

	cr_assert_eq(run(xml, trust(""), AT, &ev), REASON_OK);
	pki_expect_evidence(&ev, "centre-ec.pem", false);
	parse_evidence_clear(&ev);
	free(xml);
}

/* --- another implementation: the xmlsec1 command-line tool ------------------ */

/* base_doc with a signature template, signed by `xmlsec1 --sign`. */
static char *xmlsec1_signed(const char *who, const char *sign_alg, const char *digest_alg,
			    const char *c14n_param)
{
	char *tmpl_sig, *tmpl, *xml;

	tmpl_sig = xasprintf(
		"<ds:Signature " NS_DS_DECL "><ds:SignedInfo>"
		"<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\">%s"
		"</ds:CanonicalizationMethod>"
		"<ds:SignatureMethod Algorithm=\"%s\"/><ds:Reference URI=\"\"><ds:Transforms>"
		T_ENV "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\">%s"
		"</ds:Transform></ds:Transforms>"
		"<ds:DigestMethod Algorithm=\"%s\"/><ds:DigestValue/></ds:Reference></ds:SignedInfo>"
		"<ds:SignatureValue/><ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data>"
		"</ds:KeyInfo></ds:Signature></attestations>",
		c14n_param, sign_alg, c14n_param, digest_alg);
	tmpl = replace(base_doc, "</attestations>", tmpl_sig);
	xml = pki_xmlsec1_sign(tmpl, who);
	free(tmpl_sig);
	free(tmpl);
	return xml;
}

#define RSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
#define ECDSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
#define SHA256 "http://www.w3.org/2001/04/xmlenc#sha256"
#define PREFIX_LIST "<ec:InclusiveNamespaces xmlns:ec=\"http://www.w3.org/2001/10/xml-exc-c14n#\" " \
	"PrefixList=\"ds #default\"/>"

Test(signature, xmlsec1_rsa_verifies)
{
	char *xml = xmlsec1_signed("centre-rsa", RSA_SHA256, SHA256, "");

	cr_expect_eq(run(xml, trust("crl.pem"), AT, NULL), REASON_OK, "%s", xml);
	free(xml);
}

Test(signature, xmlsec1_ec_verifies)
{
	char *xml = xmlsec1_signed("centre-ec", ECDSA_SHA256, SHA256, "");

	cr_expect_eq(run(xml, trust("crl.pem"), AT, NULL), REASON_OK, "%s", xml);
	free(xml);
}

/* exc-c14n's one parameter is accepted, on both c14n steps. */
Test(signature, xmlsec1_prefix_list_verifies)
{
	char *xml = xmlsec1_signed("centre-ec", ECDSA_SHA256, SHA256, PREFIX_LIST);

	cr_assert_not_null(strstr(xml, "PrefixList"));
	cr_expect_eq(run(xml, trust("crl.pem"), AT, NULL), REASON_OK, "%s", xml);
	free(xml);
}

/* A correct signature with weak algorithms is still refused. */
Test(signature, xmlsec1_valid_rsa_sha1_refused)
{
	char *xml = xmlsec1_signed("centre-rsa", "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
				   "http://www.w3.org/2000/09/xmldsig#sha1", "");

	cr_expect_eq(run(xml, trust("crl.pem"), AT, NULL), REASON_SIGNATURE_PROFILE);
	free(xml);
}

/* And the other way round: xmlsec1 accepts what sig_sign writes. */
Test(signature, our_signature_verifies_in_xmlsec1)
{
	char *xml = signed_by("centre-ec");

	cr_expect_eq(pki_xmlsec1_verify(xml, strlen(xml)), 0,
		     "xmlsec1 --verify refused our signature");
	free(xml);
}

/*
 * The I/O fence below the profile: after sig_global_init() xmlsec cannot
 * open a file a Reference names, and the same verification succeeds when
 * its default callbacks are put back (so the test can fail).
 */
Test(signature, xmlsec_opens_nothing)
{
	char *tmpl, *xml;
	int outcome[2];

	tmpl = xasprintf("<doc><ds:Signature " NS_DS_DECL "><ds:SignedInfo>" CM
			 "<ds:SignatureMethod Algorithm=\"" RSA_SHA256 "\"/>"
			 "<ds:Reference URI=\"file://%s\"><ds:DigestMethod Algorithm=\"" SHA256 "\"/>"
			 "<ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/>"
			 "</ds:Signature></doc>", pki("root.pem"));
	xml = pki_xmlsec1_sign(tmpl, "centre-rsa");

	for (int pass = 0; pass < 2; pass++) {
		xmlDocPtr doc = parse(xml);
		xmlNodePtr sig = xmlSecFindNode(xmlDocGetRootElement(doc), xmlSecNodeSignature,
						xmlSecDSigNs);
		xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(NULL);

		cr_assert(sig != NULL && ctx != NULL);
		ctx->signKey = xmlSecCryptoAppKeyLoad(pki("centre-rsa.pem"), xmlSecKeyDataFormatCertPem,
						      NULL, NULL, NULL);
		cr_assert_not_null(ctx->signKey);
		if (pass == 1)
			cr_assert_geq(xmlSecIORegisterDefaultCallbacks(), 0);
		outcome[pass] = xmlSecDSigCtxVerify(ctx, sig) == 0 &&
				ctx->status == xmlSecDSigStatusSucceeded;
		xmlSecDSigCtxDestroy(ctx);
		xmlFreeDoc(doc);
	}
	xmlSecIOCleanupCallbacks();
	cr_expect_eq(outcome[0], 0, "xmlsec read a file after sig_global_init()");
	cr_expect_eq(outcome[1], 1, "control: with its callbacks xmlsec should verify");
	free(tmpl);
	free(xml);
}

/* --- signing ------------------------------------------------------------------ */

Test(signature, signed_output_follows_the_profile)
{
	const char *who[] = { "centre-rsa", "centre-ec", "prefecture" };

	for (size_t i = 0; i < 3; i++) {
		struct parse_error err = { 0 };
		char *xml = signed_by(who[i]);
		xmlDocPtr doc = parse(xml);

		cr_expect_eq(sig_check_profile(doc, &err), REASON_OK, "%s: %s", who[i], err.message);
		cr_expect_eq(count(xml, "<ds:X509Certificate>"), 1);
		cr_expect_not_null(strstr(xml, i == 1 ? ECDSA_SHA256 : RSA_SHA256));
		xmlFreeDoc(doc);
		free(xml);
	}
}

Test(signature, signing_twice_is_refused)
{
	struct parse_error err = { 0 };
	struct sig_signer *s = pki_signer("centre-ec");
	char *xml = signed_by("centre-ec"), *after;
	xmlDocPtr doc = parse(xml);

	cr_expect_eq(sig_sign(doc, s, &err), REASON_SIGNATURE_PROFILE);
	after = pki_doc_dump(doc);
	cr_expect_str_eq(after, xml, "the document was changed");
	free(after);
	xmlFreeDoc(doc);
	free(xml);
	sig_signer_free(s);
}

Test(signature, signer_key_and_certificate_must_match)
{
	struct parse_error err = { 0 };

	cr_expect_null(sig_signer_load(pki("centre-ec.key"), pki("centre-rsa.pem"), &err));
	cr_expect_eq(err.reason, REASON_TRUST_UNAVAILABLE);
	cr_expect_null(sig_signer_load(pki("missing.key"), pki("centre-rsa.pem"), &err));
	cr_expect_eq(err.reason, REASON_TRUST_UNAVAILABLE);
	sig_signer_free(NULL);
}

/* --- trust files -------------------------------------------------------------- */

Test(signature, trust_files_that_cannot_be_used)
{
	const char *bad[][2] = {
		{ "missing.pem", NULL },		/* no CA bundle */
		{ "crl.pem", NULL },			/* not certificates */
		{ "centre-ec.key", NULL },
		{ "ca-bundle.pem", "missing.pem" },	/* no CRL file */
		{ "ca-bundle.pem", "root.pem" },	/* not a CRL */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct parse_error err = { 0 };
		char ca[512];
		struct sig_trust *t;

		snprintf(ca, sizeof(ca), "%s", pki(bad[i][0]));
		t = sig_trust_load(ca, bad[i][1] != NULL ? pki(bad[i][1]) : NULL, &err);
		cr_expect_null(t, "case %zu loaded", i);
		cr_expect_eq(err.reason, REASON_TRUST_UNAVAILABLE, "case %zu: %s", i, err.message);
		sig_trust_free(t);
	}
	sig_trust_free(NULL);
}

/* For config check: a CRL is in force between its lastUpdate and its
 * nextUpdate, judged at the instant given. */
Test(signature, crls_in_force_at_an_instant)
{
	const struct {
		const char *crl;
		time_t at;
		enum reason want;
		const char *says;
	} cases[] = {
		{ "crl.pem", 1798761600, REASON_OK, "" },			/* 2027-01-01 */
		{ "crl-both.pem", 1798761600, REASON_OK, "" },
		{ "crl-stale.pem", 1577923200, REASON_OK, "" },		/* 2020-01-02 */
		{ "crl-stale.pem", 1798761600, REASON_CRL_STALE, "expired on 2020-02-01T00:00:00Z" },
		{ "crl-future.pem", 1796083200, REASON_CRL_STALE, "not valid before 2027-01-01" },
		{ "crl-future.pem", 1798848000, REASON_OK, "" },		/* 2027-01-02 */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct parse_error err = { 0 };
		char ca[512];
		snprintf(ca, sizeof(ca), "%s", pki("ca-bundle.pem"));
		struct sig_trust *t = sig_trust_load(ca, pki(cases[i].crl), &err);
		cr_assert_not_null(t, "%s: %s", cases[i].crl, err.message);
		enum reason r = sig_trust_crls_current(t, cases[i].at, &err);
		cr_expect_eq(r, cases[i].want, "case %zu (%s): %s", i, cases[i].crl, err.message);
		if (r != REASON_OK)
			cr_expect(strstr(err.message, cases[i].says), "case %zu: %s", i, err.message);
		sig_trust_free(t);
	}
}
