/*
 * receipt - the prefecture's answer to a centre's file (exchange-format.md
 * §6): a plain-C description that daemon code fills without libxml2, and
 * the builder that makes it a document (libxml2's tree API), signs it under
 * the profile of §5 and serialises it.  The builder borrows everything; the
 * bytes it returns are the caller's.  Writing them to the outbox is
 * daemon/receipt.h's business.
 *
 * Receipts never carry personal data: codes, attestation and licence
 * numbers, dates and the daemon's own messages only.  Whatever text the
 * caller passes is made valid for receipt.xsd (control characters and
 * invalid UTF-8 become '?', lengths are capped), never refused.
 */
#ifndef ATTESTD_PARSERS_RECEIPT_H
#define ATTESTD_PARSERS_RECEIPT_H

#include <stddef.h>
#include <time.h>

#include "../daemon/date.h"
#include "../daemon/reason.h"
#include "document.h"
#include "parsers.h"

#define RECEIPT_MESSAGE_SIZE	512	/* as struct parse_error's message */
#define RECEIPT_MAX_REASONS	24	/* as RULES_MAX_REASONS */
#define RECEIPT_MAX_FLAGS	8
#define RECEIPT_MAX_ATTESTATIONS DOC_MAX_ATTESTATIONS

struct sig_signer;

/* An <error>, <stage-finding> or attestation <reason>: a permanent code and
 * a message for people; an empty message stands for reason_text(code). */
struct receipt_message {
	enum reason code;
	char message[RECEIPT_MESSAGE_SIZE];
};

struct receipt_attestation {
	char number[DOC_NUMBER_SIZE];
	char licence[DOC_LICENCE_SIZE];
	const char *decision;		/* "credited", "no_credit", "rejected", "pending", "review" */
	int points;			/* 0-12 */
	date_t effective;		/* DATE_NONE: no effective-date attribute */
	size_t n_reasons;
	struct receipt_message reasons[RECEIPT_MAX_REASONS];
	size_t n_flags;
	enum reason flags[RECEIPT_MAX_FLAGS];	/* REASON_LEVEL_FLAG codes */
};

struct receipt {
	const char *file_name;		/* the name in the inbox, as claimed */
	char sha256[DOC_SHA256_HEX_SIZE];	/* of the file, lower-case hex */
	const char *kind;		/* "attestations", "signin-sheet", "unknown" */
	time_t received, processed;
	const char *timezone;		/* tz database name the times are shown in */
	const char *status;		/* "accepted", "rejected", "duplicate" */
	/* duplicate only (required there), else NULL: the first file's name
	 * and reception time. */
	const char *first_file;
	time_t first_received;
	size_t n_errors;		/* at least one when rejected, none when accepted */
	const struct receipt_message *errors;
	size_t n_findings;
	const struct receipt_message *findings;
	size_t n_attestations;		/* at most RECEIPT_MAX_ATTESTATIONS; none when rejected */
	const struct receipt_attestation *attestations;
};

/*
 * Builds the receipt document in the order of receipt.xsd (error*,
 * stage-finding*, attestation* each with reason* then flag*), signs it
 * when signer is not NULL (enveloped, as the last child), and serialises
 * it: UTF-8 with an XML declaration.  *xml (malloc'd, caller frees) and
 * *len on REASON_OK; REASON_INTERNAL_ERROR for a description that cannot
 * make a valid receipt (unknown status, kind or decision, bad sha256,
 * number or licence, points out of range, a temporary or misplaced code,
 * a rejected receipt without errors or an accepted one with some, a
 * duplicate without its first file or another status with one, an unknown
 * time zone) or when libxml2 or xmlsec fail.
 * Needs parsers_global_init().
 */
enum reason receipt_build(const struct receipt *r, const struct sig_signer *signer,
			  unsigned char **xml, size_t *len, struct parse_error *err);

/* The prefecture's signing key and certificate ([files] receipt_key,
 * receipt_cert), loaded once and borrowed by receipt_build(), without the
 * caller needing signature.h (which is libxml2's side of the wall).
 * REASON_TRUST_UNAVAILABLE in err when a file cannot be loaded. */
struct sig_signer *receipt_signer_load(const char *key_file, const char *cert_file,
				       struct parse_error *err);
void receipt_signer_free(struct sig_signer *signer);

#endif
