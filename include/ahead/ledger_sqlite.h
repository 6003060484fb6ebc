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
} ah_event_row;

/* Visits events with seq > after_seq, oldest first, at most limit
 * (limit <= 0: all); filter by allocation id when id != 0. */
int ah_ledger_sqlite_events(ah_ledger *l, int64_t after_seq, int limit, uint64_t id,
			    int (*fn)(void *ctx, const ah_event_row *ev), void *ctx);

/* Last error message from SQLite (borrowed). */
const char *ah_ledger_sqlite_errmsg(ah_ledger *l);

#ifdef __cplusplus
}
#endif
#endif
