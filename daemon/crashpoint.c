/*
 * crashpoint - see crashpoint.h.  The environment is read once; the count
 * of passages is the only state (a test facility, not configuration).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crashpoint.h"

static const char *crash_step;
static long crash_countdown;
static int crash_read;

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
	if (crash_step == NULL || strcmp(step, crash_step) != 0 || --crash_countdown > 0)
		return;
	kill(getpid(), SIGKILL);
	_exit(137);
}
