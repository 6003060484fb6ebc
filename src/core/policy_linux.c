/* The [linux] section of a policy: what the daemon does on its own host
 * (include/ahead/policy.h ah_linux_policy, docs/POLICY.md). */
#include <stdio.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/limits.h"
#include "core/policy_int.h"

#define NS_PER_MS INT64_C(1000000)
#define NS_PER_S INT64_C(1000000000)
#define LINUX_KEYS "observe, interval, host, max_cgroups, proc_root, cgroup_prefix"

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

int ah_pol_linux(struct loader *L, struct section *s)
{
	ah_linux_policy *x = &L->P->linux_host;
	memset(x, 0, sizeof *x);
	x->on = true;
	x->interval_ns = 5 * NS_PER_S;
	x->host = true;
	x->max_cgroups = 100;
	snprintf(x->proc_root, sizeof x->proc_root, "/proc");
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
		else
			return ah_pol_unknown_key(L, s, e, LINUX_KEYS);
		if (rc)
			return L->rc;
	}
	return 0;
}
