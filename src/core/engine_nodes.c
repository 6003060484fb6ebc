/* ahead: pools on nodes (include/ahead/engine.h, "Pools on nodes"): the
 * fleet's node table, placement of an allocation on one node inside the
 * transaction that grants it, node-level room for grows, and the moves off
 * nodes that went down or drain.
 *
 * A node's use is the sum of the allocations placed on it, kept like a
 * pool's (account on insert, remove and resize), so it is exact after any
 * reload: the allocations are the ledger's, and on a shared ledger every
 * commit is checked against what it read, so two instances never place on
 * one node's same room. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"

int eng_nodes_init(ah_engine *e)
{
	ah_place_opts_init(&e->place_opts);
	e->any_node_pool = false;
	for (int p = 0; p < e->pol->n_pools; p++) {
		eng_pool_sel *ps = &e->psel[p];
		const char *sel = e->pol->pools[p].nodes;
		memset(ps, 0, sizeof *ps);
		if (!*sel)
			continue;
		ps->on_nodes = true;
		e->any_node_pool = true;
		char why[160];
		/* validated by the policy loader: a failure here is a policy
		 * built by hand, refused the same way */
		if (strcmp(sel, "*") && ah_labels_parse(sel, ps->sel, AH_PLACE_LABELS_MAX, &ps->n, why, sizeof why) < 0)
			return AH_EPOLICY;
	}
	return 0;
}

static eng_node_t *node_of(const ah_engine *e, const alloc_t *a)
{
	return a->node1 > 0 && a->node1 <= e->nnodes ? &e->nodes[a->node1 - 1] : NULL;
}

int eng_node_index(ah_engine *e, const char *name)
{
	for (int i = 0; i < e->nnodes; i++)
		if (!strcmp(e->nodes[i].name, name))
			return i;
	if (!e->nodes && !(e->nodes = calloc(AH_NODES_MAX, sizeof *e->nodes)))
		return AH_ENOMEM;
	if (e->nnodes >= AH_NODES_MAX || strlen(name) >= AH_NAME_MAX)
		return AH_ETOOBIG;
	eng_node_t *n = &e->nodes[e->nnodes];
	memset(n, 0, sizeof *n);
	snprintf(n->name, sizeof n->name, "%s", name);
	return e->nnodes++;
}

void eng_node_precond(ah_engine *e, int i)
{
	if (!e->ledger || !e->ledger->ops->precond_add || i < 0 || i >= e->nnodes || !e->nodes[i].rev)
		return;
	ah_ledger_precond pc = {.kind = AH_PRECOND_NODE, .version = e->nodes[i].rev};
	snprintf(pc.key, sizeof pc.key, "%s", e->nodes[i].name);
	eng_led_check(e, e->ledger->ops->precond_add(e->ledger, &pc));
}

void eng_node_account(ah_engine *e, const alloc_t *a, int sign)
{
	eng_node_t *n = node_of(e, a);
	if (!n)
		return;
	if (sign > 0) {
		ah_vec_add(&n->used, &a->res, e->nd);
		n->n_allocs++;
	} else {
		ah_vec_sub(&n->used, &a->res, e->nd);
		n->n_allocs--;
	}
	eng_spread_add(e, a->wl, a->node1 - 1, sign > 0 ? 1 : -1);
}

static bool node_matches(const ah_engine *e, int p, const eng_node_t *n)
{
	const eng_pool_sel *ps = &e->psel[p];
	for (int i = 0; i < ps->n; i++) {
		bool found = false;
		for (int j = 0; j < n->n_labels && !found; j++)
			found = !strcmp(n->labels[j].key, ps->sel[i].key) && !strcmp(n->labels[j].value, ps->sel[i].value);
		if (!found)
			return false;
	}
	return true;
}

void eng_nodes_recount(ah_engine *e)
{
	if (!e->any_node_pool)
		return;
	for (int p = 0; p < e->pol->n_pools; p++) {
		if (!eng_pool_on_nodes(e, p))
			continue;
		ah_vec cap = {0};
		for (int i = 0; i < e->nnodes; i++)
			if (e->nodes[i].known && e->nodes[i].up && node_matches(e, p, &e->nodes[i]))
				ah_vec_add(&cap, &e->nodes[i].cap, e->nd);
		ah_vec_sub(&e->total_cap, &e->pools[p].capacity, e->nd);
		e->pools[p].capacity = cap;
		ah_vec_add(&e->total_cap, &cap, e->nd);
	}
}

/* The node carries every label the request asked for. */
static bool node_selected(const ah_engine *e, int sel, const eng_node_t *n)
{
	const eng_select_t *s = eng_select_get(e, sel);
	if (!s)
		return true;
	ah_place_node pn = {.labels = n->labels, .n_labels = n->n_labels};
	return ah_place_labels_match(&pn, s->lab, s->n);
}

int64_t eng_node_reach(const ah_engine *e, int p, int sel, int d)
{
	int64_t m = -1;
	for (int i = 0; i < e->nnodes; i++)
		if (e->nodes[i].known && node_matches(e, p, &e->nodes[i]) && node_selected(e, sel, &e->nodes[i]) &&
		    e->nodes[i].cap.v[d] > m)
			m = e->nodes[i].cap.v[d];
	return m;
}

bool eng_node_waits(const ah_engine *e, int p, int sel, const ah_vec *res)
{
	ah_vec none = {0};
	for (int i = 0; i < e->nnodes; i++) {
		const eng_node_t *x = &e->nodes[i];
		if (x->known && x->up && !x->cordoned && !x->draining && node_matches(e, p, x) &&
		    node_selected(e, sel, x) && ah_vec_fits(&none, res, &x->cap, e->nd))
			return false;
	}
	return true;
}

int eng_node_pick(ah_engine *e, int p, int k, uint32_t wl, int sel, const ah_vec *res, int exclude, char *why,
		  size_t whylen)
{
	if (!e->place_scratch && !(e->place_scratch = calloc(AH_NODES_MAX, sizeof(ah_place_node))))
		return AH_ENOMEM;
	ah_place_node *pn = e->place_scratch;
	int idx[AH_NODES_MAX], reps_of[AH_NODES_MAX] = {0}, n = 0;
	/* the workload's allocations per node (spreading): counted as they
	 * come and go, or by one pass when that table is off */
	if (wl && e->spread_off)
		for (int s = 0; s < e->nslots; s++)
			if (e->slots[s].id && e->slots[s].wl == wl && e->slots[s].node1 > 0)
				reps_of[e->slots[s].node1 - 1]++;
	for (int i = 0; i < e->nnodes; i++) {
		const eng_node_t *x = &e->nodes[i];
		if (!x->known || i == exclude || !node_matches(e, p, x))
			continue;
		int reps = wl && !e->spread_off ? eng_spread_get(e, wl, i) : reps_of[i];
		pn[n] = (ah_place_node){.name = x->name, .capacity = x->cap, .used = x->used, .labels = x->labels,
					.n_labels = x->n_labels, .cordoned = x->cordoned || x->draining,
					.down = !x->up, .failed_checks = x->failed_checks + x->downs, .kills = x->kills,
					.enforce_errors = x->enforce_errors, .replicas = reps};
		idx[n++] = i;
	}
	const eng_select_t *want = eng_select_get(e, sel);
	ah_place_request rq = {.demand = *res, .replicas = 1, .spread_label = e->pol->pools[p].spread,
			       .priority = prio(e, k), .select = want ? want->lab : NULL, .n_select = want ? want->n : 0};
	ah_place_result r;
	if (!n) {
		if (why)
			snprintf(why, whylen, "no node matches pool %s's selector (nodes = %s)", e->pol->pools[p].name,
				 e->pol->pools[p].nodes);
		return -1;
	}
	if (ah_place(pn, (size_t)n, &e->pol->dims, &rq, &e->place_opts, &r) < 0 || r.outcome != AH_PLACE_PLACED) {
		if (why)
			snprintf(why, whylen, "%s", r.reason);
		return -1;
	}
	return idx[r.node[0]];
}

bool eng_node_room(const ah_engine *e, const alloc_t *a, const ah_vec *grow)
{
	const eng_node_t *n = node_of(e, a);
	return !n || ah_vec_fits(&n->used, grow, &n->cap, e->nd);
}

int64_t eng_node_free(const ah_engine *e, const alloc_t *a, int d)
{
	const eng_node_t *n = node_of(e, a);
	if (!n)
		return INT64_MAX;
	return n->known && n->up ? n->cap.v[d] - n->used.v[d] : 0;
}

/* ---- ah_engine_set_nodes ------------------------------------------------ */

typedef struct {
	const ah_engine_node *nodes;
	int n;
	ah_node_moves m;
} nodes_arg;

static int node_set_one(ah_engine *e, const ah_engine_node *in)
{
	int i = eng_node_index(e, in->name);
	if (i < 0)
		return i;
	eng_node_t *x = &e->nodes[i];
	if (x->known && x->up && !in->up && x->downs < UINT32_MAX)
		x->downs++; /* its lease lapsed: a failed health check, as this engine saw it */
	x->cap = in->capacity;
	x->n_labels = in->n_labels;
	if (in->n_labels > 0) /* labels may be NULL with none */
		memcpy(x->labels, in->labels, sizeof(ah_label) * (size_t)in->n_labels);
	x->known = true;
	x->up = in->up;
	x->cordoned = in->cordoned;
	x->draining = in->draining;
	x->failed_checks = in->failed_checks;
	x->kills = in->kills;
	x->enforce_errors = in->enforce_errors;
	x->rev = in->revision;
	return 0;
}

/* Moves slot s to node `to` (accounting, ledger, a resize event). */
static void move_to(ah_engine *e, int s, int to, int64_t now, const char *why)
{
	alloc_t *a = &e->slots[s];
	eng_node_precond(e, to);
	eng_node_account(e, a, -1);
	a->node1 = (int16_t)(to + 1);
	eng_node_account(e, a, +1);
	eng_led_put_alloc(e, a);
	eng_led_event(e, now, AH_EV_RESIZE, a->id, a->tenant, a->pool, a->klass, &a->res, AH_R_NONE, why);
}

/* Puts slot s's allocation back in its pool's queue under its own id (its
 * node is gone and no other has room): the holder sees it queued. */
static int requeue(ah_engine *e, int s, int64_t now, const char *why)
{
	alloc_t *a = &e->slots[s];
	pool_t *pl = &e->pools[a->pool];
	int64_t qt = e->pol->classes[a->klass].queue_timeout_ns > 0 ? e->pol->classes[a->klass].queue_timeout_ns
								     : e->pol->queue_timeout_ns;
	qitem_t *q = calloc(1, sizeof *q);
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
	*q = (qitem_t){.id = a->id, .seq = e->next_seq++, .tenant = a->tenant, .pool = a->pool, .klass = a->klass,
		       .res = a->res, .arrival_ns = now, .deadline_ns = now + (qt > 0 ? qt : INT64_C(60000000000)),
		       .lease_ttl_ns = a->lease_ttl_ns, .wl = a->wl, .sel = a->sel};
	if (a->params && !(q->params = strdup(a->params))) {
		free(q);
		return AH_ENOMEM;
	}
	eng_led_del_alloc(e, a->id);
	eng_led_event(e, now, AH_EV_PREEMPT, a->id, a->tenant, a->pool, a->klass, &a->res, AH_R_NONE, why);
	eng_alloc_remove(e, s);
	pl->q[pl->qn++] = q;
	e->nqueued++;
	ah_vec_add(&e->tenants[q->tenant].queued, &q->res, e->nd);
	if (q->deadline_ns < e->min_deadline_ns)
		e->min_deadline_ns = q->deadline_ns;
	eng_led_put_queued(e, q);
	eng_led_event(e, now, AH_EV_QUEUE, q->id, q->tenant, q->pool, q->klass, &q->res, AH_R_NONE, why);
	return 0;
}

/* Moves slot s off its node (down or draining) if another has room;
 * otherwise a down node's is queued again or ended. */
static int move_off(ah_engine *e, int s, int64_t now, ah_node_moves *m)
{
	alloc_t *a = &e->slots[s];
	eng_node_t *from = node_of(e, a);
	bool down = !from->known || !from->up;
	char why[512], reason[192] = ""; /* two names, the reason, the words */
	int to = eng_node_pick(e, a->pool, a->klass, a->wl, a->sel, &a->res, a->node1 - 1, reason, sizeof reason);
	if (to >= 0) {
		snprintf(why, sizeof why, "moved from node %s to %s: %s is %s", from->name, e->nodes[to].name, from->name,
			 down ? "down" : "draining");
		move_to(e, s, to, now, why);
		m->moved++;
		return 0;
	}
	if (!down) {
		m->left++;
		return 0;
	}
	int p = a->pool;
	if (e->pol->pools[p].node_down_evict) {
		snprintf(why, sizeof why, "node %s is down and no other node has room (%s): ended (on_node_down = evict)",
			 from->name, reason);
		eng_led_del_alloc(e, a->id);
		eng_led_event(e, now, AH_EV_PREEMPT, a->id, a->tenant, a->pool, a->klass, &a->res, AH_R_NONE, why);
		eng_alloc_remove(e, s);
		m->evicted++;
		return 0;
	}
	snprintf(why, sizeof why, "node %s is down and no other node has room (%s): queued again", from->name, reason);
	m->requeued++;
	return requeue(e, s, now, why);
}

/* One rebalancing move for pool p's queue head: the allocation whose move
 * to another node (where it fits whole) leaves its node room for the head,
 * the smallest such (least dominant share of its node). 1 when moved. */
static int rebalance_one(ah_engine *e, int p, int64_t now)
{
	pool_t *pl = &e->pools[p];
	int hi = eng_queue_best(e, p); /* one that waits for a node gets no room made */
	if (hi < 0)
		return 0;
	const qitem_t *q = pl->q[hi];
	ah_vec lim;
	eng_class_limit(e, p, q->klass, &lim);
	if (!ah_vec_fits(&pl->used, &q->res, &lim, e->nd) || eng_node_pick(e, p, q->klass, q->wl, q->sel, &q->res, -1, NULL, 0) >= 0)
		return 0; /* no room in sum (moving makes none), or it fits already */
	int best = -1, best_to = -1;
	double best_share = 0;
	for (int s = 0; s < e->nslots; s++) {
		const alloc_t *a = &e->slots[s];
		const eng_node_t *x = node_of(e, a);
		if (!a->id || a->pool != p || !x || !x->up || x->cordoned || x->draining || !node_selected(e, q->sel, x))
			continue;
		ah_vec freed = x->used;
		ah_vec_sub(&freed, &a->res, e->nd);
		if (!ah_vec_fits(&freed, &q->res, &x->cap, e->nd))
			continue; /* moving it would not make room for the head here */
		double share = 0;
		for (int d = 0; d < e->nd; d++)
			if (x->cap.v[d] > 0 && (double)a->res.v[d] / (double)x->cap.v[d] > share)
				share = (double)a->res.v[d] / (double)x->cap.v[d];
		if (best >= 0 && share >= best_share)
			continue;
		int to = eng_node_pick(e, p, a->klass, a->wl, a->sel, &a->res, a->node1 - 1, NULL, 0);
		if (to < 0)
			continue;
		best = s, best_to = to, best_share = share;
	}
	if (best < 0)
		return 0;
	char why[512];
	snprintf(why, sizeof why, "moved from node %s to %s: rebalanced to make room for queued request %llu",
		 node_of(e, &e->slots[best])->name, e->nodes[best_to].name, (unsigned long long)q->id);
	move_to(e, best, best_to, now, why);
	return 1;
}

static int nodes_body(ah_engine *e, int64_t now, void *arg)
{
	nodes_arg *na = arg;
	bool seen[AH_NODES_MAX] = {false};
	for (int i = 0; i < na->n; i++) {
		int rc = node_set_one(e, &na->nodes[i]);
		if (rc < 0)
			return rc;
		seen[eng_node_index(e, na->nodes[i].name)] = true;
	}
	for (int i = 0; i < e->nnodes; i++)
		if (!seen[i]) {
			if (e->nodes[i].known && e->nodes[i].up && e->nodes[i].downs < UINT32_MAX)
				e->nodes[i].downs++;
			e->nodes[i].up = false; /* not listed: gone */
		}
	eng_nodes_recount(e);
	for (int s = 0; s < e->nslots; s++) {
		alloc_t *a = &e->slots[s];
		if (!a->id || !a->node1)
			continue;
		const eng_node_t *n = node_of(e, a);
		if (n->known && n->up && !n->draining)
			continue;
		int rc = move_off(e, s, now, &na->m);
		if (rc < 0)
			return rc;
	}
	for (int p = 0; p < e->pol->n_pools; p++) {
		if (!eng_pool_on_nodes(e, p))
			continue;
		int rc = eng_serve_pool(e, p, now); /* new nodes, or room a move left */
		for (int k = 0; rc >= 0 && k < 8 && e->pol->pools[p].rebalance && rebalance_one(e, p, now); k++) {
			na->m.rebalanced++;
			rc = eng_serve_pool(e, p, now);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

int ah_engine_set_nodes(ah_engine *e, const ah_engine_node *nodes, int n, int64_t now_ns, ah_node_moves *out)
{
	if (!e || n < 0 || (n && !nodes))
		return AH_EINVAL;
	if (n > AH_NODES_MAX)
		return AH_ETOOBIG;
	for (int i = 0; i < n; i++) {
		if (!nodes[i].name || ah_name_check_object(nodes[i].name) || nodes[i].n_labels < 0 ||
		    nodes[i].n_labels > AH_PLACE_LABELS_MAX || (nodes[i].n_labels && !nodes[i].labels))
			return AH_EINVAL;
		for (int d = 0; d < AH_MAX_DIMS; d++)
			if (nodes[i].capacity.v[d] < 0 || nodes[i].capacity.v[d] > AH_VALUE_MAX)
				return AH_EINVAL;
	}
	nodes_arg na = {.nodes = nodes, .n = n};
	int rc = eng_txn_run(e, now_ns, false, nodes_body, &na);
	if (!rc && out)
		*out = na.m;
	return rc;
}

int ah_engine_pool_nodes(const ah_engine *e, int p, int *out_up, char *empty, size_t emptylen)
{
	if (!e || !out_up || p < 0 || p >= e->pol->n_pools || !eng_pool_on_nodes(e, p))
		return AH_EINVAL;
	int up = 0, pick = -1;
	for (int i = 0; i < e->nnodes; i++) {
		const eng_node_t *x = &e->nodes[i];
		if (!x->known || !x->up || x->draining || !node_matches(e, p, x))
			continue;
		up++;
		/* the last by name among the empty ones: a stable choice */
		if (x->n_allocs == 0 && (pick < 0 || strcmp(x->name, e->nodes[pick].name) > 0))
			pick = i;
	}
	if (empty && emptylen)
		snprintf(empty, emptylen, "%s", pick >= 0 ? e->nodes[pick].name : "");
	*out_up = up;
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

int ah_engine_pool_fragmentation(const ah_engine *e, int p, ah_place_frag *out)
{
	if (!e || !out || p < 0 || p >= e->pol->n_pools || !eng_pool_on_nodes(e, p))
		return AH_EINVAL;
	int rc = AH_ENOMEM;
	const pool_t *pl = &e->pools[p];
	ah_place_node *pn = calloc(AH_NODES_MAX, sizeof *pn);
	ah_vec *queued = calloc((size_t)pl->qn + 1, sizeof *queued);
	int64_t *v = calloc((size_t)pl->n_allocs + 1, sizeof *v);
	if (!pn || !queued || !v)
		goto out;
	size_t n = 0;
	for (int i = 0; i < e->nnodes; i++) {
		const eng_node_t *x = &e->nodes[i];
		if (x->known && node_matches(e, p, x))
			pn[n++] = (ah_place_node){.name = x->name, .capacity = x->cap, .used = x->used,
						  .labels = x->labels, .n_labels = x->n_labels,
						  .cordoned = x->cordoned || x->draining, .down = !x->up};
	}
	for (int i = 0; i < pl->qn; i++)
		queued[i] = pl->q[i]->res;
	ah_vec median = {0};
	for (int d = 0; d < e->nd; d++) {
		size_t k = 0;
		for (int s = 0; s < e->nslots && k < (size_t)pl->n_allocs; s++)
			if (e->slots[s].id && e->slots[s].pool == p)
				v[k++] = e->slots[s].res.v[d];
		if (k) {
			qsort(v, k, sizeof *v, cmp_i64);
			median.v[d] = v[k / 2];
		}
	}
	rc = ah_place_fragmentation(pn, n, &e->pol->dims, queued, (size_t)pl->qn, &median, out);
out:
	free(pn);
	free(queued);
	free(v);
	return rc;
}

int ah_engine_node_count(const ah_engine *e)
{
	return e ? e->nnodes : 0;
}

int ah_engine_node_get(const ah_engine *e, int i, ah_engine_node_info *out)
{
	if (!e || !out || i < 0 || i >= e->nnodes)
		return AH_EINVAL;
	const eng_node_t *n = &e->nodes[i];
	*out = (ah_engine_node_info){.name = n->name, .capacity = &n->cap, .used = &n->used, .n_allocs = n->n_allocs,
				     .known = n->known, .up = n->up, .cordoned = n->cordoned, .draining = n->draining};
	return 0;
}
