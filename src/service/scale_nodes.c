/* Shaping a pool on nodes (docs/SCALING.md, "Pools on nodes"): the
 * scaler's per-dimension actions for such a pool become one in whole
 * nodes, carried out through the pool's hook (HOOK POOL nodes FROM TO
 * [NODE]); the pool's capacity stays what joins. */
#include <stdio.h>
#include <string.h>

#include "ahead/error.h"
#include "service/scale_loop_int.h"

static bool pool_on_nodes(const ah_policy *P, int p)
{
	return P->pools[p].nodes[0] != '\0';
}

static int64_t nodes_for(int64_t v, int64_t size)
{
	return (v + size - 1) / size;
}

/* The due actions of node pool p (its dimensions', acts[0..n)) as one in
 * whole nodes: a scale-up to the most nodes any dimension needs; a
 * scale-down of one empty node, and only when every dimension a node adds
 * agrees. 1 with *out, 0 when there is nothing to do (*why says why, or
 * ""), or an error. */
static int node_plan(ah_scale_loop *l, const ah_engine *e, int p, const ah_scale_action *acts, int n, int64_t now_ns,
		     ah_scale_action *out, const char **why)
{
	const ah_policy *P = l->pol;
	const ah_pool_policy *pp = &P->pools[p];
	int up;
	char empty[64];
	*why = "";
	int rc = ah_engine_pool_nodes(e, p, &up, empty, sizeof empty);
	if (rc < 0)
		return rc;
	int sized = 0, downs = 0, lead = -1;
	int64_t need_up = -1, need_down = 0;
	for (int d = 0; d < P->dims.n; d++)
		sized += pp->node_size.v[d] > 0;
	for (int i = 0; i < n; i++) {
		const ah_scale_action *a = &acts[i];
		int64_t size = pp->node_size.v[a->dim];
		if (a->pool != p || size <= 0)
			continue;
		int64_t need = nodes_for(a->to, size);
		if (a->to > a->from && need > need_up) {
			need_up = need;
			lead = i;
		} else if (a->to < a->from) {
			downs++;
			if (need >= need_down) {
				need_down = need;
				if (need_up < 0)
					lead = i;
			}
		}
	}
	if (lead < 0)
		return 0;
	*out = acts[lead];
	out->on_nodes = true;
	out->nodes_from = up;
	out->node[0] = '\0';
	if (need_up >= 0) {
		int to = (int)(need_up > pp->max_nodes ? pp->max_nodes : need_up);
		if (to <= up)
			return 0;
		if (up < l->node_want[p] && to <= l->node_want[p] && now_ns < l->node_want_until_ns[p]) {
			*why = "waiting_for_nodes"; /* asked for already: they have not joined yet */
			return 0;
		}
		out->nodes_to = to;
		return 1;
	}
	int floor_n = (int)(need_down > pp->min_nodes ? need_down : pp->min_nodes);
	if (downs < sized || floor_n >= up)
		return 0;
	if (!empty[0]) {
		*why = "no_empty_node"; /* never removes a node with work on it */
		return 0;
	}
	out->nodes_to = up - 1; /* one node at a time */
	snprintf(out->node, sizeof out->node, "%s", empty);
	return 1;
}

/* Carries out a node action: a node to remove is cordoned first (nothing
 * lands on it while the hook runs) and uncordoned after; on success every
 * dimension's action it stands for counts as applied. */
static ah_scale_status node_carry_out(ah_scale_loop *l, ah_engine *e, ah_ledger *led, const ah_scale_action *na,
				      const ah_scale_action *acts, int n, const ah_scale_exec *exec, int64_t now_ns,
				      ah_scale_result *r, const char **reason)
{
	bool down = na->nodes_to < na->nodes_from;
	if (down && exec && exec->cordon && exec->cordon(exec->ctx, na->node, true) < 0) {
		memset(r, 0, sizeof *r);
		*reason = "cordon_failed";
		return AH_SCALE_FAILED;
	}
	ah_scale_status st = sl_carry_out(l, e, led, na, exec, now_ns, r, reason);
	/* Failed: the node stays and takes work again. Done: it is gone, and
	 * its record must not stay cordoned, or a node the hook starts later
	 * under the same name would join and never take work. */
	if (down && exec && exec->cordon)
		exec->cordon(exec->ctx, na->node, false);
	if (st != AH_SCALE_DONE)
		return st;
	/* the scaler decides a pool's dimension once a step: na stands for
	 * the action of its dimension, the others are applied here */
	for (int i = 0; i < n; i++)
		if (acts[i].pool == na->pool && acts[i].dim != na->dim)
			ah_scaler_applied(l->sc, &acts[i]);
	if (!down) {
		const ah_pool_policy *pp = &l->pol->pools[na->pool];
		l->node_want[na->pool] = na->nodes_to;
		/* the nodes are awaited for their lead time and two steps more
		 * (a node boots, then joins): no second hook for them meanwhile */
		l->node_want_until_ns[na->pool] = now_ns + pp->lead_time_ns + 2 * l->cfg.scaler.step_ns;
	}
	return st;
}

/* Each node pool's due actions, once: planned, carried out (or, in a dry
 * run, reported), then dropped from acts. */
int sl_nodes_step(ah_scale_loop *l, ah_engine *e, ah_ledger *led, ah_scale_action *acts, int *n,
		      const ah_scale_exec *exec, bool dry_run, int64_t now_ns, ah_scale_observer_fn fn, void *ctx,
		      ah_scale_step_out *o)
{
	const ah_policy *P = l->pol;
	bool seen[AH_MAX_POOLS] = {false};
	for (int i = 0; i < *n; i++) {
		int p = acts[i].pool;
		if (!pool_on_nodes(P, p) || seen[p])
			continue;
		seen[p] = true;
		ah_scale_action na;
		const char *why;
		int rc = node_plan(l, e, p, acts, *n, now_ns, &na, &why);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			if (why[0]) {
				sl_report(fn, ctx, P, &acts[i], AH_SCALE_SKIPPED, why, NULL);
				o->n_skipped++;
			}
			continue;
		}
		if (dry_run) {
			sl_report(fn, ctx, P, &na, AH_SCALE_PLANNED, "planned", NULL);
			continue;
		}
		ah_scale_result r;
		const char *reason;
		ah_scale_status st = node_carry_out(l, e, led, &na, acts, *n, exec, now_ns, &r, &reason);
		sl_report(fn, ctx, P, &na, st, reason, &r);
		if (st == AH_SCALE_DONE)
			o->n_done++;
		else
			o->n_failed++;
	}
	int keep = 0;
	for (int i = 0; i < *n; i++)
		if (!pool_on_nodes(P, acts[i].pool))
			acts[keep++] = acts[i];
	*n = keep;
	return 0;
}

