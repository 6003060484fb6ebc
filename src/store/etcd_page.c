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
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ahead/error.h"
#include "ahead/limits.h"
#include "store/ledger_etcd_int.h"

int etcd_page_add(json_t **page, json_t *val)
{
	if (!val)
		return AH_ENOMEM;
	if (!*page && !(*page = json_array())) {
		json_decref(val);
		return AH_ENOMEM;
	}
	return json_array_append_new(*page, val) == 0 ? 0 : AH_ENOMEM;
}

int etcd_page_encode(const json_t *page, char **out, size_t *out_len)
{
	char *s = json_dumps(page, JSON_COMPACT);
	if (!s)
		return AH_ENOMEM;
	size_t n = strlen(s);
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
