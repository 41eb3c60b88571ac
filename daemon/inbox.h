/*
 * inbox - the centres' drop directories (inbox/<dir>/) and the spool.
 * inbox_scan() lists the files that are ready to be taken, oldest first;
 * inbox_claim() takes one by rename(2) into spool/<dir>/, which is atomic
 * and lets several instances share an inbox: whoever renames first owns
 * the file.  Nothing here reads a file's content.
 *
 * A claimed file's spool name carries what must survive a crash: its
 * reception time (the ctime it had when claimed, rules.md §7) and its
 * original name: spool/<dir>/<sec>.<nsec>-<random>.<name>.
 */
#ifndef ATTESTD_INBOX_H
#define ATTESTD_INBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "reason.h"

#define INBOX_NAME_MAX 256
/* The longest name a spool (and quarantine) file keeps after its claim id:
 * NAME_MAX - the claim id (30) - its separator - ".reason" - the margin of
 * a temporary name (".NAME.tmp.PID", where the file system has no
 * O_TMPFILE).  Longer names (always bad ones) are cut there in those
 * internal names only; the claim, the database and the receipt keep the
 * whole name. */
#define INBOX_SPOOL_NAME_MAX 200

struct inbox_entry {
	char dir[INBOX_NAME_MAX];	/* the inbox subdirectory the file was found in */
	char name[INBOX_NAME_MAX];	/* its name there */
	struct timespec ctime;		/* reception time once claimed */
	off_t size;
};

struct inbox_list {
	struct inbox_entry *entries;	/* owned */
	size_t n;
};

struct inbox_claim {
	char dir[INBOX_NAME_MAX];
	/* The name as dropped, whole; a bad one made printable (bytes outside
	 * 0x21-0x7e as '_', so that no name can split a log line's key=value
	 * pairs).  Claims found in the spool after a crash have it cut at
	 * INBOX_SPOOL_NAME_MAX. */
	char name[INBOX_NAME_MAX];
	bool bad_name;			/* the original name was not a valid final name */
	char claim_id[64];		/* "<sec>.<nsec>-<random hex>", sorts by reception */
	char *spool_path;		/* owned */
	struct timespec received;
	/* Just renamed into the spool by inbox_claim(): no submission can name
	 * it yet (one found in the spool may have been committed already). */
	bool fresh;
};

/* True for names a centre uses while uploading: leading '.' or trailing '.part'. */
bool inbox_is_temporary_name(const char *name);
/* True for a valid final name: [A-Za-z0-9._-]{1,128}\.xml (exchange-format.md §1). */
bool inbox_is_valid_name(const char *name);
/* name made printable into buf (at most size - 1 bytes of it): bytes
 * outside 0x21-0x7e and '/' become '_', so that a name can neither forge
 * a log line nor split its key=value pairs. */
void inbox_printable_name(const char *name, char *buf, size_t size);

/*
 * Lists inbox/<dir>/<name> entries that are not temporary and whose ctime is
 * at least settle_ms before now (a file written in place is taken once it
 * has been still that long), oldest first.  *unsettled counts those seen
 * but not yet still long enough.  0, or -1 with errno (inbox unreadable).
 */
int inbox_scan(const char *inbox, unsigned settle_ms, const struct timespec *now,
	       struct inbox_list *out, size_t *unsettled);
void inbox_list_clear(struct inbox_list *list);

/*
 * Claims one entry: lstat (never follows), then rename into the spool
 * (RENAME_NOREPLACE), fsync of both directories.  Returns 1 when claimed,
 * 0 when the file is gone (another instance took it), -1 with errno on a
 * file-system fault (EXDEV: inbox and spool are on different file systems).
 */
int inbox_claim(const char *inbox, const char *spool, const struct inbox_entry *entry,
		struct inbox_claim *out);

/*
 * Reads a file a centre sent, hostile-input style (Postfix mail_open_ok):
 * lstat, regular file with one link, open(O_NOFOLLOW|O_NONBLOCK), fstat
 * again and compare, size cap, read.  REASON_NOT_REGULAR_FILE (also for a
 * file the process may not read: the uploader's permissions),
 * REASON_TOO_LARGE, REASON_IO_ERROR (temporary) or REASON_OK with *data
 * (caller frees) and *len.
 */
enum reason inbox_read(const char *path, size_t max_size, unsigned char **data, size_t *len);

/*
 * The watch: inotify on the inbox root (new centre directories) and on
 * every centre directory (a file renamed in, or closed after writing).
 * Events only tell which files to look at now; the periodic scan stays the
 * ground truth (IN_Q_OVERFLOW, or a watch that could not be added, asks for
 * one).
 */
struct inbox_watch;

/* NULL with errno when inotify cannot be set up on the root. */
struct inbox_watch *inbox_watch_new(const char *inbox);
void inbox_watch_free(struct inbox_watch *w);
/* The descriptor to poll for POLLIN. */
int inbox_watch_fd(const struct inbox_watch *w);
/*
 * Drains the pending events: files that just reached their final name (or
 * were closed after writing), not temporary, appended to *ready (entries
 * lstat()ed now); *rescan set when a full scan is needed (overflow, a new
 * centre directory whose files may predate its watch).  0, or -1 with errno.
 */
int inbox_watch_read(struct inbox_watch *w, struct inbox_list *ready, bool *rescan);

/*
 * The running instances' state files, <spool>/.status.<pid> (key=value
 * lines, rewritten atomically; `attestd status` reads them).
 */
int inbox_status_write(const char *spool, long pid, const char *text);
void inbox_status_remove(const char *spool, long pid);
/* Calls fn with each state file's text. */
int inbox_status_list(const char *spool, void (*fn)(const char *text, void *ctx), void *ctx);
/*
 * Removes the state files of this host's instances that died without
 * removing theirs (kill -9, power cut): the pid is gone and the file's
 * first line is host=<this host>.  Another host's are kept (its pids mean
 * nothing here), and so is this process's.  fn, when not NULL, is told each
 * file removed.  0, or -1 with errno (spool unreadable).
 */
int inbox_status_sweep(const char *spool, void (*fn)(const char *path, long pid, void *ctx),
		       void *ctx);

/* Lists what is in the spool (claims a previous run did not finish), oldest
 * first; entries of dir, name, claim id and reception time from the names. */
int inbox_spool_list(const char *spool, struct inbox_claim **out, size_t *n);
void inbox_claim_clear(struct inbox_claim *claim);

#endif
