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
	parse_error_scrub(err->message);
	return r;
}

/* Length of the UTF-8 sequence at s to replace, 0 when it is harmless:
 * C0 controls and DEL; C1 controls (U+0080-U+009F); U+061C, U+200E,
 * U+200F, U+2028-U+202E, U+2066-U+2069 (separators and bidi controls). */
static size_t scrub_length(const unsigned char *s)
{
	if (s[0] < 0x20 || s[0] == 0x7f)
		return 1;
	if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
		return 2;
	if (s[0] == 0xd8 && s[1] == 0x9c)
		return 2;
	if (s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0x8e || s[2] == 0x8f ||
					     (s[2] >= 0xa8 && s[2] <= 0xae)))
		return 3;
	if (s[0] == 0xe2 && s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9)
		return 3;
	return 0;
}

void parse_error_scrub(char *msg)
{
	unsigned char *in = (unsigned char *)msg, *out = (unsigned char *)msg;
	while (*in) {
		size_t k = scrub_length(in);
		if (k == 0) {
			*out++ = *in++;
			continue;
		}
		*out++ = '?';
		/* a cut sequence ends at the terminator, never past it */
		for (size_t i = 0; i < k && *in; i++)
			in++;
	}
	*out = '\0';
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
