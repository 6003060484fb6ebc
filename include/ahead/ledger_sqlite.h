/* ahead: the SQLite ledger — durable state for the engine.
 *
 * One database file (WAL mode) holds the applied policy, pools, tenants,
 * live allocations, the queue and an append-only event log. Every engine
 * answer is one transaction (BEGIN IMMEDIATE ... COMMIT), so a crash leaves
 * either all of an answer or none of it. Several processes may share the
 * file: writers serialise on SQLite's lock (busy timeout 10 s) and an engine
 * that sees another process's commit reloads before acting.
 *
 * Durability: AH_DURABILITY_PROCESS (synchronous=NORMAL) survives a process
 * crash (kill -9); a power loss or kernel crash may lose the last commits.
 * AH_DURABILITY_POWER (synchronous=FULL) fsyncs the WAL on every commit. */
#ifndef AHEAD_LEDGER_SQLITE_H
#define AHEAD_LEDGER_SQLITE_H

#include <stddef.h>
#include <stdint.h>

#include "ahead/ledger.h"
#include "ahead/policy.h"
#include "ahead/resource.h"

#ifdef __cplusplus
extern "C" {
#endif

int ah_ledger_sqlite_open(const char *path, ah_durability durability, ah_ledger **out, char *err,
			  size_t errlen);

/* Switches synchronous mode (the policy may ask for power-loss safety). */
int ah_ledger_sqlite_set_durability(ah_ledger *l, ah_durability durability);

/* The applied policy's source text (malloc'd, caller frees). AH_ENOENT when
 * no policy was ever applied. */
int ah_ledger_sqlite_policy_get(ah_ledger *l, char **out_text, int64_t *out_applied_ns);

/* Stores a policy, rewriting the pools and tenants tables, and logs an
 * event. Must run inside begin/commit. Pool capacities already scaled away
 * from a previous policy's size are reset to the new policy's capacity. */
int ah_ledger_sqlite_policy_put(ah_ledger *l, const char *text, const ah_policy *p, int64_t now_ns);

typedef struct {
	int64_t seq, t_ns;
	const char *kind, *tenant, *pool, *klass, *resources, *reason, *detail;
	uint64_t id;
	const char *data;       /* JSON object (scale events) or "" */
} ah_event_row;

/* Visits events with seq > after_seq, oldest first, at most limit
 * (limit <= 0: all); filter by allocation id when id != 0. */
int ah_ledger_sqlite_events(ah_ledger *l, int64_t after_seq, int limit, uint64_t id,
			    int (*fn)(void *ctx, const ah_event_row *ev), void *ctx);

/* The scaler's demand history (table pool_demand): one row per pool and
 * observation time, what the pool held and what waited, split by class. */
typedef struct {
	int64_t t_ns;
	const char *pool;
	ah_vec used, queued;
	int n_classes;
	char class_name[AH_MAX_CLASSES][AH_NAME_MAX];
	ah_vec class_demand[AH_MAX_CLASSES];
} ah_demand_row;

/* Stores a row (replacing one of the same pool and time), then drops the
 * pool's rows older than keep_after_ns and all but its newest max_rows.
 * Runs in its own transaction unless one is open. */
int ah_ledger_sqlite_demand_put(ah_ledger *l, const ah_dimset *dims, const ah_demand_row *row,
				int64_t keep_after_ns, int max_rows);
/* Visits rows with t_ns >= since_ns, oldest first. Rows that no longer
 * parse under dims (a dropped dimension) are skipped. */
int ah_ledger_sqlite_demand_load(ah_ledger *l, const ah_dimset *dims, int64_t since_ns,
				 int (*fn)(void *ctx, const ah_demand_row *row), void *ctx);
/* Time of the last successful scale event that grew POOL's DIM (for
 * stabilisation across runs); AH_ENOENT when there was none. */
int ah_ledger_sqlite_last_scale_up(ah_ledger *l, const char *pool, const char *dim, int64_t *out_t_ns);

/* Last error message from SQLite (borrowed). */
const char *ah_ledger_sqlite_errmsg(ah_ledger *l);

#ifdef __cplusplus
}
#endif
#endif
