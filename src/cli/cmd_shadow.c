/* ahead shadow: the usage history — import, query, export, ls, compact.
 *
 * The shadow store is a sibling of the ledger database: --db (or $AHEAD_DB,
 * else ./ahead.db) "x.db" gives "x-shadow.db", unless --shadow-db names it.
 * Keeping history in its own file means a large import never holds the
 * ledger's write lock. Store rules: include/ahead/shadow.h, docs/SHADOW.md. */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ahead/duration.h"
#include "ahead/encode.h"
#include "ahead/error.h"
#include "ahead/history.h"
#include "ahead/input_unit.h"
#include "ahead/limits.h"
#include "ahead/resource.h"
#include "ahead/series.h"
#include "ahead/timestamp.h"
#include "ahead/usage.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/opts.h"
#include "ahead/prom.h"
#include "cli/table.h"
#include "cli/trace_input.h"

#define CMD "shadow"
#define LONG_MAX_SERIES 256

/* The values every subcommand's table writes to; the parsed ones live in
 * the subcommand. */
typedef struct {
	const char *db, *shadow_db, *workload, *dim, *input, *time_col, *value_col, *outfile;
	const char *params, *predicted, *peak, *mean, *param;
	bool long_fmt;
	int64_t gran; /* import: --granularity */
} opts;

/* --db and --shadow-db, which every subcommand takes. */
#define STORE_OPTS(o)                                                 \
	AH_OPT("db", 0, AH_OPT_STRING, &(o).db, .hint = "PATH", .flags = AH_OPT_NONEMPTY),       \
		AH_OPT("shadow-db", 0, AH_OPT_STRING, &(o).shadow_db, .hint = "PATH")

static const char *sub_usage[] = {
	"usage: ahead shadow COMMAND [OPTIONS]\n\n"
	"The shadow store keeps every workload's usage history: series keyed by\n"
	"(workload, dimension) with a granularity, bucketed to mean/max/count.\n\n"
	"commands:\n"
	"  import    load samples from a CSV file\n"
	"  query     print a series over a time range, raw or at a coarser step\n"
	"  export    write a series as CSV (importable again, losslessly)\n"
	"  ls        list series with their point and sample counts and ranges\n"
	"  compact   apply retention: roll old points into coarser tiers\n"
	"  record    record a request (parameters, prediction) or its end (observed use)\n"
	"  requests  list a workload's request records\n\n"
	"common options:\n"
	"  --db PATH         ledger database (default $AHEAD_DB, else ./ahead.db); the shadow\n"
	"                    store is its sibling: x.db -> x-shadow.db\n"
	"  --shadow-db PATH  the shadow store's path, overriding the derived one\n"
	"  --server URL      (import, query, export, ls, requests, compact) the history of\n"
	"                    `ahead serve` at URL (default $AHEAD_SERVER); same output and exit\n"
	"                    codes. A large import goes in chunks, each all or nothing\n"
	"  --token TOKEN, --token-file FILE   bearer token (default $AHEAD_TOKEN)\n\n"
	"Run 'ahead shadow COMMAND --help' for a command's options.\n"
	"Exit codes: 0 ok, 1 internal or storage error, 2 bad command line or input file,\n"
	"5 store, series or request not found. Details: docs/SHADOW.md.\n",
};

static void usage_import(FILE *f)
{
	fprintf(f,
		"usage: ahead shadow import --workload W --dim D --input FILE.csv\n"
		"                           [--time-col C] [--value-col C] [--granularity DUR]\n"
		"       ahead shadow import --long --input FILE.csv [--granularity DUR]\n"
		"       ahead shadow import --prometheus URL --query PROMQL --workload W --dim D\n"
		"                           [--start T] [--end T] [--step DUR] [--match LABEL=VALUE]\n\n"
		"Loads samples into the shadow store, all or nothing: a bad line aborts the\n"
		"import, names the line and writes nothing.\n\n"
		"  --workload W      workload name: 1-127 of [A-Za-z0-9_.:/@+-]\n"
		"  --dim D           dimension: [a-z][a-z0-9_]{0,62} (cpu, memory, io, net, custom)\n"
		"  --input FILE      CSV with a header; times ISO 8601 or epoch seconds\n"
		"  --time-col C      time column, by name or 0-based index (default: timestamp/time, else 0)\n"
		"  --value-col C     value column, by name or 0-based index (default: value, else 1)\n"
		"  --granularity D   bucket width for a new series: 1ms..1d, e.g. 500ms, 10s, 1m, 1h\n"
		"                    (default 1s; an existing series keeps its own, a different\n"
		"                    value is refused)\n"
		"  --long            long format: header 'time,workload,dim,value', any number of\n"
		"                    series (at most %d) in one file\n"
		"  --unit U[,U]      the unit of the file's values, one per kind of dimension:\n"
		"                    cpu: cores, millicores, percent (with --of N cores);\n"
		"                    memory, io: bytes, KiB, MiB, GiB, TiB, KB, MB, GB, TB.\n"
		"                    Default: millicores and bytes. Values that end below 1\n"
		"                    millicore or 1 byte are reported with a warning\n"
		"  --of N            --unit percent: the cores 100 percent stands for\n"
		"  --format F        csv (default) or bitbrains: a GWA-T-12 per-VM file, read as\n"
		"                    'ahead replay' reads it; --workload defaults to the VM (the\n"
		"                    file's name), --dim to the column\n"
		"  --column C        bitbrains: cpu (millicores, the default) or memory (bytes)\n\n"
		"Missing values (empty, NaN, NA, null) are skipped and counted. A file with the\n"
		"header 'time,value,max,count' (written by 'ahead shadow export') is imported\n"
		"with its means, maxima and counts intact.\n\n"
		"From Prometheus (GET URL/api/v1/query_range; all or nothing):\n"
		"  --prometheus URL  the server's base URL, e.g. http://localhost:9090\n"
		"  --query PROMQL    the query; it must yield one series (or --match picks one)\n"
		"  --end T           ISO 8601 time or epoch seconds (default: now)\n"
		"  --start T         (default: --end minus 1h), rounded down to a multiple of --step\n"
		"  --step DUR        the query's resolution: 1ms..1d, whole milliseconds (default 1m);\n"
		"                    also the new series' granularity unless --granularity is given.\n"
		"                    More than %d steps are read in several requests\n"
		"  --match L=V[,L=V] keep the series whose label L is V (all must hold; an absent\n"
		"                    label counts as empty, as in PromQL)\n"
		"  --unit, --of      the unit of the query's values, as above (node_memory_*_bytes:\n"
		"                    bytes; rate(node_cpu_seconds_total[1m]): cores)\n"
		"Values NaN, +Inf and -Inf are skipped and counted as missing.\n%s",
		LONG_MAX_SERIES, AH_PROM_POINTS_MAX,
		"\ncommon options: --db PATH, --shadow-db PATH, --server URL, --token[-file] (see 'ahead shadow --help')\n");
}

static void usage_query(FILE *f, int export)
{
	if (export)
		fprintf(f, "usage: ahead shadow export --workload W --dim D [--from T] [--to T] [--step DUR]\n"
			   "                           [--file FILE]\n\n"
			   "Writes the series as CSV 'time,value,max,count' (value is the bucket mean), to\n"
			   "stdout or FILE; 'ahead shadow import' reads it back losslessly.\n\n");
	else
		fprintf(f, "usage: ahead shadow query --workload W --dim D [--from T] [--to T] [--step DUR]\n"
			   "                          [-o table|json|csv]\n\n"
			   "Prints the points whose bucket starts in [from, to), in time order.\n\n");
	fprintf(f, "  --workload W, --dim D   the series\n"
		   "  --from T, --to T        ISO 8601 time or epoch seconds (default: everything)\n"
		   "  --step DUR              aggregate into buckets of DUR (e.g. 1m, 1h): mean weighted\n"
		   "                          by count, max of maxima, summed count (default: as stored)\n");
	if (!export)
		fprintf(f, "  -o, --output FORMAT     table (default), json or csv\n");
	else
		fprintf(f, "  --file FILE             write to FILE instead of stdout\n");
	fprintf(f, "\ncommon options: --db PATH, --shadow-db PATH, --server URL, --token[-file] (see 'ahead shadow --help')\n");
}

static void usage_query_only(FILE *f)
{
	usage_query(f, 0);
}

static void usage_export(FILE *f)
{
	usage_query(f, 1);
}

static void usage_ls(FILE *f)
{
	fprintf(f, "usage: ahead shadow ls [-o table|json|csv]\n\n"
		   "Lists every series: workload, dimension, granularity, stored points, samples\n"
		   "they aggregate, first and last bucket start.\n\n"
		   "common options: --db PATH, --shadow-db PATH, --server URL, --token[-file] (see 'ahead shadow --help')\n");
}

static void usage_compact(FILE *f)
{
	fprintf(f, "usage: ahead shadow compact [--now T] [--keep-raw DUR] [--keep-1m DUR] [--keep-1h DUR]\n"
		   "                            [-o table|json]\n\n"
		   "Applies retention: raw points older than --keep-raw (default 1d) are rolled into\n"
		   "1-minute points, those older than --keep-1m (default 30d) into 1-hour points, and\n"
		   "1-hour points older than --keep-1h (default 365d) are deleted (with request records\n"
		   "that ended before then). Rolled points keep mean, max and count.\n\n"
		   "  --now T           the time to compact at (default: the current time)\n\n"
		   "common options: --db PATH, --shadow-db PATH, --server URL, --token[-file] (see 'ahead shadow --help')\n");
}

/* Shadow options are strict: each at most once, none empty. */
static int parse(const char *cmd, void (*usage)(FILE *), const ah_cli_opt *t, size_t n, int argc, char **argv)
{
	ah_cli_spec spec = {.cmd = cmd, .usage = usage, .opts = t, .n_opts = n, .flags = AH_CLI_STRICT};
	return ah_cli_parse(&spec, argc, argv);
}

/* Reading commands refuse a missing store rather than create an empty file
 * (a mistyped --db would otherwise leave stray databases behind). */
static int open_store(const char *sub, const opts *o, int create, ah_history **out)
{
	char err[512];
	int rc = ah_history_open(ah_cli_db_path(o->db), o->shadow_db, create, out, err, sizeof err);
	if (rc) {
		ah_cli_err(CMD, "%s: %s", sub, err);
		return rc == AH_ENOENT ? AH_EXIT_NOTFOUND : rc == AH_EINVAL ? AH_EXIT_USAGE : AH_EXIT_INTERNAL;
	}
	return 0;
}

static int check_names(const char *sub, const char *workload, const char *dim)
{
	int rc;
	if (!workload) {
		ah_cli_err(CMD, "%s: --workload W is required", sub);
		return AH_EXIT_USAGE;
	}
	if (!dim) {
		ah_cli_err(CMD, "%s: --dim D is required", sub);
		return AH_EXIT_USAGE;
	}
	if ((rc = ah_name_check_workload(workload))) {
		ah_cli_err(CMD, "%s: --workload: %s", sub,
			   rc == AH_ETOOBIG ? "longer than 127 bytes"
					    : "must be 1-127 of [A-Za-z0-9_.:/@+-]");
		return AH_EXIT_USAGE;
	}
	if ((rc = ah_name_check_dim(dim))) {
		ah_cli_err(CMD, "%s: --dim: '%.64s' %s", sub, dim,
			   rc == AH_ETOOBIG ? "is longer than 63 bytes" : "must match [a-z][a-z0-9_]*");
		return AH_EXIT_USAGE;
	}
	return 0;
}

/* A history call failed: its message, and the exit code for its cause. */
static int hist_fail(const char *sub, const char *err, int rc)
{
	ah_cli_err(CMD, "%s: %s", sub, err);
	if (rc == AH_ENOENT)
		return AH_EXIT_NOTFOUND;
	if (rc == AH_EINVAL || rc == AH_ERANGE || rc == AH_EPARSE || rc == AH_ETOOBIG || rc == AH_EEXIST ||
	    rc == AH_ESTATE || rc == AH_EIO)
		return AH_EXIT_USAGE;
	return AH_EXIT_INTERNAL;
}

/* ---- as the daemon's client (--server) ----
 * The same subcommands over `ahead serve`'s history routes (docs/API.md):
 * the CLI reads and converts its input as locally, the daemon stores it in
 * the shadow store beside its ledger; the printers are the local ones. */

/* "shadow: SUB": the client's messages read as the local command's. */
static const char *remote_cmd(const char *sub)
{
	static char buf[32];
	snprintf(buf, sizeof buf, "shadow: %s", sub);
	return buf;
}

/* Is this invocation a client? 0 with *out NULL (local) or the client; an
 * exit code after a message. --shadow-db names a local store. */
static int remote_open(const char *sub, const opts *o, const ah_client_opts *co, ah_client **out)
{
	int ex = 0;
	*out = NULL;
	if (co->server && o->shadow_db) {
		ah_cli_err(CMD, "%s: --shadow-db names a local store: with --server the daemon's history (beside its "
			   "ledger) is used",
			   sub);
		return AH_EXIT_USAGE;
	}
	if (!ah_client_wanted(remote_cmd(sub), co, o->db ? o->db : o->shadow_db, &ex))
		return ex;
	return ah_client_open(remote_cmd(sub), co, out);
}

/* One call answered 2xx: 0 with *out; else the exit code (printed). */
static int remote_call(ah_client *c, const char *method, const char *path, const json_t *body, json_t **out)
{
	long st = 0;
	json_t *j = NULL;
	int ex = ah_client_call(c, method, path, body, &st, &j);
	if (ex)
		return ex;
	if (st < 200 || st >= 300 || !j) {
		ex = ah_client_fail(c, st, j);
		json_decref(j);
		return ex ? ex : AH_EXIT_INTERNAL;
	}
	*out = j;
	return 0;
}

/* "/v1/workloads/W/TAIL?dim=D" (dim may be NULL), escaped; NULL after a
 * message. A '/' in the workload cannot be one path segment. */
static char *remote_path(const char *sub, const char *workload, const char *tail, const char *dim)
{
	if (strchr(workload, '/')) {
		ah_cli_err(CMD, "%s: --workload: '%.64s': a name with '/' cannot be addressed over --server", sub,
			   workload);
		return NULL;
	}
	char *w = ah_client_escape(workload), *d = dim ? ah_client_escape(dim) : NULL;
	size_t n = (w ? strlen(w) : 0) + (d ? strlen(d) : 0) + strlen(tail) + 64;
	char *p = w && (!dim || d) ? malloc(n) : NULL;
	if (p)
		snprintf(p, n, "/v1/workloads/%s/%s%s%s", w, tail, d ? "?dim=" : "", d ? d : "");
	else
		ah_cli_err(CMD, "%s: out of memory", sub);
	free(w);
	free(d);
	return p;
}

static int64_t jint(const json_t *o, const char *key, int64_t dflt)
{
	const json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

static double jnum(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* The body cap less room for the rest of a chunk's JSON. */
#define CHUNK_BYTES (AH_API_BODY_MAX - 64 * 1024)

/* Sends samples (base units) to the daemon in chunks under the body cap,
 * each all or nothing with its own Idempotency-Key; a chunk ends only at a
 * bucket's end, so the points are those a local import makes. Progress on
 * stderr when it is a terminal. 0 with *samples stored; else the exit code
 * (printed, with what landed before). */
static int remote_import(ah_client *c, const char *sub, const char *workload, const char *dim, int64_t gran,
			 const int64_t *t, const double *v, size_t n, size_t *samples)
{
	int ex = 0;
	json_t *j = NULL;
	char *path = remote_path(sub, workload, "history", dim);
	if (!path)
		return AH_EXIT_USAGE;
	/* the granularity buckets are cut at: the series' own, else the new one */
	int64_t g = gran ? gran : AH_SHADOW_GRAN_DEFAULT_NS;
	long st = 0;
	if ((ex = ah_client_call(c, "GET", path, NULL, &st, &j)))
		goto out;
	if (st == 200)
		g = jint(j, "granularity_ns", g);
	json_decref(j);
	j = NULL;
	/* the chunks: [start, end) index ranges */
	size_t nch = 0, cap = 0, *ends = NULL, bytes = 0;
	for (size_t i = 0; i < n; i++) {
		char one[64];
		size_t len = (size_t)snprintf(one, sizeof one, "[%lld,%.17g],", (long long)t[i], v[i]) + 2;
		bool cut = i && bytes + len > CHUNK_BYTES && t[i] / g != t[i - 1] / g;
		if (cut || i == 0) {
			if (nch == cap) {
				size_t *e = realloc(ends, (cap = cap ? cap * 2 : 16) * sizeof *e);
				if (!e) {
					ah_cli_err(CMD, "%s: out of memory", sub);
					ex = AH_EXIT_INTERNAL;
					goto chunks_out;
				}
				ends = e;
			}
			if (i)
				ends[nch - 1] = i;
			nch++;
			bytes = 0;
		}
		bytes += len;
	}
	if (nch)
		ends[nch - 1] = n;
	char base[AH_IDEM_KEY_MAX + 1], key[AH_IDEM_KEY_MAX + 1];
	snprintf(base, sizeof base, "%s", ah_client_key(c));
	bool tty = isatty(STDERR_FILENO);
	size_t done = 0, from = 0;
	for (size_t k = 0; k < nch && !ex; k++) {
		json_t *pts = json_array(), *body = json_pack("{s:s}", "dim", dim);
		for (size_t i = from; pts && i < ends[k]; i++)
			json_array_append_new(pts, json_pack("[I,f]", (json_int_t)t[i], v[i]));
		json_object_set_new(body, "points", pts);
		if (gran) {
			char gs[32];
			ah_duration_format(gran, gs, sizeof gs);
			json_object_set_new(body, "granularity", json_string(gs));
		}
		/* a retried chunk is answered once: its own key */
		snprintf(key, sizeof key, "%.*s-%zu", AH_IDEM_KEY_MAX - 24, base, k + 1);
		ah_client_set_key(c, key);
		ex = remote_call(c, "POST", path, body, &j);
		json_decref(body);
		if (!ex) {
			done += (size_t)jint(j, "samples", 0);
			json_decref(j);
			j = NULL;
			if (tty)
				fprintf(stderr, "\rahead shadow: %s: chunk %zu/%zu, %zu of %zu samples", sub, k + 1, nch, done,
					n);
		} else if (k) {
			ah_cli_err(CMD, "%s: chunk %zu of %zu failed; the %zu samples of chunks 1-%zu were imported", sub,
				   k + 1, nch, done, k);
		}
		from = ends[k];
	}
	if (tty && nch)
		fputc('\n', stderr);
	ah_client_set_key(c, base);
	if (!ex)
		*samples = done;
chunks_out:
	free(ends);
out:
	json_decref(j);
	free(path);
	return ex;
}

/* A series' points as the local query's callback sees them. */
typedef struct {
	ah_history *h;        /* local, or */
	const json_t *points; /* the daemon's answer */
	const char *workload, *dim;
	int64_t from, to, step;
} point_src;

static int each_point(const point_src *s, int (*fn)(void *ctx, const ah_shadow_point *p), void *ctx, char *err,
		      size_t errlen)
{
	if (s->h)
		return ah_history_query(s->h, s->workload, s->dim, s->from, s->to, s->step, fn, ctx, err, errlen);
	size_t i;
	const json_t *p;
	json_array_foreach(s->points, i, p)
	{
		ah_shadow_point pt = {.t_ns = jint(p, "t_ns", 0), .width_ns = jint(p, "width_ns", 0),
				      .mean = jnum(p, "mean"), .max = jnum(p, "max"), .count = jint(p, "count", 0)};
		int rc = fn(ctx, &pt);
		if (rc) {
			snprintf(err, errlen, "query: %s", ah_strerror(rc));
			return rc;
		}
	}
	return 0;
}

/* GET the points of [from, to] at step: the answer (to free) or an exit code. */
static int remote_points(ah_client *c, const char *sub, const point_src *s, json_t **out)
{
	char *path = remote_path(sub, s->workload, "history", s->dim);
	if (!path)
		return AH_EXIT_USAGE;
	char q[256] = "", a[48];
	size_t w = 0;
	if (s->from > 0 && ah_time_format_exact(s->from, a, sizeof a) == 0)
		w += (size_t)snprintf(q + w, sizeof q - w, "&from=%s", a);
	if (s->to != INT64_MAX && ah_time_format_exact(s->to, a, sizeof a) == 0)
		w += (size_t)snprintf(q + w, sizeof q - w, "&to=%s", a);
	if (s->step && ah_duration_format(s->step, a, sizeof a) == 0)
		w += (size_t)snprintf(q + w, sizeof q - w, "&step=%s", a);
	size_t n = strlen(path) + w + 1;
	char *full = malloc(n);
	int ex = AH_EXIT_INTERNAL;
	if (full) {
		snprintf(full, n, "%s%s", path, q);
		ex = remote_call(c, "GET", full, NULL, out);
	}
	free(full);
	free(path);
	return ex;
}

/* --unit and --of as a whole, and against --dim. */
static int check_units(const char *sub, ah_input_units *u, double of_cores, const char *dim)
{
	const char *why;
	if (of_cores > 0)
		ah_input_units_set_of(u, of_cores);
	if (ah_input_units_check(u, &why)) {
		ah_cli_err(CMD, "%s: %s", sub, why);
		return AH_EXIT_USAGE;
	}
	if (!dim)
		return 0;
	ah_unit_kind k = ah_input_units_kind_of_dim(dim);
	bool other = k == AH_UNIT_CPU ? u->bytes_set : ah_input_units_fits(k) ? u->cpu_set : u->cpu_set || u->bytes_set;
	if (other) {
		ah_cli_err(CMD, "%s: --unit %s does not fit --dim %s (%ss)", sub,
			   k == AH_UNIT_CPU ? u->bytes_name : u->cpu_set ? u->cpu_name : u->bytes_name, dim,
			   ah_input_units_base_name(k));
		return AH_EXIT_USAGE;
	}
	return 0;
}

/* Loud, on stderr: values that look like a wrong unit. */
static void warn_below_one(const char *sub, const char *input, const ah_history_import_out *r, const char *dim,
			   const ah_input_units *u)
{
	if (!r->below_one)
		return;
	if (dim) {
		ah_unit_kind k = ah_input_units_kind_of_dim(dim);
		fprintf(stderr,
			"ahead shadow: %s: WARNING: %s: %zu of %zu values are below 1 %s once read as %s%s: "
			"predictions from them round to nothing; if the values are in another unit, say so with "
			"--unit (%s)\n",
			sub, input, r->below_one, r->samples, ah_input_units_base_name(k), ah_input_units_name(u, k),
			ah_input_units_given(u, k) ? "" : " (the default)", AH_INPUT_UNIT_GRAMMAR);
	} else {
		fprintf(stderr,
			"ahead shadow: %s: WARNING: %s: %zu of %zu values are below one base unit (1 millicore, "
			"1 byte) once read in their units: predictions from them round to nothing; if the values "
			"are in another unit, say so with --unit (%s)\n",
			sub, input, r->below_one, r->samples, AH_INPUT_UNIT_GRAMMAR);
	}
}

/* --format bitbrains: one column of a GWA-T-12 file, in its stated unit;
 * the workload defaults to the VM (the file's name), the dim to the column. */
static int import_bitbrains(const char *sub, const opts *o, const char *column, int64_t gran,
			    const ah_input_units *u, ah_client *cl)
{
	const char *bad = o->long_fmt ? "--long" : o->time_col ? "--time-col" : o->value_col ? "--value-col"
			: (u->cpu_set || u->bytes_set) ? "--unit" : NULL;
	if (bad) {
		ah_cli_err(CMD, "%s: %s does not apply to --format bitbrains (its columns and units are "
			   "stated: --column " AH_CLI_BB_COLUMNS ")", sub, bad);
		return AH_EXIT_USAGE;
	}
	char err[768];
	ah_cli_samples smp;
	int rc = ah_cli_bitbrains_read(o->input, column ? column : "cpu", &smp, err, sizeof err);
	if (rc) {
		ah_cli_err(CMD, "%s: %s", sub, err);
		return rc == AH_ENOMEM ? AH_EXIT_INTERNAL : AH_EXIT_USAGE;
	}
	const char *dim = o->dim ? o->dim : column && strcmp(column, "cpu") ? "memory" : "cpu";
	const char *workload = o->workload ? o->workload : smp.workload;
	int ret = check_names(sub, workload, dim);
	ah_history *h = NULL;
	if (!ret && cl) {
		size_t got = 0;
		if ((ret = remote_import(cl, sub, workload, dim, gran, smp.t_ns, smp.v, smp.n, &got)) == 0) {
			ah_history_import_out r = {.samples = got};
			for (size_t i = 0; i < smp.n; i++)
				r.below_one += smp.v[i] > 0 && smp.v[i] < 1;
			warn_below_one(sub, o->input, &r, dim, u);
			printf("imported %zu samples into %s/%s\n", r.samples, workload, dim);
		}
	} else if (!ret && (ret = open_store(sub, o, 1, &h)) == 0) {
		ah_history_import_out r;
		rc = ah_history_import_values(h, o->input, workload, dim, gran, smp.t_ns, smp.v, smp.n, &r, err,
					      sizeof err);
		if (rc) {
			ret = hist_fail(sub, err, rc);
		} else {
			warn_below_one(sub, o->input, &r, dim, u);
			printf("imported %zu samples into %s/%s\n", r.samples, workload, dim);
		}
	}
	ah_history_free(h);
	ah_cli_samples_fini(&smp);
	return ret;
}

/* What --prometheus reads. */
typedef struct {
	ah_prom_range r;
	bool start_set, end_set, step_set;
	char match_buf[1024]; /* --match's text, split at its commas */
} prom_opts;

/* --match L=V[,L=V]: into the range's filters. */
static int opt_match(const char *cmd, const char *opt, const char *s, void *dst)
{
	prom_opts *p = dst;
	if (strlen(s) >= sizeof p->match_buf) {
		ah_cli_err(cmd, "%s: longer than %zu bytes", opt, sizeof p->match_buf - 1);
		return -1;
	}
	memcpy(p->match_buf, s, strlen(s) + 1);
	for (char *save = NULL, *m = strtok_r(p->match_buf, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
		if (p->r.n_match == AH_PROM_MATCH_MAX) {
			ah_cli_err(cmd, "%s: at most %d LABEL=VALUE", opt, AH_PROM_MATCH_MAX);
			return -1;
		}
		p->r.match[p->r.n_match++] = m;
	}
	return 0;
}

/* --prometheus: a range query's one series, in its stated unit. */
static int import_prometheus(const char *sub, const opts *o, prom_opts *p, int64_t gran, ah_input_units *u,
			     double of_cores, bool other_source, ah_client *cl)
{
	const char *bad = o->input ? "--input" : o->long_fmt ? "--long" : o->time_col ? "--time-col"
			: o->value_col ? "--value-col" : other_source ? "--format/--column" : NULL;
	if (bad) {
		ah_cli_err(CMD, "%s: %s does not apply to --prometheus (the query is the input)", sub, bad);
		return AH_EXIT_USAGE;
	}
	if (!p->r.query) {
		ah_cli_err(CMD, "%s: --prometheus needs --query PROMQL", sub);
		return AH_EXIT_USAGE;
	}
	int ret = check_names(sub, o->workload, o->dim);
	if (ret || (ret = check_units(sub, u, of_cores, o->dim)))
		return ret;
	ah_prom_range *r = &p->r;
	if (!p->step_set)
		r->step_ns = 60 * AH_NS_PER_S;
	if (r->step_ns % 1000000) {
		ah_cli_err(CMD, "%s: --step: Prometheus takes whole milliseconds", sub);
		return AH_EXIT_USAGE;
	}
	if (!p->end_set) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		r->end_ns = (int64_t)ts.tv_sec * AH_NS_PER_S + ts.tv_nsec;
	}
	r->end_ns -= r->end_ns % 1000000;
	if (!p->start_set)
		r->start_ns = r->end_ns > 3600 * AH_NS_PER_S ? r->end_ns - 3600 * AH_NS_PER_S : 0;
	if (r->start_ns > r->end_ns) {
		ah_cli_err(CMD, "%s: --start must not be after --end", sub);
		return AH_EXIT_USAGE;
	}
	/* each point at the start of its own bucket, as Prometheus stamped it */
	r->start_ns -= r->start_ns % r->step_ns;
	char err[2048];
	int rc = ah_prom_range_check(r, err, sizeof err);
	if (rc) {
		ah_cli_err(CMD, "%s: %s", sub, err);
		return AH_EXIT_USAGE;
	}
	ah_prom_samples smp = {0};
	if ((rc = ah_prom_query_range(r, &smp, err, sizeof err))) {
		ah_cli_err(CMD, "%s: %s", sub, err);
		return rc == AH_ENOENT ? AH_EXIT_NOTFOUND
		       : rc == AH_EINVAL || rc == AH_EPARSE || rc == AH_ETOOBIG ? AH_EXIT_USAGE
										  : AH_EXIT_INTERNAL;
	}
	ah_unit_kind k = ah_input_units_kind_of_dim(o->dim);
	double f = ah_input_units_factor(u, k);
	for (size_t i = 0; i < smp.n; i++)
		smp.v[i] *= f;
	ah_history *h = NULL;
	if (cl) {
		size_t got = 0;
		if ((ret = remote_import(cl, sub, o->workload, o->dim, gran ? gran : r->step_ns, smp.t_ns, smp.v,
					 smp.n, &got)) == 0) {
			ah_history_import_out res = {.samples = got};
			for (size_t i = 0; i < smp.n; i++)
				res.below_one += smp.v[i] > 0 && smp.v[i] < 1;
			warn_below_one(sub, smp.series, &res, o->dim, u);
			printf("imported %zu samples into %s/%s from %s (%zu missing values skipped, %zu request%s)\n",
			       res.samples, o->workload, o->dim, smp.series, smp.missing, smp.requests,
			       smp.requests == 1 ? "" : "s");
		}
	} else if ((ret = open_store(sub, o, 1, &h)) == 0) {
		ah_history_import_out res;
		rc = ah_history_import_values(h, smp.series, o->workload, o->dim, gran ? gran : r->step_ns, smp.t_ns,
					      smp.v, smp.n, &res, err, sizeof err);
		if (rc) {
			ret = hist_fail(sub, err, rc);
		} else {
			warn_below_one(sub, smp.series, &res, o->dim, u);
			printf("imported %zu samples into %s/%s from %s (%zu missing values skipped, %zu request%s)\n",
			       res.samples, o->workload, o->dim, smp.series, smp.missing, smp.requests,
			       smp.requests == 1 ? "" : "s");
		}
	}
	ah_history_free(h);
	ah_prom_samples_fini(&smp);
	return ret;
}

static int import_run(const char *sub, opts *op, prom_opts *pp, int64_t gran, ah_input_units *up, double of_cores,
		      int in_fmt, const char *column, ah_client *cl);

static int cmd_import(int argc, char **argv)
{
	const char *sub = "import";
	opts o = {0};
	int ret;
	int64_t gran = 0;
	ah_input_units units;
	double of_cores = 0;
	int in_fmt = 0;
	const char *column = NULL;
	static const ah_cli_choice in_formats[] = {{"csv", 0}, {"bitbrains", 1}, {NULL, 0}};
	ah_input_units_init(&units);
	prom_opts prom = {0};
	ah_client_opts co = {0};
	ah_client *cl = NULL;
	prom.r.start_ns = prom.r.end_ns = prom.r.step_ns = -1;
	const ah_cli_opt t[] = {
		STORE_OPTS(o),
		AH_CLIENT_OPTS(&co),
		AH_OPT("format", 0, AH_OPT_CHOICE, &in_fmt, .hint = "csv or bitbrains", .choices = in_formats),
		AH_OPT("column", 0, AH_OPT_STRING, &column, .hint = "cpu or memory"),
		AH_OPT("unit", 0, AH_OPT_EACH, &units, .hint = "UNIT", .each = ah_cli_opt_unit),
		AH_OPT("of", 0, AH_OPT_NUMBER, &of_cores, .hint = "CORES", .min = 0, .max = 1e6,
		       .flags = AH_OPT_MIN_OPEN),
		AH_OPT("workload", 0, AH_OPT_STRING, &o.workload, .hint = "W"),
		AH_OPT("dim", 0, AH_OPT_STRING, &o.dim, .hint = "D"),
		AH_OPT("input", 0, AH_OPT_STRING, &o.input, .hint = "FILE"),
		AH_OPT("time-col", 0, AH_OPT_STRING, &o.time_col, .hint = "C"),
		AH_OPT("value-col", 0, AH_OPT_STRING, &o.value_col, .hint = "C"),
		AH_OPT("granularity", 0, AH_OPT_DURATION, &gran, .hint = "DUR", .lo = AH_SHADOW_GRAN_MIN_NS,
		       .hi = AH_SHADOW_GRAN_MAX_NS),
		AH_OPT("long", 0, AH_OPT_FLAG, &o.long_fmt),
		AH_OPT("prometheus", 0, AH_OPT_STRING, &prom.r.url, .hint = "URL"),
		AH_OPT("query", 0, AH_OPT_STRING, &prom.r.query, .hint = "PROMQL"),
		AH_OPT("start", 0, AH_OPT_TIME, &prom.r.start_ns, .hint = "T"),
		AH_OPT("end", 0, AH_OPT_TIME, &prom.r.end_ns, .hint = "T"),
		AH_OPT("step", 0, AH_OPT_DURATION, &prom.r.step_ns, .hint = "DUR", .lo = AH_SHADOW_GRAN_MIN_NS,
		       .hi = AH_SHADOW_GRAN_MAX_NS),
		AH_OPT("match", 0, AH_OPT_EACH, &prom, .hint = "LABEL=VALUE", .each = opt_match),
	};
	if ((ret = parse("shadow import", usage_import, t, AH_CLI_NOPTS(t), argc, argv)) != AH_CLI_GO)
		return ret;
	if ((ret = remote_open(sub, &o, &co, &cl)))
		return ret;
	ret = import_run(sub, &o, &prom, gran, &units, of_cores, in_fmt, column, cl);
	ah_client_free(cl);
	return ret;
}

/* The CSV's samples in base units for the daemon (read as a local import
 * reads them); the exit code after a message, or 0. */
static int remote_csv(const char *sub, const opts *o, const ah_input_units *units, ah_client *cl)
{
	char head[64] = "", err[768];
	FILE *f = fopen(o->input, "r");
	if (!f) {
		ah_cli_err(CMD, "%s: --input: cannot open '%.200s': %s", sub, o->input, strerror(errno));
		return AH_EXIT_USAGE;
	}
	if (!fgets(head, sizeof head, f))
		head[0] = '\0';
	fclose(f);
	head[strcspn(head, "\r\n")] = '\0';
	if (o->long_fmt || (!o->time_col && !o->value_col && !strcmp(head, "time,value,max,count"))) {
		ah_cli_err(CMD, "%s: %s cannot be imported over --server yet (one series of samples, Bitbrains or "
			   "Prometheus can)", sub, o->long_fmt ? "a --long file" : "an export file (with its aggregates)");
		return AH_EXIT_USAGE;
	}
	ah_series ser = {0};
	ah_series_csv_opts so;
	memset(&so, 0, sizeof so);
	so.time_col = o->time_col;
	so.value_col = o->value_col;
	so.flags = AH_SERIES_UNORDERED; /* as the local import: buckets merge repeats and any order */
	int rc = ah_series_read_csv(o->input, &so, &ser, err, sizeof err);
	if (rc)
		return hist_fail(sub, err, rc == AH_ENOMEM ? rc : AH_EPARSE);
	ah_history_import_out r = {.series = 1};
	ah_unit_kind kind = ah_input_units_kind_of_dim(o->dim);
	double factor = ah_input_units_factor(units, kind);
	size_t k = 0;
	int ret = 0;
	for (size_t i = 0; i < ser.n; i++) {
		if (isnan(ser.v[i]))
			continue;
		double b = ser.v[i] * factor;
		if (ser.t_ns[i] < 0 || ser.t_ns[i] > AH_SHADOW_T_MAX) {
			snprintf(err, sizeof err, "%s: a time is out of range (before 1970 or after 2262)", o->input);
			ret = hist_fail(sub, err, AH_EPARSE);
			goto out;
		}
		if (!isfinite(b)) {
			snprintf(err, sizeof err, "%s: a value is out of range in %s", o->input,
				 ah_input_units_name(units, kind));
			ret = hist_fail(sub, err, AH_EPARSE);
			goto out;
		}
		r.below_one += b > 0 && b < 1;
		ser.t_ns[k] = ser.t_ns[i];
		ser.v[k++] = b;
	}
	r.missing = ser.n - k;
	if ((ret = remote_import(cl, sub, o->workload, o->dim, o->gran, ser.t_ns, ser.v, k, &r.samples)))
		goto out;
	warn_below_one(sub, o->input, &r, o->dim, units);
	printf("imported %zu samples into %s/%s (%zu missing values skipped)\n", r.samples, o->workload, o->dim,
	       r.missing);
out:
	ah_series_fini(&ser);
	return ret;
}

static int import_run(const char *sub, opts *op, prom_opts *pp, int64_t gran, ah_input_units *up, double of_cores,
		      int in_fmt, const char *column, ah_client *cl)
{
	opts o = *op;
	prom_opts prom = *pp;
	ah_input_units units = *up;
	ah_history *h = NULL;
	int ret = 0, rc;
	char err[768];
	o.gran = gran;
	prom.start_set = prom.r.start_ns >= 0;
	prom.end_set = prom.r.end_ns >= 0;
	prom.step_set = prom.r.step_ns >= 0;
	if (prom.r.url)
		return import_prometheus(sub, &o, &prom, gran, &units, of_cores, in_fmt || column, cl);
	if (prom.r.query || prom.start_set || prom.end_set || prom.step_set || prom.r.n_match) {
		ah_cli_err(CMD, "%s: %s is for --prometheus URL", sub,
			   prom.r.query ? "--query" : prom.start_set ? "--start" : prom.end_set ? "--end"
			   : prom.step_set ? "--step" : "--match");
		return AH_EXIT_USAGE;
	}
	if (!o.input) {
		ah_cli_err(CMD, "%s: --input FILE is required", sub);
		return AH_EXIT_USAGE;
	}
	if (column && !in_fmt) {
		ah_cli_err(CMD, "%s: --column picks a Bitbrains column: give --format bitbrains", sub);
		return AH_EXIT_USAGE;
	}
	if (in_fmt)
		return import_bitbrains(sub, &o, column, gran, &units, cl);
	if (o.long_fmt) {
		const char *bad = o.workload ? "--workload" : o.dim ? "--dim" : o.time_col ? "--time-col"
							     : o.value_col ? "--value-col" : NULL;
		if (bad) {
			ah_cli_err(CMD, "%s: %s cannot be used with --long (the file names each row's series)",
				   sub, bad);
			return AH_EXIT_USAGE;
		}
	} else if ((ret = check_names(sub, o.workload, o.dim))) {
		return ret;
	}
	if ((ret = check_units(sub, &units, of_cores, o.long_fmt ? NULL : o.dim)))
		return ret;
	if (cl)
		return remote_csv(sub, &o, &units, cl);
	FILE *f = fopen(o.input, "r");
	if (!f) {
		ah_cli_err(CMD, "%s: --input: cannot open '%.200s': %s", sub, o.input, strerror(errno));
		return AH_EXIT_USAGE;
	}
	if ((ret = open_store(sub, &o, 1, &h))) {
		fclose(f);
		return ret;
	}
	ah_history_import_out r;
	ah_history_set_units(h, &units);
	if (o.long_fmt)
		rc = ah_history_import_long(h, f, o.input, gran, &r, err, sizeof err);
	else
		rc = ah_history_import_series(h, o.input, f, o.workload, o.dim, gran, o.time_col, o.value_col, &r,
					      err, sizeof err);
	if (!rc)
		warn_below_one(sub, o.input, &r, o.long_fmt ? NULL : o.dim, &units);
	if (rc)
		ret = hist_fail(sub, err, rc == AH_ENOMEM ? AH_ENOMEM : rc);
	else if (o.long_fmt)
		printf("imported %zu samples into %d series (%zu missing values skipped)\n", r.samples, r.series,
		       r.missing);
	else if (r.aggregates)
		printf("imported %zu points into %s/%s\n", r.samples, o.workload, o.dim);
	else
		printf("imported %zu samples into %s/%s (%zu missing values skipped)\n", r.samples, o.workload, o.dim,
		       r.missing);
	fclose(f);
	ah_history_free(h);
	return ret;
}

/* ---- query / export ---- */

static void fmt_num(double v, char *buf, size_t len)
{
	snprintf(buf, len, "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, len, "%.17g", v);
}

/* A point's figure for people: a built-in dimension's readable unit
 * ("1.5Gi", "250m"), else (custom dimensions, negative values) a plain
 * readable number; never an exponent. */
static void point_human(const char *dim, double v, char *buf, size_t len)
{
	ah_dimset ds;
	ah_dimset_init(&ds);
	int d = ah_dimset_find(&ds, dim);
	if (d < 0 || ds.kind[d] == AH_UNIT_COUNT || v < 0 || v > (double)AH_VALUE_MAX ||
	    ah_unit_format_human(ds.kind[d], (int64_t)llround(v), buf, len))
		ah_cli_fmt_num(v, buf, len);
}

typedef struct {
	ah_out_fmt fmt;
	size_t n;
	/* the table: measured in a first pass, printed in a second */
	ah_cli_table *tab;
	bool measuring;
	const char *dim;
	FILE *f; /* csv: stdout, or export's --file */
} print_ctx;

static int print_point(void *vctx, const ah_shadow_point *p)
{
	print_ctx *c = vctx;
	char t[48], m[32], x[32];
	/* csv keeps the exact nanosecond time (it may be imported back); the
	 * table and JSON say RFC 3339 with milliseconds like every command */
	if (c->fmt == AH_OUT_CSV)
		ah_time_format_exact(p->t_ns, t, sizeof(t));
	else
		ah_fmt_time(p->t_ns, t, sizeof(t));
	if (c->fmt == AH_OUT_JSON) {
		json_t *o = json_pack("{s:s, s:o, s:f, s:f, s:I}", "time", t, "width_s", ah_json_seconds(p->width_ns),
				      "mean", p->mean, "max", p->max, "count", (json_int_t)p->count);
		if (!o)
			return AH_ENOMEM;
		char *sj = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
		json_decref(o);
		if (!sj)
			return AH_ENOMEM;
		printf("%s\n    %s", c->n ? "," : "", sj);
		free(sj);
	} else if (c->fmt == AH_OUT_CSV) {
		fmt_num(p->mean, m, sizeof(m));
		fmt_num(p->max, x, sizeof(x));
		fprintf(c->f, "%s,%s,%s,%lld\n", t, m, x, (long long)p->count);
	} else {
		char n[24];
		point_human(c->dim, p->mean, m, sizeof m);
		point_human(c->dim, p->max, x, sizeof x);
		snprintf(n, sizeof n, "%lld", (long long)p->count);
		const char *row[] = {t, m, x, n};
		int rc = c->measuring ? ah_cli_table_measure(c->tab, row) : ah_cli_table_print_row(c->tab, row, stdout);
		if (rc)
			return rc;
		if (c->measuring)
			return 0;
	}
	c->n++;
	return ferror(c->f) ? AH_EIO : 0;
}

static int cmd_query(int argc, char **argv, int export)
{
	const char *sub = export ? "export" : "query";
	opts o = {0};
	ah_history *s = NULL;
	char err[512];
	int ret, rc;
	int64_t from = 0, to = INT64_MAX, step = 0;
	ah_out_fmt fmt = AH_OUT_TABLE;
	FILE *out = NULL;
	ah_client_opts co = {0};
	ah_client *cl = NULL;
	json_t *ans = NULL;
	const ah_cli_opt t[] = {
		STORE_OPTS(o),
		AH_CLIENT_OPTS(&co),
		AH_OPT("workload", 0, AH_OPT_STRING, &o.workload, .hint = "W"),
		AH_OPT("dim", 0, AH_OPT_STRING, &o.dim, .hint = "D"),
		AH_OPT("from", 0, AH_OPT_TIME, &from, .hint = "T"),
		AH_OPT("to", 0, AH_OPT_TIME, &to, .hint = "T"),
		AH_OPT("step", 0, AH_OPT_DURATION, &step, .hint = "DUR", .lo = AH_SHADOW_GRAN_MIN_NS,
		       .hi = 366 * AH_SHADOW_GRAN_MAX_NS),
		export ? (ah_cli_opt)AH_OPT("file", 0, AH_OPT_STRING, &o.outfile, .hint = "FILE")
		       : (ah_cli_opt)AH_OPT("output", 'o', AH_OPT_FORMAT, &fmt),
	};
	ret = parse(export ? "shadow export" : "shadow query", export ? usage_export : usage_query_only, t,
		    AH_CLI_NOPTS(t), argc, argv);
	if (ret != AH_CLI_GO)
		return ret;
	if ((ret = check_names(sub, o.workload, o.dim)))
		return ret;
	if (from > to) {
		ah_cli_err(CMD, "%s: --from must not be after --to", sub);
		return AH_EXIT_USAGE;
	}
	if ((ret = remote_open(sub, &o, &co, &cl)))
		return ret;
	point_src src = {.workload = o.workload, .dim = o.dim, .from = from, .to = to, .step = step};
	ah_shadow_series_info info;
	if (cl) {
		if ((ret = remote_points(cl, sub, &src, &ans)))
			goto out;
		info.granularity_ns = jint(ans, "granularity_ns", 0);
		src.points = json_object_get(ans, "points");
	} else {
		if ((ret = open_store(sub, &o, 0, &s)))
			return ret;
		if ((rc = ah_history_series_get(s, o.workload, o.dim, &info, err, sizeof err))) {
			ret = hist_fail(sub, err, rc);
			goto out;
		}
		src.h = s;
	}
	if (export) {
		out = o.outfile ? fopen(o.outfile, "w") : stdout;
		if (!out) {
			ah_cli_err(CMD, "%s: --file: cannot open '%.200s': %s", sub, o.outfile, strerror(errno));
			ret = AH_EXIT_USAGE;
			goto out;
		}
		if (s) {
			rc = ah_history_export(s, o.workload, o.dim, from, to, step, out, err, sizeof err);
		} else {
			/* the local export's lines, from the daemon's exact points */
			print_ctx ec = {.fmt = AH_OUT_CSV, .dim = o.dim, .f = out};
			rc = fprintf(out, "time,value,max,count\n") < 0 ? AH_EIO : each_point(&src, print_point, &ec, err, sizeof err);
			if (rc == 0 && fflush(out) != 0)
				rc = AH_EIO;
			if (rc)
				snprintf(err, sizeof err, "export: %s", ah_strerror(rc));
		}
		if (out != stdout && fclose(out) != 0 && rc == 0)
			rc = AH_EIO, snprintf(err, sizeof err, "export: %s", ah_strerror(AH_EIO));
		if (rc)
			ret = hist_fail(sub, err, rc == AH_EIO ? AH_ESTORE : rc);
		goto out;
	}
	ah_cli_table tab;
	ah_cli_table_init(&tab, 4, 0xEu);
	print_ctx c = {fmt, 0, &tab, false, o.dim, stdout};
	if (fmt == AH_OUT_JSON) {
		json_t *w = json_string(o.workload), *d = json_string(o.dim);
		char *ws = json_dumps(w, JSON_ENCODE_ANY), *ds = json_dumps(d, JSON_ENCODE_ANY);
		printf("{\n  \"workload\": %s,\n  \"dim\": %s,\n  \"granularity_s\": %.9g,\n"
		       "  \"step_s\": %.9g,\n  \"points\": [",
		       ws ? ws : "null", ds ? ds : "null", (double)info.granularity_ns / 1e9, (double)step / 1e9);
		free(ws);
		free(ds);
		json_decref(w);
		json_decref(d);
	} else if (fmt == AH_OUT_CSV) {
		printf("time,value,max,count\n");
	} else {
		/* two passes over the points rather than all of them in memory:
		 * widths first, then the rows */
		ah_cli_table_addv(&tab, "TIME", "MEAN", "MAX", "COUNT");
		c.measuring = true;
		rc = each_point(&src, print_point, &c, err, sizeof err);
		c.measuring = false;
		if (rc)
			goto queried;
		ah_cli_table_print(&tab, stdout);
	}
	rc = each_point(&src, print_point, &c, err, sizeof err);
queried:
	ah_cli_table_fini(&tab);
	if (fmt == AH_OUT_JSON)
		printf("%s]\n}\n", c.n ? "\n  " : "");
	if (rc)
		ret = hist_fail(sub, err, rc == AH_EIO ? AH_ESTORE : rc);
out:
	json_decref(ans);
	ah_client_free(cl);
	ah_history_free(s);
	return ret;
}

/* ---- ls ---- */

static void fmt_dur(int64_t ns, char *buf, size_t len)
{
	if (ah_duration_format(ns, buf, len) && len)
		buf[0] = '\0';
}

/* GET /v1/series as the local list (*out to free). */
static int remote_series(ah_client *cl, ah_shadow_series_info **out, size_t *n)
{
	json_t *j = NULL;
	int ex = remote_call(cl, "GET", "/v1/series", NULL, &j);
	if (ex)
		return ex;
	const json_t *items = json_object_get(j, "items");
	size_t k = json_array_size(items);
	ah_shadow_series_info *v = calloc(k ? k : 1, sizeof *v);
	if (!v) {
		json_decref(j);
		ah_cli_err(CMD, "ls: out of memory");
		return AH_EXIT_INTERNAL;
	}
	for (size_t i = 0; i < k; i++) {
		const json_t *e = json_array_get(items, i);
		const char *w = json_string_value(json_object_get(e, "workload"));
		const char *d = json_string_value(json_object_get(e, "dim"));
		snprintf(v[i].workload, sizeof v[i].workload, "%s", w ? w : "");
		snprintf(v[i].dim, sizeof v[i].dim, "%s", d ? d : "");
		v[i].granularity_ns = jint(e, "granularity_ns", 0);
		v[i].points = jint(e, "points", 0);
		v[i].samples = jint(e, "samples", 0);
		v[i].first_ns = jint(e, "first_ns", -1);
		v[i].last_ns = jint(e, "last_ns", -1);
	}
	json_decref(j);
	*out = v;
	*n = k;
	return 0;
}

static int cmd_ls(int argc, char **argv)
{
	const char *sub = "ls";
	opts o = {0};
	ah_history *s = NULL;
	ah_shadow_series_info *v = NULL;
	size_t n = 0;
	int ret, rc;
	char err[512];
	ah_out_fmt fmt = AH_OUT_TABLE;
	ah_client_opts co = {0};
	ah_client *cl = NULL;
	const ah_cli_opt t[] = {STORE_OPTS(o), AH_CLIENT_OPTS(&co), AH_OPT("output", 'o', AH_OPT_FORMAT, &fmt)};
	if ((ret = parse("shadow ls", usage_ls, t, AH_CLI_NOPTS(t), argc, argv)) != AH_CLI_GO)
		return ret;
	if ((ret = remote_open(sub, &o, &co, &cl)))
		return ret;
	if (cl) {
		ret = remote_series(cl, &v, &n);
		ah_client_free(cl);
		if (ret)
			return ret;
	} else {
		if ((ret = open_store(sub, &o, 0, &s)))
			return ret;
		if ((rc = ah_history_series_list(s, &v, &n, err, sizeof err))) {
			ret = hist_fail(sub, err, AH_ESTORE);
			goto out;
		}
	}
	json_t *arr = fmt == AH_OUT_JSON ? json_array() : NULL;
	ah_cli_table tab;
	ah_cli_table_init(&tab, 7, 0x1Cu);
	if (fmt == AH_OUT_CSV)
		printf("workload,dim,granularity_s,points,samples,first,last\n");
	else if (fmt == AH_OUT_TABLE)
		ah_cli_table_addv(&tab, "WORKLOAD", "DIM", "GRAN", "POINTS", "SAMPLES", "FIRST", "LAST");
	for (size_t i = 0; i < n; i++) {
		char first[48] = "-", last[48] = "-", g[24], np[24], ns[24];
		if (v[i].first_ns >= 0) {
			ah_fmt_time(v[i].first_ns, first, sizeof(first));
			ah_fmt_time(v[i].last_ns, last, sizeof(last));
		}
		fmt_dur(v[i].granularity_ns, g, sizeof(g));
		snprintf(np, sizeof np, "%lld", (long long)v[i].points);
		snprintf(ns, sizeof ns, "%lld", (long long)v[i].samples);
		if (fmt == AH_OUT_JSON) {
			json_t *e = json_object();
			if (!e) {
				ret = hist_fail(sub, "json: out of memory", AH_ENOMEM);
				json_decref(arr);
				goto out;
			}
			json_object_set_new(e, "workload", ah_json_text(v[i].workload));
			json_object_set_new(e, "dim", ah_json_text(v[i].dim));
			json_object_set_new(e, "granularity_s", ah_json_seconds(v[i].granularity_ns));
			json_object_set_new(e, "points", json_integer((json_int_t)v[i].points));
			json_object_set_new(e, "samples", json_integer((json_int_t)v[i].samples));
			json_object_set_new(e, "first", v[i].first_ns >= 0 ? ah_json_time(v[i].first_ns) : json_null());
			json_object_set_new(e, "last", v[i].first_ns >= 0 ? ah_json_time(v[i].last_ns) : json_null());
			json_array_append_new(arr, e);
		} else if (fmt == AH_OUT_CSV) {
			ah_cli_csv_field(v[i].workload), putchar(','), ah_cli_csv_field(v[i].dim);
			printf(",%.9g,%s,%s,%s,%s\n", (double)v[i].granularity_ns / 1e9, np, ns,
			       v[i].first_ns >= 0 ? first : "", v[i].first_ns >= 0 ? last : "");
		} else {
			ah_cli_table_addv(&tab, v[i].workload, v[i].dim, g, np, ns, first, last);
		}
	}
	if (arr) {
		char *js = ah_json_dumps(arr);
		printf("%s\n", js ? js : "[]");
		free(js);
		json_decref(arr);
	}
	ah_cli_table_print(&tab, stdout);
	ah_cli_table_fini(&tab);
out:
	free(v);
	ah_history_free(s);
	return ret;
}

/* ---- compact ---- */

static int cmd_compact(int argc, char **argv)
{
	const char *sub = "compact";
	opts o = {0};
	ah_history *s = NULL;
	int ret, rc, nt;
	char err[512];
	int64_t now = INT64_MIN;
	ah_out_fmt fmt = AH_OUT_TABLE;
	ah_shadow_tier tiers[AH_SHADOW_MAX_TIERS];
	int64_t counts[AH_SHADOW_MAX_TIERS];
	ah_shadow_compact_stats st;
	static const char *tier_names[] = {"raw", "1m", "1h"};
	const int64_t keep_max = INT64_C(100) * 366 * AH_SHADOW_GRAN_MAX_NS;
	ah_client_opts co = {0};
	ah_client *cl = NULL;
	ah_shadow_default_tiers(tiers, &nt);
	const ah_cli_opt t[] = {
		STORE_OPTS(o),
		AH_CLIENT_OPTS(&co),
		AH_OPT("now", 0, AH_OPT_TIME, &now, .hint = "T"),
		AH_OPT("keep-raw", 0, AH_OPT_DURATION, &tiers[0].keep_ns, .hint = "DUR", .lo = AH_SHADOW_GRAN_MIN_NS,
		       .hi = keep_max),
		AH_OPT("keep-1m", 0, AH_OPT_DURATION, &tiers[1].keep_ns, .hint = "DUR", .lo = AH_SHADOW_GRAN_MIN_NS,
		       .hi = keep_max),
		AH_OPT("keep-1h", 0, AH_OPT_DURATION, &tiers[2].keep_ns, .hint = "DUR", .lo = AH_SHADOW_GRAN_MIN_NS,
		       .hi = keep_max),
		AH_OPT("output", 'o', AH_OPT_FORMAT, &fmt, .formats = AH_FMTS_TABLE_JSON),
	};
	if ((ret = parse("shadow compact", usage_compact, t, AH_CLI_NOPTS(t), argc, argv)) != AH_CLI_GO)
		return ret;
	if ((ret = remote_open(sub, &o, &co, &cl)))
		return ret;
	if (now == INT64_MIN) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts); /* the CLI owns the clock, not the library */
		now = (int64_t)ts.tv_sec * AH_NS_PER_S + ts.tv_nsec;
	}
	if (cl) {
		/* the daemon compacts its store at the time and keeps given */
		static const char *const keys[] = {"keep_raw", "keep_1m", "keep_1h"};
		char buf[48];
		json_t *body = json_object(), *ans = NULL;
		if (ah_time_format_exact(now, buf, sizeof buf) == 0)
			json_object_set_new(body, "now", json_string(buf));
		for (int i = 0; i < nt && i < 3; i++)
			if (ah_duration_format(tiers[i].keep_ns, buf, sizeof buf) == 0)
				json_object_set_new(body, keys[i], json_string(buf));
		ret = remote_call(cl, "POST", "/v1/history/compact", body, &ans);
		json_decref(body);
		ah_client_free(cl);
		if (ret)
			return ret;
		json_t *pt = json_object_get(ans, "points_per_tier");
		st.points_rolled = jint(ans, "points_rolled", 0);
		st.points_deleted = jint(ans, "points_deleted", 0);
		for (int i = 0; i < nt && i < 3; i++)
			counts[i] = jint(pt, tier_names[i], 0);
		json_decref(ans);
	} else {
		if ((ret = open_store(sub, &o, 0, &s)))
			return ret;
		if ((rc = ah_history_compact(s, now, tiers, nt, &st, counts, err, sizeof err))) {
			ret = hist_fail(sub, err, AH_ESTORE);
			goto out;
		}
	}
	if (fmt == AH_OUT_JSON) {
		json_t *j = json_pack("{s:s, s:I, s:I, s:{s:I, s:I, s:I}}", "outcome", "compacted", "points_rolled",
				      (json_int_t)st.points_rolled, "points_deleted",
				      (json_int_t)st.points_deleted, "points_per_tier", "raw",
				      (json_int_t)counts[0], "1m", (json_int_t)counts[1], "1h",
				      (json_int_t)counts[2]);
		if (j) {
			json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
			putchar('\n');
			json_decref(j);
		}
	} else {
		printf("rolled %lld points into coarser tiers, deleted %lld expired points\n",
		       (long long)st.points_rolled, (long long)st.points_deleted);
		for (int i = 0; i < nt; i++)
			printf("  %-4s %12lld points\n", tier_names[i], (long long)counts[i]);
	}
out:
	ah_history_free(s);
	return ret;
}

/* ---- request records ---- */

static void usage_record(FILE *f)
{
	fprintf(f, "usage: ahead shadow record --workload W --start T [--params k=v,...] [--predicted D=N,...]\n"
		   "                           [--end T] [--peak D=N,...] [--mean D=N,...]\n"
		   "       ahead shadow record --id ID --end T [--peak D=N,...] [--mean D=N,...]\n\n"
		   "Records a request: its workload, parameters, start, and what was predicted per\n"
		   "dimension; prints its id. With --id, records its end and the observed peak and\n"
		   "mean per dimension. Figures are plain numbers in the dimension's base unit\n"
		   "(millicores, bytes, bytes/s, bits/s, or the custom unit).\n\n"
		   "  --params k=v,...  up to %d parameters; keys [A-Za-z0-9_.-]{1,63}, values up to 127 bytes\n"
		   "  --start T, --end T   ISO 8601 time or epoch seconds\n\n"
		   "Exit codes: 0 ok, 1 storage error, 2 bad command line, 5 no such request;\n"
		   "ending a request twice is refused (exit 2).\n"
		   "common options: --db PATH, --shadow-db PATH (see 'ahead shadow --help')\n",
		AH_SHADOW_MAX_PARAMS);
}

static void usage_requests(FILE *f)
{
	fprintf(f, "usage: ahead shadow requests --workload W [--param k=v] [--limit N] [-o table|json|csv]\n\n"
		   "Lists a workload's request records, oldest start first; --param keeps those whose\n"
		   "parameter k equals v.\n\n"
		   "common options: --db PATH, --shadow-db PATH, --server URL, --token[-file] (see 'ahead shadow --help')\n");
}

/* "cpu=1500,memory=2e9" into dims (merged by name); field 0 peak, 1 mean,
 * 2 predicted. */
static int parse_dimvals(const char *sub, const char *opt, const char *s, ah_shadow_req_dim *dims,
			 int *n, int field)
{
	char buf[1024];
	if (strlen(s) >= sizeof(buf)) {
		ah_cli_err(CMD, "%s: %s: longer than %zu bytes", sub, opt, sizeof(buf) - 1);
		return AH_EXIT_USAGE;
	}
	snprintf(buf, sizeof(buf), "%s", s);
	char *save = NULL;
	for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		if (!eq) {
			ah_cli_err(CMD, "%s: %s: '%.64s': expected dim=number", sub, opt, item);
			return AH_EXIT_USAGE;
		}
		*eq = '\0';
		if (ah_name_check_dim(item)) {
			ah_cli_err(CMD, "%s: %s: '%.64s' is not a dimension name", sub, opt, item);
			return AH_EXIT_USAGE;
		}
		char *end;
		errno = 0;
		double v = strtod(eq + 1, &end);
		if (!eq[1] || *end || errno == ERANGE || !isfinite(v)) {
			ah_cli_err(CMD, "%s: %s: %s: '%.40s' is not a finite number", sub, opt, item, eq + 1);
			return AH_EXIT_USAGE;
		}
		int k;
		for (k = 0; k < *n; k++)
			if (!strcmp(dims[k].dim, item))
				break;
		if (k == *n) {
			if (*n == AH_MAX_DIMS) {
				ah_cli_err(CMD, "%s: %s: more than %d dimensions", sub, opt, AH_MAX_DIMS);
				return AH_EXIT_USAGE;
			}
			snprintf(dims[k].dim, sizeof(dims[k].dim), "%s", item);
			dims[k].peak = dims[k].mean = dims[k].predicted = NAN;
			(*n)++;
		}
		double *slot = field == 0 ? &dims[k].peak : field == 1 ? &dims[k].mean : &dims[k].predicted;
		if (!isnan(*slot)) {
			ah_cli_err(CMD, "%s: %s: %s given twice", sub, opt, item);
			return AH_EXIT_USAGE;
		}
		*slot = v;
	}
	return 0;
}

static int cmd_record(int argc, char **argv)
{
	const char *sub = "record";
	opts o = {0};
	ah_history *s = NULL;
	int ret, rc;
	ah_shadow_request *r = NULL;
	int64_t start = -1, end = -1, id;
	uint64_t end_id = 0;
	char err[512];
	const ah_cli_opt t[] = {
		STORE_OPTS(o),
		AH_OPT("workload", 0, AH_OPT_STRING, &o.workload, .hint = "W"),
		AH_OPT("id", 0, AH_OPT_ID, &end_id, .hint = "ID"),
		AH_OPT("start", 0, AH_OPT_TIME, &start, .hint = "T"),
		AH_OPT("end", 0, AH_OPT_TIME, &end, .hint = "T"),
		AH_OPT("params", 0, AH_OPT_STRING, &o.params, .hint = "k=v,..."),
		AH_OPT("predicted", 0, AH_OPT_STRING, &o.predicted, .hint = "D=N,..."),
		AH_OPT("peak", 0, AH_OPT_STRING, &o.peak, .hint = "D=N,..."),
		AH_OPT("mean", 0, AH_OPT_STRING, &o.mean, .hint = "D=N,..."),
	};
	if ((ret = parse("shadow record", usage_record, t, AH_CLI_NOPTS(t), argc, argv)) != AH_CLI_GO)
		return ret;
	ret = 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return AH_EXIT_INTERNAL;
	r->end_ns = -1;
	if ((o.peak && (ret = parse_dimvals(sub, "--peak", o.peak, r->dims, &r->n_dims, 0))) ||
	    (o.mean && (ret = parse_dimvals(sub, "--mean", o.mean, r->dims, &r->n_dims, 1))) ||
	    (o.predicted && (ret = parse_dimvals(sub, "--predicted", o.predicted, r->dims, &r->n_dims, 2))))
		goto out;
	if (end_id) {
		int64_t v = (int64_t)end_id;
		const char *bad = o.workload ? "--workload" : start >= 0 ? "--start" : o.params ? "--params"
				  : o.predicted ? "--predicted" : NULL;
		if (bad) {
			ah_cli_err(CMD, "%s: %s cannot be used with --id (it describes a new request)", sub, bad);
			ret = AH_EXIT_USAGE;
		} else if (end < 0) {
			ah_cli_err(CMD, "%s: --end T is required with --id", sub);
			ret = AH_EXIT_USAGE;
		}
		if (ret || (ret = open_store(sub, &o, 0, &s)))
			goto out;
		rc = ah_history_request_end(s, v, end, r->dims, r->n_dims, err, sizeof err);
		if (rc) {
			ret = hist_fail(sub, err, rc == AH_ENOENT || rc == AH_ESTATE || rc == AH_ERANGE ? rc : AH_ESTORE);
		} else {
			printf("%lld\n", (long long)v);
		}
		goto out;
	}
	if (!o.workload) {
		ah_cli_err(CMD, "%s: --workload W is required (or --id to end a request)", sub);
		ret = AH_EXIT_USAGE;
		goto out;
	}
	if ((rc = ah_name_check_workload(o.workload))) {
		ah_cli_err(CMD, "%s: --workload: %s", sub,
			   rc == AH_ETOOBIG ? "longer than 127 bytes" : "must be 1-127 of [A-Za-z0-9_.:/@+-]");
		ret = AH_EXIT_USAGE;
		goto out;
	}
	if (start < 0) {
		ah_cli_err(CMD, "%s: --start T is required", sub);
		ret = AH_EXIT_USAGE;
		goto out;
	}
	r->start_ns = start;
	if (end >= 0 && end < r->start_ns) {
		ah_cli_err(CMD, "%s: --end is before --start", sub);
		ret = AH_EXIT_USAGE;
		goto out;
	}
	r->end_ns = end;
	snprintf(r->workload, sizeof(r->workload), "%s", o.workload);
	if (o.params && ah_shadow_params_parse(o.params, r->params, &r->n_params, err, sizeof(err))) {
		ah_cli_err(CMD, "%s: --params: %s", sub, err);
		ret = AH_EXIT_USAGE;
		goto out;
	}
	if ((ret = open_store(sub, &o, 1, &s)))
		goto out;
	if ((rc = ah_history_request_add(s, r, &id, err, sizeof err)))
		ret = hist_fail(sub, err, AH_ESTORE);
	else
		printf("%lld\n", (long long)id);
out:
	free(r);
	ah_history_free(s);
	return ret;
}

/* The user's parameters (own: ahead's "ahead." keys) joined by sep. */
static void join_params(const ah_shadow_request *r, bool own, const char *sep, char *buf, size_t len)
{
	size_t k = 0;
	buf[0] = '\0';
	for (int i = 0; i < r->n_params && k < len; i++)
		if (ah_shadow_param_reserved(r->params[i].key) == own)
			k += (size_t)snprintf(buf + k, len - k, "%s%s=%s", k ? sep : "", r->params[i].key,
					      r->params[i].value);
}

/* A record's figure in its dimension's unit for people ("548Mi"); "-" when
 * unknown. Dimensions beyond the built-in ones are counts. */
static void fig_human(const char *dim, double v, char *buf, size_t len)
{
	ah_dimset ds;
	ah_dimset_init(&ds);
	int d = ah_dimset_find(&ds, dim);
	if (isnan(v) || v < 0 || v > (double)AH_VALUE_MAX ||
	    ah_unit_format_human(d >= 0 ? ds.kind[d] : AH_UNIT_COUNT, (int64_t)ceil(v), buf, len))
		snprintf(buf, len, "-");
}


/* A record from the API's object (ah_json_history_request): figures as it
 * gives them (whole base units), times to the millisecond. */
static void decode_request(const json_t *o, ah_shadow_request *r)
{
	memset(r, 0, sizeof *r);
	r->id = jint(o, "id", 0);
	const char *w = json_string_value(json_object_get(o, "workload"));
	snprintf(r->workload, sizeof r->workload, "%s", w ? w : "");
	const char *ts = json_string_value(json_object_get(o, "start")), *te = json_string_value(json_object_get(o, "end"));
	if (!ts || ah_time_parse(ts, &r->start_ns))
		r->start_ns = 0;
	if (!te || ah_time_parse(te, &r->end_ns))
		r->end_ns = -1;
	static const char *const groups[] = {"params", "ahead_params"};
	for (int g = 0; g < 2; g++) {
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(o, groups[g]), k, v)
		{
			if (r->n_params >= AH_SHADOW_MAX_PARAMS)
				break;
			ah_shadow_param *p = &r->params[r->n_params++];
			snprintf(p->key, sizeof p->key, "%s", k);
			snprintf(p->value, sizeof p->value, "%s", json_string_value(v) ? json_string_value(v) : "");
		}
	}
	const char *k;
	json_t *d;
	json_object_foreach(json_object_get(o, "dims"), k, d)
	{
		if (r->n_dims >= AH_MAX_DIMS)
			break;
		ah_shadow_req_dim *x = &r->dims[r->n_dims++];
		snprintf(x->dim, sizeof x->dim, "%s", k);
		x->peak = jnum(d, "peak");
		x->mean = jnum(d, "mean");
		x->predicted = jnum(d, "predicted");
		x->last = jnum(d, "last");
		const char *la = json_string_value(json_object_get(d, "last_at"));
		if (!la || ah_time_parse(la, &x->last_ns))
			x->last_ns = -1;
		const char *m = json_string_value(json_object_get(d, "model"));
		snprintf(x->model, sizeof x->model, "%s", m ? m : "");
		x->model_n = jint(d, "history", 0);
	}
}

/* GET /v1/workloads/W/requests as the local list (*out to free). */
static int remote_requests(ah_client *cl, const char *sub, const char *workload, const char *param, int64_t limit,
			   ah_shadow_request **out, size_t *n)
{
	char *path = remote_path(sub, workload, "requests", NULL);
	if (!path)
		return AH_EXIT_USAGE;
	char *pe = param ? ah_client_escape(param) : NULL;
	size_t len = strlen(path) + (pe ? strlen(pe) : 0) + 64;
	char *full = malloc(len);
	json_t *j = NULL;
	int ex = AH_EXIT_INTERNAL;
	if (full && (!param || pe)) {
		snprintf(full, len, "%s?limit=%lld%s%s", path, (long long)(limit ? limit : 10000), pe ? "&param=" : "",
			 pe ? pe : "");
		ex = remote_call(cl, "GET", full, NULL, &j);
	}
	free(full);
	free(pe);
	free(path);
	if (ex)
		return ex;
	const json_t *items = json_object_get(j, "items");
	size_t k = json_array_size(items);
	ah_shadow_request *v = calloc(k ? k : 1, sizeof *v);
	if (!v) {
		json_decref(j);
		ah_cli_err(CMD, "%s: out of memory", sub);
		return AH_EXIT_INTERNAL;
	}
	for (size_t i = 0; i < k; i++)
		decode_request(json_array_get(items, i), &v[i]);
	json_decref(j);
	*out = v;
	*n = k;
	return 0;
}

static int cmd_requests(int argc, char **argv)
{
	const char *sub = "requests";
	opts o = {0};
	ah_history *s = NULL;
	char herr[512];
	ah_shadow_request *v = NULL;
	size_t n = 0;
	int64_t limit = 0;
	int ret, rc;
	ah_out_fmt fmt = AH_OUT_TABLE;
	char key[AH_SHADOW_PARAM_KEY_MAX + 8] = "", *val = NULL;
	ah_client_opts co = {0};
	ah_client *cl = NULL;
	const ah_cli_opt t[] = {
		STORE_OPTS(o),
		AH_CLIENT_OPTS(&co),
		AH_OPT("workload", 0, AH_OPT_STRING, &o.workload, .hint = "W"),
		AH_OPT("param", 0, AH_OPT_STRING, &o.param, .hint = "k=v"),
		AH_OPT("limit", 0, AH_OPT_INT, &limit, .hint = "N", .lo = 1, .hi = 1000000),
		AH_OPT("output", 'o', AH_OPT_FORMAT, &fmt),
	};
	if ((ret = parse("shadow requests", usage_requests, t, AH_CLI_NOPTS(t), argc, argv)) != AH_CLI_GO)
		return ret;
	ret = 0;
	if (!o.workload) {
		ah_cli_err(CMD, "%s: --workload W is required", sub);
		return AH_EXIT_USAGE;
	}
	if ((rc = ah_name_check_workload(o.workload))) {
		ah_cli_err(CMD, "%s: --workload: %s", sub,
			   rc == AH_ETOOBIG ? "longer than 127 bytes" : "must be 1-127 of [A-Za-z0-9_.:/@+-]");
		return AH_EXIT_USAGE;
	}
	if (o.param) {
		ah_shadow_param p[1];
		int np = 0;
		char err[256];
		if (strchr(o.param, ',') || ah_shadow_params_parse(o.param, p, &np, err, sizeof(err)) || np != 1) {
			ah_cli_err(CMD, "%s: --param: '%.64s': expected one key=value", sub, o.param);
			return AH_EXIT_USAGE;
		}
		snprintf(key, sizeof(key), "%s", p[0].key);
		val = strdup(p[0].value);
		if (!val)
			return AH_EXIT_INTERNAL;
	}
	if ((ret = remote_open(sub, &o, &co, &cl))) {
		free(val);
		return ret;
	}
	if (cl) {
		ret = remote_requests(cl, sub, o.workload, o.param, limit, &v, &n);
		ah_client_free(cl);
		if (ret)
			goto out;
	} else {
		if ((ret = open_store(sub, &o, 0, &s))) {
			free(val);
			return ret;
		}
		if ((rc = ah_history_request_list(s, o.workload, val ? key : NULL, val, limit ? (size_t)limit : 10000,
						  &v, &n, herr, sizeof herr))) {
			ret = hist_fail(sub, herr, AH_ESTORE);
			goto out;
		}
	}
	json_t *arr = fmt == AH_OUT_JSON ? json_array() : NULL;
	ah_cli_table tab;
	ah_cli_table_init(&tab, 6, 1u);
	if (fmt == AH_OUT_CSV)
		printf("id,workload,start,end,params,ahead_params,dim,peak,mean,predicted,error,last,last_at,model,history\n");
	else if (fmt == AH_OUT_TABLE)
		ah_cli_table_addv(&tab, "ID", "START", "END", "PARAMS", "AHEAD'S OWN",
				  "DIM: PEAK / MEAN / PREDICTED (ERROR) BY MODEL");
	for (size_t i = 0; i < n; i++) {
		ah_shadow_request *r = &v[i];
		if (fmt == AH_OUT_JSON) {
			json_array_append_new(arr, ah_json_history_request(r));
			continue;
		}
		char st[48], en[48] = "-", params[AH_SHADOW_MAX_PARAMS * 200], own[AH_SHADOW_MAX_PARAMS * 200];
		char id[24], figs[AH_MAX_DIMS * 128] = "";
		ah_cli_fmt_time(r->start_ns, st, sizeof(st));
		if (r->end_ns >= 0)
			ah_cli_fmt_time(r->end_ns, en, sizeof(en));
		join_params(r, false, fmt == AH_OUT_CSV ? ";" : ",", params, sizeof params);
		join_params(r, true, fmt == AH_OUT_CSV ? ";" : ",", own, sizeof own);
		snprintf(id, sizeof id, "%lld", (long long)r->id);
		if (fmt == AH_OUT_CSV) {
			/* One line per dimension (one line without figures when none);
			 * the JSON's names, exact figures. */
			for (int k = 0; k < (r->n_dims ? r->n_dims : 1); k++) {
				char a[32] = "", b[32] = "", c[32] = "", e[32] = "", l[32] = "", la[48] = "", h[24] = "";
				const char *m = "";
				if (r->n_dims) {
					const ah_shadow_req_dim *rd = &r->dims[k];
					if (!isnan(rd->last) && rd->last_ns >= 0) {
						fmt_num(rd->last, l, sizeof l);
						ah_cli_fmt_time(rd->last_ns, la, sizeof la);
					}
					if (rd->model[0]) {
						m = rd->model;
						snprintf(h, sizeof h, "%lld", (long long)rd->model_n);
					}
					if (!isnan(r->dims[k].peak))
						fmt_num(r->dims[k].peak, a, sizeof(a));
					if (!isnan(r->dims[k].mean))
						fmt_num(r->dims[k].mean, b, sizeof(b));
					if (!isnan(r->dims[k].predicted))
						fmt_num(r->dims[k].predicted, c, sizeof(c));
					double x = ah_request_dim_error(&r->dims[k]);
					if (!isnan(x))
						snprintf(e, sizeof e, "%.4f", x);
				}
				printf("%s,", id);
				ah_cli_csv_field(r->workload), printf(",%s,%s,", st, r->end_ns >= 0 ? en : "");
				ah_cli_csv_field(params), putchar(','), ah_cli_csv_field(own);
				printf(",%s,%s,%s,%s,%s,%s,%s,%s,%s\n", r->n_dims ? r->dims[k].dim : "", a, b, c, e, l, la, m, h);
			}
			continue;
		}
		size_t fl = 0;
		for (int k = 0; k < r->n_dims && fl < sizeof figs; k++) {
			char a[32], b[32], c[32], e[32] = "";
			fig_human(r->dims[k].dim, r->dims[k].peak, a, sizeof a);
			fig_human(r->dims[k].dim, r->dims[k].mean, b, sizeof b);
			fig_human(r->dims[k].dim, r->dims[k].predicted, c, sizeof c);
			double x = ah_request_dim_error(&r->dims[k]);
			if (!isnan(x))
				snprintf(e, sizeof e, " (%+.0f%%)", 100 * x);
			char by[AH_SHADOW_MODEL_MAX + 8] = "";
			if (r->dims[k].model[0])
				snprintf(by, sizeof by, " by %s", r->dims[k].model);
			fl += (size_t)snprintf(figs + fl, sizeof figs - fl, "%s%s: %s / %s / %s%s%s", k ? "  " : "",
					       r->dims[k].dim, a, b, c, e, by);
		}
		ah_cli_table_addv(&tab, id, st, en, *params ? params : "-", *own ? own : "-", figs);
	}
	if (arr) {
		char *js = ah_json_dumps(arr);
		printf("%s\n", js ? js : "[]");
		free(js);
		json_decref(arr);
	}
	ah_cli_table_print(&tab, stdout);
	ah_cli_table_fini(&tab);
out:
	free(v);
	free(val);
	ah_history_free(s);
	return ret;
}

int ah_cmd_shadow(int argc, char **argv)
{
	if (argc < 2) {
		fputs(sub_usage[0], stderr);
		return AH_EXIT_USAGE;
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
		fputs(sub_usage[0], stdout);
		return AH_EXIT_OK;
	}
	argc--;
	argv++;
	if (!strcmp(sub, "import"))
		return cmd_import(argc, argv);
	if (!strcmp(sub, "query") || !strcmp(sub, "export"))
		return cmd_query(argc, argv, !strcmp(sub, "export"));
	if (!strcmp(sub, "ls"))
		return cmd_ls(argc, argv);
	if (!strcmp(sub, "compact"))
		return cmd_compact(argc, argv);
	if (!strcmp(sub, "record"))
		return cmd_record(argc, argv);
	if (!strcmp(sub, "requests"))
		return cmd_requests(argc, argv);
	ah_cli_err(CMD, "unknown command '%.64s' (import, query, export, ls, compact, record, requests)",
		   sub);
	return AH_EXIT_USAGE;
}
