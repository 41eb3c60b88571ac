/*
 * main - the attestd command line: a table of subcommands, each a thin
 * layer over the modules.  Exit codes (interfaces.md): 0 success, 1 some
 * input invalid, 2 usage, 3 bad configuration, 4 database unreachable or
 * schema too old, 5 internal error.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "config.h"
#include "log.h"
#include "pipeline.h"
#include "registry.h"
#include "retention.h"
#include "run.h"
#include "status.h"
#include "store.h"

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
static int cmd_purge(int argc, char **argv);

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
	{ "purge", NULL, cmd_purge, "attestd purge [--dry-run] [--config F]",
	  "apply the 3-year retention (rules.md §7) and say what was removed; --dry-run: say "
	  "what would be, remove nothing" },
	{ "audit", "verify-log", cmd_audit_verify_log, "attestd audit verify-log [--config F]",
	  "check the audit log's hash chain; name the first broken row" },
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

static const char *command_find_usage(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
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
	}
	return cfg;
}

static int store_exit_status(enum store_status s)
{
	switch (s) {
	case STORE_OK:			return EXIT_SUCCESS;
	case STORE_INVALID:		return EXIT_INVALID;
	case STORE_UNAVAILABLE:		return EXIT_DATABASE;
	case STORE_SCHEMA_MISMATCH:	return EXIT_DATABASE;
	case STORE_ERROR:		break;
	}
	return EXIT_INTERNAL;
}

/* Connects with the configuration's conninfo; exit 4 when unreachable. */
static struct store *store_or_exit(const struct config *cfg, int *status)
{
	char *err = NULL;
	struct store *st = store_connect(cfg->conninfo, &err);
	if (st == NULL) {
		fprintf(stderr, "attestd: %s\nattestd: check [database] conninfo in %s and that "
			"PostgreSQL is running\n", err, cfg->path);
		free(err);
		*status = EXIT_DATABASE;
	}
	return st;
}

static int cmd_db(int argc, char **argv, const char *usage,
		  enum store_status (*fn)(struct store *, FILE *, char **))
{
	const char *config_path;
	char *pos[1];
	int n_pos, status = options_common(argc, argv, usage, &config_path, pos, 0, &n_pos);
	if (status)
		return status;
	struct config *cfg = config_or_exit(config_path, &status);
	struct store *st = cfg ? store_or_exit(cfg, &status) : NULL;
	if (st) {
		char *err = NULL;
		enum store_status s = fn(st, stdout, &err);
		if (s != STORE_OK)
			fprintf(stderr, "attestd: %s\n", err ? err : "database error");
		free(err);
		status = store_exit_status(s);
	}
	store_free(st);
	config_free(cfg);
	return status;
}

static int cmd_db_migrate(int argc, char **argv)
{
	return cmd_db(argc, argv, commands[1].usage, store_migrate);
}

static int cmd_db_status(int argc, char **argv)
{
	return cmd_db(argc, argv, commands[2].usage, store_schema_status);
}

static int cmd_registry_import(int argc, char **argv)
{
	const char *usage = commands[3].usage;
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

	struct config *cfg = config_or_exit(config_path, &status);
	struct store *st = cfg ? store_or_exit(cfg, &status) : NULL;
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
		status = store_exit_status(s);
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
	const char *usage = command_find_usage("status");
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
	const char *usage = command_find_usage("purge");
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
	struct config *cfg = config_or_exit(config_path, &status);
	struct store *st = cfg ? store_or_exit(cfg, &status) : NULL;
	if (st) {
		char *err = NULL;
		enum store_status s = store_schema_status(st, NULL, &err);
		if (s != STORE_OK) {
			fprintf(stderr, "attestd: %s\n", err ? err : "database error");
			status = store_exit_status(s);
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

static int cmd_audit_verify_log(int argc, char **argv)
{
	const char *usage = command_find_usage("audit");
	const char *config_path;
	char *pos[1];
	int n_pos, status = options_common(argc, argv, usage, &config_path, pos, 0, &n_pos);
	if (status)
		return status;
	struct config *cfg = config_or_exit(config_path, &status);
	struct store *st = cfg ? store_or_exit(cfg, &status) : NULL;
	if (st) {
		long rows = 0, broken = 0;
		char *why = NULL, *err = NULL;
		enum store_status s = store_audit_verify(st, &rows, &broken, &why, &err);
		if (s != STORE_OK) {
			fprintf(stderr, "attestd: %s\n", err);
			status = store_exit_status(s);
		} else if (broken) {
			printf("audit log: BROKEN at row %ld: %s\n", broken, why);
			printf("audit log: rows before %ld are intact; keep a copy of the database and "
			       "tell the security officer\n", broken);
			status = EXIT_INVALID;
		} else {
			printf("audit log: %ld rows, hash chain intact\n", rows);
		}
		free(why);
		free(err);
	}
	store_free(st);
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
	const char *usage = command_find_usage("run");
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
	const char *usage = command_find_usage("check");
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
