/*
 * metrics - see metrics.h.
 *
 * Every series of a family is written even at zero (each rejection reason
 * a centre can cause, each decision, each fault), so that alerting rules
 * see the series from the start rather than only after the first event.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"
#include "rules.h"
#include "xmalloc.h"

const double metrics_bucket_bounds[METRICS_BUCKETS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
};

void metrics_observe(struct metrics_histogram *h, double seconds)
{
	if (seconds < 0)
		seconds = 0;
	size_t i = 0;
	while (i < METRICS_BUCKETS && seconds > metrics_bucket_bounds[i])
		i++;
	h->counts[i]++;
	h->count++;
	h->sum += seconds;
}

/* A growing text (open_memstream would do, but its buffer is only valid
 * after fclose, which makes every append an error path). */
struct text {
	char *buf;
	size_t len;
	size_t cap;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		size_t room = t->cap - t->len;
		va_start(ap, fmt);
		int n = vsnprintf(t->buf ? t->buf + t->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < room) {
			t->len += (size_t)n;
			return;
		}
		t->cap = t->cap * 2 + (size_t)n + 256;
		t->buf = xrealloc(t->buf, t->cap);
	}
}

static void family(struct text *t, const char *name, const char *type, const char *help)
{
	text_add(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The reasons a file can be rejected for: the centres' document-level
 * codes (a duplicate is an outcome of its own). */
static bool rejection_reason(enum reason r)
{
	return reason_level(r) == REASON_LEVEL_DOCUMENT && reason_class(r) == REASON_PERMANENT &&
	       r != REASON_DUPLICATE_FILE;
}

static void format_files(struct text *t, const struct metrics *m)
{
	family(t, "attestd_files_total", "counter",
	       "Files taken to an outcome (receipt committed) by this process, by outcome.");
	text_add(t, "attestd_files_total{outcome=\"accepted\"} %llu\n", m->files_accepted);
	text_add(t, "attestd_files_total{outcome=\"rejected\"} %llu\n", m->files_rejected);
	text_add(t, "attestd_files_total{outcome=\"duplicate\"} %llu\n", m->files_duplicate);

	family(t, "attestd_files_rejected_total", "counter",
	       "Rejected files by reason code (see attestd(8)), by this process.");
	for (int r = 1; r < REASON_COUNT; r++)
		if (rejection_reason((enum reason)r) || m->rejected_by[r])
			text_add(t, "attestd_files_rejected_total{reason=\"%s\"} %llu\n",
				 reason_code((enum reason)r), m->rejected_by[r]);

	family(t, "attestd_files_retried_total", "counter",
	       "Files kept in the spool for a temporary reason (database, trust files, disk) "
	       "to be retried, by this process.");
	text_add(t, "attestd_files_retried_total %llu\n", m->files_retried);

	family(t, "attestd_attestations_total", "counter",
	       "Attestation decisions taken by this process, by decision (an attestation "
	       "decided again, e.g. when its sign-in sheet arrives, counts again).");
	for (int d = 0; d < METRICS_DECISIONS; d++)
		text_add(t, "attestd_attestations_total{decision=\"%s\"} %llu\n",
			 rules_decision_name((enum rules_decision)d), m->attestations[d]);

	family(t, "attestd_file_processing_seconds", "histogram",
	       "Time to take one file from the spool to its committed outcome, archive and "
	       "receipt.");
	unsigned long long cumulative = 0;
	for (int i = 0; i < METRICS_BUCKETS; i++) {
		cumulative += m->processing.counts[i];
		text_add(t, "attestd_file_processing_seconds_bucket{le=\"%g\"} %llu\n",
			 metrics_bucket_bounds[i], cumulative);
	}
	text_add(t, "attestd_file_processing_seconds_bucket{le=\"+Inf\"} %llu\n",
		 m->processing.count);
	text_add(t, "attestd_file_processing_seconds_sum %.6f\n", m->processing.sum);
	text_add(t, "attestd_file_processing_seconds_count %llu\n", m->processing.count);
}

static void format_gauges(struct text *t, const struct metrics *m)
{
	if (m->inbox_files >= 0) {
		family(t, "attestd_inbox_files", "gauge",
		       "Files waiting in the centres' inboxes (temporary upload names aside).");
		text_add(t, "attestd_inbox_files %ld\n", m->inbox_files);
	}
	if (m->spool_files >= 0) {
		family(t, "attestd_spool_files", "gauge",
		       "Files in the spool: in processing, or kept there for an environment fault.");
		text_add(t, "attestd_spool_files %ld\n", m->spool_files);
	}
	if (m->have_counts) {
		family(t, "attestd_attestations_waiting", "gauge",
		       "Attestations not decided yet: pending (sign-in sheet or licence awaited) "
		       "or in the back office's review queue.");
		text_add(t, "attestd_attestations_waiting{decision=\"pending\"} %ld\n", m->pending);
		text_add(t, "attestd_attestations_waiting{decision=\"review\"} %ld\n", m->review);
		family(t, "attestd_attestations_overdue", "gauge",
		       "Attestations still pending or in review past their registration deadline.");
		text_add(t, "attestd_attestations_overdue %ld\n", m->overdue);
		family(t, "attestd_attestations_near_deadline", "gauge",
		       "Attestations still pending or in review whose registration deadline is "
		       "within 7 days.");
		text_add(t, "attestd_attestations_near_deadline %ld\n", m->near_deadline);
	}
	family(t, "attestd_last_success_timestamp_seconds", "gauge",
	       "When a file last reached its outcome (Unix time; 0: none known).");
	text_add(t, "attestd_last_success_timestamp_seconds %lld\n", (long long)m->last_success);

	family(t, "attestd_fault", "gauge",
	       "1 while processing is paused for this environment fault, else 0.");
	for (size_t i = 0; i < m->n_faults; i++)
		text_add(t, "attestd_fault{fault=\"%s\"} %d\n", m->fault_names[i],
			 m->fault_active[i] ? 1 : 0);

	family(t, "attestd_start_time_seconds", "gauge",
	       "When this attestd process started (Unix time).");
	text_add(t, "attestd_start_time_seconds %lld\n", (long long)m->started);
}

char *metrics_format(const struct metrics *m)
{
	struct text t = { 0 };
	format_files(&t, m);
	format_gauges(&t, m);
	return t.buf;
}

int metrics_write(const char *path, const struct metrics *m)
{
	const char *slash = strrchr(path, '/');
	char *tmp = slash ? xasprintf("%.*s/.%s.tmp.%ld", (int)(slash - path), path, slash + 1,
				      (long)getpid())
			  : xasprintf(".%s.tmp.%ld", path, (long)getpid());
	char *text = metrics_format(m);
	size_t len = strlen(text);
	int rc = -1, saved = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		goto out;
	/* No fsync: the file is rewritten within a rescan interval, and a
	 * stale one after a power cut is harmless; an fsync per processed
	 * file is not. */
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		done += (size_t)n;
	}
	bool ok = done == len && fchmod(fd, 0644) == 0;
	if (close(fd) != 0)
		ok = false;
	if (ok)
		rc = rename(tmp, path);
out:
	saved = errno;
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	free(text);
	errno = saved;
	return rc;
}
