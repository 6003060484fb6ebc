/* The policy's `sizing` for a usage report (docs/POLICY.md): the allocation
 * policy named there becomes the engine's sizer, warmed on the workload's
 * recent usage in the shadow store, so `ahead report` resizes exactly as
 * `ahead replay` scored that policy. The CLI is one process per report, so
 * the state is rebuilt each time from the history (about 8 days, a few ms);
 * a daemon would keep it. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/engine.h"
#include "ahead/error.h"
#include "ahead/policy.h"
#include "ahead/sizing_sizer.h"
#include "ahead/predictor_shadow.h"
#include "ahead/shadow_alloc.h"
#include "ahead/shadow.h"
#include "cli/cli.h"

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

int ah_cli_sizing_prepare(const char *cmd, ah_cli_ctx *ctx, ah_shadow *sh, uint64_t id, int64_t now_ns,
			  uint32_t present, ah_sizing_sizer **out)
{
	*out = NULL;
	const ah_policy *pol = ctx->pol;
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
	rc = ah_sizing_sizer_new(kind, &p, &z);
	if (rc)
		return rc;
	ah_shadow_request req;
	bool have_req = sh && ah_shadow_alloc_find(sh, id, &req) == 0;
	size_t cap = (size_t)(HISTORY_NS / pol->report_interval_ns) + 1;
	if (cap > AH_SIZING_SIZER_MAX_WARM)
		cap = AH_SIZING_SIZER_MAX_WARM;
	/* the newest `cap` intervals: the query runs oldest first */
	int64_t from = now_ns - (int64_t)cap * pol->report_interval_ns;
	struct pts s = {.t = malloc(cap * sizeof(int64_t)), .u = malloc(cap * sizeof(int64_t)), .cap = cap};
	for (int d = 0; d < p.ndims && s.t && s.u; d++) {
		if (!(present & (UINT32_C(1) << d)))
			continue;
		s.n = 0;
		int64_t sid;
		if (have_req && ah_shadow_series_find(sh, req.workload, pol->dims.name[d], &sid) == 0) {
			int q = ah_shadow_query(sh, sid, from, now_ns, pol->report_interval_ns, collect, &s);
			if (q < 0) {
				ah_cli_err(cmd, "warning: %s %s: history unreadable (%s); sizing starts cold",
					   req.workload, pol->dims.name[d], ah_strerror(q));
				s.n = 0;
			}
		}
		/* The provisioned size replay knows from the trace: here only
		 * `static` needs one (it keeps what was asked, i.e. the current
		 * size); the others size from usage alone (ahead's score scale
		 * then defaults to 1 core / 2 GiB, as for a trace without a
		 * requested column), with history or without. */
		int64_t requested = -1;
		ah_engine_item it;
		if (pol->sizing == AH_SIZING_STATIC && ah_engine_get(ctx->eng, id, &it) == 0)
			requested = it.res->v[d];
		rc = ah_sizing_sizer_bind(z, id, d, requested, s.t, s.u, s.n);
		if (rc)
			ah_cli_err(cmd, "warning: %s: %s; sizing starts cold", pol->dims.name[d], ah_strerror(rc));
	}
	free(s.t);
	free(s.u);
	ah_sizer sz;
	ah_sizing_sizer_get(z, &sz);
	ah_engine_set_sizer(ctx->eng, &sz);
	*out = z;
	return 0;
}
