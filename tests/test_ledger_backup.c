/* Backup and restore of a SQLite ledger: a backup taken with live
 * allocations restores to exactly those rows (later changes gone), and a
 * file that is not a ledger is refused with the target left untouched. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ahead/error.h"
#include "ahead/ledger_sqlite.h"
#include "db_fixture.h"
#include "engine_fixture.h"

static char dbpath[256], bakpath[256], junkpath[256];


static int setup(void **state)
{
	(void)state;
	snprintf(dbpath, sizeof dbpath, "/tmp/ahead-test-backup-%d.db", (int)getpid());
	snprintf(bakpath, sizeof bakpath, "/tmp/ahead-test-backup-%d.bak", (int)getpid());
	snprintf(junkpath, sizeof junkpath, "/tmp/ahead-test-backup-%d.junk", (int)getpid());
	db_fixture_unlink(dbpath);
	db_fixture_unlink(bakpath);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	db_fixture_unlink(dbpath);
	db_fixture_unlink(bakpath);
	unlink(junkpath);
	return 0;
}

static int dump_row(void *ctx, const ah_ledger_row *r)
{
	char *buf = ctx;
	size_t n = strlen(buf);
	snprintf(buf + n, 4096 - n, "%llu:%s:%s:%lld:%lld:%lld;", (unsigned long long)r->id, r->tenant, r->params,
		 (long long)r->res.v[AH_DIM_CPU], (long long)r->res.v[AH_DIM_MEMORY], (long long)r->expires_ns);
	return 0;
}

/* Every allocation and queued request, as one string. */
static void dump(const char *path, const ah_policy *pol, char *out)
{
	ah_ledger *l;
	char err[256];
	uint64_t next;
	out[0] = '\0';
	assert_int_equal(ah_ledger_sqlite_open(path, AH_DURABILITY_PROCESS, &l, err, sizeof err), 0);
	ah_ledger_loader ld = {.ctx = out, .alloc = dump_row, .queued = dump_row};
	assert_int_equal(l->ops->load(l, &pol->dims, &ld, &next), 0);
	size_t n = strlen(out);
	snprintf(out + n, 4096 - n, "next=%llu", (unsigned long long)next);
	ah_ledger_free(l);
}

static ah_decision ask(ah_engine *e, const char *tenant, int64_t cpu, int64_t now)
{
	ah_request r = fx_req(tenant, NULL, cpu, GI);
	r.params = "k=v";
	ah_decision d;
	assert_int_equal(ah_engine_request(e, &r, now, &d), 0);
	return d;
}

static void test_backup_restore_round_trip(void **state)
{
	(void)state;
	ah_policy *pol = fx_policy();
	ah_ledger *l;
	ah_engine *e;
	char err[256], at_backup[4096], later[4096], restored[4096];
	assert_int_equal(ah_ledger_sqlite_open(dbpath, AH_DURABILITY_PROCESS, &l, err, sizeof err), 0);
	assert_int_equal(ah_engine_new(pol, l, 0, &e), 0);
	ah_decision d1 = ask(e, "a", 3000, 1);
	ask(e, "b", 4000, 2);
	assert_int_equal(ask(e, "c", 9000, 3).outcome, AH_QUEUED);
	/* Taken while the engine holds the ledger open. */
	assert_int_equal(ah_ledger_sqlite_backup(l, bakpath, err, sizeof err), 0);
	dump(dbpath, pol, at_backup);
	assert_non_null(strstr(at_backup, "1:a:k=v:3000:"));
	assert_int_equal(ah_engine_release(e, d1.id, 4), 0);
	ask(e, "a", 1000, 5);
	ah_engine_free(e);
	ah_ledger_free(l);
	dump(dbpath, pol, later);
	assert_string_not_equal(later, at_backup);
	dump(bakpath, pol, restored);
	assert_string_equal(restored, at_backup);

	assert_int_equal(ah_ledger_sqlite_restore(bakpath, dbpath, err, sizeof err), 0);
	dump(dbpath, pol, restored);
	assert_string_equal(restored, at_backup);
	/* The restored ledger is live: an engine opens it and allocates. */
	assert_int_equal(ah_ledger_sqlite_open(dbpath, AH_DURABILITY_PROCESS, &l, err, sizeof err), 0);
	assert_int_equal(ah_engine_new(pol, l, 6, &e), 0);
	assert_int_equal(ah_engine_alloc_count(e), 2);
	assert_int_equal(ah_engine_queue_count(e), 1);
	ah_engine_free(e);
	ah_ledger_free(l);
	free(pol);
}

static char *slurp(const char *path, long *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*len = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)*len + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)*len, f), (size_t)*len);
	fclose(f);
	return b;
}

static void test_restore_refuses_garbage(void **state)
{
	(void)state;
	ah_policy *pol = fx_policy();
	ah_ledger *l;
	ah_engine *e;
	char err[256] = "";
	assert_int_equal(ah_ledger_sqlite_open(dbpath, AH_DURABILITY_PROCESS, &l, err, sizeof err), 0);
	assert_int_equal(ah_engine_new(pol, l, 0, &e), 0);
	ask(e, "a", 3000, 1);
	ah_engine_free(e);
	ah_ledger_free(l);
	long n0, n1;
	char *before = slurp(dbpath, &n0);

	FILE *f = fopen(junkpath, "wb");
	assert_non_null(f);
	for (int i = 0; i < 512; i++)
		fputs("this is not a database. ", f);
	fclose(f);
	assert_int_not_equal(ah_ledger_sqlite_restore(junkpath, dbpath, err, sizeof err), 0);
	assert_non_null(strstr(err, "not an ahead ledger"));
	/* A database that is not a ledger is refused too. */
	unlink(junkpath);
	f = fopen(junkpath, "wb");
	fclose(f);
	err[0] = '\0';
	assert_int_not_equal(ah_ledger_sqlite_restore(junkpath, dbpath, err, sizeof err), 0);
	assert_non_null(strstr(err, "not an ahead ledger"));

	char *after = slurp(dbpath, &n1);
	assert_int_equal(n0, n1);
	assert_memory_equal(before, after, (size_t)n0);
	char tmp[300];
	snprintf(tmp, sizeof tmp, "%s.restore-%d", dbpath, (int)getpid());
	assert_int_not_equal(access(tmp, F_OK), 0);
	free(before);
	free(after);
	free(pol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_backup_restore_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_refuses_garbage, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
