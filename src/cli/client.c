/* ahead CLI as the daemon's client (cli/client.h): the HTTP helper over
 * libcurl and the decoders from the API's JSON to the printers' structs. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ahead/encode.h"
#include "ahead/error.h"
#include "ahead/limits.h"
#include "ahead/names.h"
#include "ahead/timestamp.h"
#include "ahead/usage.h"
#include "cli/client.h"

#define RETRIES 4                       /* after the first try */
#define BACKOFF_MS 200                  /* doubled at each retry */
#define CONNECT_TIMEOUT_S 5L
#define TIMEOUT_S 60L
#define MAX_ANSWER_BYTES (64u << 20)    /* an answer larger than this is not ours */
#define TOKEN_MAX 512

struct ah_client {
	const char *cmd;
	char *base;                    /* the URL without a trailing '/' */
	char token[TOKEN_MAX + 1];
	char key[AH_IDEM_KEY_MAX + 1]; /* this invocation's Idempotency-Key */
	char key0[AH_IDEM_KEY_MAX + 1]; /* the first, which ah_client_next_key numbers */
	unsigned long n_keys;
	CURL *curl;
};

typedef struct {
	char *buf;
	size_t len, cap;
	bool too_big;
} answer;

bool ah_client_wanted(const char *cmd, const ah_client_opts *o, const char *db_flag, int *ex)
{
	*ex = 0;
	if (o->server && db_flag) {
		ah_cli_err(cmd, "--server and --db: give one (the daemon owns its ledger)");
		*ex = AH_EXIT_USAGE;
		return false;
	}
	const char *env = getenv("AHEAD_SERVER");
	bool want = o->server || (!db_flag && env && *env);
	if (!want && (o->token || o->token_file)) {
		ah_cli_err(cmd, "--token and --token-file are for --server URL (or $AHEAD_SERVER)");
		*ex = AH_EXIT_USAGE;
	}
	if (o->token && o->token_file) {
		ah_cli_err(cmd, "--token and --token-file: give one");
		*ex = AH_EXIT_USAGE;
	}
	return want && !*ex;
}

/* The token file: its first line, at most TOKEN_MAX bytes. */
static int read_token_file(const char *cmd, const char *path, char *out, size_t len)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ah_cli_err(cmd, "--token-file: %s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		ah_cli_err(cmd, "--token-file: %s: not a regular file", path);
		close(fd);
		return -1;
	}
	ssize_t n = read(fd, out, len - 1);
	close(fd);
	if (n < 0) {
		ah_cli_err(cmd, "--token-file: %s: read error: %s", path, strerror(errno));
		return -1;
	}
	out[n] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

/* A token is sent in a header: printable ASCII only, so it cannot split one. */
static bool token_ok(const char *t)
{
	for (; *t; t++)
		if ((unsigned char)*t < 0x21 || (unsigned char)*t > 0x7e)
			return false;
	return true;
}

static void make_key(char *out, size_t len)
{
	const char *env = getenv("AHEAD_IDEMPOTENCY_KEY");
	if (env && *env) {
		snprintf(out, len, "%s", env);
		return;
	}
	unsigned char r[16];
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
		/* no entropy: time and pid still make a key unique per invocation */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(out, len, "cli-%lld-%ld-%d", (long long)ts.tv_sec, ts.tv_nsec, (int)getpid());
		return;
	}
	static const char hex[] = "0123456789abcdef";
	size_t w = (size_t)snprintf(out, len, "cli-");
	for (size_t i = 0; i < sizeof r && w + 2 < len; i++) {
		out[w++] = hex[r[i] >> 4];
		out[w++] = hex[r[i] & 15];
	}
	out[w] = '\0';
}

int ah_client_open(const char *cmd, const ah_client_opts *o, ah_client **out)
{
	const char *url = o->server ? o->server : getenv("AHEAD_SERVER");
	if (!url || !*url) {
		ah_cli_err(cmd, "--server: missing URL");
		return AH_EXIT_USAGE;
	}
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
		ah_cli_err(cmd, "--server: '%.64s' is not an http:// or https:// URL", url);
		return AH_EXIT_USAGE;
	}
	if (strlen(url) > 1024 || strpbrk(url, " \t\r\n?#")) {
		ah_cli_err(cmd, "--server: '%.64s' is not a base URL (no spaces, query or fragment)", url);
		return AH_EXIT_USAGE;
	}
	static bool global;
	if (!global) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			ah_cli_err(cmd, "libcurl: cannot initialize");
			return AH_EXIT_INTERNAL;
		}
		global = true;
	}
	ah_client *c = calloc(1, sizeof *c);
	if (!c || !(c->base = strdup(url)) || !(c->curl = curl_easy_init())) {
		ah_client_free(c);
		ah_cli_err(cmd, "out of memory");
		return AH_EXIT_INTERNAL;
	}
	c->cmd = cmd;
	for (size_t n = strlen(c->base); n && c->base[n - 1] == '/'; n--)
		c->base[n - 1] = '\0';
	const char *env = getenv("AHEAD_TOKEN");
	if (o->token) {
		snprintf(c->token, sizeof c->token, "%s", o->token);
	} else if (o->token_file) {
		if (read_token_file(cmd, o->token_file, c->token, sizeof c->token) < 0) {
			ah_client_free(c);
			return AH_EXIT_USAGE;
		}
	} else if (env) {
		snprintf(c->token, sizeof c->token, "%s", env);
	}
	const char *given = o->token ? o->token : o->token_file ? NULL : env;
	if ((given && strlen(given) > TOKEN_MAX) || (o->token_file && strlen(c->token) >= TOKEN_MAX)) {
		ah_cli_err(cmd, "the token is longer than %d bytes", TOKEN_MAX);
		ah_client_free(c);
		return AH_EXIT_USAGE;
	}
	if (!token_ok(c->token)) {
		ah_cli_err(cmd, "the token holds spaces or control characters");
		ah_client_free(c);
		return AH_EXIT_USAGE;
	}
	make_key(c->key, sizeof c->key);
	memcpy(c->key0, c->key, sizeof c->key0);
	*out = c;
	return 0;
}

void ah_client_free(ah_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->base);
	explicit_bzero(c->token, sizeof c->token);
	free(c);
}

const char *ah_client_cmd(const ah_client *c)
{
	return c->cmd;
}

void ah_client_next_key(ah_client *c)
{
	/* KEY-N: the first key (cut to leave room) and a counter */
	snprintf(c->key, sizeof c->key, "%.100s-%lu", c->key0, ++c->n_keys);
}

const char *ah_client_key(const ah_client *c)
{
	return c->key;
}

int ah_client_set_key(ah_client *c, const char *key)
{
	if (!key || !*key || strlen(key) > AH_IDEM_KEY_MAX)
		return AH_EINVAL;
	snprintf(c->key, sizeof c->key, "%s", key);
	return 0;
}

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	answer *a = ctx;
	size_t k = size * n;
	if (a->len + k > MAX_ANSWER_BYTES) {
		a->too_big = true;
		return 0;
	}
	if (a->len + k + 1 > a->cap) {
		size_t cap = (a->len + k + 1) * 2;
		char *b = realloc(a->buf, cap);
		if (!b)
			return 0;
		a->buf = b;
		a->cap = cap;
	}
	memcpy(a->buf + a->len, p, k);
	a->len += k;
	a->buf[a->len] = '\0';
	return k;
}

char *ah_client_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	char *r = e ? strdup(e) : NULL;
	curl_free(e);
	return r;
}

/* One try: CURLE_* of the transfer; *status and the answer's bytes. */
/* A daemon with its own certificate (ahead serve --tls-cert): the CA file
 * to trust instead of the system's, from $AHEAD_CA_FILE. */
static void trust(CURL *h)
{
	const char *ca = getenv("AHEAD_CA_FILE");
	if (ca && *ca)
		curl_easy_setopt(h, CURLOPT_CAINFO, ca);
}

static CURLcode try_once(ah_client *c, const char *method, const char *url, const char *body, long *status,
			 answer *a)
{
	CURL *h = c->curl;
	curl_easy_reset(h);
	struct curl_slist *hd = NULL;
	char auth[TOKEN_MAX + 32], idem[AH_IDEM_KEY_MAX + 32];
	hd = curl_slist_append(hd, "Accept: application/json");
	if (body)
		hd = curl_slist_append(hd, "Content-Type: application/json");
	if (c->token[0]) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->token);
		hd = curl_slist_append(hd, auth);
	}
	if (strcmp(method, "GET")) {
		snprintf(idem, sizeof idem, "Idempotency-Key: %s", c->key);
		hd = curl_slist_append(hd, idem);
	}
	hd = curl_slist_append(hd, "Expect:"); /* no 100-continue round trip */
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "ahead-cli/0.1.0");
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	trust(h);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	CURLcode rc = curl_easy_perform(h);
	*status = 0;
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(hd);
	return rc;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Only transfers that never reached the daemon or that it answered 503
 * (busy, commit failed: "nothing of it happened") are tried again. */
static bool retryable(CURLcode rc, long status)
{
	if (rc == CURLE_OK)
		return status == 503;
	return rc == CURLE_COULDNT_CONNECT || rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR ||
	       rc == CURLE_GOT_NOTHING || rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_PARTIAL_FILE;
}

int ah_client_call(ah_client *c, const char *method, const char *path, const json_t *body, long *status,
		   json_t **out)
{
	size_t n = strlen(c->base) + strlen(path) + 1;
	char *url = malloc(n);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	int ex = AH_EXIT_INTERNAL;
	if (!url || (body && !text)) {
		ah_cli_err(c->cmd, "out of memory");
		goto out;
	}
	snprintf(url, n, "%s%s", c->base, path);
	answer a = {0};
	CURLcode rc = CURLE_OK;
	long st = 0;
	for (int i = 0;; i++) {
		free(a.buf);
		a = (answer){0};
		rc = try_once(c, method, url, text, &st, &a);
		if (!retryable(rc, st) || i == RETRIES)
			break;
		sleep_ms((long)BACKOFF_MS << i);
	}
	if (rc != CURLE_OK) {
		ah_cli_err(c->cmd, "%s: %s%s", c->base, a.too_big ? "answer too large" : curl_easy_strerror(rc),
			   retryable(rc, 0) ? " (after retries)" : "");
		free(a.buf);
		goto out;
	}
	json_t *j = a.buf ? json_loadb(a.buf, a.len, 0, NULL) : NULL;
	free(a.buf);
	*status = st;
	*out = j;
	ex = 0;
out:
	free(url);
	free(text);
	return ex;
}

/* ---- watches ---- */

typedef struct {
	char buf[1 << 16]; /* one frame at most this long (events are far smaller) */
	size_t len;
	int64_t *since;
	int (*fn)(void *ctx, const char *data);
	void *ctx;
	bool stop, overflow;
	answer err;        /* a non-200 answer's body */
	CURL *h;
} watch_ctx;

/* One frame: "id: N", "event: KIND", "data: JSON"; ": ..." is a comment. */
static void frame(watch_ctx *w, char *f)
{
	char *data = NULL;
	for (char *sv, *line = strtok_r(f, "\n", &sv); line; line = strtok_r(NULL, "\n", &sv)) {
		if (!strncmp(line, "id: ", 4))
			*w->since = strtoll(line + 4, NULL, 10);
		else if (!strncmp(line, "data: ", 6))
			data = line + 6;
	}
	if (data && w->fn(w->ctx, data))
		w->stop = true;
}

static size_t on_stream(char *p, size_t size, size_t n, void *vctx)
{
	watch_ctx *w = vctx;
	size_t k = size * n;
	long st = 0;
	curl_easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &st);
	if (st != 200)
		return on_data(p, size, n, &w->err);
	for (size_t i = 0; i < k && !w->stop; i++) {
		if (w->len + 1 >= sizeof w->buf) {
			w->overflow = true;
			return 0;
		}
		w->buf[w->len++] = p[i];
		if (w->len >= 2 && w->buf[w->len - 1] == '\n' && w->buf[w->len - 2] == '\n') {
			w->buf[w->len] = '\0';
			frame(w, w->buf);
			w->len = 0;
		}
	}
	return w->stop ? 0 : k;
}

int ah_client_watch(ah_client *c, const char *path_prefix, int64_t since, int (*fn)(void *ctx, const char *data),
		    void *ctx)
{
	watch_ctx *w = calloc(1, sizeof *w);
	if (!w) {
		ah_cli_err(c->cmd, "out of memory");
		return AH_EXIT_INTERNAL;
	}
	w->since = &since;
	w->fn = fn;
	w->ctx = ctx;
	w->h = c->curl;
	int ex = AH_EXIT_INTERNAL, fails = 0;
	char auth[TOKEN_MAX + 32];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->token);
	for (;;) {
		char url[2048];
		snprintf(url, sizeof url, "%s%s%lld", c->base, path_prefix, (long long)since);
		struct curl_slist *hd = curl_slist_append(NULL, "Accept: text/event-stream");
		if (c->token[0])
			hd = curl_slist_append(hd, auth);
		curl_easy_reset(c->curl);
		curl_easy_setopt(c->curl, CURLOPT_URL, url);
		curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hd);
		curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_stream);
		curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, w);
		curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
		curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
		trust(c->curl);
		curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "ahead-cli/0.1.0");
		w->len = 0;
		free(w->err.buf);
		w->err = (answer){0};
		int64_t before = since;
		CURLcode rc = curl_easy_perform(c->curl);
		long st = 0;
		curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &st);
		curl_slist_free_all(hd);
		if (w->stop) {
			ex = 0;
			break;
		}
		if (w->overflow) {
			ah_cli_err(c->cmd, "%s: a watch frame longer than %zu bytes", c->base, sizeof w->buf);
			break;
		}
		if (st && st != 200 && st != 503) {
			json_t *j = w->err.buf ? json_loadb(w->err.buf, w->err.len, 0, NULL) : NULL;
			ex = ah_client_fail(c, st, j);
			if (st == 410)
				ah_cli_err(c->cmd, "the daemon no longer has the events after %lld; list again", (long long)since);
			json_decref(j);
			break;
		}
		/* the stream ended or broke: resume after the last frame seen */
		fails = since > before || st == 200 ? 0 : fails + 1;
		if (fails > RETRIES) {
			ah_cli_err(c->cmd, "%s: %s (after retries)", c->base,
				   rc != CURLE_OK ? curl_easy_strerror(rc) : "the watch keeps ending");
			break;
		}
		sleep_ms(fails ? (long)BACKOFF_MS << (fails - 1) : BACKOFF_MS);
	}
	free(w->err.buf);
	free(w);
	return ex;
}

int ah_client_fail(ah_client *c, long status, const json_t *body)
{
	const json_t *e = json_object_get(body, "error");
	const char *msg = json_string_value(json_object_get(e, "message"));
	if (msg)
		ah_cli_err(c->cmd, "%s", msg);
	else
		ah_cli_err(c->cmd, "%s: HTTP %ld", c->base, status);
	switch (status) {
	case 400:
	case 422:
		return AH_EXIT_USAGE;
	case 401:
	case 403:
	case 409:
	case 429:
		return AH_EXIT_REFUSED;
	case 404:
		return AH_EXIT_NOTFOUND;
	default:
		return AH_EXIT_INTERNAL;
	}
}

/* A tenant token may not read the policy (GET /v1/policy is for staff):
 * the dimensions are then the built-ins plus those the pools name, the
 * custom ones as counts. Enough to parse and print what a tenant sends
 * and gets; a custom dimension of bytes prints as its integer. */
static int pools_policy(ah_client *c, ah_policy **out)
{
	long st;
	json_t *o = NULL;
	int ex = ah_client_call(c, "GET", "/v1/pools", NULL, &st, &o);
	if (ex)
		return ex;
	if (st != 200) {
		ex = ah_client_fail(c, st, o);
		json_decref(o);
		return ex;
	}
	ah_policy *p = calloc(1, sizeof *p);
	if (!p) {
		json_decref(o);
		ah_cli_err(c->cmd, "out of memory");
		return AH_EXIT_INTERNAL;
	}
	ah_dimset_init(&p->dims);
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(o, "items"), i, v)
	{
		const char *k;
		json_t *x;
		json_object_foreach(json_object_get(v, "dimensions"), k, x)
			if (ah_dimset_find(&p->dims, k) < 0)
				(void)ah_dimset_add(&p->dims, k, AH_UNIT_COUNT, NULL);
	}
	json_decref(o);
	*out = p;
	return 0;
}

int ah_client_policy(ah_client *c, ah_policy **out)
{
	long st;
	json_t *o = NULL;
	int ex = ah_client_call(c, "GET", "/v1/policy", NULL, &st, &o);
	if (ex)
		return ex;
	if (st == 403) {
		json_decref(o);
		return pools_policy(c, out);
	}
	if (st != 200) {
		ex = ah_client_fail(c, st, o);
		json_decref(o);
		return ex;
	}
	const char *text = json_string_value(json_object_get(o, "text"));
	char err[512];
	ah_policy *p = NULL;
	if (!text || ah_policy_load_string(text, strlen(text), "the daemon's policy", &p, err, sizeof err) < 0) {
		ah_cli_err(c->cmd, "the daemon's policy: %s", text ? err : "no text in the answer");
		json_decref(o);
		return AH_EXIT_INTERNAL;
	}
	json_decref(o);
	*out = p;
	return 0;
}

static void strip(json_t *o)
{
	if (!json_is_object(o))
		return;
	json_object_del(o, "resourceVersion");
	const char *oc = json_string_value(json_object_get(o, "outcome"));
	if (oc && !strcmp(oc, "refused"))
		json_object_del(o, "error");
}

void ah_client_print_json(json_t *o)
{
	json_t *items = json_object_get(o, "items");
	json_t *show = json_is_array(items) ? items : o;
	size_t i;
	json_t *v;
	if (json_is_array(show))
		json_array_foreach(show, i, v) strip(v);
	else
		strip(show);
	char *s = ah_json_dumps(show);
	printf("%s\n", s ? s : "{}");
	free(s);
}

/* ---- decoders ---- */

int64_t ah_client_time(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	int64_t ns;
	if (!s || ah_time_parse(s, &ns) < 0)
		return -1;
	return ns;
}

void ah_client_vec(const ah_dimset *ds, const json_t *o, int64_t dflt, ah_vec *v)
{
	for (int i = 0; i < AH_MAX_DIMS; i++)
		v->v[i] = i < ds->n ? dflt : 0;
	const char *k;
	json_t *x;
	json_object_foreach((json_t *)o, k, x)
	{
		int i = ah_dimset_find(ds, k);
		if (i >= 0 && json_is_integer(x))
			v->v[i] = (int64_t)json_integer_value(x);
	}
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static int64_t num(const json_t *o, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(o, key));
}

/* Seconds (an integer, or a real exact to the millisecond) as ns. */
static int64_t seconds_ns(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (json_is_integer(v))
		return (int64_t)json_integer_value(v) * 1000000000LL;
	return (int64_t)(json_number_value(v) * 1000.0 + (json_number_value(v) >= 0 ? 0.5 : -0.5)) * 1000000LL;
}

/* Parameters {"k": "v"} appended to "k=v,..." text. */
static void params_text(const json_t *o, char *buf, size_t len, size_t *w)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v)
	{
		int n = snprintf(buf + *w, len - *w, "%s%s=%s", *w ? "," : "", k, json_string_value(v) ? json_string_value(v) : "");
		if (n < 0 || (size_t)n >= len - *w)
			return;
		*w += (size_t)n;
	}
}

int ah_client_decode_item(const ah_policy *pol, const json_t *o, ah_vec *res, char *params, size_t params_len,
			  ah_engine_item *out)
{
	if (!json_is_object(o) || !json_is_integer(json_object_get(o, "id")))
		return AH_EPARSE;
	memset(out, 0, sizeof *out);
	out->id = (uint64_t)num(o, "id");
	out->queued = !strcmp(str(o, "state"), "queued");
	out->tenant = str(o, "tenant");
	out->pool = str(o, "pool");
	out->klass = str(o, "class");
	ah_client_vec(&pol->dims, json_object_get(o, "resources"), 0, res);
	out->res = res;
	size_t w = 0;
	params[0] = '\0';
	params_text(json_object_get(o, "params"), params, params_len, &w);
	params_text(json_object_get(o, "ahead_params"), params, params_len, &w);
	out->params = params;
	out->node = json_is_string(json_object_get(o, "node")) ? json_string_value(json_object_get(o, "node")) : "";
	out->node_labels = json_is_string(json_object_get(o, "node_labels"))
				   ? json_string_value(json_object_get(o, "node_labels"))
				   : "";
	out->created_ns = ah_client_time(o, out->queued ? "arrived" : "granted_at");
	out->expires_ns = ah_client_time(o, out->queued ? "deadline" : "lease_expires");
	return 0;
}

static ah_psh_source source_of(const char *s)
{
	for (int i = AH_PSH_REGRESSION; i <= AH_PSH_SERIES; i++)
		if (!strcmp(s, ah_psh_source_name((ah_psh_source)i)))
			return (ah_psh_source)i;
	return AH_PSH_NONE;
}

int ah_client_decode_decision(const ah_policy *pol, const json_t *o, ah_decision *d,
			      ah_shadow_prediction_info *info, bool *have_info)
{
	const char *oc = json_string_value(json_object_get(o, "outcome"));
	if (!oc)
		return AH_EPARSE;
	memset(d, 0, sizeof *d);
	*have_info = false;
	if (!strcmp(oc, "granted"))
		d->outcome = AH_GRANTED;
	else if (!strcmp(oc, "queued"))
		d->outcome = AH_QUEUED;
	else if (!strcmp(oc, "refused"))
		d->outcome = AH_REFUSED;
	else
		return AH_EPARSE;
	d->id = (uint64_t)num(o, "id");
	ah_client_vec(&pol->dims, json_object_get(o, "resources"), 0, &d->res);
	d->lease_expires_ns = ah_client_time(o, "lease_expires");
	d->n_preempted = (int)num(o, "preempted");
	d->queue_position = (int)num(o, "position");
	d->queue_deadline_ns = ah_client_time(o, "deadline");
	const char *reason = str(o, "reason");
	for (int r = 0; r < AH_R__COUNT; r++)
		if (!strcmp(reason, ah_reason_code((ah_reason)r)))
			d->reason = (ah_reason)r;
	snprintf(d->message, sizeof d->message, "%s", str(o, "message"));
	size_t i, w = 0;
	json_t *v;
	json_array_foreach(json_object_get(o, "corrections"), i, v)
	{
		int n = snprintf(d->corrections + w, sizeof d->corrections - w, "%s%s", w ? "; " : "",
				 json_string_value(v) ? json_string_value(v) : "");
		if (n < 0 || (size_t)n >= sizeof d->corrections - w)
			break;
		w += (size_t)n;
	}
	d->predicted = json_is_true(json_object_get(o, "predicted"));
	ah_client_vec(&pol->dims, json_object_get(o, "prediction"), 0, &d->prediction);
	json_t *by = json_object_get(o, "prediction_by_dim");
	if (d->predicted && json_is_object(by)) {
		memset(info, 0, sizeof *info);
		info->q = json_number_value(json_object_get(o, "prediction_quantile"));
		info->n_dims = pol->dims.n;
		const char *k;
		json_object_foreach(by, k, v)
		{
			int di = ah_dimset_find(&pol->dims, k);
			if (di < 0)
				continue;
			info->dim[di].source = source_of(str(v, "source"));
			info->dim[di].n = (size_t)num(v, "n");
			info->dim[di].value = (double)num(v, "value");
		}
		*have_info = true;
	}
	return 0;
}

int ah_client_decode_renew(const json_t *o, ah_renew_outcome *out)
{
	if (!json_is_object(o))
		return AH_EPARSE;
	memset(out, 0, sizeof *out);
	out->expires_ns = ah_client_time(o, "lease_expires");
	out->ttl_ns = seconds_ns(o, "lease_ttl_s");
	out->capped = json_is_true(json_object_get(o, "capped"));
	if (out->capped) {
		out->asked_ns = seconds_ns(o, "asked_s");
		out->max_ns = seconds_ns(o, "max_lease_ttl_s");
	}
	return 0;
}

int ah_client_decode_report(const ah_policy *pol, const json_t *o, ah_adjust_outcome *out)
{
	static const char *const acts[] = {"unchanged", "grown", "shrunk", "grow_blocked"};
	static const char *const blocked[] = {"", "room", "quota", "priority"};
	const char *oc = json_string_value(json_object_get(o, "outcome"));
	if (!oc)
		return AH_EPARSE;
	memset(out, 0, sizeof *out);
	for (int i = 0; i < 4; i++)
		if (!strcmp(oc, acts[i]))
			out->action = (ah_adjust_action)i;
	const char *b = str(o, "blocked_by");
	for (int i = 1; i < 4; i++)
		if (!strcmp(b, blocked[i]))
			out->blocked_by = (ah_blocked_by)i;
	ah_client_vec(&pol->dims, json_object_get(o, "resources"), 0, &out->res);
	out->lease_expires_ns = ah_client_time(o, "lease_expires");
	return 0;
}

int ah_client_decode_pool(const ah_policy *pol, const json_t *o, ah_vec *cap, ah_vec *used,
			  ah_engine_pool_info *out)
{
	if (!json_is_object(o))
		return AH_EPARSE;
	memset(out, 0, sizeof *out);
	memset(cap, 0, sizeof *cap);
	memset(used, 0, sizeof *used);
	out->name = str(o, "pool");
	out->n_allocs = (int)num(o, "allocations");
	out->n_queued = (int)num(o, "queued");
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(o, "dimensions"), k, v)
	{
		int d = ah_dimset_find(&pol->dims, k);
		if (d < 0)
			continue;
		cap->v[d] = num(v, "capacity");
		used->v[d] = num(v, "used");
		out->queued.v[d] = num(v, "waiting"); /* the printers show queued + wanted */
	}
	out->capacity = cap;
	out->used = used;
	return 0;
}

int ah_client_decode_event(const json_t *o, char *res, size_t res_len, char **data, ah_service_event *out)
{
	if (!json_is_object(o))
		return AH_EPARSE;
	memset(out, 0, sizeof *out);
	*data = NULL;
	out->seq = num(o, "seq");
	out->t_ns = ah_client_time(o, "time");
	out->kind = str(o, "kind");
	out->id = (uint64_t)num(o, "id");
	out->tenant = str(o, "tenant");
	out->pool = str(o, "pool");
	out->klass = str(o, "class");
	out->reason = str(o, "reason");
	out->detail = str(o, "detail");
	/* the ledger's text: the default dimensions' exact form */
	res[0] = '\0';
	json_t *r = json_object_get(o, "resources");
	if (json_is_object(r) && json_object_get(r, "text")) {
		snprintf(res, res_len, "%s", str(r, "text"));
	} else if (json_is_object(r) && json_object_size(r)) {
		ah_dimset ds;
		ah_dimset_init(&ds);
		ah_vec v;
		bool all_known = true;
		const char *k;
		json_t *x;
		json_object_foreach(r, k, x) all_known &= ah_dimset_find(&ds, k) >= 0;
		if (all_known) {
			ah_client_vec(&ds, r, 0, &v);
			/* only the dimensions the event named */
			size_t w = 0;
			for (int i = 0; i < ds.n; i++) {
				if (!json_object_get(r, ds.name[i]))
					continue;
				char one[64];
				ah_unit_format(ds.kind[i], v.v[i], one, sizeof one);
				int n = snprintf(res + w, res_len - w, "%s%s=%s", w ? "," : "", ds.name[i], one);
				if (n < 0 || (size_t)n >= res_len - w)
					break;
				w += (size_t)n;
			}
		} else {
			size_t w = 0;
			json_object_foreach(r, k, x)
			{
				int n = snprintf(res + w, res_len - w, "%s%s=%lld", w ? "," : "", k,
						 (long long)json_integer_value(x));
				if (n < 0 || (size_t)n >= res_len - w)
					break;
				w += (size_t)n;
			}
		}
	}
	out->resources = res;
	json_t *dj = json_object_get(o, "data");
	if (dj)
		*data = json_dumps(dj, JSON_COMPACT);
	out->data = *data ? *data : "";
	return 0;
}

/* The record dimension named dim, added when new. */
static ah_shadow_req_dim *req_dim(ah_shadow_request *r, const char *dim)
{
	for (int k = 0; k < r->n_dims; k++)
		if (!strcmp(r->dims[k].dim, dim))
			return &r->dims[k];
	if (r->n_dims >= AH_MAX_DIMS || strlen(dim) >= sizeof r->dims[0].dim)
		return NULL;
	ah_shadow_req_dim *d = &r->dims[r->n_dims++];
	memset(d, 0, sizeof *d);
	snprintf(d->dim, sizeof d->dim, "%s", dim);
	d->peak = d->mean = d->predicted = d->last = NAN;
	d->last_ns = -1;
	return d;
}

/* {"cpu": 500, ...} as the record's figures of one kind (0 predicted,
 * 1 peak, 2 mean). */
static void req_figs(ah_shadow_request *r, const json_t *o, int which)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v)
	{
		ah_shadow_req_dim *d = req_dim(r, k);
		if (!d || !json_is_number(v))
			continue;
		double x = json_number_value(v);
		*(which == 0 ? &d->predicted : which == 1 ? &d->peak : &d->mean) = x;
	}
}

static void req_params(ah_shadow_request *r, const json_t *o)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v)
	{
		if (r->n_params >= AH_SHADOW_MAX_PARAMS)
			return;
		ah_shadow_param *p = &r->params[r->n_params++];
		snprintf(p->key, sizeof p->key, "%s", k);
		snprintf(p->value, sizeof p->value, "%s", json_string_value(v) ? json_string_value(v) : "");
	}
}

/* Resources as the ledger's text (the default dimensions' exact form, as
 * the printers parse it), names they do not know as plain integers. */
static void vec_text(const json_t *r, char *res, size_t len)
{
	ah_dimset ds;
	ah_dimset_init(&ds);
	size_t w = 0;
	res[0] = '\0';
	const char *k;
	json_t *x;
	json_object_foreach((json_t *)r, k, x)
	{
		char one[64];
		int i = ah_dimset_find(&ds, k);
		if (i >= 0)
			ah_unit_format(ds.kind[i], (int64_t)json_integer_value(x), one, sizeof one);
		else
			snprintf(one, sizeof one, "%lld", (long long)json_integer_value(x));
		int n = snprintf(res + w, len - w, "%s%s=%s", w ? "," : "", k, one);
		if (n < 0 || (size_t)n >= len - w)
			break;
		w += (size_t)n;
	}
}

int ah_client_decode_description(const ah_policy *pol, const json_t *o, ah_vec *res, char *params,
				 size_t params_len, ah_service_description *out)
{
	memset(out, 0, sizeof *out);
	int rc = ah_client_decode_item(pol, o, res, params, params_len, &out->item);
	if (rc < 0)
		return rc;
	const char *wl = json_string_value(json_object_get(o, "workload"));
	if (wl) {
		ah_shadow_request *r = &out->record;
		out->have_record = true;
		r->id = -1;
		r->end_ns = -1;
		snprintf(r->workload, sizeof r->workload, "%s", wl);
		req_params(r, json_object_get(o, "params"));
		req_params(r, json_object_get(o, "ahead_params"));
		req_figs(r, json_object_get(o, "predicted"), 0);
		req_figs(r, json_object_get(o, "peak"), 1);
		req_figs(r, json_object_get(o, "mean"), 2);
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(o, "sized_by"), k, v)
		{
			ah_shadow_req_dim *d = req_dim(r, k);
			if (!d)
				continue;
			snprintf(d->model, sizeof d->model, "%s", str(v, "model"));
			d->model_n = num(v, "history");
		}
	}
	json_t *lu = json_object_get(o, "last_usage");
	if (json_is_object(lu)) {
		out->have_last = true;
		ah_client_vec(&pol->dims, lu, AH_USAGE_NONE, &out->last_usage);
		out->last_usage_ns = ah_client_time(o, "last_usage_at");
	}
	json_t *hn = json_object_get(o, "history_now");
	if (json_is_object(hn)) {
		out->have_model = true;
		ah_client_vec(&pol->dims, json_object_get(hn, "prediction"), 0, &out->model_prediction);
		out->model.q = json_number_value(json_object_get(hn, "quantile"));
		out->model.n_dims = pol->dims.n;
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(hn, "by_dim"), k, v)
		{
			int d = ah_dimset_find(&pol->dims, k);
			if (d < 0)
				continue;
			out->model.dim[d].source = source_of(str(v, "model"));
			out->model.dim[d].n = (size_t)num(v, "history");
			out->model.dim[d].value = (double)out->model_prediction.v[d];
		}
	}
	out->n_resizes = (int)num(o, "resizes");
	out->last_resize_ns = ah_client_time(o, "last_resize");
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(o, "recent_resizes"), i, v)
	{
		if (out->n_recent >= AH_SERVICE_RESIZES_SHOWN)
			break;
		ah_service_resize *z = &out->recent[out->n_recent++];
		z->t_ns = ah_client_time(v, "time");
		json_t *r = json_object_get(v, "resources");
		if (json_is_object(r) && json_object_get(r, "text"))
			snprintf(z->resources, sizeof z->resources, "%s", str(r, "text"));
		else
			vec_text(r, z->resources, sizeof z->resources);
		snprintf(z->why, sizeof z->why, "%s", str(v, "why"));
	}
	return 0;
}

int ah_client_decode_recommendation(const ah_policy *pol, const json_t *o, ah_service_recommendation *out)
{
	if (!json_is_object(o))
		return AH_EPARSE;
	memset(out, 0, sizeof *out);
	json_t *q = json_object_get(o, "quantiles");
	out->q_lower = json_number_value(json_object_get(q, "lower"));
	out->q_target = json_number_value(json_object_get(q, "target"));
	out->q_upper = json_number_value(json_object_get(q, "upper"));
	out->n_dims = pol->dims.n;
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(o, "dimensions"), k, v)
	{
		int d = ah_dimset_find(&pol->dims, k);
		if (d < 0)
			continue;
		out->dim[d].known = true;
		out->dim[d].lower = num(v, "lower");
		out->dim[d].target = num(v, "target");
		out->dim[d].upper = num(v, "upper");
		out->dim[d].source = source_of(str(v, "model"));
		out->dim[d].n = (size_t)num(v, "history");
		out->dim[d].n_scored = (size_t)num(v, "scored");
		out->dim[d].mean_abs_error = json_number_value(json_object_get(v, "mean_abs_error"));
		out->dim[d].under_rate = json_number_value(json_object_get(v, "under_rate"));
	}
	return 0;
}
