/* ahead: the queue and pending grows: queue order, the grows that wait for room,
 * serving a pool when room frees, and advancing time (expiries, timeouts). */
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"

/* Does queued item a rank ahead of b? (priority, then DRF, then arrival) */
bool eng_ranks_ahead(const ah_engine *e, int pa, int ta, uint64_t seqa, int pb, int tb, uint64_t seqb)
{
	if (pa != pb)
		return pa > pb;
	if (ta != tb) {
		double sa = eng_dominant_share(e, ta), sb = eng_dominant_share(e, tb);
		if (sa != sb)
			return sa < sb;
	}
	return seqa < seqb;
}

/* The capacity a class may use in a pool: headroom is kept for classes at
 * or above the pool's headroom priority. */
void eng_class_limit(const ah_engine *e, int p, int k, ah_vec *lim)
{
	const ah_pool_policy *pp = &e->pol->pools[p];
	*lim = e->pools[p].capacity;
	if (prio(e, k) < pp->headroom_priority)
		for (int d = 0; d < e->nd; d++) {
			lim->v[d] -= pp->headroom.v[d];
			if (lim->v[d] < 0)
				lim->v[d] = 0;
		}
}

int eng_queue_best(const ah_engine *e, int pi)
{
	const pool_t *p = &e->pools[pi];
	bool nodes = eng_pool_on_nodes(e, pi);
	int best = -1;
	for (int i = 0; i < p->qn; i++) {
		const qitem_t *q = p->q[i];
		if (best >= 0 && !eng_ranks_ahead(e, prio(e, q->klass), q->tenant, q->seq, prio(e, p->q[best]->klass),
						  p->q[best]->tenant, p->q[best]->seq))
			continue;
		if (!nodes || !eng_node_waits(e, pi, q->sel, &q->res))
			best = i;
	}
	return best;
}

void eng_queue_remove_at(ah_engine *e, pool_t *p, int i)
{
	qitem_t *q = p->q[i];
	ah_vec_sub(&e->tenants[q->tenant].queued, &q->res, e->nd);
	memmove(&p->q[i], &p->q[i + 1], sizeof(p->q[0]) * (size_t)(p->qn - i - 1));
	p->qn--;
	e->nqueued--;
}

/* The most slot s could ever hold in dimension d: what its class may use
 * of the pool (at the pool's max when it is shaped: the scaler may grow it)
 * and what the tenant's quota leaves besides its other holdings. A pending
 * grow is clamped to it, so a grow that can never be served does not
 * block the pool's queue for ever. */
static int64_t attainable(const ah_engine *e, const alloc_t *a, int d)
{
	const ah_pool_policy *pp = &e->pol->pools[a->pool];
	ah_vec lim;
	eng_class_limit(e, a->pool, a->klass, &lim);
	int64_t m = lim.v[d];
	if (pp->shaping) {
		int64_t mx = pp->max_size.v[d];
		if (prio(e, a->klass) < pp->headroom_priority)
			mx -= pp->headroom.v[d];
		if (mx > m)
			m = mx;
	}
	const tenant_t *t = &e->tenants[a->tenant];
	int64_t q = t->lim.quota.v[d] - (t->used.v[d] - a->res.v[d]) - t->queued.v[d];
	if (q < m)
		m = q;
	return m < a->res.v[d] ? a->res.v[d] : m;
}

/* What slot s may wait for: want clamped to what class and quota can ever
 * allow; *more when that is still above its size. */
void eng_want_clamp(const ah_engine *e, const alloc_t *a, ah_vec *want, bool *more)
{
	*more = false;
	for (int d = 0; d < e->nd; d++) {
		int64_t m = attainable(e, a, d);
		if (want->v[d] > m)
			want->v[d] = m;
		if (want->v[d] > a->res.v[d])
			*more = true;
	}
}

/* Enters slot s in its pool's list of pending grows. */
int eng_want_list_add(ah_engine *e, int s)
{
	alloc_t *a = &e->slots[s];
	pool_t *p = &e->pools[a->pool];
	if (p->nwant == p->capwant) {
		int nc = p->capwant ? p->capwant * 2 : 16;
		int32_t *nw = realloc(p->wants, sizeof(*nw) * (size_t)nc);
		if (!nw)
			return AH_ENOMEM;
		p->wants = nw;
		p->capwant = nc;
	}
	p->wants[p->nwant++] = s;
	a->wanting = true;
	return 0;
}

int eng_want_set(ah_engine *e, int s, const ah_vec *want_in, int64_t now)
{
	alloc_t *a = &e->slots[s];
	ah_vec clamped = *want_in;
	const ah_vec *want = &clamped;
	bool more;
	eng_want_clamp(e, a, &clamped, &more);
	if (!more) {
		eng_want_drop(e, s);
		return 0;
	}
	bool fresh = !a->wanting;
	if (fresh) {
		int rc = eng_want_list_add(e, s);
		if (rc < 0)
			return rc;
		a = &e->slots[s];
		eng_cold(e, a)->want_since_ns = now;
	}
	alloc_cold_t *c = eng_cold(e, a);
	bool changed = fresh;
	for (int d = 0; d < e->nd && !changed; d++)
		changed = c->want.v[d] != want->v[d];
	if (changed) {
		/* the policy's dimensions only: beyond e->nd a vector holds nothing */
		for (int d = 0; d < AH_MAX_DIMS; d++)
			c->want.v[d] = d < e->nd ? want->v[d] : 0;
		eng_led_put_pending(e, a);
	}
	return 0;
}

void eng_want_drop(ah_engine *e, int s)
{
	alloc_t *a = &e->slots[s];
	if (!a->wanting)
		return;
	pool_t *p = &e->pools[a->pool];
	for (int i = 0; i < p->nwant; i++)
		if (p->wants[i] == s) {
			p->wants[i] = p->wants[--p->nwant];
			break;
		}
	a->wanting = false;
	eng_led_del_pending(e, a->id);
}

/* The pending grow to serve first: priority, then the longest waiting. */
static int want_best(const ah_engine *e, const pool_t *p)
{
	int best = -1;
	for (int i = 0; i < p->nwant; i++) {
		const alloc_t *a = &e->slots[p->wants[i]];
		if (best < 0) {
			best = p->wants[i];
			continue;
		}
		const alloc_t *b = &e->slots[best];
		int pa = prio(e, a->klass), pb = prio(e, b->klass);
		int64_t ta = eng_cold_peek(e, a)->want_since_ns, tb = eng_cold_peek(e, b)->want_since_ns;
		if (pa > pb || (pa == pb && (ta < tb || (ta == tb && a->id < b->id))))
			best = p->wants[i];
	}
	return best;
}

/* Writes a new size for slot s (accounting and ledger); no admission. */
void eng_apply_res(ah_engine *e, int s, const ah_vec *res, int64_t now_ns, const char *why)
{
	alloc_t *a = &e->slots[s];
	pool_t *p = &e->pools[a->pool];
	tenant_t *t = &e->tenants[a->tenant];
	for (int i = 0; i < e->nd; i++)
		if (res->v[i] < a->res.v[i])
			p->dirty = true; /* room freed: the queue and pending grows may use it */
	ah_vec_sub(&p->used, &a->res, e->nd);
	ah_vec_sub(&t->used, &a->res, e->nd);
	eng_node_account(e, a, -1);
	a->res = *res;
	ah_vec_add(&p->used, &a->res, e->nd);
	ah_vec_add(&t->used, &a->res, e->nd);
	eng_node_account(e, a, +1);
	a->last_resize_ns = now_ns;
	a->resizes++;
	eng_led_put_alloc(e, a);
	eng_led_event(e, now_ns, AH_EV_RESIZE, a->id, a->tenant, a->pool, a->klass, &a->res, AH_R_NONE, why);
}

/* Grows slot s towards `want` as far as the pool (for its class) and the
 * tenant's quota have room, dimension by dimension: a running workload
 * short of memory is better off with part of what it needs now than all of
 * it later. Returns 1 when `want` is reached, 0 otherwise. */
int eng_grow_toward(ah_engine *e, int s, const ah_vec *want, int64_t now, const char *why)
{
	alloc_t *a = &e->slots[s];
	pool_t *p = &e->pools[a->pool];
	tenant_t *t = &e->tenants[a->tenant];
	ah_vec lim, target = a->res;
	eng_class_limit(e, a->pool, a->klass, &lim);
	bool full = true, change = false;
	for (int d = 0; d < e->nd; d++) {
		int64_t need = want->v[d] - a->res.v[d];
		if (need <= 0)
			continue;
		int64_t room = lim.v[d] - p->used.v[d];
		int64_t qroom = t->lim.quota.v[d] - (t->used.v[d] + t->queued.v[d]);
		if (qroom < room)
			room = qroom;
		int64_t nroom = eng_node_free(e, a, d);
		if (nroom < room)
			room = nroom;
		if (room < 0)
			room = 0;
		int64_t unit = e->pol->pools[a->pool].unit.v[d] > 0 ? e->pol->pools[a->pool].unit.v[d] : 1;
		int64_t g = need <= room ? need : room / unit * unit;
		if (g < need)
			full = false;
		if (g > 0) {
			target.v[d] += g;
			change = true;
		}
	}
	if (change)
		eng_apply_res(e, s, &target, now, why);
	return full ? 1 : 0;
}

/* Serves pool pi while room lasts: pending grows of running allocations
 * and queued requests, one merged order by class priority (a grow wins a
 * tie: the work is already running and short). The first that does not
 * fit whole blocks the rest (no backfill), so large ones are not starved. */
int eng_serve_pool(ah_engine *e, int pi, int64_t now)
{
	pool_t *p = &e->pools[pi];
	p->dirty = false;
	while (p->qn > 0 || p->nwant > 0) {
		int g = want_best(e, p);
		int bi = p->qn > 0 ? eng_queue_best(e, pi) : -1;
		if (g < 0 && bi < 0)
			break; /* what waits, waits for a node */
		if (g >= 0 && (bi < 0 || prio(e, e->slots[g].klass) >= prio(e, p->q[bi]->klass))) {
			ah_vec want = eng_cold_peek(e, &e->slots[g])->want;
			int r = eng_grow_toward(e, g, &want, now, "pending grow: room freed");
			if (r == 1) {
				eng_want_drop(e, g);
				continue;
			}
			/* Not all of it fits. If the pool has room (a whole unit: less
			 * is no room, grows come in units) in a dimension the grow
			 * still wants, the tenant's quota (not the pool) holds it
			 * back: it must not block others; it is stated again at the
			 * allocation's next report. */
			ah_vec lim;
			eng_class_limit(e, pi, e->slots[g].klass, &lim);
			const ah_vec *unit = &e->pol->pools[pi].unit;
			bool room = false;
			for (int d = 0; d < e->nd; d++)
				if (want.v[d] > e->slots[g].res.v[d] &&
				    lim.v[d] - p->used.v[d] >= (unit->v[d] > 0 ? unit->v[d] : 1))
					room = true;
			if (room) {
				eng_want_drop(e, g);
				continue;
			}
			break;
		}
		qitem_t *q = p->q[bi];
		ah_vec lim;
		eng_class_limit(e, pi, q->klass, &lim);
		if (!ah_vec_fits(&p->used, &q->res, &lim, e->nd))
			break;
		int node = -1;
		if (eng_pool_on_nodes(e, pi) && (node = eng_node_pick(e, pi, q->klass, q->wl, q->sel, &q->res, -1, NULL, 0)) < 0)
			break; /* the pool has room in sum, no node has it whole */
		alloc_t a = {
			.id = q->id,
			.tenant = q->tenant,
			.pool = q->pool,
			.klass = q->klass,
			.res = q->res,
			.created_ns = now,
			.lease_ttl_ns = q->lease_ttl_ns,
			.expires_ns = now + q->lease_ttl_ns,
			.params = q->params,
			.node1 = (int16_t)(node + 1),
			.wl = q->wl,
			.sel = q->sel,
		};
		eng_node_precond(e, node);
		eng_queue_remove_at(e, p, bi);
		int s = eng_alloc_insert(e, &a);
		if (s < 0) {
			free(q->params);
			free(q);
			return s;
		}
		free(q);
		eng_led_del_queued(e, a.id);
		eng_led_put_alloc(e, &e->slots[s]);
		eng_led_event(e, now, AH_EV_DEQUEUE, a.id, a.tenant, a.pool, a.klass, &a.res, AH_R_NONE, NULL);
	}
	p->dirty = false;
	return 0;
}

/* Serves pool pi if room was freed there and someone waits for it. */
int eng_serve_if_freed(ah_engine *e, int pi, int64_t now)
{
	pool_t *p = &e->pools[pi];
	if (p->dirty && (p->qn > 0 || p->nwant > 0))
		return eng_serve_pool(e, pi, now);
	return 0;
}

/* Serves every pool someone waits in, so no claim that fits is left
 * waiting when a call returns: the state a call commits is the state an
 * engine rebuilt from the ledger (which serves every pool once) holds. */
int eng_serve_waiting(ah_engine *e, int64_t now)
{
	for (int pi = 0; pi < e->pol->n_pools; pi++) {
		const pool_t *p = &e->pools[pi];
		if (p->qn > 0 || p->nwant > 0) {
			int rc = eng_serve_pool(e, pi, now);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* Reclaims expired leases, times out queued requests, serves queues. */
int eng_advance(ah_engine *e, int64_t now)
{
	/* what has ended by now on every instance's clock, not only this one's */
	const int64_t due = now < INT64_MIN + e->skew_ns ? INT64_MIN : now - e->skew_ns;
	while (e->heap_n > 0 && e->slots[e->heap[0]].expires_ns <= due) {
		int s = e->heap[0];
		alloc_t *a = &e->slots[s];
		eng_led_del_alloc(e, a->id);
		eng_led_event(e, now, AH_EV_EXPIRE, a->id, a->tenant, a->pool, a->klass, &a->res, AH_R_NONE,
			"lease expired");
		eng_alloc_remove(e, s);
	}
	if (e->nqueued > 0 && due >= e->min_deadline_ns) {
		int64_t next = INT64_MAX;
		for (int pi = 0; pi < e->pol->n_pools; pi++) {
			pool_t *p = &e->pools[pi];
			for (int i = 0; i < p->qn;) {
				qitem_t *q = p->q[i];
				if (q->deadline_ns <= due) {
					eng_led_del_queued(e, q->id);
					eng_led_event(e, now, AH_EV_TIMEOUT, q->id, q->tenant, q->pool, q->klass, &q->res,
						AH_R_TIMEOUT, "queued request timed out");
					eng_queue_remove_at(e, p, i);
					free(q->params);
					free(q);
					p->dirty = true; /* the head may have changed */
					continue;
				}
				if (q->deadline_ns < next)
					next = q->deadline_ns;
				i++;
			}
		}
		e->min_deadline_ns = next;
	}
	for (int pi = 0; pi < e->pol->n_pools; pi++) {
		int rc = eng_serve_if_freed(e, pi, now);
		if (rc < 0)
			return rc;
		e->pools[pi].dirty = false;
	}
	return 0;
}

/* Finds a queued request by id: pool index and position. */
bool eng_queue_find(const ah_engine *e, uint64_t id, int *pi, int *qi)
{
	for (int p = 0; p < e->pol->n_pools; p++)
		for (int i = 0; i < e->pools[p].qn; i++)
			if (e->pools[p].q[i]->id == id) {
				*pi = p;
				*qi = i;
				return true;
			}
	return false;
}
