/* ahead replay: replay usage traces in virtual time under allocation
 * policies and score them (slack, violations, shortfalls, resizes, cost).
 * docs/REPLAY.md describes the policies, metrics and trace formats. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "ahead/encode.h"
#include "ahead/error.h"
#include "ahead/policy.h"
#include "ahead/replay.h"
#include "ahead/resource.h"
#include "ahead/trace.h"
#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/replay_into.h"
#include "cli/trace_gen.h"
#include "cli/trace_input.h"

#define MAX_TRACES 100000
/* Up to this many files are merged in time order (one open file each);
 * more are replayed one after another (each workload's own time still
 * increases, but the pool sees them apart: give such traces an unlimited
 * pool, or concatenate them into one plain trace in time order). */
#define MERGE_MAX 1000

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ahead replay --trace PATH [PATH...] | --generate N [--days D] [--seed S]\n"
		"                    [--format bitbrains|plain]\n"
		"                    [--policy static,threshold,vpa,autopilot,ahead] [--dim cpu|memory|all]\n"
		"                    [--quantile Q] [--violation-cost cpu=C,memory=G]\n"
		"                    [--csv OUT] [--chart-dir DIR] [-o table|json]\n"
		"                    [--step SECONDS] [--bin SECONDS] [--hpa-target U]\n"
		"                    [--price-cpu USD] [--price-memory USD] [--resize-cost USD]\n"
		"                    [--resizes-per-day N] [--min-dwell D] [--hard-margin M]\n"
		"                    [--peak-cap M] [--pool-forecast own|layer|max|best]\n"
		"                    [--config POLICY.ini [--pool NAME] [--tenant NAME]]\n"
		"       ahead replay --into URL (--trace PATH... | --generate N) [--speed N] [--loop]\n"
		"                    [--tenant NAME] [--pool NAME] [--class NAME] [--every DURATION]\n"
		"                    [--token TOKEN | --token-file FILE] [-o table|json]\n"
		"       ahead replay --generate N [--days D] [--seed S] [--step S] --write-trace FILE\n\n"
		"Replays usage traces in virtual time (as fast as the machine allows) and scores\n"
		"each allocation policy per dimension: slack = sum(max(0, reserved - used)) /\n"
		"sum(used); violations = share of workload-intervals with used > reserved;\n"
		"shortfall = sum(max(0, used - reserved)) / sum(used); resizes; cost.\n"
		"Each policy drives its own allocation engine (the one ahead runs): a workload's\n"
		"first sample is a request, every sample a usage report; the engine admits\n"
		"each resize. Files are merged in time order, so they share one clock.\n\n"
		"options:\n"
		"  --trace PATH...    trace files (or directories: their *.csv files); repeatable\n"
		"  --format F         bitbrains (GWA-T-12 per-VM CSV) or plain (default)\n"
		"  --unit U[,U]       plain traces: the unit of cpu values (cores, millicores,\n"
		"                     percent with --of N cores) or of memory values (bytes, KiB,\n"
		"                     MiB, GiB, TiB, KB, MB, GB, TB); one per dimension.\n"
		"                     Default millicores and bytes; values that round to 0 are\n"
		"                     reported with a warning\n"
		"  --of N             --unit percent: the cores 100 percent stands for\n"
		"                     plain: header time,workload,dim,used[,requested]\n"
		"  --policy LIST      comma-separated, default all five\n"
		"  --dim D            cpu, memory or all (default all)\n"
		"  --quantile Q       ahead's target quantile, 0.5 <= Q <= 0.9999, for both\n"
		"                     dimensions or as cpu=Q,memory=Q (default cpu=0.998,memory=0.9999)\n"
		"  --violation-cost cpu=C,memory=G\n"
		"                     ahead: one violation is worth C core-intervals / G GiB-\n"
		"                     intervals of idle reservation; below the quantile ahead\n"
		"                     reserves the cheaper level (default cpu=50,memory=320; 0 = off)\n"
		"  --resize-cost USD  what one resize costs, added to each policy's cost; also\n"
		"                     cpu=USD,memory=USD (default 0)\n"
		"  --resizes-per-day N  ahead's resize budget (a bucket of N refilled per day;\n"
		"                     grows always go; 0 = none, default); also cpu=N,memory=N\n"
		"  --min-dwell D      ahead: no shrink sooner than D after the last resize\n"
		"                     (e.g. 1h; default 0)\n"
		"  --hard-margin M    ahead's hard level (memory.max) = max(reservation, 48 h\n"
		"                     peak) x (1 + M); < 0: one level (default memory=0.25,\n"
		"                     cpu=-1); the kill%% column counts usage above it\n"
		"  --peak-cap M       ahead reserves at most the last 48 h's peak usage x (1 + M),\n"
		"                     never below its forecast; < 0: no cap (the default);\n"
		"                     also cpu=M,memory=M\n"
		"  --pool-forecast F  shaped pools (--config): own (the scaler's seasonal + level\n"
		"                     forecast), layer (the forecasting layer's), max (the larger of\n"
		"                     the two per quantile) or best (per pool, dimension and class the\n"
		"                     one with the lower measured loss so far; the default, as in\n"
		"                     ahead serve)\n"
		"  --csv OUT          write the metrics as CSV to OUT\n"
		"  --chart-dir DIR    write DIR/replay_POLICY.png (usage vs reservation, all\n"
		"                     workloads summed) with gnuplot\n"
		"  -o table|json      terminal output (default table)\n"
		"  --step S           seconds one sample stands for (default 300)\n"
		"  --bin S            chart bin width in seconds (default 3600)\n"
		"  --hpa-target U     threshold policy's target utilisation, (0, 1] (default 0.7)\n"
		"  --price-cpu USD    price of one core-hour (default 0.0316)\n"
		"  --price-memory USD price of one GiB-hour (default 0.0042)\n"
		"  --config FILE      replay in a pool of this policy file (capacity, unit,\n"
		"                     quotas, queueing, leases) instead of an unlimited one\n"
		"  --pool NAME        the pool to use (default: the policy's first)\n"
		"  --tenant NAME      the tenant workloads request as (default: the first)\n\n"
		"generated traces (no data file needed; docs/REPLAY.md, \"Generated traces\"):\n"
		"  --generate N       N workloads (1..10000: web-01, api-02, batch-03, cache-04, ...):\n"
		"                     daily cycles (web/api by day, batch by night, cache flat),\n"
		"                     correlated noise and occasional spikes; one cpu and one\n"
		"                     memory sample per --step (default 300 s) from\n"
		"                     2026-01-01T00:00:00Z; the same options give the same trace\n"
		"  --days D           how long, 1..366 days (default 1)\n"
		"  --seed S           the generator's seed (default 1)\n"
		"  --write-trace FILE write the generated trace (plain format) to FILE ('-' for\n"
		"                     stdout) and stop\n\n"
		"into a live daemon (`ahead serve`; the scoring options above do not apply):\n"
		"  --into URL         replay into the daemon at URL in accelerated time: each\n"
		"                     workload (series name) requests an allocation at its first\n"
		"                     sample (POST /v1/allocations: that usage, rounded up to the\n"
		"                     pool's unit), reports each later sample as usage (POST\n"
		"                     /v1/allocations/ID/usage, which renews the lease and lets the\n"
		"                     daemon resize it), and releases it at the end (DELETE).\n"
		"                     A refused request is asked again at the next sample; a lost\n"
		"                     allocation (expired, preempted) is asked for again\n"
		"  --speed N          trace seconds per second (default 600: a day of 5-minute\n"
		"                     samples in 2.4 minutes; 60 = a trace minute a second)\n"
		"  --loop             at the end, play the trace again (a generated one with the\n"
		"                     next seed, its clock going on) until stopped\n"
		"  --tenant NAME      request as this tenant (default: the policy's first)\n"
		"  --pool NAME        into this pool (default: the policy's first)\n"
		"  --class NAME       with this class (default: the policy's default)\n"
		"  --every D          a summary line this often (default 5s): requests, granted,\n"
		"                     queued, refused, reports, resized, grow-blocked, live\n"
		"  --token TOKEN      bearer token (default: --token-file, else $AHEAD_TOKEN)\n"
		"  --token-file FILE  read the token from FILE\n"
		"  -o json            the final summary as one JSON object (the lines on stderr)\n"
		"Ctrl-C (SIGINT) or SIGTERM stops it: it releases what it holds, prints the final\n"
		"summary and exits 0.\n\n"
		"Units: cpu in millicores (cores in the table), memory in bytes (GiB).\n"
		"Exit codes: 0 ok, 1 internal error (or the daemon failed), 2 usage error or bad\n"
		"trace, 3 the daemon refused the token.\n");
}

/* "V" (both dimensions, when bare is allowed) or "cpu=V,memory=V" (either
 * or both), each lo..hi; scale: V in cores or GiB, stored in millicores or
 * bytes. */
static int parse_dims(const char *cmd, const char *opt, const char *s, double lo, double hi, bool bare, bool scale,
		      double q[AH_REPLAY_DIMS])
{
	if (!strchr(s, '=')) {
		double v;
		if (!bare) {
			ah_cli_err(cmd, "%s: expected cpu=CORES,memory=GIB", opt);
			return -1;
		}
		if (ah_cli_parse_number(cmd, opt, s, lo, hi, 0, &v))
			return -1;
		q[AH_DIM_CPU] = q[AH_DIM_MEMORY] = v;
		return 0;
	}
	char buf[128];
	if (strlen(s) >= sizeof(buf)) {
		ah_cli_err(cmd, "%s: value too long", opt);
		return -1;
	}
	strcpy(buf, s);
	double nq[AH_REPLAY_DIMS] = {q[0], q[1]};
	for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(t, '=');
		int d;
		if (!eq) {
			ah_cli_err(cmd, "%s: expected DIM=VALUE in '%.32s'", opt, t);
			return -1;
		}
		*eq = 0;
		if (!strcmp(t, "cpu"))
			d = AH_DIM_CPU;
		else if (!strcmp(t, "memory"))
			d = AH_DIM_MEMORY;
		else {
			ah_cli_err(cmd, "%s: unknown dimension '%.32s' (cpu or memory)", opt, t);
			return -1;
		}
		if (ah_cli_parse_number(cmd, opt, eq + 1, lo, hi, 0, &nq[d]))
			return -1;
		if (scale)
			nq[d] *= d == AH_DIM_CPU ? 1000.0 : (double)(1 << 30);
	}
	q[0] = nq[0];
	q[1] = nq[1];
	return 0;
}

/* --quantile (cost 0) or --violation-cost (cost 1) into the params. */
static int set_per_dim(const char *cmd, const char *opt, const char *s, ah_replay_params *p, int cost)
{
	double v[AH_REPLAY_DIMS];
	for (int d = 0; d < AH_REPLAY_DIMS; d++)
		v[d] = cost ? p->sizing.dim[d].violation_cost : p->sizing.dim[d].quantile;
	if (parse_dims(cmd, opt, s, cost ? 0 : 0.5, cost ? 1e9 : 0.9999, !cost, cost, v))
		return -1;
	for (int d = 0; d < AH_REPLAY_DIMS; d++)
		*(cost ? &p->sizing.dim[d].violation_cost : &p->sizing.dim[d].quantile) = v[d];
	return 0;
}

static int opt_quantile(const char *cmd, const char *opt, const char *s, void *dst)
{
	return set_per_dim(cmd, opt, s, dst, 0);
}

static int opt_violation_cost(const char *cmd, const char *opt, const char *s, void *dst)
{
	return set_per_dim(cmd, opt, s, dst, 1);
}

/* --resize-cost: currency per resize, per dimension. */
static int opt_resize_cost(const char *cmd, const char *opt, const char *s, void *dst)
{
	ah_replay_params *p = dst;
	return parse_dims(cmd, opt, s, 0, 1e6, true, false, p->resize_cost);
}

/* --resizes-per-day (0: no budget), --hard-margin (< 0: one level) and
 * --peak-cap (< 0: none): ahead's resize economy, two levels and peak cap,
 * per dimension. */
enum { DIMS_RESIZES, DIMS_HARD_MARGIN, DIMS_PEAK_CAP };

static double *sizing_field(ah_replay_params *p, int d, int which)
{
	ah_sizing_dim *x = &p->sizing.dim[d];
	return which == DIMS_HARD_MARGIN ? &x->hard_margin : which == DIMS_PEAK_CAP ? &x->peak_cap : &x->resizes_per_day;
}

static int opt_sizing_dims(const char *cmd, const char *opt, const char *s, ah_replay_params *p, int which)
{
	double v[AH_REPLAY_DIMS];
	for (int d = 0; d < AH_REPLAY_DIMS; d++)
		v[d] = *sizing_field(p, d, which);
	if (parse_dims(cmd, opt, s, which == DIMS_RESIZES ? 0 : -1, which == DIMS_RESIZES ? 1440 : 10, true, false, v))
		return -1;
	for (int d = 0; d < AH_REPLAY_DIMS; d++)
		*sizing_field(p, d, which) = v[d];
	return 0;
}

static int opt_resizes_per_day(const char *cmd, const char *opt, const char *s, void *dst)
{
	return opt_sizing_dims(cmd, opt, s, dst, DIMS_RESIZES);
}

static int opt_hard_margin(const char *cmd, const char *opt, const char *s, void *dst)
{
	return opt_sizing_dims(cmd, opt, s, dst, DIMS_HARD_MARGIN);
}

static int opt_peak_cap(const char *cmd, const char *opt, const char *s, void *dst)
{
	return opt_sizing_dims(cmd, opt, s, dst, DIMS_PEAK_CAP);
}

typedef struct {
	ah_sizing_kind v[AH_SIZING_KIND_COUNT];
	int n;
} policy_list;

static int opt_policy(const char *cmd, const char *opt, const char *s, void *dst)
{
	policy_list *pl = dst;
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", s);
	pl->n = 0;
	for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		ah_sizing_kind k;
		if (ah_sizing_parse(t, &k)) {
			ah_cli_err(cmd, "%s: unknown policy '%.32s' (static, threshold, vpa, autopilot, ahead)", opt, t);
			return -1;
		}
		for (int j = 0; j < pl->n; j++)
			if (pl->v[j] == k) {
				ah_cli_err(cmd, "%s: '%s' given twice", opt, t);
				return -1;
			}
		pl->v[pl->n++] = k;
	}
	if (!pl->n) {
		ah_cli_err(cmd, "%s needs a list", opt);
		return -1;
	}
	return 0;
}

static int opt_format(const char *cmd, const char *opt, const char *s, void *dst)
{
	if (ah_trace_format_parse(s, dst)) {
		ah_cli_err(cmd, "%s: expected bitbrains or plain, got '%.32s'", opt, s);
		return -1;
	}
	return 0;
}

/* Opens one trace with the input units (plain traces only). */
static int open_trace(const char *cmd, const char *path, ah_trace_format fmt, const ah_input_units *u, ah_trace **out)
{
	ah_trace *t;
	int rc = ah_trace_open(path, fmt, &t);
	if (rc) {
		ah_cli_err(cmd, "%s: %s", path, rc == AH_EIO ? strerror(errno) : ah_strerror(rc));
		return rc;
	}
	if (fmt == AH_TRACE_PLAIN && (rc = ah_trace_set_units(t, u))) {
		ah_cli_err(cmd, "%s: %s", path, ah_strerror(rc));
		ah_trace_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

/* Loud, on stderr: values that a wrong unit turned into zeros. */
static void warn_zeros(const char *cmd, const char *path, const ah_trace *t, const ah_input_units *u)
{
	ah_trace_stats st;
	ah_trace_get_stats(t, &st);
	static const ah_unit_kind kind[2] = {AH_UNIT_CPU, AH_UNIT_BYTES};
	static const char *dim[2] = {"cpu", "memory"};
	static const char *hint[2] = {"--unit cores or --unit percent --of N", "--unit KiB, MiB, GiB, KB, MB or GB"};
	for (int d = 0; d < 2; d++)
		if (st.rounded_to_zero[d])
			fprintf(stderr,
				"ahead %s: WARNING: %s: %llu of %llu %s values are below 1 %s and were read as 0: "
				"the values are read as %s%s; if they are in another unit, say so with %s\n",
				cmd, path, (unsigned long long)st.rounded_to_zero[d], (unsigned long long)st.values[d],
				dim[d], ah_input_units_base_name(kind[d]), ah_input_units_name(u, kind[d]),
				ah_input_units_given(u, kind[d]) ? "" : " (the default)", hint[d]);
}

struct paths {
	char **v;
	size_t n, cap;
};

static int paths_add(struct paths *p, const char *s)
{
	if (p->n >= MAX_TRACES)
		return AH_ETOOBIG;
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 16;
		char **nv = realloc(p->v, nc * sizeof(*nv));
		if (!nv)
			return AH_ENOMEM;
		p->v = nv;
		p->cap = nc;
	}
	p->v[p->n] = strdup(s);
	if (!p->v[p->n])
		return AH_ENOMEM;
	p->n++;
	return 0;
}

static void paths_free(struct paths *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
}

/* Natural order, so 2.csv comes before 10.csv. */
static int natcmp(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	while (*x && *y) {
		if (*x >= '0' && *x <= '9' && *y >= '0' && *y <= '9') {
			char *ex, *ey;
			unsigned long long nx = strtoull(x, &ex, 10), ny = strtoull(y, &ey, 10);
			if (nx != ny)
				return nx < ny ? -1 : 1;
			x = ex;
			y = ey;
		} else {
			if (*x != *y)
				return (unsigned char)*x - (unsigned char)*y;
			x++;
			y++;
		}
	}
	return (unsigned char)*x - (unsigned char)*y;
}

static int add_trace_arg(const char *cmd, const char *opt, const char *s, void *dst)
{
	struct paths *p = dst;
	struct stat sb;
	if (stat(s, &sb)) {
		ah_cli_err(cmd, "%s: %s: %s", opt, s, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		if (paths_add(p, s)) {
			ah_cli_err(cmd, "--trace: too many traces (cap %d)", MAX_TRACES);
			return -1;
		}
		return 0;
	}
	DIR *d = opendir(s);
	if (!d) {
		ah_cli_err(cmd, "--trace: %s: %s", s, strerror(errno));
		return -1;
	}
	size_t first = p->n;
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 4, ".csv"))
			continue;
		char buf[4096];
		if (snprintf(buf, sizeof(buf), "%s/%s", s, e->d_name) >= (int)sizeof(buf) || paths_add(p, buf)) {
			ah_cli_err(cmd, "--trace: %s: path too long or too many traces", s);
			rc = -1;
			break;
		}
	}
	closedir(d);
	if (!rc && p->n == first) {
		ah_cli_err(cmd, "--trace: directory %s holds no .csv file", s);
		rc = -1;
	}
	if (!rc)
		qsort(p->v + first, p->n - first, sizeof(char *), natcmp);
	return rc;
}

static const char *dim_name(int d)
{
	return d == AH_DIM_CPU ? "cpu" : "memory";
}

static double unit_of(int d)
{
	return d == AH_DIM_CPU ? 1000.0 : (double)(1 << 30);
}

/* The one time format (RFC 3339 UTC with milliseconds) of a time in s. */
static void fmt_time(int64_t t, char *buf, size_t len)
{
	ah_fmt_time(t * 1000000000LL, buf, len);
}

/* A mean in the dimension's base unit for people, like the rest of ahead
 * ("1500m", "4.69Gi"); the figures themselves are unchanged. */
static void fmt_amount(int d, double base, char *buf, size_t len)
{
	int64_t v = base <= 0 ? 0 : base >= (double)AH_VALUE_MAX ? AH_VALUE_MAX : (int64_t)llround(base);
	if (ah_unit_format_human(d == AH_DIM_CPU ? AH_UNIT_CPU : AH_UNIT_BYTES, v, buf, len) < 0)
		snprintf(buf, len, "%.0f", base);
}

static int write_csv(const char *path, ah_replay *rp, unsigned mask)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "policy,dim,workloads,intervals,slack,violation_pct,violations,shortfall,resizes,"
		   "mean_used,mean_reserved,unit_hours,cost_usd,net_slack,requests,queued,refused,timeouts,"
		   "expiries,grow_blocked,wait_p50_s,wait_p99_s,scale_actions,mean_capacity,cost_model\n");
	for (int i = 0; i < ah_replay_npolicies(rp); i++)
		for (int d = 0; d < AH_REPLAY_DIMS; d++) {
			if (!(mask & (1u << d)))
				continue;
			ah_replay_metrics m;
			ah_replay_get_metrics(rp, i, d, &m);
			double n = m.intervals ? (double)m.intervals : 1;
			fprintf(f, "%s,%s,%llu,%llu,%.6f,%.4f,%llu,%.6f,%llu,%.3f,%.3f,%.3f,%.4f,%.6f,%llu,%llu,%llu,%llu,"
				   "%llu,%llu,%.0f,%.0f,%llu,%.3f,%.4f\n",
				ah_sizing_name(ah_replay_policy(rp, i)), dim_name(d),
				(unsigned long long)m.workloads, (unsigned long long)m.intervals, m.slack,
				m.violation_pct, (unsigned long long)m.violations, m.shortfall,
				(unsigned long long)m.resizes, m.sum_used / n / unit_of(d),
				m.sum_reserved / n / unit_of(d), m.unit_hours, m.cost, m.net_slack,
				(unsigned long long)m.requests, (unsigned long long)m.queued,
				(unsigned long long)m.refused, (unsigned long long)m.timeouts,
				(unsigned long long)m.expiries, (unsigned long long)m.grow_blocked, m.wait_p50_s,
				m.wait_p99_s, (unsigned long long)m.scale_actions, m.mean_capacity / unit_of(d),
				m.cost_model);
		}
	int bad = ferror(f);
	if (fclose(f) || bad)
		return -1;
	return 0;
}

static int write_chart(const char *cmd, const char *dir, ah_replay *rp, int i, unsigned mask)
{
	const char *pol = ah_sizing_name(ah_replay_policy(rp, i));
	char dat[4096], png[4096];
	if (snprintf(dat, sizeof(dat), "%s/replay_%s.dat", dir, pol) >= (int)sizeof(dat) ||
	    snprintf(png, sizeof(png), "%s/replay_%s.png", dir, pol) >= (int)sizeof(png)) {
		ah_cli_err(cmd, "--chart-dir: path too long");
		return -1;
	}
	for (const char *c = dir; *c; c++)
		if (*c == '"' || *c == '\\' || *c == '\n') {
			ah_cli_err(cmd, "--chart-dir: unsupported character in path");
			return -1;
		}
	FILE *f = fopen(dat, "w");
	if (!f) {
		ah_cli_err(cmd, "--chart-dir: %s: %s", dat, strerror(errno));
		return -1;
	}
	int64_t t0, bin;
	size_t n;
	const double *u[2] = {0}, *r[2] = {0};
	for (int d = 0; d < AH_REPLAY_DIMS; d++)
		if (ah_replay_series(rp, i, d, &t0, &bin, &n, &u[d], &r[d])) {
			fclose(f);
			return -1;
		}
	const double *cp[2] = {ah_replay_capacity_series(rp, i, 0), ah_replay_capacity_series(rp, i, 1)};
	fprintf(f, "# hours_from_start cpu_used_cores cpu_reserved_cores mem_used_gib mem_reserved_gib "
		   "cpu_capacity_cores mem_capacity_gib\n");
	for (size_t k = 0; k < n; k++)
		fprintf(f, "%.3f %.4f %.4f %.4f %.4f %.4f %.4f\n", (double)k * (double)bin / 3600.0,
			u[0] ? u[0][k] / 1000.0 : 0, r[0] ? r[0][k] / 1000.0 : 0,
			u[1] ? u[1][k] / (double)(1 << 30) : 0, r[1] ? r[1][k] / (double)(1 << 30) : 0,
			cp[0] ? cp[0][k] / 1000.0 : 0, cp[1] ? cp[1][k] / (double)(1 << 30) : 0);
	if (fclose(f)) {
		ah_cli_err(cmd, "--chart-dir: %s: write failed", dat);
		return -1;
	}
	FILE *g = popen("gnuplot 2>&1", "w");
	if (!g) {
		ah_cli_err(cmd, "--chart-dir: cannot run gnuplot");
		return -1;
	}
	int nd = ((mask & 1u) ? 1 : 0) + ((mask & 2u) ? 1 : 0);
	char when[32];
	fmt_time(t0, when, sizeof(when));
	fprintf(g, "set terminal pngcairo size 1000,%d font ',10'\nset output \"%s\"\n", 300 * nd + 60, png);
	fprintf(g, "set multiplot layout %d,1 title \"policy %s: usage vs reservation, all workloads summed "
		   "(hours from %s)\"\n", nd, pol, when);
	fprintf(g, "set key top left\nset grid\nset xlabel 'hours'\nset autoscale xfixmax\n");
	for (int d = 0; d < AH_REPLAY_DIMS; d++) {
		if (!(mask & (1u << d)))
			continue;
		ah_replay_metrics m;
		ah_replay_get_metrics(rp, i, d, &m);
		int c = d == AH_DIM_CPU ? 2 : 4;
		fprintf(g, "set ylabel '%s'\nset title \"%s: slack %.2f, violations %.2f%%, resizes %llu\"\n",
			d == AH_DIM_CPU ? "cores" : "GiB", dim_name(d), m.slack, m.violation_pct,
			(unsigned long long)m.resizes);
		fprintf(g, "plot \"%s\" using 1:%d with filledcurves x1 lc rgb '#9ecae1' title 'used', "
			   "\"%s\" using 1:%d with lines lw 1.5 lc rgb '#d62728' title 'reserved'",
			dat, c, dat, c + 1);
		if (cp[d])
			fprintf(g, ", \"%s\" using 1:($%d > 0 ? $%d : 1/0) with steps lw 1.2 lc rgb '#2ca02c' "
				   "title 'pool capacity'", dat, 6 + d, 6 + d);
		fprintf(g, "\n");
	}
	fprintf(g, "unset multiplot\n");
	if (pclose(g)) {
		ah_cli_err(cmd, "--chart-dir: gnuplot failed for %s", png);
		return -1;
	}
	return 0;
}

static void print_table(ah_replay *rp, unsigned mask, double secs, uint64_t samples, size_t ntraces)
{
	printf("%-10s %-6s %9s %8s %10s %10s %7s %9s %8s %12s %12s %10s\n", "policy", "dim", "intervals", "slack",
	       "violation%", "shortfall", "kill%", "resizes", "rsz/wl-h", "mean_used", "mean_resv", "cost_usd");
	for (int d = 0; d < AH_REPLAY_DIMS; d++) {
		if (!(mask & (1u << d)))
			continue;
		for (int i = 0; i < ah_replay_npolicies(rp); i++) {
			ah_replay_metrics m;
			ah_replay_get_metrics(rp, i, d, &m);
			double n = m.intervals ? (double)m.intervals : 1;
			char mu[32], mr[32];
			fmt_amount(d, m.sum_used / n, mu, sizeof mu);
			fmt_amount(d, m.sum_reserved / n, mr, sizeof mr);
			printf("%-10s %-6s %9llu %8.3f %10.3f %10.4f %7.3f %9llu %8.3f %12s %12s %10.2f\n",
			       ah_sizing_name(ah_replay_policy(rp, i)), dim_name(d),
			       (unsigned long long)m.intervals, m.slack, m.violation_pct, m.shortfall,
			       m.kill_violation_pct, (unsigned long long)m.resizes, m.resizes_per_wl_hour, mu, mr, m.cost);
		}
	}
	printf("\nengine (per policy): requests queued refused timeouts | wait p50/p99 | leases reclaimed "
	       "| grows blocked\n");
	for (int i = 0; i < ah_replay_npolicies(rp); i++) {
		ah_replay_metrics m;
		ah_replay_get_metrics(rp, i, (mask & 1u) ? 0 : 1, &m);
		printf("  %-10s %8llu %7llu %7llu %8llu | %6.0fs %6.0fs | %8llu | %8llu\n",
		       ah_sizing_name(ah_replay_policy(rp, i)), (unsigned long long)m.requests,
		       (unsigned long long)m.queued, (unsigned long long)m.refused, (unsigned long long)m.timeouts,
		       m.wait_p50_s, m.wait_p99_s, (unsigned long long)m.expiries, (unsigned long long)m.grow_blocked);
	}
	if (ah_replay_shaping(rp)) {
		printf("\npool shaping under the policy's cost model (per policy, all dimensions):\n"
		       "  %-10s %7s %10s %10s %10s %12s %12s %12s %12s\n", "policy", "scales", "rebalances",
		       "mean_cpu", "mean_memory", "capacity", "creation", "shortfall", "total");
		for (int i = 0; i < ah_replay_npolicies(rp); i++) {
			ah_replay_metrics mc, mm;
			ah_replay_get_metrics(rp, i, AH_DIM_CPU, &mc);
			ah_replay_get_metrics(rp, i, AH_DIM_MEMORY, &mm);
			char cc[32], cm[32];
			fmt_amount(AH_DIM_CPU, mc.mean_capacity, cc, sizeof cc);
			fmt_amount(AH_DIM_MEMORY, mm.mean_capacity, cm, sizeof cm);
			printf("  %-10s %7llu %10llu %10s %10s %12.2f %12.2f %12.2f %12.2f\n",
			       ah_sizing_name(ah_replay_policy(rp, i)), (unsigned long long)mc.scale_actions,
			       (unsigned long long)mc.rebalances, cc, cm, mc.cost_capacity, mc.cost_create,
			       mc.cost_shortfall, mc.cost_model);
		}
	}
	printf("\nworst shortfalls (used - reserved):\n");
	for (int d = 0; d < AH_REPLAY_DIMS; d++) {
		if (!(mask & (1u << d)))
			continue;
		for (int i = 0; i < ah_replay_npolicies(rp); i++) {
			ah_replay_metrics m;
			ah_replay_get_metrics(rp, i, d, &m);
			for (int k = 0; k < m.nworst && k < 3; k++) {
				char when[40], u[32], r[32];
				fmt_time(m.worst[k].t_s, when, sizeof(when));
				fmt_amount(d, (double)m.worst[k].used, u, sizeof u);
				fmt_amount(d, (double)m.worst[k].reserved, r, sizeof r);
				printf("  %-10s %-6s %-12s %s used %s reserved %s\n", ah_sizing_name(ah_replay_policy(rp, i)),
				       dim_name(d), m.worst[k].workload, when, u, r);
			}
		}
	}
	printf("\n%zu trace(s), %llu samples, %d policies, %.3f s, %.0f workload-intervals/s per policy "
	       "(parsing included)\n",
	       ntraces, (unsigned long long)samples, ah_replay_npolicies(rp), secs,
	       secs > 0 ? (double)samples / secs : 0.0);
}

static int print_json(ah_replay *rp, unsigned mask, double secs, uint64_t samples, size_t ntraces,
		      const ah_replay_params *p)
{
	json_t *root = json_object(), *arr = json_array();
	if (!root || !arr)
		return -1;
	json_object_set_new(root, "traces", json_integer((json_int_t)ntraces));
	json_object_set_new(root, "samples", json_integer((json_int_t)samples));
	json_object_set_new(root, "elapsed_s", json_real(secs));
	json_object_set_new(root, "quantile_cpu", json_real(p->sizing.dim[AH_DIM_CPU].quantile));
	json_object_set_new(root, "quantile_memory", json_real(p->sizing.dim[AH_DIM_MEMORY].quantile));
	json_object_set_new(root, "violation_cost_cpu_cores", json_real(p->sizing.dim[AH_DIM_CPU].violation_cost / 1000.0));
	json_object_set_new(root, "violation_cost_memory_gib",
			    json_real(p->sizing.dim[AH_DIM_MEMORY].violation_cost / (double)(1 << 30)));
	json_object_set_new(root, "step_s", json_integer(p->sizing.step_s));
	for (int d = 0; d < AH_REPLAY_DIMS; d++) {
		if (!(mask & (1u << d)))
			continue;
		for (int i = 0; i < ah_replay_npolicies(rp); i++) {
			ah_replay_metrics m;
			ah_replay_get_metrics(rp, i, d, &m);
			json_t *o = json_object(), *w = json_array();
			json_object_set_new(o, "policy", json_string(ah_sizing_name(ah_replay_policy(rp, i))));
			json_object_set_new(o, "dim", json_string(dim_name(d)));
			json_object_set_new(o, "workloads", json_integer((json_int_t)m.workloads));
			json_object_set_new(o, "intervals", json_integer((json_int_t)m.intervals));
			json_object_set_new(o, "slack", json_real(m.slack));
			json_object_set_new(o, "net_slack", json_real(m.net_slack));
			json_object_set_new(o, "violation_pct", json_real(m.violation_pct));
			json_object_set_new(o, "violations", json_integer((json_int_t)m.violations));
			json_object_set_new(o, "shortfall", json_real(m.shortfall));
			json_object_set_new(o, "resizes", json_integer((json_int_t)m.resizes));
			json_object_set_new(o, "resizes_per_workload_hour", json_real(m.resizes_per_wl_hour));
			json_object_set_new(o, "kill_violation_pct", json_real(m.kill_violation_pct));
			json_object_set_new(o, "kill_violations", json_integer((json_int_t)m.kill_violations));
			json_object_set_new(o, "hard_commit", json_real(m.sum_reserved > 0 ? m.sum_hard / m.sum_reserved : 0));
			json_object_set_new(o, "resize_cost_usd", json_real(m.cost_resize));
			json_object_set_new(o, "unit_hours", json_real(m.unit_hours));
			json_object_set_new(o, "cost_usd", json_real(m.cost));
			json_t *en = json_object();
			json_object_set_new(en, "requests", json_integer((json_int_t)m.requests));
			json_object_set_new(en, "queued", json_integer((json_int_t)m.queued));
			json_object_set_new(en, "refused", json_integer((json_int_t)m.refused));
			json_object_set_new(en, "timeouts", json_integer((json_int_t)m.timeouts));
			json_object_set_new(en, "granted_after_wait", json_integer((json_int_t)m.waits));
			json_object_set_new(en, "wait_p50_s", json_real(m.wait_p50_s));
			json_object_set_new(en, "wait_p99_s", json_real(m.wait_p99_s));
			json_object_set_new(en, "wait_max_s", json_real(m.wait_max_s));
			json_object_set_new(en, "leases_reclaimed", json_integer((json_int_t)m.expiries));
			json_object_set_new(en, "grows_blocked", json_integer((json_int_t)m.grow_blocked));
			json_object_set_new(en, "queued_intervals", json_integer((json_int_t)m.queued_intervals));
			json_object_set_new(o, "engine", en);
			if (ah_replay_shaping(rp)) {
				json_t *sh = json_object();
				json_object_set_new(sh, "scale_actions", json_integer((json_int_t)m.scale_actions));
				json_object_set_new(sh, "rebalances", json_integer((json_int_t)m.rebalances));
				json_object_set_new(sh, "mean_capacity", json_real(m.mean_capacity));
				json_object_set_new(sh, "cost_capacity", json_real(m.cost_capacity));
				json_object_set_new(sh, "cost_create", json_real(m.cost_create));
				json_object_set_new(sh, "cost_shortfall", json_real(m.cost_shortfall));
				json_object_set_new(sh, "cost_total", json_real(m.cost_model));
				json_object_set_new(o, "shaping", sh);
			}
			for (int k = 0; k < m.nworst; k++) {
				json_t *s = json_object();
				json_object_set_new(s, "workload", ah_json_text(m.worst[k].workload));
				json_object_set_new(s, "time", ah_json_time(m.worst[k].t_s * 1000000000LL));
				json_object_set_new(s, "used", json_integer(m.worst[k].used));
				json_object_set_new(s, "reserved", json_integer(m.worst[k].reserved));
				json_array_append_new(w, s);
			}
			json_object_set_new(o, "worst", w);
			json_array_append_new(arr, o);
		}
	}
	json_object_set_new(root, "results", arr);
	char *s = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(8));
	json_decref(root);
	if (!s)
		return -1;
	puts(s);
	free(s);
	return 0;
}

/* Where the rows come from: trace files, or the generator (into a
 * temporary file, read back as a plain trace). */
typedef struct {
	const char *cmd;
	const struct paths *tr;
	ah_trace_format fmt;
	const ah_input_units *units;
	bool gen;
	ah_trace_gen_opts g;
	FILE *gen_file;
} row_source;

/* The generated trace of round ROUND (the next seed, the clock going on)
 * in a temporary file, rewound. */
static int generate(row_source *src, unsigned round, FILE **out)
{
	if (src->gen_file)
		fclose(src->gen_file);
	src->gen_file = tmpfile();
	if (!src->gen_file) {
		ah_cli_err(src->cmd, "--generate: cannot make a temporary file: %s", strerror(errno));
		return AH_EXIT_INTERNAL;
	}
	ah_trace_gen_opts g = src->g;
	g.seed += round;
	/* every 1000 rounds the clock starts over, far below AH_TRACE_TIME_MAX */
	g.start_s += (int64_t)(round % 1000) * g.days * 86400;
	int rc = ah_trace_gen_write(src->gen_file, &g);
	if (rc || fflush(src->gen_file) || fseek(src->gen_file, 0, SEEK_SET)) {
		ah_cli_err(src->cmd, "--generate: %s", rc ? ah_strerror(rc) : strerror(errno));
		return AH_EXIT_INTERNAL;
	}
	*out = src->gen_file;
	return 0;
}

/* ah_replay_into_open_fn: the rows of one round as a merge. */
static int open_rows(void *ctx, unsigned round, ah_trace_merge **out)
{
	row_source *src = ctx;
	ah_trace **rd = NULL;
	size_t n = 0, want = src->gen ? 1 : src->tr->n;
	int ex = AH_EXIT_USAGE, rc;
	if (want > MERGE_MAX) {
		ah_cli_err(src->cmd, "--trace: %zu files; at most %d are replayed together", want, MERGE_MAX);
		return AH_EXIT_USAGE;
	}
	if (!(rd = calloc(want, sizeof *rd))) {
		ah_cli_err(src->cmd, "out of memory");
		return AH_EXIT_INTERNAL;
	}
	if (src->gen) {
		FILE *f;
		if ((ex = generate(src, round, &f)))
			goto out;
		ex = AH_EXIT_INTERNAL;
		if ((rc = ah_trace_open_stream(f, "generated", AH_TRACE_PLAIN, &rd[0]))) {
			ah_cli_err(src->cmd, "--generate: %s", ah_strerror(rc));
			goto out;
		}
		n = 1;
	} else {
		for (; n < want; n++)
			if (open_trace(src->cmd, src->tr->v[n], src->fmt, src->units, &rd[n]))
				goto out;
	}
	ex = AH_EXIT_INTERNAL;
	if ((rc = ah_trace_merge_new(rd, n, out))) {
		ah_cli_err(src->cmd, "%s", ah_strerror(rc));
		goto out;
	}
	n = 0; /* the merge owns them */
	ex = 0;
out:
	for (size_t k = 0; k < n; k++)
		ah_trace_free(rd[k]);
	free(rd);
	return ex;
}

int ah_cmd_replay(int argc, char **argv)
{
	const char *cmd = argv[0];
	struct paths tr = {0};
	ah_trace_format fmt = AH_TRACE_PLAIN;
	ah_input_units units;
	double of_cores = 0;
	policy_list pols = {.n = 0};
	int mask = 3;
	const char *csv = NULL, *chart_dir = NULL;
	ah_out_fmt out = AH_OUT_TABLE;
	double step_s, bin_s = 3600;
	ah_replay_params p;
	ah_replay *rp = NULL;
	ah_policy *cfg = NULL;
	ah_trace_merge *mg = NULL;
	ah_trace **readers = NULL;
	size_t nreaders = 0;
	const char *cfg_path = NULL, *pool = NULL, *tenant = NULL;
	int ret = AH_EXIT_USAGE;
	/* --generate, --into: -1 / NULL when not given */
	int64_t gen_n = -1, gen_days = -1, gen_seed = -1;
	const char *write_trace = NULL, *klass = NULL;
	ah_replay_into_opts io = {.speed = AH_REPLAY_INTO_SPEED, .every_ns = 5000000000LL};
	double speed = -1;
	int64_t every = -1, dwell_ns = -1;
	row_source src = {.cmd = cmd};
	ah_replay_params_default(&p);
	ah_input_units_init(&units);
	step_s = (double)p.sizing.step_s;
	static const ah_cli_choice pool_fc[] = {{"own", AH_SCALER_FC_OWN},
						{"layer", AH_SCALER_FC_LAYER},
						{"max", AH_SCALER_FC_MAX},
						{"best", AH_SCALER_FC_BEST},
						{NULL, 0}};
	static const ah_cli_choice dims[] = {{"cpu", 1 << AH_DIM_CPU},
					     {"memory", 1 << AH_DIM_MEMORY},
					     {"all", 3},
					     {NULL, 0}};
	const ah_cli_opt opts[] = {
		AH_OPT("trace", 0, AH_OPT_EACH, &tr, .hint = "PATH", .flags = AH_OPT_GREEDY, .each = add_trace_arg),
		AH_OPT("format", 0, AH_OPT_EACH, &fmt, .hint = "bitbrains or plain", .each = opt_format),
		AH_OPT("unit", 0, AH_OPT_EACH, &units, .hint = "UNIT", .each = ah_cli_opt_unit),
		AH_OPT("of", 0, AH_OPT_NUMBER, &of_cores, .hint = "CORES", .min = 0, .max = 1e6,
		       .flags = AH_OPT_MIN_OPEN),
		AH_OPT("policy", 0, AH_OPT_EACH, &pols, .hint = "LIST", .flags = AH_OPT_NONEMPTY, .each = opt_policy),
		AH_OPT("dim", 0, AH_OPT_CHOICE, &mask, .hint = "dimension", .choices = dims),
		AH_OPT("quantile", 0, AH_OPT_EACH, &p, .hint = "Q", .flags = AH_OPT_NONEMPTY, .each = opt_quantile),
		AH_OPT("violation-cost", 0, AH_OPT_EACH, &p, .hint = "cpu=C,memory=G", .flags = AH_OPT_NONEMPTY,
		       .each = opt_violation_cost),
		AH_OPT("resize-cost", 0, AH_OPT_EACH, &p, .hint = "USD or cpu=USD,memory=USD", .flags = AH_OPT_NONEMPTY,
		       .each = opt_resize_cost),
		AH_OPT("resizes-per-day", 0, AH_OPT_EACH, &p, .hint = "N or cpu=N,memory=N", .flags = AH_OPT_NONEMPTY,
		       .each = opt_resizes_per_day),
		AH_OPT("min-dwell", 0, AH_OPT_DURATION, &dwell_ns, .hint = "DURATION", .lo = 0,
		       .hi = INT64_C(7) * 86400 * 1000000000),
		AH_OPT("hard-margin", 0, AH_OPT_EACH, &p, .hint = "M or cpu=M,memory=M", .flags = AH_OPT_NONEMPTY,
		       .each = opt_hard_margin),
		AH_OPT("peak-cap", 0, AH_OPT_EACH, &p, .hint = "M or cpu=M,memory=M", .flags = AH_OPT_NONEMPTY,
		       .each = opt_peak_cap),
		AH_OPT("hpa-target", 0, AH_OPT_NUMBER, &p.sizing.hpa_target, .hint = "U", .min = 0.01, .max = 1.0),
		AH_OPT("pool-forecast", 0, AH_OPT_CHOICE, &p.pool_forecast, .hint = "forecast",
		       .choices = pool_fc),
		AH_OPT("price-cpu", 0, AH_OPT_NUMBER, &p.price[AH_DIM_CPU], .hint = "USD", .min = 0, .max = 1e6),
		AH_OPT("price-memory", 0, AH_OPT_NUMBER, &p.price[AH_DIM_MEMORY], .hint = "USD", .min = 0, .max = 1e6),
		AH_OPT("step", 0, AH_OPT_NUMBER, &step_s, .hint = "SECONDS", .min = 1, .max = 86400 * 7,
		       .flags = AH_OPT_WHOLE),
		AH_OPT("bin", 0, AH_OPT_NUMBER, &bin_s, .hint = "SECONDS", .min = 1, .max = 86400 * 7,
		       .flags = AH_OPT_WHOLE),
		AH_OPT("config", 0, AH_OPT_STRING, &cfg_path, .hint = "FILE", .flags = AH_OPT_NONEMPTY),
		AH_OPT("pool", 0, AH_OPT_STRING, &pool, .hint = "NAME", .flags = AH_OPT_NONEMPTY),
		AH_OPT("tenant", 0, AH_OPT_STRING, &tenant, .hint = "NAME", .flags = AH_OPT_NONEMPTY),
		AH_OPT("csv", 0, AH_OPT_STRING, &csv, .hint = "FILE"),
		AH_OPT("chart-dir", 0, AH_OPT_STRING, &chart_dir, .hint = "DIR"),
		AH_OPT(NULL, 'o', AH_OPT_FORMAT, &out, .formats = AH_FMTS_TABLE_JSON),
		AH_OPT("generate", 0, AH_OPT_INT, &gen_n, .hint = "N", .lo = 1, .hi = AH_TRACE_GEN_WORKLOADS_MAX),
		AH_OPT("days", 0, AH_OPT_INT, &gen_days, .hint = "DAYS", .lo = 1, .hi = AH_TRACE_GEN_DAYS_MAX),
		AH_OPT("seed", 0, AH_OPT_INT, &gen_seed, .hint = "SEED", .lo = 0, .hi = INT64_MAX),
		AH_OPT("write-trace", 0, AH_OPT_STRING, &write_trace, .hint = "FILE", .flags = AH_OPT_NONEMPTY),
		AH_OPT("into", 0, AH_OPT_STRING, &io.client.server, .hint = "URL", .flags = AH_OPT_NONEMPTY),
		AH_OPT("token", 0, AH_OPT_STRING, &io.client.token, .hint = "TOKEN", .flags = AH_OPT_NONEMPTY),
		AH_OPT("token-file", 0, AH_OPT_STRING, &io.client.token_file, .hint = "FILE", .flags = AH_OPT_NONEMPTY),
		AH_OPT("speed", 0, AH_OPT_NUMBER, &speed, .hint = "N", .min = 0, .max = 1e7, .flags = AH_OPT_MIN_OPEN),
		AH_OPT("every", 0, AH_OPT_DURATION, &every, .hint = "DURATION", .lo = 100000000LL,
		       .hi = INT64_C(3600) * 1000000000),
		AH_OPT("loop", 0, AH_OPT_FLAG, &io.loop),
		AH_OPT("class", 0, AH_OPT_STRING, &klass, .hint = "NAME", .flags = AH_OPT_NONEMPTY),
	};
	ah_cli_spec spec = {.cmd = "replay", .usage = usage, .opts = opts, .n_opts = AH_CLI_NOPTS(opts)};
	if ((ret = ah_cli_parse(&spec, argc, argv)) != AH_CLI_GO)
		goto out;
	ret = AH_EXIT_USAGE;
	p.sizing.step_s = (int64_t)step_s;
	if (dwell_ns >= 0)
		for (int d = 0; d < AH_REPLAY_DIMS; d++)
			p.sizing.dim[d].min_dwell_s = dwell_ns / 1000000000;
	bool gen = gen_n > 0, into = io.client.server != NULL;
	if (gen && tr.n) {
		ah_cli_err(cmd, "--trace and --generate: give one");
		goto out;
	}
	if (!tr.n && !gen) {
		ah_cli_err(cmd, "--trace is required, or --generate N (see --help)");
		goto out;
	}
	if (!gen && (gen_days >= 0 || gen_seed >= 0 || write_trace)) {
		ah_cli_err(cmd, "%s is for --generate N", gen_days >= 0 ? "--days" : gen_seed >= 0 ? "--seed" : "--write-trace");
		goto out;
	}
	if (!into && (speed >= 0 || every >= 0 || io.loop || klass || io.client.token || io.client.token_file)) {
		ah_cli_err(cmd, "%s needs --into URL",
			   speed >= 0 ? "--speed" : every >= 0 ? "--every" : io.loop ? "--loop" : klass ? "--class" : "--token");
		goto out;
	}
	if (io.client.token && io.client.token_file) {
		ah_cli_err(cmd, "--token and --token-file: give one");
		goto out;
	}
	if (into && (pols.n || csv || chart_dir || cfg_path || write_trace)) {
		ah_cli_err(cmd, "--into replays into a daemon; %s is for the offline replay",
			   pols.n ? "--policy" : csv ? "--csv" : chart_dir ? "--chart-dir" : cfg_path ? "--config" : "--write-trace");
		goto out;
	}
	src.tr = &tr;
	src.fmt = fmt;
	src.units = &units;
	src.gen = gen;
	ah_trace_gen_opts_init(&src.g);
	if (gen) {
		if (fmt != AH_TRACE_PLAIN || units.cpu_set || units.bytes_set || of_cores > 0) {
			ah_cli_err(cmd, "--generate makes a plain trace in millicores and bytes: --format, --unit and --of are for --trace");
			goto out;
		}
		src.g.workloads = (int)gen_n;
		src.g.step_s = (int64_t)step_s;
		if (gen_days > 0)
			src.g.days = (int)gen_days;
		if (gen_seed >= 0)
			src.g.seed = (uint64_t)gen_seed;
	}
	if (write_trace) {
		FILE *f = strcmp(write_trace, "-") ? fopen(write_trace, "w") : stdout;
		if (!f) {
			ah_cli_err(cmd, "--write-trace: %s: %s", write_trace, strerror(errno));
			goto out;
		}
		int wrc = ah_trace_gen_write(f, &src.g);
		if ((f == stdout ? fflush(f) : fclose(f)) || wrc) {
			ah_cli_err(cmd, "--write-trace: %s: %s", write_trace, wrc ? ah_strerror(wrc) : strerror(errno));
			ret = AH_EXIT_INTERNAL;
			goto out;
		}
		ret = AH_EXIT_OK;
		goto out;
	}
	const char *why;
	if (of_cores > 0)
		ah_input_units_set_of(&units, of_cores);
	if (ah_input_units_check(&units, &why)) {
		ah_cli_err(cmd, "%s", why);
		goto out;
	}
	if (fmt == AH_TRACE_BITBRAINS && (units.cpu_set || units.bytes_set)) {
		ah_cli_err(cmd, "--unit: bitbrains traces state their units (MHz, KB); --unit is for plain traces");
		goto out;
	}
	if (!pols.n)
		for (int k = 0; k < AH_SIZING_KIND_COUNT; k++)
			pols.v[pols.n++] = (ah_sizing_kind)k;
	if (chart_dir) {
		struct stat sb;
		if (stat(chart_dir, &sb) || !S_ISDIR(sb.st_mode)) {
			ah_cli_err(cmd, "--chart-dir: %s is not a directory", chart_dir);
			goto out;
		}
	}
	if (into) {
		io.tenant = tenant;
		io.pool = pool;
		io.klass = klass;
		io.out = out;
		if (speed > 0)
			io.speed = speed;
		if (every > 0)
			io.every_ns = every;
		ret = ah_replay_into(cmd, &io, open_rows, &src);
		goto out;
	}
	if ((pool || tenant) && !cfg_path) {
		ah_cli_err(cmd, "--pool and --tenant need --config");
		goto out;
	}
	/* the chart series costs a bin per --bin seconds of trace: only on request */
	int rc = ah_replay_new(&p, pols.v, pols.n, (unsigned)mask, chart_dir ? (int64_t)bin_s : 0, &rp);
	if (rc) {
		ah_cli_err(cmd, "%s", ah_strerror(rc));
		ret = AH_EXIT_INTERNAL;
		goto out;
	}
	if (cfg_path) {
		char err[1024];
		rc = ah_policy_load_file(cfg_path, &cfg, err, sizeof(err));
		if (!rc)
			rc = ah_replay_set_policy(rp, cfg, pool, tenant, err, sizeof(err));
		if (rc) {
			ah_cli_err(cmd, "--config: %s", err);
			goto out;
		}
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (gen) {
		if ((ret = open_rows(&src, 0, &mg)))
			goto out;
		ret = AH_EXIT_USAGE;
		char err[640];
		rc = ah_replay_feed_merge(rp, mg, err, sizeof(err));
		if (rc < 0) {
			ah_cli_err(cmd, "%s", err);
			ret = rc == AH_ENOMEM ? AH_EXIT_INTERNAL : AH_EXIT_USAGE;
			goto out;
		}
	} else if (tr.n <= MERGE_MAX) {
		/* one clock across files: merge them in time order */
		readers = calloc(tr.n, sizeof(*readers));
		if (!readers) {
			ret = AH_EXIT_INTERNAL;
			goto out;
		}
		for (; nreaders < tr.n; nreaders++)
			if (open_trace(cmd, tr.v[nreaders], fmt, &units, &readers[nreaders]))
				goto out;
		rc = ah_trace_merge_new(readers, nreaders, &mg);
		if (rc) {
			ah_cli_err(cmd, "%s", ah_strerror(rc));
			ret = AH_EXIT_INTERNAL;
			goto out;
		}
		size_t nmerged = nreaders;
		nreaders = 0; /* the merge owns them now; READERS stays as borrowed views */
		char err[640];
		rc = ah_replay_feed_merge(rp, mg, err, sizeof(err));
		if (rc < 0) {
			ah_cli_err(cmd, "%s", err);
			ret = rc == AH_ENOMEM ? AH_EXIT_INTERNAL : AH_EXIT_USAGE;
			goto out;
		}
		for (size_t k = 0; k < nmerged; k++)
			warn_zeros(cmd, tr.v[k], readers[k], &units);
	}
	for (size_t k = 0; !mg && k < tr.n; k++) {
		ah_trace *t;
		if (open_trace(cmd, tr.v[k], fmt, &units, &t))
			goto out;
		char err[640];
		rc = ah_replay_feed_trace(rp, t, err, sizeof(err));
		if (rc >= 0)
			warn_zeros(cmd, tr.v[k], t, &units);
		ah_trace_free(t);
		if (rc < 0) {
			ah_cli_err(cmd, "%s", err);
			ret = rc == AH_ENOMEM ? AH_EXIT_INTERNAL : AH_EXIT_USAGE;
			goto out;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
	uint64_t samples = ah_replay_intervals(rp);
	if (samples == 0) {
		ah_cli_err(cmd, "the trace(s) hold no sample for the chosen dimension(s)");
		goto out;
	}
	ret = AH_EXIT_INTERNAL;
	if (csv && write_csv(csv, rp, (unsigned)mask)) {
		ah_cli_err(cmd, "--csv: cannot write %s: %s", csv, strerror(errno));
		goto out;
	}
	if (chart_dir)
		for (int i = 0; i < pols.n; i++)
			if (write_chart(cmd, chart_dir, rp, i, (unsigned)mask))
				goto out;
	if (out == AH_OUT_JSON) {
		if (print_json(rp, (unsigned)mask, secs, samples, gen ? 1 : tr.n, &p))
			goto out;
	} else {
		print_table(rp, (unsigned)mask, secs, samples, gen ? 1 : tr.n);
	}
	ret = AH_EXIT_OK;
out:
	ah_replay_free(rp);
	ah_policy_free(cfg);
	ah_trace_merge_free(mg);
	for (size_t k = 0; k < nreaders; k++)
		ah_trace_free(readers[k]);
	free(readers);
	paths_free(&tr);
	if (src.gen_file)
		fclose(src.gen_file);
	return ret;
}
