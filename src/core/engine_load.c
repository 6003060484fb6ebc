/* ahead: construction and loading: an engine built from its policy and rebuilt
 * from its ledger. */
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"

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
	*p = eng_find_pool(e, r->pool);
	if (*p < 0)
		return AH_ESTATE; /* policy apply refuses removing a pool in use */
	*k = eng_find_class(e, r->klass);
	if (*k < 0)
		*k = e->pol->default_class;
	*t = eng_tenant_find(e, r->tenant);
	if (*t < 0) {
		*t = eng_tenant_add(e, r->tenant, &e->pol->default_tenant);
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
	rc = eng_alloc_insert(e, &a);
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
	int rc = eng_want_list_add(e, s);
	if (rc < 0)
		return rc;
	e->slots[s].want = *want;
	e->slots[s].want_since_ns = since_ns;
	return 0;
}

static int load_capacity(void *ctx, const char *pool, const ah_vec *cap)
{
	ah_engine *e = ctx;
	int p = eng_find_pool(e, pool);
	if (p < 0)
		return 0; /* a pool the policy no longer has: ignore its size */
	ah_vec_sub(&e->total_cap, &e->pools[p].capacity, e->nd);
	e->pools[p].capacity = *cap;
	ah_vec_add(&e->total_cap, cap, e->nd);
	return 0;
}

int eng_load_state(ah_engine *e, int64_t now)
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
	return eng_txn_run(e, now_ns, true, NULL, NULL);
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
	if ((rc = eng_thash_rebuild(e, 64)) < 0)
		goto fail;
	for (int i = 0; i < policy->n_tenants; i++)
		if ((rc = eng_tenant_add(e, policy->tenants[i].name, &policy->tenants[i])) < 0)
			goto fail;
	if ((rc = eng_hash_grow(e)) < 0)
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
