/* ahead: placement of replicas on nodes and the fragmentation of what is
 * left (include/ahead/placement.h has the order of preference). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/names.h"
#include "ahead/placement.h"

void ah_place_opts_init(ah_place_opts *o)
{
	o->strategy = AH_PLACE_BEST_FIT;
	o->failure_priority = 100;
	o->seed = 1;
}

const char *ah_place_outcome_name(ah_place_outcome o)
{
	static const char *const n[] = {"placed", "no-match", "unavailable", "no-room", "too-few"};
	return (unsigned)o < sizeof n / sizeof n[0] ? n[o] : "?";
}

static int label_one(const char *item, size_t n, ah_label *l, char *err, size_t errlen)
{
	const char *eq = memchr(item, '=', n);
	if (!eq) {
		snprintf(err, errlen, "label '%.*s': want key=value", (int)(n > 80 ? 80 : n), item);
		return AH_EINVAL;
	}
	size_t kn = (size_t)(eq - item), vn = n - kn - 1;
	if (kn >= sizeof l->key || vn >= sizeof l->value) {
		snprintf(err, errlen, "label '%.*s': key at most %d bytes, value at most %d", (int)(n > 80 ? 80 : n), item,
			 (int)sizeof l->key - 1, (int)sizeof l->value - 1);
		return AH_EINVAL;
	}
	memcpy(l->key, item, kn);
	l->key[kn] = 0;
	memcpy(l->value, eq + 1, vn);
	l->value[vn] = 0;
	if (ah_name_check_label_key(l->key) < 0) {
		snprintf(err, errlen, "label '%s': the key must match %s", l->key, AH_NAME_LABEL_KEY_GRAMMAR);
		return AH_EINVAL;
	}
	if (ah_name_check_label_value(l->value) < 0) {
		snprintf(err, errlen, "label '%s': the value '%s' must match %s", l->key, l->value,
			 AH_NAME_LABEL_VALUE_GRAMMAR);
		return AH_EINVAL;
	}
	return 0;
}

int ah_labels_parse(const char *s, ah_label *out, int max, int *out_n, char *err, size_t errlen)
{
	if (!s || !out || !out_n || max < 0)
		return AH_EINVAL;
	int n = 0;
	const char *p = s;
	while (*p) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		if (n >= max) {
			snprintf(err, errlen, "more than %d labels", max);
			return AH_ETOOBIG;
		}
		int rc = label_one(p, len, &out[n], err, errlen);
		if (rc < 0)
			return rc;
		for (int i = 0; i < n; i++)
			if (!strcmp(out[i].key, out[n].key)) {
				snprintf(err, errlen, "label '%s' given twice", out[n].key);
				return AH_EINVAL;
			}
		n++;
		p += len + (c ? 1 : 0);
		if (c && !*p) {
			snprintf(err, errlen, "labels end in ','");
			return AH_EINVAL;
		}
	}
	*out_n = n;
	return 0;
}

bool ah_place_labels_match(const ah_place_node *node, const ah_label *sel, int n_sel)
{
	for (int i = 0; i < n_sel; i++) {
		bool found = false;
		for (int j = 0; j < node->n_labels && !found; j++)
			found = !strcmp(node->labels[j].key, sel[i].key) && !strcmp(node->labels[j].value, sel[i].value);
		if (!found)
			return false;
	}
	return true;
}

static const char *label_of(const ah_place_node *node, const char *key)
{
	for (int j = 0; j < node->n_labels; j++)
		if (!strcmp(node->labels[j].key, key))
			return node->labels[j].value;
	return NULL;
}

/* splitmix64: a seeded, platform-independent sequence */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* One candidate's sort key, compared field by field. */
typedef struct {
	int64_t spread_domain, spread_node;
	int64_t failures;
	double fit, fit2;
	uint64_t rnd;
} place_key;

static int key_cmp(const place_key *a, const place_key *b)
{
	if (a->spread_domain != b->spread_domain)
		return a->spread_domain < b->spread_domain ? -1 : 1;
	if (a->spread_node != b->spread_node)
		return a->spread_node < b->spread_node ? -1 : 1;
	if (a->failures != b->failures)
		return a->failures < b->failures ? -1 : 1;
	if (a->fit != b->fit)
		return a->fit < b->fit ? -1 : 1;
	if (a->fit2 != b->fit2)
		return a->fit2 < b->fit2 ? -1 : 1;
	if (a->rnd != b->rnd)
		return a->rnd < b->rnd ? -1 : 1;
	return 0;
}

typedef struct {
	ah_vec used;
	int64_t here;   /* this workload's replicas on the node, those placed now included */
	int domain;     /* index of the first node with the same spread value, -1 none */
	bool eligible;  /* carries the labels, up, not cordoned */
} work_node;

/* The dimension the request needs most of, against the eligible nodes'
 * total capacity. */
static int dominant(const ah_place_node *nodes, const work_node *w, size_t n, int nd, const ah_vec *d)
{
	int best = 0;
	double bs = -1;
	for (int k = 0; k < nd; k++) {
		double tot = 0;
		for (size_t j = 0; j < n; j++)
			if (w[j].eligible)
				tot += (double)nodes[j].capacity.v[k];
		double s = tot > 0 ? (double)d->v[k] / tot : 0;
		if (s > bs) {
			bs = s;
			best = k;
		}
	}
	return best;
}

static void key_of(const ah_place_node *nodes, const work_node *w, const int64_t *dom_count, size_t j, int nd,
		   int kd, const ah_place_request *rq, ah_place_opts *o, bool spread_label, place_key *k)
{
	memset(k, 0, sizeof *k);
	const ah_place_node *x = &nodes[j];
	k->spread_domain = spread_label && w[j].domain >= 0 ? dom_count[w[j].domain] : 0;
	k->spread_node = w[j].here;
	if (rq->priority >= o->failure_priority)
		k->failures = (int64_t)x->failed_checks + x->kills + x->enforce_errors;
	if (o->strategy == AH_PLACE_BEST_FIT) {
		double cap = (double)x->capacity.v[kd];
		k->fit = cap > 0 ? (double)(x->capacity.v[kd] - w[j].used.v[kd] - rq->demand.v[kd]) / cap : 0;
		for (int d = 0; d < nd; d++)
			if (x->capacity.v[d] > 0)
				k->fit2 += (double)(x->capacity.v[d] - w[j].used.v[d] - rq->demand.v[d]) /
					   (double)x->capacity.v[d];
	} else if (o->strategy == AH_PLACE_RANDOM) {
		k->rnd = next_rand(&o->seed);
	}
}

/* Why no node of the eligible ones has room: the dimension most often
 * short, for the message. */
static int short_dim(const ah_place_node *nodes, const work_node *w, size_t n, int nd, const ah_vec *d)
{
	int cnt[AH_MAX_DIMS] = {0}, best = 0;
	for (size_t j = 0; j < n; j++)
		for (int k = 0; w[j].eligible && k < nd; k++)
			if (d->v[k] > nodes[j].capacity.v[k] - w[j].used.v[k])
				cnt[k]++;
	for (int k = 1; k < nd; k++)
		if (cnt[k] > cnt[best])
			best = k;
	return best;
}

static void refuse(ah_place_result *out, ah_place_outcome oc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void refuse(ah_place_result *out, ah_place_outcome oc, const char *fmt, ...)
{
	out->outcome = oc;
	out->placed = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof out->reason, fmt, ap);
	va_end(ap);
}

/* Each node's working copy; with a spread label, its domain: the first
 * node with the same value (the nodes without the label are one domain). */
static void prepare(const ah_place_node *nodes, size_t n, const ah_place_request *rq, work_node *w, size_t *matching,
		    size_t *eligible)
{
	bool spread = rq->spread_label && rq->spread_label[0];
	*matching = *eligible = 0;
	for (size_t j = 0; j < n; j++) {
		w[j].used = nodes[j].used;
		w[j].here = nodes[j].replicas;
		w[j].domain = -1;
		bool match = ah_place_labels_match(&nodes[j], rq->select, rq->n_select);
		*matching += match;
		w[j].eligible = match && !nodes[j].cordoned && !nodes[j].down;
		*eligible += w[j].eligible;
		if (!spread)
			continue;
		const char *v = label_of(&nodes[j], rq->spread_label);
		for (size_t i = 0; i <= j; i++) {
			const char *u = label_of(&nodes[i], rq->spread_label);
			if ((!u && !v) || (u && v && !strcmp(u, v))) {
				w[j].domain = (int)i;
				break;
			}
		}
	}
}

int ah_place(const ah_place_node *nodes, size_t n, const ah_dimset *dims, const ah_place_request *rq,
	     ah_place_opts *o, ah_place_result *out)
{
	if ((!nodes && n) || !dims || !rq || !o || !out || rq->replicas < 1 || rq->replicas > AH_PLACE_REPLICAS_MAX ||
	    rq->n_select < 0 || (rq->n_select && !rq->select))
		return AH_EINVAL;
	int nd = dims->n;
	for (int k = 0; k < nd; k++)
		if (rq->demand.v[k] < 0)
			return AH_EINVAL;
	ah_place_result r;
	memset(&r, 0, sizeof r);
	work_node *w = n ? calloc(n, sizeof *w) : NULL;
	int64_t *dom = n ? calloc(n, sizeof *dom) : NULL;
	int rc = 0;
	if (n && (!w || !dom)) {
		rc = AH_ENOMEM;
		goto out;
	}
	size_t matching, eligible;
	prepare(nodes, n, rq, w, &matching, &eligible);
	bool spread = rq->spread_label && rq->spread_label[0];
	for (size_t j = 0; j < n; j++)
		if (w[j].domain >= 0)
			dom[w[j].domain] += w[j].here;
	if (!matching) {
		refuse(&r, AH_PLACE_NO_MATCH, "no node of %zu carries the required labels", n);
		goto done;
	}
	if (!eligible) {
		refuse(&r, AH_PLACE_UNAVAILABLE, "the %zu node(s) with the required labels are cordoned or down", matching);
		goto done;
	}
	int kd = dominant(nodes, w, n, nd, &rq->demand);
	for (int i = 0; i < rq->replicas; i++) {
		size_t best = n;
		place_key bk = {0}, k;
		for (size_t j = 0; j < n; j++) {
			if (!w[j].eligible || !ah_vec_fits(&w[j].used, &rq->demand, &nodes[j].capacity, nd))
				continue;
			key_of(nodes, w, dom, j, nd, kd, rq, o, spread, &k);
			if (best == n || key_cmp(&k, &bk) < 0) {
				best = j;
				bk = k;
			}
		}
		if (best == n) {
			int sd = short_dim(nodes, w, n, nd, &rq->demand);
			if (i == 0)
				refuse(&r, AH_PLACE_NO_ROOM, "none of the %zu available node(s) has room for a replica (%s short)",
				       eligible, dims->name[sd]);
			else
				refuse(&r, AH_PLACE_TOO_FEW, "room for %d of %d replicas (%s short); none placed", i,
				       rq->replicas, dims->name[sd]);
			goto done;
		}
		r.node[i] = (int)best;
		ah_vec_add(&w[best].used, &rq->demand, nd);
		w[best].here++;
		if (w[best].domain >= 0)
			dom[w[best].domain]++;
	}
	r.outcome = AH_PLACE_PLACED;
	r.placed = rq->replicas;
done:
	*out = r;
out:
	free(w);
	free(dom);
	return rc;
}

int ah_place_fragmentation(const ah_place_node *nodes, size_t n, const ah_dimset *dims, const ah_vec *queued,
			   size_t n_queued, const ah_vec *median, ah_place_frag *out)
{
	if ((!nodes && n) || !dims || (!queued && n_queued) || !out)
		return AH_EINVAL;
	int nd = dims->n;
	ah_place_frag f;
	memset(&f, 0, sizeof f);
	double cap[AH_MAX_DIMS] = {0}, stranded[AH_MAX_DIMS] = {0}, small[AH_MAX_DIMS] = {0}, freec[AH_MAX_DIMS] = {0};
	for (size_t j = 0; j < n; j++) {
		const ah_place_node *x = &nodes[j];
		if (x->down || x->cordoned)
			continue;
		bool fits_one = false;
		for (size_t q = 0; q < n_queued && !fits_one; q++)
			fits_one = ah_vec_fits(&x->used, &queued[q], &x->capacity, nd);
		bool any_free = false;
		for (int k = 0; k < nd; k++) {
			double fr = (double)(x->capacity.v[k] - x->used.v[k]);
			if (fr < 0)
				fr = 0;
			cap[k] += (double)x->capacity.v[k];
			freec[k] += fr;
			any_free |= fr > 0;
			if (n_queued && !fits_one)
				stranded[k] += fr;
			if (median && fr > 0 && fr < (double)median->v[k])
				small[k] += fr;
		}
		if (n_queued && !fits_one && any_free)
			f.nodes_stranded++;
	}
	for (int k = 0; k < nd; k++)
		if (cap[k] > 0) {
			f.stranded_pct[k] = 100 * stranded[k] / cap[k];
			f.small_pct[k] = 100 * small[k] / cap[k];
			f.free_pct[k] = 100 * freec[k] / cap[k];
		}
	*out = f;
	return 0;
}
