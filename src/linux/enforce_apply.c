/* ahead: writing a plan, and checking what is there against what was
 * applied (see include/ahead/enforce.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ahead/enforce.h"
#include "ahead/error.h"
#include "linux/enforce_int.h"
#include "linux/sysfile_int.h"

/* One write of the whole value: a kernel file takes it in one write(2) or
 * refuses it. O_TRUNC for plain files (fixture trees); no O_CREAT, so a
 * vanished cgroup is ENOENT, never a new file. */
static int write_value(const char *path, const char *value, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT || e == ENOTDIR || e == ENODEV)
			return ah_sys_err(err, errlen, AH_ENOENT, path, 0, "not there (the cgroup is gone?)");
		return ah_sys_err(err, errlen, AH_EIO, path, 0, "cannot open for writing: %s", strerror(e));
	}
	size_t n = strlen(value);
	ssize_t w;
	do
		w = write(fd, value, n);
	while (w < 0 && errno == EINTR);
	int e = errno;
	close(fd);
	if (w == (ssize_t)n)
		return 0;
	if (w >= 0)
		return ah_sys_err(err, errlen, AH_EIO, path, 0, "short write of '%s'", value);
	if (e == EBUSY || e == EAGAIN)
		return ah_sys_err(err, errlen, AH_EBUSY, path, 0, "'%s' refused: usage could not be reclaimed below it",
				  value);
	if (e == EINVAL)
		return ah_sys_err(err, errlen, AH_EINVAL, path, 0, "'%s' refused by the kernel", value);
	if (e == ENOENT || e == ENODEV)
		return ah_sys_err(err, errlen, AH_ENOENT, path, 0, "gone while writing '%s'", value);
	return ah_sys_err(err, errlen, AH_EIO, path, 0, "writing '%s': %s", value, strerror(e));
}

int ah_enforce_apply(const ah_enforce_plan *plan, const ah_enforce_opts *opts, ah_enforce_result *res, char *err,
		     size_t errlen)
{
	if (!plan || !res)
		return AH_EINVAL;
	ah_enforce_result r = {0, false, -1};
	int rc = 0;
	if (opts && opts->dry_run)
		goto out;
	for (size_t i = 0; i < plan->n; i++) {
		/* The switch is looked at before every write: a stop takes effect
		 * mid-plan, leaving the limits as the steps so far made them
		 * (each step is safe on its own). */
		if (opts && opts->stop && atomic_load(opts->stop)) {
			r.stopped = true;
			break;
		}
		rc = write_value(plan->step[i].path, plan->step[i].value, err, errlen);
		if (rc) {
			r.failed_step = (int)i;
			break;
		}
		r.done++;
	}
out:
	*res = r;
	return rc;
}

int ah_enforce_one(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, const ah_limits *want,
		   const ah_enforce_opts *opts, ah_enforce_plan *plan, ah_enforce_result *res, char *err,
		   size_t errlen)
{
	if (!roots || !ref || !want || !plan || !res)
		return AH_EINVAL;
	ah_enforce_state *st = malloc(sizeof *st);
	if (!st)
		return AH_ENOMEM;
	int rc = ah_enforce_read(roots, ref, st, err, errlen);
	if (!rc) {
		ah_enforce_item it = {ref, st, want};
		rc = ah_enforce_plan_make(roots, &it, 1, opts, plan, err, errlen);
	}
	if (!rc)
		rc = ah_enforce_apply(plan, opts, res, err, errlen);
	free(st);
	return rc;
}

static int mem_usage(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, ah_enforce_state *st, char *err,
		     size_t errlen)
{
	int rc = ah_enforce_read(roots, ref, st, err, errlen);
	if (!rc && st->use.mem_current_bytes.st != AH_FIELD_OK)
		rc = ah_sys_err(err, errlen, AH_EUNSUPPORTED, "memory", 0, "no memory usage to reclaim from");
	return rc;
}

int ah_enforce_reclaim(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, uint64_t target_bytes,
		       const ah_enforce_opts *opts, uint64_t *reclaimed_bytes, char *err, size_t errlen)
{
	if (!roots || !ref || !reclaimed_bytes)
		return AH_EINVAL;
	ah_enforce_state *st = malloc(sizeof *st);
	if (!st)
		return AH_ENOMEM;
	uint64_t before = 0, after = 0;
	int rc = mem_usage(roots, ref, st, err, errlen);
	if (rc)
		goto out;
	before = after = st->use.mem_current_bytes.v;
	if (before <= target_bytes || (opts && (opts->dry_run || (opts->stop && atomic_load(opts->stop)))))
		goto done;
	char dir[AH_SYSPATH_MAX], path[AH_SYSPATH_MAX], v[32];
	if (st->mem_ver == AH_ENF_V2 && ah_enf_dir_v2(roots, ref, dir)) {
		if (ah_sys_path(path, dir, NULL, "memory.reclaim") || access(path, F_OK) != 0) {
			rc = ah_sys_err(err, errlen, AH_EUNSUPPORTED, dir, 0, "no memory.reclaim (kernel before 5.19)");
			goto out;
		}
		snprintf(v, sizeof v, "%llu", (unsigned long long)(before - target_bytes));
		rc = write_value(path, v, err, errlen);
	} else if (st->mem_ver == AH_ENF_V1) {
		/* the limit down (the plan's clamp keeps it above anon), then back */
		ah_enforce_opts o;
		ah_enforce_opts_init(&o);
		o.hard_floor_anon = true;
		o.v1_oom_kill_disable = opts ? opts->v1_oom_kill_disable : true;
		ah_limits down, back;
		ah_limits_init(&down);
		ah_limits_init(&back);
		down.mem_max_bytes = target_bytes;
		back.mem_max_bytes = st->mem_max_bytes.st == AH_FIELD_OK ? st->mem_max_bytes.v : AH_LIMIT_NONE;
		ah_enforce_plan p;
		ah_enforce_plan_init(&p);
		ah_enforce_result res;
		ah_enforce_item it = {ref, st, &down};
		rc = ah_enforce_plan_make(roots, &it, 1, &o, &p, err, errlen);
		if (!rc)
			rc = ah_enforce_apply(&p, &o, &res, err, errlen);
		/* back whatever the reclaim did: the limit must not stay lowered */
		char e2[256];
		int rb = ah_enforce_one(roots, ref, &back, &o, &p, &res, e2, sizeof e2);
		ah_enforce_plan_fini(&p);
		if (!rc && rb)
			rc = ah_sys_err(err, errlen, rb, "memory.limit_in_bytes", 0, "not set back: %s", e2);
	} else {
		rc = ah_sys_err(err, errlen, AH_EUNSUPPORTED, "memory", 0, "no memory controller");
	}
	if (rc)
		goto out;
	if (mem_usage(roots, ref, st, err, errlen) == 0)
		after = st->use.mem_current_bytes.v;
done:
	*reclaimed_bytes = before > after ? before - after : 0;
out:
	free(st);
	return rc;
}

static bool mem_differs(uint64_t applied, uint64_t found)
{
	if (applied == AH_LIMIT_KEEP)
		return false;
	if (applied == AH_LIMIT_NONE || found == AH_LIMIT_NONE)
		return applied != found;
	uint64_t d = applied > found ? applied - found : found - applied;
	return d >= AH_ENF_MEM_SLACK;
}

void ah_enforce_drift_check(const ah_limits *applied, const ah_enforce_state *now, const ah_enforce_opts *opts,
			    ah_enforce_drift *out)
{
	ah_enforce_drift d = {0};
	ah_enforce_state_limits(now, &d.found);
	if (applied->cpu_millicores != AH_LIMIT_KEEP) {
		/* Compared as quota at the found period: rounding of millicores
		 * to whole microseconds is no drift. */
		uint64_t p = applied->cpu_period_us ? applied->cpu_period_us : AH_CPU_PERIOD_DEFAULT_US;
		uint64_t fp = now->cpu_period_us.st == AH_FIELD_OK ? now->cpu_period_us.v : 0;
		bool none_a = applied->cpu_millicores == AH_LIMIT_NONE;
		bool none_f = now->cpu_quota_us.st == AH_FIELD_MAX;
		if (now->cpu_quota_us.st != AH_FIELD_OK && !none_f)
			d.mask |= AH_DRIFT_CPU;
		else if (none_a != none_f || (applied->cpu_period_us && fp != p))
			d.mask |= AH_DRIFT_CPU;
		else if (!none_a) {
			uint64_t q = applied->cpu_millicores * p / 1000;
			if (q < AH_CPU_QUOTA_MIN_US)
				q = AH_CPU_QUOTA_MIN_US;
			uint64_t fq = now->cpu_quota_us.v * p / (fp ? fp : p);
			uint64_t diff = q > fq ? q - fq : fq - q;
			if (diff > 1 + q / 1000)
				d.mask |= AH_DRIFT_CPU;
		}
	}
	if (mem_differs(applied->mem_high_bytes, d.found.mem_high_bytes ? d.found.mem_high_bytes : AH_LIMIT_NONE))
		d.mask |= AH_DRIFT_MEM_HIGH;
	if (mem_differs(applied->mem_max_bytes, d.found.mem_max_bytes ? d.found.mem_max_bytes : AH_LIMIT_NONE))
		d.mask |= AH_DRIFT_MEM_MAX;
	for (size_t i = 0; i < applied->n_io; i++) {
		const ah_io_limit *a = &applied->io[i];
		ah_io_limit f = {a->major, a->minor, AH_LIMIT_NONE, AH_LIMIT_NONE};
		for (size_t k = 0; k < d.found.n_io; k++)
			if (d.found.io[k].major == a->major && d.found.io[k].minor == a->minor)
				f = d.found.io[k];
		if (now->io_bad || (a->rbps != AH_LIMIT_KEEP && a->rbps != f.rbps) ||
		    (a->wbps != AH_LIMIT_KEEP && a->wbps != f.wbps))
			d.mask |= AH_DRIFT_IO;
	}
	/* v1: oom_kill_disable switched back on means a kill at the limit. */
	if (now->mem_ver == AH_ENF_V1 && (!opts || opts->v1_oom_kill_disable) && applied->mem_max_bytes != AH_LIMIT_KEEP &&
	    applied->mem_max_bytes != AH_LIMIT_NONE &&
	    !(now->mem_oom_kill_disable.st == AH_FIELD_OK && now->mem_oom_kill_disable.v == 1))
		d.mask |= AH_DRIFT_OOM_CONTROL;
	*out = d;
}

void ah_enforce_soft_check(const ah_enforce_state *s, uint64_t soft_bytes, ah_soft_check *out)
{
	ah_soft_check c = {AH_SOFT_UNKNOWN, 0, 0, 0, false};
	c.under_oom = s->use.mem_under_oom.st == AH_FIELD_OK && s->use.mem_under_oom.v == 1;
	if (s->use.mem_file_bytes.st == AH_FIELD_OK)
		c.file_bytes = s->use.mem_file_bytes.v;
	if (s->use.mem_current_bytes.st == AH_FIELD_OK) {
		c.usage_bytes = s->use.mem_current_bytes.v;
		if (soft_bytes == AH_LIMIT_KEEP || soft_bytes == AH_LIMIT_NONE || c.usage_bytes <= soft_bytes) {
			c.verdict = AH_SOFT_UNDER;
		} else {
			c.verdict = AH_SOFT_OVER;
			c.over_bytes = c.usage_bytes - soft_bytes;
		}
	}
	*out = c;
}
