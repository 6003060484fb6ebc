/* A forwarder's relay frames (src/server/relay.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/limits.h"
#include "server/relay.h"

#define RELAY_MAGIC "AHEAD-RELAY 1 "
/* a request's fields: path, auth, idem, ctype, body, then key/value pairs */
#define RELAY_FIXED 5

void relay_buf_fini(relay_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

int relay_put_bytes(relay_buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t c = (b->len + n + 1) * 2;
		char *t = realloc(b->p, c);
		if (!t)
			return AH_ENOMEM;
		b->p = t;
		b->cap = c;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int putf(relay_buf *b, const char *fmt, long long v)
{
	char t[32];
	int n = snprintf(t, sizeof t, fmt, v);
	return relay_put_bytes(b, t, (size_t)n);
}

int relay_put_head(relay_buf *b, int n)
{
	if (!b || n < 0 || n > AH_RELAY_ITEMS_MAX)
		return AH_EINVAL;
	int rc = relay_put_bytes(b, RELAY_MAGIC, strlen(RELAY_MAGIC));
	return rc ? rc : putf(b, "%lld\n", n);
}

static long long slen(const char *s)
{
	return s ? (long long)strlen(s) : -1;
}

int relay_put_req(relay_buf *b, const relay_req *r)
{
	if (!b || !r || !r->method || !r->path || strlen(r->method) > 15 || strpbrk(r->method, " \n") ||
	    r->n_args < 0 || r->n_args > AH_API_MAX_ARGS || (r->body_len && !r->body))
		return AH_EINVAL;
	int rc = relay_put_bytes(b, r->method, strlen(r->method));
	long long lens[RELAY_FIXED + 2 * AH_API_MAX_ARGS] = {slen(r->path), slen(r->auth), slen(r->idem),
							      slen(r->ctype), (long long)r->body_len};
	const char *vals[RELAY_FIXED + 2 * AH_API_MAX_ARGS] = {r->path, r->auth, r->idem, r->ctype, r->body};
	int nf = RELAY_FIXED;
	for (int i = 0; i < r->n_args; i++) {
		if (!r->key[i])
			return AH_EINVAL;
		vals[nf] = r->key[i];
		lens[nf++] = slen(r->key[i]);
		vals[nf] = r->val[i];
		lens[nf++] = slen(r->val[i]);
	}
	if (rc == 0)
		rc = putf(b, " %lld", r->n_args);
	for (int i = 0; i < nf && rc == 0; i++)
		rc = putf(b, " %lld", lens[i]);
	if (rc == 0)
		rc = relay_put_bytes(b, "\n", 1);
	for (int i = 0; i < nf && rc == 0; i++)
		if (lens[i] > 0)
			rc = relay_put_bytes(b, vals[i], (size_t)lens[i]);
	return rc;
}

int relay_put_answer(relay_buf *b, int status, int retry_after_s, const char *body, size_t len)
{
	if (!b || status < 100 || status > 599 || retry_after_s < 0 || (len && !body))
		return AH_EINVAL;
	int rc = putf(b, "%lld", status);
	if (rc == 0)
		rc = putf(b, " %lld", retry_after_s);
	if (rc == 0)
		rc = putf(b, " %lld\n", (long long)len);
	if (rc == 0)
		rc = relay_put_bytes(b, body, len);
	return rc;
}

/* ---- reading ---- */

typedef struct {
	const char *p, *end;
	char *err;
	size_t errlen;
	int item;
} reader;

static int bad(reader *r, const char *what)
{
	if (r->item >= 0)
		snprintf(r->err, r->errlen, "relay item %d: %s", r->item, what);
	else
		snprintf(r->err, r->errlen, "relay: %s", what);
	return AH_EINVAL;
}

/* The next line, without its newline, into [*s, *e). */
static int line(reader *r, const char **s, const char **e)
{
	const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
	if (!nl || nl - r->p > 1024)
		return bad(r, "no header line (cut short?)");
	*s = r->p;
	*e = nl;
	r->p = nl + 1;
	return 0;
}

/* One decimal field of a header line, in [lo, hi]. */
static int num(reader *r, const char **s, const char *e, long long lo, long long hi, long long *out)
{
	while (*s < e && **s == ' ')
		(*s)++;
	const char *q = *s;
	bool neg = q < e && *q == '-';
	if (neg)
		q++;
	long long v = 0;
	const char *d = q;
	while (q < e && *q >= '0' && *q <= '9' && q - d < 12)
		v = v * 10 + (*q++ - '0');
	if (q == d || (q < e && *q != ' '))
		return bad(r, "a length is not a number");
	v = neg ? -v : v;
	if (v < lo || v > hi)
		return bad(r, "a length is out of range");
	*s = q;
	*out = v;
	return 0;
}

static int head(reader *r, long long *n)
{
	const char *s, *e;
	int rc = line(r, &s, &e);
	size_t m = strlen(RELAY_MAGIC);
	if (rc == 0 && ((size_t)(e - s) <= m || memcmp(s, RELAY_MAGIC, m)))
		rc = bad(r, "not a relay frame (its first line is AHEAD-RELAY 1 N)");
	s += m;
	if (rc == 0)
		rc = num(r, &s, e, 0, AH_RELAY_ITEMS_MAX, n);
	if (rc == 0 && s != e)
		rc = bad(r, "junk after the count");
	return rc;
}

static int one_req(reader *r, relay_req *q, char **a)
{
	const char *s, *e;
	int rc = line(r, &s, &e);
	if (rc < 0)
		return rc;
	const char *sp = memchr(s, ' ', (size_t)(e - s));
	if (!sp || sp == s || sp - s > 15)
		return bad(r, "no method");
	memcpy(*a, s, (size_t)(sp - s));
	q->method = *a;
	*a += sp - s;
	*(*a)++ = '\0';
	s = sp;
	long long na, lens[RELAY_FIXED + 2 * AH_API_MAX_ARGS];
	if ((rc = num(r, &s, e, 0, AH_API_MAX_ARGS, &na)) < 0)
		return rc;
	int nf = RELAY_FIXED + 2 * (int)na;
	for (int i = 0; i < nf; i++)
		if ((rc = num(r, &s, e, i == 0 || i == 4 || (i >= RELAY_FIXED && i % 2 == 1) ? 0 : -1,
			      AH_RELAY_BYTES_MAX, &lens[i])) < 0)
			return rc;
	if (s != e)
		return bad(r, "junk after the lengths");
	const char *f[RELAY_FIXED + 2 * AH_API_MAX_ARGS];
	for (int i = 0; i < nf; i++) {
		if (lens[i] < 0) {
			f[i] = NULL;
			continue;
		}
		if (lens[i] > r->end - r->p)
			return bad(r, "a field is cut short");
		memcpy(*a, r->p, (size_t)lens[i]);
		f[i] = *a;
		*a += lens[i];
		*(*a)++ = '\0';
		r->p += lens[i];
	}
	q->path = f[0];
	q->auth = f[1];
	q->idem = f[2];
	q->ctype = f[3];
	q->body_len = (size_t)lens[4];
	q->body = lens[4] ? f[4] : NULL;
	q->n_args = (int)na;
	for (int i = 0; i < q->n_args; i++) {
		q->key[i] = f[RELAY_FIXED + 2 * i];
		q->val[i] = f[RELAY_FIXED + 2 * i + 1];
	}
	return 0;
}

int relay_parse_reqs(const char *p, size_t len, relay_req **out, int *out_n, char **arena, char *err, size_t errlen)
{
	reader r = {p, p + len, err, errlen, -1};
	relay_req *qs = NULL;
	char *ar = NULL;
	long long n = 0;
	int rc = AH_EINVAL;
	if (!p || !out || !out_n || !arena || len > AH_RELAY_BYTES_MAX) {
		if (err && errlen)
			snprintf(err, errlen, "relay: larger than %d bytes", AH_RELAY_BYTES_MAX);
		return AH_EINVAL;
	}
	if ((rc = head(&r, &n)) < 0)
		goto out;
	/* every field's bytes plus a NUL each: no more than the frame and
	 * 6 + 2 * AH_API_MAX_ARGS NULs an item */
	qs = calloc(n ? (size_t)n : 1, sizeof *qs);
	ar = malloc(len + (size_t)n * (RELAY_FIXED + 1 + 2 * AH_API_MAX_ARGS) + 1);
	rc = AH_ENOMEM;
	if (!qs || !ar)
		goto out;
	char *a = ar;
	for (r.item = 0; r.item < n; r.item++)
		if ((rc = one_req(&r, &qs[r.item], &a)) < 0)
			goto out;
	r.item = -1;
	rc = r.p == r.end ? 0 : bad(&r, "bytes after the last item");
out:
	if (rc < 0) {
		free(qs);
		free(ar);
		return rc;
	}
	*out = qs;
	*out_n = (int)n;
	*arena = ar;
	return 0;
}

int relay_parse_answers(const char *p, size_t len, int n, relay_answer *out, char *err, size_t errlen)
{
	reader r = {p, p + len, err, errlen, -1};
	long long got = 0;
	int rc = p && out ? head(&r, &got) : AH_EINVAL;
	if (rc == 0 && got != n)
		rc = bad(&r, "a different number of answers than requests");
	relay_answer *tmp = n ? calloc((size_t)n, sizeof *tmp) : NULL;
	if (rc == 0 && n && !tmp)
		rc = AH_ENOMEM;
	for (r.item = 0; rc == 0 && r.item < n; r.item++) {
		const char *s, *e;
		long long st, ra, bl;
		if ((rc = line(&r, &s, &e)) < 0 || (rc = num(&r, &s, e, 100, 599, &st)) < 0 ||
		    (rc = num(&r, &s, e, 0, 86400, &ra)) < 0 || (rc = num(&r, &s, e, 0, AH_FORWARD_ANSWER_MAX, &bl)) < 0)
			break;
		if (s != e || bl > r.end - r.p) {
			rc = bad(&r, s != e ? "junk after the lengths" : "an answer is cut short");
			break;
		}
		tmp[r.item] = (relay_answer){(int)st, (int)ra, r.p, (size_t)bl};
		r.p += bl;
	}
	r.item = -1;
	if (rc == 0 && r.p != r.end)
		rc = bad(&r, "bytes after the last answer");
	if (rc == 0 && n)
		memcpy(out, tmp, sizeof *tmp * (size_t)n);
	free(tmp);
	return rc;
}
