/* The policy's `sizing` for a usage report (docs/POLICY.md): the allocation
 * policy named there becomes the engine's sizer, warmed on the workload's
 * recent usage in the shadow store, so a report resizes exactly as replay
 * scored that policy. A one-shot process rebuilds the state from history
 * each time (about 8 days, a few ms). */
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/shadow_alloc.h"
#include "ahead/sizing_sizer.h"
#include "service/service_int.h"

#define HISTORY_NS (8LL * 86400 * 1000000000LL)

struct pts {
	int64_t *t, *u;
	size_t n, cap;
};

static int collect(void *ctx, const ah_shadow_point *p)
{
	struct pts *s = ctx;
	if (s->n == s->cap)
		return 1; /* full: the newest are kept by querying the window's end */
	if (s->n && p->t_ns <= s->t[s->n - 1])
		return 0;
	s->t[s->n] = p->t_ns;
	s->u[s->n] = p->mean < 0 ? 0 : (int64_t)(p->mean + 0.5);
	s->n++;
	return 0;
}

/* Dimension d's history for the allocation's workload, newest `cap`
 * intervals (the query runs oldest first). */
static void warm_points(ah_service *s, const ah_shadow_request *req, int d, int64_t now_ns, struct pts *p)
{
	const ah_policy *pol = s->pol;
	int64_t sid;
	p->n = 0;
	if (!req || ah_shadow_series_find(s->sh, req->workload, pol->dims.name[d], &sid) != 0)
		return;
	int64_t from = now_ns - (int64_t)p->cap * pol->report_interval_ns;
	int q = ah_shadow_query(s->sh, sid, from, now_ns, pol->report_interval_ns, collect, p);
	if (q < 0) {
		ah_service_warn(s, "%s %s: history unreadable (%s); sizing starts cold", req->workload,
				pol->dims.name[d], ah_strerror(q));
		p->n = 0;
	}
}

int ah_service_sizing_prepare(ah_service *s, uint64_t id, int64_t now_ns, uint32_t present, ah_sizing_sizer **out)
{
	*out = NULL;
	const ah_policy *pol = s->pol;
	if (pol->sizing == AH_SIZING_BUILTIN)
		return 0;
	ah_sizing_kind kind;
	int rc = ah_sizing_of_policy(pol->sizing, &kind);
	if (rc)
		return rc;
	ah_sizing_params p;
	ah_sizing_params_default(&p, &pol->dims);
	p.step_s = pol->report_interval_ns / 1000000000LL;
	ah_sizing_sizer *z;
	if ((rc = ah_sizing_sizer_new(kind, &p, &z)))
		return rc;
	ah_shadow_request req;
	bool have_req = s->sh && ah_shadow_alloc_find(s->sh, id, &req) == 0;
	size_t cap = (size_t)(HISTORY_NS / pol->report_interval_ns) + 1;
	if (cap > AH_SIZING_SIZER_MAX_WARM)
		cap = AH_SIZING_SIZER_MAX_WARM;
	struct pts pt = {.t = malloc(cap * sizeof(int64_t)), .u = malloc(cap * sizeof(int64_t)), .cap = cap};
	for (int d = 0; d < p.ndims && pt.t && pt.u; d++) {
		if (!(present & (UINT32_C(1) << d)))
			continue;
		warm_points(s, have_req ? &req : NULL, d, now_ns, &pt);
		/* The provisioned size replay knows from the trace: here only
		 * `static` needs one (it keeps what was asked, i.e. the current
		 * size); the others size from usage alone. */
		int64_t requested = -1;
		ah_engine_item it;
		if (pol->sizing == AH_SIZING_STATIC && ah_engine_get(s->eng, id, &it) == 0)
			requested = it.res->v[d];
		rc = ah_sizing_sizer_bind(z, id, d, requested, pt.t, pt.u, pt.n);
		if (rc)
			ah_service_warn(s, "%s: %s; sizing starts cold", pol->dims.name[d], ah_strerror(rc));
	}
	free(pt.t);
	free(pt.u);
	ah_sizer sz;
	ah_sizing_sizer_get(z, &sz);
	ah_engine_set_sizer(s->eng, &sz);
	*out = z;
	return 0;
}
