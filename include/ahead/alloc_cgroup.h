/* ahead: one cgroup per allocation granted on this host — what `ahead
 * serve` does with `[linux] enforce_api` (docs/LINUX.md, "The daemon's
 * cgroups").
 *
 * Each allocation ID gets PARENT/alloc-ID in the v2 mount and in each v1
 * controller mounted (the roots are parameters, as everywhere in
 * src/linux). The set keeps, per allocation, the limits wanted (desired:
 * the ledger's size of the allocation, mapped by the caller) and the
 * limits last written (applied: the plan's target, after the hard-limit
 * clamp and the shrink cap). Desired always comes from the caller, so a
 * restart that lost this set loses nothing: the caller sets every live
 * allocation's desired limits again (each set reads what the kernel has and
 * writes only the difference, idempotent like KEP-1287's actuation) and
 * ah_acg_sweep() removes the cgroups of allocations that no longer exist.
 *
 * Each interval ah_acg_check() compares applied with what the kernel has:
 * a limit changed behind ahead's back is either restored (written again)
 * or adopted (kept as the applied value until the next set), and a set
 * that was clamped or capped is planned again toward desired. */
#ifndef AHEAD_ALLOC_CGROUP_H
#define AHEAD_ALLOC_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ahead/cgroup.h"
#include "ahead/resource.h"
#include "ahead/sysfile.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ah_alloc_cgroups ah_alloc_cgroups;

/* An allocation's limits in plain numbers (so this header goes beside the
 * engine's, whose sizer.h has its own AH_LIMIT_NONE): 0 is not managed
 * (enforce.h's AH_LIMIT_KEEP), UINT64_MAX no limit (AH_LIMIT_NONE). */
typedef struct {
	uint32_t major, minor;
} ah_acg_device;

typedef struct {
	uint64_t cpu_millicores;
	uint64_t mem_high_bytes; /* the soft level: the reservation */
	uint64_t mem_max_bytes;  /* the hard level above it */
	/* io (v2 io.max rbps and wbps; v1 blkio.throttle.{read,write}_bps_device):
	 * each direction on each device at io_bps. 0 or no device: not managed. */
	uint64_t io_bps;
	size_t n_dev;
	ah_acg_device dev[AH_LINUX_IO_DEVICES_MAX];
} ah_acg_limits;

/* At most this many allocations' cgroups are held (more are refused with
 * AH_ETOOBIG and counted as errors). */
#define AH_ACG_MAX 4096
/* A parent path (relative to each mount) is shorter than this. */
#define AH_ACG_PARENT_MAX AH_LINUX_PARENT_MAX

typedef struct {
	bool dry_run;            /* plan and count, write no limit (the cgroup is still made) */
	bool adopt_drift;        /* a limit changed by hand is kept (true) or restored (false) */
	uint64_t shrink_cap_bytes;
	double shrink_cap_frac;
} ah_acg_opts;

void ah_acg_opts_init(ah_acg_opts *o);

typedef struct {
	size_t held;             /* allocations whose cgroup is held now */
	size_t pending_removal;  /* released, but tasks remain in the cgroup: retried each check */
	uint64_t created, removed, orphans_removed;
	uint64_t writes;         /* limit files written */
	uint64_t write_errors;   /* sets, checks and removals that failed */
	uint64_t dry_run_writes; /* writes a dry run planned and did not make */
	uint64_t drift;          /* limits found changed behind ahead's back */
	uint64_t drift_restored, drift_adopted;
	uint64_t soft_over;      /* v1: usage found above the soft level after a threshold event */
	size_t soft_watched;     /* v1 cgroups with a usage threshold at their soft level */
	char last_error[320];    /* "" when none */
} ah_acg_stats;

/* parent: a relative path without "..", e.g. "ahead"; made in every root
 * on the first set. roots are copied. */
int ah_acg_new(const ah_cgroup_roots *roots, const char *parent, ah_alloc_cgroups **out, char *err, size_t errlen);
void ah_acg_free(ah_alloc_cgroups *s); /* NULL-safe; leaves the cgroups as they are */

/* The limits an allocation's size gives: cpu at its "cpu" dimension
 * (millicores), memory soft (memory.high; v1 soft_limit_in_bytes) at its
 * "memory" dimension and hard (memory.max; v1 limit_in_bytes) hard_margin
 * above it (page-aligned). A dimension absent or 0 is not managed (KEEP).
 * Shared by `ahead run` and the daemon. */
void ah_acg_limits_of(const ah_dimset *dims, const ah_vec *res, double hard_margin, ah_acg_limits *out);
/* Adds io: the allocation's "io" dimension (bytes/s) as the limit of each
 * direction on each of the n devices (at most AH_LINUX_IO_DEVICES_MAX; a
 * reservation covers reads and writes together, so each direction alone is
 * held to it). Nothing when the dimension is absent or 0, or n is 0. */
void ah_acg_limits_io(const ah_dimset *dims, const ah_vec *res, const ah_acg_device *dev, size_t n,
		      ah_acg_limits *l);
/* The fields of a drift mask (enforce.h AH_DRIFT_*) as words ("cpu memory-hard"), "" for none. */
void ah_acg_drift_words(uint32_t mask, char *out, size_t len);

/* The allocation's cgroup directories, absolute, distinct (co-mounted v1
 * controllers once), v2 first; *n of at most cap. */
int ah_acg_paths(const ah_alloc_cgroups *s, uint64_t id, char (*paths)[AH_SYSPATH_MAX], size_t cap, size_t *n);

/* Makes the cgroup when needed and writes want in the enforcer's safe
 * order (only the controllers the cgroup has: a limit elsewhere is not
 * managed). Desired becomes want; applied the plan's target. 0, or the
 * first error (err says which file). */
int ah_acg_set(ah_alloc_cgroups *s, uint64_t id, const ah_acg_limits *want, const ah_acg_opts *o, char *err,
	       size_t errlen);
/* At a restart with on_drift = adopt: holds an allocation whose limits
 * were adopted before (what the ledger recorded) without writing: desired
 * is kept for its next set, applied is adopted, so the next check finds
 * drift only if the kernel moved away from it since. A cgroup not there
 * (or one held already) is set to desired instead. */
int ah_acg_adopt(ah_alloc_cgroups *s, uint64_t id, const ah_acg_limits *desired, const ah_acg_limits *adopted,
		 char *err, size_t errlen);
/* Forgets the allocation and removes its cgroup; while tasks remain it is
 * kept as pending and retried by each check (returns 0 then). */
int ah_acg_drop(ah_alloc_cgroups *s, uint64_t id, char *err, size_t errlen);
/* Whether the set holds id (set and not dropped). */
bool ah_acg_holds(const ah_alloc_cgroups *s, uint64_t id);

/* Removes every PARENT/alloc-N directory under the roots whose N is not
 * in live (n of them, any order) and not held: the cgroups of allocations
 * that ended while no daemon ran. *removed: how many (may be NULL). Ones
 * with tasks left are pending like a drop. */
/* Like ah_acg_sweep, and drops the held allocations not in live too (a
 * fleet's node: what moved to another node, or ended there). */
int ah_acg_retain(ah_alloc_cgroups *s, const uint64_t *live, size_t n_live, size_t *removed, char *err,
		  size_t errlen);
int ah_acg_sweep(ah_alloc_cgroups *s, const uint64_t *live, size_t n, size_t *removed, char *err, size_t errlen);

/* What a check tells: a drift found (the allocation, the fields
 * AH_DRIFT_*, whether it was adopted, else restored); the v1 soft level
 * crossed upward (emulated: cgroup v1 has no memory.high, and its soft
 * limit acts only under global pressure, so each v1 cgroup with a soft
 * level gets a usage threshold there through cgroup.event_control):
 * usage, the soft level and the page cache of usage (reclaimable). Either
 * may be NULL. */
typedef struct {
	void (*drift)(void *ctx, uint64_t id, uint32_t mask, bool adopted);
	void (*soft_over)(void *ctx, uint64_t id, uint64_t usage_bytes, uint64_t soft_bytes, uint64_t file_bytes);
	void *ctx;
} ah_acg_events;

/* Each held allocation: a drift restored or adopted, a clamped or capped
 * set planned again, a vanished cgroup made again, a soft-level crossing
 * told; each pending removal retried. ev may be NULL. 0, or the first
 * error. */
int ah_acg_check(ah_alloc_cgroups *s, const ah_acg_opts *o, const ah_acg_events *ev, char *err, size_t errlen);

/* The global stop switch with on_stop = restore: every held cgroup's
 * managed limits back to none (what a cgroup ahead made had before it);
 * desired is kept, applied forgotten (no drift is looked for), so a later
 * set of the desired limits puts them back. 0, or the first error. */
int ah_acg_unlimit_all(ah_alloc_cgroups *s, char *err, size_t errlen);

/* What an allocation has: desired and applied limits (false when not held). */
bool ah_acg_get(const ah_alloc_cgroups *s, uint64_t id, ah_acg_limits *desired, ah_acg_limits *applied);

void ah_acg_stats_get(const ah_alloc_cgroups *s, ah_acg_stats *out); /* NULL-safe: zeros */

#ifdef __cplusplus
}
#endif
#endif
