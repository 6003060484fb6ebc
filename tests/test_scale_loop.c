/* One controller: `ahead scale` (the service's scale step, a new process
 * per step that reloads the demand history and the stabilisation state from
 * the ledger, with the hook executor) and replay's shaped pool (one
 * long-lived loop over a memory ledger, hooks that succeed at once) make the
 * same decisions from the same demand. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ahead/engine.h"
#include "ahead/error.h"
#include "ahead/ledger.h"
#include "ahead/scale_loop.h"
#include "ahead/service.h"
#include "db_fixture.h"

#define S INT64_C(1000000000)
#define MIN (60 * S)
#define STEP (5 * MIN)
#define T0 (INT64_C(1700000000) * S)

/* lead_time 0: production carries an action out when decided, replay at
 * its ready time; with no lead time the two are the same instant, so the
 * capacities (and so every later decision) stay comparable. */
static const char *policy_text =
	"[ahead]\ndefault_class = batch\nunknown_tenants = default\nqueue_timeout = 1h\nlease_ttl = 1d\n"
	"[tenant *]\n"
	"[pool web]\ncapacity = cpu=16, memory=64Gi\nmin = cpu=4, memory=16Gi\nmax = cpu=128, memory=512Gi\n"
	"scale_step = cpu=4, memory=16Gi\nshaping = on\ncapacity_cost = cpu=0.04, memory=0.01\n"
	"create_cost = cpu=0.01, memory=0.0025\nstabilise = 15m\n"
	"[pool batch]\ncapacity = cpu=32, memory=128Gi\nmin = cpu=4, memory=16Gi\nmax = cpu=64, memory=256Gi\n"
	"scale_step = cpu=4, memory=16Gi\nshaping = on\ncapacity_cost = cpu=0.02, memory=0.005\n"
	"[class interactive]\npriority = 100\nquantile = 0.99\nshortfall_cost = cpu=2, memory=0.25\n"
	"[class batch]\npriority = 10\nshortfall_cost = cpu=0.02, memory=0.002\n";

typedef struct {
	int pool, dim, kind;
	int64_t from, to;
	int status;
} act;

typedef struct {
	act a[AH_SCALE_MAX_ACTIONS];
	int n;
} acts;

static void collect(void *ctx, const ah_policy *pol, const ah_scale_action *a, ah_scale_status st,
		    const char *reason, const ah_scale_result *r)
{
	(void)pol;
	(void)reason;
	(void)r;
	acts *c = ctx;
	assert_true(c->n < AH_SCALE_MAX_ACTIONS);
	c->a[c->n++] = (act){.pool = a->pool, .dim = a->dim, .kind = (int)a->kind, .from = a->from, .to = a->to,
			     .status = (int)st};
}

static int64_t wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * S + ts.tv_nsec;
}

/* Demand with a rise and a fall, so the pools scale up and down. */
static int64_t cpu_want(int step, int k)
{
	int phase = step % 48;
	int64_t level = phase < 24 ? phase : 48 - phase; /* 0..24 */
	return (500 + 250 * level) * (k + 1);        /* millicores */
}

typedef struct {
	ah_engine *eng; /* replay side */
	ah_ledger *mem;
	ah_scale_loop *loop;
	ah_policy *pol;
	char db[256];
} sides;

/* What one `ahead` process does: a fresh service over the ledger file. */
static ah_service *open_cli(const char *db, int64_t now)
{
	ah_service_opts o;
	ah_service_opts_init(&o);
	o.db_path = db;
	o.shadow_path = "";
	ah_service *svc = NULL;
	char err[512];
	if (ah_service_open(&o, now, &svc, err, sizeof err))
		fail_msg("open %s: %s", db, err);
	return svc;
}

static void request_both(sides *sd, int step, int k, uint64_t *id_a, uint64_t *id_b)
{
	const char *pools[] = {"web", "batch"};
	const char *classes[] = {"interactive", "batch"};
	ah_request rq = {.tenant = "t", .pool = pools[k % 2], .klass = classes[(k / 2) % 2], .queue_timeout_ns = -1};
	int c = ah_dimset_find(&sd->pol->dims, "cpu"), m = ah_dimset_find(&sd->pol->dims, "memory");
	rq.res.v[c] = cpu_want(step, k);
	rq.res.v[m] = rq.res.v[c] * 4 * 1024 * 1024; /* 4 MiB per millicore */
	int64_t now = T0 + step * STEP;
	ah_decision d;
	assert_int_equal(ah_engine_request(sd->eng, &rq, now, &d), 0);
	*id_a = d.outcome == AH_REFUSED ? 0 : d.id;

	ah_service *svc = open_cli(sd->db, now);
	ah_service_decision sdd;
	assert_int_equal(ah_service_request(svc, &rq, now, &sdd), 0);
	assert_int_equal(sdd.d.outcome, d.outcome);
	*id_b = sdd.d.outcome == AH_REFUSED ? 0 : sdd.d.id;
	ah_service_free(svc);
}

static void release_both(sides *sd, int step, uint64_t id_a, uint64_t id_b)
{
	int64_t now = T0 + step * STEP;
	if (id_a)
		assert_int_equal(ah_engine_release(sd->eng, id_a, now), 0);
	if (!id_b)
		return;
	ah_service *svc = open_cli(sd->db, now);
	assert_int_equal(ah_service_release(svc, id_b, now), 0);
	ah_service_free(svc);
}

static void setup_sides(sides *sd)
{
	memset(sd, 0, sizeof(*sd));
	snprintf(sd->db, sizeof sd->db, "/tmp/ahead-scale-loop-%d.db", (int)getpid());
	db_fixture_unlink(sd->db);
	char err[512];
	assert_int_equal(ah_service_policy_apply(sd->db, policy_text, strlen(policy_text), "test.ini", T0, &sd->pol,
						 err, sizeof err),
			 0);
	assert_int_equal(ah_ledger_memory_new(16, &sd->mem), 0);
	assert_int_equal(ah_engine_new(sd->pol, sd->mem, T0, &sd->eng), 0);
	ah_scale_loop_cfg c;
	ah_scale_loop_cfg_init(&c);
	c.record_events = true;
	assert_int_equal(ah_scale_loop_new(ah_engine_policy_get(sd->eng), &c, sd->mem, T0, &sd->loop), 0);
}

static void teardown_sides(sides *sd)
{
	ah_scale_loop_free(sd->loop);
	ah_engine_free(sd->eng);
	ah_ledger_free(sd->mem);
	ah_policy_free(sd->pol);
	db_fixture_unlink(sd->db);
}

static void same_decisions(void **state)
{
	(void)state;
	sides sd;
	setup_sides(&sd);
	enum { NW = 6, STEPS = 150 };
	uint64_t ia[NW] = {0}, ib[NW] = {0};
	int total = 0, ups = 0, downs = 0;
	const ah_scale_exec replay_exec = {.run = NULL, .at_ready_time = true};
	ah_scale_hook_ctx hc = {.now_ns = wall_now};
	const ah_scale_exec hook_exec = {.ctx = &hc, .run = ah_scale_hook_run};
	for (int step = 0; step < STEPS; step++) {
		/* Each workload is re-requested at its new size every 4 steps. */
		for (int k = 0; k < NW; k++) {
			if ((step + k) % 4)
				continue;
			release_both(&sd, step, ia[k], ib[k]);
			request_both(&sd, step, k, &ia[k], &ib[k]);
		}
		int64_t now = T0 + step * STEP + 30 * S;
		acts a = {0}, b = {0};
		assert_int_equal(ah_scale_loop_step(sd.loop, sd.eng, sd.mem, now, &replay_exec, false, collect, &a, NULL),
				 0);
		/* `ahead scale`: a fresh service over the ledger file. */
		ah_service *svc = open_cli(sd.db, now);
		assert_int_equal(ah_service_scale_step(svc, now, &hook_exec, false, collect, &b, NULL), 0);
		ah_service_free(svc);
		if (a.n != b.n)
			fail_msg("step %d: replay decided %d actions, ahead scale %d", step, a.n, b.n);
		for (int i = 0; i < a.n; i++) {
			if (memcmp(&a.a[i], &b.a[i], sizeof(act)) != 0)
				fail_msg("step %d action %d: replay pool %d dim %d %lld->%lld (%d), scale pool %d dim %d "
					 "%lld->%lld (%d)",
					 step, i, a.a[i].pool, a.a[i].dim, (long long)a.a[i].from, (long long)a.a[i].to,
					 a.a[i].status, b.a[i].pool, b.a[i].dim, (long long)b.a[i].from,
					 (long long)b.a[i].to, b.a[i].status);
			assert_int_equal(a.a[i].status, AH_SCALE_DONE);
			if (a.a[i].to > a.a[i].from)
				ups++;
			else
				downs++;
		}
		total += a.n;
	}
	/* The comparison means something only if the loop acted both ways. */
	print_message("%d actions (%d up, %d down) identical over %d steps\n", total, ups, downs, STEPS);
	assert_true(ups >= 2);
	assert_true(downs >= 2);
	teardown_sides(&sd);
}

/* Replay's executor holds an action until its ready time (the simulated
 * lead time); the hook executor carries it out when decided. */
static void lead_time_in_replay(void **state)
{
	(void)state;
	const char *text = "[ahead]\nunknown_tenants = default\n[tenant *]\n"
			   "[pool p]\ncapacity = cpu=4\nmin = cpu=4\nmax = cpu=64\nscale_step = cpu=4\nshaping = on\n"
			   "capacity_cost = cpu=0.01\nlead_time = 10m\n[class c]\npriority = 1\nshortfall_cost = cpu=5\n";
	ah_policy *pol;
	char err[512];
	assert_int_equal(ah_policy_load_string(text, strlen(text), "t.ini", &pol, err, sizeof err), 0);
	ah_ledger *mem;
	ah_engine *e;
	assert_int_equal(ah_ledger_memory_new(16, &mem), 0);
	assert_int_equal(ah_engine_new(pol, mem, T0, &e), 0);
	ah_scale_loop *l;
	assert_int_equal(ah_scale_loop_new(ah_engine_policy_get(e), NULL, mem, T0, &l), 0);
	ah_request rq = {.tenant = "t", .pool = "p", .queue_timeout_ns = 3600 * S};
	rq.res.v[ah_dimset_find(&pol->dims, "cpu")] = 12000; /* needs 12 cores, the pool has 4 */
	ah_decision d;
	assert_int_equal(ah_engine_request(e, &rq, T0, &d), 0);
	assert_int_equal(d.outcome, AH_QUEUED);
	const ah_scale_exec replay_exec = {.at_ready_time = true};
	ah_scale_step_out o;
	int64_t grow_at = -1;
	for (int step = 1; step <= 6 && grow_at < 0; step++) {
		int64_t now = T0 + step * STEP;
		assert_int_equal(ah_scale_loop_step(l, e, mem, now, &replay_exec, false, NULL, NULL, &o), 0);
		ah_engine_pool_info pi;
		assert_int_equal(ah_engine_pool_get(e, 0, &pi), 0);
		if (o.n_decided)
			assert_int_equal(o.n_done, 0); /* decided now, ready 10 minutes later */
		if (pi.capacity->v[ah_dimset_find(&pol->dims, "cpu")] >= 12000)
			grow_at = step;
	}
	assert_true(grow_at >= 3); /* decided at step 1 at the earliest, ready two steps later */
	assert_int_equal(ah_engine_queue_count(e), 0); /* the queued request got the new room */
	ah_scale_loop_free(l);
	ah_engine_free(e);
	ah_ledger_free(mem);
	ah_policy_free(pol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_decisions),
		cmocka_unit_test(lead_time_in_replay),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
