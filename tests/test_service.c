/* The service layer as a long-lived owner of the loop: it notices a policy
 * another process applied, recovers from a failed transaction by reloading
 * instead of refusing all later work, and feeds the usage history
 * (request → record → reports → release → the next prediction). */
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
#include "ahead/ledger_sqlite.h"
#include "ahead/service.h"
#include "ahead/shadow.h"
#include "ahead/shadow_alloc.h"
#include "db_fixture.h"

#define S INT64_C(1000000000)
#define T0 (INT64_C(1700000000) * S)

static char db[256], shadow[300];

static const char *pol_small = "[ahead]\nlease_ttl = 1h\n[pool p]\ncapacity = cpu=4, memory=8Gi\n"
			       "[class std]\npriority = 1\nquantile = 0.9\n[tenant t]\n";
static const char *pol_big = "[ahead]\nlease_ttl = 1h\n[pool p]\ncapacity = cpu=16, memory=8Gi\n"
			     "[class std]\npriority = 1\nquantile = 0.9\n[tenant t]\n[tenant u]\n";

static int setup(void **state)
{
	(void)state;
	snprintf(db, sizeof db, "/tmp/ahead-test-service-%d.db", (int)getpid());
	snprintf(shadow, sizeof shadow, "/tmp/ahead-test-service-%d-shadow.db", (int)getpid());
	db_fixture_unlink(db);
	db_fixture_unlink(shadow);
	char err[512];
	assert_int_equal(ah_service_policy_apply(db, pol_small, strlen(pol_small), "small.ini", T0, NULL, err, sizeof err),
			 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	db_fixture_unlink(db);
	db_fixture_unlink(shadow);
	return 0;
}

static int warnings;
static void count_warn(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
	warnings++;
}

static ah_service *open_svc(int64_t now)
{
	ah_service_opts o;
	ah_service_opts_init(&o);
	o.db_path = db;
	o.shadow_path = shadow;
	o.warn = count_warn;
	ah_service *s = NULL;
	char err[512];
	int rc = ah_service_open(&o, now, &s, err, sizeof err);
	if (rc)
		fail_msg("open: %s", err);
	return s;
}

static ah_request cpu_request(const ah_service *s, int64_t millicores)
{
	ah_request rq = {.tenant = "t", .pool = "p", .queue_timeout_ns = 0};
	rq.res.v[ah_dimset_find(&ah_service_policy_get(s)->dims, "cpu")] = millicores;
	return rq;
}

static void notices_policy_of_another_process(void **state)
{
	(void)state;
	ah_service *s = open_svc(T0);
	ah_service_decision d;
	ah_request rq = cpu_request(s, 8000);
	assert_int_equal(ah_service_request(s, &rq, T0 + S, &d), 0);
	assert_int_equal(d.d.outcome, AH_REFUSED); /* 8 cores in a 4-core pool */
	/* another process applies a bigger pool */
	char err[512];
	assert_int_equal(ah_service_policy_apply(db, pol_big, strlen(pol_big), "big.ini", T0 + 2 * S, NULL, err, sizeof err),
			 0);
	assert_int_equal(ah_service_request(s, &rq, T0 + 3 * S, &d), 0);
	assert_int_equal(d.d.outcome, AH_GRANTED);
	/* a tenant only the new policy names: the engine runs the new policy,
	 * not only the new capacities */
	rq.tenant = "u";
	rq.res.v[ah_dimset_find(&ah_service_policy_get(s)->dims, "cpu")] = 1000;
	assert_int_equal(ah_service_request(s, &rq, T0 + 4 * S, &d), 0);
	assert_int_equal(d.d.outcome, AH_GRANTED);
	const ah_engine *e = ah_service_engine_get(s);
	ah_engine_pool_info pi;
	assert_int_equal(ah_engine_pool_get(e, 0, &pi), 0);
	assert_int_equal(pi.capacity->v[ah_dimset_find(&ah_service_policy_get(s)->dims, "cpu")], 16000);
	ah_service_free(s);
}

static void recovers_after_failed_transaction(void **state)
{
	(void)state;
	ah_service *s = open_svc(T0);
	ah_ledger *led = ah_service_ledger_get(s);
	ah_service_decision d;
	ah_request rq = cpu_request(s, 100);
	rq.params = "x=y";
	assert_int_equal(ah_service_request(s, &rq, T0 + S, &d), 0);
	assert_int_equal(d.d.outcome, AH_GRANTED);
	/* The disk fills: the ledger may not grow by a page. */
	assert_int_equal(ah_ledger_sqlite_set_max_pages(led, 1), 0);
	char big[1000];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = 0;
	memcpy(big, "k=", 2);
	rq.params = big;
	int failures = 0;
	for (int i = 0; i < 50; i++)
		if (ah_service_request(s, &rq, T0 + (2 + i) * S, &d) < 0)
			failures++;
	assert_true(failures > 0);
	/* Room again: the next call reloads the engine from what was committed
	 * and answers, rather than refusing all work. */
	assert_int_equal(ah_ledger_sqlite_set_max_pages(led, 1000000), 0);
	rq.params = NULL;
	assert_int_equal(ah_service_request(s, &rq, T0 + 100 * S, &d), 0);
	assert_int_equal(d.d.outcome, AH_GRANTED);
	/* what the service holds is exactly what the ledger holds */
	int live = ah_engine_alloc_count(ah_service_engine_get(s));
	ah_service_free(s);
	s = open_svc(T0 + 101 * S);
	assert_int_equal(ah_engine_alloc_count(ah_service_engine_get(s)), live);
	ah_service_free(s);
}

static void history_feeds_the_next_prediction(void **state)
{
	(void)state;
	ah_service *s = open_svc(T0);
	const ah_dimset *dims = &ah_service_policy_get(s)->dims;
	int cpu = ah_dimset_find(dims, "cpu");
	/* Three runs of workload w using 1.5 cores each. */
	for (int i = 0; i < 3; i++) {
		int64_t t = T0 + i * 100 * S;
		ah_request rq = cpu_request(s, 500);
		rq.workload = "w";
		rq.params = "size=1";
		ah_service_decision d;
		assert_int_equal(ah_service_request(s, &rq, t, &d), 0);
		assert_int_equal(d.d.outcome, AH_GRANTED);
		ah_vec u;
		for (int k = 0; k < AH_MAX_DIMS; k++)
			u.v[k] = AH_USAGE_NONE;
		u.v[cpu] = 1500;
		ah_service_report_out ro;
		assert_int_equal(ah_service_report(s, d.d.id, &u, t + 10 * S, &ro), 0);
		assert_string_equal(ro.workload, "w");
		assert_int_equal(ah_service_release(s, d.d.id, t + 20 * S), 0);
	}
	/* The fourth asks for nothing and is sized by what the three used. */
	ah_request rq = {.tenant = "t", .pool = "p", .workload = "w", .params = "size=1", .queue_timeout_ns = 0};
	ah_service_decision d;
	assert_int_equal(ah_service_request(s, &rq, T0 + 1000 * S, &d), 0);
	assert_int_equal(d.d.outcome, AH_GRANTED);
	assert_true(d.d.predicted);
	assert_true(d.have_info);
	assert_true(d.d.res.v[cpu] >= 1500);
	/* described: the engine's view and the record the history keeps */
	ah_service_description ds;
	assert_int_equal(ah_service_describe(s, d.d.id, T0 + 1001 * S, &ds), 0);
	assert_int_equal(ds.item.id, d.d.id);
	assert_true(ds.have_record);
	assert_string_equal(ds.record.workload, "w");
	assert_int_equal(ds.n_resizes, 0);
	bool predicted_cpu = false;
	for (int k = 0; k < ds.record.n_dims; k++)
		if (!strcmp(ds.record.dims[k].dim, "cpu"))
			predicted_cpu = ds.record.dims[k].predicted >= 1500;
	assert_true(predicted_cpu);
	assert_int_equal(ah_service_describe(s, 999999, T0 + 1001 * S, &ds), AH_ENOENT);
	/* recommended: lower <= target <= upper, from the three runs */
	ah_service_recommendation rc;
	char err[256];
	assert_int_equal(ah_service_recommend(s, "w", "size=1", NULL, &rc, err, sizeof err), 0);
	assert_true(rc.dim[cpu].known);
	assert_true(rc.dim[cpu].lower <= rc.dim[cpu].target && rc.dim[cpu].target <= rc.dim[cpu].upper);
	assert_true(rc.dim[cpu].target >= 1500 && rc.dim[cpu].n >= 3);
	assert_int_equal(ah_service_recommend(s, "nobody", NULL, NULL, &rc, err, sizeof err), AH_ENOENT);
	assert_non_null(strstr(err, "has no history"));
	assert_int_equal(warnings, 0);
	ah_service_free(s);
}

typedef struct {
	ah_change_kind kinds[16];
	uint64_t ids[16];
	int n;
} seen;

static void note(void *ctx, const ah_engine_change *c)
{
	seen *v = ctx;
	if (v->n < 16) {
		v->kinds[v->n] = c->kind;
		v->ids[v->n++] = c->id;
	}
}

static void observers_after_commit_across_rebuilds(void **state)
{
	(void)state;
	ah_service *s = open_svc(T0);
	seen v = {0};
	ah_engine_observer o = {.ctx = &v, .on_event = note};
	assert_int_equal(ah_service_add_observer(s, &o), 0);
	ah_request rq = cpu_request(s, 1000);
	ah_service_decision d;
	assert_int_equal(ah_service_request(s, &rq, T0 + S, &d), 0);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.kinds[0], AH_CHANGE_GRANT);
	assert_int_equal(v.ids[0], d.d.id);
	/* a policy from elsewhere rebuilds the engine: the observer stays */
	char err[512];
	assert_int_equal(ah_service_policy_apply(db, pol_big, strlen(pol_big), "big.ini", T0 + 2 * S, NULL, err, sizeof err),
			 0);
	assert_int_equal(ah_service_release(s, d.d.id, T0 + 3 * S), 0);
	assert_int_equal(v.n, 2);
	assert_int_equal(v.kinds[1], AH_CHANGE_RELEASE);
	assert_int_equal(v.ids[1], d.d.id);
	/* a refusal changes nothing: nothing to tell */
	rq = cpu_request(s, 64000);
	assert_int_equal(ah_service_request(s, &rq, T0 + 4 * S, &d), 0);
	assert_int_equal(d.d.outcome, AH_REFUSED);
	assert_int_equal(v.n, 2);
	ah_service_free(s);
}

/* A release skips the record lookup only for ids its own process granted
 * without a record: an allocation granted with one by another process,
 * released here after this process's own grants, still has its record
 * closed. */
static void release_closes_records_granted_elsewhere(void **state)
{
	(void)state;
	ah_service *a = open_svc(T0), *b = open_svc(T0);
	ah_service_decision db1, da, db2;
	ah_request rq = cpu_request(b, 100);
	assert_int_equal(ah_service_request(b, &rq, T0 + S, &db1), 0); /* b: no record */
	assert_int_equal(db1.d.outcome, AH_GRANTED);
	rq = cpu_request(a, 100);
	rq.workload = "w";
	assert_int_equal(ah_service_request(a, &rq, T0 + 2 * S, &da), 0); /* a: a record */
	assert_int_equal(da.d.outcome, AH_GRANTED);
	assert_true(da.d.id > db1.d.id);
	rq.workload = "w2";
	rq.tenant = "t";
	assert_int_equal(ah_service_request(b, &rq, T0 + 3 * S, &db2), 0); /* b: a record */
	ah_shadow *sh = NULL;
	assert_int_equal(ah_shadow_open(shadow, &sh), 0);
	ah_shadow_request *r = malloc(sizeof *r);
	assert_non_null(r);
	assert_int_equal(ah_shadow_alloc_find(sh, da.d.id, r), 0);
	assert_int_equal(ah_shadow_alloc_find(sh, db2.d.id, r), 0);
	assert_int_equal(ah_service_release(b, da.d.id, T0 + 4 * S), 0);
	assert_int_equal(ah_shadow_alloc_find(sh, da.d.id, r), AH_ENOENT); /* closed */
	assert_int_equal(ah_service_release(b, db2.d.id, T0 + 5 * S), 0);
	assert_int_equal(ah_shadow_alloc_find(sh, db2.d.id, r), AH_ENOENT);
	assert_int_equal(ah_service_release(b, db1.d.id, T0 + 6 * S), 0);
	assert_int_equal(warnings, 0);
	free(r);
	ah_shadow_free(sh);
	ah_service_free(a);
	ah_service_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(notices_policy_of_another_process, setup, teardown),
		cmocka_unit_test_setup_teardown(recovers_after_failed_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(history_feeds_the_next_prediction, setup, teardown),
		cmocka_unit_test_setup_teardown(observers_after_commit_across_rebuilds, setup, teardown),
		cmocka_unit_test_setup_teardown(release_closes_records_granted_elsewhere, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
