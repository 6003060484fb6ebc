/* Shadow store: ingest/query round trips, bucketing, requests, retention,
 * CSV, and refusal of bad input. */
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
#define MIN (60 * S)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

typedef shadow_fixture fixture;
#define setup shadow_fixture_setup
#define teardown shadow_fixture_teardown

typedef struct {
	ah_shadow_point p[4096];
	size_t n;
} collect;

static int collect_fn(void *ctx, const ah_shadow_point *p)
{
	collect *c = ctx;
	if (c->n == 4096)
		return AH_ETOOBIG;
	c->p[c->n++] = *p;
	return 0;
}

static void query(ah_shadow *s, int64_t id, int64_t from, int64_t to, int64_t step, collect *c)
{
	c->n = 0;
	assert_int_equal(ah_shadow_query(s, id, from, to, step, collect_fn, c), 0);
}

static void test_roundtrip(void **state)
{
	fixture *f = *state;
	int64_t id, t[100];
	double v[100];
	const int64_t t0 = INT64_C(1700000000) * S;
	assert_int_equal(ah_shadow_series_ensure(f->s, "web", "cpu", S, &id), 0);
	for (int i = 0; i < 100; i++) {
		t[i] = t0 + i * S;
		v[i] = i * 0.25 + (i % 7 == 0 ? 1e9 : 0); /* mix of fractions and big values */
	}
	assert_int_equal(ah_shadow_append(f->s, id, t, v, 100), 0);
	collect *c = malloc(sizeof(*c));
	query(f->s, id, 0, INT64_MAX, 0, c);
	assert_int_equal(c->n, 100);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(c->p[i].t_ns, t[i]);
		assert_int_equal(c->p[i].width_ns, S);
		assert_true(c->p[i].mean == v[i]);
		assert_true(c->p[i].max == v[i]);
		assert_int_equal(c->p[i].count, 1);
	}
	/* Half-open range [t0+10s, t0+20s): exactly ten points. */
	query(f->s, id, t0 + 10 * S, t0 + 20 * S, 0, c);
	assert_int_equal(c->n, 10);
	assert_int_equal(c->p[0].t_ns, t0 + 10 * S);
	assert_int_equal(c->p[9].t_ns, t0 + 19 * S);
	/* Step of 10 s from an aligned t0 (1700000000 is a multiple of 10):
	 * bucket k holds i = 10k..10k+9, mean of i*0.25 is (10k+4.5)*0.25 plus
	 * 1e9 for each multiple of 7 among them. */
	query(f->s, id, t0, t0 + 100 * S, 10 * S, c);
	assert_int_equal(c->n, 10);
	for (int k = 0; k < 10; k++) {
		int sevens = 0;
		double mx = 0;
		for (int i = 10 * k; i < 10 * k + 10; i++) {
			if (i % 7 == 0)
				sevens++;
			if (v[i] > mx)
				mx = v[i];
		}
		assert_int_equal(c->p[k].t_ns, t0 + k * 10 * S);
		assert_int_equal(c->p[k].count, 10);
		assert_int_equal(c->p[k].width_ns, 10 * S);
		assert_true(fabs(c->p[k].mean - ((10 * k + 4.5) * 0.25 + sevens * 1e8)) < 1e-6);
		assert_true(c->p[k].max == mx);
	}
	free(c);
	ah_shadow_series_info info;
	assert_int_equal(ah_shadow_series_info_get(f->s, id, &info), 0);
	assert_int_equal(info.points, 100);
	assert_int_equal(info.samples, 100);
	assert_int_equal(info.first_ns, t0);
	assert_int_equal(info.last_ns, t0 + 99 * S);
	assert_string_equal(info.workload, "web");
	assert_string_equal(info.dim, "cpu");
	/* Reopening sees the same data. */
	ah_shadow_free(f->s);
	assert_int_equal(ah_shadow_open(f->path, &f->s), 0);
	int64_t id2;
	assert_int_equal(ah_shadow_series_find(f->s, "web", "cpu", &id2), 0);
	assert_int_equal(id2, id);
	assert_int_equal(ah_shadow_series_info_get(f->s, id, &info), 0);
	assert_int_equal(info.samples, 100);
}

static void test_bucketing(void **state)
{
	fixture *f = *state;
	int64_t id, q;
	collect *c = malloc(sizeof(*c));
	assert_int_equal(ah_shadow_series_ensure(f->s, "batch", "memory", 10 * S, &id), 0);
	/* 0 s, 3 s, 9 s land in bucket 0; 10 s in bucket 1; 25 s in bucket 2. */
	int64_t t[] = {0, 3 * S, 9 * S, 10 * S, 25 * S};
	double v[] = {1, 2, 6, 5, 7};
	assert_int_equal(ah_shadow_append(f->s, id, t, v, 3), 0);
	assert_int_equal(ah_shadow_append(f->s, id, t + 3, v + 3, 2), 0);
	/* A later call adding to bucket 0 merges with what is stored. */
	int64_t t2[] = {5 * S, 26 * S, 21 * S};
	double v2[] = {11, 1, 4};
	assert_int_equal(ah_shadow_append(f->s, id, t2, v2, 3), 0);
	query(f->s, id, 0, 100 * S, 0, c);
	assert_int_equal(c->n, 3);
	assert_int_equal(c->p[0].t_ns, 0);
	assert_true(c->p[0].mean == 5.0); /* (1+2+6+11)/4 */
	assert_true(c->p[0].max == 11.0);
	assert_int_equal(c->p[0].count, 4);
	assert_int_equal(c->p[1].t_ns, 10 * S);
	assert_true(c->p[1].mean == 5.0);
	assert_int_equal(c->p[1].count, 1);
	assert_int_equal(c->p[2].t_ns, 20 * S);
	assert_true(c->p[2].mean == 4.0); /* (7+1+4)/3 */
	assert_true(c->p[2].max == 7.0);
	assert_int_equal(c->p[2].count, 3);
	/* Coarser step: all in one 1-minute bucket, count-weighted. */
	query(f->s, id, 0, 100 * S, MIN, c);
	assert_int_equal(c->n, 1);
	assert_true(c->p[0].mean == 37.0 / 8.0);
	assert_true(c->p[0].max == 11.0);
	assert_int_equal(c->p[0].count, 8);

	/* Sub-second granularity: 250 ms buckets. */
	assert_int_equal(ah_shadow_series_ensure(f->s, "batch", "io", 250 * 1000 * 1000, &q), 0);
	int64_t t3[] = {0, 100000000, 249999999, 250000000, 600000000};
	double v3[] = {1, 3, 5, 8, 9};
	assert_int_equal(ah_shadow_append(f->s, q, t3, v3, 5), 0);
	query(f->s, q, 0, S, 0, c);
	assert_int_equal(c->n, 3);
	assert_true(c->p[0].mean == 3.0 && c->p[0].max == 5.0 && c->p[0].count == 3);
	assert_int_equal(c->p[1].t_ns, 250000000);
	assert_int_equal(c->p[2].t_ns, 500000000);
	assert_int_equal(c->p[2].width_ns, 250000000);
	/* The same series with another granularity is refused; 0 means "as is". */
	assert_int_equal(ah_shadow_series_ensure(f->s, "batch", "io", S, &q), AH_EEXIST);
	assert_int_equal(ah_shadow_series_ensure(f->s, "batch", "io", 0, &q), 0);
	/* Hour granularity. */
	assert_int_equal(ah_shadow_series_ensure(f->s, "batch", "net", HOUR, &q), 0);
	int64_t t4[] = {HOUR + 1, 2 * HOUR - 1};
	double v4[] = {2, 4};
	assert_int_equal(ah_shadow_append(f->s, q, t4, v4, 2), 0);
	query(f->s, q, 0, DAY, 0, c);
	assert_int_equal(c->n, 1);
	assert_int_equal(c->p[0].t_ns, HOUR);
	assert_true(c->p[0].mean == 3.0 && c->p[0].count == 2);
	free(c);
}

static void test_requests(void **state)
{
	fixture *f = *state;
	ah_shadow_request *r = calloc(1, sizeof(*r));
	ah_shadow_request *g = calloc(1, sizeof(*g));
	int64_t id1, id2, id3;
	char err[128];
	snprintf(r->workload, sizeof(r->workload), "train");
	r->start_ns = 100 * S;
	r->end_ns = -1;
	assert_int_equal(ah_shadow_params_parse(" size=large , epochs=3,model=resnet-50 ", r->params,
						&r->n_params, err, sizeof(err)),
			 0);
	assert_int_equal(r->n_params, 3);
	r->n_dims = 2;
	snprintf(r->dims[0].dim, sizeof(r->dims[0].dim), "memory");
	r->dims[0].predicted = 2e9;
	r->dims[0].peak = r->dims[0].mean = NAN;
	snprintf(r->dims[1].dim, sizeof(r->dims[1].dim), "cpu");
	r->dims[1].predicted = 1500;
	r->dims[1].peak = r->dims[1].mean = NAN;
	assert_int_equal(ah_shadow_request_add(f->s, r, &id1), 0);
	r->start_ns = 50 * S;
	r->params[0].value[0] = 'X'; /* size=Xarge */
	assert_int_equal(ah_shadow_params_parse("size=small", r->params, &r->n_params, err, sizeof(err)), 0);
	assert_int_equal(ah_shadow_request_add(f->s, r, &id2), 0);
	snprintf(r->workload, sizeof(r->workload), "other");
	assert_int_equal(ah_shadow_request_add(f->s, r, &id3), 0);

	ah_shadow_req_dim obs[2] = {{.dim = "cpu", .peak = 1800, .mean = 900, .predicted = NAN},
				    {.dim = "gpu", .peak = 1, .mean = 0.5, .predicted = NAN}};
	assert_int_equal(ah_shadow_request_end(f->s, id1, 50 * S, obs, 2), AH_ERANGE);
	assert_int_equal(ah_shadow_request_end(f->s, id1, 160 * S, obs, 2), 0);
	assert_int_equal(ah_shadow_request_end(f->s, id1, 170 * S, obs, 2), AH_ESTATE);
	assert_int_equal(ah_shadow_request_end(f->s, 9999, 170 * S, obs, 2), AH_ENOENT);

	assert_int_equal(ah_shadow_request_get(f->s, id1, g), 0);
	assert_string_equal(g->workload, "train");
	assert_int_equal(g->start_ns, 100 * S);
	assert_int_equal(g->end_ns, 160 * S);
	assert_int_equal(g->n_params, 3); /* sorted by key */
	assert_string_equal(g->params[0].key, "epochs");
	assert_string_equal(g->params[0].value, "3");
	assert_string_equal(g->params[1].key, "model");
	assert_string_equal(g->params[1].value, "resnet-50");
	assert_string_equal(g->params[2].key, "size");
	assert_string_equal(g->params[2].value, "large");
	assert_int_equal(g->n_dims, 3); /* cpu, gpu, memory */
	assert_string_equal(g->dims[0].dim, "cpu");
	assert_true(g->dims[0].peak == 1800 && g->dims[0].mean == 900 && g->dims[0].predicted == 1500);
	assert_string_equal(g->dims[1].dim, "gpu");
	assert_true(isnan(g->dims[1].predicted) && g->dims[1].peak == 1);
	assert_string_equal(g->dims[2].dim, "memory");
	assert_true(g->dims[2].predicted == 2e9 && isnan(g->dims[2].peak));

	ah_shadow_request *list = NULL;
	size_t n = 0;
	assert_int_equal(ah_shadow_request_list(f->s, "train", NULL, NULL, 0, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].id, id2); /* earlier start first */
	assert_int_equal(list[0].end_ns, -1);
	assert_int_equal(list[1].id, id1);
	free(list);
	assert_int_equal(ah_shadow_request_list(f->s, "train", "size", "large", 0, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].id, id1);
	free(list);
	assert_int_equal(ah_shadow_request_list(f->s, "train", NULL, NULL, 1, &list, &n), 0);
	assert_int_equal(n, 1);
	free(list);
	assert_int_equal(ah_shadow_request_list(f->s, "nobody", NULL, NULL, 0, &list, &n), 0);
	assert_int_equal(n, 0);
	free(list);

	/* Bad parameter lists name the item. */
	assert_int_equal(ah_shadow_params_parse("a=1,a=2", r->params, &r->n_params, err, sizeof(err)),
			 AH_EINVAL);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(ah_shadow_params_parse("a=1,b", r->params, &r->n_params, err, sizeof(err)),
			 AH_EINVAL);
	assert_non_null(strstr(err, "'b'"));
	assert_int_equal(ah_shadow_params_parse("k y=1", r->params, &r->n_params, err, sizeof(err)),
			 AH_EINVAL);
	/* A run-away start/end is refused. */
	r->start_ns = 10 * S;
	r->end_ns = 5 * S;
	assert_int_equal(ah_shadow_request_add(f->s, r, &id3), AH_ERANGE);
	free(r);
	free(g);
}

static int64_t count_all(ah_shadow *s)
{
	ah_shadow_series_info *v;
	size_t n;
	int64_t total = 0;
	assert_int_equal(ah_shadow_series_list(s, &v, &n), 0);
	for (size_t i = 0; i < n; i++)
		total += v[i].points;
	free(v);
	return total;
}

static void test_retention_exact(void **state)
{
	fixture *f = *state;
	const int64_t now = 600 * DAY;
	int64_t id;
	static int64_t t[7200];
	static double v[7200];
	ah_shadow_tier tiers[AH_SHADOW_MAX_TIERS];
	int nt;
	int64_t counts[AH_SHADOW_MAX_TIERS];
	ah_shadow_default_tiers(tiers, &nt);
	assert_int_equal(nt, 3);
	assert_int_equal(ah_shadow_series_ensure(f->s, "svc", "cpu", S, &id), 0);
	/* 120 samples an hour ago: stay raw. */
	for (int i = 0; i < 120; i++) {
		t[i] = now - HOUR + i * S;
		v[i] = 10;
	}
	assert_int_equal(ah_shadow_append(f->s, id, t, v, 120), 0);
	/* 180 samples two days ago, minute-aligned: three 1-minute points. */
	for (int i = 0; i < 180; i++) {
		t[i] = now - 2 * DAY + i * S;
		v[i] = i; /* minute k: mean 60k+29.5, max 60k+59 */
	}
	assert_int_equal(ah_shadow_append(f->s, id, t, v, 180), 0);
	/* 7200 samples forty days ago, hour-aligned: two 1-hour points. */
	for (int i = 0; i < 7200; i++) {
		t[i] = now - 40 * DAY + i * S;
		v[i] = i < 3600 ? 2 : 4;
	}
	v[100] = 50;
	assert_int_equal(ah_shadow_append(f->s, id, t, v, 7200), 0);
	/* 10 samples 500 days ago: beyond a year, deleted. */
	for (int i = 0; i < 10; i++) {
		t[i] = now - 500 * DAY + i * S;
		v[i] = 1;
	}
	assert_int_equal(ah_shadow_append(f->s, id, t, v, 10), 0);
	assert_int_equal(ah_shadow_tier_counts(f->s, tiers, nt, counts), 0);
	assert_int_equal(counts[0], 120 + 180 + 7200 + 10);
	assert_int_equal(counts[1], 0);

	ah_shadow_compact_stats st;
	assert_int_equal(ah_shadow_compact(f->s, now, &st), 0);
	assert_int_equal(ah_shadow_tier_counts(f->s, tiers, nt, counts), 0);
	assert_int_equal(counts[0], 120);
	assert_int_equal(counts[1], 3);
	assert_int_equal(counts[2], 2);
	/* Rolled: 180 + 7200 + 10 raw points, then 120 minute points (40 days
	 * old) + 1 (500 days old) into hours; deleted: the one old hour. */
	assert_int_equal(st.points_rolled, 180 + 7200 + 10 + 120 + 1);
	assert_int_equal(st.points_deleted, 1);

	collect *c = malloc(sizeof(*c));
	query(f->s, id, now - 3 * DAY, now - DAY, 0, c);
	assert_int_equal(c->n, 3);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(c->p[k].t_ns, now - 2 * DAY + k * MIN);
		assert_int_equal(c->p[k].width_ns, MIN);
		assert_true(c->p[k].mean == 60 * k + 29.5);
		assert_true(c->p[k].max == 60 * k + 59);
		assert_int_equal(c->p[k].count, 60);
	}
	query(f->s, id, now - 41 * DAY, now - 39 * DAY, 0, c);
	assert_int_equal(c->n, 2);
	assert_int_equal(c->p[0].t_ns, now - 40 * DAY);
	assert_int_equal(c->p[0].width_ns, HOUR);
	assert_true(fabs(c->p[0].mean - (2.0 * 3599 + 50) / 3600) < 1e-12);
	assert_true(c->p[0].max == 50);
	assert_int_equal(c->p[0].count, 3600);
	assert_true(c->p[1].mean == 4 && c->p[1].max == 4 && c->p[1].count == 3600);
	/* Whole-range query merges tiers in time order. */
	query(f->s, id, 0, INT64_MAX, 0, c);
	assert_int_equal(c->n, 125);
	for (size_t i = 1; i < c->n; i++)
		assert_true(c->p[i].t_ns > c->p[i - 1].t_ns);
	free(c);
	ah_shadow_series_info info;
	assert_int_equal(ah_shadow_series_info_get(f->s, id, &info), 0);
	assert_int_equal(info.samples, 120 + 180 + 7200);
	/* Compacting again changes nothing. */
	assert_int_equal(ah_shadow_compact(f->s, now, &st), 0);
	assert_int_equal(st.points_rolled, 0);
	assert_int_equal(st.points_deleted, 0);
}

static void test_retention_bounded(void **state)
{
	fixture *f = *state;
	/* Short tiers so a long history is cheap: raw 1 h, 1 min for 1 day,
	 * 1 h for 3 days. Ten days of 10-second samples, compacted daily. */
	ah_shadow_tier tiers[] = {{0, HOUR}, {MIN, DAY}, {HOUR, 3 * DAY}};
	int64_t id, id2, counts[3];
	const int per_day = 8640;
	int64_t *t = malloc(sizeof(*t) * per_day);
	double *v = malloc(sizeof(*v) * per_day);
	assert_int_equal(ah_shadow_series_ensure(f->s, "long", "memory", S, &id), 0);
	assert_int_equal(ah_shadow_series_ensure(f->s, "long", "cpu", 10 * S, &id2), 0);
	int64_t bound = 2 * (360 + 1440 + 24 * 4);
	for (int day = 0; day < 10; day++) {
		for (int i = 0; i < per_day; i++) {
			t[i] = (int64_t)day * DAY + i * 10 * S;
			v[i] = (i % 100) * 1024.0;
		}
		assert_int_equal(ah_shadow_append(f->s, id, t, v, per_day), 0);
		assert_int_equal(ah_shadow_append(f->s, id2, t, v, per_day), 0);
		assert_int_equal(ah_shadow_compact_tiers(f->s, (day + 1) * DAY, tiers, 3, NULL), 0);
		assert_true(count_all(f->s) <= bound);
	}
	/* Exact steady state at now = day 10, per series: raw [now-1h, now)
	 * = 360, minutes [now-1d, now-1h) = 1380, hours [now-3d, now-1d) = 48. */
	assert_int_equal(ah_shadow_tier_counts(f->s, tiers, 3, counts), 0);
	assert_int_equal(counts[0], 2 * 360);
	assert_int_equal(counts[1], 2 * 1380);
	assert_int_equal(counts[2], 2 * 48);
	ah_shadow_series_info info;
	assert_int_equal(ah_shadow_series_info_get(f->s, id, &info), 0);
	assert_int_equal(info.samples, 360 + 1380 * 6 + 48 * 360);
	assert_int_equal(info.first_ns, 7 * DAY);
	free(t);
	free(v);
}

static void test_bad_inputs(void **state)
{
	fixture *f = *state;
	int64_t id, x;
	int64_t t[] = {S, 2 * S};
	double v[] = {1, NAN};
	collect c;
	char big[200];
	assert_int_equal(ah_shadow_series_ensure(f->s, "w", "cpu", S, &id), 0);
	/* NaN/inf: refused, nothing of the batch written. */
	assert_int_equal(ah_shadow_append(f->s, id, t, v, 2), AH_EINVAL);
	v[1] = INFINITY;
	assert_int_equal(ah_shadow_append(f->s, id, t, v, 2), AH_EINVAL);
	query(f->s, id, 0, INT64_MAX, 0, &c);
	assert_int_equal(c.n, 0);
	/* Negative and far-future times. */
	v[1] = 2;
	t[1] = -1;
	assert_int_equal(ah_shadow_append(f->s, id, t, v, 2), AH_ERANGE);
	t[1] = AH_SHADOW_T_MAX + 1;
	assert_int_equal(ah_shadow_append(f->s, id, t, v, 2), AH_ERANGE);
	/* Unknown series. */
	assert_int_equal(ah_shadow_append(f->s, id + 100, t, v, 1), AH_ENOENT);
	assert_int_equal(ah_shadow_query(f->s, id + 100, 0, 1, 0, collect_fn, &c), AH_ENOENT);
	assert_int_equal(ah_shadow_series_find(f->s, "w", "memory", &x), AH_ENOENT);
	/* Bad ranges. */
	assert_int_equal(ah_shadow_query(f->s, id, 10, 5, 0, collect_fn, &c), AH_ERANGE);
	assert_int_equal(ah_shadow_query(f->s, id, 0, 5, -1, collect_fn, &c), AH_ERANGE);
	/* Names: the 127-byte cap, characters. */
	memset(big, 'a', sizeof(big));
	big[127] = '\0';
	assert_int_equal(ah_shadow_series_ensure(f->s, big, "cpu", 0, &x), 0);
	big[127] = 'a';
	big[128] = '\0';
	assert_int_equal(ah_shadow_series_ensure(f->s, big, "cpu", 0, &x), AH_ETOOBIG);
	big[199] = '\0';
	assert_int_equal(ah_name_check_workload(big), AH_ETOOBIG);
	assert_int_equal(ah_shadow_series_ensure(f->s, "a b", "cpu", 0, &x), AH_EINVAL);
	assert_int_equal(ah_shadow_series_ensure(f->s, "a,b", "cpu", 0, &x), AH_EINVAL);
	assert_int_equal(ah_shadow_series_ensure(f->s, "", "cpu", 0, &x), AH_EINVAL);
	assert_int_equal(ah_shadow_series_ensure(f->s, "w", "CPU", 0, &x), AH_EINVAL);
	assert_int_equal(ah_shadow_series_ensure(f->s, "w", "9x", 0, &x), AH_EINVAL);
	assert_int_equal(ah_shadow_series_ensure(f->s, "w", big, 0, &x), AH_ETOOBIG);
	assert_int_equal(ah_shadow_series_ensure(f->s, "w", "gpu_mem", 0, &x), 0);
	/* Granularity bounds. */
	assert_int_equal(ah_shadow_series_ensure(f->s, "w", "q", 999999, &x), AH_ERANGE);
	assert_int_equal(ah_shadow_series_ensure(f->s, "w", "q", DAY + 1, &x), AH_ERANGE);
	/* Aggregated points must be consistent. */
	ah_shadow_point p = {S, 0, 5, 4, 2};
	assert_int_equal(ah_shadow_append_points(f->s, id, &p, 1), AH_EINVAL);
	p.max = 6;
	p.count = 0;
	assert_int_equal(ah_shadow_append_points(f->s, id, &p, 1), AH_ERANGE);
	/* Tiers. */
	ah_shadow_tier bad1[] = {{MIN, DAY}};
	ah_shadow_tier bad2[] = {{0, DAY}, {HOUR, DAY}, {MIN, DAY}};
	ah_shadow_tier bad3[] = {{0, 0}};
	assert_int_equal(ah_shadow_compact_tiers(f->s, DAY, bad1, 1, NULL), AH_EINVAL);
	assert_int_equal(ah_shadow_compact_tiers(f->s, DAY, bad2, 3, NULL), AH_ERANGE);
	assert_int_equal(ah_shadow_compact_tiers(f->s, DAY, bad3, 1, NULL), AH_ERANGE);
	assert_int_equal(ah_shadow_compact(f->s, -1, NULL), AH_ERANGE);
	/* Transactions: state checks. */
	assert_int_equal(ah_shadow_commit(f->s), AH_ESTATE);
	assert_int_equal(ah_shadow_begin(f->s), 0);
	assert_int_equal(ah_shadow_begin(f->s), AH_ESTATE);
	t[1] = 2 * S;
	assert_int_equal(ah_shadow_append(f->s, id, t, v, 2), 0);
	assert_int_equal(ah_shadow_rollback(f->s), 0);
	query(f->s, id, 0, INT64_MAX, 0, &c);
	assert_int_equal(c.n, 0);
}

static void test_paths_and_times(void **state)
{
	(void)state;
	char buf[64];
	assert_int_equal(ah_shadow_path_for_db("ahead.db", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "ahead-shadow.db");
	assert_int_equal(ah_shadow_path_for_db("/var/lib/x/ledger.db", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/var/lib/x/ledger-shadow.db");
	assert_int_equal(ah_shadow_path_for_db("./data/store", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "./data/store-shadow.db");
	assert_int_equal(ah_shadow_path_for_db("dir/.db", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "dir/.db-shadow.db");
	assert_int_equal(ah_shadow_path_for_db("ahead.db", buf, 10), AH_ERANGE);

	int64_t t;
	assert_int_equal(ah_time_parse("2024-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, INT64_C(1704067200) * S);
	assert_int_equal(ah_time_parse("2024-02-29 12:30:00.25+02:00", &t), 0);
	assert_int_equal(t, (INT64_C(1709209800) - 7200) * S + 250000000);
	assert_int_equal(ah_time_parse("1700000000.5", &t), 0);
	assert_int_equal(t, INT64_C(1700000000) * S + 500000000);
	assert_int_equal(ah_time_parse("2023-02-29", &t), AH_EINVAL);
	assert_int_equal(ah_time_parse("2024-01-01T25:00:00Z", &t), AH_EINVAL);
	assert_int_equal(ah_time_parse("yesterday", &t), AH_EINVAL);
	assert_int_equal(ah_time_parse("1969-12-31T23:59:59Z", &t), AH_ERANGE);
	assert_int_equal(ah_time_parse("99999999999999999999", &t), AH_ERANGE);
	const int64_t samples[] = {0, 1, 999999999, INT64_C(1704067200) * S + 123456789,
				   INT64_C(951782400) * S, AH_SHADOW_T_MAX};
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		assert_int_equal(ah_time_format_exact(samples[i], buf, sizeof(buf)), 0);
		assert_int_equal(ah_time_parse(buf, &t), 0);
		assert_int_equal(t, samples[i]);
	}
	assert_int_equal(ah_time_format_exact(INT64_C(1704067200) * S + 250000000, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2024-01-01T00:00:00.25Z");
}

static void test_csv(void **state)
{
	fixture *f = *state;
	int64_t a, b, n;
	char err[128], path[160];
	collect *c1 = malloc(sizeof(*c1)), *c2 = malloc(sizeof(*c2));
	assert_int_equal(ah_shadow_series_ensure(f->s, "csv", "cpu", 10 * S, &a), 0);
	assert_int_equal(ah_shadow_series_ensure(f->s, "csv", "copy", 10 * S, &b), 0);
	int64_t t[50];
	double v[50];
	for (int i = 0; i < 50; i++) {
		t[i] = INT64_C(1704067200) * S + i * 3 * S + (i % 3) * 1000;
		v[i] = 0.1 * i;
	}
	assert_int_equal(ah_shadow_append(f->s, a, t, v, 50), 0);
	snprintf(path, sizeof(path), "%s/x.csv", f->dir);
	FILE *fp = fopen(path, "w");
	assert_int_equal(ah_shadow_export_csv(f->s, a, 0, INT64_MAX, 0, fp), 0);
	fclose(fp);
	fp = fopen(path, "r");
	assert_int_equal(ah_shadow_import_csv(f->s, b, fp, err, sizeof(err), &n), 0);
	fclose(fp);
	query(f->s, a, 0, INT64_MAX, 0, c1);
	query(f->s, b, 0, INT64_MAX, 0, c2);
	assert_int_equal(n, (int64_t)c1->n);
	assert_int_equal(c1->n, c2->n);
	for (size_t i = 0; i < c1->n; i++) {
		assert_int_equal(c1->p[i].t_ns, c2->p[i].t_ns);
		assert_true(c1->p[i].mean == c2->p[i].mean);
		assert_true(c1->p[i].max == c2->p[i].max);
		assert_int_equal(c1->p[i].count, c2->p[i].count);
	}
	/* A bad line aborts the whole import, naming line and field. */
	fp = fopen(path, "w");
	fprintf(fp, "time,value\n2024-01-01T00:00:00Z,1\n2024-01-01T00:00:10Z,1\n2024-01-01T00:00:20Z,nan\n");
	fclose(fp);
	fp = fopen(path, "r");
	assert_int_equal(ah_shadow_import_csv(f->s, b, fp, err, sizeof(err), &n), AH_EPARSE);
	fclose(fp);
	assert_string_equal(err, "line 4: value: not a finite number");
	query(f->s, b, 0, INT64_MAX, 0, c2);
	assert_int_equal(c1->n, c2->n);
	assert_true(c2->p[0].mean == c1->p[0].mean);
	fp = fopen(path, "w");
	fprintf(fp, "when,value\n");
	fclose(fp);
	fp = fopen(path, "r");
	assert_int_equal(ah_shadow_import_csv(f->s, b, fp, err, sizeof(err), &n), AH_EPARSE);
	fclose(fp);
	assert_non_null(strstr(err, "line 1: header"));
	fp = fopen(path, "w");
	fprintf(fp, "time,value,max,count\n2024-01-01T00:00:00Z,5,4,1\n");
	fclose(fp);
	fp = fopen(path, "r");
	assert_int_equal(ah_shadow_import_csv(f->s, b, fp, err, sizeof(err), &n), AH_EPARSE);
	fclose(fp);
	assert_string_equal(err, "line 2: max: smaller than value (the mean)");
	free(c1);
	free(c2);
}


static void test_late_and_tier_of_lane(void **state)
{
	fixture *f = *state;
	const int64_t now = 100 * DAY;
	int64_t a, m, counts[3];
	ah_shadow_tier tiers[AH_SHADOW_MAX_TIERS];
	int nt;
	ah_shadow_compact_stats st;
	collect *c = malloc(sizeof(*c));
	ah_shadow_default_tiers(tiers, &nt);
	assert_int_equal(ah_shadow_series_ensure(f->s, "late", "cpu", S, &a), 0);
	/* A 1-minute series is already the 1-minute tier: kept 30 days raw. */
	assert_int_equal(ah_shadow_series_ensure(f->s, "late", "memory", MIN, &m), 0);
	int64_t t[] = {now - 2 * DAY, now - 2 * DAY + S, now - 20 * DAY};
	double v[] = {2, 4, 8};
	assert_int_equal(ah_shadow_append(f->s, a, t, v, 2), 0);
	assert_int_equal(ah_shadow_append(f->s, m, t + 2, v + 2, 1), 0);
	assert_int_equal(ah_shadow_compact(f->s, now, &st), 0);
	assert_int_equal(st.points_rolled, 2);
	assert_int_equal(ah_shadow_tier_counts(f->s, tiers, nt, counts), 0);
	assert_int_equal(counts[0], 0);
	assert_int_equal(counts[1], 2); /* late/cpu's minute + late/memory's raw point */
	query(f->s, m, 0, INT64_MAX, 0, c);
	assert_int_equal(c->n, 1);
	assert_int_equal(c->p[0].width_ns, MIN);
	/* A late sample for the compacted minute: stored raw next to it (a raw
	 * query shows both, a stepped one adds them), merged by the next
	 * compaction. */
	int64_t tl = now - 2 * DAY + 30 * S;
	double vl = 12;
	assert_int_equal(ah_shadow_append(f->s, a, &tl, &vl, 1), 0);
	query(f->s, a, 0, INT64_MAX, 0, c);
	assert_int_equal(c->n, 2);
	assert_int_equal(c->p[0].width_ns, MIN); /* same start: wider first */
	assert_int_equal(c->p[1].t_ns, tl);
	query(f->s, a, 0, INT64_MAX, MIN, c);
	assert_int_equal(c->n, 1);
	assert_true(c->p[0].mean == 6.0 && c->p[0].max == 12.0 && c->p[0].count == 3);
	assert_int_equal(ah_shadow_compact(f->s, now, &st), 0);
	assert_int_equal(st.points_rolled, 1);
	query(f->s, a, 0, INT64_MAX, 0, c);
	assert_int_equal(c->n, 1);
	assert_true(c->p[0].mean == 6.0 && c->p[0].max == 12.0 && c->p[0].count == 3);
	assert_int_equal(c->p[0].width_ns, MIN);
	free(c);
}

static void test_wal_readers(void **state)
{
	fixture *f = *state;
	ah_shadow *r;
	int64_t id, id2, t[] = {S, 2 * S};
	double v[] = {1, 2};
	collect *c = malloc(sizeof(*c));
	assert_int_equal(ah_shadow_series_ensure(f->s, "wal", "cpu", S, &id), 0);
	assert_int_equal(ah_shadow_append(f->s, id, t, v, 1), 0);
	assert_int_equal(ah_shadow_open(f->path, &r), 0);
	/* A writer holds an open transaction; a reader still reads, and sees
	 * the last committed state. */
	assert_int_equal(ah_shadow_begin(f->s), 0);
	assert_int_equal(ah_shadow_append(f->s, id, t + 1, v + 1, 1), 0);
	assert_int_equal(ah_shadow_series_find(r, "wal", "cpu", &id2), 0);
	query(r, id2, 0, INT64_MAX, 0, c);
	assert_int_equal(c->n, 1);
	assert_int_equal(ah_shadow_commit(f->s), 0);
	query(r, id2, 0, INT64_MAX, 0, c);
	assert_int_equal(c->n, 2);
	ah_shadow_free(r);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bucketing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_inputs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paths_and_times, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_and_tier_of_lane, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wal_readers, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
