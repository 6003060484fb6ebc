/* The forecasting layer as the pool scaler's second forecaster (internal to
 * the service; the scale loop owns one when its scaler's fc_mode asks). */
#ifndef AHEAD_SERVICE_SCALE_FORECAST_H
#define AHEAD_SERVICE_SCALE_FORECAST_H

#include <stddef.h>
#include <stdint.h>

typedef struct ah_scale_forecast ah_scale_forecast;

int ah_scale_forecast_new(ah_scale_forecast **out);
void ah_scale_forecast_free(ah_scale_forecast *f);
/* An ah_scaler_forecast_fn (include/ahead/scaler.h); ctx is an ah_scale_forecast. */
int ah_scale_forecast_fn(void *ctx, int pool, int dim, int klass, const double *hist, size_t n, int64_t last_step,
			 int64_t origin, int64_t step_ns, int first_ahead, int horizon, const double *levels, int nq,
			 double *out);

#endif
