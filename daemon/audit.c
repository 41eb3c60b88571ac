/*
 * audit - the auditors' commands.  See audit.h.
 *
 * verify-archive reads the list of files from audit.archived_files as it
 * streams, and re-hashes each file there and then (archive_check), so three
 * years of identity scans never sit in memory.  It tells a missing file
 * from a corrupt one by a stat of its archive path: an auditor acting on
 * the answer needs to know which.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive.h"
#include "audit.h"
#include "exitcode.h"
#include "progress.h"
#include "xmalloc.h"




int audit_report(const struct config *cfg, const struct audit_request *req, FILE *out)
{
	struct store *st = store_connect_or_say(cfg->conninfo, cfg->path);
	if (st == NULL)
		return EXIT_ENVIRONMENT;
	char *err = NULL;
	enum store_status rc = store_report_session(st, cfg->timezone, &err);
	if (rc == STORE_OK) {
		switch (req->query) {
		case AUDIT_ATTESTATIONS:
			rc = store_report_attestations(st, &req->filter, req->format, out, &err);
			break;
		case AUDIT_LICENCE:
			rc = store_report_licence(st, req->subject, req->format, out, &err);
			break;
		case AUDIT_CENTRE:
			rc = store_report_centre(st, req->subject, req->format, out, &err);
			break;
		case AUDIT_OVERDUE:
			rc = store_report_overdue(st, req->format, out, &err);
			break;
		case AUDIT_LOG:
			rc = store_report_log(st, &req->filter, req->format, out, &err);
			break;
		}
	}
	if (rc != STORE_OK)
		fprintf(stderr, "attestd: %s\n", err ? err : "database error");
	free(err);
	store_free(st);
	return store_exit_code(rc);
}

struct verify {
	const char *root;
	FILE *out;
	struct progress *progress;
	long checked, missing, corrupt, unreadable;
};

static void verify_one(const struct store_archived_file *f, void *ctx)
{
	struct verify *v = ctx;
	char *path = archive_path(v->root, f->sha256);
	const char *problem = NULL;
	v->checked++;
	switch (archive_state(v->root, f->sha256)) {
	case ARCHIVE_OK:
		break;
	case ARCHIVE_MISSING:
		problem = "missing";
		v->missing++;
		break;
	case ARCHIVE_CORRUPT:
		problem = "corrupt";
		v->corrupt++;
		break;
	case ARCHIVE_UNREADABLE:
		problem = "unreadable";
		v->unreadable++;
		break;
	}
	if (problem)
		fprintf(v->out, "%s %s: %s of submission %" PRId64 " (%s/%s)\n", problem, path,
			f->kind, f->submission, f->approval, f->file_name);
	progress_update(v->progress, v->checked, 0);
	free(path);
}

int audit_verify_archive(const struct config *cfg, bool progress, FILE *out)
{
	if (archive_root_readable(cfg->archive) != 0) {
		fprintf(stderr, "attestd: cannot read the archive %s: %s; run as a user who may "
			"read it ([paths] archive in %s)\n", cfg->archive, strerror(errno), cfg->path);
		return EXIT_INVALID;
	}
	struct store *st = store_connect_or_say(cfg->conninfo, cfg->path);
	if (st == NULL)
		return EXIT_ENVIRONMENT;
	/* The total is not known before the rows stream: no percent. */
	struct verify v = { .root = cfg->archive, .out = out,
			    .progress = progress_new(stderr, progress, "archive", "files", 0) };
	char *err = NULL;
	enum store_status rc = store_report_archived_files(st, verify_one, &v, &err);
	progress_end(v.progress);
	int status = store_exit_code(rc);
	if (rc != STORE_OK) {
		fprintf(stderr, "attestd: %s\n", err ? err : "database error");
	} else {
		fprintf(out, "archive: %ld files checked: %ld missing, %ld corrupt, %ld unreadable\n",
			v.checked, v.missing, v.corrupt, v.unreadable);
		if (v.missing + v.corrupt + v.unreadable > 0) {
			fprintf(out, "archive: NOT intact; keep a copy of the archive and the database "
				"and tell the security officer\n");
			status = EXIT_INVALID;
		}
	}
	free(err);
	store_free(st);
	return status;
}
