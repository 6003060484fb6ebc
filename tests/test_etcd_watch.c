/* The watch on an etcd ledger (include/ahead/etcd_watch.h) against
 * one etcd member this test starts on loopback ports 23792/23793 (skipped
 * without etcd): a commit through another handle wakes the descriptor and
 * reports the head's new revision, the one the committing handle got; a
 * watch resumed from a compacted revision says "relist" once, then goes on
 * from the compact revision, so a commit right after the relist is not
 * missed; a restarted stream still delivers; the watch's mirror of
 * PREFIX/s/ is what a range reads (after puts, a rewrite, a delete, and a
 * compaction), and a ledger loaded from it has the range's rows and
 * revision; a member that is not there leaves the watch down with the
 * reason. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <poll.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/etcd_watch.h"
#include "ahead/ledger.h"
#include "ahead/ledger_etcd.h"
#include "ahead/policy.h"
#include "etcd_fixture.h"
#include "store/etcd_client.h"
#include "store/etcd_watch_int.h"
#include "store/ledger_etcd_int.h"

#define EP "http://127.0.0.1:23792"

static const char *text = "[pool p]\ncapacity = cpu=8, memory=8Gi\n[class c]\npriority = 1\n[tenant t]\n";

static int setup(void **state)
{
	(void)state;
	return etcd_fx_start(EP, "http://127.0.0.1:23793");
}

static int teardown(void **state)
{
	(void)state;
	return etcd_fx_stop();
}

static int skip_row(void *ctx, const ah_ledger_row *r)
{
	(void)ctx;
	(void)r;
	return 0;
}

static int count_row(void *ctx, const ah_ledger_row *r)
{
	(void)r;
	(*(int *)ctx)++;
	return 0;
}

/* One allocation row committed through l (reloading when another handle
 * committed first), or deleted (del); the head revision it committed at. */
static long long change_one(ah_ledger *l, const ah_policy *pol, uint64_t id, bool del)
{
	ah_ledger_row r = {.id = id, .tenant = "t", .pool = "p", .klass = "c", .params = "", .created_ns = 1,
			   .expires_ns = 100};
	r.res.v[ah_dimset_find(&pol->dims, "cpu")] = 100;
	ah_ledger_loader ld = {.alloc = skip_row};
	uint64_t next;
	int rc = AH_EBUSY;
	for (int i = 0; i < 4 && rc == AH_EBUSY; i++) {
		int b = l->ops->begin(l);
		if (b == 1) {
			assert_int_equal(l->ops->load(l, &pol->dims, &ld, &next), 0);
			b = l->ops->begin(l);
		}
		assert_int_equal(b, 0);
		assert_int_equal(del ? l->ops->del_alloc(l, id) : l->ops->put_alloc(l, &r), 0);
		rc = l->ops->commit(l);
		if (rc == AH_EBUSY)
			assert_int_equal(l->ops->load(l, &pol->dims, &ld, &next), 0);
	}
	assert_int_equal(rc, 0);
	return ah_ledger_etcd_revision(l);
}

static long long write_one(ah_ledger *l, const ah_policy *pol, uint64_t id)
{
	return change_one(l, pol, id, false);
}

/* The watch's mirror is what etcd holds under PREFIX/s/ now: the same
 * keys, values and mod revisions as a range (waits up to 5 s for it). */
static void mirror_matches(ah_etcd_watch *w, const char *prefix)
{
	char from[256], to[256], err[256];
	snprintf(from, sizeof from, "%s/s/", prefix);
	etcd_prefix_end(from, to, sizeof to);
	etcd_client *c = NULL;
	assert_int_equal(etcd_client_new(EP, 2000, &c, err, sizeof err), 0);
	json_t *rq = json_pack("{s:o,s:o}", "key", etcd_b64s(from), "range_end", etcd_b64s(to)), *want = NULL;
	assert_int_equal(etcd_call(c, "/v3/kv/range", rq, &want), 0);
	json_decref(rq);
	etcd_client_free(c);
	json_t *wk = json_object_get(want, "kvs");
	assert_true(json_array_size(wk) >= 3); /* head, policy, rows */
	json_t *got = NULL;
	bool same = false;
	for (int i = 0; i < 100 && !same; i++) {
		json_decref(got);
		got = NULL;
		if (etcd_watch_view(w, 0, &got) == 0) {
			json_t *gk = json_object_get(got, "kvs");
			same = json_array_size(gk) == json_array_size(wk);
			for (size_t j = 0; same && j < json_array_size(wk); j++) {
				json_t *a = json_array_get(gk, j), *b = json_array_get(wk, j);
				same = json_equal(json_object_get(a, "key"), json_object_get(b, "key")) &&
				       json_equal(json_object_get(a, "value"), json_object_get(b, "value")) &&
				       etcd_i64(a, "mod_revision") == etcd_i64(b, "mod_revision");
			}
		}
		if (!same)
			etcd_fx_sleep_ms(50);
	}
	assert_true(same);
	assert_true(etcd_revision(got) > 0);
	json_decref(got);
	/* nor one older than a head asked for */
	assert_int_equal(etcd_watch_view(w, INT64_MAX, &got), AH_ENOENT);
	json_decref(want);
}

/* A ledger under prefix with the test's policy applied. */
static ah_ledger *ledger_at(const char *prefix, ah_policy **pol)
{
	char err[512];
	ah_ledger *l = NULL;
	assert_int_equal(ah_policy_load_string(text, strlen(text), "t.ini", pol, err, sizeof err), 0);
	ah_ledger_etcd_opts o = {.timeout_ms = 2000, .lease_ttl_s = -1};
	assert_int_equal(ah_ledger_etcd_open(EP, prefix, &o, &l, err, sizeof err), 0);
	l->dims = &(*pol)->dims;
	assert_int_equal(ah_ledger_policy_put(l, text, *pol, 1), 0);
	return l;
}

/* Waits (at most ms) until the watch reports rev or more, or relists. */
static ah_etcd_watch_state wait_for(ah_etcd_watch *w, long long rev, int ms)
{
	ah_etcd_watch_state st = {0};
	for (int waited = 0; waited <= ms; waited += 50) {
		struct pollfd pf = {.fd = ah_etcd_watch_fd(w), .events = POLLIN};
		(void)poll(&pf, 1, 50);
		ah_etcd_watch_state now;
		ah_etcd_watch_take(w, &now);
		bool relist = st.relist || now.relist;
		st = now;
		st.relist = relist;
		if (st.rev >= rev || st.relist)
			break;
	}
	return st;
}

static void reports_commits(void **state)
{
	(void)state;
	etcd_fx_need();
	ah_policy *pol;
	char err[512];
	ah_ledger *l = ledger_at("/w1", &pol);
	long long r1 = write_one(l, pol, 1);
	assert_true(r1 > 0);

	ah_etcd_watch *w = NULL;
	assert_int_equal(ah_etcd_watch_new(EP, "/w1", r1, &w, err, sizeof err), 0);
	assert_true(ah_etcd_watch_fd(w) >= 0);
	long long r2 = write_one(l, pol, 2);
	assert_true(r2 > r1);
	ah_etcd_watch_state st = wait_for(w, r2, 5000);
	assert_int_equal(st.rev, r2);
	/* the revision may come from the mirror's first read, before the
	 * stream is confirmed */
	for (int i = 0; i < 100 && !st.up; i++) {
		etcd_fx_sleep_ms(50);
		ah_etcd_watch_take(w, &st);
	}
	assert_true(st.up);
	assert_false(st.relist);
	assert_true(st.event_mono_ns > 0);
	assert_string_equal(st.endpoint, EP);

	/* another prefix's commits are not this ledger's */
	ah_policy *pol2;
	ah_ledger *other = ledger_at("/w1x", &pol2);
	(void)write_one(other, pol2, 1);
	st = wait_for(w, r2 + 1, 500);
	assert_int_equal(st.rev, r2);

	/* a restarted stream (the owner's stall check) still delivers */
	ah_etcd_watch_restart(w, r2);
	/* libcurl's progress call: ~1 s, more on a loaded machine */
	for (int i = 0; i < 200 && (st.reconnects < 1 || !st.up); i++) {
		etcd_fx_sleep_ms(50);
		ah_etcd_watch_take(w, &st);
	}
	assert_true(st.reconnects >= 1);
	assert_true(st.up);
	long long r3 = write_one(l, pol, 3);
	st = wait_for(w, r3, 5000);
	assert_int_equal(st.rev, r3);
	assert_true(st.events >= 1); /* r3 came on the stream, open before it */
	/* the mirror followed the puts, a rewrite and a delete in order */
	long long r4 = change_one(l, pol, 2, true);
	(void)write_one(l, pol, 1);
	st = wait_for(w, r4, 5000);
	mirror_matches(w, "/w1");
	assert_true(st.bases >= 1);

	/* a load from the mirror is the load a range gives: the rows and the
	 * revision; a fresh one ranges in etcd instead */
	ah_ledger *l2 = NULL;
	ah_ledger_etcd_opts o = {.timeout_ms = 2000, .lease_ttl_s = -1};
	assert_int_equal(ah_ledger_etcd_open(EP, "/w1", &o, &l2, err, sizeof err), 0);
	l2->dims = &pol->dims;
	assert_int_equal(ah_ledger_etcd_watch_attach(l2, w), 0);
	int n_rows = 0;
	ah_ledger_loader ld = {.alloc = count_row, .ctx = &n_rows};
	uint64_t next = 0;
	assert_int_equal(l2->ops->load(l2, &pol->dims, &ld, &next), 0);
	assert_int_equal(n_rows, 2); /* 1 and 3; 2 was deleted */
	assert_int_equal(ah_ledger_etcd_revision(l2), ah_ledger_etcd_revision(l));
	assert_int_equal(((etcd_ledger *)l2)->prof.mirror_loads, 1);
	ah_ledger_etcd_load_fresh(l2);
	n_rows = 0;
	assert_int_equal(l2->ops->load(l2, &pol->dims, &ld, &next), 0);
	assert_int_equal(n_rows, 2);
	assert_int_equal(((etcd_ledger *)l2)->prof.mirror_loads, 1);
	assert_int_equal(ah_ledger_etcd_watch_attach(l2, NULL), 0);
	ah_ledger_free(l2);
	ah_etcd_watch_free(w);
	ah_ledger_free(other);
	ah_policy_free(pol2);
	ah_ledger_free(l);
	ah_policy_free(pol);
}

static void compacted_history_relists(void **state)
{
	(void)state;
	etcd_fx_need();
	ah_policy *pol;
	char err[512];
	ah_ledger *l = ledger_at("/w2", &pol);
	long long r1 = write_one(l, pol, 1);
	long long r2 = write_one(l, pol, 2);
	(void)write_one(l, pol, 3);
	/* etcd forgets every revision before r2's successor */
	etcd_client *c = NULL;
	assert_int_equal(etcd_client_new(EP, 2000, &c, err, sizeof err), 0);
	json_t *rq = json_pack("{s:I}", "revision", (json_int_t)(r2 + 1)), *resp = NULL;
	assert_int_equal(etcd_call(c, "/v3/kv/compaction", rq, &resp), 0);
	json_decref(rq);
	json_decref(resp);
	etcd_client_free(c);

	/* a watch that would resume after r1 finds that history gone */
	ah_etcd_watch *w = NULL;
	assert_int_equal(ah_etcd_watch_new(EP, "/w2", r1, &w, err, sizeof err), 0);
	ah_etcd_watch_state st = wait_for(w, INT64_MAX, 5000);
	assert_true(st.relist);
	assert_int_equal(st.relists, 1);
	assert_int_equal(st.compact_rev, r2 + 1);
	assert_non_null(strstr(st.err, "compacted"));
	/* taken once: the owner re-lists; a commit at once after it (before
	 * the new stream may be open) still arrives */
	ah_etcd_watch_take(w, &st);
	assert_false(st.relist);
	long long r4 = write_one(l, pol, 4);
	st = wait_for(w, r4, 5000);
	assert_int_equal(st.rev, r4);
	assert_false(st.relist);
	assert_true(st.up);
	/* the mirror was read again after the compaction, and follows */
	(void)change_one(l, pol, 1, true);
	mirror_matches(w, "/w2");
	ah_etcd_watch_free(w);
	ah_ledger_free(l);
	ah_policy_free(pol);
}

static void no_member_is_down_with_reason(void **state)
{
	(void)state;
	ah_etcd_watch *w = NULL;
	char err[256];
	/* nothing listens on port 9 */
	assert_int_equal(ah_etcd_watch_new("http://127.0.0.1:9", "/w3", 0, &w, err, sizeof err), 0);
	ah_etcd_watch_state st = {0};
	for (int i = 0; i < 60 && !st.err[0]; i++) {
		etcd_fx_sleep_ms(50);
		ah_etcd_watch_take(w, &st);
	}
	assert_false(st.up);
	assert_non_null(strstr(st.err, "127.0.0.1:9"));
	ah_etcd_watch_free(w);
	/* a bad endpoint list is refused at once */
	assert_int_equal(ah_etcd_watch_new("ftp://x", "/w3", 0, &w, err, sizeof err), AH_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reports_commits),
		cmocka_unit_test(compacted_history_relists),
		cmocka_unit_test(no_member_is_down_with_reason),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
