/* ahead: predictive pool shaping and rebalancing (see include/ahead/shaper.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/shaper.h"

/* Scenario levels: the forecast's own quantile levels, each standing for
 * the probability mass between the midpoints to its neighbours. */
static double level_weight(const ah_shaper_forecast *fc, int q)
{
	double lo = q == 0 ? 0.0 : 0.5 * (fc->levels[q - 1] + fc->levels[q]);
	double hi = q == fc->nq - 1 ? 1.0 : 0.5 * (fc->levels[q] + fc->levels[q + 1]);
	return hi - lo;
}

double ah_shaper_cost(const ah_shaper_cfg *cfg, const ah_shaper_forecast *fc, int64_t current, int64_t size,
		      double *out_shortfall_unit_hours)
{
	double dt_h = (double)fc->step_ns / 3.6e12;
	double cost = 0, short_uh = 0;
	int nc = cfg->n_classes;
	for (int h = 0; h < fc->horizon; h++) {
		/* Step h covers (h, h+1] steps ahead; capacity ordered now is there
		 * once the lead time has passed. */
		int64_t t_ns = (int64_t)(h + 1) * fc->step_ns;
		double s = (double)(t_ns >= cfg->lead_time_ns ? size : current);
		cost += cfg->capacity_cost * s * dt_h;
		for (int q = 0; q < fc->nq; q++) {
			double w = level_weight(fc, q), left = s, sc = 0, su = 0;
			for (int c = 0; c < nc; c++) {
				double d = fc->demand[((size_t)h * (size_t)nc + (size_t)c) * (size_t)fc->nq + (size_t)q];
				if (d < 0)
					d = 0;
				double served = d < left ? d : left;
				double miss = d - served;
				left -= served;
				sc += cfg->shortfall_cost[c] * miss;
				su += miss;
			}
			cost += w * sc * dt_h;
			short_uh += w * su * dt_h;
		}
	}
	if (size > current)
		cost += cfg->create_cost * (double)(size - current);
	if (out_shortfall_unit_hours)
		*out_shortfall_unit_hours = short_uh;
	return cost;
}

int ah_shaper_decide(const ah_shaper_cfg *cfg, const ah_shaper_forecast *fc, int64_t current,
		     int64_t last_scale_up_ns, int64_t now_ns, ah_shaper_decision *out)
{
	if (!cfg || !fc || !out || !fc->levels || !fc->demand)
		return AH_EINVAL;
	if (fc->horizon < 1 || fc->horizon > AH_SHAPER_MAX_STEPS || fc->nq < 1 || fc->nq > AH_SHAPER_MAX_QUANTILES ||
	    cfg->n_classes < 1 || cfg->n_classes > AH_SHAPER_MAX_CLASSES || fc->step_ns <= 0)
		return AH_EINVAL;
	if (cfg->step < 1 || cfg->min_size < 0 || cfg->max_size < cfg->min_size || current < 0)
		return AH_ERANGE;
	for (int q = 0; q < fc->nq; q++)
		if (!(fc->levels[q] > 0 && fc->levels[q] < 1) || (q && fc->levels[q] <= fc->levels[q - 1]))
			return AH_EINVAL;
	ah_shaper_decision d = {.size = current};
	double best = INFINITY, best_short = 0;
	int64_t best_size = current;
	/* Candidate sizes: min, min+step, ..., max (and max itself). Pools are
	 * sized in allocation units, so the grid is small. */
	int64_t n_steps = (cfg->max_size - cfg->min_size) / cfg->step + 1;
	if (n_steps > 100000)
		return AH_ERANGE;
	for (int64_t i = 0; i <= n_steps; i++) {
		int64_t s = i < n_steps ? cfg->min_size + i * cfg->step : cfg->max_size;
		double sh;
		double c = ah_shaper_cost(cfg, fc, current, s, &sh);
		/* Ties go to the smaller size: idle capacity is never free. */
		if (c < best - 1e-9) {
			best = c;
			best_size = s;
			best_short = sh;
		}
	}
	d.cost_current = ah_shaper_cost(cfg, fc, current, current, NULL);
	if (best_size < current && now_ns - last_scale_up_ns < cfg->stabilise_ns) {
		d.held = 1;
		best_size = current;
		best = d.cost_current;
		ah_shaper_cost(cfg, fc, current, current, &best_short);
	}
	d.size = best_size;
	d.cost = best;
	d.expected_shortfall = best_short;
	*out = d;
	return 0;
}

int ah_rebalance_plan(const ah_rebalance_pool *pools, int n, double idle_util, double busy_util,
		      ah_rebalance_move *moves, int max_moves)
{
	if (!pools || n < 0 || !moves || max_moves < 0 || !(idle_util >= 0 && idle_util < busy_util))
		return AH_EINVAL;
	int64_t *cap = malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
	if (!cap)
		return AH_ENOMEM;
	for (int i = 0; i < n; i++)
		cap[i] = pools[i].capacity;
	int nm = 0;
	for (int to = 0; to < n && nm < max_moves; to++) {
		const ah_rebalance_pool *t = &pools[to];
		if (t->parent < 0)
			continue;
		/* Starved: work waiting, or use above the busy line. */
		int64_t want = t->queued;
		int64_t busy_line = (int64_t)ceil(busy_util * (double)cap[to]);
		if (t->used > busy_line)
			want += t->used - busy_line;
		if (want <= 0)
			continue;
		for (int from = 0; from < n && want > 0 && nm < max_moves; from++) {
			const ah_rebalance_pool *f = &pools[from];
			if (from == to || f->parent != t->parent || f->queued > 0)
				continue;
			/* Idle: what it can give while staying under the idle line and
			 * above its minimum, in whole steps of both pools. */
			int64_t step = f->step > t->step ? f->step : t->step;
			if (step < 1)
				step = 1;
			int64_t keep = (int64_t)ceil((double)f->used / (idle_util > 0 ? idle_util : 1e-9));
			if ((double)f->used > idle_util * (double)cap[from])
				continue;
			int64_t spare = cap[from] - (keep > f->min_size ? keep : f->min_size);
			int64_t room = t->max_size - cap[to];
			int64_t amt = want < spare ? want : spare;
			if (amt > room)
				amt = room;
			amt = (amt + step - 1) / step * step; /* round the need up to a step */
			if (amt > spare)
				amt = spare / step * step;
			if (amt > room)
				amt = room / step * step;
			if (amt <= 0)
				continue;
			cap[from] -= amt;
			cap[to] += amt;
			want -= amt;
			moves[nm++] = (ah_rebalance_move){.from = from, .to = to, .amount = amt};
		}
	}
	free(cap);
	return nm;
}
