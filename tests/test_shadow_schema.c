/* The shadow store's schema steps and what schema 2 added: a store of
 * schema 1 (built here with that schema's SQL, as an older ahead wrote it)
 * opens and is upgraded in place, keeping its rows; a newer schema is
 * refused untouched; each request dimension keeps its newest report and the
 * model that sized it. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "ahead/error.h"
#include "ahead/shadow.h"
#include "ahead/shadow_alloc.h"
#include "shadow_fixture.h"

#define S AH_NS_PER_S

/* Schema 1 verbatim, with one series point and one request record. */
static const char *schema1_sql =
	"PRAGMA journal_mode=WAL;"
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
	"CREATE TABLE series(id INTEGER PRIMARY KEY, workload TEXT NOT NULL,"
	" dim TEXT NOT NULL, granularity_ns INTEGER NOT NULL, UNIQUE(workload, dim));"
	"CREATE TABLE lane(id INTEGER PRIMARY KEY, series INTEGER NOT NULL,"
	" width_ns INTEGER NOT NULL, UNIQUE(series, width_ns));"
	"CREATE TABLE point(lane INTEGER NOT NULL, t INTEGER NOT NULL,"
	" v REAL NOT NULL, mx REAL, n INTEGER, PRIMARY KEY(lane, t)) WITHOUT ROWID;"
	"CREATE TABLE request(id INTEGER PRIMARY KEY, workload TEXT NOT NULL,"
	" start_ns INTEGER NOT NULL, end_ns INTEGER);"
	"CREATE INDEX request_by_workload ON request(workload, start_ns);"
	"CREATE INDEX request_by_end ON request(end_ns);"
	"CREATE TABLE request_param(req INTEGER NOT NULL, key TEXT NOT NULL,"
	" value TEXT NOT NULL, PRIMARY KEY(req, key)) WITHOUT ROWID;"
	"CREATE INDEX request_param_by_kv ON request_param(key, value);"
	"CREATE TABLE request_dim(req INTEGER NOT NULL, dim TEXT NOT NULL,"
	" peak REAL, mean REAL, predicted REAL, PRIMARY KEY(req, dim)) WITHOUT ROWID;"
	"INSERT INTO meta(key, value) VALUES('schema', 1);"
	"INSERT INTO series(id, workload, dim, granularity_ns) VALUES(1, 'etl', 'memory', 1000000000);"
	"INSERT INTO lane(id, series, width_ns) VALUES(1, 1, 1000000000);"
	"INSERT INTO point(lane, t, v) VALUES(1, 100, 512);"
	"INSERT INTO request(id, workload, start_ns, end_ns) VALUES(1, 'etl', 100000000000, NULL);"
	"INSERT INTO request_param(req, key, value) VALUES(1, 'ahead.alloc', '7');"
	"INSERT INTO request_dim(req, dim, peak, mean, predicted) VALUES(1, 'memory', 600, 400, 1000);";

static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		fail_msg("%s", msg ? msg : "sqlite3_exec");
	sqlite3_close(db);
}

static int raw_schema(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int v = -1;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key='schema'", -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static int count_point(void *ctx, const ah_shadow_point *p)
{
	(void)p;
	++*(int *)ctx;
	return 0;
}

static void test_schema1_upgrades_in_place(void **state)
{
	shadow_fixture *f = *state;
	char path[160];
	snprintf(path, sizeof path, "%s/old-shadow.db", f->dir);
	raw_exec(path, schema1_sql);
	assert_int_equal(raw_schema(path), 1);

	ah_shadow *s = NULL;
	assert_int_equal(ah_shadow_open(path, &s), 0);
	assert_int_equal(raw_schema(path), 2);
	/* the old rows are all there */
	ah_shadow_request *r = calloc(1, sizeof *r);
	assert_non_null(r);
	assert_int_equal(ah_shadow_request_get(s, 1, r), 0);
	assert_string_equal(r->workload, "etl");
	assert_int_equal(r->n_dims, 1);
	assert_true(r->dims[0].peak == 600 && r->dims[0].mean == 400 && r->dims[0].predicted == 1000);
	assert_true(isnan(r->dims[0].last));
	assert_int_equal(r->dims[0].last_ns, -1);
	assert_string_equal(r->dims[0].model, "");
	int64_t sid;
	int n = 0;
	assert_int_equal(ah_shadow_series_find(s, "etl", "memory", &sid), 0);
	assert_int_equal(ah_shadow_query(s, sid, 0, AH_SHADOW_T_MAX, 0, count_point, &n), 0);
	assert_int_equal(n, 1);
	/* and the new columns work on the upgraded file */
	const char *dims[] = {"memory"};
	double v[] = {700};
	assert_int_equal(ah_shadow_request_observe(s, 1, AH_SHADOW_REPORTS_KEY, 200 * S, dims, v, 1), 0);
	assert_int_equal(ah_shadow_request_get(s, 1, r), 0);
	assert_true(r->dims[0].last == 700 && r->dims[0].last_ns == 200 * S && r->dims[0].peak == 700);
	ah_shadow_free(s);

	/* opening again is a no-op */
	assert_int_equal(ah_shadow_open(path, &s), 0);
	assert_int_equal(raw_schema(path), 2);
	assert_int_equal(ah_shadow_request_get(s, 1, r), 0);
	assert_true(r->dims[0].last == 700);
	ah_shadow_free(s);
	free(r);
}

static void test_newer_schema_refused_untouched(void **state)
{
	shadow_fixture *f = *state;
	char path[160];
	snprintf(path, sizeof path, "%s/new-shadow.db", f->dir);
	raw_exec(path, "CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
		       "INSERT INTO meta(key, value) VALUES('schema', 3);");
	ah_shadow *s = NULL;
	assert_int_equal(ah_shadow_open(path, &s), AH_ESTORE);
	assert_null(s);
	assert_int_equal(raw_schema(path), 3);
}

static void test_last_report_and_model(void **state)
{
	shadow_fixture *f = *state;
	ah_dimset ds;
	ah_dimset_init(&ds);
	ah_vec pred = {{0}};
	int cpu = ah_dimset_find(&ds, "cpu"), mem = ah_dimset_find(&ds, "memory");
	pred.v[cpu] = 500;
	pred.v[mem] = 1000;
	ah_shadow_req_dim sized[AH_MAX_DIMS];
	memset(sized, 0, sizeof sized);
	snprintf(sized[mem].model, sizeof sized[mem].model, "regression");
	sized[mem].model_n = 6;
	int64_t a, b;
	assert_int_equal(ah_shadow_alloc_begin(f->s, 1, "etl", "rows=1", 10 * S, &ds, &pred, sized, &a), 0);
	assert_int_equal(ah_shadow_alloc_begin(f->s, 2, "etl", "rows=2", 10 * S, &ds, &pred, NULL, &b), 0);

	/* two allocations of one workload, each with its own last report */
	ah_vec u = {{0}};
	u.v[mem] = 300;
	assert_int_equal(ah_shadow_alloc_report(f->s, 1, 20 * S, &ds, &u, 1u << mem, NULL), 0);
	u.v[mem] = 900;
	u.v[cpu] = 250;
	assert_int_equal(ah_shadow_alloc_report(f->s, 2, 21 * S, &ds, &u, (1u << mem) | (1u << cpu), NULL), 0);
	u.v[mem] = 200;
	assert_int_equal(ah_shadow_alloc_report(f->s, 1, 30 * S, &ds, &u, 1u << mem, NULL), 0);
	/* a report from a clock stepped back merges but is not the newest */
	u.v[mem] = 50;
	assert_int_equal(ah_shadow_alloc_report(f->s, 1, 25 * S, &ds, &u, 1u << mem, NULL), 0);

	ah_shadow_request *r = calloc(1, sizeof *r);
	assert_non_null(r);
	assert_int_equal(ah_shadow_request_get(f->s, a, r), 0);
	const ah_shadow_req_dim *m = NULL, *c = NULL;
	for (int k = 0; k < r->n_dims; k++) {
		if (!strcmp(r->dims[k].dim, "memory"))
			m = &r->dims[k];
		if (!strcmp(r->dims[k].dim, "cpu"))
			c = &r->dims[k];
	}
	assert_non_null(m);
	assert_non_null(c);
	assert_true(m->last == 200 && m->last_ns == 30 * S && m->peak == 300);
	assert_string_equal(m->model, "regression");
	assert_int_equal(m->model_n, 6);
	assert_true(isnan(c->last) && c->last_ns == -1); /* predicted, never reported */
	assert_string_equal(c->model, "");

	assert_int_equal(ah_shadow_request_get(f->s, b, r), 0);
	for (int k = 0; k < r->n_dims; k++)
		if (!strcmp(r->dims[k].dim, "memory"))
			assert_true(r->dims[k].last == 900 && r->dims[k].last_ns == 21 * S);

	/* the end keeps the model; a model ending a record is ignored */
	ah_shadow_req_dim end = {.dim = "memory", .peak = NAN, .mean = NAN, .predicted = NAN, .model = "series",
				 .model_n = 1};
	assert_int_equal(ah_shadow_request_end(f->s, a, 40 * S, &end, 1), 0);
	assert_int_equal(ah_shadow_request_get(f->s, a, r), 0);
	for (int k = 0; k < r->n_dims; k++)
		if (!strcmp(r->dims[k].dim, "memory")) {
			assert_string_equal(r->dims[k].model, "regression");
			assert_true(r->dims[k].last == 200);
		}

	/* a model name out of the grammar is refused */
	ah_shadow_request bad = {.workload = "etl", .start_ns = 0, .end_ns = -1, .n_dims = 1};
	bad.dims[0] = (ah_shadow_req_dim){.dim = "cpu", .peak = NAN, .mean = NAN, .predicted = 1, .model = "Bad Name"};
	int64_t id;
	assert_int_equal(ah_shadow_request_add(f->s, &bad, &id), AH_EINVAL);
	bad.dims[0].model[0] = '\0';
	bad.dims[0].model_n = -1;
	snprintf(bad.dims[0].model, sizeof bad.dims[0].model, "group");
	assert_int_equal(ah_shadow_request_add(f->s, &bad, &id), AH_EINVAL);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schema1_upgrades_in_place, shadow_fixture_setup,
						shadow_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused_untouched, shadow_fixture_setup,
						shadow_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_last_report_and_model, shadow_fixture_setup,
						shadow_fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
