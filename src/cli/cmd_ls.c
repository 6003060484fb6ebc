/* ahead ls | pool ls | events: inspection commands. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/engine.h"
#include "ahead/error.h"
#include "ahead/service.h"
#include "ahead/policy.h"
#include "cli/cli.h"
#include "cli/opts.h"

typedef struct {
	const char *db;
	const char *pool, *tenant;
	ah_out_fmt fmt;
	int64_t since, limit;
	uint64_t id;
} common_opts;

/* The options these commands share (each accepts them all); returns
 * AH_CLI_GO or the exit code. */
static int parse_common(int argc, char **argv, const char *name, const char *help, common_opts *o,
			const char **action)
{
	const ah_cli_opt opts[] = {
		AH_OPT("db", 'd', AH_OPT_STRING, &o->db, .hint = "PATH", .flags = AH_OPT_NONEMPTY),
		AH_OPT("pool", 'p', AH_OPT_STRING, &o->pool, .hint = "P"),
		AH_OPT("tenant", 't', AH_OPT_STRING, &o->tenant, .hint = "T"),
		AH_OPT("since", 's', AH_OPT_INT, &o->since, .hint = "SEQ"),
		AH_OPT("limit", 'n', AH_OPT_INT, &o->limit, .hint = "N", .lo = 1, .hi = 10000000),
		AH_OPT("id", 'i', AH_OPT_ID, &o->id, .hint = "ID"),
		AH_OPT("output", 'o', AH_OPT_FORMAT, &o->fmt),
	};
	ah_cli_spec spec = {.cmd = name, .help = help, .opts = opts, .n_opts = AH_CLI_NOPTS(opts),
			    .min_args = action ? 1 : 0, .max_args = action ? 1 : 0, .args_name = "action (expected: ls)",
			    .args = action};
	return ah_cli_parse(&spec, argc, argv);
}

typedef struct {
	const ah_policy *pol;
	const common_opts *o;
	json_t *arr;
	int n;
} ls_ctx;

static void csv_field(const char *s)
{
	if (!strpbrk(s, ",\"\n")) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static int ls_item(void *ctx, const ah_engine_item *it)
{
	ls_ctx *c = ctx;
	if ((c->o->pool && strcmp(c->o->pool, it->pool)) || (c->o->tenant && strcmp(c->o->tenant, it->tenant)))
		return 0;
	char res[1024], t1[40], t2[40];
	ah_vec_format(&c->pol->dims, it->res, res, sizeof res);
	ah_cli_fmt_time(it->created_ns, t1, sizeof t1);
	ah_cli_fmt_time(it->expires_ns, t2, sizeof t2);
	const char *st = it->queued ? "queued" : "granted";
	c->n++;
	if (c->o->fmt == AH_OUT_JSON) {
		json_array_append_new(c->arr, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)it->id,
							"state", st, "tenant", it->tenant, "pool", it->pool, "class",
							it->klass, "resources", res, it->queued ? "arrived" : "granted_at",
							t1, it->queued ? "deadline" : "lease_expires", t2, "params",
							it->params));
	} else if (c->o->fmt == AH_OUT_CSV) {
		printf("%llu,%s,%s,%s,%s,", (unsigned long long)it->id, st, it->tenant, it->pool, it->klass);
		csv_field(res);
		printf(",%s,%s,", t1, t2);
		csv_field(it->params);
		putchar('\n');
	} else {
		printf("%-8llu %-8s %-12s %-10s %-9s %-32s %-25s %s\n", (unsigned long long)it->id, st, it->tenant,
		       it->pool, it->klass, res, t2, it->params);
	}
	return 0;
}

int ah_cmd_ls(int argc, char **argv)
{
	common_opts o = {0};
	int r = parse_common(argc, argv, "ls",
			     "usage: ahead ls [--pool P] [--tenant T] [--db PATH] [-o table|json|csv]\n\n"
			     "Lists live allocations (by id), then queued requests (in arrival order).\n"
			     "EXPIRES is the lease expiry for allocations and the queue deadline for\n"
			     "queued requests. Expired leases are reclaimed before listing.\n",
			     &o, NULL);
	if (r != AH_CLI_GO)
		return r;
	ah_cli_ctx ctx;
	int ex = ah_cli_need_ledger("ls", ah_cli_db_path(o.db));
	if (!ex)
		ex = ah_cli_open("ls", ah_cli_db_path(o.db), NULL, ah_cli_now_ns(), &ctx);
	if (ex)
		return ex;
	ls_ctx c = {.pol = ctx.pol, .o = &o, .arr = o.fmt == AH_OUT_JSON ? json_array() : NULL};
	if (o.fmt == AH_OUT_CSV)
		printf("id,state,tenant,pool,class,resources,since,expires,params\n");
	else if (o.fmt == AH_OUT_TABLE)
		printf("%-8s %-8s %-12s %-10s %-9s %-32s %-25s %s\n", "ID", "STATE", "TENANT", "POOL", "CLASS",
		       "RESOURCES", "EXPIRES", "PARAMS");
	ah_engine_foreach(ah_service_engine_get(ctx.svc), ls_item, &c);
	if (c.arr) {
		char *s = json_dumps(c.arr, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
		json_decref(c.arr);
	} else if (o.fmt == AH_OUT_TABLE && c.n == 0) {
		printf("(no allocations or queued requests)\n");
	}
	ah_cli_close(&ctx);
	return AH_EXIT_OK;
}

int ah_cmd_pool(int argc, char **argv)
{
	common_opts o = {0};
	const char *action = NULL;
	int r = parse_common(argc, argv, "pool",
			     "usage: ahead pool ls [--db PATH] [-o table|json|csv]\n\n"
			     "Lists each pool's capacity, use and free room per dimension, with the\n"
			     "number of live allocations and queued requests.\n",
			     &o, &action);
	if (r != AH_CLI_GO)
		return r;
	if (strcmp(action, "ls")) {
		ah_cli_err("pool", "unknown action '%.64s' (expected: ls)", action);
		return AH_EXIT_USAGE;
	}
	ah_cli_ctx ctx;
	int ex = ah_cli_need_ledger("pool", ah_cli_db_path(o.db));
	if (!ex)
		ex = ah_cli_open("pool", ah_cli_db_path(o.db), NULL, ah_cli_now_ns(), &ctx);
	if (ex)
		return ex;
	const ah_engine *eng = ah_service_engine_get(ctx.svc);
	json_t *arr = o.fmt == AH_OUT_JSON ? json_array() : NULL;
	if (o.fmt == AH_OUT_TABLE)
		printf("%-12s %-10s %14s %14s %14s %14s %7s %7s\n", "POOL", "DIMENSION", "CAPACITY", "USED", "FREE",
		       "WAITING", "ALLOCS", "QUEUED");
	else if (o.fmt == AH_OUT_CSV)
		printf("pool,dimension,capacity,used,free,waiting,allocs,queued\n");
	for (int i = 0; i < ah_engine_pool_count(eng); i++) {
		ah_engine_pool_info pi;
		ah_engine_pool_get(eng, i, &pi);
		json_t *dims = arr ? json_object() : NULL;
		for (int d = 0; d < ctx.pol->dims.n; d++) {
			if (!pi.capacity->v[d] && !pi.used->v[d])
				continue;
			char a[32], b[32], f[32], wt[32];
			ah_unit_kind k = ctx.pol->dims.kind[d];
			/* what waits for room: queued requests and pending grows */
			int64_t waiting = pi.queued.v[d] + pi.wanted.v[d];
			ah_unit_format(k, waiting, wt, sizeof wt);
			int64_t free_v = pi.capacity->v[d] - pi.used->v[d];
			ah_unit_format(k, pi.capacity->v[d], a, sizeof a);
			ah_unit_format(k, pi.used->v[d], b, sizeof b);
			if (free_v >= 0)
				ah_unit_format(k, free_v, f, sizeof f);
			else
				snprintf(f, sizeof f, "over");
			if (arr)
				json_object_set_new(dims, ctx.pol->dims.name[d],
						    json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I}", "capacity", a, "used", b, "free", f,
							      "waiting", wt, "capacity_base", (json_int_t)pi.capacity->v[d],
							      "used_base", (json_int_t)pi.used->v[d], "waiting_base",
							      (json_int_t)waiting));
			else if (o.fmt == AH_OUT_CSV)
				printf("%s,%s,%s,%s,%s,%s,%d,%d\n", pi.name, ctx.pol->dims.name[d], a, b, f, wt,
				       pi.n_allocs, pi.n_queued);
			else
				printf("%-12s %-10s %14s %14s %14s %14s %7d %7d\n", pi.name, ctx.pol->dims.name[d], a, b, f,
				       wt, pi.n_allocs, pi.n_queued);
		}
		if (arr)
			json_array_append_new(arr, json_pack("{s:s,s:o,s:i,s:i}", "pool", pi.name, "dimensions", dims,
							     "allocations", pi.n_allocs, "queued", pi.n_queued));
	}
	if (arr) {
		char *s = json_dumps(arr, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
		json_decref(arr);
	}
	ah_cli_close(&ctx);
	return AH_EXIT_OK;
}

typedef struct {
	ah_out_fmt fmt;
	json_t *arr;
	int n;
} ev_ctx;

static int print_event(void *ctx, const ah_service_event *ev)
{
	ev_ctx *c = ctx;
	char t[40], id[24] = "-";
	ah_cli_fmt_time(ev->t_ns, t, sizeof t);
	if (ev->id)
		snprintf(id, sizeof id, "%llu", (unsigned long long)ev->id);
	c->n++;
	if (c->fmt == AH_OUT_JSON) {
		json_t *o = json_pack("{s:I,s:s,s:I,s:s}", "seq", (json_int_t)ev->seq, "time", t, "t_ns", (json_int_t)ev->t_ns,
				      "kind", ev->kind);
		if (ev->id)
			json_object_set_new(o, "id", json_integer((json_int_t)ev->id));
		const char *keys[] = {"tenant", "pool", "class", "resources", "reason", "detail"};
		const char *vals[] = {ev->tenant, ev->pool, ev->klass, ev->resources, ev->reason, ev->detail};
		for (int i = 0; i < 6; i++)
			if (vals[i] && *vals[i])
				json_object_set_new(o, keys[i], json_string(vals[i]));
		/* Structured detail (scale events): nested as JSON, not as a string. */
		json_t *data = ev->data && *ev->data ? json_loads(ev->data, 0, NULL) : NULL;
		if (data)
			json_object_set_new(o, "data", data);
		json_array_append_new(c->arr, o);
	} else if (c->fmt == AH_OUT_CSV) {
		printf("%lld,%s,%s,%s,%s,%s,%s,", (long long)ev->seq, t, ev->kind, id, ev->tenant, ev->pool, ev->klass);
		csv_field(ev->resources);
		printf(",%s,", ev->reason);
		csv_field(ev->detail);
		putchar('\n');
	} else {
		printf("%-6lld %-24s %-8s %-6s %-10s %-10s %-9s %-28s %s%s%s\n", (long long)ev->seq, t, ev->kind, id,
		       ev->tenant, ev->pool, ev->klass, ev->resources, ev->reason, *ev->reason && *ev->detail ? ": " : "",
		       ev->detail);
	}
	return 0;
}

int ah_cmd_events(int argc, char **argv)
{
	common_opts o = {0};
	int r = parse_common(argc, argv, "events",
			     "usage: ahead events [--since SEQ] [--limit N] [--id ID] [--db PATH] [-o table|json|csv]\n\n"
			     "Shows the append-only event log (grant, queue, refuse, dequeue, release,\n"
			     "cancel, renew, expire, timeout, preempt, resize, policy, scale), oldest\n"
			     "first. Scale events carry the hook's result (-o json: \"data\").\n"
			     "--since SEQ shows events after sequence number SEQ; --id one allocation's.\n",
			     &o, NULL);
	if (r != AH_CLI_GO)
		return r;
	char err[768];
	const char *db = ah_cli_db_path(o.db);
	int nl = ah_cli_need_ledger("events", db);
	if (nl)
		return nl;
	ev_ctx c = {.fmt = o.fmt, .arr = o.fmt == AH_OUT_JSON ? json_array() : NULL};
	if (o.fmt == AH_OUT_TABLE)
		printf("%-6s %-24s %-8s %-6s %-10s %-10s %-9s %-28s %s\n", "SEQ", "TIME", "KIND", "ID", "TENANT", "POOL",
		       "CLASS", "RESOURCES", "REASON");
	else if (o.fmt == AH_OUT_CSV)
		printf("seq,time,kind,id,tenant,pool,class,resources,reason,detail\n");
	ah_event_filter f = {.after_seq = o.since, .limit = (int)o.limit, .id = o.id};
	int rc = ah_service_events(db, &f, print_event, &c, err, sizeof err);
	int ex = AH_EXIT_OK;
	if (rc < 0) {
		ah_cli_err("events", "%s", err);
		ex = rc == AH_ENOENT ? AH_EXIT_NOTFOUND : AH_EXIT_INTERNAL;
	}
	if (c.arr) {
		char *s = json_dumps(c.arr, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
		json_decref(c.arr);
	}
	return ex;
}
