/* resourceVersion bookkeeping (versions.h): an open-addressing map from
 * allocation id to the newest event seq that touched it. Ended
 * allocations stay in the map (a stale version of a released id still
 * reads as stale); it is rebuilt from the ledger at every start. */
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "server/versions.h"

void api_versions_init(api_versions *v)
{
	memset(v, 0, sizeof *v);
}

void api_versions_fini(api_versions *v)
{
	free(v->keys);
	free(v->vals);
	memset(v, 0, sizeof *v);
}

static size_t slot(uint64_t id, size_t cap)
{
	uint64_t h = id * UINT64_C(0x9E3779B97F4A7C15);
	return (size_t)(h >> 17) & (cap - 1);
}

static int grow(api_versions *v)
{
	size_t cap = v->cap ? v->cap * 2 : 1024;
	uint64_t *k = calloc(cap, sizeof *k);
	int64_t *val = calloc(cap, sizeof *val);
	if (!k || !val) {
		free(k);
		free(val);
		return AH_ENOMEM;
	}
	for (size_t i = 0; i < v->cap; i++) {
		if (!v->keys[i])
			continue;
		size_t j = slot(v->keys[i], cap);
		while (k[j])
			j = (j + 1) & (cap - 1);
		k[j] = v->keys[i];
		val[j] = v->vals[i];
	}
	free(v->keys);
	free(v->vals);
	v->keys = k;
	v->vals = val;
	v->cap = cap;
	return 0;
}

int api_versions_set(api_versions *v, uint64_t id, int64_t seq)
{
	if (!id)
		return AH_EINVAL;
	if ((v->n + 1) * 4 > v->cap * 3) {
		int rc = grow(v);
		if (rc < 0)
			return rc;
	}
	size_t j = slot(id, v->cap);
	while (v->keys[j] && v->keys[j] != id)
		j = (j + 1) & (v->cap - 1);
	if (!v->keys[j]) {
		v->keys[j] = id;
		v->n++;
	}
	if (seq > v->vals[j])
		v->vals[j] = seq;
	return 0;
}

int64_t api_versions_get(const api_versions *v, uint64_t id)
{
	if (!v->cap || !id)
		return 0;
	size_t j = slot(id, v->cap);
	while (v->keys[j]) {
		if (v->keys[j] == id)
			return v->vals[j];
		j = (j + 1) & (v->cap - 1);
	}
	return 0;
}

void api_versions_pool_set(api_versions *v, const char *pool, int64_t seq)
{
	for (int i = 0; i < v->n_pools; i++)
		if (!strcmp(v->pool_name[i], pool)) {
			if (seq > v->pool_seq[i])
				v->pool_seq[i] = seq;
			return;
		}
	if (v->n_pools == AH_MAX_POOLS || strlen(pool) >= AH_NAME_MAX)
		return;
	strcpy(v->pool_name[v->n_pools], pool);
	v->pool_seq[v->n_pools++] = seq;
}

int64_t api_versions_pool_get(const api_versions *v, const char *pool)
{
	for (int i = 0; i < v->n_pools; i++)
		if (!strcmp(v->pool_name[i], pool))
			return v->pool_seq[i];
	return 0;
}
