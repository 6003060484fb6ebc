/* bench/pressure_loop: runs one command in a fresh v1 memory cgroup (for its
 * limit) and v2 cgroup (for its pressure), samples it every interval and,
 * with --loop, drives the limit with the pressure-sizing loop
 * (include/ahead/pressure.h) through the enforcer (include/ahead/enforce.h).
 * bench/pressure.sh runs it with and without the loop and compares.
 *
 *   pressure_loop [--loop] [--interval-ms N] [--target-pct P] [--floor BYTES]
 *                 [--drop FILE]... -- CMD ARGS...
 *
 * cgroup v1 has no memory.high and no memory.reclaim: each interval the
 * hard limit (memory.limit_in_bytes) is lowered to the loop's soft level,
 * so the kernel reclaims page cache down to it within this process's write
 * (as memory.reclaim would), then raised by --headroom (bench/pressure.sh: 256 MiB) so
 * the workload does not stall reclaiming for itself until it outgrows the
 * headroom within an interval. The soft level's floor is anon usage (the
 * enforcer's hard_floor_anon: without swap only page cache is
 * reclaimable); oom_kill_disable=1 makes a task that does reach the limit
 * pause (under_oom), and the loop then doubles the level at once instead
 * of the kernel killing it.
 *
 * Prints one line of key=value results. Root only; the cgroups are made
 * under this process's own and removed at the end. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ahead/enforce.h"
#include "ahead/error.h"
#include "ahead/pressure.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t f_or(const ah_field *f, uint64_t d)
{
	return f->st == AH_FIELD_OK ? f->v : d;
}

static void drop_cache(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return;
	fdatasync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
}

int main(int argc, char **argv)
{
	bool loop = false;
	int interval_ms = 1000;
	uint64_t floor = 0, headroom = (uint64_t)64 << 20;
	ah_pressure_policy pol;
	ah_pressure_policy_init(&pol);
	int i = 1;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--loop"))
			loop = true;
		else if (!strcmp(argv[i], "--interval-ms") && i + 1 < argc)
			interval_ms = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--target-pct") && i + 1 < argc)
			pol.target_pct = atof(argv[++i]);
		else if (!strcmp(argv[i], "--probe") && i + 1 < argc)
			pol.probe_frac = atof(argv[++i]);
		else if (!strcmp(argv[i], "--floor") && i + 1 < argc)
			floor = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--headroom") && i + 1 < argc)
			headroom = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--drop") && i + 1 < argc)
			drop_cache(argv[++i]);
		else {
			fprintf(stderr, "pressure_loop: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	char err[2048] = "";
	if (i >= argc - 1 || interval_ms < 50 || ah_pressure_policy_check(&pol, err, sizeof err)) {
		fprintf(stderr, "usage: pressure_loop [--loop] [--interval-ms N] [--target-pct P] -- CMD ARGS... %s\n",
			err);
		return 2;
	}
	char **cmd = argv + i + 1;
	if (geteuid() != 0) {
		fprintf(stderr, "pressure_loop: needs root (makes cgroups)\n");
		return 77;
	}
	ah_cgroup_roots roots;
	ah_proc_cgroups self;
	if (ah_cgroup_roots_detect("/proc", NULL, &roots, err, sizeof err) ||
	    ah_enforce_proc_cgroups("/proc", 0, &self, err, sizeof err) || !roots.v1[AH_CG_V1_MEMORY][0] ||
	    !roots.v2[0]) {
		fprintf(stderr, "pressure_loop: needs a v1 memory and a v2 mount: %s\n", err);
		return 77;
	}
	char rel1[AH_SYSPATH_MAX + 64], rel2[AH_SYSPATH_MAX + 64];
	snprintf(rel1, sizeof rel1, "%s/ahead-pressure-%d", self.v1[AH_CG_V1_MEMORY], (int)getpid());
	snprintf(rel2, sizeof rel2, "%s/ahead-pressure-%d", self.v2, (int)getpid());
	ah_cgroup_ref ref;
	ah_cgroup_ref_init(&ref, rel2, NULL);
	ref.v1[AH_CG_V1_MEMORY] = rel1;
	if (ah_enforce_cgroup_create(&roots, &ref, err, sizeof err)) {
		fprintf(stderr, "pressure_loop: %s\n", err);
		return 1;
	}
	int rc = 1;
	double t0 = now_s();
	pid_t pid = fork();
	if (pid == 0) {
		char e[512];
		if (ah_enforce_attach(&roots, &ref, getpid(), e, sizeof e)) {
			fprintf(stderr, "pressure_loop: %s\n", e);
			_exit(126);
		}
		execvp(cmd[0], cmd);
		_exit(127);
	}
	ah_enforce_opts eo;
	ah_enforce_opts_init(&eo);
	eo.hard_floor_anon = true; /* the emulation: page cache is reclaimed to meet the limit */
	uint64_t high = UINT64_MAX, peak_anon = 0, peak_file = 0, peak_use = 0, peak_high = 0, min_high = UINT64_MAX;
	uint64_t last_some = 0;
	double use_integral = 0, high_integral = 0, last_t = t0, started_high_t = 0;
	int n = 0, probes = 0, backoffs = 0, ooms = 0, busy = 0, status = 0;
	bool have_some = false;
	for (;;) {
		usleep((useconds_t)interval_ms * 1000);
		int w = waitpid(pid, &status, WNOHANG);
		double t = now_s();
		ah_enforce_state st;
		if (ah_enforce_read(&roots, &ref, &st, err, sizeof err)) {
			fprintf(stderr, "pressure_loop: read: %s\n", err);
			break;
		}
		uint64_t use = f_or(&st.use.mem_current_bytes, 0), anon = f_or(&st.use.mem_anon_bytes, 0),
			 file = f_or(&st.use.mem_file_bytes, 0);
		use_integral += (double)use * (t - last_t);
		if (high != UINT64_MAX)
			high_integral += (double)high * (t - last_t);
		last_t = t;
		peak_anon = anon > peak_anon ? anon : peak_anon;
		peak_file = file > peak_file ? file : peak_file;
		peak_use = use > peak_use ? use : peak_use;
		uint64_t some = st.use.psi[AH_PSI_MEMORY].some.total_us;
		uint64_t delta = have_some ? ah_pressure_delta_us(last_some, some) : 0;
		last_some = some;
		have_some = true;
		n++;
		if (w == pid)
			break;
		if (!loop)
			continue;
		ah_soft_check sc;
		ah_enforce_soft_check(&st, high, &sc);
		ah_pressure_input in = {delta, (uint64_t)interval_ms * 1000, high, use, floor, UINT64_MAX};
		ah_pressure_step step;
		if (ah_pressure_next(&pol, &in, &step))
			break;
		uint64_t next = step.next_high_bytes;
		if (sc.under_oom) {
			/* paused at the limit: the caller's decision, here always grow */
			next = high * 2;
			ooms++;
		}
		if (next < anon)
			next = anon; /* anon cannot be reclaimed here (no swap) */
		probes += step.action == AH_PRESSURE_PROBE && next < high;
		backoffs += step.action == AH_PRESSURE_BACKOFF || sc.under_oom;
		/* v1 has no memory.high and no memory.reclaim. Emulated: the limit
		 * is lowered to the soft level, so the kernel reclaims page cache
		 * down to it in this process's write (the reclaim is ours, not a
		 * stall of the workload's), then raised by the headroom, so the
		 * workload's next allocations do not reclaim themselves; a
		 * workload outgrowing the headroom within an interval stalls in
		 * its own reclaim, which its PSI shows and the loop backs off from. */
		uint64_t lims[2] = {next, next + headroom};
		for (int k = 0; k < 2; k++) {
			ah_limits want;
			ah_limits_init(&want);
			want.mem_max_bytes = lims[k];
			ah_enforce_plan plan;
			ah_enforce_plan_init(&plan);
			ah_enforce_result res;
			int a = ah_enforce_one(&roots, &ref, &want, &eo, &plan, &res, err, sizeof err);
			if (a == 0 && k == 0) {
				high = plan.item[0].target.mem_max_bytes;
				if (!started_high_t)
					started_high_t = t;
			} else if (a == AH_EBUSY) {
				busy++; /* could not reclaim that far this interval */
			} else if (a) {
				fprintf(stderr, "pressure_loop: apply: %s\n", err);
			}
			ah_enforce_plan_fini(&plan);
		}
		if (high != UINT64_MAX) {
			peak_high = high > peak_high ? high : peak_high;
			min_high = high < min_high ? high : min_high;
		}
		if (getenv("PRESSURE_TRACE"))
			fprintf(stderr, "t=%.1f use=%llu anon=%llu file=%llu psi=%.3f%% %s high=%llu\n", t - t0,
				(unsigned long long)use >> 20, (unsigned long long)anon >> 20,
				(unsigned long long)file >> 20, step.pressure_pct, ah_pressure_action_name(step.action),
				(unsigned long long)high >> 20);
	}
	double wall = now_s() - t0;
	/* this process's own CPU: the loop's reads and the reclaim it makes
	 * the kernel do in its writes (a cost the workload does not see) */
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double own_cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
			 ru.ru_stime.tv_usec / 1e6;
	ah_enforce_state st;
	uint64_t kpeak = 0;
	if (ah_enforce_read(&roots, &ref, &st, err, sizeof err) == 0)
		kpeak = f_or(&st.use.mem_peak_bytes, 0);
	printf("wall_s=%.2f exit=%d peak_kernel_bytes=%llu peak_sampled_bytes=%llu peak_anon_bytes=%llu "
	       "peak_file_bytes=%llu mean_usage_bytes=%.0f mean_limit_bytes=%.0f peak_limit_bytes=%llu "
	       "min_limit_bytes=%llu psi_some_us=%llu samples=%d probes=%d backoffs=%d under_oom=%d ebusy=%d own_cpu_s=%.2f\n",
	       wall, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), (unsigned long long)kpeak,
	       (unsigned long long)peak_use, (unsigned long long)peak_anon, (unsigned long long)peak_file,
	       use_integral / wall, high_integral / wall, (unsigned long long)peak_high,
	       (unsigned long long)(min_high == UINT64_MAX ? 0 : min_high), (unsigned long long)last_some, n, probes,
	       backoffs, ooms, busy, own_cpu);
	rc = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
	size_t killed;
	ah_enforce_kill(&roots, &ref, &killed, err, sizeof err);
	waitpid(pid, NULL, WNOHANG);
	for (int k = 0; k < 50 && ah_enforce_cgroup_remove(&roots, &ref, err, sizeof err); k++)
		usleep(100000);
	return rc;
}
