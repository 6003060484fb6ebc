/* ahead: tenants: the name hash, dominant resource shares and token buckets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

int eng_thash_rebuild(ah_engine *e, uint32_t size)
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

int eng_tenant_find(const ah_engine *e, const char *name)
{
	uint32_t j = name_hash(name) & e->thash_mask;
	while (e->thash[j] >= 0) {
		if (!strcmp(e->tenants[e->thash[j]].name, name))
			return e->thash[j];
		j = (j + 1) & e->thash_mask;
	}
	return -1;
}

int eng_tenant_add(ah_engine *e, const char *name, const ah_tenant_policy *lim)
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
		int rc = eng_thash_rebuild(e, (e->thash_mask + 1) * 2);
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
double eng_dominant_share(const ah_engine *e, int t)
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
bool eng_rate_take(tenant_t *t, int64_t now)
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
