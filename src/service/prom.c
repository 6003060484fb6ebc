/* A Prometheus client (ahead/prom.h): range queries over
 * libcurl, their answers decoded with jansson. */
#include <curl/curl.h>
#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/limits.h"
#include "ahead/prom.h"

#define NS_PER_MS INT64_C(1000000)
#define CONNECT_TIMEOUT_S 5L
#define LIST_MAX 6          /* series named in a message */
#define LABELS_SCAN_MAX 256 /* series whose labels a message compares */

typedef struct {
	char *buf;
	size_t len, cap;
	bool too_big;
} body;

/* What the requests so far have read. */
typedef struct {
	const ah_prom_range *r;
	char who[AH_PROM_URL_MAX + 32]; /* the endpoint, credentials hidden, for messages */
	char *ident;                    /* the kept series' labels (sorted JSON), once seen */
	size_t cap;
	size_t seen;                    /* series in the answers before the filters */
	char seen_names[512];           /* some of them, for "--match keeps none" */
	ah_prom_samples *out;
} state;

/* Appends to a message buffer, cutting when full. */
static void addf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void addf(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	if (n + 1 >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

/* Milliseconds as Prometheus's float seconds: "1700000000.250". */
static void fmt_seconds(int64_t ns, char *buf, size_t len)
{
	int64_t ms = ns / NS_PER_MS;
	snprintf(buf, len, "%" PRId64 ".%03" PRId64, ms / 1000, ms % 1000);
}

/* The URL for messages: "user:password@" becomes "***@". */
static void url_for_people(const char *url, char *buf, size_t len)
{
	const char *host = strstr(url, "://");
	host = host ? host + 3 : url;
	const char *at = strchr(host, '@'), *slash = strchr(host, '/');
	if (at && (!slash || at < slash))
		snprintf(buf, len, "%.*s***%s", (int)(host - url), url, at);
	else
		snprintf(buf, len, "%s", url);
}

static bool label_name_ok(const char *s, size_t n)
{
	if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return true;
}

int ah_prom_range_check(const ah_prom_range *r, char *err, size_t errlen)
{
	const char *u = r->url;
	if (!u || (strncmp(u, "http://", 7) && strncmp(u, "https://", 8))) {
		snprintf(err, errlen, "--prometheus: '%.64s' is not an http:// or https:// URL", u ? u : "");
		return AH_EINVAL;
	}
	if (strlen(u) > AH_PROM_URL_MAX) {
		snprintf(err, errlen, "--prometheus: the URL is longer than %d bytes", AH_PROM_URL_MAX);
		return AH_EINVAL;
	}
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '?' || *p == '#') {
			snprintf(err, errlen,
				 "--prometheus: '%.64s' is not a base URL (no spaces, query or fragment; "
				 "e.g. http://localhost:9090)", u);
			return AH_EINVAL;
		}
	if (!r->query || !*r->query) {
		snprintf(err, errlen, "--query: empty");
		return AH_EINVAL;
	}
	if (strlen(r->query) > AH_PROM_QUERY_MAX) {
		snprintf(err, errlen, "--query: longer than %d bytes", AH_PROM_QUERY_MAX);
		return AH_EINVAL;
	}
	if (r->n_match > AH_PROM_MATCH_MAX) {
		snprintf(err, errlen, "--match: at most %d", AH_PROM_MATCH_MAX);
		return AH_EINVAL;
	}
	for (size_t i = 0; i < r->n_match; i++) {
		const char *eq = strchr(r->match[i], '=');
		if (!eq || !label_name_ok(r->match[i], (size_t)(eq - r->match[i]))) {
			snprintf(err, errlen,
				 "--match: expected LABEL=VALUE with LABEL of [a-zA-Z_][a-zA-Z0-9_]*, got '%.64s'",
				 r->match[i]);
			return AH_EINVAL;
		}
	}
	if (r->step_ns <= 0 || r->step_ns % NS_PER_MS) {
		snprintf(err, errlen, "--step: must be a positive whole number of milliseconds");
		return AH_EINVAL;
	}
	if (r->start_ns < 0 || r->end_ns < r->start_ns || r->start_ns % NS_PER_MS || r->end_ns % NS_PER_MS) {
		snprintf(err, errlen, "--start must not be after --end");
		return AH_EINVAL;
	}
	uint64_t points = (uint64_t)((r->end_ns - r->start_ns) / r->step_ns) + 1;
	uint64_t requests = (points + AH_PROM_POINTS_MAX - 1) / AH_PROM_POINTS_MAX;
	if (requests > AH_PROM_REQUESTS_MAX) {
		snprintf(err, errlen,
			 "--start..--end: %" PRIu64 " steps of --step need %" PRIu64 " requests of at most %d points; "
			 "at most %d requests (give a larger --step or a shorter range)",
			 points, requests, AH_PROM_POINTS_MAX, AH_PROM_REQUESTS_MAX);
		return AH_ETOOBIG;
	}
	return 0;
}

void ah_prom_samples_fini(ah_prom_samples *s)
{
	if (!s)
		return;
	free(s->t_ns);
	free(s->v);
	s->t_ns = NULL;
	s->v = NULL;
	s->n = 0;
}

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	body *b = ctx;
	size_t k = size * n;
	if (b->len + k > AH_PROM_BODY_MAX) {
		b->too_big = true;
		return 0;
	}
	if (b->len + k + 1 > b->cap) {
		size_t cap = (b->len + k + 1) * 2;
		if (cap > AH_PROM_BODY_MAX + 1)
			cap = AH_PROM_BODY_MAX + 1;
		char *nb = realloc(b->buf, cap);
		if (!nb)
			return 0;
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, p, k);
	b->len += k;
	b->buf[b->len] = '\0';
	return k;
}

/* ---- the answer ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A label's value ("" when absent, as in PromQL). */
static const char *label(const json_t *metric, const char *name)
{
	const char *s = json_string_value(json_object_get(metric, name));
	return s ? s : "";
}

/* A series for people: name{label="value",...}, labels sorted. */
static void series_name(const json_t *metric, char *buf, size_t len)
{
	buf[0] = '\0';
	const char *keys[64];
	size_t n = 0;
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)metric, k, v)
		if (strcmp(k, "__name__") && n < 64)
			keys[n++] = k;
	qsort(keys, n, sizeof *keys, cmp_str);
	const char *name = json_string_value(json_object_get(metric, "__name__"));
	addf(buf, len, "%s{", name ? name : "");
	for (size_t i = 0; i < n; i++)
		addf(buf, len, "%s%s=\"%s\"", i ? "," : "", keys[i],
		     json_string_value(json_object_get(metric, keys[i])) ? json_string_value(json_object_get(metric, keys[i])) : "");
	addf(buf, len, "}");
}

static bool matches(const ah_prom_range *r, const json_t *metric)
{
	for (size_t i = 0; i < r->n_match; i++) {
		const char *m = r->match[i], *eq = strchr(m, '=');
		char name[128];
		snprintf(name, sizeof name, "%.*s", (int)(eq - m), m);
		if (strcmp(label(metric, name), eq + 1))
			return false;
	}
	return true;
}

/* Several series: refused, naming them and the labels that tell them apart. */
static int several(state *st, json_t **kept, size_t n, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: the query returned %zu series%s; pick one with --match LABEL=VALUE", st->who, n,
		 st->r->n_match ? " that --match keeps" : "");
	/* the labels whose values differ between them */
	size_t scan = n < LABELS_SCAN_MAX ? n : LABELS_SCAN_MAX, shown = 0;
	addf(err, errlen, " (labels that differ:");
	const char *done[64];
	size_t nd = 0;
	for (size_t i = 0; i < scan && nd < 64; i++) {
		const char *k;
		json_t *v;
		json_object_foreach(kept[i], k, v) {
			bool dup = false;
			for (size_t d = 0; d < nd && !dup; d++)
				dup = !strcmp(done[d], k);
			if (dup || nd == 64)
				continue;
			done[nd++] = k;
			bool differs = false;
			for (size_t j = 0; j < scan && !differs; j++)
				differs = strcmp(label(kept[j], k), label(kept[0], k)) != 0;
			if (differs)
				addf(err, errlen, "%s %s", shown++ ? "," : "", k);
		}
	}
	addf(err, errlen, "%s): ", shown ? "" : " none");
	for (size_t i = 0; i < n && i < LIST_MAX; i++) {
		char name[256];
		series_name(kept[i], name, sizeof name);
		addf(err, errlen, "%s%s", i ? ", " : "", name);
	}
	if (n > LIST_MAX)
		addf(err, errlen, " and %zu more", n - LIST_MAX);
	return AH_EINVAL;
}

static int push(state *st, int64_t t, double v)
{
	ah_prom_samples *o = st->out;
	if (o->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 1024;
		int64_t *nt = realloc(o->t_ns, cap * sizeof *nt);
		if (!nt)
			return AH_ENOMEM;
		o->t_ns = nt;
		double *nv = realloc(o->v, cap * sizeof *nv);
		if (!nv)
			return AH_ENOMEM;
		o->v = nv;
		st->cap = cap;
	}
	o->t_ns[o->n] = t;
	o->v[o->n++] = v;
	return 0;
}

/* One series' values: [[seconds, "value"], ...], ascending. */
static int take_values(state *st, const json_t *values, char *err, size_t errlen)
{
	ah_prom_samples *o = st->out;
	int64_t last = o->n ? o->t_ns[o->n - 1] : -1;
	size_t i;
	json_t *pt;
	const double t_max_s = (double)AH_TIME_MAX_NS / 1e9;
	json_array_foreach((json_t *)values, i, pt) {
		json_t *jt = json_array_get(pt, 0), *jv = json_array_get(pt, 1);
		const char *s = json_string_value(jv);
		if (!json_is_array(pt) || json_array_size(pt) != 2 || !json_is_number(jt) || !s) {
			snprintf(err, errlen, "%s: point %zu of the series is not [seconds, \"value\"]", st->who, i + 1);
			return AH_EPARSE;
		}
		double secs = json_number_value(jt);
		if (!(secs >= 0 && secs <= t_max_s)) {
			snprintf(err, errlen, "%s: point %zu: time %.17g is out of range (1970..2262)", st->who, i + 1,
				 secs);
			return AH_EPARSE;
		}
		int64_t t = (int64_t)llround(secs * 1000.0) * NS_PER_MS;
		if (t <= last) {
			snprintf(err, errlen, "%s: point %zu: times are not ascending", st->who, i + 1);
			return AH_EPARSE;
		}
		last = t;
		char *end;
		double v = strtod(s, &end);
		if (!*s || *end || isspace((unsigned char)*s)) {
			snprintf(err, errlen, "%s: point %zu: value '%.40s' is not a number", st->who, i + 1, s);
			return AH_EPARSE;
		}
		if (!isfinite(v)) {
			o->missing++;
			continue;
		}
		int rc = push(st, t, v);
		if (rc) {
			snprintf(err, errlen, "out of memory");
			return rc;
		}
	}
	return 0;
}

/* A body that is not the API's JSON, for the message: its start, printable. */
static void snippet(const body *b, char *buf, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < b->len && n + 2 < len && i < 80; i++)
		buf[n++] = isprint((unsigned char)b->buf[i]) ? b->buf[i] : ' ';
	buf[n] = '\0';
}

static int decode(state *st, long status, const body *b, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = b->buf ? json_loadb(b->buf, b->len, 0, &je) : NULL;
	json_t **kept = NULL;
	int rc = AH_EPARSE;
	if (!json_is_object(j)) {
		char sn[96];
		snippet(b, sn, sizeof sn);
		snprintf(err, errlen, "%s: HTTP %ld: not a Prometheus API answer%s%s%s", st->who, status,
			 sn[0] ? " ('" : " (empty body)", sn, sn[0] ? "...')" : "");
		rc = status >= 500 ? AH_EIO : AH_EPARSE;
		goto out;
	}
	const char *stat = json_string_value(json_object_get(j, "status"));
	if (status != 200 || !stat || strcmp(stat, "success")) {
		const char *type = json_string_value(json_object_get(j, "errorType"));
		const char *msg = json_string_value(json_object_get(j, "error"));
		snprintf(err, errlen, "%s: HTTP %ld: %s%s%s", st->who, status, type ? type : "", type ? ": " : "",
			 msg ? msg : "(no error message)");
		rc = status == 400 || status == 422 ? AH_EPARSE : status == 200 ? AH_EPARSE : AH_EIO;
		goto out;
	}
	json_t *data = json_object_get(j, "data");
	const char *rtype = json_string_value(json_object_get(data, "resultType"));
	json_t *result = json_object_get(data, "result");
	if (!rtype || !json_is_array(result)) {
		snprintf(err, errlen, "%s: the answer has no data.resultType and data.result", st->who);
		goto out;
	}
	if (strcmp(rtype, "matrix")) {
		snprintf(err, errlen, "%s: the answer is a %.16s, not a matrix", st->who, rtype);
		goto out;
	}
	size_t n = json_array_size(result), nk = 0, kept_at = 0;
	if (n && !(kept = malloc(n * sizeof *kept))) {
		snprintf(err, errlen, "out of memory");
		rc = AH_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_array_get(result, i), *metric = json_object_get(s, "metric");
		if (!json_is_object(metric) || !json_is_array(json_object_get(s, "values"))) {
			snprintf(err, errlen, "%s: series %zu has no metric and values", st->who, i + 1);
			goto out;
		}
		if (st->seen++ < LIST_MAX) {
			char name[160];
			series_name(metric, name, sizeof name);
			addf(st->seen_names, sizeof st->seen_names, "%s%s", st->seen > 1 ? ", " : "", name);
		}
		if (matches(st->r, metric)) {
			kept_at = i;
			kept[nk++] = metric;
		}
	}
	if (nk > 1) {
		rc = several(st, kept, nk, err, errlen);
		goto out;
	}
	if (nk == 1) {
		char *id = json_dumps(kept[0], JSON_COMPACT | JSON_SORT_KEYS);
		if (!id) {
			snprintf(err, errlen, "out of memory");
			rc = AH_ENOMEM;
			goto out;
		}
		if (st->ident && strcmp(st->ident, id)) {
			char name[256];
			series_name(kept[0], name, sizeof name);
			snprintf(err, errlen,
				 "%s: the query returned another series further on (%s after %s); pick one with "
				 "--match LABEL=VALUE",
				 st->who, name, st->out->series);
			free(id);
			rc = AH_EINVAL;
			goto out;
		}
		if (!st->ident) {
			st->ident = id;
			series_name(kept[0], st->out->series, sizeof st->out->series);
		} else {
			free(id);
		}
		if ((rc = take_values(st, json_object_get(json_array_get(result, kept_at), "values"), err, errlen)))
			goto out;
	}
	rc = 0;
out:
	free(kept);
	json_decref(j);
	return rc;
}

/* ---- the requests ---- */

static int request(state *st, CURL *h, const char *esc_query, int64_t from, int64_t to, char *err, size_t errlen)
{
	const ah_prom_range *r = st->r;
	char a[32], z[32], s[32];
	fmt_seconds(from, a, sizeof a);
	fmt_seconds(to, z, sizeof z);
	fmt_seconds(r->step_ns, s, sizeof s);
	size_t base = strlen(r->url);
	while (base && r->url[base - 1] == '/')
		base--;
	size_t n = base + strlen(esc_query) + 160;
	char *url = malloc(n);
	body b = {0};
	int rc = AH_ENOMEM;
	if (!url) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	snprintf(url, n, "%.*s/api/v1/query_range?query=%s&start=%s&end=%s&step=%s", (int)base, r->url, esc_query,
		 a, z, s);
	char cerr[CURL_ERROR_SIZE] = "";
	struct curl_slist *hd = curl_slist_append(NULL, "Accept: application/json");
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	long timeout_s = r->timeout_s > 0 ? (long)r->timeout_s : (long)AH_PROM_TIMEOUT_S;
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, timeout_s < CONNECT_TIMEOUT_S ? timeout_s : CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)AH_PROM_BODY_MAX);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); /* gzip when offered: the cap counts decoded bytes */
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "ahead-cli/0.1.0");
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	CURLcode cc = curl_easy_perform(h);
	st->out->requests++;
	long status = 0;
	if (cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hd);
	if (b.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(err, errlen, "%s: the answer is larger than %zu MiB (a query returning fewer series, "
			 "or a larger --step)", st->who, AH_PROM_BODY_MAX >> 20);
		rc = AH_ETOOBIG;
	} else if (cc != CURLE_OK) {
		snprintf(err, errlen, "%s: no answer: %s", st->who, cerr[0] ? cerr : curl_easy_strerror(cc));
		rc = cc == CURLE_OPERATION_TIMEDOUT ? AH_ETIMEDOUT : AH_EIO;
	} else {
		rc = decode(st, status, &b, err, errlen);
	}
	free(b.buf);
	free(url);
	return rc;
}

int ah_prom_query_range(const ah_prom_range *r, ah_prom_samples *out, char *err, size_t errlen)
{
	int rc = ah_prom_range_check(r, err, errlen);
	if (rc)
		return rc;
	static bool global;
	if (!global) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			snprintf(err, errlen, "libcurl: cannot initialize");
			return AH_EIO;
		}
		global = true;
	}
	ah_prom_samples res = {0};
	state st = {.r = r, .out = &res};
	char shown[AH_PROM_URL_MAX + 1];
	url_for_people(r->url, shown, sizeof shown);
	size_t base = strlen(shown);
	while (base && shown[base - 1] == '/')
		base--;
	snprintf(st.who, sizeof st.who, "%.*s/api/v1/query_range", (int)base, shown);
	CURL *h = curl_easy_init();
	char *esc = h ? curl_easy_escape(h, r->query, 0) : NULL;
	if (!esc) {
		snprintf(err, errlen, "out of memory");
		rc = AH_ENOMEM;
		goto out;
	}
	/* Prometheus returns the points start + k*step <= end: each request
	 * takes AH_PROM_POINTS_MAX of them, the next one starts a step on. */
	const int64_t span = (int64_t)(AH_PROM_POINTS_MAX - 1) * r->step_ns;
	for (int64_t from = r->start_ns; from <= r->end_ns; from += span + r->step_ns) {
		int64_t to = r->end_ns - from > span ? from + span : r->end_ns;
		if ((rc = request(&st, h, esc, from, to, err, errlen)))
			goto out;
		if (r->end_ns - from <= span)
			break;
	}
	if (!st.ident) {
		char a[32], z[32];
		fmt_seconds(r->start_ns, a, sizeof a);
		fmt_seconds(r->end_ns, z, sizeof z);
		if (st.seen)
			snprintf(err, errlen, "%s: --match keeps none of the %zu series the query returned: %s%s",
				 st.who, st.seen, st.seen_names, st.seen > LIST_MAX ? ", ..." : "");
		else
			snprintf(err, errlen, "%s: the query returned no series between %s and %s (epoch seconds)",
				 st.who, a, z);
		rc = AH_ENOENT;
		goto out;
	}
	if (!res.n) {
		snprintf(err, errlen, "%s: %s holds only missing values (%zu NaN or infinite)", st.who, res.series,
			 res.missing);
		rc = AH_ENOENT;
		goto out;
	}
	*out = res;
	res = (ah_prom_samples){0};
out:
	ah_prom_samples_fini(&res);
	curl_free(esc);
	curl_easy_cleanup(h);
	free(st.ident);
	return rc;
}
