/* ahead recommend WORKLOAD: what a workload should be given, per
 * dimension, like `kubectl describe vpa`: lower bound, target and upper
 * bound, the model and the history behind each, and how far past
 * predictions were from what ended requests used. -o json for scripts
 * (ah_json_recommendation). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/encode.h"
#include "ahead/error.h"
#include "ahead/policy.h"
#include "ahead/service.h"
#include "ahead/names.h"
#include "ahead/usage.h" /* the parameter grammar */
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/opts.h"
#include "cli/table.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: ahead recommend WORKLOAD [--params K=V,...] [--class C] [--db PATH]\n"
		   "                        [--shadow-db PATH] [-o table|json]\n\n"
		   "Recommends what a request of WORKLOAD (with these parameters) should reserve,\n"
		   "per dimension, from its usage history: TARGET at the class's quantile (what\n"
		   "alloc --workload would predict before margin), LOWER at the median, UPPER at\n"
		   "the 99th percentile; the model each rests on (regression, group, workload,\n"
		   "series) and how much history; ERROR is the mean |peak - predicted| /\n"
		   "predicted over ended requests that had a prediction, and how many of them\n"
		   "used more than predicted. Exit 5 if the workload has no history.\n\n"
		   "  --params K=V,...  the request's parameters (e.g. rows=7,kind=etl)\n"
		   "  -c, --class C     priority class (default: the policy's default_class)\n"
		   "  --db PATH         ledger database (default $AHEAD_DB, else ./ahead.db)\n"
		   "  --shadow-db PATH  shadow store (default: beside the database)\n"
		   "  -o FORMAT         table (default) or json\n" AH_CLIENT_USAGE);
}

static void fmt_error(const ah_service_recommendation *r, int d, char *buf, size_t len)
{
	if (!r->dim[d].n_scored) {
		snprintf(buf, len, "-");
		return;
	}
	size_t under = (size_t)(r->dim[d].under_rate * (double)r->dim[d].n_scored + 0.5);
	snprintf(buf, len, "%.0f%%, %zu of %zu above", r->dim[d].mean_abs_error * 100, under, r->dim[d].n_scored);
}

static void print_table(const ah_policy *pol, const char *workload, const char *klass,
			const ah_service_recommendation *r)
{
	char lo[24], tg[24], up[24];
	snprintf(lo, sizeof lo, "LOWER p%g", r->q_lower * 100);
	snprintf(tg, sizeof tg, "TARGET p%g", r->q_target * 100);
	snprintf(up, sizeof up, "UPPER p%g", r->q_upper * 100);
	printf("Workload:  %s (class %s)\n", workload, klass);
	ah_cli_table t;
	ah_cli_table_init(&t, 7, 0xEu);
	ah_cli_table_addv(&t, "DIMENSION", lo, tg, up, "MODEL", "HISTORY", "ERROR");
	int shown = 0;
	for (int d = 0; d < r->n_dims && d < pol->dims.n; d++) {
		if (!r->dim[d].known)
			continue;
		char a[32], b[32], c[32], h[48], e[48];
		ah_unit_format_human(pol->dims.kind[d], r->dim[d].lower, a, sizeof a);
		ah_unit_format_human(pol->dims.kind[d], r->dim[d].target, b, sizeof b);
		ah_unit_format_human(pol->dims.kind[d], r->dim[d].upper, c, sizeof c);
		snprintf(h, sizeof h, "%zu %s", r->dim[d].n, r->dim[d].source == AH_PSH_SERIES ? "usage samples" : "requests");
		fmt_error(r, d, e, sizeof e);
		ah_cli_table_addv(&t, pol->dims.name[d], a, b, c, ah_psh_source_name(r->dim[d].source), h, e);
		shown++;
	}
	if (!shown)
		printf("(the history says nothing per dimension yet)\n");
	else
		ah_cli_table_print(&t, stdout);
	ah_cli_table_fini(&t);
}

/* recommend with --server: GET /v1/workloads/W/recommendation. */
static int recommend_remote(const ah_client_opts *co, const char *workload, const char *params, const char *klass,
			    ah_out_fmt fmt)
{
	ah_client *cl = NULL;
	ah_policy *pol = NULL;
	json_t *o = NULL;
	char *w = NULL, *k = NULL, *p = NULL, *path = NULL;
	int ex = ah_client_open("recommend", co, &cl);
	if (ex || (ex = ah_client_policy(cl, &pol)))
		goto out;
	/* the class named, as locally, even when it is the default */
	const char *kname = klass ? klass : pol->classes[pol->default_class].name;
	w = ah_client_escape(workload), k = ah_client_escape(kname), p = params ? ah_client_escape(params) : NULL;
	size_t n = (w ? strlen(w) : 0) + (k ? strlen(k) : 0) + (p ? strlen(p) : 0) + 96;
	if (!w || !k || (params && !p) || !(path = malloc(n))) {
		ah_cli_err("recommend", "out of memory");
		ex = AH_EXIT_INTERNAL;
		goto out;
	}
	snprintf(path, n, "/v1/workloads/%s/recommendation?class=%s%s%s", w, k, p ? "&params=" : "", p ? p : "");
	long st;
	if ((ex = ah_client_call(cl, "GET", path, NULL, &st, &o)))
		goto out;
	ah_service_recommendation r;
	if (st != 200 || ah_client_decode_recommendation(pol, o, &r) < 0)
		ex = ah_client_fail(cl, st, o);
	else if (fmt == AH_OUT_JSON)
		ah_client_print_json(o);
	else
		print_table(pol, workload, kname, &r);
out:
	free(w), free(k), free(p), free(path);
	json_decref(o);
	ah_policy_free(pol);
	ah_client_free(cl);
	return ex;
}

int ah_cmd_recommend(int argc, char **argv)
{
	ah_client_opts co = {0};
	const char *db = NULL, *shadow_db = NULL, *workload = NULL, *params = NULL, *klass = NULL;
	ah_out_fmt fmt = AH_OUT_TABLE;
	const ah_cli_opt opts[] = {
		AH_OPT("params", 0, AH_OPT_STRING, &params, .hint = "K=V,..."),
		AH_OPT("class", 'c', AH_OPT_STRING, &klass, .hint = "C", .flags = AH_OPT_NONEMPTY),
		AH_OPT("db", 'd', AH_OPT_STRING, &db, .hint = "PATH", .flags = AH_OPT_NONEMPTY),
		AH_OPT("shadow-db", 0, AH_OPT_STRING, &shadow_db, .hint = "PATH"),
		AH_OPT("output", 'o', AH_OPT_FORMAT, &fmt, .formats = AH_FMTS_TABLE_JSON),
		AH_CLIENT_OPTS(&co),
	};
	ah_cli_spec spec = {.cmd = "recommend", .usage = usage, .opts = opts, .n_opts = AH_CLI_NOPTS(opts),
			    .min_args = 1, .max_args = 1, .args_name = "WORKLOAD", .args = &workload};
	int ex = ah_cli_parse(&spec, argc, argv);
	if (ex != AH_CLI_GO)
		return ex;
	if (ah_name_check_workload(workload) < 0) {
		ah_cli_err("recommend", "WORKLOAD: '%.64s' is not a workload name (" AH_NAME_WORKLOAD_GRAMMAR ")",
			   workload);
		return AH_EXIT_USAGE;
	}
	char err[512];
	if (params && ah_shadow_params_check(params, err, sizeof err) < 0) {
		ah_cli_err("recommend", "--params: %s", err);
		return AH_EXIT_USAGE;
	}
	int cx;
	if (ah_client_wanted("recommend", &co, db, &cx)) {
		if (shadow_db) {
			ah_cli_err("recommend", "--shadow-db is for a local ledger; the daemon keeps its own shadow store");
			return AH_EXIT_USAGE;
		}
		return recommend_remote(&co, workload, params, klass, fmt);
	}
	if (cx)
		return cx;
	ah_cli_ctx ctx;
	if ((ex = ah_cli_need_ledger("recommend", ah_cli_db_path(db))) ||
	    (ex = ah_cli_open("recommend", ah_cli_db_path(db), shadow_db, ah_cli_now_ns(), &ctx)))
		return ex;
	ah_service_recommendation r;
	int rc = ah_service_recommend(ctx.svc, workload, params, klass, &r, err, sizeof err);
	if (rc < 0) {
		ah_cli_err("recommend", "%s", err);
		ex = ah_cli_exit_for(rc) == AH_EXIT_OK ? AH_EXIT_INTERNAL : ah_cli_exit_for(rc);
		goto out;
	}
	const char *kname = klass ? klass : ctx.pol->classes[ctx.pol->default_class].name;
	if (fmt == AH_OUT_JSON) {
		json_t *o = ah_json_recommendation(ctx.pol, workload, kname, &r);
		char *s = ah_json_dumps(o);
		printf("%s\n", s ? s : "{}");
		free(s);
		json_decref(o);
	} else {
		print_table(ctx.pol, workload, kname, &r);
	}
out:
	ah_cli_close(&ctx);
	return ex;
}
