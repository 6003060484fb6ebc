/* Telemetry of the daemon (telemetry.h): rings of pool samples, the
 * newest usage per live allocation, and the pools' forecasts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "server/telemetry.h"

void api_tel_init(api_telemetry *t, int64_t interval_ns)
{
	memset(t, 0, sizeof *t);
	t->interval_ns = interval_ns > 0 ? interval_ns : INT64_C(10) * 1000000000;
	int64_t n = INT64_C(86400) * 1000000000 / t->interval_ns;
	t->ring_cap = n < API_TEL_MIN_SAMPLES ? API_TEL_MIN_SAMPLES : n > AH_TEL_RING_MAX ? AH_TEL_RING_MAX : (size_t)n;
}

static void pool_free(api_tel_pool *p)
{
	if (!p)
		return;
	for (int d = 0; d < AH_MAX_DIMS; d++)
		ah_forecaster_free(p->fc[d]);
	free(p->ring);
	free(p);
}

void api_tel_fini(api_telemetry *t)
{
	for (int i = 0; i < t->n_pools; i++)
		pool_free(t->pools[i]);
	api_idmap_fini(&t->usage);
	memset(t, 0, sizeof *t);
}

/* ---- usage per allocation ---- */

static size_t slot(uint64_t id, size_t cap)
{
	return (size_t)((id * UINT64_C(0x9E3779B97F4A7C15)) >> 17) & (cap - 1);
}

void api_idmap_fini(api_idmap *m)
{
	free(m->ids);
	free(m->vals);
	memset(m, 0, sizeof *m);
}

static int grow(api_idmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1024;
	uint64_t *k = calloc(cap, sizeof *k);
	ah_vec *u = malloc(cap * sizeof *u);
	if (!k || !u) {
		free(k);
		free(u);
		return AH_ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->ids[i])
			continue;
		size_t j = slot(m->ids[i], cap);
		while (k[j])
			j = (j + 1) & (cap - 1);
		k[j] = m->ids[i];
		u[j] = m->vals[i];
	}
	free(m->ids);
	free(m->vals);
	m->ids = k;
	m->vals = u;
	m->cap = cap;
	return 0;
}

const ah_vec *api_idmap_get(const api_idmap *m, uint64_t id)
{
	if (!m->cap || !id)
		return NULL;
	for (size_t j = slot(id, m->cap); m->ids[j]; j = (j + 1) & (m->cap - 1))
		if (m->ids[j] == id)
			return &m->vals[j];
	return NULL;
}

ah_vec *api_idmap_put(api_idmap *m, uint64_t id)
{
	if (!id || ((m->n + 1) * 4 > m->cap * 3 && grow(m) < 0))
		return NULL;
	size_t j = slot(id, m->cap);
	while (m->ids[j] && m->ids[j] != id)
		j = (j + 1) & (m->cap - 1);
	if (!m->ids[j]) {
		m->ids[j] = id;
		m->n++;
		memset(&m->vals[j], 0, sizeof m->vals[j]);
	}
	return &m->vals[j];
}

/* Removal with backward shift: no tombstones, lookups stay short. */
void api_idmap_drop(api_idmap *m, uint64_t id)
{
	if (!m->cap || !id)
		return;
	size_t mask = m->cap - 1, j = slot(id, m->cap);
	while (m->ids[j] && m->ids[j] != id)
		j = (j + 1) & mask;
	if (!m->ids[j])
		return;
	m->ids[j] = 0;
	m->n--;
	for (size_t k = (j + 1) & mask; m->ids[k]; k = (k + 1) & mask) {
		size_t home = slot(m->ids[k], m->cap);
		/* k's entry may move into the hole j unless its home lies in (j, k] */
		bool stays = j < k ? (home > j && home <= k) : (home > j || home <= k);
		if (stays)
			continue;
		m->ids[j] = m->ids[k];
		m->vals[j] = m->vals[k];
		m->ids[k] = 0;
		j = k;
	}
}

void api_tel_usage(api_telemetry *t, uint64_t id, const ah_vec *usage)
{
	ah_vec *v = api_idmap_put(&t->usage, id);
	if (!v)
		return;
	for (int d = 0; d < AH_MAX_DIMS; d++)
		if (usage->v[d] != AH_USAGE_NONE)
			v->v[d] = usage->v[d];
}

void api_tel_on_change(api_telemetry *t, const ah_engine_change *ch)
{
	switch (ch->kind) {
	case AH_CHANGE_PREEMPT:
	case AH_CHANGE_EXPIRE:
	case AH_CHANGE_RELEASE:
		api_idmap_drop(&t->usage, ch->id);
		break;
	default:
		break;
	}
}

typedef struct {
	const api_telemetry *t;
	const ah_engine *e;
	ah_vec *used;
	int ndims;
} used_ctx;

static int add_used(void *ctx, const ah_engine_item *it)
{
	used_ctx *u = ctx;
	if (it->queued)
		return 0;
	const ah_vec *v = api_idmap_get(&u->t->usage, it->id);
	if (!v)
		return 0;
	for (int i = 0; i < ah_engine_pool_count(u->e); i++) {
		ah_engine_pool_info pi;
		if (ah_engine_pool_get(u->e, i, &pi) == 0 && !strcmp(pi.name, it->pool)) {
			for (int d = 0; d < u->ndims; d++)
				u->used[i].v[d] += v->v[d];
			break;
		}
	}
	return 0;
}

void api_tel_used(const api_telemetry *t, const ah_engine *e, ah_vec used[AH_MAX_POOLS])
{
	memset(used, 0, sizeof(ah_vec) * AH_MAX_POOLS);
	const ah_policy *pol = ah_engine_policy_get(e);
	used_ctx u = {.t = t, .e = e, .used = used, .ndims = pol ? pol->dims.n : 0};
	if (t->usage.n)
		(void)ah_engine_foreach(e, add_used, &u);
}

/* ---- rings ---- */

static api_tel_pool *pool_find(api_telemetry *t, const char *name)
{
	for (int i = 0; i < t->n_pools; i++)
		if (!strcmp(t->pools[i]->name, name))
			return t->pools[i];
	return NULL;
}

const api_tel_pool *api_tel_pool_get(const api_telemetry *t, const char *name)
{
	const api_tel_pool *p = pool_find((api_telemetry *)t, name);
	return p && p->present ? p : NULL;
}

static int64_t *slot_of(const api_telemetry *t, const api_tel_pool *p, size_t i)
{
	size_t first = (p->head + p->cap - p->n) % p->cap;
	return p->ring + ((first + i) % p->cap) * API_TEL_STRIDE(t->ndims);
}

void api_tel_at(const api_telemetry *t, const api_tel_pool *p, size_t i, api_tel_sample *out)
{
	memset(out, 0, sizeof *out);
	const int64_t *s = slot_of(t, p, i);
	int nd = t->ndims;
	out->t_ns = s[0];
	out->allocations = (int)s[1];
	out->queue = (int)s[2];
	for (int d = 0; d < nd; d++) {
		out->capacity.v[d] = s[3 + d];
		out->allocated.v[d] = s[3 + nd + d];
		out->used.v[d] = s[3 + 2 * nd + d];
		out->queued.v[d] = s[3 + 3 * nd + d];
	}
}

static void forecast_drop(api_tel_pool *p)
{
	for (int d = 0; d < AH_MAX_DIMS; d++) {
		ah_forecaster_free(p->fc[d]);
		p->fc[d] = NULL;
	}
	p->have_fc = false;
	p->fitted = false;
	p->since_fit = 0;
}

/* Fits every dimension's forecaster on the newest samples' allocated. */
static void fit(const api_telemetry *t, api_tel_pool *p)
{
	forecast_drop(p);
	size_t n = p->n < API_TEL_FIT_MAX ? p->n : API_TEL_FIT_MAX;
	double *y = malloc(n * sizeof *y);
	if (!y)
		return;
	ah_fc_opts o = {.horizon = API_TEL_HORIZON, .max_season = n / 3, .step_s = (double)t->interval_ns / 1e9};
	const int64_t *newest = slot_of(t, p, p->n - 1);
	for (int d = 0; d < t->ndims; d++) {
		p->zero[d] = newest[3 + d] == 0; /* a dimension the pool has no capacity in */
		if (p->zero[d])
			continue;
		for (size_t i = 0; i < n; i++)
			y[i] = (double)slot_of(t, p, p->n - n + i)[3 + t->ndims + d];
		if (ah_forecaster_new(&o, y, n, &p->fc[d]) < 0) {
			forecast_drop(p);
			break;
		}
	}
	p->fitted = true; /* a failed fit retries at the next refit, not every sample */
	free(y);
}

/* The forecast after the newest sample, from the forecasters. */
static void forecast(const api_telemetry *t, api_tel_pool *p, int64_t t0_ns)
{
	const double q[2] = {(1 - API_TEL_LEVEL) / 2, 1 - (1 - API_TEL_LEVEL) / 2};
	double qout[API_TEL_HORIZON * 2];
	p->have_fc = false;
	for (int d = 0; d < t->ndims; d++) {
		if (p->zero[d]) {
			memset(p->point[d], 0, sizeof p->point[d]);
			memset(p->lower[d], 0, sizeof p->lower[d]);
			memset(p->upper[d], 0, sizeof p->upper[d]);
			continue;
		}
		if (!p->fc[d] || ah_forecaster_forecast(p->fc[d], API_TEL_HORIZON, q, 2, p->point[d], qout) < 0)
			return;
		for (int h = 0; h < API_TEL_HORIZON; h++) {
			/* demand is never negative; the band holds its point */
			double pt = p->point[d][h] > 0 ? p->point[d][h] : 0;
			double lo = qout[h * 2] > 0 ? qout[h * 2] : 0, hi = qout[h * 2 + 1] > 0 ? qout[h * 2 + 1] : 0;
			p->point[d][h] = pt;
			p->lower[d][h] = lo < pt ? lo : pt;
			p->upper[d][h] = hi > pt ? hi : pt;
		}
	}
	ah_fc_choice ch;
	for (int d = 0; d < t->ndims; d++)
		if (p->fc[d] && ah_forecaster_choice(p->fc[d], &ch) == 0) {
			memcpy(p->model, ch.model, sizeof p->model);
			break;
		}
	p->fc_t0_ns = t0_ns;
	p->have_fc = t->ndims > 0;
}

/* The previous forecast's next point against the sample that came. */
static void check(const api_telemetry *t, api_tel_pool *p, const ah_vec *allocated)
{
	if (!p->have_fc)
		return;
	for (int d = 0; d < t->ndims; d++) {
		double y = (double)allocated->v[d];
		p->checks[d]++;
		p->abs_error_sum[d] += fabs(y - p->point[d][0]);
		if (y >= p->lower[d][0] && y <= p->upper[d][0])
			p->hits[d]++;
	}
}

static api_tel_pool *pool_add(api_telemetry *t, const char *name)
{
	if (t->n_pools == AH_MAX_POOLS)
		return NULL;
	api_tel_pool *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->ring = malloc(t->ring_cap * API_TEL_STRIDE(t->ndims) * sizeof *p->ring);
	if (!p->ring) {
		free(p);
		return NULL;
	}
	p->cap = t->ring_cap;
	/* pools made together refit at different samples (a fit is some ms) */
	p->since_fit = (size_t)t->n_pools * 7 % API_TEL_REFIT_EVERY;
	snprintf(p->name, sizeof p->name, "%s", name);
	t->pools[t->n_pools++] = p;
	return p;
}

void api_tel_take(api_telemetry *t, const ah_engine *e, const ah_policy *pol, int64_t now_ns)
{
	if (!pol)
		return;
	if (pol->dims.n != t->ndims) { /* a policy with other dimensions: start again */
		for (int i = 0; i < t->n_pools; i++)
			pool_free(t->pools[i]);
		t->n_pools = 0;
		t->ndims = pol->dims.n;
	}
	for (int i = 0; i < t->n_pools; i++)
		t->pools[i]->present = false;
	ah_vec used[AH_MAX_POOLS];
	api_tel_used(t, e, used);
	int nd = t->ndims;
	for (int i = 0; i < ah_engine_pool_count(e); i++) {
		ah_engine_pool_info pi;
		if (ah_engine_pool_get(e, i, &pi) < 0)
			continue;
		api_tel_pool *p = pool_find(t, pi.name);
		if (!p && !(p = pool_add(t, pi.name)))
			continue;
		p->present = true;
		check(t, p, pi.used);
		int64_t *s = p->ring + p->head * API_TEL_STRIDE(nd);
		s[0] = now_ns;
		s[1] = pi.n_allocs;
		s[2] = pi.n_queued;
		for (int d = 0; d < nd; d++) {
			s[3 + d] = pi.capacity->v[d];
			s[3 + nd + d] = pi.used->v[d];
			s[3 + 2 * nd + d] = used[i].v[d];
			s[3 + 3 * nd + d] = pi.queued.v[d];
		}
		p->head = (p->head + 1) % p->cap;
		if (p->n < p->cap)
			p->n++;
		if (p->n < API_TEL_MIN_SAMPLES)
			continue;
		if (!p->fitted || ++p->since_fit >= API_TEL_REFIT_EVERY) {
			fit(t, p);
		} else {
			for (int d = 0; d < nd; d++)
				if (p->fc[d])
					ah_forecaster_update(p->fc[d], (double)pi.used->v[d]);
		}
		forecast(t, p, now_ns);
	}
	/* pools gone from the policy: their rings go too */
	for (int i = 0; i < t->n_pools;) {
		if (t->pools[i]->present) {
			i++;
			continue;
		}
		pool_free(t->pools[i]);
		t->pools[i] = t->pools[--t->n_pools];
	}
}
