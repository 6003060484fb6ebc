/* ahead: the sizing policies — what a running allocation's next size is,
 * from its usage: static, threshold (Kubernetes HPA's rule), vpa (the
 * Kubernetes VPA recommender), autopilot (Google Autopilot's moving-window
 * recommenders) and ahead (the predictive one). `ahead replay` scores them
 * on traces; production runs them as the engine's sizer
 * (include/ahead/sizing_sizer.h). docs/REPLAY.md has the formulas.
 *
 * A policy keeps one fixed-size state per (workload, dimension), driven per
 * interval: reserve(t) states the reservation of the interval starting at t,
 * observe(t, used, reserved) shows it the usage of that interval once over.
 * State works for any dimension index below the parameters' ndims; what a
 * dimension means to a policy is in its ah_sizing_dim (incompressible or
 * not, histogram range, replica size, ...), whose defaults come from the
 * dimension's name (ah_sizing_dim_default). Per interval the work is O(1)
 * or O(buckets), without allocation. */
#ifndef AHEAD_SIZING_H
#define AHEAD_SIZING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ahead/policy.h"
#include "ahead/resource.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The policies, in the registry's order (the replay's tables follow it). */
typedef enum {
	AH_SIZING_KIND_STATIC = 0,
	AH_SIZING_KIND_THRESHOLD = 1,
	AH_SIZING_KIND_VPA = 2,
	AH_SIZING_KIND_AUTOPILOT = 3,
	AH_SIZING_KIND_AHEAD = 4,
	AH_SIZING_KIND_COUNT = 5
} ah_sizing_kind;

/* What one dimension means to the policies. */
typedef struct {
	char name[AH_NAME_MAX];  /* the dimension's name (informative) */
	/* Using more than the reservation fails (memory: an OOM kill) rather
	 * than slows down (cpu: throttling): vpa and autopilot then size from
	 * peaks, and autopilot's reservation is also a hard limit. */
	bool incompressible;
	/* ahead */
	double quantile;         /* target quantile of next-interval usage */
	double violation_cost;   /* one violation's worth in idle base units x intervals; 0 = pure quantile */
	double score_share;      /* score scale b: this share of the provisioned size ... */
	double score_default;    /* ... or this many base units without one */
	/* ahead's resize economy: a grow is made at once; a shrink only when
	 * the new level is more than shrink_hysteresis below the reservation,
	 * at least min_dwell_s after the last resize, and (resizes_per_day >
	 * 0) while the resize budget (a bucket refilled at resizes_per_day,
	 * holding as many, every resize taking one) has a resize left. With a
	 * dwell the shrink goes to the highest target of the last dwell
	 * (hourly peaks), not to the latest one. Defaults 0.10, 0, 0. */
	double shrink_hysteresis;
	int64_t min_dwell_s;
	double resizes_per_day;
	/* ahead's two levels: the hard level (memory.max: crossing it kills
	 * the work) is max(reservation, the last 48 h's peak usage) x (1 +
	 * hard_margin); the reservation is the soft level (memory.high). < 0:
	 * one level (the reservation is both). memory 0.25, others -1. */
	double hard_margin;
	/* ahead's peak cap: the target is at most the last 48 h's peak usage
	 * x (1 + peak_cap), never below the point forecast: coverage of a
	 * jump beyond anything seen in two days is not held all the time.
	 * < 0: no cap (default) */
	double peak_cap;
	/* ahead's cold start: hold at least the requested (provisioned) size
	 * for this long after a workload's first sample, until the forecast
	 * has earned trust; 0 = off (default) */
	int64_t cold_hold_s;
	/* threshold */
	int64_t quantum;         /* one replica's size, base units */
	/* vpa, autopilot: exponential histograms over value / hist_unit */
	double hist_unit;        /* base units per histogram unit (cpu: 1000, cores) */
	double hist_first;       /* first bucket's width, histogram units */
	double hist_max;         /* largest value bucketed, histogram units */
	int64_t floor;           /* vpa: smallest recommendation, base units */
} ah_sizing_dim;

typedef struct {
	int64_t step_s;          /* length of one interval (the report interval); 300 */
	/* threshold (Kubernetes HPA rule applied to the reservation) */
	double hpa_target;       /* target utilisation; 0.7 */
	double hpa_tolerance;    /* 0.1 */
	int64_t hpa_window_s;    /* scale-down stabilisation window; 300 */
	int64_t hpa_sync_s;      /* HPA sync period; 15 */
	/* autopilot */
	double autopilot_pct;            /* compressible: percentile of the decayed histogram; 0.95 */
	int64_t autopilot_half_life_s;   /* compressible: its half-life; 12 h */
	int64_t autopilot_peak_window_s; /* incompressible: hourly peaks considered; 48 h */
	double autopilot_margin;         /* fraction added to the limit; 0 */
	/* vpa (recommender flags and updater constants, docs/REPLAY.md) */
	double vpa_target_pct;           /* --target-cpu/memory-percentile; 0.9 */
	double vpa_lower_pct;            /* --recommendation-lower-bound-*-percentile; 0.5 */
	double vpa_upper_pct;            /* --recommendation-upper-bound-*-percentile; 0.95 */
	double vpa_margin;               /* --recommendation-margin-fraction; 0.15 */
	int64_t vpa_cpu_half_life_s;     /* --cpu-histogram-decay-half-life; 24 h */
	int64_t vpa_mem_half_life_s;     /* --memory-histogram-decay-half-life; 24 h */
	int64_t vpa_mem_interval_s;      /* --memory-aggregation-interval; 24 h */
	double vpa_update_threshold;     /* updater: least summed relative difference; 0.10 */
	int64_t vpa_lifetime_s;          /* updater: pod age before in-range updates; 12 h */
	/* per dimension index */
	int ndims;
	ah_sizing_dim dim[AH_MAX_DIMS];
} ah_sizing_params;

/* Defaults for a dimension by name: "cpu" (millicores) and "memory" (bytes)
 * as tuned on the July Bitbrains month (docs/RESULTS.md); "io" (bytes/s)
 * and "net" (bits/s) compressible, with histogram ranges of their units;
 * any other name compressible in plain units (1 .. 10^6), quantile 0.998,
 * no violation cost. */
void ah_sizing_dim_default(const char *name, ah_sizing_dim *out);
/* Defaults for every dimension of dims (NULL = cpu and memory, indices
 * AH_DIM_CPU and AH_DIM_MEMORY, as replay scores them). */
void ah_sizing_params_default(ah_sizing_params *p, const ah_dimset *dims);

/* One policy: a fixed-size state per (workload, dimension). */
typedef struct {
	const char *name;
	size_t state_size;
	/* The policy's reservation is a natural hard limit on incompressible
	 * dimensions (autopilot: Borg enforces the limits it sets). */
	bool limits_incompressible;
	/* dim: index into p->dim (p outlives the state). requested: the size
	 * provisioned at the first sample, or -1 */
	void (*init)(void *st, const ah_sizing_params *p, int dim, int64_t requested);
	/* Reservation for the interval starting at t_s (requested as above). */
	int64_t (*reserve)(void *st, int64_t t_s, int64_t requested);
	/* The usage of the interval that started at t_s, under `reserved`. */
	void (*observe)(void *st, int64_t t_s, int64_t used, int64_t reserved, int64_t requested);
	/* Optional: the hard level (safety net) for the interval of the last
	 * reserve(), at or above the reservation; negative (or NULL): one
	 * level on this dimension, the reservation. */
	int64_t (*limit)(void *st, int64_t t_s);
} ah_sizing_ops;

/* The registry. get: NULL past the kinds; name: "?" past them. */
const ah_sizing_ops *ah_sizing_get(ah_sizing_kind k);
const char *ah_sizing_name(ah_sizing_kind k);
/* A policy by name; AH_EINVAL for any other (including "builtin"). */
int ah_sizing_parse(const char *name, ah_sizing_kind *out);
/* A sizing by name as a policy file's [ahead] sizing names it: a policy's
 * ops, or NULL for "builtin" (the engine's own rule: no sizer). AH_ENOENT
 * for an unknown name. */
int ah_sizing_find(const char *name, const ah_sizing_ops **out);
/* The policy a policy file's sizing selects: AH_ENOENT for
 * AH_SIZING_BUILTIN (no sizer), AH_EINVAL past the known values. */
int ah_sizing_of_policy(ah_sizing s, ah_sizing_kind *out);

#ifdef __cplusplus
}
#endif
#endif
