/* ahead run: the record of a run in progress and the reconcile of orphans
 * (cli/run.h).
 *
 * A run's record is DIR/ID.run, written once its reservation is granted and
 * before its cgroup is made, and held with an exclusive flock for as long
 * as that ahead run lives. The kernel drops the lock when the process dies,
 * however it dies (SIGKILL included), so a record whose lock can be taken
 * is an orphan: its reservation is still in the ledger and its cgroup (and
 * perhaps the command) still on the host. It is written to a temporary
 * name, locked, then renamed: a reconcile never sees a record that is not
 * yet locked. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ahead/error.h"
#include "ahead/id.h"
#include "ahead/limits.h"
#include "ahead/usage.h"
#include "cli/run.h"
#include "cli/run_cg.h"

void run_state_dir(const char *db, char *out, size_t len)
{
	const char *env = getenv("AHEAD_RUN_DIR");
	if (env && *env)
		snprintf(out, len, "%s", env);
	else
		snprintf(out, len, "%s.runs", db && *db ? db : "ahead.db");
}

static void put_line(char *buf, size_t cap, size_t *w, const char *key, const char *val)
{
	if (*w >= cap)
		return;
	int k = snprintf(buf + *w, cap - *w, "%s=%s\n", key, val);
	if (k > 0)
		*w += (size_t)k;
}

int run_state_write(const char *dir, const run_record *r, int *fd_out)
{
	char tmp[AH_SYSPATH_MAX + 64], fin[AH_SYSPATH_MAX + 64];
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		ah_cli_err("run", "%s: cannot make the run-state directory: %s", dir, strerror(errno));
		return AH_EXIT_INTERNAL;
	}
	snprintf(tmp, sizeof tmp, "%s/.%" PRIu64 ".run.%ld", dir, r->id, (long)getpid());
	snprintf(fin, sizeof fin, "%s/%" PRIu64 ".run", dir, r->id);
	char buf[AH_RUN_STATE_MAX];
	size_t w = 0;
	char num[32];
	snprintf(num, sizeof num, "%" PRIu64, r->id);
	put_line(buf, sizeof buf, &w, "id", num);
	snprintf(num, sizeof num, "%ld", r->pid);
	put_line(buf, sizeof buf, &w, "pid", num);
	snprintf(num, sizeof num, "%" PRId64, r->started_ns);
	put_line(buf, sizeof buf, &w, "started_ns", num);
	put_line(buf, sizeof buf, &w, "workload", r->workload);
	put_line(buf, sizeof buf, &w, "proc_root", r->proc_root);
	put_line(buf, sizeof buf, &w, "prefix", r->prefix);
	put_line(buf, sizeof buf, &w, "v2", r->v2);
	for (int i = 0; i < AH_CG_V1_N; i++) {
		char key[32];
		snprintf(key, sizeof key, "v1.%s", ah_cg_v1_name((ah_cg_v1)i));
		put_line(buf, sizeof buf, &w, key, r->v1[i]);
	}
	if (w >= sizeof buf) {
		ah_cli_err("run", "%s: run record too long", fin);
		return AH_EXIT_INTERNAL;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 || write(fd, buf, w) != (ssize_t)w || fsync(fd) < 0 ||
	    rename(tmp, fin) < 0) {
		ah_cli_err("run", "%s: cannot write the run record: %s", fin, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		return AH_EXIT_INTERNAL;
	}
	*fd_out = fd;
	return 0;
}

void run_state_remove(const char *dir, uint64_t id, int fd)
{
	char fin[AH_SYSPATH_MAX + 64];
	snprintf(fin, sizeof fin, "%s/%" PRIu64 ".run", dir, id);
	unlink(fin);
	if (fd >= 0)
		close(fd);
}

/* Values are single lines ahead wrote; a record that does not parse is
 * left for a person (the message names it). */
static int record_parse(const char *text, run_record *r)
{
	memset(r, 0, sizeof *r);
	char *copy = strdup(text);
	if (!copy)
		return AH_ENOMEM;
	int rc = 0;
	for (char *sv, *line = strtok_r(copy, "\n", &sv); line; line = strtok_r(NULL, "\n", &sv)) {
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq++ = '\0';
		if (!strcmp(line, "id")) {
			if (ah_id_parse(eq, &r->id))
				rc = AH_EPARSE;
		} else if (!strcmp(line, "pid")) {
			r->pid = strtol(eq, NULL, 10);
		} else if (!strcmp(line, "started_ns")) {
			r->started_ns = strtoll(eq, NULL, 10);
		} else if (!strcmp(line, "workload")) {
			snprintf(r->workload, sizeof r->workload, "%s", eq);
		} else if (!strcmp(line, "proc_root")) {
			snprintf(r->proc_root, sizeof r->proc_root, "%s", eq);
		} else if (!strcmp(line, "prefix")) {
			snprintf(r->prefix, sizeof r->prefix, "%s", eq);
		} else if (!strcmp(line, "v2")) {
			snprintf(r->v2, sizeof r->v2, "%s", eq);
		} else {
			for (int i = 0; i < AH_CG_V1_N; i++) {
				char key[32];
				snprintf(key, sizeof key, "v1.%s", ah_cg_v1_name((ah_cg_v1)i));
				if (!strcmp(line, key))
					snprintf(r->v1[i], sizeof r->v1[i], "%s", eq);
			}
		}
	}
	free(copy);
	if (!r->id)
		rc = AH_EPARSE;
	return rc;
}

static bool has_cgroup(const run_record *r)
{
	if (r->v2[0])
		return true;
	for (int i = 0; i < AH_CG_V1_N; i++)
		if (r->v1[i][0])
			return true;
	return false;
}

/* One orphan: what is left of it on the host and in the ledger. */
static void reconcile_one(run_backend *b, const run_record *r, bool quiet)
{
	char err[1024] = "", detail[512];
	uint64_t peak = 0;
	size_t killed = 0;
	bool cg = has_cgroup(r), gone = true;
	if (cg && run_cg_orphan(r->proc_root, r->prefix, r->v2, (char (*)[1024])r->v1, AH_CG_V1_N, &peak, &killed,
				&gone, err, sizeof err) < 0 && !quiet)
		ah_cli_err("run", "warning: orphan %" PRIu64 ": cgroup not cleaned up: %s", r->id, err);
	const ah_policy *pol = run_be_policy(b);
	int mem = pol ? ah_dimset_find(&pol->dims, "memory") : -1;
	if (peak && mem >= 0) {
		ah_vec u;
		for (int i = 0; i < AH_MAX_DIMS; i++)
			u.v[i] = AH_USAGE_NONE;
		u.v[mem] = peak > (uint64_t)AH_VALUE_MAX ? AH_VALUE_MAX : (int64_t)peak;
		ah_adjust_outcome o;
		run_be_report(b, r->id, &u, &o); /* its record gets the kernel's peak */
	}
	snprintf(detail, sizeof detail,
		 "ahead run (pid %ld) of %s ended without cleaning up; %s%s, reservation released", r->pid,
		 r->workload[0] ? r->workload : "?",
		 !cg ? "it ran unconfined" : gone ? "its cgroup was gone" : killed ? "its processes killed, cgroup removed"
									 : "cgroup removed",
		 "");
	run_be_event(b, r->id, "orphaned", detail, NULL);
	int rc = run_be_release(b, r->id);
	if (!quiet)
		ah_cli_err("run", "reconciled orphaned run %" PRIu64 " (%s, pid %ld): %s%s", r->id,
			   r->workload[0] ? r->workload : "?", r->pid,
			   !cg ? "unconfined" : gone ? "cgroup already gone" : killed ? "killed what was left, cgroup removed"
										 : "cgroup removed",
			   rc == AH_ENOENT ? "; the reservation had already ended" : "; reservation released");
}

int run_reconcile(run_backend *b, const char *dir, bool quiet, int *n)
{
	*n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0; /* no run ever recorded here */
	struct dirent *de;
	int seen = 0;
	while ((de = readdir(d)) && seen < AH_RUN_RECONCILE_MAX) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 5 || strcmp(de->d_name + len - 4, ".run"))
			continue;
		char path[AH_SYSPATH_MAX + 300];
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		int fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			close(fd); /* a live ahead run holds it */
			continue;
		}
		seen++;
		char buf[AH_RUN_STATE_MAX + 1];
		ssize_t k = read(fd, buf, AH_RUN_STATE_MAX);
		buf[k > 0 ? k : 0] = '\0';
		run_record r;
		if (k <= 0 || record_parse(buf, &r) < 0) {
			if (!quiet)
				ah_cli_err("run", "warning: %s: not a run record ahead can read; left for you to look at",
					   path);
			close(fd);
			continue;
		}
		reconcile_one(b, &r, quiet);
		unlink(path);
		close(fd);
		(*n)++;
	}
	closedir(d);
	return 0;
}
