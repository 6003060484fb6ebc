/* ahead: an elected role on etcd (include/ahead/etcd_election.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ahead/error.h"
#include "ahead/etcd_election.h"
#include "store/etcd_client.h"

struct ah_election {
	etcd_client *c;
	char key[320];      /* PREFIX/KEY, absolute */
	char rel[64];
	char name[128];
	int ttl_s;
	int64_t lease;      /* 0: none yet (or lapsed) */
	int64_t token;      /* the create revision of the key while held */
	char errmsg[512];
};

int ah_election_new(const char *endpoints, const char *prefix, const char *key, const char *name, int ttl_s,
		    long timeout_ms, ah_election **out, char *err, size_t errlen)
{
	if (!endpoints || !prefix || !key || !*key || strlen(key) >= 64 || ttl_s < 2 || !out)
		return AH_EINVAL;
	ah_election *e = calloc(1, sizeof *e);
	if (!e)
		return AH_ENOMEM;
	int rc = etcd_client_new(endpoints, timeout_ms > 0 ? timeout_ms : 2000, &e->c, err, errlen);
	if (rc < 0) {
		free(e);
		return rc;
	}
	snprintf(e->key, sizeof e->key, "%s/%s", prefix, key);
	snprintf(e->rel, sizeof e->rel, "%s", key);
	if (name && *name) {
		snprintf(e->name, sizeof e->name, "%s", name);
	} else {
		char host[64] = "host";
		gethostname(host, sizeof host - 1);
		snprintf(e->name, sizeof e->name, "%s-%ld", host, (long)getpid());
	}
	e->ttl_s = ttl_s;
	*out = e;
	return 0;
}

static int fail(ah_election *e, int rc)
{
	snprintf(e->errmsg, sizeof e->errmsg, "%s", etcd_client_errmsg(e->c));
	return rc;
}

/* A live lease: kept alive, or granted again when it lapsed. */
static int lease_alive(ah_election *e)
{
	json_t *rq, *r = NULL;
	int rc;
	if (e->lease) {
		rq = json_pack("{sI}", "ID", (json_int_t)e->lease);
		rc = etcd_call(e->c, "/v3/lease/keepalive", rq, &r);
		json_decref(rq);
		if (rc < 0)
			return fail(e, rc);
		json_t *res = json_object_get(r, "result");
		bool alive = etcd_i64(res ? res : r, "TTL") > 0;
		json_decref(r);
		if (alive)
			return 0;
		e->lease = 0; /* lapsed: the key went with it */
		e->token = 0;
	}
	rq = json_pack("{sI}", "TTL", (json_int_t)e->ttl_s);
	rc = etcd_call(e->c, "/v3/lease/grant", rq, &r);
	json_decref(rq);
	if (rc < 0)
		return fail(e, rc);
	e->lease = etcd_i64(r, "ID");
	json_decref(r);
	return 0;
}

int ah_election_step(ah_election *e, ah_election_state *out)
{
	if (!e || !out)
		return AH_EINVAL;
	memset(out, 0, sizeof *out);
	int rc = lease_alive(e);
	if (rc < 0)
		return rc;
	/* create the key if absent, else read it: one transaction */
	json_t *put = json_pack("{s:o,s:o,s:I}", "key", etcd_b64s(e->key), "value", etcd_b64s(e->name), "lease",
				(json_int_t)e->lease);
	json_t *get = json_pack("{s:o}", "key", etcd_b64s(e->key));
	json_t *rq = json_pack("{s:[{s:o,s:s,s:s,s:i}],s:[{s:o}],s:[{s:o}]}", "compare", "key", etcd_b64s(e->key),
			       "result", "EQUAL", "target", "CREATE", "create_revision", 0, "success", "requestPut", put,
			       "failure", "requestRange", get);
	json_t *r = NULL;
	rc = etcd_call(e->c, "/v3/kv/txn", rq, &r);
	json_decref(rq);
	if (rc < 0)
		return fail(e, rc);
	if (json_is_true(json_object_get(r, "succeeded"))) {
		e->token = etcd_revision(r); /* the put's revision is the key's create revision */
		out->mine = true;
		out->token = e->token;
		snprintf(out->holder, sizeof out->holder, "%s", e->name);
		json_decref(r);
		return 0;
	}
	json_t *resp = json_array_get(json_object_get(r, "responses"), 0);
	json_t *kv = json_array_get(json_object_get(json_object_get(resp, "response_range"), "kvs"), 0);
	if (kv) {
		char *v = NULL;
		size_t n;
		const char *b = json_string_value(json_object_get(kv, "value"));
		if (b && etcd_unb64(b, &v, &n) == 0)
			snprintf(out->holder, sizeof out->holder, "%s", v);
		free(v);
		out->token = etcd_i64(kv, "create_revision");
		out->mine = etcd_i64(kv, "lease") == e->lease && e->lease;
		e->token = out->mine ? out->token : 0;
	}
	json_decref(r);
	return 0;
}

void ah_election_free(ah_election *e, bool resign)
{
	if (!e)
		return;
	if (resign && e->lease) {
		/* revoking the lease deletes the key it holds */
		json_t *rq = json_pack("{sI}", "ID", (json_int_t)e->lease), *r = NULL;
		if (etcd_call(e->c, "/v3/lease/revoke", rq, &r) == 0)
			json_decref(r);
		json_decref(rq);
	}
	etcd_client_free(e->c);
	free(e);
}

const char *ah_election_errmsg(const ah_election *e)
{
	return e ? e->errmsg : "";
}

const char *ah_election_key(const ah_election *e)
{
	return e ? e->rel : "";
}
