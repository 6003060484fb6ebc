/* ahead: command-line entry point; dispatches to one file per subcommand. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} commands[] = {
	{"policy", ah_cmd_policy, "check or apply a policy file"},
	{"pool", ah_cmd_pool, "list pools and their capacity"},
	{"alloc", ah_cmd_alloc, "request an allocation"},
	{"release", ah_cmd_release, "release an allocation (or cancel a queued request)"},
	{"renew", ah_cmd_renew, "renew an allocation's lease"},
	{"ls", ah_cmd_ls, "list allocations and the queue"},
	{"describe", ah_cmd_describe, "show one allocation: reserved, predicted, used, model, lease, resizes"},
	{"recommend", ah_cmd_recommend, "what a workload should reserve, per dimension, from its history"},
	{"report", ah_cmd_report, "report an allocation's usage (grows or shrinks it, renews the lease)"},
	{"events", ah_cmd_events, "show the event log"},
	{"tick", ah_cmd_tick, "reclaim expired leases and time out queued requests now"},
	{"forecast", ah_cmd_forecast, "forecast a time series from a CSV file"},
	{"anomalies", ah_cmd_anomalies, "flag anomalies in a time series CSV file"},
	{"shadow", ah_cmd_shadow, "usage history: import, query, export"},
	{"replay", ah_cmd_replay, "replay a usage trace under allocation policies"},
	{"scale", ah_cmd_scale, "one predictive pool-shaping step: forecast, resize, run scale hooks"},
	{"serve", ah_cmd_serve, "run the daemon: the HTTP/JSON API over one ledger"},
	{"backup", ah_cmd_backup, "copy the ledger to a file while it is in use"},
	{"restore", ah_cmd_restore, "replace the ledger with a backup"},
	{"token", ah_cmd_token, "the daemon's bearer tokens: create, ls, revoke, rotate (--server)"},
	{"top", ah_cmd_top, "a terminal monitor of the daemon: pools, queue, events (--server)"},
	{"audit", ah_cmd_audit, "the daemon's audit log of every mutating call (--server)"},
	{"run", ah_cmd_run, "run a command sized from its past runs, in a cgroup with those limits"},
	{"cluster", ah_cmd_cluster, "the etcd cluster behind an etcd ledger: members, instances, revisions"},
	{"node", ah_cmd_node, "the fleet's nodes on an etcd ledger: ls, describe, cordon, uncordon"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ahead [--version] COMMAND [ARGS...]\n\n"
		   "ahead is a predictive resource manager.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nRun 'ahead COMMAND --help' for a command's options.\n"
		   "Exit codes: 0 ok, 1 internal error, 2 usage error, 3 refused, 4 queued, 5 not found.\n");
}

/* -o json anywhere on the line (before "--"): errors are JSON too, even
 * those found before the option itself is parsed. */
static bool wants_json(int argc, char **argv)
{
	/* shadow export's --output names a file, not a format */
	bool file_output = argc > 2 && !strcmp(argv[1], "shadow") && !strcmp(argv[2], "export");
	for (int i = 2; i < argc && strcmp(argv[i], "--"); i++) {
		if (file_output && !strncmp(argv[i], "--output", 8))
			continue;
		const char *a = argv[i];
		if (!strcmp(a, "-ojson") || !strcmp(a, "--output=json") || !strcmp(a, "--format=json"))
			return true;
		if ((!strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--format")) && i + 1 < argc &&
		    !strcmp(argv[i + 1], "json"))
			return true;
	}
	return false;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return AH_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return AH_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("ahead 0.1.0\n");
		return AH_EXIT_OK;
	}
	ah_cli_json_errors(wants_json(argc, argv));
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return ah_cli_exit(commands[i].fn(argc - 1, argv + 1));
	fprintf(stderr, "ahead: unknown command '%.64s'\n", argv[1]);
	usage(stderr);
	return AH_EXIT_USAGE;
}
