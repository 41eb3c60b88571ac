/*
 * test_fsutil - durable writes: the file whole or not at all, never an
 * earlier file overwritten unless asked, and no temporary file left, not
 * even by a process killed while writing; batches (nothing named before
 * the commit, names taken left alone, missing directories made) and
 * mkdir -p.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"
#include "xmalloc.h"
#include "each_row.h"

static char root[64];

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/attestd-fsutil.XXXXXX");
	cr_assert_not_null(mkdtemp(root));
}

static void teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", root);
	cr_expect_eq(system(cmd), 0);
	free(cmd);
}

/* The names in root/sub, sorted, space-separated ("" when empty). */
static char *listing_of(const char *sub)
{
	char *dir = xasprintf("%s/%s", root, sub);
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort);
	free(dir);
	cr_assert_geq(n, 0);
	char *out = xstrdup("");
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0) {
			char *next = xasprintf("%s%s%s", out, out[0] ? " " : "", names[i]->d_name);
			free(out);
			out = next;
		}
		free(names[i]);
	}
	free(names);
	return out;
}

static char *listing(void)
{
	return listing_of(".");
}

static char *slurp(const char *name)
{
	char *path = xasprintf("%s/%s", root, name);
	FILE *f = fopen(path, "r");
	free(path);
	if (f == NULL)
		return NULL;
	char *buf = xcalloc(1, 256);
	size_t n = fread(buf, 1, 255, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

struct write_case {
	bool existing;		/* receipt.xml already there with "old" */
	bool replace;
	int rc, err;
	char content[8];	/* of receipt.xml afterwards */
};

/* One case of fsutil::write_atomic (issue 12: the cases share one process). */
static void fsutil_write_atomic_case(struct write_case *c)
{
	char name[40];	/* the case, in every message */
	snprintf(name, sizeof(name), "existing=%d replace=%d", c->existing, c->replace);
	if (c->existing)
		cr_assert_eq(fsutil_write_atomic(root, "receipt.xml", "old", 3, 0640, false, 0), 0,
			     "%s: the first write", name);
	errno = 0;
	int rc = fsutil_write_atomic(root, "receipt.xml", "new", 3, 0440, c->replace, 0);
	cr_expect_eq(rc, c->rc, "%s: rc %d", name, rc);
	if (c->rc != 0)
		cr_expect_eq(errno, c->err, "%s: errno %d", name, errno);
	char *content = slurp("receipt.xml");
	cr_expect_str_eq(content, c->content, "%s: content %s", name, content);
	char *names = listing();
	cr_expect_str_eq(names, "receipt.xml", "%s: nothing but the file: %s", name, names);
	struct stat st;
	char *path = xasprintf("%s/receipt.xml", root);
	cr_assert_eq(stat(path, &st), 0, "%s: stat", name);
	cr_expect_eq(st.st_mode & 0777, strcmp(c->content, "new") == 0 ? 0440u : 0640u,
		     "%s: mode %o", name, (unsigned)(st.st_mode & 0777));

	free(path);
	free(names);
	free(content);
}

Test(fsutil, write_atomic, .init = setup, .fini = teardown)
{
	static struct write_case cases[] = {
		{ false, false, 0, 0, "new" },
		{ false, true, 0, 0, "new" },
		{ true, false, -1, EEXIST, "old" },
		{ true, true, 0, 0, "new" },
	};
	EACH_ROW_FRESH(sizeof(cases) / sizeof(cases[0]), teardown, setup, fsutil_write_atomic_case, cases);
}

/* A process killed in the middle of writing (here by SIGXFSZ past a file
 * size limit, as deterministic a kill as any) leaves no file at all. */
Test(fsutil, killed_while_writing_leaves_nothing, .init = setup, .fini = teardown)
{
	static char big[64 * 1024];
	memset(big, 'x', sizeof(big));
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct rlimit lim = { .rlim_cur = 4096, .rlim_max = 4096 };
		signal(SIGXFSZ, SIG_DFL);
		setrlimit(RLIMIT_FSIZE, &lim);
		fsutil_write_atomic(root, "archived", big, sizeof(big), 0440, false, 0);
		_exit(0);
	}
	int status = 0;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ, "status %#x", status);
	char *names = listing();
	cr_expect_str_eq(names, "", "left behind: %s", names);
	free(names);
}

/* --- mkdir -p ------------------------------------------------------------------- */

struct mkdirs_case {
	char make[32];		/* made beforehand under root: "d:a/b" a directory, "f:a" a file */
	char path[32];		/* then fsutil_mkdirs(root/path) */
	int rc, err;
};

/* One case of fsutil::mkdirs (issue 12: the cases share one process). */
static void fsutil_mkdirs_case(struct mkdirs_case *c)
{
	if (c->make[0]) {
		char *made = xasprintf("%s/%s", root, c->make + 2);
		if (c->make[0] == 'd') {
			char *cmd = xasprintf("mkdir -p '%s'", made);
			cr_assert_eq(system(cmd), 0, "%s then %s: %s", c->make, c->path, cmd);
			free(cmd);
		} else {
			FILE *f = fopen(made, "w");
			cr_assert_not_null(f, "%s then %s: fopen", c->make, c->path);
			fclose(f);
		}
		free(made);
	}
	char *path = xasprintf("%s/%s", root, c->path);
	errno = 0;
	int rc = fsutil_mkdirs(path, 0750);
	cr_expect_eq(rc, c->rc, "%s then %s: %d", c->make, c->path, rc);
	if (c->rc != 0) {
		cr_expect_eq(errno, c->err, "%s then %s: errno %d", c->make, c->path, errno);
	} else {
		struct stat st;
		cr_assert_eq(stat(path, &st), 0, "%s then %s: not made", c->make, c->path);
		cr_expect(S_ISDIR(st.st_mode), "%s then %s: not a directory", c->make, c->path);

	}
	free(path);
}

Test(fsutil, mkdirs, .init = setup, .fini = teardown)
{
	static struct mkdirs_case cases[] = {
		{ "", "a", 0, 0 },
		{ "", "a/b/c", 0, 0 },
		{ "", "a/b/c/", 0, 0 },
		{ "d:a", "a/b", 0, 0 },
		{ "d:a/b", "a/b", 0, 0 },
		{ "d:a/b", "a//b/c", 0, 0 },
		{ "f:a", "a", -1, ENOTDIR },
		{ "f:a", "a/b/c", -1, ENOTDIR },
	};
	EACH_ROW_FRESH(sizeof(cases) / sizeof(cases[0]), teardown, setup, fsutil_mkdirs_case, cases);
}

/* --- batches ---------------------------------------------------------------------- */

static const char *const batch_names[] = { "one", "two", "three", "four" };
static const char *const batch_dirs[] = { "x/1", "x/2", "x/1", "y" };

/* Adds the four files above ("<name> data") to b. */
static void batch_fill(struct fsutil_batch *b, char *data[4])
{
	for (int i = 0; i < 4; i++) {
		char *dir = xasprintf("%s/%s", root, batch_dirs[i]);
		data[i] = xasprintf("%s data", batch_names[i]);
		cr_assert_eq(fsutil_batch_add(b, dir, batch_names[i], data[i], strlen(data[i]), 0440),
			     i, "add %s: %s", batch_names[i], strerror(errno));
		free(dir);
	}
}

Test(fsutil, batch_names_nothing_before_the_commit, .init = setup, .fini = teardown)
{
	struct fsutil_batch *b = fsutil_batch_new(0750);
	char *data[4];
	batch_fill(b, data);
	char *names[3] = { listing_of("x/1"), listing_of("x/2"), listing_of("y") };
	for (int i = 0; i < 3; i++) {
		cr_expect_str_eq(names[i], "", "before the commit: %s", names[i]);
		free(names[i]);
	}
	cr_assert_eq(fsutil_batch_commit(b), 0, "%s", strerror(errno));
	for (int i = 0; i < 4; i++) {
		char *name = xasprintf("%s/%s", batch_dirs[i], batch_names[i]);
		char *content = slurp(name);
		cr_expect_str_eq(content, data[i]);
		cr_expect(!fsutil_batch_taken(b, i));
		struct stat st;
		char *path = xasprintf("%s/%s", root, name);
		cr_assert_eq(stat(path, &st), 0);
		cr_expect_eq(st.st_mode & 0777, 0440u);
		free(path);
		free(content);
		free(name);
		free(data[i]);
	}
	fsutil_batch_free(b);
	/* Nothing but the files, and the directories made with their mode. */
	char *x1 = listing_of("x/1"), *x2 = listing_of("x/2"), *y = listing_of("y");
	cr_expect_str_eq(x1, "one three");
	cr_expect_str_eq(x2, "two");
	cr_expect_str_eq(y, "four");
	struct stat st;
	char *x = xasprintf("%s/x", root);
	cr_assert_eq(stat(x, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0750u);
	free(x);
	free(x1);
	free(x2);
	free(y);
}

/* Freed without a commit (a failure on the way): nothing left behind. */
Test(fsutil, batch_not_committed_leaves_nothing, .init = setup, .fini = teardown)
{
	struct fsutil_batch *b = fsutil_batch_new(0750);
	char *data[4];
	batch_fill(b, data);
	fsutil_batch_free(b);
	char *names[3] = { listing_of("x/1"), listing_of("x/2"), listing_of("y") };
	for (int i = 0; i < 3; i++) {
		cr_expect_str_eq(names[i], "", "left behind: %s", names[i]);
		free(names[i]);
	}
	for (int i = 0; i < 4; i++)
		free(data[i]);
	fsutil_batch_free(NULL);
}

/* A process killed between the writes and the commit leaves no file. */
Test(fsutil, batch_killed_before_commit_leaves_nothing, .init = setup, .fini = teardown)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct fsutil_batch *b = fsutil_batch_new(0750);
		char *data[4];
		batch_fill(b, data);
		raise(SIGKILL);
		_exit(0);
	}
	int status = 0;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %#x", status);
	char *names[3] = { listing_of("x/1"), listing_of("x/2"), listing_of("y") };
	for (int i = 0; i < 3; i++) {
		cr_expect_str_eq(names[i], "", "left behind: %s", names[i]);
		free(names[i]);
	}
}

/* A name already there is left as it is and reported; the others are written. */
Test(fsutil, batch_name_taken_is_left_alone, .init = setup, .fini = teardown)
{
	char *x2 = xasprintf("%s/x/2", root);
	cr_assert_eq(fsutil_mkdirs(x2, 0750), 0);
	cr_assert_eq(fsutil_write_atomic(x2, "two", "old", 3, 0640, false, 0), 0);
	struct fsutil_batch *b = fsutil_batch_new(0750);
	char *data[4];
	batch_fill(b, data);
	cr_assert_eq(fsutil_batch_commit(b), 0);
	for (int i = 0; i < 4; i++) {
		cr_expect_eq(fsutil_batch_taken(b, i), i == 1, "%s", batch_names[i]);
		free(data[i]);
	}
	cr_expect(!fsutil_batch_taken(b, -1));
	cr_expect(!fsutil_batch_taken(b, 4));
	fsutil_batch_free(b);
	char *two = slurp("x/2/two"), *one = slurp("x/1/one");
	cr_expect_str_eq(two, "old");
	cr_expect_str_eq(one, "one data");
	char *names = listing_of("x/2");
	cr_expect_str_eq(names, "two");
	free(names);
	free(two);
	free(one);
	free(x2);
}

struct batch_fault {
	char setup[16];		/* "" , "file": x a file, "link": x/1 a symlink */
	mode_t dir_mode;
	int err;		/* of the first add */
};

/* One case of fsutil::batch_refuses (issue 12: the cases share one process). */
static void fsutil_batch_refuses_case(struct batch_fault *c)
{
	char *x = xasprintf("%s/x", root), *x1 = xasprintf("%s/x/1", root);
	char *elsewhere = xasprintf("%s/elsewhere", root);
	char name[48];	/* the case, in every message */
	snprintf(name, sizeof(name), "'%s', directories %o", c->setup, (unsigned)c->dir_mode);
	if (strcmp(c->setup, "file") == 0) {
		FILE *f = fopen(x, "w");
		cr_assert_not_null(f, "%s: fopen", name);
		fclose(f);
	} else if (strcmp(c->setup, "link") == 0) {
		cr_assert_eq(mkdir(x, 0750), 0, "%s: mkdir", name);
		cr_assert_eq(mkdir(elsewhere, 0750), 0, "%s: mkdir", name);
		cr_assert_eq(symlink(elsewhere, x1), 0, "%s: symlink", name);
	}
	struct fsutil_batch *b = fsutil_batch_new(c->dir_mode);
	errno = 0;
	cr_expect_eq(fsutil_batch_add(b, x1, "one", "data", 4, 0440), -1, "%s: added", name);
	cr_expect_eq(errno, c->err, "%s: errno %d", name, errno);
	cr_expect_eq(fsutil_batch_commit(b), 0, "%s: an empty batch commits", name);
	fsutil_batch_free(b);
	errno = 0;
	cr_expect_eq(fsutil_write_atomic(x1, "one", "data", 4, 0440, false, c->dir_mode), -1,
		     "%s: written", name);
	cr_expect_eq(errno, c->err, "%s: errno %d", name, errno);
	if (strcmp(c->setup, "link") == 0) {
		char *names = listing_of("elsewhere");
		cr_expect_str_eq(names, "", "%s: written through the link: %s", name, names);

		free(names);
	}
	free(x);
	free(x1);
	free(elsewhere);
}

Test(fsutil, batch_refuses, .init = setup, .fini = teardown)
{
	static struct batch_fault cases[] = {
		{ "", 0, ENOENT },		/* not made unless asked */
		{ "file", 0750, ENOTDIR },
		{ "link", 0750, ENOTDIR },	/* never through a link */
	};
	EACH_ROW_FRESH(sizeof(cases) / sizeof(cases[0]), teardown, setup, fsutil_batch_refuses_case, cases);
}

Test(fsutil, batch_is_bounded, .init = setup, .fini = teardown)
{
	struct fsutil_batch *b = fsutil_batch_new(0);
	for (int i = 0; i < FSUTIL_BATCH_MAX; i++) {
		char name[16];
		snprintf(name, sizeof(name), "f%02d", i);
		cr_assert_eq(fsutil_batch_add(b, root, name, name, strlen(name), 0440), i);
	}
	errno = 0;
	cr_expect_eq(fsutil_batch_add(b, root, "extra", "x", 1, 0440), -1);
	cr_expect_eq(errno, E2BIG);
	cr_assert_eq(fsutil_batch_commit(b), 0);
	fsutil_batch_free(b);
	char *f00 = slurp("f00"), *last = slurp("f31"), *extra = slurp("extra");
	cr_expect_str_eq(f00, "f00");
	cr_expect_str_eq(last, "f31");
	cr_expect_null(extra);
	free(f00);
	free(last);
}

/* write_atomic with a dir_mode makes the missing directories. */
Test(fsutil, write_atomic_makes_the_directory, .init = setup, .fini = teardown)
{
	char *dir = xasprintf("%s/a/b", root);
	cr_assert_eq(fsutil_write_atomic(dir, "r.xml", "new", 3, 0640, true, 0750), 0);
	char *content = slurp("a/b/r.xml");
	cr_expect_str_eq(content, "new");
	free(content);
	free(dir);
}
