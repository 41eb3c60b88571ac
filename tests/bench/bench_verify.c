/*
 * bench_verify - signature verification throughput in one process: a signed
 * 20-attestation document is parsed, checked against the profile and
 * verified (chain, CRL, evidence) N times, for an RSA-2048 and an EC P-256
 * signer; prints files/s and the peak RSS.  No timing is asserted.
 *
 *   bench_verify [N [PKI_DIR]]   (default 2000; without PKI_DIR a throwaway
 *                                 PKI is made with tests/fixtures/pki.sh)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "signature.h"
#include "xmalloc.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An attestations file of the size the format allows at most. */
static char *document(void)
{
	char *doc = xstrdup(
		"<attestations xmlns=\"urn:ssr:stage:1\" version=\"1\" created=\"2026-11-14T17:05:00+01:00\">\n"
		"  <centre approval=\"R2402800010\"/>\n"
		"  <stage ref=\"CH-2026-1113\" departement=\"28\" first-day=\"2026-11-13\" last-day=\"2026-11-14\"/>\n");

	for (int i = 1; i <= 20; i++) {
		char *next = xasprintf(
			"%s  <attestation number=\"CH-2026-1113-%02d\" case=\"2\" issued=\"2026-11-14\">\n"
			"    <trainee licence=\"1205753000%02d\" surname=\"MARTIN-%02d\" given-names=\"Claire Anne\" "
			"birth-date=\"1990-04-12\"/>\n"
			"    <letter-48n received=\"2026-09-30\"/>\n"
			"  </attestation>\n", doc, i, i, i);
		free(doc);
		doc = next;
	}
	char *full = xasprintf("%s</attestations>\n", doc);
	free(doc);
	return full;
}

static char *sign(const char *dir, const char *who, const char *text)
{
	struct parse_error err = { 0 };
	char *key = xasprintf("%s/%s.key", dir, who), *pem = xasprintf("%s/%s.pem", dir, who);
	struct sig_signer *s = sig_signer_load(key, pem, &err);
	xmlDocPtr doc = xmlReadMemory(text, (int)strlen(text), NULL, NULL, XML_PARSE_NONET);
	xmlChar *out = NULL;
	int len = 0;
	char *copy;

	if (s == NULL || doc == NULL || sig_sign(doc, s, &err) != REASON_OK) {
		fprintf(stderr, "bench_verify: cannot sign with %s: %s\n", who, err.message);
		exit(1);
	}
	xmlDocDumpMemory(doc, &out, &len);
	copy = xstrndup((const char *)out, (size_t)len);
	xmlFree(out);
	xmlFreeDoc(doc);
	sig_signer_free(s);
	free(key);
	free(pem);
	return copy;
}

static void run(const char *label, const char *xml, const struct sig_trust *trust, int n)
{
	double start, sig_time = 0, total;
	size_t len = strlen(xml);

	start = now();
	for (int i = 0; i < n; i++) {
		struct parse_evidence ev = { 0 };
		struct parse_error err = { 0 };
		xmlDocPtr doc = xmlReadMemory(xml, (int)len, NULL, NULL, XML_PARSE_NONET);
		double t0 = now();
		enum reason r = sig_check_profile(doc, &err);

		if (r == REASON_OK)
			r = sig_verify(doc, trust, time(NULL), &ev, &err);
		sig_time += now() - t0;
		if (r != REASON_OK) {
			fprintf(stderr, "bench_verify: %s: %s\n", reason_code(r), err.message);
			exit(1);
		}
		parse_evidence_clear(&ev);
		xmlFreeDoc(doc);
	}
	total = now() - start;
	printf("%-14s %6d files of %zu bytes  %8.0f files/s  %6.3f ms/file (signature %6.3f ms)\n",
	       label, n, len, n / total, 1000 * total / n, 1000 * sig_time / n);
}

int main(int argc, char *argv[])
{
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	char tmp[] = "/tmp/attestd-bench-XXXXXX";
	const char *dir = argc > 2 ? argv[2] : NULL;
	struct parse_error err = { 0 };
	struct sig_trust *trust;
	struct rusage ru;
	char *text, *rsa, *ec, *path, *crl;

	if (n <= 0)
		n = 2000;
	if (dir == NULL) {
		char *cmd;
		if (mkdtemp(tmp) == NULL) {
			perror("mkdtemp");
			return 1;
		}
		dir = tmp;
		cmd = xasprintf("sh tests/fixtures/pki.sh %s >/dev/null", dir);
		if (system(cmd) != 0) {
			fprintf(stderr, "bench_verify: tests/fixtures/pki.sh failed\n");
			return 1;
		}
		free(cmd);
	}
	if (sig_global_init(&err) != REASON_OK) {
		fprintf(stderr, "bench_verify: %s\n", err.message);
		return 1;
	}
	path = xasprintf("%s/ca-bundle.pem", dir);
	crl = xasprintf("%s/crl.pem", dir);
	if ((trust = sig_trust_load(path, crl, &err)) == NULL) {
		fprintf(stderr, "bench_verify: %s\n", err.message);
		return 1;
	}
	text = document();
	rsa = sign(dir, "centre-rsa", text);
	ec = sign(dir, "centre-ec", text);

	run("RSA-2048", rsa, trust, n);
	run("EC P-256", ec, trust, n);
	getrusage(RUSAGE_SELF, &ru);
	printf("peak RSS %ld KiB\n", ru.ru_maxrss);

	free(text);
	free(rsa);
	free(ec);
	free(path);
	free(crl);
	sig_trust_free(trust);
	sig_global_shutdown();
	if (dir == tmp) {
		char *cmd = xasprintf("rm -rf '%s'", tmp);
		if (system(cmd) != 0)
			fprintf(stderr, "bench_verify: could not remove %s\n", tmp);
		free(cmd);
	}
	return 0;
}
