/*
 * test_metrics - the Prometheus text format: every family with its HELP and
 * TYPE before its samples, cumulative histogram buckets, zero-valued series
 * present, unknown gauges left out; the file written whole with mode 0644.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"
#include "xmalloc.h"

static const char *const faults[] = { "db_unavailable", "disk_full" };
static const bool faults_on[] = { true, false };

/* A process that took five files: two accepted, two rejected, one duplicate. */
static struct metrics sample(void)
{
	struct metrics m = {
		.started = 1767225600,
		.files_accepted = 2,
		.files_rejected = 2,
		.files_duplicate = 1,
		.files_retried = 3,
		.inbox_files = 7,
		.spool_files = 0,
		.have_counts = true,
		.pending = 4,
		.review = 1,
		.overdue = 2,
		.near_deadline = 5,
		.last_success = 1767229200,
		.n_faults = 2,
		.fault_names = faults,
		.fault_active = faults_on,
	};
	m.rejected_by[REASON_SCHEMA_INVALID] = 2;
	m.attestations[0] = 17;		/* credited */
	m.attestations[3] = 1;		/* pending */
	metrics_observe(&m.processing, 0.004);
	metrics_observe(&m.processing, 0.2);
	metrics_observe(&m.processing, 0.2);
	metrics_observe(&m.processing, 1.5);
	metrics_observe(&m.processing, 45);
	return m;
}

struct line_row {
	char line[128];
	bool present;
};

/* True when text has this exact line. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

/* One case of metrics::lines (issue 12: the cases share one process). */
static void metrics_lines_case(struct line_row *row)
{
	struct metrics m = sample();
	char *text = metrics_format(&m);
	cr_assert_not_null(text, "%s: metrics_format", row->line);

	cr_expect_eq(has_line(text, row->line), row->present, "%s: %s in\n%s", row->line,
		     row->present ? "missing" : "unexpected", text);
	free(text);
}

Test(metrics, lines)
{
	static struct line_row rows[] = {
		{ "attestd_files_total{outcome=\"accepted\"} 2", true },
		{ "attestd_files_total{outcome=\"rejected\"} 2", true },
		{ "attestd_files_total{outcome=\"duplicate\"} 1", true },
		{ "attestd_files_rejected_total{reason=\"schema_invalid\"} 2", true },
		/* every reason a centre can cause, at zero */
		{ "attestd_files_rejected_total{reason=\"cert_revoked\"} 0", true },
		{ "attestd_files_rejected_total{reason=\"duplicate_attestation_number\"} 0", true },
		/* a duplicate is an outcome, not a rejection; temporary reasons are not the centre's */
		{ "attestd_files_rejected_total{reason=\"duplicate_file\"} 0", false },
		{ "attestd_files_rejected_total{reason=\"db_unavailable\"} 0", false },
		{ "attestd_files_retried_total 3", true },
		{ "attestd_attestations_total{decision=\"credited\"} 17", true },
		{ "attestd_attestations_total{decision=\"no_credit\"} 0", true },
		{ "attestd_attestations_total{decision=\"pending\"} 1", true },
		{ "attestd_attestations_total{decision=\"review\"} 0", true },
		/* buckets are cumulative */
		{ "attestd_file_processing_seconds_bucket{le=\"0.005\"} 1", true },
		{ "attestd_file_processing_seconds_bucket{le=\"0.1\"} 1", true },
		{ "attestd_file_processing_seconds_bucket{le=\"0.25\"} 3", true },
		{ "attestd_file_processing_seconds_bucket{le=\"2.5\"} 4", true },
		{ "attestd_file_processing_seconds_bucket{le=\"30\"} 4", true },
		{ "attestd_file_processing_seconds_bucket{le=\"+Inf\"} 5", true },
		{ "attestd_file_processing_seconds_sum 46.904000", true },
		{ "attestd_file_processing_seconds_count 5", true },
		{ "attestd_inbox_files 7", true },
		{ "attestd_spool_files 0", true },
		{ "attestd_attestations_waiting{decision=\"pending\"} 4", true },
		{ "attestd_attestations_waiting{decision=\"review\"} 1", true },
		{ "attestd_attestations_overdue 2", true },
		{ "attestd_attestations_near_deadline 5", true },
		{ "attestd_last_success_timestamp_seconds 1767229200", true },
		{ "attestd_fault{fault=\"db_unavailable\"} 1", true },
		{ "attestd_fault{fault=\"disk_full\"} 0", true },
		{ "attestd_start_time_seconds 1767225600", true },
		{ "# TYPE attestd_files_total counter", true },
		{ "# TYPE attestd_file_processing_seconds histogram", true },
		{ "# TYPE attestd_inbox_files gauge", true },
		{ "# TYPE attestd_fault gauge", true },
	};
	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++)
		metrics_lines_case(&rows[k]);
}

struct bucket_row {
	double seconds;
	int bucket;		/* index into counts[], METRICS_BUCKETS = +Inf */
};

/* One case of metrics::observe (issue 12: the cases share one process). */
static void metrics_observe_case(struct bucket_row *row)
{
	struct metrics_histogram h = { 0 };
	metrics_observe(&h, row->seconds);
	for (int i = 0; i <= METRICS_BUCKETS; i++)
		cr_expect_eq(h.counts[i], i == row->bucket ? 1u : 0u, "%g s: bucket %d", row->seconds, i);
	cr_expect_eq(h.count, 1u, "%g s: count %u", row->seconds, (unsigned)h.count);

}

Test(metrics, observe)
{
	static struct bucket_row rows[] = {
		{ 0, 0 }, { 0.005, 0 }, { 0.0051, 1 }, { 0.1, 4 }, { 0.11, 5 }, { 1, 7 },
		{ 30, METRICS_BUCKETS - 1 }, { 30.5, METRICS_BUCKETS }, { -1, 0 },
	};
	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++)
		metrics_observe_case(&rows[k]);
}

/* The metric name of a sample line (up to '{' or ' '). */
static void sample_name(const char *line, char *out, size_t size)
{
	size_t n = strcspn(line, "{ ");
	snprintf(out, size, "%.*s", (int)n, line);
}

/* Every sample belongs to a family declared just before it with HELP and
 * TYPE, each family declared once and its samples kept together. */
Test(metrics, families_are_declared_once_before_their_samples)
{
	struct metrics m = sample();
	char *text = metrics_format(&m);
	cr_assert_not_null(text);
	cr_assert_eq(text[strlen(text) - 1], '\n', "the text ends with a newline");
	char family[128] = "", declared[64][128];
	size_t n_declared = 0;
	bool help_seen = false;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# HELP ", 7) == 0) {
			sample_name(line + 7, family, sizeof(family));
			for (size_t i = 0; i < n_declared; i++)
				cr_expect_str_neq(declared[i], family, "%s declared twice", family);
			cr_assert_lt(n_declared, 64);
			snprintf(declared[n_declared++], sizeof(declared[0]), "%s", family);
			help_seen = true;
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			char name[128];
			sample_name(line + 7, name, sizeof(name));
			cr_expect(help_seen, "TYPE without HELP: %s", line);
			cr_expect_str_eq(name, family, "TYPE for another family: %s", line);
			continue;
		}
		char name[128];
		sample_name(line, name, sizeof(name));
		cr_expect_eq(strncmp(name, family, strlen(family)), 0, "sample %s outside family %s",
			     name, family);
		const char *value = strrchr(line, ' ');
		cr_assert_not_null(value, "no value: %s", line);
		char *end = NULL;
		strtod(value + 1, &end);
		cr_expect(end && *end == '\0' && end != value + 1, "value is not a number: %s", line);
	}
	cr_expect_geq(n_declared, 12u);
	free(text);
}

Test(metrics, unknown_gauges_are_left_out)
{
	struct metrics m = sample();
	m.have_counts = false;
	m.inbox_files = -1;
	m.spool_files = -1;
	char *text = metrics_format(&m);
	cr_expect_null(strstr(text, "attestd_attestations_waiting"), "%s", text);
	cr_expect_null(strstr(text, "attestd_attestations_overdue"));
	cr_expect_null(strstr(text, "attestd_inbox_files"));
	cr_expect_null(strstr(text, "attestd_spool_files"));
	cr_expect(has_line(text, "attestd_files_total{outcome=\"accepted\"} 2"));
	free(text);
}

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/attestd-metrics.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
	free(cmd);
}

static size_t entries(const char *path)
{
	char *cmd = xasprintf("ls -A '%s' | wc -l", path);
	FILE *p = popen(cmd, "r");
	size_t n = 0;
	cr_assert_eq(fscanf(p, "%zu", &n), 1);
	pclose(p);
	free(cmd);
	return n;
}

Test(metrics, write_replaces_the_file_whole_readable_by_others, .init = setup, .fini = teardown)
{
	char *path = xasprintf("%s/attestd.prom", dir);
	FILE *old = fopen(path, "w");
	fputs("stale\n", old);
	fclose(old);
	mode_t mask = umask(077);
	struct metrics m = sample();
	int rc = metrics_write(path, &m);
	umask(mask);
	cr_assert_eq(rc, 0, "%s", strerror(errno));
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0644);
	char *want = metrics_format(&m);
	char *got = xcalloc(1, (size_t)st.st_size + 1);
	FILE *f = fopen(path, "r");
	cr_assert_eq(fread(got, 1, (size_t)st.st_size, f), (size_t)st.st_size);
	fclose(f);
	cr_expect_str_eq(got, want);
	cr_expect_eq(entries(dir), 1u, "no temporary file left");
	free(got);
	free(want);
	free(path);
}

Test(metrics, write_into_a_missing_directory_fails_cleanly, .init = setup, .fini = teardown)
{
	char *path = xasprintf("%s/none/attestd.prom", dir);
	struct metrics m = sample();
	errno = 0;
	cr_expect_eq(metrics_write(path, &m), -1);
	cr_expect_eq(errno, ENOENT);
	cr_expect_eq(entries(dir), 0u);
	free(path);
}
