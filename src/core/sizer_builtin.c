/* ahead: the built-in sizer — the engine's default grow/shrink rule (see
 * ah_adjust_cfg in ahead/engine.h), behind the same sizer interface as the
 * sizing policies (ahead/sizer.h), through plan(): its dimensions depend on
 * each other. Grow at once when a measured dimension's usage passes grow_at
 * of the reservation (a shortfall costs more than idle room), to usage plus
 * headroom; shrink to the window's peak plus headroom when every measured
 * dimension stayed below shrink_at for shrink_window_ns. The gap between the
 * thresholds and the window are the hysteresis that keeps a reservation
 * from flapping. Its window state lives in the slot's cold part. */
#include <math.h>
#include <string.h>

#include "ahead/error.h"
#include "core/engine_int.h"

/* The size usage u asks for: u plus headroom, in whole units (at least
 * one), within the pool's minimum request and the class's maximum. */
static int64_t sized(const ah_engine *e, const alloc_t *a, int d, int64_t u)
{
	const ah_pool_policy *pp = &e->pol->pools[a->pool];
	int64_t unit = pp->unit.v[d] > 0 ? pp->unit.v[d] : 1;
	double w = (double)u * (1.0 + e->adjust.headroom);
	int64_t v = eng_clamp_size(e, a, d, w >= (double)AH_VALUE_MAX ? AH_VALUE_MAX : (int64_t)ceil(w));
	return v < unit ? unit : v;
}

static void window_reset(ah_engine *e, alloc_t *a)
{
	if (!a->cold_init)
		return; /* never windowed: nothing to reset (eng_cold zeroes it) */
	alloc_cold_t *c = eng_cold(e, a);
	c->below_since_ns = 0;
	c->window_seen = 0;
	memset(&c->window_peak, 0, sizeof(c->window_peak));
}

/* Grow side: the measured dimensions whose usage exceeds grow_at of the
 * reservation ask for usage plus headroom (into target). Sets *low when
 * every measured dimension is below shrink_at. */
static bool grows(const ah_engine *e, const alloc_t *a, const ah_size_report *r, ah_vec *target, bool *low)
{
	const ah_adjust_cfg *c = &e->adjust;
	bool grow = false;
	*low = true;
	for (int d = 0; d < r->nd; d++) {
		int64_t res = r->reserved[d], u = r->used[d];
		if (u < 0)
			continue;
		if ((double)u > c->grow_at * (double)res && res > 0) {
			int64_t v = sized(e, a, d, u);
			if (v > res) {
				target->v[d] = v;
				grow = true;
			}
		}
		if (res > 0 && (double)u >= c->shrink_at * (double)res)
			*low = false;
	}
	return grow;
}

/* Shrink side: usage stayed low for the whole window, so what was measured
 * in it shrinks to its peak plus headroom (never below what it peaked at);
 * dimensions nobody measured stay. `waits` is what the allocation still
 * waits for (its unmeasured dimensions' pending grows), `kept` the same as
 * the engine keeps it. */
static void shrink_window(ah_engine *e, alloc_t *a, const ah_size_report *r, const ah_vec *waits,
			  const ah_vec *kept, ah_size_plan *pl)
{
	alloc_cold_t *w = eng_cold(e, a);
	const ah_adjust_cfg *c = &e->adjust;
	if (!w->below_since_ns) {
		w->below_since_ns = r->now_ns;
		w->window_seen = 0;
		memset(&w->window_peak, 0, sizeof(w->window_peak));
	}
	for (int d = 0; d < r->nd; d++)
		if (r->used[d] >= 0) {
			w->window_seen |= UINT32_C(1) << d;
			if (r->used[d] > w->window_peak.v[d])
				w->window_peak.v[d] = r->used[d];
		}
	*pl = (ah_size_plan){.kind = AH_PLAN_WAITS, .target = *waits};
	if (r->now_ns - w->below_since_ns < c->shrink_window_ns ||
	    r->now_ns - a->last_resize_ns < c->min_shrink_interval_ns)
		return;
	ah_vec t2 = a->res;
	for (int d = 0; d < r->nd; d++)
		if (a->res.v[d] > 0 && (w->window_seen & (UINT32_C(1) << d))) {
			int64_t v = sized(e, a, d, w->window_peak.v[d]);
			t2.v[d] = v < a->res.v[d] ? v : a->res.v[d];
		}
	window_reset(e, a);
	if (!memcmp(&t2, &a->res, sizeof(t2)))
		return;
	for (int d = 0; d < r->nd; d++)
		if (kept->v[d] > a->res.v[d])
			t2.v[d] = kept->v[d];
	*pl = (ah_size_plan){.kind = AH_PLAN_RESIZE, .target = t2,
			     .why_shrink = "usage stayed low for the shrink window"};
}

static int plan(void *ctx, const ah_size_report *r, ah_size_plan *pl)
{
	ah_engine *e = ctx;
	int s = slot_find(e, r->id);
	if (s < 0)
		return AH_ENOENT;
	alloc_t *a = &e->slots[s];
	uint32_t measured = 0;
	ah_vec target;
	for (int d = 0; d < r->nd; d++) {
		target.v[d] = r->waiting[d];
		if (r->used[d] >= 0)
			measured |= UINT32_C(1) << d;
	}
	*pl = (ah_size_plan){.kind = AH_PLAN_NONE};
	if (!measured)
		return 0; /* a heartbeat only: nothing to judge the size by */
	bool low;
	if (grows(e, a, r, &target, &low)) {
		/* What does not fit waits as a pending grow, served in priority
		 * order when room frees; shrink decisions start over. */
		window_reset(e, a);
		*pl = (ah_size_plan){.kind = AH_PLAN_RESIZE, .target = target, .why_grow = "usage near the reservation"};
		return 0;
	}
	/* No grow asked by the measured dimensions: what they waited for is
	 * no longer needed; unmeasured ones keep theirs. */
	ah_vec waits = a->res;
	for (int d = 0; d < r->nd; d++)
		if (!(measured & (UINT32_C(1) << d)) && r->waiting[d] > a->res.v[d])
			waits.v[d] = r->waiting[d];
	if (!low) {
		window_reset(e, a);
		*pl = (ah_size_plan){.kind = AH_PLAN_WAITS, .target = waits};
		return 0;
	}
	/* What it then still waits for, as the engine will keep it (clamped to
	 * what class and quota allow; nothing when that is its size). */
	ah_vec kept = waits;
	bool more;
	eng_want_clamp(e, a, &kept, &more);
	if (!more)
		kept = a->res;
	shrink_window(e, a, r, &waits, &kept, pl);
	return 0;
}

void eng_sizer_builtin(ah_engine *e, ah_sizer *out)
{
	*out = (ah_sizer){.ctx = e, .plan = plan};
}
