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

/* Re-hashes the archived file: REASON_OK when it is there and matches. */
enum reason archive_check(const char *root, const char *sha256_hex);

/* What an auditor's re-hash finds of one archived file. */
enum archive_state { ARCHIVE_OK, ARCHIVE_MISSING, ARCHIVE_CORRUPT, ARCHIVE_UNREADABLE };
enum archive_state archive_state(const char *root, const char *sha256_hex);
/* 0 when the archive root can be read, else -1 with errno. */
int archive_root_readable(const char *root);

/*
 * Moves a claimed file from the spool into quarantine/<dir>/, beside a
 * <name>.reason text (code, message, reception time), both durable.
 * The file is moved as it is (a symlink stays a link, never followed).
 */
enum reason archive_quarantine(const char *quarantine, const struct inbox_claim *claim,
			       enum reason why, const char *detail);

/* Calls fn for every file of the archive (its name, a SHA-256), in no
 * particular order; temporary files of interrupted writes are skipped. */
int archive_list(const char *root, void (*fn)(const char *sha256_hex, void *ctx), void *ctx);

/* Calls fn for every quarantined original (not its .reason): the inbox
 * directory and the file's name there (<claim id>.<name>). */
int archive_quarantine_list(const char *quarantine,
			    void (*fn)(const char *dir, const char *file, void *ctx), void *ctx);

#endif
