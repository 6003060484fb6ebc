/* bench/run engine: in-process allocate+release pairs per second and per-pair
 * latency, with the ledger in memory and durable on disk (SQLite, WAL).
 *
 * Setup: 8 pools, 64 tenants, 3 classes; each pair is one request (tenant
 * and pool round-robin, granted at once) and the release of the allocation
 * made WINDOW pairs earlier, so the engine holds WINDOW live allocations.
 * Durable runs commit once per answer (batch 1) and with group commit
 * (batch B: B answers share one commit; each answer is durable when its
 * batch's commit returns, and its latency is measured to that moment).
 *
 * CLI phase: a ledger with CLI_ALLOCS granted allocations over 10 tenants
 * and 2 pools (durability = process) is built through the engine, then
 * CLI_RUNS `ahead alloc` processes run against it one after another (warm
 * page cache); each process opens the ledger and rebuilds the engine, so
 * this measures the cost of opening a big ledger. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ahead/engine.h"
#include "ahead/error.h"
#include "ahead/ledger_sqlite.h"

#define POOLS 8
#define TENANTS 64
#define WINDOW 1024

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static ah_policy *make_policy(void)
{
	ah_policy *p = calloc(1, sizeof(*p));
	ah_dimset_init(&p->dims);
	p->n_pools = POOLS;
	for (int i = 0; i < POOLS; i++) {
		ah_pool_policy *pp = &p->pools[i];
		snprintf(pp->name, sizeof pp->name, "pool%d", i);
		pp->capacity.v[AH_DIM_CPU] = 1000000000;
		pp->capacity.v[AH_DIM_MEMORY] = (int64_t)1 << 50;
		pp->min_size = pp->max_size = pp->capacity;
		for (int d = 0; d < AH_MAX_DIMS; d++)
			pp->unit.v[d] = 1;
		pp->max_queue = 10000;
	}
	const char *cn[] = {"gold", "standard", "batch"};
	p->n_classes = 3;
	for (int i = 0; i < 3; i++) {
		strcpy(p->classes[i].name, cn[i]);
		p->classes[i].priority = 100 - 40 * i;
		p->classes[i].quantile = 0.9;
		for (int d = 0; d < AH_MAX_DIMS; d++)
			p->classes[i].max_request.v[d] = AH_UNLIMITED;
	}
	p->default_class = 1;
	p->n_tenants = TENANTS;
	for (int i = 0; i < TENANTS; i++) {
		snprintf(p->tenants[i].name, sizeof p->tenants[i].name, "tenant%d", i);
		for (int d = 0; d < AH_MAX_DIMS; d++)
			p->tenants[i].quota.v[d] = AH_UNLIMITED;
	}
	p->lease_ttl_ns = 3600LL * 1000000000;
	p->max_lease_ttl_ns = p->lease_ttl_ns;
	p->queue_timeout_ns = 30LL * 1000000000;
	return p;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

typedef struct {
	const char *name;
	double pairs_per_s, p50_us, p99_us;
	long pairs;
} result;

/* Runs n pairs in batches of `batch` (0 = no batching calls at all). */
static int run(ah_engine *e, long n, int batch, result *out)
{
	char tn[TENANTS][16], pn[POOLS][16];
	for (int i = 0; i < TENANTS; i++)
		snprintf(tn[i], sizeof tn[i], "tenant%d", i);
	for (int i = 0; i < POOLS; i++)
		snprintf(pn[i], sizeof pn[i], "pool%d", i);
	uint64_t ring[WINDOW] = {0};
	int64_t *lat = malloc(sizeof(int64_t) * (size_t)n);
	int64_t *start = malloc(sizeof(int64_t) * (size_t)(batch > 0 ? batch : 1));
	if (!lat || !start)
		return AH_ENOMEM;
	int64_t vt = 1; /* virtual time: the engine never reads a clock */
	int64_t t0 = mono_ns();
	for (long i = 0; i < n;) {
		int b = batch > 0 ? batch : 1;
		if (i + b > n)
			b = (int)(n - i);
		if (batch > 0 && ah_engine_batch_begin(e) < 0)
			return AH_ESTORE;
		for (int j = 0; j < b; j++, i++) {
			start[j] = mono_ns();
			ah_request r = {.tenant = tn[i % TENANTS], .pool = pn[i % POOLS], .klass = NULL,
					.queue_timeout_ns = -1};
			r.res.v[AH_DIM_CPU] = 100 + i % 900;
			r.res.v[AH_DIM_MEMORY] = (int64_t)(1 + i % 64) << 20;
			ah_decision d;
			if (ah_engine_request(e, &r, vt++, &d) < 0 || d.outcome != AH_GRANTED) {
				fprintf(stderr, "bench: request %ld not granted\n", i);
				return AH_ESTATE;
			}
			uint64_t old = ring[i % WINDOW];
			ring[i % WINDOW] = d.id;
			if (old && ah_engine_release(e, old, vt++) < 0)
				return AH_ESTATE;
			if (batch <= 0)
				lat[i] = mono_ns() - start[j];
		}
		if (batch > 0) {
			if (ah_engine_batch_end(e) < 0)
				return AH_ESTORE;
			int64_t done = mono_ns();
			for (int j = 0; j < b; j++)
				lat[i - b + j] = done - start[j];
		}
	}
	int64_t el = mono_ns() - t0;
	qsort(lat, (size_t)n, sizeof(*lat), cmp_i64);
	out->pairs = n;
	out->pairs_per_s = (double)n / ((double)el * 1e-9);
	out->p50_us = (double)lat[n / 2] / 1000.0;
	out->p99_us = (double)lat[(long)((double)n * 0.99)] / 1000.0;
	free(lat);
	free(start);
	return 0;
}

#define CLI_ALLOCS 100000
#define CLI_RUNS 20
#define CLI_TENANTS 10

static const char cli_policy[] = "[ahead]\nlease_ttl = 24h\nmax_lease_ttl = 2400h\nqueue_timeout = 0\n"
				 "default_class = standard\nunknown_tenants = default\ndurability = process\n"
				 "[pool p0]\ncapacity = cpu=100000000, memory=100000Ti\n"
				 "[pool p1]\ncapacity = cpu=100000000, memory=100000Ti\n"
				 "[class standard]\npriority = 50\n[tenant *]\n";

static int64_t real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The allocations are stamped with the real clock and a 100-day lease, so
 * the CLI (which reads the clock) finds them all live. */
static int cli_build_ledger(const char *path, long n)
{
	char err[512];
	ah_policy *p = NULL;
	ah_ledger *led = NULL;
	ah_engine *e = NULL;
	int rc = ah_policy_load_string(cli_policy, strlen(cli_policy), "bench", &p, err, sizeof err);
	if (rc < 0 || (rc = ah_ledger_sqlite_open(path, AH_DURABILITY_PROCESS, &led, err, sizeof err)) < 0) {
		fprintf(stderr, "bench: %s\n", err);
		goto out;
	}
	int64_t now = real_ns();
	if ((rc = led->ops->begin(led)) < 0 || (rc = ah_ledger_sqlite_policy_put(led, cli_policy, p, now)) < 0 ||
	    (rc = led->ops->commit(led)) < 0 || (rc = ah_engine_new(p, led, now, &e)) < 0)
		goto out;
	for (long i = 0; i < n && rc == 0; i += 1000) {
		if ((rc = ah_engine_batch_begin(e)) < 0)
			break;
		for (long j = i; j < i + 1000 && j < n; j++) {
			char tn[16];
			snprintf(tn, sizeof tn, "t%ld", j % CLI_TENANTS);
			ah_request r = {.tenant = tn, .pool = j % 2 ? "p1" : "p0", .queue_timeout_ns = -1,
					.lease_ttl_ns = 2400LL * 3600 * 1000000000};
			r.res.v[AH_DIM_CPU] = 100 + j % 900;
			r.res.v[AH_DIM_MEMORY] = (int64_t)(1 + j % 64) << 20;
			ah_decision d;
			if ((rc = ah_engine_request(e, &r, now, &d)) < 0 || d.outcome != AH_GRANTED) {
				fprintf(stderr, "bench: cli ledger: request %ld not granted: %s\n", j, d.message);
				rc = rc < 0 ? rc : AH_ESTATE;
				break;
			}
		}
		int brc = ah_engine_batch_end(e);
		if (rc == 0)
			rc = brc;
	}
out:
	ah_engine_free(e);
	ah_ledger_free(led);
	ah_policy_free(p);
	return rc;
}

static int64_t cli_run_alloc(const char *bin, const char *db, int i)
{
	char tn[16];
	snprintf(tn, sizeof tn, "t%d", i % CLI_TENANTS);
	int64_t t0 = mono_ns();
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0)
			dup2(fd, 1);
		execl(bin, bin, "alloc", "--db", db, "-t", tn, "-p", i % 2 ? "p1" : "p0", "-r", "cpu=1,memory=1Gi",
		      (char *)NULL);
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "bench: %s alloc failed (status %d)\n", bin, st);
		return -1;
	}
	return mono_ns() - t0;
}

static void unlink_db(const char *path)
{
	char p2[600];
	unlink(path);
	snprintf(p2, sizeof p2, "%s-wal", path);
	unlink(p2);
	snprintf(p2, sizeof p2, "%s-shm", path);
	unlink(p2);
}

static int cli_phase(void)
{
	const char *bd = getenv("AHEAD_BUILD"), *bin = getenv("AHEAD_BIN");
	char path[512], binbuf[512];
	if (!bin) {
		snprintf(binbuf, sizeof binbuf, "%s/ahead", bd ? bd : ".");
		bin = binbuf;
	}
	snprintf(path, sizeof path, "%s/bench-engine-cli.db", bd ? bd : ".");
	unlink_db(path);
	int64_t t0 = mono_ns();
	if (cli_build_ledger(path, CLI_ALLOCS) < 0)
		return 1;
	printf("cli phase: built a ledger of %d allocations in %.1f s\n", CLI_ALLOCS, (double)(mono_ns() - t0) * 1e-9);
	int64_t ms[CLI_RUNS];
	if (cli_run_alloc(bin, path, 0) < 0) /* warm the page cache */
		return 1;
	for (int i = 0; i < CLI_RUNS; i++)
		if ((ms[i] = cli_run_alloc(bin, path, i + 1)) < 0)
			return 1;
	qsort(ms, CLI_RUNS, sizeof ms[0], cmp_i64);
	printf("%d x '%s alloc' against %d allocations: median %.1f ms, min %.1f, max %.1f\n", CLI_RUNS, bin,
	       CLI_ALLOCS, (double)ms[CLI_RUNS / 2] / 1e6, (double)ms[0] / 1e6, (double)ms[CLI_RUNS - 1] / 1e6);
	printf("engine_cli_alloc_ms_100k=%.0f\n", (double)ms[CLI_RUNS / 2] / 1e6);
	printf("engine_cli_alloc_ms_100k_min=%.0f\nengine_cli_alloc_ms_100k_max=%.0f\n", (double)ms[0] / 1e6,
	       (double)ms[CLI_RUNS - 1] / 1e6);
	unlink_db(path);
	return 0;
}

static int count_row(void *ctx, const ah_ledger_row *r)
{
	(void)r;
	(*(long *)ctx)++;
	return 0;
}

static double ms_since(int64_t t0)
{
	return (double)(mono_ns() - t0) / 1e6;
}

/* --cli-phases PATH: where one CLI open of the ledger at PATH spends its
 * time, in process (the best of 5): ledger open, policy, the store's scan
 * alone (rows counted, no engine), the engine's build (scan included). */
static int cli_phases(const char *path)
{
	double best[5] = {1e9, 1e9, 1e9, 1e9, 1e9};
	long rows = 0;
	for (int run = 0; run < 5; run++) {
		char err[512], *text = NULL;
		ah_ledger *led = NULL;
		ah_policy *p = NULL;
		ah_engine *e = NULL;
		uint64_t next;
		double t[5];
		int64_t t0 = mono_ns();
		int rc = ah_ledger_sqlite_open(path, AH_DURABILITY_PROCESS, &led, err, sizeof err);
		t[0] = ms_since(t0);
		t0 = mono_ns();
		if (rc == 0 && (rc = ah_ledger_policy_get(led, &text, NULL)) == 0)
			rc = ah_policy_load_string(text, strlen(text), "bench", &p, err, sizeof err);
		t[1] = ms_since(t0);
		rows = 0;
		ah_ledger_loader ld = {.ctx = &rows, .alloc = count_row, .queued = count_row};
		t0 = mono_ns();
		if (rc == 0)
			rc = led->ops->load(led, &p->dims, &ld, &next);
		t[2] = ms_since(t0);
		t0 = mono_ns();
		if (rc == 0)
			rc = ah_engine_new(p, led, real_ns(), &e);
		t[3] = ms_since(t0);
		t0 = mono_ns();
		ah_engine_free(e);
		t[4] = ms_since(t0);
		ah_ledger_free(led);
		ah_policy_free(p);
		free(text);
		if (rc < 0) {
			fprintf(stderr, "bench: %s: %s\n", path, ah_strerror(rc));
			return 1;
		}
		for (int i = 0; i < 5; i++)
			if (t[i] < best[i])
				best[i] = t[i];
	}
	printf("%ld rows: open %.2f ms, policy %.2f ms, scan alone %.2f ms, engine new (scan included) %.2f ms,"
	       " engine free %.2f ms\n",
	       rows, best[0], best[1], best[2], best[3], best[4]);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--cli"))
		return cli_phase();
	/* --cli-ledger PATH: only build the CLI phase's ledger (for profiling) */
	if (argc > 2 && !strcmp(argv[1], "--cli-ledger")) {
		unlink_db(argv[2]);
		return cli_build_ledger(argv[2], CLI_ALLOCS) < 0;
	}
	if (argc > 2 && !strcmp(argv[1], "--cli-phases"))
		return cli_phases(argv[2]);

	long n_mem = 3000000, n_disk = 200000;
	if (argc > 1 && !strcmp(argv[1], "--quick")) {
		n_mem = 200000;
		n_disk = 20000;
	}
	ah_policy *pol = make_policy();
	result res[6];
	int nr = 0;

	/* In memory (ledger keeps nothing). */
	ah_ledger *mem;
	ah_engine *e;
	if (ah_ledger_memory_new(0, &mem) < 0 || ah_engine_new(pol, mem, 0, &e) < 0)
		return 1;
	run(e, n_mem / 10, 0, &res[nr]); /* warm-up */
	if (run(e, n_mem, 0, &res[nr]) < 0)
		return 1;
	res[nr++].name = "memory";
	ah_engine_free(e);
	ah_ledger_free(mem);

	/* Durable: SQLite file in the build directory (on disk, not tmpfs). */
	const char *bd = getenv("AHEAD_BUILD");
	char path[512];
	snprintf(path, sizeof path, "%s/bench-engine.db", bd ? bd : ".");
	const int batches[] = {1, 100, 1000};
	const char *names[] = {"durable, batch 1", "durable, batch 100", "durable, batch 1000"};
	double best_durable = 0;
	int best_batch = 0;
	for (int k = 0; k < 3; k++) {
		char p2[600];
		unlink(path);
		snprintf(p2, sizeof p2, "%s-wal", path);
		unlink(p2);
		snprintf(p2, sizeof p2, "%s-shm", path);
		unlink(p2);
		ah_ledger *led;
		char err[256];
		if (ah_ledger_sqlite_open(path, AH_DURABILITY_PROCESS, &led, err, sizeof err) < 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		if (ah_engine_new(pol, led, 0, &e) < 0)
			return 1;
		long n = batches[k] == 1 ? n_disk / 4 : n_disk;
		if (run(e, n, batches[k], &res[nr]) < 0)
			return 1;
		res[nr].name = names[k];
		if (res[nr].pairs_per_s > best_durable) {
			best_durable = res[nr].pairs_per_s;
			best_batch = batches[k];
		}
		nr++;
		ah_engine_free(e);
		ah_ledger_free(led);
	}
	unlink(path);

	printf("engine bench: %d pools, %d tenants, 3 classes, %d live allocations, 2 dimensions per request\n",
	       POOLS, TENANTS, WINDOW);
	printf("pair = 1 request (granted) + 1 release; durable = SQLite WAL, synchronous=NORMAL\n\n");
	printf("%-22s %12s %14s %10s %10s %12s\n", "mode", "pairs", "pairs/s", "p50 us", "p99 us", "vs memory");
	for (int i = 0; i < nr; i++)
		printf("%-22s %12ld %14.0f %10.2f %10.2f %11.4fx\n", res[i].name, res[i].pairs, res[i].pairs_per_s,
		       res[i].p50_us, res[i].p99_us, res[i].pairs_per_s / res[0].pairs_per_s);
	printf("\n(durable latency = from request to the commit that made its answer durable)\n");
	printf("engine_pairs_per_s_memory=%.0f\n", res[0].pairs_per_s);
	printf("engine_p99_us_memory=%.2f\n", res[0].p99_us);
	printf("engine_pairs_per_s_durable=%.0f\n", best_durable);
	printf("engine_durable_batch=%d\n", best_batch);
	free(pol);
	printf("\n");
	return cli_phase();
}
