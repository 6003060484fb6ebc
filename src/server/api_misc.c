/* The smaller routes: the audit log, where the time went, the OpenAPI
 * document, and a workload's recommendation (its history: api_shadow.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/duration.h"
#include "ahead/error.h"
#include "ahead/history.h"
#include "ahead/id.h"
#include "ahead/ledger_sqlite.h"
#include "ahead/names.h"
#include "ahead/timestamp.h"
#include "server/api_int.h"

/* docs/openapi.json, embedded at build time (CMakeLists.txt) */
extern const unsigned char ah_openapi_doc[];
extern const size_t ah_openapi_doc_len;

typedef struct {
	json_t *items;
} audit_ctx;

static int add_audit(void *ctx, const ah_audit_row *r)
{
	audit_ctx *a = ctx;
	json_t *o = json_object();
	json_object_set_new(o, "seq", json_integer(r->seq));
	json_object_set_new(o, "time", ah_json_time(r->t_ns));
	json_object_set_new(o, "who", ah_json_text(r->who));
	json_object_set_new(o, "name", ah_json_text(r->name));
	json_object_set_new(o, "role", ah_json_text(r->role));
	json_object_set_new(o, "tenant", r->tenant && *r->tenant ? ah_json_text(r->tenant) : json_null());
	json_object_set_new(o, "source", ah_json_text(r->source));
	json_object_set_new(o, "method", ah_json_text(r->method));
	json_object_set_new(o, "path", ah_json_text(r->path));
	json_object_set_new(o, "status", json_integer(r->status));
	json_object_set_new(o, "outcome", ah_json_text(r->outcome));
	json_object_set_new(o, "idempotency_key", r->detail && *r->detail ? ah_json_text(r->detail) : json_null());
	json_array_append_new(a->items, o);
	return 0;
}

void api_audit_list(api_call *c)
{
	ah_audit_query q = {.limit = 1000};
	const char *s;
	uint64_t v;
	if ((s = api_arg(c, "after"))) {
		if (ah_id_parse(s, &v) < 0 && strcmp(s, "0")) {
			api_error(c, 400, "invalid", "after", "after: an audit seq");
			return;
		}
		q.after_seq = strcmp(s, "0") ? (int64_t)v : 0;
	}
	if ((s = api_arg(c, "limit"))) {
		if (ah_id_parse(s, &v) < 0 || v > 100000) {
			api_error(c, 400, "invalid", "limit", "limit: 1 to 100000");
			return;
		}
		q.limit = (int)v;
	}
	if ((s = api_arg(c, "since")) && ah_time_parse(s, &q.since_ns) < 0) {
		api_error(c, 400, "invalid", "since", "since: an RFC 3339 time or epoch seconds");
		return;
	}
	q.who = api_arg(c, "who");
	audit_ctx a = {.items = json_array()};
	int rc = ah_ledger_audit_list(ah_service_ledger_get(c->a->svc), &q, add_audit, &a);
	if (rc < 0) {
		json_decref(a.items);
		api_error_rc(c, rc, "audit");
		return;
	}
	api_reply(c, 200, api_json_list(c->a, a.items));
}

void api_stats(api_call *c)
{
	const ah_api_stats *s = &c->a->stats;
	json_t *o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "requests", (json_int_t)s->requests, "writes",
			      (json_int_t)s->writes, "batches", (json_int_t)s->batches, "parse_ns",
			      (json_int_t)s->parse_ns, "engine_ns", (json_int_t)s->engine_ns, "commit_ns",
			      (json_int_t)s->commit_ns, "json_ns", (json_int_t)s->json_ns);
	long long passes, catchups;
	int frames;
	/* a SQLite ledger's background checkpoints (ledger_sqlite.h) */
	if (o && ah_ledger_sqlite_checkpoint_stats(ah_service_ledger_get(c->a->svc), &passes, &catchups, &frames) == 0)
		json_object_update_new(o, json_pack("{s:I,s:I,s:i}", "checkpoint_passes", (json_int_t)passes,
						    "checkpoint_catchups", (json_int_t)catchups, "wal_frames", frames));
	api_reply(c, 200, o);
}

void api_openapi(api_call *c)
{
	c->out->status = 200;
	c->out->body = malloc(ah_openapi_doc_len + 1);
	if (!c->out->body) {
		api_error_rc(c, AH_ENOMEM, "openapi");
		return;
	}
	memcpy(c->out->body, ah_openapi_doc, ah_openapi_doc_len);
	c->out->body[ah_openapi_doc_len] = '\0';
	c->out->body_len = ah_openapi_doc_len;
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

void api_workload_recommend(api_call *c)
{
	if (!workload_ok(c))
		return;
	const char *klass = api_arg(c, "class"), *params = api_arg(c, "params");
	ah_service_recommendation r;
	char err[512];
	int rc = ah_service_recommend(c->a->svc, c->param, params, klass, &r, err, sizeof err);
	if (rc == AH_ENOENT) {
		json_t *safe = ah_json_text(err);
		api_error(c, 404, "no_history", NULL, "%s", json_string_value(safe));
		json_decref(safe);
		return;
	}
	if (rc < 0) {
		json_t *safe = ah_json_text(err);
		api_error(c, rc == AH_EINVAL ? 400 : 500, rc == AH_EINVAL ? "invalid" : "internal", NULL, "%s",
			  json_string_value(safe));
		json_decref(safe);
		return;
	}
	api_reply(c, 200, ah_json_recommendation(ah_service_policy_get(c->a->svc), c->param, klass, &r));
}

/* ---- anomalies: what `ahead anomalies --store` (and later the daemon's
 * own detector) recorded in the usage history ---- */

typedef struct {
	json_t *items;
	int64_t since_ns;
	size_t limit;
} anomaly_ctx;

static int add_anomaly(void *ctx, const ah_shadow_anomaly *a)
{
	anomaly_ctx *x = ctx;
	if (a->end_ns < x->since_ns)
		return 0;
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(a->id));
	json_object_set_new(o, "workload", ah_json_text(a->workload));
	json_object_set_new(o, "dim", ah_json_text(a->dim));
	json_object_set_new(o, "start", ah_json_time(a->start_ns));
	json_object_set_new(o, "end", ah_json_time(a->end_ns));
	json_object_set_new(o, "score", json_real(a->score));
	json_array_append_new(x->items, o);
	/* newest kept: drop the oldest beyond the limit */
	if (json_array_size(x->items) > x->limit)
		json_array_remove(x->items, 0);
	return 0;
}

void api_anomalies_list(api_call *c)
{
	const char *wl = c->param ? c->param : api_arg(c, "workload"), *s;
	anomaly_ctx x = {.items = json_array(), .limit = 1000};
	uint64_t lim;
	if (wl && ah_name_check_workload(wl) < 0) {
		json_decref(x.items);
		api_error(c, 400, "invalid", "workload", "not a workload name");
		return;
	}
	if ((s = api_arg(c, "since")) && ah_time_parse(s, &x.since_ns) < 0) {
		json_decref(x.items);
		api_error(c, 400, "invalid", "since", "since: an RFC 3339 time or epoch seconds");
		return;
	}
	if ((s = api_arg(c, "limit"))) {
		if (ah_id_parse(s, &lim) < 0 || lim > 100000) {
			json_decref(x.items);
			api_error(c, 400, "invalid", "limit", "limit: 1 to 100000");
			return;
		}
		x.limit = (size_t)lim;
	}
	char err[512];
	ah_history *h = NULL;
	int rc = ah_history_open(ah_service_db_path(c->a->svc), NULL, false, &h, err, sizeof err);
	if (rc == 0)
		rc = ah_history_anomalies_list(h, wl, add_anomaly, &x, err, sizeof err);
	ah_history_free(h);
	if (rc < 0 && rc != AH_ENOENT) {
		json_decref(x.items);
		json_t *safe = ah_json_text(err);
		api_error(c, 500, "internal", NULL, "%s", json_string_value(safe));
		json_decref(safe);
		return;
	}
	/* no history store yet: no anomalies */
	api_reply(c, 200, api_json_list(c->a, x.items));
}
