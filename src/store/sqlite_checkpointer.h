/* WAL checkpoints on a thread of their own, for a long-lived writer (the
 * daemon's ledger connection).
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that pushes the WAL
 * past 1000 pages: that commit copies every page the WAL holds into the
 * database file and syncs both, 5-9 ms on the test machine, while every
 * request of the batch waits (bench/run api: the p99). Here a second
 * connection on a thread copies the pages (PASSIVE: writers go on), and the
 * writer only finishes the job now and then: SQLite restarts the WAL at a
 * write only once every frame is in the database file, which a copy racing
 * a steady stream of commits never reaches, so after a background pass
 * the writer copies what arrived during it (a few hundred frames) and the
 * next write restarts the WAL. Without that last step the WAL grows for
 * as long as the writes go on (measured in session 6: 1 GB in 8 s). */
#ifndef AHEAD_STORE_SQLITE_CHECKPOINTER_H
#define AHEAD_STORE_SQLITE_CHECKPOINTER_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct ah_sqlite_ckpt ah_sqlite_ckpt;

typedef struct {
	long long passes;   /* background checkpoints run */
	long long catchups; /* the writer's own, after a pass */
	int wal_frames;     /* the WAL's size at the last commit */
} ah_sqlite_ckpt_stats;

/* Starts the thread with its own connection to path and takes over
 * writer's checkpoints (its automatic checkpoint is replaced by a WAL hook).
 * full_sync: the checkpoints sync as synchronous=FULL (else NORMAL). */
int ah_sqlite_ckpt_start(sqlite3 *writer, const char *path, bool full_sync, ah_sqlite_ckpt **out, char *err,
			 size_t errlen);
/* The durability changed: later checkpoints sync accordingly. */
void ah_sqlite_ckpt_set_full_sync(ah_sqlite_ckpt *c, bool full_sync);
void ah_sqlite_ckpt_get_stats(ah_sqlite_ckpt *c, ah_sqlite_ckpt_stats *out);
/* Joins the thread, closes its connection and gives writer its automatic
 * checkpoint back. NULL-safe. */
void ah_sqlite_ckpt_stop(ah_sqlite_ckpt *c, sqlite3 *writer);

#endif
