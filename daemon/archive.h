/*
 * archive - the three-year keep of originals and identity scans, content
 * addressed (archive/ab/cd/<sha256>), and the quarantine of rejected
 * originals (quarantine/<dir>/<claim>.<name> with a .reason file beside).
 * Writes are durable (temporary name, fsync, rename, directory fsync) and
 * idempotent: putting the same content twice is a no-op, so a crash between
 * commit and archive is mended by doing it again.
 */
#ifndef ATTESTD_ARCHIVE_H
#define ATTESTD_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "inbox.h"
#include "reason.h"

/* SHA-256 of data as 64 lower-case hex digits. */
void archive_sha256_hex(const void *data, size_t len, char out[65]);

/* archive/ab/cd/<sha256>, newly allocated. */
char *archive_path(const char *root, const char *sha256_hex);

/*
 * Stores data under its hash (which the caller computed).  An existing file
 * of that name is re-hashed: same content, REASON_OK; different content
 * (corruption), REASON_IO_ERROR and nothing is overwritten.
 */
enum reason archive_put(const char *root, const char *sha256_hex, const void *data, size_t len);

/* One file for archive_put_all(): its hash (computed by the caller) and
 * bytes, both borrowed. */
struct archive_blob {
	const char *sha256_hex;
	const void *data;
	size_t len;
};

/*
 * archive_put() of n files, made durable together (a sign-in sheet's
 * scans): each written and fsynced, then named, then each directory
 * fsynced once.  REASON_OK when every one is there with its content.
 */
enum reason archive_put_all(const char *root, const struct archive_blob *blobs, size_t n);

/* Re-hashes the archived file: REASON_OK when it is there and matches. */
enum reason archive_check(const char *root, const char *sha256_hex);

/* What an auditor's re-hash finds of one archived file. */
enum archive_state { ARCHIVE_OK, ARCHIVE_MISSING, ARCHIVE_CORRUPT, ARCHIVE_UNREADABLE };
enum archive_state archive_state(const char *root, const char *sha256_hex);
/* 0 when the archive root can be read, else -1 with errno. */
int archive_root_readable(const char *root);

/* The file of that hash, whole, when it is a regular file of at most max
 * bytes whose content has that hash (*out allocated, the caller frees it). */
enum archive_state archive_read(const char *root, const char *sha256_hex, size_t max,
				unsigned char **out, size_t *len);

/*
 * Moves a claimed file from the spool into quarantine/<dir>/, beside a
 * <name>.reason text (code, message, reception time as ISO 8601 local time
 * of ZONE with its offset), both durable.
 * The file is moved as it is (a symlink stays a link, never followed).
 */
enum reason archive_quarantine(const char *quarantine, const struct inbox_claim *claim,
			       enum reason why, const char *detail, const char *zone);

/* True when the archive holds a file of that name (whatever its content). */
bool archive_has(const char *root, const char *sha256_hex);

/*
 * Removing an archived file whose rows were purged, in two steps so that a
 * concurrent archive_put() of the same content (a new row that shares it,
 * committed just now) never loses it: begin renames the file aside
 * (.<sha256>.purge, which archive_list() skips and archive_put() does not
 * see); the caller then asks the database whether a row references the
 * hash again, and end either deletes the set-aside file or puts it back.
 * Both are idempotent (a crash between them is finished by doing them
 * again) and a file already gone is not an error.  Neither waits for the
 * disk: archive_sync() makes a whole batch of removals durable at once.
 */
enum reason archive_remove_begin(const char *root, const char *sha256_hex);
enum reason archive_remove_end(const char *root, const char *sha256_hex, bool keep);

/* Makes every change under root durable (syncfs(2)): one call for a batch
 * of removals rather than a directory fsync per file. */
enum reason archive_sync(const char *root);

/*
 * The quarantined original of a rejected claim, quarantine/<dir>/<claim
 * id>.<name> (or ~<name> for a name that was not valid).  REASON_OK with
 * *file (allocated, the name in <dir>) when it is there and, when
 * sha256_hex is not empty and the file is a regular one, its content has
 * that hash; REASON_IO_ERROR otherwise, *file NULL when it is missing.
 */
enum reason archive_quarantine_find(const char *quarantine, const char *dir, const char *claim_id,
				    const char *name, const char *sha256_hex, char **file);

/* Removes a quarantined original and its .reason (either may be gone);
 * archive_sync(quarantine) makes it durable. */
enum reason archive_quarantine_remove(const char *quarantine, const char *dir, const char *file);

/*
 * Calls fn for every file of the archive (its name, a SHA-256) in the
 * directories (ab/cd) changed since since (their mtime; 0: all), in byte
 * (strcmp) order, so that a full comparison can merge it with the
 * database's sorted hashes; temporary files of interrupted writes are
 * skipped.  in_place is false for a file outside the directory its name
 * gives (no look-up finds it there).  *dirs counts the directories looked
 * at, *read those listed.  A file added or removed changes its directory's
 * mtime, so the files touched since a clean state are found by a stat per
 * directory, not a listing of the whole archive.  tick, when not NULL, is
 * called after each of the root's directories (ab/) with how many are done
 * of how many: a whole archive on a slow disk is minutes of listing, and a
 * watchdog wants to hear from it.
 */
int archive_list(const char *root, long long since,
		 void (*fn)(const char *sha256_hex, bool in_place, void *ctx),
		 void (*tick)(size_t done, size_t total, void *ctx), void *ctx,
		 size_t *dirs, size_t *read);

/* The same of the quarantine's directories (one per inbox directory): every
 * quarantined original (not its .reason) of a directory changed since
 * since: the inbox directory and the file's name there (<claim id>.<name>). */
int archive_quarantine_list(const char *quarantine, long long since,
			    void (*fn)(const char *dir, const char *file, void *ctx), void *ctx);

#endif
