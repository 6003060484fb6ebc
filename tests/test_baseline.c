/* Baseline policies of `ahead replay` against small hand-computed cases:
 * static, threshold (HPA rule), vpa (VPA recommender), autopilot. The
 * expected numbers follow the formulas in docs/REPLAY.md step by step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "ahead/sizing.h"

#define MIB ((int64_t)1 << 20)

typedef struct {
	const ah_sizing_ops *ops;
	void *st;
	ah_sizing_params p;
	int64_t res;
} pol;

static void pol_init(pol *x, ah_sizing_kind k, int dim, int64_t requested)
{
	ah_sizing_params_default(&x->p, NULL);
	x->ops = ah_sizing_get(k);
	assert_non_null(x->ops);
	x->st = calloc(1, x->ops->state_size);
	assert_non_null(x->st);
	x->ops->init(x->st, &x->p, dim, requested);
}

/* One interval: reservation, then the usage; returns the reservation. */
static int64_t step(pol *x, int64_t t, int64_t used, int64_t requested)
{
	int64_t r = x->ops->reserve(x->st, t, requested);
	x->ops->observe(x->st, t, used, r, requested);
	return r;
}

static int64_t next_res(pol *x, int64_t t, int64_t requested)
{
	return x->ops->reserve(x->st, t, requested);
}

static void test_names(void **s)
{
	(void)s;
	ah_sizing_kind k;
	const char *names[] = {"static", "threshold", "vpa", "autopilot", "ahead"};
	for (int i = 0; i < 5; i++) {
		assert_int_equal(ah_sizing_parse(names[i], &k), 0);
		assert_int_equal(k, i);
		assert_string_equal(ah_sizing_name(k), names[i]);
	}
	assert_true(ah_sizing_parse("hpa", &k) < 0);
	assert_true(ah_sizing_parse("", &k) < 0);
	assert_null(ah_sizing_get(AH_SIZING_KIND_COUNT));
}

static void test_static(void **s)
{
	(void)s;
	pol x;
	pol_init(&x, AH_SIZING_KIND_STATIC, AH_DIM_CPU, 2000);
	assert_int_equal(step(&x, 0, 500, 2000), 2000);
	assert_int_equal(step(&x, 300, 5000, 2000), 2000); /* never reacts to usage */
	assert_int_equal(step(&x, 600, 10, 4000), 4000);   /* follows the provisioned size */
	assert_int_equal(step(&x, 900, 10, -1), 4000);     /* unknown: keeps the last known */
	free(x.st);
	pol_init(&x, AH_SIZING_KIND_STATIC, AH_DIM_MEMORY, -1);
	assert_int_equal(step(&x, 0, 100, -1), 0);
	free(x.st);
}

static void test_threshold_tolerance_and_stabilisation(void **s)
{
	(void)s;
	pol x;
	/* 100 m replicas, target 70%, tolerance 10%: 1000 m = 10 replicas */
	pol_init(&x, AH_SIZING_KIND_THRESHOLD, AH_DIM_CPU, 1000);
	assert_int_equal(step(&x, 0, 700, -1), 1000);  /* 70%: ratio 1.0 */
	assert_int_equal(step(&x, 300, 750, -1), 1000); /* 75%: 1.071 within tolerance */
	assert_int_equal(step(&x, 600, 800, -1), 1000); /* 80%: 1.143 -> ceil(11.43) = 12 */
	assert_int_equal(next_res(&x, 900, -1), 1200);
	/* 420/1200 = 35% -> desired 6, but 12 was recommended within 5 min */
	assert_int_equal(step(&x, 900, 420, -1), 1200);
	assert_int_equal(next_res(&x, 1200, -1), 1200);
	/* again 6; the 12 was last made at 885 s, outside (1200 - 300, 1200] */
	assert_int_equal(step(&x, 1200, 420, -1), 1200);
	assert_int_equal(next_res(&x, 1500, -1), 600);
	/* scale-up applies at once: 600 m at 35% of... 2000/600 = 333% -> 29 */
	step(&x, 1500, 2000, -1);
	assert_int_equal(next_res(&x, 1800, -1), 2900);
	/* idle: desired 0 -> minReplicas 1, after the window */
	step(&x, 1800, 0, -1);
	step(&x, 2100, 0, -1);
	assert_int_equal(next_res(&x, 2400, -1), 100);
	free(x.st);
}

static void test_threshold_integer_utilisation(void **s)
{
	(void)s;
	pol x;
	/* 1000 m; usage 769 m is 76% (truncated): ratio 1.086 is within the
	 * tolerance. 770 m is 77%: 77/70 is 1.1 plus a rounding ulp, so
	 * |1 - ratio| > 0.1 in float64 (as in Go's HPA): ceil(1.1 x 10) = 11 */
	pol_init(&x, AH_SIZING_KIND_THRESHOLD, AH_DIM_CPU, 1000);
	step(&x, 0, 769, -1);
	assert_int_equal(next_res(&x, 300, -1), 1000);
	step(&x, 300, 770, -1);
	assert_int_equal(next_res(&x, 600, -1), 1100);
	free(x.st);
	/* memory: 128 MiB replicas, request 1 GiB = 8 replicas */
	pol_init(&x, AH_SIZING_KIND_THRESHOLD, AH_DIM_MEMORY, 1024 * MIB);
	step(&x, 0, 1024 * MIB, -1); /* 100% -> 1.4286 x 8 -> 12 */
	assert_int_equal(next_res(&x, 300, -1), 12 * 128 * MIB);
	free(x.st);
}

static void test_vpa_cpu_percentile_margin_apply_rule(void **s)
{
	(void)s;
	pol x;
	pol_init(&x, AH_SIZING_KIND_VPA, AH_DIM_CPU, 1000);
	/* 0.5 core falls in bucket 66; p90 = end of bucket 66 = 0.50567 core
	 * -> 505 m, x 1.15 = 580 m; |580 - 1000| > 10%: applied */
	assert_int_equal(step(&x, 0, 500, -1), 1000);
	assert_int_equal(next_res(&x, 300, -1), 580);
	/* 0.52 core (bucket 67) weighs max(0.58 core request, 0.1) x decay
	 * 2^(300/86400); cumulative 1.0 < 0.9 x 1.581 so p90 is the end of
	 * bucket 67 = 0.53192 -> 531 m x 1.15 = 610 m: within 10% of 580 */
	step(&x, 300, 520, -1);
	assert_int_equal(next_res(&x, 600, -1), 580);
	free(x.st);
}

static void test_vpa_cpu_minimum(void **s)
{
	(void)s;
	pol x;
	pol_init(&x, AH_SIZING_KIND_VPA, AH_DIM_CPU, 1000);
	step(&x, 0, 5, -1); /* p90 5 m x 1.15 = 5 m < 25 m minimum */
	assert_int_equal(next_res(&x, 300, -1), 25);
	free(x.st);
}

static void test_vpa_memory_minimum_and_oom(void **s)
{
	(void)s;
	pol x;
	pol_init(&x, AH_SIZING_KIND_VPA, AH_DIM_MEMORY, 1024 * MIB);
	/* 200 MiB peak: end of bucket 14 = 215785635 B x 1.15 = 248153480 B,
	 * below the 250 MiB minimum */
	step(&x, 0, 200 * MIB, -1);
	assert_int_equal(next_res(&x, 300, -1), 250 * MIB);
	/* 300 MiB > 250 MiB reservation: an OOM. The peak becomes 300 MiB,
	 * then the OOM sample max(300 MiB + 100 MiB, 300 MiB x 1.2) = 400 MiB
	 * replaces it (same 24 h interval): end of bucket 23 = 445019988 B
	 * x 1.15 = 511772986 B */
	step(&x, 300, 300 * MIB, -1);
	assert_int_equal(next_res(&x, 600, -1), 511772986);
	free(x.st);
}

static void test_vpa_memory_one_peak_per_day(void **s)
{
	(void)s;
	pol x;
	pol_init(&x, AH_SIZING_KIND_VPA, AH_DIM_MEMORY, 4096 * MIB);
	/* day 1: peaks 1000 MiB then lower samples: one peak of 1000 MiB */
	step(&x, 0, 1000 * MIB, -1);
	int64_t r1 = next_res(&x, 300, -1);
	for (int i = 1; i < 200; i++)
		step(&x, i * 300, 100 * MIB, -1);
	/* still the one 1000 MiB peak: the lower samples did not add weight */
	assert_int_equal(next_res(&x, 200 * 300, -1), r1);
	/* 30 days of 100 MiB days: the old peak has decayed away; p90 of the
	 * daily 100 MiB peaks is below the 250 MiB minimum */
	for (int d = 1; d <= 30; d++)
		step(&x, (int64_t)d * 86400 + 100, 100 * MIB, -1);
	assert_int_equal(next_res(&x, 31 * 86400, -1), 250 * MIB);
	free(x.st);
}

static void test_autopilot_cpu_decayed_percentile(void **s)
{
	(void)s;
	pol x;
	pol_init(&x, AH_SIZING_KIND_AUTOPILOT, AH_DIM_CPU, 4000);
	assert_int_equal(step(&x, 0, 100, -1), 4000); /* before data: the request */
	step(&x, 300, 100, -1);
	step(&x, 600, 1000, -1);
	/* three equal-ish weights: p95 needs the 1 core sample: end of bucket
	 * 80 = 1.02079 core -> 1021 m */
	assert_int_equal(next_res(&x, 900, -1), 1021);
	/* ten days of 100 m: the 1 core sample weighs 2^-20 of a fresh one;
	 * p95 = end of bucket 36 = 0.101628 core -> 102 m */
	for (int i = 1; i <= 2880; i++)
		step(&x, 600 + (int64_t)i * 300, 100, -1);
	assert_int_equal(next_res(&x, 600 + 2881 * 300, -1), 102);
	free(x.st);
}

static void test_autopilot_memory_recent_peaks(void **s)
{
	(void)s;
	pol x;
	pol_init(&x, AH_SIZING_KIND_AUTOPILOT, AH_DIM_MEMORY, 8192 * MIB);
	step(&x, 0, 5000 * MIB, -1);
	assert_int_equal(next_res(&x, 300, -1), 5000 * MIB);
	for (int h = 1; h <= 47; h++)
		step(&x, (int64_t)h * 3600, 1000 * MIB, -1);
	assert_int_equal(next_res(&x, 47 * 3600 + 300, -1), 5000 * MIB); /* within 48 h */
	step(&x, 48 * 3600, 1000 * MIB, -1);
	assert_int_equal(next_res(&x, 48 * 3600 + 300, -1), 1000 * MIB); /* hour 0 left */
	free(x.st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_static),
		cmocka_unit_test(test_threshold_tolerance_and_stabilisation),
		cmocka_unit_test(test_threshold_integer_utilisation),
		cmocka_unit_test(test_vpa_cpu_percentile_margin_apply_rule),
		cmocka_unit_test(test_vpa_cpu_minimum),
		cmocka_unit_test(test_vpa_memory_minimum_and_oom),
		cmocka_unit_test(test_vpa_memory_one_peak_per_day),
		cmocka_unit_test(test_autopilot_cpu_decayed_percentile),
		cmocka_unit_test(test_autopilot_memory_recent_peaks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
