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
 * when an allocation ends, so per-allocation state can be dropped.
 *
 * A sizer whose dimensions depend on each other (the engine's built-in
 * rule: a grow in one dimension restarts every dimension's shrink window,
 * and a shrink needs every measured dimension low) gives plan() instead of
 * target(): it sees the whole report and states one plan for the
 * allocation. The engine runs every sizer through plan(); target() sizers
 * get an adapter that asks each measured dimension in turn. */
#ifndef AHEAD_SIZER_H
#define AHEAD_SIZER_H

#include <stdint.h>

#include "ahead/resource.h"

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

/* What a report leads to, for the whole allocation. */
typedef enum {
	AH_PLAN_NONE = 0,  /* nothing changes */
	AH_PLAN_WAITS,     /* no resize; what the allocation waits for becomes `target` (above its size) */
	AH_PLAN_RESIZE     /* move to `target`: shrink at once, grow as room allows, the rest waits */
} ah_plan_kind;

typedef struct {
	ah_plan_kind kind;
	ah_vec target;           /* every dimension of the policy */
	const char *why_grow;    /* the resize events' reasons */
	const char *why_shrink;  /* NULL: why_grow */
} ah_size_plan;

/* A report as plan() sees it: usage per dimension (AH_USAGE_NONE where not
 * measured), the reservation, and what the allocation waits for (its
 * pending grow; equal to reserved where it waits for nothing). */
typedef struct {
	uint64_t id;
	int64_t now_ns;
	int nd;
	const int64_t *used, *reserved, *waiting;
	ah_resize_budget budget;
} ah_size_report;

typedef struct {
	void *ctx;
	int (*target)(void *ctx, uint64_t id, int dim, int64_t now_ns, int64_t used, int64_t reserved,
		      const ah_resize_budget *budget, ah_size_target *out);
	void (*forget)(void *ctx, uint64_t id);
	/* Optional, instead of target(). Negative: an error (the report fails). */
	int (*plan)(void *ctx, const ah_size_report *r, ah_size_plan *out);
} ah_sizer;

#ifdef __cplusplus
}
#endif
#endif
