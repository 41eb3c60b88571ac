/*
 * main - the attestd command line: a table of subcommands, each a thin
 * layer over the modules.  Exit codes (interfaces.md): 0 success, 1 some
 * input invalid, 2 usage, 3 bad configuration, 4 database unreachable or
 * schema too old, 5 internal error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "check.h"
#include "config.h"
#include "console.h"
#include "date.h"
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

#define EXIT_INVALID	1
#define EXIT_USAGE	2
#define EXIT_CONFIG	3
#define EXIT_DATABASE	4
#define EXIT_INTERNAL	5

/* A command is one word, or two for the groups (db migrate). */
struct command {
	const char *name;
	const char *sub;
	int (*run)(int argc, char **argv);
	const char *usage;
	const char *summary;
};

static int cmd_help(int argc, char **argv);
static int cmd_db_migrate(int argc, char **argv);
static int cmd_db_status(int argc, char **argv);
static int cmd_registry_import(int argc, char **argv);
static int cmd_check(int argc, char **argv);
static int cmd_run(int argc, char **argv);
static int cmd_audit_verify_log(int argc, char **argv);
static int cmd_status(int argc, char **argv);
static int cmd_review(int argc, char **argv);
static int cmd_audit(int argc, char **argv);
static int cmd_purge(int argc, char **argv);
static int cmd_console(int argc, char **argv);
static int cmd_audit_report(int argc, char **argv);

static const struct command commands[] = {
	{ "help", NULL, cmd_help, "attestd help [COMMAND]",
	  "show the commands, or one command's usage" },
	{ "db", "migrate", cmd_db_migrate, "attestd db migrate [--config F]",
	  "apply the SQL migrations this binary carries (idempotent)" },
	{ "db", "status", cmd_db_status, "attestd db status [--config F]",
	  "show applied and pending migrations; exit 4 unless up to date" },
	{ "registry", "import", cmd_registry_import,
	  "attestd registry import centres|facilitators|licences|events FILE.csv [--config F]",
	  "load or update a registry from CSV, in one transaction" },
	{ "run", NULL, cmd_run, "attestd run [--once] [--foreground] [--config F]",
	  "the service: watch the inbox and process files as they come; --once: process "
	  "what is there now (the spool first), then exit" },
	{ "status", NULL, cmd_status, "attestd status [--config F]",
	  "queue per centre, spool, pending/review/overdue/near-deadline counts, last file, "
	  "running instances and their faults" },
	{ "review", "list", cmd_review, "attestd review list [--format table|csv|json] [--config F]",
	  "the attestations waiting for a person (decision review), oldest deadline first" },
	{ "review", "show", cmd_review,
	  "attestd review show ID [--format table|csv|json] [--config F]",
	  "one attestation's reasons and evidence: identities (attestation, sign-in sheet, "
	  "registry), attendance, the stage, its decision history" },
	{ "review", "accept", cmd_review,
	  "attestd review accept ID --by NAME --note TEXT [--config F]",
	  "clear the review checks: the points rules decide (ledger, balance, history), the "
	  "centre gets a new receipt, the audit log a row" },
	{ "review", "reject", cmd_review,
	  "attestd review reject ID --by NAME --note TEXT [--config F]",
	  "reject it for the reasons that sent it to review; new receipt, audit-log row" },
	{ "audit", "attestations", cmd_audit,
	  "attestd audit attestations [--centre A] [--licence L] [--from D] [--to D] "
	  "[--format table|csv|json] [--config F]",
	  "decisions, filtered by centre, licence, stages held from D to D" },
	{ "audit", "licence", cmd_audit,
	  "attestd audit licence L [--as-of D] [--format table|csv|json] [--config F]",
	  "a licence's balance, ledger, balance history, attestations and decision history; "
	  "--as-of D: its balance and ceiling on D by the daemon's replay, and the events up to D" },
	{ "audit", "centre", cmd_audit,
	  "attestd audit centre A [--format table|csv|json] [--config F]",
	  "a centre's submissions, late transmissions and rejections" },
	{ "audit", "overdue", cmd_audit,
	  "attestd audit overdue [--format table|csv|json] [--config F]",
	  "attestations not decided within one month of reception" },
	{ "purge", NULL, cmd_purge, "attestd purge [--dry-run] [--config F]",
	  "apply the 3-year retention (rules.md §7) and say what was removed; --dry-run: say "
	  "what would be, remove nothing" },
	{ "audit", "verify-log", cmd_audit_verify_log,
	  "attestd audit verify-log [--config F] [SEQ:HASH ...]",
	  "check the audit log's hash chain; name the first broken row; each SEQ:HASH (an "
	  "action=audit-anchor line of the daemon's log) must still be that row's hash" },
	{ "audit", "verify-archive", cmd_audit, "attestd audit verify-archive [--config F]",
	  "re-hash every archived original and identity scan against the database" },
	{ "audit", "report", cmd_audit_report,
	  "attestd audit report --month YYYY-MM [--format html|csv] [--config F]",
	  "the monthly compliance report, the console's page as one self-contained HTML file "
	  "(default) or its tables as CSV" },
	{ "console", NULL, cmd_console, "attestd console [--foreground] [--config F]",
	  "the web console for the back office and the auditors ([console] in the "
	  "configuration): each person signs in with their own PostgreSQL role" },
	{ "check", NULL, cmd_check, "attestd check [--config F] FILE...",
	  "check files before sending them: name, size, XML, schema, signature, certificate" },
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

/* The usage line of a command, for its own error messages. */
static const char *command_usage(const char *name, const char *sub)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0 &&
		    (sub == NULL || (commands[i].sub && strcmp(commands[i].sub, sub) == 0)))
			return commands[i].usage;
	return "attestd help";
}


static int usage_error(const char *usage, const char *fmt, const char *arg)
{
	fprintf(stderr, "attestd: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nusage: %s\n", usage);
	return EXIT_USAGE;
}

/*
 * Parses the options every command takes (--config F) and leaves the
 * positional arguments in pos[0..*n_pos).  Returns 0, or EXIT_USAGE after
 * saying what is wrong.
 */
static int options_common(int argc, char **argv, const char *usage, const char **config,
			  char **pos, int max_pos, int *n_pos)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	*config = getenv("ATTESTD_CONFIG") ? getenv("ATTESTD_CONFIG") : CONFIG_DEFAULT_PATH;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+:c:", longopts, NULL)) != -1) {
		if (c == 'c')
			*config = optarg;
		else if (c == ':')
			return usage_error(usage, "option %s needs a value", argv[optind - 1]);
		else
			return usage_error(usage, "unknown option %s", argv[optind - 1]);
	}
	*n_pos = 0;
	for (int i = optind; i < argc; i++) {
		if (*n_pos == max_pos)
			return usage_error(usage, "unexpected argument '%s'", argv[i]);
		pos[(*n_pos)++] = argv[i];
	}
	return 0;
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
		*status = EXIT_DATABASE;
	return cfg;
}

static int cmd_db(int argc, char **argv, const char *usage,
		  enum store_status (*fn)(struct store *, FILE *, char **))
{
	const char *config_path;
	char *pos[1];
	int n_pos, status = options_common(argc, argv, usage, &config_path, pos, 0, &n_pos);
	if (status)
		return status;
	struct store *st;
	struct config *cfg = config_and_store(config_path, &st, &status);
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

static int cmd_db_migrate(int argc, char **argv)
{
	return cmd_db(argc, argv, command_usage("db", "migrate"), store_migrate);
}

static int cmd_db_status(int argc, char **argv)
{
	return cmd_db(argc, argv, command_usage("db", "status"), store_schema_status);
}

static int cmd_registry_import(int argc, char **argv)
{
	const char *usage = command_usage("registry", "import");
	const char *config_path;
	char *pos[2];
	int n_pos, status = options_common(argc, argv, usage, &config_path, pos, 2, &n_pos);
	if (status)
		return status;
	if (n_pos != 2)
		return usage_error(usage, "%s", "registry import needs a kind and a file");
	enum registry_kind kind = registry_kind_from_name(pos[0]);
	if (kind == REGISTRY_KIND_COUNT)
		return usage_error(usage, "unknown registry '%s'", pos[0]);

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
			status = EXIT_DATABASE;
			store_free(st);
			st = NULL;
		}
	}
	if (st) {
		struct registry_report rep = { 0 };
		struct registry_hook hook = { .ctx = p, .after_merge = pipeline_registry_changed };
		enum store_status s = registry_import_file(st, kind, pos[1], p ? &hook : NULL, &rep,
							   &err);
		if (s == STORE_OK && p && pipeline_flush_receipts(p) != REASON_OK)
			fprintf(stderr, "attestd: the import is committed but some receipts could not be "
				"written yet; the next run writes them\n");
		if (s == STORE_OK) {
			printf("%s: %ld records: %ld new, %ld updated, %ld unchanged\n", pos[1],
			       rep.records, rep.inserted, rep.updated, rep.unchanged);
		} else if (s == STORE_INVALID && err == NULL) {
			for (size_t i = 0; i < rep.n_problems; i++) {
				const struct registry_problem *pr = &rep.problems[i];
				if (pr->line > 0)
					fprintf(stderr, "%s:%ld: record %ld: %s\n", pos[1], pr->line,
						pr->record, pr->message);
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
	fprintf(out, "\nEvery command accepts --config F (default /etc/attestd/attestd.conf).\n");
}

static int cmd_help(int argc, char **argv)
{
	if (argc > 3) {
		fprintf(stderr, "attestd: usage: attestd help [COMMAND]\n");
		return EXIT_USAGE;
	}
	if (argc >= 2) {
		bool any = false;
		for (size_t i = 0; i < N_COMMANDS; i++) {
			if (strcmp(commands[i].name, argv[1]) != 0 ||
			    (argc == 3 && commands[i].sub && strcmp(commands[i].sub, argv[2]) != 0))
				continue;
			printf("usage: %s\n  %s\n", commands[i].usage, commands[i].summary);
			any = true;
		}
		if (!any) {
			fprintf(stderr, "attestd: unknown command '%s'; try 'attestd help'\n", argv[1]);
			return EXIT_USAGE;
		}
		return EXIT_SUCCESS;
	}
	usage_overview(stdout);
	return EXIT_SUCCESS;
}

static int cmd_status(int argc, char **argv)
{
	const char *usage = command_usage("status", NULL);
	const char *config_path;
	char *pos[1];
	int n_pos, status = options_common(argc, argv, usage, &config_path, pos, 0, &n_pos);
	if (status)
		return status;
	struct config *cfg = config_or_exit(config_path, &status);
	if (cfg == NULL)
		return status;
	status = status_show(cfg, stdout);
	config_free(cfg);
	return status;
}

static int cmd_purge(int argc, char **argv)
{
	const char *usage = command_usage("purge", NULL);
	const char *config_path;
	char *pos[1];
	bool dry_run = false;
	/* --dry-run is taken out before the common options are read. */
	char **rest = calloc((size_t)argc + 1, sizeof(*rest));
	if (rest == NULL)
		return EXIT_INTERNAL;
	int n_rest = 0;
	for (int i = 0; i < argc; i++) {
		if (i > 0 && strcmp(argv[i], "--dry-run") == 0)
			dry_run = true;
		else
			rest[n_rest++] = argv[i];
	}
	int n_pos, status = options_common(n_rest, rest, usage, &config_path, pos, 0, &n_pos);
	free(rest);
	if (status)
		return status;
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
			status = retention_purge(cfg, st, dry_run, stdout);
			log_close();
		}
		free(err);
	}
	store_free(st);
	config_free(cfg);
	return status;
}

/* Anchors one verify-log checks (SEQ:HASH arguments). */
#define VERIFY_LOG_MAX_ANCHORS 64

static int cmd_audit_verify_log(int argc, char **argv)
{
	const char *usage = command_usage("audit", "verify-log");
	const char *config_path;
	char *pos[VERIFY_LOG_MAX_ANCHORS];
	int n_pos, status = options_common(argc, argv, usage, &config_path, pos,
					   VERIFY_LOG_MAX_ANCHORS, &n_pos);
	if (status)
		return status;
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

/* The options of the review and audit commands; each command says which
 * of them it takes (CLI_*). */
#define CLI_FORMAT	(1u << 0)
#define CLI_FILTERS	(1u << 1)
#define CLI_REVIEWER	(1u << 2)

struct cli {
	const char *config;
	const char *format;
	const char *centre, *licence, *from, *to;
	const char *by, *note;
	char *pos[1];
	int n_pos;
};

/* Options may come before or after the arguments (review accept 12 --by X). */
static int options_cli(int argc, char **argv, const char *usage, unsigned allowed, int max_pos,
		       struct cli *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "format", required_argument, NULL, 'f' },
		{ "centre", required_argument, NULL, 'C' },
		{ "licence", required_argument, NULL, 'L' },
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' },
		{ "by", required_argument, NULL, 'b' },
		{ "note", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	memset(o, 0, sizeof(*o));
	o->config = getenv("ATTESTD_CONFIG") ? getenv("ATTESTD_CONFIG") : CONFIG_DEFAULT_PATH;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":c:", longopts, NULL)) != -1) {
		if (c == ':')
			return usage_error(usage, "option %s needs a value", argv[optind - 1]);
		if (c == '?')
			return usage_error(usage, "unknown option %s", argv[optind - 1]);
		unsigned kind = c == 'f' ? CLI_FORMAT : strchr("CLFT", c) ? CLI_FILTERS
						      : strchr("bn", c) ? CLI_REVIEWER : 0;
		if (kind && !(allowed & kind))
			return usage_error(usage, "option %s does not apply here", argv[optind - 1]);
		const char **slot = c == 'c' ? &o->config : c == 'f' ? &o->format
				    : c == 'C' ? &o->centre : c == 'L' ? &o->licence
				    : c == 'F' ? &o->from : c == 'T' ? &o->to
				    : c == 'b' ? &o->by : &o->note;
		*slot = optarg;
	}
	for (int i = optind; i < argc; i++) {
		if (o->n_pos == max_pos)
			return usage_error(usage, "unexpected argument '%s'", argv[i]);
		o->pos[o->n_pos++] = argv[i];
	}
	return 0;
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
static int cmd_review(int argc, char **argv)
{
	const char *sub = argv[0];
	const char *usage = command_usage("review", sub);
	bool acting = strcmp(sub, "accept") == 0 || strcmp(sub, "reject") == 0;
	bool list = strcmp(sub, "list") == 0;
	struct cli o;
	enum report_format format = REPORT_TABLE;
	int64_t id = 0;
	int status = options_cli(argc, argv, usage, acting ? CLI_REVIEWER : CLI_FORMAT,
				 list ? 0 : 1, &o);
	if (status == 0 && !list && o.n_pos != 1)
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
static int cmd_audit(int argc, char **argv)
{
	const char *sub = argv[0];
	const char *usage = command_usage("audit", sub);
	struct audit_request req = { .query = AUDIT_OVERDUE };
	bool archive = strcmp(sub, "verify-archive") == 0;
	unsigned allowed = archive ? 0 : CLI_FORMAT;
	int max_pos = 0;
	if (strcmp(sub, "attestations") == 0) {
		req.query = AUDIT_ATTESTATIONS;
		allowed |= CLI_FILTERS;
	} else if (strcmp(sub, "licence") == 0 || strcmp(sub, "centre") == 0) {
		req.query = sub[0] == 'l' ? AUDIT_LICENCE : AUDIT_CENTRE;
		max_pos = 1;
	}
	/* --as-of D (audit licence only) is taken out before the others. */
	const char *as_of = NULL;
	char **rest = calloc((size_t)argc + 1, sizeof(*rest));
	if (rest == NULL)
		return EXIT_INTERNAL;
	int n_rest = 0;
	for (int i = 0; i < argc; i++) {
		if (i > 0 && req.query == AUDIT_LICENCE && strcmp(argv[i], "--as-of") == 0 &&
		    i + 1 < argc)
			as_of = argv[++i];
		else if (i > 0 && req.query == AUDIT_LICENCE && strncmp(argv[i], "--as-of=", 8) == 0)
			as_of = argv[i] + 8;
		else
			rest[n_rest++] = argv[i];
	}
	struct cli o;
	int status = options_cli(n_rest, rest, usage, allowed, max_pos, &o);
	free(rest);	/* o points into argv's strings, not into rest */
	if (status == 0)
		status = date_of(as_of, usage);
	if (status == 0 && o.n_pos != max_pos)
		status = usage_error(usage, "%s", req.query == AUDIT_LICENCE ? "which licence?"
						  : "which centre? give its approval number");
	if (status == 0)
		status = date_of(o.from, usage);
	if (status == 0)
		status = date_of(o.to, usage);
	if (status == 0 && o.from && o.to && strcmp(o.from, o.to) > 0)
		status = usage_error(usage, "--from %s is after --to", o.from);
	if (status == 0 && !archive)
		status = format_of(&o, usage, &req.format);
	struct config *cfg = status == 0 ? config_or_exit(o.config, &status) : NULL;
	if (cfg == NULL)
		return status;
	req.filter = (struct store_report_filter){ .centre = o.centre, .licence = o.licence,
						   .from = o.from, .to = o.to };
	req.subject = o.pos[0];
	if (as_of)
		status = audit_licence_as_of(cfg, req.subject, as_of, req.format, stdout);
	else
		status = archive ? audit_verify_archive(cfg, stdout) : audit_report(cfg, &req, stdout);
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
		return EXIT_DATABASE;
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

static int cmd_audit_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "month", required_argument, NULL, 'm' },
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *usage = command_usage("audit", "report");
	const char *config_path = getenv("ATTESTD_CONFIG") ? getenv("ATTESTD_CONFIG")
							   : CONFIG_DEFAULT_PATH;
	const char *month = NULL, *format = "html";
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:", longopts, NULL)) != -1) {
		if (c == 'c')
			config_path = optarg;
		else if (c == 'm')
			month = optarg;
		else if (c == 'f')
			format = optarg;
		else if (c == ':')
			return usage_error(usage, "option %s needs a value", argv[optind - 1]);
		else
			return usage_error(usage, "unknown option %s", argv[optind - 1]);
	}
	if (optind < argc)
		return usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if (month == NULL)
		return usage_error(usage, "%s", "--month YYYY-MM is required");
	if (strcmp(format, "html") != 0 && strcmp(format, "csv") != 0)
		return usage_error(usage, "unknown format '%s' (html or csv)", format);
	int status = 0;
	struct store *st;
	struct config *cfg = config_and_store(config_path, &st, &status);
	if (st) {
		char *err = NULL;
		enum store_status rc = store_console_session(st, cfg->timezone, &err);
		if (rc == STORE_OK)
			rc = console_report_monthly(st, month, strcmp(format, "csv") == 0, stdout,
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

static int cmd_console(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *usage = command_usage("console", NULL);
	const char *config_path = getenv("ATTESTD_CONFIG") ? getenv("ATTESTD_CONFIG")
							   : CONFIG_DEFAULT_PATH;
	bool foreground = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:c:f", longopts, NULL)) != -1) {
		if (c == 'c')
			config_path = optarg;
		else if (c == 'f')
			foreground = true;
		else if (c == ':')
			return usage_error(usage, "option %s needs a value", argv[optind - 1]);
		else
			return usage_error(usage, "unknown option %s", argv[optind - 1]);
	}
	if (optind < argc)
		return usage_error(usage, "unexpected argument '%s'", argv[optind]);
	int status = 0;
	struct config *cfg = config_or_exit(config_path, &status);
	if (cfg == NULL)
		return status;
	log_open(foreground);
	status = console_main(cfg, foreground);
	log_close();
	config_free(cfg);
	return status;
}


static int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, 'o' },
		{ "foreground", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *usage = command_usage("run", NULL);
	const char *config_path = getenv("ATTESTD_CONFIG") ? getenv("ATTESTD_CONFIG")
							   : CONFIG_DEFAULT_PATH;
	bool once = false, foreground = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:c:of", longopts, NULL)) != -1) {
		if (c == 'c')
			config_path = optarg;
		else if (c == 'o')
			once = true;
		else if (c == 'f')
			foreground = true;
		else if (c == ':')
			return usage_error(usage, "option %s needs a value", argv[optind - 1]);
		else
			return usage_error(usage, "unknown option %s", argv[optind - 1]);
	}
	if (optind < argc)
		return usage_error(usage, "unexpected argument '%s'", argv[optind]);
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

static int cmd_check(int argc, char **argv)
{
	const char *usage = command_usage("check", NULL);
	const char *config_path;
	char **pos = calloc((size_t)argc, sizeof(*pos));
	int n_pos, status = pos ? options_common(argc, argv, usage, &config_path, pos, argc, &n_pos)
				: EXIT_INTERNAL;
	if (status == 0 && n_pos == 0)
		status = usage_error(usage, "%s", "check needs at least one file");
	struct config *cfg = status == 0 ? config_or_exit(config_path, &status) : NULL;
	if (cfg)
		status = check_files(cfg, pos, n_pos, time(NULL), stdout, stderr);
	config_free(cfg);
	free(pos);
	return status;
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
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(1, argv + 1);
	int words;
	const struct command *c = command_find(argc - 1, argv + 1, &words);
	if (c == NULL) {
		if (words == 1)
			fprintf(stderr, "attestd: '%s' needs a sub-command; try 'attestd help %s'\n",
				argv[1], argv[1]);
		else
			fprintf(stderr, "attestd: unknown command '%s'; try 'attestd help'\n", argv[1]);
		return EXIT_USAGE;
	}
	/* The handler sees its own name as argv[0], like a program. */
	return c->run(argc - words, argv + words);
}
