/* ahead backup|restore: a consistent copy of the ledger while it is in use,
 * and putting one back. */
#include <stdio.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/service.h"
#include "cli/cli.h"
#include "cli/opts.h"

static void usage_restore(FILE *f)
{
	fprintf(f, "usage: ahead restore FILE [--db PATH]\n\n"
		   "Replaces the ledger with the backup FILE (made by 'ahead backup'), after\n"
		   "checking that it is an ahead ledger this version can read. The old ledger\n"
		   "stays if anything fails. Stop every process using the ledger first.\n\n"
		   "  --db PATH   ledger database (default $AHEAD_DB, else ./ahead.db)\n");
}

static void usage_backup(FILE *f)
{
	fprintf(f, "usage: ahead backup FILE [--db PATH]\n\n"
		   "Writes a consistent copy of the ledger (allocations, queue, pools, events,\n"
		   "policy) to FILE while it is in use; allocation goes on meanwhile.\n"
		   "The usage history (the shadow store) is not included.\n\n"
		   "  --db PATH   ledger database (default $AHEAD_DB, else ./ahead.db)\n");
}

static int run(int argc, char **argv, bool restore)
{
	const char *name = restore ? "restore" : "backup", *db = NULL, *file = NULL;
	const ah_cli_opt opts[] = {AH_OPT("db", 'd', AH_OPT_STRING, &db, .hint = "PATH", .flags = AH_OPT_NONEMPTY)};
	ah_cli_spec spec = {.cmd = name, .usage = restore ? usage_restore : usage_backup, .opts = opts,
			    .n_opts = AH_CLI_NOPTS(opts), .min_args = 1, .max_args = 1, .args_name = "FILE",
			    .args = &file};
	int ex = ah_cli_parse(&spec, argc, argv);
	if (ex != AH_CLI_GO)
		return ex;
	if (!*file) {
		ah_cli_err(name, "missing FILE");
		return AH_EXIT_USAGE;
	}
	char err[768];
	db = ah_cli_db_path(db);
	int rc0;
	if (restore && (rc0 = ah_cli_refuse_if_owned("restore", db)))
		return rc0;
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
