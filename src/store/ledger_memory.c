/* ahead: the in-memory ledger. The engine holds all state itself; this
 * ledger only remembers the last N events so tests can see what happened. */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "ahead/error.h"
#include "ahead/ledger.h"

typedef struct {
	ah_event_kind kind;
	uint64_t id;
	char reason[32];
} mem_event;

typedef struct {
	ah_ledger base;
	mem_event *ring;
	int cap, n, head; /* head: index of the oldest event */
} mem_ledger;

static const char *const kind_names[] = {
	"grant", "queue", "refuse", "dequeue", "release", "cancel",
	"renew", "expire", "timeout", "preempt", "resize", "policy", "scale",
};
/* A new kind without a name would print as NULL: keep the table complete. */
_Static_assert(sizeof(kind_names) / sizeof(kind_names[0]) == AH_EV__COUNT, "event kind without a name");

const char *ah_event_kind_name(ah_event_kind k)
{
	if ((int)k < 0 || k >= AH_EV__COUNT)
		return "unknown";
	return kind_names[k];
}

static int m_ok(ah_ledger *l)
{
	(void)l;
	return 0;
}
static void m_void(ah_ledger *l)
{
	(void)l;
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
	if (m->cap <= 0)
		return 0;
	int i = (m->head + m->n) % m->cap;
	if (m->n == m->cap)
		m->head = (m->head + 1) % m->cap;
	else
		m->n++;
	m->ring[i].kind = ev->kind;
	m->ring[i].id = ev->id;
	snprintf(m->ring[i].reason, sizeof(m->ring[i].reason), "%s", ev->reason ? ev->reason : "");
	return 0;
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
	free(m->ring);
	free(m);
}

static const ah_ledger_ops mem_ops = {
	.begin = m_ok,
	.commit = m_ok,
	.rollback = m_void,
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
		snprintf(reason, reason_len, "%s", ev->reason);
	return 0;
}

void ah_ledger_free(ah_ledger *l)
{
	if (l)
		l->ops->free(l);
}
