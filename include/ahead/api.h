/* ahead: the HTTP/JSON API, without the transport.
 *
 * `ahead serve` reads requests off the network (src/server/http.c) and
 * hands each to ah_api_handle as plain data: method, path, query
 * arguments, the few headers the API reads, the body and the peer's
 * address. The answer is a status, a JSON body and a Retry-After. Keeping
 * the transport out means the router, the JSON decoding and the
 * authorisation can be unit-tested and fuzzed without sockets, and every
 * answer is built by the same code whatever carries it.
 *
 * Writes run inside a batch: ah_api_batch_begin, any number of
 * ah_api_handle calls, ah_api_batch_end, which commits them in one ledger
 * transaction (group commit) -- answers must not be sent before it
 * returns. If the commit fails, batch_end rewrites every answer of the
 * batch to 503 (nothing of it happened). Reads may be handled in or out of
 * a batch. The clock is passed in; the API never reads it.
 *
 * Routes, their roles and shapes: docs/API.md and docs/openapi.json (the
 * test tests/cli_api_routes.sh checks the two agree with ah_api_routes). */
#ifndef AHEAD_API_H
#define AHEAD_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ahead/service.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ah_api ah_api;

#define AH_API_MAX_ARGS 16

typedef struct {
	const char *method;          /* "GET", "POST", ... */
	const char *path;            /* "/v1/allocations/12", no query */
	int n_args;                  /* query arguments, in order */
	struct {
		const char *key, *value; /* value may be NULL ("?watch") */
	} args[AH_API_MAX_ARGS];
	bool too_many_args;          /* the transport saw more than AH_API_MAX_ARGS */
	const char *authorization;   /* the Authorization header, or NULL */
	const char *idempotency_key; /* the Idempotency-Key header, or NULL */
	const char *content_type;    /* or NULL */
	const char *if_none_match;   /* the If-None-Match header, or NULL (the dashboard's files) */
	const char *body;            /* NULL when empty */
	size_t body_len;
	const char *source;          /* the peer, "127.0.0.1:41234" */
} ah_api_request;

typedef struct {
	int status;                  /* HTTP status */
	char *body;                  /* malloc'd; JSON unless content_type says */
	size_t body_len;
	const char *content_type;    /* static string */
	int retry_after_s;           /* > 0: send Retry-After */
	const char *cache_control;   /* static string; NULL = "no-store" */
	const char *etag;            /* static string, or NULL */
	/* A watch (`GET /v1/events?watch=1`): the transport streams events
	 * after watch_after_seq as Server-Sent Events (ah_api_watch_next);
	 * body is NULL then. */
	bool watch;
	int64_t watch_after_seq;
	char watch_tenant[64];       /* "" = every tenant's events */
	/* for the log line */
	char who[48];                /* the token's id, "-" when none */
	char outcome[40];            /* the body's "outcome" or error code, for the audit line */
	bool write;                  /* a mutating call */
} ah_api_response;

typedef struct {
	/* For the startup admin token and SIGHUP. */
	const char *policy_path;     /* the file the daemon was started with, or NULL */
	/* Idempotency keys are kept at least this long (default 24 h). */
	int64_t idem_keep_ns;
	/* Events kept for watches to resume from: at least this long and at
	 * least keep_events newest (defaults 1 h and 10000). */
	int64_t events_keep_ns;
	int64_t events_keep_min;
	/* Telemetry (GET /v1/pools/{name}/history, /metrics): every pool is
	 * sampled this often, 24 h kept in memory (default 10 s). */
	int64_t sample_ns;
	/* The node this daemon serves (`ahead serve --join --node-name`), or
	 * NULL: its enforcement ([linux] enforce_api) then takes, of pools on
	 * nodes, only the allocations placed on it, whoever granted them. */
	const char *node_name;
} ah_api_opts;

void ah_api_opts_init(ah_api_opts *o);

/* The service is borrowed and must outlive the API. */
int ah_api_new(ah_service *svc, const ah_api_opts *o, int64_t now_ns, ah_api **out);
void ah_api_free(ah_api *a);

/* When the ledger holds no live token: creates an admin token and writes
 * its secret (shown once) to out; returns 1 then, 0 when tokens exist. */
int ah_api_bootstrap_admin(ah_api *a, int64_t now_ns, char *out, size_t len);

/* How the transport must run a request: a read in or out of a batch, a
 * write inside one, an exclusive write (a policy edit: it commits through
 * the policy path on its own) outside any batch, after the open one ended.
 * An unknown route with a writing method is a write (it is audited). */
typedef enum { AH_API_READ = 0, AH_API_WRITE, AH_API_EXCLUSIVE } ah_api_kind;
ah_api_kind ah_api_classify(const ah_api_request *rq);

int ah_api_batch_begin(ah_api *a, int64_t now_ns);
/* The answer to a write when ah_api_batch_begin failed with rc: 503
 * "unavailable" with the ledger's own reason (for etcd: which endpoint and
 * why), Retry-After 1. */
void ah_api_begin_failed(ah_api *a, int rc, ah_api_response *out);
/* Answers a request; never fails (errors are answers). */
void ah_api_handle(ah_api *a, const ah_api_request *rq, int64_t now_ns, ah_api_response *out);
/* Commits the batch; on failure rewrites resp[0..n) to 503 and returns
 * the error. */
int ah_api_batch_end(ah_api *a, ah_api_response *resp, size_t n, int64_t now_ns);

void ah_api_response_fini(ah_api_response *r);

/* The periodic work of a daemon (timers): the engine's tick (lease expiry,
 * queue timeouts), the sweep of idempotency keys and old events. Runs its
 * own transaction; call outside a batch. */
int ah_api_tick(ah_api *a, int64_t now_ns);
/* A shared ledger (etcd): brings the view up to what the watch reported
 * (ah_service_follow), then the resourceVersions from the events the other
 * instances logged. Call outside a batch, when the watch's descriptor
 * (ah_service_watch_fd) is readable, every second (a stream stuck on a
 * paused member shows only then), and again soon while out->pending. */
int ah_api_follow(ah_api *a, int64_t now_ns, int64_t mono_ns, ah_service_follow_out *out);
/* Telemetry: one sample of every pool into its ring (and the pools'
 * forecasts), to call every ah_api_sample_every_ns. */
void ah_api_sample(ah_api *a, int64_t now_ns);
int64_t ah_api_sample_every_ns(const ah_api *a);
/* Observe mode (the policy's [linux] section): samples the host's cgroups
 * into the usage history when due at mono_ns (CLOCK_MONOTONIC), records
 * stamped wall_ns; the next due time, INT64_MAX when off. */
void ah_api_observe(ah_api *a, int64_t mono_ns, int64_t wall_ns);
int64_t ah_api_observe_next_ns(const ah_api *a);
/* The transport tells what a request took, from its start to its answer
 * queued (the latency histogram of /metrics, by route template). */
void ah_api_observe_request(ah_api *a, const ah_api_request *rq, int status, int64_t elapsed_ns);
int ah_api_sweep(ah_api *a, int64_t now_ns);
/* How many objects have a resourceVersion kept (the sweep keeps only live
 * ones: the map does not grow with everything ever granted). */
size_t ah_api_versions_count(const ah_api *a);

/* The newest event seq the API knows of (what a list's resourceVersion
 * says), and the oldest still kept (a watch from before it gets 410). */
int64_t ah_api_revision(const ah_api *a);

/* The next event of a watch after *after_seq that tenant may see ("" =
 * every tenant): an SSE frame ("id: N\nevent: KIND\ndata: {...}\n\n") in a
 * malloc'd string, advancing *after_seq; NULL when there is none yet. */
char *ah_api_watch_next(ah_api *a, const char *tenant, int64_t *after_seq);

/* Every route, for the OpenAPI check: fn gets method and path template
 * ("/v1/allocations/{id}"). */
void ah_api_routes(void (*fn)(void *ctx, const char *method, const char *path), void *ctx);

/* Where the time went, for `bench/run api`: nanoseconds spent decoding
 * bodies, in the engine (service calls), committing, and encoding JSON,
 * and how many requests and commits. */
typedef struct {
	uint64_t requests, writes, batches;
	int64_t parse_ns, engine_ns, commit_ns, json_ns;
} ah_api_stats;
void ah_api_stats_get(const ah_api *a, ah_api_stats *out);

/* SIGHUP: re-read the policy file, validate it, apply it; the old policy
 * stays on any error (err says why). */
int ah_api_reload_policy(ah_api *a, const char *path, int64_t now_ns, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
