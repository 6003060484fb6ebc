/* The grammar of names (names.h), shared by every caller: each kind's
 * accepted and refused names, and the callers that must agree on them —
 * the policy file, the engine, the dimension set, the trace reader and the
 * request parameters. */
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
#include "ahead/names.h"
#include "ahead/policy.h"
#include "ahead/resource.h"
#include "ahead/trace.h"
#include "ahead/usage.h"

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void test_object_names(void **state)
{
	(void)state;
	const char *ok[] = {"a", "0", "acme", "team-a", "a.b_c-d", "9lives", "x."};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		assert_int_equal(ah_name_check_object(ok[i]), 0);
	const char *bad[] = {"", "_x", "..", "--", ".a", "-a", "A", "acme!", "a b", "*", "é", "a/b"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(ah_name_check_object(bad[i]), AH_EINVAL);
	assert_int_equal(ah_name_check_object(NULL), AH_EINVAL);
	char *s = repeat('a', AH_NAME_MAX - 1);
	assert_int_equal(ah_name_check_object(s), 0);
	free(s);
	s = repeat('a', AH_NAME_MAX);
	assert_int_equal(ah_name_check_object(s), AH_ETOOBIG);
	free(s);
}

static void test_dim_names(void **state)
{
	(void)state;
	const char *ok[] = {"cpu", "qubits", "gpu_mem", "a1"};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		assert_int_equal(ah_name_check_dim(ok[i]), 0);
	const char *bad[] = {"", "1a", "_a", "Gpu", "gpu-mem", "gpu.mem", "a b"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(ah_name_check_dim(bad[i]), AH_EINVAL);
	char *s = repeat('a', AH_NAME_MAX);
	assert_int_equal(ah_name_check_dim(s), AH_ETOOBIG);
	free(s);
	/* the dimension set follows the same grammar */
	ah_dimset ds;
	ah_dimset_init(&ds);
	assert_int_equal(ah_dimset_add(&ds, "gpu_mem", AH_UNIT_BYTES, NULL), 0);
	assert_int_not_equal(ah_dimset_add(&ds, "gpu-mem", AH_UNIT_BYTES, NULL), 0);
}

static void test_workload_names(void **state)
{
	(void)state;
	const char *ok[] = {"w", "Render", "job:42", "ns/app@v1+b", "a_b.c-d", "_x", ".."};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		assert_int_equal(ah_name_check_workload(ok[i]), 0);
	const char *bad[] = {"", "a b", "a,b", "a\tb", "a=b", "é"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(ah_name_check_workload(bad[i]), AH_EINVAL);
	char *s = repeat('w', AH_WORKLOAD_MAX - 1);
	assert_int_equal(ah_name_check_workload(s), 0);
	free(s);
	s = repeat('w', AH_WORKLOAD_MAX);
	assert_int_equal(ah_name_check_workload(s), AH_ETOOBIG);
	free(s);
}

static void test_param_names(void **state)
{
	(void)state;
	assert_int_equal(ah_name_check_param_key("Frames.N-1_x"), 0);
	assert_int_equal(ah_name_check_param_key(""), AH_EINVAL);
	assert_int_equal(ah_name_check_param_key("a b"), AH_EINVAL);
	assert_int_equal(ah_name_check_param_key("a:b"), AH_EINVAL);
	char *s = repeat('k', AH_PARAM_KEY_MAX);
	assert_int_equal(ah_name_check_param_key(s), AH_ETOOBIG);
	free(s);
	assert_int_equal(ah_name_check_param_value(""), 0);
	assert_int_equal(ah_name_check_param_value("1080p ok"), 0);
	assert_int_equal(ah_name_check_param_value("a\nb"), AH_EINVAL);
	assert_int_equal(ah_name_check_param_value("a\x7f"), AH_EINVAL);
	s = repeat('v', AH_PARAM_VALUE_MAX);
	assert_int_equal(ah_name_check_param_value(s), AH_ETOOBIG);
	free(s);
	/* the parameter string applies the same rules item by item */
	ah_shadow_param pv[AH_SHADOW_MAX_PARAMS];
	int n = -1;
	char err[128];
	assert_int_equal(ah_shadow_params_parse("Frames=10,res=1080p", pv, &n, err, sizeof err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ah_shadow_params_parse("a:b=1", pv, &n, err, sizeof err), AH_EINVAL);
	assert_int_equal(ah_shadow_params_parse("a=\x01", pv, &n, err, sizeof err), AH_EINVAL);
}

/* The policy file and the engine agree: a tenant name the policy grammar
 * refuses is refused by the engine under unknown_tenants = default, with a
 * reason naming the field (before names.h the engine granted "_x", ".."
 * and "--"). */
static const char *POLICY = "[ahead]\nunknown_tenants = default\n"
			    "[pool p]\ncapacity = cpu=8, memory=8Gi\n"
			    "[class standard]\npriority = 50\nquantile = 0.9\n"
			    "[tenant *]\nquota = cpu=8, memory=8Gi\n";

static bool policy_takes_tenant(const char *name)
{
	char text[512];
	snprintf(text, sizeof text, "%s[tenant %s]\nquota = cpu=1\n", POLICY, name);
	ah_policy *p = NULL;
	int rc = ah_policy_load_string(text, strlen(text), "t.ini", &p, NULL, 0);
	ah_policy_free(p);
	return rc == 0;
}

static void test_engine_tenant_names(void **state)
{
	(void)state;
	ah_policy *pol = NULL;
	char err[512];
	assert_int_equal(ah_policy_load_string(POLICY, strlen(POLICY), "t.ini", &pol, err, sizeof err), 0);
	ah_ledger *led = NULL;
	ah_engine *e = NULL;
	assert_int_equal(ah_ledger_memory_new(64, &led), 0);
	assert_int_equal(ah_engine_new(pol, led, 0, &e), 0);
	const char *names[] = {"_x", "..", "--", "-a", ".hidden", "Acme", "newcomer", "team-a", "0day"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		bool ok = policy_takes_tenant(names[i]);
		assert_int_equal(ok, ah_name_check_object(names[i]) == 0);
		ah_request rq = {.tenant = names[i], .pool = "p", .queue_timeout_ns = -1};
		rq.res.v[AH_DIM_CPU] = 100;
		ah_decision d;
		assert_int_equal(ah_engine_request(e, &rq, 0, &d), 0);
		if (ok) {
			assert_int_equal(d.outcome, AH_GRANTED);
		} else {
			assert_int_equal(d.outcome, AH_REFUSED);
			assert_int_equal(d.reason, AH_R_INVALID);
			assert_non_null(strstr(d.message, "tenant: '"));
			assert_non_null(strstr(d.message, names[i]));
			assert_non_null(strstr(d.message, AH_NAME_OBJECT_GRAMMAR));
		}
	}
	ah_engine_free(e);
	ah_ledger_free(led);
	ah_policy_free(pol);
}

/* Plain traces name workloads with the workload grammar ('@' and '+'
 * included), within the replay's 63 bytes. */
static int read_trace(const char *text, char *err, size_t errlen)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	ah_trace *tr = NULL;
	int rc = ah_trace_open_stream(f, "t.csv", AH_TRACE_PLAIN, &tr);
	ah_trace_row row;
	while (rc == 0 && (rc = ah_trace_next(tr, &row)) == 1)
		rc = 0;
	if (rc < 0 && tr)
		snprintf(err, errlen, "%s", ah_trace_error(tr));
	ah_trace_free(tr);
	fclose(f);
	return rc < 0 ? rc : 0;
}

static void test_trace_workload_names(void **state)
{
	(void)state;
	char err[256] = "";
	assert_int_equal(read_trace("time,workload,dim,used\n0,ns/app@v1+b,cpu,1\n", err, sizeof err), 0);
	assert_true(read_trace("time,workload,dim,used\n0,a=b,cpu,1\n", err, sizeof err) < 0);
	assert_non_null(strstr(err, "workload: bad character"));
}

/* Outside text: UTF-8 in shortest form, no control characters. */
static void test_text(void **state)
{
	(void)state;
	static const char *good[] = {"", "plain", "caf\xc3\xa9", "\xe2\x98\x95", "\xf0\x9f\x98\x80", "\xc2\xa0",
				     "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf"};
	static const struct {
		const char *s, *why;
	} bad[] = {
		{"\xff", "not valid UTF-8"},         {"a\xc3", "not valid UTF-8"},      /* truncated */
		{"\xc0\xaf", "not valid UTF-8"},     {"\xe0\x80\xaf", "not valid UTF-8"}, /* overlong */
		{"\xed\xa0\x80", "not valid UTF-8"}, {"\xf4\x90\x80\x80", "not valid UTF-8"}, /* surrogate, > U+10FFFF */
		{"\x80", "not valid UTF-8"},         {"a\tb", "has a control character"},
		{"\x7f", "has a control character"}, {"\xc2\x85", "has a control character"}, /* C1 NEL */
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		assert_int_equal(ah_name_check_text(good[i], strlen(good[i]), NULL), 0);
		assert_int_equal(ah_name_check_param_value(good[i]), 0);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *why = NULL;
		assert_int_equal(ah_name_check_text(bad[i].s, strlen(bad[i].s), &why), AH_EINVAL);
		assert_string_equal(why, bad[i].why);
		assert_int_equal(ah_name_check_param_value(bad[i].s), AH_EINVAL);
	}
	/* a NUL inside the checked bytes is refused too */
	assert_int_equal(ah_name_check_text("a\0b", 3, NULL), AH_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_object_names),       cmocka_unit_test(test_dim_names),
		cmocka_unit_test(test_workload_names),     cmocka_unit_test(test_param_names), cmocka_unit_test(test_text),
		cmocka_unit_test(test_engine_tenant_names), cmocka_unit_test(test_trace_workload_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
