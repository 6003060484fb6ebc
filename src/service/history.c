/* The usage history through the service layer (include/ahead/history.h):
 * opening the shadow store beside a ledger, and the operations front ends
 * call, each in one transaction where it writes. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ahead/csvline.h"
#include "ahead/error.h"
#include "ahead/history.h"
#include "ahead/series.h"
#include "ahead/shadow.h"

struct ah_history {
	ah_shadow *s;
	ah_input_units units;
	char path[PATH_MAX];
};

int ah_history_open(const char *db_path, const char *shadow_path, bool create, ah_history **out, char *err,
		    size_t errlen)
{
	ah_history *h = calloc(1, sizeof(*h));
	if (!h)
		return AH_ENOMEM;
	ah_input_units_init(&h->units);
	int rc = 0;
	if (shadow_path) {
		if (strlen(shadow_path) >= sizeof h->path)
			rc = AH_ETOOBIG;
		else
			snprintf(h->path, sizeof h->path, "%s", shadow_path);
	} else {
		rc = ah_shadow_path_for_db(db_path, h->path, sizeof h->path);
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: path too long", shadow_path ? "--shadow-db" : "--db");
		rc = AH_EINVAL;
	} else if (!create && access(h->path, F_OK) != 0) {
		snprintf(err, errlen, "no shadow store at '%.200s' (nothing imported or recorded yet)", h->path);
		rc = AH_ENOENT;
	} else if ((rc = ah_shadow_open(h->path, &h->s)) < 0) {
		snprintf(err, errlen, "cannot open shadow store '%.200s': %s", h->path, ah_strerror(rc));
	}
	if (rc < 0) {
		ah_history_free(h);
		return rc;
	}
	*out = h;
	return 0;
}

void ah_history_free(ah_history *h)
{
	if (!h)
		return;
	ah_shadow_free(h->s);
	free(h);
}

void ah_history_set_units(ah_history *h, const ah_input_units *u)
{
	if (h && u)
		h->units = *u;
}

/* Reads V in DIM's input unit; counts values that end below one base unit. */
static double in_base(const ah_history *h, const char *dim, double v, size_t *below_one)
{
	double b = v * ah_input_units_factor(&h->units, ah_input_units_kind_of_dim(dim));
	if (b > 0 && b < 1)
		(*below_one)++;
	return b;
}

const char *ah_history_path(const ah_history *h)
{
	return h ? h->path : "";
}

static int failed(char *err, size_t errlen, const char *what, int rc)
{
	snprintf(err, errlen, "%s: %s", what, ah_strerror(rc));
	return rc;
}

static int series_for(ah_history *h, const char *w, const char *d, int64_t gran, int64_t *id, char *err,
		      size_t errlen)
{
	int rc = ah_shadow_series_ensure(h->s, w, d, gran, id);
	if (rc == AH_EEXIST) {
		snprintf(err, errlen, "--granularity: series %s/%s exists with another granularity", w, d);
		return rc;
	}
	return rc ? failed(err, errlen, "series", rc) : 0;
}

/* ---- the long format ---- */

#define LONG_MAX_SERIES 256
#define LONG_BATCH 4096

typedef struct {
	char workload[AH_SHADOW_WORKLOAD_MAX];
	char dim[AH_SHADOW_DIM_MAX];
	int64_t id;
	size_t n;
	int64_t t[LONG_BATCH];
	double v[LONG_BATCH];
} long_buf;

typedef struct {
	long_buf *bufs[LONG_MAX_SERIES];
	int nbuf;
} long_state;

static int is_missing(const char *s)
{
	return !*s || !strcasecmp(s, "nan") || !strcmp(s, "NA") || !strcasecmp(s, "null");
}

/* One data line; AH_EPARSE with "FILE:LINE: ..." in err when it is bad. */
static int long_fields(char *line, const char *name, long lineno, int64_t *t, double *v, bool *missing,
		       char *fld[5], char *err, size_t errlen)
{
	int rc;
	if (ah_csvline_split(line, ',', fld, 4) != 4) {
		snprintf(err, errlen, "%s:%ld: expected 4 fields (time,workload,dim,value)", name, lineno);
		return AH_EPARSE;
	}
	if ((rc = ah_time_parse(fld[0], t))) {
		snprintf(err, errlen, "%s:%ld: time: '%.40s' is %s", name, lineno, fld[0],
			 rc == AH_ERANGE ? "out of range" : "not an ISO 8601 time or epoch seconds");
		return AH_EPARSE;
	}
	if ((rc = ah_name_check_workload(fld[1]))) {
		snprintf(err, errlen, "%s:%ld: workload: %s", name, lineno,
			 rc == AH_ETOOBIG ? "longer than 127 bytes" : "must be 1-127 of [A-Za-z0-9_.:/@+-]");
		return AH_EPARSE;
	}
	if (ah_name_check_dim(fld[2])) {
		snprintf(err, errlen, "%s:%ld: dim: '%.64s' must match [a-z][a-z0-9_]{0,62}", name, lineno, fld[2]);
		return AH_EPARSE;
	}
	*missing = is_missing(fld[3]);
	if (*missing)
		return 0;
	char *end;
	errno = 0;
	*v = strtod(fld[3], &end);
	if (*end || errno == ERANGE || !isfinite(*v)) {
		snprintf(err, errlen, "%s:%ld: value: '%.40s' is not a finite number", name, lineno, fld[3]);
		return AH_EPARSE;
	}
	return 0;
}

static int long_buffer(ah_history *h, long_state *ls, const char *w, const char *d, int64_t gran,
		       const char *name, long lineno, long_buf **out, char *err, size_t errlen)
{
	for (int i = 0; i < ls->nbuf; i++)
		if (!strcmp(ls->bufs[i]->workload, w) && !strcmp(ls->bufs[i]->dim, d)) {
			*out = ls->bufs[i];
			return 0;
		}
	if (ls->nbuf == LONG_MAX_SERIES) {
		snprintf(err, errlen, "%s:%ld: more than %d series in one file", name, lineno, LONG_MAX_SERIES);
		return AH_ETOOBIG;
	}
	long_buf *b = calloc(1, sizeof(*b));
	if (!b)
		return failed(err, errlen, "buffer", AH_ENOMEM);
	ls->bufs[ls->nbuf++] = b;
	snprintf(b->workload, sizeof(b->workload), "%s", w);
	snprintf(b->dim, sizeof(b->dim), "%s", d);
	*out = b;
	return series_for(h, b->workload, b->dim, gran, &b->id, err, errlen);
}

static int long_flush(ah_history *h, long_buf *b, char *err, size_t errlen)
{
	int rc = b->n ? ah_shadow_append(h->s, b->id, b->t, b->v, b->n) : 0;
	b->n = 0;
	return rc ? failed(err, errlen, "append", rc) : 0;
}

static int import_long_lines(ah_history *h, long_state *ls, FILE *f, const char *name, int64_t gran,
			     ah_history_import_out *o, char *err, size_t errlen)
{
	char buf[AH_CSV_LINE_MAX + 1], *line;
	ah_csvline in;
	long lineno = 0;
	size_t len;
	int r;
	ah_csvline_init(&in, f, name, buf, sizeof buf);
	while ((r = ah_csvline_next(&in, &line, &len)) != 0) {
		lineno = (long)in.lineno;
		if (r < 0) {
			snprintf(err, errlen, "%s", ah_csvline_error(&in));
			return r == AH_EIO ? r : AH_EPARSE;
		}
		if (lineno == 1) {
			if (strcasecmp(line, "time,workload,dim,value")) {
				snprintf(err, errlen, "%s:1: --long expects the header 'time,workload,dim,value'", name);
				return AH_EPARSE;
			}
			continue;
		}
		if (!len)
			continue;
		char *fld[5] = {0};
		int64_t t;
		double v = 0;
		bool missing;
		long_buf *b;
		if ((r = long_fields(line, name, lineno, &t, &v, &missing, fld, err, errlen)) < 0)
			return r;
		if (missing) {
			o->missing++;
			continue;
		}
		if ((r = long_buffer(h, ls, fld[1], fld[2], gran, name, lineno, &b, err, errlen)) < 0)
			return r;
		b->t[b->n] = t;
		b->v[b->n] = in_base(h, b->dim, v, &o->below_one);
		if (!isfinite(b->v[b->n])) {
			snprintf(err, errlen, "%s:%ld: value: '%.40s' %s is out of range", name, lineno, fld[3],
				 ah_input_units_name(&h->units, ah_input_units_kind_of_dim(b->dim)));
			return AH_EPARSE;
		}
		if (++b->n == LONG_BATCH && (r = long_flush(h, b, err, errlen)) < 0)
			return r;
		o->samples++;
	}
	if (lineno == 0) {
		snprintf(err, errlen, "%s: empty file (expected a header)", name);
		return AH_EPARSE;
	}
	return 0;
}

int ah_history_import_long(ah_history *h, FILE *f, const char *name, int64_t granularity_ns,
			   ah_history_import_out *out, char *err, size_t errlen)
{
	ah_history_import_out o = {0};
	long_state *ls = calloc(1, sizeof(*ls));
	if (!ls)
		return AH_ENOMEM;
	int rc = ah_shadow_begin(h->s);
	if (rc) {
		free(ls);
		return failed(err, errlen, "begin", rc);
	}
	rc = import_long_lines(h, ls, f, name, granularity_ns, &o, err, errlen);
	for (int i = 0; rc == 0 && i < ls->nbuf; i++)
		rc = long_flush(h, ls->bufs[i], err, errlen);
	if (rc == 0 && (rc = ah_shadow_commit(h->s)))
		failed(err, errlen, "commit", rc);
	if (rc)
		ah_shadow_rollback(h->s);
	o.series = ls->nbuf;
	for (int i = 0; i < ls->nbuf; i++)
		free(ls->bufs[i]);
	free(ls);
	if (rc == 0 && out)
		*out = o;
	return rc;
}

/* ---- one series ---- */

/* A file from `ahead shadow export` keeps its aggregates. */
static int import_export_file(ah_history *h, const char *path, FILE *f, int64_t id, ah_history_import_out *o,
			      char *err, size_t errlen)
{
	int64_t n = 0;
	char e[512];
	int rc = ah_shadow_import_csv(h->s, id, f, e, sizeof e, &n);
	if (rc == AH_EPARSE || rc == AH_ETOOBIG) {
		/* "line N: field: reason" -> "FILE:N: field: reason" */
		snprintf(err, errlen, "%s:%s", path, strncmp(e, "line ", 5) ? e : e + 5);
		return AH_EPARSE;
	}
	if (rc)
		return failed(err, errlen, "import", rc);
	o->samples = (size_t)n;
	o->aggregates = true;
	return 0;
}

/* Times and values; missing values are skipped (the arrays compacted in
 * place). */
static int read_values(const char *path, const char *time_col, const char *value_col, ah_series *ser, size_t *k,
		       char *err, size_t errlen)
{
	ah_series_csv_opts so;
	memset(&so, 0, sizeof(so));
	so.time_col = time_col;
	so.value_col = value_col;
	so.flags = AH_SERIES_UNORDERED; /* buckets merge repeats and any order */
	int rc = ah_series_read_csv(path, &so, ser, err, errlen);
	if (rc)
		return rc == AH_ENOMEM ? rc : AH_EPARSE;
	size_t n = 0;
	for (size_t i = 0; i < ser->n; i++)
		if (!isnan(ser->v[i])) {
			ser->t_ns[n] = ser->t_ns[i];
			ser->v[n++] = ser->v[i];
		}
	for (size_t i = 0; i < n; i++)
		if (ser->t_ns[i] < 0 || ser->t_ns[i] > AH_SHADOW_T_MAX) {
			snprintf(err, errlen, "%s: a time is out of range (before 1970 or after 2262)", path);
			ah_series_fini(ser);
			return AH_EPARSE;
		}
	*k = n;
	return 0;
}

int ah_history_import_series(ah_history *h, const char *path, FILE *f, const char *workload, const char *dim,
			     int64_t granularity_ns, const char *time_col, const char *value_col,
			     ah_history_import_out *out, char *err, size_t errlen)
{
	ah_history_import_out o = {.series = 1};
	char head[64] = "";
	if (!fgets(head, sizeof(head), f))
		head[0] = '\0';
	head[strcspn(head, "\r\n")] = '\0';
	rewind(f);
	bool exported = !time_col && !value_col && !strcmp(head, "time,value,max,count");
	ah_series ser = {0};
	size_t k = 0;
	int rc = 0;
	if (exported && ah_input_units_given(&h->units, ah_input_units_kind_of_dim(dim))) {
		snprintf(err, errlen, "%s: --unit: an export file is in base units (%s); give no --unit", path,
			 ah_input_units_base_name(ah_input_units_kind_of_dim(dim)));
		return AH_EINVAL;
	}
	if (!exported && (rc = read_values(path, time_col, value_col, &ser, &k, err, errlen)) < 0)
		return rc;
	for (size_t i = 0; i < k; i++)
		if (!isfinite(ser.v[i] = in_base(h, dim, ser.v[i], &o.below_one))) {
			snprintf(err, errlen, "%s: a value is out of range in %s", path,
				 ah_input_units_name(&h->units, ah_input_units_kind_of_dim(dim)));
			ah_series_fini(&ser);
			return AH_EPARSE;
		}
	int64_t id;
	/* One transaction: a bad file leaves no new series behind. */
	if ((rc = ah_shadow_begin(h->s))) {
		failed(err, errlen, "begin", rc);
		goto out;
	}
	if ((rc = series_for(h, workload, dim, granularity_ns, &id, err, errlen)) == 0) {
		if (exported)
			rc = import_export_file(h, path, f, id, &o, err, errlen);
		else if ((rc = ah_shadow_append(h->s, id, ser.t_ns, ser.v, k)))
			failed(err, errlen, "append", rc);
	}
	if (rc == 0 && (rc = ah_shadow_commit(h->s)))
		failed(err, errlen, "commit", rc);
	if (rc)
		ah_shadow_rollback(h->s);
	if (!exported) {
		o.samples = k;
		o.missing = ser.n - k;
	}
out:
	if (!exported)
		ah_series_fini(&ser);
	if (rc == 0 && out)
		*out = o;
	return rc;
}

static int check_values(const char *name, const int64_t *t_ns, const double *v, size_t n, size_t *below_one,
			char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		if (t_ns[i] < 0 || t_ns[i] > AH_SHADOW_T_MAX || !isfinite(v[i])) {
			snprintf(err, errlen, "%s: sample %zu: %s is out of range", name, i + 1,
				 isfinite(v[i]) ? "the time" : "the value");
			return AH_EPARSE;
		}
		*below_one += v[i] > 0 && v[i] < 1;
	}
	return 0;
}

int ah_history_import_values(ah_history *h, const char *name, const char *workload, const char *dim,
			     int64_t granularity_ns, const int64_t *t_ns, const double *v, size_t n,
			     ah_history_import_out *out, char *err, size_t errlen)
{
	ah_history_import_out o = {.series = 1, .samples = n};
	int64_t id;
	int rc = check_values(name, t_ns, v, n, &o.below_one, err, errlen);
	if (rc)
		return rc;
	rc = ah_shadow_begin(h->s);
	if (rc)
		return failed(err, errlen, "begin", rc);
	if ((rc = series_for(h, workload, dim, granularity_ns, &id, err, errlen)) == 0 &&
	    (rc = ah_shadow_append(h->s, id, t_ns, v, n)))
		failed(err, errlen, "append", rc);
	if (rc == 0 && (rc = ah_shadow_commit(h->s)))
		failed(err, errlen, "commit", rc);
	if (rc)
		ah_shadow_rollback(h->s);
	else if (out)
		*out = o;
	return rc;
}

int ah_history_import_many(ah_history *h, const char *name, const ah_history_series_in *in, size_t n_in,
			   ah_history_import_out *out, char *err, size_t errlen)
{
	ah_history_import_out o = {0};
	int rc;
	for (size_t k = 0; k < n_in; k++) {
		if ((rc = check_values(name, in[k].t_ns, in[k].v, in[k].n, &o.below_one, err, errlen)))
			return rc;
		o.samples += in[k].n;
	}
	o.series = (int)n_in;
	if ((rc = ah_shadow_begin(h->s)))
		return failed(err, errlen, "begin", rc);
	for (size_t k = 0; k < n_in && rc == 0; k++) {
		int64_t id;
		if ((rc = series_for(h, in[k].workload, in[k].dim, 0, &id, err, errlen)) == 0 &&
		    (rc = ah_shadow_append(h->s, id, in[k].t_ns, in[k].v, in[k].n)))
			failed(err, errlen, "append", rc);
	}
	if (rc == 0 && (rc = ah_shadow_commit(h->s)))
		failed(err, errlen, "commit", rc);
	if (rc)
		ah_shadow_rollback(h->s);
	else if (out)
		*out = o;
	return rc;
}

/* ---- reading ---- */

static int find(ah_history *h, const char *w, const char *d, int64_t *id, char *err, size_t errlen)
{
	int rc = ah_shadow_series_find(h->s, w, d, id);
	if (rc == AH_ENOENT)
		snprintf(err, errlen, "no series %s/%s", w, d);
	else if (rc)
		failed(err, errlen, "series", rc);
	return rc;
}

int ah_history_series_get(ah_history *h, const char *workload, const char *dim, ah_shadow_series_info *out,
			  char *err, size_t errlen)
{
	int64_t id;
	int rc = find(h, workload, dim, &id, err, errlen);
	if (rc == 0 && (rc = ah_shadow_series_info_get(h->s, id, out)))
		failed(err, errlen, "series", rc);
	return rc;
}

int ah_history_query(ah_history *h, const char *workload, const char *dim, int64_t from_ns, int64_t to_ns,
		     int64_t step_ns, int (*fn)(void *ctx, const ah_shadow_point *p), void *ctx, char *err,
		     size_t errlen)
{
	int64_t id;
	int rc = find(h, workload, dim, &id, err, errlen);
	if (rc == 0 && (rc = ah_shadow_query(h->s, id, from_ns, to_ns, step_ns, fn, ctx)))
		failed(err, errlen, "query", rc);
	return rc;
}

int ah_history_export(ah_history *h, const char *workload, const char *dim, int64_t from_ns, int64_t to_ns,
		      int64_t step_ns, FILE *f, char *err, size_t errlen)
{
	int64_t id;
	int rc = find(h, workload, dim, &id, err, errlen);
	if (rc == 0 && (rc = ah_shadow_export_csv(h->s, id, from_ns, to_ns, step_ns, f)))
		failed(err, errlen, "export", rc);
	return rc;
}

int ah_history_series_list(ah_history *h, ah_shadow_series_info **out, size_t *n, char *err, size_t errlen)
{
	int rc = ah_shadow_series_list(h->s, out, n);
	return rc ? failed(err, errlen, "list", rc) : 0;
}

int ah_history_compact(ah_history *h, int64_t now_ns, const ah_shadow_tier *tiers, int nt,
		       ah_shadow_compact_stats *stats, int64_t *counts, char *err, size_t errlen)
{
	int rc = ah_shadow_compact_tiers(h->s, now_ns, tiers, nt, stats);
	if (rc == 0)
		rc = ah_shadow_tier_counts(h->s, tiers, nt, counts);
	return rc ? failed(err, errlen, "compact", rc) : 0;
}

/* ---- request records and anomalies ---- */

int ah_history_request_add(ah_history *h, const ah_shadow_request *r, int64_t *out_id, char *err, size_t errlen)
{
	int rc = ah_shadow_request_add(h->s, r, out_id);
	return rc ? failed(err, errlen, "record", rc) : 0;
}

int ah_history_request_end(ah_history *h, int64_t id, int64_t end_ns, const ah_shadow_req_dim *dims, int n_dims,
			   char *err, size_t errlen)
{
	int rc = ah_shadow_request_end(h->s, id, end_ns, dims, n_dims);
	if (rc == AH_ENOENT)
		snprintf(err, errlen, "no request %lld", (long long)id);
	else if (rc == AH_ESTATE)
		snprintf(err, errlen, "request %lld has already ended", (long long)id);
	else if (rc == AH_ERANGE)
		snprintf(err, errlen, "--end is before the request's start");
	else if (rc)
		failed(err, errlen, "record", rc);
	return rc;
}

int ah_history_request_list(ah_history *h, const char *workload, const char *key, const char *value, size_t limit,
			    ah_shadow_request **out, size_t *n, char *err, size_t errlen)
{
	int rc = ah_shadow_request_list(h->s, workload, key, value, limit, out, n);
	return rc ? failed(err, errlen, "list", rc) : 0;
}

int ah_history_anomalies_add(ah_history *h, const char *workload, const char *dim, const ah_history_anomaly *ev,
			     size_t n, char *err, size_t errlen)
{
	int rc = ah_shadow_begin(h->s);
	for (size_t k = 0; k < n && !rc; k++)
		rc = ah_shadow_anomaly_add(h->s, workload, dim, ev[k].start_ns, ev[k].end_ns, ev[k].peak_score, NULL);
	if (!rc)
		rc = ah_shadow_commit(h->s);
	else
		ah_shadow_rollback(h->s);
	if (rc)
		snprintf(err, errlen, "%s: cannot store anomalies: %s", h->path, ah_strerror(rc));
	return rc;
}

int ah_history_anomalies_list(ah_history *h, const char *workload, int (*fn)(void *ctx, const ah_shadow_anomaly *a),
			      void *ctx, char *err, size_t errlen)
{
	int rc = ah_shadow_anomaly_list(h->s, workload, fn, ctx);
	if (rc < 0)
		snprintf(err, errlen, "%s: cannot read anomalies: %s", h->path, ah_strerror(rc));
	return rc;
}
