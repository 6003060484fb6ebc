/* ahead: the ledger interface — where the engine makes its answers durable.
 *
 * The engine never touches storage directly: it calls these operations, all
 * inside one begin/commit per answer (or per batch, for group commit). An
 * implementation either makes a commit durable or returns an error; after an
 * error the engine refuses further work until it is reloaded from the ledger.
 * Implementations: SQLite (src/store/ledger_sqlite.c) and memory
 * (src/store/ledger_memory.c, for tests, benches and replay).
 *
 * Besides the engine's state, a ledger keeps what a front end needs to run
 * on any store: the applied policy (with a generation number), the event
 * log, the scaler's demand history, and what the API keeps (tokens, audit,
 * idempotency keys: api_records.h). Front ends use the generic ah_ledger_*
 * functions below and there, never a store's own. */
#ifndef AHEAD_LEDGER_H
#define AHEAD_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ahead/policy.h"
#include "ahead/resource.h"

#ifdef __cplusplus
extern "C" {
#endif

/* AH_PARAMS_MAX, the cap on a request's parameter string: limits.h. */

typedef enum {
	AH_EV_GRANT = 0,   /* granted at once */
	AH_EV_QUEUE,       /* queued */
	AH_EV_REFUSE,      /* refused (reason says why) */
	AH_EV_DEQUEUE,     /* queued request granted */
	AH_EV_RELEASE,     /* released by its holder */
	AH_EV_CANCEL,      /* queued request cancelled by its holder */
	AH_EV_RENEW,       /* lease renewed */
	AH_EV_EXPIRE,      /* lease expired, resources reclaimed */
	AH_EV_TIMEOUT,     /* queued request timed out */
	AH_EV_PREEMPT,     /* evicted for a higher-priority request */
	AH_EV_RESIZE,      /* allocation resized while running */
	AH_EV_POLICY,      /* policy applied */
	AH_EV_SCALE,       /* pool capacity scaled or rebalanced (or a scale hook failed) */
	AH_EV_RUN,         /* ahead run: a command's end (exited, killed, orphan reconciled) or drift */
	AH_EV__COUNT
} ah_event_kind;

const char *ah_event_kind_name(ah_event_kind k);

/* A live allocation or a queued request, as the ledger stores it. Names
 * rather than indices, so a stored row survives policy edits. */
typedef struct {
	uint64_t id;
	const char *tenant, *pool, *klass;
	ah_vec res;
	const char *params;     /* "k=v,k=v" or "" */
	int64_t created_ns;     /* grant time (allocations) or arrival (queue) */
	int64_t expires_ns;     /* lease expiry (allocations) or queue deadline */
	int64_t lease_ttl_ns;   /* requested lease (queue rows: applied at grant) */
	uint64_t seq;           /* arrival order (queue rows) */
	/* Pools on nodes (policy `nodes`): the node the allocation is placed
	 * on ("" or NULL: none), and a hash of its workload's name (0: none),
	 * which spreads a workload's allocations across nodes. Stored by the
	 * etcd ledger (nodes exist only there); other stores drop them. */
	const char *node;
	uint32_t workload_hash;
	/* the node labels the request asked for ("k=v,..." canonical; "" or
	 * NULL: none), which every later placement of it keeps to */
	const char *node_select;
} ah_ledger_row;

typedef struct {
	int64_t t_ns;
	ah_event_kind kind;
	uint64_t id;
	const char *tenant, *pool, *klass;
	const ah_vec *res;      /* may be NULL */
	const char *reason;     /* stable reason code or NULL */
	const char *detail;     /* human message or NULL */
	const char *data;       /* structured detail, a JSON object, or NULL (scale
				 * events: action, dimension, sizes, hook result) */
} ah_ledger_event;

typedef struct ah_ledger ah_ledger;

/* The API's records (include/ahead/api_records.h), named here only for the
 * ops table below. */
struct ah_token_row;
struct ah_audit_row;
struct ah_audit_query;
struct ah_idem_row;

/* An event as the log returns it (strings borrowed for the callback). */
typedef struct {
	int64_t seq, t_ns;
	const char *kind, *tenant, *pool, *klass, *resources, *reason, *detail;
	uint64_t id;
	const char *data;       /* JSON object (scale events) or "" */
} ah_event_row;

/* Which events to visit; zero-initialised means all of them. */
typedef struct {
	int64_t after_seq;      /* seq > after_seq */
	int limit;              /* at most this many; <= 0: no limit */
	uint64_t id;            /* this allocation only; 0: any */
	unsigned kinds;         /* bit (1u << ah_event_kind) per kind wanted; 0: any */
	const char *pool;       /* this pool only; NULL: any */
	int64_t since_ns;       /* t_ns >= since_ns; 0: any */
} ah_event_query;

/* The scaler's demand history: one row per pool and observation time, what
 * the pool held and what waited, split by class. */
typedef struct {
	int64_t t_ns;
	const char *pool;
	ah_vec used, queued;
	int n_classes;
	char class_name[AH_MAX_CLASSES][AH_NAME_MAX];
	ah_vec class_demand[AH_MAX_CLASSES];
} ah_demand_row;

/* What a decision read, so the commit can refuse if it changed since: a
 * compare-and-set on stores without a global write lock. */
typedef enum {
	AH_PRECOND_POLICY = 0, /* key unused; version = policy generation */
	AH_PRECOND_ALLOC,      /* key = allocation id (decimal); version = 0: absent */
	AH_PRECOND_POOL,       /* key = pool name; version = its capacity revision */
	AH_PRECOND_NODE,       /* key = node name; version = its record's revision (etcd: mod revision) */
	AH_PRECOND__COUNT
} ah_precond_kind;

typedef struct {
	ah_precond_kind kind;
	char key[AH_NAME_MAX];
	uint64_t version;
} ah_ledger_precond;

/* Callbacks the engine gives to ledger load. */
typedef struct {
	void *ctx;
	int (*alloc)(void *ctx, const ah_ledger_row *row);
	int (*queued)(void *ctx, const ah_ledger_row *row);
	int (*pool_capacity)(void *ctx, const char *pool, const ah_vec *capacity);
	/* A pending grow of allocation `id` (called after every alloc()):
	 * the size it waits for, and since when. */
	int (*pending)(void *ctx, uint64_t id, const ah_vec *want, int64_t since_ns);
} ah_ledger_loader;

typedef struct {
	/* Starts a write transaction. Returns 1 (not an error) when another
	 * process changed the ledger since this one last committed or loaded:
	 * the caller must reload before acting. */
	int (*begin)(ah_ledger *l);
	int (*commit)(ah_ledger *l);
	void (*rollback)(ah_ledger *l);
	int (*put_alloc)(ah_ledger *l, const ah_ledger_row *row);
	int (*del_alloc)(ah_ledger *l, uint64_t id);
	int (*put_queued)(ah_ledger *l, const ah_ledger_row *row);
	int (*del_queued)(ah_ledger *l, uint64_t id);
	int (*put_pool_capacity)(ah_ledger *l, const char *pool, const ah_vec *capacity);
	int (*event)(ah_ledger *l, const ah_ledger_event *ev);
	int (*set_next_id)(ah_ledger *l, uint64_t next_id);
	/* A running allocation's grow that did not fit, waiting for room
	 * (stored so a reloaded engine serves it in the same order). del_alloc
	 * drops an allocation's pending grow too. */
	int (*put_pending)(ah_ledger *l, uint64_t id, const ah_vec *want, int64_t since_ns);
	int (*del_pending)(ah_ledger *l, uint64_t id);
	/* Reads every pool capacity, live allocation, pending grow and queued
	 * request.
	 * Called inside begin/commit or on its own (it then reads a snapshot). */
	int (*load)(ah_ledger *l, const ah_dimset *dims, const ah_ledger_loader *ld, uint64_t *next_id);
	void (*free)(ah_ledger *l);

	/* Front-end operations (see the ah_ledger_* functions below). */
	int (*policy_get)(ah_ledger *l, char **out_text, int64_t *out_applied_ns);
	int (*policy_put)(ah_ledger *l, const char *text, const ah_policy *p, int64_t now_ns);
	int (*policy_generation)(ah_ledger *l, uint64_t *out_gen);
	int (*events)(ah_ledger *l, const ah_event_query *q, int (*fn)(void *ctx, const ah_event_row *ev),
		      void *ctx);
	int (*demand_put)(ah_ledger *l, const ah_dimset *dims, const ah_demand_row *row, int64_t keep_after_ns,
			  int max_rows);
	int (*demand_load)(ah_ledger *l, const ah_dimset *dims, int64_t since_ns,
			   int (*fn)(void *ctx, const ah_demand_row *row), void *ctx);
	int (*set_durability)(ah_ledger *l, ah_durability durability);
	/* Records a precondition of the open transaction, checked by commit. */
	int (*precond_add)(ah_ledger *l, const ah_ledger_precond *pc);
	const char *(*errmsg)(ah_ledger *l);

	/* What the API keeps (include/ahead/api_records.h, whose ah_ledger_*
	 * functions check the arguments before calling these). NULL: the
	 * store lacks it (AH_EUNSUPPORTED). */
	int (*token_put)(ah_ledger *l, const struct ah_token_row *t);
	int (*token_list)(ah_ledger *l, int (*fn)(void *ctx, const struct ah_token_row *t), void *ctx);
	int (*token_generation)(ah_ledger *l, uint64_t *out_gen);
	int (*audit_put)(ah_ledger *l, const struct ah_audit_row *r);
	int (*audit_list)(ah_ledger *l, const struct ah_audit_query *q,
			  int (*fn)(void *ctx, const struct ah_audit_row *r), void *ctx);
	int (*idem_get)(ah_ledger *l, const char *scope, const char *key,
			int (*fn)(void *ctx, const struct ah_idem_row *r), void *ctx);
	int (*idem_put)(ah_ledger *l, const struct ah_idem_row *r);
	int (*idem_sweep)(ah_ledger *l, int64_t before_ns, size_t *out_n);
	int (*events_compact)(ah_ledger *l, int64_t before_ns, int64_t keep_min, size_t *out_n);
	int (*events_bounds)(ah_ledger *l, int64_t *out_first_seq, int64_t *out_last_seq);
	int (*alloc_versions)(ah_ledger *l, int (*fn)(void *ctx, uint64_t id, int64_t last_seq), void *ctx);
} ah_ledger_ops;

struct ah_ledger {
	const ah_ledger_ops *ops;
	const ah_dimset *dims; /* set by the engine: how to print/parse vectors */
};

/* A ledger that keeps nothing but the last `event_ring` events (tests,
 * benches and replay: the engine itself holds the state). */
int ah_ledger_memory_new(int event_ring, ah_ledger **out);
/* Borrowed view of the memory ledger's events, oldest first. */
int ah_ledger_memory_events(ah_ledger *l, int i, ah_event_kind *kind, uint64_t *id, char *reason,
			    size_t reason_len);
int ah_ledger_memory_event_count(ah_ledger *l);

void ah_ledger_free(ah_ledger *l);

/* ---- front-end operations, for every store ------------------------------ */

/* The applied policy's source text (malloc'd, caller frees). AH_ENOENT when
 * no policy was ever applied. */
int ah_ledger_policy_get(ah_ledger *l, char **out_text, int64_t *out_applied_ns);
/* Stores a policy, bumps its generation and logs a policy event. Must run
 * inside begin/commit. Pool capacities scaled away from a previous policy's
 * size are reset to the new policy's capacity. */
int ah_ledger_policy_put(ah_ledger *l, const char *text, const ah_policy *p, int64_t now_ns);
/* Generation of the applied policy: 0 before the first put, then +1 per put
 * (by any process). Cheap: a long-lived process polls it to notice a policy
 * applied elsewhere. */
int ah_ledger_policy_generation(ah_ledger *l, uint64_t *out_gen);
/* Visits the events q selects (NULL: all), oldest first; a non-zero return
 * of fn stops the walk and is returned. */
int ah_ledger_events(ah_ledger *l, const ah_event_query *q, int (*fn)(void *ctx, const ah_event_row *ev),
		     void *ctx);
/* Stores a demand row (replacing one of the same pool and time), then drops
 * the pool's rows older than keep_after_ns and all but its newest max_rows.
 * Runs in its own transaction unless one is open. */
int ah_ledger_demand_put(ah_ledger *l, const ah_dimset *dims, const ah_demand_row *row, int64_t keep_after_ns,
			 int max_rows);
/* Visits rows with t_ns >= since_ns, oldest first. Rows that no longer
 * parse under dims (a dropped dimension) are skipped. */
int ah_ledger_demand_load(ah_ledger *l, const ah_dimset *dims, int64_t since_ns,
			  int (*fn)(void *ctx, const ah_demand_row *row), void *ctx);
/* Time of the last successful scale event that grew POOL's DIM (for
 * stabilisation across runs); AH_ENOENT when there was none. */
int ah_ledger_last_scale_up(ah_ledger *l, const char *pool, const char *dim, int64_t *out_t_ns);
/* Switches how durable a commit is (no-op for stores without the choice). */
int ah_ledger_set_durability(ah_ledger *l, ah_durability durability);
/* Adds a precondition to the open transaction: commit fails with AH_EBUSY
 * (nothing written) when the thing no longer has that version. key may be
 * NULL. Stores whose transactions serialise all writers hold it trivially. */
int ah_ledger_precond_add(ah_ledger *l, ah_precond_kind kind, const char *key, uint64_t version);
/* The last error's message, in words (borrowed; "" when none). After a
 * failed transaction it is the first error's, not a later rollback's. */
const char *ah_ledger_errmsg(ah_ledger *l);

#ifdef __cplusplus
}
#endif
#endif
