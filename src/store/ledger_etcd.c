/* ahead: the etcd ledger — transactions, the engine's state and the policy
 * (include/ahead/ledger_etcd.h; the API's records: ledger_etcd_records.c;
 * the gateway: etcd_client.c). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ahead/error.h"
#include "ahead/ledger_etcd.h"
#include "ahead/names.h"
#include "store/etcd_watch_int.h"
#include "store/ledger_etcd_int.h"
#include "store/ledger_internal.h"

static const ah_ledger_ops etcd_ops;
static int64_t mono_ns(void);

static void head_seen(etcd_ledger *m, int64_t rev, const etcd_head *h)
{
	m->seen_rev = rev;
	m->seen_h = *h;
	m->seen_ns = mono_ns();
	m->seen_ok = true;
}

void etcd_key(const etcd_ledger *m, char *out, const char *fmt, ...)
{
	int n = snprintf(out, ETCD_KEY_MAX, "%s/", m->prefix);
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && n < ETCD_KEY_MAX)
		vsnprintf(out + n, ETCD_KEY_MAX - (size_t)n, fmt, ap);
	va_end(ap);
}

int etcd_fail(etcd_ledger *m, int rc)
{
	snprintf(m->errmsg, sizeof m->errmsg, "%s", etcd_client_errmsg(m->c));
	return rc;
}

/* ---- staged writes --------------------------------------------------- */

static void op_free(etcd_op *o)
{
	free(o->key);
	free(o->end);
	free(o->val);
}

static void stage_clear(etcd_ledger *m)
{
	for (int i = 0; i < m->n_ops; i++)
		op_free(&m->ops[i]);
	for (int i = 0; i < m->n_absent; i++)
		free(m->absent[i]);
	for (int i = 0; i < m->n_opt; i++)
		free(m->opt[i]);
	m->n_ops = m->n_pre = m->n_absent = m->n_opt = 0;
	etcd_page_reset(&m->ev_page);
	etcd_page_reset(&m->au_page);
}

bool etcd_has_writes(const etcd_ledger *m)
{
	return m->n_ops > 0 || m->ev_page.n || m->au_page.n;
}

/* A page's key is its LAST seq, so a range from KIND/(S + 1) starts at the
 * page holding S + 1. */
static int page_stage(etcd_ledger *m, const char *kind, int64_t last, etcd_page *page)
{
	if (!page->n)
		return 0;
	char key[ETCD_KEY_MAX];
	etcd_key(m, key, "%s/%020lld", kind, (long long)last);
	char *val = NULL;
	size_t vlen = 0;
	int rc = etcd_page_encode(page, &val, &vlen);
	etcd_page_reset(page);
	if (rc == 0)
		rc = etcd_stage(m, key, val, vlen);
	free(val);
	return rc;
}

static int str_push(char ***v, int *n, int *cap, const char *s)
{
	if (*n == *cap) {
		int nc = *cap ? 2 * *cap : 32;
		char **nv = realloc(*v, sizeof *nv * (size_t)nc);
		if (!nv)
			return AH_ENOMEM;
		*v = nv;
		*cap = nc;
	}
	if (!((*v)[*n] = strdup(s)))
		return AH_ENOMEM;
	(*n)++;
	return 0;
}

int etcd_opt_note(etcd_ledger *m, const char *key)
{
	int rc = str_push(&m->opt, &m->n_opt, &m->cap_opt, key);
	if (rc == 0)
		etcd_absent_note(m, key);
	return rc;
}

void etcd_absent_note(etcd_ledger *m, const char *key)
{
	if (!m->in_txn || etcd_absent(m, key))
		return;
	if (m->n_absent == m->cap_absent) {
		int nc = m->cap_absent ? 2 * m->cap_absent : 32;
		char **na = realloc(m->absent, sizeof *na * (size_t)nc);
		if (!na)
			return; /* only a shortcut lost */
		m->absent = na;
		m->cap_absent = nc;
	}
	if ((m->absent[m->n_absent] = strdup(key)))
		m->n_absent++;
}

bool etcd_absent(const etcd_ledger *m, const char *key)
{
	for (int i = m->n_absent - 1; i >= 0; i--)
		if (!strcmp(m->absent[i], key))
			return true;
	return false;
}

const etcd_op *etcd_staged(const etcd_ledger *m, const char *key)
{
	return etcd_staged_mut((etcd_ledger *)(uintptr_t)m, key);
}

etcd_op *etcd_staged_mut(etcd_ledger *m, const char *key)
{
	for (int i = m->n_ops - 1; i >= 0; i--)
		if (!m->ops[i].end && !strcmp(m->ops[i].key, key))
			return &m->ops[i];
	return NULL;
}

static int stage_op(etcd_ledger *m, const char *key, const char *end, const char *val, size_t vlen)
{
	etcd_op o = {.key = strdup(key), .end = end ? strdup(end) : NULL, .vlen = vlen};
	if (val && (o.val = malloc(vlen + 1))) {
		memcpy(o.val, val, vlen);
		o.val[vlen] = '\0';
	}
	if (!o.key || (end && !o.end) || (val && !o.val)) {
		op_free(&o);
		return AH_ENOMEM;
	}
	if (!end)
		for (int i = 0; i < m->n_ops; i++)
			if (!m->ops[i].end && !strcmp(m->ops[i].key, key)) {
				op_free(&m->ops[i]);
				m->ops[i] = o;
				return 0;
			}
	if (m->n_ops == m->cap_ops) {
		int nc = m->cap_ops ? 2 * m->cap_ops : 32;
		etcd_op *no = realloc(m->ops, sizeof *no * (size_t)nc);
		if (!no) {
			op_free(&o);
			return AH_ENOMEM;
		}
		m->ops = no;
		m->cap_ops = nc;
	}
	m->ops[m->n_ops++] = o;
	return 0;
}

int etcd_stage(etcd_ledger *m, const char *key, const char *val, size_t vlen)
{
	return stage_op(m, key, NULL, val, vlen);
}

int etcd_stage_range_delete(etcd_ledger *m, const char *key, const char *end)
{
	return stage_op(m, key, end, NULL, 0);
}

int etcd_stage_json(etcd_ledger *m, const char *key, json_t *val)
{
	char *s = val ? json_dumps(val, JSON_COMPACT) : NULL;
	json_decref(val);
	if (!s)
		return AH_ENOMEM;
	int rc = etcd_stage(m, key, s, strlen(s));
	free(s);
	return rc;
}

/* ---- reads ----------------------------------------------------------- */

int etcd_range(etcd_ledger *m, const char *key, const char *end, int64_t limit, int64_t rev, bool keys_only,
	       json_t **out)
{
	json_t *rq = json_object();
	json_object_set_new(rq, "key", etcd_b64s(key));
	if (end)
		json_object_set_new(rq, "range_end", etcd_b64s(end));
	if (limit > 0)
		json_object_set_new(rq, "limit", json_integer(limit));
	if (rev > 0)
		json_object_set_new(rq, "revision", json_integer(rev));
	if (keys_only)
		json_object_set_new(rq, "keys_only", json_true());
	int rc = etcd_call(m->c, "/v3/kv/range", rq, out);
	json_decref(rq);
	return rc < 0 ? etcd_fail(m, rc) : 0;
}

int etcd_kv(const json_t *kv, char **key, char **val, size_t *vlen)
{
	int rc = 0;
	*key = NULL;
	if (val)
		*val = NULL;
	const char *k = json_string_value(json_object_get(kv, "key"));
	const char *v = json_string_value(json_object_get(kv, "value"));
	if ((rc = etcd_unb64(k ? k : "", key, NULL)) < 0)
		return rc;
	if (val && (rc = etcd_unb64(v ? v : "", val, vlen)) < 0) {
		free(*key);
		*key = NULL;
	}
	return rc;
}

int etcd_get_json(etcd_ledger *m, const char *key, json_t **out, int64_t *mod_rev)
{
	json_t *r = NULL;
	int rc = etcd_range(m, key, NULL, 1, 0, false, &r);
	if (rc < 0)
		return rc;
	json_t *kvs = json_object_get(r, "kvs");
	if (!json_array_size(kvs)) {
		json_decref(r);
		return AH_ENOENT;
	}
	char *k = NULL, *v = NULL;
	size_t vl = 0;
	if ((rc = etcd_kv(json_array_get(kvs, 0), &k, &v, &vl)) == 0) {
		if (mod_rev)
			*mod_rev = etcd_i64(json_array_get(kvs, 0), "mod_revision");
		if (!(*out = json_loadb(v, vl, 0, NULL))) {
			snprintf(m->errmsg, sizeof m->errmsg, "etcd key %s: not JSON", key);
			rc = AH_ESTORE;
		}
	}
	free(k);
	free(v);
	json_decref(r);
	return rc;
}

static void head_from_json(const json_t *j, etcd_head *h)
{
	memset(h, 0, sizeof *h);
	h->n = json_integer_value(json_object_get(j, "n"));
	h->ev = json_integer_value(json_object_get(j, "ev"));
	h->au = json_integer_value(json_object_get(j, "au"));
	h->tg = json_integer_value(json_object_get(j, "tg"));
	h->pg = json_integer_value(json_object_get(j, "pg"));
	h->id = json_integer_value(json_object_get(j, "id"));
	h->ef = json_integer_value(json_object_get(j, "ef"));
}

static json_t *head_to_json(const etcd_head *h)
{
	json_t *j = json_pack("{sIsIsIsIsIsI}", "n", (json_int_t)h->n, "ev", (json_int_t)h->ev, "au",
			      (json_int_t)h->au, "tg", (json_int_t)h->tg, "pg", (json_int_t)h->pg, "id", (json_int_t)h->id);
	if (j && h->ef > 0)
		json_object_set_new(j, "ef", json_integer(h->ef));
	return j;
}

int etcd_head_read(etcd_ledger *m, int64_t *rev, etcd_head *h)
{
	char key[ETCD_KEY_MAX];
	etcd_key(m, key, "s/head");
	json_t *j = NULL;
	int rc = etcd_get_json(m, key, &j, rev);
	if (rc == AH_ENOENT) {
		*rev = 0;
		memset(h, 0, sizeof *h);
		return 0;
	}
	if (rc < 0)
		return rc;
	head_from_json(j, h);
	json_decref(j);
	head_seen(m, *rev, h);
	return 0;
}

int etcd_head_recent(etcd_ledger *m, int64_t *rev, etcd_head *h)
{
	if (m->seen_ok && mono_ns() - m->seen_ns < ETCD_HEAD_RECENT_NS) {
		*rev = m->seen_rev;
		*h = m->seen_h;
		return 0;
	}
	return etcd_head_read(m, rev, h);
}

/* ---- the instance key ------------------------------------------------- */

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t etcd_mono_ns(void)
{
	return mono_ns();
}

/* The instance key's value: its pid, the node it serves, and the view it
 * published. */
static int instance_put(etcd_ledger *m)
{
	const ah_ledger_etcd_view *v = &m->view;
	json_t *val = json_pack("{sI}", "pid", (json_int_t)getpid());
	if (!val)
		return AH_ENOMEM;
	if (m->node[0])
		json_object_set_new(val, "node", json_string(m->node));
	if (m->have_view) {
		json_object_set_new(val, "view_rev", json_integer(v->view_rev));
		json_object_set_new(val, "watching", json_boolean(v->watching));
		json_object_set_new(val, "watch_up", json_boolean(v->watch_up));
		json_object_set_new(val, "watch_rev", json_integer(v->watch_rev));
		json_object_set_new(val, "relists", json_integer(v->relists));
		json_object_set_new(val, "lag_ms", json_integer(v->lag_ms));
		if (v->enforce_errors)
			json_object_set_new(val, "enforce_errors", json_integer(v->enforce_errors));
		if (v->kills)
			json_object_set_new(val, "kills", json_integer(v->kills));
	}
	char *text = json_dumps(val, JSON_COMPACT);
	json_decref(val);
	if (!text)
		return AH_ENOMEM;
	json_t *rq = json_object(), *r = NULL;
	json_object_set_new(rq, "key", etcd_b64s(m->inst_key));
	json_object_set_new(rq, "value", etcd_b64s(text));
	json_object_set_new(rq, "lease", json_integer(m->lease));
	free(text);
	int rc = etcd_call(m->c, "/v3/kv/put", rq, &r);
	json_decref(rq);
	if (rc < 0) {
		if (strstr(etcd_client_errmsg(m->c), "lease not found"))
			m->lease = 0; /* lapsed: the next keepalive grants one again */
		return etcd_fail(m, rc);
	}
	json_decref(r);
	return 0;
}

/* A lease, and the instance key on it: who is alive (never who may write). */
static int instance_register(etcd_ledger *m)
{
	json_t *rq = json_pack("{sI}", "TTL", (json_int_t)m->lease_ttl_s), *r = NULL;
	int rc = etcd_call(m->c, "/v3/lease/grant", rq, &r);
	json_decref(rq);
	if (rc < 0)
		return etcd_fail(m, rc);
	m->lease = etcd_i64(r, "ID");
	json_decref(r);
	m->keepalive_at_ns = mono_ns();
	return instance_put(m);
}

/* Keeps the lease alive: from the daemon's timer every third of the TTL
 * (ah_ledger_etcd_keepalive), from a commit only when that is overdue
 * (two thirds: a daemon whose timer is late, or a process without one). A
 * lease that expired meanwhile (an instance cut off longer than the TTL)
 * is granted again. Failures are not the commit's: they are only logged in
 * errmsg. */
static int instance_keepalive(etcd_ledger *m, bool from_timer)
{
	if (m->lease_ttl_s <= 0)
		return 0;
	int64_t now = mono_ns(), due_ns = (int64_t)m->lease_ttl_s * 1000000000 / 3 * (from_timer ? 1 : 2);
	if (m->lease && now - m->keepalive_at_ns < due_ns)
		return 0;
	if (!m->lease)
		return instance_register(m);
	json_t *rq = json_pack("{sI}", "ID", (json_int_t)m->lease), *r = NULL;
	int rc = etcd_call(m->c, "/v3/lease/keepalive", rq, &r);
	json_decref(rq);
	if (rc == 0) {
		json_t *res = json_object_get(r, "result");
		if (etcd_i64(res ? res : r, "TTL") <= 0) {
			m->lease = 0; /* expired: granted again at once */
			rc = instance_register(m);
		} else
			m->keepalive_at_ns = now;
	}
	json_decref(r);
	return rc;
}

int etcd_instance_refresh(etcd_ledger *m)
{
	if (m->lease_ttl_s <= 0)
		return AH_ESTATE; /* a handle without an instance key (a CLI) */
	return m->lease ? instance_put(m) : instance_register(m);
}

int ah_ledger_etcd_keepalive(ah_ledger *l)
{
	if (!ah_ledger_is_etcd(l))
		return AH_EINVAL;
	return instance_keepalive((etcd_ledger *)l, true);
}

/* ---- where the time goes ---------------------------------------------- */

/* One line of counters in $AHEAD_ETCD_PROFILE/etcd.PID (a bench reads it). */
static void prof_dump(etcd_ledger *m, bool now)
{
	if (!m->prof.dir)
		return;
	int64_t t = mono_ns();
	if (!now && t - m->prof.at_ns < 1000000000)
		return;
	m->prof.at_ns = t;
	char path[512], tmp[530];
	snprintf(path, sizeof path, "%s/etcd.%ld", m->prof.dir, (long)getpid());
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	const etcd_client_stats *st = etcd_client_stats_get(m->c);
	fprintf(f,
		"begins=%lld opt_begins=%lld snap_loads=%lld mirror_loads=%lld stale_begins=%lld commits=%lld refused=%lld loads=%lld load_ms=%lld ops=%lld "
		"range=%lld range_ms=%lld txn=%lld txn_ms=%lld put=%lld put_ms=%lld lease=%lld lease_ms=%lld\n",
		(long long)m->prof.begins, (long long)m->prof.opt_begins, (long long)m->prof.snap_loads,
		(long long)m->prof.mirror_loads,
		(long long)m->prof.stale_begins, (long long)m->prof.commits,
		(long long)m->prof.refused, (long long)m->prof.loads, (long long)(m->prof.load_ns / 1000000),
		(long long)m->prof.ops, (long long)st->calls[0], (long long)(st->ns[0] / 1000000),
		(long long)st->calls[1], (long long)(st->ns[1] / 1000000), (long long)st->calls[2],
		(long long)(st->ns[2] / 1000000), (long long)st->calls[3], (long long)(st->ns[3] / 1000000));
	fclose(f);
	rename(tmp, path);
}

/* ---- transactions ----------------------------------------------------- */

static int e_begin(ah_ledger *l)
{
	etcd_ledger *m = (etcd_ledger *)l;
	stage_clear(m);
	m->in_txn = false;
	int64_t rev;
	etcd_head h;
	m->begin_opt = m->loaded && !m->stale && m->seen_ok && m->seen_rev == m->rev && m->rev > 0 &&
		       mono_ns() - m->seen_ns < ETCD_HEAD_RECENT_NS;
	if (m->snap) { /* a refused txn's answer says where head is */
		m->begin_opt = true;
		rev = m->snap_rev;
		h = m->snap_h;
	} else if (m->begin_opt) {
		rev = m->rev;
		h = m->seen_h;
	} else {
		int rc = etcd_head_read(m, &rev, &h);
		if (rc < 0)
			return rc;
	}
	(void)instance_keepalive(m, false);
	m->in_txn = true;
	m->loaded_in_txn = false;
	m->idem_opt = !m->idem_read;
	m->h = m->h0 = h;
	m->prof.begins++;
	m->prof.opt_begins += m->begin_opt;
	prof_dump(m, false);
	if (rev != m->rev) {
		m->prof.stale_begins++;
		m->rev = rev;
		m->stale = true; /* the caller loads now; commit refuses until it has */
		return 1;
	}
	return 0;
}

/* The txn: compare head's mod revision with cmp_rev, then every staged op
 * and head rewritten. 1: the compare failed (nothing written). */
static int txn_send(etcd_ledger *m, int64_t cmp_rev, int64_t *new_rev)
{
	char hk[ETCD_KEY_MAX];
	etcd_key(m, hk, "s/head");
	m->h.n++;
	if (cmp_rev <= 0 && m->h.ef <= 0)
		m->h.ef = 1; /* a new ledger: its events start at 1 */
	int rc = page_stage(m, "ev", m->h.ev, &m->ev_page);
	if (rc == 0)
		rc = page_stage(m, "au", m->h.au, &m->au_page);
	if (rc == 0)
		rc = etcd_stage_json(m, hk, head_to_json(&m->h));
	if (rc < 0)
		return rc;
	m->prof.ops += m->n_ops;
	int n_cmp = 0;
	etcd_cmp *cmps = malloc(sizeof *cmps * (size_t)(2 + m->n_opt + m->n_pre));
	char(*nks)[ETCD_KEY_MAX] = m->n_pre ? malloc(sizeof *nks * (size_t)m->n_pre) : NULL;
	json_t *r = NULL;
	if (!cmps || (m->n_pre && !nks)) {
		free(cmps);
		free(nks);
		snprintf(m->errmsg, sizeof m->errmsg, "etcd: out of memory");
		return AH_ENOMEM;
	}
	/* head as the decision read it; a new ledger: head absent */
	cmps[n_cmp++] = cmp_rev > 0 ? (etcd_cmp){hk, ETCD_CMP_MOD, cmp_rev} : (etcd_cmp){hk, ETCD_CMP_VERSION, 0};
	/* idempotency keys assumed absent: still absent (version 0) */
	for (int i = 0; i < m->n_opt; i++)
		cmps[n_cmp++] = (etcd_cmp){m->opt[i], ETCD_CMP_VERSION, 0};
	/* a placement's node: its record (capacity, labels, cordon) as the
	 * decision read it */
	for (int i = 0; i < m->n_pre; i++)
		if (m->pre[i].kind == AH_PRECOND_NODE && m->pre[i].version > 0) {
			etcd_key(m, nks[i], "node/%s", m->pre[i].key);
			cmps[n_cmp++] = (etcd_cmp){nks[i], ETCD_CMP_MOD, (int64_t)m->pre[i].version};
		}
	if (m->fence_rev > 0) /* a deposed shaper's late write fails here */
		cmps[n_cmp++] = (etcd_cmp){m->fence_key, ETCD_CMP_CREATE, m->fence_rev};
	/* on failure: the state as it is now (the next load takes it), head in it */
	char from[ETCD_KEY_MAX], to[ETCD_KEY_MAX];
	etcd_key(m, from, "s/");
	etcd_prefix_end(from, to, sizeof to);
	etcd_txn_req t = {.cmp = cmps, .n_cmp = n_cmp, .ops = m->ops, .n_ops = m->n_ops, .fail_from = from, .fail_to = to};
	rc = etcd_txn(m->c, &t, &r);
	free(cmps);
	free(nks);
	if (rc < 0) {
		/* the idempotency keys' lease is gone (etcd restored from an
		 * older snapshot, or a clock far off): the next one is granted
		 * anew, and this commit's caller decides again */
		if (strstr(etcd_client_errmsg(m->c), "lease not found"))
			m->idem_lease = 0;
		return etcd_fail(m, rc);
	}
	bool ok = json_is_true(json_object_get(r, "succeeded"));
	*new_rev = etcd_revision(r);
	if (!ok) {
		json_t *rr = json_object_get(json_array_get(json_object_get(r, "responses"), 0), "response_range");
		json_t *kvs = json_object_get(rr, "kvs");
		int64_t hrev = 0;
		etcd_head sh = {0};
		for (size_t i = 0; i < json_array_size(kvs); i++) {
			char *k = NULL, *v = NULL;
			size_t vl = 0;
			if (etcd_kv(json_array_get(kvs, i), &k, &v, &vl) == 0 && !strcmp(k, hk)) {
				hrev = etcd_i64(json_array_get(kvs, i), "mod_revision");
				json_t *hj = json_loadb(v, vl, 0, NULL);
				head_from_json(hj, &sh);
				json_decref(hj);
			}
			free(k);
			free(v);
		}
		if (m->n_opt && hrev == (cmp_rev > 0 ? cmp_rev : 0))
			m->idem_read = true; /* head held: a key exists; read them next time */
		json_decref(m->snap);
		m->snap = NULL;
		if (rr) {
			m->snap = json_pack("{sO}", "kvs", kvs ? kvs : json_array());
			m->snap_rev = hrev;
			m->snap_h = sh;
		}
	} else if (ok) {
		m->idem_read = false;
		json_decref(m->snap); /* older than this commit */
		m->snap = NULL;
	}
	json_decref(r);
	if (ok)
		head_seen(m, *new_rev, &m->h);
	return ok ? 0 : 1;
}

static int e_commit(ah_ledger *l)
{
	etcd_ledger *m = (etcd_ledger *)l;
	int rc = 0;
	if (!m->in_txn)
		return AH_ESTATE;
	for (int i = 0; i < m->n_pre; i++)
		if (m->pre[i].kind == AH_PRECOND_POLICY && m->pre[i].version != (uint64_t)m->h0.pg) {
			snprintf(m->errmsg, sizeof m->errmsg,
				 "commit refused: the policy changed (generation %lld, the decision read %llu)",
				 (long long)m->h0.pg, (unsigned long long)m->pre[i].version);
			rc = AH_EBUSY;
			goto out;
		}
	if (!etcd_has_writes(m) && m->n_opt) { /* read-only, keys assumed absent: check them now */
		for (int i = 0; i < m->n_opt && rc == 0; i++) {
			json_t *r = NULL;
			if ((rc = etcd_range(m, m->opt[i], NULL, 1, 0, true, &r)) == 0 &&
			    json_array_size(json_object_get(r, "kvs"))) {
				snprintf(m->errmsg, sizeof m->errmsg,
					 "commit refused: idempotency key %s was answered meanwhile; decide again", m->opt[i]);
				m->idem_read = true;
				rc = AH_EBUSY;
			}
			json_decref(r);
		}
		if (rc < 0)
			goto out;
	}
	if (!etcd_has_writes(m) && m->begin_opt && !m->loaded_in_txn) {
		/* read-only on a head not read (and no load in it, which read
		 * the state itself): read head now */
		int64_t rev;
		etcd_head h;
		if ((rc = etcd_head_read(m, &rev, &h)) < 0)
			goto out;
		if (rev != m->rev) {
			snprintf(m->errmsg, sizeof m->errmsg,
				 "commit refused: another instance committed (revision %lld); reload and decide again",
				 (long long)rev);
			m->stale = true;
			rc = AH_EBUSY;
		}
		goto out;
	}
	if (!etcd_has_writes(m))
		goto out; /* read-only */
	if (m->stale) {
		snprintf(m->errmsg, sizeof m->errmsg,
			 "commit refused: another instance committed (revision %lld) and this view was not reloaded",
			 (long long)m->rev);
		rc = AH_EBUSY;
		goto out;
	}
	int64_t nrev = 0;
	rc = txn_send(m, m->rev, &nrev);
	m->prof.commits++;
	if (rc == 1) {
		m->prof.refused++;
		snprintf(m->errmsg, sizeof m->errmsg,
			 "commit refused: another instance committed since revision %lld (now %lld)%s; nothing written, "
			 "reload and decide again",
			 (long long)m->rev, (long long)nrev,
			 m->fence_rev > 0 ? ", or this shaper's fencing token is no longer the election key's" : "");
		rc = AH_EBUSY;
	} else if (rc == 0) {
		m->rev = nrev;
	}
out:
	if (rc < 0)
		m->h = m->h0;
	stage_clear(m);
	m->in_txn = false;
	m->idem_opt = false;
	return rc;
}

static void e_rollback(ah_ledger *l)
{
	etcd_ledger *m = (etcd_ledger *)l;
	stage_clear(m);
	m->h = m->h0;
	m->in_txn = false;
	m->idem_opt = false;
}

int etcd_autocommit(etcd_ledger *m, int (*fn)(etcd_ledger *m, void *arg), void *arg)
{
	if (m->in_txn)
		return fn(m, arg);
	int rc = AH_EBUSY;
	for (int attempt = 0; attempt < 8 && rc == AH_EBUSY; attempt++) {
		int64_t rev, nrev = 0;
		etcd_head h;
		if ((rc = etcd_head_read(m, &rev, &h)) < 0)
			return rc;
		bool current = rev == m->rev && !m->stale;
		m->h = m->h0 = h;
		m->in_txn = true;
		m->idem_opt = false;
		rc = fn(m, arg);
		m->in_txn = false;
		bool writes = etcd_has_writes(m);
		if (rc == 0 && writes)
			rc = txn_send(m, rev, &nrev);
		if (rc == 1) {
			rc = AH_EBUSY;
			snprintf(m->errmsg, sizeof m->errmsg, "commit refused: other instances kept committing");
		} else if (rc == 0 && writes && current) {
			m->rev = nrev; /* nothing of the engine's state changed */
		}
		stage_clear(m);
	}
	return rc;
}

static int e_precond_add(ah_ledger *l, const ah_ledger_precond *pc)
{
	etcd_ledger *m = (etcd_ledger *)l;
	if (m->n_pre == m->cap_pre) {
		int nc = m->cap_pre ? m->cap_pre * 2 : 8;
		ah_ledger_precond *np = realloc(m->pre, sizeof *np * (size_t)nc);
		if (!np)
			return AH_ENOMEM;
		m->pre = np;
		m->cap_pre = nc;
	}
	/* Pool and allocation preconditions hold when head does: the head
	 * compare is strictly stronger. The policy's is checked apart, and a
	 * node's is a compare on its record (txn_send). */
	m->pre[m->n_pre++] = *pc;
	return 0;
}

/* ---- the engine's state ------------------------------------------------ */

/* A row's JSON text, written as it goes (etcd_page.c's writer: no tree
 * per row, read back by jansson as before). */
static int row_text(const ah_ledger *l, const ah_ledger_row *r, etcd_page *v)
{
	char res[AH_LEDGER_VEC_TEXT] = "";
	if ((l->dims && ah_vec_format(l->dims, &r->res, res, sizeof res) < 0) || !r->tenant || !r->pool || !r->klass)
		return AH_ERANGE;
	etcd_page_rec_begin(v);
	etcd_page_int(v, "id", (int64_t)r->id);
	etcd_page_str(v, "t", r->tenant);
	etcd_page_str(v, "p", r->pool);
	etcd_page_str(v, "k", r->klass);
	etcd_page_str(v, "r", res);
	etcd_page_str(v, "pa", r->params);
	etcd_page_int(v, "c", r->created_ns);
	etcd_page_int(v, "e", r->expires_ns);
	etcd_page_int(v, "l", r->lease_ttl_ns);
	etcd_page_int(v, "s", (int64_t)r->seq);
	/* pools on nodes only: the node it is placed on, its workload's hash */
	if (r->node && *r->node)
		etcd_page_str(v, "nd", r->node);
	if (r->workload_hash)
		etcd_page_int(v, "wh", (int64_t)r->workload_hash);
	if (r->node_select && *r->node_select)
		etcd_page_str(v, "ns", r->node_select);
	return etcd_page_rec_end(v);
}

static int put_row(ah_ledger *l, const char *kind, const ah_ledger_row *r)
{
	etcd_ledger *m = (etcd_ledger *)l;
	char key[ETCD_KEY_MAX];
	etcd_key(m, key, "s/%s/%020llu", kind, (unsigned long long)r->id);
	etcd_page v = {0};
	int rc = row_text(l, r, &v);
	if (rc == 0)
		rc = etcd_stage(m, key, v.p, v.len);
	etcd_page_reset(&v);
	return rc;
}

static int del_key(ah_ledger *l, const char *kind, uint64_t id)
{
	etcd_ledger *m = (etcd_ledger *)l;
	char key[ETCD_KEY_MAX];
	etcd_key(m, key, "s/%s/%020llu", kind, (unsigned long long)id);
	return etcd_stage(m, key, NULL, 0);
}

static int e_put_alloc(ah_ledger *l, const ah_ledger_row *r)
{
	return put_row(l, "a", r);
}

static int e_put_queued(ah_ledger *l, const ah_ledger_row *r)
{
	return put_row(l, "q", r);
}

static int e_del_alloc(ah_ledger *l, uint64_t id)
{
	int rc = del_key(l, "a", id);
	return rc < 0 ? rc : del_key(l, "g", id);
}

static int e_del_queued(ah_ledger *l, uint64_t id)
{
	return del_key(l, "q", id);
}

static int e_del_pending(ah_ledger *l, uint64_t id)
{
	return del_key(l, "g", id);
}

static int e_put_pending(ah_ledger *l, uint64_t id, const ah_vec *want, int64_t since_ns)
{
	etcd_ledger *m = (etcd_ledger *)l;
	char res[AH_LEDGER_VEC_TEXT] = "", key[ETCD_KEY_MAX];
	if (!l->dims || ah_vec_format(l->dims, want, res, sizeof res) < 0)
		return AH_ERANGE;
	etcd_key(m, key, "s/g/%020llu", (unsigned long long)id);
	return etcd_stage_json(m, key, json_pack("{sssI}", "w", res, "s", (json_int_t)since_ns));
}

static int put_capacity(etcd_ledger *m, const ah_dimset *dims, const char *pool, const ah_vec *cap)
{
	char res[AH_LEDGER_VEC_TEXT], key[ETCD_KEY_MAX];
	if (!dims || ah_vec_format(dims, cap, res, sizeof res) < 0)
		return AH_ERANGE;
	etcd_key(m, key, "s/cap/%s", pool);
	return etcd_stage(m, key, res, strlen(res));
}

static int e_put_pool_capacity(ah_ledger *l, const char *pool, const ah_vec *cap)
{
	return put_capacity((etcd_ledger *)l, l->dims, pool, cap);
}

static int e_set_next_id(ah_ledger *l, uint64_t next_id)
{
	((etcd_ledger *)l)->h.id = (int64_t)next_id;
	return 0;
}

static int row_parse(const ah_dimset *dims, const json_t *j, ah_ledger_row *r)
{
	memset(r, 0, sizeof *r);
	r->id = (uint64_t)json_integer_value(json_object_get(j, "id"));
	r->tenant = json_string_value(json_object_get(j, "t"));
	r->pool = json_string_value(json_object_get(j, "p"));
	r->klass = json_string_value(json_object_get(j, "k"));
	r->params = json_string_value(json_object_get(j, "pa"));
	const char *res = json_string_value(json_object_get(j, "r"));
	r->created_ns = json_integer_value(json_object_get(j, "c"));
	r->expires_ns = json_integer_value(json_object_get(j, "e"));
	r->lease_ttl_ns = json_integer_value(json_object_get(j, "l"));
	r->seq = (uint64_t)json_integer_value(json_object_get(j, "s"));
	r->node = json_string_value(json_object_get(j, "nd"));
	r->node_select = json_string_value(json_object_get(j, "ns")); /* checked by the engine's load */
	json_int_t wh = json_integer_value(json_object_get(j, "wh"));
	r->workload_hash = wh > 0 && wh <= (json_int_t)UINT32_MAX ? (uint32_t)wh : 0;
	if (r->node && ah_name_check_object(r->node))
		return AH_ESTORE;
	if (!r->tenant || !r->pool || !r->klass || !res || !r->id)
		return AH_ESTORE;
	if (!r->params)
		r->params = "";
	return ah_vec_parse(dims, res, &r->res, NULL, 0) < 0 ? AH_ESTATE : 0;
}

typedef struct {
	json_t *j;
	uint64_t seq, id;
} qrow;

static int qrow_cmp(const void *a, const void *b)
{
	const qrow *x = a, *y = b;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* One range over PREFIX/s/ at one revision: a consistent snapshot (or
 * the same read from a refused txn's answer or a watch's mirror). */
static int e_load(ah_ledger *l, const ah_dimset *dims, const ah_ledger_loader *ld, uint64_t *next_id)
{
	etcd_ledger *m = (etcd_ledger *)l;
	char from[ETCD_KEY_MAX], to[ETCD_KEY_MAX];
	etcd_key(m, from, "s/");
	etcd_prefix_end(from, to, sizeof to);
	json_t *r = NULL;
	int64_t t0 = mono_ns();
	int rc = 0;
	if (m->snap) { /* what the refused txn answered */
		r = m->snap;
		m->snap = NULL;
		m->prof.snap_loads++;
	} else if (m->watch && !m->load_fresh &&
		   etcd_watch_view(m->watch, m->rev, &r) == 0) {
		/* at least at the head this handle knows (its view's, or what
		 * this txn's begin read): an older one would only fail the
		 * commit's compare */
		m->prof.mirror_loads++;
	} else {
		rc = etcd_range(m, from, to, 0, 0, false, &r);
	}
	m->load_fresh = false;
	m->prof.loads++;
	m->prof.load_ns += mono_ns() - t0;
	if (rc < 0)
		return rc;
	json_t *kvs = json_object_get(r, "kvs");
	size_t n = json_array_size(kvs), pl = strlen(from);
	json_t **vals = calloc(n ? n : 1, sizeof *vals);
	char **keys = calloc(n ? n : 1, sizeof *keys);
	qrow *qs = calloc(n ? n : 1, sizeof *qs);
	size_t nq = 0;
	int64_t head_rev = 0;
	etcd_head h = {0};
	if (!vals || !keys || !qs) {
		rc = AH_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char *v = NULL;
		size_t vl = 0;
		if ((rc = etcd_kv(json_array_get(kvs, i), &keys[i], &v, &vl)) < 0)
			goto out;
		const char *k = keys[i] + pl;
		if (!strcmp(k, "head")) {
			head_rev = etcd_i64(json_array_get(kvs, i), "mod_revision");
			json_t *hj = json_loadb(v, vl, 0, NULL);
			head_from_json(hj, &h);
			json_decref(hj);
		} else if (!strncmp(k, "cap/", 4)) {
			ah_vec cap;
			if (ld->pool_capacity && ah_vec_parse(dims, v, &cap, NULL, 0) == 0 &&
			    (rc = ld->pool_capacity(ld->ctx, k + 4, &cap)) < 0) {
				free(v);
				goto out;
			}
		} else if (!strncmp(k, "a/", 2) || !strncmp(k, "q/", 2) || !strncmp(k, "g/", 2)) {
			vals[i] = json_loadb(v, vl, 0, NULL);
			if (!vals[i]) {
				snprintf(m->errmsg, sizeof m->errmsg, "etcd key %s: not JSON", keys[i]);
				free(v);
				rc = AH_ESTORE;
				goto out;
			}
		}
		free(v);
	}
	for (size_t i = 0; i < n && ld->alloc; i++) {
		ah_ledger_row row;
		if (!vals[i] || strncmp(keys[i] + pl, "a/", 2))
			continue;
		if ((rc = row_parse(dims, vals[i], &row)) < 0) {
			snprintf(m->errmsg, sizeof m->errmsg, "etcd key %s: not an allocation this policy knows", keys[i]);
			goto out;
		}
		if ((rc = ld->alloc(ld->ctx, &row)) < 0)
			goto out;
	}
	for (size_t i = 0; i < n && ld->pending; i++) {
		unsigned long long id;
		ah_vec want;
		if (!vals[i] || strncmp(keys[i] + pl, "g/", 2) || sscanf(keys[i] + pl + 2, "%llu", &id) != 1)
			continue;
		const char *w = json_string_value(json_object_get(vals[i], "w"));
		if (!w || ah_vec_parse(dims, w, &want, NULL, 0) < 0)
			continue;
		if ((rc = ld->pending(ld->ctx, id, &want, json_integer_value(json_object_get(vals[i], "s")))) < 0)
			goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (vals[i] && !strncmp(keys[i] + pl, "q/", 2)) {
			qs[nq].j = vals[i];
			qs[nq].seq = (uint64_t)json_integer_value(json_object_get(vals[i], "s"));
			qs[nq].id = (uint64_t)json_integer_value(json_object_get(vals[i], "id"));
			nq++;
		}
	qsort(qs, nq, sizeof *qs, qrow_cmp);
	for (size_t i = 0; i < nq && ld->queued; i++) {
		ah_ledger_row row;
		if ((rc = row_parse(dims, qs[i].j, &row)) < 0) {
			snprintf(m->errmsg, sizeof m->errmsg, "etcd: queued request %llu: not one this policy knows",
				 (unsigned long long)qs[i].id);
			goto out;
		}
		if ((rc = ld->queued(ld->ctx, &row)) < 0)
			goto out;
	}
	*next_id = h.id > 0 ? (uint64_t)h.id : 1;
	if (head_rev)
		head_seen(m, head_rev, &h);
	m->loaded = true;
	m->loaded_in_txn = m->in_txn;
	m->rev = head_rev;
	m->stale = false;
	if (m->in_txn) {
		m->h = m->h0 = h;
	} else {
		m->h = h;
	}
	rc = 0;
out:
	for (size_t i = 0; i < n; i++) {
		if (keys)
			free(keys[i]);
		if (vals)
			json_decref(vals[i]);
	}
	free(keys);
	free(vals);
	free(qs);
	json_decref(r);
	return rc;
}

/* ---- the policy ------------------------------------------------------- */

static int e_policy_get(ah_ledger *l, char **out_text, int64_t *out_applied_ns)
{
	etcd_ledger *m = (etcd_ledger *)l;
	char key[ETCD_KEY_MAX];
	etcd_key(m, key, "s/policy");
	json_t *j = NULL;
	const etcd_op *o = m->in_txn ? etcd_staged(m, key) : NULL;
	int rc = 0;
	if (o)
		j = o->val ? json_loadb(o->val, o->vlen, 0, NULL) : NULL;
	else if ((rc = etcd_get_json(m, key, &j, NULL)) < 0)
		return rc;
	const char *t = json_string_value(json_object_get(j, "text"));
	if (!t) {
		json_decref(j);
		return AH_ENOENT;
	}
	if (!(*out_text = strdup(t)))
		rc = AH_ENOMEM;
	if (out_applied_ns)
		*out_applied_ns = json_integer_value(json_object_get(j, "at"));
	json_decref(j);
	return rc;
}

typedef struct {
	const char *text;
	const ah_policy *p;
	int64_t now_ns;
} policy_args;

static int stage_policy(etcd_ledger *m, void *arg)
{
	const policy_args *a = arg;
	char key[ETCD_KEY_MAX], from[ETCD_KEY_MAX], to[ETCD_KEY_MAX];
	etcd_key(m, key, "s/policy");
	int rc = etcd_stage_json(m, key, json_pack("{sssI}", "text", a->text, "at", (json_int_t)a->now_ns));
	if (rc < 0)
		return rc;
	/* capacities scaled away from the old policy's sizes go back to the new one's */
	/* (one delete per key: etcd refuses a txn whose delete range covers a put) */
	etcd_key(m, from, "s/cap/");
	etcd_prefix_end(from, to, sizeof to);
	json_t *r = NULL;
	if ((rc = etcd_range(m, from, to, 0, 0, true, &r)) < 0)
		return rc;
	json_t *kvs = json_object_get(r, "kvs");
	for (size_t i = 0; i < json_array_size(kvs) && rc == 0; i++) {
		char *k = NULL;
		if ((rc = etcd_kv(json_array_get(kvs, i), &k, NULL, NULL)) == 0)
			rc = etcd_stage(m, k, NULL, 0);
		free(k);
	}
	json_decref(r);
	if (rc < 0)
		return rc;
	for (int i = 0; i < a->p->n_pools; i++)
		if ((rc = put_capacity(m, &a->p->dims, a->p->pools[i].name, &a->p->pools[i].capacity)) < 0)
			return rc;
	m->h.pg++;
	ah_ledger_event ev = {.t_ns = a->now_ns, .kind = AH_EV_POLICY, .detail = "policy applied"};
	return etcd_event(&m->base, &ev);
}

static int e_policy_put(ah_ledger *l, const char *text, const ah_policy *p, int64_t now_ns)
{
	policy_args a = {.text = text, .p = p, .now_ns = now_ns};
	return etcd_autocommit((etcd_ledger *)l, stage_policy, &a);
}

static int e_policy_generation(ah_ledger *l, uint64_t *out_gen)
{
	etcd_ledger *m = (etcd_ledger *)l;
	if (m->in_txn) {
		*out_gen = (uint64_t)m->h.pg;
		return 0;
	}
	int64_t rev;
	etcd_head h;
	int rc = etcd_head_recent(m, &rev, &h);
	if (rc < 0)
		return rc;
	(void)instance_keepalive(m, false);
	*out_gen = (uint64_t)h.pg;
	return 0;
}

static const char *e_errmsg(ah_ledger *l)
{
	return ((etcd_ledger *)l)->errmsg;
}

static void e_free(ah_ledger *l)
{
	etcd_ledger *m = (etcd_ledger *)l;
	if (!m)
		return;
	prof_dump(m, true);
	if (m->lease) { /* gone now rather than at the lease's end */
		json_t *rq = json_pack("{sI}", "ID", (json_int_t)m->lease), *r = NULL;
		if (etcd_call(m->c, "/v3/lease/revoke", rq, &r) == 0)
			json_decref(r);
		json_decref(rq);
	}
	stage_clear(m);
	free(m->ops);
	free(m->pre);
	free(m->absent);
	free(m->opt);
	json_decref(m->snap);
	etcd_client_free(m->c);
	free(m);
}

static const ah_ledger_ops etcd_ops = {
	.begin = e_begin,
	.commit = e_commit,
	.rollback = e_rollback,
	.put_alloc = e_put_alloc,
	.del_alloc = e_del_alloc,
	.put_queued = e_put_queued,
	.del_queued = e_del_queued,
	.put_pool_capacity = e_put_pool_capacity,
	.event = etcd_event,
	.set_next_id = e_set_next_id,
	.put_pending = e_put_pending,
	.del_pending = e_del_pending,
	.load = e_load,
	.free = e_free,
	.policy_get = e_policy_get,
	.policy_put = e_policy_put,
	.policy_generation = e_policy_generation,
	.events = etcd_events,
	.demand_put = etcd_demand_put,
	.demand_load = etcd_demand_load,
	.precond_add = e_precond_add,
	.errmsg = e_errmsg,
	.token_put = etcd_token_put,
	.token_list = etcd_token_list,
	.token_generation = etcd_token_generation,
	.audit_put = etcd_audit_put,
	.audit_list = etcd_audit_list,
	.idem_get = etcd_idem_get,
	.idem_put = etcd_idem_put,
	.idem_sweep = etcd_idem_sweep,
	.events_compact = etcd_events_compact,
	.events_bounds = etcd_events_bounds,
	.alloc_versions = etcd_alloc_versions,
};

int ah_ledger_etcd_fence(ah_ledger *l, const char *key, long long create_rev)
{
	if (!ah_ledger_is_etcd(l) || (create_rev > 0 && (!key || !*key)))
		return AH_EINVAL;
	etcd_ledger *m = (etcd_ledger *)l;
	if (create_rev <= 0) {
		m->fence_rev = 0;
		m->fence_key[0] = '\0';
		return 0;
	}
	etcd_key(m, m->fence_key, "%s", key);
	m->fence_rev = create_rev;
	return 0;
}

bool ah_ledger_is_etcd(const ah_ledger *l)
{
	return l && l->ops == &etcd_ops;
}

int ah_ledger_etcd_publish(ah_ledger *l, const ah_ledger_etcd_view *v)
{
	if (!ah_ledger_is_etcd(l) || !v)
		return AH_EINVAL;
	etcd_ledger *m = (etcd_ledger *)l;
	m->view = *v;
	m->have_view = true;
	if (m->lease_ttl_s <= 0 || !m->lease)
		return 0; /* no instance key (yet): the next registration carries it */
	return instance_put(m);
}

int ah_ledger_etcd_aux_get(ah_ledger *l, const char *rel, char **out_val, size_t *out_len, long long *out_rev)
{
	if (!ah_ledger_is_etcd(l) || !rel || !out_val)
		return AH_EINVAL;
	etcd_ledger *m = (etcd_ledger *)l;
	char key[ETCD_KEY_MAX];
	etcd_key(m, key, "%s", rel);
	json_t *r = NULL;
	int rc = etcd_range(m, key, NULL, 1, 0, false, &r);
	if (rc < 0)
		return rc;
	json_t *kv = json_array_get(json_object_get(r, "kvs"), 0);
	char *k = NULL, *v = NULL;
	size_t vl = 0;
	if (!kv)
		rc = AH_ENOENT;
	else if ((rc = etcd_kv(kv, &k, &v, &vl)) == 0) {
		if (out_rev)
			*out_rev = (long long)etcd_i64(kv, "mod_revision");
		if (out_len)
			*out_len = vl;
		*out_val = v;
		v = NULL;
	}
	free(k);
	free(v);
	json_decref(r);
	return rc;
}

int ah_ledger_etcd_aux_put(ah_ledger *l, const char *rel, const char *val, size_t len, long long expect_rev,
			   long long *out_rev)
{
	if (!ah_ledger_is_etcd(l) || !rel || !val)
		return AH_EINVAL;
	etcd_ledger *m = (etcd_ledger *)l;
	char key[ETCD_KEY_MAX];
	etcd_key(m, key, "%s", rel);
	json_t *put = json_pack("{s:o,s:o}", "key", etcd_b64s(key), "value", etcd_b64(val, len));
	json_t *cmp = expect_rev > 0 ? json_pack("{s:o,s:s,s:s,s:I}", "key", etcd_b64s(key), "result", "EQUAL", "target",
						 "MOD", "mod_revision", (json_int_t)expect_rev)
				     : json_pack("{s:o,s:s,s:s,s:I}", "key", etcd_b64s(key), "result", "EQUAL", "target",
						 "VERSION", "version", (json_int_t)0);
	json_t *rq = json_pack("{s:[o],s:[{s:o}]}", "compare", cmp, "success", "requestPut", put), *r = NULL;
	if (!rq)
		return AH_ENOMEM;
	int rc = etcd_call(m->c, "/v3/kv/txn", rq, &r);
	json_decref(rq);
	if (rc < 0)
		return etcd_fail(m, rc);
	if (!json_is_true(json_object_get(r, "succeeded"))) {
		snprintf(m->errmsg, sizeof m->errmsg, "etcd key %s: changed by another instance since revision %lld", key,
			 expect_rev);
		rc = AH_EBUSY;
	} else if (out_rev) {
		*out_rev = (long long)etcd_revision(r);
	}
	json_decref(r);
	return rc;
}

long long ah_ledger_etcd_revision(const ah_ledger *l)
{
	return ah_ledger_is_etcd(l) ? (long long)((const etcd_ledger *)l)->rev : 0;
}

int ah_ledger_etcd_set_idem_keep(ah_ledger *l, int64_t keep_ns)
{
	if (!ah_ledger_is_etcd(l))
		return AH_EINVAL;
	etcd_ledger *m = (etcd_ledger *)l;
	m->idem_keep_ns = keep_ns > 0 ? keep_ns : 0;
	m->idem_lease = 0;
	m->idem_next_sweep_ns = etcd_mono_ns() + INT64_C(3600) * 1000000000; /* leased: the first an hour on */
	return 0;
}

int ah_ledger_etcd_watch_attach(ah_ledger *l, struct ah_etcd_watch *w)
{
	if (!ah_ledger_is_etcd(l))
		return AH_EINVAL;
	((etcd_ledger *)l)->watch = w;
	return 0;
}

void ah_ledger_etcd_load_fresh(ah_ledger *l)
{
	if (ah_ledger_is_etcd(l))
		((etcd_ledger *)l)->load_fresh = true;
}

int ah_ledger_etcd_open(const char *endpoints, const char *prefix, const ah_ledger_etcd_opts *o, ah_ledger **out,
			char *err, size_t errlen)
{
	if (!endpoints || !prefix || !out)
		return AH_EINVAL;
	size_t pl = strlen(prefix);
	if (pl == 0 || prefix[0] != '/' || prefix[pl - 1] == '/' || pl >= 200) {
		snprintf(err, errlen, "etcd prefix \"%s\": must start with '/', not end with one, and be under 200 bytes",
			 prefix);
		return AH_EINVAL;
	}
	etcd_ledger *m = calloc(1, sizeof *m);
	if (!m)
		return AH_ENOMEM;
	m->base.ops = &etcd_ops;
	snprintf(m->prefix, sizeof m->prefix, "%s", prefix);
	m->lease_ttl_s = o && o->lease_ttl_s ? o->lease_ttl_s : 10;
	m->prof.dir = getenv("AHEAD_ETCD_PROFILE");
	int rc = etcd_client_new(endpoints, o ? o->timeout_ms : 0, &m->c, err, errlen);
	if (rc < 0) {
		free(m);
		return rc;
	}
	int64_t rev;
	etcd_head h;
	if ((rc = etcd_head_read(m, &rev, &h)) < 0) {
		snprintf(err, errlen, "%s", m->errmsg);
		e_free(&m->base);
		return rc;
	}
	if (m->lease_ttl_s > 0) {
		char host[64] = "host";
		gethostname(host, sizeof host - 1);
		if (o && o->instance)
			etcd_key(m, m->inst_key, "inst/%s", o->instance);
		else
			etcd_key(m, m->inst_key, "inst/%s-%ld", host, (long)getpid());
		if ((rc = instance_register(m)) < 0) {
			snprintf(err, errlen, "%s", m->errmsg);
			e_free(&m->base);
			return rc;
		}
	}
	*out = &m->base;
	return 0;
}

bool ah_ledger_etcd_url(const char *path)
{
	return path && !strncmp(path, "etcd://", 7);
}

int ah_ledger_etcd_url_parse(const char *path, char *endpoints, size_t elen, char *prefix, size_t plen)
{
	if (!ah_ledger_etcd_url(path))
		return AH_EINVAL;
	const char *hosts = path + 7, *slash = strchr(hosts, '/');
	size_t hl = slash ? (size_t)(slash - hosts) : strlen(hosts);
	if (!hl)
		return AH_EINVAL;
	size_t n = 0;
	const char *p = hosts;
	while (p < hosts + hl) {
		const char *c = memchr(p, ',', (size_t)(hosts + hl - p));
		size_t one = c ? (size_t)(c - p) : (size_t)(hosts + hl - p);
		if (!one)
			return AH_EINVAL;
		int w = snprintf(endpoints + n, elen - n, "%shttp://%.*s", n ? "," : "", (int)one, p);
		if (w < 0 || (size_t)w >= elen - n)
			return AH_ETOOBIG;
		n += (size_t)w;
		p += one + (c ? 1 : 0);
		if (!c)
			break;
	}
	const char *pre = slash && slash[1] ? slash : "/ahead";
	size_t pre_len = strlen(pre);
	while (pre_len > 1 && pre[pre_len - 1] == '/')
		pre_len--;
	if (pre_len >= plen)
		return AH_ETOOBIG;
	memcpy(prefix, pre, pre_len);
	prefix[pre_len] = '\0';
	return 0;
}
