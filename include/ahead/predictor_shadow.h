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
 * The feedback that feeds it — one request record per allocation, and the
 * request params check — is the store's (include/ahead/shadow_alloc.h).
 *
 * Parameter keys starting with "ahead." are reserved for that bookkeeping:
 * they are never used as prediction features. */
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

#ifdef __cplusplus
}
#endif
#endif
