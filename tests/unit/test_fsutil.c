/*
 * test_fsutil - durable writes: the file whole or not at all, never an
 * earlier file overwritten unless asked, and no temporary file left, not
 * even by a process killed while writing.
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

/* The names in root, sorted, space-separated ("" when empty). */
static char *listing(void)
{
	struct dirent **names = NULL;
	int n = scandir(root, &names, NULL, alphasort);
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
	char content[8];	/* of receipt.xml afterwards (arrays: parameters cross processes) */
};

ParameterizedTestParameters(fsutil, write_atomic)
{
	static struct write_case cases[] = {
		{ false, false, 0, 0, "new" },
		{ false, true, 0, 0, "new" },
		{ true, false, -1, EEXIST, "old" },
		{ true, true, 0, 0, "new" },
	};
	return cr_make_param_array(struct write_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct write_case *c, fsutil, write_atomic, .init = setup, .fini = teardown)
{
	if (c->existing)
		cr_assert_eq(fsutil_write_atomic(root, "receipt.xml", "old", 3, 0640, false), 0);
	errno = 0;
	int rc = fsutil_write_atomic(root, "receipt.xml", "new", 3, 0440, c->replace);
	cr_expect_eq(rc, c->rc, "existing=%d replace=%d", c->existing, c->replace);
	if (c->rc != 0)
		cr_expect_eq(errno, c->err);
	char *content = slurp("receipt.xml");
	cr_expect_str_eq(content, c->content);
	char *names = listing();
	cr_expect_str_eq(names, "receipt.xml", "nothing but the file: %s", names);
	struct stat st;
	char *path = xasprintf("%s/receipt.xml", root);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 0777, strcmp(c->content, "new") == 0 ? 0440u : 0640u);
	free(path);
	free(names);
	free(content);
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
		fsutil_write_atomic(root, "archived", big, sizeof(big), 0440, false);
		_exit(0);
	}
	int status = 0;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ, "status %#x", status);
	char *names = listing();
	cr_expect_str_eq(names, "", "left behind: %s", names);
	free(names);
}
