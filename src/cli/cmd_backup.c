/* ahead backup|restore: a consistent copy of the ledger while it is in use,
 * and putting one back. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/service.h"
#include "cli/cli.h"

static void usage(FILE *f, bool restore)
{
	if (restore)
		fprintf(f, "usage: ahead restore FILE [--db PATH]\n\n"
			   "Replaces the ledger with the backup FILE (made by 'ahead backup'), after\n"
			   "checking that it is an ahead ledger this version can read. The old ledger\n"
			   "stays if anything fails. Stop every process using the ledger first.\n\n"
			   "  --db PATH   ledger database (default $AHEAD_DB, else ./ahead.db)\n");
	else
		fprintf(f, "usage: ahead backup FILE [--db PATH]\n\n"
			   "Writes a consistent copy of the ledger (allocations, queue, pools, events,\n"
			   "policy) to FILE while it is in use; allocation goes on meanwhile.\n"
			   "The usage history (the shadow store) is not included.\n\n"
			   "  --db PATH   ledger database (default $AHEAD_DB, else ./ahead.db)\n");
}

static int run(int argc, char **argv, bool restore)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	const char *name = restore ? "restore" : "backup", *db = NULL;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		if (c == 'd') {
			db = optarg;
		} else if (c == 'h') {
			usage(stdout, restore);
			return AH_EXIT_OK;
		} else {
			usage(stderr, restore);
			return AH_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || !*argv[optind]) {
		ah_cli_err(name, optind >= argc ? "missing FILE" : "expected exactly one FILE");
		return AH_EXIT_USAGE;
	}
	const char *file = argv[optind];
	char err[768];
	db = ah_cli_db_path(db);
	int rc = restore ? ah_service_restore(file, db, err, sizeof err) : ah_service_backup(db, file, err, sizeof err);
	if (rc < 0) {
		ah_cli_err(name, "%s", err);
		return rc == AH_ENOENT ? AH_EXIT_NOTFOUND
		       : rc == AH_EINVAL || rc == AH_EPARSE || rc == AH_EUNSUPPORTED ? AH_EXIT_USAGE
										: AH_EXIT_INTERNAL;
	}
	printf(restore ? "restored %s from %s\n" : "backed up %s to %s\n", db, file);
	return AH_EXIT_OK;
}

int ah_cmd_backup(int argc, char **argv)
{
	return run(argc, argv, false);
}

int ah_cmd_restore(int argc, char **argv)
{
	return run(argc, argv, true);
}
