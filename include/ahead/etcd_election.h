/* ahead: one elected holder of a role among the instances on an etcd
 * ledger (the pool shaper, docs/CLUSTER.md "One shaper").
 *
 * The election key PREFIX/NAME is created, with this holder's lease, by a
 * transaction that compares its create revision with 0 (no key): the first
 * holder wins, the others see who holds it. The key's create revision is
 * the fencing token: the holder sets it on its ledger handle
 * (ah_ledger_etcd_fence), so each of its transactions is refused once the
 * key is gone or held by another. The lease is kept alive at each step;
 * if it lapsed (the holder was cut off or paused longer than the TTL),
 * etcd deleted the key and someone else may hold it now: the step says
 * so, and the old token fails every commit it is set on. Never a lock by
 * itself: correctness is the fence compare in the ledger's transactions. */
#ifndef AHEAD_ETCD_ELECTION_H
#define AHEAD_ETCD_ELECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ah_election ah_election;

typedef struct {
	bool mine;               /* this instance holds the key now */
	long long token;         /* the key's create revision (0: nobody holds it) */
	char holder[128];        /* the holder's name ("" when nobody) */
} ah_election_state;

/* endpoints "http://HOST:PORT,..."; key relative to prefix ("shaper");
 * name: this instance (HOST-PID when NULL); ttl_s: the lease (>= 2). */
int ah_election_new(const char *endpoints, const char *prefix, const char *key, const char *name, int ttl_s,
		    long timeout_ms, ah_election **out, char *err, size_t errlen);
/* Frees; with resign, deletes the key first when held (another instance
 * takes over at once instead of after the TTL). NULL-safe. */
void ah_election_free(ah_election *e, bool resign);
/* Keeps the lease alive, campaigns when the key is free, and says who
 * holds it. AH_ESTORE when etcd does not answer (then not mine). */
int ah_election_step(ah_election *e, ah_election_state *out);
const char *ah_election_errmsg(const ah_election *e);
const char *ah_election_key(const ah_election *e); /* relative, as given */

#ifdef __cplusplus
}
#endif
#endif
