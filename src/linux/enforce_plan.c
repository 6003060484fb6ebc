/* ahead: planning limit writes in a safe order (see include/ahead/enforce.h).
 * Pure: reads only the states it is given. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/enforce.h"
#include "ahead/error.h"
#include "linux/enforce_int.h"
#include "linux/sysfile_int.h"

#define PAGE ((uint64_t)4096)

void ah_limits_init(ah_limits *l)
{
	memset(l, 0, sizeof *l);
}

int ah_limits_check(const ah_limits *l, char *err, size_t errlen)
{
	if (!l)
		return AH_EINVAL;
	if (l->cpu_period_us && (l->cpu_period_us < AH_CPU_QUOTA_MIN_US || l->cpu_period_us > AH_CPU_PERIOD_MAX_US))
		return ah_sys_err(err, errlen, AH_EINVAL, "cpu_period_us", 0, "%llu is outside %d..%d",
				  (unsigned long long)l->cpu_period_us, AH_CPU_QUOTA_MIN_US, AH_CPU_PERIOD_MAX_US);
	if (l->mem_high_bytes != AH_LIMIT_KEEP && l->mem_max_bytes != AH_LIMIT_KEEP &&
	    l->mem_high_bytes != AH_LIMIT_NONE && l->mem_high_bytes > l->mem_max_bytes)
		return ah_sys_err(err, errlen, AH_EINVAL, "mem_high_bytes", 0, "%llu is above mem_max_bytes %llu",
				  (unsigned long long)l->mem_high_bytes, (unsigned long long)l->mem_max_bytes);
	if (l->n_io > AH_ENFORCE_IO_DEVICES_MAX)
		return ah_sys_err(err, errlen, AH_EINVAL, "io", 0, "%zu devices, at most %d", l->n_io,
				  AH_ENFORCE_IO_DEVICES_MAX);
	for (size_t i = 0; i < l->n_io; i++)
		for (size_t k = 0; k < i; k++)
			if (l->io[i].major == l->io[k].major && l->io[i].minor == l->io[k].minor)
				return ah_sys_err(err, errlen, AH_EINVAL, "io", 0, "device %u:%u given twice",
						  l->io[i].major, l->io[i].minor);
	return 0;
}

void ah_enforce_opts_init(ah_enforce_opts *o)
{
	memset(o, 0, sizeof *o);
	o->v1_oom_kill_disable = true;
}

void ah_enforce_plan_init(ah_enforce_plan *p)
{
	memset(p, 0, sizeof *p);
}

void ah_enforce_plan_fini(ah_enforce_plan *p)
{
	if (!p)
		return;
	free(p->step);
	memset(p, 0, sizeof *p);
}

/* A step before sorting, with its order key. */
typedef struct {
	ah_enforce_step s;
	int depth;   /* of its cgroup */
	size_t item; /* index of its cgroup in the items */
	int seq;     /* order within the cgroup and phase */
	size_t idx;  /* creation order: ties */
} pstep;

typedef struct {
	pstep *v;
	size_t n, cap;
} pvec;

static int push(pvec *pv, const char *dir, const char *file, const char *value, int phase, const char *what,
		int depth, size_t item, int seq)
{
	if (pv->n == pv->cap) {
		size_t nc = pv->cap ? pv->cap * 2 : 16;
		pstep *nv = realloc(pv->v, nc * sizeof *nv);
		if (!nv)
			return AH_ENOMEM;
		pv->v = nv;
		pv->cap = nc;
	}
	pstep *p = &pv->v[pv->n];
	memset(p, 0, sizeof *p);
	if (ah_sys_path(p->s.path, dir, NULL, file))
		return AH_ETOOBIG;
	snprintf(p->s.value, sizeof p->s.value, "%s", value);
	p->s.phase = phase;
	p->s.what = what;
	p->depth = depth;
	p->item = item;
	p->seq = seq;
	p->idx = pv->n++;
	return 0;
}

/* Decreases: deepest cgroup first (children before parents); increases:
 * shallowest first (parents before children). */
static int cmp_step(const void *a, const void *b)
{
	const pstep *x = a, *y = b;
	if (x->s.phase != y->s.phase)
		return x->s.phase - y->s.phase;
	if (x->depth != y->depth)
		return x->s.phase == 0 ? y->depth - x->depth : x->depth - y->depth;
	if (x->item != y->item)
		return x->item < y->item ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq - y->seq;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int depth_of(const ah_cgroup_ref *ref)
{
	const char *p = ref->v2;
	for (int i = 0; !p && i < AH_CG_V1_N; i++)
		p = ref->v1[i];
	int d = 0;
	for (bool in = false; p && *p; p++) {
		if (*p != '/' && !in)
			d++;
		in = *p != '/';
	}
	return d;
}

/* A known limit (OK or MAX) or NONE when unknown: an unknown limit is
 * taken as none, so any limit written is a decrease (done first). */
static uint64_t cur_of(const ah_field *f)
{
	return f->st == AH_FIELD_OK ? f->v : AH_LIMIT_NONE;
}

static void fmt_limit(char *b, size_t n, uint64_t v, bool v1)
{
	if (v == AH_LIMIT_NONE)
		snprintf(b, n, "%s", v1 ? "-1" : "max");
	else
		snprintf(b, n, "%llu", (unsigned long long)v);
}

/* The cap on one shrink from cur to want, from base (the current limit,
 * else usage): the new value, *capped when cut. */
static uint64_t cap_shrink(uint64_t cur, uint64_t want, uint64_t usage, const ah_enforce_opts *o, bool *capped)
{
	if (want >= cur)
		return want;
	uint64_t base = cur != AH_LIMIT_NONE ? cur : usage;
	if (base == AH_LIMIT_NONE || base <= want)
		return want;
	uint64_t take = base - want, lim = UINT64_MAX;
	if (o->shrink_cap_bytes)
		lim = o->shrink_cap_bytes;
	if (o->shrink_cap_frac > 0) {
		double f = o->shrink_cap_frac >= 1 ? 1 : o->shrink_cap_frac;
		uint64_t byf = (uint64_t)((double)base * f);
		if (byf < lim)
			lim = byf;
	}
	if (take <= lim)
		return want;
	*capped = true;
	return base - lim;
}

typedef struct {
	pvec *pv;
	const ah_cgroup_roots *roots;
	const ah_enforce_item *it;
	const ah_enforce_opts *o;
	ah_enforce_outcome *out;
	int depth;
	size_t idx;
	char *err;
	size_t errlen;
} ctx;

static int plan_cpu(ctx *c)
{
	const ah_limits *w = c->it->want;
	const ah_enforce_state *s = c->it->now;
	if (w->cpu_millicores == AH_LIMIT_KEEP)
		return 0;
	char dir[AH_SYSPATH_MAX];
	bool v2 = s->cpu_ver == AH_ENF_V2;
	if (s->cpu_ver == AH_ENF_NONE || !(v2 ? ah_enf_dir_v2(c->roots, c->it->ref, dir)
					  : ah_enf_dir_v1(c->roots, c->it->ref, AH_CG_V1_CPU, dir)))
		return ah_sys_err(c->err, c->errlen, AH_EUNSUPPORTED, "cpu", 0,
				  "the cgroup has no cpu controller (cpu.max, cpu.cfs_quota_us)");
	uint64_t cur_p = s->cpu_period_us.st == AH_FIELD_OK ? s->cpu_period_us.v : AH_CPU_PERIOD_DEFAULT_US;
	uint64_t cur_q = cur_of(&s->cpu_quota_us);
	uint64_t p = w->cpu_period_us ? w->cpu_period_us : cur_p;
	uint64_t q = AH_LIMIT_NONE;
	if (w->cpu_millicores != AH_LIMIT_NONE) {
		/* the kernel's bounds: a quota of at least 1 ms */
		double qd = ceil((double)w->cpu_millicores * (double)p / 1000.0);
		q = qd < AH_CPU_QUOTA_MIN_US ? AH_CPU_QUOTA_MIN_US : qd > 1e15 ? (uint64_t)1e15 : (uint64_t)qd;
	}
	double cur_r = cur_q == AH_LIMIT_NONE ? INFINITY : (double)cur_q / (double)cur_p;
	double new_r = q == AH_LIMIT_NONE ? INFINITY : (double)q / (double)p;
	if (new_r < cur_r && isfinite(cur_r) && c->o->shrink_cap_frac > 0) {
		double f = c->o->shrink_cap_frac >= 1 ? 1 : c->o->shrink_cap_frac;
		double min_r = cur_r * (1 - f);
		if (new_r < min_r) {
			q = (uint64_t)ceil(min_r * (double)p);
			new_r = (double)q / (double)p;
			c->out->capped = true;
		}
	}
	c->out->target.cpu_period_us = p;
	c->out->target.cpu_millicores = q == AH_LIMIT_NONE ? AH_LIMIT_NONE : (q * 1000 + p - 1) / p;
	if (q == cur_q && p == cur_p)
		return 0;
	int phase = new_r < cur_r ? 0 : 1;
	char vq[32], vp[32], v[96];
	fmt_limit(vq, sizeof vq, q, !v2);
	snprintf(vp, sizeof vp, "%llu", (unsigned long long)p);
	if (v2) {
		snprintf(v, sizeof v, "%s %s", vq, vp);
		return push(c->pv, dir, "cpu.max", v, phase, "cpu", c->depth, c->idx, 0);
	}
	if (p == cur_p)
		return push(c->pv, dir, "cpu.cfs_quota_us", vq, phase, "cpu", c->depth, c->idx, 0);
	/* Two writes: the order whose intermediate ratio is smaller (never
	 * above what the parent allows more than the end state is). */
	double quota_first = q == AH_LIMIT_NONE ? INFINITY : (double)q / (double)cur_p;
	double period_first = cur_q == AH_LIMIT_NONE ? INFINITY : (double)cur_q / (double)p;
	int sq = quota_first <= period_first ? 0 : 1;
	int rc = push(c->pv, dir, "cpu.cfs_quota_us", vq, phase, "cpu", c->depth, c->idx, sq);
	return rc ? rc : push(c->pv, dir, "cpu.cfs_period_us", vp, phase, "cpu", c->depth, c->idx, 1 - sq);
}

static int plan_mem(ctx *c)
{
	const ah_limits *w = c->it->want;
	const ah_enforce_state *s = c->it->now;
	if (w->mem_high_bytes == AH_LIMIT_KEEP && w->mem_max_bytes == AH_LIMIT_KEEP)
		return 0;
	char dir[AH_SYSPATH_MAX];
	bool v2 = s->mem_ver == AH_ENF_V2;
	if (s->mem_ver == AH_ENF_NONE || !(v2 ? ah_enf_dir_v2(c->roots, c->it->ref, dir)
					  : ah_enf_dir_v1(c->roots, c->it->ref, AH_CG_V1_MEMORY, dir)))
		return ah_sys_err(c->err, c->errlen, AH_EUNSUPPORTED, "memory", 0,
				  "the cgroup has no memory controller (memory.max, memory.limit_in_bytes)");
	uint64_t usage = s->use.mem_current_bytes.st == AH_FIELD_OK ? s->use.mem_current_bytes.v : AH_LIMIT_NONE;
	uint64_t file = s->use.mem_file_bytes.st == AH_FIELD_OK ? s->use.mem_file_bytes.v : 0;
	uint64_t floor = 0;
	if (usage != AH_LIMIT_NONE) {
		floor = c->o->hard_floor_anon && file < usage ? usage - file : usage;
		floor = (floor + PAGE - 1) / PAGE * PAGE;
	}
	const char *fhigh = v2 ? "memory.high" : "memory.soft_limit_in_bytes";
	const char *fmax = v2 ? "memory.max" : "memory.limit_in_bytes";
	uint64_t want[2] = {w->mem_high_bytes, w->mem_max_bytes};
	uint64_t cur[2] = {cur_of(&s->mem_high_bytes), cur_of(&s->mem_max_bytes)};
	if (s->mem_high_bytes.st == AH_FIELD_MAX)
		cur[0] = AH_LIMIT_NONE;
	if (s->mem_max_bytes.st == AH_FIELD_MAX)
		cur[1] = AH_LIMIT_NONE;
	for (int k = 0; k < 2; k++) {
		uint64_t v = want[k];
		if (v == AH_LIMIT_KEEP)
			continue;
		v = cap_shrink(cur[k], v, usage, c->o, &c->out->capped);
		if (v != AH_LIMIT_NONE)
			v = v / PAGE * PAGE; /* the kernel keeps whole pages */
		if (k == 1 && v != AH_LIMIT_NONE && v < floor) {
			/* Never a hard limit below usage: v2 OOM-kills on it, v1 refuses it. */
			c->out->clamped = true;
			c->out->clamp_wanted_bytes = want[k];
			c->out->clamp_floor_bytes = floor;
			v = floor;
		}
		if (k == 0)
			c->out->target.mem_high_bytes = v;
		else
			c->out->target.mem_max_bytes = v;
		if (v == cur[k] && (k == 0 ? s->mem_high_bytes.st : s->mem_max_bytes.st) != AH_FIELD_BAD)
			continue;
		int phase = v < cur[k] ? 0 : 1;
		/* Shrinking: high before max; growing: max before high. */
		int seq = 10 + (phase == 0 ? 1 + k : 2 - k); /* 10s: memory after cpu */
		char val[32];
		fmt_limit(val, sizeof val, v, !v2);
		int rc = push(c->pv, dir, k == 0 ? fhigh : fmax, val, phase, k == 0 ? "memory.high" : "memory.max",
			      c->depth, c->idx, seq);
		if (rc)
			return rc;
	}
	/* v1: a task at the hard limit pauses instead of being killed; ahead
	 * (the caller) raises the limit or kills it, as the policy says. */
	if (!v2 && c->o->v1_oom_kill_disable && c->out->target.mem_max_bytes != AH_LIMIT_KEEP &&
	    c->out->target.mem_max_bytes != AH_LIMIT_NONE &&
	    !(s->mem_oom_kill_disable.st == AH_FIELD_OK && s->mem_oom_kill_disable.v == 1))
		return push(c->pv, dir, "memory.oom_control", "1", 0, "oom_control", c->depth, c->idx, 10);
	return 0;
}

static const ah_io_limit *io_find(const ah_io_limit *v, size_t n, uint32_t maj, uint32_t mnr)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].major == maj && v[i].minor == mnr)
			return &v[i];
	return NULL;
}

static int plan_io(ctx *c)
{
	const ah_limits *w = c->it->want;
	const ah_enforce_state *s = c->it->now;
	if (!w->n_io)
		return 0;
	char dir[AH_SYSPATH_MAX];
	bool v2 = s->io_ver == AH_ENF_V2;
	if (s->io_ver == AH_ENF_NONE || !(v2 ? ah_enf_dir_v2(c->roots, c->it->ref, dir)
					 : ah_enf_dir_v1(c->roots, c->it->ref, AH_CG_V1_BLKIO, dir)))
		return ah_sys_err(c->err, c->errlen, AH_EUNSUPPORTED, "io", 0,
				  "the cgroup has no io controller (io.max, blkio.throttle.*_bps_device)");
	c->out->target.n_io = w->n_io;
	for (size_t i = 0; i < w->n_io; i++) {
		const ah_io_limit *d = &w->io[i];
		const ah_io_limit *now = s->io_bad ? NULL : io_find(s->io, s->n_io, d->major, d->minor);
		uint64_t cr = now ? now->rbps : AH_LIMIT_NONE, cw = now ? now->wbps : AH_LIMIT_NONE;
		c->out->target.io[i] = *d;
		bool dr = d->rbps != AH_LIMIT_KEEP && (d->rbps != cr || s->io_bad);
		bool dw = d->wbps != AH_LIMIT_KEEP && (d->wbps != cw || s->io_bad);
		if (!dr && !dw)
			continue;
		bool down_r = dr && d->rbps < cr, down_w = dw && d->wbps < cw;
		char val[96], a[32], b[32];
		int rc = 0;
		if (v2) {
			/* One line sets both: a decrease in either makes it a decrease. */
			fmt_limit(a, sizeof a, d->rbps, false);
			fmt_limit(b, sizeof b, d->wbps, false);
			if (dr && dw)
				snprintf(val, sizeof val, "%u:%u rbps=%s wbps=%s", d->major, d->minor, a, b);
			else
				snprintf(val, sizeof val, "%u:%u %s=%s", d->major, d->minor, dr ? "rbps" : "wbps", dr ? a : b);
			rc = push(c->pv, dir, "io.max", val, down_r || down_w ? 0 : 1, "io", c->depth, c->idx, 20);
		} else {
			/* v1: 0 removes a throttle */
			if (dr) {
				snprintf(val, sizeof val, "%u:%u %llu", d->major, d->minor,
					 (unsigned long long)(d->rbps == AH_LIMIT_NONE ? 0 : d->rbps));
				rc = push(c->pv, dir, "blkio.throttle.read_bps_device", val, down_r ? 0 : 1, "io", c->depth,
					  c->idx, 20);
			}
			if (!rc && dw) {
				snprintf(val, sizeof val, "%u:%u %llu", d->major, d->minor,
					 (unsigned long long)(d->wbps == AH_LIMIT_NONE ? 0 : d->wbps));
				rc = push(c->pv, dir, "blkio.throttle.write_bps_device", val, down_w ? 0 : 1, "io",
					  c->depth, c->idx, 21);
			}
		}
		if (rc)
			return rc;
	}
	return 0;
}

int ah_enforce_plan_make(const ah_cgroup_roots *roots, const ah_enforce_item *items, size_t n,
			 const ah_enforce_opts *opts, ah_enforce_plan *out, char *err, size_t errlen)
{
	if (!roots || (!items && n) || !out)
		return AH_EINVAL;
	if (n > AH_ENFORCE_ITEMS_MAX)
		return ah_sys_err(err, errlen, AH_ETOOBIG, "items", 0, "%zu cgroups in one plan, at most %d", n,
				  AH_ENFORCE_ITEMS_MAX);
	ah_enforce_opts dflt;
	if (!opts) {
		ah_enforce_opts_init(&dflt);
		opts = &dflt;
	}
	pvec pv = {0};
	ah_enforce_outcome *oc = calloc(n ? n : 1, sizeof *oc);
	int rc = AH_ENOMEM;
	if (!oc)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const ah_enforce_item *it = &items[i];
		rc = AH_EINVAL;
		if (!it->ref || !it->now || !it->want)
			goto out;
		rc = ah_limits_check(it->want, err, errlen);
		if (rc)
			goto out;
		ah_limits_init(&oc[i].target);
		ctx c = {&pv, roots, it, opts, &oc[i], depth_of(it->ref), i, err, errlen};
		rc = plan_cpu(&c);
		if (!rc)
			rc = plan_mem(&c);
		if (!rc)
			rc = plan_io(&c);
		if (rc)
			goto out;
	}
	if (pv.n)
		qsort(pv.v, pv.n, sizeof *pv.v, cmp_step);
	ah_enforce_step *steps = malloc((pv.n ? pv.n : 1) * sizeof *steps);
	rc = AH_ENOMEM;
	if (!steps)
		goto out;
	for (size_t i = 0; i < pv.n; i++)
		steps[i] = pv.v[i].s;
	ah_enforce_plan_fini(out);
	out->step = steps;
	out->n = out->cap = pv.n;
	out->n_items = n;
	memcpy(out->item, oc, n * sizeof *oc);
	rc = 0;
out:
	free(pv.v);
	free(oc);
	return rc;
}
