/*
 * xml_load - a centre's bytes to a libxml2 document under the hardening of
 * exchange-format.md §5: no DOCTYPE, no comments, no processing
 * instructions, no xsi:* attributes, UTF-8 only, and limits on size, depth,
 * element and attribute counts.  No I/O, nothing logged; the caller owns
 * the bytes (borrowed for the call) and the returned xmlDoc (xmlFreeDoc).
 */
#ifndef ATTESTD_XML_LOAD_H
#define ATTESTD_XML_LOAD_H

#include <stddef.h>
#include <libxml/tree.h>

#include "parsers.h"

#define XML_LOAD_DEFAULT_MAX_SIZE	(32u * 1024 * 1024)
#define XML_LOAD_DEFAULT_MAX_DEPTH	16
/* Far above what the exchange format needs (about 250 elements, 7
 * attributes), far below what would cost memory or quadratic time. */
#define XML_LOAD_MAX_ELEMENTS		4096
#define XML_LOAD_MAX_ATTRIBUTES		32	/* per element, xmlns included */

/*
 * Replaces libxml2's external entity loader with one that refuses every
 * URL.  Global to the process: call once at start-up, after xmlsec's own
 * initialisation (which installs a loader of its own).
 */
void xml_load_install_entity_loader(void);

/*
 * Parses bytes[0..len) into *out.  limits may be NULL, and zero fields mean
 * the defaults above.  Returns REASON_OK, or with *out NULL and err filled:
 * TOO_LARGE (size, depth, element or attribute count), NOT_WELL_FORMED,
 * DOCTYPE_FORBIDDEN, XML_CONSTRUCT_FORBIDDEN (comment, processing
 * instruction, xsi:* attribute, encoding other than UTF-8).
 */
enum reason xml_load(const unsigned char *bytes, size_t len, const struct parsers_limits *limits,
		     xmlDocPtr *out, struct parse_error *err);

#endif
