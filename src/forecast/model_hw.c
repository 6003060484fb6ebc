/* ahead: additive Holt-Winters (ETS(A,Ad,A) point recursions), the EW
 * level/trend baseline, their Nelder-Mead fit, and season detection. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/model.h"

typedef struct {
	ah_model base;
	ah_model_ops ops; /* per-instance so the name can vary */
	char name[32];
	ah_hw_params p;
	size_t m;       /* season length (1 without season) */
	size_t idx;     /* seasonal index of the next observation */
	double l, b, *s;
	double *buf;    /* first 2*m (or 2) observations, for the initial state */
	size_t nbuf, need;
	double last;
	bool ready;
	double sse;     /* one-step squared errors since ready (for fitting) */
	size_t nsse;
} hw;

static double hw_pred1(const hw *w)
{
	return w->l + w->p.phi * w->b + (w->p.seasonal ? w->s[w->idx] : 0);
}

static void hw_step(hw *w, double y, bool score)
{
	double sv = w->p.seasonal ? w->s[w->idx] : 0;
	double pb = w->p.phi * w->b;
	if (isnan(y)) { /* missing: let the state run forward */
		w->l += pb;
		w->b = pb;
		w->idx = (w->idx + 1) % w->m;
		return;
	}
	double e = y - (w->l + pb + sv);
	if (score) {
		w->sse += e * e;
		w->nsse++;
		w->base.err_var = w->base.nobs > 1 ? 0.98 * w->base.err_var + 0.02 * e * e : e * e;
	}
	double l = w->p.alpha * (y - sv) + (1 - w->p.alpha) * (w->l + pb);
	if (w->p.trend)
		w->b = w->p.beta * (l - w->l) + (1 - w->p.beta) * pb;
	w->l = l;
	if (w->p.seasonal)
		w->s[w->idx] = w->p.gamma * (y - l) + (1 - w->p.gamma) * sv;
	w->idx = (w->idx + 1) % w->m;
}

static void hw_init(hw *w)
{
	/* state just before the first buffered value, so that replaying the
	 * buffer through the recursions starts from a consistent prediction */
	size_t m = w->m;
	double *y = w->buf;
	if (w->p.seasonal) {
		/* nc cycles: the trend from the first and last cycle means, each
		 * seasonal index averaged over the cycles (two cycles alone leave
		 * the indices so noisy that the fit answers with gamma ~ 1) */
		size_t nc = w->need / m;
		double a = 0, c = 0;
		for (size_t i = 0; i < m; i++) {
			a += y[i];
			c += y[(nc - 1) * m + i];
		}
		a /= (double)m;
		c /= (double)m;
		w->b = w->p.trend ? (c - a) / (double)((nc - 1) * m) : 0;
		w->l = a - w->b * (double)(m + 1) / 2;
		for (size_t i = 0; i < m; i++) {
			double s = 0;
			for (size_t k = 0; k < nc; k++)
				s += y[k * m + i] - (w->l + w->b * (double)(k * m + i + 1));
			w->s[i] = s / (double)nc;
		}
	} else {
		w->b = w->p.trend ? y[1] - y[0] : 0;
		w->l = y[0] - w->b;
	}
	w->idx = 0;
	w->ready = true;
	/* replay the buffered values through the recursions (not scored) */
	for (size_t i = 0; i < w->nbuf; i++)
		hw_step(w, y[i], false);
}

static void hw_update(ah_model *m, double y)
{
	hw *w = (hw *)m;
	if (!w->ready) {
		double v = isnan(y) ? w->last : y;
		if (isnan(v)) /* nothing seen yet: the series starts later */
			return;
		w->buf[w->nbuf++] = v;
		if (!isnan(y)) {
			w->last = y;
			w->base.nobs++;
		}
		if (w->nbuf == w->need)
			hw_init(w);
		return;
	}
	if (!isnan(y)) {
		w->last = y;
		w->base.nobs++;
	}
	hw_step(w, y, true);
}

static void hw_forecast(const ah_model *m, size_t h, const double *q, size_t nq, double *point,
			double *qout)
{
	const hw *w = (const hw *)m;
	double sd = sqrt(m->err_var), a = w->p.alpha;
	double damp = 0, ph = 1;
	for (size_t i = 0; i < h; i++) {
		double v;
		if (!w->ready) {
			v = isnan(w->last) ? 0 : w->last;
		} else {
			ph *= w->p.phi;
			damp += ph;
			v = w->l + damp * w->b + (w->p.seasonal ? w->s[(w->idx + i) % w->m] : 0);
		}
		point[i] = v;
		/* SES variance growth 1 + (h-1) alpha^2, a fair approximation */
		double k = sqrt(1 + (double)i * a * a);
		for (size_t j = 0; j < nq; j++)
			qout[i * nq + j] = v + sd * k * ah_norm_quantile(q[j]);
	}
	(void)hw_pred1;
}

static void hw_free(ah_model *m)
{
	hw *w = (hw *)m;
	if (!w)
		return;
	free(w->s);
	free(w->buf);
	free(w);
}

ah_model *ah_model_hw_new(const ah_hw_params *p, const char *name)
{
	if (!p || !(p->alpha >= 0 && p->alpha <= 1) || !(p->beta >= 0 && p->beta <= 1) ||
	    !(p->gamma >= 0 && p->gamma <= 1) || !(p->phi > 0 && p->phi <= 1) ||
	    (p->seasonal && (p->period < 2 || p->period > 100000 || p->init_cycles > 16)))
		return NULL;
	hw *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->p = *p;
	w->m = p->seasonal ? p->period : 1;
	w->need = p->seasonal ? (p->init_cycles > 2 ? p->init_cycles : 2) * w->m : 2;
	w->s = calloc(w->m, sizeof(double));
	w->buf = malloc(w->need * sizeof(double));
	if (!w->s || !w->buf) {
		hw_free(&w->base);
		return NULL;
	}
	w->last = NAN;
	snprintf(w->name, sizeof(w->name), "%s", name ? name : "holt-winters");
	w->ops = (ah_model_ops){w->name, hw_update, hw_forecast, hw_free};
	w->base.ops = &w->ops;
	return &w->base;
}

ah_model *ah_model_ewma_new(double alpha, double beta)
{
	ah_hw_params p = {.period = 1, .alpha = alpha, .beta = beta, .phi = 1, .trend = beta > 0};
	return ah_model_hw_new(&p, beta > 0 ? "ewma-trend" : "ewma");
}

/* ---- fitting ---- */

typedef struct {
	const double *y;
	size_t n;
	ah_hw_params p;
	bool damped;
} fitctx;

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
	ah_model *m = ah_model_hw_new(&p, NULL);
	if (!m)
		return HUGE_VAL;
	hw *w = (hw *)m;
	for (size_t i = 0; i < c->n; i++)
		hw_update(m, c->y[i]);
	double r = w->nsse ? w->sse / (double)w->nsse : HUGE_VAL;
	hw_free(m);
	return isfinite(r) ? r : HUGE_VAL;
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
	fitctx c = {.y = y, .n = n, .p = *p, .damped = damped};
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
	ah_nm_minimize(sse_of, &c, x, dim, 1.5, 60 + 40 * dim, 1e-6, &f);
	if (!isfinite(f))
		return AH_ERANGE;
	unpack(&c, x, p);
	if (sse_out)
		*sse_out = f;
	return 0;
}
