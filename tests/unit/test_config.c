/*
 * test_config - config_load on files written to a temporary directory: every
 * value of a full file, the defaults, inline comments, and each kind of error
 * with its exact message and line.  TZDIR points at a fake zoneinfo tree so
 * the time zone checks do not depend on the machine's tzdata.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "each_row.h"

static char tmpdir[] = "/tmp/test_config.XXXXXX";
static char conf_path[sizeof(tmpdir) + 32];

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fwrite(text, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

static void in_tmp(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tmpdir, name);
}

static void setup(void)
{
	/* mkdtemp filled in the X's of an earlier case (bad_file runs setup per case). */
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_config.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	char p[256];
	const char *dirs[] = { "zi", "zi/Europe", "zi/America", "zi/Bad" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		in_tmp(p, sizeof(p), dirs[i]);
		cr_assert_eq(mkdir(p, 0700), 0);
	}
	in_tmp(p, sizeof(p), "zi/Europe/Paris");
	write_file(p, "TZif2 fake zone", 15);
	in_tmp(p, sizeof(p), "zi/America/Cayenne");
	write_file(p, "TZif2 fake zone", 15);
	in_tmp(p, sizeof(p), "zi/Bad/Zone");
	write_file(p, "not a zone file", 15);
	in_tmp(p, sizeof(p), "zi");
	cr_assert_eq(setenv("TZDIR", p, 1), 0);
	in_tmp(conf_path, sizeof(conf_path), "attestd.conf");
}

static void teardown(void)
{
	const char *files[] = { "attestd.conf", "zi/Europe/Paris", "zi/America/Cayenne",
				"zi/Bad/Zone", "zi/Europe", "zi/America", "zi/Bad", "zi" };
	char p[256];
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		in_tmp(p, sizeof(p), files[i]);
		remove(p);
	}
	cr_expect_eq(rmdir(tmpdir), 0, "%s left behind: %s", tmpdir, strerror(errno));
}

TestSuite(config, .init = setup, .fini = teardown);

#define DEP_LONG "[prefecture]\ndepartements = 28\n"

/* Writes text as the configuration file and loads it. */
static struct config *load_text(const char *text, size_t len, char **errors)
{
	write_file(conf_path, text, len ? len : strlen(text));
	return config_load(conf_path, errors);
}

static struct config *load_ok(const char *text)
{
	char *errors = NULL;
	struct config *cfg = load_text(text, 0, &errors);
	cr_assert_not_null(cfg, "unexpected errors:\n%s", errors ? errors : "(none)");
	cr_assert_null(errors);
	return cfg;
}

Test(config, full_file_every_value)
{
	struct config *cfg = load_ok(
		"[paths]\n"
		"inbox = /srv/in\n"
		"outbox = /srv/out\n"
		"spool = /srv/spool\n"
		"archive = /srv/archive\n"
		"quarantine = /srv/quarantine\n"
		"metrics = /srv/metrics/attestd.prom\n"
		"[database]\n"
		"conninfo = host=db.example dbname=attestd sslmode=verify-full\n"
		"[trust]\n"
		"centres_ca = /etc/x/ca.pem\n"
		"crl = /etc/x/ca.crl\n"
		"receipt_key = /etc/x/r.key\n"
		"receipt_cert = /etc/x/r.pem\n"
		"[prefecture]\n"
		"departements = 28,2A , 2B,\t973 ,01, 95\n"
		"timezone = America/Cayenne\n"
		"[limits]\n"
		"max_file_size = 5 MiB\n"
		"settle_time = 1500ms\n"
		"rescan_interval = 2min\n"
		"late_arrival_tolerance = 1h\n");
	cr_expect_str_eq(cfg->path, conf_path);
	cr_expect_str_eq(cfg->inbox, "/srv/in");
	cr_expect_str_eq(cfg->outbox, "/srv/out");
	cr_expect_str_eq(cfg->spool, "/srv/spool");
	cr_expect_str_eq(cfg->archive, "/srv/archive");
	cr_expect_str_eq(cfg->quarantine, "/srv/quarantine");
	cr_expect_str_eq(cfg->metrics, "/srv/metrics/attestd.prom");
	cr_expect_str_eq(cfg->conninfo, "host=db.example dbname=attestd sslmode=verify-full");
	cr_expect_str_eq(cfg->centres_ca, "/etc/x/ca.pem");
	cr_expect_str_eq(cfg->crl, "/etc/x/ca.crl");
	cr_expect_str_eq(cfg->receipt_key, "/etc/x/r.key");
	cr_expect_str_eq(cfg->receipt_cert, "/etc/x/r.pem");
	cr_assert_eq(cfg->n_departements, 6);
	const char *want[] = { "28", "2A", "2B", "973", "01", "95" };
	for (size_t i = 0; i < 6; i++)
		cr_expect_str_eq(cfg->departements[i], want[i]);
	cr_expect_str_eq(cfg->timezone, "America/Cayenne");
	cr_expect_eq(cfg->max_file_size, 5u * 1024 * 1024);
	cr_expect_eq(cfg->settle_time_ms, 1500);
	cr_expect_eq(cfg->rescan_interval_ms, 120000);
	cr_expect_eq(cfg->late_arrival_tolerance_min, 60);
	cr_expect(config_serves(cfg, "2A"));
	cr_expect(config_serves(cfg, "973"));
	cr_expect(!config_serves(cfg, "2a"));
	cr_expect(!config_serves(cfg, "29"));
	config_free(cfg);
}

/* A value longer than inih's 200-byte line buffer (a conninfo with its TLS
 * files, say) is taken whole, trimmed and cut at an inline comment as any
 * other value; past CONFIG_VALUE_MAX the error says what to do. */
Test(config, long_value_taken_whole)
{
	char value[1201], text[1400], *errors = NULL;
	memset(value, 'x', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	memcpy(value, "host=db", 7);
	snprintf(text, sizeof(text), DEP_LONG "[database]\nconninfo =   %s   ; the TLS files\n"
		 "[paths]\ninbox = /in\n", value);
	struct config *cfg = load_ok(text);
	cr_expect_str_eq(cfg->conninfo, value);
	cr_expect_str_eq(cfg->inbox, "/in");
	config_free(cfg);

	char *huge = malloc(9000 + 64);
	cr_assert_not_null(huge);
	snprintf(huge, 9000 + 64, DEP_LONG "[database]\nconninfo = %09000d\n", 0);
	cr_expect_null(load_text(huge, 0, &errors));
	cr_expect(errors && strstr(errors, ":4: the value is longer than 8192 characters: for the "
				   "database, put the parameters in a pg_service.conf entry and "
				   "write conninfo = service=NAME\n"), "%s", errors ? errors : "");
	free(errors);
	free(huge);
}

Test(config, minimal_file_gets_the_defaults)
{
	struct config *cfg = load_ok("[prefecture]\ndepartements = 28\n");
	cr_expect_str_eq(cfg->inbox, "/var/spool/attestd/inbox");
	cr_expect_str_eq(cfg->outbox, "/var/spool/attestd/outbox");
	cr_expect_str_eq(cfg->spool, "/var/lib/attestd/spool");
	cr_expect_str_eq(cfg->archive, "/var/lib/attestd/archive");
	cr_expect_str_eq(cfg->quarantine, "/var/lib/attestd/quarantine");
	cr_expect_null(cfg->metrics);
	cr_expect_str_eq(cfg->conninfo, "dbname=attestd");
	cr_expect_str_eq(cfg->centres_ca, "/etc/attestd/centres-ca.pem");
	cr_expect_null(cfg->crl);
	cr_expect_null(cfg->receipt_key);
	cr_expect_null(cfg->receipt_cert);
	cr_expect_eq(cfg->n_departements, 1);
	cr_expect_str_eq(cfg->departements[0], "28");
	cr_expect_str_eq(cfg->timezone, "Europe/Paris");
	cr_expect_eq(cfg->max_file_size, 32u * 1024 * 1024);
	cr_expect_eq(cfg->settle_time_ms, 2000);
	cr_expect_eq(cfg->rescan_interval_ms, 30000);
	cr_expect_eq(cfg->late_arrival_tolerance_min, 0);
	config_free(cfg);
}

Test(config, comments_blank_lines_and_indentation)
{
	struct config *cfg = load_ok(
		"\xEF\xBB\xBF; leading comment after a UTF-8 BOM\n"
		"# hash comment\n"
		"\n"
		"   \t\n"
		"[paths]   ; comment after a header\n"
		"inbox      = /var/in    ; one subdirectory per centre approval\n"
		"   outbox = /var/out\r\n"	/* indented: a key, not a continuation */
		"\tspool=/var/s;not-a-comment\n"	/* ';' needs a blank before it */
		"[prefecture]\n"
		"departements = 28          ; served départements, comma-separated\n"
		"[trust]\n"
		"crl =    ; optional, empty = none\n"
		"[database]\n"
		"conninfo = ; empty: libpq defaults and PG* variables\n"
		"[limits]\n"
		"settle_time = 0ms ; no wait");	/* no final newline */
	cr_expect_str_eq(cfg->inbox, "/var/in");
	cr_expect_str_eq(cfg->outbox, "/var/out");
	cr_expect_str_eq(cfg->spool, "/var/s;not-a-comment");
	cr_expect_eq(cfg->n_departements, 1);
	cr_expect_str_eq(cfg->departements[0], "28");
	cr_expect_null(cfg->crl);
	cr_expect_str_eq(cfg->conninfo, "");
	cr_expect_eq(cfg->settle_time_ms, 0);
	config_free(cfg);
}

/* The example of interfaces.md, comments and all, is a valid file. */
Test(config, spec_example_loads)
{
	const char *dir = getenv("ATTESTD_SPEC_DIR");
	char file[4096];
	snprintf(file, sizeof(file), "%s/interfaces.md", dir ? dir : "../shared/spec");
	FILE *f = fopen(file, "r");
	cr_assert_not_null(f, "cannot open %s (set ATTESTD_SPEC_DIR)", file);
	char line[1024], text[8192] = "";
	bool in = false;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "```", 3) == 0) {
			if (in)
				break;
			in = strncmp(line, "```ini", 6) == 0;
		} else if (in) {
			strncat(text, line, sizeof(text) - strlen(text) - 1);
		}
	}
	fclose(f);
	cr_assert(strstr(text, "[limits]"), "no ```ini block in %s", file);
	struct config *cfg = load_ok(text);
	cr_expect_str_eq(cfg->inbox, "/var/spool/attestd/inbox");
	cr_expect_str_eq(cfg->conninfo, "dbname=attestd");
	cr_expect_str_eq(cfg->synchronous_commit, "on");
	cr_expect_str_eq(cfg->crl, "/etc/attestd/centres.crl");
	cr_expect_str_eq(cfg->receipt_key, "/etc/attestd/prefecture.key");
	cr_expect_str_eq(cfg->departements[0], "28");
	cr_expect_eq(cfg->max_file_size, 32u * 1024 * 1024);
	config_free(cfg);
}

/* The file `make install` ships loads as it is (tests run from the top). */
Test(config, shipped_example_loads)
{
	char *errors = NULL;
	struct config *cfg = config_load("attestd.conf.example", &errors);
	cr_assert_not_null(cfg, "%s", errors ? errors : "(no errors?)");
	cr_expect_null(cfg->metrics);
	cr_expect_str_eq(cfg->receipt_cert, "/etc/attestd/prefecture.pem");
	cr_expect_str_eq(cfg->timezone, "Europe/Paris");
	cr_expect_eq(cfg->rescan_interval_ms, 30000);
	config_free(cfg);
}

struct bad_case {
	const char *name;
	const char *text;
	size_t len;		/* 0: strlen(text) */
	const char *error;	/* the whole error text, after "FILE" */
};

#define DEP "[prefecture]\ndepartements = 28\n"

static const struct bad_case bad_cases[] = {
	{ "unknown_section", DEP "[pathz]\ninbox = /x\n", 0, ":3: [pathz]: unknown section\n" },
	{ "unknown_empty_section", "[nope]\n" DEP, 0, ":1: [nope]: unknown section\n" },
	{ "unknown_key", DEP "[paths]\ninboxx = /x\n", 0, ":4: [paths] inboxx: unknown key\n" },
	{ "key_in_wrong_section", DEP "[trust]\ninbox = /x\n", 0, ":4: [trust] inbox: unknown key\n" },
	{ "key_before_section", "inbox = /x\n" DEP, 0, ":1: inbox: key before any [section]\n" },
	{ "duplicate_key", DEP "[limits]\nsettle_time = 1s\nsettle_time = 2s\n", 0,
	  ":5: [limits] settle_time: set twice (first on line 4)\n" },
	{ "duplicate_via_repeated_section",
	  "[paths]\ninbox = /a\n" DEP "[paths]\noutbox = /b\ninbox = /c\n", 0,
	  ":7: [paths] inbox: set twice (first on line 2)\n" },
	{ "syntax_error", DEP "[paths]\njunk\n", 0,
	  ":4: syntax error: expected \"key = value\", \"[section]\" or a comment\n" },
	{ "unterminated_header", DEP "[paths\n", 0, ":3: syntax error: \"[\" without \"]\"\n" },
	{ "nul_byte", DEP "[paths]\ninbox = /a\0b\n", sizeof(DEP "[paths]\ninbox = /a\0b\n") - 1,
	  ":4: the line contains a NUL byte\n" },
	{ "long_line_not_a_key", DEP "[paths]\n[aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n", 0,
	  ":4: the line is longer than 198 characters and is not \"key = value\": only a value "
	  "may be that long\n" },
	{ "bad_size", DEP "[limits]\nmax_file_size = 32 megs\n", 0,
	  ":4: [limits] max_file_size: \"32 megs\" is not a size (use B, KiB, MiB or GiB)\n" },
	{ "decimal_size_unit", DEP "[limits]\nmax_file_size = 32MB\n", 0,
	  ":4: [limits] max_file_size: \"32MB\" is not a size (use B, KiB, MiB or GiB)\n" },
	{ "size_without_unit", DEP "[limits]\nmax_file_size = 1000\n", 0,
	  ":4: [limits] max_file_size: \"1000\" needs a unit (B, KiB, MiB or GiB)\n" },
	{ "negative_size", DEP "[limits]\nmax_file_size = -1KiB\n", 0,
	  ":4: [limits] max_file_size: \"-1KiB\" is not a size (use B, KiB, MiB or GiB)\n" },
	{ "size_too_big", DEP "[limits]\nmax_file_size = 2GiB\n", 0,
	  ":4: [limits] max_file_size: \"2GiB\" is out of range (1KiB to 1GiB)\n" },
	{ "size_too_small", DEP "[limits]\nmax_file_size = 1023B\n", 0,
	  ":4: [limits] max_file_size: \"1023B\" is out of range (1KiB to 1GiB)\n" },
	{ "size_overflow", DEP "[limits]\nmax_file_size = 99999999999999999999GiB\n", 0,
	  ":4: [limits] max_file_size: \"99999999999999999999GiB\" is out of range "
	  "(1KiB to 1GiB)\n" },
	{ "bad_duration", DEP "[limits]\nsettle_time = 2 parsecs\n", 0,
	  ":4: [limits] settle_time: \"2 parsecs\" is not a duration (use ms, s, min or h)\n" },
	{ "fractional_duration", DEP "[limits]\nsettle_time = 1.5s\n", 0,
	  ":4: [limits] settle_time: \"1.5s\" is not a duration (use ms, s, min or h)\n" },
	{ "duration_without_unit", DEP "[limits]\nrescan_interval = 30\n", 0,
	  ":4: [limits] rescan_interval: \"30\" needs a unit (ms, s, min or h)\n" },
	{ "settle_time_too_long", DEP "[limits]\nsettle_time = 11min\n", 0,
	  ":4: [limits] settle_time: \"11min\" is out of range (0ms to 10min)\n" },
	{ "rescan_too_short", DEP "[limits]\nrescan_interval = 999ms\n", 0,
	  ":4: [limits] rescan_interval: \"999ms\" is out of range (1s to 1h)\n" },
	{ "tolerance_not_whole_minutes", DEP "[limits]\nlate_arrival_tolerance = 90s\n", 0,
	  ":4: [limits] late_arrival_tolerance: \"90s\" is not a whole number of minutes\n" },
	{ "tolerance_too_long", DEP "[limits]\nlate_arrival_tolerance = 61min\n", 0,
	  ":4: [limits] late_arrival_tolerance: \"61min\" is out of range (0min to 60min)\n" },
	{ "departement_20", "[prefecture]\ndepartements = 28, 20\n", 0,
	  ":2: [prefecture] departements: \"20\" is not a département code "
	  "(01-95, 2A, 2B, 971-976)\n" },
	{ "departement_lower_case", "[prefecture]\ndepartements = 2a\n", 0,
	  ":2: [prefecture] departements: \"2a\" is not a département code "
	  "(01-95, 2A, 2B, 971-976)\n" },
	{ "departement_one_digit", "[prefecture]\ndepartements = 1\n", 0,
	  ":2: [prefecture] departements: \"1\" is not a département code "
	  "(01-95, 2A, 2B, 971-976)\n" },
	{ "departement_977", "[prefecture]\ndepartements = 977\n", 0,
	  ":2: [prefecture] departements: \"977\" is not a département code "
	  "(01-95, 2A, 2B, 971-976)\n" },
	{ "departement_96", "[prefecture]\ndepartements = 96\n", 0,
	  ":2: [prefecture] departements: \"96\" is not a département code "
	  "(01-95, 2A, 2B, 971-976)\n" },
	{ "departement_long", "[prefecture]\ndepartements = 28 and 29\n", 0,
	  ":2: [prefecture] departements: \"28 and 29\" is not a département code "
	  "(01-95, 2A, 2B, 971-976)\n" },
	{ "duplicate_departement", "[prefecture]\ndepartements = 28, 45,28\n", 0,
	  ":2: [prefecture] departements: \"28\" is listed twice\n" },
	{ "empty_departement", "[prefecture]\ndepartements = 28,,45\n", 0,
	  ":2: [prefecture] departements: \"28,,45\": empty item in the list\n" },
	{ "too_many_departements", "[prefecture]\ndepartements = 01,02,03,04,05,06,07,08,09,"
	  "10,11,12,13,14,15,16,17\n", 0,
	  ":2: [prefecture] departements: more than 16 départements\n" },
	{ "empty_departements", "[prefecture]\ndepartements =\n", 0,
	  ":2: [prefecture] departements: needs a value\n" },
	{ "missing_departements", "[paths]\ninbox = /x\n", 0,
	  ": [prefecture] departements: missing (required)\n" },
	{ "unknown_timezone", DEP "timezone = Mars/Olympus\n", 0,
	  ":3: [prefecture] timezone: \"Mars/Olympus\" is not a time zone (no such zone file)\n" },
	{ "timezone_not_tzif", DEP "timezone = Bad/Zone\n", 0,
	  ":3: [prefecture] timezone: \"Bad/Zone\" is not a time zone (no such zone file)\n" },
	{ "timezone_directory", DEP "timezone = Europe\n", 0,
	  ":3: [prefecture] timezone: \"Europe\" is not a time zone (no such zone file)\n" },
	{ "timezone_dotdot", DEP "timezone = Europe/../Europe/Paris\n", 0,
	  ":3: [prefecture] timezone: \"Europe/../Europe/Paris\" is not a time zone name "
	  "(like Europe/Paris)\n" },
	{ "timezone_absolute", DEP "timezone = /Europe/Paris\n", 0,
	  ":3: [prefecture] timezone: \"/Europe/Paris\" is not a time zone name "
	  "(like Europe/Paris)\n" },
	{ "timezone_trailing_slash", DEP "timezone = Europe/Paris/\n", 0,
	  ":3: [prefecture] timezone: \"Europe/Paris/\" is not a time zone name "
	  "(like Europe/Paris)\n" },
	{ "relative_path", DEP "[paths]\nspool = var/lib/attestd/spool\n", 0,
	  ":4: [paths] spool: \"var/lib/attestd/spool\" is not an absolute path\n" },
	{ "relative_optional_path", DEP "[trust]\ncrl = centres.crl\n", 0,
	  ":4: [trust] crl: \"centres.crl\" is not an absolute path\n" },
	{ "empty_required_path", DEP "[paths]\ninbox =\n", 0, ":4: [paths] inbox: needs a value\n" },
	{ "synchronous_commit_off", DEP "[database]\nsynchronous_commit = off\n", 0,
	  ":4: [database] synchronous_commit: \"off\" is refused: a crash of the database "
	  "server could take back decisions already receipted (use on, remote_write or "
	  "remote_apply)\n" },
	{ "synchronous_commit_local", DEP "[database]\nsynchronous_commit = local\n", 0,
	  ":4: [database] synchronous_commit: \"local\" is refused: a crash of the database "
	  "server could take back decisions already receipted (use on, remote_write or "
	  "remote_apply)\n" },
	{ "synchronous_commit_unknown", DEP "[database]\nsynchronous_commit = always\n", 0,
	  ":4: [database] synchronous_commit: \"always\" is not one of on, remote_write, "
	  "remote_apply\n" },
	{ "receipt_key_without_cert", DEP "[trust]\nreceipt_key = /k\n", 0,
	  ":4: [trust] receipt_key: set without receipt_cert "
	  "(set both to sign receipts, or neither)\n" },
	{ "receipt_cert_without_key", DEP "[trust]\n\nreceipt_cert = /c\n", 0,
	  ":5: [trust] receipt_cert: set without receipt_key "
	  "(set both to sign receipts, or neither)\n" },
};

#define N_BAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

/* Each bad file gives exactly one error line, with its line number. */
/* One case of config::bad_file (issue 12: the cases share one process). */
static void config_bad_file_case(size_t *i)
{
	const struct bad_case *c = &bad_cases[*i];
	char *errors = NULL;
	struct config *cfg = load_text(c->text, c->len, &errors);
	cr_expect_null(cfg, "%s: loaded", c->name);
	config_free(cfg);
	cr_assert_not_null(errors, "%s: no error text", c->name);
	char want[1024];
	snprintf(want, sizeof(want), "%s%s", conf_path, c->error);
	cr_expect_str_eq(errors, want, "%s", c->name);
	free(errors);
}

Test(config, bad_file)
{
	static size_t index[N_BAD];
	for (size_t i = 0; i < N_BAD; i++)
		index[i] = i;
	EACH_ROW_FRESH(N_BAD, teardown, setup, config_bad_file_case, index);
}

Test(config, all_errors_are_reported_together)
{
	char *errors = NULL;
	struct config *cfg = load_text(
		"[paths]\n"
		"inbox = relative\n"
		"bogus = 1\n"
		"[limits]\n"
		"settle_time = 2 parsecs\n"
		"max_file_size = 2GiB\n"
		"[trust]\n"
		"receipt_key = /k\n"
		"[limits]\n"
		"settle_time = 1s\n", 0, &errors);
	cr_expect_null(cfg);
	config_free(cfg);
	cr_assert_not_null(errors);
	char *want = NULL;
	cr_assert_gt(asprintf(&want,
		"%1$s:2: [paths] inbox: \"relative\" is not an absolute path\n"
		"%1$s:3: [paths] bogus: unknown key\n"
		"%1$s:5: [limits] settle_time: \"2 parsecs\" is not a duration (use ms, s, min or h)\n"
		"%1$s:6: [limits] max_file_size: \"2GiB\" is out of range (1KiB to 1GiB)\n"
		"%1$s:10: [limits] settle_time: set twice (first on line 5)\n"
		"%1$s: [prefecture] departements: missing (required)\n"
		"%1$s:8: [trust] receipt_key: set without receipt_cert "
		"(set both to sign receipts, or neither)\n", conf_path), 0);
	cr_expect_str_eq(errors, want);
	free(want);
	free(errors);
}

Test(config, file_that_cannot_be_opened)
{
	char path[256], *errors = NULL;
	in_tmp(path, sizeof(path), "no-such.conf");
	cr_expect_null(config_load(path, &errors));
	cr_assert_not_null(errors);
	char want[512];
	snprintf(want, sizeof(want), "%s: cannot open: %s\n", path, strerror(ENOENT));
	cr_expect_str_eq(errors, want);
	free(errors);
}

Test(config, directory_instead_of_a_file)
{
	char *errors = NULL;
	cr_expect_null(config_load(tmpdir, &errors));
	cr_assert_not_null(errors);
	char want[512];
	snprintf(want, sizeof(want), "%s: cannot read: %s\n"
		 "%s: [prefecture] departements: missing (required)\n",
		 tmpdir, strerror(EISDIR), tmpdir);
	cr_expect_str_eq(errors, want);
	free(errors);
}

/* Without TZDIR the system's zoneinfo is used: tzdata is a dependency
 * (make deps), so its absence fails loudly. */
Test(config, system_zoneinfo)
{
	struct stat st;
	cr_assert_eq(stat("/usr/share/zoneinfo/Europe/Paris", &st), 0,
		     "no /usr/share/zoneinfo/Europe/Paris: install tzdata (make deps)");
	cr_assert_eq(unsetenv("TZDIR"), 0);
	struct config *cfg = load_ok(DEP "timezone = Europe/Paris\n");
	config_free(cfg);
	char *errors = NULL;
	/* Present in the fake tree only. */
	cfg = load_text(DEP "timezone = Bad/Zone\n", 0, &errors);
	cr_expect_null(cfg);
	cr_expect_not_null(errors);
	free(errors);
}

Test(config, reload_refuses_restart_only_keys)
{
	struct config *a = load_ok(DEP "[limits]\nsettle_time = 1s\n");
	struct config *b = load_ok("[prefecture]\ndepartements = 28, 45\n"
				   "[limits]\nsettle_time = 5s\n[trust]\ncrl = /c\n");
	char *errors = NULL;
	cr_expect(config_check_reload(a, b, &errors), "%s", errors ? errors : "");
	cr_expect_null(errors);
	struct config *c = load_ok("[paths]\ninbox = /elsewhere\n[database]\nconninfo = service=other\n"
			    DEP "timezone = America/Cayenne\n");
	cr_expect(!config_check_reload(a, c, &errors));
	cr_assert_not_null(errors);
	char *want = NULL;
	cr_assert_gt(asprintf(&want,
		"%1$s: [paths] inbox: cannot change on reload (restart attestd)\n"
		"%1$s: [database] conninfo: cannot change on reload (restart attestd)\n"
		"%1$s: [prefecture] timezone: cannot change on reload (restart attestd)\n",
		conf_path), 0);
	cr_expect_str_eq(errors, want);
	free(want);
	free(errors);
	config_free(a);
	config_free(b);
	config_free(c);
}

Test(config, swap_installs_and_returns_the_previous)
{
	cr_expect_null(config_current());
	struct config *a = load_ok(DEP);
	struct config *b = load_ok(DEP);
	cr_expect_null(config_swap(a));
	cr_expect_eq(config_current(), a);
	cr_expect_eq(config_swap(b), a);
	cr_expect_eq(config_current(), b);
	config_free(a);
	cr_expect_eq(config_swap(NULL), b);
	config_free(b);
	cr_expect_null(config_current());
}

Test(config, free_accepts_null)
{
	config_free(NULL);
}

/* config check locates its findings at the line that set the key; a key
 * left to its default has no line. */
Test(config, key_lines_for_findings)
{
	struct config *cfg = load_ok("; comment\n[prefecture]\ndepartements = 28\n\n[trust]\n"
				     "crl = /etc/x.crl\n");
	cr_expect_eq(config_key_line(cfg, "prefecture", "departements"), 3);
	cr_expect_eq(config_key_line(cfg, "trust", "crl"), 6);
	cr_expect_eq(config_key_line(cfg, "trust", "centres_ca"), 0);
	cr_expect_eq(config_key_line(cfg, "nope", "crl"), 0);
	config_free(cfg);
}

/* The receipt key kept private, as sshd keeps its host keys: readable by
 * group or others is refused, naming the file and the mode to give it;
 * 0600 and 0400 load. */
Test(config, receipt_key_too_open)
{
	char key[256], cert[256], text[1024], *errors = NULL;
	in_tmp(key, sizeof(key), "prefecture.key");
	in_tmp(cert, sizeof(cert), "prefecture.pem");
	write_file(key, "key", 3);
	snprintf(text, sizeof(text), "[prefecture]\ndepartements = 28\n[trust]\n"
		 "receipt_key = %s\nreceipt_cert = %s\n", key, cert);
	const mode_t open_modes[] = { 0644, 0640, 0604, 0660 };
	for (size_t i = 0; i < sizeof(open_modes) / sizeof(open_modes[0]); i++) {
		cr_assert_eq(chmod(key, open_modes[i]), 0);
		struct config *cfg = load_text(text, 0, &errors);
		cr_expect_null(cfg, "mode %04o loaded", (unsigned)open_modes[i]);
		config_free(cfg);
		char want[1024];
		snprintf(want, sizeof(want), "%s:4: [trust] receipt_key: permissions %04o for %s "
			 "are too open: a private key must not be readable by group or others "
			 "(chmod 600 %s)\n", conf_path, (unsigned)open_modes[i], key, key);
		cr_expect_str_eq(errors ? errors : "", want);
		free(errors);
		errors = NULL;
	}
	const mode_t private_modes[] = { 0600, 0400 };
	for (size_t i = 0; i < sizeof(private_modes) / sizeof(private_modes[0]); i++) {
		cr_assert_eq(chmod(key, private_modes[i]), 0);
		struct config *cfg = load_text(text, 0, &errors);
		cr_expect_not_null(cfg, "mode %04o: %s", (unsigned)private_modes[i],
				   errors ? errors : "");
		config_free(cfg);
		free(errors);
		errors = NULL;
	}
	unlink(key);
}

/* Owned by someone else than the service's user or root: refused, naming
 * the owner.  (Giving a file away needs root: reported as skipped else.) */
Test(config, receipt_key_foreign_owner)
{
	if (geteuid() != 0)
		cr_skip_test("giving a file to another user needs root");
	char key[256], cert[256], text[1024], *errors = NULL;
	in_tmp(key, sizeof(key), "prefecture.key");
	in_tmp(cert, sizeof(cert), "prefecture.pem");
	write_file(key, "key", 3);
	cr_assert_eq(chmod(key, 0600), 0);
	cr_assert_eq(chown(key, 54321, 54321), 0);
	snprintf(text, sizeof(text), "[prefecture]\ndepartements = 28\n[trust]\n"
		 "receipt_key = %s\nreceipt_cert = %s\n", key, cert);
	struct config *cfg = load_text(text, 0, &errors);
	cr_expect_null(cfg);
	config_free(cfg);
	char want[1024];
	snprintf(want, sizeof(want), "%s:4: [trust] receipt_key: %s is owned by uid 54321, "
		 "neither the service's user nor root: chown attestd %s (or root), chmod 600 %s\n",
		 conf_path, key, key, key);
	cr_expect_str_eq(errors ? errors : "", want);
	free(errors);
	unlink(key);
}
