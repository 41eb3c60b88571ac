/*
 * xmalloc - allocation that cannot fail: out of memory is not a condition a
 * file's processing can recover from, so these abort with a message (as
 * Postfix mymalloc and OpenSMTPD xmalloc do).  Free with free(3).
 */
#ifndef ATTESTD_XMALLOC_H
#define ATTESTD_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
/* realloc for arrays, with the multiplication checked for overflow. */
void *xreallocarray(void *ptr, size_t count, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a fresh string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
