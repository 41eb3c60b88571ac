/*
 * test_archive - content-addressed puts (durable, idempotent, never
 * overwriting other content), checks, and quarantine with its reason file.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "xmalloc.h"
#include "each_row.h"

static char root[64];

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/attestd-archive.XXXXXX");
	cr_assert_not_null(mkdtemp(root));
}

static void teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", root);
	cr_expect_eq(system(cmd), 0);
	free(cmd);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	char *buf = xcalloc(1, 4096);
	size_t n = fread(buf, 1, 4095, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

Test(archive, sha256_of_known_text)
{
	char hex[65];
	archive_sha256_hex("abc", 3, hex);
	cr_expect_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

Test(archive, put_is_content_addressed_and_idempotent, .init = setup, .fini = teardown)
{
	const char *data = "<attestations/>";
	char hex[65];
	archive_sha256_hex(data, strlen(data), hex);
	cr_assert_eq(archive_put(root, hex, data, strlen(data)), REASON_OK);
	char *path = archive_path(root, hex);
	char *expected = xasprintf("%s/%.2s/%.2s/%s", root, hex, hex + 2, hex);
	cr_expect_str_eq(path, expected);
	char *content = slurp(path);
	cr_expect_str_eq(content, data);
	cr_expect_eq(archive_check(root, hex), REASON_OK);
	/* Again: a no-op. */
	cr_expect_eq(archive_put(root, hex, data, strlen(data)), REASON_OK);
	free(content);
	free(expected);
	free(path);
}

Test(archive, corrupted_file_is_detected_and_not_overwritten, .init = setup, .fini = teardown)
{
	const char *data = "original";
	char hex[65];
	archive_sha256_hex(data, strlen(data), hex);
	cr_assert_eq(archive_put(root, hex, data, strlen(data)), REASON_OK);
	char *path = archive_path(root, hex);
	cr_assert_eq(chmod(path, 0640), 0);
	FILE *f = fopen(path, "w");
	fputs("tampered", f);
	fclose(f);
	cr_expect_eq(archive_check(root, hex), REASON_IO_ERROR);
	cr_expect_eq(archive_put(root, hex, data, strlen(data)), REASON_IO_ERROR);
	char *content = slurp(path);
	cr_expect_str_eq(content, "tampered", "evidence of tampering is left for an operator");
	free(content);
	free(path);
}

/* A sheet's scans in one call: more than a batch, one of them twice, one
 * archived already (same bytes), one that a file of other bytes holds. */
struct put_all_row {
	char already[8];	/* "", "same": blob 3 archived before; "other": its name holds other bytes */
	enum reason expect;
};

/* One case of archive::put_all (issue 12: the cases share one process). */
static void archive_put_all_case(struct put_all_row *row)
{
	enum { N = 70 };
	static char text[N][16];
	static char hex[N][65];
	struct archive_blob blobs[N];
	for (int i = 0; i < N; i++) {
		/* Blobs 7 (same batch) and 40 (the next) have the bytes of blob 5. */
		snprintf(text[i], sizeof(text[i]), "scan %d", i == 7 || i == 40 ? 5 : i);
		archive_sha256_hex(text[i], strlen(text[i]), hex[i]);
		blobs[i] = (struct archive_blob){ hex[i], text[i], strlen(text[i]) };
	}
	if (strcmp(row->already, "same") == 0) {
		cr_assert_eq(archive_put(root, hex[3], text[3], strlen(text[3])), REASON_OK,
			     "'%s': put", row->already);
	} else if (strcmp(row->already, "other") == 0) {
		cr_assert_eq(archive_put(root, hex[3], "other", 5), REASON_OK, "'%s': put",
			     row->already);
	}
	cr_expect_eq(archive_put_all(root, blobs, N), row->expect, "%s", row->already);
	for (int i = 0; i < N; i++) {
		char *path = archive_path(root, hex[i]);
		char *content = slurp(path);
		const char *want = i == 3 && strcmp(row->already, "other") == 0 ? "other" : text[i];
		/* The batch that met other bytes stops there; the next ones wait. */
		if (row->expect == REASON_OK || i < 32) {
			cr_expect_str_eq(content, want, "'%s': blob %d", row->already, i);
			struct stat st;
			cr_assert_eq(stat(path, &st), 0, "'%s': blob %d", row->already, i);
			cr_expect_eq(st.st_mode & 0777, 0440u, "'%s': blob %d", row->already, i);
		}
		free(content);
		free(path);
	}
	/* No temporary file anywhere in the tree. */
	char *cmd = xasprintf("test -z \"$(find '%s' -name '.*' -type f)\"", root);
	cr_expect_eq(system(cmd), 0, "'%s': temporary files left", row->already);

	free(cmd);
}

Test(archive, put_all, .init = setup, .fini = teardown)
{
	static struct put_all_row rows[] = {
		{ "", REASON_OK },
		{ "same", REASON_OK },
		{ "other", REASON_IO_ERROR },
	};
	EACH_ROW_FRESH(sizeof(rows) / sizeof(rows[0]), teardown, setup, archive_put_all_case, rows);
}

Test(archive, put_all_refuses_a_bad_hash_before_writing, .init = setup, .fini = teardown)
{
	char hex[65];
	archive_sha256_hex("a", 1, hex);
	struct archive_blob blobs[] = { { hex, "a", 1 }, { "not-a-hash", "b", 1 } };
	cr_expect_eq(archive_put_all(root, blobs, 2), REASON_INTERNAL_ERROR);
	cr_expect(!archive_has(root, hex));
	cr_expect_eq(archive_put_all(root, blobs, 0), REASON_OK);
}

Test(archive, check_of_missing_file, .init = setup, .fini = teardown)
{
	char hex[65];
	archive_sha256_hex("x", 1, hex);
	cr_expect_eq(archive_check(root, hex), REASON_IO_ERROR);
	cr_expect_eq(archive_check(root, "not-a-hash"), REASON_INTERNAL_ERROR);
}

Test(archive, quarantine_moves_file_with_reason, .init = setup, .fini = teardown)
{
	char *spool_dir = xasprintf("%s/spool/R2402800010", root);
	char *cmd = xasprintf("mkdir -p '%s'", spool_dir);
	cr_assert_eq(system(cmd), 0);
	char *spooled = xasprintf("%s/00000000001.000000001-abcdef01.x.xml", spool_dir);
	int fd = open(spooled, O_CREAT | O_WRONLY, 0640);
	cr_assert_geq(fd, 0);
	close(fd);
	struct inbox_claim c = { .dir = "R2402800010", .name = "x.xml",
				 .claim_id = "00000000001.000000001-abcdef01",
				 .received = { .tv_sec = 1763283600 } };
	c.spool_path = spooled;
	char *q = xasprintf("%s/quarantine", root);
	cr_assert_eq(archive_quarantine(q, &c, REASON_NOT_WELL_FORMED, "line 3: unexpected end",
				       "Europe/Paris"), REASON_OK);
	char *moved = xasprintf("%s/R2402800010/00000000001.000000001-abcdef01.x.xml", q);
	struct stat st;
	cr_expect_eq(lstat(moved, &st), 0);
	cr_expect_neq(lstat(spooled, &st), 0);
	char *rpath = xasprintf("%s.reason", moved);
	char *text = slurp(rpath);
	cr_assert_not_null(text);
	cr_expect(strstr(text, "reason: not_well_formed\n") != NULL, "%s", text);
	cr_expect(strstr(text, "message: line 3: unexpected end\n") != NULL, "%s", text);
	/* Reception time for people: ISO 8601, local time with its offset. */
	cr_expect(strstr(text, "received: 2025-11-16T10:00:00+01:00\n") != NULL, "%s", text);
	/* Done again after a crash: still fine. */
	cr_expect_eq(archive_quarantine(q, &c, REASON_NOT_WELL_FORMED, NULL, "Europe/Paris"), REASON_OK);
	free(text);
	free(rpath);
	free(moved);
	free(q);
	free(spooled);
	free(cmd);
	free(spool_dir);
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static char *aside_path(const char *hex)
{
	return xasprintf("%s/%.2s/%.2s/.%s.purge", root, hex, hex + 2, hex);
}

/* How a removal ends: keep (referenced again) or not, and whether the
 * content was archived anew between the two steps. */
struct removal_row {
	bool keep;
	bool put_between;
	bool archived_after;
};

/* One case of archive::removal (issue 12: the cases share one process). */
static void archive_removal_case(struct removal_row *row)
{
	const char *data = "scan";
	char name[48];	/* the row, in every message */
	snprintf(name, sizeof(name), "keep %d, put between %d", row->keep, row->put_between);
	char hex[65];
	archive_sha256_hex(data, strlen(data), hex);
	cr_assert_eq(archive_put(root, hex, data, strlen(data)), REASON_OK, "%s: put", name);
	char *path = archive_path(root, hex);
	char *aside = aside_path(hex);
	cr_assert_eq(archive_remove_begin(root, hex), REASON_OK, "%s: remove_begin", name);
	cr_expect(!exists(path), "%s: set aside: not under its name", name);
	cr_expect(exists(aside), "%s: not aside", name);
	cr_expect(!archive_has(root, hex), "%s: still archived", name);
	if (row->put_between)
		cr_assert_eq(archive_put(root, hex, data, strlen(data)), REASON_OK, "%s: put again",
			     name);
	cr_assert_eq(archive_remove_end(root, hex, row->keep), REASON_OK, "%s: remove_end", name);
	cr_expect_eq(exists(path), row->archived_after, "%s: archived after", name);
	cr_expect(!exists(aside), "%s: nothing left aside", name);
	if (row->archived_after)
		cr_expect_eq(archive_check(root, hex), REASON_OK, "%s: check", name);
	cr_expect_eq(archive_sync(root), REASON_OK, "%s: sync", name);

	free(aside);
	free(path);
}

Test(archive, removal, .init = setup, .fini = teardown)
{
	static struct removal_row rows[] = {
		{ false, false, false },	/* unreferenced: gone */
		{ true, false, true },		/* referenced again: put back */
		{ true, true, true },		/* archived anew meanwhile: that copy stays */
		{ false, true, true },		/* a new copy is never removed by end */
	};
	EACH_ROW_FRESH(sizeof(rows) / sizeof(rows[0]), teardown, setup, archive_removal_case, rows);
}

Test(archive, removal_steps_are_idempotent, .init = setup, .fini = teardown)
{
	const char *data = "original";
	char hex[65];
	archive_sha256_hex(data, strlen(data), hex);
	cr_assert_eq(archive_put(root, hex, data, strlen(data)), REASON_OK);
	/* Interrupted after begin, run again; then a file already gone. */
	cr_expect_eq(archive_remove_begin(root, hex), REASON_OK);
	cr_expect_eq(archive_remove_begin(root, hex), REASON_OK);
	cr_expect_eq(archive_remove_end(root, hex, false), REASON_OK);
	cr_expect_eq(archive_remove_end(root, hex, false), REASON_OK);
	cr_expect_eq(archive_remove_begin(root, hex), REASON_OK);
	cr_expect_eq(archive_remove_end(root, hex, true), REASON_OK);
	cr_expect(!archive_has(root, hex));
	cr_expect_eq(archive_remove_begin(root, "../../etc"), REASON_INTERNAL_ERROR);
}

struct quarantine_row {
	char stored[64];	/* the name in quarantine/R2402800010/ ("" none) */
	char content[16];
	char sha_of[16];	/* the recorded hash is of this text ("" never read) */
	enum reason want;
	bool found;
};

/* One case of archive::quarantine_find (issue 12: the cases share one process). */
static void archive_quarantine_find_case(struct quarantine_row *row)
{
	char *dir = xasprintf("%s/R2402800010", root);
	cr_assert_eq(mkdir(dir, 0750), 0, "'%s': mkdir", row->stored);
	if (row->stored[0]) {
		char *p = xasprintf("%s/%s", dir, row->stored);
		FILE *f = fopen(p, "w");
		fputs(row->content, f);
		fclose(f);
		free(p);
	}
	char hex[65] = "";
	if (row->sha_of[0])
		archive_sha256_hex(row->sha_of, strlen(row->sha_of), hex);
	char *file = NULL;
	cr_expect_eq(archive_quarantine_find(root, "R2402800010", "00000000001.000000001-abcdef01",
					     "x.xml", hex, &file), row->want,
		     "'%s' holding '%s' (hash of '%s')", row->stored, row->content, row->sha_of);
	cr_expect_eq(file != NULL, row->found, "'%s' holding '%s' (hash of '%s'): found",
		     row->stored, row->content, row->sha_of);
	if (row->found)
		cr_expect_str_eq(file, row->stored, "'%s' holding '%s' (hash of '%s'): %s",
				 row->stored, row->content, row->sha_of, file);

	free(file);
	free(dir);
}

Test(archive, quarantine_find, .init = setup, .fini = teardown)
{
	static struct quarantine_row rows[] = {
		{ "00000000001.000000001-abcdef01.x.xml", "bytes", "bytes", REASON_OK, true },
		{ "00000000001.000000001-abcdef01~x.xml", "bytes", "bytes", REASON_OK, true },
		{ "00000000001.000000001-abcdef01.x.xml", "bytes", "", REASON_OK, true },
		{ "00000000001.000000001-abcdef01.x.xml", "changed", "bytes", REASON_IO_ERROR, true },
		{ "", "", "bytes", REASON_IO_ERROR, false },
		{ "00000000002.000000001-abcdef01.x.xml", "bytes", "bytes", REASON_IO_ERROR, false },
	};
	EACH_ROW_FRESH(sizeof(rows) / sizeof(rows[0]), teardown, setup, archive_quarantine_find_case, rows);
}

Test(archive, quarantine_remove_takes_the_reason_too, .init = setup, .fini = teardown)
{
	char *dir = xasprintf("%s/R2402800010", root);
	cr_assert_eq(mkdir(dir, 0750), 0);
	char *f = xasprintf("%s/c.x.xml", dir);
	char *r = xasprintf("%s/c.x.xml.reason", dir);
	char *other = xasprintf("%s/d.x.xml", dir);
	FILE *h = fopen(f, "w");
	fclose(h);
	h = fopen(r, "w");
	fclose(h);
	h = fopen(other, "w");
	fclose(h);
	cr_expect_eq(archive_quarantine_remove(root, "R2402800010", "c.x.xml"), REASON_OK);
	cr_expect(!exists(f));
	cr_expect(!exists(r));
	cr_expect(exists(other), "other files stay");
	cr_expect_eq(archive_quarantine_remove(root, "R2402800010", "c.x.xml"), REASON_OK,
		     "already gone: fine");
	cr_expect_eq(archive_quarantine_remove(root, "..", "etc"), REASON_INTERNAL_ERROR);
	cr_expect_eq(archive_quarantine_remove(root, "R2402800010", "../x"), REASON_INTERNAL_ERROR);
	free(f);
	free(r);
	free(other);
	free(dir);
}

struct listed {
	char names[64][65];
	bool in_place[64];
	size_t n;
	size_t ticks;			/* calls of list_tick */
	size_t tick_total;		/* the total they said */
	bool ticks_counted;		/* each said done = ticks so far, and one total */
};

static void list_into(const char *sha256_hex, bool in_place, void *ctx)
{
	struct listed *l = ctx;
	cr_assert_lt(l->n, 64);
	snprintf(l->names[l->n], sizeof(l->names[l->n]), "%s", sha256_hex);
	l->in_place[l->n++] = in_place;
}

static void list_tick(size_t done, size_t total, void *ctx)
{
	struct listed *l = ctx;
	if (l->ticks == 0)
		l->tick_total = total;
	l->ticks_counted &= done == l->ticks + 1 && total == l->tick_total;
	l->ticks++;
}

/* The full comparison merges this listing with the database's sorted
 * hashes: it must come in strcmp order whatever the directories' order on
 * disk, skip what is not an archived file, and tell a file outside the
 * directory its name gives (which archive_has does not find). */
Test(archive, list_is_sorted_and_tells_misplaced_files, .init = setup, .fini = teardown)
{
	char hex[40][65];
	for (int i = 0; i < 40; i++) {
		char text[16];
		int len = snprintf(text, sizeof(text), "blob %d", i);
		archive_sha256_hex(text, (size_t)len, hex[i]);
		cr_assert_eq(archive_put(root, hex[i], text, (size_t)len), REASON_OK);
	}
	/* A copy of hex[0] where its name does not lead, a temporary file of
	 * an interrupted write, a purge's set-aside file, a stray name. */
	char wrong[3] = { hex[0][0] == 'f' ? '0' : 'f', hex[0][1], '\0' };
	char *dir = xasprintf("%s/%s/%.2s", root, wrong, hex[0] + 2);
	char *cmd = xasprintf("mkdir -p '%s' && cp '%s/%.2s/%.2s/%s' '%s/' && touch '%s/.tmp.x'"
			      " '%s/.%s.purge' '%s/README'", dir, root, hex[0], hex[0] + 2, hex[0],
			      dir, dir, dir, hex[1], dir);
	cr_assert_eq(system(cmd), 0);
	/* Not a directory of the archive's (ab/): neither listed nor ticked. */
	char *lost = xasprintf("%s/lost+found", root);
	cr_assert_eq(mkdir(lost, 0700), 0);
	/* One tick per directory ab/, misplaced copy's included. */
	size_t tops = 0;
	for (int i = 0; i < 40; i++) {
		bool seen = false;
		for (int k = 0; k < i && !seen; k++)
			seen = memcmp(hex[k], hex[i], 2) == 0;
		tops += !seen;
	}
	bool wrong_seen = false;
	for (int i = 0; i < 40 && !wrong_seen; i++)
		wrong_seen = memcmp(hex[i], wrong, 2) == 0;
	tops += !wrong_seen;
	struct listed l = { .n = 0, .ticks_counted = true };
	size_t dirs = 0, read = 0;
	cr_assert_eq(archive_list(root, 0, list_into, list_tick, &l, &dirs, &read), 0);
	cr_expect_eq(l.n, 41);
	cr_expect_eq(dirs, read);
	cr_expect_eq(l.ticks, tops, "a tick per directory ab/: %zu of %zu", l.ticks, tops);
	cr_expect_eq(l.tick_total, tops);
	cr_expect(l.ticks_counted, "each tick says how many are done, of one total");
	/* The misplaced copy comes where its directory is; the others in
	 * order (the merge sets it aside before comparing). */
	size_t misplaced = 0;
	const char *last = "";
	for (size_t i = 0; i < l.n; i++) {
		if (!l.in_place[i]) {
			misplaced++;
			cr_expect_str_eq(l.names[i], hex[0]);
			continue;
		}
		cr_expect_lt(strcmp(last, l.names[i]), 0, "%s after %s", l.names[i], last);
		last = l.names[i];
	}
	cr_expect_eq(misplaced, 1);
	/* Only the directories changed since: none in the future. */
	l = (struct listed){ .n = 0, .ticks_counted = true };
	cr_assert_eq(archive_list(root, (long long)time(NULL) + 3600, list_into, list_tick, &l,
				  &dirs, &read), 0);
	cr_expect_eq(l.n, 0);
	cr_expect_eq(read, 0);
	cr_expect_gt(dirs, 0);
	cr_expect_eq(l.ticks, tops, "a stat'ed directory ticks too");
	/* No tick asked for: none made. */
	l.n = 0;
	cr_assert_eq(archive_list(root, 0, list_into, NULL, &l, &dirs, &read), 0);
	cr_expect_eq(l.n, 41);
	free(lost);
	free(cmd);
	free(dir);
}
