/* The ahead replay policy (src/sizing/policy_ahead.c): its per-workload choice
 * of point forecast, its cold-start prior and its state bound. Growth,
 * hysteresis, the quantile and the violation cost are in test_replay.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "ahead/sizing.h"

typedef struct {
	const ah_sizing_ops *ops;
	void *st;
	ah_sizing_params p;
} pol;

/* cpu, 4 cores provisioned: score scale b = 2000 m; cost off (pure quantile) */
static void pol_init(pol *x, double q)
{
	ah_sizing_params_default(&x->p, NULL);
	x->p.dim[AH_DIM_CPU].quantile = q;
	x->p.dim[AH_DIM_CPU].violation_cost = 0;
	x->ops = ah_sizing_get(AH_SIZING_KIND_AHEAD);
	assert_non_null(x->ops);
	x->st = calloc(1, x->ops->state_size);
	assert_non_null(x->st);
	x->ops->init(x->st, &x->p, AH_DIM_CPU, 4000);
}

static int64_t step(pol *x, int64_t t, int64_t used)
{
	int64_t r = x->ops->reserve(x->st, t, 4000);
	x->ops->observe(x->st, t, used, r, 4000);
	return r;
}

/* The state is one fixed block per workload and dimension, at most 64 KiB
 * (include/ahead/replay.h). */
static void test_state_bound(void **s)
{
	(void)s;
	assert_true(ah_sizing_get(AH_SIZING_KIND_AHEAD)->state_size <= 64 * 1024);
}

/* Usage alternating 2000 m / 500 m every interval: the last sample always
 * predicts the wrong half, the larger of the last two is always 2000, so the
 * running loss picks it and the reservation settles at about 2000 m. A
 * policy forecasting from the last sample alone needs a margin of 1500 m on
 * top of the 2000 m after each high interval. (The first hours run on the
 * last sample, and the hour-of-day histograms, half-life 7 days, hold those
 * scores for a while: the fourth week is checked.) */
static void test_alternating_series_picks_max_of_two(void **s)
{
	(void)s;
	pol x;
	pol_init(&x, 0.99);
	int64_t t = 0, worst = 0;
	for (int i = 0; i < 288 * 28; i++, t += 300) {
		int64_t r = step(&x, t, i % 2 ? 500 : 2000);
		if (i >= 288 * 21 && r > worst)
			worst = r; /* the fourth week */
	}
	assert_true(worst >= 2000);
	assert_true(worst < 2200);
	free(x.st);
}

/* A sticky series: a level held for 24 intervals, then a jump to another
 * level (1000..3000 m). The last sample is right 23 times in 24; the larger
 * of the last two is also wrong the interval after every drop. So the
 * running loss picks the last sample, and one interval after a drop the
 * reservation is already down at the new level (the drop is more than the
 * 10% hysteresis); the max of the last two would still hold the old one. */
static void test_sticky_series_follows_last_sample(void **s)
{
	(void)s;
	pol x;
	pol_init(&x, 0.9);
	unsigned rnd = 99;
	int64_t t = 0, level = 2000, prev_level = 2000;
	int drops = 0, followed = 0;
	for (int i = 0; i < 288 * 10; i++, t += 300) {
		if (i % 24 == 0) {
			prev_level = level;
			rnd = rnd * 1103515245u + 12345u;
			level = 1000 + (int64_t)((rnd >> 16) % 2001);
		}
		int64_t r = step(&x, t, level);
		/* the second interval at a level at least 20% lower than the old */
		if (i >= 288 * 3 && i % 24 == 1 && level < prev_level * 8 / 10) {
			drops++;
			if (r <= level + level / 20)
				followed++;
		}
	}
	assert_true(drops >= 10);
	assert_true(followed >= drops * 9 / 10);
	free(x.st);
}

/* Cold start: a new workload's histogram holds one pseudo-score of 2, so at
 * a high quantile the first reservations keep a wide margin (2f + b) until
 * the workload's own scores outweigh it; after three flat days it has faded
 * and the reservation hugs the usage. */
static void test_cold_start_prior_fades(void **s)
{
	(void)s;
	pol x;
	pol_init(&x, 0.998);
	int64_t t = 0, first_hour_min = INT64_MAX, r = 0;
	assert_int_equal(step(&x, t, 1000), 4000); /* before data: the request */
	for (int i = 1; i < 288 * 3; i++) {
		t += 300;
		r = step(&x, t, 1000);
		if (i < 12 && r < first_hour_min)
			first_hour_min = r;
	}
	assert_true(first_hour_min >= 3500); /* about 2 x 1000 + 2000 */
	assert_true(r >= 1000 && r < 1100);
	free(x.st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_bound),
		cmocka_unit_test(test_alternating_series_picks_max_of_two),
		cmocka_unit_test(test_sticky_series_follows_last_sample),
		cmocka_unit_test(test_cold_start_prior_fades),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
