/* The etcd ledger's contract, against one etcd member this test starts
 * (and stops) on loopback ports 23780/23781; skipped when etcd is not
 * installed. A round trip through put and load, a second handle's commit
 * refused (AH_EBUSY) when another handle committed since it loaded, with
 * nothing of it written; the policy precondition; the API's records; a
 * node's record as a placement's precondition; idempotency keys on etcd
 * leases. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "ahead/api_records.h"
#include "ahead/engine.h"
#include "ahead/error.h"
#include "ahead/ledger.h"
#include "ahead/ledger_etcd.h"
#include "ahead/limits.h"
#include "ahead/policy.h"
#include "store/etcd_client.h"
#include "store/ledger_etcd_int.h"

#define ETCD "/usr/bin/etcd"
#define EP "http://127.0.0.1:23780"

static pid_t etcd_pid;
static char datadir[256];
static int prefix_n;
static char prefix[64];

static const char *text = "[pool p]\ncapacity = cpu=8, memory=8Gi\n[class c]\npriority = 1\n[tenant t]\n";

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* Starts the member on datadir (kept across a restart) and waits until it
 * answers. */
static int launch_etcd(void)
{
	etcd_pid = fork();
	if (etcd_pid == 0) {
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execl(ETCD, ETCD, "--name", "t0", "--data-dir", datadir, "--listen-client-urls", EP,
		      "--advertise-client-urls", EP, "--listen-peer-urls", "http://127.0.0.1:23781",
		      "--initial-advertise-peer-urls", "http://127.0.0.1:23781", "--initial-cluster",
		      "t0=http://127.0.0.1:23781", "--heartbeat-interval", "200", "--election-timeout", "2000",
		      "--max-txn-ops", "10000", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) { /* up to 10 s */
		ah_ledger *l = NULL;
		char err[256];
		ah_ledger_etcd_opts o = {.timeout_ms = 500, .lease_ttl_s = -1};
		if (ah_ledger_etcd_open(EP, "/probe", &o, &l, err, sizeof err) == 0) {
			ah_ledger_free(l);
			return 0;
		}
		sleep_ms(100);
	}
	return -1;
}

static int start_etcd(void **state)
{
	(void)state;
	if (access(ETCD, X_OK) != 0)
		return 0;
	snprintf(datadir, sizeof datadir, "/tmp/ahead-test-etcd-%d", (int)getpid());
	return launch_etcd();
}

static int stop_etcd(void **state)
{
	(void)state;
	if (etcd_pid > 0) {
		kill(etcd_pid, SIGTERM);
		waitpid(etcd_pid, NULL, 0);
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", datadir);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

/* A fresh prefix per test: no test sees another's keys. */
static ah_ledger *open_ledger(bool fresh)
{
	if (fresh)
		snprintf(prefix, sizeof prefix, "/t%d-%d", (int)getpid(), ++prefix_n);
	ah_ledger *l = NULL;
	char err[256];
	ah_ledger_etcd_opts o = {.timeout_ms = 2000};
	assert_int_equal(ah_ledger_etcd_open(EP, prefix, &o, &l, err, sizeof err), 0);
	assert_true(ah_ledger_is_etcd(l));
	return l;
}

static void need_etcd(void)
{
	if (etcd_pid <= 0) {
		print_message("SKIP: %s not installed (Debian: etcd-server)\n", ETCD);
		skip();
	}
}

typedef struct {
	int allocs, queued, caps;
	uint64_t ids[16];
	ah_vec cap;
} counts;

static int c_alloc(void *ctx, const ah_ledger_row *r)
{
	counts *c = ctx;
	if (c->allocs < 16)
		c->ids[c->allocs] = r->id;
	c->allocs++;
	return 0;
}

static int c_queued(void *ctx, const ah_ledger_row *r)
{
	(void)r;
	((counts *)ctx)->queued++;
	return 0;
}

static int c_cap(void *ctx, const char *pool, const ah_vec *cap)
{
	counts *c = ctx;
	if (!strcmp(pool, "p"))
		c->cap = *cap;
	c->caps++;
	return 0;
}

static counts load(ah_ledger *l, const ah_policy *pol, uint64_t *next)
{
	counts c = {0};
	ah_ledger_loader ld = {.ctx = &c, .alloc = c_alloc, .queued = c_queued, .pool_capacity = c_cap};
	uint64_t n = 0;
	assert_int_equal(l->ops->load(l, &pol->dims, &ld, &n), 0);
	if (next)
		*next = n;
	return c;
}

static ah_ledger_row row(const ah_policy *pol, uint64_t id, int64_t cpu_milli)
{
	ah_ledger_row r = {.id = id, .tenant = "t", .pool = "p", .klass = "c", .params = "", .created_ns = 1,
			   .expires_ns = 100};
	r.res.v[ah_dimset_find(&pol->dims, "cpu")] = cpu_milli;
	return r;
}

static ah_policy *policy(void)
{
	ah_policy *pol;
	char err[256];
	assert_int_equal(ah_policy_load_string(text, strlen(text), "t.ini", &pol, err, sizeof err), 0);
	return pol;
}

/* Pools on nodes: a row keeps its node and workload hash, and a placement
 * commits only while the node's record is the one the decision read. */
static char last_node[64];
static uint32_t last_wh;

static int c_node(void *ctx, const ah_ledger_row *r)
{
	(void)ctx;
	snprintf(last_node, sizeof last_node, "%s", r->node ? r->node : "");
	last_wh = r->workload_hash;
	return 0;
}

static void node_precondition(void **state)
{
	(void)state;
	need_etcd();
	ah_policy *pol = policy();
	ah_ledger *a = open_ledger(true);
	a->dims = &pol->dims;
	assert_int_equal(ah_ledger_policy_put(a, text, pol, 1), 0);
	load(a, pol, NULL);
	long long rev1 = 0, rev2 = 0;
	const char *rec = "{\"name\":\"n1\"}";
	assert_int_equal(ah_ledger_etcd_aux_put(a, "node/n1", rec, strlen(rec), 0, &rev1), 0);
	/* placed while the record is as read: committed, the node kept */
	assert_true(a->ops->begin(a) >= 0);
	ah_ledger_precond pc = {.kind = AH_PRECOND_NODE, .version = (uint64_t)rev1};
	snprintf(pc.key, sizeof pc.key, "n1");
	assert_int_equal(a->ops->precond_add(a, &pc), 0);
	assert_int_equal(a->ops->precond_add(a, &pc), 0); /* the same node twice: one compare */
	ah_ledger_row r1 = row(pol, 1, 1000);
	r1.node = "n1";
	r1.workload_hash = 77;
	assert_int_equal(a->ops->put_alloc(a, &r1), 0);
	assert_int_equal(a->ops->commit(a), 0);
	ah_ledger_loader ld = {.alloc = c_node};
	uint64_t next;
	assert_int_equal(a->ops->load(a, &pol->dims, &ld, &next), 0);
	assert_string_equal(last_node, "n1");
	assert_int_equal(last_wh, 77);
	/* the record changes (a cordon, a new capacity): a decision that read
	 * the old one is refused, nothing of it written */
	assert_int_equal(ah_ledger_etcd_aux_put(a, "node/n1", rec, strlen(rec), rev1, &rev2), 0);
	assert_true(a->ops->begin(a) >= 0);
	assert_int_equal(a->ops->precond_add(a, &pc), 0);
	ah_ledger_row r2 = row(pol, 2, 1000);
	r2.node = "n1";
	assert_int_equal(a->ops->put_alloc(a, &r2), 0);
	assert_int_equal(a->ops->commit(a), AH_EBUSY);
	assert_int_equal(load(a, pol, NULL).allocs, 1);
	/* read again: committed */
	assert_true(a->ops->begin(a) >= 0);
	pc.version = (uint64_t)rev2;
	assert_int_equal(a->ops->precond_add(a, &pc), 0);
	assert_int_equal(a->ops->put_alloc(a, &r2), 0);
	assert_int_equal(a->ops->commit(a), 0);
	assert_int_equal(load(a, pol, NULL).allocs, 2);
	ah_ledger_free(a);
	ah_policy_free(pol);
}

static void round_trip(void **state)
{
	(void)state;
	need_etcd();
	ah_policy *pol = policy();
	ah_ledger *a = open_ledger(true);
	a->dims = &pol->dims;
	assert_int_equal(a->ops->begin(a), 0);
	assert_int_equal(ah_ledger_policy_put(a, text, pol, 5), 0);
	ah_ledger_row r = row(pol, 7, 1500);
	assert_int_equal(a->ops->put_alloc(a, &r), 0);
	assert_int_equal(a->ops->set_next_id(a, 8), 0);
	int crc = a->ops->commit(a);
	if (crc)
		print_message("commit: %s\n", ah_ledger_errmsg(a));
	assert_int_equal(crc, 0);
	/* a second handle, as another instance would */
	ah_ledger *b = open_ledger(false);
	uint64_t next = 0, gen = 0;
	counts c = load(b, pol, &next);
	assert_int_equal(c.allocs, 1);
	assert_int_equal(c.ids[0], 7);
	assert_int_equal(c.caps, 1);
	assert_int_equal(c.cap.v[ah_dimset_find(&pol->dims, "cpu")], 8000);
	assert_int_equal(next, 8);
	assert_int_equal(ah_ledger_policy_generation(b, &gen), 0);
	assert_int_equal(gen, 1);
	char *t = NULL;
	int64_t at = 0;
	assert_int_equal(ah_ledger_policy_get(b, &t, &at), 0);
	assert_string_equal(t, text);
	assert_int_equal(at, 5);
	free(t);
	ah_ledger_free(a);
	ah_ledger_free(b);
	ah_policy_free(pol);
}

static void concurrent_commit_refused(void **state)
{
	(void)state;
	need_etcd();
	ah_policy *pol = policy();
	ah_ledger *a = open_ledger(true), *b = open_ledger(false);
	a->dims = b->dims = &pol->dims;
	assert_int_equal(ah_ledger_policy_put(a, text, pol, 1), 0);
	load(a, pol, NULL);
	load(b, pol, NULL);
	/* both begin on the same view */
	assert_int_equal(a->ops->begin(a), 0);
	assert_int_equal(b->ops->begin(b), 0);
	ah_ledger_row ra = row(pol, 1, 6000), rb = row(pol, 2, 6000);
	assert_int_equal(a->ops->put_alloc(a, &ra), 0);
	assert_int_equal(b->ops->put_alloc(b, &rb), 0);
	assert_int_equal(a->ops->commit(a), 0);
	/* b decided on a view a has changed: refused, nothing of it written */
	assert_int_equal(b->ops->commit(b), AH_EBUSY);
	assert_non_null(strstr(ah_ledger_errmsg(b), "another instance committed"));
	counts c = load(a, pol, NULL);
	assert_int_equal(c.allocs, 1);
	assert_int_equal(c.ids[0], 1);
	/* b's next begin says: reload first */
	assert_int_equal(b->ops->begin(b), 1);
	load(b, pol, NULL);
	assert_int_equal(b->ops->put_alloc(b, &rb), 0);
	assert_int_equal(b->ops->commit(b), 0);
	assert_int_equal(load(a, pol, NULL).allocs, 2);
	/* a stale handle that does not reload cannot commit either */
	ah_ledger_row rc3 = row(pol, 3, 1000);
	assert_int_equal(b->ops->begin(b), 0);
	assert_int_equal(b->ops->put_alloc(b, &rc3), 0);
	assert_int_equal(b->ops->commit(b), 0);
	/* (a read head within 100 ms: its begin need not read it again, so it
	 * may not know yet; its commit's compare does) */
	assert_true(a->ops->begin(a) >= 0);
	assert_int_equal(a->ops->del_alloc(a, 2), 0);
	assert_int_equal(a->ops->commit(a), AH_EBUSY);
	/* the refused txn's answer carries the state: begin knows, no read */
	assert_int_equal(a->ops->begin(a), 1);
	a->ops->rollback(a);
	assert_int_equal(load(b, pol, NULL).allocs, 3);
	ah_ledger_free(a);
	ah_ledger_free(b);
	ah_policy_free(pol);
}

static void engines_never_overcommit(void **state)
{
	(void)state;
	need_etcd();
	ah_policy *pol = policy();
	ah_ledger *a = open_ledger(true), *b = open_ledger(false);
	assert_int_equal(ah_ledger_policy_put(a, text, pol, 1), 0);
	uint64_t gen;
	assert_int_equal(ah_ledger_policy_generation(a, &gen), 0);
	ah_engine *ea, *eb;
	assert_int_equal(ah_engine_new(pol, a, 2, &ea), 0);
	assert_int_equal(ah_engine_new(pol, b, 2, &eb), 0);
	ah_engine_set_policy_generation(ea, gen);
	ah_engine_set_policy_generation(eb, gen);
	ah_request rq = {.tenant = "t", .pool = "p", .queue_timeout_ns = 0};
	rq.res.v[ah_dimset_find(&pol->dims, "cpu")] = 6000;
	ah_decision da, db;
	assert_int_equal(ah_engine_request(ea, &rq, 3, &da), 0);
	assert_int_equal(da.outcome, AH_GRANTED);
	/* eb decided on its view from before a's commit: refused by the compare
	 * (an engine that committed or read head in the last 100 ms begins
	 * without reading it); reloaded (as the service does), it refuses: 6 + 6 > 8 */
	int rc = ah_engine_request(eb, &rq, 4, &db);
	if (rc == AH_EBUSY) {
		assert_int_equal(ah_engine_reload(eb, 4), 0);
		rc = ah_engine_request(eb, &rq, 4, &db);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(db.outcome, AH_REFUSED);
	assert_int_equal(load(a, pol, NULL).allocs, 1);
	/* a policy applied by another handle: the engine's commit is refused */
	assert_int_equal(ah_ledger_policy_put(b, text, pol, 5), 0);
	rq.res.v[ah_dimset_find(&pol->dims, "cpu")] = 1000;
	assert_int_equal(ah_engine_request(ea, &rq, 6, &da), AH_EBUSY);
	assert_int_equal(load(a, pol, NULL).allocs, 1);
	ah_engine_free(ea);
	ah_engine_free(eb);
	ah_ledger_free(a);
	ah_ledger_free(b);
	ah_policy_free(pol);
}

typedef struct {
	int n;
	int64_t last_seq;
	char body[64];
} seen;

static int ev_seen(void *ctx, const ah_event_row *ev)
{
	seen *s = ctx;
	s->n++;
	s->last_seq = ev->seq;
	return 0;
}

static int idem_seen(void *ctx, const ah_idem_row *r)
{
	seen *s = ctx;
	s->n++;
	snprintf(s->body, sizeof s->body, "%s", r->body);
	return 0;
}

static int tok_seen(void *ctx, const ah_token_row *t)
{
	seen *s = ctx;
	s->n++;
	snprintf(s->body, sizeof s->body, "%s", t->name);
	return 0;
}

static void records(void **state)
{
	(void)state;
	need_etcd();
	ah_policy *pol = policy();
	ah_ledger *a = open_ledger(true);
	a->dims = &pol->dims;
	assert_int_equal(ah_ledger_policy_put(a, text, pol, 1), 0);
	assert_int_equal(a->ops->begin(a), 0);
	ah_ledger_event ev = {.t_ns = 2, .kind = AH_EV_GRANT, .id = 1, .tenant = "t", .pool = "p"};
	assert_int_equal(a->ops->event(a, &ev), 0);
	ah_idem_row ir = {.scope = "tok", .key = "k1", .status = 201, .body = "{\"id\":1}", .t_ns = 2};
	assert_int_equal(ah_ledger_idem_put(a, &ir), 0);
	assert_int_equal(ah_ledger_idem_put(a, &ir), AH_EEXIST);
	assert_int_equal(a->ops->commit(a), 0);
	seen s = {0};
	assert_int_equal(ah_ledger_events(a, NULL, ev_seen, &s), 0);
	assert_int_equal(s.n, 2); /* the policy's and the grant */
	int64_t first, last;
	assert_int_equal(ah_ledger_events_bounds(a, &first, &last), 0);
	assert_int_equal(first, 1);
	assert_int_equal(last, 2);
	memset(&s, 0, sizeof s);
	assert_int_equal(ah_ledger_idem_get(a, "tok", "k1", idem_seen, &s), 0);
	assert_string_equal(s.body, "{\"id\":1}");
	assert_int_equal(ah_ledger_idem_get(a, "tok", "k2", idem_seen, &s), AH_ENOENT);
	/* a key whose transaction failed is not there */
	ah_ledger *b = open_ledger(false);
	assert_int_equal(b->ops->begin(b), 1);
	assert_int_equal(ah_ledger_idem_put(a, &(ah_idem_row){.scope = "tok", .key = "k3", .body = "{}", .t_ns = 3}), 0);
	ah_idem_row ir2 = {.scope = "tok", .key = "k2", .status = 201, .body = "{}", .t_ns = 3};
	assert_int_equal(ah_ledger_idem_put(b, &ir2), 0);
	assert_int_equal(b->ops->commit(b), AH_EBUSY);
	assert_int_equal(ah_ledger_idem_get(a, "tok", "k2", idem_seen, &s), AH_ENOENT);
	/* a key assumed absent inside a txn (not read) but answered by another
	 * handle meanwhile: the commit's version compare refuses it, nothing
	 * written; the next txn reads its keys and finds the stored answer */
	load(b, pol, NULL);
	assert_int_equal(ah_ledger_idem_put(a, &(ah_idem_row){.scope = "tok", .key = "k9", .status = 201,
							     .body = "{\"id\":9}", .t_ns = 3}), 0);
	int found = 0, refused = 0;
	for (int attempt = 0; attempt < 4 && !found; attempt++) {
		if (b->ops->begin(b) == 1)
			load(b, pol, NULL);
		memset(&s, 0, sizeof s);
		if (ah_ledger_idem_get(b, "tok", "k9", idem_seen, &s) == 0) {
			assert_string_equal(s.body, "{\"id\":9}");
			found = 1;
			b->ops->rollback(b);
			break;
		}
		ah_ledger_row r9 = row(pol, 9, 1000);
		assert_int_equal(b->ops->put_alloc(b, &r9), 0);
		assert_int_equal(ah_ledger_idem_put(b, &(ah_idem_row){.scope = "tok", .key = "k9", .status = 201,
								     .body = "{\"id\":10}", .t_ns = 3}), 0);
		assert_int_equal(b->ops->commit(b), AH_EBUSY);
		refused++;
		load(b, pol, NULL);
	}
	assert_int_equal(found, 1);
	assert_true(refused >= 1); /* the first try did not read the key */
	memset(&s, 0, sizeof s);
	assert_int_equal(ah_ledger_idem_get(a, "tok", "k9", idem_seen, &s), 0);
	assert_string_equal(s.body, "{\"id\":9}");
	counts c9 = load(a, pol, NULL);
	for (int i = 0; i < c9.allocs; i++)
		assert_int_not_equal(c9.ids[i], 9);
	size_t swept = 0;
	assert_int_equal(ah_ledger_idem_sweep(a, 3, &swept), 0);
	assert_int_equal(swept, 1);
	assert_int_equal(ah_ledger_idem_get(a, "tok", "k1", idem_seen, &s), AH_ENOENT);
	/* tokens */
	ah_token_row t = {.id = "tk-1", .name = "ops", .role = AH_ROLE_ADMIN, .created_ns = 4};
	uint64_t g0 = 0, g1 = 0;
	assert_int_equal(ah_ledger_token_generation(a, &g0), 0);
	assert_int_equal(ah_ledger_token_put(a, &t), 0);
	assert_int_equal(ah_ledger_token_generation(b, &g1), 0);
	assert_int_equal(g1, g0 + 1);
	memset(&s, 0, sizeof s);
	assert_int_equal(ah_ledger_token_list(b, tok_seen, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.body, "ops");
	/* compaction keeps the newest */
	size_t dropped = 0;
	assert_int_equal(ah_ledger_events_compact(a, 100, 1, &dropped), 0);
	assert_int_equal(dropped, 1);
	assert_int_equal(ah_ledger_events_bounds(a, &first, &last), 0);
	assert_int_equal(first, 2);
	ah_ledger_free(a);
	ah_ledger_free(b);
	ah_policy_free(pol);
}

/* A key beside the ledger (the published model state): compare-and-set on
 * its revision, so two writers merge rather than overwrite. */
typedef struct {
	uint64_t id[4];
	int64_t seq[4];
	int n;
} vers;

static int ver_note(void *ctx, uint64_t id, int64_t last_seq)
{
	vers *v = ctx;
	if (v->n < 4) {
		v->id[v->n] = id;
		v->seq[v->n++] = last_seq;
	}
	return 0;
}

static void audit_row(ah_ledger *l, int64_t t_ns)
{
	ah_audit_row r = {.t_ns = t_ns, .who = "tk-1", .name = "ops", .role = "admin", .tenant = "t",
			  .source = "127.0.0.1:1", .method = "POST", .path = "/v1/allocations", .status = 201,
			  .outcome = "granted", .detail = ""};
	assert_int_equal(ah_ledger_audit_put(l, &r), 0);
}

static int au_seen(void *ctx, const ah_audit_row *r)
{
	seen *s = ctx;
	s->n++;
	s->last_seq = r->seq;
	return 0;
}

/* One commit writes its events as ONE key (a page, ev/LAST) and its audit
 * rows as one (au/LAST); reads start inside a page, limits count records,
 * each live id's newest event comes from the log, and compaction drops
 * whole pages only. */
static void log_pages(void **state)
{
	(void)state;
	need_etcd();
	ah_policy *pol = policy();
	ah_ledger *a = open_ledger(true);
	a->dims = &pol->dims;
	assert_int_equal(ah_ledger_policy_put(a, text, pol, 1), 0); /* event 1, its own page */
	assert_int_equal(a->ops->begin(a), 0);
	ah_ledger_row r1 = row(pol, 1, 100), r2 = row(pol, 2, 100);
	assert_int_equal(a->ops->put_alloc(a, &r1), 0);
	assert_int_equal(a->ops->put_alloc(a, &r2), 0);
	uint64_t ids[3] = {1, 2, 1};
	for (int i = 0; i < 3; i++) { /* events 2, 3, 4 at t = 10, 11, 12 */
		ah_ledger_event ev = {.t_ns = 10 + i, .kind = AH_EV_GRANT, .id = ids[i], .tenant = "t", .pool = "p"};
		assert_int_equal(a->ops->event(a, &ev), 0);
	}
	audit_row(a, 10);
	audit_row(a, 11);
	assert_int_equal(a->ops->commit(a), 0);
	assert_int_equal(a->ops->begin(a), 0);
	ah_ledger_event ev5 = {.t_ns = 20, .kind = AH_EV_GRANT, .id = 2, .tenant = "t", .pool = "p"};
	assert_int_equal(a->ops->event(a, &ev5), 0);
	assert_int_equal(a->ops->commit(a), 0);
	/* one key per commit, named by its last seq */
	char *v = NULL;
	size_t vl = 0;
	/* the three commits (the policy's, the two here) went over gRPC */
	assert_int_equal(etcd_client_stats_get(((etcd_ledger *)a)->c)->grpc, 3);
	assert_int_equal(ah_ledger_etcd_aux_get(a, "ev/00000000000000000004", &v, &vl, NULL), 0);
	assert_int_equal((unsigned char)v[0], 0x78); /* three events: past the size, deflated */
	free(v);
	v = NULL;
	assert_int_equal(ah_ledger_etcd_aux_get(a, "ev/00000000000000000005", &v, &vl, NULL), 0);
	assert_non_null(strstr(v, "\"b\"")); /* one event: plain JSON */
	free(v);
	v = NULL;
	assert_int_equal(ah_ledger_etcd_aux_get(a, "ev/00000000000000000003", &v, &vl, NULL), AH_ENOENT);
	assert_int_equal(ah_ledger_etcd_aux_get(a, "au/00000000000000000002", &v, &vl, NULL), 0);
	free(v);
	v = NULL;
	assert_int_equal(ah_ledger_etcd_aux_get(a, "ver/00000000000000000001", &v, &vl, NULL), AH_ENOENT);
	/* a read starting inside a page */
	seen s = {0};
	assert_int_equal(ah_ledger_events(a, &(ah_event_query){.after_seq = 3}, ev_seen, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.last_seq, 5);
	memset(&s, 0, sizeof s);
	assert_int_equal(ah_ledger_events(a, &(ah_event_query){.limit = 2}, ev_seen, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.last_seq, 2);
	memset(&s, 0, sizeof s);
	assert_int_equal(ah_ledger_audit_list(a, &(ah_audit_query){.after_seq = 1}, au_seen, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.last_seq, 2);
	vers vs = {0};
	assert_int_equal(ah_ledger_alloc_versions(a, ver_note, &vs), 0);
	assert_int_equal(vs.n, 2);
	assert_true(vs.id[0] == 1 && vs.seq[0] == 4);
	assert_true(vs.id[1] == 2 && vs.seq[1] == 5);
	/* before t = 12: the second page still holds an event at 12, so only
	 * the policy's page goes */
	size_t n = 0;
	int64_t first = 0, last = 0;
	assert_int_equal(ah_ledger_events_compact(a, 12, 0, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ah_ledger_events_bounds(a, &first, &last), 0);
	assert_int_equal(first, 2);
	assert_int_equal(last, 5);
	/* keep_min 3: dropping the page of 3 would leave 1 */
	assert_int_equal(ah_ledger_events_compact(a, 15, 3, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ah_ledger_events_compact(a, 15, 0, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(ah_ledger_events_bounds(a, &first, &last), 0);
	assert_int_equal(first, 5);
	memset(&vs, 0, sizeof vs);
	assert_int_equal(ah_ledger_alloc_versions(a, ver_note, &vs), 0);
	assert_true(vs.n == 2 && vs.seq[0] == 0 && vs.seq[1] == 5); /* id 1's events compacted */
	ah_ledger_free(a);
	ah_policy_free(pol);
}

/* The page codec alone: records written as text read back as jansson
 * builds them (strings escaped, bytes that are not UTF-8 as U+FFFD);
 * small pages stay JSON, large ones deflate and come back equal; a
 * truncated or oversized stream reads as nothing. */
static void page_text_one(const char *in, const char *want)
{
	etcd_page pg = {0};
	etcd_page_rec_begin(&pg);
	etcd_page_int(&pg, "seq", -7);
	etcd_page_str(&pg, "s", in);
	assert_int_equal(etcd_page_rec_end(&pg), 0);
	char *v = NULL;
	size_t n = 0;
	assert_int_equal(etcd_page_encode(&pg, &v, &n), 0);
	json_t *back = etcd_page_decode(v, n);
	json_t *exp = json_pack("{s[{sIss}]}", "b", "seq", (json_int_t)-7, "s", want);
	assert_non_null(exp);
	if (!back || !json_equal(back, exp))
		fail_msg("page of \"%s\": %.300s", want, v);
	json_decref(back);
	json_decref(exp);
	free(v);
	etcd_page_reset(&pg);
}

static void page_codec(void **state)
{
	(void)state;
	page_text_one("plain", "plain");
	page_text_one("", "");
	page_text_one("q\"b\\s/", "q\"b\\s/");
	page_text_one("tab\tnl\ncr\r\x01\x1f.", "tab\tnl\ncr\r\x01\x1f.");
	page_text_one("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	page_text_one("a\xff" "b", "a\xef\xbf\xbd" "b");                  /* not UTF-8 */
	page_text_one("\xc0\x80", "\xef\xbf\xbd\xef\xbf\xbd");            /* overlong */
	page_text_one("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* a surrogate */
	page_text_one("end\xe2\x82", "end\xef\xbf\xbd\xef\xbf\xbd");      /* cut short */
	etcd_page small = {0}, big = {0};
	etcd_page_rec_begin(&small);
	etcd_page_int(&small, "seq", 1);
	assert_int_equal(etcd_page_rec_end(&small), 0);
	json_t *small_j = json_pack("{s[{si}]}", "b", "seq", 1), *big_j = json_pack("{s[]}", "b");
	for (int i = 0; i < 200; i++) {
		etcd_page_rec_begin(&big);
		etcd_page_int(&big, "seq", i);
		etcd_page_str(&big, "te", "tenant-a");
		etcd_page_str(&big, "po", "pool-1");
		etcd_page_int(&big, "k", i % 5);
		assert_int_equal(etcd_page_rec_end(&big), 0);
		json_array_append_new(json_object_get(big_j, "b"),
				      json_pack("{sisssssi}", "seq", i, "te", "tenant-a", "po", "pool-1", "k", i % 5));
	}
	char *v = NULL;
	size_t n = 0;
	assert_int_equal(etcd_page_encode(&small, &v, &n), 0);
	assert_int_equal(v[0], '{');
	json_t *back = etcd_page_decode(v, n);
	assert_true(json_equal(back, small_j));
	json_decref(back);
	free(v);
	char *plain = json_dumps(big_j, JSON_COMPACT);
	assert_int_equal(etcd_page_encode(&big, &v, &n), 0);
	assert_int_equal((unsigned char)v[0], 0x78);
	assert_true(n * 4 < strlen(plain)); /* repeated names: several times smaller */
	back = etcd_page_decode(v, n);
	assert_true(json_equal(back, big_j));
	json_decref(back);
	assert_null(etcd_page_decode(v, n / 2)); /* cut short: not a page */
	free(v);
	free(plain);
	etcd_page_reset(&small);
	etcd_page_reset(&big);
	/* a stream that inflates past AH_ETCD_PAGE_MAX is refused, not allocated */
	size_t zn = AH_ETCD_PAGE_MAX + 4096;
	char *zeros = calloc(1, zn);
	uLongf cn = compressBound((uLong)zn);
	Bytef *c = malloc(cn);
	assert_int_equal(compress2(c, &cn, (const Bytef *)zeros, (uLong)zn, 1), Z_OK);
	assert_null(etcd_page_decode((const char *)c, cn));
	free(c);
	free(zeros);
	json_decref(small_j);
	json_decref(big_j);
}

/* The idempotency keys' sweep reads a bounded slice a call (one range of
 * 512 keys), going on where the last stopped and wrapping at the end:
 * 2,600 expired keys take six calls (a key read twice is not counted
 * twice), and a key written behind the cursor
 * meanwhile is reached after the wrap (and kept: not expired). */
static void idem_sweep_slices(void **state)
{
	(void)state;
	need_etcd();
	ah_ledger *a = open_ledger(true);
	char key[32];
	for (int b = 0; b < 13; b++) { /* 2,600 keys at t = 1, 200 a commit */
		assert_int_equal(a->ops->begin(a), 0);
		for (int i = 0; i < 200; i++) {
			snprintf(key, sizeof key, "k%05d", b * 200 + i);
			assert_int_equal(ah_ledger_idem_put(a, &(ah_idem_row){.scope = "s", .key = key, .status = 201,
									     .body = "{}", .t_ns = 1}), 0);
		}
		assert_int_equal(a->ops->commit(a), 0);
	}
	size_t n = 0, total = 0;
	seen s = {0};
	assert_int_equal(ah_ledger_idem_sweep(a, 2, &n), 0);
	assert_int_equal(n, 512);
	total += n;
	assert_int_equal(ah_ledger_idem_get(a, "s", "k00000", idem_seen, &s), AH_ENOENT);
	assert_int_equal(ah_ledger_idem_get(a, "s", "k02599", idem_seen, &s), 0);
	assert_int_equal(ah_ledger_idem_put(a, &(ah_idem_row){.scope = "s", .key = "a-new", .status = 201, .body = "{}",
							     .t_ns = 5}), 0);
	/* each later range starts at the last key read (gone: it was expired),
	 * so 512 new ones, then the rest */
	size_t want[5] = {512, 512, 512, 512, 2600 - 5 * 512};
	for (int i = 0; i < 5; i++) {
		assert_int_equal(ah_ledger_idem_sweep(a, 2, &n), 0);
		assert_int_equal(n, want[i]);
		total += n;
	}
	assert_int_equal(total, 2600);
	assert_int_equal(ah_ledger_idem_get(a, "s", "k02599", idem_seen, &s), AH_ENOENT);
	assert_int_equal(ah_ledger_idem_sweep(a, 2, &n), 0); /* wrapped: from the start, nothing old */
	assert_int_equal(n, 0);
	assert_int_equal(ah_ledger_idem_get(a, "s", "a-new", idem_seen, &s), 0);
	ah_ledger_free(a);
}

/* The lease PREFIX/idem/SCOPE/KEY is on (0: none), from etcd itself. */
static int64_t key_lease(const char *scope, const char *key)
{
	char k[256], err[256];
	snprintf(k, sizeof k, "%s/idem/%s/%s", prefix, scope, key);
	etcd_client *c = NULL;
	assert_int_equal(etcd_client_new(EP, 2000, &c, err, sizeof err), 0);
	json_t *rq = json_pack("{s:o}", "key", etcd_b64s(k)), *r = NULL;
	assert_int_equal(etcd_call(c, "/v3/kv/range", rq, &r), 0);
	json_decref(rq);
	json_t *kv = json_array_get(json_object_get(r, "kvs"), 0);
	assert_non_null(kv);
	int64_t id = etcd_i64(kv, "lease");
	json_decref(r);
	etcd_client_free(c);
	return id;
}

/* Idempotency keys on etcd leases (ah_ledger_etcd_set_idem_keep): two keys
 * written in one bucket share one lease, granted for at least the keep;
 * none without a keep; once the lease is gone (revoked here: what an
 * expiry does), etcd has deleted the keys, the commit naming the lost
 * lease fails and the next one is put on a fresh lease. */
static void idem_keys_leased(void **state)
{
	(void)state;
	need_etcd();
	ah_ledger *a = open_ledger(true);
	ah_idem_row r = {.scope = "s", .key = "plain", .status = 201, .body = "{}", .t_ns = 1};
	assert_int_equal(ah_ledger_idem_put(a, &r), 0);
	assert_int_equal(key_lease("s", "plain"), 0);
	assert_int_equal(ah_ledger_etcd_set_idem_keep(a, INT64_C(60) * 1000000000), 0);
	r.key = "k1";
	assert_int_equal(ah_ledger_idem_put(a, &r), 0);
	r.key = "k2";
	assert_int_equal(ah_ledger_idem_put(a, &r), 0);
	int64_t l1 = key_lease("s", "k1");
	assert_true(l1 != 0);
	assert_int_equal(key_lease("s", "k2"), l1);
	char err[256];
	etcd_client *c = NULL;
	assert_int_equal(etcd_client_new(EP, 2000, &c, err, sizeof err), 0);
	json_t *rq = json_pack("{s:I}", "ID", (json_int_t)l1), *ans = NULL;
	assert_int_equal(etcd_call(c, "/v3/kv/lease/timetolive", rq, &ans), 0);
	assert_true(etcd_i64(ans, "grantedTTL") >= 60 + 15); /* keep + a quarter of it */
	json_decref(ans);
	assert_int_equal(etcd_call(c, "/v3/kv/lease/revoke", rq, &ans), 0);
	json_decref(ans);
	json_decref(rq);
	etcd_client_free(c);
	seen s = {0};
	assert_int_equal(ah_ledger_idem_get(a, "s", "k1", idem_seen, &s), AH_ENOENT);
	assert_int_equal(ah_ledger_idem_get(a, "s", "plain", idem_seen, &s), 0);
	r.key = "k3";
	assert_true(ah_ledger_idem_put(a, &r) < 0);
	assert_non_null(strstr(ah_ledger_errmsg(a), "lease"));
	assert_int_equal(ah_ledger_idem_put(a, &r), 0);
	int64_t l2 = key_lease("s", "k3");
	assert_true(l2 != 0 && l2 != l1);
	/* a handle whose keys are all leased leaves the sweep to etcd (its
	 * range costs etcd in proportion to every key kept); one that wrote a
	 * key without a lease sweeps it */
	ah_ledger *b = open_ledger(false);
	assert_int_equal(ah_ledger_etcd_set_idem_keep(b, INT64_C(60) * 1000000000), 0);
	r.key = "b1";
	assert_int_equal(ah_ledger_idem_put(b, &r), 0);
	assert_true(key_lease("s", "b1") != 0);
	size_t n = 9;
	assert_int_equal(ah_ledger_idem_sweep(b, INT64_MAX, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ah_ledger_idem_get(b, "s", "plain", idem_seen, &s), 0);
	assert_int_equal(ah_ledger_idem_sweep(a, 2, &n), 0);
	assert_int_equal(n, 3); /* plain, and the leased k3 and b1 (t = 1: old too) */
	assert_int_equal(ah_ledger_idem_get(b, "s", "plain", idem_seen, &s), AH_ENOENT);
	ah_ledger_free(b);
	ah_ledger_free(a);
}

/* etcd's history compacted to the revision of keep_ns ago, at most every
 * every_ns; a revision another handle compacted past counts as done. Last
 * in the group: compaction is the whole etcd's. */
static void history_compacts(void **state)
{
	(void)state;
	need_etcd();
	ah_policy *pol = policy();
	ah_ledger *a = open_ledger(true), *b = open_ledger(false);
	a->dims = b->dims = &pol->dims;
	etcd_ledger *m = (etcd_ledger *)a;
	assert_int_equal(ah_ledger_policy_put(a, text, pol, 1), 0);
	int64_t first = m->rev;
	long long rev = -1;
	/* nothing sampled an hour ago: not due */
	assert_int_equal(ah_ledger_etcd_history_step(a, INT64_C(3600) * 1000000000, 0, &rev), 0);
	assert_int_equal(rev, -1);
	assert_int_equal(ah_ledger_etcd_history_step(b, 0, 0, &rev), 0); /* b has no view yet: nothing sampled */
	assert_int_equal(a->ops->begin(a), 0);
	ah_ledger_row r1 = row(pol, 1, 100);
	assert_int_equal(a->ops->put_alloc(a, &r1), 0);
	assert_int_equal(a->ops->commit(a), 0);
	assert_true(m->rev > first);
	/* keep 0: compacted to the newest revision sampled, the commit's */
	assert_int_equal(ah_ledger_etcd_history_step(a, 0, 0, &rev), 1);
	assert_int_equal(rev, m->rev);
	json_t *out = NULL;
	assert_true(etcd_range(m, "/nothing", NULL, 1, first, false, &out) < 0);
	assert_non_null(strstr(ah_ledger_errmsg(a), "compacted"));
	/* every_ns not passed: not again, whatever is sampled */
	assert_int_equal(a->ops->begin(a), 0);
	assert_int_equal(a->ops->del_alloc(a, 1), 0);
	assert_int_equal(a->ops->commit(a), 0);
	rev = -1;
	assert_int_equal(ah_ledger_etcd_history_step(a, 0, INT64_C(3600) * 1000000000, &rev), 0);
	assert_int_equal(rev, -1);
	/* b, behind a, at a revision a compacted past: done, not an error */
	etcd_ledger *mb = (etcd_ledger *)b;
	mb->rev = first;
	assert_int_equal(ah_ledger_etcd_history_step(b, 0, 0, &rev), 1);
	assert_int_equal(rev, first);
	ah_ledger_free(a);
	ah_ledger_free(b);
	ah_policy_free(pol);
}

static void aux_compare_and_set(void **state)
{
	(void)state;
	need_etcd();
	ah_ledger *a = NULL, *b = NULL;
	char err[512];
	ah_ledger_etcd_opts o = {.timeout_ms = 2000, .lease_ttl_s = -1};
	assert_int_equal(ah_ledger_etcd_open(EP, "/aux", &o, &a, err, sizeof err), 0);
	assert_int_equal(ah_ledger_etcd_open(EP, "/aux", &o, &b, err, sizeof err), 0);
	char *v = NULL;
	long long rev = 0, ra = 0, rb = 0;
	assert_int_equal(ah_ledger_etcd_aux_get(a, "model/w", &v, NULL, &rev), AH_ENOENT);
	/* created only while absent */
	assert_int_equal(ah_ledger_etcd_aux_put(a, "model/w", "one", 3, 0, &ra), 0);
	assert_true(ra > 0);
	assert_int_equal(ah_ledger_etcd_aux_put(b, "model/w", "two", 3, 0, &rb), AH_EBUSY);
	/* b read it, a wrote again meanwhile: b's write on the old revision is refused */
	size_t n = 0;
	assert_int_equal(ah_ledger_etcd_aux_get(b, "model/w", &v, &n, &rev), 0);
	assert_string_equal(v, "one");
	assert_int_equal(n, 3);
	assert_int_equal(rev, ra);
	free(v);
	assert_int_equal(ah_ledger_etcd_aux_put(a, "model/w", "three", 5, ra, &ra), 0);
	assert_int_equal(ah_ledger_etcd_aux_put(b, "model/w", "two", 3, rev, &rb), AH_EBUSY);
	assert_non_null(strstr(ah_ledger_errmsg(b), "changed by another instance"));
	assert_int_equal(ah_ledger_etcd_aux_get(b, "model/w", &v, NULL, &rev), 0);
	assert_string_equal(v, "three");
	free(v);
	assert_int_equal(ah_ledger_etcd_aux_put(b, "model/w", "four", 4, rev, &rb), 0);
	assert_true(rb > ra);
	/* no etcd ledger handle: refused */
	assert_int_equal(ah_ledger_etcd_aux_get(NULL, "model/w", &v, NULL, &rev), AH_EINVAL);
	ah_ledger_free(a);
	ah_ledger_free(b);
}

/* The commits' gRPC connection is kept; when the member restarts under it,
 * the next commit makes a new one (the kept one is gone, and a request that
 * went out as HTTP/1.1 on a new connection is sent again with HTTP/2's
 * prior knowledge) and succeeds. */
static void grpc_reconnects(void **state)
{
	(void)state;
	need_etcd();
	ah_policy *pol = policy();
	ah_ledger *a = open_ledger(true);
	a->dims = &pol->dims;
	const etcd_client_stats *st = etcd_client_stats_get(((etcd_ledger *)a)->c);
	assert_int_equal(a->ops->begin(a), 0);
	assert_int_equal(ah_ledger_policy_put(a, text, pol, 5), 0);
	ah_ledger_row r = row(pol, 7, 1500);
	assert_int_equal(a->ops->put_alloc(a, &r), 0);
	assert_int_equal(a->ops->commit(a), 0);
	assert_int_equal(a->ops->begin(a), 0);
	r = row(pol, 8, 500);
	assert_int_equal(a->ops->put_alloc(a, &r), 0);
	assert_int_equal(a->ops->commit(a), 0);
	assert_int_equal(st->grpc, 2);
	assert_int_equal(st->grpc_fresh, 0); /* one connection, kept */
	kill(etcd_pid, SIGTERM);
	waitpid(etcd_pid, NULL, 0);
	assert_int_equal(launch_etcd(), 0);
	assert_int_equal(a->ops->begin(a), 0);
	r = row(pol, 9, 250);
	assert_int_equal(a->ops->put_alloc(a, &r), 0);
	int crc = a->ops->commit(a);
	if (crc)
		print_message("commit: %s\n", ah_ledger_errmsg(a));
	assert_int_equal(crc, 0);
	assert_int_equal(st->grpc, 3);
	assert_true(st->grpc_fresh >= 1);
	ah_ledger *b = open_ledger(false);
	counts c = load(b, pol, NULL);
	assert_int_equal(c.allocs, 3);
	ah_ledger_free(a);
	ah_ledger_free(b);
	ah_policy_free(pol);
}

static void unreachable_named(void **state)
{
	(void)state;
	ah_ledger *l = NULL;
	char err[512];
	ah_ledger_etcd_opts o = {.timeout_ms = 300};
	assert_int_equal(ah_ledger_etcd_open("http://127.0.0.1:1", "/x", &o, &l, err, sizeof err), AH_ESTORE);
	assert_non_null(strstr(err, "127.0.0.1:1"));
	char ep[256], pre[64];
	assert_int_equal(ah_ledger_etcd_url_parse("etcd://a:1,b:2/x/y", ep, sizeof ep, pre, sizeof pre), 0);
	assert_string_equal(ep, "http://a:1,http://b:2");
	assert_string_equal(pre, "/x/y");
	assert_int_equal(ah_ledger_etcd_url_parse("etcd://a:1", ep, sizeof ep, pre, sizeof pre), 0);
	assert_string_equal(pre, "/ahead");
	assert_int_equal(ah_ledger_etcd_url_parse("etcd:///x", ep, sizeof ep, pre, sizeof pre), AH_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(concurrent_commit_refused),
		cmocka_unit_test(engines_never_overcommit),
		cmocka_unit_test(records),
		cmocka_unit_test(log_pages),
		cmocka_unit_test(page_codec),
		cmocka_unit_test(aux_compare_and_set),
		cmocka_unit_test(unreachable_named),
		cmocka_unit_test(node_precondition),
		cmocka_unit_test(idem_sweep_slices),
		cmocka_unit_test(idem_keys_leased),
		cmocka_unit_test(history_compacts),
		cmocka_unit_test(grpc_reconnects),
	};
	return cmocka_run_group_tests(tests, start_etcd, stop_etcd);
}
