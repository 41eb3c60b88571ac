/*
 * outbox - where a receipt goes and how it gets there:
 * outbox/<dir>/<name>.<n>.receipt.xml (exchange-format.md §6), written
 * atomically and never over an earlier receipt.  The store records the
 * relative path; building the bytes is parsers/receipt.h's, included here
 * so that daemon code needs one header for the module.
 */
#ifndef ATTESTD_OUTBOX_H
#define ATTESTD_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "../parsers/receipt.h"
#include "reason.h"

#define RECEIPT_SUFFIX ".receipt.xml"

/*
 * "<dir>/<name>.<n>.receipt.xml" in *relpath (malloc'd), where name is
 * file_name without a trailing ".xml".  REASON_INTERNAL_ERROR, nothing
 * allocated, when n is 0 or a component would be empty, "." or "..", hold
 * a '/' or a control character, or exceed NAME_MAX: the names come from an
 * inbox claim, which never gives such, and a path must never leave the
 * outbox.
 */
enum reason outbox_relpath(const char *dir, const char *file_name, unsigned n, char **relpath);

/*
 * True when outbox/<relpath> exists: a receipt no database row names any
 * more (its submission purged after three years) keeps its name, and the
 * numbering goes past it.
 */
bool outbox_taken(const char *outbox, const char *relpath);

/*
 * Writes body to outbox/<relpath> (relpath as outbox_relpath() makes it):
 * creates outbox/<dir> (0750) when missing (not through a symlink), then
 * unnamed file, fsync, link, directory fsync, mode 0640.  A file already there with the same
 * bytes is success (a crash after writing, before the database noted it);
 * with other bytes REASON_IO_ERROR and nothing is overwritten.
 * REASON_DISK_FULL when the file system is full, REASON_IO_ERROR for other
 * faults (errno says which), REASON_INTERNAL_ERROR for a bad relpath.
 */
enum reason outbox_write(const char *outbox, const char *relpath, const unsigned char *body,
			  size_t len);

#endif
