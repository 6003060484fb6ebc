/* The host this daemon runs on (observe.h): the observe mode's rounds from
 * the server's loop, and what it does (GET /v1/host, /metrics). */
#include <jansson.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/timestamp.h"
#include "server/api_int.h"
#include "server/observe.h"

void ah_api_observe(ah_api *a, int64_t mono_ns, int64_t wall_ns)
{
	if (!a)
		return;
	if (!a->observer && ah_observer_new(&a->observer) < 0)
		return;
	ah_observer_tick(a->observer, ah_service_policy_get(a->svc), ah_service_db_path(a->svc), mono_ns, wall_ns);
}

int64_t ah_api_observe_next_ns(const ah_api *a)
{
	return a ? ah_observer_next_ns(a->observer) : INT64_MAX;
}

void api_host_get(api_call *c)
{
	ah_observer_stats st;
	ah_observer_stats_get(c->a->observer, &st);
	const ah_linux_policy *cfg = &ah_service_policy_get(c->a->svc)->linux_host;
	char last[48] = "";
	if (st.last_ns && ah_time_format_exact(st.last_ns - st.last_ns % 1000000, last, sizeof last) < 0)
		last[0] = '\0';
	json_t *globs = json_array();
	for (int i = 0; i < cfg->n_observe; i++)
		json_array_append_new(globs, json_string(cfg->observe[i]));
	json_t *o = json_pack("{s:b,s:o,s:I,s:b,s:I,s:I,s:I,s:I,s:f,s:s?}", "observing", st.on, "globs", globs,
			      "interval_ms", (json_int_t)(cfg->interval_ns / 1000000), "host", cfg->host,
			      "cgroups", (json_int_t)st.cgroups, "rounds", (json_int_t)st.samples, "records",
			      (json_int_t)st.records, "errors", (json_int_t)st.errors, "last_round_s", st.last_sample_s,
			      "last_round", last[0] ? last : NULL);
	if (!o) {
		api_error_rc(c, AH_ENOMEM, "host");
		return;
	}
	api_reply(c, 200, o);
}
