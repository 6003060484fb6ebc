/* Tests for calendar seasons (day, day + week), the per-horizon-band model
 * choice and per-horizon interval coverage through a level shift. */
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
#include "ahead/model.h"

#define PI 3.14159265358979323846

static uint64_t rs = 777;
static double unif(void)
{
	rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
	return ((double)(rs >> 11) + 0.5) / 9007199254740992.0;
}
static double gauss(void)
{
	return sqrt(-2 * log(unif())) * cos(2 * PI * unif());
}

/* A 5-minute "cpu" series: busy hours (a bump, not a sine), persistent
 * AR(1) noise and rare spikes: the kind on which the free ACF peak
 * wandered (227..285) instead of 288. */
static void daily_series(double *y, size_t n, double weekend)
{
	double ar = 0;
	for (size_t t = 0; t < n; t++) {
		double hour = (double)(t % 288) / 12.0;
		double busy = exp(-pow((hour - 14) / 3.5, 2)) * 30 + exp(-pow((hour - 3) / 1.0, 2)) * 10;
		size_t day = t / 288 % 7;
		if (day >= 5)
			busy *= weekend;
		ar = 0.9 * ar + 2.5 * gauss();
		y[t] = 20 + busy + ar + (unif() < 0.005 ? 40 * unif() : 0);
	}
}

static void test_daily_season_is_288(void **st)
{
	(void)st;
	size_t n = 2880; /* 10 days */
	double *y = malloc(n * sizeof(double));
	daily_series(y, n, 1.0);
	ah_seasons s;
	assert_int_equal(ah_seasons_find(y, n, 300, 1000, &s), 0);
	print_message("seasons: n %zu, first %zu (acf %.2f)\n", s.n, s.period[0], s.acf[0]);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.period[0], 288);
	/* the forecaster uses it, and Holt-Winters is not pinned at its limits */
	ah_fc_opts o = {.horizon = 48, .step_s = 300};
	ah_forecaster *f;
	assert_int_equal(ah_forecaster_new(&o, y, n, &f), 0);
	ah_fc_choice c;
	assert_int_equal(ah_forecaster_choice(f, &c), 0);
	assert_int_equal(c.season, 288);
	assert_int_equal(c.season2, 0);
	assert_true(c.hw.gamma < 0.9);
	ah_forecaster_free(f);
	/* a step that makes the day 96 (15 minutes): the same series, subsampled */
	size_t n3 = n / 3;
	double *y3 = malloc(n3 * sizeof(double));
	for (size_t i = 0; i < n3; i++)
		y3[i] = y[3 * i];
	assert_int_equal(ah_seasons_find(y3, n3, 900, 1000, &s), 0);
	assert_int_equal(s.period[0], 96);
	/* white noise: no season; too short for a day: none */
	for (size_t t = 0; t < n; t++)
		y[t] = gauss();
	assert_int_equal(ah_seasons_find(y, n, 300, 1000, &s), 0);
	assert_int_equal(s.n, 0);
	daily_series(y, 400, 1.0);
	assert_int_equal(ah_seasons_find(y, 400, 300, 1000, &s), 0);
	assert_true(s.n == 0 || s.period[0] != 288);
	assert_int_equal(ah_seasons_find(NULL, 10, 300, 100, &s), AH_EINVAL);
	assert_int_equal(ah_seasons_find(y, 10, -1, 100, &s), AH_EINVAL);
	free(y);
	free(y3);
}

static void test_daily_and_weekly(void **st)
{
	(void)st;
	size_t n = 5 * 2016; /* five weeks */
	double *y = malloc(n * sizeof(double));
	daily_series(y, n, 0.3); /* quiet weekends */
	ah_seasons s;
	assert_int_equal(ah_seasons_find(y, n, 300, 3000, &s), 0);
	print_message("seasons: n %zu: %zu (%.2f) %zu (%.2f)\n", s.n, s.period[0], s.acf[0], s.period[1], s.acf[1]);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.period[0], 288);
	assert_int_equal(s.period[1], 2016);
	ah_fc_opts o = {.horizon = 48, .step_s = 300};
	ah_forecaster *f;
	assert_int_equal(ah_forecaster_new(&o, y, n, &f), 0);
	ah_fc_choice c;
	ah_forecaster_choice(f, &c);
	assert_int_equal(c.season, 288);
	assert_int_equal(c.season2, 2016);
	bool has_week = false;
	for (size_t i = 0; i < c.ncand; i++)
		has_week |= !strcmp(c.cand[i].name, "holt-winters-week");
	assert_true(has_week);
	ah_forecaster_free(f);
	/* the same without weekends: the week is only a multiple of the day */
	daily_series(y, n, 1.0);
	assert_int_equal(ah_seasons_find(y, n, 300, 3000, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.period[0], 288);
	free(y);
}

/* Out-of-sample MAE at horizons 1 and 48 over the origins n0..n1-48. */
static void mae_1_48(const double *y, size_t n0, size_t n1, const char *model, double *m1, double *m48)
{
	ah_fc_opts o = {.horizon = 48, .step_s = 300, .model = model};
	ah_forecaster *f;
	assert_int_equal(ah_forecaster_new(&o, y, n0, &f), 0);
	double p[48], a1 = 0, a48 = 0;
	size_t k = 0;
	for (size_t t = n0; t + 48 <= n1; t++) {
		assert_int_equal(ah_forecaster_forecast(f, 48, NULL, 0, p, NULL), 0);
		a1 += fabs(y[t] - p[0]);
		a48 += fabs(y[t + 47] - p[47]);
		k++;
		ah_forecaster_update(f, y[t]);
	}
	ah_forecaster_free(f);
	*m1 = a1 / (double)k;
	*m48 = a48 / (double)k;
}

/* The daily "cpu" series: persistent noise makes a level-following model
 * best one step ahead, the daily shape decides 48 steps ahead; the bands
 * must pick different models, and out of sample each band's model must
 * beat the other band's at its own horizon. */
static void test_bands_differ_h1_h48(void **st)
{
	(void)st;
	size_t n0 = 10 * 288, n = 14 * 288;
	double *y = malloc(n * sizeof(double));
	daily_series(y, n, 1.0);
	ah_fc_opts o = {.horizon = 48, .step_s = 300};
	ah_forecaster *f;
	assert_int_equal(ah_forecaster_new(&o, y, n0, &f), 0);
	ah_fc_choice c;
	ah_forecaster_choice(f, &c);
	for (size_t b = 0; b < c.nbands; b++)
		print_message("band %zu-%zu: %s (MASE %.3f)\n", c.band[b].h_lo, c.band[b].h_hi, c.band[b].model,
			      c.band[b].mase);
	ah_forecaster_free(f);
	assert_int_equal(c.nbands, 4);
	assert_int_equal(c.band[0].h_lo, 1);
	assert_int_equal(c.band[0].h_hi, 1);
	assert_int_equal(c.band[1].h_lo, 2);
	assert_int_equal(c.band[1].h_hi, 6);
	assert_int_equal(c.band[3].h_lo, 25);
	assert_int_equal(c.band[3].h_hi, 48);
	assert_string_not_equal(c.band[0].model, c.band[3].model);
	double b1, b48, s1, s48, l1, l48;
	mae_1_48(y, n0, n, NULL, &b1, &b48);
	mae_1_48(y, n0, n, c.band[0].model, &s1, &s48);
	mae_1_48(y, n0, n, c.band[3].model, &l1, &l48);
	print_message("MAE h1/h48: banded %.3f/%.3f, %s %.3f/%.3f, %s %.3f/%.3f\n", b1, b48, c.band[0].model, s1,
		      s48, c.band[3].model, l1, l48);
	assert_true(s1 < l1);   /* the h=1 model is better at h=1 */
	assert_true(l48 < s48); /* the h=48 model is better at h=48 */
	assert_true(b1 <= s1 + 1e-9 && b48 <= l48 + 1e-9); /* and the banded forecaster gets both */
	/* forcing a model puts it in every band */
	o.model = "naive";
	assert_int_equal(ah_forecaster_new(&o, y, n0, &f), 0);
	ah_forecaster_choice(f, &c);
	for (size_t b = 0; b < c.nbands; b++)
		assert_string_equal(c.band[b].model, "naive");
	ah_forecaster_free(f);
	free(y);
}

/* Coverage per horizon of the 80% and 95% intervals, outcomes after the fit,
 * through a level shift that also doubles the noise. */
static void test_coverage_per_horizon_level_shift(void **st)
{
	(void)st;
	size_t n = 2000, m = 8000, H = 12;
	double *y = malloc((n + m) * sizeof(double));
	double ar = 0;
	for (size_t t = 0; t < n + m; t++) {
		bool after = t >= n + 1500;
		ar = 0.5 * ar + (after ? 2.0 : 1.0) * gauss();
		y[t] = (after ? 30 : 10) + 3 * sin(2 * PI * (double)t / 24) + ar;
	}
	ah_fc_opts o = {.horizon = H};
	ah_forecaster *f;
	assert_int_equal(ah_forecaster_new(&o, y, n, &f), 0);
	double q[4] = {0.025, 0.1, 0.9, 0.975}, p[12], qo[48];
	size_t in80[12] = {0}, in95[12] = {0}, tot[12] = {0};
	for (size_t t = n; t < n + m; t++) {
		assert_int_equal(ah_forecaster_forecast(f, H, q, 4, p, qo), 0);
		for (size_t h = 1; h <= H && t + h - 1 < n + m; h++) {
			double v = y[t + h - 1];
			const double *r = qo + (h - 1) * 4;
			in80[h - 1] += v >= r[1] && v <= r[2];
			in95[h - 1] += v >= r[0] && v <= r[3];
			tot[h - 1]++;
		}
		ah_forecaster_update(f, y[t]);
	}
	double worst80 = 0, worst95 = 0;
	for (size_t h = 0; h < H; h++) {
		double c8 = 100.0 * (double)in80[h] / (double)tot[h], c9 = 100.0 * (double)in95[h] / (double)tot[h];
		print_message("h %2zu: cov80 %.1f cov95 %.1f\n", h + 1, c8, c9);
		if (fabs(c8 - 80) > fabs(worst80))
			worst80 = c8 - 80;
		if (fabs(c9 - 95) > fabs(worst95))
			worst95 = c9 - 95;
	}
	print_message("worst: 80 %+.1f, 95 %+.1f\n", worst80, worst95);
	assert_true(fabs(worst80) <= 3);
	assert_true(fabs(worst95) <= 3);
	ah_forecaster_free(f);
	free(y);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_daily_season_is_288),
		cmocka_unit_test(test_daily_and_weekly),
		cmocka_unit_test(test_bands_differ_h1_h48),
		cmocka_unit_test(test_coverage_per_horizon_level_shift),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
