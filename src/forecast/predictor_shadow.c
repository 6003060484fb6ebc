/* ahead: predictions from the shadow store and the feedback that feeds it
 * (see include/ahead/predictor_shadow.h).
 *
 * Three queries here are not in the shadow store's public API: "the newest
 * N ended records of a workload" (the API lists oldest first, which would
 * freeze learning once N records exist), "the open record whose parameter
 * ahead.alloc is ID" (the API needs the workload, which a usage report does
 * not know), and "raise an open record's running peak" (the API only writes
 * figures when a record ends). They use the store's own connection and
 * transaction helpers (store/shadow_int.h), so they share its transactions
 * and schema version check; every other access goes through shadow.h. */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/forecast.h"
#include "ahead/predictor_shadow.h"
#include "store/shadow_int.h"

#define DEF_MAX_REQUESTS 512
#define DEF_MAX_SAMPLES 1024
#define DEF_MIN_SAMPLES 3
#define CAP_MAX_REQUESTS 100000
#define CAP_MAX_SAMPLES 1000000
/* A series query stops after this many points per kept point, so a long
 * dense history read while looking back for a sparse recent one stays
 * bounded. */
#define SCAN_FACTOR 64
/* Looking back for max_samples points: a window of max_samples buckets,
 * widened this many times by this factor while it holds too few. */
#define LOOKBACK_TRIES 4
#define LOOKBACK_GROWTH 16
/* Canonical params text: 16 pairs of at most 63 + 127 bytes, '=' and ','. */
#define PARAMS_TEXT_MAX (AH_SHADOW_MAX_PARAMS * (AH_SHADOW_PARAM_KEY_MAX + AH_SHADOW_PARAM_VALUE_MAX))

struct ah_shadow_predictor {
	ah_shadow *s;
	ah_shadow_predictor_opts o;
	bool has_last;
	ah_shadow_prediction_info last;
};

static bool is_reserved(const char *key)
{
	return strncmp(key, AH_PSH_RESERVED_PREFIX, sizeof(AH_PSH_RESERVED_PREFIX) - 1) == 0;
}

static void seterr(char *err, size_t len, const char *fmt, const char *a)
{
	if (err && len)
		snprintf(err, len, fmt, a);
}

/* The conditioned model's value rules on top of the store's: it splits
 * groups on ';' and '|' and needs a value to tell numbers from categories. */
static int check_cond_value(const ah_shadow_param *p, char *err, size_t errlen)
{
	if (!p->value[0]) {
		seterr(err, errlen, "%s: empty value", p->key);
		return AH_EINVAL;
	}
	if (strpbrk(p->value, "=;|")) {
		seterr(err, errlen, "%s: value may not contain '=', ';' or '|'", p->key);
		return AH_EINVAL;
	}
	return 0;
}

int ah_shadow_params_check(const char *params, char *err, size_t errlen)
{
	ah_shadow_param pv[AH_SHADOW_MAX_PARAMS];
	int n = 0, rc;
	if (!params || !*params)
		return 0;
	if (strlen(params) >= AH_COND_MAX_PARAMS) {
		seterr(err, errlen, "params: longer than %s bytes", "1023");
		return AH_ETOOBIG;
	}
	if ((rc = ah_shadow_params_parse(params, pv, &n, err, errlen)))
		return rc;
	if (n > AH_PSH_MAX_USER_PARAMS) {
		if (err && errlen)
			snprintf(err, errlen, "params: more than %d parameters", AH_PSH_MAX_USER_PARAMS);
		return AH_ETOOBIG;
	}
	for (int i = 0; i < n; i++) {
		if (is_reserved(pv[i].key)) {
			seterr(err, errlen, "%s: keys starting with '" AH_PSH_RESERVED_PREFIX "' are reserved", pv[i].key);
			return AH_EINVAL;
		}
		if ((rc = check_cond_value(&pv[i], err, errlen)))
			return rc;
	}
	return 0;
}

/* Joins the non-reserved params as "k=v,k2=v2" (the canonical text both the
 * model's training and its queries see, so spacing cannot split a group). */
static int join_params(const ah_shadow_param *pv, int n, char *buf, size_t len)
{
	size_t w = 0;
	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (is_reserved(pv[i].key))
			continue;
		int k = snprintf(buf + w, len - w, "%s%s=%s", w ? "," : "", pv[i].key, pv[i].value);
		if (k < 0 || (size_t)k >= len - w)
			return AH_ETOOBIG;
		w += (size_t)k;
	}
	return 0;
}

/* Request params as the model sees them; reserved keys are dropped. */
static int clean_params(const char *params, char *buf, size_t len)
{
	ah_shadow_param pv[AH_SHADOW_MAX_PARAMS];
	int n = 0, rc;
	if ((rc = ah_shadow_params_parse(params ? params : "", pv, &n, NULL, 0)))
		return rc;
	for (int i = 0; i < n; i++)
		if (!is_reserved(pv[i].key) && (rc = check_cond_value(&pv[i], NULL, 0)))
			return rc;
	return join_params(pv, n, buf, len);
}

const char *ah_psh_source_name(ah_psh_source s)
{
	switch (s) {
	case AH_PSH_REGRESSION:
		return "regression";
	case AH_PSH_GROUP:
		return "group";
	case AH_PSH_WORKLOAD:
		return "workload";
	case AH_PSH_SERIES:
		return "series";
	default:
		return "none";
	}
}

int ah_shadow_predictor_new(ah_shadow *s, const ah_shadow_predictor_opts *opts, ah_shadow_predictor **out)
{
	ah_shadow_predictor_opts o = {0};
	if (!s || !out)
		return AH_EINVAL;
	if (opts)
		o = *opts;
	if (o.max_requests > CAP_MAX_REQUESTS || o.max_samples > CAP_MAX_SAMPLES ||
	    (o.max_samples && o.min_samples > o.max_samples))
		return AH_ERANGE;
	if (!o.max_requests)
		o.max_requests = DEF_MAX_REQUESTS;
	if (!o.max_samples)
		o.max_samples = DEF_MAX_SAMPLES;
	if (!o.min_samples)
		o.min_samples = DEF_MIN_SAMPLES < o.max_samples ? DEF_MIN_SAMPLES : o.max_samples;
	ah_shadow_predictor *p = calloc(1, sizeof(*p));
	if (!p)
		return AH_ENOMEM;
	p->s = s;
	p->o = o;
	*out = p;
	return 0;
}

void ah_shadow_predictor_free(ah_shadow_predictor *p)
{
	free(p);
}

/* Feeds the workload's newest ended records with an observed peak into one
 * conditioned model per dimension. One statement reads them all, oldest
 * first (so a group's ring would drop the oldest), each row a (record,
 * dimension) with the record's non-reserved params joined "k=v,..." (the
 * model sorts the pairs itself). */
static int train(ah_shadow_predictor *p, const char *workload, const ah_dimset *dims, ah_cond_model **m)
{
	sqlite3_stmt *st = NULL;
	ah_cond_opts co = {.max_per_group = p->o.max_requests};
	int rc, x;
	rc = sh_err(sqlite3_prepare_v2(
		p->s->db,
		"WITH last AS (SELECT id, start_ns FROM request r WHERE workload = ?1 AND end_ns IS NOT NULL"
		" AND NOT EXISTS (SELECT 1 FROM request_param WHERE req = r.id AND key = '" AH_PSH_LOST_KEY "')"
		" ORDER BY start_ns DESC, id DESC LIMIT ?2)"
		" SELECT (SELECT group_concat(key || '=' || value, ',') FROM request_param"
		"  WHERE req = l.id AND substr(key, 1, 6) <> '" AH_PSH_RESERVED_PREFIX "'),"
		" d.dim, d.peak FROM last l JOIN request_dim d ON d.req = l.id"
		" WHERE d.peak > 0 ORDER BY l.start_ns, l.id",
		-1, &st, NULL));
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, workload, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)p->o.max_requests);
	while ((x = sqlite3_step(st)) == SQLITE_ROW) {
		const char *params = (const char *)sqlite3_column_text(st, 0);
		const char *dim = (const char *)sqlite3_column_text(st, 1);
		double peak = sqlite3_column_double(st, 2);
		int i = dim ? ah_dimset_find(dims, dim) : -1;
		if (i < 0 || !isfinite(peak))
			continue;
		if (!m[i] && (rc = ah_cond_new(&co, &m[i])))
			goto out;
		rc = ah_cond_observe(m[i], params ? params : "", peak);
		/* A record the model cannot read (params recorded by hand with
		 * characters it refuses, or past its caps) teaches nothing; it
		 * must not stop every prediction of the workload. */
		if (rc == AH_EINVAL || rc == AH_ETOOBIG)
			rc = 0;
		if (rc)
			goto out;
	}
	if (x != SQLITE_DONE)
		rc = sh_err(x);
out:
	sqlite3_finalize(st);
	return rc;
}

typedef struct {
	double *ring;
	size_t cap, n, pos, scanned, scan_cap;
} ring_ctx;

static int ring_push(void *ctx, const ah_shadow_point *pt)
{
	ring_ctx *c = ctx;
	/* A bucket's max is the peak a reservation had to cover. */
	c->ring[c->pos] = isfinite(pt->max) ? pt->max : pt->mean;
	c->pos = (c->pos + 1) % c->cap;
	if (c->n < c->cap)
		c->n++;
	return ++c->scanned >= c->scan_cap ? 1 : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The conformal q-quantile of the newest points' maxima: the
 * ceil((n+1)q)-th smallest, so a next value exchangeable with them lies at
 * or below it with probability >= q (the largest when n is too small). */
static int series_quantile(ah_shadow_predictor *p, const char *workload, const char *dim, double q, double *out,
			   size_t *out_n)
{
	int64_t sid;
	ah_shadow_series_info si;
	ring_ctx c = {.cap = p->o.max_samples, .scan_cap = p->o.max_samples * SCAN_FACTOR};
	int rc = ah_shadow_series_find(p->s, workload, dim, &sid);
	if (rc)
		return rc;
	if ((rc = ah_shadow_series_info_get(p->s, sid, &si)))
		return rc;
	if (si.last_ns < 0)
		return AH_ENOENT;
	c.ring = malloc(c.cap * sizeof(double));
	if (!c.ring)
		return AH_ENOMEM;
	int64_t span = si.granularity_ns;
	span = (int64_t)c.cap > INT64_MAX / span ? INT64_MAX : span * (int64_t)c.cap;
	for (int tries = 0; tries < LOOKBACK_TRIES; tries++) {
		int64_t from = si.last_ns - span < si.first_ns ? si.first_ns : si.last_ns - span;
		c.n = c.pos = c.scanned = 0;
		rc = ah_shadow_query(p->s, sid, from, si.last_ns + 1, 0, ring_push, &c);
		if (rc < 0)
			goto out;
		rc = 0;
		if (c.n >= c.cap || from <= si.first_ns)
			break;
		span = span > INT64_MAX / LOOKBACK_GROWTH ? INT64_MAX : span * LOOKBACK_GROWTH;
	}
	if (c.n < p->o.min_samples) {
		rc = AH_ENOENT;
		goto out;
	}
	qsort(c.ring, c.n, sizeof(double), cmp_double);
	size_t k = (size_t)ceil((double)(c.n + 1) * q);
	if (k < 1)
		k = 1;
	if (k > c.n)
		k = c.n;
	*out = c.ring[k - 1];
	*out_n = c.n;
out:
	free(c.ring);
	return rc;
}

static int64_t to_units(double v)
{
	if (!(v > 0))
		return 0;
	if (v >= (double)AH_VALUE_MAX)
		return AH_VALUE_MAX;
	/* Rounded up, but the regression's float noise (its ridge and
	 * exp(log(x)) leave ~1e-9 relative: 500 usage predicts 500.000002) must
	 * not add a unit: within 1e-8 of a whole unit it is that unit. */
	double r = nearbyint(v);
	if (fabs(v - r) <= 1e-8 * v && r > 0)
		return (int64_t)r;
	return (int64_t)ceil(v);
}

int ah_shadow_predictor_predict(ah_shadow_predictor *p, const char *workload, const char *params, double q,
				const ah_dimset *dims, ah_vec *out, ah_shadow_prediction_info *info)
{
	ah_cond_model *m[AH_MAX_DIMS] = {0};
	char *qparams = NULL;
	ah_shadow_prediction_info inf = {0};
	ah_vec v = {0};
	int rc, known = 0;
	if (!p || !dims || !out || !(q > 0 && q < 1) || dims->n < 0 || dims->n > AH_MAX_DIMS)
		return AH_EINVAL;
	if ((rc = ah_shadow_check_workload(workload)))
		return rc;
	qparams = malloc(PARAMS_TEXT_MAX);
	if (!qparams)
		return AH_ENOMEM;
	if ((rc = clean_params(params, qparams, PARAMS_TEXT_MAX)))
		goto out;
	if ((rc = train(p, workload, dims, m)))
		goto out;
	inf.q = q;
	inf.n_dims = dims->n;
	for (int i = 0; i < dims->n; i++) {
		double val = 0, point;
		if (m[i]) {
			ah_cond_info ci;
			rc = ah_cond_predict(m[i], qparams, &q, 1, &point, &val, &ci);
			if (rc == 0) {
				inf.dim[i].source = ci.source == AH_COND_REGRESSION ? AH_PSH_REGRESSION
						    : ci.source == AH_COND_GROUP    ? AH_PSH_GROUP
										    : AH_PSH_WORKLOAD;
				inf.dim[i].n = ci.n;
			} else if (rc != AH_ENOENT) {
				goto out;
			}
		}
		if (inf.dim[i].source == AH_PSH_NONE) {
			size_t n = 0;
			rc = series_quantile(p, workload, dims->name[i], q, &val, &n);
			if (rc == 0) {
				inf.dim[i].source = AH_PSH_SERIES;
				inf.dim[i].n = n;
			} else if (rc != AH_ENOENT) {
				goto out;
			}
		}
		rc = 0;
		if (inf.dim[i].source != AH_PSH_NONE) {
			inf.dim[i].value = val;
			v.v[i] = to_units(val);
			known++;
		}
	}
	if (!known) {
		rc = AH_ENOENT;
		goto out;
	}
	p->last = inf;
	p->has_last = true;
	*out = v;
	if (info)
		*info = inf;
out:
	for (int i = 0; i < AH_MAX_DIMS; i++)
		ah_cond_free(m[i]);
	free(qparams);
	return rc;
}

static int predict_cb(void *ctx, const char *workload, const char *params, double q, const ah_dimset *dims,
		      ah_vec *out)
{
	return ah_shadow_predictor_predict(ctx, workload, params, q, dims, out, NULL);
}

void ah_shadow_predictor_bind(ah_shadow_predictor *p, ah_predictor *out)
{
	if (!out)
		return;
	out->ctx = p;
	out->predict = p ? predict_cb : NULL;
}

int ah_shadow_predictor_last(const ah_shadow_predictor *p, ah_shadow_prediction_info *out)
{
	if (!p || !out)
		return AH_EINVAL;
	if (!p->has_last)
		return AH_ENOENT;
	*out = p->last;
	return 0;
}

/* ---- feedback: one request record per allocation ---- */

int ah_shadow_alloc_begin(ah_shadow *s, uint64_t alloc_id, const char *workload, const char *params,
			  int64_t start_ns, const ah_dimset *dims, const ah_vec *predicted, int64_t *out_req_id)
{
	ah_shadow_request *r = NULL;
	int64_t id;
	int rc;
	if (!s || !alloc_id || alloc_id > INT64_MAX || !dims || dims->n < 0 || dims->n > AH_MAX_DIMS ||
	    !out_req_id)
		return AH_EINVAL;
	if ((rc = ah_shadow_check_workload(workload)) || (rc = ah_shadow_params_check(params, NULL, 0)))
		return rc;
	r = calloc(1, sizeof(*r));
	if (!r)
		return AH_ENOMEM;
	snprintf(r->workload, sizeof r->workload, "%s", workload);
	r->start_ns = start_ns;
	r->end_ns = -1;
	if ((rc = ah_shadow_params_parse(params ? params : "", r->params, &r->n_params, NULL, 0)))
		goto out;
	ah_shadow_param *a = &r->params[r->n_params++];
	snprintf(a->key, sizeof a->key, "%s", AH_PSH_ALLOC_KEY);
	snprintf(a->value, sizeof a->value, "%" PRIu64, alloc_id);
	for (int i = 0; i < dims->n; i++) {
		if (!predicted || predicted->v[i] <= 0)
			continue;
		ah_shadow_req_dim *d = &r->dims[r->n_dims++];
		snprintf(d->dim, sizeof d->dim, "%s", dims->name[i]);
		d->peak = d->mean = NAN;
		d->predicted = (double)predicted->v[i];
	}
	if ((rc = ah_shadow_request_add(s, r, &id)))
		goto out;
	*out_req_id = id;
out:
	free(r);
	return rc;
}

static int find_open(ah_shadow *s, uint64_t alloc_id, int64_t *out_id)
{
	sqlite3_stmt *st = NULL;
	char val[24];
	int rc, x;
	snprintf(val, sizeof val, "%" PRIu64, alloc_id);
	rc = sh_err(sqlite3_prepare_v2(s->db,
				       "SELECT r.id FROM request_param p JOIN request r ON r.id = p.req"
				       " WHERE p.key = ?1 AND p.value = ?2 AND r.end_ns IS NULL"
				       " ORDER BY r.id DESC LIMIT 1",
				       -1, &st, NULL));
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, AH_PSH_ALLOC_KEY, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, val, -1, SQLITE_TRANSIENT);
	x = sqlite3_step(st);
	if (x == SQLITE_ROW)
		*out_id = sqlite3_column_int64(st, 0);
	else
		rc = x == SQLITE_DONE ? AH_ENOENT : sh_err(x);
	sqlite3_finalize(st);
	return rc;
}

int ah_shadow_alloc_find(ah_shadow *s, uint64_t alloc_id, ah_shadow_request *out)
{
	int64_t id;
	int rc;
	if (!s || !out)
		return AH_EINVAL;
	if ((rc = find_open(s, alloc_id, &id)))
		return rc;
	return ah_shadow_request_get(s, id, out);
}

/* Raises the running peak and folds the sample into the running mean of
 * reports (weighted by the reports merged before; a report that omits a
 * dimension still counts, so that dimension's mean is approximate). */
static int merge_dim(ah_shadow *s, int64_t req, const char *dim, double v, int64_t before)
{
	sqlite3_stmt *st = NULL;
	int rc = sh_err(sqlite3_prepare_v2(
		s->db,
		"INSERT INTO request_dim(req, dim, peak, mean) VALUES(?1, ?2, ?3, ?3)"
		" ON CONFLICT(req, dim) DO UPDATE SET peak = max(coalesce(peak, excluded.peak), excluded.peak),"
		" mean = CASE WHEN mean IS NULL OR ?4 = 0 THEN excluded.mean"
		" ELSE (mean * ?4 + excluded.mean) / (?4 + 1) END",
		-1, &st, NULL));
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, req);
	sqlite3_bind_text(st, 2, dim, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 3, v);
	sqlite3_bind_int64(st, 4, before);
	rc = sh_err(sqlite3_step(st));
	sqlite3_finalize(st);
	return rc;
}

static int set_param(ah_shadow *s, int64_t req, const char *key, int64_t n)
{
	sqlite3_stmt *st = NULL;
	char val[24];
	int rc = sh_err(sqlite3_prepare_v2(s->db,
					   "INSERT INTO request_param(req, key, value) VALUES(?1, ?2, ?3)"
					   " ON CONFLICT(req, key) DO UPDATE SET value = excluded.value",
					   -1, &st, NULL));
	if (rc)
		return rc;
	snprintf(val, sizeof val, "%" PRId64, n);
	sqlite3_bind_int64(st, 1, req);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, val, -1, SQLITE_TRANSIENT);
	rc = sh_err(sqlite3_step(st));
	sqlite3_finalize(st);
	return rc;
}

int ah_shadow_alloc_report(ah_shadow *s, uint64_t alloc_id, int64_t t_ns, const ah_dimset *dims,
			   const ah_vec *usage, uint32_t present_mask, char *out_workload)
{
	ah_shadow_request *r = NULL;
	int64_t req = 0, before = 0;
	sh_tx tx;
	int rc;
	if (!s || !dims || !usage || dims->n < 0 || dims->n > AH_MAX_DIMS)
		return AH_EINVAL;
	if (t_ns < 0 || t_ns > AH_SHADOW_T_MAX)
		return AH_ERANGE;
	r = malloc(sizeof(*r));
	if (!r)
		return AH_ENOMEM;
	if ((rc = sh_tx_begin(s, &tx))) {
		free(r);
		return rc;
	}
	if ((rc = find_open(s, alloc_id, &req)) || (rc = ah_shadow_request_get(s, req, r)))
		goto out;
	for (int i = 0; i < r->n_params; i++)
		if (!strcmp(r->params[i].key, AH_PSH_REPORTS_KEY))
			before = strtoll(r->params[i].value, NULL, 10);
	if (before < 0)
		before = 0;
	for (int i = 0; i < dims->n && rc == 0; i++) {
		if (!(present_mask & (UINT32_C(1) << i)))
			continue;
		int64_t sid;
		double v = (double)usage->v[i];
		if ((rc = ah_shadow_series_ensure(s, r->workload, dims->name[i], 0, &sid)) ||
		    (rc = ah_shadow_append(s, sid, &t_ns, &v, 1)) ||
		    (rc = merge_dim(s, req, dims->name[i], v, before)))
			break;
	}
	if (rc == 0)
		rc = set_param(s, req, AH_PSH_REPORTS_KEY, before + 1);
out:
	rc = sh_tx_end(s, &tx, rc);
	if (rc == 0 && out_workload)
		snprintf(out_workload, AH_SHADOW_WORKLOAD_MAX, "%s", r->workload);
	free(r);
	return rc;
}

int ah_shadow_alloc_end(ah_shadow *s, uint64_t alloc_id, int64_t end_ns)
{
	ah_shadow_request *r = NULL;
	int rc;
	if (!s)
		return AH_EINVAL;
	r = malloc(sizeof(*r));
	if (!r)
		return AH_ENOMEM;
	if ((rc = ah_shadow_alloc_find(s, alloc_id, r)))
		goto out;
	/* A clock stepped back between grant and release must not lose the
	 * record: the end is at least the start. */
	rc = ah_shadow_request_end(s, r->id, end_ns < r->start_ns ? r->start_ns : end_ns, NULL, 0);
out:
	free(r);
	return rc;
}

int ah_shadow_alloc_sweep(ah_shadow *s, int64_t end_ns, bool (*live)(void *ctx, uint64_t alloc_id), void *ctx,
			  size_t max, size_t *out_closed)
{
	sqlite3_stmt *st = NULL;
	struct open_rec {
		int64_t id, start_ns;
		uint64_t alloc;
	} *v = NULL;
	size_t n = 0, closed = 0;
	sh_tx tx;
	int rc, x;
	if (!s || !live)
		return AH_EINVAL;
	if (end_ns < 0 || end_ns > AH_SHADOW_T_MAX)
		return AH_ERANGE;
	if (!max)
		max = 1000;
	v = calloc(max, sizeof(*v));
	if (!v)
		return AH_ENOMEM;
	if ((rc = sh_tx_begin(s, &tx))) {
		free(v);
		return rc;
	}
	rc = sh_err(sqlite3_prepare_v2(s->db,
				       "SELECT r.id, r.start_ns, p.value FROM request r JOIN request_param p"
				       " ON p.req = r.id AND p.key = ?1 WHERE r.end_ns IS NULL ORDER BY r.id LIMIT ?2",
				       -1, &st, NULL));
	if (rc)
		goto out;
	sqlite3_bind_text(st, 1, AH_PSH_ALLOC_KEY, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	while ((x = sqlite3_step(st)) == SQLITE_ROW && n < max) {
		const char *a = (const char *)sqlite3_column_text(st, 2);
		char *e;
		unsigned long long id = a ? strtoull(a, &e, 10) : 0;
		if (!a || *e || !id)
			continue; /* not one of ours: a hand-made record */
		v[n].id = sqlite3_column_int64(st, 0);
		v[n].start_ns = sqlite3_column_int64(st, 1);
		v[n].alloc = id;
		n++;
	}
	if (x != SQLITE_ROW && x != SQLITE_DONE)
		rc = sh_err(x);
	sqlite3_finalize(st);
	st = NULL;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (live(ctx, v[i].alloc))
			continue;
		if ((rc = set_param(s, v[i].id, AH_PSH_LOST_KEY, 1)) ||
		    (rc = ah_shadow_request_end(s, v[i].id, end_ns < v[i].start_ns ? v[i].start_ns : end_ns, NULL, 0)))
			break;
		closed++;
	}
out:
	sqlite3_finalize(st);
	rc = sh_tx_end(s, &tx, rc);
	free(v);
	if (rc == 0 && out_closed)
		*out_closed = closed;
	return rc;
}
