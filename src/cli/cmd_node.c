/* ahead node ls|describe|cordon|uncordon: the fleet's nodes on an etcd
 * ledger (include/ahead/node.h, docs/CLUSTER.md "Nodes"). -o json in the
 * one JSON shape (ah_json_node_list / ah_json_node, docs/JSON.md). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/encode.h"
#include "ahead/error.h"
#include "ahead/resource.h"
#include "ahead/service.h"
#include "ahead/timestamp.h"
#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/table.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: ahead node ls [--db URL] [-o table|json]\n"
		   "       ahead node describe NAME [--db URL] [-o table|json]\n"
		   "       ahead node cordon NAME [--db URL]\n"
		   "       ahead node uncordon NAME [--db URL]\n"
		   "       ahead node drain NAME [--db URL]\n\n"
		   "The nodes of a fleet: hosts whose `ahead serve --join URL` registered their\n"
		   "capacity and labels on the etcd ledger URL. A node is up while the daemon\n"
		   "serving it renews its etcd lease; its record stays when it is down.\n"
		   "cordon marks a node to take nothing new (kept across its restarts); drain\n"
		   "cordons it and has the daemons move its allocations to other nodes of their\n"
		   "pools where they fit whole (what fits nowhere stays); uncordon clears both.\n"
		   "A pool with `nodes = SELECTOR` in the policy spans the up nodes that match.\n\n"
		   "  --db URL      the etcd ledger, etcd://HOST:PORT[,HOST:PORT...]/PREFIX\n"
		   "                (default $AHEAD_DB)\n"
		   "  -o FORMAT     table (default) or json\n"
		   "Exit status: 0; 1 when etcd does not answer; 2 for a bad command line;\n"
		   "5 for an unknown node.\n");
}

static void capacity_text(const ah_node *n, char *buf, size_t len)
{
	size_t k = 0;
	buf[0] = 0;
	for (int i = 0; i < n->spec.n_dims && k < len; i++) {
		char v[48];
		ah_unit_format_human(n->spec.kind[i], n->spec.capacity[i], v, sizeof v);
		k += (size_t)snprintf(buf + k, len - k, "%s%s=%s", i ? "," : "", n->spec.dim[i], v);
	}
	if (!buf[0])
		snprintf(buf, len, "-");
}

static void labels_text(const ah_node *n, char *buf, size_t len)
{
	size_t k = 0;
	buf[0] = 0;
	for (int i = 0; i < n->spec.n_labels && k < len; i++)
		k += (size_t)snprintf(buf + k, len - k, "%s%s=%s", i ? "," : "", n->spec.labels[i].key,
				      n->spec.labels[i].value);
	if (!buf[0])
		snprintf(buf, len, "-");
}

static const char *state_of(const ah_node *n)
{
	if (n->draining)
		return n->up ? "up,draining" : "down,draining";
	return n->up ? (n->cordoned ? "up,cordoned" : "up") : (n->cordoned ? "down,cordoned" : "down");
}

static void print_list(const ah_node_list *l)
{
	if (!l->n) {
		printf("no node on %s (hosts join with ahead serve --join URL)\n", l->prefix);
		return;
	}
	ah_cli_table t;
	ah_cli_table_init(&t, 7, 0);
	ah_cli_table_addv(&t, "NODE", "STATE", "CAPACITY", "LABELS", "PLACED", "INSTANCE", "LEASE LEFT");
	for (int i = 0; i < l->n; i++) {
		const ah_node *n = &l->node[i];
		char cap[512], lab[1024], ttl[24] = "-";
		capacity_text(n, cap, sizeof cap);
		labels_text(n, lab, sizeof lab);
		if (n->up && n->lease_ttl_s >= 0)
			snprintf(ttl, sizeof ttl, "%" PRId64 "s", n->lease_ttl_s);
		char placed[16];
		snprintf(placed, sizeof placed, "%d", n->placed);
		ah_cli_table_addv(&t, n->spec.name, state_of(n), cap, lab, placed, n->up ? n->instance : "-", ttl);
	}
	ah_cli_table_print(&t, stdout);
	ah_cli_table_fini(&t);
}

static void print_one(const ah_node *n)
{
	char cap[512], lab[1024], when[48] = "-";
	capacity_text(n, cap, sizeof cap);
	labels_text(n, lab, sizeof lab);
	if (n->registered_ns > 0)
		ah_time_format_exact(n->registered_ns - n->registered_ns % 1000000000, when, sizeof when);
	printf("node:        %s\n", n->spec.name);
	printf("state:       %s\n", state_of(n));
	printf("capacity:    %s\n", cap);
	printf("labels:      %s\n", lab);
	if (n->up) {
		printf("served by:   %s (pid %ld)\n", n->instance, n->pid);
		if (n->lease_ttl_s >= 0)
			printf("lease left:  %" PRId64 "s\n", n->lease_ttl_s);
	} else {
		printf("served by:   nobody (no live instance names it: its daemon stopped or its lease lapsed)\n");
	}
	printf("registered:  %s by %s (that host's clock)\n", when, n->registered_by[0] ? n->registered_by : "-");
	printf("record:      revision %" PRId64 "\n", n->record_revision);
	printf("placed:      %d allocation%s\n", n->placed, n->placed == 1 ? "" : "s");
	if (n->up) /* what failure-aware placement reads (its daemon's, since it started) */
		printf("observed:    %u failed cgroup write%s, %u OOM kill%s\n", n->enforce_errors,
		       n->enforce_errors == 1 ? "" : "s", n->kills, n->kills == 1 ? "" : "s");
}

static int emit(json_t *o)
{
	char *s = ah_json_dumps(o);
	printf("%s\n", s ? s : "{}");
	free(s);
	json_decref(o);
	return AH_EXIT_OK;
}

static int exit_for(int rc)
{
	return rc == AH_EINVAL ? AH_EXIT_USAGE : rc == AH_ENOENT ? AH_EXIT_NOTFOUND : AH_EXIT_INTERNAL;
}

static int list_or_describe(const char *db, const char *name, ah_out_fmt fmt)
{
	ah_node_list *l = calloc(1, sizeof *l);
	char err[768] = "";
	if (!l) {
		ah_cli_err("node", "out of memory");
		return AH_EXIT_INTERNAL;
	}
	int rc = ah_service_node_list(db, l, err, sizeof err), ex = AH_EXIT_OK;
	if (rc < 0) {
		ah_cli_err("node", "%s", err);
		ex = exit_for(rc);
		goto out;
	}
	if (!name) {
		if (fmt == AH_OUT_JSON)
			ex = emit(ah_json_node_list(l));
		else
			print_list(l);
		goto out;
	}
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->node[i].spec.name, name)) {
			if (fmt == AH_OUT_JSON)
				ex = emit(ah_json_node(&l->node[i]));
			else
				print_one(&l->node[i]);
			goto out;
		}
	ah_cli_err("node", "no node named %s on this ledger (ahead node ls lists them)", name);
	ex = AH_EXIT_NOTFOUND;
out:
	free(l);
	return ex;
}

int ah_cmd_node(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return AH_EXIT_OK;
	}
	static const char *const subs[] = {"ls", "describe", "cordon", "uncordon", "drain"};
	int sub = -1;
	for (int i = 0; argc >= 2 && i < 5; i++)
		if (!strcmp(argv[1], subs[i]))
			sub = i;
	if (sub < 0) {
		ah_cli_err("node", "%s%s; the subcommands are ls, describe, cordon, uncordon, drain",
			   argc < 2 ? "missing subcommand" : "unknown subcommand ", argc < 2 ? "" : argv[1]);
		usage(stderr);
		return AH_EXIT_USAGE;
	}
	const char *db = NULL;
	ah_out_fmt fmt = AH_OUT_TABLE;
	const ah_cli_opt opts[] = {
		AH_OPT("db", 'd', AH_OPT_STRING, &db, .hint = "URL", .flags = AH_OPT_NONEMPTY),
		AH_OPT("output", 'o', AH_OPT_FORMAT, &fmt, .formats = AH_FMTS_TABLE_JSON),
	};
	char cmd[32];
	snprintf(cmd, sizeof cmd, "node %s", subs[sub]);
	const char *args[1] = {NULL};
	ah_cli_spec spec = {.cmd = cmd, .usage = usage, .opts = opts, .n_opts = AH_CLI_NOPTS(opts),
			    .min_args = sub == 0 ? 0 : 1, .max_args = sub == 0 ? 0 : 1, .args_name = "NAME", .args = args};
	int ex = ah_cli_parse(&spec, argc - 1, argv + 1);
	if (ex != AH_CLI_GO)
		return ex;
	db = ah_cli_db_path(db);
	const char *name = sub == 0 ? NULL : args[0];
	if (sub <= 1)
		return list_or_describe(db, name, fmt);
	char err[768] = "";
	int rc = ah_service_node_cordon(db, name, sub != 3, sub == 4, err, sizeof err);
	if (rc < 0) {
		ah_cli_err("node", "%s", err);
		return exit_for(rc);
	}
	printf("node %s %s\n", name,
	       sub == 2   ? "cordoned: it takes nothing new"
	       : sub == 4 ? "draining: it takes nothing new, and its allocations move to other nodes where they fit"
			  : "uncordoned");
	return AH_EXIT_OK;
}
