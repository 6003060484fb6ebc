/* ahead: the scaling loop — predictive pool shaping over time.
 *
 * One ah_scaler per policy. Each step the caller:
 *   1. observes every pool: what it holds (used) and what waits (queued),
 *      optionally split by class (ah_scaler_observe);
 *   2. asks for decisions (ah_scaler_step): for each shaped pool and each
 *      dimension it may scale, the scaler forecasts demand quantiles over a
 *      horizon (seasonal naive + empirical residual quantiles, see
 *      docs/SCALING.md), hands them to ah_shaper_decide with the pool's
 *      cost model, and plans moves between sibling pools (same `parent`)
 *      with ah_rebalance_plan;
 *   3. applies what is due (ah_scaler_due) with ah_engine_set_capacity and
 *      reports it back (ah_scaler_applied);
 *   4. accounts the interval's cost (ah_scaler_account).
 * Core code: no clock (time is passed in), no I/O, no printing. Memory is
 * fixed at ah_scaler_new: the demand history is a ring per shaped pool. */
#ifndef AHEAD_SCALER_H
#define AHEAD_SCALER_H

#include <stddef.h>
#include <stdint.h>

#include "ahead/policy.h"
#include "ahead/resource.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AH_SCALER_MAX_HISTORY 16128 /* 8 weeks of 5-minute steps */
#define AH_SCALER_MAX_PENDING 256   /* actions decided but not yet due */

/* A second forecaster of a shaped pool's demand, from outside core (the
 * service passes the forecasting layer's: src/service/scale_forecast.c).
 * hist[0..n) is the demand of one pool, dimension and class per step,
 * oldest first, hist[n - 1] at absolute step last_step (NaN: no
 * observation). Writes out[horizon][nq]: the quantiles at levels[] of the
 * steps origin + first_ahead .. origin + first_ahead + horizon - 1, as
 * forecast at origin (<= last_step). The answer must depend only on the
 * values at steps <= origin (not on what was asked before), so that a
 * process started later decides as a long-lived one. Returns 0 or an AH_E*
 * code (the scaler then uses its own forecast). */
typedef int (*ah_scaler_forecast_fn)(void *ctx, int pool, int dim, int klass, const double *hist, size_t n,
				     int64_t last_step, int64_t origin, int64_t step_ns, int first_ahead, int horizon,
				     const double *levels, int nq, double *out);

/* How the scaler's own forecast and the provider's combine. */
typedef enum {
	AH_SCALER_FC_OWN = 0, /* the scaler's own only */
	AH_SCALER_FC_LAYER,   /* the provider's (the own where it fails) */
	AH_SCALER_FC_MAX,     /* per quantile the larger of the two */
	AH_SCALER_FC_BEST,    /* per pool, dimension and class, each day the one whose forecasts
			       * at the lead time had the lower mean pinball loss the day before */
} ah_scaler_fc_mode;

typedef struct {
	int64_t step_ns;          /* observation slot and forecast step; 5 min */
	int history_steps;        /* ring length per shaped pool; 4032 (2 weeks) */
	int64_t season_ns;        /* seasonal lag of the naive forecast; 1 day */
	int64_t horizon_ns;       /* planned ahead beyond the lead time; 1 h */
	int residual_steps;       /* residuals used for quantiles; 864 (3 days) */
	int min_residuals;        /* fewer: fall back to the recent peak; 12 */
	int64_t peak_window_ns;   /* the fallback's window; 1 h */
	double idle_util;         /* rebalancing: donor's use below this share; 0.5 */
	double busy_util;         /* rebalancing: receiver's use above this, or a queue; 0.9 */
	int max_candidates;       /* sizes tried per decision (step coarsened beyond); 512 */
	ah_scaler_forecast_fn forecast_fn; /* a second forecaster; NULL: none */
	void *forecast_ctx;
	ah_scaler_fc_mode fc_mode; /* with forecast_fn; AH_SCALER_FC_OWN */
} ah_scaler_cfg;

void ah_scaler_cfg_init(ah_scaler_cfg *c);

typedef enum { AH_SCALE_KIND_SCALE = 0, AH_SCALE_KIND_REBALANCE = 1 } ah_scale_kind;

typedef struct {
	int pool, dim;            /* indices into the policy */
	int64_t from, to;         /* capacity in base units before and after */
	int64_t decided_ns;
	int64_t ready_ns;         /* decided + lead time (scale-ups); decided otherwise */
	ah_scale_kind kind;
	int peer;                 /* rebalance: the pool on the other side; else -1 */
	double expected_cost;     /* shaper's expected cost at `to` over the horizon */
	double keep_cost;         /* ... and at `from` (rebalance: 0) */
	/* A pool on nodes (scale_loop.h): the loop turns its dimensions'
	 * actions into one in whole nodes; from/to above stay the capacity of
	 * the dimension that asked most, these count nodes. */
	bool on_nodes;
	int nodes_from, nodes_to;
	char node[64];            /* a scale-down: the (empty, cordoned) node removed */
} ah_scale_action;

/* Costs integrated by ah_scaler_account / ah_scaler_applied, in the
 * policy's currency. */
typedef struct {
	double capacity;          /* capacity x capacity_cost x hours */
	double create;            /* units added by scale actions x create_cost */
	double shortfall;         /* demand above capacity x class shortfall_cost x hours */
	double total;
	uint64_t n_scale, n_rebalance; /* applied actions */
} ah_scaler_costs;

typedef struct ah_scaler ah_scaler;

/* The policy is copied. cfg NULL = defaults. AH_EINVAL on a bad cfg. */
int ah_scaler_new(const ah_policy *policy, const ah_scaler_cfg *cfg, ah_scaler **out);
void ah_scaler_free(ah_scaler *sc);

/* Records a pool's demand at now_ns: used (reserved) and queued. class_demand,
 * when not NULL, is the same demand split by policy class index
 * ([policy->n_classes]); NULL counts it all to the default class. Several
 * observations in one step keep the largest (capacity is for peaks).
 * Observations older than the history are ignored. */
int ah_scaler_observe(ah_scaler *sc, int pool, const ah_vec *used, const ah_vec *queued,
		      const ah_vec *class_demand, int64_t now_ns);

/* Decides at now_ns from the pools' current capacities ([n_pools], e.g. from
 * ah_engine_pool_get). Writes at most max actions and their count to *n.
 * New actions are also kept as pending until ah_scaler_due returns them; a
 * pool and dimension with an action pending gets no new one. Sizes stay
 * within [min, max] of the policy, in scale steps. */
int ah_scaler_step(ah_scaler *sc, int64_t now_ns, const ah_vec *capacity, ah_scale_action *actions,
		   int max, int *n);

/* Pops the pending actions with ready_ns <= now_ns (oldest first). */
int ah_scaler_due(ah_scaler *sc, int64_t now_ns, ah_scale_action *actions, int max, int *n);

/* The caller applied an action (capacity changed): counts it and charges
 * creation cost for units a scale-up added (rebalancing creates nothing). */
int ah_scaler_applied(ah_scaler *sc, const ah_scale_action *a);

/* Stabilisation state kept outside the process (the CLI reads it from the
 * ledger): the last time this pool's dimension scaled up. */
int ah_scaler_set_last_scale_up(ah_scaler *sc, int pool, int dim, int64_t t_ns);

/* Charges a pool for dt_ns at `capacity` with demand per class
 * (class_demand[policy->n_classes], or NULL with `demand` counted to the
 * default class): classes are served in priority order, what does not fit
 * is shortfall. */
int ah_scaler_account(ah_scaler *sc, int pool, const ah_vec *capacity, const ah_vec *demand,
		      const ah_vec *class_demand, int64_t dt_ns);

/* Costs of one pool, or of all with pool = -1. */
int ah_scaler_costs_get(const ah_scaler *sc, int pool, ah_scaler_costs *out);

/* Bytes the scaler holds (fixed after ah_scaler_new). */
size_t ah_scaler_memory_bytes(const ah_scaler *sc);

#ifdef __cplusplus
}
#endif
#endif
