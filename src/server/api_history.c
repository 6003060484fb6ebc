/* What the dashboard and `ahead top` read over time: a pool's samples and
 * forecast (GET /v1/pools/{name}/history, from the daemon's in-memory
 * telemetry), the workloads the usage history holds (GET /v1/workloads)
 * and a workload's forecast (GET /v1/workloads/{name}/forecast, fitted on
 * its history at the call). Shapes: docs/API.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/duration.h"
#include "ahead/error.h"
#include "ahead/history.h"
#include "ahead/names.h"
#include "ahead/timestamp.h"
#include "server/api_int.h"

void ah_api_sample(ah_api *a, int64_t now_ns)
{
	if (a)
		api_tel_take(&a->tel, ah_service_engine_get(a->svc), ah_service_policy_get(a->svc), now_ns);
}

int64_t ah_api_sample_every_ns(const ah_api *a)
{
	return a ? a->tel.interval_ns : 0;
}

/* A sample's vector in the dimensions GET /v1/pools shows (those the pool
 * has capacity in or holds). */
static json_t *sample_vec(const ah_dimset *ds, const api_tel_sample *x, const ah_vec *v)
{
	json_t *o = json_object();
	for (int d = 0; d < ds->n; d++)
		if (x->capacity.v[d] || x->allocated.v[d])
			json_object_set_new(o, ds->name[d], json_integer(v->v[d]));
	return o;
}

/* A forecast value as the API gives resources: an integer, never below 0. */
static json_int_t whole(double v)
{
	return !isfinite(v) || v < 0 ? 0 : v > 9e18 ? (json_int_t)9e18 : (json_int_t)llround(v);
}

static json_t *dims_obj(const api_tel_pool *p, const ah_dimset *ds, int nd, const double *v, size_t stride)
{
	json_t *o = json_object();
	for (int d = 0; d < nd && d < ds->n; d++)
		if (!p->zero[d])
			json_object_set_new(o, ds->name[d], json_integer(whole(v[(size_t)d * stride])));
	return o;
}

static json_t *pool_forecast(const api_telemetry *t, const api_tel_pool *p, const ah_dimset *ds)
{
	if (!p || !p->have_fc)
		return json_null();
	json_t *pts = json_array();
	for (int h = 0; h < API_TEL_HORIZON; h++)
		json_array_append_new(
			pts, json_pack("{s:o,s:o,s:o,s:o}", "time", ah_json_time(p->fc_t0_ns + (h + 1) * t->interval_ns),
				       "point", dims_obj(p, ds, t->ndims, &p->point[0][h], API_TEL_HORIZON), "lower",
				       dims_obj(p, ds, t->ndims, &p->lower[0][h], API_TEL_HORIZON), "upper",
				       dims_obj(p, ds, t->ndims, &p->upper[0][h], API_TEL_HORIZON)));
	return json_pack("{s:s,s:f,s:o}", "model", p->model, "level", API_TEL_LEVEL, "points", pts);
}

void api_pool_history(api_call *c)
{
	const ah_engine *e = ah_service_engine_get(c->a->svc);
	const ah_policy *pol = ah_service_policy_get(c->a->svc);
	bool found = false;
	for (int i = 0; i < ah_engine_pool_count(e) && !found; i++) {
		ah_engine_pool_info pi;
		found = ah_engine_pool_get(e, i, &pi) == 0 && !strcmp(pi.name, c->param);
	}
	if (!found) {
		json_t *safe = ah_json_text(c->param);
		api_error(c, 404, "not_found", NULL, "no pool '%.64s'", json_string_value(safe));
		json_decref(safe);
		return;
	}
	int64_t since = INT64_MIN;
	const char *s = api_arg(c, "since");
	if (s && ah_time_parse(s, &since) < 0) {
		api_error(c, 400, "invalid", "since", "since: an RFC 3339 time or epoch seconds");
		return;
	}
	const api_telemetry *t = &c->a->tel;
	const api_tel_pool *p = api_tel_pool_get(t, c->param);
	json_t *samples = json_array();
	/* the ring's dimensions are the policy's unless it changed since the
	 * last sample (the next sample starts the rings again) */
	bool same_dims = t->ndims == pol->dims.n;
	for (size_t i = 0; p && same_dims && i < p->n; i++) {
		api_tel_sample x;
		api_tel_at(t, p, i, &x);
		if (x.t_ns < since)
			continue;
		json_array_append_new(samples,
				      json_pack("{s:o,s:o,s:o,s:o,s:o,s:i,s:i}", "time", ah_json_time(x.t_ns), "capacity",
						sample_vec(&pol->dims, &x, &x.capacity), "allocated",
						sample_vec(&pol->dims, &x, &x.allocated), "used",
						sample_vec(&pol->dims, &x, &x.used), "queued",
						sample_vec(&pol->dims, &x, &x.queued), "allocations",
						x.allocations, "queue", x.queue));
	}
	json_t *o = json_pack("{s:o,s:I,s:o,s:o}", "pool", ah_json_text(c->param), "interval_s",
			      (json_int_t)(t->interval_ns / 1000000000), "samples", samples, "forecast",
			      same_dims ? pool_forecast(t, p, &pol->dims) : json_null());
	api_reply(c, 200, o);
}

/* ---- workloads ---- */

static void history_error(api_call *c, int rc, const char *err)
{
	json_t *safe = ah_json_text(err);
	api_error(c, rc == AH_ENOENT ? 404 : rc == AH_EINVAL ? 400 : 500,
		  rc == AH_ENOENT ? "no_history" : rc == AH_EINVAL ? "invalid" : "internal", NULL, "%s",
		  json_string_value(safe));
	json_decref(safe);
}

void api_workload_list(api_call *c)
{
	char err[512] = "";
	ah_history *h = NULL;
	ah_shadow_series_info *ss = NULL;
	size_t n = 0;
	json_t *items = json_array();
	int rc = ah_history_open(ah_service_db_path(c->a->svc), NULL, false, &h, err, sizeof err);
	if (rc == AH_ENOENT) {
		rc = 0; /* no history yet: no workloads */
	} else if (rc == 0) {
		rc = ah_history_series_list(h, &ss, &n, err, sizeof err);
	}
	ah_history_free(h);
	if (rc < 0) {
		json_decref(items);
		history_error(c, rc, err);
		return;
	}
	/* one item per workload (the list comes ordered by workload, then dim) */
	json_t *cur = NULL;
	const char *cur_name = NULL;
	int64_t points = 0, first = -1, last = -1;
	for (size_t i = 0; i <= n; i++) {
		if (cur && (i == n || strcmp(ss[i].workload, cur_name))) {
			json_object_set_new(cur, "points", json_integer(points));
			json_object_set_new(cur, "first", first >= 0 ? ah_json_time(first) : json_null());
			json_object_set_new(cur, "last", last >= 0 ? ah_json_time(last) : json_null());
			json_array_append_new(items, cur);
			cur = NULL;
		}
		if (i == n)
			break;
		if (!cur) {
			cur = json_pack("{s:o,s:[]}", "workload", ah_json_text(ss[i].workload), "dims");
			cur_name = ss[i].workload;
			points = 0;
			first = last = -1;
		}
		json_array_append_new(json_object_get(cur, "dims"), ah_json_text(ss[i].dim));
		points += ss[i].points;
		if (ss[i].first_ns >= 0 && (first < 0 || ss[i].first_ns < first))
			first = ss[i].first_ns;
		if (ss[i].last_ns > last)
			last = ss[i].last_ns;
	}
	free(ss);
	api_reply(c, 200, api_json_list(c->a, items));
}

#define FIT_POINTS_MAX 2000 /* newest buckets a workload forecast reads */

typedef struct {
	double *y;
	size_t n;
	int64_t t0_ns, step_ns, last_ns;
} series_buf;

static int take_point(void *ctx, const ah_shadow_point *p)
{
	series_buf *b = ctx;
	if (b->t0_ns == INT64_MIN)
		b->t0_ns = p->t_ns;
	int64_t k = (p->t_ns - b->t0_ns) / b->step_ns;
	if (k < 0 || k >= FIT_POINTS_MAX)
		return 0;
	while (b->n <= (size_t)k)
		b->y[b->n++] = NAN;
	b->y[k] = p->mean;
	b->last_ns = b->t0_ns + k * b->step_ns;
	return 0;
}

void api_workload_forecast(api_call *c)
{
	if (ah_name_check_workload(c->param) < 0) {
		json_t *safe = ah_json_text(c->param);
		api_error(c, 400, "invalid", "workload", "'%.64s' is not a workload name", json_string_value(safe));
		json_decref(safe);
		return;
	}
	const char *dim = api_arg(c, "dim"), *s;
	if (!dim || ah_name_check_dim(dim) < 0) {
		api_error(c, 400, "invalid", "dim", "dim: the dimension to forecast (e.g. cpu)");
		return;
	}
	long long horizon = 24;
	if ((s = api_arg(c, "horizon"))) {
		char *end;
		horizon = strtoll(s, &end, 10);
		if (!*s || *end || horizon < 1 || horizon > AH_TEL_WORKLOAD_HORIZON_MAX) {
			api_error(c, 400, "invalid", "horizon", "horizon: steps ahead, 1 to %d",
				  AH_TEL_WORKLOAD_HORIZON_MAX);
			return;
		}
	}
	int64_t step = 0;
	if ((s = api_arg(c, "step")) && (ah_duration_parse(s, &step) < 0 || step <= 0)) {
		api_error(c, 400, "invalid", "step", "step: a duration above 0 (e.g. 5m)");
		return;
	}
	char err[512] = "";
	ah_history *h = NULL;
	ah_forecaster *f = NULL;
	series_buf b = {.t0_ns = INT64_MIN};
	double *pt = NULL, *qo = NULL;
	ah_shadow_series_info si;
	int rc = ah_history_open(ah_service_db_path(c->a->svc), NULL, false, &h, err, sizeof err);
	if (rc == AH_ENOENT)
		snprintf(err, sizeof err, "no usage history yet");
	if (rc == 0)
		rc = ah_history_series_get(h, c->param, dim, &si, err, sizeof err);
	if (rc == 0 && si.last_ns < 0) {
		rc = AH_ENOENT;
		snprintf(err, sizeof err, "series %s/%s has no points", c->param, dim);
	}
	if (rc == 0) {
		if (!step)
			step = si.granularity_ns > 0 ? si.granularity_ns : INT64_C(300) * 1000000000;
		b.step_ns = step;
		if (!(b.y = malloc(FIT_POINTS_MAX * sizeof *b.y)))
			rc = AH_ENOMEM;
	}
	if (rc == 0) {
		int64_t from = si.last_ns - (FIT_POINTS_MAX - 1) * step;
		rc = ah_history_query(h, c->param, dim, from > si.first_ns ? from : si.first_ns, INT64_MAX, step,
				      take_point, &b, err, sizeof err);
	}
	size_t have = 0;
	for (size_t i = 0; rc == 0 && i < b.n; i++)
		have += !isnan(b.y[i]);
	if (rc == 0 && have < API_TEL_MIN_SAMPLES) {
		rc = AH_ENOENT;
		snprintf(err, sizeof err, "%s/%s: %zu points at step %llds; a forecast needs %d", c->param, dim, have,
			 (long long)(step / 1000000000), API_TEL_MIN_SAMPLES);
	}
	/* the step lets the forecaster try the calendar's seasons (a day of
	 * 5-minute points is 288) before searching lags */
	ah_fc_opts fo = {.horizon = (size_t)horizon, .max_season = b.n / 3, .step_s = (double)step / 1e9};
	if (rc == 0 && (rc = ah_forecaster_new(&fo, b.y, b.n, &f)) < 0)
		snprintf(err, sizeof err, "%s/%s: the forecaster could not fit (%s)", c->param, dim, ah_strerror(rc));
	const double q[2] = {(1 - API_TEL_LEVEL) / 2, 1 - (1 - API_TEL_LEVEL) / 2};
	if (rc == 0 && (!(pt = malloc((size_t)horizon * sizeof *pt)) || !(qo = malloc((size_t)horizon * 2 * sizeof *qo))))
		rc = AH_ENOMEM;
	if (rc == 0)
		rc = ah_forecaster_forecast(f, (size_t)horizon, q, 2, pt, qo);
	if (rc < 0) {
		if (!err[0])
			snprintf(err, sizeof err, "%s", ah_strerror(rc));
		history_error(c, rc, err);
		goto out;
	}
	ah_fc_choice ch;
	memset(&ch, 0, sizeof ch);
	(void)ah_forecaster_choice(f, &ch);
	json_t *pts = json_array();
	for (long long i = 0; i < horizon; i++) {
		json_int_t p = whole(pt[i]), lo = whole(qo[i * 2]), hi = whole(qo[i * 2 + 1]);
		json_array_append_new(pts, json_pack("{s:o,s:I,s:I,s:I}", "time", ah_json_time(b.last_ns + (i + 1) * step),
						     "point", p, "lower", lo < p ? lo : p, "upper", hi > p ? hi : p));
	}
	api_reply(c, 200,
		  json_pack("{s:o,s:s,s:s,s:I,s:f,s:o}", "workload", ah_json_text(c->param), "dim", dim, "model",
			    ch.model, "step_s", (json_int_t)(step / 1000000000), "level", API_TEL_LEVEL, "points", pts));
out:
	ah_forecaster_free(f);
	ah_history_free(h);
	free(b.y);
	free(pt);
	free(qo);
}
