/* ahead CLI as the daemon's client: the ledger commands given --server URL
 * (or $AHEAD_SERVER) talk to `ahead serve` over HTTP instead of opening the
 * ledger, and print what the local command prints, with its exit codes.
 *
 * One HTTP helper (libcurl): GET/POST/PUT/DELETE with the bearer token,
 * JSON in and out, timeouts, retries of a failed connection or a 503 with
 * backoff. Every write of one invocation carries the same Idempotency-Key
 * (random, or $AHEAD_IDEMPOTENCY_KEY), so a retry never allocates twice.
 * Decoders turn the API's objects back into the structs the local printers
 * take (docs/API.md, "The CLI as a client"). */
#ifndef AHEAD_CLI_CLIENT_H
#define AHEAD_CLI_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ahead/engine.h"
#include "ahead/policy.h"
#include "ahead/predictor_shadow.h"
#include "ahead/service.h"
#include "cli/cli.h"

/* Where the daemon is and who we are. */
typedef struct {
	const char *server;     /* --server URL */
	const char *token;      /* --token TOKEN */
	const char *token_file; /* --token-file FILE */
} ah_client_opts;

/* The three options of every command that can be a client, for its table. */
#define AH_CLIENT_OPTS(o)                                                                                  \
	AH_OPT("server", 0, AH_OPT_STRING, &(o)->server, .hint = "URL", .flags = AH_OPT_NONEMPTY),        \
		AH_OPT("token", 0, AH_OPT_STRING, &(o)->token, .hint = "TOKEN", .flags = AH_OPT_NONEMPTY), \
		AH_OPT("token-file", 0, AH_OPT_STRING, &(o)->token_file, .hint = "FILE", .flags = AH_OPT_NONEMPTY)

/* The usage lines the client options add to a command's --help. */
#define AH_CLIENT_USAGE                                                                                    \
	"      --server URL        talk to `ahead serve` at URL (default $AHEAD_SERVER) instead\n"           \
	"                          of opening the ledger; same output and exit codes\n"                      \
	"      --token TOKEN       bearer token (default: --token-file, else $AHEAD_TOKEN)\n"                \
	"      --token-file FILE   read the token from FILE\n"

typedef struct ah_client ah_client;

/* Is this invocation a client? --server, else $AHEAD_SERVER unless --db
 * names a local ledger (db_flag: the --db value, or NULL). Usage error
 * (printed, exit code returned through *ex) when --server and --db are
 * both given, or --token* without a server. */
bool ah_client_wanted(const char *cmd, const ah_client_opts *o, const char *db_flag, int *ex);

/* Connects nothing yet: resolves the URL and the token. Prints the error
 * and returns an exit code, or 0. */
int ah_client_open(const char *cmd, const ah_client_opts *o, ah_client **out);
void ah_client_free(ah_client *c);
const char *ah_client_cmd(const ah_client *c);
/* A fresh Idempotency-Key for the writes that follow (the first key with
 * "-N" added): for a command that makes many different writes (replay
 * --into); each one's retries still carry its own key. */
void ah_client_next_key(ah_client *c);
/* The Idempotency-Key the writes carry; a command that sends one logical
 * write as several requests (shadow import's chunks) gives each its own,
 * derived from it. AH_EINVAL: empty or longer than AH_IDEM_KEY_MAX. */
const char *ah_client_key(const ah_client *c);
int ah_client_set_key(ah_client *c, const char *key);

/* One call. method "GET", "POST", "PUT", "DELETE"; path from "/v1..."
 * (query included, already escaped); body borrowed (NULL: none). Writes
 * (anything but GET) carry the invocation's Idempotency-Key. A failed
 * connection or a 503 is retried (backoff 0.2 s, 0.4 s, 0.8 s ...) up to
 * the retry count with the same key. 0 with *status and *out (the decoded
 * JSON body, or NULL when the body is not JSON) after an answer; an exit
 * code (printed) when no answer came. */
int ah_client_call(ah_client *c, const char *method, const char *path, const json_t *body, long *status,
		   json_t **out);

/* Follows a Server-Sent Events watch: GET path_prefix + "since=N" and
 * fn(ctx, data) for each frame's data (a JSON text), N moved on to each
 * frame's id, so a dropped connection resumes where it was (retried with
 * backoff). Returns only on an error (printed: an exit code) or when fn
 * returns nonzero (0). */
int ah_client_watch(ah_client *c, const char *path_prefix, int64_t since, int (*fn)(void *ctx, const char *data),
		    void *ctx);

/* The exit code an error answer means (400/422 usage, 401/403/409/429
 * refused, 404 not found, else internal); prints its message as
 * "ahead CMD: message". */
int ah_client_fail(ah_client *c, long status, const json_t *body);

/* GET /v1/policy and load its text: the dimensions, units and classes the
 * printers need. Prints and returns an exit code, or 0 with *out. */
int ah_client_policy(ah_client *c, ah_policy **out);

/* A path segment or query value, percent-encoded (a string to free). */
char *ah_client_escape(const char *s);

/* Prints an API object as local -o json does: without the API's own
 * members (resourceVersion; a refused decision's "error"). A list's items
 * array when o is a list. */
void ah_client_print_json(json_t *o);

/* ---- decoders: the API's JSON back into the structs the printers take.
 * Strings are borrowed from the JSON object, which must outlive them. ---- */

/* An engine item from an allocation object (ls); res points into *res. */
int ah_client_decode_item(const ah_policy *pol, const json_t *o, ah_vec *res, char *params, size_t params_len,
			  ah_engine_item *out);
/* A decision (alloc) and what the prediction rested on; *have_info says
 * whether info is filled. */
int ah_client_decode_decision(const ah_policy *pol, const json_t *o, ah_decision *d,
			      ah_shadow_prediction_info *info, bool *have_info);
int ah_client_decode_renew(const json_t *o, ah_renew_outcome *out);
int ah_client_decode_report(const ah_policy *pol, const json_t *o, ah_adjust_outcome *out);
/* A pool (pool ls): capacity and used point into cap and used. */
int ah_client_decode_pool(const ah_policy *pol, const json_t *o, ah_vec *cap, ah_vec *used,
			  ah_engine_pool_info *out);
/* An event; resources printed into res (the ledger's text form). */
int ah_client_decode_event(const json_t *o, char *res, size_t res_len, char **data, ah_service_event *out);
/* A description (describe, ls -o wide): the item's strings borrowed from
 * o, its res pointing into *res. */
int ah_client_decode_description(const ah_policy *pol, const json_t *o, ah_vec *res, char *params,
				 size_t params_len, ah_service_description *out);
int ah_client_decode_recommendation(const ah_policy *pol, const json_t *o, ah_service_recommendation *out);

/* An RFC 3339 time member as ns; -1 for null or absent. */
int64_t ah_client_time(const json_t *o, const char *key);
/* Resources {"cpu": 2000, ...} into v (missing dimensions: dflt). */
void ah_client_vec(const ah_dimset *ds, const json_t *o, int64_t dflt, ah_vec *v);

#endif
