/* A sizing policy as the engine's sizer (see include/ahead/sizing_sizer.h).
 * The policy is driven exactly as src/sim/replay.c drives it: reserve(t)
 * for an interval, observe(t, used, reserved) once it is over; a report at
 * t observes and then asks reserve(t + step). */
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/sizing_sizer.h"
#include "sizing/sizing_int.h"

#define NS_PER_S 1000000000LL

struct entry {
	uint64_t id; /* 0 = free */
	int dim;
	int64_t req;
	unsigned char *state;
};

struct ah_sizing_sizer {
	ah_sizing_params p;
	const ah_sizing_ops *ops;
	struct entry *tab; /* open addressing on (id, dim) */
	size_t cap, n;
};

static size_t slot_of(uint64_t id, int dim, size_t cap)
{
	uint64_t h = (id * 0x9E3779B97F4A7C15ull) ^ (uint64_t)(dim + 1) * 0xC2B2AE3D27D4EB4Full;
	return (size_t)(h >> 17) & (cap - 1);
}

static struct entry *find(const ah_sizing_sizer *z, uint64_t id, int dim)
{
	if (!z->cap)
		return NULL;
	for (size_t j = slot_of(id, dim, z->cap);; j = (j + 1) & (z->cap - 1)) {
		struct entry *e = &z->tab[j];
		if (!e->id)
			return NULL;
		if (e->id == id && e->dim == dim)
			return e;
	}
}

static int grow(ah_sizing_sizer *z)
{
	size_t nc = z->cap ? z->cap * 2 : 64;
	struct entry *nt = calloc(nc, sizeof(*nt));
	if (!nt)
		return AH_ENOMEM;
	for (size_t i = 0; i < z->cap; i++) {
		struct entry *e = &z->tab[i];
		if (!e->id)
			continue;
		size_t j = slot_of(e->id, e->dim, nc);
		while (nt[j].id)
			j = (j + 1) & (nc - 1);
		nt[j] = *e;
	}
	free(z->tab);
	z->tab = nt;
	z->cap = nc;
	return 0;
}

/* Finds or creates the entry of (id, dim); a new one starts cold. */
static int get_entry(ah_sizing_sizer *z, uint64_t id, int dim, int64_t requested, struct entry **out)
{
	struct entry *e = find(z, id, dim);
	if (e) {
		*out = e;
		return 0;
	}
	if (z->n >= AH_SIZING_SIZER_MAX)
		return AH_ETOOBIG;
	if ((z->n + 1) * 2 > z->cap) {
		int rc = grow(z);
		if (rc)
			return rc;
	}
	unsigned char *st = calloc(1, z->ops->state_size);
	if (!st)
		return AH_ENOMEM;
	size_t j = slot_of(id, dim, z->cap);
	while (z->tab[j].id)
		j = (j + 1) & (z->cap - 1);
	e = &z->tab[j];
	*e = (struct entry){.id = id, .dim = dim, .req = requested, .state = st};
	z->ops->init(st, &z->p, dim, requested);
	z->n++;
	*out = e;
	return 0;
}

/* Backward-shift deletion keeps the probe chains whole. */
static void remove_at(ah_sizing_sizer *z, struct entry *e)
{
	free(e->state);
	size_t i = (size_t)(e - z->tab);
	z->tab[i] = (struct entry){0};
	z->n--;
	for (size_t j = (i + 1) & (z->cap - 1); z->tab[j].id; j = (j + 1) & (z->cap - 1)) {
		size_t home = slot_of(z->tab[j].id, z->tab[j].dim, z->cap);
		/* can the entry at j move to the hole at i? */
		if (((j - home) & (z->cap - 1)) >= ((j - i) & (z->cap - 1))) {
			z->tab[i] = z->tab[j];
			z->tab[j] = (struct entry){0};
			i = j;
		}
	}
}

int ah_sizing_sizer_new(ah_sizing_kind kind, const ah_sizing_params *p, ah_sizing_sizer **out)
{
	const ah_sizing_ops *ops = ah_sizing_get(kind);
	if (!ops || !out)
		return AH_EINVAL;
	ah_sizing_sizer *z = calloc(1, sizeof(*z));
	if (!z)
		return AH_ENOMEM;
	if (p)
		z->p = *p;
	else
		ah_sizing_params_default(&z->p, NULL);
	if (z->p.step_s <= 0 || z->p.ndims < 0 || z->p.ndims > AH_MAX_DIMS) {
		free(z);
		return AH_EINVAL;
	}
	z->ops = ops;
	*out = z;
	return 0;
}

void ah_sizing_sizer_free(ah_sizing_sizer *z)
{
	if (!z)
		return;
	for (size_t i = 0; i < z->cap; i++)
		if (z->tab[i].id)
			free(z->tab[i].state);
	free(z->tab);
	free(z);
}

size_t ah_sizing_sizer_count(const ah_sizing_sizer *z)
{
	return z ? z->n : 0;
}

int ah_sizing_sizer_bind(ah_sizing_sizer *z, uint64_t id, int dim, int64_t requested, const int64_t *t_ns,
			 const int64_t *used, size_t n)
{
	if (!z || !id || (n && (!t_ns || !used)))
		return AH_EINVAL;
	if (dim < 0 || dim >= z->p.ndims)
		return AH_ERANGE;
	if (n > AH_SIZING_SIZER_MAX_WARM)
		return AH_ETOOBIG;
	for (size_t i = 0; i < n; i++)
		if (used[i] < 0 || (i && t_ns[i] <= t_ns[i - 1]))
			return AH_ERANGE;
	struct entry *e = find(z, id, dim);
	if (e)
		remove_at(z, e);
	int rc = get_entry(z, id, dim, requested < 0 ? -1 : requested, &e);
	if (rc)
		return rc;
	int64_t r = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t t = t_ns[i] / NS_PER_S;
		if (i == 0) /* the first request's size, as replay asks it */
			r = z->ops->reserve(e->state, t, e->req);
		z->ops->observe(e->state, t, used[i], r < 0 ? 0 : r, e->req);
		/* as a report does: the next interval's reservation, now */
		r = z->ops->reserve(e->state, t + z->p.step_s, e->req);
	}
	return 0;
}

static int target(void *ctx, uint64_t id, int dim, int64_t now_ns, int64_t used, int64_t reserved,
		  const ah_resize_budget *budget, ah_size_target *out)
{
	(void)budget;
	ah_sizing_sizer *z = ctx;
	if (dim < 0 || dim >= z->p.ndims)
		return AH_ENOENT; /* dimensions the parameters do not cover: left alone */
	struct entry *e;
	int rc = get_entry(z, id, dim, reserved, &e);
	if (rc)
		return rc;
	int64_t t = now_ns / NS_PER_S;
	z->ops->observe(e->state, t, used, reserved, e->req);
	int64_t r = z->ops->reserve(e->state, t + z->p.step_s, e->req);
	out->reserve = r < 0 ? 0 : r;
	out->limit = z->ops->limits_incompressible && z->p.dim[dim].incompressible ? out->reserve : AH_LIMIT_NONE;
	if (z->ops->limit) { /* a two-level policy states its safety net */
		int64_t l = z->ops->limit(e->state, t + z->p.step_s);
		if (l >= 0)
			out->limit = l > out->reserve ? l : out->reserve;
	}
	return 0;
}

static void forget(void *ctx, uint64_t id)
{
	ah_sizing_sizer *z = ctx;
	for (int d = 0; d < z->p.ndims; d++) {
		struct entry *e = find(z, id, d);
		if (e)
			remove_at(z, e);
	}
}

void ah_sizing_sizer_get(ah_sizing_sizer *z, ah_sizer *out)
{
	if (!out)
		return;
	*out = (ah_sizer){.ctx = z, .target = z ? target : NULL, .forget = z ? forget : NULL};
}
