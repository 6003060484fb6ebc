/* The API without the transport (include/ahead/api.h): the route table,
 * authentication and roles, idempotency keys, the audit line of every
 * write, and group commit. The routes themselves live in api_*.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ahead/error.h"
#include "ahead/ledger_etcd.h"
#include "server/api_int.h"
#include "server/enforce_api.h"
#include "server/observe.h"

typedef struct {
	const char *method;
	const char *path;        /* template: "{p}" matches one segment */
	api_handler fn;
	unsigned roles;          /* R_*; 0 = no token needed */
	api_kind kind;
} route;

/* Order matters only where two templates match the same path: the literal
 * one comes first. */
static const route ROUTES[] = {
	{"GET", "/healthz", NULL, 0, K_READ},
	{"GET", "/readyz", NULL, 0, K_READ},
	{"GET", "/openapi.json", api_openapi, 0, K_READ},
	{"GET", "/", api_web_index, 0, K_READ},
	{"GET", "/static/{file}", api_web_file, 0, K_READ},
	/* open like /healthz: Prometheus scrapes without a token (docs/METRICS.md) */
	{"GET", "/metrics", api_metrics_route, 0, K_READ},
	{"GET", "/v1/pools", api_pool_list, R_READ, K_READ},
	{"POST", "/v1/pools", api_pool_create, R_ADMIN, K_EXCLUSIVE},
	{"GET", "/v1/pools/{name}", api_pool_get, R_READ, K_READ},
	{"GET", "/v1/pools/{name}/history", api_pool_history, R_READ, K_READ},
	{"PUT", "/v1/pools/{name}", api_pool_resize, R_OPS, K_WRITE},
	{"DELETE", "/v1/pools/{name}", api_pool_delete, R_ADMIN, K_EXCLUSIVE},
	{"GET", "/v1/allocations", api_alloc_list, R_READ, K_READ},
	{"POST", "/v1/allocations", api_alloc_create, R_WRITE, K_WRITE},
	{"GET", "/v1/allocations/{id}", api_alloc_get, R_READ, K_READ},
	{"DELETE", "/v1/allocations/{id}", api_alloc_release, R_WRITE, K_WRITE},
	{"POST", "/v1/allocations/{id}/renew", api_alloc_renew, R_WRITE, K_WRITE},
	{"POST", "/v1/allocations/{id}/usage", api_alloc_usage, R_WRITE, K_WRITE},
	{"GET", "/v1/queue", api_queue_list, R_READ, K_READ},
	{"GET", "/v1/tenants", api_tenant_list, R_READ, K_READ},
	{"GET", "/v1/tenants/{name}", api_tenant_get, R_READ, K_READ},
	{"PUT", "/v1/tenants/{name}", api_tenant_put, R_ADMIN, K_EXCLUSIVE},
	{"GET", "/v1/policy", api_policy_get, R_STAFF_READ, K_READ},
	{"PUT", "/v1/policy", api_policy_put, R_ADMIN, K_EXCLUSIVE},
	{"GET", "/v1/workloads", api_workload_list, R_STAFF_READ, K_READ},
	{"GET", "/v1/workloads/{name}/forecast", api_workload_forecast, R_STAFF_READ, K_READ},
	{"GET", "/v1/workloads/{name}/recommendation", api_workload_recommend, R_STAFF_READ, K_READ},
	{"GET", "/v1/workloads/{name}/history", api_workload_history, R_STAFF_READ, K_READ},
	{"GET", "/v1/anomalies", api_anomalies_list, R_STAFF_READ, K_READ},
	{"GET", "/v1/workloads/{name}/anomalies", api_anomalies_list, R_STAFF_READ, K_READ},
	{"POST", "/v1/workloads/{name}/history", api_workload_history_import, R_OPS, K_EXCLUSIVE},
	{"GET", "/v1/workloads/{name}/requests", api_workload_requests, R_STAFF_READ, K_READ},
	{"GET", "/v1/series", api_series_list, R_STAFF_READ, K_READ},
	{"POST", "/v1/history/compact", api_history_compact, R_OPS, K_EXCLUSIVE},
	{"GET", "/v1/events", api_events_list, R_READ, K_READ},
	{"GET", "/v1/audit", api_audit_list, R_ADMIN, K_READ},
	{"GET", "/v1/tokens", api_token_list, R_ADMIN, K_READ},
	{"POST", "/v1/tokens", api_token_create, R_ADMIN, K_WRITE},
	{"DELETE", "/v1/tokens/{id}", api_token_revoke, R_ADMIN, K_WRITE},
	{"POST", "/v1/tokens/{id}/rotate", api_token_rotate, R_ADMIN, K_WRITE},
	{"GET", "/v1/server/stats", api_stats, R_ADMIN, K_READ},
	{"GET", "/v1/host", api_host_get, R_STAFF_READ, K_READ},
};
#define N_ROUTES (sizeof ROUTES / sizeof ROUTES[0])

void ah_api_routes(void (*fn)(void *ctx, const char *method, const char *path), void *ctx)
{
	for (size_t i = 0; i < N_ROUTES; i++)
		fn(ctx, ROUTES[i].method, ROUTES[i].path);
}

void ah_api_opts_init(ah_api_opts *o)
{
	memset(o, 0, sizeof *o);
	o->idem_keep_ns = INT64_C(24) * 3600 * 1000000000;
	o->events_keep_ns = INT64_C(3600) * 1000000000;
	o->events_keep_min = 10000;
	o->sample_ns = INT64_C(10) * 1000000000;
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t api_mono_now_ns(void)
{
	return mono_ns();
}

/* ---- matching ---- */

/* Matches path against a template; the one "{x}" segment's text goes to
 * param (NUL-terminated copy). Segments are split on '/', so "..", "%2F"
 * or an empty segment never reach a handler as part of a name. */
static bool match(const char *tpl, const char *path, char *param, size_t len)
{
	param[0] = '\0';
	while (*tpl && *path) {
		if (*tpl == '{') {
			const char *end = strchr(tpl, '}');
			size_t n = strcspn(path, "/");
			if (!end || !n || n >= len)
				return false;
			memcpy(param, path, n);
			param[n] = '\0';
			tpl = end + 1;
			path += n;
			continue;
		}
		if (*tpl++ != *path++)
			return false;
	}
	return !*tpl && !*path;
}

static const route *find_route(const char *method, const char *path, char *param, size_t len, bool *path_known)
{
	*path_known = false;
	for (size_t i = 0; i < N_ROUTES; i++) {
		if (!match(ROUTES[i].path, path, param, len))
			continue;
		*path_known = true;
		if (!strcmp(ROUTES[i].method, method))
			return &ROUTES[i];
	}
	return NULL;
}

int api_route_index(const char *method, const char *path)
{
	char param[AH_WORKLOAD_MAX + 1];
	bool known;
	if (!method || !path)
		return -1;
	const route *r = find_route(method, path, param, sizeof param, &known);
	return r ? (int)(r - ROUTES) : -1;
}

void api_route_at(int i, const char **method, const char **path)
{
	if (i >= 0 && (size_t)i < N_ROUTES) {
		*method = ROUTES[i].method;
		*path = ROUTES[i].path;
	}
}

static bool writing_method(const char *m)
{
	return m && strcmp(m, "GET") && strcmp(m, "HEAD");
}

ah_api_kind ah_api_classify(const ah_api_request *rq)
{
	char param[AH_WORKLOAD_MAX + 1];
	bool known;
	if (!rq || !rq->path)
		return AH_API_READ;
	const route *r = find_route(rq->method ? rq->method : "", rq->path, param, sizeof param, &known);
	if (r)
		return r->kind;
	return writing_method(rq->method) ? AH_API_WRITE : AH_API_READ;
}

/* ---- answers ---- */

void api_reply(api_call *c, int status, json_t *o)
{
	int64_t t0 = mono_ns();
	c->out->status = status;
	const char *oc = json_string_value(json_object_get(o, "outcome"));
	if (!oc)
		oc = json_string_value(json_object_get(json_object_get(o, "error"), "code"));
	snprintf(c->out->outcome, sizeof c->out->outcome, "%s", oc ? oc : "");
	free(c->out->body);
	c->out->body = o ? ah_json_dumps(o) : NULL;
	if (c->keep_compact) {
		free(c->compact);
		c->compact = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
		c->compact_of = c->out->body;
	}
	json_decref(o);
	if (!c->out->body) {
		c->out->status = 500;
		c->out->body = strdup("{\"error\": {\"code\": \"internal\", \"message\": \"out of memory\", \"field\": null}}");
	}
	c->out->body_len = c->out->body ? strlen(c->out->body) : 0;
	c->out->content_type = "application/json";
	c->a->stats.json_ns += mono_ns() - t0;
}

void api_error(api_call *c, int status, const char *code, const char *field, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	api_reply(c, status, ah_json_error(code, msg, field));
}

void api_error_rc(api_call *c, int rc, const char *what)
{
	const char *sm = ah_service_errmsg(c->a->svc);
	switch (rc) {
	case AH_ENOENT:
		api_error(c, 404, "not_found", NULL, "%s not found", what);
		break;
	case AH_EINVAL:
	case AH_ERANGE:
		api_error(c, 400, "invalid", NULL, "%s: %s", what, ah_strerror(rc));
		break;
	case AH_EBUSY:
		api_error(c, 503, "busy", NULL, "%s: the ledger is busy (%s); retry", what, sm && *sm ? sm : ah_strerror(rc));
		c->out->retry_after_s = 1;
		break;
	default:
		api_error(c, 500, "internal", NULL, "%s: %s%s%s", what, ah_strerror(rc), sm && *sm ? ": " : "",
			  sm ? sm : "");
	}
}

void ah_api_response_fini(ah_api_response *r)
{
	if (!r)
		return;
	free(r->body);
	r->body = NULL;
}

/* ---- lifetime ---- */

int ah_api_new(ah_service *svc, const ah_api_opts *o, int64_t now_ns, ah_api **out)
{
	(void)now_ns;
	if (!svc || !out)
		return AH_EINVAL;
	ah_api *a = calloc(1, sizeof *a);
	if (!a)
		return AH_ENOMEM;
	a->svc = svc;
	if (o)
		a->opts = *o;
	else
		ah_api_opts_init(&a->opts);
	snprintf(a->node_name, sizeof a->node_name, "%s", a->opts.node_name ? a->opts.node_name : "");
	a->opts.node_name = NULL; /* borrowed: the copy above is what stays */
	/* on etcd, idempotency keys expire on leases of etcd's own: the sweep
	 * deletes 512 a minute, far fewer than a busy cluster writes */
	ah_ledger *led = ah_service_ledger_get(svc);
	if (ah_ledger_is_etcd(led))
		(void)ah_ledger_etcd_set_idem_keep(led, a->opts.idem_keep_ns);
	api_versions_init(&a->ver);
	a->tokens.checked_ns = INT64_MIN;
	int rc = api_versions_load(a);
	if (rc == 0)
		rc = api_tokens_load(a);
	ah_engine_observer obs = {.ctx = a, .on_event = api_on_change};
	if (rc == 0)
		rc = ah_service_add_observer(svc, &obs);
	ah_engine_observer enf = {.ctx = a, .on_event = api_enf_on_change}; /* [linux] enforce_api */
	if (rc == 0)
		rc = ah_service_add_observer(svc, &enf);
	api_tel_init(&a->tel, a->opts.sample_ns);
	if (rc == 0 && !(a->met = api_metrics_new(now_ns)))
		rc = AH_ENOMEM;
	if (rc == 0)
		api_metrics_seed(a);
	if (rc < 0) {
		ah_api_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

void ah_api_free(ah_api *a)
{
	if (!a)
		return;
	api_tokens_fini(&a->tokens);
	api_versions_fini(&a->ver);
	api_tel_fini(&a->tel);
	api_metrics_free(a->met);
	ah_observer_free(a->observer);
	api_enf_free(a->enf);
	for (size_t i = 0; i < a->n_idem; i++)
		free(a->idem[i].body);
	free(a->idem);
	free(a->touched);
	free(a);
}

void ah_api_stats_get(const ah_api *a, ah_api_stats *out)
{
	if (a && out)
		*out = a->stats;
}

int64_t ah_api_revision(const ah_api *a)
{
	return a ? a->ver.last_seq : 0;
}

/* ---- batches ---- */

int ah_api_batch_begin(ah_api *a, int64_t now_ns)
{
	if (!a || a->in_batch)
		return AH_ESTATE;
	int rc = ah_service_batch_begin(a->svc, now_ns);
	if (rc < 0)
		return rc;
	a->in_batch = true;
	return 0;
}

void ah_api_begin_failed(ah_api *a, int rc, ah_api_response *out)
{
	const char *sm = a ? ah_service_errmsg(a->svc) : NULL;
	api_call c = {.a = a, .out = out};
	api_error(&c, 503, "unavailable", NULL,
		  "the ledger could not start a transaction (%s%s%s); nothing was done, retry", ah_strerror(rc),
		  sm && *sm ? ": " : "", sm ? sm : "");
	out->retry_after_s = 1;
}

static void idem_pending_clear(ah_api *a)
{
	for (size_t i = 0; i < a->n_idem; i++)
		free(a->idem[i].body);
	a->n_idem = 0;
}

int ah_api_batch_end(ah_api *a, ah_api_response *resp, size_t n, int64_t now_ns)
{
	if (!a || !a->in_batch)
		return AH_ESTATE;
	a->in_batch = false;
	int64_t t0 = mono_ns();
	int rc = ah_service_batch_end(a->svc, now_ns);
	a->stats.commit_ns += mono_ns() - t0;
	a->stats.batches++;
	api_metrics_batch(a->met, rc == 0, n, mono_ns() - t0);
	idem_pending_clear(a);
	if (rc < 0) {
		const char *sm = ah_service_errmsg(a->svc);
		for (size_t i = 0; i < n; i++) {
			if (!resp[i].write)
				continue;
			api_call c = {.a = a, .out = &resp[i]};
			api_error(&c, 503, "commit_failed", NULL,
				  "the ledger could not commit this answer (%s%s%s); nothing of it happened, retry",
				  ah_strerror(rc), sm && *sm ? ": " : "", sm ? sm : "");
			resp[i].retry_after_s = 1;
		}
		return rc;
	}
	api_versions_refresh(a);
	return 0;
}

/* ---- idempotency ---- */

static void request_hash(const ah_api_request *rq, uint8_t out[32])
{
	size_t ml = strlen(rq->method), pl = strlen(rq->path);
	size_t n = ml + 1 + pl + 1 + rq->body_len;
	char *buf = malloc(n ? n : 1);
	if (!buf) {
		memset(out, 0, 32);
		return;
	}
	memcpy(buf, rq->method, ml + 1);
	memcpy(buf + ml + 1, rq->path, pl + 1);
	if (rq->body_len)
		memcpy(buf + ml + pl + 2, rq->body, rq->body_len);
	api_sha256(buf, n, out);
	free(buf);
}

typedef struct {
	bool found;
	int status;
	char *body;
	uint8_t hash[32];
} idem_hit;

static int idem_take(void *ctx, const ah_idem_row *r)
{
	idem_hit *h = ctx;
	h->found = true;
	h->status = r->status;
	h->body = strdup(r->body ? r->body : "");
	memcpy(h->hash, r->req_hash, 32);
	return 0;
}

/* A stored answer is kept compact (every byte of it goes through etcd's
 * gateway and raft log on a shared ledger) and rendered as the API renders
 * answers when it is given again; an answer that is not JSON is kept and
 * given as it was. */
static char *idem_compact(const char *body)
{
	json_t *j = json_loads(body, 0, NULL);
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
	json_decref(j);
	return s;
}

static void idem_render(char **body)
{
	json_t *j = *body ? json_loads(*body, 0, NULL) : NULL;
	char *s = j ? ah_json_dumps(j) : NULL;
	json_decref(j);
	if (s) {
		free(*body);
		*body = s;
	}
}

/* A retry of an answered request: answers it again and returns true. */
static bool idem_replay(api_call *c, const char *key, const uint8_t hash[32])
{
	ah_api *a = c->a;
	idem_hit h = {0};
	for (size_t i = 0; i < a->n_idem && !h.found; i++)
		if (!strcmp(a->idem[i].scope, c->who->name) && !strcmp(a->idem[i].key, key)) {
			h.found = true;
			h.status = a->idem[i].status;
			h.body = strdup(a->idem[i].body);
			memcpy(h.hash, a->idem[i].hash, 32);
		}
	if (!h.found) {
		int rc = ah_ledger_idem_get(ah_service_ledger_get(a->svc), c->who->name, key, idem_take, &h);
		if (rc < 0 && rc != AH_ENOENT) {
			api_error_rc(c, rc, "idempotency key lookup");
			return true;
		}
	}
	if (!h.found)
		return false;
	idem_render(&h.body);
	if (memcmp(h.hash, hash, 32)) {
		free(h.body);
		api_error(c, 422, "idempotency_key_reused", "Idempotency-Key",
			  "this Idempotency-Key was used for a different request (method, path or body)");
		return true;
	}
	c->out->status = h.status;
	free(c->out->body);
	c->out->body = h.body;
	c->out->body_len = h.body ? strlen(h.body) : 0;
	c->out->content_type = "application/json";
	snprintf(c->out->outcome, sizeof c->out->outcome, "replayed"); /* the audit says it was a retry */
	return true;
}

static void idem_store(api_call *c, const char *key, const uint8_t hash[32])
{
	ah_api *a = c->a;
	if (c->out->status >= 500 || !c->out->body)
		return; /* a failure is not an answer: a retry runs again */
	/* the answer's compact copy from api_reply, or made from its text */
	char *compact = c->compact && c->compact_of == c->out->body ? c->compact : idem_compact(c->out->body);
	if (compact != c->compact)
		free(c->compact);
	c->compact = NULL;
	ah_idem_row r = {.scope = c->who->name, .key = key, .status = c->out->status,
			 .body = compact ? compact : c->out->body, .t_ns = c->now_ns};
	memcpy(r.req_hash, hash, 32);
	int rc = ah_ledger_idem_put(ah_service_ledger_get(a->svc), &r);
	free(compact);
	if (rc < 0)
		return;
	if (a->n_idem == a->cap_idem) {
		size_t cap = a->cap_idem ? a->cap_idem * 2 : 64;
		api_idem_pending *p = realloc(a->idem, cap * sizeof *p);
		if (!p)
			return;
		a->idem = p;
		a->cap_idem = cap;
	}
	api_idem_pending *p = &a->idem[a->n_idem];
	snprintf(p->scope, sizeof p->scope, "%s", c->who->name);
	snprintf(p->key, sizeof p->key, "%s", key);
	memcpy(p->hash, hash, 32);
	p->status = c->out->status;
	if ((p->body = strdup(c->out->body)))
		a->n_idem++;
}

/* The key's grammar: 1..AH_IDEM_KEY_MAX printable ASCII bytes. */
static bool idem_key_ok(const char *k)
{
	size_t n = strlen(k);
	if (!n || n > AH_IDEM_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)k[i] < 0x21 || (unsigned char)k[i] > 0x7e)
			return false;
	return true;
}

/* ---- audit ---- */

static const char *outcome_of(const ah_api_response *r, char *buf, size_t len)
{
	/* what api_reply saw; a replayed or raw answer says its status */
	if (r->outcome[0])
		return r->outcome;
	snprintf(buf, len, "%d", r->status);
	return buf;
}

static void audit(ah_api *a, const ah_api_request *rq, const api_principal *who, const ah_api_response *r,
		  int64_t now_ns)
{
	char oc[64];
	ah_audit_row row = {
		.t_ns = now_ns,
		.who = who->authenticated ? who->id : "-",
		.name = who->authenticated ? who->name : "",
		.role = who->authenticated ? ah_role_name(who->role) : "",
		.tenant = who->tenant,
		.source = rq->source ? rq->source : "",
		.method = rq->method,
		.path = rq->path,
		.status = r->status,
		.outcome = outcome_of(r, oc, sizeof oc),
		.detail = rq->idempotency_key && idem_key_ok(rq->idempotency_key) ? rq->idempotency_key : "",
	};
	(void)ah_ledger_audit_put(ah_service_ledger_get(a->svc), &row);
}

/* ---- dispatch ---- */

static bool check_text(api_call *c, const char *what, const char *s)
{
	const char *why = NULL;
	if (s && ah_name_check_text(s, strlen(s), &why) < 0) {
		api_error(c, 400, "invalid", what, "%s: %s", what, why ? why : "not valid text");
		return false;
	}
	return true;
}

/* A shared ledger's instance is not ready while its watch has been down
 * this long: its view may be stale and its writes are likely to fail (a
 * load balancer should send clients to another instance). */
#define READY_WATCH_DOWN_NS (INT64_C(5) * 1000000000)

static void health(api_call *c, bool ready)
{
	const ah_api *a = c->a;
	if (ready && a->follow.watching && a->follow_down_mono_ns &&
	    mono_ns() - a->follow_down_mono_ns > READY_WATCH_DOWN_NS) {
		api_error(c, 503, "unavailable", NULL,
			  "not ready: the watch on the etcd ledger has been down for %lld s (%.200s); this instance's view may be stale",
			  (long long)((mono_ns() - a->follow_down_mono_ns) / 1000000000),
			  a->follow_err[0] ? a->follow_err : "no member answered");
		return;
	}
	json_t *o = json_pack("{s:s}", "status", "ok");
	if (ready) {
		json_object_set_new(o, "revision", json_integer(a->ver.last_seq));
		if (a->follow.watching)
			json_object_set_new(o, "view_revision", json_integer(a->follow.view_rev));
	}
	api_reply(c, 200, o);
}

static bool decode_body(api_call *c, const route *r)
{
	const ah_api_request *rq = c->rq;
	if (!rq->body || !rq->body_len)
		return true;
	/* PUT /v1/policy also takes the policy file itself as text/plain */
	if (r->fn == api_policy_put && rq->content_type && !strncmp(rq->content_type, "text/plain", 10))
		return true;
	int64_t t0 = mono_ns();
	json_error_t je;
	/* JSON_REJECT_DUPLICATES: {"tenant": "a", "tenant": "b"} is not one request. */
	c->body = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &je);
	c->a->stats.parse_ns += mono_ns() - t0;
	if (!c->body) {
		api_error(c, 400, "malformed_json", NULL, "the body is not JSON: %s at line %d, column %d", je.text,
			  je.line, je.column);
		return false;
	}
	if (!json_is_object(c->body)) {
		api_error(c, 400, "invalid", NULL, "the body must be a JSON object");
		return false;
	}
	return true;
}

static void run_route(api_call *c, const route *r)
{
	if (!r->fn) {
		health(c, !strcmp(r->path, "/readyz"));
		return;
	}
	int64_t t0 = mono_ns();
	r->fn(c);
	c->a->stats.engine_ns += mono_ns() - t0;
}

void ah_api_handle(ah_api *a, const ah_api_request *rq, int64_t now_ns, ah_api_response *out)
{
	memset(out, 0, sizeof *out);
	snprintf(out->who, sizeof out->who, "-");
	api_principal who = {.id = "-"};
	api_call c = {.a = a, .rq = rq, .who = &who, .now_ns = now_ns, .out = out};
	char param[AH_WORKLOAD_MAX + 1];
	bool known = false;
	a->stats.requests++;
	out->write = writing_method(rq->method);
	if (out->write)
		a->stats.writes++;

	if (!rq->method || !rq->path) {
		api_error(&c, 400, "invalid", NULL, "no method or path");
		return;
	}
	if (!check_text(&c, "path", rq->path))
		return;
	const route *r = find_route(rq->method, rq->path, param, sizeof param, &known);
	if (!r) {
		if (known)
			api_error(&c, 405, "method_not_allowed", NULL, "%s is not allowed on %s", rq->method, rq->path);
		else
			api_error(&c, 404, "not_found", NULL, "no such route: %s", rq->path);
		goto audit_out;
	}
	c.param = param[0] ? param : NULL;
	if (rq->too_many_args) {
		api_error(&c, 400, "invalid", NULL, "more than %d query arguments", AH_API_MAX_ARGS);
		goto audit_out;
	}
	/* query arguments are outside text like the path (a filter such as
	 * ?tenant=%FF answered 200 with nothing rather than an error) */
	for (int i = 0; i < rq->n_args; i++)
		if (!check_text(&c, "query", rq->args[i].key) || !check_text(&c, rq->args[i].key, rq->args[i].value))
			goto audit_out;
	if (r->roles) {
		const char *why = NULL;
		int rc = api_authenticate(a, rq->authorization, now_ns, &who, &why);
		if (rc < 0) {
			api_error_rc(&c, rc, "token lookup");
			goto audit_out;
		}
		if (!who.authenticated) {
			api_error(&c, 401, "unauthorized", "Authorization", "%s", why ? why : "a bearer token is required");
			goto audit_out;
		}
		snprintf(out->who, sizeof out->who, "%s", who.id);
		if (!(r->roles & (1u << who.role))) {
			api_error(&c, 403, "forbidden", NULL, "role %s may not %s %s", ah_role_name(who.role), rq->method,
				  r->path);
			goto audit_out;
		}
	}
	if (r->kind == K_WRITE && !a->in_batch) {
		api_error(&c, 500, "internal", NULL, "a write outside a batch");
		goto audit_out;
	}
	if (r->kind == K_EXCLUSIVE && a->in_batch) {
		api_error(&c, 500, "internal", NULL, "a policy edit inside a batch");
		goto audit_out;
	}
	uint8_t hash[32];
	const char *key = r->kind != K_READ ? rq->idempotency_key : NULL;
	if (key) {
		if (!idem_key_ok(key)) {
			api_error(&c, 400, "invalid", "Idempotency-Key",
				  "Idempotency-Key: 1 to %d printable ASCII characters", AH_IDEM_KEY_MAX);
			goto audit_out;
		}
		request_hash(rq, hash);
		if (idem_replay(&c, key, hash))
			goto audit_out;
	}
	c.keep_compact = key != NULL;
	if (decode_body(&c, r))
		run_route(&c, r);
	json_decref(c.body);
	c.body = NULL;
	/* A policy edit ran in its own transactions (the policy path's); its
	 * key and audit line get one of their own after it. */
	bool own = r->kind == K_EXCLUSIVE && !a->in_batch && ah_api_batch_begin(a, now_ns) == 0;
	if (key)
		idem_store(&c, key, hash);
	free(c.compact);
	if (out->write)
		audit(a, rq, &who, out, now_ns);
	if (own)
		(void)ah_api_batch_end(a, NULL, 0, now_ns);
	return;
audit_out:
	json_decref(c.body);
	c.body = NULL;
	if (out->write) {
		bool mine = !a->in_batch && ah_api_batch_begin(a, now_ns) == 0;
		audit(a, rq, &who, out, now_ns);
		if (mine)
			(void)ah_api_batch_end(a, NULL, 0, now_ns);
	}
}
