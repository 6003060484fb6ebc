/* ahead: observers: changes of state buffered per transaction, delivered
 * in order once it committed, dropped when it rolls back. */
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"

static const char *const change_names[AH_CHANGE__COUNT] = {
	"grant", "dequeue", "resize", "preempt", "expire", "release", "cancel", "queue", "timeout", "capacity",
};

const char *ah_change_kind_name(ah_change_kind k)
{
	if ((int)k < 0 || k >= AH_CHANGE__COUNT)
		return "unknown";
	return change_names[k];
}

int ah_engine_add_observer(ah_engine *e, const ah_engine_observer *o)
{
	if (!e || !o || !o->on_event)
		return AH_EINVAL;
	if (e->nobs == AH_ENGINE_MAX_OBSERVERS)
		return AH_ETOOBIG;
	e->obs[e->nobs++] = *o;
	return 0;
}

void eng_note(ah_engine *e, ah_change_kind kind, uint64_t id, int t, int p, int k, const ah_vec *res,
	      int64_t now)
{
	if (!e->nobs)
		return;
	if (e->nchg == e->capchg) {
		int nc = e->capchg ? e->capchg * 2 : 16;
		change_t *n = realloc(e->chg, sizeof(*n) * (size_t)nc);
		if (!n) {
			/* Observers must not miss a change: fail the transaction. */
			if (!e->store_err)
				e->store_err = AH_ENOMEM;
			return;
		}
		e->chg = n;
		e->capchg = nc;
	}
	change_t *c = &e->chg[e->nchg++];
	*c = (change_t){.kind = kind, .tenant = t, .pool = p, .klass = k, .id = id, .t_ns = now};
	if (res)
		c->res = *res;
	else
		memset(&c->res, 0, sizeof(c->res));
}

/* The ledger events observers see, as changes (-1: not a change). */
static int change_of_event(ah_event_kind k)
{
	switch (k) {
	case AH_EV_GRANT: return AH_CHANGE_GRANT;
	case AH_EV_DEQUEUE: return AH_CHANGE_DEQUEUE;
	case AH_EV_RESIZE: return AH_CHANGE_RESIZE;
	case AH_EV_PREEMPT: return AH_CHANGE_PREEMPT;
	case AH_EV_EXPIRE: return AH_CHANGE_EXPIRE;
	case AH_EV_RELEASE: return AH_CHANGE_RELEASE;
	case AH_EV_CANCEL: return AH_CHANGE_CANCEL;
	case AH_EV_QUEUE: return AH_CHANGE_QUEUE;
	case AH_EV_TIMEOUT: return AH_CHANGE_TIMEOUT;
	default: return -1;
	}
}

/* Runs after a successful commit, outside any transaction. */
void eng_deliver(ah_engine *e)
{
	e->delivering = true;
	for (int i = 0; i < e->nchg; i++) {
		const change_t *c = &e->chg[i];
		ah_engine_change ch = {
			.kind = c->kind,
			.t_ns = c->t_ns,
			.id = c->id,
			.tenant = c->tenant >= 0 ? e->tenants[c->tenant].name : NULL,
			.pool = c->pool >= 0 ? e->pol->pools[c->pool].name : NULL,
			.klass = c->klass >= 0 ? e->pol->classes[c->klass].name : NULL,
			.res = c->res,
		};
		for (int o = 0; o < e->nobs; o++)
			e->obs[o].on_event(e->obs[o].ctx, &ch);
	}
	e->nchg = 0;
	e->delivering = false;
}

void eng_note_event(ah_engine *e, ah_event_kind kind, uint64_t id, int t, int p, int k, const ah_vec *res,
		    int64_t now)
{
	int ck = change_of_event(kind);
	if (ck >= 0)
		eng_note(e, (ah_change_kind)ck, id, t, p, k, res, now);
}
