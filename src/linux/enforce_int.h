/* ahead: private helpers of the enforcer (src/linux/enforce*.c): the
 * directories a ref names, and kernel value texts. */
#ifndef AHEAD_LINUX_ENFORCE_INT_H
#define AHEAD_LINUX_ENFORCE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ahead/enforce.h"

/* A ref's directories: v2 first (when named), then each v1 controller's,
 * co-mounted ones once. */
typedef struct {
	size_t n;
	char path[1 + AH_CG_V1_N][AH_SYSPATH_MAX];
	bool v2[1 + AH_CG_V1_N]; /* the entry is the v2 directory */
} ah_enf_dirs;

/* AH_EINVAL when the ref names no directory under roots, AH_ETOOBIG for a
 * path too long. */
int ah_enf_dirs_of(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, ah_enf_dirs *out);
/* The v2 directory, or one v1 controller's; false when the ref has none. */
bool ah_enf_dir_v2(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, char *out);
bool ah_enf_dir_v1(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, ah_cg_v1 c, char *out);

/* Kernel's rounding of a memory limit, for comparisons (a 64 KiB page). */
#define AH_ENF_MEM_SLACK ((uint64_t)64 << 10)
/* v1 memory and blkio files report "unlimited" as a huge number
 * (PAGE_COUNTER_MAX pages, 2^63 - page): anything at or above this is none. */
#define AH_ENF_V1_UNLIMITED ((uint64_t)1 << 62)

#endif
