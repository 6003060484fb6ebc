/* The SQLite ledger: state survives close/reopen, expired leases are
 * reclaimed on start, two engines on one file stay consistent, events are
 * logged, and a file that is not a database is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <unistd.h>

#include "ahead/error.h"
#include "ahead/ledger_sqlite.h"
#include "db_fixture.h"
#include "engine_fixture.h"

static char dbpath[256];

static int setup(void **state)
{
	(void)state;
	snprintf(dbpath, sizeof dbpath, "/tmp/ahead-test-ledger-%d.db", (int)getpid());
	unlink(dbpath);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	db_fixture_unlink(dbpath);
	return 0;
}

static ah_engine *open_engine(ah_policy *pol, ah_ledger **led, int64_t now)
{
	char err[256];
	ah_engine *e = NULL;
	assert_int_equal(ah_ledger_sqlite_open(dbpath, AH_DURABILITY_PROCESS, led, err, sizeof err), 0);
	assert_int_equal(ah_engine_new(pol, *led, now, &e), 0);
	return e;
}

static ah_decision ask(ah_engine *e, ah_request r, int64_t now)
{
	ah_decision d;
	assert_int_equal(ah_engine_request(e, &r, now, &d), 0);
	return d;
}

static void test_state_survives_reopen(void **state)
{
	(void)state;
	ah_policy *pol = fx_policy();
	ah_ledger *led;
	ah_engine *e = open_engine(pol, &led, 0);
	ah_request r = fx_req("a", NULL, 3000, GI);
	r.params = "model=llama,tokens=4096";
	ah_decision d1 = ask(e, r, 0);
	ah_decision d2 = ask(e, fx_req("b", "batch", 4000, 0), 0);
	ah_decision d3 = ask(e, fx_req("c", NULL, 3000, 0), 0);
	ah_decision q = ask(e, fx_req("c", NULL, 4000, 0), 1);
	assert_int_equal(q.outcome, AH_QUEUED);
	assert_int_equal(ah_engine_release(e, d2.id, 2), 0);
	ah_engine_free(e);
	ah_ledger_free(led);

	e = open_engine(pol, &led, 3);
	ah_engine_item it;
	assert_int_equal(ah_engine_get(e, d1.id, &it), 0);
	assert_string_equal(it.params, "model=llama,tokens=4096");
	assert_int_equal(it.res->v[AH_DIM_MEMORY], GI);
	assert_string_equal(it.tenant, "a");
	assert_int_equal(ah_engine_get(e, d2.id, &it), AH_ENOENT);
	assert_int_equal(ah_engine_get(e, d3.id, &it), 0);
	/* The release at t=2 (4 cores) served the queued request (4 cores). */
	assert_int_equal(ah_engine_get(e, q.id, &it), 0);
	assert_false(it.queued);
	ah_engine_pool_info pi;
	assert_int_equal(ah_engine_pool_get(e, 0, &pi), 0);
	assert_int_equal(pi.used->v[AH_DIM_CPU], 10000);
	assert_int_equal(pi.n_allocs, 3);
	/* Ids keep growing across restarts. */
	ah_decision d4 = ask(e, fx_req("a", NULL, 1000, 0), 4);
	assert_true(d4.id > q.id);
	ah_engine_free(e);
	ah_ledger_free(led);
	free(pol);
}

static void sql(const char *q)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static int sql_int(const char *q)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* The load reads packed rows (schema 4); a row whose packed copy is gone
 * (an UPDATE by hand clears it) or broken loads from its columns, and so
 * does every row after it. */
static void test_packed_rows_fall_back(void **state)
{
	(void)state;
	ah_policy *pol = fx_policy();
	ah_ledger *led;
	ah_engine *e = open_engine(pol, &led, 0);
	ah_request r = fx_req("a", NULL, 1000, GI);
	r.params = "model=llama";
	ah_decision d1 = ask(e, r, 0);
	ah_decision d2 = ask(e, fx_req("b", "batch", 2000, 0), 0);
	ah_decision d3 = ask(e, fx_req("c", NULL, 3000, 2 * GI), 0);
	ah_engine_free(e);
	ah_ledger_free(led);
	assert_int_equal(sql_int("SELECT count(*) FROM allocations WHERE row_bin IS NOT NULL"), 3);

	char q[200];
	snprintf(q, sizeof q, "UPDATE allocations SET tenant='zed' WHERE id=%llu", (unsigned long long)d2.id);
	sql(q);
	snprintf(q, sizeof q, "SELECT row_bin IS NULL FROM allocations WHERE id=%llu", (unsigned long long)d2.id);
	assert_int_equal(sql_int(q), 1);
	snprintf(q, sizeof q, "UPDATE allocations SET row_bin=x'0102' WHERE id=%llu", (unsigned long long)d3.id);
	sql(q);

	e = open_engine(pol, &led, 1);
	ah_engine_item it;
	assert_int_equal(ah_engine_get(e, d1.id, &it), 0);
	assert_string_equal(it.tenant, "a");
	assert_string_equal(it.params, "model=llama");
	assert_int_equal(it.res->v[AH_DIM_MEMORY], GI);
	assert_int_equal(ah_engine_get(e, d2.id, &it), 0);
	assert_string_equal(it.tenant, "zed");
	assert_string_equal(it.klass, "batch");
	assert_int_equal(ah_engine_get(e, d3.id, &it), 0);
	assert_string_equal(it.tenant, "c");
	assert_int_equal(it.res->v[AH_DIM_CPU], 3000);
	assert_int_equal(it.res->v[AH_DIM_MEMORY], 2 * GI);
	ah_engine_pool_info pi;
	assert_int_equal(ah_engine_pool_get(e, 0, &pi), 0);
	assert_int_equal(pi.used->v[AH_DIM_CPU], 6000);
	ah_engine_free(e);
	ah_ledger_free(led);
	free(pol);
}

/* Loaded allocations whose expiries are not in id order still expire in
 * expiry order (the loader orders its heap only then). */
static void test_loaded_leases_expire_in_order(void **state)
{
	(void)state;
	ah_policy *pol = fx_policy();
	ah_ledger *led;
	ah_engine *e = open_engine(pol, &led, 0);
	const int64_t ttl_s[] = {300, 100, 400, 200, 500};
	uint64_t id[5];
	for (int i = 0; i < 5; i++) {
		ah_request r = fx_req("a", NULL, 1000, 0);
		r.lease_ttl_ns = ttl_s[i] * SEC;
		id[i] = ask(e, r, 0).id;
	}
	ah_engine_free(e);
	ah_ledger_free(led);

	e = open_engine(pol, &led, 0);
	ah_engine_item it;
	for (int64_t t = 150; t <= 450; t += 100) {
		assert_int_equal(ah_engine_tick(e, t * SEC), 0);
		for (int i = 0; i < 5; i++)
			assert_int_equal(ah_engine_get(e, id[i], &it), ttl_s[i] <= t ? AH_ENOENT : 0);
	}
	ah_engine_free(e);
	ah_ledger_free(led);
	free(pol);
}

static void test_expired_reclaimed_on_start(void **state)
{
	(void)state;
	ah_policy *pol = fx_policy();
	ah_ledger *led;
	ah_engine *e = open_engine(pol, &led, 0);
	ah_request r = fx_req("a", NULL, 3000, 0);
	r.lease_ttl_ns = 10 * SEC;
	ah_decision d = ask(e, r, 0);
	r.lease_ttl_ns = 100 * SEC;
	ah_decision keep = ask(e, r, 0);
	ah_engine_free(e);
	ah_ledger_free(led);
	e = open_engine(pol, &led, 20 * SEC);
	ah_engine_item it;
	assert_int_equal(ah_engine_get(e, d.id, &it), AH_ENOENT);
	assert_int_equal(ah_engine_get(e, keep.id, &it), 0);
	assert_int_equal(ah_engine_alloc_count(e), 1);
	ah_engine_free(e);
	ah_ledger_free(led);
	free(pol);
}

static int count_kind(void *ctx, const ah_event_row *ev)
{
	int *n = ctx;
	if (!strcmp(ev->kind, "expire"))
		n[0]++;
	if (!strcmp(ev->kind, "grant"))
		n[1]++;
	return 0;
}

static void test_events_logged(void **state)
{
	test_expired_reclaimed_on_start(state);
	ah_ledger *led;
	char err[256];
	assert_int_equal(ah_ledger_sqlite_open(dbpath, AH_DURABILITY_POWER, &led, err, sizeof err), 0);
	int n[2] = {0, 0};
	assert_int_equal(ah_ledger_sqlite_events(led, 0, 0, 0, count_kind, n), 0);
	assert_int_equal(n[0], 1);
	assert_int_equal(n[1], 2);
	ah_ledger_free(led);
}

static void test_two_engines_one_file(void **state)
{
	(void)state;
	ah_policy *pol = fx_policy();
	ah_ledger *l1, *l2;
	ah_engine *e1 = open_engine(pol, &l1, 0);
	ah_engine *e2 = open_engine(pol, &l2, 0);
	ah_decision a = ask(e1, fx_req("a", NULL, 6000, 0), 1);
	assert_int_equal(a.outcome, AH_GRANTED);
	/* e2 must see e1's allocation: 6 more cores do not fit. */
	ah_decision b = ask(e2, fx_req("b", NULL, 6000, 0), 2);
	assert_int_equal(b.outcome, AH_QUEUED);
	assert_true(b.id > a.id);
	/* e1 releases; it reloads first, so it serves e2's queued request. */
	assert_int_equal(ah_engine_release(e1, a.id, 3), 0);
	assert_int_equal(ah_engine_tick(e2, 4), 0);
	ah_engine_item it;
	assert_int_equal(ah_engine_get(e2, b.id, &it), 0);
	assert_false(it.queued);
	ah_engine_pool_info pi;
	assert_int_equal(ah_engine_pool_get(e2, 0, &pi), 0);
	assert_int_equal(pi.used->v[AH_DIM_CPU], 6000);
	assert_int_equal(ah_engine_pool_get(e1, 0, &pi), 0);
	assert_int_equal(pi.used->v[AH_DIM_CPU], 6000);
	ah_engine_free(e1);
	ah_engine_free(e2);
	ah_ledger_free(l1);
	ah_ledger_free(l2);
	free(pol);
}

static void test_not_a_database(void **state)
{
	(void)state;
	FILE *f = fopen(dbpath, "wb");
	assert_non_null(f);
	for (int i = 0; i < 4096; i++)
		fputc(i * 7 % 251, f);
	fclose(f);
	ah_ledger *led = NULL;
	char err[256] = "";
	int rc = ah_ledger_sqlite_open(dbpath, AH_DURABILITY_PROCESS, &led, err, sizeof err);
	assert_true(rc < 0);
	assert_null(led);
	assert_non_null(strstr(err, dbpath));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_state_survives_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_reclaimed_on_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_packed_rows_fall_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loaded_leases_expire_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_logged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_engines_one_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_database, setup, teardown),
	};
	return cmocka_run_group_tests_name("ledger_sqlite", tests, NULL, NULL);
}
