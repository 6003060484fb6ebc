/* bench shadow: ingest rate by batch size, bytes per sample on disk, and a
 * retention run showing the store stays bounded over a long history.
 *
 * Run with `bench/run shadow [--quick]`. Writes docs/shadow-results.md and
 * ends with shadow_ingest_samples_per_s=N and shadow_bytes_per_sample=N. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ahead/error.h"
#include "ahead/shadow.h"

#define S AH_NS_PER_S
#define DAY (INT64_C(86400) * S)

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long long file_size(const char *p)
{
	struct stat st;
	return stat(p, &st) ? 0 : (long long)st.st_size;
}

static void rm_db(const char *p)
{
	char b[600];
	unlink(p);
	snprintf(b, sizeof(b), "%s-wal", p);
	unlink(b);
	snprintf(b, sizeof(b), "%s-shm", p);
	unlink(b);
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench shadow: %s: %s\n", what, ah_strerror(rc));
	exit(1);
}

static uint64_t rng = 88172645463325252ull;
static double urand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

/* Synthetic usage: a random walk. Fractional values (CPU cores as a double)
 * cost 8 bytes each in SQLite; integral ones (bytes) fewer. */
static void gen(int64_t *t, double *v, size_t n, int64_t t0, int64_t dt, int integral)
{
	double x = 1000;
	for (size_t i = 0; i < n; i++) {
		x += (urand() - 0.5) * 20;
		if (x < 0)
			x = -x;
		t[i] = t0 + (int64_t)i * dt;
		v[i] = integral ? floor(x) * 4096 : x / 1000.0;
	}
}

typedef struct {
	size_t batch;
	size_t n;
	double secs;
	double rate;
	double bytes_per_sample;
} ingest_row;

static ingest_row ingest_run(const char *path, size_t batch, size_t n, int integral, int nseries)
{
	ah_shadow *s;
	int rc;
	int64_t ids[8];
	ingest_row r = {batch, n, 0, 0, 0};
	rm_db(path);
	if ((rc = ah_shadow_open(path, &s)))
		die("open", rc);
	int64_t *t = malloc(sizeof(*t) * n);
	double *v = malloc(sizeof(*v) * n);
	gen(t, v, n, INT64_C(1700000000) * S, S, integral);
	for (int k = 0; k < nseries; k++) {
		char dim[16];
		snprintf(dim, sizeof(dim), "d%d", k);
		if ((rc = ah_shadow_series_ensure(s, "bench", dim, S, &ids[k])))
			die("series", rc);
	}
	size_t per = n / (size_t)nseries;
	double t0 = now_s();
	for (int k = 0; k < nseries; k++)
		for (size_t i = 0; i < per; i += batch) {
			size_t m = per - i < batch ? per - i : batch;
			if ((rc = ah_shadow_append(s, ids[k], t + i, v + (size_t)k * per + i, m)))
				die("append", rc);
		}
	r.secs = now_s() - t0;
	r.n = per * (size_t)nseries;
	r.rate = (double)r.n / r.secs;
	if ((rc = ah_shadow_checkpoint(s)))
		die("checkpoint", rc);
	ah_shadow_free(s);
	r.bytes_per_sample = (double)file_size(path) / (double)r.n;
	free(t);
	free(v);
	return r;
}

typedef struct {
	int day;
	int64_t rows;
	int64_t rows_uncompacted;
	long long bytes;
	int64_t tier[3];
	double compact_ms;
} ret_row;

int main(int argc, char **argv)
{
	int quick = 0, days_arg = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = 1;
		else if (!strcmp(argv[i], "--days") && i + 1 < argc && atoi(argv[i + 1]) > 0 &&
			 atoi(argv[i + 1]) <= 5000)
			days_arg = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: bench/run shadow [--quick] [--days N]\n");
			return 2;
		}
	}
	char dir[] = "/tmp/ahead-bench-shadow-XXXXXX";
	char path[128];
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/b-shadow.db", dir);
	const size_t big = quick ? 400000 : 2000000;
	const size_t batches[] = {1, 10, 100, 1000, 10000, 100000};
	const int nb = sizeof(batches) / sizeof(batches[0]);
	ingest_row rows[8];
	double best = 0;
	size_t best_batch = 0;
	printf("shadow ingest: one series, 1-second granularity, one sample per bucket,\n"
	       "fractional values; each batch is one append call = one transaction\n\n");
	printf("%10s %10s %9s %14s %12s\n", "batch", "samples", "seconds", "samples/s", "bytes/sample");
	for (int i = 0; i < nb; i++) {
		size_t n = batches[i] < 100 ? batches[i] * (quick ? 2000 : 20000) : big;
		rows[i] = ingest_run(path, batches[i], n, 0, 1);
		printf("%10zu %10zu %9.2f %14.0f %12.2f\n", rows[i].batch, rows[i].n, rows[i].secs,
		       rows[i].rate, rows[i].bytes_per_sample);
		fflush(stdout);
		if (rows[i].rate > best) {
			best = rows[i].rate;
			best_batch = batches[i];
		}
	}
	/* Bytes per sample on a checkpointed file: fractional (worst case) and
	 * integral values, and eight interleaved series. */
	ingest_row frac = ingest_run(path, 10000, big, 0, 1);
	ingest_row integ = ingest_run(path, 10000, big, 1, 1);
	ingest_row multi = ingest_run(path, 10000, big, 0, 8);
	printf("\nbytes per sample after checkpoint (%zu samples, batch 10000):\n", big);
	printf("  fractional values, 1 series : %.2f  (%.0f samples/s)\n", frac.bytes_per_sample, frac.rate);
	printf("  integral values, 1 series   : %.2f  (%.0f samples/s)\n", integ.bytes_per_sample, integ.rate);
	printf("  fractional values, 8 series : %.2f  (%.0f samples/s)\n", multi.bytes_per_sample, multi.rate);

	/* End to end: `ahead shadow import` of generated CSV files (CSV parsing
	 * included), wide (one series) and long (8 series interleaved). */
	double cli_wide = 0, cli_long = 0;
	const size_t cli_n = quick ? 200000 : 1000000;
	const char *bin = getenv("AHEAD_BIN");
	if (bin && *bin) {
		char csv[160], cmd[1024];
		snprintf(csv, sizeof(csv), "%s/wide.csv", dir);
		FILE *fw = fopen(csv, "w");
		if (fw) {
			fprintf(fw, "time,value\n");
			for (size_t i = 0; i < cli_n; i++)
				fprintf(fw, "%lld,%.3f\n", 1700000000LL + (long long)i, (double)(i % 977) / 7.0);
			fclose(fw);
			rm_db(path);
			snprintf(cmd, sizeof(cmd),
				 "'%s' shadow import --shadow-db '%s' --workload w --dim cpu --input '%s' >/dev/null",
				 bin, path, csv);
			double t0 = now_s();
			if (system(cmd) == 0)
				cli_wide = (double)cli_n / (now_s() - t0);
		}
		snprintf(csv, sizeof(csv), "%s/long.csv", dir);
		fw = fopen(csv, "w");
		if (fw) {
			fprintf(fw, "time,workload,dim,value\n");
			for (size_t i = 0; i < cli_n; i++)
				fprintf(fw, "%lld,w%zu,cpu,%.3f\n", 1700000000LL + (long long)(i / 8), i % 8,
					(double)(i % 977) / 7.0);
			fclose(fw);
			rm_db(path);
			snprintf(cmd, sizeof(cmd),
				 "'%s' shadow import --shadow-db '%s' --long --input '%s' >/dev/null", bin,
				 path, csv);
			double t0 = now_s();
			if (system(cmd) == 0)
				cli_long = (double)cli_n / (now_s() - t0);
		}
		unlink(csv);
		snprintf(csv, sizeof(csv), "%s/wide.csv", dir);
		unlink(csv);
		printf("\nahead shadow import, end to end (%zu rows, CSV parsing included):\n"
		       "  wide, 1 series  : %.0f samples/s\n  long, 8 series  : %.0f samples/s\n",
		       cli_n, cli_wide, cli_long);
	}

	/* Retention: two series (cpu at 10 s, memory at 10 s) ingesting daily,
	 * compacted with the default tiers after each day. */
	const int days = days_arg ? days_arg : quick ? 60 : 500;
	const int per_day = 8640;
	ret_row rr[40];
	int nr = 0;
	ah_shadow *s;
	int rc;
	int64_t ids[2];
	ah_shadow_tier tiers[AH_SHADOW_MAX_TIERS];
	int nt;
	ah_shadow_default_tiers(tiers, &nt);
	rm_db(path);
	if ((rc = ah_shadow_open(path, &s)))
		die("open", rc);
	if ((rc = ah_shadow_series_ensure(s, "svc", "cpu", 10 * S, &ids[0])) ||
	    (rc = ah_shadow_series_ensure(s, "svc", "memory", 10 * S, &ids[1])))
		die("series", rc);
	int64_t *t = malloc(sizeof(*t) * per_day);
	double *v = malloc(sizeof(*v) * per_day);
	const int64_t base = INT64_C(19000) * DAY; /* 2022-01-08 */
	int64_t uncompacted = 0;
	const int marks[] = {1, 2, 7, 30, 31, 60, 100, 200, 365, 366, 400, 450, 500, 600, 800, 1000};
	double compact_total = 0;
	double ingest_secs = 0;
	for (int d = 0; d < days; d++) {
		for (int k = 0; k < 2; k++) {
			gen(t, v, per_day, base + (int64_t)d * DAY, 10 * S, k);
			double t0 = now_s();
			if ((rc = ah_shadow_append(s, ids[k], t, v, per_day)))
				die("append", rc);
			ingest_secs += now_s() - t0;
		}
		uncompacted += 2 * per_day;
		double t0 = now_s();
		if ((rc = ah_shadow_compact(s, base + (int64_t)(d + 1) * DAY, NULL)))
			die("compact", rc);
		double ms = (now_s() - t0) * 1000;
		compact_total += ms;
		int mark = 0;
		for (size_t m = 0; m < sizeof(marks) / sizeof(marks[0]); m++)
			if (marks[m] == d + 1)
				mark = 1;
		if (mark || d + 1 == days) {
			ret_row *r = &rr[nr++];
			r->day = d + 1;
			r->rows_uncompacted = uncompacted;
			r->compact_ms = ms;
			if ((rc = ah_shadow_tier_counts(s, tiers, nt, r->tier)) || (rc = ah_shadow_checkpoint(s)))
				die("counts", rc);
			r->rows = r->tier[0] + r->tier[1] + r->tier[2];
			r->bytes = file_size(path);
		}
	}
	ah_shadow_free(s);
	free(t);
	free(v);
	printf("\nretention: 2 series at 10 s, %d days, default tiers (raw 1 d, 1 min 30 d, 1 h 365 d),\n"
	       "compacted after each simulated day\n\n",
	       days);
	printf("%6s %14s %10s %8s %8s %8s %12s %11s\n", "day", "uncompacted", "rows", "raw", "1min",
	       "1h", "file bytes", "compact ms");
	for (int i = 0; i < nr; i++)
		printf("%6d %14lld %10lld %8lld %8lld %8lld %12lld %11.1f\n", rr[i].day,
		       (long long)rr[i].rows_uncompacted, (long long)rr[i].rows, (long long)rr[i].tier[0],
		       (long long)rr[i].tier[1], (long long)rr[i].tier[2], rr[i].bytes, rr[i].compact_ms);
	printf("mean compaction: %.1f ms/day; ingest during the run: %.0f samples/s\n",
	       compact_total / days, (double)uncompacted / ingest_secs);

	double bps = frac.bytes_per_sample;
	FILE *md = fopen("docs/shadow-results.md", "w");
	if (md) {
		fprintf(md, "# Shadow store — benchmark results\n\n"
			    "Generated by `bench/run shadow%s` (Release build, SQLite %s, WAL,\n"
			    "synchronous=NORMAL, 2 shared cores). Do not edit by hand.\n\n",
			quick ? " --quick" : "", sqlite3_libversion());
		fprintf(md, "## Ingest by batch size\n\nOne series at 1-second granularity, one sample per "
			    "bucket (no merging in C), fractional values; one `ah_shadow_append` call per "
			    "batch, each its own transaction.\n\n");
		fprintf(md, "| batch | samples | seconds | samples/s | bytes/sample |\n|---:|---:|---:|---:|---:|\n");
		for (int i = 0; i < nb; i++)
			fprintf(md, "| %zu | %zu | %.2f | %.0f | %.2f |\n", rows[i].batch, rows[i].n,
				rows[i].secs, rows[i].rate, rows[i].bytes_per_sample);
		fprintf(md, "\nBest: %.0f samples/s at batch %zu.\n\n", best, best_batch);
		fprintf(md, "## Bytes per sample on disk\n\nFile size after a WAL checkpoint divided by "
			    "samples (%zu samples, batch 10000).\n\n", big);
		fprintf(md, "| values | series | bytes/sample | samples/s |\n|---|---:|---:|---:|\n");
		fprintf(md, "| fractional (8-byte REAL) | 1 | %.2f | %.0f |\n", frac.bytes_per_sample, frac.rate);
		fprintf(md, "| integral (bytes, 4 KiB steps) | 1 | %.2f | %.0f |\n", integ.bytes_per_sample, integ.rate);
		fprintf(md, "| fractional, interleaved | 8 | %.2f | %.0f |\n\n", multi.bytes_per_sample, multi.rate);
		if (cli_wide > 0 || cli_long > 0) {
			fprintf(md, "## `ahead shadow import`, end to end\n\n%zu generated rows, process start, "
				    "CSV parsing and commit included.\n\n| file | samples/s |\n|---|---:|\n"
				    "| wide (`time,value`), 1 series | %.0f |\n"
				    "| long (`time,workload,dim,value`), 8 series | %.0f |\n\n",
				cli_n, cli_wide, cli_long);
		}
		fprintf(md, "## Retention keeps the store bounded\n\nTwo series at 10-second granularity, "
			    "%d simulated days, default tiers (raw 1 day, 1 minute 30 days, 1 hour 365 days), "
			    "`ah_shadow_compact` after each day. `uncompacted` is what the store would hold "
			    "without retention.\n\n", days);
		fprintf(md, "| day | uncompacted rows | rows | raw | 1 min | 1 h | file bytes | compact ms |\n"
			    "|---:|---:|---:|---:|---:|---:|---:|---:|\n");
		for (int i = 0; i < nr; i++)
			fprintf(md, "| %d | %lld | %lld | %lld | %lld | %lld | %lld | %.1f |\n", rr[i].day,
				(long long)rr[i].rows_uncompacted, (long long)rr[i].rows,
				(long long)rr[i].tier[0], (long long)rr[i].tier[1], (long long)rr[i].tier[2],
				rr[i].bytes, rr[i].compact_ms);
		fprintf(md, "\nMean compaction %.1f ms per day. SQLite reuses freed pages, so the file "
			    "stops growing once the tiers are full; it does not shrink without VACUUM.\n\n",
			compact_total / days);
		fprintf(md, "shadow_ingest_samples_per_s=%.0f\nshadow_bytes_per_sample=%.2f\n", best, bps);
		fclose(md);
	}
	rm_db(path);
	rmdir(dir);
	printf("\nshadow_ingest_samples_per_s=%.0f\nshadow_bytes_per_sample=%.2f\n", best, bps);
	return 0;
}
