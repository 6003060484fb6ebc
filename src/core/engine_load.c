/* ahead: construction and loading: an engine built from its policy and rebuilt
 * from its ledger. */
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"

/* Loaded allocations' parameter strings, packed in blocks freed together
 * (one allocation per 64 KiB instead of one per row). */
struct params_block {
	struct params_block *next;
	size_t used, cap;
	char data[];
};

#define PARAMS_BLOCK_BYTES 65536

static char *arena_strdup(ah_engine *e, const char *str)
{
	size_t n = strlen(str) + 1;
	struct params_block *b = e->params_arena;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > PARAMS_BLOCK_BYTES ? n : PARAMS_BLOCK_BYTES;
		if (!(b = malloc(sizeof(*b) + cap)))
			return NULL;
		b->next = e->params_arena;
		b->used = 0;
		b->cap = cap;
		e->params_arena = b;
	}
	char *p = b->data + b->used;
	memcpy(p, str, n);
	b->used += n;
	return p;
}

static void free_alloc_params(ah_engine *e)
{
	for (int s = 0; s < e->nslots && e->nparams_owned > 0; s++)
		if (e->slots[s].params && !e->slots[s].params_loaded) {
			free(e->slots[s].params);
			e->nparams_owned--;
		}
	e->nparams_owned = 0;
	while (e->params_arena) {
		struct params_block *next = e->params_arena->next;
		free(e->params_arena);
		e->params_arena = next;
	}
}

static void clear_state(ah_engine *e)
{
	free_alloc_params(e);
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
	for (int i = 0; i < e->nnodes; i++) {
		memset(&e->nodes[i].used, 0, sizeof(ah_vec));
		e->nodes[i].n_allocs = 0;
	}
	eng_spread_clear(e); /* counted again as the rows load */
	e->spread_off = false;
	eng_nodes_recount(e);
}

/* A name already resolved during this load, by a hash of its text: rows
 * repeat a few tenants, pools and classes many times over. */
#define NAME_CACHE 16

typedef struct {
	bool used;
	int idx;
	char name[AH_NAME_MAX];
} name_slot;

typedef struct {
	ah_engine *e;
	bool bulk; /* allocations appended, not yet indexed */
	eng_load_key *keys; /* of the appended slots */
	int cap_keys;
	name_slot tenants[NAME_CACHE], pools[NAME_CACHE], classes[NAME_CACHE];
} load_ctx;

/* The cache slot for name, or NULL when it is too long to cache; *hit says
 * whether the slot already holds it. */
static name_slot *name_lookup(name_slot *cache, const char *name, bool *hit)
{
	uint32_t h = 2166136261u;
	size_t n = 0;
	for (; name[n]; n++)
		h = (h ^ (unsigned char)name[n]) * 16777619u;
	*hit = false;
	if (n >= AH_NAME_MAX)
		return NULL;
	name_slot *c = &cache[h % NAME_CACHE];
	*hit = c->used && !memcmp(c->name, name, n + 1);
	return c;
}

static void name_store(name_slot *c, const char *name, int idx)
{
	if (!c)
		return;
	c->used = true;
	c->idx = idx;
	memcpy(c->name, name, strlen(name) + 1);
}

static int resolve_tenant(load_ctx *c, const char *name)
{
	bool hit;
	name_slot *ns = name_lookup(c->tenants, name, &hit);
	if (hit)
		return ns->idx;
	int t = eng_tenant_find(c->e, name);
	if (t < 0 && (t = eng_tenant_add(c->e, name, &c->e->pol->default_tenant)) < 0)
		return t;
	name_store(ns, name, t);
	return t;
}

static int resolve_row(load_ctx *c, const ah_ledger_row *r, int *t, int *p, int *k)
{
	ah_engine *e = c->e;
	bool hit;
	name_slot *ns = name_lookup(c->pools, r->pool, &hit);
	if (!hit) {
		*p = eng_find_pool(e, r->pool);
		if (*p < 0)
			return AH_ESTATE; /* policy apply refuses removing a pool in use */
		name_store(ns, r->pool, *p);
	} else {
		*p = ns->idx;
	}
	ns = name_lookup(c->classes, r->klass, &hit);
	if (!hit) {
		*k = eng_find_class(e, r->klass);
		if (*k < 0)
			*k = e->pol->default_class;
		name_store(ns, r->klass, *k);
	} else {
		*k = ns->idx;
	}
	*t = resolve_tenant(c, r->tenant);
	return *t < 0 ? *t : 0;
}

/* Ends the bulk phase: what follows allocations (pending grows, queued
 * requests) finds them by id. */
static int load_index(load_ctx *c)
{
	if (!c->bulk)
		return 0;
	c->bulk = false;
	int rc = eng_table_index(c->e, c->keys);
	free(c->keys);
	c->keys = NULL;
	return rc;
}

/* A stored row's node selector, interned (a row the engine could not have
 * written is the store's fault). */
static int load_select(ah_engine *e, const ah_ledger_row *r)
{
	char err[160];
	int rc = eng_select_intern(e, r->node_select, err, sizeof err);
	return rc == AH_ENOMEM ? rc : rc < 0 ? AH_ESTORE : rc;
}

static int load_alloc(void *ctx, const ah_ledger_row *r)
{
	load_ctx *c = ctx;
	ah_engine *e = c->e;
	int t, p, k, rc = resolve_row(c, r, &t, &p, &k);
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
		.wl = r->workload_hash,
	};
	if (r->node && *r->node && eng_pool_on_nodes(e, p)) {
		int ni = eng_node_index(e, r->node);
		if (ni < 0)
			return ni;
		a.node1 = (int16_t)(ni + 1);
	}
	if ((rc = load_select(e, r)) < 0)
		return rc;
	a.sel = (uint16_t)rc;
	if (r->params && *r->params) {
		if (!(a.params = arena_strdup(e, r->params)))
			return AH_ENOMEM;
		a.params_loaded = true;
	}
	if (c->bulk && e->nslots == c->cap_keys) {
		int nc = c->cap_keys ? c->cap_keys * 2 : 1024;
		eng_load_key *nk = realloc(c->keys, sizeof(*nk) * (size_t)nc);
		if (!nk)
			return AH_ENOMEM;
		c->keys = nk;
		c->cap_keys = nc;
	}
	rc = c->bulk ? eng_alloc_append(e, &a) : eng_alloc_insert(e, &a);
	if (rc < 0)
		return rc; /* params stay in the arena, freed with it */
	if (c->bulk)
		c->keys[rc] = (eng_load_key){.expires_ns = a.expires_ns, .id = a.id};
	if (r->id >= e->next_id)
		e->next_id = r->id + 1;
	return 0;
}

static int load_queued(void *ctx, const ah_ledger_row *r)
{
	load_ctx *c = ctx;
	ah_engine *e = c->e;
	int t, p, k, rc = load_index(c);
	if (rc < 0 || (rc = resolve_row(c, r, &t, &p, &k)) < 0)
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
		       .arrival_ns = r->created_ns, .deadline_ns = r->expires_ns, .lease_ttl_ns = r->lease_ttl_ns,
		       .wl = r->workload_hash};
	if ((rc = load_select(e, r)) < 0) {
		free(q);
		return rc;
	}
	q->sel = (uint16_t)rc;
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
	load_ctx *c = ctx;
	ah_engine *e = c->e;
	int rc = load_index(c);
	if (rc < 0)
		return rc;
	int s = slot_find(e, id);
	if (s < 0 || e->slots[s].wanting)
		return 0;
	rc = eng_want_list_add(e, s);
	if (rc < 0)
		return rc;
	alloc_cold_t *cold = eng_cold(e, &e->slots[s]);
	cold->want = *want;
	cold->want_since_ns = since_ns;
	return 0;
}

static int load_capacity(void *ctx, const char *pool, const ah_vec *cap)
{
	ah_engine *e = ((load_ctx *)ctx)->e;
	int p = eng_find_pool(e, pool);
	if (p < 0 || eng_pool_on_nodes(e, p))
		return 0; /* a pool the policy no longer has, or one on nodes: its size is theirs */
	ah_vec_sub(&e->total_cap, &e->pools[p].capacity, e->nd);
	e->pools[p].capacity = *cap;
	ah_vec_add(&e->total_cap, cap, e->nd);
	return 0;
}

int eng_load_state(ah_engine *e, int64_t now)
{
	/* A reload's transaction loads once: when its begin already did (it
	 * saw another commit), the state it holds is the ledger's. */
	if (e->reloading && e->reload_loaded)
		return 0;
	clear_state(e);
	if (!e->ledger)
		return 0;
	load_ctx *c = calloc(1, sizeof(*c)); /* the name caches: 3 KiB */
	if (!c)
		return AH_ENOMEM;
	c->e = e;
	c->bulk = true;
	ah_ledger_loader ld = {.ctx = c,
			       .alloc = load_alloc,
			       .queued = load_queued,
			       .pool_capacity = load_capacity,
			       .pending = load_pending};
	uint64_t next = 1;
	int rc = e->ledger->ops->load(e->ledger, &e->pol->dims, &ld, &next);
	/* indexed even after a failed load, so the table stays consistent */
	int irc = load_index(c);
	free(c);
	if (rc < 0 || (rc = irc) < 0)
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
	eng_nodes_recount(e);
	e->reload_loaded = e->reloading;
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
	e->reloading = true;
	e->reload_loaded = false;
	int rc = eng_txn_run(e, now_ns, true, NULL, NULL);
	e->reloading = e->reload_loaded = false;
	return rc;
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
	eng_sizer_builtin(e, &e->sizer); /* the default, until a caller sets one */
	if ((rc = eng_thash_rebuild(e, 64)) < 0)
		goto fail;
	for (int i = 0; i < policy->n_tenants; i++)
		if ((rc = eng_tenant_add(e, policy->tenants[i].name, &policy->tenants[i])) < 0)
			goto fail;
	if ((rc = eng_hash_grow(e)) < 0 || (rc = eng_nodes_init(e)) < 0)
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
		free_alloc_params(e);
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
	free(e->cold);
	free(e->heap);
	free(e->hash);
	free(e->thash);
	free(e->tenants);
	free(e->chg);
	free(e->nodes);
	free(e->place_scratch);
	eng_select_fini(e);
	eng_spread_clear(e);
	free(e->pol);
	free(e);
}
