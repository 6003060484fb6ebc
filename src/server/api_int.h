/* The API's private state and the helpers its route files share. */
#ifndef AHEAD_SERVER_API_INT_H
#define AHEAD_SERVER_API_INT_H

#include <jansson.h>

#include "ahead/api.h"
#include "ahead/api_records.h"
#include "ahead/encode.h"
#include "ahead/limits.h"
#include "server/metrics.h"
#include "server/telemetry.h"
#include "server/versions.h"

/* Who is calling: the token's identity and what its role lets it do. */
typedef struct {
	bool authenticated;
	char id[40];                 /* token id, or "-" */
	char name[AH_NAME_MAX];      /* token name: the idempotency scope */
	ah_role role;
	char tenant[AH_NAME_MAX];    /* role tenant: the only tenant it sees */
} api_principal;

/* The tokens the daemon accepts, loaded from the ledger (and again when
 * its token generation changes). */
typedef struct {
	ah_token_row *rows;
	size_t n, cap;
	uint64_t generation;
	bool loaded;
	int64_t checked_ns;          /* when the generation was last read; INT64_MIN: now */
	/* The hashes of the last tokens presented (api_auth.c): a client sends
	 * the same token on every request, so its hash is computed once. */
	struct {
		char token[96];
		uint8_t hash[32];
	} memo[8];
} api_tokens;

/* Idempotency keys answered inside the open batch (not yet in a committed
 * transaction, so not yet readable from the ledger by key). */
typedef struct {
	char scope[AH_NAME_MAX];
	char key[AH_IDEM_KEY_MAX + 1];
	uint8_t hash[32];
	int status;
	char *body;
} api_idem_pending;

struct ah_api {
	ah_service *svc;
	ah_api_opts opts;
	api_tokens tokens;
	api_versions ver;            /* resourceVersion per allocation and pool */
	bool in_batch;
	api_idem_pending *idem;      /* keys of the open batch */
	size_t n_idem, cap_idem;
	ah_api_stats stats;
	/* what changed since the last commit (the engine's observer and the
	 * routes tell): their versions become the commit's newest event seq */
	uint64_t *touched;
	size_t n_touched, cap_touched;
	char touched_pool[AH_MAX_POOLS][AH_NAME_MAX];
	int n_touched_pools;
	bool touched_all_pools;
	api_telemetry tel;           /* pool samples, usage per allocation (telemetry.h) */
	api_metrics *met;            /* what /metrics counts (metrics.h) */
	struct ah_observer *observer; /* observe mode (observe.h); NULL until the first round */
	struct api_enforce *enf;      /* [linux] enforce_api (enforce_api.h); NULL until needed */
	/* a shared ledger's watch (ah_api_follow): its last state, and what it made happen */
	ah_service_follow_out follow;
	uint64_t follow_reloads, follow_restarts;
	int64_t follow_lag_ns;      /* the last catch-up's */
	int64_t follow_down_mono_ns; /* since when the watch is down (CLOCK_MONOTONIC; 0: up) */
	char follow_err[256];
	bool nodes_err;          /* the last node sync failed (logged once) */
	char node_name[AH_NAME_MAX]; /* the node this daemon serves ("" off a fleet) */
	char errbuf[512];
};

/* CLOCK_MONOTONIC now (for how long something has lasted). */
int64_t api_mono_now_ns(void);

/* A route's permission: which roles may call it. */
enum {
	R_VIEWER = 1 << AH_ROLE_VIEWER,
	R_TENANT = 1 << AH_ROLE_TENANT,
	R_OPERATOR = 1 << AH_ROLE_OPERATOR,
	R_ADMIN = 1 << AH_ROLE_ADMIN,
	R_READ = R_VIEWER | R_TENANT | R_OPERATOR | R_ADMIN,
	R_STAFF_READ = R_VIEWER | R_OPERATOR | R_ADMIN, /* not tenant-scoped data */
	R_WRITE = R_TENANT | R_OPERATOR | R_ADMIN,
	R_OPS = R_OPERATOR | R_ADMIN,
};

#define K_READ AH_API_READ
#define K_WRITE AH_API_WRITE
#define K_EXCLUSIVE AH_API_EXCLUSIVE
typedef ah_api_kind api_kind;

/* One call as a route sees it. */
typedef struct {
	ah_api *a;
	const ah_api_request *rq;
	const api_principal *who;
	int64_t now_ns;
	const char *param;           /* the {id} / {name} of the path, or NULL */
	json_t *body;                /* decoded JSON body (object) or NULL */
	ah_api_response *out;
	bool keep_compact;           /* an Idempotency-Key's call: api_reply keeps... */
	char *compact;               /* ...the answer compact too, for the stored copy, */
	const char *compact_of;      /* ...made with this out->body */
} api_call;

typedef void (*api_handler)(api_call *c);

/* ---- answers ---- */
/* Takes the reference; encodes with ah_json_dumps. */
void api_reply(api_call *c, int status, json_t *o);
/* {"error": {"code", "message", "field"}}; field may be NULL. */
void api_error(api_call *c, int status, const char *code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* A service error as its HTTP answer (AH_ENOENT 404, AH_EINVAL 400, ...). */
void api_error_rc(api_call *c, int rc, const char *what);

/* ---- request bodies and arguments ---- */
const char *api_arg(const api_call *c, const char *key);
/* The body must be a JSON object with only the listed members (NULL
 * terminated); answers 400 naming the field otherwise. */
bool api_body_check(api_call *c, const char *const *allowed);
/* Member as a string / integer / resources / duration; false after an
 * answer (400 naming the field); *present says whether it was there. */
bool api_body_string(api_call *c, const char *field, size_t max, const char **out, bool *present);
bool api_body_vec(api_call *c, const char *field, bool usage, ah_vec *out, bool *present);
bool api_body_duration(api_call *c, const char *field, int64_t *out_ns, bool *present);
bool api_body_params(api_call *c, const char *field, char *out, size_t len);
/* The resourceVersion the client echoed (body member or If-Match-like
 * argument); NULL when none. */
const char *api_body_version(api_call *c);
/* Parses the {id} of the path; false after a 404. */
bool api_path_id(api_call *c, uint64_t *out);

/* ---- tenancy ---- */
/* May the caller see objects of this tenant? (false: answer 404) */
bool api_sees_tenant(const api_call *c, const char *tenant);

/* ---- routes ---- */
void api_alloc_create(api_call *c);
void api_alloc_list(api_call *c);
void api_alloc_get(api_call *c);
void api_alloc_release(api_call *c);
void api_alloc_renew(api_call *c);
void api_alloc_usage(api_call *c);
void api_queue_list(api_call *c);
void api_pool_list(api_call *c);
void api_pool_get(api_call *c);
void api_pool_create(api_call *c);
void api_pool_resize(api_call *c);
void api_pool_delete(api_call *c);
void api_tenant_list(api_call *c);
void api_tenant_get(api_call *c);
void api_tenant_put(api_call *c);
void api_policy_get(api_call *c);
void api_policy_put(api_call *c);
void api_events_list(api_call *c);
void api_workload_recommend(api_call *c);
void api_workload_history(api_call *c);
/* the usage history (api_shadow.c) */
void api_workload_history_import(api_call *c);
void api_workload_requests(api_call *c);
void api_series_list(api_call *c);
void api_history_compact(api_call *c);
void api_token_list(api_call *c);
void api_token_create(api_call *c);
void api_token_revoke(api_call *c);
void api_token_rotate(api_call *c);
void api_audit_list(api_call *c);
void api_stats(api_call *c);
void api_host_get(api_call *c);
void api_openapi(api_call *c);
void api_anomalies_list(api_call *c);
/* the dashboard (web.c): GET / and GET /static/{file} */
void api_web_index(api_call *c);
void api_web_file(api_call *c);
void api_metrics_route(api_call *c);
void api_pool_history(api_call *c);
void api_workload_list(api_call *c);
void api_workload_forecast(api_call *c);

/* The queued requests the engine holds at start, for the queue wait
 * (metrics.c). */
void api_metrics_seed(ah_api *a);

/* ---- the route table (api.c), for the metrics' route label ---- */
/* The route's index, or -1 when none matches. */
int api_route_index(const char *method, const char *path);
/* Method and path template of the route at index i. */
void api_route_at(int i, const char **method, const char **path);

/* ---- tokens (api_auth.c) ---- */
int api_tokens_load(ah_api *a);
void api_tokens_fini(api_tokens *t);
/* Authenticates the Authorization header. 0: *who filled (authenticated
 * or not); <0 storage error. */
int api_authenticate(ah_api *a, const char *authorization, int64_t now_ns, api_principal *who, const char **why);
/* Creates a token: writes the secret (shown once) to secret. */
int api_token_make(ah_api *a, const char *name, ah_role role, const char *tenant, int64_t expires_ns,
		   const char *rotated_from, int64_t now_ns, ah_token_row *out_row, char *secret, size_t len);
json_t *api_json_token(const ah_token_row *t);

/* ---- policy edits for pools and tenants (api_policy.c) ---- */
/* Applies TEXT as the new policy through the service's path; answers the
 * error itself and returns false on failure. */
bool api_apply_policy_text(api_call *c, const char *text, const char *name);

/* ---- shared encoders ---- */
json_t *api_json_list(ah_api *a, json_t *items);
/* versions (api_events.c): loaded at start, refreshed after each commit */
int api_versions_load(ah_api *a);
void api_versions_refresh(ah_api *a);
/* This allocation (a renew: no engine change) / every pool (a policy)
 * changes with the next commit. */
void api_touch(ah_api *a, uint64_t id);
void api_touch_all_pools(ah_api *a);
/* The engine's observer feeding api_touch. */
void api_on_change(void *ctx, const ah_engine_change *ch);
void api_set_version(json_t *o, int64_t v);

/* constant-time, for token hashes */
bool api_ct_equal(const uint8_t *a, const uint8_t *b, size_t n);
void api_sha256(const void *data, size_t len, uint8_t out[32]);

#endif
