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
	if (!ah_vec_fits(&p->used, &grow, &lim, e->nd) || !eng_node_room(e, a, &grow))
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


void ah_engine_set_sizer(ah_engine *e, const ah_sizer *sz)
{
	if (!e)
		return;
	/* Without one of its own the engine runs its built-in rule, a sizer
	 * like the others (sizer_builtin.c). */
	e->has_sizer = sz && (sz->target || sz->plan);
	if (e->has_sizer)
		e->sizer = *sz;
	else
		eng_sizer_builtin(e, &e->sizer);
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

/* Why slot s could not grow to `target` whole: the tenant's quota when,
 * in a dimension still short, it leaves less than the pool has. */
static ah_blocked_by blocked_by(const ah_engine *e, int s, const ah_vec *target)
{
	const alloc_t *a = &e->slots[s];
	const pool_t *p = &e->pools[a->pool];
	const tenant_t *t = &e->tenants[a->tenant];
	ah_vec lim;
	eng_class_limit(e, a->pool, a->klass, &lim);
	for (int d = 0; d < e->nd; d++) {
		int64_t need = target->v[d] - a->res.v[d];
		int64_t room = lim.v[d] - p->used.v[d];
		int64_t qroom = t->lim.quota.v[d] - (t->used.v[d] + t->queued.v[d]);
		if (need > 0 && qroom < need && qroom < room)
			return AH_BLOCKED_QUOTA;
	}
	return AH_BLOCKED_ROOM;
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
	} else if (outranked(e, s)) {
		o->blocked_by = AH_BLOCKED_PRIORITY;
	} else if (eng_grow_toward(e, s, target, now, why_grow) == 1) {
		eng_want_drop(e, s);
		o->action = AH_ADJUST_GROW;
	} else {
		o->blocked_by = blocked_by(e, s, target);
	}
	if (grow && o->action != AH_ADJUST_GROW) {
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

/* A target() sizer as a plan: each measured dimension asked in turn; the
 * sizer owns its hysteresis, the engine rounds, clamps and admits it.
 * pl->target comes in holding what the allocation has and waits for. */
static int plan_by_target(ah_engine *e, const alloc_t *a, const ah_size_report *r, ah_size_plan *pl)
{
	/* fields set one by one: this runs once per report in replay's hot loop */
	pl->kind = AH_PLAN_RESIZE;
	pl->why_grow = "sizer: grow";
	pl->why_shrink = "sizer: shrink";
	for (int d = 0; d < r->nd; d++) {
		if (r->used[d] < 0)
			continue; /* keeps what it has and waits for (the target holds it) */
		ah_size_target tg = {.reserve = a->res.v[d], .limit = AH_LIMIT_NONE};
		if (e->sizer.target(e->sizer.ctx, a->id, d, r->now_ns, r->used[d], a->res.v[d], &r->budget, &tg) < 0)
			continue;
		pl->target.v[d] = eng_clamp_size(e, a, d, tg.reserve);
	}
	return 0;
}

static int apply_plan(ah_engine *e, int s, const ah_size_plan *pl, int64_t now_ns, ah_adjust_outcome *o)
{
	switch (pl->kind) {
	case AH_PLAN_WAITS:
		return eng_want_set(e, s, &pl->target, now_ns);
	case AH_PLAN_RESIZE:
		return adjust_to(e, s, &pl->target, now_ns, pl->why_grow, pl->why_shrink, o);
	default:
		return 0;
	}
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
	/* A report is a heartbeat: the holder is alive, so the lease renews;
	 * it never shortens a longer lease a renew gave. */
	if (a->expires_ns < now_ns + a->lease_ttl_ns)
		a->expires_ns = now_ns + a->lease_ttl_ns;
	eng_heap_down(e, a->heap_idx);
	eng_heap_up(e, a->heap_idx);
	a = &e->slots[s];
	/* Dimensions this report does not decide keep what they have, and
	 * what they wait for. */
	/* What it has and waits for, in the policy's dimensions only (this
	 * runs once per report in replay's hot loop; the engine reads vectors
	 * no further than e->nd): into the plan itself for a target() sizer,
	 * which overwrites its measured dimensions in place; apart for a
	 * plan() sizer, which reads it while writing its plan. */
	ah_size_plan pl;
	ah_vec waiting;
	ah_vec *w = e->sizer.plan ? &waiting : &pl.target;
	const ah_vec *want = a->wanting ? &eng_cold_peek(e, a)->want : NULL;
	for (int d = 0; d < e->nd; d++)
		w->v[d] = want && want->v[d] > a->res.v[d] ? want->v[d] : a->res.v[d];
	ah_size_report r = {.id = a->id, .now_ns = now_ns, .nd = e->nd, .used = usage->v, .reserved = a->res.v,
			    .waiting = w->v, .budget = {.resizes = a->resizes, .last_resize_ns = a->last_resize_ns}};
	rc = e->sizer.plan ? e->sizer.plan(e->sizer.ctx, &r, &pl) : plan_by_target(e, a, &r, &pl);
	if (rc == 0)
		rc = apply_plan(e, s, &pl, now_ns, &o);
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
