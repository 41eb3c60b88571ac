/*
 * pki_fixture - the throwaway PKI (tests/fixtures/pki.sh) of the unit tests
 * that sign and verify: made once per run by the runner process, its
 * directory handed to the workers through the environment, removed at the
 * end; paths into it, signers, trusts and certificates loaded from it, and
 * signing and verifying with the xmlsec1 command-line tool.
 *
 * Include it from exactly one test file per binary: it defines the
 * runner's PRE_ALL and POST_ALL report hooks.  Every string returned is the
 * caller's to free, except pki()'s.
 */
#ifndef ATTESTD_TESTS_PKI_FIXTURE_H
#define ATTESTD_TESTS_PKI_FIXTURE_H

#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "signature.h"
#include "xmalloc.h"

#define PKI_ENV "ATTESTD_TEST_PKI"
#define PKI_PREFIX "/tmp/attestd-pki-"

/* --- the PKI: made by the runner, once ------------------------------------ */

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	char dir[] = PKI_PREFIX "XXXXXX";
	char *cmd;

	(void)set;
	/* Never one inherited from a parent: POST_ALL removes what it names. */
	unsetenv(PKI_ENV);
	if (mkdtemp(dir) == NULL) {
		perror("pki_fixture: mkdtemp");
		return;
	}
	cmd = xasprintf("sh tests/fixtures/pki.sh %s >/dev/null", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "%s: tests/fixtures/pki.sh failed (run from the source tree)\n",
			program_invocation_short_name);
	else
		setenv(PKI_ENV, dir, 1);
	free(cmd);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	const char *dir = getenv(PKI_ENV);
	char *cmd;

	(void)stats;
	if (dir == NULL || strncmp(dir, PKI_PREFIX, strlen(PKI_PREFIX)) != 0)
		return;
	cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "%s: could not remove %s\n", program_invocation_short_name, dir);
	free(cmd);
}

/* The PKI's directory; the test fails when the runner could not make it. */
static inline const char *pki_dir(void)
{
	const char *dir = getenv(PKI_ENV);

	cr_assert_not_null(dir, "no test PKI (tests/fixtures/pki.sh failed?)");
	return dir;
}

/* A file of the PKI; the result lives until the fourth next call. */
static inline const char *pki(const char *file)
{
	static char ring[4][512];
	static unsigned next;
	char *p = ring[next++ % 4];

	snprintf(p, sizeof(ring[0]), "%s/%s", pki_dir(), file);
	return p;
}

/* --- loading from it ---------------------------------------------------------- */

/* The signer WHO.key / WHO.pem. */
static inline struct sig_signer *pki_signer(const char *who)
{
	struct parse_error err = { 0 };
	char key[64], pem[64];
	struct sig_signer *s;

	snprintf(key, sizeof(key), "%s.key", who);
	snprintf(pem, sizeof(pem), "%s.pem", who);
	s = sig_signer_load(pki(key), pki(pem), &err);
	cr_assert_not_null(s, "signer %s: %s", who, err.message);
	return s;
}

/* The CA bundle with the given CRL file ("" for none). */
static inline struct sig_trust *pki_trust(const char *crl)
{
	struct parse_error err = { 0 };
	struct sig_trust *t = sig_trust_load(pki("ca-bundle.pem"),
					     crl[0] != '\0' ? pki(crl) : NULL, &err);

	cr_assert_not_null(t, "trust with CRL '%s': %s", crl, err.message);
	return t;
}

/* A PEM certificate of the PKI. */
static inline X509 *pki_x509(const char *pem_file)
{
	FILE *f = fopen(pki(pem_file), "r");
	X509 *x;

	cr_assert_not_null(f, "%s", pem_file);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	cr_assert_not_null(x, "%s", pem_file);
	return x;
}

/* The SHA-256 of bytes, in lower-case hex, computed with OpenSSL alone. */
static inline void pki_sha256_hex(const unsigned char *der, size_t len, char hex[65])
{
	unsigned char md[32];
	unsigned int md_len = 0;

	cr_assert_eq(EVP_Digest(der, len, md, &md_len, EVP_sha256(), NULL), 1);
	for (unsigned i = 0; i < md_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* A certificate's DER (OPENSSL_free it) and the SHA-256 of it. */
static inline void pki_cert_fingerprint(const char *pem_file, char hex[65], unsigned char **der,
					int *der_len)
{
	X509 *x = pki_x509(pem_file);

	*der = NULL;
	*der_len = i2d_X509(x, der);
	cr_assert_gt(*der_len, 0);
	pki_sha256_hex(*der, (size_t)*der_len, hex);
	X509_free(x);
}

/* The evidence of a verification of a document signed with pem_file,
 * under a trust with crl.pem or none, checked against the PKI's files: the
 * signer's DER and fingerprint, a chain of signer, issuing CA and root,
 * crl.pem's number and fingerprint, the verifier named. */
static inline void pki_expect_evidence(const struct parse_evidence *ev, const char *pem_file,
				       bool with_crl)
{
	char hex[65] = "";
	unsigned char *der = NULL;
	int der_len = 0, certs = 0;
	const char *pem;

	pki_cert_fingerprint(pem_file, hex, &der, &der_len);
	cr_expect_str_eq(ev->signer_sha256, hex, "the fingerprint is not %s's", pem_file);
	cr_expect_eq(ev->signer_der_len, (size_t)der_len);
	cr_expect(ev->signer_der != NULL && memcmp(ev->signer_der, der, (size_t)der_len) == 0,
		  "the DER is not %s's", pem_file);
	OPENSSL_free(der);
	for (pem = ev->chain_pem; pem && (pem = strstr(pem, "-----BEGIN CERTIFICATE-----")); pem++)
		certs++;
	cr_expect_eq(certs, 3, "chain of %d certificates (signer, issuing CA, root)", certs);
	if (with_crl) {
		FILE *f = fopen(pki("crl.pem"), "r");
		X509_CRL *crl;

		cr_assert_not_null(f);
		crl = PEM_read_X509_CRL(f, NULL, NULL, NULL);
		fclose(f);
		cr_assert_not_null(crl);
		der = NULL;
		der_len = i2d_X509_CRL(crl, &der);
		cr_assert_gt(der_len, 0);
		pki_sha256_hex(der, (size_t)der_len, hex);
		cr_expect_str_eq(ev->crl_sha256, hex, "the CRL fingerprint is not crl.pem's");
		cr_expect_str_eq(ev->crl_number, "256");
		OPENSSL_free(der);
		X509_CRL_free(crl);
	} else {
		cr_expect_null(ev->crl_number);
		cr_expect_str_eq(ev->crl_sha256, "");
	}
	cr_expect_eq(strncmp(ev->verifier, "attestd ", 8), 0, "%s", ev->verifier);
	cr_expect_not_null(strstr(ev->verifier, "xmlsec1 "), "%s", ev->verifier);
}

/* --- signing with our code ---------------------------------------------------- */

static inline char *pki_doc_dump(xmlDocPtr doc)
{
	xmlChar *out = NULL;
	int len = 0;
	char *copy;

	xmlDocDumpMemory(doc, &out, &len);
	cr_assert_not_null(out);
	copy = xstrndup((const char *)out, (size_t)len);
	xmlFree(out);
	return copy;
}

/* xml signed by sig_sign() with WHO.key / WHO.pem (plain libxml2 parse:
 * the signer is not the wall). */
static inline char *pki_sign_text(const char *xml, const char *who)
{
	struct parse_error err = { 0 };
	struct sig_signer *s = pki_signer(who);
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET);
	char *copy;

	cr_assert_not_null(doc, "the document to sign is not well-formed:\n%s", xml);
	cr_assert_eq(sig_sign(doc, s, &err), REASON_OK, "sign with %s: %s", who, err.message);
	copy = pki_doc_dump(doc);
	xmlFreeDoc(doc);
	sig_signer_free(s);
	return copy;
}

/* --- another implementation: the xmlsec1 command-line tool ------------------ */

/* A whole file, NUL-terminated. */
static inline char *pki_file_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long len;

	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	rewind(f);
	buf = xmalloc((size_t)len + 1);
	cr_assert_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static inline void pki_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

/* A signature template (empty DigestValue, SignatureValue and, if wanted,
 * X509Certificate) filled in by `xmlsec1 --sign` with WHO.key / WHO.pem. */
static inline char *pki_xmlsec1_sign(const char *tmpl, const char *who)
{
	char *tmpl_path = xasprintf("%s/tmpl-%d.xml", pki_dir(), (int)getpid());
	char *out_path = xasprintf("%s/out-%d.xml", pki_dir(), (int)getpid());
	char key[64], pem[64], *cmd, *xml;

	pki_write_file(tmpl_path, tmpl, strlen(tmpl));
	snprintf(key, sizeof(key), "%s.key", who);
	snprintf(pem, sizeof(pem), "%s.pem", who);
	cmd = xasprintf("xmlsec1 --sign --privkey-pem %s,%s --output %s %s 2>/dev/null",
			pki(key), pki(pem), out_path, tmpl_path);
	cr_assert_eq(system(cmd), 0, "xmlsec1 --sign failed: %s", cmd);
	xml = pki_file_text(out_path);
	unlink(tmpl_path);
	unlink(out_path);
	free(cmd);
	free(out_path);
	free(tmpl_path);
	return xml;
}

/* `xmlsec1 --verify` of a document signed over URI="", the root CA the
 * only trusted certificate (the intermediate offered, not trusted): 0 when
 * it accepts it. */
static inline int pki_xmlsec1_verify(const void *xml, size_t len)
{
	char *path = xasprintf("%s/verify-%d.xml", pki_dir(), (int)getpid());
	char *cmd = xasprintf("xmlsec1 --verify --enabled-reference-uris empty --trusted-pem %s "
			      "--untrusted-pem %s %s >/dev/null 2>&1",
			      pki("root.pem"), pki("inter.pem"), path);
	int rc;

	pki_write_file(path, xml, len);
	rc = system(cmd);
	unlink(path);
	free(cmd);
	free(path);
	return rc;
}

#endif
