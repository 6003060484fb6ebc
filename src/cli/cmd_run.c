/* ahead run: any command, sized from its past runs, reserved, confined to
 * a cgroup of its own, watched, resized and learned from.
 *
 *   workload key   --name (default: the command's basename) and --param's;
 *   prediction     the service's: the request-conditioned model over the
 *                  workload's ended runs, else its usage series; with no
 *                  history at all, the class's run_default;
 *   reservation    admission as for `ahead alloc` (waits in the queue,
 *                  showing its position; --no-wait refuses instead);
 *   the cgroup     ahead-run-ID under ahead run's own cgroup in v2 and in
 *                  each v1 controller (cpu, cpuacct, memory, blkio) there
 *                  is: cpu at the reservation, memory soft at it and hard
 *                  run_hard_margin above (v1: oom_kill_disable, so the
 *                  command pauses at the hard level rather than dying);
 *   while it runs  sampled every --interval: near its memory reservation
 *                  (or paused at the hard level) it is reported, and the
 *                  sizer grows the reservation if the pool has room, the
 *                  limits following; at the hard level with no room it is
 *                  killed and the kill recorded (a "run" event);
 *   at the end     peak and mean usage reported into its request record,
 *                  the reservation released (the record becomes a training
 *                  example), the cgroup removed, one line to stderr:
 *                  predicted vs actual per dimension.
 * The command's stdin, stdout and stderr are ahead run's, untouched; its
 * exit status is ahead run's (128+N when signal N ended it); SIGINT,
 * SIGTERM, SIGHUP and SIGQUIT sent to ahead run go on to it. A command
 * that leaves processes behind in its cgroup has them killed when it
 * exits: their reservation ends with it.
 * A crash of ahead run itself leaves a run record (cli/run_state.c); the
 * next ahead run, or ahead run --reconcile, cleans up after it. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ahead/alloc_cgroup.h"
#include "ahead/error.h"
#include "ahead/names.h"
#include "ahead/service.h"
#include "ahead/usage.h"
#include "cli/cli.h"
#include "cli/params.h"
#include "cli/client.h"
#include "cli/opts.h"
#include "cli/run.h"
#include "cli/run_cg.h"

#define MS (INT64_C(1000000))
#define SEC (INT64_C(1000000000))
#define MiB ((uint64_t)1 << 20)

static void run_usage(FILE *f)
{
	fprintf(f,
		"usage: ahead run [options] -- CMD [ARGS...]\n"
		"       ahead run --reconcile [--db PATH]\n\n"
		"Runs CMD sized from its past runs: predicts what it will use (from the runs\n"
		"of the same name and parameters; the class's run_default the first time),\n"
		"reserves that (waiting in the queue if the pool is full), runs it in a cgroup\n"
		"with those limits, grows its memory while the pool has room, and learns from\n"
		"the run. stdin, stdout, stderr and the exit status are the command's (128+N\n"
		"for signal N); SIGINT/SIGTERM/SIGHUP/SIGQUIT sent to ahead run go on to it.\n"
		"At the end one line on stderr: predicted vs actual per dimension.\n\n"
		"  -n, --name N            workload name (default: the command's basename)\n"
		"  -P, --param KEY=VALUE   a parameter of this run, part of its key (repeatable)\n"
		"      --params K=V,...    several at once\n"
		"  -c, --class C           priority class (default: the policy's default_class)\n"
		"  -p, --pool P            pool (default: the policy's first)\n"
		"  -t, --tenant T          tenant (default $AHEAD_TENANT, else $USER)\n"
		"      --no-wait           refuse (exit 3) instead of waiting in the queue\n"
		"  -q, --quiet             no predicted-vs-actual line, no notes\n"
		"      --allow-unconfined  without root or a writable cgroup hierarchy, run the\n"
		"                          command anyway, unconfined (else exit 3)\n"
		"  -i, --interval D        sampling interval (default 1s, at least 100ms)\n"
		"      --reconcile         clean up after ahead runs that were killed: release\n"
		"                          their reservations, remove their cgroups (every run\n"
		"                          does this first); with no command, only that\n"
		"      --db PATH           ledger database (default $AHEAD_DB, else ./ahead.db)\n"
		"      --shadow-db PATH    shadow store (default: beside the database)\n" AH_CLIENT_USAGE
		"\nExit: the command's status; 127 command not found, 126 not executable;\n"
		"2 usage, 3 refused (by admission, or no cgroups without --allow-unconfined).\n");
}

/* ---- options ---- */

/* ---- helpers ---- */

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

/* The workload name a command gets: its basename, with what the workload
 * grammar does not take made '_'. */
static void default_name(const char *arg0, char *out, size_t len)
{
	const char *b = strrchr(arg0, '/');
	b = b && b[1] ? b + 1 : arg0;
	size_t w = 0;
	for (; *b && w + 1 < len && w < 100; b++) {
		char c = *b;
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			  strchr("_.:@+-", c);
		out[w++] = ok ? c : '_';
	}
	out[w] = '\0';
	if (!w || ah_name_check_workload(out) < 0)
		snprintf(out, len, "cmd");
}

/* One value for people, in its dimension's unit. */
static void fmt_val(const ah_policy *pol, int d, double v, char *buf, size_t len)
{
	if (v < 0 || !isfinite(v)) {
		snprintf(buf, len, "?");
		return;
	}
	if (ah_unit_format_human(pol->dims.kind[d], (int64_t)llround(v), buf, len) < 0)
		snprintf(buf, len, "%.0f", v);
}

/* What a run keeps of its usage. */
typedef struct {
	size_t n_mem, n_cpu;
	double sum_mem, sum_cpu;
	double max_mem, max_cpu;
	uint64_t kernel_peak;      /* the cgroup's own peak (v1 max_usage_in_bytes, v2 memory.peak) */
	uint64_t cpu_ns;           /* the cgroup's cpu time */
	bool have_cpu_ns;
} usage_acc;

/* ---- the run ---- */

typedef struct {
	const char *cmd;
	run_backend be;
	const ah_policy *pol;
	int d_cpu, d_mem;
	/* the request */
	char workload[128];
	const char *tenant, *pool, *klass;
	char pool_buf[AH_NAME_MAX];  /* the default pool's name (the policy may be reloaded) */
	ah_cli_params params;
	bool no_wait, quiet, allow_unconfined;
	int64_t interval_ns;
	char **argv;
	/* the reservation */
	uint64_t id;
	ah_vec res, predicted;
	bool have_prediction, used_default;
	ah_shadow_prediction_info info;
	bool have_info;
	/* confinement */
	bool confined;
	ah_enforce_mode mode;      /* on, dry-run, off (the switch) */
	run_cg *cg;
	bool cg_made, cg_gone;
	run_apply_opts aopts;
	/* crash recovery */
	char state_dir[AH_SYSPATH_MAX];
	int state_fd;
	/* outcome */
	bool killed;
	char kill_why[256];
	usage_acc use;
} run_ctx;

/* Can we make cgroups here? (a probe made and removed at once) */
static bool cgroups_writable(run_ctx *r, const ah_linux_policy *lp, char *why, size_t len)
{
	run_cg_free(r->cg);
	r->cg = NULL;
	return run_cg_probe(lp->proc_root, lp->cgroup_prefix, &r->cg, why, len);
}

/* The limits a reservation gives: cpu at it, memory soft at it and hard
 * run_hard_margin above (page-aligned); a dimension the reservation
 * leaves at 0 is not managed. */
static void limits_for(const run_ctx *r, const ah_vec *res, run_want *w)
{
	/* the daemon's cgroups use the same mapping (src/linux/alloc_cgroup.c) */
	ah_acg_limits l;
	ah_acg_limits_of(&r->pol->dims, res, r->pol->linux_host.run_hard_margin, &l);
	w->cpu_millicores = l.cpu_millicores;
	w->mem_soft_bytes = l.mem_high_bytes;
	w->mem_hard_bytes = l.mem_max_bytes;
}

static const char *mode_name(ah_enforce_mode m)
{
	return m == AH_ENFORCE_DRY_RUN ? "dry-run" : m == AH_ENFORCE_OFF ? "off" : "on";
}

static void log_write(void *ctx, const char *path, const char *value)
{
	const run_ctx *r = ctx;
	if (!r->quiet)
		ah_cli_err(r->cmd, "dry-run: would write %s = %s", path, value);
}

static void cgroup_vanished(run_ctx *r, const char *err)
{
	if (r->cg_gone)
		return;
	r->cg_gone = true;
	if (!r->quiet)
		ah_cli_err(r->cmd, "warning: the cgroup vanished%s%s%s; the command runs on, unconfined and unsampled",
			   err && *err ? " (" : "", err ? err : "", err && *err ? ")" : "");
	run_be_event(&r->be, r->id, "cgroup-gone", "the run's cgroup was removed behind ahead's back", NULL);
}

/* Writes the limits of res (in the enforcer's safe order); in dry-run
 * says what it would write; with enforcement off writes nothing. */
static int enforce(run_ctx *r, const ah_vec *res)
{
	if (!r->confined || r->cg_gone || r->mode == AH_ENFORCE_OFF)
		return 0;
	run_want w;
	limits_for(r, res, &w);
	char err[1024] = "";
	r->aopts.dry_run = r->mode == AH_ENFORCE_DRY_RUN;
	r->aopts.log = log_write;
	r->aopts.ctx = r;
	int rc = run_cg_apply(r->cg, &w, &r->aopts, err, sizeof err);
	if (rc == AH_ENOENT) {
		cgroup_vanished(r, err);
		rc = 0;
	} else if (rc < 0 && !r->quiet) {
		ah_cli_err(r->cmd, "warning: limits not applied (%s): %s", ah_strerror(rc), err);
	}
	return rc;
}

static int64_t vclamp(double v)
{
	return v <= 0 ? 0 : v >= (double)AH_VALUE_MAX ? AH_VALUE_MAX : (int64_t)llround(v);
}

/* The policy in force now (a local ledger's, applied by anyone): the stop
 * switch and dry-run take effect within one interval. */
static void follow_policy(run_ctx *r)
{
	if (r->be.remote || !r->be.open)
		return;
	if (ah_service_sync(r->be.ctx.svc, ah_cli_now_ns()) < 0)
		return;
	const ah_policy *pol = run_be_policy(&r->be);
	if (pol) {
		r->pol = pol;
		ah_enforce_mode m = pol->linux_host.enforce;
		int k = r->klass ? ah_policy_find_class(pol, r->klass) : pol->default_class;
		if (m != AH_ENFORCE_OFF && k >= 0 && pol->classes[k].enforce != AH_ENFORCE_INHERIT)
			m = (ah_enforce_mode)pol->classes[k].enforce;
		if (m != r->mode) {
			if (!r->quiet)
				ah_cli_err(r->cmd, "enforcement %s -> %s (policy)%s", mode_name(r->mode), mode_name(m),
					   m == AH_ENFORCE_OFF
						   ? (pol->linux_host.on_stop == AH_ON_STOP_RESTORE ? "; limits restored"
												     : "; limits left as they are")
						   : "");
			if (m == AH_ENFORCE_OFF && pol->linux_host.on_stop == AH_ON_STOP_RESTORE && r->confined &&
			    !r->cg_gone && r->mode == AH_ENFORCE_ON) {
				char err[1024] = "";
				r->aopts.dry_run = false;
				if (run_cg_restore(r->cg, &r->aopts, err, sizeof err) < 0 && !r->quiet)
					ah_cli_err(r->cmd, "warning: limits not restored: %s", err);
			}
			bool was_on = r->mode == AH_ENFORCE_ON;
			r->mode = m;
			if (m == AH_ENFORCE_ON && !was_on)
				enforce(r, &r->res); /* dry-run or off no more: the limits now */
		}
	}
}

/* Reports usage (AH_USAGE_NONE where not measured) and follows the answer:
 * a new reservation becomes new limits. Returns the engine's outcome. */
static int report(run_ctx *r, double cpu_mc, double mem_b, ah_adjust_outcome *o)
{
	ah_vec u;
	for (int i = 0; i < AH_MAX_DIMS; i++)
		u.v[i] = AH_USAGE_NONE;
	if (r->d_cpu >= 0 && cpu_mc >= 0)
		u.v[r->d_cpu] = vclamp(cpu_mc);
	if (r->d_mem >= 0 && mem_b >= 0)
		u.v[r->d_mem] = vclamp(mem_b);
	int rc = run_be_report(&r->be, r->id, &u, o);
	if (rc < 0)
		return rc;
	bool changed = false;
	for (int i = 0; i < r->pol->dims.n; i++)
		changed = changed || o->res.v[i] != r->res.v[i];
	if (changed) {
		r->res = o->res;
		enforce(r, &r->res);
	}
	return 0;
}

/* Kills everything in the cgroup and says why (the ledger keeps it). */
static void kill_run(run_ctx *r, const char *why)
{
	char err[1024] = "";
	if (r->mode == AH_ENFORCE_DRY_RUN) {
		if (!r->quiet)
			ah_cli_err(r->cmd, "dry-run: would kill the command: %s", why);
		return;
	}
	size_t n = 0;
	if (run_cg_kill(r->cg, &n, err, sizeof err) < 0 && !r->quiet)
		ah_cli_err(r->cmd, "warning: kill: %s", err);
	r->killed = true;
	snprintf(r->kill_why, sizeof r->kill_why, "%s", why);
	ah_cli_err(r->cmd, "killed the command: %s", why);
	run_be_event(&r->be, r->id, "killed", why, &r->res);
}

/* One sample of a running command, and what follows from it. */
static void step(run_ctx *r, int64_t *last_report_ns)
{
	if (!r->confined || r->cg_gone)
		return;
	int64_t now = mono_ns();
	run_sample sm;
	if (run_cg_sample(r->cg, now, ah_cli_now_ns(), &sm) < 0)
		return;
	if (sm.gone) {
		cgroup_vanished(r, NULL);
		return;
	}
	follow_policy(r);
	double mem = sm.mem_bytes, cpu = sm.cpu_millicores;
	if (mem >= 0) {
		r->use.n_mem++;
		r->use.sum_mem += mem;
		if (mem > r->use.max_mem)
			r->use.max_mem = mem;
	}
	if (cpu >= 0) {
		r->use.n_cpu++;
		r->use.sum_cpu += cpu;
		if (cpu > r->use.max_cpu)
			r->use.max_cpu = cpu;
	}
	if (sm.have_cpu_ns) {
		r->use.cpu_ns = sm.cpu_ns;
		r->use.have_cpu_ns = true;
	}
	if (sm.have_peak && sm.peak_bytes > r->use.kernel_peak)
		r->use.kernel_peak = sm.peak_bytes;
	double soft = r->d_mem >= 0 ? (double)r->res.v[r->d_mem] : 0;
	uint64_t hard = run_cg_hard_bytes(r->cg);
	bool near = soft > 0 && mem >= 0.9 * soft;
	/* v1 with oom_kill_disable says when a task waits at the hard limit;
	 * v2 kills at memory.max, so the run acts a little before it */
	double slack = (double)hard / 64 < 2.0 * MiB ? (double)hard / 64 : 2.0 * MiB;
	bool at_hard = sm.oom_known ? sm.under_oom : hard && mem >= 0 && mem + slack >= (double)hard;
	int64_t every = r->interval_ns * 10 > 5 * SEC ? r->interval_ns * 10 : 5 * SEC;
	if (!near && !at_hard && now - *last_report_ns < every)
		return;
	*last_report_ns = now;
	ah_adjust_outcome o;
	uint64_t had = soft > 0 ? (uint64_t)soft : 0;
	int rc = report(r, cpu, mem, &o);
	if (rc < 0) {
		if (!r->quiet && rc != AH_ENOENT)
			ah_cli_err(r->cmd, "warning: usage report failed (%s)", ah_strerror(rc));
		if (rc == AH_ENOENT && !r->quiet)
			ah_cli_err(r->cmd, "warning: %" PRIu64 ": the reservation is gone (expired or preempted)", r->id);
		return;
	}
	if (at_hard && r->mode != AH_ENFORCE_OFF && (r->d_mem < 0 || (uint64_t)r->res.v[r->d_mem] <= had)) {
		char a[32], b[32];
		fmt_val(r->pol, r->d_mem, mem, a, sizeof a);
		fmt_val(r->pol, r->d_mem, (double)hard, b, sizeof b);
		char why[256];
		snprintf(why, sizeof why, "memory %s reached the hard limit %s and the pool %s has no more to give", a, b,
			 r->pool);
		kill_run(r, why);
	}
}

/* Drift: a limit changed behind ahead's back is logged and put back. */
static void check_drift(run_ctx *r)
{
	if (!r->confined || r->cg_gone || r->mode != AH_ENFORCE_ON)
		return;
	char what[128];
	int rc = run_cg_drift(r->cg, what, sizeof what);
	if (rc == AH_ENOENT) {
		cgroup_vanished(r, NULL);
		return;
	}
	if (rc < 0 || !what[0])
		return;
	char detail[256];
	snprintf(detail, sizeof detail, "limit changed behind ahead's back (%s); restored", what);
	if (!r->quiet)
		ah_cli_err(r->cmd, "drift: %s", detail);
	run_be_event(&r->be, r->id, "drift", detail, NULL);
	enforce(r, &r->res);
}

/* The line at the end: per dimension, predicted vs what the run used. */
static void print_summary(const run_ctx *r, double wall_s, int code, double peak_cpu, double mean_cpu,
			  double peak_mem, double mean_mem)
{
	char line[1400];
	size_t w = 0;
	char params[AH_PARAMS_MAX + 8] = "";
	if (r->params.len)
		snprintf(params, sizeof params, " [%s]", r->params.text);
	w += (size_t)snprintf(line + w, sizeof line - w, "%s%s: %.2fs, exit %d%s", r->workload, params, wall_s, code,
			      r->confined ? "" : ", unconfined");
	const int dims[2] = {r->d_cpu, r->d_mem};
	const double peak[2] = {peak_cpu, peak_mem}, mean[2] = {mean_cpu, mean_mem};
	for (int j = 0; j < 2 && w < sizeof line; j++) {
		int d = dims[j];
		if (d < 0)
			continue;
		char p[32], a[32], m[32], rs[32];
		fmt_val(r->pol, d, peak[j], a, sizeof a);
		fmt_val(r->pol, d, mean[j], m, sizeof m);
		fmt_val(r->pol, d, (double)r->res.v[d], rs, sizeof rs);
		double pv = r->have_prediction ? (double)r->predicted.v[d] : 0;
		if (pv > 0) {
			fmt_val(r->pol, d, pv, p, sizeof p);
			char err[32] = "";
			if (peak[j] >= 0)
				snprintf(err, sizeof err, " (%+.0f%%)", (peak[j] - pv) / pv * 100);
			w += (size_t)snprintf(line + w, sizeof line - w, "; %s predicted %s, peak %s%s, mean %s",
					      r->pol->dims.name[d], p, a, err, m);
		} else {
			w += (size_t)snprintf(line + w, sizeof line - w, "; %s not predicted (%s), peak %s, mean %s",
					      r->pol->dims.name[d], r->used_default ? "no history: class default" : "no history",
					      a, m);
		}
		if (w < sizeof line)
			w += (size_t)snprintf(line + w, sizeof line - w, ", reserved %s", rs);
	}
	fprintf(stderr, "ahead run: %s\n", line);
}

/* The class default a workload with no history gets. */
static void class_default(const run_ctx *r, ah_vec *out)
{
	memset(out, 0, sizeof *out);
	int k = r->klass ? ah_policy_find_class(r->pol, r->klass) : r->pol->default_class;
	if (k >= 0 && !ah_vec_is_zero(&r->pol->classes[k].run_default, r->pol->dims.n)) {
		*out = r->pol->classes[k].run_default;
		return;
	}
	if (r->d_cpu >= 0)
		out->v[r->d_cpu] = 1000;
	if (r->d_mem >= 0)
		out->v[r->d_mem] = 256 * (int64_t)MiB;
}

/* Does the history know anything of this workload? (Locally: the
 * recommendation's answer; remotely the daemon's admission says.) */
static bool has_history(run_ctx *r)
{
	if (r->be.remote)
		return true;
	ah_service_recommendation rec;
	char err[256];
	return ah_service_recommend(r->be.ctx.svc, r->workload, r->params.text, r->klass, &rec, err, sizeof err) == 0;
}

static int exit_code_of(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return AH_EXIT_INTERNAL;
}

/* Reserve: request, wait in the queue if asked to. 0 with r->id/res, or an
 * exit code. */
static int reserve(run_ctx *r)
{
	ah_request rq = {.tenant = r->tenant, .pool = r->pool, .klass = r->klass, .params = r->params.text,
			 .workload = r->workload, .queue_timeout_ns = r->no_wait ? 0 : -1};
	if (!has_history(r)) {
		class_default(r, &rq.res);
		r->used_default = true;
	}
	ah_decision d;
	int ex = run_be_request(&r->be, &rq, &d, &r->info, &r->have_info);
	if (ex)
		return ex;
	/* the daemon found no history: ask again at the class default */
	if (d.outcome == AH_REFUSED && d.reason == AH_R_INVALID && !d.predicted && r->be.remote && !r->used_default) {
		class_default(r, &rq.res);
		r->used_default = true;
		ah_client_next_key(r->be.cl); /* another request, not a retry of the first */
		if ((ex = run_be_request(&r->be, &rq, &d, &r->info, &r->have_info)))
			return ex;
	}
	r->have_prediction = d.predicted;
	r->predicted = d.prediction;
	if (d.outcome == AH_REFUSED) {
		ah_cli_err(r->cmd, "refused: %s: %s; nothing was run", ah_reason_code(d.reason), d.message);
		return AH_EXIT_REFUSED;
	}
	r->id = d.id;
	r->res = d.res;
	if (d.outcome == AH_GRANTED)
		return 0;
	char res[512];
	ah_vec_format_human(&r->pol->dims, &d.res, res, sizeof res);
	ah_cli_err(r->cmd, "queued as %" PRIu64 " (%s), position %d; waiting for room (Ctrl-C gives up)", d.id, res,
		   d.queue_position);
	int64_t last_note = mono_ns();
	for (;;) {
		struct timespec ts = {0, 200 * 1000000L};
		nanosleep(&ts, NULL);
		int sig = run_signals_got();
		if (sig) {
			run_be_release(&r->be, r->id); /* cancels the queued request */
			ah_cli_err(r->cmd, "gave up waiting (signal %d); request %" PRIu64 " cancelled", sig, r->id);
			return 128 + sig;
		}
		int pos;
		int got = run_be_poll(&r->be, r->id, &r->res, &pos);
		if (got == 1)
			break;
		if (got != 0)
			return got;
		if (mono_ns() - last_note >= 10 * SEC && !r->quiet) {
			last_note = mono_ns();
			ah_cli_err(r->cmd, "still queued as %" PRIu64, r->id);
		}
	}
	if (!r->quiet)
		ah_cli_err(r->cmd, "granted %" PRIu64 " after waiting in the queue", r->id);
	return 0;
}

/* The final accounting, the record, the release, the cgroup's end. */
static void finish(run_ctx *r, const struct rusage *ru, int64_t wall_ns, int code, bool ran)
{
	double wall_s = (double)wall_ns / 1e9;
	double peak_mem = r->use.max_mem, mean_mem = -1, peak_cpu = r->use.max_cpu, mean_cpu = -1;
	if (r->use.kernel_peak > peak_mem)
		peak_mem = (double)r->use.kernel_peak;
	if (ru && (double)ru->ru_maxrss * 1024.0 > peak_mem && (!r->confined || r->cg_gone))
		peak_mem = (double)ru->ru_maxrss * 1024.0; /* the largest process's RSS: all we know unconfined */
	if (r->use.have_cpu_ns && wall_ns > 0 && !r->cg_gone)
		mean_cpu = (double)r->use.cpu_ns / (double)wall_ns * 1000.0;
	else if (ru && wall_ns > 0)
		mean_cpu = ((double)ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6 + (double)ru->ru_stime.tv_sec +
			    ru->ru_stime.tv_usec / 1e6) * 1e12 / (double)wall_ns;
	if (peak_cpu <= 0 || r->use.n_cpu == 0)
		peak_cpu = mean_cpu;
	mean_mem = r->use.n_mem ? r->use.sum_mem / (double)r->use.n_mem : peak_mem;
	if (peak_mem <= 0)
		peak_mem = -1, mean_mem = -1;
	if (ran && r->id) {
		/* the record's peak is what the run used at most */
		ah_adjust_outcome o;
		ah_vec u;
		for (int i = 0; i < AH_MAX_DIMS; i++)
			u.v[i] = AH_USAGE_NONE;
		if (r->d_cpu >= 0 && peak_cpu >= 0)
			u.v[r->d_cpu] = vclamp(peak_cpu > 1 ? peak_cpu : 1);
		if (r->d_mem >= 0 && peak_mem >= 0)
			u.v[r->d_mem] = vclamp(peak_mem);
		int rc = run_be_report(&r->be, r->id, &u, &o);
		if (rc < 0 && rc != AH_ENOENT && !r->quiet)
			ah_cli_err(r->cmd, "warning: final usage report failed (%s)", ah_strerror(rc));
		char detail[256];
		snprintf(detail, sizeof detail, "%s exited %d after %.3fs", r->workload, code, wall_s);
		ah_vec shown = u; /* unmeasured is not a value in the log */
		for (int i = 0; i < AH_MAX_DIMS; i++)
			if (shown.v[i] < 0)
				shown.v[i] = 0;
		if (!r->killed)
			run_be_event(&r->be, r->id, code > 128 ? "signalled" : "exited", detail, &shown);
	}
	if (r->id) {
		int rc = run_be_release(&r->be, r->id);
		if (rc < 0 && rc != AH_ENOENT && !r->quiet)
			ah_cli_err(r->cmd, "warning: %" PRIu64 ": not released (%s); `ahead run --reconcile` will",
				   r->id, ah_strerror(rc));
		else if (r->state_fd >= 0 || r->state_dir[0])
			run_state_remove(r->state_dir, r->id, r->state_fd);
		r->state_fd = -1;
	}
	if (ran && !r->quiet)
		print_summary(r, wall_s, code, peak_cpu, mean_cpu, peak_mem, mean_mem);
}

/* The cgroup's end: what is left in it killed, then removed. */
static void cgroup_end(run_ctx *r)
{
	if (!r->cg_made)
		return;
	char err[1024] = "";
	if (!r->cg_gone && run_cg_end(r->cg, err, sizeof err) < 0 && !r->quiet)
		ah_cli_err(r->cmd, "warning: cgroup not removed: %s", err);
	r->cg_made = false;
}

/* The enforcement mode of the run's class: the class's own (on, dry-run)
 * unless the global switch is off. */
static ah_enforce_mode mode_of(const ah_policy *pol, int k)
{
	ah_enforce_mode m = pol->linux_host.enforce;
	if (m != AH_ENFORCE_OFF && k >= 0 && pol->classes[k].enforce != AH_ENFORCE_INHERIT)
		m = (ah_enforce_mode)pol->classes[k].enforce;
	return m;
}

/* Runs the command (confined when r->cg_made) to its end; *status, *ru
 * and *wall_ns of it. 0, or the exit code when it never started. */
static int supervise(run_ctx *r, int *status, struct rusage *ru, int64_t *wall_ns)
{
	int sigfd = run_signals_init();
	int64_t t0 = mono_ns();
	run_child ch;
	memset(ru, 0, sizeof *ru);
	*status = 0;
	if (run_child_start(r->argv, r->cg_made ? r->cg : NULL, &ch) < 0) {
		int code = ch.join_failed ? 126 : ch.exec_errno == ENOENT ? 127 : 126;
		if (ch.join_failed)
			ah_cli_err(r->cmd, "%s: could not join its cgroup: %s", r->argv[0], ch.why);
		else if (ch.exec_errno == ENOENT)
			ah_cli_err(r->cmd, "%s: command not found", r->argv[0]);
		else
			ah_cli_err(r->cmd, "%s: cannot run it: %s", r->argv[0], ch.why);
		if (r->id) {
			char detail[400];
			snprintf(detail, sizeof detail, "%.64s: %s", r->argv[0],
				 code == 127 && !ch.join_failed ? "command not found" : ch.why);
			run_be_event(&r->be, r->id, "not-started", detail, NULL);
		}
		return code;
	}
	int64_t last_report = t0, last_drift = t0;
	/* the first look comes soon: a short command's usage is seen too */
	for (int first = 1;; first = 0) {
		int64_t wait_ns = first && r->interval_ns > 100 * MS ? 100 * MS : r->interval_ns;
		if (run_child_wait(&ch, sigfd, (int)(wait_ns / MS), status, ru) == 1)
			break;
		if (!r->cg_made || r->killed)
			continue;
		step(r, &last_report);
		if (!r->killed && mono_ns() - last_drift >= (r->interval_ns >= SEC ? r->interval_ns : SEC)) {
			last_drift = mono_ns();
			check_drift(r);
		}
	}
	*wall_ns = mono_ns() - t0;
	/* the cgroup's own totals, read before it goes */
	if (r->cg_made && !r->cg_gone) {
		run_sample sm;
		if (run_cg_sample(r->cg, mono_ns(), ah_cli_now_ns(), &sm) == 0 && !sm.gone) {
			if (sm.have_peak && sm.peak_bytes > r->use.kernel_peak)
				r->use.kernel_peak = sm.peak_bytes;
			if (sm.have_cpu_ns) {
				r->use.cpu_ns = sm.cpu_ns;
				r->use.have_cpu_ns = true;
			}
		}
	}
	return 0;
}

static int run_it(run_ctx *r)
{
	char why[1200] = "";
	const ah_linux_policy *lp = &r->pol->linux_host;
	int k = r->klass ? ah_policy_find_class(r->pol, r->klass) : r->pol->default_class;
	if (r->klass && k < 0) {
		ah_cli_err(r->cmd, "--class: no class '%.64s' in the policy", r->klass);
		return AH_EXIT_USAGE;
	}
	r->mode = mode_of(r->pol, k);
	r->aopts.shrink_cap_bytes = lp->shrink_cap_bytes;
	r->aopts.shrink_cap_frac = lp->shrink_cap_frac;
	r->confined = cgroups_writable(r, lp, why, sizeof why);
	if (!r->confined) {
		if (!r->allow_unconfined) {
			ah_cli_err(r->cmd, "cannot confine the command: %s; nothing was run (--allow-unconfined runs it "
				   "anyway, without limits)", why);
			return AH_EXIT_REFUSED;
		}
		if (!r->quiet)
			ah_cli_err(r->cmd, "note: running unconfined: %s", why);
	}
	int ex = reserve(r);
	if (ex)
		return ex;
	/* the crash-recovery record, before anything else exists of the run */
	run_record rec;
	memset(&rec, 0, sizeof rec);
	rec.id = r->id;
	rec.pid = (long)getpid();
	rec.started_ns = ah_cli_now_ns();
	snprintf(rec.workload, sizeof rec.workload, "%s", r->workload);
	snprintf(rec.proc_root, sizeof rec.proc_root, "%s", lp->proc_root);
	snprintf(rec.prefix, sizeof rec.prefix, "%s", lp->cgroup_prefix);
	if (r->confined) {
		char name[64];
		snprintf(name, sizeof name, "ahead-run-%" PRIu64, r->id);
		run_cg_name(r->cg, name);
		run_cg_paths(r->cg, rec.v2, rec.v1, AH_CG_V1_N, sizeof rec.v2);
	}
	if ((ex = run_state_write(r->state_dir, &rec, &r->state_fd))) {
		run_be_release(&r->be, r->id);
		r->id = 0;
		return ex;
	}
	if (r->confined) {
		char err[1024] = "";
		if (run_cg_create(r->cg, err, sizeof err) < 0) {
			ah_cli_err(r->cmd, "cannot make the cgroup: %s", err);
			r->cg_made = true;
			cgroup_end(r);
			finish(r, NULL, 0, 0, false);
			return AH_EXIT_INTERNAL;
		}
		r->cg_made = true;
		if (r->mode == AH_ENFORCE_OFF && !r->quiet)
			ah_cli_err(r->cmd, "note: enforcement is off (policy): the cgroup is sampled, no limit is written");
		enforce(r, &r->res);
	}
	int status;
	struct rusage ru;
	int64_t wall = 0;
	int code = supervise(r, &status, &ru, &wall);
	cgroup_end(r);
	if (code) {
		finish(r, NULL, 0, code, false);
		return code;
	}
	code = exit_code_of(status);
	finish(r, &ru, wall, code, true);
	return code;
}

/* The daemon does not answer: what run_unreachable of the local ledger's
 * policy says (refuse when there is none). */
static int run_unreachable(run_ctx *r, bool reconcile_only)
{
	char *text = NULL, err[512];
	int64_t at;
	ah_policy *lpol = NULL;
	ah_run_unreachable what = AH_RUN_UNREACHABLE_REFUSE;
	const char *ldb = ah_cli_db_path(NULL);
	struct stat sb;
	if (stat(ldb, &sb) == 0 && S_ISREG(sb.st_mode) && ah_service_policy_text(ldb, &text, &at, err, sizeof err) == 0 &&
	    ah_policy_load_string(text, strlen(text), ldb, &lpol, err, sizeof err) == 0)
		what = lpol->linux_host.run_unreachable;
	free(text);
	if (what == AH_RUN_UNREACHABLE_REFUSE || reconcile_only) {
		ah_cli_err(r->cmd, "the daemon is unreachable and run_unreachable is refuse%s; nothing was run",
			   lpol ? "" : " (the default: no local policy says otherwise)");
		ah_policy_free(lpol);
		return AH_EXIT_REFUSED;
	}
	ah_cli_err(r->cmd, "warning: the daemon is unreachable; running %s without a reservation (run_unreachable = %s)",
		   r->argv[0], what == AH_RUN_UNREACHABLE_UNCONFINED ? "unconfined" : "class-default");
	r->pol = lpol;
	r->d_cpu = ah_dimset_find(&lpol->dims, "cpu");
	r->d_mem = ah_dimset_find(&lpol->dims, "memory");
	class_default(r, &r->res);
	char why[1200];
	r->confined = what == AH_RUN_UNREACHABLE_CLASS_DEFAULT && cgroups_writable(r, &lpol->linux_host, why, sizeof why);
	if (r->confined) {
		char name[64];
		snprintf(name, sizeof name, "ahead-run-u%ld", (long)getpid());
		run_cg_name(r->cg, name);
		if (run_cg_create(r->cg, err, sizeof err) == 0) {
			r->cg_made = true;
			r->mode = AH_ENFORCE_ON;
			enforce(r, &r->res);
		} else {
			r->confined = false;
		}
	}
	int status;
	struct rusage ru;
	int64_t wall;
	int code = supervise(r, &status, &ru, &wall);
	cgroup_end(r);
	ah_policy_free(lpol);
	r->pol = NULL;
	return code ? code : exit_code_of(status);
}

static int run_main(run_ctx *r, bool reconcile_only, const char *db, const char *shadow_db,
		    const ah_client_opts *co, bool remote)
{
	r->be.cmd = r->cmd;
	r->be.remote = remote;
	r->state_fd = -1;
	int ex = run_be_open(&r->be, db, shadow_db, co);
	if (ex && !(remote && r->be.unreachable))
		goto out;
	if (ex) {
		ex = run_unreachable(r, reconcile_only);
		goto out;
	}
	r->pol = run_be_policy(&r->be);
	r->d_cpu = ah_dimset_find(&r->pol->dims, "cpu");
	r->d_mem = ah_dimset_find(&r->pol->dims, "memory");
	if (remote) {
		const char *env = getenv("AHEAD_RUN_DIR");
		snprintf(r->state_dir, sizeof r->state_dir, "%s", env && *env ? env : "/run/ahead/runs");
		if (!(env && *env))
			mkdir("/run/ahead", 0755);
	} else {
		run_state_dir(ah_service_db_path(r->be.ctx.svc), r->state_dir, sizeof r->state_dir);
	}
	int n = 0;
	run_reconcile(&r->be, r->state_dir, r->quiet && !reconcile_only, &n);
	if (reconcile_only) {
		if (!r->quiet)
			printf("reconciled %d orphaned run%s\n", n, n == 1 ? "" : "s");
		ex = 0;
		goto out;
	}
	if (!r->pool) {
		if (r->pol->n_pools < 1) {
			ah_cli_err(r->cmd, "the policy has no pool");
			ex = AH_EXIT_USAGE;
			goto out;
		}
		snprintf(r->pool_buf, sizeof r->pool_buf, "%s", r->pol->pools[0].name);
		r->pool = r->pool_buf;
	}
	ex = run_it(r);
out:
	run_be_close(&r->be);
	run_cg_free(r->cg);
	r->cg = NULL;
	return ex;
}

int ah_cmd_run(int argc, char **argv)
{
	/* the command is everything after "--": our options stop there */
	int dd = -1;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			dd = i;
			break;
		}
	ah_client_opts co = {0};
	run_ctx *r = calloc(1, sizeof *r);
	if (!r)
		return AH_EXIT_INTERNAL;
	r->cmd = "run";
	const char *name = NULL, *db = NULL, *shadow_db = NULL;
	bool reconcile = false;
	r->interval_ns = SEC;
	const ah_cli_opt opts[] = {
		AH_OPT("name", 'n', AH_OPT_STRING, &name, .hint = "N", .flags = AH_OPT_NONEMPTY),
		AH_OPT("param", 'P', AH_OPT_EACH, &r->params, .hint = "KEY=VALUE", .each = ah_cli_add_param),
		AH_OPT("params", 0, AH_OPT_EACH, &r->params, .hint = "K=V,...", .each = ah_cli_add_params),
		AH_OPT("class", 'c', AH_OPT_STRING, &r->klass, .hint = "C", .flags = AH_OPT_NONEMPTY),
		AH_OPT("pool", 'p', AH_OPT_STRING, &r->pool, .hint = "P", .flags = AH_OPT_NONEMPTY),
		AH_OPT("tenant", 't', AH_OPT_STRING, &r->tenant, .hint = "T", .flags = AH_OPT_NONEMPTY),
		AH_OPT("no-wait", 0, AH_OPT_FLAG, &r->no_wait),
		AH_OPT("quiet", 'q', AH_OPT_FLAG, &r->quiet),
		AH_OPT("allow-unconfined", 0, AH_OPT_FLAG, &r->allow_unconfined),
		AH_OPT("interval", 'i', AH_OPT_DURATION, &r->interval_ns, .hint = "DURATION", .lo = 100 * MS,
		       .hi = 3600 * SEC),
		AH_OPT("reconcile", 0, AH_OPT_FLAG, &reconcile),
		AH_OPT("db", 'd', AH_OPT_STRING, &db, .hint = "PATH", .flags = AH_OPT_NONEMPTY),
		AH_OPT("shadow-db", 0, AH_OPT_STRING, &shadow_db, .hint = "PATH"),
		AH_CLIENT_OPTS(&co),
	};
	ah_cli_spec spec = {.cmd = "run", .usage = run_usage, .opts = opts, .n_opts = AH_CLI_NOPTS(opts)};
	int ex = ah_cli_parse(&spec, dd >= 0 ? dd : argc, argv);
	if (ex != AH_CLI_GO)
		goto out;
	int nargs = dd >= 0 ? argc - dd - 1 : 0;
	if (nargs <= 0 && !reconcile) {
		ah_cli_err("run", "missing the command: ahead run [options] -- CMD [ARGS...] (see ahead run --help)");
		ex = AH_EXIT_USAGE;
		goto out;
	}
	if (nargs > AH_RUN_ARGS_MAX) {
		ah_cli_err("run", "more than %d arguments", AH_RUN_ARGS_MAX);
		ex = AH_EXIT_USAGE;
		goto out;
	}
	if (nargs > 0 && !argv[dd + 1][0]) {
		ah_cli_err("run", "CMD: empty");
		ex = AH_EXIT_USAGE;
		goto out;
	}
	r->argv = nargs > 0 ? argv + dd + 1 : NULL;
	if (name) {
		if (ah_name_check_workload(name) < 0) {
			ah_cli_err("run", "--name: '%.64s' is not a workload name (1-127 of [A-Za-z0-9_.:/@+-])", name);
			ex = AH_EXIT_USAGE;
			goto out;
		}
		snprintf(r->workload, sizeof r->workload, "%s", name);
	} else if (r->argv) {
		default_name(r->argv[0], r->workload, sizeof r->workload);
	}
	char perr[256];
	if (ah_shadow_params_check(r->params.text, perr, sizeof perr) < 0) {
		ah_cli_err("run", "--params: %s", perr);
		ex = AH_EXIT_USAGE;
		goto out;
	}
	if (!r->tenant) {
		const char *t = getenv("AHEAD_TENANT");
		if (!t || !*t)
			t = getenv("USER");
		r->tenant = t && *t ? t : "default";
	}
	int cx;
	bool remote = ah_client_wanted("run", &co, db, &cx);
	if (!remote && cx) {
		ex = cx;
		goto out;
	}
	if (remote && shadow_db) {
		ah_cli_err("run", "--shadow-db is for a local ledger; the daemon keeps its own shadow store");
		ex = AH_EXIT_USAGE;
		goto out;
	}
	ex = run_main(r, reconcile && !r->argv, remote ? NULL : ah_cli_db_path(db), shadow_db, &co, remote);
out:
	free(r);
	return ex;
}
