/* ahead: the sizer interface — where a running allocation's next size comes
 * from. Implementations: the sizing policies (builtin, static, threshold,
 * vpa, autopilot, ahead), a test's stub.
 *
 * target() sees one reported dimension's usage and current reservation and
 * writes the reservation it wants from now on, and optionally a hard limit
 * (the level an enforcer sets as its safety net, e.g. cgroup memory.max;
 * AH_LIMIT_NONE leaves it to the enforcer's default). It owns its
 * hysteresis. The engine rounds the reservation to the pool's unit, clamps
 * it by policy, shrinks at once, and grows as far as room allows — the rest
 * waits as a pending grow, served in priority order with the queue when
 * room frees. A negative return leaves that dimension as it is.
 *
 * `budget` is the allocation's resize record, kept by the engine: how many
 * resizes it has had and when the last one was, so a sizer can pay for
 * resizes (a later issue charges them). forget() (may be NULL) is called
 * when an allocation ends, so per-allocation state can be dropped. */
#ifndef AHEAD_SIZER_H
#define AHEAD_SIZER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AH_LIMIT_NONE ((int64_t)-1)

typedef struct {
	uint32_t resizes;        /* resizes of this allocation so far */
	int64_t last_resize_ns;  /* 0 = never resized */
} ah_resize_budget;

typedef struct {
	int64_t reserve;         /* the reservation wanted from now on */
	int64_t limit;           /* hard limit, or AH_LIMIT_NONE */
} ah_size_target;

typedef struct {
	void *ctx;
	int (*target)(void *ctx, uint64_t id, int dim, int64_t now_ns, int64_t used, int64_t reserved,
		      const ah_resize_budget *budget, ah_size_target *out);
	void (*forget)(void *ctx, uint64_t id);
} ah_sizer;

#ifdef __cplusplus
}
#endif
#endif
