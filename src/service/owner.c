/* Ledger ownership (include/ahead/owner.h): an flock on LEDGER.owner. The
 * pid written there is for messages only; the lock is the truth, so a
 * stale file left by a crash never blocks anyone. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "ahead/error.h"
#include "ahead/owner.h"

/* An etcd ledger has no owner file: several instances share it, and its
 * commits' compares keep them apart (docs/CLUSTER.md). */
static bool shared(const char *db_path)
{
	return !strncmp(db_path, "etcd://", 7);
}

static int owner_path(const char *db_path, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s.owner", db_path);
	return n < 0 || (size_t)n >= len ? AH_ETOOBIG : 0;
}

static long read_pid(int fd)
{
	char b[32] = {0};
	ssize_t n = pread(fd, b, sizeof b - 1, 0);
	return n > 0 ? strtol(b, NULL, 10) : 0;
}

int ah_owner_acquire(const char *db_path, int *out_fd, long *out_pid, char *err, size_t errlen)
{
	char p[4096];
	if (shared(db_path)) {
		*out_fd = -1;
		return 0;
	}
	if (owner_path(db_path, p, sizeof p) < 0)
		return AH_ETOOBIG;
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
		return AH_EIO;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		long pid = read_pid(fd);
		close(fd);
		if (out_pid)
			*out_pid = pid;
		snprintf(err, errlen, "ledger %s is owned by ahead serve (pid %ld)", db_path, pid);
		return AH_EBUSY;
	}
	char b[32];
	int n = snprintf(b, sizeof b, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, b, (size_t)n, 0) != n) {
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
		close(fd);
		return AH_EIO;
	}
	*out_fd = fd;
	return 0;
}

void ah_owner_release(int fd, const char *db_path)
{
	if (fd < 0)
		return;
	char p[4096];
	/* empty the pid before the lock goes, so a reader never sees ours */
	if (ftruncate(fd, 0) < 0) {
		/* nothing to do: the lock is what counts */
	}
	if (db_path && owner_path(db_path, p, sizeof p) == 0)
		unlink(p);
	close(fd);
}

int ah_owner_get(const char *db_path, long *out_pid)
{
	char p[4096];
	if (shared(db_path) || owner_path(db_path, p, sizeof p) < 0)
		return 0;
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int owned = 0;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
		owned = 1;
		if (out_pid)
			*out_pid = read_pid(fd);
	} else {
		flock(fd, LOCK_UN);
	}
	close(fd);
	return owned;
}
