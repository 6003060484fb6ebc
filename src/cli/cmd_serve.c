/* ahead serve: the daemon (include/ahead/daemon.h). This file only reads
 * the command line. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ahead/daemon.h"
#include "ahead/error.h"
#include "ahead/limits.h"
#include "ahead/names.h"
#include "ahead/service.h"
#include "cli/cli.h"
#include "cli/opts.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ahead serve --policy FILE [--db PATH] [--listen ADDR] [options]\n\n"
		"Runs the daemon: one owner of the ledger, serving the HTTP/JSON API under /v1\n"
		"(docs/API.md; the OpenAPI document at /openapi.json). Writes that arrive together\n"
		"share one ledger commit; every answer is durable before it is sent. While it runs,\n"
		"local commands that change the ledger refuse and point at --server.\n"
		"On first start it creates an admin token and prints it once.\n"
		"SIGHUP re-reads the policy file (a bad file is refused, the old policy stays);\n"
		"SIGTERM drains and exits.\n\n"
		"  -P, --policy FILE        policy file, applied at start and on SIGHUP (required)\n"
		"      --db PATH            ledger database (default $AHEAD_DB, else ./ahead.db), or\n"
		"                           etcd://HOST:PORT[,HOST:PORT...]/PREFIX: one ledger in etcd shared by\n"
		"                           several instances (docs/CLUSTER.md; history stays in --shadow-db)\n"
		"      --join URL           join a fleet as a node: URL is an etcd ledger (as --db), and this\n"
		"                           host registers its capacity and labels under its lease\n"
		"                           (docs/CLUSTER.md, \"Nodes\"; ahead node ls lists them)\n"
		"      --node-name NAME     the node's name (default: the host name, lower-cased)\n"
		"      --node-labels K=V,.. the node's labels, e.g. zone=eu-1,rack=r2\n"
		"      --node-capacity RES  what it offers, e.g. cpu=2,memory=8Gi (default: the host's\n"
		"                           cores and memory for cpu and memory; other dimensions none)\n"
		"      --shadow-db PATH     usage history (default: beside the ledger)\n"
		"  -l, --listen ADDR        HOST:PORT, [V6]:PORT or :PORT (default 127.0.0.1:7070)\n"
		"      --advertise URL      on an etcd ledger: the URL other instances reach this one at\n"
		"                           (http://HOST:PORT); instances that advertise elect one writer\n"
		"                           and forward their allocation writes to it, so no commit is\n"
		"                           refused by another's (docs/CLUSTER.md, \"One writer\")\n"
		"      --tls-cert FILE      PEM certificate (with --tls-key): serve HTTPS\n"
		"      --tls-key FILE       PEM private key\n"
		"      --insecure           allow plain HTTP on a non-loopback address\n"
		"      --admin-token-file F also write the first admin token to F (never overwritten)\n"
		"      --batch-window D     wait up to D for more writes before a commit (default 0:\n"
		"                           what arrived in one loop turn commits together)\n"
		"      --batch-max N        at most N writes per commit (default 512)\n"
		"      --max-body SIZE      largest request body in bytes (default 1048576)\n"
		"      --max-conns N        open connections in all (default 1024)\n"
		"      --max-conns-per-ip N (default 512)\n"
		"      --idle-timeout D     close a connection idle this long (default 15s)\n"
		"      --tick D             lease expiry and queue timeouts every D (default 1s)\n"
		"      --scale-every D      one pool-shaping step every D when a pool shapes (default 30s;\n"
		"                           0 = never); its scale hooks run in the daemon's loop\n"
		"      --compact-every D    usage history retention every D (default 1h; 0 = never)\n"
		"      --sample-every D     sample every pool every D for GET /v1/pools/NAME/history and\n"
		"                           /metrics, 24 h kept in memory (default 10s)\n"
		"      --log-level LEVEL    error, warn, info (default) or debug; one line per event\n"
		"      --sweep D            sweep idempotency keys and old events every D (default 60s)\n"
		"      --events-keep D      keep events at least D for watches to resume from (default 1h)\n"
		"      --events-keep-min N  and at least the newest N (default 10000)\n"
		"      --idem-keep D        answer a retried Idempotency-Key for D (default 24h; at least 1s);\n"
		"                           on etcd every key is one etcd key for that long (docs/CLUSTER.md)\n");
}

/* --advertise: http(s)://HOST:PORT, printable, no query or spaces (it is
 * the key's value other instances put in front of a path). */
static int check_advertise(const char *u)
{
	const char *why = NULL;
	size_t n = strlen(u);
	if (n > AH_ADVERTISE_URL_MAX)
		why = "longer than 127 bytes (AH_ADVERTISE_URL_MAX)";
	else if (strncmp(u, "http://", 7) && strncmp(u, "https://", 8))
		why = "not an http:// or https:// URL";
	for (size_t i = 0; !why && i < n; i++)
		if ((unsigned char)u[i] <= ' ' || u[i] == '?' || u[i] == '#' || (unsigned char)u[i] >= 127)
			why = "it holds a space, a control character, '?' or '#'";
	if (!why && !strchr(u + 8, ':'))
		why = "no :PORT";
	if (!why)
		return AH_CLI_GO;
	ah_cli_err("serve", "--advertise %s: %s (give http://HOST:PORT, as the other instances reach this one)", u, why);
	return AH_EXIT_USAGE;
}

static const ah_cli_choice LEVELS[] = {
	{"error", AH_LOG_ERROR}, {"warn", AH_LOG_WARN}, {"info", AH_LOG_INFO}, {"debug", AH_LOG_DEBUG}, {NULL, 0}};

/* The host name as a node name: lower-cased, other characters '-'. */
static int host_node_name(char *out, size_t n)
{
	char h[256] = "";
	if (gethostname(h, sizeof h - 1) < 0 || !h[0])
		return AH_EINVAL;
	char *dot = strchr(h, '.');
	if (dot)
		*dot = 0;
	size_t i = 0;
	for (; h[i] && i + 1 < n; i++) {
		char c = (char)tolower((unsigned char)h[i]);
		out[i] = (isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-') ? c : '-';
	}
	out[i] = 0;
	return ah_name_check_object(out);
}

/* --join URL: the ledger is URL, and this host a node (named, labelled,
 * offering what --node-* say). --node-* without --join is a mistake. */
static int join_opts(ah_daemon_opts *o, const char *join, const char **db, char *name, size_t n)
{
	if (!join) {
		if (o->node_name || o->node_labels || o->node_capacity) {
			ah_cli_err("serve", "--node-name, --node-labels and --node-capacity need --join URL");
			return AH_EXIT_USAGE;
		}
		return AH_CLI_GO;
	}
	if (*db && strcmp(*db, join)) {
		ah_cli_err("serve", "--join %s names the ledger; --db %s says another", join, *db);
		return AH_EXIT_USAGE;
	}
	if (!ah_service_is_etcd_url(join)) {
		ah_cli_err("serve", "--join %s: want an etcd ledger, etcd://HOST:PORT[,HOST:PORT...]/PREFIX", join);
		return AH_EXIT_USAGE;
	}
	*db = join;
	if (!o->node_name) {
		if (host_node_name(name, n) < 0) {
			ah_cli_err("serve", "the host name is not a node name (%s): give --node-name NAME",
				   AH_NAME_OBJECT_GRAMMAR);
			return AH_EXIT_USAGE;
		}
		o->node_name = name;
	} else if (ah_name_check_object(o->node_name) < 0) {
		ah_cli_err("serve", "--node-name %s: must match %s", o->node_name, AH_NAME_OBJECT_GRAMMAR);
		return AH_EXIT_USAGE;
	}
	return AH_CLI_GO;
}

int ah_cmd_serve(int argc, char **argv)
{
	ah_daemon_opts o;
	ah_daemon_opts_init(&o);
	const char *db = NULL, *listen = NULL, *join = NULL;
	bool insecure = false;
	int64_t window = 0, batch_max = 512, body_max = (int64_t)AH_API_BODY_MAX, conns = AH_API_CONN_MAX,
		per_ip = AH_API_CONN_PER_IP_MAX, idle = (int64_t)AH_API_IDLE_TIMEOUT_S * 1000000000, tick = 1000000000,
		sweep = INT64_C(60) * 1000000000, ev_keep = INT64_C(3600) * 1000000000, ev_min = 10000,
		idem_keep = INT64_C(86400) * 1000000000;
	int level = AH_LOG_INFO;
	int64_t scale_every = INT64_C(30) * 1000000000, compact_every = INT64_C(3600) * 1000000000,
		sample_every = INT64_C(10) * 1000000000;
	const ah_cli_opt opts[] = {
		AH_OPT("policy", 'P', AH_OPT_STRING, &o.policy_path, .hint = "FILE", .flags = AH_OPT_NONEMPTY | AH_OPT_ONCE),
		AH_OPT("db", 'd', AH_OPT_STRING, &db, .hint = "PATH", .flags = AH_OPT_NONEMPTY),
		AH_OPT("join", 0, AH_OPT_STRING, &join, .hint = "URL", .flags = AH_OPT_NONEMPTY | AH_OPT_ONCE),
		AH_OPT("node-name", 0, AH_OPT_STRING, &o.node_name, .hint = "NAME", .flags = AH_OPT_NONEMPTY | AH_OPT_ONCE),
		AH_OPT("node-labels", 0, AH_OPT_STRING, &o.node_labels, .hint = "K=V,...", .flags = AH_OPT_ONCE),
		AH_OPT("node-capacity", 0, AH_OPT_STRING, &o.node_capacity, .hint = "RES",
		       .flags = AH_OPT_NONEMPTY | AH_OPT_ONCE),
		AH_OPT("shadow-db", 0, AH_OPT_STRING, &o.shadow_path, .hint = "PATH"),
		AH_OPT("listen", 'l', AH_OPT_STRING, &listen, .hint = "ADDR", .flags = AH_OPT_NONEMPTY),
		AH_OPT("advertise", 0, AH_OPT_STRING, &o.server.advertise_url, .hint = "URL",
		       .flags = AH_OPT_NONEMPTY | AH_OPT_ONCE),
		AH_OPT("tls-cert", 0, AH_OPT_STRING, &o.server.tls_cert_path, .hint = "FILE", .flags = AH_OPT_NONEMPTY),
		AH_OPT("tls-key", 0, AH_OPT_STRING, &o.server.tls_key_path, .hint = "FILE", .flags = AH_OPT_NONEMPTY),
		AH_OPT("insecure", 0, AH_OPT_FLAG, &insecure),
		AH_OPT("admin-token-file", 0, AH_OPT_STRING, &o.admin_token_path, .hint = "FILE", .flags = AH_OPT_NONEMPTY),
		AH_OPT("batch-window", 0, AH_OPT_DURATION, &window, .hint = "DURATION", .lo = 0, .hi = INT64_C(1000000000)),
		AH_OPT("batch-max", 0, AH_OPT_INT, &batch_max, .hint = "N", .lo = 1, .hi = 100000),
		AH_OPT("max-body", 0, AH_OPT_INT, &body_max, .hint = "BYTES", .lo = 1024, .hi = INT64_C(1) << 30),
		AH_OPT("max-conns", 0, AH_OPT_INT, &conns, .hint = "N", .lo = 1, .hi = 65536),
		AH_OPT("max-conns-per-ip", 0, AH_OPT_INT, &per_ip, .hint = "N", .lo = 1, .hi = 65536),
		AH_OPT("idle-timeout", 0, AH_OPT_DURATION, &idle, .hint = "DURATION", .lo = 1000000000,
		       .hi = INT64_C(3600) * 1000000000),
		AH_OPT("tick", 0, AH_OPT_DURATION, &tick, .hint = "DURATION", .lo = 10000000, .hi = INT64_C(3600) * 1000000000),
		AH_OPT("sweep", 0, AH_OPT_DURATION, &sweep, .hint = "DURATION", .lo = 10000000, .hi = INT64_C(86400) * 1000000000),
		AH_OPT("events-keep", 0, AH_OPT_DURATION, &ev_keep, .hint = "DURATION", .lo = 0,
		       .hi = INT64_C(366) * 86400 * 1000000000),
		AH_OPT("events-keep-min", 0, AH_OPT_INT, &ev_min, .hint = "N", .lo = 0, .hi = INT64_C(1000000000)),
		AH_OPT("idem-keep", 0, AH_OPT_DURATION, &idem_keep, .hint = "DURATION", .lo = 1000000000,
		       .hi = INT64_C(366) * 86400 * 1000000000),
		AH_OPT("scale-every", 0, AH_OPT_DURATION, &scale_every, .hint = "DURATION", .lo = 0,
		       .hi = INT64_C(86400) * 1000000000),
		AH_OPT("compact-every", 0, AH_OPT_DURATION, &compact_every, .hint = "DURATION", .lo = 0,
		       .hi = INT64_C(86400) * 1000000000),
		AH_OPT("sample-every", 0, AH_OPT_DURATION, &sample_every, .hint = "DURATION", .lo = 1000000000,
		       .hi = INT64_C(3600) * 1000000000),
		AH_OPT("log-level", 0, AH_OPT_CHOICE, &level, .hint = "level", .choices = LEVELS),
	};
	ah_cli_spec spec = {.cmd = "serve", .usage = usage, .opts = opts, .n_opts = AH_CLI_NOPTS(opts)};
	int ex = ah_cli_parse(&spec, argc, argv);
	if (ex != AH_CLI_GO)
		return ex;
	if (!o.policy_path) {
		ah_cli_err("serve", "--policy FILE is required (see ahead serve --help)");
		return AH_EXIT_USAGE;
	}
	char node_name[AH_NAME_MAX];
	if ((ex = join_opts(&o, join, &db, node_name, sizeof node_name)) != AH_CLI_GO)
		return ex;
	o.db_path = ah_cli_db_path(db);
	if (o.server.advertise_url && (ex = check_advertise(o.server.advertise_url)) != AH_CLI_GO)
		return ex;
	if (listen)
		o.server.listen = listen;
	o.server.insecure = insecure;
	o.server.batch_window_ns = window;
	o.server.batch_max = (int)batch_max;
	o.server.body_max_bytes = (size_t)body_max;
	o.server.conn_max = (unsigned)conns;
	o.server.conn_per_ip_max = (unsigned)per_ip;
	o.server.idle_timeout_s = (unsigned)(idle / 1000000000);
	o.server.tick_ns = tick;
	o.server.scale_ns = scale_every;
	o.server.compact_ns = compact_every;
	o.server.log_level = (ah_log_level)level;
	o.server.sweep_ns = sweep;
	o.api.events_keep_ns = ev_keep;
	o.api.events_keep_min = ev_min;
	o.api.idem_keep_ns = idem_keep;
	o.api.sample_ns = sample_every;
	char err[1024];
	int rc = ah_daemon_run(&o, err, sizeof err);
	if (rc < 0) {
		ah_cli_err("serve", "%s", err);
		return rc == AH_EINVAL ? AH_EXIT_USAGE : AH_EXIT_INTERNAL;
	}
	return AH_EXIT_OK;
}
