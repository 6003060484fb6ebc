/* ahead describe ID: one allocation (or queued request) as a person asks
 * about it, like `kubectl describe`: what it holds, what was predicted for
 * it at grant and by which model, what it used (its own peak, mean and last
 * report), apart from those what the workload's history would predict for
 * it now, its lease and its resizes. -o json for scripts
 * (ah_json_description). */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/encode.h"
#include "ahead/error.h"
#include "ahead/policy.h"
#include "ahead/service.h"
#include "ahead/usage.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/opts.h"
#include "cli/table.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: ahead describe ID [--db PATH] [--shadow-db PATH] [-o table|json]\n\n"
		   "Shows one allocation or queued request: tenant, pool, class, workload and\n"
		   "parameters (the request's apart from ahead's own), per dimension what is\n"
		   "reserved, what was predicted at grant and by which model, the peak, mean\n"
		   "and last usage this allocation reported; then what the workload's history\n"
		   "would predict for it now (which may differ from what sized it), the lease\n"
		   "and the resizes. Exit 5 if ID does not exist.\n\n" AH_CLIENT_USAGE);
}

/* A record figure (NaN: unknown) in the dimension's unit, or "-". */
static void fmt_fig(const ah_policy *pol, int d, double v, char *buf, size_t len)
{
	if (isnan(v) || v < 0)
		snprintf(buf, len, "-");
	else
		ah_unit_format_human(pol->dims.kind[d], (int64_t)ceil(v), buf, len);
}

static const ah_shadow_req_dim *record_dim(const ah_service_description *d, const char *name)
{
	if (!d->have_record)
		return NULL;
	for (int k = 0; k < d->record.n_dims; k++)
		if (!strcmp(d->record.dims[k].dim, name))
			return &d->record.dims[k];
	return NULL;
}

static void print_params(const ah_service_description *d)
{
	/* outside text: control characters and bytes that are not UTF-8 as \xNN */
	static char safe[4 * 8192 + 8], k[4 * 256 + 8], v[4 * 1024 + 8];
	if (!d->have_record) {
		printf("Parameters:   %s\n", d->item.params && *d->item.params
						? ah_cli_safe_text(d->item.params, safe, sizeof safe) : "-");
		return;
	}
	for (int own = 0; own < 2; own++) {
		printf(own ? "  ahead's own: " : "Parameters:   ");
		int n = 0;
		for (int i = 0; i < d->record.n_params; i++) {
			const ah_shadow_param *p = &d->record.params[i];
			if (ah_shadow_param_reserved(p->key) != (bool)own)
				continue;
			printf("%s%s=%s", n++ ? "," : "", ah_cli_safe_text(p->key, k, sizeof k),
			       ah_cli_safe_text(p->value, v, sizeof v));
		}
		printf("%s\n", n ? "" : "-");
	}
}

/* "group on 6 requests": a model and the history it saw. */
static void fmt_model(const char *model, int64_t n, char *buf, size_t len)
{
	snprintf(buf, len, "%s on %lld %s", model, (long long)n,
		 !strcmp(model, ah_psh_source_name(AH_PSH_SERIES)) ? "usage samples" : "requests");
}

static void print_dims(const ah_policy *pol, const ah_service_description *d)
{
	ah_cli_table t;
	/* right-aligned: the figures; left: the names and the model */
	ah_cli_table_init(&t, 7, 0x76u);
	printf("Resources:\n");
	ah_cli_table_addv(&t, "  DIMENSION", "RESERVED", "PREDICTED", "SIZED BY", "PEAK", "MEAN", "LAST");
	for (int i = 0; i < pol->dims.n; i++) {
		const ah_shadow_req_dim *rd = record_dim(d, pol->dims.name[i]);
		bool last = d->have_last && d->last_usage.v[i] != AH_USAGE_NONE;
		if (!d->item.res->v[i] && !rd && !last)
			continue;
		char name[AH_NAME_MAX + 2], res[32], pr[32], pk[32], mn[32], ls[32] = "-", by[AH_SHADOW_MODEL_MAX + 48] = "-";
		snprintf(name, sizeof name, "  %s", pol->dims.name[i]);
		ah_unit_format_human(pol->dims.kind[i], d->item.res->v[i], res, sizeof res);
		fmt_fig(pol, i, rd ? rd->predicted : NAN, pr, sizeof pr);
		fmt_fig(pol, i, rd ? rd->peak : NAN, pk, sizeof pk);
		fmt_fig(pol, i, rd ? rd->mean : NAN, mn, sizeof mn);
		if (last)
			ah_unit_format_human(pol->dims.kind[i], d->last_usage.v[i], ls, sizeof ls);
		if (rd && rd->model[0])
			fmt_model(rd->model, rd->model_n, by, sizeof by);
		ah_cli_table_addv(&t, name, res, pr, by, pk, mn, ls);
	}
	ah_cli_table_print(&t, stdout);
	ah_cli_table_fini(&t);
}

/* What the history would predict now: labelled apart from what sized it
 * (the table's PREDICTED and SIZED BY), each value with its dimension. */
static void print_history_now(const ah_policy *pol, const ah_service_description *d)
{
	if (!d->have_model) {
		printf("History now:  -%s\n", d->have_record ? " (the history knows nothing of it yet)" : "");
		return;
	}
	printf("History now:  would predict at p%g", d->model.q * 100);
	int n = 0;
	for (int i = 0; i < d->model.n_dims && i < pol->dims.n; i++) {
		if (d->model.dim[i].source == AH_PSH_NONE)
			continue;
		char v[32], m[AH_SHADOW_MODEL_MAX + 48];
		ah_unit_format_human(pol->dims.kind[i], d->model_prediction.v[i], v, sizeof v);
		fmt_model(ah_psh_source_name(d->model.dim[i].source),
			  d->model.dim[i].n > INT64_MAX ? INT64_MAX : (int64_t)d->model.dim[i].n, m, sizeof m);
		printf("%s %s=%s (%s)", n++ ? "," : "", pol->dims.name[i], v, m);
	}
	printf("\n");
}

static void print_lease(const ah_service_description *d, int64_t now)
{
	char t1[40], t2[40], left[32] = "expired";
	ah_cli_fmt_time(d->item.created_ns, t1, sizeof t1);
	ah_cli_fmt_time(d->item.expires_ns, t2, sizeof t2);
	if (d->item.expires_ns > now)
		ah_duration_format((d->item.expires_ns - now) / 1000000000 * 1000000000, left, sizeof left);
	if (d->item.queued) {
		printf("Arrived:      %s\nWaits until:  %s (%s%s)\n", t1, t2, d->item.expires_ns > now ? "in " : "",
		       left);
		return;
	}
	printf("Granted:      %s\nLease:        until %s (%s%s)\n", t1, t2, d->item.expires_ns > now ? "in " : "",
	       left);
	if (d->have_last) {
		char t[40];
		ah_cli_fmt_time(d->last_usage_ns, t, sizeof t);
		printf("Last report:  %s (this allocation's)\n", t);
	}
}

static void print_resizes(const ah_service_description *d)
{
	if (!d->n_resizes) {
		printf("Resizes:      none\n");
		return;
	}
	char t[40];
	ah_cli_fmt_time(d->last_resize_ns, t, sizeof t);
	printf("Resizes:      %d, last %s\n", d->n_resizes, t);
	ah_cli_table tab;
	ah_cli_table_init(&tab, 3, 0);
	for (int i = 0; i < d->n_recent; i++) {
		ah_dimset ds;
		ah_vec v;
		char res[1024];
		ah_dimset_init(&ds);
		ah_cli_fmt_time(d->recent[i].t_ns, t, sizeof t);
		if (ah_vec_parse(&ds, d->recent[i].resources, &v, NULL, 0) ||
		    ah_vec_format_human(&ds, &v, res, sizeof res))
			snprintf(res, sizeof res, "%s", d->recent[i].resources);
		char at[48];
		snprintf(at, sizeof at, "  %s", t);
		ah_cli_table_addv(&tab, at, res, d->recent[i].why);
	}
	ah_cli_table_print(&tab, stdout);
	ah_cli_table_fini(&tab);
}

static void print_table(const ah_policy *pol, const ah_service_description *d, int64_t now)
{
	const ah_engine_item *it = &d->item;
	int k = ah_policy_find_class(pol, it->klass);
	char tn[4 * 128 + 8], pn[4 * 128 + 8];
	printf("ID:           %llu\nState:        %s\nTenant:       %s\nPool:         %s\n", (unsigned long long)it->id,
	       it->queued ? "queued" : "granted", ah_cli_safe_text(it->tenant, tn, sizeof tn),
	       ah_cli_safe_text(it->pool, pn, sizeof pn));
	if (k >= 0)
		printf("Class:        %s (sized at p%g)\n", it->klass, pol->classes[k].quantile * 100);
	else
		printf("Class:        %s\n", it->klass);
	printf("Workload:     %s\n", d->have_record ? d->record.workload : "- (sized by its stated resources)");
	if (it->node && *it->node)
		printf("Node:         %s\n", it->node);
	if (it->node_labels && *it->node_labels)
		printf("Node labels:  %s (every node it is placed on carries them)\n", it->node_labels);
	print_params(d);
	print_lease(d, now);
	print_dims(pol, d);
	print_history_now(pol, d);
	print_resizes(d);
}

/* describe with --server: GET /v1/allocations/ID, printed by the same code. */
static int describe_remote(const ah_client_opts *co, uint64_t id, ah_out_fmt fmt)
{
	ah_client *cl = NULL;
	ah_policy *pol = NULL;
	json_t *o = NULL;
	ah_service_description *d = malloc(sizeof *d);
	int ex = d ? ah_client_open("describe", co, &cl) : AH_EXIT_INTERNAL;
	if (ex || (ex = ah_client_policy(cl, &pol)))
		goto out;
	char path[64];
	snprintf(path, sizeof path, "/v1/allocations/%llu", (unsigned long long)id);
	long st;
	if ((ex = ah_client_call(cl, "GET", path, NULL, &st, &o)))
		goto out;
	ah_vec res;
	char params[AH_PARAMS_MAX + 1];
	if (st == 404) {
		ah_cli_err("describe", "%llu: no such allocation or queued request (released, expired or preempted?)",
			   (unsigned long long)id);
		ex = AH_EXIT_NOTFOUND;
	} else if (st != 200 || ah_client_decode_description(pol, o, &res, params, sizeof params, d) < 0) {
		ex = ah_client_fail(cl, st, o);
	} else if (fmt == AH_OUT_JSON) {
		ah_client_print_json(o);
	} else {
		print_table(pol, d, ah_cli_now_ns());
	}
out:
	free(d);
	json_decref(o);
	ah_policy_free(pol);
	ah_client_free(cl);
	return ex;
}

int ah_cmd_describe(int argc, char **argv)
{
	ah_client_opts co = {0};
	const char *db = NULL, *shadow_db = NULL, *id_arg = NULL;
	ah_out_fmt fmt = AH_OUT_TABLE;
	const ah_cli_opt opts[] = {
		AH_OPT("db", 'd', AH_OPT_STRING, &db, .hint = "PATH", .flags = AH_OPT_NONEMPTY),
		AH_OPT("shadow-db", 0, AH_OPT_STRING, &shadow_db, .hint = "PATH"),
		AH_OPT("output", 'o', AH_OPT_FORMAT, &fmt, .formats = AH_FMTS_TABLE_JSON),
		AH_CLIENT_OPTS(&co),
	};
	ah_cli_spec spec = {.cmd = "describe", .usage = usage, .opts = opts, .n_opts = AH_CLI_NOPTS(opts),
			    .min_args = 1, .max_args = 1, .args_name = "ID", .args = &id_arg};
	int ex = ah_cli_parse(&spec, argc, argv);
	if (ex != AH_CLI_GO)
		return ex;
	uint64_t id;
	if (ah_cli_parse_id("describe", "ID", id_arg, &id) < 0)
		return AH_EXIT_USAGE;
	int cx;
	if (ah_client_wanted("describe", &co, db, &cx)) {
		if (shadow_db) {
			ah_cli_err("describe", "--shadow-db is for a local ledger; the daemon keeps its own shadow store");
			return AH_EXIT_USAGE;
		}
		return describe_remote(&co, id, fmt);
	}
	if (cx)
		return cx;
	int64_t now = ah_cli_now_ns();
	ah_cli_ctx ctx;
	if ((ex = ah_cli_need_ledger("describe", ah_cli_db_path(db))) ||
	    (ex = ah_cli_open("describe", ah_cli_db_path(db), shadow_db, now, &ctx)))
		return ex;
	ah_service_description *d = malloc(sizeof *d);
	int rc = d ? ah_service_describe(ctx.svc, id, now, d) : AH_ENOMEM;
	if (rc == AH_ENOENT) {
		ah_cli_err("describe", "%llu: no such allocation or queued request (released, expired or preempted?)",
			   (unsigned long long)id);
		ex = AH_EXIT_NOTFOUND;
	} else if (rc < 0) {
		ex = ah_cli_fail(&ctx, rc, NULL);
	} else if (fmt == AH_OUT_JSON) {
		json_t *o = ah_json_description(ctx.pol, d);
		char *s = ah_json_dumps(o);
		printf("%s\n", s ? s : "{}");
		free(s);
		json_decref(o);
	} else {
		print_table(ctx.pol, d, now);
	}
	free(d);
	ah_cli_close(&ctx);
	return ex;
}
