/* The request path: admission with prediction, release, renewal, usage
 * reports and ticks, each followed by the usage-history bookkeeping
 * (docs/SHADOW.md, "Predict, then reserve"). The ledger has the answer
 * before history is written: history is best effort, never a gate. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/ledger_etcd.h"
#include "ahead/shadow_alloc.h"
#include "ahead/sizing_sizer.h"
#include "service/service_int.h"

/* A broken shadow store must not refuse requests: the engine refuses a
 * request whose prediction fails, but a storage fault in the history is not
 * the requester's fault, so it reads as "nothing known" (the stated
 * resources stand) and is reported as a warning. */
static int predict(void *ctx, const char *workload, const char *params, double q, const ah_dimset *dims,
		   ah_vec *out)
{
	ah_service *s = ctx;
	int rc = ah_shadow_predictor_predict(s->pred_use, workload, params, q, dims, out, NULL);
	if (rc < 0 && rc != AH_ENOENT) {
		s->pred_err = rc;
		return AH_ENOENT;
	}
	return rc;
}

/* For the shadow sweep: is the allocation (or queued request) still held? */
static bool engine_live(void *ctx, uint64_t id)
{
	ah_engine_item it;
	/* Only a definite "no such allocation" closes a record. */
	return ah_engine_get(ctx, id, &it) != AH_ENOENT;
}

/* Closes the shadow records of allocations that ended without a release
 * (expired, preempted, timed out in the queue). */
static size_t sweep(ah_service *s, int64_t now_ns)
{
	size_t closed = 0;
	if (!s->sh)
		return 0;
	int rc = ah_shadow_alloc_sweep(s->sh, now_ns, engine_live, s->eng, 0, &closed);
	if (rc < 0)
		ah_service_warn(s, "shadow store: records of ended allocations not closed (%s)", ah_strerror(rc));
	return rc < 0 ? 0 : closed;
}

static void use_predictor(ah_service *s, const ah_request *rq, int64_t now_ns)
{
	ah_engine_set_predictor(s->eng, NULL);
	s->pred_use = NULL;
	if (!rq->workload)
		return;
	/* The first request of a workload creates the store: its record is
	 * how the history of that workload begins. */
	bool local = ah_service_shadow(s, true) != NULL;
	if (ah_ledger_is_etcd(s->led)) {
		/* a shared ledger: every instance sizes from what is published */
		s->pred_use = ah_service_shared_predictor(s, rq->workload, now_ns);
	} else {
		if (!local || (!s->pred && ah_shadow_predictor_new(s->sh, NULL, &s->pred) < 0))
			return;
		s->pred_use = s->pred;
	}
	if (!s->pred_use)
		return;
	ah_predictor pr = {.ctx = s, .predict = predict};
	ah_engine_set_predictor(s->eng, &pr);
}

/* The record keeps what was predicted and by which model (the model at
 * grant: what the history would pick later may differ). */
static bool record_begin(ah_service *s, const ah_request *rq, const ah_service_decision *sd, int64_t now_ns)
{
	const ah_decision *d = &sd->d;
	ah_shadow_req_dim sized[AH_MAX_DIMS];
	int64_t req;
	memset(sized, 0, sizeof sized);
	for (int i = 0; sd->have_info && i < sd->info.n_dims && i < s->pol->dims.n; i++) {
		if (sd->info.dim[i].source == AH_PSH_NONE)
			continue;
		snprintf(sized[i].model, sizeof sized[i].model, "%s", ah_psh_source_name(sd->info.dim[i].source));
		sized[i].model_n = sd->info.dim[i].n > INT64_MAX ? INT64_MAX : (int64_t)sd->info.dim[i].n;
	}
	int rc = ah_shadow_alloc_begin(s->sh, d->id, rq->workload, rq->params ? rq->params : "", now_ns,
				       &s->pol->dims, d->predicted ? &d->prediction : NULL, sized, &req);
	if (rc < 0)
		ah_service_warn(s, "%llu: not recorded in the shadow store (%s); its usage will not be learned",
				(unsigned long long)d->id, ah_strerror(rc));
	return rc >= 0;
}

/* A request that states nothing and names a workload the history knows
 * nothing of asks for nothing because of that: say so, and how to fix it. */
static void no_history(ah_service *s, const ah_request *rq, ah_decision *d)
{
	if (d->outcome != AH_REFUSED || d->reason != AH_R_INVALID || d->predicted || !rq->workload ||
	    !ah_vec_is_zero(&rq->res, s->pol->dims.n))
		return;
	const char *where = s->shadow_path[0] ? s->shadow_path : "the usage history";
	snprintf(d->message, sizeof d->message, "workload '%.64s' has no history in %.120s; give --res or import history",
		 rq->workload, where);
}

/* The replicas' decisions, then each one's bookkeeping. */
static int request_n(ah_service *s, const ah_request *rq, int n, int64_t now_ns, ah_decision *d,
		     ah_service_decision *out)
{
	int rc = ah_service_prepare(s, now_ns);
	if (rc < 0)
		return rc;
	s->pred_err = 0;
	use_predictor(s, rq, now_ns);
	/* A shared ledger (etcd) refuses a commit when another instance
	 * committed since this one loaded (AH_EBUSY, nothing written): reload
	 * and decide again, a bounded number of times. In a batch the caller
	 * retries the whole batch. */
	for (int attempt = 0;; attempt++) {
		rc = ah_service_after(s, ah_engine_request_replicas(s->eng, rq, n, now_ns, d));
		if (rc != AH_EBUSY || s->in_batch || attempt == AH_SERVICE_BUSY_RETRIES ||
		    ah_service_prepare(s, now_ns) < 0)
			break;
		use_predictor(s, rq, now_ns); /* the reload built a new engine */
	}
	ah_engine_set_predictor(s->eng, NULL);
	if (rc < 0)
		return rc;
	if (s->pred_err)
		ah_service_warn(s, "prediction for %s failed (%s); sized by the stated resources", rq->workload,
				ah_strerror(s->pred_err));
	/* every replica was sized by the same prediction */
	ah_shadow_prediction_info info;
	bool have_info = d[0].predicted && s->pred_use && ah_shadow_predictor_last(s->pred_use, &info) == 0;
	for (int i = 0; i < n; i++) {
		ah_service_decision *sd = &out[i];
		memset(sd, 0, sizeof *sd);
		sd->d = d[i];
		sd->workload = rq->workload;
		if ((sd->have_info = have_info && sd->d.predicted))
			sd->info = info;
		no_history(s, rq, &sd->d);
		if (sd->d.outcome != AH_REFUSED && sd->d.id) {
			bool rec = s->sh && rq->workload && record_begin(s, rq, sd, now_ns);
			/* its release looks for a record only when one was begun */
			ah_service_recset_note_grant(&s->records, sd->d.id, rec);
		}
	}
	/* A long-lived service sweeps at most once a second here (and at every
	 * tick): the sweep visits every open record. */
	if (s->last_sweep_ns == INT64_MIN || now_ns - s->last_sweep_ns >= INT64_C(1000000000) || now_ns < s->last_sweep_ns) {
		s->last_sweep_ns = now_ns;
		sweep(s, now_ns);
	}
	return 0;
}

int ah_service_request_replicas(ah_service *s, const ah_request *rq, int n, int64_t now_ns,
				ah_service_decision *out)
{
	if (!rq || !out || n < 1 || n > AH_PLACE_REPLICAS_MAX)
		return AH_EINVAL;
	ah_decision *d = calloc((size_t)n, sizeof(*d));
	ah_service_decision *sd = calloc((size_t)n, sizeof(*sd));
	int rc = AH_ENOMEM;
	if (!d || !sd)
		goto out;
	rc = request_n(s, rq, n, now_ns, d, sd);
	if (rc == 0)
		memcpy(out, sd, sizeof(*sd) * (size_t)n);
out:
	free(d);
	free(sd);
	return rc;
}

int ah_service_replicas_lead(const ah_service_decision *sd, int n)
{
	int queued = -1;
	for (int i = 0; i < n; i++) {
		if (sd[i].d.outcome == AH_REFUSED)
			return i;
		if (sd[i].d.outcome == AH_QUEUED && queued < 0)
			queued = i;
	}
	return queued >= 0 ? queued : 0;
}

int ah_service_request(ah_service *s, const ah_request *rq, int64_t now_ns, ah_service_decision *out)
{
	if (!rq || !out)
		return AH_EINVAL;
	ah_decision d;
	ah_service_decision sd;
	int rc = request_n(s, rq, 1, now_ns, &d, &sd);
	if (rc == 0)
		*out = sd;
	return rc;
}

int ah_service_release(ah_service *s, uint64_t id, int64_t now_ns)
{
	int rc = ah_service_prepare(s, now_ns);
	if (rc < 0)
		return rc;
	for (int attempt = 0;; attempt++) { /* AH_EBUSY: as in ah_service_request */
		rc = ah_service_after(s, ah_engine_release(s->eng, id, now_ns));
		if (rc != AH_EBUSY || s->in_batch || attempt == AH_SERVICE_BUSY_RETRIES ||
		    ah_service_prepare(s, now_ns) < 0)
			break;
	}
	if (rc < 0)
		return rc;
	/* Ends the allocation's request record, if it has one: what its
	 * reports raised becomes a training example. */
	if (ah_service_recset_may_have(&s->records, id) && ah_service_shadow(s, false)) {
		int src = ah_shadow_alloc_end(s->sh, id, now_ns);
		if (src < 0 && src != AH_ENOENT)
			ah_service_warn(s, "%llu: request record not ended in the shadow store (%s)",
					(unsigned long long)id, ah_strerror(src));
	}
	return 0;
}

int ah_service_renew_lease(ah_service *s, uint64_t id, int64_t ttl_ns, int64_t now_ns, ah_renew_outcome *out)
{
	int rc = ah_service_prepare(s, now_ns);
	if (rc < 0)
		return rc;
	ah_renew_outcome o;
	if ((rc = ah_service_after(s, ah_engine_renew_lease(s->eng, id, ttl_ns, now_ns, &o))) < 0)
		return rc;
	if (out)
		*out = o;
	return 0;
}

int ah_service_renew(ah_service *s, uint64_t id, int64_t ttl_ns, int64_t now_ns, int64_t *out_expires_ns)
{
	ah_renew_outcome o;
	int rc = ah_service_renew_lease(s, id, ttl_ns, now_ns, &o);
	if (rc == 0 && out_expires_ns)
		*out_expires_ns = o.expires_ns;
	return rc;
}

static uint32_t measured_dims(const ah_policy *pol, const ah_vec *usage)
{
	uint32_t m = 0;
	for (int d = 0; d < pol->dims.n && d < 32; d++)
		if (usage->v[d] != AH_USAGE_NONE)
			m |= UINT32_C(1) << d;
	return m;
}

int ah_service_report(ah_service *s, uint64_t id, const ah_vec *usage, int64_t now_ns, ah_service_report_out *out)
{
	if (!usage || !out)
		return AH_EINVAL;
	int rc = ah_service_prepare(s, now_ns);
	if (rc < 0)
		return rc;
	ah_service_report_out r;
	memset(&r, 0, sizeof r);
	uint32_t present = measured_dims(s->pol, usage);
	ah_service_shadow(s, false);
	ah_sizing_sizer *sizer = NULL;
	int zr = ah_service_sizing_prepare(s, id, now_ns, present, &sizer);
	if (zr < 0)
		ah_service_warn(s, "sizing policy unavailable (%s); the built-in rule decides", ah_strerror(zr));
	rc = ah_service_after(s, ah_engine_report_usage(s->eng, id, usage, now_ns, &r.o));
	ah_engine_set_sizer(s->eng, NULL);
	ah_sizing_sizer_free(sizer);
	if (rc < 0)
		return rc;
	if (s->sh) {
		int src = ah_shadow_alloc_report(s->sh, id, now_ns, &s->pol->dims, usage, present, r.workload);
		if (src < 0 && src != AH_ENOENT)
			ah_service_warn(s, "%llu: usage not recorded in the shadow store (%s)", (unsigned long long)id,
					ah_strerror(src));
		if (src < 0)
			r.workload[0] = '\0';
	}
	*out = r;
	return 0;
}

int ah_service_tick(ah_service *s, int64_t now_ns, ah_service_tick_out *out)
{
	int rc = ah_service_prepare(s, now_ns);
	if (rc < 0)
		return rc;
	ah_service_tick_out t = {0};
	t.live_before = ah_engine_alloc_count(s->eng) + ah_engine_queue_count(s->eng);
	if ((rc = ah_service_after(s, ah_engine_tick(s->eng, now_ns))) < 0)
		return rc;
	if (ah_service_shadow(s, false))
		t.records_closed = sweep(s, now_ns);
	t.allocs = ah_engine_alloc_count(s->eng);
	t.queued = ah_engine_queue_count(s->eng);
	if (out)
		*out = t;
	return 0;
}
