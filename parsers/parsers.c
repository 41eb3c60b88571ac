/*
 * parsers - the composition of the wall, in the order of rules.md §2:
 * size -> well-formed, no DOCTYPE, no forbidden constructs (xml_load) ->
 * signature profile (structure) -> schema -> signature value and
 * certificate trust -> mapping.  The xmlDoc that is verified is the very
 * one that is then mapped: the bytes are parsed once.
 */
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "mapping.h"
#include "parse_error.h"
#include "parsers.h"
#include "schema.h"
#include "signature.h"
#include "xml_load.h"
#include "xmalloc.h"

struct parsers {
	struct schema_set *schemas;	/* compiled once */
	struct sig_trust *trust;	/* swapped by parsers_reload_trust */
	struct parsers_limits limits;
};

enum reason parsers_global_init(struct parse_error *err)
{
	enum reason r = sig_global_init(err);
	if (r != REASON_OK)
		return r;
	/* After xmlsec's init, which installs loaders of its own. */
	xml_load_install_entity_loader();
	return REASON_OK;
}

void parsers_global_shutdown(void)
{
	sig_global_shutdown();
	xmlCleanupParser();
}

struct parsers *parsers_new(const char *ca_file, const char *crl_file,
			    const struct parsers_limits *limits, struct parse_error *err)
{
	struct parsers *p = xcalloc(1, sizeof(*p));
	p->limits = *limits;
	p->schemas = schema_set_load(err);
	if (p->schemas == NULL)
		goto fail;
	p->trust = sig_trust_load(ca_file, crl_file, err);
	if (p->trust == NULL)
		goto fail;
	return p;
fail:
	parsers_free(p);
	return NULL;
}

void parsers_free(struct parsers *p)
{
	if (p == NULL)
		return;
	schema_set_free(p->schemas);
	sig_trust_free(p->trust);
	free(p);
}

enum reason parsers_reload_trust(struct parsers *p, const char *ca_file, const char *crl_file,
				 struct parse_error *err)
{
	struct sig_trust *fresh = sig_trust_load(ca_file, crl_file, err);
	if (fresh == NULL)
		return err ? err->reason : REASON_TRUST_UNAVAILABLE;
	sig_trust_free(p->trust);
	p->trust = fresh;
	return REASON_OK;
}

enum reason parsers_check_trust(const char *ca_file, const char *crl_file, time_t now,
				struct parse_error *err)
{
	struct sig_trust *t = sig_trust_load(ca_file, crl_file, err);
	if (t == NULL)
		return err->reason;
	enum reason r = sig_trust_crls_current(t, now, err);
	sig_trust_free(t);
	return r;
}

enum reason parsers_parse(const struct parsers *p, const unsigned char *bytes, size_t len,
			  time_t received, struct document **out, int *kind_out,
			  struct parse_evidence *evidence, struct parse_error *err)
{
	xmlDocPtr doc = NULL;
	struct document *mapped = NULL;
	enum schema_kind kind = SCHEMA_KIND_UNKNOWN;
	enum reason r;

	*out = NULL;
	*kind_out = -1;
	parse_error_clear(err);
	memset(evidence, 0, sizeof(*evidence));

	if (p->limits.max_file_size && len > p->limits.max_file_size) {
		r = parse_error_set(err, REASON_TOO_LARGE, 0, 0,
				    "the file has %zu bytes, more than the limit of %zu", len,
				    p->limits.max_file_size);
		goto out;
	}
	if ((r = xml_load(bytes, len, &p->limits, &doc, err)) != REASON_OK)
		goto out;
	kind = schema_root_kind(doc);
	if (kind == SCHEMA_KIND_ATTESTATIONS || kind == SCHEMA_KIND_SIGNIN_SHEET)
		*kind_out = (int)kind;
	if ((r = sig_check_profile(doc, err)) != REASON_OK)
		goto out;
	if ((r = schema_set_validate(p->schemas, doc, &kind, err)) != REASON_OK)
		goto out;
	if (kind == SCHEMA_KIND_RECEIPT) {
		/* A receipt is ours to send, never a centre's submission. */
		r = parse_error_set(err, REASON_SCHEMA_INVALID, xmlGetLineNo(xmlDocGetRootElement(doc)),
				    0, "a receipt is not a submission: send attestations or a "
				    "signin-sheet");
		goto out;
	}
	if ((r = sig_verify(doc, p->trust, received, evidence, err)) != REASON_OK)
		goto out;
	if ((r = mapping_document(doc, &mapped, err)) != REASON_OK)
		goto out;
	memcpy(mapped->signer_sha256, evidence->signer_sha256, sizeof(mapped->signer_sha256));
	*out = mapped;
	mapped = NULL;
out:
	if (r != REASON_OK)
		parse_evidence_clear(evidence);
	document_free(mapped);
	xmlFreeDoc(doc);
	return r;
}
