/* ahead: a cgroup's life for an allocation — made, joined, emptied,
 * removed (see include/ahead/enforce.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ahead/enforce.h"
#include "ahead/error.h"
#include "linux/enforce_int.h"
#include "linux/sysfile_int.h"

int ah_enforce_cgroup_create(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, char *err, size_t errlen)
{
	if (!roots || !ref)
		return AH_EINVAL;
	ah_enf_dirs d;
	int rc = ah_enf_dirs_of(roots, ref, &d);
	if (rc)
		return ah_sys_err(err, errlen, rc, "cgroup", 0, "the ref names no directory under the roots");
	bool made[1 + AH_CG_V1_N] = {false};
	for (size_t i = 0; i < d.n; i++) {
		if (mkdir(d.path[i], 0755) == 0) {
			made[i] = true;
			continue;
		}
		int e = errno;
		if (e == EEXIST)
			continue;
		rc = ah_sys_err(err, errlen, e == ENOENT ? AH_ENOENT : AH_EIO, d.path[i], 0, "cannot make: %s",
				strerror(e));
		for (size_t k = 0; k < i; k++)
			if (made[k])
				rmdir(d.path[k]);
		return rc;
	}
	return 0;
}

int ah_enforce_cgroup_remove(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, char *err, size_t errlen)
{
	if (!roots || !ref)
		return AH_EINVAL;
	ah_enf_dirs d;
	int rc = ah_enf_dirs_of(roots, ref, &d);
	if (rc)
		return rc;
	int first = 0;
	for (size_t i = 0; i < d.n; i++) {
		if (rmdir(d.path[i]) == 0 || errno == ENOENT)
			continue;
		int e = errno;
		/* Go on with the others: what can be removed is. */
		int c = ah_sys_err(first ? NULL : err, errlen, e == EBUSY || e == ENOTEMPTY ? AH_EBUSY : AH_EIO,
				   d.path[i], 0, "cannot remove: %s", strerror(e));
		if (!first)
			first = c;
	}
	return first;
}

static int write_to(const char *dir, const char *file, const char *value, char *err, size_t errlen)
{
	char p[AH_SYSPATH_MAX];
	if (ah_sys_path(p, dir, NULL, file))
		return AH_ETOOBIG;
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		return ah_sys_err(err, errlen, e == ENOENT ? AH_ENOENT : AH_EIO, p, 0, "cannot open: %s", strerror(e));
	}
	size_t n = strlen(value);
	ssize_t w = write(fd, value, n);
	int e = errno;
	close(fd);
	if (w == (ssize_t)n)
		return 0;
	return ah_sys_err(err, errlen, w < 0 && (e == ESRCH || e == ENOENT) ? AH_ENOENT : AH_EIO, p, 0,
			  "writing '%s': %s", value, w < 0 ? strerror(e) : "short write");
}

int ah_enforce_attach(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, pid_t pid, char *err, size_t errlen)
{
	if (!roots || !ref || pid <= 0)
		return AH_EINVAL;
	ah_enf_dirs d;
	int rc = ah_enf_dirs_of(roots, ref, &d);
	if (rc)
		return rc;
	char v[32];
	snprintf(v, sizeof v, "%d", (int)pid);
	for (size_t i = 0; i < d.n; i++) {
		rc = write_to(d.path[i], "cgroup.procs", v, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

/* cgroup.procs of dir: its pids, at most cap. */
static int read_pids(const char *dir, pid_t *pids, size_t cap, size_t *n, char *buf, size_t bcap, char *err,
		     size_t errlen)
{
	char p[AH_SYSPATH_MAX];
	size_t len, k = 0;
	if (ah_sys_path(p, dir, NULL, "cgroup.procs"))
		return AH_ETOOBIG;
	int rc = ah_sysfile_read(p, buf, bcap, &len, err, errlen);
	if (rc)
		return rc;
	ah_lines l;
	ah_lines_init(&l, buf, len);
	const char *s;
	size_t sn;
	while (ah_lines_next(&l, &s, &sn)) {
		uint64_t v;
		if (!sn)
			continue;
		if (ah_sysfile_parse_u64(s, sn, &v) || v == 0 || v > INT32_MAX)
			return ah_sys_err(err, errlen, AH_EPARSE, p, l.lineno, "expected a pid");
		if (k < cap)
			pids[k++] = (pid_t)v;
	}
	*n = k;
	return 0;
}

int ah_enforce_pids(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, pid_t *pids, size_t cap, size_t *n,
		    char *err, size_t errlen)
{
	if (!roots || !ref || (!pids && cap) || !n)
		return AH_EINVAL;
	ah_enf_dirs d;
	int rc = ah_enf_dirs_of(roots, ref, &d);
	if (rc)
		return rc;
	char *buf = malloc(AH_SYSFILE_MAX_BYTES + 1);
	if (!buf)
		return AH_ENOMEM;
	rc = read_pids(d.path[0], pids, cap, n, buf, AH_SYSFILE_MAX_BYTES + 1, err, errlen);
	free(buf);
	return rc;
}

int ah_enforce_kill(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, size_t *signalled, char *err,
		    size_t errlen)
{
	if (!roots || !ref)
		return AH_EINVAL;
	ah_enf_dirs d;
	int rc = ah_enf_dirs_of(roots, ref, &d);
	if (rc)
		return rc;
	size_t count = 0;
	/* v2 cgroup.kill kills every task at once, forks in flight included. */
	bool killed_v2 = false;
	if (d.v2[0]) {
		char p[AH_SYSPATH_MAX];
		if (!ah_sys_path(p, d.path[0], NULL, "cgroup.kill") && access(p, F_OK) == 0) {
			rc = write_to(d.path[0], "cgroup.kill", "1", err, errlen);
			if (rc && rc != AH_ENOENT)
				return rc;
			killed_v2 = rc == 0;
		}
	}
	pid_t *pids = malloc(AH_ENFORCE_PIDS_MAX * sizeof *pids);
	char *buf = malloc(AH_SYSFILE_MAX_BYTES + 1);
	rc = AH_ENOMEM;
	if (!pids || !buf)
		goto out;
	/* Else (and in v1): signal each pid, again until none is left; a task
	 * forking between the read and the kill is caught next round. A task
	 * paused at a v1 limit with oom_kill_disable takes SIGKILL too. After
	 * cgroup.kill the dying are given 100 ms to leave before any signal. */
	rc = 0;
	for (int round = 0; round < 100; round++) {
		size_t left = 0, sent = 0;
		bool signal_now = !killed_v2 || round >= 10;
		for (size_t i = 0; i < d.n; i++) {
			size_t n = 0;
			int r = read_pids(d.path[i], pids, AH_ENFORCE_PIDS_MAX, &n, buf, AH_SYSFILE_MAX_BYTES + 1, err,
					  errlen);
			if (r == AH_ENOENT)
				continue;
			if (r) {
				rc = r;
				goto out;
			}
			for (size_t k = 0; k < n && signal_now; k++)
				sent += kill(pids[k], SIGKILL) == 0;
			left += n;
		}
		/* a pid is in every hierarchy and signalled again each round:
		 * the count is the largest round's */
		if (sent > count)
			count = sent;
		if (!left)
			goto out;
		usleep(10000); /* the dying leave the cgroup as they exit */
	}
	rc = ah_sys_err(err, errlen, AH_EBUSY, d.path[0], 0, "tasks remain after 100 rounds of SIGKILL");
out:
	if (signalled && !rc)
		*signalled = count;
	free(pids);
	free(buf);
	return rc;
}

/* An eventfd registered through the v1 memory cgroup's
 * cgroup.event_control on FILE ("EFD FD" or "EFD FD ARG"). */
static int event_watch(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, const char *file, const char *arg,
		       int *efd, char *err, size_t errlen)
{
	if (!roots || !ref || !efd)
		return AH_EINVAL;
	char dir[AH_SYSPATH_MAX], p[AH_SYSPATH_MAX];
	if (!ah_enf_dir_v1(roots, ref, AH_CG_V1_MEMORY, dir))
		return ah_sys_err(err, errlen, AH_EUNSUPPORTED, "memory", 0, "no v1 memory cgroup to watch");
	if (ah_sys_path(p, dir, NULL, file))
		return AH_ETOOBIG;
	int ofd = open(p, O_RDONLY | O_CLOEXEC);
	if (ofd < 0)
		return ah_sys_err(err, errlen, errno == ENOENT ? AH_ENOENT : AH_EIO, p, 0, "cannot open: %s",
				  strerror(errno));
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int rc = AH_EIO;
	if (fd < 0) {
		rc = ah_sys_err(err, errlen, AH_EIO, "eventfd", 0, "%s", strerror(errno));
		goto out;
	}
	char v[64];
	snprintf(v, sizeof v, "%d %d%s%s", fd, ofd, arg ? " " : "", arg ? arg : "");
	rc = write_to(dir, "cgroup.event_control", v, err, errlen);
	if (rc) {
		close(fd);
		goto out;
	}
	*efd = fd;
out:
	close(ofd); /* the kernel holds its own reference */
	return rc;
}

int ah_enforce_oom_watch(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, int *efd, char *err, size_t errlen)
{
	return event_watch(roots, ref, "memory.oom_control", NULL, efd, err, errlen);
}

int ah_enforce_usage_watch(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, uint64_t threshold_bytes, int *efd,
			   char *err, size_t errlen)
{
	if (!threshold_bytes || threshold_bytes == AH_LIMIT_NONE)
		return AH_EINVAL;
	char arg[24];
	snprintf(arg, sizeof arg, "%llu", (unsigned long long)threshold_bytes);
	return event_watch(roots, ref, "memory.usage_in_bytes", arg, efd, err, errlen);
}

int ah_enforce_proc_cgroups(const char *proc_root, pid_t pid, ah_proc_cgroups *out, char *err, size_t errlen)
{
	if (!proc_root || !out || pid < 0)
		return AH_EINVAL;
	char who[32], p[AH_SYSPATH_MAX];
	if (pid)
		snprintf(who, sizeof who, "%d", (int)pid);
	else
		snprintf(who, sizeof who, "self");
	if (ah_sys_path(p, proc_root, who, "cgroup"))
		return AH_ETOOBIG;
	size_t cap = 64 << 10, len;
	char *buf = malloc(cap);
	ah_proc_cgroups *r = calloc(1, sizeof *r);
	int rc = AH_ENOMEM;
	if (!buf || !r)
		goto out;
	rc = ah_sysfile_read(p, buf, cap, &len, err, errlen);
	if (rc)
		goto out;
	ah_lines l;
	ah_lines_init(&l, buf, len);
	const char *s;
	size_t n;
	while (ah_lines_next(&l, &s, &n)) {
		if (!n)
			continue;
		/* "ID:CONTROLLERS:PATH"; PATH may hold ':' */
		const char *c1 = memchr(s, ':', n), *c2 = c1 ? memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - s)) : NULL;
		if (!c2 || c2[1] != '/') {
			rc = ah_sys_err(err, errlen, AH_EPARSE, p, l.lineno, "expected 'ID:CONTROLLERS:/PATH'");
			goto out;
		}
		size_t pl = n - (size_t)(c2 + 1 - s);
		if (pl >= AH_SYSPATH_MAX) {
			rc = ah_sys_err(err, errlen, AH_ETOOBIG, p, l.lineno, "path too long");
			goto out;
		}
		ah_tok ctl = {c1 + 1, (size_t)(c2 - c1 - 1)};
		if (ctl.n == 0 && c1 - s == 1 && s[0] == '0') {
			memcpy(r->v2, c2 + 1, pl);
			r->v2[pl] = 0;
			r->has_v2 = true;
			continue;
		}
		for (const char *q = ctl.s, *e = ctl.s + ctl.n; q < e;) {
			const char *c = memchr(q, ',', (size_t)(e - q));
			if (!c)
				c = e;
			ah_tok one = {q, (size_t)(c - q)};
			for (int i = 0; i < AH_CG_V1_N; i++)
				if (ah_tok_eq(&one, ah_cg_v1_name((ah_cg_v1)i))) {
					memcpy(r->v1[i], c2 + 1, pl);
					r->v1[i][pl] = 0;
					r->has_v1[i] = true;
				}
			q = c + 1;
		}
	}
	*out = *r;
	rc = 0;
out:
	free(buf);
	free(r);
	return rc;
}
