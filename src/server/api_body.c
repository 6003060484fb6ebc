/* Reading what a client sent: JSON members, query arguments and path ids,
 * each through the project's one grammar for its kind (names, durations,
 * units, ids, parameters), with a 400 that names the field. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ahead/duration.h"
#include "ahead/error.h"
#include "ahead/id.h"
#include "ahead/names.h"
#include "ahead/usage.h"
#include "server/api_int.h"

const char *api_arg(const api_call *c, const char *key)
{
	for (int i = 0; i < c->rq->n_args; i++)
		if (c->rq->args[i].key && !strcmp(c->rq->args[i].key, key))
			return c->rq->args[i].value ? c->rq->args[i].value : "";
	return NULL;
}

bool api_body_check(api_call *c, const char *const *allowed)
{
	if (!c->body) {
		c->body = json_object();
		return c->body != NULL;
	}
	const char *k;
	json_t *v;
	json_object_foreach(c->body, k, v)
	{
		bool ok = false;
		for (int i = 0; allowed[i] && !ok; i++)
			ok = !strcmp(allowed[i], k);
		if (!ok) {
			json_t *safe = ah_json_text(k);
			api_error(c, 400, "unknown_field", json_string_value(safe), "unknown field '%.64s'",
				  json_string_value(safe));
			json_decref(safe);
			return false;
		}
	}
	return true;
}

static bool valid_text(api_call *c, const char *field, const char *s, size_t len, size_t max)
{
	const char *why = NULL;
	if (len > max) {
		api_error(c, 400, "invalid", field, "%s: longer than %zu bytes", field, max);
		return false;
	}
	if (strlen(s) != len || ah_name_check_text(s, len, &why) < 0) {
		api_error(c, 400, "invalid", field, "%s: %s", field, why ? why : "not valid UTF-8 text");
		return false;
	}
	return true;
}

bool api_body_string(api_call *c, const char *field, size_t max, const char **out, bool *present)
{
	json_t *v = json_object_get(c->body, field);
	*present = v && !json_is_null(v);
	if (!*present)
		return true;
	if (!json_is_string(v)) {
		api_error(c, 400, "invalid", field, "%s: must be a string", field);
		return false;
	}
	if (!valid_text(c, field, json_string_value(v), json_string_length(v), max))
		return false;
	*out = json_string_value(v);
	return true;
}

/* One dimension's value: an integer in the base unit, or a string in the
 * unit grammar ("500m", "1.5Gi"). */
static bool dim_value(api_call *c, const ah_dimset *ds, int i, json_t *v, const char *field, int64_t *out)
{
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		if (n < 0) {
			api_error(c, 400, "invalid", field, "%s: must not be negative", field);
			return false;
		}
		*out = (int64_t)n;
		return true;
	}
	if (json_is_string(v)) {
		int rc = ah_unit_parse(ds->kind[i], json_string_value(v), out);
		if (rc < 0 || *out < 0) {
			json_t *safe = ah_json_text(json_string_value(v));
			api_error(c, 400, "invalid", field, "%s: '%.40s' is not a %s quantity", field,
				  json_string_value(safe), ah_unit_kind_name(ds->kind[i]));
			json_decref(safe);
			return false;
		}
		return true;
	}
	api_error(c, 400, "invalid", field, "%s: must be an integer in the base unit or a quantity string", field);
	return false;
}

bool api_body_vec(api_call *c, const char *field, bool usage, ah_vec *out, bool *present)
{
	const ah_dimset *ds = &ah_service_policy_get(c->a->svc)->dims;
	json_t *o = json_object_get(c->body, field);
	*present = o && !json_is_null(o);
	for (int i = 0; i < AH_MAX_DIMS; i++)
		out->v[i] = usage ? AH_USAGE_NONE : 0;
	if (!*present)
		return true;
	if (!json_is_object(o)) {
		api_error(c, 400, "invalid", field, "%s: must be an object of dimensions", field);
		return false;
	}
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		char f[AH_NAME_MAX + 32];
		json_t *safe = ah_json_text(k);
		snprintf(f, sizeof f, "%s.%.64s", field, json_string_value(safe));
		json_decref(safe);
		int i = ah_dimset_find(ds, k);
		if (i < 0) {
			api_error(c, 400, "unknown_dimension", f, "%s: the policy has no such dimension", f);
			return false;
		}
		if (!dim_value(c, ds, i, v, f, &out->v[i]))
			return false;
	}
	return true;
}

bool api_body_duration(api_call *c, const char *field, int64_t *out_ns, bool *present)
{
	json_t *v = json_object_get(c->body, field);
	*present = v && !json_is_null(v);
	if (!*present)
		return true;
	if (json_is_string(v)) {
		if (ah_duration_parse(json_string_value(v), out_ns) < 0) {
			api_error(c, 400, "invalid", field, "%s: not a duration (e.g. 30s, 5m, 1.5h)", field);
			return false;
		}
		return true;
	}
	if (json_is_number(v)) {
		double s = json_number_value(v);
		if (!(s >= 0) || s > 1e9) {
			api_error(c, 400, "invalid", field, "%s: seconds between 0 and 1e9", field);
			return false;
		}
		*out_ns = (int64_t)llround(s * 1e9);
		return true;
	}
	api_error(c, 400, "invalid", field, "%s: a duration string or seconds", field);
	return false;
}

/* Parameters as an object of strings, joined "k=v,k2=v2" in key order. */
bool api_body_params(api_call *c, const char *field, char *out, size_t len)
{
	json_t *o = json_object_get(c->body, field);
	out[0] = '\0';
	if (!o || json_is_null(o))
		return true;
	if (!json_is_object(o)) {
		api_error(c, 400, "invalid", field, "%s: must be an object of strings", field);
		return false;
	}
	size_t w = 0;
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		if (!json_is_string(v)) {
			api_error(c, 400, "invalid", field, "%s.%.64s: must be a string", field, k);
			return false;
		}
		int n = snprintf(out + w, len - w, "%s%s=%s", w ? "," : "", k, json_string_value(v));
		if (n < 0 || (size_t)n >= len - w) {
			api_error(c, 400, "invalid", field, "%s: longer than %zu bytes in all", field, len - 1);
			return false;
		}
		w += (size_t)n;
	}
	char err[256];
	if (w && ah_shadow_params_check(out, err, sizeof err) < 0) {
		json_t *safe = ah_json_text(err);
		api_error(c, 400, "invalid", field, "%s: %s", field, json_string_value(safe));
		json_decref(safe);
		return false;
	}
	return true;
}

const char *api_body_version(api_call *c)
{
	json_t *v = json_object_get(c->body, "resourceVersion");
	if (json_is_string(v))
		return json_string_value(v);
	return api_arg(c, "resourceVersion");
}

bool api_path_id(api_call *c, uint64_t *out)
{
	if (!c->param || ah_id_parse(c->param, out) < 0) {
		api_error(c, 404, "not_found", NULL, "no allocation '%.32s' (ids are positive decimal integers)",
			  c->param ? c->param : "");
		return false;
	}
	return true;
}

bool api_sees_tenant(const api_call *c, const char *tenant)
{
	return c->who->role != AH_ROLE_TENANT || (tenant && !strcmp(tenant, c->who->tenant));
}

json_t *api_json_list(ah_api *a, json_t *items)
{
	json_t *o = json_object();
	char v[32];
	snprintf(v, sizeof v, "%lld", (long long)a->ver.last_seq);
	json_object_set_new(o, "resourceVersion", json_string(v));
	json_object_set_new(o, "items", items);
	return o;
}

void api_set_version(json_t *o, int64_t v)
{
	char s[32];
	snprintf(s, sizeof s, "%lld", (long long)v);
	json_object_set_new(o, "resourceVersion", json_string(s));
}
