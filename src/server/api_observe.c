/* The host this daemon runs on (observe.h): the observe mode's rounds from
 * the server's loop, and what it does (GET /v1/host, /metrics). */
#include <jansson.h>
#include <string.h>

#include "ahead/encode.h"
#include "ahead/error.h"
#include "ahead/timestamp.h"
#include "server/api_int.h"
#include "server/enforce_api.h"
#include "server/observe.h"

void ah_api_observe(ah_api *a, int64_t mono_ns, int64_t wall_ns)
{
	if (!a)
		return;
	api_enf_tick(a, mono_ns, wall_ns); /* [linux] enforce_api */
	if (!a->observer && ah_observer_new(&a->observer) < 0)
		return;
	ah_observer_tick(a->observer, ah_service_policy_get(a->svc), ah_service_db_path(a->svc), mono_ns, wall_ns);
}

int64_t ah_api_observe_next_ns(const ah_api *a)
{
	if (!a)
		return INT64_MAX;
	int64_t o = ah_observer_next_ns(a->observer), e = api_enf_next_ns(a);
	return e < o ? e : o;
}

/* A shared ledger's watch as this instance last saw it (null: a ledger
 * with one owner, nothing to follow). */
static json_t *cluster_json(const ah_api *a)
{
	const ah_service_follow_out *f = &a->follow;
	if (!f->watching)
		return json_null();
	int64_t down_s = a->follow_down_mono_ns ? (api_mono_now_ns() - a->follow_down_mono_ns) / 1000000000 : 0;
	json_t *o = json_pack("{s:s,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "ledger", "etcd", "watch_up", f->up,
			      "view_revision", (json_int_t)f->view_rev, "watch_revision", (json_int_t)f->watch_rev, "lag_ms",
			      (json_int_t)(a->follow_lag_ns / 1000000), "reloads", (json_int_t)a->follow_reloads, "relists",
			      (json_int_t)f->relists, "restarts", (json_int_t)a->follow_restarts, "down_s", (json_int_t)down_s);
	if (o && f->endpoint[0])
		json_object_set_new(o, "endpoint", json_string(f->endpoint));
	if (o && !f->up && a->follow_err[0]) /* why it is down; absent while up */
		json_object_set_new(o, "error", json_string(a->follow_err));
	return o ? o : json_null();
}

/* Pools on nodes: the nodes this instance's engine knows, with what is
 * placed on each, and each node pool's fragmentation (empty off a fleet). */
static json_t *nodes_json(ah_api *a)
{
	const ah_engine *e = ah_service_engine_get(a->svc);
	const ah_policy *pol = ah_service_policy_get(a->svc);
	json_t *arr = json_array();
	for (int i = 0; arr && i < ah_engine_node_count(e); i++) {
		ah_engine_node_info ni;
		if (ah_engine_node_get(e, i, &ni) < 0 || !ni.known)
			continue;
		json_t *o = json_pack("{s:s,s:b,s:b,s:b,s:i,s:o,s:o}", "name", ni.name, "up", ni.up, "cordoned", ni.cordoned,
				      "draining", ni.draining, "allocations", ni.n_allocs, "capacity",
				      ah_json_vec(&pol->dims, ni.capacity, 0), "allocated", ah_json_vec(&pol->dims, ni.used, 0));
		if (o)
			json_array_append_new(arr, o);
	}
	return arr ? arr : json_null();
}

static json_t *fragmentation_json(ah_api *a)
{
	const ah_engine *e = ah_service_engine_get(a->svc);
	const ah_policy *pol = ah_service_policy_get(a->svc);
	json_t *arr = json_array();
	for (int p = 0; arr && p < pol->n_pools; p++) {
		ah_place_frag f;
		if (!pol->pools[p].nodes[0] || ah_engine_pool_fragmentation(e, p, &f) < 0)
			continue;
		json_t *st = json_object(), *sm = json_object();
		for (int k = 0; st && sm && k < pol->dims.n; k++) {
			json_object_set_new(st, pol->dims.name[k], json_real(f.stranded_pct[k] / 100));
			json_object_set_new(sm, pol->dims.name[k], json_real(f.small_pct[k] / 100));
		}
		json_t *o = st && sm ? json_pack("{s:s,s:o,s:o,s:i}", "pool", pol->pools[p].name, "stranded", st, "small", sm,
						"nodes_stranded", f.nodes_stranded)
				     : NULL;
		if (o)
			json_array_append_new(arr, o);
		else {
			json_decref(st);
			json_decref(sm);
		}
	}
	return arr ? arr : json_null();
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
	api_enf_stats es;
	api_enf_stats_get(c->a, &es);
	json_t *enf = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s?}", "mode", es.mode, "parent", es.parent,
				"cgroups", (json_int_t)es.st.held, "pending_removal", (json_int_t)es.st.pending_removal,
				"limit_writes", (json_int_t)es.st.writes, "write_errors", (json_int_t)es.st.write_errors,
				"dry_run_writes", (json_int_t)es.st.dry_run_writes, "drift", (json_int_t)es.st.drift,
				"orphans_removed", (json_int_t)es.st.orphans_removed, "last_error",
				es.error[0] ? es.error : NULL);
	if (o && enf)
		json_object_set_new(o, "enforce", enf);
	else
		json_decref(enf);
	if (o) {
		json_object_set_new(o, "cluster", cluster_json(c->a));
		json_object_set_new(o, "nodes", nodes_json(c->a));
		json_object_set_new(o, "fragmentation", fragmentation_json(c->a));
	}
	if (!o) {
		api_error_rc(c, AH_ENOMEM, "host");
		return;
	}
	api_reply(c, 200, o);
}
