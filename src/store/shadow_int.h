/* ahead: shadow store internals shared by src/store/shadow*.c. */
#ifndef AHEAD_SHADOW_INT_H
#define AHEAD_SHADOW_INT_H

#include <sqlite3.h>

#include "ahead/shadow.h"

struct ah_shadow {
	sqlite3 *db;
	sqlite3_stmt *st_series_find;  /* (workload, dim) -> id, granularity */
	sqlite3_stmt *st_series_ins;
	sqlite3_stmt *st_series_raw;   /* id -> granularity, raw lane */
	sqlite3_stmt *st_lane_find;
	sqlite3_stmt *st_lane_ins;
	sqlite3_stmt *st_upsert;       /* merge one point into its bucket */
	sqlite3_stmt *st_find_open;    /* (param key, value) -> the newest open record */
};

/* All-or-nothing scope: BEGIN IMMEDIATE when no transaction is open, else a
 * savepoint inside the caller's transaction. */
typedef struct {
	int owned; /* 1 = BEGIN, 2 = SAVEPOINT */
} sh_tx;

int sh_tx_begin(ah_shadow *s, sh_tx *tx);
/* Commits when rc == 0, else rolls back; returns rc, or the commit's error. */
int sh_tx_end(ah_shadow *s, sh_tx *tx, int rc);
int sh_exec(ah_shadow *s, const char *sql);
/* Maps a SQLite result code to an AH_E* code. */
int sh_err(int sqlite_rc);
/* Steps st to its end, collecting column 0 of every row (int64) into a
 * growing array; on success *ids (caller frees) and *n are written. */
int sh_step_ids(sqlite3_stmt *st, int64_t **ids, size_t *n);
int sh_lane_get(ah_shadow *s, int64_t series_id, int64_t width_ns, int create, int64_t *out_lane);

#endif
