/* ahead ls | pool ls | events: inspection commands. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/encode.h"
#include "ahead/engine.h"
#include "ahead/duration.h"
#include "ahead/error.h"
#include "ahead/id.h"
#include "ahead/service.h"
#include "ahead/policy.h"
#include "ahead/usage.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/opts.h"
#include "cli/table.h"

typedef struct {
	const char *db;
	const char *pool, *tenant;
	ah_out_fmt fmt;
	int64_t limit;
	const char *since; /* events: a sequence number or a duration */
	uint64_t id;
	bool follow; /* events: then watch for new ones (--server) */
	ah_client_opts co;
} common_opts;

/* The options these commands share (each accepts them all); returns
 * AH_CLI_GO or the exit code. */
static int parse_common(int argc, char **argv, const char *name, const char *help, common_opts *o,
			const char **action)
{
	bool wide = !strcmp(name, "ls");
	const ah_cli_opt opts[] = {
		AH_OPT("db", 'd', AH_OPT_STRING, &o->db, .hint = "PATH", .flags = AH_OPT_NONEMPTY),
		AH_OPT("pool", 'p', AH_OPT_STRING, &o->pool, .hint = "P"),
		AH_OPT("tenant", 't', AH_OPT_STRING, &o->tenant, .hint = "T"),
		AH_OPT("since", 's', AH_OPT_STRING, &o->since, .hint = "SEQ|DURATION", .flags = AH_OPT_NONEMPTY),
		AH_OPT("limit", 'n', AH_OPT_INT, &o->limit, .hint = "N", .lo = 1, .hi = 10000000),
		AH_OPT("id", 'i', AH_OPT_ID, &o->id, .hint = "ID"),
		AH_OPT("output", 'o', AH_OPT_FORMAT, &o->fmt, .formats = wide ? AH_FMTS_WIDE : AH_FMTS_ALL),
		AH_OPT("follow", 'f', AH_OPT_FLAG, &o->follow),
		AH_OPT("watch", 'w', AH_OPT_FLAG, &o->follow),
		AH_CLIENT_OPTS(&o->co),
	};
	ah_cli_spec spec = {.cmd = name, .help = help, .opts = opts, .n_opts = AH_CLI_NOPTS(opts),
			    .min_args = action ? 1 : 0, .max_args = action ? 1 : 0, .args_name = "action (expected: ls)",
			    .args = action};
	int r = ah_cli_parse(&spec, argc, argv);
	if (r == AH_CLI_GO && o->follow && strcmp(name, "events")) {
		ah_cli_err(name, "--follow is for events");
		return AH_EXIT_USAGE;
	}
	return r;
}

typedef struct {
	const ah_policy *pol;
	const common_opts *o;
	json_t *arr;
	ah_cli_table *tab;
	uint64_t *ids; /* -o wide: described after the walk */
	int n, cap;
} ls_ctx;

/* A policy with a pool on nodes: the table shows each allocation's node. */
static bool on_nodes(const ah_policy *pol)
{
	for (int i = 0; pol && i < pol->n_pools; i++)
		if (pol->pools[i].nodes[0])
			return true;
	return false;
}

static int ls_item(void *ctx, const ah_engine_item *it)
{
	ls_ctx *c = ctx;
	if ((c->o->pool && strcmp(c->o->pool, it->pool)) || (c->o->tenant && strcmp(c->o->tenant, it->tenant)))
		return 0;
	char res[1024], t1[40], t2[40], id[24];
	ah_cli_fmt_time(it->created_ns, t1, sizeof t1);
	ah_cli_fmt_time(it->expires_ns, t2, sizeof t2);
	snprintf(id, sizeof id, "%llu", (unsigned long long)it->id);
	const char *st = it->queued ? "queued" : "granted";
	c->n++;
	if (c->o->fmt == AH_OUT_JSON) {
		json_array_append_new(c->arr, ah_json_allocation(c->pol, it));
	} else if (c->o->fmt == AH_OUT_CSV) {
		/* exact values (they read back), the JSON's field names */
		ah_vec_format(&c->pol->dims, it->res, res, sizeof res);
		printf("%s,%s,", id, st);
		ah_cli_csv_field(it->tenant), putchar(','), ah_cli_csv_field(it->pool), putchar(','), ah_cli_csv_field(it->klass);
		putchar(',');
		ah_cli_csv_field(res);
		printf(it->queued ? ",,,%s,%s," : ",%s,%s,,,", t1, t2);
		ah_cli_csv_field(it->params);
		putchar('\n');
	} else if (c->o->fmt == AH_OUT_WIDE) {
		if (c->n > c->cap) {
			int cap = c->cap ? 2 * c->cap : 64;
			uint64_t *ids = realloc(c->ids, (size_t)cap * sizeof *ids);
			if (!ids)
				return AH_ENOMEM;
			c->ids = ids, c->cap = cap;
		}
		c->ids[c->n - 1] = it->id;
	} else {
		ah_vec_format_human(&c->pol->dims, it->res, res, sizeof res);
		if (on_nodes(c->pol))
			ah_cli_table_addv(c->tab, id, st, it->tenant, it->pool, it->klass, res,
					  it->node && *it->node ? it->node : "-", t2, it->params);
		else
			ah_cli_table_addv(c->tab, id, st, it->tenant, it->pool, it->klass, res, t2, it->params);
	}
	return 0;
}

/* -o wide: one row per allocation with its workload, last usage (NULL:
 * none) and what the history predicts for it now (NULL: nothing). */
static void wide_add(const ah_policy *pol, ah_cli_table *tab, const ah_engine_item *it, const char *workload,
		     const ah_vec *last_usage, const ah_vec *model)
{
	char ids[24], res[1024], last[1024] = "-", pred[1024] = "-", t2[40];
	snprintf(ids, sizeof ids, "%llu", (unsigned long long)it->id);
	ah_vec_format_human(&pol->dims, it->res, res, sizeof res);
	ah_cli_fmt_time(it->expires_ns, t2, sizeof t2);
	if (last_usage) {
		ah_vec u = *last_usage;
		for (int i = 0; i < pol->dims.n; i++)
			u.v[i] = u.v[i] == AH_USAGE_NONE ? 0 : u.v[i];
		ah_vec_format_human(&pol->dims, &u, last, sizeof last);
	}
	if (model)
		ah_vec_format_human(&pol->dims, model, pred, sizeof pred);
	ah_cli_table_addv(tab, ids, it->queued ? "queued" : "granted", it->tenant, it->pool, it->klass,
			  workload ? workload : "-", res, last, pred, t2, it->params);
}

static void wide_row(ah_cli_ctx *ctx, ah_cli_table *tab, uint64_t id, int64_t now)
{
	ah_service_description *d = malloc(sizeof *d);
	if (!d || ah_service_describe(ctx->svc, id, now, d) < 0) {
		free(d);
		return;
	}
	wide_add(ctx->pol, tab, &d->item, d->have_record ? d->record.workload : NULL, d->have_last ? &d->last_usage : NULL,
		 d->have_model ? &d->model_prediction : NULL);
	free(d);
}

/* An allocation's description from the daemon, for its wide row (the
 * list's item: its parameters as the list gave them). */
static void wide_row_remote(ah_client *cl, const ah_policy *pol, ah_cli_table *tab, const ah_engine_item *it)
{
	char path[64];
	snprintf(path, sizeof path, "/v1/allocations/%llu", (unsigned long long)it->id);
	long st;
	json_t *o = NULL;
	ah_service_description *d = malloc(sizeof *d);
	ah_vec res;
	char params[AH_PARAMS_MAX + 1];
	if (d && !ah_client_call(cl, "GET", path, NULL, &st, &o) && st == 200 &&
	    ah_client_decode_description(pol, o, &res, params, sizeof params, d) == 0)
		wide_add(pol, tab, it, d->have_record ? d->record.workload : NULL, d->have_last ? &d->last_usage : NULL,
			 d->have_model ? &d->model_prediction : NULL);
	/* else gone since the list: as locally, no row */
	free(d);
	json_decref(o);
}

/* "?a=x&b=y" from the pairs whose value is set (escaped); "" when none. */
static char *query(const char *const *kv, int n)
{
	size_t cap = 2, w = 0;
	char *q = malloc(cap);
	if (!q)
		return NULL;
	q[0] = '\0';
	for (int i = 0; i + 1 < 2 * n; i += 2) {
		if (!kv[i + 1])
			continue;
		char *e = ah_client_escape(kv[i + 1]);
		if (!e)
			continue;
		size_t need = w + strlen(kv[i]) + strlen(e) + 3;
		if (need > cap) {
			char *nq = realloc(q, need * 2);
			if (!nq) {
				free(e);
				break;
			}
			q = nq, cap = need * 2;
		}
		w += (size_t)snprintf(q + w, cap - w, "%c%s=%s", w ? '&' : '?', kv[i], e);
		free(e);
	}
	return q;
}

/* GET PATH; an answer other than 200 printed as its error. */
static int get_list(ah_client *cl, const char *path, json_t **out)
{
	long st;
	json_t *o = NULL;
	int ex = ah_client_call(cl, "GET", path, NULL, &st, &o);
	if (ex)
		return ex;
	if (st != 200 || !json_is_array(json_object_get(o, "items"))) {
		ex = ah_client_fail(cl, st, o);
		json_decref(o);
		return ex;
	}
	*out = o;
	return 0;
}

/* The table's header row and the CSV's, as the local listing prints them. */
static void ls_header(const common_opts *o, const ah_policy *pol, ah_cli_table *tab)
{
	if (o->fmt == AH_OUT_CSV)
		printf("id,state,tenant,pool,class,resources,granted_at,lease_expires,arrived,deadline,params\n");
	else if (o->fmt == AH_OUT_WIDE)
		ah_cli_table_addv(tab, "ID", "STATE", "TENANT", "POOL", "CLASS", "WORKLOAD", "RESOURCES", "LAST USAGE",
				  "PREDICTED NOW", "EXPIRES", "PARAMS");
	else if (o->fmt == AH_OUT_TABLE && on_nodes(pol))
		ah_cli_table_addv(tab, "ID", "STATE", "TENANT", "POOL", "CLASS", "RESOURCES", "NODE", "EXPIRES", "PARAMS");
	else if (o->fmt == AH_OUT_TABLE)
		ah_cli_table_addv(tab, "ID", "STATE", "TENANT", "POOL", "CLASS", "RESOURCES", "EXPIRES", "PARAMS");
}

static void ls_footer(const common_opts *o, ah_cli_table *tab, int n)
{
	bool wide = o->fmt == AH_OUT_WIDE;
	if ((o->fmt == AH_OUT_TABLE || wide) && n == 0)
		printf("(no allocations or queued requests)\n");
	else if (o->fmt == AH_OUT_TABLE || wide)
		ah_cli_table_print(tab, stdout);
}

/* ls with --server: GET /v1/allocations (and each one for -o wide). */
static int ls_remote(common_opts *o)
{
	ah_client *cl = NULL;
	ah_policy *pol = NULL;
	json_t *list = NULL;
	const char *kv[] = {"tenant", o->tenant, "pool", o->pool};
	char *q = query(kv, 2), path[4096];
	int ex = ah_client_open("ls", &o->co, &cl);
	if (ex || (ex = ah_client_policy(cl, &pol)))
		goto out;
	snprintf(path, sizeof path, "/v1/allocations%s", q ? q : "");
	if ((ex = get_list(cl, path, &list)))
		goto out;
	json_t *items = json_object_get(list, "items");
	if (o->fmt == AH_OUT_JSON) {
		ah_client_print_json(list);
		goto out;
	}
	ah_cli_table tab;
	bool wide = o->fmt == AH_OUT_WIDE;
	ah_cli_table_init(&tab, wide ? 11 : on_nodes(pol) ? 9 : 8, 1u);
	ls_header(o, pol, &tab);
	ls_ctx c = {.pol = pol, .o = o, .tab = &tab};
	size_t i;
	json_t *v;
	json_array_foreach(items, i, v)
	{
		ah_engine_item it;
		ah_vec res;
		char params[AH_PARAMS_MAX + 1];
		if (ah_client_decode_item(pol, v, &res, params, sizeof params, &it) < 0)
			continue;
		if (wide) {
			c.n++;
			wide_row_remote(cl, pol, &tab, &it);
		} else {
			ls_item(&c, &it);
		}
	}
	ls_footer(o, &tab, c.n);
	ah_cli_table_fini(&tab);
out:
	free(q);
	json_decref(list);
	ah_policy_free(pol);
	ah_client_free(cl);
	return ex;
}

int ah_cmd_ls(int argc, char **argv)
{
	common_opts o = {0};
	int r = parse_common(argc, argv, "ls",
			     "usage: ahead ls [--pool P] [--tenant T] [--db PATH] [-o table|wide|json|csv]\n\n"
			     "Lists live allocations (by id), then queued requests (in arrival order).\n"
			     "-o wide adds each one's workload, last reported usage and what its\n"
			     "history predicts for it now (ahead describe ID shows the rest).\n"
			     "EXPIRES is the lease expiry for allocations and the queue deadline for\n"
			     "queued requests. Expired leases are reclaimed before listing.\n\n" AH_CLIENT_USAGE,
			     &o, NULL);
	if (r != AH_CLI_GO)
		return r;
	int cx;
	if (ah_client_wanted("ls", &o.co, o.db, &cx))
		return ls_remote(&o);
	if (cx)
		return cx;
	ah_cli_ctx ctx;
	int ex = ah_cli_need_ledger("ls", ah_cli_db_path(o.db));
	if (!ex)
		ex = ah_cli_open("ls", ah_cli_db_path(o.db), NULL, ah_cli_now_ns(), &ctx);
	if (ex)
		return ex;
	ah_cli_table tab;
	bool wide = o.fmt == AH_OUT_WIDE;
	ah_cli_table_init(&tab, wide ? 11 : on_nodes(ctx.pol) ? 9 : 8, 1u);
	ls_ctx c = {.pol = ctx.pol, .o = &o, .arr = o.fmt == AH_OUT_JSON ? json_array() : NULL, .tab = &tab};
	ls_header(&o, ctx.pol, &tab);
	ah_engine_foreach(ah_service_engine_get(ctx.svc), ls_item, &c);
	for (int i = 0; wide && i < c.n; i++)
		wide_row(&ctx, &tab, c.ids[i], ah_cli_now_ns());
	if (c.arr) {
		char *s = ah_json_dumps(c.arr);
		printf("%s\n", s ? s : "[]");
		free(s);
		json_decref(c.arr);
	} else {
		ls_footer(&o, &tab, c.n);
	}
	ah_cli_table_fini(&tab);
	free(c.ids);
	ah_cli_close(&ctx);
	return AH_EXIT_OK;
}

static void pool_header(ah_out_fmt fmt, ah_cli_table *tab)
{
	if (fmt == AH_OUT_TABLE)
		ah_cli_table_addv(tab, "POOL", "DIMENSION", "CAPACITY", "USED", "FREE", "WAITING", "ALLOCS", "QUEUED");
	else if (fmt == AH_OUT_CSV)
		printf("pool,dimension,capacity,used,free,waiting,allocations,queued\n");
}

/* A pool's rows: one per dimension it has or uses. */
static void pool_rows(const ah_policy *pol, const ah_engine_pool_info *pi, ah_out_fmt ofmt, ah_cli_table *tab)
{
	for (int d = 0; d < pol->dims.n; d++) {
		if (!pi->capacity->v[d] && !pi->used->v[d])
			continue;
		char a[32], b[32], f[32], wt[32], na[16], nq[16];
		ah_unit_kind k = pol->dims.kind[d];
		/* what waits for room: queued requests and pending grows */
		int64_t waiting = pi->queued.v[d] + pi->wanted.v[d];
		int64_t free_v = pi->capacity->v[d] - pi->used->v[d];
		/* csv reads back exactly; the table is for people */
		int (*fmt)(ah_unit_kind, int64_t, char *, size_t) = ofmt == AH_OUT_CSV ? ah_unit_format : ah_unit_format_human;
		fmt(k, waiting, wt, sizeof wt);
		fmt(k, pi->capacity->v[d], a, sizeof a);
		fmt(k, pi->used->v[d], b, sizeof b);
		if (free_v >= 0)
			fmt(k, free_v, f, sizeof f);
		else
			snprintf(f, sizeof f, "over");
		snprintf(na, sizeof na, "%d", pi->n_allocs);
		snprintf(nq, sizeof nq, "%d", pi->n_queued);
		if (ofmt == AH_OUT_CSV) {
			ah_cli_csv_field(pi->name);
			printf(",%s,%s,%s,%s,%s,%s,%s\n", pol->dims.name[d], a, b, f, wt, na, nq);
		} else {
			ah_cli_table_addv(tab, pi->name, pol->dims.name[d], a, b, f, wt, na, nq);
		}
	}
}

/* pool ls with --server: GET /v1/pools. */
static int pool_remote(common_opts *o)
{
	ah_client *cl = NULL;
	ah_policy *pol = NULL;
	json_t *list = NULL;
	int ex = ah_client_open("pool", &o->co, &cl);
	if (ex || (ex = ah_client_policy(cl, &pol)) || (ex = get_list(cl, "/v1/pools", &list)))
		goto out;
	if (o->fmt == AH_OUT_JSON) {
		ah_client_print_json(list);
		goto out;
	}
	ah_cli_table tab;
	ah_cli_table_init(&tab, 8, 0xFCu);
	pool_header(o->fmt, &tab);
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(list, "items"), i, v)
	{
		ah_engine_pool_info pi;
		ah_vec cap, used;
		if (ah_client_decode_pool(pol, v, &cap, &used, &pi) == 0)
			pool_rows(pol, &pi, o->fmt, &tab);
	}
	ah_cli_table_print(&tab, stdout);
	ah_cli_table_fini(&tab);
out:
	json_decref(list);
	ah_policy_free(pol);
	ah_client_free(cl);
	return ex;
}

int ah_cmd_pool(int argc, char **argv)
{
	common_opts o = {0};
	const char *action = NULL;
	int r = parse_common(argc, argv, "pool",
			     "usage: ahead pool ls [--db PATH] [-o table|json|csv]\n\n"
			     "Lists each pool's capacity, use and free room per dimension, with the\n"
			     "number of live allocations and queued requests.\n\n" AH_CLIENT_USAGE,
			     &o, &action);
	if (r != AH_CLI_GO)
		return r;
	if (strcmp(action, "ls")) {
		ah_cli_err("pool", "unknown action '%.64s' (expected: ls)", action);
		return AH_EXIT_USAGE;
	}
	int cx;
	if (ah_client_wanted("pool", &o.co, o.db, &cx))
		return pool_remote(&o);
	if (cx)
		return cx;
	ah_cli_ctx ctx;
	int ex = ah_cli_need_ledger("pool", ah_cli_db_path(o.db));
	if (!ex)
		ex = ah_cli_open("pool", ah_cli_db_path(o.db), NULL, ah_cli_now_ns(), &ctx);
	if (ex)
		return ex;
	const ah_engine *eng = ah_service_engine_get(ctx.svc);
	json_t *arr = o.fmt == AH_OUT_JSON ? json_array() : NULL;
	ah_cli_table tab;
	ah_cli_table_init(&tab, 8, 0xFCu);
	pool_header(o.fmt, &tab);
	for (int i = 0; i < ah_engine_pool_count(eng); i++) {
		ah_engine_pool_info pi;
		ah_engine_pool_get(eng, i, &pi);
		if (arr)
			json_array_append_new(arr, ah_json_pool(ctx.pol, &pi));
		else
			pool_rows(ctx.pol, &pi, o.fmt, &tab);
	}
	if (arr) {
		char *s = ah_json_dumps(arr);
		printf("%s\n", s ? s : "[]");
		free(s);
		json_decref(arr);
	}
	ah_cli_table_print(&tab, stdout);
	ah_cli_table_fini(&tab);
	ah_cli_close(&ctx);
	return AH_EXIT_OK;
}

typedef struct {
	ah_out_fmt fmt;
	json_t *arr;
	ah_cli_table *tab;
	int n;
} ev_ctx;

/* The ledger's exact resource text ("memory=5033165145") for people
 * ("memory=4.69Gi"); custom dimensions are counts and stay as they are. */
static void human_vec_text(const char *text, char *buf, size_t len)
{
	ah_dimset ds;
	ah_vec v;
	ah_dimset_init(&ds);
	if (!text || ah_vec_parse(&ds, text, &v, NULL, 0) || ah_vec_format_human(&ds, &v, buf, len))
		snprintf(buf, len, "%s", text ? text : "");
}

static int print_event(void *ctx, const ah_service_event *ev)
{
	ev_ctx *c = ctx;
	char t[40], id[24] = "-", seq[24], why[2048];
	ah_cli_fmt_time(ev->t_ns, t, sizeof t);
	if (ev->id)
		snprintf(id, sizeof id, "%llu", (unsigned long long)ev->id);
	snprintf(seq, sizeof seq, "%lld", (long long)ev->seq);
	c->n++;
	if (c->fmt == AH_OUT_JSON) {
		json_array_append_new(c->arr, ah_json_event(ev));
	} else if (c->fmt == AH_OUT_CSV) {
		printf("%s,%s,", seq, t);
		const char *cols[] = {ev->kind, ev->id ? id : "", ev->tenant, ev->pool, ev->klass, ev->resources,
				      ev->reason, ev->detail};
		for (int i = 0; i < 8; i++) {
			ah_cli_csv_field(cols[i] ? cols[i] : "");
			putchar(i < 7 ? ',' : '\n');
		}
	} else {
		snprintf(why, sizeof why, "%s%s%s", ev->reason, *ev->reason && *ev->detail ? ": " : "", ev->detail);
		char res[1024];
		human_vec_text(ev->resources, res, sizeof res);
		ah_cli_table_addv(c->tab, seq, t, ev->kind, id, ev->tenant, ev->pool, ev->klass, res, why);
	}
	return 0;
}

/* --since: digits alone are a sequence number, anything else a duration
 * back from now; which one is said, since "42" could mean either. */
static int since_filter(const char *s, ah_event_filter *f)
{
	uint64_t seq;
	int64_t d;
	if (ah_id_parse(s, &seq) == 0 || !strcmp(s, "0")) {
		f->after_seq = (int64_t)(strcmp(s, "0") ? seq : 0);
		ah_cli_err("events", "warning: --since %s: read as a sequence number (events after %s; for a time "
			   "give a unit, e.g. %ss)", s, s, s);
		return 0;
	}
	if (ah_duration_parse(s, &d) < 0 || d <= 0) {
		ah_cli_err("events", "--since: '%.40s' is neither a sequence number nor a duration (e.g. 42, 30m, 2h)",
			   s);
		return AH_EXIT_USAGE;
	}
	int64_t now = ah_cli_now_ns();
	f->since_ns = now > d ? now - d : 1;
	char t[48];
	ah_cli_fmt_time(f->since_ns, t, sizeof t);
	ah_cli_err("events", "warning: --since %s: read as a duration (events since %s)", s, t);
	return 0;
}

#define EVENTS_PAGE 1000

typedef struct {
	const common_opts *o;
	uint64_t id;
} follow_ctx;

/* --follow: each event as it arrives, a row on its own (a table cannot be
 * aligned before it ends), a CSV row, or one JSON object a line. */
static int follow_event(void *ctx, const char *data)
{
	follow_ctx *fc = ctx;
	json_t *v = json_loads(data, 0, NULL);
	ah_service_event ev;
	char res[1024], *d = NULL;
	if (!v || ah_client_decode_event(v, res, sizeof res, &d, &ev) < 0 || (fc->id && ev.id != fc->id)) {
		json_decref(v);
		return 0;
	}
	if (fc->o->fmt == AH_OUT_JSON) {
		char *js = json_dumps(v, JSON_COMPACT);
		printf("%s\n", js ? js : "{}");
		free(js);
	} else {
		ah_cli_table tab;
		ah_cli_table_init(&tab, 9, 1u);
		ev_ctx c = {.fmt = fc->o->fmt, .tab = &tab};
		print_event(&c, &ev);
		ah_cli_table_print(&tab, stdout);
		ah_cli_table_fini(&tab);
	}
	fflush(stdout);
	free(d);
	json_decref(v);
	return 0;
}

/* events with --server: GET /v1/events page by page (the API answers at
 * most a page at a time), the time filter applied here as the ledger
 * applies it locally. */
static int events_remote(common_opts *o, const ah_event_filter *f)
{
	ah_client *cl = NULL;
	json_t *all = json_array();
	int ex = ah_client_open("events", &o->co, &cl);
	if (ex)
		goto out;
	ah_cli_table tab;
	ah_cli_table_init(&tab, 9, 1u);
	ev_ctx c = {.fmt = o->fmt, .arr = NULL, .tab = &tab};
	if (o->fmt == AH_OUT_TABLE)
		ah_cli_table_addv(&tab, "SEQ", "TIME", "KIND", "ID", "TENANT", "POOL", "CLASS", "RESOURCES", "REASON");
	else if (o->fmt == AH_OUT_CSV)
		printf("seq,time,kind,id,tenant,pool,class,resources,reason,detail\n");
	int64_t after = f->after_seq, head = INT64_MAX; /* head: the daemon's newest revision */
	int64_t left = f->limit > 0 ? f->limit : INT64_MAX;
	while (left > 0) {
		char path[160], id[40] = "";
		if (f->id)
			snprintf(id, sizeof id, "&id=%llu", (unsigned long long)f->id);
		snprintf(path, sizeof path, "/v1/events?since=%lld&limit=%d%s", (long long)after, EVENTS_PAGE, id);
		json_t *list = NULL;
		if ((ex = get_list(cl, path, &list)))
			break;
		json_t *items = json_object_get(list, "items");
		const char *rv = json_string_value(json_object_get(list, "resourceVersion"));
		if (rv)
			head = strtoll(rv, NULL, 10);
		size_t i, n = json_array_size(items);
		json_t *v;
		json_array_foreach(items, i, v)
		{
			after = json_integer_value(json_object_get(v, "seq"));
			if (left <= 0 || (f->since_ns && ah_client_time(v, "time") < f->since_ns))
				continue;
			left--;
			if (o->fmt == AH_OUT_JSON) {
				json_array_append(all, v);
				continue;
			}
			ah_service_event ev;
			char res[1024], *data = NULL;
			if (ah_client_decode_event(v, res, sizeof res, &data, &ev) == 0)
				print_event(&c, &ev);
			free(data);
		}
		json_decref(list);
		if (n == 0)
			break;
	}
	if (!ex && o->fmt == AH_OUT_JSON && !o->follow) {
		char *js = ah_json_dumps(all);
		printf("%s\n", js ? js : "[]");
		free(js);
	} else if (!ex && o->fmt == AH_OUT_JSON) { /* --follow: one object a line */
		size_t i;
		json_t *v;
		json_array_foreach(all, i, v)
		{
			char *js = json_dumps(v, JSON_COMPACT);
			printf("%s\n", js ? js : "{}");
			free(js);
		}
	}
	if (!ex)
		ah_cli_table_print(&tab, stdout);
	ah_cli_table_fini(&tab);
	if (!ex && o->follow) {
		fflush(stdout);
		follow_ctx fc = {.o = o, .id = f->id}; /* the watch sends every event; --id filters here */
		/* from the last event listed; --since past the head watches from the head */
		ex = ah_client_watch(cl, "/v1/events?watch=1&since=", after < head ? after : head, follow_event, &fc);
	}
out:
	json_decref(all);
	ah_client_free(cl);
	return ex;
}

int ah_cmd_events(int argc, char **argv)
{
	common_opts o = {0};
	int r = parse_common(argc, argv, "events",
			     "usage: ahead events [--since SEQ|DURATION] [--limit N] [--id ID] [--db PATH]\n"
			     "                    [--follow] [-o table|json|csv]\n\n"
			     "Shows the append-only event log (grant, queue, refuse, dequeue, release,\n"
			     "cancel, renew, expire, timeout, preempt, resize, policy, scale, run), oldest\n"
			     "first. Scale events carry the hook's result (-o json: \"data\"); run events\n"
			     "are ahead run's (exited, killed, orphaned, drift, cgroup-gone).\n"
			     "--since SEQ shows events after sequence number SEQ (digits alone), --since\n"
			     "DURATION those of the last DURATION (e.g. 30m, 2h); it says which it read.\n"
			     "--id shows one allocation's.\n"
			     "--follow (-f, --watch) with --server: after the listing, prints each new event\n"
			     "as it happens (a row each; -o json: one object a line) until interrupted;\n"
			     "a dropped connection resumes after the last event seen.\n\n" AH_CLIENT_USAGE,
			     &o, NULL);
	if (r != AH_CLI_GO)
		return r;
	ah_event_filter f = {.limit = (int)o.limit, .id = o.id};
	int cx;
	bool remote = ah_client_wanted("events", &o.co, o.db, &cx);
	if (cx)
		return cx;
	if (o.since && (r = since_filter(o.since, &f)) != 0)
		return r;
	if (remote)
		return events_remote(&o, &f);
	if (o.follow) {
		ah_cli_err("events", "--follow watches a daemon's events: it needs --server URL (or $AHEAD_SERVER)");
		return AH_EXIT_USAGE;
	}
	char err[768];
	const char *db = ah_cli_db_path(o.db);
	int nl = ah_cli_need_ledger("events", db);
	if (nl)
		return nl;
	ah_cli_table tab;
	ah_cli_table_init(&tab, 9, 1u);
	ev_ctx c = {.fmt = o.fmt, .arr = o.fmt == AH_OUT_JSON ? json_array() : NULL, .tab = &tab};
	if (o.fmt == AH_OUT_TABLE)
		ah_cli_table_addv(&tab, "SEQ", "TIME", "KIND", "ID", "TENANT", "POOL", "CLASS", "RESOURCES", "REASON");
	else if (o.fmt == AH_OUT_CSV)
		printf("seq,time,kind,id,tenant,pool,class,resources,reason,detail\n");

	int rc = ah_service_events(db, &f, print_event, &c, err, sizeof err);
	int ex = AH_EXIT_OK;
	if (rc < 0) {
		ah_cli_err("events", "%s", err);
		ex = rc == AH_ENOENT ? AH_EXIT_NOTFOUND : AH_EXIT_INTERNAL;
	}
	if (c.arr) {
		char *s = ah_json_dumps(c.arr);
		printf("%s\n", s ? s : "[]");
		free(s);
		json_decref(c.arr);
	}
	ah_cli_table_print(&tab, stdout);
	ah_cli_table_fini(&tab);
	return ex;
}
