/* ahead: the allocation table: slots, the id hash (open addressing, backward-shift
 * deletion) and the min-heap of lease expiries, with the accounting an
 * allocation's arrival and departure make. */
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"

int eng_hash_grow(ah_engine *e)
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

void eng_heap_up(ah_engine *e, int i)
{
	while (i > 0) {
		int p = (i - 1) / 2;
		if (!heap_less(e, i, p))
			break;
		heap_swap(e, i, p);
		i = p;
	}
}

void eng_heap_down(ah_engine *e, int i)
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
		eng_heap_down(e, i);
		eng_heap_up(e, i);
	}
}

/* Room for n slots; the heap has one entry per slot, so they grow together. */
static int slots_reserve(ah_engine *e, int n)
{
	if (n <= e->cap_slots)
		return 0;
	int nc = e->cap_slots ? e->cap_slots : 1024;
	while (nc < n)
		nc *= 2;
	alloc_t *ns = realloc(e->slots, sizeof(*ns) * (size_t)nc);
	if (ns)
		e->slots = ns;
	int32_t *nh = realloc(e->heap, sizeof(*nh) * (size_t)nc);
	if (nh)
		e->heap = nh;
	/* never initialised here: a slot's cold part is set up on first use */
	alloc_cold_t *cold = realloc(e->cold, sizeof(*cold) * (size_t)nc);
	if (cold)
		e->cold = cold;
	if (!ns || !nh || !cold)
		return AH_ENOMEM;
	e->cap_slots = nc;
	return 0;
}

static void account_add(ah_engine *e, const alloc_t *a)
{
	pool_t *p = &e->pools[a->pool];
	ah_vec_add(&p->used, &a->res, e->nd);
	p->n_allocs++;
	ah_vec_add(&e->tenants[a->tenant].used, &a->res, e->nd);
	eng_node_account(e, a, +1);
	e->nallocs++;
}

static void hash_put(ah_engine *e, int s)
{
	uint32_t j = id_hash(e->slots[s].id) & e->hash_mask;
	while (e->hash[j] >= 0)
		j = (j + 1) & e->hash_mask;
	e->hash[j] = s;
}

/* Inserts a new allocation; returns its slot or a negative error. */
int eng_alloc_insert(ah_engine *e, const alloc_t *src)
{
	if ((uint32_t)(e->nallocs + 1) * 2 > (e->hash ? e->hash_mask + 1 : 0)) {
		int rc = eng_hash_grow(e);
		if (rc < 0)
			return rc;
	}
	int s;
	if (e->free_head >= 0) {
		s = e->free_head;
		e->free_head = e->slots[s].next_free;
	} else {
		int rc = slots_reserve(e, e->nslots + 1);
		if (rc < 0)
			return rc;
		s = e->nslots++;
	}
	alloc_t *a = &e->slots[s];
	*a = *src;
	a->next_free = -1;
	a->cold_init = false;
	hash_put(e, s);
	e->heap[e->heap_n] = s;
	a->heap_idx = e->heap_n++;
	eng_heap_up(e, a->heap_idx);
	if (a->params && !a->params_loaded)
		e->nparams_owned++;
	account_add(e, a);
	return s;
}

/* Loading: a new allocation in the next slot, counted but not hashed
 * until eng_table_index (one pass over compact keys instead of n probes
 * with rehashing). It takes heap position s: rows that arrive in expiry
 * order (the usual case: ids and expiries both grow with time) already
 * form the heap. Needs a table without free slots (a cleared one).
 * Returns the slot or a negative error. */
int eng_alloc_append(ah_engine *e, const alloc_t *src)
{
	if (e->free_head >= 0 || e->heap_n != e->nslots)
		return AH_ESTATE;
	int rc = slots_reserve(e, e->nslots + 1);
	if (rc < 0)
		return rc;
	int s = e->nslots++;
	alloc_t *a = &e->slots[s];
	*a = *src;
	a->next_free = -1;
	a->cold_init = false;
	a->heap_idx = s;
	e->heap[e->heap_n++] = s;
	if (a->params && !a->params_loaded)
		e->nparams_owned++;
	account_add(e, a);
	return s;
}

static inline bool key_less(const eng_load_key *x, const eng_load_key *y)
{
	return x->expires_ns < y->expires_ns || (x->expires_ns == y->expires_ns && x->id < y->id);
}

/* Bottom-up heap over the keys (k[i] belongs to slot i), then each slot's
 * position written in one sequential pass. */
static int heapify_keys(ah_engine *e, const eng_load_key *keys)
{
	int n = e->nslots;
	int32_t *pos = malloc(sizeof(*pos) * (size_t)(n ? n : 1));
	if (!pos)
		return AH_ENOMEM;
	int32_t *h = e->heap;
	for (int i = n / 2 - 1; i >= 0; i--) {
		int at = i;
		int32_t x = h[at];
		for (;;) {
			int c = 2 * at + 1;
			if (c >= n)
				break;
			if (c + 1 < n && key_less(&keys[h[c + 1]], &keys[h[c]]))
				c++;
			if (!key_less(&keys[h[c]], &keys[x]))
				break;
			h[at] = h[c];
			at = c;
		}
		h[at] = x;
	}
	for (int i = 0; i < n; i++)
		pos[h[i]] = i;
	for (int s = 0; s < n; s++)
		e->slots[s].heap_idx = pos[s];
	free(pos);
	return 0;
}

/* Ends a load's appends: hashes every slot (sized as eng_alloc_insert
 * would have grown it) from keys[s] = slot s's id and expiry, and orders
 * the heap unless the slots came in expiry order. */
int eng_table_index(ah_engine *e, const eng_load_key *keys)
{
	uint32_t have = e->hash ? e->hash_mask + 1 : 0, size = have > 1024 ? have : 1024;
	while ((uint64_t)(e->nallocs + 1) * 2 > size)
		size *= 2;
	if (size != have) {
		int32_t *h = malloc(sizeof(*h) * size);
		if (!h)
			return AH_ENOMEM;
		free(e->hash);
		e->hash = h;
		e->hash_mask = size - 1;
	}
	memset(e->hash, 0xff, sizeof(*e->hash) * size);
	bool sorted = true;
	for (int s = 0; s < e->nslots; s++) {
		uint32_t j = id_hash(keys[s].id) & e->hash_mask;
		while (e->hash[j] >= 0)
			j = (j + 1) & e->hash_mask;
		e->hash[j] = s;
		if (s > 0 && key_less(&keys[s], &keys[s - 1]))
			sorted = false;
	}
	return sorted ? 0 : heapify_keys(e, keys);
}

void eng_alloc_remove(ah_engine *e, int s)
{
	alloc_t *a = &e->slots[s];
	pool_t *p = &e->pools[a->pool];
	eng_want_drop(e, s);
	if (e->has_sizer && e->sizer.forget)
		e->sizer.forget(e->sizer.ctx, a->id);
	ah_vec_sub(&p->used, &a->res, e->nd);
	p->n_allocs--;
	p->dirty = true;
	ah_vec_sub(&e->tenants[a->tenant].used, &a->res, e->nd);
	eng_node_account(e, a, -1);
	a->node1 = 0;
	heap_remove(e, a->heap_idx);
	hash_remove(e, a->id);
	if (a->params && !a->params_loaded) {
		free(a->params);
		e->nparams_owned--;
	}
	a->params = NULL;
	a->params_loaded = false;
	a->id = 0;
	a->next_free = e->free_head;
	e->free_head = s;
	e->nallocs--;
}
