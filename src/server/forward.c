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
#include "server/relay.h"

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
	/* the thread's own */
	fwd_item *wait, *wait_tail;     /* taken from in, waiting for a relay */
	struct xfer *flying;            /* relays in the multi handle */
	int n_flying;
};

/* One relay in flight: its items, in the order of the frame. */
typedef struct xfer {
	fwd_item *items;
	int n;
	CURL *e;
	struct curl_slist *hdrs;
	relay_buf req, ans;
	char url[AH_ADVERTISE_URL_MAX + sizeof RELAY_PATH + 1];
	struct xfer *prev, *next;
} xfer;

void fwd_item_free(fwd_item *it)
{
	if (!it)
		return;
	free(it->base);
	free(it->path);
	for (int i = 0; i < it->n_args; i++) {
		free(it->akey[i]);
		free(it->aval[i]);
	}
	free(it->auth);
	free(it->idem);
	free(it->ctype);
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

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	xfer *x = ud;
	size_t len = sz * n;
	if (x->ans.len + len > AH_RELAY_BYTES_MAX)
		return 0; /* larger than any relay's answer: not one */
	return relay_put_bytes(&x->ans, p, len) == 0 ? len : 0;
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

/* Every item of a list finished with the same outcome. */
static void finish_all(fwd *f, fwd_item *l, bool sent, const char *err)
{
	for (fwd_item *it = l, *next; it; it = next) {
		next = it->next;
		it->status = 0;
		it->sent = sent;
		snprintf(it->err, sizeof it->err, "%s", err);
		finish(f, it);
	}
}

static int frame_item(relay_buf *b, const fwd_item *it)
{
	relay_req r = {.method = it->method, .path = it->path, .n_args = it->n_args, .auth = it->auth,
		       .idem = it->idem, .ctype = it->ctype, .body = it->body, .body_len = it->body_len};
	for (int i = 0; i < it->n_args; i++) {
		r.key[i] = it->akey[i];
		r.val[i] = it->aval[i];
	}
	return relay_put_req(b, &r);
}

/* The next relay: the waiting items for the first one's writer URL, as
 * many as one frame holds (the rest wait for the next). Returns the count
 * taken (0: none could be). */
static int take_relay(fwd *f, xfer *x)
{
	const char *base = f->wait->base;
	relay_buf body = {0};
	fwd_item *keep = NULL, *keep_tail = NULL, *l = NULL, *tail = NULL;
	int n = 0, rc = 0;
	for (fwd_item *it = f->wait, *next; it; it = next) {
		next = it->next;
		size_t mark = body.len;
		bool mine = n < AH_RELAY_ITEMS_MAX && !strcmp(it->base, base);
		if (mine && frame_item(&body, it) < 0) {
			body.len = mark;
			it->next = NULL;
			finish_all(f, it, false, "the forwarded request could not be framed for the writer");
			continue;
		}
		if (mine && n && body.len > AH_RELAY_BYTES_MAX - 64) { /* full: the next relay takes it */
			body.len = mark;
			mine = false;
		}
		if (mine) {
			push(&l, &tail, it);
			n++;
		} else {
			push(&keep, &keep_tail, it);
		}
	}
	f->wait = keep;
	f->wait_tail = keep_tail;
	x->items = l;
	x->n = n;
	if (n && ((rc = relay_put_head(&x->req, n)) < 0 || (rc = relay_put_bytes(&x->req, body.p, body.len)) < 0)) {
		relay_buf_fini(&body);
		return rc;
	}
	relay_buf_fini(&body);
	if (n) {
		size_t bl = strlen(base);
		bl -= bl && base[bl - 1] == '/';
		snprintf(x->url, sizeof x->url, "%.*s%s", (int)bl, base, RELAY_PATH);
	}
	return n;
}

static void xfer_free(xfer *x)
{
	if (!x)
		return;
	curl_slist_free_all(x->hdrs);
	relay_buf_fini(&x->req);
	relay_buf_fini(&x->ans);
	free(x);
}

/* One relay of the waiting items into the multi handle. Returns 1 when
 * one started, 0 when nothing waited; on failure its items are finished
 * at once (nothing sent). */
static int start(fwd *f)
{
	xfer *x = calloc(1, sizeof *x);
	CURL *e = NULL;
	int rc = AH_ENOMEM;
	if (!x) {
		fwd_item *l = f->wait;
		f->wait = f->wait_tail = NULL;
		finish_all(f, l, false, "the forwarded request could not be made (out of memory)");
		return AH_ENOMEM;
	}
	if ((rc = take_relay(f, x)) <= 0)
		goto out;
	rc = AH_ENOMEM;
	if (!(e = curl_easy_init()))
		goto out;
	const char *hdrs[] = {"Content-Type: " RELAY_CONTENT_TYPE, "Expect:"};
	for (size_t i = 0; i < sizeof hdrs / sizeof *hdrs; i++) {
		struct curl_slist *t = curl_slist_append(x->hdrs, hdrs[i]);
		if (!t)
			goto out;
		x->hdrs = t;
	}
	curl_easy_setopt(e, CURLOPT_URL, x->url);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->req.p);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->req.len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
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
	f->n_flying++;
	return 1;
out:
	if (x->items) {
		char err[160];
		snprintf(err, sizeof err, "the forwarded request could not be made (%s)", ah_strerror(rc));
		finish_all(f, x->items, false, err);
	}
	curl_easy_cleanup(e);
	xfer_free(x);
	return rc < 0 ? rc : 0;
}

/* A relay's answer: one per item, in order. */
static void answered(fwd *f, xfer *x)
{
	relay_answer *a = calloc((size_t)x->n, sizeof *a);
	char err[160] = "";
	int rc = a ? relay_parse_answers(x->ans.p ? x->ans.p : "", x->ans.len, x->n, a, err, sizeof err) : AH_ENOMEM;
	if (rc < 0) { /* it was received: whether it acted is unknown */
		char why[160];
		snprintf(why, sizeof why, "the writer's relay answer is unreadable (%.100s)", err[0] ? err : "no memory");
		finish_all(f, x->items, true, why);
		free(a);
		return;
	}
	int i = 0;
	for (fwd_item *it = x->items, *next; it; it = next, i++) {
		next = it->next;
		it->sent = true;
		it->status = a[i].status;
		it->retry_after_s = a[i].retry_after_s;
		if ((it->rbody = malloc(a[i].body_len + 1))) {
			memcpy(it->rbody, a[i].body, a[i].body_len);
			it->rbody[a[i].body_len] = '\0';
			it->rbody_len = a[i].body_len;
		} else {
			it->status = 0;
			snprintf(it->err, sizeof it->err, "out of memory for the writer's answer");
		}
		finish(f, it);
	}
	free(a);
}

/* A relay that ended: its outcome into its items. */
static void ended(fwd *f, CURL *e, CURLcode res)
{
	xfer *x = NULL;
	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
	long code = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	char err[160];
	if (res == CURLE_OK && code == 200) {
		answered(f, x);
	} else if (res == CURLE_OK) {
		/* refused as a whole, before any of it was decided */
		snprintf(err, sizeof err, "the writer refused the relay (HTTP %ld: %.100s)", code,
			 x->ans.p ? x->ans.p : "");
		finish_all(f, x->items, false, err);
	} else {
		/* not reached: nothing of it can have happened there */
		finish_all(f, x->items, !(res == CURLE_COULDNT_CONNECT || res == CURLE_COULDNT_RESOLVE_HOST),
			   curl_easy_strerror(res));
	}
	curl_multi_remove_handle(f->multi, e);
	if (x->prev)
		x->prev->next = x->next;
	else
		f->flying = x->next;
	if (x->next)
		x->next->prev = x->prev;
	f->n_flying--;
	curl_easy_cleanup(e);
	xfer_free(x);
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
			push(&f->wait, &f->wait_tail, it);
		}
		if (stop) {
			fwd_item *l = f->wait;
			f->wait = f->wait_tail = NULL;
			finish_all(f, l, false, "the server is stopping");
			break;
		}
		/* what waits goes out when a relay may: under load, relays grow */
		while (f->wait && f->n_flying < AH_RELAY_FLYING_MAX && start(f) > 0)
			;
		int running = 0;
		curl_multi_perform(f->multi, &running);
		CURLMsg *msg;
		int q;
		bool ended_one = false;
		while ((msg = curl_multi_info_read(f->multi, &q)))
			if (msg->msg == CURLMSG_DONE) {
				ended(f, msg->easy_handle, msg->data.result);
				ended_one = true;
			}
		if (!(ended_one && f->wait))
			curl_multi_poll(f->multi, NULL, 0, 1000, NULL);
	}
	/* what is still in flight ends unanswered */
	while (f->flying)
		ended(f, f->flying->e, CURLE_ABORTED_BY_CALLBACK);
	return NULL;
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
	/* a writer's connections: one per relay in flight */
	curl_multi_setopt(f->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)AH_RELAY_FLYING_MAX);
	curl_multi_setopt(f->multi, CURLMOPT_MAXCONNECTS, (long)AH_RELAY_FLYING_MAX);
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
