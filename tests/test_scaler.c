/* The scaling loop (include/ahead/scaler.h) and the policy keys it reads,
 * on cases whose right answer is computable by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "ahead/error.h"
#include "ahead/ledger_sqlite.h"
#include "ahead/policy.h"
#include "ahead/scaler.h"

#define S INT64_C(1000000000)
#define MIN (60 * S)
#define HOUR (3600 * S)
#define DAY (24 * HOUR)
#define STEP (5 * MIN)
#define T0 (100 * DAY) /* a midnight, far from 0 */

static ah_policy *load(const char *text)
{
	char err[512] = "";
	ah_policy *p = NULL;
	int rc = ah_policy_load_string(text, strlen(text), "test.ini", &p, err, sizeof err);
	if (rc)
		fail_msg("rc=%s err=%s\n%s", ah_strerror_name(rc), err, text);
	return p;
}

static void expect_error(const char *text, const char *want)
{
	char err[512] = "";
	ah_policy *p = NULL;
	int rc = ah_policy_load_string(text, strlen(text), "test.ini", &p, err, sizeof err);
	if (rc != AH_EPOLICY || !strstr(err, want))
		fail_msg("want EPOLICY with '%s', got rc=%s err='%s'\n%s", want, ah_strerror_name(rc), err, text);
	assert_null(p);
}

/* One pool of `nodes` (a count dimension, so values are the numbers
 * written), one class. */
static const char *one_pool =
	"[dimension nodes]\nunit = count\n"
	"[pool p]\ncapacity = nodes=10\nmin = nodes=0\nmax = nodes=100\nshaping = on\n"
	"capacity_cost = nodes=1\n%s\n"
	"[class std]\npriority = 1\nshortfall_cost = nodes=10\n";

static ah_policy *load_one(const char *extra)
{
	char text[1024];
	snprintf(text, sizeof text, one_pool, extra);
	return load(text);
}

static int nodes(const ah_policy *p)
{
	return ah_dimset_find(&p->dims, "nodes");
}

static void observe_n(ah_scaler *sc, const ah_policy *p, int pool, int64_t t, int64_t used, int64_t queued)
{
	ah_vec u = {{0}}, q = {{0}};
	u.v[nodes(p)] = used;
	q.v[nodes(p)] = queued;
	assert_int_equal(ah_scaler_observe(sc, pool, &u, &q, NULL, t), 0);
}

static ah_vec cap_n(const ah_policy *p, int64_t n)
{
	ah_vec v = {{0}};
	v.v[nodes(p)] = n;
	return v;
}

/* ---- policy keys ---------------------------------------------------- */

static void test_policy_keys(void **state)
{
	(void)state;
	ah_policy *p = load("[pool web]\ncapacity = cpu=8, memory=32Gi\nmin = cpu=2, memory=8Gi\n"
			    "max = cpu=64, memory=256Gi\nunit = cpu=500m, memory=1Gi\nshaping = on\n"
			    "capacity_cost = cpu=0.04, memory=0.5/100Gi\ncreate_cost = 2\nlead_time = 3m\n"
			    "scale_step = cpu=2\nstabilise = 15m\nscale_hook = /usr/local/bin/grow --zone a\n"
			    "hook_timeout = 30s\nhook_retries = 5\nparent = rack1\n"
			    "[pool batch]\ncapacity = cpu=4\n"
			    "[class gold]\npriority = 10\nshortfall_cost = cpu=1, memory=0.01\n"
			    "[class low]\npriority = 1\n[ahead]\ndefault_class = low\n");
	const ah_pool_policy *w = &p->pools[0];
	assert_true(w->shaping);
	assert_true(fabs(w->capacity_cost[AH_DIM_CPU] - 0.04 / 1000) < 1e-15);
	assert_true(fabs(w->capacity_cost[AH_DIM_MEMORY] - 0.5 / (100.0 * (1 << 30))) < 1e-20);
	assert_true(w->capacity_cost[AH_DIM_IO] == 0);
	/* one value: per core, per GiB, ... of each dimension */
	assert_true(fabs(w->create_cost[AH_DIM_CPU] - 2.0 / 1000) < 1e-15);
	assert_true(fabs(w->create_cost[AH_DIM_MEMORY] - 2.0 / (1 << 30)) < 1e-20);
	assert_int_equal(w->lead_time_ns, 3 * MIN);
	assert_int_equal(w->scale_step.v[AH_DIM_CPU], 2000);
	assert_int_equal(w->scale_step.v[AH_DIM_MEMORY], 1 << 30); /* default: the unit */
	assert_int_equal(w->stabilise_ns, 15 * MIN);
	assert_string_equal(w->scale_hook, "/usr/local/bin/grow --zone a");
	assert_int_equal(w->hook_timeout_ns, 30 * S);
	assert_int_equal(w->hook_retries, 5);
	assert_string_equal(w->parent, "rack1");
	/* defaults */
	const ah_pool_policy *b = &p->pools[1];
	assert_false(b->shaping);
	assert_int_equal(b->stabilise_ns, 10 * MIN);
	assert_int_equal(b->hook_timeout_ns, 60 * S);
	assert_int_equal(b->hook_retries, 3);
	assert_int_equal(b->lead_time_ns, 0);
	assert_int_equal(b->scale_step.v[AH_DIM_CPU], 1);
	assert_string_equal(b->scale_hook, "");
	assert_string_equal(b->parent, "");
	assert_true(fabs(p->classes[0].shortfall_cost[AH_DIM_CPU] - 1.0 / 1000) < 1e-15);
	assert_true(p->classes[1].shortfall_cost[AH_DIM_CPU] == 0);
	ah_policy_free(p);
}

static void test_policy_key_errors(void **state)
{
	(void)state;
	const char *cls = "[class c]\npriority = 1\nshortfall_cost = cpu=1\n";
	char t[1024];
#define BAD(pool_keys, want)                                                                                          \
	do {                                                                                                          \
		snprintf(t, sizeof t, "[pool p]\ncapacity = cpu=4\nmin = cpu=1\nmax = cpu=8\n%s\n%s", pool_keys, cls);  \
		expect_error(t, want);                                                                                \
	} while (0)
	BAD("capacity_cost = cpu=abc", "test.ini:5: [pool p] capacity_cost: cpu: expected a price");
	BAD("capacity_cost = gpu=1", "test.ini:5: [pool p] capacity_cost: gpu: unknown dimension");
	BAD("capacity_cost = cpu=1, cpu=2", "cpu: appears twice");
	BAD("capacity_cost = 1/2Gi", "name the dimension");
	BAD("capacity_cost = cpu=1/0", "cpu: bad quantity");
	BAD("capacity_cost = -1", "expected a price");
	BAD("create_cost = cpu=1e3", "create_cost: cpu: expected a price");
	BAD("lead_time = soon", "test.ini:5: [pool p] lead_time: bad duration");
	BAD("lead_time = 8d", "lead_time: 8d is out of range");
	BAD("stabilise = 5 m", "stabilise: bad duration");
	BAD("scale_step = cpu=0", "scale_step: cpu: the scale step must be at least 1m");
	BAD("scale_hook = grow.sh", "test.ini:5: [pool p] scale_hook: 'grow.sh' is not an absolute path");
	BAD("scale_hook = /bin/echo \"a b\"", "scale_hook: quotes and backslashes are not allowed");
	BAD("hook_timeout = 30s", "test.ini:5: [pool p] hook_timeout: has no effect without a scale_hook");
	BAD("scale_hook = /bin/true\nhook_retries = 11", "test.ini:6: [pool p] hook_retries: 11 is out of range");
	BAD("scale_hook = /bin/true\nhook_timeout = 2h", "hook_timeout: 2h is out of range");
	BAD("parent = Rack!", "test.ini:5: [pool p] parent: invalid group name");
	BAD("shaping = maybe", "shaping: expected true or false");
	BAD("shaping = on", "test.ini:5: [pool p] shaping: on needs a capacity_cost");
	BAD("flavour = on", "unknown key (allowed: capacity, min, max, unit, min_request, headroom");
#undef BAD
	/* a dimension that may scale must be priced */
	expect_error("[pool p]\ncapacity = cpu=4, memory=1Gi\nmax = cpu=8, memory=4Gi\nshaping = on\n"
		     "capacity_cost = cpu=1\n[class c]\npriority = 1\nshortfall_cost = cpu=1\n",
		     "test.ini:4: [pool p] shaping: on needs a capacity_cost for memory");
	/* no room to scale */
	expect_error("[pool p]\ncapacity = cpu=4\nshaping = on\ncapacity_cost = 1\n[class c]\npriority = 1\n"
		     "shortfall_cost = 1\n",
		     "test.ini:3: [pool p] shaping: on needs room to scale");
	/* no class prices a shortfall */
	expect_error("[pool p]\ncapacity = cpu=4\nmax = cpu=8\nshaping = on\ncapacity_cost = 1\n"
		     "[class c]\npriority = 1\n",
		     "test.ini:4: [pool p] shaping: on needs a shortfall_cost in at least one [class]");
	expect_error("[pool p]\ncapacity = cpu=4\n[class c]\npriority = 1\nshortfall_cost = cpu=x\n",
		     "test.ini:5: [class c] shortfall_cost: cpu: expected a price");
}

/* ---- decisions -------------------------------------------------------- */

static void test_known_answer_peak(void **state)
{
	(void)state;
	/* Less than a day of history: every quantile is the peak of the last
	 * hour (12). Holding a node costs 1/h, missing one 10/h: cover it. */
	ah_policy *p = load_one("");
	ah_scaler *sc;
	assert_int_equal(ah_scaler_new(p, NULL, &sc), 0);
	for (int i = 0; i < 12; i++)
		observe_n(sc, p, 0, T0 + i * STEP, i == 5 ? 12 : 7, 0);
	ah_vec cap = cap_n(p, 10);
	ah_scale_action a[8];
	int n = -1;
	assert_int_equal(ah_scaler_step(sc, T0 + 11 * STEP, &cap, a, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].pool, 0);
	assert_int_equal(a[0].dim, nodes(p));
	assert_int_equal(a[0].from, 10);
	assert_int_equal(a[0].to, 12);
	assert_int_equal(a[0].kind, AH_SCALE_KIND_SCALE);
	/* over the 1 h horizon: 12 nodes x 1/h, nothing short */
	assert_true(fabs(a[0].expected_cost - 12.0) < 1e-9);
	/* keeping 10: 10 + 2 short x 10/h */
	assert_true(fabs(a[0].keep_cost - 30.0) < 1e-9);
	ah_scaler_free(sc);
	ah_policy_free(p);
}

static void test_known_answer_seasonal(void **state)
{
	(void)state;
	/* Two identical days: 5 nodes, 50 from 10:00 to 11:00. At 09:30 with a
	 * 30 min lead time the forecast covers 10:00-11:00 (all residuals are
	 * 0): order 50 now, while demand is still 5. */
	ah_policy *p = load_one("lead_time = 30m");
	ah_scaler *sc;
	assert_int_equal(ah_scaler_new(p, NULL, &sc), 0);
	int64_t now = T0 + DAY + 9 * HOUR + 30 * MIN;
	for (int64_t t = T0; t <= now; t += STEP) {
		int64_t tod = (t - T0) % DAY;
		observe_n(sc, p, 0, t, tod >= 10 * HOUR && tod < 11 * HOUR ? 50 : 5, 0);
	}
	ah_vec cap = cap_n(p, 10);
	ah_scale_action a[8];
	int n;
	assert_int_equal(ah_scaler_step(sc, now, &cap, a, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].to, 50);
	assert_int_equal(a[0].ready_ns, now + 30 * MIN);
	/* At 11:30 the next hour is quiet again: back to 5 once stabilised. */
	ah_scale_action due[8];
	assert_int_equal(ah_scaler_due(sc, now + 30 * MIN, due, 8, &n), 0);
	assert_int_equal(n, 1);
	int64_t later = T0 + DAY + 11 * HOUR + 30 * MIN;
	for (int64_t t = now + STEP; t <= later; t += STEP) {
		int64_t tod = (t - T0) % DAY;
		observe_n(sc, p, 0, t, tod >= 10 * HOUR && tod < 11 * HOUR ? 50 : 5, 0);
	}
	cap = cap_n(p, 50);
	assert_int_equal(ah_scaler_step(sc, later, &cap, a, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].to, 5);
	assert_int_equal(a[0].ready_ns, later); /* removing capacity needs no lead time */
	ah_scaler_free(sc);
	ah_policy_free(p);
}


static void test_level_shift(void **state)
{
	(void)state;
	/* Two flat days at 5 nodes, then new work arrives: 40 for the last half
	 * hour. Yesterday's value says 5; the level says 40: the pool scales
	 * for the level now, not a day later. */
	ah_policy *p = load_one("lead_time = 10m");
	ah_scaler *sc;
	assert_int_equal(ah_scaler_new(p, NULL, &sc), 0);
	int64_t now = T0 + 2 * DAY + 12 * HOUR;
	for (int64_t t = T0; t <= now; t += STEP)
		observe_n(sc, p, 0, t, t > now - 30 * MIN ? 40 : 5, 0);
	ah_vec cap = cap_n(p, 10);
	ah_scale_action a[8];
	int n;
	assert_int_equal(ah_scaler_step(sc, now, &cap, a, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_true(a[0].to >= 40);
	ah_scaler_free(sc);
	ah_policy_free(p);
}

static void test_stabilisation(void **state)
{
	(void)state;
	ah_policy *p = load_one("stabilise = 20m");
	ah_scaler *sc;
	ah_scaler_cfg cfg;
	ah_scaler_cfg_init(&cfg);
	cfg.peak_window_ns = STEP; /* the fallback follows the last step only */
	assert_int_equal(ah_scaler_new(p, &cfg, &sc), 0);
	ah_scale_action a[8];
	int n;
	observe_n(sc, p, 0, T0, 30, 0);
	ah_vec cap = cap_n(p, 10);
	assert_int_equal(ah_scaler_step(sc, T0, &cap, a, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].to, 30);
	assert_int_equal(ah_scaler_due(sc, T0, a, 8, &n), 0);
	assert_int_equal(n, 1);
	cap = cap_n(p, 30);
	/* Demand falls to 4: held for 20 minutes after the scale-up. */
	for (int i = 1; i < 4; i++) {
		observe_n(sc, p, 0, T0 + i * STEP, 4, 0);
		assert_int_equal(ah_scaler_step(sc, T0 + i * STEP, &cap, a, 8, &n), 0);
		assert_int_equal(n, 0);
	}
	observe_n(sc, p, 0, T0 + 4 * STEP, 4, 0);
	assert_int_equal(ah_scaler_step(sc, T0 + 4 * STEP, &cap, a, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].to, 4);
	/* The hold survives a restart through ah_scaler_set_last_scale_up. */
	ah_scaler_free(sc);
	assert_int_equal(ah_scaler_new(p, &cfg, &sc), 0);
	assert_int_equal(ah_scaler_set_last_scale_up(sc, 0, nodes(p), T0), 0);
	observe_n(sc, p, 0, T0 + 2 * STEP, 4, 0);
	assert_int_equal(ah_scaler_step(sc, T0 + 2 * STEP, &cap, a, 8, &n), 0);
	assert_int_equal(n, 0);
	ah_scaler_free(sc);
	ah_policy_free(p);
}

static void test_lead_time_delays(void **state)
{
	(void)state;
	ah_policy *p = load_one("lead_time = 20m");
	ah_scaler *sc;
	assert_int_equal(ah_scaler_new(p, NULL, &sc), 0);
	observe_n(sc, p, 0, T0, 25, 0);
	ah_vec cap = cap_n(p, 10);
	ah_scale_action a[8];
	int n;
	assert_int_equal(ah_scaler_step(sc, T0, &cap, a, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].to, 25);
	assert_int_equal(a[0].decided_ns, T0);
	assert_int_equal(a[0].ready_ns, T0 + 20 * MIN);
	/* Not due yet, and no second order while this one is on its way. */
	assert_int_equal(ah_scaler_due(sc, T0 + 19 * MIN, a, 8, &n), 0);
	assert_int_equal(n, 0);
	observe_n(sc, p, 0, T0 + 10 * MIN, 40, 0);
	assert_int_equal(ah_scaler_step(sc, T0 + 10 * MIN, &cap, a, 8, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ah_scaler_due(sc, T0 + 20 * MIN, a, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].to, 25);
	assert_int_equal(ah_scaler_due(sc, T0 + 30 * MIN, a, 8, &n), 0);
	assert_int_equal(n, 0);
	ah_scaler_free(sc);
	ah_policy_free(p);
}

static void test_bounds_and_steps(void **state)
{
	(void)state;
	ah_policy *p = load_one("scale_step = nodes=4");
	p->pools[0].min_size.v[nodes(p)] = 2;
	ah_scaler_cfg cfg;
	ah_scaler_cfg_init(&cfg);
	cfg.peak_window_ns = STEP;
	ah_scaler *sc;
	assert_int_equal(ah_scaler_new(p, &cfg, &sc), 0);
	ah_scale_action a[8];
	int n;
	ah_vec cap = cap_n(p, 10);
	/* 9 needed: sizes are 2, 6, 10, ... so 10 is right: nothing to do. */
	observe_n(sc, p, 0, T0, 9, 0);
	assert_int_equal(ah_scaler_step(sc, T0, &cap, a, 8, &n), 0);
	assert_int_equal(n, 0);
	/* 11 needed: the next step up is 14. */
	observe_n(sc, p, 0, T0 + STEP, 7, 4);
	assert_int_equal(ah_scaler_step(sc, T0 + STEP, &cap, a, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].to, 14);
	ah_scaler_free(sc);
	/* Far beyond the maximum: the maximum (100, not a step of 4 from 2). */
	assert_int_equal(ah_scaler_new(p, &cfg, &sc), 0);
	observe_n(sc, p, 0, T0, 0, 1000);
	assert_int_equal(ah_scaler_step(sc, T0, &cap, a, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].to, 100);
	ah_scaler_free(sc);
	/* Nothing used, nothing waiting: the minimum (no stabilisation yet). */
	assert_int_equal(ah_scaler_new(p, &cfg, &sc), 0);
	observe_n(sc, p, 0, T0, 0, 0);
	assert_int_equal(ah_scaler_step(sc, T0, &cap, a, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].to, 2);
	/* No observation for over the peak window: no decision at all. */
	assert_int_equal(ah_scaler_step(sc, T0 + 2 * HOUR, &cap, a, 8, &n), 0);
	assert_int_equal(n, 0);
	ah_scaler_free(sc);
	ah_policy_free(p);
}

static void test_never_below_held(void **state)
{
	(void)state;
	/* Shortfall is free here, so the model says "minimum"; but 30 are held
	 * and cannot be taken back: shrink no further than that. */
	ah_policy *p = load_one("");
	p->classes[0].shortfall_cost[nodes(p)] = 0;
	ah_scaler_cfg cfg;
	ah_scaler_cfg_init(&cfg);
	ah_scaler *sc;
	assert_int_equal(ah_scaler_new(p, &cfg, &sc), 0);
	observe_n(sc, p, 0, T0, 30, 0);
	ah_vec cap = cap_n(p, 40);
	ah_scale_action a[8];
	int n;
	assert_int_equal(ah_scaler_step(sc, T0, &cap, a, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].to, 30);
	ah_scaler_free(sc);
	ah_policy_free(p);
}

static void test_rebalance(void **state)
{
	(void)state;
	ah_policy *p = load("[dimension nodes]\nunit = count\n"
			    "[pool a]\ncapacity = nodes=100\nmin = nodes=20\nmax = nodes=200\nscale_step = nodes=5\n"
			    "parent = rack\n"
			    "[pool b]\ncapacity = nodes=50\nmin = nodes=10\nmax = nodes=200\nscale_step = nodes=5\n"
			    "parent = rack\n"
			    "[pool c]\ncapacity = nodes=100\nmin = nodes=0\nmax = nodes=200\nparent = other\n"
			    "[class std]\npriority = 1\n");
	ah_scaler *sc;
	assert_int_equal(ah_scaler_new(p, NULL, &sc), 0);
	observe_n(sc, p, 0, T0, 10, 0);  /* idle */
	observe_n(sc, p, 1, T0, 50, 20); /* starved */
	observe_n(sc, p, 2, T0, 0, 0);   /* idle, but another parent */
	ah_vec cap[3] = {cap_n(p, 100), cap_n(p, 50), cap_n(p, 100)};
	ah_scale_action a[8];
	int n;
	assert_int_equal(ah_scaler_step(sc, T0, cap, a, 8, &n), 0);
	assert_int_equal(n, 2);
	/* 20 queued + 5 above b's 90% line, donor first */
	assert_int_equal(a[0].pool, 0);
	assert_int_equal(a[0].from, 100);
	assert_int_equal(a[0].to, 75);
	assert_int_equal(a[0].peer, 1);
	assert_int_equal(a[0].kind, AH_SCALE_KIND_REBALANCE);
	assert_int_equal(a[1].pool, 1);
	assert_int_equal(a[1].from, 50);
	assert_int_equal(a[1].to, 75);
	assert_int_equal(a[1].peer, 0);
	assert_int_equal(a[1].ready_ns, T0); /* moving capacity creates none: no lead time */
	/* Applied: counted, and no creation cost is charged. */
	assert_int_equal(ah_scaler_due(sc, T0, a, 8, &n), 0);
	assert_int_equal(n, 2);
	for (int i = 0; i < n; i++)
		assert_int_equal(ah_scaler_applied(sc, &a[i]), 0);
	ah_scaler_costs k;
	assert_int_equal(ah_scaler_costs_get(sc, -1, &k), 0);
	assert_int_equal(k.n_rebalance, 2);
	assert_true(k.create == 0);
	ah_scaler_free(sc);
	ah_policy_free(p);
}

static void test_bounded_memory(void **state)
{
	(void)state;
	ah_policy *p = load_one("");
	ah_scaler_cfg cfg;
	ah_scaler_cfg_init(&cfg);
	cfg.history_steps = 300;
	cfg.residual_steps = 200;
	ah_scaler *sc;
	assert_int_equal(ah_scaler_new(p, &cfg, &sc), 0);
	size_t m0 = ah_scaler_memory_bytes(sc);
	assert_true(m0 > 0);
	ah_vec cap = cap_n(p, 10);
	ah_scale_action a[8];
	int n;
	for (int i = 0; i < 5000; i++) {
		observe_n(sc, p, 0, T0 + i * STEP, 5 + i % 7, 0);
		if (i % 97 == 0) {
			assert_int_equal(ah_scaler_step(sc, T0 + i * STEP, &cap, a, 8, &n), 0);
			assert_int_equal(ah_scaler_due(sc, T0 + i * STEP, a, 8, &n), 0);
		}
	}
	assert_int_equal(ah_scaler_memory_bytes(sc), m0);
	/* 8 weeks x 5 min is the cap on the ring; beyond it is refused */
	cfg.history_steps = AH_SCALER_MAX_HISTORY + 1;
	ah_scaler *big = NULL;
	assert_int_equal(ah_scaler_new(p, &cfg, &big), AH_EINVAL);
	assert_null(big);
	/* An observation older than the ring is ignored, not stored over new. */
	observe_n(sc, p, 0, T0, 1000, 0);
	observe_n(sc, p, 0, T0 + 4999 * STEP, 5, 0);
	assert_int_equal(ah_scaler_step(sc, T0 + 4999 * STEP, &cap, a, 8, &n), 0);
	for (int i = 0; i < n; i++)
		assert_true(a[i].to < 100);
	ah_scaler_free(sc);
	ah_policy_free(p);
}

static void test_cost_accounting(void **state)
{
	(void)state;
	/* 10 nodes at 2/h for 30 min = 10. gold (8) is served first, batch (5)
	 * gets 2 and misses 3 at 1/h for 30 min = 1.5. Then a scale-up from 10
	 * to 14 at 3 per node created = 12, and a scale-down creates nothing. */
	ah_policy *p = load("[dimension nodes]\nunit = count\n"
			    "[pool p]\ncapacity = nodes=10\nmax = nodes=20\nshaping = on\ncapacity_cost = nodes=2\n"
			    "create_cost = nodes=3\n"
			    "[class batch]\npriority = 1\nshortfall_cost = nodes=1\n"
			    "[class gold]\npriority = 100\nshortfall_cost = nodes=10\n"
			    "[ahead]\ndefault_class = batch\n");
	ah_scaler *sc;
	assert_int_equal(ah_scaler_new(p, NULL, &sc), 0);
	int d = nodes(p);
	ah_vec cap = cap_n(p, 10), cls[2] = {{{0}}, {{0}}};
	cls[ah_policy_find_class(p, "gold")].v[d] = 8;
	cls[ah_policy_find_class(p, "batch")].v[d] = 5;
	assert_int_equal(ah_scaler_account(sc, 0, &cap, NULL, cls, 30 * MIN), 0);
	ah_scaler_costs k;
	assert_int_equal(ah_scaler_costs_get(sc, 0, &k), 0);
	assert_true(fabs(k.capacity - 10.0) < 1e-9);
	assert_true(fabs(k.shortfall - 1.5) < 1e-9);
	assert_true(fabs(k.total - 11.5) < 1e-9);
	ah_scale_action up = {.pool = 0, .dim = d, .from = 10, .to = 14, .kind = AH_SCALE_KIND_SCALE, .peer = -1};
	ah_scale_action down = {.pool = 0, .dim = d, .from = 14, .to = 12, .kind = AH_SCALE_KIND_SCALE, .peer = -1};
	assert_int_equal(ah_scaler_applied(sc, &up), 0);
	assert_int_equal(ah_scaler_applied(sc, &down), 0);
	/* Without a split, demand counts to the default class (batch, 1/h):
	 * 13 on 12 nodes for an hour = 12 x 2 + 1 x 1. */
	ah_vec dem = cap_n(p, 13);
	cap = cap_n(p, 12);
	assert_int_equal(ah_scaler_account(sc, 0, &cap, &dem, NULL, HOUR), 0);
	assert_int_equal(ah_scaler_costs_get(sc, -1, &k), 0);
	assert_true(fabs(k.create - 12.0) < 1e-9);
	assert_true(fabs(k.capacity - 34.0) < 1e-9);
	assert_true(fabs(k.shortfall - 2.5) < 1e-9);
	assert_true(fabs(k.total - 48.5) < 1e-9);
	assert_int_equal(k.n_scale, 2);
	assert_int_equal(k.n_rebalance, 0);
	ah_scaler_free(sc);
	ah_policy_free(p);
}

static void test_bad_input(void **state)
{
	(void)state;
	ah_policy *p = load_one("");
	ah_scaler *sc = NULL;
	ah_scaler_cfg cfg;
	ah_scaler_cfg_init(&cfg);
	cfg.step_ns = 0;
	assert_int_equal(ah_scaler_new(p, &cfg, &sc), AH_EINVAL);
	assert_int_equal(ah_scaler_new(NULL, NULL, &sc), AH_EINVAL);
	assert_int_equal(ah_scaler_new(p, NULL, &sc), 0);
	ah_vec u = {{0}}, q = {{0}};
	assert_int_equal(ah_scaler_observe(sc, 1, &u, &q, NULL, T0), AH_EINVAL);
	u.v[0] = -1;
	assert_int_equal(ah_scaler_observe(sc, 0, &u, &q, NULL, T0), AH_ERANGE);
	ah_scale_action a[2];
	int n = 7;
	assert_int_equal(ah_scaler_step(sc, T0, NULL, a, 2, &n), AH_EINVAL);
	assert_int_equal(n, 7);
	ah_scale_action bad = {.pool = 5, .dim = 0};
	assert_int_equal(ah_scaler_applied(sc, &bad), AH_EINVAL);
	ah_scaler_free(sc);
	ah_scaler_free(NULL);
	ah_policy_free(p);
}

typedef struct {
	int n;
	int64_t first_t, last_t;
	int64_t gold_cpu;
} load_ctx;

static int count_row(void *ctx, const ah_demand_row *r)
{
	load_ctx *c = ctx;
	if (strcmp(r->pool, "p"))
		return 0;
	if (c->n++ == 0)
		c->first_t = r->t_ns;
	c->last_t = r->t_ns;
	for (int i = 0; i < r->n_classes; i++)
		if (!strcmp(r->class_name[i], "gold"))
			c->gold_cpu = r->class_demand[i].v[AH_DIM_CPU];
	return 0;
}

static void test_history_store(void **state)
{
	(void)state;
	char path[] = "/tmp/ahead-scaler-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	ah_ledger *l = NULL;
	char err[256];
	assert_int_equal(ah_ledger_sqlite_open(path, AH_DURABILITY_PROCESS, &l, err, sizeof err), 0);
	ah_dimset ds;
	ah_dimset_init(&ds);
	l->dims = &ds;
	/* 50 rows a step apart; keep 40 steps by age and at most 30 rows. */
	for (int i = 0; i < 50; i++) {
		ah_demand_row r = {.t_ns = T0 + i * STEP, .pool = "p", .n_classes = 2};
		r.used.v[AH_DIM_CPU] = 1000 * i;
		r.queued.v[AH_DIM_MEMORY] = 1 << 20;
		snprintf(r.class_name[0], AH_NAME_MAX, "gold");
		snprintf(r.class_name[1], AH_NAME_MAX, "batch");
		r.class_demand[0].v[AH_DIM_CPU] = 500 * i;
		assert_int_equal(ah_ledger_sqlite_demand_put(l, &ds, &r, T0 + i * STEP - 40 * STEP, 30), 0);
	}
	load_ctx c = {0};
	assert_int_equal(ah_ledger_sqlite_demand_load(l, &ds, 0, count_row, &c), 0);
	assert_int_equal(c.n, 30);
	assert_int_equal(c.first_t, T0 + 20 * STEP);
	assert_int_equal(c.last_t, T0 + 49 * STEP);
	assert_int_equal(c.gold_cpu, 500 * 49);
	/* Stabilisation state: the last scale event that grew the dimension. */
	int64_t t = 0;
	assert_int_equal(ah_ledger_sqlite_last_scale_up(l, "p", "cpu", &t), AH_ENOENT);
	const char *up = "{\"action\":\"scale\",\"dim\":\"cpu\",\"from\":4000,\"to\":6000}";
	const char *down = "{\"action\":\"scale\",\"dim\":\"cpu\",\"from\":6000,\"to\":2000}";
	ah_ledger_event evs[] = {
		{.t_ns = T0, .kind = AH_EV_SCALE, .pool = "p", .reason = "scaled", .data = up},
		{.t_ns = T0 + HOUR, .kind = AH_EV_SCALE, .pool = "p", .reason = "hook_failed", .data = up},
		{.t_ns = T0 + 2 * HOUR, .kind = AH_EV_SCALE, .pool = "p", .reason = "scaled", .data = down},
	};
	assert_int_equal(l->ops->begin(l) >= 0, 1);
	for (int i = 0; i < 3; i++)
		assert_int_equal(l->ops->event(l, &evs[i]), 0);
	assert_int_equal(l->ops->commit(l), 0);
	assert_int_equal(ah_ledger_sqlite_last_scale_up(l, "p", "cpu", &t), 0);
	assert_int_equal(t, T0);
	assert_int_equal(ah_ledger_sqlite_last_scale_up(l, "p", "memory", &t), AH_ENOENT);
	assert_string_equal(ah_event_kind_name(AH_EV_SCALE), "scale");
	ah_ledger_free(l);
	unlink(path);
	char side[sizeof path + 8];
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_keys),
		cmocka_unit_test(test_policy_key_errors),
		cmocka_unit_test(test_known_answer_peak),
		cmocka_unit_test(test_known_answer_seasonal),
		cmocka_unit_test(test_level_shift),
		cmocka_unit_test(test_stabilisation),
		cmocka_unit_test(test_lead_time_delays),
		cmocka_unit_test(test_bounds_and_steps),
		cmocka_unit_test(test_never_below_held),
		cmocka_unit_test(test_rebalance),
		cmocka_unit_test(test_bounded_memory),
		cmocka_unit_test(test_cost_accounting),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_history_store),
	};
	return cmocka_run_group_tests_name("scaler", tests, NULL, NULL);
}
