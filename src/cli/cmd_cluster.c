/* ahead cluster status: the etcd cluster behind an etcd ledger — members,
 * the ahead instances alive on it, the ledger's revisions (docs/CLUSTER.md).
 * -o json in the one JSON shape (ah_json_cluster_status, docs/JSON.md). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/encode.h"
#include "ahead/error.h"
#include "ahead/resource.h"
#include "ahead/service.h"
#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/table.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: ahead cluster status [--db etcd://HOST:PORT[,HOST:PORT...]/PREFIX] [-o table|json]\n\n"
		   "What the etcd cluster behind an etcd ledger looks like now: each member\n"
		   "(reachable, leader, raft index and term, database size), the ahead\n"
		   "instances alive on the ledger (their lease keys: name, pid, seconds left\n"
		   "on the lease, since which revision), the elected shaper and its fencing\n"
		   "token, the elected writer (serve --advertise), the cluster's revision\n"
		   "and the ledger head's (with its commit count), and each daemon's view\n"
		   "as it published it (at most a second old): its watch on the head up or\n"
		   "down, how many revisions its view is behind the head, its last catch-up\n"
		   "lag. Read-only.\n\n"
		   "  --db URL      the etcd ledger (default $AHEAD_DB)\n"
		   "  -o FORMAT     table (default) or json\n"
		   "Exit status: 0, 1 when no member answers, 2 for a bad command line.\n");
}

static void print_table(const ah_cluster_status *st)
{
	printf("ledger %s  revision %" PRId64 "  head revision %" PRId64 "  commits %" PRId64 "\n\n", st->prefix,
	       st->revision, st->head_revision, st->commits);
	ah_cli_table t;
	ah_cli_table_init(&t, 8, 0x78u);
	ah_cli_table_addv(&t, "MEMBER", "ID", "CLIENT URL", "STATE", "RAFT INDEX", "TERM", "DB SIZE", "VERSION");
	for (int i = 0; i < st->n_members; i++) {
		const ah_cluster_member *m = &st->member[i];
		char idx[24] = "-", term[24] = "-", db[32] = "-";
		if (m->reachable) {
			snprintf(idx, sizeof idx, "%" PRId64, m->raft_index);
			snprintf(term, sizeof term, "%" PRId64, m->raft_term);
			ah_unit_format_human(AH_UNIT_BYTES, m->db_size_bytes, db, sizeof db);
		}
		ah_cli_table_addv(&t, m->name, m->id, m->client_url,
				  !m->reachable ? "unreachable" : m->leader ? "leader" : "follower", idx, term, db,
				  m->reachable ? m->version : "-");
	}
	ah_cli_table_print(&t, stdout);
	ah_cli_table_fini(&t);
	for (int i = 0; i < st->n_members; i++)
		if (!st->member[i].reachable)
			printf("  %s: %s\n", st->member[i].name, st->member[i].error);
	printf("\n");
	ah_cli_table_init(&t, 7, 0x6eu);
	ah_cli_table_addv(&t, "INSTANCE", "PID", "LEASE LEFT", "SINCE REVISION", "WATCH", "BEHIND", "LAG");
	for (int i = 0; i < st->n_instances; i++) {
		const ah_cluster_instance *x = &st->instance[i];
		char pid[24], ttl[24] = "-", rev[24], behind[24] = "-", lag[24] = "-";
		snprintf(pid, sizeof pid, "%ld", x->pid);
		if (x->lease_ttl_s >= 0)
			snprintf(ttl, sizeof ttl, "%" PRId64 "s", x->lease_ttl_s);
		snprintf(rev, sizeof rev, "%" PRId64, x->since_revision);
		if (x->watching) {
			snprintf(behind, sizeof behind, "%" PRId64, x->behind);
			snprintf(lag, sizeof lag, "%" PRId64 "ms", x->lag_ms);
		}
		ah_cli_table_addv(&t, x->name, pid, ttl, rev, !x->watching ? "-" : x->watch_up ? "up" : "down", behind,
				  lag);
	}
	if (st->n_instances)
		ah_cli_table_print(&t, stdout);
	else
		printf("no ahead instance alive on this ledger\n");
	ah_cli_table_fini(&t);
	if (st->have_shaper)
		printf("\nshaper: %s (fencing token %" PRId64 ")\n", st->shaper, st->shaper_token);
	else
		printf("\nshaper: none elected (no instance shapes, or none has run --scale-every yet)\n");
	if (st->have_writer)
		printf("writer: %s (the other instances forward their allocation writes to it)\n", st->writer);
	else
		printf("writer: none elected (no instance runs with --advertise: each commits its own writes)\n");
	if (st->max_behind >= 0)
		printf("watch lag: at most %" PRId64 " revisions behind the head, last catch-up at most %" PRId64
		       " ms (as published, at most a second old)\n",
		       st->max_behind, st->max_lag_ms);
	else
		printf("watch lag: - (no instance runs a watch)\n");
}

int ah_cmd_cluster(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return AH_EXIT_OK;
	}
	if (argc < 2 || strcmp(argv[1], "status")) {
		ah_cli_err("cluster", "%s%s; the subcommand is status", argc < 2 ? "missing subcommand" : "unknown subcommand ",
			   argc < 2 ? "" : argv[1]);
		usage(stderr);
		return AH_EXIT_USAGE;
	}
	const char *db = NULL;
	ah_out_fmt fmt = AH_OUT_TABLE;
	const ah_cli_opt opts[] = {
		AH_OPT("db", 'd', AH_OPT_STRING, &db, .hint = "URL", .flags = AH_OPT_NONEMPTY),
		AH_OPT("output", 'o', AH_OPT_FORMAT, &fmt, .formats = AH_FMTS_TABLE_JSON),
	};
	ah_cli_spec spec = {.cmd = "cluster status", .usage = usage, .opts = opts, .n_opts = AH_CLI_NOPTS(opts)};
	int ex = ah_cli_parse(&spec, argc - 1, argv + 1);
	if (ex != AH_CLI_GO)
		return ex;
	db = ah_cli_db_path(db);
	ah_cluster_status *st = calloc(1, sizeof *st);
	char err[768] = "";
	if (!st) {
		ah_cli_err("cluster", "out of memory");
		return AH_EXIT_INTERNAL;
	}
	int rc = ah_service_cluster_status(db, st, err, sizeof err);
	if (rc < 0) {
		ah_cli_err("cluster", "%s", err);
		free(st);
		return rc == AH_EINVAL ? AH_EXIT_USAGE : AH_EXIT_INTERNAL;
	}
	if (fmt == AH_OUT_JSON) {
		json_t *o = ah_json_cluster_status(st);
		char *s = ah_json_dumps(o);
		printf("%s\n", s ? s : "{}");
		free(s);
		json_decref(o);
	} else {
		print_table(st);
	}
	free(st);
	return AH_EXIT_OK;
}
