/*
 * signature - XML-DSig under exactly the profile of exchange-format.md §5,
 * with xmlsec1-openssl: the structure check (before the schema), the
 * verification of the value and of the signer certificate against our own
 * X509_STORE (configured CA bundle and CRL only), and enveloped signing for
 * receipts and test fixtures.  Internal to parsers/.
 */
#ifndef ATTESTD_SIGNATURE_H
#define ATTESTD_SIGNATURE_H

#include <libxml/tree.h>
#include <time.h>

#include "parsers.h"

struct sig_trust;
struct sig_signer;

/*
 * Once per process, before anything else of this module: libxml2's parser,
 * xmlsec and its OpenSSL engine, then xmlsec's I/O callbacks removed (no
 * file or URL is ever opened for a document) and its error output silenced.
 * parsers_global_init() calls it first and installs the refusing external
 * entity loader after it.  REASON_INTERNAL_ERROR when a library refuses.
 * sig_global_shutdown() undoes xmlsec's part; xmlCleanupParser() is the
 * caller's, last.
 */
enum reason sig_global_init(struct parse_error *err);
void sig_global_shutdown(void);

/* Loads the CA bundle (required; PEM, anchors and intermediates) and the
 * CRL file (optional; one PEM CRL per issuing CA, or one DER CRL):
 * REASON_TRUST_UNAVAILABLE when a file cannot be read or parsed.  The
 * system's CAs are never used. */
struct sig_trust *sig_trust_load(const char *ca_file, const char *crl_file,
				 struct parse_error *err);
void sig_trust_free(struct sig_trust *trust);

/* For `attestd config check`: REASON_CRL_STALE when one of the trust's CRLs
 * is not in force at `now` (before its lastUpdate, or past its nextUpdate),
 * saying which and until when; REASON_OK otherwise (and without CRLs). */
enum reason sig_trust_crls_current(const struct sig_trust *trust, time_t now,
				   struct parse_error *err);

/* A trust remembers the signer certificates that verified (decoded, and
 * their chain check while no date it depends on is crossed), keyed by the
 * SHA-256 of their DER: the one thing sig_verify() writes, so a trust is
 * for one thread at a time.  A new trust (reload) starts empty. */
struct sig_cache_stats {
	size_t entries, capacity;
	unsigned long cert_hits;	/* verifications that reused a decoded certificate */
	unsigned long chain_hits;	/* ... that reused its chain check */
};
void sig_trust_cache_stats(const struct sig_trust *trust, struct sig_cache_stats *out);

/* The structure of §5: the root's last element child is the only
 * ds:Signature of the document, one Reference URI="", the exact transforms
 * and algorithms, one X509Certificate and no other key material, no
 * attribute but Id (Signature, SignedInfo, Reference, SignatureValue,
 * KeyInfo) and exc-c14n's InclusiveNamespaces/@PrefixList.
 * REASON_SIGNATURE_MISSING or REASON_SIGNATURE_PROFILE. */
enum reason sig_check_profile(xmlDocPtr doc, struct parse_error *err);

/* Verifies this very document: the profile again, the signature value with
 * the certificate's key, then the certificate at time `at` (reception) for
 * chain, validity and CRL (judged at `at` too; a CRL issued after `at` is
 * used, not stale), then the key policy.  SIGNATURE_INVALID, CERT_*, the
 * temporary CRL_STALE, or the profile's reasons.  On success fills
 * *evidence (which must be empty; NULL to skip); on failure leaves it. */
enum reason sig_verify(xmlDocPtr doc, const struct sig_trust *trust, time_t at,
		       struct parse_evidence *evidence, struct parse_error *err);

/* A signing key (RSA or EC, unencrypted PEM: never prompts) and its
 * certificate (PEM), for receipts and fixtures.  No key policy here: the
 * tests sign with weak keys on purpose.  REASON_TRUST_UNAVAILABLE. */
struct sig_signer *sig_signer_load(const char *key_file, const char *cert_file,
				   struct parse_error *err);
void sig_signer_free(struct sig_signer *signer);

/* Appends an enveloped signature under the profile as the root's last
 * child (rsa-sha256 or ecdsa-sha256 after the key).  A document that
 * already holds a ds:Signature is left alone: REASON_SIGNATURE_PROFILE. */
enum reason sig_sign(xmlDocPtr doc, const struct sig_signer *signer, struct parse_error *err);

#endif
