/* ahead: the ledger interface — where the engine makes its answers durable.
 *
 * The engine never touches storage directly: it calls these operations, all
 * inside one begin/commit per answer (or per batch, for group commit). An
 * implementation either makes a commit durable or returns an error; after an
 * error the engine refuses further work until it is reloaded from the ledger.
 * Implementations: SQLite (src/store/ledger_sqlite.c) and memory
 * (src/store/ledger_memory.c, for tests, benches and replay). */
#ifndef AHEAD_LEDGER_H
#define AHEAD_LEDGER_H

#include <stdint.h>

#include "ahead/resource.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AH_PARAMS_MAX 1024 /* hard cap on a request's parameter string */

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

#ifdef __cplusplus
}
#endif
#endif
