/* A ledger written by the schema-v1 CLI (tests/data/ledger-v1.db, see
 * tests/data/README.md) opens, is migrated to the current schema with every
 * row intact, and takes new allocations; a newer schema is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ahead/engine.h"
#include "ahead/error.h"
#include "ahead/ledger_sqlite.h"
#include "db_fixture.h"

static char dbpath[256];

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	if (b)
		b[n] = '\0';
	fclose(f);
	return b;
}

static void copy_fixture(void)
{
	const char *src = getenv("AHEAD_SRC");
	char from[512], cmd[1200];
	snprintf(from, sizeof from, "%s/tests/data/ledger-v1.db", src ? src : ".");
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, dbpath);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dbpath, sizeof dbpath, "/tmp/ahead-test-migrate-%d.db", (int)getpid());
	copy_fixture();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	db_fixture_unlink(dbpath);
	return 0;
}

static int user_version(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int v = -1;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

typedef struct {
	const ah_dimset *dims;
	char allocs[512], queued[256];
} rows;

static int row_text(char *buf, size_t len, const ah_dimset *dims, const ah_ledger_row *r)
{
	char res[256];
	assert_int_equal(ah_vec_format(dims, &r->res, res, sizeof res), 0);
	size_t n = strlen(buf);
	snprintf(buf + n, len - n, "%llu:%s:%s:%s:%s:%s;", (unsigned long long)r->id, r->tenant, r->pool, r->klass, res,
		 r->params);
	return 0;
}

static int on_alloc(void *ctx, const ah_ledger_row *r)
{
	rows *c = ctx;
	return row_text(c->allocs, sizeof c->allocs, c->dims, r);
}

static int on_queued(void *ctx, const ah_ledger_row *r)
{
	rows *c = ctx;
	return row_text(c->queued, sizeof c->queued, c->dims, r);
}

static int count_event(void *ctx, const ah_event_row *ev)
{
	int *n = ctx;
	n[0]++;
	if (!strcmp(ev->kind, "scale") && strstr(ev->data, "\"dim\""))
		n[1]++;
	return 0;
}

static int count_demand(void *ctx, const ah_demand_row *r)
{
	(void)r;
	(*(int *)ctx)++;
	return 0;
}

static void test_v1_migrates_intact(void **state)
{
	(void)state;
	assert_int_equal(user_version(dbpath), 1);
	char err[512];
	ah_ledger *l;
	assert_int_equal(ah_ledger_sqlite_open(dbpath, AH_DURABILITY_PROCESS, &l, err, sizeof err), 0);
	assert_int_equal(user_version(dbpath), 7);

	char *text = NULL, *want = NULL;
	int64_t applied;
	const char *src = getenv("AHEAD_SRC");
	char ex[512];
	snprintf(ex, sizeof ex, "%s/examples/policy.ini", src ? src : ".");
	assert_non_null(want = slurp(ex));
	assert_int_equal(ah_ledger_policy_get(l, &text, &applied), 0);
	assert_string_equal(text, want);
	uint64_t gen;
	assert_int_equal(ah_ledger_policy_generation(l, &gen), 0);
	assert_int_equal(gen, 1);
	ah_policy *pol;
	assert_int_equal(ah_policy_load_string(text, strlen(text), "stored", &pol, err, sizeof err), 0);

	rows c = {.dims = &pol->dims};
	uint64_t next = 0;
	ah_ledger_loader ld = {.ctx = &c, .alloc = on_alloc, .queued = on_queued};
	assert_int_equal(l->ops->load(l, &pol->dims, &ld, &next), 0);
	assert_string_equal(c.allocs, "1:acme:general:standard:cpu=4,memory=8Gi:model=llama;"
				      "2:acme:gpu:standard:cpu=24,memory=32Gi,qubits=8:;"
				      "3:initech:gpu:batch:cpu=8,memory=16Gi:;"
				      "6:other:general:standard:cpu=1,memory=1Gi:;");
	assert_string_equal(c.queued, "5:acme:gpu:batch:cpu=4,memory=4Gi:;");
	assert_int_equal(next, 7);
	int n[2] = {0};
	assert_int_equal(ah_ledger_events(l, NULL, count_event, n), 0);
	assert_int_equal(n[0], 12);
	assert_int_equal(n[1], 2);
	int nd = 0;
	assert_int_equal(ah_ledger_demand_load(l, &pol->dims, 0, count_demand, &nd), 0);
	assert_int_equal(nd, 1);

	/* A new allocation, at the fixture's time (its leases are still live). */
	ah_engine *e;
	assert_int_equal(ah_engine_new(pol, l, applied + 1000000000LL, &e), 0);
	assert_int_equal(ah_engine_alloc_count(e), 4);
	assert_int_equal(ah_engine_queue_count(e), 1);
	ah_request r = {.tenant = "fresh", .pool = "general", .queue_timeout_ns = -1};
	r.res.v[AH_DIM_CPU] = 1000;
	r.res.v[AH_DIM_MEMORY] = 1LL << 30;
	ah_decision d;
	assert_int_equal(ah_engine_request(e, &r, applied + 2000000000LL, &d), 0);
	assert_int_equal(d.outcome, AH_GRANTED);
	assert_int_equal(d.id, 7);
	ah_engine_free(e);
	ah_ledger_free(l);

	/* Reopened: the new row is there, with its packed resources. */
	assert_int_equal(ah_ledger_sqlite_open(dbpath, AH_DURABILITY_PROCESS, &l, err, sizeof err), 0);
	memset(c.allocs, 0, sizeof c.allocs);
	memset(c.queued, 0, sizeof c.queued);
	assert_int_equal(l->ops->load(l, &pol->dims, &ld, &next), 0);
	assert_non_null(strstr(c.allocs, "7:fresh:general:standard:cpu=1,memory=1Gi:;"));
	ah_ledger_free(l);
	ah_policy_free(pol);
	free(text);
	free(want);
}

static void test_newer_schema_refused(void **state)
{
	(void)state;
	sqlite3 *db;
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	char err[512] = "";
	ah_ledger *l = NULL;
	assert_int_equal(ah_ledger_sqlite_open(dbpath, AH_DURABILITY_PROCESS, &l, err, sizeof err), AH_EUNSUPPORTED);
	assert_null(l);
	assert_non_null(strstr(err, "schema version 99 is newer"));
	assert_int_equal(user_version(dbpath), 99); /* left as it was */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_v1_migrates_intact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
