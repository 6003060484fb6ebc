/* The one ledger-file fixture of the tests: a per-process path under /tmp,
 * and removing a SQLite file with its WAL and shared-memory siblings. */
#ifndef AHEAD_TEST_DB_FIXTURE_H
#define AHEAD_TEST_DB_FIXTURE_H

#include <stdio.h>
#include <unistd.h>

/* "/tmp/ahead-test-NAME-PID.db" into buf. */
static inline void db_fixture_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "/tmp/ahead-test-%s-%d.db", name, (int)getpid());
}

/* Removes path, path-wal and path-shm (absent ones are fine). */
static inline void db_fixture_unlink(const char *path)
{
	static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
	char p[4200];
	for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
		snprintf(p, sizeof p, "%s%s", path, sfx[i]);
		unlink(p);
	}
}

#endif
