/*
 * status - see status.h.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "date.h"
#include "exitcode.h"
#include "inbox.h"
#include "status.h"
#include "store.h"
#include "xmalloc.h"

static void show_time(FILE *out, const struct config *cfg, long long t)
{
	char buf[32];
	if (t > 0 && date_format_local_datetime((time_t)t, cfg->timezone, buf))
		fputs(buf, out);
	else
		fputs("-", out);
}

/* The value of key in a key=value text ("" when absent), in buf. */
static const char *field(const char *text, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);
	buf[0] = '\0';
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t n = strcspn(p + klen + 1, "\n");
			snprintf(buf, size, "%.*s", (int)n, p + klen + 1);
			break;
		}
	}
	return buf;
}

struct instances {
	FILE *out;
	const struct config *cfg;
	int n;
};

static void show_instance(const char *text, void *ctx)
{
	struct instances *in = ctx;
	char host[256], pid[32], state[32], updated[32], processed[32], last[520], faults[1024],
	     orphans[32];
	field(text, "host", host, sizeof(host));
	field(text, "pid", pid, sizeof(pid));
	field(text, "state", state, sizeof(state));
	field(text, "updated", updated, sizeof(updated));
	field(text, "processed", processed, sizeof(processed));
	field(text, "last_file", last, sizeof(last));
	field(text, "faults", faults, sizeof(faults));
	field(text, "orphans", orphans, sizeof(orphans));
	long long age = (long long)time(NULL) - atoll(updated);
	fprintf(in->out, "instance %s pid %s: %s, %s files processed, last %s, state file %llds old%s\n",
		host, pid, state, processed, last[0] ? last : "-", age,
		age > 120 ? " (stale: is it still running?)" : "");
	if (faults[0])
		fprintf(in->out, "  faults: %s\n", faults);
	if (atol(orphans) > 0)
		fprintf(in->out, "  reconciliation: %s orphan files or rows (see the log, "
			"action=reconcile)\n", orphans);
	in->n++;
}

int status_show(const struct config *cfg, FILE *out)
{
	int status = 0;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);

	/* The inbox, per centre directory, settled or not. */
	struct inbox_list list;
	size_t unsettled = 0;
	if (inbox_scan(cfg->inbox, 0, &now, &list, &unsettled) != 0) {
		fprintf(out, "inbox %s: cannot read\n", cfg->inbox);
	} else {
		fprintf(out, "inbox: %zu files waiting", list.n);
		if (list.n) {
			fputs(", oldest received ", out);
			show_time(out, cfg, list.entries[0].ctime.tv_sec);
			fprintf(out, " (%s/%s)", list.entries[0].dir, list.entries[0].name);
		}
		fputc('\n', out);
		/* Per centre: entries are sorted by time, so count by scanning. */
		for (size_t i = 0; i < list.n; i++) {
			bool seen = false;
			for (size_t k = 0; k < i && !seen; k++)
				seen = strcmp(list.entries[k].dir, list.entries[i].dir) == 0;
			if (seen)
				continue;
			size_t count = 0;
			for (size_t k = i; k < list.n; k++)
				count += strcmp(list.entries[k].dir, list.entries[i].dir) == 0;
			fprintf(out, "  %-14s %zu\n", list.entries[i].dir, count);
		}
		inbox_list_clear(&list);
	}
	struct inbox_claim *claims = NULL;
	size_t n_spool = 0;
	if (inbox_spool_list(cfg->spool, &claims, &n_spool) == 0) {
		fprintf(out, "spool: %zu files in processing or kept for a fault\n", n_spool);
		for (size_t i = 0; i < n_spool; i++)
			inbox_claim_clear(&claims[i]);
		free(claims);
	} else {
		fprintf(out, "spool %s: cannot read\n", cfg->spool);
	}

	char *err = NULL;
	struct store *st = store_connect_reader(cfg->conninfo, &err);
	struct store_counts c;
	date_t today;
	char day[11];
	struct timespec shifted = clock_now();
	if (!date_local_from_epoch(shifted.tv_sec, cfg->timezone, &today))
		today = 0;
	date_format(today, day);
	if (st == NULL || store_counts(st, day, &c, &err) != STORE_OK) {
		fprintf(out, "database: unreachable (%s)\n", err ? err : "?");
		status = EXIT_ENVIRONMENT;
	} else {
		fprintf(out, "attestations pending: %ld, in review: %ld, registration overdue: %ld, "
			"deadline within 7 days: %ld\n", c.pending, c.review, c.overdue, c.near_deadline);
		fprintf(out, "last file processed: ");
		if (c.last_file[0]) {
			fprintf(out, "%s/%s at ", c.last_approval, c.last_file);
			show_time(out, cfg, c.last_at);
			fprintf(out, " (%ld files today)\n", c.files_today);
		} else {
			fputs("none yet\n", out);
		}
		struct store_durability d = { .fsync = c.fsync, .full_page_writes = c.full_page_writes };
		char buf[256];
		if (store_durability_warning(&d, buf, sizeof(buf)))
			fprintf(out, "warning: %s\n", buf);
	}
	free(err);
	store_free(st);

	struct instances in = { .out = out, .cfg = cfg };
	inbox_status_list(cfg->spool, show_instance, &in);
	if (in.n == 0)
		fputs("instances: none running (no state file in the spool)\n", out);
	return status;
}
