/* The usage of the daemon's own allocation cgroups ([linux]
 * sample_allocations): each allocation whose cgroup the daemon holds
 * (enforce_api.c) is sampled with the collector every [linux] interval,
 * and each report_interval its window (cpu: the mean rate, memory: the
 * highest current seen, io: the mean read+write rate) goes into the
 * service as a usage report, the same path as a client's POST
 * /v1/allocations/ID/usage: the sizer grows or shrinks the allocation from
 * it, and the shadow records it. So an allocation follows what its
 * cgroup uses even when its client never reports. */
#ifndef AHEAD_SERVER_ENFORCE_USAGE_H
#define AHEAD_SERVER_ENFORCE_USAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ahead/cgroup.h"

typedef struct api_usage api_usage;

/* One allocation's window. */
typedef struct {
	uint64_t id;
	bool cpu_ok, mem_ok, io_ok; /* false: no sample of it in the window */
	double cpu_millicores;      /* mean rate */
	uint64_t mem_bytes;         /* highest memory current */
	double io_bps;              /* mean read + write rate */
} api_usage_row;

typedef struct {
	uint64_t samples;           /* cgroup samples taken */
	uint64_t reports;           /* windows reported to the service */
	uint64_t report_errors;
	uint64_t oom_kills;         /* OOM kills in the allocations' cgroups seen since they were tracked */
} api_usage_stats;

/* parent: the allocations' parent path (PARENT/alloc-ID). roots copied. */
int api_usage_new(const ah_cgroup_roots *roots, const char *parent, api_usage **out);
void api_usage_free(api_usage *u); /* NULL-safe */
/* Starts sampling PARENT/alloc-ID (again: nothing). */
int api_usage_track(api_usage *u, uint64_t id);
/* Stops, dropping its window. */
void api_usage_untrack(api_usage *u, uint64_t id);
/* Samples every tracked cgroup once (mono_ns strictly increasing). */
int api_usage_sample(api_usage *u, int64_t mono_ns, int64_t wall_ns);
/* The windows with anything in them, at most cap (the rest stay for the
 * next take), each window then started again. *n how many. */
int api_usage_take(api_usage *u, api_usage_row *rows, size_t cap, size_t *n);
size_t api_usage_count(const api_usage *u);
void api_usage_stats_get(const api_usage *u, api_usage_stats *out); /* NULL-safe: zeros */
void api_usage_count_report(api_usage *u, bool ok);

#endif
