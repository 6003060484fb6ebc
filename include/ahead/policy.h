/* ahead: the policy — dimensions, pools, priority classes, tenants, defaults.
 *
 * A policy is read from one human-edited INI file (docs/POLICY.md is the
 * reference). Loading is all-or-nothing: either every section and key is
 * valid and a complete ah_policy is returned, or an error naming the file,
 * line, key and reason is returned and nothing is produced. */
#ifndef AHEAD_POLICY_H
#define AHEAD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ahead/duration.h" /* the policy's durations */
#include "ahead/resource.h"

#ifdef __cplusplus
extern "C" {
#endif

/* AH_MAX_POOLS, AH_MAX_CLASSES, AH_MAX_TENANTS, AH_MAX_SOURCES, AH_POLICY_MAX_BYTES,
 * AH_SCALE_HOOK_MAX(_ARGS): limits.h. */

/* A limit value meaning "no limit" in quota/max vectors. */
#define AH_UNLIMITED AH_VALUE_MAX

/* What a prediction may do to resources a request states explicitly. A
 * request that states none is always sized by its prediction. */
enum { AH_PREDICT_OFF = 0, AH_PREDICT_RAISE = 1, AH_PREDICT_LOWER = 2, AH_PREDICT_BOTH = 3 };

typedef struct {
	char name[AH_NAME_MAX];
	int priority;          /* 0..1000, higher wins; unique per class */
	double quantile;       /* prediction quantile in (0,1), e.g. 0.99 */
	double margin;         /* safety margin over the prediction, >= 0 (0.1 = +10%) */
	bool preempt;          /* may evict lower-priority allocations (default false) */
	int prediction;        /* AH_PREDICT_*: may a prediction change explicit resources? */
	ah_vec max_request;    /* per dimension; AH_UNLIMITED = no maximum */
	int64_t lease_ttl_ns;  /* default lease for this class; 0 = policy default */
	int64_t queue_timeout_ns; /* 0 = policy default; requests may ask for less */
	/* Pool shaping: cost of one base unit of demand left unserved for an
	 * hour, per dimension (0 = shortfall of this class costs nothing). */
	double shortfall_cost[AH_MAX_DIMS];
	/* [linux] enforcement of this class's allocations (ahead run):
	 * AH_ENFORCE_INHERIT (default: [linux] enforce), _ON or _DRY_RUN. */
	int enforce;
	/* What `ahead run` reserves for a workload with no history (zero:
	 * the built-in cpu=1, memory=256Mi). */
	ah_vec run_default;
} ah_class_policy;

typedef struct {
	char name[AH_NAME_MAX];
	ah_vec capacity;       /* current size */
	ah_vec min_size;       /* scaling bounds: min_size <= capacity <= max_size */
	ah_vec max_size;
	ah_vec unit;           /* allocation unit per dimension, >= 1 */
	ah_vec min_request;    /* smallest request per dimension, 0 = none */
	ah_vec headroom;       /* part of capacity only classes with priority >= headroom_priority may use */
	int headroom_priority;
	int max_queue;         /* queued requests cap for this pool (default 10000) */
	/* Predictive shaping (docs/SCALING.md). Costs are stored per base unit
	 * (millicore, byte, ...) whatever quantity the file priced. */
	bool shaping;          /* the scaler may resize this pool (default off) */
	double capacity_cost[AH_MAX_DIMS]; /* per base unit held per hour */
	double create_cost[AH_MAX_DIMS];   /* per base unit added */
	int64_t lead_time_ns;  /* added capacity is usable this long after the decision */
	ah_vec scale_step;     /* sizes change in these steps (default: unit) */
	int64_t stabilise_ns;  /* no scale-down this long after a scale-up (default 10 min) */
	char scale_hook[AH_SCALE_HOOK_MAX]; /* command run as CMD POOL DIM FROM TO; "" = none */
	int64_t hook_timeout_ns; /* per attempt (default 60 s) */
	int hook_retries;      /* retries after a failed attempt (default 3) */
	char parent[AH_NAME_MAX]; /* pools with the same parent may trade capacity; "" = none */
	/* A pool on the nodes of an edge fleet (docs/PLACEMENT.md, "Pools on
	 * nodes"): its capacity is the sum of the up nodes that carry every
	 * label of the selector ("*": every node), each allocation is placed
	 * on one of them. "" = an ordinary pool with the capacity it states. */
	char nodes[AH_NODE_SELECT_MAX];
	char spread[AH_PLACE_LABEL_KEY_MAX]; /* spread a workload's allocations across this label's values too */
	bool node_down_evict;  /* a down node's allocations that fit nowhere else: ended (else queued again) */
	bool rebalance;        /* may move an allocation to another node to make room for the queue's head */
	/* Shaping a pool on nodes (shaping = on): the scaler adds or removes
	 * whole nodes through the scale hook (HOOK POOL nodes FROM TO [NODE]);
	 * node_size is what one new node offers, min_nodes..max_nodes the
	 * bounds (min_size/max_size are node_size times them). */
	ah_vec node_size;
	int min_nodes, max_nodes;
} ah_pool_policy;

typedef struct {
	char name[AH_NAME_MAX];
	ah_vec quota;          /* hard quota per dimension; AH_UNLIMITED = none */
	double rate_per_s;     /* token-bucket refill, requests/s; 0 = unlimited */
	double burst;          /* bucket size; default max(1, rate) */
} ah_tenant_policy;

/* A [source NAME]: a Prometheus range query the daemon polls every
 * every_ns into the usage history of workload/dim (docs/SHADOW.md). */
typedef struct {
	char name[AH_NAME_MAX];
	char url[AH_PROM_URL_MAX + 1];     /* base URL, http(s)://host:port[/prefix] */
	char query[AH_PROM_QUERY_MAX + 1]; /* PromQL; must yield one series (or match picks one) */
	char workload[AH_NAME_MAX];
	char dim[AH_NAME_MAX];             /* a policy dimension */
	char unit[16];                     /* an input unit (input_unit.h); "" = base units */
	double of_cores;                   /* unit percent: the cores 100 percent stands for; 0 = none */
	char match[AH_PROM_MATCH_TEXT_MAX + 1]; /* "L=V[,L=V]"; "" = none */
	int64_t step_ns;                   /* the query's resolution (default 60 s) */
	int64_t every_ns;                  /* how often the daemon polls (default 60 s, >= 1 s) */
	int64_t lookback_ns;               /* how far back the first poll reads (default 1 h) */
} ah_source_policy;

/* Enforcement (the [linux] section's and a class's `enforce`): limits
 * written (on), decisions logged but no limit touched (dry-run), or no
 * enforcement at all, the global stop switch (off; [linux] only). */
typedef enum { AH_ENFORCE_ON = 0, AH_ENFORCE_DRY_RUN = 1, AH_ENFORCE_OFF = 2, AH_ENFORCE_INHERIT = 3 } ah_enforce_mode;
/* What stopping enforcement does to the limits ahead wrote: leave them,
 * or restore what the cgroup had before ahead. */
typedef enum { AH_ON_STOP_LEAVE = 0, AH_ON_STOP_RESTORE = 1 } ah_on_stop;
/* What `ahead run --server` does when the daemon does not answer: refuse
 * (the safe default), run the command unconfined, or run it confined at the
 * class default without a reservation. */
typedef enum { AH_RUN_UNREACHABLE_REFUSE = 0, AH_RUN_UNREACHABLE_UNCONFINED = 1,
	       AH_RUN_UNREACHABLE_CLASS_DEFAULT = 2 } ah_run_unreachable;
/* The daemon's own enforcement of the allocations granted through its API
 * ([linux] enforce_api): off (the default: opt-in), on, dry-run. */
typedef enum { AH_ENFORCE_API_OFF = 0, AH_ENFORCE_API_ON = 1, AH_ENFORCE_API_DRY_RUN = 2 } ah_enforce_api;

/* [linux]: what the daemon does on its own host (docs/LINUX.md). Observe
 * mode records the usage of existing cgroups (and of the host) into the
 * usage history without touching their limits. */
typedef struct {
	bool on;                    /* the section is present */
	int n_observe;
	char observe[AH_LINUX_OBSERVE_MAX][AH_LINUX_GLOB_MAX]; /* cgroup paths (fnmatch globs) under each mount */
	int64_t interval_ns;        /* sampling interval, 100 ms to 1 h (default 5 s) */
	bool host;                  /* observe the host as workload "host" (default yes) */
	int max_cgroups;            /* observed at most (default 100) */
	char proc_root[AH_LINUX_ROOT_MAX];     /* default /proc */
	char cgroup_prefix[AH_LINUX_ROOT_MAX]; /* prefixed to mount points (tests); default "" */
	/* Safety controls (docs/POLICY.md): these hold with or without the
	 * section (zero is the safe default of each). */
	ah_enforce_mode enforce;    /* on (default), dry-run, off (the stop switch) */
	ah_on_stop on_stop;         /* with enforce = off: leave (default) or restore */
	uint64_t shrink_cap_bytes;  /* one shrink takes at most this (0: no byte cap) */
	double shrink_cap_frac;     /* ... or this share of the limit (0: none) */
	ah_run_unreachable run_unreachable; /* default refuse */
	double run_hard_margin;     /* ahead run's memory hard level above the reservation (default 0.25) */
	ah_enforce_api enforce_api; /* the daemon's cgroup per allocation (default off) */
	char api_cgroup_parent[AH_LINUX_PARENT_MAX]; /* relative to each mount; "" = "ahead" */
	bool adopt_drift;           /* on_drift: restore (false, default) or adopt a limit changed by hand */
	bool sample_allocs;         /* sample_allocations: the daemon reports its cgroups' usage (default yes) */
	int n_io_devices;           /* io_devices: where the io dimension is enforced (io.max / blkio) */
	struct { uint32_t major, minor; } io_devices[AH_LINUX_IO_DEVICES_MAX];
} ah_linux_policy;

typedef enum {
	AH_DURABILITY_PROCESS = 0, /* WAL, synchronous=NORMAL: survives kill -9 */
	AH_DURABILITY_POWER = 1    /* WAL, synchronous=FULL: survives power loss */
} ah_durability;

/* What sizes a running allocation from its usage reports: the engine's
 * built-in rule (grow at 90%, shrink after 10 min below 50%), or one of the
 * allocation policies `ahead replay` scores, through the engine's sizer
 * (so production does what replay measured). Same order as ah_sizing_kind
 * (include/ahead/sizing.h), shifted by one. */
typedef enum {
	AH_SIZING_BUILTIN = 0,
	AH_SIZING_STATIC,
	AH_SIZING_THRESHOLD,
	AH_SIZING_VPA,
	AH_SIZING_AUTOPILOT,
	AH_SIZING_AHEAD
} ah_sizing;

typedef struct ah_policy {
	ah_dimset dims;        /* built-ins first, then custom dimensions */
	int n_pools, n_classes, n_tenants;
	ah_pool_policy pools[AH_MAX_POOLS];
	ah_class_policy classes[AH_MAX_CLASSES];
	ah_tenant_policy tenants[AH_MAX_TENANTS];
	int n_sources;
	ah_source_policy sources[AH_MAX_SOURCES];
	ah_linux_policy linux_host;

	int64_t lease_ttl_ns;      /* default 5 min */
	int64_t queue_timeout_ns;  /* default 30 s; 0 = never queue, refuse instead */
	int64_t max_lease_ttl_ns;  /* cap on requested leases, default 24 h */
	bool autocorrect;          /* correct policy breaks instead of refusing (default false) */
	int default_class;         /* index into classes */
	bool unknown_tenants;      /* true: unknown tenants use default_tenant; false: refused */
	ah_tenant_policy default_tenant;
	ah_durability durability;
	ah_sizing sizing;          /* default builtin */
	int64_t report_interval_ns; /* how often usage is reported (the sizer's step); 5 min */
	/* The most two instances' wall clocks may differ (docs/CLUSTER.md
	 * "Clocks"): a lease or a queue deadline ends only this long after its
	 * time, so a fast clock never ends one early. -1: auto (0 on a ledger
	 * with one owner, AH_CLUSTER_SKEW_DEFAULT_NS on a shared one). */
	int64_t max_clock_skew_ns;
} ah_policy;

/* Loads and validates a policy file. On failure returns AH_EPARSE,
 * AH_EPOLICY, AH_EIO or AH_ETOOBIG and writes "FILE:LINE: [section] key:
 * reason" into err. */
int ah_policy_load_file(const char *path, ah_policy **out, char *err, size_t errlen);
/* Same, from memory; name is used in error messages. */
int ah_policy_load_string(const char *text, size_t len, const char *name, ah_policy **out,
			  char *err, size_t errlen);
void ah_policy_free(ah_policy *p);

int ah_policy_find_pool(const ah_policy *p, const char *name);   /* index or -1 */
int ah_policy_find_class(const ah_policy *p, const char *name);  /* index or -1 */
int ah_policy_find_tenant(const ah_policy *p, const char *name); /* index or -1 */

/* Durations (ah_duration_parse, ah_duration_format): duration.h. */

#ifdef __cplusplus
}
#endif
#endif
