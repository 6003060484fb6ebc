/* The daemon's counters and histograms behind GET /metrics (Prometheus
 * text exposition format 0.0.4; docs/METRICS.md names every metric).
 * Private to the server. Gauges of state (capacity, allocated, used,
 * queue) are read from the engine and the telemetry at scrape time; what
 * is counted here is what happened: decisions (counted when their commit
 * succeeded), engine changes, queue waits, API request latencies, commit
 * batch sizes and durations, commit failures. */
#ifndef AHEAD_SERVER_METRICS_H
#define AHEAD_SERVER_METRICS_H

#include <stdint.h>

#include "ahead/engine.h"
#include "ahead/limits.h"
#include "server/telemetry.h"

#define API_MET_MAX_BUCKETS 16
#define API_MET_MAX_ROUTES 64   /* route table entries (api.c), +1 for "no route" */
#define API_MET_STATUS_CLASSES 5 /* 1xx .. 5xx */

typedef struct {
	uint64_t counts[API_MET_MAX_BUCKETS]; /* per upper bound (not cumulative) */
	uint64_t count;
	double sum;
} api_hist;

enum { API_QW_GRANTED = 0, API_QW_TIMEOUT, API_QW_CANCELLED, API_QW__COUNT };

typedef struct {
	int64_t start_wall_ns;
	/* decisions of POST /v1/allocations by outcome and reason: pending
	 * until the batch commits */
	uint64_t decisions[3][AH_R__COUNT], pending[3][AH_R__COUNT];
	uint64_t changes[AH_CHANGE__COUNT];
	char resize_pool[AH_MAX_POOLS][AH_NAME_MAX];
	uint64_t resizes[AH_MAX_POOLS];
	int n_resize_pools;
	api_idmap queued_at;          /* queued request -> v[0] = arrival (wall ns) */
	api_hist queue_wait[API_QW__COUNT];
	api_hist request[API_MET_MAX_ROUTES + 1][API_MET_STATUS_CLASSES];
	api_hist batch_writes, commit_seconds;
	uint64_t commit_failures, tick_failures, anomalies;
} api_metrics;

api_metrics *api_metrics_new(int64_t now_ns);
void api_metrics_free(api_metrics *m);
/* An engine change (after its commit). */
void api_metrics_on_change(api_metrics *m, const ah_engine_change *ch);
/* A queued request the engine held at start (its arrival). */
void api_metrics_queued(api_metrics *m, uint64_t id, int64_t arrived_ns);
void api_metrics_decision(api_metrics *m, ah_outcome o, ah_reason r);
/* The batch committed (or did not): pending decisions count or vanish. */
void api_metrics_batch(api_metrics *m, int ok, size_t writes, int64_t commit_ns);
/* route: index in the route table, or -1 when none matched. */
void api_metrics_request(api_metrics *m, int route, int status, int64_t elapsed_ns);

#endif
