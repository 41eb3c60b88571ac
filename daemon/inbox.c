/*
 * inbox - scan and claim.  See inbox.h.
 *
 * Hostile-input notes: the scan only lstat()s; a claim renames whatever the
 * entry is (a symlink is moved as a link, never followed), and the pipeline
 * then refuses anything that is not a regular file with one link without
 * opening it.  Directory entries are read with d_name bounded by NAME_MAX.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "inbox.h"
#include "xmalloc.h"

bool inbox_is_temporary_name(const char *name)
{
	size_t n = strlen(name);
	return name[0] == '.' || (n >= 5 && strcmp(name + n - 5, ".part") == 0);
}

bool inbox_is_valid_name(const char *name)
{
	size_t n = strlen(name);
	if (n < 5 || n > 128 + 4 || strcmp(name + n - 4, ".xml") != 0)
		return false;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static int timespec_cmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	return (a->tv_nsec > b->tv_nsec) - (a->tv_nsec < b->tv_nsec);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct inbox_entry *ea = a, *eb = b;
	int c = timespec_cmp(&ea->ctime, &eb->ctime);
	if (c == 0)
		c = strcmp(ea->dir, eb->dir);
	return c ? c : strcmp(ea->name, eb->name);
}

void inbox_list_clear(struct inbox_list *list)
{
	free(list->entries);
	list->entries = NULL;
	list->n = 0;
}

static void list_add(struct inbox_list *list, const char *dir, const char *name,
		     const struct stat *st)
{
	list->entries = xreallocarray(list->entries, list->n + 1, sizeof(*list->entries));
	struct inbox_entry *e = &list->entries[list->n++];
	snprintf(e->dir, sizeof(e->dir), "%s", dir);
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->ctime = st->st_ctim;
	e->size = st->st_size;
}

static bool settled(const struct stat *st, unsigned settle_ms, const struct timespec *now)
{
	int64_t age_ms = ((int64_t)now->tv_sec - st->st_ctim.tv_sec) * 1000 +
			 ((int64_t)now->tv_nsec - st->st_ctim.tv_nsec) / 1000000;
	return age_ms >= (int64_t)settle_ms;
}

int inbox_scan(const char *inbox, unsigned settle_ms, const struct timespec *now,
	       struct inbox_list *out, size_t *unsettled)
{
	memset(out, 0, sizeof(*out));
	*unsettled = 0;
	int root = open(inbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -1;
	DIR *top = fdopendir(root);
	if (top == NULL) {
		close(root);
		return -1;
	}
	struct dirent *d;
	while ((d = readdir(top)) != NULL) {
		struct stat st;
		if (d->d_name[0] == '.' ||
		    fstatat(root, d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
			continue;
		int dfd = openat(root, d->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		DIR *sub = dfd >= 0 ? fdopendir(dfd) : NULL;
		if (sub == NULL) {
			if (dfd >= 0)
				close(dfd);
			continue;
		}
		struct dirent *f;
		while ((f = readdir(sub)) != NULL) {
			if (inbox_is_temporary_name(f->d_name) ||
			    fstatat(dfd, f->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
				continue;
			if (settled(&st, settle_ms, now))
				list_add(out, d->d_name, f->d_name, &st);
			else
				(*unsettled)++;
		}
		closedir(sub);
	}
	closedir(top);
	if (out->n > 1)
		qsort(out->entries, out->n, sizeof(*out->entries), entry_cmp);
	return 0;
}

void inbox_printable_name(const char *name, char *buf, size_t size)
{
	size_t j = 0;
	for (size_t i = 0; name[i] && j + 1 < size; i++) {
		unsigned char c = (unsigned char)name[i];
		buf[j++] = (c >= 0x21 && c < 0x7f && c != '/') ? (char)c : '_';
	}
	buf[j] = '\0';
}

/* The part of the spool name after the claim id: the original name when it
 * is a valid one, else a printable stand-in (the pipeline rejects it). */
static void spool_suffix(const char *name, char *buf, size_t size)
{
	if (inbox_is_valid_name(name)) {
		snprintf(buf, size, ".%.*s", (int)(size - 2), name);
		return;
	}
	buf[0] = '~';
	inbox_printable_name(name, buf + 1, size - 1 < INBOX_SPOOL_NAME_MAX + 1 ? size - 1
									   : INBOX_SPOOL_NAME_MAX + 1);
}

void inbox_claim_clear(struct inbox_claim *claim)
{
	free(claim->spool_path);
	claim->spool_path = NULL;
}

int inbox_claim(const char *inbox, const char *spool, const struct inbox_entry *entry,
		struct inbox_claim *out)
{
	memset(out, 0, sizeof(*out));
	char *src_dir = xasprintf("%s/%s", inbox, entry->dir);
	char *src = xasprintf("%s/%s", src_dir, entry->name);
	char *dst_dir = xasprintf("%s/%s", spool, entry->dir);
	char *dst = NULL;
	int rc = -1, saved = 0;
	struct stat st;

	if (lstat(src, &st) != 0) {
		rc = errno == ENOENT ? 0 : -1;
		goto out;
	}
	uint32_t rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint32_t)getpid() ^ (uint32_t)st.st_ino;
	char suffix[INBOX_NAME_MAX];
	spool_suffix(entry->name, suffix, sizeof(suffix));
	snprintf(out->claim_id, sizeof(out->claim_id), "%011" PRId64 ".%09ld-%08" PRIx32,
		 (int64_t)st.st_ctim.tv_sec, st.st_ctim.tv_nsec, rnd);
	dst = xasprintf("%s/%s%s", dst_dir, out->claim_id, suffix);
	int moved = renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE);
	if (moved != 0 && errno == ENOENT) {
		/* The file is gone, or the spool has no directory for this
		 * centre yet: made (durably) on its first file only. */
		if (fsutil_mkdirs(dst_dir, 0750) != 0)
			goto out;
		moved = renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE);
	}
	if (moved != 0) {
		rc = errno == ENOENT ? 0 : -1;
		goto out;
	}
	if (fsutil_sync_dir(dst_dir) != 0 || fsutil_sync_dir(src_dir) != 0)
		goto out;
	snprintf(out->dir, sizeof(out->dir), "%s", entry->dir);
	out->bad_name = !inbox_is_valid_name(entry->name);
	/* The whole name, not the spool's (cut) one: the receipt names the
	 * file as the centre dropped it (exchange-format.md §6). */
	inbox_printable_name(entry->name, out->name, sizeof(out->name));
	out->received = st.st_ctim;
	out->spool_path = dst;
	out->fresh = true;
	dst = NULL;
	rc = 1;
out:
	saved = errno;
	free(src_dir);
	free(src);
	free(dst_dir);
	free(dst);
	errno = saved;
	return rc;
}

enum reason inbox_read(const char *path, size_t max_size, unsigned char **data, size_t *len)
{
	struct stat before, after;
	*data = NULL;
	*len = 0;
	if (lstat(path, &before) != 0)
		return REASON_IO_ERROR;
	if (!S_ISREG(before.st_mode) || before.st_nlink != 1)
		return REASON_NOT_REGULAR_FILE;
	if ((uint64_t)before.st_size > max_size)
		return REASON_TOO_LARGE;
	/* O_NONBLOCK: should the file be swapped for a FIFO in between, the
	 * open does not hang; fstat then tells. */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		/* ELOOP: swapped for a symlink.  EACCES: the centre uploaded it
		 * without read access for the prefecture (sftp put -p of a 0600
		 * file): its fault, to reject, not ours to retry for ever. */
		return errno == ELOOP || errno == EACCES ? REASON_NOT_REGULAR_FILE : REASON_IO_ERROR;
	enum reason r = REASON_OK;
	if (fstat(fd, &after) != 0) {
		r = REASON_IO_ERROR;
	} else if (!S_ISREG(after.st_mode) || after.st_nlink != 1 ||
		   after.st_ino != before.st_ino || after.st_dev != before.st_dev) {
		r = REASON_NOT_REGULAR_FILE;
	} else if (fsutil_read_fd(fd, max_size, data, len) != 0) {
		r = errno == EFBIG ? REASON_TOO_LARGE : REASON_IO_ERROR;
	}
	close(fd);
	return r;
}

/* Parses "<sec>.<nsec>-<hex>.<name>" or "<sec>.<nsec>-<hex>~<stand-in>". */
static bool spool_name_parse(const char *dir, const char *file, struct inbox_claim *c)
{
	long long sec;
	long nsec;
	unsigned rnd;
	int used = 0;
	if (sscanf(file, "%11lld.%9ld-%8x%n", &sec, &nsec, &rnd, &used) != 3 || used != 30)
		return false;
	if (file[used] != '.' && file[used] != '~')
		return false;
	memset(c, 0, sizeof(*c));
	snprintf(c->dir, sizeof(c->dir), "%s", dir);
	snprintf(c->name, sizeof(c->name), "%s", file + used + 1);
	c->bad_name = file[used] == '~';
	snprintf(c->claim_id, sizeof(c->claim_id), "%.*s", used, file);
	c->received.tv_sec = (time_t)sec;
	c->received.tv_nsec = nsec;
	return true;
}

static int claim_cmp(const void *a, const void *b)
{
	const struct inbox_claim *ca = a, *cb = b;
	return strcmp(ca->claim_id, cb->claim_id);
}

int inbox_spool_list(const char *spool, struct inbox_claim **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	DIR *top = opendir(spool);
	if (top == NULL)
		return -1;
	struct dirent *d;
	while ((d = readdir(top)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		char *dir = xasprintf("%s/%s", spool, d->d_name);
		DIR *sub = opendir(dir);
		struct dirent *f;
		while (sub && (f = readdir(sub)) != NULL) {
			struct inbox_claim c;
			if (f->d_name[0] == '.' || !spool_name_parse(d->d_name, f->d_name, &c))
				continue;
			c.spool_path = xasprintf("%s/%s", dir, f->d_name);
			*out = xreallocarray(*out, *n + 1, sizeof(**out));
			(*out)[(*n)++] = c;
		}
		if (sub)
			closedir(sub);
		free(dir);
	}
	closedir(top);
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), claim_cmp);
	return 0;
}

/* --- the watch ----------------------------------------------------------------- */

struct inbox_watch {
	char *root;
	int fd;
	int root_wd;
	struct {
		int wd;
		char name[INBOX_NAME_MAX];
	} *dirs;
	size_t n_dirs;
};

#define INBOX_DIR_EVENTS (IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR | IN_DONT_FOLLOW)
#define INBOX_ROOT_EVENTS (IN_CREATE | IN_MOVED_TO | IN_ONLYDIR | IN_DONT_FOLLOW)

static void watch_add_dir(struct inbox_watch *w, const char *name, bool *rescan)
{
	char *path = xasprintf("%s/%s", w->root, name);
	int wd = inotify_add_watch(w->fd, path, INBOX_DIR_EVENTS);
	free(path);
	if (wd < 0) {
		/* Not a directory after all, or out of watches: the scan covers it. */
		*rescan = true;
		return;
	}
	for (size_t i = 0; i < w->n_dirs; i++)
		if (w->dirs[i].wd == wd)
			return;
	w->dirs = xreallocarray(w->dirs, w->n_dirs + 1, sizeof(*w->dirs));
	w->dirs[w->n_dirs].wd = wd;
	snprintf(w->dirs[w->n_dirs].name, INBOX_NAME_MAX, "%s", name);
	w->n_dirs++;
}

struct inbox_watch *inbox_watch_new(const char *inbox)
{
	struct inbox_watch *w = xcalloc(1, sizeof(*w));
	w->root = xstrdup(inbox);
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0 || (w->root_wd = inotify_add_watch(w->fd, inbox, INBOX_ROOT_EVENTS)) < 0) {
		int saved = errno;
		inbox_watch_free(w);
		errno = saved;
		return NULL;
	}
	DIR *top = opendir(inbox);
	struct dirent *d;
	bool ignored = false;
	while (top && (d = readdir(top)) != NULL)
		if (d->d_name[0] != '.' && d->d_type != DT_REG && d->d_type != DT_LNK)
			watch_add_dir(w, d->d_name, &ignored);
	if (top)
		closedir(top);
	return w;
}

void inbox_watch_free(struct inbox_watch *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	free(w->dirs);
	free(w->root);
	free(w);
}

int inbox_watch_fd(const struct inbox_watch *w)
{
	return w->fd;
}

static const char *watch_dir_name(const struct inbox_watch *w, int wd)
{
	for (size_t i = 0; i < w->n_dirs; i++)
		if (w->dirs[i].wd == wd)
			return w->dirs[i].name;
	return NULL;
}

int inbox_watch_read(struct inbox_watch *w, struct inbox_list *ready, bool *rescan)
{
	/* Aligned as inotify_event requires. */
	char buf[16 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		ssize_t n = read(w->fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EAGAIN)
				return 0;
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				*rescan = true;
				continue;
			}
			if (ev->len == 0 || ev->name[0] == '\0')
				continue;
			if (ev->wd == w->root_wd) {
				if (ev->mask & IN_ISDIR && ev->name[0] != '.') {
					watch_add_dir(w, ev->name, rescan);
					*rescan = true;
				}
				continue;
			}
			const char *dir = watch_dir_name(w, ev->wd);
			if (dir == NULL || inbox_is_temporary_name(ev->name) || (ev->mask & IN_ISDIR))
				continue;
			char *path = xasprintf("%s/%s/%s", w->root, dir, ev->name);
			struct stat st;
			if (lstat(path, &st) == 0)
				list_add(ready, dir, ev->name, &st);
			free(path);
		}
	}
}

/* --- instance state files ----------------------------------------------------- */

/* Replaced by rename, but not fsynced: the state of a running process is
 * worthless after a crash, and this is written after every file. */
int inbox_status_write(const char *spool, long pid, const char *text)
{
	char *tmp = xasprintf("%s/.status.%ld.tmp.", spool, pid);
	char *path = xasprintf("%s/.status.%ld", spool, pid);
	int rc = -1;
	FILE *f = fopen(tmp, "w");
	if (f != NULL) {
		bool ok = fputs(text, f) >= 0;
		ok = fclose(f) == 0 && ok;
		rc = ok && rename(tmp, path) == 0 ? 0 : -1;
		if (rc != 0)
			unlink(tmp);
	}
	free(tmp);
	free(path);
	return rc;
}

void inbox_status_remove(const char *spool, long pid)
{
	char *path = xasprintf("%s/.status.%ld", spool, pid);
	unlink(path);
	free(path);
}

int inbox_status_list(const char *spool, void (*fn)(const char *text, void *ctx), void *ctx)
{
	DIR *d = opendir(spool);
	if (d == NULL)
		return -1;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, ".status.", 8) != 0 || strchr(e->d_name, '~') ||
		    strstr(e->d_name, ".tmp."))
			continue;
		char *path = xasprintf("%s/%s", spool, e->d_name);
		unsigned char *text = NULL;
		size_t len = 0;
		if (inbox_read(path, 64 * 1024, &text, &len) == REASON_OK) {
			char *s = xstrndup((const char *)text, len);
			fn(s, ctx);
			free(s);
		}
		free(text);
		free(path);
	}
	closedir(d);
	return 0;
}

int inbox_status_sweep(const char *spool, void (*fn)(const char *path, long pid, void *ctx),
		       void *ctx)
{
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	DIR *d = opendir(spool);
	if (d == NULL)
		return -1;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, ".status.", 8) != 0)
			continue;
		char *end = NULL;
		long pid = strtol(e->d_name + 8, &end, 10);
		if (end == e->d_name + 8 || *end != '\0' || pid <= 0 || pid == (long)getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		char *path = xasprintf("%s/%s", spool, e->d_name);
		char line[300] = "";
		FILE *f = fopen(path, "re");
		if (f) {
			if (fgets(line, sizeof(line), f) == NULL)
				line[0] = '\0';
			fclose(f);
		}
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "host=", 5) == 0 && strcmp(line + 5, host) == 0 &&
		    unlink(path) == 0 && fn != NULL)
			fn(path, pid, ctx);
		free(path);
	}
	closedir(d);
	return 0;
}
