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
 * (0,1] (1 = undamped). Initial state comes from the first 2*period values
 * (2 values without season). */
typedef struct {
	size_t period;
	double alpha, beta, gamma, phi;
	bool trend, seasonal;
} ah_hw_params;
ah_model *ah_model_hw_new(const ah_hw_params *p, const char *name);

/* Exponentially weighted level (+ trend when beta > 0): a fixed-parameter
 * Holt model, the cheap baseline. */
ah_model *ah_model_ewma_new(double alpha, double beta);

/* Fits alpha/beta/gamma/phi by minimising the one-step SSE over y (NaN
 * skipped) with Nelder-Mead on logistic-transformed parameters. p->period,
 * p->trend, p->seasonal select the form; damped chooses a free phi in
 * [0.8, 1] (else phi = 1). Writes *p on success; returns the SSE per
 * point via sse_out (may be NULL). Needs n >= 2*period + 2. */
int ah_hw_fit(const double *y, size_t n, bool damped, ah_hw_params *p, double *sse_out);

/* Season length from the autocorrelation function: the lag (2..max_lag)
 * whose ACF is a clear local peak (ACF >= 0.25 and at least 0.1 above the
 * trough before it); 0 when there is none. Looks at the last 8192 values. */
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
