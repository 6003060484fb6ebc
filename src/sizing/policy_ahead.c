/* ahead: the predictive policy.
 *
 * Reservation for the next interval = point forecast + a conformal margin
 * taken from that workload's own recent forecast errors at that time of day:
 *  - point forecast f, chosen per workload: either the last sample, or the
 *    larger of the last two (a burst is rarely one interval long). Each
 *    candidate keeps its own coarse score histogram (64 buckets, 11% wide,
 *    half-life 2 days) and so its own reservation at quantile Q; an EWMA
 *    (about one day of samples) of the pinball loss at Q of those
 *    reservations, i.e. Q x shortfall or (1 - Q) x idle capacity,
 *    picks the candidate for the next interval. On the July Bitbrains month
 *    most intervals run on the last sample (memory 90% at Q 0.9, 77% at
 *    0.998; cpu 94% and 81%), and a workload switches 4-8 times a month.
 *    The first version floored f at an hour-of-day usage profile; on that
 *    month the floor roughly doubled cpu slack at the same violation rate
 *    and cost memory about 15% slack at moderate quantiles, so it is gone:
 *    the time of day lives in the margin, not in the forecast;
 *  - nonconformity score s = (used + b) / (f + b), with the scale b a share
 *    of the workload's provisioned size (cpu 1/2, memory 1/4; 1 core / 2 GiB
 *    when the trace has no requested column): additive for small usage,
 *    relative for large, so an idle workload's spike does not blow up;
 *  - scores go into exponentially decaying histograms (log-spaced buckets):
 *    one per hour of the day (half-life 7 days) and one for the whole
 *    workload (half-life 2 days). The margin is at most the score quantile Q of the
 *    hour's histogram with the workload's histogram mixed in as a prior worth
 *    96 samples, 8 days of one hour (so a fresh hour borrows the workload's spread, a
 *    well-observed hour speaks for itself). Scores are taken against the
 *    forecast in use at the time, so after a switch of candidate the
 *    histograms mix both until the decay forgets the old scores.
 *    A new workload's histogram starts with one pseudo-score of 2 (a
 *    cold-start prior, fading with the 2-day half-life);
 *  - cost cap: below the quantile, the reservation minimises
 *    r + cost x P(usage > r), a violation being worth `cost` capacity-
 *    intervals of idle reservation (params.violation_cost): coverage of rare,
 *    huge jumps is not bought with capacity held all the time;
 *  - reservation (f + b) x score - b; grow at once, shrink only when the
 *    new target is more than the hysteresis (10%) below the current
 *    reservation; the resize economy (ah_sizing_dim: min dwell, resize
 *    budget) may hold a shrink back, and with a dwell a shrink goes to the
 *    highest target of the dwell (hourly peaks), so that it lasts;
 *  - peak cap (peak_cap >= 0): the target is at most the last 48 h's peak
 *    usage x (1 + peak_cap), never below f: on the July month's memory,
 *    at a tight shortfall, the score tail and the violation cost together
 *    still held room for jumps larger than anything seen in two days;
 *  - two levels (incompressible dimensions, hard_margin >= 0): the hard
 *    level (memory.max) is max(reservation, the last 48 h's peak usage) x
 *    (1 + hard_margin), stated through limit(); the reservation is the soft
 *    level (memory.high);
 *  - cold start (cold_hold_s > 0): the reservation is at least the requested
 *    size for that long after the workload's first sample.
 * The quantile, cost and score scale are per dimension (ah_sizing_dim).
 * Each interval is O(buckets), no allocation; the state is under 64 KiB. */
#include <math.h>
#include <string.h>

#include "sizing/sizing_int.h"

#define SLOTS 24
#define NB 640 /* score buckets, log-spaced over [2^-5, 2^5]: 1.1% wide */
#define LOG_LO (-5.0 * 0.69314718055994530942)
#define LOG_HI (5.0 * 0.69314718055994530942)
#define HL_SLOT (7 * 86400.0)
#define HL_ALL (2 * 86400.0)
#define PRIOR_SAMPLES 96.0
#define NFC 2 /* forecast candidates: last sample, max of last two */
#define LOSS_ALPHA (1.0 / 288) /* EWMA of the candidates' loss: ~1 day of 5-min samples */
#define CB 64 /* coarse score buckets per candidate (10 fine buckets each, 11% wide) */
#define PEAK_HOURS 48 /* hourly target peaks kept for the dwell's shrink level */
#define SEED_SCORE 2.0  /* cold-start prior: r = 2f + b, as with no score yet */
#define SEED_WEIGHT 1.0 /* worth one fresh sample; fades with HL_ALL */

typedef struct {
	float w[NB]; /* float: the state stays 64 KiB per workload and dimension */
	double total;
	int maxb;    /* highest bucket ever used */
} rhist;

typedef struct {
	double q;
	double cost; /* capacity-intervals one violation is worth */
	double b; /* score scale, base units */
	int64_t res;
	int64_t ref_t; /* decay reference time */
	double last, prev;
	double fc; /* forecast made for the pending interval */
	double fk[NFC]; /* each candidate's forecast for it */
	double rk[NFC]; /* each candidate's reservation at its own score quantile */
	double loss[NFC]; /* EWMA of each candidate's pinball loss at q */
	float cw[NFC][CB]; /* each candidate's own scores, coarse, half-life HL_ALL */
	double ctotal[NFC];
	double cend[NFC]; /* upper end of bucket cmaxb */
	int cmaxb[NFC];
	/* chars and floats: the state stays under 64 KiB */
	unsigned char choice; /* candidate in use */
	unsigned char have_fc, have;
	unsigned char have_peak; /* the hourly rings below have started */
	/* resize economy; two levels; cold start */
	float hyst, hard_margin;
	float peak_cap; /* < 0: none */
	float hold_s;       /* hold the requested size this long after the first sample */
	int64_t hold_until; /* ... until then (set at the first sample) */
	double per_day, tokens;
	int64_t dwell_s, last_change, last_t;
	float peak[PEAK_HOURS];   /* highest target per hour, ring */
	float upeak[PEAK_HOURS];  /* highest usage per hour, same ring */
	int64_t peak_hour;        /* newest hour index in the rings */
	/* two levels: the hard level (memory.max) over the reservation;
	 * hard_margin (above) < 0: one level */
	int64_t hard;
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
	if (!(l > LOG_LO))
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
	for (int b = 0; b <= h->maxb; b++)
		h->w[b] = (float)(h->w[b] * f);
	h->total *= f;
}

static void ah_init(void *s, const ah_sizing_params *p, int dim, int64_t requested)
{
	ahead_state *st = s;
	memset(st, 0, sizeof(*st));
	const ah_sizing_dim *d = &p->dim[dim];
	st->q = d->quantile;
	st->cost = d->violation_cost > 0 ? d->violation_cost : 0;
	if (requested > 0)
		st->b = d->score_share * (double)requested;
	else
		st->b = d->score_default;
	if (st->b < 1)
		st->b = 1;
	st->res = requested > 0 ? requested : 0;
	st->hyst = d->shrink_hysteresis >= 0 && d->shrink_hysteresis < 1 ? d->shrink_hysteresis : 0.10;
	st->dwell_s = d->min_dwell_s > 0 ? d->min_dwell_s : 0;
	if (st->dwell_s > (int64_t)(PEAK_HOURS - 1) * 3600)
		st->dwell_s = (int64_t)(PEAK_HOURS - 1) * 3600;
	st->per_day = d->resizes_per_day > 0 ? d->resizes_per_day : 0;
	st->tokens = st->per_day;
	st->hard_margin = d->hard_margin >= 0 ? (float)d->hard_margin : -1;
	st->peak_cap = d->peak_cap >= 0 ? (float)d->peak_cap : -1;
	st->hard = st->res;
	st->hold_s = d->cold_hold_s > 0 ? (float)(d->cold_hold_s < 30 * 86400 ? d->cold_hold_s : 30 * 86400) : 0;
}

/* Move the hourly rings to hour h (hours skipped start empty). */
static void rings_to(ahead_state *st, int64_t h)
{
	if (!st->have_peak || h - st->peak_hour >= PEAK_HOURS) {
		memset(st->peak, 0, sizeof(st->peak));
		memset(st->upeak, 0, sizeof(st->upeak));
		st->have_peak = 1;
		st->peak_hour = h;
	}
	for (; st->peak_hour < h; st->peak_hour++) {
		st->peak[(st->peak_hour + 1) % PEAK_HOURS] = 0;
		st->upeak[(st->peak_hour + 1) % PEAK_HOURS] = 0;
	}
}

static double ring_max(const float *ring, int64_t h, int64_t nh)
{
	double m = 0;
	for (int64_t k = 0; k <= nh && k < PEAK_HOURS; k++)
		if (ring[(h - k) % PEAK_HOURS] > m)
			m = ring[(h - k) % PEAK_HOURS];
	return m;
}

/* Note the target tg of the interval at t in the hourly peaks; return the
 * highest target of the last dwell (tg itself without a dwell). */
static int64_t dwell_level(ahead_state *st, int64_t t, int64_t tg)
{
	int64_t h = t / 3600;
	if (h < st->peak_hour && st->have_peak)
		h = st->peak_hour; /* time does not go back; keep the ring */
	rings_to(st, h);
	float *cur = &st->peak[h % PEAK_HOURS];
	if ((float)tg > *cur)
		*cur = (float)tg;
	if (!st->dwell_s)
		return tg;
	/* float rounding: the level never falls below tg itself */
	int64_t m = (int64_t)ceil(ring_max(st->peak, h, (st->dwell_s + 3599) / 3600));
	return m > tg ? m : tg;
}

/* The economy's verdict on the target tg for the interval at t. */
static void apply_target(ahead_state *st, int64_t t, int64_t tg)
{
	if (st->per_day > 0 && st->last_t && t > st->last_t) {
		st->tokens += st->per_day * (double)(t - st->last_t) / 86400.0;
		if (st->tokens > st->per_day)
			st->tokens = st->per_day;
	}
	st->last_t = t;
	int64_t level = dwell_level(st, t, tg);
	if (tg > st->res) {
		st->res = tg; /* a grow is never held back */
		st->last_change = t;
		st->tokens -= 1;
		return;
	}
	if (!((double)level < (1.0 - st->hyst) * (double)st->res))
		return;
	if (st->dwell_s && t - st->last_change < st->dwell_s)
		return;
	if (st->per_day > 0 && st->tokens < 1)
		return;
	st->res = level;
	st->last_change = t;
	st->tokens -= 1;
}

static void candidates(const ahead_state *st, double *fk)
{
	fk[0] = st->last;
	fk[1] = st->prev > st->last ? st->prev : st->last;
}

/* The score to reserve at. Walks the score distribution (the hour's
 * histogram plus the workload's as a prior) from the bottom up to the
 * quantile Q, and keeps the score whose reservation r minimises
 * r + cost x P(usage > r): a violation is worth `cost` capacity-intervals
 * of idle reservation. Below the quantile this stops paying for rare, huge
 * jumps (a VM switching from idle to 8 busy cores) with capacity held all
 * the time, and spends it where coverage is cheap. */
static double reserve_score(const ahead_state *st, int64_t t, double f)
{
	const rhist *hs = &st->slot[slot_of(t)];
	double ds = exp2(-((double)t - (double)st->ref_t) / HL_SLOT);
	double da = exp2(-((double)t - (double)st->ref_t) / HL_ALL);
	double na = st->all.total * da;
	if (!(na > 0))
		return 2.0;
	double ka = PRIOR_SAMPLES / st->all.total;
	double tot = hs->total * ds + PRIOR_SAMPLES;
	/* Top down: the scores worth reserving for sit in the upper tail, so
	 * the walk is short. `above` is the weight of the buckets above b. */
	const double growth = exp((LOG_HI - LOG_LO) / NB);
	double tail_max = (1.0 - st->q) * tot, above = 0;
	int b = hs->maxb > st->all.maxb ? hs->maxb : st->all.maxb;
	double end = bucket_end(b);
	while (b > 0) {
		double wb = hs->w[b] * ds + st->all.w[b] * ka;
		if (above + wb > tail_max)
			break;
		above += wb;
		b--;
		end /= growth;
	}
	/* b is the quantile's bucket; P(score > end of b) = above / tot */
	if (st->cost <= 0)
		return end;
	double best_v = HUGE_VAL, best_end = end;
	for (;;) {
		double r = (f + st->b) * end - st->b;
		double v = (r > 0 ? r : 0) + st->cost * above / tot;
		if (v < best_v) {
			best_v = v;
			best_end = end;
		}
		/* lower buckets only add violation cost once r reaches 0 */
		if (b == 0 || r <= 0 || st->cost * above / tot >= best_v)
			break;
		above += hs->w[b] * ds + st->all.w[b] * ka;
		b--;
		end /= growth;
	}
	return best_end;
}

/* Candidate k's score quantile q from its coarse histogram, top down.
 * All its weights share one decay factor, so it cancels out. */
static double cand_score(const ahead_state *st, int k)
{
	const double growth = exp2(10.0 / CB); /* the range is 2^-5..2^5 */
	double tail = (1.0 - st->q) * st->ctotal[k], above = 0, end = st->cend[k];
	int b = st->cmaxb[k];
	while (b > 0 && above + st->cw[k][b] <= tail) {
		above += st->cw[k][b--];
		end /= growth;
	}
	return end;
}

/* fb: the score's fine bucket */
static void cand_add(ahead_state *st, int k, int fb, double w)
{
	int b = fb / (NB / CB);
	st->cw[k][b] += (float)w;
	st->ctotal[k] += w;
	if (b > st->cmaxb[k] || st->cend[k] == 0) {
		if (b > st->cmaxb[k])
			st->cmaxb[k] = b;
		st->cend[k] = exp(LOG_LO + (LOG_HI - LOG_LO) * (double)(st->cmaxb[k] + 1) / CB);
	}
}

static int64_t ah_reserve(void *s, int64_t t, int64_t requested)
{
	ahead_state *st = s;
	if (!st->have)
		return st->res;
	candidates(st, st->fk);
	double f = st->fk[st->choice];
	double sc = reserve_score(st, t, f);
	double target = (f + st->b) * sc - st->b;
	if (st->peak_cap >= 0 && st->have_peak) {
		double cap = ring_max(st->upeak, st->peak_hour, PEAK_HOURS - 1) * (1.0 + st->peak_cap);
		if (target > cap)
			target = cap > f ? cap : f;
	}
	if (target < 0)
		target = 0;
	if (target > 4e18)
		target = 4e18;
	int64_t tg = (int64_t)ceil(target);
	st->fc = f;
	for (int k = 0; k < NFC; k++)
		st->rk[k] = (st->fk[k] + st->b) * cand_score(st, k) - st->b;
	st->have_fc = 1;
	apply_target(st, t, tg);
	/* cold start: the requested size until the forecast has had hold_s
	 * to earn trust (then the hysteresis lets it down in one step) */
	if (st->hold_s > 0 && t < st->hold_until && requested > st->res)
		st->res = requested;
	st->hard = st->res;
	if (st->hard_margin >= 0) {
		/* the safety net: the reservation or the last 48 h's peak usage,
		 * whichever is higher, plus the margin */
		double u = ring_max(st->upeak, st->peak_hour, PEAK_HOURS - 1);
		double base = u > (double)st->res ? u : (double)st->res;
		double hv = ceil(base * (1.0 + st->hard_margin));
		st->hard = hv > 4e18 ? (int64_t)4e18 : (int64_t)hv;
		if (st->hard < st->res)
			st->hard = st->res;
	}
	return st->res;
}

static void add_score(rhist *h, int b, double w)
{
	h->w[b] += (float)w;
	if (b > h->maxb)
		h->maxb = b;
	h->total += w;
}

static void ah_observe(void *s, int64_t t, int64_t used, int64_t reserved, int64_t requested)
{
	(void)reserved;
	(void)requested;
	ahead_state *st = s;
	double u = (double)used;
	int64_t h = t / 3600;
	if (!st->have_peak || h >= st->peak_hour) {
		rings_to(st, h);
		if ((float)u > st->upeak[h % PEAK_HOURS])
			st->upeak[h % PEAK_HOURS] = (float)u;
	}
	if (!st->have) {
		st->have = 1;
		st->ref_t = t;
		st->hold_until = t + (int64_t)st->hold_s;
		st->last = u;
		/* cold start: one pseudo-score of 2 in the workload's histogram.
		 * Without it the first few scores alone set the margin, and at
		 * high quantiles a new workload starts nearly without one (on
		 * Bitbrains half of memory's violations at quantile 0.9999 fell
		 * in each VM's first day). At one sample's weight it stops
		 * mattering at moderate quantiles after a few intervals and at
		 * 0.998 within about a day. */
		int sb = bucket_of(SEED_SCORE);
		st->all.w[sb] += (float)SEED_WEIGHT;
		st->all.total += SEED_WEIGHT;
		if (sb > st->all.maxb)
			st->all.maxb = sb;
		for (int k = 0; k < NFC; k++)
			cand_add(st, k, sb, SEED_WEIGHT);
	}
	/* renormalise the decay weights long before they could overflow */
	if ((double)(t - st->ref_t) > 40.0 * HL_ALL) {
		double d = (double)(t - st->ref_t);
		rh_scale(&st->all, exp2(-d / HL_ALL));
		for (int k = 0; k < SLOTS; k++)
			rh_scale(&st->slot[k], exp2(-d / HL_SLOT));
		double fa = exp2(-d / HL_ALL);
		for (int k = 0; k < NFC; k++) {
			for (int b = 0; b <= st->cmaxb[k]; b++)
				st->cw[k][b] = (float)(st->cw[k][b] * fa);
			st->ctotal[k] *= fa;
		}
		st->ref_t = t;
	}
	if (st->have_fc) {
		double dt = (double)t - (double)st->ref_t;
		double wa = exp2(dt / HL_ALL);
		int fb = bucket_of((u + st->b) / (st->fc + st->b));
		add_score(&st->all, fb, wa);
		add_score(&st->slot[slot_of(t)], fb, exp2(dt / HL_SLOT));
		st->have_fc = 0;
		/* which candidate would have reserved best, each at its own score
		 * quantile: pinball loss at q of its reservation, i.e. q x
		 * shortfall or (1 - q) x idle capacity */
		int best = 0;
		for (int k = 0; k < NFC; k++) {
			double rk = st->rk[k] > 0 ? st->rk[k] : 0;
			double l = u > rk ? st->q * (u - rk) : (1 - st->q) * (rk - u);
			st->loss[k] += LOSS_ALPHA * (l - st->loss[k]);
			if (st->loss[k] < st->loss[best])
				best = k;
			/* the candidate in use scored exactly this; the other, anew */
			cand_add(st, k, st->fk[k] == st->fc ? fb : bucket_of((u + st->b) / (st->fk[k] + st->b)), wa);
		}
		st->choice = best;
	}
	st->prev = st->last;
	st->last = u;
}

static int64_t ah_limit(void *s, int64_t t)
{
	(void)t;
	const ahead_state *st = s;
	return st->hard_margin >= 0 ? st->hard : -1;
}

const ah_sizing_ops ah_sizing_ahead_ops = {
	.name = "ahead",
	.state_size = sizeof(ahead_state),
	.init = ah_init,
	.reserve = ah_reserve,
	.observe = ah_observe,
	.limit = ah_limit,
};
