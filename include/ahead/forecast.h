/* ahead: forecasting a series end to end, and predicting a request's usage.
 *
 * ah_forecaster: given a history, it builds the candidate models (naive,
 * seasonal naive, EW level, Holt damped, Holt-Winters on the season found
 * from the calendar and the autocorrelation, Holt-Winters with a weekly
 * profile when the week adds to the day, the VPA histogram, a blend), scores
 * each by rolling-origin evaluation on the last 20% of the history (MASE per
 * horizon for points, pinball loss and interval coverage for quantiles),
 * keeps the best per horizon band (so h = 1 is never traded for h = 48),
 * and from then on:
 *  - ah_forecaster_update(y) feeds each new outcome: the model learns, every
 *    earlier forecast that targeted this step is compared with it, and its
 *    residual enters that horizon's sliding window;
 *  - ah_forecaster_forecast returns points and quantiles; quantile q at
 *    horizon h is point + the conformal q'-quantile of the last `window`
 *    h-step residuals, where q' = q + an adaptive-conformal correction per
 *    horizon (Gibbs & Candes 2021: q' moves by gamma (q - 1{y <= Q}) at each
 *    outcome), so coverage holds per horizon and recovers after level shifts.
 * The choice, its measured error and the running coverage are inspectable
 * (ah_forecaster_choice, ah_forecaster_stats). */
#ifndef AHEAD_FORECAST_H
#define AHEAD_FORECAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ahead/limits.h"
#include "ahead/model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AH_FC_MAX_HORIZON 1000 /* pending forecasts cost H*H doubles per candidate */
#define AH_FC_MAX_CANDIDATES 16
#define AH_FC_MAX_QUANTILES 64 /* levels per forecast call */
#define AH_FC_MAX_BANDS 6      /* horizon bands: 1, 2-6, 7-24, 25-48, 49-168, 169-H */

typedef struct {
	size_t horizon;      /* largest horizon to calibrate (>= 1) */
	double step_s;       /* seconds per step (0: unknown): calendar seasons */
	size_t season;       /* 0: detect; 1: none; else the season length */
	size_t max_season;   /* largest season searched (0: 1000) */
	size_t window;       /* conformal residuals per horizon (0: 500) */
	size_t eval_points;  /* rolling-origin span (0: n/5 clamped to [100, 3000]) */
	const char *model;   /* force a candidate by name (NULL: best by MASE) */
} ah_fc_opts;

typedef struct {
	char name[32];
	double mase;     /* mean over horizons 1..H of MAE_h / scale */
	double smape;    /* percent, mean over horizons */
	double pinball;  /* mean pinball loss / scale at levels .025 .1 .5 .9 .975 */
	double cover80;  /* fraction of outcomes inside the conformal 80% interval */
	double cover95;
} ah_fc_score;

/* One horizon band and the candidate that forecasts it: the lowest mean
 * MAE over the band's horizons on the evaluation span (the overall best
 * candidate keeps the band when within 1% of that). */
typedef struct {
	size_t h_lo, h_hi;     /* horizons, inclusive */
	char model[32];
	double mase;           /* its mean MASE over the band */
} ah_fc_band;

typedef struct {
	char model[32];        /* the candidate forecasting the most horizons */
	size_t season;         /* season length used (1: none) */
	size_t season2;        /* a second (weekly) season beside it (0: none) */
	size_t nbands;
	ah_fc_band band[AH_FC_MAX_BANDS];
	double scale;          /* MASE scale: mean |y(t) - y(t-1)| of the history */
	size_t eval_points;    /* origins scored */
	ah_fc_score chosen;    /* its scores */
	size_t ncand;
	ah_fc_score cand[AH_FC_MAX_CANDIDATES];
	ah_hw_params hw;       /* fitted Holt-Winters parameters */
} ah_fc_choice;

typedef struct {
	size_t outcomes;       /* outcomes scored since the fit */
	double mase;           /* of the points, mean over horizons */
	double cover80, cover95; /* running interval coverage (fractions) */
	size_t covered_n;      /* interval checks behind cover80/95 */
} ah_fc_stats;

typedef struct ah_forecaster ah_forecaster;

/* Fits on y[0..n) (NaN = missing). Needs at least 8 non-missing values.
 * Returns 0 or AH_EINVAL / AH_ENOMEM / AH_ENOENT (opts->model unknown). */
int ah_forecaster_new(const ah_fc_opts *opts, const double *y, size_t n, ah_forecaster **out);
void ah_forecaster_update(ah_forecaster *f, double y);
/* h <= opts.horizon; point[h], qout[h*nq] (qout[i*nq+j]: step i+1, level q[j]). */
int ah_forecaster_forecast(ah_forecaster *f, size_t h, const double *q, size_t nq, double *point,
			   double *qout);
int ah_forecaster_choice(const ah_forecaster *f, ah_fc_choice *out);
int ah_forecaster_stats(const ah_forecaster *f, ah_fc_stats *out);
void ah_forecaster_free(ah_forecaster *f);

/* Pinball (quantile) loss of prediction p for outcome y at level q. */
double ah_pinball(double y, double p, double q);

/* ---- request-conditioned usage model ----
 * Observations are (params, usage) with params "k=v,k2=v2". A parameter
 * whose value parses as a number > 0 is numeric and enters a robust (Huber,
 * IRLS) regression of log(usage) on log(value); any other value is
 * categorical and, with the other categorical pairs, selects the group.
 * Prediction: the group's regression (>= min_obs observations) with the
 * quantiles of its log-residuals; else the group's own history; else the
 * whole workload's history (fallback, flagged in the result). */
#define AH_COND_MAX_NUMERIC 8
#define AH_COND_MAX_PARAMS AH_PARAMS_MAX /* bytes of one params string (limits.h) */

typedef struct ah_cond_model ah_cond_model;

typedef struct {
	size_t min_obs;      /* per group before regression is used (0: 8) */
	size_t max_per_group;/* kept per group, oldest dropped (0: 2048) */
	size_t max_groups;   /* hard cap (0: 10000) */
} ah_cond_opts;

typedef enum { AH_COND_REGRESSION = 0, AH_COND_GROUP = 1, AH_COND_WORKLOAD = 2 } ah_cond_source;

typedef struct {
	ah_cond_source source;
	size_t n;                     /* observations behind the prediction */
	size_t nfeat;
	double coef[AH_COND_MAX_NUMERIC + 1]; /* intercept, then one per numeric param */
} ah_cond_info;

int ah_cond_new(const ah_cond_opts *opts, ah_cond_model **out);
/* AH_EINVAL for malformed params or usage <= 0 / not finite; AH_ETOOBIG at caps. */
int ah_cond_observe(ah_cond_model *m, const char *params, double usage);
/* point = median prediction; qout[nq]; info may be NULL. AH_ENOENT: no data. */
int ah_cond_predict(ah_cond_model *m, const char *params, const double *q, size_t nq, double *point,
		    double *qout, ah_cond_info *info);
void ah_cond_free(ah_cond_model *m);

#ifdef __cplusplus
}
#endif
#endif
