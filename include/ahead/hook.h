/* ahead: running scale hooks — external commands that create or remove
 * capacity (e.g. start a VM, resize a node pool).
 *
 * A hook runs as `COMMAND POOL DIMENSION FROM TO` (no shell). A job never
 * blocks its caller: ah_hook_job_poll() is called from the caller's loop with
 * the current time, reaps the child without waiting, kills it at its timeout,
 * and retries a failure after an exponential backoff, up to max_attempts.
 * Exit status and (capped) output of the last attempt are kept for the
 * ledger. POSIX platform code: it forks, so it lives outside src/core. */
#ifndef AHEAD_HOOK_H
#define AHEAD_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ahead/limits.h"

#ifdef __cplusplus
extern "C" {
#endif

/* AH_HOOK_OUTPUT_MAX, bytes of output kept per attempt: limits.h. */

typedef struct {
	int64_t timeout_ns;       /* per attempt; default 60 s */
	int max_attempts;         /* default 5 */
	int64_t backoff_ns;       /* wait before the 2nd attempt; default 1 s */
	double backoff_factor;    /* default 2 */
	int64_t backoff_max_ns;   /* default 5 min */
} ah_hook_opts;

typedef enum {
	AH_HOOK_RUNNING = 0,  /* an attempt is running */
	AH_HOOK_WAITING,      /* between attempts (backoff) */
	AH_HOOK_SUCCEEDED,    /* an attempt exited 0 */
	AH_HOOK_FAILED        /* every attempt failed */
} ah_hook_state;

typedef struct ah_hook_job ah_hook_job;

void ah_hook_opts_init(ah_hook_opts *o);

/* Starts the first attempt at now_ns. argv[0] is the command (a path, or a
 * name looked up in PATH); argv is NULL-terminated and copied. */
int ah_hook_job_new(char *const argv[], const ah_hook_opts *opts, int64_t now_ns, ah_hook_job **out);
/* Advances the job; never blocks. Returns the current state. */
ah_hook_state ah_hook_job_poll(ah_hook_job *j, int64_t now_ns);
int ah_hook_job_attempts(const ah_hook_job *j);
/* Last attempt: exit status (-1 if killed by a signal or timed out). */
int ah_hook_job_exit_status(const ah_hook_job *j);
bool ah_hook_job_timed_out(const ah_hook_job *j);
/* Output (stdout and stderr) of the last finished attempt, NUL-terminated. */
const char *ah_hook_job_output(const ah_hook_job *j);
/* Kills a running attempt and frees the job (NULL-safe). */
void ah_hook_job_free(ah_hook_job *j);

#ifdef __cplusplus
}
#endif
#endif
