/* ahead: predictions from the shadow store (see
 * include/ahead/predictor_shadow.h): the request-conditioned model and the
 * series quantile (src/forecast) over the store's records and series,
 * read through its public API (shadow.h, shadow_alloc.h for the reserved
 * bookkeeping keys). */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/forecast.h"
#include "ahead/predictor_shadow.h"
#include "ahead/shadow_alloc.h"

/* The loop's params check (shadow_alloc.h) bounds what the model reads. */
_Static_assert(AH_SHADOW_PARAMS_TEXT_MAX == AH_COND_MAX_PARAMS, "params text bounds must agree");

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

/* Joins the non-reserved params as "k=v,k2=v2" (the canonical text both the
 * model's training and its queries see, so spacing cannot split a group). */
static int join_params(const ah_shadow_param *pv, int n, char *buf, size_t len)
{
	size_t w = 0;
	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (ah_shadow_param_reserved(pv[i].key))
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
		if (!ah_shadow_param_reserved(pv[i].key) && (rc = ah_shadow_param_value_check(&pv[i], NULL, 0)))
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
	rc = ah_shadow_request_each_ended(p->s, workload, AH_SHADOW_LOST_KEY, p->o.max_requests, train_one, &c);
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
	if ((rc = ah_name_check_workload(workload)))
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
