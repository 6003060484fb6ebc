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
 * (point, half, sweep and csweep lines end with SHORTFALL RESIZES_PER_WL_H)
 * then the issue-13 comparisons (chosen_elsewhere):
 *   grid POLICY KNOB V...                      every grid swept
 *   xstar_TAG_S_on_T POLICY DIM KNOB=V...      P's x* for scoring group S
 *   xstar_TAG_S_on_T_for_P  ahead DIM KNOB=V.. ahead's x* against P
 *   fair TAG P DIM RATIO RATIO_SAME  then (slack viol% shortfall rph) for
 *       ahead at x*, ahead at x* with P's resize rate, P at x*, P's
 *       default, all pooled over the scoring groups; COUNTS COUNTS_SAME
 *       (TAG: halves, halves_in, time, time_in; *_in = chosen on the
 *       scoring group itself, in-sample)
 *   kill SPLIT AHEAD_KILL% VPA_KILL% HARD_COMMIT AHEAD_SOFT% AHEAD_SLACK
 *   oracle_fair DIM RATIO AHEAD_SLACK ORACLE_SLACK VIOL% SHORTFALL RPH
 *   cold END HOLD_H DIM SLACK VIOL% SHORTFALL FIRST_DAY_VIOL% FIRST_DAY_SHARE
 *   hindsight*, each VM's best rule, in hindsight, of a simple family
 *       (cpu and memory; the lines are listed at hindsight())
 *   fair_time SECONDS
 * With a second argument "oracle" only the defaults and the oracle run;
 * with "fair" only the issue-13 comparisons; with "hindsight" only the
 * hindsight reading. */
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

static void tap(void *ctx, const char *workload, int pol, int dim, int64_t t_s, int64_t used, int64_t reserved,
		int64_t hard)
{
	(void)hard;
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

/* ---- settings chosen elsewhere, scored here (issue 13) ----
 *
 * Every replay of one setting is scored on four groups of rows at once:
 * half A (odd VM ids), half B (even), the month's first half T1 and its
 * second half T2 (time split: the replay runs through the whole month, so
 * T2 is scored with what the policy learned in T1, no look-ahead). */
enum { G_A, G_B, G_T1, G_T2, G_D1, NG };
static const char *const gname[NG] = {"A", "B", "T1", "T2", "D1"}; /* D1: each workload's first day */

typedef struct {
	double idle, used, shrt, n, viol, resizes;
	double kill, hard, res; /* intervals over the hard level; sums of hard levels, reservations */
} acc;

typedef struct {
	acc a[NG][AH_REPLAY_DIMS];
} evals;

typedef struct {
	evals ev;
	int64_t mid;
	int half;  /* the fed row's half: G_A or G_B */
	size_t wi; /* the fed row's workload */
	int64_t (*last)[AH_REPLAY_DIMS];
	unsigned char (*seen)[AH_REPLAY_DIMS];
	int64_t *first; /* each workload's first sample time, or INT64_MIN */
	int64_t *res; /* optional: the reservation of every row */
	size_t row;
} ectx;

static void etap(void *ctx, const char *workload, int pol, int dim, int64_t t_s, int64_t used, int64_t reserved,
		 int64_t hard)
{
	(void)workload;
	(void)pol;
	ectx *c = ctx;
	/* a resize as the replay counts it: a change after the first sample */
	double resized = c->seen[c->wi][dim] && c->last[c->wi][dim] != reserved ? 1 : 0;
	c->seen[c->wi][dim] = 1;
	c->last[c->wi][dim] = reserved;
	if (c->first[c->wi] == INT64_MIN)
		c->first[c->wi] = t_s;
	int gs[3] = {c->half, t_s < c->mid ? G_T1 : G_T2, G_D1};
	int ng = t_s - c->first[c->wi] < DAY_S ? 3 : 2;
	for (int k = 0; k < ng; k++) {
		acc *a = &c->ev.a[gs[k]][dim];
		a->n++;
		a->used += (double)used;
		if (reserved >= used) {
			a->idle += (double)(reserved - used);
		} else {
			a->viol++;
			a->shrt += (double)(used - reserved);
		}
		a->resizes += resized;
		a->kill += used > hard ? 1 : 0;
		a->hard += (double)hard;
		a->res += (double)reserved;
	}
	if (c->res)
		c->res[c->row] = reserved;
}

static size_t wl_index(const rows *r, const ah_trace_row *row)
{
	return (size_t)((const char *)row->workload - (const char *)r->names) / AH_NAME_MAX;
}

/* One policy at one setting on the dimensions of mask; res (optional,
 * r->n entries) receives every row's reservation. */
static int run_eval(const rows *r, const ah_replay_params *p, ah_sizing_kind k, unsigned mask, const int *half_of,
		    int64_t mid, int64_t *res, evals *out)
{
	ectx c = {.mid = mid, .res = res};
	c.last = calloc(r->nnames, sizeof(*c.last));
	c.seen = calloc(r->nnames, sizeof(*c.seen));
	c.first = malloc(r->nnames * sizeof(*c.first));
	for (size_t i = 0; c.first && i < r->nnames; i++)
		c.first[i] = INT64_MIN;
	ah_replay *rp = NULL;
	int rc = !c.last || !c.seen || !c.first ? AH_ENOMEM : ah_replay_new(p, &k, 1, mask, 0, &rp);
	if (!rc)
		rc = ah_replay_set_tap(rp, etap, &c);
	char err[256];
	for (size_t i = 0; i < r->n && !rc; i++) {
		if (!(mask & (1u << r->v[i].dim)))
			continue;
		c.row = i;
		c.wi = wl_index(r, &r->v[i]);
		c.half = half_of[c.wi];
		if ((rc = ah_replay_feed(rp, &r->v[i], err, sizeof(err))))
			fprintf(stderr, "%s\n", err);
	}
	ah_replay_free(rp);
	free(c.last);
	free(c.seen);
	free(c.first);
	if (!rc)
		*out = c.ev;
	return rc;
}

static double a_slack(const acc *a)
{
	return a->used > 0 ? a->idle / a->used : 0;
}
static double a_viol(const acc *a)
{
	return a->n > 0 ? 100.0 * a->viol / a->n : 0;
}
static double a_short(const acc *a)
{
	return a->used > 0 ? a->shrt / a->used : 0;
}
static double a_rph(const acc *a, int64_t step_s)
{
	return a->n > 0 ? a->resizes / (a->n * (double)step_s / 3600.0) : 0;
}
static void a_add(acc *x, const acc *y)
{
	x->idle += y->idle;
	x->used += y->used;
	x->shrt += y->shrt;
	x->n += y->n;
	x->viol += y->viol;
	x->resizes += y->resizes;
	x->kill += y->kill;
	x->hard += y->hard;
	x->res += y->res;
}

/* The knobs of each side, every grid printed by the bench. At least 4
 * values each; the defaults are grid points. */
#define MAXK 5
#define MAXV 9
typedef struct {
	ah_sizing_kind kind;
	int nk;
	const char *knob[MAXK];
	int nv[MAXK];
	double v[MAXK][MAXV];
	double def[MAXK];
} grid;

/* The level knobs (vpa's target percentile, autopilot's percentile,
 * ahead's quantile) share one range, so no side can reach a violation rate
 * another's grid cannot; ahead's also holds its two defaults. */
#define LEVELS {0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99}
#define NLEVELS 7
static const grid grids[] = {
	{AH_SIZING_KIND_THRESHOLD, 2, {"target", "window_s"}, {6, 4},
	 {{0.5, 0.6, 0.7, 0.8, 0.9, 0.95}, {300, 900, 1800, 3600}}, {0.7, 300}},
	{AH_SIZING_KIND_VPA, 4, {"half_life_h", "mem_interval_h", "target_pct", "margin"}, {4, 4, NLEVELS, 4},
	 {{6, 12, 24, 48}, {1, 6, 12, 24}, LEVELS, {0, 0.05, 0.15, 0.3}}, {24, 24, 0.9, 0.15}},
	{AH_SIZING_KIND_AUTOPILOT, 3, {"half_life_h", "pct", "margin"}, {4, NLEVELS, 4},
	 {{3, 6, 12, 24}, LEVELS, {0, 0.05, 0.1, 0.2}}, {12, 0.95, 0}},
	/* dwell_h = 1 was added in session 13, after a look at the whole month
	 * (ahead's cpu at a one-hour dwell sat beside tuned threshold's
	 * frontier; at two hours, above it); peak_cap in session 23, after a
	 * look at the whole month's memory (-1: no cap, the default; swept on
	 * memory only, which keeps the bench's time) */
	{AH_SIZING_KIND_AHEAD, 5, {"quantile", "cost_x", "dwell_h", "hysteresis", "peak_cap"}, {NLEVELS + 2, 4, 5, 4, 4},
	 {{0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.998, 0.9999}, {0.1, 0.3, 1, 3}, {0, 1, 2, 8, 24}, {0.05, 0.1, 0.25, 0.5},
	  {-1, 0.25, 0.5, 1}},
	 {-1, 1, 0, 0.1, -1}},
};
/* ahead's two levels on memory: the violation cost (the soft level) and
 * the safety net's margin */
static const grid kill_grid = {AH_SIZING_KIND_AHEAD, 2, {"cost_x", "hard_margin"}, {4, 5},
			       {{0.3, 1, 3, 10}, {0, 0.1, 0.25, 0.5, 1}}, {1, 0.25}};
#define NGRID (sizeof(grids) / sizeof(grids[0]))

static int grid_size(const grid *g)
{
	int n = 1;
	for (int k = 0; k < g->nk; k++)
		n *= g->nv[k];
	return n;
}

static void grid_point(const grid *g, int idx, double *x)
{
	for (int k = g->nk - 1; k >= 0; k--) {
		x[k] = g->v[k][idx % g->nv[k]];
		idx /= g->nv[k];
	}
}

/* A setting's parameters for dimension d (each dimension is tuned on its
 * own: its replays run that dimension alone). ahead's default quantile is
 * each dimension's own (def -1: cpu 0.998, memory 0.9999), its cost knob
 * scales the dimension's default violation cost. */
static void apply(const grid *g, const double *x, int d, ah_replay_params *p)
{
	ah_sizing_params *s = &p->sizing;
	switch (g->kind) {
	case AH_SIZING_KIND_THRESHOLD:
		s->hpa_target = x[0];
		s->hpa_window_s = (int64_t)x[1];
		break;
	case AH_SIZING_KIND_VPA:
		s->vpa_cpu_half_life_s = s->vpa_mem_half_life_s = (int64_t)(x[0] * 3600);
		s->vpa_mem_interval_s = (int64_t)(x[1] * 3600);
		s->vpa_target_pct = x[2];
		s->vpa_margin = x[3];
		break;
	case AH_SIZING_KIND_AUTOPILOT:
		s->autopilot_half_life_s = (int64_t)(x[0] * 3600);
		s->autopilot_pct = x[1];
		s->autopilot_margin = x[2];
		break;
	default:
		for (int k = 0; k < g->nk; k++) {
			const char *n = g->knob[k];
			if (!strcmp(n, "quantile"))
				s->dim[d].quantile = x[k];
			else if (!strcmp(n, "cost_x"))
				s->dim[d].violation_cost *= x[k];
			else if (!strcmp(n, "dwell_h"))
				s->dim[d].min_dwell_s = (int64_t)(x[k] * 3600);
			else if (!strcmp(n, "hysteresis"))
				s->dim[d].shrink_hysteresis = x[k];
			else if (!strcmp(n, "hard_margin"))
				s->dim[d].hard_margin = x[k];
			else if (!strcmp(n, "peak_cap"))
				s->dim[d].peak_cap = x[k];
		}
		break;
	}
}

/* knobs that do not act on dimension d (their grid is collapsed there) */
static int knob_idle(const grid *g, int k, int d)
{
	if (g->kind == AH_SIZING_KIND_VPA && k == 1 && d == AH_DIM_CPU)
		return 1; /* the memory aggregation interval */
	if (g->kind == AH_SIZING_KIND_AUTOPILOT && k == 0 && d == AH_DIM_MEMORY)
		return 1; /* the cpu histogram's half-life */
	if (g->kind == AH_SIZING_KIND_AHEAD && !strcmp(g->knob[k], "peak_cap") && d == AH_DIM_CPU)
		return 1; /* swept on memory only (the bench's time) */
	return 0;
}

typedef struct {
	const grid *g;
	int nset;
	int *valid; /* [d * nset + i]: the point is run on d (idle knobs at their first value) */
	evals *ev;  /* [d * nset + i] */
	int def[AH_REPLAY_DIMS];
} sweep_res;

/* The grid's replays, shared by the sweep's threads: each takes the next
 * job; every replay owns its state, so they run side by side. */
typedef struct {
	const rows *r;
	const ah_replay_params *p0;
	const grid *g;
	const int *half_of;
	int64_t mid;
	sweep_res *out;
	int *job; /* d * nset + i */
	int njob;
	atomic_int next;
	atomic_int rc;
} sweep_jobs;

static void *sweep_worker(void *arg)
{
	sweep_jobs *J = arg;
	int j;
	while (!atomic_load(&J->rc) && (j = atomic_fetch_add(&J->next, 1)) < J->njob) {
		int d = J->job[j] / J->out->nset, i = J->job[j] % J->out->nset;
		double x[MAXK];
		grid_point(J->g, i, x);
		ah_replay_params p = *J->p0;
		apply(J->g, x, d, &p);
		int rc = run_eval(J->r, &p, J->g->kind, 1u << d, J->half_of, J->mid, NULL, &J->out->ev[J->job[j]]);
		if (rc)
			atomic_store(&J->rc, rc);
		else
			J->out->valid[J->job[j]] = 1;
	}
	return NULL;
}

/* Threads for the sweeps: one per online cpu, at most 8. */
static int sweep_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 8 ? 8 : (int)n;
}

static int sweep_grid(const rows *r, const ah_replay_params *p0, const grid *g, const int *half_of, int64_t mid,
		      unsigned dims, sweep_res *out)
{
	int n = grid_size(g);
	out->g = g;
	out->nset = n;
	out->valid = calloc((size_t)n * AH_REPLAY_DIMS, sizeof(int));
	out->ev = calloc((size_t)n * AH_REPLAY_DIMS, sizeof(evals));
	sweep_jobs J = {.r = r, .p0 = p0, .g = g, .half_of = half_of, .mid = mid, .out = out};
	J.job = malloc((size_t)n * AH_REPLAY_DIMS * sizeof(int));
	if (!out->valid || !out->ev || !J.job) {
		free(J.job);
		return AH_ENOMEM;
	}
	for (int d = 0; d < AH_REPLAY_DIMS; d++) {
		out->def[d] = -1;
		for (int i = 0; i < n && (dims & (1u << d)); i++) {
			double x[MAXK];
			grid_point(g, i, x);
			int ok = 1, isdef = 1;
			for (int k = 0; k < g->nk; k++) {
				if (knob_idle(g, k, d) && x[k] != g->v[k][0])
					ok = 0;
				/* ahead's quantile default -1: the dimension's own */
				double dv = !strcmp(g->knob[k], "quantile") && g->def[k] < 0 ? p0->sizing.dim[d].quantile
											       : g->def[k];
				if (!knob_idle(g, k, d) && x[k] != dv)
					isdef = 0;
			}
			if (!ok)
				continue;
			if (isdef)
				out->def[d] = i;
			J.job[J.njob++] = d * n + i;
		}
	}
	atomic_init(&J.next, 0);
	atomic_init(&J.rc, 0);
	pthread_t th[8];
	int nt = sweep_threads(), started = 0;
	for (; started < nt; started++)
		if (pthread_create(&th[started], NULL, sweep_worker, &J))
			break;
	if (!started)
		sweep_worker(&J); /* no thread: this one does it all */
	for (int k = 0; k < started; k++)
		pthread_join(th[k], NULL);
	free(J.job);
	return atomic_load(&J.rc);
}

static void sweep_free(sweep_res *s)
{
	free(s->valid);
	free(s->ev);
}

/* x*: the least slack on group t subject to violations, shortfall and
 * resizes per workload-hour there at most vmax, smax, rmax; -1: none. */
static int pick(const sweep_res *s, int d, int t, double vmax, double smax, double rmax, int64_t step_s)
{
	int best = -1;
	double bs = INFINITY;
	for (int i = 0; i < s->nset; i++) {
		if (!s->valid[d * s->nset + i])
			continue;
		const acc *a = &s->ev[d * s->nset + i].a[t][d];
		if (a_viol(a) > vmax * (1 + 1e-12) || a_short(a) > smax * (1 + 1e-12) + 1e-15 ||
		    a_rph(a, step_s) > rmax * (1 + 1e-12))
			continue;
		if (a_slack(a) < bs) {
			bs = a_slack(a);
			best = i;
		}
	}
	return best;
}

static void print_setting(const char *tag, const sweep_res *s, int d, int i)
{
	double x[MAXK];
	grid_point(s->g, i, x);
	printf("%s %s %s", tag, ah_sizing_name(s->g->kind), d == AH_DIM_CPU ? "cpu" : "mem");
	for (int k = 0; k < s->g->nk; k++)
		if (!knob_idle(s->g, k, d))
			printf(" %s=%g", s->g->knob[k], x[k]);
	printf("\n");
}

/* One comparison of ahead against baseline P on dimension d: scoring
 * groups sc[0..ns), each tuned on tg[j]. Pools ahead's and P's held-out
 * accumulators at their x* (ahead: resize cap R = max(P's default rate on
 * T, 1) or, same_resizes, P's default rate). */
typedef struct {
	acc ahead, ahead_same, base, base_def;
	int ok, ok_same;
} fair_out;

static void fair(const sweep_res *P, const sweep_res *A, int d, const int *sc, const int *tg, int ns, int64_t step_s,
		 const char *tag, fair_out *o)
{
	memset(o, 0, sizeof(*o));
	o->ok = o->ok_same = 1;
	int dp = P->def[d];
	for (int j = 0; j < ns; j++) {
		const acc *pd = &P->ev[d * P->nset + dp].a[tg[j]][d];
		double v0 = a_viol(pd), s0 = a_short(pd), r0 = a_rph(pd, step_s);
		int xp = pick(P, d, tg[j], v0, s0, INFINITY, step_s);
		int xa = pick(A, d, tg[j], v0, s0, r0 > 1 ? r0 : 1, step_s);
		int xs = pick(A, d, tg[j], v0, s0, r0, step_s);
		char t2[64];
		snprintf(t2, sizeof(t2), "xstar_%s_%s_on_%s", tag, gname[sc[j]], gname[tg[j]]);
		if (xp >= 0) {
			print_setting(t2, P, d, xp);
			a_add(&o->base, &P->ev[d * P->nset + xp].a[sc[j]][d]);
		}
		a_add(&o->base_def, &P->ev[d * P->nset + dp].a[sc[j]][d]);
		if (xa >= 0) {
			printf("%s_for_%s ", t2, ah_sizing_name(P->g->kind));
			print_setting("", A, d, xa);
			a_add(&o->ahead, &A->ev[d * A->nset + xa].a[sc[j]][d]);
		} else {
			o->ok = 0;
		}
		if (xs >= 0)
			a_add(&o->ahead_same, &A->ev[d * A->nset + xs].a[sc[j]][d]);
		else
			o->ok_same = 0;
	}
}

static void print_fair(const char *tag, const sweep_res *P, int d, const fair_out *o, int64_t step_s)
{
	const char *dn = d == AH_DIM_CPU ? "cpu" : "mem";
	double sa = a_slack(&o->ahead), ss = a_slack(&o->ahead_same), sb = a_slack(&o->base);
	double vd = a_viol(&o->base_def), sd = a_short(&o->base_def);
	int counts = o->ok && a_viol(&o->ahead) <= 1.1 * vd + 1e-12 && a_short(&o->ahead) <= 1.1 * sd + 1e-15;
	int counts_s = o->ok_same && a_viol(&o->ahead_same) <= 1.1 * vd + 1e-12 &&
		       a_short(&o->ahead_same) <= 1.1 * sd + 1e-15;
	/* fair TAG P D ratio ratio_same | ahead slack viol short rph | ahead(same) ... | P x* ... | P default ... | counts counts_same */
	printf("fair %s %s %s %.4f %.4f %.4f %.4f %.5f %.3f %.4f %.4f %.5f %.3f %.4f %.4f %.5f %.3f %.4f %.4f %.5f %.3f %d %d\n",
	       tag, ah_sizing_name(P->g->kind), dn, o->ok && sb > 0 ? sa / sb : NAN,
	       o->ok_same && sb > 0 ? ss / sb : NAN, sa, a_viol(&o->ahead), a_short(&o->ahead),
	       a_rph(&o->ahead, step_s), ss, a_viol(&o->ahead_same), a_short(&o->ahead_same),
	       a_rph(&o->ahead_same, step_s), sb, a_viol(&o->base), a_short(&o->base), a_rph(&o->base, step_s),
	       a_slack(&o->base_def), vd, sd, a_rph(&o->base_def, step_s), counts, counts_s);
}

/* The offline oracle against reservations res (one per row) on dimension
 * d: per workload-day, as many level changes as res made that day. */
static int oracle_res(const rows *r, const size_t *idx, const int64_t *res, int d, double *oidle, double *pidle,
		      double *used)
{
	int64_t *u = malloc(r->n * sizeof(*u)), *curve = malloc(r->n * sizeof(*curve));
	int rc = !u || !curve ? AH_ENOMEM : 0;
	*oidle = *pidle = *used = 0;
	for (size_t g = 0; g < r->n && !rc;) {
		const ah_trace_row *first = &r->v[idx[g]];
		size_t e = g;
		while (e < r->n && !strcmp(r->v[idx[e]].workload, first->workload) && r->v[idx[e]].dim == first->dim &&
		       r->v[idx[e]].t_s / DAY_S == first->t_s / DAY_S)
			e++;
		if (first->dim != d) {
			g = e;
			continue;
		}
		size_t n = e - g;
		int ch = 0;
		for (size_t t = 0; t < n; t++) {
			u[t] = r->v[idx[g + t]].used;
			int64_t rv = res[idx[g + t]];
			if (t && rv != res[idx[g + t - 1]])
				ch++;
			if (rv > u[t])
				*pidle += (double)(rv - u[t]);
			*used += (double)u[t];
		}
		if ((rc = ah_oracle_slack_curve(u, n, ch, curve)) != 0)
			break;
		*oidle += (double)curve[ch];
		g = e;
	}
	free(u);
	free(curve);
	return rc;
}

/* ---- a hindsight reading of the targets (sessions 23, 24) ----
 *
 * How low could a family of simple rules go at a given violation rate and
 * shortfall if each VM were given its best member in hindsight? Rule
 * (w, m): reserve the largest of the last w samples x (1 + m). Per VM,
 * every rule's idle capacity, shortfall and violation count; for each pair
 * of prices (lambda per unit of shortfall, nu per violation, nu in units of
 * the dimension's mean usage per interval) every VM takes the rule
 * minimising idle + lambda x shortfall + nu x violations: the Lagrangian of
 * the pooled frontier. Each pair gives one pooled point (slack, shortfall,
 * violation share) and its Lagrangian value; by weak duality, for any
 * budget (V, S) the family's least pooled slack meeting both is at least
 * max over the pairs of L - lambda x S - nu' x V (replay.sh computes it).
 * No resize limit, chosen on the data it is scored on, each VM's first
 * sample not scored: a generous reading of the family.
 *   hindsight_rules DIM N
 *   hindsight_scale DIM INTERVALS MEAN_USED
 *   hindsight2 DIM LAMBDA NU SLACK SHORTFALL VIOL   (VIOL a share) */
static const int hs_w[] = {1, 2, 3, 4, 6, 8, 12, 18, 24, 36, 48, 96, 144, 288, 576}; /* up to 2 days */
static const double hs_m[] = {0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5};
#define HS_NW (sizeof(hs_w) / sizeof(hs_w[0]))
#define HS_NM (sizeof(hs_m) / sizeof(hs_m[0]))
#define HS_NR (HS_NW * HS_NM)

/* one VM's samples x[0..n): every rule's idle, shortfall and violations */
static void hs_rules(const double *x, size_t n, double *mx, double *idle, double *shrt, double *nv)
{
	for (size_t a = 0; a < HS_NW; a++) {
		for (size_t t = 1; t < n; t++) { /* mx[t]: max of x[t-w .. t-1] */
			double m = x[t - 1];
			for (size_t j = 2; j <= (size_t)hs_w[a] && j <= t; j++)
				m = x[t - j] > m ? x[t - j] : m;
			mx[t] = m;
		}
		for (size_t b = 0; b < HS_NM; b++) {
			size_t q = a * HS_NM + b;
			for (size_t t = 1; t < n; t++) {
				double res = mx[t] * (1 + hs_m[b]);
				if (res >= x[t]) {
					idle[q] += res - x[t];
				} else {
					shrt[q] += x[t] - res;
					nv[q] += 1;
				}
			}
		}
	}
}

/* every VM at its best rule for the prices: pooled idle, shortfall, violations */
static void hs_pick(size_t nw, const double *idle, const double *shrt, const double *nv, double lam, double nu,
		    double *ti, double *ts, double *tv)
{
	*ti = *ts = *tv = 0;
	for (size_t k = 0; k < nw; k++) {
		const double *id = idle + k * HS_NR, *sh = shrt + k * HS_NR, *v = nv + k * HS_NR;
		size_t best = 0;
		for (size_t q = 1; q < HS_NR; q++)
			if (id[q] + lam * sh[q] + nu * v[q] < id[best] + lam * sh[best] + nu * v[best])
				best = q;
		*ti += id[best];
		*ts += sh[best];
		*tv += v[best];
	}
}

static int hindsight(const rows *r, int d)
{
	const char *dn = d == AH_DIM_CPU ? "cpu" : "mem";
	size_t nw = r->nnames;
	size_t *cnt = calloc(nw, sizeof(*cnt)), *off = calloc(nw + 1, sizeof(*off));
	double *u = malloc(r->n * sizeof(*u)), *mx = malloc(r->n * sizeof(*mx));
	double *idle = calloc(nw * HS_NR, sizeof(*idle)), *shrt = calloc(nw * HS_NR, sizeof(*shrt));
	double *nv = calloc(nw * HS_NR, sizeof(*nv));
	int rc = !cnt || !off || !u || !mx || !idle || !shrt || !nv ? AH_ENOMEM : 0;
	double used = 0, nint = 0;
	if (!rc) {
		/* each VM's samples of dimension d, in the trace's order (time) */
		for (size_t i = 0; i < r->n; i++)
			if (r->v[i].dim == d)
				cnt[wl_index(r, &r->v[i])]++;
		for (size_t k = 0; k < nw; k++)
			off[k + 1] = off[k] + cnt[k];
		memset(cnt, 0, nw * sizeof(*cnt));
		for (size_t i = 0; i < r->n; i++)
			if (r->v[i].dim == d) {
				size_t k = wl_index(r, &r->v[i]);
				u[off[k] + cnt[k]++] = (double)r->v[i].used;
			}
	}
	for (size_t k = 0; k < nw && !rc; k++) {
		const double *x = u + off[k];
		size_t n = off[k + 1] - off[k];
		for (size_t t = 1; t < n; t++)
			used += x[t];
		nint += n > 1 ? (double)(n - 1) : 0;
		hs_rules(x, n, mx, idle + k * HS_NR, shrt + k * HS_NR, nv + k * HS_NR);
	}
	if (!rc && used > 0) {
		printf("hindsight_rules %s %zu\n", dn, (size_t)HS_NR);
		printf("hindsight_scale %s %.0f %.6g\n", dn, nint, used / nint);
	}
	/* lambda from 1 to 8192, nu from 0 and then 1/16 .. 4096 mean usages */
	for (double lam = 1; lam <= 8192 * (1 + 1e-9) && !rc && used > 0; lam *= 1.1892071150027210667) {
		for (double nx = 0; nx <= 4096 * (1 + 1e-9); nx = nx > 0 ? nx * 2 : 1.0 / 16) {
			double ti, ts, tv;
			hs_pick(nw, idle, shrt, nv, lam, nx * used / nint, &ti, &ts, &tv);
			printf("hindsight2 %s %.3f %.6g %.6f %.6f %.6f\n", dn, lam, nx, ti / used, ts / used, tv / nint);
		}
	}
	free(cnt);
	free(off);
	free(u);
	free(mx);
	free(idle);
	free(shrt);
	free(nv);
	return rc;
}

/* The issue-13 comparisons: every grid swept, the fair_* lines, the
 * oracle at ahead's x* for vpa. */
static int chosen_elsewhere(const rows *r, const ah_replay_params *p)
{
	double t0 = now();
	int64_t step = p->sizing.step_s;
	int *half_of = malloc(r->nnames * sizeof(int));
	if (!half_of)
		return AH_ENOMEM;
	for (size_t i = 0; i < r->nnames; i++)
		half_of[i] = atoi(r->names[i]) % 2 ? G_A : G_B; /* A: odd VM ids */
	int64_t tmin = r->v[0].t_s, tmax = r->v[0].t_s;
	for (size_t i = 0; i < r->n; i++) {
		if (r->v[i].t_s < tmin)
			tmin = r->v[i].t_s;
		if (r->v[i].t_s > tmax)
			tmax = r->v[i].t_s;
	}
	int64_t mid = tmin + (tmax - tmin) / 2;
	sweep_res sr[NGRID];
	memset(sr, 0, sizeof(sr));
	int rc = 0;
	for (size_t gi = 0; gi < NGRID && !rc; gi++) {
		const grid *g = &grids[gi];
		for (int k = 0; k < g->nk; k++) {
			printf("grid %s %s", ah_sizing_name(g->kind), g->knob[k]);
			for (int v = 0; v < g->nv[k]; v++)
				printf(" %g", g->v[k][v]);
			printf("\n");
		}
		rc = sweep_grid(r, p, g, half_of, mid, 3u, &sr[gi]);
		for (int d = 0; d < AH_REPLAY_DIMS && !rc; d++)
			if (sr[gi].def[d] < 0) {
				fprintf(stderr, "fair: %s: the defaults are not a grid point\n", ah_sizing_name(g->kind));
				rc = AH_ESTATE;
			}
	}
	/* Every setting of every grid on all 50 VMs (both halves pooled), so
	 * the charts draw each side's own frontier, not only its defaults:
	 * frontier POLICY DIM slack violation% shortfall resizes/wl-h */
	for (size_t gi = 0; gi < NGRID && !rc; gi++)
		for (int d = 0; d < AH_REPLAY_DIMS; d++)
			for (int i = 0; i < sr[gi].nset; i++) {
				if (!sr[gi].valid[d * sr[gi].nset + i])
					continue;
				acc all = sr[gi].ev[d * sr[gi].nset + i].a[G_A][d];
				a_add(&all, &sr[gi].ev[d * sr[gi].nset + i].a[G_B][d]);
				printf("frontier %s %s %.6f %.6f %.6f %.4f\n", ah_sizing_name(grids[gi].kind),
				       d == AH_DIM_CPU ? "cpu" : "mem", a_slack(&all), a_viol(&all), a_short(&all),
				       a_rph(&all, step));
			}
	const sweep_res *A = &sr[NGRID - 1];
	static const int sc_h[2] = {G_A, G_B}, tg_h[2] = {G_B, G_A}, sc_t[1] = {G_T2}, tg_t[1] = {G_T1};
	int xv[AH_REPLAY_DIMS][2]; /* ahead's x* for vpa, scoring A and B */
	for (size_t gi = 0; gi + 1 < NGRID && !rc; gi++)
		for (int d = 0; d < AH_REPLAY_DIMS; d++) {
			fair_out o;
			fair(&sr[gi], A, d, sc_h, tg_h, 2, step, "halves", &o);
			print_fair("halves", &sr[gi], d, &o, step);
			fair(&sr[gi], A, d, sc_h, sc_h, 2, step, "halves_in", &o);
			print_fair("halves_in", &sr[gi], d, &o, step);
			fair(&sr[gi], A, d, sc_t, tg_t, 1, step, "time", &o);
			print_fair("time", &sr[gi], d, &o, step);
			fair(&sr[gi], A, d, sc_t, sc_t, 1, step, "time_in", &o);
			print_fair("time_in", &sr[gi], d, &o, step);
			if (sr[gi].g->kind == AH_SIZING_KIND_VPA)
				for (int j = 0; j < 2; j++) {
					const acc *pd = &sr[gi].ev[d * sr[gi].nset + sr[gi].def[d]].a[tg_h[j]][d];
					double r0 = a_rph(pd, step);
					xv[d][j] = pick(A, d, tg_h[j], a_viol(pd), a_short(pd), r0 > 1 ? r0 : 1, step);
				}
		}
	/* two-level memory: ahead's kill rate at a setting whose hard levels
	 * sum to no more than vpa's default reservations, chosen on the other
	 * half (or the month's first half) */
	sweep_res ks;
	memset(&ks, 0, sizeof(ks));
	if (!rc) {
		for (int k = 0; k < kill_grid.nk; k++) {
			printf("grid ahead_two_level %s", kill_grid.knob[k]);
			for (int v = 0; v < kill_grid.nv[k]; v++)
				printf(" %g", kill_grid.v[k][v]);
			printf("\n");
		}
		rc = sweep_grid(r, p, &kill_grid, half_of, mid, 1u << AH_DIM_MEMORY, &ks);
	}
	for (int split = 0; split < 2 && !rc; split++) {
		const sweep_res *V = &sr[1]; /* vpa */
		int dm = AH_DIM_MEMORY, ns = split ? 1 : 2;
		const int *sc = split ? sc_t : sc_h, *tg = split ? tg_t : tg_h;
		acc ak = {0}, vk = {0};
		for (int j = 0; j < ns; j++) {
			const acc *vt = &V->ev[dm * V->nset + V->def[dm]].a[tg[j]][dm];
			int best = -1;
			for (int i = 0; i < ks.nset; i++) {
				if (!ks.valid[dm * ks.nset + i])
					continue;
				const acc *a = &ks.ev[dm * ks.nset + i].a[tg[j]][dm];
				if (a->hard > vt->res)
					continue;
				const acc *b = best < 0 ? NULL : &ks.ev[dm * ks.nset + best].a[tg[j]][dm];
				if (!b || a->kill < b->kill || (a->kill == b->kill && a->hard < b->hard))
					best = i;
			}
			if (best < 0)
				continue;
			char t2[64];
			snprintf(t2, sizeof(t2), "xstar_kill_%s_on_%s", gname[sc[j]], gname[tg[j]]);
			print_setting(t2, &ks, dm, best);
			a_add(&ak, &ks.ev[dm * ks.nset + best].a[sc[j]][dm]);
			a_add(&vk, &V->ev[dm * V->nset + V->def[dm]].a[sc[j]][dm]);
		}
		/* kill SPLIT ahead_kill% vpa_kill% hard_commit ahead_soft_viol% ahead_slack */
		printf("kill %s %.5f %.5f %.4f %.5f %.4f\n", split ? "time" : "halves",
		       ak.n > 0 ? 100.0 * ak.kill / ak.n : NAN, vk.n > 0 ? 100.0 * vk.kill / vk.n : NAN,
		       vk.res > 0 ? ak.hard / vk.res : NAN, a_viol(&ak), a_slack(&ak));
	}
	sweep_free(&ks);
	/* the oracle at ahead's x* for vpa: each half scored at the setting
	 * chosen on the other */
	size_t *idx = rc ? NULL : malloc(r->n * sizeof(*idx));
	int64_t *res = rc ? NULL : malloc(r->n * sizeof(*res)), *res2 = rc ? NULL : malloc(r->n * sizeof(*res2));
	if (!rc && (!idx || !res || !res2))
		rc = AH_ENOMEM;
	if (!rc) {
		for (size_t i = 0; i < r->n; i++)
			idx[i] = i;
		sort_rows = r;
		qsort(idx, r->n, sizeof(*idx), cmp_row);
	}
	for (int d = 0; d < AH_REPLAY_DIMS && !rc; d++) {
		if (xv[d][0] < 0 || xv[d][1] < 0) {
			printf("oracle_fair %s none\n", d == AH_DIM_CPU ? "cpu" : "mem");
			continue;
		}
		evals e[2];
		for (int j = 0; j < 2 && !rc; j++) {
			double x[MAXK];
			grid_point(A->g, xv[d][j], x);
			ah_replay_params pq = *p;
			apply(A->g, x, d, &pq);
			rc = run_eval(r, &pq, AH_SIZING_KIND_AHEAD, 1u << d, half_of, mid, j ? res2 : res, &e[j]);
		}
		if (rc)
			break;
		for (size_t i = 0; i < r->n; i++)
			if (half_of[wl_index(r, &r->v[i])] == G_B)
				res[i] = res2[i];
		double oidle, pidle, used;
		if ((rc = oracle_res(r, idx, res, d, &oidle, &pidle, &used)))
			break;
		acc pooled = e[0].a[G_A][d];
		a_add(&pooled, &e[1].a[G_B][d]);
		/* oracle_fair D ratio ahead_slack oracle_slack ahead_viol ahead_short ahead_rph */
		printf("oracle_fair %s %.4f %.6f %.6f %.5f %.6f %.4f\n", d == AH_DIM_CPU ? "cpu" : "mem",
		       oidle > 0 ? pidle / oidle : NAN, pidle / used, oidle / used, a_viol(&pooled), a_short(&pooled),
		       a_rph(&pooled, step));
	}
	free(idx);
	free(res);
	free(res2);
	/* cold start: ahead holding the requested size for its first hours,
	 * at its defaults and at its conservative end (quantile 0.9999, no
	 * violation cost); violations within each workload's first day */
	static const double holds_h[] = {0, 6, 12, 24};
	for (int end = 0; end < 2 && !rc; end++)
		for (size_t hi = 0; hi < sizeof(holds_h) / sizeof(holds_h[0]) && !rc; hi++) {
			ah_replay_params pq = *p;
			for (int d = 0; d < AH_REPLAY_DIMS; d++) {
				pq.sizing.dim[d].cold_hold_s = (int64_t)(holds_h[hi] * 3600);
				if (end) {
					pq.sizing.dim[d].quantile = 0.9999;
					pq.sizing.dim[d].violation_cost = 0;
				}
			}
			evals e;
			if ((rc = run_eval(r, &pq, AH_SIZING_KIND_AHEAD, 3u, half_of, mid, NULL, &e)))
				break;
			for (int d = 0; d < AH_REPLAY_DIMS; d++) {
				acc all = e.a[G_A][d];
				a_add(&all, &e.a[G_B][d]);
				const acc *d1 = &e.a[G_D1][d];
				/* cold END HOLD_H DIM slack viol% shortfall first-day viol% share of violations in the first day */
				printf("cold %s %g %s %.5f %.5f %.6f %.5f %.4f\n", end ? "conservative" : "default", holds_h[hi],
				       d == AH_DIM_CPU ? "cpu" : "mem", a_slack(&all), a_viol(&all), a_short(&all), a_viol(d1),
				       all.viol > 0 ? d1->viol / all.viol : 0);
			}
		}
	for (size_t gi = 0; gi < NGRID; gi++)
		sweep_free(&sr[gi]);
	free(half_of);
	if (!rc)
		rc = hindsight(r, AH_DIM_CPU);
	if (!rc)
		rc = hindsight(r, AH_DIM_MEMORY);
	if (!rc)
		printf("fair_time %.1f\n", now() - t0);
	return rc;
}


int main(int argc, char **argv)
{
	if (argc != 2 && !(argc == 3 && (!strcmp(argv[2], "oracle") || !strcmp(argv[2], "fair") ||
					 !strcmp(argv[2], "hindsight")))) {
		fprintf(stderr, "usage: bench_replay DIR_OF_BITBRAINS_CSV [oracle|fair|hindsight]\n");
		return 2;
	}
	rows r = {0};
	if (load(argv[1], &r) || !r.n)
		return 1;
	ah_replay_params p;
	ah_replay_params_default(&p);
	int only_oracle = argc == 3 && !strcmp(argv[2], "oracle");
	if (argc == 3 && !strcmp(argv[2], "hindsight")) { /* the reading alone */
		int rc = hindsight(&r, AH_DIM_CPU) || hindsight(&r, AH_DIM_MEMORY);
		free(r.v);
		free(r.names);
		return rc ? 1 : 0;
	}
	if (argc == 3 && !strcmp(argv[2], "fair")) {
		int rc = chosen_elsewhere(&r, &p);
		free(r.v);
		free(r.names);
		return rc ? 1 : 0;
	}
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
			printf("point %s %s %.6f %.6f %.6f %.4f\n", ah_sizing_name(all[k]),
			       d == AH_DIM_CPU ? "cpu" : "mem", m.slack, m.violation_pct, m.shortfall,
			       m.resizes_per_wl_hour);
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
				printf("half %d %s %s %.6f %.6f %.6f %.4f\n", h + 1, ah_sizing_name(all[k]),
				       d == AH_DIM_CPU ? "cpu" : "mem", m.slack, m.violation_pct, m.shortfall,
				       m.resizes_per_wl_hour);
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
			printf("sweep %.4f %s %.6f %.6f %llu %.6f %.4f\n", qs[i], d == AH_DIM_CPU ? "cpu" : "mem",
			       m.slack, m.violation_pct, (unsigned long long)m.resizes, m.shortfall,
			       m.resizes_per_wl_hour);
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
			printf("csweep %.4f %s %.6f %.6f %llu %.6f %.4f\n", fs[i], d == AH_DIM_CPU ? "cpu" : "mem",
			       m.slack, m.violation_pct, (unsigned long long)m.resizes, m.shortfall,
			       m.resizes_per_wl_hour);
		}
		ah_replay_free(rp);
	}
	int rc = chosen_elsewhere(&r, &p);
	free(r.v);
	free(r.names);
	return rc ? 1 : 0;
}
