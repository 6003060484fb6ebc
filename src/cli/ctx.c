/* ahead CLI: opening the ledger, its policy and the engine for a command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <math.h>
#include <unistd.h>

#include "ahead/error.h"
#include "ahead/id.h"
#include "ahead/encode.h"
#include "ahead/resource.h"
#include "ahead/service.h"
#include "cli/cli.h"

int64_t ah_cli_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void ah_cli_fmt_time(int64_t ns, char *buf, size_t len)
{
	ah_fmt_time(ns, buf, len); /* one time format for the CLI and the API */
}

void ah_cli_fmt_num(double x, char *buf, size_t len)
{
	if (isnan(x) || isinf(x)) {
		snprintf(buf, len, "%s", isnan(x) ? "nan" : x < 0 ? "-inf" : "inf");
		return;
	}
	double a = fabs(x);
	int dec = a >= 100000 ? 0 : a >= 1 ? 5 - (int)floor(log10(a)) : 6;
	snprintf(buf, len, "%.*f", dec < 0 ? 0 : dec, x);
	if (dec > 0 && strchr(buf, '.')) {
		char *e = buf + strlen(buf) - 1;
		while (*e == '0')
			*e-- = '\0';
		if (*e == '.')
			*e = '\0';
	}
	if (!strcmp(buf, "-0"))
		snprintf(buf, len, "0");
}

int ah_cli_parse_id(const char *cmd, const char *what, const char *s, uint64_t *out)
{
	if (!s || !*s) {
		ah_cli_err(cmd, "%s: missing (expected a positive integer)", what);
		return -1;
	}
	uint64_t v;
	if (ah_id_parse(s, &v)) { /* the one id grammar (id.h) */
		ah_cli_err(cmd, "%s: '%.40s' is not a positive integer id", what, s);
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

static void warn_stderr(void *ctx, const char *msg)
{
	ah_cli_err(ctx, "warning: %s", msg);
}

int ah_cli_open(const char *cmd, const char *db, const char *shadow_db, int64_t now_ns, ah_cli_ctx *ctx)
{
	char err[768];
	memset(ctx, 0, sizeof(*ctx));
	ctx->cmd = cmd;
	/* the commands that change the ledger; reads may look beside a daemon */
	static const char *const writers[] = {"alloc", "release", "renew", "cancel", "tick", "report", "scale", NULL};
	for (int i = 0; writers[i]; i++)
		if (!strcmp(cmd, writers[i])) {
			int ex = ah_cli_refuse_if_owned(cmd, db);
			if (ex)
				return ex;
		}
	ah_service_opts o;
	ah_service_opts_init(&o);
	o.db_path = db;
	o.shadow_path = shadow_db;
	o.warn = warn_stderr;
	o.warn_ctx = (void *)cmd;
	int rc = ah_service_open(&o, now_ns, &ctx->svc, err, sizeof err);
	if (rc < 0) {
		ah_cli_err(cmd, "%s", err);
		return rc == AH_ENOENT ? AH_EXIT_USAGE : AH_EXIT_INTERNAL;
	}
	ctx->pol = ah_service_policy_get(ctx->svc);
	return 0;
}

void ah_cli_close(ah_cli_ctx *ctx)
{
	ah_service_free(ctx->svc);
	memset(ctx, 0, sizeof(*ctx));
}

int ah_cli_fail(const ah_cli_ctx *ctx, int err, const char *what)
{
	if (what)
		ah_cli_err(ctx->cmd, "%s: %s (%s)", what, ah_strerror(err), ah_service_errmsg(ctx->svc));
	else
		ah_cli_err(ctx->cmd, "%s (%s)", ah_strerror(err), ah_service_errmsg(ctx->svc));
	return ah_cli_exit_for(err) == AH_EXIT_OK ? AH_EXIT_INTERNAL : ah_cli_exit_for(err);
}
