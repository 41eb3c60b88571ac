/*
 * bench_gen - the benchmark's input, made in one process (one signer
 * loaded once; a process per file would cost more than the run it feeds).
 *
 *   bench_gen make PKI_DIR OUTDIR STAGES [SCAN_BYTES]
 *       OUTDIR/files/: per stage an attestations file and a sign-in sheet
 *       (20 trainees, signed by PKI_DIR/centre-rsa, RSA-2048), for centre
 *       R2402800010 (département 28); OUTDIR/order: the names in drop
 *       order (sheet first for even stages, attestations first for odd
 *       ones, so half the stages go through `pending`); OUTDIR/licences.csv
 *       and OUTDIR/events.csv: the trainees' registry rows.  Each identity
 *       scan has SCAN_BYTES bytes (default 2048), a JPEG header then noise.
 *
 *   bench_gen drop OUTDIR INBOX_DIR
 *       copies OUTDIR/files/ into INBOX_DIR in OUTDIR/order, the way an
 *       SFTP client does (temporary name, then rename), so reception order
 *       (ctime) is the drop order.
 *
 *   bench_gen archive ROOT < CONTENTS
 *       for each line of standard input, a file of those bytes (without
 *       the newline) at ROOT/ab/cd/<its SHA-256>, the archive's layout:
 *       make bench-archive's archive (tests/bench/archive.sh), a million
 *       small files in a minute, with no fsync (a benchmark's scratch).
 *
 * Outcomes are mixed the way a real batch is: most trainees lost a few
 * points (credited 1 to 4), some lost none (no_credit no_points_lost),
 * one per stage is a judicial case 3 (no_credit case_no_points).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <openssl/evp.h>

#include "signature.h"
#include "xmalloc.h"

#define TRAINEES 20
#define APPROVAL "R2402800010"

/* A growing text buffer. */
struct buf {
	char *p;
	size_t len, cap;
};

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		size_t room = b->cap - b->len;
		va_start(ap, fmt);
		int n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			abort();
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap + (size_t)n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
}

/* Consecutive weekdays of November 2026 (no Sunday, no 11 Nov). */
static const char *const stage_days[][2] = {
	{ "2026-11-02", "2026-11-03" }, { "2026-11-03", "2026-11-04" },
	{ "2026-11-04", "2026-11-05" }, { "2026-11-05", "2026-11-06" },
	{ "2026-11-06", "2026-11-07" }, { "2026-11-09", "2026-11-10" },
	{ "2026-11-12", "2026-11-13" }, { "2026-11-13", "2026-11-14" },
};

static const char *const given[] = { "Claire", "Lucas", "Chloé", "Théo", "Anne Marie",
				     "Jean-Pierre", "Inès", "Noah", "Léa", "Hugo" };

struct trainee {
	char licence[16];
	char surname[24];
	const char *given;
	char birth[11];
	int stage_case;
	int lost;		/* points lost by a retrait (0: none) */
};

static void trainee_of(long stage, int t, struct trainee *out)
{
	long n = stage * TRAINEES + t;
	snprintf(out->licence, sizeof(out->licence), "B%011ld", n % 100000000000L);
	/* Letters only: the surname of trainee n, in base 26. */
	char letters[12];
	int k = 0;
	long v = n;
	do {
		letters[k++] = (char)('A' + v % 26);
		v /= 26;
	} while (v && k < 11);
	letters[k] = '\0';
	snprintf(out->surname, sizeof(out->surname), "BANC-%s", letters);
	out->given = given[n % 10];
	snprintf(out->birth, sizeof(out->birth), "19%02ld-%02ld-%02ld", 50 + n % 50, 1 + n % 12,
		 1 + n % 28);
	out->stage_case = t == TRAINEES - 1 ? 3 : 1;
	out->lost = (int)(n % 7);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A scan's base64: a JPEG start of image, then noise unique to the trainee. */
static char *scan_base64(long seed, size_t bytes)
{
	unsigned char *raw = xmalloc(bytes);
	uint64_t s = 0x9E3779B97F4A7C15ULL ^ (uint64_t)seed;
	for (size_t i = 0; i < bytes; i++)
		raw[i] = (unsigned char)(xorshift(&s) >> 24);
	memcpy(raw, "\xFF\xD8\xFF\xE0", bytes < 4 ? bytes : 4);
	char *b64 = xmalloc(4 * ((bytes + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, raw, (int)bytes);
	free(raw);
	return b64;
}

static void stage_open(struct buf *b, const char *root, long i, const char *ref)
{
	const char *const *d = stage_days[i % 8];
	buf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<%s xmlns=\"urn:ssr:stage:1\" version=\"1\" created=\"%sT17:05:00+01:00\">\n"
		   "  <centre approval=\"" APPROVAL "\"/>\n"
		   "  <stage ref=\"%s\" departement=\"28\" first-day=\"%s\" last-day=\"%s\"",
		   root, d[1], ref, d[0], d[1]);
}

static void attestations_doc(struct buf *b, long i, const char *ref)
{
	const char *last = stage_days[i % 8][1];
	stage_open(b, "attestations", i, ref);
	buf_printf(b, "/>\n");
	for (int t = 0; t < TRAINEES; t++) {
		struct trainee tr;
		trainee_of(i, t, &tr);
		buf_printf(b, "  <attestation number=\"%s-%02d\" case=\"%d\" issued=\"%s\">\n"
			   "    <trainee licence=\"%s\" surname=\"%s\" given-names=\"%s\" "
			   "birth-date=\"%s\"/>\n",
			   ref, t + 1, tr.stage_case, last, tr.licence, tr.surname, tr.given,
			   tr.birth);
		if (tr.stage_case == 3)
			buf_printf(b, "    <court-order ref=\"PARQUET-28-%ld\" date=\"2026-09-01\"/>\n",
				   i);
		buf_printf(b, "  </attestation>\n");
	}
	buf_printf(b, "</attestations>\n");
}

static void sheet_doc(struct buf *b, long i, const char *ref, size_t scan_bytes)
{
	const char *const *d = stage_days[i % 8];
	stage_open(b, "signin-sheet", i, ref);
	buf_printf(b, ">\n    <venue>Salle Jean Moulin, 12 rue des Lices, 28000 Chartres</venue>\n"
		   "    <session id=\"1am\" date=\"%s\" start=\"08:30\" end=\"12:00\"/>\n"
		   "    <session id=\"1pm\" date=\"%s\" start=\"13:00\" end=\"16:30\"/>\n"
		   "    <session id=\"2am\" date=\"%s\" start=\"08:30\" end=\"12:00\"/>\n"
		   "    <session id=\"2pm\" date=\"%s\" start=\"13:00\" end=\"16:30\"/>\n"
		   "  </stage>\n"
		   "  <facilitator role=\"psychologist\" authorisation=\"PSY-28-2019-004\" "
		   "surname=\"DURAND\" given-names=\"Anne\"/>\n"
		   "  <facilitator role=\"road-safety-expert\" authorisation=\"BAFM-28-2015-011\" "
		   "surname=\"LEROY\" given-names=\"Marc\"/>\n", d[0], d[0], d[1], d[1]);
	for (int t = 0; t < TRAINEES; t++) {
		struct trainee tr;
		trainee_of(i, t, &tr);
		char *scan = scan_base64(i * TRAINEES + t, scan_bytes);
		buf_printf(b, "  <participant licence=\"%s\" surname=\"%s\" given-names=\"%s\" "
			   "birth-date=\"%s\">\n"
			   "    <identity-document type=\"id-card\" number=\"ID%s\" "
			   "media-type=\"image/jpeg\">%s</identity-document>\n"
			   "    <presence session=\"1am\" arrived=\"08:2%d\" signed=\"true\"/>\n"
			   "    <presence session=\"1pm\" arrived=\"12:5%d\" signed=\"true\"/>\n"
			   "    <presence session=\"2am\" arrived=\"08:2%d\" signed=\"true\"/>\n"
			   "    <presence session=\"2pm\" arrived=\"12:5%d\" signed=\"true\"/>\n"
			   "  </participant>\n", tr.licence, tr.surname, tr.given, tr.birth,
			   tr.licence, scan, t % 10, t % 10, (t + 3) % 10, (t + 5) % 10);
		free(scan);
	}
	buf_printf(b, "</signin-sheet>\n");
}

static int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "bench_gen: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int sign_to(const struct sig_signer *signer, const struct buf *b, const char *path)
{
	struct parse_error err = { 0 };
	xmlDocPtr doc = xmlReadMemory(b->p, (int)b->len, NULL, NULL, XML_PARSE_NONET);
	xmlChar *out = NULL;
	int len = 0, rc = -1;
	if (doc == NULL) {
		fprintf(stderr, "bench_gen: %s: generated XML is not well-formed\n", path);
		return -1;
	}
	if (sig_sign(doc, signer, &err) != REASON_OK) {
		fprintf(stderr, "bench_gen: %s: %s\n", path, err.message);
		goto out;
	}
	xmlDocDumpMemory(doc, &out, &len);
	rc = write_file(path, out, (size_t)len);
out:
	xmlFree(out);
	xmlFreeDoc(doc);
	return rc;
}

static int make(const char *pki, const char *outdir, long stages, size_t scan_bytes)
{
	struct parse_error err = { 0 };
	char *key = xasprintf("%s/centre-rsa.key", pki), *pem = xasprintf("%s/centre-rsa.pem", pki);
	char *files = xasprintf("%s/files", outdir);
	char *path = NULL;
	struct sig_signer *signer = NULL;
	FILE *order = NULL, *lic = NULL, *ev = NULL;
	struct buf b = { 0 };
	int rc = 1;

	if (sig_global_init(&err) != REASON_OK) {
		fprintf(stderr, "bench_gen: %s\n", err.message);
		goto out;
	}
	if ((signer = sig_signer_load(key, pem, &err)) == NULL) {
		fprintf(stderr, "bench_gen: %s\n", err.message);
		goto out;
	}
	if (mkdir(outdir, 0755) != 0 && errno != EEXIST)
		goto io;
	if (mkdir(files, 0755) != 0 && errno != EEXIST)
		goto io;
	free(path);
	path = xasprintf("%s/order", outdir);
	if ((order = fopen(path, "w")) == NULL)
		goto io;
	free(path);
	path = xasprintf("%s/licences.csv", outdir);
	if ((lic = fopen(path, "w")) == NULL)
		goto io;
	free(path);
	path = xasprintf("%s/events.csv", outdir);
	if ((ev = fopen(path, "w")) == NULL)
		goto io;
	fprintf(lic, "licence,surname,given_names,birth_date,issued,probation_end,status,status_date\n");
	fprintf(ev, "licence,effective_date,kind,points,ref\n");

	for (long i = 0; i < stages; i++) {
		char ref[32], att[64], sheet[64];
		snprintf(ref, sizeof(ref), "BN-2026-%06ld", i + 1);
		snprintf(att, sizeof(att), "%s.attestations.xml", ref);
		snprintf(sheet, sizeof(sheet), "%s.signin-sheet.xml", ref);
		for (int t = 0; t < TRAINEES; t++) {
			struct trainee tr;
			trainee_of(i, t, &tr);
			fprintf(lic, "%s,%s,%s,%s,2005-01-15,,valid,\n", tr.licence, tr.surname,
				tr.given, tr.birth);
			fprintf(ev, "%s,2005-01-15,grant,12,BG-%s\n", tr.licence, tr.licence);
			if (tr.lost)
				fprintf(ev, "%s,2026-03-01,retrait,-%d,BR-%s\n", tr.licence, tr.lost,
					tr.licence);
		}
		b.len = 0;
		attestations_doc(&b, i, ref);
		free(path);
		path = xasprintf("%s/%s", files, att);
		if (sign_to(signer, &b, path) != 0)
			goto out;
		b.len = 0;
		sheet_doc(&b, i, ref, scan_bytes);
		free(path);
		path = xasprintf("%s/%s", files, sheet);
		if (sign_to(signer, &b, path) != 0)
			goto out;
		if (i % 2 == 0)
			fprintf(order, "%s\n%s\n", sheet, att);
		else
			fprintf(order, "%s\n%s\n", att, sheet);
	}
	rc = 0;
	goto out;
io:
	fprintf(stderr, "bench_gen: %s: %s\n", path ? path : outdir, strerror(errno));
out:
	if (order && fclose(order) != 0)
		rc = 1;
	if (lic && fclose(lic) != 0)
		rc = 1;
	if (ev && fclose(ev) != 0)
		rc = 1;
	free(b.p);
	free(key);
	free(pem);
	free(files);
	free(path);
	sig_signer_free(signer);
	sig_global_shutdown();
	xmlCleanupParser();
	return rc;
}

static int drop(const char *outdir, const char *inbox)
{
	char *order_path = xasprintf("%s/order", outdir);
	FILE *order = fopen(order_path, "r");
	char line[256];
	int rc = 0;
	if (order == NULL) {
		fprintf(stderr, "bench_gen: %s: %s\n", order_path, strerror(errno));
		free(order_path);
		return 1;
	}
	while (rc == 0 && fgets(line, sizeof(line), order)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0')
			continue;
		char *src = xasprintf("%s/files/%s", outdir, line);
		char *tmp = xasprintf("%s/.%s.part", inbox, line);
		char *dst = xasprintf("%s/%s", inbox, line);
		int in = open(src, O_RDONLY), out = -1;
		struct stat st;
		char *data = NULL;
		if (in < 0 || fstat(in, &st) != 0)
			rc = 1;
		if (rc == 0) {
			data = xmalloc((size_t)st.st_size + 1);
			if (read(in, data, (size_t)st.st_size) != st.st_size)
				rc = 1;
		}
		if (rc == 0 && ((out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0 ||
				write(out, data, (size_t)st.st_size) != st.st_size))
			rc = 1;
		if (out >= 0 && close(out) != 0)
			rc = 1;
		if (rc == 0 && rename(tmp, dst) != 0)
			rc = 1;
		if (rc != 0)
			fprintf(stderr, "bench_gen: dropping %s: %s\n", line, strerror(errno));
		if (in >= 0)
			close(in);
		free(data);
		free(src);
		free(tmp);
		free(dst);
	}
	fclose(order);
	free(order_path);
	return rc;
}

static int archive_fill(const char *root)
{
	char line[4096], hex[65], path[PATH_MAX];
	unsigned char md[32];
	long n = 0;
	snprintf(path, sizeof(path), "%s", root);
	if (mkdir(root, 0755) != 0 && errno != EEXIST)
		goto io;
	while (fgets(line, sizeof(line), stdin)) {
		size_t len = strcspn(line, "\n");
		if (len == 0)
			continue;
		if (EVP_Digest(line, len, md, NULL, EVP_sha256(), NULL) != 1) {
			fprintf(stderr, "bench_gen: SHA-256 failed\n");
			return 1;
		}
		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		snprintf(path, sizeof(path), "%s/%.2s", root, hex);
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			goto io;
		snprintf(path, sizeof(path), "%s/%.2s/%.2s", root, hex, hex + 2);
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			goto io;
		snprintf(path, sizeof(path), "%s/%.2s/%.2s/%s", root, hex, hex + 2, hex);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			goto io;
		ssize_t w = write(fd, line, len);
		if (close(fd) != 0 || w != (ssize_t)len)
			goto io;
		n++;
	}
	printf("%ld\n", n);
	return 0;
io:
	fprintf(stderr, "bench_gen: %s: %s\n", path, strerror(errno));
	return 1;
}

int main(int argc, char *argv[])
{
	if (argc == 3 && strcmp(argv[1], "archive") == 0)
		return archive_fill(argv[2]);
	if (argc >= 5 && strcmp(argv[1], "make") == 0) {
		long stages = strtol(argv[4], NULL, 10);
		long scan = argc > 5 ? strtol(argv[5], NULL, 10) : 2048;
		if (stages <= 0 || scan < 4 || scan > 2 * 1024 * 1024) {
			fprintf(stderr, "bench_gen: STAGES > 0, 4 <= SCAN_BYTES <= 2 MiB\n");
			return 2;
		}
		return make(argv[2], argv[3], stages, (size_t)scan);
	}
	if (argc == 4 && strcmp(argv[1], "drop") == 0)
		return drop(argv[2], argv[3]);
	fprintf(stderr, "usage: bench_gen make PKI_DIR OUTDIR STAGES [SCAN_BYTES]\n"
			"       bench_gen drop OUTDIR INBOX_DIR\n"
			"       bench_gen archive ROOT < CONTENTS\n");
	return 2;
}
