/* Crash-test worker: makes random allocations and releases against a SQLite
 * ledger and logs, unbuffered, an intent line before each operation and an
 * acknowledgement after it. tests/test_crash.c kills it with SIGKILL at
 * random moments and checks the ledger against the acknowledgements.
 *
 * usage: crash_worker_main DB ACKLOG SEED */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ahead/error.h"
#include "ahead/ledger_sqlite.h"
#include "engine_fixture.h"

static int ackfd;

static void logline(const char *fmt, unsigned long long a)
{
	char buf[64];
	int n = snprintf(buf, sizeof buf, fmt, a);
	if (write(ackfd, buf, (size_t)n) != n)
		_exit(3);
}

typedef struct {
	uint64_t *ids;
	int n;
} live_t;

static int collect(void *ctx, const ah_engine_item *it)
{
	live_t *l = ctx;
	l->ids[l->n++] = it->id;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s DB ACKLOG SEED\n", argv[0]);
		return 2;
	}
	unsigned seed = (unsigned)strtoul(argv[3], NULL, 10);
	ackfd = open(argv[2], O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (ackfd < 0)
		return 2;
	ah_policy *pol = fx_policy();
	pol->tenants[0].quota.v[AH_DIM_CPU] = AH_UNLIMITED;
	ah_ledger *led;
	ah_engine *e;
	char err[256];
	if (ah_ledger_sqlite_open(argv[1], AH_DURABILITY_PROCESS, &led, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	/* Virtual time continues from the seed so leases never expire here. */
	int64_t now = (int64_t)seed * 1000000;
	if (ah_engine_new(pol, led, now, &e) < 0)
		return 1;
	live_t live = {.ids = malloc(sizeof(uint64_t) * 1000000)};
	ah_engine_foreach(e, collect, &live);
	srand(seed);
	for (long op = 0; op < 200000; op++) {
		now++;
		bool do_alloc = live.n < 20 || (live.n < 200 && rand() % 100 < 55);
		if (do_alloc) {
			const char *tn[] = {"a", "b", "c"};
			const char *cn[] = {"gold", "standard", "batch"};
			ah_request r = fx_req(tn[rand() % 3], cn[1 + rand() % 2], 100 + rand() % 400, (rand() % 64) << 20);
			r.lease_ttl_ns = 3600 * SEC;
			r.queue_timeout_ns = 1000 * SEC;
			ah_decision d;
			logline("I A %llu\n", 0);
			if (ah_engine_request(e, &r, now, &d) < 0)
				return 1;
			if (d.outcome == AH_REFUSED) {
				logline("A X %llu\n", 0);
				continue;
			}
			live.ids[live.n++] = d.id;
			logline(d.outcome == AH_GRANTED ? "A G %llu\n" : "A Q %llu\n", d.id);
		} else {
			int i = rand() % live.n;
			uint64_t id = live.ids[i];
			logline("I R %llu\n", id);
			int rc = ah_engine_release(e, id, now);
			if (rc < 0 && rc != AH_ENOENT)
				return 1;
			live.ids[i] = live.ids[--live.n];
			logline("A R %llu\n", id);
		}
	}
	ah_engine_free(e);
	ah_ledger_free(led);
	free(pol);
	free(live.ids);
	return 0;
}
