/* One etcd member for a C test, started and stopped by the test's group
 * setup and teardown on loopback ports (the caller picks them); the tests
 * skip with a message when etcd is not installed. Include after cmocka.h. */
#ifndef AHEAD_TEST_ETCD_FIXTURE_H
#define AHEAD_TEST_ETCD_FIXTURE_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ahead/ledger.h"
#include "ahead/ledger_etcd.h"

#define ETCD_FX_BIN "/usr/bin/etcd"

static pid_t etcd_fx_pid;
static char etcd_fx_dir[256];

static inline void etcd_fx_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* client and peer: "http://127.0.0.1:PORT" */
static inline int etcd_fx_start(const char *client, const char *peer)
{
	if (access(ETCD_FX_BIN, X_OK) != 0)
		return 0;
	snprintf(etcd_fx_dir, sizeof etcd_fx_dir, "/tmp/ahead-test-etcdfx-%d", (int)getpid());
	char cluster[160];
	snprintf(cluster, sizeof cluster, "t0=%s", peer);
	etcd_fx_pid = fork();
	if (etcd_fx_pid == 0) {
		if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
			_exit(127);
		execl(ETCD_FX_BIN, ETCD_FX_BIN, "--name", "t0", "--data-dir", etcd_fx_dir, "--listen-client-urls", client,
		      "--advertise-client-urls", client, "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		      "--initial-cluster", cluster, "--heartbeat-interval", "200", "--election-timeout", "2000",
		      "--max-txn-ops", "10000", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) { /* up to 10 s */
		ah_ledger *l = NULL;
		char err[256];
		ah_ledger_etcd_opts o = {.timeout_ms = 500, .lease_ttl_s = -1};
		if (ah_ledger_etcd_open(client, "/probe", &o, &l, err, sizeof err) == 0) {
			ah_ledger_free(l);
			return 0;
		}
		etcd_fx_sleep_ms(100);
	}
	return -1;
}

static inline int etcd_fx_stop(void)
{
	if (etcd_fx_pid > 0) {
		kill(etcd_fx_pid, SIGTERM);
		waitpid(etcd_fx_pid, NULL, 0);
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", etcd_fx_dir);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

static inline void etcd_fx_need(void)
{
	if (etcd_fx_pid <= 0) {
		print_message("SKIP: %s not installed (Debian: etcd-server)\n", ETCD_FX_BIN);
		skip();
	}
}

#endif
