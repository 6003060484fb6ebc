/* The daemon's observe mode (observe.h). */
#include "server/observe.h"

#include <dirent.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ahead/cgroup.h"
#include "ahead/collector.h"
#include "ahead/error.h"
#include "ahead/history.h"
#include "ahead/limits.h"
#include "ahead/names.h"
#include "ahead/server.h"

#define RESCAN_EVERY 12
#define RESCAN_MAX_NS (INT64_C(60) * 1000000000)
#define WORKLOAD_PREFIX "cg:"

/* The relative paths found under the mounts in one scan. */
typedef struct {
	char **p;
	size_t n, cap;
} path_list;

struct ah_observer {
	ah_linux_policy cfg;   /* the section in effect (cfg.on false: off) */
	ah_cgroup_roots roots;
	ah_collector *col;
	ah_sample_batch batch;
	ah_history *h;
	char db_path[AH_SYSPATH_MAX];
	int64_t next_ns, next_scan_ns, last_mono_ns;
	int rounds;
	ah_observer_stats st;
};

int ah_observer_new(ah_observer **out)
{
	ah_observer *o = calloc(1, sizeof *o);
	if (!o)
		return AH_ENOMEM;
	ah_sample_batch_init(&o->batch);
	o->next_ns = INT64_MAX;
	*out = o;
	return 0;
}

static void stop(ah_observer *o)
{
	ah_collector_free(o->col);
	o->col = NULL;
	ah_history_free(o->h);
	o->h = NULL;
	memset(&o->cfg, 0, sizeof o->cfg);
	o->next_ns = INT64_MAX;
	o->st.on = false;
	o->st.cgroups = 0;
}

void ah_observer_free(ah_observer *o)
{
	if (!o)
		return;
	stop(o);
	ah_sample_batch_fini(&o->batch);
	free(o);
}

/* ---- finding cgroups ---- */

static void paths_free(path_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->p[i]);
	free(l->p);
	memset(l, 0, sizeof *l);
}

static bool paths_has(const path_list *l, const char *rel)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->p[i], rel))
			return true;
	return false;
}

static int paths_add(path_list *l, const char *rel)
{
	if (paths_has(l, rel))
		return 0;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		char **np = realloc(l->p, nc * sizeof *np);
		if (!np)
			return AH_ENOMEM;
		l->p = np;
		l->cap = nc;
	}
	if (!(l->p[l->n] = strdup(rel)))
		return AH_ENOMEM;
	l->n++;
	return 0;
}

/* Every directory below root to AH_LINUX_OBSERVE_DEPTH levels, as paths
 * relative to it; capped so a huge hierarchy cannot stall the loop. */
static int walk(const char *root, const char *rel, int depth, path_list *out)
{
	char dir[AH_SYSPATH_MAX];
	if (snprintf(dir, sizeof dir, "%s%s%s", root, rel[0] ? "/" : "", rel) >= (int)sizeof dir)
		return 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d)) && out->n < 4 * AH_COLLECTOR_CGROUPS_MAX) {
		if (de->d_name[0] == '.')
			continue;
		char sub[AH_SYSPATH_MAX], full[AH_SYSPATH_MAX];
		struct stat sb;
		if (snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name) >= (int)sizeof sub ||
		    snprintf(full, sizeof full, "%s/%s", dir, de->d_name) >= (int)sizeof full)
			continue;
		if (de->d_type != DT_DIR && (de->d_type != DT_UNKNOWN || stat(full, &sb) || !S_ISDIR(sb.st_mode)))
			continue;
		if ((rc = paths_add(out, sub)) == 0 && depth > 1)
			rc = walk(root, sub, depth - 1, out);
	}
	closedir(d);
	return rc;
}

static bool is_dir(const char *root, const char *rel)
{
	char p[AH_SYSPATH_MAX];
	struct stat sb;
	return root[0] && snprintf(p, sizeof p, "%s/%s", root, rel) < (int)sizeof p && stat(p, &sb) == 0 &&
	       S_ISDIR(sb.st_mode);
}

static bool wanted(const ah_linux_policy *c, const char *rel)
{
	for (int i = 0; i < c->n_observe; i++)
		if (fnmatch(c->observe[i], rel, FNM_PATHNAME) == 0)
			return true;
	return false;
}

/* The paths to observe: those the globs match, else every top-level one. */
static int choose(ah_observer *o, path_list *found, path_list *chosen)
{
	int rc = 0;
	if (o->roots.v2[0])
		rc = walk(o->roots.v2, "", AH_LINUX_OBSERVE_DEPTH, found);
	for (int i = 0; rc == 0 && i < AH_CG_V1_N; i++)
		if (o->roots.v1[i][0])
			rc = walk(o->roots.v1[i], "", AH_LINUX_OBSERVE_DEPTH, found);
	for (size_t i = 0; rc == 0 && i < found->n; i++)
		if (wanted(&o->cfg, found->p[i]))
			rc = paths_add(chosen, found->p[i]);
	bool none = chosen->n == 0;
	for (size_t i = 0; rc == 0 && none && i < found->n; i++)
		if (!strchr(found->p[i], '/'))
			rc = paths_add(chosen, found->p[i]);
	return rc;
}

static void workload_of(const char *rel, char *out, size_t len)
{
	snprintf(out, len, WORKLOAD_PREFIX "%s", rel);
}

/* Joins new cgroups, drops the ones gone or no longer chosen. */
static int rescan(ah_observer *o)
{
	path_list found = {0}, chosen = {0};
	int rc = choose(o, &found, &chosen);
	if (rc < 0)
		goto out;
	char name[AH_WORKLOAD_MAX + 8];
	for (size_t i = ah_collector_count(o->col); i-- > 0;) {
		ah_collector_view v;
		if (ah_collector_view_get(o->col, i, &v) || !v.workload ||
		    strncmp(v.workload, WORKLOAD_PREFIX, sizeof WORKLOAD_PREFIX - 1))
			continue;
		const char *rel = v.workload + sizeof WORKLOAD_PREFIX - 1;
		if (v.state == AH_CG_GONE || !paths_has(&chosen, rel)) {
			snprintf(name, sizeof name, "%s", v.workload);
			ah_collector_remove(o->col, name);
		}
	}
	for (size_t i = 0; i < chosen.n && ah_collector_count(o->col) < (size_t)o->cfg.max_cgroups; i++) {
		const char *rel = chosen.p[i];
		workload_of(rel, name, sizeof name);
		if (ah_name_check_workload(name))
			continue; /* a directory name the workload grammar refuses */
		ah_cgroup_ref ref;
		ah_cgroup_ref_init(&ref, is_dir(o->roots.v2, rel) ? rel : NULL, NULL);
		for (int c = 0; c < AH_CG_V1_N; c++)
			ref.v1[c] = is_dir(o->roots.v1[c], rel) ? rel : NULL;
		int arc = ah_collector_add(o->col, name, &ref);
		if (arc < 0 && arc != AH_EEXIST && arc != AH_EINVAL) {
			rc = arc;
			break;
		}
	}
out:
	paths_free(&found);
	paths_free(&chosen);
	return rc;
}

/* ---- sampling ---- */

static int start(ah_observer *o, const ah_linux_policy *cfg, const char *db_path, int64_t mono_ns)
{
	char err[512];
	o->cfg = *cfg;
	snprintf(o->db_path, sizeof o->db_path, "%s", db_path);
	int rc = ah_cgroup_roots_detect(cfg->proc_root, cfg->cgroup_prefix, &o->roots, err, sizeof err);
	if (rc < 0) {
		/* no mountinfo (not Linux, a bare fixture): the host alone */
		ah_log(AH_LOG_WARN, "msg=observe_no_cgroups err=\"%s\"", err);
		ah_cgroup_roots_init(&o->roots);
		snprintf(o->roots.proc, sizeof o->roots.proc, "%s", cfg->proc_root);
	}
	ah_collector_opts co;
	ah_collector_opts_init(&co);
	long hz = sysconf(_SC_CLK_TCK);
	co.user_hz = hz > 0 ? hz : 100;
	co.host_workload = cfg->host ? "host" : NULL;
	if ((rc = ah_collector_new(&o->roots, &co, &o->col)) < 0)
		return rc;
	o->st.on = true;
	o->next_ns = mono_ns;
	o->next_scan_ns = mono_ns;
	o->last_mono_ns = 0;
	ah_log(AH_LOG_INFO, "msg=observe_started interval_ms=%lld globs=%d host=%s v2=\"%s\" memory=\"%s\"",
	       (long long)(cfg->interval_ns / 1000000), cfg->n_observe, cfg->host ? "yes" : "no", o->roots.v2,
	       o->roots.v1[AH_CG_V1_MEMORY]);
	return 0;
}

static int write_batch(ah_observer *o, size_t *records)
{
	char err[512];
	int rc;
	*records = 0;
	if (!o->batch.n)
		return 0;
	if (!o->h && (rc = ah_history_open(o->db_path, NULL, true, &o->h, err, sizeof err)) < 0)
		goto fail;
	if ((rc = ah_sample_batch_sort(&o->batch)) < 0)
		return rc;
	size_t n = 0, pos = 0, cap = 64;
	ah_history_series_in *in = malloc(cap * sizeof *in);
	if (!in)
		return AH_ENOMEM;
	ah_sample_series sr;
	while (ah_sample_batch_next(&o->batch, &pos, &sr)) {
		if (n == cap) {
			ah_history_series_in *ni = realloc(in, (cap *= 2) * sizeof *ni);
			if (!ni) {
				free(in);
				return AH_ENOMEM;
			}
			in = ni;
		}
		in[n++] = (ah_history_series_in){sr.workload, sr.dim, sr.t_ns, sr.value, sr.n};
	}
	ah_history_import_out res;
	rc = ah_history_import_many(o->h, "observe", in, n, &res, err, sizeof err);
	free(in);
	if (rc == 0) {
		*records = res.samples;
		return 0;
	}
fail:
	ah_log(AH_LOG_WARN, "msg=observe_write_failed err=\"%s\"", err);
	ah_history_free(o->h); /* reopened at the next round */
	o->h = NULL;
	return rc;
}

static void round_now(ah_observer *o, int64_t mono_ns, int64_t wall_ns)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (mono_ns >= o->next_scan_ns || ++o->rounds >= RESCAN_EVERY) {
		o->rounds = 0;
		o->next_scan_ns = mono_ns + RESCAN_MAX_NS;
		if (rescan(o) < 0)
			o->st.errors++;
	}
	ah_sample_batch_clear(&o->batch);
	ah_collector_summary sum;
	size_t recs = 0;
	/* the collector needs strictly later times; a coarse clock may repeat */
	int64_t m = mono_ns > o->last_mono_ns ? mono_ns : o->last_mono_ns + 1;
	o->last_mono_ns = m;
	if (ah_collector_sample(o->col, m, wall_ns, &o->batch, &sum) < 0 || write_batch(o, &recs) < 0)
		o->st.errors++;
	o->st.samples++;
	o->st.records += recs;
	o->st.cgroups = ah_collector_count(o->col);
	o->st.last_ns = wall_ns;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	o->st.last_sample_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

void ah_observer_tick(ah_observer *o, const ah_policy *pol, const char *db_path, int64_t mono_ns, int64_t wall_ns)
{
	if (!o || !pol)
		return;
	const ah_linux_policy *cfg = &pol->linux_host;
	if (!cfg->on) {
		if (o->cfg.on)
			stop(o);
		return;
	}
	if (!o->cfg.on || memcmp(cfg, &o->cfg, sizeof *cfg) || strcmp(db_path, o->db_path)) {
		stop(o);
		if (start(o, cfg, db_path, mono_ns) < 0) {
			ah_log(AH_LOG_WARN, "msg=observe_failed");
			stop(o);
			o->cfg = *cfg; /* not retried until the section changes */
			return;
		}
	}
	if (!o->col || mono_ns < o->next_ns)
		return;
	o->next_ns += o->cfg.interval_ns;
	if (o->next_ns <= mono_ns) /* fell behind (a slow loop): no burst of rounds */
		o->next_ns = mono_ns + o->cfg.interval_ns;
	round_now(o, mono_ns, wall_ns);
}

int64_t ah_observer_next_ns(const ah_observer *o)
{
	return o && o->col ? o->next_ns : INT64_MAX;
}

void ah_observer_stats_get(const ah_observer *o, ah_observer_stats *out)
{
	memset(out, 0, sizeof *out);
	if (o)
		*out = o->st;
}
