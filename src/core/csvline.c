/* The one CSV line reader (include/ahead/csvline.h). Byte at a time through
 * getc_unlocked: a NUL byte is seen where fgets would hide it, and a line
 * never grows past the caller's buffer. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "ahead/csvline.h"
#include "ahead/error.h"

void ah_csvline_init(ah_csvline *r, FILE *f, const char *name, char *buf, size_t cap)
{
	memset(r, 0, sizeof(*r));
	r->f = f;
	r->buf = buf;
	r->cap = cap;
	snprintf(r->name, sizeof(r->name), "%s", name && *name ? name : "-");
}

static int fail(ah_csvline *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(ah_csvline *r, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
	snprintf(r->err, sizeof(r->err), "%s:%llu: %s", r->name, (unsigned long long)r->lineno, r->reason);
	r->failed = code;
	return code;
}

static int binary(ah_csvline *r, int c)
{
	if (c == 0)
		return fail(r, AH_EPARSE, "binary data (NUL byte); not a CSV text file");
	return fail(r, AH_EPARSE, "binary data (control byte 0x%02x); not a CSV text file", (unsigned)c);
}

int ah_csvline_next(ah_csvline *r, char **line, size_t *len)
{
	if (r->failed)
		return r->failed;
	size_t n = 0;
	int c, any = 0;
	while ((c = getc_unlocked(r->f)) != EOF) {
		if (!any) {
			any = 1;
			r->lineno++;
		}
		if (c == '\n')
			break;
		if (c == '\r') {
			int d = getc_unlocked(r->f);
			if (d == '\n' || d == EOF)
				break;
			return binary(r, c); /* a lone CR: not a line ending here */
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return binary(r, c);
		if (n + 1 >= r->cap)
			return fail(r, AH_ETOOBIG, "line longer than %zu bytes", r->cap - 1);
		r->buf[n++] = (char)c;
	}
	if (ferror(r->f))
		return fail(r, AH_EIO, "read error: %s", strerror(errno));
	if (!any)
		return 0;
	r->buf[n] = 0;
	*line = r->buf;
	*len = n;
	return 1;
}

const char *ah_csvline_error(const ah_csvline *r)
{
	return r && r->err[0] ? r->err : "no error";
}

const char *ah_csvline_reason(const ah_csvline *r)
{
	return r && r->reason[0] ? r->reason : "no error";
}

int ah_csvline_split(char *line, char sep, char **fields, int max)
{
	int n = 0;
	fields[n++] = line;
	for (char *p = line; *p; p++) {
		if (*p != sep)
			continue;
		if (n == max + 1)
			return n;
		*p = 0;
		fields[n++] = p + 1;
	}
	return n;
}

char *ah_csvline_trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = 0;
	return s;
}

/* One quoted field starting at P (on the quote): unquotes in place into W.
 * Returns the position after the field, or NULL if the quote never ends. */
static char *quoted(char *p, char **w)
{
	p++;
	for (;;) {
		if (!*p)
			return NULL;
		if (*p == '"') {
			if (p[1] != '"')
				break;
			p++;
		}
		*(*w)++ = *p++;
	}
	p++;
	while (*p && *p != ',')
		p++; /* junk after the closing quote is ignored */
	return p;
}

int ah_csvline_split_quoted(char *line, char **fields, int max)
{
	int n = 0;
	char *p = line;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		char *start = p, *w = p;
		if (*p == '"') {
			if (!(p = quoted(p, &w)))
				return AH_EPARSE;
		} else {
			while (*p && *p != ',')
				p++;
			w = p;
		}
		char sep = *p;
		*w = 0;
		if (n < max)
			fields[n] = ah_csvline_trim(start);
		n++;
		if (sep != ',')
			return n;
		p++;
	}
}
