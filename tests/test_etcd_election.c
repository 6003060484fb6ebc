/* One elected shaper on etcd (include/ahead/etcd_election.h) against one
 * etcd member this test starts on loopback ports 23790/23791 (skipped
 * without etcd): the first instance to campaign holds the key and the
 * other sees it; the holder's fencing token on its ledger handle lets its
 * commits through; once deposed (its lease gone, another holding the key),
 * the same commit is refused and writes nothing, while the new holder's
 * fenced commit goes through. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/etcd_election.h"
#include "ahead/ledger.h"
#include "ahead/ledger_etcd.h"
#include "ahead/policy.h"
#include "etcd_fixture.h"

#define EP "http://127.0.0.1:23790"

static const char *text = "[pool p]\ncapacity = cpu=8, memory=8Gi\n[class c]\npriority = 1\n[tenant t]\n";

static int setup(void **state)
{
	(void)state;
	return etcd_fx_start(EP, "http://127.0.0.1:23791");
}

static int teardown(void **state)
{
	(void)state;
	return etcd_fx_stop();
}

static int n_allocs;
static int count_alloc(void *ctx, const ah_ledger_row *r)
{
	(void)ctx;
	(void)r;
	n_allocs++;
	return 0;
}

static int allocs_in(ah_ledger *l, const ah_policy *pol)
{
	n_allocs = 0;
	ah_ledger_loader ld = {.alloc = count_alloc};
	uint64_t next = 0;
	assert_int_equal(l->ops->load(l, &pol->dims, &ld, &next), 0);
	return n_allocs;
}

/* One write through l: an allocation row (what a shaper's step would
 * commit stands in for). */
static int write_one(ah_ledger *l, const ah_policy *pol, uint64_t id)
{
	ah_ledger_row r = {.id = id, .tenant = "t", .pool = "p", .klass = "c", .params = "", .created_ns = 1,
			   .expires_ns = 100};
	r.res.v[ah_dimset_find(&pol->dims, "cpu")] = 1000;
	int rc = AH_EBUSY;
	/* refused because another handle committed: reload and try again, as
	 * the service does (a stale fence fails every try) */
	for (int i = 0; i < 4 && rc == AH_EBUSY; i++) {
		int b = l->ops->begin(l);
		if (b == 1) {
			allocs_in(l, pol);
			b = l->ops->begin(l);
		}
		assert_int_equal(b, 0);
		assert_int_equal(l->ops->put_alloc(l, &r), 0);
		rc = l->ops->commit(l);
		if (rc == AH_EBUSY)
			allocs_in(l, pol);
	}
	return rc;
}

static void deposed_shaper_refused(void **state)
{
	(void)state;
	etcd_fx_need();
	ah_policy *pol;
	char err[512];
	assert_int_equal(ah_policy_load_string(text, strlen(text), "t.ini", &pol, err, sizeof err), 0);
	const char *pfx = "/elect";
	ah_ledger *la = NULL, *lb = NULL;
	ah_ledger_etcd_opts o = {.timeout_ms = 2000, .lease_ttl_s = -1};
	assert_int_equal(ah_ledger_etcd_open(EP, pfx, &o, &la, err, sizeof err), 0);
	assert_int_equal(ah_ledger_etcd_open(EP, pfx, &o, &lb, err, sizeof err), 0);
	la->dims = lb->dims = &pol->dims;
	assert_int_equal(ah_ledger_policy_put(la, text, pol, 1), 0);

	ah_election *ea = NULL, *eb = NULL;
	assert_int_equal(ah_election_new(EP, pfx, "shaper", "a", 2, 2000, &ea, err, sizeof err), 0);
	assert_int_equal(ah_election_new(EP, pfx, "shaper", "b", 2, 2000, &eb, err, sizeof err), 0);
	ah_election_state sa, sb;
	assert_int_equal(ah_election_step(ea, &sa), 0);
	assert_int_equal(ah_election_step(eb, &sb), 0);
	assert_true(sa.mine);
	assert_false(sb.mine);
	assert_string_equal(sb.holder, "a");
	assert_true(sa.token > 0);
	assert_int_equal(sb.token, sa.token);
	/* a again: still its own, same token */
	assert_int_equal(ah_election_step(ea, &sa), 0);
	assert_true(sa.mine);
	assert_int_equal(sb.token, sa.token);

	/* the holder's fenced commit goes through */
	assert_int_equal(ah_ledger_etcd_fence(la, "shaper", sa.token), 0);
	assert_int_equal(write_one(la, pol, 1), 0);
	assert_int_equal(allocs_in(lb, pol), 1);

	/* a stops answering (no keep-alive: paused, cut off); its lease lapses
	 * with the key, and b takes over with a new token */
	bool taken = false;
	for (int i = 0; i < 80 && !taken; i++) {
		etcd_fx_sleep_ms(100);
		assert_int_equal(ah_election_step(eb, &sb), 0);
		taken = sb.mine;
	}
	assert_true(taken);
	assert_true(sb.token > sa.token);
	/* a's late write, still fenced with its old token: refused, nothing written */
	int rc = write_one(la, pol, 2);
	assert_int_equal(rc, AH_EBUSY);
	assert_non_null(strstr(ah_ledger_errmsg(la), "fencing token"));
	assert_int_equal(allocs_in(lb, pol), 1);
	/* the new holder's fenced write goes through */
	assert_int_equal(ah_ledger_etcd_fence(lb, "shaper", sb.token), 0);
	assert_int_equal(write_one(lb, pol, 3), 0);
	assert_int_equal(allocs_in(lb, pol), 2);
	/* a steps again: it learns it is deposed; b still holds it */
	assert_int_equal(ah_election_step(ea, &sa), 0);
	assert_false(sa.mine);
	assert_string_equal(sa.holder, "b");
	/* cleared, a's writes are ordinary ones again */
	assert_int_equal(ah_ledger_etcd_fence(la, NULL, 0), 0);
	assert_int_equal(write_one(la, pol, 4), 0);
	/* b resigns: the key is gone at once and a may take it */
	ah_election_free(eb, true);
	assert_int_equal(ah_election_step(ea, &sa), 0);
	assert_true(sa.mine);
	assert_int_equal(ah_ledger_etcd_fence(la, "x", 0), 0);
	assert_int_equal(ah_ledger_etcd_fence(NULL, "shaper", 1), AH_EINVAL);
	ah_election_free(ea, true);
	ah_ledger_free(la);
	ah_ledger_free(lb);
	ah_policy_free(pol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(deposed_shaper_refused)};
	return cmocka_run_group_tests(tests, setup, teardown);
}
