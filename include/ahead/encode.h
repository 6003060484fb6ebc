/* ahead: the JSON shape scripts read, built once for every front end (the
 * CLI's -o json and, later, the daemon's API), so the two never drift. */
#ifndef AHEAD_ENCODE_H
#define AHEAD_ENCODE_H

#include <jansson.h>

#include "ahead/engine.h"
#include "ahead/policy.h"
#include "ahead/predictor_shadow.h"
#include "ahead/scale_loop.h"
#include "ahead/service.h"

#ifdef __cplusplus
extern "C" {
#endif

/* RFC 3339 UTC with milliseconds ("2026-11-23T14:30:00.123Z"); "-" for a
 * negative time. */
void ah_fmt_time(int64_t ns, char *buf, size_t len);

/* Outside text as a JSON string that never fails: bytes that are not UTF-8
 * become U+FFFD (control characters are escaped by the encoder), so a row,
 * message or detail never vanishes; NULL is "". A new reference. */
json_t *ah_json_text(const char *s);
/* A time as RFC 3339 UTC with milliseconds, or null for a negative time. */
json_t *ah_json_time(int64_t ns);
/* A duration in seconds: an integer when whole, else exact to the
 * millisecond (durations are named *_s). */
json_t *ah_json_seconds(int64_t ns);
/* A resource vector printed by ah_vec_format ("cpu=2,memory=512Mi") as the
 * object ah_json_vec builds: dimensions the policy does not know, or
 * values that do not parse, fall back to the default dimensions' units;
 * text that still does not parse stays as {"text": "..."}. */
json_t *ah_json_vec_text(const ah_dimset *ds, const char *text);
/* The error every command prints on stderr with -o json:
 * {"error": {"code": CODE, "message": MESSAGE, "field": FIELD or null}}. */
json_t *ah_json_error(const char *code, const char *message, const char *field);
/* The one way -o json is printed (two-space indent, reals with at most 10
 * significant digits, so 0.99 never reads 0.98999999999999999); a string
 * to free, or NULL when out of memory. */
char *ah_json_dumps(const json_t *o);

/* A live allocation or queued request (`ahead ls`): id, state, tenant,
 * pool, class, resources, granted_at and lease_expires (granted) or
 * arrived and deadline (queued), params. */
json_t *ah_json_allocation(const ah_policy *pol, const ah_engine_item *it);
/* A pool (`ahead pool ls`): pool, allocations, queued and per dimension
 * capacity, used, free (negative when over) and waiting, as integers. */
json_t *ah_json_pool(const ah_policy *pol, const ah_engine_pool_info *pi);
/* An event of the log: seq, time, kind, id (null for none), tenant, pool,
 * class, resources, reason, detail and the structured data of scale
 * events. */
json_t *ah_json_event(const ah_service_event *ev);

/* A policy (`policy check|apply|show`): outcome ("valid", "applied",
 * "current"), file (or null), dimensions with their units, pools with
 * their capacity, classes with priority and quantile, and the number of
 * tenants. */
json_t *ah_json_policy(const ah_policy *pol, const char *outcome, const char *file);

/* A scaling step's action (`ahead scale`): pool, dimension, kind ("scale"
 * or "rebalance"), from and to (integers in the base unit), ready (time),
 * expected_cost and keep_cost, outcome (what became of it: "planned",
 * "done", ...), peer (rebalance) and the hook's run (hr may be NULL). */
json_t *ah_json_scale_action(const ah_policy *P, const ah_scale_action *a, const char *outcome,
			     const ah_scale_result *hr);

/* A request record of the usage history (`shadow requests`): id,
 * workload, start, end (null while running), params (the user's),
 * ahead_params (ahead's own "ahead." keys) and per dimension peak, mean
 * and predicted (integers in the base unit, rounded up; null when unknown)
 * with error = (peak - predicted) / predicted (null when either is
 * unknown). */
json_t *ah_json_history_request(const ah_shadow_request *r);
/* (peak - predicted) / predicted, or NaN when either is unknown or the
 * prediction is not positive: > 0 means the prediction was too low. */
double ah_request_dim_error(const ah_shadow_req_dim *d);

/* An admission decision: outcome, id, resources, lease or queue position,
 * reason and message, corrections, and what the prediction rested on
 * (info may be NULL). A new reference, or NULL when out of memory. */
json_t *ah_json_decision(const ah_policy *pol, const ah_decision *d, const char *workload,
			 const ah_shadow_prediction_info *info);

/* The answer to a request for n replicas (docs/API.md): objs[lead] at the
 * top level and, when n > 1, every objs[i] in order in its "replicas".
 * Takes the n references; NULL when out of memory. */
json_t *ah_json_replicas(json_t *const *objs, int n, int lead);

/* A renew: outcome "renewed", id, lease_expires, lease_ttl_s, capped (and
 * when capped, capped_by "max_lease_ttl", asked_s and max_lease_ttl_s);
 * durations in seconds. */
json_t *ah_json_renew(uint64_t id, const ah_renew_outcome *ro);

/* A usage report's answer: outcome ("unchanged", "grown", "shrunk",
 * "grow_blocked" with blocked_by "room", "quota" or "priority"), id,
 * resources, lease_expires and the workload it was recorded for (or null). */
json_t *ah_json_report(const ah_policy *pol, uint64_t id, const ah_adjust_outcome *o, const char *workload);
/* A release: {"outcome": "released", "id": ID}. */
json_t *ah_json_release(uint64_t id);
/* A tick: outcome "ticked", live_before, allocations, queued,
 * records_closed. */
json_t *ah_json_tick(const ah_service_tick_out *t);

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

/* `ahead cluster status`: members, instances, revisions, the shaper
 * (null when none is elected) (docs/JSON.md). watch_lag is null: not
 * built yet (docs/CLUSTER.md). */
json_t *ah_json_cluster_status(const ah_cluster_status *st);

/* `ahead node describe` / `node ls`: a node (capacity in base units, by
 * dimension name) and the list of them (docs/JSON.md). */
json_t *ah_json_node(const ah_node *n);
json_t *ah_json_node_list(const ah_node_list *l);

#ifdef __cplusplus
}
#endif
#endif
