/* ahead: two seasons: Holt-Winters on the daily season, with a weekly
 * profile taken out before and put back after.
 *
 * Why this form and not a second smoothed season (double-seasonal HW) or
 * TBATS: a training part of 2-4 weeks sees each weekly position only 2-4
 * times, too few to fit a second smoothing parameter over 2016 states, and
 * the weekly effect of workloads (weekends quieter) is stable. So the weekly
 * part is estimated as in STL/MSTL, by averaging: the series is detrended,
 * the daily profile removed, the rest averaged per position in the week,
 * smoothed over an hour's worth of steps and centred per position in the day
 * (so it holds only what distinguishes the days of the week, never the daily
 * shape, which Holt-Winters tracks and adapts). It is fixed until the next
 * fit; the daily Holt-Winters runs on y - weekly and adapts online. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/model.h"

typedef struct {
	ah_model base;
	ah_model *inner;
	double *prof;
	size_t week, idx;
} hwweek;

static void hwweek_update(ah_model *m, double y)
{
	hwweek *w = (hwweek *)m;
	double v = isnan(y) ? y : y - w->prof[w->idx];
	ah_model_update(w->inner, v);
	w->base.err_var = w->inner->err_var;
	w->base.nobs = w->inner->nobs;
	w->idx = (w->idx + 1) % w->week;
}

static void hwweek_forecast(const ah_model *m, size_t h, const double *q, size_t nq, double *point,
			    double *qout)
{
	const hwweek *w = (const hwweek *)m;
	ah_model_forecast(w->inner, h, q, nq, point, qout);
	for (size_t i = 0; i < h; i++) {
		double p = w->prof[(w->idx + i) % w->week];
		point[i] += p;
		for (size_t j = 0; j < nq; j++)
			qout[i * nq + j] += p;
	}
}

static void hwweek_free(ah_model *m)
{
	hwweek *w = (hwweek *)m;
	if (!w)
		return;
	ah_model_free(w->inner);
	free(w->prof);
	free(w);
}

static const ah_model_ops hwweek_ops = {"holt-winters-week", hwweek_update, hwweek_forecast, hwweek_free};

int ah_week_profile(const double *y, size_t n, size_t day, size_t week, size_t phase, double *prof)
{
	if (!y || !prof || day < 2 || week < 2 * day || week % day || n < 2 * week)
		return AH_EINVAL;
	int rc = AH_ENOMEM;
	double *dp = calloc(day, sizeof(double)), *cnt = calloc(week, sizeof(double));
	double *raw = calloc(week, sizeof(double));
	size_t *dc = calloc(day, sizeof(size_t));
	if (!dp || !cnt || !raw || !dc)
		goto out;
	/* linear trend, so a drift over the weeks does not become a weekly shape */
	double st = 0, sy = 0, stt = 0, sty = 0, c = 0;
	for (size_t i = 0; i < n; i++)
		if (!isnan(y[i])) {
			st += (double)i;
			sy += y[i];
			stt += (double)i * (double)i;
			sty += (double)i * y[i];
			c++;
		}
	double den = c * stt - st * st;
	double b = den > 0 ? (c * sty - st * sy) / den : 0, a = c > 0 ? (sy - b * st) / c : 0;
	for (size_t i = 0; i < n; i++)
		if (!isnan(y[i])) {
			size_t k = (phase + i) % day;
			dp[k] += y[i] - (a + b * (double)i);
			dc[k]++;
		}
	for (size_t k = 0; k < day; k++)
		dp[k] = dc[k] ? dp[k] / (double)dc[k] : 0;
	for (size_t i = 0; i < n; i++)
		if (!isnan(y[i])) {
			size_t k = (phase + i) % week;
			raw[k] += y[i] - (a + b * (double)i) - dp[(phase + i) % day];
			cnt[k]++;
		}
	for (size_t k = 0; k < week; k++)
		raw[k] = cnt[k] ? raw[k] / cnt[k] : 0;
	/* smooth (centred moving average, circular) over 1/24 of the day */
	size_t hw = day / 48;
	for (size_t k = 0; k < week; k++) {
		double s = 0;
		for (size_t j = 0; j <= 2 * hw; j++)
			s += raw[(k + week + j - hw) % week];
		prof[k] = s / (double)(2 * hw + 1);
	}
	/* centre per position in the day */
	size_t nd = week / day;
	for (size_t k = 0; k < day; k++) {
		double s = 0;
		for (size_t d = 0; d < nd; d++)
			s += prof[k + d * day];
		s /= (double)nd;
		for (size_t d = 0; d < nd; d++)
			prof[k + d * day] -= s;
	}
	rc = 0;
out:
	free(dp);
	free(cnt);
	free(raw);
	free(dc);
	return rc;
}

ah_model *ah_model_hw_week_new(const ah_hw_params *p, size_t week, size_t phase, const double *prof)
{
	if (!p || !prof || week < 2)
		return NULL;
	hwweek *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->base.ops = &hwweek_ops;
	w->week = week;
	w->idx = phase % week;
	w->prof = malloc(week * sizeof(double));
	w->inner = ah_model_hw_new(p, "holt-winters");
	if (!w->prof || !w->inner) {
		hwweek_free(&w->base);
		return NULL;
	}
	memcpy(w->prof, prof, week * sizeof(double));
	return &w->base;
}
