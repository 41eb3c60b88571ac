/*
 * crashpoint - see crashpoint.h.  The environment is read once; the count
 * of passages is the only state (a test facility, not configuration).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crashpoint.h"

static const char *crash_step;
static long crash_countdown;
static int crash_read;

static void crashpoint_hold(const char *step);

void crashpoint(const char *step)
{
	if (!crash_read) {
		crash_read = 1;
		static char buf[64];
		const char *env = getenv("ATTESTD_CRASH_AT");
		if (env && env[0] && strlen(env) < sizeof(buf)) {
			strcpy(buf, env);
			char *colon = strchr(buf, ':');
			crash_countdown = 1;
			if (colon) {
				*colon = '\0';
				crash_countdown = strtol(colon + 1, NULL, 10);
			}
			crash_step = buf;
		}
	}
	crashpoint_hold(step);
	if (crash_step == NULL || strcmp(step, crash_step) != 0 || --crash_countdown > 0)
		return;
	kill(getpid(), SIGKILL);
	_exit(137);
}

/*
 * ATTESTD_HOLD_AT=STEP[:N] with ATTESTD_HOLD_FILE=PATH: at the N-th passage
 * the process creates PATH and waits until it is removed, so that a test
 * can take the database away at that very step (a killed backend, a
 * stopped server) and watch what the process makes of it.  With
 * ATTESTD_HOLD_EVERY=M it holds again every M-th passage after that: a
 * test stops the server several times mid-batch whatever the machine's
 * speed, rather than hoping its stops land before the batch runs out.
 */
static void crashpoint_hold(const char *step)
{
	static int read_env;
	static char want[64];
	static long countdown, every;
	static const char *path;
	if (!read_env) {
		read_env = 1;
		const char *env = getenv("ATTESTD_HOLD_AT");
		path = getenv("ATTESTD_HOLD_FILE");
		if (env && env[0] && path && path[0] && strlen(env) < sizeof(want)) {
			strcpy(want, env);
			char *colon = strchr(want, ':');
			countdown = 1;
			if (colon) {
				*colon = '\0';
				countdown = strtol(colon + 1, NULL, 10);
			}
			const char *e = getenv("ATTESTD_HOLD_EVERY");
			every = e ? strtol(e, NULL, 10) : 0;
		}
	}
	if (want[0] == '\0' || strcmp(step, want) != 0 || --countdown != 0)
		return;
	if (every > 0)
		countdown = every;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	close(fd);
	while (access(path, F_OK) == 0)
		usleep(20000);
}
