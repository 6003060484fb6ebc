/* ahead: the scaling loop (see include/ahead/scaler.h, docs/SCALING.md).
 *
 * History: per shaped pool a ring of `history_steps` slots; a slot holds the
 * demand (used + queued) of one step per scaled dimension and class, tagged
 * with its absolute slot number so that a stale entry (a gap in the
 * observations) is recognised without clearing anything. Memory is fixed at
 * creation: nothing here grows with time.
 *
 * Forecast, per dimension and class, for each step after the lead time:
 *   seasonal naive: the value one season (a day) before the target slot;
 *   spread: the empirical quantiles of the last `residual_steps` one-season
 *   differences x[s] - x[s - season], added to that base.
 *   level: the latest demand plus the empirical quantiles of the recent
 *   changes over the lead time (x[s] - x[s - L]). A workload that arrived
 *   today is not in yesterday's value, so each quantile is the larger of
 *   the two: an upper bound, on purpose (a shortfall costs far more than a
 *   unit-hour of capacity, and a pool never shrinks below what it holds).
 *   Measured on the Bitbrains month in one shaped pool (docs/SCALING.md):
 *   fewer violations and a lower cost under the pool's own model than the
 *   seasonal base alone, under both sizing policies tried (ahead, vpa).
 * It needs a season of history plus `min_residuals` differences; before
 * that (or after a long gap) every quantile is the recent peak, which is
 * what a cautious operator would size for. Classes are forecast separately
 * at the same levels, i.e. comonotonic, as ah_shaper_decide assumes. */
#include "ahead/scaler.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/shaper.h"

#define NS_PER_S INT64_C(1000000000)
#define NO_SLOT INT64_MIN

/* Scenario levels for the shaper: dense in the upper tail, where the
 * critical fractile of a dear shortfall lies (cost ratio 1:100 -> 0.99). */
static const double levels[] = {0.005, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5,
				0.6,   0.7,  0.8,  0.9, 0.95, 0.98, 0.995};
#define NQ ((int)(sizeof(levels) / sizeof(levels[0])))

typedef struct {
	bool shaped;
	int nd;                /* scaled dimensions (min < max) */
	int dims[AH_MAX_DIMS]; /* their policy indices */
	int64_t *slot_k;       /* [history_steps]: absolute slot held, or NO_SLOT */
	double *x;             /* [history_steps][nd][nc] */
	int64_t latest_k;
	/* AH_SCALER_FC_BEST: per (dimension, class) the day whose verdict is
	 * kept, and the verdict (the provider's forecast is used) */
	int64_t *verdict_day;  /* [nd][nc] */
	bool *use_layer;       /* [nd][nc] */
} pool_hist;

#define LOSS_MIN 12 /* scored outcomes a verdict needs; fewer: the own forecast */

struct ah_scaler {
	ah_policy *pol;
	ah_scaler_cfg cfg;
	int nc;
	int order[AH_MAX_CLASSES];      /* class indices, highest priority first */
	int group[AH_MAX_POOLS];        /* parent group id, -1 = none */
	pool_hist h[AH_MAX_POOLS];
	bool seen[AH_MAX_POOLS];
	ah_vec last_used[AH_MAX_POOLS], last_queued[AH_MAX_POOLS];
	int64_t last_up[AH_MAX_POOLS][AH_MAX_DIMS];
	ah_scale_action pending[AH_SCALER_MAX_PENDING];
	int npending;
	ah_scaler_costs costs[AH_MAX_POOLS];
	int64_t season_steps, peak_steps, horizon_steps;
	double *resid; /* scratch [residual_steps] */
	double *resid2; /* scratch [residual_steps]: the level forecast's */
	double *fc;    /* scratch [horizon_steps][nc][NQ] */
	double *hist;  /* scratch [history_steps]: one series for the provider */
	double *fc2;   /* scratch [horizon_steps][NQ]: the provider's forecast */
	size_t bytes;
};

void ah_scaler_cfg_init(ah_scaler_cfg *c)
{
	if (!c)
		return;
	c->step_ns = 300 * NS_PER_S;
	c->history_steps = 4032;
	c->season_ns = 86400 * NS_PER_S;
	c->horizon_ns = 3600 * NS_PER_S;
	c->residual_steps = 864;
	c->min_residuals = 12;
	c->peak_window_ns = 3600 * NS_PER_S;
	c->idle_util = 0.5;
	c->busy_util = 0.9;
	c->max_candidates = 512;
	c->forecast_fn = NULL;
	c->forecast_ctx = NULL;
	c->fc_mode = AH_SCALER_FC_OWN;
}

static int64_t ceil_div(int64_t a, int64_t b)
{
	return a <= 0 ? 0 : (a + b - 1) / b;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static size_t ring_pos(const ah_scaler *sc, int64_t k)
{
	int64_t n = sc->cfg.history_steps, r = k % n;
	return (size_t)(r < 0 ? r + n : r);
}

/* The stored values of absolute slot k, or NULL when it was not observed
 * (or has been overwritten since). */
static const double *slot_get(const ah_scaler *sc, const pool_hist *ph, int64_t k)
{
	size_t i = ring_pos(sc, k);
	if (ph->slot_k[i] != k)
		return NULL;
	return ph->x + i * (size_t)ph->nd * (size_t)sc->nc;
}

void ah_scaler_free(ah_scaler *sc)
{
	if (!sc)
		return;
	for (int p = 0; p < AH_MAX_POOLS; p++) {
		free(sc->h[p].slot_k);
		free(sc->h[p].x);
		free(sc->h[p].verdict_day);
		free(sc->h[p].use_layer);
	}
	free(sc->hist);
	free(sc->fc2);
	free(sc->resid);
	free(sc->resid2);
	free(sc->fc);
	free(sc->pol);
	free(sc);
}

int ah_scaler_new(const ah_policy *policy, const ah_scaler_cfg *cfg, ah_scaler **out)
{
	if (!policy || !out)
		return AH_EINVAL;
	ah_scaler_cfg c;
	if (cfg)
		c = *cfg;
	else
		ah_scaler_cfg_init(&c);
	if (c.step_ns <= 0 || c.history_steps < 2 || c.history_steps > AH_SCALER_MAX_HISTORY || c.season_ns < 0 ||
	    c.horizon_ns < c.step_ns || c.horizon_ns / c.step_ns > AH_SHAPER_MAX_STEPS || c.residual_steps < 1 ||
	    c.residual_steps > c.history_steps || c.min_residuals < 1 || c.peak_window_ns < 0 ||
	    !(c.idle_util >= 0 && c.idle_util < c.busy_util) || c.max_candidates < 2 || policy->n_classes < 1 ||
	    policy->n_classes > AH_SHAPER_MAX_CLASSES || (unsigned)c.fc_mode > AH_SCALER_FC_BEST)
		return AH_EINVAL;
	if (!c.forecast_fn)
		c.fc_mode = AH_SCALER_FC_OWN;
	int rc = AH_ENOMEM;
	ah_scaler *sc = calloc(1, sizeof(*sc));
	if (!sc)
		return AH_ENOMEM;
	sc->cfg = c;
	sc->bytes = sizeof(*sc) + sizeof(ah_policy);
	if (!(sc->pol = malloc(sizeof(ah_policy))))
		goto out;
	*sc->pol = *policy;
	const ah_policy *P = sc->pol;
	sc->nc = P->n_classes;
	/* Priority order (unique priorities): the shaper serves classes in
	 * this order, so a shortfall lands on the least important first. */
	for (int i = 0; i < sc->nc; i++)
		sc->order[i] = i;
	for (int i = 1; i < sc->nc; i++)
		for (int j = i; j > 0 && P->classes[sc->order[j]].priority > P->classes[sc->order[j - 1]].priority; j--) {
			int t = sc->order[j];
			sc->order[j] = sc->order[j - 1];
			sc->order[j - 1] = t;
		}
	sc->season_steps = c.season_ns / c.step_ns;
	sc->peak_steps = c.peak_window_ns / c.step_ns;
	if (sc->peak_steps < 1)
		sc->peak_steps = 1;
	sc->horizon_steps = ceil_div(c.horizon_ns, c.step_ns);
	for (int p = 0; p < P->n_pools; p++) {
		const ah_pool_policy *pp = &P->pools[p];
		sc->group[p] = -1;
		if (pp->parent[0]) {
			for (int q = 0; q < p && sc->group[p] < 0; q++)
				if (!strcmp(P->pools[q].parent, pp->parent))
					sc->group[p] = sc->group[q];
			if (sc->group[p] < 0)
				sc->group[p] = p;
		}
		for (int d = 0; d < AH_MAX_DIMS; d++)
			sc->last_up[p][d] = INT64_MIN / 2;
		pool_hist *ph = &sc->h[p];
		ph->latest_k = NO_SLOT;
		if (!pp->shaping)
			continue;
		for (int d = 0; d < P->dims.n; d++)
			if (pp->min_size.v[d] < pp->max_size.v[d])
				ph->dims[ph->nd++] = d;
		if (ph->nd == 0)
			continue;
		ph->shaped = true;
		size_t n = (size_t)c.history_steps;
		ph->slot_k = malloc(n * sizeof(int64_t));
		ph->x = calloc(n * (size_t)ph->nd * (size_t)sc->nc, sizeof(double));
		if (!ph->slot_k || !ph->x)
			goto out;
		for (size_t i = 0; i < n; i++)
			ph->slot_k[i] = NO_SLOT;
		sc->bytes += n * sizeof(int64_t) + n * (size_t)ph->nd * (size_t)sc->nc * sizeof(double);
		if (c.fc_mode == AH_SCALER_FC_BEST) {
			size_t m = (size_t)ph->nd * (size_t)sc->nc;
			ph->verdict_day = malloc(m * sizeof(int64_t));
			ph->use_layer = calloc(m, sizeof(bool));
			if (!ph->verdict_day || !ph->use_layer)
				goto out;
			for (size_t i = 0; i < m; i++)
				ph->verdict_day[i] = NO_SLOT;
			sc->bytes += m * (sizeof(int64_t) + sizeof(bool));
		}
	}
	size_t nfc = (size_t)sc->horizon_steps * (size_t)sc->nc * NQ;
	sc->resid = malloc((size_t)c.residual_steps * sizeof(double));
	sc->resid2 = malloc((size_t)c.residual_steps * sizeof(double));
	sc->fc = malloc(nfc * sizeof(double));
	if (!sc->resid || !sc->resid2 || !sc->fc)
		goto out;
	sc->bytes += 2 * (size_t)c.residual_steps * sizeof(double) + nfc * sizeof(double);
	if (c.fc_mode != AH_SCALER_FC_OWN) {
		sc->hist = malloc((size_t)c.history_steps * sizeof(double));
		sc->fc2 = malloc((size_t)sc->horizon_steps * NQ * sizeof(double));
		if (!sc->hist || !sc->fc2)
			goto out;
		sc->bytes += ((size_t)c.history_steps + (size_t)sc->horizon_steps * NQ) * sizeof(double);
	}
	*out = sc;
	sc = NULL;
	rc = 0;
out:
	ah_scaler_free(sc);
	return rc;
}

size_t ah_scaler_memory_bytes(const ah_scaler *sc)
{
	return sc ? sc->bytes : 0;
}

static bool vec_ok(const ah_vec *v, int nd)
{
	for (int d = 0; d < nd; d++)
		if (v->v[d] < 0 || v->v[d] > AH_VALUE_MAX)
			return false;
	return true;
}

int ah_scaler_observe(ah_scaler *sc, int pool, const ah_vec *used, const ah_vec *queued,
		      const ah_vec *class_demand, int64_t now_ns)
{
	if (!sc || pool < 0 || pool >= sc->pol->n_pools || !used || !queued)
		return AH_EINVAL;
	const int nd = sc->pol->dims.n;
	if (!vec_ok(used, nd) || !vec_ok(queued, nd))
		return AH_ERANGE;
	if (class_demand)
		for (int c = 0; c < sc->nc; c++)
			if (!vec_ok(&class_demand[c], nd))
				return AH_ERANGE;
	pool_hist *ph = &sc->h[pool];
	int64_t k = floor_div(now_ns, sc->cfg.step_ns);
	/* Rebalancing looks at the newest state only. */
	if (!sc->seen[pool] || ph->latest_k == NO_SLOT || k >= ph->latest_k) {
		sc->last_used[pool] = *used;
		sc->last_queued[pool] = *queued;
		sc->seen[pool] = true;
	}
	if (!ph->shaped)
		return 0;
	if (ph->latest_k != NO_SLOT && k <= ph->latest_k - sc->cfg.history_steps)
		return 0; /* older than the ring reaches */
	size_t i = ring_pos(sc, k);
	double *row = ph->x + i * (size_t)ph->nd * (size_t)sc->nc;
	bool fresh = ph->slot_k[i] != k;
	for (int j = 0; j < ph->nd; j++) {
		int d = ph->dims[j];
		for (int ci = 0; ci < sc->nc; ci++) {
			int c = sc->order[ci];
			double v;
			if (class_demand)
				v = (double)class_demand[c].v[d];
			else
				v = c == sc->pol->default_class ? (double)used->v[d] + (double)queued->v[d] : 0.0;
			double *cell = &row[(size_t)j * (size_t)sc->nc + (size_t)ci];
			if (fresh || v > *cell)
				*cell = v;
		}
	}
	ph->slot_k[i] = k;
	if (ph->latest_k == NO_SLOT || k > ph->latest_k)
		ph->latest_k = k;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Type-7 empirical quantile of sorted[0..n-1]. */
static double quantile_sorted(const double *sorted, int n, double p)
{
	double pos = p * (double)(n - 1);
	int lo = (int)floor(pos);
	if (lo >= n - 1)
		return sorted[n - 1];
	double f = pos - (double)lo;
	return sorted[lo] + f * (sorted[lo + 1] - sorted[lo]);
}

/* Fills sc->fc for pool p, scaled dimension j: horizon_steps steps starting
 * at the first step that ends after the lead time. Returns false when there
 * is no recent observation to forecast from. */
static bool own_forecast(ah_scaler *sc, int p, int j, int64_t now_k, int64_t first_k, int64_t last)
{
	const pool_hist *ph = &sc->h[p];
	const int nc = sc->nc;
	const int64_t H = sc->horizon_steps, P = sc->season_steps;
	if (last == NO_SLOT || last <= now_k - sc->peak_steps)
		return false; /* nothing seen lately: do not act blind */
	for (int ci = 0; ci < nc; ci++) {
		size_t off = (size_t)j * (size_t)nc + (size_t)ci;
		/* Seasonal residuals over the recent window. */
		int nr = 0;
		if (P >= 1 && P < sc->cfg.history_steps)
			for (int64_t s = last; s > last - sc->cfg.residual_steps && nr < sc->cfg.residual_steps; s--) {
				const double *a = slot_get(sc, ph, s), *b = slot_get(sc, ph, s - P);
				if (a && b)
					sc->resid[nr++] = a[off] - b[off];
			}
		double peak = 0, latest = 0;
		bool have_latest = false;
		for (int64_t s = last; s > now_k - sc->peak_steps && s > last - sc->cfg.history_steps; s--) {
			const double *a = slot_get(sc, ph, s);
			if (!a)
				continue;
			if (!have_latest) {
				latest = a[off];
				have_latest = true;
			}
			if (a[off] > peak)
				peak = a[off];
		}
		/* Level residuals: changes over the lead time (one lag for the
		 * whole horizon keeps a step cheap). */
		int64_t lag = first_k - last;
		if (lag < 1)
			lag = 1;
		int nl = 0;
		for (int64_t s = last; s > last - sc->cfg.residual_steps && nl < sc->cfg.residual_steps; s--) {
			const double *a = slot_get(sc, ph, s), *b = slot_get(sc, ph, s - lag);
			if (a && b)
				sc->resid2[nl++] = a[off] - b[off];
		}
		if (nr >= sc->cfg.min_residuals) {
			qsort(sc->resid, (size_t)nr, sizeof(double), cmp_double);
			double rq[NQ], rl[NQ];
			for (int q = 0; q < NQ; q++)
				rq[q] = quantile_sorted(sc->resid, nr, levels[q]);
			if (nl >= sc->cfg.min_residuals)
				qsort(sc->resid2, (size_t)nl, sizeof(double), cmp_double);
			for (int q = 0; q < NQ; q++)
				rl[q] = nl >= sc->cfg.min_residuals ? quantile_sorted(sc->resid2, nl, levels[q]) : 0;
			bool use_level = have_latest && nl >= sc->cfg.min_residuals;
			for (int64_t i = 0; i < H; i++) {
				int64_t t = first_k + i;
				int64_t m = ceil_div(t - last, P);
				if (m < 1)
					m = 1;
				const double *b = slot_get(sc, ph, t - m * P);
				double base = b ? b[off] : latest; /* a gap a season ago: naive */
				for (int q = 0; q < NQ; q++) {
					double v = base + rq[q];
					if (use_level && latest + rl[q] > v)
						v = latest + rl[q];
					sc->fc[((size_t)i * (size_t)nc + (size_t)ci) * NQ + (size_t)q] = v > 0 ? v : 0;
				}
			}
		} else {
			for (int64_t i = 0; i < H; i++)
				for (int q = 0; q < NQ; q++)
					sc->fc[((size_t)i * (size_t)nc + (size_t)ci) * NQ + (size_t)q] = peak;
		}
	}
	return true;
}

/* Mean pinball loss of quantiles q[NQ] (at levels[]) for outcome y. */
static double pinball_mean(const double *q, double y)
{
	double t = 0;
	for (int i = 0; i < NQ; i++) {
		double e = y - q[i];
		t += e >= 0 ? levels[i] * e : (levels[i] - 1) * e;
	}
	return t / NQ;
}

/* The ring's series of class ci, dimension j into sc->hist (oldest first,
 * ending at the latest step). */
static void fill_hist(ah_scaler *sc, const pool_hist *ph, int j, int ci)
{
	const int64_t n = sc->cfg.history_steps, last = ph->latest_k;
	for (int64_t i = 0; i < n; i++) {
		const double *a = slot_get(sc, ph, last - (n - 1) + i);
		sc->hist[i] = a ? a[(size_t)j * (size_t)sc->nc + (size_t)ci] : NAN;
	}
}

static int layer_at(ah_scaler *sc, int p, int j, int ci, int64_t origin, int ahead, int horizon, double *out)
{
	const pool_hist *ph = &sc->h[p];
	return sc->cfg.forecast_fn(sc->cfg.forecast_ctx, p, ph->dims[j], sc->order[ci], sc->hist,
				   (size_t)sc->cfg.history_steps, ph->latest_k, origin, sc->cfg.step_ns, ahead, horizon,
				   levels, NQ, out);
}

/* AH_SCALER_FC_BEST: whether the provider forecast class ci of dimension j
 * better than the scaler's own over the previous day (its targets), at the
 * lead time `ahead`, by mean pinball loss over the levels. A function of
 * the history alone, decided once a day (sc->hist holds the series). */
static bool verdict(ah_scaler *sc, int p, int j, int ci, int ahead)
{
	pool_hist *ph = &sc->h[p];
	size_t m = (size_t)j * (size_t)sc->nc + (size_t)ci;
	int64_t day = sc->season_steps > 0 ? sc->season_steps : 1;
	int64_t b = floor_div(ph->latest_k, day) * day; /* the current day began after b */
	if (ph->verdict_day[m] == b)
		return ph->use_layer[m];
	double loss[2] = {0, 0}, lay[NQ];
	int n = 0;
	for (int64_t t = b - day + 1; t <= b; t++) {
		int64_t o = t - ahead;
		const double *at = slot_get(sc, ph, t), *ao = slot_get(sc, ph, o);
		if (!at || !ao || !own_forecast(sc, p, j, o, t, o) || layer_at(sc, p, j, ci, o, ahead, 1, lay))
			continue;
		double y = at[m];
		for (int q = 0; q < NQ; q++)
			lay[q] = lay[q] > 0 ? lay[q] : 0;
		loss[0] += pinball_mean(sc->fc + (size_t)ci * NQ, y);
		loss[1] += pinball_mean(lay, y);
		n++;
	}
	ph->verdict_day[m] = b;
	ph->use_layer[m] = n >= LOSS_MIN && loss[1] < loss[0];
	return ph->use_layer[m];
}

/* The forecast the shaper is given: the scaler's own, combined with the
 * provider's as cfg.fc_mode says (every quantile clamped at 0). */
static bool forecast(ah_scaler *sc, int p, int j, int64_t now_k, int64_t first_k)
{
	const pool_hist *ph = &sc->h[p];
	if (!own_forecast(sc, p, j, now_k, first_k, ph->latest_k))
		return false;
	if (sc->cfg.fc_mode == AH_SCALER_FC_OWN)
		return true;
	const int nc = sc->nc;
	const int64_t H = sc->horizon_steps;
	int ahead = (int)(first_k - ph->latest_k);
	if (ahead < 1)
		ahead = 1;
	/* the verdict scores forecasts at the pool's lead time (not at the
	 * distance from the latest observation, which a late step stretches) */
	int lead = (int)(first_k - now_k);
	if (lead < 1)
		lead = 1;
	bool use[AH_MAX_CLASSES];
	for (int ci = 0; ci < nc; ci++) {
		use[ci] = true;
		if (sc->cfg.fc_mode == AH_SCALER_FC_BEST) {
			fill_hist(sc, ph, j, ci);
			use[ci] = verdict(sc, p, j, ci, lead);
		}
	}
	if (sc->cfg.fc_mode == AH_SCALER_FC_BEST) /* the verdicts' forecasts overwrote sc->fc */
		own_forecast(sc, p, j, now_k, first_k, ph->latest_k);
	for (int ci = 0; ci < nc; ci++) {
		if (!use[ci])
			continue;
		fill_hist(sc, ph, j, ci);
		if (layer_at(sc, p, j, ci, ph->latest_k, ahead, (int)H, sc->fc2))
			continue;
		for (int64_t i = 0; i < H; i++)
			for (int q = 0; q < NQ; q++) {
				double *o = &sc->fc[((size_t)i * (size_t)nc + (size_t)ci) * NQ + (size_t)q];
				double v = sc->fc2[(size_t)i * NQ + (size_t)q];
				if (!(v >= 0))
					v = 0;
				*o = sc->cfg.fc_mode == AH_SCALER_FC_MAX ? fmax(*o, v) : v;
			}
	}
	return true;
}

static bool pending_for(const ah_scaler *sc, int p, int d)
{
	for (int i = 0; i < sc->npending; i++)
		if (sc->pending[i].pool == p && sc->pending[i].dim == d)
			return true;
	return false;
}

/* Appends to the caller's array and to the pending list. */
static int emit(ah_scaler *sc, const ah_scale_action *a, ah_scale_action *actions, int max, int *n)
{
	if (*n >= max || sc->npending >= AH_SCALER_MAX_PENDING)
		return AH_ETOOBIG;
	actions[(*n)++] = *a;
	sc->pending[sc->npending++] = *a;
	return 0;
}

int ah_scaler_step(ah_scaler *sc, int64_t now_ns, const ah_vec *capacity, ah_scale_action *actions, int max,
		   int *n)
{
	if (!sc || !capacity || !n || max < 0 || (max > 0 && !actions))
		return AH_EINVAL;
	const ah_policy *P = sc->pol;
	const int nd = P->dims.n, np = P->n_pools;
	for (int p = 0; p < np; p++)
		if (!vec_ok(&capacity[p], nd))
			return AH_ERANGE;
	int count = 0, rc = 0;
	bool touched[AH_MAX_POOLS][AH_MAX_DIMS];
	memset(touched, 0, sizeof(touched));

	/* 1. Rebalancing first: moving idle capacity to a starved sibling costs
	 * no creation and no lead time, so it is tried before buying any. */
	for (int d = 0; d < nd && !rc; d++) {
		ah_rebalance_pool rp[AH_MAX_POOLS];
		bool any = false;
		for (int p = 0; p < np; p++) {
			const ah_pool_policy *pp = &P->pools[p];
			bool ok = sc->group[p] >= 0 && sc->seen[p] && !pending_for(sc, p, d);
			rp[p] = (ah_rebalance_pool){
				.capacity = capacity[p].v[d],
				.used = sc->last_used[p].v[d],
				.queued = sc->last_queued[p].v[d],
				.min_size = pp->min_size.v[d],
				.max_size = pp->max_size.v[d],
				.step = pp->scale_step.v[d],
				.parent = ok ? sc->group[p] : -1,
			};
			any |= ok;
		}
		if (!any)
			continue;
		ah_rebalance_move mv[AH_MAX_POOLS];
		int nm = ah_rebalance_plan(rp, np, sc->cfg.idle_util, sc->cfg.busy_util, mv, AH_MAX_POOLS);
		if (nm < 0) {
			rc = nm;
			break;
		}
		int64_t after[AH_MAX_POOLS];
		for (int p = 0; p < np; p++)
			after[p] = capacity[p].v[d];
		for (int m = 0; m < nm && !rc; m++) {
			int f = mv[m].from, t = mv[m].to;
			/* The donor shrinks first, then the receiver grows: the two are
			 * applied in this order so capacity never exists twice. */
			ah_scale_action give = {.pool = f, .dim = d, .from = after[f], .to = after[f] - mv[m].amount,
						.decided_ns = now_ns, .ready_ns = now_ns, .kind = AH_SCALE_KIND_REBALANCE,
						.peer = t};
			ah_scale_action take = {.pool = t, .dim = d, .from = after[t], .to = after[t] + mv[m].amount,
						.decided_ns = now_ns, .ready_ns = now_ns, .kind = AH_SCALE_KIND_REBALANCE,
						.peer = f};
			if (count + 2 > max || sc->npending + 2 > AH_SCALER_MAX_PENDING) {
				rc = AH_ETOOBIG; /* a move is both halves or nothing */
				break;
			}
			emit(sc, &give, actions, max, &count);
			emit(sc, &take, actions, max, &count);
			after[f] = give.to;
			after[t] = take.to;
			touched[f][d] = touched[t][d] = true;
			sc->last_up[t][d] = now_ns;
		}
	}

	/* 2. Shaping: one cost-model decision per shaped pool and dimension. */
	const int64_t now_k = floor_div(now_ns, sc->cfg.step_ns);
	for (int p = 0; p < np && !rc; p++) {
		const pool_hist *ph = &sc->h[p];
		const ah_pool_policy *pp = &P->pools[p];
		if (!ph->shaped)
			continue;
		/* Steps before the lead time cost the same whatever is ordered now
		 * (the new capacity is not there yet), so the forecast starts at
		 * the first step that ends after it: the decision is the same and
		 * the horizon stays short. */
		int64_t h0 = ceil_div(pp->lead_time_ns, sc->cfg.step_ns) - 1;
		if (h0 < 0)
			h0 = 0;
		for (int j = 0; j < ph->nd && !rc; j++) {
			int d = ph->dims[j];
			if (touched[p][d] || pending_for(sc, p, d))
				continue;
			if (!forecast(sc, p, j, now_k, now_k + 1 + h0))
				continue;
			ah_shaper_cfg c = {
				.capacity_cost = pp->capacity_cost[d],
				.create_cost = pp->create_cost[d],
				.lead_time_ns = 0,
				.min_size = pp->min_size.v[d],
				.max_size = pp->max_size.v[d],
				.step = pp->scale_step.v[d],
				.stabilise_ns = pp->stabilise_ns,
				.n_classes = sc->nc,
			};
			/* Coarsen the grid of sizes so a decision stays cheap even for a
			 * memory dimension counted in bytes. */
			int64_t ncand = (c.max_size - c.min_size) / c.step;
			if (ncand > sc->cfg.max_candidates)
				c.step *= ceil_div(ncand, sc->cfg.max_candidates);
			for (int ci = 0; ci < sc->nc; ci++)
				c.shortfall_cost[ci] = P->classes[sc->order[ci]].shortfall_cost[d];
			ah_shaper_forecast fc = {.horizon = (int)sc->horizon_steps, .step_ns = sc->cfg.step_ns, .nq = NQ,
						 .levels = levels, .demand = sc->fc};
			int64_t cur = capacity[p].v[d];
			ah_shaper_decision dec;
			rc = ah_shaper_decide(&c, &fc, cur, sc->last_up[p][d], now_ns, &dec);
			if (rc < 0)
				break;
			int64_t to = dec.size;
			/* Never shrink below what is held now: it could not be taken
			 * back, and every grant would wait until it is released. */
			if (to < cur) {
				int64_t held = sc->last_used[p].v[d];
				if (to < held) {
					to = c.min_size + ceil_div(held - c.min_size, c.step) * c.step;
					if (to > cur)
						to = cur;
				}
			}
			if (to == cur)
				continue;
			ah_scale_action a = {.pool = p, .dim = d, .from = cur, .to = to, .decided_ns = now_ns,
					     .ready_ns = to > cur ? now_ns + pp->lead_time_ns : now_ns,
					     .kind = AH_SCALE_KIND_SCALE, .peer = -1, .expected_cost = dec.cost,
					     .keep_cost = dec.cost_current};
			if ((rc = emit(sc, &a, actions, max, &count)) < 0)
				break;
			if (to > cur)
				sc->last_up[p][d] = now_ns;
		}
	}
	/* A full action array only postpones: what did not fit is decided
	 * again next step. */
	if (rc == AH_ETOOBIG)
		rc = 0;
	if (rc < 0)
		return rc;
	*n = count;
	return 0;
}

int ah_scaler_due(ah_scaler *sc, int64_t now_ns, ah_scale_action *actions, int max, int *n)
{
	if (!sc || !n || max < 0 || (max > 0 && !actions))
		return AH_EINVAL;
	int count = 0, keep = 0;
	for (int i = 0; i < sc->npending; i++) {
		const ah_scale_action *a = &sc->pending[i];
		if (a->ready_ns <= now_ns && count < max)
			actions[count++] = *a;
		else
			sc->pending[keep++] = *a;
	}
	sc->npending = keep;
	*n = count;
	return 0;
}

int ah_scaler_applied(ah_scaler *sc, const ah_scale_action *a)
{
	if (!sc || !a || a->pool < 0 || a->pool >= sc->pol->n_pools || a->dim < 0 || a->dim >= sc->pol->dims.n)
		return AH_EINVAL;
	ah_scaler_costs *k = &sc->costs[a->pool];
	if (a->kind == AH_SCALE_KIND_REBALANCE) {
		k->n_rebalance++;
		return 0;
	}
	k->n_scale++;
	if (a->to > a->from) {
		double c = (double)(a->to - a->from) * sc->pol->pools[a->pool].create_cost[a->dim];
		k->create += c;
		k->total += c;
	}
	return 0;
}

int ah_scaler_set_last_scale_up(ah_scaler *sc, int pool, int dim, int64_t t_ns)
{
	if (!sc || pool < 0 || pool >= sc->pol->n_pools || dim < 0 || dim >= sc->pol->dims.n)
		return AH_EINVAL;
	sc->last_up[pool][dim] = t_ns;
	return 0;
}

int ah_scaler_account(ah_scaler *sc, int pool, const ah_vec *capacity, const ah_vec *demand,
		      const ah_vec *class_demand, int64_t dt_ns)
{
	if (!sc || pool < 0 || pool >= sc->pol->n_pools || !capacity || (!demand && !class_demand) || dt_ns < 0)
		return AH_EINVAL;
	const ah_policy *P = sc->pol;
	const ah_pool_policy *pp = &P->pools[pool];
	const double dt_h = (double)dt_ns / 3.6e12;
	double cap_cost = 0, short_cost = 0;
	for (int d = 0; d < P->dims.n; d++) {
		double left = (double)capacity->v[d];
		cap_cost += left * pp->capacity_cost[d] * dt_h;
		for (int ci = 0; ci < sc->nc; ci++) {
			int c = sc->order[ci];
			double dem = class_demand ? (double)class_demand[c].v[d]
						  : (c == P->default_class ? (double)demand->v[d] : 0.0);
			double served = dem < left ? dem : left;
			left -= served;
			short_cost += (dem - served) * P->classes[c].shortfall_cost[d] * dt_h;
		}
	}
	ah_scaler_costs *k = &sc->costs[pool];
	k->capacity += cap_cost;
	k->shortfall += short_cost;
	k->total += cap_cost + short_cost;
	return 0;
}

int ah_scaler_costs_get(const ah_scaler *sc, int pool, ah_scaler_costs *out)
{
	if (!sc || !out || pool < -1 || pool >= sc->pol->n_pools)
		return AH_EINVAL;
	ah_scaler_costs s = {0};
	for (int p = 0; p < sc->pol->n_pools; p++) {
		if (pool >= 0 && p != pool)
			continue;
		const ah_scaler_costs *k = &sc->costs[p];
		s.capacity += k->capacity;
		s.create += k->create;
		s.shortfall += k->shortfall;
		s.total += k->total;
		s.n_scale += k->n_scale;
		s.n_rebalance += k->n_rebalance;
	}
	*out = s;
	return 0;
}
