/* Pools on nodes in the engine (engine.h "Pools on nodes"): capacity from
 * the up nodes, a grant placed on one node whole (best fit, spread of one
 * workload), nothing placed on a cordoned or down node, a down node's
 * allocations moved or queued again (or ended with on_node_down = evict),
 * a drain that moves what fits and leaves the rest, grows held to the
 * node's room, and a policy's `nodes` keys validated. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>

#include "ahead/error.h"
#include "ahead/policy.h"
#include "engine_fixture.h"

typedef struct {
	ah_policy *pol;
	ah_engine *e;
	ah_engine_node n[4];
	ah_label lab[4][1];
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	f->pol = fx_policy();
	strcpy(f->pol->pools[0].nodes, "*");
	for (int d = 0; d < AH_MAX_DIMS; d++) {
		f->pol->pools[0].capacity.v[d] = 0;
		f->pol->pools[0].max_size.v[d] = AH_VALUE_MAX;
		f->pol->pools[0].min_size.v[d] = 0;
	}
	f->pol->queue_timeout_ns = 60 * SEC;
	assert_int_equal(ah_engine_new(f->pol, NULL, 0, &f->e), 0);
	/* n1: 4 cores 4Gi (zone a), n2: 8 cores 8Gi (zone a), n3: 4 cores 4Gi (zone b) */
	const char *names[] = {"n1", "n2", "n3"};
	int64_t cores[] = {4, 8, 4};
	const char *zone[] = {"a", "a", "b"};
	for (int i = 0; i < 3; i++) {
		snprintf(f->lab[i][0].key, sizeof f->lab[i][0].key, "zone");
		snprintf(f->lab[i][0].value, sizeof f->lab[i][0].value, "%s", zone[i]);
		f->n[i] = (ah_engine_node){.name = names[i], .labels = f->lab[i], .n_labels = 1, .up = true};
		f->n[i].capacity.v[AH_DIM_CPU] = cores[i] * 1000;
		f->n[i].capacity.v[AH_DIM_MEMORY] = cores[i] * GI;
		f->n[i].capacity.v[2] = 8;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	ah_engine_free(f->e);
	free(f->pol);
	free(f);
	return 0;
}

static ah_decision ask(fx *f, int64_t cpu, int64_t mem, const char *workload, int64_t now)
{
	ah_request r = fx_req("a", NULL, cpu, mem);
	r.workload = workload;
	ah_decision d;
	assert_int_equal(ah_engine_request(f->e, &r, now, &d), 0);
	return d;
}

static const char *node_of(fx *f, uint64_t id)
{
	ah_engine_item it;
	assert_int_equal(ah_engine_get(f->e, id, &it), 0);
	return it.queued ? "(queued)" : it.node;
}

static void test_capacity_and_best_fit(void **state)
{
	fx *f = *state;
	/* before any node is known a request waits (it is not "too big") */
	ah_decision d0 = ask(f, 1000, GI, NULL, 0);
	assert_int_equal(d0.outcome, AH_QUEUED);
	ah_node_moves m;
	assert_int_equal(ah_engine_set_nodes(f->e, f->n, 3, 1, &m), 0);
	ah_engine_pool_info pi;
	assert_int_equal(ah_engine_pool_get(f->e, 0, &pi), 0);
	assert_int_equal(pi.capacity->v[AH_DIM_CPU], 16000);
	assert_int_equal(pi.capacity->v[AH_DIM_MEMORY], 16 * GI);
	/* the waiting one was served when the nodes came: on a 4-core node
	 * (best fit leaves the least free share: n1 and n3 tie, n1 by index) */
	assert_string_equal(node_of(f, d0.id), "n1");
	/* 3 cores: n1 has 3 left after 1: best fit fills it */
	ah_decision d1 = ask(f, 3000, GI, NULL, 2);
	assert_int_equal(d1.outcome, AH_GRANTED);
	assert_string_equal(node_of(f, d1.id), "n1");
	/* 5 cores fits only n2 */
	ah_decision d2 = ask(f, 5000, GI, NULL, 3);
	assert_string_equal(node_of(f, d2.id), "n2");
	/* 5 cores more: the pool has 7 free in sum but no node has 5 whole */
	ah_decision d3 = ask(f, 5000, GI, NULL, 4);
	assert_int_equal(d3.outcome, AH_QUEUED);
	/* a request above every node's size is refused as never fitting */
	ah_decision d4 = ask(f, 9000, GI, NULL, 5);
	assert_int_equal(d4.outcome, AH_REFUSED);
	assert_int_equal(d4.reason, AH_R_TOO_BIG);
	ah_engine_node_info ni;
	assert_int_equal(ah_engine_node_get(f->e, 0, &ni), 0);
	assert_string_equal(ni.name, "n1");
	assert_int_equal(ni.used->v[AH_DIM_CPU], 4000);
	assert_int_equal(ni.n_allocs, 2);
	/* fragmentation: the queued 5 cores fit no node; n2 (3 free) and n3
	 * (4 free) strand 7 of 16 cores; the median allocation is 3 cores, and
	 * no node has a free piece below it but none (n1 has 0) */
	ah_place_frag fr;
	assert_int_equal(ah_engine_pool_fragmentation(f->e, 0, &fr), 0);
	assert_true(fabs(fr.stranded_pct[AH_DIM_CPU] - 100.0 * 7 / 16) < 1e-9);
	assert_int_equal(fr.nodes_stranded, 3); /* n1 has memory free, none of it usable by the queue */
	assert_true(fabs(fr.small_pct[AH_DIM_CPU]) < 1e-9);
	/* d1 (3 cores) ends: the median of 1 and 5 cores is taken as the upper,
	 * 5: every node's free cpu (3, 3, 4 cores) is a piece below it */
	assert_int_equal(ah_engine_release(f->e, d1.id, 6), 0);
	assert_int_equal(ah_engine_pool_fragmentation(f->e, 0, &fr), 0);
	assert_true(fabs(fr.small_pct[AH_DIM_CPU] - 100.0 * 10 / 16) < 1e-9);
}

static void test_spread_one_workload(void **state)
{
	fx *f = *state;
	strcpy(f->pol->pools[0].spread, "zone");
	ah_engine_free(f->e);
	assert_int_equal(ah_engine_new(f->pol, NULL, 0, &f->e), 0);
	assert_int_equal(ah_engine_set_nodes(f->e, f->n, 3, 1, NULL), 0);
	/* without spreading, best fit would stack these on n1 */
	const char *seen[3];
	for (int i = 0; i < 3; i++) {
		ah_decision d = ask(f, 1000, GI, "web", 2 + i);
		assert_int_equal(d.outcome, AH_GRANTED);
		seen[i] = node_of(f, d.id);
	}
	assert_string_not_equal(seen[0], seen[1]);
	assert_string_not_equal(seen[1], seen[2]);
	assert_string_not_equal(seen[0], seen[2]);
	/* another workload is not spread against web's: best fit */
	ah_decision o = ask(f, 3000, 3 * GI, "db", 9);
	assert_string_equal(node_of(f, o.id), "n1");
}

static void test_cordon_and_down(void **state)
{
	fx *f = *state;
	f->n[0].cordoned = true;
	f->n[2].up = false;
	assert_int_equal(ah_engine_set_nodes(f->e, f->n, 3, 1, NULL), 0);
	ah_engine_pool_info pi;
	assert_int_equal(ah_engine_pool_get(f->e, 0, &pi), 0);
	assert_int_equal(pi.capacity->v[AH_DIM_CPU], 12000); /* n3 down: not counted; n1 cordoned: still there */
	for (int i = 0; i < 4; i++) {
		ah_decision d = ask(f, 2000, GI, NULL, 2 + i);
		assert_int_equal(d.outcome, AH_GRANTED);
		assert_string_equal(node_of(f, d.id), "n2");
	}
	/* n2 is full: n1 has room but is cordoned, so it waits */
	ah_decision d = ask(f, 1000, GI, NULL, 7);
	assert_int_equal(d.outcome, AH_QUEUED);
	/* uncordon: served there */
	f->n[0].cordoned = false;
	assert_int_equal(ah_engine_set_nodes(f->e, f->n, 3, 8, NULL), 0);
	assert_string_equal(node_of(f, d.id), "n1");
}

static void test_node_down_moves_or_requeues(void **state)
{
	fx *f = *state;
	assert_int_equal(ah_engine_set_nodes(f->e, f->n, 3, 1, NULL), 0);
	ah_decision a = ask(f, 3000, GI, NULL, 2);  /* n1 */
	ah_decision b = ask(f, 4000, GI, NULL, 3);  /* n1 full -> n3 (4 cores, best fit) */
	ah_decision c = ask(f, 6000, GI, NULL, 4);  /* n2 */
	assert_string_equal(node_of(f, a.id), "n1");
	assert_string_equal(node_of(f, b.id), "n3");
	assert_string_equal(node_of(f, c.id), "n2");
	/* n1 goes down (absent from the list): a's 3 cores do not fit n2 (2
	 * left) or n3 (0 left): queued again under its id */
	ah_node_moves m;
	ah_engine_node two[2] = {f->n[1], f->n[2]};
	assert_int_equal(ah_engine_set_nodes(f->e, two, 2, 10, &m), 0);
	assert_int_equal(m.moved, 0);
	assert_int_equal(m.requeued, 1);
	assert_string_equal(node_of(f, a.id), "(queued)");
	/* c ends: a is served on n2 */
	assert_int_equal(ah_engine_release(f->e, c.id, 11), 0);
	assert_string_equal(node_of(f, a.id), "n2");
	/* n3 goes down too (n1 stays down): b (4 cores) moves to n2 (5 left) */
	f->n[0].up = false;
	f->n[2].up = false;
	assert_int_equal(ah_engine_set_nodes(f->e, f->n, 3, 12, &m), 0);
	assert_int_equal(m.moved, 1);
	assert_string_equal(node_of(f, b.id), "n2");
	ah_engine_node_info ni;
	assert_int_equal(ah_engine_node_get(f->e, 1, &ni), 0);
	assert_int_equal(ni.used->v[AH_DIM_CPU], 7000);
	assert_int_equal(ah_engine_node_get(f->e, 2, &ni), 0);
	assert_int_equal(ni.used->v[AH_DIM_CPU], 0);
}

static void test_node_down_evict(void **state)
{
	fx *f = *state;
	f->pol->pools[0].node_down_evict = true;
	ah_engine_free(f->e);
	assert_int_equal(ah_engine_new(f->pol, NULL, 0, &f->e), 0);
	ah_engine_node one[1] = {f->n[0]};
	assert_int_equal(ah_engine_set_nodes(f->e, one, 1, 1, NULL), 0);
	ah_decision a = ask(f, 3000, GI, NULL, 2);
	assert_int_equal(a.outcome, AH_GRANTED);
	one[0].up = false;
	ah_node_moves m;
	assert_int_equal(ah_engine_set_nodes(f->e, one, 1, 3, &m), 0);
	assert_int_equal(m.evicted, 1);
	ah_engine_item it;
	assert_int_equal(ah_engine_get(f->e, a.id, &it), AH_ENOENT);
}

static void test_drain(void **state)
{
	fx *f = *state;
	assert_int_equal(ah_engine_set_nodes(f->e, f->n, 3, 1, NULL), 0);
	ah_decision a = ask(f, 4000, GI, NULL, 2);  /* n1 (best fit) */
	ah_decision b = ask(f, 8000, GI, NULL, 3);  /* n2 */
	ah_decision c = ask(f, 1000, GI, NULL, 4);  /* n3 */
	assert_string_equal(node_of(f, a.id), "n1");
	assert_string_equal(node_of(f, b.id), "n2");
	assert_string_equal(node_of(f, c.id), "n3");
	/* drain n2: b (8 cores) fits nowhere else and stays; then drain n1: a
	 * (4 cores) fits nowhere whole (n3 has 3 left): stays too */
	f->n[1].draining = true;
	ah_node_moves m;
	assert_int_equal(ah_engine_set_nodes(f->e, f->n, 3, 5, &m), 0);
	assert_int_equal(m.moved, 0);
	assert_int_equal(m.left, 1);
	assert_string_equal(node_of(f, b.id), "n2");
	/* b ends; drain n3: c moves to n1? n1 is full (a): to n2? draining.
	 * Undrain n2 first, then drain n3: c goes to n2 */
	assert_int_equal(ah_engine_release(f->e, b.id, 6), 0);
	f->n[1].draining = false;
	f->n[2].draining = true;
	assert_int_equal(ah_engine_set_nodes(f->e, f->n, 3, 7, &m), 0);
	assert_int_equal(m.moved, 1);
	assert_string_equal(node_of(f, c.id), "n2");
	/* nothing is ever placed beyond a node's capacity */
	for (int i = 0; i < 3; i++) {
		ah_engine_node_info ni;
		assert_int_equal(ah_engine_node_get(f->e, i, &ni), 0);
		assert_true(ni.used->v[AH_DIM_CPU] <= ni.capacity->v[AH_DIM_CPU]);
	}
}

static void test_grow_held_to_node(void **state)
{
	fx *f = *state;
	assert_int_equal(ah_engine_set_nodes(f->e, f->n, 3, 1, NULL), 0);
	ah_decision a = ask(f, 3000, GI, NULL, 2); /* n1, 1 core left there */
	assert_string_equal(node_of(f, a.id), "n1");
	ah_vec r = {0};
	r.v[AH_DIM_CPU] = 5000;
	r.v[AH_DIM_MEMORY] = GI;
	/* the pool has 13 cores free, n1 only 1 */
	assert_int_equal(ah_engine_resize(f->e, a.id, &r, 3), AH_ECAPACITY);
	r.v[AH_DIM_CPU] = 4000;
	assert_int_equal(ah_engine_resize(f->e, a.id, &r, 4), 0);
	/* a usage-driven grow takes only the node's room */
	ah_vec u = {0};
	u.v[AH_DIM_CPU] = 3990;
	for (int d = 2; d < AH_MAX_DIMS; d++)
		u.v[d] = AH_USAGE_NONE;
	u.v[AH_DIM_MEMORY] = AH_USAGE_NONE;
	ah_adjust_outcome o;
	assert_int_equal(ah_engine_report_usage(f->e, a.id, &u, 5, &o), 0);
	assert_int_equal(o.action, AH_ADJUST_GROW_BLOCKED);
	assert_int_equal(o.res.v[AH_DIM_CPU], 4000);
}

static void test_failure_aware(void **state)
{
	fx *f = *state;
	assert_int_equal(ah_engine_set_nodes(f->e, f->n, 3, 1, NULL), 0);
	/* n1 goes down and comes back: one failed check, as the engine saw it */
	f->n[0].up = false;
	assert_int_equal(ah_engine_set_nodes(f->e, f->n, 3, 2, NULL), 0);
	f->n[0].up = true;
	assert_int_equal(ah_engine_set_nodes(f->e, f->n, 3, 3, NULL), 0);
	/* n3 reports enforcement errors; n1 and n3 are alike otherwise (4 cores) */
	f->n[2].enforce_errors = 0;
	assert_int_equal(ah_engine_set_nodes(f->e, f->n, 3, 4, NULL), 0);
	/* gold (priority 100: failure-aware) avoids n1, best fit then takes n3 */
	ah_request g = fx_req("a", "gold", 3000, GI);
	ah_decision d;
	assert_int_equal(ah_engine_request(f->e, &g, 5, &d), 0);
	assert_string_equal(node_of(f, d.id), "n3");
	/* batch (10) is not failure-aware: best fit, n1 by index */
	ah_request b = fx_req("a", "batch", 3000, GI);
	assert_int_equal(ah_engine_request(f->e, &b, 6, &d), 0);
	assert_string_equal(node_of(f, d.id), "n1");
	/* the record comes before the fit: n2 (8 cores, the worst fit) has no
	 * failure at all, n1 one down, n3 now 5 enforcement errors: gold takes
	 * n2; batch still goes by fit (n1 and n3 have 1 core left: n1 by index) */
	f->n[2].enforce_errors = 5;
	assert_int_equal(ah_engine_set_nodes(f->e, f->n, 3, 7, NULL), 0);
	g.res.v[AH_DIM_CPU] = 1000;
	assert_int_equal(ah_engine_request(f->e, &g, 8, &d), 0);
	assert_string_equal(node_of(f, d.id), "n2");
	b.res.v[AH_DIM_CPU] = 1000;
	assert_int_equal(ah_engine_request(f->e, &b, 9, &d), 0);
	assert_string_equal(node_of(f, d.id), "n1");
}

/* Steers the next grant to one node by cordoning the others. */
static ah_decision ask_on(fx *f, int node, int64_t cpu, int64_t now)
{
	for (int i = 0; i < 3; i++)
		f->n[i].cordoned = i != node;
	assert_int_equal(ah_engine_set_nodes(f->e, f->n, 3, now, NULL), 0);
	ah_decision d = ask(f, cpu, GI / 4, NULL, now);
	assert_int_equal(d.outcome, AH_GRANTED);
	return d;
}

static void rebalance_case(fx *f, bool on)
{
	f->pol->pools[0].rebalance = on;
	ah_engine_free(f->e);
	assert_int_equal(ah_engine_new(f->pol, NULL, 0, &f->e), 0);
	ah_decision p = ask_on(f, 1, 1000, 1), q = ask_on(f, 1, 2000, 2); /* n2: 5 of 8 free */
	ask_on(f, 0, 2000, 3);                                             /* n1: 2 of 4 free */
	ask_on(f, 2, 4000, 4);                                             /* n3: full */
	for (int i = 0; i < 3; i++)
		f->n[i].cordoned = false;
	ah_node_moves m;
	assert_int_equal(ah_engine_set_nodes(f->e, f->n, 3, 5, &m), 0);
	/* 6 cores: 7 free in sum, no node has 6 whole */
	ah_decision h = ask(f, 6000, GI / 4, NULL, 6);
	assert_int_equal(h.outcome, AH_QUEUED);
	assert_int_equal(ah_engine_set_nodes(f->e, f->n, 3, 7, &m), 0);
	if (!on) {
		assert_int_equal(m.rebalanced, 0);
		assert_string_equal(node_of(f, h.id), "(queued)");
		return;
	}
	/* one move, the smallest that frees enough: p (1 core) to n1 */
	assert_int_equal(m.rebalanced, 1);
	assert_string_equal(node_of(f, p.id), "n1");
	assert_string_equal(node_of(f, q.id), "n2");
	assert_string_equal(node_of(f, h.id), "n2");
	for (int i = 0; i < 3; i++) {
		ah_engine_node_info ni;
		assert_int_equal(ah_engine_node_get(f->e, i, &ni), 0);
		assert_true(ni.used->v[AH_DIM_CPU] <= ni.capacity->v[AH_DIM_CPU]);
	}
}

static void test_rebalance(void **state)
{
	rebalance_case(*state, true);
}

static void test_no_rebalance_by_default(void **state)
{
	rebalance_case(*state, false);
}

static void test_replicas_spread(void **state)
{
	fx *f = *state;
	assert_int_equal(ah_engine_set_nodes(f->e, f->n, 3, 1, NULL), 0);
	/* three replicas of one request, no workload named: best fit alone
	 * would stack all three on n1; they spread among themselves */
	ah_request r = fx_req("a", NULL, 1000, GI);
	ah_decision d[3];
	assert_int_equal(ah_engine_request_replicas(f->e, &r, 3, 2, d), 0);
	const char *seen[3];
	for (int i = 0; i < 3; i++) {
		assert_int_equal(d[i].outcome, AH_GRANTED);
		seen[i] = node_of(f, d[i].id);
	}
	assert_string_not_equal(seen[0], seen[1]);
	assert_string_not_equal(seen[1], seen[2]);
	assert_string_not_equal(seen[0], seen[2]);
	/* 3 replicas of 4 cores: n1 and n3 have 3 left, n2 7: one fits, the
	 * other two wait, each under its own id */
	r.res.v[AH_DIM_CPU] = 4000;
	r.workload = "big";
	assert_int_equal(ah_engine_request_replicas(f->e, &r, 3, 3, d), 0);
	assert_int_equal(d[0].outcome, AH_GRANTED);
	assert_string_equal(node_of(f, d[0].id), "n2");
	assert_int_equal(d[1].outcome, AH_QUEUED);
	assert_int_equal(d[2].outcome, AH_QUEUED);
	assert_true(d[1].id != d[2].id);
	/* out of range */
	assert_int_equal(ah_engine_request_replicas(f->e, &r, 0, 4, d), AH_EINVAL);
	assert_int_equal(ah_engine_request_replicas(f->e, &r, AH_PLACE_REPLICAS_MAX + 1, 4, d), AH_EINVAL);
}

static ah_decision ask_lab(fx *f, int64_t cpu, const char *labels, int64_t now)
{
	ah_request r = fx_req("a", NULL, cpu, GI);
	r.node_labels = labels;
	ah_decision d;
	assert_int_equal(ah_engine_request(f->e, &r, now, &d), 0);
	return d;
}

static void test_node_labels(void **state)
{
	fx *f = *state;
	assert_int_equal(ah_engine_set_nodes(f->e, f->n, 3, 1, NULL), 0);
	/* best fit alone would pick n1 (zone a) */
	ah_decision b = ask_lab(f, 1000, "zone=b", 2);
	assert_int_equal(b.outcome, AH_GRANTED);
	assert_string_equal(node_of(f, b.id), "n3");
	ah_engine_item it;
	assert_int_equal(ah_engine_get(f->e, b.id, &it), 0);
	assert_string_equal(it.node_labels, "zone=b");
	/* more than zone b's one node offers: can never fit there */
	ah_decision big = ask_lab(f, 6000, "zone=b", 3);
	assert_int_equal(big.outcome, AH_REFUSED);
	assert_int_equal(big.reason, AH_R_TOO_BIG);
	/* no node carries disk=ssd yet: it waits for one; kept canonical */
	ah_decision w = ask_lab(f, 1000, "zone=a,disk=ssd", 4);
	assert_int_equal(w.outcome, AH_QUEUED);
	assert_int_equal(ah_engine_get(f->e, w.id, &it), 0);
	assert_string_equal(it.node_labels, "disk=ssd,zone=a");
	/* it waits for a node, not for room: it blocks nobody meanwhile */
	ah_decision plain = ask_lab(f, 1000, "zone=a", 4);
	assert_int_equal(plain.outcome, AH_GRANTED);
	/* malformed: refused, naming the field */
	ah_decision bad = ask_lab(f, 1000, "zone", 5);
	assert_int_equal(bad.outcome, AH_REFUSED);
	assert_int_equal(bad.reason, AH_R_INVALID);
	assert_non_null(strstr(bad.message, "node_labels:"));
	/* n3 goes down: n1 and n2 have room, but not in zone b, so b is queued
	 * again rather than moved off its labels */
	f->n[2].up = false;
	ah_node_moves m;
	assert_int_equal(ah_engine_set_nodes(f->e, f->n, 3, 6, &m), 0);
	assert_int_equal(m.moved, 0);
	assert_int_equal(m.requeued, 1);
	assert_string_equal(node_of(f, b.id), "(queued)");
	/* n3 back: served there again */
	f->n[2].up = true;
	assert_int_equal(ah_engine_set_nodes(f->e, f->n, 3, 7, &m), 0);
	assert_int_equal(ah_engine_tick(f->e, 8), 0);
	assert_string_equal(node_of(f, b.id), "n3");
	/* a node gains disk=ssd in zone a: the waiting request lands there */
	ah_label lab[2] = {f->lab[0][0]};
	snprintf(lab[1].key, sizeof lab[1].key, "disk");
	snprintf(lab[1].value, sizeof lab[1].value, "ssd");
	f->n[0].labels = lab;
	f->n[0].n_labels = 2;
	assert_int_equal(ah_engine_set_nodes(f->e, f->n, 3, 9, &m), 0);
	assert_int_equal(ah_engine_tick(f->e, 10), 0);
	assert_string_equal(node_of(f, w.id), "n1");
}

static void test_no_rebalance_for_a_missing_node(void **state)
{
	fx *f = *state;
	f->pol->pools[0].rebalance = true;
	ah_engine_free(f->e);
	assert_int_equal(ah_engine_new(f->pol, NULL, 0, &f->e), 0);
	assert_int_equal(ah_engine_set_nodes(f->e, f->n, 3, 1, NULL), 0);
	ah_decision a = ask(f, 3000, GI, NULL, 2), b = ask(f, 7000, GI, NULL, 3);
	/* no node is in zone c: it waits for one, and moving a or b makes
	 * no room for it anywhere */
	ah_decision w = ask_lab(f, 2000, "zone=c", 4);
	assert_int_equal(w.outcome, AH_QUEUED);
	ah_node_moves m;
	assert_int_equal(ah_engine_set_nodes(f->e, f->n, 3, 5, &m), 0);
	assert_int_equal(m.rebalanced, 0);
	assert_int_equal(m.moved, 0);
	assert_string_equal(node_of(f, a.id), "n1");
	assert_string_equal(node_of(f, b.id), "n2");
}

static void test_node_labels_off_nodes(void **state)
{
	(void)state;
	ah_policy *pol = fx_policy();
	ah_engine *e;
	assert_int_equal(ah_engine_new(pol, NULL, 0, &e), 0);
	ah_request r = fx_req("a", NULL, 1000, GI);
	r.node_labels = "zone=a";
	ah_decision d;
	assert_int_equal(ah_engine_request(e, &r, 1, &d), 0);
	assert_int_equal(d.outcome, AH_REFUSED);
	assert_int_equal(d.reason, AH_R_INVALID);
	assert_non_null(strstr(d.message, "not on nodes"));
	ah_engine_free(e);
	free(pol);
}

static void test_policy_keys(void **state)
{
	(void)state;
	const char *ok = "[pool edge]\nnodes = zone=a,disk=ssd\nspread = zone\non_node_down = evict\nrebalance = on\n"
			 "[class standard]\npriority = 1\n";
	ah_policy *p = NULL;
	char err[512];
	assert_int_equal(ah_policy_load_string(ok, strlen(ok), "t.ini", &p, err, sizeof err), 0);
	assert_string_equal(p->pools[0].nodes, "zone=a,disk=ssd");
	assert_string_equal(p->pools[0].spread, "zone");
	assert_true(p->pools[0].node_down_evict);
	assert_true(p->pools[0].rebalance);
	ah_policy_free(p);
	struct {
		const char *text, *want;
	} bad[] = {
		{"[pool edge]\nnodes = *\ncapacity = cpu=4\n", "takes its capacity from them"},
		{"[pool edge]\nnodes = zone\n", "want key=value"},
		{"[pool edge]\nnodes =\n", "is empty"},
		{"[pool edge]\ncapacity = cpu=4\nspread = zone\n", "has no effect without 'nodes'"},
		{"[pool edge]\nnodes = *\non_node_down = later\n", "not one of requeue, evict"},
		{"[pool edge]\ncapacity = cpu=4\nrebalance = on\n", "has no effect without 'nodes'"},
		{"[pool edge]\nnodes = *\nspread = Zone!\n", "is not a label key"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char text[256];
		snprintf(text, sizeof text, "%s[class standard]\npriority = 1\n", bad[i].text);
		p = NULL;
		int rc = ah_policy_load_string(text, strlen(text), "t.ini", &p, err, sizeof err);
		assert_int_equal(rc, AH_EPOLICY);
		if (!strstr(err, bad[i].want))
			fail_msg("policy %zu: '%s' does not say '%s'", i, err, bad[i].want);
		ah_policy_free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_capacity_and_best_fit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spread_one_workload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cordon_and_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_down_moves_or_requeues, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_down_evict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grow_held_to_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_aware, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebalance, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_rebalance_by_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replicas_spread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_labels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_rebalance_for_a_missing_node, setup, teardown),
		cmocka_unit_test(test_node_labels_off_nodes),
		cmocka_unit_test(test_policy_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
