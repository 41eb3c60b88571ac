/*
 * schema - the embedded XSD schemas (parsers/schemas/, one per document
 * kind), compiled once, and the validation of a loaded document against
 * the one its root names.
 * A struct schema_set is owned by its creator and borrowed by every call;
 * validation state is per call, so nothing carries over between files.
 */
#ifndef ATTESTD_SCHEMA_H
#define ATTESTD_SCHEMA_H

#include <libxml/tree.h>

#include "parsers.h"

#define SCHEMA_NAMESPACE "urn:ssr:stage:1"

/* The document kinds, by root element; the first two are enum doc_kind's. */
enum schema_kind {
	SCHEMA_KIND_UNKNOWN = -1,
	SCHEMA_KIND_ATTESTATIONS = DOC_ATTESTATIONS,
	SCHEMA_KIND_SIGNIN_SHEET = DOC_SIGNIN_SHEET,
	SCHEMA_KIND_RECEIPT,
};

struct schema_set;

/* Compiles the embedded schemas; NULL and REASON_INTERNAL_ERROR in err when
 * one is missing or does not compile (a defect of the build, not of a file). */
struct schema_set *schema_set_load(struct parse_error *err);
void schema_set_free(struct schema_set *set);

/* The kind named by the root element (namespace and local name), without
 * validating anything. */
enum schema_kind schema_root_kind(const xmlDoc *doc);

/*
 * Validates doc against the schema of its root.  *kind (may be NULL) is set
 * from the root first, so it is known even when validation fails.
 * REASON_OK or REASON_SCHEMA_INVALID (unknown root included), err holding
 * the first problem with its line; REASON_INTERNAL_ERROR if the validator
 * itself fails.  doc is not modified (no default attributes are added).
 */
enum reason schema_set_validate(const struct schema_set *set, xmlDocPtr doc,
				enum schema_kind *kind, struct parse_error *err);

#endif
