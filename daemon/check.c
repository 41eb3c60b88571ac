/*
 * check - the offline file check.  See check.h.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
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

static void problem(FILE *out, const char *file, int line, enum reason r, const char *message)
{
	if (line > 0)
		fprintf(out, "%s:%d: %s: %s", file, line, reason_code(r), message);
	else
		fprintf(out, "%s: %s: %s", file, reason_code(r), message);
	/* The reason's own text says what it means and what to do. */
	if (strcmp(message, reason_text(r)) != 0)
		fprintf(out, " (%s)", reason_text(r));
	if (reason_is_temporary(r))
		fprintf(out, " [a problem of this machine's setup, not of the file]");
	fputc('\n', out);
}

/* One file; true when it passed. */
static bool check_one(const struct parsers *p, const struct config *cfg, const char *path,
		      time_t now, FILE *out)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	bool ok = true;
	if (!inbox_is_valid_name(base)) {
		problem(out, path, 0, REASON_BAD_FILE_NAME, reason_text(REASON_BAD_FILE_NAME));
		ok = false;
	}
	unsigned char *bytes = NULL;
	size_t len = 0;
	enum reason r = inbox_read(path, cfg->max_file_size, &bytes, &len);
	if (r != REASON_OK) {
		problem(out, path, 0, r, r == REASON_IO_ERROR ? "cannot read the file"
							      : reason_text(r));
		return false;
	}
	struct document *doc = NULL;
	struct parse_evidence ev;
	struct parse_error perr;
	int kind = -1;
	r = parsers_parse(p, bytes, len, now, &doc, &kind, &ev, &perr);
	free(bytes);
	if (r != REASON_OK) {
		problem(out, path, perr.line, r, perr.message[0] ? perr.message : reason_text(r));
		return false;
	}
	if (ok) {
		size_t n = doc->kind == DOC_ATTESTATIONS ? doc->n_attestations
							 : doc->sheet.n_participants;
		fprintf(out, "%s: OK: %s of centre %s, stage %s, %zu %s, signed by certificate "
			"sha256:%s (to be registered for the centre)\n", path, kind_name(kind),
			doc->approval, doc->stage.ref, n,
			doc->kind == DOC_ATTESTATIONS ? "attestations" : "participants",
			ev.signer_sha256);
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
		return 5;
	}
	struct parsers_limits limits = { .max_file_size = cfg->max_file_size };
	struct parsers *p = parsers_new(cfg->centres_ca, cfg->crl, &limits, &perr);
	if (p == NULL) {
		fprintf(err, "attestd: %s: %s (check [trust] in %s)\n", reason_code(perr.reason),
			perr.message, cfg->path);
		parsers_global_shutdown();
		return 5;
	}
	int failed = 0;
	for (int i = 0; i < n; i++)
		if (!check_one(p, cfg, files[i], now, out))
			failed++;
	parsers_free(p);
	parsers_global_shutdown();
	return failed ? 1 : 0;
}
