/* ahead: trace replay in virtual time, scoring allocation policies.
 *
 * For each (workload, dimension) the replay asks every policy for the
 * reservation of the next interval (reserve), then shows it the usage that
 * really happened (observe). Metrics per policy and dimension:
 *   slack      sum(max(0, reserved - used)) / sum(used)   (idle capacity)
 *   violation  share of workload-intervals with used > reserved
 *   shortfall  sum(max(0, used - reserved)) / sum(used), and the worst ones
 *   resizes    reservation changes (after the first interval), and per
 *              workload-hour (resizes / (intervals x step_s / 3600))
 *   cost       reserved unit-hours x price (cpu core-hours, memory GiB-hours)
 *              + resizes x resize_cost (each resize paid for)
 *   kill       share of workload-intervals with used > the hard level: a
 *              two-level policy (ops->limit: memory.max over memory.high)
 *              states it, for any other the reservation is both levels;
 *              slack is counted against the reservation (the soft level),
 *              hard_commit = sum of hard levels / sum of reservations
 * One workload-interval is one trace sample; it lasts params.step_s.
 *
 * The replay drives the allocation engine (src/core/engine.c), one engine
 * per policy, in virtual time — the same engine `ahead` runs in wall time:
 * a workload's first sample is a request (sized by the policy), each
 * sample is a usage report whose next size the policy decides through the
 * engine's sizer interface (ah_sizer), and the engine admits it: rounds to
 * the pool's unit, clamps by policy, grows only into free room (the rest
 * waits as a pending grow), queues requests when the pool is full, and
 * reclaims leases of workloads that stop reporting (trace gaps longer than
 * the lease). The reservation scored is the engine's, not the policy's
 * wish. With no policy file the pool is unlimited, so only the sizing
 * policies differ; with one (ah_replay_set_policy) capacity, queueing and
 * quotas take part.
 *
 * The policies are the sizing policies (include/ahead/sizing.h), scored on
 * cpu and memory. Per-interval policy work is O(1) or O(buckets) with no allocation (state
 * is one fixed-size block per workload and dimension, allocated when the
 * workload first appears: under 10 KiB for each baseline, 64 KiB for
 * ahead); it persists across a workload's leases (its history does). */
#ifndef AHEAD_REPLAY_H
#define AHEAD_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "ahead/policy.h"
#include "ahead/sizing.h"
#include "ahead/trace.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AH_REPLAY_DIMS 2 /* AH_DIM_CPU, AH_DIM_MEMORY */
#define AH_REPLAY_WORST 5
#define AH_REPLAY_MAX_WORKLOADS 100000
#define AH_REPLAY_MAX_BINS (1 << 20)

typedef struct {
	/* the policies' parameters (ah_sizing_params_default(.., NULL): cpu
	 * and memory); sizing.step_s is also the interval that cost and the
	 * HPA sync count */
	ah_sizing_params sizing;
	/* cost: price per core-hour and per GiB-hour */
	double price[AH_REPLAY_DIMS];
	/* cost of one resize, per dimension, in the price's currency; 0 */
	double resize_cost[AH_REPLAY_DIMS];
	/* shaped pools: how the scaler's own forecast and the forecasting
	 * layer's combine (scaler.h); the service's default, AH_SCALER_FC_BEST */
	int pool_forecast;
} ah_replay_params;

void ah_replay_params_default(ah_replay_params *p);

typedef struct {
	char workload[AH_NAME_MAX];
	int64_t t_s;
	int64_t used, reserved;
} ah_shortfall;

typedef struct {
	uint64_t intervals, violations, resizes, workloads;
	uint64_t kill_violations; /* used > the hard level */
	double sum_hard;          /* hard levels, summed like sum_reserved */
	double kill_violation_pct;
	double sum_used, sum_reserved, sum_idle, sum_short;
	double slack;          /* sum_idle / sum_used */
	double net_slack;      /* (sum_reserved - sum_used) / sum_used: shortfalls offset idle */
	double violation_pct;  /* 100 * violations / intervals */
	double shortfall;      /* sum_short / sum_used */
	double unit_hours;     /* core-hours or GiB-hours reserved */
	double resizes_per_wl_hour; /* resizes / workload-hours scored */
	double cost_resize;    /* resizes x resize_cost */
	double cost;           /* unit_hours x price + cost_resize */
	/* engine side (the same for both dimensions of a policy) */
	uint64_t requests;     /* requests made: first samples and re-requests */
	uint64_t queued;       /* of which queued (the pool was full) */
	uint64_t refused;      /* of which refused (e.g. larger than the pool) */
	uint64_t timeouts;     /* queued requests that timed out */
	uint64_t expiries;     /* leases reclaimed: the workload stopped reporting */
	uint64_t grow_blocked; /* reports whose grow did not fit at once */
	uint64_t engine_resizes; /* resize events the engine made */
	uint64_t waits;        /* queued requests granted */
	double wait_p50_s, wait_p99_s, wait_max_s; /* queueing delay of those */
	uint64_t queued_intervals; /* workload-intervals spent waiting (reserved 0) */
	/* pool shaping under the policy file's cost model (ah_scaler), per
	 * policy: all pools, all dimensions */
	uint64_t scale_actions, rebalances; /* applied */
	double cost_capacity, cost_create, cost_shortfall, cost_model; /* policy's currency */
	double mean_capacity;  /* this dimension's capacity of the replay pool, mean over steps */
	int nworst;
	ah_shortfall worst[AH_REPLAY_WORST]; /* largest absolute shortfalls */
} ah_replay_metrics;

typedef struct ah_replay ah_replay;

/* dim_mask: bit AH_DIM_CPU and/or AH_DIM_MEMORY (p->sizing must cover
 * both dimensions). bin_s: width of the
 * aggregated chart bins (0 = no series). */
int ah_replay_new(const ah_replay_params *p, const ah_sizing_kind *pols, int npol, unsigned dim_mask,
		  int64_t bin_s, ah_replay **out);
/* Replays under a policy file's pool instead of the built-in unlimited
 * one (copied; before the first sample). Workloads request from `pool`
 * (NULL = the first) in the policy's default class, as `tenant` (NULL =
 * the first tenant the policy lists, or "replay" when it lets unknown
 * tenants in). The pool must have the cpu and memory dimensions.
 * AH_EPOLICY with a message in err when the policy cannot host the replay. */
int ah_replay_set_policy(ah_replay *rp, const ah_policy *pol, const char *pool, const char *tenant, char *err,
			 size_t errlen);
void ah_replay_free(ah_replay *rp);

/* Sees every scored workload-interval: the policy (its index in
 * ah_replay_new's list), dimension, the sample's time and usage, and the
 * reservation scored for it (the engine's). For analyses beyond the
 * replay's own metrics (bench_replay's offline oracle counts each
 * policy's changes per workload-day); hard: the hard level scored (the
 * reservation for a one-level policy). Called from ah_replay_feed. */
typedef void (*ah_replay_tap_fn)(void *ctx, const char *workload, int pol_idx, int dim, int64_t t_s, int64_t used,
				 int64_t reserved, int64_t hard);
/* fn NULL: no tap (the default). */
int ah_replay_set_tap(ah_replay *rp, ah_replay_tap_fn fn, void *ctx);

/* Feeds one sample. AH_EPARSE when a workload's time does not increase
 * (err says which), AH_ETOOBIG past AH_REPLAY_MAX_WORKLOADS or bins. Rows of
 * a dimension not in dim_mask are ignored. */
int ah_replay_feed(ah_replay *rp, const ah_trace_row *row, char *err, size_t errlen);
/* Streams a whole trace; errors are "FILE:LINE: reason". */
int ah_replay_feed_trace(ah_replay *rp, ah_trace *tr, char *err, size_t errlen);
/* Streams merged traces (one clock across files: see ah_trace_merge). */
int ah_replay_feed_merge(ah_replay *rp, ah_trace_merge *mg, char *err, size_t errlen);

int ah_replay_npolicies(const ah_replay *rp);
ah_sizing_kind ah_replay_policy(const ah_replay *rp, int i);
void ah_replay_get_metrics(const ah_replay *rp, int pol_idx, int dim, ah_replay_metrics *out);
uint64_t ah_replay_intervals(const ah_replay *rp); /* samples fed (all dims) */

/* Aggregated series (sum over workloads, mean over each bin): bins from t0,
 * n of them; used[i] and reserved[i] in base units. Borrowed arrays. */
int ah_replay_series(const ah_replay *rp, int pol_idx, int dim, int64_t *t0, int64_t *bin_s, size_t *n,
		     const double **used, const double **reserved);
/* The replay pool's capacity per bin (largest in the bin; 0 where no step
 * fell), when the policy file shapes it; NULL otherwise. */
const double *ah_replay_capacity_series(const ah_replay *rp, int pol_idx, int dim);
/* Does the replay shape pools (a policy file with shaping or costs)? */
int ah_replay_shaping(const ah_replay *rp);

#ifdef __cplusplus
}
#endif
#endif
