/* ahead: the etcd v3 JSON gateway client (see etcd_client.h). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ahead/error.h"
#include "store/etcd_client.h"

#define ETCD_MAX_ENDPOINTS 16
#define ETCD_URL_MAX 256
/* The largest answer taken (a whole ledger's state in one range). */
#define ETCD_RESP_MAX (256u << 20)
/* A member that did not answer (connect or read timed out, connection
 * refused) is tried last for this long: a paused or partitioned member
 * would otherwise cost every call its full timeout before the next one is
 * tried (etcd's own client sets such endpoints aside the same way). */
#define ETCD_SUSPECT_NS (INT64_C(5) * 1000000000)

struct etcd_client {
	CURL *h;
	char url[ETCD_MAX_ENDPOINTS][ETCD_URL_MAX];
	int n, cur;
	int64_t suspect_until_ns[ETCD_MAX_ENDPOINTS];
	long timeout_ms;
	char err[1024];
	char *buf;
	size_t len, cap;
	bool too_big;
	bool no_answer; /* the last post_one got no HTTP answer at all */
	etcd_client_stats st;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int path_kind(const char *path)
{
	static const char *const P[ETCD_CALL_KINDS] = {"/v3/kv/range", "/v3/kv/txn", "/v3/kv/put", "/v3/lease/", "/v3/watch"};
	for (int i = 0; i < ETCD_CALL_KINDS; i++)
		if (!strncmp(path, P[i], strlen(P[i])))
			return i;
	return ETCD_CALL_KINDS - 1;
}

const etcd_client_stats *etcd_client_stats_get(const etcd_client *c)
{
	return &c->st;
}

static size_t on_data(char *p, size_t sz, size_t nm, void *ctx)
{
	etcd_client *c = ctx;
	size_t n = sz * nm;
	if (c->len + n + 1 > ETCD_RESP_MAX) {
		c->too_big = true;
		return 0;
	}
	if (c->len + n + 1 > c->cap) {
		size_t nc = c->cap ? c->cap : 4096;
		while (nc < c->len + n + 1)
			nc *= 2;
		char *nb = realloc(c->buf, nc);
		if (!nb)
			return 0;
		c->buf = nb;
		c->cap = nc;
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	c->buf[c->len] = '\0';
	return n;
}

int etcd_client_new(const char *endpoints, long timeout_ms, etcd_client **out, char *err, size_t errlen)
{
	if (!endpoints || !out)
		return AH_EINVAL;
	if (timeout_ms <= 0)
		timeout_ms = 2000;
	etcd_client *c = calloc(1, sizeof *c);
	if (!c)
		return AH_ENOMEM;
	c->timeout_ms = timeout_ms;
	const char *p = endpoints;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n) {
			if (c->n == ETCD_MAX_ENDPOINTS || n >= ETCD_URL_MAX - 1) {
				snprintf(err, errlen, "etcd endpoints: more than %d, or one longer than %d bytes",
					 ETCD_MAX_ENDPOINTS, ETCD_URL_MAX - 2);
				free(c);
				return AH_ETOOBIG;
			}
			memcpy(c->url[c->n], p, n);
			while (n > 0 && c->url[c->n][n - 1] == '/')
				n--;
			c->url[c->n][n] = '\0';
			if (strncmp(c->url[c->n], "http://", 7) && strncmp(c->url[c->n], "https://", 8)) {
				snprintf(err, errlen, "etcd endpoint %s: not an http:// or https:// URL", c->url[c->n]);
				free(c);
				return AH_EINVAL;
			}
			c->n++;
		}
		p += n + (e ? 1 : 0);
		if (!e)
			break;
	}
	if (!c->n) {
		snprintf(err, errlen, "etcd endpoints: none given");
		free(c);
		return AH_EINVAL;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!(c->h = curl_easy_init())) {
		snprintf(err, errlen, "etcd: cannot start libcurl");
		free(c);
		return AH_ENOMEM;
	}
	*out = c;
	return 0;
}

void etcd_client_free(etcd_client *c)
{
	if (!c)
		return;
	if (c->h)
		curl_easy_cleanup(c->h);
	free(c->buf);
	free(c);
}

const char *etcd_client_errmsg(const etcd_client *c)
{
	return c ? c->err : "";
}

const char *etcd_client_endpoint(const etcd_client *c)
{
	return c ? c->url[c->cur] : "";
}

int etcd_client_n_urls(const etcd_client *c)
{
	return c ? c->n : 0;
}

const char *etcd_client_url(const etcd_client *c, int i)
{
	return c && i >= 0 && i < c->n ? c->url[i] : "";
}

/* A successful txn's answer without its per-op responses: the gateway
 * writes {"header":{...},"succeeded":true,"responses":[...]} in that order
 * (the protobuf's field order), and a commit needs only the first two. NULL
 * when the text is not that (a refused txn, another shape): parse it all. */
static json_t *txn_head_parse(const char *buf, size_t len)
{
	static const char mark[] = ",\"succeeded\":true,\"responses\":";
	if (len < 12 || strncmp(buf, "{\"header\":{", 11))
		return NULL;
	const char *end = memchr(buf, '}', len); /* the header holds no object */
	if (!end || (size_t)(end - buf) + sizeof mark > len || memcmp(end + 1, mark, sizeof mark - 1))
		return NULL;
	size_t n = (size_t)(end + 1 - buf) + strlen(",\"succeeded\":true");
	char *t = malloc(n + 2);
	if (!t)
		return NULL;
	memcpy(t, buf, n);
	t[n] = '}';
	t[n + 1] = '\0';
	json_t *j = json_loadb(t, n + 1, 0, NULL);
	free(t);
	return j;
}

/* One POST to endpoint i: 1 = try the next endpoint, 0 = answered (*out),
 * < 0 = a definite error. lean: a txn's answer read by its header when it
 * succeeded (txn_head_parse). */
static int post_one(etcd_client *c, int i, const char *path, const char *body, bool lean, json_t **out)
{
	char url[ETCD_URL_MAX + 64];
	snprintf(url, sizeof url, "%s%s", c->url[i], path);
	struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
	c->len = 0;
	c->too_big = false;
	c->no_answer = false;
	if (c->buf)
		c->buf[0] = '\0';
	curl_easy_reset(c->h);
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms / 2 > 0 ? c->timeout_ms / 2 : 1);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->h, CURLOPT_TCP_NODELAY, 1L);
	CURLcode cc = curl_easy_perform(c->h);
	curl_slist_free_all(hd);
	if (cc != CURLE_OK) {
		c->no_answer = !c->too_big;
		snprintf(c->err, sizeof c->err, "etcd %s: %s", c->url[i],
			 c->too_big ? "answer too large" : curl_easy_strerror(cc));
		return c->too_big ? AH_ETOOBIG : 1;
	}
	long status = 0;
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
	json_error_t je;
	json_t *j = lean && status == 200 ? txn_head_parse(c->buf, c->len) : NULL;
	if (j)
		c->st.txn_heads++;
	else
		j = c->len ? json_loadb(c->buf, c->len, 0, &je) : NULL;
	if (status != 200 || !json_is_object(j)) {
		const char *msg = NULL;
		json_t *e = j ? json_object_get(j, "error") : NULL;
		if (!json_is_string(e))
			e = j ? json_object_get(j, "message") : NULL;
		msg = json_is_string(e) ? json_string_value(e) : c->len ? c->buf : "no answer";
		int64_t code = j ? etcd_i64(j, "code") : 0;
		snprintf(c->err, sizeof c->err, "etcd %s: HTTP %ld: %.300s", c->url[i], status, msg);
		json_decref(j);
		/* unavailable (no leader, stopping), deadline exceeded, or a
		 * gateway that lost its member: another member may answer */
		if (code == 14 || code == 4 || status == 503 || status == 502 || status == 504 || status == 0)
			return 1;
		return AH_ESTORE;
	}
	*out = j;
	return 0;
}

int etcd_call(etcd_client *c, const char *path, json_t *req, json_t **out)
{
	char *body = json_dumps(req, JSON_COMPACT);
	if (!body) {
		snprintf(c->err, sizeof c->err, "etcd: out of memory");
		return AH_ENOMEM;
	}
	int rc = etcd_call_text(c, path, body, false, out);
	free(body);
	return rc;
}

int etcd_call_text(etcd_client *c, const char *path, const char *body, bool txn_head_only, json_t **out)
{
	int rc = 1, kind = path_kind(path);
	int64_t t0 = now_ns();
	/* pass 0: the members that answered lately, from the current one on;
	 * pass 1: those set aside, in case they are back */
	for (int pass = 0; pass < 2 && rc == 1; pass++)
		for (int k = 0; k < c->n && rc == 1; k++) {
			int i = (c->cur + k) % c->n;
			if ((c->suspect_until_ns[i] > t0) != (pass == 1))
				continue;
			rc = post_one(c, i, path, body, txn_head_only, out);
			if (rc == 0) {
				c->cur = i;
				c->suspect_until_ns[i] = 0;
			} else if (rc == 1 && c->no_answer) {
				c->suspect_until_ns[i] = now_ns() + ETCD_SUSPECT_NS;
				if (i == c->cur) /* the next call starts past it, even when all are set aside */
					c->cur = (i + 1) % c->n;
			}
		}
	c->st.calls[kind]++;
	c->st.ns[kind] += now_ns() - t0;
	if (rc == 1) {
		if (c->n > 1) {
			char last[sizeof c->err];
			snprintf(last, sizeof last, "%s", c->err);
			snprintf(c->err, sizeof c->err, "no etcd endpoint answered (%d tried; last: %.400s)", c->n, last);
		}
		return AH_ESTORE;
	}
	return rc < 0 ? rc : 0;
}

/* ---- base64 and numbers ------------------------------------------------ */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

json_t *etcd_b64(const void *data, size_t n)
{
	char *o = malloc(etcd_b64_len(n) + 1);
	if (!o)
		return NULL;
	size_t j = etcd_b64_into(data, n, o);
	json_t *r = json_stringn(o, j);
	free(o);
	return r;
}

size_t etcd_b64_into(const void *data, size_t n, char *o)
{
	const unsigned char *s = data;
	size_t j = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		o[j++] = B64[(v >> 18) & 63];
		o[j++] = B64[(v >> 12) & 63];
		o[j++] = i + 1 < n ? B64[(v >> 6) & 63] : '=';
		o[j++] = i + 2 < n ? B64[v & 63] : '=';
	}
	o[j] = '\0';
	return j;
}

json_t *etcd_b64s(const char *s)
{
	return etcd_b64(s, strlen(s));
}

static int b64v(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '-')
		return 62;
	if (ch == '/' || ch == '_')
		return 63;
	return -1;
}

int etcd_unb64(const char *s, char **out, size_t *out_n)
{
	size_t n = s ? strlen(s) : 0;
	char *o = malloc(n / 4 * 3 + 4);
	if (!o)
		return AH_ENOMEM;
	size_t j = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=')
			break;
		int v = b64v((unsigned char)s[i]);
		if (v < 0) {
			free(o);
			return AH_EPARSE;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[j++] = (char)((acc >> bits) & 0xFF);
		}
	}
	o[j] = '\0';
	*out = o;
	if (out_n)
		*out_n = j;
	return 0;
}

int64_t etcd_i64(const json_t *obj, const char *field)
{
	const json_t *v = json_object_get(obj, field);
	if (json_is_integer(v))
		return (int64_t)json_integer_value(v);
	if (json_is_string(v))
		return (int64_t)strtoll(json_string_value(v), NULL, 10);
	return 0;
}

int64_t etcd_revision(const json_t *resp)
{
	return etcd_i64(json_object_get(resp, "header"), "revision");
}

void etcd_prefix_end(const char *prefix, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", prefix);
	size_t n = strlen(out);
	if (n)
		out[n - 1] = (char)(out[n - 1] + 1);
}
