/*
 * signature - XML-DSig under the profile of exchange-format.md §5.
 *
 * Three layers, so that no single check carries the profile alone:
 *  1. the profile check walks the tree and refuses every shape but the one
 *     of §5 (one ds:Signature, last child of the root; one Reference URI="";
 *     fixed algorithms; one X509Certificate and no other key material);
 *  2. xmlsec verifies the value with its transforms and URI types restricted
 *     to that profile and its I/O callbacks removed (sig_global_init).  It
 *     is handed the key of the one certificate, decoded by us: it never
 *     reads KeyInfo, has no keys manager, so no key can come from anywhere
 *     else (no KeyValue, KeyName, RetrievalMethod, preloaded key);
 *  3. our own OpenSSL code verifies the chain against the configured CA
 *     bundle and CRL only, at the reception time, and applies the key policy.
 *
 * Ownership: a struct sig_trust or sig_signer is built once and only read
 * afterwards (but for the trust's memory of the signer certificates that
 * verified, struct sig_known); sig_verify() borrows it.  xmlsec's error
 * output is silenced: the parsers never log, and our messages name the
 * deviation instead.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlversion.h>

#include <xmlsec/xmlsec.h>
#include <xmlsec/base64.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/io.h>
#include <xmlsec/keys.h>
#include <xmlsec/templates.h>
#include <xmlsec/transforms.h>
#include <xmlsec/version.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmltree.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/openssl/x509.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "parse_error.h"
#include "signature.h"
#include "xmalloc.h"

#ifndef ATTESTD_VERSION
#define ATTESTD_VERSION "unknown"
#endif

#define NS_DS		"http://www.w3.org/2000/09/xmldsig#"
#define NS_EXC_C14N	"http://www.w3.org/2001/10/xml-exc-c14n#"
#define ALG_ENVELOPED	NS_DS "enveloped-signature"
#define ALG_RSA_SHA256	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
#define ALG_ECDSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
#define ALG_SHA256	"http://www.w3.org/2001/04/xmlenc#sha256"

struct sig_crl {
	X509_CRL *crl;
	X509 *issuer;			/* the bundle's CA that signed it (borrowed), or NULL */
	char *number;			/* decimal, "" when the CRL has none */
	char sha256[DOC_SHA256_HEX_SIZE];
};

/*
 * A signer certificate that verified: decoded once (OpenSSL 3 decodes the
 * key with the certificate, a third of a verification), and the outcome of
 * its chain check (chain, CRL, key policy), which holds for every check
 * time in (lo, hi).  Failures are never remembered: they are recomputed,
 * messages and all.
 */
struct sig_known {
	unsigned char id[SHA256_DIGEST_LENGTH];	/* SHA-256 of the DER */
	X509 *cert;
	int64_t lo, hi;			/* lo == hi: the chain check is not reusable */
	char *chain_pem;		/* the verified chain, for the evidence */
	const struct sig_crl *crl;	/* the CRL that covered it, or NULL */
};

#define SIG_CACHE_SLOTS 256
/* ASN.1 times may carry fractions of a second, and OpenSSL counts equality
 * one way or the other: a check time this close to a date is never served
 * from the cache. */
#define SIG_TIME_MARGIN 2

struct sig_cache {
	struct sig_known slots[SIG_CACHE_SLOTS];
	size_t used, next;		/* filled slots; the oldest, evicted next */
	unsigned long cert_hits, chain_hits;
};

struct sig_trust {
	X509_STORE *store;		/* the CA bundle and CRLs, nothing else */
	struct sig_crl *crls;
	size_t ncrls;
	/* Every date the store's objects carry (notBefore, notAfter,
	 * lastUpdate, nextUpdate): with the leaf's own, the only instants at
	 * which X509_verify_cert() can decide otherwise. */
	int64_t *dates;
	size_t ndates;
	bool dates_known;		/* false: a date did not parse, nothing is reused */
	/* Written by sig_verify() through the const trust it borrows: what
	 * the trust has learnt, never what it trusts. */
	struct sig_cache *cache;
};

struct sig_signer {
	xmlSecKeyPtr key;		/* private key + its certificate */
	xmlSecTransformId method;	/* rsa-sha256 or ecdsa-sha256 */
};

/* --- errors ------------------------------------------------------------- */

__attribute__((format(printf, 4, 5)))
static enum reason sig_fail(struct parse_error *err, enum reason r, const xmlNode *at,
			    const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return r;
	err->reason = r;
	err->line = at != NULL ? (int)xmlGetLineNo(at) : 0;
	if (err->line < 0)
		err->line = 0;
	err->column = 0;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	parse_error_scrub(err->message);
	return r;
}

/* An element's name for messages: only names, never the document's text. */
static const char *sig_name(const xmlNode *n, char *buf, size_t size)
{
	const char *prefix = "";

	if (n->ns == NULL)
		prefix = "(no namespace) ";
	else if (xmlStrEqual(n->ns->href, BAD_CAST NS_DS))
		prefix = "ds:";
	else
		prefix = "(foreign namespace) ";
	snprintf(buf, size, "%s%.64s", prefix, (const char *)n->name);
	return buf;
}

static void sig_silent_errors(const char *file, int line, const char *func,
			      const char *object, const char *subject, int reason,
			      const char *msg)
{
	(void)file; (void)line; (void)func; (void)object; (void)subject;
	(void)reason; (void)msg;
}

/* --- global set-up --------------------------------------------------------- */

enum reason sig_global_init(struct parse_error *err)
{
	xmlInitParser();
	if (xmlSecInit() < 0)
		return sig_fail(err, REASON_INTERNAL_ERROR, NULL, "xmlSecInit failed");
	if (xmlSecCheckVersion() != 1) {
		xmlSecShutdown();
		return sig_fail(err, REASON_INTERNAL_ERROR, NULL,
				"the xmlsec library is not the version attestd was built with");
	}
	if (xmlSecCryptoAppInit(NULL) < 0) {
		xmlSecShutdown();
		return sig_fail(err, REASON_INTERNAL_ERROR, NULL, "xmlSecCryptoAppInit failed");
	}
	if (xmlSecCryptoInit() < 0) {
		xmlSecCryptoAppShutdown();
		xmlSecShutdown();
		return sig_fail(err, REASON_INTERNAL_ERROR, NULL, "xmlSecCryptoInit failed");
	}
	/* Nothing a document names is ever opened: with no I/O callbacks
	 * xmlsec cannot read a file or URL for a Reference or RetrievalMethod. */
	xmlSecIOCleanupCallbacks();
	xmlSecErrorsSetCallback(sig_silent_errors);
	return REASON_OK;
}

void sig_global_shutdown(void)
{
	xmlSecCryptoShutdown();
	xmlSecCryptoAppShutdown();
	xmlSecShutdown();
}

/* --- profile --------------------------------------------------------------- */

static bool sig_is(const xmlNode *n, const char *ns, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	       xmlStrEqual(n->ns->href, BAD_CAST ns) && xmlStrEqual(n->name, BAD_CAST name);
}

static bool sig_blank(const xmlChar *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return false;
	return true;
}

/* Only the listed attributes (unqualified) may appear. */
static enum reason sig_attrs(const xmlNode *n, const char *const *allowed,
			     struct parse_error *err)
{
	char name[96];

	for (const xmlAttr *a = n->properties; a != NULL; a = a->next) {
		bool ok = false;
		for (size_t i = 0; a->ns == NULL && allowed[i] != NULL; i++)
			ok = ok || xmlStrEqual(a->name, BAD_CAST allowed[i]);
		if (!ok)
			return sig_fail(err, REASON_SIGNATURE_PROFILE, n,
					"unexpected attribute %.16s%s%.64s on %s",
					a->ns != NULL && a->ns->prefix != NULL
						? (const char *)a->ns->prefix : "",
					a->ns != NULL && a->ns->prefix != NULL ? ":" : "",
					(const char *)a->name, sig_name(n, name, sizeof(name)));
	}
	return REASON_OK;
}

/*
 * The element children of n must be exactly `names` (ds namespace), in
 * that order, with nothing between them but whitespace.
 */
static enum reason sig_expect(const xmlNode *n, const char *const *names, size_t count,
			      xmlNodePtr *out, struct parse_error *err)
{
	char pname[96], cname[96];
	size_t i = 0;

	sig_name(n, pname, sizeof(pname));
	for (xmlNodePtr c = n->children; c != NULL; c = c->next) {
		if (c->type == XML_TEXT_NODE) {
			if (!sig_blank(c->content))
				return sig_fail(err, REASON_SIGNATURE_PROFILE, c,
						"text content in %s", pname);
			continue;
		}
		if (c->type != XML_ELEMENT_NODE)
			return sig_fail(err, REASON_SIGNATURE_PROFILE, c,
					"a node other than an element in %s", pname);
		if (i == count)
			return sig_fail(err, REASON_SIGNATURE_PROFILE, c,
					"unexpected element %s in %s",
					sig_name(c, cname, sizeof(cname)), pname);
		if (!sig_is(c, NS_DS, names[i]))
			return sig_fail(err, REASON_SIGNATURE_PROFILE, c,
					"%s: expected ds:%s, found %s", pname, names[i],
					sig_name(c, cname, sizeof(cname)));
		out[i++] = c;
	}
	if (i < count)
		return sig_fail(err, REASON_SIGNATURE_PROFILE, n, "%s: ds:%s is missing",
				pname, names[i]);
	return REASON_OK;
}

/* Base64 content: text only, not empty. */
static enum reason sig_text(const xmlNode *n, struct parse_error *err)
{
	static const char *const none[] = { NULL };
	char name[96];
	bool any = false;
	enum reason r;

	if ((r = sig_attrs(n, none, err)) != REASON_OK)
		return r;
	for (const xmlNode *c = n->children; c != NULL; c = c->next) {
		if (c->type != XML_TEXT_NODE)
			return sig_fail(err, REASON_SIGNATURE_PROFILE, c,
					"%s must hold text only", sig_name(n, name, sizeof(name)));
		any = any || !sig_blank(c->content);
	}
	if (!any)
		return sig_fail(err, REASON_SIGNATURE_PROFILE, n, "%s is empty",
				sig_name(n, name, sizeof(name)));
	return REASON_OK;
}

/* An Algorithm attribute (and nothing else) equal to one of `algs`. */
static enum reason sig_algorithm(const xmlNode *n, const char *const *algs, const char *what,
				 struct parse_error *err)
{
	static const char *const alg_only[] = { "Algorithm", NULL };
	char name[96];
	xmlChar *alg;
	bool ok = false;
	enum reason r;

	if ((r = sig_attrs(n, alg_only, err)) != REASON_OK)
		return r;
	alg = xmlGetNoNsProp(n, BAD_CAST "Algorithm");
	for (size_t i = 0; alg != NULL && algs[i] != NULL; i++)
		ok = ok || xmlStrEqual(alg, BAD_CAST algs[i]);
	xmlFree(alg);
	if (!ok)
		return sig_fail(err, REASON_SIGNATURE_PROFILE, n, "%s/@Algorithm is not %s",
				sig_name(n, name, sizeof(name)), what);
	return REASON_OK;
}

/* No element content at all (no HMACOutputLength, no XPath, ...). */
static enum reason sig_empty(const xmlNode *n, struct parse_error *err)
{
	return sig_expect(n, NULL, 0, NULL, err);
}

/*
 * exc-c14n, as CanonicalizationMethod or as the second transform.  Its one
 * parameter, InclusiveNamespaces/@PrefixList, is accepted: it can only add
 * namespace declarations to the signed bytes, never remove content, and
 * several producers emit it.
 */
static enum reason sig_exc_c14n(const xmlNode *n, struct parse_error *err)
{
	static const char *const exc[] = { NS_EXC_C14N, NULL };
	static const char *const prefix_list[] = { "PrefixList", NULL };
	const xmlNode *param = NULL;
	char name[96];
	enum reason r;

	if ((r = sig_algorithm(n, exc, "exc-c14n", err)) != REASON_OK)
		return r;
	for (const xmlNode *c = n->children; c != NULL; c = c->next) {
		if (c->type == XML_TEXT_NODE && sig_blank(c->content))
			continue;
		if (param != NULL || !sig_is(c, NS_EXC_C14N, "InclusiveNamespaces"))
			return sig_fail(err, REASON_SIGNATURE_PROFILE, c,
					"unexpected content in %s (only one ec:InclusiveNamespaces)",
					sig_name(n, name, sizeof(name)));
		param = c;
	}
	if (param == NULL)
		return REASON_OK;
	if ((r = sig_attrs(param, prefix_list, err)) != REASON_OK)
		return r;
	for (const xmlNode *c = param->children; c != NULL; c = c->next)
		if (c->type != XML_TEXT_NODE || !sig_blank(c->content))
			return sig_fail(err, REASON_SIGNATURE_PROFILE, c,
					"ec:InclusiveNamespaces must be empty");
	return REASON_OK;
}

/* The one ds:Signature: the root's last element child, and the only one. */
static enum reason sig_locate(xmlDocPtr doc, xmlNodePtr *sig_out, struct parse_error *err)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlNodePtr last = NULL, stray = NULL;
	size_t count = 0;

	if (root == NULL)
		return sig_fail(err, REASON_SIGNATURE_MISSING, NULL, "the document has no root element");
	for (xmlNodePtr c = root->last; c != NULL && last == NULL; c = c->prev)
		if (c->type == XML_ELEMENT_NODE)
			last = c;
	/* Every element at any depth, the root and the signature's own
	 * subtree included, without recursion. */
	for (xmlNodePtr n = root; n != NULL;) {
		if (n->type == XML_ELEMENT_NODE) {
			if (sig_is(n, NS_DS, "Signature")) {
				count++;
				if (n != last && stray == NULL)
					stray = n;
			}
			if (n->children != NULL) {
				n = n->children;
				continue;
			}
		}
		while (n != root && n->next == NULL)
			n = n->parent;
		n = n == root ? NULL : n->next;
	}

	if (count == 0)
		return sig_fail(err, REASON_SIGNATURE_MISSING, root,
				"no ds:Signature in the document");
	if (!sig_is(last, NS_DS, "Signature"))
		return sig_fail(err, REASON_SIGNATURE_PROFILE, stray,
				"ds:Signature is not the root's last element child");
	if (count > 1)
		return sig_fail(err, REASON_SIGNATURE_PROFILE, stray,
				"%zu ds:Signature elements in the document; exactly one is allowed",
				count);
	*sig_out = last;
	return REASON_OK;
}

/*
 * The certificate's DER from its base64 text: one DER SEQUENCE and nothing
 * after it.  Decoding it as a certificate (and its key: slow in OpenSSL 3.0)
 * is left to sig_verify(), which does it once.
 */
static enum reason sig_cert_der(xmlNodePtr node, unsigned char **der_out, size_t *len_out,
				struct parse_error *err)
{
	xmlChar *text = xmlNodeGetContent(node);
	xmlSecSize size, written = 0;
	unsigned char *der = NULL;
	const unsigned char *p;
	ASN1_SEQUENCE_ANY *seq = NULL;
	enum reason r = REASON_OK;

	size = text != NULL ? (xmlSecSize)(xmlStrlen(text) / 4 * 3 + 3) : 0;
	der = xmalloc(size);
	if (text == NULL || xmlSecBase64Decode_ex(text, der, size, &written) < 0 || written == 0) {
		r = sig_fail(err, REASON_SIGNATURE_PROFILE, node,
			     "ds:X509Certificate is not base64");
		goto out;
	}
	p = der;
	seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, (long)written);
	if (seq == NULL || p != der + written) {
		r = sig_fail(err, REASON_SIGNATURE_PROFILE, node,
			     "ds:X509Certificate does not hold exactly one DER certificate");
		goto out;
	}
	*der_out = der;
	*len_out = written;
	der = NULL;
out:
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	free(der);
	xmlFree(text);
	ERR_clear_error();
	return r;
}

/*
 * The whole of §5's structure.  On success *sig_out is the ds:Signature and
 * *der_out the signer certificate's DER (caller frees).
 */
static enum reason sig_profile(xmlDocPtr doc, xmlNodePtr *sig_out, unsigned char **der_out,
			       size_t *der_len, struct parse_error *err)
{
	static const char *const id_only[] = { "Id", NULL };
	static const char *const uri_id[] = { "URI", "Id", NULL };
	static const char *const none[] = { NULL };
	static const char *const sig_children[] = { "SignedInfo", "SignatureValue", "KeyInfo" };
	static const char *const si_children[] = { "CanonicalizationMethod", "SignatureMethod",
						   "Reference" };
	static const char *const ref_children[] = { "Transforms", "DigestMethod", "DigestValue" };
	static const char *const tr_children[] = { "Transform", "Transform" };
	static const char *const ki_children[] = { "X509Data" };
	static const char *const x509_children[] = { "X509Certificate" };
	static const char *const sign_algs[] = { ALG_RSA_SHA256, ALG_ECDSA_SHA256, NULL };
	static const char *const enveloped[] = { ALG_ENVELOPED, NULL };
	static const char *const sha256[] = { ALG_SHA256, NULL };
	xmlNodePtr sig = NULL, s[3], si[3], ref[3], tr[2], ki[1], x509[1];
	xmlChar *uri = NULL;
	enum reason r;

	if ((r = sig_locate(doc, &sig, err)) != REASON_OK)
		return r;
	if ((r = sig_attrs(sig, id_only, err)) != REASON_OK ||
	    (r = sig_expect(sig, sig_children, 3, s, err)) != REASON_OK)
		return r;

	/* SignedInfo */
	if ((r = sig_attrs(s[0], id_only, err)) != REASON_OK ||
	    (r = sig_expect(s[0], si_children, 3, si, err)) != REASON_OK ||
	    (r = sig_exc_c14n(si[0], err)) != REASON_OK ||
	    (r = sig_algorithm(si[1], sign_algs, "rsa-sha256 or ecdsa-sha256", err)) != REASON_OK ||
	    (r = sig_empty(si[1], err)) != REASON_OK)
		return r;

	/* Reference URI="" */
	if ((r = sig_attrs(si[2], uri_id, err)) != REASON_OK)
		return r;
	uri = xmlGetNoNsProp(si[2], BAD_CAST "URI");
	if (uri == NULL || uri[0] != '\0') {
		r = sig_fail(err, REASON_SIGNATURE_PROFILE, si[2],
			     uri == NULL ? "ds:Reference has no URI attribute"
					 : "ds:Reference/@URI is not \"\"");
		xmlFree(uri);
		return r;
	}
	xmlFree(uri);
	if ((r = sig_expect(si[2], ref_children, 3, ref, err)) != REASON_OK ||
	    (r = sig_attrs(ref[0], none, err)) != REASON_OK ||
	    (r = sig_expect(ref[0], tr_children, 2, tr, err)) != REASON_OK ||
	    (r = sig_algorithm(tr[0], enveloped, "enveloped-signature", err)) != REASON_OK ||
	    (r = sig_empty(tr[0], err)) != REASON_OK ||
	    (r = sig_exc_c14n(tr[1], err)) != REASON_OK ||
	    (r = sig_algorithm(ref[1], sha256, "sha256", err)) != REASON_OK ||
	    (r = sig_empty(ref[1], err)) != REASON_OK ||
	    (r = sig_text(ref[2], err)) != REASON_OK)
		return r;

	/* SignatureValue (its Id is the one attribute XML-DSig gives it) */
	if ((r = sig_attrs(s[1], id_only, err)) != REASON_OK)
		return r;
	for (xmlNodePtr c = s[1]->children; c != NULL; c = c->next)
		if (c->type != XML_TEXT_NODE)
			return sig_fail(err, REASON_SIGNATURE_PROFILE, c,
					"ds:SignatureValue must hold text only");

	/* KeyInfo/X509Data/X509Certificate, nothing else */
	if ((r = sig_attrs(s[2], id_only, err)) != REASON_OK ||
	    (r = sig_expect(s[2], ki_children, 1, ki, err)) != REASON_OK ||
	    (r = sig_attrs(ki[0], none, err)) != REASON_OK ||
	    (r = sig_expect(ki[0], x509_children, 1, x509, err)) != REASON_OK ||
	    (r = sig_text(x509[0], err)) != REASON_OK ||
	    (r = sig_cert_der(x509[0], der_out, der_len, err)) != REASON_OK)
		return r;
	*sig_out = sig;
	return REASON_OK;
}

enum reason sig_check_profile(xmlDocPtr doc, struct parse_error *err)
{
	xmlNodePtr sig;
	unsigned char *der = NULL;
	size_t len = 0;
	enum reason r = sig_profile(doc, &sig, &der, &len, err);

	free(der);
	return r;
}

/* --- trust ----------------------------------------------------------------- */

static void sig_hex(const unsigned char *bytes, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 0xf];
	}
	out[2 * len] = '\0';
}

static bool sig_sha256_hex(const unsigned char *bytes, size_t len, char out[DOC_SHA256_HEX_SIZE])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(bytes, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return false;
	sig_hex(md, mdlen, out);
	return true;
}

/* True when the PEM reader stopped at the end of the file, not on an error. */
static bool sig_pem_eof(void)
{
	unsigned long e = ERR_peek_last_error();
	bool eof = ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;

	ERR_clear_error();
	return eof;
}

static enum reason sig_load_cas(struct sig_trust *t, const char *file, struct parse_error *err)
{
	BIO *bio = BIO_new_file(file, "r");
	size_t count = 0;
	X509 *cert;

	if (bio == NULL) {
		ERR_clear_error();
		return sig_fail(err, REASON_TRUST_UNAVAILABLE, NULL, "cannot read the CA bundle %s",
				file);
	}
	while ((cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		int ok = X509_STORE_add_cert(t->store, cert);
		X509_free(cert);
		if (ok != 1) {
			BIO_free(bio);
			ERR_clear_error();
			return sig_fail(err, REASON_TRUST_UNAVAILABLE, NULL,
					"cannot add certificate %zu of %s", count + 1, file);
		}
		count++;
	}
	BIO_free(bio);
	if (!sig_pem_eof() || count == 0)
		return sig_fail(err, REASON_TRUST_UNAVAILABLE, NULL,
				"%s is not a PEM bundle of certificates", file);
	return REASON_OK;
}

/* The bundle's certificate that signed this CRL, found once at load time so
 * that the evidence can name the CRL without a signature check per file. */
static X509 *sig_crl_issuer(X509_STORE *store, X509_CRL *crl)
{
	STACK_OF(X509_OBJECT) *objects = X509_STORE_get0_objects(store);

	for (int i = 0; i < sk_X509_OBJECT_num(objects); i++) {
		X509 *ca = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, i));
		if (ca != NULL &&
		    X509_NAME_cmp(X509_get_subject_name(ca), X509_CRL_get_issuer(crl)) == 0 &&
		    X509_CRL_verify(crl, X509_get0_pubkey(ca)) == 1)
			return ca;
	}
	ERR_clear_error();
	return NULL;
}

static enum reason sig_add_crl(struct sig_trust *t, X509_CRL *crl, const char *file,
			       struct parse_error *err)
{
	struct sig_crl *c;
	unsigned char *der = NULL;
	ASN1_INTEGER *number;
	int len;

	t->crls = xreallocarray(t->crls, t->ncrls + 1, sizeof(*t->crls));
	c = &t->crls[t->ncrls++];
	c->crl = crl;
	c->issuer = sig_crl_issuer(t->store, crl);
	c->number = NULL;
	c->sha256[0] = '\0';
	len = i2d_X509_CRL(crl, &der);
	if (len <= 0 || !sig_sha256_hex(der, (size_t)len, c->sha256) ||
	    X509_STORE_add_crl(t->store, crl) != 1) {
		OPENSSL_free(der);
		ERR_clear_error();
		return sig_fail(err, REASON_TRUST_UNAVAILABLE, NULL, "cannot use the CRL in %s", file);
	}
	OPENSSL_free(der);
	number = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	if (number != NULL) {
		BIGNUM *bn = ASN1_INTEGER_to_BN(number, NULL);
		char *dec = bn != NULL ? BN_bn2dec(bn) : NULL;
		c->number = xstrdup(dec != NULL ? dec : "");
		OPENSSL_free(dec);
		BN_free(bn);
		ASN1_INTEGER_free(number);
	} else {
		c->number = xstrdup("");
	}
	ERR_clear_error();
	return REASON_OK;
}

/* One or more PEM CRLs (one per issuing CA), or a single DER CRL. */
static enum reason sig_load_crls(struct sig_trust *t, const char *file, struct parse_error *err)
{
	BIO *bio = BIO_new_file(file, "rb");
	X509_CRL *crl;
	enum reason r = REASON_OK;

	if (bio == NULL) {
		ERR_clear_error();
		return sig_fail(err, REASON_TRUST_UNAVAILABLE, NULL, "cannot read the CRL %s", file);
	}
	while (r == REASON_OK && (crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL)
		r = sig_add_crl(t, crl, file, err);
	if (r == REASON_OK && t->ncrls == 0) {
		ERR_clear_error();
		if (BIO_reset(bio) == 0 && (crl = d2i_X509_CRL_bio(bio, NULL)) != NULL)
			r = sig_add_crl(t, crl, file, err);
		else
			r = sig_fail(err, REASON_TRUST_UNAVAILABLE, NULL, "%s holds no CRL", file);
	} else if (r == REASON_OK && !sig_pem_eof()) {
		r = sig_fail(err, REASON_TRUST_UNAVAILABLE, NULL, "%s: unreadable CRL after the %zu-th",
			     file, t->ncrls);
	}
	BIO_free(bio);
	ERR_clear_error();
	return r;
}

/* An ASN.1 time in seconds since the epoch (fractions dropped). */
static bool sig_seconds(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return false;
	*out = (int64_t)timegm(&tm);
	return true;
}

static void sig_add_date(struct sig_trust *t, const ASN1_TIME *date)
{
	int64_t when;

	if (date == NULL)		/* a CRL without nextUpdate */
		return;
	if (!sig_seconds(date, &when)) {
		t->dates_known = false;
		return;
	}
	t->dates = xreallocarray(t->dates, t->ndates + 1, sizeof(*t->dates));
	t->dates[t->ndates++] = when;
}

static void sig_collect_dates(struct sig_trust *t)
{
	STACK_OF(X509_OBJECT) *objects = X509_STORE_get0_objects(t->store);

	t->dates_known = true;
	for (int i = 0; i < sk_X509_OBJECT_num(objects); i++) {
		X509_OBJECT *o = sk_X509_OBJECT_value(objects, i);
		X509 *ca = X509_OBJECT_get0_X509(o);
		X509_CRL *crl = X509_OBJECT_get0_X509_CRL(o);

		if (ca != NULL) {
			sig_add_date(t, X509_get0_notBefore(ca));
			sig_add_date(t, X509_get0_notAfter(ca));
		} else if (crl != NULL) {
			sig_add_date(t, X509_CRL_get0_lastUpdate(crl));
			sig_add_date(t, X509_CRL_get0_nextUpdate(crl));
		} else {
			t->dates_known = false;
		}
	}
	ERR_clear_error();
}

struct sig_trust *sig_trust_load(const char *ca_file, const char *crl_file,
				 struct parse_error *err)
{
	struct sig_trust *t = xcalloc(1, sizeof(*t));

	if ((t->store = X509_STORE_new()) == NULL) {
		sig_fail(err, REASON_INTERNAL_ERROR, NULL, "cannot create the certificate store");
		goto fail;
	}
	if (ca_file == NULL) {
		sig_fail(err, REASON_TRUST_UNAVAILABLE, NULL, "no CA bundle configured");
		goto fail;
	}
	if (sig_load_cas(t, ca_file, err) != REASON_OK)
		goto fail;
	if (crl_file != NULL && sig_load_crls(t, crl_file, err) != REASON_OK)
		goto fail;
	sig_collect_dates(t);
	t->cache = xcalloc(1, sizeof(*t->cache));
	return t;
fail:
	sig_trust_free(t);
	ERR_clear_error();
	return NULL;
}

enum reason sig_trust_crls_current(const struct sig_trust *t, time_t now, struct parse_error *err)
{
	for (size_t i = 0; i < t->ncrls; i++) {
		X509_CRL *crl = t->crls[i].crl;
		char issuer[256] = "";
		X509_NAME_oneline(X509_CRL_get_issuer(crl), issuer, sizeof(issuer));
		int64_t last = 0, next = 0;
		const ASN1_TIME *nu = X509_CRL_get0_nextUpdate(crl);
		if (!sig_seconds(X509_CRL_get0_lastUpdate(crl), &last) || (nu && !sig_seconds(nu, &next)))
			return sig_fail(err, REASON_CRL_STALE, NULL, "the CRL of %s has a date that "
					"does not parse", issuer);
		char when[32];
		time_t w = (time_t)(last > (int64_t)now ? last : next);
		struct tm tm;
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&w, &tm));
		if (last > (int64_t)now)
			return sig_fail(err, REASON_CRL_STALE, NULL, "the CRL of %s is not valid "
					"before %s (lastUpdate): check the clock or the file", issuer, when);
		if (nu && next < (int64_t)now)
			return sig_fail(err, REASON_CRL_STALE, NULL, "the CRL of %s expired on %s "
					"(nextUpdate): fetch a fresh one from its CA, then reload", issuer,
					when);
	}
	return REASON_OK;
}

void sig_trust_free(struct sig_trust *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->ncrls; i++) {
		X509_CRL_free(t->crls[i].crl);
		free(t->crls[i].number);
	}
	free(t->crls);
	X509_STORE_free(t->store);
	free(t->dates);
	if (t->cache != NULL)
		for (size_t i = 0; i < t->cache->used; i++) {
			X509_free(t->cache->slots[i].cert);
			free(t->cache->slots[i].chain_pem);
		}
	free(t->cache);
	free(t);
}

void sig_trust_cache_stats(const struct sig_trust *t, struct sig_cache_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->capacity = SIG_CACHE_SLOTS;
	if (t == NULL || t->cache == NULL)
		return;
	out->entries = t->cache->used;
	out->cert_hits = t->cache->cert_hits;
	out->chain_hits = t->cache->chain_hits;
}

/* --- verification ---------------------------------------------------------- */

/* A CRL issued after the reception time is newer knowledge, not a stale one. */
static int sig_verify_cb(int ok, X509_STORE_CTX *ctx)
{
	if (!ok && X509_STORE_CTX_get_error(ctx) == X509_V_ERR_CRL_NOT_YET_VALID)
		return 1;
	return ok;
}

static enum reason sig_cert_reason(int code)
{
	switch (code) {
	case X509_V_ERR_OUT_OF_MEM:
	case X509_V_ERR_UNSPECIFIED:
		return REASON_INTERNAL_ERROR;
	case X509_V_ERR_CERT_NOT_YET_VALID:
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return REASON_CERT_EXPIRED;
	case X509_V_ERR_CERT_REVOKED:
		return REASON_CERT_REVOKED;
	case X509_V_ERR_UNABLE_TO_GET_CRL:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
	case X509_V_ERR_CRL_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
	case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
	case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
	case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
	case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
	case X509_V_ERR_DIFFERENT_CRL_SCOPE:
	case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
	case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
		return REASON_CRL_STALE;
	default:
		return REASON_CERT_UNTRUSTED;
	}
}

/* RSA >= 2048 bits or EC P-256, usage allowing signatures, not a CA. */
static enum reason sig_key_policy(X509 *cert, struct parse_error *err)
{
	EVP_PKEY *key = X509_get0_pubkey(cert);
	char group[64] = "";
	size_t glen = 0;

	if (key == NULL)
		return sig_fail(err, REASON_CERT_POLICY, NULL, "the signer key cannot be read");
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		if (EVP_PKEY_get_bits(key) < 2048)
			return sig_fail(err, REASON_CERT_POLICY, NULL,
					"the signer RSA key has %d bits, fewer than 2048",
					EVP_PKEY_get_bits(key));
		break;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_group_name(key, group, sizeof(group), &glen) != 1 ||
		    strcmp(group, "prime256v1") != 0) {
			ERR_clear_error();
			return sig_fail(err, REASON_CERT_POLICY, NULL,
					"the signer EC key is not on P-256");
		}
		break;
	default:
		return sig_fail(err, REASON_CERT_POLICY, NULL, "the signer key is neither RSA nor EC");
	}
	if ((X509_get_extension_flags(cert) & EXFLAG_KUSAGE) != 0 &&
	    (X509_get_key_usage(cert) & KU_DIGITAL_SIGNATURE) == 0)
		return sig_fail(err, REASON_CERT_POLICY, NULL,
				"the signer certificate's key usage excludes digital signatures");
	if (X509_check_ca(cert) != 0)
		return sig_fail(err, REASON_CERT_POLICY, NULL, "the signer certificate is a CA");
	return REASON_OK;
}

/* The chain as PEM, leaf first. */
static char *sig_chain_pem(STACK_OF(X509) *chain)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *pem;
	long len;

	if (bio == NULL)
		return NULL;
	for (int i = 0; i < sk_X509_num(chain); i++)
		if (PEM_write_bio_X509(bio, sk_X509_value(chain, i)) != 1) {
			BIO_free(bio);
			return NULL;
		}
	len = BIO_get_mem_data(bio, &data);
	pem = xstrndup(data != NULL ? data : "", len > 0 ? (size_t)len : 0);
	BIO_free(bio);
	return pem;
}

/* The configured CRL that covers the leaf: signed by the leaf's issuer. */
static const struct sig_crl *sig_crl_for(const struct sig_trust *t, STACK_OF(X509) *chain)
{
	X509 *issuer = sk_X509_value(chain, sk_X509_num(chain) > 1 ? 1 : 0);

	for (size_t i = 0; i < t->ncrls; i++)
		if (t->crls[i].issuer != NULL && X509_cmp(t->crls[i].issuer, issuer) == 0)
			return &t->crls[i];
	return NULL;
}

/*
 * Chain, validity at `at`, revocation, then the key policy.  On success
 * *chain_out is the verified chain (caller frees).
 */
static enum reason sig_check_cert(const struct sig_trust *t, X509 *cert, time_t at,
				  STACK_OF(X509) **chain_out, struct parse_error *err)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *param;
	enum reason r;
	int code;

	if (ctx == NULL || X509_STORE_CTX_init(ctx, t->store, cert, NULL) != 1) {
		X509_STORE_CTX_free(ctx);
		return sig_fail(err, REASON_INTERNAL_ERROR, NULL, "cannot set up certificate checks");
	}
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(param, at);
	if (t->ncrls > 0)
		X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK);
	X509_STORE_CTX_set_verify_cb(ctx, sig_verify_cb);
	if (X509_verify_cert(ctx) != 1) {
		code = X509_STORE_CTX_get_error(ctx);
		r = sig_cert_reason(code);
		sig_fail(err, r, NULL, "signer certificate (depth %d): %s",
			 X509_STORE_CTX_get_error_depth(ctx), X509_verify_cert_error_string(code));
		X509_STORE_CTX_free(ctx);
		ERR_clear_error();
		return r;
	}
	*chain_out = X509_STORE_CTX_get1_chain(ctx);
	X509_STORE_CTX_free(ctx);
	if (*chain_out == NULL)
		return sig_fail(err, REASON_INTERNAL_ERROR, NULL, "cannot copy the verified chain");
	return sig_key_policy(cert, err);
}

/*
 * xmlsec's context for verification under the profile, with the
 * certificate's key as the only key.  The KeyInfo settings are a second
 * fence: with the key set and no keys manager xmlsec does not read KeyInfo.
 */
static xmlSecDSigCtxPtr sig_dsig_ctx(X509 *cert)
{
	xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(NULL);
	xmlSecKeyDataPtr value = NULL;

	if (ctx == NULL)
		return NULL;
	ctx->flags |= XMLSEC_DSIG_FLAGS_IGNORE_MANIFESTS;
	ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
	ctx->keyInfoReadCtx.flags |= XMLSEC_KEYINFO_FLAGS_X509DATA_DONT_VERIFY_CERTS |
				     XMLSEC_KEYINFO_FLAGS_STOP_ON_UNKNOWN_CHILD;
	ctx->keyInfoReadCtx.maxRetrievalMethodLevel = 0;
	if (xmlSecPtrListAdd(&ctx->keyInfoReadCtx.enabledKeyData, (void *)xmlSecKeyDataX509Id) < 0 ||
	    xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformEnvelopedId) < 0 ||
	    xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformExclC14NId) < 0 ||
	    xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformSha256Id) < 0 ||
	    xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformExclC14NId) < 0 ||
	    xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformRsaSha256Id) < 0 ||
	    xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformEcdsaSha256Id) < 0 ||
	    (value = xmlSecOpenSSLX509CertGetKey(cert)) == NULL ||
	    (ctx->signKey = xmlSecKeyCreate()) == NULL ||
	    xmlSecKeySetValue(ctx->signKey, value) < 0) {
		if (value != NULL)
			xmlSecKeyDataDestroy(value);
		xmlSecDSigCtxDestroy(ctx);
		return NULL;
	}
	return ctx;
}

/* The value verified, with exactly one reference, by this certificate's key. */
static enum reason sig_check_value(xmlSecDSigCtxPtr ctx, xmlNodePtr sig, X509 *cert,
				   struct parse_error *err)
{
	xmlSecDSigReferenceCtxPtr ref;
	EVP_PKEY *used;

	if (xmlSecDSigCtxVerify(ctx, sig) < 0)
		return sig_fail(err, REASON_SIGNATURE_INVALID, sig,
				"the signature cannot be verified (encoding, or key and algorithm differ)");
	if (ctx->status != xmlSecDSigStatusSucceeded)
		return sig_fail(err, REASON_SIGNATURE_INVALID, sig,
				"the signature value or the digest does not verify");
	if (xmlSecPtrListGetSize(&ctx->signedInfoReferences) != 1 ||
	    xmlSecPtrListGetSize(&ctx->manifestReferences) != 0)
		return sig_fail(err, REASON_SIGNATURE_PROFILE, sig,
				"xmlsec processed other than exactly one reference");
	ref = xmlSecPtrListGetItem(&ctx->signedInfoReferences, 0);
	if (ref == NULL || ref->status != xmlSecDSigStatusSucceeded || ref->uri == NULL ||
	    ref->uri[0] != '\0')
		return sig_fail(err, REASON_SIGNATURE_INVALID, sig,
				"the reference to the whole document did not verify");
	used = ctx->signKey != NULL ? xmlSecOpenSSLEvpKeyDataGetEvp(xmlSecKeyGetValue(ctx->signKey))
				    : NULL;
	if (used == NULL || EVP_PKEY_eq(used, X509_get0_pubkey(cert)) != 1) {
		ERR_clear_error();
		return sig_fail(err, REASON_SIGNATURE_INVALID, sig,
				"the key that verified is not the certificate's");
	}
	return REASON_OK;
}

static void sig_fill_evidence(struct parse_evidence *ev, unsigned char *der, size_t len,
			      char *chain_pem, const struct sig_crl *crl, const char *fingerprint)
{
	memset(ev, 0, sizeof(*ev));
	snprintf(ev->signer_sha256, sizeof(ev->signer_sha256), "%s", fingerprint);
	ev->signer_der = der;
	ev->signer_der_len = len;
	ev->chain_pem = chain_pem;
	if (crl != NULL) {
		ev->crl_number = xstrdup(crl->number);
		snprintf(ev->crl_sha256, sizeof(ev->crl_sha256), "%s", crl->sha256);
	}
	snprintf(ev->verifier, sizeof(ev->verifier), "attestd %s xmlsec1 %s libxml2 %s OpenSSL %s",
		 ATTESTD_VERSION, XMLSEC_VERSION, LIBXML_DOTTED_VERSION,
		 OpenSSL_version(OPENSSL_VERSION_STRING));
}

/* --- what the trust remembers ------------------------------------------------ */

static struct sig_known *sig_cache_find(struct sig_cache *c, const unsigned char *id)
{
	for (size_t i = 0; i < c->used; i++)
		if (memcmp(c->slots[i].id, id, sizeof(c->slots[i].id)) == 0)
			return &c->slots[i];
	return NULL;
}

/* Folds one date into the window around `at`; false when `at` is too close
 * to it to tell which side OpenSSL would put it on. */
static bool sig_fold_date(int64_t date, int64_t at, int64_t *lo, int64_t *hi)
{
	if (at >= date - SIG_TIME_MARGIN && at <= date + SIG_TIME_MARGIN)
		return false;
	if (date < at && date + SIG_TIME_MARGIN > *lo)
		*lo = date + SIG_TIME_MARGIN;
	else if (date > at && date - SIG_TIME_MARGIN < *hi)
		*hi = date - SIG_TIME_MARGIN;
	return true;
}

/*
 * The check times on the same side as `at` of every date the chain check
 * compares with: the store's and the leaf's.  Within it every comparison
 * X509_verify_cert() makes comes out as it did at `at` (the issuer and the
 * CRL it picks included), and nothing else it reads changes, so neither does
 * its outcome.  Empty (lo == hi) when `at` sits on a date.
 */
static void sig_window(const struct sig_trust *t, X509 *cert, time_t at, int64_t *lo,
		       int64_t *hi)
{
	int64_t leaf[2];
	bool ok = t->dates_known && sig_seconds(X509_get0_notBefore(cert), &leaf[0]) &&
		  sig_seconds(X509_get0_notAfter(cert), &leaf[1]);

	*lo = INT64_MIN;
	*hi = INT64_MAX;
	for (size_t i = 0; ok && i < 2; i++)
		ok = sig_fold_date(leaf[i], (int64_t)at, lo, hi);
	for (size_t i = 0; ok && i < t->ndates; i++)
		ok = sig_fold_date(t->dates[i], (int64_t)at, lo, hi);
	if (!ok)
		*lo = *hi = (int64_t)at;
	ERR_clear_error();
}

/*
 * After a verification that succeeded: the certificate (up-ref'd), and its
 * chain check for the window around `at`.  A full cache evicts its oldest
 * entry.  `known` is the certificate's entry when there is one already.
 */
static void sig_remember(const struct sig_trust *t, struct sig_known *known,
			 const unsigned char *id, X509 *cert, time_t at, const char *chain_pem,
			 const struct sig_crl *crl)
{
	struct sig_cache *c = t->cache;

	if (known == NULL) {
		if (c->used < SIG_CACHE_SLOTS) {
			known = &c->slots[c->used++];
		} else {
			known = &c->slots[c->next];
			c->next = (c->next + 1) % SIG_CACHE_SLOTS;
			X509_free(known->cert);
			free(known->chain_pem);
		}
		memcpy(known->id, id, sizeof(known->id));
		X509_up_ref(cert);
		known->cert = cert;
		known->chain_pem = NULL;
	}
	free(known->chain_pem);
	known->chain_pem = xstrdup(chain_pem);
	known->crl = crl;
	sig_window(t, cert, at, &known->lo, &known->hi);
}

enum reason sig_verify(xmlDocPtr doc, const struct sig_trust *trust, time_t at,
		       struct parse_evidence *evidence, struct parse_error *err)
{
	xmlSecDSigCtxPtr ctx = NULL;
	xmlNodePtr sig = NULL;
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t len = 0;
	X509 *cert = NULL;
	STACK_OF(X509) *chain = NULL;
	const struct sig_crl *crl = NULL;
	struct sig_known *known;
	unsigned char id[SHA256_DIGEST_LENGTH];
	char fingerprint[DOC_SHA256_HEX_SIZE];
	char *pem = NULL;
	const char *chain_pem;
	enum reason r;

	/* Again, so that nothing but the profile ever reaches xmlsec. */
	if ((r = sig_profile(doc, &sig, &der, &len, err)) != REASON_OK)
		goto out;
	if (SHA256(der, len, id) == NULL) {
		r = sig_fail(err, REASON_INTERNAL_ERROR, NULL, "cannot hash the certificate");
		goto out;
	}
	sig_hex(id, sizeof(id), fingerprint);
	/* The same DER decodes to the same certificate: only the decoding is
	 * skipped, every check below is made as for a new one. */
	if ((known = sig_cache_find(trust->cache, id)) != NULL) {
		X509_up_ref(known->cert);
		cert = known->cert;
		trust->cache->cert_hits++;
	} else {
		p = der;
		cert = d2i_X509(NULL, &p, (long)len);
		if (cert == NULL || p != der + len) {
			r = sig_fail(err, REASON_SIGNATURE_PROFILE, sig,
				     "ds:X509Certificate does not hold exactly one DER certificate");
			goto out;
		}
	}
	/* A key xmlsec cannot use for rsa-sha256 or ecdsa-sha256 fails the
	 * policy, not our set-up (which would retry the file forever). */
	if (EVP_PKEY_get_base_id(X509_get0_pubkey(cert)) != EVP_PKEY_RSA &&
	    EVP_PKEY_get_base_id(X509_get0_pubkey(cert)) != EVP_PKEY_EC) {
		r = sig_fail(err, REASON_CERT_POLICY, sig, "the signer key is neither RSA nor EC");
		goto out;
	}
	if ((ctx = sig_dsig_ctx(cert)) == NULL) {
		r = sig_fail(err, REASON_INTERNAL_ERROR, NULL, "cannot set up xmlsec");
		goto out;
	}
	if ((r = sig_check_value(ctx, sig, cert, err)) != REASON_OK)
		goto out;
	if (known != NULL && known->lo < (int64_t)at && (int64_t)at < known->hi) {
		/* The chain check passed for a time that compares with every
		 * date as `at` does: it would pass again, with this chain. */
		trust->cache->chain_hits++;
		crl = known->crl;
		chain_pem = known->chain_pem;
	} else {
		if ((r = sig_check_cert(trust, cert, at, &chain, err)) != REASON_OK)
			goto out;
		if (trust->ncrls > 0 && (crl = sig_crl_for(trust, chain)) == NULL) {
			r = sig_fail(err, REASON_CRL_STALE, NULL,
				     "no configured CRL covers the issuer");
			goto out;
		}
		if ((pem = sig_chain_pem(chain)) == NULL && evidence != NULL) {
			r = sig_fail(err, REASON_INTERNAL_ERROR, NULL, "cannot write the chain");
			goto out;
		}
		if (pem != NULL)
			sig_remember(trust, known, id, cert, at, pem, crl);
		chain_pem = pem;
	}
	if (evidence != NULL) {
		sig_fill_evidence(evidence, der, len, xstrdup(chain_pem), crl, fingerprint);
		der = NULL;
	}
out:
	if (ctx != NULL)
		xmlSecDSigCtxDestroy(ctx);
	sk_X509_pop_free(chain, X509_free);
	X509_free(cert);
	free(pem);
	free(der);
	ERR_clear_error();
	return r;
}

void parse_evidence_clear(struct parse_evidence *ev)
{
	if (ev == NULL)
		return;
	free(ev->signer_der);
	free(ev->chain_pem);
	free(ev->crl_number);
	memset(ev, 0, sizeof(*ev));
}

/* --- signing --------------------------------------------------------------- */

/* Never prompt for a pass phrase: an encrypted key simply fails to load. */
static int sig_no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf; (void)size; (void)rwflag; (void)u;
	return -1;
}

struct sig_signer *sig_signer_load(const char *key_file, const char *cert_file,
				   struct parse_error *err)
{
	struct sig_signer *s = xcalloc(1, sizeof(*s));
	BIO *bio;
	xmlSecKeyDataPtr x509;
	EVP_PKEY *pkey;
	X509 *cert;

	/* Our own BIOs: xmlsec's file helpers leak theirs when a file is missing. */
	if ((bio = BIO_new_file(key_file, "r")) != NULL)
		s->key = xmlSecOpenSSLAppKeyLoadBIO(bio, xmlSecKeyDataFormatPem, NULL,
						    (void *)sig_no_password, NULL);
	BIO_free(bio);
	if (s->key == NULL) {
		sig_fail(err, REASON_TRUST_UNAVAILABLE, NULL, "cannot load the signing key %s", key_file);
		goto fail;
	}
	if ((bio = BIO_new_file(cert_file, "r")) == NULL ||
	    xmlSecOpenSSLAppKeyCertLoadBIO(s->key, bio, xmlSecKeyDataFormatPem) < 0) {
		BIO_free(bio);
		sig_fail(err, REASON_TRUST_UNAVAILABLE, NULL, "cannot load the certificate %s",
			 cert_file);
		goto fail;
	}
	BIO_free(bio);
	pkey = xmlSecOpenSSLEvpKeyDataGetEvp(xmlSecKeyGetValue(s->key));
	x509 = xmlSecKeyGetData(s->key, xmlSecKeyDataX509Id);
	cert = x509 != NULL && xmlSecOpenSSLKeyDataX509GetCertsSize(x509) == 1
		       ? xmlSecOpenSSLKeyDataX509GetCert(x509, 0) : NULL;
	if (pkey == NULL || cert == NULL || X509_check_private_key(cert, pkey) != 1) {
		sig_fail(err, REASON_TRUST_UNAVAILABLE, NULL,
			 "%s is not one certificate for the key %s", cert_file, key_file);
		goto fail;
	}
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		s->method = xmlSecTransformRsaSha256Id;
		break;
	case EVP_PKEY_EC:
		s->method = xmlSecTransformEcdsaSha256Id;
		break;
	default:
		sig_fail(err, REASON_TRUST_UNAVAILABLE, NULL, "the key %s is neither RSA nor EC",
			 key_file);
		goto fail;
	}
	ERR_clear_error();
	return s;
fail:
	sig_signer_free(s);
	ERR_clear_error();
	return NULL;
}

void sig_signer_free(struct sig_signer *s)
{
	if (s == NULL)
		return;
	if (s->key != NULL)
		xmlSecKeyDestroy(s->key);
	free(s);
}

enum reason sig_sign(xmlDocPtr doc, const struct sig_signer *signer, struct parse_error *err)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlNodePtr sig = NULL, ref, ki, x509;
	xmlSecDSigCtxPtr ctx = NULL;
	enum reason r = REASON_OK;

	if (root == NULL)
		return sig_fail(err, REASON_INTERNAL_ERROR, NULL, "nothing to sign");
	for (xmlNodePtr n = root; n != NULL;) {
		if (sig_is(n, NS_DS, "Signature"))
			return sig_fail(err, REASON_SIGNATURE_PROFILE, n,
					"the document is already signed");
		if (n->type == XML_ELEMENT_NODE && n->children != NULL) {
			n = n->children;
			continue;
		}
		while (n != root && n->next == NULL)
			n = n->parent;
		n = n == root ? NULL : n->next;
	}
	sig = xmlSecTmplSignatureCreateNsPref(doc, xmlSecTransformExclC14NId, signer->method, NULL,
					      BAD_CAST "ds");
	if (sig == NULL || xmlAddChild(root, sig) == NULL) {
		xmlFreeNode(sig);
		return sig_fail(err, REASON_INTERNAL_ERROR, NULL, "cannot create the signature");
	}
	ref = xmlSecTmplSignatureAddReference(sig, xmlSecTransformSha256Id, NULL, BAD_CAST "", NULL);
	ki = xmlSecTmplSignatureEnsureKeyInfo(sig, NULL);
	x509 = ki != NULL ? xmlSecTmplKeyInfoAddX509Data(ki) : NULL;
	ctx = xmlSecDSigCtxCreate(NULL);
	if (ref == NULL || x509 == NULL || ctx == NULL ||
	    xmlSecTmplReferenceAddTransform(ref, xmlSecTransformEnvelopedId) == NULL ||
	    xmlSecTmplReferenceAddTransform(ref, xmlSecTransformExclC14NId) == NULL ||
	    xmlSecTmplX509DataAddCertificate(x509) == NULL ||
	    (ctx->signKey = signer->key) == NULL || xmlSecDSigCtxSign(ctx, sig) < 0) {
		r = sig_fail(err, REASON_INTERNAL_ERROR, NULL, "xmlsec could not sign");
		xmlUnlinkNode(sig);
		xmlFreeNode(sig);
	}
	/* The key is borrowed for the signature (xmlSecKeyDuplicate() costs
	 * more than the signing under OpenSSL 3): not the context's to free. */
	if (ctx != NULL) {
		ctx->signKey = NULL;
		xmlSecDSigCtxDestroy(ctx);
	}
	ERR_clear_error();
	return r;
}
