/*
 * document - the typed, checked form of a centre's file (exchange-format.md
 * §2-4), as the parsers hand it to the rules and the store.  Plain C: no
 * libxml2 types here, so the pure core can include it.
 *
 * Ownership: a struct document is created by the parsers and owned by the
 * caller, who frees it with document_free() (parsers/document.c).  Every
 * string is a fixed-size, NUL-terminated, validated UTF-8 buffer, so the
 * structs can be copied and compared without further allocation; only the
 * arrays and the identity-document scans are heap-allocated.
 */
#ifndef ATTESTD_DOCUMENT_H
#define ATTESTD_DOCUMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../daemon/date.h"

/* Buffer sizes: maximum lengths of the exchange format, plus the NUL. */
#define DOC_APPROVAL_SIZE	12	/* R + 2 + 3 + 4 + 1 = 11 */
#define DOC_DEPARTEMENT_SIZE	4	/* "28", "2A", "971" */
#define DOC_REF_SIZE		41	/* stage ref, [A-Za-z0-9_-]{1,40} */
#define DOC_NUMBER_SIZE		65	/* attestation number, [A-Za-z0-9_-]{1,64} */
#define DOC_LICENCE_SIZE	16	/* [0-9A-Z]{9,15} */
#define DOC_NAME_SIZE		401	/* 1-100 characters of UTF-8 */
#define DOC_AUTH_SIZE		65	/* facilitator authorisation, 1-64 */
#define DOC_COURT_REF_SIZE	101	/* court order reference, 1-100 */
#define DOC_ID_NUMBER_SIZE	41	/* identity document number, 1-40 */
#define DOC_VENUE_SIZE		1201	/* 1-300 characters */
#define DOC_SHA256_HEX_SIZE	65

#define DOC_MAX_ATTESTATIONS	20
#define DOC_MAX_PARTICIPANTS	30
#define DOC_MAX_SCAN_BYTES	(2u * 1024 * 1024)

enum doc_kind { DOC_ATTESTATIONS, DOC_SIGNIN_SHEET };

enum doc_session { SESSION_1AM, SESSION_1PM, SESSION_2AM, SESSION_2PM, SESSION_COUNT };

enum doc_role { ROLE_PSYCHOLOGIST, ROLE_ROAD_SAFETY_EXPERT };

enum doc_id_type { ID_CARD, ID_PASSPORT, ID_RESIDENCE_PERMIT, ID_DRIVING_LICENCE };

enum doc_media_type { MEDIA_PDF, MEDIA_JPEG, MEDIA_PNG };

struct doc_stage {
	char ref[DOC_REF_SIZE];
	char departement[DOC_DEPARTEMENT_SIZE];
	date_t first_day;
	date_t last_day;
};

struct doc_person {
	char licence[DOC_LICENCE_SIZE];
	char surname[DOC_NAME_SIZE];
	char given_names[DOC_NAME_SIZE];
	date_t birth_date;
};

struct doc_attestation {
	char number[DOC_NUMBER_SIZE];
	int stage_case;			/* 1-4 */
	date_t issued;
	struct doc_person trainee;
	bool has_letter_48n;		/* only with case 2 (checked by the parsers) */
	date_t letter_48n_received;
	bool has_court_order;		/* required with cases 3-4, forbidden otherwise */
	char court_order_ref[DOC_COURT_REF_SIZE];
	date_t court_order_date;
	int line;			/* source line, for messages */
};

struct doc_session_times {
	date_t date;
	minute_of_day_t start;
	minute_of_day_t end;
};

struct doc_facilitator {
	enum doc_role role;
	char authorisation[DOC_AUTH_SIZE];
	char surname[DOC_NAME_SIZE];
	char given_names[DOC_NAME_SIZE];
};

struct doc_presence {
	bool present;			/* a <presence> element for this session */
	bool signed_in;			/* its signed="true" */
	minute_of_day_t arrived;
};

struct doc_identity_document {
	enum doc_id_type type;
	char number[DOC_ID_NUMBER_SIZE];
	enum doc_media_type media_type;
	unsigned char *scan;		/* decoded bytes, owned */
	size_t scan_size;
	char scan_sha256[DOC_SHA256_HEX_SIZE];
};

struct doc_participant {
	struct doc_person person;
	struct doc_identity_document identity;
	struct doc_presence presence[SESSION_COUNT];
	int line;
};

struct doc_signin_sheet {
	char venue[DOC_VENUE_SIZE];
	struct doc_session_times sessions[SESSION_COUNT];	/* indexed by enum doc_session */
	struct doc_facilitator facilitators[2];	/* [0] psychologist, [1] road-safety expert */
	size_t n_participants;
	struct doc_participant *participants;	/* owned */
};

struct document {
	enum doc_kind kind;
	time_t created;			/* the root's created attribute */
	char approval[DOC_APPROVAL_SIZE];
	struct doc_stage stage;

	/* DOC_ATTESTATIONS */
	size_t n_attestations;
	struct doc_attestation *attestations;	/* owned */

	/* DOC_SIGNIN_SHEET */
	struct doc_signin_sheet sheet;

	/* Filled by the signature check: SHA-256 (hex, lower case) of the
	 * signer certificate's DER, for the registry binding. */
	char signer_sha256[DOC_SHA256_HEX_SIZE];
};

/* Frees the document and everything it owns; accepts NULL. */
void document_free(struct document *doc);

#endif
