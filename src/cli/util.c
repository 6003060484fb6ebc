#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

void ah_cli_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "ahead %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *ah_cli_db_path(const char *flag_value)
{
	if (flag_value && *flag_value)
		return flag_value;
	const char *env = getenv("AHEAD_DB");
	if (env && *env)
		return env;
	return "./ahead.db";
}

const char *ah_cli_file_kind(unsigned mode)
{
	return S_ISDIR(mode) ? "a directory" : S_ISFIFO(mode) ? "a FIFO" : S_ISCHR(mode) ? "a character device"
		: S_ISBLK(mode) ? "a block device" : S_ISSOCK(mode) ? "a socket" : "a special file";
}

int ah_cli_need_ledger(const char *cmd, const char *db)
{
	struct stat st;
	if (stat(db, &st) != 0) {
		ah_cli_err(cmd, "%s: no such ledger (apply a policy first: ahead policy apply FILE)", db);
		return AH_EXIT_NOTFOUND;
	}
	if (!S_ISREG(st.st_mode)) {
		ah_cli_err(cmd, "%s: not a ledger (%s, not a regular file)", db, ah_cli_file_kind(st.st_mode));
		return AH_EXIT_INTERNAL;
	}
	return 0;
}
