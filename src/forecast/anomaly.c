/* Streaming anomaly detector: robust level + seasonal predictors run side by
 * side, residuals scaled by a decaying mean absolute residual, a score in
 * [0,1], change-point re-levelling and event grouping. See
 * include/ahead/anomaly.h for the model; docs/ANOMALY.md for the reasoning. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/anomaly.h"
#include "ahead/error.h"

#define MAX_SHIFT_POINTS 64
#define N_PRED 3 /* level only, daily, weekly */
#define MAD_TO_SIGMA 1.2533141373155 /* sqrt(pi/2): E|N(0,1)| = 1/that */
#define Z_CAP 10.0                   /* single points feed the sustained EWMA at most this */

typedef struct {
	uint32_t period;   /* 1 = level only */
	double *s;         /* seasonal offsets, period entries (NULL when period == 1) */
	double level;
	double mad;        /* decaying mean absolute (clipped) residual */
	uint64_t learned;  /* points learned (not counting missing ones) */
	uint64_t scale_n;  /* residuals the scale learned from (repeats may not count) */
	uint64_t pos;      /* points seen, missing included: phase = pos % period */
	double ring[MAX_SHIFT_POINTS]; /* last deseasonalised values, for re-levelling */
	double ring_ds[MAX_SHIFT_POINTS]; /* seasonal update made at that point */
	uint32_t ring_ph[MAX_SHIFT_POINTS]; /* and its phase */
	uint32_t ring_n, ring_at;
	bool on;
} predictor;

struct ah_anomaly_detector {
	ah_anomaly_config cfg;
	predictor p[N_PRED];
	uint64_t index;    /* points pushed */
	int model;         /* predictor used for the last scored point */
	int64_t first_t, last_t;
	double zs;         /* sustained surprise: EWMA of signed z */
	double zq;         /* decaying tail quantile of |z| (0 until started) */
	uint32_t run;      /* consecutive same-sign |z| >= shift_z */
	int run_sign;
	uint32_t refractory_left;
	/* surprise memory: |z| of the last day (and a few points), NULL when off */
	double *zmem;
	uint32_t mem_period, mem_len; /* one day in points, ring length */
	double vmin, vmax; /* range of the values seen so far */
	double prev_value;
	bool have_prev;
	bool have_range;
	/* flat lines: runs of one repeated value */
	double run_value;
	uint64_t run_len, run_max, run_start; /* current run, longest before it, where it began */
	/* a lone hot point below confirm_score waits for a second one */
	uint32_t pend_left; /* points the candidate may still wait (0: no candidate) */
	ah_anomaly_event pend;
	/* open event */
	bool open;
	ah_anomaly_event ev;
	uint32_t calm;
};

void ah_anomaly_config_default(ah_anomaly_config *c)
{
	memset(c, 0, sizeof(*c));
	c->threshold = 0.38;
	c->z_half = 6.0;
	c->sustained_gain = 1.5;
	c->sustained_alpha = 0.2;
	c->warmup_points = 30;
	c->level_alpha = 0.05;
	c->season_gamma = 0.1;
	c->scale_beta = 0.01;
	c->clip_z = 4.0;
	c->season_points = 0;
	c->step_ns = 0;
	c->shift_points = 5;
	c->shift_z = 3.5;
	c->merge_gap_points = 3;
	c->refractory_points = 100;
	c->tail_quantile = 0.99;
	c->tail_rate = 0.05;
	c->memory_gain = 0.9;
	c->memory_width_points = 12;
	c->confirm_score = 0.45;
	c->confirm_points = 20;
	c->extreme_gain = 0.5;
	c->extreme_min_score = 0.15;
	c->extreme_margin_z = 0.25;
	c->flat_score = 0.6;
	c->flat_min_points = 30;
	c->repeats_keep_scale = 1;
}

const char *ah_anomaly_kind_name(ah_anomaly_kind k)
{
	return k == AH_ANOMALY_LEVEL_SHIFT ? "level_shift" : "spike";
}

static int bad(char *err, size_t len, const char *field, const char *why)
{
	if (err && len)
		snprintf(err, len, "%s: %s", field, why);
	return AH_EINVAL;
}

static bool in01(double x, bool incl0, bool incl1)
{
	return isfinite(x) && (incl0 ? x >= 0 : x > 0) && (incl1 ? x <= 1 : x < 1);
}

int ah_anomaly_config_check(const ah_anomaly_config *c, char *err, size_t len)
{
	if (!c)
		return bad(err, len, "config", "missing");
	if (!in01(c->threshold, false, true))
		return bad(err, len, "threshold", "must be in (0, 1]");
	if (!isfinite(c->z_half) || c->z_half <= 0 || c->z_half > 1e6)
		return bad(err, len, "z_half", "must be in (0, 1e6]");
	if (!isfinite(c->sustained_gain) || c->sustained_gain < 0 || c->sustained_gain > 100)
		return bad(err, len, "sustained_gain", "must be in [0, 100]");
	if (!in01(c->sustained_alpha, false, true))
		return bad(err, len, "sustained_alpha", "must be in (0, 1]");
	if (!in01(c->level_alpha, false, true))
		return bad(err, len, "level_alpha", "must be in (0, 1]");
	if (!in01(c->season_gamma, false, true))
		return bad(err, len, "season_gamma", "must be in (0, 1]");
	if (!in01(c->scale_beta, false, true))
		return bad(err, len, "scale_beta", "must be in (0, 1]");
	if (!isfinite(c->clip_z) || c->clip_z < 1 || c->clip_z > 1e6)
		return bad(err, len, "clip_z", "must be in [1, 1e6]");
	if (!isfinite(c->tail_quantile) || c->tail_quantile < 0 || c->tail_quantile >= 1)
		return bad(err, len, "tail_quantile", "must be in [0, 1)");
	if (!in01(c->tail_rate, false, false))
		return bad(err, len, "tail_rate", "must be in (0, 1)");
	if (!isfinite(c->memory_gain) || c->memory_gain < 0 || c->memory_gain > 100)
		return bad(err, len, "memory_gain", "must be in [0, 100]");
	if (c->memory_width_points > 1000)
		return bad(err, len, "memory_width_points", "must be <= 1000");
	if (!isfinite(c->flat_score) || c->flat_score < 0 || c->flat_score > 1)
		return bad(err, len, "flat_score", "must be in [0, 1]");
	if (c->repeats_keep_scale > 1)
		return bad(err, len, "repeats_keep_scale", "must be 0 or 1");
	if (c->flat_min_points < 2)
		return bad(err, len, "flat_min_points", "must be >= 2");
	if (c->confirm_points < 1 || c->confirm_points > 100000)
		return bad(err, len, "confirm_points", "must be in [1, 100000]");
	if (!isfinite(c->confirm_score) || c->confirm_score < 0 || c->confirm_score > 1)
		return bad(err, len, "confirm_score", "must be in [0, 1]");
	if (!in01(c->extreme_gain, true, true))
		return bad(err, len, "extreme_gain", "must be in [0, 1]");
	if (!in01(c->extreme_min_score, true, true))
		return bad(err, len, "extreme_min_score", "must be in [0, 1]");
	if (!isfinite(c->extreme_margin_z) || c->extreme_margin_z < 0 || c->extreme_margin_z > 100)
		return bad(err, len, "extreme_margin_z", "must be in [0, 100]");
	if (c->season_points > AH_ANOMALY_MAX_SEASON)
		return bad(err, len, "season_points", "larger than AH_ANOMALY_MAX_SEASON");
	if (c->step_ns < 0)
		return bad(err, len, "step_ns", "must be >= 0");
	if (c->shift_points < 1 || c->shift_points > MAX_SHIFT_POINTS)
		return bad(err, len, "shift_points", "must be in [1, 64]");
	if (!isfinite(c->shift_z) || c->shift_z <= 0)
		return bad(err, len, "shift_z", "must be > 0");
	if (c->merge_gap_points > 1000000 || c->refractory_points > 100000000 ||
	    c->warmup_points > 100000000)
		return bad(err, len, "merge_gap_points/refractory_points/warmup_points", "too large");
	return 0;
}

static int predictor_on(predictor *p, uint32_t period)
{
	memset(p, 0, sizeof(*p));
	p->period = period ? period : 1;
	if (p->period > 1) {
		p->s = calloc(p->period, sizeof(*p->s));
		if (!p->s)
			return AH_ENOMEM;
	}
	p->on = true;
	return 0;
}

/* The surprise memory keeps |z| over one period plus the search width, so
 * the look back never reads a slot already overwritten. */
static int memory_on(ah_anomaly_detector *d, uint32_t period)
{
	if (d->cfg.memory_gain <= 0 || period < 2)
		return 0;
	d->mem_period = period;
	d->mem_len = period + d->cfg.memory_width_points + 1;
	d->zmem = calloc(d->mem_len, sizeof(*d->zmem));
	return d->zmem ? 0 : AH_ENOMEM;
}

/* Largest |z| within memory_width_points of the same time one period ago
 * (the recurring spikes of a daily job drift by a few points). Slots ahead
 * of the current point that are also less than a period back are skipped. */
static double memory_peak(const ah_anomaly_detector *d)
{
	uint64_t w = d->cfg.memory_width_points, span = d->mem_period;
	if (d->index < span + w)
		return 0;
	uint64_t last = 2 * w < span + w - 1 ? 2 * w : span + w - 1;
	double m = 0;
	for (uint64_t j = 0; j <= last; j++) {
		double x = d->zmem[(d->index - span - w + j) % d->mem_len];
		if (x > m)
			m = x;
	}
	return m;
}

int ah_anomaly_new(const ah_anomaly_config *cfg, ah_anomaly_detector **out)
{
	ah_anomaly_config def;
	if (!out)
		return AH_EINVAL;
	if (!cfg) {
		ah_anomaly_config_default(&def);
		cfg = &def;
	}
	if (ah_anomaly_config_check(cfg, NULL, 0))
		return AH_EINVAL;
	ah_anomaly_detector *d = calloc(1, sizeof(*d));
	if (!d)
		return AH_ENOMEM;
	d->cfg = *cfg;
	int rc = predictor_on(&d->p[0], 1);
	if (!rc && cfg->season_points > 1)
		rc = predictor_on(&d->p[1], cfg->season_points);
	if (!rc && cfg->season_points > 1)
		rc = memory_on(d, cfg->season_points);
	if (rc) {
		ah_anomaly_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

void ah_anomaly_free(ah_anomaly_detector *d)
{
	if (!d)
		return;
	for (int i = 0; i < N_PRED; i++)
		free(d->p[i].s);
	free(d->zmem);
	free(d);
}

uint32_t ah_anomaly_season(const ah_anomaly_detector *d)
{
	return d ? d->p[d->model].period : 1;
}

/* Season candidates from the spacing: one day and one week of points. */
static int auto_seasons(ah_anomaly_detector *d, int64_t step_ns)
{
	const int64_t day_ns = 86400LL * 1000000000LL;
	if (step_ns <= 0 || day_ns % step_ns)
		return 0;
	int64_t day = day_ns / step_ns;
	int rc = 0;
	if (day >= 4 && day <= AH_ANOMALY_MAX_SEASON)
		rc = predictor_on(&d->p[1], (uint32_t)day);
	if (!rc && day >= 2 && day * 7 <= AH_ANOMALY_MAX_SEASON)
		rc = predictor_on(&d->p[2], (uint32_t)(day * 7));
	return rc;
}

/* A predictor can be used once its profile has seen two full seasons (its
 * first season only initialises the profile) and the scale has warmed up. */
static bool ready(const ah_anomaly_detector *d, const predictor *p)
{
	if (!p->on)
		return false;
	uint64_t need = p->period > 1 ? 2ull * p->period : 0;
	return p->learned >= need + d->cfg.warmup_points && p->scale_n >= d->cfg.warmup_points;
}

static double predict(const predictor *p)
{
	if (p->period == 1)
		return p->level;
	return p->level + p->s[p->pos % p->period];
}

static double sigma_of(const predictor *p)
{
	double s = MAD_TO_SIGMA * p->mad;
	double floor = 1e-9 * (fabs(p->level) + 1e-3);
	return s > floor ? s : floor;
}

/* Learns x (not NaN); returns the raw residual (0 while initialising). */
static double learn(const ah_anomaly_detector *d, predictor *p, double x, bool repeat)
{
	const ah_anomaly_config *c = &d->cfg;
	uint32_t ph = (uint32_t)(p->pos % p->period);
	double r = 0;
	if (p->learned == 0 && p->period == 1) {
		p->level = x;
		p->scale_n = 1; /* the level's first value counts toward the warm-up */
	} else if (p->period > 1 && p->learned < p->period) {
		/* first season: remember raw values; level is their running mean */
		p->s[ph] = x;
		p->level += (x - p->level) / (double)(p->learned + 1);
		if (p->learned + 1 == p->period)
			for (uint32_t k = 0; k < p->period; k++)
				p->s[k] -= p->level;
	} else {
		r = x - predict(p);
		if (!isfinite(r)) {
			/* values near DBL_MAX: the residual overflows; learn nothing */
			p->learned++;
			return 0;
		}
		double lim = c->clip_z * sigma_of(p);
		uint64_t seen = p->scale_n; /* residuals the scale has learned from */
		/* until the scale has warmed up, learn from everything */
		double rc = seen < c->warmup_points ? r : (r > lim ? lim : (r < -lim ? -lim : r));
		double beta = c->scale_beta;
		if (seen < c->warmup_points && 1.0 / (double)(seen + 1) > beta)
			beta = 1.0 / (double)(seen + 1);
		/* an exact repeat of the last value (an idle or stuck metric, a
		 * coarse sensor) says nothing about the spread: letting it shrink
		 * the scale makes the next ordinary change look enormous */
		if (!repeat || !c->repeats_keep_scale) {
			p->mad += beta * (fabs(rc) - p->mad);
			p->scale_n++;
		}
		p->level += c->level_alpha * rc;
		double ds = 0;
		if (p->period > 1) {
			ds = c->season_gamma * (1.0 - c->level_alpha) * rc;
			p->s[ph] += ds;
		}
		p->ring[p->ring_at] = p->period > 1 ? x - p->s[ph] + ds : x;
		p->ring_ds[p->ring_at] = ds;
		p->ring_ph[p->ring_at] = ph;
		p->ring_at = (p->ring_at + 1) % c->shift_points;
		if (p->ring_n < c->shift_points)
			p->ring_n++;
	}
	p->learned++;
	return r;
}

/* Change point: move every predictor's level to the mean of its recent
 * deseasonalised values (the clipped updates only moved it part of the way). */
static void relevel(ah_anomaly_detector *d)
{
	for (int i = 0; i < N_PRED; i++) {
		predictor *p = &d->p[i];
		if (!p->on || !p->ring_n)
			continue;
		double sum = 0;
		for (uint32_t k = 0; k < p->ring_n; k++) {
			sum += p->ring[k];
			/* the shift was not seasonal: take back what the profile learned */
			if (p->period > 1)
				p->s[p->ring_ph[k]] -= p->ring_ds[k];
		}
		p->level = sum / p->ring_n;
		p->ring_n = p->ring_at = 0;
	}
	d->zs = 0;
	d->run = 0;
}

static void close_event(ah_anomaly_detector *d, ah_anomaly_event *ev)
{
	*ev = d->ev;
	d->open = false;
	d->calm = 0;
	d->refractory_left = d->cfg.refractory_points;
}

int ah_anomaly_push(ah_anomaly_detector *d, int64_t t_ns, double value, ah_anomaly_point *out,
		    ah_anomaly_event *closed)
{
	if (!d || !out || isinf(value))
		return AH_EINVAL;
	if (d->index > 0 && t_ns < d->last_t)
		return AH_EINVAL;
	const ah_anomaly_config *c = &d->cfg;
	ah_anomaly_point pt = {0};
	pt.predicted = NAN;
	double own = 0; /* the score of this point's own |z|, without the sustained term */
	bool habit = false; /* the daily memory raised the bar for this point */

	if (d->index == 0)
		d->first_t = t_ns;
	if (d->index == 1 && c->season_points == 0) {
		int64_t step = c->step_ns ? c->step_ns : t_ns - d->first_t;
		int rc = auto_seasons(d, step);
		if (!rc && d->p[1].on)
			rc = memory_on(d, d->p[1].period);
		if (rc)
			return rc;
		/* seasonal predictors start one point late: align their phase */
		for (int i = 1; i < N_PRED; i++)
			if (d->p[i].on)
				d->p[i].pos = 1;
	}

	/* the model in use: the ready predictor with the smallest residual scale */
	int best = -1;
	for (int i = 0; i < N_PRED; i++)
		if (ready(d, &d->p[i]) && (best < 0 || d->p[i].mad < d->p[best].mad))
			best = i;

	if (best >= 0)
		d->model = best;
	if (!isnan(value) && best >= 0) {
		const predictor *p = &d->p[best];
		pt.predicted = predict(p);
		double sigma = sigma_of(p);
		double z = (value - pt.predicted) / sigma;
		if (isnan(z))
			z = 0;
		pt.z = z;
		double zc = z > Z_CAP ? Z_CAP : (z < -Z_CAP ? -Z_CAP : z);
		d->zs += c->sustained_alpha * (zc - d->zs);
		double u = fabs(z);
		if (c->sustained_gain * fabs(d->zs) > u)
			u = c->sustained_gain * fabs(d->zs);
		if (c->tail_quantile > 0) {
			/* surprise relative to this series' own tail: a metric whose
			 * residuals are heavy-tailed does not alarm on its usual spikes */
			if (d->zq == 0)
				d->zq = 2.576; /* |z| of a Gaussian at 0.99 */
			double ref = d->zq > 1.0 ? d->zq : 1.0;
			if (d->zmem) {
				/* a surprise that recurs at this time of day is the
				 * series' habit, not an anomaly */
				double m = memory_peak(d);
				if (c->memory_gain * m > ref) {
					ref = c->memory_gain * m;
					habit = true;
				}
			}
			pt.score = u / (u + c->z_half * ref / 3.0);
			own = fabs(z) / (fabs(z) + c->z_half * ref / 3.0);
			if (fabs(z) > d->zq)
				d->zq *= 1.0 + c->tail_rate * c->tail_quantile;
			else
				d->zq *= 1.0 - c->tail_rate * (1.0 - c->tail_quantile);
			if (d->zq > 1e12)
				d->zq = 1e12;
		} else {
			pt.score = u / (u + c->z_half);
			own = fabs(z) / (fabs(z) + c->z_half);
		}
		if (!(pt.score <= 1.0)) /* u infinite: as anomalous as it gets */
			pt.score = 1.0;
		/* a record by at least extreme_margin_z sigmas: bounded noise sets
		 * new records by hair's breadths, a real excursion clears them */
		double by = c->extreme_margin_z * sigma;
		if (c->extreme_gain > 0 && pt.score >= c->extreme_min_score && d->have_range && !habit &&
		    (value > d->vmax + by || value < d->vmin - by))
			/* surprising and outside every value the series has shown:
			 * rank it above surprises within the usual range */
			pt.score += (1.0 - pt.score) * c->extreme_gain;
		int sign = z > 0 ? 1 : -1;
		if (fabs(z) >= c->shift_z) {
			d->run = (d->run && sign == d->run_sign) ? d->run + 1 : 1;
			d->run_sign = sign;
		} else
			d->run = 0;
	}
	if (!isnan(value) && c->flat_score > 0) {
		/* a metric that freezes: the value repeats for longer than any
		 * run seen before (and at least flat_min_points) */
		if (d->run_len && value == d->run_value)
			d->run_len++;
		else {
			if (d->run_len > d->run_max)
				d->run_max = d->run_len;
			d->run_value = value;
			d->run_len = 1;
			d->run_start = d->index;
		}
		uint64_t need = d->run_max + 1 > c->flat_min_points ? d->run_max + 1 : c->flat_min_points;
		/* a run begun during warm-up (a series constant from the start) is
		 * the series itself, not a freeze */
		if (d->run_len == need && d->run_start >= c->warmup_points && pt.score < c->flat_score)
			pt.score = c->flat_score;
	}
	if (!isnan(value)) {
		if (!d->have_range || value > d->vmax)
			d->vmax = value;
		if (!d->have_range || value < d->vmin)
			d->vmin = value;
		d->have_range = true;
		for (int i = 0; i < N_PRED; i++)
			if (d->p[i].on)
				learn(d, &d->p[i], value, d->have_prev && value == d->prev_value);
		d->prev_value = value;
		d->have_prev = true;
		if (d->run >= c->shift_points) {
			relevel(d);
			pt.relevel = true;
			if (d->open)
				d->ev.kind = AH_ANOMALY_LEVEL_SHIFT;
		}
	}
	for (int i = 0; i < N_PRED; i++)
		if (d->p[i].on)
			d->p[i].pos++;
	if (d->zmem)
		d->zmem[d->index % d->mem_len] = fabs(pt.z);

	/* events */
	bool hot = pt.score >= c->threshold;
	if (hot && !d->open && d->refractory_left > 0)
		hot = false;
	if (d->refractory_left > 0 && !d->open)
		d->refractory_left--;
	bool start = hot && !d->open;
	if (start && pt.score < c->confirm_score && !d->pend_left) {
		/* one point just over the threshold is most often noise: it opens
		 * an event only if another hot point follows within confirm_points;
		 * until then it is not an alarm (anomalous stays false) */
		memset(&d->pend, 0, sizeof(d->pend));
		d->pend.start_ns = d->pend.peak_ns = t_ns;
		d->pend.start_index = d->pend.peak_index = d->index;
		d->pend.peak_score = pt.score;
		d->pend.kind = pt.relevel ? AH_ANOMALY_LEVEL_SHIFT : AH_ANOMALY_SPIKE;
		d->pend_left = c->confirm_points;
		start = hot = false;
	} else if (start && d->pend_left && pt.score < c->confirm_score && !(own >= c->threshold)) {
		/* the sustained term's echo of the candidate confirms nothing */
		start = hot = false;
		d->pend_left--;
	} else if (!hot && d->pend_left)
		d->pend_left--;
	pt.anomalous = hot;
	if (hot) {
		if (start) {
			d->open = true;
			d->calm = 0;
			if (d->pend_left) { /* confirmed: the event began at the candidate */
				d->ev = d->pend;
				/* the alarm is raised now: it carries the stronger of the
				 * two hot points, so the onset ranks by the evidence seen */
				if (d->pend.peak_score > pt.score)
					pt.score = d->pend.peak_score;
				if (pt.relevel)
					d->ev.kind = AH_ANOMALY_LEVEL_SHIFT;
				d->pend_left = 0;
			} else {
				memset(&d->ev, 0, sizeof(d->ev));
				d->ev.start_ns = d->ev.peak_ns = t_ns;
				d->ev.start_index = d->ev.peak_index = d->index;
				d->ev.peak_score = pt.score;
				d->ev.kind = pt.relevel ? AH_ANOMALY_LEVEL_SHIFT : AH_ANOMALY_SPIKE;
			}
			pt.event_start = true;
		}
		d->calm = 0;
		d->ev.end_ns = t_ns;
		d->ev.end_index = d->index;
		if (pt.score > d->ev.peak_score) {
			d->ev.peak_score = pt.score;
			d->ev.peak_ns = t_ns;
			d->ev.peak_index = d->index;
		}
	} else if (d->open && ++d->calm > c->merge_gap_points) {
		ah_anomaly_event ev;
		close_event(d, &ev);
		if (closed)
			*closed = ev;
		pt.event_closed = true;
	}
	d->last_t = t_ns;
	d->index++;
	*out = pt;
	return 0;
}

int ah_anomaly_finish(ah_anomaly_detector *d, ah_anomaly_event *ev, bool *has)
{
	if (!d || !ev || !has)
		return AH_EINVAL;
	*has = false;
	if (d->open) {
		close_event(d, ev);
		*has = true;
	}
	return 0;
}

static int push_event(ah_anomaly_event **evs, size_t *n, size_t *cap, const ah_anomaly_event *e)
{
	if (*n == AH_ANOMALY_MAX_EVENTS)
		return AH_ETOOBIG;
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		ah_anomaly_event *ne = realloc(*evs, nc * sizeof(*ne));
		if (!ne)
			return AH_ENOMEM;
		*evs = ne;
		*cap = nc;
	}
	(*evs)[(*n)++] = *e;
	return 0;
}

int ah_anomaly_detect(const ah_anomaly_config *cfg, const int64_t *t_ns, const double *v, size_t n,
		      double *scores, ah_anomaly_event **events_out, size_t *n_events_out)
{
	ah_anomaly_detector *d = NULL;
	ah_anomaly_event *evs = NULL, ev;
	size_t ne = 0, cap = 0;
	int rc;
	if ((n && (!t_ns || !v)) || !events_out || !n_events_out)
		return AH_EINVAL;
	if ((rc = ah_anomaly_new(cfg, &d)))
		return rc;
	for (size_t i = 0; i < n; i++) {
		ah_anomaly_point pt;
		if ((rc = ah_anomaly_push(d, t_ns[i], v[i], &pt, &ev)))
			goto out;
		if (scores)
			scores[i] = pt.score;
		if (pt.event_closed && (rc = push_event(&evs, &ne, &cap, &ev)))
			goto out;
	}
	bool has;
	if ((rc = ah_anomaly_finish(d, &ev, &has)))
		goto out;
	if (has && (rc = push_event(&evs, &ne, &cap, &ev)))
		goto out;
	*events_out = evs;
	*n_events_out = ne;
	evs = NULL;
out:
	free(evs);
	ah_anomaly_free(d);
	return rc;
}
