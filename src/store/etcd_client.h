/* ahead: a small client of etcd's v3 API (private to the store): POST a
 * JSON request to one of the endpoints' gateway, get the parsed answer
 * (keys and values travel base64-encoded; etcd's int64 fields come back as
 * JSON strings); or make a unary gRPC call (HTTP/2, protobuf), which the
 * ledger's commits use: etcd's gateway costs the member it reaches about
 * three times what the transaction itself does. One connection of each
 * kind, kept alive; on a connection failure or an "unavailable" answer the
 * next endpoint is tried, in turn; one that gave no answer at all is tried
 * last for the next 5 s. */
#ifndef AHEAD_STORE_ETCD_CLIENT_H
#define AHEAD_STORE_ETCD_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct etcd_client etcd_client;

/* endpoints: "http://h:p[,http://h:p...]"; timeout_ms bounds each request
 * (the connect step gets at most half of it). */
int etcd_client_new(const char *endpoints, long timeout_ms, etcd_client **out, char *err, size_t errlen);
void etcd_client_free(etcd_client *c);
/* POSTs req to path ("/v3/kv/range"); *out is the answer (caller decrefs).
 * AH_ESTORE when no endpoint answered or etcd refused (message names the
 * endpoint and etcd's words: etcd_client_errmsg). */
int etcd_call(etcd_client *c, const char *path, json_t *req, json_t **out);
/* A unary gRPC call: method "/etcdserverpb.KV/Txn", msg the serialised
 * request with gRPC's 5-byte prefix (flag 0, big-endian length) before it.
 * *ans, *ans_len: the answer's message, without the prefix, borrowed until
 * the next call on c. Errors as etcd_call, the message naming the gRPC
 * status and etcd's words. */
int etcd_call_grpc(etcd_client *c, const char *method, const void *msg, size_t len, const void **ans, size_t *ans_len);
/* A protobuf-c message packed after gRPC's 5-byte prefix, in a new buffer
 * (*len: its size). NULL: no memory, or a message over 4 GiB. */
struct ProtobufCMessage;
uint8_t *etcd_grpc_frame(const struct ProtobufCMessage *m, size_t *len);
/* One header or trailer line of a gRPC answer (p, n bytes): grpc-status
 * into *status, grpc-message (percent-decoded) into msg. Others ignored. */
void etcd_grpc_header(const char *p, size_t n, int *status, char *msg, size_t msglen);
const char *etcd_client_errmsg(const etcd_client *c);
/* Sets the message for a failure found past the call (an answer that does
 * not parse): "etcd ENDPOINT: msg". */
void etcd_client_set_errmsg(etcd_client *c, const char *msg);
/* The endpoint the last call went to. */
const char *etcd_client_endpoint(const etcd_client *c);
/* The endpoints as parsed ("http://HOST:PORT", no trailing '/'): how many,
 * and the i-th (a watch opens its own connection to them). */
int etcd_client_n_urls(const etcd_client *c);
const char *etcd_client_url(const etcd_client *c, int i);

/* Calls and the time spent in them, by kind: range, txn, put, lease, other. */
#define ETCD_CALL_KINDS 5
typedef struct {
	int64_t calls[ETCD_CALL_KINDS];
	int64_t ns[ETCD_CALL_KINDS];
	int64_t grpc;       /* calls made over gRPC (of any kind) */
	int64_t grpc_fresh; /* times its connections were dropped (a call that did not end on HTTP/2) */
} etcd_client_stats;
const etcd_client_stats *etcd_client_stats_get(const etcd_client *c);

/* ---- a transaction over gRPC (etcd_txn.c) ---- */
typedef struct {
	char *key, *end;  /* end: a range delete's range_end, else NULL */
	char *val;        /* NULL: delete */
	size_t vlen;
	int64_t lease;    /* a put's etcd lease (0: none) */
} etcd_op;
/* One compare, always "equal": key's version, create or mod revision. */
enum { ETCD_CMP_VERSION, ETCD_CMP_CREATE, ETCD_CMP_MOD };
typedef struct {
	const char *key;
	int target;
	int64_t value;
} etcd_cmp;
typedef struct {
	const etcd_cmp *cmp;
	int n_cmp;
	const etcd_op *ops; /* on success: puts and deletes */
	int n_ops;
	const char *fail_from, *fail_to; /* on failure: this range read (NULL: none) */
} etcd_txn_req;
/* The transaction (KV/Txn over gRPC); *out is its answer in the gateway's
 * JSON shape, so callers read either alike: {"header":{"revision"},
 * "succeeded", and when it failed "responses":[{"response_range":{"kvs":
 * [{"key","value" (base64), "create_revision","mod_revision","version",
 * "lease"}],"count"}}]}. A successful txn's per-op answers are left out. */
int etcd_txn(etcd_client *c, const etcd_txn_req *t, json_t **out);

/* Base64 of n bytes, as a new JSON string (NULL: no memory). */
json_t *etcd_b64(const void *data, size_t n);
json_t *etcd_b64s(const char *s);
/* Base64 of n bytes written to o (etcd_b64_len(n) + 1 bytes, NUL-ended);
 * returns the length. */
#define etcd_b64_len(n) (4 * (((size_t)(n) + 2) / 3))
size_t etcd_b64_into(const void *data, size_t n, char *o);
/* Decodes base64 text into a new NUL-terminated buffer (*out_n bytes
 * before the NUL). AH_EPARSE on bad text. */
int etcd_unb64(const char *s, char **out, size_t *out_n);
/* An int64 field that etcd sends as a string (or a number); 0 when absent. */
int64_t etcd_i64(const json_t *obj, const char *field);
/* The answer's header.revision. */
int64_t etcd_revision(const json_t *resp);

/* A key range for a prefix: the prefix with its last byte plus one. */
void etcd_prefix_end(const char *prefix, char *out, size_t outlen);

#endif
