/* ahead: the usage history's records and their grammar — what the shadow
 * store keeps (points, series, retention tiers, request records, anomaly
 * events) and the one place that says what a workload, dimension,
 * parameter and time look like. Pure data and checks: the store
 * (shadow.h), the service (history.h) and every front end share them. */
#ifndef AHEAD_USAGE_H
#define AHEAD_USAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ahead/limits.h"
#include "ahead/names.h"
#include "ahead/timestamp.h"
#include "ahead/resource.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AH_NS_PER_S INT64_C(1000000000)

/* Names: names.h; caps: limits.h. */
#define AH_SHADOW_WORKLOAD_MAX AH_WORKLOAD_MAX
#define AH_SHADOW_DIM_MAX AH_NAME_MAX
#define AH_SHADOW_T_MAX AH_TIME_MAX_NS
/* Series granularity bounds: 1 ms .. 1 day. */
#define AH_SHADOW_GRAN_MIN_NS INT64_C(1000000)
#define AH_SHADOW_GRAN_MAX_NS (INT64_C(86400) * AH_NS_PER_S)
#define AH_SHADOW_GRAN_DEFAULT_NS AH_NS_PER_S
/* Retention tiers: at most this many. */
#define AH_SHADOW_MAX_TIERS 8
/* Request records: caps on parameters. */
#define AH_SHADOW_MAX_PARAMS AH_PARAMS_COUNT_MAX
#define AH_SHADOW_PARAM_KEY_MAX AH_PARAM_KEY_MAX
#define AH_SHADOW_PARAM_VALUE_MAX AH_PARAM_VALUE_MAX

/* Parameter keys starting with "ahead." are reserved for ahead's own
 * bookkeeping of allocations (shadow_alloc.h). */
#define AH_SHADOW_RESERVED_PREFIX "ahead."
#define AH_SHADOW_ALLOC_KEY "ahead.alloc"     /* engine allocation id */
#define AH_SHADOW_REPORTS_KEY "ahead.reports" /* usage reports merged so far */
#define AH_SHADOW_LOST_KEY "ahead.lost"       /* ended without release (swept) */
/* Request parameters left for the caller once the reserved ones are in. */
#define AH_SHADOW_MAX_USER_PARAMS (AH_SHADOW_MAX_PARAMS - 3)
/* Bytes of one request's params text (the conditioned model's bound). */
#define AH_SHADOW_PARAMS_TEXT_MAX AH_PARAMS_MAX

/* One stored point: the bucket [t_ns, t_ns + width_ns) with the mean and max
 * of its count samples. */
typedef struct {
	int64_t t_ns;
	int64_t width_ns;
	double mean;
	double max;
	int64_t count;
} ah_shadow_point;

typedef struct {
	int64_t id;
	char workload[AH_SHADOW_WORKLOAD_MAX];
	char dim[AH_SHADOW_DIM_MAX];
	int64_t granularity_ns;
	int64_t points;   /* stored points, all tiers */
	int64_t samples;  /* samples they aggregate (sum of counts) */
	int64_t first_ns; /* start of the earliest point; -1 when empty */
	int64_t last_ns;  /* start of the latest point; -1 when empty */
} ah_shadow_series_info;

/* A retention tier: points at width_ns are kept keep_ns, then rolled into the
 * next tier. Tier 0 must have width_ns == 0 (raw: the series granularity).
 * Widths strictly increase; keep_ns > 0; INT64_MAX keeps forever. */
typedef struct {
	int64_t width_ns;
	int64_t keep_ns;
} ah_shadow_tier;

typedef struct {
	int64_t points_rolled;  /* points moved into a coarser tier */
	int64_t points_deleted; /* points expired from the last tier */
} ah_shadow_compact_stats;

/* Request records. Per-dimension figures are NaN when unknown (stored NULL). */
typedef struct {
	char key[AH_SHADOW_PARAM_KEY_MAX];
	char value[AH_SHADOW_PARAM_VALUE_MAX];
} ah_shadow_param;

/* The name of the model that sized a request (predictor_shadow.h's
 * ah_psh_source_name: "regression", "series", ...): the dimension grammar. */
#define AH_SHADOW_MODEL_MAX AH_NAME_MAX

typedef struct {
	char dim[AH_SHADOW_DIM_MAX];
	double peak;      /* observed */
	double mean;      /* observed */
	double predicted; /* what the prediction said */
	/* The newest usage report of this request for this dimension and its
	 * time: written by reports (ah_shadow_request_observe) only, ignored
	 * by add and end. NaN and -1 when none yet. */
	double last;
	int64_t last_ns;
	/* The model that made `predicted` when the request was sized, and how
	 * much history it saw (records or points): set at add, never changed.
	 * "" and 0 when unknown (a hand-made record, or a store older than
	 * schema 2). */
	char model[AH_SHADOW_MODEL_MAX];
	int64_t model_n;
} ah_shadow_req_dim;

typedef struct {
	int64_t id;
	char workload[AH_SHADOW_WORKLOAD_MAX];
	int64_t start_ns;
	int64_t end_ns; /* -1 while running */
	int n_params;   /* keys unique; listed back sorted by key */
	ah_shadow_param params[AH_SHADOW_MAX_PARAMS];
	int n_dims;     /* dims unique; listed back sorted by dim */
	ah_shadow_req_dim dims[AH_MAX_DIMS];
} ah_shadow_request;

/* Anomaly events (from the detector in anomaly.h), kept per workload and
 * dimension with start, end and peak score. */
typedef struct {
	int64_t id;
	char workload[AH_SHADOW_WORKLOAD_MAX];
	char dim[AH_SHADOW_DIM_MAX];
	int64_t start_ns, end_ns;
	double score;
} ah_shadow_anomaly;

/* Parses "k=v,k2=v2" into params (values may not hold ','); err names the
 * item. */
int ah_shadow_params_parse(const char *s, ah_shadow_param *params, int *out_n, char *err,
			   size_t errlen);
/* Checks request params for the whole loop: the shadow store's rules
 * (ah_shadow_params_parse), values non-empty without '=', ';' or '|' (the
 * conditioned model's), no reserved "ahead." key, at most
 * AH_SHADOW_MAX_USER_PARAMS. err names the item. */
int ah_shadow_params_check(const char *params, char *err, size_t errlen);
/* Is key one of the reserved bookkeeping keys ("ahead.")? */
bool ah_shadow_param_reserved(const char *key);
/* One parameter's value against the conditioned model's rules (above). */
int ah_shadow_param_value_check(const ah_shadow_param *p, char *err, size_t errlen);

/* Times: timestamp.h. */

/* Retention tiers: the defaults, and their rules. */
void ah_shadow_default_tiers(ah_shadow_tier tiers[AH_SHADOW_MAX_TIERS], int *out_n);
int ah_shadow_check_tiers(const ah_shadow_tier *tiers, int n);

#ifdef __cplusplus
}
#endif
#endif
