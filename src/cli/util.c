#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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
