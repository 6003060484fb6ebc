/* ahead: the allocation engine (see include/ahead/engine.h for the rules).
 *
 * State: pools (capacity, used, a queue in arrival order), tenants (used,
 * queued, token bucket), allocations in a slot array indexed by an
 * open-addressing hash on id, and a min-heap of lease expiries. The hot path
 * (request that fits, release) does no allocation unless the request carries
 * parameters. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/engine.h"
#include "ahead/error.h"

typedef struct {
	uint64_t id; /* 0 = free slot */
	int32_t tenant, pool, klass;
	int32_t heap_idx;
	int32_t next_free;
	ah_vec res;
	int64_t created_ns, expires_ns, lease_ttl_ns;
	char *params;
	/* usage-driven adjustment (not persisted: a restart starts the shrink
	 * window over, which only delays a shrink) */
	int64_t below_since_ns, last_resize_ns;
	uint32_t resizes; /* resize record handed to sizers (ah_resize_budget) */
	ah_vec window_peak;
	uint32_t window_seen; /* dimensions measured during the shrink window */
	/* A grow that did not fit (pending until room frees; served in
	 * priority order with the queue). Persisted (put_pending), so an
	 * engine reloaded from the ledger keeps its place for it. */
	bool wanting;
	ah_vec want;
	int64_t want_since_ns;
} alloc_t;

typedef struct {
	uint64_t id, seq;
	int32_t tenant, pool, klass;
	ah_vec res;
	int64_t arrival_ns, deadline_ns, lease_ttl_ns;
	char *params;
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
	int nslots, cap_slots, free_head, nallocs;
	int32_t *hash; /* alloc id -> slot, -1 empty */
	uint32_t hash_mask;
	int32_t *heap; /* slots ordered by expires_ns */
	int heap_n;

	int nqueued;
	int64_t min_deadline_ns;
	uint64_t next_id, next_seq;
	bool next_id_dirty;

	bool in_batch, in_txn, broken;
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
};

static const char *reason_codes[AH_R__COUNT] = {
	"none", "unknown_pool", "unknown_tenant", "unknown_class", "invalid_request",
	"policy_violation", "quota_exceeded", "rate_limited", "exceeds_capacity",
	"no_capacity", "queue_full", "queue_timeout",
};

const char *ah_reason_code(ah_reason r)
{
	if ((int)r < 0 || r >= AH_R__COUNT)
		return "unknown";
	return reason_codes[r];
}

/* ---------- ledger calls: errors are latched and checked at commit ------- */

static void L_check(ah_engine *e, int rc)
{
	if (rc < 0 && !e->store_err)
		e->store_err = rc;
}

/* ---------- observers: changes buffered until the commit ---------- */

static const char *const change_names[AH_CHANGE__COUNT] = {
	"grant", "dequeue", "resize", "preempt", "expire", "release", "cancel", "queue", "timeout", "capacity",
};

const char *ah_change_kind_name(ah_change_kind k)
{
	if ((int)k < 0 || k >= AH_CHANGE__COUNT)
		return "unknown";
	return change_names[k];
}

int ah_engine_add_observer(ah_engine *e, const ah_engine_observer *o)
{
	if (!e || !o || !o->on_event)
		return AH_EINVAL;
	if (e->nobs == AH_ENGINE_MAX_OBSERVERS)
		return AH_ETOOBIG;
	e->obs[e->nobs++] = *o;
	return 0;
}

static void note(ah_engine *e, ah_change_kind kind, uint64_t id, int t, int p, int k, const ah_vec *res,
		 int64_t now)
{
	if (!e->nobs)
		return;
	if (e->nchg == e->capchg) {
		int nc = e->capchg ? e->capchg * 2 : 16;
		change_t *n = realloc(e->chg, sizeof(*n) * (size_t)nc);
		if (!n) {
			/* Observers must not miss a change: fail the transaction. */
			if (!e->store_err)
				e->store_err = AH_ENOMEM;
			return;
		}
		e->chg = n;
		e->capchg = nc;
	}
	change_t *c = &e->chg[e->nchg++];
	*c = (change_t){.kind = kind, .tenant = t, .pool = p, .klass = k, .id = id, .t_ns = now};
	if (res)
		c->res = *res;
	else
		memset(&c->res, 0, sizeof(c->res));
}

/* The ledger events observers see, as changes (-1: not a change). */
static int change_of_event(ah_event_kind k)
{
	switch (k) {
	case AH_EV_GRANT: return AH_CHANGE_GRANT;
	case AH_EV_DEQUEUE: return AH_CHANGE_DEQUEUE;
	case AH_EV_RESIZE: return AH_CHANGE_RESIZE;
	case AH_EV_PREEMPT: return AH_CHANGE_PREEMPT;
	case AH_EV_EXPIRE: return AH_CHANGE_EXPIRE;
	case AH_EV_RELEASE: return AH_CHANGE_RELEASE;
	case AH_EV_CANCEL: return AH_CHANGE_CANCEL;
	case AH_EV_QUEUE: return AH_CHANGE_QUEUE;
	case AH_EV_TIMEOUT: return AH_CHANGE_TIMEOUT;
	default: return -1;
	}
}

/* Runs after a successful commit, outside any transaction. */
static void deliver(ah_engine *e)
{
	e->delivering = true;
	for (int i = 0; i < e->nchg; i++) {
		const change_t *c = &e->chg[i];
		ah_engine_change ch = {
			.kind = c->kind,
			.t_ns = c->t_ns,
			.id = c->id,
			.tenant = c->tenant >= 0 ? e->tenants[c->tenant].name : NULL,
			.pool = c->pool >= 0 ? e->pol->pools[c->pool].name : NULL,
			.klass = c->klass >= 0 ? e->pol->classes[c->klass].name : NULL,
			.res = c->res,
		};
		for (int o = 0; o < e->nobs; o++)
			e->obs[o].on_event(e->obs[o].ctx, &ch);
	}
	e->nchg = 0;
	e->delivering = false;
}

static void L_event(ah_engine *e, int64_t now, ah_event_kind kind, uint64_t id, int t, int p, int k,
		    const ah_vec *res, ah_reason reason, const char *detail)
{
	int ck = change_of_event(kind);
	if (ck >= 0)
		note(e, (ah_change_kind)ck, id, t, p, k, res, now);
	if (!e->ledger)
		return;
	ah_ledger_event ev = {
		.t_ns = now,
		.kind = kind,
		.id = id,
		.tenant = t >= 0 ? e->tenants[t].name : NULL,
		.pool = p >= 0 ? e->pol->pools[p].name : NULL,
		.klass = k >= 0 ? e->pol->classes[k].name : NULL,
		.res = res,
		.reason = reason ? ah_reason_code(reason) : NULL,
		.detail = detail,
	};
	L_check(e, e->ledger->ops->event(e->ledger, &ev));
}

static void L_put_alloc(ah_engine *e, const alloc_t *a)
{
	if (!e->ledger)
		return;
	ah_ledger_row r = {
		.id = a->id,
		.tenant = e->tenants[a->tenant].name,
		.pool = e->pol->pools[a->pool].name,
		.klass = e->pol->classes[a->klass].name,
		.res = a->res,
		.params = a->params ? a->params : "",
		.created_ns = a->created_ns,
		.expires_ns = a->expires_ns,
		.lease_ttl_ns = a->lease_ttl_ns,
	};
	L_check(e, e->ledger->ops->put_alloc(e->ledger, &r));
}

static void L_put_queued(ah_engine *e, const qitem_t *q)
{
	if (!e->ledger)
		return;
	ah_ledger_row r = {
		.id = q->id,
		.tenant = e->tenants[q->tenant].name,
		.pool = e->pol->pools[q->pool].name,
		.klass = e->pol->classes[q->klass].name,
		.res = q->res,
		.params = q->params ? q->params : "",
		.created_ns = q->arrival_ns,
		.expires_ns = q->deadline_ns,
		.lease_ttl_ns = q->lease_ttl_ns,
		.seq = q->seq,
	};
	L_check(e, e->ledger->ops->put_queued(e->ledger, &r));
}

static void L_del_alloc(ah_engine *e, uint64_t id)
{
	if (e->ledger)
		L_check(e, e->ledger->ops->del_alloc(e->ledger, id));
}

static void L_del_queued(ah_engine *e, uint64_t id)
{
	if (e->ledger)
		L_check(e, e->ledger->ops->del_queued(e->ledger, id));
}

static void L_put_pending(ah_engine *e, const alloc_t *a)
{
	if (e->ledger && e->ledger->ops->put_pending)
		L_check(e, e->ledger->ops->put_pending(e->ledger, a->id, &a->want, a->want_since_ns));
}

static void L_del_pending(ah_engine *e, uint64_t id)
{
	if (e->ledger && e->ledger->ops->del_pending)
		L_check(e, e->ledger->ops->del_pending(e->ledger, id));
}

/* ---------- tenants ---------- */

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static int thash_rebuild(ah_engine *e, uint32_t size)
{
	int32_t *h = malloc(sizeof(*h) * size);
	if (!h)
		return AH_ENOMEM;
	memset(h, 0xff, sizeof(*h) * size);
	for (int i = 0; i < e->ntenants; i++) {
		uint32_t j = name_hash(e->tenants[i].name) & (size - 1);
		while (h[j] >= 0)
			j = (j + 1) & (size - 1);
		h[j] = i;
	}
	free(e->thash);
	e->thash = h;
	e->thash_mask = size - 1;
	return 0;
}

static int tenant_find(const ah_engine *e, const char *name)
{
	uint32_t j = name_hash(name) & e->thash_mask;
	while (e->thash[j] >= 0) {
		if (!strcmp(e->tenants[e->thash[j]].name, name))
			return e->thash[j];
		j = (j + 1) & e->thash_mask;
	}
	return -1;
}

static bool valid_name(const char *s)
{
	if (!s)
		return false;
	size_t n = strlen(s);
	if (n == 0 || n >= AH_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

static int tenant_add(ah_engine *e, const char *name, const ah_tenant_policy *lim)
{
	if (e->ntenants == e->cap_tenants) {
		int nc = e->cap_tenants ? e->cap_tenants * 2 : 16;
		tenant_t *nt = realloc(e->tenants, sizeof(*nt) * (size_t)nc);
		if (!nt)
			return AH_ENOMEM;
		e->tenants = nt;
		e->cap_tenants = nc;
	}
	tenant_t *t = &e->tenants[e->ntenants];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->lim = *lim;
	e->ntenants++;
	if ((uint32_t)e->ntenants * 2 > e->thash_mask + 1) {
		int rc = thash_rebuild(e, (e->thash_mask + 1) * 2);
		if (rc < 0) {
			e->ntenants--;
			return rc;
		}
	} else {
		uint32_t j = name_hash(name) & e->thash_mask;
		while (e->thash[j] >= 0)
			j = (j + 1) & e->thash_mask;
		e->thash[j] = e->ntenants - 1;
	}
	return e->ntenants - 1;
}

/* Dominant resource share of a tenant against the total capacity (DRF). */
static double dominant_share(const ah_engine *e, int t)
{
	double s = 0;
	for (int d = 0; d < e->nd; d++) {
		if (e->total_cap.v[d] <= 0)
			continue;
		double x = (double)e->tenants[t].used.v[d] / (double)e->total_cap.v[d];
		if (x > s)
			s = x;
	}
	return s;
}

/* Token bucket: refill at rate_per_s, cap at burst, take one token. */
static bool rate_take(tenant_t *t, int64_t now)
{
	if (t->lim.rate_per_s <= 0)
		return true;
	double burst = t->lim.burst > 0 ? t->lim.burst : (t->lim.rate_per_s > 1 ? t->lim.rate_per_s : 1);
	if (!t->bucket_init) {
		t->tokens = burst;
		t->last_ns = now;
		t->bucket_init = true;
	}
	if (now > t->last_ns) {
		t->tokens += (double)(now - t->last_ns) * 1e-9 * t->lim.rate_per_s;
		if (t->tokens > burst)
			t->tokens = burst;
		t->last_ns = now;
	}
	if (t->tokens < 1.0)
		return false;
	t->tokens -= 1.0;
	return true;
}

/* ---------- allocation table: slots, id hash, expiry heap ---------- */

static inline uint32_t id_hash(uint64_t id)
{
	return (uint32_t)((id * 0x9E3779B97F4A7C15ull) >> 32);
}

static int hash_grow(ah_engine *e)
{
	uint32_t size = e->hash ? (e->hash_mask + 1) * 2 : 1024;
	int32_t *h = malloc(sizeof(*h) * size);
	if (!h)
		return AH_ENOMEM;
	memset(h, 0xff, sizeof(*h) * size);
	for (int i = 0; i < e->nslots; i++) {
		if (!e->slots[i].id)
			continue;
		uint32_t j = id_hash(e->slots[i].id) & (size - 1);
		while (h[j] >= 0)
			j = (j + 1) & (size - 1);
		h[j] = i;
	}
	free(e->hash);
	e->hash = h;
	e->hash_mask = size - 1;
	return 0;
}

static int slot_find(const ah_engine *e, uint64_t id)
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

static void hash_remove(ah_engine *e, uint64_t id)
{
	uint32_t m = e->hash_mask, j = id_hash(id) & m;
	while (e->hash[j] >= 0 && e->slots[e->hash[j]].id != id)
		j = (j + 1) & m;
	if (e->hash[j] < 0)
		return;
	/* Backward-shift deletion keeps probe chains intact without tombstones. */
	uint32_t i = j;
	for (;;) {
		e->hash[i] = -1;
		uint32_t k = i;
		for (;;) {
			k = (k + 1) & m;
			if (e->hash[k] < 0)
				return;
			uint32_t home = id_hash(e->slots[e->hash[k]].id) & m;
			/* Move k back to i unless its home lies cyclically in (i, k]. */
			if ((i <= k) ? (i < home && home <= k) : (i < home || home <= k))
				continue;
			e->hash[i] = e->hash[k];
			i = k;
			break;
		}
	}
}

static inline bool heap_less(const ah_engine *e, int a, int b)
{
	const alloc_t *x = &e->slots[e->heap[a]], *y = &e->slots[e->heap[b]];
	return x->expires_ns < y->expires_ns || (x->expires_ns == y->expires_ns && x->id < y->id);
}

static inline void heap_swap(ah_engine *e, int a, int b)
{
	int32_t t = e->heap[a];
	e->heap[a] = e->heap[b];
	e->heap[b] = t;
	e->slots[e->heap[a]].heap_idx = a;
	e->slots[e->heap[b]].heap_idx = b;
}

static void heap_up(ah_engine *e, int i)
{
	while (i > 0) {
		int p = (i - 1) / 2;
		if (!heap_less(e, i, p))
			break;
		heap_swap(e, i, p);
		i = p;
	}
}

static void heap_down(ah_engine *e, int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;
		if (l < e->heap_n && heap_less(e, l, m))
			m = l;
		if (r < e->heap_n && heap_less(e, r, m))
			m = r;
		if (m == i)
			return;
		heap_swap(e, i, m);
		i = m;
	}
}

static void heap_remove(ah_engine *e, int i)
{
	e->heap_n--;
	if (i != e->heap_n) {
		heap_swap(e, i, e->heap_n);
		heap_down(e, i);
		heap_up(e, i);
	}
}

/* Inserts a new allocation; returns its slot or a negative error. */
static int alloc_insert(ah_engine *e, const alloc_t *src)
{
	if ((uint32_t)(e->nallocs + 1) * 2 > (e->hash ? e->hash_mask + 1 : 0)) {
		int rc = hash_grow(e);
		if (rc < 0)
			return rc;
	}
	int s;
	if (e->free_head >= 0) {
		s = e->free_head;
		e->free_head = e->slots[s].next_free;
	} else {
		if (e->nslots == e->cap_slots) {
			int nc = e->cap_slots ? e->cap_slots * 2 : 1024;
			alloc_t *ns = realloc(e->slots, sizeof(*ns) * (size_t)nc);
			int32_t *nh = realloc(e->heap, sizeof(*nh) * (size_t)nc);
			if (ns)
				e->slots = ns;
			if (nh)
				e->heap = nh;
			if (!ns || !nh)
				return AH_ENOMEM;
			e->cap_slots = nc;
		}
		s = e->nslots++;
	}
	alloc_t *a = &e->slots[s];
	*a = *src;
	a->next_free = -1;
	uint32_t j = id_hash(a->id) & e->hash_mask;
	while (e->hash[j] >= 0)
		j = (j + 1) & e->hash_mask;
	e->hash[j] = s;
	e->heap[e->heap_n] = s;
	a->heap_idx = e->heap_n++;
	heap_up(e, a->heap_idx);
	e->nallocs++;
	pool_t *p = &e->pools[a->pool];
	ah_vec_add(&p->used, &a->res, e->nd);
	p->n_allocs++;
	ah_vec_add(&e->tenants[a->tenant].used, &a->res, e->nd);
	return s;
}

static void want_drop(ah_engine *e, int s);

static void alloc_remove(ah_engine *e, int s)
{
	alloc_t *a = &e->slots[s];
	pool_t *p = &e->pools[a->pool];
	want_drop(e, s);
	if (e->has_sizer && e->sizer.forget)
		e->sizer.forget(e->sizer.ctx, a->id);
	ah_vec_sub(&p->used, &a->res, e->nd);
	p->n_allocs--;
	p->dirty = true;
	ah_vec_sub(&e->tenants[a->tenant].used, &a->res, e->nd);
	heap_remove(e, a->heap_idx);
	hash_remove(e, a->id);
	free(a->params);
	a->params = NULL;
	a->id = 0;
	a->next_free = e->free_head;
	e->free_head = s;
	e->nallocs--;
}

/* ---------- queue ---------- */

/* Does queued item a rank ahead of b? (priority, then DRF, then arrival) */
static bool ranks_ahead(const ah_engine *e, int pa, int ta, uint64_t seqa, int pb, int tb, uint64_t seqb)
{
	if (pa != pb)
		return pa > pb;
	if (ta != tb) {
		double sa = dominant_share(e, ta), sb = dominant_share(e, tb);
		if (sa != sb)
			return sa < sb;
	}
	return seqa < seqb;
}

static int prio(const ah_engine *e, int k)
{
	return e->pol->classes[k].priority;
}

/* The capacity a class may use in a pool: headroom is kept for classes at
 * or above the pool's headroom priority. */
static void class_limit(const ah_engine *e, int p, int k, ah_vec *lim)
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

static int queue_best(const ah_engine *e, const pool_t *p)
{
	int best = -1;
	for (int i = 0; i < p->qn; i++) {
		const qitem_t *q = p->q[i];
		if (best < 0 || ranks_ahead(e, prio(e, q->klass), q->tenant, q->seq, prio(e, p->q[best]->klass),
					    p->q[best]->tenant, p->q[best]->seq))
			best = i;
	}
	return best;
}

static void queue_remove_at(ah_engine *e, pool_t *p, int i)
{
	qitem_t *q = p->q[i];
	ah_vec_sub(&e->tenants[q->tenant].queued, &q->res, e->nd);
	memmove(&p->q[i], &p->q[i + 1], sizeof(p->q[0]) * (size_t)(p->qn - i - 1));
	p->qn--;
	e->nqueued--;
}

static int64_t lease_ttl_for(const ah_engine *e, int k, int64_t asked)
{
	if (asked > 0)
		return asked;
	if (e->pol->classes[k].lease_ttl_ns > 0)
		return e->pol->classes[k].lease_ttl_ns;
	return e->pol->lease_ttl_ns;
}

/* ---------- pending grows ---------- */

/* The most slot s could ever hold in dimension d: what its class may use
 * of the pool (at the pool's max when it is shaped: the scaler may grow it)
 * and what the tenant's quota leaves besides its other holdings. A pending
 * grow is clamped to it, so a grow that can never be served does not
 * block the pool's queue for ever. */
static int64_t attainable(const ah_engine *e, const alloc_t *a, int d)
{
	const ah_pool_policy *pp = &e->pol->pools[a->pool];
	ah_vec lim;
	class_limit(e, a->pool, a->klass, &lim);
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

/* Enters slot s in its pool's list of pending grows. */
static int want_list_add(ah_engine *e, int s)
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

static int want_set(ah_engine *e, int s, const ah_vec *want_in, int64_t now)
{
	alloc_t *a = &e->slots[s];
	ah_vec clamped = *want_in;
	const ah_vec *want = &clamped;
	bool more = false;
	for (int d = 0; d < e->nd; d++) {
		int64_t m = attainable(e, a, d);
		if (clamped.v[d] > m)
			clamped.v[d] = m;
		if (clamped.v[d] > a->res.v[d])
			more = true;
	}
	if (!more) {
		want_drop(e, s);
		return 0;
	}
	bool fresh = !a->wanting;
	if (fresh) {
		int rc = want_list_add(e, s);
		if (rc < 0)
			return rc;
		a->want_since_ns = now;
	}
	if (fresh || memcmp(&a->want, want, sizeof(*want))) {
		a->want = *want;
		L_put_pending(e, a);
	}
	return 0;
}

static void want_drop(ah_engine *e, int s)
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
	L_del_pending(e, a->id);
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
		if (pa > pb || (pa == pb && (a->want_since_ns < b->want_since_ns ||
					     (a->want_since_ns == b->want_since_ns && a->id < b->id))))
			best = p->wants[i];
	}
	return best;
}

/* Writes a new size for slot s (accounting and ledger); no admission. */
static void apply_res(ah_engine *e, int s, const ah_vec *res, int64_t now_ns, const char *why)
{
	alloc_t *a = &e->slots[s];
	pool_t *p = &e->pools[a->pool];
	tenant_t *t = &e->tenants[a->tenant];
	for (int i = 0; i < e->nd; i++)
		if (res->v[i] < a->res.v[i])
			p->dirty = true; /* room freed: the queue and pending grows may use it */
	ah_vec_sub(&p->used, &a->res, e->nd);
	ah_vec_sub(&t->used, &a->res, e->nd);
	a->res = *res;
	ah_vec_add(&p->used, &a->res, e->nd);
	ah_vec_add(&t->used, &a->res, e->nd);
	a->last_resize_ns = now_ns;
	a->resizes++;
	L_put_alloc(e, a);
	L_event(e, now_ns, AH_EV_RESIZE, a->id, a->tenant, a->pool, a->klass, &a->res, AH_R_NONE, why);
}

/* Grows slot s towards `want` as far as the pool (for its class) and the
 * tenant's quota have room, dimension by dimension: a running workload
 * short of memory is better off with part of what it needs now than all of
 * it later. Returns 1 when `want` is reached, 0 otherwise. */
static int grow_toward(ah_engine *e, int s, const ah_vec *want, int64_t now, const char *why)
{
	alloc_t *a = &e->slots[s];
	pool_t *p = &e->pools[a->pool];
	tenant_t *t = &e->tenants[a->tenant];
	ah_vec lim, target = a->res;
	class_limit(e, a->pool, a->klass, &lim);
	bool full = true, change = false;
	for (int d = 0; d < e->nd; d++) {
		int64_t need = want->v[d] - a->res.v[d];
		if (need <= 0)
			continue;
		int64_t room = lim.v[d] - p->used.v[d];
		int64_t qroom = t->lim.quota.v[d] - (t->used.v[d] + t->queued.v[d]);
		if (qroom < room)
			room = qroom;
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
		apply_res(e, s, &target, now, why);
	return full ? 1 : 0;
}

/* Serves pool pi while room lasts: pending grows of running allocations
 * and queued requests, one merged order by class priority (a grow wins a
 * tie: the work is already running and short). The first that does not
 * fit whole blocks the rest (no backfill), so large ones are not starved. */
static int serve_pool(ah_engine *e, int pi, int64_t now)
{
	pool_t *p = &e->pools[pi];
	p->dirty = false;
	while (p->qn > 0 || p->nwant > 0) {
		int g = want_best(e, p);
		int bi = p->qn > 0 ? queue_best(e, p) : -1;
		if (g >= 0 && (bi < 0 || prio(e, e->slots[g].klass) >= prio(e, p->q[bi]->klass))) {
			ah_vec want = e->slots[g].want;
			int r = grow_toward(e, g, &want, now, "pending grow: room freed");
			if (r == 1) {
				want_drop(e, g);
				continue;
			}
			/* Not all of it fits. If the pool has room in a dimension the
			 * grow still wants, the tenant's quota (not the pool) holds it
			 * back: it must not block others; it is stated again at the
			 * allocation's next report. */
			ah_vec lim;
			class_limit(e, pi, e->slots[g].klass, &lim);
			bool room = false;
			for (int d = 0; d < e->nd; d++)
				if (want.v[d] > e->slots[g].res.v[d] && lim.v[d] > p->used.v[d])
					room = true;
			if (room) {
				want_drop(e, g);
				continue;
			}
			break;
		}
		qitem_t *q = p->q[bi];
		ah_vec lim;
		class_limit(e, pi, q->klass, &lim);
		if (!ah_vec_fits(&p->used, &q->res, &lim, e->nd))
			break;
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
		};
		queue_remove_at(e, p, bi);
		int s = alloc_insert(e, &a);
		if (s < 0) {
			free(q->params);
			free(q);
			return s;
		}
		free(q);
		L_del_queued(e, a.id);
		L_put_alloc(e, &e->slots[s]);
		L_event(e, now, AH_EV_DEQUEUE, a.id, a.tenant, a.pool, a.klass, &a.res, AH_R_NONE, NULL);
	}
	p->dirty = false;
	return 0;
}

/* Serves pool pi if room was freed there and someone waits for it. */
static int serve_if_freed(ah_engine *e, int pi, int64_t now)
{
	pool_t *p = &e->pools[pi];
	if (p->dirty && (p->qn > 0 || p->nwant > 0))
		return serve_pool(e, pi, now);
	return 0;
}

/* Reclaims expired leases, times out queued requests, serves queues. */
static int advance(ah_engine *e, int64_t now)
{
	while (e->heap_n > 0 && e->slots[e->heap[0]].expires_ns <= now) {
		int s = e->heap[0];
		alloc_t *a = &e->slots[s];
		L_del_alloc(e, a->id);
		L_event(e, now, AH_EV_EXPIRE, a->id, a->tenant, a->pool, a->klass, &a->res, AH_R_NONE,
			"lease expired");
		alloc_remove(e, s);
	}
	if (e->nqueued > 0 && now >= e->min_deadline_ns) {
		int64_t next = INT64_MAX;
		for (int pi = 0; pi < e->pol->n_pools; pi++) {
			pool_t *p = &e->pools[pi];
			for (int i = 0; i < p->qn;) {
				qitem_t *q = p->q[i];
				if (q->deadline_ns <= now) {
					L_del_queued(e, q->id);
					L_event(e, now, AH_EV_TIMEOUT, q->id, q->tenant, q->pool, q->klass, &q->res,
						AH_R_TIMEOUT, "queued request timed out");
					queue_remove_at(e, p, i);
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
		int rc = serve_if_freed(e, pi, now);
		if (rc < 0)
			return rc;
		e->pools[pi].dirty = false;
	}
	return 0;
}

/* ---------- transactions ---------- */

static int load_state(ah_engine *e, int64_t now);

static int txn_begin(ah_engine *e, int64_t now)
{
	if (e->delivering)
		return AH_ESTATE; /* an observer may look, not act */
	if (e->broken)
		return AH_ESTORE;
	if (!e->ledger || e->in_txn)
		return 0;
	int rc = e->ledger->ops->begin(e->ledger);
	if (rc < 0)
		return rc;
	e->in_txn = true;
	e->store_err = 0;
	if (rc == 1) { /* another process wrote: rebuild from the ledger first */
		rc = load_state(e, now);
		if (rc < 0) {
			e->ledger->ops->rollback(e->ledger);
			e->in_txn = false;
			e->broken = true;
			return rc;
		}
	}
	return 0;
}

static int txn_end(ah_engine *e)
{
	if (!e->ledger) {
		if (!e->in_batch)
			deliver(e);
		return 0;
	}
	if (e->in_batch)
		return e->store_err;
	int rc = e->store_err;
	if (!rc && e->next_id_dirty) {
		rc = e->ledger->ops->set_next_id(e->ledger, e->next_id);
		e->next_id_dirty = false;
	}
	if (!rc)
		rc = e->ledger->ops->commit(e->ledger);
	else
		e->ledger->ops->rollback(e->ledger);
	e->in_txn = false;
	if (rc < 0) {
		/* Memory and ledger may now disagree: refuse work until reloaded. */
		e->broken = true;
		e->nchg = 0; /* nothing of it happened */
		return rc;
	}
	deliver(e);
	return 0;
}

int ah_engine_batch_begin(ah_engine *e)
{
	if (!e || e->in_batch)
		return AH_ESTATE;
	int rc = txn_begin(e, INT64_MIN);
	if (rc < 0)
		return rc;
	e->in_batch = true;
	return 0;
}

int ah_engine_batch_end(ah_engine *e)
{
	if (!e || !e->in_batch)
		return AH_ESTATE;
	e->in_batch = false;
	return txn_end(e);
}

/* Errors that are answers, not failures (unknown id, no room, over quota,
 * against policy): the transaction still commits what it did before. */
static bool soft_error(int rc)
{
	return rc == AH_ENOENT || rc == AH_ECAPACITY || rc == AH_EQUOTA || rc == AH_EPOLICY || rc == AH_ERATE;
}

typedef int (*txn_body)(ah_engine *e, int64_t now, void *arg);

/* The shape of every mutating call: one transaction that (re)loads the
 * ledger's state if asked, advances to now (expiries, timeouts, serving),
 * runs body (may be NULL), and commits; a hard error rolls it back. */
static int txn_run(ah_engine *e, int64_t now, bool load, txn_body body, void *arg)
{
	int rc = txn_begin(e, now);
	if (rc < 0)
		return rc;
	if (load)
		rc = load_state(e, now);
	if (!rc)
		rc = advance(e, now);
	if (!rc && body)
		rc = body(e, now, arg);
	if (rc < 0 && !soft_error(rc) && !e->store_err)
		e->store_err = rc;
	int rc2 = txn_end(e);
	return rc < 0 ? rc : rc2;
}

/* ---------- the request path ---------- */

static void refuse(ah_decision *d, ah_reason r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void refuse(ah_decision *d, ah_reason r, const char *fmt, ...)
{
	va_list ap;
	d->outcome = AH_REFUSED;
	d->reason = r;
	va_start(ap, fmt);
	vsnprintf(d->message, sizeof(d->message), fmt, ap);
	va_end(ap);
}

static void add_correction(ah_decision *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_correction(ah_decision *d, const char *fmt, ...)
{
	size_t n = strlen(d->corrections);
	if (n + 3 >= sizeof(d->corrections))
		return;
	if (n) {
		memcpy(d->corrections + n, "; ", 3);
		n += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->corrections + n, sizeof(d->corrections) - n, fmt, ap);
	va_end(ap);
}

static void fmt_val(const ah_engine *e, int dim, int64_t v, char *buf, size_t len)
{
	if (ah_unit_format(e->pol->dims.kind[dim], v, buf, len) < 0)
		snprintf(buf, len, "%lld", (long long)v);
}

/* Policy check per dimension: min request, unit, class maximum. Corrects
 * when the policy says autocorrect; returns false (refused) otherwise. */
static bool apply_policy(ah_engine *e, int p, int k, ah_vec *res, ah_decision *d)
{
	const ah_pool_policy *pp = &e->pol->pools[p];
	const ah_class_policy *cp = &e->pol->classes[k];
	bool fix = e->pol->autocorrect;
	char a[32], b[32], c[32];
	for (int i = 0; i < e->nd; i++) {
		int64_t v = res->v[i];
		if (v == 0)
			continue; /* a dimension not asked for is not checked */
		const char *dn = e->pol->dims.name[i];
		if (v < pp->min_request.v[i]) {
			fmt_val(e, i, v, a, sizeof a);
			fmt_val(e, i, pp->min_request.v[i], b, sizeof b);
			if (!fix) {
				refuse(d, AH_R_POLICY, "%s: %s is below pool %s's minimum request %s", dn, a, pp->name, b);
				return false;
			}
			add_correction(d, "%s: raised %s to the minimum %s", dn, a, b);
			v = pp->min_request.v[i];
		}
		int64_t u = pp->unit.v[i] > 0 ? pp->unit.v[i] : 1;
		if (v % u) {
			int64_t up = (v / u + 1) * u;
			fmt_val(e, i, v, a, sizeof a);
			fmt_val(e, i, u, b, sizeof b);
			fmt_val(e, i, up, c, sizeof c);
			if (!fix) {
				refuse(d, AH_R_POLICY, "%s: %s is not a multiple of pool %s's unit %s", dn, a, pp->name, b);
				return false;
			}
			add_correction(d, "%s: rounded %s up to %s (unit %s)", dn, a, c, b);
			v = up;
		}
		if (v > cp->max_request.v[i]) {
			int64_t mx = cp->max_request.v[i] / u * u;
			fmt_val(e, i, v, a, sizeof a);
			fmt_val(e, i, cp->max_request.v[i], b, sizeof b);
			if (!fix || mx < pp->min_request.v[i] || mx == 0) {
				refuse(d, AH_R_POLICY, "%s: %s is above class %s's maximum %s", dn, a, cp->name, b);
				return false;
			}
			fmt_val(e, i, mx, c, sizeof c);
			add_correction(d, "%s: lowered %s to class %s's maximum %s", dn, a, cp->name, c);
			v = mx;
		}
		res->v[i] = v;
	}
	return true;
}

/* Predict, then reserve: the class's quantile of the predicted usage plus
 * its margin, in whole pool units, within the pool's minimum and the class's
 * maximum. Returns false (refused) on a predictor error. */
static bool apply_prediction(ah_engine *e, const ah_request *rq, int p, int k, ah_vec *res, ah_decision *d)
{
	if (!e->has_predictor || !rq->workload || !*rq->workload)
		return true;
	const ah_class_policy *cp = &e->pol->classes[k];
	const ah_pool_policy *pp = &e->pol->pools[p];
	ah_vec pred = {0};
	int rc = e->predictor.predict(e->predictor.ctx, rq->workload, rq->params ? rq->params : "", cp->quantile,
				      &e->pol->dims, &pred);
	if (rc == AH_ENOENT)
		return true; /* nothing known yet: the stated resources stand */
	if (rc < 0) {
		refuse(d, AH_R_INVALID, "workload %.64s: prediction failed: %s", rq->workload, ah_strerror(rc));
		return false;
	}
	bool stated = !ah_vec_is_zero(res, e->nd);
	for (int i = 0; i < e->nd; i++) {
		if (pred.v[i] <= 0)
			continue;
		double want = (double)pred.v[i] * (1.0 + cp->margin);
		int64_t u = pp->unit.v[i] > 0 ? pp->unit.v[i] : 1;
		int64_t v = want >= (double)AH_VALUE_MAX ? AH_VALUE_MAX : (int64_t)ceil(want);
		v = (v + u - 1) / u * u;
		if (v < pp->min_request.v[i])
			v = (pp->min_request.v[i] + u - 1) / u * u;
		if (v > cp->max_request.v[i])
			v = cp->max_request.v[i] / u * u;
		int64_t have = res->v[i];
		if (stated && have > 0) {
			if (cp->prediction == AH_PREDICT_OFF || (cp->prediction == AH_PREDICT_RAISE && v < have) ||
			    (cp->prediction == AH_PREDICT_LOWER && v > have))
				continue;
		} else if (stated && cp->prediction == AH_PREDICT_OFF) {
			continue;
		}
		res->v[i] = v;
	}
	d->predicted = true;
	d->prediction = pred;
	char buf[256];
	if (ah_vec_format(&e->pol->dims, &pred, buf, sizeof buf) == 0)
		add_correction(d, "predicted %s at p%g for %.64s", buf, cp->quantile * 100, rq->workload);
	return true;
}

void ah_engine_set_predictor(ah_engine *e, const ah_predictor *p)
{
	if (!e)
		return;
	e->has_predictor = p && p->predict;
	if (e->has_predictor)
		e->predictor = *p;
}

/* Evicts lower-priority allocations of pool p until res fits; all or none. */
static bool try_preempt(ah_engine *e, int p, int k, const ah_vec *res, const ah_vec *lim, int64_t now,
			ah_decision *d)
{
	int n = 0, cap = 0, *v = NULL;
	ah_vec freed = {0};
	bool ok = false;
	for (int s = 0; s < e->nslots; s++) {
		const alloc_t *a = &e->slots[s];
		if (!a->id || a->pool != p || prio(e, a->klass) >= prio(e, k))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			int *nv = realloc(v, sizeof(*v) * (size_t)cap);
			if (!nv)
				goto out;
			v = nv;
		}
		v[n++] = s;
	}
	/* Lowest priority first, newest first within a priority (least work lost). */
	for (int i = 1; i < n; i++) {
		int x = v[i], j = i - 1;
		while (j >= 0) {
			const alloc_t *a = &e->slots[v[j]], *b = &e->slots[x];
			int pa = prio(e, a->klass), pb = prio(e, b->klass);
			if (pa < pb || (pa == pb && a->created_ns >= b->created_ns))
				break;
			v[j + 1] = v[j];
			j--;
		}
		v[j + 1] = x;
	}
	int take = 0;
	ah_vec used = e->pools[p].used;
	while (!ah_vec_fits(&used, res, lim, e->nd) && take < n) {
		ah_vec_sub(&used, &e->slots[v[take]].res, e->nd);
		ah_vec_add(&freed, &e->slots[v[take]].res, e->nd);
		take++;
	}
	if (!ah_vec_fits(&used, res, lim, e->nd))
		goto out;
	for (int i = 0; i < take; i++) {
		alloc_t *a = &e->slots[v[i]];
		L_del_alloc(e, a->id);
		L_event(e, now, AH_EV_PREEMPT, a->id, a->tenant, a->pool, a->klass, &a->res, AH_R_NONE,
			"preempted by a higher-priority request");
		alloc_remove(e, v[i]);
	}
	e->pools[p].dirty = false; /* the freed room goes to the preemptor */
	d->n_preempted = take;
	ok = true;
out:
	free(v);
	return ok;
}

static int find_class(const ah_engine *e, const char *name)
{
	if (!name || !*name)
		return e->pol->default_class;
	for (int i = 0; i < e->pol->n_classes; i++)
		if (!strcmp(e->pol->classes[i].name, name))
			return i;
	return -1;
}

static int find_pool(const ah_engine *e, const char *name)
{
	for (int i = 0; i < e->pol->n_pools; i++)
		if (!strcmp(e->pol->pools[i].name, name))
			return i;
	return -1;
}

static int decide(ah_engine *e, const ah_request *rq, int64_t now, ah_decision *d)
{
	int p = -1, t = -1, k = -1;
	const char *tn = rq->tenant ? rq->tenant : "";
	const char *pn = rq->pool ? rq->pool : "";

	memset(d, 0, sizeof(*d));
	d->outcome = AH_REFUSED;
	p = find_pool(e, pn);
	k = find_class(e, rq->klass);
	t = tenant_find(e, tn);
	if (p < 0) {
		refuse(d, AH_R_UNKNOWN_POOL, "pool '%.64s' is not defined by the policy", pn);
		goto logged;
	}
	if (k < 0) {
		refuse(d, AH_R_UNKNOWN_CLASS, "class '%.64s' is not defined by the policy", rq->klass);
		goto logged;
	}
	if (t < 0) {
		if (!valid_name(tn)) {
			refuse(d, AH_R_INVALID, "tenant: '%.64s' is not a valid name ([a-z0-9_.-], 1-63 chars)", tn);
			goto logged;
		}
		if (!e->pol->unknown_tenants) {
			refuse(d, AH_R_UNKNOWN_TENANT, "tenant '%s' is not defined by the policy", tn);
			goto logged;
		}
		t = tenant_add(e, tn, &e->pol->default_tenant);
		if (t < 0)
			return t;
	}
	ah_vec res = rq->res;
	for (int i = 0; i < AH_MAX_DIMS; i++) {
		if (res.v[i] < 0 || res.v[i] > AH_VALUE_MAX || (i >= e->nd && res.v[i])) {
			refuse(d, AH_R_INVALID, "resources: dimension %d is negative, too large or undefined", i);
			goto logged;
		}
	}
	if (!apply_prediction(e, rq, p, k, &res, d))
		goto logged;
	if (ah_vec_is_zero(&res, e->nd)) {
		refuse(d, AH_R_INVALID, "resources: the request asks for nothing");
		goto logged;
	}
	if (rq->params && strlen(rq->params) > AH_PARAMS_MAX) {
		refuse(d, AH_R_INVALID, "params: longer than %d bytes", AH_PARAMS_MAX);
		goto logged;
	}
	if (rq->lease_ttl_ns < 0 || rq->queue_timeout_ns < -1) {
		refuse(d, AH_R_INVALID, "%s: must not be negative", rq->lease_ttl_ns < 0 ? "lease_ttl" : "queue_timeout");
		goto logged;
	}
	int64_t ttl = lease_ttl_for(e, k, rq->lease_ttl_ns);
	if (ttl > e->pol->max_lease_ttl_ns) {
		char a[32], b[32];
		ah_duration_format(ttl, a, sizeof a);
		ah_duration_format(e->pol->max_lease_ttl_ns, b, sizeof b);
		if (!e->pol->autocorrect) {
			refuse(d, AH_R_POLICY, "lease_ttl: %s is above the maximum lease %s", a, b);
			goto logged;
		}
		add_correction(d, "lease_ttl: lowered %s to the maximum %s", a, b);
		ttl = e->pol->max_lease_ttl_ns;
	}
	if (!rate_take(&e->tenants[t], now)) {
		refuse(d, AH_R_RATE, "tenant %s: more than %g requests/s (burst %g)", e->tenants[t].name,
		       e->tenants[t].lim.rate_per_s, e->tenants[t].lim.burst);
		goto logged;
	}
	if (!apply_policy(e, p, k, &res, d))
		goto logged;
	d->res = res;

	ah_vec lim;
	class_limit(e, p, k, &lim);
	pool_t *pl = &e->pools[p];
	/* "Can never fit": against what the pool may grow to when it is
	 * shaped (the scaler sees the queued demand and scales for it). */
	ah_vec never = lim;
	const ah_pool_policy *ppol = &e->pol->pools[p];
	if (ppol->shaping)
		for (int i = 0; i < e->nd; i++) {
			int64_t m = ppol->max_size.v[i];
			if (prio(e, k) < ppol->headroom_priority)
				m -= ppol->headroom.v[i];
			if (m > never.v[i])
				never.v[i] = m;
		}
	for (int i = 0; i < e->nd; i++) {
		if (res.v[i] > never.v[i]) {
			char a[32], b[32];
			fmt_val(e, i, res.v[i], a, sizeof a);
			fmt_val(e, i, never.v[i], b, sizeof b);
			refuse(d, AH_R_TOO_BIG, "%s: %s exceeds what pool %s offers class %s (%s)", e->pol->dims.name[i], a,
			       e->pol->pools[p].name, e->pol->classes[k].name, b);
			goto logged;
		}
	}

	/* Quota counts what the tenant holds and what it has queued. */
	tenant_t *tt = &e->tenants[t];
	for (int i = 0; i < e->nd; i++) {
		if (!res.v[i])
			continue;
		int64_t have = tt->used.v[i] + tt->queued.v[i];
		if (res.v[i] > tt->lim.quota.v[i] - have) {
			char a[32], b[32], c[32];
			fmt_val(e, i, res.v[i], a, sizeof a);
			fmt_val(e, i, have, b, sizeof b);
			fmt_val(e, i, tt->lim.quota.v[i], c, sizeof c);
			refuse(d, AH_R_QUOTA, "tenant %s: %s %s more would exceed its quota %s (holds or waits for %s)",
			       tt->name, e->pol->dims.name[i], a, c, b);
			goto logged;
		}
	}

	bool ahead_in_queue = false;
	for (int i = 0; i < pl->qn && !ahead_in_queue; i++)
		if (ranks_ahead(e, prio(e, pl->q[i]->klass), pl->q[i]->tenant, pl->q[i]->seq, prio(e, k), t, UINT64_MAX))
			ahead_in_queue = true;
	bool fits = !ahead_in_queue && ah_vec_fits(&pl->used, &res, &lim, e->nd);
	if (!fits && !ahead_in_queue && e->pol->classes[k].preempt)
		fits = try_preempt(e, p, k, &res, &lim, now, d);
	if (fits) {
		alloc_t a = {
			.id = e->next_id++,
			.tenant = t,
			.pool = p,
			.klass = k,
			.res = res,
			.created_ns = now,
			.lease_ttl_ns = ttl,
			.expires_ns = now + ttl,
		};
		e->next_id_dirty = true;
		if (rq->params && *rq->params) {
			a.params = strdup(rq->params);
			if (!a.params)
				return AH_ENOMEM;
		}
		int s = alloc_insert(e, &a);
		if (s < 0) {
			free(a.params);
			return s;
		}
		d->outcome = AH_GRANTED;
		d->id = a.id;
		d->lease_expires_ns = a.expires_ns;
		L_put_alloc(e, &e->slots[s]);
		L_event(e, now, AH_EV_GRANT, a.id, t, p, k, &res, AH_R_NONE, d->corrections[0] ? d->corrections : NULL);
		return 0;
	}

	int64_t qt = rq->queue_timeout_ns;
	if (qt < 0)
		qt = e->pol->classes[k].queue_timeout_ns > 0 ? e->pol->classes[k].queue_timeout_ns
							     : e->pol->queue_timeout_ns;
	if (qt <= 0) {
		refuse(d, AH_R_NO_CAPACITY, "pool %s has no room now and the request may not queue",
		       e->pol->pools[p].name);
		goto logged;
	}
	int maxq = e->pol->pools[p].max_queue > 0 ? e->pol->pools[p].max_queue : 10000;
	if (pl->qn >= maxq) {
		refuse(d, AH_R_QUEUE_FULL, "pool %s's queue is full (%d requests)", e->pol->pools[p].name, pl->qn);
		goto logged;
	}
	qitem_t *q = calloc(1, sizeof(*q));
	if (!q)
		return AH_ENOMEM;
	if (pl->qn == pl->qcap) {
		int nc = pl->qcap ? pl->qcap * 2 : 16;
		qitem_t **nq = realloc(pl->q, sizeof(*nq) * (size_t)nc);
		if (!nq) {
			free(q);
			return AH_ENOMEM;
		}
		pl->q = nq;
		pl->qcap = nc;
	}
	*q = (qitem_t){
		.id = e->next_id++,
		.seq = e->next_seq++,
		.tenant = t,
		.pool = p,
		.klass = k,
		.res = res,
		.arrival_ns = now,
		.deadline_ns = now + qt,
		.lease_ttl_ns = ttl,
	};
	e->next_id_dirty = true;
	if (rq->params && *rq->params && !(q->params = strdup(rq->params))) {
		free(q);
		return AH_ENOMEM;
	}
	int pos = 1;
	for (int i = 0; i < pl->qn; i++)
		if (ranks_ahead(e, prio(e, pl->q[i]->klass), pl->q[i]->tenant, pl->q[i]->seq, prio(e, k), t, q->seq))
			pos++;
	pl->q[pl->qn++] = q;
	e->nqueued++;
	ah_vec_add(&tt->queued, &res, e->nd);
	if (q->deadline_ns < e->min_deadline_ns)
		e->min_deadline_ns = q->deadline_ns;
	d->outcome = AH_QUEUED;
	d->id = q->id;
	d->queue_position = pos;
	d->queue_deadline_ns = q->deadline_ns;
	L_put_queued(e, q);
	L_event(e, now, AH_EV_QUEUE, q->id, t, p, k, &res, AH_R_NONE, NULL);
	return 0;

logged:
	if (e->ledger) {
		/* Name what was asked for even when the policy does not know it
		 * (an unknown tenant's refusal must say which tenant), but only
		 * names that are valid: the ledger holds no garbage. */
		ah_ledger_event ev = {
			.t_ns = now,
			.kind = AH_EV_REFUSE,
			.tenant = t >= 0 ? e->tenants[t].name : (valid_name(rq->tenant) ? rq->tenant : NULL),
			.pool = p >= 0 ? e->pol->pools[p].name : (valid_name(rq->pool) ? rq->pool : NULL),
			.klass = k >= 0 ? e->pol->classes[k].name : (valid_name(rq->klass) ? rq->klass : NULL),
			.res = &rq->res,
			.reason = ah_reason_code(d->reason),
			.detail = d->message,
		};
		L_check(e, e->ledger->ops->event(e->ledger, &ev));
	}
	return 0;
}

typedef struct {
	const ah_request *rq;
	ah_decision d;
} request_arg;

static int request_body(ah_engine *e, int64_t now, void *arg)
{
	request_arg *r = arg;
	return decide(e, r->rq, now, &r->d);
}

int ah_engine_request(ah_engine *e, const ah_request *req, int64_t now_ns, ah_decision *out)
{
	if (!e || !req || !out)
		return AH_EINVAL;
	request_arg r = {.rq = req};
	int rc = txn_run(e, now_ns, false, request_body, &r);
	if (rc < 0)
		return rc;
	*out = r.d;
	return 0;
}

/* Finds a queued request by id: pool index and position. */
static bool queue_find(const ah_engine *e, uint64_t id, int *pi, int *qi)
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

static int release_body(ah_engine *e, int64_t now_ns, void *arg)
{
	uint64_t id = *(const uint64_t *)arg;
	int s = slot_find(e, id);
	if (s >= 0) {
		alloc_t *a = &e->slots[s];
		int p = a->pool;
		L_del_alloc(e, id);
		L_event(e, now_ns, AH_EV_RELEASE, id, a->tenant, a->pool, a->klass, &a->res, AH_R_NONE, NULL);
		alloc_remove(e, s); /* marks the pool freed */
		int rc = serve_if_freed(e, p, now_ns);
		e->pools[p].dirty = false;
		return rc;
	}
	int pi, qi;
	if (queue_find(e, id, &pi, &qi)) {
		qitem_t *q = e->pools[pi].q[qi];
		L_del_queued(e, id);
		L_event(e, now_ns, AH_EV_CANCEL, id, q->tenant, q->pool, q->klass, &q->res, AH_R_NONE, NULL);
		queue_remove_at(e, &e->pools[pi], qi);
		free(q->params);
		free(q);
		return serve_pool(e, pi, now_ns); /* the head may have been what blocked */
	}
	return AH_ENOENT;
}

int ah_engine_release(ah_engine *e, uint64_t id, int64_t now_ns)
{
	if (!e || !id)
		return AH_EINVAL;
	return txn_run(e, now_ns, false, release_body, &id);
}

typedef struct {
	uint64_t id;
	int64_t ttl_ns, expires_ns;
} renew_arg;

static int renew_body(ah_engine *e, int64_t now_ns, void *arg)
{
	renew_arg *r = arg;
	int s = slot_find(e, r->id);
	if (s < 0)
		return AH_ENOENT;
	alloc_t *a = &e->slots[s];
	int64_t ttl = r->ttl_ns > 0 ? r->ttl_ns : a->lease_ttl_ns;
	if (ttl > e->pol->max_lease_ttl_ns)
		ttl = e->pol->max_lease_ttl_ns;
	a->expires_ns = now_ns + ttl;
	heap_down(e, a->heap_idx);
	heap_up(e, a->heap_idx);
	a = &e->slots[s];
	L_put_alloc(e, a);
	L_event(e, now_ns, AH_EV_RENEW, r->id, a->tenant, a->pool, a->klass, NULL, AH_R_NONE, NULL);
	r->expires_ns = a->expires_ns;
	return 0;
}

int ah_engine_renew(ah_engine *e, uint64_t id, int64_t ttl_ns, int64_t now_ns, int64_t *out_expires_ns)
{
	if (!e || !id || ttl_ns < 0)
		return AH_EINVAL;
	renew_arg r = {.id = id, .ttl_ns = ttl_ns};
	int rc = txn_run(e, now_ns, false, renew_body, &r);
	if (!rc && out_expires_ns)
		*out_expires_ns = r.expires_ns;
	return rc;
}

/* Resizes slot s inside a transaction: grows only into room the pool has
 * for the class and the tenant's quota allows; a shrink serves the queue. */
static int resize_slot(ah_engine *e, int s, const ah_vec *res, int64_t now_ns, const char *why)
{
	alloc_t *a = &e->slots[s];
	pool_t *p = &e->pools[a->pool];
	tenant_t *t = &e->tenants[a->tenant];
	ah_vec lim, grow = {0};
	class_limit(e, a->pool, a->klass, &lim);
	for (int i = 0; i < e->nd; i++)
		grow.v[i] = res->v[i] > a->res.v[i] ? res->v[i] - a->res.v[i] : 0;
	if (!ah_vec_fits(&p->used, &grow, &lim, e->nd))
		return AH_ECAPACITY;
	ah_vec tused = t->used;
	ah_vec_add(&tused, &t->queued, e->nd);
	if (!ah_vec_fits(&tused, &grow, &t->lim.quota, e->nd))
		return AH_EQUOTA;
	int pi = a->pool;
	apply_res(e, s, res, now_ns, why);
	return serve_if_freed(e, pi, now_ns);
}

typedef struct {
	uint64_t id;
	const ah_vec *res;
} resize_arg;

static int resize_body(ah_engine *e, int64_t now_ns, void *arg)
{
	const resize_arg *r = arg;
	int s = slot_find(e, r->id);
	return s < 0 ? AH_ENOENT : resize_slot(e, s, r->res, now_ns, NULL);
}

int ah_engine_resize(ah_engine *e, uint64_t id, const ah_vec *res, int64_t now_ns)
{
	if (!e || !id || !res)
		return AH_EINVAL;
	for (int i = 0; i < AH_MAX_DIMS; i++)
		if (res->v[i] < 0 || res->v[i] > AH_VALUE_MAX || (i >= e->nd && res->v[i]))
			return AH_ERANGE;
	resize_arg r = {.id = id, .res = res};
	return txn_run(e, now_ns, false, resize_body, &r);
}

void ah_adjust_cfg_init(ah_adjust_cfg *c)
{
	c->grow_at = 0.9;
	c->shrink_at = 0.5;
	c->shrink_window_ns = 600LL * 1000000000;
	c->headroom = 0.15;
	c->min_shrink_interval_ns = 60LL * 1000000000;
}

void ah_engine_set_adjust(ah_engine *e, const ah_adjust_cfg *cfg)
{
	if (e && cfg)
		e->adjust = *cfg;
}

/* Rounds a wanted size up to the pool's unit, within the pool's minimum
 * request and the class's maximum. */
static int64_t clamp_size(const ah_engine *e, const alloc_t *a, int d, int64_t v)
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

/* The size usage u asks for under the built-in rule: u plus headroom, in
 * whole units (at least one). */
static int64_t sized(const ah_engine *e, const alloc_t *a, int d, int64_t u)
{
	const ah_pool_policy *pp = &e->pol->pools[a->pool];
	int64_t unit = pp->unit.v[d] > 0 ? pp->unit.v[d] : 1;
	double w = (double)u * (1.0 + e->adjust.headroom);
	int64_t v = clamp_size(e, a, d, w >= (double)AH_VALUE_MAX ? AH_VALUE_MAX : (int64_t)ceil(w));
	return v < unit ? unit : v;
}

void ah_engine_set_sizer(ah_engine *e, const ah_sizer *sz)
{
	if (!e)
		return;
	e->has_sizer = sz && sz->target;
	if (e->has_sizer)
		e->sizer = *sz;
}

/* Does a higher-priority claim (a queued request or a pending grow) wait
 * in slot s's pool? Then s may not take room ahead of it. */
static bool outranked(const ah_engine *e, int s)
{
	const alloc_t *a = &e->slots[s];
	const pool_t *p = &e->pools[a->pool];
	int pr = prio(e, a->klass);
	for (int i = 0; i < p->nwant; i++)
		if (p->wants[i] != s && prio(e, e->slots[p->wants[i]].klass) > pr)
			return true;
	for (int i = 0; i < p->qn; i++)
		if (prio(e, p->q[i]->klass) > pr)
			return true;
	return false;
}

/* Moves slot s to `target`: shrinks at once, grows as far as room allows
 * (unless a higher-priority claim waits) and leaves the rest pending. */
static int adjust_to(ah_engine *e, int s, const ah_vec *target, int64_t now, const char *why_grow,
		     const char *why_shrink, ah_adjust_outcome *o)
{
	const int pi = e->slots[s].pool;
	ah_vec before = e->slots[s].res, now_res = before;
	bool grow = false, shrink = false;
	for (int d = 0; d < e->nd; d++) {
		if (target->v[d] > before.v[d])
			grow = true;
		else if (target->v[d] < before.v[d]) {
			now_res.v[d] = target->v[d];
			shrink = true;
		}
	}
	if (shrink) {
		apply_res(e, s, &now_res, now, why_shrink ? why_shrink : why_grow);
		o->action = AH_ADJUST_SHRINK;
	}
	if (!grow) {
		want_drop(e, s);
	} else if (!outranked(e, s) && grow_toward(e, s, target, now, why_grow) == 1) {
		want_drop(e, s);
		o->action = AH_ADJUST_GROW;
	} else {
		int rc = want_set(e, s, target, now);
		if (rc < 0)
			return rc;
		o->action = AH_ADJUST_GROW_BLOCKED;
	}
	return serve_if_freed(e, pi, now);
}

typedef struct {
	uint64_t id;
	const ah_vec *usage;
	ah_adjust_outcome o;
} report_arg;

static int report_body(ah_engine *e, int64_t now_ns, void *arg)
{
	report_arg *ra = arg;
	const uint64_t id = ra->id;
	const ah_vec *usage = ra->usage;
	ah_adjust_outcome o = {0};
	int rc = 0;
	int s = slot_find(e, id);
	if (s < 0)
		return AH_ENOENT;
	alloc_t *a = &e->slots[s];
	/* A report is a heartbeat: the holder is alive, so the lease renews. */
	a->expires_ns = now_ns + a->lease_ttl_ns;
	heap_down(e, a->heap_idx);
	heap_up(e, a->heap_idx);
	a = &e->slots[s];
	/* Dimensions this report does not decide keep what they have, and
	 * what they wait for. */
	ah_vec target = a->res;
	uint32_t measured = 0;
	for (int d = 0; d < e->nd; d++) {
		if (a->wanting && a->want.v[d] > a->res.v[d])
			target.v[d] = a->want.v[d];
		if (usage->v[d] >= 0)
			measured |= UINT32_C(1) << d;
	}
	if (e->has_sizer) {
		/* The sizer (a replay policy, or ahead's predictive one) owns the
		 * decision and its hysteresis; the engine rounds, clamps and
		 * admits it. */
		for (int d = 0; d < e->nd; d++) {
			if (usage->v[d] < 0)
				continue;
			ah_size_target tg = {.reserve = a->res.v[d], .limit = AH_LIMIT_NONE};
			ah_resize_budget bud = {.resizes = a->resizes, .last_resize_ns = a->last_resize_ns};
			if (e->sizer.target(e->sizer.ctx, id, d, now_ns, usage->v[d], a->res.v[d], &bud, &tg) < 0)
				continue;
			target.v[d] = clamp_size(e, a, d, tg.reserve);
		}
		rc = adjust_to(e, s, &target, now_ns, "sizer: grow", "sizer: shrink", &o);
		if (rc < 0)
			return rc;
		goto done;
	}
	if (!measured)
		goto done; /* a heartbeat only: nothing to judge the size by */
	const ah_adjust_cfg *c = &e->adjust;
	bool grow = false, low = true;
	for (int d = 0; d < e->nd; d++) {
		int64_t r = a->res.v[d], u = usage->v[d];
		if (u < 0)
			continue;
		if ((double)u > c->grow_at * (double)r && r > 0) {
			int64_t v = sized(e, a, d, u);
			if (v > r) {
				target.v[d] = v;
				grow = true;
			}
		}
		if (r > 0 && (double)u >= c->shrink_at * (double)r)
			low = false;
	}
	if (grow) {
		/* Grow at once (a shortfall costs more than idle room); shrink
		 * decisions start over. What does not fit waits as a pending
		 * grow, served in priority order when room frees. */
		a->below_since_ns = 0;
		a->window_seen = 0;
		memset(&a->window_peak, 0, sizeof(a->window_peak));
		rc = adjust_to(e, s, &target, now_ns, "usage near the reservation", NULL, &o);
		if (rc < 0)
			return rc;
		goto done;
	}
	/* No grow asked by the measured dimensions: what they waited for is
	 * no longer needed; unmeasured ones keep theirs. */
	if (a->wanting) {
		ah_vec w = a->res;
		for (int d = 0; d < e->nd; d++)
			if (!(measured & (UINT32_C(1) << d)) && a->want.v[d] > a->res.v[d])
				w.v[d] = a->want.v[d];
		if ((rc = want_set(e, s, &w, now_ns)) < 0)
			return rc;
		a = &e->slots[s];
	}
	if (!low) {
		a->below_since_ns = 0;
		a->window_seen = 0;
		memset(&a->window_peak, 0, sizeof(a->window_peak));
	} else {
		if (!a->below_since_ns) {
			a->below_since_ns = now_ns;
			a->window_seen = 0;
			memset(&a->window_peak, 0, sizeof(a->window_peak));
		}
		for (int d = 0; d < e->nd; d++)
			if (usage->v[d] >= 0) {
				a->window_seen |= UINT32_C(1) << d;
				if (usage->v[d] > a->window_peak.v[d])
					a->window_peak.v[d] = usage->v[d];
			}
		if (now_ns - a->below_since_ns >= c->shrink_window_ns &&
		    now_ns - a->last_resize_ns >= c->min_shrink_interval_ns) {
			/* Usage stayed low for the whole window: shrink what was
			 * measured in it to its peak plus headroom (never below what
			 * it peaked at); dimensions nobody measured stay. */
			ah_vec t2 = a->res;
			for (int d = 0; d < e->nd; d++)
				if (a->res.v[d] > 0 && (a->window_seen & (UINT32_C(1) << d))) {
					int64_t v = sized(e, a, d, a->window_peak.v[d]);
					t2.v[d] = v < a->res.v[d] ? v : a->res.v[d];
				}
			a->below_since_ns = 0;
			a->window_seen = 0;
			memset(&a->window_peak, 0, sizeof(a->window_peak));
			if (memcmp(&t2, &a->res, sizeof(t2))) {
				for (int d = 0; d < e->nd; d++)
					if (a->wanting && a->want.v[d] > a->res.v[d])
						t2.v[d] = a->want.v[d];
				rc = adjust_to(e, s, &t2, now_ns, NULL, "usage stayed low for the shrink window", &o);
				if (rc < 0)
					return rc;
			}
		}
	}
done:
	a = &e->slots[s];
	/* The renewed lease must be as durable as a resize. */
	if (o.action == AH_ADJUST_NONE || o.action == AH_ADJUST_GROW_BLOCKED)
		L_put_alloc(e, a);
	o.res = a->res;
	o.lease_expires_ns = a->expires_ns;
	ra->o = o;
	return 0;
}

int ah_engine_report_usage(ah_engine *e, uint64_t id, const ah_vec *usage, int64_t now_ns, ah_adjust_outcome *out)
{
	if (!e || !id || !usage)
		return AH_EINVAL;
	for (int i = 0; i < AH_MAX_DIMS; i++)
		if (usage->v[i] < AH_USAGE_NONE || usage->v[i] > AH_VALUE_MAX || (i >= e->nd && usage->v[i] > 0))
			return AH_ERANGE;
	report_arg r = {.id = id, .usage = usage};
	int rc = txn_run(e, now_ns, false, report_body, &r);
	if (!rc && out)
		*out = r.o;
	return rc;
}

int ah_engine_tick(ah_engine *e, int64_t now_ns)
{
	if (!e)
		return AH_EINVAL;
	return txn_run(e, now_ns, false, NULL, NULL);
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
	note(e, AH_CHANGE_CAPACITY, 0, -1, p, -1, c->capacity, now_ns);
	if (e->ledger)
		L_check(e, e->ledger->ops->put_pool_capacity(e->ledger, e->pol->pools[p].name, c->capacity));
	return serve_pool(e, p, now_ns);
}

int ah_engine_set_capacity(ah_engine *e, const char *pool, const ah_vec *capacity, int64_t now_ns)
{
	if (!e || !pool || !capacity)
		return AH_EINVAL;
	int p = find_pool(e, pool);
	if (p < 0)
		return AH_ENOENT;
	for (int i = 0; i < AH_MAX_DIMS; i++)
		if (capacity->v[i] < 0 || capacity->v[i] > AH_VALUE_MAX || (i >= e->nd && capacity->v[i]))
			return AH_ERANGE;
	capacity_arg c = {.pool = p, .capacity = capacity};
	return txn_run(e, now_ns, false, capacity_body, &c);
}

/* ---------- construction and loading ---------- */

static void clear_state(ah_engine *e)
{
	for (int s = 0; s < e->nslots; s++)
		free(e->slots[s].params);
	e->nslots = 0;
	e->free_head = -1;
	e->nallocs = 0;
	e->heap_n = 0;
	if (e->hash)
		memset(e->hash, 0xff, sizeof(*e->hash) * (e->hash_mask + 1));
	for (int p = 0; p < AH_MAX_POOLS; p++) {
		pool_t *pl = &e->pools[p];
		for (int i = 0; i < pl->qn; i++) {
			free(pl->q[i]->params);
			free(pl->q[i]);
		}
		pl->qn = 0;
		pl->nwant = 0;
		pl->n_allocs = 0;
		pl->dirty = false;
		memset(&pl->used, 0, sizeof(pl->used));
	}
	e->nqueued = 0;
	e->min_deadline_ns = INT64_MAX;
	memset(&e->total_cap, 0, sizeof(e->total_cap));
	for (int p = 0; p < e->pol->n_pools; p++) {
		e->pools[p].capacity = e->pol->pools[p].capacity;
		ah_vec_add(&e->total_cap, &e->pools[p].capacity, e->nd);
	}
	for (int t = 0; t < e->ntenants; t++) {
		memset(&e->tenants[t].used, 0, sizeof(ah_vec));
		memset(&e->tenants[t].queued, 0, sizeof(ah_vec));
	}
}

typedef struct {
	ah_engine *e;
	int err;
} load_ctx;

static int resolve_row(ah_engine *e, const ah_ledger_row *r, int *t, int *p, int *k)
{
	*p = find_pool(e, r->pool);
	if (*p < 0)
		return AH_ESTATE; /* policy apply refuses removing a pool in use */
	*k = find_class(e, r->klass);
	if (*k < 0)
		*k = e->pol->default_class;
	*t = tenant_find(e, r->tenant);
	if (*t < 0) {
		*t = tenant_add(e, r->tenant, &e->pol->default_tenant);
		if (*t < 0)
			return *t;
	}
	return 0;
}

static int load_alloc(void *ctx, const ah_ledger_row *r)
{
	ah_engine *e = ctx;
	int t, p, k, rc = resolve_row(e, r, &t, &p, &k);
	if (rc < 0)
		return rc;
	alloc_t a = {
		.id = r->id,
		.tenant = t,
		.pool = p,
		.klass = k,
		.res = r->res,
		.created_ns = r->created_ns,
		.expires_ns = r->expires_ns,
		.lease_ttl_ns = r->lease_ttl_ns,
	};
	if (r->params && *r->params && !(a.params = strdup(r->params)))
		return AH_ENOMEM;
	rc = alloc_insert(e, &a);
	if (rc < 0) {
		free(a.params);
		return rc;
	}
	if (r->id >= e->next_id)
		e->next_id = r->id + 1;
	return 0;
}

static int load_queued(void *ctx, const ah_ledger_row *r)
{
	ah_engine *e = ctx;
	int t, p, k, rc = resolve_row(e, r, &t, &p, &k);
	if (rc < 0)
		return rc;
	pool_t *pl = &e->pools[p];
	if (pl->qn == pl->qcap) {
		int nc = pl->qcap ? pl->qcap * 2 : 16;
		qitem_t **nq = realloc(pl->q, sizeof(*nq) * (size_t)nc);
		if (!nq)
			return AH_ENOMEM;
		pl->q = nq;
		pl->qcap = nc;
	}
	qitem_t *q = calloc(1, sizeof(*q));
	if (!q)
		return AH_ENOMEM;
	*q = (qitem_t){.id = r->id, .seq = r->seq, .tenant = t, .pool = p, .klass = k, .res = r->res,
		       .arrival_ns = r->created_ns, .deadline_ns = r->expires_ns, .lease_ttl_ns = r->lease_ttl_ns};
	if (r->params && *r->params && !(q->params = strdup(r->params))) {
		free(q);
		return AH_ENOMEM;
	}
	pl->q[pl->qn++] = q;
	e->nqueued++;
	ah_vec_add(&e->tenants[t].queued, &q->res, e->nd);
	if (q->deadline_ns < e->min_deadline_ns)
		e->min_deadline_ns = q->deadline_ns;
	if (r->id >= e->next_id)
		e->next_id = r->id + 1;
	if (r->seq >= e->next_seq)
		e->next_seq = r->seq + 1;
	return 0;
}

/* Restores a pending grow as it was stored (already clamped when it was
 * set); a row without its allocation is stale and ignored. */
static int load_pending(void *ctx, uint64_t id, const ah_vec *want, int64_t since_ns)
{
	ah_engine *e = ctx;
	int s = slot_find(e, id);
	if (s < 0 || e->slots[s].wanting)
		return 0;
	int rc = want_list_add(e, s);
	if (rc < 0)
		return rc;
	e->slots[s].want = *want;
	e->slots[s].want_since_ns = since_ns;
	return 0;
}

static int load_capacity(void *ctx, const char *pool, const ah_vec *cap)
{
	ah_engine *e = ctx;
	int p = find_pool(e, pool);
	if (p < 0)
		return 0; /* a pool the policy no longer has: ignore its size */
	ah_vec_sub(&e->total_cap, &e->pools[p].capacity, e->nd);
	e->pools[p].capacity = *cap;
	ah_vec_add(&e->total_cap, cap, e->nd);
	return 0;
}

static int load_state(ah_engine *e, int64_t now)
{
	clear_state(e);
	if (!e->ledger)
		return 0;
	ah_ledger_loader ld = {.ctx = e,
			       .alloc = load_alloc,
			       .queued = load_queued,
			       .pool_capacity = load_capacity,
			       .pending = load_pending};
	uint64_t next = 1;
	int rc = e->ledger->ops->load(e->ledger, &e->pol->dims, &ld, &next);
	if (rc < 0)
		return rc;
	if (next > e->next_id)
		e->next_id = next;
	/* Queue order within a pool is by arrival sequence. */
	for (int p = 0; p < e->pol->n_pools; p++) {
		pool_t *pl = &e->pools[p];
		for (int i = 1; i < pl->qn; i++) {
			qitem_t *x = pl->q[i];
			int j = i - 1;
			while (j >= 0 && pl->q[j]->seq > x->seq) {
				pl->q[j + 1] = pl->q[j];
				j--;
			}
			pl->q[j + 1] = x;
		}
		pl->dirty = true;
	}
	(void)now;
	return 0;
}

int ah_engine_reload(ah_engine *e, int64_t now_ns)
{
	if (!e)
		return AH_EINVAL;
	if (e->delivering)
		return AH_ESTATE;
	if (e->in_txn && e->ledger)
		e->ledger->ops->rollback(e->ledger);
	e->nchg = 0; /* what the rolled-back transaction did is gone */
	e->in_txn = false;
	e->in_batch = false;
	e->broken = false;
	return txn_run(e, now_ns, true, NULL, NULL);
}

int ah_engine_new(const ah_policy *policy, ah_ledger *ledger, int64_t now_ns, ah_engine **out)
{
	int rc = AH_ENOMEM;
	if (!policy || !out || policy->n_pools <= 0 || policy->n_classes <= 0)
		return AH_EINVAL;
	ah_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return AH_ENOMEM;
	e->pol = malloc(sizeof(*e->pol));
	if (!e->pol)
		goto fail;
	memcpy(e->pol, policy, sizeof(*policy));
	e->nd = policy->dims.n;
	e->ledger = ledger;
	if (ledger)
		ledger->dims = &e->pol->dims;
	e->free_head = -1;
	e->next_id = 1;
	e->next_seq = 1;
	e->min_deadline_ns = INT64_MAX;
	ah_adjust_cfg_init(&e->adjust);
	if ((rc = thash_rebuild(e, 64)) < 0)
		goto fail;
	for (int i = 0; i < policy->n_tenants; i++)
		if ((rc = tenant_add(e, policy->tenants[i].name, &policy->tenants[i])) < 0)
			goto fail;
	if ((rc = hash_grow(e)) < 0)
		goto fail;
	rc = ah_engine_reload(e, now_ns);
	if (rc < 0)
		goto fail;
	*out = e;
	return 0;
fail:
	ah_engine_free(e);
	return rc;
}

void ah_engine_free(ah_engine *e)
{
	if (!e)
		return;
	if (e->pol) {
		if (e->in_txn && e->ledger)
			e->ledger->ops->rollback(e->ledger);
		for (int s = 0; s < e->nslots; s++)
			free(e->slots[s].params);
		for (int p = 0; p < AH_MAX_POOLS; p++) {
			for (int i = 0; i < e->pools[p].qn; i++) {
				free(e->pools[p].q[i]->params);
				free(e->pools[p].q[i]);
			}
			free(e->pools[p].q);
			free(e->pools[p].wants);
		}
	}
	free(e->slots);
	free(e->heap);
	free(e->hash);
	free(e->thash);
	free(e->tenants);
	free(e->chg);
	free(e->pol);
	free(e);
}

/* ---------- inspection ---------- */

const ah_policy *ah_engine_policy_get(const ah_engine *e)
{
	return e ? e->pol : NULL;
}

int ah_engine_pool_count(const ah_engine *e)
{
	return e ? e->pol->n_pools : 0;
}

int ah_engine_pool_get(const ah_engine *e, int i, ah_engine_pool_info *out)
{
	if (!e || !out || i < 0 || i >= e->pol->n_pools)
		return AH_EINVAL;
	out->name = e->pol->pools[i].name;
	out->capacity = &e->pools[i].capacity;
	out->used = &e->pools[i].used;
	out->n_allocs = e->pools[i].n_allocs;
	out->n_queued = e->pools[i].qn;
	const pool_t *p = &e->pools[i];
	memset(&out->queued, 0, sizeof(out->queued));
	memset(&out->wanted, 0, sizeof(out->wanted));
	/* saturating: a shaped pool's max may be unlimited (2^62) */
	for (int q = 0; q < p->qn; q++)
		for (int d = 0; d < e->nd; d++) {
			int64_t add = p->q[q]->res.v[d];
			out->queued.v[d] = add > AH_VALUE_MAX - out->queued.v[d] ? AH_VALUE_MAX : out->queued.v[d] + add;
		}
	for (int w = 0; w < p->nwant; w++) {
		const alloc_t *a = &e->slots[p->wants[w]];
		for (int d = 0; d < e->nd; d++)
			if (a->want.v[d] > a->res.v[d]) {
				int64_t add = a->want.v[d] - a->res.v[d];
				out->wanted.v[d] =
					add > AH_VALUE_MAX - out->wanted.v[d] ? AH_VALUE_MAX : out->wanted.v[d] + add;
			}
	}
	out->n_wanting = p->nwant;
	return 0;
}

static void item_from_alloc(const ah_engine *e, const alloc_t *a, ah_engine_item *it)
{
	*it = (ah_engine_item){.id = a->id, .queued = false, .tenant = e->tenants[a->tenant].name,
			       .pool = e->pol->pools[a->pool].name, .klass = e->pol->classes[a->klass].name,
			       .res = &a->res, .params = a->params ? a->params : "",
			       .created_ns = a->created_ns, .expires_ns = a->expires_ns};
}

static void item_from_queued(const ah_engine *e, const qitem_t *q, ah_engine_item *it)
{
	*it = (ah_engine_item){.id = q->id, .queued = true, .tenant = e->tenants[q->tenant].name,
			       .pool = e->pol->pools[q->pool].name, .klass = e->pol->classes[q->klass].name,
			       .res = &q->res, .params = q->params ? q->params : "",
			       .created_ns = q->arrival_ns, .expires_ns = q->deadline_ns};
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int ah_engine_foreach(const ah_engine *e, int (*fn)(void *ctx, const ah_engine_item *it), void *ctx)
{
	if (!e || !fn)
		return AH_EINVAL;
	uint64_t *ids = malloc(sizeof(*ids) * (size_t)(e->nallocs + 1));
	if (!ids)
		return AH_ENOMEM;
	int n = 0, rc = 0;
	for (int s = 0; s < e->nslots; s++)
		if (e->slots[s].id)
			ids[n++] = e->slots[s].id;
	qsort(ids, (size_t)n, sizeof(*ids), cmp_u64);
	ah_engine_item it;
	for (int i = 0; i < n && !rc; i++) {
		item_from_alloc(e, &e->slots[slot_find(e, ids[i])], &it);
		rc = fn(ctx, &it);
	}
	free(ids);
	for (int p = 0; p < e->pol->n_pools && !rc; p++)
		for (int i = 0; i < e->pools[p].qn && !rc; i++) {
			item_from_queued(e, e->pools[p].q[i], &it);
			rc = fn(ctx, &it);
		}
	return rc;
}

int ah_engine_get(const ah_engine *e, uint64_t id, ah_engine_item *out)
{
	if (!e || !out)
		return AH_EINVAL;
	int s = slot_find(e, id);
	if (s >= 0) {
		item_from_alloc(e, &e->slots[s], out);
		return 0;
	}
	int pi, qi;
	if (queue_find(e, id, &pi, &qi)) {
		item_from_queued(e, e->pools[pi].q[qi], out);
		return 0;
	}
	return AH_ENOENT;
}

int ah_engine_tenant_used(const ah_engine *e, const char *tenant, ah_vec *out)
{
	if (!e || !tenant || !out)
		return AH_EINVAL;
	int t = tenant_find(e, tenant);
	if (t < 0)
		return AH_ENOENT;
	*out = e->tenants[t].used;
	return 0;
}

int ah_engine_alloc_count(const ah_engine *e)
{
	return e ? e->nallocs : 0;
}

int ah_engine_queue_count(const ah_engine *e)
{
	return e ? e->nqueued : 0;
}
