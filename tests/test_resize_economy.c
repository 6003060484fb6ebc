/* Resizes paid for (issue 13): the replay's resize cost and resizes per
 * workload-hour on a tiny trace, and ahead's resize economy (shrink
 * hysteresis, minimum dwell, resize budget) driven through its ops; and
 * two-level memory scoring (soft level = reservation, hard = safety net);
 * ahead's cold-start hold. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ahead/error.h"
#include "ahead/replay.h"
#include "ahead/sizing.h"

static int feed_text(ah_replay *rp, const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	assert_non_null(f);
	ah_trace *tr;
	assert_int_equal(ah_trace_open_stream(f, "tiny.csv", AH_TRACE_PLAIN, &tr), 0);
	char err[256];
	int rc = ah_replay_feed_trace(rp, tr, err, sizeof(err));
	ah_trace_free(tr);
	fclose(f);
	return rc;
}

/* static follows the provisioned size: 250 m, 250 m, 500 m, 500 m is one
 * resize in four 5-minute intervals (20 workload-minutes): 3 per
 * workload-hour; at $0.5 a cpu resize the cost is 0.5 on top of the
 * core-hours (1500 m x 300 s = 0.125 core-hours x $0.0316). */
static void test_resize_cost_and_rate(void **s)
{
	(void)s;
	ah_replay_params p;
	ah_replay_params_default(&p);
	p.resize_cost[AH_DIM_CPU] = 0.5;
	p.resize_cost[AH_DIM_MEMORY] = 0.25;
	ah_sizing_kind k = AH_SIZING_KIND_STATIC;
	ah_replay *rp = NULL;
	assert_int_equal(ah_replay_new(&p, &k, 1, 3u, 0, &rp), 0);
	const char *text = "time,workload,dim,used,requested\n"
			   "0,a,cpu,100,250\n"
			   "0,a,memory,1000,4000\n"
			   "300,a,cpu,100,250\n"
			   "300,a,memory,1000,4000\n"
			   "600,a,cpu,100,500\n"
			   "600,a,memory,1000,4000\n"
			   "900,a,cpu,100,500\n"
			   "900,a,memory,1000,4000\n";
	assert_int_equal(feed_text(rp, text), 0);
	ah_replay_metrics m;
	ah_replay_get_metrics(rp, 0, AH_DIM_CPU, &m);
	assert_int_equal(m.resizes, 1);
	assert_float_equal(m.resizes_per_wl_hour, 3.0, 1e-12);
	assert_float_equal(m.cost_resize, 0.5, 1e-12);
	assert_float_equal(m.unit_hours, 0.125, 1e-12);
	assert_float_equal(m.cost, 0.125 * 0.0316 + 0.5, 1e-12);
	ah_replay_get_metrics(rp, 0, AH_DIM_MEMORY, &m);
	assert_int_equal(m.resizes, 0);
	assert_float_equal(m.resizes_per_wl_hour, 0.0, 0);
	assert_float_equal(m.cost_resize, 0.0, 0);
	ah_replay_free(rp);
	/* a negative or NaN cost is refused */
	rp = NULL;
	p.resize_cost[AH_DIM_MEMORY] = -1;
	assert_int_equal(ah_replay_new(&p, &k, 1, 3u, 0, &rp), AH_EINVAL);
	assert_null(rp);
}

/* ahead on two days of a square wave (2 cores for an hour, 0.1 core for
 * an hour), every reservation recorded. */
#define STEPS (2 * 288)
typedef struct {
	int64_t res[STEPS];
	int grows, shrinks;
} run_log;

static void run_ahead(double hyst, int64_t dwell_s, double per_day, run_log *lg)
{
	ah_sizing_params p;
	ah_sizing_params_default(&p, NULL);
	p.dim[AH_DIM_CPU].shrink_hysteresis = hyst;
	p.dim[AH_DIM_CPU].min_dwell_s = dwell_s;
	p.dim[AH_DIM_CPU].resizes_per_day = per_day;
	const ah_sizing_ops *ops = ah_sizing_get(AH_SIZING_KIND_AHEAD);
	void *st = calloc(1, ops->state_size);
	assert_non_null(st);
	ops->init(st, &p, AH_DIM_CPU, 4000);
	memset(lg, 0, sizeof(*lg));
	for (int i = 0; i < STEPS; i++) {
		int64_t t = (int64_t)i * 300;
		int64_t used = (i / 12) % 2 ? 100 : 2000;
		lg->res[i] = ops->reserve(st, t, 4000);
		ops->observe(st, t, used, lg->res[i], 4000);
		if (i && lg->res[i] > lg->res[i - 1])
			lg->grows++;
		if (i && lg->res[i] < lg->res[i - 1])
			lg->shrinks++;
	}
	free(st);
}

static void test_ahead_hysteresis(void **s)
{
	(void)s;
	run_log lg;
	run_ahead(0.5, 0, 0, &lg);
	int n = 0;
	for (int i = 1; i < STEPS; i++)
		if (lg.res[i] < lg.res[i - 1]) {
			assert_true((double)lg.res[i] < 0.5 * (double)lg.res[i - 1]);
			n++;
		}
	assert_true(n > 0); /* the wave's lows are far below its highs */
}

static void test_ahead_min_dwell(void **s)
{
	(void)s;
	run_log free_run, lg;
	run_ahead(0.10, 0, 0, &free_run);
	run_ahead(0.10, 6 * 3600, 0, &lg);
	/* a shrink comes at least 6 h after the previous resize */
	int last = 0;
	for (int i = 1; i < STEPS; i++) {
		if (lg.res[i] == lg.res[i - 1])
			continue;
		if (lg.res[i] < lg.res[i - 1])
			assert_true((int64_t)(i - last) * 300 >= 6 * 3600);
		last = i;
	}
	assert_true(lg.grows + lg.shrinks < free_run.grows + free_run.shrinks);
	assert_true(lg.shrinks > 0);
	/* the shrink holds the last 6 h's highest target: once the wave has
	 * been seen, the level covers its highs and nothing is violated */
	for (int i = 288; i < STEPS; i++)
		assert_true(lg.res[i] >= 2000);
}

static void test_ahead_resize_budget(void **s)
{
	(void)s;
	run_log lg;
	run_ahead(0.10, 0, 2.0, &lg);
	/* the bucket starts with 2 resizes and gains 2 a day; every resize
	 * takes one and a shrink needs one: over two days at most 2 + 2 x 2
	 * resizes are shrinks or grows paid from the bucket */
	assert_true(lg.shrinks <= 6);
	assert_true(lg.shrinks > 0);
	run_log free_run;
	run_ahead(0.10, 0, 0, &free_run);
	assert_true(free_run.shrinks > 6); /* without the budget the wave is followed */
}

#define GIB ((int64_t)1 << 30)

/* the same ahead memory state the replay drives, stepped alongside it */
typedef struct {
	const ah_sizing_ops *ops;
	void *st;
	ah_sizing_params p;
} side;

struct kills {
	uint64_t soft, kill, n;
	double hard, res;
	int64_t last_res, last_hard;
	int pol;
};

static void ktap(void *ctx, const char *workload, int pol, int dim, int64_t t_s, int64_t used, int64_t reserved,
		 int64_t hard)
{
	(void)workload;
	(void)t_s;
	struct kills *k = ctx;
	if (pol != k->pol || dim != AH_DIM_MEMORY)
		return;
	assert_true(hard >= reserved);
	k->n++;
	k->soft += used > reserved;
	k->kill += used > hard;
	k->hard += (double)hard;
	k->res += (double)reserved;
	k->last_res = reserved;
	k->last_hard = hard;
}

static void feed_row(ah_replay *rp, int64_t t, int64_t used)
{
	char line[128], err[256];
	snprintf(line, sizeof(line), "time,workload,dim,used,requested\n%lld,a,memory,%lld,%lld\n", (long long)t,
		 (long long)used, (long long)(8 * GIB));
	FILE *f = fmemopen(line, strlen(line), "r");
	assert_non_null(f);
	ah_trace *tr;
	assert_int_equal(ah_trace_open_stream(f, "row.csv", AH_TRACE_PLAIN, &tr), 0);
	assert_int_equal(ah_replay_feed_trace(rp, tr, err, sizeof(err)), 0);
	ah_trace_free(tr);
	fclose(f);
}

/* A day of steady 1 GiB, then three intervals: usage just over the
 * reservation but under the hard level (a soft crossing: reclaim, no
 * kill), usage over the hard level (a kill), and back to 1 GiB. vpa, one
 * level, counts each crossing of its reservation as a kill. */
static void test_two_level_memory(void **s)
{
	(void)s;
	ah_replay_params p;
	ah_replay_params_default(&p);
	ah_sizing_kind k[2] = {AH_SIZING_KIND_AHEAD, AH_SIZING_KIND_VPA};
	ah_replay *rp = NULL;
	assert_int_equal(ah_replay_new(&p, k, 2, 1u << AH_DIM_MEMORY, 0, &rp), 0);
	struct kills ka = {.pol = 0};
	assert_int_equal(ah_replay_set_tap(rp, ktap, &ka), 0);
	int64_t t = 0;
	for (; t < 86400; t += 300)
		feed_row(rp, t, GIB);
	assert_int_equal(ka.kill, 0);
	/* ahead's levels for the next interval are those of the last one
	 * (steady usage, no resize): a soft crossing between them */
	assert_true(ka.last_hard > ka.last_res + ka.last_res / 5);
	int64_t r = ka.last_res, h = ka.last_hard;
	feed_row(rp, t, r + (h - r) / 2);
	t += 300;
	assert_int_equal(ka.last_res, r);
	assert_int_equal(ka.last_hard, h);
	assert_int_equal(ka.soft, 1);
	assert_int_equal(ka.kill, 0);
	/* far over any safety net: a kill (and a soft crossing) */
	feed_row(rp, t, 64 * GIB);
	t += 300;
	assert_int_equal(ka.soft, 2);
	assert_int_equal(ka.kill, 1);
	feed_row(rp, t, GIB);
	ah_replay_metrics m;
	ah_replay_get_metrics(rp, 0, AH_DIM_MEMORY, &m);
	assert_int_equal(m.violations, ka.soft);
	assert_int_equal(m.kill_violations, ka.kill);
	assert_float_equal(m.kill_violation_pct, 100.0 * (double)ka.kill / (double)m.intervals, 1e-9);
	assert_float_equal(m.sum_hard, ka.hard, 1e-3);
	assert_true(m.sum_hard > m.sum_reserved); /* the net overcommits */
	/* vpa: one level, kills are its violations, its hard sum its reservations */
	ah_replay_get_metrics(rp, 1, AH_DIM_MEMORY, &m);
	assert_int_equal(m.kill_violations, m.violations);
	assert_true(m.violations >= 1);
	assert_float_equal(m.sum_hard, m.sum_reserved, 0);
	ah_replay_free(rp);
}

/* Cold start: with cold_hold_s the reservation is at least the requested
 * size for that long after the first sample, then falls to the forecast;
 * without it, it falls within the first hour. */
static void test_ahead_cold_hold(void **s)
{
	(void)s;
	for (int hold = 0; hold < 2; hold++) {
		ah_sizing_params p;
		ah_sizing_params_default(&p, NULL);
		p.dim[AH_DIM_CPU].cold_hold_s = hold ? 6 * 3600 : 0;
		const ah_sizing_ops *ops = ah_sizing_get(AH_SIZING_KIND_AHEAD);
		void *st = calloc(1, ops->state_size);
		assert_non_null(st);
		ops->init(st, &p, AH_DIM_CPU, 4000);
		int64_t first_below = -1;
		for (int i = 0; i < 144; i++) {
			int64_t t = 1000 + (int64_t)i * 300;
			int64_t r = ops->reserve(st, t, 4000);
			if (hold && t < 1000 + 6 * 3600)
				assert_true(r >= 4000);
			if (r < 4000 && first_below < 0)
				first_below = t - 1000;
			ops->observe(st, t, 100, r, 4000);
		}
		if (hold)
			assert_int_equal(first_below, 6 * 3600); /* the first interval past the hold */
		else
			assert_true(first_below >= 0 && first_below < 3600);
		free(st);
	}
}

/* Peak cap: with peak_cap the reservation never exceeds the last 48 h's
 * peak usage x (1 + peak_cap); two days after a VM's spikes stopped, the
 * uncapped reservation still covers them (their scores are in its
 * histograms), the capped one sits at the recent peak plus the cap. */
static void test_ahead_peak_cap(void **s)
{
	(void)s;
	const int64_t MIB = (int64_t)1 << 20;
	enum { N = 288 * 5, SPIKE_END = 288 * 2 };
	int64_t used[N], last_r[2] = {0, 0};
	for (int i = 0; i < N; i++)
		used[i] = i < SPIKE_END && i % 12 == 11 ? 4 * GIB : GIB + (i % 3) * 16 * MIB;
	for (int capped = 0; capped < 2; capped++) {
		ah_sizing_params p;
		ah_sizing_params_default(&p, NULL);
		p.dim[AH_DIM_MEMORY].peak_cap = capped ? 0.25 : -1;
		p.dim[AH_DIM_MEMORY].shrink_hysteresis = 0; /* the target itself, every interval */
		const ah_sizing_ops *ops = ah_sizing_get(AH_SIZING_KIND_AHEAD);
		void *st = calloc(1, ops->state_size);
		assert_non_null(st);
		ops->init(st, &p, AH_DIM_MEMORY, 8 * GIB);
		for (int i = 0; i < N; i++) {
			int64_t t = 86400 + (int64_t)i * 300;
			int64_t r = ops->reserve(st, t, 8 * GIB);
			if (capped && i > 0) {
				/* the peak of the samples within 48 h before t */
				int64_t peak = 0;
				for (int j = i - 1; j >= 0 && t - (86400 + (int64_t)j * 300) <= 48 * 3600; j--)
					peak = used[j] > peak ? used[j] : peak;
				assert_true(r <= (int64_t)ceil((double)peak * 1.25));
				assert_true(r >= used[i - 1]); /* never below the forecast */
			}
			last_r[capped] = r;
			ops->observe(st, t, used[i], r, 8 * GIB);
		}
		free(st);
	}
	/* two and a half days after the last spike: the uncapped reservation
	 * still holds room for one, the capped one does not */
	assert_true(last_r[0] >= 3 * GIB);
	assert_true(last_r[1] <= (int64_t)ceil((double)(GIB + 32 * MIB) * 1.25));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resize_cost_and_rate),
		cmocka_unit_test(test_ahead_hysteresis),
		cmocka_unit_test(test_ahead_min_dwell),
		cmocka_unit_test(test_ahead_resize_budget),
		cmocka_unit_test(test_two_level_memory),
		cmocka_unit_test(test_ahead_cold_hold),
		cmocka_unit_test(test_ahead_peak_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
