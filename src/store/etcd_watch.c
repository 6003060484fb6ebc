/* ahead: the watch on an etcd ledger's state (include/ahead/etcd_watch.h).
 *
 * One thread per watch holds a gRPC Watch stream open (etcd's
 * /etcdserverpb.Watch/Watch over HTTP/2, through libcurl): one create
 * request for the range PREFIX/s/, then one WatchResponse per batch of
 * changes, or a cancel naming the compact revision when the revision asked
 * for was compacted away. The JSON gateway was the first transport; it
 * cost the member several times the events themselves (as it did for
 * commits), which only mattered once the stream carried every change.
 *
 * Besides the head's revision (what the owner follows), the thread keeps a
 * mirror of PREFIX/s/: a base read by one Range at a known revision B,
 * then every change after B, applied in order, so the mirror is always
 * the state at one revision. The owner loads its view from the mirror
 * instead of ranging over PREFIX/s/ again: etcd's range walks every key
 * deleted since its last compaction, which under load made each full
 * load cost the member tens of milliseconds (docs/CLUSTER.md
 * "Throughput"). The thread only records what it read and wakes the
 * owner through an eventfd; the owner (one loop) does every reload
 * itself, so nothing here touches the ledger handle. */
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
#include "ahead/limits.h"
#include "store/etcd_client.h"
#include "store/etcd_rpc.pb-c.h"
#include "store/etcd_watch_int.h"

/* Pause before the next member after a dropped stream. */
#define WATCH_RETRY_NS INT64_C(200000000)
#define WATCH_KEY_MAX 1100

/* One key of the mirror. */
typedef struct {
	char *key;
	char *val;
	size_t klen, vlen;
	int64_t mod_rev;
} mkv;

struct ah_etcd_watch {
	etcd_client *urls;        /* the endpoint list, and the thread's Range calls */
	char key[WATCH_KEY_MAX];  /* PREFIX/s/ */
	char end[WATCH_KEY_MAX];  /* its range end */
	char head[WATCH_KEY_MAX]; /* PREFIX/s/head */
	pthread_t th;
	bool started;
	int efd;
	atomic_bool stop;
	pthread_mutex_t mu;       /* guards st, after, restart_*, the mirror */
	ah_etcd_watch_state st;
	long long after;          /* the stream resumes after this revision (0: from now) */
	bool restart;             /* the owner asked for a new stream */
	long long restart_after;
	bool compacted;           /* the open stream was cancelled for compaction */
	/* the mirror: sorted by key; the state at mirror_rev when mirror_ok */
	mkv *kv;
	size_t n_kv, cap_kv;
	bool mirror_ok;
	int64_t mirror_rev;
	int64_t skip_le;          /* this stream's events at or before it are in the mirror already */
	/* the open stream's unparsed bytes, and its gRPC status (thread only) */
	unsigned char *buf;
	size_t len, cap;
	int grpc_status;
	char grpc_msg[256];
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

/* ---- the mirror (under w->mu) ------------------------------------------ */

static int key_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	return c ? c : an < bn ? -1 : an > bn;
}

/* The index of key, or where it would go (*found false). */
static size_t mirror_find(const ah_etcd_watch *w, const char *k, size_t kn, bool *found)
{
	size_t lo = 0, hi = w->n_kv;
	/* new allocation ids are the largest keys yet: check the end first */
	if (hi && key_cmp(w->kv[hi - 1].key, w->kv[hi - 1].klen, k, kn) < 0) {
		*found = false;
		return hi;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(w->kv[mid].key, w->kv[mid].klen, k, kn);
		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static void mirror_clear(ah_etcd_watch *w)
{
	for (size_t i = 0; i < w->n_kv; i++) {
		free(w->kv[i].key);
		free(w->kv[i].val);
	}
	w->n_kv = 0;
	w->mirror_ok = false;
}

static int mirror_put(ah_etcd_watch *w, const ProtobufCBinaryData *k, const ProtobufCBinaryData *v, int64_t rev)
{
	bool found;
	size_t i = mirror_find(w, (const char *)k->data, k->len, &found);
	char *nv = malloc(v->len + 1);
	if (!nv)
		return AH_ENOMEM;
	if (v->len)
		memcpy(nv, v->data, v->len);
	nv[v->len] = '\0';
	if (found) {
		free(w->kv[i].val);
		w->kv[i].val = nv;
		w->kv[i].vlen = v->len;
		w->kv[i].mod_rev = rev;
		return 0;
	}
	char *nk = malloc(k->len + 1);
	if (!nk) {
		free(nv);
		return AH_ENOMEM;
	}
	if (w->n_kv == w->cap_kv) {
		size_t nc = w->cap_kv ? 2 * w->cap_kv : 256;
		mkv *nb = realloc(w->kv, nc * sizeof *nb);
		if (!nb) {
			free(nk);
			free(nv);
			return AH_ENOMEM;
		}
		w->kv = nb;
		w->cap_kv = nc;
	}
	memcpy(nk, k->data, k->len);
	nk[k->len] = '\0';
	memmove(w->kv + i + 1, w->kv + i, (w->n_kv - i) * sizeof *w->kv);
	w->kv[i] = (mkv){.key = nk, .val = nv, .klen = k->len, .vlen = v->len, .mod_rev = rev};
	w->n_kv++;
	return 0;
}

static void mirror_del(ah_etcd_watch *w, const ProtobufCBinaryData *k)
{
	bool found;
	size_t i = mirror_find(w, (const char *)k->data, k->len, &found);
	if (!found)
		return;
	free(w->kv[i].key);
	free(w->kv[i].val);
	memmove(w->kv + i, w->kv + i + 1, (w->n_kv - i - 1) * sizeof *w->kv);
	w->n_kv--;
}

static bool is_head(const ah_etcd_watch *w, const ProtobufCBinaryData *k)
{
	size_t n = strlen(w->head);
	return k->len == n && !memcmp(k->data, w->head, n);
}

/* A newer head revision: the owner's view is behind. */
static void head_moved(ah_etcd_watch *w, int64_t rev)
{
	if (rev > w->st.rev) {
		w->st.rev = rev;
		w->st.event_mono_ns = mono_ns();
	}
}

/* ---- the base: one Range over PREFIX/s/ (thread) ----------------------- */

static int mirror_base(ah_etcd_watch *w, char *err, size_t errlen)
{
	Etcdserverpb__RangeRequest rq;
	etcdserverpb__range_request__init(&rq);
	rq.key = (ProtobufCBinaryData){.len = strlen(w->key), .data = (uint8_t *)w->key};
	rq.range_end = (ProtobufCBinaryData){.len = strlen(w->end), .data = (uint8_t *)w->end};
	size_t n;
	uint8_t *msg = etcd_grpc_frame(&rq.base, &n);
	if (!msg)
		return AH_ENOMEM;
	const void *ans;
	size_t alen;
	int rc = etcd_call_grpc(w->urls, "/etcdserverpb.KV/Range", msg, n, &ans, &alen);
	free(msg);
	if (rc < 0) {
		snprintf(err, errlen, "%s", etcd_client_errmsg(w->urls));
		return rc;
	}
	Etcdserverpb__RangeResponse *r = etcdserverpb__range_response__unpack(NULL, alen, ans);
	if (!r || !r->header) {
		etcdserverpb__range_response__free_unpacked(r, NULL);
		snprintf(err, errlen, "etcd %s: a Range answer that does not parse", etcd_client_endpoint(w->urls));
		return AH_ESTORE;
	}
	pthread_mutex_lock(&w->mu);
	mirror_clear(w);
	rc = 0;
	int64_t head_rev = 0;
	for (size_t i = 0; i < r->n_kvs && rc == 0; i++) {
		rc = mirror_put(w, &r->kvs[i]->key, &r->kvs[i]->value, r->kvs[i]->mod_revision);
		if (is_head(w, &r->kvs[i]->key))
			head_rev = r->kvs[i]->mod_revision;
	}
	if (rc == 0) {
		w->mirror_ok = true;
		w->mirror_rev = r->header->revision;
		w->st.bases++;
		if (!w->after)
			w->after = r->header->revision; /* "from now": after the base */
		head_moved(w, head_rev);
	} else {
		mirror_clear(w);
		snprintf(err, errlen, "etcd watch: out of memory for the mirror");
	}
	pthread_mutex_unlock(&w->mu);
	etcdserverpb__range_response__free_unpacked(r, NULL);
	if (rc == 0)
		wake(w);
	return rc;
}

/* ---- the stream (thread) ------------------------------------------------ */

/* One WatchResponse. Returns false to drop the stream. */
static bool on_msg(ah_etcd_watch *w, const uint8_t *p, size_t n)
{
	Etcdserverpb__WatchResponse *r = etcdserverpb__watch_response__unpack(NULL, n, p);
	bool keep = true, changed = false;
	pthread_mutex_lock(&w->mu);
	if (!r) {
		snprintf(w->st.err, sizeof w->st.err, "etcd %s: a watch response that does not parse", w->st.endpoint);
		keep = false;
	} else if (r->canceled) {
		long long cr = (long long)r->compact_revision;
		if (cr > 0) {
			/* the history after w->after is gone: the owner re-lists, the
			 * mirror is read again, and the stream starts again at the
			 * compact revision, the oldest etcd still has: "from now"
			 * would miss a commit landing between the owner's full load
			 * and the new stream (a repeat is harmless: it is not newer
			 * than the view, and the mirror skips what its base holds) */
			w->st.relist = true;
			w->st.compact_rev = cr;
			w->st.relists++;
			w->after = cr - 1;
			w->compacted = true;
			w->mirror_ok = false;
			changed = true;
		}
		snprintf(w->st.err, sizeof w->st.err, "etcd %s: watch cancelled%s%.200s", w->st.endpoint,
			 cr > 0 ? " (history compacted)" : "", r->cancel_reason ? r->cancel_reason : "");
		w->st.up = false;
		keep = false;
	} else {
		if (r->created) {
			w->st.up = true;
			w->created = true;
			changed = true;
			if (!w->after && r->header)
				w->after = (long long)r->header->revision;
		}
		for (size_t i = 0; i < r->n_events; i++) {
			const Etcdserverpb__Event *ev = r->events[i];
			if (!ev->kv)
				continue;
			int64_t rev = ev->kv->mod_revision;
			if (w->mirror_ok && rev > w->skip_le) {
				int mrc = 0;
				if (ev->type == ETCDSERVERPB__EVENT__EVENT_TYPE__DELETE)
					mirror_del(w, &ev->kv->key);
				else
					mrc = mirror_put(w, &ev->kv->key, &ev->kv->value, rev);
				if (mrc < 0)
					mirror_clear(w); /* read again at the next stream */
				else if (rev > w->mirror_rev)
					w->mirror_rev = rev;
			}
			if (is_head(w, &ev->kv->key)) {
				head_moved(w, rev);
				w->st.events++;
				changed = true;
			}
			if (rev > w->after)
				w->after = rev;
		}
	}
	pthread_mutex_unlock(&w->mu);
	etcdserverpb__watch_response__free_unpacked(r, NULL);
	if (changed)
		wake(w);
	return keep;
}

/* The stream's bytes: gRPC messages, each a flag byte (0: not compressed),
 * a big-endian length and the message. */
static size_t on_data(char *p, size_t sz, size_t nm, void *ctx)
{
	ah_etcd_watch *w = ctx;
	size_t n = sz * nm;
	if (w->len + n > AH_ETCD_WATCH_MSG_MAX + 5) {
		pthread_mutex_lock(&w->mu);
		snprintf(w->st.err, sizeof w->st.err, "etcd %s: a watch response over %zu bytes", w->st.endpoint,
			 (size_t)AH_ETCD_WATCH_MSG_MAX);
		pthread_mutex_unlock(&w->mu);
		return 0;
	}
	if (w->len + n > w->cap) {
		size_t nc = w->cap ? w->cap : 65536;
		while (nc < w->len + n)
			nc *= 2;
		unsigned char *nb = realloc(w->buf, nc);
		if (!nb)
			return 0;
		w->buf = nb;
		w->cap = nc;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	size_t at = 0;
	while (w->len - at >= 5) {
		const unsigned char *b = w->buf + at;
		size_t m = (size_t)b[1] << 24 | (size_t)b[2] << 16 | (size_t)b[3] << 8 | b[4];
		if (b[0] != 0 || m > AH_ETCD_WATCH_MSG_MAX) {
			pthread_mutex_lock(&w->mu);
			snprintf(w->st.err, sizeof w->st.err, "etcd %s: a watch message %s", w->st.endpoint,
				 b[0] ? "compressed (not asked for)" : "too large");
			pthread_mutex_unlock(&w->mu);
			return 0;
		}
		if (w->len - at - 5 < m)
			break;
		if (!on_msg(w, b + 5, m))
			return 0;
		at += 5 + m;
	}
	memmove(w->buf, w->buf + at, w->len - at);
	w->len -= at;
	return n;
}

/* gRPC's status and message (trailers, or the headers of an answer with
 * no messages). */
static size_t on_header(char *p, size_t sz, size_t nm, void *ctx)
{
	ah_etcd_watch *w = ctx;
	etcd_grpc_header(p, sz * nm, &w->grpc_status, w->grpc_msg, sizeof w->grpc_msg);
	return sz * nm;
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

/* The create request, with gRPC's 5-byte prefix; *len its size. */
static uint8_t *create_msg(const ah_etcd_watch *w, long long after, size_t *len)
{
	Etcdserverpb__WatchCreateRequest c;
	etcdserverpb__watch_create_request__init(&c);
	c.key = (ProtobufCBinaryData){.len = strlen(w->key), .data = (uint8_t *)(uintptr_t)w->key};
	c.range_end = (ProtobufCBinaryData){.len = strlen(w->end), .data = (uint8_t *)(uintptr_t)w->end};
	c.start_revision = after > 0 ? after + 1 : 0;
	Etcdserverpb__WatchRequest rq;
	etcdserverpb__watch_request__init(&rq);
	rq.request_union_case = ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_CREATE_REQUEST;
	rq.create_request = &c;
	return etcd_grpc_frame(&rq.base, len);
}

static void set_err(ah_etcd_watch *w, const char *msg)
{
	pthread_mutex_lock(&w->mu);
	snprintf(w->st.err, sizeof w->st.err, "%s", msg);
	pthread_mutex_unlock(&w->mu);
}

/* One stream on endpoint i, from after + 1 (0: from now), until it drops.
 * The mirror is read first when the stream would not continue it. */
static void stream(ah_etcd_watch *w, CURL *h, int i, long long after)
{
	char url[512], err[512];
	const char *ep = etcd_client_url(w->urls, i);
	snprintf(url, sizeof url, "%s/etcdserverpb.Watch/Watch", ep);
	pthread_mutex_lock(&w->mu);
	snprintf(w->st.endpoint, sizeof w->st.endpoint, "%s", ep);
	bool rebase = !w->mirror_ok || after > w->mirror_rev;
	pthread_mutex_unlock(&w->mu);
	if (rebase && mirror_base(w, err, sizeof err) < 0) {
		set_err(w, err);
		return;
	}
	pthread_mutex_lock(&w->mu);
	after = w->after;
	w->skip_le = w->mirror_rev;
	pthread_mutex_unlock(&w->mu);
	size_t mlen = 0;
	uint8_t *msg = create_msg(w, after, &mlen);
	if (!msg)
		return;
	w->len = 0;
	w->created = false;
	w->grpc_status = -1;
	w->grpc_msg[0] = '\0';
	struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/grpc");
	hd = curl_slist_append(hd, "TE: trailers");
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	/* a connection of its own, made with prior knowledge each time (see
	 * etcd_client.c on libcurl 7.88 and a reused one) */
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
	curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	/* the one request, then the client's side ends: etcd keeps a watch
	 * stream whose client stopped sending (its receive loop returns on
	 * EOF without ending the stream) */
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, (char *)msg);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)mlen);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, w);
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
	free(msg);
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	pthread_mutex_lock(&w->mu);
	w->st.up = false;
	if (!w->compacted && !w->restart && !atomic_load(&w->stop)) {
		if (w->grpc_status > 0)
			snprintf(w->st.err, sizeof w->st.err, "etcd %s: watch ended: gRPC status %d: %.200s", ep,
				 w->grpc_status, w->grpc_msg);
		else if (cc == CURLE_OK && status != 200)
			snprintf(w->st.err, sizeof w->st.err, "etcd %s: watch refused: HTTP %ld", ep, status);
		else if (cc != CURLE_WRITE_ERROR || !w->st.err[0])
			snprintf(w->st.err, sizeof w->st.err, "etcd %s: watch stream ended: %s", ep,
				 cc == CURLE_OK ? "closed by the member" : curl_easy_strerror(cc));
	}
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
	if (strlen(prefix) + sizeof "/s/head" > WATCH_KEY_MAX) {
		snprintf(err, errlen, "etcd watch: prefix too long");
		rc = AH_ETOOBIG;
		goto fail;
	}
	snprintf(w->key, sizeof w->key, "%s/s/", prefix);
	snprintf(w->head, sizeof w->head, "%s/s/head", prefix);
	etcd_prefix_end(w->key, w->end, sizeof w->end);
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
	mirror_clear(w);
	free(w->kv);
	free(w->buf);
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

static json_t *kv_json(const mkv *e)
{
	json_t *o = json_object();
	if (!o || json_object_set_new(o, "key", etcd_b64(e->key, e->klen)) < 0 ||
	    json_object_set_new(o, "value", etcd_b64(e->val, e->vlen)) < 0 ||
	    json_object_set_new(o, "mod_revision", json_integer(e->mod_rev)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int etcd_watch_view(ah_etcd_watch *w, int64_t min_head_rev, json_t **out)
{
	if (!w || !out)
		return AH_EINVAL;
	int rc = 0;
	json_t *kvs = NULL, *r = NULL;
	pthread_mutex_lock(&w->mu);
	bool found = false;
	size_t h = w->mirror_ok ? mirror_find(w, w->head, strlen(w->head), &found) : 0;
	if (!found || w->kv[h].mod_rev < min_head_rev) {
		rc = AH_ENOENT;
		goto out;
	}
	if (!(kvs = json_array())) {
		rc = AH_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < w->n_kv; i++)
		if (json_array_append_new(kvs, kv_json(&w->kv[i])) < 0) {
			rc = AH_ENOMEM;
			goto out;
		}
	r = json_pack("{s:{s:I},s:O}", "header", "revision", (json_int_t)w->mirror_rev, "kvs", kvs);
	if (!r)
		rc = AH_ENOMEM;
out:
	pthread_mutex_unlock(&w->mu);
	json_decref(kvs);
	if (rc == 0)
		*out = r;
	return rc;
}
