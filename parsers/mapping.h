/*
 * mapping - a loaded centre's document (attestations or signin-sheet) to
 * the typed struct document of document.h, with the checks an XSD cannot
 * express: case and letter-48n/court-order pairings, scans decoded from
 * base64, size-capped, matched against their media type and hashed.
 * The xmlDoc is borrowed; the struct document returned is the caller's.
 */
#ifndef ATTESTD_MAPPING_H
#define ATTESTD_MAPPING_H

#include <libxml/tree.h>

#include "parsers.h"

/*
 * Maps doc into a new *out (free with document_free).  Meant for a
 * schema-valid document, but checks every value it copies again, so any
 * well-formed document is safe to give it: whatever does not fit gives
 * REASON_SCHEMA_INVALID with *out NULL and the line in err.
 * signer_sha256 is left empty (the signature check fills it).
 */
enum reason mapping_document(xmlDocPtr doc, struct document **out, struct parse_error *err);

#endif
