/* ahead: additive Holt-Winters (ETS(A,Ad,A) point recursions), the EW
 * level/trend baseline (their fit: hw_fit.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/model.h"
#include "hw_state.h"

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
		if (++w->idx == w->m)
			w->idx = 0;
		return;
	}
	double e = y - (w->l + pb + sv);
	if (score)
		w->base.err_var = w->base.nobs > 1 ? 0.98 * w->base.err_var + 0.02 * e * e : e * e;
	double l = w->p.alpha * (y - sv) + (1 - w->p.alpha) * (w->l + pb);
	if (w->p.trend)
		w->b = w->p.beta * (l - w->l) + (1 - w->p.beta) * pb;
	w->l = l;
	if (w->p.seasonal)
		w->s[w->idx] = w->p.gamma * (y - l) + (1 - w->p.gamma) * sv;
	if (++w->idx == w->m) /* no division per step */
		w->idx = 0;
}

void ah_hw_init_state(const ah_hw_params *p, const double *y, size_t m, size_t need, double *l, double *b,
		      double *s)
{
	if (p->seasonal) {
		/* nc cycles: the trend from the first and last cycle means, each
		 * seasonal index averaged over the cycles (two cycles alone leave
		 * the indices so noisy that the fit answers with gamma ~ 1) */
		size_t nc = need / m;
		double a = 0, c = 0;
		for (size_t i = 0; i < m; i++) {
			a += y[i];
			c += y[(nc - 1) * m + i];
		}
		a /= (double)m;
		c /= (double)m;
		*b = p->trend ? (c - a) / (double)((nc - 1) * m) : 0;
		*l = a - *b * (double)(m + 1) / 2;
		for (size_t i = 0; i < m; i++) {
			double v = 0;
			for (size_t k = 0; k < nc; k++)
				v += y[k * m + i] - (*l + *b * (double)(k * m + i + 1));
			s[i] = v / (double)nc;
		}
	} else {
		*b = p->trend ? y[1] - y[0] : 0;
		*l = y[0] - *b;
	}
}

static void hw_init(hw *w)
{
	/* state just before the first buffered value, so that replaying the
	 * buffer through the recursions starts from a consistent prediction */
	ah_hw_init_state(&w->p, w->buf, w->m, w->need, &w->l, &w->b, w->s);
	w->idx = 0;
	w->ready = true;
	/* replay the buffered values through the recursions (not scored) */
	for (size_t i = 0; i < w->nbuf; i++)
		hw_step(w, w->buf[i], false);
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
	size_t si = w->idx; /* season index of step i (no division per step) */
	for (size_t i = 0; i < h; i++) {
		double v;
		if (!w->ready) {
			v = isnan(w->last) ? 0 : w->last;
		} else {
			ph *= w->p.phi;
			damp += ph;
			v = w->l + damp * w->b + (w->p.seasonal ? w->s[si] : 0);
			if (++si == w->m)
				si = 0;
		}
		point[i] = v;
		if (!nq) /* points only (the forecaster's case): no spread */
			continue;
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

bool ah_hw_params_ok(const ah_hw_params *p)
{
	return p && p->alpha >= 0 && p->alpha <= 1 && p->beta >= 0 && p->beta <= 1 && p->gamma >= 0 &&
	       p->gamma <= 1 && p->phi > 0 && p->phi <= 1 &&
	       (!p->seasonal || (p->period >= 2 && p->period <= 100000 && p->init_cycles <= 16));
}

size_t ah_hw_need(const ah_hw_params *p)
{
	return p->seasonal ? (p->init_cycles > 2 ? p->init_cycles : 2) * p->period : 2;
}

ah_model *ah_model_hw_new(const ah_hw_params *p, const char *name)
{
	if (!ah_hw_params_ok(p))
		return NULL;
	hw *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->p = *p;
	w->m = p->seasonal ? p->period : 1;
	w->need = ah_hw_need(p);
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
