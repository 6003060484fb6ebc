/* The HTTP transport (include/ahead/server.h): libmicrohttpd without a
 * thread of its own (MHD_USE_EPOLL, driven by MHD_run from our loop), with
 * connections suspended while their write waits for the batch's commit.
 *
 * One loop turn: poll (MHD's epoll fd, the signalfd) → MHD_run, which reads
 * requests: reads are answered at once, writes are parked → if writes are
 * parked and the batch is full or its window passed: one batch, one
 * commit, then every parked connection gets its answer → timers.
 * Nothing is sent before the commit that makes it true.
 *
 * With a batch window a parked connection is suspended (MHD stops polling
 * it) until its commit. Without one (the default) the batch is committed
 * in the same loop turn, so parked connections are left as they are: MHD
 * asks again for their answer at the next MHD_run and gets it then. That
 * saves the two epoll_ctl calls of a suspend and a resume on every write
 * (bench/run api: 17% more pairs/s). A connection MHD closes while parked
 * (the client went away) is dropped from the batch, undecided: its
 * request's strings belonged to MHD's connection. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ahead/error.h"
#include "ahead/history.h"
#include "ahead/scale_loop.h"
#include "ahead/limits.h"
#include "ahead/server.h"
#include "server/forward.h"
#include "server/relay.h"
#include "server/prom_source.h"

typedef struct conn conn;

struct ah_server {
	ah_server_opts o;
	ah_api *api;
	ah_service *svc;
	struct MHD_Daemon *d;
	int sigfd;
	int port;
	bool stopping;
	char *tls_cert, *tls_key;
	conn *parked, *parked_tail;  /* writes waiting for the batch */
	int n_parked;
	int64_t first_parked_ns;
	conn *watchers;              /* suspended watches */
	int64_t next_tick_ns, next_sweep_ns, next_scale_ns, next_compact_ns, next_keepalive_ns, next_sample_ns, next_follow_ns;
	int watch_fd;             /* a shared ledger's watch (-1: none) */
	bool sync_due;            /* the watch reported a commit the view does not have yet */
	bool watch_up;            /* the stream as last logged */
	long long watch_relists;
	bool shaper_mine;         /* the shaper election as last seen (logged when it changes) */
	long long shaper_token;
	ah_prom_sources *sources;    /* the policy's [source] polls */
	/* one writer (docs/CLUSTER.md): with --advertise on an etcd ledger */
	fwd *fwd;
	char writer_url[AH_ADVERTISE_URL_MAX + 1]; /* the elected writer ("" none, or this one) */
	bool writer_mine;
	int64_t next_writer_ns, writer_skip_until_ns;
	int n_forwarding;            /* connections waiting for the writer's answer */
	bool read_fence;             /* a write was relayed: the next read loads the view first */
};

struct conn {
	ah_server *srv;
	struct MHD_Connection *c;
	char *body;
	size_t len, cap;
	bool too_big;
	bool answered;               /* resp holds the answer to queue */
	bool parked;
	bool forwarding;             /* sent to the writer, suspended until its answer */
	bool fwd_susp;               /* suspended by forwarding, then parked here: flush resumes it */
	bool gone;                   /* closed by MHD while parked: freed by flush */
	/* a relay from a forwarder (src/server/relay.h): the relay's
	 * connection holds its requests, each a conn with no connection of
	 * its own, decided in the batch like any other and answered in one
	 * frame once the last is */
	conn *parent;                /* a relayed request's relay */
	conn **kids;                 /* a relay's requests */
	int n_kids, kids_left;
	char *arena;                 /* the relayed requests' strings */
	bool relaying;               /* suspended until its requests are answered */
	size_t body_max;             /* this request's body cap */
	ah_api_kind kind;            /* classified once, when the request is whole */
	int64_t start_ns;
	ah_api_request rq;
	ah_api_response resp;
	char method[16];
	char source[64];
	conn *next;                  /* parked list */
	/* watch */
	bool watching, suspended;
	int64_t after_seq;
	char tenant[64];
	char *out;                   /* frames not yet written */
	size_t out_len, out_off;
	conn *wnext, *wprev;
	int64_t last_sent_ns;
};

/* ---- log ---- */

static ah_log_level log_level = AH_LOG_INFO;
static const char *const LEVELS[] = {"error", "warn", "info", "debug"};

void ah_log_set_level(ah_log_level level)
{
	log_level = level;
}

int ah_log_level_parse(const char *s, ah_log_level *out)
{
	for (int i = 0; i < 4; i++)
		if (!strcmp(s, LEVELS[i])) {
			*out = (ah_log_level)i;
			return 0;
		}
	return AH_EINVAL;
}

void ah_log(ah_log_level level, const char *fmt, ...)
{
	if (level > log_level)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char line[2048];
	int n = snprintf(line, sizeof line, "t=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, LEVELS[level]);
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof line)
		vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}

/* ---- clocks ---- */

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- answers ---- */

/* The request's line in the log, and its count and time in /metrics. */
static void log_request(conn *k)
{
	const ah_api_response *r = &k->resp;
	int64_t elapsed_ns = mono_ns() - k->start_ns, us = elapsed_ns / 1000;
	ah_api_observe_request(k->srv->api, &k->rq, r->status, elapsed_ns); /* /metrics */
	ah_log(r->status >= 500 ? AH_LOG_WARN : AH_LOG_INFO,
	       "msg=request method=%s path=\"%.200s\" status=%d who=%s src=%s us=%lld", k->method, k->rq.path,
	       r->status, r->who, k->source, (long long)us);
}

static enum MHD_Result queue_answer(conn *k)
{
	ah_api_response *r = &k->resp;
	struct MHD_Response *m = MHD_create_response_from_buffer(r->body_len, r->body ? r->body : (char *)"",
								  MHD_RESPMEM_MUST_COPY);
	if (!m)
		return MHD_NO;
	MHD_add_response_header(m, "Content-Type", r->content_type ? r->content_type : "application/json");
	MHD_add_response_header(m, "Cache-Control", r->cache_control ? r->cache_control : "no-store");
	if (r->etag)
		MHD_add_response_header(m, "ETag", r->etag);
	/* the dashboard's page and files (src/server/web.c) run no inline
	 * script and load nothing from elsewhere; a JSON answer opened in a
	 * browser gets the same rules */
	MHD_add_response_header(m, "Content-Security-Policy",
				"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
	MHD_add_response_header(m, "X-Content-Type-Options", "nosniff");
	if (r->retry_after_s > 0) {
		char ra[16];
		snprintf(ra, sizeof ra, "%d", r->retry_after_s);
		MHD_add_response_header(m, "Retry-After", ra);
	}
	enum MHD_Result rc = MHD_queue_response(k->c, (unsigned)r->status, m);
	MHD_destroy_response(m);
	log_request(k);
	return rc;
}

/* The API's error shape, for answers the transport gives itself. */
static int error_body(char *buf, size_t n, const char *code, const char *msg)
{
	return snprintf(buf, n, "{\"error\": {\"code\": \"%s\", \"message\": \"%s\", \"field\": null}}", code, msg);
}

static enum MHD_Result answer_now(struct MHD_Connection *c, int status, const char *code, const char *msg)
{
	char body[512];
	error_body(body, sizeof body, code, msg);
	struct MHD_Response *m = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
	if (!m)
		return MHD_NO;
	MHD_add_response_header(m, "Content-Type", "application/json");
	MHD_add_response_header(m, "Connection", "close");
	enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, m);
	MHD_destroy_response(m);
	return rc;
}

/* ---- watches ---- */

static void watcher_unlink(conn *k)
{
	ah_server *s = k->srv;
	if (k->wprev)
		k->wprev->wnext = k->wnext;
	else if (s->watchers == k)
		s->watchers = k->wnext;
	if (k->wnext)
		k->wnext->wprev = k->wprev;
	k->wnext = k->wprev = NULL;
}

static ssize_t watch_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	conn *k = cls;
	ah_server *s = k->srv;
	if (s->stopping)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (k->out_off == k->out_len) {
		free(k->out);
		k->out = NULL;
		k->out_len = k->out_off = 0;
		char *f = ah_api_watch_next(s->api, k->tenant, &k->after_seq);
		if (!f && mono_ns() - k->last_sent_ns > INT64_C(15) * 1000000000)
			f = strdup(": keepalive\n\n");
		if (!f) {
			/* nothing yet: sleep until the next commit resumes us */
			k->suspended = true;
			MHD_suspend_connection(k->c);
			return 0;
		}
		k->out = f;
		k->out_len = strlen(f);
	}
	size_t n = k->out_len - k->out_off;
	if (n > max)
		n = max;
	memcpy(buf, k->out + k->out_off, n);
	k->out_off += n;
	k->last_sent_ns = mono_ns();
	return (ssize_t)n;
}

static void watch_free(void *cls)
{
	(void)cls; /* the connection state is freed when the request completes */
}

static enum MHD_Result start_watch(conn *k)
{
	ah_server *s = k->srv;
	k->watching = true;
	k->after_seq = k->resp.watch_after_seq;
	snprintf(k->tenant, sizeof k->tenant, "%s", k->resp.watch_tenant);
	k->last_sent_ns = mono_ns();
	/* the first frame says where the stream starts */
	char first[64];
	snprintf(first, sizeof first, ": watching after %lld\n\n", (long long)k->after_seq);
	k->out = strdup(first);
	k->out_len = k->out ? strlen(first) : 0;
	struct MHD_Response *m = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, watch_read, k, watch_free);
	if (!m)
		return MHD_NO;
	MHD_add_response_header(m, "Content-Type", "text/event-stream");
	MHD_add_response_header(m, "Cache-Control", "no-store");
	enum MHD_Result rc = MHD_queue_response(k->c, 200, m);
	MHD_destroy_response(m);
	k->wnext = s->watchers;
	if (s->watchers)
		s->watchers->wprev = k;
	s->watchers = k;
	ah_log(AH_LOG_INFO, "msg=watch src=%s who=%s after=%lld", k->source, k->resp.who, (long long)k->after_seq);
	return rc;
}

static void wake_watchers(ah_server *s)
{
	for (conn *k = s->watchers; k; k = k->wnext)
		if (k->suspended) {
			k->suspended = false;
			MHD_resume_connection(k->c);
		}
}

/* ---- requests ---- */

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	conn *k = cls;
	if (k->rq.n_args == AH_API_MAX_ARGS) {
		k->rq.too_many_args = true;
		return MHD_YES;
	}
	k->rq.args[k->rq.n_args].key = key;
	k->rq.args[k->rq.n_args].value = value;
	k->rq.n_args++;
	return MHD_YES;
}

static void peer(struct MHD_Connection *c, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(buf, len, "?");
	if (!ci || !ci->client_addr)
		return;
	char ip[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (ci->client_addr->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ci->client_addr;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
		port = ntohs(a->sin_port);
		snprintf(buf, len, "%s:%d", ip, port);
	} else if (ci->client_addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ci->client_addr;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
		port = ntohs(a->sin6_port);
		snprintf(buf, len, "[%s]:%d", ip, port);
	}
}

static void build_request(conn *k, const char *url)
{
	ah_api_request *rq = &k->rq;
	rq->method = k->method;
	rq->path = url;
	MHD_get_connection_values(k->c, MHD_GET_ARGUMENT_KIND, collect_arg, k);
	rq->authorization = MHD_lookup_connection_value(k->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	rq->idempotency_key = MHD_lookup_connection_value(k->c, MHD_HEADER_KIND, "Idempotency-Key");
	rq->content_type = MHD_lookup_connection_value(k->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	rq->if_none_match = MHD_lookup_connection_value(k->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	rq->body = k->body;
	rq->body_len = k->len;
	rq->source = k->source;
}

static void park(ah_server *s, conn *k)
{
	k->parked = true;
	k->next = NULL;
	if (s->parked_tail)
		s->parked_tail->next = k;
	else
		s->parked = k;
	s->parked_tail = k;
	if (!s->n_parked++)
		s->first_parked_ns = mono_ns();
	if (s->o.batch_window_ns > 0 && !k->fwd_susp && k->c) /* the loop waits for the window: poll no more */
		MHD_suspend_connection(k->c);
}

/* ---- one writer: forwarding (src/server/forward.h) ---- */

static void conn_free(conn *k);
static void sync_view(ah_server *s);

/* A forwarding instance follows the other instances lazily: its writes are
 * the writer's, so its view is brought up to date before a read (and once
 * a second), not on every commit the watch reports. Reloading on every
 * commit blocked its loop (and loaded etcd's leader) for nothing: bench/run
 * cluster's forwarded requests took twice the writer's own. With an event
 * stream open on it, it follows every commit as before. */
static bool lazy_follow(const ah_server *s)
{
	return s->fwd && !s->writer_mine && s->writer_url[0] && !s->watchers;
}

/* Before a read on a lazy follower: what the watch reported, or (after a
 * write it relayed, which the watch may not have reported yet) a load
 * from the ledger, so a client reads its own writes here. */
static void read_sync(ah_server *s)
{
	if (!lazy_follow(s))
		return;
	if (s->read_fence) {
		ah_service_follow_force(s->svc);
		s->read_fence = false;
	}
	sync_view(s);
}

/* Allocation writes go to the elected writer when there is one and it is
 * not this instance; never a request another instance forwarded (a stale
 * idea of who writes must not bounce it around). */
static bool forwardable(ah_server *s, conn *k)
{
	if (!s->fwd || s->writer_mine || !s->writer_url[0] || s->stopping || mono_ns() < s->writer_skip_until_ns)
		return false;
	return k->kind == AH_API_WRITE && !strncmp(k->rq.path, "/v1/allocations", 15) && !k->rq.too_many_args;
}

static char *dup_or_null(const char *v)
{
	return v ? strdup(v) : NULL;
}

static int forward(ah_server *s, conn *k)
{
	const ah_api_request *rq = &k->rq;
	fwd_item *it = calloc(1, sizeof *it);
	if (!it)
		return AH_ENOMEM;
	snprintf(it->method, sizeof it->method, "%s", k->method);
	it->ctx = k;
	it->base = strdup(s->writer_url);
	it->path = strdup(rq->path);
	it->auth = dup_or_null(rq->authorization);
	it->idem = dup_or_null(rq->idempotency_key);
	it->ctype = dup_or_null(rq->content_type);
	int rc = 0;
	for (int i = 0; i < rq->n_args; i++) {
		it->akey[i] = strdup(rq->args[i].key);
		it->aval[i] = dup_or_null(rq->args[i].value);
		it->n_args = i + 1;
		if (!it->akey[i] || (rq->args[i].value && !it->aval[i]))
			rc = AH_ENOMEM;
	}
	if (rq->body_len && (it->body = malloc(rq->body_len)))
		memcpy(it->body, rq->body, rq->body_len);
	it->body_len = rq->body_len;
	if (!it->base || !it->path || (rq->authorization && !it->auth) || (rq->idempotency_key && !it->idem) ||
	    (rq->content_type && !it->ctype) || (rq->body_len && !it->body))
		rc = AH_ENOMEM;
	if (rc == 0)
		rc = fwd_submit(s->fwd, it);
	if (rc < 0) {
		fwd_item_free(it);
		return rc;
	}
	k->forwarding = true;
	s->n_forwarding++;
	MHD_suspend_connection(k->c);
	return 0;
}

static void answer_error(conn *k, int status, const char *code, const char *msg)
{
	char body[512];
	int n = error_body(body, sizeof body, code, msg);
	k->resp.status = status;
	k->resp.body = strdup(body);
	k->resp.body_len = k->resp.body ? (size_t)n : 0;
	k->resp.retry_after_s = 1;
}

/* The writer's answers: relayed, or (when the writer was not reached, or
 * a key makes a second decision the same one) decided here. */
static void forwarded(ah_server *s)
{
	for (fwd_item *it = fwd_take(s->fwd), *next; it; it = next) {
		next = it->next;
		conn *k = it->ctx;
		s->n_forwarding--;
		k->forwarding = false;
		if (k->gone) {
			conn_free(k);
		} else if (it->status > 0 && !(it->status == 503 && k->rq.idempotency_key)) {
			k->resp.status = it->status;
			k->resp.body = it->rbody;
			k->resp.body_len = it->rbody_len;
			it->rbody = NULL;
			k->resp.retry_after_s = it->retry_after_s;
			snprintf(k->resp.who, sizeof k->resp.who, "(writer)");
			s->read_fence = true;
			k->answered = true;
			MHD_resume_connection(k->c);
		} else if (!it->sent || k->rq.idempotency_key) {
			if (!it->sent) { /* down: decide here for a second, then try it again */
				s->writer_skip_until_ns = mono_ns() + INT64_C(1000000000);
				ah_log(AH_LOG_WARN, "msg=writer_unreachable writer=\"%s\" err=\"%s\" detail=\"deciding here\"",
				       s->writer_url, it->err);
			}
			k->fwd_susp = true;
			park(s, k);
		} else {
			ah_log(AH_LOG_WARN, "msg=writer_lost writer=\"%s\" err=\"%s\"", s->writer_url, it->err);
			answer_error(k, 503, "writer_unreachable",
				     "the cluster's writer did not answer; whether it acted is unknown: retry (with an "
				     "Idempotency-Key a retry is safe)");
			k->answered = true;
			MHD_resume_connection(k->c);
		}
		fwd_item_free(it);
	}
}

/* Who writes, once a second: this instance campaigns with its URL. */
static void writer_step(ah_server *s)
{
	ah_service_writer w;
	if (ah_service_writer_step(s->svc, s->o.advertise_url, &w) < 0) {
		if (s->writer_url[0] || s->writer_mine)
			ah_log(AH_LOG_WARN, "msg=writer_election_failed err=\"%s\" detail=\"deciding here\"",
			       ah_service_errmsg(s->svc));
		s->writer_url[0] = '\0';
		s->writer_mine = false;
		return;
	}
	if (w.mine != s->writer_mine || strcmp(w.holder, s->writer_url))
		ah_log(AH_LOG_INFO, "msg=writer holder=\"%s\" mine=%s", w.holder, w.mine ? "yes" : "no");
	s->writer_mine = w.mine;
	snprintf(s->writer_url, sizeof s->writer_url, "%s", w.holder);
}

/* ---- one writer: relays from forwarders (src/server/relay.h) ---- */

/* The relay's answer, once its last request is answered: one frame of
 * every answer in order, then the relay's connection resumed. */
static void relay_finish(conn *p)
{
	relay_buf b = {0};
	int rc = relay_put_head(&b, p->n_kids);
	for (int i = 0; i < p->n_kids && rc == 0; i++) {
		const ah_api_response *r = &p->kids[i]->resp;
		rc = relay_put_answer(&b, r->status, r->retry_after_s > 0 ? r->retry_after_s : 0, r->body, r->body_len);
	}
	for (int i = 0; i < p->n_kids; i++)
		conn_free(p->kids[i]);
	p->n_kids = 0;
	p->relaying = false;
	p->answered = true;
	if (rc < 0) {
		relay_buf_fini(&b);
		/* decided, but the answers are lost: the forwarder says whether
		 * it acted is unknown, and a retry with a key is safe */
		answer_error(p, 500, "relay_failed", "the relay's answers could not be put together");
	} else {
		p->resp.status = 200;
		p->resp.body = b.p;
		p->resp.body_len = b.len;
		p->resp.content_type = RELAY_CONTENT_TYPE;
	}
	if (p->gone)
		conn_free(p);
	else
		MHD_resume_connection(p->c);
}

/* A relayed request answered (by the batch, or at once when it is not an
 * allocation write). */
static void kid_done(conn *kid)
{
	conn *p = kid->parent;
	kid->answered = true;
	log_request(kid);
	if (--p->kids_left == 0)
		relay_finish(p);
}

static int relay_kids(ah_server *s, conn *p, const relay_req *qs, int n)
{
	if (n && !(p->kids = calloc((size_t)n, sizeof *p->kids)))
		return AH_ENOMEM;
	for (int i = 0; i < n; i++) {
		conn *c = calloc(1, sizeof *c);
		if (!c)
			return AH_ENOMEM;
		p->kids[p->n_kids++] = c;
		c->srv = s;
		c->parent = p;
		c->start_ns = p->start_ns;
		snprintf(c->method, sizeof c->method, "%s", qs[i].method);
		snprintf(c->source, sizeof c->source, "%s", p->source);
		ah_api_request *rq = &c->rq;
		rq->method = c->method;
		rq->path = qs[i].path;
		rq->n_args = qs[i].n_args;
		for (int j = 0; j < qs[i].n_args; j++) {
			rq->args[j].key = qs[i].key[j];
			rq->args[j].value = qs[i].val[j];
		}
		rq->authorization = qs[i].auth;
		rq->idempotency_key = qs[i].idem;
		rq->content_type = qs[i].ctype;
		rq->body = qs[i].body;
		rq->body_len = qs[i].body_len;
		rq->source = c->source;
		c->kind = ah_api_classify(rq);
	}
	return 0;
}

/* A forwarder's relay, whole: its requests parked for the next batch (a
 * relayed request is never forwarded again). Anything refused as a whole
 * is refused before any of it is decided, so the forwarder may decide it
 * itself. */
static enum MHD_Result relay_start(ah_server *s, conn *k)
{
	k->rq.method = k->method;
	k->rq.path = RELAY_PATH;
	k->answered = true;
	if (strcmp(k->method, "POST"))
		return answer_now(k->c, 405, "method_not_allowed", "a relay is a POST");
	if (s->stopping)
		return answer_now(k->c, 503, "shutting_down", "the server is shutting down; retry against its successor");
	relay_req *qs = NULL;
	int n = 0;
	char err[200];
	if (relay_parse_reqs(k->body ? k->body : "", k->len, &qs, &n, &k->arena, err, sizeof err) < 0) {
		ah_log(AH_LOG_WARN, "msg=refused reason=bad_relay src=%s err=\"%s\"", k->source, err);
		return answer_now(k->c, 400, "bad_relay", err);
	}
	int rc = relay_kids(s, k, qs, n);
	free(qs);
	if (rc < 0) {
		for (int i = 0; i < k->n_kids; i++)
			conn_free(k->kids[i]);
		k->n_kids = 0;
		return answer_now(k->c, 503, "out_of_memory", "the relay could not be taken in");
	}
	k->answered = false;
	k->relaying = true;
	k->kids_left = n + 1; /* held until every request is parked or answered */
	MHD_suspend_connection(k->c);
	for (int i = 0; i < n; i++) {
		conn *c = k->kids[i];
		if (c->kind == AH_API_WRITE && !strncmp(c->rq.path, "/v1/allocations", 15)) {
			park(s, c);
		} else {
			answer_error(c, 400, "bad_relay", "a relay carries allocation writes only");
			c->resp.retry_after_s = 0;
			kid_done(c);
		}
	}
	if (--k->kids_left == 0)
		relay_finish(k);
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	(void)version;
	ah_server *s = cls;
	conn *k = *con_cls;
	if (!k) {
		if (!(k = calloc(1, sizeof *k)))
			return MHD_NO;
		k->srv = s;
		k->c = c;
		k->start_ns = mono_ns();
		snprintf(k->method, sizeof k->method, "%.15s", method);
		peer(c, k->source, sizeof k->source);
		k->body_max = strcmp(url, RELAY_PATH) ? s->o.body_max_bytes : AH_RELAY_BYTES_MAX;
		*con_cls = k;
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > k->body_max) {
			k->answered = true; /* nothing of the body is read */
			ah_log(AH_LOG_WARN, "msg=refused reason=body_too_large src=%s length=%.20s", k->source, cl);
			return answer_now(c, 413, "body_too_large", "the request body is larger than the server accepts");
		}
		return MHD_YES;
	}
	if (k->watching || k->parked || k->forwarding || k->relaying)
		return MHD_YES; /* the answer comes with the batch's commit (or the writer's) */
	if (k->answered && !k->parked && k->resp.status)
		return queue_answer(k);
	if (k->answered)
		return MHD_YES;
	if (*upload_size) {
		if (!k->too_big && k->len + *upload_size <= k->body_max) {
			if (k->len + *upload_size + 1 > k->cap) {
				size_t cap = (k->len + *upload_size + 1) * 2;
				if (cap > k->body_max + 1)
					cap = k->body_max + 1;
				char *b = realloc(k->body, cap);
				if (!b)
					return MHD_NO;
				k->body = b;
				k->cap = cap;
			}
			memcpy(k->body + k->len, upload, *upload_size);
			k->len += *upload_size;
			k->body[k->len] = '\0';
		} else {
			k->too_big = true; /* chunked, no length: read and drop the rest */
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (k->too_big) {
		k->answered = true;
		return answer_now(c, 413, "body_too_large", "the request body is larger than the server accepts");
	}
	if (!strcmp(url, RELAY_PATH))
		return relay_start(s, k);
	build_request(k, url);
	ah_api_kind kind = k->kind = ah_api_classify(&k->rq);
	if (kind == AH_API_READ) {
		read_sync(s);
		ah_api_handle(s->api, &k->rq, wall_ns(), &k->resp);
		k->answered = true;
		if (k->resp.watch)
			return start_watch(k);
		return queue_answer(k);
	}
	if (s->stopping) {
		k->answered = true;
		return answer_now(c, 503, "shutting_down", "the server is shutting down; retry against its successor");
	}
	if (forwardable(s, k) && forward(s, k) == 0)
		return MHD_YES; /* the answer comes from the writer */
	park(s, k);
	return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)c;
	(void)toe;
	ah_server *s = cls;
	conn *k = *con_cls;
	if (!k)
		return;
	if (k->watching)
		watcher_unlink(k);
	(void)s;
	*con_cls = NULL;
	if (k->parked || k->forwarding || k->relaying) { /* in the parked list (flush drops it), forwarded, relaying */
		k->gone = true;
		k->c = NULL;
		return;
	}
	conn_free(k);
}

static void conn_free(conn *k)
{
	for (int i = 0; i < k->n_kids; i++)
		conn_free(k->kids[i]);
	free(k->kids);
	free(k->arena);
	ah_api_response_fini(&k->resp);
	free(k->out);
	free(k->body);
	free(k);
}

/* ---- the batch ---- */

static void run_one(ah_server *s, conn *k, bool in_batch)
{
	(void)in_batch;
	ah_api_handle(s->api, &k->rq, wall_ns(), &k->resp);
}

/* How often a batch refused by a shared ledger's compare is decided again. */
#define HTTP_BUSY_RETRIES 8

/* One try at the batch: its writes in arrival order (policy edits are
 * not in it), one commit. Returns the commit's result, or 1 when no
 * transaction could start (the answers say so). */
static int run_batch(ah_server *s, conn **ks, int n, ah_api_response *resp, int64_t now, int *out_nb)
{
	int nb = 0;
	int brc = ah_api_batch_begin(s->api, now);
	bool batch = brc == 0;
	for (int i = 0; i < n; i++) {
		conn *k = ks[i];
		if (k->kind == AH_API_EXCLUSIVE)
			continue;
		if (batch) {
			ah_api_handle(s->api, &k->rq, now, &resp[nb]);
			k->resp = resp[nb];
			nb++;
		} else {
			ah_api_begin_failed(s->api, brc, &k->resp);
		}
	}
	*out_nb = nb;
	return batch ? ah_api_batch_end(s->api, resp, (size_t)nb, now) : 1;
}

static void flush(ah_server *s)
{
	if (!s->n_parked)
		return;
	conn *list = s->parked;
	int n = s->n_parked;
	s->parked = s->parked_tail = NULL;
	s->n_parked = 0;
	ah_api_response *resp = calloc((size_t)n, sizeof *resp);
	conn **ks = calloc((size_t)n, sizeof *ks);
	int i = 0, nb = 0;
	for (conn *k = list, *next; k; k = next) {
		next = k->next;
		if (k->gone && !k->parent)
			conn_free(k);
		else if (ks)
			ks[i++] = k;
	}
	n = i;
	if (!n) { /* every client went away */
		free(resp);
		free(ks);
		return;
	}
	int64_t now = wall_ns();
	/* A shared ledger (etcd) that refuses the commit because another
	 * instance committed first (AH_EBUSY, nothing written) gets the whole
	 * batch decided again on the reloaded state, a few times. */
	bool batch = false;
	for (int attempt = 0; resp && ks; attempt++) {
		int brc = run_batch(s, ks, n, resp, now, &nb);
		batch = brc != 1;
		if (brc == AH_EBUSY && attempt < HTTP_BUSY_RETRIES) {
			for (int j = 0; j < nb; j++)
				ah_api_response_fini(&resp[j]);
			memset(resp, 0, sizeof *resp * (size_t)n);
			/* the connections held copies of those answers: now freed, so
			 * forgotten (a retry whose transaction cannot start writes its
			 * 503 into them, and must not free them again) */
			for (int j = 0; j < n; j++)
				if (ks[j]->kind != AH_API_EXCLUSIVE)
					memset(&ks[j]->resp, 0, sizeof ks[j]->resp);
			continue;
		}
		if (brc < 0)
			ah_log(AH_LOG_ERROR, "msg=commit_failed writes=%d err=\"%s\"", nb, ah_service_errmsg(s->svc));
		break;
	}
	if (batch) {
		/* the answers may have been rewritten to 503 */
		nb = 0;
		for (i = 0; i < n; i++)
			if (ks[i]->kind != AH_API_EXCLUSIVE)
				ks[i]->resp = resp[nb++];
	}
	for (i = 0; i < n && ks; i++)
		if (ks[i]->kind == AH_API_EXCLUSIVE)
			run_one(s, ks[i], false);
	ah_log(AH_LOG_DEBUG, "msg=batch writes=%d", n);
	for (i = 0; i < n && ks; i++) {
		ks[i]->answered = true;
		ks[i]->parked = false;
		if (ks[i]->parent) { /* a relayed request: may end its relay (and free itself) */
			kid_done(ks[i]);
			continue;
		}
		if (s->o.batch_window_ns > 0 || ks[i]->fwd_susp) /* suspended by park, or by forward */
			MHD_resume_connection(ks[i]->c);
		ks[i]->fwd_susp = false;
	}
	free(resp);
	free(ks);
	wake_watchers(s);
}

/* ---- a shared ledger's watch ---- */

/* The view brought up to what the watch reported (never inside a batch:
 * the batch's own commit finds out, and reloads, if it is behind). */
static void sync_view(ah_server *s)
{
	if (s->watch_fd < 0)
		return;
	if (s->n_parked) {
		s->sync_due = true; /* after the batch */
		return;
	}
	ah_service_follow_out o;
	if (ah_api_follow(s->api, wall_ns(), mono_ns(), &o) < 0)
		ah_log(AH_LOG_WARN, "msg=watch_reload_failed err=\"%s\"", ah_service_errmsg(s->svc));
	s->sync_due = o.pending;
	if (o.relists != s->watch_relists) {
		ah_log(AH_LOG_INFO, "msg=watch_relist detail=\"the watch's history was compacted: view loaded in full\" rev=%lld",
		       o.view_rev);
		s->watch_relists = o.relists;
	}
	if (o.compacted_rev)
		ah_log(AH_LOG_DEBUG, "msg=etcd_compacted rev=%lld", o.compacted_rev);
	if (o.restarted)
		ah_log(AH_LOG_WARN, "msg=watch_restarted detail=\"the stream sent nothing while the view moved on: opened again on the next member\" rev=%lld",
		       o.view_rev);
	if (o.up != s->watch_up) {
		ah_log(o.up ? AH_LOG_INFO : AH_LOG_WARN, "msg=%s rev=%lld", o.up ? "watch_up" : "watch_down", o.view_rev);
		s->watch_up = o.up;
	}
	if (o.reloaded) {
		ah_log(AH_LOG_DEBUG, "msg=watch_reload rev=%lld lag_us=%lld", o.view_rev, (long long)(o.lag_ns / 1000));
		wake_watchers(s);
	}
}

/* ---- timers ---- */

/* One pool-shaping step when a pool shapes. The hooks run here, in the
 * loop: a hook is the provisioning call (keep it short; its timeout and
 * retries bound how long the API waits meanwhile). */
static void scale_step(ah_server *s)
{
	const ah_policy *pol = ah_service_policy_get(s->svc);
	bool any = false;
	for (int i = 0; pol && i < pol->n_pools; i++)
		any |= pol->pools[i].shaping;
	if (!any)
		return;
	/* one shaper among the instances of a shared ledger (elected, fenced) */
	ah_service_shaper sh;
	if (ah_service_shaper_begin(s->svc, &sh) < 0) {
		ah_log(AH_LOG_WARN, "msg=shaper_election_failed err=\"%s\"", ah_service_errmsg(s->svc));
		return;
	}
	if (sh.mine != s->shaper_mine || sh.token != s->shaper_token) {
		if (sh.mine)
			ah_log(AH_LOG_INFO, "msg=shaper_elected token=%lld", sh.token);
		else
			ah_log(AH_LOG_INFO, "msg=shaper_standby holder=\"%s\" token=%lld", sh.holder, sh.token);
		s->shaper_mine = sh.mine;
		s->shaper_token = sh.token;
	}
	if (!sh.mine)
		return;
	ah_scale_hook_ctx hc = {.now_ns = mono_ns, .poll_ns = 20000000, .db_path = ah_service_db_path(s->svc)};
	ah_scale_exec ex = {.ctx = &hc, .run = ah_scale_hook_run, .cordon = ah_scale_hook_cordon};
	ah_scale_step_out out;
	int src = ah_service_scale_step(s->svc, wall_ns(), &ex, false, NULL, NULL, &out);
	ah_service_shaper_end(s->svc);
	if (src < 0)
		ah_log(AH_LOG_WARN, "msg=scale_failed err=\"%s\"", ah_service_errmsg(s->svc));
	else if (out.n_decided || out.n_done || out.n_failed)
		ah_log(AH_LOG_INFO, "msg=scale decided=%d done=%d failed=%d", out.n_decided, out.n_done, out.n_failed);
	wake_watchers(s);
}

/* The usage history's retention: old points roll into coarser tiers. */
static void compact(ah_server *s)
{
	char err[512];
	ah_history *h = NULL;
	ah_shadow_tier tiers[AH_SHADOW_MAX_TIERS];
	int nt;
	ah_shadow_default_tiers(tiers, &nt);
	ah_shadow_compact_stats st;
	int64_t counts[AH_SHADOW_MAX_TIERS];
	/* the store this instance records to: on an etcd ledger the one
	 * --shadow-db names (beside the ledger there is no file) */
	const char *sp = ah_service_shadow_path(s->svc);
	if (!sp)
		return; /* no history */
	int rc = ah_history_open(ah_service_db_path(s->svc), sp, false, &h, err, sizeof err);
	if (rc == AH_ENOENT)
		return; /* no history yet */
	if (rc == 0)
		rc = ah_history_compact(h, wall_ns(), tiers, nt, &st, counts, err, sizeof err);
	ah_history_free(h);
	if (rc < 0)
		ah_log(AH_LOG_WARN, "msg=compact_failed err=\"%s\"", err);
	else if (st.points_rolled || st.points_deleted)
		ah_log(AH_LOG_INFO, "msg=compacted rolled=%lld deleted=%lld", (long long)st.points_rolled,
		       (long long)st.points_deleted);
}

static void timers(ah_server *s)
{
	int64_t m = mono_ns();
	if (m >= s->next_tick_ns) {
		s->next_tick_ns = m + s->o.tick_ns;
		if (ah_api_tick(s->api, wall_ns()) < 0)
			ah_log(AH_LOG_WARN, "msg=tick_failed err=\"%s\"", ah_service_errmsg(s->svc));
		wake_watchers(s);
	}
	if (s->watch_fd >= 0 && m >= s->next_follow_ns) {
		/* a stream stuck on a paused member shows only against a view
		 * that moved on: looked at every second, not only on news */
		s->next_follow_ns = m + INT64_C(1000000000);
		sync_view(s);
	}
	if (m >= s->next_sweep_ns) {
		s->next_sweep_ns = m + s->o.sweep_ns;
		if (ah_api_sweep(s->api, wall_ns()) < 0)
			ah_log(AH_LOG_WARN, "msg=sweep_failed err=\"%s\"", ah_service_errmsg(s->svc));
	}
	if (s->fwd && m >= s->next_writer_ns) {
		s->next_writer_ns = m + INT64_C(1000000000);
		writer_step(s);
	}
	if (s->o.scale_ns > 0 && m >= s->next_scale_ns) {
		s->next_scale_ns = m + s->o.scale_ns;
		scale_step(s);
	}
	if (s->o.compact_ns > 0 && m >= s->next_compact_ns) {
		s->next_compact_ns = m + s->o.compact_ns;
		compact(s);
	}
	if (m >= s->next_sample_ns) { /* telemetry: pool samples and forecasts */
		s->next_sample_ns = m + ah_api_sample_every_ns(s->api);
		ah_api_sample(s->api, wall_ns());
	}
	ah_prom_sources_tick(s->sources, s->svc, m, wall_ns());
	ah_api_observe(s->api, m, wall_ns());
	if (m >= s->next_keepalive_ns) {
		s->next_keepalive_ns = m + INT64_C(15) * 1000000000;
		wake_watchers(s);
	}
}

static void on_signal(ah_server *s)
{
	struct signalfd_siginfo si;
	while (read(s->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGHUP) {
			char err[1024];
			if (!s->o.policy_path) {
				ah_log(AH_LOG_WARN, "msg=sighup detail=\"no policy file to re-read\"");
				continue;
			}
			/* what is parked commits under the policy it was decided by */
			flush(s);
			if (ah_api_reload_policy(s->api, s->o.policy_path, wall_ns(), err, sizeof err) < 0)
				ah_log(AH_LOG_ERROR, "msg=reload_refused file=\"%s\" err=\"%s\" detail=\"the old policy stays\"",
				       s->o.policy_path, err);
			else
				ah_log(AH_LOG_INFO, "msg=policy_reloaded file=\"%s\"", s->o.policy_path);
		} else {
			ah_log(AH_LOG_INFO, "msg=stopping signal=%u", si.ssi_signo);
			s->stopping = true;
		}
	}
}

/* ---- setup ---- */

void ah_server_opts_init(ah_server_opts *o)
{
	memset(o, 0, sizeof *o);
	o->listen = "127.0.0.1:7070";
	o->body_max_bytes = AH_API_BODY_MAX;
	o->conn_max = AH_API_CONN_MAX;
	o->conn_per_ip_max = AH_API_CONN_PER_IP_MAX;
	o->idle_timeout_s = AH_API_IDLE_TIMEOUT_S;
	o->batch_max = 512;
	o->tick_ns = INT64_C(1000000000);
	o->sweep_ns = INT64_C(60) * 1000000000;
	o->scale_ns = INT64_C(30) * 1000000000;
	o->compact_ns = INT64_C(3600) * 1000000000;
	o->log_level = AH_LOG_INFO;
}

/* "HOST:PORT", "[V6]:PORT" or ":PORT" */
static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len, bool *loopback, char *err,
			size_t errlen)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	if (!colon || !colon[1] || (size_t)(colon - s) >= sizeof host)
		goto bad;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535)
		goto bad;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(ss, 0, sizeof *ss);
	if (host[0] == '[') {
		size_t n = strlen(host);
		if (n < 3 || host[n - 1] != ']')
			goto bad;
		host[n - 1] = '\0';
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			goto bad;
		*loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
		*len = sizeof *a;
		return 0;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	if (!host[0] || !strcmp(host, "0.0.0.0")) {
		a->sin_addr.s_addr = htonl(INADDR_ANY);
		*loopback = false;
	} else if (!strcmp(host, "localhost")) {
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*loopback = true;
	} else if (inet_pton(AF_INET, host, &a->sin_addr) == 1) {
		*loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	} else {
		goto bad;
	}
	*len = sizeof *a;
	return 0;
bad:
	snprintf(err, errlen, "--listen: '%.100s' is not HOST:PORT (e.g. 127.0.0.1:7070, [::1]:7070, :7070)", s);
	return AH_EINVAL;
}

static char *slurp(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	char *buf = malloc(1 << 20);
	size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	bool bad = ferror(f);
	fclose(f);
	if (!buf || bad) {
		snprintf(err, errlen, "%s: read error", path);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* %HH escapes as libmicrohttpd decodes them, except that a decoded NUL
 * becomes 0x01: a C string would end at the NUL ("/v1/pools%00/x" would
 * be served as /v1/pools), while a control character is refused by the
 * API's text checks of the path and the query with a 400. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	size_t n = MHD_http_unescape(s);
	for (size_t i = 0; i < n; i++)
		if (!s[i])
			s[i] = '\x01';
	return n;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	ah_log(AH_LOG_DEBUG, "msg=http detail=\"%s\"", msg);
}

int ah_server_new(ah_api *api, ah_service *svc, const ah_server_opts *o, ah_server **out, char *err, size_t errlen)
{
	ah_server *s = calloc(1, sizeof *s);
	if (!s)
		return AH_ENOMEM;
	if (o)
		s->o = *o;
	else
		ah_server_opts_init(&s->o);
	s->api = api;
	s->svc = svc;
	s->sigfd = -1;
	s->watch_fd = -1;
	struct sockaddr_storage ss;
	socklen_t sl;
	bool loopback;
	int rc = ah_prom_sources_new(&s->sources);
	if (rc < 0 || (rc = parse_listen(s->o.listen, &ss, &sl, &loopback, err, errlen)) < 0)
		goto fail;
	bool tls = s->o.tls_cert_path || s->o.tls_key_path;
	if (tls && (!s->o.tls_cert_path || !s->o.tls_key_path)) {
		snprintf(err, errlen, "--tls-cert and --tls-key go together");
		rc = AH_EINVAL;
		goto fail;
	}
	if (!loopback && !tls && !s->o.insecure) {
		snprintf(err, errlen,
			 "--listen %s is not a loopback address: give --tls-cert and --tls-key, or --insecure to serve plain HTTP anyway",
			 s->o.listen);
		rc = AH_EINVAL;
		goto fail;
	}
	if (tls && (!(s->tls_cert = slurp(s->o.tls_cert_path, err, errlen)) ||
		    !(s->tls_key = slurp(s->o.tls_key_path, err, errlen)))) {
		rc = AH_EIO;
		goto fail;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		snprintf(err, errlen, "signalfd: %s", strerror(errno));
		rc = AH_EIO;
		goto fail;
	}
	unsigned flags = MHD_USE_EPOLL | MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
			 (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0) | (tls ? MHD_USE_TLS : 0);
	struct MHD_OptionItem tls_opts[] = {
		{tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, s->tls_cert},
		{tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, s->tls_key},
		{MHD_OPTION_END, 0, NULL},
	};
	s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_CONNECTION_LIMIT, s->o.conn_max, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				s->o.conn_per_ip_max, MHD_OPTION_CONNECTION_TIMEOUT, s->o.idle_timeout_s,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, AH_API_CONN_MEMORY, MHD_OPTION_NOTIFY_COMPLETED,
				on_completed, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_UNESCAPE_CALLBACK, unescape, s,
				MHD_OPTION_LISTEN_BACKLOG_SIZE,
				(unsigned)1024, MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
	if (!s->d) {
		snprintf(err, errlen, "cannot listen on %s (%s)", s->o.listen, errno ? strerror(errno) : "libmicrohttpd refused the options");
		rc = AH_EIO;
		goto fail;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : 0;
	int64_t m = mono_ns();
	s->next_tick_ns = m + s->o.tick_ns;
	s->next_sweep_ns = m;
	s->next_scale_ns = m + s->o.scale_ns;
	s->next_compact_ns = m + INT64_C(60) * 1000000000;
	s->next_keepalive_ns = m;
	s->next_sample_ns = m;
	s->next_writer_ns = m;
	if (s->o.advertise_url && ah_service_watch_wanted(s->svc) &&
	    (rc = fwd_new(AH_FORWARD_TIMEOUT_MS, &s->fwd)) < 0) {
		snprintf(err, errlen, "--advertise: the forwarding thread could not start (%s)", ah_strerror(rc));
		goto fail;
	}
	(void)sl;
	*out = s;
	return 0;
fail:
	ah_server_free(s);
	return rc;
}

int ah_server_port(const ah_server *s)
{
	return s ? s->port : 0;
}

void ah_server_stop(ah_server *s)
{
	if (s)
		s->stopping = true;
}

static int poll_timeout_ms(ah_server *s)
{
	int64_t m = mono_ns(), next = s->next_tick_ns;
	if (s->next_sweep_ns < next)
		next = s->next_sweep_ns;
	if (s->next_keepalive_ns < next)
		next = s->next_keepalive_ns;
	if (s->next_sample_ns < next)
		next = s->next_sample_ns;
	if (ah_api_observe_next_ns(s->api) < next)
		next = ah_api_observe_next_ns(s->api);
	if (s->n_parked)
		next = s->first_parked_ns + s->o.batch_window_ns;
	else if (s->sync_due && m + INT64_C(20000000) < next)
		next = m + INT64_C(20000000);
	MHD_UNSIGNED_LONG_LONG mt;
	if (MHD_get_timeout(s->d, &mt) == MHD_YES && m + (int64_t)mt * 1000000 < next)
		next = m + (int64_t)mt * 1000000;
	int64_t ms = (next - m + 999999) / 1000000;
	return ms < 0 ? 0 : ms > 1000 ? 1000 : (int)ms;
}

int ah_server_run(ah_server *s)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!di)
		return AH_EIO;
	/* a shared ledger: other instances' commits arrive on the watch */
	s->watch_fd = ah_service_watch_fd(s->svc);
	if (s->watch_fd < 0 && ah_service_watch_wanted(s->svc))
		ah_log(AH_LOG_WARN, "msg=watch_failed err=\"%s\" detail=\"the view follows other instances at ticks and writes only\"",
		       ah_service_errmsg(s->svc));
	struct pollfd pf[4] = {{.fd = di->epoll_fd, .events = POLLIN},
			       {.fd = s->sigfd, .events = POLLIN},
			       {.fd = s->watch_fd, .events = POLLIN},
			       {.fd = fwd_fd(s->fwd), .events = POLLIN}}; /* a negative fd is not polled */
	int npf = 4;
	if (s->o.on_ready)
		s->o.on_ready(s->o.ctx, s->port);
	ah_log(AH_LOG_INFO, "msg=listening addr=%s port=%d", s->o.listen, s->port);
	while (!s->stopping || s->n_parked || s->n_forwarding) {
		int t = poll_timeout_ms(s);
		/* not while a batch waits (sync_view), nor on a lazy follower */
		pf[2].fd = s->n_parked || lazy_follow(s) ? -1 : s->watch_fd;
		int pr = poll(pf, (nfds_t)npf, t);
		if (pr < 0 && errno != EINTR)
			return AH_EIO;
		if (pf[1].revents & POLLIN)
			on_signal(s);
		if (s->watch_fd >= 0 && ((pf[2].revents & POLLIN) || (s->sync_due && !lazy_follow(s))))
			sync_view(s);
		if (s->fwd && (pf[3].revents & POLLIN))
			forwarded(s);
		MHD_run(s->d);
		bool due = s->n_parked && (s->n_parked >= s->o.batch_max || s->stopping ||
					   mono_ns() - s->first_parked_ns >= s->o.batch_window_ns);
		if (due) {
			flush(s);
			MHD_run(s->d); /* send the answers now */
		}
		timers(s);
	}
	/* drain: let answers out, end the watches */
	MHD_quiesce_daemon(s->d);
	wake_watchers(s);
	for (int i = 0; i < 20; i++) {
		MHD_run(s->d);
		if (!s->watchers)
			break;
		poll(pf, 1, 10);
	}
	ah_log(AH_LOG_INFO, "msg=stopped");
	return 0;
}

static void fwd_drop(fwd_item *it, void *ctx)
{
	(void)ctx;
	conn *k = it->ctx;
	k->forwarding = false;
	if (k->gone)
		conn_free(k);
	else
		MHD_resume_connection(k->c);
	fwd_item_free(it);
}

void ah_server_free(ah_server *s)
{
	if (!s)
		return;
	/* forwarded connections: resumed (MHD closes them) or freed */
	fwd_free(s->fwd, fwd_drop, s);
	if (s->d) {
		s->stopping = true;
		wake_watchers(s);
		for (conn *k = s->parked; k; k = k->next)
			if (k->c)
				MHD_resume_connection(k->c);
		MHD_stop_daemon(s->d);
	}
	if (s->sigfd >= 0)
		close(s->sigfd);
	free(s->tls_cert);
	free(s->tls_key);
	ah_prom_sources_free(s->sources);
	free(s);
}
