/* ahead: the in-memory ledger. The engine holds the allocations and the
 * queue itself; this ledger keeps what front ends read back: the last N
 * events, the applied policy with its generation, the demand history, and
 * what the API keeps (tokens, the newest audit rows, idempotency keys, the
 * live ids' newest event). So a whole service runs in memory in tests and
 * replay. The API's records written between begin and a commit that fails
 * (or a rollback) are taken back, as a store with transactions would. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/api_records.h"
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

/* Bounds of the API's records here: the newest audit rows (a ring), and
 * idempotency keys (the oldest dropped first when full, as a sweep would). */
#define MEM_AUDIT_RING 4096
#define MEM_IDEM_MAX 65536
#define MEM_IDEM_BUCKETS (2 * MEM_IDEM_MAX) /* a power of two */

/* An audit row's strings in one buffer per ring slot, as events do. */
enum { A_WHO, A_NAME, A_ROLE, A_TENANT, A_SOURCE, A_METHOD, A_PATH, A_OUTCOME, A_DETAIL, A__COUNT };
typedef struct {
	int64_t seq, t_ns;
	int status;
	char *buf;
	size_t buf_cap;
	size_t off[A__COUNT];
} mem_audit;

typedef struct {
	uint32_t h;
	int next;         /* next row of the same bucket, -1: none */
	char *buf;        /* scope, key, body, each NUL-terminated */
	size_t key_off, body_off;
	uint8_t req_hash[32];
	int status;
	int64_t t_ns;
} mem_idem;

/* How to undo a token put of the open transaction. */
typedef struct {
	bool existed;
	ah_token_row old; /* existed: the row it replaced; else only old.id */
} tok_undo;

/* A live allocation or queued request and its newest event's seq. */
enum { LIVE_ALLOC = 1, LIVE_QUEUED = 2 };
typedef struct {
	uint64_t id; /* 0: empty slot */
	int64_t seq;
	unsigned flags;
} live_slot;

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
	bool in_txn;
	/* tokens, by (created_ns, id) */
	ah_token_row *tokens;
	int n_tokens, tokens_cap;
	uint64_t token_gen, token_gen_begin;
	tok_undo *undo;
	int n_undo, undo_cap;
	/* audit: ring of MEM_AUDIT_RING, allocated at the first row */
	mem_audit *audit;
	int audit_n, audit_head, audit_staged;
	int64_t audit_seq;
	/* idempotency keys, oldest first; the open transaction's are the last
	 * idem_staged */
	mem_idem *idem;
	int n_idem, idem_cap, idem_staged;
	int *idem_bucket;
	/* live ids (open addressing, linear probing) */
	live_slot *live;
	size_t live_cap, live_n;
} mem_ledger;

static void api_undo(mem_ledger *m);

static int m_begin(ah_ledger *l)
{
	mem_ledger *m = (mem_ledger *)l;
	m->n_pre = 0;
	m->in_txn = true;
	m->token_gen_begin = m->token_gen;
	m->n_undo = m->audit_staged = m->idem_staged = 0;
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
			api_undo(m);
			return AH_EBUSY;
		}
	m->n_pre = 0;
	m->in_txn = false;
	m->n_undo = m->audit_staged = m->idem_staged = 0;
	return 0;
}

static void m_rollback(ah_ledger *l)
{
	mem_ledger *m = (mem_ledger *)l;
	m->n_pre = 0;
	api_undo(m);
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

/* ---- live ids, for alloc_versions ----------------------------------------- */

static size_t live_slot_of(const mem_ledger *m, uint64_t id)
{
	uint64_t h = id * 0x9E3779B97F4A7C15ULL;
	return (size_t)(h >> 17) & (m->live_cap - 1);
}

static live_slot *live_find(mem_ledger *m, uint64_t id)
{
	if (!m->live_cap || !id)
		return NULL;
	for (size_t i = live_slot_of(m, id);; i = (i + 1) & (m->live_cap - 1)) {
		if (m->live[i].id == id)
			return &m->live[i];
		if (!m->live[i].id)
			return NULL;
	}
}

static int live_grow(mem_ledger *m)
{
	size_t nc = m->live_cap ? m->live_cap * 2 : 256;
	live_slot *old = m->live, *nl = calloc(nc, sizeof(*nl));
	size_t oc = m->live_cap;
	if (!nl)
		return AH_ENOMEM;
	m->live = nl;
	m->live_cap = nc;
	for (size_t i = 0; i < oc; i++)
		if (old[i].id) {
			size_t j = live_slot_of(m, old[i].id);
			while (nl[j].id)
				j = (j + 1) & (nc - 1);
			nl[j] = old[i];
		}
	free(old);
	return 0;
}

static int live_set(mem_ledger *m, uint64_t id, unsigned flag)
{
	if (!id)
		return 0;
	live_slot *e = live_find(m, id);
	if (e) {
		e->flags |= flag;
		return 0;
	}
	if (2 * (m->live_n + 1) > m->live_cap) {
		int rc = live_grow(m);
		if (rc < 0)
			return rc;
	}
	size_t i = live_slot_of(m, id);
	while (m->live[i].id)
		i = (i + 1) & (m->live_cap - 1);
	m->live[i] = (live_slot){.id = id, .flags = flag};
	m->live_n++;
	return 0;
}

/* Clears flag; the last one gone removes the id (backward-shift deletion,
 * so no tombstones). */
static void live_clear(mem_ledger *m, uint64_t id, unsigned flag)
{
	live_slot *e = live_find(m, id);
	if (!e || (e->flags &= ~flag))
		return;
	size_t mask = m->live_cap - 1, i = (size_t)(e - m->live), j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!m->live[j].id)
			break;
		size_t home = live_slot_of(m, m->live[j].id);
		/* j's entry may move to i when its home is not in (i, j] */
		if ((i <= j) ? (home <= i || home > j) : (home <= i && home > j)) {
			m->live[i] = m->live[j];
			i = j;
		}
	}
	m->live[i].id = 0;
	m->live_n--;
}

static int m_put_alloc(ah_ledger *l, const ah_ledger_row *r)
{
	return live_set((mem_ledger *)l, r->id, LIVE_ALLOC);
}

static int m_put_queued(ah_ledger *l, const ah_ledger_row *r)
{
	return live_set((mem_ledger *)l, r->id, LIVE_QUEUED);
}

static int m_del_alloc(ah_ledger *l, uint64_t id)
{
	live_clear((mem_ledger *)l, id, LIVE_ALLOC);
	return 0;
}

static int m_del_queued(ah_ledger *l, uint64_t id)
{
	live_clear((mem_ledger *)l, id, LIVE_QUEUED);
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
	if (ev->id) {
		live_slot *e = live_find(m, ev->id);
		if (e)
			e->seq = m->next_seq;
	}
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

/* ---- what the API keeps ---------------------------------------------------- */

static int token_cmp(const ah_token_row *a, int64_t created_ns, const char *id)
{
	if (a->created_ns != created_ns)
		return a->created_ns < created_ns ? -1 : 1;
	return strcmp(a->id, id);
}

static int token_find(const mem_ledger *m, const char *id)
{
	for (int i = 0; i < m->n_tokens; i++)
		if (!strcmp(m->tokens[i].id, id))
			return i;
	return -1;
}

static void token_remove(mem_ledger *m, int i)
{
	memmove(&m->tokens[i], &m->tokens[i + 1], sizeof(*m->tokens) * (size_t)(m->n_tokens - i - 1));
	m->n_tokens--;
}

/* Room is there (the caller grew the array). */
static void token_insert(mem_ledger *m, const ah_token_row *t)
{
	int at = m->n_tokens;
	while (at > 0 && token_cmp(&m->tokens[at - 1], t->created_ns, t->id) > 0)
		at--;
	memmove(&m->tokens[at + 1], &m->tokens[at], sizeof(*m->tokens) * (size_t)(m->n_tokens - at));
	m->tokens[at] = *t;
	m->n_tokens++;
}

static int grow(void **arr, int *cap, size_t elem, int need)
{
	if (need <= *cap)
		return 0;
	int nc = *cap ? *cap * 2 : 16;
	while (nc < need)
		nc *= 2;
	void *n = realloc(*arr, elem * (size_t)nc);
	if (!n)
		return AH_ENOMEM;
	*arr = n;
	*cap = nc;
	return 0;
}

static int m_token_put(ah_ledger *l, const ah_token_row *t)
{
	mem_ledger *m = (mem_ledger *)l;
	int rc;
	if ((rc = grow((void **)&m->tokens, &m->tokens_cap, sizeof(*m->tokens), m->n_tokens + 1)) < 0 ||
	    (m->in_txn && (rc = grow((void **)&m->undo, &m->undo_cap, sizeof(*m->undo), m->n_undo + 1)) < 0))
		return rc;
	int i = token_find(m, t->id);
	if (m->in_txn) {
		tok_undo *u = &m->undo[m->n_undo++];
		u->existed = i >= 0;
		if (i >= 0)
			u->old = m->tokens[i];
		else
			snprintf(u->old.id, sizeof u->old.id, "%s", t->id);
	}
	if (i >= 0)
		token_remove(m, i);
	token_insert(m, t);
	m->token_gen++;
	return 0;
}

static int m_token_list(ah_ledger *l, int (*fn)(void *ctx, const ah_token_row *t), void *ctx)
{
	mem_ledger *m = (mem_ledger *)l;
	for (int i = 0; i < m->n_tokens; i++) {
		ah_token_row t = m->tokens[i]; /* a copy: fn may put */
		int rc = fn(ctx, &t);
		if (rc)
			return rc;
	}
	return 0;
}

static int m_token_generation(ah_ledger *l, uint64_t *out_gen)
{
	*out_gen = ((mem_ledger *)l)->token_gen;
	return 0;
}

static int m_audit_put(ah_ledger *l, const ah_audit_row *r)
{
	mem_ledger *m = (mem_ledger *)l;
	if (!m->audit && !(m->audit = calloc(MEM_AUDIT_RING, sizeof(*m->audit))))
		return AH_ENOMEM;
	const char *str[A__COUNT] = {r->who, r->name, r->role, r->tenant, r->source, r->method, r->path, r->outcome,
				     r->detail};
	size_t len[A__COUNT], need = 0;
	for (int k = 0; k < A__COUNT; k++)
		need += (len[k] = strlen(str[k])) + 1;
	mem_audit *a = &m->audit[(m->audit_head + m->audit_n) % MEM_AUDIT_RING];
	if (need > a->buf_cap) {
		char *nb = realloc(a->buf, need);
		if (!nb)
			return AH_ENOMEM;
		a->buf = nb;
		a->buf_cap = need;
	}
	if (m->audit_n == MEM_AUDIT_RING)
		m->audit_head = (m->audit_head + 1) % MEM_AUDIT_RING;
	else
		m->audit_n++;
	size_t o = 0;
	for (int k = 0; k < A__COUNT; k++) {
		a->off[k] = o;
		memcpy(a->buf + o, str[k], len[k] + 1);
		o += len[k] + 1;
	}
	a->seq = ++m->audit_seq;
	a->t_ns = r->t_ns;
	a->status = r->status;
	if (m->in_txn)
		m->audit_staged++;
	return 0;
}

static int m_audit_list(ah_ledger *l, const ah_audit_query *q, int (*fn)(void *ctx, const ah_audit_row *r), void *ctx)
{
	mem_ledger *m = (mem_ledger *)l;
	int sent = 0;
	for (int i = 0; i < m->audit_n && (q->limit <= 0 || sent < q->limit); i++) {
		const mem_audit *a = &m->audit[(m->audit_head + i) % MEM_AUDIT_RING];
		const char *b = a->buf;
		if (a->seq <= q->after_seq || (q->since_ns && a->t_ns < q->since_ns) ||
		    (q->who && strcmp(b + a->off[A_WHO], q->who)))
			continue;
		ah_audit_row r = {
			.seq = a->seq, .t_ns = a->t_ns, .who = b + a->off[A_WHO], .name = b + a->off[A_NAME],
			.role = b + a->off[A_ROLE], .tenant = b + a->off[A_TENANT], .source = b + a->off[A_SOURCE],
			.method = b + a->off[A_METHOD], .path = b + a->off[A_PATH], .status = a->status,
			.outcome = b + a->off[A_OUTCOME], .detail = b + a->off[A_DETAIL],
		};
		int rc = fn(ctx, &r);
		if (rc)
			return rc;
		sent++;
	}
	return 0;
}

static uint32_t idem_hash(const char *scope, const char *key)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *c = (const unsigned char *)scope; *c; c++)
		h = (h ^ *c) * 16777619u;
	h = (h ^ 0xFFu) * 16777619u; /* a byte no string holds: ("ab","c") is not ("a","bc") */
	for (const unsigned char *c = (const unsigned char *)key; *c; c++)
		h = (h ^ *c) * 16777619u;
	return h;
}

static int idem_find(const mem_ledger *m, const char *scope, const char *key)
{
	if (!m->idem_bucket)
		return -1;
	uint32_t h = idem_hash(scope, key);
	for (int i = m->idem_bucket[h & (MEM_IDEM_BUCKETS - 1)]; i >= 0; i = m->idem[i].next) {
		const mem_idem *e = &m->idem[i];
		if (e->h == h && !strcmp(e->buf, scope) && !strcmp(e->buf + e->key_off, key))
			return i;
	}
	return -1;
}

static void idem_rebuild(mem_ledger *m)
{
	for (int b = 0; b < MEM_IDEM_BUCKETS; b++)
		m->idem_bucket[b] = -1;
	for (int i = 0; i < m->n_idem; i++) {
		int *head = &m->idem_bucket[m->idem[i].h & (MEM_IDEM_BUCKETS - 1)];
		m->idem[i].next = *head;
		*head = i;
	}
}

/* Drops rows [from, to) and the rows before from with t_ns < before_ns
 * (INT64_MIN: none of them); returns how many went. */
static size_t idem_drop(mem_ledger *m, int from, int to, int64_t before_ns)
{
	int w = 0, staged_from = m->n_idem - m->idem_staged;
	size_t dropped = 0;
	for (int i = 0; i < m->n_idem; i++) {
		bool drop = (i >= from && i < to) || (i < from && m->idem[i].t_ns < before_ns);
		if (drop) {
			free(m->idem[i].buf);
			dropped++;
			if (i >= staged_from)
				m->idem_staged--;
		} else {
			m->idem[w++] = m->idem[i];
		}
	}
	m->n_idem = w;
	if (dropped)
		idem_rebuild(m);
	return dropped;
}

static int m_idem_get(ah_ledger *l, const char *scope, const char *key, int (*fn)(void *ctx, const ah_idem_row *r),
		      void *ctx)
{
	mem_ledger *m = (mem_ledger *)l;
	int i = idem_find(m, scope, key);
	if (i < 0)
		return AH_ENOENT;
	const mem_idem *e = &m->idem[i];
	ah_idem_row r = {.scope = e->buf, .key = e->buf + e->key_off, .status = e->status, .body = e->buf + e->body_off,
			 .t_ns = e->t_ns};
	memcpy(r.req_hash, e->req_hash, sizeof r.req_hash);
	return fn(ctx, &r);
}

static int m_idem_put(ah_ledger *l, const ah_idem_row *r)
{
	mem_ledger *m = (mem_ledger *)l;
	if (!m->idem_bucket) {
		if (!(m->idem_bucket = malloc(sizeof(*m->idem_bucket) * MEM_IDEM_BUCKETS)))
			return AH_ENOMEM;
		idem_rebuild(m);
	}
	if (idem_find(m, r->scope, r->key) >= 0)
		return AH_EEXIST;
	if (m->n_idem == MEM_IDEM_MAX) { /* full: the oldest eighth goes, as a sweep would take it */
		int settled = m->n_idem - m->idem_staged;
		if (settled == 0)
			return AH_ETOOBIG;
		idem_drop(m, 0, settled < MEM_IDEM_MAX / 8 ? settled : MEM_IDEM_MAX / 8, INT64_MIN);
	}
	int rc = grow((void **)&m->idem, &m->idem_cap, sizeof(*m->idem), m->n_idem + 1);
	if (rc < 0)
		return rc;
	size_t ls = strlen(r->scope) + 1, lk = strlen(r->key) + 1, lb = strlen(r->body) + 1;
	mem_idem e = {.h = idem_hash(r->scope, r->key), .buf = malloc(ls + lk + lb), .key_off = ls,
		      .body_off = ls + lk, .status = r->status, .t_ns = r->t_ns};
	if (!e.buf)
		return AH_ENOMEM;
	memcpy(e.buf, r->scope, ls);
	memcpy(e.buf + ls, r->key, lk);
	memcpy(e.buf + ls + lk, r->body, lb);
	memcpy(e.req_hash, r->req_hash, sizeof e.req_hash);
	int *head = &m->idem_bucket[e.h & (MEM_IDEM_BUCKETS - 1)];
	e.next = *head;
	*head = m->n_idem;
	m->idem[m->n_idem++] = e;
	if (m->in_txn)
		m->idem_staged++;
	return 0;
}

static int m_idem_sweep(ah_ledger *l, int64_t before_ns, size_t *out_n)
{
	mem_ledger *m = (mem_ledger *)l;
	*out_n = m->idem_bucket ? idem_drop(m, m->n_idem, m->n_idem, before_ns) : 0;
	return 0;
}

/* Takes back the open transaction's API records (a failed commit, a
 * rollback). Audit rows the ring pushed out meanwhile stay gone. */
static void api_undo(mem_ledger *m)
{
	if (m->in_txn) {
		while (m->n_undo > 0) {
			tok_undo *u = &m->undo[--m->n_undo];
			int i = token_find(m, u->old.id);
			if (i >= 0)
				token_remove(m, i);
			if (u->existed)
				token_insert(m, &u->old); /* room: it was there */
		}
		m->token_gen = m->token_gen_begin;
		int k = m->audit_staged < m->audit_n ? m->audit_staged : m->audit_n;
		m->audit_n -= k;
		m->audit_seq -= m->audit_staged;
		if (m->idem_staged)
			idem_drop(m, m->n_idem - m->idem_staged, m->n_idem, INT64_MIN);
	}
	m->in_txn = false;
	m->n_undo = m->audit_staged = m->idem_staged = 0;
}

/* The oldest events up to the first at or after before_ns, leaving keep_min. */
static int m_events_compact(ah_ledger *l, int64_t before_ns, int64_t keep_min, size_t *out_n)
{
	mem_ledger *m = (mem_ledger *)l;
	size_t n = 0;
	while (m->n > keep_min && m->ring[m->head].t_ns < before_ns) {
		m->head = (m->head + 1) % m->cap;
		m->n--;
		n++;
	}
	*out_n = n;
	return 0;
}

static int m_events_bounds(ah_ledger *l, int64_t *out_first, int64_t *out_last)
{
	mem_ledger *m = (mem_ledger *)l;
	*out_last = m->next_seq;
	*out_first = m->n ? m->ring[m->head].seq : m->next_seq ? m->next_seq + 1 : 0;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int m_alloc_versions(ah_ledger *l, int (*fn)(void *ctx, uint64_t id, int64_t last_seq), void *ctx)
{
	mem_ledger *m = (mem_ledger *)l;
	if (!m->live_n)
		return 0;
	uint64_t *ids = malloc(sizeof(*ids) * m->live_n);
	if (!ids)
		return AH_ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < m->live_cap; i++)
		if (m->live[i].id)
			ids[n++] = m->live[i].id;
	qsort(ids, n, sizeof(*ids), cmp_u64);
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		const live_slot *e = live_find(m, ids[i]);
		/* an event the ring no longer holds counts as compacted away */
		int64_t first = m->n ? m->ring[m->head].seq : INT64_MAX;
		rc = fn(ctx, ids[i], e && e->seq >= first ? e->seq : 0);
	}
	free(ids);
	return rc;
}
/* ---- end of what the API keeps ----------------------------------------------- */

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
	free(m->tokens);
	free(m->undo);
	if (m->audit)
		for (int i = 0; i < MEM_AUDIT_RING; i++)
			free(m->audit[i].buf);
	free(m->audit);
	for (int i = 0; i < m->n_idem; i++)
		free(m->idem[i].buf);
	free(m->idem);
	free(m->idem_bucket);
	free(m->live);
	free(m);
}

static const ah_ledger_ops mem_ops = {
	.begin = m_begin,
	.commit = m_commit,
	.rollback = m_rollback,
	.put_alloc = m_put_alloc,
	.del_alloc = m_del_alloc,
	.put_queued = m_put_queued,
	.del_queued = m_del_queued,
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
	.token_put = m_token_put,
	.token_list = m_token_list,
	.token_generation = m_token_generation,
	.audit_put = m_audit_put,
	.audit_list = m_audit_list,
	.idem_get = m_idem_get,
	.idem_put = m_idem_put,
	.idem_sweep = m_idem_sweep,
	.events_compact = m_events_compact,
	.events_bounds = m_events_bounds,
	.alloc_versions = m_alloc_versions,
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
