/*
 * reason - the table behind enum reason, generated from reason.def.
 */
#include <string.h>

#include "reason.h"

struct reason_entry {
	const char *code;
	enum reason_class class;
	enum reason_level level;
	const char *text;
};

static const struct reason_entry reason_table[REASON_COUNT] = {
	[REASON_OK] = { "ok", REASON_PERMANENT, REASON_LEVEL_NONE, "no problem" },
#define REASON(id, code, class, level, text) \
	[REASON_##id] = { code, REASON_##class, REASON_LEVEL_##level, text },
#include "reason.def"
#undef REASON
};

static const struct reason_entry *reason_entry(enum reason r)
{
	if ((unsigned)r >= REASON_COUNT)
		r = REASON_INTERNAL_ERROR;
	return &reason_table[r];
}

const char *reason_code(enum reason r) { return reason_entry(r)->code; }
const char *reason_text(enum reason r) { return reason_entry(r)->text; }
enum reason_class reason_class(enum reason r) { return reason_entry(r)->class; }
enum reason_level reason_level(enum reason r) { return reason_entry(r)->level; }

bool reason_is_temporary(enum reason r)
{
	return reason_class(r) == REASON_TEMPORARY;
}

enum reason reason_from_code(const char *code)
{
	for (int r = 0; r < REASON_COUNT; r++)
		if (strcmp(reason_table[r].code, code) == 0)
			return (enum reason)r;
	return REASON_COUNT;
}

/* placeholder: replaced by the stable branch's French table */
const char *reason_label_fr(enum reason r)
{
	return reason_text(r);
}
