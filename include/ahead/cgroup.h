/* ahead: where the cgroups are, and what one cgroup uses.
 *
 * Roots are parameters: an ah_cgroup_roots names the proc root, the cgroup
 * v2 mount and each v1 controller's mount, so tests run on fixture trees.
 * ah_cgroup_roots_detect() fills one from a mountinfo file under a given
 * proc root. Three layouts are read:
 *   v2      one unified hierarchy (cpu.stat, memory.current, io.stat, PSI);
 *   v1      a mount per controller (cpuacct.usage, memory.usage_in_bytes,
 *           blkio.throttle.io_service_bytes...);
 *   hybrid  v1 controllers beside a v2 mount without controllers, whose
 *           cgroups still carry cpu.stat and the PSI files: a process sits in
 *           a v1 memory cgroup for its limits and a v2 cgroup for pressure.
 * A cgroup is named by an ah_cgroup_ref: its path relative to the v2 mount
 * and to each v1 controller's mount (NULL where it has none). Each value is
 * taken from v2 when its file is there, else from v1 (docs/LINUX.md). */
#ifndef AHEAD_CGROUP_H
#define AHEAD_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ahead/limits.h"
#include "ahead/psi.h"
#include "ahead/sysfile.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The v1 controllers ahead reads (and, later, writes). */
typedef enum { AH_CG_V1_CPU = 0, AH_CG_V1_CPUACCT, AH_CG_V1_MEMORY, AH_CG_V1_BLKIO, AH_CG_V1_N } ah_cg_v1;

typedef struct {
	char proc[AH_SYSPATH_MAX];                 /* "/proc" on a host */
	char v2[AH_SYSPATH_MAX];                   /* the cgroup2 mount, "" when none */
	char v1[AH_CG_V1_N][AH_SYSPATH_MAX];       /* each controller's mount, "" when not mounted */
} ah_cgroup_roots;

/* "cpu", "cpuacct", "memory", "blkio". */
const char *ah_cg_v1_name(ah_cg_v1 c);

/* proc "/proc", no cgroup mount. */
void ah_cgroup_roots_init(ah_cgroup_roots *r);
/* Reads the cgroup mounts from mountinfo text (the format of
 * /proc/self/mountinfo; name for messages), each mount point prefixed with
 * prefix (NULL or "" on a host; a fixture's directory in tests). The first
 * cgroup2 mount is v2; a v1 mount gives every controller in its options
 * (co-mounted "cpu,cpuacct" gives both). Other mounts are skipped; a
 * cgroup line without the " - " separator or its fields is AH_EPARSE with
 * "NAME:LINE: why". Only v2 and v1 of out are written (proc is kept). */
int ah_cgroup_roots_parse_mountinfo(const char *text, size_t len, const char *name, const char *prefix,
				    ah_cgroup_roots *out, char *err, size_t errlen);
/* Fills out from PROC_ROOT/self/mountinfo: proc = proc_root, the mounts as
 * above. AH_ENOENT when the file is not there. */
int ah_cgroup_roots_detect(const char *proc_root, const char *prefix, ah_cgroup_roots *out, char *err,
			   size_t errlen);

/* A cgroup: relative paths ("a/b"; "" is the mount's root). */
typedef struct {
	const char *v2;              /* in the v2 mount, NULL: none */
	const char *v1[AH_CG_V1_N];  /* in each v1 controller's mount, NULL: none */
} ah_cgroup_ref;

/* The same path in every v1 controller (path may be NULL: none). */
void ah_cgroup_ref_init(ah_cgroup_ref *ref, const char *v2, const char *v1);

/* What one cgroup uses, raw counters and gauges in base units. Every
 * value is hierarchical (the cgroup and its descendants), as the kernel
 * counts them in both versions. */
typedef struct {
	ah_field cpu_usage_ns;       /* v2 cpu.stat usage_usec * 1000; v1 cpuacct.usage */
	ah_field mem_current_bytes;  /* v2 memory.current; v1 memory.usage_in_bytes */
	ah_field mem_peak_bytes;     /* v2 memory.peak; v1 memory.max_usage_in_bytes */
	ah_field mem_anon_bytes;     /* v2 memory.stat anon; v1 total_rss (else rss) */
	ah_field mem_file_bytes;     /* v2 memory.stat file; v1 total_cache (else cache) */
	ah_field io_read_bytes;      /* v2 io.stat rbytes summed over devices; v1 blkio Read */
	ah_field io_write_bytes;     /* v2 io.stat wbytes; v1 blkio Write */
	ah_field mem_high_events;    /* v2 memory.events high (v1: none) */
	ah_field mem_max_events;     /* v2 memory.events max; v1 memory.failcnt */
	ah_field mem_oom_events;     /* v2 memory.events oom (v1: none) */
	ah_field mem_oom_kill_events;/* v2 memory.events oom_kill; v1 memory.oom_control oom_kill */
	ah_field mem_under_oom;      /* v1 memory.oom_control under_oom (0/1; v2: none) */
	ah_psi psi[AH_PSI_N];        /* the v2 cgroup's {cpu,memory,io}.pressure */
	int err;                     /* 0, or the code of the first refused file */
	char err_msg[AH_SYSPATH_MAX + 256]; /* that file's "PATH:LINE: why" */
} ah_cgroup_stat;

/* The files ah_cgroup_read() opens, as bits of its absent mask. */
enum {
	AH_CGF_CPU_STAT = 1u << 0,      /* v2 */
	AH_CGF_MEM_CURRENT = 1u << 1,
	AH_CGF_MEM_PEAK = 1u << 2,
	AH_CGF_MEM_STAT = 1u << 3,
	AH_CGF_MEM_EVENTS = 1u << 4,
	AH_CGF_IO_STAT = 1u << 5,
	AH_CGF_PSI_CPU = 1u << 6,       /* then memory << 7, io << 8 */
	AH_CGF_CPUACCT_USAGE = 1u << 9, /* v1 */
	AH_CGF_V1_USAGE = 1u << 10,
	AH_CGF_V1_MAX_USAGE = 1u << 11,
	AH_CGF_V1_STAT = 1u << 12,
	AH_CGF_V1_FAILCNT = 1u << 13,
	AH_CGF_V1_OOM_CONTROL = 1u << 14,
	AH_CGF_BLKIO_RECURSIVE = 1u << 15,
	AH_CGF_BLKIO = 1u << 16
};

#define AH_CGF_N 17

/* What a caller that samples a cgroup again and again keeps between reads:
 * the files found absent (not opened again: a v2 cgroup without the memory
 * controller has no memory.current, on every sample) and open descriptors
 * (read again from offset 0: no path walk, open or close per sample, which
 * is most of a read's cost). budget, shared by every cache of a caller,
 * is how many more descriptors may be kept; NULL keeps none. A caller
 * should clear absent now and then (a controller may be switched on). */
typedef struct {
	uint32_t absent;
	int fd[AH_CGF_N];
	int *budget;
} ah_cgroup_cache;

void ah_cgroup_cache_init(ah_cgroup_cache *c, int *budget);
/* Closes the kept descriptors (back to the budget); NULL-safe. */
void ah_cgroup_cache_fini(ah_cgroup_cache *c);

/* Reads one cgroup. scratch is cap bytes (AH_SYSFILE_MAX_BYTES + 1 reads
 * any file the cap allows); cache may be NULL. Returns 0 with each field's
 * status (a file refused makes its fields BAD and sets err/err_msg, the
 * others are still read), AH_ENOENT when every directory the ref names is
 * gone (the cgroup was removed; the cache is then emptied), AH_EINVAL when
 * the ref names no directory under roots. */
int ah_cgroup_read(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, char *scratch, size_t cap,
		   ah_cgroup_cache *cache, ah_cgroup_stat *out);

#ifdef __cplusplus
}
#endif
#endif
