/* ahead: the watch on an etcd ledger's head (include/ahead/etcd_watch.h).
 *
 * One thread per watch holds a streaming POST /v3/watch open with libcurl.
 * The JSON gateway answers with one JSON object per line: {"result":
 * {"created": true}} first, then one {"result": {"events": [...]}} per
 * change, or {"result": {"canceled": true, "compact_revision": N}} when
 * the revision asked for was compacted away. The thread only records what
 * it read and wakes the owner through an eventfd: the owner (one loop)
 * does every reload itself, so nothing here touches the ledger handle. */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "ahead/error.h"
#include "ahead/etcd_watch.h"
#include "store/etcd_client.h"

/* The longest line taken from the stream: a head value is under 200 bytes,
 * so anything near this is not the gateway. */
#define WATCH_LINE_MAX (1u << 20)
/* Pause before the next member after a dropped stream. */
#define WATCH_RETRY_NS INT64_C(200000000)

struct ah_etcd_watch {
	etcd_client *urls;        /* only for the parsed endpoint list */
	char key_b64[2048];
	pthread_t th;
	bool started;
	int efd;
	atomic_bool stop;
	pthread_mutex_t mu;       /* guards st, after, restart_* */
	ah_etcd_watch_state st;
	long long after;          /* the stream resumes after this revision (0: from now) */
	bool restart;             /* the owner asked for a new stream */
	long long restart_after;
	bool compacted;           /* the open stream was cancelled for compaction */
	/* the open stream's unparsed bytes (thread only) */
	char *line;
	size_t len, cap;
	bool created;
	int cur;                  /* endpoint index */
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void wake(ah_etcd_watch *w)
{
	uint64_t one = 1;
	ssize_t n = write(w->efd, &one, sizeof one);
	(void)n; /* a full counter already wakes the owner */
}

/* One line of the stream. Returns false to drop the stream. */
static bool on_line(ah_etcd_watch *w, const char *s, size_t n)
{
	json_t *j = json_loadb(s, n, 0, NULL);
	if (!j)
		return true; /* not ours to judge: a keepalive or a partial line cannot be */
	json_t *res = json_object_get(j, "result");
	json_t *err = json_object_get(j, "error");
	bool keep = true, changed = false;
	pthread_mutex_lock(&w->mu);
	if (err || !res) {
		json_t *m = json_object_get(err ? err : j, "message");
		snprintf(w->st.err, sizeof w->st.err, "etcd %s: %.200s", w->st.endpoint,
			 json_is_string(m) ? json_string_value(m) : "watch refused");
		keep = false;
	} else if (json_is_true(json_object_get(res, "canceled"))) {
		long long cr = (long long)etcd_i64(res, "compact_revision");
		if (cr > 0) {
			/* the history after w->after is gone: the owner re-lists, and the
			 * stream starts again at the compact revision, the oldest etcd
			 * still has: "from now" would miss a commit landing between the
			 * owner's full load and the new stream (a repeat is harmless: it
			 * is not newer than the view) */
			w->st.relist = true;
			w->st.compact_rev = cr;
			w->st.relists++;
			w->after = cr - 1;
			w->compacted = true;
			changed = true;
		}
		json_t *m = json_object_get(res, "cancel_reason");
		snprintf(w->st.err, sizeof w->st.err, "etcd %s: watch cancelled%s%.200s", w->st.endpoint,
			 cr > 0 ? " (history compacted)" : "", json_is_string(m) ? json_string_value(m) : "");
		w->st.up = false;
		keep = false;
	} else {
		if (json_is_true(json_object_get(res, "created"))) {
			w->st.up = true;
			w->created = true;
			changed = true;
			/* started from the present: resume after it next time */
			if (!w->after)
				w->after = (long long)etcd_revision(res);
		}
		json_t *evs = json_object_get(res, "events");
		for (size_t i = 0; i < json_array_size(evs); i++) {
			json_t *kv = json_object_get(json_array_get(evs, i), "kv");
			long long r = (long long)etcd_i64(kv, "mod_revision");
			if (r > w->st.rev) {
				w->st.rev = r;
				w->st.event_mono_ns = mono_ns();
			}
			if (r > w->after)
				w->after = r;
			w->st.events++;
			changed = true;
		}
	}
	pthread_mutex_unlock(&w->mu);
	json_decref(j);
	if (changed)
		wake(w);
	return keep;
}

static size_t on_data(char *p, size_t sz, size_t nm, void *ctx)
{
	ah_etcd_watch *w = ctx;
	size_t n = sz * nm;
	if (w->len + n + 1 > WATCH_LINE_MAX)
		return 0;
	if (w->len + n + 1 > w->cap) {
		size_t nc = w->cap ? w->cap : 4096;
		while (nc < w->len + n + 1)
			nc *= 2;
		char *nb = realloc(w->line, nc);
		if (!nb)
			return 0;
		w->line = nb;
		w->cap = nc;
	}
	memcpy(w->line + w->len, p, n);
	w->len += n;
	size_t start = 0;
	for (size_t i = 0; i < w->len; i++)
		if (w->line[i] == '\n') {
			if (!on_line(w, w->line + start, i - start))
				return 0;
			start = i + 1;
		}
	memmove(w->line, w->line + start, w->len - start);
	w->len -= start;
	return n;
}

/* Called by libcurl about once a second and on every transfer step: a
 * non-zero answer ends the stream (stop, or the owner asked for a new one). */
static int on_progress(void *ctx, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	(void)a, (void)b, (void)c, (void)d;
	ah_etcd_watch *w = ctx;
	if (atomic_load(&w->stop))
		return 1;
	pthread_mutex_lock(&w->mu);
	bool r = w->restart;
	pthread_mutex_unlock(&w->mu);
	return r ? 1 : 0;
}

/* One stream on endpoint i, from after + 1 (0: from now), until it drops. */
static void stream(ah_etcd_watch *w, CURL *h, int i, long long after)
{
	char url[512], body[2300];
	snprintf(url, sizeof url, "%s/v3/watch", etcd_client_url(w->urls, i));
	if (after > 0)
		snprintf(body, sizeof body, "{\"create_request\":{\"key\":\"%s\",\"start_revision\":\"%lld\"}}",
			 w->key_b64, after + 1);
	else
		snprintf(body, sizeof body, "{\"create_request\":{\"key\":\"%s\"}}", w->key_b64);
	pthread_mutex_lock(&w->mu);
	snprintf(w->st.endpoint, sizeof w->st.endpoint, "%s", etcd_client_url(w->urls, i));
	pthread_mutex_unlock(&w->mu);
	w->len = 0;
	w->created = false;
	struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, w);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	/* a member that went away without closing (its host died) */
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 2L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 1L);
	CURLcode cc = curl_easy_perform(h);
	curl_slist_free_all(hd);
	pthread_mutex_lock(&w->mu);
	w->st.up = false;
	if (!w->compacted && !w->restart && !atomic_load(&w->stop))
		snprintf(w->st.err, sizeof w->st.err, "etcd %s: watch stream ended: %s", etcd_client_url(w->urls, i),
			 cc == CURLE_OK ? "closed by the member" : curl_easy_strerror(cc));
	pthread_mutex_unlock(&w->mu);
	wake(w);
}

static void nap(ah_etcd_watch *w, int64_t ns)
{
	int64_t end = mono_ns() + ns;
	while (!atomic_load(&w->stop) && mono_ns() < end) {
		struct timespec ts = {0, 20000000};
		nanosleep(&ts, NULL);
	}
}

static void *run(void *arg)
{
	ah_etcd_watch *w = arg;
	CURL *h = curl_easy_init();
	bool first = true;
	while (h && !atomic_load(&w->stop)) {
		pthread_mutex_lock(&w->mu);
		if (w->restart) {
			w->after = w->restart_after;
			w->restart = false;
			w->cur = (w->cur + 1) % etcd_client_n_urls(w->urls);
		}
		w->compacted = false;
		long long after = w->after;
		if (!first)
			w->st.reconnects++;
		pthread_mutex_unlock(&w->mu);
		first = false;
		stream(w, h, w->cur, after);
		pthread_mutex_lock(&w->mu);
		bool again_now = w->compacted || w->restart;
		pthread_mutex_unlock(&w->mu);
		if (again_now || atomic_load(&w->stop))
			continue;
		/* dropped: the next member, after a pause */
		w->cur = (w->cur + 1) % etcd_client_n_urls(w->urls);
		nap(w, WATCH_RETRY_NS);
	}
	if (h)
		curl_easy_cleanup(h);
	return NULL;
}

int ah_etcd_watch_new(const char *endpoints, const char *prefix, long long after_rev, ah_etcd_watch **out,
		      char *err, size_t errlen)
{
	if (!endpoints || !prefix || !out)
		return AH_EINVAL;
	ah_etcd_watch *w = calloc(1, sizeof *w);
	if (!w)
		return AH_ENOMEM;
	w->efd = -1;
	pthread_mutex_init(&w->mu, NULL);
	int rc = etcd_client_new(endpoints, 0, &w->urls, err, errlen);
	if (rc < 0)
		goto fail;
	char key[1100];
	snprintf(key, sizeof key, "%s/s/head", prefix);
	json_t *k = etcd_b64s(key);
	if (!k || json_string_length(k) >= sizeof w->key_b64) {
		json_decref(k);
		snprintf(err, errlen, "etcd watch: prefix too long");
		rc = AH_ETOOBIG;
		goto fail;
	}
	snprintf(w->key_b64, sizeof w->key_b64, "%s", json_string_value(k));
	json_decref(k);
	w->after = after_rev > 0 ? after_rev : 0;
	if ((w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		snprintf(err, errlen, "etcd watch: eventfd: %s", strerror(errno));
		rc = AH_EIO;
		goto fail;
	}
	atomic_init(&w->stop, false);
	if (pthread_create(&w->th, NULL, run, w) != 0) {
		snprintf(err, errlen, "etcd watch: cannot start its thread");
		rc = AH_ENOMEM;
		goto fail;
	}
	w->started = true;
	*out = w;
	return 0;
fail:
	ah_etcd_watch_free(w);
	return rc;
}

void ah_etcd_watch_free(ah_etcd_watch *w)
{
	if (!w)
		return;
	if (w->started) {
		atomic_store(&w->stop, true);
		pthread_join(w->th, NULL);
	}
	if (w->efd >= 0)
		close(w->efd);
	etcd_client_free(w->urls);
	pthread_mutex_destroy(&w->mu);
	free(w->line);
	free(w);
}

int ah_etcd_watch_fd(const ah_etcd_watch *w)
{
	return w ? w->efd : -1;
}

void ah_etcd_watch_take(ah_etcd_watch *w, ah_etcd_watch_state *out)
{
	uint64_t v;
	while (read(w->efd, &v, sizeof v) == (ssize_t)sizeof v)
		;
	pthread_mutex_lock(&w->mu);
	*out = w->st;
	w->st.relist = false;
	pthread_mutex_unlock(&w->mu);
}

void ah_etcd_watch_keep(ah_etcd_watch *w, const ah_etcd_watch_state *st)
{
	if (!w || !st || !st->relist)
		return;
	pthread_mutex_lock(&w->mu);
	w->st.relist = true;
	pthread_mutex_unlock(&w->mu);
}

void ah_etcd_watch_restart(ah_etcd_watch *w, long long after_rev)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->restart = true;
	w->restart_after = after_rev > 0 ? after_rev : 0;
	pthread_mutex_unlock(&w->mu);
}
