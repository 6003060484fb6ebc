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

#include <stdbool.h>
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

/* True when l is a SQLite ledger. */
bool ah_ledger_is_sqlite(const ah_ledger *l);

/* Copies the live ledger to dest_path through SQLite's online backup (a
 * consistent snapshot; writers may go on meanwhile). dest_path is written
 * atomically (temp file, then rename). */
int ah_ledger_sqlite_backup(ah_ledger *l, const char *dest_path, char *err, size_t errlen);
/* Replaces the ledger at db_path by the backup at backup_path, after
 * checking the backup is an ahead ledger of a schema version this code
 * knows: written to a temp file beside db_path, then renamed over it (and
 * its -wal/-shm removed), so db_path is either the old or the new ledger.
 * No process may have db_path open meanwhile. */
int ah_ledger_sqlite_restore(const char *backup_path, const char *db_path, char *err, size_t errlen);

/* From now on the WAL's checkpoints run on a thread of their own with a
 * second connection, instead of inside the commit that fills the WAL
 * (5-9 ms on the test machine, while every answer of that commit waits);
 * for a long-lived writer, the daemon. Stopped by ah_ledger_free. */
int ah_ledger_sqlite_checkpoint_in_background(ah_ledger *l, char *err, size_t errlen);
/* The background checkpoints so far: passes of the thread, catch-ups of
 * the writer (each lets the WAL start over), the WAL's frames at the last
 * commit. AH_EINVAL when they are not on. */
int ah_ledger_sqlite_checkpoint_stats(ah_ledger *l, long long *out_passes, long long *out_catchups,
				      int *out_wal_frames);

/* Caps the database at max_pages pages (an operator's guard on disk use,
 * and how tests make the disk "full"). */
int ah_ledger_sqlite_set_max_pages(ah_ledger *l, int64_t max_pages);

/* Older, SQLite-only names of the generic ledger functions (ledger.h),
 * kept while callers move over. */
int ah_ledger_sqlite_set_durability(ah_ledger *l, ah_durability durability);
int ah_ledger_sqlite_policy_get(ah_ledger *l, char **out_text, int64_t *out_applied_ns);
int ah_ledger_sqlite_policy_put(ah_ledger *l, const char *text, const ah_policy *p, int64_t now_ns);
/* Events with seq > after_seq, at most limit (<= 0: all), of allocation id
 * (0: any): ah_ledger_events with those three filters. */
int ah_ledger_sqlite_events(ah_ledger *l, int64_t after_seq, int limit, uint64_t id,
			    int (*fn)(void *ctx, const ah_event_row *ev), void *ctx);
int ah_ledger_sqlite_demand_put(ah_ledger *l, const ah_dimset *dims, const ah_demand_row *row,
				int64_t keep_after_ns, int max_rows);
int ah_ledger_sqlite_demand_load(ah_ledger *l, const ah_dimset *dims, int64_t since_ns,
				 int (*fn)(void *ctx, const ah_demand_row *row), void *ctx);
int ah_ledger_sqlite_last_scale_up(ah_ledger *l, const char *pool, const char *dim, int64_t *out_t_ns);
const char *ah_ledger_sqlite_errmsg(ah_ledger *l);

#ifdef __cplusplus
}
#endif
#endif
