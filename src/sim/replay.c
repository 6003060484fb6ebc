/* Trace replay engine: per (workload, dimension) policy states, metrics and
 * aggregated chart series. Virtual time: the clock is the trace's. */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "ahead/error.h"
#include "ahead/replay.h"
#include "sim/sim.h"

void ah_replay_params_default(ah_replay_params *p)
{
	memset(p, 0, sizeof(*p));
	p->step_s = 300;
	p->quantile[AH_DIM_CPU] = 0.998;
	p->quantile[AH_DIM_MEMORY] = 0.998;
	p->violation_cost[AH_DIM_CPU] = 50.0 * 1000;                    /* 50 cores */
	p->violation_cost[AH_DIM_MEMORY] = 800.0 * (double)(1 << 30); /* 800 GiB */
	p->hpa_target = 0.7;
	p->hpa_tolerance = 0.1;
	p->hpa_window_s = 300;
	p->hpa_sync_s = 15;
	p->hpa_quantum[AH_DIM_CPU] = 100;                    /* 100 millicores */
	p->hpa_quantum[AH_DIM_MEMORY] = (int64_t)128 << 20; /* 128 MiB */
	p->autopilot_cpu_pct = 0.95;
	p->autopilot_cpu_half_life_s = 12 * 3600;
	p->autopilot_mem_half_life_s = 48 * 3600;
	p->autopilot_mem_window_s = 48 * 3600;
	/* Illustrative on-demand list prices (docs/REPLAY.md): $/core-hour,
	 * $/GiB-hour. */
	p->price[AH_DIM_CPU] = 0.0316;
	p->price[AH_DIM_MEMORY] = 0.0042;
}

static const ah_policy_ops *const all_ops[AH_POL_COUNT] = {
	&ah_policy_static_ops, &ah_policy_threshold_ops, &ah_policy_vpa_ops, &ah_policy_autopilot_ops,
	&ah_policy_ahead_ops,
};

const ah_policy_ops *ah_policy_get(ah_policy_kind k)
{
	return (unsigned)k < AH_POL_COUNT ? all_ops[k] : NULL;
}

const char *ah_policy_name(ah_policy_kind k)
{
	return (unsigned)k < AH_POL_COUNT ? all_ops[k]->name : "?";
}

int ah_policy_parse(const char *name, ah_policy_kind *out)
{
	for (int k = 0; k < AH_POL_COUNT; k++)
		if (name && !strcmp(name, all_ops[k]->name)) {
			*out = (ah_policy_kind)k;
			return 0;
		}
	return AH_EINVAL;
}

/* ---- workloads ---- */

struct wdim {
	int active;
	int64_t last_t;
	int64_t req;
	unsigned char *block; /* all policies' states */
	int64_t last_res[AH_POL_COUNT];
	uint64_t nseen;
};

struct wl {
	char name[AH_NAME_MAX];
	uint64_t hash;
	struct wdim d[AH_REPLAY_DIMS];
};

struct ah_replay {
	ah_replay_params p;
	int npol;
	ah_policy_kind pol[AH_POL_COUNT];
	const ah_policy_ops *ops[AH_POL_COUNT];
	size_t off[AH_POL_COUNT];
	size_t block_size;
	unsigned dim_mask;
	/* hash table of workloads */
	struct wl **tab;
	size_t cap, n;
	struct wl *last;
	uint64_t intervals;
	ah_replay_metrics m[AH_POL_COUNT][AH_REPLAY_DIMS];
	/* series */
	int64_t bin_s, t0;
	int have_t0;
	size_t nbins, capbins;
	double *used[AH_REPLAY_DIMS];
	double *res[AH_POL_COUNT][AH_REPLAY_DIMS];
};

int ah_replay_new(const ah_replay_params *p, const ah_policy_kind *pols, int npol, unsigned dim_mask,
		  int64_t bin_s, ah_replay **out)
{
	if (!p || !pols || npol < 1 || npol > AH_POL_COUNT || !out || bin_s < 0 || p->step_s <= 0 ||
	    !(dim_mask & 3u) || (dim_mask & ~3u))
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
		if ((unsigned)pols[i] >= AH_POL_COUNT) {
			free(rp);
			return AH_EINVAL;
		}
		rp->pol[i] = pols[i];
		rp->ops[i] = all_ops[pols[i]];
		rp->off[i] = off;
		off += (rp->ops[i]->state_size + 15) & ~(size_t)15;
	}
	rp->block_size = off;
	*out = rp;
	return 0;
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
	for (int d = 0; d < AH_REPLAY_DIMS; d++) {
		free(rp->used[d]);
		for (int i = 0; i < AH_POL_COUNT; i++)
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
	struct wl *w;
	int rc = lookup(rp, row->workload, &w);
	if (rc) {
		if (err)
			snprintf(err, errlen, "workload %s: %s", row->workload,
				 rc == AH_ETOOBIG ? "too many workloads" : ah_strerror(rc));
		return rc;
	}
	struct wdim *wd = &w->d[row->dim];
	int dim = row->dim;
	if (row->requested >= 0)
		wd->req = row->requested;
	if (!wd->active) {
		if (!wd->block && rp->block_size) {
			wd->block = calloc(1, rp->block_size);
			if (!wd->block)
				return AH_ENOMEM;
		}
		if (row->requested < 0)
			wd->req = -1;
		for (int i = 0; i < rp->npol; i++) {
			rp->ops[i]->init(wd->block + rp->off[i], &rp->p, dim, wd->req);
			rp->m[i][dim].workloads++;
		}
		wd->active = 1;
	} else if (row->t_s <= wd->last_t) {
		if (err)
			snprintf(err, errlen, "workload %s %s: time %lld is not after the previous sample (%lld)",
				 row->workload, dim == AH_DIM_CPU ? "cpu" : "mem", (long long)row->t_s,
				 (long long)wd->last_t);
		return AH_EPARSE;
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
	int64_t used = row->used, req = wd->req;
	double scale = rp->bin_s > 0 ? (double)rp->p.step_s / (double)rp->bin_s : 0;
	for (int i = 0; i < rp->npol; i++) {
		void *st = wd->block + rp->off[i];
		int64_t r = rp->ops[i]->reserve(st, row->t_s, req);
		if (r < 0)
			r = 0;
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
		if (rp->bin_s > 0)
			rp->res[i][dim][bin] += (double)r * scale;
		rp->ops[i]->observe(st, row->t_s, used, r, req);
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

int ah_replay_npolicies(const ah_replay *rp)
{
	return rp->npol;
}

ah_policy_kind ah_replay_policy(const ah_replay *rp, int i)
{
	return rp->pol[i];
}

uint64_t ah_replay_intervals(const ah_replay *rp)
{
	return rp->intervals;
}

void ah_replay_get_metrics(const ah_replay *rp, int i, int dim, ah_replay_metrics *out)
{
	*out = rp->m[i][dim];
	out->slack = out->sum_used > 0 ? out->sum_idle / out->sum_used : 0;
	out->net_slack = out->sum_used > 0 ? (out->sum_reserved - out->sum_used) / out->sum_used : 0;
	out->shortfall = out->sum_used > 0 ? out->sum_short / out->sum_used : 0;
	out->violation_pct = out->intervals ? 100.0 * (double)out->violations / (double)out->intervals : 0;
	double unit = dim == AH_DIM_CPU ? 1000.0 : (double)(1 << 30);
	out->unit_hours = out->sum_reserved / unit * (double)rp->p.step_s / 3600.0;
	out->cost = out->unit_hours * rp->p.price[dim];
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
