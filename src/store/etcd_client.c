/* ahead: the etcd v3 client, JSON gateway and gRPC (see etcd_client.h). */
#include <curl/curl.h>
#include <protobuf-c/protobuf-c.h>
#include <stdio.h>
#include <strings.h>
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
	/* gRPC calls: a handle of their own, so its HTTP/2 connections never
	 * meet the gateway's HTTP/1.1 ones; h2[i]: it holds one to member i */
	CURL *g;
	bool h2[ETCD_MAX_ENDPOINTS];
	int grpc_status; /* the answer's grpc-status (-1: none) */
	char grpc_msg[512];
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
	if (!strcmp(path, "/etcdserverpb.KV/Txn"))
		return 1;
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
	if (!(c->h = curl_easy_init()) || !(c->g = curl_easy_init())) {
		curl_easy_cleanup(c->h);
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
	if (c->g)
		curl_easy_cleanup(c->g);
	free(c->buf);
	free(c);
}

void etcd_client_set_errmsg(etcd_client *c, const char *msg)
{
	snprintf(c->err, sizeof c->err, "etcd %s: %s", c->url[c->cur], msg);
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

/* One POST to endpoint i: 1 = try the next endpoint, 0 = answered (*out),
 * < 0 = a definite error. */
static int post_one(etcd_client *c, int i, const char *path, const char *body, json_t **out)
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
	json_t *j = c->len ? json_loadb(c->buf, c->len, 0, &je) : NULL;
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

/* One request as the call loop tries it on each endpoint in turn. */
typedef struct {
	const char *path;
	const char *body; /* JSON text; or a gRPC message with its 5-byte prefix */
	size_t len;
	bool grpc;
	json_t **out; /* a JSON call's answer */
} call_spec;

static int grpc_one(etcd_client *c, int i, const call_spec *q);

static int call_loop(etcd_client *c, const call_spec *q)
{
	int rc = 1, kind = path_kind(q->path);
	int64_t t0 = now_ns();
	/* pass 0: the members that answered lately, from the current one on;
	 * pass 1: those set aside, in case they are back */
	for (int pass = 0; pass < 2 && rc == 1; pass++)
		for (int k = 0; k < c->n && rc == 1; k++) {
			int i = (c->cur + k) % c->n;
			if ((c->suspect_until_ns[i] > t0) != (pass == 1))
				continue;
			rc = q->grpc ? grpc_one(c, i, q) : post_one(c, i, q->path, q->body, q->out);
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
	c->st.grpc += q->grpc;
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

int etcd_call(etcd_client *c, const char *path, json_t *req, json_t **out)
{
	char *body = json_dumps(req, JSON_COMPACT);
	if (!body) {
		snprintf(c->err, sizeof c->err, "etcd: out of memory");
		return AH_ENOMEM;
	}
	call_spec q = {.path = path, .body = body, .len = strlen(body), .out = out};
	int rc = call_loop(c, &q);
	free(body);
	return rc;
}

/* ---- gRPC ---------------------------------------------------------------- */

static int hexv(int ch)
{
	return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

void etcd_grpc_header(const char *p, size_t n, int *status, char *msg, size_t msglen)
{
	if (n > 12 && !strncasecmp(p, "grpc-status:", 12)) {
		*status = atoi(p + 12);
	} else if (n > 13 && !strncasecmp(p, "grpc-message:", 13) && msglen > 0) {
		size_t j = 0;
		for (size_t k = 13; k < n && j + 1 < msglen; k++) {
			int ch = (unsigned char)p[k];
			if (ch == '\r' || ch == '\n')
				break;
			if (ch == '%' && k + 2 < n && hexv(p[k + 1]) >= 0 && hexv(p[k + 2]) >= 0) {
				ch = hexv(p[k + 1]) * 16 + hexv(p[k + 2]);
				k += 2;
			}
			if (j || ch != ' ')
				msg[j++] = (char)ch;
		}
		msg[j] = '\0';
	}
}

uint8_t *etcd_grpc_frame(const struct ProtobufCMessage *m, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	if (n > UINT32_MAX)
		return NULL;
	uint8_t *b = malloc(n + 5);
	if (!b)
		return NULL;
	b[0] = 0; /* not compressed */
	b[1] = (uint8_t)(n >> 24);
	b[2] = (uint8_t)(n >> 16);
	b[3] = (uint8_t)(n >> 8);
	b[4] = (uint8_t)n;
	protobuf_c_message_pack(m, b + 5);
	*len = n + 5;
	return b;
}

/* gRPC's status and message come as headers (a trailers-only answer) or
 * trailers, which libcurl hands to the header callback alike. */
static size_t on_grpc_header(char *p, size_t sz, size_t nm, void *ctx)
{
	etcd_client *c = ctx;
	etcd_grpc_header(p, sz * nm, &c->grpc_status, c->grpc_msg, sizeof c->grpc_msg);
	return sz * nm;
}

static CURLcode grpc_perform(etcd_client *c, int i, const call_spec *q, struct curl_slist *hd, const char *url)
{
	c->len = 0;
	c->too_big = false;
	c->grpc_status = -1;
	c->grpc_msg[0] = '\0';
	curl_easy_reset(c->g);
	curl_easy_setopt(c->g, CURLOPT_URL, url);
	/* libcurl 7.88 (Debian 12) fails a request that reuses an HTTP/2
	 * connection made with prior knowledge when it asks for prior knowledge
	 * again (curl/curl#10634, fixed in 8.0): so prior knowledge only for a
	 * new connection, plain HTTP/2 on the one kept */
	curl_easy_setopt(c->g, CURLOPT_HTTP_VERSION,
			 c->h2[i] ? (long)CURL_HTTP_VERSION_2_0 : (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
	curl_easy_setopt(c->g, CURLOPT_POST, 1L);
	curl_easy_setopt(c->g, CURLOPT_POSTFIELDS, q->body);
	curl_easy_setopt(c->g, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->len);
	curl_easy_setopt(c->g, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(c->g, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c->g, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->g, CURLOPT_HEADERFUNCTION, on_grpc_header);
	curl_easy_setopt(c->g, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(c->g, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(c->g, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms / 2 > 0 ? c->timeout_ms / 2 : 1);
	curl_easy_setopt(c->g, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->g, CURLOPT_TCP_NODELAY, 1L);
	return curl_easy_perform(c->g);
}

/* A fresh handle, its connections closed: after any call that did not end
 * on HTTP/2, so that h2[] is true exactly for the members the handle holds
 * a live HTTP/2 connection to (a connection kept after a timeout, then
 * asked for with prior knowledge, would fail every call: the bug above). */
static int grpc_recycle(etcd_client *c)
{
	curl_easy_cleanup(c->g);
	memset(c->h2, 0, sizeof c->h2);
	c->st.grpc_fresh++;
	if (!(c->g = curl_easy_init())) {
		snprintf(c->err, sizeof c->err, "etcd: cannot start libcurl");
		return AH_ENOMEM;
	}
	return 0;
}

/* One unary gRPC call to endpoint i; the answer's message (its 5-byte
 * prefix taken off) is left in c->buf, c->len. Returns as post_one. */
static int grpc_one(etcd_client *c, int i, const call_spec *q)
{
	char url[ETCD_URL_MAX + 64];
	snprintf(url, sizeof url, "%s%s", c->url[i], q->path);
	struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/grpc");
	hd = curl_slist_append(hd, "TE: trailers");
	c->no_answer = false;
	if (!c->g && grpc_recycle(c) < 0) { /* the last recycle found no memory */
		curl_slist_free_all(hd);
		return AH_ENOMEM;
	}
	CURLcode cc = grpc_perform(c, i, q, hd, url);
	long ver = 0;
	curl_easy_getinfo(c->g, CURLINFO_HTTP_VERSION, &ver);
	if (cc == CURLE_OK && c->h2[i] && ver != CURL_HTTP_VERSION_2_0) {
		/* the kept connection was gone and the request went out as
		 * HTTP/1.1 on a new one (etcd's HTTP/1.1 side has no gRPC route,
		 * so nothing ran): again, with prior knowledge */
		if (grpc_recycle(c) < 0) {
			curl_slist_free_all(hd);
			return AH_ENOMEM;
		}
		cc = grpc_perform(c, i, q, hd, url);
		curl_easy_getinfo(c->g, CURLINFO_HTTP_VERSION, &ver);
	}
	curl_slist_free_all(hd);
	long status = 0;
	curl_easy_getinfo(c->g, CURLINFO_RESPONSE_CODE, &status);
	if (cc == CURLE_OK && ver == CURL_HTTP_VERSION_2_0)
		c->h2[i] = true;
	else if (grpc_recycle(c) < 0)
		return AH_ENOMEM;
	if (cc != CURLE_OK) {
		c->no_answer = !c->too_big;
		snprintf(c->err, sizeof c->err, "etcd %s: %s", c->url[i],
			 c->too_big ? "answer too large" : curl_easy_strerror(cc));
		return c->too_big ? AH_ETOOBIG : 1;
	}
	if (status != 200 || c->grpc_status != 0) {
		snprintf(c->err, sizeof c->err, "etcd %s: %s %ld: %.300s", c->url[i],
			 c->grpc_status >= 0 ? "gRPC status" : "HTTP", c->grpc_status >= 0 ? (long)c->grpc_status : status,
			 c->grpc_msg[0] ? c->grpc_msg : status != 200 ? "not a gRPC answer" : "no grpc-status");
		/* unavailable (no leader, stopping), deadline exceeded, or not
		 * answered as gRPC: another member may answer */
		if (c->grpc_status == 14 || c->grpc_status == 4 || c->grpc_status < 0)
			return 1;
		return AH_ESTORE;
	}
	const unsigned char *b = (const unsigned char *)c->buf;
	size_t n = c->len >= 5 ? (size_t)b[1] << 24 | (size_t)b[2] << 16 | (size_t)b[3] << 8 | b[4] : 0;
	if (c->len < 5 || b[0] != 0 || n != c->len - 5) {
		snprintf(c->err, sizeof c->err, "etcd %s: a gRPC answer of %zu bytes that is not one uncompressed message",
			 c->url[i], c->len);
		return AH_ESTORE;
	}
	memmove(c->buf, c->buf + 5, n);
	c->len = n;
	return 0;
}

int etcd_call_grpc(etcd_client *c, const char *method, const void *msg, size_t len, const void **ans, size_t *ans_len)
{
	call_spec q = {.path = method, .body = msg, .len = len, .grpc = true};
	int rc = call_loop(c, &q);
	if (rc == 0) {
		*ans = c->buf ? c->buf : "";
		*ans_len = c->len;
	}
	return rc;
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
