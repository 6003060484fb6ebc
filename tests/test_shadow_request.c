/* Shadow store record operations for callers that keep bookkeeping in
 * parameters: the newest ended records, open records by parameter, setting
 * a parameter, merging a usage report into an open record, and scopes that
 * nest in a caller's transaction. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ahead/error.h"
#include "ahead/shadow.h"
#include "shadow_fixture.h"

#define S AH_NS_PER_S

typedef shadow_fixture fixture;
#define setup shadow_fixture_setup
#define teardown shadow_fixture_teardown

/* A record of w starting at start (end -1 = open) with params and, when
 * dim is set, one observed peak. */
static int64_t add(ah_shadow *s, const char *w, int64_t start, int64_t end, const char *params, const char *dim,
		   double peak)
{
	ah_shadow_request *r = calloc(1, sizeof(*r));
	int64_t id = 0;
	assert_non_null(r);
	snprintf(r->workload, sizeof r->workload, "%s", w);
	r->start_ns = start;
	r->end_ns = end;
	assert_int_equal(ah_shadow_params_parse(params, r->params, &r->n_params, NULL, 0), 0);
	if (dim) {
		r->n_dims = 1;
		snprintf(r->dims[0].dim, sizeof r->dims[0].dim, "%s", dim);
		r->dims[0].peak = peak;
		r->dims[0].mean = r->dims[0].predicted = NAN;
	}
	assert_int_equal(ah_shadow_request_add(s, r, &id), 0);
	free(r);
	return id;
}

typedef struct {
	int64_t id[64];
	int n_params[64];
	size_t n;
	size_t stop_at; /* 0: never */
} seen;

static int seen_fn(void *ctx, const ah_shadow_request *r)
{
	seen *c = ctx;
	if (c->n == 64)
		return AH_ETOOBIG;
	c->n_params[c->n] = r->n_params;
	c->id[c->n++] = r->id;
	return c->stop_at && c->n == c->stop_at ? 7 : 0;
}

static const char *param(const ah_shadow_request *r, const char *key)
{
	for (int i = 0; i < r->n_params; i++)
		if (!strcmp(r->params[i].key, key))
			return r->params[i].value;
	return NULL;
}

static const ah_shadow_req_dim *dim(const ah_shadow_request *r, const char *name)
{
	for (int i = 0; i < r->n_dims; i++)
		if (!strcmp(r->dims[i].dim, name))
			return &r->dims[i];
	return NULL;
}

/* The newest ended records by start (ids in another order), oldest first;
 * open ones, skipped ones and other workloads left out. */
static void test_each_ended(void **state)
{
	fixture *f = *state;
	ah_shadow *s = f->s;
	/* ids ascend, starts do not: 50, 10, 40, 30 (+ ties on 40). */
	int64_t a = add(s, "w", 50 * S, 60 * S, "k=a", "memory", 5);
	int64_t b = add(s, "w", 10 * S, 20 * S, "k=b", "memory", 1);
	int64_t c = add(s, "w", 40 * S, 45 * S, "k=c", NULL, 0);
	int64_t d = add(s, "w", 30 * S, 35 * S, "k=d,lost=1", "memory", 3);
	int64_t e = add(s, "w", 40 * S, 41 * S, "k=e", "memory", 4); /* same start as c, newer id */
	add(s, "w", 70 * S, -1, "k=open", NULL, 0);
	add(s, "x", 80 * S, 90 * S, "k=x", "memory", 9);
	seen v = {0};

	/* Newest 3 not lost: a (50), e (40, id > c), c (40); visited oldest first. */
	assert_int_equal(ah_shadow_request_each_ended(s, "w", "lost", 3, seen_fn, &v), 0);
	assert_int_equal(v.n, 3);
	assert_int_equal(v.id[0], c);
	assert_int_equal(v.id[1], e);
	assert_int_equal(v.id[2], a);
	/* Without the skip key the lost one counts; limit past the count. */
	v.n = 0;
	assert_int_equal(ah_shadow_request_each_ended(s, "w", NULL, 100, seen_fn, &v), 0);
	assert_int_equal(v.n, 5);
	int64_t want[] = {b, d, c, e, a};
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(v.id[i], want[i]);
	v.n = 0;
	assert_int_equal(ah_shadow_request_each_ended(s, "w", "lost", 100, seen_fn, &v), 0);
	assert_int_equal(v.n, 4);
	assert_int_equal(v.id[0], b);
	/* The records come whole: params and dims. */
	ah_shadow_request *r = calloc(1, sizeof(*r));
	assert_int_equal(ah_shadow_request_get(s, a, r), 0);
	assert_string_equal(param(r, "k"), "a");
	assert_true(dim(r, "memory")->peak == 5);
	free(r);
	/* A callback's non-zero return stops and is returned. */
	v = (seen){.stop_at = 2};
	assert_int_equal(ah_shadow_request_each_ended(s, "w", NULL, 100, seen_fn, &v), 7);
	assert_int_equal(v.n, 2);
	/* Unknown workload: nothing visited. Bad arguments refused. */
	v.n = 0;
	v.stop_at = 0;
	assert_int_equal(ah_shadow_request_each_ended(s, "nobody", NULL, 10, seen_fn, &v), 0);
	assert_int_equal(v.n, 0);
	assert_int_equal(ah_shadow_request_each_ended(s, "w", NULL, 0, seen_fn, &v), AH_EINVAL);
	assert_int_equal(ah_shadow_request_each_ended(s, "w", NULL, 1, NULL, &v), AH_EINVAL);
	assert_int_equal(ah_shadow_request_each_ended(s, "bad name", NULL, 1, seen_fn, &v), AH_EINVAL);
	assert_int_equal(ah_shadow_request_each_ended(s, "w", "bad key", 1, seen_fn, &v), AH_EINVAL);
	assert_int_equal(v.n, 0);
}

/* Open records carrying a key, any workload, oldest id first, capped; and
 * the newest open one by (key, value). */
static void test_open_records(void **state)
{
	fixture *f = *state;
	ah_shadow *s = f->s;
	int64_t o1 = add(s, "w", 10 * S, -1, "alloc=5", NULL, 0);
	add(s, "w", 11 * S, 12 * S, "alloc=6", NULL, 0); /* ended */
	add(s, "w", 12 * S, -1, "other=5", NULL, 0);     /* no such key */
	int64_t o2 = add(s, "x", 5 * S, -1, "alloc=5", NULL, 0);
	int64_t o3 = add(s, "y", 1 * S, -1, "alloc=7,z=1", NULL, 0);
	seen v = {0};
	int64_t id = -1;

	assert_int_equal(ah_shadow_request_each_open(s, "alloc", 10, seen_fn, &v), 0);
	assert_int_equal(v.n, 3);
	assert_int_equal(v.id[0], o1);
	assert_int_equal(v.id[1], o2);
	assert_int_equal(v.id[2], o3);
	assert_int_equal(v.n_params[2], 2);
	v.n = 0;
	assert_int_equal(ah_shadow_request_each_open(s, "alloc", 2, seen_fn, &v), 0);
	assert_int_equal(v.n, 2);
	assert_int_equal(v.id[1], o2);
	assert_int_equal(ah_shadow_request_each_open(s, "alloc", 0, seen_fn, &v), AH_EINVAL);
	assert_int_equal(ah_shadow_request_each_open(s, NULL, 1, seen_fn, &v), AH_EINVAL);

	/* Two open records with alloc=5 (workloads w, x): the newer wins,
	 * without naming the workload. */
	assert_int_equal(ah_shadow_request_find_open(s, "alloc", "5", &id), 0);
	assert_int_equal(id, o2);
	assert_int_equal(ah_shadow_request_end(s, o2, 6 * S, NULL, 0), 0);
	assert_int_equal(ah_shadow_request_find_open(s, "alloc", "5", &id), 0);
	assert_int_equal(id, o1);
	/* Ended, absent, or the value under another key: not found, id untouched. */
	id = -1;
	assert_int_equal(ah_shadow_request_find_open(s, "alloc", "6", &id), AH_ENOENT);
	assert_int_equal(ah_shadow_request_find_open(s, "alloc", "8", &id), AH_ENOENT);
	assert_int_equal(ah_shadow_request_find_open(s, "other", "7", &id), AH_ENOENT);
	assert_int_equal(id, -1);
	assert_int_equal(ah_shadow_request_find_open(s, "bad key", "5", &id), AH_EINVAL);
	assert_int_equal(ah_shadow_request_find_open(s, "alloc", "a\tb", &id), AH_EINVAL);
	assert_int_equal(ah_shadow_request_find_open(s, "alloc", NULL, &id), AH_EINVAL);
}

/* Adding and replacing a parameter, and the 16-parameter cap. */
static void test_set_param(void **state)
{
	fixture *f = *state;
	ah_shadow *s = f->s;
	ah_shadow_request *r = calloc(1, sizeof(*r));
	int64_t id = add(s, "w", S, -1, "a=1", NULL, 0);
	char params[512] = "";
	assert_int_equal(ah_shadow_request_set_param(s, id, "b", "2"), 0);
	assert_int_equal(ah_shadow_request_set_param(s, id, "a", "3"), 0);
	assert_int_equal(ah_shadow_request_get(s, id, r), 0);
	assert_int_equal(r->n_params, 2);
	assert_string_equal(param(r, "a"), "3");
	assert_string_equal(param(r, "b"), "2");
	assert_int_equal(ah_shadow_request_set_param(s, 9999, "a", "1"), AH_ENOENT);
	assert_int_equal(ah_shadow_request_set_param(s, id, "a b", "1"), AH_EINVAL);
	assert_int_equal(ah_shadow_request_set_param(s, id, "a", "x\ny"), AH_EINVAL);

	/* A full record: a 17th key is refused, replacing one is not. */
	for (int i = 0; i < AH_SHADOW_MAX_PARAMS; i++) {
		size_t w = strlen(params);
		snprintf(params + w, sizeof params - w, "%sp%d=%d", i ? "," : "", i, i);
	}
	int64_t full = add(s, "w", S, -1, params, NULL, 0);
	assert_int_equal(ah_shadow_request_set_param(s, full, "extra", "1"), AH_ETOOBIG);
	assert_int_equal(ah_shadow_request_set_param(s, full, "p3", "33"), 0);
	assert_int_equal(ah_shadow_request_get(s, full, r), 0);
	assert_int_equal(r->n_params, AH_SHADOW_MAX_PARAMS);
	assert_null(param(r, "extra"));
	assert_string_equal(param(r, "p3"), "33");
	free(r);
}

typedef struct {
	double v[16];
	size_t n;
} pts;

static int pts_fn(void *ctx, const ah_shadow_point *p)
{
	pts *c = ctx;
	if (c->n == 16)
		return AH_ETOOBIG;
	c->v[c->n++] = p->max;
	return 0;
}

/* Usage reports merged into an open record: series appended, running peak
 * raised, mean weighted by the count parameter; refusals write nothing. */
static void test_observe(void **state)
{
	fixture *f = *state;
	ah_shadow *s = f->s;
	ah_shadow_request *r = calloc(1, sizeof(*r));
	int64_t id = add(s, "w", 100 * S, -1, "rows=3", NULL, 0), sid;
	const char *both[] = {"memory", "cpu"}, *mem[] = {"memory"};
	double v1[] = {300, 50}, v2[] = {100, 150}, v3[] = {500};
	pts p = {0};

	assert_int_equal(ah_shadow_request_observe(s, id, "reports", 101 * S, both, v1, 2), 0);
	assert_int_equal(ah_shadow_request_observe(s, id, "reports", 102 * S, both, v2, 2), 0);
	assert_int_equal(ah_shadow_request_get(s, id, r), 0);
	assert_string_equal(param(r, "reports"), "2");
	assert_true(dim(r, "memory")->peak == 300 && dim(r, "memory")->mean == 200);
	assert_true(dim(r, "cpu")->peak == 150 && dim(r, "cpu")->mean == 100);
	assert_true(isnan(dim(r, "memory")->predicted));
	/* A report of memory only: it still counts for cpu's weight. */
	assert_int_equal(ah_shadow_request_observe(s, id, "reports", 103 * S, mem, v3, 1), 0);
	assert_int_equal(ah_shadow_request_get(s, id, r), 0);
	assert_string_equal(param(r, "reports"), "3");
	assert_true(dim(r, "memory")->peak == 500 && dim(r, "memory")->mean == 300);
	assert_true(dim(r, "cpu")->mean == 100);
	/* No dimension at all: counted, nothing else. */
	assert_int_equal(ah_shadow_request_observe(s, id, "reports", 104 * S, NULL, NULL, 0), 0);
	assert_int_equal(ah_shadow_request_get(s, id, r), 0);
	assert_string_equal(param(r, "reports"), "4");
	/* The samples are in the workload's series, created on demand. */
	assert_int_equal(ah_shadow_series_find(s, "w", "memory", &sid), 0);
	assert_int_equal(ah_shadow_query(s, sid, 0, 200 * S, 0, pts_fn, &p), 0);
	assert_int_equal(p.n, 3);
	assert_true(p.v[0] == 300 && p.v[1] == 100 && p.v[2] == 500);

	/* Refusals write nothing: NaN, duplicate dims, bad names, bad times. */
	double bad[] = {NAN, 1}, dup[] = {1, 2};
	const char *twice[] = {"gpu", "gpu"}, *badname[] = {"GPU"}, *gpu_net[] = {"gpu", "net"};
	assert_int_equal(ah_shadow_request_observe(s, id, "reports", 105 * S, gpu_net, bad, 2), AH_EINVAL);
	assert_int_equal(ah_shadow_request_observe(s, id, "reports", 105 * S, twice, dup, 2), AH_EINVAL);
	assert_int_equal(ah_shadow_request_observe(s, id, "reports", 105 * S, badname, dup, 1), AH_EINVAL);
	assert_int_equal(ah_shadow_request_observe(s, id, "reports", -1, mem, v3, 1), AH_ERANGE);
	assert_int_equal(ah_shadow_request_observe(s, id, "bad key", 105 * S, mem, v3, 1), AH_EINVAL);
	assert_int_equal(ah_shadow_request_observe(s, id, "reports", 105 * S, mem, v3, AH_MAX_DIMS + 1), AH_EINVAL);
	assert_int_equal(ah_shadow_series_find(s, "w", "gpu", &sid), AH_ENOENT);
	assert_int_equal(ah_shadow_request_get(s, id, r), 0);
	assert_string_equal(param(r, "reports"), "4");
	assert_null(dim(r, "gpu"));

	/* Unknown and ended records; a full record cannot take the count. */
	assert_int_equal(ah_shadow_request_observe(s, 9999, "reports", 105 * S, mem, v3, 1), AH_ENOENT);
	int64_t done = add(s, "w", S, 2 * S, "", NULL, 0);
	assert_int_equal(ah_shadow_request_observe(s, done, "reports", 105 * S, mem, v3, 1), AH_ESTATE);
	char params[512] = "";
	for (int i = 0; i < AH_SHADOW_MAX_PARAMS; i++) {
		size_t w = strlen(params);
		snprintf(params + w, sizeof params - w, "%sp%d=%d", i ? "," : "", i, i);
	}
	int64_t full = add(s, "full", S, -1, params, NULL, 0);
	assert_int_equal(ah_shadow_request_observe(s, full, "reports", 105 * S, mem, v3, 1), AH_ETOOBIG);
	assert_int_equal(ah_shadow_series_find(s, "full", "memory", &sid), AH_ENOENT);
	/* ... but it can when it already holds it (replaced, not added). */
	assert_int_equal(ah_shadow_request_observe(s, full, "p0", 105 * S, mem, v3, 1), 0);
	assert_int_equal(ah_shadow_request_get(s, full, r), 0);
	assert_string_equal(param(r, "p0"), "1");
	free(r);
}

/* A scope is its own transaction, or a savepoint inside the caller's: its
 * rollback undoes only its own writes. */
static void test_scope(void **state)
{
	fixture *f = *state;
	ah_shadow *s = f->s;
	ah_shadow_request *r = calloc(1, sizeof(*r));
	ah_shadow_scope sc;
	int64_t id = add(s, "w", S, -1, "a=1", NULL, 0);

	/* Alone: rolled back on error (the error returned), committed on 0. */
	assert_int_equal(ah_shadow_scope_begin(s, &sc), 0);
	assert_int_equal(ah_shadow_request_set_param(s, id, "a", "2"), 0);
	assert_int_equal(ah_shadow_scope_end(s, &sc, AH_EIO), AH_EIO);
	assert_int_equal(ah_shadow_request_get(s, id, r), 0);
	assert_string_equal(param(r, "a"), "1");
	assert_int_equal(ah_shadow_begin(s), 0); /* nothing left open */
	assert_int_equal(ah_shadow_rollback(s), 0);
	assert_int_equal(ah_shadow_scope_begin(s, &sc), 0);
	assert_int_equal(ah_shadow_request_set_param(s, id, "a", "3"), 0);
	assert_int_equal(ah_shadow_scope_end(s, &sc, 0), 0);
	assert_int_equal(ah_shadow_request_get(s, id, r), 0);
	assert_string_equal(param(r, "a"), "3");

	/* Nested in the caller's transaction: the scope's rollback keeps the
	 * caller's earlier write, and the caller's commit keeps it. */
	assert_int_equal(ah_shadow_begin(s), 0);
	assert_int_equal(ah_shadow_request_set_param(s, id, "b", "1"), 0);
	assert_int_equal(ah_shadow_scope_begin(s, &sc), 0);
	assert_int_equal(ah_shadow_request_set_param(s, id, "c", "1"), 0);
	assert_int_equal(ah_shadow_scope_end(s, &sc, AH_EIO), AH_EIO);
	assert_int_equal(ah_shadow_commit(s), 0);
	assert_int_equal(ah_shadow_request_get(s, id, r), 0);
	assert_string_equal(param(r, "b"), "1");
	assert_null(param(r, "c"));
	assert_int_equal(ah_shadow_scope_begin(NULL, &sc), AH_EINVAL);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_each_ended, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_param, setup, teardown),
		cmocka_unit_test_setup_teardown(test_observe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scope, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
