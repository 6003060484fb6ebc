/* Forwarding writes to the cluster's writer (docs/CLUSTER.md, "One
 * writer"). Private to the server.
 *
 * Instances of one etcd ledger that advertise a URL elect one writer; the
 * others send it their allocation writes as they came (method, path,
 * query, Authorization, Idempotency-Key, body) and relay its answers, so
 * one instance's batches carry every client's writes and no commit is
 * refused by another instance's. It is an optimisation only: every commit
 * still compares the ledger's head, so a stale idea of who writes (or two
 * writers for a while) is safe.
 *
 * One thread with a libcurl multi handle does the transfers (kept-alive
 * connections to the writer): every item in hand goes in one relay
 * (src/server/relay.h), up to AH_RELAY_FLYING_MAX relays at a time. The
 * daemon's loop hands it items and takes finished ones when fwd_fd() is
 * readable. The loop never blocks on it. */
#ifndef AHEAD_SERVER_FORWARD_H
#define AHEAD_SERVER_FORWARD_H

#include <stdbool.h>
#include <stddef.h>

#include "ahead/api.h"

typedef struct fwd fwd;

typedef struct fwd_item {
	void *ctx;                   /* the caller's (its connection) */
	char method[16];
	char *base;                  /* owned: the writer's URL */
	char *path;                  /* owned: "/v1/allocations/12", no query */
	int n_args;                  /* the query, owned; aval NULL: the key alone */
	char *akey[AH_API_MAX_ARGS], *aval[AH_API_MAX_ARGS];
	char *auth, *idem, *ctype;   /* owned header values, or NULL */
	char *body;                  /* owned, or NULL */
	size_t body_len;
	/* the outcome */
	int status;                  /* the writer's HTTP status; 0: no answer */
	bool sent;                   /* false: the writer was never reached (nothing of it can have happened) */
	char *rbody;                 /* owned: the answer's body */
	size_t rbody_len;
	int retry_after_s;
	char err[160];               /* when status is 0 */
	struct fwd_item *next;
} fwd_item;

/* timeout_ms bounds one forwarded request, from its start to its answer. */
int fwd_new(long timeout_ms, fwd **out);
/* Readable when finished items wait for fwd_take. */
int fwd_fd(const fwd *f);
/* Takes the item (freed with fwd_item_free by whoever takes it back). */
int fwd_submit(fwd *f, fwd_item *it);
/* The finished items, oldest first (NULL: none); clears the descriptor. */
fwd_item *fwd_take(fwd *f);
void fwd_item_free(fwd_item *it);
/* Stops the thread; every item not yet taken (in flight or finished) goes
 * to drop, which owns it then. NULL-safe. */
void fwd_free(fwd *f, void (*drop)(fwd_item *it, void *ctx), void *ctx);

#endif
