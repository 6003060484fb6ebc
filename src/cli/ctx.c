/* ahead CLI: opening the ledger, its policy and the engine for a command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <unistd.h>

#include "ahead/engine.h"
#include "ahead/error.h"
#include "ahead/ledger_sqlite.h"
#include "ahead/policy.h"
#include "ahead/shadow.h"
#include "cli/cli.h"

int64_t ah_cli_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void ah_cli_fmt_time(int64_t ns, char *buf, size_t len)
{
	time_t s = (time_t)(ns / 1000000000LL);
	int ms = (int)((ns % 1000000000LL) / 1000000);
	struct tm tm;
	if (ns < 0 || !gmtime_r(&s, &tm)) {
		snprintf(buf, len, "-");
		return;
	}
	char tmp[32];
	strftime(tmp, sizeof tmp, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", tmp, ms);
}

int ah_cli_parse_id(const char *cmd, const char *s, uint64_t *out)
{
	if (!s || !*s) {
		ah_cli_err(cmd, "ID: missing (expected a positive integer)");
		return -1;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*s == '-' || *s == '+' || *end || errno || v == 0 || v > (unsigned long long)INT64_MAX) {
		ah_cli_err(cmd, "ID: '%.40s' is not a positive integer id", s);
		return -1;
	}
	*out = v;
	return 0;
}

int ah_cli_exit_for(int err)
{
	switch (err) {
	case 0:
		return AH_EXIT_OK;
	case AH_ENOENT:
		return AH_EXIT_NOTFOUND;
	case AH_EINVAL:
	case AH_ERANGE:
	case AH_EPARSE:
	case AH_ETOOBIG:
		return AH_EXIT_USAGE;
	case AH_EPOLICY:
	case AH_EQUOTA:
	case AH_ERATE:
	case AH_ECAPACITY:
		return AH_EXIT_REFUSED;
	default:
		return AH_EXIT_INTERNAL;
	}
}

int ah_cli_open(const char *cmd, const char *db, int64_t now_ns, ah_cli_ctx *ctx)
{
	char err[512];
	char *text = NULL;
	int rc;
	memset(ctx, 0, sizeof(*ctx));
	rc = ah_ledger_sqlite_open(db, AH_DURABILITY_PROCESS, &ctx->led, err, sizeof err);
	if (rc < 0) {
		ah_cli_err(cmd, "%s", err);
		return AH_EXIT_INTERNAL;
	}
	rc = ah_ledger_sqlite_policy_get(ctx->led, &text, NULL);
	if (rc == AH_ENOENT) {
		ah_cli_err(cmd, "%s: no policy applied yet; run 'ahead policy apply FILE' first", db);
		rc = AH_EXIT_USAGE;
		goto fail;
	}
	if (rc < 0) {
		ah_cli_err(cmd, "%s: %s", db, ah_ledger_sqlite_errmsg(ctx->led));
		rc = AH_EXIT_INTERNAL;
		goto fail;
	}
	rc = ah_policy_load_string(text, strlen(text), "stored policy", &ctx->pol, err, sizeof err);
	free(text);
	text = NULL;
	if (rc < 0) {
		ah_cli_err(cmd, "%s: the stored policy no longer loads: %s", db, err);
		rc = AH_EXIT_INTERNAL;
		goto fail;
	}
	if (ctx->pol->durability == AH_DURABILITY_POWER &&
	    ah_ledger_sqlite_set_durability(ctx->led, AH_DURABILITY_POWER) < 0) {
		ah_cli_err(cmd, "%s: %s", db, ah_ledger_sqlite_errmsg(ctx->led));
		rc = AH_EXIT_INTERNAL;
		goto fail;
	}
	rc = ah_engine_new(ctx->pol, ctx->led, now_ns, &ctx->eng);
	if (rc < 0) {
		ah_cli_err(cmd, "%s: cannot load state: %s (%s)", db, ah_strerror(rc), ah_ledger_sqlite_errmsg(ctx->led));
		rc = AH_EXIT_INTERNAL;
		goto fail;
	}
	return 0;
fail:
	free(text);
	ah_cli_close(ctx);
	return rc;
}

void ah_cli_close(ah_cli_ctx *ctx)
{
	ah_engine_free(ctx->eng);
	ah_ledger_free(ctx->led);
	ah_policy_free(ctx->pol);
	memset(ctx, 0, sizeof(*ctx));
}

int ah_cli_shadow_open(const char *cmd, const char *db, const char *shadow_flag, bool create, ah_shadow **out)
{
	char path[4096];
	int rc;
	*out = NULL;
	if (shadow_flag && *shadow_flag) {
		if (strlen(shadow_flag) >= sizeof path) {
			ah_cli_err(cmd, "warning: --shadow-db: path longer than %zu bytes; usage history not used",
				   sizeof path - 1);
			return AH_ETOOBIG;
		}
		snprintf(path, sizeof path, "%s", shadow_flag);
	} else if ((rc = ah_shadow_path_for_db(db, path, sizeof path)) < 0) {
		ah_cli_err(cmd, "warning: %.200s: no shadow store path (%s); usage history not used", db, ah_strerror(rc));
		return rc;
	}
	/* Only commands that start history (alloc --workload) may create the
	 * file; the others leave no empty store behind a mistyped --db. */
	if (!create && access(path, F_OK) != 0)
		return 0;
	rc = ah_shadow_open(path, out);
	if (rc < 0) {
		ah_cli_err(cmd, "warning: shadow store %.200s: %s; usage history not used", path, ah_strerror(rc));
		*out = NULL;
	}
	return rc;
}
