/* ahead: predictive pool shaping — choosing a pool's size ahead of demand.
 *
 * Cost model (per dimension, in the policy's units, over a horizon of H
 * steps of step_ns each):
 *   cost(S) = sum_h [ capacity_cost * S(h) * dt
 *                     + sum_c shortfall_cost[c] * E[shortfall_c(h, S(h))] * dt ]
 *             + create_cost * max(S - current, 0)
 * where S(h) is the current size for steps before the lead time (new
 * capacity is not there yet) and S after it; dt is the step in hours.
 * Demand per class comes as quantile forecasts; scenarios are drawn at
 * common quantile levels (comonotonic: a busy hour is busy for every class)
 * and classes are served in priority order, so a shortfall falls on the
 * lowest classes first. The size minimising expected cost over
 * [min, max] in steps of `step` wins; a scale-down is held back until
 * `stabilise_ns` has passed since the last scale-up (no flapping).
 * Pure arithmetic: no clock, no I/O. */
#ifndef AHEAD_SHAPER_H
#define AHEAD_SHAPER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AH_SHAPER_MAX_CLASSES 16
#define AH_SHAPER_MAX_QUANTILES 64
#define AH_SHAPER_MAX_STEPS 4096

typedef struct {
	double capacity_cost;      /* per unit of size per hour */
	double create_cost;        /* per unit of size added */
	int64_t lead_time_ns;      /* added capacity arrives after this */
	int64_t min_size, max_size, step;
	int64_t stabilise_ns;      /* hold scale-downs this long after a scale-up */
	int n_classes;             /* classes in priority order, highest first */
	double shortfall_cost[AH_SHAPER_MAX_CLASSES]; /* per unit short per hour */
} ah_shaper_cfg;

typedef struct {
	int horizon;               /* H steps */
	int64_t step_ns;
	int nq;                    /* quantile levels */
	const double *levels;      /* [nq], increasing in (0,1) */
	/* demand[(h * n_classes + c) * nq + q]: class c's demand quantile
	 * `levels[q]` at step h, non-decreasing in q */
	const double *demand;
} ah_shaper_forecast;

typedef struct {
	int64_t size;              /* chosen size */
	double cost;               /* its expected cost over the horizon */
	double cost_current;       /* expected cost of keeping the current size */
	double expected_shortfall; /* unit-hours short at the chosen size */
	int held;                  /* 1 if a scale-down was held by stabilisation */
} ah_shaper_decision;

/* Expected cost of holding size `size` (after the lead time) from current. */
double ah_shaper_cost(const ah_shaper_cfg *cfg, const ah_shaper_forecast *fc, int64_t current, int64_t size,
		      double *out_shortfall_unit_hours);

int ah_shaper_decide(const ah_shaper_cfg *cfg, const ah_shaper_forecast *fc, int64_t current,
		     int64_t last_scale_up_ns, int64_t now_ns, ah_shaper_decision *out);

/* Rebalancing between pools that share a parent: moves whole steps from
 * idle pools (use below `idle_util` of capacity, above their minimum) to
 * starved ones (queued demand, or use above `busy_util`), within bounds. */
typedef struct {
	int64_t capacity, used, queued, min_size, max_size, step;
	int parent;                /* pools with the same parent (>= 0) may trade */
} ah_rebalance_pool;

typedef struct {
	int from, to;
	int64_t amount;
} ah_rebalance_move;

/* Writes at most max_moves moves; returns how many (or a negative error). */
int ah_rebalance_plan(const ah_rebalance_pool *pools, int n, double idle_util, double busy_util,
		      ah_rebalance_move *moves, int max_moves);

#ifdef __cplusplus
}
#endif
#endif
