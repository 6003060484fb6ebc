/* The daemon's telemetry (src/server/telemetry.c) on an in-memory engine:
 * the id map keeps every entry through collisions and removals; used is
 * the sum of the newest reported usage of live allocations and forgets
 * ended ones; the ring keeps the newest samples in order when it wraps; a
 * forecast appears at 12 samples, follows a level change after refits, and
 * its one-step checks are counted; pools leaving the policy lose their
 * ring. Built on ASan too (no leaks across refits and resets). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/engine.h"
#include "ahead/error.h"
#include "ahead/policy.h"
#include "server/telemetry.h"

#define SEC INT64_C(1000000000)

static const char POLICY[] = "[ahead]\n"
			     "default_class = standard\n"
			     "[pool p]\n"
			     "capacity = cpu=10, memory=8Gi\n"
			     "[pool q]\n"
			     "capacity = cpu=2, memory=1Gi\n"
			     "[class standard]\n"
			     "priority = 50\n"
			     "lease_ttl = 24h\n"
			     "[tenant a]\n"
			     "quota = cpu=100, memory=100Gi\n";

static ah_engine *engine(const char *text)
{
	ah_policy *pol = NULL;
	char err[512];
	int rc = ah_policy_load_string(text, strlen(text), "t.ini", &pol, err, sizeof err);
	if (rc < 0)
		fail_msg("policy: %s", err);
	ah_engine *e = NULL;
	assert_int_equal(ah_engine_new(pol, NULL, 0, &e), 0);
	ah_policy_free(pol);
	return e;
}

static uint64_t grant(ah_engine *e, const char *pool, int64_t cpu_m, int64_t now)
{
	ah_request rq = {.tenant = "a", .pool = pool, .queue_timeout_ns = 0};
	rq.res.v[AH_DIM_CPU] = cpu_m;
	ah_decision d;
	assert_int_equal(ah_engine_request(e, &rq, now, &d), 0);
	assert_int_equal(d.outcome, AH_GRANTED);
	return d.id;
}

static ah_vec cpu_usage(int64_t m)
{
	ah_vec v;
	for (int i = 0; i < AH_MAX_DIMS; i++)
		v.v[i] = AH_USAGE_NONE;
	v.v[AH_DIM_CPU] = m;
	return v;
}

static void idmap_survives_collisions_and_removals(void **state)
{
	(void)state;
	api_idmap m = {0};
	enum { N = 5000 };
	for (uint64_t i = 1; i <= N; i++) {
		ah_vec *v = api_idmap_put(&m, i * 1024); /* ids that share low bits */
		assert_non_null(v);
		v->v[0] = (int64_t)i;
	}
	for (uint64_t i = 1; i <= N; i += 3)
		api_idmap_drop(&m, i * 1024);
	api_idmap_drop(&m, 7); /* absent: nothing */
	for (uint64_t i = 1; i <= N; i++) {
		const ah_vec *v = api_idmap_get(&m, i * 1024);
		if ((i - 1) % 3 == 0) {
			assert_null(v);
		} else {
			assert_non_null(v);
			assert_int_equal(v->v[0], (int64_t)i);
		}
	}
	assert_int_equal(m.n, N - (N + 2) / 3);
	assert_null(api_idmap_get(&m, 0));
	api_idmap_fini(&m);
}

static void used_is_newest_usage_of_live_allocations(void **state)
{
	(void)state;
	ah_engine *e = engine(POLICY);
	api_telemetry t;
	api_tel_init(&t, SEC);
	uint64_t a = grant(e, "p", 2000, 0), b = grant(e, "p", 1000, 0), c = grant(e, "q", 500, 0);
	ah_vec u = cpu_usage(300);
	api_tel_usage(&t, a, &u);
	u = cpu_usage(900); /* newest wins */
	api_tel_usage(&t, a, &u);
	u = cpu_usage(400);
	api_tel_usage(&t, b, &u);
	u.v[AH_DIM_CPU] = AH_USAGE_NONE; /* unmeasured: keeps 400 */
	u.v[AH_DIM_MEMORY] = 1000;
	api_tel_usage(&t, b, &u);
	u = cpu_usage(100);
	api_tel_usage(&t, c, &u);
	ah_vec used[AH_MAX_POOLS];
	api_tel_used(&t, e, used);
	assert_int_equal(used[0].v[AH_DIM_CPU], 1300);
	assert_int_equal(used[0].v[AH_DIM_MEMORY], 1000);
	assert_int_equal(used[1].v[AH_DIM_CPU], 100);
	/* a release drops a's usage (the observer's change) */
	assert_int_equal(ah_engine_release(e, a, SEC), 0);
	ah_engine_change ch = {.kind = AH_CHANGE_RELEASE, .id = a, .pool = "p"};
	api_tel_on_change(&t, &ch);
	api_tel_used(&t, e, used);
	assert_int_equal(used[0].v[AH_DIM_CPU], 400);
	assert_null(api_idmap_get(&t.usage, a));
	api_tel_fini(&t);
	ah_engine_free(e);
}

static void ring_wraps_and_forecast_follows(void **state)
{
	(void)state;
	ah_engine *e = engine(POLICY);
	const ah_policy *pol = ah_engine_policy_get(e);
	api_telemetry t;
	api_tel_init(&t, 3600 * SEC); /* 24 h at 1 h: 24 samples */
	assert_int_equal(t.ring_cap, 24);
	uint64_t id = grant(e, "p", 1000, 0);
	int64_t now = 0;
	for (int i = 0; i < 11; i++)
		api_tel_take(&t, e, pol, now += 3600 * SEC);
	const api_tel_pool *p = api_tel_pool_get(&t, "p");
	assert_non_null(p);
	assert_int_equal(p->n, 11);
	assert_false(p->have_fc); /* before 12 samples */
	api_tel_take(&t, e, pol, now += 3600 * SEC);
	assert_true(p->have_fc);
	assert_true(p->model[0] != '\0');
	assert_int_equal((int64_t)(p->point[AH_DIM_CPU][0] + 0.5), 1000);
	assert_true(p->zero[AH_DIM_NET]); /* no capacity: no fit, a forecast of 0 */
	assert_false(p->zero[AH_DIM_CPU]);
	assert_int_equal(p->fc_t0_ns, now);
	/* a level change: 150 more samples at 3000 (refits every 60) */
	assert_int_equal(ah_engine_resize(e, id, &(ah_vec){.v = {3000, 0}}, now), 0);
	for (int i = 0; i < 150; i++)
		api_tel_take(&t, e, pol, now += 3600 * SEC);
	assert_int_equal(p->n, 24);
	api_tel_sample x;
	api_tel_at(&t, p, 0, &x);
	assert_int_equal(x.t_ns, now - 23 * 3600 * SEC); /* the oldest kept */
	api_tel_at(&t, p, 23, &x);
	assert_int_equal(x.t_ns, now);
	assert_int_equal(x.allocated.v[AH_DIM_CPU], 3000);
	assert_int_equal(x.capacity.v[AH_DIM_CPU], 10000);
	assert_int_equal(x.allocations, 1);
	assert_true(p->have_fc);
	assert_true(p->point[AH_DIM_CPU][0] > 2900 && p->point[AH_DIM_CPU][0] < 3100);
	assert_true(p->lower[AH_DIM_CPU][0] <= p->point[AH_DIM_CPU][0]);
	assert_true(p->upper[AH_DIM_CPU][0] >= p->point[AH_DIM_CPU][0]);
	/* checks: one per sample after the first forecast; the flat stretch hits */
	assert_int_equal(p->checks[AH_DIM_CPU], 150);
	assert_true(p->hits[AH_DIM_CPU] >= 100);
	assert_true(p->abs_error_sum[AH_DIM_CPU] >= 2000); /* the jump was missed once */
	/* a policy without pool q: its ring goes */
	ah_engine *e2 = engine("[ahead]\ndefault_class = standard\n[pool p]\ncapacity = cpu=10, memory=8Gi\n"
			       "[class standard]\npriority = 50\n[tenant a]\nquota = cpu=1\n");
	api_tel_take(&t, e2, ah_engine_policy_get(e2), now += 3600 * SEC);
	assert_null(api_tel_pool_get(&t, "q"));
	assert_non_null(api_tel_pool_get(&t, "p"));
	assert_int_equal(t.n_pools, 1);
	/* another set of dimensions: the rings start again */
	ah_engine *e3 = engine("[ahead]\ndefault_class = standard\n[dimension gpu]\nunit = count\n"
			       "[pool p]\ncapacity = cpu=10, memory=8Gi, gpu=2\n"
			       "[class standard]\npriority = 50\n[tenant a]\nquota = cpu=1\n");
	api_tel_take(&t, e3, ah_engine_policy_get(e3), now += 3600 * SEC);
	p = api_tel_pool_get(&t, "p");
	assert_non_null(p);
	assert_int_equal(p->n, 1);
	assert_int_equal(t.ndims, ah_engine_policy_get(e3)->dims.n);
	api_tel_fini(&t);
	ah_engine_free(e);
	ah_engine_free(e2);
	ah_engine_free(e3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(idmap_survives_collisions_and_removals),
		cmocka_unit_test(used_is_newest_usage_of_live_allocations),
		cmocka_unit_test(ring_wraps_and_forecast_follows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
