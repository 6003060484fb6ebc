/* The daemon's enforcement of allocations granted through its API
 * ([linux] enforce_api; docs/LINUX.md, "The daemon's cgroups"): an
 * after-commit observer gives each granted allocation a cgroup with its
 * limits (src/linux/alloc_cgroup.c), resizes it with the allocation and
 * removes it when the allocation ends; the server's loop reconciles at
 * start (desired limits of every live allocation re-applied, orphans
 * removed) and checks for drift each interval. */
#ifndef AHEAD_SERVER_ENFORCE_API_H
#define AHEAD_SERVER_ENFORCE_API_H

#include <jansson.h>
#include <stdint.h>

#include "ahead/alloc_cgroup.h"
#include "ahead/api.h"
#include "ahead/engine.h"
#include "server/enforce_usage.h"

typedef struct api_enforce api_enforce;

void api_enf_free(api_enforce *e); /* NULL-safe */
/* The engine's observer (ctx: the ah_api). */
void api_enf_on_change(void *ctx, const ah_engine_change *c);
/* From the server's loop: the first reconcile, then a drift check each
 * [linux] interval; ledger events of what it found. */
void api_enf_tick(ah_api *a, int64_t mono_ns, int64_t wall_ns);
int64_t api_enf_next_ns(const ah_api *a);
/* The "cgroup" member of an allocation's answer (new reference), NULL when
 * the daemon does not enforce it. klass NULL: the default class; res: its
 * size (the desired limits). */
json_t *api_enf_json(ah_api *a, uint64_t id, const char *klass, const ah_vec *res);

typedef struct {
	const char *mode;        /* "off", "on", "dry-run" */
	char parent[AH_LINUX_PARENT_MAX];
	ah_acg_stats st;
	api_usage_stats us;      /* [linux] sample_allocations */
	char error[320];         /* the last error ("" none): a set, a check, or finding the mounts */
} api_enf_stats;

void api_enf_stats_get(const ah_api *a, api_enf_stats *out);

#endif
