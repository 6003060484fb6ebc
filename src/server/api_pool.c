/* /v1/pools and /v1/tenants. A pool's capacity is set through the engine
 * (as the scaler does); creating or deleting a pool and setting a tenant's
 * quota edit the policy's text and apply it through the one policy path,
 * so the result is validated like any policy file and the ledger keeps it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/names.h"
#include "ahead/policy_edit.h"
#include "server/api_int.h"

static json_t *pool_json(api_call *c, const ah_engine_pool_info *pi)
{
	const ah_policy *pol = ah_service_policy_get(c->a->svc);
	json_t *o = ah_json_pool(pol, pi);
	api_set_version(o, api_versions_pool_get(&c->a->ver, pi->name));
	return o;
}

static bool find_pool(api_call *c, ah_engine_pool_info *out)
{
	const ah_engine *e = ah_service_engine_get(c->a->svc);
	for (int i = 0; i < ah_engine_pool_count(e); i++)
		if (ah_engine_pool_get(e, i, out) == 0 && !strcmp(out->name, c->param))
			return true;
	json_t *safe = ah_json_text(c->param);
	api_error(c, 404, "not_found", NULL, "no pool '%.64s'", json_string_value(safe));
	json_decref(safe);
	return false;
}

void api_pool_list(api_call *c)
{
	const ah_engine *e = ah_service_engine_get(c->a->svc);
	json_t *items = json_array();
	for (int i = 0; i < ah_engine_pool_count(e); i++) {
		ah_engine_pool_info pi;
		if (ah_engine_pool_get(e, i, &pi) == 0)
			json_array_append_new(items, pool_json(c, &pi));
	}
	api_reply(c, 200, api_json_list(c->a, items));
}

void api_pool_get(api_call *c)
{
	ah_engine_pool_info pi;
	if (find_pool(c, &pi))
		api_reply(c, 200, pool_json(c, &pi));
}

static const char *const RESIZE_FIELDS[] = {"capacity", "resourceVersion", NULL};

void api_pool_resize(api_call *c)
{
	ah_engine_pool_info pi;
	ah_vec cap;
	bool has;
	if (!api_body_check(c, RESIZE_FIELDS) || !api_body_vec(c, "capacity", true, &cap, &has) || !find_pool(c, &pi))
		return;
	if (!has) {
		api_error(c, 400, "invalid", "capacity", "capacity is required");
		return;
	}
	const char *v = api_body_version(c);
	char cur[32];
	snprintf(cur, sizeof cur, "%lld", (long long)api_versions_pool_get(&c->a->ver, pi.name));
	if (v && strcmp(v, cur)) {
		api_error(c, 409, "conflict", "resourceVersion", "pool %s changed since that resourceVersion (now %s)",
			  pi.name, cur);
		return;
	}
	/* dimensions not given keep their capacity */
	const ah_policy *pol = ah_service_policy_get(c->a->svc);
	/* (and dimensions the policy does not have are 0, as the engine wants) */
	for (int d = 0; d < AH_MAX_DIMS; d++)
		if (cap.v[d] == AH_USAGE_NONE)
			cap.v[d] = d < pol->dims.n ? pi.capacity->v[d] : 0;
	char name[AH_NAME_MAX];
	snprintf(name, sizeof name, "%s", pi.name);
	int rc = ah_service_set_capacity(c->a->svc, name, &cap, c->now_ns);
	if (rc == 0) {
		/* The engine logs no event for a capacity set, and a pool's
		 * resourceVersion is the newest event naming it: log one (as
		 * the scaler does), so a resize changes the version and a PUT
		 * with the one before is a 409. Reason "set", not "scaled":
		 * the scaler's stabilisation ignores it. */
		ah_ledger *l = ah_service_ledger_get(c->a->svc);
		ah_ledger_event ev = {.t_ns = c->now_ns, .kind = AH_EV_SCALE, .pool = name, .res = &cap,
				      .reason = "set", .detail = "capacity set through the API"};
		rc = l->ops->event(l, &ev);
	}
	if (rc < 0) {
		api_error_rc(c, rc, "pool");
		return;
	}
	if (find_pool(c, &pi)) {
		json_t *o = ah_json_pool(ah_service_policy_get(c->a->svc), &pi);
		json_object_set_new(o, "outcome", json_string("resized"));
		api_reply(c, 200, o);
	}
}

/* "key = cpu=4, memory=8Gi" from an object of dimensions. */
static bool vec_line(api_call *c, const char *field, const char *key, char *buf, size_t len, size_t *w)
{
	ah_vec v;
	bool has;
	if (!api_body_vec(c, field, false, &v, &has))
		return false;
	if (!has)
		return true;
	const ah_policy *pol = ah_service_policy_get(c->a->svc);
	char t[512];
	if (ah_vec_format(&pol->dims, &v, t, sizeof t) < 0) {
		api_error(c, 400, "invalid", field, "%s: too many values", field);
		return false;
	}
	*w += (size_t)snprintf(buf + *w, len - *w, "%s = %s\n", key, t);
	return true;
}

static const char *const POOL_FIELDS[] = {"name", "capacity", "min", "max", "unit", "min_request", "max_queue", NULL};

void api_pool_create(api_call *c)
{
	const char *name;
	bool has;
	char body[4096];
	size_t w = 0;
	if (!api_body_check(c, POOL_FIELDS) || !api_body_string(c, "name", AH_NAME_MAX - 1, &name, &has))
		return;
	if (!has || ah_name_check_object(name) < 0) {
		api_error(c, 400, "invalid", "name", "name: a pool name is required ([A-Za-z0-9][A-Za-z0-9_.-]*)");
		return;
	}
	if (ah_policy_find_pool(ah_service_policy_get(c->a->svc), name) >= 0) {
		api_error(c, 409, "conflict", "name", "pool %s exists", name);
		return;
	}
	if (!json_object_get(c->body, "capacity")) {
		api_error(c, 400, "invalid", "capacity", "capacity is required");
		return;
	}
	static const char *const vecs[] = {"capacity", "min", "max", "unit", "min_request"};
	for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++)
		if (!vec_line(c, vecs[i], vecs[i], body, sizeof body, &w))
			return;
	json_t *mq = json_object_get(c->body, "max_queue");
	if (mq) {
		if (!json_is_integer(mq) || json_integer_value(mq) < 0 || json_integer_value(mq) > 1000000) {
			api_error(c, 400, "invalid", "max_queue", "max_queue: an integer from 0 to 1000000");
			return;
		}
		w += (size_t)snprintf(body + w, sizeof body - w, "max_queue = %lld\n", (long long)json_integer_value(mq));
	}
	char *text = NULL, *next = NULL;
	int64_t at;
	char err[512];
	int rc = ah_service_policy_text(ah_service_db_path(c->a->svc), &text, &at, err, sizeof err);
	if (rc == 0)
		rc = ah_policy_text_set_section(text, "pool", name, body, &next, NULL);
	if (rc < 0) {
		api_error_rc(c, rc, "policy");
	} else if (api_apply_policy_text(c, next, "API: POST /v1/pools")) {
		json_t *o = json_pack("{s:s,s:s}", "outcome", "created", "pool", name);
		api_reply(c, 201, o);
	}
	free(text);
	free(next);
}

void api_pool_delete(api_call *c)
{
	ah_engine_pool_info pi;
	if (!find_pool(c, &pi))
		return;
	if (pi.n_allocs || pi.n_queued) {
		api_error(c, 409, "conflict", NULL, "pool %s still holds %d allocations and %d queued requests",
			  pi.name, pi.n_allocs, pi.n_queued);
		return;
	}
	char name[AH_NAME_MAX];
	snprintf(name, sizeof name, "%s", pi.name);
	char *text = NULL, *next = NULL;
	int64_t at;
	char err[512];
	bool found = false;
	int rc = ah_service_policy_text(ah_service_db_path(c->a->svc), &text, &at, err, sizeof err);
	if (rc == 0)
		rc = ah_policy_text_set_section(text, "pool", name, NULL, &next, &found);
	if (rc < 0)
		api_error_rc(c, rc, "policy");
	else if (!found)
		api_error(c, 409, "conflict", NULL, "pool %s is not a section of the policy's text", name);
	else if (api_apply_policy_text(c, next, "API: DELETE /v1/pools"))
		api_reply(c, 200, json_pack("{s:s,s:s}", "outcome", "deleted", "pool", name));
	free(text);
	free(next);
}

/* ---- tenants ---- */

static json_t *tenant_json(api_call *c, const ah_tenant_policy *t)
{
	const ah_policy *pol = ah_service_policy_get(c->a->svc);
	ah_vec used;
	json_t *o = json_object();
	json_object_set_new(o, "tenant", ah_json_text(t->name));
	json_object_set_new(o, "quota", ah_json_vec(&pol->dims, &t->quota, AH_UNLIMITED));
	if (ah_engine_tenant_used(ah_service_engine_get(c->a->svc), t->name, &used) < 0)
		memset(&used, 0, sizeof used);
	json_object_set_new(o, "used", ah_json_vec(&pol->dims, &used, -1));
	json_object_set_new(o, "rate_per_s", json_real(t->rate_per_s));
	json_object_set_new(o, "burst", json_real(t->burst));
	return o;
}

void api_tenant_list(api_call *c)
{
	const ah_policy *pol = ah_service_policy_get(c->a->svc);
	json_t *items = json_array();
	for (int i = 0; i < pol->n_tenants; i++)
		if (api_sees_tenant(c, pol->tenants[i].name))
			json_array_append_new(items, tenant_json(c, &pol->tenants[i]));
	api_reply(c, 200, api_json_list(c->a, items));
}

void api_tenant_get(api_call *c)
{
	const ah_policy *pol = ah_service_policy_get(c->a->svc);
	int i = ah_policy_find_tenant(pol, c->param);
	if (i < 0 || !api_sees_tenant(c, c->param)) {
		json_t *safe = ah_json_text(c->param);
		api_error(c, 404, "not_found", NULL, "no tenant '%.64s' in the policy", json_string_value(safe));
		json_decref(safe);
		return;
	}
	api_reply(c, 200, tenant_json(c, &pol->tenants[i]));
}

static const char *const TENANT_FIELDS[] = {"quota", "rate", "burst", NULL};

void api_tenant_put(api_call *c)
{
	char body[2048];
	size_t w = 0;
	if (!api_body_check(c, TENANT_FIELDS))
		return;
	if (ah_name_check_object(c->param) < 0) {
		api_error(c, 400, "invalid", "name", "not a tenant name ([A-Za-z0-9][A-Za-z0-9_.-]*)");
		return;
	}
	if (!vec_line(c, "quota", "quota", body, sizeof body, &w))
		return;
	static const char *const nums[] = {"rate", "burst"};
	for (int i = 0; i < 2; i++) {
		json_t *v = json_object_get(c->body, nums[i]);
		if (!v)
			continue;
		if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1e9) {
			api_error(c, 400, "invalid", nums[i], "%s: a number from 0 to 1e9", nums[i]);
			return;
		}
		w += (size_t)snprintf(body + w, sizeof body - w, "%s = %.17g\n", nums[i], json_number_value(v));
	}
	char *text = NULL, *next = NULL;
	int64_t at;
	char err[512];
	bool found = false;
	int rc = ah_service_policy_text(ah_service_db_path(c->a->svc), &text, &at, err, sizeof err);
	if (rc == 0)
		rc = ah_policy_text_set_section(text, "tenant", c->param, body, &next, &found);
	if (rc < 0)
		api_error_rc(c, rc, "policy");
	else if (api_apply_policy_text(c, next, "API: PUT /v1/tenants")) {
		const ah_policy *pol = ah_service_policy_get(c->a->svc);
		int i = ah_policy_find_tenant(pol, c->param);
		json_t *o = i >= 0 ? tenant_json(c, &pol->tenants[i]) : json_object();
		json_object_set_new(o, "outcome", json_string(found ? "updated" : "created"));
		api_reply(c, found ? 200 : 201, o);
	}
	free(text);
	free(next);
}
