/* ahead: memory sized by pressure (see include/ahead/pressure.h). */
#include <stdio.h>

#include "ahead/error.h"
#include "ahead/pressure.h"

void ah_pressure_policy_init(ah_pressure_policy *p)
{
	p->target_pct = 0.1;
	p->probe_frac = AH_PRESSURE_PROBE_MAX;
	p->probe_gain = 2.0;
	p->backoff_max_frac = 1.0;
	p->backoff_gain = 0.05;
	p->min_bytes = (uint64_t)16 << 20;
}

static int bad(char *err, size_t errlen, const char *field, const char *range, double v)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %g is outside %s", field, v, range);
	return AH_EINVAL;
}

int ah_pressure_policy_check(const ah_pressure_policy *p, char *err, size_t errlen)
{
	if (!p)
		return AH_EINVAL;
	/* written as !(in range) so NaN is refused too */
	if (!(p->target_pct > 0 && p->target_pct <= 100))
		return bad(err, errlen, "target_pct", "(0, 100]", p->target_pct);
	if (!(p->probe_frac > 0 && p->probe_frac <= AH_PRESSURE_PROBE_MAX))
		return bad(err, errlen, "probe_frac", "(0, 0.01]", p->probe_frac);
	if (!(p->probe_gain > 0 && p->probe_gain <= 1e6))
		return bad(err, errlen, "probe_gain", "(0, 1e6]", p->probe_gain);
	if (!(p->backoff_max_frac > 0 && p->backoff_max_frac <= 1))
		return bad(err, errlen, "backoff_max_frac", "(0, 1]", p->backoff_max_frac);
	if (!(p->backoff_gain > 0 && p->backoff_gain <= 1e6))
		return bad(err, errlen, "backoff_gain", "(0, 1e6]", p->backoff_gain);
	return 0;
}

const char *ah_pressure_action_name(ah_pressure_action a)
{
	switch (a) {
	case AH_PRESSURE_START:
		return "start";
	case AH_PRESSURE_PROBE:
		return "probe";
	case AH_PRESSURE_BACKOFF:
		return "backoff";
	case AH_PRESSURE_FLOOR:
		return "floor";
	case AH_PRESSURE_CEILING:
		return "ceiling";
	}
	return "?";
}

uint64_t ah_pressure_delta_us(uint64_t prev_total_us, uint64_t now_total_us)
{
	return now_total_us >= prev_total_us ? now_total_us - prev_total_us : 0;
}

static uint64_t scale(uint64_t v, double f)
{
	double r = (double)v * f;
	return r >= 1.8e19 ? UINT64_MAX - 1 : (uint64_t)r;
}

int ah_pressure_next(const ah_pressure_policy *p, const ah_pressure_input *in, ah_pressure_step *out)
{
	if (!p || !in || !out || in->interval_us == 0 || ah_pressure_policy_check(p, NULL, 0))
		return AH_EINVAL;
	ah_pressure_step s = {0};
	double pr = (double)in->some_delta_us / (double)in->interval_us * 100.0;
	s.pressure_pct = pr > 100 ? 100 : pr;
	uint64_t lo = in->floor_bytes > p->min_bytes ? in->floor_bytes : p->min_bytes;
	uint64_t hi = in->ceiling_bytes;
	uint64_t next;
	if (in->high_bytes == UINT64_MAX) {
		/* No soft limit yet: start where the workload is (or at the
		 * ceiling, or unlimited, when usage is not known). */
		s.action = AH_PRESSURE_START;
		next = in->usage_bytes != UINT64_MAX ? in->usage_bytes : hi;
	} else if (s.pressure_pct <= p->target_pct) {
		double e = (p->target_pct - s.pressure_pct) / p->target_pct * p->probe_gain;
		double probe = p->probe_frac * (e > 1 ? 1 : e);
		uint64_t base = in->usage_bytes < in->high_bytes ? in->usage_bytes : in->high_bytes;
		next = scale(base, 1 - probe);
		s.action = AH_PRESSURE_PROBE;
	} else {
		double b = p->backoff_gain * (s.pressure_pct - p->target_pct) / p->target_pct;
		if (b > p->backoff_max_frac)
			b = p->backoff_max_frac;
		next = scale(in->high_bytes, 1 + b);
		/* Pressure while below the floor's neighbourhood: re-grow to the
		 * floor at once, never creep up from far below it. */
		if (next < lo)
			next = lo;
		s.action = AH_PRESSURE_BACKOFF;
	}
	if (next < lo) {
		next = lo;
		s.action = AH_PRESSURE_FLOOR;
	}
	if (next > hi) {
		next = hi;
		s.action = AH_PRESSURE_CEILING;
	}
	if (in->high_bytes != UINT64_MAX && in->high_bytes)
		s.step_frac = ((double)next - (double)in->high_bytes) / (double)in->high_bytes;
	s.next_high_bytes = next;
	*out = s;
	return 0;
}
