/* ahead: shadow store CSV export/import and ISO 8601 times.
 *
 * The export format is "time,value,max,count" with times in ISO 8601 UTC and
 * values printed in their shortest exact form, so an export imports back into
 * the same points (lossless). Import also accepts "time,value" (one sample per
 * line). Import is all-or-nothing: the first bad line aborts it and rolls
 * back, naming the line and the field. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/csvline.h"
#include "ahead/error.h"
#include "store/shadow_int.h"

#define IMPORT_BATCH 4096

static void fmt_double(double v, char *buf, size_t len)
{
	snprintf(buf, len, "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, len, "%.17g", v);
}

typedef struct {
	FILE *f;
} export_ctx;

static int export_point(void *vctx, const ah_shadow_point *p)
{
	export_ctx *c = vctx;
	char t[48], v[32], m[32];
	if (ah_time_format_exact(p->t_ns, t, sizeof(t)))
		return AH_ERANGE;
	fmt_double(p->mean, v, sizeof(v));
	fmt_double(p->max, m, sizeof(m));
	if (fprintf(c->f, "%s,%s,%s,%lld\n", t, v, m, (long long)p->count) < 0)
		return AH_EIO;
	return 0;
}

int ah_shadow_export_csv(ah_shadow *s, int64_t series_id, int64_t from_ns, int64_t to_ns,
			 int64_t step_ns, FILE *f)
{
	if (!s || !f)
		return AH_EINVAL;
	export_ctx c = {f};
	if (fprintf(f, "time,value,max,count\n") < 0)
		return AH_EIO;
	int rc = ah_shadow_query(s, series_id, from_ns, to_ns, step_ns, export_point, &c);
	if (rc == 0 && fflush(f) != 0)
		rc = AH_EIO;
	return rc;
}

static void seterr(char *err, size_t errlen, long line, const char *field, const char *reason)
{
	if (err && errlen)
		snprintf(err, errlen, "line %ld: %s: %s", line, field, reason);
}

static int parse_double(const char *s, double *out)
{
	char *end;
	if (!*s || strlen(s) > 64)
		return -1;
	errno = 0;
	double v = strtod(s, &end);
	if (*end || errno == ERANGE || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int ah_shadow_import_csv(ah_shadow *s, int64_t series_id, FILE *f, char *err, size_t errlen,
			 int64_t *out_points)
{
	char buf[AH_SHADOW_CSV_LINE_MAX + 1], *line;
	ah_csvline in;
	size_t len;
	ah_shadow_point *batch = NULL;
	size_t nb = 0;
	int64_t total = 0;
	long lineno = 0;
	int ncols = 0, rc;
	sh_tx tx;
	if (!s || !f)
		return AH_EINVAL;
	if (err && errlen)
		err[0] = '\0';
	ah_shadow_series_info info;
	if ((rc = ah_shadow_series_info_get(s, series_id, &info)))
		return rc;
	batch = malloc(IMPORT_BATCH * sizeof(*batch));
	if (!batch)
		return AH_ENOMEM;
	if ((rc = sh_tx_begin(s, &tx))) {
		free(batch);
		return rc;
	}
	ah_csvline_init(&in, f, NULL, buf, sizeof(buf));
	while ((rc = ah_csvline_next(&in, &line, &len)) > 0) {
		lineno = (long)in.lineno;
		if (lineno == 1) {
			if (!strcmp(line, "time,value,max,count"))
				ncols = 4;
			else if (!strcmp(line, "time,value"))
				ncols = 2;
			else {
				seterr(err, errlen, lineno, "header",
				       "expected 'time,value,max,count' or 'time,value'");
				rc = AH_EPARSE;
				goto out;
			}
			continue;
		}
		if (len == 0)
			continue;
		char *fld[5] = {NULL, NULL, NULL, NULL, NULL};
		int nf = ah_csvline_split(line, ',', fld, 4);
		if (nf != ncols) {
			seterr(err, errlen, lineno, "line",
			       ncols == 4 ? "expected 4 fields" : "expected 2 fields");
			rc = AH_EPARSE;
			goto out;
		}
		ah_shadow_point pt = {0};
		int trc = ah_time_parse(fld[0], &pt.t_ns);
		if (trc) {
			seterr(err, errlen, lineno, "time",
			       trc == AH_ERANGE ? "out of range" : "not an ISO 8601 time or epoch seconds");
			rc = AH_EPARSE;
			goto out;
		}
		if (parse_double(fld[1], &pt.mean)) {
			seterr(err, errlen, lineno, "value", "not a finite number");
			rc = AH_EPARSE;
			goto out;
		}
		pt.max = pt.mean;
		pt.count = 1;
		if (ncols == 4) {
			char *end;
			if (parse_double(fld[2], &pt.max)) {
				seterr(err, errlen, lineno, "max", "not a finite number");
				rc = AH_EPARSE;
				goto out;
			}
			if (pt.max < pt.mean) {
				seterr(err, errlen, lineno, "max", "smaller than value (the mean)");
				rc = AH_EPARSE;
				goto out;
			}
			errno = 0;
			long long cnt = strtoll(fld[3], &end, 10);
			if (!*fld[3] || *end || errno || cnt < 1 || cnt > AH_VALUE_MAX) {
				seterr(err, errlen, lineno, "count", "not an integer >= 1");
				rc = AH_EPARSE;
				goto out;
			}
			pt.count = cnt;
		}
		batch[nb++] = pt;
		if (nb == IMPORT_BATCH) {
			if ((rc = ah_shadow_append_points(s, series_id, batch, nb)))
				goto out;
			total += (int64_t)nb;
			nb = 0;
		}
	}
	if (rc < 0) {
		seterr(err, errlen, (long)in.lineno, rc == AH_EIO ? "file" : "line", ah_csvline_reason(&in));
		goto out;
	}
	if (lineno == 0) {
		seterr(err, errlen, 1, "header", "empty file");
		rc = AH_EPARSE;
		goto out;
	}
	if (nb && (rc = ah_shadow_append_points(s, series_id, batch, nb)))
		goto out;
	total += (int64_t)nb;
out:
	free(batch);
	rc = sh_tx_end(s, &tx, rc);
	if (rc == 0 && out_points)
		*out_points = total;
	return rc;
}
