/* bench forecast: ahead's forecaster on data it was not tuned on.
 *
 * Report set: Bitbrains Rnd VMs 26-50 (2013-7), cpu (MHz used) and memory
 * (KB used), 5-minute steps (rows put on the 300 s grid in file order; gaps
 * are NaN, never scored). Tuning set (--set tune): VMs 1-25; NAB (the files
 * in ../shared) is the second table. Split: train = floor(0.8 n); the
 * forecaster is fitted once on y[0..train) (step 300 s, horizon 48) and then
 * fed every later value; every origin o = train .. n-1 forecasts 1..48 steps
 * (targets past the end or missing are skipped).
 * MASE_h = MAE at horizon h / the one-step naive MAE on the training part;
 * a series' MASE = mean over h = 1..48; the headline is the median over
 * series. cov_h = share of (series, origin) pairs whose outcome lies inside
 * the interval at h, pooled over the set; coverage_80_worst_h = the signed
 * cov_h - 80 of the h farthest from 80 (likewise 95).
 * forecast_ms_per_series = fit + one 48-step forecast with 80/95% intervals,
 * one thread, from parsed arrays (per series the median of 5 runs), mean
 * over the report set.
 * fleet_fit_s_10k = 10,000 series of 4,032 points made from the report set's
 * series (a random 4,032-point window, scaled by U(0.5, 2), shifted by up to
 * 20% of its mean, plus 5% Gaussian noise), each fitted and forecast 48 steps
 * with 80/95% intervals in the production configuration (the one scored),
 * on 2 threads; the series are made inside the timed loop (about 1% of it),
 * nothing is parsed.
 * R on the Bitbrains sets: bench/forecast/r_bitbrains.R (its comment has the
 * models and the split) run by bench/forecast/remake_r.sh, committed as
 * bench/forecast/r_bitbrains*.csv (or read from --r-dir). R's best per series
 * is chosen by validation error on the training part's last 20%; R forecasts
 * R_K_TEST evenly spaced test origins per series (its seasonal fits are
 * slow), and ahead is compared with it on exactly those origins.
 * forecast_mase_h1_r_best_every_origin: R best's one-step forecasts at every
 * test origin (bench/forecast/r_bitbrains_h1.R, committed as
 * r_bitbrains_h1.csv; one filter pass for ets, arima and fourier, so stlm's
 * series are left out), the median over the series whose target count equals
 * ahead's; forecast_mase_h1_ahead_same_series is ahead's every-origin h = 1
 * median over the same series.
 * interval_score_80_ratio = the median over series of ahead's mean 80%
 * interval score (scaled) over R best's, same (series, origin, h) pairs.
 * forecast_speedup_vs_r_ets = the median over series of t_R / t_A, t_R =
 * ets() fit + 48-step forecast() with 80/95% intervals (proc.time() in the
 * committed R run), t_A as forecast_ms_per_series; likewise stlm().
 * R on NAB: the committed bench/forecast/r_results.csv (horizons 1, 12, 48;
 * bench/forecast/r_reference.R, ets and auto.arima only).
 *
 * usage: bench/run forecast [--set report|tune] [--no-fleet] [--fleet N] [--out FILE.md]
 *                           [--dump DIR] [--r-dir DIR] */
#include <glob.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ahead/error.h"
#include "ahead/forecast.h"
#include "ahead/series.h"

#define H 48
#define MAXS 128
#define MAXN 20000
#define NQ 4
static const double Q[NQ] = {0.025, 0.1, 0.9, 0.975};

typedef struct {
	char name[160];
	size_t n, train, origins, season, season2;
	char model[32], bands[128];
	double scale;
	double ae[H], ae_sn[H];
	size_t cnt[H], cnt_sn[H];
	size_t in80[H], in95[H];
	double is80; /* interval score sum (scaled) */
	size_t is_n;
	double fit_s;
	/* R (NAB) at h = 1, 12, 48 */
	double r_ae[2][3];
	size_t r_cnt[2][3];
	/* ahead on R's Bitbrains origins (R_K_TEST of them), and R's best there */
	double ro_ae[H], ro_is;
	size_t ro_cnt[H], ro_in80, ro_n;
	char rb_model[16];
	double rb_val, rb_ae[H], rb_is;
	size_t rb_cnt[H], rb_in80, rb_n;
	double r_ets_s, r_stlm_s;
	/* R best at h = 1 on every test origin (r_bitbrains_h1.csv), -1: none */
	double r1_ae;
	size_t r1_n;
	double *y; /* kept for the fleet */
} ser;

static ser S[2][MAXS]; /* 0: Bitbrains set, 1: NAB */
static size_t NS[2];

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, size_t k)
{
	if (!k)
		return NAN;
	qsort(v, k, sizeof(double), cmpd);
	return k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
}

/* Bitbrains: column col (3 CPU MHz, 6 memory KB) on the 300 s grid. */
static double *read_bitbrains(const char *path, int col, size_t *n_out)
{
	FILE *fp = fopen(path, "r");
	if (!fp)
		return NULL;
	double *y = malloc(MAXN * sizeof(double));
	char line[2048];
	size_t n = 0;
	double tprev = NAN;
	if (!y || !fgets(line, sizeof(line), fp)) {
		free(y);
		fclose(fp);
		return NULL;
	}
	while (fgets(line, sizeof(line), fp)) {
		char *p = line;
		double f[11];
		int k = 0;
		while (k < 11) {
			char *e;
			f[k++] = strtod(p, &e);
			if (e == p)
				break;
			p = e;
			while (*p == ';' || *p == '\t' || *p == ' ')
				p++;
		}
		if (k < 11)
			continue;
		size_t steps = 1;
		if (!isnan(tprev)) {
			double d = floor((f[0] - tprev) / 300.0 + 0.5);
			steps = d < 1 ? 1 : (size_t)d;
		}
		tprev = f[0];
		if (n == 0)
			steps = 1;
		for (size_t s = 1; s < steps && n < MAXN; s++)
			y[n++] = NAN;
		if (n < MAXN)
			y[n++] = f[col];
	}
	fclose(fp);
	*n_out = n;
	return y;
}

/* R's test origins on the Bitbrains sets (bench/forecast/r_bitbrains.R,
 * origins()): R_K_TEST evenly spaced from train to n - H. */
#define R_K_TEST 10
static bool r_origin(size_t t, size_t train, size_t n)
{
	if (n < train + H)
		return false;
	size_t lo = train, hi = n - H;
	for (size_t k = 0; k < R_K_TEST; k++)
		if (t == lo + (size_t)floor((double)k * (double)(hi - lo) / (R_K_TEST - 1)))
			return true;
	return false;
}

/* --dump: the series exactly as scored (one value per line, NA for a gap),
 * for bench/forecast/r_bitbrains.R. */
static int dump_series(const char *dir, const char *name, const double *y, size_t n)
{
	char path[1400], base[200];
	snprintf(base, sizeof(base), "%s", name);
	for (char *c = base; *c; c++)
		if (*c == '/')
			*c = '_';
	snprintf(path, sizeof(path), "%s/%s.txt", dir, base);
	FILE *fp = fopen(path, "w");
	if (!fp) {
		fprintf(stderr, "bench forecast: cannot write %s\n", path);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (isnan(y[i]))
			fputs("NA\n", fp);
		else
			fprintf(fp, "%.17g\n", y[i]);
	return fclose(fp) ? -1 : 0;
}

static void run_series(ser *s, const double *y, size_t n, double step_s)
{
	size_t train = (size_t)floor(0.8 * (double)n);
	s->n = n;
	s->train = train;
	double ss = 0;
	size_t sc = 0;
	for (size_t i = 1; i < train; i++)
		if (!isnan(y[i]) && !isnan(y[i - 1])) {
			ss += fabs(y[i] - y[i - 1]);
			sc++;
		}
	s->scale = ss > 0 ? ss / (double)sc : 1e-12;
	double pt[H], qo[H * NQ];
	ah_fc_opts fo = {.horizon = H, .step_s = step_s};
	ah_forecaster *f;
	/* the time of fit + one forecast: the median of 5 runs (the machine is
	 * shared; one run is noisy), then the run that is scored */
	double reps[5];
	for (int k = 0; k < 5; k++) {
		double t0 = now();
		if (ah_forecaster_new(&fo, y, train, &f) == 0) {
			ah_forecaster_forecast(f, H, Q, NQ, pt, qo);
			ah_forecaster_free(f);
		}
		reps[k] = now() - t0;
	}
	s->fit_s = median(reps, 5);
	int rc = ah_forecaster_new(&fo, y, train, &f);
	if (rc == 0)
		rc = ah_forecaster_forecast(f, H, Q, NQ, pt, qo);
	if (rc) {
		fprintf(stderr, "bench forecast: %s: %s\n", s->name, ah_strerror(rc));
		return;
	}
	ah_fc_choice ch;
	ah_forecaster_choice(f, &ch);
	s->season = ch.season;
	s->season2 = ch.season2;
	snprintf(s->model, sizeof(s->model), "%s", ch.model);
	size_t off = 0;
	for (size_t b = 0; b < ch.nbands; b++)
		off += (size_t)snprintf(s->bands + off, sizeof(s->bands) - off, "%s%.14s", b ? "|" : "",
					ch.band[b].model);
	size_t m = ch.season > 1 ? ch.season : 1;
	for (size_t t = train; t < n; t++) {
		if (t > train)
			ah_forecaster_forecast(f, H, Q, NQ, pt, qo);
		s->origins++;
		bool ro = r_origin(t, train, n);
		for (size_t h = 1; h <= H && t + h - 1 < n; h++) {
			double v = y[t + h - 1];
			if (isnan(v))
				continue;
			const double *r = qo + (h - 1) * NQ;
			s->ae[h - 1] += fabs(v - pt[h - 1]);
			s->cnt[h - 1]++;
			s->in80[h - 1] += v >= r[1] && v <= r[2];
			s->in95[h - 1] += v >= r[0] && v <= r[3];
			double l = r[1], u = r[2];
			double is = ((u - l) + (v < l ? 10 * (l - v) : 0) + (v > u ? 10 * (v - u) : 0)) / s->scale;
			s->is80 += is;
			s->is_n++;
			if (ro) {
				s->ro_ae[h - 1] += fabs(v - pt[h - 1]);
				s->ro_cnt[h - 1]++;
				s->ro_is += is;
				s->ro_in80 += v >= r[1] && v <= r[2];
				s->ro_n++;
			}
			/* seasonal naive at ahead's season, from the last known cycle */
			size_t back = m - ((h - 1) % m);
			if (t >= back && !isnan(y[t - back])) {
				s->ae_sn[h - 1] += fabs(v - y[t - back]);
				s->cnt_sn[h - 1]++;
			}
		}
		ah_forecaster_update(f, y[t]);
	}
	ah_forecaster_free(f);
}

static double mase_h(const ser *s, size_t h)
{
	return s->cnt[h - 1] ? s->ae[h - 1] / (double)s->cnt[h - 1] / s->scale : NAN;
}

static double mase_all(const ser *s)
{
	double t = 0;
	size_t k = 0;
	for (size_t h = 1; h <= H; h++)
		if (s->cnt[h - 1]) {
			t += mase_h(s, h);
			k++;
		}
	return k ? t / (double)k : NAN;
}

static double mase_sn(const ser *s)
{
	double t = 0;
	size_t k = 0;
	for (size_t h = 0; h < H; h++)
		if (s->cnt_sn[h]) {
			t += s->ae_sn[h] / (double)s->cnt_sn[h] / s->scale;
			k++;
		}
	return k ? t / (double)k : NAN;
}

/* ---- NAB and its committed R reference ---- */

static ser *find(size_t set, const char *name)
{
	for (size_t i = 0; i < NS[set]; i++)
		if (!strcmp(S[set][i].name, name))
			return &S[set][i];
	return NULL;
}

static void load_r(const char *src)
{
	char path[1024], line[1024];
	snprintf(path, sizeof(path), "%s/bench/forecast/r_results.csv", src);
	FILE *fp = fopen(path, "r");
	if (!fp)
		return;
	if (!fgets(line, sizeof(line), fp)) {
		fclose(fp);
		return;
	}
	while (fgets(line, sizeof(line), fp)) {
		char name[200], model[32];
		size_t o, h;
		double y, p, l80, h80, l95, h95;
		if (sscanf(line, "%199[^,],%31[^,],%zu,%zu,%lf,%lf,%lf,%lf,%lf,%lf", name, model, &o, &h, &y, &p,
			   &l80, &h80, &l95, &h95) != 10)
			continue;
		ser *s = find(1, name);
		if (!s)
			continue;
		int m = !strcmp(model, "ets") ? 0 : 1;
		int hi = h == 1 ? 0 : h == 12 ? 1 : 2;
		s->r_ae[m][hi] += fabs(y - p);
		s->r_cnt[m][hi]++;
	}
	fclose(fp);
}

/* R on the Bitbrains set: bench/forecast/r_bitbrains.csv (sums per series,
 * model, part and h, in the series' units) and r_bitbrains_timing.csv. R's
 * best per series is the model with the lowest validation MAE; its test
 * counts must equal ahead's on the same origins, else the file belongs to
 * another split and is ignored for that series. */
typedef struct {
	double val_ae, ae[H], is;
	size_t val_n, cnt[H], in80, n;
} r_model;

static const char *const R_MODELS[] = {"ets", "arima", "stlm", "fourier"};
#define R_NM 4

static void load_r_bitbrains(const char *src, const char *dir)
{
	char path[1200], line[512];
	snprintf(path, sizeof(path), "%s/r_bitbrains.csv", dir ? dir : src);
	if (!dir)
		snprintf(path, sizeof(path), "%s/bench/forecast/r_bitbrains.csv", src);
	FILE *fp = fopen(path, "r");
	if (!fp) {
		fprintf(stderr, "bench forecast: no R results at %s (R columns empty)\n", path);
		return;
	}
	static r_model rm[MAXS][R_NM];
	memset(rm, 0, sizeof(rm));
	if (!fgets(line, sizeof(line), fp))
		line[0] = 0;
	while (fgets(line, sizeof(line), fp)) {
		char name[200], model[32], part[8];
		size_t h, n, in80, in95;
		double ae, is;
		if (sscanf(line, "%199[^,],%31[^,],%7[^,],%zu,%zu,%lf,%zu,%zu,%lf", name, model, part, &h, &n, &ae,
			   &in80, &in95, &is) != 9)
			continue;
		ser *s = find(0, name);
		int m = 0;
		while (m < R_NM && strcmp(R_MODELS[m], model))
			m++;
		if (!s || m == R_NM || h > H)
			continue;
		r_model *r = &rm[s - S[0]][m];
		if (!strcmp(part, "val")) {
			r->val_ae += ae;
			r->val_n += n;
		} else if (h >= 1) {
			r->ae[h - 1] += ae;
			r->cnt[h - 1] += n;
			r->is += is;
			r->in80 += in80;
			r->n += n;
		}
	}
	fclose(fp);
	for (size_t i = 0; i < NS[0]; i++) {
		ser *s = &S[0][i];
		int best = -1;
		for (int m = 0; m < R_NM; m++) {
			r_model *r = &rm[i][m];
			bool same = r->n > 0;
			for (size_t h = 0; h < H && same; h++)
				same = r->cnt[h] == s->ro_cnt[h];
			if (!same || !r->val_n)
				continue;
			if (best < 0 || r->val_ae / (double)r->val_n < rm[i][best].val_ae / (double)rm[i][best].val_n)
				best = m;
		}
		if (best < 0)
			continue;
		r_model *r = &rm[i][best];
		snprintf(s->rb_model, sizeof(s->rb_model), "%s", R_MODELS[best]);
		s->rb_val = r->val_ae / (double)r->val_n;
		memcpy(s->rb_ae, r->ae, sizeof(s->rb_ae));
		memcpy(s->rb_cnt, r->cnt, sizeof(s->rb_cnt));
		s->rb_is = r->is / s->scale;
		s->rb_in80 = r->in80;
		s->rb_n = r->n;
	}
	snprintf(path, sizeof(path), "%s/%s", dir ? dir : src, dir ? "r_bitbrains_timing.csv" : "bench/forecast/r_bitbrains_timing.csv");
	if (!(fp = fopen(path, "r")))
		return;
	while (fgets(line, sizeof(line), fp)) {
		char name[200];
		size_t n, train;
		double te, ts;
		if (sscanf(line, "%199[^,],%zu,%zu,%lf,%lf", name, &n, &train, &te, &ts) != 5)
			continue;
		ser *s = find(0, name);
		if (s) {
			s->r_ets_s = te;
			s->r_stlm_s = ts;
		}
	}
	fclose(fp);
}

static void run_nab(const char *shared)
{
	char pat[1100];
	snprintf(pat, sizeof(pat), "%s/data/nab/data/*/*.csv", shared);
	glob_t g;
	if (glob(pat, 0, NULL, &g) || g.gl_pathc == 0) {
		fprintf(stderr, "bench forecast: no NAB series under %s (skipped)\n", pat);
		return;
	}
	for (size_t i = 0; i < g.gl_pathc && NS[1] < MAXS; i++) {
		const char *p = g.gl_pathv[i];
		const char *b = strrchr(p, '/'), *d = b;
		while (d > p && d[-1] != '/')
			d--;
		ser *s = &S[1][NS[1]];
		memset(s, 0, sizeof(*s));
		snprintf(s->name, sizeof(s->name), "%.*s/%s", (int)(b - d), d, b + 1);
		ah_series sr;
		char err[512];
		ah_series_csv_opts o = {.flags = AH_SERIES_UNORDERED};
		if (ah_series_read_csv(p, &o, &sr, err, sizeof(err))) {
			fprintf(stderr, "bench forecast: %s\n", err);
			continue;
		}
		/* as r_reference.R: missing values -> the series mean */
		double mean = 0;
		size_t c = 0;
		for (size_t k = 0; k < sr.n; k++)
			if (!isnan(sr.v[k])) {
				mean += sr.v[k];
				c++;
			}
		mean = c ? mean / (double)c : 0;
		for (size_t k = 0; k < sr.n; k++)
			if (isnan(sr.v[k]))
				sr.v[k] = mean;
		run_series(s, sr.v, sr.n, sr.step_ns > 0 ? (double)sr.step_ns / 1e9 : 0);
		ah_series_fini(&sr);
		NS[1]++;
	}
	globfree(&g);
}

/* ---- the fleet ---- */

typedef struct {
	size_t from, to;
	uint64_t seed;
	int fails;
} fleet_job;

static void *fleet_worker(void *arg)
{
	fleet_job *j = arg;
	double *y = malloc(4032 * sizeof(double)), pt[H], qo[H * NQ];
	if (!y) {
		j->fails = -1;
		return NULL;
	}
	uint64_t r = j->seed;
#define RND() (r = r * 6364136223846793005ULL + 1442695040888963407ULL, ((double)(r >> 11) + 0.5) / 9007199254740992.0)
	for (size_t i = j->from; i < j->to; i++) {
		const ser *s = &S[0][i % NS[0]];
		size_t span = s->n > 4032 ? s->n - 4032 : 0;
		size_t st = (size_t)(RND() * (double)(span + 1));
		if (st > span)
			st = span;
		double scale = 0.5 + 1.5 * RND(), mean = 0, sd = 0;
		size_t c = 0;
		for (size_t k = 0; k < 4032 && st + k < s->n; k++)
			if (!isnan(s->y[st + k])) {
				mean += s->y[st + k];
				sd += s->y[st + k] * s->y[st + k];
				c++;
			}
		mean = c ? mean / (double)c : 0;
		sd = c ? sqrt(fmax(sd / (double)c - mean * mean, 0)) : 0;
		double shift = 0.2 * mean * RND();
		for (size_t k = 0; k < 4032; k++) {
			double v = st + k < s->n ? s->y[st + k] : NAN;
			double u1 = RND(), u2 = RND();
			double g = sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
			y[k] = isnan(v) ? NAN : (v + shift) * scale + 0.05 * sd * scale * g;
		}
		ah_fc_opts fo = {.horizon = H, .step_s = 300};
		ah_forecaster *f;
		if (ah_forecaster_new(&fo, y, 4032, &f) == 0) {
			if (ah_forecaster_forecast(f, H, Q, NQ, pt, qo))
				j->fails++;
			ah_forecaster_free(f);
		} else {
			j->fails++;
		}
	}
#undef RND
	free(y);
	return NULL;
}

static double run_fleet(size_t count, int *fails)
{
	pthread_t th[2];
	fleet_job jobs[2] = {{0, count / 2, 0x9e3779b97f4a7c15ULL, 0}, {count / 2, count, 0xbf58476d1ce4e5b9ULL, 0}};
	double t0 = now();
	for (int k = 0; k < 2; k++)
		pthread_create(&th[k], NULL, fleet_worker, &jobs[k]);
	for (int k = 0; k < 2; k++)
		pthread_join(th[k], NULL);
	*fails = jobs[0].fails + jobs[1].fails;
	return now() - t0;
}

/* ---- report ---- */

typedef struct {
	double mase, mase_h1, mase_sn, c80, c95, w80, w95, is80, ms;
	size_t worst80_h, worst95_h, ns;
	double cov80[H], cov95[H];
	/* against R's best, on R's origins, over the series R has */
	size_t nr;
	double r_mase, r_mase_h1, ro_mase, ro_mase_h1, r_is, ro_is, r_cov80, ro_cov80, sp_ets, sp_stlm;
	size_t n1;         /* series with R best at h = 1 on every origin */
	double r1_r, r1_a; /* its median MASE there, and ahead's on the same series */
} summary;

static double mean_h(const double *ae, const size_t *cnt, double scale)
{
	double t = 0;
	size_t k = 0;
	for (size_t h = 0; h < H; h++)
		if (cnt[h]) {
			t += ae[h] / (double)cnt[h] / scale;
			k++;
		}
	return k ? t / (double)k : NAN;
}

/* r_bitbrains_h1.csv (bench/forecast/r_bitbrains_h1.R): R best's one-step
 * forecasts at every test origin where that is one filter pass (not stlm);
 * used only where its targets are exactly ahead's h = 1 targets. */
static void load_r_h1(const char *src, const char *dir)
{
	char path[1200], line[512];
	if (dir)
		snprintf(path, sizeof(path), "%s/r_bitbrains_h1.csv", dir);
	else
		snprintf(path, sizeof(path), "%s/bench/forecast/r_bitbrains_h1.csv", src);
	FILE *fp = fopen(path, "r");
	if (!fp) {
		fprintf(stderr, "bench forecast: no R every-origin h=1 results at %s\n", path);
		return;
	}
	while (fgets(line, sizeof(line), fp)) {
		char name[200], model[32];
		size_t n;
		double ae;
		if (sscanf(line, "%199[^,],%31[^,],%zu,%lf", name, model, &n, &ae) != 4)
			continue;
		ser *s = find(0, name);
		if (s && n > 0 && s->rb_model[0] && !strcmp(model, s->rb_model) && n == s->cnt[0]) {
			s->r1_ae = ae;
			s->r1_n = n;
		}
	}
	fclose(fp);
}

static void summarise_r(size_t set, summary *o)
{
	double a[MAXS], b[MAXS], c[MAXS], d[MAXS], e[MAXS], f[MAXS], g[MAXS], q[MAXS];
	size_t k = 0, ks = 0, in_r = 0, in_a = 0, nn = 0;
	for (size_t i = 0; i < NS[set]; i++) {
		ser *s = &S[set][i];
		if (!s->rb_model[0] || isnan(mase_all(s)))
			continue;
		a[k] = mean_h(s->rb_ae, s->rb_cnt, s->scale);
		b[k] = s->rb_cnt[0] ? s->rb_ae[0] / (double)s->rb_cnt[0] / s->scale : NAN;
		c[k] = mean_h(s->ro_ae, s->ro_cnt, s->scale);
		d[k] = s->ro_cnt[0] ? s->ro_ae[0] / (double)s->ro_cnt[0] / s->scale : NAN;
		e[k] = s->rb_is / (double)s->rb_n;
		f[k] = s->ro_is / (double)s->ro_n;
		in_r += s->rb_in80;
		in_a += s->ro_in80;
		nn += s->rb_n;
		k++;
		if (s->r_ets_s > 0 && s->fit_s > 0) {
			g[ks] = s->r_ets_s / s->fit_s;
			q[ks++] = s->r_stlm_s / s->fit_s;
		}
	}
	o->nr = k;
	o->r_mase = median(a, k);
	o->r_mase_h1 = median(b, k);
	o->ro_mase = median(c, k);
	o->ro_mase_h1 = median(d, k);
	o->r_is = median(e, k);
	o->ro_is = median(f, k);
	o->r_cov80 = nn ? 100.0 * (double)in_r / (double)nn : NAN;
	o->ro_cov80 = nn ? 100.0 * (double)in_a / (double)nn : NAN;
	o->sp_ets = median(g, ks);
	o->sp_stlm = median(q, ks);
	k = 0;
	for (size_t i = 0; i < NS[set]; i++) {
		ser *s = &S[set][i];
		if (!s->r1_n || isnan(mase_h(s, 1)))
			continue;
		a[k] = s->r1_ae / (double)s->r1_n / s->scale;
		b[k++] = mase_h(s, 1);
	}
	o->n1 = k;
	o->r1_r = median(a, k);
	o->r1_a = median(b, k);
}

static void summarise(size_t set, summary *o)
{
	double v[MAXS], v1[MAXS], vs[MAXS], vi[MAXS], ms = 0;
	size_t k = 0, ki = 0;
	size_t in80[H] = {0}, in95[H] = {0}, cnt[H] = {0};
	for (size_t i = 0; i < NS[set]; i++) {
		ser *s = &S[set][i];
		if (isnan(mase_all(s)))
			continue;
		v[k] = mase_all(s);
		v1[k] = mase_h(s, 1);
		vs[k] = mase_sn(s);
		k++;
		ms += s->fit_s * 1e3;
		if (s->is_n && s->scale > 1e-9) /* a constant training part has no scale */
			vi[ki++] = s->is80 / (double)s->is_n;
		for (size_t h = 0; h < H; h++) {
			in80[h] += s->in80[h];
			in95[h] += s->in95[h];
			cnt[h] += s->cnt[h];
		}
	}
	memset(o, 0, sizeof(*o));
	o->ns = k;
	o->mase = median(v, k);
	o->mase_h1 = median(v1, k);
	o->mase_sn = median(vs, k);
	o->ms = k ? ms / (double)k : NAN;
	o->is80 = median(vi, ki);
	size_t a80 = 0, a95 = 0, an = 0;
	for (size_t h = 0; h < H; h++) {
		o->cov80[h] = cnt[h] ? 100.0 * (double)in80[h] / (double)cnt[h] : NAN;
		o->cov95[h] = cnt[h] ? 100.0 * (double)in95[h] / (double)cnt[h] : NAN;
		a80 += in80[h];
		a95 += in95[h];
		an += cnt[h];
		if (fabs(o->cov80[h] - 80) > fabs(o->w80) || !h) {
			o->w80 = o->cov80[h] - 80;
			o->worst80_h = h + 1;
		}
		if (fabs(o->cov95[h] - 95) > fabs(o->w95) || !h) {
			o->w95 = o->cov95[h] - 95;
			o->worst95_h = h + 1;
		}
	}
	o->c80 = an ? 100.0 * (double)a80 / (double)an : NAN;
	o->c95 = an ? 100.0 * (double)a95 / (double)an : NAN;
}

static void table(FILE *fp, size_t set, bool r)
{
	fprintf(fp, "%-44s %5s %4s %4s %-44s %6s %6s %6s %6s %6s %7s", "series", "n", "m", "m2",
		"bands (h1|2-6|7-24|25-48)", "MASE", "h1", "h48", "snaive", "cov80", "fit_ms");
	if (r)
		fprintf(fp, " %7s %7s %7s", "a@3h", "ets@3h", "arima@3h");
	fprintf(fp, "\n");
	for (size_t i = 0; i < NS[set]; i++) {
		ser *s = &S[set][i];
		size_t in = 0, c = 0;
		for (size_t h = 0; h < H; h++) {
			in += s->in80[h];
			c += s->cnt[h];
		}
		fprintf(fp, "%-44.44s %5zu %4zu %4zu %-44.44s %6.3f %6.3f %6.3f %6.3f %5.1f%% %7.2f", s->name, s->n,
			s->season, s->season2, s->bands, mase_all(s), mase_h(s, 1), mase_h(s, H), mase_sn(s),
			c ? 100.0 * (double)in / (double)c : NAN, s->fit_s * 1e3);
		if (r) {
			static const size_t hs[3] = {1, 12, 48};
			double a = 0, rr[2] = {0, 0};
			bool ok = true;
			for (int k = 0; k < 3; k++) {
				a += mase_h(s, hs[k]) / 3;
				for (int m = 0; m < 2; m++) {
					ok &= s->r_cnt[m][k] > 0;
					rr[m] += s->r_cnt[m][k] ? s->r_ae[m][k] / (double)s->r_cnt[m][k] / s->scale / 3 : 0;
				}
			}
			fprintf(fp, " %7.3f %7.3f %7.3f", a, ok ? rr[0] : NAN, ok ? rr[1] : NAN);
		}
		fprintf(fp, "\n");
	}
}

/* ahead beside R's best, both on R's origins (R_K_TEST per series). */
static void r_table(FILE *fp, size_t set, const summary *o)
{
	if (!o->nr) {
		fprintf(fp, "no R results for this set (bench/forecast/remake_r.sh makes them)\n");
		return;
	}
	fprintf(fp, "%-24s %-8s %8s %8s %8s %8s %7s %7s %8s %8s %8s %8s %8s\n", "series", "R best", "R val",
		"MASE R", "MASE a", "h1 R", "h1 a", "cov80R", "cov80a", "IS80 R", "IS80 a", "ets_ms", "a_ms");
	for (size_t i = 0; i < NS[set]; i++) {
		const ser *s = &S[set][i];
		if (!s->rb_model[0])
			continue;
		fprintf(fp, "%-24.24s %-8s %8.3g %8.3f %8.3f %8.3f %7.3f %6.1f%% %7.1f%% %8.2f %8.2f %8.1f %8.2f\n",
			s->name, s->rb_model, s->rb_val / s->scale, mean_h(s->rb_ae, s->rb_cnt, s->scale),
			mean_h(s->ro_ae, s->ro_cnt, s->scale), s->rb_ae[0] / (double)s->rb_cnt[0] / s->scale,
			s->ro_ae[0] / (double)s->ro_cnt[0] / s->scale, 100.0 * (double)s->rb_in80 / (double)s->rb_n,
			100.0 * (double)s->ro_in80 / (double)s->ro_n, s->rb_is / (double)s->rb_n,
			s->ro_is / (double)s->ro_n, s->r_ets_s * 1e3, s->fit_s * 1e3);
	}
	fprintf(fp, "\n%zu series on R's %d origins each: median MASE R best %.4f vs ahead %.4f; h=1 %.4f vs %.4f; "
		    "coverage 80 %.1f vs %.1f; median interval score 80 / scale %.3f vs %.3f (ratio %.3f); "
		    "speed-up (median t_R / t_A): ets %.1fx, stlm %.1fx\n",
		o->nr, R_K_TEST, o->r_mase, o->ro_mase, o->r_mase_h1, o->ro_mase_h1, o->r_cov80, o->ro_cov80, o->r_is,
		o->ro_is, o->ro_is / o->r_is, o->sp_ets, o->sp_stlm);
	if (o->n1)
		fprintf(fp, "h=1 on every test origin (bench/forecast/r_bitbrains_h1.R; R best's one-step forecasts where "
			    "that is one filter pass, so not stlm): %zu series, median MASE R best %.4f vs ahead %.4f\n",
			o->n1, o->r1_r, o->r1_a);
}

static void cov_line(FILE *fp, const summary *o)
{
	fprintf(fp, "cov_h 80%%:");
	for (size_t h = 0; h < H; h += 1)
		fprintf(fp, " %.1f", o->cov80[h]);
	fprintf(fp, "\ncov_h 95%%:");
	for (size_t h = 0; h < H; h += 1)
		fprintf(fp, " %.1f", o->cov95[h]);
	fprintf(fp, "\n");
}

int main(int argc, char **argv)
{
	const char *src = getenv("AHEAD_SRC") ? getenv("AHEAD_SRC") : ".";
	const char *shared = getenv("AHEAD_SHARED") ? getenv("AHEAD_SHARED") : "../shared";
	char out[1024];
	snprintf(out, sizeof(out), "%s/docs/forecast-results.md", src);
	bool tune = false, fleet = true;
	size_t fleet_n = 10000;
	const char *dump = NULL, *r_dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--set") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "tune"))
				tune = true;
			else if (strcmp(argv[i], "report")) {
				fprintf(stderr, "bench forecast: --set report|tune\n");
				return 2;
			}
		} else if (!strcmp(argv[i], "--no-fleet")) {
			fleet = false;
		} else if (!strcmp(argv[i], "--fleet") && i + 1 < argc) {
			fleet_n = (size_t)strtoul(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--r-dir") && i + 1 < argc) {
			r_dir = argv[++i];
		} else if (!strcmp(argv[i], "--dump") && i + 1 < argc) {
			dump = argv[++i];
		} else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
			snprintf(out, sizeof(out), "%s", argv[++i]);
		} else {
			fprintf(stderr, "usage: bench/run forecast [--set report|tune] [--no-fleet] [--fleet N] [--out FILE.md] [--dump DIR] [--r-dir DIR]\n");
			return 2;
		}
	}
	if (tune) /* never overwrite the report with tuning runs */
		snprintf(out, sizeof(out), "/dev/null");
	int lo = tune ? 1 : 26, hi = tune ? 25 : 50;
	for (int col = 0; col < 2; col++)
		for (int vm = lo; vm <= hi && NS[0] < MAXS; vm++) {
			char path[1200];
			snprintf(path, sizeof(path), "%s/data/bitbrains_rnd/rnd/2013-7/%d.csv", shared, vm);
			size_t n;
			double *y = read_bitbrains(path, col ? 6 : 3, &n);
			if (!y) {
				fprintf(stderr, "bench forecast: cannot read %s (skipped)\n", path);
				continue;
			}
			ser *s = &S[0][NS[0]++];
			memset(s, 0, sizeof(*s));
			snprintf(s->name, sizeof(s->name), "bitbrains/%d/%s", vm, col ? "memory" : "cpu");
			s->y = y;
			if (dump && dump_series(dump, s->name, y, n) < 0)
				return 1;
			run_series(s, y, n, 300);
		}
	run_nab(shared);
	load_r(src);
	load_r_bitbrains(src, r_dir);
	load_r_h1(src, r_dir);
	summary b, nb;
	summarise(0, &b);
	summarise_r(0, &b);
	summarise(1, &nb);
	double fleet_s = NAN;
	int fails = 0;
	if (fleet && NS[0])
		fleet_s = run_fleet(fleet_n, &fails) * 10000.0 / (double)(fleet_n ? fleet_n : 1);

	FILE *md = fopen(out, "w");
	FILE *outs[2] = {stdout, md};
	for (int o = 0; o < 2; o++) {
		FILE *fp = outs[o];
		if (!fp)
			continue;
		if (o)
			fprintf(fp, "# Forecast benchmark results\n\n"
				    "Generated by `bench/run forecast` (method: the comment at the top of bench/bench_forecast.c).\n"
				    "Every origin of the test part (the last 20%%), horizons 1..48. MASE = MAE / (one-step naive MAE "
				    "on the training part); a series' MASE is the mean over h = 1..48; headline = median over series.\n"
				    "Coverage is pooled over (series, origin) pairs per horizon. Wall-clock times on a shared 2-core "
				    "machine: noisy.\n\n## Report set: Bitbrains VMs 26-50, cpu and memory\n\n```\n");
		else
			fprintf(fp, "== %s set: Bitbrains VMs %d-%d, cpu and memory ==\n", tune ? "tuning" : "report", lo, hi);
		table(fp, 0, false);
		if (o)
			fprintf(fp, "```\n\n### Against R's best (bench/forecast/r_bitbrains.R)\n\n"
				    "R's best per series among ets, auto.arima, stlm (day + week) and ARIMA on Fourier terms "
				    "(day + week), chosen by its MAE on the training part's last 20%% (column R val, scaled), "
				    "never by test error; R's seasonal fits are slow, so R forecasts %d evenly spaced origins "
				    "per series, and ahead is scored on the same origins in this table (MASE a, h1 a, "
				    "cov80a, IS80 a). Timing: R's ets() fit + 48-step forecast with intervals (proc.time(), "
				    "committed run) against ahead's fit + forecast in this run (a_ms).\n\n```\n", R_K_TEST);
		else
			fprintf(fp, "\n== against R's best, on R's origins ==\n");
		r_table(fp, 0, &b);
		if (o)
			fprintf(fp, "```\n\n```\n");
		fprintf(fp, "\n%zu series: median MASE %.4f (h=1 %.4f; seasonal naive %.4f), coverage 80 %.1f / 95 %.1f, "
			    "worst h: 80 %+.1f at h=%zu, 95 %+.1f at h=%zu, median over series of the mean interval score 80 / scale %.3f\n",
			b.ns, b.mase, b.mase_h1, b.mase_sn, b.c80, b.c95, b.w80, b.worst80_h, b.w95, b.worst95_h, b.is80);
		cov_line(fp, &b);
		if (o)
			fprintf(fp, "```\n\n## Second table: NAB (the files in ../shared)\n\nR columns: MASE over h = 1, 12, 48 "
				    "only (committed bench/forecast/r_results.csv; R's frequency was 1 for seasons > 48, see issue 14), "
				    "beside ahead's over the same three horizons (a@3h).\n\n```\n");
		else
			fprintf(fp, "\n== NAB ==\n");
		table(fp, 1, true);
		fprintf(fp, "\n%zu series: median MASE %.4f (h=1 %.4f; seasonal naive %.4f), coverage 80 %.1f / 95 %.1f, "
			    "worst h: 80 %+.1f at h=%zu, 95 %+.1f at h=%zu\n",
			nb.ns, nb.mase, nb.mase_h1, nb.mase_sn, nb.c80, nb.c95, nb.w80, nb.worst80_h, nb.w95, nb.worst95_h);
		cov_line(fp, &nb);
		if (o)
			fprintf(fp, "```\n\n## Headline (report set)\n\n```\n");
		else
			fprintf(fp, "\n");
		fprintf(fp, "forecast_mase_ahead=%.4f\nforecast_mase_h1_ahead=%.4f\ncoverage_80=%.1f\ncoverage_95=%.1f\n"
			    "coverage_80_worst_h=%+.1f\ncoverage_95_worst_h=%+.1f\nforecast_ms_per_series=%.2f\n",
			b.mase, b.mase_h1, b.c80, b.c95, b.w80, b.w95, b.ms);
		if (b.nr)
			fprintf(fp, "forecast_mase_r_best=%.4f\nforecast_mase_h1_r_best=%.4f\ninterval_score_80_ratio=%.3f\n"
				    "forecast_speedup_vs_r_ets=%.1f\nforecast_speedup_vs_r_stlm=%.1f\n",
				b.r_mase, b.r_mase_h1, b.ro_is / b.r_is, b.sp_ets, b.sp_stlm);
		if (b.n1)
			fprintf(fp, "forecast_mase_h1_r_best_every_origin=%.4f\nforecast_mase_h1_ahead_same_series=%.4f\n",
				b.r1_r, b.r1_a);
		if (!isnan(fleet_s))
			fprintf(fp, "fleet_fit_s_10k=%.2f\n", fleet_s);
		if (fails)
			fprintf(fp, "fleet_failures=%d\n", fails);
		if (o)
			fprintf(fp, "```\n");
	}
	if (md)
		fclose(md);
	for (size_t i = 0; i < NS[0]; i++)
		free(S[0][i].y);
	return 0;
}
