/*
 * parse_error - see parse_error.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "parse_error.h"

enum reason parse_error_set(struct parse_error *err, enum reason r, int line, int column,
			    const char *fmt, ...)
{
	if (err == NULL)
		return r;
	err->reason = r;
	err->line = line > 0 ? line : 0;
	err->column = column > 0 ? column : 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	/* libxml2 messages end with a newline; one line per problem is ours. */
	size_t n = strlen(err->message);
	while (n > 0 && (err->message[n - 1] == '\n' || err->message[n - 1] == ' '))
		err->message[--n] = '\0';
	return r;
}

void parse_error_clear(struct parse_error *err)
{
	if (err == NULL)
		return;
	err->reason = REASON_OK;
	err->line = 0;
	err->column = 0;
	err->message[0] = '\0';
}
