/* ahead token create|ls|revoke|rotate and ahead audit: the daemon's bearer
 * tokens and its audit log. Both live only in a daemon's ledger, so these
 * commands are clients only: they need --server URL (or $AHEAD_SERVER)
 * and an admin token. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/duration.h"
#include "ahead/encode.h"
#include "ahead/names.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/opts.h"
#include "cli/table.h"

static void token_usage(FILE *f)
{
	fprintf(f, "usage: ahead token create NAME --role ROLE [--tenant T] [--expires-in DURATION]\n"
		   "       ahead token ls\n"
		   "       ahead token revoke ID\n"
		   "       ahead token rotate ID [--grace DURATION]\n"
		   "       (each with --server URL and an admin token; -o table|json)\n\n"
		   "Manages the bearer tokens `ahead serve` accepts (docs/API.md).\n"
		   "create  makes a token; its secret is printed once (only its SHA-256 is kept).\n"
		   "        ROLE: admin, operator, tenant (bound to --tenant T: it sees and\n"
		   "        touches only that tenant's objects) or viewer.\n"
		   "ls      lists tokens (never their secrets).\n"
		   "revoke  ends a token at once.\n"
		   "rotate  makes a new token with the same name, role and tenant; the old one\n"
		   "        keeps working for --grace (default 1h), so clients can switch.\n\n"
		   "  -r, --role ROLE          admin, operator, tenant or viewer (create)\n"
		   "  -t, --tenant T           the tenant of a tenant token (create)\n"
		   "      --expires-in D       the token expires D after creation (default never)\n"
		   "      --grace D            rotate: how long the old token still works\n"
		   "  -o FORMAT                table (default) or json\n" AH_CLIENT_USAGE);
}

static void audit_usage(FILE *f)
{
	fprintf(f, "usage: ahead audit [--after SEQ] [--since TIME] [--who TOKEN_ID] [--limit N]\n"
		   "                    [--server URL] [-o table|json]\n\n"
		   "Shows the daemon's append-only audit log, oldest first: every mutating call\n"
		   "(who, role, tenant, source address, method, path, status, outcome, the\n"
		   "Idempotency-Key). Needs --server URL and an admin token.\n\n"
		   "  --after SEQ       entries after audit sequence number SEQ\n"
		   "  --since TIME      entries at or after TIME (RFC 3339 or epoch seconds)\n"
		   "  --who TOKEN_ID    one token's entries\n"
		   "  -n, --limit N     at most N entries (default 1000)\n"
		   "  -o FORMAT         table (default) or json\n" AH_CLIENT_USAGE);
}

/* A client or nothing: these commands have no local ledger to read. */
static int open_client(const char *cmd, const ah_client_opts *co, ah_client **out)
{
	int cx;
	if (!ah_client_wanted(cmd, co, NULL, &cx)) {
		if (!cx)
			ah_cli_err(cmd, "needs --server URL (or $AHEAD_SERVER): tokens and the audit log live in the daemon");
		return cx ? cx : AH_EXIT_USAGE;
	}
	return ah_client_open(cmd, co, out);
}

static const char *s_or(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && *s ? s : dflt;
}

static void token_rows(const json_t *items)
{
	ah_cli_table t;
	ah_cli_table_init(&t, 8, 0);
	ah_cli_table_addv(&t, "ID", "NAME", "ROLE", "TENANT", "CREATED", "EXPIRES", "REVOKED", "ROTATED FROM");
	size_t i;
	json_t *v;
	json_array_foreach(items, i, v)
		ah_cli_table_addv(&t, s_or(v, "id", "-"), s_or(v, "name", "-"), s_or(v, "role", "-"), s_or(v, "tenant", "-"),
				  s_or(v, "created", "-"), s_or(v, "expires", "-"), s_or(v, "revoked", "-"),
				  s_or(v, "rotated_from", "-"));
	if (json_array_size(items))
		ah_cli_table_print(&t, stdout);
	else
		printf("(no tokens)\n");
	ah_cli_table_fini(&t);
}

static json_t *duration_json(int64_t ns)
{
	if (ns % 1000000000LL == 0)
		return json_integer(ns / 1000000000LL);
	return json_real((double)ns / 1e9);
}

int ah_cmd_token(int argc, char **argv)
{
	ah_client_opts co = {0};
	const char *role = NULL, *tenant = NULL, *args[2] = {NULL, NULL};
	int64_t expires = 0, grace = -1;
	int n_args = 0;
	ah_out_fmt fmt = AH_OUT_TABLE;
	const ah_cli_opt opts[] = {
		AH_OPT("role", 'r', AH_OPT_STRING, &role, .hint = "ROLE", .flags = AH_OPT_NONEMPTY),
		AH_OPT("tenant", 't', AH_OPT_STRING, &tenant, .hint = "T", .flags = AH_OPT_NONEMPTY),
		AH_OPT("expires-in", 0, AH_OPT_DURATION, &expires, .hint = "DURATION", .lo = 1),
		AH_OPT("grace", 0, AH_OPT_DURATION, &grace, .hint = "DURATION"),
		AH_OPT("output", 'o', AH_OPT_FORMAT, &fmt, .formats = AH_FMTS_TABLE_JSON),
		AH_CLIENT_OPTS(&co),
	};
	ah_cli_spec spec = {.cmd = "token", .usage = token_usage, .opts = opts, .n_opts = AH_CLI_NOPTS(opts),
			    .min_args = 1, .max_args = 2, .args_name = "action (create, ls, revoke or rotate)",
			    .args = args, .n_args = &n_args};
	int ex = ah_cli_parse(&spec, argc, argv);
	if (ex != AH_CLI_GO)
		return ex;
	const char *action = args[0], *arg = args[1];
	bool create = !strcmp(action, "create"), ls = !strcmp(action, "ls"), revoke = !strcmp(action, "revoke"),
	     rotate = !strcmp(action, "rotate");
	if (!create && !ls && !revoke && !rotate) {
		ah_cli_err("token", "unknown action '%.64s' (expected create, ls, revoke or rotate)", action);
		return AH_EXIT_USAGE;
	}
	if (ls ? arg != NULL : !arg) {
		ah_cli_err("token", ls ? "ls takes no argument" : create ? "create: missing NAME" : "%s: missing ID", action);
		return AH_EXIT_USAGE;
	}
	if (!create && (role || tenant || expires)) {
		ah_cli_err("token", "--role, --tenant and --expires-in are for create");
		return AH_EXIT_USAGE;
	}
	if (!rotate && grace >= 0) {
		ah_cli_err("token", "--grace is for rotate");
		return AH_EXIT_USAGE;
	}
	if (create && (!role || ah_name_check_object(arg) < 0)) {
		ah_cli_err("token", !role ? "create: --role is required (admin, operator, tenant or viewer)"
					  : "create: NAME: '%.64s' is not a name ([A-Za-z0-9][A-Za-z0-9_.-]*)", arg);
		return AH_EXIT_USAGE;
	}
	ah_client *cl = NULL;
	json_t *body = NULL, *o = NULL;
	char *id = !create && arg ? ah_client_escape(arg) : NULL, path[512];
	if ((ex = open_client("token", &co, &cl)))
		goto out;
	const char *method = "GET";
	if (create) {
		method = "POST";
		snprintf(path, sizeof path, "/v1/tokens");
		body = json_pack("{s:s,s:s}", "name", arg, "role", role);
		if (tenant)
			json_object_set_new(body, "tenant", json_string(tenant));
		if (expires)
			json_object_set_new(body, "expires_in", duration_json(expires));
	} else if (ls) {
		snprintf(path, sizeof path, "/v1/tokens");
	} else {
		method = revoke ? "DELETE" : "POST";
		snprintf(path, sizeof path, "/v1/tokens/%.300s%s", id ? id : "", rotate ? "/rotate" : "");
		if (rotate) {
			body = json_object();
			if (grace >= 0)
				json_object_set_new(body, "grace", duration_json(grace));
		}
	}
	long st;
	if ((ex = ah_client_call(cl, method, path, body, &st, &o)))
		goto out;
	if (st == 404 && !create && !ls) {
		ah_cli_err("token", "%.64s: no such token", arg);
		ex = AH_EXIT_NOTFOUND;
		goto out;
	}
	if (st != 200 && st != 201) {
		ex = ah_client_fail(cl, st, o);
		goto out;
	}
	if (fmt == AH_OUT_JSON) {
		ah_client_print_json(o);
	} else if (ls) {
		token_rows(json_object_get(o, "items"));
	} else if (revoke) {
		printf("revoked  token %s (%s)\n", s_or(o, "id", "-"), s_or(o, "name", "-"));
	} else {
		const char *t = s_or(o, "tenant", NULL);
		printf("%s  token %s (%s, role %s%s%s)", create ? "created" : "rotated", s_or(o, "id", "-"),
		       s_or(o, "name", "-"), s_or(o, "role", "-"), t ? ", tenant " : "", t ? t : "");
		if (s_or(o, "expires", NULL))
			printf(", expires %s", s_or(o, "expires", ""));
		printf("\n");
		if (rotate)
			printf("previous token %s works until %s\n", s_or(o, "previous", "-"), s_or(o, "previous_expires", "-"));
		printf("token (shown once; store it now): %s\n", s_or(o, "token", "-"));
	}
out:
	free(id);
	json_decref(body);
	json_decref(o);
	ah_client_free(cl);
	return ex;
}

int ah_cmd_audit(int argc, char **argv)
{
	ah_client_opts co = {0};
	const char *who = NULL, *since = NULL;
	int64_t after = 0, limit = 0;
	ah_out_fmt fmt = AH_OUT_TABLE;
	const ah_cli_opt opts[] = {
		AH_OPT("after", 0, AH_OPT_INT, &after, .hint = "SEQ", .lo = 0),
		AH_OPT("since", 's', AH_OPT_STRING, &since, .hint = "TIME", .flags = AH_OPT_NONEMPTY),
		AH_OPT("who", 0, AH_OPT_STRING, &who, .hint = "TOKEN_ID", .flags = AH_OPT_NONEMPTY),
		AH_OPT("limit", 'n', AH_OPT_INT, &limit, .hint = "N", .lo = 1, .hi = 100000),
		AH_OPT("output", 'o', AH_OPT_FORMAT, &fmt, .formats = AH_FMTS_TABLE_JSON),
		AH_CLIENT_OPTS(&co),
	};
	ah_cli_spec spec = {.cmd = "audit", .usage = audit_usage, .opts = opts, .n_opts = AH_CLI_NOPTS(opts)};
	int ex = ah_cli_parse(&spec, argc, argv);
	if (ex != AH_CLI_GO)
		return ex;
	ah_client *cl = NULL;
	json_t *o = NULL;
	char *w = who ? ah_client_escape(who) : NULL, *s = since ? ah_client_escape(since) : NULL, path[1024];
	if ((ex = open_client("audit", &co, &cl)))
		goto out;
	char lim[32] = "";
	if (limit)
		snprintf(lim, sizeof lim, "&limit=%lld", (long long)limit);
	snprintf(path, sizeof path, "/v1/audit?after=%lld%s%s%.300s%s%.300s", (long long)after, lim, w ? "&who=" : "",
		 w ? w : "", s ? "&since=" : "", s ? s : "");
	long st;
	if ((ex = ah_client_call(cl, "GET", path, NULL, &st, &o)))
		goto out;
	if (st != 200 || !json_is_array(json_object_get(o, "items"))) {
		ex = ah_client_fail(cl, st, o);
		goto out;
	}
	if (fmt == AH_OUT_JSON) {
		ah_client_print_json(o);
		goto out;
	}
	ah_cli_table t;
	ah_cli_table_init(&t, 10, 1u | (1u << 8));
	ah_cli_table_addv(&t, "SEQ", "TIME", "WHO", "ROLE", "TENANT", "SOURCE", "METHOD", "PATH", "STATUS", "OUTCOME");
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(o, "items"), i, v)
	{
		char seq[24], status[16];
		snprintf(seq, sizeof seq, "%lld", (long long)json_integer_value(json_object_get(v, "seq")));
		snprintf(status, sizeof status, "%lld", (long long)json_integer_value(json_object_get(v, "status")));
		ah_cli_table_addv(&t, seq, s_or(v, "time", "-"), s_or(v, "who", "-"), s_or(v, "role", "-"),
				  s_or(v, "tenant", "-"), s_or(v, "source", "-"), s_or(v, "method", "-"), s_or(v, "path", "-"),
				  status, s_or(v, "outcome", "-"));
	}
	if (json_array_size(json_object_get(o, "items")))
		ah_cli_table_print(&t, stdout);
	else
		printf("(no audit entries)\n");
	ah_cli_table_fini(&t);
out:
	free(w);
	free(s);
	json_decref(o);
	ah_client_free(cl);
	return ex;
}
