/* ahead: the JSON shape scripts read, built once for every front end (the
 * CLI's -o json and, later, the daemon's API), so the two never drift. */
#ifndef AHEAD_ENCODE_H
#define AHEAD_ENCODE_H

#include <jansson.h>

#include "ahead/engine.h"
#include "ahead/policy.h"
#include "ahead/predictor_shadow.h"
#include "ahead/service.h"

#ifdef __cplusplus
extern "C" {
#endif

/* RFC 3339 UTC with milliseconds ("2026-11-23T14:30:00.123Z"); "-" for a
 * negative time. */
void ah_fmt_time(int64_t ns, char *buf, size_t len);

/* An admission decision: outcome, id, resources, lease or queue position,
 * reason and message, corrections, and what the prediction rested on
 * (info may be NULL). A new reference, or NULL when out of memory. */
json_t *ah_json_decision(const ah_policy *pol, const ah_decision *d, const char *workload,
			 const ah_shadow_prediction_info *info);

/* A renew: id, status "renewed", lease_expires, lease_ttl_ns, capped (and
 * when capped, capped_by "max_lease_ttl", asked_ns and max_lease_ttl_ns). */
json_t *ah_json_renew(uint64_t id, const ah_renew_outcome *ro);

/* Resources as an object of integers in each dimension's base unit (cpu
 * millicores, memory bytes, ...): the dimensions of v other than skip
 * (0 for a reservation, AH_USAGE_NONE for usage). */
json_t *ah_json_vec(const ah_dimset *ds, const ah_vec *v, int64_t skip);

/* `ahead describe`: the allocation, its parameters (the request's apart
 * from ahead's own), reservation, prediction, peak, mean and last usage per
 * dimension, the model now, the lease and the resizes. */
json_t *ah_json_description(const ah_policy *pol, const ah_service_description *d);

/* `ahead recommend`: lower, target and upper per dimension with the model,
 * the history behind it and the measured error. */
json_t *ah_json_recommendation(const ah_policy *pol, const char *workload, const char *klass,
			       const ah_service_recommendation *r);

#ifdef __cplusplus
}
#endif
#endif
