/* ahead run: the command's cgroup (cli/run_cg.h) — the enforcer and the
 * collector of src/linux for one cgroup, ahead-run-ID, under ahead run's
 * own cgroup in v2 (when mounted: PSI, cgroup.kill) and in each v1
 * controller mounted (cpu, cpuacct, memory, blkio). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ahead/alloc_cgroup.h"
#include "ahead/collector.h"
#include "ahead/enforce.h"
#include "ahead/error.h"
#include "cli/run_cg.h"

struct run_cg {
	ah_cgroup_roots roots;
	ah_proc_cgroups self;
	char rel[1 + AH_CG_V1_N][AH_SYSPATH_MAX + 64];
	ah_cgroup_ref ref;
	bool made;
	ah_enforce_state first; /* what it had when made */
	ah_limits before, applied;
	bool have_applied;
	ah_collector *col;
	ah_sample_batch batch;
};

static void make_ref(run_cg *c, const char *name)
{
	ah_cgroup_ref_init(&c->ref, NULL, NULL);
	if (c->roots.v2[0] && c->self.has_v2) {
		snprintf(c->rel[0], sizeof c->rel[0], "%s%s%s", c->self.v2, c->self.v2[0] ? "/" : "", name);
		c->ref.v2 = c->rel[0];
	}
	for (int i = 0; i < AH_CG_V1_N; i++) {
		if (!c->roots.v1[i][0] || !c->self.has_v1[i])
			continue;
		snprintf(c->rel[1 + i], sizeof c->rel[0], "%s%s%s", c->self.v1[i], c->self.v1[i][0] ? "/" : "", name);
		c->ref.v1[i] = c->rel[1 + i];
	}
}

static bool ref_any(const ah_cgroup_ref *r)
{
	if (r->v2)
		return true;
	for (int i = 0; i < AH_CG_V1_N; i++)
		if (r->v1[i])
			return true;
	return false;
}

bool run_cg_probe(const char *proc_root, const char *prefix, run_cg **out, char *why, size_t len)
{
	run_cg *c = calloc(1, sizeof *c);
	*out = c;
	if (!c) {
		snprintf(why, len, "out of memory");
		return false;
	}
	ah_sample_batch_init(&c->batch);
	char err[1024] = "";
	ah_cgroup_roots_init(&c->roots);
	if (ah_cgroup_roots_detect(proc_root, prefix, &c->roots, err, sizeof err) < 0 ||
	    ah_enforce_proc_cgroups(proc_root, 0, &c->self, err, sizeof err) < 0) {
		snprintf(why, len, "no cgroup mounts found (%s)", err);
		return false;
	}
	char name[64];
	snprintf(name, sizeof name, "ahead-run-probe-%ld", (long)getpid());
	make_ref(c, name);
	if (!ref_any(&c->ref)) {
		snprintf(why, len, "no cgroup hierarchy mounted%s%s", prefix && *prefix ? " under " : "",
			 prefix && *prefix ? prefix : "");
		return false;
	}
	if (ah_enforce_cgroup_create(&c->roots, &c->ref, err, sizeof err) < 0) {
		snprintf(why, len, "cgroups not writable%s: %s", geteuid() ? " (not root)" : "", err);
		return false;
	}
	ah_enforce_cgroup_remove(&c->roots, &c->ref, err, sizeof err);
	return true;
}

void run_cg_name(run_cg *c, const char *name)
{
	make_ref(c, name);
}

void run_cg_paths(const run_cg *c, char *v2, char (*v1)[1024], size_t n_v1, size_t cap)
{
	snprintf(v2, cap, "%s", c->ref.v2 ? c->ref.v2 : "");
	for (size_t i = 0; i < n_v1 && i < AH_CG_V1_N; i++)
		snprintf(v1[i], cap, "%s", c->ref.v1[i] ? c->ref.v1[i] : "");
}

int run_cg_create(run_cg *c, char *err, size_t len)
{
	int rc = ah_enforce_cgroup_create(&c->roots, &c->ref, err, len);
	if (rc < 0)
		return rc;
	c->made = true;
	if ((rc = ah_enforce_read(&c->roots, &c->ref, &c->first, err, len)) < 0)
		return rc;
	ah_enforce_state_limits(&c->first, &c->before);
	ah_collector_opts co;
	ah_collector_opts_init(&co);
	co.host_workload = NULL;
	co.max_open_files = 32;
	if (ah_collector_new(&c->roots, &co, &c->col) == 0 && ah_collector_add(c->col, "run", &c->ref) < 0) {
		ah_collector_free(c->col);
		c->col = NULL;
	}
	return 0;
}

bool run_cg_has_cpu(const run_cg *c)
{
	return c->first.cpu_ver != AH_ENF_NONE;
}

bool run_cg_has_mem(const run_cg *c)
{
	return c->first.mem_ver != AH_ENF_NONE;
}

static void opts_of(const run_apply_opts *o, ah_enforce_opts *e)
{
	ah_enforce_opts_init(e);
	e->dry_run = o && o->dry_run;
	if (o) {
		e->shrink_cap_bytes = o->shrink_cap_bytes;
		e->shrink_cap_frac = o->shrink_cap_frac;
	}
}

static int apply_limits(run_cg *c, const ah_limits *want, const run_apply_opts *o, char *err, size_t len)
{
	ah_enforce_opts eo;
	opts_of(o, &eo);
	ah_enforce_plan plan;
	ah_enforce_result res;
	ah_enforce_plan_init(&plan);
	int rc = ah_enforce_one(&c->roots, &c->ref, want, &eo, &plan, &res, err, len);
	if (rc == 0 && eo.dry_run && o && o->log)
		for (size_t i = 0; i < plan.n; i++)
			o->log(o->ctx, plan.step[i].path, plan.step[i].value);
	if (rc == 0 && !eo.dry_run) {
		c->applied = plan.n_items ? plan.item[0].target : *want;
		c->have_applied = true;
	}
	ah_enforce_plan_fini(&plan);
	return rc;
}

int run_cg_apply(run_cg *c, const run_want *w, const run_apply_opts *o, char *err, size_t len)
{
	ah_limits l;
	ah_limits_init(&l);
	if (w->cpu_millicores && run_cg_has_cpu(c))
		l.cpu_millicores = w->cpu_millicores;
	if (w->mem_soft_bytes && run_cg_has_mem(c)) {
		l.mem_high_bytes = w->mem_soft_bytes;
		l.mem_max_bytes = w->mem_hard_bytes >= w->mem_soft_bytes ? w->mem_hard_bytes : w->mem_soft_bytes;
	}
	return apply_limits(c, &l, o, err, len);
}

int run_cg_restore(run_cg *c, const run_apply_opts *o, char *err, size_t len)
{
	ah_limits l = c->before;
	int rc = apply_limits(c, &l, o, err, len);
	c->have_applied = false; /* nothing of ahead's is there to drift from */
	return rc;
}

uint64_t run_cg_hard_bytes(const run_cg *c)
{
	if (!c->have_applied || c->applied.mem_max_bytes == AH_LIMIT_KEEP || c->applied.mem_max_bytes == AH_LIMIT_NONE)
		return 0;
	return c->applied.mem_max_bytes;
}

int run_cg_sample(run_cg *c, int64_t mono_ns, int64_t wall_ns, run_sample *out)
{
	memset(out, 0, sizeof *out);
	out->mem_bytes = -1;
	out->cpu_millicores = -1;
	if (!c->col)
		return AH_ENOENT;
	ah_collector_summary sum;
	ah_sample_batch_clear(&c->batch);
	int rc = ah_collector_sample(c->col, mono_ns, wall_ns, &c->batch, &sum);
	if (rc < 0)
		return rc;
	ah_collector_view v;
	if ((rc = ah_collector_view_get(c->col, 0, &v)) < 0)
		return rc;
	if (v.state == AH_CG_GONE) {
		out->gone = true;
		return 0;
	}
	if (v.stat.mem_current_bytes.st == AH_FIELD_OK)
		out->mem_bytes = (double)v.stat.mem_current_bytes.v;
	if (v.cpu_ok)
		out->cpu_millicores = v.cpu_millicores;
	out->oom_known = v.stat.mem_under_oom.st == AH_FIELD_OK;
	out->under_oom = out->oom_known && v.stat.mem_under_oom.v;
	if (v.stat.mem_peak_bytes.st == AH_FIELD_OK) {
		out->have_peak = true;
		out->peak_bytes = v.stat.mem_peak_bytes.v;
	}
	if (v.stat.cpu_usage_ns.st == AH_FIELD_OK) {
		out->have_cpu_ns = true;
		out->cpu_ns = v.stat.cpu_usage_ns.v;
	}
	return 0;
}

int run_cg_drift(run_cg *c, char *what, size_t len)
{
	what[0] = '\0';
	if (!c->have_applied)
		return 0;
	ah_enforce_state st;
	char err[1024];
	int rc = ah_enforce_read(&c->roots, &c->ref, &st, err, sizeof err);
	if (rc < 0)
		return rc;
	ah_enforce_opts eo;
	ah_enforce_opts_init(&eo);
	ah_enforce_drift dr;
	ah_enforce_drift_check(&c->applied, &st, &eo, &dr);
	ah_acg_drift_words(dr.mask, what, len); /* the daemon's words too */
	return 0;
}

int run_cg_kill(run_cg *c, size_t *n, char *err, size_t len)
{
	return ah_enforce_kill(&c->roots, &c->ref, n, err, len);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Kills, then removes: rmdir is refused while tasks remain, and a v1
 * memory cgroup's last task takes a moment to be gone after SIGKILL. */
static int end_ref(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, size_t *killed, char *err, size_t len)
{
	size_t n = 0;
	int rc = ah_enforce_kill(roots, ref, &n, err, len);
	if (killed)
		*killed = n;
	for (int i = 0; i < 100; i++) {
		rc = ah_enforce_cgroup_remove(roots, ref, err, len);
		if (rc == 0 || rc == AH_ENOENT)
			return 0;
		sleep_ms(20);
		if (i % 10 == 9)
			ah_enforce_kill(roots, ref, &n, err, len);
	}
	return rc;
}

int run_cg_end(run_cg *c, char *err, size_t len)
{
	int rc = 0;
	if (c->made)
		rc = end_ref(&c->roots, &c->ref, NULL, err, len);
	c->made = false;
	ah_collector_free(c->col);
	c->col = NULL;
	return rc;
}

void run_cg_free(run_cg *c)
{
	if (!c)
		return;
	char err[1024];
	run_cg_end(c, err, sizeof err);
	ah_sample_batch_fini(&c->batch);
	free(c);
}

int run_cg_join_self(run_cg *c, char *err, size_t len)
{
	return ah_enforce_attach(&c->roots, &c->ref, getpid(), err, len);
}

int run_cg_orphan(const char *proc_root, const char *prefix, const char *v2, char (*v1)[1024], size_t n_v1,
		  uint64_t *peak, size_t *killed, bool *gone, char *err, size_t len)
{
	*peak = 0;
	*killed = 0;
	*gone = true;
	ah_cgroup_roots roots;
	ah_cgroup_roots_init(&roots);
	int rc = ah_cgroup_roots_detect(proc_root && *proc_root ? proc_root : "/proc", prefix, &roots, err, len);
	if (rc < 0)
		return rc;
	ah_cgroup_ref ref;
	ah_cgroup_ref_init(&ref, v2 && *v2 ? v2 : NULL, NULL);
	for (size_t i = 0; i < n_v1 && i < AH_CG_V1_N; i++)
		ref.v1[i] = v1[i][0] ? v1[i] : NULL;
	if (!ref_any(&ref))
		return 0;
	ah_enforce_state st;
	rc = ah_enforce_read(&roots, &ref, &st, err, len);
	if (rc == AH_ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	*gone = false;
	if (st.use.mem_peak_bytes.st == AH_FIELD_OK)
		*peak = st.use.mem_peak_bytes.v;
	return end_ref(&roots, &ref, killed, err, len);
}
