/* ahead: CSV time-series reader (see include/ahead/series.h for the rules).
 *
 * Streaming, one line at a time through a fixed 64 KiB buffer, so a hostile
 * file costs at most the row cap in memory; every refusal names the line. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/csvline.h"
#include "ahead/error.h"
#include "ahead/timestamp.h"
#include "ahead/series.h"

#define MAX_FIELDS 4096

typedef struct {
	int64_t t;
	double v;
	size_t line;
} row;

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The one time grammar (timestamp.h), within the series' own range:
 * differences of two times must fit int64 ns (year 2096). */
#define SERIES_T_MAX_NS (INT64_C(4000000000) * 1000000000)

int ah_series_parse_time(const char *s, int64_t *out_ns)
{
	if (!s || !out_ns)
		return AH_EINVAL;
	int64_t t;
	if (ah_time_parse(s, &t) || t > SERIES_T_MAX_NS)
		return AH_EINVAL;
	*out_ns = t;
	return 0;
}

/* 0 ok (NaN for missing), -1 not a number, -2 not finite. */
static int parse_value(const char *s, double *out)
{
	if (!*s || !strcasecmp(s, "nan") || !strcmp(s, "NA") || !strcasecmp(s, "null")) {
		*out = NAN;
		return 0;
	}
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end)
		return -1;
	if (!isfinite(v))
		return -2;
	*out = v;
	return 0;
}

static int resolve_col(const char *want, char **hdr, int nh, const char *def1, const char *def2,
		       int defidx, int *out)
{
	if (want && *want) {
		bool num = true;
		for (const char *p = want; *p; p++)
			if (!isdigit((unsigned char)*p))
				num = false;
		for (int i = 0; i < nh && i < MAX_FIELDS; i++)
			if (!strcasecmp(hdr[i], want)) {
				*out = i;
				return 0;
			}
		if (num && strlen(want) < 6) {
			int i = atoi(want);
			if (i < nh) {
				*out = i;
				return 0;
			}
		}
		return AH_ENOENT;
	}
	for (int i = 0; i < nh && i < MAX_FIELDS; i++)
		if (!strcasecmp(hdr[i], def1) || (def2 && !strcasecmp(hdr[i], def2))) {
			*out = i;
			return 0;
		}
	if (defidx < nh) {
		*out = defidx;
		return 0;
	}
	return AH_ENOENT;
}

static int cmp_row(const void *a, const void *b)
{
	const row *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int64_t median_step(const row *r, size_t n, bool absolute)
{
	if (n < 2)
		return 0;
	int64_t *d = malloc((n - 1) * sizeof(*d));
	if (!d)
		return -1;
	size_t m = 0;
	for (size_t i = 1; i < n; i++) {
		int64_t x = r[i].t - r[i - 1].t;
		if (absolute && x < 0)
			x = -x;
		if (x > 0)
			d[m++] = x;
	}
	int64_t med = 0;
	if (m) {
		qsort(d, m, sizeof(*d), cmp_i64);
		med = d[(m - 1) / 2];
	}
	free(d);
	return med;
}

/* Rows as read (in file order) to a series: ordering, duplicates, the
 * step and gap filling. PATH names the input in messages. */
static int build(const char *path, row *rows, size_t nrows, const ah_series_csv_opts *opts, size_t reordered,
		 int tc, int vc, ah_series *out, char *err, size_t errlen)
{
	size_t max_rows = opts->max_rows ? opts->max_rows : AH_SERIES_MAX_ROWS;
	const bool unordered = opts->flags & AH_SERIES_UNORDERED;
	const bool sort = (opts->flags & AH_SERIES_SORT) && !unordered;
	const bool fill = !(opts->flags & AH_SERIES_NO_FILL) && !unordered;
	size_t missing = 0, dups = 0;
	int64_t *t_ns = NULL;
	double *v = NULL;
	int rc = 0;
	for (size_t i = 0; i < nrows; i++)
		missing += isnan(rows[i].v);
	if (sort)
		qsort(rows, nrows, sizeof(*rows), cmp_row);

	/* Duplicates (adjacent after ordering). */
	if (!unordered) {
		size_t w = 0;
		for (size_t i = 0; i < nrows;) {
			size_t j = i + 1;
			while (j < nrows && rows[j].t == rows[i].t)
				j++;
			if (j - i > 1) {
				if (opts->dups == AH_SERIES_DUP_ERROR) {
					rc = AH_EINVAL;
					seterr(err, errlen, "%s:%zu: duplicate timestamp (same as line %zu)", path,
					       rows[i + 1].line, rows[i].line);
					goto out;
				}
				row r = rows[j - 1];
				if (opts->dups == AH_SERIES_DUP_MEAN) {
					double s = 0;
					size_t c = 0;
					for (size_t k = i; k < j; k++)
						if (!isnan(rows[k].v)) {
							s += rows[k].v;
							c++;
						}
					r.v = c ? s / (double)c : NAN;
				}
				for (size_t k = i; k < j; k++)
					if (isnan(rows[k].v))
						missing--;
				if (isnan(r.v))
					missing++;
				dups += j - i - 1;
				rows[w++] = r;
			} else {
				rows[w++] = rows[i];
			}
			i = j;
		}
		nrows = w;
	}

	int64_t step = median_step(rows, nrows, unordered);
	if (step < 0) {
		rc = AH_ENOMEM;
		seterr(err, errlen, "%s: out of memory", path);
		goto out;
	}
	size_t gaps = 0, filled = 0, total = nrows;
	if (fill && step > 0) {
		for (size_t i = 1; i < nrows; i++) {
			int64_t d = rows[i].t - rows[i - 1].t;
			if ((double)d > 1.5 * (double)step) {
				int64_t k = (d + step / 2) / step - 1;
				gaps++;
				if ((uint64_t)k > max_rows || total + (size_t)k > max_rows) {
					rc = AH_ETOOBIG;
					seterr(err, errlen,
					       "%s:%zu: gap of %lld steps would exceed the %zu-point cap", path,
					       rows[i].line, (long long)k, max_rows);
					goto out;
				}
				filled += (size_t)k;
				total += (size_t)k;
			}
		}
	}
	t_ns = malloc(total * sizeof(*t_ns));
	v = malloc(total * sizeof(*v));
	if (!t_ns || !v) {
		rc = AH_ENOMEM;
		seterr(err, errlen, "%s: out of memory", path);
		goto out;
	}
	size_t w = 0;
	for (size_t i = 0; i < nrows; i++) {
		if (fill && step > 0 && i > 0) {
			int64_t d = rows[i].t - rows[i - 1].t;
			if ((double)d > 1.5 * (double)step) {
				int64_t k = (d + step / 2) / step - 1;
				for (int64_t j = 1; j <= k; j++) {
					t_ns[w] = rows[i - 1].t + j * step;
					v[w++] = NAN;
				}
			}
		}
		t_ns[w] = rows[i].t;
		v[w++] = rows[i].v;
	}
	*out = (ah_series){.t_ns = t_ns, .v = v, .n = w, .step_ns = step, .rows = nrows + dups,
			   .missing = missing, .gaps = gaps, .filled = filled, .duplicates = dups,
			   .reordered = sort ? reordered : 0, .time_col = tc, .value_col = vc};
	return 0;
out:
	free(t_ns);
	free(v);
	return rc;
}

int ah_series_read_csv(const char *path, const ah_series_csv_opts *opts, ah_series *out,
		       char *err, size_t errlen)
{
	static const ah_series_csv_opts zero;
	if (!opts)
		opts = &zero;
	if (!path || !out) {
		seterr(err, errlen, "no input file");
		return AH_EINVAL;
	}
	size_t max_rows = opts->max_rows ? opts->max_rows : AH_SERIES_MAX_ROWS;
	const bool unordered = opts->flags & AH_SERIES_UNORDERED;
	const bool sort = (opts->flags & AH_SERIES_SORT) && !unordered;
	int rc = 0;
	char *buf = NULL, **fld = NULL;
	row *rows = NULL;
	size_t nrows = 0, cap = 0, line = 0, len = 0, reordered = 0;
	FILE *f = fopen(path, "rb");
	if (!f) {
		seterr(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return AH_EIO;
	}
	buf = malloc(AH_SERIES_MAX_LINE + 1);
	fld = malloc(MAX_FIELDS * sizeof(*fld));
	if (!buf || !fld) {
		rc = AH_ENOMEM;
		seterr(err, errlen, "%s: out of memory", path);
		goto out;
	}

	/* Header. */
	ah_csvline in;
	ah_csvline_init(&in, f, path, buf, AH_SERIES_MAX_LINE + 1);
	char *text;
	int lr = ah_csvline_next(&in, &text, &len);
	line = 1;
	if (lr == 0) {
		rc = AH_EINVAL;
		seterr(err, errlen, "%s: empty file (expected a header line)", path);
		goto out;
	}
	if (lr < 0)
		goto line_err;
	char *hl = text;
	if ((unsigned char)hl[0] == 0xEF && (unsigned char)hl[1] == 0xBB && (unsigned char)hl[2] == 0xBF)
		hl += 3; /* UTF-8 byte-order mark */
	int nh = ah_csvline_split_quoted(hl, fld, MAX_FIELDS);
	if (nh < 0) {
		rc = AH_EPARSE;
		seterr(err, errlen, "%s:1: unterminated quote in header", path);
		goto out;
	}
	if (nh < 2) {
		rc = AH_EINVAL;
		seterr(err, errlen, "%s:1: header has %d column; need a time and a value column", path, nh);
		goto out;
	}
	int tc, vc;
	if (resolve_col(opts->time_col, fld, nh, "timestamp", "time", 0, &tc)) {
		rc = AH_EINVAL;
		seterr(err, errlen, "%s:1: no time column '%.64s' in header", path,
		       opts->time_col ? opts->time_col : "timestamp");
		goto out;
	}
	if (resolve_col(opts->value_col, fld, nh, "value", NULL, 1, &vc)) {
		rc = AH_EINVAL;
		seterr(err, errlen, "%s:1: no value column '%.64s' in header", path,
		       opts->value_col ? opts->value_col : "value");
		goto out;
	}
	if (tc == vc) {
		rc = AH_EINVAL;
		seterr(err, errlen, "%s:1: time and value column are the same (column %d)", path, tc);
		goto out;
	}
	int need = (tc > vc ? tc : vc) + 1;
	bool have_prev = false;
	int64_t prev_t = 0;
	size_t prev_line = 0;

	for (;;) {
		lr = ah_csvline_next(&in, &text, &len);
		if (lr == 0)
			break;
		line = (size_t)in.lineno;
		if (lr < 0)
			goto line_err;
		if (len == 0 || !*ah_csvline_trim(text))
			continue; /* blank lines are ignored */
		int nf = ah_csvline_split_quoted(text, fld, need);
		if (nf < 0) {
			rc = AH_EPARSE;
			seterr(err, errlen, "%s:%zu: unterminated quote", path, line);
			goto out;
		}
		if (nf < need) {
			rc = AH_EPARSE;
			seterr(err, errlen, "%s:%zu: expected at least %d columns, found %d", path, line, need, nf);
			goto out;
		}
		int64_t t;
		if (ah_series_parse_time(fld[tc], &t)) {
			rc = AH_EPARSE;
			seterr(err, errlen, "%s:%zu: column %d: bad timestamp '%.40s' (expected ISO 8601 or epoch seconds)",
			       path, line, tc, fld[tc]);
			goto out;
		}
		double val;
		int pv = parse_value(fld[vc], &val);
		if (pv) {
			rc = AH_EPARSE;
			seterr(err, errlen, "%s:%zu: column %d: %s '%.40s'", path, line, vc,
			       pv == -2 ? "value is not finite" : "not a number", fld[vc]);
			goto out;
		}
		if (have_prev && !unordered && !sort) {
			if (t < prev_t) {
				rc = AH_EINVAL;
				seterr(err, errlen, "%s:%zu: timestamp goes backwards (earlier than line %zu)",
				       path, line, prev_line);
				goto out;
			}
			if (t == prev_t && opts->dups == AH_SERIES_DUP_ERROR) {
				rc = AH_EINVAL;
				seterr(err, errlen, "%s:%zu: duplicate timestamp (same as line %zu)", path, line,
				       prev_line);
				goto out;
			}
		}
		if (have_prev && t < prev_t)
			reordered++;
		have_prev = true;
		prev_t = t;
		prev_line = line;
		if (nrows >= max_rows) {
			rc = AH_ETOOBIG;
			seterr(err, errlen, "%s:%zu: more than %zu rows (hard cap)", path, line, max_rows);
			goto out;
		}
		if (nrows == cap) {
			size_t nc = cap ? cap * 2 : 1024;
			row *nr = realloc(rows, nc * sizeof(*nr));
			if (!nr) {
				rc = AH_ENOMEM;
				seterr(err, errlen, "%s:%zu: out of memory", path, line);
				goto out;
			}
			rows = nr;
			cap = nc;
		}
		rows[nrows++] = (row){t, val, line};
	}
	if (!nrows) {
		rc = AH_EINVAL;
		seterr(err, errlen, "%s: no data rows after the header", path);
		goto out;
	}
	rc = build(path, rows, nrows, opts, reordered, tc, vc, out, err, errlen);
	goto out;

line_err:
	rc = lr;
	seterr(err, errlen, "%s", ah_csvline_error(&in));
out:
	free(rows);
	free(fld);
	free(buf);
	fclose(f);
	return rc;
}

int ah_series_from_samples(const char *name, const int64_t *t_ns, const double *v, const size_t *lines, size_t n,
			   const ah_series_csv_opts *opts, ah_series *out, char *err, size_t errlen)
{
	static const ah_series_csv_opts zero;
	if (!opts)
		opts = &zero;
	if (!name || !out || (n && (!t_ns || !v))) {
		seterr(err, errlen, "no samples");
		return AH_EINVAL;
	}
	if (!n) {
		seterr(err, errlen, "%s: no samples", name);
		return AH_EINVAL;
	}
	size_t max_rows = opts->max_rows ? opts->max_rows : AH_SERIES_MAX_ROWS;
	if (n > max_rows) {
		seterr(err, errlen, "%s: more than %zu rows (hard cap)", name, max_rows);
		return AH_ETOOBIG;
	}
	row *rows = malloc(n * sizeof(*rows));
	if (!rows) {
		seterr(err, errlen, "%s: out of memory", name);
		return AH_ENOMEM;
	}
	size_t reordered = 0;
	for (size_t i = 0; i < n; i++) {
		rows[i] = (row){t_ns[i], v[i], lines ? lines[i] : i + 1};
		reordered += i && t_ns[i] < t_ns[i - 1];
	}
	int rc = 0;
	if (!(opts->flags & (AH_SERIES_SORT | AH_SERIES_UNORDERED)))
		for (size_t i = 1; i < n && !rc; i++)
			if (t_ns[i] < t_ns[i - 1]) {
				rc = AH_EINVAL;
				seterr(err, errlen, "%s:%zu: timestamp goes backwards (earlier than line %zu)", name,
				       rows[i].line, rows[i - 1].line);
			}
	if (!rc)
		rc = build(name, rows, n, opts, reordered, -1, -1, out, err, errlen);
	free(rows);
	return rc;
}

size_t ah_series_count_valid(const ah_series *s)
{
	size_t c = 0;
	if (s)
		for (size_t i = 0; i < s->n; i++)
			c += !isnan(s->v[i]);
	return c;
}

void ah_series_fini(ah_series *s)
{
	if (!s)
		return;
	free(s->t_ns);
	free(s->v);
	memset(s, 0, sizeof(*s));
}
