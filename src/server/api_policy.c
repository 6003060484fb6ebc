/* /v1/policy: get (the applied policy as `policy show -o json` prints it,
 * with its text and generation as resourceVersion) and put (validate, then
 * apply atomically; a stale resourceVersion is a 409). SIGHUP re-reads the
 * daemon's policy file through the same path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "server/api_int.h"

static uint64_t generation(ah_api *a)
{
	uint64_t gen = 0;
	(void)ah_ledger_policy_generation(ah_service_ledger_get(a->svc), &gen);
	return gen;
}

void api_policy_get(api_call *c)
{
	char *text = NULL;
	int64_t at = 0;
	char err[512];
	int rc = ah_service_policy_text(ah_service_db_path(c->a->svc), &text, &at, err, sizeof err);
	if (rc < 0) {
		api_error_rc(c, rc, "policy");
		return;
	}
	json_t *o = ah_json_policy(ah_service_policy_get(c->a->svc), "current", NULL);
	json_object_set_new(o, "applied_at", ah_json_time(at));
	json_object_set_new(o, "text", ah_json_text(text));
	api_set_version(o, (int64_t)generation(c->a));
	free(text);
	api_reply(c, 200, o);
}

bool api_apply_policy_text(api_call *c, const char *text, const char *name)
{
	char err[1024];
	ah_policy *p = NULL;
	int rc = ah_service_policy_apply(ah_service_db_path(c->a->svc), text, strlen(text), name, c->now_ns, &p, err,
					 sizeof err);
	ah_policy_free(p);
	if (rc < 0) {
		json_t *safe = ah_json_text(err);
		int status = rc == AH_EPARSE || rc == AH_EPOLICY || rc == AH_ETOOBIG ? 422 : rc == AH_EBUSY ? 409 : 500;
		api_error(c, status, status == 422 ? "invalid_policy" : status == 409 ? "conflict" : "internal", "policy",
			  "%s", json_string_value(safe));
		json_decref(safe);
		return false;
	}
	rc = ah_service_sync(c->a->svc, c->now_ns);
	if (rc < 0) {
		api_error_rc(c, rc, "the applied policy");
		return false;
	}
	api_touch_all_pools(c->a);
	api_versions_refresh(c->a);
	return true;
}

static const char *const PUT_FIELDS[] = {"text", "resourceVersion", NULL};

void api_policy_put(api_call *c)
{
	const char *text = NULL;
	bool has;
	/* text/plain: the body is the policy file itself */
	char *own = NULL;
	if (c->rq->content_type && !strncmp(c->rq->content_type, "text/plain", 10)) {
		json_decref(c->body);
		c->body = NULL;
		if (!(own = malloc(c->rq->body_len + 1))) {
			api_error_rc(c, AH_ENOMEM, "policy");
			return;
		}
		memcpy(own, c->rq->body ? c->rq->body : "", c->rq->body_len);
		own[c->rq->body_len] = '\0';
		if (strlen(own) != c->rq->body_len) {
			free(own);
			api_error(c, 400, "invalid", "text", "the policy text holds a NUL byte");
			return;
		}
		text = own;
	} else {
		if (!api_body_check(c, PUT_FIELDS))
			return;
		/* Not api_body_string: that is for names and refuses control
		 * characters, and a policy is lines. JSON strings are valid
		 * UTF-8; the policy parser checks the rest. */
		json_t *tv = json_object_get(c->body, "text");
		has = tv && !json_is_null(tv);
		if (!has) {
			api_error(c, 400, "invalid", "text", "text (the policy file's content) is required");
			return;
		}
		if (!json_is_string(tv)) {
			api_error(c, 400, "invalid", "text", "text: must be a string (the policy file's content)");
			return;
		}
		text = json_string_value(tv);
		if (json_string_length(tv) > AH_POLICY_MAX_BYTES || strlen(text) != json_string_length(tv)) {
			api_error(c, 400, "invalid", "text", "text: %s",
				  strlen(text) != json_string_length(tv) ? "holds a NUL character" : "larger than the policy cap");
			return;
		}
	}
	const char *v = c->body ? api_body_version(c) : api_arg(c, "resourceVersion");
	char cur[32];
	snprintf(cur, sizeof cur, "%llu", (unsigned long long)generation(c->a));
	if (v && strcmp(v, cur)) {
		api_error(c, 409, "conflict", "resourceVersion",
			  "the policy changed since that resourceVersion (now %s); read it again", cur);
	} else if (api_apply_policy_text(c, text, "API: PUT /v1/policy")) {
		json_t *o = ah_json_policy(ah_service_policy_get(c->a->svc), "applied", NULL);
		api_set_version(o, (int64_t)generation(c->a));
		api_reply(c, 200, o);
	}
	free(own);
}

int ah_api_reload_policy(ah_api *a, const char *path, int64_t now_ns, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open", path);
		return AH_EIO;
	}
	char *buf = malloc((size_t)AH_POLICY_MAX_BYTES + 1);
	size_t n = buf ? fread(buf, 1, (size_t)AH_POLICY_MAX_BYTES + 1, f) : 0;
	bool bad = ferror(f);
	fclose(f);
	if (!buf || bad || n > AH_POLICY_MAX_BYTES) {
		snprintf(err, errlen, "%s: %s", path, !buf ? "out of memory" : bad ? "read error" : "larger than the policy cap");
		free(buf);
		return bad ? AH_EIO : AH_ETOOBIG;
	}
	buf[n] = '\0';
	ah_policy *p = NULL;
	int rc = ah_service_policy_apply(ah_service_db_path(a->svc), buf, n, path, now_ns, &p, err, errlen);
	ah_policy_free(p);
	free(buf);
	if (rc == 0)
		rc = ah_service_sync(a->svc, now_ns);
	if (rc == 0) {
		api_touch_all_pools(a);
		api_versions_refresh(a);
	}
	return rc;
}
