/* ahead scale: one predictive shaping step against the ledger, now — the
 * service's scale loop (include/ahead/scale_loop.h), the same controller
 * replay scores, with the pool's scale hook as the executor. This command
 * may block on a hook; the engine never does: allocation in other processes
 * goes on meanwhile with the old capacity. The demand history lives in the
 * ledger because the command is meant to run from a timer, one process per
 * step. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/encode.h"
#include "ahead/error.h"
#include "ahead/policy.h"
#include "ahead/scale_loop.h"
#include "ahead/service.h"
#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/table.h"

#define CMD "scale"

static void usage(FILE *f)
{
	fprintf(f, "usage: ahead scale [--dry-run] [--db PATH] [-o table|json]\n\n"
		   "Runs one predictive shaping step now (run it every 5 minutes, e.g. from a\n"
		   "timer): records each pool's demand, forecasts it, and resizes pools with\n"
		   "shaping = on where the policy's cost model says so, and moves capacity\n"
		   "between pools with the same parent when one is starved and another idle.\n"
		   "Each action runs the pool's scale_hook as  HOOK POOL DIMENSION FROM TO\n"
		   "(sizes in base units: millicores, bytes, ...); capacity changes only when\n"
		   "the hook succeeds. Every action and hook result is a 'scale' event\n"
		   "(ahead events). See docs/SCALING.md.\n\n"
		   "  --dry-run   print the decisions; record nothing, run no hook\n"
		   "  --db PATH   ledger database (default $AHEAD_DB, else ./ahead.db)\n"
		   "  -o FORMAT   table (default) or json\n\n"
		   "Exit: 0 done (also when nothing needed doing), 1 a hook failed (recorded)\n"
		   "or a storage error, 2 usage error.\n");
}

typedef struct {
	ah_out_fmt fmt;
	json_t *arr;
	ah_cli_table *tab;
	int failed;
} run_ctx;

static const char *kind_name(ah_scale_kind k)
{
	return k == AH_SCALE_KIND_REBALANCE ? "rebalance" : "scale";
}

static void report(void *ctx, const ah_policy *P, const ah_scale_action *a, ah_scale_status st, const char *result,
		   const ah_scale_result *hr)
{
	run_ctx *rc = ctx;
	if (st == AH_SCALE_FAILED || st == AH_SCALE_STORE_ERROR)
		rc->failed++;
	if (rc->fmt == AH_OUT_JSON) {
		json_array_append_new(rc->arr, ah_json_scale_action(P, a, result, hr));
		return;
	}
	char f[32], t[32], cost[64] = "-", att[16] = "-";
	ah_unit_format_human(P->dims.kind[a->dim], a->from, f, sizeof f);
	ah_unit_format_human(P->dims.kind[a->dim], a->to, t, sizeof t);
	if (a->on_nodes) { /* whole nodes: counts, and the node a scale-down removes */
		snprintf(f, sizeof f, "%d nodes", a->nodes_from);
		snprintf(t, sizeof t, "%d%s%.16s", a->nodes_to, a->node[0] ? " -" : "", a->node);
	}
	if (a->kind == AH_SCALE_KIND_SCALE) {
		char x[32], y[32];
		ah_cli_fmt_num(a->expected_cost, x, sizeof x);
		ah_cli_fmt_num(a->keep_cost, y, sizeof y);
		snprintf(cost, sizeof cost, "%s/%s", x, y);
	}
	if (hr && hr->ran)
		snprintf(att, sizeof att, "%d", hr->attempts);
	ah_cli_table_addv(rc->tab, P->pools[a->pool].name, P->dims.name[a->dim], kind_name(a->kind), f, t, cost, att,
			  result);
}

int ah_cmd_scale(int argc, char **argv)
{
	const char *db = NULL;
	bool dry = false;
	ah_out_fmt fmt = AH_OUT_TABLE;
	const ah_cli_opt opts[] = {
		AH_OPT("db", 'd', AH_OPT_STRING, &db, .hint = "PATH", .flags = AH_OPT_NONEMPTY),
		AH_OPT("dry-run", 'n', AH_OPT_FLAG, &dry),
		AH_OPT("output", 'o', AH_OPT_FORMAT, &fmt, .formats = AH_FMTS_TABLE_JSON),
	};
	ah_cli_spec spec = {.cmd = CMD, .usage = usage, .opts = opts, .n_opts = AH_CLI_NOPTS(opts)};
	int ex = ah_cli_parse(&spec, argc, argv);
	if (ex != AH_CLI_GO)
		return ex;
	db = ah_cli_db_path(db);
	int64_t now = ah_cli_now_ns();
	ah_cli_ctx ctx;
	ex = ah_cli_open(CMD, db, "", now, &ctx);
	if (ex)
		return ex;
	ah_cli_table tab;
	ah_cli_table_init(&tab, 8, 0x58u);
	run_ctx rc = {.fmt = fmt, .arr = fmt == AH_OUT_JSON ? json_array() : NULL, .tab = &tab};
	if (fmt == AH_OUT_TABLE)
		ah_cli_table_addv(&tab, "POOL", "DIM", "KIND", "FROM", "TO", "COST(NEW/KEEP)", "ATTEMPTS", "RESULT");
	ah_scale_hook_ctx hc = {.now_ns = ah_cli_now_ns, .db_path = db};
	ah_scale_exec exec = {.ctx = &hc, .run = ah_scale_hook_run, .cordon = ah_scale_hook_cordon};
	ah_scale_step_out so;
	int err = ah_service_scale_step(ctx.svc, now, &exec, dry, report, &rc, &so);
	if (err < 0) {
		ex = ah_cli_fail(&ctx, err, "cannot run the scaling step");
		goto out;
	}
	if (fmt == AH_OUT_TABLE && so.n_decided == 0 && so.n_done + so.n_failed == 0)
		printf("(no scaling needed)\n");
	else
		ah_cli_table_print(&tab, stdout);
	ex = rc.failed ? AH_EXIT_INTERNAL : AH_EXIT_OK;
out:
	if (rc.arr) {
		char *s = ah_json_dumps(rc.arr);
		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(rc.arr);
	}
	ah_cli_table_fini(&tab);
	ah_cli_close(&ctx);
	return ex;
}
