/* Tests for the forecaster (choice, conformal calibration, feedback) and the
 * request-conditioned usage model. */
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
#include "ahead/forecast.h"

#define PI 3.14159265358979323846

static uint64_t rs = 12345;
static double unif(void)
{
	rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
	return ((double)(rs >> 11) + 0.5) / 9007199254740992.0;
}
static double gauss(void)
{
	return sqrt(-2 * log(unif())) * cos(2 * PI * unif());
}

static void test_constant_series_zero_width(void **st)
{
	(void)st;
	double y[300];
	for (int i = 0; i < 300; i++)
		y[i] = 5;
	ah_fc_opts o = {.horizon = 6};
	ah_forecaster *f;
	assert_int_equal(ah_forecaster_new(&o, y, 300, &f), 0);
	double q[3] = {0.05, 0.5, 0.95}, p[6], qo[18];
	assert_int_equal(ah_forecaster_forecast(f, 6, q, 3, p, qo), 0);
	for (int i = 0; i < 6; i++) {
		assert_true(fabs(p[i] - 5) < 1e-9);
		assert_true(fabs(qo[i * 3 + 2] - qo[i * 3]) < 1e-9);
	}
	ah_fc_choice c;
	assert_int_equal(ah_forecaster_choice(f, &c), 0);
	assert_true(c.chosen.mase < 1e-6);
	ah_forecaster_free(f);
	ah_forecaster_free(NULL);
}

static void test_seasonal_series_picks_seasonal_model(void **st)
{
	(void)st;
	size_t n = 2400;
	double *y = malloc(n * sizeof(double));
	for (size_t t = 0; t < n; t++)
		y[t] = 50 + 20 * sin(2 * PI * (double)t / 48) + 0.1 * gauss();
	ah_fc_opts o = {.horizon = 48};
	ah_forecaster *f;
	assert_int_equal(ah_forecaster_new(&o, y, n, &f), 0);
	ah_fc_choice c;
	ah_forecaster_choice(f, &c);
	assert_int_equal(c.season, 48);
	assert_true(!strcmp(c.model, "holt-winters") || !strcmp(c.model, "seasonal-naive") ||
		    !strcmp(c.model, "blend"));
	assert_true(c.chosen.mase < 0.2);
	assert_true(c.ncand >= 6);
	double p[48];
	assert_int_equal(ah_forecaster_forecast(f, 48, NULL, 0, p, NULL), 0);
	for (size_t h = 0; h < 48; h++)
		assert_true(fabs(p[h] - (50 + 20 * sin(2 * PI * (double)(n + h) / 48))) < 1.0);
	ah_forecaster_free(f);
	/* forcing a model by name, and an unknown name */
	o.model = "naive";
	assert_int_equal(ah_forecaster_new(&o, y, n, &f), 0);
	ah_forecaster_choice(f, &c);
	assert_string_equal(c.model, "naive");
	ah_forecaster_free(f);
	o.model = "prophet";
	assert_int_equal(ah_forecaster_new(&o, y, n, &f), AH_ENOENT);
	free(y);
}

static void test_linear_trend(void **st)
{
	(void)st;
	double y[600];
	for (int t = 0; t < 600; t++)
		y[t] = 100 + 0.5 * t;
	ah_fc_opts o = {.horizon = 10};
	ah_forecaster *f;
	assert_int_equal(ah_forecaster_new(&o, y, 600, &f), 0);
	double p[10];
	ah_forecaster_forecast(f, 10, NULL, 0, p, NULL);
	for (int h = 0; h < 10; h++)
		assert_true(fabs(p[h] - (100 + 0.5 * (600 + h))) < 0.05);
	ah_forecaster_free(f);
}

static void test_conformal_coverage_iid(void **st)
{
	(void)st;
	size_t n = 1500, m = 3000;
	double *y = malloc((n + m) * sizeof(double));
	for (size_t t = 0; t < n + m; t++)
		y[t] = 10 + gauss();
	ah_fc_opts o = {.horizon = 4, .window = 400};
	ah_forecaster *f;
	assert_int_equal(ah_forecaster_new(&o, y, n, &f), 0);
	double q[2] = {0.05, 0.95}, p[4], qo[8];
	size_t in1 = 0, in4 = 0, tot = 0;
	for (size_t t = n; t + 4 <= n + m; t++) {
		ah_forecaster_forecast(f, 4, q, 2, p, qo);
		in1 += y[t] >= qo[0] && y[t] <= qo[1];
		in4 += y[t + 3] >= qo[6] && y[t + 3] <= qo[7];
		tot++;
		ah_forecaster_update(f, y[t]);
	}
	double c1 = (double)in1 / (double)tot, c4 = (double)in4 / (double)tot;
	print_message("90%% interval coverage: h=1 %.3f, h=4 %.3f\n", c1, c4);
	assert_true(c1 > 0.87 && c1 < 0.93);
	assert_true(c4 > 0.87 && c4 < 0.93);
	ah_fc_stats s;
	assert_int_equal(ah_forecaster_stats(f, &s), 0);
	assert_true(s.covered_n > 100);
	assert_true(fabs(s.cover80 - 0.8) < 0.06);
	assert_true(fabs(s.cover95 - 0.95) < 0.04);
	assert_true(s.mase > 0 && s.mase < 1); /* level forecasts beat naive on noise */
	ah_forecaster_free(f);
	free(y);
}

/* Every candidate, forced by name, must keep working online (derived ones
 * such as blend and X+median rebuild their forecasts from their sources). */
static void test_every_candidate_online(void **st)
{
	(void)st;
	size_t n = 1200, m = 300;
	double *y = malloc((n + m) * sizeof(double));
	for (size_t t = 0; t < n + m; t++)
		y[t] = 20 + 5 * sin(2 * PI * (double)t / 24) + 0.05 * (double)t + gauss();
	ah_fc_opts o = {.horizon = 12};
	ah_forecaster *f;
	assert_int_equal(ah_forecaster_new(&o, y, n, &f), 0);
	ah_fc_choice all;
	ah_forecaster_choice(f, &all);
	ah_forecaster_free(f);
	assert_true(all.ncand >= 8);
	for (size_t i = 0; i < all.ncand; i++) {
		o.model = all.cand[i].name;
		assert_int_equal(ah_forecaster_new(&o, y, n, &f), 0);
		double q[2] = {0.1, 0.9}, p[12], qo[24];
		size_t in = 0, tot = 0;
		double ae = 0;
		for (size_t t = n; t + 12 <= n + m; t++) {
			assert_int_equal(ah_forecaster_forecast(f, 12, q, 2, p, qo), 0);
			in += y[t] >= qo[0] && y[t] <= qo[1];
			ae += fabs(y[t] - p[0]);
			tot++;
			ah_forecaster_update(f, t % 50 == 3 ? NAN : y[t]);
		}
		ah_fc_stats s;
		ah_forecaster_stats(f, &s);
		print_message("%-18s mae1 %.3f cover80(h=1) %.2f stats: n %zu mase %.3f cov80 %.2f\n", o.model,
			      ae / (double)tot, (double)in / (double)tot, s.outcomes, s.mase, s.cover80);
		assert_true(s.outcomes > 200);
		if (strcmp(o.model, "vpa-histogram") && strcmp(o.model, "naive"))
			assert_true((double)in / (double)tot > 0.6 && (double)in / (double)tot < 0.97);
		ah_forecaster_free(f);
	}
	free(y);
}

static void test_forecaster_bad_args(void **st)
{
	(void)st;
	double y[20] = {1, 2, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, 1, 2, 3};
	ah_forecaster *f;
	ah_fc_opts o = {.horizon = 3};
	assert_int_equal(ah_forecaster_new(&o, y, 13, &f), AH_EINVAL); /* too few values */
	o.horizon = 0;
	assert_int_equal(ah_forecaster_new(&o, y, 13, &f), AH_EINVAL);
	double z[100];
	for (int i = 0; i < 100; i++)
		z[i] = i % 7 == 3 ? NAN : i;
	o.horizon = 3;
	assert_int_equal(ah_forecaster_new(&o, z, 100, &f), 0);
	double p[4], q = 1.2, qo[4];
	assert_int_equal(ah_forecaster_forecast(f, 4, NULL, 0, p, NULL), AH_EINVAL); /* h > horizon */
	assert_int_equal(ah_forecaster_forecast(f, 2, &q, 1, p, qo), AH_EINVAL);
	assert_int_equal(ah_forecaster_forecast(f, 3, NULL, 0, p, NULL), 0);
	assert_true(isfinite(p[0]) && isfinite(p[2]));
	ah_forecaster_update(f, NAN); /* missing outcome: tolerated */
	ah_forecaster_free(f);
	assert_true(fabs(ah_pinball(10, 8, 0.9) - 1.8) < 1e-12);
	assert_true(fabs(ah_pinball(8, 10, 0.9) - 0.2) < 1e-12);
}

static void test_conditioned_loglinear(void **st)
{
	(void)st;
	ah_cond_model *m;
	assert_int_equal(ah_cond_new(NULL, &m), 0);
	/* usage = 2 * rows^0.7, with multiplicative noise and a few wild outliers */
	for (int i = 0; i < 400; i++) {
		double rows = 10 + 990 * unif();
		double u = 2 * pow(rows, 0.7) * exp(0.05 * gauss());
		if (i % 50 == 7)
			u *= 30; /* outlier */
		char p[64];
		snprintf(p, sizeof(p), "kind=etl,rows=%.3f", rows);
		assert_int_equal(ah_cond_observe(m, p, u), 0);
	}
	for (int i = 0; i < 50; i++)
		assert_int_equal(ah_cond_observe(m, "kind=web", 100 + i), 0);
	double q[2] = {0.1, 0.9}, pt, qo[2];
	ah_cond_info inf;
	assert_int_equal(ah_cond_predict(m, "rows=500,kind=etl", q, 2, &pt, qo, &inf), 0);
	assert_int_equal(inf.source, AH_COND_REGRESSION);
	assert_int_equal(inf.nfeat, 1);
	assert_true(fabs(inf.coef[1] - 0.7) < 0.03);
	assert_true(fabs(pt / (2 * pow(500, 0.7)) - 1) < 0.05);
	assert_true(qo[0] < pt && pt < qo[1]);
	/* categorical-only group: its own history */
	assert_int_equal(ah_cond_predict(m, "kind=web", NULL, 0, &pt, NULL, &inf), 0);
	assert_int_equal(inf.source, AH_COND_GROUP);
	assert_true(pt >= 120 && pt <= 130);
	/* unseen parameters: the workload's history */
	assert_int_equal(ah_cond_predict(m, "kind=batch,rows=5", NULL, 0, &pt, NULL, &inf), 0);
	assert_int_equal(inf.source, AH_COND_WORKLOAD);
	assert_int_equal(inf.n, 450);
	/* bad input */
	assert_int_equal(ah_cond_observe(m, "kind", 1), AH_EINVAL);
	assert_int_equal(ah_cond_observe(m, "=x", 1), AH_EINVAL);
	assert_int_equal(ah_cond_observe(m, "a=1,a=2", 1), AH_EINVAL);
	assert_int_equal(ah_cond_observe(m, "a=1", -1), AH_EINVAL);
	assert_int_equal(ah_cond_observe(m, "a=1", NAN), AH_EINVAL);
	char big[AH_COND_MAX_PARAMS + 10];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	big[1] = '=';
	assert_int_equal(ah_cond_observe(m, big, 1), AH_ETOOBIG);
	ah_cond_free(m);
	assert_int_equal(ah_cond_new(NULL, &m), 0);
	assert_int_equal(ah_cond_predict(m, "a=b", NULL, 0, &pt, NULL, NULL), AH_ENOENT);
	ah_cond_opts co = {.max_groups = 2};
	ah_cond_free(m);
	assert_int_equal(ah_cond_new(&co, &m), 0);
	assert_int_equal(ah_cond_observe(m, "a=x", 1), 0);
	assert_int_equal(ah_cond_observe(m, "a=y", 1), 0);
	assert_int_equal(ah_cond_observe(m, "a=z", 1), AH_ETOOBIG);
	ah_cond_free(m);
	ah_cond_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constant_series_zero_width),
		cmocka_unit_test(test_seasonal_series_picks_seasonal_model),
		cmocka_unit_test(test_linear_trend),
		cmocka_unit_test(test_conformal_coverage_iid),
		cmocka_unit_test(test_every_candidate_online),
		cmocka_unit_test(test_forecaster_bad_args),
		cmocka_unit_test(test_conditioned_loglinear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
