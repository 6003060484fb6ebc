/* Which allocations are known to have no request record in the usage
 * history: every record is begun by ah_service_request, so an id this
 * process granted without one has none, and its release need not look for
 * it (a lookup per release is most of a daemon's release cost). Every
 * other id (granted before this process, or by another process sharing
 * the ledger) may have one: looked up. */
#include <stdlib.h>

#include "ahead/error.h"
#include "service/service_int.h"

static size_t slot(uint64_t id, size_t cap)
{
	return (size_t)((id * UINT64_C(0x9E3779B97F4A7C15)) >> 17) & (cap - 1);
}

/* Rehashes without the tombstones of released ids; doubles only when the
 * live ids need it (else released ids would grow the table forever). */
static int grow(ah_service_recset *r)
{
	size_t cap = !r->cap ? 1024 : r->n * 4 < r->cap ? r->cap : r->cap * 2;
	uint64_t *k = calloc(cap, sizeof *k);
	if (!k)
		return AH_ENOMEM;
	for (size_t i = 0; i < r->cap; i++) {
		if (!r->keys[i] || r->keys[i] == UINT64_MAX)
			continue;
		size_t j = slot(r->keys[i], cap);
		while (k[j])
			j = (j + 1) & (cap - 1);
		k[j] = r->keys[i];
	}
	free(r->keys);
	r->keys = k;
	r->cap = cap;
	r->used = r->n;
	return 0;
}

void ah_service_recset_note_grant(ah_service_recset *r, uint64_t id, bool has_record)
{
	if (has_record || !id || id == UINT64_MAX)
		return;
	if ((r->used + 1) * 2 > r->cap && grow(r) < 0)
		return; /* out of memory: its release looks it up */
	size_t j = slot(id, r->cap);
	while (r->keys[j] && r->keys[j] != id)
		j = (j + 1) & (r->cap - 1);
	if (!r->keys[j]) {
		r->keys[j] = id;
		r->n++;
		r->used++;
	}
}

bool ah_service_recset_may_have(ah_service_recset *r, uint64_t id)
{
	if (!r->cap)
		return true;
	size_t j = slot(id, r->cap);
	while (r->keys[j]) {
		if (r->keys[j] == id) {
			r->keys[j] = UINT64_MAX; /* a tombstone: released once */
			r->n--;
			return false;
		}
		j = (j + 1) & (r->cap - 1);
	}
	return true;
}

void ah_service_recset_fini(ah_service_recset *r)
{
	free(r->keys);
	r->keys = NULL;
	r->cap = r->n = r->used = 0;
}
