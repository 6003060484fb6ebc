/* ahead: adjustment while work runs: resizes, usage reports, the built-in
 * grow/shrink rule and sizers. */
#include <math.h>
#include <string.h>

#include "core/engine_int.h"

/* Resizes slot s inside a transaction: grows only into room the pool has
 * for the class and the tenant's quota allows; a shrink serves the queue. */
static int resize_slot(ah_engine *e, int s, const ah_vec *res, int64_t now_ns, const char *why)
{
	alloc_t *a = &e->slots[s];
	pool_t *p = &e->pools[a->pool];
	tenant_t *t = &e->tenants[a->tenant];
	ah_vec lim, grow = {0};
	eng_class_limit(e, a->pool, a->klass, &lim);
	for (int i = 0; i < e->nd; i++)
		grow.v[i] = res->v[i] > a->res.v[i] ? res->v[i] - a->res.v[i] : 0;
	if (!ah_vec_fits(&p->used, &grow, &lim, e->nd))
		return AH_ECAPACITY;
	ah_vec tused = t->used;
	ah_vec_add(&tused, &t->queued, e->nd);
	if (!ah_vec_fits(&tused, &grow, &t->lim.quota, e->nd))
		return AH_EQUOTA;
	int pi = a->pool;
	eng_apply_res(e, s, res, now_ns, why);
	return eng_serve_if_freed(e, pi, now_ns);
}

typedef struct {
	uint64_t id;
	const ah_vec *res;
} resize_arg;

static int resize_body(ah_engine *e, int64_t now_ns, void *arg)
{
	const resize_arg *r = arg;
	int s = slot_find(e, r->id);
	return s < 0 ? AH_ENOENT : resize_slot(e, s, r->res, now_ns, NULL);
}

int ah_engine_resize(ah_engine *e, uint64_t id, const ah_vec *res, int64_t now_ns)
{
	if (!e || !id || !res)
		return AH_EINVAL;
	for (int i = 0; i < AH_MAX_DIMS; i++)
		if (res->v[i] < 0 || res->v[i] > AH_VALUE_MAX || (i >= e->nd && res->v[i]))
			return AH_ERANGE;
	resize_arg r = {.id = id, .res = res};
	return eng_txn_run(e, now_ns, false, resize_body, &r);
}

void ah_adjust_cfg_init(ah_adjust_cfg *c)
{
	c->grow_at = 0.9;
	c->shrink_at = 0.5;
	c->shrink_window_ns = 600LL * 1000000000;
	c->headroom = 0.15;
	c->min_shrink_interval_ns = 60LL * 1000000000;
}

void ah_engine_set_adjust(ah_engine *e, const ah_adjust_cfg *cfg)
{
	if (e && cfg)
		e->adjust = *cfg;
}

/* Rounds a wanted size up to the pool's unit, within the pool's minimum
 * request and the class's maximum. */
static int64_t clamp_size(const ah_engine *e, const alloc_t *a, int d, int64_t v)
{
	const ah_pool_policy *pp = &e->pol->pools[a->pool];
	int64_t unit = pp->unit.v[d] > 0 ? pp->unit.v[d] : 1;
	if (v < 0)
		v = 0;
	if (v > AH_VALUE_MAX - unit)
		v = AH_VALUE_MAX - unit;
	v = (v + unit - 1) / unit * unit;
	if (v < pp->min_request.v[d])
		v = pp->min_request.v[d];
	if (v > e->pol->classes[a->klass].max_request.v[d])
		v = e->pol->classes[a->klass].max_request.v[d] / unit * unit;
	return v;
}

/* The size usage u asks for under the built-in rule: u plus headroom, in
 * whole units (at least one). */
static int64_t sized(const ah_engine *e, const alloc_t *a, int d, int64_t u)
{
	const ah_pool_policy *pp = &e->pol->pools[a->pool];
	int64_t unit = pp->unit.v[d] > 0 ? pp->unit.v[d] : 1;
	double w = (double)u * (1.0 + e->adjust.headroom);
	int64_t v = clamp_size(e, a, d, w >= (double)AH_VALUE_MAX ? AH_VALUE_MAX : (int64_t)ceil(w));
	return v < unit ? unit : v;
}

void ah_engine_set_sizer(ah_engine *e, const ah_sizer *sz)
{
	if (!e)
		return;
	e->has_sizer = sz && sz->target;
	if (e->has_sizer)
		e->sizer = *sz;
}

/* Does a higher-priority claim (a queued request or a pending grow) wait
 * in slot s's pool? Then s may not take room ahead of it. */
static bool outranked(const ah_engine *e, int s)
{
	const alloc_t *a = &e->slots[s];
	const pool_t *p = &e->pools[a->pool];
	int pr = prio(e, a->klass);
	for (int i = 0; i < p->nwant; i++)
		if (p->wants[i] != s && prio(e, e->slots[p->wants[i]].klass) > pr)
			return true;
	for (int i = 0; i < p->qn; i++)
		if (prio(e, p->q[i]->klass) > pr)
			return true;
	return false;
}

/* Moves slot s to `target`: shrinks at once, grows as far as room allows
 * (unless a higher-priority claim waits) and leaves the rest pending. */
static int adjust_to(ah_engine *e, int s, const ah_vec *target, int64_t now, const char *why_grow,
		     const char *why_shrink, ah_adjust_outcome *o)
{
	const int pi = e->slots[s].pool;
	ah_vec before = e->slots[s].res, now_res = before;
	bool grow = false, shrink = false;
	for (int d = 0; d < e->nd; d++) {
		if (target->v[d] > before.v[d])
			grow = true;
		else if (target->v[d] < before.v[d]) {
			now_res.v[d] = target->v[d];
			shrink = true;
		}
	}
	if (shrink) {
		eng_apply_res(e, s, &now_res, now, why_shrink ? why_shrink : why_grow);
		o->action = AH_ADJUST_SHRINK;
	}
	if (!grow) {
		eng_want_drop(e, s);
	} else if (!outranked(e, s) && eng_grow_toward(e, s, target, now, why_grow) == 1) {
		eng_want_drop(e, s);
		o->action = AH_ADJUST_GROW;
	} else {
		int rc = eng_want_set(e, s, target, now);
		if (rc < 0)
			return rc;
		o->action = AH_ADJUST_GROW_BLOCKED;
	}
	return eng_serve_if_freed(e, pi, now);
}

typedef struct {
	uint64_t id;
	const ah_vec *usage;
	ah_adjust_outcome o;
} report_arg;

static void window_reset(ah_engine *e, alloc_t *a)
{
	if (!a->cold_init)
		return; /* never windowed: nothing to reset (eng_cold zeroes it) */
	alloc_cold_t *c = eng_cold(e, a);
	c->below_since_ns = 0;
	c->window_seen = 0;
	memset(&c->window_peak, 0, sizeof(c->window_peak));
}

/* The sizer (a replay policy, or ahead's predictive one) owns the decision
 * and its hysteresis; the engine rounds, clamps and admits it. */
static int size_by_sizer(ah_engine *e, int s, const ah_vec *usage, ah_vec *target, int64_t now_ns,
			 ah_adjust_outcome *o)
{
	const alloc_t *a = &e->slots[s];
	for (int d = 0; d < e->nd; d++) {
		if (usage->v[d] < 0)
			continue;
		ah_size_target tg = {.reserve = a->res.v[d], .limit = AH_LIMIT_NONE};
		ah_resize_budget bud = {.resizes = a->resizes, .last_resize_ns = a->last_resize_ns};
		if (e->sizer.target(e->sizer.ctx, a->id, d, now_ns, usage->v[d], a->res.v[d], &bud, &tg) < 0)
			continue;
		target->v[d] = clamp_size(e, a, d, tg.reserve);
	}
	return adjust_to(e, s, target, now_ns, "sizer: grow", "sizer: shrink", o);
}

/* Built-in rule, grow side: the measured dimensions whose usage exceeds
 * grow_at of the reservation ask for usage plus headroom (into target).
 * Sets *low when every measured dimension is below shrink_at. */
static bool rule_grows(const ah_engine *e, const alloc_t *a, const ah_vec *usage, ah_vec *target, bool *low)
{
	const ah_adjust_cfg *c = &e->adjust;
	bool grow = false;
	*low = true;
	for (int d = 0; d < e->nd; d++) {
		int64_t r = a->res.v[d], u = usage->v[d];
		if (u < 0)
			continue;
		if ((double)u > c->grow_at * (double)r && r > 0) {
			int64_t v = sized(e, a, d, u);
			if (v > r) {
				target->v[d] = v;
				grow = true;
			}
		}
		if (r > 0 && (double)u >= c->shrink_at * (double)r)
			*low = false;
	}
	return grow;
}

/* Built-in rule, shrink side: usage stayed low for the whole window, so
 * shrink what was measured in it to its peak plus headroom (never below
 * what it peaked at); dimensions nobody measured stay. */
static int rule_shrink_window(ah_engine *e, int s, const ah_vec *usage, int64_t now_ns, ah_adjust_outcome *o)
{
	alloc_t *a = &e->slots[s];
	alloc_cold_t *w = eng_cold(e, a);
	const ah_adjust_cfg *c = &e->adjust;
	if (!w->below_since_ns) {
		w->below_since_ns = now_ns;
		w->window_seen = 0;
		memset(&w->window_peak, 0, sizeof(w->window_peak));
	}
	for (int d = 0; d < e->nd; d++)
		if (usage->v[d] >= 0) {
			w->window_seen |= UINT32_C(1) << d;
			if (usage->v[d] > w->window_peak.v[d])
				w->window_peak.v[d] = usage->v[d];
		}
	if (now_ns - w->below_since_ns < c->shrink_window_ns || now_ns - a->last_resize_ns < c->min_shrink_interval_ns)
		return 0;
	ah_vec t2 = a->res;
	for (int d = 0; d < e->nd; d++)
		if (a->res.v[d] > 0 && (w->window_seen & (UINT32_C(1) << d))) {
			int64_t v = sized(e, a, d, w->window_peak.v[d]);
			t2.v[d] = v < a->res.v[d] ? v : a->res.v[d];
		}
	window_reset(e, a);
	if (!memcmp(&t2, &a->res, sizeof(t2)))
		return 0;
	for (int d = 0; d < e->nd; d++)
		if (a->wanting && w->want.v[d] > a->res.v[d])
			t2.v[d] = w->want.v[d];
	return adjust_to(e, s, &t2, now_ns, NULL, "usage stayed low for the shrink window", o);
}

/* The built-in rule (see ah_adjust_cfg in ahead/engine.h). */
static int size_by_rule(ah_engine *e, int s, const ah_vec *usage, uint32_t measured, ah_vec *target,
			int64_t now_ns, ah_adjust_outcome *o)
{
	alloc_t *a = &e->slots[s];
	bool low;
	if (rule_grows(e, a, usage, target, &low)) {
		/* Grow at once (a shortfall costs more than idle room); shrink
		 * decisions start over. What does not fit waits as a pending
		 * grow, served in priority order when room frees. */
		window_reset(e, a);
		return adjust_to(e, s, target, now_ns, "usage near the reservation", NULL, o);
	}
	/* No grow asked by the measured dimensions: what they waited for is
	 * no longer needed; unmeasured ones keep theirs. */
	if (a->wanting) {
		ah_vec w = a->res;
		for (int d = 0; d < e->nd; d++)
			if (!(measured & (UINT32_C(1) << d)) && eng_cold_peek(e, a)->want.v[d] > a->res.v[d])
				w.v[d] = eng_cold_peek(e, a)->want.v[d];
		int rc = eng_want_set(e, s, &w, now_ns);
		if (rc < 0)
			return rc;
		a = &e->slots[s];
	}
	if (!low) {
		window_reset(e, a);
		return 0;
	}
	return rule_shrink_window(e, s, usage, now_ns, o);
}

static int report_body(ah_engine *e, int64_t now_ns, void *arg)
{
	report_arg *ra = arg;
	const ah_vec *usage = ra->usage;
	ah_adjust_outcome o = {0};
	int rc = 0;
	int s = slot_find(e, ra->id);
	if (s < 0)
		return AH_ENOENT;
	alloc_t *a = &e->slots[s];
	/* A report is a heartbeat: the holder is alive, so the lease renews. */
	a->expires_ns = now_ns + a->lease_ttl_ns;
	eng_heap_down(e, a->heap_idx);
	eng_heap_up(e, a->heap_idx);
	a = &e->slots[s];
	/* Dimensions this report does not decide keep what they have, and
	 * what they wait for. */
	ah_vec target = a->res;
	uint32_t measured = 0;
	for (int d = 0; d < e->nd; d++) {
		if (a->wanting && eng_cold_peek(e, a)->want.v[d] > a->res.v[d])
			target.v[d] = eng_cold_peek(e, a)->want.v[d];
		if (usage->v[d] >= 0)
			measured |= UINT32_C(1) << d;
	}
	if (e->has_sizer)
		rc = size_by_sizer(e, s, usage, &target, now_ns, &o);
	else if (measured) /* else a heartbeat only: nothing to judge the size by */
		rc = size_by_rule(e, s, usage, measured, &target, now_ns, &o);
	if (rc < 0)
		return rc;
	a = &e->slots[s];
	/* The renewed lease must be as durable as a resize. */
	if (o.action == AH_ADJUST_NONE || o.action == AH_ADJUST_GROW_BLOCKED)
		eng_led_put_alloc(e, a);
	o.res = a->res;
	o.lease_expires_ns = a->expires_ns;
	ra->o = o;
	return 0;
}

int ah_engine_report_usage(ah_engine *e, uint64_t id, const ah_vec *usage, int64_t now_ns, ah_adjust_outcome *out)
{
	if (!e || !id || !usage)
		return AH_EINVAL;
	for (int i = 0; i < AH_MAX_DIMS; i++)
		if (usage->v[i] < AH_USAGE_NONE || usage->v[i] > AH_VALUE_MAX || (i >= e->nd && usage->v[i] > 0))
			return AH_ERANGE;
	report_arg r = {.id = id, .usage = usage};
	int rc = eng_txn_run(e, now_ns, false, report_body, &r);
	if (!rc && out)
		*out = r.o;
	return rc;
}
