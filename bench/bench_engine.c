/* bench/run engine: in-process allocate+release pairs per second and per-pair
 * latency, with the ledger in memory and durable on disk (SQLite, WAL).
 *
 * Setup: 8 pools, 64 tenants, 3 classes; each pair is one request (tenant
 * and pool round-robin, granted at once) and the release of the allocation
 * made WINDOW pairs earlier, so the engine holds WINDOW live allocations.
 * Durable runs commit once per answer (batch 1) and with group commit
 * (batch B: B answers share one commit; each answer is durable when its
 * batch's commit returns, and its latency is measured to that moment). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(int argc, char **argv)
{
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
	return 0;
}
