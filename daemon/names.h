/*
 * names - the identity comparison of rules.md §4: names are compared after
 * folding (NFKD, combining marks removed, upper case, hyphens, dashes and
 * apostrophes as spaces, spaces collapsed and trimmed).  Pure; strings are
 * borrowed, results are new strings the caller frees with free(3).
 */
#ifndef ATTESTD_NAMES_H
#define ATTESTD_NAMES_H

#include <stdbool.h>

/* The folded form, or NULL when s is not valid UTF-8. */
char *names_fold(const char *s);
/* The first word of the folded given names (NULL: invalid UTF-8 or no word). */
char *names_first_given(const char *given_names);

/* Equal after folding.  Invalid UTF-8, or a name that folds to nothing,
 * never matches anything, not even itself. */
bool names_same_surname(const char *a, const char *b);
/* The first given names are equal after folding ("Jean-Pierre" and
 * "Jean Marc" share "JEAN": the hyphen is a word break). */
bool names_same_first_given(const char *a, const char *b);

#endif
