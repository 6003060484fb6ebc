/* A fake file tree for the cgroup tests: files written and read under a
 * test's scratch root (`root`, set by the test before use). Include after
 * cmocka.h. */
#ifndef AHEAD_TEST_TREE_FIXTURE_H
#define AHEAD_TEST_TREE_FIXTURE_H

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static char root[PATH_MAX];

/* mkdir -p */
static inline void mkdirs(const char *path)
{
	char b[PATH_MAX];
	snprintf(b, sizeof b, "%s", path);
	for (char *p = b + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			mkdir(b, 0755);
			*p = '/';
		}
	mkdir(b, 0755);
}

/* Writes ROOT/rel (its directories made as needed). */
static inline void wr(const char *rel, const char *fmt, ...)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/%s", root, rel);
	char *slash = strrchr(p, '/');
	*slash = 0;
	mkdirs(p);
	*slash = '/';
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

/* The content of ROOT/rel, without a trailing newline ("(absent)" when it
 * is not there); a static buffer. */
static inline const char *rd(const char *rel)
{
	static char b[4096];
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/%s", root, rel);
	FILE *f = fopen(p, "r");
	if (!f)
		return "(absent)";
	size_t n = fread(b, 1, sizeof b - 1, f);
	fclose(f);
	b[n] = 0;
	while (n && b[n - 1] == '\n')
		b[--n] = 0;
	return b;
}

#endif
