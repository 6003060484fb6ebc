/* ahead: the cluster's state for `ahead cluster status`
 * (include/ahead/cluster_status.h), read through the v3 JSON gateway. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/cluster_status.h"
#include "ahead/error.h"
#include "store/etcd_client.h"

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

/* A uint64 field (member ids use the whole range; etcd sends a string). */
static uint64_t u64_of(const json_t *o, const char *field)
{
	const json_t *v = json_object_get(o, field);
	return json_is_string(v) ? strtoull(json_string_value(v), NULL, 10) : (uint64_t)json_integer_value(v);
}

/* The member list: names, ids, client URLs. */
static int members(etcd_client *c, ah_cluster_status *st)
{
	json_t *rq = json_object(), *r = NULL;
	int rc = etcd_call(c, "/v3/cluster/member/list", rq, &r);
	json_decref(rq);
	if (rc < 0)
		return rc;
	json_t *ms = json_object_get(r, "members"), *m;
	size_t i;
	json_array_foreach(ms, i, m)
	{
		if (st->n_members >= AH_CLUSTER_MEMBERS_MAX)
			break;
		ah_cluster_member *x = &st->member[st->n_members++];
		copy(x->name, sizeof x->name, json_string_value(json_object_get(m, "name")));
		snprintf(x->id, sizeof x->id, "%" PRIx64, u64_of(m, "ID"));
		json_t *urls = json_object_get(m, "clientURLs");
		copy(x->client_url, sizeof x->client_url, json_string_value(json_array_get(urls, 0)));
	}
	st->revision = etcd_revision(r);
	json_decref(r);
	return 0;
}

/* One member's own status, asked of that member alone. */
static void member_status(ah_cluster_member *x, long timeout_ms, uint64_t *leader)
{
	etcd_client *c = NULL;
	char err[256] = "";
	if (!x->client_url[0] || etcd_client_new(x->client_url, timeout_ms, &c, err, sizeof err) < 0) {
		copy(x->error, sizeof x->error, err[0] ? err : "no client URL");
		return;
	}
	json_t *rq = json_object(), *r = NULL;
	int rc = etcd_call(c, "/v3/maintenance/status", rq, &r);
	json_decref(rq);
	if (rc < 0) {
		copy(x->error, sizeof x->error, etcd_client_errmsg(c));
	} else {
		x->reachable = true;
		copy(x->version, sizeof x->version, json_string_value(json_object_get(r, "version")));
		x->raft_index = etcd_i64(r, "raftIndex");
		x->raft_term = etcd_i64(r, "raftTerm");
		x->db_size_bytes = etcd_i64(r, "dbSize");
		*leader = u64_of(r, "leader");
	}
	json_decref(r);
	etcd_client_free(c);
}

/* One key's value, decoded (NULL when absent). */
static char *value_of(const json_t *kv)
{
	char *v = NULL;
	size_t n;
	const char *b = json_string_value(json_object_get(kv, "value"));
	if (b && etcd_unb64(b, &v, &n) < 0)
		v = NULL;
	return v;
}

static int range(etcd_client *c, const char *key, bool prefix, json_t **out)
{
	char end[512];
	json_t *rq = json_object();
	json_object_set_new(rq, "key", etcd_b64s(key));
	if (prefix) {
		etcd_prefix_end(key, end, sizeof end);
		json_object_set_new(rq, "range_end", etcd_b64s(end));
	}
	int rc = etcd_call(c, "/v3/kv/range", rq, out);
	json_decref(rq);
	return rc;
}

static void instances(etcd_client *c, const char *prefix, ah_cluster_status *st)
{
	char key[256];
	snprintf(key, sizeof key, "%s/inst/", prefix);
	json_t *r = NULL;
	if (range(c, key, true, &r) < 0)
		return;
	json_t *kvs = json_object_get(r, "kvs"), *kv;
	size_t i;
	json_array_foreach(kvs, i, kv)
	{
		if (st->n_instances >= AH_CLUSTER_INSTANCES_MAX)
			break;
		ah_cluster_instance *x = &st->instance[st->n_instances++];
		char *k = NULL, *v = value_of(kv);
		size_t kn;
		const char *kb = json_string_value(json_object_get(kv, "key"));
		if (kb && etcd_unb64(kb, &k, &kn) == 0)
			copy(x->name, sizeof x->name, k + strlen(key));
		x->since_revision = etcd_i64(kv, "create_revision");
		json_t *j = v ? json_loads(v, 0, NULL) : NULL;
		x->pid = (long)json_integer_value(json_object_get(j, "pid"));
		x->watching = json_is_true(json_object_get(j, "watching"));
		x->watch_up = json_is_true(json_object_get(j, "watch_up"));
		x->view_revision = json_integer_value(json_object_get(j, "view_rev"));
		x->watch_revision = json_integer_value(json_object_get(j, "watch_rev"));
		x->relists = json_integer_value(json_object_get(j, "relists"));
		x->lag_ms = json_integer_value(json_object_get(j, "lag_ms"));
		json_decref(j);
		free(k);
		free(v);
		x->lease_ttl_s = -1;
		int64_t lease = etcd_i64(kv, "lease");
		json_t *rq = json_pack("{sI}", "ID", (json_int_t)lease), *t = NULL;
		if (lease && etcd_call(c, "/v3/lease/timetolive", rq, &t) == 0)
			x->lease_ttl_s = etcd_i64(t, "TTL");
		json_decref(rq);
		json_decref(t);
	}
	json_decref(r);
}

/* An election's key (PREFIX/NAME): its holder's name and (create_rev may
 * be NULL) create revision; false when nobody holds it. */
static bool holder(etcd_client *c, const char *prefix, const char *name, char *out, size_t len, int64_t *create_rev)
{
	char key[256];
	snprintf(key, sizeof key, "%s/%s", prefix, name);
	json_t *r = NULL;
	if (range(c, key, false, &r) < 0)
		return false;
	json_t *kv = json_array_get(json_object_get(r, "kvs"), 0);
	if (kv) {
		char *v = value_of(kv);
		copy(out, len, v);
		if (create_rev)
			*create_rev = etcd_i64(kv, "create_revision");
		free(v);
	}
	json_decref(r);
	return kv != NULL;
}

static void elected(etcd_client *c, const char *prefix, ah_cluster_status *st)
{
	st->have_shaper = holder(c, prefix, "shaper", st->shaper, sizeof st->shaper, &st->shaper_token);
	st->have_writer = holder(c, prefix, "writer", st->writer, sizeof st->writer, NULL);
}

static void head(etcd_client *c, const char *prefix, ah_cluster_status *st)
{
	char key[256];
	snprintf(key, sizeof key, "%s/s/head", prefix);
	json_t *r = NULL;
	if (range(c, key, false, &r) < 0)
		return;
	json_t *kv = json_array_get(json_object_get(r, "kvs"), 0);
	if (kv) {
		st->head_revision = etcd_i64(kv, "mod_revision");
		char *v = value_of(kv);
		json_t *j = v ? json_loads(v, 0, NULL) : NULL;
		st->commits = (int64_t)json_integer_value(json_object_get(j, "n"));
		json_decref(j);
		free(v);
	}
	if (etcd_revision(r) > st->revision)
		st->revision = etcd_revision(r);
	json_decref(r);
}

/* Each watching instance's distance from the head, and the worst. */
static void watch_lag(ah_cluster_status *st)
{
	st->max_behind = st->max_lag_ms = -1;
	for (int i = 0; i < st->n_instances; i++) {
		ah_cluster_instance *x = &st->instance[i];
		if (!x->watching)
			continue;
		x->behind = st->head_revision > x->view_revision ? st->head_revision - x->view_revision : 0;
		if (x->behind > st->max_behind)
			st->max_behind = x->behind;
		if (x->lag_ms > st->max_lag_ms)
			st->max_lag_ms = x->lag_ms;
	}
}

int ah_cluster_status_get(const char *endpoints, const char *prefix, long timeout_ms, ah_cluster_status *out,
			  char *err, size_t errlen)
{
	if (!endpoints || !prefix || !out)
		return AH_EINVAL;
	ah_cluster_status *st = calloc(1, sizeof *st);
	etcd_client *c = NULL;
	int rc = st ? etcd_client_new(endpoints, timeout_ms > 0 ? timeout_ms : 2000, &c, err, errlen) : AH_ENOMEM;
	if (rc < 0)
		goto out;
	copy(st->prefix, sizeof st->prefix, prefix);
	if ((rc = members(c, st)) < 0) {
		snprintf(err, errlen, "%s", etcd_client_errmsg(c));
		goto out;
	}
	uint64_t leader = 0;
	for (int i = 0; i < st->n_members; i++)
		member_status(&st->member[i], timeout_ms > 0 ? timeout_ms : 2000, &leader);
	for (int i = 0; i < st->n_members; i++) {
		char id[24];
		snprintf(id, sizeof id, "%" PRIx64, leader);
		st->member[i].leader = leader && !strcmp(st->member[i].id, id);
	}
	instances(c, prefix, st);
	elected(c, prefix, st);
	head(c, prefix, st);
	watch_lag(st);
	*out = *st;
out:
	etcd_client_free(c);
	free(st);
	return rc;
}
