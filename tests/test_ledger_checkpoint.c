/* Background checkpoints of a SQLite ledger (ledger_sqlite.h): under a
 * steady stream of commits the checkpoints run on the thread, the WAL
 * starts over instead of growing without end (what a background copy
 * alone does: session 6 saw 1 GB in 8 s), and every commit is in the file
 * afterwards, also across a change of durability. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ahead/error.h"
#include "ahead/ledger_sqlite.h"
#include "db_fixture.h"
#include "engine_fixture.h"

static char dbpath[256];

static int setup(void **state)
{
	(void)state;
	db_fixture_path(dbpath, sizeof dbpath, "ckpt");
	db_fixture_unlink(dbpath);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	db_fixture_unlink(dbpath);
	return 0;
}

static long long wal_bytes(void)
{
	char p[300];
	struct stat st;
	snprintf(p, sizeof p, "%s-wal", dbpath);
	return stat(p, &st) == 0 ? (long long)st.st_size : 0;
}

/* PAIRS allocate+release pairs, one commit each, keeping every KEEP-th. */
#define PAIRS 12000
#define KEEP 100

static void test_wal_bounded_and_nothing_lost(void **state)
{
	(void)state;
	ah_policy *pol = fx_policy();
	ah_ledger *l;
	ah_engine *e;
	char err[256];
	long long passes = -1, catchups = -1;
	int frames = -1;
	assert_int_equal(ah_ledger_sqlite_open(dbpath, AH_DURABILITY_PROCESS, &l, err, sizeof err), 0);
	/* not on until asked */
	assert_int_equal(ah_ledger_sqlite_checkpoint_stats(l, &passes, &catchups, &frames), AH_EINVAL);
	assert_int_equal(ah_ledger_sqlite_checkpoint_in_background(l, err, sizeof err), 0);
	assert_int_equal(ah_engine_new(pol, l, 0, &e), 0);
	long long wal_max = 0;
	int kept = 0;
	for (int i = 0; i < PAIRS; i++) {
		if (i == PAIRS / 2) /* the thread's checkpoints follow the change */
			assert_int_equal(ah_ledger_set_durability(l, AH_DURABILITY_POWER), 0);
		ah_request r = fx_req("a", NULL, 10, GI / 1024);
		ah_decision d;
		assert_int_equal(ah_engine_request(e, &r, 10 + 2 * i, &d), 0);
		assert_int_equal(d.outcome, AH_GRANTED);
		if (i % KEEP == 0)
			kept++;
		else
			assert_int_equal(ah_engine_release(e, d.id, 11 + 2 * i), 0);
		long long w = wal_bytes();
		if (w > wal_max)
			wal_max = w;
	}
	assert_int_equal(ah_ledger_sqlite_checkpoint_stats(l, &passes, &catchups, &frames), 0);
	/* 24,000 commits of a few pages each: without the writer's catch-up
	 * the WAL would hold all of them (tens of thousands of frames) */
	print_message("passes %lld, catch-ups %lld, WAL at most %lld bytes, %d frames at the end\n", passes, catchups,
		      wal_max, frames);
	assert_true(passes >= 5);
	assert_true(catchups >= 2);
	/* the writer catches up once a pass sees 8000 frames (passes every 1000) */
	assert_true(frames < 12000);
	assert_true(wal_max < 12000LL * (4096 + 24));
	ah_engine_free(e);
	ah_ledger_free(l);
	/* every commit is in the file: a new engine finds exactly the kept */
	assert_int_equal(ah_ledger_sqlite_open(dbpath, AH_DURABILITY_PROCESS, &l, err, sizeof err), 0);
	assert_int_equal(ah_engine_new(pol, l, 20 + 2 * PAIRS, &e), 0);
	assert_int_equal(ah_engine_alloc_count(e), kept);
	ah_engine_free(e);
	ah_ledger_free(l);
	free(pol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_wal_bounded_and_nothing_lost, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
