/* The pool scaler with a second forecaster (scaler.h: forecast_fn, fc_mode)
 * and the forecasting layer as that forecaster (src/service/scale_forecast.c):
 * the provider's forecast reaches the shaper, a failing provider leaves the
 * own forecast standing, and in `best` mode the provider is used only where
 * its measured loss is lower. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/policy.h"
#include "ahead/scaler.h"
#include "service/scale_forecast.h"

#define S INT64_C(1000000000)
#define MIN (60 * S)
#define HOUR (3600 * S)
#define DAY (24 * HOUR)
#define STEP (5 * MIN)
#define T0 (100 * DAY)

static const char *text = "[dimension nodes]\nunit = count\n"
			  "[pool p]\ncapacity = nodes=10\nmin = nodes=0\nmax = nodes=100\nshaping = on\n"
			  "capacity_cost = nodes=1\nstabilise = 0s\n"
			  "[class std]\npriority = 1\nshortfall_cost = nodes=10\n";

static ah_policy *load(void)
{
	char err[512] = "";
	ah_policy *p = NULL;
	if (ah_policy_load_string(text, strlen(text), "test.ini", &p, err, sizeof err))
		fail_msg("%s", err);
	return p;
}

/* A provider that says every quantile is `value` (or fails when < 0). */
typedef struct {
	double value;
	int calls;
} fixed_ctx;

static int fixed_fn(void *ctx, int pool, int dim, int klass, const double *hist, size_t n, int64_t last_step,
		    int64_t origin, int64_t step_ns, int first_ahead, int horizon, const double *levels, int nq,
		    double *out)
{
	(void)pool, (void)dim, (void)klass, (void)hist, (void)n, (void)last_step, (void)origin, (void)step_ns,
		(void)first_ahead, (void)levels;
	fixed_ctx *c = ctx;
	c->calls++;
	if (c->value < 0)
		return AH_ENOENT;
	for (int i = 0; i < horizon * nq; i++)
		out[i] = c->value;
	return 0;
}

/* An oracle of iid demand 0 or 10 with equal odds: its true quantiles. */
static int iid_fn(void *ctx, int pool, int dim, int klass, const double *hist, size_t n, int64_t last_step,
		  int64_t origin, int64_t step_ns, int first_ahead, int horizon, const double *levels, int nq, double *out)
{
	(void)ctx, (void)pool, (void)dim, (void)klass, (void)hist, (void)n, (void)last_step, (void)origin,
		(void)step_ns, (void)first_ahead;
	for (int i = 0; i < horizon; i++)
		for (int q = 0; q < nq; q++)
			out[i * nq + q] = levels[q] < 0.5 ? 0 : 10;
	return 0;
}

static ah_scaler *make(const ah_policy *p, ah_scaler_fc_mode mode, ah_scaler_forecast_fn fn, void *ctx)
{
	ah_scaler_cfg c;
	ah_scaler_cfg_init(&c);
	c.forecast_fn = fn;
	c.forecast_ctx = ctx;
	c.fc_mode = mode;
	ah_scaler *sc = NULL;
	assert_int_equal(ah_scaler_new(p, &c, &sc), 0);
	return sc;
}

static void observe(ah_scaler *sc, const ah_policy *p, int64_t t, int64_t v)
{
	ah_vec u = {{0}}, q = {{0}};
	u.v[ah_dimset_find(&p->dims, "nodes")] = v;
	assert_int_equal(ah_scaler_observe(sc, 0, &u, &q, NULL, t), 0);
}

/* The size one step decides at now with capacity 10 (10 when it keeps it);
 * the action is popped so the next step may decide again. */
static int64_t decide(ah_scaler *sc, const ah_policy *p, int64_t now)
{
	ah_vec cap = {{0}};
	cap.v[ah_dimset_find(&p->dims, "nodes")] = 10;
	ah_scale_action a[8], due[8];
	int n, nd;
	assert_int_equal(ah_scaler_step(sc, now, &cap, a, 8, &n), 0);
	assert_int_equal(ah_scaler_due(sc, INT64_MAX / 2, due, 8, &nd), 0);
	return n ? a[0].to : 10;
}

static void test_provider_reaches_shaper(void **state)
{
	(void)state;
	ah_policy *p = load();
	/* constant demand 5 for a day and more: the own forecast is 5 */
	fixed_ctx big = {.value = 40}, broken = {.value = -1};
	ah_scaler *own = make(p, AH_SCALER_FC_OWN, fixed_fn, &big);
	ah_scaler *layer = make(p, AH_SCALER_FC_LAYER, fixed_fn, &big);
	ah_scaler *mx = make(p, AH_SCALER_FC_MAX, fixed_fn, &big);
	ah_scaler *fails = make(p, AH_SCALER_FC_LAYER, fixed_fn, &broken);
	ah_scaler *all[4] = {own, layer, mx, fails};
	int64_t now = T0 + DAY + 2 * HOUR;
	for (int64_t t = T0; t <= now; t += STEP)
		for (int k = 0; k < 4; k++)
			observe(all[k], p, t, 5);
	assert_int_equal(decide(own, p, now), 5);
	assert_int_equal(big.calls, 0); /* own mode never asks */
	assert_int_equal(decide(layer, p, now), 40);
	assert_true(big.calls > 0);
	assert_int_equal(decide(mx, p, now), 40);
	assert_int_equal(decide(fails, p, now), 5); /* the provider failed: the own forecast stands */
	assert_true(broken.calls > 0);
	for (int k = 0; k < 4; k++)
		ah_scaler_free(all[k]);
	ah_policy_free(p);
}

static void test_best_follows_measured_loss(void **state)
{
	(void)state;
	ah_policy *p = load();
	/* iid demand 0 or 10: the own forecast (yesterday's value plus the
	 * spread of day-over-day differences, or the level) is wide and
	 * off-centre; the iid oracle knows the distribution. A provider that
	 * always says 40 is worse than the own forecast. */
	fixed_ctx bad = {.value = 40};
	ah_scaler *own = make(p, AH_SCALER_FC_OWN, NULL, NULL);
	ah_scaler *layer = make(p, AH_SCALER_FC_LAYER, iid_fn, NULL);
	ah_scaler *best = make(p, AH_SCALER_FC_BEST, iid_fn, NULL);
	ah_scaler *best_bad = make(p, AH_SCALER_FC_BEST, fixed_fn, &bad);
	ah_scaler *all[4] = {own, layer, best, best_bad};
	uint64_t r = 42;
	int64_t t = T0;
	for (; t < T0 + DAY + HOUR; t += STEP) {
		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		for (int k = 0; k < 4; k++)
			observe(all[k], p, t, (r >> 33) & 1 ? 10 : 0);
	}
	int differ = 0, best_is_layer = 0, bad_is_own = 0, steps = 0;
	for (; t < T0 + DAY + 13 * HOUR; t += STEP) {
		int64_t d[4];
		for (int k = 0; k < 4; k++)
			d[k] = decide(all[k], p, t);
		if (t >= T0 + DAY + 5 * HOUR) { /* past the loss's warm-up */
			steps++;
			differ += d[0] != d[1];
			best_is_layer += d[2] == d[1];
			bad_is_own += d[3] == d[0];
		}
		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		for (int k = 0; k < 4; k++)
			observe(all[k], p, t + STEP / 2, (r >> 33) & 1 ? 10 : 0);
	}
	assert_true(differ > steps / 4);        /* the two forecasts lead to different sizes */
	assert_int_equal(best_is_layer, steps); /* best: the oracle's loss is lower */
	assert_int_equal(bad_is_own, steps);    /* best: the bad provider's loss is higher */
	for (int k = 0; k < 4; k++)
		ah_scaler_free(all[k]);
	ah_policy_free(p);
}

static void test_bad_mode(void **state)
{
	(void)state;
	ah_policy *p = load();
	ah_scaler_cfg c;
	ah_scaler_cfg_init(&c);
	c.fc_mode = (ah_scaler_fc_mode)7;
	ah_scaler *sc = NULL;
	assert_int_equal(ah_scaler_new(p, &c, &sc), AH_EINVAL);
	assert_null(sc);
	ah_policy_free(p);
}

/* ---- the forecasting layer as the provider ---- */

static const double LV[5] = {0.05, 0.2, 0.5, 0.8, 0.95};

static void test_layer_provider(void **state)
{
	(void)state;
	ah_scale_forecast *f = NULL;
	assert_int_equal(ah_scale_forecast_new(&f), 0);
	/* two weeks of a daily cycle at 5-minute steps, small noise, the first
	 * day not yet observed */
	enum { N = 4032, H = 12, A = 2 };
	static double y[N + 400];
	uint64_t r = 7;
	for (int i = 0; i < N + 400; i++) {
		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		double u = ((double)(r >> 11) / 9007199254740992.0) - 0.5;
		y[i] = 50 + 20 * sin(2 * M_PI * i / 288.0) + u;
	}
	static double hist[N];
	for (int i = 0; i < N; i++)
		hist[i] = i < 288 ? NAN : y[i];
	double out[H * 5];
	int64_t last = 1000000;
	assert_int_equal(ah_scale_forecast_fn(f, 0, 0, 0, hist, N, last, last, 300 * S, A, H, LV, 5, out), 0);
	for (int i = 0; i < H; i++) {
		double truth = 50 + 20 * sin(2 * M_PI * (N - 1 + A + i) / 288.0);
		for (int q = 1; q < 5; q++)
			assert_true(out[i * 5 + q] >= out[i * 5 + q - 1]);
		if (fabs(out[i * 5 + 2] - truth) > 3)
			fail_msg("step %d: median %.2f, truth %.2f", i, out[i * 5 + 2], truth);
		assert_true(out[i * 5 + 0] < truth && out[i * 5 + 4] > truth);
	}
	/* later steps are fed, not refitted; a day later it refits: either way
	 * the forecast follows the cycle */
	for (int k = 1; k <= 300; k++) {
		memmove(hist, hist + 1, (N - 1) * sizeof(double));
		hist[N - 1] = y[N - 1 + k];
		assert_int_equal(ah_scale_forecast_fn(f, 0, 0, 0, hist, N, last + k, last + k, 300 * S, A, H, LV, 5, out), 0);
	}
	double truth = 50 + 20 * sin(2 * M_PI * (N - 1 + 300 + A) / 288.0);
	assert_true(fabs(out[2] - truth) < 3);
	/* too little history: an error, so the scaler keeps its own */
	static double empty[N];
	for (int i = 0; i < N; i++)
		empty[i] = i < N - 3 ? NAN : 1;
	assert_true(ah_scale_forecast_fn(f, 1, 0, 0, empty, N, last, last, 300 * S, A, H, LV, 5, out) < 0);
	assert_int_equal(ah_scale_forecast_fn(f, 0, 0, 0, hist, N, last, last, 300 * S, 0, H, LV, 5, out), AH_EINVAL);
	assert_int_equal(ah_scale_forecast_fn(NULL, 0, 0, 0, hist, N, last, last, 300 * S, A, H, LV, 5, out), AH_EINVAL);
	ah_scale_forecast_free(f);
	ah_scale_forecast_free(NULL);
}

/* A process started later decides as the long-lived one: the layer's fit
 * and the daily verdict depend on the history alone (ahead scale runs as
 * one process per step over the ledger's history). */
static int64_t demand_at(int64_t t)
{
	uint64_t r = (uint64_t)(t / STEP) * 0x9E3779B97F4A7C15ULL;
	r ^= r >> 29;
	double tod = (double)((t - T0) % DAY) / (double)DAY;
	return (int64_t)(40 + 25 * sin(2 * M_PI * tod) + (double)(r % 7));
}

static void test_later_process_decides_the_same(void **state)
{
	(void)state;
	ah_policy *p = load();
	ah_scale_forecast *lf, *of;
	assert_int_equal(ah_scale_forecast_new(&lf), 0);
	ah_scaler *lived = make(p, AH_SCALER_FC_BEST, ah_scale_forecast_fn, lf);
	ah_scaler *own = make(p, AH_SCALER_FC_OWN, NULL, NULL);
	int checked = 0, layer_differs = 0;
	int64_t end = T0 + 3 * DAY;
	for (int64_t t = T0; t < end; t += STEP) {
		observe(lived, p, t, demand_at(t));
		observe(own, p, t, demand_at(t));
		int64_t now = t + STEP / 2;
		int64_t dl = decide(lived, p, now), dn = decide(own, p, now);
		if (t < T0 + 2 * DAY + HOUR || (t / STEP) % 23)
			continue;
		layer_differs += dl != dn;
		assert_int_equal(ah_scale_forecast_new(&of), 0);
		ah_scaler *fresh = make(p, AH_SCALER_FC_BEST, ah_scale_forecast_fn, of);
		for (int64_t u = T0; u <= t; u += STEP)
			observe(fresh, p, u, demand_at(u));
		int64_t df = decide(fresh, p, now);
		if (df != dl)
			fail_msg("at %+.2f days: the long-lived scaler decided %lld, a fresh one %lld",
				 (double)(now - T0) / (double)DAY, (long long)dl, (long long)df);
		checked++;
		ah_scaler_free(fresh);
		ah_scale_forecast_free(of);
	}
	assert_true(checked >= 10);
	assert_true(layer_differs > 0); /* the layer was chosen and changed a decision */
	ah_scaler_free(lived);
	ah_scaler_free(own);
	ah_scale_forecast_free(lf);
	ah_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_provider_reaches_shaper),
		cmocka_unit_test(test_best_follows_measured_loss),
		cmocka_unit_test(test_bad_mode),
		cmocka_unit_test(test_layer_provider),
		cmocka_unit_test(test_later_process_decides_the_same),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
