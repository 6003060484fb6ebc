/* ahead: what the API keeps in the ledger — its tokens, its audit log, its
 * idempotency keys — and the two views of the event log a watch needs
 * (compaction bounds, per-allocation versions).
 *
 * They live in the ledger, beside the allocations, so a record commits in
 * the same transaction as the allocation it belongs to (an idempotency key
 * with the grant it answered), and any store that keeps a ledger keeps them
 * too. The store keeps bytes: hashing secrets and requests (SHA-256) is the
 * server's. Every function returns 0 or a negative AH_E*; a store without
 * the operation returns AH_EUNSUPPORTED. Writes join the open transaction
 * (begin/commit of ledger.h) when there is one, else run in their own.
 * Callbacks get rows whose strings are borrowed for the call; a non-zero
 * return of a callback stops the walk and is returned. Caps in limits.h. */
#ifndef AHEAD_API_RECORDS_H
#define AHEAD_API_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "ahead/ledger.h"
#include "ahead/limits.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- roles --------------------------------------------------------------- */

typedef enum {
	AH_ROLE_VIEWER = 0, /* reads */
	AH_ROLE_TENANT,     /* allocates as its one tenant */
	AH_ROLE_OPERATOR,   /* any tenant, scaling, policy reads */
	AH_ROLE_ADMIN,      /* everything, tokens included */
	AH_ROLE__COUNT
} ah_role;

/* "viewer", "tenant", "operator", "admin"; "unknown" for anything else. */
const char *ah_role_name(ah_role r);
/* The inverse (exact, lower case); AH_EINVAL for any other text. */
int ah_role_parse(const char *s, ah_role *out);

/* ---- tokens -------------------------------------------------------------- */

typedef struct ah_token_row {
	char id[AH_TOKEN_ID_MAX];   /* public id, e.g. "tk-" + 16 hex, chosen by the caller */
	char name[AH_NAME_MAX];     /* label, the token's identity across rotation */
	ah_role role;
	char tenant[AH_NAME_MAX];   /* role tenant only (required then), else "" */
	uint8_t hash[32];           /* SHA-256 of the secret */
	int64_t created_ns;
	int64_t expires_ns;         /* 0: never */
	int64_t revoked_ns;         /* 0: live */
	char rotated_from[AH_TOKEN_ID_MAX]; /* id of the token this one replaced, or "" */
} ah_token_row;

/* Inserts, or replaces the token of the same id, and bumps the token
 * generation. id, name (names.h object grammar) and tenant are checked. */
int ah_ledger_token_put(ah_ledger *l, const ah_token_row *t);
/* Visits every token, revoked and expired ones too, by created_ns (then id). */
int ah_ledger_token_list(ah_ledger *l, int (*fn)(void *ctx, const ah_token_row *t), void *ctx);
/* 0 before the first put, then +1 per put (by any process). Cheap: a daemon
 * polls it to notice tokens changed by `ahead token` in another process. */
int ah_ledger_token_generation(ah_ledger *l, uint64_t *out_gen);

/* ---- audit log (append-only) ---------------------------------------------- */

typedef struct ah_audit_row {
	int64_t seq;            /* set by the store (ignored by put) */
	int64_t t_ns;
	const char *who;        /* token id, "-" unauthenticated, "local" for the CLI; required */
	const char *name, *role, *tenant;
	const char *source;     /* "127.0.0.1:5555" */
	const char *method, *path;
	int status;             /* HTTP status */
	const char *outcome;    /* "granted", "refused", an error code */
	const char *detail;
} ah_audit_row;

/* Appends a row. NULL strings are stored as "". who, name, role, tenant,
 * source, method and outcome over their caps are refused (AH_ETOOBIG);
 * path and detail are cut at theirs (on a UTF-8 boundary): the record of
 * a request is never lost to its length. The SQLite store refuses UPDATE
 * and DELETE on the table itself (triggers). */
int ah_ledger_audit_put(ah_ledger *l, const ah_audit_row *r);

/* Which rows to visit; zero-initialised means all of them. */
typedef struct ah_audit_query {
	int64_t after_seq;      /* seq > after_seq */
	int64_t since_ns;       /* t_ns >= since_ns; 0: any */
	int limit;              /* at most this many; <= 0: no limit */
	const char *who;        /* this who only; NULL: any */
} ah_audit_query;

/* Visits the rows q selects (NULL: all), oldest (lowest seq) first. The
 * memory store keeps only its newest rows. */
int ah_ledger_audit_list(ah_ledger *l, const ah_audit_query *q, int (*fn)(void *ctx, const ah_audit_row *r),
			 void *ctx);

/* ---- idempotency keys ------------------------------------------------------ */

typedef struct ah_idem_row {
	const char *scope;      /* opaque, chosen by the server (the token's name); <= AH_NAME_MAX - 1 bytes */
	const char *key;        /* 1..AH_IDEM_KEY_MAX bytes */
	uint8_t req_hash[32];   /* of method, path, body */
	int status;             /* the response's HTTP status */
	const char *body;       /* the response JSON; <= AH_IDEM_BODY_MAX bytes */
	int64_t t_ns;
} ah_idem_row;

/* Visits the row of (scope, key); AH_ENOENT when there is none. */
int ah_ledger_idem_get(ah_ledger *l, const char *scope, const char *key, int (*fn)(void *ctx, const ah_idem_row *r),
		       void *ctx);
/* Stores a row, in the open transaction (so it commits, or vanishes, with
 * the answer it records); AH_EEXIST (the transaction unharmed) when
 * (scope, key) already has one. */
int ah_ledger_idem_put(ah_ledger *l, const ah_idem_row *r);
/* Drops the rows with t_ns < before_ns; *out_n (may be NULL) is how many. */
int ah_ledger_idem_sweep(ah_ledger *l, int64_t before_ns, size_t *out_n);

/* ---- the event log, for watches ---------------------------------------------- */

/* Drops the oldest events, up to the first one at or after before_ns, but
 * keeps at least the newest keep_min (>= 0). Always a prefix: the log from
 * the first held seq on is whole. *out_n (may be NULL): events dropped. */
int ah_ledger_events_compact(ah_ledger *l, int64_t before_ns, int64_t keep_min, size_t *out_n);
/* The held events are seq first..last; a seq < first was compacted away.
 * last is the newest seq ever written, and survives compaction: when every
 * event was dropped, first = last + 1. (0, 0) for a log never written. */
int ah_ledger_events_bounds(ah_ledger *l, int64_t *out_first_seq, int64_t *out_last_seq);
/* Visits every live allocation and queued request, by id, with the seq of
 * its newest event (0 when its events were compacted away): the API's
 * resourceVersion. */
int ah_ledger_alloc_versions(ah_ledger *l, int (*fn)(void *ctx, uint64_t id, int64_t last_seq), void *ctx);

#ifdef __cplusplus
}
#endif
#endif
