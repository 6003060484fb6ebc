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
	"INSERT INTO events(t_ns,kind,id,tenant,pool,class,resources,reason,detail,data) VALUES(?,?,?,?,?,?,?,?,?,?)",
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
	sqlite3_stmt *pend_st[2]; /* pending grows: see "pending grows" below */
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
	bind_opt_text(st, 10, ev->data);
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

/* ---- pending grows (schema 2) ---------------------------------------- *
 * A running allocation's grow that did not fit, waiting for room. Kept in
 * its own table so the rest of the schema is untouched; a trigger drops the
 * row with its allocation (INSERT OR REPLACE on allocations does not fire
 * it: recursive_triggers is off). */
enum { P_PUT, P_DEL };

static const char *const pend_sql[2] = {
	"INSERT OR REPLACE INTO pending_grows(id,want,since_ns) VALUES(?,?,?)",
	"DELETE FROM pending_grows WHERE id=?",
};

static int migrate_pending(sql_ledger *s)
{
	sqlite3_stmt *st = NULL;
	int version = 0;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return fail(s, SQLITE_ERROR);
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version >= 2)
		return 0;
	return exec(s, "CREATE TABLE IF NOT EXISTS pending_grows(id INTEGER PRIMARY KEY, want TEXT NOT NULL,"
		       " since_ns INTEGER NOT NULL);"
		       "CREATE TRIGGER IF NOT EXISTS pending_grows_with_alloc AFTER DELETE ON allocations"
		       " BEGIN DELETE FROM pending_grows WHERE id=old.id; END;"
		       "PRAGMA user_version=2;");
}

static int prepare_pending(sql_ledger *s)
{
	for (int i = 0; i < 2; i++)
		if (sqlite3_prepare_v3(s->db, pend_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->pend_st[i], NULL) !=
		    SQLITE_OK)
			return fail(s, SQLITE_ERROR);
	return 0;
}

static int l_put_pending(ah_ledger *l, uint64_t id, const ah_vec *want, int64_t since_ns)
{
	sql_ledger *s = (sql_ledger *)l;
	sqlite3_stmt *st = s->pend_st[P_PUT];
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	int rc = bind_vec(s, st, 2, want);
	if (rc < 0) {
		sqlite3_reset(st);
		return rc;
	}
	sqlite3_bind_int64(st, 3, since_ns);
	return step_reset(s, st);
}

static int l_del_pending(ah_ledger *l, uint64_t id)
{
	sql_ledger *s = (sql_ledger *)l;
	return del_by_id(s, s->pend_st[P_DEL], id);
}

static int load_pending(sql_ledger *s, const ah_dimset *dims, const ah_ledger_loader *ld)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, "SELECT id,want,since_ns FROM pending_grows ORDER BY id", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, rc);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ah_vec want;
		uint64_t id = (uint64_t)sqlite3_column_int64(st, 0);
		/* A dimension the policy dropped: the next usage report states
		 * the grow again. */
		if (ah_vec_parse(dims, col_text(st, 1), &want, NULL, 0) < 0)
			continue;
		int frc = ld->pending(ld->ctx, id, &want, sqlite3_column_int64(st, 2));
		if (frc < 0) {
			snprintf(s->errmsg, sizeof(s->errmsg), "pending grow %llu: %s", (unsigned long long)id,
				 ah_strerror(frc));
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(s, rc);
}
/* ---- end of pending grows --------------------------------------------- */

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
	if (ld->pending && (rc = load_pending(s, dims, ld)) < 0) /* pending grows */
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
	for (int i = 0; i < 2; i++)
		sqlite3_finalize(s->pend_st[i]);
	sqlite3_close(s->db);
	free(s);
}

static bool has_column(sql_ledger *s, const char *table, const char *col)
{
	char sql[96];
	snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", table);
	sqlite3_stmt *st = NULL;
	bool found = false;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK)
		while (!found && sqlite3_step(st) == SQLITE_ROW)
			found = !strcmp(col_text(st, 1), col);
	sqlite3_finalize(st);
	return found;
}


/* Schema upgrades, run inside the opening transaction and recorded in
 * PRAGMA user_version so each runs once. Additive only: a database written
 * by this version still opens with the previous one (which names its
 * columns in every statement and ignores the new table).
 *   1: events.data (structured detail of scale events, JSON) and
 *      pool_demand (the scaler's demand history, see ahead scale). */
static int migrate(sql_ledger *s)
{
	sqlite3_stmt *st = NULL;
	int version = 0, rc;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return fail(s, SQLITE_ERROR);
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version >= 1)
		return 0;
	if (!has_column(s, "events", "data") && (rc = exec(s, "ALTER TABLE events ADD COLUMN data TEXT")) < 0)
		return rc;
	return exec(s, "CREATE TABLE IF NOT EXISTS pool_demand(pool TEXT NOT NULL, t_ns INTEGER NOT NULL,"
		       " used TEXT NOT NULL, queued TEXT NOT NULL, classes TEXT NOT NULL DEFAULT '',"
		       " PRIMARY KEY(pool, t_ns)) WITHOUT ROWID;"
		       "CREATE INDEX IF NOT EXISTS events_by_kind_pool ON events(kind, pool);"
		       "PRAGMA user_version=1;");
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
	.put_pending = l_put_pending, /* pending grows */
	.del_pending = l_del_pending,
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
	if ((rc = exec(s, schema)) < 0 || (rc = migrate(s)) < 0 || (rc = migrate_pending(s)) < 0) {
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
	if ((rc = prepare_pending(s)) < 0) /* pending grows */
		goto sqlfail;
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
	const char *sql = id ? "SELECT seq,t_ns,kind,id,tenant,pool,class,resources,reason,detail,data FROM events"
			       " WHERE seq>? AND id=? ORDER BY seq LIMIT ?"
			     : "SELECT seq,t_ns,kind,id,tenant,pool,class,resources,reason,detail,data FROM events"
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
			.data = col_text(st, 10),
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

/* ---- the scaler's demand history -------------------------------------- */

/* "gold:cpu=2,memory=1Gi;batch:cpu=1": class names and vectors never
 * contain ':' or ';'. */
static int format_classes(const ah_dimset *dims, const ah_demand_row *r, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	for (int c = 0; c < r->n_classes; c++) {
		char v[AH_MAX_DIMS * (AH_NAME_MAX + 32)];
		if (ah_vec_is_zero(&r->class_demand[c], dims->n))
			continue;
		if (ah_vec_format(dims, &r->class_demand[c], v, sizeof(v)) < 0)
			return AH_ERANGE;
		int w = snprintf(buf + n, len - n, "%s%s:%s", n ? ";" : "", r->class_name[c], v);
		if (w < 0 || (size_t)w >= len - n)
			return AH_ETOOBIG;
		n += (size_t)w;
	}
	return 0;
}

int ah_ledger_sqlite_demand_put(ah_ledger *l, const ah_dimset *dims, const ah_demand_row *row,
				int64_t keep_after_ns, int max_rows)
{
	sql_ledger *s = (sql_ledger *)l;
	if (!s || !dims || !row || !row->pool || row->n_classes < 0 || row->n_classes > AH_MAX_CLASSES ||
	    max_rows < 1)
		return AH_EINVAL;
	char used[AH_MAX_DIMS * (AH_NAME_MAX + 32)], queued[sizeof(used)];
	char classes[AH_MAX_CLASSES * (AH_NAME_MAX + sizeof(used))];
	if (ah_vec_format(dims, &row->used, used, sizeof(used)) < 0 ||
	    ah_vec_format(dims, &row->queued, queued, sizeof(queued)) < 0 ||
	    format_classes(dims, row, classes, sizeof(classes)) < 0)
		return AH_ERANGE;
	bool own = sqlite3_get_autocommit(s->db);
	int rc;
	if (own && (rc = exec(s, "BEGIN IMMEDIATE")) < 0)
		return rc;
	static const char *const sql[] = {
		"INSERT OR REPLACE INTO pool_demand(pool,t_ns,used,queued,classes) VALUES(?1,?2,?3,?4,?5)",
		/* retention: by age, then a hard cap on rows per pool */
		"DELETE FROM pool_demand WHERE pool=?1 AND t_ns<?6",
		"DELETE FROM pool_demand WHERE pool=?1 AND t_ns<=(SELECT t_ns FROM pool_demand WHERE pool=?1"
		" ORDER BY t_ns DESC LIMIT 1 OFFSET ?7)",
	};
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(s->db, sql[i], -1, &st, NULL) != SQLITE_OK) {
			rc = fail(s, SQLITE_ERROR);
			goto out;
		}
		sqlite3_bind_text(st, 1, row->pool, -1, SQLITE_STATIC);
		if (i == 0) {
			sqlite3_bind_int64(st, 2, row->t_ns);
			sqlite3_bind_text(st, 3, used, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 4, queued, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 5, classes, -1, SQLITE_STATIC);
		} else if (i == 1) {
			sqlite3_bind_int64(st, 6, keep_after_ns);
		} else {
			sqlite3_bind_int64(st, 7, max_rows);
		}
		rc = step_reset(s, st);
		sqlite3_finalize(st);
		if (rc < 0)
			goto out;
	}
	rc = own ? exec(s, "COMMIT") : 0;
out:
	if (rc < 0 && own)
		exec(s, "ROLLBACK");
	return rc;
}

int ah_ledger_sqlite_demand_load(ah_ledger *l, const ah_dimset *dims, int64_t since_ns,
				 int (*fn)(void *ctx, const ah_demand_row *row), void *ctx)
{
	sql_ledger *s = (sql_ledger *)l;
	if (!s || !dims || !fn)
		return AH_EINVAL;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db,
				    "SELECT pool,t_ns,used,queued,classes FROM pool_demand WHERE t_ns>=? ORDER BY t_ns",
				    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, rc);
	sqlite3_bind_int64(st, 1, since_ns);
	ah_demand_row *r = malloc(sizeof(*r));
	if (!r) {
		sqlite3_finalize(st);
		return AH_ENOMEM;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(r, 0, sizeof(*r));
		r->pool = col_text(st, 0);
		r->t_ns = sqlite3_column_int64(st, 1);
		/* Rows naming a dimension the policy has dropped are skipped, as
		 * pool capacities are: history is advice, not state. */
		if (ah_vec_parse(dims, col_text(st, 2), &r->used, NULL, 0) < 0 ||
		    ah_vec_parse(dims, col_text(st, 3), &r->queued, NULL, 0) < 0)
			continue;
		const char *p = col_text(st, 4);
		while (*p && r->n_classes < AH_MAX_CLASSES) {
			const char *semi = strchr(p, ';'), *end = semi ? semi : p + strlen(p);
			const char *colon = memchr(p, ':', (size_t)(end - p));
			char v[AH_MAX_DIMS * (AH_NAME_MAX + 32)];
			size_t nl = colon ? (size_t)(colon - p) : 0, vl = colon ? (size_t)(end - colon - 1) : 0;
			if (colon && nl > 0 && nl < AH_NAME_MAX && vl < sizeof(v)) {
				int c = r->n_classes;
				memcpy(r->class_name[c], p, nl);
				r->class_name[c][nl] = '\0';
				memcpy(v, colon + 1, vl);
				v[vl] = '\0';
				if (ah_vec_parse(dims, v, &r->class_demand[c], NULL, 0) == 0)
					r->n_classes++;
			}
			p = semi ? semi + 1 : end;
		}
		int frc = fn(ctx, r);
		if (frc) {
			free(r);
			sqlite3_finalize(st);
			return frc;
		}
	}
	free(r);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(s, rc);
}

int ah_ledger_sqlite_last_scale_up(ah_ledger *l, const char *pool, const char *dim, int64_t *out_t_ns)
{
	sql_ledger *s = (sql_ledger *)l;
	if (!s || !pool || !dim || !out_t_ns)
		return AH_EINVAL;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db,
				    "SELECT max(t_ns) FROM events WHERE kind='scale' AND pool=?1 AND reason='scaled'"
				    " AND json_valid(data) AND json_extract(data,'$.dim')=?2"
				    " AND json_extract(data,'$.to')>json_extract(data,'$.from')",
				    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, rc);
	sqlite3_bind_text(st, 1, pool, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, dim, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return fail(s, rc);
	}
	bool none = sqlite3_column_type(st, 0) == SQLITE_NULL;
	int64_t t = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (none)
		return AH_ENOENT;
	*out_t_ns = t;
	return 0;
}
