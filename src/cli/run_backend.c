/* ahead run: the service (a local ledger) or the daemon (--server) behind
 * one interface (cli/run.h). The local ledger stays open for the run: its
 * service reloads what other processes commit before each call. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/encode.h"
#include "ahead/error.h"
#include "ahead/service_run.h"
#include "ahead/usage.h"
#include "cli/params.h"
#include "cli/run.h"

int run_be_open(run_backend *b, const char *db, const char *shadow_db, const ah_client_opts *co)
{
	if (b->remote) {
		int ex = ah_client_open(b->cmd, co, &b->cl);
		if (ex)
			return ex;
		ex = ah_client_policy(b->cl, &b->rpol);
		if (ex)
			b->unreachable = true; /* the caller decides (run_unreachable) */
		return ex;
	}
	b->db = db;
	b->shadow_db = shadow_db;
	int ex = ah_cli_refuse_if_owned(b->cmd, db);
	if (ex)
		return ex;
	if ((ex = ah_cli_open(b->cmd, db, shadow_db, ah_cli_now_ns(), &b->ctx)))
		return ex;
	b->open = true;
	return 0;
}

void run_be_close(run_backend *b)
{
	if (b->open)
		ah_cli_close(&b->ctx);
	b->open = false;
	ah_policy_free(b->rpol);
	b->rpol = NULL;
	ah_client_free(b->cl);
	b->cl = NULL;
}

const ah_policy *run_be_policy(const run_backend *b)
{
	if (b->remote)
		return b->rpol;
	return b->open ? ah_service_policy_get(b->ctx.svc) : NULL;
}

int run_be_request(run_backend *b, const ah_request *rq, ah_decision *d, ah_shadow_prediction_info *info,
		   bool *have_info)
{
	*have_info = false;
	if (!b->remote) {
		ah_service_decision sd;
		int rc = ah_service_request(b->ctx.svc, rq, ah_cli_now_ns(), &sd);
		if (rc < 0) {
			int ex = ah_cli_fail(&b->ctx, rc, NULL);
			ah_cli_err(b->cmd, "nothing was allocated");
			return ex;
		}
		*d = sd.d;
		if (sd.have_info) {
			*info = sd.info;
			*have_info = true;
		}
		return 0;
	}
	const ah_policy *pol = b->rpol;
	json_t *body = json_pack("{s:s,s:s}", "tenant", rq->tenant, "pool", rq->pool), *o = NULL;
	if (rq->klass)
		json_object_set_new(body, "class", json_string(rq->klass));
	if (!ah_vec_is_zero(&rq->res, pol->dims.n))
		json_object_set_new(body, "resources", ah_json_vec(&pol->dims, &rq->res, 0));
	if (rq->workload)
		json_object_set_new(body, "workload", json_string(rq->workload));
	if (rq->params && *rq->params)
		json_object_set_new(body, "params", ah_cli_params_json(rq->params));
	if (rq->queue_timeout_ns == 0)
		json_object_set_new(body, "queue", json_false());
	long st;
	int ex = ah_client_call(b->cl, "POST", "/v1/allocations", body, &st, &o);
	json_decref(body);
	if (ex) {
		b->unreachable = true;
		return ex;
	}
	if ((st != 201 && st != 202 && st != 409 && st != 422 && st != 429) ||
	    ah_client_decode_decision(pol, o, d, info, have_info) < 0) {
		ex = ah_client_fail(b->cl, st, o);
		ah_cli_err(b->cmd, "nothing was allocated");
		json_decref(o);
		return ex ? ex : AH_EXIT_INTERNAL;
	}
	json_decref(o);
	return 0;
}

int run_be_poll(run_backend *b, uint64_t id, ah_vec *res, int *position)
{
	*position = 0;
	if (!b->remote) {
		int64_t now = ah_cli_now_ns();
		ah_service_tick_out tk;
		/* the tick times out queued requests, reclaims expired leases and
		 * grants what then fits (another process's release granted it
		 * already if it fit then) */
		int rc = ah_service_tick(b->ctx.svc, now, &tk);
		if (rc < 0)
			return ah_cli_fail(&b->ctx, rc, "waiting in the queue");
		ah_engine_item it;
		rc = ah_engine_get(ah_service_engine_get(b->ctx.svc), id, &it);
		if (rc == AH_ENOENT) {
			ah_cli_err(b->cmd, "%llu: no longer queued (timed out); nothing was run", (unsigned long long)id);
			return AH_EXIT_REFUSED;
		}
		if (rc < 0)
			return AH_EXIT_INTERNAL;
		if (it.queued)
			return 0;
		*res = *it.res;
		return 1;
	}
	char path[64];
	snprintf(path, sizeof path, "/v1/allocations/%llu", (unsigned long long)id);
	long st;
	json_t *o = NULL;
	int ex = ah_client_call(b->cl, "GET", path, NULL, &st, &o);
	if (ex)
		return ex;
	int ret = 0;
	if (st == 404) {
		ah_cli_err(b->cmd, "%llu: no longer queued (timed out); nothing was run", (unsigned long long)id);
		ret = AH_EXIT_REFUSED;
	} else if (st != 200) {
		ret = ah_client_fail(b->cl, st, o);
	} else {
		ah_engine_item it;
		ah_vec r;
		char params[AH_PARAMS_MAX + 1];
		if (ah_client_decode_item(b->rpol, o, &r, params, sizeof params, &it) < 0) {
			ret = AH_EXIT_INTERNAL;
		} else if (!it.queued) {
			*res = r;
			ret = 1;
		}
	}
	json_decref(o);
	return ret;
}

int run_be_report(run_backend *b, uint64_t id, const ah_vec *usage, ah_adjust_outcome *o)
{
	if (!b->remote) {
		ah_service_report_out ro;
		int rc = ah_service_report(b->ctx.svc, id, usage, ah_cli_now_ns(), &ro);
		if (rc == 0)
			*o = ro.o;
		return rc;
	}
	json_t *body = json_pack("{s:o}", "usage", ah_json_vec(&b->rpol->dims, usage, AH_USAGE_NONE)), *out = NULL;
	char path[64];
	snprintf(path, sizeof path, "/v1/allocations/%llu/usage", (unsigned long long)id);
	long st;
	ah_client_next_key(b->cl); /* each report is a new write, not a retry of the last */
	int ex = ah_client_call(b->cl, "POST", path, body, &st, &out);
	json_decref(body);
	if (ex)
		return AH_EIO;
	int rc = st == 404 ? AH_ENOENT : st != 200 || ah_client_decode_report(b->rpol, out, o) < 0 ? AH_EIO : 0;
	json_decref(out);
	return rc;
}

int run_be_release(run_backend *b, uint64_t id)
{
	if (!b->remote) {
		int rc = ah_service_release(b->ctx.svc, id, ah_cli_now_ns());
		if (rc < 0 && rc != AH_ENOENT)
			ah_cli_fail(&b->ctx, rc, "release");
		return rc;
	}
	char path[64];
	snprintf(path, sizeof path, "/v1/allocations/%llu", (unsigned long long)id);
	long st;
	json_t *out = NULL;
	ah_client_next_key(b->cl);
	int ex = ah_client_call(b->cl, "DELETE", path, NULL, &st, &out);
	json_decref(out);
	if (ex)
		return AH_EIO;
	return st == 404 ? AH_ENOENT : st == 200 ? 0 : AH_EIO;
}

void run_be_event(run_backend *b, uint64_t id, const char *reason, const char *detail, const ah_vec *res)
{
	if (b->remote || !b->open)
		return;
	int rc = ah_service_run_event(b->ctx.svc, id, reason, detail, NULL, res, ah_cli_now_ns());
	if (rc < 0)
		ah_cli_err(b->cmd, "warning: %llu: run event not recorded (%s)", (unsigned long long)id, ah_strerror(rc));
}
