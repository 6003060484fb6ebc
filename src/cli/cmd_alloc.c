/* ahead alloc|release|renew|tick|report: the request path from the command
 * line. Each invocation opens the ledger, rebuilds the engine, answers, and
 * the answer is committed before it is printed.
 *
 * With --workload, the path goes through the shadow store beside the ledger
 * (docs/SHADOW.md, "Predict, then reserve"): alloc is sized by the
 * predictor over its history and records the allocation as a request
 * record; report appends usage to the workload's series and the record's
 * running peak; release ends the record, which the next prediction learns
 * from. The shadow store is history, never a gate: if it is missing or
 * broken the ledger command still runs, with a warning on stderr. */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/policy.h"
#include "ahead/predictor_shadow.h"
#include "ahead/encode.h"
#include "ahead/service.h"
#include "ahead/usage.h" /* the workload and parameter grammar */
#include "cli/cli.h"

static void alloc_usage(FILE *f)
{
	fprintf(f,
		"usage: ahead alloc --tenant T --pool P (--res RESOURCES | --workload W) [options]\n\n"
		"Requests an allocation. The answer is granted (exit 0), queued (exit 4)\n"
		"or refused with a reason code (exit 3).\n\n"
		"  -t, --tenant T          tenant name (required)\n"
		"  -p, --pool P            pool name (required)\n"
		"  -c, --class C           priority class (default: the policy's default_class)\n"
		"  -r, --res RESOURCES     e.g. cpu=2,memory=512Mi,qubits=4 (required without --workload)\n"
		"  -w, --workload W        size by prediction from W's history in the shadow store\n"
		"                          (the class's quantile plus margin; its 'prediction' mode\n"
		"                          says whether it may change stated --res); the allocation\n"
		"                          is recorded there, and its reports and release feed back\n"
		"  -P, --param KEY=VALUE   request parameter, kept for prediction (repeatable)\n"
		"      --params K=V,...    several parameters at once (e.g. rows=7,kind=etl)\n"
		"  -l, --lease DURATION    lease length, e.g. 30s, 5m, 1h (default: class/policy)\n"
		"  -q, --queue-timeout D   how long to wait in the queue (default: class/policy)\n"
		"      --no-queue          refuse instead of queueing\n"
		"      --db PATH           ledger database (default $AHEAD_DB, else ./ahead.db)\n"
		"      --shadow-db PATH    shadow store (default: beside the database, x-shadow.db;\n"
		"                          created by the first alloc --workload)\n"
		"  -o FORMAT               table (default) or json\n");
}

/* The dimensions a RESOURCES text names (bit i = dimension i): a report
 * that leaves a dimension out did not measure it, which is not a zero. */
static uint32_t named_dims(const ah_dimset *ds, const char *s)
{
	uint32_t mask = 0;
	while (s && *s) {
		while (*s == ' ' || *s == ',')
			s++;
		const char *eq = strchr(s, '='), *end = strchr(s, ',');
		if (!eq || (end && end < eq))
			break;
		char name[AH_NAME_MAX];
		size_t n = (size_t)(eq - s);
		while (n && s[n - 1] == ' ')
			n--;
		if (n < sizeof name) {
			memcpy(name, s, n);
			name[n] = '\0';
			int i = ah_dimset_find(ds, name);
			if (i >= 0 && i < 32)
				mask |= UINT32_C(1) << i;
		}
		s = end ? end + 1 : eq + strlen(eq);
	}
	return mask;
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

/* What the prediction rested on, per predicted dimension, for people
 * ("memory: regression on 12 requests"). */
static void fmt_sources(const ah_policy *pol, const ah_shadow_prediction_info *pi, char *buf, size_t len)
{
	size_t w = 0;
	buf[0] = '\0';
	for (int i = 0; i < pi->n_dims && i < pol->dims.n; i++) {
		if (pi->dim[i].source == AH_PSH_NONE)
			continue;
		const char *what = pi->dim[i].source == AH_PSH_SERIES ? "usage samples" : "requests";
		int k = snprintf(buf + w, len - w, "%s%s: %s on %zu %s", w ? ", " : "", pol->dims.name[i],
				 ah_psh_source_name(pi->dim[i].source), pi->dim[i].n, what);
		if (k < 0 || (size_t)k >= len - w)
			break;
		w += (size_t)k;
	}
}

static void print_decision(const ah_decision *d, const ah_policy *pol, const char *workload,
			   const ah_shadow_prediction_info *pi, ah_out_fmt fmt)
{
	char res[1024] = "", t1[40] = "", pred[1024] = "", src[512] = "";
	ah_vec_format(&pol->dims, &d->res, res, sizeof res);
	if (d->predicted)
		ah_vec_format(&pol->dims, &d->prediction, pred, sizeof pred);
	if (d->predicted && pi)
		fmt_sources(pol, pi, src, sizeof src);
	if (fmt == AH_OUT_JSON) {
		json_t *o = ah_json_decision(pol, d, workload, pi);
		char *s = o ? json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(12)) : NULL;
		printf("%s\n", s ? s : "{}");
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
	if (d->predicted) {
		if (pi)
			printf("predicted: %s at p%g for %s (%s)\n", pred, pi->q * 100, workload, src);
		else
			printf("predicted: %s for %s\n", pred, workload);
	}
}

int ah_cmd_alloc(int argc, char **argv)
{
	static const struct option opts[] = {
		{"tenant", required_argument, NULL, 't'},
		{"pool", required_argument, NULL, 'p'},
		{"class", required_argument, NULL, 'c'},
		{"res", required_argument, NULL, 'r'},
		{"param", required_argument, NULL, 'P'},
		{"params", required_argument, NULL, 'A'},
		{"workload", required_argument, NULL, 'w'},
		{"shadow-db", required_argument, NULL, 'S'},
		{"lease", required_argument, NULL, 'l'},
		{"queue-timeout", required_argument, NULL, 'q'},
		{"no-queue", no_argument, NULL, 'n'},
		{"db", required_argument, NULL, 'd'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	const char *tenant = NULL, *pool = NULL, *klass = NULL, *res = NULL, *db = NULL;
	const char *workload = NULL, *shadow_db = NULL;
	char params[AH_PARAMS_MAX + 1] = "";
	size_t plen = 0;
	int64_t lease = 0, qt = -1;
	ah_out_fmt fmt = AH_OUT_TABLE;
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "t:p:c:r:P:w:l:q:d:o:h", opts, NULL)) != -1) {
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
		case 'A': {
			/* Checked whole below (ah_shadow_params_check names the item);
			 * here only the length cap of the joined text. */
			size_t n = strlen(optarg);
			if (plen + n + 1 > AH_PARAMS_MAX) {
				ah_cli_err("alloc", "--params: parameters longer than %d bytes in all", AH_PARAMS_MAX);
				return AH_EXIT_USAGE;
			}
			if (!n)
				break;
			if (plen)
				params[plen++] = ',';
			memcpy(params + plen, optarg, n + 1);
			plen += n;
			break;
		}
		case 'w':
			if (ah_shadow_check_workload(optarg) < 0) {
				ah_cli_err("alloc", "--workload: '%.64s' is not a workload name (1-127 of [A-Za-z0-9_.:/@+-])",
					   optarg);
				return AH_EXIT_USAGE;
			}
			workload = optarg;
			break;
		case 'S':
			shadow_db = optarg;
			break;
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
	const char *missing = !tenant ? "--tenant" : !pool ? "--pool" : !res && !workload ? "--res (or --workload)" : NULL;
	if (missing) {
		ah_cli_err("alloc", "%s is required (see ahead alloc --help)", missing);
		return AH_EXIT_USAGE;
	}
	char perr[256];
	int prc = ah_shadow_params_check(params, perr, sizeof perr);
	if (prc < 0) {
		ah_cli_err("alloc", "--params: %s", perr);
		return AH_EXIT_USAGE;
	}
	if (fmt == AH_OUT_CSV) {
		ah_cli_err("alloc", "-o csv is not supported here (table or json)");
		return AH_EXIT_USAGE;
	}
	int64_t now = ah_cli_now_ns();
	ah_cli_ctx ctx;
	int ex = ah_cli_open("alloc", ah_cli_db_path(db), shadow_db, now, &ctx);
	if (ex)
		return ex;
	ah_request rq = {.tenant = tenant, .pool = pool, .klass = klass, .params = params, .workload = workload,
			 .lease_ttl_ns = lease, .queue_timeout_ns = qt};
	char err[256];
	if (res && ah_vec_parse(&ctx.pol->dims, res, &rq.res, err, sizeof err) < 0) {
		ah_cli_err("alloc", "--res: %s", err);
		ex = AH_EXIT_USAGE;
		goto out;
	}
	ah_service_decision sd;
	int rc = ah_service_request(ctx.svc, &rq, now, &sd);
	if (rc < 0) {
		ex = ah_cli_fail(&ctx, rc, NULL);
		ah_cli_err("alloc", "nothing was allocated");
		goto out;
	}
	print_decision(&sd.d, ctx.pol, workload, sd.have_info ? &sd.info : NULL, fmt);
	ex = sd.d.outcome == AH_GRANTED ? AH_EXIT_OK : sd.d.outcome == AH_QUEUED ? AH_EXIT_QUEUED : AH_EXIT_REFUSED;
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
		{"shadow-db", required_argument, NULL, 'S'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	const char *db = NULL, *shadow_db = NULL;
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
		case 'S':
			if (is_renew) {
				ah_cli_err(name, "--shadow-db is only for release and tick");
				return AH_EXIT_USAGE;
			}
			shadow_db = optarg;
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
				printf("usage: ahead tick [--db PATH] [--shadow-db PATH]\n\nReclaims expired leases and times "
				       "out queued requests now, then grants what fits. Closes the shadow store's\n"
				       "records of allocations that ended without a release (never used for learning).\n");
			else if (is_renew)
				printf("usage: ahead renew ID [--lease DURATION] [--db PATH] [-o json]\n\n"
				       "Extends a lease to now + DURATION (default: the allocation's lease).\n"
				       "Exit 5 if the allocation does not exist (released, expired or preempted).\n");
			else
				printf("usage: ahead release ID [--db PATH] [--shadow-db PATH] [-o json]\n\n"
				       "Releases an allocation or cancels a queued request; queued requests that\n"
				       "then fit are granted. An allocation made with --workload has its request\n"
				       "record ended in the shadow store (params -> peak usage of its reports), so\n"
				       "later predictions learn from it. Exit 5 if ID does not exist.\n");
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
	int ex = ah_cli_open(name, ah_cli_db_path(db), shadow_db, now, &ctx);
	if (ex)
		return ex;
	ah_service_tick_out tk = {0};
	int rc = is_tick ? ah_service_tick(ctx.svc, now, &tk)
		 : is_renew ? ah_service_renew(ctx.svc, id, lease, now, &exp)
			    : ah_service_release(ctx.svc, id, now);
	if (rc == AH_ENOENT) {
		ah_cli_err(name, "%llu: no such allocation or queued request (released, expired or preempted?)",
			   (unsigned long long)id);
		ex = AH_EXIT_NOTFOUND;
	} else if (rc < 0) {
		ex = ah_cli_fail(&ctx, rc, NULL);
	} else if (fmt == AH_OUT_JSON) {
		char t[40];
		ah_cli_fmt_time(exp, t, sizeof t);
		if (is_renew)
			printf("{\"id\": %llu, \"status\": \"renewed\", \"lease_expires\": \"%s\"}\n",
			       (unsigned long long)id, t);
		else if (is_tick)
			printf("{\"status\": \"ok\", \"allocations\": %d, \"queued\": %d}\n", tk.allocs, tk.queued);
		else
			printf("{\"id\": %llu, \"status\": \"released\"}\n", (unsigned long long)id);
	} else {
		char t[40];
		ah_cli_fmt_time(exp, t, sizeof t);
		if (is_renew)
			printf("renewed  id=%llu  lease until %s\n", (unsigned long long)id, t);
		else if (is_tick)
			printf("tick: %d live items before, %d allocations and %d queued now%s\n", tk.live_before,
			       tk.allocs, tk.queued,
			       tk.records_closed ? " (closed the shadow records of ended allocations)" : "");
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
		{"shadow-db", required_argument, NULL, 'S'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	const char *db = NULL, *usage_s = NULL, *shadow_db = NULL;
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
		case 'S':
			shadow_db = optarg;
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
			printf("usage: ahead report ID --usage RESOURCES [--db PATH] [--shadow-db PATH] [-o json]\n\n"
			       "Reports an allocation's observed usage (e.g. cpu=1500m,memory=3Gi); dimensions\n"
			       "left out were not measured. The report renews the lease and resizes the\n"
			       "allocation as the policy's `sizing` says: builtin (usage above 90%% of the\n"
			       "reservation grows it at once if the pool has room, usage below 50%% for 10\n"
			       "minutes shrinks it to the window's peak + 15%%), or an allocation policy (ahead,\n"
			       "vpa, ...) warmed on the workload's history, as `ahead replay` scores it.\n"
			       "A grow takes what room there is; the rest is asked again at the next report\n"
			       "(pending grows live in the engine's memory, not in the ledger). For an\n"
			       "allocation made with\n"
			       "--workload, the usage is also appended to the workload's series in the shadow\n"
			       "store and raises its request record's peak. Exit 5 if the allocation does not\n"
			       "exist.\n");
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
	int ex = ah_cli_open("report", ah_cli_db_path(db), shadow_db, now, &ctx);
	if (ex)
		return ex;
	ah_vec u;
	char err[256];
	if (ah_vec_parse(&ctx.pol->dims, usage_s, &u, err, sizeof err) < 0) {
		ah_cli_err("report", "--usage: %s", err);
		ah_cli_close(&ctx);
		return AH_EXIT_USAGE;
	}
	uint32_t present = named_dims(&ctx.pol->dims, usage_s);
	for (int i = 0; i < ctx.pol->dims.n; i++)
		if (!(present & (UINT32_C(1) << i)))
			u.v[i] = AH_USAGE_NONE;
	ah_service_report_out ro;
	int rc = ah_service_report(ctx.svc, id, &u, now, &ro);
	const ah_adjust_outcome o = ro.o;
	const char *workload = ro.workload;
	if (rc == AH_ENOENT) {
		ah_cli_err("report", "%llu: no such allocation (released, expired or preempted?)", (unsigned long long)id);
		ex = AH_EXIT_NOTFOUND;
	} else if (rc < 0) {
		ex = ah_cli_fail(&ctx, rc, NULL);
	} else {
		static const char *acts[] = {"unchanged", "grown", "shrunk", "grow blocked (no room)"};
		char res[1024], t[40];
		ah_vec_format(&ctx.pol->dims, &o.res, res, sizeof res);
		ah_cli_fmt_time(o.lease_expires_ns, t, sizeof t);
		if (fmt == AH_OUT_JSON) {
			json_t *j = json_object();
			json_object_set_new(j, "id", json_integer((json_int_t)id));
			json_object_set_new(j, "action", json_string(acts[o.action]));
			json_object_set_new(j, "resources", json_string(res));
			json_object_set_new(j, "lease_expires", json_string(t));
			if (workload[0])
				json_object_set_new(j, "workload", json_string(workload));
			char *js = json_dumps(j, 0);
			printf("%s\n", js ? js : "{}");
			free(js);
			json_decref(j);
		} else {
			printf("reported id=%llu  %s  %s  lease until %s", (unsigned long long)id, acts[o.action], res, t);
			if (workload[0])
				printf("  (recorded for workload %s)", workload);
			printf("\n");
		}
	}
	ah_cli_close(&ctx);
	return ex;
}
