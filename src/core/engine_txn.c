/* ahead: transactions: ledger calls (errors latched, checked at commit), one
 * wrapper every mutating call runs in, and group commit. */
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"

void eng_led_check(ah_engine *e, int rc)
{
	if (rc < 0 && !e->store_err)
		e->store_err = rc;
}

void eng_led_event(ah_engine *e, int64_t now, ah_event_kind kind, uint64_t id, int t, int p, int k,
		   const ah_vec *res, ah_reason reason, const char *detail)
{
	eng_note_event(e, kind, id, t, p, k, res, now);
	if (!e->ledger)
		return;
	ah_ledger_event ev = {
		.t_ns = now,
		.kind = kind,
		.id = id,
		.tenant = t >= 0 ? e->tenants[t].name : NULL,
		.pool = p >= 0 ? e->pol->pools[p].name : NULL,
		.klass = k >= 0 ? e->pol->classes[k].name : NULL,
		.res = res,
		.reason = reason ? ah_reason_code(reason) : NULL,
		.detail = detail,
	};
	eng_led_check(e, e->ledger->ops->event(e->ledger, &ev));
}

void eng_led_put_alloc(ah_engine *e, const alloc_t *a)
{
	if (!e->ledger)
		return;
	ah_ledger_row r = {
		.id = a->id,
		.tenant = e->tenants[a->tenant].name,
		.pool = e->pol->pools[a->pool].name,
		.klass = e->pol->classes[a->klass].name,
		.res = a->res,
		.params = a->params ? a->params : "",
		.created_ns = a->created_ns,
		.expires_ns = a->expires_ns,
		.lease_ttl_ns = a->lease_ttl_ns,
		.node = a->node1 > 0 ? e->nodes[a->node1 - 1].name : "",
		.workload_hash = a->wl,
		.node_select = eng_select_text(e, a->sel),
	};
	eng_led_check(e, e->ledger->ops->put_alloc(e->ledger, &r));
}

void eng_led_put_queued(ah_engine *e, const qitem_t *q)
{
	if (!e->ledger)
		return;
	ah_ledger_row r = {
		.id = q->id,
		.tenant = e->tenants[q->tenant].name,
		.pool = e->pol->pools[q->pool].name,
		.klass = e->pol->classes[q->klass].name,
		.res = q->res,
		.params = q->params ? q->params : "",
		.created_ns = q->arrival_ns,
		.expires_ns = q->deadline_ns,
		.lease_ttl_ns = q->lease_ttl_ns,
		.seq = q->seq,
		.workload_hash = q->wl,
		.node_select = eng_select_text(e, q->sel),
	};
	eng_led_check(e, e->ledger->ops->put_queued(e->ledger, &r));
}

void eng_led_del_alloc(ah_engine *e, uint64_t id)
{
	if (e->ledger)
		eng_led_check(e, e->ledger->ops->del_alloc(e->ledger, id));
}

void eng_led_del_queued(ah_engine *e, uint64_t id)
{
	if (e->ledger)
		eng_led_check(e, e->ledger->ops->del_queued(e->ledger, id));
}

void eng_led_put_pending(ah_engine *e, const alloc_t *a)
{
	if (e->ledger && e->ledger->ops->put_pending)
		eng_led_check(e, e->ledger->ops->put_pending(e->ledger, a->id, &eng_cold_peek(e, a)->want,
							     eng_cold_peek(e, a)->want_since_ns));
}

void eng_led_del_pending(ah_engine *e, uint64_t id)
{
	if (e->ledger && e->ledger->ops->del_pending)
		eng_led_check(e, e->ledger->ops->del_pending(e->ledger, id));
}

static int txn_begin(ah_engine *e, int64_t now)
{
	if (e->delivering)
		return AH_ESTATE; /* an observer may look, not act */
	if (e->broken)
		return AH_ESTORE;
	if (!e->ledger || e->in_txn)
		return 0;
	int rc = e->ledger->ops->begin(e->ledger);
	if (rc < 0)
		return rc;
	e->in_txn = true;
	e->store_err = 0;
	/* What every decision reads: the policy. A store without a global
	 * write lock (etcd) refuses the commit if it changed meanwhile. */
	if (e->policy_gen && e->ledger->ops->precond_add) {
		ah_ledger_precond pc = {.kind = AH_PRECOND_POLICY, .version = e->policy_gen};
		int prc = e->ledger->ops->precond_add(e->ledger, &pc);
		if (prc < 0) {
			e->ledger->ops->rollback(e->ledger);
			e->in_txn = false;
			return prc;
		}
	}
	if (rc == 1) { /* another process wrote: rebuild from the ledger first */
		rc = eng_load_state(e, now);
		if (rc < 0) {
			e->ledger->ops->rollback(e->ledger);
			e->in_txn = false;
			e->broken = true;
			return rc;
		}
	}
	return 0;
}

static int txn_end(ah_engine *e)
{
	if (!e->ledger) {
		if (!e->in_batch)
			eng_deliver(e);
		return 0;
	}
	if (e->in_batch)
		return e->store_err;
	int rc = e->store_err;
	if (!rc && e->next_id_dirty) {
		rc = e->ledger->ops->set_next_id(e->ledger, e->next_id);
		e->next_id_dirty = false;
	}
	if (!rc)
		rc = e->ledger->ops->commit(e->ledger);
	else
		e->ledger->ops->rollback(e->ledger);
	e->in_txn = false;
	if (rc < 0) {
		/* Memory and ledger may now disagree: refuse work until reloaded. */
		e->broken = true;
		e->nchg = 0; /* nothing of it happened */
		return rc;
	}
	eng_deliver(e);
	return 0;
}

int ah_engine_batch_begin(ah_engine *e)
{
	if (!e || e->in_batch)
		return AH_ESTATE;
	int rc = txn_begin(e, INT64_MIN);
	if (rc < 0)
		return rc;
	e->in_batch = true;
	return 0;
}

int ah_engine_batch_end(ah_engine *e)
{
	if (!e || !e->in_batch)
		return AH_ESTATE;
	e->in_batch = false;
	return txn_end(e);
}

/* Errors that are answers, not failures (unknown id, no room, over quota,
 * against policy): the transaction still commits what it did before. */
static bool soft_error(int rc)
{
	return rc == AH_ENOENT || rc == AH_ECAPACITY || rc == AH_EQUOTA || rc == AH_EPOLICY || rc == AH_ERATE;
}

/* The shape of every mutating call: one transaction that (re)loads the
 * ledger's state if asked, advances to now (expiries, timeouts, serving),
 * runs body (may be NULL), and commits; a hard error rolls it back. */
int eng_txn_run(ah_engine *e, int64_t now, bool load, txn_body body, void *arg)
{
	int rc = txn_begin(e, now);
	if (rc < 0)
		return rc;
	if (load)
		rc = eng_load_state(e, now);
	if (!rc)
		rc = eng_advance(e, now);
	if (!rc && body)
		rc = body(e, now, arg);
	if (!rc || soft_error(rc)) {
		int rs = eng_serve_waiting(e, now);
		if (rs < 0)
			rc = rs;
	}
	if (rc < 0 && !soft_error(rc) && !e->store_err)
		e->store_err = rc;
	int rc2 = txn_end(e);
	return rc < 0 ? rc : rc2;
}
