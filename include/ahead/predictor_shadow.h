/* ahead: predictions from the shadow store, and the feedback that feeds it.
 *
 * Closes the loop "prediction → sizing → usage reports → shadow → feedback":
 *
 *   - ah_shadow_predictor is an ah_predictor (engine.h) over an open shadow
 *     store. For a request of workload W with params P at quantile q it
 *     predicts, per dimension of the policy:
 *       1. from W's newest ended request records (params → observed peak):
 *          the request-conditioned model (forecast.h, ah_cond_*) — Huber
 *          regression of log(peak) on log(numeric params) within the group of
 *          categorical params, else that group's, else W's own peaks;
 *       2. else from W's newest usage series points for that dimension: the
 *          conformal (finite-sample) q-quantile of the points' maxima;
 *       3. else nothing (0) for that dimension.
 *     AH_ENOENT when no dimension has anything: the shadow knows nothing of W.
 *     Work is bounded: at most opts.max_requests records and max_samples
 *     points per dimension are read per prediction.
 *
 *   - ah_shadow_alloc_* record an allocation's life as a request record:
 *     begin at grant (params, what was predicted, and the reserved parameter
 *     ahead.alloc=ID mapping the engine's allocation id to the record, since
 *     the engine does not keep workload names), report (appends each usage
 *     sample to the workload's series and raises the record's running peak
 *     and mean), end at release (the record becomes a training example);
 *     sweep closes the records of allocations that ended otherwise.
 *
 * Parameter keys starting with "ahead." are reserved for this bookkeeping:
 * they are never used as prediction features and requests may not use them. */
#ifndef AHEAD_PREDICTOR_SHADOW_H
#define AHEAD_PREDICTOR_SHADOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ahead/engine.h"
#include "ahead/resource.h"
#include "ahead/shadow.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AH_PSH_RESERVED_PREFIX "ahead."
#define AH_PSH_ALLOC_KEY "ahead.alloc"     /* engine allocation id */
#define AH_PSH_REPORTS_KEY "ahead.reports" /* usage reports merged so far */
#define AH_PSH_LOST_KEY "ahead.lost"       /* ended without release (swept) */
/* Request parameters left for the caller once the reserved ones are in. */
#define AH_PSH_MAX_USER_PARAMS (AH_SHADOW_MAX_PARAMS - 3)

typedef struct {
	size_t max_requests; /* newest ended request records read (0: 512) */
	size_t max_samples;  /* newest series points read per dimension (0: 1024) */
	size_t min_samples;  /* series points needed to predict from a series (0: 3) */
} ah_shadow_predictor_opts;

typedef enum {
	AH_PSH_NONE = 0,       /* nothing known for this dimension */
	AH_PSH_REGRESSION = 1, /* request records: regression on numeric params */
	AH_PSH_GROUP = 2,      /* request records of the same categorical group */
	AH_PSH_WORKLOAD = 3,   /* request records of the whole workload */
	AH_PSH_SERIES = 4      /* usage series: empirical quantile */
} ah_psh_source;

/* What the last prediction was based on, per dimension of its dimset. */
typedef struct {
	double q;
	int n_dims;
	struct {
		ah_psh_source source;
		size_t n;     /* records or points behind it */
		double value; /* the q-quantile, in the dimension's base unit */
	} dim[AH_MAX_DIMS];
} ah_shadow_prediction_info;

typedef struct ah_shadow_predictor ah_shadow_predictor;

/* The store is borrowed and must outlive the predictor. opts may be NULL. */
int ah_shadow_predictor_new(ah_shadow *s, const ah_shadow_predictor_opts *opts, ah_shadow_predictor **out);
void ah_shadow_predictor_free(ah_shadow_predictor *p); /* NULL-safe */

/* Predicts per dimension of dims the q-quantile (0 < q < 1) of the usage of
 * a request of workload with params ("k=v,..."; NULL = none). out->v[i] is
 * the value rounded up, 0 where nothing is known. info may be NULL.
 * AH_ENOENT: nothing known of the workload; AH_EINVAL: bad arguments or
 * params (see ah_shadow_params_check); storage errors as AH_E*. */
int ah_shadow_predictor_predict(ah_shadow_predictor *p, const char *workload, const char *params, double q,
				const ah_dimset *dims, ah_vec *out, ah_shadow_prediction_info *info);
/* The engine's view of it (ctx = p). */
void ah_shadow_predictor_bind(ah_shadow_predictor *p, ah_predictor *out);
/* Info of the last successful prediction; AH_ENOENT if there was none. */
int ah_shadow_predictor_last(const ah_shadow_predictor *p, ah_shadow_prediction_info *out);
const char *ah_psh_source_name(ah_psh_source s);

/* Checks request params for the whole loop: the shadow store's rules
 * (ah_shadow_params_parse), values non-empty without '=', ';' or '|' (the
 * conditioned model's), no reserved "ahead." key, at most
 * AH_PSH_MAX_USER_PARAMS. err names the item. */
int ah_shadow_params_check(const char *params, char *err, size_t errlen);

/* Feedback loop: one request record per allocation (see above). */
/* Records a granted (or queued) allocation: params as checked above;
 * predicted (may be NULL) gives the per-dimension predictions (0 = none). */
int ah_shadow_alloc_begin(ah_shadow *s, uint64_t alloc_id, const char *workload, const char *params,
			  int64_t start_ns, const ah_dimset *dims, const ah_vec *predicted, int64_t *out_req_id);
/* The open record of an allocation (the newest, should a recreated ledger
 * have reused the id). AH_ENOENT when there is none. */
int ah_shadow_alloc_find(ah_shadow *s, uint64_t alloc_id, ah_shadow_request *out);
/* Merges a usage report: for each dimension i with bit i of present_mask
 * set, appends (t_ns, usage->v[i]) to the series (workload, dims->name[i])
 * and raises the record's peak / updates its mean. One transaction.
 * Writes the workload's name to out_workload (AH_SHADOW_WORKLOAD_MAX bytes;
 * may be NULL). AH_ENOENT when the allocation has no open record. */
int ah_shadow_alloc_report(ah_shadow *s, uint64_t alloc_id, int64_t t_ns, const ah_dimset *dims,
			   const ah_vec *usage, uint32_t present_mask, char *out_workload);
/* Ends the allocation's record at end_ns (clamped to its start); its
 * observed peaks and means are what the reports raised. AH_ENOENT when the
 * allocation has no open record. */
int ah_shadow_alloc_end(ah_shadow *s, uint64_t alloc_id, int64_t end_ns);
/* Closes the open records of allocations that ended without a release
 * (lease expired, preempted, queue timeout): live(ctx, alloc_id) says
 * whether the engine still holds the allocation. A closed one ends at end_ns
 * (at least its start) and is marked ahead.lost=1: its peak may be partial,
 * so it is never a training example, but retention can now delete it. At
 * most max open records (0: 1000) are examined, oldest first, in one
 * transaction; out_closed (may be NULL) gets how many were closed. */
int ah_shadow_alloc_sweep(ah_shadow *s, int64_t end_ns, bool (*live)(void *ctx, uint64_t alloc_id), void *ctx,
			  size_t max, size_t *out_closed);

#ifdef __cplusplus
}
#endif
#endif
