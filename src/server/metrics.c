/* GET /metrics and the counters behind it (metrics.h). Names follow
 * Prometheus's advice: the ahead_ prefix, counters end in _total, times in
 * seconds; a resource is one metric with a dim label and the value in that
 * dimension's base unit (cpu millicores, memory bytes, a custom dimension
 * its own unit), as every JSON answer of the API gives it. Labels are
 * bounded: pool (at most AH_MAX_POOLS), dim (AH_MAX_DIMS), route
 * templates, outcomes and reasons -- never allocation ids, tenants or
 * workloads. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ahead/error.h"
#include "server/api_int.h"
#include "server/enforce_api.h"
#include "server/observe.h"
#include "server/metrics.h"

#ifndef AHEAD_VERSION
#define AHEAD_VERSION "unknown"
#endif

/* upper bounds; +Inf is implied */
static const double LATENCY_S[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
static const double QUEUE_WAIT_S[] = {0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600};
static const double BATCH_WRITES[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
static const double COMMIT_S[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1};
#define NB(a) ((int)(sizeof a / sizeof a[0]))

static void observe(api_hist *h, const double *bounds, int nb, double v)
{
	int i = 0;
	while (i < nb && v > bounds[i])
		i++;
	h->counts[i]++; /* i == nb: above every bound (+Inf only) */
	h->count++;
	h->sum += v;
}

api_metrics *api_metrics_new(int64_t now_ns)
{
	api_metrics *m = calloc(1, sizeof *m);
	if (m)
		m->start_wall_ns = now_ns;
	return m;
}

void api_metrics_free(api_metrics *m)
{
	if (!m)
		return;
	api_idmap_fini(&m->queued_at);
	free(m);
}

void api_metrics_queued(api_metrics *m, uint64_t id, int64_t arrived_ns)
{
	ah_vec *v = api_idmap_put(&m->queued_at, id);
	if (v)
		v->v[0] = arrived_ns;
}

static void queue_end(api_metrics *m, uint64_t id, int64_t t_ns, int which)
{
	const ah_vec *v = api_idmap_get(&m->queued_at, id);
	if (!v)
		return;
	double s = (double)(t_ns - v->v[0]) / 1e9;
	observe(&m->queue_wait[which], QUEUE_WAIT_S, NB(QUEUE_WAIT_S), s < 0 ? 0 : s);
	api_idmap_drop(&m->queued_at, id);
}

void api_metrics_on_change(api_metrics *m, const ah_engine_change *ch)
{
	if (ch->kind < AH_CHANGE__COUNT)
		m->changes[ch->kind]++;
	switch (ch->kind) {
	case AH_CHANGE_QUEUE:
		api_metrics_queued(m, ch->id, ch->t_ns);
		break;
	case AH_CHANGE_DEQUEUE:
		queue_end(m, ch->id, ch->t_ns, API_QW_GRANTED);
		break;
	case AH_CHANGE_TIMEOUT:
		queue_end(m, ch->id, ch->t_ns, API_QW_TIMEOUT);
		break;
	case AH_CHANGE_CANCEL:
		queue_end(m, ch->id, ch->t_ns, API_QW_CANCELLED);
		break;
	case AH_CHANGE_RESIZE: {
		if (!ch->pool)
			break;
		int i = 0;
		while (i < m->n_resize_pools && strcmp(m->resize_pool[i], ch->pool))
			i++;
		if (i == m->n_resize_pools) {
			if (i == AH_MAX_POOLS || strlen(ch->pool) >= AH_NAME_MAX)
				break;
			strcpy(m->resize_pool[i], ch->pool);
			m->n_resize_pools++;
		}
		m->resizes[i]++;
		break;
	}
	default:
		break;
	}
}

void api_metrics_decision(api_metrics *m, ah_outcome o, ah_reason r)
{
	if ((unsigned)o < 3 && (unsigned)r < AH_R__COUNT)
		m->pending[o][r]++;
}

void api_metrics_batch(api_metrics *m, int ok, size_t writes, int64_t commit_ns)
{
	if (ok) {
		for (int o = 0; o < 3; o++)
			for (int r = 0; r < AH_R__COUNT; r++)
				m->decisions[o][r] += m->pending[o][r];
	} else {
		m->commit_failures++;
	}
	memset(m->pending, 0, sizeof m->pending);
	if (writes) {
		observe(&m->batch_writes, BATCH_WRITES, NB(BATCH_WRITES), (double)writes);
		observe(&m->commit_seconds, COMMIT_S, NB(COMMIT_S), (double)commit_ns / 1e9);
	}
}

void api_metrics_request(api_metrics *m, int route, int status, int64_t elapsed_ns)
{
	int r = route < 0 || route >= API_MET_MAX_ROUTES ? API_MET_MAX_ROUTES : route;
	int cls = status / 100 - 1;
	if (cls < 0 || cls >= API_MET_STATUS_CLASSES)
		cls = API_MET_STATUS_CLASSES - 1;
	observe(&m->request[r][cls], LATENCY_S, NB(LATENCY_S), (double)elapsed_ns / 1e9);
}

/* ---- the exposition ---- */

typedef struct {
	char *s;
	size_t n, cap;
	bool oom;
} buf;

static void put(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(buf *b, const char *fmt, ...)
{
	if (b->oom)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int k = vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
		va_end(ap);
		if (k < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)k < b->cap - b->n) {
			b->n += (size_t)k;
			return;
		}
		size_t cap = (b->cap + (size_t)k + 1) * 2;
		char *s = realloc(b->s, cap);
		if (!s) {
			b->oom = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
}

/* A label value: names are of a restricted grammar already, but the
 * format's escapes cost nothing. */
static const char *lv(const char *s, char *out, size_t len)
{
	size_t j = 0;
	for (; *s && j + 3 < len; s++) {
		if (*s == '\\' || *s == '"') {
			out[j++] = '\\';
			out[j++] = *s;
		} else if (*s == '\n') {
			out[j++] = '\\';
			out[j++] = 'n';
		} else {
			out[j++] = *s;
		}
	}
	out[j] = '\0';
	return out;
}

static void head(buf *b, const char *name, const char *type, const char *help)
{
	put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* labels: "" or 'k="v",k2="v2"' (without braces) */
static void hist(buf *b, const char *name, const char *labels, const api_hist *h, const double *bounds, int nb)
{
	uint64_t cum = 0;
	const char *sep = labels[0] ? "," : "";
	for (int i = 0; i < nb; i++) {
		cum += h->counts[i];
		put(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, bounds[i], (unsigned long long)cum);
	}
	put(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, (unsigned long long)h->count);
	if (labels[0]) {
		put(b, "%s_sum{%s} %.9g\n", name, labels, h->sum);
		put(b, "%s_count{%s} %llu\n", name, labels, (unsigned long long)h->count);
	} else {
		put(b, "%s_sum %.9g\n", name, h->sum);
		put(b, "%s_count %llu\n", name, (unsigned long long)h->count);
	}
}

static const char *const OUTCOMES[3] = {"granted", "queued", "refused"};
static const char *const QW[API_QW__COUNT] = {"granted", "timeout", "cancelled"};

typedef enum { V_CAPACITY, V_ALLOCATED, V_USED, V_QUEUED } pool_vec;

static void pool_vecs(buf *b, ah_api *a, const char *name, const char *help, pool_vec which, const ah_vec *used)
{
	const ah_engine *e = ah_service_engine_get(a->svc);
	const ah_policy *pol = ah_service_policy_get(a->svc);
	head(b, name, "gauge", help);
	for (int i = 0; i < ah_engine_pool_count(e); i++) {
		ah_engine_pool_info pi;
		if (ah_engine_pool_get(e, i, &pi) < 0)
			continue;
		const ah_vec *v = which == V_CAPACITY ? pi.capacity
				  : which == V_ALLOCATED ? pi.used
				  : which == V_USED ? &used[i]
						    : &pi.queued;
		char p[2 * AH_NAME_MAX], d[2 * AH_NAME_MAX];
		/* the dimensions GET /v1/pools shows: those the pool has or holds */
		for (int k = 0; k < pol->dims.n; k++)
			if (pi.capacity->v[k] || pi.used->v[k])
				put(b, "%s{pool=\"%s\",dim=\"%s\"} %lld\n", name, lv(pi.name, p, sizeof p),
			    lv(pol->dims.name[k], d, sizeof d), (long long)v->v[k]);
	}
}

/* Pools on nodes: each node the engine knows (capacity, what is placed on
 * it, its state) and each node pool's fragmentation. Absent off a fleet. */
static void nodes(buf *b, ah_api *a, const char *units)
{
	const ah_engine *e = ah_service_engine_get(a->svc);
	const ah_policy *pol = ah_service_policy_get(a->svc);
	int nn = ah_engine_node_count(e);
	if (!nn)
		return;
	char n[2 * AH_NAME_MAX], d[2 * AH_NAME_MAX], help[512];
	static const char *const VEC[2] = {"ahead_node_capacity", "ahead_node_allocated"};
	static const char *const VEC_HELP[2] = {"What the node offers", "Reserved by the allocations placed on the node"};
	for (int w = 0; w < 2; w++) {
		snprintf(help, sizeof help, "%s, %s.", VEC_HELP[w], units);
		head(b, VEC[w], "gauge", help);
		for (int i = 0; i < nn; i++) {
			ah_engine_node_info ni;
			if (ah_engine_node_get(e, i, &ni) < 0 || !ni.known)
				continue;
			for (int k = 0; k < pol->dims.n; k++)
				if (ni.capacity->v[k] || ni.used->v[k])
					put(b, "%s{node=\"%s\",dim=\"%s\"} %lld\n", VEC[w], lv(ni.name, n, sizeof n),
					    lv(pol->dims.name[k], d, sizeof d),
					    (long long)(w ? ni.used->v[k] : ni.capacity->v[k]));
		}
	}
	head(b, "ahead_node_allocations", "gauge", "Live allocations placed on the node.");
	for (int i = 0; i < nn; i++) {
		ah_engine_node_info ni;
		if (ah_engine_node_get(e, i, &ni) == 0)
			put(b, "ahead_node_allocations{node=\"%s\"} %d\n", lv(ni.name, n, sizeof n), ni.n_allocs);
	}
	head(b, "ahead_node_up", "gauge", "1 while the node's daemon renews its etcd lease.");
	for (int i = 0; i < nn; i++) {
		ah_engine_node_info ni;
		if (ah_engine_node_get(e, i, &ni) == 0)
			put(b, "ahead_node_up{node=\"%s\"} %d\n", lv(ni.name, n, sizeof n), ni.known && ni.up);
	}
	head(b, "ahead_node_cordoned", "gauge", "1 while the node takes nothing new (cordoned or draining).");
	for (int i = 0; i < nn; i++) {
		ah_engine_node_info ni;
		if (ah_engine_node_get(e, i, &ni) == 0)
			put(b, "ahead_node_cordoned{node=\"%s\"} %d\n", lv(ni.name, n, sizeof n),
			    ni.cordoned || ni.draining);
	}
	static const char *const FR[2] = {"ahead_pool_stranded_ratio", "ahead_pool_small_free_ratio"};
	static const char *const FR_HELP[2] = {
		"Share of the pool's node capacity that is free on nodes where no queued request fits (0: nothing waits)",
		"Share of the pool's node capacity that is free in pieces smaller than the pool's median allocation"};
	for (int w = 0; w < 2; w++) {
		head(b, FR[w], "gauge", FR_HELP[w]);
		for (int p = 0; p < pol->n_pools; p++) {
			ah_place_frag f;
			if (!pol->pools[p].nodes[0] || ah_engine_pool_fragmentation(e, p, &f) < 0)
				continue;
			for (int k = 0; k < pol->dims.n; k++)
				put(b, "%s{pool=\"%s\",dim=\"%s\"} %.4f\n", FR[w], lv(pol->pools[p].name, n, sizeof n),
				    lv(pol->dims.name[k], d, sizeof d), (w ? f.small_pct[k] : f.stranded_pct[k]) / 100);
		}
	}
}

static void render(ah_api *a, buf *b, int64_t now_ns)
{
	api_metrics *m = a->met;
	const ah_engine *e = ah_service_engine_get(a->svc);
	const ah_policy *pol = ah_service_policy_get(a->svc);
	char p[2 * AH_NAME_MAX], d[2 * AH_NAME_MAX], lab[512];
	ah_vec used[AH_MAX_POOLS];
	api_tel_used(&a->tel, e, used);
	const char *units = "in the dimension's base unit (cpu: millicores, memory: bytes, a custom dimension: its unit)";
	char help[512];

	snprintf(help, sizeof help, "Capacity of the pool, %s.", units);
	pool_vecs(b, a, "ahead_pool_capacity", help, V_CAPACITY, used);
	snprintf(help, sizeof help, "Reserved by the pool's live allocations (what the engine holds), %s.", units);
	pool_vecs(b, a, "ahead_pool_allocated", help, V_ALLOCATED, used);
	snprintf(help, sizeof help,
		 "Sum of the newest reported usage of the pool's live allocations (POST /v1/allocations/{id}/usage), %s.",
		 units);
	pool_vecs(b, a, "ahead_pool_used", help, V_USED, used);
	snprintf(help, sizeof help, "Demand of the pool's queued requests, %s.", units);
	pool_vecs(b, a, "ahead_pool_queued", help, V_QUEUED, used);

	static const char *const PRED[3] = {"ahead_pool_predicted_allocated", "ahead_pool_predicted_allocated_lower",
					     "ahead_pool_predicted_allocated_upper"};
	static const char *const PRED_HELP[3] = {
		"Forecast of the pool's allocated demand one sample interval ahead (the forecast's next point)",
		"Lower bound of the 80% band of that forecast", "Upper bound of the 80% band of that forecast"};
	for (int w = 0; w < 3; w++) {
		snprintf(help, sizeof help, "%s, %s; absent until the pool has %d samples.", PRED_HELP[w], units,
			 API_TEL_MIN_SAMPLES);
		head(b, PRED[w], "gauge", help);
		for (int i = 0; i < a->tel.n_pools; i++) {
			const api_tel_pool *tp = a->tel.pools[i];
			if (!tp->present || !tp->have_fc)
				continue;
			for (int k = 0; k < a->tel.ndims && k < pol->dims.n; k++) {
				if (tp->zero[k])
					continue;
				double v = w == 0 ? tp->point[k][0] : w == 1 ? tp->lower[k][0] : tp->upper[k][0];
				put(b, "%s{pool=\"%s\",dim=\"%s\"} %.0f\n", PRED[w], lv(tp->name, p, sizeof p),
				    lv(pol->dims.name[k], d, sizeof d), v);
			}
		}
	}

	head(b, "ahead_pool_allocations", "gauge", "Live (granted) allocations of the pool.");
	for (int i = 0; i < ah_engine_pool_count(e); i++) {
		ah_engine_pool_info pi;
		if (ah_engine_pool_get(e, i, &pi) == 0)
			put(b, "ahead_pool_allocations{pool=\"%s\"} %d\n", lv(pi.name, p, sizeof p), pi.n_allocs);
	}
	head(b, "ahead_pool_queue_depth", "gauge", "Requests waiting in the pool's queue.");
	for (int i = 0; i < ah_engine_pool_count(e); i++) {
		ah_engine_pool_info pi;
		if (ah_engine_pool_get(e, i, &pi) == 0)
			put(b, "ahead_pool_queue_depth{pool=\"%s\"} %d\n", lv(pi.name, p, sizeof p), pi.n_queued);
	}

	nodes(b, a, units);

	head(b, "ahead_queue_wait_seconds", "histogram",
	     "Time a queued request waited, from queueing to its grant, timeout or cancel (outcome label).");
	for (int w = 0; w < API_QW__COUNT; w++) {
		snprintf(lab, sizeof lab, "outcome=\"%s\"", QW[w]);
		hist(b, "ahead_queue_wait_seconds", lab, &m->queue_wait[w], QUEUE_WAIT_S, NB(QUEUE_WAIT_S));
	}

	head(b, "ahead_decisions_total", "counter",
	     "Allocation requests decided (POST /v1/allocations, committed), by outcome and reason (\"none\" unless refused).");
	for (int o = 0; o < 3; o++)
		for (int r = 0; r < AH_R__COUNT; r++) {
			if ((o != AH_REFUSED) != (r == AH_R_NONE))
				continue;
			put(b, "ahead_decisions_total{outcome=\"%s\",reason=\"%s\"} %llu\n", OUTCOMES[o],
			    r == AH_R_NONE ? "none" : ah_reason_code((ah_reason)r), (unsigned long long)m->decisions[o][r]);
		}

	head(b, "ahead_engine_changes_total", "counter",
	     "Changes of state the engine committed, by kind (grant, dequeue, resize, preempt, expire, release, cancel, queue, timeout, capacity).");
	for (int k = 0; k < AH_CHANGE__COUNT; k++)
		put(b, "ahead_engine_changes_total{kind=\"%s\"} %llu\n", ah_change_kind_name((ah_change_kind)k),
		    (unsigned long long)m->changes[k]);

	head(b, "ahead_resizes_total", "counter", "Running allocations resized (grown or shrunk), by pool.");
	for (int i = 0; i < ah_engine_pool_count(e); i++) {
		ah_engine_pool_info pi;
		if (ah_engine_pool_get(e, i, &pi) < 0)
			continue;
		uint64_t n = 0;
		for (int j = 0; j < m->n_resize_pools; j++)
			if (!strcmp(m->resize_pool[j], pi.name))
				n = m->resizes[j];
		put(b, "ahead_resizes_total{pool=\"%s\"} %llu\n", lv(pi.name, p, sizeof p), (unsigned long long)n);
	}

	static const char *const FC[3][2] = {
		{"ahead_forecast_abs_error", "summary"},
		{"ahead_forecast_interval_checks_total", "counter"},
		{"ahead_forecast_interval_hits_total", "counter"}};
	static const char *const FC_HELP[3] = {
		"Absolute error of each pool forecast's next point against the sample that came, in the dimension's base unit.",
		"Pool forecast points whose time came and were checked against the sample.",
		"Of those, the samples inside the forecast's 80% band (coverage = hits / checks; 0.8 when calibrated)."};
	for (int w = 0; w < 3; w++) {
		head(b, FC[w][0], FC[w][1], FC_HELP[w]);
		for (int i = 0; i < a->tel.n_pools; i++) {
			const api_tel_pool *tp = a->tel.pools[i];
			if (!tp->present)
				continue;
			for (int k = 0; k < a->tel.ndims && k < pol->dims.n; k++) {
				if (!tp->fitted || tp->zero[k])
					continue;
				snprintf(lab, sizeof lab, "pool=\"%s\",dim=\"%s\"", lv(tp->name, p, sizeof p),
					 lv(pol->dims.name[k], d, sizeof d));
				if (w == 0) {
					put(b, "%s_sum{%s} %.9g\n", FC[w][0], lab, tp->abs_error_sum[k]);
					put(b, "%s_count{%s} %llu\n", FC[w][0], lab, (unsigned long long)tp->checks[k]);
				} else {
					put(b, "%s{%s} %llu\n", FC[w][0], lab,
					    (unsigned long long)(w == 1 ? tp->checks[k] : tp->hits[k]));
				}
			}
		}
	}

	head(b, "ahead_anomalies_total", "counter",
	     "Usage anomalies the daemon flagged (0: the daemon does not detect anomalies yet; `ahead anomalies --store` does, offline, and GET /v1/anomalies lists them).");
	put(b, "ahead_anomalies_total %llu\n", (unsigned long long)m->anomalies);

	head(b, "ahead_http_request_duration_seconds", "histogram",
	     "API requests from the request's start to its answer queued, by route template, method and status class.");
	for (int r = 0; r <= API_MET_MAX_ROUTES; r++)
		for (int s = 0; s < API_MET_STATUS_CLASSES; s++) {
			const api_hist *h = &m->request[r][s];
			if (!h->count)
				continue;
			const char *meth = "other", *path = "unmatched";
			if (r < API_MET_MAX_ROUTES)
				api_route_at(r, &meth, &path);
			snprintf(lab, sizeof lab, "route=\"%s\",method=\"%s\",status=\"%dxx\"", path, meth, s + 1);
			hist(b, "ahead_http_request_duration_seconds", lab, h, LATENCY_S, NB(LATENCY_S));
		}

	head(b, "ahead_commit_batch_writes", "histogram", "Writes answered per ledger commit (group commit).");
	hist(b, "ahead_commit_batch_writes", "", &m->batch_writes, BATCH_WRITES, NB(BATCH_WRITES));
	head(b, "ahead_commit_duration_seconds", "histogram", "Time of one batch's ledger commit.");
	hist(b, "ahead_commit_duration_seconds", "", &m->commit_seconds, COMMIT_S, NB(COMMIT_S));
	head(b, "ahead_ledger_commit_failures_total", "counter",
	     "Batches whose ledger commit failed (their writes were answered 503, nothing of them happened).");
	put(b, "ahead_ledger_commit_failures_total %llu\n", (unsigned long long)m->commit_failures);
	head(b, "ahead_tick_failures_total", "counter", "Periodic engine ticks (lease expiry, queue timeouts) that failed.");
	put(b, "ahead_tick_failures_total %llu\n", (unsigned long long)m->tick_failures);

	ah_observer_stats os;
	ah_observer_stats_get(a->observer, &os);
	head(b, "ahead_observe_cgroups", "gauge", "Cgroups observe mode samples now (the policy's [linux] section).");
	put(b, "ahead_observe_cgroups %zu\n", os.cgroups);
	head(b, "ahead_observe_rounds_total", "counter", "Sample rounds observe mode took.");
	put(b, "ahead_observe_rounds_total %zu\n", os.samples);
	head(b, "ahead_observe_records_total", "counter", "Values observe mode wrote to the usage history.");
	put(b, "ahead_observe_records_total %zu\n", os.records);
	head(b, "ahead_observe_errors_total", "counter", "Sample rounds that failed to read the mounts or write the history.");
	put(b, "ahead_observe_errors_total %zu\n", os.errors);
	head(b, "ahead_observe_round_seconds", "gauge", "How long the last sample round took.");
	put(b, "ahead_observe_round_seconds %.6f\n", os.last_sample_s);
	api_enf_stats es;
	api_enf_stats_get(a, &es);
	head(b, "ahead_enforce_mode", "gauge", "The daemon's enforcement of its allocations ([linux] enforce_api): 1 for the mode in force.");
	static const char *const modes[] = {"off", "on", "dry-run"};
	for (int i = 0; i < 3; i++)
		put(b, "ahead_enforce_mode{mode=\"%s\"} %d\n", modes[i], !strcmp(es.mode, modes[i]));
	head(b, "ahead_enforce_cgroups", "gauge", "Allocations whose cgroup the daemon holds and enforces now.");
	put(b, "ahead_enforce_cgroups %zu\n", es.st.held);
	head(b, "ahead_enforce_cgroups_pending_removal", "gauge", "Cgroups of ended allocations still holding tasks (removal retried each interval).");
	put(b, "ahead_enforce_cgroups_pending_removal %zu\n", es.st.pending_removal);
	head(b, "ahead_enforce_cgroups_created_total", "counter", "Allocation cgroups made.");
	put(b, "ahead_enforce_cgroups_created_total %llu\n", (unsigned long long)es.st.created);
	head(b, "ahead_enforce_cgroups_removed_total", "counter", "Allocation cgroups removed when their allocation ended.");
	put(b, "ahead_enforce_cgroups_removed_total %llu\n", (unsigned long long)es.st.removed);
	head(b, "ahead_enforce_orphans_removed_total", "counter", "Cgroups of allocations that no longer exist, removed by the reconcile at start.");
	put(b, "ahead_enforce_orphans_removed_total %llu\n", (unsigned long long)es.st.orphans_removed);
	head(b, "ahead_enforce_limit_writes_total", "counter", "Cgroup limit files written.");
	put(b, "ahead_enforce_limit_writes_total %llu\n", (unsigned long long)es.st.writes);
	head(b, "ahead_enforce_write_errors_total", "counter", "Limit sets, checks and removals that failed.");
	put(b, "ahead_enforce_write_errors_total %llu\n", (unsigned long long)es.st.write_errors);
	head(b, "ahead_enforce_dry_run_writes_total", "counter", "Limit writes a dry run planned and did not make.");
	put(b, "ahead_enforce_dry_run_writes_total %llu\n", (unsigned long long)es.st.dry_run_writes);
	head(b, "ahead_enforce_drift_total", "counter", "Limits found changed behind ahead's back, by what was done.");
	put(b, "ahead_enforce_drift_total{action=\"restored\"} %llu\n", (unsigned long long)es.st.drift_restored);
	put(b, "ahead_enforce_drift_total{action=\"adopted\"} %llu\n", (unsigned long long)es.st.drift_adopted);
	head(b, "ahead_enforce_soft_watched", "gauge", "cgroup v1 allocation cgroups with a usage threshold at their soft level (the emulated memory.high).");
	put(b, "ahead_enforce_soft_watched %zu\n", es.st.soft_watched);
	head(b, "ahead_enforce_soft_exceeded_total", "counter", "Times a cgroup v1 allocation's usage was found above its soft level after a threshold event.");
	put(b, "ahead_enforce_soft_exceeded_total %llu\n", (unsigned long long)es.st.soft_over);
	head(b, "ahead_enforce_usage_samples_total", "counter", "Samples of the daemon's allocation cgroups ([linux] sample_allocations).");
	put(b, "ahead_enforce_usage_samples_total %llu\n", (unsigned long long)es.us.samples);
	head(b, "ahead_enforce_usage_reports_total", "counter", "Usage windows of allocation cgroups reported to the sizer, by result.");
	put(b, "ahead_enforce_usage_reports_total{result=\"ok\"} %llu\n", (unsigned long long)es.us.reports);
	put(b, "ahead_enforce_usage_reports_total{result=\"error\"} %llu\n", (unsigned long long)es.us.report_errors);
	if (a->follow.watching) { /* an etcd ledger: the watch that keeps this view in step */
		const ah_service_follow_out *fo = &a->follow;
		head(b, "ahead_cluster_watch_up", "gauge", "1 while the watch on the shared ledger's head is open.");
		put(b, "ahead_cluster_watch_up %d\n", fo->up ? 1 : 0);
		head(b, "ahead_cluster_view_revision", "gauge", "The etcd revision this instance's view is at.");
		put(b, "ahead_cluster_view_revision %lld\n", fo->view_rev);
		head(b, "ahead_cluster_watch_revision", "gauge", "The newest head revision the watch reported.");
		put(b, "ahead_cluster_watch_revision %lld\n", fo->watch_rev);
		head(b, "ahead_cluster_watch_reloads_total", "counter", "Views loaded again because the watch reported another instance's commit.");
		put(b, "ahead_cluster_watch_reloads_total %llu\n", (unsigned long long)a->follow_reloads);
		head(b, "ahead_cluster_watch_relists_total", "counter", "Full reloads because the watch's history had been compacted.");
		put(b, "ahead_cluster_watch_relists_total %lld\n", fo->relists);
		head(b, "ahead_cluster_watch_reconnects_total", "counter", "Watch streams opened again after the first (dropped, or moved off a stalled member).");
		put(b, "ahead_cluster_watch_reconnects_total %lld\n", fo->reconnects);
		head(b, "ahead_cluster_watch_restarts_total", "counter", "Watch streams moved off a member that stopped sending while the view moved on.");
		put(b, "ahead_cluster_watch_restarts_total %llu\n", (unsigned long long)a->follow_restarts);
		head(b, "ahead_cluster_watch_lag_seconds", "gauge", "The last catch-up: from the watch's report to the reloaded view.");
		put(b, "ahead_cluster_watch_lag_seconds %.6f\n", (double)a->follow_lag_ns / 1e9);
	}
	head(b, "ahead_telemetry_sample_interval_seconds", "gauge", "The daemon's --sample-every.");
	put(b, "ahead_telemetry_sample_interval_seconds %g\n", (double)a->tel.interval_ns / 1e9);
	head(b, "ahead_build_info", "gauge", "The daemon's version (always 1).");
	put(b, "ahead_build_info{version=\"%s\"} 1\n", AHEAD_VERSION);
	head(b, "process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch in seconds.");
	put(b, "process_start_time_seconds %.3f\n", (double)m->start_wall_ns / 1e9);
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		head(b, "process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.");
		put(b, "process_cpu_seconds_total %.6f\n", (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
								   (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	}
	FILE *f = fopen("/proc/self/statm", "r");
	long pages_total, pages_rss;
	if (f && fscanf(f, "%ld %ld", &pages_total, &pages_rss) == 2) {
		head(b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
		put(b, "process_resident_memory_bytes %lld\n", (long long)pages_rss * sysconf(_SC_PAGESIZE));
	}
	if (f)
		fclose(f);
	(void)now_ns;
}

void api_metrics_route(api_call *c)
{
	buf b = {0};
	render(c->a, &b, c->now_ns);
	if (b.oom || !b.s) {
		free(b.s);
		api_error_rc(c, AH_ENOMEM, "metrics");
		return;
	}
	c->out->status = 200;
	c->out->body = b.s;
	c->out->body_len = b.n;
	c->out->content_type = "text/plain; version=0.0.4; charset=utf-8";
	snprintf(c->out->outcome, sizeof c->out->outcome, "metrics");
}

static int seed_one(void *ctx, const ah_engine_item *it)
{
	if (it->queued)
		api_metrics_queued(ctx, it->id, it->created_ns);
	return 0;
}

void api_metrics_seed(ah_api *a)
{
	(void)ah_engine_foreach(ah_service_engine_get(a->svc), seed_one, a->met);
}

void ah_api_observe_request(ah_api *a, const ah_api_request *rq, int status, int64_t elapsed_ns)
{
	if (a && rq)
		api_metrics_request(a->met, api_route_index(rq->method, rq->path), status, elapsed_ns);
}
