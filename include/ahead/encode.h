/* ahead: the JSON shape scripts read, built once for every front end (the
 * CLI's -o json and, later, the daemon's API), so the two never drift. */
#ifndef AHEAD_ENCODE_H
#define AHEAD_ENCODE_H

#include <jansson.h>

#include "ahead/engine.h"
#include "ahead/policy.h"
#include "ahead/predictor_shadow.h"

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

#ifdef __cplusplus
}
#endif
#endif
