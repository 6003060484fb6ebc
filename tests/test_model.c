/* Tests for the forecasting models on synthetic series with known answers. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ahead/error.h"
#include "ahead/model.h"

#define PI 3.14159265358979323846

static double seasonal(size_t t)
{
	return 10 + 5 * sin(2 * PI * (double)t / 24) + 2 * cos(2 * PI * (double)t / 8);
}

static void test_snaive_exact_on_pure_season(void **st)
{
	(void)st;
	ah_model *m = ah_model_snaive_new(24);
	assert_non_null(m);
	for (size_t t = 0; t < 240; t++)
		ah_model_update(m, seasonal(t));
	double p[48];
	assert_int_equal(ah_model_forecast(m, 48, NULL, 0, p, NULL), 0);
	for (size_t h = 0; h < 48; h++)
		assert_true(fabs(p[h] - seasonal(240 + h)) < 1e-9);
	assert_string_equal(ah_model_name(m), "seasonal-naive");
	double q = 1.5, qo[1];
	assert_int_equal(ah_model_forecast(m, 1, &q, 1, p, qo), AH_EINVAL);
	assert_int_equal(ah_model_forecast(m, 0, NULL, 0, p, NULL), AH_EINVAL);
	ah_model_free(m);
	ah_model_free(NULL);
	assert_null(ah_model_snaive_new(0));
}

static void test_hw_fit_predicts_season(void **st)
{
	(void)st;
	double y[480];
	for (size_t t = 0; t < 480; t++)
		y[t] = seasonal(t) + 0.01 * (double)t; /* season + slow trend */
	ah_hw_params p = {.period = 24, .alpha = 0.3, .beta = 0.1, .gamma = 0.1, .phi = 1, .trend = true,
			  .seasonal = true};
	double sse;
	assert_int_equal(ah_hw_fit(y, 480, false, &p, &sse), 0);
	assert_true(sse < 1e-3);
	ah_model *m = ah_model_hw_new(&p, NULL);
	assert_non_null(m);
	for (size_t t = 0; t < 480; t++)
		ah_model_update(m, y[t]);
	double f[24];
	assert_int_equal(ah_model_forecast(m, 24, NULL, 0, f, NULL), 0);
	for (size_t h = 0; h < 24; h++)
		assert_true(fabs(f[h] - (seasonal(480 + h) + 0.01 * (double)(480 + h))) < 0.05);
	ah_model_free(m);
}

static void test_linear_trend_extrapolated(void **st)
{
	(void)st;
	double y[200];
	for (size_t t = 0; t < 200; t++)
		y[t] = 3 + 2 * (double)t;
	ah_hw_params p = {.period = 1, .alpha = 0.5, .beta = 0.1, .phi = 1, .trend = true};
	assert_int_equal(ah_hw_fit(y, 200, false, &p, NULL), 0);
	ah_model *m = ah_model_hw_new(&p, "holt");
	for (size_t t = 0; t < 200; t++)
		ah_model_update(m, y[t]);
	double f[10];
	ah_model_forecast(m, 10, NULL, 0, f, NULL);
	for (size_t h = 0; h < 10; h++) {
		if (fabs(f[h] - (3 + 2 * (double)(200 + h))) > 1e-6)
			print_message("h %zu f %.9g\n", h, f[h]);
		assert_true(fabs(f[h] - (3 + 2 * (double)(200 + h))) < 1e-6);
	}
	assert_string_equal(ah_model_name(m), "holt");
	ah_model_free(m);
	/* the fixed-parameter EW level+trend baseline gets there too */
	m = ah_model_ewma_new(0.5, 0.3);
	for (size_t t = 0; t < 200; t++)
		ah_model_update(m, y[t]);
	ah_model_forecast(m, 1, NULL, 0, f, NULL);
	assert_true(fabs(f[0] - 403) < 1e-3);
	ah_model_free(m);
}

static void test_missing_values_advance_state(void **st)
{
	(void)st;
	ah_model *m = ah_model_ewma_new(0.5, 0.3);
	for (size_t t = 0; t < 100; t++)
		ah_model_update(m, t % 10 == 5 ? NAN : 2.0 * (double)t);
	double f[1];
	ah_model_forecast(m, 1, NULL, 0, f, NULL);
	assert_true(fabs(f[0] - 200) < 0.5);
	ah_model_free(m);
}

static void test_constant_gives_zero_width(void **st)
{
	(void)st;
	ah_model *m = ah_model_ewma_new(0.3, 0);
	for (size_t t = 0; t < 50; t++)
		ah_model_update(m, 7);
	double q[2] = {0.05, 0.95}, p[3], qo[6];
	ah_model_forecast(m, 3, q, 2, p, qo);
	for (int i = 0; i < 3; i++) {
		assert_true(fabs(p[i] - 7) < 1e-12);
		assert_true(fabs(qo[i * 2] - qo[i * 2 + 1]) < 1e-12);
	}
	ah_model_free(m);
}

static double quad(const double *x, void *ctx)
{
	(void)ctx;
	return (x[0] - 1) * (x[0] - 1) + 10 * (x[1] + 2) * (x[1] + 2) + 3;
}

static double rosen(const double *x, void *ctx)
{
	(void)ctx;
	return 100 * pow(x[1] - x[0] * x[0], 2) + pow(1 - x[0], 2);
}

static void test_nelder_mead(void **st)
{
	(void)st;
	double x[2] = {5, 5}, f;
	ah_nm_minimize(quad, NULL, x, 2, 1, 1000, 1e-14, &f);
	assert_true(fabs(x[0] - 1) < 1e-4);
	assert_true(fabs(x[1] + 2) < 1e-4);
	assert_true(fabs(f - 3) < 1e-8);
	double r[2] = {-1.2, 1};
	ah_nm_minimize(rosen, NULL, r, 2, 0.5, 5000, 1e-16, &f);
	assert_true(fabs(r[0] - 1) < 1e-3 && fabs(r[1] - 1) < 2e-3);
	assert_int_equal(ah_nm_minimize(quad, NULL, x, 0, 1, 10, 1e-9, NULL), 0);
}

static void test_vpa_percentiles_by_hand(void **st)
{
	(void)st;
	/* ratio 2, first 1: buckets start at 0, 1, 3, 7, 15, 31, ... */
	ah_vpa_hist *h = ah_vpa_new(1, 100, 2, 1e12);
	assert_non_null(h);
	assert_true(fabs(ah_vpa_bucket_start(h, 3) - 7) < 1e-12);
	assert_true(ah_vpa_percentile(h, 0.5) == 0); /* empty */
	ah_vpa_add(h, 0.5, 1); /* bucket 0 */
	ah_vpa_add(h, 2, 1);   /* bucket 1 */
	ah_vpa_add(h, 5, 1);   /* bucket 2 */
	ah_vpa_add(h, 10, 1);  /* bucket 3 */
	assert_true(fabs(ah_vpa_percentile(h, 0.1) - 1) < 1e-6);  /* end of bucket 0 */
	assert_true(fabs(ah_vpa_percentile(h, 0.4) - 3) < 1e-6);  /* end of bucket 1 */
	assert_true(fabs(ah_vpa_percentile(h, 0.9) - 15) < 1e-6); /* end of bucket 3 */
	ah_vpa_free(h);
	/* half-life of one sample: weights 1 then 2 */
	h = ah_vpa_new(1, 100, 2, 1);
	ah_vpa_add(h, 0.5, 1);
	ah_vpa_add(h, 10, 1);
	assert_true(fabs(ah_vpa_percentile(h, 0.3) - 1) < 1e-9);  /* 0.9 of 3 <= 1 */
	assert_true(fabs(ah_vpa_percentile(h, 0.4) - 15) < 1e-9); /* 1.2 of 3 > 1 */
	ah_vpa_free(h);
	/* VPA's 5% buckets: the 90th percentile of 1..100 lands within 5% above 90 */
	h = ah_vpa_new(0.01, 1000, 1.05, 1e12);
	for (int i = 1; i <= 100; i++)
		ah_vpa_add(h, i, 1);
	double p90 = ah_vpa_percentile(h, 0.9);
	assert_true(p90 >= 90 && p90 <= 90 * 1.05 + 0.01);
	ah_vpa_free(h);
	assert_null(ah_vpa_new(0, 10, 1.05, 1));
	assert_null(ah_vpa_new(1, 1e300, 1.05, 1)); /* bucket cap */
	ah_model *m = ah_model_vpa_new(0.01, 1000, 1e9);
	for (int i = 0; i < 1000; i++)
		ah_model_update(m, 1 + i % 100);
	double q = 0.99, p, qo;
	ah_model_forecast(m, 1, &q, 1, &p, &qo);
	assert_true(p > 45 && p < 56);
	assert_true(qo >= 99 && qo < 106);
	ah_model_free(m);
}

static void test_season_detect(void **st)
{
	(void)st;
	double y[2000];
	uint64_t s = 42;
	for (size_t t = 0; t < 2000; t++) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		double u = (double)(s >> 11) / 9007199254740992.0 - 0.5;
		y[t] = 10 * sin(2 * PI * (double)t / 24) + u;
	}
	assert_int_equal(ah_season_detect(y, 2000, 500), 24);
	for (size_t t = 0; t < 2000; t++) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		y[t] = (double)(s >> 11) / 9007199254740992.0;
	}
	assert_int_equal(ah_season_detect(y, 2000, 500), 0);
	assert_int_equal(ah_season_detect(y, 5, 500), 0);
}

static void test_norm_quantile(void **st)
{
	(void)st;
	assert_true(fabs(ah_norm_quantile(0.975) - 1.959963985) < 1e-6);
	assert_true(fabs(ah_norm_quantile(0.5)) < 1e-12);
	assert_true(fabs(ah_norm_quantile(0.01) + 2.326347874) < 1e-6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snaive_exact_on_pure_season),
		cmocka_unit_test(test_hw_fit_predicts_season),
		cmocka_unit_test(test_linear_trend_extrapolated),
		cmocka_unit_test(test_missing_values_advance_state),
		cmocka_unit_test(test_constant_gives_zero_width),
		cmocka_unit_test(test_nelder_mead),
		cmocka_unit_test(test_vpa_percentiles_by_hand),
		cmocka_unit_test(test_season_detect),
		cmocka_unit_test(test_norm_quantile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
