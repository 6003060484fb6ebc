/* ahead replay --into URL: a trace replayed into a live daemon in
 * accelerated time, through its HTTP API (cli/client.h).
 *
 * Rows come in time order (a merge of trace files, or the generator); the
 * rows of one time form one step, played at
 *     wall start + (t - first t) / speed.
 * Each workload of the trace (a series name) is one allocation: at its
 * first step POST /v1/allocations {tenant, pool, workload, resources = the
 * step's usage rounded up to the pool's unit}; at every later step POST
 * /v1/allocations/ID/usage with the step's usage (which renews the lease
 * and lets the daemon grow or shrink it). A refused request is asked again
 * at the workload's next step; a queued one reports once it is granted; an
 * allocation the daemon no longer has (404: expired, preempted) is asked
 * for again. At the end (or on SIGINT/SIGTERM) every allocation is
 * released (DELETE). Every write carries its own Idempotency-Key. */
#ifndef AHEAD_CLI_REPLAY_INTO_H
#define AHEAD_CLI_REPLAY_INTO_H

#include <stdbool.h>
#include <stdint.h>

#include "ahead/trace.h"
#include "cli/cli.h"
#include "cli/client.h"

typedef struct {
	ah_client_opts client; /* .server: the --into URL */
	const char *tenant;    /* NULL: the policy's first tenant */
	const char *pool;      /* NULL: the policy's first pool */
	const char *klass;     /* NULL: the policy's default class */
	double speed;          /* trace seconds per wall second */
	int64_t every_ns;      /* a summary line this often */
	bool loop;             /* at the end, play the source again (round 1, 2, ...) */
	ah_out_fmt out;        /* AH_OUT_JSON: the final summary as JSON on stdout, the rest on stderr */
} ah_replay_into_opts;

#define AH_REPLAY_INTO_SPEED 600.0 /* a day of samples in 2.4 minutes */

/* Opens the rows of round ROUND (0 first; >0 only with loop) as a merge
 * (owned by the caller of ah_replay_into, who frees the previous one).
 * Prints its error and returns an exit code, or 0. */
typedef int (*ah_replay_into_open_fn)(void *ctx, unsigned round, ah_trace_merge **out);

/* Runs the replay; returns the exit code (0 at the end of the source or
 * after SIGINT/SIGTERM; 2 a bad trace or option; 1 the daemon failed or
 * went away; the API's error exit codes for a systematic error answer,
 * e.g. 3 for a token it refuses, 2 for an unknown tenant). */
int ah_replay_into(const char *cmd, const ah_replay_into_opts *o, ah_replay_into_open_fn open_round, void *ctx);

#endif
