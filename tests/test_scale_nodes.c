/* Shaping a pool on nodes (docs/SCALING.md "Pools on nodes"): the scale
 * loop turns the scaler's per-dimension actions into whole nodes and runs
 * the hook as HOOK POOL nodes FROM TO [NODE]: a queue bigger than the
 * nodes asks for more nodes, once (not again while they have not joined);
 * the pool's capacity is only what joins; with the demand gone it removes
 * one empty node at a time, cordoned first and never one holding work, and
 * not below min_nodes; and the policy's keys are checked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/engine.h"
#include "ahead/error.h"
#include "ahead/ledger.h"
#include "ahead/policy.h"
#include "ahead/scale_loop.h"

#define S INT64_C(1000000000)
#define MIN (60 * S)
#define STEP (5 * MIN)
#define T0 (INT64_C(1700000000) * S)
#define GI (INT64_C(1) << 30)

static const char *policy_text =
	"[ahead]\ndefault_class = batch\nunknown_tenants = default\nqueue_timeout = 1d\nlease_ttl = 1d\n"
	"[tenant *]\n"
	"[pool edge]\nnodes = *\nshaping = on\nnode_size = cpu=4, memory=8Gi\nmin_nodes = 1\nmax_nodes = 4\n"
	"capacity_cost = cpu=0.04, memory=0.01\nstabilise = 10m\nscale_hook = /bin/true\n"
	"[class batch]\npriority = 10\nshortfall_cost = cpu=2, memory=0.25\n";

typedef struct {
	ah_policy *pol;
	ah_ledger *mem;
	ah_engine *e;
	ah_scale_loop *loop;
	ah_engine_node n[4];
	int hooks;                /* hook runs */
	ah_scale_action last;     /* the last hook's action */
	char cordoned[8][64];     /* cordon calls, "+name" or "-name" */
	int ncordon;
	bool hook_fails;
} fx;

static int fake_run(void *ctx, const ah_policy *pol, const ah_scale_action *a, ah_scale_result *r)
{
	(void)pol;
	fx *f = ctx;
	f->hooks++;
	f->last = *a;
	r->ran = true;
	r->attempts = 1;
	r->ok = !f->hook_fails;
	r->exit_status = f->hook_fails ? 1 : 0;
	return 0;
}

static int fake_cordon(void *ctx, const char *node, bool on)
{
	fx *f = ctx;
	if (f->ncordon < 8)
		snprintf(f->cordoned[f->ncordon++], sizeof f->cordoned[0], "%c%s", on ? '+' : '-', node);
	return 0;
}

static void set_nodes(fx *f, int n, int64_t now)
{
	assert_int_equal(ah_engine_set_nodes(f->e, f->n, n, now, NULL), 0);
}

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	char err[512];
	assert_int_equal(ah_policy_load_string(policy_text, strlen(policy_text), "t.ini", &f->pol, err, sizeof err), 0);
	assert_int_equal(ah_ledger_memory_new(64, &f->mem), 0);
	assert_int_equal(ah_engine_new(f->pol, f->mem, T0, &f->e), 0);
	ah_scale_loop_cfg c;
	ah_scale_loop_cfg_init(&c);
	c.record_events = true;
	assert_int_equal(ah_scale_loop_new(ah_engine_policy_get(f->e), &c, f->mem, T0, &f->loop), 0);
	const char *names[] = {"n1", "n2", "n3", "n4"};
	for (int i = 0; i < 4; i++) {
		f->n[i] = (ah_engine_node){.name = names[i], .up = true};
		f->n[i].capacity.v[AH_DIM_CPU] = 4000;
		f->n[i].capacity.v[AH_DIM_MEMORY] = 8 * GI;
	}
	set_nodes(f, 2, T0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	ah_scale_loop_free(f->loop);
	ah_engine_free(f->e);
	ah_ledger_free(f->mem);
	ah_policy_free(f->pol);
	free(f);
	return 0;
}

static uint64_t ask(fx *f, int64_t cpu, int64_t now, ah_outcome want)
{
	ah_request r = {.tenant = "t", .pool = "edge", .queue_timeout_ns = -1};
	r.res.v[AH_DIM_CPU] = cpu;
	r.res.v[AH_DIM_MEMORY] = GI;
	ah_decision d;
	assert_int_equal(ah_engine_request(f->e, &r, now, &d), 0);
	assert_int_equal(d.outcome, want);
	return d.id;
}

static void step(fx *f, int64_t now)
{
	ah_scale_exec ex = {.ctx = f, .run = fake_run, .cordon = fake_cordon};
	assert_int_equal(ah_scale_loop_step(f->loop, f->e, f->mem, now, &ex, false, NULL, NULL, NULL), 0);
}

static int64_t pool_cpu(fx *f)
{
	ah_engine_pool_info pi;
	assert_int_equal(ah_engine_pool_get(f->e, 0, &pi), 0);
	return pi.capacity->v[AH_DIM_CPU];
}

static void test_scale_up_then_down(void **state)
{
	fx *f = *state;
	/* 2 nodes of 4 cores; 3 x 3 cores: one waits (no node has 3 left) */
	uint64_t a = ask(f, 3000, T0 + 1, AH_GRANTED);
	uint64_t b = ask(f, 3000, T0 + 2, AH_GRANTED);
	uint64_t c = ask(f, 3000, T0 + 3, AH_QUEUED);
	step(f, T0 + STEP);
	assert_int_equal(f->hooks, 1);
	assert_true(f->last.on_nodes);
	assert_int_equal(f->last.nodes_from, 2);
	assert_true(f->last.nodes_to >= 3 && f->last.nodes_to <= 4);
	assert_string_equal(f->last.node, "");
	/* the capacity is only what joins, not what was asked for */
	assert_int_equal(pool_cpu(f), 8000);
	/* asked for already and not joined yet: no second hook */
	step(f, T0 + 2 * STEP);
	assert_int_equal(f->hooks, 1);
	/* the node joins: the queued request lands there */
	set_nodes(f, 3, T0 + 2 * STEP + 1);
	assert_int_equal(pool_cpu(f), 12000);
	ah_engine_item it;
	assert_int_equal(ah_engine_get(f->e, c, &it), 0);
	assert_false(it.queued);
	assert_string_equal(it.node, "n3");
	/* demand gone but a and b still hold n1 and n2: only n3 is empty */
	assert_int_equal(ah_engine_release(f->e, c, T0 + 2 * STEP + 2), 0);
	int hooks = f->hooks;
	int64_t t = T0 + 3 * STEP;
	for (int i = 0; i < 40 && f->hooks == hooks; i++, t += STEP)
		step(f, t);
	assert_int_equal(f->hooks, hooks + 1);
	assert_true(f->last.on_nodes);
	assert_int_equal(f->last.nodes_from, 3);
	assert_int_equal(f->last.nodes_to, 2);
	assert_string_equal(f->last.node, "n3");
	/* cordoned while the hook ran, uncordoned once it is gone (a node
	 * started later under its name must take work) */
	assert_int_equal(f->ncordon, 2);
	assert_string_equal(f->cordoned[0], "+n3");
	assert_string_equal(f->cordoned[1], "-n3");
	/* n1 and n2 hold work: never removed, however long the demand stays low */
	f->n[2].up = false;
	set_nodes(f, 3, t);
	hooks = f->hooks;
	for (int i = 0; i < 30; i++, t += STEP)
		step(f, t);
	assert_int_equal(f->hooks, hooks);
	/* b ends: n2 empties, and goes; n1 stays (min_nodes = 1, and a holds it) */
	assert_int_equal(ah_engine_release(f->e, b, t), 0);
	for (int i = 0; i < 40 && f->hooks == hooks; i++, t += STEP)
		step(f, t);
	assert_int_equal(f->hooks, hooks + 1);
	assert_int_equal(f->last.nodes_to, 1);
	assert_string_equal(f->last.node, "n2");
	(void)a;
}

static void test_failed_removal_uncordons(void **state)
{
	fx *f = *state;
	f->hook_fails = true;
	int64_t t = T0 + STEP;
	for (int i = 0; i < 40 && f->hooks == 0; i++, t += STEP)
		step(f, t);
	assert_int_equal(f->hooks, 1);
	assert_int_equal(f->last.nodes_to, 1);
	assert_int_equal(f->ncordon, 2);
	assert_string_equal(f->cordoned[0], "+n2");
	assert_string_equal(f->cordoned[1], "-n2");
	/* the capacity was never ahead's to change */
	assert_int_equal(pool_cpu(f), 8000);
}

static void bad(const char *pool_body, const char *needle)
{
	char text[1024], err[512] = "";
	snprintf(text, sizeof text, "[tenant t]\n[class c]\npriority = 1\n[pool edge]\nnodes = *\n%s", pool_body);
	ah_policy *p = NULL;
	int rc = ah_policy_load_string(text, strlen(text), "t.ini", &p, err, sizeof err);
	if (rc == 0 || !strstr(err, needle))
		fail_msg("%s: rc %d, err '%s' (wanted '%s')", pool_body, rc, err, needle);
	ah_policy_free(p);
}

static void test_policy_keys(void **state)
{
	(void)state;
	bad("shaping = on\nmax_nodes = 3\nscale_hook = /bin/true\ncapacity_cost = cpu=1\n", "needs node_size");
	bad("shaping = on\nnode_size = cpu=4\nscale_hook = /bin/true\ncapacity_cost = cpu=1\n", "needs max_nodes");
	bad("shaping = on\nnode_size = cpu=4\nmax_nodes = 3\ncapacity_cost = cpu=1\n", "needs a scale_hook");
	bad("shaping = on\nnode_size = cpu=4\nmax_nodes = 3\nscale_hook = /bin/true\n", "needs a capacity_cost for cpu");
	bad("shaping = on\nnode_size = cpu=4\nmin_nodes = 4\nmax_nodes = 3\nscale_hook = /bin/true\ncapacity_cost = cpu=1\n",
	    "above max_nodes");
	bad("node_size = cpu=4\n", "without shaping = on");
	bad("shaping = on\nnode_size = cpu=4\nmax_nodes = 3\nscale_hook = /bin/true\ncapacity_cost = cpu=1\n"
	    "max = cpu=8\n",
	    "takes its capacity from them");
	/* node_size without nodes */
	char err[512] = "";
	const char *t = "[tenant t]\n[class c]\npriority = 1\n[pool edge]\ncapacity = cpu=4\nnode_size = cpu=4\n";
	ah_policy *p = NULL;
	assert_true(ah_policy_load_string(t, strlen(t), "t.ini", &p, err, sizeof err) < 0);
	assert_non_null(strstr(err, "without 'nodes'"));
	/* a good one: bounds in whole nodes */
	const char *g = "[tenant t]\n[class c]\npriority = 1\nshortfall_cost = cpu=1\n[pool edge]\nnodes = *\nshaping = on\n"
			"node_size = cpu=4, memory=8Gi\nmin_nodes = 2\nmax_nodes = 5\nscale_hook = /bin/true\n"
			"capacity_cost = cpu=1, memory=0.1\n";
	assert_int_equal(ah_policy_load_string(g, strlen(g), "t.ini", &p, err, sizeof err), 0);
	assert_int_equal(p->pools[0].min_size.v[AH_DIM_CPU], 8000);
	assert_int_equal(p->pools[0].max_size.v[AH_DIM_CPU], 20000);
	assert_int_equal(p->pools[0].scale_step.v[AH_DIM_MEMORY], 8 * GI);
	ah_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scale_up_then_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_removal_uncordons, setup, teardown),
		cmocka_unit_test(test_policy_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
