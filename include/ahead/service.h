/* ahead: the service layer — the one control loop every front end walks.
 *
 * An ah_service owns the ledger, the applied policy, the engine, the shadow
 * store (usage history), the predictor over it, the sizer and the pool
 * scaler. The CLI opens one per command, `ahead serve` keeps one alive, and
 * replay drives the same scale step (ah_scale_loop), so what replay scores
 * is what production runs:
 *
 *   request → prediction (shadow) → engine admission → ledger commit →
 *   record in the shadow → usage reports → sizer → resize → feedback
 *
 * The clock is passed in (now_ns) on every call; the service never reads
 * it and never prints: warnings (a broken shadow store is history, never a
 * gate) go to the `warn` callback. Errors are negative AH_E* codes; the
 * storage's own message is ah_service_errmsg(). After a storage error the
 * service reloads its engine from the ledger before the next call, so one
 * failed transaction never refuses all later work. A policy applied by
 * another process is noticed (its generation) and loaded before the next
 * call. */
#ifndef AHEAD_SERVICE_H
#define AHEAD_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ahead/cluster_status.h"
#include "ahead/node.h"
#include "ahead/engine.h"
#include "ahead/ledger.h"
#include "ahead/policy.h"
#include "ahead/predictor_shadow.h"
#include "ahead/resource.h"
#include "ahead/scale_loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ah_service ah_service;

typedef struct {
	const char *db_path;      /* the ledger (SQLite file) */
	const char *shadow_path;  /* NULL = beside the ledger (x-shadow.db); "" = none */
	bool create_shadow;       /* may create the shadow store (alloc --workload starts history) */
	bool need_policy;         /* refuse to open a ledger with no policy applied (default true) */
	/* Warnings (history not recorded, prediction failed, ...): one line
	 * each, without the program name. NULL drops them. */
	void (*warn)(void *ctx, const char *msg);
	void *warn_ctx;
} ah_service_opts;

void ah_service_opts_init(ah_service_opts *o);

/* Opens the ledger and its applied policy and builds the engine at now_ns.
 * On failure writes a message for people to err (naming the file). */
int ah_service_open(const ah_service_opts *o, int64_t now_ns, ah_service **out, char *err, size_t errlen);
void ah_service_free(ah_service *s);

/* Borrowed: valid until the next mutating call. */
const ah_policy *ah_service_policy_get(const ah_service *s);
const ah_engine *ah_service_engine_get(const ah_service *s);
/* After-commit observers (enforcement, metrics, live events): told of
 * every grant, resize, preemption, expiry, release and queue change once
 * the ledger has it, in order, never inside a transaction. They stay
 * across engine rebuilds (a policy applied elsewhere). At most
 * AH_ENGINE_MAX_OBSERVERS. */
int ah_service_add_observer(ah_service *s, const ah_engine_observer *o);
/* The ledger, borrowed (backup, tests); NULL-safe. */
ah_ledger *ah_service_ledger_get(ah_service *s);
/* The ledger's path (borrowed). */
const char *ah_service_db_path(const ah_service *s);
/* The usage history's store this service records to (the --shadow-db
 * flag's, or the one beside a SQLite ledger), or NULL when it has none. */
const char *ah_service_shadow_path(ah_service *s);
/* The storage's message for the last error ("database is locked", ...). */
const char *ah_service_errmsg(const ah_service *s);

/* ---- the request path ---- */

typedef struct {
	ah_decision d;
	const char *workload;     /* the request's, or NULL */
	bool have_info;           /* info below is filled (a prediction sized it) */
	ah_shadow_prediction_info info; /* what the prediction rested on, per dimension */
} ah_service_decision;

/* Admission, with prediction from the workload's history when the request
 * names one; a granted or queued request of a workload is recorded in the
 * shadow store. Ends of allocations that ended without release (expired,
 * preempted, timed out) close their records. */
int ah_service_request(ah_service *s, const ah_request *rq, int64_t now_ns, ah_service_decision *out);
/* n replicas of one request (ah_engine_request_replicas: each its own
 * allocation, granted, queued or refused on its own), out[0..n). */
int ah_service_request_replicas(ah_service *s, const ah_request *rq, int n, int64_t now_ns,
				ah_service_decision *out);
/* The replica whose outcome stands for all of them (the answer's status
 * and exit code): the first refused, else the first queued, else 0. */
int ah_service_replicas_lead(const ah_service_decision *sd, int n);
/* Releases (or cancels) and ends the request record, which later
 * predictions learn from. AH_ENOENT if unknown. */
int ah_service_release(ah_service *s, uint64_t id, int64_t now_ns);
int ah_service_renew(ah_service *s, uint64_t id, int64_t ttl_ns, int64_t now_ns, int64_t *out_expires_ns);
/* The same, saying what lease was given and whether max_lease_ttl capped
 * what was asked. */
int ah_service_renew_lease(ah_service *s, uint64_t id, int64_t ttl_ns, int64_t now_ns, ah_renew_outcome *out);

typedef struct {
	ah_adjust_outcome o;
	char workload[128];       /* recorded for this workload, or "" */
} ah_service_report_out;

/* usage: AH_USAGE_NONE in each dimension not measured. Sized by the
 * policy's `sizing` (the built-in rule or an allocation policy warmed on
 * the workload's history); the usage goes to the workload's series. */
int ah_service_report(ah_service *s, uint64_t id, const ah_vec *usage, int64_t now_ns, ah_service_report_out *out);

typedef struct {
	int live_before, allocs, queued;
	size_t records_closed;    /* shadow records of ended allocations closed */
} ah_service_tick_out;

int ah_service_tick(ah_service *s, int64_t now_ns, ah_service_tick_out *out);

/* ---- group commit ---- */

/* Calls between begin and end share one ledger transaction (and one
 * shadow-store transaction): `ahead serve` answers a batch of concurrent
 * requests with one fsync. Answers must not be passed on before end
 * returns 0; when it fails nothing of the batch happened (the engine is
 * rebuilt from the ledger before the next call). A policy applied
 * elsewhere is picked up after the batch, not inside it. */
int ah_service_batch_begin(ah_service *s, int64_t now_ns);
int ah_service_batch_end(ah_service *s, int64_t now_ns);
bool ah_service_in_batch(const ah_service *s);
/* Picks up now what the ledger changed under the service (a policy applied
 * by another connection), instead of at the next call. */
int ah_service_sync(ah_service *s, int64_t now_ns);

/* Sets a pool's capacity (an operator's resize), granting what then fits;
 * AH_ENOENT for an unknown pool. */
int ah_service_set_capacity(ah_service *s, const char *pool, const ah_vec *capacity, int64_t now_ns);

/* ---- seeing what the loop holds ---- */

/* One allocation (or queued request) as people and scripts ask about it:
 * what the engine holds, the request record the usage history keeps for it
 * (workload, parameters, what was predicted at grant and by which model —
 * record.dims[].model, model_n —, the peak, mean and last usage this
 * allocation reported), what the history would predict for it now and by
 * which model (which may differ from the model at grant), and its
 * resizes. */
#define AH_SERVICE_RESIZES_SHOWN 5

typedef struct {
	int64_t t_ns;
	char resources[256];        /* the size after it */
	char why[128];              /* "sizer: grow", "pending grow: room freed", ... */
} ah_service_resize;

typedef struct {
	ah_engine_item item;        /* borrowed until the next call */
	bool have_record;
	ah_shadow_request record;   /* when have_record */
	int n_resizes;
	int64_t last_resize_ns;     /* -1: never resized */
	int n_recent;               /* the newest resizes, oldest first */
	ah_service_resize recent[AH_SERVICE_RESIZES_SHOWN];
	/* This allocation's own newest usage report per dimension (from its
	 * record; AH_USAGE_NONE where it reported none). */
	bool have_last;
	ah_vec last_usage;
	int64_t last_usage_ns;      /* the newest of their times */
	/* What the history would predict for this request now, at the
	 * class's quantile, and from what (the model per dimension): not what
	 * sized it (that is the record's). */
	bool have_model;
	ah_vec model_prediction;
	ah_shadow_prediction_info model;
} ah_service_description;

/* AH_ENOENT when id is neither live nor queued. */
int ah_service_describe(ah_service *s, uint64_t id, int64_t now_ns, ah_service_description *out);

/* What a workload should be given, per dimension (like `kubectl describe
 * vpa`): target at the class's quantile, lower at the median, upper at the
 * 99th percentile (or the class's quantile if higher), from the usage
 * history; the model each rests on and how much history it saw; and how
 * far past predictions were from what ended requests used (peak vs
 * predicted, over the ended records that carry both). */
typedef struct {
	double q_lower, q_target, q_upper;
	int n_dims;
	struct {
		bool known;             /* the history says something for this dimension */
		int64_t lower, target, upper; /* base units */
		ah_psh_source source;
		size_t n;               /* records or samples behind it */
		size_t n_scored;        /* ended records with a prediction and a peak */
		double mean_abs_error;  /* mean |peak - predicted| / predicted over them */
		double under_rate;      /* the share whose peak was above the prediction */
	} dim[AH_MAX_DIMS];
} ah_service_recommendation;

/* AH_ENOENT when the workload has no history (err says so and how to
 * give it some). klass NULL = the policy's default class. */
int ah_service_recommend(ah_service *s, const char *workload, const char *params, const char *klass,
			 ah_service_recommendation *out, char *err, size_t errlen);

/* ---- pool shaping: one step of the scale loop against this ledger ---- */
/* Whether this instance runs the shaping step now. A SQLite ledger has one
 * owner: always. On etcd, the instance holding the shaper election
 * (PREFIX/shaper, include/ahead/etcd_election.h; campaigning when the key
 * is free), with its fencing token set on the ledger, so the step's
 * transactions are refused if it was deposed meanwhile; call
 * ah_service_shaper_end after the step. */
typedef struct {
	bool mine;
	long long token;        /* etcd: the election key's create revision */
	char holder[128];       /* etcd: who holds it */
} ah_service_shaper;
int ah_service_shaper_begin(ah_service *s, ah_service_shaper *out);
void ah_service_shaper_end(ah_service *s);

/* ---- one writer (docs/CLUSTER.md "One writer") ---- */
/* The instances of an etcd ledger that advertise a URL elect one of them
 * (PREFIX/writer, named by its URL) to take every allocation write; the
 * others forward theirs to it. Only an optimisation: every commit still
 * compares the head, whoever makes it. Campaigns with self_url when the
 * key is free and says who holds it; a SQLite ledger: always mine. */
typedef struct {
	bool mine;
	char holder[128];       /* the writer's URL ("" when nobody holds it) */
} ah_service_writer;
int ah_service_writer_step(ah_service *s, const char *self_url, ah_service_writer *out);

/* The policy's max_clock_skew as this ledger applies it (auto: 0 with one
 * owner, AH_CLUSTER_SKEW_DEFAULT_NS on etcd). */
int64_t ah_service_clock_skew_ns(const ah_service *s);

/* ---- a shared ledger's view kept in step (etcd) ---- */
/* Starts the watch on an etcd ledger's head (include/ahead/etcd_watch.h)
 * at the first call and returns its file descriptor, readable when some
 * instance committed; -1 for a ledger that needs none (SQLite: this
 * process is its only writer) or when the watch could not start (errmsg;
 * the view is then brought up to date by ticks and writes only). */
int ah_service_watch_fd(ah_service *s);
/* Whether the ledger is one a watch keeps in step (etcd). */
bool ah_service_watch_wanted(const ah_service *s);
typedef struct {
	bool watching;          /* a watch runs (etcd) */
	bool reloaded;          /* this call loaded the view again */
	bool pending;           /* a reload is due but waits (at most 20 ms apart): call again soon */
	bool relisted;          /* ... in full, the watch's history having been compacted */
	bool restarted;         /* the stream had stopped delivering: opened again on the next member */
	bool up;                /* the stream is open */
	long long view_rev;     /* the revision the view is at after the call */
	long long watch_rev;    /* the newest head revision the watch reported */
	long long relists, reconnects;
	long long compacted_rev; /* this call compacted etcd's history to it (0: it did not) */
	int64_t lag_ns;         /* when reloaded: from the watch's report to the view having it */
	char err[256];          /* why the stream last dropped ("" when it never did) */
	char endpoint[128];     /* the member the stream is on */
} ah_service_follow_out;
/* Brings the view up to what the watch reported (a reload when the watch
 * saw a newer head than the view's, or a compaction), and restarts a
 * stream that lags the view for more than AH_SERVICE_WATCH_STALL_NS (a
 * paused member keeps its socket open but sends nothing). Publishes the
 * view's revision and the watch's state on the instance key at most once
 * a second (`ahead cluster status`), and keeps etcd's history short
 * (ah_ledger_etcd_history_step). A no-op inside a batch and for a
 * ledger without a watch. mono_ns: CLOCK_MONOTONIC now. */
#define AH_SERVICE_WATCH_STALL_NS INT64_C(2000000000)
int ah_service_follow(ah_service *s, int64_t now_ns, int64_t mono_ns, ah_service_follow_out *out);
/* The next ah_service_follow loads the view from the ledger whatever the
 * watch reported, at once (a forwarding instance's read after a write the
 * writer made: docs/CLUSTER.md "One writer"). */
void ah_service_follow_force(ah_service *s);

int ah_service_scale_step(ah_service *s, int64_t now_ns, const ah_scale_exec *exec, bool dry_run,
			  ah_scale_observer_fn fn, void *ctx, ah_scale_step_out *out);

/* ---- policy ---- */

/* Validates TEXT as a policy, checks that every live allocation and queued
 * request still resolves under it, and applies it atomically (a policy
 * event in the ledger). Creates the ledger file if needed. err names the
 * file, line and field on a bad policy; *out_policy (may be NULL) gets the
 * loaded policy, to free with ah_policy_free. */
int ah_service_policy_apply(const char *db_path, const char *text, size_t len, const char *name, int64_t now_ns,
			    ah_policy **out_policy, char *err, size_t errlen);
/* The applied policy's text (to free) and when it was applied. */
int ah_service_policy_text(const char *db_path, char **out_text, int64_t *out_applied_ns, char *err, size_t errlen);

/* ---- backup ---- */

/* Copies the ledger at db_path to dest_path while it is in use (SQLite's
 * online backup), a consistent snapshot of committed state. */
int ah_service_backup(const char *db_path, const char *dest_path, char *err, size_t errlen);

/* `ahead cluster status`: the etcd cluster behind an etcd ledger URL
 * (include/ahead/cluster_status.h). AH_EINVAL for a path that is not one. */
int ah_service_cluster_status(const char *path, ah_cluster_status *out, char *err, size_t errlen);
/* ---- nodes of a fleet (include/ahead/node.h) ---- */

/* `ahead serve --join`: registers this host as node `name` on the service's
 * etcd ledger with labels ("k=v,..." or NULL) and capacity ("cpu=2,
 * memory=8Gi" in the policy's dimensions and units; NULL or a dimension
 * left out: what proc_root shows for cpu and memory dimensions, none for
 * the others). out (may be NULL): the spec registered. */
int ah_service_node_join(ah_service *s, const char *name, const char *labels, const char *capacity,
			 const char *proc_root, int64_t wall_ns, ah_node_spec *out, char *err, size_t errlen);
/* Whether path is an etcd ledger URL (etcd://...). */
bool ah_service_is_etcd_url(const char *path);
/* `ahead node ls|describe`, `cordon|uncordon|drain` over an etcd ledger URL. */
int ah_service_node_list(const char *path, ah_node_list *out, char *err, size_t errlen);
int ah_service_node_cordon(const char *path, const char *name, bool cordoned, bool draining, char *err,
			   size_t errlen);
/* This node's observed record, published on its instance key with the
 * view (the daemon's failed cgroup limit writes, and the OOM kills it saw
 * in its allocations' cgroups): placement prefers nodes with fewer for
 * high classes. */
void ah_service_set_node_record(ah_service *s, uint64_t enforce_errors, uint64_t kills);
/* Gives the engine the etcd ledger's nodes (pools on nodes: capacity,
 * placement, moves off down and draining nodes; engine.h) when the list
 * changed or every few seconds; the daemon calls it each second. 0 with
 * nothing done on other stores or without a pool on nodes. out (may be
 * NULL): what moved. */
int ah_service_nodes_sync(ah_service *s, int64_t now_ns, int64_t mono_ns, ah_node_moves *out, char *err,
			  size_t errlen);

/* Replaces the ledger at db_path by a backup, after checking it is an
 * ahead ledger this version can read; atomic (the old ledger stays on any
 * failure). No process may have the ledger open meanwhile. */
int ah_service_restore(const char *backup_path, const char *db_path, char *err, size_t errlen);

/* ---- events ---- */
typedef struct {
	int64_t after_seq;        /* 0 = from the start */
	int64_t since_ns;         /* events at or after this time; 0 = any */
	int limit;                /* <= 0 = all */
	uint64_t id;              /* 0 = every allocation */
} ah_event_filter;

typedef struct {
	int64_t seq, t_ns;
	const char *kind, *tenant, *pool, *klass, *resources, *reason, *detail;
	uint64_t id;
	const char *data;         /* JSON object (scale events) or "" */
} ah_service_event;

/* Reads events without creating a ledger where none exists. */
int ah_service_events(const char *db_path, const ah_event_filter *f,
		      int (*fn)(void *ctx, const ah_service_event *ev), void *ctx, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
