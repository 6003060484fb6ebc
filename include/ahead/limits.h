/* ahead: every cap on outside input, in one place — what a policy file, a
 * request, a CSV line, a trace, a hook or a name may hold. Other headers
 * refer to these; a cap that is not here is a structural one (table sizes
 * of the engine, the forecaster, ...), not a bound on what people send. */
#ifndef AHEAD_LIMITS_H
#define AHEAD_LIMITS_H

#include <stdint.h>

/* ---- names (names.h), buffer sizes: the longest name is one byte less ---- */
/* Tenant, pool, class and dimension names. */
#define AH_NAME_MAX 64
/* Workload names. */
#define AH_WORKLOAD_MAX 128
/* A request parameter's key and value. */
#define AH_PARAM_KEY_MAX 64
#define AH_PARAM_VALUE_MAX 128
/* Parameters in one request record, ahead's own included (usage.h). */
#define AH_PARAMS_COUNT_MAX 16
/* Bytes of one request's parameter string ("k=v,k2=v2"), NUL excluded. */
#define AH_PARAMS_MAX 1024

/* ---- the policy file (policy.h) ---- */
#define AH_POLICY_MAX_BYTES (4 << 20)
#define AH_MAX_POOLS 64
#define AH_MAX_CLASSES 16
#define AH_MAX_TENANTS 1024
/* [source NAME] sections: series the daemon polls into the usage history. */
#define AH_MAX_SOURCES 64
/* A scale hook command line: what fits on one policy line (libinih's 197
 * characters), split on blanks into at most AH_SCALE_HOOK_MAX_ARGS words. */
#define AH_SCALE_HOOK_MAX 192
#define AH_SCALE_HOOK_MAX_ARGS 16
/* Hook output kept per attempt (hook.h) and per action (scale_loop.h). */
#define AH_HOOK_OUTPUT_MAX 4096
#define AH_SCALE_OUTPUT_MAX 1024

/* ---- scalar grammars (duration.h, timestamp.h, id.h) ---- */
/* Characters of a duration ("1.5m") or a time ("2024-01-01T00:00:00.25Z"). */
#define AH_DURATION_TEXT_MAX 40
#define AH_TIME_TEXT_MAX 40
/* Latest accepted time: 2262-01-01 (keeps t + width free of overflow). */
#define AH_TIME_MAX_NS INT64_C(9214646400000000000)

/* ---- CSV lines (csvline.h) ---- */
/* Bytes per line, line ending excluded: traces, shadow CSV, long-format imports,
 * NAB files. */
#define AH_CSV_LINE_MAX 4096
/* Series CSV (series.h) may be wide: one time column and many series. */
#define AH_SERIES_MAX_LINE (64 * 1024)
#define AH_SERIES_MAX_ROWS ((size_t)50 * 1000 * 1000)

/* ---- traces (trace.h) ---- */
#define AH_TRACE_CPU_MAX ((int64_t)1000000000) /* millicores (1M cores) */
#define AH_TRACE_MEM_MAX ((int64_t)1 << 50)    /* bytes (1 PiB) */
#define AH_TRACE_TIME_MAX ((int64_t)1 << 40)   /* Unix seconds */
/* replay --generate: workloads and days it makes; replay --into: the
 * workloads it follows at once (one allocation each). */
#define AH_TRACE_GEN_WORKLOADS_MAX 10000
#define AH_TRACE_GEN_DAYS_MAX 366
#define AH_REPLAY_INTO_WORKLOADS_MAX 100000

/* ---- what the API keeps in the ledger (api_records.h) ---- */
/* A token's public id ("tk-" + 16 hex), buffer size. Its name (the label
 * kept across rotation) and tenant are names: AH_NAME_MAX. */
#define AH_TOKEN_ID_MAX 40
/* An Idempotency-Key header's value, in bytes. */
#define AH_IDEM_KEY_MAX 128
/* A stored response body (the JSON an idempotent retry gets again). */
#define AH_IDEM_BODY_MAX (64 * 1024)
/* An audit row's fields, in bytes: the request's source address
 * ("[v6]:port"), method and outcome are refused beyond their caps, its
 * path and detail are cut at theirs. */
#define AH_AUDIT_SOURCE_MAX 64
#define AH_AUDIT_METHOD_MAX 16
#define AH_AUDIT_OUTCOME_MAX 64
#define AH_AUDIT_PATH_MAX 1024
#define AH_AUDIT_DETAIL_MAX 1024

/* ---- the daemon's HTTP API (server.h, api.h) ---- */
/* A request body (the policy file is the largest thing sent: AH_POLICY_MAX_BYTES
 * in JSON may be larger, so a policy PUT may use text/plain). */
#define AH_API_BODY_MAX ((size_t)1 << 20)
/* Open connections in all, and from one address (so one client cannot take
 * every slot); watches count. */
#define AH_API_CONN_MAX 1024
#define AH_API_CONN_PER_IP_MAX 512
/* A connection with nothing read or written for this long is closed. */
#define AH_API_IDLE_TIMEOUT_S 15
/* Header bytes per connection (libmicrohttpd's per-connection memory). */
#define AH_API_CONN_MEMORY ((size_t)8 << 10)
/* Telemetry (GET /v1/pools/{name}/history, /metrics): samples kept per pool
 * (24 h at --sample-every, at most this many), and the workload forecast's
 * longest horizon (?horizon=). */
#define AH_TEL_RING_MAX 86400
#define AH_TEL_WORKLOAD_HORIZON_MAX 288

/* ---- history from Prometheus (include/ahead/prom.h) ---- */
/* Points per range query: Prometheus refuses more (its own limit); longer
 * ranges are split into several requests, at most AH_PROM_REQUESTS_MAX. */
#define AH_PROM_POINTS_MAX 11000
#define AH_PROM_REQUESTS_MAX 1000
/* One answer's body, in bytes (a series of AH_PROM_POINTS_MAX points is
 * about 300 KiB), and the seconds it may take. */
#define AH_PROM_BODY_MAX ((size_t)64 << 20)
#define AH_PROM_TIMEOUT_S 60
/* A base URL and a PromQL query, in bytes. */
#define AH_PROM_URL_MAX 1024
#define AH_PROM_QUERY_MAX 4096
/* --match (a [source]'s match) filters, at most. */
#define AH_PROM_MATCH_MAX 16
/* A [source]'s match = L=V[,L=V], in bytes (at most AH_PROM_MATCH_MAX filters). */
#define AH_PROM_MATCH_TEXT_MAX 512
/* A [source]'s poll, in seconds: the daemon's loop waits on it (prom.h). */
#define AH_PROM_SOURCE_TIMEOUT_S 10

/* ---- kernel files the collector reads (sysfile.h, cgroup.h, host.h) ---- */
/* Bytes read from one /proc or cgroup file; a longer file is refused
 * (AH_ETOOBIG) rather than cut, so a count is never summed from half a
 * file. 1 MiB holds /proc/net/dev with thousands of interfaces. */
#define AH_SYSFILE_MAX_BYTES ((size_t)1 << 20)
/* Bytes of one line of such a file (the longest real one, a diskstats or
 * io.stat line, is under 200). */
#define AH_SYSFILE_LINE_MAX 4096
/* A path under a root (the proc root, a cgroup mount, a cgroup's relative
 * path joined to it), buffer size. */
#define AH_SYSPATH_MAX 1024
/* Cgroups one collector samples. */
#define AH_COLLECTOR_CGROUPS_MAX 4096

/* ---- the [linux] policy section (policy.h ah_linux_policy) ---- */
/* observe = GLOB[, GLOB...]: globs, and bytes of one glob. */
#define AH_LINUX_OBSERVE_MAX 16
#define AH_LINUX_GLOB_MAX 256
/* Bytes of a root given in the policy (proc_root, cgroup_prefix). */
#define AH_LINUX_ROOT_MAX 256
/* shrink_cap as a share: at most this (a cap of 100% caps nothing). */
#define AH_LINUX_SHRINK_CAP_FRAC_MAX 1.0
/* run_hard_margin: the hard memory level at most this far above the
 * reservation (10 = 11 times it). */
#define AH_LINUX_HARD_MARGIN_MAX 10.0
/* Directory levels below a cgroup mount the observer looks at for matches. */
#define AH_LINUX_OBSERVE_DEPTH 6
/* api_cgroup_parent: bytes of the daemon's cgroup parent path. */
#define AH_LINUX_PARENT_MAX 128
/* ---- cgroup limits the enforcer writes (enforce.h) ---- */
/* Block devices one allocation may throttle (io.max lines). */
#define AH_ENFORCE_IO_DEVICES_MAX 16
/* [linux] io_devices: at most this many block devices (each gets the
 * allocation's io limit). */
#define AH_LINUX_IO_DEVICES_MAX 8
/* Cgroups one plan orders together (an allocation, its parent, siblings). */
#define AH_ENFORCE_ITEMS_MAX 64
/* ahead run: the command's arguments (argv entries) and the bytes of a
 * run-state file (the crash-recovery record beside the ledger). */
#define AH_RUN_ARGS_MAX 4096
#define AH_RUN_STATE_MAX 8192
/* Orphaned runs one reconcile handles (the rest at the next start). */
#define AH_RUN_RECONCILE_MAX 256
/* pids of one cgroup the v1 kill reads per round (cgroup.procs). */
#define AH_ENFORCE_PIDS_MAX 65536
/* ---- placement across nodes (placement.h) ---- */
/* Replicas one request may ask for, labels per node or per selector, and
 * the bytes of a label's key and value. */
#define AH_PLACE_REPLICAS_MAX 64
#define AH_PLACE_LABELS_MAX 16
#define AH_PLACE_LABEL_KEY_MAX 64
#define AH_PLACE_LABEL_VALUE_MAX 64
/* Nodes one etcd ledger lists (node.h), and the bytes of a node's record. */
#define AH_NODES_MAX 256
/* The bytes of a pool's node selector (policy `nodes = zone=a,disk=ssd`). */
#define AH_NODE_SELECT_MAX 512
/* Distinct node selectors requests may ask for (`node_labels`) in one engine. */
#define AH_NODE_SELECTORS_MAX 1024
#define AH_NODE_RECORD_MAX 8192

/* One prediction across an etcd ledger's instances (docs/CLUSTER.md): a
 * workload's published model state holds at most this many ended request
 * records and usage points per dimension, and at most this many bytes. */
#define AH_MODEL_RECORDS_MAX 128
#define AH_MODEL_POINTS_MAX 256
#define AH_MODEL_STATE_BYTES_MAX (256 * 1024)

/* [ahead] max_clock_skew: at most this (a lease shorter than the skew
 * bound would be meaningless); auto on a shared ledger is the default. */
#define AH_CLOCK_SKEW_MAX_NS (INT64_C(3600) * 1000000000)
#define AH_CLUSTER_SKEW_DEFAULT_NS (INT64_C(2) * 1000000000)

/* One writer (docs/CLUSTER.md): the bytes of an advertised URL
 * (`serve --advertise`) and of one forwarded request's answer, and how
 * long one relay of forwarded requests may take. */
#define AH_ADVERTISE_URL_MAX 127
#define AH_FORWARD_ANSWER_MAX (1024 * 1024)
#define AH_FORWARD_TIMEOUT_MS 10000
/* A forwarder's relay (src/server/relay.h): the forwarded requests one
 * relay carries, its bytes (the writer refuses a larger one whatever its
 * --body-max), and the relays one forwarder has in flight at a time
 * (more requests wait for the next one: under load relays grow instead of
 * multiplying). */
#define AH_RELAY_ITEMS_MAX 1024
#define AH_RELAY_BYTES_MAX (8 * 1024 * 1024)
#define AH_RELAY_FLYING_MAX 4

/* An etcd ledger's log page (ev/LAST, au/LAST: one commit's events or
 * audit records) is stored deflated once its JSON passes the first size;
 * a page read back never inflates past the second (a page of the largest
 * batch is a few MiB). */
#define AH_ETCD_PAGE_DEFLATE_MIN 256
#define AH_ETCD_PAGE_MAX ((size_t)64 << 20)

/* One message of an etcd watch stream (a WatchResponse: etcd sends one
 * revision's changes whole, and a catching-up stream batches up to 1,000
 * revisions, so a large batch commit can reach tens of MiB). */
#define AH_ETCD_WATCH_MSG_MAX ((size_t)256 << 20)

#endif
