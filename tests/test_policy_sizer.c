/* A replay policy as the engine's sizer outside replay: the same series
 * gives the same reservations through `ahead replay` and through the
 * engine's usage reports (what replay scores is what production does);
 * a sizer warmed on history continues exactly where the live one is. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ahead/engine.h"
#include "ahead/error.h"
#include "ahead/ledger.h"
#include "ahead/policy.h"
#include "ahead/sizing_sizer.h"
#include "ahead/replay.h"

#define N 3000
#define STEP 300
#define T0 1372636800LL /* 2013-07-01 */
#define REQ 4000

/* A cpu series with a daily shape, noise and bursts (deterministic). */
static void series(int64_t *t, int64_t *u)
{
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < N; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double day = sin(2 * M_PI * (double)(i % 288) / 288.0);
		double noise = (double)(x % 1000) / 1000.0;
		double v = 1200 + 600 * day + 300 * noise + ((x >> 20) % 97 == 0 ? 2000 : 0);
		t[i] = T0 + (int64_t)i * STEP;
		u[i] = (int64_t)v;
	}
}

static ah_policy *big_pool(void)
{
	const char *text = "[ahead]\nlease_ttl = 1h\n[pool p]\ncapacity = cpu=100000, memory=1Ti\n"
			   "[class std]\npriority = 10\nquantile = 0.9\n[tenant t]\n";
	char err[256];
	ah_policy *pol = NULL;
	assert_int_equal(ah_policy_load_string(text, strlen(text), "t", &pol, err, sizeof(err)), 0);
	return pol;
}

/* Drives samples [from, to) through an engine allocation with the sizer;
 * writes the reservation in force at each sample into res[]. */
static void drive(ah_engine *e, uint64_t id, const int64_t *t, const int64_t *u, int from, int to, int64_t *res)
{
	for (int i = from; i < to; i++) {
		ah_engine_item it;
		assert_int_equal(ah_engine_get(e, id, &it), 0);
		res[i] = it.res->v[AH_DIM_CPU];
		ah_vec v;
		for (int d = 0; d < AH_MAX_DIMS; d++)
			v.v[d] = AH_USAGE_NONE;
		v.v[AH_DIM_CPU] = u[i];
		assert_int_equal(ah_engine_report_usage(e, id, &v, (t[i] - T0) * 1000000000LL, NULL), 0);
	}
}

static void run_policy(ah_sizing_kind kind)
{
	int64_t *t = malloc(N * sizeof(*t)), *u = malloc(N * sizeof(*u));
	int64_t *res = calloc(N, sizeof(*res)), *res2 = calloc(N, sizeof(*res2));
	series(t, u);

	/* 1. the replay's score */
	ah_replay_params p;
	ah_replay_params_default(&p);
	ah_replay *rp;
	assert_int_equal(ah_replay_new(&p, &kind, 1, 1u << AH_DIM_CPU, 0, &rp), 0);
	char err[256];
	for (int i = 0; i < N; i++) {
		ah_trace_row row = {.t_s = t[i], .workload = "w", .dim = AH_DIM_CPU, .used = u[i], .requested = REQ};
		assert_int_equal(ah_replay_feed(rp, &row, err, sizeof(err)), 0);
	}
	ah_replay_metrics m;
	ah_replay_get_metrics(rp, 0, AH_DIM_CPU, &m);
	ah_replay_free(rp);

	/* 2. production: a request, then a usage report per sample */
	ah_policy *pol = big_pool();
	ah_ledger *led;
	ah_engine *e;
	assert_int_equal(ah_ledger_memory_new(8, &led), 0);
	assert_int_equal(ah_engine_new(pol, led, 0, &e), 0);
	ah_sizing_sizer *z;
	assert_int_equal(ah_sizing_sizer_new(kind, &p.sizing, &z), 0);
	ah_sizer sz;
	ah_sizing_sizer_get(z, &sz);
	ah_engine_set_sizer(e, &sz);
	ah_request rq = {.tenant = "t", .pool = "p", .workload = "w", .queue_timeout_ns = -1};
	/* the first reservation: what ahead and vpa reserve with no history */
	rq.res.v[AH_DIM_CPU] = REQ;
	ah_decision d;
	assert_int_equal(ah_engine_request(e, &rq, 0, &d), 0);
	assert_int_equal(d.outcome, AH_GRANTED);
	assert_int_equal(ah_sizing_sizer_bind(z, d.id, AH_DIM_CPU, REQ, NULL, NULL, 0), 0);
	drive(e, d.id, t, u, 0, N, res);
	double sum = 0;
	uint64_t viol = 0;
	for (int i = 0; i < N; i++) {
		sum += (double)res[i];
		viol += u[i] > res[i];
	}
	/* what replay scored is what the engine did */
	assert_float_equal(sum, m.sum_reserved, 1e-6);
	assert_int_equal(viol, m.violations);

	/* 3. a sizer warmed on the first half continues exactly like the
	 * live one (from the first interval it sizes) */
	ah_sizing_sizer *z2;
	assert_int_equal(ah_sizing_sizer_new(kind, &p.sizing, &z2), 0);
	ah_sizing_sizer_get(z2, &sz);
	ah_engine_set_sizer(e, &sz);
	rq.res.v[AH_DIM_CPU] = 1000;
	assert_int_equal(ah_engine_request(e, &rq, (t[N / 2] - T0) * 1000000000LL, &d), 0);
	int64_t *tn = malloc(N * sizeof(*tn));
	for (int i = 0; i < N / 2; i++)
		tn[i] = t[i] * 1000000000LL - T0 * 1000000000LL;
	assert_int_equal(ah_sizing_sizer_bind(z2, d.id, AH_DIM_CPU, REQ, tn, u, N / 2), 0);
	assert_int_equal(ah_sizing_sizer_count(z2), 1);
	drive(e, d.id, t, u, N / 2, N, res2);
	for (int i = N / 2 + 1; i < N; i++)
		assert_int_equal(res2[i], res[i]);
	/* ending the allocation drops its state */
	assert_int_equal(ah_engine_release(e, d.id, (t[N - 1] - T0) * 1000000000LL + 1), 0);
	assert_int_equal(ah_sizing_sizer_count(z2), 0);

	ah_engine_free(e);
	ah_ledger_free(led);
	ah_policy_free(pol);
	ah_sizing_sizer_free(z);
	ah_sizing_sizer_free(z2);
	free(t);
	free(u);
	free(tn);
	free(res);
	free(res2);
}

static void test_ahead_same_as_replay(void **s)
{
	(void)s;
	run_policy(AH_SIZING_KIND_AHEAD);
}

static void test_vpa_same_as_replay(void **s)
{
	(void)s;
	run_policy(AH_SIZING_KIND_VPA);
}

static void test_bind_validates(void **s)
{
	(void)s;
	ah_sizing_sizer *z;
	assert_int_equal(ah_sizing_sizer_new((ah_sizing_kind)99, NULL, &z), AH_EINVAL);
	assert_int_equal(ah_sizing_sizer_new(AH_SIZING_KIND_AHEAD, NULL, &z), 0);
	int64_t t[2] = {2, 1}, u[2] = {5, 5};
	assert_int_equal(ah_sizing_sizer_bind(z, 1, 0, 100, t, u, 2), AH_ERANGE); /* time backwards */
	t[0] = 0;
	t[1] = 1;
	u[1] = -1;
	assert_int_equal(ah_sizing_sizer_bind(z, 1, 0, 100, t, u, 2), AH_ERANGE); /* negative usage */
	assert_int_equal(ah_sizing_sizer_bind(z, 1, 7, 100, NULL, NULL, 0), AH_ERANGE);
	assert_int_equal(ah_sizing_sizer_bind(z, 0, 0, 100, NULL, NULL, 0), AH_EINVAL);
	/* many allocations come and go: the table stays consistent */
	for (uint64_t id = 1; id <= 500; id++)
		assert_int_equal(ah_sizing_sizer_bind(z, id, (int)(id % 2), 100, NULL, NULL, 0), 0);
	assert_int_equal(ah_sizing_sizer_count(z), 500);
	ah_sizer sz;
	ah_sizing_sizer_get(z, &sz);
	for (uint64_t id = 1; id <= 500; id += 2)
		sz.forget(sz.ctx, id);
	assert_int_equal(ah_sizing_sizer_count(z), 250);
	ah_size_target out;
	ah_resize_budget bud = {0};
	for (uint64_t id = 2; id <= 500; id += 2)
		assert_int_equal(sz.target(sz.ctx, id, 0, 0, 50, 100, &bud, &out), 0);
	assert_int_equal(ah_sizing_sizer_count(z), 250);
	ah_sizing_sizer_free(z);
	ah_sizing_sizer_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ahead_same_as_replay),
		cmocka_unit_test(test_vpa_same_as_replay),
		cmocka_unit_test(test_bind_validates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
