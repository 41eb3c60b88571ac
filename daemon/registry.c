/*
 * registry - file side of the registry import.  The CSV itself is read by
 * PostgreSQL (store_registry.c); here we only stream bytes, and, when there
 * are problems to report, walk the file once more to turn record numbers
 * into line numbers (a quoted field may span lines, so they differ).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry.h"
#include "store_pipeline.h"
#include "xmalloc.h"

#define REGISTRY_MAX_TRIES 5

static ssize_t registry_read(void *ctx, char *buf, size_t len)
{
	int fd = *(int *)ctx;
	for (;;) {
		ssize_t n = read(fd, buf, len);
		if (n >= 0 || errno != EINTR)
			return n;
	}
}

static int problem_by_record(const void *a, const void *b)
{
	const struct registry_problem *pa = a, *pb = b;
	return (pa->record > pb->record) - (pa->record < pb->record);
}

/* Record k (1 = first after the header) starts on the line after the k-th
 * record separator: a newline outside double quotes. */
static void registry_map_lines(int fd, struct registry_report *rep)
{
	if (rep->n_problems == 0 || lseek(fd, 0, SEEK_SET) != 0)
		return;
	qsort(rep->problems, rep->n_problems, sizeof(*rep->problems), problem_by_record);
	size_t next = 0;
	while (next < rep->n_problems && rep->problems[next].record <= 0)
		next++;
	long line = 1, record = 0;
	bool quoted = false;
	char buf[64 * 1024];
	ssize_t n;
	while (next < rep->n_problems && (n = registry_read(&fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n && next < rep->n_problems; i++) {
			if (buf[i] == '"') {
				quoted = !quoted;
			} else if (buf[i] == '\n') {
				line++;
				if (quoted)
					continue;
				record++;
				while (next < rep->n_problems && rep->problems[next].record == record)
					rep->problems[next++].line = line;
			}
		}
	}
}

enum store_status registry_import_file(struct store *st, enum registry_kind kind,
				       const char *path, const struct registry_hook *hook,
				       struct registry_report *rep, char **err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*err = xasprintf("%s: cannot open: %s", path, strerror(errno));
		memset(rep, 0, sizeof(*rep));
		return STORE_INVALID;
	}
	const char *base = strrchr(path, '/');
	char *cause = xasprintf("registry import %s %s", registry_kind_name(kind),
				base ? base + 1 : path);
	enum store_status s = STORE_ERROR;
	for (int attempt = 1; attempt <= REGISTRY_MAX_TRIES; attempt++) {
		s = store_registry_import(st, kind, registry_read, &fd, hook, cause, rep, err);
		/* A deadlock with a file's transaction (it locks a stage then
		 * licences; the import, licences then the stages pending on
		 * them) or a serialization failure: the whole import again,
		 * from the file's first byte (one transaction, idempotent). */
		if (s != STORE_ERROR || !store_should_retry(st) || attempt == REGISTRY_MAX_TRIES ||
		    lseek(fd, 0, SEEK_SET) != 0)
			break;
		fprintf(stderr, "attestd: %s; importing again (attempt %d of %d)\n", *err,
			attempt + 1, REGISTRY_MAX_TRIES);
		free(*err);
		*err = NULL;
	}
	free(cause);
	if (s == STORE_INVALID)
		registry_map_lines(fd, rep);
	close(fd);
	return s;
}
