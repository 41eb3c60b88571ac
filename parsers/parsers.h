/*
 * parsers - the wall: a centre's bytes in, a checked struct document or a
 * reason out (exchange-format.md §1-5, rules.md §2 order: well-formed, no
 * DOCTYPE, no forbidden constructs -> signature profile -> schema ->
 * signature value -> certificate trust -> mapping).  No I/O of its own on
 * the payload; never logs it.  Only parsers/ includes libxml2 and xmlsec.
 *
 * A struct parsers is built once at start-up (schemas compiled, CA bundle
 * and CRL loaded) and borrowed by every call; parsers_reload_trust() swaps
 * the trust files (SIGHUP).  Calls remember the signer certificates that
 * verified (signature.h), so one struct parsers serves one thread at a time.
 */
#ifndef ATTESTD_PARSERS_H
#define ATTESTD_PARSERS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "../daemon/reason.h"
#include "document.h"

struct parsers;

struct parsers_limits {
	size_t max_file_size;		/* bytes, checked before parsing */
	unsigned max_depth;		/* element nesting, default 16 */
};

/* One problem found in a file: code, where, and a message for people
 * (never the payload's content beyond element/attribute names). */
struct parse_error {
	enum reason reason;
	int line;			/* 0 when not known */
	int column;
	char message[512];
};

/* What a verdict rests on, kept with the submission so that it can be
 * proven again in year three (issue 5 stores it). Owned by the caller;
 * free with parse_evidence_clear(). */
struct parse_evidence {
	char signer_sha256[DOC_SHA256_HEX_SIZE];
	unsigned char *signer_der;	/* the signer certificate, DER */
	size_t signer_der_len;
	char *chain_pem;		/* the verified chain up to the anchor, PEM */
	char *crl_number;		/* decimal, NULL when no CRL configured */
	char crl_sha256[DOC_SHA256_HEX_SIZE];	/* of the CRL file's DER, "" when none */
	char verifier[128];		/* e.g. "attestd 0.1.0 xmlsec1 1.2.37 libxml2 2.9.14 OpenSSL 3.0.19" */
};

/*
 * Global library initialisation (libxml2, xmlsec, the refusing external
 * entity loader): once per process, before parsers_new().
 */
enum reason parsers_global_init(struct parse_error *err);
void parsers_global_shutdown(void);

/*
 * Compiles the embedded XSD schemas and loads the trust files.  ca_file is
 * required; crl_file may be NULL.  A trust file that cannot be read gives
 * REASON_TRUST_UNAVAILABLE (temporary).
 */
struct parsers *parsers_new(const char *ca_file, const char *crl_file,
			    const struct parsers_limits *limits, struct parse_error *err);
void parsers_free(struct parsers *p);

/* Reloads the CA bundle and CRL; on failure the old ones stay. */
enum reason parsers_reload_trust(struct parsers *p, const char *ca_file,
				 const char *crl_file, struct parse_error *err);

/*
 * For `attestd config check`: the trust files as parsers_new() would load
 * them (ca_file required, crl_file may be NULL), and the CRLs in force at
 * `now`.  REASON_TRUST_UNAVAILABLE (unreadable or unparsable; err says
 * which file), REASON_CRL_STALE, or REASON_OK.  After parsers_global_init().
 */
enum reason parsers_check_trust(const char *ca_file, const char *crl_file, time_t now,
				struct parse_error *err);

/*
 * Parses, verifies and maps one file.  received is the reception time
 * (certificate validity is judged then).  On REASON_OK *out is a new
 * document (caller frees with document_free) and evidence is filled; on
 * failure *out is NULL and err says why (temporary reasons: CRL stale,
 * trust unavailable — the file must be retried, not rejected).
 * *kind_out is set as soon as the root is known (DOC_ATTESTATIONS or
 * DOC_SIGNIN_SHEET), else left at -1 ("unknown" in receipts).
 */
enum reason parsers_parse(const struct parsers *p, const unsigned char *bytes, size_t len,
			  time_t received, struct document **out, int *kind_out,
			  struct parse_evidence *evidence, struct parse_error *err);

void parse_evidence_clear(struct parse_evidence *ev);

#endif
