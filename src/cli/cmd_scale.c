/* ahead scale: one predictive shaping step against the ledger, now.
 *
 * Reads each pool's capacity, use and queue from the engine, records them in
 * the demand history (table pool_demand, pruned to the scaler's history
 * span), feeds the history to the scaler, and carries out its decisions:
 * each action runs the pool's scale_hook (COMMAND POOL DIM FROM TO, no
 * shell) until it succeeds or its retries are spent. Only a successful hook
 * changes the capacity; every outcome is a `scale` event in the ledger.
 *
 * This command may block on a hook; the engine never does: allocation in
 * other processes goes on meanwhile with the old capacity. The history lives
 * in the database (not in memory) because the command is meant to run from a
 * timer, one process per step. */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ahead/engine.h"
#include "ahead/error.h"
#include "ahead/hook.h"
#include "ahead/ledger_sqlite.h"
#include "ahead/policy.h"
#include "ahead/scaler.h"
#include "cli/cli.h"

#define CMD "scale"
#define MAX_ACTIONS (2 * AH_MAX_POOLS * AH_MAX_DIMS)
#define EVENT_OUTPUT_MAX 1024 /* hook output kept in the ledger, per event */
#define POLL_SLEEP_NS 20000000L

static void usage(FILE *f)
{
	fprintf(f, "usage: ahead scale [--dry-run] [--db PATH] [-o table|json]\n\n"
		   "Runs one predictive shaping step now (run it every 5 minutes, e.g. from a\n"
		   "timer): records each pool's demand, forecasts it, and resizes pools with\n"
		   "shaping = on where the policy's cost model says so, and moves capacity\n"
		   "between pools with the same parent when one is starved and another idle.\n"
		   "Each action runs the pool's scale_hook as  HOOK POOL DIMENSION FROM TO\n"
		   "(sizes in base units: millicores, bytes, ...); capacity changes only when\n"
		   "the hook succeeds. Every action and hook result is a 'scale' event\n"
		   "(ahead events). See docs/SCALING.md.\n\n"
		   "  --dry-run   print the decisions; record nothing, run no hook\n"
		   "  --db PATH   ledger database (default $AHEAD_DB, else ./ahead.db)\n"
		   "  -o FORMAT   table (default) or json\n\n"
		   "Exit: 0 done (also when nothing needed doing), 1 a hook failed (recorded)\n"
		   "or a storage error, 2 usage error.\n");
}

/* ---- loading the demand history ---- */

typedef struct {
	const ah_policy *pol;
	ah_scaler *sc;
	int rc;
} hist_ctx;

static int feed_row(void *ctx, const ah_demand_row *r)
{
	hist_ctx *h = ctx;
	int p = ah_policy_find_pool(h->pol, r->pool);
	if (p < 0)
		return 0; /* a pool the policy has dropped */
	ah_vec cd[AH_MAX_CLASSES];
	memset(cd, 0, sizeof(cd));
	bool split = false;
	for (int i = 0; i < r->n_classes; i++) {
		int c = ah_policy_find_class(h->pol, r->class_name[i]);
		if (c >= 0) {
			cd[c] = r->class_demand[i];
			split = true;
		}
	}
	int rc = ah_scaler_observe(h->sc, p, &r->used, &r->queued, split ? cd : NULL, r->t_ns);
	if (rc < 0 && rc != AH_ERANGE) /* a corrupt row is skipped, not fatal */
		return h->rc = rc;
	return 0;
}

/* ---- the current state, split by class ---- */

typedef struct {
	const ah_policy *pol;
	ah_vec used[AH_MAX_POOLS], queued[AH_MAX_POOLS];
	ah_vec cls[AH_MAX_POOLS][AH_MAX_CLASSES];
} state_ctx;

static int sum_item(void *ctx, const ah_engine_item *it)
{
	state_ctx *s = ctx;
	int p = ah_policy_find_pool(s->pol, it->pool), c = ah_policy_find_class(s->pol, it->klass);
	if (p < 0)
		return 0;
	ah_vec_add(it->queued ? &s->queued[p] : &s->used[p], it->res, s->pol->dims.n);
	if (c >= 0)
		ah_vec_add(&s->cls[p][c], it->res, s->pol->dims.n);
	return 0;
}

/* ---- running a hook ---- */

typedef struct {
	bool ran, ok, timed_out;
	int exit_status, attempts;
	char output[EVENT_OUTPUT_MAX + 1];
} hook_result;

/* Output goes into JSON and a terminal: keep printable ASCII, newlines and
 * tabs, and cap it. */
static void clean_output(const char *in, char *out, size_t len)
{
	size_t n = 0;
	for (; *in && n + 1 < len; in++) {
		unsigned char c = (unsigned char)*in;
		out[n++] = (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t' ? (char)c : '?';
	}
	out[n] = '\0';
}

static void sleep_ns(long ns)
{
	struct timespec ts = {.tv_sec = ns / 1000000000L, .tv_nsec = ns % 1000000000L};
	nanosleep(&ts, NULL);
}

static int run_hook(const ah_pool_policy *pp, const char *dim, int64_t from, int64_t to, hook_result *r)
{
	char cmd[AH_SCALE_HOOK_MAX], a_from[24], a_to[24];
	char *argv[AH_SCALE_HOOK_MAX_ARGS + 1];
	int n = 0;
	snprintf(cmd, sizeof cmd, "%s", pp->scale_hook);
	for (char *save = NULL, *w = strtok_r(cmd, " \t", &save); w && n < AH_SCALE_HOOK_MAX_ARGS - 4;
	     w = strtok_r(NULL, " \t", &save))
		argv[n++] = w;
	snprintf(a_from, sizeof a_from, "%lld", (long long)from);
	snprintf(a_to, sizeof a_to, "%lld", (long long)to);
	argv[n++] = (char *)pp->name;
	argv[n++] = (char *)dim;
	argv[n++] = a_from;
	argv[n++] = a_to;
	argv[n] = NULL;
	ah_hook_opts o;
	ah_hook_opts_init(&o);
	o.timeout_ns = pp->hook_timeout_ns;
	o.max_attempts = pp->hook_retries + 1;
	ah_hook_job *j = NULL;
	int rc = ah_hook_job_new(argv, &o, ah_cli_now_ns(), &j);
	if (rc < 0)
		return rc;
	ah_hook_state st;
	while ((st = ah_hook_job_poll(j, ah_cli_now_ns())) == AH_HOOK_RUNNING || st == AH_HOOK_WAITING)
		sleep_ns(POLL_SLEEP_NS);
	r->ran = true;
	r->ok = st == AH_HOOK_SUCCEEDED;
	r->timed_out = ah_hook_job_timed_out(j);
	r->exit_status = ah_hook_job_exit_status(j);
	r->attempts = ah_hook_job_attempts(j);
	clean_output(ah_hook_job_output(j), r->output, sizeof r->output);
	ah_hook_job_free(j);
	return 0;
}

/* ---- carrying out an action ---- */

typedef struct {
	ah_cli_ctx *ctx;
	ah_out_fmt fmt;
	bool dry;
	json_t *arr;
	int failed;
} run_ctx;

static const char *kind_name(ah_scale_kind k)
{
	return k == AH_SCALE_KIND_REBALANCE ? "rebalance" : "scale";
}

/* Records the action and its outcome as one scale event, and on success
 * sets the capacity, in one ledger transaction (an engine batch), so the
 * log and the capacity never disagree. */
static int record(run_ctx *rc, const ah_scale_action *a, const hook_result *hr, const char *reason, bool apply,
		  int64_t now)
{
	const ah_policy *P = rc->ctx->pol;
	const ah_pool_policy *pp = &P->pools[a->pool];
	const char *dim = P->dims.name[a->dim];
	ah_engine *e = rc->ctx->eng;
	ah_ledger *led = rc->ctx->led;
	/* The batch's transaction reloads the engine if another process wrote
	 * meanwhile, so the other dimensions' capacity is read inside it. */
	int err = ah_engine_batch_begin(e);
	if (err < 0)
		return err;
	ah_engine_pool_info pi;
	if ((err = ah_engine_pool_get(e, a->pool, &pi)) < 0) {
		ah_engine_batch_end(e);
		return err;
	}
	ah_vec target = *pi.capacity;
	target.v[a->dim] = a->to;
	char f[32], t[32], detail[256];
	ah_unit_format(P->dims.kind[a->dim], a->from, f, sizeof f);
	ah_unit_format(P->dims.kind[a->dim], a->to, t, sizeof t);
	if (hr->ran)
		snprintf(detail, sizeof detail, "%s %s -> %s (%s); hook %s after %d attempt%s", dim, f, t,
			 kind_name(a->kind), hr->ok ? "succeeded" : hr->timed_out ? "timed out" : "failed",
			 hr->attempts, hr->attempts == 1 ? "" : "s");
	else
		snprintf(detail, sizeof detail, "%s %s -> %s (%s)%s", dim, f, t, kind_name(a->kind),
			 pp->scale_hook[0] ? "; hook not run" : "; no hook");
	json_t *d = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:f,s:f}", "action", kind_name(a->kind), "dim", dim, "from",
			      (json_int_t)a->from, "to", (json_int_t)a->to, "decided_ns", (json_int_t)a->decided_ns,
			      "ready_ns", (json_int_t)a->ready_ns, "expected_cost", a->expected_cost, "keep_cost",
			      a->keep_cost);
	if (a->peer >= 0)
		json_object_set_new(d, "peer", json_string(P->pools[a->peer].name));
	if (hr->ran)
		json_object_set_new(d, "hook",
				    json_pack("{s:s,s:i,s:i,s:b,s:s}", "command", pp->scale_hook, "exit_status",
					      hr->exit_status, "attempts", hr->attempts, "timed_out", hr->timed_out,
					      "output", hr->output));
	char *data = json_dumps(d, JSON_COMPACT);
	json_decref(d);
	if (!data) {
		ah_engine_batch_end(e);
		return AH_ENOMEM;
	}
	ah_ledger_event ev = {.t_ns = now, .kind = AH_EV_SCALE, .pool = pp->name, .res = &target, .reason = reason,
			      .detail = detail, .data = data};
	err = led->ops->event(led, &ev);
	if (err == 0 && apply)
		err = ah_engine_set_capacity(e, pp->name, &target, now);
	int e2 = ah_engine_batch_end(e);
	if (err == 0)
		err = e2;
	free(data);
	return err;
}

static void report(run_ctx *rc, const ah_scale_action *a, const char *result, const hook_result *hr)
{
	const ah_policy *P = rc->ctx->pol;
	char f[32], t[32], when[40];
	ah_unit_format(P->dims.kind[a->dim], a->from, f, sizeof f);
	ah_unit_format(P->dims.kind[a->dim], a->to, t, sizeof t);
	ah_cli_fmt_time(a->ready_ns, when, sizeof when);
	if (rc->fmt == AH_OUT_JSON) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:s,s:f,s:f,s:s}", "pool", P->pools[a->pool].name,
				      "dimension", P->dims.name[a->dim], "kind", kind_name(a->kind), "from", f, "to", t,
				      "from_base", (json_int_t)a->from, "to_base", (json_int_t)a->to, "ready", when,
				      "expected_cost", a->expected_cost, "keep_cost", a->keep_cost, "result", result);
		if (a->peer >= 0)
			json_object_set_new(o, "peer", json_string(P->pools[a->peer].name));
		if (hr && hr->ran)
			json_object_set_new(o, "hook",
					    json_pack("{s:i,s:i,s:b,s:s}", "exit_status", hr->exit_status, "attempts",
						      hr->attempts, "timed_out", hr->timed_out, "output", hr->output));
		json_array_append_new(rc->arr, o);
		return;
	}
	char cost[48] = "-";
	if (a->kind == AH_SCALE_KIND_SCALE)
		snprintf(cost, sizeof cost, "%.4g/%.4g", a->expected_cost, a->keep_cost);
	char att[16] = "-";
	if (hr && hr->ran)
		snprintf(att, sizeof att, "%d", hr->attempts);
	printf("%-12s %-8s %-9s %12s %12s %-17s %8s %s\n", P->pools[a->pool].name, P->dims.name[a->dim],
	       kind_name(a->kind), f, t, cost, att, result);
}

/* Carries out one action; returns false when it did not take effect. */
static bool carry_out(run_ctx *rc, const ah_scale_action *a)
{
	const ah_pool_policy *pp = &rc->ctx->pol->pools[a->pool];
	hook_result hr = {0};
	if (rc->dry) {
		report(rc, a, "planned", NULL);
		return true;
	}
	const char *reason = "scaled";
	if (pp->scale_hook[0]) {
		int err = run_hook(pp, rc->ctx->pol->dims.name[a->dim], a->from, a->to, &hr);
		if (err < 0) {
			hr.ran = true;
			hr.exit_status = -1;
			snprintf(hr.output, sizeof hr.output, "cannot start the hook: %s", ah_strerror(err));
		}
		if (!hr.ok)
			reason = hr.timed_out ? "hook_timeout" : "hook_failed";
	}
	bool ok = !hr.ran || hr.ok;
	int err = record(rc, a, &hr, reason, ok, ah_cli_now_ns());
	if (err < 0) {
		ah_cli_err(CMD, "%s: cannot record the action: %s (%s)", pp->name, ah_strerror(err),
			   ah_ledger_sqlite_errmsg(rc->ctx->led));
		ok = false;
		reason = "store_error";
	}
	report(rc, a, reason, &hr);
	if (!ok)
		rc->failed++;
	return ok;
}

/* ---- the command ---- */

int ah_cmd_scale(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"dry-run", no_argument, NULL, 'n'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	const char *db = NULL;
	bool dry = false;
	ah_out_fmt fmt = AH_OUT_TABLE;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "d:o:nh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'n':
			dry = true;
			break;
		case 'o':
			if (ah_cli_parse_output(optarg, &fmt) < 0)
				return AH_EXIT_USAGE;
			break;
		case 'h':
			usage(stdout);
			return AH_EXIT_OK;
		default:
			usage(stderr);
			return AH_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		ah_cli_err(CMD, "unexpected argument '%.64s'", argv[optind]);
		return AH_EXIT_USAGE;
	}
	if (fmt == AH_OUT_CSV) {
		ah_cli_err(CMD, "-o csv is not supported here (table or json)");
		return AH_EXIT_USAGE;
	}
	db = ah_cli_db_path(db);
	int64_t now = ah_cli_now_ns();
	ah_cli_ctx ctx;
	int ex = ah_cli_open(CMD, db, now, &ctx);
	if (ex)
		return ex;
	ex = AH_EXIT_INTERNAL;
	ah_scaler *sc = NULL;
	state_ctx *st = calloc(1, sizeof(*st));
	ah_scale_action *acts = calloc(MAX_ACTIONS, sizeof(*acts));
	run_ctx rc = {.ctx = &ctx, .fmt = fmt, .dry = dry, .arr = fmt == AH_OUT_JSON ? json_array() : NULL};
	const ah_policy *P = ctx.pol;
	int err;
	if (!st || !acts) {
		ah_cli_err(CMD, "out of memory");
		goto out;
	}
	ah_scaler_cfg cfg;
	ah_scaler_cfg_init(&cfg);
	if ((err = ah_scaler_new(P, &cfg, &sc)) < 0) {
		ah_cli_err(CMD, "cannot create the scaler: %s", ah_strerror(err));
		goto out;
	}
	/* The current state, per pool and class. */
	st->pol = P;
	ah_engine_foreach(ctx.eng, sum_item, st);
	ah_vec cap[AH_MAX_POOLS];
	for (int p = 0; p < P->n_pools; p++) {
		ah_engine_pool_info pi;
		if ((err = ah_engine_pool_get(ctx.eng, p, &pi)) < 0) {
			ah_cli_err(CMD, "pool %d: %s", p, ah_strerror(err));
			goto out;
		}
		cap[p] = *pi.capacity;
	}
	/* History first (oldest to newest), then now. */
	int64_t span_ns = cfg.step_ns * cfg.history_steps;
	hist_ctx hc = {.pol = P, .sc = sc};
	if ((err = ah_ledger_sqlite_demand_load(ctx.led, &P->dims, now - span_ns, feed_row, &hc)) < 0) {
		ah_cli_err(CMD, "%s: cannot read the demand history: %s", db, ah_ledger_sqlite_errmsg(ctx.led));
		goto out;
	}
	for (int p = 0; p < P->n_pools; p++) {
		if ((err = ah_scaler_observe(sc, p, &st->used[p], &st->queued[p], st->cls[p], now)) < 0) {
			ah_cli_err(CMD, "pool %s: %s", P->pools[p].name, ah_strerror(err));
			goto out;
		}
		if (dry || (!P->pools[p].shaping && !P->pools[p].parent[0]))
			continue;
		ah_demand_row row = {.t_ns = now, .pool = P->pools[p].name, .used = st->used[p],
				     .queued = st->queued[p], .n_classes = P->n_classes};
		for (int k = 0; k < P->n_classes; k++) {
			snprintf(row.class_name[k], sizeof row.class_name[k], "%s", P->classes[k].name);
			row.class_demand[k] = st->cls[p][k];
		}
		if ((err = ah_ledger_sqlite_demand_put(ctx.led, &P->dims, &row, now - span_ns, cfg.history_steps)) < 0) {
			ah_cli_err(CMD, "%s: cannot record demand: %s", db, ah_ledger_sqlite_errmsg(ctx.led));
			goto out;
		}
	}
	/* Stabilisation outlives the process: the last scale-up is in the log. */
	for (int p = 0; p < P->n_pools; p++)
		for (int d = 0; d < P->dims.n; d++) {
			int64_t t;
			if ((P->pools[p].shaping || P->pools[p].parent[0]) &&
			    ah_ledger_sqlite_last_scale_up(ctx.led, P->pools[p].name, P->dims.name[d], &t) == 0)
				ah_scaler_set_last_scale_up(sc, p, d, t);
		}
	int n = 0;
	if ((err = ah_scaler_step(sc, now, cap, acts, MAX_ACTIONS, &n)) < 0) {
		ah_cli_err(CMD, "cannot decide: %s", ah_strerror(err));
		goto out;
	}
	if (fmt == AH_OUT_TABLE)
		printf("%-12s %-8s %-9s %12s %12s %-17s %8s %s\n", "POOL", "DIM", "KIND", "FROM", "TO", "COST(NEW/KEEP)",
		       "ATTEMPTS", "RESULT");
	for (int i = 0; i < n; i++) {
		const ah_scale_action *a = &acts[i];
		/* A rebalance is donor then receiver (consecutive): if the donor's
		 * hook fails the receiver must not grow, or capacity would be
		 * counted twice. */
		bool ok = carry_out(&rc, a);
		if (!ok && a->kind == AH_SCALE_KIND_REBALANCE && i + 1 < n && acts[i + 1].kind == AH_SCALE_KIND_REBALANCE &&
		    acts[i + 1].peer == a->pool && acts[i + 1].to > acts[i + 1].from) {
			report(&rc, &acts[i + 1], "skipped", NULL);
			i++;
		}
	}
	if (fmt == AH_OUT_TABLE && n == 0)
		printf("(no scaling needed)\n");
	ex = rc.failed ? AH_EXIT_INTERNAL : AH_EXIT_OK;
out:
	if (rc.arr) {
		char *s = json_dumps(rc.arr, JSON_INDENT(2));
		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(rc.arr);
	}
	ah_scaler_free(sc);
	free(acts);
	free(st);
	ah_cli_close(&ctx);
	return ex;
}
