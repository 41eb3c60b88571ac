/*
 * archive - content-addressed keep and quarantine.  See archive.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "date.h"
#include "fsutil.h"
#include "xmalloc.h"

#define ARCHIVE_DIR_MODE	0750
#define ARCHIVE_FILE_MODE	0440

/* Lower-case hex of md, terminated; by table, not snprintf(3) per byte:
 * a sheet hashes itself and its 20 scans (issue 14). */
static void hex_of(const unsigned char *md, unsigned int len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (unsigned int i = 0; i < len; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 0xf];
	}
	out[2 * len] = '\0';
}

void archive_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL);
	hex_of(md, md_len, out);
}

char *archive_path(const char *root, const char *sha256_hex)
{
	return xasprintf("%s/%.2s/%.2s/%s", root, sha256_hex, sha256_hex + 2, sha256_hex);
}

static bool sha256_hex_valid(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* Hashes a file in chunks; 0 or -1 with errno. */
static int file_sha256_hex(const char *path, char out[65])
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char buf[64 * 1024];
	ssize_t n;
	int rc = -1;
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto out;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(md, buf, (size_t)n);
	if (n == 0) {
		unsigned char digest[EVP_MAX_MD_SIZE];
		unsigned int len = 0;
		EVP_DigestFinal_ex(md, digest, &len);
		hex_of(digest, len, out);
		rc = 0;
	}
out:
	EVP_MD_CTX_free(md);
	close(fd);
	return rc;
}

enum reason archive_check(const char *root, const char *sha256_hex)
{
	if (!sha256_hex_valid(sha256_hex))
		return REASON_INTERNAL_ERROR;
	char *path = archive_path(root, sha256_hex);
	char actual[65];
	enum reason r = REASON_OK;
	if (file_sha256_hex(path, actual) != 0 || strcmp(actual, sha256_hex) != 0)
		r = REASON_IO_ERROR;
	free(path);
	return r;
}

enum archive_state archive_state(const char *root, const char *sha256_hex)
{
	if (!sha256_hex_valid(sha256_hex))
		return ARCHIVE_MISSING;
	char *path = archive_path(root, sha256_hex);
	struct stat sb;
	enum archive_state state = ARCHIVE_OK;
	if (lstat(path, &sb) != 0) {
		state = errno == ENOENT ? ARCHIVE_MISSING : ARCHIVE_UNREADABLE;
	} else if (archive_check(root, sha256_hex) != REASON_OK) {
		/* Present but not those bytes, or not a regular file we may read. */
		state = S_ISREG(sb.st_mode) && access(path, R_OK) == 0 ? ARCHIVE_CORRUPT
								       : ARCHIVE_UNREADABLE;
	}
	free(path);
	return state;
}

int archive_root_readable(const char *root)
{
	return access(root, R_OK | X_OK);
}

bool archive_has(const char *root, const char *sha256_hex)
{
	if (!sha256_hex_valid(sha256_hex))
		return false;
	char *path = archive_path(root, sha256_hex);
	struct stat st;
	bool there = lstat(path, &st) == 0;
	free(path);
	return there;
}

/* archive/ab/cd/.<sha256>.purge: the file set aside while its removal is decided. */
static char *archive_purge_path(const char *root, const char *sha256_hex)
{
	return xasprintf("%s/%.2s/%.2s/.%s.purge", root, sha256_hex, sha256_hex + 2, sha256_hex);
}

enum reason archive_sync(const char *root)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return REASON_IO_ERROR;
	int rc = syncfs(fd);
	close(fd);
	return rc == 0 ? REASON_OK : REASON_IO_ERROR;
}

enum reason archive_remove_begin(const char *root, const char *sha256_hex)
{
	if (!sha256_hex_valid(sha256_hex))
		return REASON_INTERNAL_ERROR;
	char *path = archive_path(root, sha256_hex);
	char *aside = archive_purge_path(root, sha256_hex);
	enum reason r = REASON_OK;
	/* ENOENT: already set aside by an interrupted run, or already gone. */
	if (rename(path, aside) != 0 && errno != ENOENT)
		r = REASON_IO_ERROR;
	free(path);
	free(aside);
	return r;
}

enum reason archive_remove_end(const char *root, const char *sha256_hex, bool keep)
{
	if (!sha256_hex_valid(sha256_hex))
		return REASON_INTERNAL_ERROR;
	char *path = archive_path(root, sha256_hex);
	char *aside = archive_purge_path(root, sha256_hex);
	enum reason r = REASON_OK;
	struct stat st;
	if (keep && lstat(path, &st) != 0) {
		/* Referenced again and not archived anew meanwhile: put it back. */
		if (rename(aside, path) != 0 && errno != ENOENT)
			r = REASON_IO_ERROR;
	} else if (unlink(aside) != 0 && errno != ENOENT) {
		r = REASON_IO_ERROR;
	}
	free(path);
	free(aside);
	return r;
}

/* A name the daemon made (no '/', not "." or ".."), safe to join to a path. */
static bool plain_name(const char *s)
{
	return s[0] != '\0' && strchr(s, '/') == NULL && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

enum reason archive_quarantine_find(const char *quarantine, const char *dir, const char *claim_id,
				    const char *name, const char *sha256_hex, char **file)
{
	*file = NULL;
	if (!plain_name(dir) || !plain_name(claim_id) || strchr(name, '/') != NULL)
		return REASON_IO_ERROR;
	static const char separators[] = { '.', '~' };
	for (size_t i = 0; i < sizeof(separators); i++) {
		/* The spool name it kept: a long name cut (inbox.h). */
		char *base = xasprintf("%s%c%.*s", claim_id, separators[i], INBOX_SPOOL_NAME_MAX,
				       name);
		char *path = xasprintf("%s/%s/%s", quarantine, dir, base);
		struct stat st;
		if (lstat(path, &st) != 0) {
			free(base);
			free(path);
			continue;
		}
		*file = base;
		enum reason r = REASON_OK;
		char actual[65];
		if (sha256_hex[0] && S_ISREG(st.st_mode) &&
		    (file_sha256_hex(path, actual) != 0 || strcmp(actual, sha256_hex) != 0))
			r = REASON_IO_ERROR;
		free(path);
		return r;
	}
	return REASON_IO_ERROR;
}

enum reason archive_quarantine_remove(const char *quarantine, const char *dir, const char *file)
{
	if (!plain_name(dir) || !plain_name(file))
		return REASON_INTERNAL_ERROR;
	char *qdir = xasprintf("%s/%s", quarantine, dir);
	char *path = xasprintf("%s/%s", qdir, file);
	char *reason = xasprintf("%s.reason", path);
	enum reason r = REASON_OK;
	if ((unlink(path) != 0 && errno != ENOENT) || (unlink(reason) != 0 && errno != ENOENT))
		r = REASON_IO_ERROR;
	free(qdir);
	free(path);
	free(reason);
	return r;
}

enum reason archive_put(const char *root, const char *sha256_hex, const void *data, size_t len)
{
	struct archive_blob blob = { .sha256_hex = sha256_hex, .data = data, .len = len };
	return archive_put_all(root, &blob, 1);
}

/* Puts blobs[0..n) (at most FSUTIL_BATCH_MAX, hashes checked) in one batch. */
static enum reason put_batch(const char *root, const struct archive_blob *blobs, size_t n)
{
	struct fsutil_batch *b = fsutil_batch_new(ARCHIVE_DIR_MODE);
	int index[FSUTIL_BATCH_MAX];
	enum reason r = REASON_IO_ERROR;
	for (size_t i = 0; i < n; i++) {
		index[i] = -1;
		/* The same content twice (one scan for two people): put once. */
		bool again = false;
		for (size_t j = 0; j < i && !again; j++)
			again = strcmp(blobs[j].sha256_hex, blobs[i].sha256_hex) == 0;
		if (again)
			continue;
		char *dir = xasprintf("%s/%.2s/%.2s", root, blobs[i].sha256_hex,
				      blobs[i].sha256_hex + 2);
		index[i] = fsutil_batch_add(b, dir, blobs[i].sha256_hex, blobs[i].data, blobs[i].len,
					    ARCHIVE_FILE_MODE);
		free(dir);
		if (index[i] < 0)
			goto out;
	}
	if (fsutil_batch_commit(b) != 0)
		goto out;
	r = REASON_OK;
	/* Already there, from an earlier run or a crash after the link: the
	 * same bytes or a fault, never overwritten. */
	for (size_t i = 0; i < n && r == REASON_OK; i++)
		if (fsutil_batch_taken(b, index[i]))
			r = archive_check(root, blobs[i].sha256_hex);
out:
	fsutil_batch_free(b);
	return r;
}

enum reason archive_put_all(const char *root, const struct archive_blob *blobs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!sha256_hex_valid(blobs[i].sha256_hex))
			return REASON_INTERNAL_ERROR;
	enum reason r = REASON_OK;
	for (size_t done = 0; done < n && r == REASON_OK; done += FSUTIL_BATCH_MAX)
		r = put_batch(root, blobs + done, n - done < FSUTIL_BATCH_MAX ? n - done
									  : FSUTIL_BATCH_MAX);
	return r;
}

enum reason archive_quarantine(const char *quarantine, const struct inbox_claim *claim,
			       enum reason why, const char *detail, const char *zone)
{
	/* Read by people: the prefecture's local time with its offset, as the
	 * receipts give it, not Unix seconds (issue 18 §4). */
	char received[26];
	if (!date_format_local_datetime(claim->received.tv_sec, zone, received))
		snprintf(received, sizeof(received), "%lld", (long long)claim->received.tv_sec);
	char *dir = xasprintf("%s/%s", quarantine, claim->dir);
	const char *base = strrchr(claim->spool_path, '/');
	base = base ? base + 1 : claim->spool_path;
	char *dst = xasprintf("%s/%s", dir, base);
	char *reason_name = xasprintf("%s.reason", base);
	char *text = xasprintf("file: %s\ninbox: %s\nreceived: %s\nreason: %s\nmessage: %s\n",
			       claim->name, claim->dir, received,
			       reason_code(why), detail ? detail : reason_text(why));
	enum reason r = REASON_IO_ERROR;
	/* The reason first: a quarantined file never lacks its explanation. */
	if (fsutil_write_atomic(dir, reason_name, text, strlen(text), 0640, true,
				ARCHIVE_DIR_MODE) != 0)
		goto out;
	if (rename(claim->spool_path, dst) != 0) {
		/* Already moved by an earlier, interrupted run. */
		struct stat st;
		if (!(errno == ENOENT && lstat(dst, &st) == 0))
			goto out;
	}
	if (fsutil_sync_dir(dir) != 0)
		goto out;
	char *spool_dir = xstrndup(claim->spool_path, (size_t)(base - 1 - claim->spool_path));
	int rc = fsutil_sync_dir(spool_dir);
	free(spool_dir);
	if (rc == 0)
		r = REASON_OK;
out:
	free(dir);
	free(dst);
	free(reason_name);
	free(text);
	return r;
}

/* Lists a directory's entries that are not dot-names into fn. */
static int list_dir(const char *path, void (*fn)(const char *parent, const char *name, void *ctx),
		    void *ctx)
{
	DIR *d = opendir(path);
	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			fn(path, e->d_name, ctx);
	closedir(d);
	return 0;
}

/* The mtime of path in seconds, or -1. */
static long long mtime_of(int dirfd, const char *name)
{
	struct stat sb;
	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(sb.st_mode))
		return -1;
	return (long long)sb.st_mtim.tv_sec;
}

static int strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory's names that are not dot-names, sorted by strcmp; NULL and
 * *n 0 when it is gone.  Returns -1 when it cannot be read. */
static int sorted_names(const char *path, char ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	DIR *d = opendir(path);
	if (d == NULL)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	size_t cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 32;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		(*out)[(*n)++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), strcmp_ptr);
	return 0;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* A name of the archive's top or middle level: two lower-case hex digits. */
static bool hex_pair(const char *name)
{
	return strlen(name) == 2 && strspn(name, "0123456789abcdef") == 2;
}

int archive_list(const char *root, long long since,
		 void (*fn)(const char *sha256_hex, bool in_place, void *ctx),
		 void (*tick)(size_t done, size_t total, void *ctx), void *ctx,
		 size_t *dirs, size_t *read)
{
	int rc = 0;
	*dirs = *read = 0;
	char **tops = NULL;
	size_t n_tops = 0, n_hex = 0, done = 0;
	if (sorted_names(root, &tops, &n_tops) != 0)
		return -1;
	for (size_t t = 0; t < n_tops; t++)
		n_hex += hex_pair(tops[t]);
	for (size_t t = 0; t < n_tops; t++) {
		if (!hex_pair(tops[t]))
			continue;
		char *mid = xasprintf("%s/%s", root, tops[t]);
		char **mids = NULL;
		size_t n_mids = 0;
		if (sorted_names(mid, &mids, &n_mids) != 0)
			rc = -1;
		DIR *md = n_mids ? opendir(mid) : NULL;
		if (n_mids && md == NULL && errno != ENOENT)
			rc = -1;
		for (size_t m = 0; md != NULL && m < n_mids; m++) {
			if (!hex_pair(mids[m]))
				continue;
			long long mt = mtime_of(dirfd(md), mids[m]);
			if (mt < 0)
				continue;
			(*dirs)++;
			if (mt < since)
				continue;
			(*read)++;
			char *leaf = xasprintf("%s/%s", mid, mids[m]);
			char **files = NULL;
			size_t n_files = 0;
			if (sorted_names(leaf, &files, &n_files) != 0)
				rc = -1;
			for (size_t f = 0; f < n_files; f++) {
				/* Skips temporary files of interrupted writes and
				 * files renamed aside by the purge. */
				if (!sha256_hex_valid(files[f]))
					continue;
				bool in_place = memcmp(files[f], tops[t], 2) == 0 &&
						memcmp(files[f] + 2, mids[m], 2) == 0;
				fn(files[f], in_place, ctx);
			}
			free_names(files, n_files);
			free(leaf);
		}
		if (md != NULL)
			closedir(md);
		free_names(mids, n_mids);
		free(mid);
		if (tick != NULL)
			tick(++done, n_hex, ctx);
	}
	free_names(tops, n_tops);
	return rc;
}

struct quarantine_walk {
	void (*fn)(const char *dir, const char *file, void *ctx);
	void *ctx;
	const char *dir;
	long long since;
	int rc;
};

static void quarantine_file(const char *parent, const char *name, void *ctx)
{
	(void)parent;
	struct quarantine_walk *w = ctx;
	size_t n = strlen(name);
	if (n > 7 && strcmp(name + n - 7, ".reason") == 0)
		return;
	w->fn(w->dir, name, w->ctx);
}

static void quarantine_dir(const char *parent, const char *name, void *ctx)
{
	struct quarantine_walk *w = ctx;
	char *path = xasprintf("%s/%s", parent, name);
	struct stat sb;
	if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode) && (long long)sb.st_mtim.tv_sec >= w->since) {
		w->dir = name;
		if (list_dir(path, quarantine_file, w) != 0)
			w->rc = -1;
	}
	free(path);
}

int archive_quarantine_list(const char *quarantine, long long since,
			    void (*fn)(const char *dir, const char *file, void *ctx), void *ctx)
{
	struct quarantine_walk w = { .fn = fn, .ctx = ctx, .since = since };
	if (list_dir(quarantine, quarantine_dir, &w) != 0)
		return -1;
	return w.rc;
}

/* The console's read: the hash is checked first (never a path from a
 * request), then the bytes read are hashed again, so a corrupt file is
 * never served as the evidence it should be. */
enum archive_state archive_read(const char *root, const char *sha256_hex, size_t max,
				unsigned char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	if (!sha256_hex_valid(sha256_hex))
		return ARCHIVE_MISSING;
	char *path = archive_path(root, sha256_hex);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return errno == ENOENT ? ARCHIVE_MISSING : ARCHIVE_UNREADABLE;
	enum archive_state state = ARCHIVE_UNREADABLE;
	struct stat st;
	unsigned char *buf = NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max)
		goto out;
	buf = xmalloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		got += (size_t)n;
	}
	char hex[65];
	archive_sha256_hex(buf, got, hex);
	if (strcmp(hex, sha256_hex) != 0) {
		state = ARCHIVE_CORRUPT;
		goto out;
	}
	*out = buf;
	*len = got;
	buf = NULL;
	state = ARCHIVE_OK;
out:
	free(buf);
	close(fd);
	return state;
}
