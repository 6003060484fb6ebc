/* ahead: the engine's shared state, private to src/core/engine*.c.
 *
 * State: pools (capacity, used, a queue in arrival order, pending grows),
 * tenants (used, queued, token bucket), allocations in a slot array indexed
 * by an open-addressing hash on id, and a min-heap of lease expiries. The
 * hot path (request that fits, release) does no allocation unless the
 * request carries parameters. */
#ifndef AHEAD_CORE_ENGINE_INT_H
#define AHEAD_CORE_ENGINE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ahead/engine.h"
#include "ahead/error.h"
#include "ahead/names.h"
#include "ahead/placement.h"

typedef struct {
	uint64_t id; /* 0 = free slot */
	int32_t tenant, pool, klass;
	int32_t heap_idx;
	int32_t next_free;
	ah_vec res;
	int64_t created_ns, expires_ns, lease_ttl_ns;
	char *params;
	bool params_loaded; /* params lives in the load arena (not freed alone) */
	int64_t last_resize_ns;
	uint32_t resizes; /* resize record handed to sizers (ah_resize_budget) */
	/* A grow that did not fit (pending until room frees; served in
	 * priority order with the queue): what it wants is in its cold part. */
	bool wanting;
	bool cold_init; /* its alloc_cold_t has been set up (see eng_cold) */
	int16_t node1;  /* pools on nodes: its node's index + 1 (0: none) */
	uint16_t sel;   /* the node labels it asked for (engine_select.c; 0: none) */
	uint32_t wl;    /* its workload's name hash (0: none), for spreading */
} alloc_t;

/* The part of an allocation touched only while it adjusts or waits, kept
 * apart from alloc_t (in ah_engine.cold, one per slot) so that loading a
 * large ledger writes, and the kernel zeroes, only the hot part: most
 * allocations never shrink-window or wait. Set up on first use. */
typedef struct {
	/* usage-driven adjustment (not persisted: a restart starts the shrink
	 * window over, which only delays a shrink) */
	int64_t below_since_ns;
	ah_vec window_peak;
	uint32_t window_seen; /* dimensions measured during the shrink window */
	/* the pending grow, when wanting. Persisted (put_pending), so an
	 * engine reloaded from the ledger keeps its place for it. */
	ah_vec want;
	int64_t want_since_ns;
} alloc_cold_t;

typedef struct {
	uint64_t id, seq;
	int32_t tenant, pool, klass;
	ah_vec res;
	int64_t arrival_ns, deadline_ns, lease_ttl_ns;
	char *params;
	uint32_t wl;    /* as alloc_t's */
	uint16_t sel;   /* as alloc_t's */
} qitem_t;

typedef struct {
	ah_vec capacity;
	ah_vec used;
	int n_allocs;
	qitem_t **q;
	int qn, qcap;
	bool dirty; /* capacity freed since the queue was last served */
	int32_t *wants; /* slots of allocations with a pending grow */
	int nwant, capwant;
} pool_t;

/* A committed-to-be change, buffered for observers (indices, not names:
 * the tenant table may grow before delivery). */
typedef struct {
	ah_change_kind kind;
	int32_t tenant, pool, klass;
	uint64_t id;
	int64_t t_ns;
	ah_vec res;
} change_t;

typedef struct {
	char name[AH_NAME_MAX];
	ah_tenant_policy lim;
	ah_vec used, queued;
	double tokens;
	int64_t last_ns;
	bool bucket_init;
} tenant_t;

/* A node of the fleet, as ah_engine_set_nodes last told (or, before that,
 * only named by a loaded allocation: not known, holding what it holds). */
typedef struct {
	char name[AH_NAME_MAX];
	ah_vec cap, used;
	int n_allocs;
	ah_label labels[AH_PLACE_LABELS_MAX];
	int n_labels;
	bool known, up, cordoned, draining;
	uint32_t failed_checks, kills, enforce_errors;
	uint32_t downs; /* times this engine saw it go down (failed health checks, observed) */
	uint64_t rev;   /* its record's revision, as last told */
} eng_node_t;

/* One (workload, node) count of engine_spread.c. */
typedef struct {
	uint64_t key; /* workload hash << 16 | node + 1; 0 = empty */
	int32_t n;
} eng_spread_slot;

/* A node selector a request asked for (engine_select.c). */
typedef struct {
	char text[AH_NODE_SELECT_MAX]; /* canonical: sorted by key */
	int n;
	ah_label lab[AH_PLACE_LABELS_MAX];
} eng_select_t;

/* A pool's node selector, parsed from its policy. */
typedef struct {
	bool on_nodes;
	int n;
	ah_label sel[AH_PLACE_LABELS_MAX];
} eng_pool_sel;

struct ah_engine {
	ah_policy *pol;
	ah_ledger *ledger;
	int nd;
	pool_t pools[AH_MAX_POOLS];
	ah_vec total_cap;

	tenant_t *tenants;
	int ntenants, cap_tenants;
	int32_t *thash; /* tenant name hash -> index, -1 empty */
	uint32_t thash_mask;

	alloc_t *slots;
	alloc_cold_t *cold; /* parallel to slots, valid where cold_init */
	int nslots, cap_slots, free_head, nallocs;
	int32_t *hash; /* alloc id -> slot, -1 empty */
	uint32_t hash_mask;
	int32_t *heap; /* slots ordered by expires_ns */
	int heap_n;
	struct params_block *params_arena; /* loaded allocations' params */
	int nparams_owned; /* slots whose params are their own (malloc'd) */

	int nqueued;
	int64_t min_deadline_ns;
	uint64_t next_id, next_seq;
	bool next_id_dirty;

	bool in_batch, in_txn, broken;
	/* ah_engine_reload under way, and whether its transaction already
	 * loaded (its begin found another process's commit): one load each */
	bool reloading, reload_loaded;
	int store_err;
	ah_predictor predictor;
	bool has_predictor;
	ah_adjust_cfg adjust;
	ah_sizer sizer;
	bool has_sizer;

	ah_engine_observer obs[AH_ENGINE_MAX_OBSERVERS];
	int nobs;
	change_t *chg; /* changes of the open transaction (or batch) */
	int nchg, capchg;
	bool delivering;
	/* The policy generation this engine runs, declared as every commit's
	 * precondition (ah_engine_set_policy_generation); 0 = none. */
	uint64_t policy_gen;
	/* A lease or deadline ends this long after its time (the clocks of a
	 * shared ledger's instances may differ by up to it). */
	int64_t skew_ns;

	/* Pools on nodes (engine_nodes.c). */
	eng_node_t *nodes;  /* AH_NODES_MAX, allocated at first need */
	int nnodes;
	eng_pool_sel psel[AH_MAX_POOLS];
	bool any_node_pool;
	ah_place_opts place_opts;
	ah_place_node *place_scratch; /* AH_NODES_MAX, for eng_node_pick */
	eng_select_t *selects;        /* requests' node selectors (engine_select.c) */
	int nselects, capselects;
	eng_spread_slot *spread;      /* allocations per (workload, node) (engine_spread.c) */
	uint32_t spread_cap, spread_n;
	bool spread_off;              /* the table could not grow: counted by scanning */
};

/* Slot a's cold part, set up (zeroed) on first use. */
static inline alloc_cold_t *eng_cold(ah_engine *e, alloc_t *a)
{
	alloc_cold_t *c = &e->cold[a - e->slots];
	if (!a->cold_init) {
		memset(c, 0, sizeof(*c));
		a->cold_init = true;
	}
	return c;
}

/* Read-only: the cold part of a slot that has one (e.g. wanting). */
static inline const alloc_cold_t *eng_cold_peek(const ah_engine *e, const alloc_t *a)
{
	return &e->cold[a - e->slots];
}

static inline uint32_t id_hash(uint64_t id)
{
	return (uint32_t)((id * 0x9E3779B97F4A7C15ull) >> 32);
}

static inline int slot_find(const ah_engine *e, uint64_t id)
{
	if (!e->hash)
		return -1;
	uint32_t j = id_hash(id) & e->hash_mask;
	while (e->hash[j] >= 0) {
		if (e->slots[e->hash[j]].id == id)
			return e->hash[j];
		j = (j + 1) & e->hash_mask;
	}
	return -1;
}

static inline int prio(const ah_engine *e, int k)
{
	return e->pol->classes[k].priority;
}

/* What eng_table_index needs of a loaded slot, kept compact by the loader
 * so indexing does not walk the (large) slots again. */
typedef struct {
	int64_t expires_ns;
	uint64_t id;
} eng_load_key;

typedef int (*txn_body)(ah_engine *e, int64_t now, void *arg);

/* engine_table.c */
int eng_hash_grow(ah_engine *e);
void eng_heap_up(ah_engine *e, int i);
void eng_heap_down(ah_engine *e, int i);
int eng_alloc_insert(ah_engine *e, const alloc_t *src);
int eng_alloc_append(ah_engine *e, const alloc_t *src);
int eng_table_index(ah_engine *e, const eng_load_key *keys);
void eng_alloc_remove(ah_engine *e, int s);

/* engine_queue.c */
/* Pool pi's queue head (index), -1 if none: the first by class priority
 * and arrival among those not waiting for a node (eng_node_waits). */
int eng_queue_best(const ah_engine *e, int pi);
bool eng_ranks_ahead(const ah_engine *e, int pa, int ta, uint64_t seqa, int pb, int tb, uint64_t seqb);
void eng_class_limit(const ah_engine *e, int p, int k, ah_vec *lim);
void eng_queue_remove_at(ah_engine *e, pool_t *p, int i);
int eng_want_list_add(ah_engine *e, int s);
int eng_want_set(ah_engine *e, int s, const ah_vec *want_in, int64_t now);
void eng_want_clamp(const ah_engine *e, const alloc_t *a, ah_vec *want, bool *more);

/* The engine's default sizer, the built-in grow/shrink rule (sizer_builtin.c). */
void eng_sizer_builtin(ah_engine *e, ah_sizer *out);
void eng_want_drop(ah_engine *e, int s);
void eng_apply_res(ah_engine *e, int s, const ah_vec *res, int64_t now_ns, const char *why);
int eng_grow_toward(ah_engine *e, int s, const ah_vec *want, int64_t now, const char *why);
int eng_serve_pool(ah_engine *e, int pi, int64_t now);
int eng_serve_if_freed(ah_engine *e, int pi, int64_t now);
int eng_advance(ah_engine *e, int64_t now);
int eng_serve_waiting(ah_engine *e, int64_t now);
bool eng_queue_find(const ah_engine *e, uint64_t id, int *pi, int *qi);

/* engine_observe.c */
void eng_note(ah_engine *e, ah_change_kind kind, uint64_t id, int t, int p, int k, const ah_vec *res,
	      int64_t now);
void eng_note_event(ah_engine *e, ah_event_kind kind, uint64_t id, int t, int p, int k, const ah_vec *res,
		    int64_t now);
void eng_deliver(ah_engine *e);

/* engine_txn.c */
void eng_led_check(ah_engine *e, int rc);
void eng_led_event(ah_engine *e, int64_t now, ah_event_kind kind, uint64_t id, int t, int p, int k,
		   const ah_vec *res, ah_reason reason, const char *detail);
void eng_led_put_alloc(ah_engine *e, const alloc_t *a);
void eng_led_put_queued(ah_engine *e, const qitem_t *q);
void eng_led_del_alloc(ah_engine *e, uint64_t id);
void eng_led_del_queued(ah_engine *e, uint64_t id);
void eng_led_put_pending(ah_engine *e, const alloc_t *a);
void eng_led_del_pending(ah_engine *e, uint64_t id);
int eng_txn_run(ah_engine *e, int64_t now, bool load, txn_body body, void *arg);

/* engine_tenant.c */
int eng_thash_rebuild(ah_engine *e, uint32_t size);
int eng_tenant_find(const ah_engine *e, const char *name);
int eng_tenant_add(ah_engine *e, const char *name, const ah_tenant_policy *lim);
double eng_dominant_share(const ah_engine *e, int t);
bool eng_rate_take(tenant_t *t, int64_t now);

/* engine_admit.c */
int eng_find_class(const ah_engine *e, const char *name);
int eng_find_pool(const ah_engine *e, const char *name);

/* engine_nodes.c */
int eng_nodes_init(ah_engine *e);
static inline bool eng_pool_on_nodes(const ah_engine *e, int p)
{
	return e->psel[p].on_nodes;
}
/* The node of pool p (class k) that takes res (workload hash wl), or -1
 * (why, if not NULL, says why not). exclude: a node index never chosen. */
int eng_node_pick(ah_engine *e, int p, int k, uint32_t wl, int sel, const ah_vec *res, int exclude, char *why,
		  size_t whylen);
/* Whether slot s's node has room for `grow` more (true off nodes). */
bool eng_node_room(const ah_engine *e, const alloc_t *a, const ah_vec *grow);
/* Room left on slot s's node in dimension d (INT64_MAX off nodes). */
int64_t eng_node_free(const ah_engine *e, const alloc_t *a, int d);
int eng_node_index(ah_engine *e, const char *name); /* found or added (not known); -1: table full */
/* A placement on node i: its record must be what the decision read. */
void eng_node_precond(ah_engine *e, int i);
void eng_node_account(ah_engine *e, const alloc_t *a, int sign);
/* Node pools' capacity from the up nodes (after a load or a change). */
void eng_nodes_recount(ah_engine *e);
/* The largest a single matching node offers in dimension d (-1: no node known). */
int64_t eng_node_reach(const ah_engine *e, int p, int sel, int d);
/* No node that takes new work (up, not cordoned or draining) and carries
 * the pool's and the request's labels could hold res even empty: such a
 * request waits for a node, not for room, and blocks nobody meanwhile. */
bool eng_node_waits(const ah_engine *e, int p, int sel, const ah_vec *res);

/* engine_select.c: a request's node labels, interned. Returns the index + 1
 * (0 for none), AH_EINVAL/AH_ETOOBIG (err says why) or AH_ENOMEM. */
int eng_select_intern(ah_engine *e, const char *text, char *err, size_t errlen);
const eng_select_t *eng_select_get(const ah_engine *e, int sel); /* NULL for 0 */
const char *eng_select_text(const ah_engine *e, int sel);      /* "" for 0 */
void eng_select_fini(ah_engine *e);

/* engine_spread.c: allocations of workload wl on node (an index). */
void eng_spread_add(ah_engine *e, uint32_t wl, int node, int delta);
int eng_spread_get(const ah_engine *e, uint32_t wl, int node);
void eng_spread_clear(ah_engine *e);

/* engine_load.c */
int eng_load_state(ah_engine *e, int64_t now);

/* A wanted size rounded up to the pool's unit, within the pool's minimum
 * request and the class's maximum (inline: once per dimension per report). */
static inline int64_t eng_clamp_size(const ah_engine *e, const alloc_t *a, int d, int64_t v)
{
	const ah_pool_policy *pp = &e->pol->pools[a->pool];
	int64_t unit = pp->unit.v[d] > 0 ? pp->unit.v[d] : 1;
	if (v < 0)
		v = 0;
	if (v > AH_VALUE_MAX - unit)
		v = AH_VALUE_MAX - unit;
	v = (v + unit - 1) / unit * unit;
	if (v < pp->min_request.v[d])
		v = pp->min_request.v[d];
	if (v > e->pol->classes[a->klass].max_request.v[d])
		v = e->pol->classes[a->klass].max_request.v[d] / unit * unit;
	return v;
}

#endif
