/* The pool-shaping loop (include/ahead/scale_loop.h): one step of demand
 * observation, decision and action, shared by `ahead scale` and replay. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/scale_loop.h"
#include "service/scale_forecast.h"
#include "service/scale_loop_int.h"


/* Per pool: held and queued per class (pending grows are counted to the
 * class of the allocation that waits; see demand_of). */
typedef struct {
	const ah_policy *pol;
	ah_vec cls[AH_MAX_POOLS][AH_MAX_CLASSES];
} class_split;

void ah_scale_loop_cfg_init(ah_scale_loop_cfg *c)
{
	memset(c, 0, sizeof(*c));
	ah_scaler_cfg_init(&c->scaler);
	/* The forecasting layer competes with the scaler's own forecast per
	 * pool, dimension and class, by measured loss (docs/SCALING.md). */
	c->scaler.fc_mode = AH_SCALER_FC_BEST;
}

const char *ah_scale_status_name(ah_scale_status st)
{
	static const char *names[] = {"planned", "scaled", "hook_failed", "skipped", "store_error"};
	return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "unknown";
}

static bool shaped(const ah_pool_policy *pp)
{
	return pp->shaping || pp->parent[0];
}

/* ---- the demand history in the ledger ---- */

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

static int load_history(ah_scale_loop *l, ah_ledger *led, int64_t now_ns)
{
	const ah_policy *P = l->pol;
	int64_t span_ns = l->cfg.scaler.step_ns * l->cfg.scaler.history_steps;
	hist_ctx hc = {.pol = P, .sc = l->sc};
	int rc = ah_ledger_demand_load(led, &P->dims, now_ns - span_ns, feed_row, &hc);
	if (rc < 0)
		return rc;
	if (hc.rc < 0)
		return hc.rc;
	/* Stabilisation outlives the process: the last scale-up is in the log. */
	for (int p = 0; p < P->n_pools; p++)
		for (int d = 0; d < P->dims.n; d++) {
			int64_t t;
			if (shaped(&P->pools[p]) &&
			    ah_ledger_last_scale_up(led, P->pools[p].name, P->dims.name[d], &t) == 0)
				ah_scaler_set_last_scale_up(l->sc, p, d, t);
		}
	return 0;
}

int ah_scale_loop_new(const ah_policy *pol, const ah_scale_loop_cfg *cfg, ah_ledger *led, int64_t now_ns,
		      ah_scale_loop **out)
{
	if (!pol || !out || (cfg && cfg->record_history && !led))
		return AH_EINVAL;
	ah_scale_loop *l = calloc(1, sizeof(*l));
	if (!l)
		return AH_ENOMEM;
	l->pol = pol;
	if (cfg)
		l->cfg = *cfg;
	else
		ah_scale_loop_cfg_init(&l->cfg);
	int rc = 0;
	if (l->cfg.scaler.fc_mode != AH_SCALER_FC_OWN && !l->cfg.scaler.forecast_fn) {
		rc = ah_scale_forecast_new(&l->layer);
		l->cfg.scaler.forecast_fn = ah_scale_forecast_fn;
		l->cfg.scaler.forecast_ctx = l->layer;
	}
	if (rc == 0)
		rc = ah_scaler_new(pol, &l->cfg.scaler, &l->sc);
	if (rc == 0 && l->cfg.record_history)
		rc = load_history(l, led, now_ns);
	if (rc < 0) {
		ah_scale_loop_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

void ah_scale_loop_free(ah_scale_loop *l)
{
	if (!l)
		return;
	ah_scaler_free(l->sc);
	ah_scale_forecast_free(l->layer);
	free(l);
}

ah_scaler *ah_scale_loop_scaler_get(ah_scale_loop *l)
{
	return l ? l->sc : NULL;
}

/* ---- demand now ---- */

static int sum_item(void *ctx, const ah_engine_item *it)
{
	class_split *s = ctx;
	int p = ah_policy_find_pool(s->pol, it->pool), c = ah_policy_find_class(s->pol, it->klass);
	if (p >= 0 && c >= 0)
		ah_vec_add(&s->cls[p][c], it->res, s->pol->dims.n);
	return 0;
}

/* Pool k's unmet demand (queued + pending grows) and its class split:
 * pending grows beyond current sizes are counted to the default class,
 * since the engine reports them per pool. */
static void demand_of(const ah_policy *P, const ah_engine_pool_info *pi, class_split *cs, int k, ah_vec *unmet)
{
	*unmet = pi->queued;
	ah_vec_add(unmet, &pi->wanted, P->dims.n);
	ah_vec_add(&cs->cls[k][P->default_class], &pi->wanted, P->dims.n);
}

static int record_demand(ah_ledger *led, const ah_policy *P, int k, const ah_engine_pool_info *pi,
			 const ah_vec *unmet, const class_split *cs, int64_t now_ns, const ah_scaler_cfg *sc)
{
	ah_demand_row row = {.t_ns = now_ns, .pool = P->pools[k].name, .used = *pi->used, .queued = *unmet,
			     .n_classes = P->n_classes};
	for (int c = 0; c < P->n_classes; c++) {
		snprintf(row.class_name[c], sizeof row.class_name[c], "%s", P->classes[c].name);
		row.class_demand[c] = cs->cls[k][c];
	}
	int64_t span_ns = sc->step_ns * sc->history_steps;
	return ah_ledger_demand_put(led, &P->dims, &row, now_ns - span_ns, sc->history_steps);
}

static int observe_all(ah_scale_loop *l, ah_engine *e, ah_ledger *led, int64_t now_ns, bool dry, ah_vec *caps)
{
	const ah_policy *P = l->pol;
	class_split *cs = calloc(1, sizeof(*cs));
	if (!cs)
		return AH_ENOMEM;
	cs->pol = P;
	int rc = ah_engine_foreach(e, sum_item, cs);
	for (int k = 0; rc >= 0 && k < P->n_pools; k++) {
		ah_engine_pool_info pi;
		if ((rc = ah_engine_pool_get(e, k, &pi)) < 0)
			break;
		caps[k] = *pi.capacity;
		ah_vec unmet, demand = *pi.used;
		demand_of(P, &pi, cs, k, &unmet);
		ah_vec_add(&demand, &unmet, P->dims.n);
		if (!dry && (rc = ah_scaler_account(l->sc, k, pi.capacity, &demand, cs->cls[k], l->cfg.scaler.step_ns)) < 0)
			break;
		if ((rc = ah_scaler_observe(l->sc, k, pi.used, &unmet, cs->cls[k], now_ns)) < 0)
			break;
		if (!dry && l->cfg.record_history && shaped(&P->pools[k]) &&
		    (rc = record_demand(led, P, k, &pi, &unmet, cs, now_ns, &l->cfg.scaler)) < 0)
			break;
	}
	free(cs);
	return rc < 0 ? rc : 0;
}

/* ---- carrying out an action ---- */

static const char *kind_name(ah_scale_kind k)
{
	return k == AH_SCALE_KIND_REBALANCE ? "rebalance" : "scale";
}

static char *event_data(const ah_policy *P, const ah_scale_action *a, const ah_scale_result *r)
{
	const ah_pool_policy *pp = &P->pools[a->pool];
	json_t *d = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:f,s:f}", "action", kind_name(a->kind), "dim",
			      P->dims.name[a->dim], "from", (json_int_t)a->from, "to", (json_int_t)a->to, "decided_ns",
			      (json_int_t)a->decided_ns, "ready_ns", (json_int_t)a->ready_ns, "expected_cost",
			      a->expected_cost, "keep_cost", a->keep_cost);
	if (!d)
		return NULL;
	if (a->on_nodes) {
		json_object_set_new(d, "nodes_from", json_integer(a->nodes_from));
		json_object_set_new(d, "nodes_to", json_integer(a->nodes_to));
		if (a->node[0])
			json_object_set_new(d, "node", json_string(a->node));
	}
	if (a->peer >= 0)
		json_object_set_new(d, "peer", json_string(P->pools[a->peer].name));
	if (r->ran)
		json_object_set_new(d, "hook",
				    json_pack("{s:s,s:i,s:i,s:b,s:s}", "command", pp->scale_hook, "exit_status",
					      r->exit_status, "attempts", r->attempts, "timed_out", r->timed_out,
					      "output", r->output));
	char *s = json_dumps(d, JSON_COMPACT);
	json_decref(d);
	return s;
}

static void event_detail(const ah_policy *P, const ah_scale_action *a, const ah_scale_result *r, char *buf,
			 size_t len)
{
	char f[32], t[32];
	ah_unit_format(P->dims.kind[a->dim], a->from, f, sizeof f);
	ah_unit_format(P->dims.kind[a->dim], a->to, t, sizeof t);
	if (a->on_nodes) {
		snprintf(buf, len, "nodes %d -> %d%s%s (for %s %s -> %s); hook %s after %d attempt%s", a->nodes_from,
			 a->nodes_to, a->node[0] ? ", removing " : "", a->node, P->dims.name[a->dim], f, t,
			 r->ok ? "succeeded" : r->timed_out ? "timed out" : "failed", r->attempts,
			 r->attempts == 1 ? "" : "s");
		return;
	}
	if (r->ran)
		snprintf(buf, len, "%s %s -> %s (%s); hook %s after %d attempt%s", P->dims.name[a->dim], f, t,
			 kind_name(a->kind), r->ok ? "succeeded" : r->timed_out ? "timed out" : "failed", r->attempts,
			 r->attempts == 1 ? "" : "s");
	else
		snprintf(buf, len, "%s %s -> %s (%s)%s", P->dims.name[a->dim], f, t, kind_name(a->kind),
			 P->pools[a->pool].scale_hook[0] ? "; hook not run" : "; no hook");
}

/* Records the action and its outcome as one scale event and, when it took
 * effect, sets the capacity: one ledger transaction (an engine batch), so
 * the log and the capacity never disagree. The batch reloads the engine if
 * another process wrote meanwhile, so the other dimensions' capacity is
 * read inside it. */
static int record(ah_scale_loop *l, ah_engine *e, ah_ledger *led, const ah_scale_action *a,
		  const ah_scale_result *r, const char *reason, int64_t now_ns)
{
	const ah_policy *P = l->pol;
	char *data = NULL;
	int err = ah_engine_batch_begin(e);
	if (err < 0)
		return err;
	ah_engine_pool_info pi;
	if ((err = ah_engine_pool_get(e, a->pool, &pi)) < 0)
		goto out;
	ah_vec target = *pi.capacity;
	target.v[a->dim] = a->to;
	if (l->cfg.record_events) {
		char detail[256];
		event_detail(P, a, r, detail, sizeof detail);
		if (!(data = event_data(P, a, r))) {
			err = AH_ENOMEM;
			goto out;
		}
		ah_ledger_event ev = {.t_ns = now_ns, .kind = AH_EV_SCALE, .pool = P->pools[a->pool].name,
				      .res = &target, .reason = reason, .detail = detail, .data = data};
		if ((err = led->ops->event(led, &ev)) < 0)
			goto out;
	}
	if (r->ok && !a->on_nodes) /* a node pool's capacity is its nodes': it grows as they join */
		err = ah_engine_set_capacity(e, P->pools[a->pool].name, &target, now_ns);
out:;
	int e2 = ah_engine_batch_end(e);
	free(data);
	return err < 0 ? err : e2;
}

ah_scale_status sl_carry_out(ah_scale_loop *l, ah_engine *e, ah_ledger *led, const ah_scale_action *a,
				 const ah_scale_exec *exec, int64_t now_ns, ah_scale_result *r, const char **reason)
{
	memset(r, 0, sizeof(*r));
	r->ok = true;
	*reason = "scaled";
	if (exec && exec->run) {
		int err = exec->run(exec->ctx, l->pol, a, r);
		if (err < 0) {
			r->ran = true;
			r->ok = false;
			r->exit_status = -1;
			snprintf(r->output, sizeof r->output, "cannot start the hook: %s", ah_strerror(err));
		}
		if (!r->ok)
			*reason = r->timed_out ? "hook_timeout" : "hook_failed";
	}
	if (record(l, e, led, a, r, *reason, now_ns) < 0) {
		*reason = "store_error";
		return AH_SCALE_STORE_ERROR;
	}
	if (r->ok && ah_scaler_applied(l->sc, a) < 0)
		return AH_SCALE_STORE_ERROR;
	return r->ok ? AH_SCALE_DONE : AH_SCALE_FAILED;
}

void sl_report(ah_scale_observer_fn fn, void *ctx, const ah_policy *P, const ah_scale_action *a,
		   ah_scale_status st, const char *reason, const ah_scale_result *r)
{
	if (fn)
		fn(ctx, P, a, st, reason, r);
}

/* A rebalance is donor then receiver (consecutive). */
static bool is_receiver_of(const ah_scale_action *donor, const ah_scale_action *next)
{
	return donor->kind == AH_SCALE_KIND_REBALANCE && next->kind == AH_SCALE_KIND_REBALANCE &&
	       next->peer == donor->pool && next->to > next->from;
}

int ah_scale_loop_step(ah_scale_loop *l, ah_engine *e, ah_ledger *led, int64_t now_ns, const ah_scale_exec *exec,
		       bool dry_run, ah_scale_observer_fn fn, void *ctx, ah_scale_step_out *out)
{
	if (!l || !e || (!dry_run && !led))
		return AH_EINVAL;
	ah_scale_step_out o = {0};
	ah_vec caps[AH_MAX_POOLS];
	int rc = dry_run ? 0 : ah_engine_tick(e, now_ns);
	if (rc == 0)
		rc = observe_all(l, e, led, now_ns, dry_run, caps);
	if (rc == 0)
		rc = ah_scaler_step(l->sc, now_ns, caps, l->acts, AH_SCALE_MAX_ACTIONS, &o.n_decided);
	if (rc < 0)
		return rc;
	if (dry_run) {
		int n = o.n_decided;
		if ((rc = sl_nodes_step(l, e, led, l->acts, &n, exec, true, now_ns, fn, ctx, &o)) < 0)
			return rc;
		for (int i = 0; i < n; i++)
			sl_report(fn, ctx, l->pol, &l->acts[i], AH_SCALE_PLANNED, "planned", NULL);
		if (out)
			*out = o;
		return 0;
	}
	int n = 0;
	bool at_ready = exec && exec->at_ready_time;
	if ((rc = ah_scaler_due(l->sc, at_ready ? now_ns : INT64_MAX, l->acts, AH_SCALE_MAX_ACTIONS, &n)) < 0)
		return rc;
	if ((rc = sl_nodes_step(l, e, led, l->acts, &n, exec, false, now_ns, fn, ctx, &o)) < 0)
		return rc;
	for (int i = 0; i < n; i++) {
		ah_scale_result r;
		const char *reason;
		ah_scale_status st = sl_carry_out(l, e, led, &l->acts[i], exec, now_ns, &r, &reason);
		sl_report(fn, ctx, l->pol, &l->acts[i], st, reason, &r);
		if (st == AH_SCALE_DONE) {
			o.n_done++;
			continue;
		}
		o.n_failed++;
		/* The donor gave nothing: the receiver must not grow, or
		 * capacity would be counted twice. */
		if (i + 1 < n && is_receiver_of(&l->acts[i], &l->acts[i + 1])) {
			sl_report(fn, ctx, l->pol, &l->acts[i + 1], AH_SCALE_SKIPPED, "skipped", NULL);
			o.n_skipped++;
			i++;
		}
	}
	if (out)
		*out = o;
	return 0;
}
