/*
 * reason - the reason codes and flags of the exchange format, generated from
 * reason.def.  The class alone decides reject (permanent) or retry
 * (temporary).  All strings are static; nothing here allocates.
 */
#ifndef ATTESTD_REASON_H
#define ATTESTD_REASON_H

#include <stdbool.h>

enum reason {
	REASON_OK = 0,
#define REASON(id, code, class, level, text) REASON_##id,
#include "reason.def"
#undef REASON
	REASON_COUNT
};

enum reason_class { REASON_PERMANENT, REASON_TEMPORARY };

enum reason_level {
	REASON_LEVEL_NONE,
	REASON_LEVEL_DOCUMENT,
	REASON_LEVEL_STAGE,
	REASON_LEVEL_ATTESTATION,
	REASON_LEVEL_FLAG,
	REASON_LEVEL_ENVIRONMENT,
};

/* The code as it appears in receipts, logs and the database ("ok" for REASON_OK). */
const char *reason_code(enum reason r);
/* One sentence for people: what it means and what to do. */
const char *reason_text(enum reason r);
enum reason_class reason_class(enum reason r);
enum reason_level reason_level(enum reason r);
/* True when the file must be kept and retried rather than rejected. */
bool reason_is_temporary(enum reason r);
/* Look a code up by its name; REASON_COUNT when unknown. */
enum reason reason_from_code(const char *code);
/* placeholder: replaced by the stable branch's French table */
const char *reason_label_fr(enum reason r);

#endif
