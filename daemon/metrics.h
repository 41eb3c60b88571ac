/*
 * metrics - the Prometheus text file of interfaces.md, for node_exporter's
 * textfile collector: format and write only.  The caller gathers the
 * numbers into a struct metrics it owns; nothing here reads a clock, the
 * database or a directory.
 */
#ifndef ATTESTD_METRICS_H
#define ATTESTD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "reason.h"

/* Upper bounds (seconds) of the processing-time buckets, +Inf aside. */
#define METRICS_BUCKETS 12
extern const double metrics_bucket_bounds[METRICS_BUCKETS];

struct metrics_histogram {
	unsigned long long counts[METRICS_BUCKETS + 1];	/* per bucket, not cumulative; last: +Inf */
	unsigned long long count;
	double sum;
};

void metrics_observe(struct metrics_histogram *h, double seconds);

#define METRICS_DECISIONS 5	/* enum rules_decision */

struct metrics {
	time_t started;
	/* counters over this process's lifetime (Prometheus handles resets) */
	unsigned long long files_accepted;
	unsigned long long files_rejected;
	unsigned long long files_duplicate;
	unsigned long long files_retried;
	unsigned long long rejected_by[REASON_COUNT];
	unsigned long long attestations[METRICS_DECISIONS];
	struct metrics_histogram processing;
	/* gauges; a negative count is unknown and left out */
	long inbox_files;
	long spool_files;
	bool have_counts;		/* the database counts below were read */
	long pending;
	long review;
	long overdue;
	long near_deadline;
	time_t last_success;		/* 0: none known */
	/* environment faults: names[i] is paused on when active[i] */
	size_t n_faults;
	const char *const *fault_names;
	const bool *fault_active;
};

/* The text exposition format, newly allocated. */
char *metrics_format(const struct metrics *m);

/*
 * Writes the text to path atomically: a dot-named temporary beside it
 * (the collector reads *.prom only), mode 0644 whatever the umask (no
 * personal data; node_exporter runs as another user), then rename(2).
 * 0, or -1 with errno.
 */
int metrics_write(const char *path, const struct metrics *m);

#endif
