/*
 * store - the only module that speaks SQL (libpq).  A struct store is one
 * connection; the caller owns it and frees it with store_free().  Here:
 * schema migrations and the registries' CSV import; the pipeline's
 * transactions come with it later.
 */
#ifndef ATTESTD_STORE_H
#define ATTESTD_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

enum store_status {
	STORE_OK,
	STORE_INVALID,		/* the input is wrong (exit 1) */
	STORE_UNAVAILABLE,	/* cannot reach the database (exit 4) */
	STORE_SCHEMA_MISMATCH,	/* schema too old or newer than this binary (exit 4) */
	STORE_DENIED,		/* the role lacks a privilege (42501): conninfo names
				 * the wrong role, a configuration fault (exit 3) */
	STORE_ERROR,		/* anything else (exit 5) */
};

struct store;

/* Connects with a libpq conninfo (PG* environment variables apply).  On
 * failure returns NULL and *err (allocated) says why. */
struct store *store_connect(const char *conninfo, char **err);
/* store_connect for a short session that only reads (`attestd status`):
 * without the session's SETs, which matter only to a session that commits
 * (synchronous_commit) or runs DDL (notices), so that its one query is its
 * one round trip.  A reconnection (store_ok) sets them as usual. */
struct store *store_connect_reader(const char *conninfo, char **err);
/* For the commands: connects, or says on stderr why not and where the
 * conninfo comes from (config_path); NULL then. */
struct store *store_connect_or_say(const char *conninfo, const char *config_path);
/* The command exit status of a store status (interfaces.md): 0, 1 invalid
 * input, 4 database unreachable or schema mismatch, 5 anything else. */
int store_exit_code(enum store_status s);
/* True for a fault of the setup rather than of the data or of attestd: the
 * database unreachable, its schema not this binary's, or our role lacking a
 * privilege.  An operator mends it; the daemon keeps the file, says
 * db_unavailable and exits 4 (interfaces.md: never internal_error). */
bool store_fault_is_environment(enum store_status s);
void store_free(struct store *st);
/* True when the connection is usable (reconnects when it is not). */
bool store_ok(struct store *st);
/* A round trip to the server: false when it is gone (store_ok then
 * reconnects), which an idle connection does not notice by itself. */
bool store_ping(struct store *st);

/* The [database] synchronous_commit values that make a COMMIT durable. */
bool store_synchronous_commit_valid(const char *level);
/* Sets synchronous_commit for this session and every reconnection of it
 * (store_connect sets "on"); STORE_ERROR for a level that is not durable. */
enum store_status store_set_synchronous_commit(struct store *st, const char *level, char **err);

/* The server's settings that decide whether a commit survives a crash. */
struct store_durability {
	bool fsync;
	bool full_page_writes;
	char server_synchronous_commit[16];	/* the server's own (or role's) */
	char session_synchronous_commit[16];	/* this session's: ours */
};
enum store_status store_durability(struct store *st, struct store_durability *out, char **err);
/* The operator's warning (in buf) when the server can lose committed work
 * in a crash of its machine; NULL when it cannot. */
const char *store_durability_warning(const struct store_durability *d, char *buf, size_t size);
/* `attestd db status`: store_schema_status, then the durability settings. */
enum store_status store_db_status(struct store *st, FILE *out, char **err);

/* Applies the embedded migrations not yet applied, each in its own
 * transaction, under an advisory lock; writes one line per migration. */
enum store_status store_migrate(struct store *st, FILE *out, char **err);
/* Lists applied and pending migrations (out may be NULL: check only).
 * STORE_OK when up to date, STORE_SCHEMA_MISMATCH when some are pending or
 * the database is newer. */
enum store_status store_schema_status(struct store *st, FILE *out, char **err);

/* The start-up reconciliation (reconcile.c), in bounded pieces so that its
 * memory never depends on the archive's size.  known[i] tells whether
 * names[i] is recorded: an archived file's hash (an accepted original or an
 * identity scan), a quarantined file's claim id (a rejected submission).
 * At most STORE_RECONCILE_BATCH names a call. */
#define STORE_RECONCILE_BATCH 500
enum store_status store_hashes_known(struct store *st, const char *const *names, size_t n,
				     bool *known, char **err);
enum store_status store_claims_rejected(struct store *st, const char *const *names, size_t n,
					bool *known, char **err);

/*
 * A full comparison's side of the database (no clean comparison recorded):
 * every hash the archive may hold (an accepted original, an identity scan)
 * in byte order, each with whether it must hold it (its submission accepted
 * more than 10 minutes ago, as store_recorded_since), so that reconcile
 * merges it with the archive's sorted listing instead of a look-up a name
 * and a stat a row.  Read through a cursor a page at a time: memory stays
 * flat.  A hash comes once a row (a scan two sheets share comes twice).
 * The cursor's transaction is the connection's until store_hashes_close.
 */
struct store_hashes;
enum store_status store_hashes_open(struct store *st, struct store_hashes **out, char **err);
/* The next hash (*sha256 NULL after the last), borrowed until the next call. */
enum store_status store_hashes_next(struct store_hashes *h, const char **sha256, bool *must,
				    char **err);
void store_hashes_close(struct store_hashes *h);

/* The last clean reconcile (seconds since the epoch, 0: none), and its
 * record. */
enum store_status store_reconcile_mark(struct store *st, long long *clean_at, char **err);
enum store_status store_reconcile_mark_set(struct store *st, long long clean_at, char **err);

/* One settled submission whose files the archive or the quarantine must
 * hold; strings borrowed for the callback's duration. */
struct store_recorded {
	long long id;
	bool accepted;			/* else rejected */
	const char *sha256;		/* "" when never read */
	const char *inbox_dir, *claim_id, *file_name;
	const char *scans;		/* identity scans' hashes, comma-separated */
};
/* The accepted and rejected submissions (only the rejected when
 * rejected_only) processed since since (seconds since the epoch) and more
 * than 10 minutes ago (another instance may still be archiving newer ones),
 * of id above *after, at most limit of them, in id order, into fn; *after
 * becomes the last id, *rows their count. */
enum store_status store_recorded_since(struct store *st, long long since, bool rejected_only,
				       long long *after, size_t limit,
				       void (*fn)(const struct store_recorded *r, void *ctx),
				       void *ctx, size_t *rows, char **err);

/* The counts `attestd status` shows. */
struct store_counts {
	long pending;
	long review;
	long overdue;			/* flagged registration_overdue, still undecided */
	long near_deadline;		/* undecided, deadline within 7 days */
	char last_file[256];		/* "" when nothing was processed yet */
	char last_approval[16];
	long long last_at;		/* epoch */
	long files_today;
	bool fsync;			/* the server's, for store_durability_warning */
	bool full_page_writes;
};
enum store_status store_counts(struct store *st, const char *today, struct store_counts *out,
			       char **err);

/* Checks the audit log's hash chain: *broken_seq 0 when intact, else the
 * first broken row and *why (allocated).  Readable by attestd_auditor. */
enum store_status store_audit_verify(struct store *st, long *rows, long *broken_seq,
				     char **why, char **err);
/* The log's head (its last row's seq and hash: all zeros when empty), and
 * the hash the log holds for row seq (*found false: no such row).  The
 * head, written where the database's owner cannot rewrite it (syslog),
 * anchors the chain: a log rewritten from its first row on still chains,
 * but no longer ends in a hash logged before. */
enum store_status store_audit_head(struct store *st, long *seq, char hash[static 65], char **err);
enum store_status store_audit_row_hash(struct store *st, long seq, char hash[static 65],
				       bool *found, char **err);

enum registry_kind {
	REGISTRY_CENTRES,
	REGISTRY_FACILITATORS,
	REGISTRY_LICENCES,
	REGISTRY_EVENTS,
	REGISTRY_KIND_COUNT
};

/* "centres", ...; REGISTRY_KIND_COUNT when unknown. */
enum registry_kind registry_kind_from_name(const char *name);
const char *registry_kind_name(enum registry_kind kind);

struct registry_problem {
	long record;		/* 1 = first record after the header; 0 = whole file */
	long line;		/* physical line, when known (0 otherwise) */
	char *message;
};

struct registry_report {
	long records;
	long inserted;
	long updated;
	long unchanged;
	size_t n_problems;
	struct registry_problem *problems;
	long problems_total;	/* may exceed n_problems: only the first ones are listed */
};

void registry_report_clear(struct registry_report *rep);

/* Reads up to len bytes into buf; returns the count, 0 at end, -1 on error. */
typedef ssize_t (*store_reader)(void *ctx, char *buf, size_t len);

/*
 * Called inside the import's transaction, after the merge, with what the
 * import may have changed for the daemon's own records: the stages holding
 * attestations pending on a licence of the file (licence_unknown), and the
 * licences of the file whose balance the daemon caches.  Licences and
 * events imports only.
 */
struct registry_hook {
	void *ctx;
	enum store_status (*after_merge)(void *ctx, struct store *st, const char *cause,
					 const int64_t *stages, size_t n_stages,
					 char *const *licences, size_t n_licences, char **err);
};

/*
 * Where an import's records come from, and what the audit log says of it.
 * read yields CSV records "RECORD,LINE,field,..." (no header, UTF-8,
 * checked by csv.h); once it has returned 0, finished adds the problems
 * the file's reader found (nothing is imported when there are any) and
 * fills sha256.  phase, when set, is told each step (progress).
 */
struct registry_source {
	store_reader read;
	void (*finished)(void *ctx, struct registry_report *rep);
	void (*phase)(void *ctx, const char *phase);
	void *ctx;
	const char *file;	/* the file's name, as the operator gave it */
	const char *actor;	/* audit-log actor: --by NAME, else the OS user */
	const char *os_user;
	const char *by;		/* NULL when not given */
	const char *encoding;
	char separator;
	char today[11];		/* YYYY-MM-DD, the prefecture's date */
	char sha256[65];
};

/*
 * Copies the source's records into a staging table (COPY), validates every
 * field in SQL and merges, and appends the import's audit-log row, all in
 * one transaction: STORE_INVALID with rep->problems and nothing imported
 * when any record is wrong.  *audit_detail (allocated) is the audit row's
 * detail, for the caller's log line once committed.
 */
enum store_status store_registry_import(struct store *st, enum registry_kind kind,
					struct registry_source *src,
					const struct registry_hook *hook, const char *cause,
					struct registry_report *rep, char **audit_detail,
					char **err);

#endif
