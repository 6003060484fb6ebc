/* Tests for the policy loader (include/ahead/policy.h, docs/POLICY.md).
 * Fixtures live in tests/data/policy/, found through $AHEAD_SRC. */
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
#include "ahead/policy.h"

#define S (INT64_C(1000000000))
#define GI ((int64_t)1 << 30)

static const char *src_dir(void)
{
	const char *s = getenv("AHEAD_SRC");
	return s && *s ? s : ".";
}

static void fixture(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/tests/data/policy/%s", src_dir(), name);
}

static ah_policy *load_ok(const char *path)
{
	char err[1024] = "";
	ah_policy *p = NULL;
	int rc = ah_policy_load_file(path, &p, err, sizeof(err));
	if (rc != 0)
		fail_msg("%s: rc=%s err=%s", path, ah_strerror_name(rc), err);
	assert_non_null(p);
	return p;
}

static ah_policy *load_str_ok(const char *text)
{
	char err[1024] = "";
	ah_policy *p = NULL;
	int rc = ah_policy_load_string(text, strlen(text), "inline", &p, err, sizeof(err));
	if (rc != 0)
		fail_msg("rc=%s err=%s\n%s", ah_strerror_name(rc), err, text);
	return p;
}

static void test_example(void **state)
{
	(void)state;
	char path[4096];
	snprintf(path, sizeof(path), "%s/examples/policy.ini", src_dir());
	ah_policy *p = load_ok(path);

	assert_int_equal(p->lease_ttl_ns, 5 * 60 * S);
	assert_int_equal(p->max_lease_ttl_ns, 24 * 3600 * S);
	assert_int_equal(p->queue_timeout_ns, 30 * S);
	assert_false(p->autocorrect);
	assert_true(p->unknown_tenants);
	assert_int_equal(p->durability, AH_DURABILITY_PROCESS);

	/* dimensions: built-ins, then qubits */
	assert_int_equal(p->dims.n, 5);
	int q = ah_dimset_find(&p->dims, "qubits");
	assert_int_equal(q, 4);
	assert_int_equal(p->dims.kind[q], AH_UNIT_COUNT);

	assert_int_equal(p->n_pools, 2);
	int g = ah_policy_find_pool(p, "general");
	assert_int_equal(g, 0);
	const ah_pool_policy *gp = &p->pools[g];
	assert_int_equal(gp->capacity.v[AH_DIM_CPU], 64000);
	assert_int_equal(gp->capacity.v[AH_DIM_MEMORY], 256 * GI);
	assert_int_equal(gp->capacity.v[AH_DIM_IO], 2 * GI);
	assert_int_equal(gp->capacity.v[AH_DIM_NET], INT64_C(10000000000));
	assert_int_equal(gp->capacity.v[q], 0);
	assert_int_equal(gp->min_size.v[AH_DIM_CPU], 16000);
	assert_int_equal(gp->min_size.v[AH_DIM_MEMORY], 64 * GI);
	assert_int_equal(gp->min_size.v[AH_DIM_IO], 2 * GI); /* not named: = capacity */
	assert_int_equal(gp->max_size.v[AH_DIM_CPU], 128000);
	assert_int_equal(gp->max_size.v[AH_DIM_MEMORY], 512 * GI);
	assert_int_equal(gp->max_size.v[AH_DIM_NET], INT64_C(10000000000));
	assert_int_equal(gp->unit.v[AH_DIM_CPU], 100);
	assert_int_equal(gp->unit.v[AH_DIM_MEMORY], 64 << 20);
	assert_int_equal(gp->unit.v[AH_DIM_IO], 1);
	assert_int_equal(gp->unit.v[q], 1);
	assert_int_equal(gp->min_request.v[AH_DIM_CPU], 100);
	assert_int_equal(gp->headroom.v[AH_DIM_CPU], 4000);
	assert_int_equal(gp->headroom.v[AH_DIM_MEMORY], 16 * GI);
	assert_int_equal(gp->headroom_priority, 100);
	assert_int_equal(gp->max_queue, 10000);

	int gpu = ah_policy_find_pool(p, "gpu");
	assert_int_equal(gpu, 1);
	const ah_pool_policy *pg = &p->pools[gpu];
	assert_int_equal(pg->capacity.v[q], 64);
	assert_int_equal(pg->max_size.v[q], 128);
	assert_int_equal(pg->unit.v[q], 2);
	assert_int_equal(pg->unit.v[AH_DIM_CPU], 500);
	assert_int_equal(pg->unit.v[AH_DIM_MEMORY], GI);
	assert_int_equal(pg->min_request.v[q], 2);
	assert_int_equal(pg->max_queue, 100);
	/* headroom_priority not given: the top class priority */
	assert_int_equal(pg->headroom_priority, 100);

	assert_int_equal(p->n_classes, 3);
	int gold = ah_policy_find_class(p, "gold");
	int std = ah_policy_find_class(p, "standard");
	int batch = ah_policy_find_class(p, "batch");
	assert_true(gold >= 0 && std >= 0 && batch >= 0);
	assert_int_equal(p->default_class, std);
	assert_int_equal(p->classes[gold].priority, 100);
	assert_true(p->classes[gold].quantile == 0.99);
	assert_true(p->classes[gold].margin == 0.1);
	assert_true(p->classes[gold].preempt);
	assert_int_equal(p->classes[gold].lease_ttl_ns, 3600 * S);
	assert_int_equal(p->classes[gold].queue_timeout_ns, 300 * S);
	assert_int_equal(p->classes[gold].max_request.v[AH_DIM_CPU], AH_UNLIMITED);
	assert_int_equal(p->classes[std].priority, 50);
	assert_true(p->classes[std].quantile == 0.95);
	assert_false(p->classes[std].preempt);
	assert_int_equal(p->classes[std].lease_ttl_ns, 0);
	assert_int_equal(p->classes[std].max_request.v[AH_DIM_CPU], 32000);
	assert_int_equal(p->classes[std].max_request.v[AH_DIM_MEMORY], 128 * GI);
	assert_int_equal(p->classes[std].max_request.v[AH_DIM_NET], AH_UNLIMITED);
	assert_int_equal(p->classes[std].max_request.v[q], AH_UNLIMITED);
	assert_true(p->classes[batch].quantile == 0.5);
	assert_true(p->classes[batch].margin == 0.0);
	assert_int_equal(p->classes[batch].max_request.v[q], 8);

	assert_int_equal(p->n_tenants, 2);
	int acme = ah_policy_find_tenant(p, "acme");
	assert_true(acme >= 0);
	assert_int_equal(p->tenants[acme].quota.v[AH_DIM_CPU], 32000);
	assert_int_equal(p->tenants[acme].quota.v[AH_DIM_MEMORY], 128 * GI);
	assert_int_equal(p->tenants[acme].quota.v[q], 16);
	assert_int_equal(p->tenants[acme].quota.v[AH_DIM_IO], AH_UNLIMITED);
	assert_true(p->tenants[acme].rate_per_s == 50.0);
	assert_true(p->tenants[acme].burst == 100.0);
	assert_true(ah_policy_find_tenant(p, "initech") >= 0);
	assert_int_equal(ah_policy_find_tenant(p, "*"), -1);
	assert_int_equal(ah_policy_find_tenant(p, "nobody"), -1);
	assert_int_equal(ah_policy_find_pool(p, "nope"), -1);
	assert_int_equal(ah_policy_find_class(p, NULL), -1);
	assert_string_equal(p->default_tenant.name, "*");
	assert_int_equal(p->default_tenant.quota.v[AH_DIM_CPU], 2000);
	assert_int_equal(p->default_tenant.quota.v[q], 0);
	assert_int_equal(p->default_tenant.quota.v[AH_DIM_NET], AH_UNLIMITED);
	assert_true(p->default_tenant.rate_per_s == 1.0);
	assert_true(p->default_tenant.burst == 5.0);
	ah_policy_free(p);
}

static void test_defaults(void **state)
{
	(void)state;
	ah_policy *p = load_str_ok("[pool p]\ncapacity = cpu=4\n[class c]\npriority = 7\n"
				   "[tenant t]\nrate = 0.5\n[tenant u]\nrate = 20\n");
	assert_int_equal(p->lease_ttl_ns, 300 * S);
	assert_int_equal(p->max_lease_ttl_ns, 86400 * S);
	assert_int_equal(p->queue_timeout_ns, 30 * S);
	assert_false(p->autocorrect);
	assert_false(p->unknown_tenants);
	assert_int_equal(p->durability, AH_DURABILITY_PROCESS);
	assert_int_equal(p->max_clock_skew_ns, -1); /* auto: the ledger decides */
	assert_int_equal(p->dims.n, 4);
	assert_int_equal(p->default_class, 0); /* the only class */
	const ah_pool_policy *pp = &p->pools[0];
	assert_int_equal(pp->capacity.v[AH_DIM_CPU], 4000);
	assert_int_equal(pp->capacity.v[AH_DIM_MEMORY], 0);
	assert_int_equal(pp->min_size.v[AH_DIM_CPU], 4000);
	assert_int_equal(pp->max_size.v[AH_DIM_CPU], 4000);
	for (int d = 0; d < 4; d++)
		assert_int_equal(pp->unit.v[d], 1);
	assert_true(ah_vec_is_zero(&pp->min_request, 4));
	assert_true(ah_vec_is_zero(&pp->headroom, 4));
	assert_int_equal(pp->headroom_priority, 7);
	assert_int_equal(pp->max_queue, 10000);
	const ah_class_policy *c = &p->classes[0];
	assert_true(c->quantile == 0.95);
	assert_true(c->margin == 0.0);
	assert_false(c->preempt);
	assert_int_equal(c->lease_ttl_ns, 0);
	assert_int_equal(c->queue_timeout_ns, 0);
	for (int d = 0; d < 4; d++)
		assert_int_equal(c->max_request.v[d], AH_UNLIMITED);
	/* burst defaults to max(1, rate) */
	assert_true(p->tenants[0].burst == 1.0);
	assert_true(p->tenants[1].burst == 20.0);
	for (int d = 0; d < 4; d++)
		assert_int_equal(p->tenants[0].quota.v[d], AH_UNLIMITED);
	/* the default tenant without a [tenant *] section: unlimited */
	assert_int_equal(p->default_tenant.quota.v[AH_DIM_MEMORY], AH_UNLIMITED);
	assert_true(p->default_tenant.rate_per_s == 0.0);
	ah_policy_free(p);

	p = load_str_ok("[ahead]\nautocorrect = yes\ndurability = power\nqueue_timeout = 0\n"
			"unknown_tenants = refuse\n[pool p]\ncapacity = 0\nmax = cpu=10\n"
			"[class c]\npriority = 0\n");
	assert_true(p->autocorrect);
	assert_int_equal(p->durability, AH_DURABILITY_POWER);
	assert_int_equal(p->queue_timeout_ns, 0);
	assert_int_equal(p->pools[0].capacity.v[AH_DIM_CPU], 0);
	assert_int_equal(p->pools[0].max_size.v[AH_DIM_CPU], 10000);
	ah_policy_free(p);

	/* an empty [tenant *] is an unlimited default tenant; keys may use ':' */
	p = load_str_ok("[ahead]\nunknown_tenants: default\n[dimension gpu]\nunit = count\n"
			"[pool p]\ncapacity: cpu=4, gpu=2\n[class c]\npriority = 1\n[tenant *]\n");
	assert_true(p->unknown_tenants);
	assert_int_equal(p->n_tenants, 0);
	assert_int_equal(p->default_tenant.quota.v[AH_DIM_CPU], AH_UNLIMITED);
	assert_int_equal(p->default_tenant.quota.v[4], AH_UNLIMITED);
	assert_true(p->default_tenant.rate_per_s == 0.0);
	assert_int_equal(p->pools[0].capacity.v[4], 2);
	ah_policy_free(p);
	ah_policy_free(NULL);
}

struct bad_fixture {
	const char *file;
	int rc;
	int line; /* 0: the error names no line */
	const char *want;
};

static const struct bad_fixture bad_fixtures[] = {
	{"bad_unit.ini", AH_EPOLICY, 3, "[pool p] capacity: memory: bad unit suffix 'Qi'"},
	{"unknown_key.ini", AH_EPOLICY, 5, "[class c] priorty: unknown key (allowed: priority,"},
	{"unknown_section.ini", AH_EPOLICY, 6, "[queue q]: unknown section kind 'queue'"},
	{"duplicate_section.ini", AH_EPOLICY, 5,
	 "[pool p]: duplicate section (first defined at line 1)"},
	{"duplicate_key.ini", AH_EPOLICY, 4, "[pool p] capacity: duplicate key (first set at line 2)"},
	{"min_above_capacity.ini", AH_EPOLICY, 3,
	 "[pool p] min: memory=9Gi is above the capacity memory=8Gi"},
	{"max_below_capacity.ini", AH_EPOLICY, 4, "[pool p] max: cpu=2 is below the capacity cpu=4"},
	{"headroom_above_capacity.ini", AH_EPOLICY, 6,
	 "[pool p] headroom: memory=16Gi is above the capacity memory=8Gi"},
	{"unit_zero.ini", AH_EPOLICY, 3, "[pool p] unit: cpu: the allocation unit must be at least 1m"},
	{"min_request_above_max.ini", AH_EPOLICY, 4,
	 "[pool p] min_request: cpu=8 can never be granted"},
	{"quantile_one.ini", AH_EPOLICY, 5, "[class c] quantile: 1 is not strictly between 0 and 1"},
	{"quantile_garbage.ini", AH_EPOLICY, 5, "[class c] quantile: expected a decimal number"},
	{"margin_negative.ini", AH_EPOLICY, 5, "[class c] margin: must not be negative"},
	{"priority_negative.ini", AH_EPOLICY, 4, "[class c] priority: must not be negative"},
	{"priority_duplicate.ini", AH_EPOLICY, 8,
	 "[class b] priority: 10 is already the priority of class 'a' (line 6)"},
	{"default_class_missing.ini", AH_EPOLICY, 2,
	 "[ahead] default_class: no [class gold] section defines it"},
	{"default_class_needed.ini", AH_EPOLICY, 0,
	 "default_class: required when more than one class is defined"},
	{"no_pool.ini", AH_EPOLICY, 0, "no [pool NAME] section"},
	{"no_class.ini", AH_EPOLICY, 0, "no [class NAME] section"},
	{"bad_name.ini", AH_EPOLICY, 5, "[tenant Acme]: invalid name 'Acme'"},
	{"builtin_dimension.ini", AH_EPOLICY, 1, "[dimension cpu]: 'cpu' is a built-in dimension"},
	{"dimension_bad_unit.ini", AH_EPOLICY, 2, "[dimension qubits] unit: unknown unit 'qubit'"},
	{"unknown_dimension.ini", AH_EPOLICY, 6, "[tenant t1] quota: gpu: unknown dimension"},
	{"bad_duration.ini", AH_EPOLICY, 2, "[ahead] lease_ttl: bad duration '5x'"},
	{"lease_above_max.ini", AH_EPOLICY, 7, "[class c] lease_ttl: 2h is above max_lease_ttl 1h"},
	{"max_lease_below_default.ini", AH_EPOLICY, 2,
	 "[ahead] max_lease_ttl: 1m is below lease_ttl 5m (the default)"},
	{"unknown_tenants_no_default.ini", AH_EPOLICY, 2,
	 "[ahead] unknown_tenants: 'default' needs a [tenant *] section"},
	{"bad_bool.ini", AH_EPOLICY, 5, "[class c] preempt: expected true or false, got 'maybe'"},
	{"burst_without_rate.ini", AH_EPOLICY, 6, "[tenant t1] burst: has no effect without a rate"},
	{"bad_enum.ini", AH_EPOLICY, 2, "[ahead] durability: expected process or power, got 'disk'"},
	{"missing_capacity.ini", AH_EPOLICY, 1, "[pool p]: missing required key 'capacity'"},
	{"class_queue_timeout_zero.ini", AH_EPOLICY, 5,
	 "[class c] queue_timeout: must be greater than 0"},
	{"syntax_no_equals.ini", AH_EPARSE, 4,
	 "expected 'key = value' or '[section]', got 'priority 1'"},
	{"syntax_unclosed_section.ini", AH_EPARSE, 3, "section header without closing ']'"},
	{"syntax_outside_section.ini", AH_EPARSE, 2, "lease_ttl: key outside of any section"},
	{"syntax_text_after_header.ini", AH_EPARSE, 1, "unexpected text after ']'"},
	{"long_line.ini", AH_EPARSE, 5, "line too long"},
	{"binary.ini", AH_EPARSE, 3, "binary data (NUL byte)"},
	{"empty.ini", AH_EPOLICY, 0, "empty policy"},
	{"comments_only.ini", AH_EPOLICY, 0, "empty policy"},
};

static void test_bad_fixtures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_fixtures) / sizeof(bad_fixtures[0]); i++) {
		const struct bad_fixture *f = &bad_fixtures[i];
		char path[4096], err[1024] = "", where[4200];
		fixture(path, sizeof(path), f->file);
		ah_policy *p = (ah_policy *)0x1;
		int rc = ah_policy_load_file(path, &p, err, sizeof(err));
		if (f->line)
			snprintf(where, sizeof(where), "%s:%d: ", path, f->line);
		else
			snprintf(where, sizeof(where), "%s: ", path);
		if (rc != f->rc || strncmp(err, where, strlen(where)) != 0 || !strstr(err, f->want))
			fail_msg("%s: rc=%s want %s\n  err:  %s\n  want: %s...%s", f->file,
				 ah_strerror_name(rc), ah_strerror_name(f->rc), err, where, f->want);
		/* nothing is returned on failure */
		assert_ptr_equal(p, (ah_policy *)0x1);
	}
}

static void test_good_fixtures(void **state)
{
	(void)state;
	char path[4096];
	/* a custom dimension may be used above its [dimension] section */
	fixture(path, sizeof(path), "dimension_after_use.ini");
	ah_policy *p = load_ok(path);
	int q = ah_dimset_find(&p->dims, "qubits");
	assert_int_equal(q, 4);
	assert_int_equal(p->pools[0].capacity.v[q], 8);
	assert_int_equal(p->pools[0].unit.v[q], 2);
	assert_int_equal(p->classes[0].max_request.v[q], 4);
	ah_policy_free(p);

	/* indented keys are keys, not continuation lines */
	fixture(path, sizeof(path), "indented.ini");
	p = load_ok(path);
	assert_int_equal(p->pools[0].capacity.v[AH_DIM_CPU], 4000);
	assert_int_equal(p->pools[0].unit.v[AH_DIM_CPU], 100);
	assert_true(p->classes[0].quantile == 0.9);
	ah_policy_free(p);

	/* CRLF line endings with an inline comment, and a UTF-8 BOM */
	fixture(path, sizeof(path), "crlf.ini");
	p = load_ok(path);
	assert_int_equal(p->pools[0].capacity.v[AH_DIM_CPU], 4000);
	assert_int_equal(p->classes[0].priority, 1);
	ah_policy_free(p);
	fixture(path, sizeof(path), "bom.ini");
	p = load_ok(path);
	assert_int_equal(p->pools[0].capacity.v[AH_DIM_CPU], 4000);
	ah_policy_free(p);
}

/* Loads text that must fail; returns the message. */
static void expect_fail(const char *text, int want_rc, const char *want)
{
	char err[1024] = "";
	ah_policy *p = NULL;
	int rc = ah_policy_load_string(text, strlen(text), "t.ini", &p, err, sizeof(err));
	if (rc != want_rc || !strstr(err, want))
		fail_msg("rc=%s want %s; err='%s' want '%s'\n%s", ah_strerror_name(rc),
			 ah_strerror_name(want_rc), err, want, text);
	assert_null(p);
}

#define BASE "[pool p]\ncapacity = cpu=4\n[class c]\npriority = 1\n"

static void test_inline_errors(void **state)
{
	(void)state;
	expect_fail(BASE "[pool Big]\ncapacity = cpu=1\n", AH_EPOLICY,
		    "t.ini:5: [pool Big]: invalid name 'Big'");
	expect_fail(BASE "[pool -x]\ncapacity = cpu=1\n", AH_EPOLICY, "invalid name '-x'");
	expect_fail(BASE "[pool a b]\ncapacity = cpu=1\n", AH_EPOLICY, "unexpected 'b' after the name");
	expect_fail(BASE "[pool]\ncapacity = cpu=1\n", AH_EPOLICY, "t.ini:5: [pool]: missing name");
	expect_fail(BASE "[ahead x]\n", AH_EPOLICY, "[ahead] takes no name");
	expect_fail("[ahead]\nmax_clock_skew = 2h\n[pool p]\ncapacity = cpu=1\n[class c]\npriority = 1\n", AH_EPOLICY,
		    "t.ini:2: [ahead] max_clock_skew: 2h is out of range (0s to 1h)");
	expect_fail("[ahead]\nmax_clock_skew = soon\n[pool p]\ncapacity = cpu=1\n[class c]\npriority = 1\n",
		    AH_EPOLICY, "max_clock_skew");
	expect_fail(BASE "[]\n", AH_EPOLICY, "t.ini:5: []: empty section name");
	expect_fail(BASE "[dimension Qubits]\nunit = count\n", AH_EPOLICY, "invalid name 'Qubits'");
	expect_fail(BASE "[dimension q.x]\nunit = count\n", AH_EPOLICY, "invalid name 'q.x'");
	expect_fail(BASE "[dimension q]\n", AH_EPOLICY, "t.ini:5: [dimension q]: missing required key 'unit'");
	expect_fail(BASE "[dimension q]\nunit = count\nscale = 2\n", AH_EPOLICY,
		    "t.ini:7: [dimension q] scale: unknown key");
	expect_fail(BASE "[class d]\nquantile = 0.9\n", AH_EPOLICY,
		    "t.ini:5: [class d]: missing required key 'priority'");
	expect_fail(BASE "[class d]\npriority = 1001\n", AH_EPOLICY,
		    "t.ini:6: [class d] priority: 1001 is out of range (0 to 1000)");
	expect_fail(BASE "[class d]\npriority = 2x\n", AH_EPOLICY, "expected a whole number");
	expect_fail(BASE "[class d]\npriority = 2\nquantile = 0\n", AH_EPOLICY,
		    "quantile: 0 is not strictly between 0 and 1");
	expect_fail(BASE "[class d]\npriority = 2\nquantile = nan\n", AH_EPOLICY,
		    "expected a decimal number");
	expect_fail(BASE "[class d]\npriority = 2\nquantile = .5\n", AH_EPOLICY,
		    "expected a decimal number");
	expect_fail(BASE "[class d]\npriority = 2\nmargin = 11\n", AH_EPOLICY, "margin: 11 is too large");
	expect_fail(BASE "[class d]\npriority = 2\nlease_ttl = 0\n", AH_EPOLICY,
		    "lease_ttl: must be greater than 0");
	expect_fail(BASE "[class d]\npriority = 2\nmax_request = cpu=1Gi\n", AH_EPOLICY,
		    "t.ini:7: [class d] max_request: cpu: bad unit suffix 'Gi'");
	expect_fail(BASE "[tenant t]\nrate = -1\n", AH_EPOLICY, "rate: must not be negative");
	expect_fail(BASE "[tenant t]\nrate = 2000000\n", AH_EPOLICY, "rate: 2000000 is too large");
	expect_fail(BASE "[tenant t]\nrate = 5\nburst = 0.5\n", AH_EPOLICY, "burst: 0.5 is out of range");
	expect_fail(BASE "[tenant t]\nquota = cpu=-1\n", AH_EPOLICY, "quota: cpu: negative value");
	expect_fail(BASE "[tenant t]\nquota =\n", AH_EPOLICY, "quota: vector: empty");
	expect_fail(BASE "[tenant t]\nlimit = 5\n", AH_EPOLICY, "[tenant t] limit: unknown key");
	expect_fail(BASE "[tenant *]\n[tenant *]\n", AH_EPOLICY, "t.ini:6: [tenant *]: duplicate section");
	expect_fail(BASE "[ahead]\n[ahead]\n", AH_EPOLICY, "t.ini:6: [ahead]: duplicate section");
	expect_fail(BASE "[ahead]\nlease_ttl = 0\n", AH_EPOLICY, "[ahead] lease_ttl: must be greater than 0");
	expect_fail(BASE "[ahead]\nlease_ttl = 48h\n", AH_EPOLICY,
		    "[ahead] lease_ttl: 2d is above max_lease_ttl 1d (the default)");
	expect_fail(BASE "[ahead]\nunknown_tenants = maybe\n", AH_EPOLICY,
		    "expected refuse or default, got 'maybe'");
	expect_fail(BASE "[ahead]\nqueue_timeout = -1s\n", AH_EPOLICY, "queue_timeout: duration '-1s' is out of range");
	expect_fail(BASE "[ahead]\nfoo = 1\n", AH_EPOLICY, "[ahead] foo: unknown key");
	expect_fail(BASE "[pool q]\ncapacity = cpu=4\nheadroom_priority = 2000\n", AH_EPOLICY,
		    "headroom_priority: 2000 is out of range");
	expect_fail(BASE "[pool q]\ncapacity = cpu=4\nmax_queue = -1\n", AH_EPOLICY,
		    "max_queue: must not be negative");
	expect_fail(BASE "[pool q]\ncapacity = cpu=4, cpu=5\n", AH_EPOLICY, "capacity: cpu: given more than once");
	expect_fail(BASE "= 5\n", AH_EPARSE, "t.ini:5: [class c]: missing key name");
	expect_fail(BASE "lease_ttl = 5m # not a comment\n", AH_EPOLICY,
		    "t.ini:5: [class c] lease_ttl: bad duration '5m # not a comment'");
	expect_fail(BASE "x = \x01\n", AH_EPARSE, "t.ini:5: control character 0x01");
	/* the quoted line stops at its end, and long lines are cut short */
	expect_fail(BASE "abcdefghij abcdefghij abcdefghij abcdefghij abcdefghij\n[x]\n", AH_EPARSE,
		    "got 'abcdefghij abcdefghij abcdefghij abcdefg...'");
	/* the first error wins, later ones are not reported */
	expect_fail("[pool p]\ncapacity = cpu=x\nmax = cpu=y\n[class c]\npriority = 1\n", AH_EPOLICY,
		    "t.ini:2: [pool p] capacity: cpu: malformed number 'x'");

	/* error buffers: NULL is fine, a short one is truncated */
	ah_policy *p = NULL;
	const char *t = "[pool p]\n";
	assert_int_equal(ah_policy_load_string(t, strlen(t), "x", &p, NULL, 0), AH_EPOLICY);
	char small[12];
	assert_int_equal(ah_policy_load_string(t, strlen(t), "x", &p, small, sizeof(small)),
			 AH_EPOLICY);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_null(p);
	assert_int_equal(ah_policy_load_string(NULL, 0, "x", &p, NULL, 0), AH_EINVAL);
	assert_int_equal(ah_policy_load_string(t, strlen(t), "x", NULL, NULL, 0), AH_EINVAL);
	/* an explicit length: the NUL inside is data, not the end */
	char err[512];
	const char nul[] = "[pool p]\ncapacity = cpu=4\n\0[class c]\npriority = 1\n";
	assert_int_equal(ah_policy_load_string(nul, sizeof(nul) - 1, "n.ini", &p, err, sizeof(err)),
			 AH_EPARSE);
	assert_non_null(strstr(err, "n.ini:3: binary data"));
}

static void test_limits(void **state)
{
	(void)state;
	size_t cap = 200000;
	char *buf = malloc(cap);
	assert_non_null(buf);
	char err[1024];
	ah_policy *p = NULL;

	/* AH_MAX_POOLS pools load, one more does not */
	for (int extra = 0; extra <= 1; extra++) {
		size_t k = (size_t)snprintf(buf, cap, "[class c]\npriority = 1\n");
		for (int i = 0; i < AH_MAX_POOLS + extra; i++)
			k += (size_t)snprintf(buf + k, cap - k, "[pool p%d]\ncapacity = cpu=1\n", i);
		int rc = ah_policy_load_string(buf, k, "pools.ini", &p, err, sizeof(err));
		if (!extra) {
			assert_int_equal(rc, 0);
			assert_int_equal(p->n_pools, AH_MAX_POOLS);
			ah_policy_free(p);
			p = NULL;
		} else {
			assert_int_equal(rc, AH_EPOLICY);
			assert_non_null(strstr(err, "too many pools (at most 64)"));
			assert_non_null(strstr(err, "[pool p64]"));
		}
	}
	/* classes */
	for (int extra = 0; extra <= 1; extra++) {
		size_t k = (size_t)snprintf(buf, cap, "[ahead]\ndefault_class = c0\n[pool p]\ncapacity = cpu=1\n");
		for (int i = 0; i < AH_MAX_CLASSES + extra; i++)
			k += (size_t)snprintf(buf + k, cap - k, "[class c%d]\npriority = %d\n", i, i);
		int rc = ah_policy_load_string(buf, k, "classes.ini", &p, err, sizeof(err));
		if (!extra) {
			assert_int_equal(rc, 0);
			assert_int_equal(p->n_classes, AH_MAX_CLASSES);
			ah_policy_free(p);
			p = NULL;
		} else {
			assert_int_equal(rc, AH_EPOLICY);
			assert_non_null(strstr(err, "too many classes"));
		}
	}
	/* tenants ([tenant *] does not count) */
	for (int extra = 0; extra <= 1; extra++) {
		size_t k = (size_t)snprintf(buf, cap, BASE "[tenant *]\nrate = 1\n");
		for (int i = 0; i < AH_MAX_TENANTS + extra; i++)
			k += (size_t)snprintf(buf + k, cap - k, "[tenant t-%d]\nrate = 1\n", i);
		int rc = ah_policy_load_string(buf, k, "tenants.ini", &p, err, sizeof(err));
		if (!extra) {
			assert_int_equal(rc, 0);
			assert_int_equal(p->n_tenants, AH_MAX_TENANTS);
			assert_int_equal(ah_policy_find_tenant(p, "t-1023"), 1023);
			ah_policy_free(p);
			p = NULL;
		} else {
			assert_int_equal(rc, AH_EPOLICY);
			assert_non_null(strstr(err, "too many tenants (at most 1024)"));
		}
	}
	/* dimensions: 12 custom ones fit next to the 4 built-ins */
	for (int extra = 0; extra <= 1; extra++) {
		size_t k = (size_t)snprintf(buf, cap, BASE);
		for (int i = 0; i < AH_MAX_DIMS - 4 + extra; i++)
			k += (size_t)snprintf(buf + k, cap - k, "[dimension d%d]\nunit = count\n", i);
		int rc = ah_policy_load_string(buf, k, "dims.ini", &p, err, sizeof(err));
		if (!extra) {
			assert_int_equal(rc, 0);
			assert_int_equal(p->dims.n, AH_MAX_DIMS);
			ah_policy_free(p);
			p = NULL;
		} else {
			assert_int_equal(rc, AH_EPOLICY);
			assert_non_null(strstr(err, "too many dimensions"));
		}
	}
	free(buf);

	/* A hostile file full of sections or keys fails quickly and cleanly. */
	cap = (size_t)AH_POLICY_MAX_BYTES;
	buf = malloc(cap);
	assert_non_null(buf);
	size_t k = (size_t)snprintf(buf, cap, BASE);
	for (int i = 0; k + 32 < cap; i++)
		k += (size_t)snprintf(buf + k, cap - k, "[tenant t%d]\n", i);
	assert_int_equal(ah_policy_load_string(buf, k, "many.ini", &p, err, sizeof(err)), AH_EPOLICY);
	assert_non_null(strstr(err, "too many tenants (at most 1024)"));
	k = (size_t)snprintf(buf, cap, BASE);
	for (int i = 0; k + 32 < cap; i++)
		k += (size_t)snprintf(buf + k, cap - k, "[tenant t]\n");
	assert_int_equal(ah_policy_load_string(buf, k, "dups.ini", &p, err, sizeof(err)), AH_EPOLICY);
	assert_non_null(strstr(err, "dups.ini:6: [tenant t]: duplicate section (first defined at line 5)"));
	k = (size_t)snprintf(buf, cap, BASE "[tenant t]\n");
	for (int i = 0; k + 32 < cap; i++)
		k += (size_t)snprintf(buf + k, cap - k, "rate = %d\n", i);
	assert_int_equal(ah_policy_load_string(buf, k, "keys.ini", &p, err, sizeof(err)), AH_EPOLICY);
	assert_non_null(strstr(err, "keys.ini:7: [tenant t] rate: duplicate key (first set at line 6)"));
	assert_null(p);
	free(buf);
	cap = 200000;
	buf = malloc(cap);
	assert_non_null(buf);

	/* a 63-character name is fine, 64 is not */
	char name[80];
	memset(name, 'a', 64);
	name[63] = '\0';
	snprintf(buf, cap, BASE "[pool %s]\ncapacity = cpu=1\n", name);
	p = load_str_ok(buf);
	assert_int_equal(ah_policy_find_pool(p, name), 1);
	ah_policy_free(p);
	name[63] = 'a';
	name[64] = '\0';
	snprintf(buf, cap, BASE "[pool %s]\ncapacity = cpu=1\n", name);
	expect_fail(buf, AH_EPOLICY, "invalid name");
	free(buf);
}

static void test_files(void **state)
{
	(void)state;
	char err[1024] = "";
	ah_policy *p = NULL;
	assert_int_equal(ah_policy_load_file("/nonexistent/ahead/policy.ini", &p, err, sizeof(err)),
			 AH_EIO);
	assert_non_null(strstr(err, "/nonexistent/ahead/policy.ini: cannot open: No such file"));
	assert_null(p);

	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/tests/data/policy", src_dir());
	assert_int_equal(ah_policy_load_file(dir, &p, err, sizeof(err)), AH_EIO);
	assert_non_null(strstr(err, "is a directory"));

	/* one byte over the cap: refused before parsing */
	char tmpl[] = "/tmp/ahead_policy_big_XXXXXX";
	int fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	size_t big = (size_t)AH_POLICY_MAX_BYTES + 1;
	char *buf = malloc(big);
	assert_non_null(buf);
	memset(buf, ';', big);
	for (size_t i = 100; i < big; i += 100)
		buf[i] = '\n';
	assert_int_equal(write(fd, buf, big), (ssize_t)big);
	close(fd);
	assert_int_equal(ah_policy_load_file(tmpl, &p, err, sizeof(err)), AH_ETOOBIG);
	assert_non_null(strstr(err, "too large"));
	assert_int_equal(ah_policy_load_string(buf, big, "big.ini", &p, err, sizeof(err)),
			 AH_ETOOBIG);
	assert_non_null(strstr(err, "big.ini: file is too large"));
	/* exactly at the cap is accepted by the size check (and is only comments) */
	assert_int_equal(ah_policy_load_string(buf, big - 1, "cap.ini", &p, err, sizeof(err)),
			 AH_EPOLICY);
	assert_non_null(strstr(err, "empty policy"));
	assert_null(p);
	unlink(tmpl);
	free(buf);
}

struct dur_case {
	const char *in;
	int rc;
	int64_t ns;
};

static void test_durations(void **state)
{
	(void)state;
	static const struct dur_case cases[] = {
		{"250ms", 0, 250000000},
		{"30s", 0, 30 * S},
		{"5m", 0, 300 * S},
		{"1h", 0, 3600 * S},
		{"2d", 0, 2 * 86400 * S},
		{"30", 0, 30 * S},
		{"0", 0, 0},
		{"1.5", 0, 1500000000},
		{"1.5h", 0, 5400 * S},
		{"0.25s", 0, 250000000},
		{"1.500000000000s", 0, 1500000000},
		{"0.000000001", 0, 1},
		{"10us", 0, 10000},
		{"7ns", 0, 7},
		{" 5m ", 0, 300 * S},
		{"9223372036854775807ns", 0, INT64_MAX},
		{"106751d", 0, INT64_C(106751) * 86400 * S},
		{"", AH_EINVAL, 0},
		{"m", AH_EINVAL, 0},
		{"5x", AH_EINVAL, 0},
		{"5 m", AH_EINVAL, 0},
		{"5M", AH_EINVAL, 0},
		{"1..5s", AH_EINVAL, 0},
		{"1.s", AH_EINVAL, 0},
		{".5s", AH_EINVAL, 0},
		{"1e3", AH_EINVAL, 0},
		{"0.0000000001s", AH_EINVAL, 0}, /* finer than 1 ns */
		{"1.5ns", AH_EINVAL, 0},
		{"-1s", AH_ERANGE, 0},
		{"106752d", AH_ERANGE, 0},
		{"9223372036854775808ns", AH_ERANGE, 0},
		{"99999999999999999999999s", AH_ERANGE, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ns = -42;
		int rc = ah_duration_parse(cases[i].in, &ns);
		if (rc != cases[i].rc || (rc == 0 && ns != cases[i].ns) || (rc != 0 && ns != -42))
			fail_msg("'%s': rc=%d ns=%lld want rc=%d ns=%lld", cases[i].in, rc,
				 (long long)ns, cases[i].rc, (long long)cases[i].ns);
	}
	assert_int_equal(ah_duration_parse(NULL, &(int64_t){0}), AH_EINVAL);

	static const struct {
		int64_t ns;
		const char *want;
	} fmt[] = {
		{0, "0s"}, {250000000, "250ms"}, {30 * S, "30s"}, {300 * S, "5m"},
		{3600 * S, "1h"}, {86400 * S, "1d"}, {90 * S, "90s"}, {1500000000, "1500ms"},
		{1, "1ns"}, {10000, "10us"}, {INT64_MAX, "9223372036854775807ns"},
	};
	char buf[32];
	for (size_t i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
		assert_int_equal(ah_duration_format(fmt[i].ns, buf, sizeof(buf)), 0);
		assert_string_equal(buf, fmt[i].want);
	}
	assert_int_equal(ah_duration_format(-1, buf, sizeof(buf)), AH_ERANGE);
	char small[3] = "ab";
	assert_int_equal(ah_duration_format(250000000, small, sizeof(small)), AH_ERANGE);
	assert_string_equal(small, "ab");

	/* round trip over many values */
	uint64_t x = 88172645463325252ULL;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int64_t v = (int64_t)(x >> 1) >> (x % 63);
		static const int64_t scale[] = {1, 1000, 1000000, 1000000000, 60000000000LL,
						3600000000000LL, 86400000000000LL};
		int64_t m = scale[(x >> 8) % 7];
		v = (v / m) * m;
		int64_t back = -1;
		assert_int_equal(ah_duration_format(v, buf, sizeof(buf)), 0);
		assert_int_equal(ah_duration_parse(buf, &back), 0);
		assert_int_equal(back, v);
	}
}

/* [source NAME]: a Prometheus query the daemon polls into the history. */
#define SRC "[source node]\nkind = prometheus\nurl = http://127.0.0.1:9090\nquery = up\nworkload = node\ndim = memory\n"

static void test_sources(void **state)
{
	(void)state;
	/* every key, and the defaults */
	ah_policy *p = load_str_ok(BASE "[source cpu]\nkind = prometheus\nurl = https://prom.example/prefix/\n"
				   "query = sum(rate(node_cpu_seconds_total{mode!=\"idle\"}[1m]))\nworkload = web-1\n"
				   "dim = cpu\nunit = percent\nof = 8\nmatch = job=node,instance=a:9100\nstep = 15s\n"
				   "every = 30s\nlookback = 2h\n" SRC);
	assert_non_null(p);
	assert_int_equal(p->n_sources, 2);
	const ah_source_policy *c = &p->sources[0];
	assert_string_equal(c->name, "cpu");
	assert_string_equal(c->url, "https://prom.example/prefix/");
	assert_string_equal(c->query, "sum(rate(node_cpu_seconds_total{mode!=\"idle\"}[1m]))");
	assert_string_equal(c->workload, "web-1");
	assert_string_equal(c->dim, "cpu");
	assert_string_equal(c->unit, "percent");
	assert_true(c->of_cores == 8.0);
	assert_string_equal(c->match, "job=node,instance=a:9100");
	assert_int_equal(c->step_ns, 15 * S);
	assert_int_equal(c->every_ns, 30 * S);
	assert_int_equal(c->lookback_ns, 7200 * S);
	c = &p->sources[1];
	assert_string_equal(c->name, "node");
	assert_string_equal(c->unit, "");
	assert_string_equal(c->match, "");
	assert_true(c->of_cores == 0.0);
	assert_int_equal(c->step_ns, 60 * S);
	assert_int_equal(c->every_ns, 60 * S);
	assert_int_equal(c->lookback_ns, 3600 * S);
	ah_policy_free(p);
	/* a custom dimension declared below */
	p = load_str_ok(BASE "[source g]\nkind = prometheus\nurl = http://h:1\nquery = up\nworkload = w\ndim = gpus\n"
			"[dimension gpus]\nunit = count\n");
	assert_string_equal(p->sources[0].dim, "gpus");
	ah_policy_free(p);

	/* each bad key or value, with its line */
	expect_fail(BASE SRC "kind = graphite\n", AH_EPOLICY, "duplicate key");
	expect_fail(BASE "[source node]\nkind = graphite\n", AH_EPOLICY,
		    "t.ini:6: [source node] kind: unknown kind 'graphite' (expected prometheus)");
	expect_fail(BASE "[source node]\nurl = ftp://x\n", AH_EPOLICY,
		    "t.ini:6: [source node] url: 'ftp://x' is not an http:// or https:// URL");
	expect_fail(BASE "[source node]\nurl = http://x:9090/?q=1\n", AH_EPOLICY, "url: 'http://x:9090/?q=1' is not a base URL");
	expect_fail(BASE "[source node]\nquery =\n", AH_EPOLICY, "[source node] query: empty");
	expect_fail(BASE "[source node]\nworkload = Web\n", AH_EPOLICY, "[source node] workload: invalid name 'Web'");
	expect_fail(BASE "[source node]\ndim = disk\n", AH_EPOLICY,
		    "[source node] dim: 'disk' is not a dimension of this policy");
	expect_fail(BASE "[source node]\nunit = furlongs\n", AH_EPOLICY, "[source node] unit: unknown unit 'furlongs'");
	expect_fail(BASE SRC "unit = cores\n", AH_EPOLICY, "t.ini:11: [source node] unit: cores does not fit dim memory");
	expect_fail(BASE SRC "unit = bytes\nof = 4\n", AH_EPOLICY, "t.ini:12: [source node] of: applies to unit = percent only");
	expect_fail(BASE "[source node]\nof = 0\n", AH_EPOLICY, "[source node] of: 0 is out of range");
	expect_fail(BASE SRC "dim = cpu\n", AH_EPOLICY, "duplicate key");
	expect_fail(BASE "[source c]\nkind = prometheus\nurl = http://h:1\nquery = up\nworkload = w\ndim = cpu\n"
		    "unit = percent\n", AH_EPOLICY, "t.ini:11: [source c] unit: percent needs");
	expect_fail(BASE "[source node]\nmatch = job\n", AH_EPOLICY,
		    "[source node] match: expected LABEL=VALUE[,LABEL=VALUE]");
	expect_fail(BASE "[source node]\nmatch = job=a,9x=b\n", AH_EPOLICY, "got '9x=b'");
	expect_fail(BASE "[source node]\nmatch = a=1,a=2,a=3,a=4,a=5,a=6,a=7,a=8,a=9,a=10,a=11,a=12,a=13,a=14,a=15,"
		    "a=16,a=17\n", AH_EPOLICY, "match: at most 16 filters");
	expect_fail(BASE "[source node]\nstep = 0\n", AH_EPOLICY, "[source node] step: 0 is out of range");
	expect_fail(BASE "[source node]\nstep = 1.5ms\n", AH_EPOLICY, "step: Prometheus takes whole milliseconds");
	expect_fail(BASE "[source node]\nstep = soon\n", AH_EPOLICY, "[source node] step: bad duration 'soon'");
	expect_fail(BASE "[source node]\nevery = 500ms\n", AH_EPOLICY, "[source node] every: 500ms is out of range (1s to 1d)");
	expect_fail(BASE "[source node]\nlookback = 30d\n", AH_EPOLICY, "[source node] lookback: 30d is out of range");
	expect_fail(BASE SRC "step = 1s\nlookback = 1d\n", AH_EPOLICY,
		    "t.ini:12: [source node] lookback: lookback / step is more than 10999 points");
	expect_fail(BASE SRC "port = 9090\n", AH_EPOLICY,
		    "t.ini:11: [source node] port: unknown key (allowed: kind, url, query");
	expect_fail(BASE "[source Node]\n", AH_EPOLICY, "[source Node]: invalid name 'Node'");
	expect_fail(BASE SRC SRC, AH_EPOLICY, "t.ini:11: [source node]: duplicate section (first defined at line 5)");
	expect_fail(BASE "[sources node]\n", AH_EPOLICY, "unknown section kind 'sources' (expected ahead, dimension, pool, "
		    "class, tenant, source or linux)");
	/* a missing required key */
	expect_fail(BASE "[source node]\nurl = http://h:1\nquery = up\nworkload = w\ndim = cpu\n", AH_EPOLICY,
		    "t.ini:5: [source node]: missing required key 'kind (prometheus)'");
	expect_fail(BASE "[source node]\nkind = prometheus\nquery = up\nworkload = w\ndim = cpu\n", AH_EPOLICY,
		    "missing required key 'url");
	expect_fail(BASE "[source node]\nkind = prometheus\nurl = http://h:1\nworkload = w\ndim = cpu\n", AH_EPOLICY,
		    "missing required key 'query");
	expect_fail(BASE "[source node]\nkind = prometheus\nurl = http://h:1\nquery = up\ndim = cpu\n", AH_EPOLICY,
		    "missing required key 'workload'");
	expect_fail(BASE "[source node]\nkind = prometheus\nurl = http://h:1\nquery = up\nworkload = w\n", AH_EPOLICY,
		    "missing required key 'dim'");

	/* at most AH_MAX_SOURCES */
	size_t cap = 64 << 10;
	char *buf = malloc(cap), err[1024];
	assert_non_null(buf);
	for (int extra = 0; extra <= 1; extra++) {
		size_t k = (size_t)snprintf(buf, cap, BASE);
		for (int i = 0; i < AH_MAX_SOURCES + extra; i++)
			k += (size_t)snprintf(buf + k, cap - k, "[source s%d]\nkind = prometheus\nurl = http://h:1\n"
					      "query = up\nworkload = w%d\ndim = cpu\n", i, i);
		int rc = ah_policy_load_string(buf, k, "sources.ini", &p, err, sizeof(err));
		if (!extra) {
			assert_int_equal(rc, 0);
			assert_int_equal(p->n_sources, AH_MAX_SOURCES);
			ah_policy_free(p);
			p = NULL;
		} else {
			assert_int_equal(rc, AH_EPOLICY);
			assert_non_null(strstr(err, "[source s64]: too many sources (at most 64)"));
		}
	}
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),       cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_bad_fixtures),  cmocka_unit_test(test_good_fixtures),
		cmocka_unit_test(test_inline_errors), cmocka_unit_test(test_limits),
		cmocka_unit_test(test_files),         cmocka_unit_test(test_durations),
		cmocka_unit_test(test_sources),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
