/* The fleet's nodes through the service (include/ahead/node.h): joining
 * this host with its capacity in the policy's dimensions, listing and
 * cordoning by ledger URL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/host.h"
#include "ahead/ledger_etcd.h"
#include "ahead/limits.h"
#include "ahead/node.h"
#include "ahead/service.h"
#include "service/service_int.h"

/* What the host offers of a dimension nobody stated: cores for a cpu
 * dimension, MemTotal for one named memory; 0 (not offered) otherwise. */
static int64_t host_default(const ah_host_stat *h, const ah_dimset *ds, int d)
{
	if (ds->kind[d] == AH_UNIT_CPU && h->ncpu > 0)
		return (int64_t)h->ncpu * 1000;
	if (ds->kind[d] == AH_UNIT_BYTES && !strcmp(ds->name[d], "memory") &&
	    h->mem_total_bytes.st == AH_FIELD_OK)
		return (int64_t)h->mem_total_bytes.v;
	return 0;
}

/* Which dimensions a capacity text names (the vector parser zeroes the
 * rest, and 0 is a statement too: "gpu=0"). */
static void named_dims(const ah_dimset *ds, const char *text, bool *named)
{
	for (int d = 0; d < ds->n; d++) {
		size_t n = strlen(ds->name[d]);
		for (const char *p = text; (p = strstr(p, ds->name[d])) != NULL; p += n)
			if ((p == text || p[-1] == ',' || p[-1] == ' ') && (p[n] == '=' || p[n] == ' '))
				named[d] = true;
	}
}

static int build_spec(const ah_dimset *ds, const char *name, const char *labels, const char *capacity,
		      const char *proc_root, ah_node_spec *sp, char *err, size_t errlen)
{
	memset(sp, 0, sizeof *sp);
	snprintf(sp->name, sizeof sp->name, "%s", name);
	char why[256] = "";
	int rc;
	if (labels && (rc = ah_labels_parse(labels, sp->labels, AH_PLACE_LABELS_MAX, &sp->n_labels, why, sizeof why)) < 0) {
		snprintf(err, errlen, "--node-labels: %s", why);
		return AH_EINVAL;
	}
	ah_vec v;
	bool named[AH_MAX_DIMS] = {false};
	memset(&v, 0, sizeof v);
	if (capacity) {
		if ((rc = ah_vec_parse(ds, capacity, &v, why, sizeof why)) < 0) {
			snprintf(err, errlen, "--node-capacity: %s", why);
			return AH_EINVAL;
		}
		named_dims(ds, capacity, named);
	}
	ah_host_stat *h = calloc(1, sizeof *h);
	char *buf = malloc(AH_SYSFILE_MAX_BYTES + 1);
	if (!h || !buf) {
		free(h);
		free(buf);
		return AH_ENOMEM;
	}
	if (ah_host_read(proc_root ? proc_root : "/proc", buf, AH_SYSFILE_MAX_BYTES + 1, h) < 0)
		memset(h, 0, sizeof *h);
	for (int d = 0; d < ds->n; d++) {
		int64_t c = named[d] ? v.v[d] : host_default(h, ds, d);
		if (!named[d] && c <= 0)
			continue; /* not offered: placement will not count on it */
		snprintf(sp->dim[sp->n_dims], AH_NAME_MAX, "%s", ds->name[d]);
		sp->kind[sp->n_dims] = ds->kind[d];
		sp->capacity[sp->n_dims++] = c;
	}
	free(h);
	free(buf);
	return 0;
}

int ah_service_node_join(ah_service *s, const char *name, const char *labels, const char *capacity,
			 const char *proc_root, int64_t wall_ns, ah_node_spec *out, char *err, size_t errlen)
{
	if (!s || !name)
		return AH_EINVAL;
	if (!ah_ledger_is_etcd(s->led)) {
		snprintf(err, errlen, "a node joins an etcd ledger: --join etcd://HOST:PORT[,HOST:PORT...]/PREFIX");
		return AH_EINVAL;
	}
	ah_node_spec sp;
	int rc = build_spec(&s->pol->dims, name, labels, capacity, proc_root, &sp, err, errlen);
	if (rc < 0)
		return rc;
	if ((rc = ah_node_register(s->led, &sp, wall_ns, err, errlen)) < 0)
		return rc;
	if (out)
		*out = sp;
	return 0;
}

bool ah_service_is_etcd_url(const char *path)
{
	return path && ah_ledger_etcd_url(path);
}

static int node_url(const char *path, char *endpoints, size_t elen, char *prefix, size_t plen, char *err,
		    size_t errlen)
{
	if (!path || !ah_ledger_etcd_url(path) || ah_ledger_etcd_url_parse(path, endpoints, elen, prefix, plen) < 0) {
		snprintf(err, errlen, "%.300s: nodes live on an etcd ledger: --db etcd://HOST:PORT[,HOST:PORT...]/PREFIX",
			 path ? path : "(no ledger)");
		return AH_EINVAL;
	}
	return 0;
}

static long node_timeout(void)
{
	const char *t = getenv("AHEAD_ETCD_TIMEOUT_MS");
	long v = t ? strtol(t, NULL, 10) : 0;
	return v > 0 && v <= 600000 ? v : 0;
}

int ah_service_node_list(const char *path, ah_node_list *out, char *err, size_t errlen)
{
	char endpoints[1024], prefix[256];
	int rc = node_url(path, endpoints, sizeof endpoints, prefix, sizeof prefix, err, errlen);
	return rc < 0 ? rc : ah_node_list_get(endpoints, prefix, node_timeout(), out, err, errlen);
}

int ah_service_node_cordon(const char *path, const char *name, bool cordoned, bool draining, char *err,
			   size_t errlen)
{
	char endpoints[1024], prefix[256];
	int rc = node_url(path, endpoints, sizeof endpoints, prefix, sizeof prefix, err, errlen);
	return rc < 0 ? rc
		      : ah_node_set_cordon(endpoints, prefix, name, cordoned, draining, node_timeout(), err, errlen);
}

/* ---- the engine's view of the nodes ------------------------------------ */

#define NODES_RESYNC_NS INT64_C(5000000000)

static bool any_node_pool(const ah_policy *p)
{
	for (int i = 0; i < p->n_pools; i++)
		if (p->pools[i].nodes[0])
			return true;
	return false;
}

/* A record's capacity in the policy's dimensions (by name; others 0). */
static void node_to_engine(const ah_dimset *ds, const ah_node *n, ah_engine_node *out)
{
	memset(out, 0, sizeof *out);
	out->name = n->spec.name;
	for (int i = 0; i < n->spec.n_dims; i++) {
		int d = ah_dimset_find(ds, n->spec.dim[i]);
		if (d >= 0)
			out->capacity.v[d] = n->spec.capacity[i];
	}
	out->labels = n->spec.labels;
	out->n_labels = n->spec.n_labels;
	out->up = n->up;
	out->cordoned = n->cordoned;
	out->draining = n->draining;
	out->enforce_errors = n->enforce_errors;
	out->kills = n->kills;
	out->revision = (uint64_t)n->record_revision;
}

/* What a change of the list is told by: every field the engine reads. */
static uint64_t list_sig(const ah_engine_node *v, int n)
{
	uint64_t h = 1469598103934665603ull;
#define MIX(p, len)                                                                                                   \
	do {                                                                                                           \
		const unsigned char *b_ = (const unsigned char *)(p);                                                  \
		for (size_t k_ = 0; k_ < (len); k_++)                                                                  \
			h = (h ^ b_[k_]) * 1099511628211ull;                                                           \
	} while (0)
	for (int i = 0; i < n; i++) {
		MIX(v[i].name, strlen(v[i].name) + 1);
		MIX(&v[i].capacity, sizeof v[i].capacity);
		MIX(v[i].labels, sizeof(ah_label) * (size_t)v[i].n_labels);
		bool f[3] = {v[i].up, v[i].cordoned, v[i].draining};
		MIX(f, sizeof f);
		MIX(&v[i].enforce_errors, sizeof v[i].enforce_errors);
		MIX(&v[i].kills, sizeof v[i].kills);
		MIX(&v[i].revision, sizeof v[i].revision);
	}
#undef MIX
	return h;
}

void ah_service_set_node_record(ah_service *s, uint64_t enforce_errors, uint64_t kills)
{
	if (!s)
		return;
	s->enforce_errors = enforce_errors;
	s->kills = kills;
}

int ah_service_nodes_sync(ah_service *s, int64_t now_ns, int64_t mono_ns, ah_node_moves *out, char *err,
			  size_t errlen)
{
	if (!s)
		return AH_EINVAL;
	ah_node_moves m = {0};
	int rc = 0;
	ah_node_list *l = NULL;
	ah_engine_node *v = NULL;
	if (!ah_ledger_is_etcd(s->led) || !any_node_pool(s->pol) || s->in_batch)
		goto out;
	l = calloc(1, sizeof *l);
	v = calloc(AH_NODES_MAX, sizeof *v);
	if (!l || !v) {
		rc = AH_ENOMEM;
		goto out;
	}
	if ((rc = ah_node_list_of(s->led, l, err, errlen)) < 0)
		goto out;
	for (int i = 0; i < l->n; i++)
		node_to_engine(&s->pol->dims, &l->node[i], &v[i]);
	uint64_t sig = list_sig(v, l->n);
	if (s->nodes_eng == s->eng && sig == s->nodes_sig && mono_ns - s->nodes_sync_ns < NODES_RESYNC_NS)
		goto out;
	if ((rc = ah_engine_set_nodes(s->eng, v, l->n, now_ns, &m)) < 0) {
		snprintf(err, errlen, "placing on nodes: %s", ah_strerror(rc));
		goto out;
	}
	s->nodes_eng = s->eng;
	s->nodes_sig = sig;
	s->nodes_sync_ns = mono_ns;
out:
	free(l);
	free(v);
	if (!rc && out)
		*out = m;
	return rc;
}
