/*
 * registry - file side of the registry import.  One pass over the file:
 * its bytes are hashed (the audit log's SHA-256) and read by csv.h, whose
 * normalised records are what COPY receives, as the store asks for them;
 * memory stays one read buffer and what one read produces.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "date.h"
#include "log.h"
#include "progress.h"
#include "registry.h"
#include "store_pipeline.h"
#include "xmalloc.h"

#define REGISTRY_MAX_TRIES 5
#define REGISTRY_MAX_LISTED 100
#define READ_CHUNK (64 * 1024)

struct file_reader {
	int fd;
	enum registry_kind kind;
	enum csv_encoding encoding;
	struct csv_reader *csv;
	EVP_MD_CTX *sha;
	struct registry_source *src;
	struct progress *progress;
	long long size, bytes;
	bool eof;
	char *out;		/* normalised records not yet handed to COPY */
	size_t out_len, out_pos, out_cap;
	struct registry_problem *problems;
	size_t n_problems;
	long problems_total;
};

static void on_record(void *ctx, long record, long line, const char *out, size_t len)
{
	struct file_reader *f = ctx;
	(void)record;
	(void)line;
	if (f->out_len + len > f->out_cap) {
		f->out_cap = (f->out_len + len) * 2;
		f->out = xrealloc(f->out, f->out_cap);
	}
	memcpy(f->out + f->out_len, out, len);
	f->out_len += len;
}

static void on_problem(void *ctx, long record, long line, const char *message)
{
	struct file_reader *f = ctx;
	f->problems_total++;
	if (f->n_problems == REGISTRY_MAX_LISTED)
		return;
	f->problems = xreallocarray(f->problems, f->n_problems + 1, sizeof(*f->problems));
	f->problems[f->n_problems++] = (struct registry_problem){
		.record = record, .line = line, .message = xstrdup(message),
	};
}

static const char *const registry_columns[REGISTRY_KIND_COUNT][9] = {
	[REGISTRY_CENTRES] = { "approval", "name", "departement", "valid_from", "valid_to",
			       "cert_sha256" },
	[REGISTRY_FACILITATORS] = { "authorisation", "role", "surname", "given_names",
				    "valid_from", "valid_to" },
	[REGISTRY_LICENCES] = { "licence", "surname", "given_names", "birth_date", "issued",
				"probation_end", "status", "status_date" },
	[REGISTRY_EVENTS] = { "licence", "effective_date", "kind", "points", "ref" },
};

/* From the file's first byte (again, after a retried transaction). */
static void reader_reset(struct file_reader *f)
{
	csv_free(f->csv);
	size_t n = 0;
	while (n < 9 && registry_columns[f->kind][n])
		n++;
	struct csv_sink sink = { f, on_record, on_problem };
	f->csv = csv_new(f->encoding, registry_columns[f->kind], n, &sink);
	EVP_DigestInit_ex(f->sha, EVP_sha256(), NULL);
	for (size_t i = 0; i < f->n_problems; i++)
		free(f->problems[i].message);
	f->n_problems = 0;
	f->problems_total = 0;
	f->out_len = f->out_pos = 0;
	f->bytes = 0;
	f->eof = false;
}

static ssize_t registry_read(void *ctx, char *buf, size_t len)
{
	struct file_reader *f = ctx;
	while (f->out_pos == f->out_len && !f->eof) {
		char in[READ_CHUNK];
		ssize_t n = read(f->fd, in, sizeof(in));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		f->out_len = f->out_pos = 0;
		if (n == 0) {
			csv_finish(f->csv);
			f->eof = true;
		} else {
			EVP_DigestUpdate(f->sha, in, (size_t)n);
			csv_feed(f->csv, in, (size_t)n);
			f->bytes += n;
		}
		progress_update(f->progress, csv_records(f->csv), f->bytes);
	}
	size_t n = f->out_len - f->out_pos < len ? f->out_len - f->out_pos : len;
	if (n == 0)
		return 0;	/* the end (out may still be NULL: no good record) */
	memcpy(buf, f->out + f->out_pos, n);
	f->out_pos += n;
	return (ssize_t)n;
}

/* The reader's problems join the report; the file's hash is known. */
static void registry_finished(void *ctx, struct registry_report *rep)
{
	struct file_reader *f = ctx;
	rep->problems = xreallocarray(rep->problems, rep->n_problems + f->n_problems + 1,
				      sizeof(*rep->problems));
	for (size_t i = 0; i < f->n_problems; i++)
		rep->problems[rep->n_problems++] = f->problems[i];
	f->n_problems = 0;
	rep->problems_total += f->problems_total;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	EVP_DigestFinal_ex(f->sha, md, &md_len);
	for (unsigned i = 0; i < md_len && i < 32; i++)
		snprintf(f->src->sha256 + 2 * i, 3, "%02x", md[i]);
	f->src->separator = csv_separator(f->csv);
}

static void registry_phase(void *ctx, const char *phase)
{
	struct file_reader *f = ctx;
	progress_phase(f->progress, phase);
}

enum store_status registry_import_file(struct store *st, enum registry_kind kind,
				       const char *path, const struct registry_options *opt,
				       const struct registry_hook *hook,
				       struct registry_report *rep, char *separator, char **err)
{
	memset(rep, 0, sizeof(*rep));
	*separator = ',';
	if (kind >= REGISTRY_KIND_COUNT) {
		*err = xstrdup("unknown registry kind");
		return STORE_ERROR;
	}
	/* O_NONBLOCK: a FIFO given by mistake must not hang the open. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat sb;
	const char *why = NULL;
	if (fd < 0 || fstat(fd, &sb) != 0)
		why = strerror(errno);
	else if (!S_ISREG(sb.st_mode))
		why = "not a regular file";
	if (why) {
		*err = xasprintf("%s: cannot open: %s", path, why);
		if (fd >= 0)
			close(fd);
		return STORE_INVALID;
	}
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	char *cause = xasprintf("registry import %s %s", registry_kind_name(kind), base);

	char uid[32];
	const struct passwd *pw = getpwuid(geteuid());
	snprintf(uid, sizeof(uid), "uid %u", (unsigned)geteuid());
	struct registry_source src = {
		.read = registry_read, .finished = registry_finished, .phase = registry_phase,
		.file = path, .os_user = pw ? pw->pw_name : uid, .by = opt->by,
		.encoding = csv_encoding_name(opt->encoding), .separator = ',',
	};
	src.actor = opt->by ? opt->by : src.os_user;
	date_t today;
	struct timespec now = clock_now();
	if (!date_local_from_epoch(now.tv_sec, opt->timezone, &today)) {
		*err = xasprintf("unknown time zone %s", opt->timezone);
		free(cause);
		close(fd);
		return STORE_ERROR;
	}
	date_format(today, src.today);

	struct file_reader f = {
		.fd = fd, .kind = kind, .encoding = opt->encoding, .sha = EVP_MD_CTX_new(),
		.src = &src, .size = sb.st_size,
		.progress = progress_new(stderr, opt->progress, base, "rows", sb.st_size),
	};
	if (f.sha == NULL) {
		*err = xstrdup("out of memory (SHA-256)");
		free(cause);
		close(fd);
		progress_end(f.progress);
		return STORE_ERROR;
	}
	src.ctx = &f;
	char *detail = NULL;
	enum store_status s = STORE_ERROR;
	for (int attempt = 1; attempt <= REGISTRY_MAX_TRIES; attempt++) {
		reader_reset(&f);
		s = store_registry_import(st, kind, &src, hook, cause, rep, &detail, err);
		/* A deadlock with a file's transaction (it locks a stage then
		 * licences; the import, licences then the stages pending on
		 * them) or a serialization failure: the whole import again,
		 * from the file's first byte (one transaction, idempotent). */
		if (s != STORE_ERROR || !store_should_retry(st) || attempt == REGISTRY_MAX_TRIES ||
		    lseek(fd, 0, SEEK_SET) != 0)
			break;
		fprintf(stderr, "attestd: %s; importing again (attempt %d of %d)\n", *err,
			attempt + 1, REGISTRY_MAX_TRIES);
		registry_report_clear(rep);
		free(*err);
		*err = NULL;
	}
	progress_end(f.progress);
	*separator = src.separator;
	/* Told once durable: the audit log's row is committed with the import. */
	if (s == STORE_OK)
		log_info("action=registry-import outcome=committed %s", detail);
	free(detail);
	free(cause);
	for (size_t i = 0; i < f.n_problems; i++)
		free(f.problems[i].message);
	csv_free(f.csv);
	EVP_MD_CTX_free(f.sha);
	free(f.problems);
	free(f.out);
	close(fd);
	return s;
}
