/* ahead: season lengths from the calendar, refined by autocorrelation.
 *
 * Why the calendar first: on real daily series the autocorrelation's highest
 * local peak wanders with the noise (227, 260, 277, 285 steps were found on
 * 5-minute series whose day is 288), and a Holt-Winters fit on a wrong
 * period ends at its parameter limits. Workloads follow clocks, so the
 * candidates are the hour, the day and the week at the series' step; the
 * autocorrelation only confirms a candidate (a real oscillation: high at the
 * lag, clearly lower half a period before) and may move it a little when a
 * neighbouring lag is clearly better (a step that is not exactly what the
 * caller said). Only when no calendar period holds (or the step is unknown)
 * does the free search over all lags decide.
 *
 * The autocorrelation is computed for every lag at once by FFT (fft.c)
 * (O(N log N), not O(N * max_lag): thousands of series are fitted per
 * daemon), on the linearly detrended series (a trend alone makes every lag
 * look correlated), with missing values as zeros and each lag normalised by
 * its own count of valid pairs (so long lags such as the week, with fewer
 * pairs, compare fairly with short ones). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/model.h"
#include "block_pool.h"
#include "fft.h"

#define SEASON_MAX_N 16384 /* the most recent points looked at (>= 3 weeks at 5 min) */
#define ACF_MIN 0.2        /* a season's autocorrelation at its lag */
#define ACF_CONTRAST 0.1   /* ... above the lowest value between a quarter and 3/4 of the lag */
#define WEEK_GAIN 0.05     /* the week must correlate this much better than the day */

/* acf[0..L] of y[0..n) (detrended, missing as 0, per-lag pair counts). */
static int acf_all(const double *y, size_t n, size_t L, double *acf)
{
	/* lags 0..L only: zero padding to n + L keeps them free of the
	 * transform's wrap-around (a lag l pair wraps only when l > N - n) */
	size_t N = 1;
	while (N < n + L + 1)
		N <<= 1;
	const ah_fft_twiddles *fwd = ah_fft_twiddles_get(N, false), *inv = ah_fft_twiddles_get(N, true);
	/* one block: the transform (re, im), the spectra (pr, pi) */
	size_t bytes = 4 * N * sizeof(double);
	double *re = fwd && inv ? ah_fc_block_get(bytes) : NULL;
	if (!re)
		return AH_ENOMEM;
	double *im = re + N, *pr = re + 2 * N, *pi = re + 3 * N;
	memset(re, 0, N * sizeof(double)); /* the zero padding */
	memset(im, 0, N * sizeof(double));
	/* least-squares line through the valid points */
	double st = 0, sy = 0, stt = 0, sty = 0, c = 0;
	for (size_t i = 0; i < n; i++)
		if (!isnan(y[i])) {
			double t = (double)i;
			st += t;
			sy += y[i];
			stt += t * t;
			sty += t * y[i];
			c++;
		}
	double den = c * stt - st * st;
	double b = den > 0 ? (c * sty - st * sy) / den : 0, a = c > 0 ? (sy - b * st) / c : 0;
	/* real part: the detrended values; imaginary part: the validity mask.
	 * |X|^2 of z + i*m mixes them, so two transforms are taken separately
	 * through the symmetry X(k), conj X(N-k). */
	for (size_t i = 0, r = 0; i < n; i++, r = ah_fft_rev_next(r, N)) {
		bool ok = !isnan(y[i]);
		re[r] = ok ? y[i] - (a + b * (double)i) : 0;
		im[r] = ok ? 1 : 0;
	}
	ah_fft_reversed(re, im, fwd);
	/* Z(k) = (X(k) + conj X(N-k)) / 2, M(k) = (X(k) - conj X(N-k)) / (2i);
	 * the power spectra |Z|^2 and |M|^2 go back through one inverse FFT as
	 * real + i*imag (both inverses are real). */
	for (size_t k = 0, r = 0; k < N; k++, r = ah_fft_rev_next(r, N)) {
		size_t j = (N - k) & (N - 1);
		double zr = 0.5 * (re[k] + re[j]), zi = 0.5 * (im[k] - im[j]);
		double mr = 0.5 * (im[k] + im[j]), mi = -0.5 * (re[k] - re[j]);
		pr[r] = zr * zr + zi * zi;
		pi[r] = mr * mr + mi * mi;
	}
	ah_fft_reversed(pr, pi, inv);
	double v0 = pr[0] / (double)N, c0 = pi[0] / (double)N;
	for (size_t l = 0; l <= L; l++) {
		double s = pr[l] / (double)N, cnt = pi[l] / (double)N;
		/* a lag with few valid pairs says little: shrink it towards 0 */
		acf[l] = v0 > 0 && cnt >= 8 ? (s / cnt) / (v0 / c0) * (cnt / (cnt + 32)) : 0;
	}
	ah_fc_block_put(re, bytes);
	return 0;
}

/* Lowest acf over [l/4, 3l/4]: an oscillation of period l dips there. */
static double trough(const double *acf, size_t l)
{
	double m = INFINITY;
	for (size_t k = l / 4 ? l / 4 : 1; k <= 3 * l / 4 && k < l; k++)
		if (acf[k] < m)
			m = acf[k];
	return isfinite(m) ? m : acf[l];
}

static bool holds(const double *acf, size_t l)
{
	return l >= 2 && acf[l] >= ACF_MIN && acf[l] - trough(acf, l) >= ACF_CONTRAST;
}

/* A calendar candidate l, moved to a neighbour (within 2%) only when that
 * neighbour's autocorrelation is clearly higher. 0 if it does not hold. */
static size_t refine(const double *acf, size_t l, size_t L)
{
	if (l < 4 || l > L)
		return 0;
	size_t d = l / 50 ? l / 50 : 1, best = l;
	for (size_t k = l - d; k <= l + d && k <= L; k++)
		if (acf[k] > acf[best])
			best = k;
	if (acf[best] < acf[l] + 0.03)
		best = l;
	return holds(acf, best) ? best : 0;
}

/* The free search: the first clear local peak, a later one only when
 * clearly better (else it is a multiple). */
static size_t free_peak(const double *acf, size_t L)
{
	size_t best = 0;
	double best_score = 0, tr = acf[1];
	for (size_t l = 2; l < L; l++) {
		if (acf[l] < tr)
			tr = acf[l];
		if (acf[l] >= 0.25 && acf[l] >= acf[l - 1] && acf[l] >= acf[l + 1] && acf[l] - tr >= ACF_CONTRAST) {
			double score = acf[l] - tr;
			if (!best || score > best_score * 1.1) {
				best = l;
				best_score = score;
			}
		}
	}
	return best;
}

static size_t calendar_lag(double unit_s, double step_s)
{
	double l = unit_s / step_s;
	double r = floor(l + 0.5);
	return r >= 2 && fabs(r - l) <= 0.01 * l ? (size_t)r : 0;
}

int ah_seasons_find(const double *y, size_t n, double step_s, size_t max_lag, ah_seasons *out)
{
	if (!y || !out || !(step_s >= 0) || !isfinite(step_s))
		return AH_EINVAL;
	ah_seasons r;
	memset(&r, 0, sizeof(r));
	if (n > SEASON_MAX_N) {
		y += n - SEASON_MAX_N;
		n = SEASON_MAX_N;
	}
	size_t L = max_lag;
	if (L > n / 2)
		L = n / 2; /* at least two cycles */
	if (n < 8 || L < 3) {
		*out = r;
		return 0;
	}
	double *acf = malloc((L + 2) * sizeof(double));
	if (!acf)
		return AH_ENOMEM;
	int rc = acf_all(y, n, L + 1, acf);
	if (rc) {
		free(acf);
		return rc;
	}
	size_t hour = 0, day = 0, week = 0;
	if (step_s > 0) {
		size_t lh = calendar_lag(3600, step_s), ld = calendar_lag(86400, step_s),
		       lw = calendar_lag(604800, step_s);
		hour = lh ? refine(acf, lh, L) : 0;
		day = ld ? refine(acf, ld, L) : 0;
		week = lw ? refine(acf, lw, L) : 0;
	} else {
		/* step unknown: the free peak, snapped to the day at a common step
		 * (1 min ... 1 h) when that day is within 5% and correlates as well */
		static const double steps[] = {60, 300, 600, 900, 1800, 3600};
		size_t p = free_peak(acf, L);
		day = p;
		for (size_t i = 0; p && i < sizeof(steps) / sizeof(steps[0]); i++) {
			size_t ld = calendar_lag(86400, steps[i]);
			if (ld <= L && fabs((double)ld - (double)p) <= 0.05 * (double)ld && acf[ld] >= acf[p] - 0.05 &&
			    holds(acf, ld)) {
				day = ld;
				break;
			}
		}
	}
	/* the day first; the week beside it only when it adds (weekdays differ
	 * from weekends), else it is merely a multiple of the day */
	if (day) {
		r.period[r.n] = day;
		r.acf[r.n++] = acf[day];
		if (week && week % day == 0 && acf[week] >= acf[day] + WEEK_GAIN) {
			r.period[r.n] = week;
			r.acf[r.n++] = acf[week];
		}
	} else if (week) {
		r.period[r.n] = week;
		r.acf[r.n++] = acf[week];
	} else if (hour) {
		r.period[r.n] = hour;
		r.acf[r.n++] = acf[hour];
	} else if (step_s > 0) {
		size_t p = free_peak(acf, L);
		if (p) {
			r.period[r.n] = p;
			r.acf[r.n++] = acf[p];
		}
	}
	free(acf);
	*out = r;
	return 0;
}

size_t ah_season_detect(const double *y, size_t n, size_t max_lag)
{
	ah_seasons s;
	if (!y || ah_seasons_find(y, n, 0, max_lag, &s) || !s.n)
		return 0;
	return s.period[0];
}
