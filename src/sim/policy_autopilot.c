/* autopilot: the moving-window recommenders of Google's Autopilot
 * (Rzadca et al., "Autopilot: workload autoscaling at Google", EuroSys 2020,
 * section 3.2), as we read the paper:
 *  - cpu: every sample goes into a histogram whose weights decay
 *    exponentially with the sample's age, w = 2^(-age / half-life), cpu
 *    half-life 12 h; the limit is a high percentile of that weighted
 *    histogram (p95 by default, the paper's S_p95 for serving jobs);
 *  - memory: the limit is the maximum of the recent peaks (S_max), peaks
 *    taken per hour over the last 48 h (the paper's memory half-life).
 * The paper's histograms are per-window distributions of 1 s samples; a
 * trace gives one sample per interval, so each interval adds one sample.
 * We reuse VPA's exponential buckets (5% growth from 1 millicore), so the
 * limit is a bucket end (at most 5% above the sample). Limits apply every
 * interval: Borg resizes limits in place. Before any sample: the request. */
#include <math.h>
#include <string.h>

#include "sim/sim.h"

#define HOUR 3600
#define MAX_HOURS 512

typedef struct {
	int dim;
	double pct;
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

static void ap_init(void *s, const ah_replay_params *p, int dim, int64_t requested)
{
	ap_state *st = s;
	memset(st, 0, sizeof(*st));
	st->dim = dim;
	st->pct = p->autopilot_cpu_pct;
	st->res = requested > 0 ? requested : 0;
	ah_hist_opts_init(&st->opts, 1000.0, 0.001, 1.05, 1e-4);
	ah_dhist_init(&st->h, &st->opts, p->autopilot_cpu_half_life_s);
	int64_t nh = p->autopilot_mem_window_s / HOUR;
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
	if (st->dim == AH_DIM_CPU) {
		ah_dhist_add(&st->h, (double)used / 1000.0, 1.0, t);
		st->res = (int64_t)ceil(ah_dhist_percentile(&st->h, st->pct) * 1000.0 - 1e-9);
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
	st->res = m;
}

const ah_policy_ops ah_policy_autopilot_ops = {"autopilot", sizeof(ap_state), ap_init, ap_reserve,
					       ap_observe};
