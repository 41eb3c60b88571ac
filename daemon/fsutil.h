/*
 * fsutil - the durable-write primitives the file-system modules (inbox,
 * archive, receipt) share: write to a temporary name, fsync, rename,
 * fsync the directory, so that a crash leaves either nothing or the whole
 * file, never a partial one.  A batch owns its open files and directories
 * until fsutil_batch_free().
 */
#ifndef ATTESTD_FSUTIL_H
#define ATTESTD_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* fsync(2) of a directory, so that a rename or unlink in it is durable. */
int fsutil_sync_dir(const char *dir);

/*
 * mkdir -p with the given mode; 0 or -1 with errno (ENOTDIR when path or
 * a parent is not a directory).  Each directory it creates is made durable
 * (its parent fsynced); one that exists costs a mkdir(2) and a stat(2).
 */
int fsutil_mkdirs(const char *path, mode_t mode);

/*
 * Writes data to dir/name atomically: an unnamed file (O_TMPFILE; where
 * the file system has none, dir/.name.tmp.PID), fsync, then rename
 * (replace=false: link(2), so an existing file is never overwritten and
 * EEXIST is returned), then fsync the directory (also when EEXIST: the
 * name found is durable on return).  A process killed on the way leaves
 * no temporary file where O_TMPFILE works.  dir's last component must not
 * be a symlink (ENOTDIR).  dir_mode not 0: dir is created (fsutil_mkdirs)
 * when missing.
 * 0 or -1 with errno.
 */
int fsutil_write_atomic(const char *dir, const char *name, const void *data, size_t len,
			mode_t mode, bool replace, mode_t dir_mode);

/*
 * fsutil_write_atomic(replace=false) for many files at once, durable
 * together: add writes each file unnamed; commit fsyncs every file, links
 * each to its name (never over an existing one), then fsyncs each distinct
 * directory once, instead of file and directory one after the other.
 * Until commit returns nothing has a name; what a failed commit left
 * unnamed vanishes with fsutil_batch_free().
 */
#define FSUTIL_BATCH_MAX 32
struct fsutil_batch;

/* dir_mode as for fsutil_write_atomic (0: directories must exist). */
struct fsutil_batch *fsutil_batch_new(mode_t dir_mode);
/* Frees, closes, removes what was not named; accepts NULL. */
void fsutil_batch_free(struct fsutil_batch *b);
/*
 * Writes data (borrowed until fsutil_batch_commit() returns) for dir/name.
 * The item's index, or -1 with errno (E2BIG: FSUTIL_BATCH_MAX items).
 */
int fsutil_batch_add(struct fsutil_batch *b, const char *dir, const char *name, const void *data,
		     size_t len, mode_t mode);
/* 0 once every item has its name, durable; -1 with errno at the first fault. */
int fsutil_batch_commit(struct fsutil_batch *b);
/* After a commit: true when item i found its name taken (EEXIST): its
 * data was not written there, the file that holds the name is left as is. */
bool fsutil_batch_taken(const struct fsutil_batch *b, int i);

/* Reads at most max bytes of an open file; -1 with errno EFBIG when larger. */
int fsutil_read_fd(int fd, size_t max, unsigned char **data, size_t *len);

#endif
