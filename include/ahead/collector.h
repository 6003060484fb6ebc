/* ahead: the collector — samples managed cgroups and the host, turns
 * counters into rates and hands samples to its caller in batches.
 *
 * The clock is passed in: ah_collector_sample() takes the caller's
 * monotonic time (rates are deltas over it) and the time the records
 * carry (the history's wall time; the caller may pass the same value). A
 * rate needs two samples of a counter: the first sample of a cgroup gives
 * only gauges, and a counter that went down (reset, a cgroup removed and
 * made again, a 32-bit wrap) restarts its rate at the next sample, never a
 * negative. A cgroup whose directories are gone is reported AH_CG_GONE,
 * not an error for the whole sample; if it comes back its rates restart.
 *
 * Records are (workload, dimension, t_ns, value in the dimension's base
 * unit), as the usage history imports them (history.h
 * ah_history_import_values takes the times and values of one series): sort
 * a batch and walk it series by series with ah_sample_batch_next(). */
#ifndef AHEAD_COLLECTOR_H
#define AHEAD_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ahead/cgroup.h"
#include "ahead/host.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Dimensions the collector writes, and their units. */
#define AH_COL_CPU "cpu"                   /* millicores over the interval */
#define AH_COL_MEMORY "memory"             /* bytes now (host: total - available) */
#define AH_COL_MEMORY_PEAK "memory_peak"   /* bytes, the kernel's peak (or the max sampled) */
#define AH_COL_MEMORY_ANON "memory_anon"   /* bytes */
#define AH_COL_MEMORY_FILE "memory_file"   /* bytes (page cache: reclaimable) */
#define AH_COL_MEMORY_TOTAL "memory_total" /* bytes (host) */
#define AH_COL_IO "io"                     /* bytes/s read + written */
#define AH_COL_IO_READ "io_read"           /* bytes/s */
#define AH_COL_IO_WRITE "io_write"         /* bytes/s */
#define AH_COL_NET "net"                   /* bits/s received + sent (host) */
#define AH_COL_NET_RX "net_rx"             /* bits/s (host) */
#define AH_COL_NET_TX "net_tx"             /* bits/s (host) */
/* psi_RES_some / psi_RES_full: percent of the interval stalled, from the
 * total counter (exact over the interval, not the kernel's averages). */
#define AH_COL_MEM_HIGH "memory_high_events"     /* events in the interval (v2) */
#define AH_COL_MEM_MAX "memory_max_events"       /* v2 max; v1 failcnt */
#define AH_COL_MEM_OOM "memory_oom_events"       /* v2 */
#define AH_COL_MEM_OOM_KILL "memory_oom_kill_events"
#define AH_COL_MEM_UNDER_OOM "memory_under_oom"  /* 0/1 now (v1) */

/* ---- batches ---- */

typedef struct {
	size_t n, cap;
	const char **workload; /* interned: valid until the batch is cleared or freed */
	const char **dim;
	int64_t *t_ns;
	double *value;
	/* the interned strings (private): a list and an open-addressing table */
	char **strs;
	size_t nstrs, capstrs;
	char **table;
	size_t table_cap;
} ah_sample_batch;

/* One series of a sorted batch: n times and values. */
typedef struct {
	const char *workload, *dim;
	const int64_t *t_ns;
	const double *value;
	size_t n;
} ah_sample_series;

void ah_sample_batch_init(ah_sample_batch *b);
void ah_sample_batch_fini(ah_sample_batch *b);
/* Empties the batch (keeps its memory). */
void ah_sample_batch_clear(ah_sample_batch *b);
/* Appends a record; workload and dim are copied (interned). */
int ah_sample_batch_add(ah_sample_batch *b, const char *workload, const char *dim, int64_t t_ns, double value);
/* Orders records by workload, dimension, then time (stable for equal times). */
int ah_sample_batch_sort(ah_sample_batch *b);
/* After sorting: the series starting at *pos (0 first); false at the end. */
bool ah_sample_batch_next(const ah_sample_batch *b, size_t *pos, ah_sample_series *out);

/* ---- the collector ---- */

typedef struct {
	long user_hz; /* /proc/stat ticks per second; default 100 (the caller may pass sysconf(_SC_CLK_TCK)) */
	const char *host_workload; /* the host's samples under this name; NULL: no host samples. Default "host" */
	/* Descriptors kept open between samples (about 10 per cgroup; each
	 * saves an open and a close per sample). Default 2048; 0 keeps none.
	 * A kept descriptor of a removed cgroup reads ENODEV and is dropped. */
	int max_open_files;
} ah_collector_opts;

typedef enum {
	AH_CG_NEW = 0, /* not sampled yet, or sampled once (gauges only) */
	AH_CG_OK,      /* sampled, rates valid */
	AH_CG_PARTIAL, /* sampled, but a file was refused (err_msg names it) */
	AH_CG_GONE     /* its directories are gone */
} ah_cg_state;

/* What the last sample saw of one cgroup (or the host). */
typedef struct {
	const char *workload;  /* borrowed */
	ah_cg_state state;
	ah_cgroup_stat stat;   /* raw; for the host, see host */
	ah_host_stat host;
	/* rates of the last sample; *_ok false when not known (first sample, reset, field absent) */
	bool cpu_ok, io_ok, net_ok;
	double cpu_millicores, io_read_bps, io_write_bps, net_rx_bps, net_tx_bps;
	uint64_t mem_peak_seen_bytes; /* the max of current the collector saw */
	int64_t sampled_ns;           /* the last sample's monotonic time; 0 never */
} ah_collector_view;

typedef struct {
	size_t cgroups;  /* sampled */
	size_t ok, partial, gone;
	size_t records;  /* appended to the batch */
} ah_collector_summary;

typedef struct ah_collector ah_collector;

void ah_collector_opts_init(ah_collector_opts *o);
/* roots are copied; opts may be NULL (defaults). */
int ah_collector_new(const ah_cgroup_roots *roots, const ah_collector_opts *opts, ah_collector **out);
void ah_collector_free(ah_collector *c);
/* Adds a cgroup sampled as WORKLOAD (a workload name, names.h): AH_EEXIST
 * when the name is taken, AH_EINVAL for a bad name or a ref naming no
 * directory, AH_ETOOBIG beyond AH_COLLECTOR_CGROUPS_MAX. */
int ah_collector_add(ah_collector *c, const char *workload, const ah_cgroup_ref *ref);
/* AH_ENOENT when not there. */
int ah_collector_remove(ah_collector *c, const char *workload);
size_t ah_collector_count(const ah_collector *c);
/* The i-th cgroup's (0..count-1) or the host's (i == count, when host
 * samples are on) last sample; AH_ENOENT beyond. */
int ah_collector_view_get(const ah_collector *c, size_t i, ah_collector_view *out);
/* Samples every cgroup and the host at mono_ns (strictly later than the
 * last sample's, else AH_EINVAL), appending records stamped t_ns to batch.
 * Per-cgroup trouble is in each view's state, not the return: 0, or
 * AH_ENOMEM / AH_EINVAL. */
int ah_collector_sample(ah_collector *c, int64_t mono_ns, int64_t t_ns, ah_sample_batch *batch,
			ah_collector_summary *sum);

#ifdef __cplusplus
}
#endif
#endif
