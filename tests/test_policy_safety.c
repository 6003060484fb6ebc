/* The safety controls of a policy (docs/POLICY.md, [linux] and [class]):
 * enforce = on | dry-run | off (the global stop switch) with on_stop =
 * leave | restore, shrink_cap (a share or an amount), run_unreachable
 * (refuse by default), run_hard_margin, and a class's enforce and
 * run_default; the daemon's own cgroups (enforce_api = off by default,
 * api_cgroup_parent, on_drift). Defaults hold with and without a [linux] section; every bad
 * value is refused with the file, line, section and key named. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/policy.h"

#define BASE "[pool p]\ncapacity = cpu=4, memory=8Gi\n[class c]\npriority = 1\n"
#define MiB ((int64_t)1 << 20)

static ah_policy *load(const char *text)
{
	char err[1024] = "";
	ah_policy *p = NULL;
	int rc = ah_policy_load_string(text, strlen(text), "t.ini", &p, err, sizeof err);
	if (rc != 0)
		fail_msg("rc=%s err=%s\n%s", ah_strerror_name(rc), err, text);
	return p;
}

static void expect_fail(const char *text, const char *want)
{
	char err[1024] = "";
	ah_policy *p = NULL;
	int rc = ah_policy_load_string(text, strlen(text), "t.ini", &p, err, sizeof err);
	if (rc != AH_EPOLICY || !strstr(err, want))
		fail_msg("rc=%s; err='%s' want '%s'\n%s", ah_strerror_name(rc), err, want, text);
	assert_null(p);
}

static void test_defaults(void **state)
{
	(void)state;
	/* no [linux] section: the safe defaults */
	ah_policy *p = load(BASE);
	assert_int_equal(p->linux_host.enforce, AH_ENFORCE_ON);
	assert_int_equal(p->linux_host.on_stop, AH_ON_STOP_LEAVE);
	assert_int_equal(p->linux_host.run_unreachable, AH_RUN_UNREACHABLE_REFUSE);
	assert_true(p->linux_host.shrink_cap_bytes == 0 && p->linux_host.shrink_cap_frac == 0);
	assert_true(p->linux_host.run_hard_margin == 0.25);
	assert_int_equal(p->classes[0].enforce, AH_ENFORCE_INHERIT);
	assert_true(ah_vec_is_zero(&p->classes[0].run_default, p->dims.n));
	assert_int_equal(p->linux_host.enforce_api, AH_ENFORCE_API_OFF); /* opt-in */
	assert_string_equal(p->linux_host.api_cgroup_parent, "");   /* "ahead" */
	assert_false(p->linux_host.adopt_drift);
	ah_policy_free(p);
	/* an empty [linux] section: the same */
	p = load(BASE "[linux]\n");
	assert_int_equal(p->linux_host.enforce, AH_ENFORCE_ON);
	assert_int_equal(p->linux_host.enforce_api, AH_ENFORCE_API_OFF);
	assert_false(p->linux_host.adopt_drift);
	assert_int_equal(p->linux_host.run_unreachable, AH_RUN_UNREACHABLE_REFUSE);
	assert_true(p->linux_host.run_hard_margin == 0.25);
	ah_policy_free(p);
}

static void test_values(void **state)
{
	(void)state;
	ah_policy *p = load("[ahead]\ndefault_class = c\n" BASE "enforce = dry-run\nrun_default = cpu=500m, memory=64Mi\n"
				 "[class d]\npriority = 2\nenforce = on\n"
				 "[linux]\nenforce = off\non_stop = restore\nshrink_cap = 10%\n"
				 "run_unreachable = class-default\nrun_hard_margin = 50%\n");
	assert_int_equal(p->linux_host.enforce, AH_ENFORCE_OFF);
	assert_int_equal(p->linux_host.on_stop, AH_ON_STOP_RESTORE);
	assert_true(p->linux_host.shrink_cap_frac == 0.1);
	assert_true(p->linux_host.shrink_cap_bytes == 0);
	assert_int_equal(p->linux_host.run_unreachable, AH_RUN_UNREACHABLE_CLASS_DEFAULT);
	assert_true(p->linux_host.run_hard_margin == 0.5);
	int c = ah_policy_find_class(p, "c"), d = ah_policy_find_class(p, "d");
	assert_int_equal(p->classes[c].enforce, AH_ENFORCE_DRY_RUN);
	assert_int_equal(p->classes[d].enforce, AH_ENFORCE_ON);
	assert_int_equal(p->classes[c].run_default.v[AH_DIM_CPU], 500);
	assert_int_equal(p->classes[c].run_default.v[AH_DIM_MEMORY], 64 * MiB);
	ah_policy_free(p);
	p = load(BASE "[linux]\nshrink_cap = 256Mi\nrun_unreachable = unconfined\nrun_hard_margin = 0\n");
	assert_true(p->linux_host.shrink_cap_bytes == (uint64_t)(256 * MiB));
	assert_true(p->linux_host.shrink_cap_frac == 0);
	assert_int_equal(p->linux_host.run_unreachable, AH_RUN_UNREACHABLE_UNCONFINED);
	assert_true(p->linux_host.run_hard_margin == 0);
	ah_policy_free(p);
	p = load(BASE "[linux]\nenforce_api = dry-run\napi_cgroup_parent = ahead.slice/api\non_drift = adopt\n");
	assert_int_equal(p->linux_host.enforce_api, AH_ENFORCE_API_DRY_RUN);
	assert_string_equal(p->linux_host.api_cgroup_parent, "ahead.slice/api");
	assert_true(p->linux_host.adopt_drift);
	ah_policy_free(p);
	p = load(BASE "[linux]\nenforce_api = on\non_drift = restore\n");
	assert_int_equal(p->linux_host.enforce_api, AH_ENFORCE_API_ON);
	assert_false(p->linux_host.adopt_drift);
	ah_policy_free(p);
	p = load(BASE "[linux]\nshrink_cap = 0\nrun_hard_margin = 1.5\n");
	assert_true(p->linux_host.shrink_cap_bytes == 0 && p->linux_host.shrink_cap_frac == 0);
	assert_true(p->linux_host.run_hard_margin == 1.5);
	ah_policy_free(p);
}

static void test_errors(void **state)
{
	(void)state;
	expect_fail(BASE "[linux]\nenforce = maybe\n", "t.ini:6: [linux] enforce: 'maybe' is not one of on, dry-run, off");
	expect_fail(BASE "[linux]\nenforce = \n", "[linux] enforce: '' is not one of on, dry-run, off");
	expect_fail(BASE "[linux]\non_stop = undo\n", "[linux] on_stop: 'undo' is not one of leave, restore");
	expect_fail(BASE "[linux]\nrun_unreachable = yolo\n",
		    "[linux] run_unreachable: 'yolo' is not one of refuse, unconfined, class-default");
	expect_fail(BASE "[linux]\nshrink_cap = 150%\n", "[linux] shrink_cap: 150% is above 100%");
	expect_fail(BASE "[linux]\nshrink_cap = -5%\n", "[linux] shrink_cap: '-5%' is not a percentage");
	expect_fail(BASE "[linux]\nshrink_cap = %\n", "[linux] shrink_cap: '%' is not a percentage");
	expect_fail(BASE "[linux]\nshrink_cap = lots\n",
		    "[linux] shrink_cap: 'lots' is neither a percentage (10%) nor an amount of memory (256Mi)");
	expect_fail(BASE "[linux]\nrun_hard_margin = 2000%\n", "[linux] run_hard_margin: 2000% is outside 0..10");
	expect_fail(BASE "[linux]\nrun_hard_margin = -1\n", "[linux] run_hard_margin: -1 is outside 0..10");
	expect_fail(BASE "[linux]\nrun_hard_margin = x\n", "[linux] run_hard_margin: 'x' is not a number");
	/* a class has no stop switch of its own: that is [linux]'s */
	expect_fail(BASE "enforce = off\n", "[class c] enforce: 'off' is not one of on, dry-run");
	expect_fail(BASE "run_default = cpu=lots\n", "[class c] run_default:");
	expect_fail(BASE "[linux]\nenforcement = on\n", "[linux] enforcement: unknown key");
	expect_fail(BASE "[linux]\nenforce_api = yes\n", "[linux] enforce_api: 'yes' is not one of off, on, dry-run");
	expect_fail(BASE "[linux]\non_drift = ignore\n", "[linux] on_drift: 'ignore' is not one of restore, adopt");
	expect_fail(BASE "[linux]\napi_cgroup_parent = \n", "[linux] api_cgroup_parent: '' is empty");
	expect_fail(BASE "[linux]\napi_cgroup_parent = a/../b\n", "[linux] api_cgroup_parent: 'a/../b' climbs out");
	expect_fail(BASE "[linux]\napi_cgroup_parent = /sys/fs/cgroup\n", "[linux] api_cgroup_parent: '/sys/fs/cgroup' is absolute");
	expect_fail(BASE "[linux]\napi_cgroup_parent = a/\n", "[linux] api_cgroup_parent: 'a/' has an empty path segment");
	expect_fail(BASE "[linux]\napi_cgroup_parent = a?\n", "[linux] api_cgroup_parent: 'a?' has a glob character");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
