/* The decision's JSON (include/ahead/encode.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Length of a valid UTF-8 sequence at s (1..4), or 0. */
static int utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	int n = s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
	for (int i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if (n > 2 && ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0) ||
		      (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90)))
		return 0; /* overlong, surrogate or above U+10FFFF */
	return n;
}

json_t *ah_json_text(const char *s)
{
	if (!s)
		return json_string("");
	json_t *j = json_string(s);
	if (j)
		return j;
	size_t n = strlen(s);
	char *b = malloc(3 * n + 1);
	if (!b)
		return NULL;
	size_t k = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		int l = utf8_len(p);
		if (l) {
			memcpy(b + k, p, (size_t)l);
			k += (size_t)l, p += l;
		} else {
			memcpy(b + k, "\xEF\xBF\xBD", 3); /* U+FFFD */
			k += 3, p++;
		}
	}
	b[k] = '\0';
	j = json_string(b);
	free(b);
	return j;
}

json_t *ah_json_time(int64_t ns)
{
	char t[40];
	if (ns < 0)
		return json_null();
	ah_fmt_time(ns, t, sizeof t);
	return json_string(t);
}

json_t *ah_json_vec_text(const ah_dimset *ds, const char *text)
{
	ah_dimset def;
	ah_dimset_init(&def);
	ah_vec v;
	if (!text || !*text)
		return json_object();
	if (ds && ah_vec_parse(ds, text, &v, NULL, 0) == 0)
		return ah_json_vec(ds, &v, 0);
	if (ah_vec_parse(&def, text, &v, NULL, 0) == 0)
		return ah_json_vec(&def, &v, 0);
	/* a dimension no longer declared: each item on its own, as a count */
	json_t *o = json_object();
	char buf[1024];
	snprintf(buf, sizeof buf, "%s", text);
	for (char *sv, *tok = strtok_r(buf, ",", &sv); o && tok; tok = strtok_r(NULL, ",", &sv)) {
		char *eq = strchr(tok, '=');
		int64_t x;
		if (!eq) {
			json_decref(o);
			return json_pack("{s:o}", "text", ah_json_text(text));
		}
		*eq = '\0';
		int d = ah_dimset_find(&def, tok);
		if (ah_unit_parse(d >= 0 ? def.kind[d] : AH_UNIT_COUNT, eq + 1, &x) != 0) {
			json_decref(o);
			return json_pack("{s:o}", "text", ah_json_text(text));
		}
		json_object_set_new(o, tok, json_integer(x));
	}
	return o;
}

json_t *ah_json_error(const char *code, const char *message, const char *field)
{
	json_t *e = json_object();
	json_object_set_new(e, "code", json_string(code));
	json_object_set_new(e, "message", ah_json_text(message));
	json_object_set_new(e, "field", field ? ah_json_text(field) : json_null());
	return json_pack("{s:o}", "error", e);
}

char *ah_json_dumps(const json_t *o)
{
	return o ? json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) : NULL;
}

static void set_text(json_t *o, const char *key, const char *v)
{
	json_object_set_new(o, key, ah_json_text(v));
}

/* A request's parameter text ("k=v,k2=v2") as an object of strings: the
 * user's (own false) or ahead's "ahead." keys. Never fails on odd text: an
 * item without '=' is a key with an empty value, nothing is dropped. */
static json_t *params_text_json(const char *text, bool own)
{
	json_t *o = json_object();
	if (!o || !text || !*text)
		return o;
	char *buf = strdup(text);
	if (!buf)
		return o;
	for (char *sv, *tok = strtok_r(buf, ",", &sv); tok; tok = strtok_r(NULL, ",", &sv)) {
		char *eq = strchr(tok, '=');
		if (eq)
			*eq = '\0';
		if ((strncmp(tok, "ahead.", 6) == 0) != own)
			continue;
		json_t *k = ah_json_text(tok); /* the key, made valid UTF-8 */
		const char *key = k ? json_string_value(k) : tok;
		json_object_set_new(o, key, ah_json_text(eq ? eq + 1 : ""));
		json_decref(k);
	}
	free(buf);
	return o;
}

json_t *ah_json_allocation(const ah_policy *pol, const ah_engine_item *it)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "id", json_integer((json_int_t)it->id));
	json_object_set_new(o, "state", json_string(it->queued ? "queued" : "granted"));
	set_text(o, "tenant", it->tenant);
	set_text(o, "pool", it->pool);
	set_text(o, "class", it->klass);
	json_object_set_new(o, "resources", ah_json_vec(&pol->dims, it->res, 0));
	json_object_set_new(o, it->queued ? "arrived" : "granted_at", ah_json_time(it->created_ns));
	json_object_set_new(o, it->queued ? "deadline" : "lease_expires", ah_json_time(it->expires_ns));
	json_object_set_new(o, "params", params_text_json(it->params, false));
	json_object_set_new(o, "ahead_params", params_text_json(it->params, true));
	json_object_set_new(o, "node", it->node && *it->node ? ah_json_text(it->node) : json_null());
	json_object_set_new(o, "node_labels",
			    it->node_labels && *it->node_labels ? ah_json_text(it->node_labels) : json_null());
	return o;
}

json_t *ah_json_pool(const ah_policy *pol, const ah_engine_pool_info *pi)
{
	json_t *o = json_object(), *dims = json_object();
	if (!o || !dims) {
		json_decref(o);
		json_decref(dims);
		return NULL;
	}
	set_text(o, "pool", pi->name);
	for (int d = 0; d < pol->dims.n; d++) {
		if (!pi->capacity->v[d] && !pi->used->v[d])
			continue;
		/* what waits for room: queued requests and pending grows */
		int64_t waiting = pi->queued.v[d] + pi->wanted.v[d];
		json_object_set_new(dims, pol->dims.name[d],
				    json_pack("{s:I,s:I,s:I,s:I}", "capacity", (json_int_t)pi->capacity->v[d], "used",
					      (json_int_t)pi->used->v[d], "free",
					      (json_int_t)(pi->capacity->v[d] - pi->used->v[d]), "waiting",
					      (json_int_t)waiting));
	}
	json_object_set_new(o, "dimensions", dims);
	json_object_set_new(o, "allocations", json_integer(pi->n_allocs));
	json_object_set_new(o, "queued", json_integer(pi->n_queued));
	return o;
}

json_t *ah_json_event(const ah_service_event *ev)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "seq", json_integer((json_int_t)ev->seq));
	json_object_set_new(o, "time", ah_json_time(ev->t_ns));
	set_text(o, "kind", ev->kind);
	json_object_set_new(o, "id", ev->id ? json_integer((json_int_t)ev->id) : json_null());
	const char *keys[] = {"tenant", "pool", "class", "reason", "detail"};
	const char *vals[] = {ev->tenant, ev->pool, ev->klass, ev->reason, ev->detail};
	for (int i = 0; i < 5; i++)
		if (vals[i] && *vals[i])
			set_text(o, keys[i], vals[i]);
	if (ev->resources && *ev->resources)
		json_object_set_new(o, "resources", ah_json_vec_text(NULL, ev->resources));
	/* Structured detail (scale events): nested as JSON, not as a string;
	 * data that does not parse is kept as text. */
	if (ev->data && *ev->data) {
		json_t *data = json_loads(ev->data, 0, NULL);
		json_object_set_new(o, "data", data ? data : json_pack("{s:o}", "text", ah_json_text(ev->data)));
	}
	return o;
}

json_t *ah_json_policy(const ah_policy *p, const char *outcome, const char *file)
{
	json_t *o = json_object(), *pools = json_array(), *classes = json_array(), *dims = json_array();
	if (!o || !pools || !classes || !dims) {
		json_decref(o), json_decref(pools), json_decref(classes), json_decref(dims);
		return NULL;
	}
	/* the base unit each dimension's integers count */
	static const char *const units[] = {"millicores", "bytes", "bytes/s", "bits/s", "count"};
	for (int i = 0; i < p->dims.n; i++)
		json_array_append_new(dims, json_pack("{s:s,s:s}", "name", p->dims.name[i], "unit",
						      units[p->dims.kind[i]]));
	for (int i = 0; i < p->n_pools; i++)
		json_array_append_new(pools, json_pack("{s:o,s:o}", "name", ah_json_text(p->pools[i].name), "capacity",
						       ah_json_vec(&p->dims, &p->pools[i].capacity, 0)));
	for (int i = 0; i < p->n_classes; i++)
		json_array_append_new(classes, json_pack("{s:o,s:i,s:f}", "name", ah_json_text(p->classes[i].name),
							 "priority", p->classes[i].priority, "quantile",
							 p->classes[i].quantile));
	json_object_set_new(o, "outcome", json_string(outcome));
	json_object_set_new(o, "file", file ? ah_json_text(file) : json_null());
	json_object_set_new(o, "dimensions", dims);
	json_object_set_new(o, "pools", pools);
	json_object_set_new(o, "classes", classes);
	json_object_set_new(o, "tenants", json_integer(p->n_tenants));
	return o;
}

json_t *ah_json_scale_action(const ah_policy *P, const ah_scale_action *a, const char *outcome,
			     const ah_scale_result *hr)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "outcome", ah_json_text(outcome));
	json_object_set_new(o, "pool", ah_json_text(P->pools[a->pool].name));
	json_object_set_new(o, "dimension", json_string(P->dims.name[a->dim]));
	json_object_set_new(o, "kind", json_string(a->kind == AH_SCALE_KIND_REBALANCE ? "rebalance" : "scale"));
	json_object_set_new(o, "from", json_integer(a->from));
	json_object_set_new(o, "to", json_integer(a->to));
	json_object_set_new(o, "ready", ah_json_time(a->ready_ns));
	json_object_set_new(o, "expected_cost", json_real(a->expected_cost));
	json_object_set_new(o, "keep_cost", json_real(a->keep_cost));
	json_object_set_new(o, "peer", a->peer >= 0 ? ah_json_text(P->pools[a->peer].name) : json_null());
	if (a->on_nodes)
		json_object_set_new(o, "nodes", json_pack("{s:i,s:i,s:o}", "from", a->nodes_from, "to", a->nodes_to, "node",
							  a->node[0] ? ah_json_text(a->node) : json_null()));
	if (hr && hr->ran)
		json_object_set_new(o, "hook", json_pack("{s:i,s:i,s:b,s:o}", "exit_status", hr->exit_status, "attempts",
							 hr->attempts, "timed_out", hr->timed_out, "output",
							 ah_json_text(hr->output)));
	return o;
}

json_t *ah_json_decision(const ah_policy *pol, const ah_decision *d, const char *workload,
			 const ah_shadow_prediction_info *pi)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	static const char *names[] = {"granted", "queued", "refused"};
	json_object_set_new(o, "outcome", json_string(names[d->outcome]));
	if (d->outcome != AH_REFUSED) {
		json_object_set_new(o, "id", json_integer((json_int_t)d->id));
		json_object_set_new(o, "resources", ah_json_vec(&pol->dims, &d->res, 0));
	}
	if (d->outcome == AH_GRANTED) {
		json_object_set_new(o, "lease_expires", ah_json_time(d->lease_expires_ns));
		json_object_set_new(o, "preempted", json_integer(d->n_preempted));
	} else if (d->outcome == AH_QUEUED) {
		json_object_set_new(o, "position", json_integer(d->queue_position));
		json_object_set_new(o, "deadline", ah_json_time(d->queue_deadline_ns));
	} else {
		json_object_set_new(o, "reason", json_string(ah_reason_code(d->reason)));
		json_object_set_new(o, "message", ah_json_text(d->message));
	}
	json_t *corr = json_array();
	if (d->corrections[0]) {
		char buf[sizeof d->corrections];
		strcpy(buf, d->corrections);
		for (char *sv, *tok = strtok_r(buf, ";", &sv); tok; tok = strtok_r(NULL, ";", &sv))
			json_array_append_new(corr, ah_json_text(tok[0] == ' ' ? tok + 1 : tok));
	}
	json_object_set_new(o, "corrections", corr);
	json_object_set_new(o, "workload", workload ? ah_json_text(workload) : json_null());
	json_object_set_new(o, "predicted", json_boolean(d->predicted));
	if (d->predicted) {
		json_object_set_new(o, "prediction", ah_json_vec(&pol->dims, &d->prediction, 0));
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

json_t *ah_json_replicas(json_t *const *objs, int n, int lead)
{
	if (n == 1)
		return objs[0];
	/* a copy on top: the lead also sits in the array, and jansson refuses a
	 * value that holds itself */
	json_t *top = json_deep_copy(objs[lead]), *all = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(all, objs[i]);
	if (!top || !all || json_object_set_new(top, "replicas", all) < 0) {
		json_decref(top);
		return NULL;
	}
	return top;
}

json_t *ah_json_seconds(int64_t ns)
{
	if (ns % 1000000000LL == 0)
		return json_integer(ns / 1000000000LL);
	return json_real((double)(ns / 1000000LL) / 1000.0);
}

json_t *ah_json_renew(uint64_t id, const ah_renew_outcome *ro)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "outcome", json_string("renewed"));
	json_object_set_new(o, "id", json_integer((json_int_t)id));
	json_object_set_new(o, "lease_expires", ah_json_time(ro->expires_ns));
	json_object_set_new(o, "lease_ttl_s", ah_json_seconds(ro->ttl_ns));
	json_object_set_new(o, "capped", json_boolean(ro->capped));
	if (ro->capped) {
		json_object_set_new(o, "capped_by", json_string("max_lease_ttl"));
		json_object_set_new(o, "asked_s", ah_json_seconds(ro->asked_ns));
		json_object_set_new(o, "max_lease_ttl_s", ah_json_seconds(ro->max_ns));
	}
	return o;
}

json_t *ah_json_report(const ah_policy *pol, uint64_t id, const ah_adjust_outcome *ao, const char *workload)
{
	static const char *const acts[] = {"unchanged", "grown", "shrunk", "grow_blocked"};
	static const char *const blocked[] = {NULL, "room", "quota", "priority"};
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "outcome", json_string(acts[ao->action]));
	json_object_set_new(o, "id", json_integer((json_int_t)id));
	if (ao->action == AH_ADJUST_GROW_BLOCKED && ao->blocked_by)
		json_object_set_new(o, "blocked_by", json_string(blocked[ao->blocked_by]));
	json_object_set_new(o, "resources", ah_json_vec(&pol->dims, &ao->res, 0));
	json_object_set_new(o, "lease_expires", ah_json_time(ao->lease_expires_ns));
	json_object_set_new(o, "workload", workload && *workload ? ah_json_text(workload) : json_null());
	return o;
}

json_t *ah_json_release(uint64_t id)
{
	return json_pack("{s:s,s:I}", "outcome", "released", "id", (json_int_t)id);
}

json_t *ah_json_tick(const ah_service_tick_out *t)
{
	return json_pack("{s:s,s:i,s:i,s:i,s:I}", "outcome", "ticked", "live_before", t->live_before, "allocations",
			 t->allocs, "queued", t->queued, "records_closed", (json_int_t)t->records_closed);
}

json_t *ah_json_vec(const ah_dimset *ds, const ah_vec *v, int64_t skip)
{
	json_t *o = json_object();
	for (int i = 0; o && i < ds->n; i++)
		if (v->v[i] != skip)
			json_object_set_new(o, ds->name[i], json_integer(v->v[i]));
	return o;
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
	for (int i = 0; o && i < r->n_params; i++) {
		if (ah_shadow_param_reserved(r->params[i].key) != own)
			continue;
		json_t *k = ah_json_text(r->params[i].key); /* keys too never vanish */
		json_object_set_new(o, k ? json_string_value(k) : "", ah_json_text(r->params[i].value));
		json_decref(k);
	}
	return o;
}

/* {"model": NAME, "history": N}: a model and how much history it saw. */
static json_t *model_pair(const char *name, int64_t n)
{
	return json_pack("{s:s,s:I}", "model", name, "history", (json_int_t)n);
}

/* What the history would predict now (not what sized the allocation). */
static json_t *history_now_json(const ah_policy *pol, const ah_service_description *d)
{
	json_t *m = json_object(), *by = json_object();
	json_object_set_new(m, "quantile", json_real(d->model.q));
	json_object_set_new(m, "prediction", ah_json_vec(&pol->dims, &d->model_prediction, 0));
	for (int i = 0; i < d->model.n_dims && i < pol->dims.n; i++) {
		if (d->model.dim[i].source == AH_PSH_NONE)
			continue;
		json_object_set_new(by, pol->dims.name[i],
				    model_pair(ah_psh_source_name(d->model.dim[i].source),
					       d->model.dim[i].n > INT64_MAX ? INT64_MAX : (int64_t)d->model.dim[i].n));
	}
	json_object_set_new(m, "by_dim", by);
	return m;
}

double ah_request_dim_error(const ah_shadow_req_dim *d)
{
	if (isnan(d->peak) || isnan(d->predicted) || d->predicted <= 0)
		return NAN;
	return (d->peak - d->predicted) / d->predicted;
}

static json_t *fig_json(double v)
{
	return isnan(v) ? json_null() : json_integer((json_int_t)ceil(v));
}

json_t *ah_json_history_request(const ah_shadow_request *r)
{
	json_t *o = json_object(), *dims = json_object();
	if (!o || !dims) {
		json_decref(o);
		json_decref(dims);
		return NULL;
	}
	json_object_set_new(o, "id", json_integer((json_int_t)r->id));
	set_text(o, "workload", r->workload);
	json_object_set_new(o, "start", ah_json_time(r->start_ns));
	json_object_set_new(o, "end", ah_json_time(r->end_ns));
	json_object_set_new(o, "params", record_params(r, false));
	json_object_set_new(o, "ahead_params", record_params(r, true));
	for (int k = 0; k < r->n_dims; k++) {
		double e = ah_request_dim_error(&r->dims[k]);
		const ah_shadow_req_dim *x = &r->dims[k];
		bool last = !isnan(x->last) && x->last_ns >= 0;
		json_object_set_new(dims, x->dim,
				    json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "peak", fig_json(x->peak), "mean",
					      fig_json(x->mean), "predicted", fig_json(x->predicted), "error",
					      isnan(e) ? json_null() : json_real(e), "last", fig_json(last ? x->last : NAN),
					      "last_at", ah_json_time(last ? x->last_ns : -1), "model",
					      x->model[0] ? ah_json_text(x->model) : json_null(), "history",
					      x->model[0] ? json_integer((json_int_t)x->model_n) : json_null()));
	}
	json_object_set_new(o, "dims", dims);
	return o;
}

json_t *ah_json_description(const ah_policy *pol, const ah_service_description *d)
{
	/* the allocation as ls shows it, then what the history knows of it */
	json_t *o = ah_json_allocation(pol, &d->item);
	if (!o)
		return NULL;
	if (d->have_record) {
		const ah_shadow_request *r = &d->record;
		set_text(o, "workload", r->workload);
		json_object_set_new(o, "params", record_params(r, false));
		json_object_set_new(o, "ahead_params", record_params(r, true));
		json_t *pred = json_object(), *peak = json_object(), *mean = json_object(), *by = json_object();
		for (int k = 0; k < r->n_dims; k++) {
			set_fig(pred, r->dims[k].dim, r->dims[k].predicted);
			set_fig(peak, r->dims[k].dim, r->dims[k].peak);
			set_fig(mean, r->dims[k].dim, r->dims[k].mean);
			if (r->dims[k].model[0])
				json_object_set_new(by, r->dims[k].dim, model_pair(r->dims[k].model, r->dims[k].model_n));
		}
		json_object_set_new(o, "predicted", pred);
		json_object_set_new(o, "sized_by", by);
		json_object_set_new(o, "peak", peak);
		json_object_set_new(o, "mean", mean);
	} else {
		json_object_set_new(o, "workload", json_null());
	}
	json_object_set_new(o, "last_usage", d->have_last ? ah_json_vec(&pol->dims, &d->last_usage, AH_USAGE_NONE)
							 : json_null());
	json_object_set_new(o, "last_usage_at", ah_json_time(d->have_last ? d->last_usage_ns : -1));
	json_object_set_new(o, "history_now", d->have_model ? history_now_json(pol, d) : json_null());
	json_object_set_new(o, "resizes", json_integer(d->n_resizes));
	json_object_set_new(o, "last_resize", ah_json_time(d->last_resize_ns));
	json_t *rs = json_array();
	for (int i = 0; i < d->n_recent; i++)
		json_array_append_new(rs, json_pack("{s:o,s:o,s:o}", "time", ah_json_time(d->recent[i].t_ns), "resources",
						    ah_json_vec_text(&pol->dims, d->recent[i].resources), "why",
						    ah_json_text(d->recent[i].why)));
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
	set_text(o, "workload", workload);
	set_text(o, "class", klass);
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

json_t *ah_json_cluster_status(const ah_cluster_status *st)
{
	json_t *ms = json_array(), *is = json_array();
	for (int i = 0; i < st->n_members; i++) {
		const ah_cluster_member *m = &st->member[i];
		json_array_append_new(
			ms, json_pack("{s:o,s:s,s:o,s:b,s:b,s:o,s:o,s:o,s:o,s:o}", "name", ah_json_text(m->name), "id", m->id,
				      "client_url", ah_json_text(m->client_url), "reachable", m->reachable, "leader",
				      m->leader, "version", m->reachable ? ah_json_text(m->version) : json_null(),
				      "raft_index", m->reachable ? json_integer(m->raft_index) : json_null(), "raft_term",
				      m->reachable ? json_integer(m->raft_term) : json_null(), "db_size_bytes",
				      m->reachable ? json_integer(m->db_size_bytes) : json_null(), "error",
				      m->reachable ? json_null() : ah_json_text(m->error)));
	}
	for (int i = 0; i < st->n_instances; i++) {
		const ah_cluster_instance *x = &st->instance[i];
		json_t *w = x->watching ? json_pack("{s:b,s:I,s:I,s:I,s:I,s:I}", "up", x->watch_up, "view_revision",
						    (json_int_t)x->view_revision, "watch_revision",
						    (json_int_t)x->watch_revision, "behind_revisions", (json_int_t)x->behind,
						    "lag_ms", (json_int_t)x->lag_ms, "relists", (json_int_t)x->relists)
					: json_null();
		json_array_append_new(is, json_pack("{s:o,s:I,s:o,s:I,s:o}", "name", ah_json_text(x->name), "pid",
						    (json_int_t)x->pid, "lease_ttl_s",
						    x->lease_ttl_s >= 0 ? json_integer(x->lease_ttl_s) : json_null(),
						    "since_revision", (json_int_t)x->since_revision, "watch", w));
	}
	return json_pack("{s:o,s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:o}", "prefix", ah_json_text(st->prefix), "revision",
			 (json_int_t)st->revision, "head_revision", (json_int_t)st->head_revision, "commits",
			 (json_int_t)st->commits, "members", ms, "instances", is, "shaper",
			 st->have_shaper ? json_pack("{s:o,s:I}", "holder", ah_json_text(st->shaper), "token",
						     (json_int_t)st->shaper_token)
					 : json_null(),
			 "writer", st->have_writer ? json_pack("{s:o}", "url", ah_json_text(st->writer)) : json_null(),
			 "watch_lag",
			 st->max_behind >= 0 ? json_pack("{s:I,s:I}", "max_behind_revisions", (json_int_t)st->max_behind,
							  "max_lag_ms", (json_int_t)st->max_lag_ms)
					     : json_null());
}

json_t *ah_json_node(const ah_node *n)
{
	json_t *cap = json_object(), *lab = json_object();
	for (int i = 0; i < n->spec.n_dims; i++)
		json_object_set_new(cap, n->spec.dim[i], json_integer(n->spec.capacity[i]));
	for (int i = 0; i < n->spec.n_labels; i++)
		json_object_set_new(lab, n->spec.labels[i].key, ah_json_text(n->spec.labels[i].value));
	return json_pack("{s:o,s:b,s:b,s:b,s:i,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:I,s:I,s:I}", "name", ah_json_text(n->spec.name), "up",
			 n->up, "cordoned", n->cordoned, "draining", n->draining, "placed", n->placed, "capacity", cap, "labels", lab, "instance",
			 n->up ? ah_json_text(n->instance) : json_null(), "pid", n->up ? json_integer(n->pid) : json_null(),
			 "lease_ttl_s", n->up && n->lease_ttl_s >= 0 ? json_integer(n->lease_ttl_s) : json_null(),
			 "registered_by", ah_json_text(n->registered_by), "registered",
			 n->registered_ns > 0 ? ah_json_time(n->registered_ns) : json_null(), "record_revision",
			 (json_int_t)n->record_revision, "enforce_errors", (json_int_t)n->enforce_errors, "kills",
			 (json_int_t)n->kills);
}

json_t *ah_json_node_list(const ah_node_list *l)
{
	json_t *a = json_array();
	for (int i = 0; i < l->n; i++)
		json_array_append_new(a, ah_json_node(&l->node[i]));
	return json_pack("{s:o,s:I,s:o}", "prefix", ah_json_text(l->prefix), "revision", (json_int_t)l->revision, "nodes",
			 a);
}
