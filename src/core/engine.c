/* ahead: the allocation engine (see include/ahead/engine.h for the rules): the
 * lifecycle of a granted allocation (release, renew), time passing and pool
 * capacity. The other concepts live in engine_*.c; shared state in
 * engine_int.h. */
#include <stdlib.h>

#include "core/engine_int.h"

static int release_body(ah_engine *e, int64_t now_ns, void *arg)
{
	uint64_t id = *(const uint64_t *)arg;
	int s = slot_find(e, id);
	if (s >= 0) {
		alloc_t *a = &e->slots[s];
		int p = a->pool;
		eng_led_del_alloc(e, id);
		eng_led_event(e, now_ns, AH_EV_RELEASE, id, a->tenant, a->pool, a->klass, &a->res, AH_R_NONE, NULL);
		eng_alloc_remove(e, s); /* marks the pool freed */
		int rc = eng_serve_if_freed(e, p, now_ns);
		e->pools[p].dirty = false;
		return rc;
	}
	int pi, qi;
	if (eng_queue_find(e, id, &pi, &qi)) {
		qitem_t *q = e->pools[pi].q[qi];
		eng_led_del_queued(e, id);
		eng_led_event(e, now_ns, AH_EV_CANCEL, id, q->tenant, q->pool, q->klass, &q->res, AH_R_NONE, NULL);
		eng_queue_remove_at(e, &e->pools[pi], qi);
		free(q->params);
		free(q);
		return eng_serve_pool(e, pi, now_ns); /* the head may have been what blocked */
	}
	return AH_ENOENT;
}

int ah_engine_release(ah_engine *e, uint64_t id, int64_t now_ns)
{
	if (!e || !id)
		return AH_EINVAL;
	return eng_txn_run(e, now_ns, false, release_body, &id);
}

typedef struct {
	uint64_t id;
	int64_t ttl_ns;
	ah_renew_outcome o;
} renew_arg;

static int renew_body(ah_engine *e, int64_t now_ns, void *arg)
{
	renew_arg *r = arg;
	int s = slot_find(e, r->id);
	if (s < 0)
		return AH_ENOENT;
	alloc_t *a = &e->slots[s];
	int64_t ttl = r->ttl_ns > 0 ? r->ttl_ns : a->lease_ttl_ns;
	r->o.asked_ns = ttl;
	r->o.max_ns = e->pol->max_lease_ttl_ns;
	r->o.capped = ttl > e->pol->max_lease_ttl_ns;
	if (r->o.capped)
		ttl = e->pol->max_lease_ttl_ns;
	r->o.ttl_ns = ttl;
	a->expires_ns = now_ns + ttl;
	eng_heap_down(e, a->heap_idx);
	eng_heap_up(e, a->heap_idx);
	a = &e->slots[s];
	eng_led_put_alloc(e, a);
	eng_led_event(e, now_ns, AH_EV_RENEW, r->id, a->tenant, a->pool, a->klass, NULL, AH_R_NONE, NULL);
	r->o.expires_ns = a->expires_ns;
	return 0;
}

int ah_engine_renew_lease(ah_engine *e, uint64_t id, int64_t ttl_ns, int64_t now_ns, ah_renew_outcome *out)
{
	if (!e || !id || ttl_ns < 0)
		return AH_EINVAL;
	renew_arg r = {.id = id, .ttl_ns = ttl_ns};
	int rc = eng_txn_run(e, now_ns, false, renew_body, &r);
	if (!rc && out)
		*out = r.o;
	return rc;
}

int ah_engine_renew(ah_engine *e, uint64_t id, int64_t ttl_ns, int64_t now_ns, int64_t *out_expires_ns)
{
	ah_renew_outcome o;
	int rc = ah_engine_renew_lease(e, id, ttl_ns, now_ns, &o);
	if (!rc && out_expires_ns)
		*out_expires_ns = o.expires_ns;
	return rc;
}

int ah_engine_tick(ah_engine *e, int64_t now_ns)
{
	if (!e)
		return AH_EINVAL;
	return eng_txn_run(e, now_ns, false, NULL, NULL);
}

typedef struct {
	int pool;
	const ah_vec *capacity;
} capacity_arg;

static int capacity_body(ah_engine *e, int64_t now_ns, void *arg)
{
	const capacity_arg *c = arg;
	const int p = c->pool;
	ah_vec_sub(&e->total_cap, &e->pools[p].capacity, e->nd);
	e->pools[p].capacity = *c->capacity;
	ah_vec_add(&e->total_cap, c->capacity, e->nd);
	eng_note(e, AH_CHANGE_CAPACITY, 0, -1, p, -1, c->capacity, now_ns);
	if (e->ledger)
		eng_led_check(e, e->ledger->ops->put_pool_capacity(e->ledger, e->pol->pools[p].name, c->capacity));
	return eng_serve_pool(e, p, now_ns);
}

int ah_engine_set_capacity(ah_engine *e, const char *pool, const ah_vec *capacity, int64_t now_ns)
{
	if (!e || !pool || !capacity)
		return AH_EINVAL;
	int p = eng_find_pool(e, pool);
	if (p < 0)
		return AH_ENOENT;
	for (int i = 0; i < AH_MAX_DIMS; i++)
		if (capacity->v[i] < 0 || capacity->v[i] > AH_VALUE_MAX || (i >= e->nd && capacity->v[i]))
			return AH_ERANGE;
	capacity_arg c = {.pool = p, .capacity = capacity};
	return eng_txn_run(e, now_ns, false, capacity_body, &c);
}

void ah_engine_set_clock_skew(ah_engine *e, int64_t skew_ns)
{
	if (e)
		e->skew_ns = skew_ns > 0 ? skew_ns : 0;
}

void ah_engine_set_policy_generation(ah_engine *e, uint64_t gen)
{
	if (e)
		e->policy_gen = gen;
}
