/* /v1/events (list and watch), the revisions behind resourceVersion, and
 * the daemon's periodic work (tick, sweep of idempotency keys and old
 * events). A revision is a ledger event seq: every change the engine
 * commits is an event, so "the newest seq that touched this object" is a
 * version that changes exactly when the object does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/id.h"
#include "ahead/server.h"
#include "server/api_int.h"

/* ---- versions ---- */

static int note_alloc(void *ctx, uint64_t id, int64_t seq)
{
	return api_versions_set(ctx, id, seq);
}

static void note_event(ah_api *a, const ah_event_row *ev)
{
	if (ev->id)
		(void)api_versions_set(&a->ver, ev->id, ev->seq);
	if (!strcmp(ev->kind, "policy")) {
		const ah_policy *pol = ah_service_policy_get(a->svc);
		for (int i = 0; i < pol->n_pools; i++)
			api_versions_pool_set(&a->ver, pol->pools[i].name, ev->seq);
	} else if (!ev->id && ev->pool && *ev->pool) {
		api_versions_pool_set(&a->ver, ev->pool, ev->seq);
	}
	if (ev->seq > a->ver.last_seq)
		a->ver.last_seq = ev->seq;
}

static int take_event(void *ctx, const ah_event_row *ev)
{
	note_event(ctx, ev);
	return 0;
}

static void bounds(ah_api *a)
{
	int64_t first = 0, last = 0;
	if (ah_ledger_events_bounds(ah_service_ledger_get(a->svc), &first, &last) == 0) {
		a->ver.first_seq = first;
		if (last > a->ver.last_seq)
			a->ver.last_seq = last;
	}
}

int api_versions_load(ah_api *a)
{
	ah_ledger *l = ah_service_ledger_get(a->svc);
	int rc = ah_ledger_alloc_versions(l, note_alloc, &a->ver);
	if (rc < 0)
		return rc;
	/* pool versions: the newest policy and capacity events */
	ah_event_query q = {.kinds = (1u << AH_EV_POLICY) | (1u << AH_EV_SCALE)};
	if ((rc = ah_ledger_events(l, &q, take_event, a)) < 0)
		return rc;
	bounds(a);
	return 0;
}

void api_touch(ah_api *a, uint64_t id)
{
	if (a->n_touched == a->cap_touched) {
		size_t cap = a->cap_touched ? a->cap_touched * 2 : 256;
		uint64_t *t = realloc(a->touched, cap * sizeof *t);
		if (!t) {
			a->touched_all_pools = true; /* refresh reads the events instead */
			return;
		}
		a->touched = t;
		a->cap_touched = cap;
	}
	a->touched[a->n_touched++] = id;
}

void api_touch_all_pools(ah_api *a)
{
	a->touched_all_pools = true;
}

void api_on_change(void *ctx, const ah_engine_change *ch)
{
	ah_api *a = ctx;
	api_tel_on_change(&a->tel, ch);
	api_metrics_on_change(a->met, ch);
	if (ch->id) {
		api_touch(a, ch->id);
	} else if (ch->pool) {
		for (int i = 0; i < a->n_touched_pools; i++)
			if (!strcmp(a->touched_pool[i], ch->pool))
				return;
		if (a->n_touched_pools < AH_MAX_POOLS && strlen(ch->pool) < AH_NAME_MAX)
			strcpy(a->touched_pool[a->n_touched_pools++], ch->pool);
		else
			a->touched_all_pools = true;
	}
}

/* After a commit: what changed gets the newest event seq as its version
 * (one cheap query, not a read of the events). */
void api_versions_refresh(ah_api *a)
{
	int64_t first = 0, last = 0;
	if (ah_ledger_events_bounds(ah_service_ledger_get(a->svc), &first, &last) == 0) {
		a->ver.first_seq = first;
		if (last > a->ver.last_seq) {
			for (size_t i = 0; i < a->n_touched; i++)
				(void)api_versions_set(&a->ver, a->touched[i], last);
			for (int i = 0; i < a->n_touched_pools; i++)
				api_versions_pool_set(&a->ver, a->touched_pool[i], last);
			if (a->touched_all_pools) {
				const ah_policy *pol = ah_service_policy_get(a->svc);
				for (int i = 0; pol && i < pol->n_pools; i++)
					api_versions_pool_set(&a->ver, pol->pools[i].name, last);
			}
			a->ver.last_seq = last;
		}
	}
	a->n_touched = 0;
	a->n_touched_pools = 0;
	a->touched_all_pools = false;
}

/* ---- events ---- */

static ah_service_event as_service_event(const ah_event_row *r)
{
	ah_service_event ev = {
		.seq = r->seq, .t_ns = r->t_ns, .kind = r->kind, .tenant = r->tenant, .pool = r->pool,
		.klass = r->klass, .resources = r->resources, .reason = r->reason, .detail = r->detail,
		.id = r->id, .data = r->data,
	};
	return ev;
}

typedef struct {
	const char *tenant; /* NULL = every tenant's */
	json_t *items;
	char *sse;
	size_t len, cap;
	int64_t last;
	bool oom;
} ev_ctx;

static bool visible(const ev_ctx *e, const ah_event_row *r)
{
	return !e->tenant || (r->tenant && !strcmp(r->tenant, e->tenant));
}

static int add_event(void *ctx, const ah_event_row *r)
{
	ev_ctx *e = ctx;
	e->last = r->seq;
	if (!visible(e, r))
		return 0;
	ah_service_event ev = as_service_event(r);
	json_array_append_new(e->items, ah_json_event(&ev));
	return 0;
}

/* since: a revision (seq) or nothing; a revision compacted away is 410. */
static bool since_arg(api_call *c, int64_t *out)
{
	const char *s = api_arg(c, "since");
	uint64_t v = 0;
	*out = -1;
	if (!s)
		return true;
	if (!strcmp(s, "0")) {
		*out = 0;
	} else if (ah_id_parse(s, &v) < 0 || v > INT64_MAX) {
		api_error(c, 400, "invalid", "since", "since: a resourceVersion (a non-negative integer)");
		return false;
	} else {
		*out = (int64_t)v;
	}
	bounds(c->a);
	if (c->a->ver.first_seq > 0 && *out < c->a->ver.first_seq - 1) {
		api_error(c, 410, "gone", "since",
			  "events up to %lld were compacted away (the oldest kept is %lld); list again and watch from its resourceVersion",
			  (long long)(c->a->ver.first_seq - 1), (long long)c->a->ver.first_seq);
		return false;
	}
	return true;
}

void api_events_list(api_call *c)
{
	int64_t since;
	if (!since_arg(c, &since))
		return;
	const char *lim = api_arg(c, "limit");
	uint64_t limit = 1000;
	if (lim && (ah_id_parse(lim, &limit) < 0 || limit > 100000)) {
		api_error(c, 400, "invalid", "limit", "limit: 1 to 100000");
		return;
	}
	const char *tenant = c->who->role == AH_ROLE_TENANT ? c->who->tenant : NULL;
	if (api_arg(c, "watch")) {
		const char *w = api_arg(c, "watch");
		if (*w && strcmp(w, "1") && strcmp(w, "true")) {
			api_error(c, 400, "invalid", "watch", "watch: 1 or true");
			return;
		}
		c->out->status = 200;
		c->out->watch = true;
		c->out->watch_after_seq = since >= 0 ? since : c->a->ver.last_seq;
		snprintf(c->out->watch_tenant, sizeof c->out->watch_tenant, "%s", tenant ? tenant : "");
		c->out->content_type = "text/event-stream";
		return;
	}
	ev_ctx e = {.tenant = tenant, .items = json_array()};
	ah_event_query q = {.after_seq = since > 0 ? since : 0, .limit = (int)limit};
	const char *id = api_arg(c, "id");
	if (id && ah_id_parse(id, &q.id) < 0) {
		json_decref(e.items);
		api_error(c, 400, "invalid", "id", "id: an allocation id");
		return;
	}
	int rc = ah_ledger_events(ah_service_ledger_get(c->a->svc), &q, add_event, &e);
	if (rc < 0) {
		json_decref(e.items);
		api_error_rc(c, rc, "events");
		return;
	}
	api_reply(c, 200, api_json_list(c->a, e.items));
}

static int add_frame(void *ctx, const ah_event_row *r)
{
	ev_ctx *e = ctx;
	e->last = r->seq;
	if (!visible(e, r))
		return 0;
	ah_service_event ev = as_service_event(r);
	json_t *o = ah_json_event(&ev);
	char *d = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!d) {
		e->oom = true;
		return 1;
	}
	size_t need = strlen(d) + strlen(r->kind) + 64;
	if (e->len + need + 1 > e->cap) {
		size_t cap = (e->cap + need) * 2;
		char *n = realloc(e->sse, cap);
		if (!n) {
			free(d);
			e->oom = true;
			return 1;
		}
		e->sse = n;
		e->cap = cap;
	}
	e->len += (size_t)snprintf(e->sse + e->len, e->cap - e->len, "id: %lld\nevent: %s\ndata: %s\n\n",
				   (long long)r->seq, r->kind, d);
	free(d);
	return 0;
}

char *ah_api_watch_next(ah_api *a, const char *tenant, int64_t *after_seq)
{
	if (!a || !after_seq || *after_seq >= a->ver.last_seq)
		return NULL;
	ev_ctx e = {.tenant = tenant && *tenant ? tenant : NULL, .last = *after_seq};
	ah_event_query q = {.after_seq = *after_seq, .limit = 256};
	(void)ah_ledger_events(ah_service_ledger_get(a->svc), &q, add_frame, &e);
	if (e.oom) {
		free(e.sse);
		return NULL;
	}
	*after_seq = e.last;
	if (!e.sse) /* only other tenants' events: nothing to send, but moved on */
		return strdup(": \n\n");
	return e.sse;
}

/* ---- periodic work ---- */

int ah_api_tick(ah_api *a, int64_t now_ns)
{
	ah_service_tick_out t;
	int rc = ah_service_tick(a->svc, now_ns, &t);
	api_versions_refresh(a);
	if (rc < 0)
		a->met->tick_failures++;
	return rc;
}

/* Events after the newest this instance knows, at most this many read to
 * bring the versions up to date after a watch's reload; past it, the
 * versions are read whole. */
#define SYNC_EVENTS_MAX 10000

typedef struct {
	ah_api *a;
	int n;
} sync_ctx;

static int sync_event(void *ctx, const ah_event_row *ev)
{
	sync_ctx *x = ctx;
	note_event(x->a, ev);
	x->n++;
	return 0;
}

/* Pools on nodes: the engine told of the nodes each second (moves off a
 * down or draining node are logged; an etcd error once until it clears). */
static void nodes_sync(ah_api *a, int64_t now_ns, int64_t mono_ns)
{
	ah_node_moves m;
	char err[320] = "";
	int rc = ah_service_nodes_sync(a->svc, now_ns, mono_ns, &m, err, sizeof err);
	if (rc < 0) {
		if (!a->nodes_err)
			ah_log(AH_LOG_WARN, "msg=nodes_unavailable err=\"%s\"", err[0] ? err : ah_strerror(rc));
		a->nodes_err = true;
		return;
	}
	a->nodes_err = false;
	if (!(m.moved || m.requeued || m.evicted || m.rebalanced))
		return;
	/* which nodes work moved off, for the operator reading the log */
	char off[512] = "";
	size_t w = 0;
	const ah_engine *e = ah_service_engine_get(a->svc);
	for (int i = 0, n = ah_engine_node_count(e); i < n; i++) {
		ah_engine_node_info ni;
		if (ah_engine_node_get(e, i, &ni) < 0 || (ni.known && ni.up && !ni.draining))
			continue;
		int k = snprintf(off + w, sizeof off - w, "%s%s:%s", w ? "," : "", ni.name,
				 !ni.known ? "unknown" : !ni.up ? "down" : "draining");
		if (k < 0 || (size_t)k >= sizeof off - w)
			break;
		w += (size_t)k;
	}
	ah_log(AH_LOG_INFO, "msg=nodes_moved moved=%d requeued=%d evicted=%d left=%d rebalanced=%d off=\"%s\"",
	       m.moved, m.requeued, m.evicted, m.left, m.rebalanced, off);
}

int ah_api_follow(ah_api *a, int64_t now_ns, int64_t mono_ns, ah_service_follow_out *out)
{
	ah_service_follow_out o;
	int rc = ah_service_follow(a->svc, now_ns, mono_ns, &o);
	if (rc == 0 && o.reloaded) {
		/* another instance's commits: their ids and pools get the seqs of
		 * the events they logged, as this instance's own commits do */
		sync_ctx x = {.a = a};
		ah_event_query q = {.after_seq = a->ver.last_seq, .limit = SYNC_EVENTS_MAX};
		bool whole = o.relisted; /* events may be gone: read the versions whole */
		if (!whole)
			whole = ah_ledger_events(ah_service_ledger_get(a->svc), &q, sync_event, &x) == 0 &&
				x.n >= SYNC_EVENTS_MAX;
		/* a failed read leaves the versions behind until the next reload:
		 * not the view's fault, so not this call's error */
		if (whole)
			(void)api_versions_load(a);
		bounds(a);
	}
	if (o.watching) { /* /metrics */
		a->follow = o;
		a->follow_reloads += o.reloaded;
		a->follow_restarts += o.restarted;
		if (o.reloaded)
			a->follow_lag_ns = o.lag_ns;
		if (o.up)
			a->follow_down_mono_ns = 0;
		else if (!a->follow_down_mono_ns)
			a->follow_down_mono_ns = mono_ns;
		snprintf(a->follow_err, sizeof a->follow_err, "%s", o.err);
	}
	nodes_sync(a, now_ns, mono_ns);
	if (out)
		*out = o;
	return rc;
}

/* The versions of ended allocations are of no use (their ids answer 404):
 * rebuilt from the live ones at each sweep, so the map stays the size of
 * what is held, not of everything ever granted. */
typedef struct {
	const api_versions *old;
	api_versions *fresh;
	int rc;
} prune_ctx;

static int keep_live(void *ctx, const ah_engine_item *it)
{
	prune_ctx *p = ctx;
	int64_t v = api_versions_get(p->old, it->id);
	if (v && (p->rc = api_versions_set(p->fresh, it->id, v)) < 0)
		return 1;
	return 0;
}

static void prune_versions(ah_api *a)
{
	api_versions fresh;
	api_versions_init(&fresh);
	prune_ctx p = {.old = &a->ver, .fresh = &fresh};
	ah_engine_foreach(ah_service_engine_get(a->svc), keep_live, &p);
	if (p.rc < 0) {
		api_versions_fini(&fresh);
		return;
	}
	/* pools, revisions: as they were */
	memcpy(fresh.pool_seq, a->ver.pool_seq, sizeof fresh.pool_seq);
	memcpy(fresh.pool_name, a->ver.pool_name, sizeof fresh.pool_name);
	fresh.n_pools = a->ver.n_pools;
	fresh.last_seq = a->ver.last_seq;
	fresh.first_seq = a->ver.first_seq;
	api_versions_fini(&a->ver);
	a->ver = fresh;
}

size_t ah_api_versions_count(const ah_api *a)
{
	return a ? a->ver.n : 0;
}

int ah_api_sweep(ah_api *a, int64_t now_ns)
{
	prune_versions(a);
	ah_ledger *l = ah_service_ledger_get(a->svc);
	size_t n;
	int rc = ah_ledger_idem_sweep(l, now_ns - a->opts.idem_keep_ns, &n);
	if (rc == 0)
		rc = ah_ledger_events_compact(l, now_ns - a->opts.events_keep_ns, a->opts.events_keep_min, &n);
	bounds(a);
	return rc;
}
