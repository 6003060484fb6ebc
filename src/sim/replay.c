/* Trace replay: drives one allocation engine per policy in virtual time
 * (the trace's clock), with the policy as the engine's sizer; keeps per
 * (workload, dimension) policy states, metrics and aggregated chart
 * series. */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "ahead/engine.h"
#include "ahead/error.h"
#include "ahead/ledger.h"
#include "ahead/replay.h"
#include "ahead/scale_loop.h"
#include "ahead/scaler.h"

#define NS_PER_S 1000000000LL
#define WAITS_MAX (1 << 20) /* queueing delays kept per policy for p50/p99 */

void ah_replay_params_default(ah_replay_params *p)
{
	memset(p, 0, sizeof(*p));
	ah_sizing_params_default(&p->sizing, NULL);
	/* Illustrative on-demand list prices (docs/REPLAY.md): $/core-hour,
	 * $/GiB-hour. */
	p->price[AH_DIM_CPU] = 0.0316;
	p->price[AH_DIM_MEMORY] = 0.0042;
	p->pool_forecast = AH_SCALER_FC_BEST;
}

/* ---- workloads ---- */

struct wdim {
	int active;
	int64_t last_t;
	int64_t req;
	unsigned char *block; /* all policies' states */
	int64_t last_res[AH_SIZING_KIND_COUNT];
	uint64_t nseen;
};

struct wl {
	char name[AH_NAME_MAX];
	uint64_t hash;
	struct wdim d[AH_REPLAY_DIMS];
	/* per policy: the engine's allocation (or queued request) id */
	uint64_t id[AH_SIZING_KIND_COUNT];
	int64_t queued_at_ns[AH_SIZING_KIND_COUNT];
	unsigned char queued[AH_SIZING_KIND_COUNT];
};

/* What the engine's sizer callback needs to reach the policy state of the
 * sample being reported (set just before each report). */
struct pctx {
	ah_replay *rp;
	int pi;
	struct wl *cur;
	int64_t t_s;
};

struct ah_replay {
	ah_replay_params p;
	int npol;
	ah_sizing_kind pol[AH_SIZING_KIND_COUNT];
	const ah_sizing_ops *ops[AH_SIZING_KIND_COUNT];
	size_t off[AH_SIZING_KIND_COUNT];
	size_t block_size;
	unsigned dim_mask;
	/* hash table of workloads */
	struct wl **tab;
	size_t cap, n;
	struct wl *last;
	uint64_t intervals;
	ah_replay_metrics m[AH_SIZING_KIND_COUNT][AH_REPLAY_DIMS];
	/* series */
	int64_t bin_s, t0;
	int have_t0;
	size_t nbins, capbins;
	double *used[AH_REPLAY_DIMS];
	double *res[AH_SIZING_KIND_COUNT][AH_REPLAY_DIMS];
	/* the engines */
	ah_policy *epol; /* the engines' policy */
	char pool[AH_NAME_MAX], tenant[AH_NAME_MAX];
	int started;
	int64_t base_s; /* engine time 0 */
	ah_engine *eng[AH_SIZING_KIND_COUNT];
	ah_ledger *led[AH_SIZING_KIND_COUNT];
	struct pctx pc[AH_SIZING_KIND_COUNT];
	int64_t *waits[AH_SIZING_KIND_COUNT];
	size_t nwaits[AH_SIZING_KIND_COUNT];
	/* pool shaping (a policy file with shaping or costs) */
	int scaling;
	int pool_idx;
	ah_scale_loop *loop[AH_SIZING_KIND_COUNT]; /* the service's shaping loop, one per policy */
	int64_t next_step_s;
	uint64_t nsteps;
	double cap_sum[AH_SIZING_KIND_COUNT][AH_REPLAY_DIMS];
	double *capser[AH_SIZING_KIND_COUNT][AH_REPLAY_DIMS]; /* chart: capacity per bin */
	ah_replay_tap_fn tap; /* ah_replay_set_tap */
	void *tap_ctx;
};

int ah_replay_new(const ah_replay_params *p, const ah_sizing_kind *pols, int npol, unsigned dim_mask,
		  int64_t bin_s, ah_replay **out)
{
	if (!p || !pols || npol < 1 || npol > AH_SIZING_KIND_COUNT || !out || bin_s < 0 || p->sizing.step_s <= 0 ||
	    p->sizing.ndims < AH_REPLAY_DIMS || p->sizing.ndims > AH_MAX_DIMS || !(dim_mask & 3u) || (dim_mask & ~3u))
		return AH_EINVAL;
	for (int d = 0; d < AH_REPLAY_DIMS; d++)
		if (!(p->resize_cost[d] >= 0) || !(p->resize_cost[d] < 1e12))
			return AH_EINVAL;
	ah_replay *rp = calloc(1, sizeof(*rp));
	if (!rp)
		return AH_ENOMEM;
	rp->p = *p;
	rp->npol = npol;
	rp->dim_mask = dim_mask;
	rp->bin_s = bin_s;
	size_t off = 0;
	for (int i = 0; i < npol; i++) {
		if ((unsigned)pols[i] >= AH_SIZING_KIND_COUNT) {
			free(rp);
			return AH_EINVAL;
		}
		rp->pol[i] = pols[i];
		rp->ops[i] = ah_sizing_get(pols[i]);
		rp->off[i] = off;
		off += (rp->ops[i]->state_size + 15) & ~(size_t)15;
	}
	rp->block_size = off;
	char err[256];
	int rc = ah_replay_set_policy(rp, NULL, NULL, NULL, err, sizeof(err));
	if (rc) {
		ah_replay_free(rp);
		return rc;
	}
	*out = rp;
	return 0;
}

/* The built-in replay policy: one pool without limits, so that only the
 * sizing policies differ; leases of an hour (a workload silent for longer
 * is reclaimed and requests again when it comes back). */
static const char builtin_policy[] = "[ahead]\n"
				     "lease_ttl = 1h\n"
				     "queue_timeout = 1h\n"
				     "[pool replay]\n"
				     "capacity = cpu=1, memory=1\n"
				     "[class replay]\n"
				     "priority = 1\n"
				     "quantile = 0.5\n"
				     "[tenant replay]\n";

int ah_replay_set_policy(ah_replay *rp, const ah_policy *pol, const char *pool, const char *tenant, char *err,
			 size_t errlen)
{
	if (!rp)
		return AH_EINVAL;
	if (rp->started) {
		if (err)
			snprintf(err, errlen, "the replay has started: set its policy before the first sample");
		return AH_ESTATE;
	}
	ah_policy *np = NULL;
	int rc;
	if (pol) {
		np = malloc(sizeof(*np));
		if (!np)
			return AH_ENOMEM;
		memcpy(np, pol, sizeof(*np));
	} else {
		rc = ah_policy_load_string(builtin_policy, sizeof(builtin_policy) - 1, "replay", &np, err, errlen);
		if (rc)
			return rc;
		for (int d = 0; d < AH_MAX_DIMS; d++) {
			np->pools[0].capacity.v[d] = AH_UNLIMITED;
			np->pools[0].max_size.v[d] = AH_UNLIMITED;
		}
	}
	int pi = pool ? ah_policy_find_pool(np, pool) : 0;
	if (pi < 0) {
		if (err)
			snprintf(err, errlen, "pool '%s' is not defined by the policy", pool);
		rc = AH_EPOLICY;
		goto fail;
	}
	if (np->dims.n < 2 || strcmp(np->dims.name[AH_DIM_CPU], "cpu") || strcmp(np->dims.name[AH_DIM_MEMORY], "memory")) {
		if (err)
			snprintf(err, errlen, "the policy must have the cpu and memory dimensions");
		rc = AH_EPOLICY;
		goto fail;
	}
	const char *tn = tenant;
	if (!tn)
		tn = np->n_tenants > 0 ? np->tenants[0].name : "replay";
	if (ah_policy_find_tenant(np, tn) < 0 && !np->unknown_tenants) {
		if (err)
			snprintf(err, errlen, "tenant '%s' is not defined by the policy and it refuses unknown tenants", tn);
		rc = AH_EPOLICY;
		goto fail;
	}
	ah_policy_free(rp->epol);
	rp->epol = np;
	snprintf(rp->pool, sizeof(rp->pool), "%s", np->pools[pi].name);
	rp->pool_idx = pi;
	rp->scaling = 0;
	for (int k = 0; k < np->n_pools; k++) {
		if (np->pools[k].shaping)
			rp->scaling = 1;
		for (int d = 0; d < AH_MAX_DIMS; d++)
			if (np->pools[k].capacity_cost[d] > 0)
				rp->scaling = 1;
	}
	snprintf(rp->tenant, sizeof(rp->tenant), "%s", tn);
	return 0;
fail:
	ah_policy_free(np);
	return rc;
}

void ah_replay_free(ah_replay *rp)
{
	if (!rp)
		return;
	for (size_t i = 0; i < rp->cap; i++) {
		struct wl *w = rp->tab[i];
		if (!w)
			continue;
		for (int d = 0; d < AH_REPLAY_DIMS; d++)
			free(w->d[d].block);
		free(w);
	}
	free(rp->tab);
	for (int i = 0; i < AH_SIZING_KIND_COUNT; i++) {
		ah_engine_free(rp->eng[i]);
		ah_ledger_free(rp->led[i]);
		ah_scale_loop_free(rp->loop[i]);
		free(rp->waits[i]);
		for (int d = 0; d < AH_REPLAY_DIMS; d++)
			free(rp->capser[i][d]);
	}
	ah_policy_free(rp->epol);
	for (int d = 0; d < AH_REPLAY_DIMS; d++) {
		free(rp->used[d]);
		for (int i = 0; i < AH_SIZING_KIND_COUNT; i++)
			free(rp->res[i][d]);
	}
	free(rp);
}

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static int grow_tab(ah_replay *rp)
{
	size_t ncap = rp->cap ? rp->cap * 2 : 64;
	struct wl **nt = calloc(ncap, sizeof(*nt));
	if (!nt)
		return AH_ENOMEM;
	for (size_t i = 0; i < rp->cap; i++) {
		struct wl *w = rp->tab[i];
		if (!w)
			continue;
		size_t j = w->hash & (ncap - 1);
		while (nt[j])
			j = (j + 1) & (ncap - 1);
		nt[j] = w;
	}
	free(rp->tab);
	rp->tab = nt;
	rp->cap = ncap;
	return 0;
}

static int lookup(ah_replay *rp, const char *name, struct wl **out)
{
	if (rp->last && !strcmp(rp->last->name, name)) {
		*out = rp->last;
		return 0;
	}
	uint64_t h = fnv(name);
	if (rp->cap) {
		size_t j = h & (rp->cap - 1);
		for (; rp->tab[j]; j = (j + 1) & (rp->cap - 1))
			if (rp->tab[j]->hash == h && !strcmp(rp->tab[j]->name, name)) {
				*out = rp->last = rp->tab[j];
				return 0;
			}
	}
	if (rp->n >= AH_REPLAY_MAX_WORKLOADS)
		return AH_ETOOBIG;
	if ((rp->n + 1) * 2 > rp->cap) {
		int rc = grow_tab(rp);
		if (rc)
			return rc;
	}
	struct wl *w = calloc(1, sizeof(*w));
	if (!w)
		return AH_ENOMEM;
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->hash = h;
	size_t j = h & (rp->cap - 1);
	while (rp->tab[j])
		j = (j + 1) & (rp->cap - 1);
	rp->tab[j] = w;
	rp->n++;
	*out = rp->last = w;
	return 0;
}

/* ---- series ---- */

static int ensure_bin(ah_replay *rp, int64_t t, size_t *out)
{
	if (!rp->have_t0) {
		rp->t0 = t - t % rp->bin_s;
		rp->have_t0 = 1;
	}
	size_t shift = 0;
	if (t < rp->t0) {
		int64_t nt0 = t - t % rp->bin_s;
		shift = (size_t)((rp->t0 - nt0) / rp->bin_s);
		if (rp->nbins + shift > AH_REPLAY_MAX_BINS)
			return AH_ETOOBIG;
		rp->t0 = nt0;
	}
	size_t idx = (size_t)((t - rp->t0) / rp->bin_s);
	size_t need = (idx + 1 > rp->nbins + shift) ? idx + 1 : rp->nbins + shift;
	if (need > AH_REPLAY_MAX_BINS)
		return AH_ETOOBIG;
	if (need > rp->capbins) {
		size_t nc = rp->capbins ? rp->capbins : 1024;
		while (nc < need)
			nc *= 2;
		for (int d = 0; d < AH_REPLAY_DIMS; d++) {
			double *a = realloc(rp->used[d], nc * sizeof(double));
			if (!a)
				return AH_ENOMEM;
			memset(a + rp->capbins, 0, (nc - rp->capbins) * sizeof(double));
			rp->used[d] = a;
			for (int i = 0; i < rp->npol; i++) {
				a = realloc(rp->res[i][d], nc * sizeof(double));
				if (!a)
					return AH_ENOMEM;
				memset(a + rp->capbins, 0, (nc - rp->capbins) * sizeof(double));
				rp->res[i][d] = a;
				if (!rp->scaling)
					continue;
				a = realloc(rp->capser[i][d], nc * sizeof(double));
				if (!a)
					return AH_ENOMEM;
				memset(a + rp->capbins, 0, (nc - rp->capbins) * sizeof(double));
				rp->capser[i][d] = a;
			}
		}
		rp->capbins = nc;
	}
	if (shift) {
		for (int d = 0; d < AH_REPLAY_DIMS; d++) {
			memmove(rp->used[d] + shift, rp->used[d], rp->nbins * sizeof(double));
			memset(rp->used[d], 0, shift * sizeof(double));
			for (int i = 0; i < rp->npol; i++) {
				memmove(rp->res[i][d] + shift, rp->res[i][d], rp->nbins * sizeof(double));
				memset(rp->res[i][d], 0, shift * sizeof(double));
				if (!rp->capser[i][d])
					continue;
				memmove(rp->capser[i][d] + shift, rp->capser[i][d], rp->nbins * sizeof(double));
				memset(rp->capser[i][d], 0, shift * sizeof(double));
			}
		}
	}
	rp->nbins = need;
	*out = idx;
	return 0;
}

/* ---- metrics ---- */

static void note_short(ah_replay_metrics *m, const char *wl, int64_t t, int64_t used, int64_t res)
{
	int64_t s = used - res;
	int n = m->nworst;
	if (n == AH_REPLAY_WORST && s <= m->worst[n - 1].used - m->worst[n - 1].reserved)
		return;
	int i = n < AH_REPLAY_WORST ? n : AH_REPLAY_WORST - 1;
	while (i > 0 && m->worst[i - 1].used - m->worst[i - 1].reserved < s) {
		m->worst[i] = m->worst[i - 1];
		i--;
	}
	ah_shortfall *w = &m->worst[i];
	snprintf(w->workload, sizeof(w->workload), "%s", wl);
	w->t_s = t;
	w->used = used;
	w->reserved = res;
	if (n < AH_REPLAY_WORST)
		m->nworst++;
}

/* ---- the engines ---- */

/* Policy i's reservation for the interval starting at t_s (never negative). */
static int64_t policy_reserve(const ah_replay *rp, int i, struct wdim *wd, int64_t t_s)
{
	int64_t r = rp->ops[i]->reserve(wd->block + rp->off[i], t_s, wd->req);
	return r < 0 ? 0 : r;
}

/* The engine's sizer: the policy observes the interval's usage under the
 * reservation the engine really gave, and states the next interval's. */
static int sizer_target(void *ctx, uint64_t id, int dim, int64_t now_ns, int64_t used, int64_t reserved,
			const ah_resize_budget *budget, ah_size_target *out)
{
	(void)now_ns;
	(void)budget;
	struct pctx *c = ctx;
	struct wl *w = c->cur;
	if (!w || w->id[c->pi] != id || (unsigned)dim >= AH_REPLAY_DIMS || !w->d[dim].active)
		return AH_ENOENT;
	ah_replay *rp = c->rp;
	struct wdim *wd = &w->d[dim];
	rp->ops[c->pi]->observe(wd->block + rp->off[c->pi], c->t_s, used, reserved, wd->req);
	out->reserve = policy_reserve(rp, c->pi, wd, c->t_s + rp->p.sizing.step_s);
	out->limit = AH_LIMIT_NONE;
	return 0;
}

static int start_engines(ah_replay *rp, int64_t t_s)
{
	rp->base_s = t_s;
	for (int i = 0; i < rp->npol; i++) {
		int rc = ah_ledger_memory_new(16, &rp->led[i]);
		if (!rc)
			rc = ah_engine_new(rp->epol, rp->led[i], 0, &rp->eng[i]);
		if (rc)
			return rc;
		rp->pc[i] = (struct pctx){.rp = rp, .pi = i};
		ah_sizer sz = {.ctx = &rp->pc[i], .target = sizer_target};
		ah_engine_set_sizer(rp->eng[i], &sz);
		if (rp->scaling) {
			ah_scale_loop_cfg c;
			ah_scale_loop_cfg_init(&c);
			c.scaler.step_ns = rp->p.sizing.step_s * NS_PER_S;
			if (c.scaler.horizon_ns < c.scaler.step_ns) /* plan at least one step ahead */
				c.scaler.horizon_ns = c.scaler.step_ns;
			c.record_events = true;
			c.scaler.fc_mode = (ah_scaler_fc_mode)rp->p.pool_forecast;
			if ((rc = ah_scale_loop_new(rp->epol, &c, rp->led[i], 0, &rp->loop[i])) != 0)
				return rc;
		}
	}
	rp->next_step_s = t_s;
	rp->started = 1;
	return 0;
}

static void note_wait(ah_replay *rp, int i, int64_t wait_ns)
{
	if (rp->nwaits[i] >= WAITS_MAX)
		return;
	if (!rp->waits[i] || (rp->nwaits[i] & (rp->nwaits[i] - 1)) == 0) {
		size_t nc = rp->nwaits[i] ? rp->nwaits[i] * 2 : 64;
		int64_t *nw = realloc(rp->waits[i], nc * sizeof(*nw));
		if (!nw)
			return; /* a percentile from fewer samples; never fail the replay */
		rp->waits[i] = nw;
	}
	rp->waits[i][rp->nwaits[i]++] = wait_ns;
}

/* Makes sure workload w holds (or waits for) an allocation under policy
 * i, sized by the policy for every dimension seen so far; returns the
 * engine's reservation in `dim` now (0 while queued or refused). */
static int ensure_alloc(ah_replay *rp, int i, struct wl *w, int dim, int64_t t_s, int64_t now, bool req_changed,
			int64_t *out_r)
{
	ah_engine *E = rp->eng[i];
	ah_engine_item it;
	*out_r = 0;
	if (w->id[i]) {
		int rc = ah_engine_get(E, w->id[i], &it);
		if (!rc && (it.queued || it.expires_ns <= now)) {
			/* due for reclaiming or timing out, or waiting for room that
			 * may have freed since: let the engine catch up first */
			if ((rc = ah_engine_tick(E, now)) != 0)
				return rc;
			rc = ah_engine_get(E, w->id[i], &it);
		}
		if (rc == AH_ENOENT) {
			/* queued and timed out, or a lease that lapsed in a gap */
			if (w->queued[i])
				rp->m[i][0].timeouts++;
			else
				rp->m[i][0].expiries++;
			w->id[i] = 0;
			w->queued[i] = 0;
		} else if (rc) {
			return rc;
		} else if (it.queued) {
			return 0;
		} else if (w->queued[i]) {
			w->queued[i] = 0;
			rp->m[i][0].waits++;
			note_wait(rp, i, now - w->queued_at_ns[i]);
		}
	}
	if (!w->id[i]) {
		ah_request rq = {.tenant = rp->tenant, .pool = rp->pool, .klass = NULL, .workload = w->name,
				 .queue_timeout_ns = -1};
		bool any = false;
		for (int d = 0; d < AH_REPLAY_DIMS; d++) {
			struct wdim *wd = &w->d[d];
			if (!wd->active || (d != dim && !wd->nseen))
				continue;
			rq.res.v[d] = policy_reserve(rp, i, wd, t_s);
			if (rq.res.v[d] > 0)
				any = true;
		}
		if (!any)
			rq.res.v[dim] = 1; /* the engine refuses an empty request */
		ah_decision dec;
		int rc = ah_engine_request(E, &rq, now, &dec);
		if (rc)
			return rc;
		rp->m[i][0].requests++;
		if (dec.outcome == AH_REFUSED) {
			rp->m[i][0].refused++;
			return 0;
		}
		w->id[i] = dec.id;
		if (dec.outcome == AH_QUEUED) {
			w->queued[i] = 1;
			w->queued_at_ns[i] = now;
			rp->m[i][0].queued++;
			return 0;
		}
		if (ah_engine_get(E, w->id[i], &it))
			return AH_ESTATE;
	} else if ((!w->d[dim].nseen && it.res->v[dim] == 0) || req_changed) {
		/* The allocation predates this dimension's first sample, or the
		 * workload was provisioned anew (the trace's requested size
		 * changed): a request to resize, which the policy sizes. */
		struct wdim *wd = &w->d[dim];
		ah_vec res = *it.res;
		res.v[dim] = policy_reserve(rp, i, wd, t_s);
		int rc = res.v[dim] == it.res->v[dim] ? 0 : ah_engine_resize(E, w->id[i], &res, now);
		if (rc && rc != AH_ECAPACITY && rc != AH_EQUOTA)
			return rc;
		if (ah_engine_get(E, w->id[i], &it))
			return AH_ESTATE;
	}
	*out_r = it.res->v[dim];
	return 0;
}

/* One step of pool shaping per policy at t_s: charge the interval that
 * ends under the cost model, show the scaler each pool's demand (held,
 * queued, and pending grows), let it decide, and apply what is due — the
 * replay's stand-in for the scale hook is the capacity change itself. */
static int scale_step(ah_replay *rp, int64_t t_s)
{
	int64_t now = (t_s - rp->base_s) * NS_PER_S;
	const ah_policy *pol = rp->epol;
	/* Replay's executor: the hook succeeds at once and the capacity
	 * arrives at the action's ready time (the simulated lead time). */
	const ah_scale_exec exec = {.run = NULL, .at_ready_time = true};
	for (int i = 0; i < rp->npol; i++) {
		ah_engine *E = rp->eng[i];
		int rc = ah_scale_loop_step(rp->loop[i], E, rp->led[i], now, &exec, false, NULL, NULL, NULL);
		if (rc)
			return rc;
		ah_vec caps[AH_MAX_POOLS];
		for (int k = 0; k < pol->n_pools; k++) {
			ah_engine_pool_info pi;
			if ((rc = ah_engine_pool_get(E, k, &pi)) != 0)
				return rc;
			caps[k] = *pi.capacity;
		}
		for (int d = 0; d < AH_REPLAY_DIMS; d++) {
			double c = (double)caps[rp->pool_idx].v[d];
			rp->cap_sum[i][d] += c;
			if (rp->bin_s > 0 && rp->capser[i][d]) {
				size_t bin;
				if ((rc = ensure_bin(rp, t_s, &bin)) != 0)
					return rc;
				if (c > rp->capser[i][d][bin])
					rp->capser[i][d][bin] = c;
			}
		}
	}
	rp->nsteps++;
	return 0;
}

int ah_replay_feed(ah_replay *rp, const ah_trace_row *row, char *err, size_t errlen)
{
	if (!rp || !row || !row->workload || (unsigned)row->dim >= AH_REPLAY_DIMS)
		return AH_EINVAL;
	if (!(rp->dim_mask & (1u << row->dim)))
		return 0;
	if (row->used < 0) {
		if (err)
			snprintf(err, errlen, "workload %s: negative usage", row->workload);
		return AH_ERANGE;
	}
	int rc;
	if (!rp->started && (rc = start_engines(rp, row->t_s)) != 0) {
		if (err)
			snprintf(err, errlen, "starting the engines: %s", ah_strerror(rc));
		return rc;
	}
	/* engine time: ns since the first sample (the trace's seconds would
	 * overflow int64 ns past the year 2262) */
	int64_t rel = row->t_s - rp->base_s;
	if (rel > INT64_MAX / NS_PER_S || rel < -(INT64_MAX / NS_PER_S)) {
		if (err)
			snprintf(err, errlen, "time %lld: more than 292 years from the first sample", (long long)row->t_s);
		return AH_ERANGE;
	}
	int64_t now = rel * NS_PER_S;
	struct wl *w;
	rc = lookup(rp, row->workload, &w);
	if (rc) {
		if (err)
			snprintf(err, errlen, "workload %s: %s", row->workload,
				 rc == AH_ETOOBIG ? "too many workloads" : ah_strerror(rc));
		return rc;
	}
	struct wdim *wd = &w->d[row->dim];
	int dim = row->dim;
	/* A row out of order is refused before it changes anything. */
	if (wd->active && row->t_s <= wd->last_t) {
		if (err)
			snprintf(err, errlen, "workload %s %s: time %lld is not after the previous sample (%lld)",
				 row->workload, dim == AH_DIM_CPU ? "cpu" : "memory", (long long)row->t_s,
				 (long long)wd->last_t);
		return AH_EPARSE;
	}
	if (!wd->active && !wd->block && rp->block_size) {
		wd->block = calloc(1, rp->block_size);
		if (!wd->block)
			return AH_ENOMEM;
	}
	if (rp->scaling && row->t_s >= rp->next_step_s) {
		/* steps at a fixed period on the trace's clock; a long gap is
		 * crossed in one step (nothing happened in it to react to) */
		if (row->t_s - rp->next_step_s > 12 * rp->p.sizing.step_s)
			rp->next_step_s = row->t_s;
		while (row->t_s >= rp->next_step_s) {
			rc = scale_step(rp, rp->next_step_s);
			if (rc) {
				if (err)
					snprintf(err, errlen, "time %lld: pool shaping: %s", (long long)row->t_s,
						 ah_strerror(rc));
				return rc;
			}
			rp->next_step_s += rp->p.sizing.step_s;
		}
	}
	bool req_changed = wd->active && row->requested >= 0 && row->requested != wd->req;
	if (row->requested >= 0)
		wd->req = row->requested;
	if (!wd->active) {
		if (row->requested < 0)
			wd->req = -1;
		for (int i = 0; i < rp->npol; i++) {
			rp->ops[i]->init(wd->block + rp->off[i], &rp->p.sizing, dim, wd->req);
			rp->m[i][dim].workloads++;
		}
		wd->active = 1;
	}
	size_t bin = 0;
	if (rp->bin_s > 0) {
		rc = ensure_bin(rp, row->t_s, &bin);
		if (rc) {
			if (err)
				snprintf(err, errlen, "time %lld: chart series too long", (long long)row->t_s);
			return rc;
		}
	}
	int64_t used = row->used;
	double scale = rp->bin_s > 0 ? (double)rp->p.sizing.step_s / (double)rp->bin_s : 0;
	for (int i = 0; i < rp->npol; i++) {
		int64_t r;
		rc = ensure_alloc(rp, i, w, dim, row->t_s, now, req_changed, &r);
		if (rc) {
			if (err)
				snprintf(err, errlen, "workload %s: engine (%s): %s", row->workload, rp->ops[i]->name,
					 ah_strerror(rc));
			return rc;
		}
		ah_replay_metrics *m = &rp->m[i][dim];
		m->intervals++;
		m->sum_used += (double)used;
		m->sum_reserved += (double)r;
		if (r >= used) {
			m->sum_idle += (double)(r - used);
		} else {
			m->violations++;
			m->sum_short += (double)(used - r);
			note_short(m, w->name, row->t_s, used, r);
		}
		if (wd->nseen && r != wd->last_res[i])
			m->resizes++;
		wd->last_res[i] = r;
		/* the hard level: a two-level policy's safety net, never below
		 * the reservation; a one-level policy's reservation */
		int64_t hard = r;
		if (rp->ops[i]->limit && w->id[i] && !w->queued[i]) {
			int64_t l = rp->ops[i]->limit(wd->block + rp->off[i], row->t_s);
			if (l > hard)
				hard = l;
		}
		m->sum_hard += (double)hard;
		if (used > hard)
			m->kill_violations++;
		if (rp->tap)
			rp->tap(rp->tap_ctx, w->name, i, dim, row->t_s, used, r, hard);
		if (rp->bin_s > 0)
			rp->res[i][dim][bin] += (double)r * scale;
		if (w->id[i] && !w->queued[i]) {
			/* The usage report: the policy, as the engine's sizer,
			 * decides the next size; the engine admits it. */
			ah_vec u;
			for (int d = 0; d < AH_MAX_DIMS; d++)
				u.v[d] = AH_USAGE_NONE;
			u.v[dim] = used;
			rp->pc[i].cur = w;
			rp->pc[i].t_s = row->t_s;
			ah_adjust_outcome o;
			rc = ah_engine_report_usage(rp->eng[i], w->id[i], &u, now, &o);
			rp->pc[i].cur = NULL;
			if (rc) {
				if (err)
					snprintf(err, errlen, "workload %s: engine (%s): %s", row->workload,
						 rp->ops[i]->name, ah_strerror(rc));
				return rc;
			}
			if (o.action == AH_ADJUST_GROW_BLOCKED)
				rp->m[i][0].grow_blocked++;
			if (o.action != AH_ADJUST_NONE && o.action != AH_ADJUST_GROW_BLOCKED)
				rp->m[i][0].engine_resizes++;
		} else {
			/* Waiting (or refused): the workload runs regardless in
			 * the trace; the policy still learns from it. */
			void *st = wd->block + rp->off[i];
			rp->ops[i]->observe(st, row->t_s, used, r, wd->req);
			m->queued_intervals++;
		}
	}
	if (rp->bin_s > 0)
		rp->used[dim][bin] += (double)used * scale;
	wd->last_t = row->t_s;
	wd->nseen++;
	rp->intervals++;
	return 0;
}

int ah_replay_feed_trace(ah_replay *rp, ah_trace *tr, char *err, size_t errlen)
{
	ah_trace_row row;
	int rc;
	char msg[256];
	while ((rc = ah_trace_next(tr, &row)) == 1) {
		rc = ah_replay_feed(rp, &row, msg, sizeof(msg));
		if (rc) {
			char where[300];
			if (err)
				snprintf(err, errlen, "%s: %s", ah_trace_where(tr, where, sizeof(where)), msg);
			return rc;
		}
	}
	if (rc < 0 && err)
		snprintf(err, errlen, "%s", ah_trace_error(tr));
	return rc;
}

int ah_replay_feed_merge(ah_replay *rp, ah_trace_merge *mg, char *err, size_t errlen)
{
	ah_trace_row row;
	const ah_trace *from = NULL;
	int rc;
	char msg[256];
	while ((rc = ah_trace_merge_next(mg, &row, &from)) == 1) {
		rc = ah_replay_feed(rp, &row, msg, sizeof(msg));
		if (rc) {
			char where[300];
			if (err)
				snprintf(err, errlen, "%s: %s", ah_trace_where(from, where, sizeof(where)), msg);
			return rc;
		}
	}
	if (rc < 0 && err)
		snprintf(err, errlen, "%s", ah_trace_error(ah_trace_merge_error_source(mg)));
	return rc;
}

int ah_replay_set_tap(ah_replay *rp, ah_replay_tap_fn fn, void *ctx)
{
	if (!rp)
		return AH_EINVAL;
	rp->tap = fn;
	rp->tap_ctx = ctx;
	return 0;
}

int ah_replay_npolicies(const ah_replay *rp)
{
	return rp->npol;
}

ah_sizing_kind ah_replay_policy(const ah_replay *rp, int i)
{
	return rp->pol[i];
}

uint64_t ah_replay_intervals(const ah_replay *rp)
{
	return rp->intervals;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static double pctl_s(int64_t *v, size_t n, double q)
{
	if (!n)
		return 0;
	size_t k = (size_t)(q * (double)(n - 1) + 0.5);
	return (double)v[k] / (double)NS_PER_S;
}

void ah_replay_get_metrics(const ah_replay *rp, int i, int dim, ah_replay_metrics *out)
{
	*out = rp->m[i][dim];
	/* engine-side counts are per policy (kept in dimension 0's block) */
	const ah_replay_metrics *e0 = &rp->m[i][0];
	out->requests = e0->requests;
	out->queued = e0->queued;
	out->refused = e0->refused;
	out->timeouts = e0->timeouts;
	out->expiries = e0->expiries;
	out->grow_blocked = e0->grow_blocked;
	out->engine_resizes = e0->engine_resizes;
	out->waits = e0->waits;
	if (rp->loop[i]) {
		ah_scaler_costs c;
		if (!ah_scaler_costs_get(ah_scale_loop_scaler_get(rp->loop[i]), -1, &c)) {
			out->scale_actions = c.n_scale;
			out->rebalances = c.n_rebalance;
			out->cost_capacity = c.capacity;
			out->cost_create = c.create;
			out->cost_shortfall = c.shortfall;
			out->cost_model = c.total;
		}
		out->mean_capacity = rp->nsteps ? rp->cap_sum[i][dim] / (double)rp->nsteps : 0;
	}
	if (rp->nwaits[i]) {
		qsort(rp->waits[i], rp->nwaits[i], sizeof(int64_t), cmp_i64);
		out->wait_p50_s = pctl_s(rp->waits[i], rp->nwaits[i], 0.5);
		out->wait_p99_s = pctl_s(rp->waits[i], rp->nwaits[i], 0.99);
		out->wait_max_s = pctl_s(rp->waits[i], rp->nwaits[i], 1.0);
	}
	out->slack = out->sum_used > 0 ? out->sum_idle / out->sum_used : 0;
	out->net_slack = out->sum_used > 0 ? (out->sum_reserved - out->sum_used) / out->sum_used : 0;
	out->shortfall = out->sum_used > 0 ? out->sum_short / out->sum_used : 0;
	out->violation_pct = out->intervals ? 100.0 * (double)out->violations / (double)out->intervals : 0;
	out->kill_violation_pct = out->intervals ? 100.0 * (double)out->kill_violations / (double)out->intervals : 0;
	double unit = dim == AH_DIM_CPU ? 1000.0 : (double)(1 << 30);
	out->unit_hours = out->sum_reserved / unit * (double)rp->p.sizing.step_s / 3600.0;
	double wl_hours = (double)out->intervals * (double)rp->p.sizing.step_s / 3600.0;
	out->resizes_per_wl_hour = wl_hours > 0 ? (double)out->resizes / wl_hours : 0;
	out->cost_resize = (double)out->resizes * rp->p.resize_cost[dim];
	out->cost = out->unit_hours * rp->p.price[dim] + out->cost_resize;
}

const double *ah_replay_capacity_series(const ah_replay *rp, int i, int dim)
{
	if (!rp || i < 0 || i >= rp->npol || (unsigned)dim >= AH_REPLAY_DIMS)
		return NULL;
	return rp->capser[i][dim];
}

int ah_replay_shaping(const ah_replay *rp)
{
	return rp ? rp->scaling : 0;
}

int ah_replay_series(const ah_replay *rp, int i, int dim, int64_t *t0, int64_t *bin_s, size_t *n,
		     const double **used, const double **reserved)
{
	if (!rp || i < 0 || i >= rp->npol || (unsigned)dim >= AH_REPLAY_DIMS || rp->bin_s <= 0)
		return AH_EINVAL;
	*t0 = rp->t0;
	*bin_s = rp->bin_s;
	*n = rp->nbins;
	*used = rp->used[dim];
	*reserved = rp->res[i][dim];
	return 0;
}
