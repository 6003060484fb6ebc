/* The usage of the daemon's allocation cgroups (enforce_usage.h). */
#include "server/enforce_usage.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/collector.h"
#include "ahead/error.h"

typedef struct {
	uint64_t id;
	double cpu_sum, io_sum;
	uint32_t cpu_n, io_n;
	uint64_t mem_max;
	bool mem_ok;
	uint64_t oom_kills;     /* the cgroup's oom_kill count when last sampled */
	bool oom_seen;
} window;

struct api_usage {
	ah_cgroup_roots roots;
	char parent[AH_LINUX_PARENT_MAX];
	ah_collector *col;
	ah_sample_batch batch; /* the collector's records: not kept (the report carries the window) */
	window *w;
	size_t n, cap;
	size_t next_take;      /* where the last take stopped, so a capped take is fair */
	api_usage_stats st;
};

int api_usage_new(const ah_cgroup_roots *roots, const char *parent, api_usage **out)
{
	if (!roots || !parent || !out)
		return AH_EINVAL;
	api_usage *u = calloc(1, sizeof *u);
	if (!u)
		return AH_ENOMEM;
	u->roots = *roots;
	snprintf(u->parent, sizeof u->parent, "%s", parent);
	ah_collector_opts o;
	ah_collector_opts_init(&o);
	o.host_workload = NULL; /* the allocations only; the host is observe mode's */
	int rc = ah_collector_new(&u->roots, &o, &u->col);
	if (rc < 0) {
		free(u);
		return rc;
	}
	ah_sample_batch_init(&u->batch);
	*out = u;
	return 0;
}

void api_usage_free(api_usage *u)
{
	if (!u)
		return;
	ah_collector_free(u->col);
	ah_sample_batch_fini(&u->batch);
	free(u->w);
	free(u);
}

static window *find(api_usage *u, uint64_t id)
{
	for (size_t i = 0; i < u->n; i++)
		if (u->w[i].id == id)
			return &u->w[i];
	return NULL;
}

static void name_of(uint64_t id, char *out, size_t len)
{
	snprintf(out, len, "alloc-%" PRIu64, id);
}

int api_usage_track(api_usage *u, uint64_t id)
{
	if (!u || !id)
		return AH_EINVAL;
	if (find(u, id))
		return 0;
	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 16;
		window *p = realloc(u->w, cap * sizeof *p);
		if (!p)
			return AH_ENOMEM;
		u->w = p;
		u->cap = cap;
	}
	char name[32], rel[AH_LINUX_PARENT_MAX + 32];
	name_of(id, name, sizeof name);
	snprintf(rel, sizeof rel, "%s/%s", u->parent, name);
	ah_cgroup_ref ref;
	ah_cgroup_ref_init(&ref, u->roots.v2[0] ? rel : NULL, NULL);
	for (int i = 0; i < AH_CG_V1_N; i++)
		ref.v1[i] = u->roots.v1[i][0] ? rel : NULL;
	int rc = ah_collector_add(u->col, name, &ref);
	if (rc < 0 && rc != AH_EEXIST)
		return rc;
	memset(&u->w[u->n], 0, sizeof u->w[u->n]);
	u->w[u->n++].id = id;
	return 0;
}

void api_usage_untrack(api_usage *u, uint64_t id)
{
	window *w = u ? find(u, id) : NULL;
	if (!w)
		return;
	char name[32];
	name_of(id, name, sizeof name);
	(void)ah_collector_remove(u->col, name);
	*w = u->w[--u->n];
}

int api_usage_sample(api_usage *u, int64_t mono_ns, int64_t wall_ns)
{
	if (!u)
		return AH_EINVAL;
	if (!u->n)
		return 0;
	ah_sample_batch_clear(&u->batch);
	ah_collector_summary sum;
	int rc = ah_collector_sample(u->col, mono_ns, wall_ns, &u->batch, &sum);
	if (rc < 0)
		return rc;
	size_t n = ah_collector_count(u->col);
	for (size_t i = 0; i < n; i++) {
		ah_collector_view v;
		uint64_t id;
		if (ah_collector_view_get(u->col, i, &v) < 0 || !v.workload ||
		    sscanf(v.workload, "alloc-%" SCNu64, &id) != 1)
			continue;
		window *w = find(u, id);
		if (!w || v.state == AH_CG_GONE)
			continue;
		u->st.samples++;
		if (v.cpu_ok) {
			w->cpu_sum += v.cpu_millicores;
			w->cpu_n++;
		}
		if (v.io_ok) {
			w->io_sum += v.io_read_bps + v.io_write_bps;
			w->io_n++;
		}
		if (v.stat.mem_current_bytes.st == AH_FIELD_OK) {
			if (!w->mem_ok || v.stat.mem_current_bytes.v > w->mem_max)
				w->mem_max = v.stat.mem_current_bytes.v;
			w->mem_ok = true;
		}
		/* the kernel's OOM kills in it since it was first seen: the
		 * node's record placement reads (fewer kills, better node) */
		if (v.stat.mem_oom_kill_events.st == AH_FIELD_OK) {
			uint64_t k = v.stat.mem_oom_kill_events.v;
			if (w->oom_seen && k > w->oom_kills)
				u->st.oom_kills += k - w->oom_kills;
			w->oom_kills = k;
			w->oom_seen = true;
		}
	}
	ah_sample_batch_clear(&u->batch);
	return 0;
}

int api_usage_take(api_usage *u, api_usage_row *rows, size_t cap, size_t *n)
{
	if (!u || !n || (cap && !rows))
		return AH_EINVAL;
	size_t k = 0;
	for (size_t j = 0; j < u->n && k < cap; j++) {
		window *w = &u->w[(u->next_take + j) % u->n];
		if (!w->cpu_n && !w->io_n && !w->mem_ok)
			continue;
		api_usage_row *r = &rows[k++];
		memset(r, 0, sizeof *r);
		r->id = w->id;
		r->cpu_ok = w->cpu_n > 0;
		r->cpu_millicores = r->cpu_ok ? w->cpu_sum / w->cpu_n : 0;
		r->io_ok = w->io_n > 0;
		r->io_bps = r->io_ok ? w->io_sum / w->io_n : 0;
		r->mem_ok = w->mem_ok;
		r->mem_bytes = w->mem_max;
		window keep = {.id = w->id, .oom_kills = w->oom_kills, .oom_seen = w->oom_seen}; /* kills count on */
		*w = keep;
	}
	u->next_take = u->n ? (u->next_take + k) % u->n : 0;
	*n = k;
	return 0;
}

size_t api_usage_count(const api_usage *u)
{
	return u ? u->n : 0;
}

void api_usage_stats_get(const api_usage *u, api_usage_stats *out)
{
	if (u)
		*out = u->st;
	else
		memset(out, 0, sizeof *out);
}

void api_usage_count_report(api_usage *u, bool ok)
{
	if (!u)
		return;
	if (ok)
		u->st.reports++;
	else
		u->st.report_errors++;
}
