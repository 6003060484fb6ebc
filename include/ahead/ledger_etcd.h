/* ahead: the etcd ledger — one ledger shared by several instances.
 *
 * Every piece of ledger state is a key under a prefix in etcd (v3, reached
 * through its JSON gateway); docs/CLUSTER.md has the layout. Every commit
 * is ONE etcd transaction whose compare is "PREFIX/s/head was last changed
 * at the revision this instance loaded or committed" and which rewrites
 * head: commits are serialisable across instances. A failed compare
 * writes nothing and returns AH_EBUSY; the next begin returns 1 (reload)
 * and the caller decides again on the state etcd has. Correctness rests on
 * that compare alone; the instance key's lease only says who is alive.
 * Durability is etcd's: a commit is acknowledged once a majority of the
 * members has it in its fsynced WAL. */
#ifndef AHEAD_LEDGER_ETCD_H
#define AHEAD_LEDGER_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ahead/ledger.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
	long timeout_ms;        /* per request to a member; 0: 2000 */
	int lease_ttl_s;        /* the instance key's lease; 0: 10; < 0: no instance key */
	const char *instance;   /* name of the instance key; NULL: host-pid */
} ah_ledger_etcd_opts;

/* endpoints: comma-separated "http://HOST:PORT"; prefix: "/ahead/NAME"
 * (no trailing '/'). Fails (AH_ESTORE, the message naming the endpoint)
 * when no endpoint answers. */
int ah_ledger_etcd_open(const char *endpoints, const char *prefix, const ah_ledger_etcd_opts *o, ah_ledger **out,
			char *err, size_t errlen);
bool ah_ledger_is_etcd(const ah_ledger *l);
/* A fencing token: while create_rev > 0, every commit of this handle also
 * compares the create revision of PREFIX/key with create_rev, so once the
 * key was deleted (its holder's lease lapsed) or made again by another
 * holder, the commit fails (AH_EBUSY, nothing written). create_rev <= 0
 * clears it. AH_EINVAL for a ledger that is not etcd. */
int ah_ledger_etcd_fence(ah_ledger *l, const char *key, long long create_rev);
/* The etcd revision this handle's view was loaded or committed at. */
long long ah_ledger_etcd_revision(const ah_ledger *l);
/* Idempotency keys written from now on are put on etcd leases that end
 * no sooner than keep_ns after the write (one lease per quarter of
 * keep_ns, at most a minute, at least a second), so etcd deletes them
 * itself: the sweep (ah_ledger_idem_sweep) deletes 512 a call, fewer than
 * a busy cluster writes, and now only what is left of keys written
 * before. keep_ns <= 0: no leases. */
int ah_ledger_etcd_set_idem_keep(ah_ledger *l, int64_t keep_ns);
struct ah_etcd_watch;
/* Every load after this (ah_ledger_ops.load: the engine's reloads) reads
 * w's mirror of PREFIX/s/ (include/ahead/etcd_watch.h) instead of ranging
 * over PREFIX/s/ in etcd, when the mirror is at least at the revision of
 * head the handle knows (its view's, or what its transaction's begin read):
 * the same state at one revision, without the member's walk over every key
 * deleted since its last compaction. Otherwise, or with no mirror yet, the
 * load ranges as before. A commit's compare still checks whatever was
 * decided from it. w NULL detaches (before w is freed). */
int ah_ledger_etcd_watch_attach(ah_ledger *l, struct ah_etcd_watch *w);
/* The next load ranges in etcd whatever the mirror has: a read after a
 * write that went through another instance, which the watch may not have
 * delivered yet while the handle's idea of head is older still. */
void ah_ledger_etcd_load_fresh(ah_ledger *l);
/* What this instance publishes on its instance key (PREFIX/inst/NAME, on
 * its lease) for `ahead cluster status`: the revision its view is at, the
 * newest its watch reported, whether the watch is up, the last catch-up
 * lag. Kept, so a key granted again after a lapsed lease carries it too. */
typedef struct {
	long long view_rev, watch_rev, relists, lag_ms;
	bool watching, watch_up;
	/* its node's observed record (failure-aware placement, node.h):
	 * limit writes that failed on its allocation cgroups */
	long long enforce_errors;
	long long kills;          /* OOM kills in the node's allocation cgroups */
} ah_ledger_etcd_view;
int ah_ledger_etcd_publish(ah_ledger *l, const ah_ledger_etcd_view *v);
/* Keeps the instance's lease alive (at most every third of its TTL), or
 * grants it again when it lapsed: the daemon's timer calls it each second,
 * so an idle instance stays listed and no request waits on it. 0 when
 * nothing was due or it succeeded; a store error otherwise. */
int ah_ledger_etcd_keepalive(ah_ledger *l);

/* Keeps etcd's history short. Every commit leaves a revision behind, and
 * etcd keeps them all until compacted: at a few thousand answers a second
 * that fills etcd's 2 GiB backend quota within the hour (it then refuses
 * every write), and ranges over keys that were created and deleted slow
 * down meanwhile. So, like the Kubernetes API server, the daemon compacts:
 * called each second, this samples the view's revision and, at most every
 * every_ns, compacts etcd to the newest revision sampled at least keep_ns
 * ago. Nothing ahead reads needs that history: a watch resumed from a
 * compacted revision lists again. Several instances doing it is harmless
 * (a revision already compacted counts as done). Returns 1 when it
 * compacted (*out_rev, may be NULL: to what), 0 when nothing was due, or a
 * store error. */
#define AH_ETCD_HISTORY_KEEP_NS (INT64_C(60) * 1000000000)
#define AH_ETCD_HISTORY_EVERY_NS (INT64_C(30) * 1000000000)
int ah_ledger_etcd_history_step(ah_ledger *l, int64_t keep_ns, int64_t every_ns, long long *out_rev);

/* A key beside the ledger's state, PREFIX/rel (rel: "model/NAME"), for
 * what the instances share outside the ledger's transactions (the
 * published model state, docs/CLUSTER.md "One prediction"). Get: the value
 * (malloc'd, NUL-terminated) and its mod revision; AH_ENOENT when absent.
 * Put: a compare-and-set, written only while the key's mod revision is
 * still expect_rev (0: only while absent), else AH_EBUSY and nothing
 * written; *out_rev (may be NULL): the revision it was written at. */
int ah_ledger_etcd_aux_get(ah_ledger *l, const char *rel, char **out_val, size_t *out_len, long long *out_rev);
int ah_ledger_etcd_aux_put(ah_ledger *l, const char *rel, const char *val, size_t len, long long expect_rev,
			   long long *out_rev);

/* "etcd://HOST:PORT[,HOST:PORT...]/PREFIX" split into endpoints
 * ("http://HOST:PORT,...") and prefix ("/PREFIX", "/ahead" when empty).
 * AH_EINVAL when path is not such a URL. */
bool ah_ledger_etcd_url(const char *path);
int ah_ledger_etcd_url_parse(const char *path, char *endpoints, size_t elen, char *prefix, size_t plen);

#ifdef __cplusplus
}
#endif
#endif
