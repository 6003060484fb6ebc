/* ahead: model choice by rolling-origin evaluation, and conformal intervals
 * kept calibrated by feedback (see include/ahead/forecast.h). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/forecast.h"
#include "block_pool.h"
#include "sort_doubles.h"

#define NLEV 5
static const double LEV[NLEV] = {0.025, 0.1, 0.5, 0.9, 0.975};
#define NCHK_H 4
/* Levels whose adaptive-conformal corrections are tracked; a requested
 * level takes the correction interpolated between its neighbours. */
#define NACI 11
static const double ALEV[NACI] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975, 0.99};
/* ACI step (Gibbs & Candes use 0.005): tuned on the tuning set */
#ifndef ACI_GAMMA
#define ACI_GAMMA 0.005
#endif
static const size_t BAND_LO[AH_FC_MAX_BANDS + 1] = {1, 2, 7, 25, 49, 169, (size_t)-1};

typedef struct {
	size_t target, h;
	double point, q[NLEV];
} check;

typedef struct {
	char name[32];
	ah_model *m;
	bool blend;
	int base;     /* >= 0: this is base's forecast plus a tracked median bias */
	double *bias; /* per horizon, for base >= 0 */
	/* pending point forecasts: slot = origin % H, entry h-1 */
	double *pend;
	size_t *pend_origin;
	/* residual windows: res[(h-1)*W + i], ring per horizon */
	double *res;
	size_t *res_n, *res_pos;
	double *sorted; /* after the fit, a band candidate keeps windows sorted too (O(1) quantiles; sorted_at) */
	/* accumulators over scored targets */
	double *abs_sum, *smape_sum;
	size_t *cnt;
	double pin_sum;
	size_t pin_n, in80, in95, chk_n;
	check *chk;
	size_t nchk, chk_cap;
	const bool *own; /* after the fit: the horizons this one forecasts (NULL: all) */
	size_t pend_bytes, win_bytes; /* sizes of pend and of res (and sorted): pooled blocks */
	bool full; /* res holds every grid horizon's window (else only the fit's, by fidx) */
	double *issued; /* during the fit: every origin's forecasts, [origin index][H] */
	size_t issued_bytes;
} cand;

struct ah_forecaster {
	size_t H, W, t, kp, season;
	size_t ke, fo; /* origins are fo + i*ke (ke = 1 after the fit) */
	double scale;
	size_t ncand, chosen;
	cand c[AH_FC_MAX_CANDIDATES];
	size_t blend_members[AH_FC_MAX_CANDIDATES], nmembers;
	double *tmp, *tmp2, *scratch;
	bool *grid;   /* horizons that keep residual windows (1,2,3,4,6,8,12,16,...,H) */
	bool *fitwin; /* of those, the ones filled during the fit (the checks' horizons) */
	size_t *fidx, nfitwin; /* a fit window's index in a candidate's res during the fit */
	const bool *win; /* fitwin during the fit, grid after */
	bool fitting;    /* in the fit's pass: the error sums come after it (cand_tally) */
	/* the forecasts target t scores, the same for every candidate (score_at) */
	size_t at_lo, at_slot, at_step; /* first pending origin, its slot, slot step */
	size_t at_o[NCHK_H], at_oslot[NCHK_H]; /* per check horizon: its origin (-1: none) */
	size_t *gidx, ngrid; /* a grid horizon's window index */
	double *goff; /* grid offsets scratch */
	size_t chk_h[NCHK_H], nchk_h;
	/* per horizon band: the candidate that forecasts it */
	size_t nband, band_c[AH_FC_MAX_BANDS];
	size_t *hcand;  /* horizon h -> candidate (h-1) */
	bool *own;      /* [ncand][H]: hcand[h-1] == i */
	size_t uniq[AH_FC_MAX_BANDS], nuniq; /* distinct band candidates */
	/* adaptive conformal inference, per grid horizon and level of ALEV */
	double *aci_adj;   /* [ngrid][NACI] level corrections */
	double *aci_q;     /* [H slots][ngrid][NACI] issued quantiles */
	size_t *aci_origin;/* [H] origin of each slot */
	ah_fc_choice choice;
};

static bool on_grid(size_t h, size_t H)
{
	/* up to 64 steps every horizon keeps its own window: interpolating
	 * between grid horizons left the in-between ones 1-3 points low on the
	 * tuning set (a seasonal spread is not linear in h) */
	if (h <= 64 || h == H)
		return true;
	if (!(h & (h - 1)))
		return true;
	return h % 3 == 0 && !((h / 3) & (h / 3 - 1));
}

double ah_pinball(double y, double p, double q)
{
	double d = y - p;
	return d >= 0 ? q * d : (q - 1) * d;
}

static void cand_fini(cand *c)
{
	ah_model_free(c->m);
	ah_fc_block_put(c->pend, c->pend_bytes);
	free(c->pend_origin);
	ah_fc_block_put(c->res, c->win_bytes);
	free(c->res_n);
	free(c->res_pos);
	free(c->abs_sum);
	free(c->smape_sum);
	free(c->cnt);
	free(c->chk);
	free(c->bias);
	ah_fc_block_put(c->sorted, c->win_bytes);
	ah_fc_block_put(c->issued, c->issued_bytes);
	memset(c, 0, sizeof(*c));
}

static int cand_init(cand *c, const char *name, ah_model *m, bool blend, size_t H, size_t G, size_t nwin, size_t W,
		     size_t chk_cap)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->m = m;
	c->blend = blend;
	c->base = -1;
	c->pend_bytes = H * H * sizeof(double);
	c->win_bytes = (nwin ? nwin : 1) * W * sizeof(double); /* the fit's windows only */
	c->pend = ah_fc_block_get(c->pend_bytes);
	c->pend_origin = malloc(H * sizeof(size_t));
	c->res = ah_fc_block_get(c->win_bytes);
	c->res_n = calloc(G, sizeof(size_t));
	c->res_pos = calloc(G, sizeof(size_t));
	c->abs_sum = calloc(H, sizeof(double));
	c->smape_sum = calloc(H, sizeof(double));
	c->cnt = calloc(H, sizeof(size_t));
	c->chk_cap = chk_cap;
	c->chk = malloc(chk_cap * sizeof(check));
	if (!c->pend || !c->pend_origin || !c->res || !c->res_n || !c->res_pos || !c->abs_sum ||
	    !c->smape_sum || !c->cnt || !c->chk || (!m && !blend))
		return AH_ENOMEM;
	for (size_t i = 0; i < H; i++)
		c->pend_origin[i] = (size_t)-1;
	return 0;
}

static void reset_acc(cand *c, size_t H)
{
	memset(c->abs_sum, 0, H * sizeof(double));
	memset(c->smape_sum, 0, H * sizeof(double));
	memset(c->cnt, 0, H * sizeof(size_t));
	c->pin_sum = 0;
	c->pin_n = c->in80 = c->in95 = c->chk_n = 0;
}

/* Point forecasts of candidate i for steps 1..h into out. */
static void cand_points(ah_forecaster *f, size_t i, size_t h, double *out)
{
	cand *c = &f->c[i];
	if (c->base >= 0) {
		cand_points(f, (size_t)c->base, h, out);
		for (size_t k = 0; k < h; k++)
			out[k] += c->bias[k];
		return;
	}
	if (!c->blend) {
		ah_model_forecast(c->m, h, NULL, 0, out, NULL);
		return;
	}
	for (size_t k = 0; k < h; k++)
		out[k] = 0;
	for (size_t j = 0; j < f->nmembers; j++) {
		ah_model_forecast(f->c[f->blend_members[j]].m, h, NULL, 0, f->tmp2, NULL);
		for (size_t k = 0; k < h; k++)
			out[k] += f->tmp2[k] / (double)f->nmembers;
	}
}

static double select_k(double *a, size_t n, size_t k) /* k 0-based */
{
	size_t lo = 0, hi = n - 1;
	while (lo < hi) {
		double pv = a[(lo + hi) / 2];
		size_t i = lo, j = hi;
		while (i <= j) {
			while (a[i] < pv)
				i++;
			while (a[j] > pv)
				j--;
			if (i <= j) {
				double t = a[i];
				a[i] = a[j];
				a[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return a[k];
}

/* c's residual window at grid horizon h: during the fit only the checks'
 * horizons have one (16 candidates x 48 windows of 500 were 3 MB touched per
 * fit, of which the fit reads 2 per candidate); after it a band candidate
 * has every one (grow_windows). */
static double *window(const ah_forecaster *f, const cand *c, size_t h)
{
	return c->res + (c->full ? f->gidx[h - 1] : f->fidx[h - 1]) * f->W;
}

/* After the fit, a band candidate keeps a window sorted only where its
 * quantiles are read: the horizons it forecasts and the checks' (the others
 * would cost a sort and a sorted insertion per outcome for nothing; offset()
 * would still answer there, from the ring). */
static bool sorted_at(const ah_forecaster *f, const cand *c, size_t h)
{
	return c->sorted && c->own && (c->own[h - 1] || f->fitwin[h - 1]);
}

/* Conformal offset: the q-quantile of the last h-step residuals (finite-sample
 * rank ceil((n+1)q) above the median, floor((n+1)q) below). NaN if too few. */
static double offset(ah_forecaster *f, const cand *c, size_t h, double q)
{
	size_t g = f->gidx[h - 1], n = c->res_n[g];
	if (n < 10)
		return NAN;
	if (sorted_at(f, c, h)) {
		double r = q >= 0.5 ? ceil((double)(n + 1) * q) : floor((double)(n + 1) * q);
		r = r < 1 ? 1 : r > (double)n ? (double)n : r;
		return c->sorted[g * f->W + (size_t)r - 1];
	}
	memcpy(f->scratch, window(f, c, h), n * sizeof(double));
	double r = q >= 0.5 ? ceil((double)(n + 1) * q) : floor((double)(n + 1) * q);
	if (r < 1)
		r = 1;
	if (r > (double)n)
		r = (double)n;
	return select_k(f->scratch, n, (size_t)r - 1);
}

/* out[j] = the rank[j]-th smallest of a[lo..hi) for j in [jl, jh) (ranks
 * ascending, within [lo, hi)): the middle rank first, then each side within
 * its part (a selection leaves smaller values to the left of its rank and
 * larger ones to the right), so each level searches a shrinking part. */
static void select_ranks(double *a, size_t lo, size_t hi, const size_t *rank, size_t jl, size_t jh, double *out)
{
	if (jl >= jh)
		return;
	size_t jm = jl + (jh - jl) / 2, k = rank[jm];
	out[jm] = select_k(a + lo, hi - lo, k - lo);
	size_t jb = jm, ja = jm + 1; /* equal ranks beside the middle one: the same value */
	while (jb > jl && rank[jb - 1] == k)
		out[--jb] = out[jm];
	while (ja < jh && rank[ja] == k)
		out[ja++] = out[jm];
	select_ranks(a, lo, k, rank, jl, jb, out);
	select_ranks(a, k + 1, hi, rank, ja, jh, out);
}

/* offset() at every level of LEV (ascending) with one copy of the window. */
static void offsets_all(ah_forecaster *f, const cand *c, size_t h, double *out)
{
	size_t n = c->res_n[f->gidx[h - 1]];
	if (n < 10 || c->sorted) {
		for (size_t j = 0; j < NLEV; j++)
			out[j] = offset(f, c, h, LEV[j]);
		return;
	}
	memcpy(f->scratch, window(f, c, h), n * sizeof(double));
	size_t rank[NLEV];
	for (size_t j = 0; j < NLEV; j++) { /* as offset() ranks them (ascending with the level) */
		double q = LEV[j];
		double r = q >= 0.5 ? ceil((double)(n + 1) * q) : floor((double)(n + 1) * q);
		r = r < 1 ? 1 : r > (double)n ? (double)n : r;
		rank[j] = (size_t)r - 1;
	}
	select_ranks(f->scratch, 0, n, rank, 0, NLEV, out);
}

static double model_offset(const cand *c, size_t h, double q)
{
	/* before residuals exist: the model's own Gaussian spread */
	double sd = c->m ? sqrt(c->m->err_var) : 0;
	return sd * sqrt((double)h) * ah_norm_quantile(q);
}

static size_t lower_bound(const double *a, size_t n, double v)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (a[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Sorted window a[n]: drop one copy of old (when full), insert v. */
static void sorted_replace(double *a, size_t n, bool full, double old, double v)
{
	if (full) {
		size_t i = lower_bound(a, n, old);
		if (i < n) {
			memmove(a + i, a + i + 1, (n - i - 1) * sizeof(double));
			n--;
		}
	}
	size_t j = lower_bound(a, n, v);
	memmove(a + j + 1, a + j, (n - j) * sizeof(double));
	a[j] = v;
}

/* Outcome y (not NaN) for the forecast of c from origin o (in pend's
 * slot, o % H) at horizon h. */
static void score_one(ah_forecaster *f, cand *c, size_t o, size_t slot, size_t h, double y)
{
	size_t H = f->H;
	if (c->pend_origin[slot] != o)
		return;
	double p = c->pend[slot * H + h - 1];
	if (isnan(p))
		return;
	double e = y - p;
	if (c->base >= 0) /* stochastic-approximation median of the base's errors */
		c->bias[h - 1] += (e > 0 ? 1 : e < 0 ? -1 : 0) * 0.02 * f->scale;
	if (f->win[h - 1]) { /* windows only where quantiles are computed */
		size_t g = f->gidx[h - 1];
		double *r = window(f, c, h);
		if (sorted_at(f, c, h))
			sorted_replace(c->sorted + g * f->W, c->res_n[g], c->res_n[g] == f->W, r[c->res_pos[g]], e);
		r[c->res_pos[g]] = e;
		if (++c->res_pos[g] == f->W)
			c->res_pos[g] = 0;
		if (c->res_n[g] < f->W)
			c->res_n[g]++;
	}
	if (f->fitting) /* the sums come after the pass (cand_tally) */
		return;
	c->abs_sum[h - 1] += fabs(e);
	double den = fabs(y) + fabs(p);
	c->smape_sum[h - 1] += den > 0 ? 200 * fabs(e) / den : 0;
	c->cnt[h - 1]++;
}

/* Which forecasts target t: computed once per t for all candidates (the
 * divisions cost more than the scoring). */
static void score_at(ah_forecaster *f, size_t t)
{
	size_t H = f->H, ke = f->ke;
	size_t lo = t + 1 > H ? t + 1 - H : 0;
	if (lo < f->fo)
		lo = f->fo;
	lo += (ke - (lo - f->fo) % ke) % ke;
	f->at_lo = lo;
	f->at_slot = lo % H;
	f->at_step = ke % H;
	for (size_t k = 0; k < f->nchk_h; k++) {
		size_t h = f->chk_h[k], o = t + 1 - h;
		bool ok = h <= t + 1 && f->win[h - 1] && o >= f->fo && (o - f->fo) % ke == 0;
		f->at_o[k] = ok ? o : (size_t)-1;
		f->at_oslot[k] = ok ? o % H : 0;
	}
}

/* Outcome y for observation index t (after score_at(f, t)): score every
 * pending forecast of c. */
static void cand_score(ah_forecaster *f, cand *c, size_t t, double y)
{
	size_t H = f->H, ke = f->ke;
	if (isnan(y)) {
		/* nothing to score */
	} else if (f->fitting && c->base < 0) {
		/* in the fit's pass only the checks' windows need this one's errors
		 * in time order: just their origins (the order among horizons does
		 * not matter, each has its own window) */
		for (size_t k = 0; k < f->nchk_h; k++)
			if (f->at_o[k] != (size_t)-1)
				score_one(f, c, f->at_o[k], f->at_oslot[k], f->chk_h[k], y);
	} else {
		size_t slot = f->at_slot; /* slots advance without a division */
		for (size_t o = f->at_lo; o <= t; o += ke) {
			score_one(f, c, o, slot, t + 1 - o, y);
			if ((slot += f->at_step) >= H)
				slot -= H;
		}
	}
	for (size_t i = 0; i < c->nchk;) {
		check *k = &c->chk[i];
		if (k->target != t) {
			i++;
			continue;
		}
		if (!isnan(y) && (!c->own || c->own[k->h - 1])) {
			for (size_t j = 0; j < NLEV; j++)
				c->pin_sum += ah_pinball(y, k->q[j], LEV[j]);
			c->pin_n += NLEV;
			c->in80 += y >= k->q[1] && y <= k->q[3];
			c->in95 += y >= k->q[0] && y <= k->q[4];
			c->chk_n++;
		}
		c->chk[i] = c->chk[--c->nchk];
	}
}

/* After the fit's pass: c's error sums per horizon from the forecasts it
 * issued at origins fo + k*ke (k < norig), each horizon's terms added in
 * origin order as cand_score adds them by target. Over one origin the
 * horizons are independent, so the loop runs across them, two per SSE2
 * vector (elementwise IEEE: the same terms); a skipped outcome adds +0,
 * which leaves a sum of non-negative terms as it is. */
typedef double v2d __attribute__((vector_size(16)));
typedef long long v2i __attribute__((vector_size(16)));

static inline v2d ld2(const double *p)
{
	v2d v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void st2(double *p, v2d v)
{
	memcpy(p, &v, sizeof(v));
}

static void cand_tally(ah_forecaster *f, cand *c, const double *y, size_t n, size_t fo, size_t ke, size_t norig)
{
	size_t H = f->H;
	double *as = c->abs_sum, *ss = c->smape_sum;
	size_t *cnt = c->cnt;
	const v2d zero = {0, 0}, k200 = {200, 200};
	const v2i sign = {INT64_MIN, INT64_MIN};
	for (size_t k = 0; k < norig; k++) {
		size_t o = fo + k * ke, hn = n - o < H ? n - o : H, i = 0;
		const double *p = c->issued + k * H, *yo = y + o;
		for (; i + 2 <= hn; i += 2) {
			v2d yv = ld2(yo + i), pv = ld2(p + i);
			v2i ok = (v2i)(yv == yv) & (v2i)(pv == pv); /* neither is NaN */
			v2d a = (v2d)((v2i)(yv - pv) & ~sign), den = (v2d)((v2i)yv & ~sign) + (v2d)((v2i)pv & ~sign);
			v2i pos = (v2i)(den > zero);
			v2d sm = (v2d)((v2i)(k200 * a / den) & pos);
			st2(as + i, ld2(as + i) + (v2d)((v2i)a & ok));
			st2(ss + i, ld2(ss + i) + (v2d)((v2i)sm & ok));
			cnt[i] -= (size_t)ok[0]; /* ok is -1 where true */
			cnt[i + 1] -= (size_t)ok[1];
		}
		for (; i < hn; i++) {
			bool ok = !isnan(yo[i]) && !isnan(p[i]);
			double a = fabs(yo[i] - p[i]), den = fabs(yo[i]) + fabs(p[i]);
			double sm = den > 0 ? 200 * a / den : 0;
			as[i] += ok ? a : 0;
			ss[i] += ok ? sm : 0;
			cnt[i] += ok;
		}
	}
}

/* After observation t-1 was consumed (origin t): remember c's forecasts and,
 * at check origins, its intervals for a few horizons. */
static void cand_issue(ah_forecaster *f, size_t i, size_t origin, bool checks)
{
	cand *c = &f->c[i];
	size_t H = f->H, slot = origin % H;
	double *dst = c->pend + slot * H;
	/* derived candidates reuse the forecasts their sources issued just now */
	if (c->base >= 0 && f->c[c->base].pend_origin[slot] == origin) {
		const double *src = f->c[c->base].pend + slot * H;
		for (size_t k = 0; k < H; k++)
			dst[k] = src[k] + c->bias[k];
	} else if (c->blend) {
		bool ok = true;
		for (size_t j = 0; j < f->nmembers; j++)
			ok &= f->c[f->blend_members[j]].pend_origin[slot] == origin;
		if (ok) {
			for (size_t k = 0; k < H; k++)
				dst[k] = 0;
			for (size_t j = 0; j < f->nmembers; j++) {
				const double *src = f->c[f->blend_members[j]].pend + slot * H;
				for (size_t k = 0; k < H; k++)
					dst[k] += src[k] / (double)f->nmembers;
			}
		} else {
			cand_points(f, i, H, dst);
		}
	} else {
		cand_points(f, i, H, dst);
	}
	c->pend_origin[slot] = origin;
	if (c->issued)
		memcpy(c->issued + (origin - f->fo) / f->ke * H, dst, H * sizeof(double));
	if (!checks)
		return;
	for (size_t k = 0; k < f->nchk_h && c->nchk < c->chk_cap; k++) {
		size_t h = f->chk_h[k];
		check *ck = &c->chk[c->nchk];
		ck->target = origin + h - 1;
		ck->h = h;
		ck->point = c->pend[slot * H + h - 1];
		bool ok = true;
		double o[NLEV];
		offsets_all(f, c, h, o);
		for (size_t j = 0; j < NLEV; j++) {
			if (isnan(o[j]))
				ok = false;
			ck->q[j] = ck->point + o[j];
		}
		if (ok && !isnan(ck->point))
			c->nchk++;
	}
}

static void cand_update_model(ah_forecaster *f, size_t i, double y)
{
	if (f->c[i].m)
		ah_model_update(f->c[i].m, y);
	(void)f;
}

/* After the fit, for a band candidate: room for every grid horizon's window,
 * the fit's windows moved into it. */
static int grow_windows(ah_forecaster *f, cand *c)
{
	size_t bytes = f->ngrid * f->W * sizeof(double);
	double *all = ah_fc_block_get(bytes);
	if (!all)
		return AH_ENOMEM;
	for (size_t h = 1; h <= f->H; h++)
		if (f->fitwin[h - 1]) /* res_n values from the ring's start (all of it once it wrapped) */
			memcpy(all + f->gidx[h - 1] * f->W, window(f, c, h), c->res_n[f->gidx[h - 1]] * sizeof(double));
	ah_fc_block_put(c->res, c->win_bytes);
	c->res = all;
	c->win_bytes = bytes;
	c->full = true;
	return 0;
}

/* After the fit: c's residual windows at the grid horizons the fit did not
 * fill, from the forecasts it issued at origins fo + k*ke (k < norig), in
 * the order cand_score would have filled them (by target, so by origin at
 * each horizon): the same residuals in the same places. */
static void fill_windows(ah_forecaster *f, cand *c, const double *y, size_t n, size_t fo, size_t ke, size_t norig)
{
	size_t H = f->H, W = f->W;
	for (size_t h = 1; h <= H; h++) {
		if (!f->grid[h - 1] || f->fitwin[h - 1])
			continue;
		size_t g = f->gidx[h - 1], pos = 0, cnt = 0;
		double *r = window(f, c, h);
		for (size_t k = 0; k < norig; k++) {
			size_t t = fo + k * ke + h - 1;
			if (t >= n)
				break;
			double p = c->issued[k * H + h - 1];
			if (isnan(y[t]) || isnan(p))
				continue;
			r[pos] = y[t] - p;
			if (++pos == W)
				pos = 0;
			if (cnt < W)
				cnt++;
		}
		c->res_pos[g] = pos;
		c->res_n[g] = cnt;
	}
}

static void fill_score(const ah_forecaster *f, const cand *c, ah_fc_score *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", c->name);
	double m = 0, sm = 0;
	size_t nh = 0;
	for (size_t h = 0; h < f->H; h++)
		if (c->cnt[h]) {
			m += c->abs_sum[h] / (double)c->cnt[h];
			sm += c->smape_sum[h] / (double)c->cnt[h];
			nh++;
		}
	s->mase = nh ? m / (double)nh / f->scale : NAN;
	s->smape = nh ? sm / (double)nh : NAN;
	s->pinball = c->pin_n ? c->pin_sum / (double)c->pin_n / f->scale : NAN;
	s->cover80 = c->chk_n ? (double)c->in80 / (double)c->chk_n : NAN;
	s->cover95 = c->chk_n ? (double)c->in95 / (double)c->chk_n : NAN;
}

static int add_cand(ah_forecaster *f, const char *name, ah_model *m, bool blend, size_t chk_cap)
{
	if (!m && !blend)
		return AH_ENOMEM;
	int rc = cand_init(&f->c[f->ncand], name, m, blend, f->H, f->ngrid, f->nfitwin, f->W, chk_cap);
	f->ncand++; /* counted even on failure so cleanup frees it */
	return rc;
}

/* Mean MASE of candidate c over horizons [lo, hi] (NaN without outcomes). */
static double band_mase(const ah_forecaster *f, const cand *c, size_t lo, size_t hi)
{
	double m = 0;
	size_t nh = 0;
	for (size_t h = lo; h <= hi; h++)
		if (c->cnt[h - 1]) {
			m += c->abs_sum[h - 1] / (double)c->cnt[h - 1];
			nh++;
		}
	return nh ? m / (double)nh / f->scale : NAN;
}

/* The composite's score: each horizon from the candidate that forecasts it
 * (points); intervals from the checks each one owns. */
static void composite_score(const ah_forecaster *f, ah_fc_score *s)
{
	memset(s, 0, sizeof(*s));
	double m = 0, sm = 0, pin = 0;
	size_t nh = 0, pin_n = 0, in80 = 0, in95 = 0, chk = 0;
	for (size_t h = 1; h <= f->H; h++) {
		const cand *c = &f->c[f->hcand[h - 1]];
		if (c->cnt[h - 1]) {
			m += c->abs_sum[h - 1] / (double)c->cnt[h - 1];
			sm += c->smape_sum[h - 1] / (double)c->cnt[h - 1];
			nh++;
		}
	}
	for (size_t u = 0; u < f->nuniq; u++) {
		const cand *c = &f->c[f->uniq[u]];
		pin += c->pin_sum;
		pin_n += c->pin_n;
		in80 += c->in80;
		in95 += c->in95;
		chk += c->chk_n;
	}
	s->mase = nh ? m / (double)nh / f->scale : NAN;
	s->smape = nh ? sm / (double)nh : NAN;
	s->pinball = pin_n ? pin / (double)pin_n / f->scale : NAN;
	s->cover80 = chk ? (double)in80 / (double)chk : NAN;
	s->cover95 = chk ? (double)in95 / (double)chk : NAN;
}

/* ACI correction for level q at grid index g: interpolated over ALEV. */
static double aci_level(const ah_forecaster *f, size_t g, double q)
{
	const double *a = f->aci_adj + g * NACI;
	double d;
	if (q <= ALEV[0])
		d = a[0];
	else if (q >= ALEV[NACI - 1])
		d = a[NACI - 1];
	else {
		size_t j = 1;
		while (ALEV[j] < q)
			j++;
		double w = (q - ALEV[j - 1]) / (ALEV[j] - ALEV[j - 1]);
		d = (1 - w) * a[j - 1] + w * a[j];
	}
	double r = q + d;
	return r < 1e-4 ? 1e-4 : r > 1 - 1e-4 ? 1 - 1e-4 : r;
}

/* After the fit, at origin o: the quantile each grid horizon's owner gives
 * now at each tracked level, to be compared with the outcome later. */
static void aci_issue(ah_forecaster *f, size_t o)
{
	size_t H = f->H, slot = o % H;
	double *dst = f->aci_q + slot * f->ngrid * NACI;
	for (size_t h = 1; h <= H; h++) {
		if (!f->grid[h - 1])
			continue;
		size_t g = f->gidx[h - 1];
		cand *c = &f->c[f->hcand[h - 1]];
		double p = c->pend_origin[slot] == o ? c->pend[slot * H + h - 1] : NAN;
		for (size_t l = 0; l < NACI; l++) {
			double off = offset(f, c, h, aci_level(f, g, ALEV[l]));
			dst[g * NACI + l] = p + off; /* NaN when unknown: skipped */
		}
	}
	f->aci_origin[slot] = o;
}

/* Outcome y at index t: each grid horizon's level corrections move by
 * gamma (level - 1{y <= issued quantile}). */
static void aci_score(ah_forecaster *f, size_t t, double y)
{
	if (isnan(y))
		return;
	size_t H = f->H;
	for (size_t h = 1; h <= H && h <= t + 1; h++) {
		if (!f->grid[h - 1])
			continue;
		size_t o = t + 1 - h, slot = o % H;
		if (f->aci_origin[slot] != o)
			continue;
		size_t g = f->gidx[h - 1];
		const double *q = f->aci_q + slot * f->ngrid * NACI + g * NACI;
		double *a = f->aci_adj + g * NACI;
		for (size_t l = 0; l < NACI; l++)
			if (!isnan(q[l]))
				a[l] += ACI_GAMMA * (ALEV[l] - (y <= q[l] ? 1.0 : 0.0));
	}
}

int ah_forecaster_new(const ah_fc_opts *opts, const double *y, size_t n, ah_forecaster **out)
{
	if (!opts || !y || !out || !opts->horizon || opts->horizon > AH_FC_MAX_HORIZON ||
	    !(opts->step_s >= 0) || !isfinite(opts->step_s))
		return AH_EINVAL;
	size_t valid = 0;
	double ymin = INFINITY, ymax = -INFINITY;
	for (size_t i = 0; i < n; i++)
		if (!isnan(y[i])) {
			valid++;
			if (y[i] < ymin)
				ymin = y[i];
			if (y[i] > ymax)
				ymax = y[i];
		}
	if (valid < 8)
		return AH_EINVAL;
	int rc = 0;
	ah_forecaster *f = calloc(1, sizeof(*f));
	double *wprof = NULL, *z = NULL;
	if (!f)
		return AH_ENOMEM;
	size_t H = opts->horizon;
	f->H = H;
	f->W = opts->window ? opts->window : 500;
	f->tmp = malloc(H * sizeof(double));
	f->tmp2 = malloc(H * sizeof(double));
	f->scratch = malloc(f->W * sizeof(double));
	f->grid = malloc(H * sizeof(bool));
	f->gidx = malloc(H * sizeof(size_t));
	f->goff = malloc(2 * AH_FC_MAX_QUANTILES * sizeof(double));
	f->hcand = calloc(H, sizeof(size_t));
	f->fitwin = calloc(H, sizeof(bool));
	f->fidx = malloc(H * sizeof(size_t));
	if (!f->tmp || !f->tmp2 || !f->scratch || !f->grid || !f->gidx || !f->goff || !f->hcand || !f->fitwin ||
	    !f->fidx) {
		rc = AH_ENOMEM;
		goto fail;
	}
	for (size_t h = 1; h <= H; h++) {
		f->grid[h - 1] = on_grid(h, H);
		f->gidx[h - 1] = f->grid[h - 1] ? f->ngrid++ : (size_t)-1;
	}
	/* MASE scale: in-sample one-step naive MAE */
	double ssum = 0;
	size_t scnt = 0;
	for (size_t i = 1; i < n; i++)
		if (!isnan(y[i]) && !isnan(y[i - 1])) {
			ssum += fabs(y[i] - y[i - 1]);
			scnt++;
		}
	f->scale = scnt && ssum > 0 ? ssum / (double)scnt : 1e-12;

	/* the evaluation span: the last 20% (out of sample for every fit) */
	size_t E = opts->eval_points ? opts->eval_points : n / 5;
	if (!opts->eval_points) {
		if (E < 100)
			E = 100;
		if (E > 3000)
			E = 3000;
	}
	if (E > n / 2)
		E = n / 2;
	size_t es = n - E; /* first evaluated target */
	size_t max_season = opts->max_season ? opts->max_season : 1000;
	size_t m = opts->season, week = 0;
	if (!m) {
		/* the week is searched too when the history could hold it */
		size_t lw = opts->step_s > 0 ? (size_t)floor(604800 / opts->step_s + 0.5) : 0;
		ah_seasons ss;
		if ((rc = ah_seasons_find(y, es, opts->step_s, lw > max_season ? lw + lw / 50 : max_season, &ss)))
			goto fail;
		m = ss.n ? ss.period[0] : 0;
		if (m > max_season && !(ss.n == 1 && m == lw)) /* only the week may exceed max_season */
			m = 0;
		if (ss.n == 2)
			week = ss.period[1];
	}
	if (m < 2 || es < 2 * m + 10)
		m = 1;
	if (m == 1 || es < 2 * week + 10)
		week = 0;
	f->season = m;

	/* fit on the stretch before the evaluation span */
	size_t fitlen = 1000 > 6 * m ? 1000 : 6 * m;
	size_t fs = es > fitlen ? es - fitlen : 0;
	ah_hw_params pe = {.period = 1, .alpha = 0.3, .phi = 1};
	ah_hw_params pt = {.period = 1, .alpha = 0.3, .beta = 0.05, .phi = 0.95, .trend = true};
	/* the seasonal state from 3 cycles when the fit span holds 6 */
	ah_hw_params ps = {.period = m, .alpha = 0.3, .beta = 0.02, .gamma = 0.1, .phi = 0.95,
			   .trend = true, .seasonal = true, .init_cycles = es - fs >= 6 * m ? 3 : 2};
	ah_hw_fit(y + fs, es - fs, false, &pe, NULL);
	ah_hw_fit(y + fs, es - fs, true, &pt, NULL);
	bool seasonal = m >= 2 && ah_hw_fit(y + fs, es - fs, true, &ps, NULL) == 0;
	ah_hw_params pw = ps;
	if (seasonal && week) {
		/* the weekly profile from everything before the span, the daily
		 * Holt-Winters fitted on what the profile leaves */
		wprof = malloc(week * sizeof(double));
		z = malloc((es - fs) * sizeof(double));
		if (!wprof || !z) {
			rc = AH_ENOMEM;
			goto fail;
		}
		if (ah_week_profile(y, es, m, week, 0, wprof) == 0) {
			for (size_t i = fs; i < es; i++)
				z[i - fs] = y[i] - wprof[i % week];
			if (ah_hw_fit(z, es - fs, true, &pw, NULL))
				week = 0;
		} else {
			week = 0;
		}
	} else {
		week = 0;
	}

	size_t chkcap = NCHK_H * (H + 2);
	f->kp = E / 6 ? E / 6 : 1; /* about 6 interval-check origins: tie-breaks and display only */
	size_t hs[NCHK_H] = {1, H, H, H};
	for (size_t k = 0; k < NCHK_H; k++)
		if (hs[k] >= 1 && (f->nchk_h == 0 || f->chk_h[f->nchk_h - 1] != hs[k]))
			f->chk_h[f->nchk_h++] = hs[k];
	/* during the fit only the checks read windows: the others are filled
	 * afterwards for the candidates kept (fill_windows) */
	for (size_t k = 0; k < f->nchk_h; k++)
		f->fitwin[f->chk_h[k] - 1] = f->grid[f->chk_h[k] - 1];
	for (size_t h = 1; h <= H; h++)
		f->fidx[h - 1] = f->fitwin[h - 1] ? f->nfitwin++ : (size_t)-1;
	f->win = f->fitwin;

	/* one pass: warm up, then every ke-th step is an origin. Three seasons
	 * (at least 500 steps) settle every model's state; 3000 / six seasons
	 * measured the same on the tuning set at twice the cost. */
	size_t warm = 500 > 3 * m ? 500 : 3 * m;
	if (warm < week + 2 * m)
		warm = week + 2 * m;
	size_t start = es > warm ? es - warm : 0;

	if ((rc = add_cand(f, "naive", ah_model_snaive_new(1), false, chkcap)))
		goto fail;
	if (seasonal && (rc = add_cand(f, "seasonal-naive", ah_model_snaive_new(m), false, chkcap)))
		goto fail;
	if (week && (rc = add_cand(f, "seasonal-naive-week", ah_model_snaive_new(week), false, chkcap)))
		goto fail;
	size_t first_member = f->ncand;
	if ((rc = add_cand(f, "ewma", ah_model_hw_new(&pe, "ewma"), false, chkcap)))
		goto fail;
	if ((rc = add_cand(f, "ewma-trend", ah_model_hw_new(&pt, "ewma-trend"), false, chkcap)))
		goto fail;
	if (seasonal && (rc = add_cand(f, "holt-winters", ah_model_hw_new(&ps, "holt-winters"), false, chkcap)))
		goto fail;
	for (size_t i = first_member - (seasonal ? 1 + (week ? 1 : 0) : 0); i < f->ncand; i++)
		if (strcmp(f->c[i].name, "seasonal-naive-week"))
			f->blend_members[f->nmembers++] = i;
	/* memory: a few seasons, at least 500 steps (the mean must not chase the burst) */
	if ((rc = add_cand(f, "ar1-mean", ah_model_ar1_new(m > 1 && 3.0 * (double)m > 500 ? 3.0 * (double)m : 500),
			   false, chkcap)))
		goto fail;
	if (week && (rc = add_cand(f, "holt-winters-week", ah_model_hw_week_new(&pw, week, start % week, wprof),
				   false, chkcap)))
		goto fail;
	if (ymin >= 0 && ymax > 0) {
		double hl = m >= 48 ? (double)m : 48;
		if ((rc = add_cand(f, "vpa-histogram", ah_model_vpa_new(ymax * 1e-4, ymax * 4, hl), false, chkcap)))
			goto fail;
	}
	if (f->nmembers >= 2 && (rc = add_cand(f, "blend", NULL, true, chkcap)))
		goto fail;
	/* median-corrected variants: the MAE-optimal point is the median, and
	 * spiky series have skewed errors */
	size_t nbase = f->ncand;
	for (size_t i = 0; i < nbase && f->ncand < AH_FC_MAX_CANDIDATES; i++) {
		if (!strcmp(f->c[i].name, "naive") || !strcmp(f->c[i].name, "vpa-histogram") ||
		    !strncmp(f->c[i].name, "seasonal-naive", 14))
			continue;
		char nm[40];
		snprintf(nm, sizeof(nm), "%s+median", f->c[i].name);
		if ((rc = add_cand(f, nm, NULL, true, chkcap)))
			goto fail;
		cand *c = &f->c[f->ncand - 1];
		c->blend = false;
		c->base = (int)i;
		if (!(c->bias = calloc(H, sizeof(double)))) {
			rc = AH_ENOMEM;
			goto fail;
		}
	}

	/* about 100 origins: each candidate forecasts 1..H at each, and a fleet
	 * of fits must stay cheap; the windows keep filling every step after.
	 * On the tuning set 300 origins and 100 chose equally well (median MASE
	 * within the +-0.03 that the count alone moves it by) at 60% of the cost. */
	size_t ke = (E + 99) / 100;
	/* origins from es on only: every residual behind an interval is out of
	 * sample for the fitted parameters */
	size_t fo = es;
	f->ke = ke;
	f->fo = fo;
	f->fitting = true;
	size_t norig = n > fo ? (n - 1 - fo) / ke + 1 : 0;
	for (size_t i = 0; i < f->ncand; i++) {
		cand *c = &f->c[i];
		c->issued_bytes = (norig ? norig : 1) * H * sizeof(double);
		if (!(c->issued = ah_fc_block_get(c->issued_bytes))) {
			rc = AH_ENOMEM;
			goto fail;
		}
	}
	for (size_t t = start; t < n; t++) {
		if (t >= fo) {
			score_at(f, t);
			for (size_t i = 0; i < f->ncand; i++)
				cand_score(f, &f->c[i], t, y[t]);
		}
		for (size_t i = 0; i < f->ncand; i++)
			cand_update_model(f, i, y[t]);
		size_t origin = t + 1;
		/* origins every ke steps (about 600 in the span) bound the cost */
		if (origin >= fo && origin < n && (origin - fo) % ke == 0) {
			bool chk = (origin - es) / ke % (f->kp / ke ? f->kp / ke : 1) == 0;
			for (size_t i = 0; i < f->ncand; i++)
				cand_issue(f, i, origin, chk);
		}
	}
	for (size_t i = 0; i < f->ncand; i++)
		cand_tally(f, &f->c[i], y, n, fo, ke, norig);
	f->fitting = false;
	f->t = n;
	f->ke = 1;
	f->fo = 0;

	/* choose: overall first (the mean MASE over 1..H), then per band */
	ah_fc_choice *ch = &f->choice;
	size_t best = 0;
	double bm = INFINITY;
	bool found = !opts->model;
	for (size_t i = 0; i < f->ncand; i++) {
		fill_score(f, &f->c[i], &ch->cand[i]);
		double v = ch->cand[i].mase;
		if (opts->model) {
			if (!strcmp(opts->model, f->c[i].name)) {
				best = i;
				found = true;
			}
		} else if (!isnan(v) && v < bm - 1e-12) {
			bm = v;
			best = i;
		}
	}
	if (!found) {
		rc = AH_ENOENT;
		goto fail;
	}
	/* points decide; among candidates within 1% of the best MASE, the
	 * quantiles decide (lowest pinball loss) */
	if (!opts->model && isfinite(bm))
		for (size_t i = 0; i < f->ncand; i++) {
			const ah_fc_score *a = &ch->cand[i], *b = &ch->cand[best];
			if (i != best && a->mase <= bm * 1.01 + 1e-12 && !isnan(a->pinball) &&
			    (isnan(b->pinball) || a->pinball < b->pinball))
				best = i;
		}
	ch->ncand = f->ncand;
	for (size_t b = 0; b < AH_FC_MAX_BANDS && BAND_LO[b] <= H; b++) {
		size_t lo = BAND_LO[b], hi = BAND_LO[b + 1] - 1 < H ? BAND_LO[b + 1] - 1 : H;
		size_t bc = best;
		double ob = band_mase(f, &f->c[best], lo, hi), bb = ob;
		if (!opts->model)
			for (size_t i = 0; i < f->ncand; i++) {
				double v = band_mase(f, &f->c[i], lo, hi);
				if (!isnan(v) && (isnan(bb) || v < bb - 1e-12)) {
					bb = v;
					bc = i;
				}
			}
		/* the overall choice keeps the band unless clearly worse there:
		 * fewer switches between neighbouring bands from noise alone */
		if (!isnan(ob) && ob <= bb * 1.01 + 1e-12)
			bc = best;
		f->band_c[b] = bc;
		ch->band[b].h_lo = lo;
		ch->band[b].h_hi = hi;
		ch->band[b].mase = band_mase(f, &f->c[bc], lo, hi);
		snprintf(ch->band[b].model, sizeof(ch->band[b].model), "%s", f->c[bc].name);
		for (size_t h = lo; h <= hi; h++)
			f->hcand[h - 1] = bc;
		bool dup = false;
		for (size_t u = 0; u < f->nuniq; u++)
			dup |= f->uniq[u] == bc;
		if (!dup)
			f->uniq[f->nuniq++] = bc;
		f->nband = ++ch->nbands;
	}
	/* the name shown: the candidate forecasting the most horizons */
	size_t most = f->band_c[0], most_h = 0;
	for (size_t u = 0; u < f->nuniq; u++) {
		size_t k = 0;
		for (size_t h = 0; h < H; h++)
			k += f->hcand[h] == f->uniq[u];
		if (k > most_h) {
			most_h = k;
			most = f->uniq[u];
		}
	}
	f->chosen = most;
	snprintf(ch->model, sizeof(ch->model), "%s", f->c[most].name);
	ch->season = m;
	ch->season2 = week;
	ch->scale = f->scale;
	ch->eval_points = E;
	ch->chosen = ch->cand[most];
	{
		ah_fc_score cs;
		composite_score(f, &cs);
		ch->chosen.mase = cs.mase;
		ch->chosen.smape = cs.smape;
		ch->chosen.pinball = cs.pinball;
		ch->chosen.cover80 = cs.cover80;
		ch->chosen.cover95 = cs.cover95;
	}
	ch->hw = seasonal ? ps : pt;
	/* keep the band candidates (with their bases and a blend's members) */
	bool keep[AH_FC_MAX_CANDIDATES] = {false};
	for (size_t u = 0; u < f->nuniq; u++) {
		size_t k = f->uniq[u];
		for (;;) {
			keep[k] = true;
			if (f->c[k].blend)
				for (size_t j = 0; j < f->nmembers; j++)
					keep[f->blend_members[j]] = true;
			if (f->c[k].base < 0)
				break;
			k = (size_t)f->c[k].base;
		}
	}
	for (size_t i = 0; i < f->ncand; i++)
		if (!keep[i])
			cand_fini(&f->c[i]);
	f->own = calloc(f->ncand * H, sizeof(bool));
	f->aci_adj = calloc(f->ngrid * NACI, sizeof(double));
	f->aci_q = ah_fc_block_get(H * f->ngrid * NACI * sizeof(double));
	f->aci_origin = malloc(H * sizeof(size_t));
	if (!f->own || !f->aci_adj || !f->aci_q || !f->aci_origin) {
		rc = AH_ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < H; i++)
		f->aci_origin[i] = (size_t)-1;
	for (size_t h = 0; h < H; h++)
		f->own[f->hcand[h] * H + h] = true;
	for (size_t u = 0; u < f->nuniq; u++) { /* the only ones whose windows are read from now on */
		cand *c = &f->c[f->uniq[u]];
		if ((rc = grow_windows(f, c)))
			goto fail;
		fill_windows(f, c, y, n, fo, ke, norig);
	}
	for (size_t i = 0; i < f->ncand; i++) {
		ah_fc_block_put(f->c[i].issued, f->c[i].issued_bytes);
		f->c[i].issued = NULL;
	}
	f->win = f->grid;
	for (size_t u = 0; u < f->nuniq; u++) {
		cand *cb = &f->c[f->uniq[u]];
		if (!(cb->sorted = ah_fc_block_get(cb->win_bytes))) {
			rc = AH_ENOMEM;
			goto fail;
		}
		cb->own = f->own + f->uniq[u] * H;
		for (size_t h = 1; h <= H; h++) {
			if (!f->grid[h - 1] || !sorted_at(f, cb, h))
				continue;
			size_t g = f->gidx[h - 1];
			memcpy(cb->sorted + g * f->W, window(f, cb, h), cb->res_n[g] * sizeof(double));
			ah_fc_sort_doubles(cb->sorted + g * f->W, cb->res_n[g], f->scratch);
		}
		reset_acc(cb, H);
	}
	/* origin n: the band candidates' forecasts, the first ACI entries */
	for (size_t u = 0; u < f->nuniq; u++)
		cand_issue(f, f->uniq[u], n, false);
	aci_issue(f, n);
	free(wprof);
	free(z);
	*out = f;
	return 0;
fail:
	free(wprof);
	free(z);
	ah_forecaster_free(f);
	return rc;
}

void ah_forecaster_update(ah_forecaster *f, double y)
{
	if (!f)
		return;
	size_t t = f->t;
	aci_score(f, t, y);
	score_at(f, t);
	for (size_t u = 0; u < f->nuniq; u++)
		cand_score(f, &f->c[f->uniq[u]], t, y);
	for (size_t i = 0; i < f->ncand; i++)
		cand_update_model(f, i, y); /* only kept ones still have a model */
	f->t = t + 1;
	/* feedback checks of the intervals: every min(kp, H) steps */
	size_t every = f->kp < f->H ? f->kp : f->H;
	for (size_t u = 0; u < f->nuniq; u++) {
		cand_issue(f, f->uniq[u], f->t, f->t % every == 0);
	}
	aci_issue(f, f->t);
}

int ah_forecaster_forecast(ah_forecaster *f, size_t h, const double *q, size_t nq, double *point,
			   double *qout)
{
	if (!f || !h || h > f->H || !point || (nq && (!q || !qout)) || nq > AH_FC_MAX_QUANTILES)
		return AH_EINVAL;
	for (size_t j = 0; j < nq; j++)
		if (!(q[j] > 0 && q[j] < 1))
			return AH_EINVAL;
	/* points: each horizon from its band's candidate (the issued forecast
	 * for this origin is already in pend) */
	size_t slot = f->t % f->H;
	for (size_t u = 0; u < f->nuniq; u++) {
		size_t ci = f->uniq[u];
		cand *c = &f->c[ci];
		if (c->pend_origin[slot] == f->t)
			memcpy(f->tmp2, c->pend + slot * f->H, h * sizeof(double));
		else
			cand_points(f, ci, h, f->tmp2);
		for (size_t i = 0; i < h; i++)
			if (f->hcand[i] == ci)
				f->tmp[i] = f->tmp2[i];
	}
	/* conformal offsets on the horizon grid (1,2,3,4,6,8,12,16,...,H),
	 * linear in between: residual spread changes smoothly with h */
	double *lo = f->goff, *hi = f->goff + nq;
	size_t glo = 0;
	for (size_t i = 0; i < h; i++)
		point[i] = f->tmp[i];
	for (size_t g = 1; g <= f->H; g++) {
		if (!f->grid[g - 1])
			continue;
		const cand *c = &f->c[f->hcand[g - 1]], *mc = c;
		while (!mc->m && (mc->base >= 0 || mc->blend))
			mc = mc->base >= 0 ? &f->c[mc->base] : &f->c[f->blend_members[0]];
		for (size_t j = 0; j < nq; j++) {
			double o = offset(f, c, g, aci_level(f, f->gidx[g - 1], q[j]));
			hi[j] = isnan(o) ? model_offset(mc, g, q[j]) : o;
		}
		size_t end = g < h ? g : h;
		for (size_t k = glo + 1; k <= end; k++) {
			double w = glo ? (double)(k - glo) / (double)(g - glo) : 1;
			for (size_t j = 0; j < nq; j++)
				qout[(k - 1) * nq + j] = glo ? (1 - w) * lo[j] + w * hi[j] : hi[j];
		}
		if (g >= h)
			break;
		memcpy(lo, hi, nq * sizeof(double));
		glo = g;
	}
	for (size_t i = 0; i < h; i++) {
		for (size_t j = 0; j < nq; j++)
			qout[i * nq + j] += f->tmp[i];
		/* quantiles must not cross */
		for (size_t j = 1; j < nq; j++)
			if (q[j] > q[j - 1] && qout[i * nq + j] < qout[i * nq + j - 1])
				qout[i * nq + j] = qout[i * nq + j - 1];
	}
	return 0;
}

int ah_forecaster_choice(const ah_forecaster *f, ah_fc_choice *out)
{
	if (!f || !out)
		return AH_EINVAL;
	*out = f->choice;
	return 0;
}

int ah_forecaster_stats(const ah_forecaster *f, ah_fc_stats *out)
{
	if (!f || !out)
		return AH_EINVAL;
	ah_fc_score s;
	composite_score(f, &s);
	memset(out, 0, sizeof(*out));
	out->outcomes = f->c[f->hcand[0]].cnt[0]; /* one-step outcomes scored since the fit */
	out->mase = s.mase;
	out->cover80 = s.cover80;
	out->cover95 = s.cover95;
	size_t chk = 0;
	for (size_t u = 0; u < f->nuniq; u++)
		chk += f->c[f->uniq[u]].chk_n;
	out->covered_n = chk;
	return 0;
}

void ah_forecaster_free(ah_forecaster *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->ncand; i++)
		cand_fini(&f->c[i]);
	free(f->tmp);
	free(f->tmp2);
	free(f->scratch);
	free(f->grid);
	free(f->fitwin);
	free(f->fidx);
	free(f->gidx);
	free(f->goff);
	free(f->hcand);
	free(f->own);
	free(f->aci_adj);
	ah_fc_block_put(f->aci_q, f->H * f->ngrid * NACI * sizeof(double));
	free(f->aci_origin);
	free(f);
}
