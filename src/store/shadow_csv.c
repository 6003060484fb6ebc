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

#include "ahead/error.h"
#include "store/shadow_int.h"

#define IMPORT_BATCH 4096

static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

int ah_shadow_format_time(int64_t t_ns, char *buf, size_t len)
{
	if (!buf || t_ns < 0)
		return AH_EINVAL;
	int64_t secs = t_ns / AH_NS_PER_S, frac = t_ns % AH_NS_PER_S;
	int64_t days = secs / 86400, sod = secs % 86400, y;
	int m, d;
	civil_from_days(days, &y, &m, &d);
	int n = snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02d", (long long)y, m, d,
			 (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
	if (n < 0 || (size_t)n >= len)
		return AH_ERANGE;
	if (frac) {
		char f[16];
		snprintf(f, sizeof(f), ".%09lld", (long long)frac);
		size_t fl = strlen(f);
		while (fl > 1 && f[fl - 1] == '0')
			f[--fl] = '\0';
		if ((size_t)n + fl + 2 > len)
			return AH_ERANGE;
		memcpy(buf + n, f, fl);
		n += (int)fl;
	}
	if ((size_t)n + 2 > len)
		return AH_ERANGE;
	buf[n++] = 'Z';
	buf[n] = '\0';
	return 0;
}

/* Reads exactly k digits. */
static int digits(const char **p, int k, int *out)
{
	int v = 0;
	for (int i = 0; i < k; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += k;
	*out = v;
	return 0;
}

/* ".fffffffff" (1..9 digits) to ns; p points at the dot or elsewhere. */
static int fraction(const char **p, int64_t *ns)
{
	*ns = 0;
	if (**p != '.')
		return 0;
	(*p)++;
	int k = 0;
	int64_t v = 0;
	while (**p >= '0' && **p <= '9') {
		if (++k > 9)
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	if (k == 0)
		return -1;
	while (k++ < 9)
		v *= 10;
	*ns = v;
	return 0;
}

int ah_shadow_parse_time(const char *s, int64_t *out_ns)
{
	if (!s || !*s || !out_ns)
		return AH_EINVAL;
	const char *p = s;
	int64_t frac = 0;
	if (strlen(s) > 40)
		return AH_EINVAL;
	/* Epoch seconds: digits, optional fraction. */
	size_t k = strspn(s, "0123456789");
	if (k > 0 && (s[k] == '\0' || s[k] == '.')) {
		int64_t secs = 0;
		while (*p >= '0' && *p <= '9') {
			if (secs > AH_SHADOW_T_MAX / AH_NS_PER_S)
				return AH_ERANGE;
			secs = secs * 10 + (*p - '0');
			p++;
		}
		if (fraction(&p, &frac) || *p)
			return AH_EINVAL;
		if (secs > (AH_SHADOW_T_MAX - frac) / AH_NS_PER_S)
			return AH_ERANGE;
		*out_ns = secs * AH_NS_PER_S + frac;
		return 0;
	}
	int y, mo, d, h = 0, mi = 0, se = 0;
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d))
		return AH_EINVAL;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
		return AH_EINVAL;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return AH_EINVAL;
	int64_t off = 0;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			return AH_EINVAL;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &se) || fraction(&p, &frac))
				return AH_EINVAL;
		}
		if (h > 23 || mi > 59 || se > 59)
			return AH_EINVAL;
		if (*p == 'Z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om;
			if (digits(&p, 2, &oh))
				return AH_EINVAL;
			if (*p == ':')
				p++;
			if (digits(&p, 2, &om) || oh > 23 || om > 59)
				return AH_EINVAL;
			off = sign * (int64_t)(oh * 3600 + om * 60);
		}
	}
	if (*p)
		return AH_EINVAL;
	int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
	if (secs < 0)
		return AH_ERANGE;
	if (secs > (AH_SHADOW_T_MAX - frac) / AH_NS_PER_S)
		return AH_ERANGE;
	*out_ns = secs * AH_NS_PER_S + frac;
	return 0;
}

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
	if (ah_shadow_format_time(p->t_ns, t, sizeof(t)))
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
	char line[AH_SHADOW_CSV_LINE_MAX + 2];
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
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		size_t len = strlen(line);
		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			seterr(err, errlen, lineno, "line", "longer than 4096 bytes");
			rc = AH_ETOOBIG;
			goto out;
		}
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
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
		int nf = 0;
		char *p = line;
		for (;;) {
			if (nf == 5)
				break;
			fld[nf++] = p;
			char *c = strchr(p, ',');
			if (!c)
				break;
			*c = '\0';
			p = c + 1;
		}
		if (nf != ncols) {
			seterr(err, errlen, lineno, "line",
			       ncols == 4 ? "expected 4 fields" : "expected 2 fields");
			rc = AH_EPARSE;
			goto out;
		}
		ah_shadow_point pt = {0};
		int trc = ah_shadow_parse_time(fld[0], &pt.t_ns);
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
	if (ferror(f)) {
		seterr(err, errlen, lineno, "file", "read error");
		rc = AH_EIO;
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
