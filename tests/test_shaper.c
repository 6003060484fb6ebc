/* Pool shaping cost model and rebalancing, on cases whose right answer is
 * known (newsvendor critical fractile, lead time, class priority, creation
 * cost, stabilisation). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>

#include "ahead/error.h"
#include "ahead/shaper.h"

#define HOUR 3600000000000LL

static ah_shaper_cfg cfg1(double cap, double shortc)
{
	ah_shaper_cfg c = {.capacity_cost = cap, .min_size = 0, .max_size = 200, .step = 1, .n_classes = 1};
	c.shortfall_cost[0] = shortc;
	return c;
}

static void test_newsvendor_fractile(void **state)
{
	(void)state;
	/* Demand uniform on [0,100]: Q(t) = 100t. Holding a unit costs 1/h
	 * whether used or not, a unit short costs 3/h: one more unit pays off
	 * while 3 * P(D > S) > 1, so the optimum is the 1 - 1/3 quantile. */
	double lv[50], dm[50];
	for (int i = 0; i < 50; i++) {
		lv[i] = (i + 0.5) / 50.0;
		dm[i] = 100.0 * lv[i];
	}
	ah_shaper_forecast fc = {.horizon = 1, .step_ns = HOUR, .nq = 50, .levels = lv, .demand = dm};
	ah_shaper_cfg c = cfg1(1, 3);
	ah_shaper_decision d;
	assert_int_equal(ah_shaper_decide(&c, &fc, 0, 0, 0, &d), 0);
	assert_true(llabs(d.size - 67) <= 1);
	c.shortfall_cost[0] = 10; /* 1 - 1/10: the 90% quantile */
	assert_int_equal(ah_shaper_decide(&c, &fc, 0, 0, 0, &d), 0);
	assert_true(llabs(d.size - 90) <= 1);
}

static void test_deterministic_and_cheap_shortfall(void **state)
{
	(void)state;
	double lv[3] = {0.1, 0.5, 0.9}, dm[3] = {10, 10, 10};
	ah_shaper_forecast fc = {.horizon = 1, .step_ns = HOUR, .nq = 3, .levels = lv, .demand = dm};
	ah_shaper_cfg c = cfg1(1, 100);
	ah_shaper_decision d;
	assert_int_equal(ah_shaper_decide(&c, &fc, 0, 0, 0, &d), 0);
	assert_int_equal(d.size, 10);
	assert_true(d.expected_shortfall < 1e-9);
	assert_true(fabs(d.cost - 10.0) < 1e-6);
	c.shortfall_cost[0] = 0.5; /* cheaper to fall short than to hold */
	assert_int_equal(ah_shaper_decide(&c, &fc, 0, 0, 0, &d), 0);
	assert_int_equal(d.size, 0);
	c.min_size = 4; /* but never below the minimum */
	assert_int_equal(ah_shaper_decide(&c, &fc, 0, 0, 0, &d), 0);
	assert_int_equal(d.size, 4);
}

static void test_lead_time(void **state)
{
	(void)state;
	/* A spike in the first hour cannot be met by capacity that takes two
	 * hours to arrive: size for the demand after the lead time. */
	double lv[1] = {0.5}, dm[4] = {50, 5, 5, 5};
	ah_shaper_forecast fc = {.horizon = 4, .step_ns = HOUR, .nq = 1, .levels = lv, .demand = dm};
	ah_shaper_cfg c = cfg1(1, 100);
	c.lead_time_ns = 2 * HOUR;
	ah_shaper_decision d;
	assert_int_equal(ah_shaper_decide(&c, &fc, 10, 0, 0, &d), 0);
	assert_int_equal(d.size, 5);
	/* Without lead time the spike is worth covering. */
	c.lead_time_ns = 0;
	assert_int_equal(ah_shaper_decide(&c, &fc, 10, 0, 0, &d), 0);
	assert_int_equal(d.size, 50);
}

static void test_priority_classes(void **state)
{
	(void)state;
	/* gold's shortfall is dear, batch's is cheap: size for gold only;
	 * gold is served first from the capacity there is. */
	double lv[1] = {0.5}, dm[2] = {10, 50};
	ah_shaper_forecast fc = {.horizon = 1, .step_ns = HOUR, .nq = 1, .levels = lv, .demand = dm};
	ah_shaper_cfg c = cfg1(1, 100);
	c.n_classes = 2;
	c.shortfall_cost[1] = 0.1;
	ah_shaper_decision d;
	assert_int_equal(ah_shaper_decide(&c, &fc, 0, 0, 0, &d), 0);
	assert_int_equal(d.size, 10);
	assert_true(fabs(d.expected_shortfall - 50) < 1e-9);
}

static void test_create_cost_and_stabilisation(void **state)
{
	(void)state;
	double lv[1] = {0.5}, dm[1] = {12};
	ah_shaper_forecast fc = {.horizon = 1, .step_ns = HOUR, .nq = 1, .levels = lv, .demand = dm};
	ah_shaper_cfg c = cfg1(1, 10);
	c.create_cost = 100; /* adding 2 units costs 200 > 2 units short for an hour (20) */
	ah_shaper_decision d;
	assert_int_equal(ah_shaper_decide(&c, &fc, 10, 0, 0, &d), 0);
	assert_int_equal(d.size, 10);
	c.create_cost = 1;
	assert_int_equal(ah_shaper_decide(&c, &fc, 10, 0, 0, &d), 0);
	assert_int_equal(d.size, 12);
	/* Demand falls to 3 but we scaled up 5 minutes ago: hold. */
	dm[0] = 3;
	c.stabilise_ns = HOUR / 6;
	assert_int_equal(ah_shaper_decide(&c, &fc, 12, 0, HOUR / 12, &d), 0);
	assert_int_equal(d.size, 12);
	assert_int_equal(d.held, 1);
	assert_int_equal(ah_shaper_decide(&c, &fc, 12, 0, HOUR / 6, &d), 0);
	assert_int_equal(d.size, 3);
	assert_int_equal(d.held, 0);
}

static void test_bad_input(void **state)
{
	(void)state;
	double lv[2] = {0.5, 0.4}, dm[2] = {1, 2};
	ah_shaper_forecast fc = {.horizon = 1, .step_ns = HOUR, .nq = 2, .levels = lv, .demand = dm};
	ah_shaper_cfg c = cfg1(1, 1);
	ah_shaper_decision d;
	assert_int_equal(ah_shaper_decide(&c, &fc, 0, 0, 0, &d), AH_EINVAL); /* levels not increasing */
	lv[1] = 0.6;
	c.step = 0;
	assert_int_equal(ah_shaper_decide(&c, &fc, 0, 0, 0, &d), AH_ERANGE);
	c.step = 1;
	c.max_size = -1;
	assert_int_equal(ah_shaper_decide(&c, &fc, 0, 0, 0, &d), AH_ERANGE);
}

static void test_rebalance(void **state)
{
	(void)state;
	ah_rebalance_pool p[3] = {
		{.capacity = 100, .used = 10, .min_size = 20, .max_size = 200, .step = 5, .parent = 0},
		{.capacity = 50, .used = 50, .queued = 20, .min_size = 10, .max_size = 200, .step = 5, .parent = 0},
		{.capacity = 100, .used = 0, .min_size = 0, .max_size = 200, .step = 5, .parent = 1},
	};
	ah_rebalance_move m[4];
	int n = ah_rebalance_plan(p, 3, 0.3, 0.9, m, 4);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].from, 0); /* same parent only: pool 2 is not touched */
	assert_int_equal(m[0].to, 1);
	assert_int_equal(m[0].amount, 25); /* 20 queued + 5 above the 90% line */
	/* The receiver's maximum caps the move. */
	p[1].max_size = 60;
	n = ah_rebalance_plan(p, 3, 0.3, 0.9, m, 4);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].amount, 10);
	/* A busy donor gives nothing. */
	p[0].used = 80;
	assert_int_equal(ah_rebalance_plan(p, 3, 0.3, 0.9, m, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_newsvendor_fractile),
		cmocka_unit_test(test_deterministic_and_cheap_shortfall),
		cmocka_unit_test(test_lead_time),
		cmocka_unit_test(test_priority_classes),
		cmocka_unit_test(test_create_cost_and_stabilisation),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_rebalance),
	};
	return cmocka_run_group_tests_name("shaper", tests, NULL, NULL);
}
