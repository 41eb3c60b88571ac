/*
 * date - civil calendar dates as days since 1970-01-01 (proleptic
 * Gregorian), with the month/year arithmetic of rules.md §0 (clamp to the
 * month's last day, as PostgreSQL date + interval; never mktime
 * normalisation) and the French public holidays.  Pure: no clock, no I/O,
 * except the two local-time functions at the end, which read the tz database.
 */
#ifndef ATTESTD_DATE_H
#define ATTESTD_DATE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

typedef int32_t date_t;		/* days since 1970-01-01 */
#define DATE_NONE INT32_MIN	/* "no date" (an optional field left empty) */

/* Minutes since local midnight (HH:MM in the files). */
typedef int16_t minute_of_day_t;

/* DATE_NONE unless 1 <= year <= 9999 and the day exists in that month. */
date_t date_from_ymd(int year, int month, int day);
/* Days in the month (28-31); 0 for a month outside 1-12. */
int date_days_in_month(int year, int month);
void date_to_ymd(date_t d, int *year, int *month, int *day);
/* Strict "YYYY-MM-DD"; false on anything else (including 2025-02-29). */
bool date_parse(const char *s, date_t *out);
/* "YYYY-MM-DD" into buf (at least 11 bytes). */
void date_format(date_t d, char buf[static 11]);
/* 0 = Monday ... 6 = Sunday (ISO). */
int date_weekday(date_t d);

/* Arithmetic on DATE_NONE, or leaving years 1-9999, gives DATE_NONE. */
date_t date_add_days(date_t d, int days);
/* Calendar months/years, clamped to the target month's last day. */
date_t date_add_months(date_t d, int months);
date_t date_add_years(date_t d, int years);

/* Easter Sunday of a Gregorian year (1583 on), by the computus. */
date_t date_easter(int year);
/* French public holiday in the given département ("57" etc., Alsace-Moselle
 * extras; NULL = the national list only). */
bool date_is_public_holiday(date_t d, const char *departement);

/* Strict "HH:MM" (00:00-23:59); false on anything else. */
bool date_parse_time(const char *s, minute_of_day_t *out);

/* The local calendar date of a POSIX time in the named time zone
 * ("Europe/Paris"); false for a name that is not a zone of the tz database.
 * Not thread-safe: it switches the process's TZ for the call (see date.c). */
bool date_local_from_epoch(time_t t, const char *zone, date_t *out);

/* "YYYY-MM-DDTHH:MM:SS+hh:mm", the local time of t in the named zone with
 * its offset from UTC then (summer time included), as receipts carry it.
 * False for an unknown zone, a year outside 1-9999 or an offset that is
 * not whole minutes.  Not thread-safe, as date_local_from_epoch(). */
bool date_format_local_datetime(time_t t, const char *zone, char buf[static 26]);

#endif
