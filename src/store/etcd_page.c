/* ahead: an etcd ledger's log pages (ledger_etcd_int.h). A page is one
 * commit's events or audit records, {"b": [record, ...]}, at ev/LAST or
 * au/LAST. Its records repeat the same names and fields, so a page past
 * AH_ETCD_PAGE_DEFLATE_MIN bytes is stored deflated (zlib's format, level
 * 1): the bytes every commit sends through etcd's JSON gateway, its raft
 * log and its members are most of what a commit costs etcd (measured in
 * docs/CLUSTER.md "Throughput"). A zlib stream opens with 0x78, a JSON
 * page with '{', so a reader tells them apart and pages written before
 * compression still read. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ahead/error.h"
#include "ahead/limits.h"
#include "store/ledger_etcd_int.h"

/* ---- writing: records as compact JSON text, with no tree ---- */

void etcd_page_reset(etcd_page *pg)
{
	free(pg->p);
	*pg = (etcd_page){0};
}

static void put(etcd_page *pg, const char *p, size_t n)
{
	if (pg->failed)
		return;
	if (pg->len + n + 1 > pg->cap) {
		size_t c = (pg->len + n + 1) * 2;
		if (c < 4096)
			c = 4096;
		char *t = realloc(pg->p, c);
		if (!t) {
			pg->failed = true;
			return;
		}
		pg->p = t;
		pg->cap = c;
	}
	memcpy(pg->p + pg->len, p, n);
	pg->len += n;
	pg->p[pg->len] = '\0';
}

/* The length of the well-formed UTF-8 sequence at s (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF), 0 if it is not. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
	unsigned c = s[0];
	size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
	if (c < 0xc2 || c > 0xf4 || left < n)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) || (c == 0xf0 && s[1] < 0x90) ||
	    (c == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

/* s as a JSON string. jansson's own writer needs a tree of every record
 * first, which cost the cluster's writer a fifth of its CPU (docs/CLUSTER.md
 * "Throughput"); the pages are still read back by jansson. A byte that is
 * not well-formed UTF-8 is written as U+FFFD (jansson would refuse the
 * whole record). */
static void put_str(etcd_page *pg, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t left = strlen((const char *)s), run = 0;
	put(pg, "\"", 1);
	while (left) {
		unsigned c = s[run];
		size_t u = 0;
		if (c >= 0x20 && c != '"' && c != '\\' && (c < 0x80 || (u = utf8_len(s + run, left - run)))) {
			run += u ? u : 1;
			if (run < left)
				continue;
		}
		put(pg, (const char *)s, run); /* the plain bytes before this one */
		s += run;
		left -= run;
		run = 0;
		if (!left)
			break;
		char esc[8];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(pg, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			put(pg, esc, 6);
		} else {
			put(pg, "\\ufffd", 6);
		}
		s++;
		left--;
	}
	put(pg, "\"", 1);
}

static void put_key(etcd_page *pg, const char *key)
{
	bool first = pg->fields++ == 0;
	put(pg, first ? "\"" : ",\"", first ? 1 : 2);
	put(pg, key, strlen(key));
	put(pg, "\":", 2);
}

void etcd_page_rec_begin(etcd_page *pg)
{
	bool first = pg->n++ == 0;
	put(pg, first ? "{" : ",{", first ? 1 : 2);
	pg->fields = 0;
}

void etcd_page_int(etcd_page *pg, const char *key, int64_t v)
{
	char t[24];
	int n = snprintf(t, sizeof t, "%lld", (long long)v);
	put_key(pg, key);
	put(pg, t, (size_t)n);
}

void etcd_page_str(etcd_page *pg, const char *key, const char *v)
{
	put_key(pg, key);
	put_str(pg, v);
}

int etcd_page_rec_end(etcd_page *pg)
{
	put(pg, "}", 1);
	return pg->failed ? AH_ENOMEM : 0;
}

int etcd_page_encode(const etcd_page *pg, char **out, size_t *out_len)
{
	if (pg->failed)
		return AH_ENOMEM;
	size_t n = pg->len + 8;
	char *s = malloc(n + 1);
	if (!s)
		return AH_ENOMEM;
	n = (size_t)snprintf(s, n + 1, "{\"b\":[%s]}", pg->p ? pg->p : "");
	if (n < AH_ETCD_PAGE_DEFLATE_MIN) {
		*out = s;
		*out_len = n;
		return 0;
	}
	uLongf zn = compressBound((uLong)n);
	Bytef *z = malloc(zn);
	if (!z || compress2(z, &zn, (const Bytef *)s, (uLong)n, 1) != Z_OK) {
		free(z);
		free(s);
		return AH_ENOMEM;
	}
	free(s);
	*out = (char *)z;
	*out_len = zn;
	return 0;
}

/* A deflated page inflated, at most AH_ETCD_PAGE_MAX bytes; NULL if it is
 * not a whole zlib stream or larger than that. */
static char *inflate_page(const char *val, size_t vlen, size_t *out_len)
{
	z_stream zs = {.next_in = (Bytef *)val, .avail_in = (uInt)vlen};
	size_t cap = vlen * 8 + 1024, n = 0;
	char *buf = NULL;
	if (vlen > UINT32_MAX || inflateInit(&zs) != Z_OK)
		return NULL;
	int zrc = Z_OK;
	while (zrc == Z_OK) {
		if (cap > AH_ETCD_PAGE_MAX + 1)
			cap = AH_ETCD_PAGE_MAX + 1;
		char *nb = n < cap ? realloc(buf, cap) : NULL;
		if (!nb)
			break;
		buf = nb;
		zs.next_out = (Bytef *)buf + n;
		zs.avail_out = (uInt)(cap - n);
		zrc = inflate(&zs, Z_NO_FLUSH);
		n = cap - zs.avail_out;
		if (zrc == Z_OK && zs.avail_out == 0)
			cap *= 2;
		else if (zrc == Z_OK)
			zrc = Z_DATA_ERROR; /* input used up before the stream's end */
	}
	inflateEnd(&zs);
	if (zrc != Z_STREAM_END || n > AH_ETCD_PAGE_MAX) {
		free(buf);
		return NULL;
	}
	*out_len = n;
	return buf;
}

json_t *etcd_page_decode(const char *val, size_t vlen)
{
	if (vlen < 2 || (unsigned char)val[0] != 0x78)
		return json_loadb(val, vlen, 0, NULL);
	size_t n = 0;
	char *s = inflate_page(val, vlen, &n);
	json_t *j = s ? json_loadb(s, n, 0, NULL) : NULL;
	free(s);
	return j;
}
