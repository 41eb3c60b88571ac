/*
 * fsutil - durable writes.  See fsutil.h.
 *
 * The costs are counted in system calls: a file of a batch is open(2) of
 * an unnamed file, write, fsync, linkat and close, plus its directory's
 * open, fsync and close shared by the batch; a directory that exists is
 * never mkdir(2)ed on the way (made only when an open says ENOENT).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "xmalloc.h"

int fsutil_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* The directory path is in ("." for a lone name), newly allocated. */
static char *parent_of(const char *path)
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	while (n > 0 && path[n - 1] != '/')
		n--;
	if (n == 0)
		return xstrdup(".");
	while (n > 1 && path[n - 1] == '/')
		n--;
	return xstrndup(path, n);
}

/* After mkdir(2) said EEXIST: 0 when it is a directory (or a link to one). */
static int exists_as_dir(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

static int batch_dir(struct fsutil_batch *b, const char *path, bool parent);

/*
 * Makes path's new entry durable: its parent fsynced now, or, in a batch,
 * at its commit (after the files': on a journalling file system the
 * parent's fsync then finds its change committed already).
 */
static int made(const char *path, struct fsutil_batch *b)
{
	char *parent = parent_of(path);
	int rc = b ? (batch_dir(b, parent, true) < 0 ? -1 : 0) : fsutil_sync_dir(parent);
	int saved = errno;
	free(parent);
	errno = saved;
	return rc;
}

/* From the bottom up: the first mkdir(2) usually settles it, and only the
 * missing parents are gone up to. */
static int mkdirs(const char *path, mode_t mode, struct fsutil_batch *b)
{
	if (mkdir(path, mode) == 0)
		return made(path, b);
	if (errno == EEXIST)
		return exists_as_dir(path);
	if (errno != ENOENT)
		return -1;
	char *parent = parent_of(path);
	int rc = strcmp(parent, path) == 0 || strcmp(parent, ".") == 0 ? -1
								    : mkdirs(parent, mode, b);
	int saved = errno;
	free(parent);
	errno = saved;
	if (rc != 0)
		return -1;
	if (mkdir(path, mode) == 0)
		return made(path, b);
	/* EEXIST: made meanwhile by another instance. */
	return errno == EEXIST ? exists_as_dir(path) : -1;
}

int fsutil_mkdirs(const char *path, mode_t mode)
{
	return mkdirs(path, mode, NULL);
}

/* --- batches ---------------------------------------------------------------------- */

struct batch_item {
	int fd;			/* the file written: unnamed, or at tmp */
	int dir;		/* index in dirs[] */
	char *name;
	char *tmp;		/* a temporary name in the directory, while there is one */
	const void *data;	/* borrowed until the commit */
	size_t len;
	mode_t mode;
	bool replace;
	bool named;		/* has its name (or found it taken) */
	bool taken;
};

struct batch_dir {
	char *path;
	int fd;
	bool dirty;		/* an entry was made in it and not yet fsynced */
};

struct fsutil_batch {
	mode_t dir_mode;
	size_t n_items, n_dirs;
	struct batch_item items[FSUTIL_BATCH_MAX];
	struct batch_dir *dirs;	/* those of the items, and parents of those made */
};

static int write_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void batch_init(struct fsutil_batch *b, mode_t dir_mode)
{
	b->dir_mode = dir_mode;
	b->n_items = 0;
	b->n_dirs = 0;
	b->dirs = NULL;
}

/* Closes the file and removes its temporary name, if any. */
static void item_clear(struct fsutil_batch *b, struct batch_item *it)
{
	if (it->fd >= 0)
		close(it->fd);
	if (it->tmp != NULL)
		unlinkat(b->dirs[it->dir].fd, it->tmp, 0);
	free(it->tmp);
	free(it->name);
	it->fd = -1;
	it->tmp = NULL;
	it->name = NULL;
}

static void batch_clear(struct fsutil_batch *b)
{
	int saved = errno;
	for (size_t i = 0; i < b->n_items; i++)
		item_clear(b, &b->items[i]);
	for (size_t i = 0; i < b->n_dirs; i++) {
		close(b->dirs[i].fd);
		free(b->dirs[i].path);
	}
	free(b->dirs);
	b->dirs = NULL;
	b->n_items = 0;
	b->n_dirs = 0;
	errno = saved;
}

struct fsutil_batch *fsutil_batch_new(mode_t dir_mode)
{
	struct fsutil_batch *b = xmalloc(sizeof(*b));
	batch_init(b, dir_mode);
	return b;
}

void fsutil_batch_free(struct fsutil_batch *b)
{
	if (b == NULL)
		return;
	batch_clear(b);
	free(b);
}

/*
 * The batch's descriptor of a directory, opened once for the files put in
 * it and for its fsync (dirty: an fsync at the commit whatever happens).
 * The directories files go in are opened O_NOFOLLOW, so that a link
 * planted in place of one is not followed out of the tree, and made when
 * missing (dir_mode); parents are as they are configured.
 */
static int batch_dir(struct fsutil_batch *b, const char *path, bool parent)
{
	for (size_t i = 0; i < b->n_dirs; i++) {
		if (strcmp(b->dirs[i].path, path) == 0) {
			b->dirs[i].dirty |= parent;
			return (int)i;
		}
	}
	int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (parent ? 0 : O_NOFOLLOW);
	int fd = open(path, flags);
	if (fd < 0 && errno == ENOENT && !parent && b->dir_mode != 0 &&
	    mkdirs(path, b->dir_mode, b) == 0)
		fd = open(path, flags);
	if (fd < 0)
		return -1;
	b->dirs = xreallocarray(b->dirs, b->n_dirs + 1, sizeof(*b->dirs));
	b->dirs[b->n_dirs] = (struct batch_dir){ .path = xstrdup(path), .fd = fd, .dirty = parent };
	return (int)b->n_dirs++;
}

/* Writes the item's data under a temporary name (no O_TMPFILE, or no
 * /proc to name an unnamed file by): the open file, or -1 with errno. */
static int write_named(struct fsutil_batch *b, struct batch_item *it)
{
	int dfd = b->dirs[it->dir].fd;
	if (it->tmp == NULL)
		it->tmp = xasprintf(".%s.tmp.%ld", it->name, (long)getpid());
	int fd = openat(dfd, it->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, it->mode);
	if (fd < 0)
		return -1;
	if (write_all(fd, it->data, it->len) != 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static int batch_add(struct fsutil_batch *b, const char *dir, const char *name, const void *data,
		     size_t len, mode_t mode, bool replace)
{
	if (b->n_items == FSUTIL_BATCH_MAX) {
		errno = E2BIG;
		return -1;
	}
	int d = batch_dir(b, dir, false);
	if (d < 0)
		return -1;
	int i = (int)b->n_items;
	struct batch_item *it = &b->items[i];
	*it = (struct batch_item){ .fd = -1, .dir = d, .name = xstrdup(name), .data = data,
				   .len = len, .mode = mode, .replace = replace };
	/*
	 * Unnamed until complete and fsynced: a process killed while writing
	 * leaves nothing behind, where a temporary name would stay for ever
	 * (found by the kill -9 tests).
	 */
	it->fd = openat(b->dirs[d].fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
	if (it->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL))
		it->fd = write_named(b, it);
	else if (it->fd >= 0 && write_all(it->fd, data, len) != 0) {
		int saved = errno;
		close(it->fd);
		it->fd = -1;
		errno = saved;
	}
	if (it->fd < 0) {
		int saved = errno;
		item_clear(b, it);
		errno = saved;
		return -1;
	}
	b->n_items++;
	return i;
}

int fsutil_batch_add(struct fsutil_batch *b, const char *dir, const char *name, const void *data,
		     size_t len, mode_t mode)
{
	return batch_add(b, dir, name, data, len, mode, false);
}

/*
 * Whether linkat(fd, "", ..., AT_EMPTY_PATH) names an unnamed file here:
 * Linux 6.10 and later allow it to the process that opened the file, older
 * kernels only with CAP_DAC_READ_SEARCH (ENOENT otherwise).  Learnt at the
 * first refusal, for the process: the kernel does not change under it.
 */
static bool flink_refused;

/* Names the unnamed file fd `to` in dfd: 0, -1 with errno, or 1 when
 * there is no /proc/self/fd to do it by.  AT_EMPTY_PATH first: the same
 * link, without the walk through /proc for every file (a sheet's archive
 * makes 21 of them; issue 14). */
static int link_unnamed(int fd, int dfd, const char *to)
{
	if (!flink_refused) {
		if (linkat(fd, "", dfd, to, AT_EMPTY_PATH) == 0)
			return 0;
		if (errno != ENOENT && errno != EPERM && errno != EINVAL)
			return -1;
		flink_refused = true;
	}
	char self[32];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, self, dfd, to, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	return errno == ENOENT && access(self, F_OK) != 0 ? 1 : -1;
}

/* Gives a complete, fsynced item its name: link(2) (EEXIST: taken, left
 * as it is), or rename(2) over the old file when replace. */
static int item_name(struct fsutil_batch *b, struct batch_item *it)
{
	struct batch_dir *d = &b->dirs[it->dir];
	if (it->tmp == NULL) {
		int rc;
		if (it->replace) {
			/* Named for an instant, to be renamed over the old file. */
			it->tmp = xasprintf(".%s.tmp.%ld", it->name, (long)getpid());
			unlinkat(d->fd, it->tmp, 0);
			rc = link_unnamed(it->fd, d->fd, it->tmp);
		} else {
			rc = link_unnamed(it->fd, d->fd, it->name);
			if (rc == 0 || (rc < 0 && errno == EEXIST)) {
				it->taken = rc != 0;
				it->named = d->dirty = true;
				return 0;
			}
		}
		if (rc == 1) {
			/* No /proc: the data again, under a temporary name. */
			close(it->fd);
			if ((it->fd = write_named(b, it)) < 0 || fsync(it->fd) != 0)
				return -1;
		} else if (rc != 0) {
			return -1;
		}
	}
	if (it->replace) {
		if (renameat(d->fd, it->tmp, d->fd, it->name) != 0)
			return -1;
	} else {
		if (linkat(d->fd, it->tmp, d->fd, it->name, 0) != 0) {
			if (errno != EEXIST)
				return -1;
			it->taken = true;
		}
		unlinkat(d->fd, it->tmp, 0);
	}
	free(it->tmp);
	it->tmp = NULL;
	it->named = d->dirty = true;
	return 0;
}

/*
 * Every file's data durable before any name points at it (a crash never
 * leaves a name on a partial file), then the names, then each directory
 * once: also those where a name was found taken, so that what the caller
 * is told is there stays there.
 */
int fsutil_batch_commit(struct fsutil_batch *b)
{
	for (size_t i = 0; i < b->n_items; i++)
		if (!b->items[i].named && fsync(b->items[i].fd) != 0)
			return -1;
	for (size_t i = 0; i < b->n_items; i++)
		if (!b->items[i].named && item_name(b, &b->items[i]) != 0)
			return -1;
	for (size_t i = 0; i < b->n_dirs; i++) {
		if (b->dirs[i].dirty && fsync(b->dirs[i].fd) != 0)
			return -1;
		b->dirs[i].dirty = false;
	}
	return 0;
}

bool fsutil_batch_taken(const struct fsutil_batch *b, int i)
{
	return i >= 0 && (size_t)i < b->n_items && b->items[i].taken;
}

int fsutil_write_atomic(const char *dir, const char *name, const void *data, size_t len,
			mode_t mode, bool replace, mode_t dir_mode)
{
	struct fsutil_batch b;
	batch_init(&b, dir_mode);
	int rc = -1;
	if (batch_add(&b, dir, name, data, len, mode, replace) == 0 && fsutil_batch_commit(&b) == 0) {
		rc = 0;
		if (b.items[0].taken) {
			rc = -1;
			errno = EEXIST;
		}
	}
	batch_clear(&b);
	return rc;
}

int fsutil_read_fd(int fd, size_t max, unsigned char **data, size_t *len)
{
	size_t cap = 64 * 1024, have = 0;
	/* A regular file is read into one buffer of its size (+1 to see the
	 * end), not doubled into: the peak stays the file's size, not three
	 * halves of twice it, whatever max allows. */
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (uint64_t)st.st_size <= max)
		cap = (size_t)st.st_size + 1;
	unsigned char *buf = xmalloc(cap);
	for (;;) {
		if (have == cap) {
			if (cap > max) {
				free(buf);
				errno = EFBIG;
				return -1;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t n = read(fd, buf + have, cap - have);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int saved = errno;
			free(buf);
			errno = saved;
			return -1;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		if (have > max) {
			free(buf);
			errno = EFBIG;
			return -1;
		}
	}
	*data = buf;
	*len = have;
	return 0;
}
