/* The [linux] section of a policy: what the daemon does on its own host
 * (include/ahead/policy.h ah_linux_policy, docs/POLICY.md). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/limits.h"
#include "core/policy_int.h"

#define NS_PER_MS INT64_C(1000000)
#define NS_PER_S INT64_C(1000000000)
#define LINUX_KEYS                                                                                    \
	"observe, interval, host, max_cgroups, proc_root, cgroup_prefix, enforce, on_stop, shrink_cap, "   \
	"run_unreachable, run_hard_margin, enforce_api, api_cgroup_parent, on_drift, "            \
	"sample_allocations, io_devices"

/* A glob names cgroups by their path under a mount: relative, no "..",
 * printable, no separators doubled. */
static const char *glob_problem(const char *g, size_t n)
{
	if (n == 0)
		return "is empty";
	if (n >= AH_LINUX_GLOB_MAX)
		return "is too long";
	if (g[0] == '/')
		return "is absolute (paths are relative to each cgroup mount, e.g. system.slice/*)";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)g[i];
		if (c < 0x21 || c > 0x7e)
			return "has a blank or a control or non-ASCII byte";
		if (c == '/' && (i + 1 == n || g[i + 1] == '/'))
			return "has an empty path segment";
	}
	for (const char *p = g; (p = strstr(p, "..")) != NULL; p += 2)
		if ((p == g || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
			return "climbs out with '..'";
	return NULL;
}

static int get_globs(struct loader *L, struct section *s, const struct entry *e, ah_linux_policy *x)
{
	const char *p = e->value;
	x->n_observe = 0;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		const char *q = p;
		while (*q && *q != ',' && *q != ' ' && *q != '\t')
			q++;
		size_t n = (size_t)(q - p);
		const char *why = glob_problem(p, n);
		if (why)
			return ah_pol_fail(L, AH_EPOLICY, e->line, s, e->key, "glob '%.*s' %s", n > 60 ? 60 : (int)n,
					   p, why);
		if (x->n_observe >= AH_LINUX_OBSERVE_MAX)
			return ah_pol_fail(L, AH_EPOLICY, e->line, s, e->key, "more than %d globs", AH_LINUX_OBSERVE_MAX);
		memcpy(x->observe[x->n_observe], p, n);
		x->observe[x->n_observe++][n] = '\0';
		p = q;
	}
	return 0;
}

static int get_root(struct loader *L, struct section *s, const struct entry *e, char *out, bool may_be_empty)
{
	size_t n = strlen(e->value);
	if (n == 0 && may_be_empty) {
		out[0] = '\0';
		return 0;
	}
	if (n == 0 || e->value[0] != '/')
		return ah_pol_fail(L, AH_EPOLICY, e->line, s, e->key, "expected an absolute path, got '%.60s'", e->value);
	if (n >= AH_LINUX_ROOT_MAX)
		return ah_pol_fail(L, AH_EPOLICY, e->line, s, e->key, "longer than %d bytes", AH_LINUX_ROOT_MAX - 1);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)e->value[i] < 0x20 || e->value[i] == 0x7f)
			return ah_pol_fail(L, AH_EPOLICY, e->line, s, e->key, "has a control byte");
	memcpy(out, e->value, n + 1);
	return 0;
}

/* One word of a fixed set: its index, or a failure naming the key and
 * listing the words. */
static int get_word(struct loader *L, const struct section *s, const struct entry *e, const char *const *words,
		    int n, const char *list, int *out)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(e->value, words[i])) {
			*out = i;
			return 0;
		}
	return ah_pol_fail(L, AH_EPOLICY, e->line, s, e->key, "'%.40s' is not one of %s", e->value, list);
}

int ah_pol_class_enforce(struct loader *L, const struct section *s, const struct entry *e, int *out)
{
	static const char *const w[] = {"on", "dry-run"};
	int i = 0;
	if (get_word(L, s, e, w, 2, "on, dry-run (the global stop switch is [linux] enforce = off)", &i))
		return L->rc;
	*out = i == 0 ? AH_ENFORCE_ON : AH_ENFORCE_DRY_RUN;
	return 0;
}

/* shrink_cap = 10% (of the current limit) or an amount of memory (256Mi,
 * 1G, bytes); 0 or 0% turns the cap off. */
static int get_shrink_cap(struct loader *L, struct section *s, const struct entry *e, ah_linux_policy *x)
{
	const char *v = e->value;
	size_t n = strlen(v);
	x->shrink_cap_bytes = 0;
	x->shrink_cap_frac = 0;
	if (n && v[n - 1] == '%') {
		char num[32];
		char *end = NULL;
		if (n - 1 == 0 || n - 1 >= sizeof num)
			return ah_pol_fail(L, AH_EPOLICY, e->line, s, e->key, "'%.40s' is not a percentage (e.g. 10%%)", v);
		memcpy(num, v, n - 1);
		num[n - 1] = '\0';
		errno = 0;
		double f = strtod(num, &end);
		if (errno || !end || *end || !isfinite(f) || f < 0 || num[0] == ' ')
			return ah_pol_fail(L, AH_EPOLICY, e->line, s, e->key, "'%.40s' is not a percentage (e.g. 10%%)", v);
		if (f / 100 > AH_LINUX_SHRINK_CAP_FRAC_MAX)
			return ah_pol_fail(L, AH_EPOLICY, e->line, s, e->key, "%.40s is above 100%%", v);
		x->shrink_cap_frac = f / 100;
		return 0;
	}
	int64_t b;
	if (ah_unit_parse(AH_UNIT_BYTES, v, &b) != 0)
		return ah_pol_fail(L, AH_EPOLICY, e->line, s, e->key,
				   "'%.40s' is neither a percentage (10%%) nor an amount of memory (256Mi)", v);
	x->shrink_cap_bytes = (uint64_t)b;
	return 0;
}

static int get_margin(struct loader *L, struct section *s, const struct entry *e, double *out)
{
	const char *v = e->value;
	size_t n = strlen(v);
	char num[32];
	char *end = NULL;
	bool pct = n && v[n - 1] == '%';
	size_t m = pct ? n - 1 : n;
	if (m == 0 || m >= sizeof num)
		return ah_pol_fail(L, AH_EPOLICY, e->line, s, e->key, "'%.40s' is not a number or a percentage", v);
	memcpy(num, v, m);
	num[m] = '\0';
	errno = 0;
	double f = strtod(num, &end);
	if (errno || !end || *end || !isfinite(f) || num[0] == ' ')
		return ah_pol_fail(L, AH_EPOLICY, e->line, s, e->key, "'%.40s' is not a number or a percentage", v);
	if (pct)
		f /= 100;
	if (f < 0 || f > AH_LINUX_HARD_MARGIN_MAX)
		return ah_pol_fail(L, AH_EPOLICY, e->line, s, e->key, "%.40s is outside 0..%g (0%%..%g%%)", v,
				   AH_LINUX_HARD_MARGIN_MAX, AH_LINUX_HARD_MARGIN_MAX * 100);
	*out = f;
	return 0;
}

/* io_devices: block devices as MAJ:MIN (what /proc/partitions and
 * `lsblk -o MAJ:MIN` show), separated by commas or spaces, at most
 * AH_LINUX_IO_DEVICES_MAX, none twice. */
static int get_devices(struct loader *L, struct section *s, struct entry *e, ah_linux_policy *x)
{
	x->n_io_devices = 0;
	const char *p = e->value;
	while (*p) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (!*p)
			break;
		const char *t = p;
		while (*p && *p != ' ' && *p != ',' && *p != '\t')
			p++;
		int len = (int)(p - t);
		unsigned long maj, mnr;
		char *end;
		errno = 0;
		maj = strtoul(t, &end, 10);
		bool ok = end != t && *end == ':' && t[0] != '-' && t[0] != '+' && errno == 0 && maj <= 0xfff;
		if (ok) {
			const char *m = end + 1;
			mnr = strtoul(m, &end, 10);
			ok = end != m && end == p && m[0] != '-' && m[0] != '+' && errno == 0 && mnr <= 0xfffff;
		}
		if (!ok)
			return ah_pol_fail(L, AH_EPOLICY, e->line, s, e->key,
					   "'%.*s' is not a device MAJ:MIN (e.g. 8:0; major 0..4095, minor 0..1048575)",
					   len > 40 ? 40 : len, t);
		for (int i = 0; i < x->n_io_devices; i++)
			if (x->io_devices[i].major == maj && x->io_devices[i].minor == mnr)
				return ah_pol_fail(L, AH_EPOLICY, e->line, s, e->key, "device %lu:%lu is named twice", maj,
						   mnr);
		if (x->n_io_devices >= AH_LINUX_IO_DEVICES_MAX)
			return ah_pol_fail(L, AH_EPOLICY, e->line, s, e->key, "more than %d devices",
					   AH_LINUX_IO_DEVICES_MAX);
		x->io_devices[x->n_io_devices].major = (uint32_t)maj;
		x->io_devices[x->n_io_devices++].minor = (uint32_t)mnr;
	}
	return 0;
}

int ah_pol_linux(struct loader *L, struct section *s)
{
	ah_linux_policy *x = &L->P->linux_host;
	memset(x, 0, sizeof *x);
	x->on = true;
	x->interval_ns = 5 * NS_PER_S;
	x->host = true;
	x->max_cgroups = 100;
	snprintf(x->proc_root, sizeof x->proc_root, "/proc");
	x->run_hard_margin = 0.25;
	x->sample_allocs = true;
	for (int i = 0; i < s->n; i++) {
		struct entry *e = &s->e[i];
		const char *k = e->key;
		int rc;
		if (!strcmp(k, "observe"))
			rc = get_globs(L, s, e, x);
		else if (!strcmp(k, "interval"))
			rc = ah_pol_duration_range(L, s, e, 100 * NS_PER_MS, 3600 * NS_PER_S, &x->interval_ns);
		else if (!strcmp(k, "host"))
			rc = ah_pol_bool(L, s, e, &x->host);
		else if (!strcmp(k, "max_cgroups"))
			rc = ah_pol_int(L, s, e, 0, AH_COLLECTOR_CGROUPS_MAX, &x->max_cgroups);
		else if (!strcmp(k, "proc_root"))
			rc = get_root(L, s, e, x->proc_root, false);
		else if (!strcmp(k, "cgroup_prefix"))
			rc = get_root(L, s, e, x->cgroup_prefix, true);
		else if (!strcmp(k, "enforce")) {
			static const char *const w[] = {"on", "dry-run", "off"};
			int i = 0;
			rc = get_word(L, s, e, w, 3, "on, dry-run, off", &i);
			x->enforce = (ah_enforce_mode)i;
		} else if (!strcmp(k, "on_stop")) {
			static const char *const w[] = {"leave", "restore"};
			int i = 0;
			rc = get_word(L, s, e, w, 2, "leave, restore", &i);
			x->on_stop = (ah_on_stop)i;
		} else if (!strcmp(k, "shrink_cap"))
			rc = get_shrink_cap(L, s, e, x);
		else if (!strcmp(k, "run_unreachable")) {
			static const char *const w[] = {"refuse", "unconfined", "class-default"};
			int i = 0;
			rc = get_word(L, s, e, w, 3, "refuse, unconfined, class-default", &i);
			x->run_unreachable = (ah_run_unreachable)i;
		} else if (!strcmp(k, "run_hard_margin"))
			rc = get_margin(L, s, e, &x->run_hard_margin);
		else if (!strcmp(k, "enforce_api")) {
			static const char *const w[] = {"off", "on", "dry-run"};
			int i = 0;
			rc = get_word(L, s, e, w, 3, "off, on, dry-run", &i);
			x->enforce_api = (ah_enforce_api)i;
		} else if (!strcmp(k, "api_cgroup_parent")) {
			size_t n = strlen(e->value);
			const char *why = glob_problem(e->value, n);
			if (!why && strpbrk(e->value, "*?[]\\"))
				why = "has a glob character (a plain path is needed, e.g. ahead)";
			if (!why && n >= AH_LINUX_PARENT_MAX)
				why = "is too long";
			if (!why && e->value[n - 1] == '/')
				why = "ends with '/'";
			rc = why ? ah_pol_fail(L, AH_EPOLICY, e->line, s, e->key, "'%.60s' %s", e->value, why) : 0;
			if (!rc)
				snprintf(x->api_cgroup_parent, sizeof x->api_cgroup_parent, "%s", e->value);
		} else if (!strcmp(k, "on_drift")) {
			static const char *const w[] = {"restore", "adopt"};
			int i = 0;
			rc = get_word(L, s, e, w, 2, "restore, adopt", &i);
			x->adopt_drift = i == 1;
		} else if (!strcmp(k, "sample_allocations"))
			rc = ah_pol_bool(L, s, e, &x->sample_allocs);
		else if (!strcmp(k, "io_devices"))
			rc = get_devices(L, s, e, x);
		else
			return ah_pol_unknown_key(L, s, e, LINUX_KEYS);
		if (rc)
			return L->rc;
	}
	return 0;
}
