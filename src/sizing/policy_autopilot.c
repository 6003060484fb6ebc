/* autopilot: the moving-window recommenders of Google's Autopilot
 * (Rzadca et al., "Autopilot: workload autoscaling at Google", EuroSys 2020,
 * section 3.2), as we read the paper:
 *  - cpu: every sample goes into a histogram whose weights decay
 *    exponentially with the sample's age, w = 2^(-age / half-life), cpu
 *    half-life 12 h, and are *load-adjusted*: the paper's h[t][k] weighs
 *    bucket k by its value b[k] as well as by its sample count, so the
 *    percentile is one of usage (core-seconds), not of time — a sample
 *    weighs w x its own value here (within one 5% bucket of b[k]); the limit
 *    is a high percentile of that histogram (p95 by default, the paper's
 *    S_p95 for serving jobs), plus an optional margin (0 by default);
 *  - memory: the limit is the maximum of the recent peaks (S_max), peaks
 *    taken per hour over the last 48 h (the paper's memory half-life).
 * The paper's histograms are per-window distributions of 1 s samples; a
 * trace gives one sample per interval, so each interval adds one sample.
 * We reuse VPA's exponential buckets (5% growth from 0.01 core), so the
 * limit is a bucket end (at most 5% above the sample). Limits apply every
 * interval: Borg resizes limits in place, and enforces them: on an
 * incompressible dimension the reservation is also the hard limit. Any
 * dimension runs as cpu (compressible) or memory (incompressible) does,
 * with its own histogram range (ah_sizing_dim). Before any sample: the
 * request. */
#include <math.h>
#include <string.h>

#include "sizing/sizing_int.h"

#define HOUR 3600
#define MAX_HOURS 512

typedef struct {
	bool peaks; /* incompressible */
	double unit;
	double pct, margin;
	int64_t res;
	/* cpu */
	ah_hist_opts opts;
	ah_dhist h;
	/* memory: hourly peaks ring */
	int nhours;
	int64_t cur_hour; /* hour index of slot `head` */
	int head, have;
	int64_t peak[MAX_HOURS];
} ap_state;

static void ap_init(void *s, const ah_sizing_params *p, int dim, int64_t requested)
{
	ap_state *st = s;
	memset(st, 0, sizeof(*st));
	const ah_sizing_dim *d = &p->dim[dim];
	st->peaks = d->incompressible;
	st->unit = d->hist_unit > 0 ? d->hist_unit : 1.0;
	st->pct = p->autopilot_pct;
	st->margin = p->autopilot_margin;
	st->res = requested > 0 ? requested : 0;
	if (ah_hist_opts_init(&st->opts, d->hist_max, d->hist_first, 1.05, 1e-6))
		ah_hist_opts_init(&st->opts, 1e6, 1.0, 1.05, 1e-6); /* a bad range: plain units */
	ah_dhist_init(&st->h, &st->opts, p->autopilot_half_life_s);
	int64_t nh = p->autopilot_peak_window_s / HOUR;
	st->nhours = nh < 1 ? 1 : nh > MAX_HOURS ? MAX_HOURS : (int)nh;
}

static int64_t ap_reserve(void *s, int64_t t, int64_t requested)
{
	(void)t;
	(void)requested;
	return ((ap_state *)s)->res;
}

static void ap_observe(void *s, int64_t t, int64_t used, int64_t reserved, int64_t requested)
{
	(void)reserved;
	(void)requested;
	ap_state *st = s;
	if (!st->peaks) {
		double v = (double)used / st->unit;
		ah_dhist_add(&st->h, v, v, t); /* load-adjusted: weight = usage */
		st->res = (int64_t)ceil(ah_dhist_percentile(&st->h, st->pct) * st->unit * (1.0 + st->margin) - 1e-9);
		return;
	}
	int64_t hour = t / HOUR;
	if (!st->have) {
		st->have = 1;
		st->cur_hour = hour;
		st->head = 0;
	} else if (hour > st->cur_hour) {
		int64_t adv = hour - st->cur_hour;
		if (adv > st->nhours)
			adv = st->nhours;
		for (int64_t k = 0; k < adv; k++) {
			st->head = (st->head + 1) % st->nhours;
			st->peak[st->head] = 0;
		}
		st->cur_hour = hour;
	}
	if (used > st->peak[st->head])
		st->peak[st->head] = used;
	int64_t m = 0;
	for (int k = 0; k < st->nhours; k++)
		if (st->peak[k] > m)
			m = st->peak[k];
	st->res = (int64_t)ceil((double)m * (1.0 + st->margin) - 1e-9);
}

const ah_sizing_ops ah_sizing_autopilot_ops = {
	.name = "autopilot",
	.state_size = sizeof(ap_state),
	.limits_incompressible = true,
	.init = ap_init,
	.reserve = ap_reserve,
	.observe = ap_observe,
};
