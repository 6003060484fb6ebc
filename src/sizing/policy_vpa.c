/* vpa: the Kubernetes Vertical Pod Autoscaler's recommender, as its source
 * has it (kubernetes/autoscaler, vertical-pod-autoscaler/pkg/recommender):
 *  - model/aggregations_config.go: exponential histograms with 5% bucket
 *    growth (cpu: first bucket 0.001 core, max 1000 cores; memory: first
 *    10 MB, max 1 TB), epsilon 1e-4, decay half-life 24 h for both;
 *  - model/aggregate_container_state.go: each cpu sample weighs
 *    max(request in cores, 0.1); each memory peak weighs 1;
 *  - model/container.go: memory keeps one peak per 24 h aggregation interval
 *    (a higher sample in the same interval replaces the peak); an OOM adds a
 *    sample of max(max(request, peak) + 100 MiB, max(request, peak) x 1.2);
 *  - logic/recommender.go + estimator.go: target = p90 of the histogram,
 *    x 1.15 safety margin, at least 25 millicores and 250 MiB;
 *  - the updater replaces the request when the recommendation differs from
 *    it by more than 10% (updater/priority: defaultUpdateThreshold 0.10).
 * Here a usage above the memory reservation is the OOM. Any dimension runs
 * as cpu (compressible) or memory (incompressible) does, with its own
 * histogram range and floor (ah_sizing_dim; the minimums below are cpu's and
 * memory's defaults). The 8-interval
 * memory aggregation window is when VPA garbage-collects an idle
 * container's state; peaks themselves fade with the 24 h half-life. */
#include <math.h>
#include <string.h>

#include "sizing/sizing_int.h"

#define DAY (24 * 3600)
#define MIN_SAMPLE_WEIGHT 0.1
#define EPSILON (0.001 * MIN_SAMPLE_WEIGHT)
#define OOM_RATIO 1.2
#define OOM_MIN_BUMP ((int64_t)100 << 20)

typedef struct {
	bool peaks;        /* incompressible: memory's peak bookkeeping */
	double unit;       /* base units per histogram unit */
	int64_t floor;
	ah_hist_opts opts;
	ah_dhist h;
	int64_t request; /* applied reservation */
	/* memory peak bookkeeping (container.go) */
	int64_t window_end;
	int has_window;
	int64_t last_sample_start;
	int64_t memory_peak, oom_peak;
} vpa_state;

static void vpa_init(void *s, const ah_sizing_params *p, int dim, int64_t requested)
{
	vpa_state *st = s;
	const ah_sizing_dim *d = &p->dim[dim];
	memset(st, 0, sizeof(*st));
	st->peaks = d->incompressible;
	st->unit = d->hist_unit > 0 ? d->hist_unit : 1.0;
	st->floor = d->floor;
	if (ah_hist_opts_init(&st->opts, d->hist_max, d->hist_first, 1.05, EPSILON))
		ah_hist_opts_init(&st->opts, 1e6, 1.0, 1.05, EPSILON); /* a bad range: plain units */
	ah_dhist_init(&st->h, &st->opts, DAY);
	st->request = requested > 0 ? requested : st->floor;
}

static int64_t vpa_reserve(void *s, int64_t t, int64_t requested)
{
	(void)t;
	(void)requested;
	return ((vpa_state *)s)->request;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* container.go addMemorySample */
static void add_memory_sample(vpa_state *st, int64_t ts, int64_t usage, int is_oom)
{
	if (!is_oom && st->has_window && ts < st->last_sample_start)
		return;
	st->last_sample_start = ts;
	if (!st->has_window) {
		st->window_end = ts;
		st->has_window = 1;
	}
	int add_new_peak = 0;
	if (ts < st->window_end) {
		int64_t old = max64(st->memory_peak, st->oom_peak);
		if (old != 0 && usage > old) {
			ah_dhist_sub(&st->h, (double)old, 1.0, st->window_end);
			add_new_peak = 1;
		}
	} else {
		int64_t shift = (ts - st->window_end) / DAY * DAY + DAY;
		st->window_end += shift;
		st->memory_peak = 0;
		st->oom_peak = 0;
		add_new_peak = 1;
	}
	if (add_new_peak) {
		ah_dhist_add(&st->h, (double)usage, 1.0, st->window_end);
		if (is_oom)
			st->oom_peak = usage;
		else
			st->memory_peak = usage;
	}
}

static int64_t recommend(const vpa_state *st)
{
	double pct = ah_dhist_percentile(&st->h, 0.9);
	/* CPUAmountFromCores / MemoryAmountFromBytes, then ScaleResource: both
	 * truncate to the integer amount. */
	int64_t amt = (int64_t)(pct * st->unit);
	amt = (int64_t)((double)amt * 1.15);
	return max64(amt, st->floor);
}

static void vpa_observe(void *s, int64_t t, int64_t used, int64_t reserved, int64_t requested)
{
	(void)requested;
	vpa_state *st = s;
	if (!st->peaks) {
		double w = (double)reserved / st->unit;
		ah_dhist_add(&st->h, (double)used / st->unit, w > MIN_SAMPLE_WEIGHT ? w : MIN_SAMPLE_WEIGHT, t);
	} else {
		add_memory_sample(st, t, used, 0);
		if (used > reserved) { /* RecordOOM */
			int64_t mem_used = max64(reserved, st->memory_peak);
			int64_t need = max64(mem_used + OOM_MIN_BUMP, (int64_t)((double)mem_used * OOM_RATIO));
			add_memory_sample(st, t, need, 1);
		}
	}
	int64_t rec = recommend(st);
	double diff = fabs((double)rec - (double)st->request);
	if (st->request <= 0 || diff > 0.10 * (double)st->request)
		st->request = rec;
}

const ah_sizing_ops ah_sizing_vpa_ops = {
	.name = "vpa",
	.state_size = sizeof(vpa_state),
	.init = vpa_init,
	.reserve = vpa_reserve,
	.observe = vpa_observe,
};
