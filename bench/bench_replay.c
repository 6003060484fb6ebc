/* bench_replay: replay speed per policy and ahead's quantile sweep on the
 * Bitbrains traces. Driven by bench/replay.sh (bench/run replay), which
 * turns its output into docs/RESULTS.md and charts.
 *
 * usage: bench_replay DIR_OF_CSV
 * The traces are parsed once into memory (this bench measures the replay
 * loop, not CSV parsing), then each policy is replayed alone, several times,
 * best time kept. Output sections, whitespace-separated:
 *   speed POLICY INTERVALS SECONDS INTERVALS_PER_S
 *   point POLICY DIM SLACK VIOLATION_PCT       (defaults)
 *   sweep Q DIM SLACK VIOLATION_PCT RESIZES     (ahead, quantile Q, default
 *                                                violation cost)
 *   csweep F DIM SLACK VIOLATION_PCT RESIZES    (ahead, quantile 0.9999,
 *                                                violation cost x F; F = 0:
 *                                                cost off, pure quantile)
 *   half H POLICY DIM SLACK VIOLATION_PCT       (defaults, each half of the
 *                                                trace's time span replayed
 *                                                on its own, cold start)
 *   oracle POLICY DIM ORACLE_SLACK SLACK RATIO CHANGES_PER_WL_H RESIZES_PER_WL_H
 *       (defaults: the offline oracle allowed, per workload-day, as many
 *       level changes as the policy made that day; RATIO = SLACK /
 *       ORACLE_SLACK; CHANGES_PER_WL_H counts the policy's changes within
 *       days, the oracle's budget; RESIZES_PER_WL_H all of them, midnight
 *       included, as the replay counts them)
 *   oracle_k K DIM ORACLE_SLACK   (the oracle with the same budget of K
 *                                  changes every workload-day)
 *   oracle_time SECONDS
 * With a second argument "oracle" only the defaults and the oracle run. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ahead/error.h"
#include "ahead/oracle.h"
#include "ahead/replay.h"
#include "ahead/trace.h"

typedef struct {
	ah_trace_row *v;
	size_t n, cap;
	char (*names)[AH_NAME_MAX];
	size_t nnames;
} rows;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load(const char *dir, rows *r)
{
	DIR *d = opendir(dir);
	if (!d) {
		perror(dir);
		return -1;
	}
	char *files[4096];
	size_t nf = 0;
	struct dirent *e;
	while ((e = readdir(d)) && nf < 4096) {
		size_t l = strlen(e->d_name);
		if (l > 4 && !strcmp(e->d_name + l - 4, ".csv"))
			files[nf++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(files, nf, sizeof(char *), cmp_str);
	r->names = calloc(nf ? nf : 1, sizeof(*r->names));
	int rc = 0;
	for (size_t i = 0; i < nf; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		ah_trace *tr;
		if (ah_trace_open(path, AH_TRACE_BITBRAINS, &tr)) {
			fprintf(stderr, "cannot open %s\n", path);
			rc = -1;
			break;
		}
		ah_trace_row row;
		int k;
		size_t wi = r->nnames++;
		while ((k = ah_trace_next(tr, &row)) == 1) {
			snprintf(r->names[wi], AH_NAME_MAX, "%s", row.workload);
			if (r->n == r->cap) {
				r->cap = r->cap ? r->cap * 2 : 1 << 16;
				r->v = realloc(r->v, r->cap * sizeof(*r->v));
				if (!r->v) {
					k = AH_ENOMEM;
					break;
				}
			}
			row.workload = r->names[wi];
			r->v[r->n++] = row;
		}
		if (k < 0) {
			fprintf(stderr, "%s\n", ah_trace_error(tr));
			rc = -1;
		}
		ah_trace_free(tr);
		if (rc)
			break;
	}
	for (size_t i = 0; i < nf; i++)
		free(files[i]);
	return rc;
}

/* Every policy's reservation of every row, kept for the oracle. */
typedef struct {
	size_t nrows, row;
	int64_t *res; /* [policy * nrows + row] */
} taps;

static void tap(void *ctx, const char *workload, int pol, int dim, int64_t t_s, int64_t used, int64_t reserved)
{
	(void)workload;
	(void)dim;
	(void)t_s;
	(void)used;
	taps *tp = ctx;
	tp->res[(size_t)pol * tp->nrows + tp->row] = reserved;
}

static int run_tapped(const rows *r, const ah_replay_params *p, const ah_sizing_kind *pols, int npol, taps *tp,
		      ah_replay **out)
{
	ah_replay *rp;
	int rc = ah_replay_new(p, pols, npol, 3u, 0, &rp);
	if (rc)
		return rc;
	if (tp)
		ah_replay_set_tap(rp, tap, tp);
	char err[256];
	for (size_t i = 0; i < r->n; i++) {
		if (tp)
			tp->row = i;
		if ((rc = ah_replay_feed(rp, &r->v[i], err, sizeof(err)))) {
			fprintf(stderr, "%s\n", err);
			ah_replay_free(rp);
			return rc;
		}
	}
	*out = rp;
	return 0;
}

static int run(const rows *r, const ah_replay_params *p, const ah_sizing_kind *pols, int npol, ah_replay **out)
{
	return run_tapped(r, p, pols, npol, NULL, out);
}

static const rows *sort_rows;

/* workload, then dimension, then time */
static int cmp_row(const void *a, const void *b)
{
	const ah_trace_row *x = &sort_rows->v[*(const size_t *)a], *y = &sort_rows->v[*(const size_t *)b];
	int c = strcmp(x->workload, y->workload);
	if (c)
		return c;
	if (x->dim != y->dim)
		return x->dim < y->dim ? -1 : 1;
	return (x->t_s > y->t_s) - (x->t_s < y->t_s);
}

#define DAY_S 86400

/* uniform budgets, changes per workload-day, for the oracle_k lines */
static const int uniform_k[] = {0, 1, 2, 3, 4, 6, 8, 12, 24, 48};
#define NUNIFORM (sizeof(uniform_k) / sizeof(uniform_k[0]))

/* The offline oracle against each policy of the replay rp (fed with
 * tp's rows): per workload-day (UTC days), the oracle may change its level
 * as often as the policy did that day; its idle capacity is pooled like
 * the replay's slack. */
static int oracle(const rows *r, const taps *tp, const ah_replay *rp, const ah_sizing_kind *pols, int npol,
		  int64_t step_s)
{
	double t0 = now();
	size_t *idx = malloc(r->n * sizeof(*idx));
	int64_t *u = malloc(r->n * sizeof(*u)), *curve = malloc(r->n * sizeof(*curve));
	if (!idx || !u || !curve) {
		free(idx);
		free(u);
		free(curve);
		return AH_ENOMEM;
	}
	for (size_t i = 0; i < r->n; i++)
		idx[i] = i;
	sort_rows = r;
	qsort(idx, r->n, sizeof(*idx), cmp_row);
	double oidle[AH_SIZING_KIND_COUNT][AH_REPLAY_DIMS] = {{0}}, pidle[AH_SIZING_KIND_COUNT][AH_REPLAY_DIMS] = {{0}};
	uint64_t changes[AH_SIZING_KIND_COUNT][AH_REPLAY_DIMS] = {{0}};
	double uidle[NUNIFORM][AH_REPLAY_DIMS] = {{0}};
	int rc = 0;
	for (size_t g = 0; g < r->n && !rc;) {
		const ah_trace_row *first = &r->v[idx[g]];
		size_t e = g;
		while (e < r->n && !strcmp(r->v[idx[e]].workload, first->workload) && r->v[idx[e]].dim == first->dim &&
		       r->v[idx[e]].t_s / DAY_S == first->t_s / DAY_S)
			e++;
		size_t n = e - g;
		for (size_t t = 0; t < n; t++)
			u[t] = r->v[idx[g + t]].used;
		int ch[AH_SIZING_KIND_COUNT], kmax = uniform_k[NUNIFORM - 1];
		for (int p = 0; p < npol; p++) {
			const int64_t *res = tp->res + (size_t)p * tp->nrows;
			ch[p] = 0;
			for (size_t t = 0; t < n; t++) {
				int64_t rv = res[idx[g + t]];
				if (t && rv != res[idx[g + t - 1]])
					ch[p]++;
				if (rv > u[t])
					pidle[p][first->dim] += (double)(rv - u[t]);
			}
			if (ch[p] > kmax)
				kmax = ch[p];
		}
		if ((rc = ah_oracle_slack_curve(u, n, kmax, curve)) != 0)
			break;
		for (int p = 0; p < npol; p++) {
			oidle[p][first->dim] += (double)curve[ch[p]];
			changes[p][first->dim] += (uint64_t)ch[p];
		}
		for (size_t k = 0; k < NUNIFORM; k++)
			uidle[k][first->dim] += (double)curve[uniform_k[k]];
		g = e;
	}
	for (int p = 0; p < npol && !rc; p++)
		for (int d = 0; d < AH_REPLAY_DIMS; d++) {
			ah_replay_metrics m;
			ah_replay_get_metrics(rp, p, d, &m);
			/* the tap must have seen what the metrics scored */
			if (fabs(pidle[p][d] - m.sum_idle) > 1e-9 * (m.sum_idle + 1)) {
				fprintf(stderr, "oracle: %s %d: tapped idle %.0f != replay's %.0f\n",
					ah_sizing_name(pols[p]), d, pidle[p][d], m.sum_idle);
				rc = AH_ESTATE;
				break;
			}
			double hours = (double)m.intervals * (double)step_s / 3600.0;
			double os = oidle[p][d] / m.sum_used;
			printf("oracle %s %s %.6f %.6f %.4f %.4f %.4f\n", ah_sizing_name(pols[p]), d == AH_DIM_CPU ? "cpu" : "mem",
			       os, m.slack, os > 0 ? m.slack / os : (m.slack > 0 ? INFINITY : 1.0),
			       (double)changes[p][d] / hours, (double)m.resizes / hours);
		}
	for (size_t k = 0; k < NUNIFORM && !rc; k++)
		for (int d = 0; d < AH_REPLAY_DIMS; d++) {
			ah_replay_metrics m;
			ah_replay_get_metrics(rp, 0, d, &m);
			printf("oracle_k %d %s %.6f\n", uniform_k[k], d == AH_DIM_CPU ? "cpu" : "mem",
			       uidle[k][d] / m.sum_used);
		}
	if (!rc)
		printf("oracle_time %.2f\n", now() - t0);
	free(idx);
	free(u);
	free(curve);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 2 && !(argc == 3 && !strcmp(argv[2], "oracle"))) {
		fprintf(stderr, "usage: bench_replay DIR_OF_BITBRAINS_CSV [oracle]\n");
		return 2;
	}
	rows r = {0};
	if (load(argv[1], &r) || !r.n)
		return 1;
	ah_replay_params p;
	ah_replay_params_default(&p);
	int only_oracle = argc == 3;
	/* speed: each policy alone, best of 3 */
	for (int k = 0; k < AH_SIZING_KIND_COUNT && !only_oracle; k++) {
		ah_sizing_kind pol = (ah_sizing_kind)k;
		double best = 1e30;
		for (int rep = 0; rep < 3; rep++) {
			ah_replay *rp;
			double t0 = now();
			if (run(&r, &p, &pol, 1, &rp))
				return 1;
			double dt = now() - t0;
			ah_replay_free(rp);
			if (dt < best)
				best = dt;
		}
		printf("speed %s %zu %.4f %.0f\n", ah_sizing_name(pol), r.n, best, (double)r.n / best);
	}
	/* default operating points */
	ah_sizing_kind all[AH_SIZING_KIND_COUNT];
	for (int k = 0; k < AH_SIZING_KIND_COUNT; k++)
		all[k] = (ah_sizing_kind)k;
	ah_replay *rp;
	taps tp = {.nrows = r.n, .res = malloc((size_t)AH_SIZING_KIND_COUNT * r.n * sizeof(int64_t))};
	if (!tp.res || run_tapped(&r, &p, all, AH_SIZING_KIND_COUNT, &tp, &rp))
		return 1;
	for (int k = 0; k < AH_SIZING_KIND_COUNT; k++)
		for (int d = 0; d < AH_REPLAY_DIMS; d++) {
			ah_replay_metrics m;
			ah_replay_get_metrics(rp, k, d, &m);
			printf("point %s %s %.6f %.6f\n", ah_sizing_name(all[k]), d == AH_DIM_CPU ? "cpu" : "mem",
			       m.slack, m.violation_pct);
		}
	int orc = oracle(&r, &tp, rp, all, AH_SIZING_KIND_COUNT, p.sizing.step_s);
	ah_replay_free(rp);
	free(tp.res);
	if (orc) {
		fprintf(stderr, "oracle: %s\n", ah_strerror(orc));
		return 1;
	}
	if (only_oracle) {
		free(r.v);
		free(r.names);
		return 0;
	}
	/* stability: each half of the time span on its own */
	int64_t tmin = r.v[0].t_s, tmax = r.v[0].t_s;
	for (size_t i = 0; i < r.n; i++) {
		if (r.v[i].t_s < tmin)
			tmin = r.v[i].t_s;
		if (r.v[i].t_s > tmax)
			tmax = r.v[i].t_s;
	}
	int64_t mid = tmin + (tmax - tmin) / 2;
	for (int h = 0; h < 2; h++) {
		rows part = r;
		part.v = malloc(r.n * sizeof(*r.v));
		if (!part.v)
			return 1;
		part.n = 0;
		for (size_t i = 0; i < r.n; i++)
			if ((r.v[i].t_s < mid) == (h == 0))
				part.v[part.n++] = r.v[i];
		if (run(&part, &p, all, AH_SIZING_KIND_COUNT, &rp))
			return 1;
		for (int k = 0; k < AH_SIZING_KIND_COUNT; k++)
			for (int d = 0; d < AH_REPLAY_DIMS; d++) {
				ah_replay_metrics m;
				ah_replay_get_metrics(rp, k, d, &m);
				printf("half %d %s %s %.6f %.6f\n", h + 1, ah_sizing_name(all[k]),
				       d == AH_DIM_CPU ? "cpu" : "mem", m.slack, m.violation_pct);
			}
		ah_replay_free(rp);
		free(part.v);
	}
	/* ahead's trade-off curve */
	/* p40..p99.99: wide enough that every baseline's violation rate falls
	 * inside the curve where ahead's knobs can reach it */
	static const double qs[] = {0.4,  0.5,   0.6,   0.7,   0.8,   0.85,  0.9,	0.93,	0.95, 0.97,
				    0.98, 0.99,	 0.993, 0.995, 0.997, 0.998, 0.999, 0.9995, 0.9999};
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		ah_replay_params pq = p;
		pq.sizing.dim[AH_DIM_CPU].quantile = pq.sizing.dim[AH_DIM_MEMORY].quantile = qs[i];
		ah_sizing_kind k = AH_SIZING_KIND_AHEAD;
		if (run(&r, &pq, &k, 1, &rp))
			return 1;
		for (int d = 0; d < AH_REPLAY_DIMS; d++) {
			ah_replay_metrics m;
			ah_replay_get_metrics(rp, 0, d, &m);
			printf("sweep %.4f %s %.6f %.6f %llu\n", qs[i], d == AH_DIM_CPU ? "cpu" : "mem", m.slack,
			       m.violation_pct, (unsigned long long)m.resizes);
		}
		ah_replay_free(rp);
	}
	/* the violation cost's trade-off, quantile 0.9999 as the ceiling; last,
	 * the cost off (F = 0): the pure quantile, ahead's most conservative */
	static const double fs[] = {0.005, 0.0075, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.4,
				    0.6,   1,	   2,	 4,    8,    16,   64,  256, 0};
	for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++) {
		ah_replay_params pq = p;
		pq.sizing.dim[AH_DIM_CPU].quantile = pq.sizing.dim[AH_DIM_MEMORY].quantile = 0.9999;
		for (int d = 0; d < AH_REPLAY_DIMS; d++)
			pq.sizing.dim[d].violation_cost *= fs[i];
		ah_sizing_kind k = AH_SIZING_KIND_AHEAD;
		if (run(&r, &pq, &k, 1, &rp))
			return 1;
		for (int d = 0; d < AH_REPLAY_DIMS; d++) {
			ah_replay_metrics m;
			ah_replay_get_metrics(rp, 0, d, &m);
			printf("csweep %.4f %s %.6f %.6f %llu\n", fs[i], d == AH_DIM_CPU ? "cpu" : "mem", m.slack,
			       m.violation_pct, (unsigned long long)m.resizes);
		}
		ah_replay_free(rp);
	}
	free(r.v);
	free(r.names);
	return 0;
}
