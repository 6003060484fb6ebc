#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int ah_cli_parse_output(const char *s, ah_out_fmt *out)
{
	if (!s) {
		fprintf(stderr, "ahead: -o needs a value (table, json or csv)\n");
		return -1;
	}
	if (!strcmp(s, "table"))
		*out = AH_OUT_TABLE;
	else if (!strcmp(s, "json"))
		*out = AH_OUT_JSON;
	else if (!strcmp(s, "csv"))
		*out = AH_OUT_CSV;
	else {
		fprintf(stderr, "ahead: -o: unknown output format '%.32s' (expected table, json or csv)\n", s);
		return -1;
	}
	return 0;
}

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
