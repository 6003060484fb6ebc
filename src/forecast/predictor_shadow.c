/* ahead: predictions from the shadow store and the feedback that feeds it
 * (see include/ahead/predictor_shadow.h).
 *
 * Everything goes through the shadow store's public API (shadow.h): the
 * newest ended records of a workload (ah_shadow_request_each_ended), the
 * open record of an allocation (ah_shadow_request_find_open on
 * ahead.alloc), a usage report merged into it (ah_shadow_request_observe),
 * and multi-call operations made all-or-nothing with ah_shadow_scope_*, so
 * they nest inside a caller's transaction as the store's own calls do. */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/forecast.h"
#include "ahead/predictor_shadow.h"

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

typedef struct {
	const ah_dimset *dims;
	ah_cond_model **m;
	ah_cond_opts co;
	char *params; /* PARAMS_TEXT_MAX bytes */
} train_ctx;

static int train_one(void *ctx, const ah_shadow_request *r)
{
	train_ctx *c = ctx;
	int rc;
	/* The model sorts the pairs itself; a record whose params do not fit
	 * the text teaches nothing (as one the model refuses, below). */
	if (join_params(r->params, r->n_params, c->params, PARAMS_TEXT_MAX))
		return 0;
	for (int k = 0; k < r->n_dims; k++) {
		double peak = r->dims[k].peak;
		int i = ah_dimset_find(c->dims, r->dims[k].dim);
		if (i < 0 || !isfinite(peak) || !(peak > 0))
			continue;
		if (!c->m[i] && (rc = ah_cond_new(&c->co, &c->m[i])))
			return rc;
		rc = ah_cond_observe(c->m[i], c->params, peak);
		/* A record the model cannot read (params recorded by hand with
		 * characters it refuses, or past its caps) teaches nothing; it
		 * must not stop every prediction of the workload. */
		if (rc && rc != AH_EINVAL && rc != AH_ETOOBIG)
			return rc;
	}
	return 0;
}

/* Feeds the workload's newest ended records with an observed peak into one
 * conditioned model per dimension, oldest first (so a group's ring drops
 * the oldest). Swept records (ahead.lost) are left out: their peak may be
 * partial. */
static int train(ah_shadow_predictor *p, const char *workload, const ah_dimset *dims, ah_cond_model **m)
{
	train_ctx c = {.dims = dims, .m = m, .co = {.max_per_group = p->o.max_requests}};
	int rc;
	c.params = malloc(PARAMS_TEXT_MAX);
	if (!c.params)
		return AH_ENOMEM;
	rc = ah_shadow_request_each_ended(p->s, workload, AH_PSH_LOST_KEY, p->o.max_requests, train_one, &c);
	free(c.params);
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
	char val[24];
	snprintf(val, sizeof val, "%" PRIu64, alloc_id);
	return ah_shadow_request_find_open(s, AH_PSH_ALLOC_KEY, val, out_id);
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

int ah_shadow_alloc_report(ah_shadow *s, uint64_t alloc_id, int64_t t_ns, const ah_dimset *dims,
			   const ah_vec *usage, uint32_t present_mask, char *out_workload)
{
	ah_shadow_request *r = NULL;
	const char *names[AH_MAX_DIMS];
	double vals[AH_MAX_DIMS];
	int64_t req = 0;
	int rc, n = 0;
	ah_shadow_scope sc;
	if (!s || !dims || !usage || dims->n < 0 || dims->n > AH_MAX_DIMS)
		return AH_EINVAL;
	if (t_ns < 0 || t_ns > AH_SHADOW_T_MAX)
		return AH_ERANGE;
	for (int i = 0; i < dims->n; i++) {
		if (!(present_mask & (UINT32_C(1) << i)))
			continue;
		names[n] = dims->name[i];
		vals[n++] = (double)usage->v[i];
	}
	r = malloc(sizeof(*r));
	if (!r)
		return AH_ENOMEM;
	/* One scope: the record found is the record the report lands in. */
	if ((rc = ah_shadow_scope_begin(s, &sc))) {
		free(r);
		return rc;
	}
	if ((rc = find_open(s, alloc_id, &req)) || (rc = ah_shadow_request_get(s, req, r)))
		goto out;
	rc = ah_shadow_request_observe(s, req, AH_PSH_REPORTS_KEY, t_ns, names, vals, n);
out:
	rc = ah_shadow_scope_end(s, &sc, rc);
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

struct open_rec {
	int64_t id, start_ns;
	uint64_t alloc;
};

typedef struct {
	struct open_rec *v;
	size_t n;
} open_ctx;

static int collect_open(void *ctx, const ah_shadow_request *r)
{
	open_ctx *c = ctx;
	const char *a = NULL;
	char *e;
	/* A record that already has every parameter slot was made by hand:
	 * ours leave one for ahead.lost. */
	if (r->n_params >= AH_SHADOW_MAX_PARAMS)
		return 0;
	for (int i = 0; i < r->n_params; i++)
		if (!strcmp(r->params[i].key, AH_PSH_ALLOC_KEY))
			a = r->params[i].value;
	unsigned long long id = a ? strtoull(a, &e, 10) : 0;
	if (!a || *e || !id)
		return 0; /* not one of ours: a hand-made record */
	c->v[c->n].id = r->id;
	c->v[c->n].start_ns = r->start_ns;
	c->v[c->n].alloc = id;
	c->n++;
	return 0;
}

int ah_shadow_alloc_sweep(ah_shadow *s, int64_t end_ns, bool (*live)(void *ctx, uint64_t alloc_id), void *ctx,
			  size_t max, size_t *out_closed)
{
	open_ctx c = {0};
	size_t closed = 0;
	ah_shadow_scope sc;
	int rc;
	if (!s || !live)
		return AH_EINVAL;
	if (end_ns < 0 || end_ns > AH_SHADOW_T_MAX)
		return AH_ERANGE;
	if (!max)
		max = 1000;
	c.v = calloc(max, sizeof(*c.v));
	if (!c.v)
		return AH_ENOMEM;
	if ((rc = ah_shadow_scope_begin(s, &sc))) {
		free(c.v);
		return rc;
	}
	/* Collected first, closed after: the visit must not see its own
	 * writes. */
	if ((rc = ah_shadow_request_each_open(s, AH_PSH_ALLOC_KEY, max, collect_open, &c)))
		goto out;
	for (size_t i = 0; i < c.n && rc == 0; i++) {
		if (live(ctx, c.v[i].alloc))
			continue;
		if ((rc = ah_shadow_request_set_param(s, c.v[i].id, AH_PSH_LOST_KEY, "1")) ||
		    (rc = ah_shadow_request_end(s, c.v[i].id, end_ns < c.v[i].start_ns ? c.v[i].start_ns : end_ns,
						NULL, 0)))
			break;
		closed++;
	}
out:
	rc = ah_shadow_scope_end(s, &sc, rc);
	free(c.v);
	if (rc == 0 && out_closed)
		*out_closed = closed;
	return rc;
}
