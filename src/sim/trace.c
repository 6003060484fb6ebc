/* Streaming trace readers: Bitbrains GWA-T-12 per-VM CSV and the plain
 * "time,workload,dim,used[,requested]" format. One fixed line buffer, at
 * most two pending rows: memory does not grow with the file. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/csvline.h"
#include "ahead/error.h"
#include "ahead/names.h"
#include "ahead/timestamp.h"
#include "ahead/trace.h"

#define BB_FIELDS 11

struct ah_trace {
	FILE *f;
	int owns_file;
	ah_trace_format fmt;
	char name[256];     /* file name for errors */
	char workload[AH_NAME_MAX]; /* bitbrains: from the file name; plain: current row */
	char buf[AH_TRACE_LINE_MAX + 1];
	char *line;
	ah_csvline in;
	uint64_t lineno;
	int failed;
	char err[700];
	ah_trace_stats st;
	/* pending rows (bitbrains gives two per line) */
	ah_trace_row pend[2];
	int npend, ipend;
	size_t max_buffered;
	int64_t last_t; /* last accepted timestamp; -1 before the first */
	double factor[2]; /* plain: input unit to base unit, cpu and memory */
	int header_seen;
};

int ah_trace_format_parse(const char *s, ah_trace_format *out)
{
	if (!s)
		return AH_EINVAL;
	if (!strcmp(s, "bitbrains"))
		*out = AH_TRACE_BITBRAINS;
	else if (!strcmp(s, "plain"))
		*out = AH_TRACE_PLAIN;
	else
		return AH_EINVAL;
	return 0;
}

static int fail(ah_trace *tr, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(ah_trace *tr, int code, const char *fmt, ...)
{
	char msg[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(tr->err, sizeof(tr->err), "%s:%llu: %s", tr->name, (unsigned long long)tr->lineno, msg);
	tr->failed = code;
	return code;
}

static void set_workload_from_path(ah_trace *tr, const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	size_t n = strlen(b);
	if (n > 4 && !strcmp(b + n - 4, ".csv"))
		n -= 4;
	if (n >= sizeof(tr->workload))
		n = sizeof(tr->workload) - 1;
	memcpy(tr->workload, b, n);
	tr->workload[n] = 0;
}

static int trace_new(FILE *f, int owns, const char *name, ah_trace_format fmt, ah_trace **out)
{
	if (fmt != AH_TRACE_BITBRAINS && fmt != AH_TRACE_PLAIN)
		return AH_EINVAL;
	ah_trace *tr = calloc(1, sizeof(*tr));
	if (!tr)
		return AH_ENOMEM;
	tr->f = f;
	tr->owns_file = owns;
	tr->fmt = fmt;
	snprintf(tr->name, sizeof(tr->name), "%s", name ? name : "-");
	set_workload_from_path(tr, tr->name);
	ah_csvline_init(&tr->in, f, tr->name, tr->buf, sizeof(tr->buf));
	tr->last_t = -1;
	tr->factor[0] = tr->factor[1] = 1.0;
	*out = tr;
	return 0;
}

int ah_trace_open(const char *path, ah_trace_format fmt, ah_trace **out)
{
	if (!path || !out)
		return AH_EINVAL;
	FILE *f = fopen(path, "r");
	if (!f)
		return AH_EIO;
	int rc = trace_new(f, 1, path, fmt, out);
	if (rc)
		fclose(f);
	return rc;
}

int ah_trace_open_stream(FILE *f, const char *name, ah_trace_format fmt, ah_trace **out)
{
	if (!f || !out)
		return AH_EINVAL;
	return trace_new(f, 0, name, fmt, out);
}

void ah_trace_free(ah_trace *tr)
{
	if (!tr)
		return;
	if (tr->owns_file && tr->f)
		fclose(tr->f);
	free(tr);
}

int ah_trace_set_units(ah_trace *tr, const ah_input_units *u)
{
	if (!tr || !u || tr->fmt != AH_TRACE_PLAIN || ah_input_units_check(u, NULL))
		return AH_EINVAL;
	tr->factor[AH_DIM_CPU] = ah_input_units_factor(u, AH_UNIT_CPU);
	tr->factor[AH_DIM_MEMORY] = ah_input_units_factor(u, AH_UNIT_BYTES);
	return 0;
}

const char *ah_trace_error(const ah_trace *tr)
{
	return tr && tr->err[0] ? tr->err : "no error";
}

const char *ah_trace_where(const ah_trace *tr, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%llu", tr->name, (unsigned long long)tr->lineno);
	return buf;
}

void ah_trace_get_stats(const ah_trace *tr, ah_trace_stats *out)
{
	*out = tr->st;
}

size_t ah_trace_max_buffered_rows(const ah_trace *tr)
{
	return tr->max_buffered;
}

/* Reads one line (csvline.h) without its line ending. 1 = line, 0 = EOF. */
static int read_line(ah_trace *tr)
{
	size_t n;
	int rc = ah_csvline_next(&tr->in, &tr->line, &n);
	tr->lineno = tr->in.lineno;
	if (rc < 0) {
		snprintf(tr->err, sizeof(tr->err), "%s", ah_csvline_error(&tr->in));
		tr->failed = rc;
		return rc;
	}
	if (rc > 0)
		tr->st.lines++;
	return rc;
}

/* Parses a whole field as a finite number (surrounding blanks allowed). */
static int parse_num(const char *s, double *out)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return AH_EINVAL;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno == ERANGE || !isfinite(v))
		return AH_EINVAL;
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end)
		return AH_EINVAL;
	*out = v;
	return 0;
}

static void push(ah_trace *tr, int64_t t, int dim, int64_t used, int64_t req)
{
	ah_trace_row *r = &tr->pend[tr->npend++];
	r->t_s = t;
	r->workload = tr->workload;
	r->dim = dim;
	r->used = used;
	r->requested = req;
	if ((size_t)tr->npend > tr->max_buffered)
		tr->max_buffered = (size_t)tr->npend;
}

static int check_time(ah_trace *tr, double tv, int64_t *out)
{
	if (tv < 0 || tv != floor(tv))
		return fail(tr, AH_EPARSE, "time: expected a non-negative integer number of seconds");
	if (tv > (double)AH_TRACE_TIME_MAX * 1000.0)
		return fail(tr, AH_ERANGE, "time: %.0f is out of range", tv);
	*out = (int64_t)tv;
	return 0;
}

static const char *bb_cols[BB_FIELDS] = {
	"timestamp", "cpu cores", "cpu capacity", "cpu usage", "cpu usage %", "memory provisioned",
	"memory usage", "disk read", "disk write", "net received", "net transmitted"};

static int bb_line(ah_trace *tr)
{
	char *f[BB_FIELDS + 2];
	if (tr->lineno == 1) {
		if (strncmp(tr->line, "Timestamp", 9) || !strchr(tr->line, ';'))
			return fail(tr, AH_EPARSE,
				    "expected the Bitbrains header \"Timestamp [ms];\\tCPU cores;...\"");
		return 0;
	}
	if (!tr->line[0])
		return fail(tr, AH_EPARSE, "empty line");
	if (!strchr(tr->line, ';'))
		return fail(tr, AH_EPARSE, "expected fields separated by \";\\t\"");
	int n = ah_csvline_split(tr->line, ';', f, BB_FIELDS);
	if (n != BB_FIELDS)
		return fail(tr, AH_EPARSE, "expected %d fields separated by \";\\t\", got %s%d", BB_FIELDS,
			    n > BB_FIELDS ? "more than " : "", n > BB_FIELDS ? BB_FIELDS : n);
	double v[BB_FIELDS];
	for (int i = 0; i < BB_FIELDS; i++) {
		if (parse_num(f[i], &v[i]))
			return fail(tr, AH_EPARSE, "%s: not a number", bb_cols[i]);
		if (v[i] < 0)
			return fail(tr, AH_ERANGE, "%s: negative value", bb_cols[i]);
	}
	int64_t t = 0;
	int rc = check_time(tr, v[0], &t);
	if (rc)
		return rc;
	/* Documented quirk: the header says [ms] but the values are seconds.
	 * Values too large to be seconds (after year 5000) are taken as ms. */
	if (t > 95617584000LL) {
		t /= 1000;
		tr->st.ms_timestamps++;
	}
	if (t > AH_TRACE_TIME_MAX)
		return fail(tr, AH_ERANGE, "timestamp: out of range");
	if (tr->last_t >= 0 && t < tr->last_t)
		return fail(tr, AH_EPARSE, "timestamp %lld is before the previous one (%lld): rows must be sorted",
			    (long long)t, (long long)tr->last_t);
	if (t == tr->last_t) { /* quirk: repeated timestamps (VM 20); keep the first */
		tr->st.duplicate_rows++;
		return 0;
	}
	tr->last_t = t;
	double cores = v[1], cap = v[2], cpu = v[3], memprov = v[5], mem = v[6];
	if (cores != floor(cores) || cores > 4096)
		return fail(tr, AH_ERANGE, "cpu cores: %g is not a core count", cores);
	if (cap > 0 && cores == 0)
		return fail(tr, AH_EPARSE, "cpu capacity: %g MHz provisioned with 0 cores", cap);
	/* quirk: a VM that is off reports 0 cores and 0 capacity: no sample */
	if (cap == 0) {
		tr->st.off_rows++;
	} else {
		if (cpu > 10 * cap)
			return fail(tr, AH_ERANGE, "cpu usage: %g MHz is absurd for %g MHz provisioned", cpu, cap);
		/* nearest millicore: the MHz figures carry float noise */
		push(tr, t, AH_DIM_CPU, (int64_t)llround(cpu * 1000.0 * cores / cap), (int64_t)cores * 1000);
	}
	if (memprov == 0) {
		tr->st.off_rows++;
	} else {
		double b = mem * 1024.0, pb = memprov * 1024.0;
		if (b > (double)AH_TRACE_MEM_MAX || pb > (double)AH_TRACE_MEM_MAX)
			return fail(tr, AH_ERANGE, "memory: value above %lld bytes", (long long)AH_TRACE_MEM_MAX);
		push(tr, t, AH_DIM_MEMORY, (int64_t)llround(b), (int64_t)llround(pb));
	}
	return 0;
}

static int parse_value(ah_trace *tr, const char *field, const char *s, int dim, int64_t *out)
{
	double v;
	if (parse_num(s, &v))
		return fail(tr, AH_EPARSE, "%s: not a number", field);
	if (v < 0)
		return fail(tr, AH_ERANGE, "%s: negative value", field);
	int64_t cap = dim == AH_DIM_CPU ? AH_TRACE_CPU_MAX : AH_TRACE_MEM_MAX;
	double b = v * tr->factor[dim];
	if (b > (double)cap)
		return fail(tr, AH_ERANGE, "%s: %g is above the cap of %lld %s", field, b, (long long)cap,
			    dim == AH_DIM_CPU ? "millicores" : "bytes");
	*out = (int64_t)llround(b);
	tr->st.values[dim]++;
	if (b > 0 && *out == 0)
		tr->st.rounded_to_zero[dim]++;
	return 0;
}

static int plain_line(ah_trace *tr)
{
	char *f[7];
	char *s = tr->line;
	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s || *s == '#')
		return 0;
	if (!tr->header_seen) {
		if (strcmp(s, "time,workload,dim,used") && strcmp(s, "time,workload,dim,used,requested"))
			return fail(tr, AH_EPARSE, "expected the header \"time,workload,dim,used[,requested]\"");
		tr->header_seen = 1;
		return 0;
	}
	if (!strchr(s, ','))
		return fail(tr, AH_EPARSE, "expected comma-separated fields time,workload,dim,used[,requested]");
	int n = ah_csvline_split(s, ',', f, 5);
	if (n < 4)
		return fail(tr, AH_EPARSE, "missing columns: expected time,workload,dim,used[,requested], got %d field%s",
			    n, n == 1 ? "" : "s");
	if (n > 5)
		return fail(tr, AH_EPARSE, "too many columns: expected at most 5");
	double tv;
	int64_t t = 0, t_ns;
	int rc;
	if (!parse_num(f[0], &tv)) {
		if ((rc = check_time(tr, tv, &t)))
			return rc;
	} else if (!ah_time_parse(f[0], &t_ns)) { /* ISO times, as every other reader takes */
		if (t_ns % 1000000000)
			return fail(tr, AH_EPARSE, "time: expected whole seconds, got \"%.40s\"", f[0]);
		t = t_ns / 1000000000;
	} else {
		return fail(tr, AH_EPARSE, "time: not a number of seconds or an ISO 8601 time");
	}
	if (t > AH_TRACE_TIME_MAX)
		return fail(tr, AH_ERANGE, "time: out of range");
	if (t < tr->last_t)
		return fail(tr, AH_EPARSE, "time %lld is before the previous row's (%lld): rows must be sorted by time",
			    (long long)t, (long long)tr->last_t);
	/* workload: the workload grammar (names.h), at most 63 bytes here: the
	 * replay keeps names in AH_NAME_MAX */
	char *w = f[1];
	size_t wl = strlen(w);
	if (wl == 0)
		return fail(tr, AH_EPARSE, "workload: empty");
	if (wl >= AH_NAME_MAX)
		return fail(tr, AH_ETOOBIG, "workload: longer than %d bytes", AH_NAME_MAX - 1);
	if (ah_name_check_workload(w))
		return fail(tr, AH_EPARSE, "workload: bad character (a workload is " AH_NAME_WORKLOAD_GRAMMAR ")");
	int dim;
	if (!strcmp(f[2], "cpu"))
		dim = AH_DIM_CPU;
	else if (!strcmp(f[2], "memory"))
		dim = AH_DIM_MEMORY;
	else
		return fail(tr, AH_EPARSE, "dim: expected cpu or memory, got \"%.32s\"", f[2]);
	int64_t used, req = -1;
	if ((rc = parse_value(tr, "used", f[3], dim, &used)))
		return rc;
	if (n == 5 && (rc = parse_value(tr, "requested", f[4], dim, &req)))
		return rc;
	tr->last_t = t;
	memcpy(tr->workload, w, wl + 1);
	push(tr, t, dim, used, req);
	return 0;
}

int ah_trace_next(ah_trace *tr, ah_trace_row *row)
{
	if (!tr || !row)
		return AH_EINVAL;
	if (tr->failed)
		return tr->failed;
	while (tr->ipend >= tr->npend) {
		tr->npend = tr->ipend = 0;
		int rc = read_line(tr);
		if (rc <= 0) {
			if (rc == 0 && tr->lineno == 0)
				return fail(tr, AH_EPARSE, "empty file");
			return rc;
		}
		rc = tr->fmt == AH_TRACE_BITBRAINS ? bb_line(tr) : plain_line(tr);
		if (rc)
			return rc;
	}
	*row = tr->pend[tr->ipend++];
	tr->st.rows++;
	return 1;
}
