/* The pool-shaping loop's state and steps, shared by scale_loop.c and
 * scale_nodes.c (pools on nodes). Private to src/service. */
#ifndef AHEAD_SERVICE_SCALE_LOOP_INT_H
#define AHEAD_SERVICE_SCALE_LOOP_INT_H

#include "ahead/scale_loop.h"
#include "service/scale_forecast.h"

struct ah_scale_loop {
	const ah_policy *pol;
	ah_scale_loop_cfg cfg;
	ah_scaler *sc;
	ah_scale_forecast *layer; /* the forecasting layer, when cfg.scaler.fc_mode asks */
	ah_scale_action acts[AH_SCALE_MAX_ACTIONS];
	/* Pools on nodes: the node count a scale-up asked for, and until when
	 * its nodes are awaited (no second hook for the same nodes meanwhile). */
	int node_want[AH_MAX_POOLS];
	int64_t node_want_until_ns[AH_MAX_POOLS];
};

/* One action carried out: the hook (exec), its scale event and, when it
 * took effect on a pool that is not on nodes, the capacity. */
ah_scale_status sl_carry_out(ah_scale_loop *l, ah_engine *e, ah_ledger *led, const ah_scale_action *a,
			     const ah_scale_exec *exec, int64_t now_ns, ah_scale_result *r, const char **reason);
void sl_report(ah_scale_observer_fn fn, void *ctx, const ah_policy *P, const ah_scale_action *a,
	       ah_scale_status st, const char *reason, const ah_scale_result *r);
/* Each node pool's due actions in acts[0..*n), once: planned, carried out
 * (or, in a dry run, reported), then dropped from acts. */
int sl_nodes_step(ah_scale_loop *l, ah_engine *e, ah_ledger *led, ah_scale_action *acts, int *n,
		  const ah_scale_exec *exec, bool dry_run, int64_t now_ns, ah_scale_observer_fn fn, void *ctx,
		  ah_scale_step_out *o);

#endif
