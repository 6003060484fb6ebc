/* Seeing what the loop holds: one allocation described, and what a
 * workload should be given (include/ahead/service.h). Read-only. */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "ahead/error.h"
#include "service/service_int.h"

/* Counts the resizes and keeps the newest few, oldest first. */
static int count_resize(void *ctx, const ah_event_row *ev)
{
	ah_service_description *d = ctx;
	d->n_resizes++;
	if (ev->t_ns > d->last_resize_ns)
		d->last_resize_ns = ev->t_ns;
	if (d->n_recent == AH_SERVICE_RESIZES_SHOWN) {
		memmove(&d->recent[0], &d->recent[1], sizeof d->recent[0] * (AH_SERVICE_RESIZES_SHOWN - 1));
		d->n_recent--;
	}
	ah_service_resize *r = &d->recent[d->n_recent++];
	r->t_ns = ev->t_ns;
	snprintf(r->resources, sizeof r->resources, "%s", ev->resources ? ev->resources : "");
	snprintf(r->why, sizeof r->why, "%s", ev->detail ? ev->detail : "");
	return 0;
}

/* The allocation's own newest report per dimension, from its record (not
 * the workload's series, which every allocation of the workload shares). */
static void last_usage(const ah_dimset *ds, ah_service_description *d)
{
	d->last_usage_ns = -1;
	for (int i = 0; i < AH_MAX_DIMS; i++)
		d->last_usage.v[i] = AH_USAGE_NONE;
	for (int k = 0; k < d->record.n_dims; k++) {
		const ah_shadow_req_dim *x = &d->record.dims[k];
		int i = ah_dimset_find(ds, x->dim);
		if (i < 0 || isnan(x->last) || x->last < 0 || x->last_ns < 0)
			continue;
		d->last_usage.v[i] = x->last >= (double)AH_VALUE_MAX ? AH_VALUE_MAX : (int64_t)ceil(x->last);
		d->have_last = true;
		if (x->last_ns > d->last_usage_ns)
			d->last_usage_ns = x->last_ns;
	}
}

/* The request's own parameters (not ahead's bookkeeping), "k=v,...". */
static void user_params(const ah_shadow_request *r, char *buf, size_t len)
{
	size_t w = 0;
	buf[0] = '\0';
	for (int i = 0; i < r->n_params; i++) {
		if (ah_shadow_param_reserved(r->params[i].key))
			continue;
		int k = snprintf(buf + w, len - w, "%s%s=%s", w ? "," : "", r->params[i].key, r->params[i].value);
		if (k < 0 || (size_t)k >= len - w) {
			buf[w] = '\0';
			return;
		}
		w += (size_t)k;
	}
}

static bool predictor_ready(ah_service *s)
{
	return ah_service_shadow(s, false) && (s->pred || ah_shadow_predictor_new(s->sh, NULL, &s->pred) == 0);
}

static int predict_at(ah_service *s, const char *workload, const char *params, double q, ah_vec *v,
		      ah_shadow_prediction_info *info);

/* History is best effort: a missing or broken store leaves these out. */
static void describe_history(ah_service *s, ah_service_description *d)
{
	if (!ah_service_shadow(s, false) || ah_shadow_alloc_find(s->sh, d->item.id, &d->record) < 0)
		return;
	d->have_record = true;
	last_usage(&s->pol->dims, d);
	int k = ah_policy_find_class(s->pol, d->item.klass);
	char params[AH_PARAMS_MAX + 1];
	user_params(&d->record, params, sizeof params);
	if (k >= 0 && predictor_ready(s) &&
	    predict_at(s, d->record.workload, params, s->pol->classes[k].quantile, &d->model_prediction, &d->model) == 0)
		d->have_model = true;
}

int ah_service_describe(ah_service *s, uint64_t id, int64_t now_ns, ah_service_description *out)
{
	if (!out)
		return AH_EINVAL;
	int rc = ah_service_prepare(s, now_ns);
	if (rc < 0)
		return rc;
	ah_service_description *d = calloc(1, sizeof *d);
	if (!d)
		return AH_ENOMEM;
	if ((rc = ah_engine_get(s->eng, id, &d->item)) < 0)
		goto out;
	d->last_resize_ns = -1;
	ah_event_query q = {.id = id, .kinds = 1u << AH_EV_RESIZE};
	if ((rc = ah_ledger_events(s->led, &q, count_resize, d)) < 0) {
		rc = ah_service_after(s, rc);
		goto out;
	}
	describe_history(s, d);
	*out = *d;
out:
	free(d);
	return rc;
}

static int predict_at(ah_service *s, const char *workload, const char *params, double q, ah_vec *v,
		      ah_shadow_prediction_info *info)
{
	if (params && !*params)
		params = NULL;
	return ah_shadow_predictor_predict(s->pred, workload, params, q, &s->pol->dims, v, info);
}

/* How far past predictions were from the peaks of ended requests. */
typedef struct {
	const ah_dimset *ds;
	ah_service_recommendation *r;
	double abs_sum[AH_MAX_DIMS];
	size_t under[AH_MAX_DIMS];
} score_ctx;

static int score_record(void *ctx, const ah_shadow_request *rq)
{
	score_ctx *c = ctx;
	for (int k = 0; k < rq->n_dims; k++) {
		const ah_shadow_req_dim *x = &rq->dims[k];
		int d = ah_dimset_find(c->ds, x->dim);
		if (d < 0 || isnan(x->peak) || isnan(x->predicted) || x->predicted <= 0)
			continue;
		c->r->dim[d].n_scored++;
		c->abs_sum[d] += fabs(x->peak - x->predicted) / x->predicted;
		c->under[d] += x->peak > x->predicted;
	}
	return 0;
}

static void score_history(ah_service *s, const char *workload, ah_service_recommendation *r)
{
	score_ctx c = {.ds = &s->pol->dims, .r = r};
	if (ah_shadow_request_each_ended(s->sh, workload, "ahead.lost", 512, score_record, &c) < 0)
		return; /* best effort: the recommendation stands without it */
	for (int d = 0; d < r->n_dims; d++)
		if (r->dim[d].n_scored) {
			r->dim[d].mean_abs_error = c.abs_sum[d] / (double)r->dim[d].n_scored;
			r->dim[d].under_rate = (double)c.under[d] / (double)r->dim[d].n_scored;
		}
}

int ah_service_recommend(ah_service *s, const char *workload, const char *params, const char *klass,
			 ah_service_recommendation *out, char *err, size_t errlen)
{
	if (!workload || !out)
		return AH_EINVAL;
	const ah_policy *pol = s->pol;
	int c = klass ? ah_policy_find_class(pol, klass) : pol->default_class;
	if (c < 0) {
		snprintf(err, errlen, "no class '%.64s' in the policy", klass);
		return AH_ENOENT;
	}
	if (!predictor_ready(s)) {
		snprintf(err, errlen, "workload '%.128s' has no history (no usage history store %.200s); import history "
			 "or run it with --workload first", workload, s->shadow_path);
		return AH_ENOENT;
	}
	ah_service_recommendation r;
	memset(&r, 0, sizeof r);
	r.q_target = pol->classes[c].quantile;
	r.q_lower = 0.5 < r.q_target ? 0.5 : r.q_target;
	r.q_upper = 0.99 > r.q_target ? 0.99 : r.q_target;
	r.n_dims = pol->dims.n;
	ah_vec lo, mid, hi;
	ah_shadow_prediction_info info;
	int rc = predict_at(s, workload, params, r.q_target, &mid, &info);
	if (rc == 0)
		rc = predict_at(s, workload, params, r.q_lower, &lo, NULL);
	if (rc == 0)
		rc = predict_at(s, workload, params, r.q_upper, &hi, NULL);
	if (rc == AH_ENOENT) {
		snprintf(err, errlen, "workload '%.128s' has no history in %.200s; import history or run it with --workload",
			 workload, s->shadow_path);
		return rc;
	}
	if (rc < 0) {
		snprintf(err, errlen, "history of '%.128s' unreadable: %s", workload, ah_strerror(rc));
		return rc;
	}
	for (int d = 0; d < pol->dims.n && d < info.n_dims; d++) {
		if (info.dim[d].source == AH_PSH_NONE)
			continue;
		r.dim[d].known = true;
		r.dim[d].lower = lo.v[d];
		r.dim[d].target = mid.v[d];
		r.dim[d].upper = hi.v[d];
		r.dim[d].source = info.dim[d].source;
		r.dim[d].n = info.dim[d].n;
	}
	score_history(s, workload, &r);
	*out = r;
	return 0;
}
