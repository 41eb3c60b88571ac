/*
 * confcheck - `attestd config check`, after `postfix check` and `sshd -t`:
 * everything a start or a reload would trip on, found at once and said in
 * one format, "FILE:LINE: [section] key: what is wrong".  The configuration
 * reader's own findings come first (a file that does not load is all we can
 * say), then the trust files (through parsers/, the only code that reads
 * them), the directories, the database (through store).
 *
 * Findings are of two classes, as the exit codes of interfaces.md: the
 * configuration's (3: the file, or a file or directory it names, is wrong
 * and a person must mend it) and the environment's (4: the database is down
 * or not migrated, a CRL is out of its validity, the disk is low: the
 * daemon waits and resumes by itself once it is mended).  The unit refuses
 * a reload on 3 only, so that a reload during a database outage still
 * takes.
 *
 * Permissions are those of the user running the check (access(2), owner
 * compared with the effective uid): run it as the service's user, as the
 * unit's ExecReload= does, sandbox included.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "confcheck.h"
#include "config.h"
#include "exitcode.h"
#include "parsers.h"
#include "receipt.h"
#include "store.h"
#include "xmalloc.h"


struct findings {
	const struct config *cfg;
	FILE *out;
	unsigned config;	/* findings of the configuration's class */
	unsigned environment;	/* findings of the environment's class */
};

static void finding(struct findings *f, bool environment, const char *section, const char *key,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* One finding, located at the line that set the key (none for a default). */
static void finding(struct findings *f, bool environment, const char *section, const char *key,
		    const char *fmt, ...)
{
	unsigned line = config_key_line(f->cfg, section, key);
	if (line)
		fprintf(f->out, "%s:%u: [%s] %s: ", f->cfg->path, line, section, key);
	else
		fprintf(f->out, "%s: [%s] %s: ", f->cfg->path, section, key);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f->out, fmt, ap);
	va_end(ap);
	fputc('\n', f->out);
	if (environment)
		f->environment++;
	else
		f->config++;
}

static void check_trust(struct findings *f, time_t now)
{
	const struct config *cfg = f->cfg;
	struct parse_error perr = { 0 };
	/* The bundle alone first, so that a bad CRL is not blamed on it. */
	if (parsers_check_trust(cfg->centres_ca, NULL, now, &perr) != REASON_OK) {
		finding(f, false, "trust", "centres_ca", "%s", perr.message);
	} else if (cfg->crl) {
		enum reason r = parsers_check_trust(cfg->centres_ca, cfg->crl, now, &perr);
		if (r == REASON_CRL_STALE)
			finding(f, true, "trust", "crl", "%s: %s", cfg->crl, perr.message);
		else if (r != REASON_OK)
			finding(f, false, "trust", "crl", "%s", perr.message);
	}
	if (cfg->receipt_key && cfg->receipt_cert) {
		struct sig_signer *signer = receipt_signer_load(cfg->receipt_key, cfg->receipt_cert,
								&perr);
		if (signer == NULL)
			finding(f, false, "trust", "receipt_key", "%s", perr.message);
		receipt_signer_free(signer);
	}
}

enum dir_use {
	DIR_READ,	/* the service lists it and enters it (inbox, outbox) */
	DIR_OWN,	/* the service's own state: it owns it and writes in it */
	DIR_WRITE,	/* the service writes in it (the metrics file's directory) */
};

/* A directory as the service needs it; false (and a finding) when not. */
static bool check_dir(struct findings *f, const char *key, const char *path, enum dir_use use)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		finding(f, false, "paths", key, "%s: %s (create it: systemd-tmpfiles --create, or "
			"mkdir with the owner and mode of the README's table)", path,
			strerror(errno));
		return false;
	}
	if (!S_ISDIR(st.st_mode)) {
		finding(f, false, "paths", key, "%s is not a directory", path);
		return false;
	}
	if (use == DIR_OWN && st.st_uid != geteuid()) {
		/* Root passes every access(2): said so, the finding may be root's. */
		finding(f, false, "paths", key, "%s is owned by uid %u, not by this user (uid %u): "
			"chown it to the service's user%s", path, (unsigned)st.st_uid,
			(unsigned)geteuid(), geteuid() == 0 ? ", or run the check as that user "
			"(sudo -u attestd attestd config check)" : "");
		return false;
	}
	int mode = use == DIR_READ ? R_OK | X_OK : R_OK | W_OK | X_OK;
	if (access(path, mode) != 0) {
		finding(f, false, "paths", key, "%s: this user (uid %u) cannot %s it: %s", path,
			(unsigned)geteuid(), use == DIR_READ ? "list and enter" : "write in",
			strerror(errno));
		return false;
	}
	return true;
}

static void check_dirs(struct findings *f)
{
	const struct config *cfg = f->cfg;
	bool inbox = check_dir(f, "inbox", cfg->inbox, DIR_READ);
	check_dir(f, "outbox", cfg->outbox, DIR_READ);
	bool spool = check_dir(f, "spool", cfg->spool, DIR_OWN);
	check_dir(f, "archive", cfg->archive, DIR_OWN);
	check_dir(f, "quarantine", cfg->quarantine, DIR_OWN);
	if (cfg->metrics) {
		char *dir = xstrdup(cfg->metrics);
		char *slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		check_dir(f, "metrics", dir, DIR_WRITE);
		free(dir);
	}
	struct stat a, b;
	/* Claims are rename(2) from the inbox into the spool. */
	if (inbox && spool && stat(cfg->inbox, &a) == 0 && stat(cfg->spool, &b) == 0 &&
	    a.st_dev != b.st_dev)
		finding(f, false, "paths", "spool", "%s is not on the file system of the inbox %s: "
			"files are claimed by rename(2), which cannot cross file systems", cfg->spool,
			cfg->inbox);
	struct statvfs vfs;
	if (spool && statvfs(cfg->spool, &vfs) == 0 &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < cfg->min_free_space)
		finding(f, true, "limits", "min_free_space", "the spool's file system has %llu MiB "
			"free, below this limit: the daemon would not claim files",
			(unsigned long long)((uint64_t)vfs.f_bavail * vfs.f_frsize >> 20));
}

static void check_database(struct findings *f)
{
	char *err = NULL;
	struct store *st = store_connect(f->cfg->conninfo, &err);
	if (st == NULL) {
		finding(f, true, "database", "conninfo", "%s (is PostgreSQL running?)",
			err ? err : "cannot connect to the database");
	} else if (store_schema_status(st, NULL, &err) != STORE_OK) {
		finding(f, true, "database", "conninfo", "schema: %s",
			err ? err : "not at this binary's version");
	}
	free(err);
	store_free(st);
}

int confcheck_run(const char *path, time_t now, FILE *out)
{
	char *errors = NULL;
	struct config *cfg = config_load(path, &errors);
	if (cfg == NULL) {
		fputs(errors ? errors : "", out);
		free(errors);
		return EXIT_CONFIG;
	}
	struct findings f = { .cfg = cfg, .out = out };
	struct parse_error perr;
	if (parsers_global_init(&perr) != REASON_OK) {
		fprintf(out, "attestd: cannot initialise the XML libraries: %s\n", perr.message);
		config_free(cfg);
		return EXIT_INTERNAL;
	}
	check_trust(&f, now);
	parsers_global_shutdown();
	check_dirs(&f);
	check_database(&f);
	int status = f.config ? EXIT_CONFIG : f.environment ? EXIT_ENVIRONMENT : 0;
	if (status == 0)
		fprintf(out, "ok\n");
	config_free(cfg);
	return status;
}
