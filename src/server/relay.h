/* A forwarder's relay (docs/CLUSTER.md, "One writer"): many forwarded
 * requests in one HTTP request to the writer, and their answers in one
 * answer. Private to the server.
 *
 * Forwarded one HTTP request each, a forwarder's writes cost the writer a
 * connection's reads, parse and answer each (about a third of its CPU in
 * bench/run cluster, where two thirds of the writes are forwarded). A
 * relay carries every request the forwarder has in hand as one body:
 *
 *   AHEAD-RELAY 1 N\n
 *   then N times: METHOD NARGS LPATH LAUTH LIDEM LCTYPE LBODY [LKEY LVAL]...\n
 *                 PATH AUTH IDEM CTYPE BODY [KEY VAL]...
 *
 * Every L is a decimal byte count of the field that follows in that order;
 * -1 is an absent header (or a query key with no value). The answer is
 *
 *   AHEAD-RELAY 1 N\n
 *   then N times: STATUS RETRY_AFTER_S LBODY\nBODY
 *
 * in the requests' order. Lengths, not escapes: bodies and headers go as
 * they came, and a truncated or overlong frame is refused as a whole. */
#ifndef AHEAD_SERVER_RELAY_H
#define AHEAD_SERVER_RELAY_H

#include <stdbool.h>
#include <stddef.h>

#include "ahead/api.h"

#define RELAY_PATH "/v1/internal/relay"
#define RELAY_CONTENT_TYPE "application/x-ahead-relay"

typedef struct relay_req {
	const char *method, *path;
	int n_args;
	const char *key[AH_API_MAX_ARGS], *val[AH_API_MAX_ARGS]; /* val NULL: the key alone */
	const char *auth, *idem, *ctype;                         /* NULL: absent */
	const char *body;                                        /* NULL when body_len is 0 */
	size_t body_len;
} relay_req;

typedef struct relay_buf {
	char *p;
	size_t len, cap;
} relay_buf;

typedef struct relay_answer {
	int status, retry_after_s;
	const char *body; /* into the parsed text */
	size_t body_len;
} relay_answer;

void relay_buf_fini(relay_buf *b);
/* The frame's first line, for n requests or answers. */
int relay_put_head(relay_buf *b, int n);
/* n bytes as they are (the frame's items after its head). */
int relay_put_bytes(relay_buf *b, const void *p, size_t n);
int relay_put_req(relay_buf *b, const relay_req *r);
int relay_put_answer(relay_buf *b, int status, int retry_after_s, const char *body, size_t len);

/* The requests of a relay's body; every string NUL-terminated in *arena
 * (the caller frees it, and *out). A bad frame: AH_EINVAL and why. */
int relay_parse_reqs(const char *p, size_t len, relay_req **out, int *out_n, char **arena, char *err, size_t errlen);
/* The n answers of a relay's answer (bodies point into p). */
int relay_parse_answers(const char *p, size_t len, int n, relay_answer *out, char *err, size_t errlen);

#endif
