/* Tests for the forecaster's fast paths: each must give exactly what the
 * plain computation gives (the bench's accuracy must not move). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ahead/model.h"
#include "forecast/nm_batch.h"
#include "forecast/sort_doubles.h"

static uint64_t rng = 88172645463325252ULL;
static double rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

/* the reference: insertion sort, plainly stable */
static void ref_sort(double *a, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		double v = a[i];
		size_t j = i;
		for (; j > 0 && a[j - 1] > v; j--)
			a[j] = a[j - 1];
		a[j] = v;
	}
}

static void test_sort_doubles_is_a_stable_sort(void **st)
{
	(void)st;
	double a[700], b[700], tmp[700];
	for (size_t n = 0; n <= 700; n = n < 40 ? n + 1 : n + 97) {
		for (size_t i = 0; i < n; i++) {
			/* few distinct values, with -0 beside +0: order among equals shows */
			double v = floor(rnd() * 9) - 4;
			a[i] = v == 0 && rnd() < 0.5 ? -0.0 : v + (rnd() < 0.3 ? rnd() : 0);
		}
		memcpy(b, a, n * sizeof(double));
		ah_fc_sort_doubles(a, n, tmp);
		ref_sort(b, n);
		assert_memory_equal(a, b, n * sizeof(double));
	}
}

static double bowl(const double *x, void *ctx)
{
	(void)ctx;
	return (x[0] - 1) * (x[0] - 1) + 3 * (x[1] + 2) * (x[1] + 2) + sin(5 * x[0]) * 0.1 + x[2] * x[2];
}

static void bowl_batch(const double *const *x, size_t k, double *out, void *ctx)
{
	for (size_t j = 0; j < k; j++)
		out[j] = bowl(x[j], ctx);
}

static void test_nm_batch_takes_the_sequential_path(void **st)
{
	(void)st;
	for (size_t evals = 5; evals <= 400; evals += 37) {
		double x1[3] = {4, 4, 1}, x2[3] = {4, 4, 1}, f1, f2;
		size_t e1 = ah_nm_minimize(bowl, NULL, x1, 3, 1.5, evals, 1e-9, &f1);
		size_t e2 = ah_nm_minimize_batch(bowl_batch, NULL, x2, 3, 1.5, evals, 1e-9, &f2);
		assert_int_equal(e1, e2);
		assert_memory_equal(x1, x2, sizeof(x1));
		assert_memory_equal(&f1, &f2, sizeof(f1));
	}
}

/* The fit's score is the fitted model's own mean squared one-step error,
 * bit for bit (its kernel replays the model's recursions). */
static void check_fit_score(bool trend, bool seasonal, bool damped, bool gaps)
{
	size_t n = 600, m = 24;
	double *y = malloc(n * sizeof(double));
	assert_non_null(y);
	for (size_t t = 0; t < n; t++)
		y[t] = 50 + 0.05 * (double)t + 8 * sin(6.283185307179586 * (double)t / (double)m) + 3 * rnd();
	if (gaps)
		for (size_t t = 100; t < n; t += 37)
			y[t] = NAN;
	ah_hw_params p = {.period = seasonal ? m : 1, .alpha = 0.3, .beta = trend ? 0.05 : 0, .gamma = 0.1,
			  .phi = 0.95, .trend = trend, .seasonal = seasonal, .init_cycles = seasonal ? 3 : 0};
	double sse;
	assert_int_equal(ah_hw_fit(y, n, damped, &p, &sse), 0);
	ah_model *mod = ah_model_hw_new(&p, NULL);
	assert_non_null(mod);
	size_t need = seasonal ? 3 * m : 2, scored = 0;
	double sum = 0;
	for (size_t t = 0; t < n; t++) {
		if (t >= need && !isnan(y[t])) {
			double f1;
			assert_int_equal(ah_model_forecast(mod, 1, NULL, 0, &f1, NULL), 0);
			double e = y[t] - f1;
			sum += e * e;
			scored++;
		}
		ah_model_update(mod, y[t]);
	}
	double mine = sum / (double)scored;
	assert_memory_equal(&mine, &sse, sizeof(double));
	ah_model_free(mod);
	free(y);
}

static void test_hw_fit_score_is_the_models_error(void **st)
{
	(void)st;
	for (int k = 0; k < 16; k++)
		check_fit_score(k & 1, k & 2, k & 4, k & 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sort_doubles_is_a_stable_sort),
		cmocka_unit_test(test_nm_batch_takes_the_sequential_path),
		cmocka_unit_test(test_hw_fit_score_is_the_models_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
