/*
 * test_fuzz_corpus - replays the fuzz corpus (tests/fuzz/corpus/ and, when
 * a fuzzing run left one, tests/fuzz/corpus-new/) through the very function
 * the fuzz target calls (tests/fuzz/pipeline.h), so that a crash found once
 * stays found; under `make SANITIZE=address,undefined` the sanitizers judge
 * every input.  Seeds named <reason>--<file>.xml (copies of
 * tests/fixtures/docs/<reason>/<file>.xml) must give that reason.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "fuzz/pipeline.h"
#include "parsers_docs.h"

static struct schema_set *schemas;

static void corpus_setup(void)
{
	struct parse_error err;
	cr_assert_eq(parsers_global_init(&err), REASON_OK, "%s", err.message);
	schemas = schema_set_load(&err);
	cr_assert_not_null(schemas, "schema_set_load: %s", err.message);
}

static void corpus_teardown(void)
{
	schema_set_free(schemas);
	parsers_global_shutdown();
	xmlCleanupParser();
}

/* Runs every regular file of dir; returns how many. */
static size_t replay(const char *dir, bool required)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		cr_expect(!required, "cannot open %s", dir);
		return 0;
	}
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		size_t len;
		unsigned char *bytes = docs_read(path, &len);
		struct parse_error err;
		enum reason r = pipeline_run(schemas, bytes, len, &err);
		free(bytes);
		n++;
		cr_expect_lt(r, REASON_COUNT, "%s", path);
		if (r != REASON_OK)
			cr_expect_eq(err.reason, r, "%s: the error record says why", path);
		const char *sep = strstr(e->d_name, "--");
		if (sep) {
			char expected[64];
			snprintf(expected, sizeof(expected), "%.*s", (int)(sep - e->d_name), e->d_name);
			const char *got = r == REASON_OK ? "valid" : reason_code(r);
			cr_expect_str_eq(got, expected, "%s: %s (%s)", path, got, err.message);
		}
	}
	closedir(d);
	return n;
}

Test(fuzz_corpus, replays_without_crash, .init = corpus_setup, .fini = corpus_teardown)
{
	size_t seeds = replay("tests/fuzz/corpus", true);
	cr_expect_geq(seeds, 100, "only %zu seeds", seeds);
	replay("tests/fuzz/corpus-new", false);
}
