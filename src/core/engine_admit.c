/* ahead: admission: a request resolved, validated, checked against capacity and
 * quota, then granted, queued or refused (order: see ahead/engine.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"

static const char *reason_codes[AH_R__COUNT] = {
	"none", "unknown_pool", "unknown_tenant", "unknown_class", "invalid_request",
	"policy_violation", "quota_exceeded", "rate_limited", "exceeds_capacity",
	"no_capacity", "queue_full", "queue_timeout",
};

const char *ah_reason_code(ah_reason r)
{
	if ((int)r < 0 || r >= AH_R__COUNT)
		return "unknown";
	return reason_codes[r];
}

static int64_t lease_ttl_for(const ah_engine *e, int k, int64_t asked)
{
	if (asked > 0)
		return asked;
	if (e->pol->classes[k].lease_ttl_ns > 0)
		return e->pol->classes[k].lease_ttl_ns;
	return e->pol->lease_ttl_ns;
}

static void refuse(ah_decision *d, ah_reason r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void refuse(ah_decision *d, ah_reason r, const char *fmt, ...)
{
	va_list ap;
	d->outcome = AH_REFUSED;
	d->reason = r;
	va_start(ap, fmt);
	vsnprintf(d->message, sizeof(d->message), fmt, ap);
	va_end(ap);
}

static void add_correction(ah_decision *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_correction(ah_decision *d, const char *fmt, ...)
{
	size_t n = strlen(d->corrections);
	if (n + 3 >= sizeof(d->corrections))
		return;
	if (n) {
		memcpy(d->corrections + n, "; ", 3);
		n += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->corrections + n, sizeof(d->corrections) - n, fmt, ap);
	va_end(ap);
}

static void fmt_val(const ah_engine *e, int dim, int64_t v, char *buf, size_t len)
{
	if (ah_unit_format(e->pol->dims.kind[dim], v, buf, len) < 0)
		snprintf(buf, len, "%lld", (long long)v);
}

/* For people at a glance ("4.69Gi"), where exactness does not matter: how
 * far a request is from room or quota. */
static void fmt_human(const ah_engine *e, int dim, int64_t v, char *buf, size_t len)
{
	if (ah_unit_format_human(e->pol->dims.kind[dim], v, buf, len) < 0)
		snprintf(buf, len, "%lld", (long long)v);
}

/* Policy check per dimension: min request, unit, class maximum. Corrects
 * when the policy says autocorrect; returns false (refused) otherwise. */
static bool apply_policy(ah_engine *e, int p, int k, ah_vec *res, ah_decision *d)
{
	const ah_pool_policy *pp = &e->pol->pools[p];
	const ah_class_policy *cp = &e->pol->classes[k];
	bool fix = e->pol->autocorrect;
	char a[32], b[32], c[32];
	for (int i = 0; i < e->nd; i++) {
		int64_t v = res->v[i];
		if (v == 0)
			continue; /* a dimension not asked for is not checked */
		const char *dn = e->pol->dims.name[i];
		if (v < pp->min_request.v[i]) {
			fmt_val(e, i, v, a, sizeof a);
			fmt_val(e, i, pp->min_request.v[i], b, sizeof b);
			if (!fix) {
				refuse(d, AH_R_POLICY, "%s: %s is below pool %s's minimum request %s", dn, a, pp->name, b);
				return false;
			}
			add_correction(d, "%s: raised %s to the minimum %s", dn, a, b);
			v = pp->min_request.v[i];
		}
		int64_t u = pp->unit.v[i] > 0 ? pp->unit.v[i] : 1;
		if (v % u) {
			int64_t up = (v / u + 1) * u;
			fmt_val(e, i, v, a, sizeof a);
			fmt_val(e, i, u, b, sizeof b);
			fmt_val(e, i, up, c, sizeof c);
			if (!fix) {
				refuse(d, AH_R_POLICY, "%s: %s is not a multiple of pool %s's unit %s", dn, a, pp->name, b);
				return false;
			}
			add_correction(d, "%s: rounded %s up to %s (unit %s)", dn, a, c, b);
			v = up;
		}
		if (v > cp->max_request.v[i]) {
			int64_t mx = cp->max_request.v[i] / u * u;
			fmt_val(e, i, v, a, sizeof a);
			fmt_val(e, i, cp->max_request.v[i], b, sizeof b);
			if (!fix || mx < pp->min_request.v[i] || mx == 0) {
				refuse(d, AH_R_POLICY, "%s: %s is above class %s's maximum %s", dn, a, cp->name, b);
				return false;
			}
			fmt_val(e, i, mx, c, sizeof c);
			add_correction(d, "%s: lowered %s to class %s's maximum %s", dn, a, cp->name, c);
			v = mx;
		}
		res->v[i] = v;
	}
	return true;
}

/* Predict, then reserve: the class's quantile of the predicted usage plus
 * its margin, in whole pool units, within the pool's minimum and the class's
 * maximum. Returns false (refused) on a predictor error. */
static bool apply_prediction(ah_engine *e, const ah_request *rq, int p, int k, ah_vec *res, ah_decision *d)
{
	if (!e->has_predictor || !rq->workload || !*rq->workload)
		return true;
	const ah_class_policy *cp = &e->pol->classes[k];
	const ah_pool_policy *pp = &e->pol->pools[p];
	ah_vec pred = {0};
	int rc = e->predictor.predict(e->predictor.ctx, rq->workload, rq->params ? rq->params : "", cp->quantile,
				      &e->pol->dims, &pred);
	if (rc == AH_ENOENT)
		return true; /* nothing known yet: the stated resources stand */
	if (rc < 0) {
		refuse(d, AH_R_INVALID, "workload %.64s: prediction failed: %s", rq->workload, ah_strerror(rc));
		return false;
	}
	bool stated = !ah_vec_is_zero(res, e->nd);
	for (int i = 0; i < e->nd; i++) {
		if (pred.v[i] <= 0)
			continue;
		double want = (double)pred.v[i] * (1.0 + cp->margin);
		int64_t u = pp->unit.v[i] > 0 ? pp->unit.v[i] : 1;
		int64_t v = want >= (double)AH_VALUE_MAX ? AH_VALUE_MAX : (int64_t)ceil(want);
		v = (v + u - 1) / u * u;
		if (v < pp->min_request.v[i])
			v = (pp->min_request.v[i] + u - 1) / u * u;
		if (v > cp->max_request.v[i])
			v = cp->max_request.v[i] / u * u;
		int64_t have = res->v[i];
		if (stated && have > 0) {
			if (cp->prediction == AH_PREDICT_OFF || (cp->prediction == AH_PREDICT_RAISE && v < have) ||
			    (cp->prediction == AH_PREDICT_LOWER && v > have))
				continue;
		} else if (stated && cp->prediction == AH_PREDICT_OFF) {
			continue;
		}
		res->v[i] = v;
	}
	d->predicted = true;
	d->prediction = pred;
	char buf[256];
	if (ah_vec_format_human(&e->pol->dims, &pred, buf, sizeof buf) == 0)
		add_correction(d, "predicted %s at p%g for %.64s", buf, cp->quantile * 100, rq->workload);
	return true;
}

void ah_engine_set_predictor(ah_engine *e, const ah_predictor *p)
{
	if (!e)
		return;
	e->has_predictor = p && p->predict;
	if (e->has_predictor)
		e->predictor = *p;
}

/* Evicts lower-priority allocations of pool p until res fits; all or none. */
static bool try_preempt(ah_engine *e, int p, int k, const ah_vec *res, const ah_vec *lim, int64_t now,
			ah_decision *d)
{
	int n = 0, cap = 0, *v = NULL;
	ah_vec freed = {0};
	bool ok = false;
	for (int s = 0; s < e->nslots; s++) {
		const alloc_t *a = &e->slots[s];
		if (!a->id || a->pool != p || prio(e, a->klass) >= prio(e, k))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			int *nv = realloc(v, sizeof(*v) * (size_t)cap);
			if (!nv)
				goto out;
			v = nv;
		}
		v[n++] = s;
	}
	/* Lowest priority first, newest first within a priority (least work
	 * lost); granted at the same instant, the later id is the newer: slot
	 * order is no tie-break, an engine reloaded from the ledger has other
	 * slots and must choose the same victims. */
	for (int i = 1; i < n; i++) {
		int x = v[i], j = i - 1;
		while (j >= 0) {
			const alloc_t *a = &e->slots[v[j]], *b = &e->slots[x];
			int pa = prio(e, a->klass), pb = prio(e, b->klass);
			if (pa < pb || (pa == pb && (a->created_ns > b->created_ns ||
						     (a->created_ns == b->created_ns && a->id > b->id))))
				break;
			v[j + 1] = v[j];
			j--;
		}
		v[j + 1] = x;
	}
	int take = 0;
	ah_vec used = e->pools[p].used;
	while (!ah_vec_fits(&used, res, lim, e->nd) && take < n) {
		ah_vec_sub(&used, &e->slots[v[take]].res, e->nd);
		ah_vec_add(&freed, &e->slots[v[take]].res, e->nd);
		take++;
	}
	if (!ah_vec_fits(&used, res, lim, e->nd))
		goto out;
	for (int i = 0; i < take; i++) {
		alloc_t *a = &e->slots[v[i]];
		eng_led_del_alloc(e, a->id);
		eng_led_event(e, now, AH_EV_PREEMPT, a->id, a->tenant, a->pool, a->klass, &a->res, AH_R_NONE,
			"preempted by a higher-priority request");
		eng_alloc_remove(e, v[i]);
	}
	e->pools[p].dirty = false; /* the freed room goes to the preemptor */
	d->n_preempted = take;
	ok = true;
out:
	free(v);
	return ok;
}

int eng_find_class(const ah_engine *e, const char *name)
{
	if (!name || !*name)
		return e->pol->default_class;
	for (int i = 0; i < e->pol->n_classes; i++)
		if (!strcmp(e->pol->classes[i].name, name))
			return i;
	return -1;
}

int eng_find_pool(const ah_engine *e, const char *name)
{
	for (int i = 0; i < e->pol->n_pools; i++)
		if (!strcmp(e->pol->pools[i].name, name))
			return i;
	return -1;
}

/* A request on its way through admission: resolved to indices, then
 * corrected (prediction, policy). */
typedef struct {
	int t, p, k;
	ah_vec res;
	int64_t ttl;
	uint32_t wl;  /* the workload's name hash (spreading on nodes) */
	int sel;      /* the node labels asked for (engine_select.c; 0: none) */
	int node;     /* pools on nodes: where it goes, once placed */
} admission;

/* FNV-1a of the workload's name, never 0 (0: none). */
static uint32_t workload_hash(const char *w)
{
	if (!w || !*w)
		return 0;
	uint32_t h = 2166136261u;
	for (; *w; w++)
		h = (h ^ (unsigned char)*w) * 16777619u;
	return h ? h : 1;
}

/* Names to indices; an unknown tenant is added when the policy admits
 * them. Returns 0, 1 when refused, or an error. */
static int resolve(ah_engine *e, const ah_request *rq, admission *a, ah_decision *d)
{
	const char *tn = rq->tenant ? rq->tenant : "";
	const char *pn = rq->pool ? rq->pool : "";
	a->p = eng_find_pool(e, pn);
	a->k = eng_find_class(e, rq->klass);
	a->t = eng_tenant_find(e, tn);
	if (a->p < 0) {
		refuse(d, AH_R_UNKNOWN_POOL, "pool '%.64s' is not defined by the policy", pn);
		return 1;
	}
	if (a->k < 0) {
		refuse(d, AH_R_UNKNOWN_CLASS, "class '%.64s' is not defined by the policy", rq->klass);
		return 1;
	}
	if (a->t >= 0)
		return 0;
	if (ah_name_check_object(tn)) {
		refuse(d, AH_R_INVALID, "tenant: '%.64s' is not a valid name (" AH_NAME_OBJECT_GRAMMAR ")", tn);
		return 1;
	}
	if (!e->pol->unknown_tenants) {
		refuse(d, AH_R_UNKNOWN_TENANT, "tenant '%s' is not defined by the policy", tn);
		return 1;
	}
	a->t = eng_tenant_add(e, tn, &e->pol->default_tenant);
	return a->t < 0 ? a->t : 0;
}

/* The node labels asked for: well-formed, and only on a pool on nodes.
 * Returns 0, 1 when refused, or an error. */
static int resolve_labels(ah_engine *e, const ah_request *rq, admission *a, ah_decision *d)
{
	if (!rq->node_labels || !*rq->node_labels)
		return 0;
	if (!eng_pool_on_nodes(e, a->p)) {
		refuse(d, AH_R_INVALID, "node_labels: pool %s is not on nodes (its policy has no `nodes`)",
		       e->pol->pools[a->p].name);
		return 1;
	}
	char err[160] = "";
	int rc = eng_select_intern(e, rq->node_labels, err, sizeof err);
	if (rc == AH_ENOMEM)
		return rc;
	if (rc < 0) {
		refuse(d, AH_R_INVALID, "node_labels: %s", err);
		return 1;
	}
	a->sel = rc;
	return 0;
}

/* The request's own shape: resources in range and not empty (after
 * prediction), parameters and durations well-formed. */
static bool check_shape(ah_engine *e, const ah_request *rq, admission *a, ah_decision *d)
{
	a->res = rq->res;
	for (int i = 0; i < AH_MAX_DIMS; i++) {
		if (a->res.v[i] < 0 || a->res.v[i] > AH_VALUE_MAX || (i >= e->nd && a->res.v[i])) {
			refuse(d, AH_R_INVALID, "resources: dimension %d is negative, too large or undefined", i);
			return false;
		}
	}
	if (!apply_prediction(e, rq, a->p, a->k, &a->res, d))
		return false;
	if (ah_vec_is_zero(&a->res, e->nd)) {
		refuse(d, AH_R_INVALID, "resources: the request asks for nothing");
		return false;
	}
	if (rq->params && strlen(rq->params) > AH_PARAMS_MAX) {
		refuse(d, AH_R_INVALID, "params: longer than %d bytes", AH_PARAMS_MAX);
		return false;
	}
	if (rq->lease_ttl_ns < 0 || rq->queue_timeout_ns < -1) {
		refuse(d, AH_R_INVALID, "%s: must not be negative", rq->lease_ttl_ns < 0 ? "lease_ttl" : "queue_timeout");
		return false;
	}
	return true;
}

/* The lease asked for (or the class's), within the policy's maximum. */
static bool check_lease(ah_engine *e, const ah_request *rq, admission *a, ah_decision *d)
{
	a->ttl = lease_ttl_for(e, a->k, rq->lease_ttl_ns);
	if (a->ttl <= e->pol->max_lease_ttl_ns)
		return true;
	char x[32], y[32];
	ah_duration_format(a->ttl, x, sizeof x);
	ah_duration_format(e->pol->max_lease_ttl_ns, y, sizeof y);
	if (!e->pol->autocorrect) {
		refuse(d, AH_R_POLICY, "lease_ttl: %s is above the maximum lease %s", x, y);
		return false;
	}
	add_correction(d, "lease_ttl: lowered %s to the maximum %s", x, y);
	a->ttl = e->pol->max_lease_ttl_ns;
	return true;
}

static bool check_rate(ah_engine *e, const admission *a, int64_t now, ah_decision *d)
{
	tenant_t *t = &e->tenants[a->t];
	if (eng_rate_take(t, now))
		return true;
	refuse(d, AH_R_RATE, "tenant %s: more than %g requests/s (burst %g)", t->name, t->lim.rate_per_s, t->lim.burst);
	return false;
}

/* Everything about the request itself, before the pool's state counts. */
static bool validate(ah_engine *e, const ah_request *rq, admission *a, int64_t now, ah_decision *d)
{
	return check_shape(e, rq, a, d) && check_lease(e, rq, a, d) && check_rate(e, a, now, d) &&
	       apply_policy(e, a->p, a->k, &a->res, d);
}

/* "Can never fit": against what the pool may grow to when it is shaped
 * (the scaler sees the queued demand and scales for it). */
static bool check_reach(ah_engine *e, const admission *a, const ah_vec *lim, ah_decision *d)
{
	ah_vec never = *lim;
	const ah_pool_policy *ppol = &e->pol->pools[a->p];
	if (eng_pool_on_nodes(e, a->p)) {
		/* never: above what any one of its nodes offers (the request
		 * waits while no node is known yet) */
		for (int i = 0; i < e->nd; i++) {
			int64_t m = eng_node_reach(e, a->p, a->sel, i);
			never.v[i] = m < 0 ? AH_VALUE_MAX : m;
		}
	} else if (ppol->shaping)
		for (int i = 0; i < e->nd; i++) {
			int64_t m = ppol->max_size.v[i];
			if (prio(e, a->k) < ppol->headroom_priority)
				m -= ppol->headroom.v[i];
			if (m > never.v[i])
				never.v[i] = m;
		}
	for (int i = 0; i < e->nd; i++) {
		if (a->res.v[i] > never.v[i]) {
			char x[32], y[32];
			fmt_human(e, i, a->res.v[i], x, sizeof x);
			fmt_human(e, i, never.v[i], y, sizeof y);
			refuse(d, AH_R_TOO_BIG, "%s: %s exceeds what pool %s offers class %s (%s)", e->pol->dims.name[i], x,
			       ppol->name, e->pol->classes[a->k].name, y);
			return false;
		}
	}
	return true;
}

/* Quota counts what the tenant holds and what it has queued. */
static bool check_quota(ah_engine *e, const admission *a, ah_decision *d)
{
	const tenant_t *tt = &e->tenants[a->t];
	for (int i = 0; i < e->nd; i++) {
		if (!a->res.v[i])
			continue;
		int64_t have = tt->used.v[i] + tt->queued.v[i];
		if (a->res.v[i] > tt->lim.quota.v[i] - have) {
			char x[32], y[32], z[32];
			fmt_human(e, i, a->res.v[i], x, sizeof x);
			fmt_human(e, i, have, y, sizeof y);
			fmt_human(e, i, tt->lim.quota.v[i], z, sizeof z);
			refuse(d, AH_R_QUOTA, "tenant %s: %s %s more would exceed its quota %s (holds or waits for %s)",
			       tt->name, e->pol->dims.name[i], x, z, y);
			return false;
		}
	}
	return true;
}

/* Does a queued request rank ahead of this new one? */
static bool queue_ahead(const ah_engine *e, const admission *a)
{
	const pool_t *pl = &e->pools[a->p];
	bool nodes = eng_pool_on_nodes(e, a->p);
	for (int i = 0; i < pl->qn; i++)
		if (eng_ranks_ahead(e, prio(e, pl->q[i]->klass), pl->q[i]->tenant, pl->q[i]->seq, prio(e, a->k), a->t,
				    UINT64_MAX) &&
		    (!nodes || !eng_node_waits(e, a->p, pl->q[i]->sel, &pl->q[i]->res)))
			return true;
	return false;
}

static int grant(ah_engine *e, const ah_request *rq, const admission *a, int64_t now, ah_decision *d)
{
	alloc_t x = {
		.id = e->next_id++,
		.tenant = a->t,
		.pool = a->p,
		.klass = a->k,
		.res = a->res,
		.created_ns = now,
		.lease_ttl_ns = a->ttl,
		.expires_ns = now + a->ttl,
		.node1 = (int16_t)(a->node + 1),
		.wl = a->wl,
		.sel = (uint16_t)a->sel,
	};
	e->next_id_dirty = true;
	if (rq->params && *rq->params) {
		x.params = strdup(rq->params);
		if (!x.params)
			return AH_ENOMEM;
	}
	int s = eng_alloc_insert(e, &x);
	if (s < 0) {
		free(x.params);
		return s;
	}
	eng_node_precond(e, a->node);
	d->outcome = AH_GRANTED;
	d->id = x.id;
	d->lease_expires_ns = x.expires_ns;
	eng_led_put_alloc(e, &e->slots[s]);
	eng_led_event(e, now, AH_EV_GRANT, x.id, a->t, a->p, a->k, &a->res, AH_R_NONE,
		      d->corrections[0] ? d->corrections : NULL);
	return 0;
}

static int64_t queue_timeout_for(const ah_engine *e, const ah_request *rq, int k)
{
	if (rq->queue_timeout_ns >= 0)
		return rq->queue_timeout_ns;
	return e->pol->classes[k].queue_timeout_ns > 0 ? e->pol->classes[k].queue_timeout_ns : e->pol->queue_timeout_ns;
}

/* Queues the request if it may wait and the queue has room. Returns 0 when
 * queued, 1 when refused, or an error. */
static int enqueue(ah_engine *e, const ah_request *rq, const admission *a, int64_t now, ah_decision *d)
{
	pool_t *pl = &e->pools[a->p];
	int64_t qt = queue_timeout_for(e, rq, a->k);
	if (qt <= 0) {
		refuse(d, AH_R_NO_CAPACITY, "pool %s has no room now and the request may not queue",
		       e->pol->pools[a->p].name);
		return 1;
	}
	int maxq = e->pol->pools[a->p].max_queue > 0 ? e->pol->pools[a->p].max_queue : 10000;
	if (pl->qn >= maxq) {
		refuse(d, AH_R_QUEUE_FULL, "pool %s's queue is full (%d requests)", e->pol->pools[a->p].name, pl->qn);
		return 1;
	}
	qitem_t *q = calloc(1, sizeof(*q));
	if (!q)
		return AH_ENOMEM;
	if (pl->qn == pl->qcap) {
		int nc = pl->qcap ? pl->qcap * 2 : 16;
		qitem_t **nq = realloc(pl->q, sizeof(*nq) * (size_t)nc);
		if (!nq) {
			free(q);
			return AH_ENOMEM;
		}
		pl->q = nq;
		pl->qcap = nc;
	}
	*q = (qitem_t){
		.id = e->next_id++,
		.seq = e->next_seq++,
		.tenant = a->t,
		.pool = a->p,
		.klass = a->k,
		.res = a->res,
		.arrival_ns = now,
		.deadline_ns = now + qt,
		.lease_ttl_ns = a->ttl,
		.wl = a->wl,
		.sel = (uint16_t)a->sel,
	};
	e->next_id_dirty = true;
	if (rq->params && *rq->params && !(q->params = strdup(rq->params))) {
		free(q);
		return AH_ENOMEM;
	}
	int pos = 1;
	for (int i = 0; i < pl->qn; i++)
		if (eng_ranks_ahead(e, prio(e, pl->q[i]->klass), pl->q[i]->tenant, pl->q[i]->seq, prio(e, a->k), a->t,
				    q->seq))
			pos++;
	pl->q[pl->qn++] = q;
	e->nqueued++;
	ah_vec_add(&e->tenants[a->t].queued, &a->res, e->nd);
	if (q->deadline_ns < e->min_deadline_ns)
		e->min_deadline_ns = q->deadline_ns;
	d->outcome = AH_QUEUED;
	d->id = q->id;
	d->queue_position = pos;
	d->queue_deadline_ns = q->deadline_ns;
	eng_led_put_queued(e, q);
	eng_led_event(e, now, AH_EV_QUEUE, q->id, a->t, a->p, a->k, &a->res, AH_R_NONE, NULL);
	return 0;
}

/* Against the pool's state: reach and quota, then granted if it fits and
 * nothing queued ranks ahead (or once lower classes are preempted), else
 * queued or refused. Returns 0 when granted or queued, 1 when refused, or
 * an error. */
static int place(ah_engine *e, const ah_request *rq, admission *a, int64_t now, ah_decision *d)
{
	ah_vec lim;
	eng_class_limit(e, a->p, a->k, &lim);
	if (!check_reach(e, a, &lim, d) || !check_quota(e, a, d))
		return 1;
	bool ahead = queue_ahead(e, a);
	bool fits = !ahead && ah_vec_fits(&e->pools[a->p].used, &a->res, &lim, e->nd);
	if (eng_pool_on_nodes(e, a->p)) {
		/* one node must take it whole; no preemption across nodes (not built) */
		a->node = fits ? eng_node_pick(e, a->p, a->k, a->wl, a->sel, &a->res, -1, NULL, 0) : -1;
		if (a->node == AH_ENOMEM)
			return AH_ENOMEM;
		fits = a->node >= 0;
	} else if (!fits && !ahead && e->pol->classes[a->k].preempt) {
		fits = try_preempt(e, a->p, a->k, &a->res, &lim, now, d);
	}
	return fits ? grant(e, rq, a, now, d) : enqueue(e, rq, a, now, d);
}

static void log_refusal(ah_engine *e, const ah_request *rq, const admission *a, int64_t now, const ah_decision *d)
{
	if (!e->ledger)
		return;
	/* Name what was asked for even when the policy does not know it (an
	 * unknown tenant's refusal must say which tenant), but only names that
	 * are valid: the ledger holds no garbage. */
	ah_ledger_event ev = {
		.t_ns = now,
		.kind = AH_EV_REFUSE,
		.tenant = a->t >= 0 ? e->tenants[a->t].name : (!ah_name_check_object(rq->tenant) ? rq->tenant : NULL),
		.pool = a->p >= 0 ? e->pol->pools[a->p].name : (!ah_name_check_object(rq->pool) ? rq->pool : NULL),
		.klass = a->k >= 0 ? e->pol->classes[a->k].name : (!ah_name_check_object(rq->klass) ? rq->klass : NULL),
		.res = &rq->res,
		.reason = ah_reason_code(d->reason),
		.detail = d->message,
	};
	eng_led_check(e, e->ledger->ops->event(e->ledger, &ev));
}

static int decide(ah_engine *e, const ah_request *rq, uint32_t wl, int64_t now, ah_decision *d)
{
	admission a = {.t = -1, .p = -1, .k = -1, .node = -1, .wl = wl};
	memset(d, 0, sizeof(*d));
	d->outcome = AH_REFUSED;
	int rc = resolve(e, rq, &a, d);
	if (rc == 0)
		rc = resolve_labels(e, rq, &a, d);
	if (rc < 0)
		return rc;
	if (rc == 0 && validate(e, rq, &a, now, d)) {
		d->res = a.res;
		rc = place(e, rq, &a, now, d);
		if (rc <= 0)
			return rc;
	}
	log_refusal(e, rq, &a, now, d);
	return 0;
}

typedef struct {
	const ah_request *rq;
	int n;
	ah_decision *d;
} request_arg;

/* Replicas are decided one after another, each seeing the ones before (so
 * placement spreads them). Replicas of a request that names no workload
 * spread among themselves: they share a hash of the first one's id. */
static int request_body(ah_engine *e, int64_t now, void *arg)
{
	request_arg *r = arg;
	uint32_t wl = workload_hash(r->rq->workload);
	if (!wl && r->n > 1) {
		char key[32];
		snprintf(key, sizeof key, "#%llu", (unsigned long long)e->next_id);
		wl = workload_hash(key);
	}
	for (int i = 0; i < r->n; i++) {
		int rc = decide(e, r->rq, wl, now, &r->d[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int ah_engine_request_replicas(ah_engine *e, const ah_request *req, int n, int64_t now_ns, ah_decision *out)
{
	if (!e || !req || !out || n < 1 || n > AH_PLACE_REPLICAS_MAX)
		return AH_EINVAL;
	ah_decision one; /* the common case allocates nothing */
	ah_decision *d = n == 1 ? &one : calloc((size_t)n, sizeof(*d));
	if (!d)
		return AH_ENOMEM;
	request_arg r = {.rq = req, .n = n, .d = d};
	int rc = eng_txn_run(e, now_ns, false, request_body, &r);
	if (rc >= 0)
		memcpy(out, d, sizeof(*d) * (size_t)n);
	if (d != &one)
		free(d);
	return rc < 0 ? rc : 0;
}

int ah_engine_request(ah_engine *e, const ah_request *req, int64_t now_ns, ah_decision *out)
{
	return ah_engine_request_replicas(e, req, 1, now_ns, out);
}
