/* The offline oracle: against brute force over every placement of change
 * points on small random series, against a plain (unpruned) DP on
 * day-long ones, its plans checked for feasibility, and hand-computed
 * cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ahead/error.h"
#include "ahead/oracle.h"

static uint64_t rng = 88172645463325252ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void random_series(int64_t *u, size_t n, int64_t range)
{
	for (size_t t = 0; t < n; t++)
		u[t] = (int64_t)(next_rand() % (uint64_t)range);
}

/* Least idle for every number of changes 0..n-1, by trying every set of
 * change positions (bit b: a change before interval b + 1). */
static void brute(const int64_t *u, size_t n, int64_t *best)
{
	for (size_t k = 0; k < n; k++)
		best[k] = INT64_MAX;
	for (uint32_t mask = 0; mask < (1u << (n - 1)); mask++) {
		int64_t cost = 0;
		size_t start = 0;
		for (size_t t = 1; t <= n; t++) {
			if (t < n && !(mask & (1u << (t - 1))))
				continue;
			int64_t m = 0;
			for (size_t s = start; s < t; s++)
				m = u[s] > m ? u[s] : m;
			for (size_t s = start; s < t; s++)
				cost += m - u[s];
			start = t;
		}
		size_t k = (size_t)__builtin_popcount(mask);
		for (size_t kk = k; kk < n; kk++)
			if (cost < best[kk])
				best[kk] = cost;
	}
}

/* The textbook DP, one budget after another, every segment tried. */
static int64_t plain_dp(const int64_t *u, size_t n, size_t k)
{
	int64_t *prev = malloc((n + 1) * sizeof(*prev)), *cur = malloc((n + 1) * sizeof(*cur));
	assert_non_null(prev);
	assert_non_null(cur);
	for (size_t j = 0; j <= n; j++) {
		int64_t m = 0, s = 0;
		for (size_t t = 0; t < j; t++) {
			m = u[t] > m ? u[t] : m;
			s += u[t];
		}
		prev[j] = (int64_t)j * m - s;
	}
	for (size_t kk = 1; kk <= k; kk++) {
		cur[0] = 0;
		for (size_t j = 1; j <= n; j++) {
			int64_t best = INT64_MAX, m = 0, s = 0;
			for (size_t i = j; i-- > 0;) {
				m = u[i] > m ? u[i] : m;
				s += u[i];
				int64_t c = prev[i] + (int64_t)(j - i) * m - s;
				best = c < best ? c : best;
			}
			cur[j] = best;
		}
		int64_t *x = prev;
		prev = cur;
		cur = x;
	}
	int64_t r = prev[n];
	free(prev);
	free(cur);
	return r;
}

/* A plan covers every interval, changes at most k times, and its idle
 * is the slack returned. */
static void check_plan(const int64_t *u, size_t n, int k, int64_t want)
{
	int64_t *lv = malloc((n ? n : 1) * sizeof(*lv));
	assert_non_null(lv);
	int64_t slack = -1;
	assert_int_equal(ah_oracle_plan(u, n, k, lv, &slack), 0);
	assert_int_equal(slack, want);
	int64_t idle = 0;
	int changes = 0;
	for (size_t t = 0; t < n; t++) {
		assert_true(lv[t] >= u[t]);
		idle += lv[t] - u[t];
		if (t && lv[t] != lv[t - 1])
			changes++;
	}
	assert_true(changes <= k);
	assert_int_equal(idle, want);
	free(lv);
}

static void test_brute_force(void **s)
{
	(void)s;
	int64_t u[11], best[11], curve[13];
	for (int rep = 0; rep < 400; rep++) {
		size_t n = 1 + next_rand() % 11;
		/* small ranges make ties, large ones make every value distinct */
		random_series(u, n, rep % 2 ? 4 : 1000000);
		brute(u, n, best);
		assert_int_equal(ah_oracle_slack_curve(u, n, (int)n + 1, curve), 0);
		for (size_t k = 0; k < n; k++) {
			assert_int_equal(curve[k], best[k]);
			check_plan(u, n, (int)k, best[k]);
		}
		assert_int_equal(curve[n], 0);
		assert_int_equal(curve[n + 1], 0);
	}
}

/* Day-long series (288 five-minute samples): the pruning changes nothing. */
static void test_day_against_plain_dp(void **s)
{
	(void)s;
	enum { N = 288 };
	int64_t u[N], curve[41];
	for (int rep = 0; rep < 6; rep++) {
		random_series(u, N, rep % 3 == 0 ? 5 : 1 << 20);
		if (rep % 3 == 2) /* a slow trend with bursts, like a VM's cpu */
			for (size_t t = 0; t < N; t++)
				u[t] = (int64_t)(t * 100) + (u[t] % 7 == 0 ? u[t] : u[t] % 1000);
		assert_int_equal(ah_oracle_slack_curve(u, N, 40, curve), 0);
		for (size_t k = 0; k <= 40; k += 1 + (size_t)rep)
			assert_int_equal(curve[k], plain_dp(u, N, k));
		for (size_t k = 1; k <= 40; k++)
			assert_true(curve[k] <= curve[k - 1]);
		check_plan(u, N, 17, curve[17]);
	}
}

static void test_hand_cases(void **s)
{
	(void)s;
	int64_t c[4];
	/* k = 0: the day's max all day */
	const int64_t a[] = {1, 4, 2, 3};
	assert_int_equal(ah_oracle_slack_curve(a, 4, 0, c), 0);
	assert_int_equal(c[0], 3 + 0 + 2 + 1);
	int64_t lv[6];
	int64_t sl;
	assert_int_equal(ah_oracle_plan(a, 4, 0, lv, &sl), 0);
	for (int t = 0; t < 4; t++)
		assert_int_equal(lv[t], 4);
	/* k large: the series itself, no slack */
	assert_int_equal(ah_oracle_plan(a, 4, 100, lv, &sl), 0);
	assert_int_equal(sl, 0);
	assert_memory_equal(lv, a, sizeof(a));
	/* ties: a dip between two equal highs needs two changes, one is
	 * worth nothing */
	const int64_t b[] = {3, 3, 1, 1, 3, 3};
	assert_int_equal(ah_oracle_slack_curve(b, 6, 3, c), 0);
	assert_int_equal(c[0], 4);
	assert_int_equal(c[1], 4);
	assert_int_equal(c[2], 0);
	assert_int_equal(c[3], 0);
	/* one change, right after the peak */
	const int64_t d[] = {5, 1, 1, 1};
	assert_int_equal(ah_oracle_slack_curve(d, 4, 1, c), 0);
	assert_int_equal(c[0], 12);
	assert_int_equal(c[1], 0);
	/* two peaks, one change: keep the higher level over the lower peak */
	const int64_t e[] = {2, 0, 0, 6, 0, 0};
	assert_int_equal(ah_oracle_plan(e, 6, 1, lv, &sl), 0);
	assert_int_equal(sl, 2 + 2 + 6 + 6); /* 2 2 2 | 6 6 6, or 6 6 6 6 | 0 0 */
	/* constant: nothing to gain from changes */
	const int64_t f[] = {7, 7, 7};
	assert_int_equal(ah_oracle_slack_curve(f, 3, 2, c), 0);
	assert_int_equal(c[0], 0);
	assert_int_equal(c[2], 0);
	/* empty */
	assert_int_equal(ah_oracle_slack_curve(NULL, 0, 1, c), 0);
	assert_int_equal(c[0], 0);
	assert_int_equal(c[1], 0);
}

static void test_errors(void **s)
{
	(void)s;
	int64_t c[2] = {-7, -7}, sl = -7;
	const int64_t neg[] = {1, -1};
	assert_int_equal(ah_oracle_slack_curve(neg, 2, 1, c), AH_EINVAL);
	assert_int_equal(ah_oracle_plan(neg, 2, 1, NULL, &sl), AH_EINVAL);
	const int64_t ok[] = {1, 2};
	assert_int_equal(ah_oracle_slack_curve(ok, 2, -1, c), AH_EINVAL);
	assert_int_equal(ah_oracle_slack_curve(NULL, 2, 1, c), AH_EINVAL);
	assert_int_equal(ah_oracle_slack_curve(ok, 2, 1, NULL), AH_EINVAL);
	assert_int_equal(ah_oracle_plan(ok, 2, 1, NULL, NULL), AH_EINVAL);
	const int64_t big[] = {INT64_MAX / 2, 0, 1};
	assert_int_equal(ah_oracle_slack_curve(big, 3, 1, c), AH_ERANGE);
	assert_int_equal(ah_oracle_plan(big, 3, 1, NULL, &sl), AH_ERANGE);
	/* outputs untouched on failure */
	assert_int_equal(c[0], -7);
	assert_int_equal(sl, -7);
	/* the table cap: n * (k + 1) cells */
	size_t n = 1 << 13;
	int64_t *u = malloc(n * sizeof(*u));
	assert_non_null(u);
	for (size_t t = 0; t < n; t++)
		u[t] = (int64_t)(t % 2);
	assert_int_equal(ah_oracle_plan(u, n, 1 << 12, NULL, &sl), AH_ETOOBIG);
	free(u);
	assert_int_equal(sl, -7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_brute_force),
		cmocka_unit_test(test_day_against_plain_dp),
		cmocka_unit_test(test_hand_cases),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
