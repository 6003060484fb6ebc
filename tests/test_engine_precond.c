/* A commit carries what its decision read: the policy generation. On a
 * store without a global write lock (the memory ledger checks it, as etcd
 * will), a decision made under a policy that changed meanwhile is refused
 * and nothing of it stays. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ahead/engine.h"
#include "ahead/error.h"
#include "ahead/ledger.h"
#include "ahead/policy.h"

static const char *text = "[pool p]\ncapacity = cpu=8, memory=8Gi\n[class c]\npriority = 1\n[tenant t]\n";

static void stale_policy_refused(void **state)
{
	(void)state;
	ah_policy *pol;
	char err[256];
	assert_int_equal(ah_policy_load_string(text, strlen(text), "t.ini", &pol, err, sizeof err), 0);
	ah_ledger *led;
	assert_int_equal(ah_ledger_memory_new(16, &led), 0);
	assert_int_equal(ah_ledger_policy_put(led, text, pol, 0), 0);
	uint64_t gen;
	assert_int_equal(ah_ledger_policy_generation(led, &gen), 0);
	assert_true(gen > 0);
	ah_engine *e;
	assert_int_equal(ah_engine_new(pol, led, 0, &e), 0);
	ah_engine_set_policy_generation(e, gen);
	ah_request rq = {.tenant = "t", .pool = "p", .queue_timeout_ns = 0};
	rq.res.v[ah_dimset_find(&pol->dims, "cpu")] = 1000;
	ah_decision d;
	assert_int_equal(ah_engine_request(e, &rq, 1, &d), 0);
	assert_int_equal(d.outcome, AH_GRANTED);
	/* another writer applies a policy: this engine still runs the old one */
	assert_int_equal(ah_ledger_policy_put(led, text, pol, 2), 0);
	assert_int_equal(ah_engine_request(e, &rq, 3, &d), AH_EBUSY);
	/* the owner catches up (a new generation, a reload): work goes on */
	assert_int_equal(ah_ledger_policy_generation(led, &gen), 0);
	ah_engine_set_policy_generation(e, gen);
	assert_int_equal(ah_engine_reload(e, 4), 0);
	assert_int_equal(ah_engine_request(e, &rq, 5, &d), 0);
	assert_int_equal(d.outcome, AH_GRANTED);
	/* without a declared generation nothing is checked */
	ah_engine_set_policy_generation(e, 0);
	assert_int_equal(ah_ledger_policy_put(led, text, pol, 6), 0);
	assert_int_equal(ah_engine_request(e, &rq, 7, &d), 0);
	ah_engine_free(e);
	ah_ledger_free(led);
	ah_policy_free(pol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(stale_policy_refused)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
