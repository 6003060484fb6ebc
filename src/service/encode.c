/* The decision's JSON (include/ahead/encode.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ahead/encode.h"

void ah_fmt_time(int64_t ns, char *buf, size_t len)
{
	time_t s = (time_t)(ns / 1000000000LL);
	int ms = (int)((ns % 1000000000LL) / 1000000);
	struct tm tm;
	if (ns < 0 || !gmtime_r(&s, &tm)) {
		snprintf(buf, len, "-");
		return;
	}
	char tmp[32];
	strftime(tmp, sizeof tmp, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", tmp, ms);
}

json_t *ah_json_decision(const ah_policy *pol, const ah_decision *d, const char *workload,
			 const ah_shadow_prediction_info *pi)
{
	char res[1024] = "", t1[40] = "", pred[1024] = "";
	ah_vec_format(&pol->dims, &d->res, res, sizeof res);
	if (d->predicted)
		ah_vec_format(&pol->dims, &d->prediction, pred, sizeof pred);
	json_t *o = json_object();
	static const char *names[] = {"granted", "queued", "refused"};
	json_object_set_new(o, "outcome", json_string(names[d->outcome]));
	if (d->outcome != AH_REFUSED) {
		json_object_set_new(o, "id", json_integer((json_int_t)d->id));
		json_object_set_new(o, "resources", json_string(res));
	}
	if (d->outcome == AH_GRANTED) {
		ah_fmt_time(d->lease_expires_ns, t1, sizeof t1);
		json_object_set_new(o, "lease_expires", json_string(t1));
		json_object_set_new(o, "lease_expires_ns", json_integer(d->lease_expires_ns));
		json_object_set_new(o, "preempted", json_integer(d->n_preempted));
	} else if (d->outcome == AH_QUEUED) {
		ah_fmt_time(d->queue_deadline_ns, t1, sizeof t1);
		json_object_set_new(o, "position", json_integer(d->queue_position));
		json_object_set_new(o, "deadline", json_string(t1));
	} else {
		json_object_set_new(o, "reason", json_string(ah_reason_code(d->reason)));
		json_object_set_new(o, "message", json_string(d->message));
	}
	json_t *corr = json_array();
	if (d->corrections[0]) {
		char buf[sizeof d->corrections];
		strcpy(buf, d->corrections);
		for (char *sv, *tok = strtok_r(buf, ";", &sv); tok; tok = strtok_r(NULL, ";", &sv))
			json_array_append_new(corr, json_string(tok[0] == ' ' ? tok + 1 : tok));
	}
	json_object_set_new(o, "corrections", corr);
	if (workload)
		json_object_set_new(o, "workload", json_string(workload));
	json_object_set_new(o, "predicted", json_boolean(d->predicted));
	if (d->predicted) {
		json_object_set_new(o, "prediction", json_string(pred));
		if (pi) {
			json_t *by = json_object();
			json_object_set_new(o, "prediction_quantile", json_real(pi->q));
			for (int i = 0; i < pi->n_dims && i < pol->dims.n; i++) {
				if (pi->dim[i].source == AH_PSH_NONE)
					continue;
				json_t *x = json_object();
				json_object_set_new(x, "value", json_integer(d->prediction.v[i]));
				json_object_set_new(x, "source", json_string(ah_psh_source_name(pi->dim[i].source)));
				json_object_set_new(x, "n", json_integer((json_int_t)pi->dim[i].n));
				json_object_set_new(by, pol->dims.name[i], x);
			}
			json_object_set_new(o, "prediction_by_dim", by);
		}
	}
	return o;
}

json_t *ah_json_renew(uint64_t id, const ah_renew_outcome *ro)
{
	char t[40];
	ah_fmt_time(ro->expires_ns, t, sizeof t);
	json_t *o = json_pack("{s:I,s:s,s:s,s:I,s:b}", "id", (json_int_t)id, "status", "renewed", "lease_expires", t,
			      "lease_ttl_ns", (json_int_t)ro->ttl_ns, "capped", ro->capped);
	if (o && ro->capped) {
		json_object_set_new(o, "capped_by", json_string("max_lease_ttl"));
		json_object_set_new(o, "asked_ns", json_integer(ro->asked_ns));
		json_object_set_new(o, "max_lease_ttl_ns", json_integer(ro->max_ns));
	}
	return o;
}

json_t *ah_json_vec(const ah_dimset *ds, const ah_vec *v, int64_t skip)
{
	json_t *o = json_object();
	for (int i = 0; o && i < ds->n; i++)
		if (v->v[i] != skip)
			json_object_set_new(o, ds->name[i], json_integer(v->v[i]));
	return o;
}

static json_t *json_time(int64_t ns)
{
	char t[40];
	if (ns < 0)
		return json_null();
	ah_fmt_time(ns, t, sizeof t);
	return json_string(t);
}

/* A figure of the request record (NaN: unknown) into obj[dim], rounded up
 * to the base unit. */
static void set_fig(json_t *obj, const char *dim, double v)
{
	if (!isnan(v))
		json_object_set_new(obj, dim, json_integer((json_int_t)ceil(v)));
}

static json_t *record_params(const ah_shadow_request *r, bool own)
{
	json_t *o = json_object();
	for (int i = 0; o && i < r->n_params; i++)
		if (ah_shadow_param_reserved(r->params[i].key) == own)
			json_object_set_new(o, r->params[i].key, json_string(r->params[i].value));
	return o;
}

static json_t *model_json(const ah_policy *pol, const ah_service_description *d)
{
	json_t *m = json_object(), *by = json_object();
	json_object_set_new(m, "quantile", json_real(d->model.q));
	json_object_set_new(m, "prediction", ah_json_vec(&pol->dims, &d->model_prediction, 0));
	for (int i = 0; i < d->model.n_dims && i < pol->dims.n; i++) {
		if (d->model.dim[i].source == AH_PSH_NONE)
			continue;
		json_object_set_new(by, pol->dims.name[i],
				    json_pack("{s:s,s:I}", "source", ah_psh_source_name(d->model.dim[i].source), "n",
					      (json_int_t)d->model.dim[i].n));
	}
	json_object_set_new(m, "by_dim", by);
	return m;
}

json_t *ah_json_description(const ah_policy *pol, const ah_service_description *d)
{
	const ah_engine_item *it = &d->item;
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "id", json_integer((json_int_t)it->id));
	json_object_set_new(o, "state", json_string(it->queued ? "queued" : "granted"));
	json_object_set_new(o, "tenant", json_string(it->tenant));
	json_object_set_new(o, "pool", json_string(it->pool));
	json_object_set_new(o, "class", json_string(it->klass));
	json_object_set_new(o, "resources", ah_json_vec(&pol->dims, it->res, 0));
	json_object_set_new(o, it->queued ? "arrived" : "granted_at", json_time(it->created_ns));
	json_object_set_new(o, it->queued ? "deadline" : "lease_expires", json_time(it->expires_ns));
	if (d->have_record) {
		const ah_shadow_request *r = &d->record;
		json_object_set_new(o, "workload", json_string(r->workload));
		json_object_set_new(o, "params", record_params(r, false));
		json_object_set_new(o, "ahead_params", record_params(r, true));
		json_t *pred = json_object(), *peak = json_object(), *mean = json_object();
		for (int k = 0; k < r->n_dims; k++) {
			set_fig(pred, r->dims[k].dim, r->dims[k].predicted);
			set_fig(peak, r->dims[k].dim, r->dims[k].peak);
			set_fig(mean, r->dims[k].dim, r->dims[k].mean);
		}
		json_object_set_new(o, "predicted", pred);
		json_object_set_new(o, "peak", peak);
		json_object_set_new(o, "mean", mean);
	} else {
		json_object_set_new(o, "workload", json_null());
		json_object_set_new(o, "params_text", json_string(it->params ? it->params : ""));
	}
	json_object_set_new(o, "last_usage", d->have_last ? ah_json_vec(&pol->dims, &d->last_usage, AH_USAGE_NONE)
							 : json_null());
	json_object_set_new(o, "last_usage_at", json_time(d->have_last ? d->last_usage_ns : -1));
	json_object_set_new(o, "model", d->have_model ? model_json(pol, d) : json_null());
	json_object_set_new(o, "resizes", json_integer(d->n_resizes));
	json_object_set_new(o, "last_resize", json_time(d->last_resize_ns));
	json_t *rs = json_array();
	for (int i = 0; i < d->n_recent; i++)
		json_array_append_new(rs, json_pack("{s:o,s:s,s:s}", "time", json_time(d->recent[i].t_ns), "resources",
						    d->recent[i].resources, "why", d->recent[i].why));
	json_object_set_new(o, "recent_resizes", rs);
	return o;
}

json_t *ah_json_recommendation(const ah_policy *pol, const char *workload, const char *klass,
			       const ah_service_recommendation *r)
{
	json_t *o = json_object(), *dims = json_object();
	if (!o || !dims) {
		json_decref(o);
		json_decref(dims);
		return NULL;
	}
	json_object_set_new(o, "workload", json_string(workload));
	json_object_set_new(o, "class", json_string(klass));
	json_object_set_new(o, "quantiles", json_pack("{s:f,s:f,s:f}", "lower", r->q_lower, "target", r->q_target,
						       "upper", r->q_upper));
	for (int d = 0; d < r->n_dims && d < pol->dims.n; d++) {
		if (!r->dim[d].known)
			continue;
		json_t *x = json_pack("{s:I,s:I,s:I,s:s,s:I,s:s,s:I}", "lower", (json_int_t)r->dim[d].lower, "target",
				      (json_int_t)r->dim[d].target, "upper", (json_int_t)r->dim[d].upper, "model",
				      ah_psh_source_name(r->dim[d].source), "history", (json_int_t)r->dim[d].n,
				      "history_of", r->dim[d].source == AH_PSH_SERIES ? "samples" : "requests", "scored",
				      (json_int_t)r->dim[d].n_scored);
		if (x && r->dim[d].n_scored) {
			json_object_set_new(x, "mean_abs_error", json_real(r->dim[d].mean_abs_error));
			json_object_set_new(x, "under_rate", json_real(r->dim[d].under_rate));
		}
		json_object_set_new(dims, pol->dims.name[d], x);
	}
	json_object_set_new(o, "dimensions", dims);
	return o;
}
