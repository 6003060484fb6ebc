/* Seeing what the loop holds: one allocation described, and what a
 * workload should be given (include/ahead/service.h). Read-only. */
#include <string.h>

#include "ahead/error.h"
#include "service/service_int.h"

typedef struct {
	int n;
	int64_t last_ns;
} resize_count;

static int count_resize(void *ctx, const ah_event_row *ev)
{
	resize_count *c = ctx;
	c->n++;
	if (ev->t_ns > c->last_ns)
		c->last_ns = ev->t_ns;
	return 0;
}

int ah_service_describe(ah_service *s, uint64_t id, int64_t now_ns, ah_service_description *out)
{
	if (!out)
		return AH_EINVAL;
	int rc = ah_service_prepare(s, now_ns);
	if (rc < 0)
		return rc;
	ah_service_description d;
	memset(&d, 0, sizeof d);
	if ((rc = ah_engine_get(s->eng, id, &d.item)) < 0)
		return rc;
	resize_count rcnt = {0, -1};
	ah_event_query q = {.id = id, .kinds = 1u << AH_EV_RESIZE};
	if ((rc = ah_ledger_events(s->led, &q, count_resize, &rcnt)) < 0)
		return ah_service_after(s, rc);
	d.n_resizes = rcnt.n;
	d.last_resize_ns = rcnt.last_ns;
	/* history is best effort: a missing or broken store leaves no record */
	if (ah_service_shadow(s, false) && ah_shadow_alloc_find(s->sh, id, &d.record) == 0)
		d.have_record = true;
	*out = d;
	return 0;
}

static int predict_at(ah_service *s, const char *workload, const char *params, double q, ah_vec *v,
		      ah_shadow_prediction_info *info)
{
	return ah_shadow_predictor_predict(s->pred, workload, params, q, &s->pol->dims, v, info);
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
	if (!ah_service_shadow(s, false) || (!s->pred && ah_shadow_predictor_new(s->sh, NULL, &s->pred) < 0)) {
		snprintf(err, errlen, "workload '%.128s' has no history (no usage history store); import history or "
			 "run it with --workload first", workload);
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
		snprintf(err, errlen, "workload '%.128s' has no history; give --res or import history", workload);
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
	*out = r;
	return 0;
}
