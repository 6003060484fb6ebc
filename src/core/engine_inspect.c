/* ahead: inspection: borrowed views of pools, allocations and queued requests. */
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"

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
		const ah_vec *want = &eng_cold_peek(e, a)->want;
		for (int d = 0; d < e->nd; d++)
			if (want->v[d] > a->res.v[d]) {
				int64_t add = want->v[d] - a->res.v[d];
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
			       .created_ns = a->created_ns, .expires_ns = a->expires_ns,
			       .node = a->node1 > 0 ? e->nodes[a->node1 - 1].name : "",
			       .node_labels = eng_select_text(e, a->sel)};
}

static void item_from_queued(const ah_engine *e, const qitem_t *q, ah_engine_item *it)
{
	*it = (ah_engine_item){.id = q->id, .queued = true, .tenant = e->tenants[q->tenant].name,
			       .pool = e->pol->pools[q->pool].name, .klass = e->pol->classes[q->klass].name,
			       .res = &q->res, .params = q->params ? q->params : "",
			       .created_ns = q->arrival_ns, .expires_ns = q->deadline_ns, .node = "",
			       .node_labels = eng_select_text(e, q->sel)};
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
	if (eng_queue_find(e, id, &pi, &qi)) {
		item_from_queued(e, e->pools[pi].q[qi], out);
		return 0;
	}
	return AH_ENOENT;
}

int ah_engine_tenant_used(const ah_engine *e, const char *tenant, ah_vec *out)
{
	if (!e || !tenant || !out)
		return AH_EINVAL;
	int t = eng_tenant_find(e, tenant);
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
