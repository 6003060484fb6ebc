/* Placement on known cases (include/ahead/placement.h): best fit on the
 * dominant resource against first fit, spread across nodes and across a
 * zone label, label constraints, a failure-aware choice, cordoned and
 * down nodes, refusals with their reasons, seeded random placement, and
 * the fragmentation figures of a hand-computed case. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/placement.h"

#define GiB (INT64_C(1) << 30)

static ah_dimset ds;
static int CPU, MEM;

static int setup(void **state)
{
	(void)state;
	ah_dimset_init(&ds);
	CPU = ah_dimset_find(&ds, "cpu");
	MEM = ah_dimset_find(&ds, "memory");
	return CPU < 0 || MEM < 0;
}

static ah_place_node node(const char *name, int64_t cpu_m, int64_t mem, int64_t used_cpu_m, int64_t used_mem)
{
	ah_place_node n;
	memset(&n, 0, sizeof n);
	n.name = name;
	n.capacity.v[CPU] = cpu_m;
	n.capacity.v[MEM] = mem;
	n.used.v[CPU] = used_cpu_m;
	n.used.v[MEM] = used_mem;
	return n;
}

static ah_place_request req(int64_t cpu_m, int64_t mem, int replicas)
{
	ah_place_request r;
	memset(&r, 0, sizeof r);
	r.demand.v[CPU] = cpu_m;
	r.demand.v[MEM] = mem;
	r.replicas = replicas;
	return r;
}

static ah_place_result place(const ah_place_node *nodes, size_t n, const ah_place_request *r, ah_place_strategy st)
{
	ah_place_opts o;
	ah_place_opts_init(&o);
	o.strategy = st;
	ah_place_result res;
	assert_int_equal(ah_place(nodes, n, &ds, r, &o, &res), 0);
	return res;
}

static void test_best_fit_vs_first_fit(void **state)
{
	(void)state;
	ah_place_node n[3] = {node("c", 8000, 32 * GiB, 0, 0), node("b", 8000, 32 * GiB, 2000, 0),
			      node("a", 8000, 32 * GiB, 6000, 0)};
	ah_place_request r = req(2000, 1 * GiB, 1);
	ah_place_result bf = place(n, 3, &r, AH_PLACE_BEST_FIT), ff = place(n, 3, &r, AH_PLACE_FIRST_FIT);
	assert_int_equal(bf.outcome, AH_PLACE_PLACED);
	assert_int_equal(bf.node[0], 2); /* a: left with no cpu */
	assert_int_equal(ff.node[0], 0); /* c: the first that fits */
	/* the dominant resource decides: memory here (6 GiB of 64 against 1
	 * core of 16); y is left with no memory, x with no cpu */
	ah_place_node m[2] = {node("x", 8000, 32 * GiB, 7000, 0), node("y", 8000, 32 * GiB, 0, 26 * GiB)};
	r = req(1000, 6 * GiB, 1);
	assert_int_equal(place(m, 2, &r, AH_PLACE_BEST_FIT).node[0], 1);
	r = req(1000, 1 * GiB, 1); /* now cpu dominates: x */
	assert_int_equal(place(m, 2, &r, AH_PLACE_BEST_FIT).node[0], 0);
}

static void test_spread_nodes(void **state)
{
	(void)state;
	/* all three fit on n0 (the tightest), yet each replica gets its own node */
	ah_place_node n[3] = {node("n0", 8000, 32 * GiB, 2000, 0), node("n1", 8000, 32 * GiB, 0, 0),
			      node("n2", 8000, 32 * GiB, 1000, 0)};
	ah_place_request r = req(1000, GiB, 3);
	ah_place_result res = place(n, 3, &r, AH_PLACE_BEST_FIT);
	assert_int_equal(res.outcome, AH_PLACE_PLACED);
	assert_int_equal(res.placed, 3);
	assert_int_equal(res.node[0], 0);
	assert_int_equal(res.node[1], 2);
	assert_int_equal(res.node[2], 1);
	/* replicas already there count: n0 holds one, so the next goes elsewhere */
	n[0].replicas = 1;
	r.replicas = 1;
	assert_int_equal(place(n, 3, &r, AH_PLACE_BEST_FIT).node[0], 2);
	/* a fourth replica on three nodes: two share one (never refused for spread) */
	n[0].replicas = 0;
	r.replicas = 4;
	res = place(n, 3, &r, AH_PLACE_BEST_FIT);
	assert_int_equal(res.outcome, AH_PLACE_PLACED);
	assert_int_equal(res.node[3], 0);
}

static void test_spread_zone(void **state)
{
	(void)state;
	ah_label za = {"zone", "a"}, zb = {"zone", "b"};
	ah_place_node n[3] = {node("a1", 8000, 32 * GiB, 4000, 0), node("a2", 8000, 32 * GiB, 3000, 0),
			      node("b1", 8000, 32 * GiB, 0, 0)};
	n[0].labels = &za, n[0].n_labels = 1;
	n[1].labels = &za, n[1].n_labels = 1;
	n[2].labels = &zb, n[2].n_labels = 1;
	ah_place_request r = req(1000, GiB, 2);
	/* without the zone: the two tightest nodes, both in zone a */
	ah_place_result res = place(n, 3, &r, AH_PLACE_BEST_FIT);
	assert_int_equal(res.node[0], 0);
	assert_int_equal(res.node[1], 1);
	/* with it: one in a (the tightest there), one in b */
	r.spread_label = "zone";
	res = place(n, 3, &r, AH_PLACE_BEST_FIT);
	assert_int_equal(res.node[0], 0);
	assert_int_equal(res.node[1], 2);
	/* a third replica: back to zone a, on the node without one */
	r.replicas = 3;
	res = place(n, 3, &r, AH_PLACE_BEST_FIT);
	assert_int_equal(res.node[2], 1);
}

static void test_labels(void **state)
{
	(void)state;
	ah_label ssd[2] = {{"disk", "ssd"}, {"zone", "a"}}, hdd = {"disk", "hdd"};
	ah_place_node n[2] = {node("h", 8000, 32 * GiB, 6000, 0), node("s", 8000, 32 * GiB, 0, 0)};
	n[0].labels = &hdd, n[0].n_labels = 1;
	n[1].labels = ssd, n[1].n_labels = 2;
	ah_place_request r = req(1000, GiB, 1);
	ah_label want = {"disk", "ssd"};
	r.select = &want;
	r.n_select = 1;
	assert_int_equal(place(n, 2, &r, AH_PLACE_BEST_FIT).node[0], 1); /* h is tighter, but hdd */
	ah_label nvme = {"disk", "nvme"};
	r.select = &nvme;
	ah_place_result res = place(n, 2, &r, AH_PLACE_BEST_FIT);
	assert_int_equal(res.outcome, AH_PLACE_NO_MATCH);
	assert_int_equal(res.placed, 0);
	assert_non_null(strstr(res.reason, "required labels"));
	assert_string_equal(ah_place_outcome_name(res.outcome), "no-match");
}

static void test_failure_aware(void **state)
{
	(void)state;
	ah_place_node n[2] = {node("flaky", 8000, 32 * GiB, 4000, 0), node("solid", 8000, 32 * GiB, 2000, 0)};
	n[0].kills = 2;
	n[0].failed_checks = 1;
	ah_place_request r = req(1000, GiB, 1);
	r.priority = 100; /* at the default failure_priority: the record decides */
	assert_int_equal(place(n, 2, &r, AH_PLACE_BEST_FIT).node[0], 1);
	r.priority = 10; /* a low class: best fit alone, the tighter flaky node */
	assert_int_equal(place(n, 2, &r, AH_PLACE_BEST_FIT).node[0], 0);
	/* the record never overrides room: flaky only when solid is full */
	n[1].used.v[CPU] = 8000;
	r.priority = 100;
	assert_int_equal(place(n, 2, &r, AH_PLACE_BEST_FIT).node[0], 0);
}

static void test_cordon_down_refusals(void **state)
{
	(void)state;
	ah_place_node n[3] = {node("c", 8000, 32 * GiB, 7000, 0), node("d", 8000, 32 * GiB, 0, 0),
			      node("u", 8000, 32 * GiB, 2000, 0)};
	n[0].cordoned = true;
	n[1].down = true;
	ah_place_request r = req(1000, GiB, 1);
	assert_int_equal(place(n, 3, &r, AH_PLACE_BEST_FIT).node[0], 2);
	n[2].cordoned = true;
	ah_place_result res = place(n, 3, &r, AH_PLACE_BEST_FIT);
	assert_int_equal(res.outcome, AH_PLACE_UNAVAILABLE);
	assert_non_null(strstr(res.reason, "cordoned or down"));
	n[2].cordoned = false;
	r = req(7000, GiB, 1); /* u has 6 cores free */
	res = place(n, 3, &r, AH_PLACE_BEST_FIT);
	assert_int_equal(res.outcome, AH_PLACE_NO_ROOM);
	assert_non_null(strstr(res.reason, "cpu short"));
	/* room for two of three: none placed */
	n[0].cordoned = false;
	n[1].down = false;
	n[0].used.v[CPU] = 8000; /* c full; d and u 4 cores free each: one replica each */
	n[1].used.v[CPU] = 4000;
	n[2].used.v[CPU] = 4000;
	r = req(3000, GiB, 3);
	res = place(n, 3, &r, AH_PLACE_BEST_FIT);
	assert_int_equal(res.outcome, AH_PLACE_TOO_FEW);
	assert_int_equal(res.placed, 0);
	assert_non_null(strstr(res.reason, "room for 2 of 3"));
	/* bad arguments */
	ah_place_opts o;
	ah_place_opts_init(&o);
	r.replicas = 0;
	assert_int_equal(ah_place(n, 3, &ds, &r, &o, &res), AH_EINVAL);
	r.replicas = AH_PLACE_REPLICAS_MAX + 1;
	assert_int_equal(ah_place(n, 3, &ds, &r, &o, &res), AH_EINVAL);
	r.replicas = 1;
	r.demand.v[CPU] = -1;
	assert_int_equal(ah_place(n, 3, &ds, &r, &o, &res), AH_EINVAL);
}

static void test_random(void **state)
{
	(void)state;
	ah_place_node n[3] = {node("a", 8000, 32 * GiB, 0, 0), node("b", 8000, 32 * GiB, 0, 0),
			      node("c", 8000, 32 * GiB, 7500, 0)};
	ah_place_request r = req(1000, GiB, 1);
	ah_place_opts o1, o2;
	ah_place_opts_init(&o1);
	o1.strategy = AH_PLACE_RANDOM;
	o1.seed = 42;
	o2 = o1;
	int seen[3] = {0};
	for (int i = 0; i < 300; i++) {
		ah_place_result a, b;
		assert_int_equal(ah_place(n, 3, &ds, &r, &o1, &a), 0);
		assert_int_equal(ah_place(n, 3, &ds, &r, &o2, &b), 0);
		assert_int_equal(a.node[0], b.node[0]); /* the same seed, the same choices */
		seen[a.node[0]]++;
	}
	assert_true(seen[0] > 100 && seen[1] > 100); /* about half each */
	assert_int_equal(seen[2], 0);                 /* c has no room */
}

static void test_fragmentation(void **state)
{
	(void)state;
	ah_place_node n[3] = {node("n1", 8000, 16 * GiB, 6000, 8 * GiB), node("n2", 8000, 16 * GiB, 7000, 2 * GiB),
			      node("off", 8000, 16 * GiB, 0, 0)};
	n[2].down = true; /* not counted */
	ah_vec q[2];
	memset(q, 0, sizeof q);
	q[0].v[CPU] = 3000, q[0].v[MEM] = 1 * GiB;
	q[1].v[CPU] = 1000, q[1].v[MEM] = 10 * GiB;
	ah_vec med;
	memset(&med, 0, sizeof med);
	med.v[CPU] = 2000, med.v[MEM] = 11 * GiB / 2;
	ah_place_frag f;
	assert_int_equal(ah_place_fragmentation(n, 3, &ds, q, 2, &med, &f), 0);
	/* n1 (2 cores, 8 GiB free) fits neither; n2 (1 core, 14 GiB) fits q[1] */
	assert_float_equal(f.stranded_pct[CPU], 100.0 * 2 / 16, 1e-9);
	assert_float_equal(f.stranded_pct[MEM], 100.0 * 8 / 32, 1e-9);
	assert_int_equal(f.nodes_stranded, 1);
	/* below the median request: n2's one core only */
	assert_float_equal(f.small_pct[CPU], 100.0 * 1 / 16, 1e-9);
	assert_float_equal(f.small_pct[MEM], 0, 1e-9);
	assert_float_equal(f.free_pct[CPU], 100.0 * 3 / 16, 1e-9);
	assert_float_equal(f.free_pct[MEM], 100.0 * 22 / 32, 1e-9);
	/* nothing queued: nothing stranded */
	assert_int_equal(ah_place_fragmentation(n, 3, &ds, NULL, 0, &med, &f), 0);
	assert_float_equal(f.stranded_pct[CPU], 0, 1e-9);
	assert_int_equal(f.nodes_stranded, 0);
}

/* The label grammar (names.h) through ah_labels_parse: order kept, each
 * refusal names the label. */
static void test_labels_parse(void **state)
{
	(void)state;
	ah_label l[AH_PLACE_LABELS_MAX];
	int n = -1;
	char err[256];
	assert_int_equal(ah_labels_parse("zone=eu-1,rack=r2,example.com/ssd=", l, AH_PLACE_LABELS_MAX, &n, err,
					 sizeof err),
			 0);
	assert_int_equal(n, 3);
	assert_string_equal(l[0].key, "zone");
	assert_string_equal(l[0].value, "eu-1");
	assert_string_equal(l[1].key, "rack");
	assert_string_equal(l[2].key, "example.com/ssd");
	assert_string_equal(l[2].value, "");
	assert_int_equal(ah_labels_parse("", l, AH_PLACE_LABELS_MAX, &n, err, sizeof err), 0);
	assert_int_equal(n, 0);
	n = 7;
	assert_int_equal(ah_labels_parse("Zone=a", l, AH_PLACE_LABELS_MAX, &n, err, sizeof err), AH_EINVAL);
	assert_non_null(strstr(err, "'Zone'"));
	assert_int_equal(n, 7); /* written only on success */
	assert_int_equal(ah_labels_parse("zone=a b", l, AH_PLACE_LABELS_MAX, &n, err, sizeof err), AH_EINVAL);
	assert_non_null(strstr(err, "value"));
	assert_int_equal(ah_labels_parse("zone", l, AH_PLACE_LABELS_MAX, &n, err, sizeof err), AH_EINVAL);
	assert_non_null(strstr(err, "key=value"));
	assert_int_equal(ah_labels_parse("zone=a,zone=b", l, AH_PLACE_LABELS_MAX, &n, err, sizeof err), AH_EINVAL);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(ah_labels_parse("zone=a,", l, AH_PLACE_LABELS_MAX, &n, err, sizeof err), AH_EINVAL);
	assert_int_equal(ah_labels_parse("a=1,b=2,c=3", l, 2, &n, err, sizeof err), AH_ETOOBIG);
	char longkey[AH_PLACE_LABEL_KEY_MAX + 8];
	memset(longkey, 'k', sizeof longkey - 3);
	strcpy(longkey + sizeof longkey - 3, "=v");
	assert_int_equal(ah_labels_parse(longkey, l, AH_PLACE_LABELS_MAX, &n, err, sizeof err), AH_EINVAL);
	assert_non_null(strstr(err, "at most"));
	assert_int_equal(n, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_best_fit_vs_first_fit),
		cmocka_unit_test(test_spread_nodes),
		cmocka_unit_test(test_spread_zone),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_failure_aware),
		cmocka_unit_test(test_cordon_down_refusals),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_fragmentation),
		cmocka_unit_test(test_labels_parse),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
