/* The engine over a SQLite ledger: what it holds in memory is what an
 * engine reloaded from the ledger holds, pending grows included, so the
 * reloaded one makes the same next decisions as one that never stopped. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <unistd.h>

#include "ahead/error.h"
#include "ahead/ledger_sqlite.h"
#include "engine_fixture.h"
#include "db_fixture.h"

static char path_live[256], path_crash[256];


static int setup(void **state)
{
	(void)state;
	snprintf(path_live, sizeof path_live, "/tmp/ahead-test-engine-ledger-%d-a.db", (int)getpid());
	snprintf(path_crash, sizeof path_crash, "/tmp/ahead-test-engine-ledger-%d-b.db", (int)getpid());
	db_fixture_unlink(path_live);
	db_fixture_unlink(path_crash);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	db_fixture_unlink(path_live);
	db_fixture_unlink(path_crash);
	return 0;
}

/* A sizer with a fixed cpu target per allocation id (0 = leave it). */
typedef struct {
	int64_t cpu[16];
} fixed_sizer;

static int fixed_target(void *ctx, uint64_t id, int dim, int64_t now_ns, int64_t used, int64_t reserved,
			const ah_resize_budget *budget, ah_size_target *out)
{
	(void)now_ns;
	(void)used;
	(void)reserved;
	(void)budget;
	fixed_sizer *z = ctx;
	if (dim != AH_DIM_CPU || id >= 16 || !z->cpu[id])
		return AH_ENOENT;
	out->reserve = z->cpu[id];
	return 0;
}

typedef struct {
	ah_ledger *led;
	ah_engine *e;
	fixed_sizer z;
} side;

static void side_open(side *s, const ah_policy *pol, const char *path, int64_t now)
{
	char err[256];
	assert_int_equal(ah_ledger_sqlite_open(path, AH_DURABILITY_PROCESS, &s->led, err, sizeof err), 0);
	assert_int_equal(ah_engine_new(pol, s->led, now, &s->e), 0);
	ah_sizer sz = {.ctx = &s->z, .target = fixed_target};
	ah_engine_set_sizer(s->e, &sz);
}

static void side_close(side *s)
{
	ah_engine_free(s->e);
	ah_ledger_free(s->led);
	s->e = NULL;
	s->led = NULL;
}

static uint64_t grant(side *s, const char *tenant, const char *klass, int64_t cpu)
{
	ah_request r = fx_req(tenant, klass, cpu, 0);
	r.lease_ttl_ns = 3600 * SEC;
	ah_decision d;
	assert_int_equal(ah_engine_request(s->e, &r, 0, &d), 0);
	assert_int_equal(d.outcome, AH_GRANTED);
	return d.id;
}

static ah_adjust_action report(side *s, uint64_t id, int64_t target, int64_t now)
{
	s->z.cpu[id] = target;
	ah_vec u = {0};
	for (int i = 0; i < AH_MAX_DIMS; i++)
		u.v[i] = AH_USAGE_NONE;
	u.v[AH_DIM_CPU] = 1;
	ah_adjust_outcome o;
	assert_int_equal(ah_engine_report_usage(s->e, id, &u, now, &o), 0);
	return o.action;
}

static int item_line(void *ctx, const ah_engine_item *it)
{
	char *buf = ctx;
	size_t n = strlen(buf);
	snprintf(buf + n, 4096 - n, "%llu%s:%s/%s/%s cpu=%lld exp=%lld; ", (unsigned long long)it->id,
		 it->queued ? "q" : "", it->tenant, it->pool, it->klass, (long long)it->res->v[AH_DIM_CPU],
		 (long long)it->expires_ns);
	return 0;
}

/* Everything a decision depends on, as text. */
static void snapshot(ah_engine *e, char *buf)
{
	ah_engine_pool_info pi;
	assert_int_equal(ah_engine_pool_get(e, 0, &pi), 0);
	snprintf(buf, 4096, "used=%lld wanted=%lld n_wanting=%d queued=%lld | ", (long long)pi.used->v[AH_DIM_CPU],
		 (long long)pi.wanted.v[AH_DIM_CPU], pi.n_wanting, (long long)pi.queued.v[AH_DIM_CPU]);
	assert_int_equal(ah_engine_foreach(e, item_line, buf), 0);
}

static void same_state(side *a, side *b)
{
	char x[4096], y[4096];
	snapshot(a->e, x);
	snapshot(b->e, y);
	assert_string_equal(x, y);
}

static int64_t cpu_of(side *s, uint64_t id)
{
	ah_engine_item it;
	assert_int_equal(ah_engine_get(s->e, id, &it), 0);
	return it.res->v[AH_DIM_CPU];
}

/* Both sides: gold G, batch B, standard S fill the pool; G's grow to 2500
 * waits. The crash side then restarts from its file. */
static void prefix(side *s, uint64_t *g, uint64_t *b, uint64_t *st)
{
	*g = grant(s, "a", "gold", 1000);
	*b = grant(s, "b", "batch", 1000);
	*st = grant(s, "c", "standard", 8000);
	assert_int_equal(report(s, *g, 2500, 1 * SEC), AH_ADJUST_GROW_BLOCKED);
}

static void test_pending_grow_survives_restart(void **state)
{
	(void)state;
	ah_policy *pol = fx_policy();
	side live = {0}, crash = {0};
	uint64_t g, b, st, g2, b2, st2;
	side_open(&live, pol, path_live, 0);
	side_open(&crash, pol, path_crash, 0);
	prefix(&live, &g, &b, &st);
	prefix(&crash, &g2, &b2, &st2);
	assert_true(g == g2 && b == b2 && st == st2);
	side_close(&crash);
	side_open(&crash, pol, path_crash, 2 * SEC);
	same_state(&live, &crash);
	ah_engine_pool_info pi;
	assert_int_equal(ah_engine_pool_get(crash.e, 0, &pi), 0);
	assert_int_equal(pi.n_wanting, 1);
	assert_int_equal(pi.wanted.v[AH_DIM_CPU], 1500);

	/* S shrinks by 500: the restored grow takes it, on both. */
	side *both[2] = {&live, &crash};
	for (int i = 0; i < 2; i++)
		assert_int_equal(report(both[i], st, 7500, 3 * SEC), AH_ADJUST_SHRINK);
	for (int i = 0; i < 2; i++)
		assert_int_equal(cpu_of(both[i], g), 1500);
	same_state(&live, &crash);
	/* B's own grow is blocked by G's pending one (higher priority). */
	for (int i = 0; i < 2; i++)
		assert_int_equal(report(both[i], b, 1500, 4 * SEC), AH_ADJUST_GROW_BLOCKED);
	/* A new request has no room: it queues at the same place on both. */
	ah_decision d[2];
	for (int i = 0; i < 2; i++) {
		ah_request r = fx_req("c", "standard", 500, 0);
		assert_int_equal(ah_engine_request(both[i]->e, &r, 5 * SEC, &d[i]), 0);
		assert_int_equal(d[i].outcome, AH_QUEUED);
	}
	assert_int_equal(d[0].id, d[1].id);
	assert_int_equal(d[0].queue_position, d[1].queue_position);
	same_state(&live, &crash);
	/* Room frees: G's grow first, then the queued request, then B's grow. */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(ah_engine_release(both[i]->e, st, 6 * SEC), 0);
		assert_int_equal(cpu_of(both[i], g), 2500);
		assert_int_equal(cpu_of(both[i], b), 1500);
		ah_engine_item it;
		assert_int_equal(ah_engine_get(both[i]->e, d[i].id, &it), 0);
		assert_false(it.queued);
	}
	same_state(&live, &crash);
	/* Served grows leave the ledger too: a second restart has none. */
	side_close(&crash);
	side_open(&crash, pol, path_crash, 7 * SEC);
	assert_int_equal(ah_engine_pool_get(crash.e, 0, &pi), 0);
	assert_int_equal(pi.n_wanting, 0);
	same_state(&live, &crash);
	side_close(&live);
	side_close(&crash);
	free(pol);
}

/* A pending grow's row goes with its allocation (release, expiry). */
static void test_pending_row_goes_with_allocation(void **state)
{
	(void)state;
	ah_policy *pol = fx_policy();
	side s = {0};
	uint64_t g, b, st;
	side_open(&s, pol, path_crash, 0);
	prefix(&s, &g, &b, &st);
	assert_int_equal(ah_engine_release(s.e, g, 2 * SEC), 0);
	side_close(&s);
	side_open(&s, pol, path_crash, 3 * SEC);
	ah_engine_pool_info pi;
	assert_int_equal(ah_engine_pool_get(s.e, 0, &pi), 0);
	assert_int_equal(pi.n_wanting, 0);
	assert_int_equal(pi.used->v[AH_DIM_CPU], 9000);
	side_close(&s);
	free(pol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pending_grow_survives_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_row_goes_with_allocation, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
