/* ahead: the Nelder-Mead fit of Holt-Winters / Holt / EW level parameters
 * by their mean one-step squared error.
 *
 * Why a kernel of its own: the fit runs the recursions a few hundred times
 * over the same 1000-12000 values, and was a third of a forecaster's fit.
 * Building a model per evaluation (allocation, buffering, the error variance
 * no fit reads, a division per step for the season index) cost more than
 * the recursions. Here the buffered start and its initial state (which do not
 * depend on the parameters) are computed once per fit, and each evaluation
 * replays only the recursions, with the very operations of model_hw.c's
 * hw_step, so the score is bit for bit the model's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/model.h"
#include "hw_state.h"
#include "nm_batch.h"

#define LANES AH_NM_BATCH

typedef struct {
	const double *y;
	size_t n;
	ah_hw_params p;
	bool damped;
	/* shared by every evaluation: */
	size_t m;        /* season length (1: none) */
	double *buf;     /* the buffered start (missing values carried forward) */
	size_t need;
	size_t first;    /* y[first..n) is scored */
	size_t nscored;  /* non-missing values in it */
	double l0, b0, *s0, *s; /* initial state; s: the working season */
	double *sl;      /* the working seasons of a batch: [m][AH_NM_BATCH] */
} fitctx;

/* Buffers the start as hw_update does; false when the series never fills it. */
static bool fit_prepare(fitctx *c)
{
	size_t nbuf = 0;
	double last = NAN;
	for (size_t i = 0; i < c->n; i++) {
		double v = isnan(c->y[i]) ? last : c->y[i];
		if (isnan(v))
			continue;
		c->buf[nbuf++] = v;
		if (!isnan(c->y[i]))
			last = c->y[i];
		if (nbuf == c->need) {
			c->first = i + 1;
			ah_hw_init_state(&c->p, c->buf, c->m, c->need, &c->l0, &c->b0, c->s0);
			for (size_t k = i + 1; k < c->n; k++)
				c->nscored += !isnan(c->y[k]);
			return true;
		}
	}
	return false;
}

/* hw_step over y[0..n) from state (l, b, s, idx); returns the sum of the
 * squared one-step errors of the non-missing values. */
static double recurse(const ah_hw_params *p, size_t m, const double *y, size_t n, double *lp, double *bp,
		      double *s, size_t *idxp)
{
	const double alpha = p->alpha, beta = p->beta, gamma = p->gamma, phi = p->phi;
	const bool trend = p->trend, seasonal = p->seasonal;
	double l = *lp, b = *bp, sse = 0;
	size_t idx = *idxp;
	for (size_t i = 0; i < n; i++) {
		double sv = seasonal ? s[idx] : 0;
		double pb = phi * b;
		if (isnan(y[i])) {
			l += pb;
			b = pb;
		} else {
			double e = y[i] - (l + pb + sv);
			sse += e * e;
			double ln = alpha * (y[i] - sv) + (1 - alpha) * (l + pb);
			if (trend)
				b = beta * (ln - l) + (1 - beta) * pb;
			l = ln;
			if (seasonal)
				s[idx] = gamma * (y[i] - l) + (1 - gamma) * sv;
		}
		if (++idx == m)
			idx = 0;
	}
	*lp = l;
	*bp = b;
	*idxp = idx;
	return sse;
}

/* recurse() for LANES parameter sets side by side (independent chains, so
 * they overlap in the pipeline), two lanes per vector: per lane the very
 * operations of recurse() (vector arithmetic is elementwise IEEE). s holds
 * the lanes' seasons interleaved, s[idx * LANES + k]; sse[k] adds. Inlined
 * per shape (trend, season) so each loop is branch-free. */
typedef double v2 __attribute__((vector_size(16)));
#define HALVES (LANES / 2)

static inline v2 load2(const double *p)
{
	v2 v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void store2(double *p, v2 v)
{
	memcpy(p, &v, sizeof(v));
}

static inline __attribute__((always_inline)) void lanes_shape(const ah_hw_params *p, size_t m, const double *y,
							      size_t n, double *lp, double *bp,
							      double *restrict s, size_t *idxp, double *sse,
							      const bool trend, const bool seasonal)
{
	v2 al[HALVES], a1[HALVES], be[HALVES], b1[HALVES], ga[HALVES], g1[HALVES], ph[HALVES];
	v2 l[HALVES], b[HALVES], acc[HALVES];
	const v2 one = {1, 1}, zero = {0, 0};
	for (size_t h = 0; h < HALVES; h++) {
		const ah_hw_params *q = p + 2 * h;
		al[h] = (v2){q[0].alpha, q[1].alpha};
		be[h] = (v2){q[0].beta, q[1].beta};
		ga[h] = (v2){q[0].gamma, q[1].gamma};
		ph[h] = (v2){q[0].phi, q[1].phi};
		a1[h] = one - al[h];
		b1[h] = one - be[h];
		g1[h] = one - ga[h];
		l[h] = load2(lp + 2 * h);
		b[h] = load2(bp + 2 * h);
		acc[h] = load2(sse + 2 * h);
	}
	size_t idx = *idxp;
	for (size_t i = 0; i < n; i++) {
		double *sk = s + idx * LANES, yi = y[i];
		if (isnan(yi)) {
			for (size_t h = 0; h < HALVES; h++) {
				v2 pb = ph[h] * b[h];
				l[h] += pb;
				b[h] = pb;
			}
		} else {
			const v2 yv = {yi, yi};
			for (size_t h = 0; h < HALVES; h++) {
				v2 sv = seasonal ? load2(sk + 2 * h) : zero;
				v2 pb = ph[h] * b[h];
				v2 e = yv - (l[h] + pb + sv);
				acc[h] += e * e;
				v2 ln = al[h] * (yv - sv) + a1[h] * (l[h] + pb);
				if (trend)
					b[h] = be[h] * (ln - l[h]) + b1[h] * pb;
				l[h] = ln;
				if (seasonal)
					store2(sk + 2 * h, ga[h] * (yv - ln) + g1[h] * sv);
			}
		}
		if (seasonal && ++idx == m)
			idx = 0;
	}
	for (size_t h = 0; h < HALVES; h++) {
		store2(lp + 2 * h, l[h]);
		store2(bp + 2 * h, b[h]);
		store2(sse + 2 * h, acc[h]);
	}
	*idxp = idx;
}

static void recurse_lanes(const ah_hw_params *p, size_t m, const double *y, size_t n, double *l, double *b,
			  double *s, size_t *idxp, double *sse)
{
	if (p[0].seasonal && p[0].trend)
		lanes_shape(p, m, y, n, l, b, s, idxp, sse, true, true);
	else if (p[0].seasonal)
		lanes_shape(p, m, y, n, l, b, s, idxp, sse, false, true);
	else if (p[0].trend)
		lanes_shape(p, m, y, n, l, b, s, idxp, sse, true, false);
	else
		lanes_shape(p, m, y, n, l, b, s, idxp, sse, false, false);
}

static double logistic(double x)
{
	return 1 / (1 + exp(-x));
}

static void unpack(const fitctx *c, const double *x, ah_hw_params *p)
{
	size_t k = 0;
	*p = c->p;
	p->alpha = 0.001 + 0.998 * logistic(x[k++]);
	p->beta = p->trend ? 0.001 + 0.3 * logistic(x[k++]) : 0;
	p->gamma = p->seasonal ? 0.001 + 0.998 * logistic(x[k++]) : 0;
	p->phi = c->damped && p->trend ? 0.8 + 0.2 * logistic(x[k++]) : 1;
}

static double sse_of(const double *x, void *ctx)
{
	fitctx *c = ctx;
	ah_hw_params p;
	unpack(c, x, &p);
	if (!ah_hw_params_ok(&p) || !c->nscored)
		return HUGE_VAL;
	double l = c->l0, b = c->b0;
	size_t idx = 0;
	memcpy(c->s, c->s0, c->m * sizeof(double));
	recurse(&p, c->m, c->buf, c->need, &l, &b, c->s, &idx); /* the replayed start is not scored */
	double r = recurse(&p, c->m, c->y + c->first, c->n - c->first, &l, &b, c->s, &idx) / (double)c->nscored;
	return isfinite(r) ? r : HUGE_VAL;
}

/* The batch form of sse_of for the minimiser: up to LANES points at once
 * (unused lanes repeat the first point). */
static void sse_batch(const double *const *x, size_t k, double *out, void *ctx)
{
	fitctx *c = ctx;
	if (k == 1 || !c->nscored) { /* (nothing scored: no state was built) */
		for (size_t j = 0; j < k; j++)
			out[j] = sse_of(x[j], ctx);
		return;
	}
	ah_hw_params p[LANES];
	double l[LANES], b[LANES], sse[LANES], skip[LANES];
	bool ok[LANES];
	for (size_t j = 0; j < LANES; j++) {
		unpack(c, x[j < k ? j : 0], &p[j]);
		ok[j] = ah_hw_params_ok(&p[j]) && c->nscored;
		l[j] = c->l0;
		b[j] = c->b0;
		sse[j] = 0;
		skip[j] = 0;
	}
	for (size_t i = 0; i < c->m; i++)
		for (size_t j = 0; j < LANES; j++)
			c->sl[i * LANES + j] = c->s0[i];
	size_t idx = 0;
	recurse_lanes(p, c->m, c->buf, c->need, l, b, c->sl, &idx, skip); /* the replayed start is not scored */
	recurse_lanes(p, c->m, c->y + c->first, c->n - c->first, l, b, c->sl, &idx, sse);
	for (size_t j = 0; j < k; j++) {
		double r = sse[j] / (double)c->nscored;
		out[j] = ok[j] && isfinite(r) ? r : HUGE_VAL;
	}
}

int ah_hw_fit(const double *y, size_t n, bool damped, ah_hw_params *p, double *sse_out)
{
	if (!y || !p)
		return AH_EINVAL;
	size_t m = p->seasonal ? p->period : 1;
	if (p->seasonal && m < 2)
		return AH_EINVAL;
	if (n < (p->seasonal && p->init_cycles > 2 ? p->init_cycles : 2) * m + 2)
		return AH_EINVAL;
	fitctx c = {.y = y, .n = n, .p = *p, .damped = damped, .m = m};
	int rc = 0;
	/* the shape (season, its start) as ah_model_hw_new checks it; the
	 * fitted parameters are checked per evaluation */
	if (!p->seasonal || (m <= 100000 && p->init_cycles <= 16)) {
		c.need = ah_hw_need(p);
		c.buf = malloc(c.need * sizeof(double));
		c.s0 = calloc(m, sizeof(double));
		c.s = malloc(m * sizeof(double));
		c.sl = malloc(m * LANES * sizeof(double));
		if (!c.buf || !c.s0 || !c.s || !c.sl) {
			rc = AH_ENOMEM;
			goto out;
		}
		fit_prepare(&c); /* nscored stays 0 when the start never fills: every score is HUGE_VAL */
	}
	double x[4];
	size_t dim = 0;
	x[dim++] = -1.0;		/* alpha ~ 0.27 */
	if (p->trend)
		x[dim++] = -2.0;	/* beta ~ 0.04 */
	if (p->seasonal)
		x[dim++] = -2.5;	/* gamma ~ 0.08 */
	if (damped && p->trend)
		x[dim++] = 1.0;		/* phi ~ 0.93 */
	double f;
	/* 18 + 12 evaluations per parameter: the forecasts of fits given
	 * 60 + 40 per parameter were no better on the tuning set (the
	 * one-step error is flat near its minimum), at 10% more of a fit */
	ah_nm_minimize_batch(sse_batch, &c, x, dim, 1.5, 18 + 12 * dim, 1e-6, &f);
	if (!isfinite(f)) {
		rc = AH_ERANGE;
		goto out;
	}
	unpack(&c, x, p);
	if (sse_out)
		*sse_out = f;
out:
	free(c.buf);
	free(c.s0);
	free(c.s);
	free(c.sl);
	return rc;
}
