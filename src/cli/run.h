/* ahead run: the pieces cmd_run.c puts together (not a public header).
 *
 *   run_backend.c  the service or the daemon behind one interface: request,
 *                  wait in the queue, report usage, release, run events;
 *   run_cg.c       its cgroup (cli/run_cg.h, apart: the enforcer's
 *                  headers and the engine's do not mix);
 *   run_child.c    the command: fork, join its cgroup, exec, forward
 *                  signals, wait (stdio untouched: the child inherits it);
 *   run_state.c    the crash-recovery record of a run in progress (a
 *                  locked file beside the ledger), and the reconcile that
 *                  finds orphans: a record no live `ahead run` holds. */
#ifndef AHEAD_CLI_RUN_H
#define AHEAD_CLI_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "ahead/cgroup.h" /* AH_CG_V1_N; never enforce.h here: its AH_LIMIT_NONE is not the engine's */
#include "ahead/engine.h"
#include "ahead/policy.h"
#include "ahead/service.h"
#include "cli/client.h"

/* ---- backend ---- */

typedef struct {
	const char *cmd;              /* "run": message prefix */
	bool remote;
	/* local */
	ah_cli_ctx ctx;
	bool open;
	const char *db, *shadow_db;
	/* remote */
	ah_client *cl;
	ah_policy *rpol;
	bool unreachable;             /* the daemon gave no answer */
} run_backend;

/* Opens the ledger (local) or the client and the daemon's policy (remote).
 * Prints and returns an exit code, or 0. */
int run_be_open(run_backend *b, const char *db, const char *shadow_db, const ah_client_opts *co);
void run_be_close(run_backend *b);
/* The policy in force (local: the service's, reloaded when applied
 * elsewhere; remote: the daemon's at open). */
const ah_policy *run_be_policy(const run_backend *b);
/* Admission. 0 with *d (and *info when have_info), or an exit code
 * (printed). Remote: a connection that never answered sets b->unreachable. */
int run_be_request(run_backend *b, const ah_request *rq, ah_decision *d, ah_shadow_prediction_info *info,
		   bool *have_info);
/* A queued request: 1 granted (*res), 0 still queued (*position when
 * known, else 0), an exit code (printed) when it is gone (timed out). */
int run_be_poll(run_backend *b, uint64_t id, ah_vec *res, int *position);
/* Usage report (AH_USAGE_NONE where not measured): *o the new size. 0 or
 * a negative AH_E* (AH_ENOENT: the allocation is gone). */
int run_be_report(run_backend *b, uint64_t id, const ah_vec *usage, ah_adjust_outcome *o);
int run_be_release(run_backend *b, uint64_t id);
/* A run event (local ledgers; the daemon's API has none yet: a no-op). */
void run_be_event(run_backend *b, uint64_t id, const char *reason, const char *detail, const ah_vec *res);

/* ---- crash recovery ---- */

/* One run in progress as its record keeps it. */
typedef struct {
	uint64_t id;
	long pid;                     /* the ahead run that wrote it */
	int64_t started_ns;
	char workload[128];
	char v2[AH_SYSPATH_MAX];      /* the cgroup's paths ("" where none) */
	char v1[AH_CG_V1_N][AH_SYSPATH_MAX];
	char proc_root[AH_LINUX_ROOT_MAX], prefix[AH_LINUX_ROOT_MAX];
} run_record;

/* The directory of run records: beside the ledger (DB.runs), or
 * $AHEAD_RUN_DIR. */
void run_state_dir(const char *db, char *out, size_t len);
/* Writes the record (atomically: a locked temporary renamed), keeping it
 * locked while this process lives; *fd to close at the end. An exit code
 * (printed) or 0. */
int run_state_write(const char *dir, const run_record *r, int *fd);
/* Removes the record (the run ended cleanly). */
void run_state_remove(const char *dir, uint64_t id, int fd);
/* Finds the records no live ahead run holds and reconciles each: kills
 * what is left in its cgroup, reports its peak, records an "orphaned"
 * event, releases the reservation, removes the cgroup and the record.
 * *n how many; quiet: no message per orphan. 0 or an exit code. */
int run_reconcile(run_backend *b, const char *dir, bool quiet, int *n);

#endif
