/*
 * pipeline - the parsers' path for a centre's bytes without the signature's
 * cryptography (xml_load -> signature profile -> schema -> mapping), shared
 * by the fuzz target
 * (tests/fuzz/fuzz_parsers.c) and its regression runner
 * (tests/unit/test_fuzz_corpus.c), so that both run exactly the same code.
 */
#ifndef ATTESTD_TESTS_PIPELINE_H
#define ATTESTD_TESTS_PIPELINE_H

#include <stddef.h>
#include <string.h>

#include <libxml/parser.h>

#include "mapping.h"
#include "schema.h"
#include "signature.h"
#include "xml_load.h"

/* Bytes through every stage; the schema and the mapping also see documents
 * that failed the profile (the seeds are unsigned; a reason here would hide
 * the rest) and the mapping sees documents that failed the schema (it must
 * be safe on any well-formed tree); the result is checked for the
 * invariants the rest of the daemon relies on.  The profile's own verdict
 * is checked for its contract, not returned. */
static inline enum reason pipeline_run(const struct schema_set *schemas, const unsigned char *bytes,
				       size_t len, struct parse_error *err)
{
	struct parsers_limits limits = { .max_file_size = 1u << 20, .max_depth = 16 };
	xmlDocPtr doc = NULL;
	struct document *mapped = NULL;
	enum schema_kind kind;

	enum reason r = xml_load(bytes, len, &limits, &doc, err);
	if (r != REASON_OK)
		return r;
	struct parse_error sig_err;
	enum reason sr = sig_check_profile(doc, &sig_err);
	if (sr != REASON_OK && (sig_err.reason != sr || (sr != REASON_SIGNATURE_MISSING &&
							sr != REASON_SIGNATURE_PROFILE)))
		__builtin_trap();
	r = schema_set_validate(schemas, doc, &kind, err);
	if (kind == SCHEMA_KIND_RECEIPT) {
		xmlFreeDoc(doc);
		return r;
	}
	struct parse_error map_err;
	enum reason mr = mapping_document(doc, &mapped, &map_err);
	if (mr == REASON_OK) {
		/* Every string is NUL-terminated within its buffer. */
		if (strnlen(mapped->approval, sizeof(mapped->approval)) == sizeof(mapped->approval) ||
		    strnlen(mapped->stage.ref, sizeof(mapped->stage.ref)) == sizeof(mapped->stage.ref))
			__builtin_trap();
		for (size_t i = 0; i < mapped->sheet.n_participants; i++)
			if (mapped->sheet.participants[i].identity.scan_size == 0)
				__builtin_trap();
	}
	if (r == REASON_OK && mr != REASON_OK) {
		r = mr;
		if (err)
			*err = map_err;
	}
	document_free(mapped);
	xmlFreeDoc(doc);
	return r;
}

#endif
