/* ahead: mean reversion: an AR(1) around a slowly moving mean.
 *
 * Why: resource series revert: a burst decays back to the usual level. The
 * smoothing models fitted for one step (alpha near 1) carry the last value
 * to every horizon, which is right at h = 1 and wrong at h = 48 when the
 * series forgets in a few dozen steps. Here the forecast decays from the
 * last value to the mean: mu + phi^h (y - mu), with mu an exponentially
 * weighted mean and phi the exponentially weighted lag-1 autocorrelation
 * (both with the same long memory), so nothing is fitted. The per-band
 * choice then takes it where it wins (usually the long horizons). */
#include <math.h>
#include <stdlib.h>

#include "ahead/model.h"

typedef struct {
	ah_model base;
	double a;          /* memory: weight of a new value */
	double mu, c0, c1; /* EW mean, variance, lag-1 covariance */
	double last;       /* last value (NaN: none yet) */
	size_t n;
} ar1;

static double ar1_phi(const ar1 *r)
{
	double phi = r->c0 > 0 ? r->c1 / r->c0 : 0;
	return phi < 0 ? 0 : phi > 0.999 ? 0.999 : phi;
}

static void ar1_update(ah_model *m, double y)
{
	ar1 *r = (ar1 *)m;
	if (isnan(y))
		return; /* the last value stays: its influence decays with h */
	if (!r->n) {
		r->mu = y;
	} else {
		double p = r->mu + ar1_phi(r) * (r->last - r->mu), e = y - p;
		r->base.err_var = r->n > 1 ? 0.98 * r->base.err_var + 0.02 * e * e : e * e;
		/* a faster start, then the long memory */
		double a = 1.0 / (double)(r->n + 1) > r->a ? 1.0 / (double)(r->n + 1) : r->a;
		r->mu += a * (y - r->mu);
		double d = y - r->mu, dl = r->last - r->mu;
		r->c0 += a * (d * d - r->c0);
		r->c1 += a * (d * dl - r->c1);
	}
	r->last = y;
	r->n++;
	r->base.nobs++;
}

static void ar1_forecast(const ah_model *m, size_t h, const double *q, size_t nq, double *point,
			 double *qout)
{
	const ar1 *r = (const ar1 *)m;
	double phi = ar1_phi(r), ph = 1, sd = sqrt(m->err_var), var = 0;
	for (size_t i = 0; i < h; i++) {
		var = var * phi * phi + 1;
		ph *= phi;
		double v = isnan(r->last) ? 0 : r->mu + ph * (r->last - r->mu);
		point[i] = v;
		for (size_t j = 0; j < nq; j++)
			qout[i * nq + j] = v + sd * sqrt(var) * ah_norm_quantile(q[j]);
	}
}

static void ar1_free(ah_model *m)
{
	free(m);
}

static const ah_model_ops ar1_ops = {"ar1-mean", ar1_update, ar1_forecast, ar1_free};

ah_model *ah_model_ar1_new(double memory)
{
	if (!(memory >= 2))
		return NULL;
	ar1 *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->base.ops = &ar1_ops;
	r->a = 2 / (memory + 1);
	r->last = NAN;
	return &r->base;
}
