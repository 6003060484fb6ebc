/* vpa: the Kubernetes Vertical Pod Autoscaler (recommender and updater), as
 * its source has it (kubernetes/autoscaler, vertical-pod-autoscaler/pkg;
 * docs/REPLAY.md cites the lines):
 *  - recommender/model/aggregations_config.go: exponential histograms with
 *    5% bucket growth (cpu: first bucket 0.01 core, max 1000 cores; memory:
 *    first 10 MB, max 1 TB), epsilon 1e-4, decay half-life 24 h for both;
 *  - model/aggregate_container_state.go: every cpu sample has the same
 *    weight (the constant minSampleWeight 0.1, as the issue reads the
 *    current source; older versions weighed max(request, 0.1)); each memory
 *    peak weighs 1;
 *  - model/container.go: memory keeps one peak per aggregation interval
 *    (24 h; a higher sample in the same interval replaces the peak); an OOM
 *    adds a sample of max(max(request, peak) + 100 MiB, max(request, peak) x 1.2);
 *  - logic/recommender.go + estimator.go: target = p90 + 15% margin; lower
 *    bound = p50 + 15%, x (1 + 0.001/confidence)^-2; upper bound = p95 + 15%,
 *    x (1 + 1/confidence); confidence = min(history in days, samples / 1440);
 *    all at least 25 millicores / 250 MiB;
 *  - updater/priority (priority_processor.go, update_priority_calculator.go):
 *    the request takes the target at any age when it lies outside [lower,
 *    upper] or after a quick OOM (within 10 min of the container's start);
 *    otherwise only once the pod is 12 h old and the relative difference is
 *    at least 10%. An update restarts the pod (its age).
 * Deviations (documented in REPLAY.md): each dimension is decided on its own
 * (VPA sums cpu's and memory's relative differences per pod and evicts both
 * together); a trace interval counts as step_s / 60 samples (VPA samples
 * once a minute); MinReplicas (2 by default: VPA leaves single-replica
 * workloads alone) is not applied. Here a usage above the memory reservation
 * is the OOM. */
#include <math.h>
#include <string.h>

#include "sizing/sizing_int.h"

#define DAY (24 * 3600)
#define MIN_SAMPLE_WEIGHT 0.1
#define EPSILON (0.001 * MIN_SAMPLE_WEIGHT)
#define OOM_RATIO 1.2
#define OOM_MIN_BUMP ((int64_t)100 << 20)
#define QUICK_OOM_S 600                  /* updater --evict-after-oom-threshold */
#define MAX_AMOUNT ((int64_t)100000000000000) /* model.MaxResourceAmount, 1e14 */

typedef struct {
	bool peaks;        /* incompressible: memory's peak bookkeeping */
	double unit;       /* base units per histogram unit */
	int64_t floor;
	double pct_target, pct_lower, pct_upper, margin, threshold;
	int64_t lifetime_s, interval_s, step_s;
	ah_hist_opts opts;
	ah_dhist h;
	int64_t request;   /* applied reservation */
	/* updater: the pod's start (the last update), the last OOM */
	int64_t start_s, last_oom_s;
	int has_start, has_oom;
	/* confidence (estimator.go getConfidence) */
	int64_t first_s, last_s;
	double samples;
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
	st->pct_target = p->vpa_target_pct;
	st->pct_lower = p->vpa_lower_pct;
	st->pct_upper = p->vpa_upper_pct;
	st->margin = p->vpa_margin;
	st->threshold = p->vpa_update_threshold;
	st->lifetime_s = p->vpa_lifetime_s;
	st->interval_s = p->vpa_mem_interval_s > 0 ? p->vpa_mem_interval_s : DAY;
	st->step_s = p->step_s > 0 ? p->step_s : 300;
	if (ah_hist_opts_init(&st->opts, d->hist_max, d->hist_first, 1.05, EPSILON))
		ah_hist_opts_init(&st->opts, 1e6, 1.0, 1.05, EPSILON); /* a bad range: plain units */
	int64_t hl = d->incompressible ? p->vpa_mem_half_life_s : p->vpa_cpu_half_life_s;
	ah_dhist_init(&st->h, &st->opts, hl > 0 ? hl : DAY);
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
		int64_t shift = (ts - st->window_end) / st->interval_s * st->interval_s + st->interval_s;
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

/* model.ScaleResource: truncate, capped at MaxResourceAmount */
static int64_t scale_amount(int64_t a, double f)
{
	double v = (double)a * f;
	if (!(v < (double)MAX_AMOUNT))
		return MAX_AMOUNT;
	return v > 0 ? (int64_t)v : 0;
}

/* percentile estimator + margin estimator (+ confidence multiplier), then
 * the minimum (recommender.go wraps every estimator in WithMinResource) */
static int64_t estimate(const vpa_state *st, double pct, double conf_mult, double conf_exp)
{
	int64_t base = (int64_t)(ah_dhist_percentile(&st->h, pct) * st->unit);
	int64_t amt = base + scale_amount(base, st->margin);
	if (conf_exp != 0) {
		double conf = fmin((double)(st->last_s - st->first_s) / DAY, st->samples / (60.0 * 24.0));
		amt = scale_amount(amt, pow(1.0 + conf_mult / conf, conf_exp));
	}
	return max64(amt, st->floor);
}

/* update_priority_calculator.go AddPod, for one dimension */
static bool should_update(const vpa_state *st, int64_t t, int64_t rec, int quick_oom)
{
	int64_t lower = estimate(st, st->pct_lower, 0.001, -2.0);
	int64_t upper = estimate(st, st->pct_upper, 1.0, 1.0);
	if (st->request < lower || st->request > upper)
		return rec != st->request;
	double req = st->request > 1 ? (double)st->request : 1.0;
	double diff = fabs(req - (double)rec) / req;
	if (quick_oom)
		return diff > 0;
	return t - st->start_s >= st->lifetime_s && diff >= st->threshold;
}

static void vpa_observe(void *s, int64_t t, int64_t used, int64_t reserved, int64_t requested)
{
	(void)requested;
	vpa_state *st = s;
	if (!st->has_start) {
		st->has_start = 1;
		st->start_s = t;
		st->first_s = t;
	}
	st->last_s = t;
	st->samples += (double)st->step_s / 60.0;
	int quick_oom = 0;
	if (!st->peaks) {
		ah_dhist_add(&st->h, (double)used / st->unit, MIN_SAMPLE_WEIGHT, t);
	} else {
		add_memory_sample(st, t, used, 0);
		if (used > reserved) { /* RecordOOM */
			int64_t mem_used = max64(reserved, st->memory_peak);
			int64_t need = max64(mem_used + OOM_MIN_BUMP, (int64_t)((double)mem_used * OOM_RATIO));
			add_memory_sample(st, t, need, 1);
			/* the container (re)started at the pod's start or
			 * after the previous OOM kill */
			int64_t began = st->has_oom && st->last_oom_s + st->step_s > st->start_s
						? st->last_oom_s + st->step_s
						: st->start_s;
			quick_oom = t + st->step_s - began < QUICK_OOM_S;
			st->last_oom_s = t;
			st->has_oom = 1;
		}
	}
	int64_t rec = estimate(st, st->pct_target, 0, 0);
	if (should_update(st, t + st->step_s, rec, quick_oom)) {
		st->request = rec;
		st->start_s = t + st->step_s; /* the evicted pod restarts with the update */
	}
}

const ah_sizing_ops ah_sizing_vpa_ops = {
	.name = "vpa",
	.state_size = sizeof(vpa_state),
	.init = vpa_init,
	.reserve = vpa_reserve,
	.observe = vpa_observe,
};
