/* Anomaly events in the shadow store: round trip, filter, bad input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ahead/error.h"
#include "ahead/shadow.h"

typedef struct {
	int n;
	ah_shadow_anomaly a[8];
} acc;

static int collect(void *ctx, const ah_shadow_anomaly *a)
{
	acc *c = ctx;
	if (c->n < 8)
		c->a[c->n] = *a;
	c->n++;
	return 0;
}

static void test_round_trip(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof path, "/tmp/ahead-anom-%d-shadow.db", (int)getpid());
	unlink(path);
	ah_shadow *s;
	assert_int_equal(ah_shadow_open(path, &s), 0);
	int64_t id;
	assert_int_equal(ah_shadow_anomaly_add(s, "web", "cpu", 200, 300, 0.9, &id), 0);
	assert_int_equal(ah_shadow_anomaly_add(s, "web", "memory", 100, 150, 0.5, NULL), 0);
	assert_int_equal(ah_shadow_anomaly_add(s, "db", "cpu", 50, 60, 1.0, NULL), 0);
	assert_int_equal(ah_shadow_anomaly_add(s, "web", "cpu", 300, 200, 0.9, NULL), AH_ERANGE);
	assert_int_equal(ah_shadow_anomaly_add(s, "web", "cpu", 1, 2, NAN, NULL), AH_ERANGE);
	assert_int_equal(ah_shadow_anomaly_add(s, "web", "cpu", 1, 2, 1.5, NULL), AH_ERANGE);
	assert_true(ah_shadow_anomaly_add(s, "", "cpu", 1, 2, 0.5, NULL) < 0);
	assert_true(ah_shadow_anomaly_add(s, "web", "Bad Dim", 1, 2, 0.5, NULL) < 0);
	ah_shadow_free(s);
	assert_int_equal(ah_shadow_open(path, &s), 0);
	acc c = {0};
	assert_int_equal(ah_shadow_anomaly_list(s, "web", collect, &c), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.a[0].dim, "memory"); /* by start time */
	assert_int_equal(c.a[1].id, id);
	assert_int_equal(c.a[1].start_ns, 200);
	assert_int_equal(c.a[1].end_ns, 300);
	assert_true(fabs(c.a[1].score - 0.9) < 1e-12);
	c.n = 0;
	assert_int_equal(ah_shadow_anomaly_list(s, NULL, collect, &c), 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.a[0].workload, "db");
	ah_shadow_free(s);
	unlink(path);
	char p2[160];
	snprintf(p2, sizeof p2, "%s-wal", path);
	unlink(p2);
	snprintf(p2, sizeof p2, "%s-shm", path);
	unlink(p2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_round_trip)};
	return cmocka_run_group_tests_name("shadow_anomaly", tests, NULL, NULL);
}
