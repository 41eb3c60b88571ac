/*
 * run - batch processing of the inbox.  See run.h.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "crashpoint.h"
#include "clock.h"
#include "date.h"
#include "exitcode.h"
#include "inbox.h"
#include "log.h"
#include "metrics.h"
#include "pipeline.h"
#include "reconcile.h"
#include "run.h"
#include "store.h"
#include "xmalloc.h"

#define AUDIT_ANCHOR_INTERVAL_S 3600

/* Oldest first, as inbox_scan() sorts. */
static int entry_order(const void *a, const void *b)
{
	const struct inbox_entry *ea = a, *eb = b;
	if (ea->ctime.tv_sec != eb->ctime.tv_sec)
		return ea->ctime.tv_sec < eb->ctime.tv_sec ? -1 : 1;
	if (ea->ctime.tv_nsec != eb->ctime.tv_nsec)
		return ea->ctime.tv_nsec < eb->ctime.tv_nsec ? -1 : 1;
	return strcmp(ea->name, eb->name);
}

/* The audit log's head into the daemon's log (syslog: outside the
 * database), where `attestd audit verify-log SEQ:HASH` finds it again. */
static bool audit_anchor(struct store *st)
{
	long seq = 0;
	char hash[65], *err = NULL;
	enum store_status rc = store_audit_head(st, &seq, hash, &err);
	if (rc == STORE_OK)
		log_info("action=audit-anchor seq=%ld hash=%s", seq, hash);
	else
		log_warn("action=audit-anchor outcome=retry error=\"%s\"", err ? err : "");
	free(err);
	return rc == STORE_OK;
}

/* The server's fsync and full_page_writes: off is the DBA's choice, not
 * refused, but never silent (interfaces.md, Durability).  True when read. */
static bool durability_warn(struct store *st)
{
	struct store_durability d;
	char *err = NULL, buf[256];
	if (store_durability(st, &d, &err) != STORE_OK) {
		free(err);
		return false;
	}
	if (store_durability_warning(&d, buf, sizeof(buf)))
		log_warn("action=durability outcome=warning fsync=%s full_page_writes=%s "
			 "detail=\"%s\" hint=\"ask the DBA to run the server with fsync and "
			 "full_page_writes on\"", d.fsync ? "on" : "off",
			 d.full_page_writes ? "on" : "off", buf);
	return true;
}

/* Processes one claim; false when the batch must stop (database gone,
 * disk full).  A fault of our environment that kept the file for later
 * (interfaces.md: database, stale CRL or unreadable trust files, disk,
 * file system) is exit 4, the operator's to mend; exit 5 is for bugs. */
static bool run_one(struct pipeline *p, const struct inbox_claim *c, int *status)
{
	enum reason r = pipeline_process(p, c);
	if (r == REASON_DB_UNAVAILABLE || r == REASON_DISK_FULL) {
		*status = EXIT_ENVIRONMENT;
		return false;
	}
	if ((r == REASON_CRL_STALE || r == REASON_TRUST_UNAVAILABLE || r == REASON_IO_ERROR) &&
	    *status == 0)
		*status = EXIT_ENVIRONMENT;
	else if (r != REASON_OK && *status == 0)
		*status = EXIT_INTERNAL;
	return true;
}

/* run --once claims nothing while free space where it writes is below
 * min_free_space, as the service pauses (the files wait in the inbox). */
static bool run_once_disk_ok(const struct config *cfg)
{
	const char *paths[] = { cfg->spool, cfg->archive, cfg->outbox, cfg->quarantine };
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct statvfs vfs;
		if (statvfs(paths[i], &vfs) != 0) {
			log_error("action=start outcome=error reason=io_error path=%s error=\"%s\"",
				  paths[i], strerror(errno));
			return false;
		}
		uint64_t free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
		if (free_bytes < cfg->min_free_space) {
			log_error("action=start outcome=error reason=disk_full path=%s free_mib=%llu "
				  "hint=\"free space or lower [limits] min_free_space; the files wait "
				  "in the inbox\"", paths[i], (unsigned long long)(free_bytes >> 20));
			return false;
		}
	}
	return true;
}

static bool run_spool(struct pipeline *p, const struct config *cfg, int *status)
{
	struct inbox_claim *claims = NULL;
	size_t n = 0;
	bool go_on = true;
	if (inbox_spool_list(cfg->spool, &claims, &n) != 0) {
		log_error("action=spool path=%s outcome=error error=\"%s\"", cfg->spool, strerror(errno));
		*status = EXIT_ENVIRONMENT;
		return false;
	}
	for (size_t i = 0; i < n && go_on; i++)
		go_on = run_one(p, &claims[i], status);
	for (size_t i = 0; i < n; i++)
		inbox_claim_clear(&claims[i]);
	free(claims);
	return go_on;
}

/* One pass over the inbox; *unsettled counts files not yet still long enough. */
static bool run_inbox(struct pipeline *p, const struct config *cfg, size_t *unsettled,
		      int *status)
{
	struct inbox_list list;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	if (inbox_scan(cfg->inbox, cfg->settle_time_ms, &now, &list, unsettled) != 0) {
		log_error("action=scan path=%s outcome=error error=\"%s\"", cfg->inbox, strerror(errno));
		*status = EXIT_ENVIRONMENT;
		return false;
	}
	bool go_on = true;
	for (size_t i = 0; i < list.n && go_on; i++) {
		struct inbox_claim c;
		int got = inbox_claim(cfg->inbox, cfg->spool, &list.entries[i], &c);
		if (got < 0) {
			int saved = errno;
			char name[INBOX_NAME_MAX];
			inbox_printable_name(list.entries[i].name, name, sizeof(name));
			errno = saved;
			log_error("action=claim file=%s/%s outcome=error error=\"%s\"%s",
				  list.entries[i].dir, name, strerror(errno),
				  errno == EXDEV ? " hint=\"inbox and spool must be on one file system\"" : "");
			*status = EXIT_ENVIRONMENT;
			go_on = errno != EXDEV;
			continue;
		}
		if (got == 0)
			continue;
		crashpoint("after_claim");
		go_on = run_one(p, &c, status);
		inbox_claim_clear(&c);
	}
	inbox_list_clear(&list);
	return go_on;
}

/* --- metrics ------------------------------------------------------------------- */

/*
 * What the metrics file shows besides the pipeline's counters: the queue
 * and the database's counts, sampled at most once per rescan interval
 * (a count over three years of attestations and a walk of the inbox are
 * not for every file).
 */
struct gauges {
	bool sampled;
	struct timespec next;		/* CLOCK_MONOTONIC: when to sample again */
	long inbox;
	long spool;
	bool have_counts;
	struct store_counts counts;
};

static bool monotonic_due(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static void monotonic_after(struct timespec *t, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	t->tv_sec += ms / 1000;
	t->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

/* st may be NULL (database unreachable): the database's gauges are then
 * left out rather than shown stale. */
static void gauges_sample(struct gauges *g, const struct config *cfg, struct store *st, bool force)
{
	if (!cfg->metrics || (g->sampled && !force && !monotonic_due(&g->next)))
		return;
	g->sampled = true;
	monotonic_after(&g->next, cfg->rescan_interval_ms);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct inbox_list list;
	size_t unsettled = 0;
	g->inbox = -1;
	if (inbox_scan(cfg->inbox, 0, &now, &list, &unsettled) == 0) {
		g->inbox = (long)(list.n + unsettled);
		inbox_list_clear(&list);
	}
	struct inbox_claim *claims = NULL;
	size_t n = 0;
	g->spool = -1;
	if (inbox_spool_list(cfg->spool, &claims, &n) == 0) {
		g->spool = (long)n;
		for (size_t i = 0; i < n; i++)
			inbox_claim_clear(&claims[i]);
		free(claims);
	}
	g->have_counts = false;
	date_t today;
	char day[11];
	struct timespec shifted = clock_now();
	char *err = NULL;
	if (st && date_local_from_epoch(shifted.tv_sec, cfg->timezone, &today)) {
		date_format(today, day);
		g->have_counts = store_counts(st, day, &g->counts, &err) == STORE_OK;
		free(err);
	}
}

/* Writes the metrics file (when configured); a failure is logged once
 * until a write succeeds again. */
static void emit_metrics(const struct config *cfg, const struct pipeline *p,
			 const struct gauges *g, time_t started, const bool *faults,
			 const char *const *fault_names, size_t n_faults, bool *failing)
{
	if (!cfg->metrics)
		return;
	struct metrics m = {
		.started = started,
		.inbox_files = g->inbox,
		.spool_files = g->spool,
		.have_counts = g->have_counts,
		.n_faults = n_faults,
		.fault_names = fault_names,
		.fault_active = faults,
	};
	if (p) {
		const struct pipeline_counts *c = pipeline_counts(p);
		m.files_accepted = c->accepted;
		m.files_rejected = c->rejected;
		m.files_duplicate = c->duplicate;
		m.files_retried = c->retried;
		for (int r = 0; r < REASON_COUNT; r++)
			m.rejected_by[r] = c->rejected_by[r];
		for (int d = 0; d < METRICS_DECISIONS; d++)
			m.attestations[d] = c->attestations[d];
		m.processing = c->processing;
		m.last_success = c->last_success;
	}
	if (g->have_counts) {
		m.pending = g->counts.pending;
		m.review = g->counts.review;
		m.overdue = g->counts.overdue;
		m.near_deadline = g->counts.near_deadline;
		/* The database knows the last file of every instance and of
		 * earlier runs, not only this process's. */
		if (g->counts.last_at > m.last_success)
			m.last_success = (time_t)g->counts.last_at;
	}
	if (metrics_write(cfg->metrics, &m) != 0) {
		if (!*failing)
			log_warn("action=metrics path=%s outcome=error error=\"%s\" hint=\"check that "
				 "the directory exists and is writable\"", cfg->metrics, strerror(errno));
		*failing = true;
	} else {
		*failing = false;
	}
}

/* The environment faults that pause processing (none is the centres'). */
enum run_fault { FAULT_DATABASE, FAULT_SCHEMA, FAULT_TRUST, FAULT_DISK, FAULT_FILES, FAULT_COUNT };

static const char *const fault_names[FAULT_COUNT] = {
	"db_unavailable", "schema_not_migrated", "trust_unavailable", "disk_full", "io_error",
};

/* run --once: the metrics at the end, with the fault that ended it, if any. */
static void run_once_metrics(const struct config *cfg, const struct pipeline *p, struct store *st,
			     time_t started, int status)
{
	struct gauges g = { 0 };
	bool faults[FAULT_COUNT] = { 0 }, failing = false;
	faults[FAULT_DATABASE] = status == EXIT_ENVIRONMENT;
	gauges_sample(&g, cfg, status == EXIT_ENVIRONMENT ? NULL : st, true);
	emit_metrics(cfg, p, &g, started, faults, fault_names, FAULT_COUNT, &failing);
}

int run_once(const struct config *cfg)
{
	time_t started = time(NULL);
	char *err = NULL;
	int status = 0;
	struct store *st = store_connect(cfg->conninfo, &err);
	if (st == NULL) {
		log_error("action=start outcome=error reason=db_unavailable error=\"%s\"", err);
		free(err);
		run_once_metrics(cfg, NULL, NULL, started, EXIT_ENVIRONMENT);
		return EXIT_ENVIRONMENT;
	}
	if (store_set_synchronous_commit(st, cfg->synchronous_commit, &err) != STORE_OK) {
		log_error("action=start outcome=error reason=db_unavailable error=\"%s\"", err);
		free(err);
		store_free(st);
		run_once_metrics(cfg, NULL, NULL, started, EXIT_ENVIRONMENT);
		return EXIT_ENVIRONMENT;
	}
	durability_warn(st);
	if (store_schema_status(st, NULL, &err) != STORE_OK) {
		log_error("action=start outcome=error error=\"%s\" hint=\"run attestd db migrate\"", err);
		free(err);
		store_free(st);
		run_once_metrics(cfg, NULL, NULL, started, EXIT_ENVIRONMENT);
		return EXIT_ENVIRONMENT;
	}
	if (!run_once_disk_ok(cfg)) {
		run_once_metrics(cfg, NULL, st, started, 0);	/* not a database fault */
		store_free(st);
		return EXIT_ENVIRONMENT;
	}
	struct pipeline *p = pipeline_new(cfg, st, true, &err);
	if (p == NULL) {
		/* The trust files or the receipt key cannot be used: the
		 * setup's to mend (trust_unavailable), not a bug. */
		log_error("action=start outcome=error error=\"%s\"", err);
		free(err);
		store_free(st);
		return EXIT_ENVIRONMENT;
	}
	/* The spool first: files a previous run claimed and did not finish;
	 * then the file system and the database compared. */
	bool go_on = run_spool(p, cfg, &status);
	struct reconcile_report rep;
	if (go_on && reconcile_run(cfg, st, NULL, &rep) == REASON_DB_UNAVAILABLE) {
		status = EXIT_ENVIRONMENT;
		go_on = false;
	}
	if (go_on && pipeline_flush_receipts(p) == REASON_DB_UNAVAILABLE) {
		status = EXIT_ENVIRONMENT;
		go_on = false;
	}
	/* Files still being written in place are waited for, a settle time
	 * at a time, as long as new ones keep settling. */
	size_t unsettled = 0, done_before = 0, idle_rounds = 0;
	while (go_on) {
		go_on = run_inbox(p, cfg, &unsettled, &status);
		if (!go_on || unsettled == 0)
			break;
		/* A file rewritten without end is left for the next run. */
		const struct pipeline_counts *c = pipeline_counts(p);
		size_t done = c->accepted + c->rejected + c->duplicate;
		idle_rounds = done == done_before ? idle_rounds + 1 : 0;
		done_before = done;
		if (idle_rounds > 5) {
			log_warn("action=run-once outcome=partial unsettled=%zu detail=\"files still "
				 "being written are left for the next run\"", unsettled);
			break;
		}
		struct timespec pause = { .tv_sec = cfg->settle_time_ms / 1000,
					  .tv_nsec = (long)(cfg->settle_time_ms % 1000) * 1000000L };
		nanosleep(&pause, NULL);
	}
	/* The last receipts' marks, and any receipt still unwritten. */
	if (go_on && pipeline_flush_receipts(p) == REASON_DB_UNAVAILABLE) {
		status = EXIT_ENVIRONMENT;
		go_on = false;
	}
	if (go_on && pipeline_sweep(p) == REASON_DB_UNAVAILABLE)
		status = EXIT_ENVIRONMENT;
	if (go_on && status != EXIT_ENVIRONMENT)
		audit_anchor(st);
	const struct pipeline_counts *c = pipeline_counts(p);
	log_info("action=run-once accepted=%zu rejected=%zu duplicate=%zu kept=%zu credited=%zu "
		 "no_credit=%zu rejected_attestations=%zu pending=%zu review=%zu", c->accepted,
		 c->rejected, c->duplicate, c->retried, c->attestations[0], c->attestations[1],
		 c->attestations[2], c->attestations[3], c->attestations[4]);
	/* Exit 4 is any environment fault; the metrics' database fault only
	 * when the connection is the one lost. */
	run_once_metrics(cfg, p, st, started, status == EXIT_ENVIRONMENT && store_ok(st) ? 0 : status);
	pipeline_free(p);
	store_free(st);
	return status;
}

/* --- the service ------------------------------------------------------------------ */

static volatile sig_atomic_t run_stop;
static volatile sig_atomic_t run_reload;

static void run_on_signal(int sig)
{
	if (sig == SIGHUP)
		run_reload = 1;
	else
		run_stop = 1;
}

static void run_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = run_on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a signal wakes the poll() at once. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

#define FAULT_RELOG_SECONDS 300

struct service {
	struct config *cfg;
	const char *config_path;
	struct store *st;
	struct pipeline *p;
	struct inbox_watch *watch;
	bool ready;
	bool spool_dirty;		/* a file was left in the spool: finish it first */
	bool reconciled;		/* the start-up comparison of files and rows done */
	bool inbox_listed;		/* the inbox listed once: the files waiting at start
					 * go before that comparison, minutes on a slow disk */
	size_t orphans;
	time_t fault_since[FAULT_COUNT];	/* 0: not in that fault */
	time_t fault_logged[FAULT_COUNT];
	char fault_detail[FAULT_COUNT][256];
	struct timespec next_scan;
	date_t swept_on;
	size_t processed;
	char last_file[2 * INBOX_NAME_MAX];
	time_t last_at;
	time_t started;
	time_t status_written;
	bool status_dirty;		/* something changed since the state file was written */
	struct gauges gauges;
	struct timespec metrics_next;	/* CLOCK_MONOTONIC: the file is rewritten by then */
	time_t anchored_at;		/* the audit log's head last logged (0: never) */
	bool metrics_failing;
	bool faults_changed;		/* a fault began or ended: metrics now, not later */
	date_t durability_on;		/* the day the server's settings were last read */
};

static time_t now_s(void)
{
	return time(NULL);
}

/* Logged when it starts, then every few minutes while it lasts. */
static void fault_set(struct service *sv, enum run_fault f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fault_set(struct service *sv, enum run_fault f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sv->fault_detail[f], sizeof(sv->fault_detail[f]), fmt, ap);
	va_end(ap);
	time_t now = now_s();
	if (sv->fault_since[f] == 0) {
		sv->fault_since[f] = now;
		sv->status_dirty = true;
		sv->faults_changed = true;
	}
	if (now - sv->fault_logged[f] >= FAULT_RELOG_SECONDS) {
		log_error("action=pause fault=%s since=%lld detail=\"%s\" hint=\"processing resumes "
			  "by itself once this is mended\"", fault_names[f],
			  (long long)sv->fault_since[f], sv->fault_detail[f]);
		sv->fault_logged[f] = now;
	}
	char status[320];
	snprintf(status, sizeof(status), "STATUS=paused: %s (%s)", fault_names[f],
		 sv->fault_detail[f]);
	sd_notify(0, status);
}

static void fault_clear(struct service *sv, enum run_fault f)
{
	if (sv->fault_since[f] == 0)
		return;
	log_info("action=resume fault=%s lasted_s=%lld", fault_names[f],
		 (long long)(now_s() - sv->fault_since[f]));
	sv->fault_since[f] = 0;
	sv->fault_logged[f] = 0;
	sv->fault_detail[f][0] = '\0';
	sv->status_dirty = true;
	sv->faults_changed = true;
	/* systemctl status shows the last STATUS= sent: say the pause is over
	 * (or which fault still holds). */
	bool still = false;
	for (int g = 0; g < FAULT_COUNT && !still; g++) {
		if (sv->fault_since[g]) {
			char status[320];
			snprintf(status, sizeof(status), "STATUS=paused: %s (%s)", fault_names[g],
				 sv->fault_detail[g]);
			sd_notify(0, status);
			still = true;
		}
	}
	if (!still && sv->ready)
		sd_notify(0, "STATUS=processing");
	/* Files seen while paused may have had their only event: look at the
	 * whole inbox now rather than at the next periodic rescan. */
	clock_gettime(CLOCK_MONOTONIC, &sv->next_scan);
}

static bool faulty(const struct service *sv)
{
	for (int f = 0; f < FAULT_COUNT; f++)
		if (sv->fault_since[f])
			return true;
	return false;
}

/*
 * The instance's state for `attestd status`: a small key=value file in the
 * spool (several instances may share it), rewritten atomically at most
 * once a second, and removed on a clean exit.
 */
static void status_write(struct service *sv, bool force)
{
	time_t now = now_s();
	if (!force && now == sv->status_written)
		return;
	sv->status_written = now;
	sv->status_dirty = false;
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	char faults[512] = "";
	for (int f = 0; f < FAULT_COUNT; f++) {
		if (!sv->fault_since[f])
			continue;
		size_t n = strlen(faults);
		snprintf(faults + n, sizeof(faults) - n, "%s%s since %lld (%s)", n ? "; " : "",
			 fault_names[f], (long long)sv->fault_since[f], sv->fault_detail[f]);
	}
	char *text = xasprintf("host=%s\npid=%ld\nstarted=%lld\nupdated=%lld\nstate=%s\n"
			       "processed=%zu\nlast_file=%s\nlast_at=%lld\norphans=%zu\nfaults=%s\n",
			       host, (long)getpid(), (long long)sv->started, (long long)now,
			       faulty(sv) ? "paused" : "running", sv->processed, sv->last_file,
			       (long long)sv->last_at, sv->orphans, faults);
	if (inbox_status_write(sv->cfg->spool, (long)getpid(), text) != 0 &&
	    !sv->fault_since[FAULT_FILES])
		log_warn("action=status spool=%s error=\"%s\"", sv->cfg->spool, strerror(errno));
	free(text);
}

/* Each dead instance's state file swept at start-up, so that the spool names
 * only the instances that run. */
static void status_swept(const char *path, long pid, void *ctx)
{
	(void)ctx;
	log_info("action=status-sweep path=%s detail=\"instance %ld is gone\"", path, pid);
}

/* Free space where we write: below the threshold, claiming pauses. */
static bool disk_ok(struct service *sv)
{
	const char *paths[] = { sv->cfg->spool, sv->cfg->archive, sv->cfg->outbox,
				sv->cfg->quarantine };
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct statvfs vfs;
		if (statvfs(paths[i], &vfs) != 0) {
			fault_set(sv, FAULT_FILES, "%s: %s", paths[i], strerror(errno));
			return false;
		}
		uint64_t free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
		if (free_bytes < sv->cfg->min_free_space) {
			fault_set(sv, FAULT_DISK, "%s has %llu MiB free, below min_free_space", paths[i],
				  (unsigned long long)(free_bytes >> 20));
			return false;
		}
	}
	fault_clear(sv, FAULT_FILES);
	fault_clear(sv, FAULT_DISK);
	return true;
}

/* Database, schema and pipeline: set up, or the fault said. */
static bool environment_ok(struct service *sv)
{
	char *err = NULL;
	if (sv->st && !store_ok(sv->st)) {
		fault_set(sv, FAULT_DATABASE, "connection lost");
		return false;
	}
	if (sv->st == NULL) {
		sv->st = store_connect(sv->cfg->conninfo, &err);
		if (sv->st == NULL) {
			fault_set(sv, FAULT_DATABASE, "%s", err);
			free(err);
			return false;
		}
		enum store_status s = store_set_synchronous_commit(sv->st, sv->cfg->synchronous_commit,
								   &err);
		if (s == STORE_OK)
			s = store_schema_status(sv->st, NULL, &err);
		if (s != STORE_OK) {
			if (s == STORE_SCHEMA_MISMATCH)
				fault_set(sv, FAULT_SCHEMA, "%s", err);
			else
				fault_set(sv, FAULT_DATABASE, "%s", err);
			free(err);
			store_free(sv->st);
			sv->st = NULL;
			return false;
		}
	}
	fault_clear(sv, FAULT_DATABASE);
	fault_clear(sv, FAULT_SCHEMA);
	if (sv->p == NULL) {
		sv->p = pipeline_new(sv->cfg, sv->st, true, &err);
		if (sv->p == NULL) {
			fault_set(sv, FAULT_TRUST, "%s", err);
			free(err);
			return false;
		}
	}
	return true;
}

/* The metrics file: after each file (file_done), and at least once per
 * rescan interval whatever happens, paused or idle. */
static void service_metrics(struct service *sv, bool file_done)
{
	if (!sv->cfg->metrics || (!file_done && !sv->faults_changed &&
				  !monotonic_due(&sv->metrics_next)))
		return;
	sv->faults_changed = false;
	bool db_ok = sv->st && !sv->fault_since[FAULT_DATABASE] && !sv->fault_since[FAULT_SCHEMA];
	gauges_sample(&sv->gauges, sv->cfg, db_ok ? sv->st : NULL, false);
	bool faults[FAULT_COUNT];
	for (int f = 0; f < FAULT_COUNT; f++)
		faults[f] = sv->fault_since[f] != 0;
	emit_metrics(sv->cfg, sv->p, &sv->gauges, sv->started, faults, fault_names, FAULT_COUNT,
		     &sv->metrics_failing);
	monotonic_after(&sv->metrics_next, sv->cfg->rescan_interval_ms);
}

/* Processes one claimed file; false when the loop must pause. */
static bool service_one(struct service *sv, const struct inbox_claim *c)
{
	size_t busy = pipeline_counts(sv->p)->busy;
	enum reason r = pipeline_process(sv->p, c);
	sd_notify(0, "WATCHDOG=1");
	if (r == REASON_OK && pipeline_counts(sv->p)->busy != busy)
		return true;	/* another instance's */
	if (r == REASON_OK) {
		sv->processed++;
		snprintf(sv->last_file, sizeof(sv->last_file), "%s/%s", c->dir, c->name);
		sv->last_at = now_s();
		sv->status_dirty = true;
		fault_clear(sv, FAULT_TRUST);
		sv->status_dirty = true;
		status_write(sv, false);
		service_metrics(sv, true);
		return true;
	}
	sv->spool_dirty = true;
	switch (r) {
	case REASON_DB_UNAVAILABLE:
		fault_set(sv, FAULT_DATABASE, "lost while processing %s", c->name);
		break;
	case REASON_CRL_STALE:
	case REASON_TRUST_UNAVAILABLE:
		fault_set(sv, FAULT_TRUST, "%s while verifying %s: update the CRL or trust files, "
			  "then reload", reason_code(r), c->name);
		break;
	case REASON_DISK_FULL:
		fault_set(sv, FAULT_DISK, "while writing %s", c->name);
		break;
	default:
		fault_set(sv, FAULT_FILES, "%s on %s (kept in the spool)", reason_code(r), c->name);
		break;
	}
	service_metrics(sv, true);
	return false;
}

static bool service_spool(struct service *sv)
{
	struct inbox_claim *claims = NULL;
	size_t n = 0;
	bool ok = true;
	if (inbox_spool_list(sv->cfg->spool, &claims, &n) != 0) {
		fault_set(sv, FAULT_FILES, "%s: %s", sv->cfg->spool, strerror(errno));
		return false;
	}
	for (size_t i = 0; i < n && ok && !run_stop; i++)
		ok = service_one(sv, &claims[i]);
	for (size_t i = 0; i < n; i++)
		inbox_claim_clear(&claims[i]);
	free(claims);
	if (ok && pipeline_flush_receipts(sv->p) != REASON_OK)
		ok = false;
	if (ok)
		sv->spool_dirty = false;
	return ok;
}

static void list_append(struct inbox_list *to, const struct inbox_list *from)
{
	if (from->n == 0)
		return;
	to->entries = xreallocarray(to->entries, to->n + from->n, sizeof(*to->entries));
	memcpy(to->entries + to->n, from->entries, from->n * sizeof(*from->entries));
	to->n += from->n;
}

/* Claims and processes entries, oldest first, between signals (an entry
 * listed twice is claimed once: the second finds it gone). */
static void service_entries(struct service *sv, struct inbox_list *list)
{
	if (list->n > 1)
		qsort(list->entries, list->n, sizeof(*list->entries), entry_order);
	for (size_t i = 0; i < list->n && !run_stop && !run_reload; i++) {
		if (!disk_ok(sv))
			return;
		struct inbox_claim c;
		int got = inbox_claim(sv->cfg->inbox, sv->cfg->spool, &list->entries[i], &c);
		if (got < 0) {
			fault_set(sv, FAULT_FILES, "claiming %s/%s: %s%s", list->entries[i].dir,
				  list->entries[i].name, strerror(errno),
				  errno == EXDEV ? " (inbox and spool must be on one file system)" : "");
			return;
		}
		if (got == 0)
			continue;
		crashpoint("after_claim");
		bool ok = service_one(sv, &c);
		inbox_claim_clear(&c);
		if (!ok)
			return;
	}
	/* Idle again: the last receipts' marks (a failure leaves them for
	 * the next file or the next flush). */
	if (list->n > 0 && pipeline_flush_receipts(sv->p) != REASON_OK)
		sv->spool_dirty = true;
}

/* A long comparison's sign of life: the watchdog fed (a whole archive on a
 * slow disk outlasts WatchdogSec, and a service killed before its first
 * clean comparison would start it again, forever), where it is shown. */
static void reconcile_alive(const char *where, void *ctx)
{
	(void)ctx;
	sd_notifyf(0, "WATCHDOG=1\nSTATUS=comparing the archive with the database: %s", where);
}

static void service_reload(struct service *sv)
{
	run_reload = 0;
	sd_notify(0, "RELOADING=1");
	char *errors = NULL;
	struct config *fresh = config_load(sv->config_path, &errors);
	if (fresh == NULL || !config_check_reload(sv->cfg, fresh, &errors)) {
		log_error("action=reload outcome=kept-old config=%s errors=\"%s\"", sv->config_path,
			  errors ? errors : "");
		config_free(fresh);
		free(errors);
		sd_notify(0, "READY=1");
		return;
	}
	char *err = NULL;
	if (sv->p && pipeline_reload(sv->p, fresh, &err) != REASON_OK) {
		log_error("action=reload outcome=kept-old error=\"%s\"", err);
		free(err);
		config_free(fresh);
		sd_notify(0, "READY=1");
		return;
	}
	struct config *old = config_swap(fresh);
	sv->cfg = fresh;
	config_free(old);
	/* A trust fault may be mended by the reload: try again now. */
	fault_clear(sv, FAULT_TRUST);
	sv->spool_dirty = true;
	log_info("action=reload outcome=ok config=%s", sv->config_path);
	sd_notify(0, "READY=1");
}

/* Every hour, and at stop: a rewrite of the chain is seen from the next
 * anchor on. */
static void service_anchor(struct service *sv)
{
	if (sv->ready && now_s() - sv->anchored_at >= AUDIT_ANCHOR_INTERVAL_S &&
	    audit_anchor(sv->st))
		sv->anchored_at = now_s();
}

/* Once per local day (and at start): the server's durability settings. */
static void service_durability(struct service *sv)
{
	date_t today;
	struct timespec now = clock_now();
	if (!date_local_from_epoch(now.tv_sec, sv->cfg->timezone, &today) ||
	    today == sv->durability_on)
		return;
	if (durability_warn(sv->st))
		sv->durability_on = today;
}

/* Once per local day: flag overdue items (rules.md §7). */
static void service_daily(struct service *sv)
{
	date_t today;
	struct timespec now = clock_now();
	if (!date_local_from_epoch(now.tv_sec, sv->cfg->timezone, &today) || today == sv->swept_on)
		return;
	if (pipeline_sweep(sv->p) == REASON_OK)
		sv->swept_on = today;
}

static int timespec_ms_until(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long ms = (t->tv_sec - now.tv_sec) * 1000LL + (t->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms > 60000 ? 60000 : (int)ms;
}

static void schedule_scan(struct service *sv, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, &sv->next_scan);
	sv->next_scan.tv_sec += ms / 1000;
	sv->next_scan.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (sv->next_scan.tv_nsec >= 1000000000L) {
		sv->next_scan.tv_sec++;
		sv->next_scan.tv_nsec -= 1000000000L;
	}
}

int run_service(struct config *cfg, const char *config_path)
{
	struct service sv = { .cfg = cfg, .config_path = config_path, .swept_on = DATE_NONE,
			      .durability_on = DATE_NONE };
	config_swap(cfg);
	sv.started = now_s();
	inbox_status_sweep(cfg->spool, status_swept, NULL);
	run_signals();
	sv.watch = inbox_watch_new(cfg->inbox);
	if (sv.watch == NULL) {
		log_error("action=start outcome=error path=%s error=\"%s\" hint=\"check [paths] inbox\"",
			  cfg->inbox, strerror(errno));
		config_free(config_swap(NULL));
		return EXIT_CONFIG;
	}
	uint64_t watchdog_usec = 0;
	bool watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0;
	log_info("action=start pid=%ld inbox=%s", (long)getpid(), cfg->inbox);
	schedule_scan(&sv, 0);
	sv.spool_dirty = true;

	while (!run_stop) {
		if (run_reload)
			service_reload(&sv);
		if (watchdog)
			sd_notify(0, "WATCHDOG=1");
		status_write(&sv, false);
		service_metrics(&sv, false);
		/* Environment first: nothing is claimed while it is not right. */
		if (!environment_ok(&sv) || !disk_ok(&sv)) {
			/* Paused: look again in a second (a signal cuts it short). */
			poll(NULL, 0, 1000);
			continue;
		}
		if (!sv.ready) {
			sv.ready = true;
			sd_notify(0, "READY=1\nSTATUS=processing");
		}
		if (sv.spool_dirty && !service_spool(&sv)) {
			poll(NULL, 0, 1000);
			continue;
		}
		if (!sv.reconciled && sv.inbox_listed) {
			struct reconcile_report rep;
			/* The first comparison (no mark yet) reads the whole archive:
			 * tell the watchdog we live, and systemctl status where it is. */
			static const struct reconcile_alive alive = { reconcile_alive, NULL };
			sd_notify(0, "WATCHDOG=1\nSTATUS=comparing the archive with the database");
			if (reconcile_run(sv.cfg, sv.st, &alive, &rep) == REASON_OK) {
				sv.reconciled = true;
				sv.orphans = rep.archive_orphans + rep.archive_missing +
					     rep.quarantine_orphans + rep.quarantine_missing;
				/* systemctl status shows the last STATUS= sent. */
				sd_notify(0, "STATUS=processing");
			}
		}
		service_daily(&sv);
		service_durability(&sv);
		service_anchor(&sv);

		/* Idle from here: the state file says where things stand. */
		if (sv.status_dirty)
			status_write(&sv, true);
		struct pollfd pfd = { .fd = inbox_watch_fd(sv.watch), .events = POLLIN };
		int timeout = timespec_ms_until(&sv.next_scan);
		if (sv.cfg->metrics && timespec_ms_until(&sv.metrics_next) < timeout)
			timeout = timespec_ms_until(&sv.metrics_next);
		if (watchdog && timeout > (int)(watchdog_usec / 2000))
			timeout = (int)(watchdog_usec / 2000);
		/* A change the once-a-second limit held back is written within
		 * a second, not after a long idle wait. */
		if (sv.status_dirty && timeout > 1000)
			timeout = 1000;
		int n = poll(&pfd, 1, timeout);
		if (n < 0 && errno != EINTR) {
			log_error("action=poll error=\"%s\"", strerror(errno));
			poll(NULL, 0, 1000);
			continue;
		}
		struct inbox_list ready = { 0 };
		bool rescan = false;
		if (n > 0 && inbox_watch_read(sv.watch, &ready, &rescan) != 0)
			rescan = true;
		/* Idle, a connection does not notice the server gone: one round
		 * trip per rescan, so that the fault shows before the next file. */
		if (n == 0 && timespec_ms_until(&sv.next_scan) == 0 && !store_ping(sv.st)) {
			schedule_scan(&sv, 0);
			continue;
		}
		if (rescan || timespec_ms_until(&sv.next_scan) == 0) {
			/* One list with the events', oldest first: files whose
			 * events came after a pause must not pass the older ones
			 * the pause left for the scan. */
			struct inbox_list list;
			size_t unsettled = 0;
			struct timespec now;
			clock_gettime(CLOCK_REALTIME, &now);
			if (inbox_scan(sv.cfg->inbox, sv.cfg->settle_time_ms, &now, &list, &unsettled) == 0) {
				list_append(&ready, &list);
				inbox_list_clear(&list);
			} else {
				fault_set(&sv, FAULT_FILES, "%s: %s", sv.cfg->inbox, strerror(errno));
			}
			/* Its files go before the start's comparison (next round). */
			sv.inbox_listed = true;
			/* Files written in place are looked at again once settled. */
			schedule_scan(&sv, unsettled ? sv.cfg->settle_time_ms + 50
						     : sv.cfg->rescan_interval_ms);
			/* The spool too: an instance that died left its claims
			 * there (those of live ones are locked and skipped). */
			if (!rescan)
				sv.spool_dirty = true;
		}
		service_entries(&sv, &ready);
		inbox_list_clear(&ready);
	}
	sd_notify(0, "STOPPING=1");
	if (sv.ready && store_ok(sv.st))
		audit_anchor(sv.st);
	log_info("action=stop processed=%zu", sv.processed);
	inbox_status_remove(sv.cfg->spool, (long)getpid());
	inbox_watch_free(sv.watch);
	pipeline_free(sv.p);
	store_free(sv.st);
	config_free(config_swap(NULL));
	return 0;
}
