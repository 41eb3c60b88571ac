/*
 * fsutil - the durable-write primitives the file-system modules (inbox,
 * archive, receipt) share: write to a temporary name, fsync, rename,
 * fsync the directory, so that a crash leaves either nothing or the whole
 * file, never a partial one.
 */
#ifndef ATTESTD_FSUTIL_H
#define ATTESTD_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* fsync(2) of a directory, so that a rename or unlink in it is durable. */
int fsutil_sync_dir(const char *dir);

/* mkdir -p with the given mode; 0 or -1 with errno. */
int fsutil_mkdirs(const char *path, mode_t mode);

/*
 * Writes data to dir/name atomically: an unnamed file (O_TMPFILE; where
 * the file system has none, dir/.name.tmp.PID), fsync, then rename
 * (replace=false: link(2), so an existing file is never overwritten and
 * EEXIST is returned), then fsync the directory.  A process killed on the
 * way leaves no temporary file where O_TMPFILE works.
 * 0 or -1 with errno.
 */
int fsutil_write_atomic(const char *dir, const char *name, const void *data, size_t len,
			mode_t mode, bool replace);

/* Reads at most max bytes of an open file; -1 with errno EFBIG when larger. */
int fsutil_read_fd(int fd, size_t max, unsigned char **data, size_t *len);

#endif
