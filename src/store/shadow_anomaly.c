/* ahead: anomaly events in the shadow store (one row per event). */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/shadow.h"
#include "store/shadow_int.h"

static int ensure_table(ah_shadow *s)
{
	/* Created on first use so stores made before this table existed work. */
	return sqlite3_exec(s->db,
			    "CREATE TABLE IF NOT EXISTS anomaly(id INTEGER PRIMARY KEY, workload TEXT NOT NULL,"
			    " dim TEXT NOT NULL, start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL, score REAL NOT NULL);"
			    "CREATE INDEX IF NOT EXISTS anomaly_by_workload ON anomaly(workload, start_ns);",
			    NULL, NULL, NULL) == SQLITE_OK
		       ? 0
		       : AH_ESTORE;
}

int ah_shadow_anomaly_add(ah_shadow *s, const char *workload, const char *dim, int64_t start_ns, int64_t end_ns,
			  double score, int64_t *out_id)
{
	if (!s || !workload || !dim)
		return AH_EINVAL;
	int rc = ah_name_check_workload(workload);
	if (rc < 0)
		return rc;
	if ((rc = ah_name_check_dim(dim)) < 0)
		return rc;
	if (end_ns < start_ns || !isfinite(score) || score < 0 || score > 1)
		return AH_ERANGE;
	if ((rc = ensure_table(s)) < 0)
		return rc;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO anomaly(workload,dim,start_ns,end_ns,score) VALUES(?,?,?,?,?)", -1,
			       &st, NULL) != SQLITE_OK)
		return AH_ESTORE;
	sqlite3_bind_text(st, 1, workload, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, dim, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, start_ns);
	sqlite3_bind_int64(st, 4, end_ns);
	sqlite3_bind_double(st, 5, score);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : AH_ESTORE;
	sqlite3_finalize(st);
	if (!rc && out_id)
		*out_id = sqlite3_last_insert_rowid(s->db);
	return rc;
}

int ah_shadow_anomaly_list(ah_shadow *s, const char *workload, int (*fn)(void *ctx, const ah_shadow_anomaly *a),
			   void *ctx)
{
	if (!s || !fn)
		return AH_EINVAL;
	int rc = ensure_table(s);
	if (rc < 0)
		return rc;
	sqlite3_stmt *st = NULL;
	const char *sql = workload ? "SELECT id,workload,dim,start_ns,end_ns,score FROM anomaly WHERE workload=?"
				     " ORDER BY start_ns, id"
				   : "SELECT id,workload,dim,start_ns,end_ns,score FROM anomaly ORDER BY start_ns, id";
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return AH_ESTORE;
	if (workload)
		sqlite3_bind_text(st, 1, workload, -1, SQLITE_STATIC);
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		ah_shadow_anomaly a = {.id = sqlite3_column_int64(st, 0),
				       .start_ns = sqlite3_column_int64(st, 3),
				       .end_ns = sqlite3_column_int64(st, 4),
				       .score = sqlite3_column_double(st, 5)};
		snprintf(a.workload, sizeof a.workload, "%s", (const char *)sqlite3_column_text(st, 1));
		snprintf(a.dim, sizeof a.dim, "%s", (const char *)sqlite3_column_text(st, 2));
		int frc = fn(ctx, &a);
		if (frc) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : AH_ESTORE;
}
