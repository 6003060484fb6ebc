/* ahead: the shadow store — usage history of every workload.
 *
 * A shadow store is one SQLite file (WAL mode), a sibling of the ledger's
 * database ("ahead.db" -> "ahead-shadow.db", see ah_shadow_path_for_db), so
 * ingesting history never takes the ledger's write lock. It holds:
 *
 *   - series, keyed by (workload, dimension), each with a granularity: a
 *     sample (t_ns, value) is bucketed to floor(t_ns / granularity) and all
 *     samples of one bucket are kept as one point (mean, max, count);
 *   - request records: a workload's request parameters (key=value), start and
 *     end, observed peak and mean per dimension, and what was predicted;
 *   - retention tiers (default: raw for 1 day, 1-minute for 30 days, 1-hour
 *     for a year), applied by ah_shadow_compact(): older points are rolled
 *     into the next tier (mean, max and count preserved) and the last tier's
 *     expired points are deleted, so the store stays bounded.
 *
 * Times are int64 nanoseconds since the Unix epoch, passed in (the library
 * never reads the clock); they must lie in [0, AH_SHADOW_T_MAX]. Values are
 * finite doubles: NaN and infinities are refused (AH_EINVAL) and nothing of
 * the batch is written. docs/SHADOW.md describes the storage layout. */
#ifndef AHEAD_SHADOW_H
#define AHEAD_SHADOW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ahead/resource.h"
#include "ahead/usage.h" /* the records and names this store keeps */

#ifdef __cplusplus
extern "C" {
#endif


typedef struct ah_shadow ah_shadow;


/* Opens (creating if needed) a shadow store. */
int ah_shadow_open(const char *path, ah_shadow **out);
/* Closes; NULL-safe. Rolls back an open transaction. */
void ah_shadow_free(ah_shadow *s);
/* The shadow path for a ledger database path: "dir/x.db" -> "dir/x-shadow.db";
 * a name without ".db" gets "-shadow.db" appended. AH_ERANGE if it won't fit. */
int ah_shadow_path_for_db(const char *db_path, char *buf, size_t len);


/* Explicit transactions group many appends into one commit (and make an
 * import all-or-nothing). Without one, each call commits by itself.
 * ah_shadow_begin inside an open transaction is AH_ESTATE (see
 * ah_shadow_scope_begin for a scope that nests). */
int ah_shadow_begin(ah_shadow *s);
int ah_shadow_commit(ah_shadow *s);
int ah_shadow_rollback(ah_shadow *s);

/* Finds or creates the series (workload, dim). granularity_ns 0 means "the
 * existing one, else AH_SHADOW_GRAN_DEFAULT_NS"; a non-zero granularity that
 * differs from the existing series' is AH_EEXIST. */
int ah_shadow_series_ensure(ah_shadow *s, const char *workload, const char *dim,
			    int64_t granularity_ns, int64_t *out_id);
/* AH_ENOENT when the series does not exist. */
int ah_shadow_series_find(ah_shadow *s, const char *workload, const char *dim, int64_t *out_id);
int ah_shadow_series_info_get(ah_shadow *s, int64_t series_id, ah_shadow_series_info *out);
/* All series, ordered by workload then dim; free *out with free(). */
int ah_shadow_series_list(ah_shadow *s, ah_shadow_series_info **out, size_t *out_n);

/* Appends n samples (t_ns[i], values[i]) to the series' raw tier, merging
 * them into their buckets. Validates the whole batch first. */
int ah_shadow_append(ah_shadow *s, int64_t series_id, const int64_t *t_ns, const double *values,
		     size_t n);
/* Appends already-aggregated points (e.g. from an export) into the raw tier
 * bucket of each p.t_ns; width_ns is ignored. count >= 1, max >= mean. */
int ah_shadow_append_points(ah_shadow *s, int64_t series_id, const ah_shadow_point *p, size_t n);

/* Streams the points whose bucket starts in [from_ns, to_ns), in time order.
 * step_ns 0 gives the stored points; step_ns > 0 aggregates them into
 * buckets of step_ns aligned to the epoch (count-weighted mean, max, summed
 * count). A stored point wider than step lands whole in its start's bucket.
 * from_ns > to_ns is AH_ERANGE. A callback's non-zero return stops the query
 * and is returned. */
typedef int (*ah_shadow_point_fn)(void *ctx, const ah_shadow_point *p);
int ah_shadow_query(ah_shadow *s, int64_t series_id, int64_t from_ns, int64_t to_ns, int64_t step_ns,
		    ah_shadow_point_fn fn, void *ctx);

/* CSV: header "time,value,max,count", time as ISO 8601 UTC with up to nine
 * fractional digits ("2024-01-01T00:00:00.25Z"). Import reads that format
 * back (lossless); on a bad line it writes "line N: field: reason" into err,
 * returns AH_EPARSE and writes nothing. At most AH_SHADOW_CSV_LINE_MAX bytes
 * per line. */
#define AH_SHADOW_CSV_LINE_MAX AH_CSV_LINE_MAX /* limits.h */
int ah_shadow_export_csv(ah_shadow *s, int64_t series_id, int64_t from_ns, int64_t to_ns,
			 int64_t step_ns, FILE *f);
int ah_shadow_import_csv(ah_shadow *s, int64_t series_id, FILE *f, char *err, size_t errlen,
			 int64_t *out_points);

/* Retention (the tiers: usage.h). The default tiers are raw 1 day, 1 minute 30 days, 1 hour 365
 * days. Compaction rolls, per series and tier, the points older than
 * now_ns - keep (aligned down to the next tier's width) into the next tier
 * and deletes the last tier's expired points, in one transaction. */
int ah_shadow_compact(ah_shadow *s, int64_t now_ns, ah_shadow_compact_stats *out);
int ah_shadow_compact_tiers(ah_shadow *s, int64_t now_ns, const ah_shadow_tier *tiers, int n,
			    ah_shadow_compact_stats *out);
/* Points stored per tier of the given tiers (summed over series); counts has
 * n entries. A point belongs to the coarsest tier no wider than it. */
int ah_shadow_tier_counts(ah_shadow *s, const ah_shadow_tier *tiers, int n, int64_t *counts);
/* Checkpoints the WAL into the main file (for measuring its size). */
int ah_shadow_checkpoint(ah_shadow *s);


/* Records a request (id ignored; end_ns must be -1 or >= start_ns). */
int ah_shadow_request_add(ah_shadow *s, const ah_shadow_request *r, int64_t *out_id);
/* Records the end: end_ns >= start, and observed peak/mean per dimension
 * (merged with what is stored: a NaN field keeps the stored value).
 * AH_ENOENT for an unknown id, AH_ESTATE if it already ended. */
int ah_shadow_request_end(ah_shadow *s, int64_t id, int64_t end_ns, const ah_shadow_req_dim *dims,
			  int n_dims);
int ah_shadow_request_get(ah_shadow *s, int64_t id, ah_shadow_request *out);
/* A workload's requests, oldest start first, at most limit (0 = no limit);
 * with param_key set, only those whose parameter param_key equals
 * param_value. Free *out with free(). */
int ah_shadow_request_list(ah_shadow *s, const char *workload, const char *param_key,
			   const char *param_value, size_t limit, ah_shadow_request **out,
			   size_t *out_n);

/* Record operations for a caller that keeps its own bookkeeping in
 * parameters (predictor_shadow.h: one record per allocation). Each is
 * bounded by an explicit limit or by the caps above, and validates keys and
 * values as ah_shadow_request_add does. */

/* A visitor's callback: a non-zero return stops the visit and is returned.
 * The record is borrowed for the call. */
typedef int (*ah_shadow_request_fn)(void *ctx, const ah_shadow_request *r);

/* Visits the workload's newest `limit` (>= 1) ended records — newest by
 * start, then id — skipping those that carry the parameter skip_key (may be
 * NULL), oldest first: a learner that keeps a bounded window sees the
 * newest last. Newest, not oldest, so learning never freezes on the first
 * records once there are more than limit. One read snapshot; work and memory
 * are bounded by limit (one record in memory at a time). */
int ah_shadow_request_each_ended(ah_shadow *s, const char *workload, const char *skip_key, size_t limit,
				 ah_shadow_request_fn fn, void *ctx);

/* Visits the open records of any workload that carry the parameter key,
 * oldest id first, at most limit (>= 1). A callback that wants to end or
 * change records should collect their ids and act after the visit. */
int ah_shadow_request_each_open(ah_shadow *s, const char *key, size_t limit, ah_shadow_request_fn fn,
				void *ctx);

/* The id of the newest (highest id) open record of any workload whose
 * parameter key equals value — for a caller that knows a record by a
 * parameter it set (an allocation id) but not its workload. Uses the
 * (key, value) index. AH_ENOENT when there is none. */
int ah_shadow_request_find_open(ah_shadow *s, const char *key, const char *value, int64_t *out_id);

/* Sets one parameter of a record (adds it, or replaces its value).
 * AH_ENOENT for an unknown id; AH_ETOOBIG when it would be the record's
 * (AH_SHADOW_MAX_PARAMS + 1)-th parameter, which could not be listed back. */
int ah_shadow_request_set_param(ah_shadow *s, int64_t id, const char *key, const char *value);

/* Merges one usage report into an open record, all or nothing: for each
 * i < n, appends (t_ns, values[i]) to the series (the record's workload,
 * dims[i]) — created at the default granularity if new — raises the
 * record's peak for dims[i] to values[i] if higher, and folds values[i] into
 * its running mean. The mean is weighted by the reports merged before, which
 * the record counts in its parameter count_key (absent = 0; written back
 * plus one even when n is 0): a report that omits a dimension still counts,
 * so that dimension's mean is approximate. dims unique, n <= AH_MAX_DIMS,
 * values finite. AH_ENOENT unknown id, AH_ESTATE ended, AH_ETOOBIG when
 * count_key would be a 17th parameter. */
int ah_shadow_request_observe(ah_shadow *s, int64_t id, const char *count_key, int64_t t_ns,
			      const char *const *dims, const double *values, int n);

/* An all-or-nothing scope for an operation made of several calls: a
 * transaction of its own when none is open, else a savepoint inside the
 * caller's (ah_shadow_begin), so such an operation composes with the
 * caller's batch instead of failing with AH_ESTATE. _end commits (rc == 0)
 * or rolls back the scope, and returns rc or the commit's error. */
typedef struct {
	int owned; /* private */
} ah_shadow_scope;
int ah_shadow_scope_begin(ah_shadow *s, ah_shadow_scope *sc);
int ah_shadow_scope_end(ah_shadow *s, ah_shadow_scope *sc, int rc);


int ah_shadow_anomaly_add(ah_shadow *s, const char *workload, const char *dim, int64_t start_ns, int64_t end_ns,
			  double score, int64_t *out_id);
/* Visits stored anomalies (of one workload, or all when NULL) by start time. */
int ah_shadow_anomaly_list(ah_shadow *s, const char *workload, int (*fn)(void *ctx, const ah_shadow_anomaly *a),
			   void *ctx);

#ifdef __cplusplus
}
#endif
#endif
