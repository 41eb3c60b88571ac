/*
 * date - civil dates as a day count, calendar arithmetic that clamps to the
 * month's end (rules.md: 2024-02-29 + 1 year = 2025-02-28), and the French
 * public holidays.  Everything is integer arithmetic on the proleptic
 * Gregorian calendar, so nothing depends on the process's time zone or on
 * mktime()'s normalisation (which would turn 31 Feb into 3 Mar).
 *
 * The exceptions are date_local_from_epoch() and date_format_local_datetime():
 * they ask glibc for the local time, which means setting TZ for the duration
 * of the call.  Reading the TZif file ourselves would avoid the process-global state, but modern tz
 * data leaves future transitions to a POSIX TZ rule string, so a faithful
 * reader is a small tz library of its own; the daemon is single-threaded and
 * normally runs with TZ already set to its zone, in which case nothing is
 * switched at all.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "date.h"
#include "xmalloc.h"

#define DATE_MIN_YEAR 1
#define DATE_MAX_YEAR 9999

/* Floor division: the calendar cycles must not bend at zero. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int date_days_in_month(int year, int month)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (month < 1 || month > 12)
		return 0;
	return days[month - 1] + (month == 2 && is_leap(year));
}

/* Days from 0001-01-01 to 1 January of year y. */
static int64_t days_before_year(int64_t y)
{
	int64_t p = y - 1;
	return 365 * p + floor_div(p, 4) - floor_div(p, 100) + floor_div(p, 400);
}

/* 1970-01-01 counted from 0001-01-01. */
#define EPOCH_OFFSET 719162

static int64_t days_before_month(int64_t y, int month)
{
	static const int cumulative[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
	return cumulative[month - 1] + (month > 2 && is_leap(y));
}

static bool in_range(int64_t days)
{
	return days >= days_before_year(DATE_MIN_YEAR) - EPOCH_OFFSET &&
	       days < days_before_year(DATE_MAX_YEAR + 1) - EPOCH_OFFSET;
}

date_t date_from_ymd(int year, int month, int day)
{
	if (year < DATE_MIN_YEAR || year > DATE_MAX_YEAR || month < 1 || month > 12 ||
	    day < 1 || day > date_days_in_month(year, month))
		return DATE_NONE;
	return (date_t)(days_before_year(year) + days_before_month(year, month) + day - 1 -
			EPOCH_OFFSET);
}

void date_to_ymd(date_t d, int *year, int *month, int *day)
{
	if (d == DATE_NONE) {
		*year = *month = *day = 0;
		return;
	}
	int64_t n = (int64_t)d + EPOCH_OFFSET;	/* days since 0001-01-01 */
	/* 146097 days in 400 years: an estimate within a year, then adjust. */
	int64_t y = 1 + floor_div(400 * n, 146097);
	while (days_before_year(y) > n)
		y--;
	while (days_before_year(y + 1) <= n)
		y++;
	int64_t doy = n - days_before_year(y);
	int m = 12;
	while (m > 1 && days_before_month(y, m) > doy)
		m--;
	*year = (int)y;
	*month = m;
	*day = (int)(doy - days_before_month(y, m)) + 1;
}

static bool two_digits(const char *s, int *out)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return false;
	*out = (s[0] - '0') * 10 + (s[1] - '0');
	return true;
}

bool date_parse(const char *s, date_t *out)
{
	int hi, lo, month, day;
	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    !two_digits(s, &hi) || !two_digits(s + 2, &lo) ||
	    !two_digits(s + 5, &month) || !two_digits(s + 8, &day))
		return false;
	date_t d = date_from_ymd(hi * 100 + lo, month, day);
	if (d == DATE_NONE)
		return false;
	*out = d;
	return true;
}

void date_format(date_t d, char buf[static 11])
{
	int y, m, day;
	if (d == DATE_NONE) {
		buf[0] = '\0';
		return;
	}
	date_to_ymd(d, &y, &m, &day);
	snprintf(buf, 11, "%04d-%02d-%02d", y, m, day);
}

int date_weekday(date_t d)
{
	/* 1970-01-01 was a Thursday (ISO 3 counting Monday as 0). */
	return (int)(((int64_t)d + 3) - 7 * floor_div((int64_t)d + 3, 7));
}

date_t date_add_days(date_t d, int days)
{
	if (d == DATE_NONE)
		return DATE_NONE;
	int64_t r = (int64_t)d + days;
	return in_range(r) ? (date_t)r : DATE_NONE;
}

date_t date_add_months(date_t d, int months)
{
	int y, m, day;
	if (d == DATE_NONE)
		return DATE_NONE;
	date_to_ymd(d, &y, &m, &day);
	int64_t total = (int64_t)y * 12 + (m - 1) + months;
	int64_t ny = floor_div(total, 12);
	if (ny < DATE_MIN_YEAR || ny > DATE_MAX_YEAR)
		return DATE_NONE;
	int nm = (int)(total - ny * 12) + 1;
	int last = date_days_in_month((int)ny, nm);
	return date_from_ymd((int)ny, nm, day < last ? day : last);
}

date_t date_add_years(date_t d, int years)
{
	if (years > INT_MAX / 12 || years < INT_MIN / 12)
		return DATE_NONE;
	return date_add_months(d, years * 12);
}

/* The anonymous Gregorian computus (Meeus/Jones/Butcher). */
date_t date_easter(int year)
{
	int a = year % 19, b = year / 100, c = year % 100;
	int d = b / 4, e = b % 4;
	int f = (b + 8) / 25;
	int g = (b - f + 1) / 3;
	int h = (19 * a + b - d - g + 15) % 30;
	int i = c / 4, k = c % 4;
	int l = (32 + 2 * e + 2 * i - h - k) % 7;
	int m = (a + 11 * h + 22 * l) / 451;
	int month = (h + l - 7 * m + 114) / 31;
	int day = (h + l - 7 * m + 114) % 31 + 1;
	return date_from_ymd(year, month, day);
}

/* Good Friday and St Stephen's Day stayed holidays in Alsace-Moselle
 * (local law kept after 1918): Moselle, Bas-Rhin, Haut-Rhin. */
static bool alsace_moselle(const char *departement)
{
	return departement != NULL &&
	       (strcmp(departement, "57") == 0 || strcmp(departement, "67") == 0 ||
		strcmp(departement, "68") == 0);
}

bool date_is_public_holiday(date_t d, const char *departement)
{
	static const struct { int month, day; } fixed[] = {
		{ 1, 1 }, { 5, 1 }, { 5, 8 }, { 7, 14 }, { 8, 15 }, { 11, 1 }, { 11, 11 }, { 12, 25 },
	};
	int y, m, day;
	if (d == DATE_NONE)
		return false;
	date_to_ymd(d, &y, &m, &day);
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (fixed[i].month == m && fixed[i].day == day)
			return true;
	date_t easter = date_easter(y);
	if (easter == DATE_NONE)
		return false;
	if (d == easter + 1 || d == easter + 39 || d == easter + 50)
		return true;	/* Easter Monday, Ascension, Whit Monday */
	if (alsace_moselle(departement) && (d == easter - 2 || (m == 12 && day == 26)))
		return true;
	return false;
}

bool date_parse_time(const char *s, minute_of_day_t *out)
{
	int h, m;
	if (s == NULL || strlen(s) != 5 || s[2] != ':' || !two_digits(s, &h) ||
	    !two_digits(s + 3, &m) || h > 23 || m > 59)
		return false;
	*out = (minute_of_day_t)(h * 60 + m);
	return true;
}

/* A zone name as the tz database spells them, and present in it: glibc
 * silently falls back to UTC for anything else, which would shift dates. */
static bool zone_exists(const char *zone)
{
	size_t n = strlen(zone);
	if (n == 0 || n > 255 || zone[0] == '/' || strstr(zone, "..") != NULL ||
	    strspn(zone, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") != n)
		return false;
	const char *dir = getenv("TZDIR");
	char *path = xasprintf("%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", zone);
	bool ok = access(path, R_OK) == 0;
	free(path);
	return ok;
}

/* localtime_r() in the named zone, with TZ switched for the call only. */
static bool local_tm(time_t t, const char *zone, struct tm *tm)
{
	char *saved = NULL;
	bool switched = false, ok = false;

	if (zone == NULL)
		return false;
	const char *current = getenv("TZ");
	/* The daemon runs in its zone (validated when the configuration was
	 * read): then nothing is checked on disk or switched per call. */
	if (current == NULL || strcmp(current, zone) != 0) {
		if (!zone_exists(zone))
			return false;
		saved = current ? xstrdup(current) : NULL;
		if (setenv("TZ", zone, 1) != 0)
			goto out;
		switched = true;
	}
	/* glibc's localtime_r() does not re-read TZ by itself. */
	tzset();
	ok = localtime_r(&t, tm) != NULL;
out:
	if (switched) {
		if (saved)
			setenv("TZ", saved, 1);
		else
			unsetenv("TZ");
		tzset();
	}
	free(saved);
	return ok;
}

bool date_local_from_epoch(time_t t, const char *zone, date_t *out)
{
	struct tm tm;

	if (!local_tm(t, zone, &tm))
		return false;
	date_t d = date_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	if (d == DATE_NONE)
		return false;
	*out = d;
	return true;
}

bool date_format_local_datetime(time_t t, const char *zone, char buf[static 26])
{
	struct tm tm;

	if (!local_tm(t, zone, &tm))
		return false;
	long year = (long)tm.tm_year + 1900;
	long off = tm.tm_gmtoff;
	/* xs:dateTime offsets are whole minutes within +-14:00; local mean
	 * times of the nineteenth century (Paris +00:09:21) are not. */
	if (year < DATE_MIN_YEAR || year > DATE_MAX_YEAR || off % 60 != 0 ||
	    off > 14 * 3600 || off < -14 * 3600)
		return false;
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	/* A roomy buffer, so the compiler need not trust struct tm's ranges. */
	char tmp[96];
	int n = snprintf(tmp, sizeof(tmp), "%04ld-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld", year,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec > 59 ? 59 : tm.tm_sec, sign, off / 3600, off / 60 % 60);
	if (n != 25)
		return false;
	memcpy(buf, tmp, 26);
	return true;
}
