/* ahead: an instance's view of an etcd ledger kept in step by a watch
 * (docs/CLUSTER.md "Watches").
 *
 * Every commit rewrites PREFIX/s/head, so the head's changes tell an
 * instance of every commit any instance made, in order, with its revision.
 * A thread holds a gRPC Watch stream on PREFIX/s/ open (resumed from the
 * last revision it saw + 1 after a dropped connection, on the next
 * member); the owner polls a file descriptor and takes the newest head
 * revision, then reloads its view when that is newer than the view's.
 * The thread also keeps a mirror of PREFIX/s/ (one Range, then every
 * change after it, in order), which the ledger's loads read instead of
 * ranging in etcd (ah_ledger_etcd_watch_attach). When etcd has compacted
 * the history the stream would resume from, the watch says "relist": the
 * owner reloads in full, the mirror is read again, and the stream starts
 * again at the compact revision (the oldest etcd keeps, so nothing after
 * the full load is missed). The watch decides nothing: a commit's own
 * compare is still the only check; the watch only shortens how long a
 * view stays behind, and what catching up costs. */
#ifndef AHEAD_ETCD_WATCH_H
#define AHEAD_ETCD_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ah_etcd_watch ah_etcd_watch;

typedef struct {
	long long rev;            /* newest head revision reported (0: none yet) */
	bool relist;              /* history was compacted: reload in full (cleared by take) */
	bool up;                  /* the stream is open and etcd confirmed it */
	long long compact_rev;    /* the compact revision etcd named at the last relist */
	long long events;         /* head changes reported */
	long long relists;        /* compactions met */
	long long reconnects;     /* streams opened again after the first */
	long long bases;          /* times the mirror of PREFIX/s/ was read whole */
	int64_t event_mono_ns;    /* CLOCK_MONOTONIC when rev arrived (0: never) */
	char endpoint[128];       /* the member the stream is on */
	char err[512];            /* why the stream last dropped ("" when it never did) */
} ah_etcd_watch_state;

/* Starts watching PREFIX/s/ after revision after_rev (0: from now).
 * endpoints "http://HOST:PORT,..."; the thread tries each in turn. */
int ah_etcd_watch_new(const char *endpoints, const char *prefix, long long after_rev, ah_etcd_watch **out,
		      char *err, size_t errlen);
/* Stops the thread (within about a second: libcurl's progress call) and
 * frees. NULL-safe. */
void ah_etcd_watch_free(ah_etcd_watch *w);
/* Readable when the state changed (take drains it). */
int ah_etcd_watch_fd(const ah_etcd_watch *w);
/* The state now; clears relist. */
void ah_etcd_watch_take(ah_etcd_watch *w, ah_etcd_watch_state *out);
/* Puts back a relist that take cleared (the owner could not act on it yet). */
void ah_etcd_watch_keep(ah_etcd_watch *w, const ah_etcd_watch_state *st);
/* Drops the stream and opens it again on the next member, after after_rev
 * (a stream that stopped delivering: a paused member keeps its socket). */
void ah_etcd_watch_restart(ah_etcd_watch *w, long long after_rev);

#ifdef __cplusplus
}
#endif
#endif
