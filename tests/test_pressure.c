/* Memory sized by pressure (include/ahead/pressure.h) on synthetic pressure
 * sequences: the probe step and its bound, the back-off, floor and
 * ceiling, the start, bad policies, and a simulated workload whose
 * pressure rises when the limit cuts into its working set: the loop must
 * settle just above the working set, not below it, not far above. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/pressure.h"

#define MiB ((uint64_t)1 << 20)
#define NONE UINT64_MAX

static ah_pressure_step next(const ah_pressure_policy *p, uint64_t delta_us, uint64_t high, uint64_t usage,
			     uint64_t floor, uint64_t ceiling)
{
	ah_pressure_input in = {delta_us, 1000000, high, usage, floor, ceiling};
	ah_pressure_step s;
	assert_int_equal(ah_pressure_next(p, &in, &s), 0);
	return s;
}

static void test_start_at_usage(void **state)
{
	(void)state;
	ah_pressure_policy p;
	ah_pressure_policy_init(&p);
	ah_pressure_step s = next(&p, 0, NONE, 700 * MiB, 0, NONE);
	assert_int_equal(s.action, AH_PRESSURE_START);
	assert_int_equal(s.next_high_bytes, 700 * MiB);
	/* the start is held within the floor and ceiling too */
	s = next(&p, 0, NONE, 700 * MiB, 0, 512 * MiB);
	assert_int_equal(s.next_high_bytes, 512 * MiB);
	s = next(&p, 0, NONE, 100 * MiB, 300 * MiB, NONE);
	assert_int_equal(s.next_high_bytes, 300 * MiB);
	assert_int_equal(s.action, AH_PRESSURE_FLOOR);
}

static void test_probe_bounded(void **state)
{
	(void)state;
	ah_pressure_policy p;
	ah_pressure_policy_init(&p);
	/* no pressure: exactly 1% a step, never more */
	uint64_t high = 1000 * MiB;
	for (int i = 0; i < 10; i++) {
		ah_pressure_step s = next(&p, 0, high, 2000 * MiB, 0, NONE);
		assert_int_equal(s.action, AH_PRESSURE_PROBE);
		assert_true(s.step_frac >= -0.01 - 1e-9 && s.step_frac < -0.0099);
		high = s.next_high_bytes;
	}
	double want = 1000.0 * MiB * pow(0.99, 10);
	assert_true(fabs((double)high - want) < 16);
	/* pressure at the target: no probe; half of it: a full probe (gain 2);
	 * three quarters: half a probe */
	ah_pressure_step s = next(&p, 1000, high, 2000 * MiB, 0, NONE); /* 0.1% of 1 s */
	assert_int_equal(s.next_high_bytes, high);
	s = next(&p, 500, high, 2000 * MiB, 0, NONE);
	assert_true(fabs(s.step_frac + 0.01) < 1e-6);
	s = next(&p, 750, high, 2000 * MiB, 0, NONE);
	assert_true(fabs(s.step_frac + 0.005) < 1e-6);
	/* usage below the limit: the probe starts from usage */
	s = next(&p, 0, 1000 * MiB, 400 * MiB, 0, NONE);
	assert_int_equal(s.next_high_bytes, (uint64_t)(400.0 * MiB * 0.99));
}

static void test_backoff(void **state)
{
	(void)state;
	ah_pressure_policy p;
	ah_pressure_policy_init(&p);
	/* 0.3% against 0.1%: twice the target in excess, gain 0.05: +10% */
	ah_pressure_step s = next(&p, 3000, 400 * MiB, 400 * MiB, 0, NONE);
	assert_int_equal(s.action, AH_PRESSURE_BACKOFF);
	assert_true(fabs(s.step_frac - 0.1) < 1e-6);
	/* far above: at most +100% */
	s = next(&p, 500000, 400 * MiB, 400 * MiB, 0, NONE);
	assert_int_equal(s.next_high_bytes, 800 * MiB);
	assert_true(s.pressure_pct > 49.9 && s.pressure_pct < 50.1);
	/* a smaller bound */
	p.backoff_max_frac = 0.25;
	s = next(&p, 500000, 400 * MiB, 400 * MiB, 0, NONE);
	assert_int_equal(s.next_high_bytes, 500 * MiB);
	/* the ceiling holds it */
	s = next(&p, 500000, 400 * MiB, 400 * MiB, 0, 450 * MiB);
	assert_int_equal(s.next_high_bytes, 450 * MiB);
	assert_int_equal(s.action, AH_PRESSURE_CEILING);
	/* below the floor: straight back to the floor */
	s = next(&p, 2000, 100 * MiB, 100 * MiB, 600 * MiB, NONE);
	assert_int_equal(s.next_high_bytes, 600 * MiB);
}

static void test_floor_holds(void **state)
{
	(void)state;
	ah_pressure_policy p;
	ah_pressure_policy_init(&p);
	uint64_t high = 300 * MiB;
	for (int i = 0; i < 500; i++) {
		ah_pressure_step s = next(&p, 0, high, 300 * MiB, 256 * MiB, NONE);
		assert_true(s.next_high_bytes >= 256 * MiB);
		high = s.next_high_bytes;
	}
	assert_int_equal(high, 256 * MiB);
	assert_int_equal(next(&p, 0, high, 300 * MiB, 256 * MiB, NONE).action, AH_PRESSURE_FLOOR);
	/* min_bytes is a floor too */
	assert_int_equal(next(&p, 0, 10 * MiB, 10 * MiB, 0, NONE).next_high_bytes, p.min_bytes);
}

static void test_bad_input(void **state)
{
	(void)state;
	ah_pressure_policy p;
	ah_pressure_policy_init(&p);
	char err[128];
	assert_int_equal(ah_pressure_policy_check(&p, err, sizeof err), 0);
	p.probe_frac = 0.02; /* beyond 1% per interval */
	assert_int_equal(ah_pressure_policy_check(&p, err, sizeof err), AH_EINVAL);
	assert_non_null(strstr(err, "probe_frac"));
	ah_pressure_policy_init(&p);
	p.target_pct = NAN;
	assert_int_equal(ah_pressure_policy_check(&p, err, sizeof err), AH_EINVAL);
	assert_non_null(strstr(err, "target_pct"));
	ah_pressure_policy_init(&p);
	p.backoff_max_frac = 1.5;
	assert_int_equal(ah_pressure_policy_check(&p, err, sizeof err), AH_EINVAL);
	assert_non_null(strstr(err, "backoff_max_frac"));
	ah_pressure_policy_init(&p);
	ah_pressure_input in = {0, 0, MiB, MiB, 0, NONE};
	ah_pressure_step s = {.next_high_bytes = 42};
	assert_int_equal(ah_pressure_next(&p, &in, &s), AH_EINVAL); /* interval 0 */
	assert_int_equal(s.next_high_bytes, 42);
	assert_int_equal(ah_pressure_delta_us(100, 250), 150);
	assert_int_equal(ah_pressure_delta_us(250, 100), 0); /* a reset */
	assert_string_equal(ah_pressure_action_name(AH_PRESSURE_BACKOFF), "backoff");
}

/* A workload with a working set W: a limit below it makes it refault,
 * stalling in proportion to the deficit (10% short: 5% of the interval);
 * above it, no stall. Its usage is what the limit lets it keep of W plus
 * cold cache growing without bound. */
static void test_converges_on_working_set(void **state)
{
	(void)state;
	ah_pressure_policy p;
	ah_pressure_policy_init(&p);
	uint64_t W = 1000 * MiB, high = NONE, cache = 0;
	int below = 0;
	double sum = 0;
	int n = 2000, tail = 500;
	for (int i = 0; i < n; i++) {
		cache += 20 * MiB;
		uint64_t usage = W + cache;
		if (high != NONE && usage > high)
			usage = high;
		double deficit = high != NONE && high < W ? (double)(W - high) / (double)W : 0;
		uint64_t delta = (uint64_t)(deficit * 0.5 * 1e6);
		ah_pressure_step s = next(&p, delta, high, usage, 0, NONE);
		high = s.next_high_bytes;
		if (i >= n - tail) {
			below += high < W;
			sum += (double)high;
		}
	}
	double mean = sum / tail;
	print_message("working set %llu MiB: mean limit %.0f MiB, below it %d of %d steps\n",
		      (unsigned long long)(W / MiB), mean / MiB, below, tail);
	/* settles near W: on average within 10% above it (a sawtooth: a probe
	 * 1% below W makes 0.5% pressure, backed off by 20%), under W at most
	 * a quarter of the time, each dip a probe the back-off undoes */
	assert_true(mean >= 0.98 * (double)W);
	assert_true(mean <= 1.10 * (double)W);
	assert_true(below <= tail / 4);
	/* a working set that grows: the loop follows it up within a few steps */
	W = 1500 * MiB;
	int steps = 0;
	while (high < W && steps < 50) {
		double deficit = (double)(W - high) / (double)W;
		high = next(&p, (uint64_t)(deficit * 0.5 * 1e6), high, high, 0, NONE).next_high_bytes;
		steps++;
	}
	assert_true(steps <= 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_at_usage),
		cmocka_unit_test(test_probe_bounded),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_floor_holds),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_converges_on_working_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
