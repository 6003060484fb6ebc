/* The generic ledger interface, run against both stores: policy text and
 * generation, the filtered events query, the demand history, commit
 * preconditions; and on SQLite that a full disk is reported as such. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ahead/error.h"
#include "ahead/ledger_sqlite.h"
#include "db_fixture.h"
#include "engine_fixture.h"

static char dbpath[256];


static int setup_sqlite(void **state)
{
	snprintf(dbpath, sizeof dbpath, "/tmp/ahead-test-ledger-api-%d.db", (int)getpid());
	db_fixture_unlink(dbpath);
	char err[256];
	ah_ledger *l;
	assert_int_equal(ah_ledger_sqlite_open(dbpath, AH_DURABILITY_PROCESS, &l, err, sizeof err), 0);
	*state = l;
	return 0;
}

static int setup_memory(void **state)
{
	ah_ledger *l;
	assert_int_equal(ah_ledger_memory_new(64, &l), 0);
	*state = l;
	return 0;
}

static int teardown(void **state)
{
	ah_ledger_free(*state);
	db_fixture_unlink(dbpath);
	return 0;
}

static void put_policy(ah_ledger *l, const ah_policy *p, const char *text, int64_t now)
{
	assert_true(l->ops->begin(l) >= 0);
	assert_int_equal(ah_ledger_policy_put(l, text, p, now), 0);
	assert_int_equal(l->ops->commit(l), 0);
}

static void test_policy_generation(void **state)
{
	ah_ledger *l = *state;
	ah_policy *pol = fx_policy();
	char *text = NULL;
	uint64_t gen = 99;
	int64_t at = 0;
	assert_int_equal(ah_ledger_policy_get(l, &text, &at), AH_ENOENT);
	assert_int_equal(ah_ledger_policy_generation(l, &gen), 0);
	assert_int_equal(gen, 0);
	put_policy(l, pol, "[ahead]\n; one\n", 5);
	assert_int_equal(ah_ledger_policy_generation(l, &gen), 0);
	assert_int_equal(gen, 1);
	put_policy(l, pol, "[ahead]\n; two\n", 7);
	assert_int_equal(ah_ledger_policy_generation(l, &gen), 0);
	assert_int_equal(gen, 2);
	assert_int_equal(ah_ledger_policy_get(l, &text, &at), 0);
	assert_string_equal(text, "[ahead]\n; two\n");
	assert_int_equal(at, 7);
	free(text);
	free(pol);
}

/* A long-lived process notices a policy another process applied. */
static void test_generation_seen_by_other_process(void **state)
{
	ah_ledger *l = *state, *other;
	ah_policy *pol = fx_policy();
	char err[256];
	uint64_t gen;
	assert_int_equal(ah_ledger_sqlite_open(dbpath, AH_DURABILITY_PROCESS, &other, err, sizeof err), 0);
	put_policy(l, pol, "x", 1);
	assert_int_equal(ah_ledger_policy_generation(other, &gen), 0);
	assert_int_equal(gen, 1);
	put_policy(l, pol, "y", 2);
	assert_int_equal(ah_ledger_policy_generation(other, &gen), 0);
	assert_int_equal(gen, 2);
	put_policy(other, pol, "z", 3);
	assert_int_equal(ah_ledger_policy_generation(l, &gen), 0);
	assert_int_equal(gen, 3);
	ah_ledger_free(other);
	free(pol);
}

typedef struct {
	int n;
	int64_t seq[16];
	uint64_t id[16];
	char kind[16][16], pool[16][16], res[16][64];
} seen;

static int collect(void *ctx, const ah_event_row *ev)
{
	seen *s = ctx;
	if (s->n < 16) {
		s->seq[s->n] = ev->seq;
		s->id[s->n] = ev->id;
		snprintf(s->kind[s->n], sizeof s->kind[0], "%s", ev->kind);
		snprintf(s->pool[s->n], sizeof s->pool[0], "%s", ev->pool);
		snprintf(s->res[s->n], sizeof s->res[0], "%s", ev->resources);
	}
	s->n++;
	return 0;
}

static void log_events(ah_ledger *l, ah_policy *pol)
{
	l->dims = &pol->dims;
	ah_vec r = {{0}};
	r.v[AH_DIM_CPU] = 2000;
	const ah_ledger_event evs[] = {
		{.t_ns = 10, .kind = AH_EV_GRANT, .id = 1, .tenant = "a", .pool = "p", .klass = "standard", .res = &r},
		{.t_ns = 20, .kind = AH_EV_GRANT, .id = 2, .tenant = "b", .pool = "q", .klass = "standard", .res = &r},
		{.t_ns = 30, .kind = AH_EV_RELEASE, .id = 1, .tenant = "a", .pool = "p", .klass = "standard"},
		{.t_ns = 40, .kind = AH_EV_SCALE, .pool = "p", .reason = "scaled",
		 .data = "{\"dim\":\"cpu\",\"from\":10000,\"to\":12000}"},
		{.t_ns = 50, .kind = AH_EV_SCALE, .pool = "p", .reason = "scaled",
		 .data = "{\"dim\":\"cpu\",\"from\":12000,\"to\":11000}"},
		{.t_ns = 60, .kind = AH_EV_SCALE, .pool = "q", .reason = "scaled",
		 .data = "{\"dim\":\"cpu\",\"from\":1,\"to\":2}"},
	};
	assert_true(l->ops->begin(l) >= 0);
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
		assert_int_equal(l->ops->event(l, &evs[i]), 0);
	assert_int_equal(l->ops->commit(l), 0);
}

static void test_events_query(void **state)
{
	ah_ledger *l = *state;
	ah_policy *pol = fx_policy();
	log_events(l, pol);
	seen s = {0};
	assert_int_equal(ah_ledger_events(l, NULL, collect, &s), 0);
	assert_int_equal(s.n, 6);
	assert_true(s.seq[0] < s.seq[5]);
	assert_string_equal(s.res[0], "cpu=2");
	s = (seen){0};
	ah_event_query q = {.id = 1};
	assert_int_equal(ah_ledger_events(l, &q, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.kind[1], "release");
	s = (seen){0};
	q = (ah_event_query){.kinds = 1u << AH_EV_GRANT, .pool = "q"};
	assert_int_equal(ah_ledger_events(l, &q, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.id[0], 2);
	s = (seen){0};
	q = (ah_event_query){.since_ns = 30, .limit = 2};
	assert_int_equal(ah_ledger_events(l, &q, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.kind[0], "release");
	int64_t third = s.seq[0];
	s = (seen){0};
	q = (ah_event_query){.after_seq = third, .kinds = (1u << AH_EV_SCALE) | (1u << AH_EV_RELEASE)};
	assert_int_equal(ah_ledger_events(l, &q, collect, &s), 0);
	assert_int_equal(s.n, 3);
	/* by time, at every boundary: the events at or after it, in order
	 * (the SQLite ledger finds the first by a binary search over seq) */
	for (int64_t since = 1; since <= 70; since += 3) {
		s = (seen){0};
		q = (ah_event_query){.since_ns = since};
		assert_int_equal(ah_ledger_events(l, &q, collect, &s), 0);
		int want = since <= 60 ? (int)(6 - (since - 1) / 10) : 0;
		assert_int_equal(s.n, want);
		for (int i = 1; i < s.n; i++)
			assert_true(s.seq[i] > s.seq[i - 1]);
		/* with a seq bound past the time bound, the seq bound rules */
		s = (seen){0};
		q = (ah_event_query){.since_ns = since, .after_seq = third};
		assert_int_equal(ah_ledger_events(l, &q, collect, &s), 0);
		assert_int_equal(s.n, want < 3 ? want : 3);
	}
	/* rare kinds (the SQLite ledger's partial index) with a pool */
	s = (seen){0};
	q = (ah_event_query){.kinds = 1u << AH_EV_SCALE, .pool = "p"};
	assert_int_equal(ah_ledger_events(l, &q, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.pool[1], "p");
	s = (seen){0};
	q = (ah_event_query){.kinds = (1u << AH_EV_SCALE) | (1u << AH_EV_POLICY), .since_ns = 55};
	assert_int_equal(ah_ledger_events(l, &q, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.pool[0], "q");
	int64_t t = 0;
	assert_int_equal(ah_ledger_last_scale_up(l, "p", "cpu", &t), 0);
	assert_int_equal(t, 40); /* the shrink at 50 does not count */
	assert_int_equal(ah_ledger_last_scale_up(l, "p", "memory", &t), AH_ENOENT);
	free(pol);
}

static int count_demand(void *ctx, const ah_demand_row *r)
{
	int64_t *c = ctx;
	c[0]++;
	c[1] += r->used.v[AH_DIM_CPU];
	c[2] = r->n_classes;
	return 0;
}

static void test_demand_history(void **state)
{
	ah_ledger *l = *state;
	ah_policy *pol = fx_policy();
	for (int i = 0; i < 6; i++) {
		ah_demand_row r = {.t_ns = 100 + i, .pool = i % 2 ? "p" : "q", .n_classes = 1};
		r.used.v[AH_DIM_CPU] = 1000 * (i + 1);
		strcpy(r.class_name[0], "gold");
		r.class_demand[0].v[AH_DIM_CPU] = 5;
		assert_int_equal(ah_ledger_demand_put(l, &pol->dims, &r, 0, 2), 0);
	}
	/* Two newest per pool survive: p at 103, 105 (4000+6000), q at 102, 104. */
	int64_t c[3] = {0};
	assert_int_equal(ah_ledger_demand_load(l, &pol->dims, 0, count_demand, c), 0);
	assert_int_equal(c[0], 4);
	assert_int_equal(c[1], 3000 + 4000 + 5000 + 6000);
	assert_int_equal(c[2], 1);
	memset(c, 0, sizeof c);
	assert_int_equal(ah_ledger_demand_load(l, &pol->dims, 104, count_demand, c), 0);
	assert_int_equal(c[0], 2);
	/* Same pool and time replaces; age retention drops older rows. */
	ah_demand_row r = {.t_ns = 105, .pool = "p"};
	r.used.v[AH_DIM_CPU] = 1;
	assert_int_equal(ah_ledger_demand_put(l, &pol->dims, &r, 104, 10), 0);
	memset(c, 0, sizeof c);
	assert_int_equal(ah_ledger_demand_load(l, &pol->dims, 0, count_demand, c), 0);
	assert_int_equal(c[0], 3); /* q 102, q 104, p 105 */
	assert_int_equal(c[1], 3000 + 5000 + 1);
	free(pol);
}

/* Memory checks the policy generation a decision read; SQLite holds it by
 * its write lock (a second writer cannot commit in between). */
static void test_precondition(void **state)
{
	ah_ledger *l = *state;
	ah_policy *pol = fx_policy();
	put_policy(l, pol, "one", 1);
	uint64_t gen;
	assert_int_equal(ah_ledger_policy_generation(l, &gen), 0);
	assert_true(l->ops->begin(l) >= 0);
	assert_int_equal(ah_ledger_precond_add(l, AH_PRECOND_POLICY, NULL, gen), 0);
	assert_int_equal(l->ops->commit(l), 0);
	assert_true(l->ops->begin(l) >= 0);
	assert_int_equal(ah_ledger_precond_add(l, AH_PRECOND_POLICY, NULL, gen - 1), 0);
	int rc = l->ops->commit(l);
	if (ah_ledger_is_sqlite(l)) {
		assert_int_equal(rc, 0);
	} else {
		assert_int_equal(rc, AH_EBUSY);
		assert_non_null(strstr(ah_ledger_errmsg(l), "policy changed"));
	}
	assert_int_equal(ah_ledger_precond_add(l, AH_PRECOND__COUNT, NULL, 0), AH_EINVAL);
	free(pol);
}

static int count_row(void *ctx, const ah_ledger_row *r)
{
	(void)r;
	(*(int *)ctx)++;
	return 0;
}

/* A full disk mid-transaction: SQLite rolls back on its own, and the
 * message must stay the cause, not the failed COMMIT/ROLLBACK after it. */
static void test_full_disk_reported(void **state)
{
	ah_ledger *l = *state;
	ah_policy *pol = fx_policy();
	l->dims = &pol->dims;
	assert_int_equal(ah_ledger_sqlite_set_max_pages(l, 12), 0);
	char params[AH_PARAMS_MAX];
	memset(params, 'x', sizeof params - 1);
	params[sizeof params - 1] = '\0';
	assert_true(l->ops->begin(l) >= 0);
	int rc = 0;
	for (uint64_t id = 1; id < 1000 && rc == 0; id++) {
		ah_ledger_row r = {.id = id, .tenant = "a", .pool = "p", .klass = "standard", .params = params};
		rc = l->ops->put_alloc(l, &r);
	}
	assert_int_equal(rc, AH_ESTORE);
	assert_int_equal(l->ops->commit(l), AH_ESTORE);
	l->ops->rollback(l);
	assert_non_null(strstr(ah_ledger_errmsg(l), "full"));
	assert_null(strstr(ah_ledger_errmsg(l), "no transaction"));
	/* Nothing of it was written, and the ledger still works. */
	assert_int_equal(ah_ledger_sqlite_set_max_pages(l, 100000), 0);
	assert_true(l->ops->begin(l) >= 0);
	ah_ledger_row r = {.id = 5000, .tenant = "a", .pool = "p", .klass = "standard"};
	assert_int_equal(l->ops->put_alloc(l, &r), 0);
	assert_int_equal(l->ops->commit(l), 0);
	int n = 0;
	uint64_t next;
	ah_ledger_loader ld = {.ctx = &n, .alloc = count_row};
	assert_int_equal(l->ops->load(l, &pol->dims, &ld, &next), 0);
	assert_int_equal(n, 1);
	free(pol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_policy_generation, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_policy_generation, setup_memory, teardown),
		cmocka_unit_test_setup_teardown(test_generation_seen_by_other_process, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_events_query, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_events_query, setup_memory, teardown),
		cmocka_unit_test_setup_teardown(test_demand_history, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_demand_history, setup_memory, teardown),
		cmocka_unit_test_setup_teardown(test_precondition, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_precondition, setup_memory, teardown),
		cmocka_unit_test_setup_teardown(test_full_disk_reported, setup_sqlite, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
