/*
 * fuzz_parsers - libFuzzer target over the parsers' path for a centre's
 * bytes: xml_load -> signature profile -> schema -> mapping
 * (tests/fuzz/pipeline.h), under
 * AddressSanitizer and UndefinedBehaviorSanitizer.  Built and run by
 * `make fuzz` (tests/fuzz/fuzz.mk); the seed corpus is tests/fuzz/corpus/,
 * new inputs go to tests/fuzz/corpus-new/, and tests/unit/test_fuzz_corpus.c
 * replays both in the unit tests.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "pipeline.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Compiled once, as in the daemon; never freed (the process ends). */
static struct schema_set *fuzz_schemas;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct parse_error err;
	/* As the daemon starts: libxml2 and xmlsec, then the refusing loader. */
	if (parsers_global_init(&err) != REASON_OK) {
		fprintf(stderr, "fuzz_parsers: %s\n", err.message);
		abort();
	}
	fuzz_schemas = schema_set_load(&err);
	if (fuzz_schemas == NULL) {
		fprintf(stderr, "fuzz_parsers: %s\n", err.message);
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct parse_error err;
	enum reason r = pipeline_run(fuzz_schemas, data, size, &err);
	/* A reason always comes with the matching error record. */
	if (r != REASON_OK && err.reason != r)
		__builtin_trap();
	if (r >= REASON_COUNT)
		__builtin_trap();
	return 0;
}
