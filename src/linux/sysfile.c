/* ahead: bounded reads of kernel files and their number grammar (see
 * include/ahead/sysfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ahead/error.h"
#include "linux/sysfile_int.h"

const char *ah_field_status_name(ah_field_status st)
{
	switch (st) {
	case AH_FIELD_OK:
		return "ok";
	case AH_FIELD_MAX:
		return "max";
	case AH_FIELD_BAD:
		return "bad";
	default:
		return "none";
	}
}

const char *ah_field_src_name(ah_field_src src)
{
	switch (src) {
	case AH_SRC_V2:
		return "v2";
	case AH_SRC_V1:
		return "v1";
	case AH_SRC_COLLECTOR:
		return "collector";
	case AH_SRC_PROC:
		return "proc";
	default:
		return "none";
	}
}

int ah_sys_err(char *err, size_t errlen, int code, const char *name, int line, const char *fmt, ...)
{
	if (!err || !errlen)
		return code;
	int k = line > 0 ? snprintf(err, errlen, "%s:%d: ", name, line) : snprintf(err, errlen, "%s: ", name);
	if (k < 0 || (size_t)k >= errlen)
		return code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
	va_end(ap);
	return code;
}

int ah_sys_path(char *buf, const char *root, const char *rel, const char *file)
{
	int k;
	while (rel && *rel == '/')
		rel++;
	if (rel && *rel)
		k = snprintf(buf, AH_SYSPATH_MAX, "%s/%s%s%s", root, rel, file ? "/" : "", file ? file : "");
	else
		k = snprintf(buf, AH_SYSPATH_MAX, "%s%s%s", root, file ? "/" : "", file ? file : "");
	return k < 0 || k >= AH_SYSPATH_MAX ? AH_ETOOBIG : 0;
}

int ah_sysfile_read(const char *path, char *buf, size_t cap, size_t *len, char *err, size_t errlen)
{
	return ah_sysfile_read_at(AT_FDCWD, path, path, buf, cap, len, err, errlen);
}

int ah_sysfile_read_at(int dirfd, const char *path, const char *name, char *buf, size_t cap, size_t *len, char *err,
		       size_t errlen)
{
	if (!path || !name || !buf || cap < 2 || !len)
		return AH_EINVAL;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT || e == ENOTDIR || e == ENODEV)
			return ah_sys_err(err, errlen, AH_ENOENT, path, 0, "not there");
		return ah_sys_err(err, errlen, AH_EIO, path, 0, "cannot open: %s", strerror(e));
	}
	int rc = ah_sysfile_read_fd(fd, path, buf, cap, len, err, errlen);
	close(fd);
	return rc;
}

int ah_sysfile_read_fd(int fd, const char *path, char *buf, size_t cap, size_t *len, char *err, size_t errlen)
{
	if (fd < 0 || !path || !buf || cap < 2 || !len)
		return AH_EINVAL;
	size_t n = 0, lim = cap - 1 < AH_SYSFILE_MAX_BYTES ? cap - 1 : AH_SYSFILE_MAX_BYTES;
	for (;;) {
		if (n == lim) {
			/* One more byte tells a file of exactly lim bytes from a longer one. */
			char extra;
			if (pread(fd, &extra, 1, (off_t)n) > 0)
				return ah_sys_err(err, errlen, AH_ETOOBIG, path, 0, "longer than %zu bytes", lim);
			break;
		}
		ssize_t r = pread(fd, buf + n, lim - n, (off_t)n);
		if (r < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			if (e == ENODEV || e == ENOENT || e == EOPNOTSUPP)
				return ah_sys_err(err, errlen, AH_ENOENT, path, 0, "not readable here: %s", strerror(e));
			return ah_sys_err(err, errlen, AH_EIO, path, 0, "cannot read: %s", strerror(e));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
	if (memchr(buf, 0, n))
		return ah_sys_err(err, errlen, AH_EPARSE, path, 0, "holds a NUL byte");
	*len = n;
	return 0;
}

int ah_sysfile_parse_u64(const char *s, size_t n, uint64_t *out)
{
	if (!s || n == 0)
		return AH_EINVAL;
	uint64_t v = 0;
	bool over = false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return AH_EINVAL; /* garbage wins over size: "99...9x" is not a number */
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			over = true;
		else
			v = v * 10 + d;
	}
	if (over)
		return AH_ERANGE;
	*out = v;
	return 0;
}

bool ah_lines_next(ah_lines *l, const char **s, size_t *n)
{
	if (l->p >= l->end)
		return false;
	const char *nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
	const char *e = nl ? nl : l->end;
	*s = l->p;
	*n = (size_t)(e - l->p);
	l->p = nl ? nl + 1 : l->end;
	l->lineno++;
	return true;
}

int ah_tokens(const char *s, size_t n, ah_tok *t, int max)
{
	int k = 0;
	size_t i = 0;
	while (i < n) {
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i >= n)
			break;
		size_t b = i;
		while (i < n && s[i] != ' ' && s[i] != '\t')
			i++;
		if (k == max)
			return max + 1;
		t[k].s = s + b;
		t[k].n = i - b;
		k++;
	}
	return k;
}

bool ah_tok_eq(const ah_tok *t, const char *lit)
{
	size_t m = strlen(lit);
	return t->n == m && memcmp(t->s, lit, m) == 0;
}

int ah_tok_value(const ah_tok *t, bool allow_max, ah_field *f)
{
	if (allow_max && ah_tok_eq(t, "max")) {
		f->v = UINT64_MAX;
		f->st = AH_FIELD_MAX;
		return 0;
	}
	uint64_t v;
	int rc = ah_sysfile_parse_u64(t->s, t->n, &v);
	if (rc)
		return rc;
	f->v = v;
	f->st = AH_FIELD_OK;
	return 0;
}
