/*
 * test_inbox - names, scan (temporary names, settle time, order, nothing
 * followed), claim (rename into the spool, lost races, links moved as
 * links), the spool listing used at start-up and the sweep of dead
 * instances' state files.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inbox.h"
#include "xmalloc.h"
#include "each_row.h"

static char root[64];
static char inbox[128], spool[128];

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/attestd-inbox.XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	snprintf(inbox, sizeof(inbox), "%s/inbox", root);
	snprintf(spool, sizeof(spool), "%s/spool", root);
	cr_assert_eq(mkdir(inbox, 0755), 0);
	cr_assert_eq(mkdir(spool, 0755), 0);
}

static void teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", root);
	cr_expect_eq(system(cmd), 0);
	free(cmd);
}

static void put(const char *dir, const char *name, const char *content)
{
	char *d = xasprintf("%s/%s", inbox, dir);
	mkdir(d, 0755);
	char *p = xasprintf("%s/%s", d, name);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f, "%s", p);
	fputs(content, f);
	fclose(f);
	free(d);
	free(p);
}

static struct timespec later(int seconds)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	now.tv_sec += seconds;
	return now;
}

/* Inline strings: Criterion may run each case in a new process image. */
struct name_case { char name[160]; bool valid; bool temporary; };

/* One case of inbox::names (issue 12: the cases share one process). */
static void inbox_names_case(struct name_case *c)
{
	cr_expect_eq(inbox_is_valid_name(c->name), c->valid, "valid(%s)", c->name);
	cr_expect_eq(inbox_is_temporary_name(c->name), c->temporary, "temporary(%s)", c->name);
}

Test(inbox, names)
{
	static struct name_case cases[] = {
		{ "CH-2026-1113-att.xml", true, false },
		{ "a.xml", true, false },
		{ "x.XML", false, false },
		{ ".xml", false, true },
		{ ".upload.xml", true, true },	/* matches the pattern, but is temporary */
		{ "file.xml.part", false, true },
		{ "file.part", false, true },
		{ "with space.xml", false, false },
		{ "accentué.xml", false, false },
		{ "semi;colon.xml", false, false },
		{ "noext", false, false },
		{ "new\nline.xml", false, false },
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.xml", true, false },
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.xml", false, false },
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		inbox_names_case(&cases[k]);
}

Test(inbox, scan_skips_temporary_and_respects_settle_time, .init = setup, .fini = teardown)
{
	put("R2402800010", "b.xml", "b");
	put("R2402800010", ".a.xml", "uploading");
	put("R2402800010", "c.xml.part", "uploading");
	put("R2402800020", "d.xml", "d");
	struct inbox_list list;
	size_t unsettled;
	struct timespec now = later(0);
	cr_assert_eq(inbox_scan(inbox, 60000, &now, &list, &unsettled), 0);
	cr_expect_eq(list.n, 0, "nothing is settled for a minute");
	cr_expect_eq(unsettled, 2);
	inbox_list_clear(&list);

	now = later(61);
	cr_assert_eq(inbox_scan(inbox, 60000, &now, &list, &unsettled), 0);
	cr_assert_eq(list.n, 2);
	cr_expect_eq(unsettled, 0);
	cr_expect_str_eq(list.entries[0].name, "b.xml", "oldest first");
	cr_expect_str_eq(list.entries[0].dir, "R2402800010");
	cr_expect_str_eq(list.entries[1].name, "d.xml");
	inbox_list_clear(&list);
}

Test(inbox, scan_does_not_follow_directory_links, .init = setup, .fini = teardown)
{
	char *outside = xasprintf("%s/outside", root);
	cr_assert_eq(mkdir(outside, 0755), 0);
	char *f = xasprintf("%s/secret.xml", outside);
	close(open(f, O_CREAT | O_WRONLY, 0644));
	char *link = xasprintf("%s/R2402800099", inbox);
	cr_assert_eq(symlink(outside, link), 0);
	struct inbox_list list;
	size_t unsettled;
	struct timespec now = later(10);
	cr_assert_eq(inbox_scan(inbox, 0, &now, &list, &unsettled), 0);
	cr_expect_eq(list.n, 0, "a symlinked centre directory is not entered");
	inbox_list_clear(&list);
	free(outside);
	free(f);
	free(link);
}

Test(inbox, claim_moves_into_spool_and_keeps_reception_time, .init = setup, .fini = teardown)
{
	put("R2402800010", "CH-1-att.xml", "<x/>");
	struct inbox_list list;
	size_t unsettled;
	struct timespec now = later(10);
	cr_assert_eq(inbox_scan(inbox, 0, &now, &list, &unsettled), 0);
	cr_assert_eq(list.n, 1);
	struct inbox_claim c;
	cr_assert_eq(inbox_claim(inbox, spool, &list.entries[0], &c), 1);
	cr_expect_str_eq(c.name, "CH-1-att.xml");
	cr_expect(!c.bad_name);
	cr_expect_str_eq(c.dir, "R2402800010");
	cr_expect_eq(c.received.tv_sec, list.entries[0].ctime.tv_sec);
	cr_expect_eq(c.received.tv_nsec, list.entries[0].ctime.tv_nsec);
	struct stat st;
	cr_expect_eq(lstat(c.spool_path, &st), 0, "in the spool");
	char *old = xasprintf("%s/R2402800010/CH-1-att.xml", inbox);
	cr_expect_neq(lstat(old, &st), 0, "gone from the inbox");

	/* A second claimer of the same entry loses the race without error. */
	struct inbox_claim again;
	cr_expect_eq(inbox_claim(inbox, spool, &list.entries[0], &again), 0);

	/* The spool listing gives back the same claim. */
	struct inbox_claim *spooled;
	size_t n;
	cr_assert_eq(inbox_spool_list(spool, &spooled, &n), 0);
	cr_assert_eq(n, 1);
	cr_expect_str_eq(spooled[0].claim_id, c.claim_id);
	cr_expect_str_eq(spooled[0].name, "CH-1-att.xml");
	cr_expect_str_eq(spooled[0].dir, "R2402800010");
	cr_expect_str_eq(spooled[0].spool_path, c.spool_path);
	cr_expect_eq(spooled[0].received.tv_sec, c.received.tv_sec);
	cr_expect_eq(spooled[0].received.tv_nsec, c.received.tv_nsec);
	inbox_claim_clear(&spooled[0]);
	free(spooled);
	inbox_claim_clear(&c);
	inbox_list_clear(&list);
	free(old);
}

/* The spool's centre directory is made on a centre's first claim only;
 * a file gone meanwhile is a lost race whether it is there or not. */
struct spool_dir_case {
	bool spool_dir;		/* spool/R2402800010 there beforehand */
	bool gone;		/* the file taken by another instance after the scan */
	int rc;
};

/* One case of inbox::claim_and_spool_directory (issue 12: the cases share one process). */
static void inbox_claim_and_spool_directory_case(struct spool_dir_case *c)
{
	put("R2402800010", "CH-1-att.xml", "<x/>");
	char *dir = xasprintf("%s/R2402800010", spool);
	char name[40];	/* the case, in every message */
	snprintf(name, sizeof(name), "spool dir %d, gone %d", c->spool_dir, c->gone);
	if (c->spool_dir)
		cr_assert_eq(mkdir(dir, 0750), 0, "%s: mkdir", name);
	struct inbox_list list;
	size_t unsettled;
	struct timespec now = later(10);
	cr_assert_eq(inbox_scan(inbox, 0, &now, &list, &unsettled), 0, "%s: scan", name);
	cr_assert_eq(list.n, 1, "%s: %zu files", name, list.n);
	char *src = xasprintf("%s/R2402800010/CH-1-att.xml", inbox);
	if (c->gone)
		cr_assert_eq(unlink(src), 0, "%s: unlink", name);
	struct inbox_claim claim;
	cr_expect_eq(inbox_claim(inbox, spool, &list.entries[0], &claim), c->rc, "%s", name);
	struct stat st;
	if (c->rc == 1) {
		cr_expect_eq(lstat(claim.spool_path, &st), 0, "%s: not in the spool", name);
		cr_assert_eq(stat(dir, &st), 0, "%s: no spool directory", name);
		cr_expect_eq(st.st_mode & 0777, 0750u, "%s: mode %o", name,
			     (unsigned)(st.st_mode & 0777));

	}
	inbox_claim_clear(&claim);
	inbox_list_clear(&list);
	free(src);
	free(dir);
}

Test(inbox, claim_and_spool_directory, .init = setup, .fini = teardown)
{
	static struct spool_dir_case cases[] = {
		{ false, false, 1 },
		{ true, false, 1 },
		{ false, true, 0 },
		{ true, true, 0 },
	};
	EACH_ROW_FRESH(sizeof(cases) / sizeof(cases[0]), teardown, setup, inbox_claim_and_spool_directory_case, cases);
}

Test(inbox, claim_moves_a_symlink_as_a_link, .init = setup, .fini = teardown)
{
	put("R2402800010", "real.txt.part", "target");
	char *target = xasprintf("%s/R2402800010/real.txt.part", inbox);
	char *link = xasprintf("%s/R2402800010/evil.xml", inbox);
	cr_assert_eq(symlink("/etc/passwd", link), 0);
	struct inbox_list list;
	size_t unsettled;
	struct timespec now = later(10);
	cr_assert_eq(inbox_scan(inbox, 0, &now, &list, &unsettled), 0);
	cr_assert_eq(list.n, 1);
	struct inbox_claim c;
	cr_assert_eq(inbox_claim(inbox, spool, &list.entries[0], &c), 1);
	struct stat st;
	cr_assert_eq(lstat(c.spool_path, &st), 0);
	cr_expect(S_ISLNK(st.st_mode), "still a link in the spool, never followed");
	inbox_claim_clear(&c);
	inbox_list_clear(&list);
	free(target);
	free(link);
}

/* A name too long to be valid is rejected (bad_file_name), but the claim
 * keeps it whole for the receipt; only the spool's own name is cut. */
Test(inbox, long_bad_names_kept_whole, .init = setup, .fini = teardown)
{
	char name[256];
	memset(name, 'n', 250);
	memcpy(name + 250, "\x01.xml", 6);
	name[255] = '\0';
	put("R2402800010", name, "x");
	struct inbox_list list;
	size_t unsettled;
	struct timespec now = later(10);
	cr_assert_eq(inbox_scan(inbox, 0, &now, &list, &unsettled), 0);
	cr_assert_eq(list.n, 1);
	struct inbox_claim c;
	cr_assert_eq(inbox_claim(inbox, spool, &list.entries[0], &c), 1);
	cr_expect(c.bad_name);
	cr_expect_eq(strlen(c.name), 255, "the whole name: %zu bytes", strlen(c.name));
	cr_expect(strncmp(c.name, name, 250) == 0 && strcmp(c.name + 250, "_.xml") == 0, "%s",
		  c.name);
	const char *base = strrchr(c.spool_path, '/') + 1;
	cr_expect(strlen(base) + strlen(".reason") <= 255, "spool name %zu bytes", strlen(base));
	struct inbox_claim *spooled;
	size_t n;
	cr_assert_eq(inbox_spool_list(spool, &spooled, &n), 0);
	cr_assert_eq(n, 1);
	cr_expect_eq(strlen(spooled[0].name), INBOX_SPOOL_NAME_MAX, "after a crash: cut");
	cr_expect(strncmp(spooled[0].name, c.name, INBOX_SPOOL_NAME_MAX) == 0);
	inbox_claim_clear(&spooled[0]);
	free(spooled);
	inbox_claim_clear(&c);
	inbox_list_clear(&list);
}

Test(inbox, bad_names_get_a_printable_stand_in, .init = setup, .fini = teardown)
{
	put("R2402800010", "bad name\tx.xml", "x");
	struct inbox_list list;
	size_t unsettled;
	struct timespec now = later(10);
	cr_assert_eq(inbox_scan(inbox, 0, &now, &list, &unsettled), 0);
	cr_assert_eq(list.n, 1);
	struct inbox_claim c;
	cr_assert_eq(inbox_claim(inbox, spool, &list.entries[0], &c), 1);
	cr_expect_str_eq(c.name, "bad_name_x.xml");
	cr_expect(c.bad_name, "the stand-in is valid, the original was not");
	cr_expect(strstr(c.spool_path, "~bad_name_x.xml") != NULL, "%s", c.spool_path);
	struct inbox_claim *spooled;
	size_t n;
	cr_assert_eq(inbox_spool_list(spool, &spooled, &n), 0);
	cr_assert_eq(n, 1);
	cr_expect_str_eq(spooled[0].name, "bad_name_x.xml");
	cr_expect(spooled[0].bad_name);
	inbox_claim_clear(&spooled[0]);
	free(spooled);
	inbox_claim_clear(&c);
	inbox_list_clear(&list);
}

Test(inbox, read_refuses_what_is_not_a_plain_file, .init = setup, .fini = teardown)
{
	unsigned char *data;
	size_t len;
	put("R2402800010", "ok.xml", "<x/>");
	char *ok = xasprintf("%s/R2402800010/ok.xml", inbox);
	cr_assert_eq(inbox_read(ok, 1024, &data, &len), REASON_OK);
	cr_expect_eq(len, 4);
	cr_expect(memcmp(data, "<x/>", 4) == 0);
	free(data);

	cr_expect_eq(inbox_read(ok, 3, &data, &len), REASON_TOO_LARGE);
	cr_expect_null(data);

	char *sym = xasprintf("%s/R2402800010/link.xml", inbox);
	cr_assert_eq(symlink(ok, sym), 0);
	cr_expect_eq(inbox_read(sym, 1024, &data, &len), REASON_NOT_REGULAR_FILE);

	char *hard = xasprintf("%s/R2402800010/hard.xml", inbox);
	cr_assert_eq(link(ok, hard), 0);
	cr_expect_eq(inbox_read(ok, 1024, &data, &len), REASON_NOT_REGULAR_FILE,
		     "two links: could be a link to a file outside the inbox");

	char *fifo = xasprintf("%s/R2402800010/fifo.xml", inbox);
	cr_assert_eq(mkfifo(fifo, 0644), 0);
	cr_expect_eq(inbox_read(fifo, 1024, &data, &len), REASON_NOT_REGULAR_FILE);

	char *dir = xasprintf("%s/R2402800010/dir.xml", inbox);
	cr_assert_eq(mkdir(dir, 0755), 0);
	cr_expect_eq(inbox_read(dir, 1024, &data, &len), REASON_NOT_REGULAR_FILE);

	put("R2402800010", "empty.xml", "");
	char *empty = xasprintf("%s/R2402800010/empty.xml", inbox);
	cr_assert_eq(inbox_read(empty, 1024, &data, &len), REASON_OK);
	cr_expect_eq(len, 0);
	free(data);

	char *missing = xasprintf("%s/R2402800010/missing.xml", inbox);
	cr_expect_eq(inbox_read(missing, 1024, &data, &len), REASON_IO_ERROR);
	free(ok);
	free(sym);
	free(hard);
	free(fifo);
	free(dir);
	free(empty);
	free(missing);
}

/* --- instance state files: the start-up sweep ---------------------------------- */

enum sweep_pid { SWEEP_DEAD, SWEEP_SELF, SWEEP_LIVE };
enum sweep_host { HOST_THIS, HOST_OTHER, HOST_NONE };

/* name is a format taking the pid. */
struct sweep_case { char name[32]; enum sweep_pid pid; enum sweep_host host; bool removed; };

/* A pid no process has: a child's, once reaped. */
static long dead_pid(void)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(0);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	return (long)pid;
}

struct swept { int calls; long pid; char path[256]; };

static void on_swept(const char *path, long pid, void *ctx)
{
	struct swept *s = ctx;
	s->calls++;
	s->pid = pid;
	snprintf(s->path, sizeof(s->path), "%s", path);
}

/* One case of inbox::status_sweep (issue 12: the cases share one process). */
static void inbox_status_sweep_case(struct sweep_case *c)
{
	char host[256] = "";
	cr_assert_eq(gethostname(host, sizeof(host) - 1), 0, "%s: gethostname", c->name);
	long pid = c->pid == SWEEP_DEAD ? dead_pid()
		 : c->pid == SWEEP_SELF ? (long)getpid() : (long)getppid();
	char name[64];
	snprintf(name, sizeof(name), c->name, pid);
	char *path = xasprintf("%s/%s", spool, name);
	char *text = c->host == HOST_THIS ? xasprintf("host=%s\npid=%ld\n", host, pid)
		   : c->host == HOST_OTHER ? xasprintf("host=%s.elsewhere\npid=%ld\n", host, pid)
		   : xasprintf("pid=%ld\n", pid);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s: fopen", name);
	fputs(text, f);
	fclose(f);

	struct swept s = { 0 };
	cr_assert_eq(inbox_status_sweep(spool, on_swept, &s), 0, "%s (%s): sweep", name, text);
	cr_expect_eq(access(path, F_OK) != 0, c->removed, "%s (%s) %s", name, text,
		     c->removed ? "kept" : "removed");
	cr_expect_eq(s.calls, c->removed ? 1 : 0, "%s (%s): %d calls", name, text, s.calls);
	if (c->removed) {
		cr_expect_eq(s.pid, pid, "%s (%s): pid %ld", name, text, (long)s.pid);
		cr_expect_str_eq(s.path, path, "%s (%s): path %s", name, text, s.path);
	}

	free(path);
	free(text);
}

Test(inbox, status_sweep, .init = setup, .fini = teardown)
{
	static struct sweep_case cases[] = {
		{ ".status.%ld", SWEEP_DEAD, HOST_THIS, true },
		{ ".status.%ld", SWEEP_DEAD, HOST_OTHER, false },	/* its pids mean nothing here */
		{ ".status.%ld", SWEEP_DEAD, HOST_NONE, false },
		{ ".status.%ld", SWEEP_SELF, HOST_THIS, false },
		{ ".status.%ld", SWEEP_LIVE, HOST_THIS, false },
		{ ".status.%ld.tmp.", SWEEP_DEAD, HOST_THIS, false },
		{ ".status.%ld~", SWEEP_DEAD, HOST_THIS, false },
		{ ".status.x%ld", SWEEP_DEAD, HOST_THIS, false },
		{ "status.%ld", SWEEP_DEAD, HOST_THIS, false },
		{ "%ld.xml", SWEEP_DEAD, HOST_THIS, false },
	};
	EACH_ROW_FRESH(sizeof(cases) / sizeof(cases[0]), teardown, setup, inbox_status_sweep_case, cases);
}

Test(inbox, status_sweep_of_a_missing_spool_fails, .init = setup, .fini = teardown)
{
	char *missing = xasprintf("%s/missing", root);
	cr_expect_eq(inbox_status_sweep(missing, NULL, NULL), -1);
	free(missing);
}
