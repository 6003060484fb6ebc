/* /v1/allocations and /v1/queue: request, list, describe, renew, release,
 * report usage. Bodies in the shape `ahead alloc -o json` prints; a tenant
 * token sees and touches only its tenant's allocations (another tenant's
 * ids answer 404, as unknown ones do). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "server/api_int.h"
#include "server/enforce_api.h"

/* The allocation the path names, if the caller may see it; else a 404. */
static bool visible_item(api_call *c, uint64_t id, ah_engine_item *it)
{
	if (ah_engine_get(ah_service_engine_get(c->a->svc), id, it) < 0 || !api_sees_tenant(c, it->tenant)) {
		api_error(c, 404, "not_found", NULL, "no allocation %llu", (unsigned long long)id);
		return false;
	}
	return true;
}

/* A stale resourceVersion is a 409: the client acts on what it last saw. */
static bool version_ok(api_call *c, uint64_t id)
{
	const char *v = api_body_version(c);
	if (!v)
		return true;
	char cur[32];
	snprintf(cur, sizeof cur, "%lld", (long long)api_versions_get(&c->a->ver, id));
	if (strcmp(v, cur)) {
		json_t *safe = ah_json_text(v);
		api_error(c, 409, "conflict", "resourceVersion",
			  "allocation %llu changed since resourceVersion %.32s (now %s); read it again",
			  (unsigned long long)id, json_string_value(safe), cur);
		json_decref(safe);
		return false;
	}
	return true;
}

static int decision_status(const ah_decision *d, int *retry_after_s)
{
	if (d->outcome == AH_GRANTED)
		return 201;
	if (d->outcome == AH_QUEUED)
		return 202;
	switch (d->reason) {
	case AH_R_RATE:
		*retry_after_s = 1;
		return 429;
	case AH_R_QUOTA:
	case AH_R_NO_CAPACITY:
	case AH_R_QUEUE_FULL:
	case AH_R_TOO_BIG:
	case AH_R_TIMEOUT:
		return 409;
	default:
		return 422;
	}
}

static const char *const CREATE_FIELDS[] = {"tenant", "pool", "class", "resources", "workload", "params",
					    "lease", "queue_timeout", "queue", "replicas", "node_labels", NULL};

/* One replica's answer: the decision, where it landed and its cgroup. */
static json_t *replica_json(api_call *c, const ah_service_decision *sd)
{
	const ah_policy *pol = ah_service_policy_get(c->a->svc);
	json_t *o = ah_json_decision(pol, &sd->d, sd->workload, sd->have_info ? &sd->info : NULL);
	ah_engine_item git;
	if (o && sd->d.outcome == AH_GRANTED && ah_engine_get(ah_service_engine_get(c->a->svc), sd->d.id, &git) == 0) {
		if (git.node && *git.node)
			json_object_set_new(o, "node", ah_json_text(git.node));
		json_t *cg = api_enf_json(c->a, sd->d.id, git.klass, git.res); /* [linux] enforce_api */
		if (cg)
			json_object_set_new(o, "cgroup", cg);
	}
	if (o && sd->d.outcome == AH_REFUSED)
		json_object_set_new(o, "error", json_pack("{s:s,s:o,s:n}", "code", ah_reason_code(sd->d.reason),
							  "message", ah_json_text(sd->d.message), "field"));
	api_metrics_decision(c->a->met, sd->d.outcome, sd->d.reason);
	return o;
}

/* "replicas": 1..AH_PLACE_REPLICAS_MAX (absent: 1). */
static bool body_replicas(api_call *c, int *out)
{
	json_t *v = json_object_get(c->body, "replicas");
	*out = 1;
	if (!v || json_is_null(v))
		return true;
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > AH_PLACE_REPLICAS_MAX) {
		api_error(c, 400, "invalid", "replicas", "replicas: must be an integer from 1 to %d", AH_PLACE_REPLICAS_MAX);
		return false;
	}
	*out = (int)json_integer_value(v);
	return true;
}

void api_alloc_create(api_call *c)
{
	const char *tenant = NULL, *pool = NULL, *klass = NULL, *workload = NULL, *labels = NULL;
	bool has_t, has_p, has_k, has_w, has_r, has_l, has_q, has_n;
	int n;
	ah_request rq;
	char params[AH_PARAMS_MAX + 1];
	memset(&rq, 0, sizeof rq);
	rq.queue_timeout_ns = -1;
	if (!api_body_check(c, CREATE_FIELDS) || !api_body_string(c, "tenant", AH_NAME_MAX - 1, &tenant, &has_t) ||
	    !api_body_string(c, "pool", AH_NAME_MAX - 1, &pool, &has_p) ||
	    !api_body_string(c, "class", AH_NAME_MAX - 1, &klass, &has_k) ||
	    !api_body_string(c, "workload", AH_WORKLOAD_MAX, &workload, &has_w) ||
	    !api_body_vec(c, "resources", false, &rq.res, &has_r) ||
	    !api_body_params(c, "params", params, sizeof params) ||
	    !api_body_duration(c, "lease", &rq.lease_ttl_ns, &has_l) ||
	    !api_body_duration(c, "queue_timeout", &rq.queue_timeout_ns, &has_q) ||
	    !api_body_string(c, "node_labels", AH_NODE_SELECT_MAX - 1, &labels, &has_n) || !body_replicas(c, &n))
		return;
	json_t *qv = json_object_get(c->body, "queue");
	if (qv && !json_is_boolean(qv)) {
		api_error(c, 400, "invalid", "queue", "queue: must be true or false");
		return;
	}
	if (json_is_false(qv))
		rq.queue_timeout_ns = 0;
	if (c->who->role == AH_ROLE_TENANT) {
		if (has_t && strcmp(tenant, c->who->tenant)) {
			api_error(c, 403, "forbidden", "tenant", "this token may only request for tenant %s",
				  c->who->tenant);
			return;
		}
		tenant = c->who->tenant;
		has_t = true;
	}
	if (!has_t || !has_p) {
		api_error(c, 400, "invalid", has_t ? "pool" : "tenant", "%s is required", has_t ? "pool" : "tenant");
		return;
	}
	if (!has_r && !has_w) {
		api_error(c, 400, "invalid", "resources", "resources (or a workload with history) is required");
		return;
	}
	rq.tenant = tenant;
	rq.pool = pool;
	rq.klass = has_k ? klass : NULL;
	rq.workload = has_w ? workload : NULL;
	rq.params = params[0] ? params : NULL;
	rq.node_labels = has_n ? labels : NULL;
	ah_service_decision one, *sd = n == 1 ? &one : calloc((size_t)n, sizeof(*sd));
	if (!sd) {
		api_error_rc(c, AH_ENOMEM, "request");
		return;
	}
	int rc = ah_service_request_replicas(c->a->svc, &rq, n, c->now_ns, sd);
	if (rc < 0) {
		api_error_rc(c, rc, "request");
		goto out;
	}
	/* The top level is the replica that decides the status (docs/API.md):
	 * all replicas are listed in "replicas" when more than one was asked. */
	int lead = ah_service_replicas_lead(sd, n);
	json_t *objs[AH_PLACE_REPLICAS_MAX];
	for (int i = 0; i < n; i++)
		objs[i] = replica_json(c, &sd[i]);
	json_t *o = ah_json_replicas(objs, n, lead);
	int retry = 0;
	int status = decision_status(&sd[lead].d, &retry);
	c->out->retry_after_s = retry;
	api_reply(c, status, o);
out:
	if (sd != &one)
		free(sd);
}

typedef struct {
	api_call *c;
	json_t *items;
	const char *tenant, *pool, *state;
	bool queued_only;
} list_ctx;

static int add_item(void *ctx, const ah_engine_item *it)
{
	list_ctx *l = ctx;
	if (!api_sees_tenant(l->c, it->tenant) || (l->tenant && strcmp(l->tenant, it->tenant)) ||
	    (l->pool && strcmp(l->pool, it->pool)))
		return 0;
	if ((l->queued_only && !it->queued) || (l->state && strcmp(l->state, it->queued ? "queued" : "granted")))
		return 0;
	json_t *o = ah_json_allocation(ah_service_policy_get(l->c->a->svc), it);
	api_set_version(o, api_versions_get(&l->c->a->ver, it->id));
	json_array_append_new(l->items, o);
	return 0;
}

static void list(api_call *c, bool queued_only)
{
	list_ctx l = {.c = c, .items = json_array(), .tenant = api_arg(c, "tenant"), .pool = api_arg(c, "pool"),
		      .state = api_arg(c, "state"), .queued_only = queued_only};
	if (l.state && strcmp(l.state, "granted") && strcmp(l.state, "queued")) {
		json_decref(l.items);
		api_error(c, 400, "invalid", "state", "state: granted or queued");
		return;
	}
	ah_engine_foreach(ah_service_engine_get(c->a->svc), add_item, &l);
	api_reply(c, 200, api_json_list(c->a, l.items));
}

void api_alloc_list(api_call *c)
{
	list(c, false);
}

void api_queue_list(api_call *c)
{
	list(c, true);
}

void api_alloc_get(api_call *c)
{
	uint64_t id;
	ah_engine_item it;
	if (!api_path_id(c, &id) || !visible_item(c, id, &it))
		return;
	ah_service_description d;
	int rc = ah_service_describe(c->a->svc, id, c->now_ns, &d);
	if (rc < 0) {
		api_error_rc(c, rc, "allocation");
		return;
	}
	json_t *o = ah_json_description(ah_service_policy_get(c->a->svc), &d);
	json_t *cg = d.item.queued ? NULL : api_enf_json(c->a, id, d.item.klass, d.item.res);
	if (cg)
		json_object_set_new(o, "cgroup", cg);
	api_set_version(o, api_versions_get(&c->a->ver, id));
	api_reply(c, 200, o);
}

static const char *const VERSION_ONLY[] = {"resourceVersion", NULL};

void api_alloc_release(api_call *c)
{
	uint64_t id;
	ah_engine_item it;
	if (!api_path_id(c, &id) || !api_body_check(c, VERSION_ONLY) || !visible_item(c, id, &it) ||
	    !version_ok(c, id))
		return;
	int rc = ah_service_release(c->a->svc, id, c->now_ns);
	if (rc < 0) {
		api_error_rc(c, rc, "allocation");
		return;
	}
	api_reply(c, 200, ah_json_release(id));
}

static const char *const RENEW_FIELDS[] = {"lease", "resourceVersion", NULL};

void api_alloc_renew(api_call *c)
{
	uint64_t id;
	ah_engine_item it;
	int64_t ttl = 0;
	bool has_l;
	if (!api_path_id(c, &id) || !api_body_check(c, RENEW_FIELDS) ||
	    !api_body_duration(c, "lease", &ttl, &has_l) || !visible_item(c, id, &it) || !version_ok(c, id))
		return;
	if (it.queued) {
		api_error(c, 409, "conflict", NULL, "allocation %llu is queued; only a granted lease renews",
			  (unsigned long long)id);
		return;
	}
	ah_renew_outcome ro;
	int rc = ah_service_renew_lease(c->a->svc, id, ttl, c->now_ns, &ro);
	if (rc < 0) {
		api_error_rc(c, rc, "allocation");
		return;
	}
	api_touch(c->a, id); /* a renew event, no engine change */
	api_reply(c, 200, ah_json_renew(id, &ro));
}

static const char *const USAGE_FIELDS[] = {"usage", "resourceVersion", NULL};

void api_alloc_usage(api_call *c)
{
	uint64_t id;
	ah_engine_item it;
	ah_vec usage;
	bool has_u;
	if (!api_path_id(c, &id) || !api_body_check(c, USAGE_FIELDS) || !api_body_vec(c, "usage", true, &usage, &has_u) ||
	    !visible_item(c, id, &it) || !version_ok(c, id))
		return;
	if (!has_u) {
		api_error(c, 400, "invalid", "usage", "usage is required (an object of measured dimensions)");
		return;
	}
	if (it.queued) {
		api_error(c, 409, "conflict", NULL, "allocation %llu is queued; usage is reported for granted ones",
			  (unsigned long long)id);
		return;
	}
	ah_service_report_out r;
	int rc = ah_service_report(c->a->svc, id, &usage, c->now_ns, &r);
	if (rc < 0) {
		api_error_rc(c, rc, "allocation");
		return;
	}
	api_tel_usage(&c->a->tel, id, &usage);
	api_reply(c, 200, ah_json_report(ah_service_policy_get(c->a->svc), id, &r.o, r.workload[0] ? r.workload : NULL));
}
