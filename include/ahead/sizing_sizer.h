/* ahead: a sizing policy (include/ahead/sizing.h: ahead's predictive one,
 * or a baseline) as the engine's sizer outside replay — so that what `ahead replay` scores
 * is what `ahead report` (and later the daemon) does.
 *
 * Each (allocation, dimension) gets the policy's state, warmed by replaying
 * the workload's recent usage history (from the shadow store) through the
 * policy as the replay does in an unlimited pool: the first interval's
 * reservation, then per sample observe its usage and state the next
 * interval's (t + step). A usage report then does the same for the new
 * sample. (What differs from replay: the reservation the policy observes
 * under is its own wish during warm-up, the engine's afterwards.) An allocation the sizer
 * was not told about starts cold, its current size taken as requested.
 * State is one fixed-size block per (allocation, dimension) (64 KiB for
 * ahead), at most AH_SIZING_SIZER_MAX entries; forget() frees it.
 *
 * The target's hard limit is AH_LIMIT_NONE (the enforcer's default), except
 * where the policy's reservation is a natural hard limit: autopilot on an
 * incompressible dimension (memory), where the limit is the reservation —
 * Autopilot sets limits and Borg enforces them (an OOM kill past memory's).
 * vpa sets requests (a limit would follow the workload's own limit/request
 * ratio, which the sizer does not know); the others reserve only. */
#ifndef AHEAD_SIZING_SIZER_H
#define AHEAD_SIZING_SIZER_H

#include <stddef.h>
#include <stdint.h>

#include "ahead/sizer.h"
#include "ahead/sizing.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AH_SIZING_SIZER_MAX 65536        /* (allocation, dimension) states */
#define AH_SIZING_SIZER_MAX_WARM 100000  /* history samples per bind */

typedef struct ah_sizing_sizer ah_sizing_sizer;

/* kind: the policy; p: its parameters, copied (NULL = the defaults for cpu
 * and memory; step_s is the report interval the policy assumes). Dimension
 * indices below p->ndims are sized; others are left alone. */
int ah_sizing_sizer_new(ah_sizing_kind kind, const ah_sizing_params *p, ah_sizing_sizer **out);
void ah_sizing_sizer_free(ah_sizing_sizer *z);

/* Declares dimension dim of allocation id: the size the workload was
 * provisioned with (-1 = unknown) and its history, n samples at strictly
 * increasing t_ns (older first). Replaces earlier state of (id, dim).
 * AH_ERANGE for a bad dimension or sample, AH_ETOOBIG past the caps. */
int ah_sizing_sizer_bind(ah_sizing_sizer *z, uint64_t id, int dim, int64_t requested, const int64_t *t_ns,
			 const int64_t *used, size_t n);

/* The engine-facing interface (borrowed; valid while z lives). */
void ah_sizing_sizer_get(ah_sizing_sizer *z, ah_sizer *out);

/* (allocation, dimension) states held now. */
size_t ah_sizing_sizer_count(const ah_sizing_sizer *z);

#ifdef __cplusplus
}
#endif
#endif
