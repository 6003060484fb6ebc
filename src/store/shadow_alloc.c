/* The shadow store's allocation records (include/ahead/shadow_alloc.h):
 * one request record per allocation, through the store's public API
 * (shadow.h): the open record of an allocation (ah_shadow_request_find_open
 * on ahead.alloc), a usage report merged into it (ah_shadow_request_observe),
 * and multi-call operations made all-or-nothing with ah_shadow_scope_*, so
 * they nest inside a caller's transaction as the store's own calls do. */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/id.h"
#include "ahead/shadow_alloc.h"

int ah_shadow_alloc_begin(ah_shadow *s, uint64_t alloc_id, const char *workload, const char *params,
			  int64_t start_ns, const ah_dimset *dims, const ah_vec *predicted,
			  const ah_shadow_req_dim *sized, int64_t *out_req_id)
{
	ah_shadow_request *r = NULL;
	int64_t id;
	int rc;
	if (!s || !alloc_id || alloc_id > INT64_MAX || !dims || dims->n < 0 || dims->n > AH_MAX_DIMS ||
	    !out_req_id)
		return AH_EINVAL;
	if ((rc = ah_name_check_workload(workload)) || (rc = ah_shadow_params_check(params, NULL, 0)))
		return rc;
	r = calloc(1, sizeof(*r));
	if (!r)
		return AH_ENOMEM;
	snprintf(r->workload, sizeof r->workload, "%s", workload);
	r->start_ns = start_ns;
	r->end_ns = -1;
	if ((rc = ah_shadow_params_parse(params ? params : "", r->params, &r->n_params, NULL, 0)))
		goto out;
	ah_shadow_param *a = &r->params[r->n_params++];
	snprintf(a->key, sizeof a->key, "%s", AH_SHADOW_ALLOC_KEY);
	snprintf(a->value, sizeof a->value, "%" PRIu64, alloc_id);
	for (int i = 0; i < dims->n; i++) {
		if (!predicted || predicted->v[i] <= 0)
			continue;
		ah_shadow_req_dim *d = &r->dims[r->n_dims++];
		snprintf(d->dim, sizeof d->dim, "%s", dims->name[i]);
		d->peak = d->mean = NAN;
		d->predicted = (double)predicted->v[i];
		d->last = NAN;
		d->last_ns = -1;
		if (sized && sized[i].model[0]) {
			memcpy(d->model, sized[i].model, sizeof d->model);
			d->model_n = sized[i].model_n;
		}
	}
	if ((rc = ah_shadow_request_add(s, r, &id)))
		goto out;
	*out_req_id = id;
out:
	free(r);
	return rc;
}

static int find_open(ah_shadow *s, uint64_t alloc_id, int64_t *out_id)
{
	char val[24];
	snprintf(val, sizeof val, "%" PRIu64, alloc_id);
	return ah_shadow_request_find_open(s, AH_SHADOW_ALLOC_KEY, val, out_id);
}

int ah_shadow_alloc_find(ah_shadow *s, uint64_t alloc_id, ah_shadow_request *out)
{
	int64_t id;
	int rc;
	if (!s || !out)
		return AH_EINVAL;
	if ((rc = find_open(s, alloc_id, &id)))
		return rc;
	return ah_shadow_request_get(s, id, out);
}

int ah_shadow_alloc_report(ah_shadow *s, uint64_t alloc_id, int64_t t_ns, const ah_dimset *dims,
			   const ah_vec *usage, uint32_t present_mask, char *out_workload)
{
	ah_shadow_request *r = NULL;
	const char *names[AH_MAX_DIMS];
	double vals[AH_MAX_DIMS];
	int64_t req = 0;
	int rc, n = 0;
	ah_shadow_scope sc;
	if (!s || !dims || !usage || dims->n < 0 || dims->n > AH_MAX_DIMS)
		return AH_EINVAL;
	if (t_ns < 0 || t_ns > AH_SHADOW_T_MAX)
		return AH_ERANGE;
	for (int i = 0; i < dims->n; i++) {
		if (!(present_mask & (UINT32_C(1) << i)))
			continue;
		names[n] = dims->name[i];
		vals[n++] = (double)usage->v[i];
	}
	r = malloc(sizeof(*r));
	if (!r)
		return AH_ENOMEM;
	/* One scope: the record found is the record the report lands in. */
	if ((rc = ah_shadow_scope_begin(s, &sc))) {
		free(r);
		return rc;
	}
	if ((rc = find_open(s, alloc_id, &req)) || (rc = ah_shadow_request_get(s, req, r)))
		goto out;
	rc = ah_shadow_request_observe(s, req, AH_SHADOW_REPORTS_KEY, t_ns, names, vals, n);
out:
	rc = ah_shadow_scope_end(s, &sc, rc);
	if (rc == 0 && out_workload)
		snprintf(out_workload, AH_SHADOW_WORKLOAD_MAX, "%s", r->workload);
	free(r);
	return rc;
}

int ah_shadow_alloc_end(ah_shadow *s, uint64_t alloc_id, int64_t end_ns)
{
	ah_shadow_request *r = NULL;
	int rc;
	if (!s)
		return AH_EINVAL;
	r = malloc(sizeof(*r));
	if (!r)
		return AH_ENOMEM;
	if ((rc = ah_shadow_alloc_find(s, alloc_id, r)))
		goto out;
	/* A clock stepped back between grant and release must not lose the
	 * record: the end is at least the start. */
	rc = ah_shadow_request_end(s, r->id, end_ns < r->start_ns ? r->start_ns : end_ns, NULL, 0);
out:
	free(r);
	return rc;
}

struct open_rec {
	int64_t id, start_ns;
	uint64_t alloc;
};

typedef struct {
	struct open_rec *v;
	size_t n;
} open_ctx;

static int collect_open(void *ctx, const ah_shadow_request *r)
{
	open_ctx *c = ctx;
	const char *a = NULL;
	/* A record that already has every parameter slot was made by hand:
	 * ours leave one for ahead.lost. */
	if (r->n_params >= AH_SHADOW_MAX_PARAMS)
		return 0;
	for (int i = 0; i < r->n_params; i++)
		if (!strcmp(r->params[i].key, AH_SHADOW_ALLOC_KEY))
			a = r->params[i].value;
	uint64_t id;
	if (!a || ah_id_parse(a, &id))
		return 0; /* not one of ours: a hand-made record */
	c->v[c->n].id = r->id;
	c->v[c->n].start_ns = r->start_ns;
	c->v[c->n].alloc = id;
	c->n++;
	return 0;
}

int ah_shadow_alloc_sweep(ah_shadow *s, int64_t end_ns, bool (*live)(void *ctx, uint64_t alloc_id), void *ctx,
			  size_t max, size_t *out_closed)
{
	open_ctx c = {0};
	size_t closed = 0;
	ah_shadow_scope sc;
	int rc;
	if (!s || !live)
		return AH_EINVAL;
	if (end_ns < 0 || end_ns > AH_SHADOW_T_MAX)
		return AH_ERANGE;
	if (!max)
		max = 1000;
	c.v = calloc(max, sizeof(*c.v));
	if (!c.v)
		return AH_ENOMEM;
	if ((rc = ah_shadow_scope_begin(s, &sc))) {
		free(c.v);
		return rc;
	}
	/* Collected first, closed after: the visit must not see its own
	 * writes. */
	if ((rc = ah_shadow_request_each_open(s, AH_SHADOW_ALLOC_KEY, max, collect_open, &c)))
		goto out;
	for (size_t i = 0; i < c.n && rc == 0; i++) {
		if (live(ctx, c.v[i].alloc))
			continue;
		if ((rc = ah_shadow_request_set_param(s, c.v[i].id, AH_SHADOW_LOST_KEY, "1")) ||
		    (rc = ah_shadow_request_end(s, c.v[i].id, end_ns < c.v[i].start_ns ? c.v[i].start_ns : end_ns,
						NULL, 0)))
			break;
		closed++;
	}
out:
	rc = ah_shadow_scope_end(s, &sc, rc);
	free(c.v);
	if (rc == 0 && out_closed)
		*out_closed = closed;
	return rc;
}
