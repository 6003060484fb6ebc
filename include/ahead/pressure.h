/* ahead: memory sized by pressure (Senpai-style), as pure logic.
 *
 * Allocated memory overstates what a workload needs: most of what it holds
 * beyond its working set is page cache it will not read again. This loop
 * finds the working set by tightening the soft limit (memory.high, or the
 * emulated soft level on cgroup v1) a little each interval while memory
 * pressure stays below a target, and loosening it fast when pressure
 * rises: the kernel reclaims what is cold, and a workload whose hot pages
 * are reclaimed stalls on refaults, which PSI measures.
 *
 * Per interval, from the cgroup's memory.pressure "some" total (us) delta:
 *   pressure = delta / interval (percent of the interval stalled)
 *   below target: next = base * (1 - probe),  probe = probe_frac *
 *                 min(1, probe_gain * (target - pressure) / target),
 *                 base = min(high, usage) (probing above usage frees nothing)
 *   above target: next = high * (1 + backoff), backoff = min(backoff_max_frac,
 *                 backoff_gain * (pressure - target) / target)
 *   then next is held within [max(floor, min_bytes), ceiling]: the floor is
 *   the predicted quantile (fast re-growth: the loop never probes below what
 *   the forecast says is needed), the ceiling the hard limit.
 * No I/O, no clock: the caller reads PSI and writes the limit (enforce.h). */
#ifndef AHEAD_PRESSURE_H
#define AHEAD_PRESSURE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The largest tightening per interval the policy may set (Senpai's 1%). */
#define AH_PRESSURE_PROBE_MAX 0.01

typedef struct {
	double target_pct;       /* memory "some" pressure aimed at, percent of the interval (0, 100] */
	double probe_frac;       /* largest tightening per interval, (0, AH_PRESSURE_PROBE_MAX] */
	double probe_gain;       /* > 0: full probe once pressure is below target * (1 - 1/gain) */
	double backoff_max_frac; /* largest loosening per interval, (0, 1] */
	double backoff_gain;     /* > 0: loosening per unit of relative excess pressure */
	uint64_t min_bytes;      /* never below this (besides the floor) */
} ah_pressure_policy;

/* target 0.1%, probe 1%, probe_gain 2, backoff up to 100% with gain 0.05
 * (twice the target: +5%; 21 times: +100%), min 16 MiB. */
void ah_pressure_policy_init(ah_pressure_policy *p);
/* AH_EINVAL with err naming the field and its range. */
int ah_pressure_policy_check(const ah_pressure_policy *p, char *err, size_t errlen);

typedef struct {
	uint64_t some_delta_us;  /* memory.pressure "some" total now - at the last interval */
	uint64_t interval_us;    /* the interval's length (> 0) */
	uint64_t high_bytes;     /* the soft limit now; UINT64_MAX: none yet */
	uint64_t usage_bytes;    /* usage now; UINT64_MAX: unknown */
	uint64_t floor_bytes;    /* the predicted quantile; 0: none */
	uint64_t ceiling_bytes;  /* the hard limit; UINT64_MAX: none */
} ah_pressure_input;

typedef enum {
	AH_PRESSURE_START = 0, /* no limit yet: starts at usage */
	AH_PRESSURE_PROBE,     /* tightened */
	AH_PRESSURE_BACKOFF,   /* loosened */
	AH_PRESSURE_FLOOR,     /* held at the floor (or min_bytes) */
	AH_PRESSURE_CEILING    /* held at the ceiling */
} ah_pressure_action;

typedef struct {
	uint64_t next_high_bytes;
	ah_pressure_action action;
	double pressure_pct;     /* the interval's pressure */
	double step_frac;        /* the relative change applied (negative: tightened) */
} ah_pressure_step;

/* "start", "probe", "backoff", "floor", "ceiling". */
const char *ah_pressure_action_name(ah_pressure_action a);

/* The next soft limit. AH_EINVAL for a bad policy or an interval of 0
 * (out untouched). */
int ah_pressure_next(const ah_pressure_policy *p, const ah_pressure_input *in, ah_pressure_step *out);

/* A PSI total's delta: 0 when the counter went down (a cgroup made again). */
uint64_t ah_pressure_delta_us(uint64_t prev_total_us, uint64_t now_total_us);

#ifdef __cplusplus
}
#endif
#endif
