/* Forwarding writes to the cluster's writer (src/server/forward.h). */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ahead/error.h"
#include "ahead/limits.h"
#include "server/forward.h"

struct fwd {
	pthread_t th;
	bool started;
	pthread_mutex_t mu;
	int efd;
	CURLM *multi;
	long timeout_ms;
	bool stop;                      /* under mu */
	fwd_item *in, *in_tail;         /* submitted, not yet started (under mu) */
	fwd_item *done, *done_tail;     /* finished, not yet taken (under mu) */
	bool curl_up;                   /* curl_global_init held */
	struct xfer *flying;            /* transfers in the multi handle (the thread's own) */
};

/* What a transfer holds beside its item. */
typedef struct xfer {
	fwd_item *it;
	CURL *e;
	struct curl_slist *hdrs;
	size_t cap;
	struct xfer *prev, *next;
} xfer;

void fwd_item_free(fwd_item *it)
{
	if (!it)
		return;
	free(it->url);
	free(it->auth);
	free(it->idem);
	free(it->ctype);
	free(it->source);
	free(it->body);
	free(it->rbody);
	free(it);
}

static void push(fwd_item **head, fwd_item **tail, fwd_item *it)
{
	it->next = NULL;
	if (*tail)
		(*tail)->next = it;
	else
		*head = it;
	*tail = it;
}

/* n bytes of p onto the growable, NUL-terminated *b. */
static int buf_add(char **b, size_t *len, size_t *cap, const char *p, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t c = (*len + n + 1) * 2;
		char *t = realloc(*b, c);
		if (!t)
			return AH_ENOMEM;
		*b = t;
		*cap = c;
	}
	memcpy(*b + *len, p, n);
	*len += n;
	(*b)[*len] = '\0';
	return 0;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	xfer *x = ud;
	fwd_item *it = x->it;
	size_t len = sz * n;
	if (it->rbody_len + len > AH_FORWARD_ANSWER_MAX)
		return 0; /* a writer's answer is small: this is not one */
	return buf_add(&it->rbody, &it->rbody_len, &x->cap, p, len) == 0 ? len : 0;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
	xfer *x = ud;
	size_t len = sz * n;
	if (len > 12 && !strncasecmp(p, "Retry-After:", 12)) {
		long v = strtol(p + 12, NULL, 10);
		x->it->retry_after_s = v > 0 && v < 3600 ? (int)v : 1;
	}
	return len;
}

static int add_header(struct curl_slist **l, const char *name, const char *val)
{
	char line[AH_FORWARD_HEADER_MAX];
	if (!val)
		return 0;
	int n = snprintf(line, sizeof line, "%s: %s", name, val);
	if (n < 0 || (size_t)n >= sizeof line)
		return AH_EINVAL;
	struct curl_slist *t = curl_slist_append(*l, line);
	if (!t)
		return AH_ENOMEM;
	*l = t;
	return 0;
}

/* The item's transfer, in the multi handle; on failure the item is
 * finished at once with the reason. */
static int start(fwd *f, fwd_item *it)
{
	xfer *x = calloc(1, sizeof *x);
	CURL *e = curl_easy_init();
	int rc = AH_ENOMEM;
	if (!x || !e)
		goto out;
	x->it = it;
	if ((rc = add_header(&x->hdrs, "Authorization", it->auth)) < 0 ||
	    (rc = add_header(&x->hdrs, "Idempotency-Key", it->idem)) < 0 ||
	    (rc = add_header(&x->hdrs, "Content-Type", it->ctype)) < 0 ||
	    (rc = add_header(&x->hdrs, "X-Ahead-Forwarded", it->source ? it->source : "?")) < 0 ||
	    (rc = add_header(&x->hdrs, "Expect", "")) < 0)
		goto out;
	curl_easy_setopt(e, CURLOPT_URL, it->url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, it->method);
	if (it->body_len || strcmp(it->method, "DELETE")) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, it->body ? it->body : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)it->body_len);
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, f->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	if (curl_multi_add_handle(f->multi, e) != CURLM_OK) {
		rc = AH_EIO;
		goto out;
	}
	x->e = e;
	x->next = f->flying;
	if (f->flying)
		f->flying->prev = x;
	f->flying = x;
	return 0;
out:
	snprintf(it->err, sizeof it->err, "the forwarded request could not be made (%s)", ah_strerror(rc));
	curl_slist_free_all(x ? x->hdrs : NULL);
	curl_easy_cleanup(e);
	free(x);
	return rc;
}

static void finish(fwd *f, fwd_item *it)
{
	pthread_mutex_lock(&f->mu);
	push(&f->done, &f->done_tail, it);
	pthread_mutex_unlock(&f->mu);
	uint64_t one = 1;
	ssize_t w = write(f->efd, &one, sizeof one);
	(void)w; /* a full counter is still readable */
}

/* A transfer that ended: its outcome into its item. */
static void ended(fwd *f, CURL *e, CURLcode res)
{
	xfer *x = NULL;
	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
	fwd_item *it = x->it;
	long code = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	if (res == CURLE_OK && code >= 100 && code < 600) {
		it->status = (int)code;
		it->sent = true;
	} else {
		/* not reached: nothing of the request can have happened there */
		it->sent = !(res == CURLE_COULDNT_CONNECT || res == CURLE_COULDNT_RESOLVE_HOST);
		it->status = 0;
		snprintf(it->err, sizeof it->err, "%s", curl_easy_strerror(res));
	}
	curl_multi_remove_handle(f->multi, e);
	if (x->prev)
		x->prev->next = x->next;
	else
		f->flying = x->next;
	if (x->next)
		x->next->prev = x->prev;
	curl_slist_free_all(x->hdrs);
	curl_easy_cleanup(e);
	free(x);
	finish(f, it);
}

static void *run(void *arg)
{
	fwd *f = arg;
	for (;;) {
		pthread_mutex_lock(&f->mu);
		bool stop = f->stop;
		fwd_item *in = f->in;
		f->in = f->in_tail = NULL;
		pthread_mutex_unlock(&f->mu);
		for (fwd_item *it = in, *next; it; it = next) {
			next = it->next;
			if (stop || start(f, it) < 0)
				finish(f, it);
		}
		if (stop)
			break;
		int running = 0;
		curl_multi_perform(f->multi, &running);
		CURLMsg *msg;
		int q;
		while ((msg = curl_multi_info_read(f->multi, &q)))
			if (msg->msg == CURLMSG_DONE)
				ended(f, msg->easy_handle, msg->data.result);
		curl_multi_poll(f->multi, NULL, 0, 1000, NULL);
	}
	/* what is still in flight ends unanswered */
	while (f->flying)
		ended(f, f->flying->e, CURLE_ABORTED_BY_CALLBACK);
	return NULL;
}

static int cat(char **b, size_t *len, size_t *cap, const char *s)
{
	return buf_add(b, len, cap, s, strlen(s));
}

int fwd_url(const char *base, const char *path, const char *const *keys, const char *const *vals, int n, char **out)
{
	if (!base || !path || !out || n < 0)
		return AH_EINVAL;
	char *b = NULL;
	size_t len = 0, cap = 0;
	int rc = cat(&b, &len, &cap, base);
	if (rc == 0 && len && b[len - 1] == '/' && path[0] == '/')
		b[--len] = '\0';
	if (rc == 0)
		rc = cat(&b, &len, &cap, path);
	for (int i = 0; i < n && rc == 0; i++) {
		char *k = curl_easy_escape(NULL, keys[i], 0), *v = vals[i] ? curl_easy_escape(NULL, vals[i], 0) : NULL;
		if (!k || (vals[i] && !v))
			rc = AH_ENOMEM;
		if (rc == 0)
			rc = cat(&b, &len, &cap, i ? "&" : "?");
		if (rc == 0)
			rc = cat(&b, &len, &cap, k);
		if (rc == 0 && v && (rc = cat(&b, &len, &cap, "=")) == 0)
			rc = cat(&b, &len, &cap, v);
		curl_free(k);
		curl_free(v);
	}
	if (rc < 0) {
		free(b);
		return rc;
	}
	*out = b;
	return 0;
}

int fwd_new(long timeout_ms, fwd **out)
{
	if (!out || timeout_ms <= 0)
		return AH_EINVAL;
	fwd *f = calloc(1, sizeof *f);
	if (!f)
		return AH_ENOMEM;
	f->efd = -1;
	f->timeout_ms = timeout_ms;
	pthread_mutex_init(&f->mu, NULL);
	int rc = AH_EIO;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto fail;
	f->curl_up = true;
	if ((f->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 || !(f->multi = curl_multi_init()))
		goto fail;
	/* a writer's connections: enough for every client's write in flight */
	curl_multi_setopt(f->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)AH_FORWARD_CONNS_MAX);
	curl_multi_setopt(f->multi, CURLMOPT_MAXCONNECTS, (long)AH_FORWARD_CONNS_MAX);
	if (pthread_create(&f->th, NULL, run, f) != 0)
		goto fail;
	f->started = true;
	*out = f;
	return 0;
fail:
	fwd_free(f, NULL, NULL);
	return rc;
}

int fwd_fd(const fwd *f)
{
	return f ? f->efd : -1;
}

int fwd_submit(fwd *f, fwd_item *it)
{
	if (!f || !it)
		return AH_EINVAL;
	pthread_mutex_lock(&f->mu);
	push(&f->in, &f->in_tail, it);
	pthread_mutex_unlock(&f->mu);
	curl_multi_wakeup(f->multi);
	return 0;
}

fwd_item *fwd_take(fwd *f)
{
	if (!f)
		return NULL;
	uint64_t n;
	ssize_t r = read(f->efd, &n, sizeof n);
	(void)r; /* EAGAIN: nothing counted, the list says what there is */
	pthread_mutex_lock(&f->mu);
	fwd_item *l = f->done;
	f->done = f->done_tail = NULL;
	pthread_mutex_unlock(&f->mu);
	return l;
}

void fwd_free(fwd *f, void (*drop)(fwd_item *it, void *ctx), void *ctx)
{
	if (!f)
		return;
	if (f->started) {
		pthread_mutex_lock(&f->mu);
		f->stop = true;
		pthread_mutex_unlock(&f->mu);
		curl_multi_wakeup(f->multi);
		pthread_join(f->th, NULL);
	}
	fwd_item *lists[2] = {f->in, f->done};
	for (int i = 0; i < 2; i++)
		for (fwd_item *it = lists[i], *next; it; it = next) {
			next = it->next;
			if (drop)
				drop(it, ctx);
			else
				fwd_item_free(it);
		}
	if (f->multi)
		curl_multi_cleanup(f->multi);
	if (f->efd >= 0)
		close(f->efd);
	pthread_mutex_destroy(&f->mu);
	if (f->curl_up)
		curl_global_cleanup();
	free(f);
}
