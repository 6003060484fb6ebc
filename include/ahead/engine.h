/* ahead: the allocation engine — a state machine with the clock passed in.
 *
 * Every call takes `now_ns` (virtual or wall time, the caller decides); the
 * engine never reads a clock, never prints, never touches storage except
 * through its ledger. Each answer is committed to the ledger before the call
 * returns (or, inside ah_engine_batch_begin/end, when the batch ends: group
 * commit — the caller must not pass answers on before that).
 *
 * Order of admission for a request: resolve names → rate limit (token
 * bucket) → policy (min request, allocation unit, class maximum; corrected
 * when the policy says autocorrect) → quota (used + queued + request) →
 * capacity: granted if it fits and no queued request ranks ahead of it; else
 * preempt lower classes if the class may; else queued (if a queue timeout is
 * allowed and the queue has room); else refused.
 *
 * Queue order when capacity frees: priority (higher first), then dominant
 * resource fairness between tenants (lowest dominant share of the total
 * capacity first), then arrival. The head of a pool's queue blocks the ones
 * behind it (no backfill), so large requests are not starved. Every call
 * ends with its pools served: nothing that fits is left waiting, so an
 * engine rebuilt from the ledger holds (and decides) what the one that never
 * stopped does. Preemption evicts the lowest class first, the newest within
 * a class (the higher id among ones granted at the same instant).
 *
 * Lowering a pool's capacity below its use evicts nothing: use stays above
 * capacity until allocations end or shrink; meanwhile nothing new is
 * granted in the pool and nothing grows in a dimension that is over. */
#ifndef AHEAD_ENGINE_H
#define AHEAD_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "ahead/ledger.h"
#include "ahead/placement.h"
#include "ahead/policy.h"
#include "ahead/resource.h"
#include "ahead/sizer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ah_engine ah_engine;

typedef enum { AH_GRANTED = 0, AH_QUEUED = 1, AH_REFUSED = 2 } ah_outcome;

/* Stable reason codes for refusals (and for ends of queued requests). */
typedef enum {
	AH_R_NONE = 0,
	AH_R_UNKNOWN_POOL,    /* "unknown_pool" */
	AH_R_UNKNOWN_TENANT,  /* "unknown_tenant" */
	AH_R_UNKNOWN_CLASS,   /* "unknown_class" */
	AH_R_INVALID,         /* "invalid_request": empty, bad lease, params too long */
	AH_R_POLICY,          /* "policy_violation": min request, unit, class max */
	AH_R_QUOTA,           /* "quota_exceeded" */
	AH_R_RATE,            /* "rate_limited" */
	AH_R_TOO_BIG,         /* "exceeds_capacity": can never fit in the pool */
	AH_R_NO_CAPACITY,     /* "no_capacity": full now and queueing not allowed */
	AH_R_QUEUE_FULL,      /* "queue_full" */
	AH_R_TIMEOUT,         /* "queue_timeout": queued, then timed out */
	AH_R__COUNT
} ah_reason;

const char *ah_reason_code(ah_reason r);

/* Where predictions come from (the forecasting layer, or a test's stub).
 * predict() writes the usage it expects of a request of `workload` with
 * `params` at quantile q, per dimension (0 = no prediction for that
 * dimension); AH_ENOENT when it knows nothing of the workload. */
typedef struct {
	void *ctx;
	int (*predict)(void *ctx, const char *workload, const char *params, double q, const ah_dimset *dims,
		       ah_vec *out);
} ah_predictor;

typedef struct {
	const char *tenant;      /* names, resolved by the engine */
	const char *pool;
	const char *klass;       /* NULL = the policy's default class */
	ah_vec res;              /* in the policy's dimension order */
	const char *params;      /* "key=value,..." or NULL; <= AH_PARAMS_MAX */
	const char *workload;    /* for prediction (and spreading on nodes); NULL = size by res alone */
	const char *node_labels; /* pools on nodes: "k=v,..." every node it lands on carries; NULL = any */
	int64_t lease_ttl_ns;    /* 0 = class/policy default; capped by max_lease_ttl */
	int64_t queue_timeout_ns;/* -1 = class/policy default; 0 = do not queue */
} ah_request;

typedef struct {
	ah_outcome outcome;
	uint64_t id;              /* allocation id, or the queued request's id */
	int64_t lease_expires_ns; /* granted */
	int64_t queue_deadline_ns;/* queued */
	int queue_position;       /* queued: 1 = next (at the time of the answer) */
	ah_reason reason;         /* refused */
	ah_vec res;               /* what was granted/queued, after corrections */
	int n_preempted;          /* allocations evicted to make room */
	bool predicted;           /* a prediction sized this request */
	ah_vec prediction;        /* what was predicted, at the class's quantile, before margin */
	char message[256];        /* human explanation of a refusal */
	char corrections[512];    /* "; "-separated corrections applied, or "" */
} ah_decision;

/* A live allocation or queued request, borrowed from the engine. */
typedef struct {
	uint64_t id;
	bool queued;
	const char *tenant, *pool, *klass;
	const ah_vec *res;
	const char *params;
	int64_t created_ns, expires_ns; /* queued: arrival and deadline */
	const char *node;               /* pools on nodes: where it is placed ("" none) */
	const char *node_labels;        /* the node labels it asked for ("" none) */
} ah_engine_item;

typedef struct {
	const char *name;
	const ah_vec *capacity;
	const ah_vec *used;
	int n_allocs, n_queued;
	/* Unmet demand (what a pool scaler must see besides `used`): the sum
	 * of queued requests, and of pending grows beyond current sizes. */
	ah_vec queued, wanted;
	int n_wanting;
} ah_engine_pool_info;

/* Creates an engine for a policy (copied) over a ledger (borrowed; may be
 * NULL for a purely in-memory engine). Loads the ledger's state and
 * reclaims leases that expired before now_ns. */
int ah_engine_new(const ah_policy *policy, ah_ledger *ledger, int64_t now_ns, ah_engine **out);
void ah_engine_free(ah_engine *e);

const ah_policy *ah_engine_policy_get(const ah_engine *e);

/* Sizes requests that name a workload by prediction: the class's quantile
 * of predicted usage, plus the class's margin, rounded up to the pool's
 * unit and clamped by policy; the class's `prediction` mode says whether it
 * may raise or lower resources the request states. NULL turns it off. */
void ah_engine_set_predictor(ah_engine *e, const ah_predictor *p);

/* The generation of the applied policy this engine runs (the ledger's
 * policy generation). Every commit then carries it as a precondition: a
 * store with no global write lock refuses (AH_EBUSY) a decision made under
 * a policy that changed meanwhile; on SQLite it always holds. 0 = none. */
void ah_engine_set_policy_generation(ah_engine *e, uint64_t gen);
/* Leases and queue deadlines end only skew_ns after their time: on a
 * ledger shared by instances whose clocks differ by up to skew_ns, no
 * instance ends one early by its own clock (0: at their time). */
void ah_engine_set_clock_skew(ah_engine *e, int64_t skew_ns);

/* Reloads all state from the ledger (after another process changed it, or
 * after a storage error). */
int ah_engine_reload(ah_engine *e, int64_t now_ns);

int ah_engine_request(ah_engine *e, const ah_request *req, int64_t now_ns, ah_decision *out);
/* n replicas of one request (1..AH_PLACE_REPLICAS_MAX), each its own
 * allocation, decided in order in one transaction, each granted, queued or
 * refused on its own (as a Deployment's pods are: the ones that fit run);
 * on a pool on nodes they spread across nodes (and the pool's spread label)
 * as replicas of one workload do. out[0..n). */
int ah_engine_request_replicas(ah_engine *e, const ah_request *req, int n, int64_t now_ns, ah_decision *out);
/* Releases an allocation, or cancels a queued request. AH_ENOENT if unknown. */
int ah_engine_release(ah_engine *e, uint64_t id, int64_t now_ns);
/* Sets a lease to now + ttl (0 = the allocation's lease), at most the
 * policy's max_lease_ttl. */
int ah_engine_renew(ah_engine *e, uint64_t id, int64_t ttl_ns, int64_t now_ns, int64_t *out_expires_ns);
/* What a renew gave, and whether the policy capped what was asked. */
typedef struct {
	int64_t expires_ns;
	int64_t ttl_ns;           /* the lease given */
	int64_t asked_ns;         /* the lease asked (the allocation's when 0 was passed) */
	int64_t max_ns;           /* the policy's max_lease_ttl */
	bool capped;              /* asked above max_lease_ttl: given that instead */
} ah_renew_outcome;
int ah_engine_renew_lease(ah_engine *e, uint64_t id, int64_t ttl_ns, int64_t now_ns, ah_renew_outcome *out);
/* Changes a running allocation's size (grow only if it fits). */
int ah_engine_resize(ah_engine *e, uint64_t id, const ah_vec *res, int64_t now_ns);
/* Adjusting while work runs. A usage report renews the allocation's lease
 * to now + its lease, never shortening one a renew made longer (holders
 * that stop reporting and renewing are reclaimed at expiry) and:
 *   - grows it at once when usage exceeds grow_at of the reservation, to
 *     usage * (1 + headroom) in whole units, if the pool and quota have room;
 *   - shrinks it when usage stayed below shrink_at of the reservation for
 *     shrink_window_ns, to the window's peak * (1 + headroom), at most once
 *     per min_shrink_interval_ns.
 * The gap between the two thresholds and the window are the hysteresis
 * that keeps a reservation from flapping. Every change is a resize event. */
typedef struct {
	double grow_at;             /* default 0.9 */
	double shrink_at;           /* default 0.5 */
	int64_t shrink_window_ns;   /* default 10 min */
	double headroom;            /* default 0.15 */
	int64_t min_shrink_interval_ns; /* default 1 min */
} ah_adjust_cfg;

/* A usage vector entry meaning "not reported for this dimension". */
#define AH_USAGE_NONE ((int64_t)-1)

/* Where a running allocation's next size comes from, when not from the
 * built-in rule above: see ahead/sizer.h. */

/* NULL (or a sizer with neither target nor plan) returns to the built-in
 * rule, itself a sizer (src/core/sizer_builtin.c). */
void ah_engine_set_sizer(ah_engine *e, const ah_sizer *sizer);

typedef enum { AH_ADJUST_NONE = 0, AH_ADJUST_GROW, AH_ADJUST_SHRINK, AH_ADJUST_GROW_BLOCKED } ah_adjust_action;

/* What holds back a grow that did not fit whole (AH_ADJUST_GROW_BLOCKED). */
typedef enum {
	AH_BLOCKED_NONE = 0,
	AH_BLOCKED_ROOM,     /* the pool has no room for it */
	AH_BLOCKED_QUOTA,    /* the pool has room, the tenant's quota does not */
	AH_BLOCKED_PRIORITY, /* a higher-priority queued request or grow waits first */
} ah_blocked_by;

typedef struct {
	ah_adjust_action action;
	ah_vec res;                 /* the reservation after the report */
	int64_t lease_expires_ns;
	ah_blocked_by blocked_by;   /* GROW_BLOCKED: why */
} ah_adjust_outcome;

void ah_adjust_cfg_init(ah_adjust_cfg *c);
void ah_engine_set_adjust(ah_engine *e, const ah_adjust_cfg *cfg);
/* usage: AH_USAGE_NONE in a dimension that was not measured. A grow that
 * does not fit whole takes what room there is and leaves the rest pending
 * (AH_ADJUST_GROW_BLOCKED); a grow never takes room a higher-priority
 * queued request or pending grow waits for. */
int ah_engine_report_usage(ah_engine *e, uint64_t id, const ah_vec *usage, int64_t now_ns, ah_adjust_outcome *out);

/* Reclaims expired leases and times out queued requests; grants what then
 * fits. Every other call does this first too. */
int ah_engine_tick(ah_engine *e, int64_t now_ns);
/* Sets a pool's capacity (scaling); grants what then fits. */
int ah_engine_set_capacity(ah_engine *e, const char *pool, const ah_vec *capacity, int64_t now_ns);

/* Pools on nodes (policy `nodes = SELECTOR`, docs/PLACEMENT.md "Pools on
 * nodes"). The caller (the service, from the etcd ledger's node records)
 * tells the engine the fleet's nodes; a node pool's capacity is then the
 * sum of the up nodes its selector matches, and every allocation of it is
 * placed on one of them (ah_place: spread, failure-aware, best fit) in the
 * same transaction as its grant, dequeue or grow, against the node's own
 * use. Cordoned and draining nodes take nothing new. The table persists
 * across reloads; a node absent from a call is down.
 *
 * Each call moves, in one transaction, the allocations of nodes that are
 * down or draining to other nodes where they fit whole (a resize event,
 * detail "moved from node A to B: ..."); those of a down node that fit
 * nowhere are queued again under their id (the pool's on_node_down =
 * requeue, the default: a preempt event, then a queue event) or ended
 * (evict: a preempt event). A draining node's that fit nowhere stay.
 * Then, in a pool with `rebalance = on` whose queue's head fits the pool in
 * sum but no node whole, allocations are moved one at a time (at most 8
 * per call) to other nodes where they fit, each time the one that frees
 * enough on some node at the least share of it, until the head fits. */
typedef struct {
	const char *name;            /* the object grammar */
	ah_vec capacity;
	const ah_label *labels;
	int n_labels;
	bool up, cordoned, draining;
	uint32_t failed_checks, kills, enforce_errors; /* its observed record */
	uint64_t revision;           /* its record's revision: a placement on it commits only while
				      * the record is unchanged (0: not checked) */
} ah_engine_node;

typedef struct {
	int moved, requeued, evicted;
	int left;                    /* on draining nodes, fitting nowhere else */
	int rebalanced;              /* moved to make room for a queue's head (policy rebalance = on) */
} ah_node_moves;

/* AH_EINVAL for a bad name or capacity, AH_ETOOBIG past AH_NODES_MAX. out
 * (may be NULL) counts what moved. */
int ah_engine_set_nodes(ah_engine *e, const ah_engine_node *nodes, int n, int64_t now_ns, ah_node_moves *out);
/* Pool p on nodes: how many up nodes it spans that take work (not
 * draining) and, in empty (when not NULL), the name of one of them that
 * holds nothing ("" when none): the one a scale-down
 * may remove. AH_EINVAL when p is not on nodes. */
int ah_engine_pool_nodes(const ah_engine *e, int p, int *out_up, char *empty, size_t emptylen);

typedef struct {
	const char *name;
	const ah_vec *capacity, *used;
	int n_allocs;
	bool known, up, cordoned, draining;
} ah_engine_node_info;

int ah_engine_node_count(const ah_engine *e);
int ah_engine_node_get(const ah_engine *e, int i, ah_engine_node_info *out);
/* How fragmented pool p's nodes are (ah_place_fragmentation over the up,
 * uncordoned nodes its selector matches, the pool's queued requests, and
 * the median of its live allocations per dimension). AH_EINVAL for a pool
 * not on nodes; AH_ENOMEM. */
int ah_engine_pool_fragmentation(const ah_engine *e, int p, ah_place_frag *out);

/* Observers: told of every change of state once it is committed.
 *
 * Changes made inside a transaction are buffered and delivered, in the
 * order they were made, only after the transaction committed (inside a
 * batch: at ah_engine_batch_end); a transaction that rolls back delivers
 * nothing. Callbacks never run inside a ledger transaction, and must not
 * call the engine's mutating functions (they return AH_ESTATE then):
 * inspection is fine. Names are borrowed for the callback's duration. */
typedef enum {
	AH_CHANGE_GRANT = 0, /* granted at once */
	AH_CHANGE_DEQUEUE,   /* a queued request granted */
	AH_CHANGE_RESIZE,    /* a running allocation resized */
	AH_CHANGE_PREEMPT,   /* evicted for a higher-priority request */
	AH_CHANGE_EXPIRE,    /* lease expired, resources reclaimed */
	AH_CHANGE_RELEASE,   /* released by its holder */
	AH_CHANGE_CANCEL,    /* queued request cancelled by its holder */
	AH_CHANGE_QUEUE,     /* request queued */
	AH_CHANGE_TIMEOUT,   /* queued request timed out */
	AH_CHANGE_CAPACITY,  /* a pool's capacity set (ah_engine_set_capacity) */
	AH_CHANGE__COUNT
} ah_change_kind;

typedef struct {
	ah_change_kind kind;
	int64_t t_ns;                     /* now_ns of the call that made it */
	uint64_t id;                      /* allocation or queued request; 0 for capacity */
	const char *tenant, *pool, *klass; /* tenant and klass NULL for capacity */
	/* After the change: the allocation's size (grant, dequeue, resize),
	 * what it held until then (preempt, expire, release), what the request
	 * waits or waited for (queue, cancel, timeout), the pool's new capacity
	 * (capacity). */
	ah_vec res;
} ah_engine_change;

typedef struct {
	void *ctx;
	void (*on_event)(void *ctx, const ah_engine_change *c);
} ah_engine_observer;

#define AH_ENGINE_MAX_OBSERVERS 4

const char *ah_change_kind_name(ah_change_kind k);
/* Adds an observer (copied). AH_ETOOBIG past AH_ENGINE_MAX_OBSERVERS. */
int ah_engine_add_observer(ah_engine *e, const ah_engine_observer *o);

/* Group commit: requests between begin and end share one ledger commit. */
int ah_engine_batch_begin(ah_engine *e);
int ah_engine_batch_end(ah_engine *e);

/* Inspection (borrowed pointers valid until the next mutating call). */
int ah_engine_pool_count(const ah_engine *e);
int ah_engine_pool_get(const ah_engine *e, int i, ah_engine_pool_info *out);
/* Visits live allocations (by id) then queued requests (in queue order). */
int ah_engine_foreach(const ah_engine *e, int (*fn)(void *ctx, const ah_engine_item *it), void *ctx);
int ah_engine_get(const ah_engine *e, uint64_t id, ah_engine_item *out);
/* Tenant usage (sum over pools). */
int ah_engine_tenant_used(const ah_engine *e, const char *tenant, ah_vec *out);
int ah_engine_alloc_count(const ah_engine *e);
int ah_engine_queue_count(const ah_engine *e);

#ifdef __cplusplus
}
#endif
#endif
