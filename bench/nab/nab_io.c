/* NAB files: anomaly windows (labels/combined_windows.json), profiles
 * (config/profiles.json) and published per-file results (*_scores.csv).
 * Every reader validates what it reads and names the key or line at fault. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/csvline.h"
#include "ahead/error.h"
#include "nab/nab.h"

#define NAB_JSON_MAX_BYTES (64u << 20)
#define NAB_CSV_MAX_ROWS 100000

typedef struct {
	char *name;
	ah_nab_window *w;
	size_t n;
} nab_label_file;

struct ah_nab_labels {
	nab_label_file *files;
	size_t n_files;
	size_t total_windows;
};

static void set_err(char *err, size_t len, const char *fmt, ...)
{
	if (!err || !len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's method). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int ah_nab_parse_time(const char *s, int64_t *out_s)
{
	int Y, M, D, h, m, sec;
	if (!s || !out_s || strlen(s) < 19)
		return AH_EINVAL;
	if (digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
	    digits(s + 8, 2, &D) || (s[10] != ' ' && s[10] != 'T') || digits(s + 11, 2, &h) ||
	    s[13] != ':' || digits(s + 14, 2, &m) || s[16] != ':' || digits(s + 17, 2, &sec))
		return AH_EINVAL;
	if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
		return AH_EINVAL;
	const char *p = s + 19;
	double frac = 0;
	if (*p == '.') {
		double scale = 0.1;
		p++;
		if (*p < '0' || *p > '9')
			return AH_EINVAL;
		while (*p >= '0' && *p <= '9') {
			frac += (*p - '0') * scale;
			scale /= 10;
			p++;
		}
	}
	if (*p == 'Z')
		p++;
	if (*p)
		return AH_EINVAL;
	int64_t t = days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + m * 60 + sec;
	*out_s = t + (frac >= 0.5 ? 1 : 0);
	return 0;
}

void ah_nab_labels_free(ah_nab_labels *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n_files; i++) {
		free(l->files[i].name);
		free(l->files[i].w);
	}
	free(l->files);
	free(l);
}

static json_t *load_json(const char *path, char *err, size_t err_len, int *rc)
{
	json_error_t jerr;
	FILE *f = fopen(path, "rb");
	if (!f) {
		set_err(err, err_len, "%s: %s", path, strerror(errno));
		*rc = AH_EIO;
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0) {
		long sz = ftell(f);
		if (sz < 0 || (unsigned long)sz > NAB_JSON_MAX_BYTES) {
			fclose(f);
			set_err(err, err_len, "%s: larger than %u bytes", path, NAB_JSON_MAX_BYTES);
			*rc = AH_ETOOBIG;
			return NULL;
		}
		rewind(f);
	}
	json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (!root) {
		set_err(err, err_len, "%s:%d: %s", path, jerr.line, jerr.text);
		*rc = AH_EPARSE;
	}
	return root;
}

int ah_nab_labels_load(const char *path, char *err, size_t err_len, ah_nab_labels **out)
{
	int rc = 0;
	ah_nab_labels *l = NULL;
	if (!path || !out)
		return AH_EINVAL;
	json_t *root = load_json(path, err, err_len, &rc);
	if (!root)
		return rc;
	if (!json_is_object(root)) {
		set_err(err, err_len, "%s: top level must be an object of file -> windows", path);
		rc = AH_EINVAL;
		goto out;
	}
	size_t nf = json_object_size(root);
	if (nf > AH_NAB_MAX_FILES) {
		set_err(err, err_len, "%s: more than %d files", path, AH_NAB_MAX_FILES);
		rc = AH_ETOOBIG;
		goto out;
	}
	l = calloc(1, sizeof(*l));
	if (!l || !(l->files = calloc(nf + 1, sizeof(*l->files)))) {
		rc = AH_ENOMEM;
		goto out;
	}
	const char *key;
	json_t *val;
	json_object_foreach(root, key, val)
	{
		if (strlen(key) >= AH_NAB_NAME_MAX) {
			set_err(err, err_len, "%s: file name too long: %.64s...", path, key);
			rc = AH_ETOOBIG;
			goto out;
		}
		if (!json_is_array(val)) {
			set_err(err, err_len, "%s: \"%s\": windows must be an array", path, key);
			rc = AH_EINVAL;
			goto out;
		}
		size_t nw = json_array_size(val);
		if (nw > AH_NAB_MAX_WINDOWS) {
			set_err(err, err_len, "%s: \"%s\": more than %d windows", path, key,
				AH_NAB_MAX_WINDOWS);
			rc = AH_ETOOBIG;
			goto out;
		}
		nab_label_file *lf = &l->files[l->n_files++];
		lf->name = strdup(key);
		lf->w = calloc(nw + 1, sizeof(*lf->w));
		if (!lf->name || !lf->w) {
			rc = AH_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < nw; i++) {
			json_t *pair = json_array_get(val, i);
			json_t *a = json_array_get(pair, 0), *b = json_array_get(pair, 1);
			if (!json_is_array(pair) || json_array_size(pair) != 2 || !json_is_string(a) ||
			    !json_is_string(b)) {
				set_err(err, err_len,
					"%s: \"%s\" window %zu: expected [\"start\", \"end\"]", path,
					key, i + 1);
				rc = AH_EINVAL;
				goto out;
			}
			if (ah_nab_parse_time(json_string_value(a), &lf->w[i].start_s) ||
			    ah_nab_parse_time(json_string_value(b), &lf->w[i].end_s)) {
				set_err(err, err_len, "%s: \"%s\" window %zu: bad timestamp", path,
					key, i + 1);
				rc = AH_EINVAL;
				goto out;
			}
			if (lf->w[i].end_s < lf->w[i].start_s ||
			    (i > 0 && lf->w[i].start_s <= lf->w[i - 1].end_s)) {
				set_err(err, err_len,
					"%s: \"%s\" window %zu: ends before it starts or overlaps the "
					"previous window",
					path, key, i + 1);
				rc = AH_EINVAL;
				goto out;
			}
			lf->n++;
		}
		l->total_windows += lf->n;
	}
	*out = l;
	l = NULL;
out:
	ah_nab_labels_free(l);
	json_decref(root);
	return rc;
}

size_t ah_nab_labels_files(const ah_nab_labels *l)
{
	return l ? l->n_files : 0;
}

const char *ah_nab_labels_name(const ah_nab_labels *l, size_t i)
{
	return (l && i < l->n_files) ? l->files[i].name : NULL;
}

int ah_nab_labels_get(const ah_nab_labels *l, const char *file, const ah_nab_window **windows,
		      size_t *n_windows)
{
	if (!l || !file || !windows || !n_windows)
		return AH_EINVAL;
	for (size_t i = 0; i < l->n_files; i++)
		if (!strcmp(l->files[i].name, file)) {
			*windows = l->files[i].w;
			*n_windows = l->files[i].n;
			return 0;
		}
	return AH_ENOENT;
}

size_t ah_nab_labels_total_windows(const ah_nab_labels *l)
{
	return l ? l->total_windows : 0;
}

static int get_weight(json_t *cm, const char *k, double *out)
{
	json_t *v = json_object_get(cm, k);
	if (!json_is_number(v))
		return -1;
	double d = json_number_value(v);
	if (!isfinite(d) || d < 0)
		return -1;
	*out = d;
	return 0;
}

int ah_nab_profiles_load(const char *path, char *err, size_t err_len, ah_nab_profile *out,
			 size_t cap, size_t *n_out)
{
	int rc = 0;
	if (!path || !out || !n_out)
		return AH_EINVAL;
	json_t *root = load_json(path, err, err_len, &rc);
	if (!root)
		return rc;
	if (!json_is_object(root)) {
		set_err(err, err_len, "%s: top level must be an object of profiles", path);
		rc = AH_EINVAL;
		goto out;
	}
	if (json_object_size(root) > cap) {
		set_err(err, err_len, "%s: more than %zu profiles", path, cap);
		rc = AH_ETOOBIG;
		goto out;
	}
	size_t n = 0;
	const char *key;
	json_t *val;
	json_object_foreach(root, key, val)
	{
		ah_nab_profile p = {{0}, 0, 0, 0};
		json_t *cm = json_object_get(val, "CostMatrix");
		if (strlen(key) >= sizeof(p.name)) {
			set_err(err, err_len, "%s: profile name too long", path);
			rc = AH_ETOOBIG;
			goto out;
		}
		if (!json_is_object(cm)) {
			set_err(err, err_len, "%s: profile \"%s\": missing object CostMatrix", path, key);
			rc = AH_EINVAL;
			goto out;
		}
		if (get_weight(cm, "tpWeight", &p.tp_weight) || get_weight(cm, "fpWeight", &p.fp_weight) ||
		    get_weight(cm, "fnWeight", &p.fn_weight)) {
			set_err(err, err_len,
				"%s: profile \"%s\": tpWeight, fpWeight and fnWeight must be numbers >= 0",
				path, key);
			rc = AH_EINVAL;
			goto out;
		}
		strcpy(p.name, key);
		out[n++] = p;
	}
	*n_out = n;
out:
	json_decref(root);
	return rc;
}

static int parse_double(const char *s, double *out)
{
	char *end;
	if (!*s)
		return -1;
	errno = 0;
	double d = strtod(s, &end);
	if (errno || *end || !isfinite(d))
		return -1;
	*out = d;
	return 0;
}

static int parse_long(const char *s, long *out)
{
	char *end;
	if (!*s)
		return -1;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < 0)
		return -1;
	*out = v;
	return 0;
}

int ah_nab_results_load(const char *path, char *err, size_t err_len, ah_nab_result_row **rows_out,
			size_t *n_out)
{
	int rc = 0;
	char buf[AH_CSV_LINE_MAX + 1], *line;
	ah_csvline in;
	size_t len;
	ah_nab_result_row *rows = NULL;
	size_t n = 0, cap = 0;
	long lineno = 0;
	if (!path || !rows_out || !n_out)
		return AH_EINVAL;
	FILE *f = fopen(path, "r");
	if (!f) {
		set_err(err, err_len, "%s: %s", path, strerror(errno));
		return AH_EIO;
	}
	ah_csvline_init(&in, f, path, buf, sizeof(buf));
	while ((rc = ah_csvline_next(&in, &line, &len)) > 0) {
		lineno = (long)in.lineno;
		if (lineno == 1) {
			if (strncmp(line, "Detector,Profile,File,Threshold,Score,TP,TN,FP,FN,Total_Count",
				    62)) {
				set_err(err, err_len, "%s:1: not a NAB scores header", path);
				rc = AH_EPARSE;
				goto out;
			}
			continue;
		}
		if (!len)
			continue;
		char *fld[11];
		if (ah_csvline_split(line, ',', fld, 10) != 10) {
			set_err(err, err_len, "%s:%ld: expected 10 fields", path, lineno);
			rc = AH_EPARSE;
			goto out;
		}
		if (n == NAB_CSV_MAX_ROWS) {
			set_err(err, err_len, "%s:%ld: more than %d rows", path, lineno, NAB_CSV_MAX_ROWS);
			rc = AH_ETOOBIG;
			goto out;
		}
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			ah_nab_result_row *nr = realloc(rows, nc * sizeof(*nr));
			if (!nr) {
				rc = AH_ENOMEM;
				goto out;
			}
			rows = nr;
			cap = nc;
		}
		ah_nab_result_row *r = &rows[n];
		memset(r, 0, sizeof(*r));
		int totals = !strcmp(fld[0], "Totals");
		const char *name = totals ? "Totals" : fld[2];
		if (strlen(name) >= sizeof(r->file)) {
			set_err(err, err_len, "%s:%ld: File too long", path, lineno);
			rc = AH_ETOOBIG;
			goto out;
		}
		strcpy(r->file, name);
		r->threshold = NAN;
		if ((!totals && parse_double(fld[3], &r->threshold)) || parse_double(fld[4], &r->score) ||
		    parse_long(fld[5], &r->tp) || parse_long(fld[6], &r->tn) ||
		    parse_long(fld[7], &r->fp) || parse_long(fld[8], &r->fn) ||
		    parse_long(fld[9], &r->total)) {
			set_err(err, err_len, "%s:%ld: bad number in Threshold..Total_Count", path,
				lineno);
			rc = AH_EPARSE;
			goto out;
		}
		n++;
	}
	if (rc < 0) {
		set_err(err, err_len, "%s", ah_csvline_error(&in));
		goto out;
	}
	*rows_out = rows;
	*n_out = n;
	rows = NULL;
out:
	free(rows);
	fclose(f);
	return rc;
}
