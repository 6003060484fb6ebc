/* The decision's JSON (include/ahead/encode.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ahead/encode.h"

void ah_fmt_time(int64_t ns, char *buf, size_t len)
{
	time_t s = (time_t)(ns / 1000000000LL);
	int ms = (int)((ns % 1000000000LL) / 1000000);
	struct tm tm;
	if (ns < 0 || !gmtime_r(&s, &tm)) {
		snprintf(buf, len, "-");
		return;
	}
	char tmp[32];
	strftime(tmp, sizeof tmp, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", tmp, ms);
}

json_t *ah_json_decision(const ah_policy *pol, const ah_decision *d, const char *workload,
			 const ah_shadow_prediction_info *pi)
{
	char res[1024] = "", t1[40] = "", pred[1024] = "";
	ah_vec_format(&pol->dims, &d->res, res, sizeof res);
	if (d->predicted)
		ah_vec_format(&pol->dims, &d->prediction, pred, sizeof pred);
	json_t *o = json_object();
	static const char *names[] = {"granted", "queued", "refused"};
	json_object_set_new(o, "outcome", json_string(names[d->outcome]));
	if (d->outcome != AH_REFUSED) {
		json_object_set_new(o, "id", json_integer((json_int_t)d->id));
		json_object_set_new(o, "resources", json_string(res));
	}
	if (d->outcome == AH_GRANTED) {
		ah_fmt_time(d->lease_expires_ns, t1, sizeof t1);
		json_object_set_new(o, "lease_expires", json_string(t1));
		json_object_set_new(o, "lease_expires_ns", json_integer(d->lease_expires_ns));
		json_object_set_new(o, "preempted", json_integer(d->n_preempted));
	} else if (d->outcome == AH_QUEUED) {
		ah_fmt_time(d->queue_deadline_ns, t1, sizeof t1);
		json_object_set_new(o, "position", json_integer(d->queue_position));
		json_object_set_new(o, "deadline", json_string(t1));
	} else {
		json_object_set_new(o, "reason", json_string(ah_reason_code(d->reason)));
		json_object_set_new(o, "message", json_string(d->message));
	}
	json_t *corr = json_array();
	if (d->corrections[0]) {
		char buf[sizeof d->corrections];
		strcpy(buf, d->corrections);
		for (char *sv, *tok = strtok_r(buf, ";", &sv); tok; tok = strtok_r(NULL, ";", &sv))
			json_array_append_new(corr, json_string(tok[0] == ' ' ? tok + 1 : tok));
	}
	json_object_set_new(o, "corrections", corr);
	if (workload)
		json_object_set_new(o, "workload", json_string(workload));
	json_object_set_new(o, "predicted", json_boolean(d->predicted));
	if (d->predicted) {
		json_object_set_new(o, "prediction", json_string(pred));
		if (pi) {
			json_t *by = json_object();
			json_object_set_new(o, "prediction_quantile", json_real(pi->q));
			for (int i = 0; i < pi->n_dims && i < pol->dims.n; i++) {
				if (pi->dim[i].source == AH_PSH_NONE)
					continue;
				json_t *x = json_object();
				json_object_set_new(x, "value", json_integer(d->prediction.v[i]));
				json_object_set_new(x, "source", json_string(ah_psh_source_name(pi->dim[i].source)));
				json_object_set_new(x, "n", json_integer((json_int_t)pi->dim[i].n));
				json_object_set_new(by, pol->dims.name[i], x);
			}
			json_object_set_new(o, "prediction_by_dim", by);
		}
	}
	return o;
}

json_t *ah_json_renew(uint64_t id, const ah_renew_outcome *ro)
{
	char t[40];
	ah_fmt_time(ro->expires_ns, t, sizeof t);
	json_t *o = json_pack("{s:I,s:s,s:s,s:I,s:b}", "id", (json_int_t)id, "status", "renewed", "lease_expires", t,
			      "lease_ttl_ns", (json_int_t)ro->ttl_ns, "capped", ro->capped);
	if (o && ro->capped) {
		json_object_set_new(o, "capped_by", json_string("max_lease_ttl"));
		json_object_set_new(o, "asked_ns", json_integer(ro->asked_ns));
		json_object_set_new(o, "max_lease_ttl_ns", json_integer(ro->max_ns));
	}
	return o;
}
