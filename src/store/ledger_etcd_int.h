/* ahead: the etcd ledger's shared parts (private): the handle, the staged
 * writes of the open transaction, the key layout (docs/CLUSTER.md). */
#ifndef AHEAD_STORE_LEDGER_ETCD_INT_H
#define AHEAD_STORE_LEDGER_ETCD_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ahead/ledger.h"
#include "ahead/ledger_etcd.h"
#include "store/etcd_client.h"

#define ETCD_KEY_MAX 1024

/* The counters every commit rewrites in PREFIX/s/head. */
typedef struct {
	int64_t n;        /* commits */
	int64_t ev;       /* newest event seq */
	int64_t au;       /* newest audit seq */
	int64_t tg;       /* token generation */
	int64_t pg;       /* policy generation */
	int64_t id;       /* the engine's next id */
	int64_t ef;       /* first event seq kept (set by compaction; 0: unknown, read ev/) */
} etcd_head;

/* How long a head read or commit of this handle stands for "now" to reads
 * that only pick what to reload (policy and token generation, event
 * bounds): never to a commit, whose compare reads head itself. */
#define ETCD_HEAD_RECENT_NS 100000000

/* Revisions sampled for the history's compaction (etcd_history.c). */
#define ETCD_HISTORY_SAMPLES 64

/* A commit's event or audit page being written (etcd_page.c). */
typedef struct {
	char *p;          /* the records, comma-joined, NUL-terminated */
	size_t len, cap;
	int n, fields;    /* records, and fields of the open one */
	bool failed;      /* out of memory: the commit fails */
} etcd_page;

typedef struct {
	ah_ledger base;
	etcd_client *c;
	char prefix[256];
	int64_t rev;      /* head's mod revision this view matches (0: no head yet) */
	bool stale;       /* begin saw a newer head: load before committing */
	etcd_head h, h0;  /* counters (with the open txn's changes), as at begin */
	bool in_txn;
	int64_t seen_rev, seen_ns; /* the newest head this handle read or wrote, and when */
	etcd_head seen_h;
	bool seen_ok;
	etcd_op *ops;
	int n_ops, cap_ops;
	/* the open transaction's events and audit rows, written as ONE key
	 * each (a page) when it commits: a key is most of what an etcd write
	 * costs (docs/CLUSTER.md, "Throughput") */
	etcd_page ev_page, au_page;
	ah_ledger_precond *pre;
	int n_pre, cap_pre;
	/* idempotency keys the open transaction read as absent: their put
	 * needs no second read (the head compare covers a write meanwhile) */
	char **absent;
	int n_absent, cap_absent;
	/* Idempotency keys the open transaction assumed absent WITHOUT reading
	 * them (idem_opt): the commit compares each one's version with 0, so a
	 * key written meanwhile (a client's retry answered elsewhere) fails it;
	 * then idem_read: the next transaction reads its keys. */
	bool idem_opt, idem_read;
	/* begin without a head read (this handle committed or read head in the
	 * last ETCD_HEAD_RECENT_NS and its view is that head's): the commit's
	 * compare is the check; a read-only commit reads head instead */
	bool loaded, begin_opt, loaded_in_txn;
	/* the state (a range over PREFIX/s/) a refused txn's failure branch
	 * returned: the next load takes it instead of a range of its own */
	json_t *snap;
	struct ah_etcd_watch *watch; /* its mirror feeds loads (ah_ledger_etcd_watch_attach) */
	bool load_fresh;  /* the next load ranges in etcd (ah_ledger_etcd_load_fresh) */
	int64_t snap_rev; /* head's mod revision in snap, and its counters */
	etcd_head snap_h;
	char **opt;
	int n_opt, cap_opt;
	char errmsg[1100];
	int64_t lease;    /* the instance key's lease ID, 0: none */
	int lease_ttl_s;
	int64_t keepalive_at_ns;
	char inst_key[ETCD_KEY_MAX];
	ah_ledger_etcd_view view; /* published on the instance key (ah_ledger_etcd_publish) */
	bool have_view;
	/* the fleet node this instance serves, named on its instance key
	 * (include/ahead/node.h); "" = none */
	char node[64];
	/* a fencing token (ah_ledger_etcd_fence): while set, every commit also
	 * compares the election key's create revision with it */
	char fence_key[ETCD_KEY_MAX];
	int64_t fence_rev;
	/* idempotency keys on etcd leases, one per time bucket, so that etcd
	 * expires them itself (ah_ledger_etcd_set_idem_keep; 0: not leased) */
	int64_t idem_keep_ns;
	int64_t idem_lease, idem_lease_until_ns;
	/* keys of this handle written without a lease (none before a keep was
	 * set, or a grant failed): the sweep deletes them; with every key
	 * leased it ranges once an hour at most (etcd_idem_sweep) */
	bool idem_unleased;
	int64_t idem_next_sweep_ns;
	/* where the idempotency keys' sweep goes on ("" = from the start) */
	char idem_cursor[ETCD_KEY_MAX];
	/* etcd's history kept short (etcd_history.c): (time, revision) samples
	 * in a ring, the last compaction's time and revision */
	struct {
		int64_t t_ns[ETCD_HISTORY_SAMPLES], rev[ETCD_HISTORY_SAMPLES];
		int head, n;
		int64_t last_ns, done_rev;
	} hist;
	/* where the time goes ($AHEAD_ETCD_PROFILE=DIR: DIR/etcd.PID, rewritten each second) */
	struct {
		int64_t begins, opt_begins, snap_loads, mirror_loads, stale_begins, commits, refused, loads, load_ns, ops, at_ns;
		const char *dir;
	} prof;
} etcd_ledger;

/* PREFIX + fmt..., into out (ETCD_KEY_MAX). */
void etcd_key(const etcd_ledger *m, char *out, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Stages a put (val of vlen bytes) or a delete (val NULL) of key, replacing
 * an op of the same key staged before (etcd refuses a txn naming a key
 * twice). */
int etcd_stage(etcd_ledger *m, const char *key, const char *val, size_t vlen);
int etcd_stage_json(etcd_ledger *m, const char *key, json_t *val); /* steals val */
/* A page's records, written as they come (etcd_page_rec_begin, fields,
 * etcd_page_rec_end): out of memory fails the record and the commit. A
 * page with one record is that record's JSON text (pg->p): the rows and
 * idempotency records are written so too. */
void etcd_page_rec_begin(etcd_page *pg);
void etcd_page_int(etcd_page *pg, const char *key, int64_t v);
void etcd_page_str(etcd_page *pg, const char *key, const char *v); /* NULL: "" */
int etcd_page_rec_end(etcd_page *pg);
void etcd_page_reset(etcd_page *pg);
/* A page's stored bytes: {"b":[records]} compact, deflated past a size
 * (etcd_page.c). */
int etcd_page_encode(const etcd_page *pg, char **out, size_t *out_len);
/* A page's JSON from its stored bytes (deflated or not); NULL if neither. */
json_t *etcd_page_decode(const char *val, size_t vlen);
/* Whether the open transaction writes anything. */
bool etcd_has_writes(const etcd_ledger *m);
int etcd_stage_range_delete(etcd_ledger *m, const char *key, const char *end);
/* Notes key as assumed absent without a read (compared at commit). */
int etcd_opt_note(etcd_ledger *m, const char *key);
/* Notes key as read absent in the open transaction; is it? */
void etcd_absent_note(etcd_ledger *m, const char *key);
bool etcd_absent(const etcd_ledger *m, const char *key);
/* The staged op of key, or NULL. */
const etcd_op *etcd_staged(const etcd_ledger *m, const char *key);
etcd_op *etcd_staged_mut(etcd_ledger *m, const char *key); /* the same, to change its lease */
int64_t etcd_mono_ns(void); /* CLOCK_MONOTONIC: lease buckets */

/* Range [key, end) (end NULL: key alone) at revision rev (0: newest);
 * limit <= 0: all. *out: the answer; kvs in json_object_get(*out, "kvs"). */
int etcd_range(etcd_ledger *m, const char *key, const char *end, int64_t limit, int64_t rev, bool keys_only,
	       json_t **out);
/* One kv of a range answer decoded: its key and value (malloc'd). */
int etcd_kv(const json_t *kv, char **key, char **val, size_t *vlen);
/* The value of one key parsed as JSON (AH_ENOENT when absent). */
int etcd_get_json(etcd_ledger *m, const char *key, json_t **out, int64_t *mod_rev);

/* Runs fn in the open transaction, or in one of its own (head read,
 * staged, committed; retried when another instance committed meanwhile). */
int etcd_autocommit(etcd_ledger *m, int (*fn)(etcd_ledger *m, void *arg), void *arg);
/* Reads head: its mod revision and counters. */
int etcd_head_read(etcd_ledger *m, int64_t *rev, etcd_head *h);
/* The head this handle read or wrote in the last ETCD_HEAD_RECENT_NS, else
 * etcd_head_read. */
int etcd_head_recent(etcd_ledger *m, int64_t *rev, etcd_head *h);

int etcd_fail(etcd_ledger *m, int rc);

/* Writes the instance key again (its value: pid, node, published view), or
 * grants the lease and writes it when there is none yet. */
int etcd_instance_refresh(etcd_ledger *m);

/* The records' ops (ledger_etcd_records.c). */
int etcd_event(ah_ledger *l, const ah_ledger_event *ev);
int etcd_events(ah_ledger *l, const ah_event_query *q, int (*fn)(void *ctx, const ah_event_row *ev), void *ctx);
int etcd_events_compact(ah_ledger *l, int64_t before_ns, int64_t keep_min, size_t *out_n);
int etcd_events_bounds(ah_ledger *l, int64_t *out_first, int64_t *out_last);
int etcd_alloc_versions(ah_ledger *l, int (*fn)(void *ctx, uint64_t id, int64_t last_seq), void *ctx);
int etcd_demand_put(ah_ledger *l, const ah_dimset *dims, const ah_demand_row *row, int64_t keep_after_ns,
		    int max_rows);
int etcd_demand_load(ah_ledger *l, const ah_dimset *dims, int64_t since_ns,
		     int (*fn)(void *ctx, const ah_demand_row *row), void *ctx);
int etcd_token_put(ah_ledger *l, const struct ah_token_row *t);
int etcd_token_list(ah_ledger *l, int (*fn)(void *ctx, const struct ah_token_row *t), void *ctx);
int etcd_token_generation(ah_ledger *l, uint64_t *out_gen);
int etcd_audit_put(ah_ledger *l, const struct ah_audit_row *r);
int etcd_audit_list(ah_ledger *l, const struct ah_audit_query *q,
		    int (*fn)(void *ctx, const struct ah_audit_row *r), void *ctx);
int etcd_idem_get(ah_ledger *l, const char *scope, const char *key,
		  int (*fn)(void *ctx, const struct ah_idem_row *r), void *ctx);
int etcd_idem_put(ah_ledger *l, const struct ah_idem_row *r);
int etcd_idem_sweep(ah_ledger *l, int64_t before_ns, size_t *out_n);

#endif
