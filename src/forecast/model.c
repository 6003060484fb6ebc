/* ahead: the model interface, the seasonal naive model, normal quantiles. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/model.h"

void ah_model_update(ah_model *m, double y)
{
	if (m)
		m->ops->update(m, y);
}

int ah_model_forecast(const ah_model *m, size_t h, const double *q, size_t nq, double *point,
		      double *qout)
{
	if (!m || !h || !point || (nq && (!q || !qout)))
		return AH_EINVAL;
	for (size_t j = 0; j < nq; j++)
		if (!(q[j] > 0 && q[j] < 1))
			return AH_EINVAL;
	m->ops->forecast(m, h, q, nq, point, qout);
	return 0;
}

const char *ah_model_name(const ah_model *m)
{
	return m ? m->ops->name : "";
}

void ah_model_free(ah_model *m)
{
	if (m)
		m->ops->free(m);
}

double ah_norm_quantile(double p)
{
	static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
				   1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
	static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
				   6.680131188771972e+01, -1.328068155288572e+01};
	static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
				   -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
	static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
				   3.754408661907416e+00};
	if (p <= 0)
		return -INFINITY;
	if (p >= 1)
		return INFINITY;
	double q, r;
	if (p < 0.02425) {
		q = sqrt(-2 * log(p));
		return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		       ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	if (p > 1 - 0.02425) {
		q = sqrt(-2 * log(1 - p));
		return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		       ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	q = p - 0.5;
	r = q * q;
	return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
	       (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/* ---- seasonal naive ---- */

typedef struct {
	ah_model base;
	size_t period, pos, seen;
	double last;
	double *ring; /* last period values (NaN = never seen) */
} snaive;

static void snaive_update(ah_model *m, double y)
{
	snaive *s = (snaive *)m;
	double old = s->ring[s->pos];
	if (!isnan(y)) {
		double e = y - (isnan(old) ? (isnan(s->last) ? y : s->last) : old);
		s->base.err_var = s->base.nobs ? 0.98 * s->base.err_var + 0.02 * e * e : 0;
		s->base.nobs++;
		s->last = y;
		s->ring[s->pos] = y;
	} /* missing: keep last season's value in place (carried forward) */
	if (++s->pos == s->period)
		s->pos = 0;
	s->seen++;
}

static void snaive_forecast(const ah_model *m, size_t h, const double *q, size_t nq, double *point,
			    double *qout)
{
	const snaive *s = (const snaive *)m;
	double sd = sqrt(m->err_var);
	for (size_t i = 0, r = s->pos; i < h; i++) {
		double v = s->ring[r];
		if (++r == s->period) /* (pos + i) % period without a division */
			r = 0;
		if (isnan(v))
			v = isnan(s->last) ? 0 : s->last;
		point[i] = v;
		if (!nq)
			continue;
		double k = sqrt((double)(i / s->period + 1));
		for (size_t j = 0; j < nq; j++)
			qout[i * nq + j] = v + sd * k * ah_norm_quantile(q[j]);
	}
}

static void snaive_free(ah_model *m)
{
	snaive *s = (snaive *)m;
	free(s->ring);
	free(s);
}

static const ah_model_ops snaive_ops = {"seasonal-naive", snaive_update, snaive_forecast, snaive_free};
static const ah_model_ops naive_ops = {"naive", snaive_update, snaive_forecast, snaive_free};

ah_model *ah_model_snaive_new(size_t period)
{
	if (!period || period > 1000000)
		return NULL;
	snaive *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->ring = malloc(period * sizeof(double));
	if (!s->ring) {
		free(s);
		return NULL;
	}
	for (size_t i = 0; i < period; i++)
		s->ring[i] = NAN;
	s->base.ops = period == 1 ? &naive_ops : &snaive_ops;
	s->period = period;
	s->last = NAN;
	return &s->base;
}
