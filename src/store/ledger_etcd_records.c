/* ahead: the etcd ledger's logs and the API's records: events (with each
 * live id's newest event), demand history, tokens, audit, idempotency keys
 * (key layout: docs/CLUSTER.md). Writes outside a transaction run in one
 * of their own (etcd_autocommit). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/api_records.h"
#include "ahead/error.h"
#include "store/ledger_etcd_int.h"
#include "store/ledger_internal.h"

#define PAGE 512

/* Visits [from, to) page by page (of page keys) at one revision; fn gets
 * each kv's key and value; a non-zero return stops the walk and is
 * returned. */
static int walk_n(etcd_ledger *m, const char *from, const char *to, bool keys_only, int64_t page,
		  int (*fn)(void *ctx, const char *key, const char *val, size_t vlen), void *ctx)
{
	char start[ETCD_KEY_MAX + 1];
	size_t slen = strlen(from);
	if (slen >= ETCD_KEY_MAX)
		return AH_ETOOBIG;
	memcpy(start, from, slen + 1);
	int64_t rev = 0;
	for (;;) {
		json_t *rq = json_object(), *r = NULL;
		json_object_set_new(rq, "key", etcd_b64(start, slen));
		json_object_set_new(rq, "range_end", etcd_b64s(to));
		json_object_set_new(rq, "limit", json_integer(page));
		if (rev)
			json_object_set_new(rq, "revision", json_integer(rev));
		if (keys_only)
			json_object_set_new(rq, "keys_only", json_true());
		int rc = etcd_call(m->c, "/v3/kv/range", rq, &r);
		json_decref(rq);
		if (rc < 0)
			return etcd_fail(m, rc);
		if (!rev)
			rev = etcd_revision(r);
		json_t *kvs = json_object_get(r, "kvs");
		size_t n = json_array_size(kvs);
		for (size_t i = 0; i < n && !rc; i++) {
			char *k = NULL, *v = NULL;
			size_t vl = 0;
			if ((rc = etcd_kv(json_array_get(kvs, i), &k, keys_only ? NULL : &v, &vl)) == 0) {
				rc = fn(ctx, k, v ? v : "", vl);
				if (i == n - 1) { /* the next page starts just after this key: key + NUL */
					slen = strlen(k);
					if (slen + 1 >= sizeof start)
						rc = AH_ETOOBIG;
					else {
						memcpy(start, k, slen);
						start[slen++] = '\0';
					}
				}
			}
			free(k);
			free(v);
		}
		bool more = json_is_true(json_object_get(r, "more"));
		json_decref(r);
		if (rc || !more || n == 0)
			return rc;
	}
}

static int walk(etcd_ledger *m, const char *from, const char *to, bool keys_only,
		int (*fn)(void *ctx, const char *key, const char *val, size_t vlen), void *ctx)
{
	return walk_n(m, from, to, keys_only, PAGE, fn, ctx);
}

static void range_of(const etcd_ledger *m, const char *what, char *from, char *to)
{
	etcd_key(m, from, "%s", what);
	etcd_prefix_end(from, to, ETCD_KEY_MAX);
}

static const char *jstr(const json_t *j, const char *f)
{
	const char *s = json_string_value(json_object_get(j, f));
	return s ? s : "";
}

static int64_t jint(const json_t *j, const char *f)
{
	return (int64_t)json_integer_value(json_object_get(j, f));
}

/* ---- events ------------------------------------------------------------ */

int etcd_event(ah_ledger *l, const ah_ledger_event *ev)
{
	etcd_ledger *m = (etcd_ledger *)l;
	if (!m->in_txn)
		return AH_ESTATE;
	char res[AH_LEDGER_VEC_TEXT] = "";
	if (ev->res && l->dims && ah_vec_format(l->dims, ev->res, res, sizeof res) < 0)
		res[0] = '\0';
	int64_t seq = ++m->h.ev;
	/* onto the transaction's page (ev/LAST, written by the commit); a live
	 * id's newest event is found from the log when it is loaded */
	etcd_page *pg = &m->ev_page;
	etcd_page_rec_begin(pg);
	etcd_page_int(pg, "seq", seq);
	etcd_page_int(pg, "t", ev->t_ns);
	etcd_page_int(pg, "k", (int)ev->kind);
	etcd_page_int(pg, "id", (int64_t)ev->id);
	etcd_page_str(pg, "te", ev->tenant);
	etcd_page_str(pg, "po", ev->pool);
	etcd_page_str(pg, "cl", ev->klass);
	etcd_page_str(pg, "r", res);
	etcd_page_str(pg, "re", ev->reason);
	etcd_page_str(pg, "de", ev->detail);
	etcd_page_str(pg, "da", ev->data);
	return etcd_page_rec_end(pg);
}

/* A log key holds a page {"b": [record, ...]} (one per commit, maybe
 * deflated: etcd_page.c), or one record (a ledger written before pages):
 * fn sees each record in order; a non-zero return stops. */
static int page_each(const char *val, size_t vlen, int (*fn)(void *ctx, json_t *rec), void *ctx)
{
	json_t *j = etcd_page_decode(val, vlen);
	if (!j)
		return 0;
	json_t *b = json_object_get(j, "b");
	int rc = 0;
	if (json_is_array(b)) {
		for (size_t i = 0; i < json_array_size(b) && !rc; i++)
			rc = fn(ctx, json_array_get(b, i));
	} else {
		rc = fn(ctx, j);
	}
	json_decref(j);
	return rc;
}

typedef struct {
	const ah_event_query *q;
	int (*fn)(void *ctx, const ah_event_row *ev);
	void *ctx;
	int sent;
} ev_walk;

static int ev_one(void *ctx, json_t *j)
{
	ev_walk *w = ctx;
	const ah_event_query *q = w->q;
	if (q->limit > 0 && w->sent >= q->limit)
		return 1;
	int kind = (int)jint(j, "k");
	ah_event_row row = {
		.seq = jint(j, "seq"), .t_ns = jint(j, "t"), .kind = ah_event_kind_name((ah_event_kind)kind),
		.id = (uint64_t)jint(j, "id"), .tenant = jstr(j, "te"), .pool = jstr(j, "po"), .klass = jstr(j, "cl"),
		.resources = jstr(j, "r"), .reason = jstr(j, "re"), .detail = jstr(j, "de"), .data = jstr(j, "da"),
	};
	if (row.seq > q->after_seq && (!q->id || row.id == q->id) && (!q->kinds || (q->kinds & (1u << kind))) &&
	    (!q->pool || !strcmp(row.pool, q->pool)) && (!q->since_ns || row.t_ns >= q->since_ns)) {
		w->sent++;
		return w->fn(w->ctx, &row);
	}
	return 0;
}

static int ev_visit(void *ctx, const char *key, const char *val, size_t vlen)
{
	(void)key;
	return page_each(val, vlen, ev_one, ctx);
}

int etcd_events(ah_ledger *l, const ah_event_query *q, int (*fn)(void *ctx, const ah_event_row *ev), void *ctx)
{
	etcd_ledger *m = (etcd_ledger *)l;
	char from[ETCD_KEY_MAX], to[ETCD_KEY_MAX];
	range_of(m, "ev/", from, to);
	etcd_key(m, from, "ev/%020lld", (long long)(q->after_seq > 0 ? q->after_seq + 1 : 0));
	ev_walk w = {.q = q, .fn = fn, .ctx = ctx};
	int rc = walk(m, from, to, false, ev_visit, &w);
	return rc == 1 && q->limit > 0 && w.sent >= q->limit ? 0 : rc;
}

static int seq_of(void *ctx, json_t *rec)
{
	*(int64_t *)ctx = jint(rec, "seq");
	return 1;
}

/* The first event kept: the first record of the first page. */
static int first_seq(etcd_ledger *m, int64_t *out)
{
	char from[ETCD_KEY_MAX], to[ETCD_KEY_MAX];
	range_of(m, "ev/", from, to);
	json_t *r = NULL;
	int rc = etcd_range(m, from, to, 1, 0, false, &r);
	if (rc < 0)
		return rc;
	json_t *kvs = json_object_get(r, "kvs");
	int64_t first = 0;
	if (json_array_size(kvs)) {
		char *k = NULL, *v = NULL;
		size_t vl = 0;
		if ((rc = etcd_kv(json_array_get(kvs, 0), &k, &v, &vl)) == 0)
			page_each(v, vl, seq_of, &first);
		free(k);
		free(v);
	}
	json_decref(r);
	if (rc == 0)
		*out = first;
	return rc;
}

int etcd_events_bounds(ah_ledger *l, int64_t *out_first, int64_t *out_last)
{
	etcd_ledger *m = (etcd_ledger *)l;
	int64_t rev, first = 0;
	etcd_head h;
	int rc = etcd_head_recent(m, &rev, &h);
	if (rc == 0 && h.ef <= 0)
		rc = first_seq(m, &first); /* a head of before "ef" */
	else if (rc == 0 && h.ef <= h.ev)
		first = h.ef;
	if (rc < 0)
		return rc;
	*out_last = h.ev;
	*out_first = first ? first : h.ev ? h.ev + 1 : 0;
	return 0;
}

typedef struct {
	int64_t before_ns, keep_min, total, seen, cut; /* cut: first seq kept */
} compact_walk;

typedef struct {
	int64_t n, first, t_last;
} page_sum;

static int page_sum_one(void *ctx, json_t *rec)
{
	page_sum *p = ctx;
	if (!p->n++)
		p->first = jint(rec, "seq");
	p->t_last = jint(rec, "t");
	return 0;
}

/* Whole pages only: one goes when all its events are older than the cut
 * and at least keep_min events stay after it. */
static int compact_visit(void *ctx, const char *key, const char *val, size_t vlen)
{
	(void)key;
	compact_walk *w = ctx;
	page_sum p = {0};
	page_each(val, vlen, page_sum_one, &p);
	if (!p.n)
		return 0;
	if (p.t_last >= w->before_ns || w->total - w->seen - p.n < w->keep_min) {
		w->cut = p.first;
		return 1;
	}
	w->seen += p.n;
	return 0;
}

typedef struct {
	int64_t cut;
} compact_args;

static int stage_compact(etcd_ledger *m, void *arg)
{
	const compact_args *a = arg;
	char from[ETCD_KEY_MAX], to[ETCD_KEY_MAX];
	etcd_key(m, from, "ev/");
	etcd_key(m, to, "ev/%020lld", (long long)a->cut);
	if (a->cut > m->h.ef)
		m->h.ef = a->cut;
	int rc = etcd_stage_range_delete(m, from, to);
	char vf[ETCD_KEY_MAX], vt[ETCD_KEY_MAX];
	range_of(m, "ver/", vf, vt); /* written before pages; unused */
	return rc ? rc : etcd_stage_range_delete(m, vf, vt);
}

int etcd_events_compact(ah_ledger *l, int64_t before_ns, int64_t keep_min, size_t *out_n)
{
	etcd_ledger *m = (etcd_ledger *)l;
	int64_t first = 0, last = 0;
	int rc = etcd_events_bounds(l, &first, &last);
	if (rc < 0)
		return rc;
	*out_n = 0;
	if (!first || first > last)
		return 0;
	char from[ETCD_KEY_MAX], to[ETCD_KEY_MAX];
	range_of(m, "ev/", from, to);
	compact_walk w = {.before_ns = before_ns, .keep_min = keep_min, .total = last - first + 1, .cut = last + 1};
	/* a few pages a range: the walk stops at the first page too new to go,
	 * which is usually the first (a range of 512 pages of a busy cluster
	 * was megabytes, read by every instance each sweep) */
	if ((rc = walk_n(m, from, to, false, 16, compact_visit, &w)) < 0)
		return rc;
	if (w.seen == 0)
		return 0;
	compact_args a = {.cut = w.cut};
	if ((rc = etcd_autocommit(m, stage_compact, &a)) < 0)
		return rc;
	*out_n = (size_t)w.seen;
	return 0;
}

/* ---- live ids and their newest event --------------------------------------- */

typedef struct {
	uint64_t *ids;
	size_t n, cap;
} id_list;

static int id_visit(void *ctx, const char *key, const char *val, size_t vlen)
{
	(void)val;
	(void)vlen;
	id_list *L = ctx;
	const char *slash = strrchr(key, '/');
	if (!slash)
		return 0;
	if (L->n == L->cap) {
		size_t nc = L->cap ? 2 * L->cap : 64;
		uint64_t *ni = realloc(L->ids, nc * sizeof *ni);
		if (!ni)
			return AH_ENOMEM;
		L->ids = ni;
		L->cap = nc;
	}
	L->ids[L->n++] = strtoull(slash + 1, NULL, 10);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

typedef struct {
	const id_list *L;
	int64_t *seq;
} ver_walk;

static int ver_one(void *ctx, json_t *rec)
{
	ver_walk *w = ctx;
	uint64_t id = (uint64_t)jint(rec, "id");
	if (!id)
		return 0;
	const uint64_t *hit = bsearch(&id, w->L->ids, w->L->n, sizeof id, cmp_u64);
	if (hit)
		w->seq[hit - w->L->ids] = jint(rec, "seq"); /* the log is in seq order */
	return 0;
}

static int ver_visit(void *ctx, const char *key, const char *val, size_t vlen)
{
	(void)key;
	return page_each(val, vlen, ver_one, ctx);
}

/* Each live id's newest event, from one walk of the log (the log kept
 * after compaction; 0 for an id whose events were all compacted). */
int etcd_alloc_versions(ah_ledger *l, int (*fn)(void *ctx, uint64_t id, int64_t last_seq), void *ctx)
{
	etcd_ledger *m = (etcd_ledger *)l;
	char from[ETCD_KEY_MAX], to[ETCD_KEY_MAX];
	id_list L = {0};
	int64_t *seq = NULL;
	int rc;
	range_of(m, "s/a/", from, to);
	if ((rc = walk(m, from, to, true, id_visit, &L)) < 0)
		goto out;
	range_of(m, "s/q/", from, to);
	if ((rc = walk(m, from, to, true, id_visit, &L)) < 0)
		goto out;
	if (!L.n)
		goto out;
	qsort(L.ids, L.n, sizeof *L.ids, cmp_u64);
	size_t u = 1;
	for (size_t i = 1; i < L.n; i++)
		if (L.ids[i] != L.ids[u - 1])
			L.ids[u++] = L.ids[i];
	L.n = u;
	if (!(seq = calloc(L.n, sizeof *seq))) {
		rc = AH_ENOMEM;
		goto out;
	}
	ver_walk vw = {.L = &L, .seq = seq};
	range_of(m, "ev/", from, to);
	if ((rc = walk(m, from, to, false, ver_visit, &vw)) < 0)
		goto out;
	for (size_t i = 0; i < L.n && !rc; i++)
		rc = fn(ctx, L.ids[i], seq[i]);
out:
	free(seq);
	free(L.ids);
	return rc;
}

/* ---- demand history ------------------------------------------------------- */

typedef struct {
	const ah_dimset *dims;
	const ah_demand_row *row;
	int64_t keep_after_ns;
	int max_rows;
} demand_args;

typedef struct {
	char **keys;
	int64_t *t;
	size_t n, cap;
} key_list;

static int key_visit(void *ctx, const char *key, const char *val, size_t vlen)
{
	(void)val;
	(void)vlen;
	key_list *K = ctx;
	if (K->n == K->cap) {
		size_t nc = K->cap ? 2 * K->cap : 64;
		char **nk = realloc(K->keys, nc * sizeof *nk);
		if (!nk)
			return AH_ENOMEM;
		K->keys = nk;
		int64_t *nt = realloc(K->t, nc * sizeof *nt);
		if (!nt)
			return AH_ENOMEM;
		K->t = nt;
		K->cap = nc;
	}
	const char *slash = strrchr(key, '/');
	if (!(K->keys[K->n] = strdup(key)))
		return AH_ENOMEM;
	K->t[K->n++] = slash ? strtoll(slash + 1, NULL, 10) : 0;
	return 0;
}

static void key_list_free(key_list *K)
{
	for (size_t i = 0; i < K->n; i++)
		free(K->keys[i]);
	free(K->keys);
	free(K->t);
}

static int stage_demand(etcd_ledger *m, void *arg)
{
	const demand_args *a = arg;
	char used[AH_LEDGER_VEC_TEXT], queued[AH_LEDGER_VEC_TEXT], classes[AH_LEDGER_CLASSES_TEXT];
	char key[ETCD_KEY_MAX], from[ETCD_KEY_MAX], to[ETCD_KEY_MAX];
	int rc = ah_demand_format(a->dims, a->row, used, queued, classes, sizeof classes);
	if (rc < 0)
		return rc;
	etcd_key(m, key, "dm/%s/%020lld", a->row->pool, (long long)a->row->t_ns);
	if ((rc = etcd_stage_json(m, key, json_pack("{sssssssI}", "u", used, "q", queued, "c", classes, "t",
						     (json_int_t)a->row->t_ns))) < 0)
		return rc;
	etcd_key(m, from, "dm/%s/", a->row->pool);
	etcd_prefix_end(from, to, sizeof to);
	key_list K = {0};
	if ((rc = walk(m, from, to, true, key_visit, &K)) < 0)
		goto out;
	/* the pool's rows with the new one, oldest first: the old ones go,
	 * then all but the newest max_rows (perhaps the new one itself) */
	bool have_new = false;
	for (size_t i = 0; i < K.n; i++)
		have_new |= !strcmp(K.keys[i], key);
	if (!have_new && (rc = key_visit(&K, key, "", 0)) < 0)
		goto out;
	size_t left = 0;
	for (size_t i = 0; i < K.n; i++)
		left += K.t[i] >= a->keep_after_ns;
	for (size_t i = 0; i < K.n; i++) {
		size_t j = i;
		while (j > 0 && K.t[j - 1] > K.t[j]) { /* the new key may sort anywhere */
			int64_t t = K.t[j];
			char *k = K.keys[j];
			K.t[j] = K.t[j - 1];
			K.keys[j] = K.keys[j - 1];
			K.t[j - 1] = t;
			K.keys[j - 1] = k;
			j--;
		}
	}
	for (size_t i = 0; i < K.n; i++) {
		bool old = K.t[i] < a->keep_after_ns;
		if (!old && left <= (size_t)a->max_rows)
			continue;
		if (!old)
			left--;
		if ((rc = etcd_stage(m, K.keys[i], NULL, 0)) < 0)
			goto out;
	}
out:
	key_list_free(&K);
	return rc;
}

int etcd_demand_put(ah_ledger *l, const ah_dimset *dims, const ah_demand_row *row, int64_t keep_after_ns,
		    int max_rows)
{
	demand_args a = {.dims = dims, .row = row, .keep_after_ns = keep_after_ns, .max_rows = max_rows};
	return etcd_autocommit((etcd_ledger *)l, stage_demand, &a);
}

typedef struct {
	int64_t t;
	char *pool;
	json_t *j;
} dm_row;

typedef struct {
	dm_row *rows;
	size_t n, cap;
	int64_t since_ns;
	size_t plen;
} dm_walk;

static int dm_visit(void *ctx, const char *key, const char *val, size_t vlen)
{
	dm_walk *w = ctx;
	json_t *j = json_loadb(val, vlen, 0, NULL);
	const char *p = key + w->plen, *slash = strrchr(p, '/');
	if (!j || !slash || jint(j, "t") < w->since_ns) {
		json_decref(j);
		return 0;
	}
	if (w->n == w->cap) {
		size_t nc = w->cap ? 2 * w->cap : 64;
		dm_row *nr = realloc(w->rows, nc * sizeof *nr);
		if (!nr) {
			json_decref(j);
			return AH_ENOMEM;
		}
		w->rows = nr;
		w->cap = nc;
	}
	dm_row *r = &w->rows[w->n];
	if (!(r->pool = strndup(p, (size_t)(slash - p)))) {
		json_decref(j);
		return AH_ENOMEM;
	}
	r->t = jint(j, "t");
	r->j = j;
	w->n++;
	return 0;
}

static int dm_cmp(const void *a, const void *b)
{
	const dm_row *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return strcmp(x->pool, y->pool);
}

int etcd_demand_load(ah_ledger *l, const ah_dimset *dims, int64_t since_ns,
		     int (*fn)(void *ctx, const ah_demand_row *row), void *ctx)
{
	etcd_ledger *m = (etcd_ledger *)l;
	char from[ETCD_KEY_MAX], to[ETCD_KEY_MAX];
	range_of(m, "dm/", from, to);
	dm_walk w = {.since_ns = since_ns, .plen = strlen(from)};
	int rc = walk(m, from, to, false, dm_visit, &w);
	ah_demand_row *row = malloc(sizeof *row);
	if (!row && rc == 0)
		rc = AH_ENOMEM;
	if (rc == 0 && w.n)
		qsort(w.rows, w.n, sizeof *w.rows, dm_cmp);
	for (size_t i = 0; i < w.n && rc == 0; i++) {
		const dm_row *d = &w.rows[i];
		if (ah_demand_parse(dims, d->pool, d->t, jstr(d->j, "u"), jstr(d->j, "q"), jstr(d->j, "c"), row) < 0)
			continue;
		rc = fn(ctx, row);
	}
	for (size_t i = 0; i < w.n; i++) {
		free(w.rows[i].pool);
		json_decref(w.rows[i].j);
	}
	free(w.rows);
	free(row);
	return rc;
}

/* ---- tokens --------------------------------------------------------------- */

static void hex(const uint8_t *b, size_t n, char *out)
{
	static const char H[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = H[b[i] >> 4];
		out[2 * i + 1] = H[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static void unhex(const char *s, uint8_t *b, size_t n)
{
	memset(b, 0, n);
	for (size_t i = 0; i < n && s[2 * i] && s[2 * i + 1]; i++) {
		unsigned v = 0;
		sscanf(s + 2 * i, "%2x", &v);
		b[i] = (uint8_t)v;
	}
}

static int stage_token(etcd_ledger *m, void *arg)
{
	const ah_token_row *t = arg;
	char key[ETCD_KEY_MAX], h[65];
	hex(t->hash, sizeof t->hash, h);
	etcd_key(m, key, "tok/%s", t->id);
	m->h.tg++;
	return etcd_stage_json(m, key,
			       json_pack("{s:s, s:s, s:i, s:s, s:s, s:I, s:I, s:I, s:s}", "id", t->id, "name", t->name, "role", (int)t->role,
					 "tenant", t->tenant, "hash", h, "c", (json_int_t)t->created_ns, "e",
					 (json_int_t)t->expires_ns, "rv", (json_int_t)t->revoked_ns, "rf",
					 t->rotated_from));
}

int etcd_token_put(ah_ledger *l, const ah_token_row *t)
{
	return etcd_autocommit((etcd_ledger *)l, stage_token, (void *)t);
}

typedef struct {
	ah_token_row *rows;
	size_t n, cap;
} tok_walk;

static int tok_visit(void *ctx, const char *key, const char *val, size_t vlen)
{
	(void)key;
	tok_walk *w = ctx;
	json_t *j = json_loadb(val, vlen, 0, NULL);
	if (!j)
		return 0;
	if (w->n == w->cap) {
		size_t nc = w->cap ? 2 * w->cap : 16;
		ah_token_row *nr = realloc(w->rows, nc * sizeof *nr);
		if (!nr) {
			json_decref(j);
			return AH_ENOMEM;
		}
		w->rows = nr;
		w->cap = nc;
	}
	ah_token_row *t = &w->rows[w->n++];
	memset(t, 0, sizeof *t);
	snprintf(t->id, sizeof t->id, "%s", jstr(j, "id"));
	snprintf(t->name, sizeof t->name, "%s", jstr(j, "name"));
	t->role = (ah_role)jint(j, "role");
	snprintf(t->tenant, sizeof t->tenant, "%s", jstr(j, "tenant"));
	unhex(jstr(j, "hash"), t->hash, sizeof t->hash);
	t->created_ns = jint(j, "c");
	t->expires_ns = jint(j, "e");
	t->revoked_ns = jint(j, "rv");
	snprintf(t->rotated_from, sizeof t->rotated_from, "%s", jstr(j, "rf"));
	json_decref(j);
	return 0;
}

static int tok_cmp(const void *a, const void *b)
{
	const ah_token_row *x = a, *y = b;
	if (x->created_ns != y->created_ns)
		return x->created_ns < y->created_ns ? -1 : 1;
	return strcmp(x->id, y->id);
}

int etcd_token_list(ah_ledger *l, int (*fn)(void *ctx, const ah_token_row *t), void *ctx)
{
	etcd_ledger *m = (etcd_ledger *)l;
	char from[ETCD_KEY_MAX], to[ETCD_KEY_MAX];
	range_of(m, "tok/", from, to);
	tok_walk w = {0};
	int rc = walk(m, from, to, false, tok_visit, &w);
	if (rc == 0 && w.n)
		qsort(w.rows, w.n, sizeof *w.rows, tok_cmp);
	for (size_t i = 0; i < w.n && rc == 0; i++)
		rc = fn(ctx, &w.rows[i]);
	free(w.rows);
	return rc;
}

int etcd_token_generation(ah_ledger *l, uint64_t *out_gen)
{
	etcd_ledger *m = (etcd_ledger *)l;
	if (m->in_txn) {
		*out_gen = (uint64_t)m->h.tg;
		return 0;
	}
	int64_t rev;
	etcd_head h;
	int rc = etcd_head_read(m, &rev, &h); /* fresh: a revoked token goes at once */
	if (rc == 0)
		*out_gen = (uint64_t)h.tg;
	return rc;
}

/* ---- audit ------------------------------------------------------------------ */

static int stage_audit(etcd_ledger *m, void *arg)
{
	const ah_audit_row *r = arg;
	int64_t seq = ++m->h.au;
	etcd_page *pg = &m->au_page; /* written as au/LAST by the commit */
	etcd_page_rec_begin(pg);
	etcd_page_int(pg, "seq", seq);
	etcd_page_int(pg, "t", r->t_ns);
	etcd_page_str(pg, "who", r->who);
	etcd_page_str(pg, "name", r->name);
	etcd_page_str(pg, "role", r->role);
	etcd_page_str(pg, "tenant", r->tenant);
	etcd_page_str(pg, "src", r->source);
	etcd_page_str(pg, "m", r->method);
	etcd_page_str(pg, "p", r->path);
	etcd_page_int(pg, "st", r->status);
	etcd_page_str(pg, "o", r->outcome);
	etcd_page_str(pg, "d", r->detail);
	return etcd_page_rec_end(pg);
}

int etcd_audit_put(ah_ledger *l, const ah_audit_row *r)
{
	return etcd_autocommit((etcd_ledger *)l, stage_audit, (void *)r);
}

typedef struct {
	const ah_audit_query *q;
	int (*fn)(void *ctx, const ah_audit_row *r);
	void *ctx;
	int sent;
} au_walk;

static int au_one(void *ctx, json_t *j)
{
	au_walk *w = ctx;
	if (w->q->limit > 0 && w->sent >= w->q->limit)
		return 1;
	ah_audit_row r = {.seq = jint(j, "seq"), .t_ns = jint(j, "t"), .who = jstr(j, "who"), .name = jstr(j, "name"),
			  .role = jstr(j, "role"), .tenant = jstr(j, "tenant"), .source = jstr(j, "src"),
			  .method = jstr(j, "m"), .path = jstr(j, "p"), .status = (int)jint(j, "st"),
			  .outcome = jstr(j, "o"), .detail = jstr(j, "d")};
	if (r.seq > w->q->after_seq && (!w->q->since_ns || r.t_ns >= w->q->since_ns) &&
	    (!w->q->who || !strcmp(r.who, w->q->who))) {
		w->sent++;
		return w->fn(w->ctx, &r);
	}
	return 0;
}

static int au_visit(void *ctx, const char *key, const char *val, size_t vlen)
{
	(void)key;
	return page_each(val, vlen, au_one, ctx);
}

int etcd_audit_list(ah_ledger *l, const ah_audit_query *q, int (*fn)(void *ctx, const ah_audit_row *r), void *ctx)
{
	etcd_ledger *m = (etcd_ledger *)l;
	char from[ETCD_KEY_MAX], to[ETCD_KEY_MAX];
	range_of(m, "au/", from, to);
	etcd_key(m, from, "au/%020lld", (long long)(q->after_seq > 0 ? q->after_seq + 1 : 0));
	au_walk w = {.q = q, .fn = fn, .ctx = ctx};
	int rc = walk(m, from, to, false, au_visit, &w);
	return rc == 1 && q->limit > 0 && w.sent >= q->limit ? 0 : rc;
}

/* ---- idempotency keys ---------------------------------------------------------- */

static void idem_key(const etcd_ledger *m, const char *scope, const char *key, char *out)
{
	etcd_key(m, out, "idem/%s/%s", scope, key);
}

static int idem_parse(const char *val, size_t vlen, const char *scope, const char *key,
		      int (*fn)(void *ctx, const ah_idem_row *r), void *ctx)
{
	json_t *j = json_loadb(val, vlen, 0, NULL);
	if (!j)
		return AH_ESTORE;
	ah_idem_row r = {.scope = scope, .key = key, .status = (int)jint(j, "st"), .body = jstr(j, "b"),
			 .t_ns = jint(j, "t")};
	unhex(jstr(j, "h"), r.req_hash, sizeof r.req_hash);
	int rc = fn(ctx, &r);
	json_decref(j);
	return rc;
}

int etcd_idem_get(ah_ledger *l, const char *scope, const char *key, int (*fn)(void *ctx, const ah_idem_row *r),
		  void *ctx)
{
	etcd_ledger *m = (etcd_ledger *)l;
	char k[ETCD_KEY_MAX];
	idem_key(m, scope, key, k);
	const etcd_op *o = m->in_txn ? etcd_staged(m, k) : NULL;
	if (o)
		return o->val ? idem_parse(o->val, o->vlen, scope, key, fn, ctx) : AH_ENOENT;
	if (m->in_txn && etcd_absent(m, k))
		return AH_ENOENT;
	if (m->in_txn && m->idem_opt) {
		/* assumed absent, unread: the commit compares its version with 0 */
		int orc = etcd_opt_note(m, k);
		if (orc == 0)
			return AH_ENOENT;
	}
	json_t *r = NULL;
	int rc = etcd_range(m, k, NULL, 1, 0, false, &r);
	if (rc < 0)
		return rc;
	json_t *kvs = json_object_get(r, "kvs");
	if (!json_array_size(kvs)) {
		json_decref(r);
		etcd_absent_note(m, k);
		return AH_ENOENT;
	}
	char *kk = NULL, *v = NULL;
	size_t vl = 0;
	if ((rc = etcd_kv(json_array_get(kvs, 0), &kk, &v, &vl)) == 0)
		rc = idem_parse(v, vl, scope, key, fn, ctx);
	free(kk);
	free(v);
	json_decref(r);
	return rc;
}

static int idem_seen(void *ctx, const ah_idem_row *r)
{
	(void)ctx;
	(void)r;
	return 0;
}

/* A bucket: a quarter of the keep, at most a minute (as the Kubernetes API
 * server reuses a lease for a minute's keys), at least a second. Each
 * lease's end deletes its keys in one step on every member, so the bucket
 * bounds that step: a minute's keyed writes. */
#define IDEM_BUCKET_MAX_NS INT64_C(60000000000)
#define IDEM_BUCKET_MIN_NS INT64_C(1000000000)

/* The lease this bucket's idempotency keys go on: granted for keep + one
 * bucket, used for one bucket, so every key lives at least keep. 0 when
 * keys are not leased or no lease could be granted (the sweep then
 * deletes the key, as before leases). */
static int64_t idem_lease(etcd_ledger *m)
{
	if (m->idem_keep_ns <= 0)
		return 0;
	int64_t now = etcd_mono_ns();
	if (m->idem_lease && now < m->idem_lease_until_ns)
		return m->idem_lease;
	int64_t bucket = m->idem_keep_ns / 4;
	bucket = bucket > IDEM_BUCKET_MAX_NS ? IDEM_BUCKET_MAX_NS : bucket < IDEM_BUCKET_MIN_NS ? IDEM_BUCKET_MIN_NS : bucket;
	int64_t ttl_s = (m->idem_keep_ns + bucket) / 1000000000 + 2;
	json_t *rq = json_pack("{sI}", "TTL", (json_int_t)ttl_s), *r = NULL;
	int rc = rq ? etcd_call(m->c, "/v3/lease/grant", rq, &r) : AH_ENOMEM;
	json_decref(rq);
	int64_t id = rc == 0 ? etcd_i64(r, "ID") : 0;
	json_decref(r);
	m->idem_lease = id;
	/* a failed grant is tried again a second later, not on every key */
	m->idem_lease_until_ns = now + (id ? bucket : INT64_C(1000000000));
	return id;
}

static int stage_idem(etcd_ledger *m, void *arg)
{
	const ah_idem_row *r = arg;
	char k[ETCD_KEY_MAX], h[65];
	idem_key(m, r->scope, r->key, k);
	const etcd_op *o = etcd_staged(m, k);
	if (o && o->val)
		return AH_EEXIST;
	if (!o && !etcd_absent(m, k)) {
		int rc = etcd_idem_get(&m->base, r->scope, r->key, idem_seen, NULL);
		if (rc == 0)
			return AH_EEXIST;
		if (rc != AH_ENOENT)
			return rc;
	}
	hex(r->req_hash, sizeof r->req_hash, h);
	if (!r->body)
		return AH_EINVAL;
	etcd_page v = {0}; /* the record's text, without a tree (etcd_page.c) */
	etcd_page_rec_begin(&v);
	etcd_page_str(&v, "h", h);
	etcd_page_int(&v, "st", r->status);
	etcd_page_str(&v, "b", r->body);
	etcd_page_int(&v, "t", r->t_ns);
	int rc = etcd_page_rec_end(&v);
	if (rc == 0)
		rc = etcd_stage(m, k, v.p, v.len);
	etcd_page_reset(&v);
	etcd_op *op = rc == 0 ? etcd_staged_mut(m, k) : NULL;
	if (op && !(op->lease = idem_lease(m)))
		m->idem_unleased = true;
	return rc;
}

int etcd_idem_put(ah_ledger *l, const ah_idem_row *r)
{
	return etcd_autocommit((etcd_ledger *)l, stage_idem, (void *)r);
}

typedef struct {
	int64_t before_ns;
	key_list K;
} sweep_walk;

static int sweep_visit(void *ctx, const char *key, const char *val, size_t vlen)
{
	sweep_walk *w = ctx;
	json_t *j = json_loadb(val, vlen, 0, NULL);
	int64_t t = jint(j, "t");
	json_decref(j);
	return t < w->before_ns ? key_visit(&w->K, key, "", 0) : 0;
}

typedef struct {
	key_list *K;
	size_t from, to;
} sweep_args;

static int stage_sweep(etcd_ledger *m, void *arg)
{
	const sweep_args *a = arg;
	int rc = 0;
	for (size_t i = a->from; i < a->to && !rc; i++)
		rc = etcd_stage(m, a->K->keys[i], NULL, 0);
	return rc;
}

/* A sweep reads one range of PAGE keys, from where the last one stopped
 * (m->idem_cursor), wrapping at the end: a walk of every key each minute,
 * on every instance, read the whole keyspace (hundreds of MB once a busy
 * cluster has kept a day of keys) and held the instance's loop for
 * seconds, longer than the writer's lease. One range, not more: etcd 3.4
 * (Debian's 3.4.23) gathers every key of a range's [key, range_end) before
 * it applies the limit, and counts them all (etcd-io/etcd#11057, fixed for
 * the limit in 3.5 and 3.4.24 by #11990/#15137, not for the count), so
 * each range over idem/ costs etcd, and this loop, time in proportion to
 * all the keys kept: about 100 ms at 185,000 (bench/run cluster, a minute
 * in). Leased keys, which etcd expires itself, need no range: below. */
static int sweep_slice(etcd_ledger *m, const char *from, const char *to, sweep_walk *w)
{
	json_t *r = NULL;
	int rc = etcd_range(m, m->idem_cursor[0] ? m->idem_cursor : from, to, PAGE, 0, false, &r);
	if (rc < 0)
		return rc;
	json_t *kvs = json_object_get(r, "kvs");
	for (size_t i = 0; i < json_array_size(kvs) && rc == 0; i++) {
		char *k = NULL, *v = NULL;
		size_t vl = 0;
		/* a slice starts at the last key the one before read: not twice */
		if ((rc = etcd_kv(json_array_get(kvs, i), &k, &v, &vl)) == 0 && !(i == 0 && !strcmp(k, m->idem_cursor))) {
			rc = sweep_visit(w, k, v ? v : "", vl);
			snprintf(m->idem_cursor, sizeof m->idem_cursor, "%s", k);
		}
		free(k);
		free(v);
	}
	if (!json_is_true(json_object_get(r, "more")))
		m->idem_cursor[0] = '\0'; /* the end: the next starts over */
	json_decref(r);
	return rc;
}

/* With this handle's keys all leased, etcd expires them itself and the
 * sweep's range only finds keys written without a lease elsewhere (before
 * leases, or when a grant failed): once an hour is enough for those, and
 * each range costs etcd 3.4 time in proportion to every key kept (above:
 * 260-290 ms at bench/run cluster's 250,000 keys, in the writer's loop). */
#define ETCD_IDEM_LEASED_SWEEP_NS (INT64_C(3600) * 1000000000)

int etcd_idem_sweep(ah_ledger *l, int64_t before_ns, size_t *out_n)
{
	etcd_ledger *m = (etcd_ledger *)l;
	int64_t now = etcd_mono_ns();
	if (m->idem_keep_ns > 0 && !m->idem_unleased) {
		if (now < m->idem_next_sweep_ns) {
			*out_n = 0;
			return 0;
		}
		m->idem_next_sweep_ns = now + ETCD_IDEM_LEASED_SWEEP_NS;
	}
	char from[ETCD_KEY_MAX], to[ETCD_KEY_MAX];
	range_of(m, "idem/", from, to);
	sweep_walk w = {.before_ns = before_ns};
	int rc = sweep_slice(m, from, to, &w);
	/* in slices: etcd caps the operations of one transaction */
	for (size_t i = 0; i < w.K.n && rc == 0; i += 100) {
		sweep_args a = {.K = &w.K, .from = i, .to = i + 100 < w.K.n ? i + 100 : w.K.n};
		rc = etcd_autocommit(m, stage_sweep, &a);
	}
	if (rc == 0)
		*out_n = w.K.n;
	key_list_free(&w.K);
	return rc;
}
