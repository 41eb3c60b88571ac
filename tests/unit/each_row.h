/* each_row.h - a table of cases checked in one test process.
 *
 * Criterion runs every test, and every parameter of a parameterized test,
 * in a process of its own: about 0.15 s of CPU each under AddressSanitizer,
 * which made the unit tests' cost that of their 1,700 processes rather than
 * of their checks (issue 12).  A table test loops over its rows instead,
 * every message naming its row. */
#ifndef ATTESTD_TEST_EACH_ROW_H
#define ATTESTD_TEST_EACH_ROW_H

#include <stddef.h>

/* EACH_ROW_FRESH(N, TEARDOWN, SETUP, CHECK, ROWS): CHECK(&ROWS[k]) for each
 * of the N rows.  The test's .init set up the first row; TEARDOWN then
 * SETUP give each later row the clean start its own process gave it. */
#define EACH_ROW_FRESH(n, teardown_fn, setup_fn, check_fn, rows)      \
	for (size_t each_row_k = 0; each_row_k < (n); each_row_k++) { \
		if (each_row_k > 0) {                                 \
			teardown_fn();                                \
			setup_fn();                                   \
		}                                                     \
		check_fn(&(rows)[each_row_k]);                        \
	}

#endif
