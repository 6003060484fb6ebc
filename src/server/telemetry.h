/* What the daemon watches of itself, private to the server: per pool an
 * in-memory ring of samples (capacity, allocated, used, queued, counts)
 * taken every --sample-every, the newest reported usage of every live
 * allocation (the "used" of a pool is their sum), the allocated-demand
 * forecast of each pool with the project's forecaster, and how well the
 * previous forecast's next point matched the sample that came (abs error,
 * inside the 80% band or not). Nothing here is durable: a restart starts
 * empty rings (the ledger and the usage history are the records). */
#ifndef AHEAD_SERVER_TELEMETRY_H
#define AHEAD_SERVER_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ahead/engine.h"
#include "ahead/forecast.h"
#include "ahead/limits.h"
#include "ahead/policy.h"

#define API_TEL_HORIZON 30      /* forecast points per pool */
#define API_TEL_MIN_SAMPLES 12  /* before a pool has a forecast */
#define API_TEL_FIT_MAX 720     /* newest samples a fit reads */
#define API_TEL_REFIT_EVERY 60  /* samples between refits (updates between) */
#define API_TEL_LEVEL 0.8       /* the band */

/* One sample; the vectors are the pool's, in the policy's dimension order. */
typedef struct {
	int64_t t_ns;
	ah_vec capacity, allocated, used, queued;
	int allocations, queue;
} api_tel_sample;

/* A map from allocation id to a vector (open addressing, backward-shift
 * removal). */
typedef struct {
	uint64_t *ids;               /* 0 = empty */
	ah_vec *vals;
	size_t cap, n;
} api_idmap;

void api_idmap_fini(api_idmap *m);
const ah_vec *api_idmap_get(const api_idmap *m, uint64_t id);
/* The entry of id (added zeroed when new); NULL without memory. */
ah_vec *api_idmap_put(api_idmap *m, uint64_t id);
void api_idmap_drop(api_idmap *m, uint64_t id);

/* A sample as stored: time, allocations, queue, then the four vectors'
 * ndims values each (a sample costs 8 * (3 + 4 ndims) bytes). */
#define API_TEL_STRIDE(nd) (3 + 4 * (size_t)(nd))

/* One pool's ring and forecast. */
typedef struct {
	char name[AH_NAME_MAX];
	int64_t *ring;               /* cap samples of API_TEL_STRIDE(ndims) values */
	size_t cap, n, head;         /* head: the next slot written */
	ah_forecaster *fc[AH_MAX_DIMS];
	size_t since_fit;
	bool fitted;                 /* fit() ran (the forecasters may have failed) */
	bool zero[AH_MAX_DIMS];      /* no capacity in this dimension: forecast 0, no fit */
	bool have_fc;                /* the arrays below hold a forecast */
	char model[32];
	int64_t fc_t0_ns;            /* time of the sample the forecast starts after */
	double point[AH_MAX_DIMS][API_TEL_HORIZON], lower[AH_MAX_DIMS][API_TEL_HORIZON],
		upper[AH_MAX_DIMS][API_TEL_HORIZON];
	/* the next point of the forecast checked against the sample that came */
	uint64_t checks[AH_MAX_DIMS], hits[AH_MAX_DIMS];
	double abs_error_sum[AH_MAX_DIMS];
	bool present;                /* still in the policy */
} api_tel_pool;

typedef struct {
	int64_t interval_ns;
	size_t ring_cap;
	int ndims;                   /* the policy's, when the rings were made */
	api_tel_pool *pools[AH_MAX_POOLS];
	int n_pools;
	api_idmap usage;             /* newest usage per live allocation */
} api_telemetry;

void api_tel_init(api_telemetry *t, int64_t interval_ns);
void api_tel_fini(api_telemetry *t);
/* A usage report that succeeded: dimensions measured replace the newest
 * value, the others (AH_USAGE_NONE) keep theirs. */
void api_tel_usage(api_telemetry *t, uint64_t id, const ah_vec *usage);
/* An engine change: an allocation's end drops its usage. */
void api_tel_on_change(api_telemetry *t, const ah_engine_change *ch);
/* The sum of the newest usage of the live allocations, per pool (index as
 * ah_engine_pool_get's). */
void api_tel_used(const api_telemetry *t, const ah_engine *e, ah_vec used[AH_MAX_POOLS]);
/* Takes one sample of every pool; fits or updates the forecasts. */
void api_tel_take(api_telemetry *t, const ah_engine *e, const ah_policy *pol, int64_t now_ns);
/* The pool's ring entry, or NULL. */
const api_tel_pool *api_tel_pool_get(const api_telemetry *t, const char *name);
/* The i-th oldest sample of a pool's ring (i < p->n). */
void api_tel_at(const api_telemetry *t, const api_tel_pool *p, size_t i, api_tel_sample *out);

#endif
