/*
 * main - the attestd command line: a table of subcommands, each a thin
 * layer over the modules, and one option parser for all of them (options
 * anywhere after the command words, as the usage lines show; -h/--help
 * prints the command's help).  Exit codes (interfaces.md): 0 success, 1
 * some input invalid, 2 usage, 3 bad configuration, 4 environment fault
 * (database unreachable or schema too old, stale CRL, disk full), 5
 * internal error (a bug).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "check.h"
#include "confcheck.h"
#include "config.h"
#include "console.h"
#include "date.h"
#include "exitcode.h"
#include "licence_view.h"
#include "log.h"
#include "pipeline.h"
#include "registry.h"
#include "report.h"
#include "review.h"
#include "retention.h"
#include "run.h"
#include "status.h"
#include "store.h"
#include "store_console.h"
#include "store_report.h"


/* The options a command may take besides --config and --help (OPT_*). */
#define OPT_FORMAT	(1u << 0)	/* --format */
#define OPT_FILTERS	(1u << 1)	/* --centre --licence --from --to */
#define OPT_REVIEWER	(1u << 2)	/* --by --note */
#define OPT_RUN		(1u << 3)	/* --once --foreground */
#define OPT_DRY_RUN	(1u << 4)	/* --dry-run */
#define OPT_AS_OF	(1u << 5)	/* --as-of */
#define OPT_MONTH	(1u << 6)	/* --month */
#define OPT_FOREGROUND	(1u << 7)	/* --foreground alone (console) */
#define OPT_IMPORT	(1u << 8)	/* --encoding --by (registry import) */
#define OPT_ACTION	(1u << 9)	/* --action (audit log) */
#define POS_ANY		(-1)		/* no limit on the arguments */

struct command;

/* A command line as parsed: the options, and the arguments left in pos
 * (borrowed from argv). */
struct cli {
	const struct command *cmd;
	const char *config;
	const char *format;
	const char *centre, *licence, *from, *to;
	const char *by, *note;
	const char *as_of, *month;
	const char *encoding, *action;
	bool once, foreground, dry_run, help;
	char **pos;			/* owned array, borrowed strings */
	int n_pos;
};

/* A command is one word, or two for the groups (db migrate). */
struct command {
	const char *name;
	const char *sub;
	int (*run)(struct cli *o);
	unsigned opts;			/* OPT_* */
	int max_pos;			/* arguments after the command words, or POS_ANY */
	const char *usage;
	const char *summary;
};

static int cmd_help(struct cli *o);
static int cmd_db_migrate(struct cli *o);
static int cmd_db_status(struct cli *o);
static int cmd_registry_import(struct cli *o);
static int cmd_check(struct cli *o);
static int cmd_run(struct cli *o);
static int cmd_audit_verify_log(struct cli *o);
static int cmd_status(struct cli *o);
static int cmd_review(struct cli *o);
static int cmd_audit(struct cli *o);
static int cmd_purge(struct cli *o);
static int cmd_config_check(struct cli *o);
static int cmd_console(struct cli *o);
static int cmd_audit_report(struct cli *o);

/* Anchors one verify-log checks (SEQ:HASH arguments). */
#define VERIFY_LOG_MAX_ANCHORS 64

static const struct command commands[] = {
	{ "help", NULL, cmd_help, 0, 2, "attestd help [COMMAND]",
	  "show the commands, or one command's usage" },
	{ "db", "migrate", cmd_db_migrate, 0, 0, "attestd db migrate [--config F]",
	  "apply the SQL migrations this binary carries (idempotent)" },
	{ "db", "status", cmd_db_status, 0, 0, "attestd db status [--config F]",
	  "show applied and pending migrations; exit 4 unless up to date" },
	{ "registry", "import", cmd_registry_import, OPT_IMPORT, 2,
	  "attestd registry import centres|facilitators|licences|events FILE.csv "
	  "[--encoding windows-1252|latin-1] [--by NAME] [--config F]",
	  "load or update a registry from CSV (`,` or `;` as the header has it; UTF-8 unless "
	  "--encoding), in one transaction with its audit-log row; --by: the person acting "
	  "through a shared account" },
	{ "run", NULL, cmd_run, OPT_RUN, 0, "attestd run [--once] [--foreground] [--config F]",
	  "the service: watch the inbox and process files as they come; --once: process "
	  "what is there now (the spool first), then exit" },
	{ "status", NULL, cmd_status, 0, 0, "attestd status [--config F]",
	  "queue per centre, spool, pending/review/overdue/near-deadline counts, last file, "
	  "running instances and their faults" },
	{ "review", "list", cmd_review, OPT_FORMAT, 0,
	  "attestd review list [--format table|csv|json] [--config F]",
	  "the attestations waiting for a person (decision review), oldest deadline first" },
	{ "review", "show", cmd_review, OPT_FORMAT, 1,
	  "attestd review show ID [--format table|csv|json] [--config F]",
	  "one attestation's reasons and evidence: identities (attestation, sign-in sheet, "
	  "registry), attendance, the stage, its decision history" },
	{ "review", "accept", cmd_review, OPT_REVIEWER, 1,
	  "attestd review accept ID --by NAME --note TEXT [--config F]",
	  "clear the review checks: the points rules decide (ledger, balance, history), the "
	  "centre gets a new receipt, the audit log a row" },
	{ "review", "reject", cmd_review, OPT_REVIEWER, 1,
	  "attestd review reject ID --by NAME --note TEXT [--config F]",
	  "reject it for the reasons that sent it to review; new receipt, audit-log row" },
	{ "audit", "attestations", cmd_audit, OPT_FORMAT | OPT_FILTERS, 0,
	  "attestd audit attestations [--centre A] [--licence L] [--from D] [--to D] "
	  "[--format table|csv|json] [--config F]",
	  "decisions, filtered by centre, licence, stages held from D to D" },
	{ "audit", "licence", cmd_audit, OPT_FORMAT | OPT_AS_OF, 1,
	  "attestd audit licence L [--as-of D] [--format table|csv|json] [--config F]",
	  "a licence's balance, ledger, balance history, attestations and decision history; "
	  "--as-of D: its balance and ceiling on D by the daemon's replay, and the events up to D" },
	{ "audit", "centre", cmd_audit, OPT_FORMAT, 1,
	  "attestd audit centre A [--format table|csv|json] [--config F]",
	  "a centre's submissions, late transmissions and rejections" },
	{ "audit", "log", cmd_audit, OPT_FORMAT | OPT_FILTERS | OPT_ACTION, 0,
	  "attestd audit log [--action A] [--from D] [--to D] [--format table|csv|json] "
	  "[--config F]",
	  "the audit log's rows, oldest first: who did what (registry imports, reviews, "
	  "redecisions); --action registry: every registry.* action" },
	{ "audit", "overdue", cmd_audit, OPT_FORMAT, 0,
	  "attestd audit overdue [--format table|csv|json] [--config F]",
	  "attestations not decided within one month of reception" },
	{ "purge", NULL, cmd_purge, OPT_DRY_RUN, 0, "attestd purge [--dry-run] [--config F]",
	  "apply the 3-year retention (3 years from the stage's last day, arrete of 26 June "
	  "2012 art. 15; see attestd(8)) and say what was removed; --dry-run: say what "
	  "would be, remove nothing" },
	{ "audit", "verify-log", cmd_audit_verify_log, 0, VERIFY_LOG_MAX_ANCHORS,
	  "attestd audit verify-log [--config F] [SEQ:HASH ...]",
	  "check the audit log's hash chain; name the first broken row; each SEQ:HASH (an "
	  "action=audit-anchor line of the daemon's log) must still be that row's hash" },
	{ "audit", "verify-archive", cmd_audit, 0, 0, "attestd audit verify-archive [--config F]",
	  "re-hash every archived original and identity scan against the database" },
	{ "audit", "report", cmd_audit_report, OPT_FORMAT | OPT_MONTH, 0,
	  "attestd audit report --month YYYY-MM [--format html|csv] [--config F]",
	  "the monthly compliance report, the console's page as one self-contained HTML file "
	  "(default) or its tables as CSV" },
	{ "console", NULL, cmd_console, OPT_FOREGROUND, 0,
	  "attestd console [--foreground] [--config F]",
	  "the web console for the back office and the auditors ([console] in the "
	  "configuration): each person signs in with their own PostgreSQL role" },
	{ "check", NULL, cmd_check, 0, POS_ANY, "attestd check [--config F] FILE...",
	  "check files before sending them: name, size, XML, schema, signature, certificate" },
	{ "config", "check", cmd_config_check, 0, 0, "attestd config check [--config F]",
	  "check the configuration as the service would use it: keys, trust files, "
	  "directories, database; exit 0 ok, 3 configuration, 4 environment" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Finds the command named by argv[0] (and argv[1] for groups); *words is
 * how many words named it.  A group named without a known sub-command
 * returns NULL with *words = 1 so the caller can say what is expected. */
static const struct command *command_find(int argc, char **argv, int *words)
{
	*words = 0;
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(commands[i].name, argv[0]) != 0)
			continue;
		*words = 1;
		if (commands[i].sub == NULL)
			return &commands[i];
		if (argc > 1 && strcmp(commands[i].sub, argv[1]) == 0) {
			*words = 2;
			return &commands[i];
		}
	}
	return NULL;
}

static int usage_error(const char *usage, const char *fmt, const char *arg)
{
	fprintf(stderr, "attestd: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nusage: %s\n", usage);
	return EXIT_USAGE;
}

/* The options every parser knows; kind 0: every command takes it. */
struct option_spec {
	const char *name;		/* long name, without the dashes */
	char short_name;		/* 0: none */
	bool has_value;
	unsigned kind;			/* OPT_* */
	const char *value_name;		/* in the help: --name VALUE */
	const char *help;
};

static const struct option_spec option_specs[] = {
	{ "once", 0, false, OPT_RUN, NULL, "process what is in the spool and the inbox now, then exit "
	  "(exit 4 when a fault of this machine kept files for later)" },
	{ "foreground", 0, false, OPT_RUN | OPT_FOREGROUND, NULL, "log to stderr too" },
	{ "dry-run", 0, false, OPT_DRY_RUN, NULL, "say what would be removed, remove nothing" },
	{ "centre", 0, true, OPT_FILTERS, "A", "the centre of approval number A only" },
	{ "licence", 0, true, OPT_FILTERS, "L", "licence number L only" },
	{ "from", 0, true, OPT_FILTERS, "D", "stages whose first day is on or after D (YYYY-MM-DD)" },
	{ "to", 0, true, OPT_FILTERS, "D", "stages whose last day is on or before D" },
	{ "format", 0, true, OPT_FORMAT, "FMT", "table, csv or json (default: table on a terminal, "
	  "csv otherwise); audit report: html (default) or csv" },
	{ "as-of", 0, true, OPT_AS_OF, "D", "the balance and ceiling on day D (YYYY-MM-DD)" },
	{ "month", 0, true, OPT_MONTH, "YYYY-MM", "the month of the report" },
	{ "by", 0, true, OPT_REVIEWER | OPT_IMPORT, "NAME", "who decides or acts, e.g. a person "
	  "acting through a shared account (one line, at most 100 bytes)" },
	{ "encoding", 0, true, OPT_IMPORT, "ENC", "the file's encoding: utf-8 (default), "
	  "windows-1252 or latin-1 (a spreadsheet's CSV export)" },
	{ "action", 0, true, OPT_ACTION, "A", "rows of that action only (registry: every "
	  "registry.* action)" },
	{ "note", 0, true, OPT_REVIEWER, "TEXT", "why (one line, at most 2000 bytes)" },
	{ "config", 'c', true, 0, "F", "the configuration file (default $ATTESTD_CONFIG, else "
	  CONFIG_DEFAULT_PATH "; see attestd.conf(5))" },
	{ "help", 'h', false, 0, NULL, "show this help and exit" },
};

#define N_OPTION_SPECS (sizeof(option_specs) / sizeof(option_specs[0]))

/* The value slot of a value option in o. */
static const char **option_slot(struct cli *o, const char *name)
{
	static const struct { const char *name; size_t offset; } slots[] = {
		{ "config", offsetof(struct cli, config) }, { "format", offsetof(struct cli, format) },
		{ "centre", offsetof(struct cli, centre) }, { "licence", offsetof(struct cli, licence) },
		{ "from", offsetof(struct cli, from) }, { "to", offsetof(struct cli, to) },
		{ "by", offsetof(struct cli, by) }, { "note", offsetof(struct cli, note) },
		{ "as-of", offsetof(struct cli, as_of) }, { "month", offsetof(struct cli, month) },
		{ "encoding", offsetof(struct cli, encoding) }, { "action", offsetof(struct cli, action) },
	};
	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
		if (strcmp(slots[i].name, name) == 0)
			return (const char **)(void *)((char *)o + slots[i].offset);
	return NULL;
}

static void option_set_flag(struct cli *o, const char *name)
{
	if (strcmp(name, "once") == 0)
		o->once = true;
	else if (strcmp(name, "foreground") == 0)
		o->foreground = true;
	else if (strcmp(name, "dry-run") == 0)
		o->dry_run = true;
	else if (strcmp(name, "help") == 0)
		o->help = true;
}

/*
 * The one parser of every command: options (--name VALUE, --name=VALUE,
 * -c F, -cF, -h) anywhere after the command words, in any order; "--"
 * ends them.  The other words are the command's arguments, at most
 * cmd->max_pos.  Fills o (o->pos to free with cli_clear).  Returns 0, or
 * EXIT_USAGE after saying what is wrong; -h/--help anywhere wins over any
 * other problem, so that a person asking for help gets it.
 */
static int cli_parse(const struct command *cmd, int argc, char **argv, struct cli *o)
{
	memset(o, 0, sizeof(*o));
	o->cmd = cmd;
	o->config = getenv("ATTESTD_CONFIG") ? getenv("ATTESTD_CONFIG") : CONFIG_DEFAULT_PATH;
	o->pos = calloc((size_t)argc + 1, sizeof(*o->pos));
	if (o->pos == NULL)
		return EXIT_INTERNAL;
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			break;
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			o->help = true;
	if (o->help)
		return 0;

	bool options_done = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (options_done || a[0] != '-' || a[1] == '\0') {
			if (cmd->max_pos != POS_ANY && o->n_pos >= cmd->max_pos)
				return usage_error(cmd->usage, "unexpected argument '%s'", a);
			o->pos[o->n_pos++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			options_done = true;
			continue;
		}
		/* --name, --name=VALUE, -x, -xVALUE */
		const struct option_spec *spec = NULL;
		const char *value = NULL;
		size_t len = 0;
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
			value = eq ? eq + 1 : NULL;
			for (size_t k = 0; k < N_OPTION_SPECS; k++)
				if (strlen(option_specs[k].name) == len &&
				    strncmp(option_specs[k].name, a + 2, len) == 0)
					spec = &option_specs[k];
		} else {
			for (size_t k = 0; k < N_OPTION_SPECS; k++)
				if (option_specs[k].short_name && option_specs[k].short_name == a[1])
					spec = &option_specs[k];
			if (spec && a[2] != '\0')
				value = a + 2;
		}
		if (spec == NULL || (spec->kind && !(cmd->opts & spec->kind)))
			return usage_error(cmd->usage, spec ? "option %s does not apply here"
							     : "unknown option %s", a);
		if (!spec->has_value) {
			if (value)
				return usage_error(cmd->usage, "option %s takes no value", a);
			option_set_flag(o, spec->name);
			continue;
		}
		if (value == NULL) {
			if (i + 1 >= argc)
				return usage_error(cmd->usage, "option %s needs a value", a);
			value = argv[++i];
		}
		*option_slot(o, spec->name) = value;
	}
	return 0;
}

static void cli_clear(struct cli *o)
{
	free(o->pos);
	o->pos = NULL;
}

/* A command's help: its usage, what it does, the options it takes. */
static void command_help(const struct command *c, FILE *out)
{
	fprintf(out, "usage: %s\n  %s\n\noptions:\n", c->usage, c->summary);
	for (size_t k = 0; k < N_OPTION_SPECS; k++) {
		const struct option_spec *spec = &option_specs[k];
		if (spec->kind && !(c->opts & spec->kind))
			continue;
		char names[40];
		snprintf(names, sizeof(names), "%s%c%s--%s%s%s", spec->short_name ? "-" : "",
			 spec->short_name ? spec->short_name : ' ', spec->short_name ? ", " : "",
			 spec->name, spec->value_name ? " " : "",
			 spec->value_name ? spec->value_name : "");
		fprintf(out, "  %-16s %s\n", names + (spec->short_name ? 0 : 1), spec->help);
	}
	fprintf(out, "\nSee attestd(8) for the commands and exit codes, attestd.conf(5) for the "
		"configuration.\n");
}

/* Loads the configuration or says why not (exit 3). */
static struct config *config_or_exit(const char *path, int *status)
{
	char *errors = NULL;
	struct config *cfg = config_load(path, &errors);
	if (cfg == NULL) {
		fprintf(stderr, "%s", errors ? errors : "");
		fprintf(stderr, "attestd: configuration %s is not valid: fix it and retry\n", path);
		free(errors);
		*status = EXIT_CONFIG;
		return NULL;
	}
	/* Local dates are the prefecture's: run in its zone, so that the date
	 * functions never switch TZ per call. */
	setenv("TZ", cfg->timezone, 1);
	tzset();
	return cfg;
}

/* The configuration, then the database: NULL *st (and *status set: 3 or 4)
 * when either cannot be had, the cause said on stderr. */
static struct config *config_and_store(const char *config_path, struct store **st, int *status)
{
	struct config *cfg = config_or_exit(config_path, status);
	*st = cfg ? store_connect_or_say(cfg->conninfo, cfg->path) : NULL;
	if (cfg && *st == NULL)
		*status = EXIT_ENVIRONMENT;
	/* What these commands change is told once committed: durably. */
	char *err = NULL;
	if (*st && store_set_synchronous_commit(*st, cfg->synchronous_commit, &err) != STORE_OK) {
		fprintf(stderr, "attestd: %s\n", err);
		store_free(*st);
		*st = NULL;
		*status = EXIT_ENVIRONMENT;
	}
	free(err);
	return cfg;
}

static int cmd_db(struct cli *o, enum store_status (*fn)(struct store *, FILE *, char **))
{
	int status = 0;
	struct store *st;
	struct config *cfg = config_and_store(o->config, &st, &status);
	if (st) {
		char *err = NULL;
		enum store_status s = fn(st, stdout, &err);
		if (s != STORE_OK)
			fprintf(stderr, "attestd: %s\n", err ? err : "database error");
		free(err);
		status = store_exit_code(s);
	}
	store_free(st);
	config_free(cfg);
	return status;
}

static int cmd_db_migrate(struct cli *o)
{
	return cmd_db(o, store_migrate);
}

static int cmd_db_status(struct cli *o)
{
	return cmd_db(o, store_db_status);
}

static int cmd_registry_import(struct cli *o)
{
	const char *usage = o->cmd->usage;
	const char *config_path = o->config;
	char **pos = o->pos;
	int n_pos = o->n_pos, status = 0;
	struct registry_options opt = { .encoding = CSV_UTF8, .progress = isatty(2), .by = o->by };
	if (n_pos != 2)
		return usage_error(usage, "%s", "registry import needs a kind and a file");
	enum registry_kind kind = registry_kind_from_name(pos[0]);
	if (kind == REGISTRY_KIND_COUNT)
		return usage_error(usage, "unknown registry '%s'", pos[0]);
	if (o->encoding && !csv_encoding_from_name(o->encoding, &opt.encoding))
		return usage_error(usage, "unknown encoding '%s' (windows-1252, latin-1 or utf-8)",
				   o->encoding);
	if (o->by && (o->by[0] == '\0' || strlen(o->by) > 100 || strpbrk(o->by, "\n\r\t")))
		return usage_error(usage, "%s", "--by wants the name of the person acting (1 to 100 "
				   "characters, one line)");

	struct store *st;
	struct config *cfg = config_and_store(config_path, &st, &status);
	struct pipeline *p = NULL;
	char *err = NULL;
	/* Licences and events may unblock attestations: the pipeline decides
	 * them in the import's transaction and writes their receipts after. */
	if (st && (kind == REGISTRY_LICENCES || kind == REGISTRY_EVENTS)) {
		if (store_schema_status(st, NULL, &err) == STORE_OK)
			p = pipeline_new(cfg, st, false, &err);
		if (p == NULL) {
			fprintf(stderr, "attestd: %s\n", err);
			free(err);
			err = NULL;
			status = EXIT_ENVIRONMENT;
			store_free(st);
			st = NULL;
		}
	}
	if (st) {
		struct registry_report rep = { 0 };
		struct registry_hook hook = { .ctx = p, .after_merge = pipeline_registry_changed };
		char sep = ',';
		opt.timezone = cfg->timezone;
		log_open(false);
		enum store_status s = registry_import_file(st, kind, pos[1], &opt, p ? &hook : NULL,
							   &rep, &sep, &err);
		log_close();
		if (s == STORE_OK && p && pipeline_flush_receipts(p) != REASON_OK)
			fprintf(stderr, "attestd: the import is committed but some receipts could not be "
				"written yet; the next run writes them\n");
		if (s == STORE_OK) {
			printf("%s: separator '%c', encoding %s: %ld records: %ld new, %ld updated, "
			       "%ld unchanged\n", pos[1], sep, csv_encoding_name(opt.encoding),
			       rep.records, rep.inserted, rep.updated, rep.unchanged);
		} else if (s == STORE_INVALID && err == NULL) {
			for (size_t i = 0; i < rep.n_problems; i++) {
				const struct registry_problem *pr = &rep.problems[i];
				if (pr->line > 0 && pr->record > 0)
					fprintf(stderr, "%s:%ld: record %ld: %s\n", pos[1], pr->line,
						pr->record, pr->message);
				else if (pr->line > 0)
					fprintf(stderr, "%s:%ld: %s\n", pos[1], pr->line, pr->message);
				else
					fprintf(stderr, "%s: %s\n", pos[1], pr->message);
			}
			if (rep.problems_total > (long)rep.n_problems)
				fprintf(stderr, "%s: ... and %ld more problems\n", pos[1],
					rep.problems_total - (long)rep.n_problems);
			fprintf(stderr, "attestd: %s: nothing imported; correct the records above "
				"and import the file again\n", pos[1]);
		} else {
			fprintf(stderr, "attestd: %s\n", err ? err : "database error");
		}
		free(err);
		registry_report_clear(&rep);
		status = store_exit_code(s);
	}
	pipeline_free(p);
	store_free(st);
	config_free(cfg);
	return status;
}

static void usage_overview(FILE *out)
{
	fprintf(out, "usage: attestd COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %s\n      %s\n", commands[i].usage, commands[i].summary);
	fprintf(out, "  attestd --version\n      print the version\n");
	fprintf(out, "\nEvery command accepts --config F (default /etc/attestd/attestd.conf) and "
		"-h/--help (its own help),\nanywhere after the command words.  See attestd(8), "
		"and attestd.conf(5) for the configuration.\n");
}

/* help [COMMAND [SUB]]: the overview, or the help of every command that
 * matches (a group's sub-commands when SUB is not given). */
static int group_help(const char *name, const char *sub, FILE *out)
{
	bool any = false;
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(commands[i].name, name) != 0 ||
		    (sub && commands[i].sub && strcmp(commands[i].sub, sub) != 0))
			continue;
		if (any)
			fputc('\n', out);
		command_help(&commands[i], out);
		any = true;
	}
	if (!any) {
		fprintf(stderr, "attestd: unknown command '%s'; try 'attestd help'\n", name);
		return EXIT_USAGE;
	}
	return EXIT_SUCCESS;
}

static int cmd_help(struct cli *o)
{
	if (o->n_pos == 0) {
		usage_overview(stdout);
		return EXIT_SUCCESS;
	}
	return group_help(o->pos[0], o->n_pos > 1 ? o->pos[1] : NULL, stdout);
}

static int cmd_status(struct cli *o)
{
	int status = 0;
	struct config *cfg = config_or_exit(o->config, &status);
	if (cfg == NULL)
		return status;
	status = status_show(cfg, stdout);
	config_free(cfg);
	return status;
}

static int cmd_purge(struct cli *o)
{
	const char *config_path = o->config;
	bool dry_run = o->dry_run;
	int status = 0;
	struct store *st;
	struct config *cfg = config_and_store(config_path, &st, &status);
	if (st) {
		char *err = NULL;
		enum store_status s = store_schema_status(st, NULL, &err);
		if (s != STORE_OK) {
			fprintf(stderr, "attestd: %s\n", err ? err : "database error");
			status = store_exit_code(s);
		} else {
			log_open(false);
			status = retention_purge(cfg, st, dry_run, isatty(2), stdout);
			log_close();
		}
		free(err);
	}
	store_free(st);
	config_free(cfg);
	return status;
}

static int cmd_audit_verify_log(struct cli *o)
{
	const char *usage = o->cmd->usage;
	const char *config_path = o->config;
	char **pos = o->pos;
	int n_pos = o->n_pos, status = 0;
	long anchor_seq[VERIFY_LOG_MAX_ANCHORS];
	char anchor_hash[VERIFY_LOG_MAX_ANCHORS][65];
	for (int i = 0; i < n_pos; i++) {
		char *end = NULL;
		anchor_seq[i] = strtol(pos[i], &end, 10);
		if (end == pos[i] || *end != ':' || anchor_seq[i] < 1 || strlen(end + 1) != 64 ||
		    strspn(end + 1, "0123456789abcdef") != 64)
			return usage_error(usage, "'%s' is not an anchor SEQ:HASH (a row number, a colon, "
					   "64 lower-case hex digits)", pos[i]);
		snprintf(anchor_hash[i], sizeof(anchor_hash[i]), "%s", end + 1);
	}
	struct store *st;
	struct config *cfg = config_and_store(config_path, &st, &status);
	if (st) {
		long rows = 0, broken = 0;
		char *why = NULL, *err = NULL;
		enum store_status s = store_audit_verify(st, &rows, &broken, &why, &err);
		if (s != STORE_OK) {
			fprintf(stderr, "attestd: %s\n", err);
			status = store_exit_code(s);
		} else if (broken) {
			printf("audit log: BROKEN at row %ld: %s\n", broken, why);
			printf("audit log: rows before %ld are intact; keep a copy of the database and "
			       "tell the security officer\n", broken);
			status = EXIT_INVALID;
		} else {
			printf("audit log: %ld rows, hash chain intact\n", rows);
		}
		/* A chain rewritten from its first row on is intact again, but
		 * no longer holds the hashes logged outside the database. */
		for (int i = 0; s == STORE_OK && i < n_pos; i++) {
			char hash[65];
			bool found = false;
			if ((s = store_audit_row_hash(st, anchor_seq[i], hash, &found, &err)) != STORE_OK) {
				fprintf(stderr, "attestd: %s\n", err);
				status = store_exit_code(s);
			} else if (!found || strcmp(hash, anchor_hash[i]) != 0) {
				printf("audit log: BROKEN: row %ld %s, not the hash %s logged for it; "
				       "keep a copy of the database and tell the security officer\n",
				       anchor_seq[i], found ? "has another hash" : "is gone",
				       anchor_hash[i]);
				status = EXIT_INVALID;
			} else {
				printf("audit log: anchor %ld matches\n", anchor_seq[i]);
			}
		}
		free(why);
		free(err);
	}
	store_free(st);
	config_free(cfg);
	return status;
}

static int format_of(const struct cli *o, const char *usage, enum report_format *format)
{
	*format = report_format_default(stdout);
	if (o->format && !report_format_from_name(o->format, format))
		return usage_error(usage, "unknown format '%s' (table, csv or json)", o->format);
	return 0;
}

static int id_of(const char *s, const char *usage, int64_t *id)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end || errno || v <= 0)
		return usage_error(usage, "'%s' is not an attestation id (see attestd review list)", s);
	*id = v;
	return 0;
}

static int date_of(const char *s, const char *usage)
{
	date_t d;
	if (s && !date_parse(s, &d))
		return usage_error(usage, "'%s' is not a date (YYYY-MM-DD)", s);
	return 0;
}

/* review list | show ID | accept ID --by NAME --note TEXT | reject ... */
static int cmd_review(struct cli *op)
{
	const struct cli o = *op;
	const char *sub = o.cmd->sub;
	const char *usage = o.cmd->usage;
	bool acting = strcmp(sub, "accept") == 0 || strcmp(sub, "reject") == 0;
	bool list = strcmp(sub, "list") == 0;
	enum report_format format = REPORT_TABLE;
	int64_t id = 0;
	int status = 0;
	if (!list && o.n_pos != 1)
		status = usage_error(usage, "%s", "which attestation? give its id");
	if (status == 0 && !list)
		status = id_of(o.pos[0], usage, &id);
	if (status == 0 && acting && !review_text_ok(o.by, REVIEW_MAX_BY))
		status = usage_error(usage, "%s", "--by NAME is required: who decides (one line, "
				     "at most 100 bytes)");
	if (status == 0 && acting && !review_text_ok(o.note, REVIEW_MAX_NOTE))
		status = usage_error(usage, "%s", "--note TEXT is required: why (one line, at most "
				     "2000 bytes)");
	if (status == 0 && !acting)
		status = format_of(&o, usage, &format);
	struct config *cfg = status == 0 ? config_or_exit(o.config, &status) : NULL;
	if (cfg == NULL)
		return status;
	if (list)
		status = review_list(cfg, format, stdout);
	else if (acting)
		status = review_decide(cfg, id, strcmp(sub, "accept") == 0, o.by, o.note, stdout);
	else
		status = review_show(cfg, id, format, stdout);
	config_free(cfg);
	return status;
}

static int audit_licence_as_of(const struct config *cfg, const char *licence, const char *day,
			       enum report_format format, FILE *out);

/* audit attestations | licence L | centre A | overdue | verify-archive */
static int cmd_audit(struct cli *op)
{
	const struct cli o = *op;
	const char *sub = o.cmd->sub;
	const char *usage = o.cmd->usage;
	struct audit_request req = { .query = AUDIT_OVERDUE };
	bool archive = strcmp(sub, "verify-archive") == 0;
	int max_pos = o.cmd->max_pos;
	if (strcmp(sub, "attestations") == 0)
		req.query = AUDIT_ATTESTATIONS;
	else if (strcmp(sub, "log") == 0)
		req.query = AUDIT_LOG;
	else if (strcmp(sub, "licence") == 0 || strcmp(sub, "centre") == 0)
		req.query = sub[0] == 'l' ? AUDIT_LICENCE : AUDIT_CENTRE;
	int status = 0;
	if (o.n_pos != max_pos)
		status = usage_error(usage, "%s", req.query == AUDIT_LICENCE ? "which licence?"
						  : "which centre? give its approval number");
	if (status == 0)
		status = date_of(o.from, usage);
	if (status == 0)
		status = date_of(o.to, usage);
	if (status == 0)
		status = date_of(o.as_of, usage);
	if (status == 0 && req.query == AUDIT_LOG && (o.centre || o.licence))
		status = usage_error(usage, "%s", "the audit log is filtered by --action, --from "
				     "and --to");
	if (status == 0 && o.from && o.to && strcmp(o.from, o.to) > 0)
		status = usage_error(usage, "--from %s is after --to", o.from);
	if (status == 0 && !archive)
		status = format_of(&o, usage, &req.format);
	struct config *cfg = status == 0 ? config_or_exit(o.config, &status) : NULL;
	if (cfg == NULL)
		return status;
	req.filter = (struct store_report_filter){ .centre = o.centre, .licence = o.licence,
						   .from = o.from, .to = o.to, .action = o.action };
	req.subject = o.pos[0];
	if (o.as_of)
		status = audit_licence_as_of(cfg, req.subject, o.as_of, req.format, stdout);
	else
		status = archive ? audit_verify_archive(cfg, isatty(2), stdout)
				 : audit_report(cfg, &req, stdout);
	config_free(cfg);
	return status;
}


static int cmd_run(struct cli *o)
{
	const char *config_path = o->config;
	bool once = o->once, foreground = o->foreground;
	int status = 0;
	struct config *cfg = config_or_exit(config_path, &status);
	if (cfg == NULL)
		return status;
	log_open(foreground);
	if (once) {
		status = run_once(cfg);
		config_free(cfg);
	} else {
		status = run_service(cfg, config_path);	/* takes cfg */
	}
	log_close();
	return status;
}

static int cmd_check(struct cli *o)
{
	int status = 0;
	if (o->n_pos == 0)
		status = usage_error(o->cmd->usage, "%s", "check needs at least one file");
	struct config *cfg = status == 0 ? config_or_exit(o->config, &status) : NULL;
	if (cfg)
		status = check_files(cfg, o->pos, o->n_pos, time(NULL), stdout, stderr);
	config_free(cfg);
	return status;
}

/* audit licence L --as-of D: the replay of the console's licence page. */
static int audit_licence_as_of(const struct config *cfg, const char *licence, const char *day,
			       enum report_format format, FILE *out)
{
	date_t d;
	date_parse(day, &d);
	if (!licence_view_number_ok(licence)) {
		fprintf(stderr, "attestd: '%s' is not a licence number (9 to 15 digits or capitals)\n",
			licence);
		return EXIT_INVALID;
	}
	struct store *st = store_connect_or_say(cfg->conninfo, cfg->path);
	if (st == NULL)
		return EXIT_ENVIRONMENT;
	char *err = NULL;
	bool known = false;
	struct licence_view v;
	enum store_status rc = store_report_session(st, cfg->timezone, &err);
	if (rc == STORE_OK)
		rc = licence_view_load(st, licence, d, &v, &known, &err);
	if (rc == STORE_OK && !known) {
		fprintf(stderr, "attestd: nothing is recorded for licence %s (no registry entry or "
			"ledger event)\n", licence);
		rc = STORE_INVALID;
	} else if (rc == STORE_OK) {
		licence_view_print(&v, licence, (int)format, out);
		licence_view_free(&v);
	} else {
		fprintf(stderr, "attestd: %s\n", err ? err : "database error");
	}
	free(err);
	store_free(st);
	return store_exit_code(rc);
}

/* audit report --month M [--format html|csv] */
static int cmd_audit_report(struct cli *o)
{
	const char *usage = o->cmd->usage;
	const char *format = o->format ? o->format : "html";
	if (o->month == NULL)
		return usage_error(usage, "%s", "--month YYYY-MM is required");
	if (strcmp(format, "html") != 0 && strcmp(format, "csv") != 0)
		return usage_error(usage, "unknown format '%s' (html or csv)", format);
	int status = 0;
	struct store *st;
	struct config *cfg = config_and_store(o->config, &st, &status);
	if (st) {
		char *err = NULL;
		enum store_status rc = store_console_session(st, cfg->timezone, &err);
		if (rc == STORE_OK)
			rc = console_report_monthly(st, o->month, strcmp(format, "csv") == 0, stdout,
						    &err);
		if (rc != STORE_OK)
			fprintf(stderr, "attestd: %s\n", err ? err : "database error");
		free(err);
		status = store_exit_code(rc);
	}
	store_free(st);
	config_free(cfg);
	return status;
}

/* console: the web console, in the foreground of its unit (console.h). */
static int cmd_console(struct cli *o)
{
	int status = 0;
	struct config *cfg = config_or_exit(o->config, &status);
	if (cfg == NULL)
		return status;
	log_open(o->foreground);
	status = console_main(cfg, o->foreground);
	log_close();
	config_free(cfg);
	return status;
}

/* config check: see confcheck.h; findings on stdout, for the journal too. */
static int cmd_config_check(struct cli *o)
{
	return confcheck_run(o->config, time(NULL), stdout);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "attestd: missing command; try 'attestd help'\n");
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("attestd %s\n", ATTESTD_VERSION);
		return EXIT_SUCCESS;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage_overview(stdout);
		return EXIT_SUCCESS;
	}
	int words;
	const struct command *c = command_find(argc - 1, argv + 1, &words);
	if (c == NULL) {
		/* A group asked for its help (attestd db --help): its commands'. */
		for (int i = 2; words == 1 && i < argc; i++)
			if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
				return group_help(argv[1], NULL, stdout);
		if (words == 1)
			fprintf(stderr, "attestd: '%s' needs a sub-command; try 'attestd help %s'\n",
				argv[1], argv[1]);
		else
			fprintf(stderr, "attestd: unknown command '%s'; try 'attestd help'\n", argv[1]);
		return EXIT_USAGE;
	}
	struct cli o;
	int status = cli_parse(c, argc - 1 - words, argv + 1 + words, &o);
	if (status == 0 && o.help) {
		command_help(c, stdout);
		status = EXIT_SUCCESS;
	} else if (status == 0) {
		status = c->run(&o);
	}
	cli_clear(&o);
	return status;
}
