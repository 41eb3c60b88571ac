/*
 * outbox - receipt paths in the outbox and durable, never-overwriting writes
 * (see outbox.h).  The never-overwrite rule is fsutil_write_atomic()'s
 * link(2): a receipt a centre may already have fetched is never replaced,
 * and a second writer with other bytes fails instead of winning.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "outbox.h"
#include "xmalloc.h"

#define RECEIPT_DIR_MODE	0750
#define RECEIPT_FILE_MODE	0640

/* One path component that stays where it is put: not empty, "." or "..",
 * no '/', no control character, at most NAME_MAX bytes. */
static bool receipt_component_ok(const char *s, size_t n)
{
	if (n == 0 || n > NAME_MAX || (n == 1 && s[0] == '.') ||
	    (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '/' || c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

enum reason outbox_relpath(const char *dir, const char *file_name, unsigned n, char **relpath)
{
	if (dir == NULL || file_name == NULL || n == 0 ||
	    !receipt_component_ok(dir, strlen(dir)) ||
	    !receipt_component_ok(file_name, strlen(file_name)))
		return REASON_INTERNAL_ERROR;
	size_t name_len = strlen(file_name);
	if (name_len > 4 && strcmp(file_name + name_len - 4, ".xml") == 0)
		name_len -= 4;
	/* The whole name, cut only where the receipt's own name would
	 * exceed NAME_MAX (exchange-format.md §6). */
	int tail = snprintf(NULL, 0, ".%u" RECEIPT_SUFFIX, n);
	if (name_len + (size_t)tail > NAME_MAX)
		name_len = NAME_MAX - (size_t)tail;
	char *base = xasprintf("%.*s.%u" RECEIPT_SUFFIX, (int)name_len, file_name, n);
	bool ok = receipt_component_ok(base, strlen(base));
	if (ok)
		*relpath = xasprintf("%s/%s", dir, base);
	free(base);
	return ok ? REASON_OK : REASON_INTERNAL_ERROR;
}

static enum reason receipt_errno_reason(int e)
{
	return e == ENOSPC || e == EDQUOT ? REASON_DISK_FULL : REASON_IO_ERROR;
}

/* The receipt already at path: REASON_OK when it holds exactly body. */
static enum reason receipt_same(const char *path, const unsigned char *body, size_t len)
{
	unsigned char *have = NULL;
	size_t have_len = 0;
	struct stat st;
	enum reason r = REASON_IO_ERROR;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return REASON_IO_ERROR;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size != len)
		goto out;
	if (fsutil_read_fd(fd, len, &have, &have_len) != 0)
		goto out;
	if (have_len == len && memcmp(have, body, len) == 0)
		r = REASON_OK;
out:
	free(have);
	close(fd);
	if (r != REASON_OK)
		errno = EEXIST;		/* another receipt holds the name */
	return r;
}

bool outbox_taken(const char *outbox, const char *relpath)
{
	char *path = xasprintf("%s/%s", outbox, relpath);
	struct stat st;
	bool taken = lstat(path, &st) == 0 || errno != ENOENT;
	free(path);
	return taken;
}

enum reason outbox_write(const char *outbox, const char *relpath, const unsigned char *body,
			  size_t len)
{
	const char *slash = relpath ? strchr(relpath, '/') : NULL;
	char *dir = NULL, *path = NULL;
	enum reason r;

	if (outbox == NULL || slash == NULL || body == NULL ||
	    !receipt_component_ok(relpath, (size_t)(slash - relpath)) ||
	    !receipt_component_ok(slash + 1, strlen(slash + 1)))
		return REASON_INTERNAL_ERROR;
	dir = xasprintf("%s/%.*s", outbox, (int)(slash - relpath), relpath);
	path = xasprintf("%s/%s", outbox, relpath);
	/* A new centre's directory is made, durably, on its first receipt;
	 * one that is a symlink (to elsewhere) is refused: ENOTDIR. */
	if (fsutil_write_atomic(dir, slash + 1, body, len, RECEIPT_FILE_MODE, false,
				RECEIPT_DIR_MODE) == 0) {
		r = REASON_OK;
	} else if (errno != EEXIST) {
		r = receipt_errno_reason(errno);
	} else {
		/* Written before a crash that came ahead of the database: done
		 * (fsutil_write_atomic made the name found durable). */
		r = receipt_same(path, body, len);
	}
	free(dir);
	free(path);
	return r;
}
