/* ahead: one cgroup per allocation (include/ahead/alloc_cgroup.h) — the
 * enforcer's read, plan and apply for the daemon's allocations, with what
 * was wanted and what was written kept apart. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ahead/alloc_cgroup.h"
#include "ahead/enforce.h"
#include "ahead/error.h"
#include "linux/enforce_int.h"

typedef struct {
	uint64_t id;
	bool pending;            /* dropped, tasks left: removal retried */
	bool need_again;         /* the last set was clamped, capped or failed */
	ah_limits desired, applied;
	bool have_applied;
	int soft_efd;            /* v1 usage threshold at the soft level, or -1 */
	uint64_t soft_watch_bytes; /* its threshold */
} acg_item;

struct ah_alloc_cgroups {
	ah_cgroup_roots roots;
	char parent[AH_ACG_PARENT_MAX];
	bool parent_made;
	acg_item *item;
	size_t n, cap;
	ah_acg_stats st;
};

void ah_acg_opts_init(ah_acg_opts *o)
{
	memset(o, 0, sizeof *o);
}

static bool parent_ok(const char *p)
{
	size_t n = strlen(p);
	if (n == 0 || n >= AH_ACG_PARENT_MAX || p[0] == '/' || p[n - 1] == '/')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x21 || c > 0x7e || (c == '/' && p[i + 1] == '/'))
			return false;
	}
	for (const char *q = p; (q = strstr(q, "..")) != NULL; q += 2)
		if ((q == p || q[-1] == '/') && (q[2] == '/' || q[2] == '\0'))
			return false;
	return true;
}

int ah_acg_new(const ah_cgroup_roots *roots, const char *parent, ah_alloc_cgroups **out, char *err, size_t errlen)
{
	if (!roots || !parent || !out)
		return AH_EINVAL;
	if (!parent_ok(parent)) {
		snprintf(err, errlen, "cgroup parent '%.60s': not a relative path without '..' under %d bytes", parent,
			 AH_ACG_PARENT_MAX);
		return AH_EINVAL;
	}
	ah_alloc_cgroups *s = calloc(1, sizeof *s);
	if (!s)
		return AH_ENOMEM;
	s->roots = *roots;
	snprintf(s->parent, sizeof s->parent, "%s", parent);
	*out = s;
	return 0;
}

void ah_acg_free(ah_alloc_cgroups *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		if (s->item[i].soft_efd >= 0)
			close(s->item[i].soft_efd);
	free(s->item);
	free(s);
}

void ah_acg_limits_of(const ah_dimset *dims, const ah_vec *res, double hard_margin, ah_acg_limits *out)
{
	memset(out, 0, sizeof *out);
	int dc = ah_dimset_find(dims, "cpu"), dm = ah_dimset_find(dims, "memory");
	if (dc >= 0 && res->v[dc] > 0)
		out->cpu_millicores = (uint64_t)res->v[dc];
	if (dm >= 0 && res->v[dm] > 0) {
		uint64_t soft = (uint64_t)res->v[dm];
		double hard = (double)soft * (1.0 + (hard_margin > 0 ? hard_margin : 0));
		uint64_t h = hard >= 9e18 ? UINT64_MAX / 2 : ((uint64_t)ceil(hard) + 4095) / 4096 * 4096;
		out->mem_high_bytes = soft;
		out->mem_max_bytes = h < soft ? soft : h;
	}
}

void ah_acg_limits_io(const ah_dimset *dims, const ah_vec *res, const ah_acg_device *dev, size_t n,
		      ah_acg_limits *l)
{
	int di = ah_dimset_find(dims, "io");
	l->io_bps = 0;
	l->n_dev = 0;
	if (di < 0 || res->v[di] <= 0 || !n)
		return;
	l->io_bps = (uint64_t)res->v[di];
	for (size_t i = 0; i < n && i < AH_LINUX_IO_DEVICES_MAX; i++)
		l->dev[l->n_dev++] = dev[i];
}

static void to_limits(const ah_acg_limits *a, ah_limits *l)
{
	ah_limits_init(l);
	l->cpu_millicores = a->cpu_millicores;
	l->mem_high_bytes = a->mem_high_bytes;
	l->mem_max_bytes = a->mem_max_bytes;
	if (a->io_bps)
		for (size_t i = 0; i < a->n_dev && i < AH_ENFORCE_IO_DEVICES_MAX; i++)
			l->io[l->n_io++] = (ah_io_limit){a->dev[i].major, a->dev[i].minor, a->io_bps, a->io_bps};
}

static void of_limits(const ah_limits *l, ah_acg_limits *a)
{
	memset(a, 0, sizeof *a);
	a->cpu_millicores = l->cpu_millicores;
	a->mem_high_bytes = l->mem_high_bytes;
	a->mem_max_bytes = l->mem_max_bytes;
	/* each device's one limit (both directions are set alike); the
	 * smallest when they differ (a hand edit) */
	for (size_t i = 0; i < l->n_io && a->n_dev < AH_LINUX_IO_DEVICES_MAX; i++) {
		uint64_t v = l->io[i].rbps < l->io[i].wbps ? l->io[i].rbps : l->io[i].wbps;
		if (v == AH_LIMIT_KEEP)
			continue;
		a->dev[a->n_dev++] = (ah_acg_device){l->io[i].major, l->io[i].minor};
		if (!a->io_bps || v < a->io_bps)
			a->io_bps = v;
	}
}

void ah_acg_drift_words(uint32_t mask, char *out, size_t len)
{
	snprintf(out, len, "%s%s%s%s%s", mask & AH_DRIFT_CPU ? "cpu " : "", mask & AH_DRIFT_MEM_HIGH ? "memory-soft " : "",
		 mask & AH_DRIFT_MEM_MAX ? "memory-hard " : "", mask & AH_DRIFT_IO ? "io " : "",
		 mask & AH_DRIFT_OOM_CONTROL ? "oom_control " : "");
	size_t n = strlen(out);
	if (n && out[n - 1] == ' ')
		out[n - 1] = '\0';
}

/* The ref of PARENT/alloc-ID (or of PARENT when id is 0): in v2 when
 * mounted, in every v1 controller mounted. rel is the caller's storage. */
static void ref_of(const ah_alloc_cgroups *s, uint64_t id, char *rel, size_t cap, ah_cgroup_ref *ref)
{
	if (id)
		snprintf(rel, cap, "%s/alloc-%" PRIu64, s->parent, id);
	else
		snprintf(rel, cap, "%s", s->parent);
	ah_cgroup_ref_init(ref, s->roots.v2[0] ? rel : NULL, NULL);
	for (int i = 0; i < AH_CG_V1_N; i++)
		ref->v1[i] = s->roots.v1[i][0] ? rel : NULL;
}

static acg_item *find(const ah_alloc_cgroups *s, uint64_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->item[i].id == id)
			return &s->item[i];
	return NULL;
}

static void fail(ah_alloc_cgroups *s, const char *err)
{
	s->st.write_errors++;
	snprintf(s->st.last_error, sizeof s->st.last_error, "%s", err);
}

int ah_acg_paths(const ah_alloc_cgroups *s, uint64_t id, char (*paths)[AH_SYSPATH_MAX], size_t cap, size_t *n)
{
	if (!s || !n)
		return AH_EINVAL;
	*n = 0;
	char rel[AH_ACG_PARENT_MAX + 32];
	ah_cgroup_ref ref;
	ref_of(s, id, rel, sizeof rel, &ref);
	ah_enf_dirs d;
	int rc = ah_enf_dirs_of(&s->roots, &ref, &d);
	if (rc)
		return rc;
	for (size_t i = 0; i < d.n && *n < cap; i++)
		snprintf(paths[(*n)++], AH_SYSPATH_MAX, "%s", d.path[i]);
	return 0;
}

/* PARENT in every root, each level of it (one there already is fine). */
static int make_parent(ah_alloc_cgroups *s, char *err, size_t errlen)
{
	if (s->parent_made)
		return 0;
	char part[AH_ACG_PARENT_MAX];
	for (size_t i = 0; s->parent[i]; i++) {
		if (s->parent[i + 1] != '/' && s->parent[i + 1] != '\0')
			continue;
		memcpy(part, s->parent, i + 1);
		part[i + 1] = '\0';
		ah_cgroup_ref ref;
		ah_cgroup_ref_init(&ref, s->roots.v2[0] ? part : NULL, NULL);
		for (int k = 0; k < AH_CG_V1_N; k++)
			ref.v1[k] = s->roots.v1[k][0] ? part : NULL;
		int rc = ah_enforce_cgroup_create(&s->roots, &ref, err, errlen);
		if (rc < 0)
			return rc;
	}
	s->parent_made = true;
	return 0;
}

/* want, less what the cgroup has no controller for. */
static void filter(const ah_enforce_state *now, const ah_limits *want, ah_limits *out)
{
	*out = *want;
	if (now->cpu_ver == AH_ENF_NONE) {
		out->cpu_millicores = AH_LIMIT_KEEP;
		out->cpu_period_us = 0;
	}
	if (now->mem_ver == AH_ENF_NONE)
		out->mem_high_bytes = out->mem_max_bytes = AH_LIMIT_KEEP;
	if (now->io_ver == AH_ENF_NONE)
		out->n_io = 0;
}

/* v1: a usage threshold at the soft level (again when it moved). A
 * failure leaves the cgroup unwatched: the limits still hold. */
static void soft_watch(ah_alloc_cgroups *s, acg_item *it, const ah_cgroup_ref *ref)
{
	uint64_t soft = it->desired.mem_high_bytes;
	bool want = soft != AH_LIMIT_KEEP && soft != AH_LIMIT_NONE;
	if (it->soft_efd >= 0 && (!want || soft != it->soft_watch_bytes)) {
		close(it->soft_efd); /* the kernel drops the threshold with it */
		it->soft_efd = -1;
	}
	if (!want || it->soft_efd >= 0)
		return;
	char err[256];
	int fd = -1;
	if (ah_enforce_usage_watch(&s->roots, ref, soft, &fd, err, sizeof err) == 0) {
		it->soft_efd = fd;
		it->soft_watch_bytes = soft;
	}
}

/* Read, plan, apply one allocation toward its desired limits. */
static int actuate(ah_alloc_cgroups *s, acg_item *it, const ah_acg_opts *o, char *err, size_t errlen)
{
	char rel[AH_ACG_PARENT_MAX + 32];
	ah_cgroup_ref ref;
	ref_of(s, it->id, rel, sizeof rel, &ref);
	ah_enforce_state now;
	int rc = ah_enforce_read(&s->roots, &ref, &now, err, errlen);
	if (rc == AH_ENOENT) { /* vanished (or never made): make it again */
		if ((rc = ah_enforce_cgroup_create(&s->roots, &ref, err, errlen)) < 0)
			return rc;
		s->st.created++;
		rc = ah_enforce_read(&s->roots, &ref, &now, err, errlen);
	}
	if (rc < 0)
		return rc;
	ah_limits want;
	filter(&now, &it->desired, &want);
	ah_enforce_opts eo;
	ah_enforce_opts_init(&eo);
	eo.dry_run = o && o->dry_run;
	if (o) {
		eo.shrink_cap_bytes = o->shrink_cap_bytes;
		eo.shrink_cap_frac = o->shrink_cap_frac;
	}
	ah_enforce_item ei = {.ref = &ref, .now = &now, .want = &want};
	ah_enforce_plan plan;
	ah_enforce_plan_init(&plan);
	ah_enforce_result res = {0, false, -1};
	rc = ah_enforce_plan_make(&s->roots, &ei, 1, &eo, &plan, err, errlen);
	if (rc == 0)
		rc = ah_enforce_apply(&plan, &eo, &res, err, errlen);
	if (eo.dry_run)
		s->st.dry_run_writes += plan.n;
	else
		s->st.writes += res.done;
	if (rc == 0 && !eo.dry_run) {
		it->applied = plan.n_items ? plan.item[0].target : want;
		it->have_applied = true;
		it->need_again = plan.n_items && (plan.item[0].clamped || plan.item[0].capped);
		if (now.mem_ver == AH_ENF_V1)
			soft_watch(s, it, &ref);
	} else if (rc < 0)
		it->need_again = true;
	ah_enforce_plan_fini(&plan);
	return rc;
}

/* A new zeroed item at the end, NULL when full or out of memory. */
static acg_item *push(ah_alloc_cgroups *s)
{
	if (s->n >= AH_ACG_MAX)
		return NULL;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		acg_item *p = realloc(s->item, cap * sizeof *p);
		if (!p)
			return NULL;
		s->item = p;
		s->cap = cap;
	}
	acg_item *it = &s->item[s->n++];
	memset(it, 0, sizeof *it);
	ah_limits_init(&it->desired);
	ah_limits_init(&it->applied);
	it->soft_efd = -1;
	return it;
}

int ah_acg_set(ah_alloc_cgroups *s, uint64_t id, const ah_acg_limits *want_in, const ah_acg_opts *o, char *err,
	       size_t errlen)
{
	if (!s || !id || !want_in)
		return AH_EINVAL;
	ah_limits want_l, *want = &want_l;
	to_limits(want_in, want);
	char e2[512] = "";
	int rc = ah_limits_check(want, e2, sizeof e2);
	if (rc == 0)
		rc = make_parent(s, e2, sizeof e2);
	acg_item *it = rc == 0 ? find(s, id) : NULL;
	if (rc == 0 && !it) {
		char rel[AH_ACG_PARENT_MAX + 32];
		ah_cgroup_ref ref;
		ref_of(s, id, rel, sizeof rel, &ref);
		if (s->n >= AH_ACG_MAX) {
			rc = AH_ETOOBIG;
			snprintf(e2, sizeof e2, "more than %d allocations' cgroups", AH_ACG_MAX);
		} else if ((rc = ah_enforce_cgroup_create(&s->roots, &ref, e2, sizeof e2)) == 0) {
			if (!(it = push(s))) {
				rc = AH_ENOMEM;
				snprintf(e2, sizeof e2, "out of memory");
			} else {
				it->id = id;
				s->st.created++;
			}
		}
	}
	if (rc == 0) {
		it->pending = false;
		it->desired = *want;
		rc = actuate(s, it, o, e2, sizeof e2);
	}
	if (rc < 0) {
		fail(s, e2);
		snprintf(err, errlen, "%s", e2);
	}
	return rc;
}

int ah_acg_adopt(ah_alloc_cgroups *s, uint64_t id, const ah_acg_limits *desired, const ah_acg_limits *adopted,
		 char *err, size_t errlen)
{
	if (!s || !id || !desired || !adopted)
		return AH_EINVAL;
	char rel[AH_ACG_PARENT_MAX + 32], e2[512] = "";
	ah_cgroup_ref ref;
	ref_of(s, id, rel, sizeof rel, &ref);
	ah_enforce_state now;
	int rc = ah_enforce_read(&s->roots, &ref, &now, e2, sizeof e2);
	if (rc == AH_ENOENT) /* gone: made again at desired */
		return ah_acg_set(s, id, desired, NULL, err, errlen);
	if (rc < 0) {
		fail(s, e2);
		snprintf(err, errlen, "%s", e2);
		return rc;
	}
	acg_item *it = find(s, id);
	if (!it && (it = push(s)) == NULL) {
		snprintf(err, errlen, "out of memory, or more than %d allocations' cgroups", AH_ACG_MAX);
		return AH_ENOMEM;
	}
	it->id = id;
	it->pending = it->need_again = false;
	to_limits(desired, &it->desired);
	to_limits(adopted, &it->applied);
	it->have_applied = true;
	s->st.drift_adopted++;
	return 0;
}

/* Removes the cgroup: 0 removed (or gone), AH_EBUSY with tasks left. */
static int remove_dir(ah_alloc_cgroups *s, uint64_t id, char *err, size_t errlen)
{
	char rel[AH_ACG_PARENT_MAX + 32];
	ah_cgroup_ref ref;
	ref_of(s, id, rel, sizeof rel, &ref);
	int rc = ah_enforce_cgroup_remove(&s->roots, &ref, err, errlen);
	return rc == AH_ENOENT ? 0 : rc;
}

static void unhold(ah_alloc_cgroups *s, acg_item *it)
{
	if (it->soft_efd >= 0)
		close(it->soft_efd);
	*it = s->item[--s->n];
}

int ah_acg_drop(ah_alloc_cgroups *s, uint64_t id, char *err, size_t errlen)
{
	if (!s || !id)
		return AH_EINVAL;
	acg_item *it = find(s, id);
	char e2[512] = "";
	int rc = remove_dir(s, id, e2, sizeof e2);
	if (rc == 0) {
		s->st.removed++;
		if (it)
			unhold(s, it);
		return 0;
	}
	if (rc == AH_EBUSY && it) { /* tasks left: retried by each check */
		it->pending = true;
		if (it->soft_efd >= 0)
			close(it->soft_efd);
		it->soft_efd = -1;
		return 0;
	}
	if (rc == AH_EBUSY) {
		acg_item *p = push(s);
		if (!p)
			return AH_ENOMEM;
		p->id = id;
		p->pending = true;
		return 0;
	}
	fail(s, e2);
	snprintf(err, errlen, "%s", e2);
	return rc;
}

bool ah_acg_holds(const ah_alloc_cgroups *s, uint64_t id)
{
	const acg_item *it = s ? find(s, id) : NULL;
	return it && !it->pending;
}

static bool in_list(const uint64_t *v, size_t n, uint64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == id)
			return true;
	return false;
}

/* The IDs of PARENT/alloc-N directories in one mount's parent directory,
 * added to *ids (distinct). */
static int scan_dir(const char *dir, uint64_t **ids, size_t *n, size_t *cap)
{
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : AH_EIO;
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "alloc-", 6))
			continue;
		char *end = NULL;
		errno = 0;
		unsigned long long v = strtoull(de->d_name + 6, &end, 10);
		if (errno || !end || *end || v == 0 || de->d_name[6] < '1' || de->d_name[6] > '9')
			continue;
		if (in_list(*ids, *n, v))
			continue;
		if (*n == *cap) {
			size_t c = *cap ? *cap * 2 : 16;
			if (c > AH_ACG_MAX * 4) {
				rc = AH_ETOOBIG;
				break;
			}
			uint64_t *p = realloc(*ids, c * sizeof *p);
			if (!p) {
				rc = AH_ENOMEM;
				break;
			}
			*ids = p;
			*cap = c;
		}
		(*ids)[(*n)++] = v;
	}
	closedir(d);
	return rc;
}

int ah_acg_retain(ah_alloc_cgroups *s, const uint64_t *live, size_t n_live, size_t *removed, char *err, size_t errlen)
{
	if (!s)
		return AH_EINVAL;
	size_t dropped = 0, more = 0;
	int first = 0;
	for (size_t i = s->n; i-- > 0;) {
		if (s->item[i].pending || in_list(live, n_live, s->item[i].id))
			continue;
		char e2[512] = "";
		int rc = ah_acg_drop(s, s->item[i].id, e2, sizeof e2);
		if (rc < 0 && !first) {
			first = rc;
			snprintf(err, errlen, "%s", e2);
		}
		dropped += rc == 0;
	}
	int rc = ah_acg_sweep(s, live, n_live, &more, first ? NULL : err, first ? 0 : errlen);
	if (removed)
		*removed = dropped + more;
	return first ? first : rc;
}

int ah_acg_sweep(ah_alloc_cgroups *s, const uint64_t *live, size_t n_live, size_t *removed, char *err, size_t errlen)
{
	if (!s)
		return AH_EINVAL;
	if (removed)
		*removed = 0;
	char paths[1 + AH_CG_V1_N][AH_SYSPATH_MAX];
	size_t np = 0;
	int rc = ah_acg_paths(s, 0, paths, 1 + AH_CG_V1_N, &np);
	if (rc)
		return rc == AH_EINVAL ? 0 : rc; /* no mount: nothing to sweep */
	uint64_t *ids = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; i < np && rc == 0; i++)
		rc = scan_dir(paths[i], &ids, &n, &cap);
	int first = rc;
	if (rc < 0)
		snprintf(err, errlen, "cannot list %s", paths[0]);
	for (size_t i = 0; i < n; i++) {
		if (in_list(live, n_live, ids[i]) || find(s, ids[i]))
			continue;
		char e2[512] = "";
		int r = remove_dir(s, ids[i], e2, sizeof e2);
		if (r == 0) {
			s->st.orphans_removed++;
			if (removed)
				(*removed)++;
			continue;
		}
		if (r == AH_EBUSY) {
			(void)ah_acg_drop(s, ids[i], e2, sizeof e2); /* pending: retried */
			continue;
		}
		fail(s, e2);
		if (!first) {
			first = r;
			snprintf(err, errlen, "%s", e2);
		}
	}
	free(ids);
	return first;
}

/* A threshold event since the last check: usage checked against the soft
 * level, told when above. */
static void soft_events(ah_alloc_cgroups *s, acg_item *it, const ah_acg_events *ev)
{
	uint64_t n = 0;
	if (it->soft_efd < 0 || read(it->soft_efd, &n, sizeof n) != (ssize_t)sizeof n || !n)
		return;
	char rel[AH_ACG_PARENT_MAX + 32], err[512];
	ah_cgroup_ref ref;
	ref_of(s, it->id, rel, sizeof rel, &ref);
	ah_enforce_state now;
	if (ah_enforce_read(&s->roots, &ref, &now, err, sizeof err) < 0)
		return;
	ah_soft_check sc;
	ah_enforce_soft_check(&now, it->soft_watch_bytes, &sc);
	if (sc.verdict != AH_SOFT_OVER)
		return;
	s->st.soft_over++;
	if (ev && ev->soft_over)
		ev->soft_over(ev->ctx, it->id, sc.usage_bytes, it->soft_watch_bytes, sc.file_bytes);
}

int ah_acg_check(ah_alloc_cgroups *s, const ah_acg_opts *o, const ah_acg_events *ev, char *err, size_t errlen)
{
	if (!s)
		return AH_EINVAL;
	int first = 0;
	for (size_t i = 0; i < s->n;) {
		acg_item *it = &s->item[i];
		char e2[512] = "";
		if (it->pending) {
			if (remove_dir(s, it->id, e2, sizeof e2) == 0) {
				s->st.removed++;
				unhold(s, it);
				continue;
			}
			i++;
			continue;
		}
		int rc = 0;
		bool again = it->need_again || !it->have_applied;
		if (!again && !(o && o->dry_run)) {
			char rel[AH_ACG_PARENT_MAX + 32];
			ah_cgroup_ref ref;
			ref_of(s, it->id, rel, sizeof rel, &ref);
			ah_enforce_state now;
			rc = ah_enforce_read(&s->roots, &ref, &now, e2, sizeof e2);
			if (rc == AH_ENOENT) {
				again = true;
				rc = 0;
			} else if (rc == 0) {
				ah_enforce_opts eo;
				ah_enforce_opts_init(&eo);
				ah_enforce_drift dr;
				ah_enforce_drift_check(&it->applied, &now, &eo, &dr);
				if (dr.mask) {
					s->st.drift++;
					bool adopt = o && o->adopt_drift;
					if (adopt) {
						/* what is there becomes what ahead holds, field by field */
						if (dr.mask & AH_DRIFT_CPU) {
							it->applied.cpu_millicores = dr.found.cpu_millicores;
							it->applied.cpu_period_us = dr.found.cpu_period_us;
						}
						if (dr.mask & AH_DRIFT_MEM_HIGH)
							it->applied.mem_high_bytes = dr.found.mem_high_bytes;
						if (dr.mask & AH_DRIFT_MEM_MAX)
							it->applied.mem_max_bytes = dr.found.mem_max_bytes;
						if (dr.mask & AH_DRIFT_IO) {
							it->applied.n_io = dr.found.n_io;
							memcpy(it->applied.io, dr.found.io, sizeof it->applied.io);
						}
						s->st.drift_adopted++;
					} else {
						again = true;
						s->st.drift_restored++;
					}
					if (ev && ev->drift)
						ev->drift(ev->ctx, it->id, dr.mask, adopt);
				}
			}
		}
		if (rc == 0 && again)
			rc = actuate(s, it, o, e2, sizeof e2);
		if (rc == 0)
			soft_events(s, it, ev);
		if (rc < 0) {
			fail(s, e2);
			if (!first) {
				first = rc;
				snprintf(err, errlen, "%s", e2);
			}
		}
		i++;
	}
	return first;
}

int ah_acg_unlimit_all(ah_alloc_cgroups *s, char *err, size_t errlen)
{
	if (!s)
		return AH_EINVAL;
	int first = 0;
	for (size_t i = 0; i < s->n; i++) {
		acg_item *it = &s->item[i];
		if (it->pending)
			continue;
		ah_limits keep = it->desired, none;
		ah_limits_init(&none);
		if (keep.cpu_millicores != AH_LIMIT_KEEP)
			none.cpu_millicores = AH_LIMIT_NONE;
		if (keep.mem_high_bytes != AH_LIMIT_KEEP)
			none.mem_high_bytes = AH_LIMIT_NONE;
		if (keep.mem_max_bytes != AH_LIMIT_KEEP)
			none.mem_max_bytes = AH_LIMIT_NONE;
		it->desired = none;
		char e2[512] = "";
		int rc = actuate(s, it, NULL, e2, sizeof e2);
		it->desired = keep;
		it->have_applied = false;
		it->need_again = false;
		if (it->soft_efd >= 0)
			close(it->soft_efd);
		it->soft_efd = -1;
		if (rc < 0) {
			fail(s, e2);
			if (!first) {
				first = rc;
				snprintf(err, errlen, "%s", e2);
			}
		}
	}
	return first;
}

bool ah_acg_get(const ah_alloc_cgroups *s, uint64_t id, ah_acg_limits *desired, ah_acg_limits *applied)
{
	const acg_item *it = s ? find(s, id) : NULL;
	if (!it || it->pending)
		return false;
	if (desired)
		of_limits(&it->desired, desired);
	if (applied) {
		if (it->have_applied)
			of_limits(&it->applied, applied);
		else
			memset(applied, 0, sizeof *applied);
	}
	return true;
}

void ah_acg_stats_get(const ah_alloc_cgroups *s, ah_acg_stats *out)
{
	memset(out, 0, sizeof *out);
	if (!s)
		return;
	*out = s->st;
	for (size_t i = 0; i < s->n; i++) {
		if (s->item[i].pending)
			out->pending_removal++;
		else
			out->held++;
		if (s->item[i].soft_efd >= 0)
			out->soft_watched++;
	}
}
