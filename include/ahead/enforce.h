/* ahead: the enforcer — an allocation's limits made cgroup limits, resized
 * live in an order where no intermediate state is unsafe.
 *
 * Three steps, so the order is testable and a dry run is exact:
 *   ah_enforce_read()   what a cgroup has now: its limits as the kernel
 *                       reports them, its usage, where each dimension is
 *                       enforced (v2 or v1);
 *   ah_enforce_plan()   pure: from what is there and what is wanted, the
 *                       list of writes (path, value) in a safe order, with
 *                       the hard memory limit clamped at usage and a shrink
 *                       cut at the cap;
 *   ah_enforce_apply()  writes the plan's steps in order (nothing in a dry
 *                       run; stops between steps when the stop flag is set).
 * The order (KEP-1287 and the kernel's own rules): every decrease before
 * every increase; decreases children first, increases parents first (a v1
 * child's cpu quota may not exceed its parent's); memory.high lowered
 * before memory.max when shrinking, memory.max raised before memory.high
 * when growing; a hard memory limit is never set below current usage
 * (cgroup v2 OOM-kills on that write, v1 refuses it with EBUSY).
 *
 * Where each limit goes:
 *   cpu     v2 cpu.max "QUOTA PERIOD"; v1 cpu.cfs_quota_us, cpu.cfs_period_us
 *   soft    v2 memory.high; v1 memory.soft_limit_in_bytes (acts only under
 *           global pressure: the caller emulates the soft level with
 *           ah_enforce_soft_check() each interval and the task's v2 PSI)
 *   hard    v2 memory.max; v1 memory.limit_in_bytes, with memory.oom_control
 *           oom_kill_disable=1 (a task at the limit pauses; under_oom says
 *           so and ah_enforce_oom_watch() gives an eventfd for it)
 *   io      v2 io.max "MAJ:MIN rbps=N wbps=N"; v1
 *           blkio.throttle.{read,write}_bps_device "MAJ:MIN N"
 * Roots are parameters (cgroup.h: ah_cgroup_roots_detect from a mountinfo
 * file); a cgroup is an ah_cgroup_ref. docs/LINUX.md has the details. */
#ifndef AHEAD_ENFORCE_H
#define AHEAD_ENFORCE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ahead/cgroup.h"
#include "ahead/limits.h"
#include "ahead/sysfile.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A limit's two special values. */
#define AH_LIMIT_KEEP 0          /* not managed: left as it is */
#define AH_LIMIT_NONE UINT64_MAX /* no limit ("max", -1) */

/* The CFS period ahead uses when none is given, and the kernel's bounds
 * for a quota (a smaller quota is raised to the minimum). */
#define AH_CPU_PERIOD_DEFAULT_US 100000
#define AH_CPU_QUOTA_MIN_US 1000
#define AH_CPU_PERIOD_MAX_US 1000000

typedef struct {
	uint32_t major, minor;
	uint64_t rbps, wbps; /* bytes/s; KEEP: not managed, NONE: no limit */
} ah_io_limit;

/* An allocation's limits. Each value is KEEP, NONE or the limit. */
typedef struct {
	uint64_t cpu_millicores;
	uint64_t cpu_period_us;  /* 0: AH_CPU_PERIOD_DEFAULT_US (or the one there) */
	uint64_t mem_high_bytes; /* the soft level: the reservation */
	uint64_t mem_max_bytes;  /* the hard level: the safety net above it */
	size_t n_io;
	ah_io_limit io[AH_ENFORCE_IO_DEVICES_MAX];
} ah_limits;

/* All KEEP. */
void ah_limits_init(ah_limits *l);
/* Validates outside input: a period outside 1000..1000000 us, a memory
 * high above max, more than AH_ENFORCE_IO_DEVICES_MAX devices or one given
 * twice is AH_EINVAL with err naming the field and the reason. */
int ah_limits_check(const ah_limits *l, char *err, size_t errlen);

typedef enum { AH_ENF_NONE = 0, AH_ENF_V2, AH_ENF_V1 } ah_enf_ver;

/* What a cgroup has now. Limits in ahead's units: cpu as quota and period
 * (us), memory in bytes, io per device; a limit the kernel reports as
 * unlimited ("max", -1, v1's 2^63 - page) is AH_LIMIT_NONE. */
typedef struct {
	ah_enf_ver cpu_ver, mem_ver, io_ver; /* where each is enforced; NONE: no controller file */
	ah_field cpu_quota_us, cpu_period_us;
	ah_field mem_high_bytes, mem_max_bytes; /* v1: soft_limit_in_bytes, limit_in_bytes */
	ah_field mem_oom_kill_disable;          /* v1 memory.oom_control (0/1) */
	size_t n_io;
	ah_io_limit io[AH_ENFORCE_IO_DEVICES_MAX];
	bool io_bad;              /* an io limit file was refused */
	bool has_kill;            /* v2 cgroup.kill is there */
	ah_cgroup_stat use;       /* usage, events, PSI (cgroup.h, the collector's reader) */
} ah_enforce_state;

/* Reads one cgroup. AH_ENOENT when every directory the ref names is gone,
 * AH_EINVAL when it names none under roots; a refused file leaves its
 * fields BAD and err says which (the read still returns 0). */
int ah_enforce_read(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, ah_enforce_state *out, char *err,
		    size_t errlen);
/* The limits a state holds (cpu in millicores, rounded up), for adopting
 * what is there or keeping what was there before ahead to restore it. */
void ah_enforce_state_limits(const ah_enforce_state *s, ah_limits *out);

typedef struct {
	bool dry_run;              /* apply writes nothing; the plan is still made */
	const atomic_bool *stop;   /* NULL, or the global switch: set, apply writes no further step */
	/* One shrink takes at most this much per interval (0: no cap): a
	 * larger one is cut, the plan says capped, and the next plan goes on. */
	uint64_t shrink_cap_bytes;
	double shrink_cap_frac;    /* of the current limit (of usage when unlimited); 0: no cap */
	/* The hard limit's floor: usage (false), or usage less file pages
	 * (true: the caller accepts that the kernel reclaims page cache to
	 * meet the limit; without swap, anon cannot be reclaimed). */
	bool hard_floor_anon;
	bool v1_oom_kill_disable;  /* with a v1 hard limit, set oom_kill_disable=1 (default true) */
} ah_enforce_opts;

void ah_enforce_opts_init(ah_enforce_opts *o);

/* One write. phase 0: a decrease, 1: an increase. */
typedef struct {
	char path[AH_SYSPATH_MAX];
	char value[96];
	int phase;
	const char *what;          /* "cpu", "memory.high", "memory.max", "oom_control", "io" (static) */
} ah_enforce_step;

/* What a plan does to one cgroup (after the clamp and the cap). */
typedef struct {
	ah_limits target;
	bool clamped;              /* the hard limit was raised to the floor */
	uint64_t clamp_wanted_bytes, clamp_floor_bytes;
	bool capped;               /* a shrink was cut at the cap: plan again next interval */
} ah_enforce_outcome;

typedef struct {
	size_t n, cap;
	ah_enforce_step *step;
	size_t n_items;
	ah_enforce_outcome item[AH_ENFORCE_ITEMS_MAX];
} ah_enforce_plan;

void ah_enforce_plan_init(ah_enforce_plan *p);
void ah_enforce_plan_fini(ah_enforce_plan *p);

/* One cgroup of a plan: its ref, what it has (read), what it should have. */
typedef struct {
	const ah_cgroup_ref *ref;
	const ah_enforce_state *now;
	const ah_limits *want;
} ah_enforce_item;

/* Plans every item's writes in one safe order (depth from the ref's path:
 * "a" is the parent of "a/b"). Pure: no file is touched. AH_EINVAL for a
 * bad limit (err says which), AH_EUNSUPPORTED for a limit whose controller
 * the cgroup does not have, AH_ETOOBIG beyond AH_ENFORCE_ITEMS_MAX. out is
 * replaced. */
int ah_enforce_plan_make(const ah_cgroup_roots *roots, const ah_enforce_item *items, size_t n,
			 const ah_enforce_opts *opts, ah_enforce_plan *out, char *err, size_t errlen);

typedef struct {
	size_t done;               /* steps written */
	bool stopped;              /* the stop flag was set before a step */
	int failed_step;           /* -1, or the index of the step that failed */
} ah_enforce_result;

/* Writes the steps in order. 0 when all were written (or dry run, or
 * stopped: res says which); AH_ENOENT when a file is gone (the cgroup
 * vanished), AH_EBUSY when v1 could not reclaim to a new limit, AH_EINVAL
 * when the kernel refused a value, AH_EIO else; err names the file. The
 * steps before the failed one stay written. */
int ah_enforce_apply(const ah_enforce_plan *plan, const ah_enforce_opts *opts, ah_enforce_result *res, char *err,
		     size_t errlen);

/* The three steps for one cgroup: read, plan (into *plan, which the
 * caller made with _init and keeps to log its steps and outcome), apply.
 * The first error of any step. */
int ah_enforce_one(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, const ah_limits *want,
		   const ah_enforce_opts *opts, ah_enforce_plan *plan, ah_enforce_result *res, char *err,
		   size_t errlen);

/* Proactive reclaim down to target_bytes of usage (the pressure loop's
 * soft level), paid by the caller's write, not by the workload's stalls.
 * v2: memory.reclaim with the excess (usage - target). v1, which has no
 * memory.reclaim: the hard limit is lowered to the target (never below
 * anon usage: only page cache is reclaimable without swap) and then set
 * back to what it was, so the kernel reclaims in between. *reclaimed_bytes
 * is usage before less usage after (0 when already at or below). Nothing
 * is written in a dry run or once the stop flag is set (both 0).
 * AH_EUNSUPPORTED without memory.reclaim or a v1 memory controller; v1's
 * and v2's EBUSY/EAGAIN (could not reclaim that much now) is AH_EBUSY. */
int ah_enforce_reclaim(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, uint64_t target_bytes,
		       const ah_enforce_opts *opts, uint64_t *reclaimed_bytes, char *err, size_t errlen);

/* Drift: a limit changed behind ahead's back. Compares what ahead applied
 * (KEEP fields are not compared) with what the cgroup has, within the
 * kernel's rounding (a page, 64 KiB). */
enum {
	AH_DRIFT_CPU = 1u << 0,
	AH_DRIFT_MEM_HIGH = 1u << 1,
	AH_DRIFT_MEM_MAX = 1u << 2,
	AH_DRIFT_IO = 1u << 3,
	AH_DRIFT_OOM_CONTROL = 1u << 4
};
typedef struct {
	uint32_t mask;             /* AH_DRIFT_*: 0 when none */
	ah_limits found;           /* what is there (as ah_enforce_state_limits) */
} ah_enforce_drift;

void ah_enforce_drift_check(const ah_limits *applied, const ah_enforce_state *now, const ah_enforce_opts *opts,
			    ah_enforce_drift *out);

/* The v1 soft level, emulated: usage against the soft limit. */
typedef enum { AH_SOFT_UNDER = 0, AH_SOFT_OVER, AH_SOFT_UNKNOWN } ah_soft_verdict;
typedef struct {
	ah_soft_verdict verdict;
	uint64_t usage_bytes, over_bytes; /* over_bytes: usage - soft when OVER */
	uint64_t file_bytes;              /* of usage, page cache (reclaimable) */
	bool under_oom;                   /* v1: a task waits at the hard limit */
} ah_soft_check;

void ah_enforce_soft_check(const ah_enforce_state *s, uint64_t soft_bytes, ah_soft_check *out);

/* ---- a cgroup's life ---- */

/* Makes the directory in v2 and in every v1 controller the ref names
 * (co-mounted ones once); one already there is fine (a restart re-applies).
 * The parent must exist (AH_ENOENT). On failure those made are removed. */
int ah_enforce_cgroup_create(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, char *err, size_t errlen);
/* Removes them (one gone already is fine); AH_EBUSY while tasks remain. */
int ah_enforce_cgroup_remove(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, char *err, size_t errlen);
/* Moves pid into every directory of the ref (cgroup.procs). */
int ah_enforce_attach(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, pid_t pid, char *err, size_t errlen);
/* Kills everything in the cgroup: v2 cgroup.kill when there, else SIGKILL
 * to each pid of cgroup.procs, rounds until none is left (a task forking
 * meanwhile). *signalled: the most pids one round signalled (0 when
 * cgroup.kill emptied it). */
int ah_enforce_kill(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, size_t *signalled, char *err,
		    size_t errlen);
/* The pids in the cgroup now (v2 dir, else the first v1 one); at most
 * cap; *n the count. */
int ah_enforce_pids(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, pid_t *pids, size_t cap, size_t *n,
		    char *err, size_t errlen);
/* v1: an eventfd that counts under-OOM events of the memory cgroup
 * (cgroup.event_control on memory.oom_control); the caller polls and
 * closes it. AH_EUNSUPPORTED without a v1 memory directory. */
int ah_enforce_oom_watch(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, int *efd, char *err,
			 size_t errlen);
/* v1's soft level, emulated (memory.soft_limit_in_bytes acts only under
 * global pressure): an eventfd the kernel signals each time the memory
 * cgroup's usage crosses threshold_bytes, either way (cgroup.event_control
 * on memory.usage_in_bytes). The caller reads it without blocking, checks
 * which side usage is on (ah_enforce_soft_check) and closes it to drop the
 * threshold. AH_EUNSUPPORTED without a v1 memory directory. */
int ah_enforce_usage_watch(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, uint64_t threshold_bytes, int *efd,
			   char *err, size_t errlen);

/* A process's own cgroups: PROC_ROOT/PID/cgroup ("self" for PID 0) read
 * into paths relative to each mount (v2: the "0::" line; v1: the line
 * naming the controller), so a caller makes its cgroups under its own. */
typedef struct {
	char v2[AH_SYSPATH_MAX];
	char v1[AH_CG_V1_N][AH_SYSPATH_MAX];
	bool has_v2, has_v1[AH_CG_V1_N];
} ah_proc_cgroups;

int ah_enforce_proc_cgroups(const char *proc_root, pid_t pid, ah_proc_cgroups *out, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
