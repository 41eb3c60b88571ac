/*
 * clock - real or shifted time.  See clock.h.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "exitcode.h"
#include "log.h"

static bool clock_read;
static time_t clock_offset;	/* seconds added to the real clock */

/* "YYYY-MM-DDTHH:MM:SS" followed by "Z" or "+HH:MM" / "-HH:MM". */
static bool parse_instant(const char *s, time_t *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	int used = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	long offset = 0;
	const char *z = s + used;
	if (strcmp(z, "Z") != 0) {
		int hh, mm, n = 0;
		if ((z[0] != '+' && z[0] != '-') || sscanf(z + 1, "%2d:%2d%n", &hh, &mm, &n) != 2 ||
		    z[1 + n] != '\0')
			return false;
		offset = (hh * 60L + mm) * 60L * (z[0] == '-' ? -1 : 1);
	}
	*out = timegm(&tm) - offset;
	return true;
}

static void clock_init(void)
{
	if (clock_read)
		return;
	clock_read = true;
	const char *fake = getenv("ATTESTD_TEST_NOW");
	if (fake == NULL || fake[0] == '\0')
		return;
	time_t target;
	if (!parse_instant(fake, &target))
		log_fatal(EXIT_CONFIG, "ATTESTD_TEST_NOW=%s is not a date-time like 2026-11-16T10:00:00+01:00",
			  fake);
	clock_offset = target - time(NULL);
}

struct timespec clock_now(void)
{
	clock_init();
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += clock_offset;
	return t;
}

struct timespec clock_shift(struct timespec t)
{
	clock_init();
	t.tv_sec += clock_offset;
	return t;
}
