/* The service's private state, shared by its files (not a public header). */
#ifndef AHEAD_SERVICE_INT_H
#define AHEAD_SERVICE_INT_H

#include <stdarg.h>

#include "ahead/predictor_shadow.h"
#include "ahead/service.h"
#include "ahead/shadow.h"
#include "ahead/shadow_alloc.h"

#define AH_SERVICE_PATH_MAX 4096

/* Allocations this process knows to have no request record (service_records.c). */
typedef struct {
	uint64_t *keys;           /* ids granted here without a record; 0 empty, UINT64_MAX released */
	size_t cap, n, used;
} ah_service_recset;
/* Notes an id granted (or queued) by this process, with or without a record. */
void ah_service_recset_note_grant(ah_service_recset *r, uint64_t id, bool has_record);
/* Whether the id may have a record (false only for ids known to have
 * none); consumes the id's entry: call once, at its end. */
bool ah_service_recset_may_have(ah_service_recset *r, uint64_t id);
void ah_service_recset_fini(ah_service_recset *r);

/* etcd: one workload's published model state, loaded for prediction
 * (model_shared.c). */
#define AH_SERVICE_MODELS 16
typedef struct {
	char workload[AH_SHADOW_WORKLOAD_MAX];
	long long rev;            /* the publication's mod revision */
	ah_shadow *mem;           /* it, as an in-memory store */
	ah_shadow_predictor *pred;
	int64_t used, checked_ns; /* last use; when this instance last merged its history into it */
} ah_service_model;

struct ah_service {
	ah_service_opts opts;
	char db_path[AH_SERVICE_PATH_MAX];
	ah_ledger *led;
	ah_policy *pol;
	ah_engine *eng;
	/* usage history: opened on first use, never a gate */
	char shadow_path[AH_SERVICE_PATH_MAX];
	bool shadow_tried;
	ah_shadow *sh;
	ah_shadow_predictor *pred;
	ah_shadow_predictor *pred_use; /* the one sizing this request: pred, or a published state's (etcd) */
	int pred_err;             /* a storage fault during the last prediction */
	ah_scale_loop *loop;
	bool need_reload;         /* a transaction failed: reload before the next call */
	bool follow_force;        /* the next follow reloads whatever the watch said */
	bool in_batch;            /* inside ah_service_batch_begin/end */
	int64_t last_sweep_ns;    /* the request path's last shadow sweep; INT64_MIN: none */
	ah_service_recset records;
	bool shadow_batch;        /* ... and the shadow store's transaction is the batch's */
	uint64_t policy_gen;      /* the applied policy's generation the engine runs */
	ah_engine_observer obs[AH_ENGINE_MAX_OBSERVERS]; /* kept across engine rebuilds */
	int n_obs;
	char errbuf[256];
	struct ah_election *elect; /* etcd: the shaper election (service_ledger.c), made at the first step */
	struct ah_election *writer_elect; /* etcd: the writer election (service_ledger.c), with --advertise */
	struct ah_etcd_watch *watch; /* etcd: the head watch (service_watch.c), made by ah_service_watch_fd */
	bool watch_tried;
	/* pools on nodes (service_node.c): the node list last given to which
	 * engine (a new engine, after a policy change, is told again), and when */
	const ah_engine *nodes_eng;
	uint64_t enforce_errors, published_ee; /* this node's record, and what was published */
	uint64_t kills, published_kills;
	uint64_t nodes_sig;
	int64_t nodes_sync_ns;
	long long watch_base;     /* the revision the stream was (re)started after */
	int64_t watch_behind_ns;  /* since when the view is ahead of what the watch reported (0: it is not) */
	int64_t published_ns;     /* when the view was last published on the instance key */
	long long published_rev;
	bool published_up;
	int64_t watch_reload_ns;  /* when the watch last made the view reload */
	ah_service_model models[AH_SERVICE_MODELS]; /* etcd: published model states, newest used kept */
};

void ah_service_warn(ah_service *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Before every call: reload after a failed transaction. */
int ah_service_prepare(ah_service *s, int64_t now_ns);
/* After every engine call: a storage error leaves the engine to reload. */
int ah_service_after(ah_service *s, int rc);
/* How often a call refused by a shared ledger's compare (AH_EBUSY) is
 * decided again after a reload. */
#define AH_SERVICE_BUSY_RETRIES 8
/* Opens the ledger path names: a SQLite file or etcd:// (service_ledger.c). */
/* instance: an etcd handle registers this process's instance key (the
 * service's own ledger); a handle for one call (policy apply, events,
 * backup) must not: in a daemon it would share the daemon's key (host-pid)
 * and delete it on close, and the node it serves would look down. */
int ah_service_ledger_open(const char *path, ah_durability durability, bool instance, ah_ledger **out, char *err,
			   size_t errlen);
/* The shadow store, opened on first use (NULL when absent or broken). */
ah_shadow *ah_service_shadow(ah_service *s, bool create);
/* etcd: the predictor over the workload's published model state (after
 * publishing this instance's newer history of it), cached by revision;
 * NULL when none is published and none is known here (model_shared.c). */
ah_shadow_predictor *ah_service_shared_predictor(ah_service *s, const char *workload, int64_t now_ns);
void ah_service_models_free(ah_service *s);
/* Sets the engine's sizer for a usage report (NULL = builtin). */
struct ah_sizing_sizer;
int ah_service_sizing_prepare(ah_service *s, uint64_t id, int64_t now_ns, uint32_t present,
			      struct ah_sizing_sizer **out);

#endif
