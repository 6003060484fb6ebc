/* Crash test: a worker process makes thousands of allocations and releases
 * on a SQLite ledger; we SIGKILL it at random moments, many times, and after
 * each kill check that
 *   - every acknowledged allocation (or queued request) is in the ledger,
 *   - nothing unacknowledged is, except the one operation in flight at the
 *     kill (committed but not yet acknowledged, which is allowed),
 *   - the event log replays to exactly the live allocations and queue,
 *   - capacity accounting is exact: the engine rebuilt from the ledger uses
 *     what its rows sum to, never more than capacity, and has no queued
 *     request that should already have been granted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ahead/error.h"
#include "ahead/ledger_sqlite.h"
#include "engine_fixture.h"

#define MAXID 4000000

static char db[256], acklog[256];
static unsigned char *model; /* 1 = live per acknowledgements */
static long log_off;
static int total_acked_allocs, total_acked_releases, inflight_committed;

typedef struct {
	char kind; /* 'A' alloc, 'R' release, 0 none */
	uint64_t id;
} pending_t;

/* Reads new lines of the ack log into the model; returns the operation whose
 * intent was logged but not its acknowledgement. */
static pending_t read_acks(void)
{
	pending_t p = {0};
	FILE *f = fopen(acklog, "r");
	assert_non_null(f);
	fseek(f, log_off, SEEK_SET);
	char line[128];
	long good = log_off;
	while (fgets(line, sizeof line, f)) {
		size_t n = strlen(line);
		if (!n || line[n - 1] != '\n')
			break; /* torn last line: the kill came mid-write */
		char a, b;
		unsigned long long id;
		assert_int_equal(sscanf(line, "%c %c %llu", &a, &b, &id), 3);
		assert_true(id < MAXID);
		if (a == 'I') {
			p.kind = b;
			p.id = id;
		} else {
			if (b == 'G' || b == 'Q') {
				assert_int_equal(model[id], 0);
				model[id] = 1;
				total_acked_allocs++;
			} else if (b == 'R') {
				model[id] = 0;
				total_acked_releases++;
			}
			p.kind = 0;
		}
		good += (long)n;
	}
	fclose(f);
	log_off = good;
	return p;
}

static unsigned char *db_live(sqlite3 *h, const char *sql)
{
	unsigned char *s = calloc(MAXID, 1);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		sqlite3_int64 id = sqlite3_column_int64(st, 0);
		assert_true(id > 0 && id < MAXID);
		s[id] = 1;
	}
	sqlite3_finalize(st);
	return s;
}

static void check_events(sqlite3 *h, const unsigned char *allocs, const unsigned char *queue)
{
	unsigned char *ea = calloc(MAXID, 1), *eq = calloc(MAXID, 1);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(h, "SELECT kind, id FROM events WHERE id IS NOT NULL ORDER BY seq", -1, &st,
					    NULL),
			 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		sqlite3_int64 id = sqlite3_column_int64(st, 1);
		if (!strcmp(k, "grant"))
			ea[id] = 1;
		else if (!strcmp(k, "queue"))
			eq[id] = 1;
		else if (!strcmp(k, "dequeue")) {
			assert_int_equal(eq[id], 1);
			eq[id] = 0;
			ea[id] = 1;
		} else if (!strcmp(k, "release") || !strcmp(k, "expire") || !strcmp(k, "preempt")) {
			assert_int_equal(ea[id], 1);
			ea[id] = 0;
		} else if (!strcmp(k, "cancel") || !strcmp(k, "timeout")) {
			assert_int_equal(eq[id], 1);
			eq[id] = 0;
		}
	}
	sqlite3_finalize(st);
	assert_memory_equal(ea, allocs, MAXID);
	assert_memory_equal(eq, queue, MAXID);
	free(ea);
	free(eq);
}

static int sum_res(void *ctx, const ah_engine_item *it)
{
	ah_vec *s = ctx;
	if (!it->queued)
		ah_vec_add(s, it->res, AH_MAX_DIMS);
	return 0;
}

static void check_round(int round)
{
	pending_t p = read_acks();
	sqlite3 *h;
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	unsigned char *allocs = db_live(h, "SELECT id FROM allocations");
	unsigned char *queue = db_live(h, "SELECT id FROM queue");
	int extra = 0;
	for (uint64_t id = 1; id < MAXID; id++) {
		bool in_db = allocs[id] || queue[id];
		if (model[id] && !in_db) {
			/* Only a release in flight may have removed an acked id. */
			assert_true(p.kind == 'R' && p.id == id);
			model[id] = 0;
			inflight_committed++;
		} else if (!model[id] && in_db) {
			/* Only an allocation in flight may add an unacked id. */
			if (!(p.kind == 'A'))
				fail_msg("round %d: id %llu is in the ledger but was never acknowledged", round,
					 (unsigned long long)id);
			extra++;
			model[id] = 1;
			inflight_committed++;
		}
	}
	assert_true(extra <= 1);
	check_events(h, allocs, queue);
	free(allocs);
	free(queue);
	sqlite3_close(h);

	/* Rebuild the engine: used must be what the rows sum to, within
	 * capacity, and a tick at the same moment must grant nothing. */
	ah_policy *pol = fx_policy();
	ah_ledger *led;
	ah_engine *e;
	char err[256];
	assert_int_equal(ah_ledger_sqlite_open(db, AH_DURABILITY_PROCESS, &led, err, sizeof err), 0);
	assert_int_equal(ah_engine_new(pol, led, (int64_t)(round + 1) * 1000000, &e), 0);
	ah_vec sum = {0};
	ah_engine_foreach(e, sum_res, &sum);
	ah_engine_pool_info pi;
	assert_int_equal(ah_engine_pool_get(e, 0, &pi), 0);
	for (int d = 0; d < pol->dims.n; d++) {
		assert_int_equal(pi.used->v[d], sum.v[d]);
		assert_true(pi.used->v[d] <= pi.capacity->v[d]);
	}
	int na = ah_engine_alloc_count(e), nq = ah_engine_queue_count(e);
	assert_int_equal(ah_engine_tick(e, (int64_t)(round + 1) * 1000000), 0);
	assert_int_equal(ah_engine_alloc_count(e), na);
	assert_int_equal(ah_engine_queue_count(e), nq);
	ah_engine_free(e);
	ah_ledger_free(led);
	free(pol);
}

static void test_kill9_many_times(void **state)
{
	(void)state;
	const char *build = getenv("AHEAD_BUILD");
	char worker[512];
	snprintf(worker, sizeof worker, "%s/crash_worker_main", build ? build : ".");
	if (access(worker, X_OK) != 0)
		fail_msg("crash worker not found at %s (set AHEAD_BUILD)", worker);
	snprintf(db, sizeof db, "/tmp/ahead-crash-%d.db", (int)getpid());
	snprintf(acklog, sizeof acklog, "/tmp/ahead-crash-%d.log", (int)getpid());
	unlink(db);
	unlink(acklog);
	model = calloc(MAXID, 1);
	const char *r = getenv("AHEAD_CRASH_ROUNDS");
	int rounds = r ? atoi(r) : 40;
	srand((unsigned)time(NULL));
	for (int round = 0; round < rounds; round++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			char seed[32];
			snprintf(seed, sizeof seed, "%d", round + 1);
			execl(worker, worker, db, acklog, seed, (char *)NULL);
			_exit(127);
		}
		/* Wait until the worker is doing work (a sanitizer build starts
		 * slowly), then kill it at a random moment. */
		struct stat sb;
		off_t start = stat(acklog, &sb) == 0 ? sb.st_size : 0;
		for (int i = 0; i < 20000; i++) {
			if (stat(acklog, &sb) == 0 && sb.st_size > start + 64)
				break;
			usleep(1000);
		}
		usleep((useconds_t)(rand() % 120000));
		kill(pid, SIGKILL);
		int status;
		waitpid(pid, &status, 0);
		if (!WIFSIGNALED(status))
			fail_msg("worker exited on its own (status %d) before the kill", status);
		check_round(round);
	}
	print_message("crash test: %d kills, %d acknowledged allocations, %d acknowledged releases, "
		      "%d in-flight operations found committed\n",
		      rounds, total_acked_allocs, total_acked_releases, inflight_committed);
	assert_true(total_acked_allocs > 1000);
	free(model);
	char p[300];
	unlink(db);
	unlink(acklog);
	snprintf(p, sizeof p, "%s-wal", db);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", db);
	unlink(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill9_many_times),
	};
	return cmocka_run_group_tests_name("crash", tests, NULL, NULL);
}
