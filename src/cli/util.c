#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <stdbool.h>

#include "ahead/encode.h"
#include "ahead/owner.h"
#include "cli/cli.h"

/* With -o json, messages wait for the exit code (ah_cli_exit) and leave as
 * one {"error": ...} object; warnings leave at once as {"warning": ...}. */
static bool json_errors;
static char first_msg[2048];
static bool have_msg;

void ah_cli_json_errors(bool on)
{
	json_errors = on;
}

/* The option or argument a message names: "--lease: ..." or "ID: ...". */
static void message_field(const char *m, char *field, size_t len)
{
	size_t n = strcspn(m, ": ");
	field[0] = '\0';
	if (n == 0 || n >= len || m[n] != ':')
		return;
	bool upper = true;
	for (size_t i = 0; i < n; i++)
		upper &= (m[i] >= 'A' && m[i] <= 'Z') || m[i] == '_';
	if (m[0] == '-' || upper) {
		memcpy(field, m, n);
		field[n] = '\0';
	}
}

static void print_json(const char *key, const char *code, const char *msg)
{
	char field[64];
	message_field(msg, field, sizeof field);
	json_t *e = ah_json_error(code, msg, *field ? field : NULL);
	if (e && strcmp(key, "error")) {
		json_object_set(e, key, json_object_get(e, "error"));
		json_object_del(e, "error");
	}
	char *s = e ? json_dumps(e, JSON_COMPACT) : NULL;
	if (s)
		fprintf(stderr, "%s\n", s);
	free(s);
	json_decref(e);
}

void ah_cli_verr(const char *cmd, const char *fmt, va_list ap)
{
	char msg[2048];
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (!json_errors) {
		fprintf(stderr, "ahead %s: %s\n", cmd, msg);
		return;
	}
	if (!strncmp(msg, "warning: ", 9)) {
		print_json("warning", "warning", msg + 9);
		return;
	}
	if (!have_msg) {
		snprintf(first_msg, sizeof first_msg, "%s", msg);
		have_msg = true;
	}
}

void ah_cli_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ah_cli_verr(cmd, fmt, ap);
	va_end(ap);
}

int ah_cli_exit(int code)
{
	static const char *const names[] = {"ok", "internal", "usage", "refused", "queued", "not_found"};
	if (json_errors && have_msg && code != AH_EXIT_OK)
		print_json("error", code >= 0 && code <= AH_EXIT_NOTFOUND ? names[code] : "internal", first_msg);
	have_msg = false;
	return code;
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

int ah_cli_refuse_if_owned(const char *cmd, const char *db)
{
	long pid = 0;
	if (!ah_owner_get(db, &pid))
		return 0;
	ah_cli_err(cmd, "ledger %s owned by ahead serve (pid %ld); use --server URL", db, pid);
	return AH_EXIT_INTERNAL;
}

int ah_cli_need_ledger(const char *cmd, const char *db)
{
	struct stat st;
	if (!strncmp(db, "etcd://", 7))
		return 0; /* an etcd ledger: opening it says whether it answers */
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
