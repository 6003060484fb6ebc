/* The daemon's observe mode (docs/LINUX.md, "Observe mode"): with a
 * [linux] section in the applied policy, the cgroups its `observe` globs
 * name (paths under each cgroup mount) and the host are sampled every
 * `interval` by the collector, and the samples go into the usage history
 * (one transaction per sample), as workloads "cg:PATH" and "host". Their
 * limits are never touched. When no glob matches (or none is given), every
 * top-level cgroup is observed, so a fresh host shows something real.
 *
 * It runs in the server's loop (http.c timers); the cgroups are found again
 * every 12 intervals (at least every minute), so new ones join and removed
 * ones leave. A policy reload that changes the section starts it over. */
#ifndef AHEAD_SERVER_OBSERVE_H
#define AHEAD_SERVER_OBSERVE_H

#include <stddef.h>
#include <stdint.h>

#include "ahead/policy.h"

typedef struct ah_observer ah_observer;

typedef struct {
	bool on;              /* a [linux] section is applied */
	size_t cgroups;       /* observed now */
	size_t samples;       /* sample rounds taken */
	size_t records;       /* values written to the history */
	size_t errors;        /* failed rounds (a write or a read of the mounts) */
	double last_sample_s; /* wall time the last round took */
	int64_t last_ns;      /* wall time of the last round; 0 never */
} ah_observer_stats;

int ah_observer_new(ah_observer **out);
void ah_observer_free(ah_observer *o);
/* Follows the applied policy's [linux] section and samples when due at
 * mono_ns, stamping records wall_ns, into the history beside db_path.
 * Never fails the caller: trouble is logged and counted. */
void ah_observer_tick(ah_observer *o, const ah_policy *pol, const char *db_path, int64_t mono_ns, int64_t wall_ns);
/* When the next round is due (CLOCK_MONOTONIC); INT64_MAX when off. */
int64_t ah_observer_next_ns(const ah_observer *o);
void ah_observer_stats_get(const ah_observer *o, ah_observer_stats *out);

#endif
