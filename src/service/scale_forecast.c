/* The pool scaler's second forecaster: ah_forecaster (src/forecast) over a
 * pool's demand series, one per pool, dimension and class.
 *
 * The scaler needs an answer that depends on the history alone (a process
 * started later, such as one `ahead scale`, must decide as a long-lived
 * daemon does), and fitting costs milliseconds while a pool is forecast
 * every step. So the fit is tied to the calendar: a forecast at origin o is
 * made by the forecaster fitted on the W steps that end at the last day
 * boundary B <= o (B = floor(o / day) * day; W = the history less three
 * days, so the window is inside the history for every origin the scaler
 * asks about), then fed the steps B+1..o (ah_forecaster_update: its
 * conformal intervals keep adapting). One fitted forecaster is kept per
 * series and fed forward; asking for another day's origin, or for an origin
 * behind the one fed, refits. The fit's horizon is fixed (FIT_H, or what a
 * longer call needs) because the models are chosen by their error over it. */
#include "service/scale_forecast.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/forecast.h"

#define FIT_H 48 /* the fit's horizon: 4 hours of 5-minute steps */

typedef struct {
	int pool, dim, klass;
	ah_forecaster *f;
	int64_t fit_b, fed_k; /* absolute steps: the fit's boundary, the last value fed */
	int horizon;          /* the fit's horizon */
} entry;

struct ah_scale_forecast {
	entry *e;
	size_t n, cap;
};

int ah_scale_forecast_new(ah_scale_forecast **out)
{
	if (!out)
		return AH_EINVAL;
	ah_scale_forecast *f = calloc(1, sizeof(*f));
	if (!f)
		return AH_ENOMEM;
	*out = f;
	return 0;
}

void ah_scale_forecast_free(ah_scale_forecast *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		ah_forecaster_free(f->e[i].f);
	free(f->e);
	free(f);
}

static entry *entry_get(ah_scale_forecast *f, int pool, int dim, int klass)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->e[i].pool == pool && f->e[i].dim == dim && f->e[i].klass == klass)
			return &f->e[i];
	if (f->n == f->cap) {
		size_t nc = f->cap ? f->cap * 2 : 8;
		entry *ne = realloc(f->e, nc * sizeof(*ne));
		if (!ne)
			return NULL;
		f->e = ne;
		f->cap = nc;
	}
	entry *e = &f->e[f->n++];
	*e = (entry){.pool = pool, .dim = dim, .klass = klass};
	return e;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Fits e on hist[lo..hi] (inclusive indices), from its first observed value. */
static int refit(entry *e, const double *hist, int64_t lo, int64_t hi, int64_t b, int64_t step_ns, int horizon)
{
	ah_forecaster_free(e->f);
	e->f = NULL;
	while (lo <= hi && isnan(hist[lo]))
		lo++;
	if (lo > hi)
		return AH_ENOENT;
	ah_fc_opts o = {.horizon = (size_t)horizon, .step_s = (double)step_ns / 1e9};
	int rc = ah_forecaster_new(&o, hist + lo, (size_t)(hi - lo + 1), &e->f);
	if (rc)
		return rc; /* too little history yet: the scaler's own forecast stands */
	e->fit_b = e->fed_k = b;
	e->horizon = horizon;
	return 0;
}

int ah_scale_forecast_fn(void *ctx, int pool, int dim, int klass, const double *hist, size_t n, int64_t last_step,
			 int64_t origin, int64_t step_ns, int first_ahead, int horizon, const double *levels, int nq,
			 double *out)
{
	ah_scale_forecast *f = ctx;
	if (!f || !hist || n < 8 || step_ns <= 0 || first_ahead < 1 || horizon < 1 || nq < 1 || !levels || !out ||
	    origin > last_step || last_step - origin >= (int64_t)n)
		return AH_EINVAL;
	entry *e = entry_get(f, pool, dim, klass);
	if (!e)
		return AH_ENOMEM;
	int hh = first_ahead + horizon - 1, fit_h = hh > FIT_H ? hh : FIT_H;
	int64_t day = (int64_t)(86400e9 / (double)step_ns), N = (int64_t)n;
	if (day < 1)
		day = 1;
	int64_t w = N > 4 * day ? N - 3 * day : N / 4;
	int64_t b = floor_div(origin, day) * day;
	/* index of absolute step k in hist */
#define IDX(k) (N - 1 - (last_step - (k)))
	if (IDX(b - w + 1) < 0) /* the window reaches before the history: from its start */
		w = IDX(b) + 1;
	int rc;
	if (!e->f || e->fit_b != b || origin < e->fed_k || fit_h > e->horizon || IDX(e->fed_k) < 0) {
		if (IDX(b) < 0)
			return AH_ENOENT; /* the boundary is older than the history */
		if ((rc = refit(e, hist, IDX(b - w + 1), IDX(b), b, step_ns, fit_h)))
			return rc;
	}
	for (int64_t k = e->fed_k + 1; k <= origin; k++)
		ah_forecaster_update(e->f, hist[IDX(k)]);
	e->fed_k = origin;
#undef IDX
	double *pt = malloc((size_t)hh * sizeof(double)), *q = malloc((size_t)hh * (size_t)nq * sizeof(double));
	rc = pt && q ? ah_forecaster_forecast(e->f, (size_t)hh, levels, (size_t)nq, pt, q) : AH_ENOMEM;
	if (!rc)
		memcpy(out, q + (size_t)(first_ahead - 1) * (size_t)nq, (size_t)horizon * (size_t)nq * sizeof(double));
	free(pt);
	free(q);
	return rc;
}
