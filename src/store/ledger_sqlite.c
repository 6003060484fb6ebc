/* ahead: the SQLite ledger (see include/ahead/ledger_sqlite.h).
 *
 * Vectors are stored as canonical text ("cpu=2,memory=1Gi") so a row stays
 * readable with the sqlite3 shell and survives a policy that reorders or adds
 * dimensions. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/ledger_sqlite.h"

enum {
	S_PUT_ALLOC,
	S_DEL_ALLOC,
	S_PUT_QUEUED,
	S_DEL_QUEUED,
	S_EVENT,
	S_NEXT_ID,
	S_POOL_CAP,
	S__COUNT
};

static const char *stmt_sql[S__COUNT] = {
	"INSERT OR REPLACE INTO allocations(id,tenant,pool,class,resources,params,created_ns,expires_ns,"
	"lease_ttl_ns) VALUES(?,?,?,?,?,?,?,?,?)",
	"DELETE FROM allocations WHERE id=?",
	"INSERT OR REPLACE INTO queue(id,seq,tenant,pool,class,resources,params,arrival_ns,deadline_ns,"
	"lease_ttl_ns) VALUES(?,?,?,?,?,?,?,?,?,?)",
	"DELETE FROM queue WHERE id=?",
	"INSERT INTO events(t_ns,kind,id,tenant,pool,class,resources,reason,detail) VALUES(?,?,?,?,?,?,?,?,?)",
	"INSERT OR REPLACE INTO meta(key,value) VALUES('next_id',?)",
	"INSERT INTO pools(capacity,name,min_size,max_size,unit,headroom,headroom_priority)"
	" VALUES(?,?,'','','','',0) ON CONFLICT(name) DO UPDATE SET capacity=excluded.capacity",
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS policy(id INTEGER PRIMARY KEY CHECK(id=1), text TEXT NOT NULL,"
	" applied_ns INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS pools(name TEXT PRIMARY KEY, capacity TEXT NOT NULL, min_size TEXT NOT NULL,"
	" max_size TEXT NOT NULL, unit TEXT NOT NULL, headroom TEXT NOT NULL, headroom_priority INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS tenants(name TEXT PRIMARY KEY, quota TEXT NOT NULL, rate_per_s REAL NOT NULL,"
	" burst REAL NOT NULL);"
	"CREATE TABLE IF NOT EXISTS allocations(id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, pool TEXT NOT NULL,"
	" class TEXT NOT NULL, resources TEXT NOT NULL, params TEXT NOT NULL DEFAULT '',"
	" created_ns INTEGER NOT NULL, expires_ns INTEGER NOT NULL, lease_ttl_ns INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS queue(id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, tenant TEXT NOT NULL,"
	" pool TEXT NOT NULL, class TEXT NOT NULL, resources TEXT NOT NULL, params TEXT NOT NULL DEFAULT '',"
	" arrival_ns INTEGER NOT NULL, deadline_ns INTEGER NOT NULL, lease_ttl_ns INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS events(seq INTEGER PRIMARY KEY AUTOINCREMENT, t_ns INTEGER NOT NULL,"
	" kind TEXT NOT NULL, id INTEGER, tenant TEXT, pool TEXT, class TEXT, resources TEXT, reason TEXT,"
	" detail TEXT);"
	"CREATE INDEX IF NOT EXISTS events_by_id ON events(id);"
	"INSERT OR IGNORE INTO meta(key,value) VALUES('schema_version',1);";

typedef struct {
	ah_ledger base;
	sqlite3 *db;
	sqlite3_stmt *st[S__COUNT];
	int64_t data_version; /* last seen; another process's commit changes it */
	char errmsg[256];
} sql_ledger;

static int fail(sql_ledger *s, int rc)
{
	snprintf(s->errmsg, sizeof(s->errmsg), "%s", sqlite3_errmsg(s->db));
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return AH_EBUSY;
	return AH_ESTORE;
}

static int exec(sql_ledger *s, const char *sql)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : fail(s, rc);
}

static int step_reset(sql_ledger *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : fail(s, rc);
}

static int64_t read_data_version(sql_ledger *s)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	if (sqlite3_prepare_v2(s->db, "PRAGMA data_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int l_begin(ah_ledger *l)
{
	sql_ledger *s = (sql_ledger *)l;
	int rc = exec(s, "BEGIN IMMEDIATE");
	if (rc < 0)
		return rc;
	int64_t v = read_data_version(s);
	if (v != s->data_version) {
		s->data_version = v;
		return 1;
	}
	return 0;
}

static int l_commit(ah_ledger *l)
{
	sql_ledger *s = (sql_ledger *)l;
	int rc = exec(s, "COMMIT");
	if (rc < 0)
		exec(s, "ROLLBACK");
	return rc;
}

static void l_rollback(ah_ledger *l)
{
	sql_ledger *s = (sql_ledger *)l;
	if (!sqlite3_get_autocommit(s->db))
		exec(s, "ROLLBACK");
}

static int bind_vec(sql_ledger *s, sqlite3_stmt *st, int i, const ah_vec *v)
{
	char buf[AH_MAX_DIMS * (AH_NAME_MAX + 32)];
	if (ah_vec_format(s->base.dims, v, buf, sizeof(buf)) < 0)
		return AH_ERANGE;
	return sqlite3_bind_text(st, i, buf, -1, SQLITE_TRANSIENT) == SQLITE_OK ? 0 : fail(s, SQLITE_ERROR);
}

static int l_put_alloc(ah_ledger *l, const ah_ledger_row *r)
{
	sql_ledger *s = (sql_ledger *)l;
	sqlite3_stmt *st = s->st[S_PUT_ALLOC];
	sqlite3_bind_int64(st, 1, (sqlite3_int64)r->id);
	sqlite3_bind_text(st, 2, r->tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->pool, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->klass, -1, SQLITE_STATIC);
	int rc = bind_vec(s, st, 5, &r->res);
	if (rc < 0) {
		sqlite3_reset(st);
		return rc;
	}
	sqlite3_bind_text(st, 6, r->params ? r->params : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, r->created_ns);
	sqlite3_bind_int64(st, 8, r->expires_ns);
	sqlite3_bind_int64(st, 9, r->lease_ttl_ns);
	return step_reset(s, st);
}

static int del_by_id(sql_ledger *s, sqlite3_stmt *st, uint64_t id)
{
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	return step_reset(s, st);
}

static int l_del_alloc(ah_ledger *l, uint64_t id)
{
	sql_ledger *s = (sql_ledger *)l;
	return del_by_id(s, s->st[S_DEL_ALLOC], id);
}

static int l_del_queued(ah_ledger *l, uint64_t id)
{
	sql_ledger *s = (sql_ledger *)l;
	return del_by_id(s, s->st[S_DEL_QUEUED], id);
}

static int l_put_queued(ah_ledger *l, const ah_ledger_row *r)
{
	sql_ledger *s = (sql_ledger *)l;
	sqlite3_stmt *st = s->st[S_PUT_QUEUED];
	sqlite3_bind_int64(st, 1, (sqlite3_int64)r->id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)r->seq);
	sqlite3_bind_text(st, 3, r->tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->pool, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->klass, -1, SQLITE_STATIC);
	int rc = bind_vec(s, st, 6, &r->res);
	if (rc < 0) {
		sqlite3_reset(st);
		return rc;
	}
	sqlite3_bind_text(st, 7, r->params ? r->params : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, r->created_ns);
	sqlite3_bind_int64(st, 9, r->expires_ns);
	sqlite3_bind_int64(st, 10, r->lease_ttl_ns);
	return step_reset(s, st);
}

static int l_pool_cap(ah_ledger *l, const char *pool, const ah_vec *cap)
{
	sql_ledger *s = (sql_ledger *)l;
	sqlite3_stmt *st = s->st[S_POOL_CAP];
	int rc = bind_vec(s, st, 1, cap);
	if (rc < 0) {
		sqlite3_reset(st);
		return rc;
	}
	sqlite3_bind_text(st, 2, pool, -1, SQLITE_STATIC);
	return step_reset(s, st);
}

static void bind_opt_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static int l_event(ah_ledger *l, const ah_ledger_event *ev)
{
	sql_ledger *s = (sql_ledger *)l;
	sqlite3_stmt *st = s->st[S_EVENT];
	sqlite3_bind_int64(st, 1, ev->t_ns);
	sqlite3_bind_text(st, 2, ah_event_kind_name(ev->kind), -1, SQLITE_STATIC);
	if (ev->id)
		sqlite3_bind_int64(st, 3, (sqlite3_int64)ev->id);
	else
		sqlite3_bind_null(st, 3);
	bind_opt_text(st, 4, ev->tenant);
	bind_opt_text(st, 5, ev->pool);
	bind_opt_text(st, 6, ev->klass);
	if (ev->res) {
		int rc = bind_vec(s, st, 7, ev->res);
		if (rc < 0) {
			sqlite3_reset(st);
			return rc;
		}
	}
	bind_opt_text(st, 8, ev->reason);
	bind_opt_text(st, 9, ev->detail);
	return step_reset(s, st);
}

static int l_next_id(ah_ledger *l, uint64_t next)
{
	sql_ledger *s = (sql_ledger *)l;
	sqlite3_stmt *st = s->st[S_NEXT_ID];
	sqlite3_bind_int64(st, 1, (sqlite3_int64)next);
	return step_reset(s, st);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "";
}

static int load_rows(sql_ledger *s, const char *sql, bool queue, const ah_dimset *dims,
		     int (*fn)(void *, const ah_ledger_row *), void *ctx)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, rc);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ah_ledger_row r = {0};
		char perr[128];
		r.id = (uint64_t)sqlite3_column_int64(st, 0);
		r.tenant = col_text(st, 1);
		r.pool = col_text(st, 2);
		r.klass = col_text(st, 3);
		if (ah_vec_parse(dims, col_text(st, 4), &r.res, perr, sizeof(perr)) < 0) {
			snprintf(s->errmsg, sizeof(s->errmsg), "%s %llu: resources: %s", queue ? "queued request" : "allocation",
				 (unsigned long long)r.id, perr);
			sqlite3_finalize(st);
			return AH_ESTATE;
		}
		r.params = col_text(st, 5);
		r.created_ns = sqlite3_column_int64(st, 6);
		r.expires_ns = sqlite3_column_int64(st, 7);
		r.lease_ttl_ns = sqlite3_column_int64(st, 8);
		if (queue)
			r.seq = (uint64_t)sqlite3_column_int64(st, 9);
		int frc = fn(ctx, &r);
		if (frc < 0) {
			snprintf(s->errmsg, sizeof(s->errmsg), "%s %llu (pool %s): %s", queue ? "queued request" : "allocation",
				 (unsigned long long)r.id, r.pool, ah_strerror(frc));
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(s, rc);
}

static int l_load(ah_ledger *l, const ah_dimset *dims, const ah_ledger_loader *ld, uint64_t *next_id)
{
	sql_ledger *s = (sql_ledger *)l;
	sqlite3_stmt *st = NULL;
	int rc;
	if (ld->pool_capacity) {
		rc = sqlite3_prepare_v2(s->db, "SELECT name, capacity FROM pools", -1, &st, NULL);
		if (rc != SQLITE_OK)
			return fail(s, rc);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			ah_vec cap;
			char perr[128];
			if (ah_vec_parse(dims, col_text(st, 1), &cap, perr, sizeof(perr)) < 0)
				continue; /* a dimension the policy dropped: keep the policy's size */
			int frc = ld->pool_capacity(ld->ctx, col_text(st, 0), &cap);
			if (frc < 0) {
				sqlite3_finalize(st);
				return frc;
			}
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return fail(s, rc);
	}
	if (ld->alloc &&
	    (rc = load_rows(s, "SELECT id,tenant,pool,class,resources,params,created_ns,expires_ns,lease_ttl_ns"
			       " FROM allocations ORDER BY id", false, dims, ld->alloc, ld->ctx)) < 0)
		return rc;
	if (ld->queued &&
	    (rc = load_rows(s, "SELECT id,tenant,pool,class,resources,params,arrival_ns,deadline_ns,lease_ttl_ns,seq"
			       " FROM queue ORDER BY seq", true, dims, ld->queued, ld->ctx)) < 0)
		return rc;
	uint64_t next = 1;
	rc = sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key='next_id'", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, rc);
	if (sqlite3_step(st) == SQLITE_ROW)
		next = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	*next_id = next;
	return 0;
}

static void l_free(ah_ledger *l)
{
	sql_ledger *s = (sql_ledger *)l;
	if (!s)
		return;
	for (int i = 0; i < S__COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	free(s);
}

static const ah_ledger_ops sql_ops = {
	.begin = l_begin,
	.commit = l_commit,
	.rollback = l_rollback,
	.put_alloc = l_put_alloc,
	.del_alloc = l_del_alloc,
	.put_queued = l_put_queued,
	.del_queued = l_del_queued,
	.put_pool_capacity = l_pool_cap,
	.event = l_event,
	.set_next_id = l_next_id,
	.load = l_load,
	.free = l_free,
};

int ah_ledger_sqlite_open(const char *path, ah_durability durability, ah_ledger **out, char *err, size_t errlen)
{
	int rc;
	if (!path || !*path || !out)
		return AH_EINVAL;
	sql_ledger *s = calloc(1, sizeof(*s));
	if (!s)
		return AH_ENOMEM;
	s->base.ops = &sql_ops;
	s->data_version = -1;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		if (err)
			snprintf(err, errlen, "%s: cannot open database: %s", path,
				 s->db ? sqlite3_errmsg(s->db) : "out of memory");
		rc = AH_EIO;
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 10000);
	const char *sync = durability == AH_DURABILITY_POWER ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL";
	if ((rc = exec(s, "PRAGMA journal_mode=WAL")) < 0 || (rc = exec(s, sync)) < 0 ||
	    (rc = exec(s, "PRAGMA foreign_keys=ON")) < 0 || (rc = exec(s, "BEGIN IMMEDIATE")) < 0)
		goto sqlfail;
	if ((rc = exec(s, schema)) < 0) {
		exec(s, "ROLLBACK");
		goto sqlfail;
	}
	if ((rc = exec(s, "COMMIT")) < 0)
		goto sqlfail;
	for (int i = 0; i < S__COUNT; i++)
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) != SQLITE_OK) {
			rc = fail(s, SQLITE_ERROR);
			goto sqlfail;
		}
	*out = &s->base;
	return 0;
sqlfail:
	if (err)
		snprintf(err, errlen, "%s: %s", path, s->errmsg[0] ? s->errmsg : "database error");
	if (rc == AH_ESTORE && strstr(s->errmsg, "not a database"))
		rc = AH_EIO;
fail:
	l_free(&s->base);
	return rc;
}

int ah_ledger_sqlite_set_durability(ah_ledger *l, ah_durability durability)
{
	sql_ledger *s = (sql_ledger *)l;
	return exec(s, durability == AH_DURABILITY_POWER ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
}

int ah_ledger_sqlite_policy_get(ah_ledger *l, char **out_text, int64_t *out_applied_ns)
{
	sql_ledger *s = (sql_ledger *)l;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, "SELECT text, applied_ns FROM policy WHERE id=1", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, rc);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return rc == SQLITE_DONE ? AH_ENOENT : fail(s, rc);
	}
	char *t = strdup(col_text(st, 0));
	int64_t at = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	if (!t)
		return AH_ENOMEM;
	*out_text = t;
	if (out_applied_ns)
		*out_applied_ns = at;
	return 0;
}

int ah_ledger_sqlite_policy_put(ah_ledger *l, const char *text, const ah_policy *p, int64_t now_ns)
{
	sql_ledger *s = (sql_ledger *)l;
	sqlite3_stmt *st = NULL;
	int rc;
	const ah_dimset *saved = s->base.dims;
	s->base.dims = &p->dims;
	if ((rc = exec(s, "DELETE FROM pools; DELETE FROM tenants;")) < 0)
		goto out;
	if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO policy(id,text,applied_ns) VALUES(1,?,?)", -1, &st,
			       NULL) != SQLITE_OK) {
		rc = fail(s, SQLITE_ERROR);
		goto out;
	}
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_ns);
	if ((rc = step_reset(s, st)) < 0)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO pools VALUES(?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK) {
		rc = fail(s, SQLITE_ERROR);
		goto out;
	}
	for (int i = 0; i < p->n_pools; i++) {
		const ah_pool_policy *pp = &p->pools[i];
		sqlite3_bind_text(st, 1, pp->name, -1, SQLITE_STATIC);
		if ((rc = bind_vec(s, st, 2, &pp->capacity)) < 0 || (rc = bind_vec(s, st, 3, &pp->min_size)) < 0 ||
		    (rc = bind_vec(s, st, 4, &pp->max_size)) < 0 || (rc = bind_vec(s, st, 5, &pp->unit)) < 0 ||
		    (rc = bind_vec(s, st, 6, &pp->headroom)) < 0)
			goto out;
		sqlite3_bind_int(st, 7, pp->headroom_priority);
		if ((rc = step_reset(s, st)) < 0)
			goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO tenants VALUES(?,?,?,?)", -1, &st, NULL) != SQLITE_OK) {
		rc = fail(s, SQLITE_ERROR);
		goto out;
	}
	for (int i = 0; i < p->n_tenants; i++) {
		const ah_tenant_policy *tp = &p->tenants[i];
		ah_vec q = tp->quota;
		for (int d = 0; d < p->dims.n; d++)
			if (q.v[d] == AH_UNLIMITED)
				q.v[d] = 0; /* stored as absent: unlimited */
		sqlite3_bind_text(st, 1, tp->name, -1, SQLITE_STATIC);
		if ((rc = bind_vec(s, st, 2, &q)) < 0)
			goto out;
		sqlite3_bind_double(st, 3, tp->rate_per_s);
		sqlite3_bind_double(st, 4, tp->burst);
		if ((rc = step_reset(s, st)) < 0)
			goto out;
	}
	ah_ledger_event ev = {.t_ns = now_ns, .kind = AH_EV_POLICY, .detail = "policy applied"};
	rc = l_event(l, &ev);
out:
	sqlite3_finalize(st);
	s->base.dims = saved;
	return rc;
}

int ah_ledger_sqlite_events(ah_ledger *l, int64_t after_seq, int limit, uint64_t id,
			    int (*fn)(void *ctx, const ah_event_row *ev), void *ctx)
{
	sql_ledger *s = (sql_ledger *)l;
	sqlite3_stmt *st = NULL;
	const char *sql = id ? "SELECT seq,t_ns,kind,id,tenant,pool,class,resources,reason,detail FROM events"
			       " WHERE seq>? AND id=? ORDER BY seq LIMIT ?"
			     : "SELECT seq,t_ns,kind,id,tenant,pool,class,resources,reason,detail FROM events"
			       " WHERE seq>? ORDER BY seq LIMIT ?";
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, rc);
	int i = 1;
	sqlite3_bind_int64(st, i++, after_seq);
	if (id)
		sqlite3_bind_int64(st, i++, (sqlite3_int64)id);
	sqlite3_bind_int64(st, i, limit > 0 ? limit : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ah_event_row ev = {
			.seq = sqlite3_column_int64(st, 0),
			.t_ns = sqlite3_column_int64(st, 1),
			.kind = col_text(st, 2),
			.id = (uint64_t)sqlite3_column_int64(st, 3),
			.tenant = col_text(st, 4),
			.pool = col_text(st, 5),
			.klass = col_text(st, 6),
			.resources = col_text(st, 7),
			.reason = col_text(st, 8),
			.detail = col_text(st, 9),
		};
		int frc = fn(ctx, &ev);
		if (frc) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(s, rc);
}

const char *ah_ledger_sqlite_errmsg(ah_ledger *l)
{
	return l ? ((sql_ledger *)l)->errmsg : "";
}
