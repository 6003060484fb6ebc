/* The usage history over the API (the shadow store beside the daemon's
 * ledger, include/ahead/history.h): the series, a series' points, imports
 * in chunks, request records and retention. Histories are not
 * tenant-scoped: staff read them, operators write them. Writes are
 * exclusive routes (run outside the ledger's batch): the history opens its
 * own connection to the shadow store, which a batch may hold a transaction
 * on. Points carry exact figures (t_ns, 17 significant digits) so that
 * `ahead shadow export --server` is as lossless as a local one. */
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

/* A history call failed: its message, with the status for its cause (the
 * local command's exit codes: not found 5, bad input 2, else 1). */
static void hist_error(api_call *c, int rc, const char *err)
{
	json_t *safe = ah_json_text(err && *err ? err : ah_strerror(rc));
	const char *m = json_string_value(safe);
	if (rc == AH_ENOENT)
		api_error(c, 404, "no_history", NULL, "%s", m);
	else if (rc == AH_EINVAL || rc == AH_ERANGE || rc == AH_EPARSE || rc == AH_ETOOBIG || rc == AH_EEXIST ||
		 rc == AH_ESTATE)
		api_error(c, 400, "invalid", NULL, "%s", m);
	else if (rc == AH_EBUSY)
		api_error_rc(c, rc, "shadow store");
	else
		api_error(c, 500, "internal", NULL, "%s", m);
	json_decref(safe);
}

/* The answer with reals at full precision (api_reply rounds to 10 digits). */
static void reply_exact(api_call *c, int status, json_t *o)
{
	const char *oc = json_string_value(json_object_get(o, "outcome"));
	snprintf(c->out->outcome, sizeof c->out->outcome, "%s", oc ? oc : "");
	char *body = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
	json_decref(o);
	if (!body) {
		api_error_rc(c, AH_ENOMEM, "history");
		return;
	}
	free(c->out->body);
	c->out->status = status;
	c->out->body = body;
	c->out->body_len = strlen(body);
	c->out->content_type = "application/json";
}

static bool workload_ok(api_call *c)
{
	if (ah_name_check_workload(c->param) < 0) {
		json_t *safe = ah_json_text(c->param);
		api_error(c, 400, "invalid", "workload", "'%.64s' is not a workload name", json_string_value(safe));
		json_decref(safe);
		return false;
	}
	return true;
}

static bool dim_ok(api_call *c, const char *dim)
{
	if (!dim || ah_name_check_dim(dim) < 0) {
		api_error(c, 400, "invalid", "dim", "dim: the dimension ([a-z][a-z0-9_]{0,62}, e.g. cpu)");
		return false;
	}
	return true;
}

static int open_history(api_call *c, bool create, ah_history **h)
{
	char err[512];
	int rc = ah_history_open(ah_service_db_path(c->a->svc), NULL, create, h, err, sizeof err);
	if (rc < 0)
		hist_error(c, rc, err);
	return rc;
}

/* ---- GET /v1/series ---- */

void api_series_list(api_call *c)
{
	ah_history *h = NULL;
	ah_shadow_series_info *v = NULL;
	size_t n = 0;
	char err[512];
	if (open_history(c, false, &h) < 0)
		return;
	int rc = ah_history_series_list(h, &v, &n, err, sizeof err);
	ah_history_free(h);
	if (rc < 0) {
		hist_error(c, rc, err);
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++) {
		bool any = v[i].first_ns >= 0;
		json_t *e = json_object();
		json_object_set_new(e, "workload", ah_json_text(v[i].workload));
		json_object_set_new(e, "dim", ah_json_text(v[i].dim));
		json_object_set_new(e, "granularity_s", ah_json_seconds(v[i].granularity_ns));
		json_object_set_new(e, "granularity_ns", json_integer((json_int_t)v[i].granularity_ns));
		json_object_set_new(e, "points", json_integer((json_int_t)v[i].points));
		json_object_set_new(e, "samples", json_integer((json_int_t)v[i].samples));
		json_object_set_new(e, "first", any ? ah_json_time(v[i].first_ns) : json_null());
		json_object_set_new(e, "last", any ? ah_json_time(v[i].last_ns) : json_null());
		json_object_set_new(e, "first_ns", any ? json_integer((json_int_t)v[i].first_ns) : json_null());
		json_object_set_new(e, "last_ns", any ? json_integer((json_int_t)v[i].last_ns) : json_null());
		json_array_append_new(items, e);
	}
	free(v);
	api_reply(c, 200, api_json_list(c->a, items));
}

/* ---- GET /v1/workloads/{name}/history ---- */

static int add_point(void *ctx, const ah_shadow_point *p)
{
	json_t *items = ctx;
	json_t *o = json_object();
	if (!o)
		return AH_ENOMEM;
	json_object_set_new(o, "time", ah_json_time(p->t_ns));
	json_object_set_new(o, "t_ns", json_integer((json_int_t)p->t_ns));
	json_object_set_new(o, "width_s", ah_json_seconds(p->width_ns));
	json_object_set_new(o, "width_ns", json_integer((json_int_t)p->width_ns));
	json_object_set_new(o, "mean", json_real(p->mean));
	json_object_set_new(o, "max", json_real(p->max));
	json_object_set_new(o, "count", json_integer((json_int_t)p->count));
	return json_array_append_new(items, o) ? AH_ENOMEM : 0;
}

static bool time_arg(api_call *c, const char *key, int64_t *out)
{
	const char *s = api_arg(c, key);
	if (s && ah_time_parse(s, out) < 0) {
		api_error(c, 400, "invalid", key, "%s: an RFC 3339 time or epoch seconds", key);
		return false;
	}
	return true;
}

void api_workload_history(api_call *c)
{
	if (!workload_ok(c))
		return;
	const char *dim = api_arg(c, "dim"), *s;
	int64_t from = 0, to = INT64_MAX, step = 0;
	if (!dim_ok(c, dim) || !time_arg(c, "from", &from) || !time_arg(c, "to", &to))
		return;
	if ((s = api_arg(c, "step")) && (ah_duration_parse(s, &step) < 0 || step < AH_SHADOW_GRAN_MIN_NS ||
					 step > 366 * AH_SHADOW_GRAN_MAX_NS)) {
		api_error(c, 400, "invalid", "step", "step: a duration from 1ms to 366d (e.g. 5m)");
		return;
	}
	if (from > to) {
		api_error(c, 400, "invalid", "from", "from must not be after to");
		return;
	}
	char err[512];
	ah_history *h = NULL;
	ah_shadow_series_info info;
	if (open_history(c, false, &h) < 0)
		return;
	json_t *items = json_array();
	int rc = ah_history_series_get(h, c->param, dim, &info, err, sizeof err);
	if (rc == 0)
		rc = ah_history_query(h, c->param, dim, from, to, step, add_point, items, err, sizeof err);
	ah_history_free(h);
	if (rc < 0) {
		json_decref(items);
		hist_error(c, rc, err);
		return;
	}
	json_t *o = json_object();
	json_object_set_new(o, "workload", ah_json_text(c->param));
	json_object_set_new(o, "dim", json_string(dim));
	json_object_set_new(o, "granularity_s", ah_json_seconds(info.granularity_ns));
	json_object_set_new(o, "granularity_ns", json_integer((json_int_t)info.granularity_ns));
	json_object_set_new(o, "step_s", ah_json_seconds(step));
	json_object_set_new(o, "points", items);
	reply_exact(c, 200, o);
}

/* ---- POST /v1/workloads/{name}/history: one chunk of an import ---- */

static const char *const IMPORT_FIELDS[] = {"dim", "granularity", "points", NULL};

/* A point's time: an RFC 3339 string (or epoch seconds as a string), or
 * integer nanoseconds. */
static bool point_time(const json_t *t, int64_t *out)
{
	if (json_is_integer(t)) {
		*out = (int64_t)json_integer_value(t);
		return true;
	}
	return json_is_string(t) && ah_time_parse(json_string_value(t), out) == 0;
}

void api_workload_history_import(api_call *c)
{
	const char *dim;
	bool has, has_g;
	int64_t gran = 0;
	if (!workload_ok(c) || !api_body_check(c, IMPORT_FIELDS) ||
	    !api_body_string(c, "dim", AH_SHADOW_DIM_MAX - 1, &dim, &has) ||
	    !api_body_duration(c, "granularity", &gran, &has_g))
		return;
	if (!has || !dim_ok(c, dim))
		return;
	if (has_g && (gran < AH_SHADOW_GRAN_MIN_NS || gran > AH_SHADOW_GRAN_MAX_NS)) {
		api_error(c, 400, "invalid", "granularity", "granularity: from 1ms to 1d");
		return;
	}
	json_t *pts = json_object_get(c->body, "points");
	if (!json_is_array(pts)) {
		api_error(c, 400, "invalid", "points", "points: an array of [time, value] (value in the base unit)");
		return;
	}
	size_t n = json_array_size(pts);
	int64_t *t = malloc((n ? n : 1) * sizeof *t);
	double *v = malloc((n ? n : 1) * sizeof *v);
	if (!t || !v) {
		free(t);
		free(v);
		api_error_rc(c, AH_ENOMEM, "import");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *p = json_array_get(pts, i);
		if (!json_is_array(p) || json_array_size(p) != 2 || !point_time(json_array_get(p, 0), &t[i]) ||
		    t[i] < 0 || t[i] > AH_SHADOW_T_MAX || !json_is_number(json_array_get(p, 1)) ||
		    !isfinite(v[i] = json_number_value(json_array_get(p, 1)))) {
			api_error(c, 400, "invalid", "points",
				  "points[%zu]: not [time, value]: a time (RFC 3339, or integer nanoseconds) from 1970 "
				  "to 2262 and a finite number; nothing of this chunk was imported",
				  i);
			free(t);
			free(v);
			return;
		}
	}
	char err[512];
	ah_history *h = NULL;
	ah_history_import_out r = {0};
	int rc = open_history(c, true, &h);
	if (rc == 0) {
		rc = ah_history_import_values(h, "points", c->param, dim, gran, t, v, n, &r, err, sizeof err);
		if (rc < 0)
			hist_error(c, rc, err);
	}
	ah_history_free(h);
	free(t);
	free(v);
	if (rc < 0)
		return;
	json_t *o = json_object();
	json_object_set_new(o, "outcome", json_string("imported"));
	json_object_set_new(o, "workload", ah_json_text(c->param));
	json_object_set_new(o, "dim", json_string(dim));
	json_object_set_new(o, "samples", json_integer((json_int_t)r.samples));
	json_object_set_new(o, "below_one", json_integer((json_int_t)r.below_one));
	api_reply(c, 200, o);
}

/* ---- GET /v1/workloads/{name}/requests ---- */

void api_workload_requests(api_call *c)
{
	if (!workload_ok(c))
		return;
	const char *param = api_arg(c, "param"), *ls = api_arg(c, "limit");
	char key[AH_SHADOW_PARAM_KEY_MAX + 8] = "";
	const char *val = NULL;
	size_t limit = 10000;
	ah_shadow_param p[1];
	if (param) {
		int np = 0;
		char e[256];
		if (strchr(param, ',') || ah_shadow_params_parse(param, p, &np, e, sizeof e) || np != 1) {
			api_error(c, 400, "invalid", "param", "param: one key=value");
			return;
		}
		snprintf(key, sizeof key, "%s", p[0].key);
		val = p[0].value;
	}
	if (ls) {
		char *end;
		long long x = strtoll(ls, &end, 10);
		if (!*ls || *end || x < 1 || x > 1000000) {
			api_error(c, 400, "invalid", "limit", "limit: 1 to 1000000");
			return;
		}
		limit = (size_t)x;
	}
	char err[512];
	ah_history *h = NULL;
	ah_shadow_request *v = NULL;
	size_t n = 0;
	if (open_history(c, false, &h) < 0)
		return;
	int rc = ah_history_request_list(h, c->param, val ? key : NULL, val, limit, &v, &n, err, sizeof err);
	ah_history_free(h);
	if (rc < 0) {
		hist_error(c, rc, err);
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, ah_json_history_request(&v[i]));
	free(v);
	api_reply(c, 200, api_json_list(c->a, items));
}

/* ---- POST /v1/history/compact ---- */

static const char *const COMPACT_FIELDS[] = {"now", "keep_raw", "keep_1m", "keep_1h", NULL};

void api_history_compact(api_call *c)
{
	static const char *const keeps[] = {"keep_raw", "keep_1m", "keep_1h"};
	const int64_t keep_max = INT64_C(100) * 366 * AH_SHADOW_GRAN_MAX_NS;
	ah_shadow_tier tiers[AH_SHADOW_MAX_TIERS];
	int nt;
	int64_t now = c->now_ns;
	ah_shadow_default_tiers(tiers, &nt);
	if (!api_body_check(c, COMPACT_FIELDS))
		return;
	json_t *jn = json_object_get(c->body, "now");
	if (jn && !json_is_null(jn) && (!point_time(jn, &now) || now < 0)) {
		api_error(c, 400, "invalid", "now", "now: an RFC 3339 time (or integer nanoseconds)");
		return;
	}
	for (int i = 0; i < 3 && i < nt; i++) {
		bool has;
		int64_t k;
		if (!api_body_duration(c, keeps[i], &k, &has))
			return;
		if (!has)
			continue;
		if (k < AH_SHADOW_GRAN_MIN_NS || k > keep_max) {
			api_error(c, 400, "invalid", keeps[i], "%s: a duration from 1ms to 36600d", keeps[i]);
			return;
		}
		tiers[i].keep_ns = k;
	}
	char err[512];
	ah_history *h = NULL;
	ah_shadow_compact_stats st;
	int64_t counts[AH_SHADOW_MAX_TIERS] = {0};
	if (open_history(c, false, &h) < 0)
		return;
	int rc = ah_history_compact(h, now, tiers, nt, &st, counts, err, sizeof err);
	ah_history_free(h);
	if (rc < 0) {
		hist_error(c, rc == AH_EBUSY ? rc : AH_ESTORE, err);
		return;
	}
	api_reply(c, 200,
		  json_pack("{s:s, s:I, s:I, s:{s:I, s:I, s:I}}", "outcome", "compacted", "points_rolled",
			    (json_int_t)st.points_rolled, "points_deleted", (json_int_t)st.points_deleted,
			    "points_per_tier", "raw", (json_int_t)counts[0], "1m", (json_int_t)counts[1], "1h",
			    (json_int_t)counts[2]));
}
