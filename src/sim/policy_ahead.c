/* ahead: the predictive policy, first version.
 *
 * Reservation for the next interval = point forecast x a per-workload,
 * per-time-of-day quantile of the forecast's error ratio, conformal style:
 *  - point forecast: a blend of the last sample and the workload's daily
 *    profile (hour-of-day EWMA) for the coming hour, level-adjusted;
 *  - error ratios r = (used + floor) / (forecast + floor) go into decaying
 *    histograms (log-spaced buckets): one per hour of the day and one for the
 *    whole workload; the hour's histogram is used once it holds enough
 *    weight, the workload's before that (and blended in while it fills);
 *  - adaptive conformal inference (Gibbs & Candes 2021) keeps each
 *    workload's realised violation rate at 1 - quantile: the quantile level
 *    used moves by gamma x (miss - (1 - quantile)) after each interval;
 *  - grow at once, shrink only when the new target is more than 10% below
 *    the current reservation (hysteresis, fewer resizes).
 * Each interval is O(buckets), no allocation. */
#include <math.h>
#include <string.h>

#include "sim/sim.h"

#define SLOTS 24
#define NB 160              /* ratio buckets: log-spaced over [2^-5, 2^5] */
#define LOG_LO (-5.0 * 0.69314718055994530942)
#define LOG_HI (5.0 * 0.69314718055994530942)
#define HL_SLOT (7 * 86400.0)
#define HL_ALL (2 * 86400.0)
#define SLOT_MIN_WEIGHT 24.0
#define PROFILE_ALPHA 0.1
#define LEVEL_ALPHA 0.5
#define W_LAST 0.7
#define ACI_GAMMA 0.005
#define SHRINK 0.10

typedef struct {
	double w[NB];
	double total;
} rhist;

typedef struct {
	int dim;
	double q, alpha_t;      /* target quantile; ACI's current miss level */
	double floor_units;     /* noise floor in base units */
	int64_t res;
	int have;
	int64_t ref_t;          /* decay reference */
	double last, level;
	double profile[SLOTS];
	int prof_have[SLOTS];
	double fc;              /* forecast made for the pending interval */
	int have_fc;
	rhist all;
	rhist slot[SLOTS];
} ahead_state;

static int slot_of(int64_t t)
{
	int64_t s = (t % 86400 + 86400) % 86400;
	return (int)(s / 3600);
}

static int bucket_of(double r)
{
	double l = log(r);
	if (l <= LOG_LO)
		return 0;
	int b = (int)((l - LOG_LO) / (LOG_HI - LOG_LO) * NB);
	return b >= NB ? NB - 1 : b;
}

static double bucket_end(int b)
{
	return exp(LOG_LO + (LOG_HI - LOG_LO) * (double)(b + 1) / NB);
}

static void rh_scale(rhist *h, double f)
{
	for (int b = 0; b < NB; b++)
		h->w[b] *= f;
	h->total *= f;
}

static double rh_quantile(const rhist *h, double q)
{
	double thr = q * h->total, c = 0;
	for (int b = 0; b < NB; b++) {
		c += h->w[b];
		if (c >= thr)
			return bucket_end(b);
	}
	return bucket_end(NB - 1);
}

static void ah_init(void *s, const ah_replay_params *p, int dim, int64_t requested)
{
	ahead_state *st = s;
	memset(st, 0, sizeof(*st));
	st->dim = dim;
	st->q = p->quantile;
	st->alpha_t = 1.0 - p->quantile;
	st->floor_units = dim == AH_DIM_CPU ? 10.0 : (double)(16 << 20);
	st->res = requested > 0 ? requested : 0;
}

static double forecast(const ahead_state *st, int64_t t)
{
	int s = slot_of(t);
	if (!st->prof_have[s])
		return st->last;
	/* seasonal-adjusted persistence: the profile says how the coming hour
	 * differs from the typical level; blend with the last sample */
	double seas = st->profile[s];
	return W_LAST * st->last + (1.0 - W_LAST) * seas;
}

static int64_t ah_reserve(void *s, int64_t t, int64_t requested)
{
	(void)requested;
	ahead_state *st = s;
	if (!st->have)
		return st->res;
	double f = forecast(st, t);
	double level = 1.0 - st->alpha_t;
	if (level < 0.5)
		level = 0.5;
	if (level > 0.9999)
		level = 0.9999;
	const rhist *hs = &st->slot[slot_of(t)];
	double ratio;
	if (st->all.total <= 0)
		ratio = 2.0;
	else if (hs->total / exp2(((double)t - (double)st->ref_t) / HL_SLOT) >= SLOT_MIN_WEIGHT)
		ratio = rh_quantile(hs, level);
	else
		ratio = rh_quantile(&st->all, level);
	double target = (f + st->floor_units) * ratio - st->floor_units;
	if (target < 0)
		target = 0;
	int64_t tg = (int64_t)ceil(target);
	st->fc = f;
	st->have_fc = 1;
	if (tg > st->res || (double)tg < (1.0 - SHRINK) * (double)st->res)
		st->res = tg;
	return st->res;
}

static void add_ratio(ahead_state *st, rhist *h, double hl, double r, int64_t t)
{
	double w = exp2(((double)t - (double)st->ref_t) / hl);
	h->w[bucket_of(r)] += w;
	h->total += w;
}

static void ah_observe(void *s, int64_t t, int64_t used, int64_t reserved, int64_t requested)
{
	(void)requested;
	ahead_state *st = s;
	double u = (double)used;
	if (!st->have) {
		st->have = 1;
		st->ref_t = t;
		st->last = st->level = u;
	}
	/* renormalise decay weights well before they overflow */
	if ((double)(t - st->ref_t) > 40.0 * HL_ALL) {
		double d = (double)(t - st->ref_t);
		rh_scale(&st->all, exp2(-d / HL_ALL));
		for (int k = 0; k < SLOTS; k++)
			rh_scale(&st->slot[k], exp2(-d / HL_SLOT));
		st->ref_t = t;
	}
	if (st->have_fc) {
		double r = (u + st->floor_units) / (st->fc + st->floor_units);
		add_ratio(st, &st->all, HL_ALL, r, t);
		add_ratio(st, &st->slot[slot_of(t)], HL_SLOT, r, t);
		double miss = used > reserved ? 1.0 : 0.0;
		st->alpha_t += ACI_GAMMA * ((1.0 - st->q) - miss);
		if (st->alpha_t < 1e-4)
			st->alpha_t = 1e-4;
		if (st->alpha_t > 0.5)
			st->alpha_t = 0.5;
	}
	int sl = slot_of(t);
	if (!st->prof_have[sl]) {
		st->profile[sl] = u;
		st->prof_have[sl] = 1;
	} else {
		st->profile[sl] += PROFILE_ALPHA * (u - st->profile[sl]);
	}
	st->level += LEVEL_ALPHA * (u - st->level);
	st->last = u;
}

const ah_policy_ops ah_policy_ahead_ops = {"ahead", sizeof(ahead_state), ah_init, ah_reserve, ah_observe};
