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

/* VPA's updater leaves an in-range request alone for the pod's first 12 h
 * (update_priority_calculator.go: podLifetimeUpdateThreshold), then
 * applies a target at least 10% away (MinChangePriority 0.1). */
static void test_vpa_cpu_12h_rule(void **s)
{
	(void)s;
	pol x;
	pol_init(&x, AH_SIZING_KIND_VPA, AH_DIM_CPU, 1000);
	/* 0.7 core falls in bucket 30 of 0.01 x (1.05^n - 1) / 0.05: p90 = end
	 * of bucket 30 = 0.70761 core -> 707 m, + trunc(707 x 0.15) = 813 m:
	 * 18.7% below the request. Bounds: lower = p50 + 15% x (1 +
	 * 0.001/conf)^-2 < 813, upper = p95 + 15% x (1 + 1/conf) > 1000. */
	for (int i = 0; i < 143; i++) /* t = 0 .. 42600: pod younger than 12 h */
		step(&x, (int64_t)i * 300, 700, -1);
	assert_int_equal(next_res(&x, 143 * 300, -1), 1000);
	step(&x, 143 * 300, 700, -1); /* next interval starts at 43200 s = 12 h */
	assert_int_equal(next_res(&x, 144 * 300, -1), 813);
	free(x.st);
	/* 0.8 core: 800 m + 120 = 920 m, 8% below 1000: never applied */
	pol_init(&x, AH_SIZING_KIND_VPA, AH_DIM_CPU, 1000);
	for (int i = 0; i < 600; i++)
		step(&x, (int64_t)i * 300, 800, -1);
	assert_int_equal(next_res(&x, 600 * 300, -1), 1000);
	free(x.st);
}

/* The lower bound's confidence factor (1 + 0.001/conf)^-2 (estimator.go,
 * recommender.go: "5m history: *0.6"): conf = min(history days, samples /
 * 1440), a 5-minute interval counting as 5 samples. */
static void test_vpa_cpu_below_lower_bound(void **s)
{
	(void)s;
	pol x;
	pol_init(&x, AH_SIZING_KIND_VPA, AH_DIM_CPU, 100);
	/* one sample: conf 0, lower bound = the 25 m minimum: in range */
	assert_int_equal(step(&x, 0, 500, -1), 100);
	assert_int_equal(next_res(&x, 300, -1), 100);
	/* two: conf = 300 s = 0.003472 days; p50 + 15% = 511 + 76 = 587 m x
	 * (1.288)^-2 = 0.6028 -> 353 m > 100 m: updated at once to the target
	 * 587 m although the pod is 10 minutes old */
	step(&x, 300, 500, -1);
	assert_int_equal(next_res(&x, 600, -1), 587);
	free(x.st);
}

/* The upper bound's factor (1 + 1/conf): with n 5-minute samples conf is
 * (n - 1) x 300 s in days, so p95 + 15% = 587 m x (1 + 288/(n - 1)) drops
 * below a 4000 m request at n = 51 (3968 m; n = 50: 4037 m). */
static void test_vpa_cpu_above_upper_bound(void **s)
{
	(void)s;
	pol x;
	pol_init(&x, AH_SIZING_KIND_VPA, AH_DIM_CPU, 4000);
	for (int i = 0; i < 50; i++)
		step(&x, (int64_t)i * 300, 500, -1);
	assert_int_equal(next_res(&x, 50 * 300, -1), 4000);
	step(&x, 50 * 300, 500, -1);
	assert_int_equal(next_res(&x, 51 * 300, -1), 587);
	free(x.st);
}

/* aggregations_config.go: the first cpu bucket is 0.01 core wide, so 5 m
 * falls in bucket 0 whose end is 10 m; + 15% = 11 m < the 25 m minimum.
 * Then: cpu samples weigh the same whatever the request. */
static void test_vpa_cpu_first_bucket_and_minimum(void **s)
{
	(void)s;
	pol x;
	pol_init(&x, AH_SIZING_KIND_VPA, AH_DIM_CPU, 10);
	step(&x, 0, 5, -1);
	step(&x, 300, 5, -1); /* lower bound 25 m > 10 m: applied at once */
	assert_int_equal(next_res(&x, 600, -1), 25);
	free(x.st);
	/* Constant weights. 11 samples of 100 m at a 4000 m request: the upper
	 * bound 126 m x (1 + 288/10) = 3754 m falls below the request, which
	 * becomes the target 110 + 16 = 126 m. Then 500 m samples at the 126 m
	 * request: at equal weights they pass half the weight with the 11th
	 * or 12th (the decay favours them slightly), p50 + 15% = 587 m x ~1
	 * leaves 126 m below the lower bound and the target 587 m applies.
	 * Weighted by max(request, 0.1) the old samples would weigh 4.0 each
	 * against 0.126, and the 500 m ones would need 350 samples. */
	pol_init(&x, AH_SIZING_KIND_VPA, AH_DIM_CPU, 4000);
	for (int i = 0; i < 10; i++)
		step(&x, (int64_t)i * 300, 100, -1);
	assert_int_equal(next_res(&x, 10 * 300, -1), 4000);
	step(&x, 10 * 300, 100, -1);
	assert_int_equal(next_res(&x, 11 * 300, -1), 126);
	for (int i = 11; i < 16; i++)
		step(&x, (int64_t)i * 300, 500, -1);
	assert_int_equal(next_res(&x, 16 * 300, -1), 126); /* 5 of 16: p50 still 100 m */
	for (int i = 16; i < 23; i++)
		step(&x, (int64_t)i * 300, 500, -1);
	assert_int_equal(next_res(&x, 23 * 300, -1), 587);
	free(x.st);
}

static void test_vpa_memory_quick_oom(void **s)
{
	(void)s;
	pol x;
	pol_init(&x, AH_SIZING_KIND_VPA, AH_DIM_MEMORY, 250 * MIB);
	/* 300 MiB > 250 MiB reservation: an OOM. The peak becomes 300 MiB,
	 * then the OOM sample max(300 MiB + 100 MiB, 300 MiB x 1.2) = 400 MiB
	 * replaces it (same 24 h interval): end of bucket 23 = 445019988 B
	 * + 15% = 511772986 B. The container died within 10 minutes of its
	 * start (evictAfterOOMThreshold): a quick OOM, updated at once. */
	step(&x, 0, 300 * MIB, -1);
	assert_int_equal(next_res(&x, 300, -1), 511772986);
	free(x.st);
	/* 200 MiB on a 1 GiB request: target = the 250 MiB minimum, but the
	 * pod is young and 1 GiB lies within [lower, upper]: kept */
	pol_init(&x, AH_SIZING_KIND_VPA, AH_DIM_MEMORY, 1024 * MIB);
	step(&x, 0, 200 * MIB, -1);
	assert_int_equal(next_res(&x, 300, -1), 1024 * MIB);
	free(x.st);
}

static void test_vpa_memory_one_peak_per_day(void **s)
{
	(void)s;
	pol x;
	pol_init(&x, AH_SIZING_KIND_VPA, AH_DIM_MEMORY, 4096 * MIB);
	/* day 1: a 1000 MiB peak then 100 MiB samples: one peak. At 12 h the
	 * target, end of bucket 37 = 1077095457 B + 15% = 1238659775 B, is
	 * applied; the lower samples add no weight, so it stays */
	step(&x, 0, 1000 * MIB, -1);
	for (int i = 1; i < 200; i++)
		step(&x, i * 300, 100 * MIB, -1);
	assert_int_equal(next_res(&x, 200 * 300, -1), 1238659775);
	/* 30 days of 100 MiB days: the old peak has decayed away; p90 of the
	 * daily 100 MiB peaks is below the 250 MiB minimum */
	for (int d = 1; d <= 30; d++)
		step(&x, (int64_t)d * 86400 + 100, 100 * MIB, -1);
	assert_int_equal(next_res(&x, 31 * 86400, -1), 250 * MIB);
	free(x.st);
}

/* Autopilot's load-adjusted histogram: a sample weighs its decay x its
 * value. One 1 core sample then 30 of 100 m: counted per sample the big
 * one is 3% of the weight and p95 would be 100 m's bucket; weighted by
 * usage it is 1 / (1 + 30 x 0.1 x ~1.07) = 24%, so p95 is the end of 1
 * core's bucket 36 (0.01 core first bucket) = 1.01628 core -> 1017 m. */
static void test_autopilot_cpu_load_weighted_percentile(void **s)
{
	(void)s;
	pol x;
	pol_init(&x, AH_SIZING_KIND_AUTOPILOT, AH_DIM_CPU, 4000);
	assert_int_equal(step(&x, 0, 1000, -1), 4000); /* before data: the request */
	for (int i = 1; i <= 30; i++)
		step(&x, (int64_t)i * 300, 100, -1);
	assert_int_equal(next_res(&x, 31 * 300, -1), 1017);
	/* ten days of 100 m: the 1 core sample weighs 2^-20 of a fresh one's
	 * per unit; p95 = end of bucket 8 = 0.110266 core -> 111 m */
	for (int i = 31; i <= 2910; i++)
		step(&x, (int64_t)i * 300, 100, -1);
	assert_int_equal(next_res(&x, 2911 * 300, -1), 111);
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
		cmocka_unit_test(test_vpa_cpu_12h_rule),
		cmocka_unit_test(test_vpa_cpu_below_lower_bound),
		cmocka_unit_test(test_vpa_cpu_above_upper_bound),
		cmocka_unit_test(test_vpa_cpu_first_bucket_and_minimum),
		cmocka_unit_test(test_vpa_memory_quick_oom),
		cmocka_unit_test(test_vpa_memory_one_peak_per_day),
		cmocka_unit_test(test_autopilot_cpu_load_weighted_percentile),
		cmocka_unit_test(test_autopilot_memory_recent_peaks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
