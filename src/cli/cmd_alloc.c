/* ahead alloc|release|renew|tick: the request path from the command line.
 * Each invocation opens the ledger, rebuilds the engine, answers, and the
 * answer is committed before it is printed. */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/engine.h"
#include "ahead/error.h"
#include "ahead/ledger_sqlite.h"
#include "ahead/policy.h"
#include "cli/cli.h"

static void alloc_usage(FILE *f)
{
	fprintf(f,
		"usage: ahead alloc --tenant T --pool P --res RESOURCES [options]\n\n"
		"Requests an allocation. The answer is granted (exit 0), queued (exit 4)\n"
		"or refused with a reason code (exit 3).\n\n"
		"  -t, --tenant T          tenant name (required)\n"
		"  -p, --pool P            pool name (required)\n"
		"  -c, --class C           priority class (default: the policy's default_class)\n"
		"  -r, --res RESOURCES     e.g. cpu=2,memory=512Mi,qubits=4 (required)\n"
		"  -P, --param KEY=VALUE   request parameter, kept for prediction (repeatable)\n"
		"  -l, --lease DURATION    lease length, e.g. 30s, 5m, 1h (default: class/policy)\n"
		"  -q, --queue-timeout D   how long to wait in the queue (default: class/policy)\n"
		"      --no-queue          refuse instead of queueing\n"
		"      --db PATH           ledger database (default $AHEAD_DB, else ./ahead.db)\n"
		"  -o FORMAT               table (default) or json\n");
}

static int parse_duration_opt(const char *cmd, const char *opt, const char *s, int64_t *out)
{
	if (ah_duration_parse(s, out) < 0) {
		ah_cli_err(cmd, "%s: '%.40s' is not a duration (e.g. 30s, 5m, 1h)", opt, s);
		return -1;
	}
	return 0;
}

static bool valid_param(const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv || eq - kv > 63)
		return false;
	for (const char *p = kv; p < eq; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      *p == '-' || *p == '.'))
			return false;
	for (const char *p = eq + 1; *p; p++)
		if (*p == ',' || (unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static void print_decision(const ah_decision *d, const ah_policy *pol, ah_out_fmt fmt)
{
	char res[1024] = "", t1[40] = "";
	ah_vec_format(&pol->dims, &d->res, res, sizeof res);
	if (fmt == AH_OUT_JSON) {
		json_t *o = json_object();
		static const char *names[] = {"granted", "queued", "refused"};
		json_object_set_new(o, "outcome", json_string(names[d->outcome]));
		if (d->outcome != AH_REFUSED) {
			json_object_set_new(o, "id", json_integer((json_int_t)d->id));
			json_object_set_new(o, "resources", json_string(res));
		}
		if (d->outcome == AH_GRANTED) {
			ah_cli_fmt_time(d->lease_expires_ns, t1, sizeof t1);
			json_object_set_new(o, "lease_expires", json_string(t1));
			json_object_set_new(o, "lease_expires_ns", json_integer(d->lease_expires_ns));
			json_object_set_new(o, "preempted", json_integer(d->n_preempted));
		} else if (d->outcome == AH_QUEUED) {
			ah_cli_fmt_time(d->queue_deadline_ns, t1, sizeof t1);
			json_object_set_new(o, "position", json_integer(d->queue_position));
			json_object_set_new(o, "deadline", json_string(t1));
		} else {
			json_object_set_new(o, "reason", json_string(ah_reason_code(d->reason)));
			json_object_set_new(o, "message", json_string(d->message));
		}
		json_t *corr = json_array();
		if (d->corrections[0]) {
			char buf[sizeof d->corrections];
			strcpy(buf, d->corrections);
			for (char *sv, *tok = strtok_r(buf, ";", &sv); tok; tok = strtok_r(NULL, ";", &sv))
				json_array_append_new(corr, json_string(tok[0] == ' ' ? tok + 1 : tok));
		}
		json_object_set_new(o, "corrections", corr);
		char *s = json_dumps(o, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
		json_decref(o);
		return;
	}
	switch (d->outcome) {
	case AH_GRANTED:
		ah_cli_fmt_time(d->lease_expires_ns, t1, sizeof t1);
		printf("granted  id=%llu  %s  lease until %s", (unsigned long long)d->id, res, t1);
		if (d->n_preempted)
			printf("  (preempted %d)", d->n_preempted);
		printf("\n");
		break;
	case AH_QUEUED:
		ah_cli_fmt_time(d->queue_deadline_ns, t1, sizeof t1);
		printf("queued   id=%llu  %s  position %d, waits until %s\n", (unsigned long long)d->id, res,
		       d->queue_position, t1);
		break;
	case AH_REFUSED:
		printf("refused  %s: %s\n", ah_reason_code(d->reason), d->message);
		break;
	}
	if (d->corrections[0])
		printf("corrected: %s\n", d->corrections);
}

int ah_cmd_alloc(int argc, char **argv)
{
	static const struct option opts[] = {
		{"tenant", required_argument, NULL, 't'},
		{"pool", required_argument, NULL, 'p'},
		{"class", required_argument, NULL, 'c'},
		{"res", required_argument, NULL, 'r'},
		{"param", required_argument, NULL, 'P'},
		{"lease", required_argument, NULL, 'l'},
		{"queue-timeout", required_argument, NULL, 'q'},
		{"no-queue", no_argument, NULL, 'n'},
		{"db", required_argument, NULL, 'd'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	const char *tenant = NULL, *pool = NULL, *klass = NULL, *res = NULL, *db = NULL;
	char params[AH_PARAMS_MAX + 1] = "";
	size_t plen = 0;
	int64_t lease = 0, qt = -1;
	ah_out_fmt fmt = AH_OUT_TABLE;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "t:p:c:r:P:l:q:d:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			tenant = optarg;
			break;
		case 'p':
			pool = optarg;
			break;
		case 'c':
			klass = optarg;
			break;
		case 'r':
			res = optarg;
			break;
		case 'P': {
			size_t n = strlen(optarg);
			if (!valid_param(optarg)) {
				ah_cli_err("alloc", "--param: '%.64s' is not KEY=VALUE (key [A-Za-z0-9_.-], no commas)", optarg);
				return AH_EXIT_USAGE;
			}
			if (plen + n + 1 > AH_PARAMS_MAX) {
				ah_cli_err("alloc", "--param: parameters longer than %d bytes in all", AH_PARAMS_MAX);
				return AH_EXIT_USAGE;
			}
			if (plen)
				params[plen++] = ',';
			memcpy(params + plen, optarg, n + 1);
			plen += n;
			break;
		}
		case 'l':
			if (parse_duration_opt("alloc", "--lease", optarg, &lease) < 0)
				return AH_EXIT_USAGE;
			if (lease <= 0) {
				ah_cli_err("alloc", "--lease: must be positive");
				return AH_EXIT_USAGE;
			}
			break;
		case 'q':
			if (parse_duration_opt("alloc", "--queue-timeout", optarg, &qt) < 0)
				return AH_EXIT_USAGE;
			break;
		case 'n':
			qt = 0;
			break;
		case 'd':
			db = optarg;
			break;
		case 'o':
			if (ah_cli_parse_output(optarg, &fmt) < 0)
				return AH_EXIT_USAGE;
			break;
		case 'h':
			alloc_usage(stdout);
			return AH_EXIT_OK;
		default:
			alloc_usage(stderr);
			return AH_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		ah_cli_err("alloc", "unexpected argument '%.64s'", argv[optind]);
		return AH_EXIT_USAGE;
	}
	const char *missing = !tenant ? "--tenant" : !pool ? "--pool" : !res ? "--res" : NULL;
	if (missing) {
		ah_cli_err("alloc", "%s is required (see ahead alloc --help)", missing);
		return AH_EXIT_USAGE;
	}
	if (fmt == AH_OUT_CSV) {
		ah_cli_err("alloc", "-o csv is not supported here (table or json)");
		return AH_EXIT_USAGE;
	}
	int64_t now = ah_cli_now_ns();
	ah_cli_ctx ctx;
	int ex = ah_cli_open("alloc", ah_cli_db_path(db), now, &ctx);
	if (ex)
		return ex;
	ah_request rq = {.tenant = tenant, .pool = pool, .klass = klass, .params = params,
			 .lease_ttl_ns = lease, .queue_timeout_ns = qt};
	char err[256];
	if (ah_vec_parse(&ctx.pol->dims, res, &rq.res, err, sizeof err) < 0) {
		ah_cli_err("alloc", "--res: %s", err);
		ex = AH_EXIT_USAGE;
		goto out;
	}
	ah_decision d;
	int rc = ah_engine_request(ctx.eng, &rq, now, &d);
	if (rc < 0) {
		ah_cli_err("alloc", "%s (%s); nothing was allocated", ah_strerror(rc), ah_ledger_sqlite_errmsg(ctx.led));
		ex = AH_EXIT_INTERNAL;
		goto out;
	}
	print_decision(&d, ctx.pol, fmt);
	ex = d.outcome == AH_GRANTED ? AH_EXIT_OK : d.outcome == AH_QUEUED ? AH_EXIT_QUEUED : AH_EXIT_REFUSED;
out:
	ah_cli_close(&ctx);
	return ex;
}

/* release ID / renew ID / tick share option parsing. */
static int id_command(int argc, char **argv, const char *name)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"lease", required_argument, NULL, 'l'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	const char *db = NULL;
	int64_t lease = 0;
	ah_out_fmt fmt = AH_OUT_TABLE;
	bool is_tick = !strcmp(name, "tick"), is_renew = !strcmp(name, "renew");
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "d:l:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'l':
			if (!is_renew) {
				ah_cli_err(name, "--lease is only for renew");
				return AH_EXIT_USAGE;
			}
			if (parse_duration_opt(name, "--lease", optarg, &lease) < 0)
				return AH_EXIT_USAGE;
			if (lease <= 0) {
				ah_cli_err(name, "--lease: must be positive");
				return AH_EXIT_USAGE;
			}
			break;
		case 'o':
			if (ah_cli_parse_output(optarg, &fmt) < 0 || fmt == AH_OUT_CSV) {
				if (fmt == AH_OUT_CSV)
					ah_cli_err(name, "-o csv is not supported here (table or json)");
				return AH_EXIT_USAGE;
			}
			break;
		case 'h':
			if (is_tick)
				printf("usage: ahead tick [--db PATH]\n\nReclaims expired leases and times out queued "
				       "requests now, then grants what fits.\n");
			else if (is_renew)
				printf("usage: ahead renew ID [--lease DURATION] [--db PATH] [-o json]\n\n"
				       "Extends a lease to now + DURATION (default: the allocation's lease).\n"
				       "Exit 5 if the allocation does not exist (released, expired or preempted).\n");
			else
				printf("usage: ahead release ID [--db PATH] [-o json]\n\n"
				       "Releases an allocation or cancels a queued request; queued requests that\n"
				       "then fit are granted. Exit 5 if ID does not exist.\n");
			return AH_EXIT_OK;
		default:
			fprintf(stderr, "see 'ahead %s --help'\n", name);
			return AH_EXIT_USAGE;
		}
	}
	uint64_t id = 0;
	if (is_tick) {
		if (optind < argc) {
			ah_cli_err(name, "unexpected argument '%.64s'", argv[optind]);
			return AH_EXIT_USAGE;
		}
	} else {
		if (optind + 1 != argc) {
			ah_cli_err(name, optind >= argc ? "missing ID" : "expected exactly one ID");
			return AH_EXIT_USAGE;
		}
		if (ah_cli_parse_id(name, argv[optind], &id) < 0)
			return AH_EXIT_USAGE;
	}
	int64_t now = ah_cli_now_ns(), exp = 0;
	ah_cli_ctx ctx;
	int ex = ah_cli_open(name, ah_cli_db_path(db), now, &ctx);
	if (ex)
		return ex;
	int before = ah_engine_alloc_count(ctx.eng) + ah_engine_queue_count(ctx.eng);
	int rc = is_tick ? ah_engine_tick(ctx.eng, now)
		 : is_renew ? ah_engine_renew(ctx.eng, id, lease, now, &exp)
			    : ah_engine_release(ctx.eng, id, now);
	if (rc == AH_ENOENT) {
		ah_cli_err(name, "%llu: no such allocation or queued request (released, expired or preempted?)",
			   (unsigned long long)id);
		ex = AH_EXIT_NOTFOUND;
	} else if (rc < 0) {
		ah_cli_err(name, "%s (%s)", ah_strerror(rc), ah_ledger_sqlite_errmsg(ctx.led));
		ex = AH_EXIT_INTERNAL;
	} else if (fmt == AH_OUT_JSON) {
		char t[40];
		ah_cli_fmt_time(exp, t, sizeof t);
		if (is_renew)
			printf("{\"id\": %llu, \"status\": \"renewed\", \"lease_expires\": \"%s\"}\n",
			       (unsigned long long)id, t);
		else if (is_tick)
			printf("{\"status\": \"ok\", \"allocations\": %d, \"queued\": %d}\n", ah_engine_alloc_count(ctx.eng),
			       ah_engine_queue_count(ctx.eng));
		else
			printf("{\"id\": %llu, \"status\": \"released\"}\n", (unsigned long long)id);
	} else {
		char t[40];
		ah_cli_fmt_time(exp, t, sizeof t);
		if (is_renew)
			printf("renewed  id=%llu  lease until %s\n", (unsigned long long)id, t);
		else if (is_tick)
			printf("tick: %d live items before, %d allocations and %d queued now\n", before,
			       ah_engine_alloc_count(ctx.eng), ah_engine_queue_count(ctx.eng));
		else
			printf("released id=%llu\n", (unsigned long long)id);
	}
	ah_cli_close(&ctx);
	return ex;
}

int ah_cmd_release(int argc, char **argv)
{
	return id_command(argc, argv, "release");
}

int ah_cmd_renew(int argc, char **argv)
{
	return id_command(argc, argv, "renew");
}

int ah_cmd_tick(int argc, char **argv)
{
	return id_command(argc, argv, "tick");
}

int ah_cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{"usage", required_argument, NULL, 'u'},
		{"db", required_argument, NULL, 'd'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	const char *db = NULL, *usage_s = NULL;
	ah_out_fmt fmt = AH_OUT_TABLE;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "u:d:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			usage_s = optarg;
			break;
		case 'd':
			db = optarg;
			break;
		case 'o':
			if (ah_cli_parse_output(optarg, &fmt) < 0)
				return AH_EXIT_USAGE;
			if (fmt == AH_OUT_CSV) {
				ah_cli_err("report", "-o csv is not supported here (table or json)");
				return AH_EXIT_USAGE;
			}
			break;
		case 'h':
			printf("usage: ahead report ID --usage RESOURCES [--db PATH] [-o json]\n\n"
			       "Reports an allocation's observed usage (e.g. cpu=1500m,memory=3Gi). The report\n"
			       "renews the lease; usage above 90%% of the reservation grows it at once (if the\n"
			       "pool has room), usage below 50%% for 10 minutes shrinks it to the window's\n"
			       "peak + 15%%. Exit 5 if the allocation does not exist.\n");
			return AH_EXIT_OK;
		default:
			fprintf(stderr, "see 'ahead report --help'\n");
			return AH_EXIT_USAGE;
		}
	}
	uint64_t id;
	if (optind + 1 != argc) {
		ah_cli_err("report", optind >= argc ? "missing ID" : "expected exactly one ID");
		return AH_EXIT_USAGE;
	}
	if (ah_cli_parse_id("report", argv[optind], &id) < 0)
		return AH_EXIT_USAGE;
	if (!usage_s) {
		ah_cli_err("report", "--usage is required (see ahead report --help)");
		return AH_EXIT_USAGE;
	}
	int64_t now = ah_cli_now_ns();
	ah_cli_ctx ctx;
	int ex = ah_cli_open("report", ah_cli_db_path(db), now, &ctx);
	if (ex)
		return ex;
	ah_vec u;
	char err[256];
	if (ah_vec_parse(&ctx.pol->dims, usage_s, &u, err, sizeof err) < 0) {
		ah_cli_err("report", "--usage: %s", err);
		ah_cli_close(&ctx);
		return AH_EXIT_USAGE;
	}
	ah_adjust_outcome o;
	int rc = ah_engine_report_usage(ctx.eng, id, &u, now, &o);
	if (rc == AH_ENOENT) {
		ah_cli_err("report", "%llu: no such allocation (released, expired or preempted?)", (unsigned long long)id);
		ex = AH_EXIT_NOTFOUND;
	} else if (rc < 0) {
		ah_cli_err("report", "%s (%s)", ah_strerror(rc), ah_ledger_sqlite_errmsg(ctx.led));
		ex = AH_EXIT_INTERNAL;
	} else {
		static const char *acts[] = {"unchanged", "grown", "shrunk", "grow blocked (no room)"};
		char res[1024], t[40];
		ah_vec_format(&ctx.pol->dims, &o.res, res, sizeof res);
		ah_cli_fmt_time(o.lease_expires_ns, t, sizeof t);
		if (fmt == AH_OUT_JSON)
			printf("{\"id\": %llu, \"action\": \"%s\", \"resources\": \"%s\", \"lease_expires\": \"%s\"}\n",
			       (unsigned long long)id, acts[o.action], res, t);
		else
			printf("reported id=%llu  %s  %s  lease until %s\n", (unsigned long long)id, acts[o.action], res, t);
	}
	ah_cli_close(&ctx);
	return ex;
}
