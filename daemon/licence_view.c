/*
 * licence_view - balance as of a date.  See licence_view.h.
 */
#include <stdio.h>
#include <string.h>

#include "licence_view.h"
#include "report.h"

bool licence_view_number_ok(const char *licence)
{
	size_t n = strlen(licence);
	return n >= 9 && n <= 15 && strspn(licence, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") == n;
}

enum store_status licence_view_load(struct store *st, const char *licence, date_t as_of,
				    struct licence_view *out, bool *known, char **err)
{
	memset(out, 0, sizeof(*out));
	out->as_of = as_of;
	enum store_status rc = store_console_ledger(st, licence, &out->ledger, known, err);
	if (rc != STORE_OK || !*known) {
		store_console_ledger_free(&out->ledger);
		return rc;
	}
	ledger_replay(&out->ledger.licence, out->ledger.events, out->ledger.n, &out->timeline);
	int b = ledger_timeline_balance_at(&out->timeline, as_of);
	out->has_balance = b != LEDGER_NO_BALANCE;
	out->balance = out->has_balance ? b : 0;
	out->ceiling = ledger_ceiling_at(&out->ledger.licence, out->ledger.events, out->ledger.n,
					 as_of);
	return STORE_OK;
}

void licence_view_free(struct licence_view *v)
{
	if (v == NULL)
		return;
	ledger_timeline_free(&v->timeline);
	store_console_ledger_free(&v->ledger);
}

static const char *effect_name(enum ledger_effect e)
{
	return e == LEDGER_APPLIED ? "applied" : e == LEDGER_NO_GRANT ? "no_grant" : "blocked";
}

/* JSON string: refs come from the registry's CSV. */
static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

void licence_view_print(const struct licence_view *v, const char *licence, int format,
			FILE *out)
{
	char as_of[11];
	date_format(v->as_of, as_of);
	char balance[16];
	snprintf(balance, sizeof(balance), "%d", v->balance);
	char ceiling[16];
	snprintf(ceiling, sizeof(ceiling), "%d", v->ceiling);
	const char *status = ledger_status_name(v->ledger.licence.status);
	if (format == REPORT_JSON) {
		fprintf(out, "{\"licence\":");
		json_str(out, licence);
		fprintf(out, ",\"as_of\":\"%s\",\"balance\":%s,\"ceiling\":%d,\"status\":\"%s\","
			"\"events\":[", as_of, v->has_balance ? balance : "null", v->ceiling, status);
	} else if (format == REPORT_CSV) {
		fprintf(out, "licence,as_of,balance,ceiling,status\n%s,%s,%s,%d,%s\n\n", licence,
			as_of, v->has_balance ? balance : "", v->ceiling, status);
		fprintf(out, "effective_date,kind,points,ref,old_balance,new_balance,effect\n");
	} else {
		fprintf(out, "licence %s as of %s: balance %s, ceiling %d, status %s\n", licence,
			as_of, v->has_balance ? balance : "none (no grant yet)", v->ceiling, status);
		fprintf(out, "\nevents up to %s (the daemon's replay):\n", as_of);
	}
	size_t shown = 0;
	for (size_t i = 0; i < v->timeline.n; i++) {
		const struct ledger_step *s = &v->timeline.steps[i];
		if (s->event->effective > v->as_of)
			continue;
		char day[11], oldb[16] = "", newb[16] = "";
		date_format(s->event->effective, day);
		if (s->old_balance != LEDGER_NO_BALANCE)
			snprintf(oldb, sizeof(oldb), "%d", s->old_balance);
		if (s->new_balance != LEDGER_NO_BALANCE)
			snprintf(newb, sizeof(newb), "%d", s->new_balance);
		const char *kind = ledger_kind_name(s->event->kind);
		if (format == REPORT_JSON) {
			fprintf(out, "%s{\"effective_date\":\"%s\",\"kind\":\"%s\",\"points\":%d,"
				"\"ref\":", shown ? "," : "", day, kind, s->event->points);
			json_str(out, s->event->ref);
			fprintf(out, ",\"old_balance\":%s,\"new_balance\":%s,\"effect\":\"%s\"}",
				oldb[0] ? oldb : "null", newb[0] ? newb : "null",
				effect_name(s->effect));
		} else if (format == REPORT_CSV) {
			fprintf(out, "%s,%s,%d,\"", day, kind, s->event->points);
			for (const char *p = s->event->ref; *p; p++)
				fprintf(out, *p == '"' ? "\"\"" : "%c", *p);
			fprintf(out, "\",%s,%s,%s\n", oldb, newb, effect_name(s->effect));
		} else {
			fprintf(out, "  %s  %-19s %+3d  %-24s %3s -> %-3s %s\n", day, kind,
				s->event->points, s->event->ref, oldb[0] ? oldb : "-",
				newb[0] ? newb : "-", effect_name(s->effect));
		}
		shown++;
	}
	if (format == REPORT_JSON)
		fprintf(out, "]}\n");
	else if (format == REPORT_TABLE)
		fprintf(out, "(%zu events)\n", shown);
}
