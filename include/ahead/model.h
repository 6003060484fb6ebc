/* ahead: forecasting models behind one interface.
 *
 * A model is fed one observation per step with ah_model_update (O(1) or
 * O(season); NaN = missing: the state advances without learning) and asked
 * for h steps ahead with ah_model_forecast, which writes point[h] and, for
 * each of nq quantile levels, qout[i*nq + j] (step i+1, level q[j]). A model's
 * own quantiles are a Gaussian approximation from its one-step error
 * variance; ah_forecaster (forecast.h) replaces them with calibrated ones. */
#ifndef AHEAD_MODEL_H
#define AHEAD_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ah_model ah_model;

typedef struct {
	const char *name;
	void (*update)(ah_model *m, double y);
	/* point[h]; qout[h*nq] (may be NULL when nq == 0). */
	void (*forecast)(const ah_model *m, size_t h, const double *q, size_t nq, double *point,
			 double *qout);
	void (*free)(ah_model *m);
} ah_model_ops;

struct ah_model {
	const ah_model_ops *ops;
	double err_var; /* exponentially weighted one-step squared error */
	size_t nobs;    /* non-missing observations seen */
};

void ah_model_update(ah_model *m, double y);
/* Returns 0, or AH_EINVAL (h == 0, quantile outside (0,1), NULL outputs). */
int ah_model_forecast(const ah_model *m, size_t h, const double *q, size_t nq, double *point,
		      double *qout);
const char *ah_model_name(const ah_model *m);
void ah_model_free(ah_model *m); /* NULL-safe */

/* Seasonal naive: y(t+h) = y(t+h-k*period); period 1 is the naive forecast. */
ah_model *ah_model_snaive_new(size_t period);

/* Additive Holt-Winters / ETS(A,Ad,A) with level, optional (damped) trend and
 * optional season. period <= 1 means no season. Parameters in [0,1]; phi in
 * (0,1] (1 = undamped). Initial state comes from the first init_cycles*period values
 * (2 values without season). */
typedef struct {
	size_t period;
	double alpha, beta, gamma, phi;
	bool trend, seasonal;
	size_t init_cycles; /* seasons averaged for the initial state (0: 2; at most 16) */
} ah_hw_params;
ah_model *ah_model_hw_new(const ah_hw_params *p, const char *name);

/* Two seasons (model_week.c): the weekly profile of y[0..n) (day and week
 * in steps, week a multiple of the day, n >= 2 weeks; y[i] sits at weekly
 * position (phase + i) % week): detrended, daily profile removed, averaged
 * per weekly position, smoothed, centred per daily position. prof[week]. */
int ah_week_profile(const double *y, size_t n, size_t day, size_t week, size_t phase, double *prof);
/* Holt-Winters p (its season the day) on y - prof, prof added back; the
 * first observation fed is at weekly position phase. */
ah_model *ah_model_hw_week_new(const ah_hw_params *p, size_t week, size_t phase, const double *prof);

/* Mean reversion (model_ar.c): forecast mu + phi^h (y_last - mu), mu the
 * exponentially weighted mean and phi the EW lag-1 autocorrelation over
 * about `memory` steps (>= 2). Nothing to fit. */
ah_model *ah_model_ar1_new(double memory);

/* Exponentially weighted level (+ trend when beta > 0): a fixed-parameter
 * Holt model, the cheap baseline. */
ah_model *ah_model_ewma_new(double alpha, double beta);

/* Fits alpha/beta/gamma/phi by minimising the one-step SSE over y (NaN
 * skipped) with Nelder-Mead on logistic-transformed parameters. p->period,
 * p->trend, p->seasonal select the form; damped chooses a free phi in
 * [0.8, 1] (else phi = 1). Writes *p on success; returns the SSE per
 * point via sse_out (may be NULL). Needs n >= 2*period + 2. */
int ah_hw_fit(const double *y, size_t n, bool damped, ah_hw_params *p, double *sse_out);

/* Season lengths (season.c): candidates from the calendar (hour, day, week
 * at step_s seconds per step) confirmed by the autocorrelation of the
 * detrended series (ACF >= 0.2 at the lag and >= 0.1 above its lowest value
 * between 1/4 and 3/4 of the lag) and moved to a neighbour within 2% only
 * when that one correlates clearly better; the day comes first, the week
 * is added beside it only when it correlates clearly better than the day
 * (weekdays differ from weekends). Without a calendar season (or with
 * step_s 0: unknown) the first clear ACF peak up to max_lag, snapped to a
 * day at a common step when close. Looks at the last 16384 values; a
 * season needs two cycles. n may be small (then no season). */
#define AH_MAX_SEASONS 2
typedef struct {
	size_t n;                      /* seasons found, primary first */
	size_t period[AH_MAX_SEASONS]; /* in steps */
	double acf[AH_MAX_SEASONS];    /* autocorrelation at each */
} ah_seasons;
int ah_seasons_find(const double *y, size_t n, double step_s, size_t max_lag, ah_seasons *out);
/* The primary season with the step unknown (0 when none). */
size_t ah_season_detect(const double *y, size_t n, size_t max_lag);

/* Nelder-Mead simplex minimiser (unconstrained). x[dim] is the start and the
 * result; step is the initial simplex size. Returns evaluations used. */
typedef double (*ah_nm_fn)(const double *x, void *ctx);
size_t ah_nm_minimize(ah_nm_fn f, void *ctx, double *x, size_t dim, double step, size_t max_evals,
		      double tol, double *fmin);

/* Decaying histogram, as in the Kubernetes VPA recommender: bucket i starts
 * at first*(ratio^i - 1)/(ratio - 1) (ratio 1.05: buckets grow 5%), each
 * sample's weight doubles every half_life samples (so old ones fade), and
 * ah_vpa_percentile returns the end of the bucket where the cumulative weight
 * reaches p of the total (VPA's rule). Values <= 0 land in bucket 0. */
typedef struct ah_vpa_hist ah_vpa_hist;
ah_vpa_hist *ah_vpa_new(double first_bucket, double max_value, double ratio, double half_life);
void ah_vpa_add(ah_vpa_hist *h, double v, double weight);
double ah_vpa_percentile(const ah_vpa_hist *h, double p); /* 0 when empty */
double ah_vpa_bucket_start(const ah_vpa_hist *h, size_t i);
size_t ah_vpa_buckets(const ah_vpa_hist *h);
void ah_vpa_free(ah_vpa_hist *h);
/* The histogram as a model: every step adds y (weight 1, decayed); the
 * forecast for every horizon is the histogram's median and percentiles. */
ah_model *ah_model_vpa_new(double first_bucket, double max_value, double half_life);

/* Standard normal quantile (Acklam's approximation, |error| < 1.2e-9). */
double ah_norm_quantile(double p);

#ifdef __cplusplus
}
#endif
#endif
