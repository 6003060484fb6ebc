/* ahead: the usage history as the service layer offers it — import, query,
 * export, list, retention, request records and anomaly events — over the
 * shadow store beside a ledger (x.db -> x-shadow.db, unless a path is
 * given). Front ends (the CLI, the daemon) call these; only the service
 * layer talks to the store. Errors are AH_E* codes with a message for
 * people in err (naming the file and line for bad input). */
#ifndef AHEAD_HISTORY_H
#define AHEAD_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ahead/input_unit.h"
#include "ahead/usage.h" /* the record types: points, series, requests, tiers */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ah_history ah_history;

/* Opens the history of the ledger at db_path (or the store at shadow_path
 * when not NULL). Without create a missing store is AH_ENOENT: reading
 * commands leave no empty file behind a mistyped path. */
int ah_history_open(const char *db_path, const char *shadow_path, bool create, ah_history **out, char *err,
		    size_t errlen);
void ah_history_free(ah_history *h);
/* The store's file (for messages). */
const char *ah_history_path(const ah_history *h);

typedef struct {
	size_t samples;           /* samples (or points, for an export file) stored */
	size_t missing;           /* missing values skipped */
	int series;               /* series written */
	bool aggregates;          /* the file was an `ahead shadow export` (mean, max, count kept) */
	/* values above 0 but below one base unit (1 millicore, 1 byte) once
	 * read in their unit: a sign of a wrong --unit (percent read as
	 * millicores); the callers warn */
	size_t below_one;
} ah_history_import_out;

/* The units later imports read values in (input_unit.h; by default each
 * dimension's base unit). An export file is always in base units: a unit
 * for its dimension's kind makes its import fail. */
void ah_history_set_units(ah_history *h, const ah_input_units *u);

/* Long format: a header "time,workload,dim,value", one sample a line; all
 * or nothing (one transaction). name is the file's name for messages. */
int ah_history_import_long(ah_history *h, FILE *f, const char *name, int64_t granularity_ns,
			   ah_history_import_out *out, char *err, size_t errlen);
/* One series from a CSV of times and values (time_col, value_col may be
 * NULL), or an export file, which keeps its aggregates. All or nothing. */
int ah_history_import_series(ah_history *h, const char *path, FILE *f, const char *workload, const char *dim,
			     int64_t granularity_ns, const char *time_col, const char *value_col,
			     ah_history_import_out *out, char *err, size_t errlen);

/* One series from N samples read elsewhere (a Bitbrains column), already in
 * the dimension's base unit; NAME is the source for messages. All or
 * nothing. */
int ah_history_import_values(ah_history *h, const char *name, const char *workload, const char *dim,
			     int64_t granularity_ns, const int64_t *t_ns, const double *v, size_t n,
			     ah_history_import_out *out, char *err, size_t errlen);

/* Many series at once, in one transaction (the daemon's observe mode writes
 * every cgroup's sample this way): values in base units; each series keeps
 * its granularity (a new one gets the default). All or nothing. */
typedef struct {
	const char *workload, *dim;
	const int64_t *t_ns;
	const double *v;
	size_t n;
} ah_history_series_in;
int ah_history_import_many(ah_history *h, const char *name, const ah_history_series_in *in, size_t n_in,
			   ah_history_import_out *out, char *err, size_t errlen);

/* A series by name; AH_ENOENT ("no series W/D" in err) when absent. */
int ah_history_series_get(ah_history *h, const char *workload, const char *dim, ah_shadow_series_info *out,
			  char *err, size_t errlen);
/* Points in [from, to], raw (step 0) or re-bucketed to step, oldest first. */
int ah_history_query(ah_history *h, const char *workload, const char *dim, int64_t from_ns, int64_t to_ns,
		     int64_t step_ns, int (*fn)(void *ctx, const ah_shadow_point *p), void *ctx, char *err,
		     size_t errlen);
/* The same as CSV that import reads back losslessly. */
int ah_history_export(ah_history *h, const char *workload, const char *dim, int64_t from_ns, int64_t to_ns,
		      int64_t step_ns, FILE *f, char *err, size_t errlen);
/* Every series; *out to free(). */
int ah_history_series_list(ah_history *h, ah_shadow_series_info **out, size_t *n, char *err, size_t errlen);

/* Retention: rolls points older than each tier's keep into the next tier;
 * counts[nt] gets each tier's points afterwards. */
int ah_history_compact(ah_history *h, int64_t now_ns, const ah_shadow_tier *tiers, int nt,
		       ah_shadow_compact_stats *stats, int64_t *counts, char *err, size_t errlen);

/* Request records (what a request's parameters implied). */
int ah_history_request_add(ah_history *h, const ah_shadow_request *r, int64_t *out_id, char *err, size_t errlen);
/* AH_ENOENT no such request, AH_ESTATE already ended, AH_ERANGE end before start. */
int ah_history_request_end(ah_history *h, int64_t id, int64_t end_ns, const ah_shadow_req_dim *dims, int n_dims,
			   char *err, size_t errlen);
int ah_history_request_list(ah_history *h, const char *workload, const char *key, const char *value, size_t limit,
			    ah_shadow_request **out, size_t *n, char *err, size_t errlen);

/* Anomaly events of a series, in one transaction. */
typedef struct {
	int64_t start_ns, end_ns;
	double peak_score;
} ah_history_anomaly;
int ah_history_anomalies_add(ah_history *h, const char *workload, const char *dim, const ah_history_anomaly *ev,
			     size_t n, char *err, size_t errlen);
/* Visits stored anomaly events (of one workload, or all when NULL) by start
 * time; a non-zero return of fn stops the walk. */
int ah_history_anomalies_list(ah_history *h, const char *workload, int (*fn)(void *ctx, const ah_shadow_anomaly *a),
			      void *ctx, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
