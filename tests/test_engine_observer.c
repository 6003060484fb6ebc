/* Engine observers: every kind of change is delivered once, in order, only
 * after its transaction committed (at batch end inside a batch), never
 * inside a ledger transaction; a failed commit delivers nothing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "ahead/error.h"
#include "engine_fixture.h"

/* A ledger that keeps nothing, knows whether a transaction is open, counts
 * commits and can be told to fail the next one. */
typedef struct {
	ah_ledger base;
	bool in_txn, fail_commit;
	int commits;
} test_ledger;

static int t_begin(ah_ledger *l)
{
	((test_ledger *)l)->in_txn = true;
	return 0;
}

static int t_commit(ah_ledger *l)
{
	test_ledger *t = (test_ledger *)l;
	t->in_txn = false;
	if (t->fail_commit) {
		t->fail_commit = false;
		return AH_ESTORE;
	}
	t->commits++;
	return 0;
}

static void t_rollback(ah_ledger *l)
{
	((test_ledger *)l)->in_txn = false;
}

static int t_row(ah_ledger *l, const ah_ledger_row *r)
{
	(void)l;
	(void)r;
	return 0;
}

static int t_id(ah_ledger *l, uint64_t id)
{
	(void)l;
	(void)id;
	return 0;
}

static int t_cap(ah_ledger *l, const char *p, const ah_vec *c)
{
	(void)l;
	(void)p;
	(void)c;
	return 0;
}

static int t_event(ah_ledger *l, const ah_ledger_event *ev)
{
	(void)l;
	(void)ev;
	return 0;
}

static int t_pending(ah_ledger *l, uint64_t id, const ah_vec *w, int64_t since)
{
	(void)l;
	(void)id;
	(void)w;
	(void)since;
	return 0;
}

static int t_load(ah_ledger *l, const ah_dimset *d, const ah_ledger_loader *ld, uint64_t *next)
{
	(void)l;
	(void)d;
	(void)ld;
	*next = 1000; /* ids after a reload cannot collide with earlier ones */
	return 0;
}

static void t_free(ah_ledger *l)
{
	(void)l;
}

static const ah_ledger_ops t_ops = {
	.begin = t_begin,
	.commit = t_commit,
	.rollback = t_rollback,
	.put_alloc = t_row,
	.del_alloc = t_id,
	.put_queued = t_row,
	.del_queued = t_id,
	.put_pool_capacity = t_cap,
	.event = t_event,
	.set_next_id = t_id,
	.put_pending = t_pending,
	.del_pending = t_id,
	.load = t_load,
	.free = t_free,
};

typedef struct {
	ah_change_kind kind;
	uint64_t id;
	int64_t cpu;
	char tenant[16], klass[16];
} seen_t;

typedef struct {
	test_ledger *led;
	ah_engine *e;
	seen_t seen[64];
	int n;
	int commits_at_last; /* commits when the last change arrived */
	bool in_txn_seen;
	int reentry_rc;
} watch;

static void on_event(void *ctx, const ah_engine_change *c)
{
	watch *w = ctx;
	assert_true(w->n < 64);
	seen_t *s = &w->seen[w->n++];
	s->kind = c->kind;
	s->id = c->id;
	s->cpu = c->res.v[AH_DIM_CPU];
	snprintf(s->tenant, sizeof s->tenant, "%s", c->tenant ? c->tenant : "-");
	snprintf(s->klass, sizeof s->klass, "%s", c->klass ? c->klass : "-");
	assert_string_equal(c->pool, "p");
	if (w->led->in_txn)
		w->in_txn_seen = true;
	w->commits_at_last = w->led->commits;
	/* An observer may look but not act. */
	w->reentry_rc = ah_engine_tick(w->e, c->t_ns);
	assert_true(ah_engine_alloc_count(w->e) >= 0);
}

typedef struct {
	ah_policy *pol;
	test_ledger led;
	ah_engine *e;
	watch w;
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	f->pol = fx_policy();
	f->led.base.ops = &t_ops;
	assert_int_equal(ah_engine_new(f->pol, &f->led.base, 0, &f->e), 0);
	f->w.led = &f->led;
	f->w.e = f->e;
	ah_engine_observer o = {.ctx = &f->w, .on_event = on_event};
	assert_int_equal(ah_engine_add_observer(f->e, &o), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	ah_engine_free(f->e);
	free(f->pol);
	free(f);
	return 0;
}

static ah_decision ask(fx *f, const char *tenant, const char *klass, int64_t cpu, int64_t ttl, int64_t now)
{
	ah_request r = fx_req(tenant, klass, cpu, 0);
	r.lease_ttl_ns = ttl;
	ah_decision d;
	assert_int_equal(ah_engine_request(f->e, &r, now, &d), 0);
	return d;
}

/* The last change seen is `kind` for `id`, delivered after a commit. */
static void expect(fx *f, int *next, ah_change_kind kind, uint64_t id, int64_t cpu)
{
	assert_true(*next < f->w.n);
	const seen_t *s = &f->w.seen[(*next)++];
	assert_string_equal(ah_change_kind_name(s->kind), ah_change_kind_name(kind));
	assert_int_equal(s->id, id);
	assert_int_equal(s->cpu, cpu);
}

static void test_each_kind_once_in_order(void **state)
{
	fx *f = *state;
	int k = 0;
	/* grant, queue */
	ah_decision big = ask(f, "a", "batch", 8000, 3600 * SEC, 1);
	assert_int_equal(big.outcome, AH_GRANTED);
	expect(f, &k, AH_CHANGE_GRANT, big.id, 8000);
	assert_string_equal(f->w.seen[0].tenant, "a");
	assert_string_equal(f->w.seen[0].klass, "batch");
	ah_decision shortl = ask(f, "b", "batch", 2000, 5 * SEC, 2);
	expect(f, &k, AH_CHANGE_GRANT, shortl.id, 2000);
	ah_decision q1 = ask(f, "c", NULL, 1000, 3600 * SEC, 3);
	assert_int_equal(q1.outcome, AH_QUEUED);
	expect(f, &k, AH_CHANGE_QUEUE, q1.id, 1000);
	/* cancel */
	assert_int_equal(ah_engine_release(f->e, q1.id, 4), 0);
	expect(f, &k, AH_CHANGE_CANCEL, q1.id, 1000);
	/* expire, then the queued request it makes room for is dequeued */
	ah_decision q2 = ask(f, "c", NULL, 1500, 3600 * SEC, 5);
	expect(f, &k, AH_CHANGE_QUEUE, q2.id, 1500);
	assert_int_equal(ah_engine_tick(f->e, 6 * SEC), 0);
	expect(f, &k, AH_CHANGE_EXPIRE, shortl.id, 2000);
	expect(f, &k, AH_CHANGE_DEQUEUE, q2.id, 1500);
	/* resize */
	ah_vec small = fx_req("a", NULL, 7000, 0).res;
	assert_int_equal(ah_engine_resize(f->e, big.id, &small, 7 * SEC), 0);
	expect(f, &k, AH_CHANGE_RESIZE, big.id, 7000);
	/* preempt: gold evicts batch */
	ah_decision gold = ask(f, "b", "gold", 3000, 3600 * SEC, 8 * SEC);
	assert_int_equal(gold.n_preempted, 1);
	expect(f, &k, AH_CHANGE_PREEMPT, big.id, 7000);
	expect(f, &k, AH_CHANGE_GRANT, gold.id, 3000);
	/* timeout */
	ah_request r = fx_req("a", NULL, 9000, 0);
	r.queue_timeout_ns = SEC;
	ah_decision q3;
	assert_int_equal(ah_engine_request(f->e, &r, 9 * SEC, &q3), 0);
	assert_int_equal(q3.outcome, AH_QUEUED);
	expect(f, &k, AH_CHANGE_QUEUE, q3.id, 9000);
	assert_int_equal(ah_engine_tick(f->e, 11 * SEC), 0);
	expect(f, &k, AH_CHANGE_TIMEOUT, q3.id, 9000);
	/* release */
	assert_int_equal(ah_engine_release(f->e, gold.id, 12 * SEC), 0);
	expect(f, &k, AH_CHANGE_RELEASE, gold.id, 3000);
	/* capacity */
	ah_vec cap = f->pol->pools[0].capacity;
	cap.v[AH_DIM_CPU] = 20000;
	assert_int_equal(ah_engine_set_capacity(f->e, "p", &cap, 13 * SEC), 0);
	expect(f, &k, AH_CHANGE_CAPACITY, 0, 20000);
	assert_string_equal(f->w.seen[k - 1].tenant, "-");
	/* refusals, renewals and failed calls change nothing observable */
	assert_int_equal(ask(f, "zed", NULL, 10, 0, 14 * SEC).outcome, AH_REFUSED);
	assert_int_equal(ah_engine_renew(f->e, q2.id, 0, 14 * SEC, NULL), 0);
	assert_int_equal(ah_engine_release(f->e, 999, 14 * SEC), AH_ENOENT);
	assert_int_equal(k, f->w.n);
	assert_false(f->w.in_txn_seen);
	assert_int_equal(f->w.reentry_rc, AH_ESTATE);
}

static void test_delivered_after_commit_only(void **state)
{
	fx *f = *state;
	ah_decision d = ask(f, "a", NULL, 1000, 3600 * SEC, 1);
	assert_int_equal(f->w.n, 1);
	assert_int_equal(f->w.commits_at_last, f->led.commits);
	/* The commit of a release fails: nothing is delivered. */
	f->led.fail_commit = true;
	assert_int_equal(ah_engine_release(f->e, d.id, 2), AH_ESTORE);
	assert_int_equal(f->w.n, 1);
	/* The broken engine refuses work until reloaded; what the failed
	 * transaction did is not delivered later either. */
	assert_int_equal(ah_engine_tick(f->e, 3), AH_ESTORE);
	assert_int_equal(ah_engine_reload(f->e, 4), 0);
	assert_int_equal(f->w.n, 1);
	ah_decision d2 = ask(f, "b", NULL, 1000, 3600 * SEC, 5);
	assert_int_equal(f->w.n, 2);
	assert_int_equal(f->w.seen[1].id, d2.id);
	assert_false(f->w.in_txn_seen);
}

static void test_batch_delivers_at_end(void **state)
{
	fx *f = *state;
	assert_int_equal(ah_engine_batch_begin(f->e), 0);
	ah_decision a = ask(f, "a", NULL, 1000, 3600 * SEC, 1);
	ah_decision b = ask(f, "b", NULL, 1000, 3600 * SEC, 1);
	assert_int_equal(ah_engine_release(f->e, a.id, 2), 0);
	assert_int_equal(f->w.n, 0);
	int commits = f->led.commits;
	assert_int_equal(ah_engine_batch_end(f->e), 0);
	assert_int_equal(f->led.commits, commits + 1);
	assert_int_equal(f->w.n, 3);
	int k = 0;
	expect(f, &k, AH_CHANGE_GRANT, a.id, 1000);
	expect(f, &k, AH_CHANGE_GRANT, b.id, 1000);
	expect(f, &k, AH_CHANGE_RELEASE, a.id, 1000);
	assert_int_equal(f->w.commits_at_last, f->led.commits);
	/* A batch whose commit fails delivers none of it. */
	assert_int_equal(ah_engine_batch_begin(f->e), 0);
	ask(f, "c", NULL, 1000, 3600 * SEC, 3);
	f->led.fail_commit = true;
	assert_int_equal(ah_engine_batch_end(f->e), AH_ESTORE);
	assert_int_equal(f->w.n, 3);
	assert_false(f->w.in_txn_seen);
}

static void test_observer_limit(void **state)
{
	fx *f = *state;
	ah_engine_observer o = {.ctx = &f->w, .on_event = on_event};
	for (int i = 1; i < AH_ENGINE_MAX_OBSERVERS; i++)
		assert_int_equal(ah_engine_add_observer(f->e, &o), 0);
	assert_int_equal(ah_engine_add_observer(f->e, &o), AH_ETOOBIG);
	ah_engine_observer none = {0};
	assert_int_equal(ah_engine_add_observer(f->e, &none), AH_EINVAL);
	/* every observer sees each change */
	ask(f, "a", NULL, 1000, 3600 * SEC, 1);
	assert_int_equal(f->w.n, AH_ENGINE_MAX_OBSERVERS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_each_kind_once_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delivered_after_commit_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_delivers_at_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_observer_limit, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
