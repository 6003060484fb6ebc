/* ahead: the in-memory ledger. The engine holds the allocations and the
 * queue itself; this ledger keeps what front ends read back: the last N
 * events, the applied policy with its generation, the demand history. So a
 * whole service runs in memory in tests and replay. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/ledger.h"
#include "store/ledger_internal.h"

/* An event's strings live in one buffer per ring slot, reused (grown, never
 * shrunk): logging costs copies, not allocations, once the ring is warm. */
typedef struct {
	int64_t seq, t_ns;
	ah_event_kind kind;
	uint64_t id;
	char *buf;
	size_t buf_cap;
	size_t off[7]; /* tenant, pool, klass, reason, detail, data, resources in buf */
} mem_event;

typedef struct {
	char *pool;
	int64_t t_ns;
	char *used, *queued, *classes;
} mem_demand;

typedef struct {
	ah_ledger base;
	mem_event *ring;
	int cap, n, head; /* head: index of the oldest event */
	int64_t next_seq;
	char *policy_text;
	int64_t policy_applied_ns;
	uint64_t policy_gen;
	mem_demand *demand; /* sorted by (t_ns, pool) */
	int n_demand, demand_cap;
	ah_ledger_precond *pre;
	int n_pre, pre_cap;
	bool precond_failed;
	char errmsg[160];
} mem_ledger;

static int m_begin(ah_ledger *l)
{
	mem_ledger *m = (mem_ledger *)l;
	m->n_pre = 0;
	return 0;
}

static bool precond_holds(const mem_ledger *m, const ah_ledger_precond *pc)
{
	/* Only the policy is versioned here; the engine is the only writer of
	 * the rest, so what it read is what is there. */
	return pc->kind != AH_PRECOND_POLICY || pc->version == m->policy_gen;
}

static int m_commit(ah_ledger *l)
{
	mem_ledger *m = (mem_ledger *)l;
	for (int i = 0; i < m->n_pre; i++)
		if (!precond_holds(m, &m->pre[i])) {
			snprintf(m->errmsg, sizeof(m->errmsg),
				 "commit refused: the policy changed (generation %llu, the decision read %llu)",
				 (unsigned long long)m->policy_gen, (unsigned long long)m->pre[i].version);
			m->n_pre = 0;
			return AH_EBUSY;
		}
	m->n_pre = 0;
	return 0;
}

static void m_rollback(ah_ledger *l)
{
	((mem_ledger *)l)->n_pre = 0;
}

static int m_precond_add(ah_ledger *l, const ah_ledger_precond *pc)
{
	mem_ledger *m = (mem_ledger *)l;
	if (m->n_pre == m->pre_cap) {
		int nc = m->pre_cap ? m->pre_cap * 2 : 8;
		ah_ledger_precond *np = realloc(m->pre, sizeof(*np) * (size_t)nc);
		if (!np)
			return AH_ENOMEM;
		m->pre = np;
		m->pre_cap = nc;
	}
	m->pre[m->n_pre++] = *pc;
	return 0;
}

static int m_row(ah_ledger *l, const ah_ledger_row *r)
{
	(void)l;
	(void)r;
	return 0;
}
static int m_id(ah_ledger *l, uint64_t id)
{
	(void)l;
	(void)id;
	return 0;
}
static int m_cap(ah_ledger *l, const char *p, const ah_vec *c)
{
	(void)l;
	(void)p;
	(void)c;
	return 0;
}

/* Pending grows: the engine holds them; nothing to keep. */
static int m_put_pending(ah_ledger *l, uint64_t id, const ah_vec *want, int64_t since_ns)
{
	(void)l;
	(void)id;
	(void)want;
	(void)since_ns;
	return 0;
}

static int m_event(ah_ledger *l, const ah_ledger_event *ev)
{
	mem_ledger *m = (mem_ledger *)l;
	m->next_seq++;
	if (m->cap <= 0)
		return 0;
	/* Resources as text now: the dimensions are the engine's and may be
	 * gone when the events are read. */
	char res[AH_LEDGER_VEC_TEXT] = "";
	if (ev->res && l->dims && ah_vec_format(l->dims, ev->res, res, sizeof(res)) < 0)
		res[0] = '\0';
	const char *str[7] = {ev->tenant, ev->pool, ev->klass, ev->reason, ev->detail, ev->data, res};
	size_t len[7], need = 0;
	for (int i = 0; i < 7; i++)
		need += (len[i] = str[i] ? strlen(str[i]) : 0) + 1;
	int i = (m->head + m->n) % m->cap;
	mem_event *e = &m->ring[i];
	if (need > e->buf_cap) {
		char *nb = realloc(e->buf, need);
		if (!nb)
			return AH_ENOMEM;
		e->buf = nb;
		e->buf_cap = need;
	}
	if (m->n == m->cap)
		m->head = (m->head + 1) % m->cap;
	else
		m->n++;
	size_t o = 0;
	for (int k = 0; k < 7; k++) {
		e->off[k] = o;
		if (len[k])
			memcpy(e->buf + o, str[k], len[k]);
		e->buf[o + len[k]] = '\0';
		o += len[k] + 1;
	}
	e->seq = m->next_seq;
	e->t_ns = ev->t_ns;
	e->kind = ev->kind;
	e->id = ev->id;
	return 0;
}

static bool event_matches(const mem_event *e, const ah_event_query *q)
{
	return e->seq > q->after_seq && (!q->id || e->id == q->id) &&
	       (!q->kinds || (q->kinds & (1u << e->kind))) && (!q->pool || !strcmp(e->buf + e->off[1], q->pool)) &&
	       (!q->since_ns || e->t_ns >= q->since_ns);
}

static int m_events(ah_ledger *l, const ah_event_query *q, int (*fn)(void *ctx, const ah_event_row *ev), void *ctx)
{
	mem_ledger *m = (mem_ledger *)l;
	int sent = 0;
	for (int i = 0; i < m->n && (q->limit <= 0 || sent < q->limit); i++) {
		const mem_event *e = &m->ring[(m->head + i) % m->cap];
		if (!event_matches(e, q))
			continue;
		ah_event_row row = {
			.seq = e->seq, .t_ns = e->t_ns, .kind = ah_event_kind_name(e->kind), .id = e->id,
			.tenant = e->buf + e->off[0], .pool = e->buf + e->off[1], .klass = e->buf + e->off[2],
			.resources = e->buf + e->off[6], .reason = e->buf + e->off[3], .detail = e->buf + e->off[4],
			.data = e->buf + e->off[5],
		};
		int rc = fn(ctx, &row);
		if (rc)
			return rc;
		sent++;
	}
	return 0;
}

static int m_policy_get(ah_ledger *l, char **out_text, int64_t *out_applied_ns)
{
	mem_ledger *m = (mem_ledger *)l;
	if (!m->policy_text)
		return AH_ENOENT;
	char *t = strdup(m->policy_text);
	if (!t)
		return AH_ENOMEM;
	*out_text = t;
	if (out_applied_ns)
		*out_applied_ns = m->policy_applied_ns;
	return 0;
}

static int m_policy_put(ah_ledger *l, const char *text, const ah_policy *p, int64_t now_ns)
{
	mem_ledger *m = (mem_ledger *)l;
	(void)p; /* the engine holds pools and tenants; nothing to rewrite */
	char *t = strdup(text);
	if (!t)
		return AH_ENOMEM;
	free(m->policy_text);
	m->policy_text = t;
	m->policy_applied_ns = now_ns;
	m->policy_gen++;
	ah_ledger_event ev = {.t_ns = now_ns, .kind = AH_EV_POLICY, .detail = "policy applied"};
	return m_event(l, &ev);
}

static int m_policy_generation(ah_ledger *l, uint64_t *out_gen)
{
	*out_gen = ((mem_ledger *)l)->policy_gen;
	return 0;
}

static void demand_free(mem_demand *d)
{
	free(d->pool);
	free(d->used);
	free(d->queued);
	free(d->classes);
}

static void demand_remove(mem_ledger *m, int i)
{
	demand_free(&m->demand[i]);
	memmove(&m->demand[i], &m->demand[i + 1], sizeof(*m->demand) * (size_t)(m->n_demand - i - 1));
	m->n_demand--;
}

/* The pool's rows older than keep_after_ns, then all but its newest max_rows. */
static void demand_retain(mem_ledger *m, const char *pool, int64_t keep_after_ns, int max_rows)
{
	int kept = 0;
	for (int i = m->n_demand - 1; i >= 0; i--) {
		if (strcmp(m->demand[i].pool, pool))
			continue;
		if (m->demand[i].t_ns < keep_after_ns || kept >= max_rows)
			demand_remove(m, i);
		else
			kept++;
	}
}

static int m_demand_put(ah_ledger *l, const ah_dimset *dims, const ah_demand_row *row, int64_t keep_after_ns,
			int max_rows)
{
	mem_ledger *m = (mem_ledger *)l;
	char used[AH_LEDGER_VEC_TEXT], queued[AH_LEDGER_VEC_TEXT], classes[AH_LEDGER_CLASSES_TEXT];
	int rc = ah_demand_format(dims, row, used, queued, classes, sizeof(classes));
	if (rc < 0)
		return rc;
	mem_demand d = {.pool = strdup(row->pool), .t_ns = row->t_ns, .used = strdup(used), .queued = strdup(queued),
			.classes = strdup(classes)};
	if (!d.pool || !d.used || !d.queued || !d.classes) {
		demand_free(&d);
		return AH_ENOMEM;
	}
	int at = m->n_demand;
	while (at > 0 && m->demand[at - 1].t_ns > d.t_ns)
		at--;
	for (int i = at - 1; i >= 0 && m->demand[i].t_ns == d.t_ns; i--)
		if (!strcmp(m->demand[i].pool, d.pool)) { /* same pool and time: replace */
			demand_remove(m, i);
			at--;
		}
	if (m->n_demand == m->demand_cap) {
		int nc = m->demand_cap ? m->demand_cap * 2 : 16;
		mem_demand *nd = realloc(m->demand, sizeof(*nd) * (size_t)nc);
		if (!nd) {
			demand_free(&d);
			return AH_ENOMEM;
		}
		m->demand = nd;
		m->demand_cap = nc;
	}
	memmove(&m->demand[at + 1], &m->demand[at], sizeof(*m->demand) * (size_t)(m->n_demand - at));
	m->demand[at] = d;
	m->n_demand++;
	demand_retain(m, row->pool, keep_after_ns, max_rows);
	return 0;
}

static int m_demand_load(ah_ledger *l, const ah_dimset *dims, int64_t since_ns,
			 int (*fn)(void *ctx, const ah_demand_row *row), void *ctx)
{
	mem_ledger *m = (mem_ledger *)l;
	ah_demand_row *r = malloc(sizeof(*r));
	if (!r)
		return AH_ENOMEM;
	int rc = 0;
	for (int i = 0; i < m->n_demand && !rc; i++) {
		const mem_demand *d = &m->demand[i];
		if (d->t_ns < since_ns || ah_demand_parse(dims, d->pool, d->t_ns, d->used, d->queued, d->classes, r) < 0)
			continue;
		rc = fn(ctx, r);
	}
	free(r);
	return rc;
}

static const char *m_errmsg(ah_ledger *l)
{
	return ((mem_ledger *)l)->errmsg;
}

static int m_load(ah_ledger *l, const ah_dimset *d, const ah_ledger_loader *ld, uint64_t *next)
{
	(void)l;
	(void)d;
	(void)ld;
	*next = 1;
	return 0;
}

static void m_free(ah_ledger *l)
{
	mem_ledger *m = (mem_ledger *)l;
	for (int i = 0; i < m->cap; i++)
		free(m->ring[i].buf);
	for (int i = 0; i < m->n_demand; i++)
		demand_free(&m->demand[i]);
	free(m->demand);
	free(m->pre);
	free(m->policy_text);
	free(m->ring);
	free(m);
}

static const ah_ledger_ops mem_ops = {
	.begin = m_begin,
	.commit = m_commit,
	.rollback = m_rollback,
	.put_alloc = m_row,
	.del_alloc = m_id,
	.put_queued = m_row,
	.del_queued = m_id,
	.put_pool_capacity = m_cap,
	.event = m_event,
	.set_next_id = m_id,
	.put_pending = m_put_pending,
	.del_pending = m_id,
	.load = m_load,
	.free = m_free,
	.policy_get = m_policy_get,
	.policy_put = m_policy_put,
	.policy_generation = m_policy_generation,
	.events = m_events,
	.demand_put = m_demand_put,
	.demand_load = m_demand_load,
	.precond_add = m_precond_add,
	.errmsg = m_errmsg,
};

int ah_ledger_memory_new(int event_ring, ah_ledger **out)
{
	if (event_ring < 0 || !out)
		return AH_EINVAL;
	mem_ledger *m = calloc(1, sizeof(*m));
	if (!m)
		return AH_ENOMEM;
	if (event_ring > 0 && !(m->ring = calloc((size_t)event_ring, sizeof(*m->ring)))) {
		free(m);
		return AH_ENOMEM;
	}
	m->cap = event_ring;
	m->base.ops = &mem_ops;
	*out = &m->base;
	return 0;
}

int ah_ledger_memory_event_count(ah_ledger *l)
{
	return l ? ((mem_ledger *)l)->n : 0;
}

int ah_ledger_memory_events(ah_ledger *l, int i, ah_event_kind *kind, uint64_t *id, char *reason, size_t reason_len)
{
	mem_ledger *m = (mem_ledger *)l;
	if (!m || i < 0 || i >= m->n)
		return AH_EINVAL;
	const mem_event *ev = &m->ring[(m->head + i) % m->cap];
	if (kind)
		*kind = ev->kind;
	if (id)
		*id = ev->id;
	if (reason && reason_len)
		snprintf(reason, reason_len, "%s", ev->buf + ev->off[3]);
	return 0;
}
