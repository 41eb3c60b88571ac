/*
 * config - reads attestd.conf with libinih into a fresh struct config.
 * Every key is a row of one table (type, default, range, whether a reload
 * may change it), after PgBouncer's bouncer_params; defaults are strings
 * parsed by the same code as the file's values, so they obey the same rules.
 *
 * libinih (Debian 55) gives the handler no line number, reports only the
 * first syntax error and treats indented lines as continuations; so the file
 * is fed to ini_parse_stream through our own line reader, which counts lines,
 * drops leading blanks (no continuation can silently extend a value), refuses
 * lines too long for inih's 200-byte buffer (inih would split them) and NUL
 * bytes, and notes which lines must have reached the handler: a key line that
 * did not is a syntax error.  Every problem is collected, not just the first.
 *
 * Units, decided here and documented in attestd.conf.example: sizes need a
 * unit, B, KiB, MiB or GiB (binary only, so "MB" cannot mean two things);
 * durations need one of ms, s, min, h; numbers are whole and unsigned.
 *
 * Reload: paths, the database and the time zone need a restart (files in
 * flight live under the paths, one run talks to one database and dates one
 * clock); trust files, départements, metrics and limits may change on SIGHUP.
 */
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "xmalloc.h"

enum config_type {
	CT_PATH,		/* char *, absolute */
	CT_STRING,		/* char *, anything, may be empty */
	CT_DEPARTEMENTS,	/* departements[] + n_departements */
	CT_TIMEZONE,		/* char *, a TZif file under the zoneinfo directory */
	CT_SIZE,		/* uint64_t bytes */
	CT_DURATION,		/* uint32_t milliseconds */
	CT_MINUTES,		/* uint32_t minutes, written as a duration */
};

enum {
	CK_REQUIRED = 1,	/* no default: the file must set it */
	CK_OPTIONAL = 2,	/* no default: NULL, and an empty value means unset */
	CK_RESTART = 4,		/* a reload may not change it */
};

struct config_key {
	const char *section;
	const char *name;
	enum config_type type;
	size_t offset;
	const char *def;
	unsigned flags;
	uint64_t min, max;	/* sizes in bytes, durations in ms */
};

#define F(field) offsetof(struct config, field)
#define KIB UINT64_C(1024)
#define SEC UINT64_C(1000)

static const struct config_key config_keys[] = {
	{ "paths", "inbox", CT_PATH, F(inbox), "/var/spool/attestd/inbox", CK_RESTART, 0, 0 },
	{ "paths", "outbox", CT_PATH, F(outbox), "/var/spool/attestd/outbox", CK_RESTART, 0, 0 },
	{ "paths", "spool", CT_PATH, F(spool), "/var/lib/attestd/spool", CK_RESTART, 0, 0 },
	{ "paths", "archive", CT_PATH, F(archive), "/var/lib/attestd/archive", CK_RESTART, 0, 0 },
	{ "paths", "quarantine", CT_PATH, F(quarantine), "/var/lib/attestd/quarantine",
	  CK_RESTART, 0, 0 },
	{ "paths", "metrics", CT_PATH, F(metrics), NULL, CK_OPTIONAL, 0, 0 },
	{ "database", "conninfo", CT_STRING, F(conninfo), "service=attestd", CK_RESTART, 0, 0 },
	{ "trust", "centres_ca", CT_PATH, F(centres_ca), "/etc/attestd/centres-ca.pem", 0, 0, 0 },
	{ "trust", "crl", CT_PATH, F(crl), NULL, CK_OPTIONAL, 0, 0 },
	{ "trust", "receipt_key", CT_PATH, F(receipt_key), NULL, CK_OPTIONAL, 0, 0 },
	{ "trust", "receipt_cert", CT_PATH, F(receipt_cert), NULL, CK_OPTIONAL, 0, 0 },
	{ "prefecture", "departements", CT_DEPARTEMENTS, F(departements), NULL, CK_REQUIRED, 0, 0 },
	{ "prefecture", "timezone", CT_TIMEZONE, F(timezone), "Europe/Paris", CK_RESTART, 0, 0 },
	{ "limits", "max_file_size", CT_SIZE, F(max_file_size), "32MiB", 0, KIB, KIB * KIB * KIB },
	{ "limits", "settle_time", CT_DURATION, F(settle_time_ms), "2s", 0, 0, 600 * SEC },
	{ "limits", "rescan_interval", CT_DURATION, F(rescan_interval_ms), "30s", 0,
	  SEC, 3600 * SEC },
	{ "limits", "late_arrival_tolerance", CT_MINUTES, F(late_arrival_tolerance_min), "0min",
	  0, 0, 3600 * SEC },
	/* Below this much free space where files are written (spool, archive,
	 * outbox, quarantine), claiming pauses: a full disk is our fault. */
	{ "limits", "min_free_space", CT_SIZE, F(min_free_space), "256MiB", 0, 0,
	  KIB * KIB * KIB * KIB },
	/* The console's; whether listen needs TLS is decided by console.c. */
	{ "console", "listen", CT_STRING, F(console_listen), "127.0.0.1:8470", 0, 0, 0 },
	{ "console", "tls_cert", CT_PATH, F(console_tls_cert), NULL, CK_OPTIONAL, 0, 0 },
	{ "console", "tls_key", CT_PATH, F(console_tls_key), NULL, CK_OPTIONAL, 0, 0 },
};
#define N_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

struct unit {
	const char *name;
	uint64_t factor;
};

/* Largest first: the formatter picks the largest unit that divides exactly. */
static const struct unit size_units[] = {
	{ "GiB", KIB * KIB * KIB }, { "MiB", KIB * KIB }, { "KiB", KIB }, { "B", 1 }, { NULL, 0 },
};
static const struct unit duration_units[] = {
	{ "h", 3600 * SEC }, { "min", 60 * SEC }, { "s", SEC }, { "ms", 1 }, { NULL, 0 },
};
/* Ranges of whole-minute keys read better in minutes. */
static const struct unit minute_units[] = { { "min", 60 * SEC }, { NULL, 0 } };

enum line_kind { LINE_BLANK, LINE_KEY };

struct loader {
	struct config *cfg;
	const char *path;
	FILE *f;
	char *line;		/* getline buffer */
	size_t cap;
	unsigned lineno;
	enum line_kind kind;	/* of the current line */
	bool handled;		/* the handler saw the current line */
	unsigned header_line;	/* of the current [section] */
	unsigned header_reported;	/* header line already reported unknown */
	unsigned seen[N_KEYS];	/* line where each key was set, 0 = not yet */
	char *errors;
	size_t errors_len;
};

/* The program's one mutable global (style.md): swapped whole on reload. */
static struct config *config_current_ptr;

static void loader_error(struct loader *ld, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void key_error(struct loader *ld, unsigned line, const struct config_key *k,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Appends "FILE:LINE: message\n" (no LINE when 0) to the error text. */
static void loader_verror(struct loader *ld, unsigned line, const char *prefix,
			  const char *fmt, va_list ap)
{
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	char *full = line ? xasprintf("%s:%u: %s%s\n", ld->path, line, prefix, msg)
			  : xasprintf("%s: %s%s\n", ld->path, prefix, msg);
	size_t n = strlen(full);
	ld->errors = xrealloc(ld->errors, ld->errors_len + n + 1);
	memcpy(ld->errors + ld->errors_len, full, n + 1);
	ld->errors_len += n;
	free(full);
	free(msg);
}

static void loader_error(struct loader *ld, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	loader_verror(ld, line, "", fmt, ap);
	va_end(ap);
}

static void key_error(struct loader *ld, unsigned line, const struct config_key *k,
		      const char *fmt, ...)
{
	char *prefix = xasprintf("[%s] %s: ", k->section, k->name);
	va_list ap;
	va_start(ap, fmt);
	loader_verror(ld, line, prefix, fmt, ap);
	va_end(ap);
	free(prefix);
}

static bool section_known(const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(config_keys[i].section, name) == 0)
			return true;
	return false;
}

static void *field(struct config *cfg, const struct config_key *k)
{
	return (char *)cfg + k->offset;
}

static const void *cfield(const struct config *cfg, const struct config_key *k)
{
	return (const char *)cfg + k->offset;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void format_amount(char *buf, size_t size, uint64_t v, const struct unit *units)
{
	const struct unit *u = units;
	while (u[1].name && (v == 0 || v % u->factor != 0))
		u++;
	snprintf(buf, size, "%llu%s", (unsigned long long)(v / u->factor), u->name);
}

enum amount { AMOUNT_OK, AMOUNT_BAD, AMOUNT_NO_UNIT, AMOUNT_TOO_BIG };

/* "32MiB", "2 s": a whole number, optional blanks, one of the units. */
static enum amount parse_amount(const char *s, const struct unit *units, uint64_t *out)
{
	uint64_t v = 0;
	bool overflow = false;
	const char *p = s;
	if (!is_digit(*p))
		return AMOUNT_BAD;
	for (; is_digit(*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			overflow = true;
		else
			v = v * 10 + d;
	}
	p += strspn(p, " \t");
	if (*p == '\0')
		return AMOUNT_NO_UNIT;
	for (const struct unit *u = units; u->name; u++) {
		if (strcmp(p, u->name) != 0)
			continue;
		if (overflow || v > UINT64_MAX / u->factor)
			return AMOUNT_TOO_BIG;
		*out = v * u->factor;
		return AMOUNT_OK;
	}
	return AMOUNT_BAD;
}

static void set_amount(struct loader *ld, unsigned line, const struct config_key *k,
		       const char *value)
{
	bool is_size = k->type == CT_SIZE;
	const struct unit *units = is_size ? size_units : duration_units;
	const char *use = is_size ? "B, KiB, MiB or GiB" : "ms, s, min or h";
	uint64_t v = 0;
	enum amount st = parse_amount(value, units, &v);
	if (st == AMOUNT_NO_UNIT) {
		key_error(ld, line, k, "\"%s\" needs a unit (%s)", value, use);
	} else if (st == AMOUNT_BAD) {
		key_error(ld, line, k, "\"%s\" is not %s (use %s)", value,
			  is_size ? "a size" : "a duration", use);
	} else if (st == AMOUNT_TOO_BIG || v < k->min || v > k->max) {
		char lo[32], hi[32];
		const struct unit *shown = k->type == CT_MINUTES ? minute_units : units;
		format_amount(lo, sizeof(lo), k->min, shown);
		format_amount(hi, sizeof(hi), k->max, shown);
		key_error(ld, line, k, "\"%s\" is out of range (%s to %s)", value, lo, hi);
	} else if (k->type == CT_SIZE) {
		*(uint64_t *)field(ld->cfg, k) = v;
	} else if (k->type == CT_DURATION) {
		*(uint32_t *)field(ld->cfg, k) = (uint32_t)v;
	} else if (v % (60 * SEC) != 0) {
		key_error(ld, line, k, "\"%s\" is not a whole number of minutes", value);
	} else {
		*(uint32_t *)field(ld->cfg, k) = (uint32_t)(v / (60 * SEC));
	}
}

static bool departement_valid(const char *c)
{
	size_t n = strlen(c);
	if (n == 2 && c[0] == '2' && (c[1] == 'A' || c[1] == 'B'))
		return true;
	if (n == 2 && is_digit(c[0]) && is_digit(c[1])) {
		int v = (c[0] - '0') * 10 + (c[1] - '0');
		/* Corsica is 2A and 2B since 1976: 20 is no longer a code. */
		return v >= 1 && v <= 95 && v != 20;
	}
	return n == 3 && c[0] == '9' && c[1] == '7' && c[2] >= '1' && c[2] <= '6';
}

/* "28, 2A ,971": every item checked, every problem reported. */
static void set_departements(struct loader *ld, unsigned line, const struct config_key *k,
			     const char *value)
{
	struct config *cfg = ld->cfg;
	cfg->n_departements = 0;
	for (const char *p = value;; p++) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		while (len && (*p == ' ' || *p == '\t'))
			p++, len--;
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		char code[8] = "";
		if (len < sizeof(code))
			memcpy(code, p, len);
		if (len == 0) {
			key_error(ld, line, k, "\"%s\": empty item in the list", value);
		} else if (len >= sizeof(code) || !departement_valid(code)) {
			key_error(ld, line, k, "\"%.*s\" is not a département code "
				  "(01-95, 2A, 2B, 971-976)", (int)len, p);
		} else if (config_serves(cfg, code)) {
			key_error(ld, line, k, "\"%s\" is listed twice", code);
		} else if (cfg->n_departements == CONFIG_MAX_DEPARTEMENTS) {
			key_error(ld, line, k, "more than %d départements", CONFIG_MAX_DEPARTEMENTS);
			return;
		} else {
			memcpy(cfg->departements[cfg->n_departements++], code, len + 1);
		}
		if (!end)
			return;
		p = end;
	}
}

/*
 * A zone name made of [A-Za-z0-9_+-] components, each naming a TZif file
 * under $TZDIR or /usr/share/zoneinfo; returns what is wrong, or NULL.
 */
static const char *timezone_problem(const char *name)
{
	static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-";
	size_t n = strlen(name);
	if (n == 0 || n > 255)
		return "is not a time zone name";
	for (const char *c = name; *c;) {
		size_t len = strspn(c, ok);
		/* No empty, "." or ".." component: the name stays inside the directory. */
		if (len == 0 || (c[len] != '/' && c[len] != '\0'))
			return "is not a time zone name (like Europe/Paris)";
		c += len;
		if (*c == '/' && *++c == '\0')
			return "is not a time zone name (like Europe/Paris)";
	}
	const char *dir = getenv("TZDIR");
	if (!dir || !*dir)
		dir = "/usr/share/zoneinfo";
	char *path = xasprintf("%s/%s", dir, name);
	const char *problem = "is not a time zone (no such zone file)";
	struct stat st;
	char magic[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
	    memcmp(magic, "TZif", 4) == 0)
		problem = NULL;
	if (fd >= 0)
		close(fd);
	free(path);
	return problem;
}

static void set_value(struct loader *ld, unsigned line, const struct config_key *k,
		      const char *value)
{
	char **str = field(ld->cfg, k);
	if (*value == '\0' && k->type != CT_STRING) {
		if (!(k->flags & CK_OPTIONAL))
			key_error(ld, line, k, "needs a value");
		return;
	}
	switch (k->type) {
	case CT_PATH:
		if (value[0] != '/') {
			key_error(ld, line, k, "\"%s\" is not an absolute path", value);
			return;
		}
		break;
	case CT_TIMEZONE: {
		const char *problem = timezone_problem(value);
		if (problem) {
			key_error(ld, line, k, "\"%s\" %s", value, problem);
			return;
		}
		break;
	}
	case CT_STRING:
		break;
	case CT_DEPARTEMENTS:
		set_departements(ld, line, k, value);
		return;
	case CT_SIZE:
	case CT_DURATION:
	case CT_MINUTES:
		set_amount(ld, line, k, value);
		return;
	}
	free(*str);
	*str = xstrdup(value);
}

/* A line that should have reached the handler and did not: inih refused it. */
static void loader_check_line(struct loader *ld)
{
	if (ld->kind == LINE_KEY && !ld->handled)
		loader_error(ld, ld->lineno, "syntax error: expected \"key = value\", "
			     "\"[section]\" or a comment");
	ld->kind = LINE_BLANK;
}

/* ini_reader: hands inih one line at a time (see the top of the file). */
static char *loader_read(char *buf, int size, void *stream)
{
	struct loader *ld = stream;
	loader_check_line(ld);
	ssize_t n = getline(&ld->line, &ld->cap, ld->f);
	if (n < 0) {
		if (ferror(ld->f))
			loader_error(ld, 0, "cannot read: %s", strerror(errno));
		return NULL;
	}
	ld->lineno++;
	ld->handled = false;
	char *s = ld->line;
	if (ld->lineno == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	s += strspn(s, " \t\r\v\f");
	size_t len = (size_t)n - (size_t)(s - ld->line);
	if (memchr(s, '\0', len)) {
		loader_error(ld, ld->lineno, "the line contains a NUL byte");
		s = "\n";
	} else if (len > (size_t)size - 1) {
		loader_error(ld, ld->lineno, "the line is longer than %d characters", size - 2);
		s = "\n";
	} else if (*s == '[') {
		char *end = strchr(s, ']');
		if (!end) {
			loader_error(ld, ld->lineno, "syntax error: \"[\" without \"]\"");
		} else {
			*end = '\0';
			ld->header_line = ld->lineno;
			if (!section_known(s + 1)) {
				loader_error(ld, ld->lineno, "[%s]: unknown section", s + 1);
				ld->header_reported = ld->lineno;
			}
			*end = ']';
		}
	} else if (*s != '\0' && *s != '\n' && !strchr(";#", *s)) {
		ld->kind = LINE_KEY;
	}
	memcpy(buf, s, strlen(s) + 1);
	return buf;
}

/* ini_handler: always returns 1, problems are collected in ld->errors. */
static int loader_handle(void *user, const char *section, const char *name, const char *value)
{
	struct loader *ld = user;
	unsigned line = ld->lineno;
	ld->handled = true;
	if (*section == '\0') {
		loader_error(ld, line, "%s: key before any [section]", name);
		return 1;
	}
	if (!section_known(section)) {
		if (ld->header_reported != ld->header_line) {
			loader_error(ld, ld->header_line, "[%s]: unknown section", section);
			ld->header_reported = ld->header_line;
		}
		return 1;
	}
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct config_key *k = &config_keys[i];
		if (strcmp(k->section, section) != 0 || strcmp(k->name, name) != 0)
			continue;
		if (ld->seen[i]) {
			key_error(ld, line, k, "set twice (first on line %u)", ld->seen[i]);
			return 1;
		}
		ld->seen[i] = line;
		set_value(ld, line, k, value);
		return 1;
	}
	loader_error(ld, line, "[%s] %s: unknown key", section, name);
	return 1;
}

static size_t key_index(const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(config_keys[i].name, name) == 0)
			return i;
	abort();
}

struct config *config_load(const char *path, char **errors)
{
	struct loader ld = { .path = path };
	struct config *cfg = NULL;
	if (errors)
		*errors = NULL;

	ld.cfg = xcalloc(1, sizeof(*ld.cfg));
	ld.cfg->path = xstrdup(path);
	ld.f = fopen(path, "re");
	if (!ld.f) {
		loader_error(&ld, 0, "cannot open: %s", strerror(errno));
		goto out;
	}
	int rc = ini_parse_stream(loader_read, &ld, loader_handle, &ld);
	loader_check_line(&ld);
	/* Our reader sees every line inih refuses; this only guards that belief. */
	if (rc != 0 && !ld.errors)
		loader_error(&ld, rc > 0 ? (unsigned)rc : 0, "syntax error");

	for (size_t i = 0; i < N_KEYS; i++) {
		const struct config_key *k = &config_keys[i];
		if (ld.seen[i])
			continue;
		if (k->def)
			set_value(&ld, 0, k, k->def);
		else if (k->flags & CK_REQUIRED)
			key_error(&ld, 0, k, "missing (required)");
	}
	size_t ki = key_index("receipt_key"), ci = key_index("receipt_cert");
	if (!ld.cfg->receipt_key != !ld.cfg->receipt_cert) {
		size_t set = ld.cfg->receipt_key ? ki : ci, unset = ld.cfg->receipt_key ? ci : ki;
		key_error(&ld, ld.seen[set], &config_keys[set], "set without %s (set both to sign "
			  "receipts, or neither)", config_keys[unset].name);
	}
	if (!ld.errors) {
		cfg = ld.cfg;
		ld.cfg = NULL;
	}
out:
	if (ld.f)
		fclose(ld.f);
	free(ld.line);
	config_free(ld.cfg);
	if (errors)
		*errors = ld.errors;
	else
		free(ld.errors);
	return cfg;
}

static bool key_equal(const struct config_key *k, const struct config *a, const struct config *b)
{
	switch (k->type) {
	case CT_PATH:
	case CT_STRING:
	case CT_TIMEZONE: {
		const char *x = *(char *const *)cfield(a, k), *y = *(char *const *)cfield(b, k);
		return x == y || (x && y && strcmp(x, y) == 0);
	}
	case CT_DEPARTEMENTS:
		return a->n_departements == b->n_departements &&
		       memcmp(a->departements, b->departements, sizeof(a->departements)) == 0;
	case CT_SIZE:
		return *(const uint64_t *)cfield(a, k) == *(const uint64_t *)cfield(b, k);
	case CT_DURATION:
	case CT_MINUTES:
		return *(const uint32_t *)cfield(a, k) == *(const uint32_t *)cfield(b, k);
	}
	return false;
}

bool config_check_reload(const struct config *old, const struct config *fresh, char **errors)
{
	struct loader ld = { .path = fresh->path };
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct config_key *k = &config_keys[i];
		if ((k->flags & CK_RESTART) && !key_equal(k, old, fresh))
			key_error(&ld, 0, k, "cannot change on reload (restart attestd)");
	}
	if (errors)
		*errors = ld.errors;
	else
		free(ld.errors);
	return ld.errors == NULL;
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < N_KEYS; i++) {
		enum config_type t = config_keys[i].type;
		if (t == CT_PATH || t == CT_STRING || t == CT_TIMEZONE)
			free(*(char **)field(cfg, &config_keys[i]));
	}
	free(cfg->path);
	free(cfg);
}

bool config_serves(const struct config *cfg, const char *departement)
{
	for (size_t i = 0; i < cfg->n_departements; i++)
		if (strcmp(cfg->departements[i], departement) == 0)
			return true;
	return false;
}

const struct config *config_current(void)
{
	return config_current_ptr;
}

struct config *config_swap(struct config *cfg)
{
	struct config *old = config_current_ptr;
	config_current_ptr = cfg;
	return old;
}
