/* Engine rules: grants, quotas, rate limits, queue order (priority, DRF,
 * arrival), queue timeouts, preemption, leases, auto-correction, headroom. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>

#include "ahead/error.h"
#include "engine_fixture.h"

typedef struct {
	ah_policy *pol;
	ah_ledger *led;
	ah_engine *e;
} fx;

static int setup_with(void **state, ah_policy *pol)
{
	fx *f = calloc(1, sizeof(*f));
	f->pol = pol;
	assert_int_equal(ah_ledger_memory_new(256, &f->led), 0);
	assert_int_equal(ah_engine_new(f->pol, f->led, 0, &f->e), 0);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, fx_policy());
}

static int teardown(void **state)
{
	fx *f = *state;
	ah_engine_free(f->e);
	ah_ledger_free(f->led);
	free(f->pol);
	free(f);
	return 0;
}

static ah_decision ask(fx *f, ah_request r, int64_t now)
{
	ah_decision d;
	assert_int_equal(ah_engine_request(f->e, &r, now, &d), 0);
	return d;
}

static void used(fx *f, int64_t *cpu, int64_t *mem)
{
	ah_engine_pool_info pi;
	assert_int_equal(ah_engine_pool_get(f->e, 0, &pi), 0);
	*cpu = pi.used->v[AH_DIM_CPU];
	*mem = pi.used->v[AH_DIM_MEMORY];
}

static void test_grant_release_accounting(void **state)
{
	fx *f = *state;
	ah_decision d1 = ask(f, fx_req("a", NULL, 3000, GI), 0);
	ah_decision d2 = ask(f, fx_req("b", "batch", 2000, 2 * GI), 0);
	assert_int_equal(d1.outcome, AH_GRANTED);
	assert_int_equal(d2.outcome, AH_GRANTED);
	assert_true(d1.id != d2.id);
	assert_int_equal(d1.lease_expires_ns, 60 * SEC);
	int64_t c, m;
	used(f, &c, &m);
	assert_int_equal(c, 5000);
	assert_int_equal(m, 3 * GI);
	assert_int_equal(ah_engine_release(f->e, d1.id, 1), 0);
	used(f, &c, &m);
	assert_int_equal(c, 2000);
	assert_int_equal(m, 2 * GI);
	assert_int_equal(ah_engine_release(f->e, d1.id, 2), AH_ENOENT);
	assert_int_equal(ah_engine_alloc_count(f->e), 1);
}

static void test_unknown_names_refused(void **state)
{
	fx *f = *state;
	ah_request r = fx_req("a", NULL, 100, 0);
	r.pool = "nope";
	ah_decision d = ask(f, r, 0);
	assert_int_equal(d.outcome, AH_REFUSED);
	assert_string_equal(ah_reason_code(d.reason), "unknown_pool");
	d = ask(f, fx_req("zed", NULL, 100, 0), 0);
	assert_string_equal(ah_reason_code(d.reason), "unknown_tenant");
	d = ask(f, fx_req("a", "platinum", 100, 0), 0);
	assert_string_equal(ah_reason_code(d.reason), "unknown_class");
	d = ask(f, fx_req("a", NULL, 0, 0), 0);
	assert_string_equal(ah_reason_code(d.reason), "invalid_request");
	r = fx_req("a", NULL, -5, 0);
	d = ask(f, r, 0);
	assert_string_equal(ah_reason_code(d.reason), "invalid_request");
	assert_int_equal(ah_engine_alloc_count(f->e), 0);
}

static void test_quota(void **state)
{
	ah_policy *p = fx_policy();
	p->tenants[0].quota.v[AH_DIM_CPU] = 4000;
	setup_with(state, p);
	fx *f = *state;
	assert_int_equal(ask(f, fx_req("a", NULL, 3000, 0), 0).outcome, AH_GRANTED);
	ah_decision d = ask(f, fx_req("a", NULL, 1500, 0), 0);
	assert_int_equal(d.outcome, AH_REFUSED);
	assert_int_equal(d.reason, AH_R_QUOTA);
	assert_non_null(strstr(d.message, "quota"));
	/* Exactly up to the quota is fine; another tenant is unaffected. */
	assert_int_equal(ask(f, fx_req("a", NULL, 1000, 0), 0).outcome, AH_GRANTED);
	assert_int_equal(ask(f, fx_req("b", NULL, 5000, 0), 0).outcome, AH_GRANTED);
	teardown(state);
}

static void test_rate_limit(void **state)
{
	ah_policy *p = fx_policy();
	p->tenants[0].rate_per_s = 1;
	p->tenants[0].burst = 2;
	setup_with(state, p);
	fx *f = *state;
	assert_int_equal(ask(f, fx_req("a", NULL, 10, 0), 0).outcome, AH_GRANTED);
	assert_int_equal(ask(f, fx_req("a", NULL, 10, 0), 0).outcome, AH_GRANTED);
	ah_decision d = ask(f, fx_req("a", NULL, 10, 0), 0);
	assert_int_equal(d.outcome, AH_REFUSED);
	assert_string_equal(ah_reason_code(d.reason), "rate_limited");
	/* Half a second refills half a token: still limited; a full second: ok. */
	assert_int_equal(ask(f, fx_req("a", NULL, 10, 0), SEC / 2).reason, AH_R_RATE);
	assert_int_equal(ask(f, fx_req("a", NULL, 10, 0), SEC).outcome, AH_GRANTED);
	/* Other tenants have no limit. */
	for (int i = 0; i < 10; i++)
		assert_int_equal(ask(f, fx_req("b", NULL, 10, 0), SEC).outcome, AH_GRANTED);
	teardown(state);
}

static void test_queue_priority_then_arrival(void **state)
{
	fx *f = *state;
	ah_decision big = ask(f, fx_req("c", NULL, 10000, 0), 0);
	assert_int_equal(big.outcome, AH_GRANTED);
	ah_decision q1 = ask(f, fx_req("a", "batch", 4000, 0), 1);
	ah_decision q2 = ask(f, fx_req("a", "standard", 4000, 0), 2);
	ah_decision q3 = ask(f, fx_req("a", "standard", 4000, 0), 3);
	assert_int_equal(q1.outcome, AH_QUEUED);
	assert_int_equal(q2.outcome, AH_QUEUED);
	assert_int_equal(q3.outcome, AH_QUEUED);
	assert_int_equal(q1.queue_position, 1);
	assert_int_equal(q2.queue_position, 1); /* standard outranks batch */
	assert_int_equal(q3.queue_position, 2);
	assert_int_equal(ah_engine_release(f->e, big.id, 4), 0);
	/* 10 cores free: the two standard requests (8 cores) are granted in
	 * order; the batch one (4 more) does not fit and stays queued. */
	ah_engine_item it;
	assert_int_equal(ah_engine_get(f->e, q2.id, &it), 0);
	assert_false(it.queued);
	assert_int_equal(ah_engine_get(f->e, q3.id, &it), 0);
	assert_false(it.queued);
	assert_int_equal(ah_engine_get(f->e, q1.id, &it), 0);
	assert_true(it.queued);
	assert_int_equal(ah_engine_queue_count(f->e), 1);
}

static void test_drf_order(void **state)
{
	fx *f = *state;
	/* Tenant a holds 6 cores, b holds 2: when room frees, b's request goes
	 * first although a asked earlier (same class). */
	ah_decision a1 = ask(f, fx_req("a", NULL, 6000, 0), 0);
	ah_decision b1 = ask(f, fx_req("b", NULL, 2000, 0), 0);
	ah_decision c1 = ask(f, fx_req("c", NULL, 2000, 0), 0);
	assert_int_equal(c1.outcome, AH_GRANTED);
	ah_decision qa = ask(f, fx_req("a", NULL, 2000, 0), 1);
	ah_decision qb = ask(f, fx_req("b", NULL, 2000, 0), 2);
	assert_int_equal(qa.outcome, AH_QUEUED);
	assert_int_equal(qb.outcome, AH_QUEUED);
	assert_int_equal(qb.queue_position, 1); /* lower dominant share */
	assert_int_equal(ah_engine_release(f->e, c1.id, 3), 0);
	ah_engine_item it;
	assert_int_equal(ah_engine_get(f->e, qb.id, &it), 0);
	assert_false(it.queued);
	assert_int_equal(ah_engine_get(f->e, qa.id, &it), 0);
	assert_true(it.queued);
	(void)a1;
	(void)b1;
}

static void test_new_request_does_not_jump_queue(void **state)
{
	fx *f = *state;
	ah_decision big = ask(f, fx_req("a", NULL, 8000, 0), 0);
	ah_decision q = ask(f, fx_req("b", NULL, 4000, 0), 1); /* waits for 4 cores */
	assert_int_equal(q.outcome, AH_QUEUED);
	/* 2 cores are free, but b's request ranks ahead of c's at the same
	 * priority (b arrived first, equal shares): c must queue too. */
	ah_decision c = ask(f, fx_req("c", NULL, 1000, 0), 2);
	assert_int_equal(c.outcome, AH_QUEUED);
	/* A higher class ranks ahead of the queue and may take free room. */
	ah_decision g = ask(f, fx_req("c", "gold", 1000, 0), 3);
	assert_int_equal(g.outcome, AH_GRANTED);
	(void)big;
}

static void test_queue_timeout(void **state)
{
	fx *f = *state;
	ah_decision big = ask(f, fx_req("a", NULL, 10000, 0), 0);
	ah_request r = fx_req("b", NULL, 1000, 0);
	r.queue_timeout_ns = 5 * SEC;
	ah_decision q = ask(f, r, SEC);
	assert_int_equal(q.outcome, AH_QUEUED);
	assert_int_equal(q.queue_deadline_ns, 6 * SEC);
	assert_int_equal(ah_engine_tick(f->e, 6 * SEC - 1), 0);
	assert_int_equal(ah_engine_queue_count(f->e), 1);
	assert_int_equal(ah_engine_tick(f->e, 6 * SEC), 0);
	assert_int_equal(ah_engine_queue_count(f->e), 0);
	/* The timed-out request is gone and the log says why. */
	assert_int_equal(ah_engine_release(f->e, q.id, 7 * SEC), AH_ENOENT);
	int n = ah_ledger_memory_event_count(f->led);
	bool saw = false;
	for (int i = 0; i < n; i++) {
		ah_event_kind k;
		uint64_t id;
		char reason[32];
		ah_ledger_memory_events(f->led, i, &k, &id, reason, sizeof reason);
		if (k == AH_EV_TIMEOUT && id == q.id && !strcmp(reason, "queue_timeout"))
			saw = true;
	}
	assert_true(saw);
	/* queue_timeout 0 means: refuse instead of queueing. */
	r.queue_timeout_ns = 0;
	ah_decision d = ask(f, r, 8 * SEC);
	assert_int_equal(d.outcome, AH_REFUSED);
	assert_string_equal(ah_reason_code(d.reason), "no_capacity");
	(void)big;
}

static void test_preemption(void **state)
{
	fx *f = *state;
	ah_decision b1 = ask(f, fx_req("a", "batch", 5000, 0), 0);
	ah_decision b2 = ask(f, fx_req("a", "batch", 5000, 0), 1);
	assert_int_equal(b2.outcome, AH_GRANTED);
	/* standard does not preempt: it queues. */
	ah_decision s = ask(f, fx_req("b", "standard", 3000, 0), 2);
	assert_int_equal(s.outcome, AH_QUEUED);
	assert_int_equal(ah_engine_release(f->e, s.id, 3), 0);
	/* gold preempts the newest batch allocation only (one is enough). */
	ah_decision g = ask(f, fx_req("b", "gold", 3000, 0), 4);
	assert_int_equal(g.outcome, AH_GRANTED);
	assert_int_equal(g.n_preempted, 1);
	ah_engine_item it;
	assert_int_equal(ah_engine_get(f->e, b1.id, &it), 0);
	assert_int_equal(ah_engine_get(f->e, b2.id, &it), AH_ENOENT);
	int64_t c, m;
	used(f, &c, &m);
	assert_int_equal(c, 8000);
	/* gold never preempts gold. */
	ah_decision g2 = ask(f, fx_req("c", "gold", 7000, 0), 5);
	assert_int_equal(g2.outcome, AH_GRANTED); /* evicts b1 (batch) */
	assert_int_equal(g2.n_preempted, 1);
	assert_int_equal(ah_engine_get(f->e, b1.id, &it), AH_ENOENT);
	ah_decision g3 = ask(f, fx_req("c", "gold", 5000, 0), 6);
	assert_int_equal(g3.outcome, AH_QUEUED);
}

static void test_lease_expiry_and_renew(void **state)
{
	fx *f = *state;
	ah_request r = fx_req("a", NULL, 1000, 0);
	r.lease_ttl_ns = 10 * SEC;
	ah_decision d1 = ask(f, r, 0);
	ah_decision d2 = ask(f, r, 0);
	int64_t exp;
	assert_int_equal(ah_engine_renew(f->e, d2.id, 0, 5 * SEC, &exp), 0);
	assert_int_equal(exp, 15 * SEC);
	assert_int_equal(ah_engine_tick(f->e, 10 * SEC), 0);
	ah_engine_item it;
	assert_int_equal(ah_engine_get(f->e, d1.id, &it), AH_ENOENT);
	assert_int_equal(ah_engine_get(f->e, d2.id, &it), 0);
	int64_t c, m;
	used(f, &c, &m);
	assert_int_equal(c, 1000);
	/* An expired lease cannot be renewed. */
	assert_int_equal(ah_engine_renew(f->e, d1.id, 0, 11 * SEC, &exp), AH_ENOENT);
	assert_int_equal(ah_engine_renew(f->e, d2.id, 0, 15 * SEC, &exp), AH_ENOENT);
	used(f, &c, &m);
	assert_int_equal(c, 0);
	/* Expiry frees room for the queue. */
	r = fx_req("a", NULL, 10000, 0);
	r.lease_ttl_ns = 10 * SEC;
	ah_decision big = ask(f, r, 20 * SEC);
	ah_decision q = ask(f, fx_req("b", NULL, 5000, 0), 21 * SEC);
	assert_int_equal(q.outcome, AH_QUEUED);
	assert_int_equal(ah_engine_tick(f->e, big.lease_expires_ns), 0);
	assert_int_equal(ah_engine_get(f->e, q.id, &it), 0);
	assert_false(it.queued);
}

static void test_autocorrect_off_refuses(void **state)
{
	ah_policy *p = fx_policy();
	p->pools[0].min_request.v[AH_DIM_CPU] = 100;
	p->classes[2].max_request.v[AH_DIM_CPU] = 2000;
	setup_with(state, p);
	fx *f = *state;
	ah_request r = fx_req("a", NULL, 50, 0);
	ah_decision d = ask(f, r, 0);
	assert_int_equal(d.reason, AH_R_POLICY);
	assert_non_null(strstr(d.message, "minimum"));
	r = fx_req("a", NULL, 100, 0);
	r.res.v[4] = 3; /* qubits, unit 2 */
	d = ask(f, r, 0);
	assert_int_equal(d.reason, AH_R_POLICY);
	assert_non_null(strstr(d.message, "qubits"));
	assert_non_null(strstr(d.message, "multiple"));
	d = ask(f, fx_req("a", "batch", 3000, 0), 0);
	assert_int_equal(d.reason, AH_R_POLICY);
	assert_non_null(strstr(d.message, "maximum"));
	assert_int_equal(ah_engine_alloc_count(f->e), 0);
	teardown(state);
}

static void test_autocorrect_on_corrects(void **state)
{
	ah_policy *p = fx_policy();
	p->autocorrect = true;
	p->pools[0].min_request.v[AH_DIM_CPU] = 100;
	p->classes[2].max_request.v[AH_DIM_CPU] = 2000;
	setup_with(state, p);
	fx *f = *state;
	ah_request r = fx_req("a", NULL, 50, 0);
	r.res.v[4] = 3;
	ah_decision d = ask(f, r, 0);
	assert_int_equal(d.outcome, AH_GRANTED);
	assert_int_equal(d.res.v[AH_DIM_CPU], 100);
	assert_int_equal(d.res.v[4], 4);
	assert_non_null(strstr(d.corrections, "cpu: raised 50m to the minimum 100m"));
	assert_non_null(strstr(d.corrections, "qubits: rounded 3 up to 4"));
	d = ask(f, fx_req("a", "batch", 3000, 0), 0);
	assert_int_equal(d.outcome, AH_GRANTED);
	assert_int_equal(d.res.v[AH_DIM_CPU], 2000);
	assert_non_null(strstr(d.corrections, "lowered"));
	teardown(state);
}

static void test_headroom_and_too_big(void **state)
{
	ah_policy *p = fx_policy();
	p->pools[0].headroom.v[AH_DIM_CPU] = 2000;
	p->pools[0].headroom_priority = 100;
	setup_with(state, p);
	fx *f = *state;
	ah_decision d = ask(f, fx_req("a", NULL, 9000, 0), 0);
	assert_int_equal(d.outcome, AH_REFUSED);
	assert_string_equal(ah_reason_code(d.reason), "exceeds_capacity");
	assert_int_equal(ask(f, fx_req("a", NULL, 8000, 0), 0).outcome, AH_GRANTED);
	ah_request r = fx_req("a", NULL, 1000, 0);
	r.queue_timeout_ns = 0;
	assert_int_equal(ask(f, r, 0).reason, AH_R_NO_CAPACITY);
	assert_int_equal(ask(f, fx_req("b", "gold", 2000, 0), 0).outcome, AH_GRANTED);
	teardown(state);
}

static void test_resize(void **state)
{
	fx *f = *state;
	ah_decision d = ask(f, fx_req("a", NULL, 2000, GI), 0);
	ah_vec v = d.res;
	v.v[AH_DIM_CPU] = 9000;
	assert_int_equal(ah_engine_resize(f->e, d.id, &v, 1), 0);
	ah_decision o = ask(f, fx_req("b", NULL, 2000, 0), 2);
	assert_int_equal(o.outcome, AH_QUEUED);
	v.v[AH_DIM_CPU] = 11000;
	assert_int_equal(ah_engine_resize(f->e, d.id, &v, 3), AH_ECAPACITY);
	v.v[AH_DIM_CPU] = 1000; /* shrink frees room: the queued request is served */
	assert_int_equal(ah_engine_resize(f->e, d.id, &v, 4), 0);
	ah_engine_item it;
	assert_int_equal(ah_engine_get(f->e, o.id, &it), 0);
	assert_false(it.queued);
}

static void test_queue_full(void **state)
{
	ah_policy *p = fx_policy();
	p->pools[0].max_queue = 2;
	setup_with(state, p);
	fx *f = *state;
	ask(f, fx_req("a", NULL, 10000, 0), 0);
	assert_int_equal(ask(f, fx_req("b", NULL, 1000, 0), 0).outcome, AH_QUEUED);
	assert_int_equal(ask(f, fx_req("b", NULL, 1000, 0), 0).outcome, AH_QUEUED);
	assert_int_equal(ask(f, fx_req("b", NULL, 1000, 0), 0).reason, AH_R_QUEUE_FULL);
	teardown(state);
}

static void test_unknown_tenants_default(void **state)
{
	ah_policy *p = fx_policy();
	p->unknown_tenants = true;
	p->default_tenant.quota.v[AH_DIM_CPU] = 1000;
	setup_with(state, p);
	fx *f = *state;
	assert_int_equal(ask(f, fx_req("newcomer", NULL, 1000, 0), 0).outcome, AH_GRANTED);
	assert_int_equal(ask(f, fx_req("newcomer", NULL, 1000, 0), 0).reason, AH_R_QUOTA);
	assert_int_equal(ask(f, fx_req("Bad Name!", NULL, 1000, 0), 0).reason, AH_R_INVALID);
	teardown(state);
}

/* A predictor stub: workload "render" uses 1234m cpu and 3Gi at any
 * quantile; it records the quantile it was asked for. */
static double asked_q;
static int stub_predict(void *ctx, const char *workload, const char *params, double q, const ah_dimset *dims,
			ah_vec *out)
{
	(void)ctx;
	(void)params;
	(void)dims;
	asked_q = q;
	if (strcmp(workload, "render"))
		return AH_ENOENT;
	memset(out, 0, sizeof(*out));
	out->v[AH_DIM_CPU] = 1234;
	out->v[AH_DIM_MEMORY] = 3 * GI;
	return 0;
}

static void test_predict_then_reserve(void **state)
{
	ah_policy *p = fx_policy();
	p->pools[0].unit.v[AH_DIM_CPU] = 100;
	p->classes[1].margin = 0.1;             /* standard: +10% */
	p->classes[1].quantile = 0.95;
	p->classes[1].prediction = AH_PREDICT_RAISE;
	p->classes[2].prediction = AH_PREDICT_LOWER;
	p->classes[0].prediction = AH_PREDICT_OFF;
	setup_with(state, p);
	fx *f = *state;
	ah_predictor pr = {.predict = stub_predict};
	ah_engine_set_predictor(f->e, &pr);

	/* No stated resources: sized by prediction at the class quantile,
	 * plus margin, rounded up to the unit: 1234m * 1.1 = 1357.4 -> 1400m. */
	ah_request r = fx_req("a", NULL, 0, 0);
	r.workload = "render";
	ah_decision d = ask(f, r, 0);
	assert_int_equal(d.outcome, AH_GRANTED);
	assert_true(fabs(asked_q - 0.95) < 1e-12);
	assert_true(d.predicted);
	assert_int_equal(d.prediction.v[AH_DIM_CPU], 1234);
	assert_int_equal(d.res.v[AH_DIM_CPU], 1400);
	assert_int_equal(d.res.v[AH_DIM_MEMORY], (int64_t)ceil(3.0 * GI * 1.1));
	assert_non_null(strstr(d.corrections, "predicted"));

	/* raise: a smaller stated request is raised, a larger one kept. */
	r = fx_req("a", "standard", 500, GI);
	r.workload = "render";
	d = ask(f, r, 1);
	assert_int_equal(d.res.v[AH_DIM_CPU], 1400);
	r = fx_req("a", "standard", 3000, 8 * GI);
	r.workload = "render";
	d = ask(f, r, 2);
	assert_int_equal(d.res.v[AH_DIM_CPU], 3000);
	assert_int_equal(d.res.v[AH_DIM_MEMORY], 8 * GI);

	/* lower (batch, no margin): a larger stated request is lowered. */
	r = fx_req("b", "batch", 3000, 0);
	r.workload = "render";
	d = ask(f, r, 3);
	assert_int_equal(d.res.v[AH_DIM_CPU], 1300);
	assert_true(fabs(asked_q - 0.9) < 1e-12);

	/* off (gold): stated resources stand; unknown workload: likewise. */
	r = fx_req("b", "gold", 500, 0);
	r.workload = "render";
	d = ask(f, r, 4);
	assert_int_equal(d.res.v[AH_DIM_CPU], 500);
	r = fx_req("b", NULL, 500, 0);
	r.workload = "unknown";
	d = ask(f, r, 5);
	assert_int_equal(d.res.v[AH_DIM_CPU], 500);
	assert_false(d.predicted);
	/* Nothing stated and nothing known: refused, asks for nothing. */
	r = fx_req("b", NULL, 0, 0);
	r.workload = "unknown";
	assert_int_equal(ask(f, r, 6).reason, AH_R_INVALID);
	teardown(state);
}

static ah_adjust_action report(fx *f, uint64_t id, int64_t cpu, int64_t now, int64_t *res_cpu)
{
	ah_vec u = {0};
	u.v[AH_DIM_CPU] = cpu;
	ah_adjust_outcome o;
	assert_int_equal(ah_engine_report_usage(f->e, id, &u, now, &o), 0);
	if (res_cpu)
		*res_cpu = o.res.v[AH_DIM_CPU];
	return o.action;
}

static void test_adjust_grow_shrink_hysteresis(void **state)
{
	fx *f = *state;
	const int64_t MIN = 60 * SEC;
	ah_request rq = fx_req("a", NULL, 1000, 0);
	rq.lease_ttl_ns = 3600 * SEC;
	ah_decision d = ask(f, rq, 0);
	int64_t r;
	/* Oscillating between 55% and 85% of the reservation: nothing moves. */
	for (int i = 0; i < 60; i++)
		assert_int_equal(report(f, d.id, i % 2 ? 850 : 550, i * MIN / 2, &r), AH_ADJUST_NONE);
	assert_int_equal(r, 1000);
	/* Above 90%: grow at once to usage + 15%. */
	assert_int_equal(report(f, d.id, 950, 31 * MIN, &r), AH_ADJUST_GROW);
	assert_int_equal(r, 1093); /* ceil(950 * 1.15) */
	/* Below 50% (546) starts the shrink window; it is not over at 9 min. */
	assert_int_equal(report(f, d.id, 400, 32 * MIN, &r), AH_ADJUST_NONE);
	assert_int_equal(report(f, d.id, 450, 36 * MIN, &r), AH_ADJUST_NONE);
	assert_int_equal(report(f, d.id, 300, 41 * MIN, &r), AH_ADJUST_NONE);
	/* After 10 minutes low: shrink to the window's peak + 15%. */
	assert_int_equal(report(f, d.id, 300, 42 * MIN, &r), AH_ADJUST_SHRINK);
	assert_int_equal(r, 518); /* ceil(450 * 1.15) */
	/* One report at 60% in the window restarts it. */
	assert_int_equal(report(f, d.id, 200, 43 * MIN, &r), AH_ADJUST_NONE);
	assert_int_equal(report(f, d.id, 320, 50 * MIN, &r), AH_ADJUST_NONE);
	assert_int_equal(report(f, d.id, 200, 54 * MIN, &r), AH_ADJUST_NONE);
	assert_int_equal(report(f, d.id, 200, 63 * MIN, &r), AH_ADJUST_NONE);
	assert_int_equal(report(f, d.id, 200, 64 * MIN, &r), AH_ADJUST_SHRINK);
	assert_int_equal(r, 230);
	/* The pool is full: a grow is blocked, the reservation stays. */
	rq = fx_req("b", NULL, 10000 - 230, 0);
	rq.lease_ttl_ns = 3600 * SEC;
	ah_decision big = ask(f, rq, 65 * MIN);
	assert_int_equal(big.outcome, AH_GRANTED);
	assert_int_equal(report(f, d.id, 229, 66 * MIN, &r), AH_ADJUST_GROW_BLOCKED);
	assert_int_equal(r, 230);
	int64_t c, m;
	used(f, &c, &m);
	assert_int_equal(c, 10000);
}

static void test_reports_keep_lease_alive(void **state)
{
	fx *f = *state;
	ah_request rq = fx_req("a", NULL, 1000, 0);
	rq.lease_ttl_ns = 60 * SEC;
	ah_decision d = ask(f, rq, 0);
	for (int i = 1; i <= 10; i++)
		report(f, d.id, 700, i * 30 * SEC, NULL);
	ah_engine_item it;
	assert_int_equal(ah_engine_get(f->e, d.id, &it), 0);
	assert_int_equal(it.expires_ns, 360 * SEC);
	/* The holder goes silent: reclaimed at expiry. */
	assert_int_equal(ah_engine_tick(f->e, 360 * SEC), 0);
	assert_int_equal(ah_engine_get(f->e, d.id, &it), AH_ENOENT);
	ah_vec u = {0};
	assert_int_equal(ah_engine_report_usage(f->e, d.id, &u, 361 * SEC, NULL), AH_ENOENT);
}


/* A sizer stub: target = a fixed table per allocation id (0 = used x 2). */
typedef struct {
	int64_t fixed[16];
	int calls, forgotten;
	uint64_t last_forgot;
} stub_sizer;

static int stub_target(void *ctx, uint64_t id, int dim, int64_t now_ns, int64_t used, int64_t reserved,
		       const ah_resize_budget *budget, ah_size_target *out)
{
	(void)now_ns;
	(void)budget;
	(void)reserved;
	stub_sizer *z = ctx;
	z->calls++;
	if (dim != AH_DIM_CPU)
		return AH_ENOENT; /* leave other dimensions alone */
	out->reserve = id < 16 && z->fixed[id] ? z->fixed[id] : used * 2;
	return 0;
}

static void stub_forget(void *ctx, uint64_t id)
{
	stub_sizer *z = ctx;
	z->forgotten++;
	z->last_forgot = id;
}

static int64_t cpu_of(fx *f, uint64_t id)
{
	ah_engine_item it;
	assert_int_equal(ah_engine_get(f->e, id, &it), 0);
	return it.res->v[AH_DIM_CPU];
}

static void test_sizer_drives_reports(void **state)
{
	fx *f = *state;
	stub_sizer z = {0};
	ah_sizer sz = {.ctx = &z, .target = stub_target, .forget = stub_forget};
	ah_engine_set_sizer(f->e, &sz);
	ah_request rq = fx_req("a", NULL, 1000, GI);
	rq.lease_ttl_ns = 3600 * SEC;
	ah_decision d = ask(f, rq, 0);
	int64_t r;
	/* The sizer's target is applied at once, both ways, no built-in rule. */
	assert_int_equal(report(f, d.id, 300, 1 * SEC, &r), AH_ADJUST_SHRINK);
	assert_int_equal(r, 600);
	assert_int_equal(report(f, d.id, 700, 2 * SEC, &r), AH_ADJUST_GROW);
	assert_int_equal(r, 1400);
	assert_int_equal(report(f, d.id, 700, 3 * SEC, &r), AH_ADJUST_NONE);
	/* Dimensions the sizer leaves alone (memory here) keep their size. */
	ah_engine_item it;
	assert_int_equal(ah_engine_get(f->e, d.id, &it), 0);
	assert_int_equal(it.res->v[AH_DIM_MEMORY], GI);
	/* A dimension reported as AH_USAGE_NONE is not shown to the sizer. */
	int calls = z.calls;
	ah_vec u = {0};
	for (int i = 0; i < AH_MAX_DIMS; i++)
		u.v[i] = AH_USAGE_NONE;
	assert_int_equal(ah_engine_report_usage(f->e, d.id, &u, 4 * SEC, NULL), 0);
	assert_int_equal(z.calls, calls);
	assert_int_equal(cpu_of(f, d.id), 1400);
	/* Larger than the pool: it takes what is free and waits for the rest. */
	z.fixed[d.id] = 12000;
	assert_int_equal(report(f, d.id, 10, 5 * SEC, &r), AH_ADJUST_GROW_BLOCKED);
	assert_int_equal(r, 10000);
	/* Ending the allocation tells the sizer to forget it. */
	assert_int_equal(ah_engine_release(f->e, d.id, 6 * SEC), 0);
	assert_int_equal(z.forgotten, 1);
	assert_int_equal(z.last_forgot, d.id);
	/* Without a sizer the built-in rule is back. */
	ah_engine_set_sizer(f->e, NULL);
	d = ask(f, rq, 7 * SEC);
	assert_int_equal(report(f, d.id, 300, 8 * SEC, &r), AH_ADJUST_NONE);
	assert_int_equal(r, 1000);
}

/* Pending grows are served when room frees, in priority order (not in the
 * order they were blocked), merged with the queue. */
static void test_pending_grows_priority_order(void **state)
{
	fx *f = *state;
	stub_sizer z = {0};
	ah_sizer sz = {.ctx = &z, .target = stub_target};
	ah_engine_set_sizer(f->e, &sz);
	ah_request rq = fx_req("a", "batch", 1000, 0);
	rq.lease_ttl_ns = 3600 * SEC;
	uint64_t low = ask(f, rq, 0).id;
	rq = fx_req("b", "gold", 1000, 0);
	rq.lease_ttl_ns = 3600 * SEC;
	uint64_t high = ask(f, rq, 0).id;
	rq = fx_req("c", "standard", 8000, 0);
	rq.lease_ttl_ns = 3600 * SEC;
	uint64_t filler = ask(f, rq, 0).id;
	assert_true(low < 16 && high < 16);
	/* The pool is full. The batch allocation asks first, gold later. */
	z.fixed[low] = 3000;
	z.fixed[high] = 2500;
	assert_int_equal(report(f, low, 0, 1 * SEC, NULL), AH_ADJUST_GROW_BLOCKED);
	assert_int_equal(report(f, high, 0, 2 * SEC, NULL), AH_ADJUST_GROW_BLOCKED);
	/* A new standard request queues (it ranks below gold's pending grow). */
	rq = fx_req("c", "standard", 500, 0);
	ah_decision q = ask(f, rq, 3 * SEC);
	assert_int_equal(q.outcome, AH_QUEUED);
	/* 2000 free: gold's grow (1500) first, then the queued standard request
	 * (500); batch waits although it asked first. */
	z.fixed[filler] = 6000;
	assert_int_equal(report(f, filler, 0, 4 * SEC, NULL), AH_ADJUST_SHRINK);
	assert_int_equal(cpu_of(f, high), 2500);
	ah_engine_item it;
	assert_int_equal(ah_engine_get(f->e, q.id, &it), 0);
	assert_false(it.queued);
	assert_int_equal(cpu_of(f, low), 1000);
	/* 1200 more: batch takes it all, and keeps waiting for the last 800. */
	z.fixed[filler] = 4800;
	assert_int_equal(report(f, filler, 0, 5 * SEC, NULL), AH_ADJUST_SHRINK);
	assert_int_equal(cpu_of(f, low), 2200);
	/* A lower-priority grow may not take room a higher claim waits for. */
	z.fixed[high] = 4000; /* gold now wants 1500 more; none free */
	assert_int_equal(report(f, high, 0, 6 * SEC, NULL), AH_ADJUST_GROW_BLOCKED);
	assert_int_equal(ah_engine_release(f->e, q.id, 7 * SEC), 0); /* frees 500 */
	assert_int_equal(cpu_of(f, high), 3000);
	assert_int_equal(cpu_of(f, low), 2200);
	/* The batch allocation's next report cannot jump ahead either. */
	assert_int_equal(report(f, low, 0, 8 * SEC, NULL), AH_ADJUST_GROW_BLOCKED);
	assert_int_equal(cpu_of(f, low), 2200);
	/* When gold no longer wants more, batch is served from what frees. */
	z.fixed[high] = 3000;
	assert_int_equal(report(f, high, 0, 9 * SEC, NULL), AH_ADJUST_NONE);
	z.fixed[filler] = 4000;
	assert_int_equal(report(f, filler, 0, 10 * SEC, NULL), AH_ADJUST_SHRINK);
	assert_int_equal(cpu_of(f, low), 3000);
	int64_t c, m;
	used(f, &c, &m);
	assert_true(c <= 10000);
	assert_int_equal(c, 3000 + 3000 + 4000);
}


/* A sizer stub with a fixed target per dimension (0 = leave it). */
typedef struct {
	int64_t cpu, mem;
} dim_sizer;

static int dim_target(void *ctx, uint64_t id, int dim, int64_t now_ns, int64_t used, int64_t reserved,
		      const ah_resize_budget *budget, ah_size_target *out)
{
	(void)id;
	(void)budget;
	(void)now_ns;
	(void)used;
	(void)reserved;
	dim_sizer *z = ctx;
	int64_t v = dim == AH_DIM_CPU ? z->cpu : dim == AH_DIM_MEMORY ? z->mem : 0;
	if (!v)
		return AH_ENOENT;
	out->reserve = v;
	return 0;
}

static ah_vec only(int dim, int64_t v)
{
	ah_vec u;
	for (int d = 0; d < AH_MAX_DIMS; d++)
		u.v[d] = AH_USAGE_NONE;
	u.v[dim] = v;
	return u;
}

/* A grow its tenant's quota caps is clamped to what it can ever have, and
 * never holds the pool's queue back. */
static void test_quota_bound_grow_does_not_block(void **state)
{
	ah_policy *p = fx_policy();
	p->tenants[0].quota.v[AH_DIM_CPU] = 3000; /* tenant a */
	setup_with(state, p);
	fx *f = *state;
	dim_sizer z = {0};
	ah_sizer sz = {.ctx = &z, .target = dim_target};
	ah_engine_set_sizer(f->e, &sz);
	ah_request rq = fx_req("a", NULL, 1000, 0);
	rq.lease_ttl_ns = 3600 * SEC;
	uint64_t a = ask(f, rq, 0).id;
	rq = fx_req("b", NULL, 9000, 0);
	rq.lease_ttl_ns = 3600 * SEC;
	uint64_t b = ask(f, rq, 0).id;
	/* a wants 5 cores: the pool is full, and its quota allows 3 at most */
	z.cpu = 5000;
	ah_adjust_outcome o;
	ah_vec u = only(AH_DIM_CPU, 900);
	assert_int_equal(ah_engine_report_usage(f->e, a, &u, 1 * SEC, &o), 0);
	assert_int_equal(o.action, AH_ADJUST_GROW_BLOCKED);
	ah_engine_pool_info pi;
	assert_int_equal(ah_engine_pool_get(f->e, 0, &pi), 0);
	assert_int_equal(pi.wanted.v[AH_DIM_CPU], 2000); /* clamped to the quota */
	/* c queues 1 core */
	rq = fx_req("c", NULL, 1000, 0);
	ah_decision q = ask(f, rq, 2 * SEC);
	assert_int_equal(q.outcome, AH_QUEUED);
	/* b frees 4 cores: a reaches its quota (3), c is granted */
	ah_engine_set_sizer(f->e, NULL);
	ah_request smaller = fx_req("b", NULL, 5000, 0);
	assert_int_equal(ah_engine_resize(f->e, b, &smaller.res, 3 * SEC), 0);
	assert_int_equal(cpu_of(f, a), 3000);
	ah_engine_item it;
	assert_int_equal(ah_engine_get(f->e, q.id, &it), 0);
	assert_false(it.queued);
	assert_int_equal(ah_engine_pool_get(f->e, 0, &pi), 0);
	assert_int_equal(pi.n_wanting, 0);
	teardown(state);
}

/* A report that measures one dimension keeps another's pending grow. */
static void test_pending_grow_survives_other_dimension(void **state)
{
	fx *f = *state;
	dim_sizer z = {0};
	ah_sizer sz = {.ctx = &z, .target = dim_target};
	ah_engine_set_sizer(f->e, &sz);
	ah_request rq = fx_req("a", NULL, 1000, GI);
	rq.lease_ttl_ns = 3600 * SEC;
	uint64_t a = ask(f, rq, 0).id;
	rq = fx_req("b", NULL, 1000, 9 * GI);
	rq.lease_ttl_ns = 3600 * SEC;
	uint64_t b = ask(f, rq, 0).id;
	z.mem = 3 * GI; /* memory: wants 2 GiB more, none free */
	ah_vec u = only(AH_DIM_MEMORY, GI);
	ah_adjust_outcome o;
	assert_int_equal(ah_engine_report_usage(f->e, a, &u, 1 * SEC, &o), 0);
	assert_int_equal(o.action, AH_ADJUST_GROW_BLOCKED);
	/* a cpu-only report: memory's wait goes on */
	z.mem = 0;
	z.cpu = 1000;
	u = only(AH_DIM_CPU, 500);
	assert_int_equal(ah_engine_report_usage(f->e, a, &u, 2 * SEC, &o), 0);
	ah_engine_pool_info pi;
	assert_int_equal(ah_engine_pool_get(f->e, 0, &pi), 0);
	assert_int_equal(pi.n_wanting, 1);
	/* room frees: a gets the 3 GiB it waited for */
	ah_engine_set_sizer(f->e, NULL);
	ah_request smaller = fx_req("b", NULL, 1000, 5 * GI);
	assert_int_equal(ah_engine_resize(f->e, b, &smaller.res, 3 * SEC), 0);
	ah_engine_item it;
	assert_int_equal(ah_engine_get(f->e, a, &it), 0);
	assert_int_equal(it.res->v[AH_DIM_MEMORY], 3 * GI);
}

/* The built-in rule shrinks only what was measured. */
static void test_builtin_shrinks_only_measured(void **state)
{
	fx *f = *state;
	ah_request rq = fx_req("a", NULL, 1000, 4 * GI);
	rq.lease_ttl_ns = 3600 * SEC;
	uint64_t a = ask(f, rq, 0).id;
	for (int i = 1; i <= 20; i++) {
		ah_vec u = only(AH_DIM_CPU, 100);
		assert_int_equal(ah_engine_report_usage(f->e, a, &u, i * 60 * SEC, NULL), 0);
	}
	ah_engine_item it;
	assert_int_equal(ah_engine_get(f->e, a, &it), 0);
	assert_int_equal(it.res->v[AH_DIM_CPU], 115);
	assert_int_equal(it.res->v[AH_DIM_MEMORY], 4 * GI);
	/* reports that measure nothing are heartbeats: no shrink either */
	ah_vec none = only(AH_DIM_CPU, AH_USAGE_NONE);
	for (int i = 21; i <= 40; i++)
		assert_int_equal(ah_engine_report_usage(f->e, a, &none, i * 60 * SEC, NULL), 0);
	assert_int_equal(ah_engine_get(f->e, a, &it), 0);
	assert_int_equal(it.res->v[AH_DIM_CPU], 115);
	assert_int_equal(it.res->v[AH_DIM_MEMORY], 4 * GI);
	assert_int_equal(it.expires_ns, 40 * 60 * SEC + 3600 * SEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_grant_release_accounting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_names_refused, setup, teardown),
		cmocka_unit_test(test_quota),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test_setup_teardown(test_queue_priority_then_arrival, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drf_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_request_does_not_jump_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preemption, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_expiry_and_renew, setup, teardown),
		cmocka_unit_test(test_autocorrect_off_refuses),
		cmocka_unit_test(test_autocorrect_on_corrects),
		cmocka_unit_test(test_headroom_and_too_big),
		cmocka_unit_test_setup_teardown(test_resize, setup, teardown),
		cmocka_unit_test(test_queue_full),
		cmocka_unit_test(test_unknown_tenants_default),
		cmocka_unit_test(test_predict_then_reserve),
		cmocka_unit_test_setup_teardown(test_adjust_grow_shrink_hysteresis, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reports_keep_lease_alive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sizer_drives_reports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_grows_priority_order, setup, teardown),
		cmocka_unit_test(test_quota_bound_grow_does_not_block),
		cmocka_unit_test_setup_teardown(test_pending_grow_survives_other_dimension, setup, teardown),
		cmocka_unit_test_setup_teardown(test_builtin_shrinks_only_measured, setup, teardown),
	};
	return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
