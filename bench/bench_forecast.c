/* bench forecast: ahead's chosen model vs seasonal naive vs R ets()/auto.arima()
 * on every NAB series, rolling origin (split defined in
 * bench/forecast/r_reference.R, mirrored here). R's forecasts come from the
 * committed bench/forecast/r_results.csv (re-made with --remake-r).
 *
 * usage: bench/run forecast [--remake-r] [--data DIR] [--out FILE.md] */
#include <glob.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ahead/error.h"
#include "ahead/forecast.h"
#include "ahead/series.h"

#define H 48
#define NH 3
static const size_t HS[NH] = {1, 12, 48};
#define NM 4 /* ahead, snaive, ets, arima */
static const char *MN[NM] = {"ahead", "snaive", "ets", "auto.arima"};
#define MAXS 64

typedef struct {
	char name[160];
	size_t n, origins, season;
	char model[32];
	double scale;
	double ae[NM][NH], sm[NM][NH];
	size_t cnt[NM][NH];
	size_t in80[NM], in95[NM], cov_n[NM];
	double sec_ahead, sec_r[2];
} ser;

static ser S[MAXS];
static size_t NS;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void acc(ser *s, int m, int hi, double y, double p)
{
	s->ae[m][hi] += fabs(y - p);
	double den = fabs(y) + fabs(p);
	s->sm[m][hi] += den > 0 ? 200 * fabs(y - p) / den : 0;
	s->cnt[m][hi]++;
}

static double mase(const ser *s, int m)
{
	double t = 0;
	for (int h = 0; h < NH; h++) {
		if (!s->cnt[m][h])
			return NAN;
		t += s->ae[m][h] / (double)s->cnt[m][h] / s->scale;
	}
	return t / NH;
}

static double smape(const ser *s, int m)
{
	double t = 0;
	for (int h = 0; h < NH; h++) {
		if (!s->cnt[m][h])
			return NAN;
		t += s->sm[m][h] / (double)s->cnt[m][h];
	}
	return t / NH;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median_of(int m, double (*fn)(const ser *, int))
{
	double v[MAXS];
	size_t k = 0;
	for (size_t i = 0; i < NS; i++) {
		/* only series every method has results for, so medians compare */
		bool all = true;
		for (int j = 0; j < NM; j++)
			all &= !isnan(fn(&S[i], j));
		double x = fn(&S[i], m);
		if (all)
			v[k++] = x;
	}
	if (!k)
		return NAN;
	qsort(v, k, sizeof(double), cmpd);
	return k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
}

static int run_series(const char *path, ser *s)
{
	ah_series sr;
	char err[512];
	ah_series_csv_opts o = {.flags = AH_SERIES_UNORDERED};
	if (ah_series_read_csv(path, &o, &sr, err, sizeof(err))) {
		fprintf(stderr, "bench forecast: %s\n", err);
		return -1;
	}
	/* same preparation as r_reference.R: missing values -> series mean */
	double mean = 0;
	size_t c = 0;
	for (size_t i = 0; i < sr.n; i++)
		if (!isnan(sr.v[i])) {
			mean += sr.v[i];
			c++;
		}
	mean = c ? mean / (double)c : 0;
	for (size_t i = 0; i < sr.n; i++)
		if (isnan(sr.v[i]))
			sr.v[i] = mean;
	const double *y = sr.v;
	size_t n = sr.n, train = (size_t)floor(0.8 * (double)n);
	size_t k = (n - H - train) / 100;
	if (k < 1)
		k = 1;
	s->n = n;
	double ss = 0;
	for (size_t i = 1; i < train; i++)
		ss += fabs(y[i] - y[i - 1]);
	s->scale = ss > 0 ? ss / (double)(train - 1) : 1e-12;

	static const double q[4] = {0.025, 0.1, 0.9, 0.975};
	double pt[H], qo[H * 4];
	double t0 = now();
	ah_fc_opts fo = {.horizon = H};
	ah_forecaster *f;
	int rc = ah_forecaster_new(&fo, y, train, &f);
	if (rc) {
		fprintf(stderr, "bench forecast: %s: %s\n", path, ah_strerror(rc));
		ah_series_fini(&sr);
		return -1;
	}
	ah_fc_choice ch;
	ah_forecaster_choice(f, &ch);
	size_t m = ch.season;
	s->season = m;
	snprintf(s->model, sizeof(s->model), "%s", ch.model);
	size_t no = 0;
	for (size_t t = train; t <= n - H; t++) {
		if ((t - train) % k == 0) {
			no++;
			ah_forecaster_forecast(f, H, q, 4, pt, qo);
			for (int hi = 0; hi < NH; hi++) {
				size_t h = HS[hi];
				double yy = y[t + h - 1];
				acc(s, 0, hi, yy, pt[h - 1]);
				const double *qq = qo + (h - 1) * 4;
				s->in80[0] += yy >= qq[1] && yy <= qq[2];
				s->in95[0] += yy >= qq[0] && yy <= qq[3];
				s->cov_n[0]++;
				/* seasonal naive with ahead's detected season (naive when none) */
				size_t back = m - ((h - 1) % m);
				acc(s, 1, hi, yy, y[t - back]);
			}
		}
		if (t < n)
			ah_forecaster_update(f, y[t]);
	}
	s->sec_ahead = now() - t0;
	s->origins = no;
	ah_forecaster_free(f);
	ah_series_fini(&sr);
	return 0;
}

static ser *find(const char *name)
{
	for (size_t i = 0; i < NS; i++)
		if (!strcmp(S[i].name, name))
			return &S[i];
	return NULL;
}

static void load_r(const char *src)
{
	char path[1024], line[1024];
	snprintf(path, sizeof(path), "%s/bench/forecast/r_results.csv", src);
	FILE *fp = fopen(path, "r");
	if (!fp) {
		fprintf(stderr, "bench forecast: %s missing; run with --remake-r\n", path);
		return;
	}
	fgets(line, sizeof(line), fp);
	while (fgets(line, sizeof(line), fp)) {
		char name[200], model[32];
		size_t o, h;
		double y, p, l80, h80, l95, h95;
		if (sscanf(line, "%199[^,],%31[^,],%zu,%zu,%lf,%lf,%lf,%lf,%lf,%lf", name, model, &o, &h, &y, &p,
			   &l80, &h80, &l95, &h95) != 10)
			continue;
		ser *s = find(name);
		if (!s)
			continue;
		int m = !strcmp(model, "ets") ? 2 : 3;
		int hi = h == 1 ? 0 : h == 12 ? 1 : 2;
		acc(s, m, hi, y, p);
		s->in80[m] += y >= l80 && y <= h80;
		s->in95[m] += y >= l95 && y <= h95;
		s->cov_n[m]++;
	}
	fclose(fp);
	snprintf(path, sizeof(path), "%s/bench/forecast/r_timing.csv", src);
	fp = fopen(path, "r");
	if (!fp)
		return;
	fgets(line, sizeof(line), fp);
	while (fgets(line, sizeof(line), fp)) {
		char name[200], model[32];
		size_t n, no, fr;
		double a, b, tot;
		if (sscanf(line, "%199[^,],%31[^,],%zu,%zu,%zu,%lf,%lf,%lf", name, model, &n, &no, &fr, &a, &b,
			   &tot) != 8)
			continue;
		ser *s = find(name);
		if (s)
			s->sec_r[strcmp(model, "ets") ? 1 : 0] = tot;
	}
	fclose(fp);
}

int main(int argc, char **argv)
{
	const char *src = getenv("AHEAD_SRC") ? getenv("AHEAD_SRC") : ".";
	const char *shared = getenv("AHEAD_SHARED") ? getenv("AHEAD_SHARED") : "../shared";
	char data[1024], out[1024];
	snprintf(data, sizeof(data), "%s/data/nab/data", shared);
	snprintf(out, sizeof(out), "%s/docs/forecast-results.md", src);
	int remake = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--remake-r"))
			remake = 1;
		else if (!strcmp(argv[i], "--data") && i + 1 < argc)
			snprintf(data, sizeof(data), "%s", argv[++i]);
		else if (!strcmp(argv[i], "--out") && i + 1 < argc)
			snprintf(out, sizeof(out), "%s", argv[++i]);
		else {
			fprintf(stderr, "usage: bench/run forecast [--remake-r] [--data DIR] [--out FILE.md]\n");
			return 2;
		}
	}
	if (remake) {
		char cmd[4096];
		snprintf(cmd, sizeof(cmd),
			 "timeout 3600 Rscript '%s/bench/forecast/r_reference.R' '%s' '%s/bench/forecast/r_results.csv' "
			 "'%s/bench/forecast/r_timing.csv'",
			 src, data, src, src);
		fprintf(stderr, "bench forecast: re-making R reference (tens of minutes)...\n");
		if (system(cmd) != 0)
			fprintf(stderr, "bench forecast: R run failed or timed out; results may be partial\n");
	}
	char pat[1100];
	snprintf(pat, sizeof(pat), "%s/*/*.csv", data);
	glob_t g;
	if (glob(pat, 0, NULL, &g) || g.gl_pathc == 0) {
		fprintf(stderr, "bench forecast: no series under %s (skipped)\n", data);
		return 0;
	}
	for (size_t i = 0; i < g.gl_pathc && NS < MAXS; i++) {
		const char *p = g.gl_pathv[i];
		const char *b = strrchr(p, '/');
		const char *d = b;
		while (d > p && d[-1] != '/')
			d--;
		ser *s = &S[NS];
		memset(s, 0, sizeof(*s));
		snprintf(s->name, sizeof(s->name), "%.*s/%s", (int)(b - d), d, b + 1);
		if (run_series(p, s) == 0)
			NS++;
	}
	globfree(&g);
	load_r(src);

	FILE *md = fopen(out, "w");
	FILE *outs[2] = {stdout, md};
	double tot_a = 0, tot_r[2] = {0, 0};
	size_t in80 = 0, in95 = 0, cn = 0, rin80[2] = {0}, rin95[2] = {0}, rcn[2] = {0};
	for (int o = 0; o < 2; o++) {
		FILE *fp = outs[o];
		if (!fp)
			continue;
		if (o)
			fprintf(fp, "# Forecast benchmark results\n\nGenerated by `bench/run forecast` (see docs/FORECAST.md for the method).\n"
				    "MASE is the mean over horizons 1, 12, 48 of MAE / (in-sample one-step naive MAE on the training 80%%).\n\n```\n");
		fprintf(fp, "%-52s %6s %4s %-15s %7s %7s %7s %7s %7s %7s %9s %9s\n", "series", "n", "m", "ahead model",
			"ahead", "snaive", "ets", "arima", "cov80", "cov95", "ahead_ms", "R_s");
		for (size_t i = 0; i < NS; i++) {
			ser *s = &S[i];
			fprintf(fp, "%-52.52s %6zu %4zu %-15s %7.3f %7.3f %7.3f %7.3f %6.1f%% %6.1f%% %9.2f %9.2f\n", s->name,
				s->n, s->season, s->model, mase(s, 0), mase(s, 1), mase(s, 2), mase(s, 3),
				s->cov_n[0] ? 100.0 * s->in80[0] / s->cov_n[0] : NAN,
				s->cov_n[0] ? 100.0 * s->in95[0] / s->cov_n[0] : NAN, s->sec_ahead * 1e3,
				s->sec_r[0] + s->sec_r[1]);
		}
		if (o)
			fprintf(fp, "```\n");
	}
	for (size_t i = 0; i < NS; i++) {
		tot_a += S[i].sec_ahead;
		in80 += S[i].in80[0];
		in95 += S[i].in95[0];
		cn += S[i].cov_n[0];
		for (int r = 0; r < 2; r++) {
			tot_r[r] += S[i].sec_r[r];
			rin80[r] += S[i].in80[2 + r];
			rin95[r] += S[i].in95[2 + r];
			rcn[r] += S[i].cov_n[2 + r];
		}
	}
	double med[NM], meds[NM];
	for (int m = 0; m < NM; m++) {
		med[m] = median_of(m, mase);
		meds[m] = median_of(m, smape);
	}
	int rb = isnan(med[3]) || med[2] <= med[3] ? 2 : 3;
	double rbest = med[rb];
	double speed = tot_a > 0 ? (tot_r[0] + tot_r[1]) / tot_a : NAN;
	size_t ncommon = 0;
	double ratios[MAXS];
	for (size_t i = 0; i < NS; i++) {
		bool all = true;
		for (int j = 0; j < NM; j++)
			all &= !isnan(mase(&S[i], j));
		if (all && S[i].sec_ahead > 0)
			ratios[ncommon++] = (S[i].sec_r[0] + S[i].sec_r[1]) / S[i].sec_ahead;
	}
	qsort(ratios, ncommon, sizeof(double), cmpd);
	/* stricter view: R's better model chosen per series with hindsight */
	double orc[MAXS];
	size_t no = 0, wins = 0;
	for (size_t i = 0; i < NS; i++) {
		double a = mase(&S[i], 2), b = mase(&S[i], 3);
		if (isnan(a) || isnan(b) || isnan(mase(&S[i], 0)))
			continue;
		orc[no++] = a < b ? a : b;
		wins += mase(&S[i], 0) <= (a < b ? a : b);
	}
	qsort(orc, no, sizeof(double), cmpd);
	double med_orc = no ? (no % 2 ? orc[no / 2] : 0.5 * (orc[no / 2 - 1] + orc[no / 2])) : NAN;
	double med_ratio = ncommon ? (ncommon % 2 ? ratios[ncommon / 2] : 0.5 * (ratios[ncommon / 2 - 1] + ratios[ncommon / 2])) : NAN;
	double c80 = cn ? 100.0 * in80 / cn : NAN, c95 = cn ? 100.0 * in95 / cn : NAN;
	for (int o = 0; o < 2; o++) {
		FILE *fp = outs[o];
		if (!fp)
			continue;
		if (o)
			fprintf(fp, "\n## Summary\n\n| method | median MASE | median sMAPE %% | coverage 80%% | coverage 95%% | total time s |\n|---|---|---|---|---|---|\n");
		else
			fprintf(fp, "\n%-12s %12s %14s %10s %10s %12s\n", "method", "median MASE", "median sMAPE%", "cov80%", "cov95%", "time s");
		for (int m = 0; m < NM; m++) {
			double cv8 = m == 0 ? c80 : m >= 2 && rcn[m - 2] ? 100.0 * rin80[m - 2] / rcn[m - 2] : NAN;
			double cv9 = m == 0 ? c95 : m >= 2 && rcn[m - 2] ? 100.0 * rin95[m - 2] / rcn[m - 2] : NAN;
			double tm = m == 0 ? tot_a : m >= 2 ? tot_r[m - 2] : NAN;
			if (o)
				fprintf(fp, "| %s | %.4f | %.2f | %.1f | %.1f | %.4f |\n", MN[m], med[m], meds[m], cv8, cv9, tm);
			else
				fprintf(fp, "%-12s %12.4f %14.2f %10.1f %10.1f %12.4f\n", MN[m], med[m], meds[m], cv8, cv9, tm);
		}
		fprintf(fp, "%s%zu series (medians over the %zu with results from every method); R best single method by median MASE: %s\n"
			    "speedup = total (R ets + auto.arima) time / total ahead time = %.0fx; median per-series ratio = %.0fx\n",
			o ? "\n" : "\n", NS, ncommon, MN[rb], speed, med_ratio);
		fprintf(fp, "R per-series best of ets/auto.arima (hindsight) median MASE = %.4f; ahead <= it on %zu of %zu series\n",
			med_orc, wins, no);
	}
	if (md) {
		fprintf(md, "\n```\nforecast_mase_ahead=%.4f\nforecast_mase_r_best=%.4f\nforecast_speedup_vs_r=%.0f\ncoverage_80=%.1f\ncoverage_95=%.1f\n```\n",
			med[0], rbest, speed, c80, c95);
		fclose(md);
	}
	printf("forecast_mase_ahead=%.4f\n", med[0]);
	printf("forecast_mase_r_best=%.4f\n", rbest);
	printf("forecast_speedup_vs_r=%.0f\n", speed);
	printf("coverage_80=%.1f\n", c80);
	printf("coverage_95=%.1f\n", c95);
	return 0;
}
