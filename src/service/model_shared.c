/* One prediction across the instances of an etcd ledger (docs/CLUSTER.md
 * "One prediction"): usage history stays in the shadow store of the
 * instance that recorded it, and what a prediction reads of it (a
 * workload's newest ended request records and newest usage points, bounded)
 * is published at PREFIX/model/WORKLOAD. Every instance, the recorder too,
 * predicts from the published state, loaded into an in-memory store and
 * read by the same predictor (predictor_shadow.c), so two instances that
 * read the same publication size the same request alike.
 *
 * An instance whose own history of the workload is newer than what is
 * published merges it in (records and points of both, newest kept) and
 * writes it back with a compare on the key's revision, so two recorders do
 * not overwrite each other; at most once per MODEL_PUBLISH_GAP_NS per
 * workload and instance. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ahead/error.h"
#include "ahead/ledger_etcd.h"
#include "ahead/limits.h"
#include "ahead/predictor_shadow.h"
#include "ahead/shadow_alloc.h"
#include "service/service_int.h"

/* A publication is re-merged from local history at most this often. */
#define MODEL_PUBLISH_GAP_NS INT64_C(1000000000)
#define MODEL_PUT_TRIES 4

/* ---- the local history, as a state ------------------------------------ */

typedef struct {
	json_t *arr;
	int64_t newest_ns;
} rec_ctx;

static int rec_take(void *ctx, const ah_shadow_request *r)
{
	rec_ctx *c = ctx;
	char params[AH_PARAMS_MAX + 1];
	size_t w = 0;
	params[0] = '\0';
	for (int i = 0; i < r->n_params; i++) {
		if (ah_shadow_param_reserved(r->params[i].key))
			continue;
		int k = snprintf(params + w, sizeof params - w, "%s%s=%s", w ? "," : "", r->params[i].key,
				 r->params[i].value);
		if (k < 0 || (size_t)k >= sizeof params - w)
			return 0; /* cannot be written back whole: leave it out */
		w += (size_t)k;
	}
	json_t *d = json_object();
	for (int i = 0; i < r->n_dims; i++)
		if (isfinite(r->dims[i].peak))
			json_object_set_new(d, r->dims[i].dim,
					    json_pack("[f,f]", r->dims[i].peak,
						      isfinite(r->dims[i].mean) ? r->dims[i].mean : r->dims[i].peak));
	json_array_append_new(c->arr, json_pack("{s:I,s:I,s:s,s:o}", "s", (json_int_t)r->start_ns, "e",
						(json_int_t)r->end_ns, "p", params, "d", d));
	if (r->end_ns > c->newest_ns)
		c->newest_ns = r->end_ns;
	return 0;
}

typedef struct {
	ah_shadow_point ring[AH_MODEL_POINTS_MAX];
	size_t n, pos, scanned;
} pt_ctx;

static int pt_take(void *ctx, const ah_shadow_point *p)
{
	pt_ctx *c = ctx;
	c->ring[c->pos] = *p;
	c->pos = (c->pos + 1) % AH_MODEL_POINTS_MAX;
	if (c->n < AH_MODEL_POINTS_MAX)
		c->n++;
	return ++c->scanned >= 64 * AH_MODEL_POINTS_MAX ? 1 : 0;
}

/* The workload's local history as a state {"at","rec","ser"}; NULL when
 * there is none. */
static json_t *local_state(ah_service *s, ah_shadow *sh, const char *workload)
{
	rec_ctx rc = {.arr = json_array(), .newest_ns = -1};
	json_t *ser = json_object();
	if (ah_shadow_request_each_ended(sh, workload, AH_SHADOW_LOST_KEY, AH_MODEL_RECORDS_MAX, rec_take, &rc) < 0)
		json_array_clear(rc.arr);
	int64_t newest = rc.newest_ns;
	pt_ctx *pc = malloc(sizeof *pc);
	for (int d = 0; pc && d < s->pol->dims.n; d++) {
		int64_t sid;
		ah_shadow_series_info si;
		if (ah_shadow_series_find(sh, workload, s->pol->dims.name[d], &sid) != 0 ||
		    ah_shadow_series_info_get(sh, sid, &si) != 0 || si.last_ns < 0)
			continue;
		pc->n = pc->pos = pc->scanned = 0;
		int64_t span = si.granularity_ns * AH_MODEL_POINTS_MAX * 16;
		int64_t from = si.last_ns - span < si.first_ns ? si.first_ns : si.last_ns - span;
		if (ah_shadow_query(sh, sid, from, si.last_ns + 1, 0, pt_take, pc) < 0 || !pc->n)
			continue;
		json_t *pts = json_array();
		size_t start = pc->n < AH_MODEL_POINTS_MAX ? 0 : pc->pos;
		for (size_t i = 0; i < pc->n; i++) {
			const ah_shadow_point *p = &pc->ring[(start + i) % AH_MODEL_POINTS_MAX];
			json_array_append_new(pts, json_pack("[I,I,f,f,I]", (json_int_t)p->t_ns, (json_int_t)p->width_ns,
							     p->mean, p->max, (json_int_t)p->count));
		}
		json_object_set_new(ser, s->pol->dims.name[d],
				    json_pack("{s:I,s:o}", "g", (json_int_t)si.granularity_ns, "pts", pts));
		if (si.last_ns > newest)
			newest = si.last_ns;
	}
	free(pc);
	if (newest < 0) {
		json_decref(rc.arr);
		json_decref(ser);
		return NULL;
	}
	return json_pack("{s:i,s:I,s:o,s:o}", "v", 1, "at", (json_int_t)newest, "rec", rc.arr, "ser", ser);
}

/* ---- merging two states ------------------------------------------------ */

static int by_start(const void *a, const void *b)
{
	int64_t x = json_integer_value(json_object_get(*(json_t *const *)a, "s"));
	int64_t y = json_integer_value(json_object_get(*(json_t *const *)b, "s"));
	return (x > y) - (x < y);
}

static int by_time(const void *a, const void *b)
{
	int64_t x = json_integer_value(json_array_get(*(json_t *const *)a, 0));
	int64_t y = json_integer_value(json_array_get(*(json_t *const *)b, 0));
	return (x > y) - (x < y);
}

/* The union of two arrays, sorted by cmp, duplicates (same key) once, the
 * newest `keep`. key: the text that makes an element the same element. */
static json_t *union_newest(json_t *a, json_t *b, int (*cmp)(const void *, const void *), size_t keep,
			    bool records)
{
	size_t na = json_array_size(a), nb = json_array_size(b), n = 0;
	json_t **v = malloc(sizeof *v * (na + nb + 1));
	json_t *out = json_array();
	if (!v || !out) {
		free(v);
		return out;
	}
	json_t *seen = json_object();
	for (size_t k = 0; k < na + nb; k++) {
		json_t *e = k < na ? json_array_get(a, k) : json_array_get(b, k - na);
		char key[AH_PARAMS_MAX + 64];
		if (records)
			snprintf(key, sizeof key, "%lld/%lld/%s", (long long)json_integer_value(json_object_get(e, "s")),
				 (long long)json_integer_value(json_object_get(e, "e")),
				 json_string_value(json_object_get(e, "p")) ? json_string_value(json_object_get(e, "p"))
									   : "");
		else
			snprintf(key, sizeof key, "%lld", (long long)json_integer_value(json_array_get(e, 0)));
		if (json_object_get(seen, key))
			continue;
		json_object_set_new(seen, key, json_true());
		v[n++] = e;
	}
	qsort(v, n, sizeof *v, cmp);
	for (size_t k = n > keep ? n - keep : 0; k < n; k++)
		json_array_append(out, v[k]);
	json_decref(seen);
	free(v);
	return out;
}

static json_t *merge(json_t *pub, json_t *loc)
{
	json_t *rec = union_newest(json_object_get(pub, "rec"), json_object_get(loc, "rec"), by_start,
				   AH_MODEL_RECORDS_MAX, true);
	json_t *ser = json_object(), *ps = json_object_get(pub, "ser"), *ls = json_object_get(loc, "ser"), *x;
	const char *dim;
	json_object_foreach(ps, dim, x)
	{
		json_t *y = json_object_get(ls, dim);
		json_object_set_new(ser, dim,
				    json_pack("{s:O,s:o}", "g", json_object_get(y ? y : x, "g"), "pts",
					      union_newest(json_object_get(x, "pts"), json_object_get(y, "pts"), by_time,
							   AH_MODEL_POINTS_MAX, false)));
	}
	json_object_foreach(ls, dim, x)
		if (!json_object_get(ser, dim))
			json_object_set(ser, dim, x);
	int64_t at = json_integer_value(json_object_get(pub, "at")), al = json_integer_value(json_object_get(loc, "at"));
	return json_pack("{s:i,s:I,s:o,s:o}", "v", 1, "at", (json_int_t)(at > al ? at : al), "rec", rec, "ser", ser);
}

/* The state's text within AH_MODEL_STATE_BYTES_MAX: the oldest records
 * go first when it is too large (long parameter texts). */
static char *dump_bounded(json_t *st)
{
	for (;;) {
		char *t = json_dumps(st, JSON_COMPACT);
		json_t *rec = json_object_get(st, "rec");
		if (!t || strlen(t) <= AH_MODEL_STATE_BYTES_MAX || !json_array_size(rec))
			return t && strlen(t) <= AH_MODEL_STATE_BYTES_MAX ? t : (free(t), NULL);
		free(t);
		size_t n = json_array_size(rec), drop = n / 2 ? n / 2 : 1;
		for (size_t i = 0; i < drop; i++)
			json_array_remove(rec, 0);
	}
}

/* ---- a state as a store -------------------------------------------------- */

static void load_record(ah_shadow *mem, const char *workload, json_t *e)
{
	ah_shadow_request r;
	memset(&r, 0, sizeof r);
	snprintf(r.workload, sizeof r.workload, "%s", workload);
	r.start_ns = json_integer_value(json_object_get(e, "s"));
	int64_t end = json_integer_value(json_object_get(e, "e"));
	const char *p = json_string_value(json_object_get(e, "p"));
	r.end_ns = -1;
	if (r.start_ns < 0 || end < r.start_ns || !p || ah_shadow_params_parse(p, r.params, &r.n_params, NULL, 0) < 0)
		return; /* not a record this code wrote: skipped */
	ah_shadow_req_dim dims[AH_MAX_DIMS];
	int nd = 0;
	const char *dim;
	json_t *pm;
	json_object_foreach(json_object_get(e, "d"), dim, pm)
	{
		double peak = json_number_value(json_array_get(pm, 0)), mean = json_number_value(json_array_get(pm, 1));
		if (nd == AH_MAX_DIMS || strlen(dim) >= sizeof dims[0].dim || !isfinite(peak) || !isfinite(mean))
			continue;
		memset(&dims[nd], 0, sizeof dims[nd]);
		snprintf(dims[nd].dim, sizeof dims[nd].dim, "%s", dim);
		dims[nd].peak = peak;
		dims[nd].mean = mean;
		dims[nd].predicted = dims[nd].last = NAN;
		dims[nd].last_ns = -1;
		nd++;
	}
	int64_t id;
	if (ah_shadow_request_add(mem, &r, &id) == 0)
		(void)ah_shadow_request_end(mem, id, end, dims, nd);
}

static void load_series(ah_shadow *mem, const char *workload, const char *dim, json_t *x)
{
	int64_t g = json_integer_value(json_object_get(x, "g")), sid;
	json_t *pts = json_object_get(x, "pts");
	size_t n = json_array_size(pts), k = 0;
	if (g <= 0 || !n || ah_shadow_series_ensure(mem, workload, dim, g, &sid) != 0)
		return;
	ah_shadow_point *v = calloc(n, sizeof *v);
	for (size_t i = 0; v && i < n; i++) {
		json_t *p = json_array_get(pts, i);
		ah_shadow_point q = {.t_ns = json_integer_value(json_array_get(p, 0)),
				     .width_ns = json_integer_value(json_array_get(p, 1)),
				     .mean = json_number_value(json_array_get(p, 2)),
				     .max = json_number_value(json_array_get(p, 3)),
				     .count = json_integer_value(json_array_get(p, 4))};
		if (q.t_ns >= 0 && q.width_ns > 0 && q.count > 0 && isfinite(q.mean) && isfinite(q.max))
			v[k++] = q;
	}
	if (v && k)
		(void)ah_shadow_append_points(mem, sid, v, k);
	free(v);
}

static int state_store(const char *workload, const char *text, ah_shadow **out)
{
	json_t *st = json_loads(text, 0, NULL);
	if (!json_is_object(st)) {
		json_decref(st);
		return AH_EPARSE;
	}
	ah_shadow *mem = NULL;
	int rc = ah_shadow_open(":memory:", &mem);
	if (rc == 0 && (rc = ah_shadow_begin(mem)) == 0) {
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(st, "rec"), i, e)
			load_record(mem, workload, e);
		const char *dim;
		json_object_foreach(json_object_get(st, "ser"), dim, e)
			load_series(mem, workload, dim, e);
		rc = ah_shadow_commit(mem);
	}
	json_decref(st);
	if (rc < 0) {
		ah_shadow_free(mem);
		return rc;
	}
	*out = mem;
	return 0;
}

/* ---- the cache and the one call ------------------------------------------ */

static ah_service_model *cache_find(ah_service *s, const char *workload)
{
	for (int i = 0; i < AH_SERVICE_MODELS; i++)
		if (s->models[i].mem && !strcmp(s->models[i].workload, workload))
			return &s->models[i];
	return NULL;
}

static void model_fini(ah_service_model *m)
{
	ah_shadow_predictor_free(m->pred);
	ah_shadow_free(m->mem);
	memset(m, 0, sizeof *m);
}

void ah_service_models_free(ah_service *s)
{
	for (int i = 0; i < AH_SERVICE_MODELS; i++)
		model_fini(&s->models[i]);
}

static ah_service_model *cache_slot(ah_service *s)
{
	ah_service_model *old = &s->models[0];
	for (int i = 0; i < AH_SERVICE_MODELS; i++) {
		if (!s->models[i].mem)
			return &s->models[i];
		if (s->models[i].used < old->used)
			old = &s->models[i];
	}
	model_fini(old);
	return old;
}

/* Merges the local history into the publication when it is newer, with a
 * compare on the key's revision; at most once per MODEL_PUBLISH_GAP_NS per
 * cached workload (false: not looked this time). *text and *rev: the
 * publication now. */
static bool publish(ah_service *s, const char *workload, const char *rel, char **text, long long *rev,
		    const ah_service_model *cached, int64_t now_ns)
{
	ah_shadow *sh = ah_service_shadow(s, false);
	if (!sh)
		return false;
	if (cached && cached->checked_ns && now_ns - cached->checked_ns < MODEL_PUBLISH_GAP_NS)
		return false;
	json_t *loc = local_state(s, sh, workload);
	if (!loc)
		return true; /* nothing of it here: looked, all the same */
	for (int t = 0; t < MODEL_PUT_TRIES; t++) {
		json_t *pub = *text ? json_loads(*text, 0, NULL) : NULL;
		int64_t at = json_integer_value(json_object_get(pub, "at"));
		if (pub && at >= json_integer_value(json_object_get(loc, "at"))) {
			json_decref(pub);
			break; /* nothing newer here */
		}
		json_t *m = merge(pub, loc);
		json_decref(pub);
		char *mt = m ? dump_bounded(m) : NULL;
		json_decref(m);
		long long nrev = 0;
		int rc = mt ? ah_ledger_etcd_aux_put(s->led, rel, mt, strlen(mt), *rev, &nrev) : AH_ENOMEM;
		if (rc == 0) {
			free(*text);
			*text = mt;
			*rev = nrev;
			break;
		}
		free(mt);
		if (rc != AH_EBUSY) {
			ah_service_warn(s, "model state of %s not published (%s)", workload, ah_ledger_errmsg(s->led));
			break;
		}
		/* another instance published meanwhile: merge into theirs */
		free(*text);
		*text = NULL;
		*rev = 0;
		if (ah_ledger_etcd_aux_get(s->led, rel, text, NULL, rev) < 0) {
			*text = NULL;
			*rev = 0;
		}
	}
	json_decref(loc);
	return true;
}

ah_shadow_predictor *ah_service_shared_predictor(ah_service *s, const char *workload, int64_t now_ns)
{
	if (!s || !workload || !ah_ledger_is_etcd(s->led))
		return NULL;
	char rel[AH_SHADOW_WORKLOAD_MAX + 16];
	snprintf(rel, sizeof rel, "model/%s", workload);
	char *text = NULL;
	long long rev = 0;
	int rc = ah_ledger_etcd_aux_get(s->led, rel, &text, NULL, &rev);
	if (rc < 0 && rc != AH_ENOENT) {
		ah_service_warn(s, "model state of %s unreadable (%s)", workload, ah_ledger_errmsg(s->led));
		return NULL;
	}
	ah_service_model *m = cache_find(s, workload);
	int64_t checked = publish(s, workload, rel, &text, &rev, m, now_ns) ? now_ns : m ? m->checked_ns : 0;
	if (!text)
		return NULL;
	if (m && m->rev == rev) {
		free(text);
		m->used = now_ns;
		m->checked_ns = checked;
		return m->pred;
	}
	if (m)
		model_fini(m);
	m = cache_slot(s);
	ah_shadow_predictor_opts po = {.max_requests = AH_MODEL_RECORDS_MAX, .max_samples = AH_MODEL_POINTS_MAX};
	if (state_store(workload, text, &m->mem) < 0 || ah_shadow_predictor_new(m->mem, &po, &m->pred) < 0) {
		ah_service_warn(s, "model state of %s: not one this version reads", workload);
		free(text);
		model_fini(m);
		return NULL;
	}
	free(text);
	snprintf(m->workload, sizeof m->workload, "%s", workload);
	m->rev = rev;
	m->used = now_ns;
	m->checked_ns = checked;
	return m->pred;
}
