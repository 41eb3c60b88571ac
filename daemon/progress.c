/*
 * progress - see progress.h.  "\r" and erase-to-end-of-line redraw the
 * line in place; the rate is over the whole run up to the last count, so
 * that it neither jumps with each redraw nor sinks during a phase that
 * counts nothing.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "progress.h"
#include "xmalloc.h"

#define PROGRESS_EVERY_NS 250000000LL

struct progress {
	FILE *out;
	bool terminal;
	char *what;
	const char *unit;
	long long total;
	long long rows, done;
	long long start_ns, drawn_ns, counted_ns;
	bool drawn;
	const char *phase;
};

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct progress *progress_new(FILE *out, bool terminal, const char *what, const char *unit,
			      long long total)
{
	struct progress *p = xcalloc(1, sizeof(*p));
	p->out = out;
	p->terminal = terminal;
	p->what = xstrdup(what);
	p->unit = unit;
	p->total = total;
	p->start_ns = p->counted_ns = now_ns();
	return p;
}

static void draw(struct progress *p, long long t)
{
	double s = (double)(p->counted_ns - p->start_ns) / 1e9;
	fprintf(p->out, "\r\033[K%s: %lld %s, %.0f %s/s", p->what, p->rows, p->unit,
		s > 0.001 ? (double)p->rows / s : 0.0, p->unit);
	if (p->total > 0)
		fprintf(p->out, ", %lld%%", (p->done < p->total ? p->done : p->total) * 100 / p->total);
	if (p->phase)
		fprintf(p->out, ", %s", p->phase);
	fflush(p->out);
	p->drawn = true;
	p->drawn_ns = t;
}

void progress_update(struct progress *p, long long rows, long long done)
{
	p->rows = rows;
	p->done = done;
	if (!p->terminal)
		return;
	long long t = now_ns();
	p->counted_ns = t;
	if (!p->drawn || t - p->drawn_ns >= PROGRESS_EVERY_NS)
		draw(p, t);
}

void progress_phase(struct progress *p, const char *phase)
{
	p->phase = phase;
	if (p->terminal)
		draw(p, now_ns());
}

void progress_end(struct progress *p)
{
	if (p == NULL)
		return;
	if (p->terminal) {
		p->phase = NULL;
		draw(p, now_ns());
		fputc('\n', p->out);
		fflush(p->out);
	}
	free(p->what);
	free(p);
}
