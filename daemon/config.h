/*
 * config - the INI configuration of interfaces.md, read with libinih.
 * config_load() builds a fresh struct and validates every value; the caller
 * owns it.  The running program keeps one current configuration, swapped
 * whole on reload (config_swap): a failed reload keeps the old one.
 */
#ifndef ATTESTD_CONFIG_H
#define ATTESTD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_DEFAULT_PATH "/etc/attestd/attestd.conf"
#define CONFIG_MAX_DEPARTEMENTS 16

struct config {
	char *path;			/* the file it was read from */

	/* [paths]: absolute paths */
	char *inbox;
	char *outbox;
	char *spool;
	char *archive;
	char *quarantine;
	char *metrics;			/* Prometheus text file; NULL = none */

	/* [database] */
	char *conninfo;			/* default "service=attestd" */

	/* [trust] */
	char *centres_ca;		/* required */
	char *crl;			/* NULL = no CRL configured */
	char *receipt_key;		/* NULL with receipt_cert = unsigned receipts */
	char *receipt_cert;

	/* [prefecture] */
	char departements[CONFIG_MAX_DEPARTEMENTS][4];	/* "28", "2A", "971" */
	size_t n_departements;
	char *timezone;			/* default "Europe/Paris" */

	/* [limits] */
	uint64_t max_file_size;		/* bytes, default 32 MiB */
	uint32_t settle_time_ms;	/* default 2 s */
	uint32_t rescan_interval_ms;	/* default 30 s */
	uint32_t late_arrival_tolerance_min;	/* default 0 */
	uint64_t min_free_space;	/* bytes, default 256 MiB: claiming pauses below */

	/* [console]: attestd console only (console/console.c checks them) */
	char *console_listen;		/* host:port or an absolute UNIX socket path */
	char *console_tls_cert;		/* PEM; NULL = plain HTTP (loopback or socket only) */
	char *console_tls_key;
};

/*
 * Reads and validates the file.  On success returns a new configuration;
 * on failure returns NULL and sets *errors to a newly allocated text, one
 * line per problem, each "FILE:LINE: [section] key: what is wrong".
 */
struct config *config_load(const char *path, char **errors);
void config_free(struct config *cfg);

/*
 * On reload: true when fresh changes no key that needs a restart (paths,
 * database, time zone); otherwise false and *errors lists them, one per
 * line, and the caller keeps the old configuration.
 */
bool config_check_reload(const struct config *old, const struct config *fresh, char **errors);

/* True when the département code is one this prefecture serves. */
bool config_serves(const struct config *cfg, const char *departement);

/* The program's current configuration (NULL before the first swap). */
const struct config *config_current(void);
/* Installs cfg as current (taking ownership) and returns the previous one
 * for the caller to free once nothing borrows it any more. */
struct config *config_swap(struct config *cfg);

#endif
