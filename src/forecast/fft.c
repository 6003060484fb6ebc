/* ahead: radix-2 decimation-in-time FFT (see fft.h).
 *
 * The twiddle factors of a stage come from the recurrence w(k+1) = w(k) *
 * w(1) with w(1) = (cos, sin)(+-2 pi / len), the textbook loop's values
 * (which restarted it in every block); computing them was a latency-bound
 * chain as long as the transform, so they are computed once per size and
 * direction and kept. Every butterfly then does the textbook operations. */
#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "fft.h"

#define TW_MAX 64 /* sizes x directions ever kept (powers of two: a few) */

static ah_fft_twiddles tw_cache[TW_MAX];
static size_t tw_count;
static atomic_flag tw_lock = ATOMIC_FLAG_INIT;

static void lock(void)
{
	while (atomic_flag_test_and_set_explicit(&tw_lock, memory_order_acquire))
		sched_yield(); /* the holder may have been preempted: let it finish */
}

static void unlock(void)
{
	atomic_flag_clear_explicit(&tw_lock, memory_order_release);
}

static const ah_fft_twiddles *find(size_t n, bool inverse)
{
	for (size_t i = 0; i < tw_count; i++)
		if (tw_cache[i].n == n && tw_cache[i].inverse == inverse)
			return &tw_cache[i];
	return NULL;
}

static bool build(ah_fft_twiddles *t, size_t n, bool inverse)
{
	t->n = n;
	t->inverse = inverse;
	t->re = malloc(n * sizeof(double));
	t->im = malloc(n * sizeof(double));
	if (!t->re || !t->im) {
		free(t->re);
		free(t->im);
		return false;
	}
	for (size_t len = 2; len <= n; len <<= 1) {
		double ang = 2 * 3.14159265358979323846 / (double)len * (inverse ? 1 : -1);
		double wr = cos(ang), wi = sin(ang);
		double *twr = t->re + len / 2 - 1, *twi = t->im + len / 2 - 1;
		double cr = 1, ci = 0;
		for (size_t k = 0; k < len / 2; k++) {
			twr[k] = cr;
			twi[k] = ci;
			double x = cr * wr - ci * wi;
			ci = cr * wi + ci * wr;
			cr = x;
		}
	}
	return true;
}

const ah_fft_twiddles *ah_fft_twiddles_get(size_t n, bool inverse)
{
	lock();
	const ah_fft_twiddles *t = find(n, inverse);
	unlock();
	if (t)
		return t;
	ah_fft_twiddles mine;
	if (!build(&mine, n, inverse))
		return NULL;
	lock();
	t = find(n, inverse); /* another thread may have built it meanwhile */
	if (!t && tw_count < TW_MAX) {
		tw_cache[tw_count] = mine;
		t = &tw_cache[tw_count++];
		mine.re = mine.im = NULL;
	}
	unlock();
	free(mine.re);
	free(mine.im);
	return t;
}

size_t ah_fft_rev_next(size_t j, size_t n)
{
	size_t bit = n >> 1;
	for (; j & bit; bit >>= 1)
		j ^= bit;
	return j ^ bit;
}

/* One block of a stage: the halves a and b (disjoint, so the loop runs two
 * lanes at a time) combined with the twiddles w. */
static void butterflies(double *restrict ra, double *restrict ia, double *restrict rb, double *restrict ib,
			const double *restrict wr, const double *restrict wi, size_t half)
{
	for (size_t k = 0; k < half; k++) {
		double xr = rb[k] * wr[k] - ib[k] * wi[k], xi = rb[k] * wi[k] + ib[k] * wr[k];
		rb[k] = ra[k] - xr;
		ib[k] = ia[k] - xi;
		ra[k] += xr;
		ia[k] += xi;
	}
}

void ah_fft_reversed(double *re, double *im, const ah_fft_twiddles *tw)
{
	size_t n = tw->n;
	for (size_t len = 2; len <= n; len <<= 1) {
		size_t half = len / 2;
		const double *twr = tw->re + half - 1, *twi = tw->im + half - 1;
		for (size_t i = 0; i < n; i += len)
			butterflies(re + i, im + i, re + i + half, im + i + half, twr, twi, half);
	}
}
