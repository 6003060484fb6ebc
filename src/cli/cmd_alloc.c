/* ahead alloc|release|renew|tick|report: the request path from the command
 * line. Each invocation opens the ledger, rebuilds the engine, answers, and
 * the answer is committed before it is printed.
 *
 * With --workload, the path goes through the shadow store beside the ledger
 * (docs/SHADOW.md, "Predict, then reserve"): alloc is sized by the
 * predictor over its history and records the allocation as a request
 * record; report appends usage to the workload's series and the record's
 * running peak; release ends the record, which the next prediction learns
 * from. The shadow store is history, never a gate: if it is missing or
 * broken the ledger command still runs, with a warning on stderr. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/policy.h"
#include "ahead/predictor_shadow.h"
#include "ahead/encode.h"
#include "ahead/service.h"
#include "ahead/usage.h" /* the workload and parameter grammar */
#include "cli/cli.h"
#include "cli/params.h"
#include "cli/client.h"
#include "cli/opts.h"

static void alloc_usage(FILE *f)
{
	fprintf(f,
		"usage: ahead alloc --tenant T --pool P (--res RESOURCES | --workload W) [options]\n\n"
		"Requests an allocation. The answer is granted (exit 0), queued (exit 4)\n"
		"or refused with a reason code (exit 3).\n\n"
		"  -t, --tenant T          tenant name (required)\n"
		"  -p, --pool P            pool name (required)\n"
		"  -c, --class C           priority class (default: the policy's default_class)\n"
		"  -r, --res RESOURCES     e.g. cpu=2,memory=512Mi,qubits=4 (required without --workload)\n"
		"  -w, --workload W        size by prediction from W's history in the shadow store\n"
		"                          (the class's quantile plus margin; its 'prediction' mode\n"
		"                          says whether it may change stated --res); the allocation\n"
		"                          is recorded there, and its reports and release feed back\n"
		"  -P, --param KEY=VALUE   request parameter, kept for prediction (repeatable)\n"
		"      --params K=V,...    several parameters at once (e.g. rows=7,kind=etl)\n"
		"  -l, --lease DURATION    lease length, e.g. 30s, 5m, 1h (default: class/policy)\n"
		"  -q, --queue-timeout D   how long to wait in the queue (default: class/policy)\n"
		"      --no-queue          refuse instead of queueing\n"
		"      --replicas N        N allocations of the same request (1-64), each granted,\n"
		"                          queued or refused on its own; on a pool on nodes they\n"
		"                          spread across nodes. Exit 0 only when all are granted\n"
		"      --node-labels L     pools on nodes: only on nodes carrying the labels L\n"
		"                          (K=V,K=V...), for the allocation's life\n"
		"      --db PATH           ledger database (default $AHEAD_DB, else ./ahead.db), or\n"
		"                          etcd://HOST:PORT[,...]/PREFIX (docs/CLUSTER.md)\n"
		"      --shadow-db PATH    shadow store (default: beside the database, x-shadow.db;\n"
		"                          created by the first alloc --workload)\n"
		"  -o FORMAT               table (default) or json\n" AH_CLIENT_USAGE);
}

/* The dimensions a RESOURCES text names (bit i = dimension i): a report
 * that leaves a dimension out did not measure it, which is not a zero. */
static uint32_t named_dims(const ah_dimset *ds, const char *s)
{
	uint32_t mask = 0;
	while (s && *s) {
		while (*s == ' ' || *s == ',')
			s++;
		const char *eq = strchr(s, '='), *end = strchr(s, ',');
		if (!eq || (end && end < eq))
			break;
		char name[AH_NAME_MAX];
		size_t n = (size_t)(eq - s);
		while (n && s[n - 1] == ' ')
			n--;
		if (n < sizeof name) {
			memcpy(name, s, n);
			name[n] = '\0';
			int i = ah_dimset_find(ds, name);
			if (i >= 0 && i < 32)
				mask |= UINT32_C(1) << i;
		}
		s = end ? end + 1 : eq + strlen(eq);
	}
	return mask;
}

/* What the prediction rested on, per predicted dimension, for people
 * ("memory: regression on 12 requests"). */
static void fmt_sources(const ah_policy *pol, const ah_shadow_prediction_info *pi, char *buf, size_t len)
{
	size_t w = 0;
	buf[0] = '\0';
	for (int i = 0; i < pi->n_dims && i < pol->dims.n; i++) {
		if (pi->dim[i].source == AH_PSH_NONE)
			continue;
		const char *what = pi->dim[i].source == AH_PSH_SERIES ? "usage samples" : "requests";
		int k = snprintf(buf + w, len - w, "%s%s: %s on %zu %s", w ? ", " : "", pol->dims.name[i],
				 ah_psh_source_name(pi->dim[i].source), pi->dim[i].n, what);
		if (k < 0 || (size_t)k >= len - w)
			break;
		w += (size_t)k;
	}
}

/* One decision for people; node: where it was placed ("" or NULL: none). */
static void print_decision(const ah_decision *d, const ah_policy *pol, const char *workload,
			   const ah_shadow_prediction_info *pi, const char *node)
{
	char res[1024] = "", t1[40] = "", pred[1024] = "", src[512] = "";
	ah_vec_format_human(&pol->dims, &d->res, res, sizeof res);
	if (d->predicted)
		ah_vec_format_human(&pol->dims, &d->prediction, pred, sizeof pred);
	if (d->predicted && pi)
		fmt_sources(pol, pi, src, sizeof src);
	switch (d->outcome) {
	case AH_GRANTED:
		ah_cli_fmt_time(d->lease_expires_ns, t1, sizeof t1);
		printf("granted  id=%llu  %s  lease until %s", (unsigned long long)d->id, res, t1);
		if (node && *node)
			printf("  on node %s", node);
		if (d->n_preempted)
			printf("  (preempted %d)", d->n_preempted);
		printf("\n");
		break;
	case AH_QUEUED:
		ah_cli_fmt_time(d->queue_deadline_ns, t1, sizeof t1);
		printf("queued   id=%llu  %s  position %d, waits until %s\n", (unsigned long long)d->id, res,
		       d->queue_position, t1);
		break;
	case AH_REFUSED:
		printf("refused  %s: %s\n", ah_reason_code(d->reason), d->message);
		break;
	}
	if (d->corrections[0])
		printf("corrected: %s\n", d->corrections);
	if (d->predicted) {
		if (pi)
			printf("predicted: %s at p%g for %s (%s)\n", pred, pi->q * 100, workload, src);
		else
			printf("predicted: %s for %s\n", pred, workload);
	}
}

/* Where a granted allocation was placed ("" off nodes). */
static const char *node_of(ah_cli_ctx *ctx, const ah_decision *d)
{
	ah_engine_item it;
	if (d->outcome != AH_GRANTED || ah_engine_get(ah_service_engine_get(ctx->svc), d->id, &it) < 0)
		return "";
	return it.node ? it.node : "";
}

/* The API's shape (docs/API.md): the lead replica at the top level, with
 * its node; every replica in "replicas" when more than one was asked. */
static void print_decisions_json(ah_cli_ctx *ctx, const ah_service_decision *sd, int n, int lead)
{
	json_t *objs[AH_PLACE_REPLICAS_MAX];
	for (int i = 0; i < n; i++) {
		json_t *o = ah_json_decision(ctx->pol, &sd[i].d, sd[i].workload, sd[i].have_info ? &sd[i].info : NULL);
		const char *node = node_of(ctx, &sd[i].d);
		if (*node)
			json_object_set_new(o, "node", ah_json_text(node));
		objs[i] = o;
	}
	json_t *top = ah_json_replicas(objs, n, lead);
	char *s = ah_json_dumps(top);
	printf("%s\n", s ? s : "{}");
	free(s);
	json_decref(top);
}

/* A duration for the API: whole seconds as an integer, else a real. */
static json_t *seconds_json(int64_t ns)
{
	if (ns % 1000000000LL == 0)
		return json_integer(ns / 1000000000LL);
	return json_real((double)ns / 1e9);
}

/* alloc with --server: POST /v1/allocations, the answer printed as the
 * local command prints its decision. */
static int alloc_remote(const ah_client_opts *co, const ah_request *rq, int replicas, const char *res_text,
			ah_out_fmt fmt)
{
	ah_client *cl = NULL;
	ah_policy *pol = NULL;
	json_t *body = NULL, *o = NULL;
	int ex = ah_client_open("alloc", co, &cl);
	if (ex || (ex = ah_client_policy(cl, &pol)))
		goto out;
	ah_vec res;
	char err[256];
	memset(&res, 0, sizeof res);
	if (res_text && ah_vec_parse(&pol->dims, res_text, &res, err, sizeof err) < 0) {
		ah_cli_err("alloc", "--res: %s", err);
		ex = AH_EXIT_USAGE;
		goto out;
	}
	body = json_pack("{s:s,s:s}", "tenant", rq->tenant, "pool", rq->pool);
	if (rq->klass)
		json_object_set_new(body, "class", json_string(rq->klass));
	if (res_text)
		json_object_set_new(body, "resources", ah_json_vec(&pol->dims, &res, 0));
	if (rq->workload)
		json_object_set_new(body, "workload", json_string(rq->workload));
	if (rq->params && *rq->params)
		json_object_set_new(body, "params", ah_cli_params_json(rq->params));
	if (rq->lease_ttl_ns)
		json_object_set_new(body, "lease", seconds_json(rq->lease_ttl_ns));
	if (replicas > 1)
		json_object_set_new(body, "replicas", json_integer(replicas));
	if (rq->node_labels)
		json_object_set_new(body, "node_labels", json_string(rq->node_labels));
	if (rq->queue_timeout_ns == 0)
		json_object_set_new(body, "queue", json_false());
	else if (rq->queue_timeout_ns > 0)
		json_object_set_new(body, "queue_timeout", seconds_json(rq->queue_timeout_ns));
	long st;
	if ((ex = ah_client_call(cl, "POST", "/v1/allocations", body, &st, &o))) {
		ah_cli_err("alloc", "no answer from the daemon; a retry with the same Idempotency-Key never allocates twice");
		goto out;
	}
	ah_decision d;
	ah_shadow_prediction_info pi;
	bool have_pi;
	if ((st != 201 && st != 202 && st != 409 && st != 422 && st != 429) ||
	    ah_client_decode_decision(pol, o, &d, &pi, &have_pi) < 0) {
		ex = ah_client_fail(cl, st, o);
		ah_cli_err("alloc", "nothing was allocated");
		goto out;
	}
	/* the top level is the replica that stands for all (its outcome is the
	 * exit code); "replicas" lists each when more than one was asked */
	json_t *reps = json_object_get(o, "replicas");
	if (fmt == AH_OUT_JSON)
		ah_client_print_json(o);
	else if (!json_is_array(reps))
		print_decision(&d, pol, rq->workload, have_pi ? &pi : NULL, json_string_value(json_object_get(o, "node")));
	else {
		size_t i;
		json_t *r;
		json_array_foreach(reps, i, r)
		{
			ah_decision rd;
			if (ah_client_decode_decision(pol, r, &rd, &pi, &have_pi) == 0)
				print_decision(&rd, pol, rq->workload, have_pi ? &pi : NULL,
					       json_string_value(json_object_get(r, "node")));
		}
	}
	ex = d.outcome == AH_GRANTED ? AH_EXIT_OK : d.outcome == AH_QUEUED ? AH_EXIT_QUEUED : AH_EXIT_REFUSED;
out:
	json_decref(body);
	json_decref(o);
	ah_policy_free(pol);
	ah_client_free(cl);
	return ex;
}

int ah_cmd_alloc(int argc, char **argv)
{
	ah_client_opts co = {0};
	const char *tenant = NULL, *pool = NULL, *klass = NULL, *res = NULL, *db = NULL;
	const char *workload = NULL, *shadow_db = NULL, *node_labels = NULL;
	ah_cli_params params = {.len = 0};
	int64_t lease = 0, qt = -1, replicas = 1;
	bool no_queue = false;
	ah_out_fmt fmt = AH_OUT_TABLE;
	const ah_cli_opt opts[] = {
		AH_OPT("tenant", 't', AH_OPT_STRING, &tenant, .hint = "T"),
		AH_OPT("pool", 'p', AH_OPT_STRING, &pool, .hint = "P"),
		AH_OPT("class", 'c', AH_OPT_STRING, &klass, .hint = "C", .flags = AH_OPT_NONEMPTY),
		AH_OPT("res", 'r', AH_OPT_STRING, &res, .hint = "RESOURCES"),
		AH_OPT("param", 'P', AH_OPT_EACH, &params, .hint = "KEY=VALUE", .each = ah_cli_add_param),
		AH_OPT("params", 0, AH_OPT_EACH, &params, .hint = "K=V,...", .each = ah_cli_add_params),
		AH_OPT("workload", 'w', AH_OPT_STRING, &workload, .hint = "W"),
		AH_OPT("shadow-db", 0, AH_OPT_STRING, &shadow_db, .hint = "PATH"),
		AH_OPT("lease", 'l', AH_OPT_DURATION, &lease, .hint = "DURATION", .lo = 1),
		AH_OPT("queue-timeout", 'q', AH_OPT_DURATION, &qt, .hint = "DURATION"),
		AH_OPT("no-queue", 0, AH_OPT_FLAG, &no_queue),
		AH_OPT("replicas", 0, AH_OPT_INT, &replicas, .hint = "N", .lo = 1, .hi = AH_PLACE_REPLICAS_MAX),
		AH_OPT("node-labels", 0, AH_OPT_STRING, &node_labels, .hint = "K=V,...", .flags = AH_OPT_NONEMPTY),
		AH_OPT("db", 'd', AH_OPT_STRING, &db, .hint = "PATH", .flags = AH_OPT_NONEMPTY),
		AH_OPT("output", 'o', AH_OPT_FORMAT, &fmt, .formats = AH_FMTS_TABLE_JSON),
		AH_CLIENT_OPTS(&co),
	};
	ah_cli_spec spec = {.cmd = "alloc", .usage = alloc_usage, .opts = opts, .n_opts = AH_CLI_NOPTS(opts)};
	int ex = ah_cli_parse(&spec, argc, argv);
	if (ex != AH_CLI_GO)
		return ex;
	if (no_queue)
		qt = 0;
	if (workload && ah_name_check_workload(workload) < 0) {
		ah_cli_err("alloc", "--workload: '%.64s' is not a workload name (1-127 of [A-Za-z0-9_.:/@+-])", workload);
		return AH_EXIT_USAGE;
	}
	const char *missing = !tenant ? "--tenant" : !pool ? "--pool" : !res && !workload ? "--res (or --workload)" : NULL;
	if (missing) {
		ah_cli_err("alloc", "%s is required (see ahead alloc --help)", missing);
		return AH_EXIT_USAGE;
	}
	char perr[256];
	int prc = ah_shadow_params_check(params.text, perr, sizeof perr);
	if (prc < 0) {
		ah_cli_err("alloc", "--params: %s", perr);
		return AH_EXIT_USAGE;
	}
	int cx;
	if (ah_client_wanted("alloc", &co, db, &cx)) {
		if (shadow_db) {
			ah_cli_err("alloc", "--shadow-db is for a local ledger; the daemon keeps its own shadow store");
			return AH_EXIT_USAGE;
		}
		ah_request rr = {.tenant = tenant, .pool = pool, .klass = klass, .params = params.text,
				 .workload = workload, .lease_ttl_ns = lease, .queue_timeout_ns = qt,
				 .node_labels = node_labels};
		return alloc_remote(&co, &rr, (int)replicas, res, fmt);
	}
	if (cx)
		return cx;
	int64_t now = ah_cli_now_ns();
	ah_cli_ctx ctx;
	ex = ah_cli_open("alloc", ah_cli_db_path(db), shadow_db, now, &ctx);
	if (ex)
		return ex;
	ah_request rq = {.tenant = tenant, .pool = pool, .klass = klass, .params = params.text, .workload = workload,
			 .lease_ttl_ns = lease, .queue_timeout_ns = qt, .node_labels = node_labels};
	ah_service_decision *sd = NULL;
	char err[256];
	if (res && ah_vec_parse(&ctx.pol->dims, res, &rq.res, err, sizeof err) < 0) {
		ah_cli_err("alloc", "--res: %s", err);
		ex = AH_EXIT_USAGE;
		goto out;
	}
	int n = (int)replicas;
	if (!(sd = calloc((size_t)n, sizeof(*sd)))) {
		ex = ah_cli_fail(&ctx, AH_ENOMEM, NULL);
		goto out;
	}
	int rc = ah_service_request_replicas(ctx.svc, &rq, n, now, sd);
	if (rc < 0) {
		ex = ah_cli_fail(&ctx, rc, NULL);
		ah_cli_err("alloc", "nothing was allocated");
		goto out;
	}
	int lead = ah_service_replicas_lead(sd, n);
	if (fmt == AH_OUT_JSON)
		print_decisions_json(&ctx, sd, n, lead);
	else
		for (int i = 0; i < n; i++)
			print_decision(&sd[i].d, ctx.pol, workload, sd[i].have_info ? &sd[i].info : NULL,
				       node_of(&ctx, &sd[i].d));
	const ah_decision *d = &sd[lead].d;
	ex = d->outcome == AH_GRANTED ? AH_EXIT_OK : d->outcome == AH_QUEUED ? AH_EXIT_QUEUED : AH_EXIT_REFUSED;
out:
	free(sd);
	ah_cli_close(&ctx);
	return ex;
}

static void tick_usage(FILE *f)
{
	fprintf(f, "usage: ahead tick [--db PATH] [--shadow-db PATH]\n\nReclaims expired leases and times "
		   "out queued requests now, then grants what fits. Closes the shadow store's\n"
		   "records of allocations that ended without a release (never used for learning).\n"
		   "With --server URL (or $AHEAD_SERVER) it refuses (exit 2): the daemon ticks itself.\n");
}

static void renew_usage(FILE *f)
{
	fprintf(f, "usage: ahead renew ID [--lease DURATION] [--db PATH] [-o json]\n\n"
		   "Sets a lease to now + DURATION (default: the allocation's lease), at most\n"
		   "the policy's max_lease_ttl (the answer says when it was capped). Later usage\n"
		   "reports renew the lease too but never shorten it.\n"
		   "Exit 5 if the allocation does not exist (released, expired or preempted).\n\n" AH_CLIENT_USAGE);
}

static void release_usage(FILE *f)
{
	fprintf(f, "usage: ahead release ID [--db PATH] [--shadow-db PATH] [-o json]\n\n"
		   "Releases an allocation or cancels a queued request; queued requests that\n"
		   "then fit are granted. An allocation made with --workload has its request\n"
		   "record ended in the shadow store (params -> peak usage of its reports), so\n"
		   "later predictions learn from it. Exit 5 if ID does not exist.\n\n" AH_CLIENT_USAGE);
}

/* A renew's answer; a lease the policy capped says so and by what. */
static void print_renew(uint64_t id, const ah_renew_outcome *ro, ah_out_fmt fmt)
{
	if (fmt == AH_OUT_JSON) {
		json_t *o = ah_json_renew(id, ro);
		char *js = ah_json_dumps(o);
		printf("%s\n", js ? js : "{}");
		free(js);
		json_decref(o);
		return;
	}
	char t[40], asked[32], max[32];
	ah_cli_fmt_time(ro->expires_ns, t, sizeof t);
	printf("renewed  id=%llu  lease until %s", (unsigned long long)id, t);
	if (ro->capped) {
		ah_duration_format(ro->asked_ns, asked, sizeof asked);
		ah_duration_format(ro->max_ns, max, sizeof max);
		printf("  (capped: asked %s, the policy's max_lease_ttl is %s)", asked, max);
	}
	printf("\n");
}

/* release ID / renew ID / tick share their options. */
/* A 409 without a field (the client sends no resourceVersion) is the
 * daemon saying the allocation is still queued: locally that is "no such
 * allocation", exit 5; the daemon's message says more and is kept. */
static int queued_conflict(ah_client *cl, long st, const json_t *o)
{
	int ex = ah_client_fail(cl, st, o);
	const json_t *f = json_object_get(json_object_get(o, "error"), "field");
	return st == 409 && (!f || json_is_null(f)) ? AH_EXIT_NOTFOUND : ex;
}

/* release / renew with --server. */
static int id_remote(const ah_client_opts *co, const char *name, uint64_t id, int64_t lease, ah_out_fmt fmt)
{
	ah_client *cl = NULL;
	json_t *body = NULL, *o = NULL;
	bool is_renew = !strcmp(name, "renew");
	int ex = ah_client_open(name, co, &cl);
	if (ex)
		return ex;
	char path[64];
	snprintf(path, sizeof path, "/v1/allocations/%llu%s", (unsigned long long)id, is_renew ? "/renew" : "");
	if (is_renew) {
		body = json_object();
		if (lease)
			json_object_set_new(body, "lease", seconds_json(lease));
	}
	long st;
	if ((ex = ah_client_call(cl, is_renew ? "POST" : "DELETE", path, body, &st, &o)))
		goto out;
	ah_renew_outcome ro;
	if (st == 404) {
		ah_cli_err(name, "%llu: no such allocation or queued request (released, expired or preempted?)",
			   (unsigned long long)id);
		ex = AH_EXIT_NOTFOUND;
	} else if (st != 200 || (is_renew && ah_client_decode_renew(o, &ro) < 0)) {
		ex = queued_conflict(cl, st, o);
	} else if (fmt == AH_OUT_JSON) {
		ah_client_print_json(o);
	} else if (is_renew) {
		print_renew(id, &ro, fmt);
	} else {
		printf("released id=%llu\n", (unsigned long long)id);
	}
out:
	json_decref(body);
	json_decref(o);
	ah_client_free(cl);
	return ex;
}

static int id_command(int argc, char **argv, const char *name)
{
	ah_client_opts co = {0};
	const char *db = NULL, *shadow_db = NULL, *id_arg = NULL;
	int64_t lease = 0;
	ah_out_fmt fmt = AH_OUT_TABLE;
	bool is_tick = !strcmp(name, "tick"), is_renew = !strcmp(name, "renew");
	const ah_cli_opt opts[] = {
		AH_OPT("db", 'd', AH_OPT_STRING, &db, .hint = "PATH", .flags = AH_OPT_NONEMPTY),
		AH_OPT("lease", 'l', AH_OPT_DURATION, &lease, .hint = "DURATION", .lo = 1),
		AH_OPT("shadow-db", 0, AH_OPT_STRING, &shadow_db, .hint = "PATH"),
		AH_OPT("output", 'o', AH_OPT_FORMAT, &fmt, .formats = AH_FMTS_TABLE_JSON),
		AH_CLIENT_OPTS(&co),
	};
	ah_cli_spec spec = {.cmd = name, .usage = is_tick ? tick_usage : is_renew ? renew_usage : release_usage,
			    .opts = opts, .n_opts = AH_CLI_NOPTS(opts), .min_args = !is_tick, .max_args = !is_tick,
			    .args_name = "ID", .args = &id_arg};
	int ex = ah_cli_parse(&spec, argc, argv);
	if (ex != AH_CLI_GO)
		return ex;
	if (shadow_db && is_renew) {
		ah_cli_err(name, "--shadow-db is only for release and tick");
		return AH_EXIT_USAGE;
	}
	if (lease && !is_renew) {
		ah_cli_err(name, "--lease is only for renew");
		return AH_EXIT_USAGE;
	}
	uint64_t id = 0;
	if (!is_tick && ah_cli_parse_id(name, "ID", id_arg, &id) < 0)
		return AH_EXIT_USAGE;
	int cx;
	if (ah_client_wanted(name, &co, db, &cx)) {
		if (is_tick) {
			ah_cli_err(name, "the daemon ticks itself (lease expiry and queue timeouts on its timer); "
				   "there is nothing to do with --server");
			return AH_EXIT_USAGE;
		}
		if (shadow_db) {
			ah_cli_err(name, "--shadow-db is for a local ledger; the daemon keeps its own shadow store");
			return AH_EXIT_USAGE;
		}
		return id_remote(&co, name, id, lease, fmt);
	}
	if (cx)
		return cx;
	int64_t now = ah_cli_now_ns();
	ah_cli_ctx ctx;
	ex = ah_cli_open(name, ah_cli_db_path(db), shadow_db, now, &ctx);
	if (ex)
		return ex;
	ah_service_tick_out tk = {0};
	ah_renew_outcome ro = {0};
	int rc = is_tick ? ah_service_tick(ctx.svc, now, &tk)
		 : is_renew ? ah_service_renew_lease(ctx.svc, id, lease, now, &ro)
			    : ah_service_release(ctx.svc, id, now);
	if (rc == AH_ENOENT) {
		ah_cli_err(name, "%llu: no such allocation or queued request (released, expired or preempted?)",
			   (unsigned long long)id);
		ex = AH_EXIT_NOTFOUND;
	} else if (rc < 0) {
		ex = ah_cli_fail(&ctx, rc, NULL);
	} else if (is_renew) {
		print_renew(id, &ro, fmt);
	} else if (fmt == AH_OUT_JSON) {
		json_t *j = is_tick ? ah_json_tick(&tk) : ah_json_release(id);
		char *js = ah_json_dumps(j);
		printf("%s\n", js ? js : "{}");
		free(js);
		json_decref(j);
	} else if (is_tick) {
		printf("tick: %d live items before, %d allocations and %d queued now%s\n", tk.live_before, tk.allocs,
		       tk.queued, tk.records_closed ? " (closed the shadow records of ended allocations)" : "");
	} else {
		printf("released id=%llu\n", (unsigned long long)id);
	}
	ah_cli_close(&ctx);
	return ex;
}

int ah_cmd_release(int argc, char **argv)
{
	return id_command(argc, argv, "release");
}

int ah_cmd_renew(int argc, char **argv)
{
	return id_command(argc, argv, "renew");
}

int ah_cmd_tick(int argc, char **argv)
{
	return id_command(argc, argv, "tick");
}

static void report_usage(FILE *f)
{
	fprintf(f, "usage: ahead report ID --usage RESOURCES [--db PATH] [--shadow-db PATH] [-o json]\n\n"
		   "Reports an allocation's observed usage (e.g. cpu=1500m,memory=3Gi); dimensions\n"
		   "left out were not measured. The report renews the lease and resizes the\n"
		   "allocation as the policy's `sizing` says: builtin (usage above 90%% of the\n"
		   "reservation grows it at once if the pool has room, usage below 50%% for 10\n"
		   "minutes shrinks it to the window's peak + 15%%), or an allocation policy (ahead,\n"
		   "vpa, ...) warmed on the workload's history, as `ahead replay` scores it.\n"
		   "A grow takes what room there is; the rest waits as a pending grow (kept in\n"
		   "the ledger) and is served in priority order with the queue as room frees.\n"
		   "For an allocation made with --workload, the usage is also appended to the\n"
		   "workload's series in the shadow store and raises its request record's peak.\n"
		   "Exit 5 if the allocation does not exist.\n\n" AH_CLIENT_USAGE);
}

/* A usage report's answer for people. */
static void print_report(const ah_policy *pol, uint64_t id, const ah_adjust_outcome *o, const char *workload)
{
	static const char *acts[] = {"unchanged", "grown", "shrunk", "grow blocked (no room)"};
	static const char *blocked_act[] = {"", "grow blocked (no room)", "grow blocked (tenant quota)",
					    "grow blocked (a higher-priority claim waits)"};
	const char *act = o->action == AH_ADJUST_GROW_BLOCKED && o->blocked_by ? blocked_act[o->blocked_by]
										 : acts[o->action];
	char res[1024], t[40];
	ah_vec_format_human(&pol->dims, &o->res, res, sizeof res);
	ah_cli_fmt_time(o->lease_expires_ns, t, sizeof t);
	printf("reported id=%llu  %s  %s  lease until %s", (unsigned long long)id, act, res, t);
	if (workload && workload[0])
		printf("  (recorded for workload %s)", workload);
	printf("\n");
}

/* report with --server: POST /v1/allocations/ID/usage. */
static int report_remote(const ah_client_opts *co, uint64_t id, const char *usage_s, ah_out_fmt fmt)
{
	ah_client *cl = NULL;
	ah_policy *pol = NULL;
	json_t *body = NULL, *o = NULL;
	int ex = ah_client_open("report", co, &cl);
	if (ex || (ex = ah_client_policy(cl, &pol)))
		goto out;
	ah_vec u;
	char err[256];
	if (ah_vec_parse(&pol->dims, usage_s, &u, err, sizeof err) < 0) {
		ah_cli_err("report", "--usage: %s", err);
		ex = AH_EXIT_USAGE;
		goto out;
	}
	uint32_t present = named_dims(&pol->dims, usage_s);
	for (int i = 0; i < pol->dims.n; i++)
		if (!(present & (UINT32_C(1) << i)))
			u.v[i] = AH_USAGE_NONE;
	body = json_pack("{s:o}", "usage", ah_json_vec(&pol->dims, &u, AH_USAGE_NONE));
	char path[64];
	snprintf(path, sizeof path, "/v1/allocations/%llu/usage", (unsigned long long)id);
	long st;
	if ((ex = ah_client_call(cl, "POST", path, body, &st, &o)))
		goto out;
	ah_adjust_outcome ao;
	if (st == 404) {
		ah_cli_err("report", "%llu: no such allocation (released, expired or preempted?)", (unsigned long long)id);
		ex = AH_EXIT_NOTFOUND;
	} else if (st != 200 || ah_client_decode_report(pol, o, &ao) < 0) {
		ex = queued_conflict(cl, st, o);
	} else if (fmt == AH_OUT_JSON) {
		ah_client_print_json(o);
	} else {
		print_report(pol, id, &ao, json_string_value(json_object_get(o, "workload")));
	}
out:
	json_decref(body);
	json_decref(o);
	ah_policy_free(pol);
	ah_client_free(cl);
	return ex;
}

int ah_cmd_report(int argc, char **argv)
{
	ah_client_opts co = {0};
	const char *db = NULL, *usage_s = NULL, *shadow_db = NULL, *id_arg = NULL;
	ah_out_fmt fmt = AH_OUT_TABLE;
	const ah_cli_opt opts[] = {
		AH_OPT("usage", 'u', AH_OPT_STRING, &usage_s, .hint = "RESOURCES"),
		AH_OPT("db", 'd', AH_OPT_STRING, &db, .hint = "PATH", .flags = AH_OPT_NONEMPTY),
		AH_OPT("shadow-db", 0, AH_OPT_STRING, &shadow_db, .hint = "PATH"),
		AH_OPT("output", 'o', AH_OPT_FORMAT, &fmt, .formats = AH_FMTS_TABLE_JSON),
		AH_CLIENT_OPTS(&co),
	};
	ah_cli_spec spec = {.cmd = "report", .usage = report_usage, .opts = opts, .n_opts = AH_CLI_NOPTS(opts),
			    .min_args = 1, .max_args = 1, .args_name = "ID", .args = &id_arg};
	int ex = ah_cli_parse(&spec, argc, argv);
	if (ex != AH_CLI_GO)
		return ex;
	uint64_t id;
	if (ah_cli_parse_id("report", "ID", id_arg, &id) < 0)
		return AH_EXIT_USAGE;
	if (!usage_s) {
		ah_cli_err("report", "--usage is required (see ahead report --help)");
		return AH_EXIT_USAGE;
	}
	int cx;
	if (ah_client_wanted("report", &co, db, &cx)) {
		if (shadow_db) {
			ah_cli_err("report", "--shadow-db is for a local ledger; the daemon keeps its own shadow store");
			return AH_EXIT_USAGE;
		}
		return report_remote(&co, id, usage_s, fmt);
	}
	if (cx)
		return cx;
	int64_t now = ah_cli_now_ns();
	ah_cli_ctx ctx;
	ex = ah_cli_open("report", ah_cli_db_path(db), shadow_db, now, &ctx);
	if (ex)
		return ex;
	ah_vec u;
	char err[256];
	if (ah_vec_parse(&ctx.pol->dims, usage_s, &u, err, sizeof err) < 0) {
		ah_cli_err("report", "--usage: %s", err);
		ah_cli_close(&ctx);
		return AH_EXIT_USAGE;
	}
	uint32_t present = named_dims(&ctx.pol->dims, usage_s);
	for (int i = 0; i < ctx.pol->dims.n; i++)
		if (!(present & (UINT32_C(1) << i)))
			u.v[i] = AH_USAGE_NONE;
	ah_service_report_out ro;
	int rc = ah_service_report(ctx.svc, id, &u, now, &ro);
	const ah_adjust_outcome o = ro.o;
	const char *workload = ro.workload;
	if (rc == AH_ENOENT) {
		ah_cli_err("report", "%llu: no such allocation (released, expired or preempted?)", (unsigned long long)id);
		ex = AH_EXIT_NOTFOUND;
	} else if (rc < 0) {
		ex = ah_cli_fail(&ctx, rc, NULL);
	} else if (fmt == AH_OUT_JSON) {
		json_t *j = ah_json_report(ctx.pol, id, &o, workload);
		char *js = ah_json_dumps(j);
		printf("%s\n", js ? js : "{}");
		free(js);
		json_decref(j);
	} else {
		print_report(ctx.pol, id, &o, workload);
	}
	ah_cli_close(&ctx);
	return ex;
}
