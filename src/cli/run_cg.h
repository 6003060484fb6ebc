/* ahead run: the command's cgroup and the command itself (run_cg.c,
 * run_child.c). Opaque and in plain numbers: the enforcer's headers
 * (enforce.h) and the engine's (sizer.h) each define AH_LIMIT_NONE, so no
 * file includes both; cmd_run.c sees neither's types here. */
#ifndef AHEAD_CLI_RUN_CG_H
#define AHEAD_CLI_RUN_CG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

typedef struct run_cg run_cg;

/* Finds the mounts (mountinfo under proc_root, mount points prefixed with
 * prefix) and our own cgroups, and makes and removes a probe cgroup: true
 * when cgroups can be made here, else why says why not. *out either way
 * (free with run_cg_free). */
bool run_cg_probe(const char *proc_root, const char *prefix, run_cg **out, char *why, size_t len);
void run_cg_free(run_cg *c); /* NULL-safe; ends the cgroup first (run_cg_end) */
/* Names the cgroup NAME under our own in v2 and each v1 controller. */
void run_cg_name(run_cg *c, const char *name);
/* Its paths relative to each mount ("" where none): v2, then v1 by
 * ah_cg_v1 order (AH_CG_V1_N of them), each cap bytes. */
void run_cg_paths(const run_cg *c, char *v2, char (*v1)[1024], size_t n_v1, size_t cap);
/* Makes it, keeps what it had (to restore), starts sampling it. */
int run_cg_create(run_cg *c, char *err, size_t len);

/* Limits in plain numbers; 0: not managed. */
typedef struct {
	uint64_t cpu_millicores;
	uint64_t mem_soft_bytes, mem_hard_bytes;
} run_want;

/* What the cgroup has a controller for (a limit elsewhere is not managed). */
bool run_cg_has_cpu(const run_cg *c);
bool run_cg_has_mem(const run_cg *c);

typedef struct {
	bool dry_run;
	uint64_t shrink_cap_bytes;
	double shrink_cap_frac;
	/* dry run: each write it would make */
	void (*log)(void *ctx, const char *path, const char *value);
	void *ctx;
} run_apply_opts;

/* Plans and writes want in the enforcer's safe order. AH_ENOENT: the
 * cgroup is gone; other AH_E* with err. */
int run_cg_apply(run_cg *c, const run_want *want, const run_apply_opts *o, char *err, size_t len);
/* Puts back what the cgroup had before ahead (on_stop = restore). */
int run_cg_restore(run_cg *c, const run_apply_opts *o, char *err, size_t len);
/* The hard memory limit applied, 0 when none. */
uint64_t run_cg_hard_bytes(const run_cg *c);

typedef struct {
	bool gone;                /* the cgroup vanished */
	double mem_bytes;         /* now; -1 unknown */
	double cpu_millicores;    /* over the last interval; -1 unknown */
	bool under_oom;           /* v1: a task paused at the hard limit */
	bool oom_known;           /* under_oom is read (v1 oom_control) */
	bool have_peak, have_cpu_ns;
	uint64_t peak_bytes;      /* the kernel's peak */
	uint64_t cpu_ns;          /* cpu time so far */
} run_sample;

int run_cg_sample(run_cg *c, int64_t mono_ns, int64_t wall_ns, run_sample *out);
/* A limit changed behind ahead's back: *what names it ("" when none). */
int run_cg_drift(run_cg *c, char *what, size_t len);
/* Kills everything in it; *n the most pids signalled in a round. */
int run_cg_kill(run_cg *c, size_t *n, char *err, size_t len);
/* Kills what is left, removes it (retrying while v1 frees its pages). */
int run_cg_end(run_cg *c, char *err, size_t len);

/* An orphan's cgroup (paths as run_cg_paths wrote them): its kernel peak
 * (0 unknown), what was left in it killed, removed. *gone when it was not
 * there any more. */
int run_cg_orphan(const char *proc_root, const char *prefix, const char *v2, char (*v1)[1024], size_t n_v1,
		  uint64_t *peak, size_t *killed, bool *gone, char *err, size_t len);

/* ---- the command ---- */

typedef struct {
	pid_t pid;
	int exec_errno;               /* 0, or why exec (or joining the cgroup) failed */
	bool join_failed;             /* the cgroup refused the child */
	char why[320];                /* the child's message when it failed */
} run_child;

/* Installs the forwarding handlers (SIGINT, SIGTERM, SIGHUP, SIGQUIT:
 * sent to ahead run by kill() they go on to the child; the terminal's own
 * reach the child directly, being in its process group) and the SIGCHLD
 * self-pipe; returns its read end, or -1. */
int run_signals_init(void);
/* The first termination signal ahead run got, 0 if none. */
int run_signals_got(void);
/* Forks and execs argv (PATH searched) after joining cg's cgroup (NULL:
 * unconfined). 0 when the command runs; else out->exec_errno and
 * out->why say why, the child reaped. */
int run_child_start(char **argv, run_cg *cg, run_child *out);
/* Waits at most timeout_ms (-1: forever) for the child: 1 with *status
 * and *ru when it ended, 0 when it runs on. */
int run_child_wait(run_child *c, int sigfd, int timeout_ms, int *status, struct rusage *ru);
/* In the child: joins the cgroup (cgroup.procs), err on failure. */
int run_cg_join_self(run_cg *c, char *err, size_t len);

#endif
