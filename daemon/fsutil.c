/*
 * fsutil - durable writes.  See fsutil.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

int fsutil_mkdirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	if (strlen(path) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(buf, path);
	for (char *p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(buf, mode) != 0 && errno != EEXIST)
			return -1;
		*p = saved;
		if (saved == '\0')
			break;
	}
	struct stat st;
	if (stat(path, &st) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

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

/*
 * An unnamed file (O_TMPFILE) named only once complete: a process killed
 * while writing leaves nothing behind, where a temporary name would stay
 * for ever (found by the kill -9 tests).  1 when the file system or
 * kernel cannot (no O_TMPFILE, no /proc): the caller then uses a name.
 */
static int write_unnamed(const char *dir, const char *tmp, const char *final, const void *data,
			 size_t len, mode_t mode, bool replace)
{
	int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
	if (fd < 0)
		return errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL ? 1 : -1;
	int rc = -1, saved;
	char self[64];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	if (write_all(fd, data, len) != 0 || fsync(fd) != 0)
		goto out;
	if (!replace) {
		if (linkat(AT_FDCWD, self, AT_FDCWD, final, AT_SYMLINK_FOLLOW) == 0)
			rc = 0;
		else if (errno == ENOENT && access(self, F_OK) != 0)
			rc = 1;
		goto out;
	}
	/* Named for an instant, to be renamed over the old file. */
	unlink(tmp);
	if (linkat(AT_FDCWD, self, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) != 0) {
		if (errno == ENOENT && access(self, F_OK) != 0)
			rc = 1;
		goto out;
	}
	if (rename(tmp, final) == 0)
		rc = 0;
	else
		unlink(tmp);
out:
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int fsutil_write_atomic(const char *dir, const char *name, const void *data, size_t len,
			mode_t mode, bool replace)
{
	char *tmp = xasprintf("%s/.%s.tmp.%ld", dir, name, (long)getpid());
	char *final = xasprintf("%s/%s", dir, name);
	int rc = -1, saved = 0;
	int unnamed = write_unnamed(dir, tmp, final, data, len, mode, replace);
	if (unnamed == 0) {
		rc = fsutil_sync_dir(dir);
		goto out;
	}
	if (unnamed < 0)
		goto out;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		goto out;
	if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		goto out;
	}
	if (close(fd) != 0)
		goto out_unlink;
	if (replace) {
		if (rename(tmp, final) != 0)
			goto out_unlink;
	} else {
		/* link(2) fails with EEXIST rather than replace: an earlier
		 * receipt or archived file is never overwritten. */
		if (link(tmp, final) != 0)
			goto out_unlink;
		unlink(tmp);
	}
	rc = fsutil_sync_dir(dir);
	goto out;
out_unlink:
	saved = errno;
	unlink(tmp);
	errno = saved;
out:
	saved = errno;
	free(tmp);
	free(final);
	errno = saved;
	return rc;
}

int fsutil_read_fd(int fd, size_t max, unsigned char **data, size_t *len)
{
	size_t cap = 64 * 1024, have = 0;
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
