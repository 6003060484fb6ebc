/* The one JSON shape (include/ahead/encode.h): outside bytes never vanish
 * (a refusal's message, an event's detail, a parameter that is not UTF-8),
 * times carry milliseconds, resources are integer objects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ahead/encode.h"

static const char *policy_text = "[pool p]\ncapacity = cpu=4\n[class c]\npriority = 1\n";

static ah_policy *load(void)
{
	ah_policy *p = NULL;
	char err[256];
	assert_int_equal(ah_policy_load_string(policy_text, strlen(policy_text), "t.ini", &p, err, sizeof err), 0);
	return p;
}

static void test_text_never_fails(void **state)
{
	(void)state;
	json_t *j = ah_json_text("ok\xff\xc0\xafz\x01");
	assert_non_null(j);
	assert_string_equal(json_string_value(j), "ok\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz\x01");
	json_decref(j);
	j = ah_json_text("\xe2\x82\xac"); /* valid UTF-8 is kept as it is */
	assert_string_equal(json_string_value(j), "\xe2\x82\xac");
	json_decref(j);
	j = ah_json_text(NULL);
	assert_string_equal(json_string_value(j), "");
	json_decref(j);
}

static void test_refusal_keeps_message(void **state)
{
	(void)state;
	ah_policy *p = load();
	ah_decision d;
	memset(&d, 0, sizeof d);
	d.outcome = AH_REFUSED;
	snprintf(d.message, sizeof d.message, "tenant '\xff\xfe' unknown");
	snprintf(d.corrections, sizeof d.corrections, "raised cpu\xff; second");
	json_t *o = ah_json_decision(p, &d, "w\xff", NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "outcome")), "refused");
	assert_string_equal(json_string_value(json_object_get(o, "message")),
			    "tenant '\xEF\xBF\xBD\xEF\xBF\xBD' unknown");
	assert_int_equal(json_array_size(json_object_get(o, "corrections")), 2);
	assert_string_equal(json_string_value(json_object_get(o, "workload")), "w\xEF\xBF\xBD");
	json_decref(o);
	ah_policy_free(p);
}

static void test_grant_shape(void **state)
{
	(void)state;
	ah_policy *p = load();
	ah_decision d;
	memset(&d, 0, sizeof d);
	d.outcome = AH_GRANTED;
	d.id = 7;
	d.res.v[0] = 1500;
	d.lease_expires_ns = 1700000000123456789LL;
	json_t *o = ah_json_decision(p, &d, NULL, NULL);
	json_t *res = json_object_get(o, "resources");
	assert_true(json_is_object(res));
	assert_int_equal(json_integer_value(json_object_get(res, "cpu")), 1500);
	assert_string_equal(json_string_value(json_object_get(o, "lease_expires")), "2023-11-14T22:13:20.123Z");
	assert_null(json_object_get(o, "lease_expires_ns"));
	assert_true(json_is_null(json_object_get(o, "workload")));
	json_decref(o);
	ah_policy_free(p);
}

static void test_event_keeps_detail(void **state)
{
	(void)state;
	ah_service_event ev = {.seq = 3, .t_ns = 1700000000000000000LL, .kind = "refuse", .tenant = "t\xff",
			       .pool = "p", .klass = "c", .resources = "gpu=2,memory=1Gi", .reason = "quota",
			       .detail = "bad\xff", .data = "{broken"};
	json_t *o = ah_json_event(&ev);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "detail")), "bad\xEF\xBF\xBD");
	assert_string_equal(json_string_value(json_object_get(o, "tenant")), "t\xEF\xBF\xBD");
	json_t *res = json_object_get(o, "resources");
	assert_int_equal(json_integer_value(json_object_get(res, "gpu")), 2); /* a dimension no longer declared */
	assert_int_equal(json_integer_value(json_object_get(res, "memory")), 1073741824);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "data"), "text")), "{broken");
	assert_true(json_is_null(json_object_get(o, "id")));
	json_decref(o);
}

static void test_error_and_dump(void **state)
{
	(void)state;
	json_t *e = ah_json_error("usage", "--lease: bad\xff", "--lease");
	json_t *in = json_object_get(e, "error");
	assert_string_equal(json_string_value(json_object_get(in, "code")), "usage");
	assert_string_equal(json_string_value(json_object_get(in, "field")), "--lease");
	assert_string_equal(json_string_value(json_object_get(in, "message")), "--lease: bad\xEF\xBF\xBD");
	json_decref(e);
	json_t *r = json_pack("{s:f}", "q", 0.99);
	char *s = ah_json_dumps(r);
	assert_non_null(strstr(s, "0.99"));
	assert_null(strstr(s, "0.9899999"));
	free(s);
	json_decref(r);
	json_t *t = ah_json_seconds(90LL * 1000000000);
	assert_int_equal(json_integer_value(t), 90);
	json_decref(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_never_fails),   cmocka_unit_test(test_refusal_keeps_message),
		cmocka_unit_test(test_grant_shape),        cmocka_unit_test(test_event_keeps_detail),
		cmocka_unit_test(test_error_and_dump),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
