/* The daemon's cgroup per allocation (enforce_api.h): the observer that
 * makes, resizes and removes them, the reconcile at start and the drift
 * check each interval. Desired limits are always the ledger's: an
 * allocation's size as the engine (rebuilt from the ledger after any
 * restart) holds it; applied limits are what the kernel has. A kill -9
 * between the ledger's commit of a resize and its writes therefore loses
 * nothing: the next start sets every live allocation's desired limits
 * again (only the difference is written) and never admits anything. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/server.h"
#include "ahead/service_run.h"
#include "server/api_int.h"
#include "server/enforce_api.h"
#include "server/enforce_usage.h"

#define NS_PER_MS INT64_C(1000000)
#define EVENTS_MAX 64

typedef struct {
	uint64_t id;
	char reason[16];
	char detail[320];
	char data[400];          /* JSON or "" */
} pending_event;

struct api_enforce {
	ah_alloc_cgroups *acg;
	char key[2 * AH_LINUX_ROOT_MAX + AH_LINUX_PARENT_MAX + 4]; /* proc_root, prefix, parent it was made for */
	char parent[AH_LINUX_PARENT_MAX];
	bool reconciled;
	bool stopped;            /* [linux] enforce = off seen: reconcile again when it ends */
	int64_t next_ns;
	char error[320];
	pending_event ev[EVENTS_MAX];
	size_t n_ev;
	ah_api *a;               /* for the drift callback */
	api_usage *usage;        /* [linux] sample_allocations: the held cgroups' usage, reported */
	int64_t next_report_ns;
	bool report_now;         /* a soft level was crossed: report usage without waiting */
};

static json_t *json_limits(const ah_acg_limits *l);

/* The parent of this daemon's allocation cgroups: the policy's, and on a
 * fleet the node's own below it (PARENT/NODE), so that nodes sharing one
 * host (a test, a lab) never sweep each other's cgroups. */
static const char *parent_of(const ah_api *a, const ah_linux_policy *lp, char *buf, size_t len)
{
	const char *p = lp->api_cgroup_parent[0] ? lp->api_cgroup_parent : "ahead";
	if (!a->node_name[0])
		return p;
	size_t n = strlen(p);
	if (n + 1 + strlen(a->node_name) >= len)
		return p; /* too long to nest: the policy's parent */
	memcpy(buf, p, n);
	buf[n] = '/';
	memcpy(buf + n + 1, a->node_name, strlen(a->node_name) + 1);
	return buf;
}

/* off (0), on (1), dry-run (2) for an allocation of class klass. */
static int mode_for(const ah_policy *P, const char *klass)
{
	const ah_linux_policy *lp = &P->linux_host;
	if (lp->enforce_api == AH_ENFORCE_API_OFF || lp->enforce == AH_ENFORCE_OFF)
		return 0;
	bool dry = lp->enforce_api == AH_ENFORCE_API_DRY_RUN || lp->enforce == AH_ENFORCE_DRY_RUN;
	int k = klass ? ah_policy_find_class(P, klass) : P->default_class;
	if (k >= 0 && k < P->n_classes && P->classes[k].enforce == AH_ENFORCE_DRY_RUN)
		dry = true;
	return dry ? 2 : 1;
}

static void opts_for(const ah_policy *P, int mode, ah_acg_opts *o)
{
	ah_acg_opts_init(o);
	o->dry_run = mode == 2;
	o->adopt_drift = P->linux_host.adopt_drift;
	o->shrink_cap_bytes = P->linux_host.shrink_cap_bytes;
	o->shrink_cap_frac = P->linux_host.shrink_cap_frac;
}

static void queue_event(api_enforce *e, uint64_t id, const char *reason, const char *detail, const char *data)
{
	if (e->n_ev >= EVENTS_MAX)
		return; /* logged already; the ledger keeps the first ones */
	pending_event *p = &e->ev[e->n_ev++];
	p->id = id;
	snprintf(p->reason, sizeof p->reason, "%s", reason);
	snprintf(p->detail, sizeof p->detail, "%s", detail);
	snprintf(p->data, sizeof p->data, "%s", data ? data : "");
}

/* The set for the policy in force, made (or made again for other roots)
 * when enforcement is on; NULL when off or the mounts cannot be found. */
static api_enforce *ensure(ah_api *a)
{
	const ah_policy *P = ah_service_policy_get(a->svc);
	if (!P || P->linux_host.enforce_api == AH_ENFORCE_API_OFF)
		return NULL;
	if (!a->enf && !(a->enf = calloc(1, sizeof *a->enf)))
		return NULL;
	api_enforce *e = a->enf;
	e->a = a;
	const ah_linux_policy *lp = &P->linux_host;
	char key[sizeof e->key];
	char pb[AH_LINUX_PARENT_MAX];
	const char *parent = parent_of(a, lp, pb, sizeof pb);
	snprintf(key, sizeof key, "%s\n%s\n%s", lp->proc_root, lp->cgroup_prefix, parent);
	if (e->acg && !strcmp(key, e->key))
		return e;
	ah_acg_free(e->acg); /* other roots: the old cgroups are left as they are */
	e->acg = NULL;
	api_usage_free(e->usage);
	e->usage = NULL;
	e->reconciled = false;
	snprintf(e->key, sizeof e->key, "%s", key);
	snprintf(e->parent, sizeof e->parent, "%s", parent);
	ah_cgroup_roots roots;
	ah_cgroup_roots_init(&roots);
	char err[512] = "";
	int rc = ah_cgroup_roots_detect(lp->proc_root, lp->cgroup_prefix, &roots, err, sizeof err);
	if (rc == 0)
		rc = ah_acg_new(&roots, e->parent, &e->acg, err, sizeof err);
	if (rc < 0) {
		snprintf(e->error, sizeof e->error, "cannot find the cgroup mounts: %.280s", err);
		ah_log(AH_LOG_WARN, "msg=enforce_unavailable detail=\"%s\"", e->error);
		e->key[0] = '\0'; /* tried again at the next event or tick */
		return NULL;
	}
	if ((rc = api_usage_new(&roots, e->parent, &e->usage)) < 0) /* enforcement goes on without it */
		ah_log(AH_LOG_WARN, "msg=enforce_usage_unavailable err=\"%s\"", ah_strerror(rc));
	return e;
}

/* The limits an allocation's size gives under the policy: cpu, memory on
 * two levels, io on [linux] io_devices. */
static void limits_for(const ah_policy *P, const ah_vec *res, ah_acg_limits *want)
{
	const ah_linux_policy *lp = &P->linux_host;
	ah_acg_limits_of(&P->dims, res, lp->run_hard_margin, want);
	ah_acg_device dev[AH_LINUX_IO_DEVICES_MAX];
	for (int i = 0; i < lp->n_io_devices; i++)
		dev[i] = (ah_acg_device){lp->io_devices[i].major, lp->io_devices[i].minor};
	ah_acg_limits_io(&P->dims, res, dev, (size_t)lp->n_io_devices, want);
}

static void fmt_limits(const ah_acg_limits *l, char *out, size_t len)
{
	char c[32] = "-", h[32] = "-", m[32] = "-", io[48] = "-";
	if (l->io_bps && l->n_dev)
		snprintf(io, sizeof io, "%" PRIu64 "x%zu", l->io_bps, l->n_dev);
	if (l->cpu_millicores)
		snprintf(c, sizeof c, "%" PRIu64 "m", l->cpu_millicores);
	if (l->mem_high_bytes)
		snprintf(h, sizeof h, "%" PRIu64, l->mem_high_bytes);
	if (l->mem_max_bytes)
		snprintf(m, sizeof m, "%" PRIu64, l->mem_max_bytes);
	snprintf(out, len, "cpu=%s memory_high=%s memory_max=%s io_bps=%s", c, h, m, io);
}

static void set_one(ah_api *a, api_enforce *e, uint64_t id, const char *klass, const ah_vec *res, const char *why)
{
	const ah_policy *P = ah_service_policy_get(a->svc);
	int mode = mode_for(P, klass);
	if (!mode)
		return;
	ah_acg_limits want;
	limits_for(P, res, &want);
	ah_acg_opts o;
	opts_for(P, mode, &o);
	char err[512] = "", lim[192];
	fmt_limits(&want, lim, sizeof lim);
	int rc = ah_acg_set(e->acg, id, &want, &o, err, sizeof err);
	if (rc < 0) {
		snprintf(e->error, sizeof e->error, "alloc %" PRIu64 ": %.280s", id, err);
		ah_log(AH_LOG_WARN, "msg=enforce_failed id=%" PRIu64 " why=%s detail=\"%s\"", id, why, err);
		return;
	}
	ah_log(AH_LOG_INFO, "msg=%s id=%" PRIu64 " why=%s %s", mode == 2 ? "enforce_dry_run" : "enforced", id, why,
	       lim);
	if (P->linux_host.sample_allocs && (rc = api_usage_track(e->usage, id)) < 0 && e->usage)
		ah_log(AH_LOG_WARN, "msg=enforce_usage_untracked id=%" PRIu64 " err=\"%s\"", id, ah_strerror(rc));
}

static void drop_one(api_enforce *e, uint64_t id)
{
	api_usage_untrack(e->usage, id);
	char err[512] = "";
	if (ah_acg_drop(e->acg, id, err, sizeof err) < 0) {
		snprintf(e->error, sizeof e->error, "alloc %" PRIu64 ": %.280s", id, err);
		ah_log(AH_LOG_WARN, "msg=enforce_remove_failed id=%" PRIu64 " detail=\"%s\"", id, err);
	}
}

/* Whether allocation id is this daemon's to enforce: off a fleet, every
 * one it is told of; on one, of a pool on nodes only one placed on its
 * node (whoever granted it: placed_here() picks up the others' grants). */
static bool ours(ah_api *a, uint64_t id)
{
	if (!a->node_name[0])
		return true;
	ah_engine_item it;
	if (ah_engine_get(ah_service_engine_get(a->svc), id, &it) < 0 || it.queued)
		return true; /* ended: dropping it is everyone's */
	return !it.node[0] || !strcmp(it.node, a->node_name);
}

void api_enf_on_change(void *ctx, const ah_engine_change *c)
{
	ah_api *a = ctx;
	if (c->kind == AH_CHANGE_CAPACITY || c->kind == AH_CHANGE_QUEUE || c->kind == AH_CHANGE_CANCEL ||
	    c->kind == AH_CHANGE_TIMEOUT)
		return;
	api_enforce *e = ensure(a);
	if (!e)
		return;
	switch (c->kind) {
	case AH_CHANGE_GRANT:
	case AH_CHANGE_DEQUEUE:
	case AH_CHANGE_RESIZE:
		if (ours(a, c->id))
			set_one(a, e, c->id, c->klass, &c->res, ah_change_kind_name(c->kind));
		else if (ah_acg_holds(e->acg, c->id))
			drop_one(e, c->id); /* moved to another node */
		break;
	case AH_CHANGE_PREEMPT:
	case AH_CHANGE_EXPIRE:
	case AH_CHANGE_RELEASE:
		if (ah_acg_holds(e->acg, c->id) || mode_for(ah_service_policy_get(a->svc), c->klass))
			drop_one(e, c->id);
		break;
	default:
		break;
	}
}

/* One limit of a recorded adoption: an integer, "max" or null. */
static uint64_t limit_of(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	if (json_is_string(v) && !strcmp(json_string_value(v), "max"))
		return UINT64_MAX;
	return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

typedef struct {
	bool found;
	ah_acg_limits l;
} adopted_ctx;

/* The allocation's events oldest first: a grant or resize sets desired
 * again (what ahead writes next), a drift event with "adopted" data is an
 * adoption; the last of them wins. */
static int adopted_take(void *ctx, const ah_event_row *ev)
{
	adopted_ctx *x = ctx;
	if (strcmp(ev->kind, ah_event_kind_name(AH_EV_RUN))) {
		x->found = false;
		return 0;
	}
	if (!ev->reason || strcmp(ev->reason, "drift") || !ev->data || !*ev->data)
		return 0;
	json_t *j = json_loads(ev->data, 0, NULL);
	const json_t *o = json_object_get(j, "adopted");
	if (json_is_object(o)) {
		memset(&x->l, 0, sizeof x->l);
		x->l.cpu_millicores = limit_of(o, "cpu_millicores");
		x->l.mem_high_bytes = limit_of(o, "memory_high_bytes");
		x->l.mem_max_bytes = limit_of(o, "memory_max_bytes");
		x->l.io_bps = limit_of(o, "io_bps");
		const json_t *d = json_object_get(o, "io_devices"), *v;
		size_t i;
		json_array_foreach(d, i, v)
		{
			unsigned maj, mnr;
			if (x->l.n_dev < AH_LINUX_IO_DEVICES_MAX && json_is_string(v) &&
			    sscanf(json_string_value(v), "%u:%u", &maj, &mnr) == 2)
				x->l.dev[x->l.n_dev++] = (ah_acg_device){maj, mnr};
		}
		x->found = true;
	}
	json_decref(j);
	return 0;
}

/* Whether the ledger's newest word on id's limits is an adoption (the
 * event log keeps it as long as it keeps the events: docs/LINUX.md). */
static bool adopted_of(ah_api *a, uint64_t id, ah_acg_limits *out)
{
	adopted_ctx x = {0};
	ah_event_query q = {.id = id,
			    .kinds = (1u << AH_EV_GRANT) | (1u << AH_EV_DEQUEUE) | (1u << AH_EV_RESIZE) | (1u << AH_EV_RUN)};
	if (ah_ledger_events(ah_service_ledger_get(a->svc), &q, adopted_take, &x) < 0 || !x.found)
		return false;
	*out = x.l;
	return true;
}

/* A restart keeps an adoption: nothing written; the next check finds drift
 * only if the limits moved again since. */
static void keep_adopted(ah_api *a, api_enforce *e, uint64_t id, const ah_vec *res, const ah_acg_limits *adopted)
{
	const ah_policy *P = ah_service_policy_get(a->svc);
	ah_acg_limits want;
	limits_for(P, res, &want);
	char err[512] = "";
	if (ah_acg_adopt(e->acg, id, &want, adopted, err, sizeof err) < 0) {
		snprintf(e->error, sizeof e->error, "alloc %" PRIu64 ": %.280s", id, err);
		ah_log(AH_LOG_WARN, "msg=enforce_failed id=%" PRIu64 " why=reconcile detail=\"%s\"", id, err);
		return;
	}
	ah_log(AH_LOG_INFO, "msg=enforce_adoption_kept id=%" PRIu64, id);
	if (P->linux_host.sample_allocs)
		(void)api_usage_track(e->usage, id);
}

typedef struct {
	ah_api *a;
	api_enforce *e;
	uint64_t *ids;
	size_t n, cap;
	bool oom;
} live_ctx;

static int live_one(void *ctx, const ah_engine_item *it)
{
	live_ctx *l = ctx;
	if (it->queued || (l->a->node_name[0] && it->node[0] && strcmp(it->node, l->a->node_name)))
		return 0; /* on another node: that node's daemon enforces it */
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		uint64_t *p = realloc(l->ids, cap * sizeof *p);
		if (!p) {
			l->oom = true;
			return 1;
		}
		l->ids = p;
		l->cap = cap;
	}
	l->ids[l->n++] = it->id;
	const ah_policy *P = ah_service_policy_get(l->a->svc);
	ah_acg_limits adopted;
	/* only at a start (nothing held yet): after the stop switch the held
	 * cgroups go back to desired */
	if (P->linux_host.adopt_drift && mode_for(P, it->klass) == 1 && !ah_acg_holds(l->e->acg, it->id) &&
	    adopted_of(l->a, it->id, &adopted))
		keep_adopted(l->a, l->e, it->id, it->res, &adopted);
	else
		set_one(l->a, l->e, it->id, it->klass, it->res, "reconcile");
	return 0;
}

/* At start (and for new roots): every live allocation's desired limits
 * set again, the cgroups of allocations that no longer exist removed. */
static void reconcile(ah_api *a, api_enforce *e)
{
	live_ctx l = {.a = a, .e = e};
	(void)ah_engine_foreach(ah_service_engine_get(a->svc), live_one, &l);
	if (l.oom) {
		free(l.ids);
		return; /* tried again next tick */
	}
	size_t removed = 0;
	char err[512] = "";
	int rc = ah_acg_sweep(e->acg, l.ids, l.n, &removed, err, sizeof err);
	if (rc < 0) {
		snprintf(e->error, sizeof e->error, "sweep: %.280s", err);
		ah_log(AH_LOG_WARN, "msg=enforce_sweep_failed detail=\"%s\"", err);
	}
	if (removed) {
		char d[320];
		snprintf(d, sizeof d, "%zu cgroup(s) of ended allocations removed under %s", removed, e->parent);
		ah_log(AH_LOG_INFO, "msg=enforce_orphans_removed n=%zu parent=%s", removed, e->parent);
		queue_event(e, 0, "orphaned", d, NULL);
	}
	ah_log(AH_LOG_INFO, "msg=enforce_reconciled live=%zu orphans_removed=%zu", l.n, removed);
	e->reconciled = true;
	free(l.ids);
}

static void on_drift(void *ctx, uint64_t id, uint32_t mask, bool adopted)
{
	api_enforce *e = ctx;
	char what[96], d[320];
	ah_acg_drift_words(mask, what, sizeof what);
	snprintf(d, sizeof d, "%s changed behind ahead's back: %s", what, adopted ? "adopted" : "restored");
	ah_log(AH_LOG_WARN, "msg=drift id=%" PRIu64 " limits=\"%s\" action=%s", id, what, adopted ? "adopted" : "restored");
	/* an adoption is recorded with what was adopted, so a restart keeps
	 * it (adopted_of() reads it back) */
	char *data = NULL;
	ah_acg_limits ap;
	if (adopted && ah_acg_get(e->acg, id, NULL, &ap)) {
		json_t *j = json_pack("{s:o}", "adopted", json_limits(&ap));
		data = j ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
	}
	queue_event(e, id, "drift", d, data);
	free(data);
}

/* v1's soft level crossed (emulated: a usage threshold): said in the log
 * and the ledger, and with sample_allocations the usage is reported at
 * once, so the sizer grows the allocation now (pool and policy allowing);
 * the hard level above it holds meanwhile. */
static void on_soft_over(void *ctx, uint64_t id, uint64_t usage, uint64_t soft, uint64_t file)
{
	api_enforce *e = ctx;
	char d[320];
	snprintf(d, sizeof d, "memory %" PRIu64 " above the soft level %" PRIu64 " (page cache %" PRIu64 ")", usage, soft,
		 file);
	ah_log(AH_LOG_WARN, "msg=soft_level_exceeded id=%" PRIu64 " usage=%" PRIu64 " soft=%" PRIu64 " file=%" PRIu64, id,
	       usage, soft, file);
	queue_event(e, id, "soft-exceeded", d, NULL);
	e->report_now = true; /* the sizer sees it at once, not at the next report_interval */
}

#define REPORT_ROWS 256

/* One dimension of a sampled window, AH_USAGE_NONE when not sampled. */
static void put_dim(const ah_policy *P, ah_vec *u, const char *dim, bool ok, double v)
{
	int d = ah_dimset_find(&P->dims, dim);
	if (d >= 0 && ok)
		u->v[d] = v < 0 ? 0 : v > (double)AH_VALUE_MAX ? AH_VALUE_MAX : (int64_t)(v + 0.5);
}

/* [linux] sample_allocations: every interval each held cgroup sampled;
 * every report_interval each one's window reported, in one batch (one
 * ledger commit for all the resizes it causes). An allocation that ended
 * meanwhile (AH_ENOENT) is no longer sampled. */
static void sample_and_report(ah_api *a, api_enforce *e, const ah_policy *P, int64_t mono_ns, int64_t wall_ns)
{
	if (!e->usage || !P->linux_host.sample_allocs || !api_usage_count(e->usage))
		return;
	int rc = api_usage_sample(e->usage, mono_ns, wall_ns);
	if (rc < 0)
		ah_log(AH_LOG_WARN, "msg=enforce_usage_sample_failed err=\"%s\"", ah_strerror(rc));
	if (!e->next_report_ns)
		e->next_report_ns = mono_ns + P->report_interval_ns;
	if (mono_ns < e->next_report_ns && !e->report_now)
		return;
	e->report_now = false;
	e->next_report_ns = mono_ns + P->report_interval_ns;
	api_usage_row rows[REPORT_ROWS];
	size_t n = 0;
	if (api_usage_take(e->usage, rows, REPORT_ROWS, &n) < 0 || !n)
		return;
	bool batch = ah_api_batch_begin(a, wall_ns) == 0;
	for (size_t i = 0; i < n; i++) {
		ah_vec u;
		for (int d = 0; d < AH_MAX_DIMS; d++)
			u.v[d] = d < P->dims.n ? AH_USAGE_NONE : 0;
		put_dim(P, &u, "cpu", rows[i].cpu_ok, rows[i].cpu_millicores);
		put_dim(P, &u, "memory", rows[i].mem_ok, (double)rows[i].mem_bytes);
		put_dim(P, &u, "io", rows[i].io_ok, rows[i].io_bps);
		ah_service_report_out out;
		rc = ah_service_report(a->svc, rows[i].id, &u, wall_ns, &out);
		api_usage_count_report(e->usage, rc == 0);
		if (rc == AH_ENOENT)
			api_usage_untrack(e->usage, rows[i].id);
		else if (rc < 0)
			ah_log(AH_LOG_WARN, "msg=enforce_usage_report_failed id=%" PRIu64 " err=\"%s\"", rows[i].id,
			       ah_strerror(rc));
	}
	if (batch && (rc = ah_api_batch_end(a, NULL, 0, wall_ns)) < 0)
		ah_log(AH_LOG_WARN, "msg=enforce_usage_commit_failed err=\"%s\"", ah_strerror(rc));
}

/* On a fleet: the allocations other instances placed on this node (and
 * resized, or moved away) since the last look, brought in line; what no
 * longer lives here is removed. Only differences are written. */
typedef struct {
	ah_api *a;
	api_enforce *e;
	uint64_t *ids;
	size_t n, cap;
	bool oom;
} here_ctx;

static int here_one(void *ctx, const ah_engine_item *it)
{
	here_ctx *h = ctx;
	if (it->queued || (it->node[0] && strcmp(it->node, h->a->node_name)))
		return 0;
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		uint64_t *p = realloc(h->ids, cap * sizeof *p);
		if (!p) {
			h->oom = true;
			return 1;
		}
		h->ids = p;
		h->cap = cap;
	}
	h->ids[h->n++] = it->id;
	if (!it->node[0])
		return 0; /* not on a node pool: this instance's own grants, followed by the observer */
	const ah_policy *P = ah_service_policy_get(h->a->svc);
	if (!mode_for(P, it->klass))
		return 0;
	ah_acg_limits want, desired;
	limits_for(P, it->res, &want);
	if (!ah_acg_get(h->e->acg, it->id, &desired, NULL) || want.cpu_millicores != desired.cpu_millicores ||
	    want.mem_high_bytes != desired.mem_high_bytes || want.mem_max_bytes != desired.mem_max_bytes ||
	    want.io_bps != desired.io_bps)
		set_one(h->a, h->e, it->id, it->klass, it->res, "placed_here");
	return 0;
}

static void placed_here(ah_api *a, api_enforce *e)
{
	here_ctx h = {.a = a, .e = e};
	(void)ah_engine_foreach(ah_service_engine_get(a->svc), here_one, &h);
	if (!h.oom) {
		size_t removed = 0;
		char err[512] = "";
		if (ah_acg_retain(e->acg, h.ids, h.n, &removed, err, sizeof err) < 0)
			ah_log(AH_LOG_WARN, "msg=enforce_sweep_failed detail=\"%s\"", err);
		else if (removed)
			ah_log(AH_LOG_INFO, "msg=enforce_moved_away n=%zu", removed);
	}
	free(h.ids);
}

void api_enf_tick(ah_api *a, int64_t mono_ns, int64_t wall_ns)
{
	if (!a)
		return;
	const ah_policy *P = ah_service_policy_get(a->svc);
	if (!P || P->linux_host.enforce_api == AH_ENFORCE_API_OFF) {
		if (a->enf) {
			a->enf->next_ns = INT64_MAX;
			a->enf->reconciled = false; /* on again: what ended meanwhile is swept */
		}
		return;
	}
	if (a->enf && mono_ns < a->enf->next_ns && a->enf->acg)
		return;
	api_enforce *e = ensure(a);
	if (!e) {
		if (a->enf)
			a->enf->next_ns = mono_ns + P->linux_host.interval_ns;
		return;
	}
	int64_t every = P->linux_host.interval_ns > 100 * NS_PER_MS ? P->linux_host.interval_ns : 100 * NS_PER_MS;
	e->next_ns = mono_ns + every;
	if (ah_service_in_batch(a->svc))
		return;
	if (P->linux_host.enforce == AH_ENFORCE_OFF) {
		/* the global stop switch: no write, no check; on_stop = restore
		 * puts back what the cgroups had before ahead (no limit) once */
		if (!e->stopped) {
			e->stopped = true;
			char err[512] = "";
			if (P->linux_host.on_stop == AH_ON_STOP_RESTORE && ah_acg_unlimit_all(e->acg, err, sizeof err) < 0) {
				snprintf(e->error, sizeof e->error, "restore: %.280s", err);
				ah_log(AH_LOG_WARN, "msg=enforce_restore_failed detail=\"%s\"", err);
			}
			ah_log(AH_LOG_INFO, "msg=enforce_stopped on_stop=%s",
			       P->linux_host.on_stop == AH_ON_STOP_RESTORE ? "restore" : "leave");
		}
		e->reconciled = false; /* when it ends: every live allocation set again */
	} else if (!e->reconciled) {
		if (e->stopped)
			ah_log(AH_LOG_INFO, "msg=enforce_resumed");
		e->stopped = false;
		reconcile(a, e);
	} else {
		/* the daemon's switch gives the check's mode (a class's dry-run
		 * holds for its own sets, which write nothing to restore) */
		bool dry = P->linux_host.enforce_api == AH_ENFORCE_API_DRY_RUN || P->linux_host.enforce == AH_ENFORCE_DRY_RUN;
		ah_acg_opts o;
		opts_for(P, dry ? 2 : 1, &o);
		char err[512] = "";
		ah_acg_events ev = {.drift = on_drift, .soft_over = on_soft_over, .ctx = e};
		if (a->node_name[0])
			placed_here(a, e);
		if (ah_acg_check(e->acg, &o, &ev, err, sizeof err) < 0) {
			snprintf(e->error, sizeof e->error, "check: %.280s", err);
			ah_log(AH_LOG_WARN, "msg=enforce_check_failed detail=\"%s\"", err);
		}
		sample_and_report(a, e, P, mono_ns, wall_ns);
		ah_acg_stats as;
		ah_acg_stats_get(e->acg, &as);
		api_usage_stats us;
		api_usage_stats_get(e->usage, &us);
		/* the node's record (placement): failed writes, OOM kills */
		ah_service_set_node_record(a->svc, as.write_errors, us.oom_kills);
	}
	for (size_t i = 0; i < e->n_ev; i++) {
		int rc = ah_service_run_event(a->svc, e->ev[i].id, e->ev[i].reason, e->ev[i].detail,
					      e->ev[i].data[0] ? e->ev[i].data : NULL, NULL, wall_ns);
		if (rc < 0)
			ah_log(AH_LOG_WARN, "msg=enforce_event_failed err=\"%s\"", ah_strerror(rc));
	}
	e->n_ev = 0;
}

int64_t api_enf_next_ns(const ah_api *a)
{
	if (!a || !a->enf)
		return INT64_MAX;
	const ah_policy *P = ah_service_policy_get(a->svc);
	if (!P || P->linux_host.enforce_api == AH_ENFORCE_API_OFF)
		return INT64_MAX;
	return a->enf->next_ns;
}

static json_t *json_limits(const ah_acg_limits *l)
{
	json_t *o = json_object();
	uint64_t v[4] = {l->cpu_millicores, l->mem_high_bytes, l->mem_max_bytes, l->n_dev ? l->io_bps : 0};
	const char *k[4] = {"cpu_millicores", "memory_high_bytes", "memory_max_bytes", "io_bps"};
	for (int i = 0; i < 4; i++)
		json_object_set_new(o, k[i],
				    v[i] == 0 ? json_null()
				    : v[i] == UINT64_MAX ? json_string("max")
							    : json_integer((json_int_t)(v[i] > INT64_MAX ? INT64_MAX : v[i])));
	json_t *d = json_array();
	for (size_t i = 0; l->io_bps && i < l->n_dev; i++) {
		char mm[32];
		snprintf(mm, sizeof mm, "%" PRIu32 ":%" PRIu32, l->dev[i].major, l->dev[i].minor);
		json_array_append_new(d, json_string(mm));
	}
	json_object_set_new(o, "io_devices", d);
	return o;
}

json_t *api_enf_json(ah_api *a, uint64_t id, const char *klass, const ah_vec *res)
{
	if (!a || !id)
		return NULL;
	const ah_policy *P = ah_service_policy_get(a->svc);
	int mode = P ? mode_for(P, klass) : 0;
	api_enforce *e = mode ? ensure(a) : NULL;
	if (!e)
		return NULL;
	char paths[1 + AH_CG_V1_N][AH_SYSPATH_MAX];
	size_t n = 0;
	if (ah_acg_paths(e->acg, id, paths, 1 + AH_CG_V1_N, &n) < 0 || n == 0)
		return NULL;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(paths[i]));
	ah_acg_limits want, applied;
	limits_for(P, res, &want);
	bool held = ah_acg_get(e->acg, id, NULL, &applied);
	return json_pack("{s:s,s:o,s:o,s:o}", "mode", mode == 2 ? "dry-run" : "on", "paths", arr, "desired",
			 json_limits(&want), "applied", held && mode == 1 ? json_limits(&applied) : json_null());
}

void api_enf_stats_get(const ah_api *a, api_enf_stats *out)
{
	memset(out, 0, sizeof *out);
	out->mode = "off";
	if (!a)
		return;
	const ah_policy *P = ah_service_policy_get(a->svc);
	if (P && P->linux_host.enforce_api != AH_ENFORCE_API_OFF && P->linux_host.enforce != AH_ENFORCE_OFF)
		out->mode = P->linux_host.enforce_api == AH_ENFORCE_API_DRY_RUN || P->linux_host.enforce == AH_ENFORCE_DRY_RUN
				    ? "dry-run"
				    : "on";
	char pb[AH_LINUX_PARENT_MAX];
	if (P)
		snprintf(out->parent, sizeof out->parent, "%s", parent_of(a, &P->linux_host, pb, sizeof pb));
	if (!a->enf)
		return;
	ah_acg_stats_get(a->enf->acg, &out->st);
	api_usage_stats_get(a->enf->usage, &out->us);
	snprintf(out->error, sizeof out->error, "%s", a->enf->error[0] ? a->enf->error : out->st.last_error);
}

void api_enf_free(api_enforce *e)
{
	if (!e)
		return;
	ah_acg_free(e->acg);
	api_usage_free(e->usage);
	free(e);
}
