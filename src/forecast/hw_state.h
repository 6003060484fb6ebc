/* ahead (internal to src/forecast): what the Holt-Winters model
 * (model_hw.c) and its fit (hw_fit.c) must compute the same way, so that a
 * fit's score is exactly the error of the model it configures. */
#ifndef AHEAD_FORECAST_HW_STATE_H
#define AHEAD_FORECAST_HW_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "ahead/model.h"

/* The parameters ah_model_hw_new accepts. */
bool ah_hw_params_ok(const ah_hw_params *p);

/* Values buffered before the first forecast: init_cycles (at least 2)
 * seasons, or 2 values without a season. */
size_t ah_hw_need(const ah_hw_params *p);

/* The state just before buf[0] from the need buffered values (m the season
 * length, 1 without): level l, trend b, seasonal indices s[m]. */
void ah_hw_init_state(const ah_hw_params *p, const double *buf, size_t m, size_t need, double *l, double *b,
		      double *s);

#endif
