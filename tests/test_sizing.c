/* The sizing registry (names shared with the policy file's [ahead] sizing),
 * per-dimension defaults, and the sizer on dimensions beyond cpu and
 * memory, with its hard limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ahead/engine.h"
#include "ahead/error.h"
#include "ahead/ledger.h"
#include "ahead/policy.h"
#include "ahead/sizing.h"
#include "ahead/sizing_sizer.h"

static ah_policy *load(const char *sizing)
{
	char text[512];
	snprintf(text, sizeof(text),
		 "[ahead]\nlease_ttl = 1h\nsizing = %s\n[dimension qubits]\nunit = count\n"
		 "[pool p]\ncapacity = cpu=1000, memory=1Ti, qubits=100000\n"
		 "[class std]\npriority = 10\n[tenant t]\n",
		 sizing);
	char err[256];
	ah_policy *pol = NULL;
	assert_int_equal(ah_policy_load_string(text, strlen(text), "t", &pol, err, sizeof(err)), 0);
	return pol;
}

/* Every policy the registry knows is a value of the policy file's sizing
 * key that selects that very policy; builtin selects none. */
static void test_names_match_policy_file(void **s)
{
	(void)s;
	for (int k = 0; k < AH_SIZING_KIND_COUNT; k++) {
		const char *name = ah_sizing_name((ah_sizing_kind)k);
		ah_policy *pol = load(name);
		ah_sizing_kind got;
		assert_int_equal(ah_sizing_of_policy(pol->sizing, &got), 0);
		assert_int_equal(got, k);
		const ah_sizing_ops *ops = NULL;
		assert_int_equal(ah_sizing_find(name, &ops), 0);
		assert_ptr_equal(ops, ah_sizing_get((ah_sizing_kind)k));
		ah_policy_free(pol);
	}
	ah_policy *pol = load("builtin");
	ah_sizing_kind got = AH_SIZING_KIND_COUNT;
	assert_int_equal(ah_sizing_of_policy(pol->sizing, &got), AH_ENOENT);
	assert_int_equal(got, AH_SIZING_KIND_COUNT); /* untouched */
	ah_policy_free(pol);
	const ah_sizing_ops *ops = ah_sizing_get(AH_SIZING_KIND_VPA);
	assert_int_equal(ah_sizing_find("builtin", &ops), 0);
	assert_null(ops);
	assert_int_equal(ah_sizing_find("hpa", &ops), AH_ENOENT);
	assert_int_equal(ah_sizing_parse("builtin", &got), AH_EINVAL);
}

static void test_dim_defaults(void **s)
{
	(void)s;
	ah_policy *pol = load("vpa");
	ah_sizing_params p;
	ah_sizing_params_default(&p, &pol->dims);
	assert_int_equal(p.ndims, pol->dims.n);
	int q = ah_dimset_find(&pol->dims, "qubits");
	assert_true(q >= 4);
	assert_true(p.dim[AH_DIM_MEMORY].incompressible);
	assert_false(p.dim[AH_DIM_CPU].incompressible);
	assert_false(p.dim[q].incompressible);
	assert_string_equal(p.dim[q].name, "qubits");
	assert_int_equal(p.dim[q].quantum, 1);
	/* cpu and memory as replay's defaults */
	ah_sizing_params r;
	ah_sizing_params_default(&r, NULL);
	assert_int_equal(r.ndims, 2);
	assert_memory_equal(&r.dim[AH_DIM_CPU], &p.dim[AH_DIM_CPU], sizeof(ah_sizing_dim));
	assert_memory_equal(&r.dim[AH_DIM_MEMORY], &p.dim[AH_DIM_MEMORY], sizeof(ah_sizing_dim));
	/* every default histogram range is one the policies can bucket */
	for (int k = 0; k < AH_SIZING_KIND_COUNT; k++) {
		const ah_sizing_ops *o = ah_sizing_get((ah_sizing_kind)k);
		static _Alignas(16) unsigned char st[128 * 1024];
		assert_true(o->state_size <= sizeof(st));
		for (int d = 0; d < p.ndims; d++) {
			o->init(st, &p, d, 100);
			o->observe(st, 0, 150, o->reserve(st, 0, 100), 100);
			assert_true(o->reserve(st, 300, 100) >= 0);
		}
	}
	ah_policy_free(pol);
}

/* A custom dimension is sized like any other: reports of 50 qubits over a
 * 10-qubit allocation grow it to cover them. */
static void test_custom_dimension_sized(void **s)
{
	(void)s;
	for (int k = 0; k < AH_SIZING_KIND_COUNT; k++) {
		if (k == AH_SIZING_KIND_STATIC)
			continue; /* keeps what was asked */
		ah_policy *pol = load(ah_sizing_name((ah_sizing_kind)k));
		int q = ah_dimset_find(&pol->dims, "qubits");
		ah_ledger *led;
		ah_engine *e;
		assert_int_equal(ah_ledger_memory_new(8, &led), 0);
		assert_int_equal(ah_engine_new(pol, led, 0, &e), 0);
		ah_sizing_params p;
		ah_sizing_params_default(&p, &pol->dims);
		ah_sizing_sizer *z;
		assert_int_equal(ah_sizing_sizer_new((ah_sizing_kind)k, &p, &z), 0);
		ah_sizer sz;
		ah_sizing_sizer_get(z, &sz);
		ah_engine_set_sizer(e, &sz);
		ah_request rq = {.tenant = "t", .pool = "p", .workload = "w", .queue_timeout_ns = -1};
		rq.res.v[q] = 10;
		ah_decision d;
		assert_int_equal(ah_engine_request(e, &rq, 0, &d), 0);
		assert_int_equal(d.outcome, AH_GRANTED);
		for (int i = 1; i <= 24; i++) {
			ah_vec u;
			for (int j = 0; j < AH_MAX_DIMS; j++)
				u.v[j] = AH_USAGE_NONE;
			u.v[q] = 50;
			assert_int_equal(ah_engine_report_usage(e, d.id, &u, (int64_t)i * 300 * 1000000000LL, NULL), 0);
		}
		ah_engine_item it;
		assert_int_equal(ah_engine_get(e, d.id, &it), 0);
		assert_true(it.res->v[q] >= 50);
		assert_int_equal(ah_sizing_sizer_count(z), 1);
		ah_engine_free(e);
		ah_ledger_free(led);
		ah_sizing_sizer_free(z);
		ah_policy_free(pol);
	}
}

/* Autopilot's memory reservation is its hard limit; ahead's memory has a
 * safety net above its reservation (two levels); elsewhere none. */
static void test_limits(void **s)
{
	(void)s;
	ah_resize_budget bud = {0};
	for (int k = 0; k < AH_SIZING_KIND_COUNT; k++) {
		ah_sizing_sizer *z;
		assert_int_equal(ah_sizing_sizer_new((ah_sizing_kind)k, NULL, &z), 0);
		ah_sizer sz;
		ah_sizing_sizer_get(z, &sz);
		ah_size_target cpu, mem;
		assert_int_equal(sz.target(sz.ctx, 1, AH_DIM_CPU, 0, 500, 1000, &bud, &cpu), 0);
		assert_int_equal(sz.target(sz.ctx, 1, AH_DIM_MEMORY, 0, (int64_t)1 << 30, (int64_t)2 << 30, &bud, &mem),
				 0);
		assert_int_equal(cpu.limit, AH_LIMIT_NONE);
		if (k == AH_SIZING_KIND_AUTOPILOT) {
			assert_true(mem.reserve >= (int64_t)1 << 30);
			assert_int_equal(mem.limit, mem.reserve);
		} else if (k == AH_SIZING_KIND_AHEAD) {
			/* 25% over the higher of the reservation and the 1 GiB peak */
			assert_true(mem.limit >= mem.reserve + mem.reserve / 5);
			assert_true(mem.limit >= ((int64_t)5 << 30) / 4);
		} else {
			assert_int_equal(mem.limit, AH_LIMIT_NONE);
		}
		/* past the parameters' dimensions: left alone */
		assert_int_equal(sz.target(sz.ctx, 1, 2, 0, 5, 10, &bud, &cpu), AH_ENOENT);
		ah_sizing_sizer_free(z);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_match_policy_file),
		cmocka_unit_test(test_dim_defaults),
		cmocka_unit_test(test_custom_dimension_sized),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
