/* ahead: the pool-shaping loop — one controller for `ahead scale`, the
 * daemon and replay.
 *
 * A step: reclaim (engine tick) → for each pool, its demand = held +
 * queued + pending grows, split by class → charge the interval under the
 * cost model (ah_scaler_account) → show the scaler the demand
 * (ah_scaler_observe) and record it in the ledger's demand history when the
 * pool is shaped → decide (ah_scaler_step) → carry out what is due
 * (ah_scaler_due) through an executor → record each action and its outcome
 * as one `scale` event, and the new capacity, in one ledger transaction →
 * ah_scaler_applied. A rebalance is donor then receiver: when the donor's
 * action fails the receiver is skipped, or capacity would count twice.
 *
 * Executors differ only in how an action takes effect: production runs the
 * pool's scale hook (the hook provisions, so its lead time passes while it
 * runs, and the action is carried out when decided); replay's hook succeeds
 * at once and its capacity arrives at the action's ready time (decided +
 * lead time), simulating the provisioning delay. The decisions are the
 * same code either way. */
#ifndef AHEAD_SCALE_LOOP_H
#define AHEAD_SCALE_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ahead/engine.h"
#include "ahead/ledger.h"
#include "ahead/policy.h"
#include "ahead/scaler.h"

#ifdef __cplusplus
extern "C" {
#endif

/* AH_SCALE_OUTPUT_MAX, hook output kept per action (ledger event, JSON): limits.h. */
#define AH_SCALE_MAX_ACTIONS (2 * AH_MAX_POOLS * AH_MAX_DIMS)

typedef struct {
	bool ran;                 /* a hook ran */
	bool ok;                  /* the action took effect */
	bool timed_out;
	int exit_status, attempts;
	char output[AH_SCALE_OUTPUT_MAX + 1]; /* printable ASCII, newlines and tabs */
} ah_scale_result;

/* Carries out one action (pool and dimension from `from` to `to`). */
typedef struct {
	void *ctx;
	/* NULL = succeeds at once, no hook (replay). */
	int (*run)(void *ctx, const ah_policy *pol, const ah_scale_action *a, ah_scale_result *out);
	/* true: an action is carried out at its ready time (replay simulates
	 * the lead time); false: when decided (the hook is the provisioning). */
	bool at_ready_time;
	/* Pools on nodes: cordons (on) or uncordons a node before it is
	 * removed (so nothing lands on it meanwhile) or when its removal
	 * failed. NULL: a node pool is never scaled down. */
	int (*cordon)(void *ctx, const char *node, bool on);
} ah_scale_exec;

typedef enum { AH_SCALE_PLANNED = 0, AH_SCALE_DONE, AH_SCALE_FAILED, AH_SCALE_SKIPPED, AH_SCALE_STORE_ERROR } ah_scale_status;
const char *ah_scale_status_name(ah_scale_status st); /* planned, scaled, hook_failed, skipped, store_error */

/* Called once per action carried out (or planned, in a dry run). */
typedef void (*ah_scale_observer_fn)(void *ctx, const ah_policy *pol, const ah_scale_action *a, ah_scale_status st,
				     const char *reason, const ah_scale_result *r);

typedef struct {
	int n_decided;            /* new decisions this step */
	int n_done, n_failed, n_skipped;
} ah_scale_step_out;

typedef struct ah_scale_loop ah_scale_loop;

typedef struct {
	ah_scaler_cfg scaler;     /* step, horizon, history, ... */
	bool record_history;      /* keep demand rows in the ledger (a later process reloads them) */
	bool record_events;       /* each action is a scale event in the ledger */
} ah_scale_loop_cfg;

void ah_scale_loop_cfg_init(ah_scale_loop_cfg *c);

/* The policy is borrowed (the engine's). With record_history, the demand
 * history and the stabilisation state are read from the ledger now, so a
 * loop made for one step (a CLI process) decides as a long-lived one. */
int ah_scale_loop_new(const ah_policy *pol, const ah_scale_loop_cfg *cfg, ah_ledger *led, int64_t now_ns,
		      ah_scale_loop **out);
void ah_scale_loop_free(ah_scale_loop *l);
ah_scaler *ah_scale_loop_scaler_get(ah_scale_loop *l);

/* One step at now_ns on engine e (which commits to led). dry_run: decide
 * and report, change and record nothing. */
int ah_scale_loop_step(ah_scale_loop *l, ah_engine *e, ah_ledger *led, int64_t now_ns, const ah_scale_exec *exec,
		       bool dry_run, ah_scale_observer_fn fn, void *ctx, ah_scale_step_out *out);

/* The production executor: runs the pool's scale_hook as
 * HOOK POOL DIMENSION FROM TO (no shell), with its timeout and retries,
 * polling with the clock given (the loop itself never reads one). For a
 * pool on nodes: HOOK POOL nodes FROM TO (node counts), and on a scale-down
 * the node to remove after them (docs/SCALING.md, "Pools on nodes"). */
typedef struct {
	int64_t (*now_ns)(void);
	long poll_ns;             /* 20 ms */
	const char *db_path;      /* the ledger (etcd), for ah_scale_hook_cordon */
} ah_scale_hook_ctx;

int ah_scale_hook_run(void *ctx, const ah_policy *pol, const ah_scale_action *a, ah_scale_result *out);
/* ah_scale_exec.cordon: the node's record in the ledger at db_path. */
int ah_scale_hook_cordon(void *ctx, const char *node, bool on);

#ifdef __cplusplus
}
#endif
#endif
