/*
 * check - the offline file check.  See check.h.  Its reader is a centre's
 * IT person: every problem line says what is wrong and then what to do.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "exitcode.h"
#include "inbox.h"
#include "parsers.h"

static const char *kind_name(int kind)
{
	switch (kind) {
	case DOC_ATTESTATIONS:	return "attestations";
	case DOC_SIGNIN_SHEET:	return "signin-sheet";
	}
	return "unknown";
}

/* What the sender can do about a reason; NULL when the message says it. */
static const char *what_to_do(enum reason r)
{
	switch (r) {
	case REASON_BAD_FILE_NAME:
		return "rename the file: 1-128 letters, digits, '.', '_' or '-', then .xml";
	case REASON_NOT_REGULAR_FILE:
		return "check and send a plain file (not a link, directory or device)";
	case REASON_TOO_LARGE:
		/* The parser's limits: elements, attributes, nesting (the size
		 * itself is read_problem's). */
		return "the structure goes beyond what the exchange format allows: check the "
		       "program that writes the file";
	case REASON_NOT_WELL_FORMED:
		return "fix the XML at that line (xmllint --noout FILE shows the same)";
	case REASON_DOCTYPE_FORBIDDEN:
		return "remove the <!DOCTYPE ...> declaration and any entity it defines";
	case REASON_XML_CONSTRUCT_FORBIDDEN:
		return "remove comments, <?...?> instructions and xsi:* attributes; save as UTF-8";
	case REASON_SCHEMA_INVALID:
		return "correct the element or attribute named (the schemas: " ATTESTD_DATADIR "/schemas; "
		       "see attestd(8))";
	case REASON_SIGNATURE_MISSING:
		return "sign the file with the centre's certificate (the signature profile: see "
		       "attestd(8))";
	case REASON_SIGNATURE_PROFILE:
		return "sign with the signature profile of attestd(8) (enveloped, exc-c14n, "
		       "rsa-sha256 or ecdsa-sha256, the certificate only in KeyInfo)";
	case REASON_SIGNATURE_INVALID:
		return "the file changed after it was signed, or the certificate is not the "
		       "signing key's: sign the final file again and do not edit or reformat "
		       "it afterwards";
	case REASON_CERT_UNTRUSTED:
		return "sign with the certificate issued to the centre under the prefecture's CA";
	case REASON_CERT_EXPIRED:
		return "renew the centre's certificate and sign again";
	case REASON_CERT_REVOKED:
		return "sign with the centre's current certificate, not a revoked one";
	case REASON_CERT_POLICY:
		return "use an RSA key of 2048 bits or more, or an EC P-256 key, whose "
		       "certificate allows digital signatures";
	default:
		return NULL;
	}
}

/* A path as given, control characters shown as '?' so that a hostile name
 * cannot fake lines of the report. */
static void put_path(FILE *out, const char *path)
{
	for (const unsigned char *c = (const unsigned char *)path; *c; c++)
		fputc(*c < 0x20 || *c == 0x7f ? '?' : *c, out);
}

static void problem(FILE *out, const char *file, int line, enum reason r, const char *message,
		    const char *todo)
{
	put_path(out, file);
	if (line > 0)
		fprintf(out, ":%d", line);
	fprintf(out, ": %s: %s", reason_code(r), message);
	if (todo != NULL)
		fprintf(out, "; %s", todo);
	fputc('\n', out);
}

/* The file could not be read: why, in the words of this check. */
static void read_problem(FILE *out, const struct config *cfg, const char *path, enum reason r,
			 int saved_errno)
{
	char msg[256];
	struct stat st;

	switch (r) {
	case REASON_TOO_LARGE:
		if (lstat(path, &st) == 0)
			snprintf(msg, sizeof(msg), "the file has %lld bytes, more than the limit "
				 "of %llu ([limits] max_file_size in %s)", (long long)st.st_size,
				 (unsigned long long)cfg->max_file_size, cfg->path);
		else
			snprintf(msg, sizeof(msg), "the file is larger than %llu bytes",
				 (unsigned long long)cfg->max_file_size);
		break;
	case REASON_NOT_REGULAR_FILE:
		if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
			snprintf(msg, sizeof(msg), "a symbolic link (never followed)");
		else if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
			snprintf(msg, sizeof(msg), "a file with %ju hard links",
				 (uintmax_t)st.st_nlink);
		else
			snprintf(msg, sizeof(msg), "not a regular file");
		break;
	default:
		snprintf(msg, sizeof(msg), "cannot read the file: %s",
			 saved_errno ? strerror(saved_errno) : "unknown error");
		problem(out, path, 0, r, msg, NULL);
		return;
	}
	problem(out, path, 0, r, msg, r == REASON_TOO_LARGE ?
		"split the stage's attestations over several files or send smaller scans" :
		what_to_do(r));
}

/* One file; true when it passed. */
static bool check_one(const struct parsers *p, const struct config *cfg, const char *path,
		      time_t now, FILE *out)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	bool ok = true;
	if (!inbox_is_valid_name(base)) {
		problem(out, path, 0, REASON_BAD_FILE_NAME, "the name would be refused",
			what_to_do(REASON_BAD_FILE_NAME));
		ok = false;
	}
	unsigned char *bytes = NULL;
	size_t len = 0;
	errno = 0;
	enum reason r = inbox_read(path, cfg->max_file_size, &bytes, &len);
	if (r != REASON_OK) {
		read_problem(out, cfg, path, r, errno);
		return false;
	}
	struct document *doc = NULL;
	struct parse_evidence ev;
	struct parse_error perr;
	int kind = -1;
	r = parsers_parse(p, bytes, len, now, &doc, &kind, &ev, &perr);
	free(bytes);
	if (r != REASON_OK) {
		const char *msg = perr.message[0] ? perr.message : reason_text(r);
		char todo[512];
		if (r == REASON_CRL_STALE)
			snprintf(todo, sizeof(todo), "update the file of [trust] crl in %s: a "
				 "problem of this machine's setup, not of the file", cfg->path);
		else if (reason_is_temporary(r))
			snprintf(todo, sizeof(todo), "a problem of this machine's setup, not of "
				 "the file");
		else
			snprintf(todo, sizeof(todo), "%s", what_to_do(r) ? what_to_do(r) : "");
		problem(out, path, perr.line, r, msg, todo[0] ? todo : NULL);
		return false;
	}
	if (ok) {
		size_t n = doc->kind == DOC_ATTESTATIONS ? doc->n_attestations
							 : doc->sheet.n_participants;
		put_path(out, path);
		fprintf(out, ": OK: %s of centre %s, stage %s, %zu %s%s, signed by the certificate "
			"with SHA-256 fingerprint %s (the prefecture must have it registered for "
			"centre %s)\n", kind_name(kind), doc->approval, doc->stage.ref, n,
			doc->kind == DOC_ATTESTATIONS ? "attestation" : "participant",
			n == 1 ? "" : "s", ev.signer_sha256, doc->approval);
	}
	document_free(doc);
	parse_evidence_clear(&ev);
	return ok;
}

int check_files(const struct config *cfg, char *const *files, int n, time_t now,
		FILE *out, FILE *err)
{
	struct parse_error perr;
	if (parsers_global_init(&perr) != REASON_OK) {
		fprintf(err, "attestd: cannot initialise the XML libraries: %s\n", perr.message);
		return EXIT_INTERNAL;
	}
	struct parsers_limits limits = { .max_file_size = cfg->max_file_size };
	struct parsers *p = parsers_new(cfg->centres_ca, cfg->crl, &limits, &perr);
	if (p == NULL) {
		/* The trust files of this machine: the operator's to mend, an
		 * environment fault (4), not a bug (5). */
		fprintf(err, "attestd: %s: %s; check [trust] centres_ca and crl in %s\n",
			reason_code(perr.reason), perr.message, cfg->path);
		parsers_global_shutdown();
		return EXIT_ENVIRONMENT;
	}
	int failed = 0;
	for (int i = 0; i < n; i++)
		if (!check_one(p, cfg, files[i], now, out))
			failed++;
	parsers_free(p);
	parsers_global_shutdown();
	if (failed && n > 1)
		fprintf(err, "attestd: %d of %d files did not pass\n", failed, n);
	return failed ? 1 : 0;
}
