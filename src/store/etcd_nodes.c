/* ahead: the fleet's nodes on an etcd ledger (include/ahead/node.h): their
 * records under PREFIX/node/, their liveness from the instance keys under
 * PREFIX/inst/ that name them. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/names.h"
#include "ahead/node.h"
#include "ahead/timestamp.h"
#include "store/etcd_client.h"
#include "store/ledger_etcd_int.h"

#define NODE_CAS_TRIES 5

/* Copies what fits (truncation is the caller's bound, not an error). */
static void copy(char *dst, size_t n, const char *src)
{
	if (!n)
		return;
	size_t k = src ? strnlen(src, n - 1) : 0;
	if (k)
		memcpy(dst, src, k);
	dst[k] = 0;
}

/* ---- the record -------------------------------------------------------- */

char *ah_node_record_encode(const ah_node *n)
{
	json_t *cap = json_object(), *lab = json_object(), *units = json_object();
	for (int i = 0; i < n->spec.n_dims; i++) {
		json_object_set_new(cap, n->spec.dim[i], json_integer(n->spec.capacity[i]));
		json_object_set_new(units, n->spec.dim[i], json_string(ah_unit_kind_name(n->spec.kind[i])));
	}
	for (int i = 0; i < n->spec.n_labels; i++)
		json_object_set_new(lab, n->spec.labels[i].key, json_string(n->spec.labels[i].value));
	char when[48] = "";
	if (n->registered_ns > 0)
		ah_time_format_exact(n->registered_ns, when, sizeof when);
	json_t *o = json_pack("{ss,so,so,so,sb,sb,ss,ss,sI}", "name", n->spec.name, "capacity", cap, "units", units,
			      "labels", lab, "cordoned",
			      n->cordoned, "draining", n->draining, "registered_by", n->registered_by, "registered", when, "registered_ns",
			      (json_int_t)n->registered_ns);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL; /* labels keep their order */
	json_decref(o);
	return s;
}

static int bad(char *err, size_t errlen, const char *field, const char *why)
{
	snprintf(err, errlen, "node record: %s: %s", field, why);
	return AH_EPARSE;
}

static int decode_capacity(const json_t *cap, const json_t *units, ah_node *n, char *err, size_t errlen)
{
	if (!json_is_object(cap))
		return bad(err, errlen, "capacity", "want an object of dimension: amount");
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)cap, k, v)
	{
		if (n->spec.n_dims >= AH_MAX_DIMS)
			return bad(err, errlen, "capacity", "too many dimensions");
		if (ah_name_check_dim(k) < 0)
			return bad(err, errlen, "capacity", "a dimension name outside the grammar");
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return bad(err, errlen, "capacity", "amounts are integers >= 0 in the base unit");
		const char *u = json_string_value(json_object_get(units, k));
		ah_unit_kind kind = AH_UNIT_COUNT;
		if (u && ah_unit_kind_parse(u, &kind) < 0)
			return bad(err, errlen, "units", "an unknown unit");
		n->spec.kind[n->spec.n_dims] = kind;
		copy(n->spec.dim[n->spec.n_dims], AH_NAME_MAX, k);
		n->spec.capacity[n->spec.n_dims++] = (int64_t)json_integer_value(v);
	}
	return 0;
}

static int decode_labels(const json_t *lab, ah_node *n, char *err, size_t errlen)
{
	if (!json_is_object(lab))
		return bad(err, errlen, "labels", "want an object of key: value");
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)lab, k, v)
	{
		if (n->spec.n_labels >= AH_PLACE_LABELS_MAX)
			return bad(err, errlen, "labels", "too many labels");
		if (ah_name_check_label_key(k) < 0 || !json_is_string(v) ||
		    ah_name_check_label_value(json_string_value(v)) < 0)
			return bad(err, errlen, "labels", "a key or value outside the label grammar");
		ah_label *l = &n->spec.labels[n->spec.n_labels++];
		copy(l->key, sizeof l->key, k);
		copy(l->value, sizeof l->value, json_string_value(v));
	}
	return 0;
}

int ah_node_record_decode(const char *text, ah_node *out, char *err, size_t errlen)
{
	if (!text || !out)
		return AH_EINVAL;
	if (strlen(text) > AH_NODE_RECORD_MAX)
		return bad(err, errlen, "(record)", "longer than AH_NODE_RECORD_MAX");
	json_error_t je;
	json_t *o = json_loads(text, 0, &je);
	ah_node *n = calloc(1, sizeof *n);
	int rc = 0;
	if (!n) {
		rc = AH_ENOMEM;
		goto out;
	}
	if (!json_is_object(o)) {
		rc = bad(err, errlen, "(record)", "not a JSON object");
		goto out;
	}
	const char *name = json_string_value(json_object_get(o, "name"));
	if (!name || ah_name_check_object(name) < 0) {
		rc = bad(err, errlen, "name", "missing or outside the name grammar");
		goto out;
	}
	copy(n->spec.name, sizeof n->spec.name, name);
	if ((rc = decode_capacity(json_object_get(o, "capacity"), json_object_get(o, "units"), n, err, errlen)) < 0 ||
	    (rc = decode_labels(json_object_get(o, "labels"), n, err, errlen)) < 0)
		goto out;
	n->cordoned = json_is_true(json_object_get(o, "cordoned"));
	n->draining = json_is_true(json_object_get(o, "draining"));
	if (n->draining)
		n->cordoned = true;
	copy(n->registered_by, sizeof n->registered_by, json_string_value(json_object_get(o, "registered_by")));
	n->registered_ns = (int64_t)json_integer_value(json_object_get(o, "registered_ns"));
	n->lease_ttl_s = -1;
	*out = *n;
out:
	free(n);
	json_decref(o);
	return rc;
}

/* ---- reading ----------------------------------------------------------- */

static int range_prefix(etcd_client *c, const char *key, json_t **out)
{
	char end[512];
	etcd_prefix_end(key, end, sizeof end);
	json_t *rq = json_pack("{s:o,s:o}", "key", etcd_b64s(key), "range_end", etcd_b64s(end));
	if (!rq)
		return AH_ENOMEM;
	int rc = etcd_call(c, "/v3/kv/range", rq, out);
	json_decref(rq);
	return rc;
}

/* A kv's key after skip bytes and its value (malloc'd; NULL on bad base64). */
static void kv_text(const json_t *kv, size_t skip, char *name, size_t nlen, char **val)
{
	char *k = NULL;
	size_t n;
	const char *kb = json_string_value(json_object_get(kv, "key"));
	if (kb && etcd_unb64(kb, &k, &n) == 0 && n >= skip)
		copy(name, nlen, k + skip);
	free(k);
	*val = NULL;
	const char *vb = json_string_value(json_object_get(kv, "value"));
	if (vb && etcd_unb64(vb, val, &n) < 0)
		*val = NULL;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const ah_node *)a)->spec.name, ((const ah_node *)b)->spec.name);
}

static int read_records(etcd_client *c, const char *prefix, ah_node_list *st, char *err, size_t errlen)
{
	char key[256];
	snprintf(key, sizeof key, "%s/node/", prefix);
	json_t *r = NULL;
	int rc = range_prefix(c, key, &r);
	if (rc < 0) {
		copy(err, errlen, etcd_client_errmsg(c));
		return rc;
	}
	st->revision = etcd_revision(r);
	json_t *kv;
	size_t i;
	json_array_foreach(json_object_get(r, "kvs"), i, kv)
	{
		if (st->n >= AH_NODES_MAX)
			break;
		char name[AH_NAME_MAX] = "", *v = NULL, why[256];
		kv_text(kv, strlen(key), name, sizeof name, &v);
		ah_node *n = &st->node[st->n];
		if (v && ah_node_record_decode(v, n, why, sizeof why) == 0 && !strcmp(n->spec.name, name)) {
			n->record_revision = etcd_i64(kv, "mod_revision");
			st->n++;
		}
		free(v); /* a record that does not decode is not a node (the CLI never writes one) */
	}
	json_decref(r);
	return 0;
}

/* Marks the nodes the live instance keys name as up. A failed read fails
 * the list: every node would look down and have its work moved off it. */
static int read_liveness(etcd_client *c, const char *prefix, ah_node_list *st, bool ttl, char *err, size_t errlen)
{
	char key[256];
	snprintf(key, sizeof key, "%s/inst/", prefix);
	json_t *r = NULL;
	int rc = range_prefix(c, key, &r);
	if (rc < 0) {
		copy(err, errlen, etcd_client_errmsg(c));
		return rc;
	}
	json_t *kv;
	size_t i;
	json_array_foreach(json_object_get(r, "kvs"), i, kv)
	{
		char inst[128] = "", *v = NULL;
		kv_text(kv, strlen(key), inst, sizeof inst, &v);
		json_t *j = v ? json_loads(v, 0, NULL) : NULL;
		const char *node = json_string_value(json_object_get(j, "node"));
		for (int k = 0; node && k < st->n; k++) {
			ah_node *n = &st->node[k];
			if (strcmp(n->spec.name, node) || n->up)
				continue;
			n->up = true;
			copy(n->instance, sizeof n->instance, inst);
			n->pid = (long)json_integer_value(json_object_get(j, "pid"));
			json_int_t ee = json_integer_value(json_object_get(j, "enforce_errors"));
			n->enforce_errors = ee > 0 ? (ee > UINT32_MAX ? UINT32_MAX : (uint32_t)ee) : 0;
			json_int_t ki = json_integer_value(json_object_get(j, "kills"));
			n->kills = ki > 0 ? (ki > UINT32_MAX ? UINT32_MAX : (uint32_t)ki) : 0;
			json_t *rq = ttl ? json_pack("{sI}", "ID", (json_int_t)etcd_i64(kv, "lease")) : NULL, *t = NULL;
			if (rq && etcd_call(c, "/v3/lease/timetolive", rq, &t) == 0)
				n->lease_ttl_s = etcd_i64(t, "TTL");
			json_decref(rq);
			json_decref(t);
		}
		json_decref(j);
		free(v);
	}
	json_decref(r);
	return 0;
}

/* How many live allocations each node holds (their rows' "nd"). */
static void count_placed(etcd_client *c, const char *prefix, ah_node_list *st)
{
	char key[256];
	snprintf(key, sizeof key, "%s/s/a/", prefix);
	json_t *r = NULL;
	if (range_prefix(c, key, &r) < 0)
		return;
	json_t *kv;
	size_t i;
	json_array_foreach(json_object_get(r, "kvs"), i, kv)
	{
		char id[32] = "", *v = NULL;
		kv_text(kv, strlen(key), id, sizeof id, &v);
		json_t *j = v ? json_loads(v, 0, NULL) : NULL;
		const char *node = json_string_value(json_object_get(j, "nd"));
		for (int k = 0; node && k < st->n; k++)
			if (!strcmp(st->node[k].spec.name, node))
				st->node[k].placed++;
		json_decref(j);
		free(v);
	}
	json_decref(r);
}

int ah_node_list_get(const char *endpoints, const char *prefix, long timeout_ms, ah_node_list *out, char *err,
		     size_t errlen)
{
	if (!endpoints || !prefix || !out)
		return AH_EINVAL;
	ah_node_list *st = calloc(1, sizeof *st);
	etcd_client *c = NULL;
	int rc = st ? etcd_client_new(endpoints, timeout_ms > 0 ? timeout_ms : 2000, &c, err, errlen) : AH_ENOMEM;
	if (rc < 0)
		goto out;
	copy(st->prefix, sizeof st->prefix, prefix);
	if ((rc = read_records(c, prefix, st, err, errlen)) < 0)
		goto out;
	if ((rc = read_liveness(c, prefix, st, true, err, errlen)) < 0)
		goto out;
	count_placed(c, prefix, st);
	qsort(st->node, (size_t)st->n, sizeof st->node[0], by_name);
	memcpy(out, st, sizeof *st);
out:
	etcd_client_free(c);
	free(st);
	return rc;
}

int ah_node_list_of(ah_ledger *l, ah_node_list *out, char *err, size_t errlen)
{
	if (!l || !out || !ah_ledger_is_etcd(l))
		return AH_EINVAL;
	etcd_ledger *m = (etcd_ledger *)l;
	ah_node_list *st = calloc(1, sizeof *st);
	if (!st)
		return AH_ENOMEM;
	copy(st->prefix, sizeof st->prefix, m->prefix);
	int rc = read_records(m->c, m->prefix, st, err, errlen);
	if (rc == 0)
		rc = read_liveness(m->c, m->prefix, st, false, err, errlen);
	if (rc == 0) {
		qsort(st->node, (size_t)st->n, sizeof st->node[0], by_name);
		memcpy(out, st, sizeof *st);
	}
	free(st);
	return rc;
}

/* ---- writing ----------------------------------------------------------- */

/* One record read: *out (and its mod revision; 0 = absent). */
static int record_get(etcd_client *c, const char *key, ah_node *out, int64_t *rev, char *err, size_t errlen)
{
	json_t *rq = json_pack("{s:o}", "key", etcd_b64s(key)), *r = NULL;
	int rc = rq ? etcd_call(c, "/v3/kv/range", rq, &r) : AH_ENOMEM;
	json_decref(rq);
	if (rc < 0) {
		copy(err, errlen, etcd_client_errmsg(c));
		return rc;
	}
	json_t *kv = json_array_get(json_object_get(r, "kvs"), 0);
	*rev = 0;
	if (kv) {
		char name[8], *v = NULL;
		kv_text(kv, 0, name, sizeof name, &v);
		rc = v ? ah_node_record_decode(v, out, err, errlen) : AH_EPARSE;
		free(v);
		*rev = etcd_i64(kv, "mod_revision");
	}
	json_decref(r);
	return rc;
}

/* Writes key = n's record while its mod revision is still rev (0: absent).
 * 1 when another writer came first (read again), 0 when written. */
static int record_cas(etcd_client *c, const char *key, const ah_node *n, int64_t rev, char *err, size_t errlen)
{
	char *text = ah_node_record_encode(n);
	if (!text)
		return AH_ENOMEM;
	json_t *cmp = rev > 0 ? json_pack("{s:o,s:s,s:s,s:I}", "key", etcd_b64s(key), "result", "EQUAL", "target", "MOD",
					  "mod_revision", (json_int_t)rev)
			      : json_pack("{s:o,s:s,s:s,s:I}", "key", etcd_b64s(key), "result", "EQUAL", "target",
					  "VERSION", "version", (json_int_t)0);
	json_t *put = json_pack("{s:o,s:o}", "key", etcd_b64s(key), "value", etcd_b64s(text));
	json_t *rq = json_pack("{s:[o],s:[{s:o}]}", "compare", cmp, "success", "requestPut", put), *r = NULL;
	free(text);
	int rc = rq ? etcd_call(c, "/v3/kv/txn", rq, &r) : AH_ENOMEM;
	json_decref(rq);
	if (rc < 0)
		copy(err, errlen, etcd_client_errmsg(c));
	else
		rc = json_is_true(json_object_get(r, "succeeded")) ? 0 : 1;
	json_decref(r);
	return rc;
}

static int check_spec(const ah_node_spec *s, char *err, size_t errlen)
{
	if (ah_name_check_object(s->name) < 0) {
		snprintf(err, errlen, "node name '%.64s' must match %s", s->name, AH_NAME_OBJECT_GRAMMAR);
		return AH_EINVAL;
	}
	if (s->n_dims < 0 || s->n_dims > AH_MAX_DIMS || s->n_labels < 0 || s->n_labels > AH_PLACE_LABELS_MAX)
		return AH_EINVAL;
	for (int i = 0; i < s->n_dims; i++)
		if (ah_name_check_dim(s->dim[i]) < 0 || s->capacity[i] < 0) {
			snprintf(err, errlen, "node %s: capacity of '%.64s' must be >= 0 for a named dimension", s->name,
				 s->dim[i]);
			return AH_EINVAL;
		}
	return 0;
}

/* The live instance other than self that names the node, if any. */
static int served_elsewhere(etcd_ledger *m, const char *name, char *who, size_t wlen)
{
	char key[ETCD_KEY_MAX];
	etcd_key(m, key, "inst/");
	json_t *r = NULL;
	int rc = range_prefix(m->c, key, &r);
	if (rc < 0)
		return rc;
	json_t *kv;
	size_t i;
	int found = 0;
	json_array_foreach(json_object_get(r, "kvs"), i, kv)
	{
		char inst[128] = "", *v = NULL;
		kv_text(kv, strlen(key), inst, sizeof inst, &v);
		/* ours: m->inst_key is key followed by our instance name */
		bool self = !strncmp(m->inst_key, key, strlen(key)) && !strcmp(m->inst_key + strlen(key), inst);
		json_t *j = v ? json_loads(v, 0, NULL) : NULL;
		const char *node = json_string_value(json_object_get(j, "node"));
		if (!found && node && !strcmp(node, name) && !self) {
			snprintf(who, wlen, "%s (pid %lld)", inst, (long long)json_integer_value(json_object_get(j, "pid")));
			found = 1;
		}
		json_decref(j);
		free(v);
	}
	json_decref(r);
	return found;
}

int ah_node_register(ah_ledger *l, const ah_node_spec *spec, int64_t wall_ns, char *err, size_t errlen)
{
	if (!ah_ledger_is_etcd(l) || !spec) {
		snprintf(err, errlen, "nodes need an etcd ledger (--join etcd://HOST:PORT[,...]/PREFIX)");
		return AH_EINVAL;
	}
	etcd_ledger *m = (etcd_ledger *)l;
	int rc = check_spec(spec, err, errlen);
	if (rc < 0)
		return rc;
	char who[200], key[ETCD_KEY_MAX];
	if ((rc = served_elsewhere(m, spec->name, who, sizeof who)) != 0) {
		if (rc > 0)
			snprintf(err, errlen, "node %s is served by instance %s on a live lease: another host has this name",
				 spec->name, who);
		else
			copy(err, errlen, etcd_client_errmsg(m->c));
		return rc > 0 ? AH_EEXIST : rc;
	}
	etcd_key(m, key, "node/%s", spec->name);
	ah_node *n = calloc(1, sizeof *n);
	if (!n)
		return AH_ENOMEM;
	for (int t = 0; t < NODE_CAS_TRIES; t++) {
		int64_t rev = 0;
		memset(n, 0, sizeof *n);
		if ((rc = record_get(m->c, key, n, &rev, err, errlen)) < 0 && rc != AH_EPARSE)
			goto out;
		bool cordoned = rc == 0 && rev > 0 && n->cordoned; /* an operator's cordon outlives restarts */
		bool draining = rc == 0 && rev > 0 && n->draining;
		memset(n, 0, sizeof *n);
		n->spec = *spec;
		n->cordoned = cordoned;
		n->draining = draining;
		copy(n->registered_by, sizeof n->registered_by, m->inst_key + strlen(m->prefix) + strlen("/inst/"));
		n->registered_ns = wall_ns;
		if ((rc = record_cas(m->c, key, n, rev, err, errlen)) <= 0)
			break;
	}
	if (rc > 0) {
		snprintf(err, errlen, "node %s: its record kept changing under %d tries", spec->name, NODE_CAS_TRIES);
		rc = AH_EBUSY;
		goto out;
	}
	if (rc < 0)
		goto out;
	copy(m->node, sizeof m->node, spec->name);
	if ((rc = etcd_instance_refresh(m)) < 0)
		copy(err, errlen, m->errmsg);
out:
	free(n);
	return rc;
}

int ah_node_set_cordon(const char *endpoints, const char *prefix, const char *name, bool cordoned, bool draining,
		       long timeout_ms, char *err, size_t errlen)
{
	if (!endpoints || !prefix || !name)
		return AH_EINVAL;
	if (ah_name_check_object(name) < 0) {
		snprintf(err, errlen, "node name '%.64s' must match %s", name, AH_NAME_OBJECT_GRAMMAR);
		return AH_EINVAL;
	}
	etcd_client *c = NULL;
	ah_node *n = calloc(1, sizeof *n);
	int rc = n ? etcd_client_new(endpoints, timeout_ms > 0 ? timeout_ms : 2000, &c, err, errlen) : AH_ENOMEM;
	if (rc < 0)
		goto out;
	char key[512];
	snprintf(key, sizeof key, "%s/node/%s", prefix, name);
	for (int t = 0; t < NODE_CAS_TRIES; t++) {
		int64_t rev = 0;
		if ((rc = record_get(c, key, n, &rev, err, errlen)) < 0)
			goto out;
		if (!rev) {
			snprintf(err, errlen, "no node named %s on this ledger (ahead node ls lists them)", name);
			rc = AH_ENOENT;
			goto out;
		}
		n->cordoned = cordoned || draining;
		n->draining = draining;
		if ((rc = record_cas(c, key, n, rev, err, errlen)) <= 0)
			break;
	}
	if (rc > 0) {
		snprintf(err, errlen, "node %s: its record kept changing under %d tries", name, NODE_CAS_TRIES);
		rc = AH_EBUSY;
	}
out:
	etcd_client_free(c);
	free(n);
	return rc;
}
