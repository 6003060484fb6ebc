/* Predictions from the shadow store: request records through the
 * conditioned model, usage series through the empirical quantile, unknown
 * workloads, bad input, the per-allocation feedback records, and the engine
 * sized by it. */
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
#include "ahead/predictor_shadow.h"
#include "ahead/shadow_alloc.h"
#include "ahead/shadow.h"
#include "shadow_fixture.h"
#include "engine_fixture.h"

#define S AH_NS_PER_S
#define MI (1024.0 * 1024.0)
#define T0 (INT64_C(1700000000) * S)

typedef struct {
	shadow_fixture sf; /* first: f->sf.s is the store */
	ah_shadow *s;
	ah_shadow_predictor *p;
	ah_dimset dims;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	if (!f || shadow_fixture_open(&f->sf))
		return -1;
	f->s = f->sf.s;
	if (ah_shadow_predictor_new(f->s, NULL, &f->p))
		return -1;
	ah_dimset_init(&f->dims);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	ah_shadow_predictor_free(f->p);
	int rc = shadow_fixture_close(&f->sf);
	free(f);
	return rc;
}

/* An ended request record with one observed peak. */
static void add_record(ah_shadow *s, const char *w, const char *params, int64_t start, const char *dim,
		       double peak)
{
	ah_shadow_request r = {.start_ns = start, .end_ns = start + 10 * S};
	int64_t id;
	snprintf(r.workload, sizeof r.workload, "%s", w);
	assert_int_equal(ah_shadow_params_parse(params, r.params, &r.n_params, NULL, 0), 0);
	r.n_dims = 1;
	snprintf(r.dims[0].dim, sizeof r.dims[0].dim, "%s", dim);
	r.dims[0].peak = peak;
	r.dims[0].mean = peak / 2;
	r.dims[0].predicted = NAN;
	assert_int_equal(ah_shadow_request_add(s, &r, &id), 0);
}

/* memory = 100 MiB x rows, within +-10% noise: the prediction for rows=7
 * is about 700 MiB, for rows=20 (never seen) about 2000 MiB, and a higher
 * quantile gives a higher value. */
static void test_regression_on_params(void **state)
{
	fixture *f = *state;
	static const double noise[] = {0.9, 0.95, 1.0, 1.05, 1.1, 0.97, 1.03};
	for (int i = 0; i < 42; i++) {
		char params[64];
		int rows = 1 + i % 10;
		snprintf(params, sizeof params, "rows=%d,kind=etl", rows);
		add_record(f->s, "etl", params, T0 + i * S, "memory", 100 * MI * rows * noise[i % 7]);
	}
	/* A record the model cannot read (a value with ';', allowed by the
	 * store's API) is skipped, not fatal. */
	add_record(f->s, "etl", "rows=a;b", T0 + 100 * S, "memory", 1e12);
	ah_vec v50, v90, v99, v20;
	ah_shadow_prediction_info info;
	assert_int_equal(ah_shadow_predictor_predict(f->p, "etl", "rows=7,kind=etl", 0.5, &f->dims, &v50, &info), 0);
	assert_int_equal(info.dim[AH_DIM_MEMORY].source, AH_PSH_REGRESSION);
	assert_int_equal(info.dim[AH_DIM_MEMORY].n, 42);
	assert_int_equal(info.dim[AH_DIM_CPU].source, AH_PSH_NONE);
	assert_int_equal(v50.v[AH_DIM_CPU], 0);
	double m = (double)v50.v[AH_DIM_MEMORY] / MI;
	assert_true(m > 700 * 0.95 && m < 700 * 1.05);
	assert_int_equal(ah_shadow_predictor_predict(f->p, "etl", "kind=etl, rows=7", 0.9, &f->dims, &v90, NULL), 0);
	assert_int_equal(ah_shadow_predictor_predict(f->p, "etl", "rows=7,kind=etl", 0.99, &f->dims, &v99, NULL), 0);
	assert_true(v90.v[AH_DIM_MEMORY] > v50.v[AH_DIM_MEMORY]);
	assert_true(v99.v[AH_DIM_MEMORY] >= v90.v[AH_DIM_MEMORY]);
	/* The noise is at most +10%: the 90% quantile stays within it. */
	assert_true((double)v90.v[AH_DIM_MEMORY] / MI < 700 * 1.12);
	assert_int_equal(ah_shadow_predictor_predict(f->p, "etl", "rows=20,kind=etl", 0.5, &f->dims, &v20, NULL), 0);
	m = (double)v20.v[AH_DIM_MEMORY] / MI;
	assert_true(m > 2000 * 0.9 && m < 2000 * 1.1);
	/* The last info is kept for display. */
	ah_shadow_prediction_info last;
	assert_int_equal(ah_shadow_predictor_last(f->p, &last), 0);
	assert_true(last.q == 0.5);
	/* An unseen category falls back to the workload's whole history. */
	assert_int_equal(ah_shadow_predictor_predict(f->p, "etl", "kind=other", 0.5, &f->dims, &v20, &info), 0);
	assert_int_equal(info.dim[AH_DIM_MEMORY].source, AH_PSH_WORKLOAD);
}

/* Newest records win: with max_requests = 10, only the last 10 (where
 * memory doubled) are read. */
static void test_newest_records_bounded(void **state)
{
	fixture *f = *state;
	ah_shadow_predictor *p;
	ah_shadow_predictor_opts o = {.max_requests = 10};
	for (int i = 0; i < 30; i++)
		add_record(f->s, "job", "size=s", T0 + i * S, "memory", (i < 20 ? 100 : 200) * MI);
	assert_int_equal(ah_shadow_predictor_new(f->s, &o, &p), 0);
	ah_vec v;
	ah_shadow_prediction_info info;
	assert_int_equal(ah_shadow_predictor_predict(p, "job", "size=s", 0.5, &f->dims, &v, &info), 0);
	assert_int_equal(info.dim[AH_DIM_MEMORY].source, AH_PSH_GROUP);
	assert_int_equal(info.dim[AH_DIM_MEMORY].n, 10);
	assert_true(fabs((double)v.v[AH_DIM_MEMORY] - 200 * MI) <= 1);
	ah_shadow_predictor_free(p);
	/* Open records (still running) are not training examples. */
	ah_shadow_request r = {.workload = "job2", .start_ns = T0, .end_ns = -1, .n_dims = 1};
	int64_t id;
	snprintf(r.dims[0].dim, sizeof r.dims[0].dim, "memory");
	r.dims[0].peak = 5 * MI;
	r.dims[0].mean = r.dims[0].predicted = NAN;
	assert_int_equal(ah_shadow_request_add(f->s, &r, &id), 0);
	assert_int_equal(ah_shadow_predictor_predict(f->p, "job2", NULL, 0.5, &f->dims, &v, NULL), AH_ENOENT);
}

/* Without records, the usage series: cpu 1..100 gives the conformal rank
 * ceil(101 q): 91 at q = 0.9, 51 at q = 0.5; only the newest max_samples
 * points count; a bucket contributes its max. */
static void test_series_fallback(void **state)
{
	fixture *f = *state;
	int64_t sid, t[100];
	double y[100];
	for (int i = 0; i < 100; i++) {
		t[i] = T0 + i * S;
		y[i] = i + 1;
	}
	assert_int_equal(ah_shadow_series_ensure(f->s, "web", "cpu", 0, &sid), 0);
	assert_int_equal(ah_shadow_append(f->s, sid, t, y, 100), 0);
	ah_vec v;
	ah_shadow_prediction_info info;
	assert_int_equal(ah_shadow_predictor_predict(f->p, "web", "", 0.9, &f->dims, &v, &info), 0);
	assert_int_equal(v.v[AH_DIM_CPU], 91);
	assert_int_equal(v.v[AH_DIM_MEMORY], 0);
	assert_int_equal(info.dim[AH_DIM_CPU].source, AH_PSH_SERIES);
	assert_int_equal(info.dim[AH_DIM_CPU].n, 100);
	assert_int_equal(ah_shadow_predictor_predict(f->p, "web", NULL, 0.5, &f->dims, &v, NULL), 0);
	assert_int_equal(v.v[AH_DIM_CPU], 51);

	ah_shadow_predictor *p;
	ah_shadow_predictor_opts o = {.max_samples = 10};
	assert_int_equal(ah_shadow_predictor_new(f->s, &o, &p), 0);
	assert_int_equal(ah_shadow_predictor_predict(p, "web", NULL, 0.5, &f->dims, &v, &info), 0);
	assert_int_equal(info.dim[AH_DIM_CPU].n, 10);
	assert_int_equal(v.v[AH_DIM_CPU], 96); /* 91..100, rank ceil(5.5) = 6 */
	ah_shadow_predictor_free(p);

	/* Sparse samples far apart: the look-back widens until it finds them. */
	int64_t ts[3] = {T0, T0 + 3600 * S, T0 + 7200 * S};
	double ys[3] = {10, 30, 20};
	assert_int_equal(ah_shadow_series_ensure(f->s, "sparse", "cpu", 0, &sid), 0);
	assert_int_equal(ah_shadow_append(f->s, sid, ts, ys, 3), 0);
	assert_int_equal(ah_shadow_predictor_predict(f->p, "sparse", NULL, 0.9, &f->dims, &v, &info), 0);
	assert_int_equal(info.dim[AH_DIM_CPU].n, 3);
	assert_int_equal(v.v[AH_DIM_CPU], 30);

	/* Two samples in one bucket: the bucket's max is what counts. */
	int64_t tb[4] = {T0, T0 + S / 2, T0 + S, T0 + 2 * S};
	double yb[4] = {5, 50, 5, 5};
	assert_int_equal(ah_shadow_series_ensure(f->s, "bursty", "cpu", 0, &sid), 0);
	assert_int_equal(ah_shadow_append(f->s, sid, tb, yb, 4), 0);
	assert_int_equal(ah_shadow_predictor_predict(f->p, "bursty", NULL, 0.99, &f->dims, &v, NULL), 0);
	assert_int_equal(v.v[AH_DIM_CPU], 50);

	/* Fewer points than min_samples: nothing known. */
	assert_int_equal(ah_shadow_series_ensure(f->s, "tiny", "cpu", 0, &sid), 0);
	assert_int_equal(ah_shadow_append(f->s, sid, t, y, 2), 0);
	assert_int_equal(ah_shadow_predictor_predict(f->p, "tiny", NULL, 0.5, &f->dims, &v, NULL), AH_ENOENT);
}

static void test_unknown_and_bad_input(void **state)
{
	fixture *f = *state;
	ah_vec v = {.v = {42}};
	ah_shadow_prediction_info info;
	assert_int_equal(ah_shadow_predictor_predict(f->p, "nobody", "rows=1", 0.5, &f->dims, &v, NULL), AH_ENOENT);
	assert_int_equal(v.v[0], 42); /* out untouched */
	assert_int_equal(ah_shadow_predictor_last(f->p, &info), AH_ENOENT);
	assert_int_equal(ah_shadow_predictor_predict(f->p, "w", NULL, 0, &f->dims, &v, NULL), AH_EINVAL);
	assert_int_equal(ah_shadow_predictor_predict(f->p, "w", NULL, 1, &f->dims, &v, NULL), AH_EINVAL);
	assert_int_equal(ah_shadow_predictor_predict(f->p, "w", NULL, NAN, &f->dims, &v, NULL), AH_EINVAL);
	assert_int_equal(ah_shadow_predictor_predict(f->p, "bad name", NULL, 0.5, &f->dims, &v, NULL), AH_EINVAL);
	assert_int_equal(ah_shadow_predictor_predict(f->p, "", NULL, 0.5, &f->dims, &v, NULL), AH_EINVAL);
	assert_int_equal(ah_shadow_predictor_predict(f->p, "w", "rows", 0.5, &f->dims, &v, NULL), AH_EINVAL);
	assert_int_equal(ah_shadow_predictor_predict(f->p, "w", "a=1;2", 0.5, &f->dims, &v, NULL), AH_EINVAL);
	assert_int_equal(ah_shadow_predictor_predict(NULL, "w", NULL, 0.5, &f->dims, &v, NULL), AH_EINVAL);
	ah_shadow_predictor *p = NULL;
	ah_shadow_predictor_opts o = {.max_samples = 2, .min_samples = 3};
	assert_int_equal(ah_shadow_predictor_new(f->s, &o, &p), AH_ERANGE);
	assert_null(p);
	ah_shadow_predictor_free(NULL);

	char err[128];
	assert_int_equal(ah_shadow_params_check(NULL, err, sizeof err), 0);
	assert_int_equal(ah_shadow_params_check("rows=7,kind=etl", err, sizeof err), 0);
	assert_int_equal(ah_shadow_params_check("rows", err, sizeof err), AH_EINVAL);
	assert_non_null(strstr(err, "rows"));
	assert_int_equal(ah_shadow_params_check("rows=", err, sizeof err), AH_EINVAL);
	assert_non_null(strstr(err, "empty value"));
	assert_int_equal(ah_shadow_params_check("a=1|2", err, sizeof err), AH_EINVAL);
	assert_int_equal(ah_shadow_params_check("ahead.alloc=3", err, sizeof err), AH_EINVAL);
	assert_non_null(strstr(err, "reserved"));
	assert_int_equal(ah_shadow_params_check("a=1,a=2", err, sizeof err), AH_EINVAL);
	assert_int_equal(ah_shadow_params_check("k%=1", err, sizeof err), AH_EINVAL);
	char many[512] = "";
	for (int i = 0; i <= AH_SHADOW_MAX_USER_PARAMS; i++)
		snprintf(many + strlen(many), sizeof many - strlen(many), "%sk%d=1", i ? "," : "", i);
	assert_int_equal(ah_shadow_params_check(many, err, sizeof err), AH_ETOOBIG);
}

/* Grant → reports → release: the record maps the allocation to its
 * workload, the reports reach the series and raise the running peak, the
 * release makes it a training example the predictor then uses. */
static void test_feedback_loop(void **state)
{
	fixture *f = *state;
	ah_vec pred = {0}, u = {0};
	int64_t req;
	char w[AH_SHADOW_WORKLOAD_MAX];
	pred.v[AH_DIM_MEMORY] = (int64_t)(300 * MI);
	assert_int_equal(ah_shadow_alloc_begin(f->s, 7, "train", "rows=3", T0, &f->dims, &pred, NULL, &req), 0);
	ah_shadow_request r;
	assert_int_equal(ah_shadow_alloc_find(f->s, 7, &r), 0);
	assert_int_equal(r.id, req);
	assert_string_equal(r.workload, "train");
	assert_int_equal(r.end_ns, -1);
	assert_int_equal(r.n_params, 2);
	assert_string_equal(r.params[0].key, "ahead.alloc");
	assert_string_equal(r.params[0].value, "7");
	assert_int_equal(r.n_dims, 1);
	assert_true(r.dims[0].predicted == 300 * MI);
	assert_int_equal(ah_shadow_alloc_find(f->s, 8, &r), AH_ENOENT);

	uint32_t mask = (1u << AH_DIM_CPU) | (1u << AH_DIM_MEMORY);
	u.v[AH_DIM_CPU] = 500;
	u.v[AH_DIM_MEMORY] = (int64_t)(200 * MI);
	assert_int_equal(ah_shadow_alloc_report(f->s, 7, T0 + S, &f->dims, &u, mask, w), 0);
	assert_string_equal(w, "train");
	u.v[AH_DIM_CPU] = 0; /* reported idle: counts, as a zero */
	u.v[AH_DIM_MEMORY] = (int64_t)(310 * MI);
	assert_int_equal(ah_shadow_alloc_report(f->s, 7, T0 + 2 * S, &f->dims, &u, mask, NULL), 0);
	u.v[AH_DIM_MEMORY] = (int64_t)(250 * MI);
	assert_int_equal(ah_shadow_alloc_report(f->s, 7, T0 + 3 * S, &f->dims, &u, 1u << AH_DIM_MEMORY, NULL), 0);
	assert_int_equal(ah_shadow_alloc_find(f->s, 7, &r), 0);
	assert_int_equal(r.n_dims, 2); /* cpu, memory */
	assert_string_equal(r.dims[1].dim, "memory");
	assert_true(r.dims[1].peak == 310 * MI);
	assert_true(fabs(r.dims[1].mean - 760 * MI / 3) < 1);
	assert_true(r.dims[1].predicted == 300 * MI);
	assert_true(r.dims[0].peak == 500);
	int64_t sid;
	ah_shadow_series_info si;
	assert_int_equal(ah_shadow_series_find(f->s, "train", "memory", &sid), 0);
	assert_int_equal(ah_shadow_series_info_get(f->s, sid, &si), 0);
	assert_int_equal(si.samples, 3);
	assert_int_equal(ah_shadow_series_find(f->s, "train", "cpu", &sid), 0);
	assert_int_equal(ah_shadow_series_info_get(f->s, sid, &si), 0);
	assert_int_equal(si.samples, 2);

	/* Release, with a clock that went back: the end is clamped. */
	assert_int_equal(ah_shadow_alloc_end(f->s, 7, T0 - S), 0);
	assert_int_equal(ah_shadow_request_get(f->s, req, &r), 0);
	assert_int_equal(r.end_ns, T0);
	assert_int_equal(ah_shadow_alloc_find(f->s, 7, &r), AH_ENOENT);
	assert_int_equal(ah_shadow_alloc_end(f->s, 7, T0), AH_ENOENT);
	assert_int_equal(ah_shadow_alloc_report(f->s, 7, T0, &f->dims, &u, mask, NULL), AH_ENOENT);

	/* One example: its own group's peak. */
	ah_vec v;
	ah_shadow_prediction_info info;
	assert_int_equal(ah_shadow_predictor_predict(f->p, "train", "rows=3", 0.5, &f->dims, &v, &info), 0);
	assert_int_equal(info.dim[AH_DIM_MEMORY].source, AH_PSH_GROUP);
	assert_true(fabs((double)v.v[AH_DIM_MEMORY] - 310 * MI) <= 1);

	/* Ten more allocations whose memory follows rows: the regression. */
	for (int i = 1; i <= 10; i++) {
		char params[32];
		snprintf(params, sizeof params, "rows=%d", i);
		assert_int_equal(ah_shadow_alloc_begin(f->s, 100 + i, "train", params, T0 + i * 10 * S, &f->dims, NULL, NULL, &req), 0);
		u.v[AH_DIM_MEMORY] = (int64_t)(100 * MI * i);
		u.v[AH_DIM_CPU] = 500;
		assert_int_equal(ah_shadow_alloc_report(f->s, 100 + i, T0 + i * 10 * S + S, &f->dims, &u, mask, NULL), 0);
		assert_int_equal(ah_shadow_alloc_end(f->s, 100 + i, T0 + i * 10 * S + 2 * S), 0);
	}
	assert_int_equal(ah_shadow_predictor_predict(f->p, "train", "rows=7", 0.5, &f->dims, &v, &info), 0);
	assert_int_equal(info.dim[AH_DIM_MEMORY].source, AH_PSH_REGRESSION);
	assert_int_equal(info.dim[AH_DIM_MEMORY].n, 11);
	double m = (double)v.v[AH_DIM_MEMORY] / MI;
	assert_true(m > 690 && m < 710);
	/* A constant 500m: the model's float noise does not round up to 501m. */
	assert_int_equal(info.dim[AH_DIM_CPU].source, AH_PSH_REGRESSION);
	assert_int_equal(v.v[AH_DIM_CPU], 500);

	/* A reused id (a recreated ledger): the newest open record is found. */
	assert_int_equal(ah_shadow_alloc_begin(f->s, 7, "other", NULL, T0 + 500 * S, &f->dims, NULL, NULL, &req), 0);
	assert_int_equal(ah_shadow_alloc_begin(f->s, 7, "other2", NULL, T0 + 501 * S, &f->dims, NULL, NULL, &req), 0);
	assert_int_equal(ah_shadow_alloc_find(f->s, 7, &r), 0);
	assert_string_equal(r.workload, "other2");

	/* Bad input writes nothing. */
	assert_int_equal(ah_shadow_alloc_begin(f->s, 9, "train", "ahead.alloc=1", T0, &f->dims, NULL, NULL, &req), AH_EINVAL);
	assert_int_equal(ah_shadow_alloc_begin(f->s, 0, "train", NULL, T0, &f->dims, NULL, NULL, &req), AH_EINVAL);
	assert_int_equal(ah_shadow_alloc_begin(f->s, 9, "bad name", NULL, T0, &f->dims, NULL, NULL, &req), AH_EINVAL);
	assert_int_equal(ah_shadow_alloc_find(f->s, 9, &r), AH_ENOENT);
	assert_int_equal(ah_shadow_alloc_report(f->s, 101, -1, &f->dims, &u, mask, NULL), AH_ERANGE);
}

static bool live_odd(void *ctx, uint64_t id)
{
	(*(int *)ctx)++;
	return id % 2 == 1;
}

/* Allocations that ended without a release: their records are closed,
 * marked lost and never learned from; live ones stay open. */
static void test_sweep(void **state)
{
	fixture *f = *state;
	ah_vec u = {0};
	int64_t req;
	for (int i = 1; i <= 4; i++) {
		assert_int_equal(ah_shadow_alloc_begin(f->s, (uint64_t)i, "lost", "rows=1", T0 + i * S, &f->dims, NULL, NULL, &req), 0);
		u.v[AH_DIM_MEMORY] = (int64_t)(10 * MI);
		assert_int_equal(ah_shadow_alloc_report(f->s, (uint64_t)i, T0 + i * S, &f->dims, &u, 1u << AH_DIM_MEMORY, NULL), 0);
	}
	/* A hand-made open record (no ahead.alloc) is not touched. */
	ah_shadow_request r = {.workload = "lost", .start_ns = T0, .end_ns = -1};
	int64_t hand;
	assert_int_equal(ah_shadow_request_add(f->s, &r, &hand), 0);
	int calls = 0;
	size_t closed = 99;
	assert_int_equal(ah_shadow_alloc_sweep(f->s, T0 + 2 * S, live_odd, &calls, 0, &closed), 0);
	assert_int_equal(calls, 4);
	assert_int_equal(closed, 2);
	assert_int_equal(ah_shadow_alloc_find(f->s, 1, &r), 0);
	assert_int_equal(ah_shadow_alloc_find(f->s, 2, &r), AH_ENOENT);
	assert_int_equal(ah_shadow_alloc_find(f->s, 3, &r), 0);
	assert_int_equal(ah_shadow_request_get(f->s, hand, &r), 0);
	assert_int_equal(r.end_ns, -1);
	ah_shadow_request *v;
	size_t n;
	assert_int_equal(ah_shadow_request_list(f->s, "lost", "ahead.lost", "1", 0, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].end_ns, T0 + 2 * S);
	assert_int_equal(v[1].end_ns, T0 + 4 * S); /* not before its start */
	free(v);
	/* Lost records are not training examples: only the reports' series
	 * is known. */
	ah_vec out;
	ah_shadow_prediction_info info;
	assert_int_equal(ah_shadow_predictor_predict(f->p, "lost", "rows=1", 0.5, &f->dims, &out, &info), 0);
	assert_int_equal(info.dim[AH_DIM_MEMORY].source, AH_PSH_SERIES);
	/* Released ones are. */
	assert_int_equal(ah_shadow_alloc_end(f->s, 1, T0 + 5 * S), 0);
	assert_int_equal(ah_shadow_predictor_predict(f->p, "lost", "rows=1", 0.5, &f->dims, &out, &info), 0);
	assert_int_equal(info.dim[AH_DIM_MEMORY].source, AH_PSH_GROUP);
	assert_int_equal(info.dim[AH_DIM_MEMORY].n, 1);
	assert_true(fabs((double)out.v[AH_DIM_MEMORY] - 10 * MI) <= 1);
	/* At most max records are examined per call. */
	calls = 0;
	assert_int_equal(ah_shadow_alloc_sweep(f->s, T0 + 9 * S, live_odd, &calls, 1, &closed), 0);
	assert_int_equal(calls, 1);
	assert_int_equal(closed, 0);
	assert_int_equal(ah_shadow_alloc_sweep(f->s, -1, live_odd, &calls, 0, NULL), AH_ERANGE);
	assert_int_equal(ah_shadow_alloc_sweep(f->s, T0, NULL, NULL, 0, NULL), AH_EINVAL);
}

/* The engine sized by it: a request naming the workload and stating no
 * resources gets the class quantile (0.9) plus margin, in pool units. */
static void test_engine_sized(void **state)
{
	fixture *f = *state;
	for (int i = 0; i < 20; i++) {
		char params[32];
		int rows = 1 + i % 5;
		snprintf(params, sizeof params, "rows=%d", rows);
		add_record(f->s, "etl", params, T0 + i * S, "memory", 100 * MI * rows * (i % 2 ? 1.02 : 0.98));
	}
	ah_policy *pol = fx_policy();
	pol->classes[1].margin = 0.1;
	ah_engine *e;
	assert_int_equal(ah_engine_new(pol, NULL, T0, &e), 0);
	ah_predictor pr;
	ah_shadow_predictor_bind(f->p, &pr);
	assert_ptr_equal(pr.ctx, f->p);
	ah_engine_set_predictor(e, &pr);
	ah_request rq = fx_req("a", NULL, 0, 0);
	rq.workload = "etl";
	rq.params = "rows=4";
	ah_decision d;
	assert_int_equal(ah_engine_request(e, &rq, T0, &d), 0);
	assert_int_equal(d.outcome, AH_GRANTED);
	assert_true(d.predicted);
	double pm = (double)d.prediction.v[AH_DIM_MEMORY] / MI;
	assert_true(pm > 400 * 0.98 && pm < 400 * 1.03);
	assert_int_equal(d.res.v[AH_DIM_MEMORY], (int64_t)ceil((double)d.prediction.v[AH_DIM_MEMORY] * 1.1));
	/* An unknown workload: the stated resources stand. */
	rq = fx_req("a", NULL, 1000, 0);
	rq.workload = "unknown";
	assert_int_equal(ah_engine_request(e, &rq, T0, &d), 0);
	assert_int_equal(d.outcome, AH_GRANTED);
	assert_false(d.predicted);
	assert_int_equal(d.res.v[AH_DIM_CPU], 1000);
	ah_engine_free(e);
	free(pol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_regression_on_params, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newest_records_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_series_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_and_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feedback_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_engine_sized, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
