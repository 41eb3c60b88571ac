/*
 * bench_parsers - the whole wall in one process: N distinct signed
 * 20-attestation files (written to a temporary directory, read back one at
 * a time as the daemon does) through parsers_parse(), for an RSA-2048 and
 * an EC P-256 signer, then N sign-in sheets (20 participants, each with a
 * 2 KiB identity scan, as in the pipeline benchmark) signed RSA-2048;
 * prints files/s, ms/file and the peak RSS.  A second
 * pass runs the same files through the stages one by one (as parsers.c
 * composes them) to show where the time goes: load, profile, schema,
 * verify, mapping.  Finally `xmlsec1 --verify` on a few of the files, for
 * comparison with another verifier, and N receipts of 20 attestations
 * built and signed with the RSA-2048 prefecture key.  No timing is asserted.
 *
 *   bench_parsers [N [PKI_DIR]]   (default 2000; without PKI_DIR a throwaway
 *                                  PKI is made with tests/fixtures/pki.sh)
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <openssl/evp.h>

#include "fsutil.h"
#include "mapping.h"
#include "parsers.h"
#include "receipt.h"
#include "schema.h"
#include "signature.h"
#include "xml_load.h"
#include "xmalloc.h"

#define CLI_FILES 20
#define SCAN_BYTES 2048

enum stage { ST_READ, ST_LOAD, ST_PROFILE, ST_SCHEMA, ST_VERIFY, ST_MAPPING, ST_COUNT };
static const char *const stage_names[ST_COUNT] = { "read", "load", "profile", "schema",
						   "verify", "mapping" };

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = 0, resident = 0;

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void die(const char *what, const struct parse_error *err)
{
	fprintf(stderr, "bench_parsers: %s: %s %s\n", what, err ? reason_code(err->reason) : "",
		err ? err->message : "");
	exit(1);
}

/* File number k: 20 attestations of the four cases, at most what the
 * format allows, every number and licence distinct from other files. */
static char *document(int k)
{
	char *doc = xasprintf(
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<attestations xmlns=\"urn:ssr:stage:1\" version=\"1\" created=\"2026-11-14T17:05:00+01:00\">\n"
		"  <centre approval=\"R2402800010\"/>\n"
		"  <stage ref=\"B-%05d\" departement=\"28\" first-day=\"2026-11-13\" last-day=\"2026-11-14\"/>\n",
		k);

	for (int i = 1; i <= 20; i++) {
		int stage_case = 1 + i % 4;
		const char *extra = stage_case == 2 ? "    <letter-48n received=\"2026-09-30\"/>\n"
			: stage_case >= 3 ? "    <court-order ref=\"TJ CHARTRES 2026/0456\" date=\"2026-06-15\"/>\n"
			: "";
		char *next = xasprintf(
			"%s  <attestation number=\"B-%05d-%02d\" case=\"%d\" issued=\"2026-11-14\">\n"
			"    <trainee licence=\"1%05d%02d0042\" surname=\"LEFÈVRE-DURAND\" "
			"given-names=\"Jean-Loïc Marie\" birth-date=\"1990-04-12\"/>\n%s"
			"  </attestation>\n", doc, k, i, stage_case, k, i, extra);
		free(doc);
		doc = next;
	}
	char *full = xasprintf("%s</attestations>\n", doc);
	free(doc);
	return full;
}

/* A scan's base64: a JPEG start of image, then noise unique to (k, i). */
static char *scan_base64(int k, int i)
{
	unsigned char raw[SCAN_BYTES];
	unsigned long long x = 0x9E3779B97F4A7C15ULL ^ ((unsigned long long)k << 8 | (unsigned)i);
	char *b64 = xmalloc(4 * ((SCAN_BYTES + 2) / 3) + 1);

	for (size_t j = 0; j < sizeof(raw); j++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		raw[j] = (unsigned char)(x >> 24);
	}
	memcpy(raw, "\xFF\xD8\xFF\xE0", 4);
	EVP_EncodeBlock((unsigned char *)b64, raw, (int)sizeof(raw));
	return b64;
}

/* Sign-in sheet number k: 20 participants present at the four sessions. */
static char *sheet(int k)
{
	char *doc = xasprintf(
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<signin-sheet xmlns=\"urn:ssr:stage:1\" version=\"1\" created=\"2026-11-14T17:05:00+01:00\">\n"
		"  <centre approval=\"R2402800010\"/>\n"
		"  <stage ref=\"B-%05d\" departement=\"28\" first-day=\"2026-11-13\" last-day=\"2026-11-14\">\n"
		"    <venue>Salle Jean Moulin, 12 rue des Lices, 28000 Chartres</venue>\n"
		"    <session id=\"1am\" date=\"2026-11-13\" start=\"08:30\" end=\"12:00\"/>\n"
		"    <session id=\"1pm\" date=\"2026-11-13\" start=\"13:00\" end=\"16:30\"/>\n"
		"    <session id=\"2am\" date=\"2026-11-14\" start=\"08:30\" end=\"12:00\"/>\n"
		"    <session id=\"2pm\" date=\"2026-11-14\" start=\"13:00\" end=\"16:30\"/>\n"
		"  </stage>\n"
		"  <facilitator role=\"psychologist\" authorisation=\"PSY-28-2019-004\" "
		"surname=\"DURAND\" given-names=\"Anne\"/>\n"
		"  <facilitator role=\"road-safety-expert\" authorisation=\"BAFM-28-2015-011\" "
		"surname=\"LEROY\" given-names=\"Marc\"/>\n", k);

	for (int i = 1; i <= 20; i++) {
		char *scan = scan_base64(k, i);
		char *next = xasprintf(
			"%s  <participant licence=\"1%05d%02d0042\" surname=\"LEFÈVRE-DURAND\" "
			"given-names=\"Jean-Loïc Marie\" birth-date=\"1990-04-12\">\n"
			"    <identity-document type=\"id-card\" number=\"ID%05d%02d\" "
			"media-type=\"image/jpeg\">%s</identity-document>\n"
			"    <presence session=\"1am\" arrived=\"08:2%d\" signed=\"true\"/>\n"
			"    <presence session=\"1pm\" arrived=\"12:5%d\" signed=\"true\"/>\n"
			"    <presence session=\"2am\" arrived=\"08:2%d\" signed=\"true\"/>\n"
			"    <presence session=\"2pm\" arrived=\"12:5%d\" signed=\"true\"/>\n"
			"  </participant>\n", doc, k, i, k, i, scan, i % 10, i % 10, (i + 3) % 10,
			(i + 5) % 10);
		free(scan);
		free(doc);
		doc = next;
	}
	char *full = xasprintf("%s</signin-sheet>\n", doc);
	free(doc);
	return full;
}

/* Writes files dir/f00000.xml ... signed by who, attestations or sign-in
 * sheets; returns the mean size. */
static size_t write_files(const char *pki, const char *who, bool sheets, const char *dir, int n)
{
	struct parse_error err = { 0 };
	char *key = xasprintf("%s/%s.key", pki, who), *pem = xasprintf("%s/%s.pem", pki, who);
	struct sig_signer *s = sig_signer_load(key, pem, &err);
	size_t total = 0;

	if (s == NULL)
		die(who, &err);
	for (int k = 0; k < n; k++) {
		char *text = sheets ? sheet(k) : document(k);
		char *path = xasprintf("%s/f%05d.xml", dir, k);
		xmlDocPtr doc = xmlReadMemory(text, (int)strlen(text), NULL, NULL, XML_PARSE_NONET);
		xmlChar *out = NULL;
		int len = 0;
		FILE *f;

		if (doc == NULL || sig_sign(doc, s, &err) != REASON_OK)
			die("sign", &err);
		xmlDocDumpMemory(doc, &out, &len);
		if ((f = fopen(path, "wb")) == NULL || fwrite(out, 1, (size_t)len, f) != (size_t)len ||
		    fclose(f) != 0)
			die(path, NULL);
		total += (size_t)len;
		xmlFree(out);
		xmlFreeDoc(doc);
		free(text);
		free(path);
	}
	sig_signer_free(s);
	free(key);
	free(pem);
	return total / (size_t)n;
}

static unsigned char *read_file(const char *dir, int k, size_t *len)
{
	char *path = xasprintf("%s/f%05d.xml", dir, k);
	unsigned char *data = NULL;
	FILE *f = fopen(path, "rb");
	long size;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0)
		die(path, NULL);
	rewind(f);
	data = xmalloc((size_t)size);
	if (fread(data, 1, (size_t)size, f) != (size_t)size)
		die(path, NULL);
	fclose(f);
	free(path);
	*len = (size_t)size;
	return data;
}

/* The measured pass: read + parsers_parse, as the pipeline calls it. */
static void run_full(const char *label, const struct parsers *p, const char *dir, int n,
		     size_t mean)
{
	double parse_time = 0, start = now();
	long rss_first = 0;
	int first = n < 100 ? 1 : 100;

	for (int k = 0; k < n; k++) {
		struct document *doc = NULL;
		struct parse_evidence ev;
		struct parse_error err;
		int kind;
		size_t len;
		unsigned char *bytes = read_file(dir, k, &len);
		double t1 = now();
		enum reason r = parsers_parse(p, bytes, len, time(NULL), &doc, &kind, &ev, &err);

		parse_time += now() - t1;
		if (r != REASON_OK ||
		    (kind == DOC_SIGNIN_SHEET ? doc->sheet.n_participants : doc->n_attestations) != 20)
			die("parsers_parse", &err);
		document_free(doc);
		parse_evidence_clear(&ev);
		free(bytes);
		if (k == first - 1)
			rss_first = rss_kib();
	}
	double total = now() - start;
	printf("%-9s %5d files of %zu bytes: %6.0f files/s, %6.3f ms/file in parsers_parse "
	       "(%6.3f with the read); RSS %ld KiB after %d files, %ld KiB after %d\n",
	       label, n, mean, n / parse_time, 1000 * parse_time / n, 1000 * total / n, rss_first,
	       first, rss_kib(), n);
}

/* The same files, stage by stage: parsers.c's order, timed apart. */
static void run_split(const char *label, const struct schema_set *schemas,
		      const struct sig_trust *trust, const char *dir, int n)
{
	double t[ST_COUNT] = { 0 }, sum = 0;
	struct parsers_limits limits = { .max_file_size = 32u << 20 };

	for (int k = 0; k < n; k++) {
		struct parse_evidence ev = { 0 };
		struct parse_error err;
		struct document *doc = NULL;
		enum schema_kind kind;
		xmlDocPtr xml = NULL;
		size_t len;
		double t0 = now();
		unsigned char *bytes = read_file(dir, k, &len);
		double t1 = now();

		if (xml_load(bytes, len, &limits, &xml, &err) != REASON_OK)
			die("xml_load", &err);
		double t2 = now();
		kind = schema_root_kind(xml);
		if ((kind != SCHEMA_KIND_ATTESTATIONS && kind != SCHEMA_KIND_SIGNIN_SHEET) ||
		    sig_check_profile(xml, &err) != REASON_OK)
			die("profile", &err);
		double t3 = now();
		if (schema_set_validate(schemas, xml, &kind, &err) != REASON_OK)
			die("schema", &err);
		double t4 = now();
		if (sig_verify(xml, trust, time(NULL), &ev, &err) != REASON_OK)
			die("verify", &err);
		double t5 = now();
		if (mapping_document(xml, &doc, &err) != REASON_OK)
			die("mapping", &err);
		double t6 = now();
		document_free(doc);
		parse_evidence_clear(&ev);
		xmlFreeDoc(xml);
		free(bytes);
		double t7 = now();
		t[ST_READ] += t1 - t0;
		t[ST_LOAD] += t2 - t1 + (t7 - t6);	/* freeing the tree is the load's */
		t[ST_PROFILE] += t3 - t2;
		t[ST_SCHEMA] += t4 - t3;
		t[ST_VERIFY] += t5 - t4;
		t[ST_MAPPING] += t6 - t5;
	}
	for (int s = ST_LOAD; s < ST_COUNT; s++)
		sum += t[s];
	printf("%-9s split, ms/file:", label);
	for (int s = 0; s < ST_COUNT; s++)
		printf(" %s %.3f%s", stage_names[s], 1000 * t[s] / n, s == ST_READ ? " |" : "");
	printf("  = %.3f (", 1000 * sum / n);
	for (int s = ST_LOAD; s < ST_COUNT; s++)
		printf("%s%s %.0f%%", s == ST_LOAD ? "" : ", ", stage_names[s], 100 * t[s] / sum);
	printf(")\n");
}

/* Another verifier: the xmlsec1 command line, one process per file. */
static void run_cli(const char *label, const char *pki, const char *dir, int n)
{
	double start = now();

	for (int k = 0; k < n; k++) {
		char *cmd = xasprintf("xmlsec1 --verify --trusted-pem %s/root.pem --untrusted-pem "
				      "%s/inter.pem %s/f%05d.xml >/dev/null 2>&1", pki, pki, dir, k);
		if (system(cmd) != 0) {
			printf("%-9s xmlsec1 --verify refused %s/f%05d.xml (or is missing)\n", label,
			       dir, k);
			free(cmd);
			return;
		}
		free(cmd);
	}
	/* xmlsec1 1.2.37's CLI has no CRL option: chain only. */
	printf("%-9s xmlsec1 --verify CLI (no CRL): %d files, %.1f ms/file\n", label, n,
	       1000 * (now() - start) / n);
}

/* N accepted receipts of 20 credited attestations, built without and with
 * the prefecture's RSA-2048 signature: the pipeline's receipt_build. */
static void run_receipts(const char *pki, int n)
{
	struct parse_error err = { 0 };
	char *key = xasprintf("%s/prefecture.key", pki), *pem = xasprintf("%s/prefecture.pem", pki);
	struct sig_signer *signer = receipt_signer_load(key, pem, &err);
	struct receipt_attestation atts[20];
	struct receipt r = {
		.file_name = "R2402800010-B-00001.attestations.xml",
		.sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		.kind = "attestations", .received = 1794657600, .processed = 1794657601,
		.timezone = "Europe/Paris", .status = "accepted",
		.n_attestations = 20, .attestations = atts,
	};
	double t[2] = { 0, 0 };
	size_t size = 0;

	if (signer == NULL)
		die("prefecture signer", &err);
	memset(atts, 0, sizeof(atts));
	for (int i = 0; i < 20; i++) {
		snprintf(atts[i].number, sizeof(atts[i].number), "B-00001-%02d", i + 1);
		snprintf(atts[i].licence, sizeof(atts[i].licence), "1000010%02d0042", i + 1);
		atts[i].decision = "credited";
		atts[i].points = 4;
		atts[i].effective = DATE_NONE;
	}
	for (int k = 0; k < n; k++)
		for (int signed_ = 0; signed_ < 2; signed_++) {
			unsigned char *xml = NULL;
			size_t len = 0;
			double t0 = now();
			if (receipt_build(&r, signed_ ? signer : NULL, &xml, &len, &err) != REASON_OK)
				die("receipt_build", &err);
			t[signed_] += now() - t0;
			size = len;
			free(xml);
		}
	printf("receipts  %5d of %zu bytes (20 attestations, RSA-2048): build %.3f ms, "
	       "build and sign %.3f ms, so signing %.3f ms\n", n, size, 1000 * t[0] / n,
	       1000 * t[1] / n, 1000 * (t[1] - t[0]) / n);
	receipt_signer_free(signer);
	free(key);
	free(pem);
}

static void rm_rf(const char *dir)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	if (system(cmd) != 0)
		fprintf(stderr, "bench_parsers: could not remove %s\n", dir);
	free(cmd);
}

int main(int argc, char *argv[])
{
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	char tmp[] = "/tmp/attestd-bench-parsers-XXXXXX";
	const char *pki = argc > 2 ? argv[2] : NULL;
	static const struct {
		const char *who, *label;
		bool sheets;
	} runs[] = {
		{ "centre-rsa", "RSA-2048", false },
		{ "centre-ec", "EC P-256", false },
		{ "centre-rsa", "RSA sheet", true },
	};
	struct parsers_limits limits = { .max_file_size = 32u << 20 };
	struct parse_error err = { 0 };
	struct parsers *p;
	struct schema_set *schemas;
	struct sig_trust *trust;
	struct rusage ru;
	char *ca, *crl;

	if (n <= 0)
		n = 2000;
	if (mkdtemp(tmp) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (pki == NULL) {
		char *cmd = xasprintf("sh tests/fixtures/pki.sh %s/pki >/dev/null", tmp);
		if (system(cmd) != 0) {
			fprintf(stderr, "bench_parsers: tests/fixtures/pki.sh failed (run from the "
				"source tree)\n");
			return 1;
		}
		free(cmd);
		pki = xasprintf("%s/pki", tmp);
	}
	if (parsers_global_init(&err) != REASON_OK)
		die("init", &err);
	ca = xasprintf("%s/ca-bundle.pem", pki);
	crl = xasprintf("%s/crl.pem", pki);
	if ((p = parsers_new(ca, crl, &limits, &err)) == NULL)
		die("parsers_new", &err);
	if ((schemas = schema_set_load(&err)) == NULL)
		die("schemas", &err);
	if ((trust = sig_trust_load(ca, crl, &err)) == NULL)
		die("trust", &err);
	printf("bench_parsers: RSS %ld KiB once set up (schemas compiled, CA bundle and CRL "
	       "loaded)\n", rss_kib());

	for (size_t s = 0; s < sizeof(runs) / sizeof(runs[0]); s++) {
		char *dir = xasprintf("%s/%s%s", tmp, runs[s].who, runs[s].sheets ? "-sheets" : "");
		if (fsutil_mkdirs(dir, 0700) != 0)
			die(dir, NULL);
		size_t mean = write_files(pki, runs[s].who, runs[s].sheets, dir, n);
		run_full(runs[s].label, p, dir, n, mean);
		run_split(runs[s].label, schemas, trust, dir, n);
		run_cli(runs[s].label, pki, dir, n < CLI_FILES ? n : CLI_FILES);
		free(dir);
	}
	run_receipts(pki, n);
	getrusage(RUSAGE_SELF, &ru);
	printf("peak RSS %ld KiB\n", ru.ru_maxrss);

	schema_set_free(schemas);
	sig_trust_free(trust);
	parsers_free(p);
	parsers_global_shutdown();
	xmlCleanupParser();
	free(ca);
	free(crl);
	if (argc <= 2)
		free((char *)pki);
	rm_rf(tmp);
	return 0;
}
