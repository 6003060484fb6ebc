/* ahead: the SQLite ledger (see include/ahead/ledger_sqlite.h).
 *
 * Vectors are stored as canonical text ("cpu=2,memory=1Gi") so a row stays
 * readable with the sqlite3 shell and survives a policy that reorders or adds
 * dimensions. Allocations and queued requests also carry their resources as
 * packed integers (res_bin, tagged with the dimension names' hash): loading
 * 100,000 rows is then a copy instead of a parse; the text stays the truth
 * when the dimensions changed or the blob is absent (rows from schema < 3).
 *
 * Schema versions (PRAGMA user_version; meta.schema_version is 1 forever):
 *   0  the first schema: meta, policy, pools, tenants, allocations, queue,
 *      events (without data).
 *   1  events.data (JSON detail of scale events), pool_demand (the scaler's
 *      demand history), index events_by_kind_pool.
 *   2  pending_grows (the engine's pending grows; issue 8, engine split).
 *   3  allocations.res_bin, queue.res_bin (packed resources), index
 *      events_by_time; meta.policy_gen (policy generation, also written by
 *      version-3 code on older files).
 *   4  allocations.row_bin (the whole row packed, a copy the load reads
 *      instead of nine columns; see "packed rows"), trigger
 *      allocations_row_bin_stale (an UPDATE that does not write row_bin
 *      clears it).
 *   5  what the API keeps (include/ahead/api_records.h): api_tokens,
 *      api_audit (append-only: triggers api_audit_no_update and
 *      api_audit_no_delete refuse UPDATE and DELETE), api_idempotency,
 *      indexes api_audit_by_who, api_audit_by_time,
 *      api_idempotency_by_time; meta.token_gen (token generation).
 *   6  fewer indexes on the append-only logs, which every write pays for:
 *      events_by_time and api_audit_by_time dropped (a query by time finds
 *      its first row by a binary search over seq, see "rows by time");
 *      events_by_kind_pool made partial, over the rare kinds only (a query
 *      for rare kinds names the index's condition; frequent kinds are found
 *      by scanning in seq order).
 *   7  api_audit_by_who dropped (a query by token scans in seq order).
 * Every step is additive (columns and tables added, none changed), so the
 * data would survive older code; but a file from a newer version than this
 * code knows is refused ("upgrade ahead"), since a future step may not be
 * additive: downgrading the binary after a migration means restoring a
 * backup made before it (ahead backup). */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ahead/api_records.h"
#include "ahead/error.h"
#include "ahead/ledger_sqlite.h"
#include "store/ledger_internal.h"
#include "store/sqlite_checkpointer.h"

#define SCHEMA_LATEST 7

enum {
	S_PUT_ALLOC,
	S_DEL_ALLOC,
	S_PUT_QUEUED,
	S_DEL_QUEUED,
	S_EVENT,
	S_NEXT_ID,
	S_POOL_CAP,
	S_POLICY_GEN,
	S_AUDIT_PUT,
	S_IDEM_PUT,
	S_TOKEN_GEN,
	/* what every transaction and every poll runs: prepared once, not
	 * parsed again per call (a daemon does this tens of thousands of
	 * times a second) */
	S_BEGIN,
	S_COMMIT,
	S_DATA_VERSION,
	S_EV_MIN,
	S_EV_MAX,
	S_EV_HW,
	S__COUNT
};

static const char *stmt_sql[S__COUNT] = {
	"INSERT OR REPLACE INTO allocations(id,tenant,pool,class,resources,params,created_ns,expires_ns,"
	"lease_ttl_ns,res_bin,row_bin) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
	"DELETE FROM allocations WHERE id=?",
	"INSERT OR REPLACE INTO queue(id,seq,tenant,pool,class,resources,params,arrival_ns,deadline_ns,"
	"lease_ttl_ns,res_bin) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
	"DELETE FROM queue WHERE id=?",
	"INSERT INTO events(t_ns,kind,id,tenant,pool,class,resources,reason,detail,data) VALUES(?,?,?,?,?,?,?,?,?,?)",
	"INSERT OR REPLACE INTO meta(key,value) VALUES('next_id',?)",
	"INSERT INTO pools(capacity,name,min_size,max_size,unit,headroom,headroom_priority)"
	" VALUES(?,?,'','','','',0) ON CONFLICT(name) DO UPDATE SET capacity=excluded.capacity",
	"SELECT value FROM meta WHERE key='policy_gen'",
	"INSERT INTO api_audit(t_ns,who,name,role,tenant,source,method,path,status,outcome,detail)"
	" VALUES(?,?,?,?,?,?,?,?,?,?,?)",
	"INSERT INTO api_idempotency(scope,key,req_hash,status,body,t_ns) VALUES(?,?,?,?,?,?)"
	" ON CONFLICT(scope,key) DO NOTHING",
	"SELECT value FROM meta WHERE key='token_gen'",
	"BEGIN IMMEDIATE",
	"COMMIT",
	"PRAGMA data_version",
	"SELECT MIN(seq) FROM events",
	"SELECT MAX(seq) FROM events",
	"SELECT seq FROM sqlite_sequence WHERE name='events'",
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
	int64_t gen_version;  /* data_version when policy_gen was read (-1: never) */
	uint64_t policy_gen;
	int64_t token_gen_version; /* as gen_version, for token_gen */
	uint64_t token_gen;
	bool in_txn, txn_failed;
	int txn_rc;           /* the first error of the open transaction */
	char errmsg[256];
	ah_sqlite_ckpt *ckpt; /* checkpoints on a thread (a daemon's ledger), or NULL */
} sql_ledger;

/* Inside a transaction the first error is the one to report: after
 * SQLITE_FULL or an I/O error SQLite may roll back on its own, and what
 * follows ("cannot commit - no transaction is active") only hides it. */
static int fail(sql_ledger *s, int rc)
{
	int ah = rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? AH_EBUSY : AH_ESTORE;
	if (s->in_txn && s->txn_failed)
		return s->txn_rc;
	snprintf(s->errmsg, sizeof(s->errmsg), "%s", sqlite3_errmsg(s->db));
	if (s->in_txn) {
		s->txn_failed = true;
		s->txn_rc = ah;
	}
	return ah;
}

/* Rolls back without touching errmsg (there may be nothing to roll back). */
static void quiet_rollback(sql_ledger *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
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
	sqlite3_stmt *st = s->st[S_DATA_VERSION];
	int64_t v = -1;
	if (!st)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

/* BEGIN IMMEDIATE or COMMIT through their prepared statements. */
static int run_cached(sql_ledger *s, int idx)
{
	sqlite3_stmt *st = s->st[idx];
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : fail(s, rc);
}

static int l_begin(ah_ledger *l)
{
	sql_ledger *s = (sql_ledger *)l;
	s->in_txn = s->txn_failed = false;
	s->errmsg[0] = '\0';
	int rc = run_cached(s, S_BEGIN);
	if (rc < 0)
		return rc;
	s->in_txn = true;
	int64_t v = read_data_version(s);
	if (v != s->data_version) {
		s->data_version = v;
		return 1;
	}
	return 0;
}

/* Preconditions need no check here: BEGIN IMMEDIATE takes the write lock
 * for the whole transaction, so nothing a decision read can change before
 * its commit, and begin() returns 1 when another process committed since
 * this one last looked (data_version), so the caller reloads first. */
static int l_precond_add(ah_ledger *l, const ah_ledger_precond *pc)
{
	(void)l;
	(void)pc;
	return 0;
}

static int l_commit(ah_ledger *l)
{
	sql_ledger *s = (sql_ledger *)l;
	int rc = s->txn_failed ? s->txn_rc : run_cached(s, S_COMMIT);
	if (rc < 0)
		quiet_rollback(s);
	s->in_txn = s->txn_failed = false;
	return rc;
}

static void l_rollback(ah_ledger *l)
{
	sql_ledger *s = (sql_ledger *)l;
	quiet_rollback(s);
	s->in_txn = s->txn_failed = false;
}

static int bind_vec(sql_ledger *s, sqlite3_stmt *st, int i, const ah_vec *v)
{
	char buf[AH_MAX_DIMS * (AH_NAME_MAX + 32)];
	if (ah_vec_format(s->base.dims, v, buf, sizeof(buf)) < 0)
		return AH_ERANGE;
	return sqlite3_bind_text(st, i, buf, -1, SQLITE_TRANSIENT) == SQLITE_OK ? 0 : fail(s, SQLITE_ERROR);
}

/* res_bin: the hash of the dimension names in order, then one int64 per
 * dimension (host byte order: the file is not moved across architectures,
 * and a foreign blob fails the hash and falls back to the text anyway). */
static uint64_t dims_hash(const ah_dimset *d)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)d->n;
	for (int i = 0; i < d->n; i++) {
		for (const unsigned char *c = (const unsigned char *)d->name[i]; *c; c++)
			h = (h ^ *c) * 1099511628211ULL;
		h = (h ^ ',') * 1099511628211ULL;
	}
	return h;
}

static void bind_res_bin(sql_ledger *s, sqlite3_stmt *st, int i, const ah_vec *v)
{
	unsigned char buf[8 + 8 * AH_MAX_DIMS];
	uint64_t h = dims_hash(s->base.dims);
	int n = s->base.dims->n;
	memcpy(buf, &h, 8);
	memcpy(buf + 8, v->v, 8 * (size_t)n);
	sqlite3_bind_blob(st, i, buf, 8 + 8 * n, SQLITE_TRANSIENT);
}

/* True (and *out set) when the blob was written under these dimensions. */
static bool read_res_bin(sqlite3_stmt *st, int i, const ah_dimset *dims, uint64_t hash, ah_vec *out)
{
	const void *b = sqlite3_column_blob(st, i);
	int len = sqlite3_column_bytes(st, i);
	uint64_t h;
	if (!b || len != 8 + 8 * dims->n)
		return false;
	memcpy(&h, b, 8);
	if (h != hash)
		return false;
	memset(out, 0, sizeof(*out));
	memcpy(out->v, (const unsigned char *)b + 8, 8 * (size_t)dims->n);
	return true;
}

/* ---- packed rows (schema 4) ------------------------------------------ *
 * row_bin: the res_bin hash, created_ns, expires_ns, lease_ttl_ns, one
 * int64 per dimension, then tenant, pool, class and params, each
 * NUL-terminated. A copy for the load (two columns read instead of nine,
 * strings used in place): the columns stay the truth. A row without a
 * usable one (written by older code, by an UPDATE, under other dimensions)
 * sends the rest of the load to the columns. */
#define ROW_BIN_FIXED 32

static void bind_row_bin(sql_ledger *s, sqlite3_stmt *st, int i, const ah_ledger_row *r)
{
	unsigned char buf[ROW_BIN_FIXED + 8 * AH_MAX_DIMS + 3 * AH_NAME_MAX + AH_PARAMS_MAX + 8];
	const char *str[4] = {r->tenant, r->pool, r->klass, r->params ? r->params : ""};
	int n = s->base.dims->n;
	size_t w = ROW_BIN_FIXED + 8 * (size_t)n;
	uint64_t h = dims_hash(s->base.dims);
	memcpy(buf, &h, 8);
	memcpy(buf + 8, &r->created_ns, 8);
	memcpy(buf + 16, &r->expires_ns, 8);
	memcpy(buf + 24, &r->lease_ttl_ns, 8);
	memcpy(buf + ROW_BIN_FIXED, r->res.v, 8 * (size_t)n);
	for (int k = 0; k < 4; k++) {
		size_t len = strlen(str[k]) + 1;
		if (len > sizeof(buf) - w) {
			sqlite3_bind_null(st, i); /* too long to pack: read from the columns */
			return;
		}
		memcpy(buf + w, str[k], len);
		w += len;
	}
	sqlite3_bind_blob(st, i, buf, (int)w, SQLITE_TRANSIENT);
}

/* True (and r's fields but id set, strings pointing into the blob) when
 * the blob is whole and was written under these dimensions. */
static bool read_row_bin(sqlite3_stmt *st, int i, const ah_dimset *dims, uint64_t hash, ah_ledger_row *r)
{
	const unsigned char *b = sqlite3_column_blob(st, i);
	int len = sqlite3_column_bytes(st, i);
	size_t fixed = ROW_BIN_FIXED + 8 * (size_t)dims->n;
	uint64_t h;
	if (!b || (size_t)len < fixed + 4)
		return false;
	memcpy(&h, b, 8);
	if (h != hash)
		return false;
	const char *str[4];
	const unsigned char *p = b + fixed, *end = b + len;
	for (int k = 0; k < 4; k++) {
		const unsigned char *z = memchr(p, 0, (size_t)(end - p));
		if (!z)
			return false;
		str[k] = (const char *)p;
		p = z + 1;
	}
	if (p != end)
		return false;
	memcpy(&r->created_ns, b + 8, 8);
	memcpy(&r->expires_ns, b + 16, 8);
	memcpy(&r->lease_ttl_ns, b + 24, 8);
	memset(&r->res, 0, sizeof(r->res));
	memcpy(r->res.v, b + ROW_BIN_FIXED, 8 * (size_t)dims->n);
	r->tenant = str[0];
	r->pool = str[1];
	r->klass = str[2];
	r->params = str[3];
	r->seq = 0;
	return true;
}
/* ---- end of packed rows ----------------------------------------------- */

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
	bind_res_bin(s, st, 10, &r->res);
	bind_row_bin(s, st, 11, r);
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
	bind_res_bin(s, st, 11, &r->res);
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

/* Rows without a usable res_bin (written before schema 3 or under other
 * dimensions) parse their text, read apart so the scan skips that column. */
static int row_res_text(sql_ledger *s, bool queue, const ah_dimset *dims, uint64_t id, ah_vec *out)
{
	sqlite3_stmt *st = NULL;
	char perr[128] = "row vanished";
	int rc = sqlite3_prepare_v2(s->db,
				    queue ? "SELECT resources FROM queue WHERE id=?" : "SELECT resources FROM allocations WHERE id=?",
				    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, rc);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	rc = sqlite3_step(st) == SQLITE_ROW ? ah_vec_parse(dims, col_text(st, 0), out, perr, sizeof(perr)) : AH_ESTATE;
	sqlite3_finalize(st);
	if (rc < 0) {
		snprintf(s->errmsg, sizeof(s->errmsg), "%s %llu: resources: %s", queue ? "queued request" : "allocation",
			 (unsigned long long)id, perr);
		return AH_ESTATE;
	}
	return 0;
}

/* One pass over a table; sql selects id, tenant, pool, class, params, the
 * three times, seq and res_bin, in that order (from_id binds ?1 if any). */
static int load_rows(sql_ledger *s, const char *sql, bool queue, const ah_dimset *dims, uint64_t from_id,
		     int (*fn)(void *, const ah_ledger_row *), void *ctx)
{
	sqlite3_stmt *st = NULL;
	uint64_t hash = dims_hash(dims);
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, rc);
	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_int64(st, 1, (sqlite3_int64)from_id);
	ah_ledger_row r = {0};
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r.id = (uint64_t)sqlite3_column_int64(st, 0);
		if (!read_res_bin(st, 9, dims, hash, &r.res)) {
			int prc = row_res_text(s, queue, dims, r.id, &r.res);
			if (prc < 0) {
				sqlite3_finalize(st);
				return prc;
			}
		}
		r.tenant = col_text(st, 1);
		r.pool = col_text(st, 2);
		r.klass = col_text(st, 3);
		r.params = col_text(st, 4);
		r.created_ns = sqlite3_column_int64(st, 5);
		r.expires_ns = sqlite3_column_int64(st, 6);
		r.lease_ttl_ns = sqlite3_column_int64(st, 7);
		r.seq = (uint64_t)sqlite3_column_int64(st, 8);
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

/* Allocations in id order from their packed rows; from the first row
 * without a usable one on, from the columns. */
static int load_allocs(sql_ledger *s, const ah_dimset *dims, int (*fn)(void *, const ah_ledger_row *), void *ctx)
{
	sqlite3_stmt *st = NULL;
	uint64_t hash = dims_hash(dims);
	int rc = sqlite3_prepare_v2(s->db, "SELECT id,row_bin FROM allocations ORDER BY id", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, rc);
	ah_ledger_row r = {0};
	bool packed = true;
	while (packed && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		r.id = (uint64_t)sqlite3_column_int64(st, 0);
		if (!(packed = read_row_bin(st, 1, dims, hash, &r)))
			break;
		int frc = fn(ctx, &r);
		if (frc < 0) {
			snprintf(s->errmsg, sizeof(s->errmsg), "allocation %llu (pool %s): %s", (unsigned long long)r.id,
				 r.pool, ah_strerror(frc));
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	if (packed)
		return rc == SQLITE_DONE ? 0 : fail(s, rc);
	return load_rows(s, "SELECT id,tenant,pool,class,params,created_ns,expires_ns,lease_ttl_ns,0,res_bin"
			    " FROM allocations WHERE id>=?1 ORDER BY id", false, dims, r.id, fn, ctx);
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

static int load_all(sql_ledger *s, const ah_dimset *dims, const ah_ledger_loader *ld, uint64_t *next_id);

/* Loading reads every row: mapped pages are read in place instead of
 * copied into SQLite's page cache one read() at a time. Afterwards a
 * long-lived owner reads a row now and then: the mapping would only keep
 * the whole file resident (its RSS growing with the ledger), so it goes. */
static int l_load(ah_ledger *l, const ah_dimset *dims, const ah_ledger_loader *ld, uint64_t *next_id)
{
	sql_ledger *s = (sql_ledger *)l;
	int rc = exec(s, "PRAGMA mmap_size=1073741824");
	if (rc < 0)
		return rc;
	rc = load_all(s, dims, ld, next_id);
	int mrc = exec(s, "PRAGMA mmap_size=0");
	return rc < 0 ? rc : mrc;
}

static int load_all(sql_ledger *s, const ah_dimset *dims, const ah_ledger_loader *ld, uint64_t *next_id)
{
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
	if (ld->alloc && (rc = load_allocs(s, dims, ld->alloc, ld->ctx)) < 0)
		return rc;
	if (ld->pending && (rc = load_pending(s, dims, ld)) < 0) /* pending grows */
		return rc;
	if (ld->queued &&
	    (rc = load_rows(s, "SELECT id,tenant,pool,class,params,arrival_ns,deadline_ns,lease_ttl_ns,seq,res_bin"
			       " FROM queue ORDER BY seq", true, dims, 0, ld->queued, ld->ctx)) < 0)
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
	ah_sqlite_ckpt_stop(s->ckpt, s->db);
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

static int add_column(sql_ledger *s, const char *table, const char *col, const char *sql)
{
	return has_column(s, table, col) ? 0 : exec(s, sql);
}

/* ---- schema migrations (the version table is at the top of the file) -- */

static int migrate_1(sql_ledger *s)
{
	int rc = add_column(s, "events", "data", "ALTER TABLE events ADD COLUMN data TEXT");
	if (rc < 0)
		return rc;
	return exec(s, "CREATE TABLE IF NOT EXISTS pool_demand(pool TEXT NOT NULL, t_ns INTEGER NOT NULL,"
		       " used TEXT NOT NULL, queued TEXT NOT NULL, classes TEXT NOT NULL DEFAULT '',"
		       " PRIMARY KEY(pool, t_ns)) WITHOUT ROWID;"
		       "CREATE INDEX IF NOT EXISTS events_by_kind_pool ON events(kind, pool);");
}

/* Pending grows (a running allocation's grow waiting for room), dropped
 * with their allocation by a trigger. */
static int migrate_2(sql_ledger *s)
{
	return exec(s, "CREATE TABLE IF NOT EXISTS pending_grows(id INTEGER PRIMARY KEY, want TEXT NOT NULL,"
		       " since_ns INTEGER NOT NULL);"
		       "CREATE TRIGGER IF NOT EXISTS pending_grows_with_alloc AFTER DELETE ON allocations"
		       " BEGIN DELETE FROM pending_grows WHERE id=old.id; END;");
}

static int migrate_3(sql_ledger *s)
{
	int rc;
	if ((rc = add_column(s, "allocations", "res_bin", "ALTER TABLE allocations ADD COLUMN res_bin BLOB")) < 0 ||
	    (rc = add_column(s, "queue", "res_bin", "ALTER TABLE queue ADD COLUMN res_bin BLOB")) < 0)
		return rc;
	return exec(s, "CREATE INDEX IF NOT EXISTS events_by_time ON events(t_ns);");
}

/* Packed rows. Nothing to backfill (rows without one load from their
 * columns, and rewriting them needs the policy's dimensions). */
static int migrate_4(sql_ledger *s)
{
	int rc = add_column(s, "allocations", "row_bin", "ALTER TABLE allocations ADD COLUMN row_bin BLOB");
	if (rc < 0)
		return rc;
	return exec(s, "CREATE TRIGGER IF NOT EXISTS allocations_row_bin_stale AFTER UPDATE ON allocations"
		       " WHEN new.row_bin IS old.row_bin BEGIN UPDATE allocations SET row_bin=NULL WHERE id=new.id; END;");
}

/* What the API keeps. The audit log refuses UPDATE and DELETE in the file
 * itself, so no code path (nor the sqlite3 shell, short of dropping the
 * triggers) rewrites it. */
static int migrate_5(sql_ledger *s)
{
	return exec(s, "CREATE TABLE IF NOT EXISTS api_tokens(id TEXT PRIMARY KEY, name TEXT NOT NULL,"
		       " role TEXT NOT NULL, tenant TEXT NOT NULL DEFAULT '', hash BLOB NOT NULL,"
		       " created_ns INTEGER NOT NULL, expires_ns INTEGER NOT NULL DEFAULT 0,"
		       " revoked_ns INTEGER NOT NULL DEFAULT 0, rotated_from TEXT NOT NULL DEFAULT '') WITHOUT ROWID;"
		       "CREATE TABLE IF NOT EXISTS api_audit(seq INTEGER PRIMARY KEY AUTOINCREMENT, t_ns INTEGER NOT NULL,"
		       " who TEXT NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL, tenant TEXT NOT NULL,"
		       " source TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, status INTEGER NOT NULL,"
		       " outcome TEXT NOT NULL, detail TEXT NOT NULL);"
		       "CREATE INDEX IF NOT EXISTS api_audit_by_who ON api_audit(who);"
		       "CREATE INDEX IF NOT EXISTS api_audit_by_time ON api_audit(t_ns);"
		       "CREATE TRIGGER IF NOT EXISTS api_audit_no_update BEFORE UPDATE ON api_audit"
		       " BEGIN SELECT RAISE(ABORT, 'api_audit is append-only'); END;"
		       "CREATE TRIGGER IF NOT EXISTS api_audit_no_delete BEFORE DELETE ON api_audit"
		       " BEGIN SELECT RAISE(ABORT, 'api_audit is append-only'); END;"
		       "CREATE TABLE IF NOT EXISTS api_idempotency(scope TEXT NOT NULL, key TEXT NOT NULL,"
		       " req_hash BLOB NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL, t_ns INTEGER NOT NULL,"
		       " PRIMARY KEY(scope, key)) WITHOUT ROWID;"
		       "CREATE INDEX IF NOT EXISTS api_idempotency_by_time ON api_idempotency(t_ns);");
}

/* The kinds a daemon writes rarely (a few per minute, not one per
 * request): the only ones the kind index holds. The same text is the
 * index's condition and the term a query adds to use it. */
/* (ORs, not IN: an IN list in an index's condition makes SQLite build a
 * temporary table on every insert) */
#define RARE_KINDS "(kind='preempt' OR kind='resize' OR kind='policy' OR kind='scale')"
#define RARE_MASK                                                                                                  \
	((1u << AH_EV_PREEMPT) | (1u << AH_EV_RESIZE) | (1u << AH_EV_POLICY) | (1u << AH_EV_SCALE))

static int migrate_6(sql_ledger *s)
{
	return exec(s, "DROP INDEX IF EXISTS events_by_time;"
		       "DROP INDEX IF EXISTS api_audit_by_time;"
		       "DROP INDEX IF EXISTS events_by_kind_pool;"
		       "CREATE INDEX IF NOT EXISTS events_by_kind_pool ON events(kind, pool) WHERE " RARE_KINDS ";");
}

/* The audit log's index by token: each entry paid for it (about a fifth of
 * a write's SQLite time on bench/run api); a query by token now scans in seq
 * order from its start (by time: the binary search), as an operator's
 * `ahead audit --who` can afford. */
static int migrate_7(sql_ledger *s)
{
	return exec(s, "DROP INDEX IF EXISTS api_audit_by_who;");
}

static int (*const migrations[SCHEMA_LATEST + 1])(sql_ledger *) = {NULL,      migrate_1, migrate_2, migrate_3,
								     migrate_4, migrate_5, migrate_6, migrate_7};

static int read_user_version(sqlite3 *db, int *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Runs inside the opening transaction, so a failed step leaves the file at
 * its old version. */
static int migrate(sql_ledger *s)
{
	int version = 0, rc;
	if ((rc = read_user_version(s->db, &version)) != SQLITE_OK)
		return fail(s, rc);
	if (version > SCHEMA_LATEST) {
		snprintf(s->errmsg, sizeof(s->errmsg),
			 "ledger schema version %d is newer than this ahead knows (%d): upgrade ahead", version,
			 SCHEMA_LATEST);
		return AH_EUNSUPPORTED;
	}
	if (version == SCHEMA_LATEST)
		return 0;
	for (int v = version + 1; v <= SCHEMA_LATEST; v++)
		if ((rc = migrations[v](s)) < 0)
			return rc;
	char sql[48];
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", SCHEMA_LATEST);
	return exec(s, sql);
}

/* ---- policy ----------------------------------------------------------- */

static int l_policy_get(ah_ledger *l, char **out_text, int64_t *out_applied_ns)
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

/* Reads policy_gen unless no commit happened since the last read: polling
 * it costs one PRAGMA, not a query, while nothing changes. A file written
 * before generations existed has gen 1 when a policy is stored. */
static int l_policy_generation(ah_ledger *l, uint64_t *out_gen)
{
	sql_ledger *s = (sql_ledger *)l;
	int64_t v = read_data_version(s);
	if (v < 0 || v != s->gen_version || s->in_txn) {
		sqlite3_stmt *st = s->st[S_POLICY_GEN];
		int rc = sqlite3_step(st);
		uint64_t gen = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return fail(s, rc);
		if (rc == SQLITE_DONE) {
			char *t = NULL;
			int prc = l_policy_get(l, &t, NULL);
			free(t);
			if (prc < 0 && prc != AH_ENOENT)
				return prc;
			gen = prc == 0;
		}
		s->policy_gen = gen;
		s->gen_version = s->in_txn ? -1 : v;
	}
	*out_gen = s->policy_gen;
	return 0;
}

static int put_policy_rows(sql_ledger *s, const char *text, const ah_policy *p, int64_t now_ns)
{
	sqlite3_stmt *st = NULL;
	uint64_t gen = 0;
	int rc;
	if ((rc = l_policy_generation(&s->base, &gen)) < 0 || (rc = exec(s, "DELETE FROM pools; DELETE FROM tenants;")) < 0)
		goto out;
	if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta(key,value) VALUES('policy_gen',?)", -1, &st, NULL) !=
	    SQLITE_OK) {
		rc = fail(s, SQLITE_ERROR);
		goto out;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)(gen + 1));
	if ((rc = step_reset(s, st)) < 0)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
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
	rc = l_event(&s->base, &ev);
out:
	sqlite3_finalize(st);
	return rc;
}

static int l_policy_put(ah_ledger *l, const char *text, const ah_policy *p, int64_t now_ns)
{
	sql_ledger *s = (sql_ledger *)l;
	const ah_dimset *saved = s->base.dims;
	s->base.dims = &p->dims;
	int rc = put_policy_rows(s, text, p, now_ns);
	s->base.dims = saved;
	s->gen_version = -1;
	return rc;
}

/* ---- events ------------------------------------------------------------ */

/* ---- rows by time ------------------------------------------------------
 * The logs are written in commit order with the caller's clock, so t_ns
 * grows with seq: the first row at or after a time is found by a binary
 * search over seq (each probe one lookup by rowid) instead of an index
 * every write would pay for. The query still filters on t_ns, so nothing
 * earlier than the time is returned; if the clock stepped back while the
 * log was written, rows stamped in the repeated interval before the found
 * row are not returned (a query by seq, after=REV, never misses a row). */
static int prepare(sql_ledger *s, const char *sql, sqlite3_stmt **st);
static int select_i64(sql_ledger *s, const char *sql, int64_t arg, int64_t *out, bool *found);

static int probe_time(sqlite3_stmt *st, int64_t seq, int64_t *out_seq, int64_t *out_t)
{
	sqlite3_bind_int64(st, 1, seq);
	int x = sqlite3_step(st);
	int found = x == SQLITE_ROW;
	if (found) {
		*out_seq = sqlite3_column_int64(st, 0);
		*out_t = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return x == SQLITE_ROW || x == SQLITE_DONE ? found : -1;
}

/* The least seq whose row has t_ns >= since_ns (one past the last row
 * when none has), as a lower bound for "seq > bound - 1". */
static int first_seq_at(sql_ledger *s, const char *table, int64_t since_ns, int64_t *out)
{
	char sql[128];
	sqlite3_stmt *st = NULL;
	snprintf(sql, sizeof sql, "SELECT seq, t_ns FROM %s WHERE seq >= ?1 ORDER BY seq LIMIT 1", table);
	int rc = prepare(s, sql, &st);
	if (rc < 0)
		return rc;
	int64_t lo = 0, hi = INT64_MAX, seq, t;
	/* hi: one past the last row */
	snprintf(sql, sizeof sql, "SELECT COALESCE(MAX(seq), 0) FROM %s", table);
	bool found;
	if ((rc = select_i64(s, sql, 0, &hi, &found)) < 0)
		goto out;
	hi++;
	/* invariant: every row below lo has t < since; the row at or after hi (if any) has t >= since */
	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2;
		int p = probe_time(st, mid, &seq, &t);
		if (p < 0) {
			rc = fail(s, SQLITE_ERROR);
			goto out;
		}
		if (!p || t >= since_ns)
			hi = mid;
		else
			lo = seq + 1;
	}
	*out = lo;
out:
	sqlite3_finalize(st);
	return rc;
}

static int l_events(ah_ledger *l, const ah_event_query *q, int (*fn)(void *ctx, const ah_event_row *ev), void *ctx)
{
	sql_ledger *s = (sql_ledger *)l;
	char sql[640];
	int64_t after = q->after_seq;
	if (q->since_ns) {
		int64_t first;
		int brc = first_seq_at(s, "events", q->since_ns, &first);
		if (brc < 0)
			return brc;
		if (first - 1 > after)
			after = first - 1;
	}
	size_t n = (size_t)snprintf(sql, sizeof(sql), "SELECT seq,t_ns,kind,id,tenant,pool,class,resources,reason,"
						     "detail,data FROM events WHERE seq>?1");
	if (q->id)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, " AND id=?2");
	if (q->pool)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, " AND pool=?3");
	if (q->since_ns)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, " AND t_ns>=?4");
	if (q->kinds) {
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, " AND kind IN (");
		for (int k = 0, first = 1; k < AH_EV__COUNT; k++)
			if (q->kinds & (1u << k)) {
				n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s'%s'", first ? "" : ",",
						      ah_event_kind_name((ah_event_kind)k));
				first = 0;
			}
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, ")");
		if (!(q->kinds & ~RARE_MASK)) /* only rare kinds: the partial index holds them all */
			n += (size_t)snprintf(sql + n, sizeof(sql) - n, " AND " RARE_KINDS);
	}
	snprintf(sql + n, sizeof(sql) - n, " ORDER BY seq LIMIT ?5");
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(s, rc);
	sqlite3_bind_int64(st, 1, after);
	if (q->id)
		sqlite3_bind_int64(st, 2, (sqlite3_int64)q->id);
	if (q->pool)
		sqlite3_bind_text(st, 3, q->pool, -1, SQLITE_STATIC);
	if (q->since_ns)
		sqlite3_bind_int64(st, 4, q->since_ns);
	sqlite3_bind_int64(st, 5, q->limit > 0 ? q->limit : -1);
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

/* ---- the scaler's demand history -------------------------------------- */

static int l_demand_put(ah_ledger *l, const ah_dimset *dims, const ah_demand_row *row, int64_t keep_after_ns,
			int max_rows)
{
	sql_ledger *s = (sql_ledger *)l;
	char used[AH_LEDGER_VEC_TEXT], queued[AH_LEDGER_VEC_TEXT], classes[AH_LEDGER_CLASSES_TEXT];
	int rc = ah_demand_format(dims, row, used, queued, classes, sizeof(classes));
	if (rc < 0)
		return rc;
	bool own = sqlite3_get_autocommit(s->db);
	if (own && (rc = exec(s, "BEGIN IMMEDIATE")) < 0)
		return rc;
	static const char *const sql[] = {
		"INSERT OR REPLACE INTO pool_demand(pool,t_ns,used,queued,classes) VALUES(?1,?2,?3,?4,?5)",
		/* retention: by age, then a hard cap on rows per pool */
		"DELETE FROM pool_demand WHERE pool=?1 AND t_ns<?6",
		"DELETE FROM pool_demand WHERE pool=?1 AND t_ns<=(SELECT t_ns FROM pool_demand WHERE pool=?1 ORDER BY t_ns DESC LIMIT 1 OFFSET ?7)",
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
		quiet_rollback(s);
	return rc;
}

static int l_demand_load(ah_ledger *l, const ah_dimset *dims, int64_t since_ns,
			 int (*fn)(void *ctx, const ah_demand_row *row), void *ctx)
{
	sql_ledger *s = (sql_ledger *)l;
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
		if (ah_demand_parse(dims, col_text(st, 0), sqlite3_column_int64(st, 1), col_text(st, 2), col_text(st, 3),
				    col_text(st, 4), r) < 0)
			continue;
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

static int l_set_durability(ah_ledger *l, ah_durability durability)
{
	sql_ledger *s = (sql_ledger *)l;
	if (s->ckpt)
		ah_sqlite_ckpt_set_full_sync(s->ckpt, durability == AH_DURABILITY_POWER);
	return exec(s, durability == AH_DURABILITY_POWER ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
}

static const char *l_errmsg(ah_ledger *l)
{
	return ((sql_ledger *)l)->errmsg;
}

/* ---- what the API keeps (schema 5; include/ahead/api_records.h) -------- */

/* Joins the open transaction, or opens one (*own says which). */
static int own_begin(sql_ledger *s, bool *own)
{
	*own = sqlite3_get_autocommit(s->db);
	return *own ? exec(s, "BEGIN IMMEDIATE") : 0;
}

/* Ends what own_begin opened: commits on success, rolls back on failure. */
static int own_end(sql_ledger *s, bool own, int rc)
{
	if (own && rc >= 0)
		rc = exec(s, "COMMIT");
	if (own && rc < 0)
		quiet_rollback(s);
	return rc;
}

static int prepare(sql_ledger *s, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
	return rc == SQLITE_OK ? 0 : fail(s, rc);
}

/* The newest value of a meta counter, read again only when some commit
 * happened since (PRAGMA data_version), as the policy generation is. */
static int meta_counter(sql_ledger *s, sqlite3_stmt *st, int64_t *seen_version, uint64_t *cached)
{
	int64_t v = read_data_version(s);
	if (v < 0 || v != *seen_version || s->in_txn || !sqlite3_get_autocommit(s->db)) {
		int rc = sqlite3_step(st);
		uint64_t val = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return fail(s, rc);
		*cached = val;
		*seen_version = s->in_txn || !sqlite3_get_autocommit(s->db) ? -1 : v;
	}
	return 0;
}

static int l_token_generation(ah_ledger *l, uint64_t *out_gen)
{
	sql_ledger *s = (sql_ledger *)l;
	int rc = meta_counter(s, s->st[S_TOKEN_GEN], &s->token_gen_version, &s->token_gen);
	if (rc == 0)
		*out_gen = s->token_gen;
	return rc;
}

static int l_token_put(ah_ledger *l, const ah_token_row *t)
{
	sql_ledger *s = (sql_ledger *)l;
	sqlite3_stmt *st = NULL;
	bool own;
	int rc = own_begin(s, &own);
	if (rc < 0)
		return rc;
	if ((rc = prepare(s, "INSERT OR REPLACE INTO api_tokens(id,name,role,tenant,hash,created_ns,expires_ns,"
			     "revoked_ns,rotated_from) VALUES(?,?,?,?,?,?,?,?,?)", &st)) < 0)
		goto out;
	sqlite3_bind_text(st, 1, t->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, t->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ah_role_name(t->role), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, t->tenant, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, t->hash, sizeof t->hash, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, t->created_ns);
	sqlite3_bind_int64(st, 7, t->expires_ns);
	sqlite3_bind_int64(st, 8, t->revoked_ns);
	sqlite3_bind_text(st, 9, t->rotated_from, -1, SQLITE_STATIC);
	if ((rc = step_reset(s, st)) < 0)
		goto out;
	rc = exec(s, "INSERT INTO meta(key,value) VALUES('token_gen',1)"
		     " ON CONFLICT(key) DO UPDATE SET value=value+1");
	s->token_gen_version = -1;
out:
	sqlite3_finalize(st);
	return own_end(s, own, rc);
}

/* Copies a text column into a fixed buffer; false when it does not fit. */
static bool col_copy(sqlite3_stmt *st, int i, char *buf, size_t len)
{
	const char *t = col_text(st, i);
	size_t n = strlen(t);
	if (n >= len)
		return false;
	memcpy(buf, t, n + 1);
	return true;
}

static int l_token_list(ah_ledger *l, int (*fn)(void *ctx, const ah_token_row *t), void *ctx)
{
	sql_ledger *s = (sql_ledger *)l;
	sqlite3_stmt *st = NULL;
	int rc = prepare(s, "SELECT id,name,role,tenant,hash,created_ns,expires_ns,revoked_ns,rotated_from"
			    " FROM api_tokens ORDER BY created_ns, id", &st);
	if (rc < 0)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ah_token_row t = {0};
		const void *h = sqlite3_column_blob(st, 4);
		if (!col_copy(st, 0, t.id, sizeof t.id) || !col_copy(st, 1, t.name, sizeof t.name) ||
		    !col_copy(st, 3, t.tenant, sizeof t.tenant) || !col_copy(st, 8, t.rotated_from, sizeof t.rotated_from) ||
		    ah_role_parse(col_text(st, 2), &t.role) < 0 || !h || sqlite3_column_bytes(st, 4) != sizeof t.hash) {
			snprintf(s->errmsg, sizeof(s->errmsg), "api_tokens: token %.40s is malformed (id, name, tenant,"
				 " role or hash)", col_text(st, 0));
			sqlite3_finalize(st);
			return AH_ESTATE;
		}
		memcpy(t.hash, h, sizeof t.hash);
		t.created_ns = sqlite3_column_int64(st, 5);
		t.expires_ns = sqlite3_column_int64(st, 6);
		t.revoked_ns = sqlite3_column_int64(st, 7);
		int frc = fn(ctx, &t);
		if (frc) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(s, rc);
}

/* One statement: atomic on its own, and inside the open transaction when
 * there is one (SQLite's autocommit). */
static int l_audit_put(ah_ledger *l, const ah_audit_row *r)
{
	sql_ledger *s = (sql_ledger *)l;
	sqlite3_stmt *st = s->st[S_AUDIT_PUT];
	const char *str[] = {r->who, r->name, r->role, r->tenant, r->source, r->method, r->path};
	sqlite3_bind_int64(st, 1, r->t_ns);
	for (int i = 0; i < 7; i++)
		sqlite3_bind_text(st, 2 + i, str[i], -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, r->status);
	sqlite3_bind_text(st, 10, r->outcome, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, r->detail, -1, SQLITE_STATIC);
	return step_reset(s, st);
}

static int l_audit_list(ah_ledger *l, const ah_audit_query *q, int (*fn)(void *ctx, const ah_audit_row *r), void *ctx)
{
	sql_ledger *s = (sql_ledger *)l;
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT seq,t_ns,who,name,role,tenant,source,method,path,status,outcome,detail"
				  " FROM api_audit WHERE seq>?1%s%s ORDER BY seq LIMIT ?4",
		 q->since_ns ? " AND t_ns>=?2" : "", q->who ? " AND who=?3" : "");
	sqlite3_stmt *st = NULL;
	int64_t after = q->after_seq, first;
	int rc;
	if (q->since_ns) {
		if ((rc = first_seq_at(s, "api_audit", q->since_ns, &first)) < 0)
			return rc;
		if (first - 1 > after)
			after = first - 1;
	}
	if ((rc = prepare(s, sql, &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, after);
	if (q->since_ns)
		sqlite3_bind_int64(st, 2, q->since_ns);
	if (q->who)
		sqlite3_bind_text(st, 3, q->who, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, q->limit > 0 ? q->limit : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ah_audit_row r = {
			.seq = sqlite3_column_int64(st, 0),
			.t_ns = sqlite3_column_int64(st, 1),
			.who = col_text(st, 2),
			.name = col_text(st, 3),
			.role = col_text(st, 4),
			.tenant = col_text(st, 5),
			.source = col_text(st, 6),
			.method = col_text(st, 7),
			.path = col_text(st, 8),
			.status = sqlite3_column_int(st, 9),
			.outcome = col_text(st, 10),
			.detail = col_text(st, 11),
		};
		int frc = fn(ctx, &r);
		if (frc) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(s, rc);
}

static int l_idem_get(ah_ledger *l, const char *scope, const char *key, int (*fn)(void *ctx, const ah_idem_row *r),
		      void *ctx)
{
	sql_ledger *s = (sql_ledger *)l;
	sqlite3_stmt *st = NULL;
	int rc = prepare(s, "SELECT req_hash,status,body,t_ns FROM api_idempotency WHERE scope=? AND key=?", &st);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(st, 1, scope, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ah_idem_row r = {.scope = scope, .key = key, .status = sqlite3_column_int(st, 1),
				 .body = col_text(st, 2), .t_ns = sqlite3_column_int64(st, 3)};
		const void *h = sqlite3_column_blob(st, 0);
		if (h && sqlite3_column_bytes(st, 0) == sizeof r.req_hash)
			memcpy(r.req_hash, h, sizeof r.req_hash);
		rc = fn(ctx, &r);
	} else {
		rc = rc == SQLITE_DONE ? AH_ENOENT : fail(s, rc);
	}
	sqlite3_finalize(st);
	return rc;
}

/* A key already there is a plain answer, not a failed statement: the open
 * transaction goes on (DO NOTHING, then no row changed). */
static int l_idem_put(ah_ledger *l, const ah_idem_row *r)
{
	sql_ledger *s = (sql_ledger *)l;
	sqlite3_stmt *st = s->st[S_IDEM_PUT];
	sqlite3_bind_text(st, 1, r->scope, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, r->req_hash, sizeof r->req_hash, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, r->status);
	sqlite3_bind_text(st, 5, r->body, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, r->t_ns);
	int rc = step_reset(s, st);
	if (rc == 0 && sqlite3_changes(s->db) == 0)
		rc = AH_EEXIST;
	return rc;
}

static int l_idem_sweep(ah_ledger *l, int64_t before_ns, size_t *out_n)
{
	sql_ledger *s = (sql_ledger *)l;
	sqlite3_stmt *st = NULL;
	int rc = prepare(s, "DELETE FROM api_idempotency WHERE t_ns<?", &st);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, before_ns);
	if ((rc = step_reset(s, st)) == 0)
		*out_n = (size_t)sqlite3_changes(s->db);
	sqlite3_finalize(st);
	return rc;
}

/* One int64 from sql (binding ?1 to arg); *found false when no row. */
static int select_i64(sql_ledger *s, const char *sql, int64_t arg, int64_t *out, bool *found)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare(s, sql, &st);
	if (rc < 0)
		return rc;
	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_int64(st, 1, arg);
	rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
	if (*found)
		*out = sqlite3_column_int64(st, 0);
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(s, rc);
	sqlite3_finalize(st);
	return rc;
}

static int select_cached(sql_ledger *s, int idx, int64_t *out, bool *found)
{
	sqlite3_stmt *st = s->st[idx];
	int rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
	if (*found)
		*out = sqlite3_column_int64(st, 0);
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(s, rc);
	sqlite3_reset(st);
	return rc;
}

/* The prefix before the first event at or after before_ns (found in seq
 * order: "+t_ns" keeps the time index out, the scan stops at the first
 * young event), shortened to leave the newest keep_min. */
static int l_events_compact(ah_ledger *l, int64_t before_ns, int64_t keep_min, size_t *out_n)
{
	sql_ledger *s = (sql_ledger *)l;
	sqlite3_stmt *st = NULL;
	int64_t cut = INT64_MAX, v = 0;
	bool own, found;
	int rc = own_begin(s, &own);
	if (rc < 0)
		return rc;
	if ((rc = select_i64(s, "SELECT seq FROM events WHERE +t_ns>=?1 ORDER BY seq LIMIT 1", before_ns, &v, &found)) < 0)
		goto out;
	if (found)
		cut = v;
	if (keep_min > 0) {
		if ((rc = select_i64(s, "SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET ?1", keep_min - 1, &v,
				     &found)) < 0)
			goto out;
		cut = !found ? 0 : v < cut ? v : cut; /* not found: fewer than keep_min events */
	}
	if ((rc = prepare(s, "DELETE FROM events WHERE seq<?", &st)) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, cut);
	if ((rc = step_reset(s, st)) == 0)
		*out_n = (size_t)sqlite3_changes(s->db);
out:
	sqlite3_finalize(st);
	return own_end(s, own, rc);
}

/* last from sqlite_sequence (AUTOINCREMENT's high-water mark, which
 * deleting rows leaves alone). */
static int l_events_bounds(ah_ledger *l, int64_t *out_first, int64_t *out_last)
{
	sql_ledger *s = (sql_ledger *)l;
	int64_t first = 0, last = 0, hw = 0;
	bool has_first, has_last, has_hw;
	int rc;
	if ((rc = select_cached(s, S_EV_MIN, &first, &has_first)) < 0 ||
	    (rc = select_cached(s, S_EV_MAX, &last, &has_last)) < 0 ||
	    (rc = select_cached(s, S_EV_HW, &hw, &has_hw)) < 0)
		return rc;
	if (has_hw && hw > last)
		last = hw;
	if (!has_first)
		first = last ? last + 1 : 0;
	*out_first = first;
	*out_last = last;
	return 0;
}

static int l_alloc_versions(ah_ledger *l, int (*fn)(void *ctx, uint64_t id, int64_t last_seq), void *ctx)
{
	sql_ledger *s = (sql_ledger *)l;
	sqlite3_stmt *st = NULL;
	int rc = prepare(s, "SELECT i.id, COALESCE((SELECT MAX(e.seq) FROM events e WHERE e.id=i.id), 0)"
			    " FROM (SELECT id FROM allocations UNION SELECT id FROM queue) i ORDER BY i.id", &st);
	if (rc < 0)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int frc = fn(ctx, (uint64_t)sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
		if (frc) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(s, rc);
}
/* ---- end of what the API keeps ------------------------------------------ */

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
	.policy_get = l_policy_get,
	.policy_put = l_policy_put,
	.policy_generation = l_policy_generation,
	.events = l_events,
	.demand_put = l_demand_put,
	.demand_load = l_demand_load,
	.set_durability = l_set_durability,
	.precond_add = l_precond_add,
	.errmsg = l_errmsg,
	.token_put = l_token_put,
	.token_list = l_token_list,
	.token_generation = l_token_generation,
	.audit_put = l_audit_put,
	.audit_list = l_audit_list,
	.idem_get = l_idem_get,
	.idem_put = l_idem_put,
	.idem_sweep = l_idem_sweep,
	.events_compact = l_events_compact,
	.events_bounds = l_events_bounds,
	.alloc_versions = l_alloc_versions,
};

bool ah_ledger_is_sqlite(const ah_ledger *l)
{
	return l && l->ops == &sql_ops;
}

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
	s->gen_version = -1;
	s->token_gen_version = -1;
	ah_store_sqlite_config();
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		if (err)
			snprintf(err, errlen, "%s: cannot open database: %s", path,
				 s->db ? sqlite3_errmsg(s->db) : "out of memory");
		rc = AH_EIO;
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 10000);
	/* A command line process opens, answers and closes: closing the last
	 * connection would checkpoint the WAL into the file and sync both, on
	 * every command. The WAL's own auto-checkpoint (every 1000 pages)
	 * keeps it bounded; what it holds is as committed as the file. */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	const char *sync = durability == AH_DURABILITY_POWER ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL";
	char cache_pragma[48];
	snprintf(cache_pragma, sizeof(cache_pragma), "PRAGMA cache_size=-%d", AH_STORE_LEDGER_CACHE_KIB);
	if ((rc = exec(s, "PRAGMA journal_mode=WAL")) < 0 || (rc = exec(s, sync)) < 0 ||
	    (rc = exec(s, "PRAGMA foreign_keys=ON")) < 0 || (rc = exec(s, cache_pragma)) < 0 ||
	    (rc = exec(s, "BEGIN IMMEDIATE")) < 0)
		goto sqlfail;
	if ((rc = exec(s, schema)) < 0 || (rc = migrate(s)) < 0) {
		quiet_rollback(s);
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

int ah_ledger_sqlite_checkpoint_in_background(ah_ledger *l, char *err, size_t errlen)
{
	if (!ah_ledger_is_sqlite(l))
		return AH_EINVAL;
	sql_ledger *s = (sql_ledger *)l;
	if (s->ckpt)
		return 0;
	sqlite3_stmt *st = NULL;
	bool full = false;
	if (sqlite3_prepare_v2(s->db, "PRAGMA synchronous", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		full = sqlite3_column_int(st, 0) >= 2;
	sqlite3_finalize(st);
	const char *path = sqlite3_db_filename(s->db, "main");
	if (!path || !*path) {
		snprintf(err, errlen, "the ledger has no file to checkpoint");
		return AH_EINVAL;
	}
	return ah_sqlite_ckpt_start(s->db, path, full, &s->ckpt, err, errlen);
}

int ah_ledger_sqlite_checkpoint_stats(ah_ledger *l, long long *out_passes, long long *out_catchups,
				      int *out_wal_frames)
{
	if (!ah_ledger_is_sqlite(l) || !((sql_ledger *)l)->ckpt)
		return AH_EINVAL;
	ah_sqlite_ckpt_stats st;
	ah_sqlite_ckpt_get_stats(((sql_ledger *)l)->ckpt, &st);
	*out_passes = st.passes;
	*out_catchups = st.catchups;
	*out_wal_frames = st.wal_frames;
	return 0;
}

/* ---- the SQLite-only names, kept for callers not yet on ah_ledger_* ----- */

int ah_ledger_sqlite_set_durability(ah_ledger *l, ah_durability durability)
{
	return ah_ledger_set_durability(l, durability);
}

int ah_ledger_sqlite_policy_get(ah_ledger *l, char **out_text, int64_t *out_applied_ns)
{
	return ah_ledger_policy_get(l, out_text, out_applied_ns);
}

int ah_ledger_sqlite_policy_put(ah_ledger *l, const char *text, const ah_policy *p, int64_t now_ns)
{
	return ah_ledger_policy_put(l, text, p, now_ns);
}

int ah_ledger_sqlite_events(ah_ledger *l, int64_t after_seq, int limit, uint64_t id,
			    int (*fn)(void *ctx, const ah_event_row *ev), void *ctx)
{
	ah_event_query q = {.after_seq = after_seq, .limit = limit, .id = id};
	return ah_ledger_events(l, &q, fn, ctx);
}

int ah_ledger_sqlite_demand_put(ah_ledger *l, const ah_dimset *dims, const ah_demand_row *row,
				int64_t keep_after_ns, int max_rows)
{
	return ah_ledger_demand_put(l, dims, row, keep_after_ns, max_rows);
}

int ah_ledger_sqlite_demand_load(ah_ledger *l, const ah_dimset *dims, int64_t since_ns,
				 int (*fn)(void *ctx, const ah_demand_row *row), void *ctx)
{
	return ah_ledger_demand_load(l, dims, since_ns, fn, ctx);
}

int ah_ledger_sqlite_last_scale_up(ah_ledger *l, const char *pool, const char *dim, int64_t *out_t_ns)
{
	return ah_ledger_last_scale_up(l, pool, dim, out_t_ns);
}

const char *ah_ledger_sqlite_errmsg(ah_ledger *l)
{
	return ah_ledger_errmsg(l);
}

int ah_ledger_sqlite_set_max_pages(ah_ledger *l, int64_t max_pages)
{
	if (!ah_ledger_is_sqlite(l) || max_pages < 1)
		return AH_EINVAL;
	sql_ledger *s = (sql_ledger *)l;
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count=%lld", (long long)max_pages);
	return exec(s, sql);
}

/* ---- backup and restore ------------------------------------------------ */

static int copy_db(sqlite3 *from, const char *to_path, char *err, size_t errlen)
{
	sqlite3 *to = NULL;
	int rc = sqlite3_open_v2(to_path, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
		if (!b) {
			rc = sqlite3_errcode(to);
		} else {
			while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED)
				sqlite3_sleep(10);
			sqlite3_backup_finish(b);
			if (rc == SQLITE_DONE)
				rc = sqlite3_errcode(to);
		}
	}
	/* A rollback journal, not WAL: the copy is one self-contained file. */
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(to, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
	if (rc != SQLITE_OK && err)
		snprintf(err, errlen, "%s: %s", to_path, to ? sqlite3_errmsg(to) : "out of memory");
	if (sqlite3_close(to) != SQLITE_OK && rc == SQLITE_OK)
		rc = SQLITE_IOERR;
	return rc == SQLITE_OK ? 0 : AH_EIO;
}

static int temp_beside(const char *path, const char *what, char *out, size_t len)
{
	int n = snprintf(out, len, "%s.%s-%d", path, what, (int)getpid());
	return n < 0 || (size_t)n >= len ? AH_ETOOBIG : 0;
}

int ah_ledger_sqlite_backup(ah_ledger *l, const char *dest_path, char *err, size_t errlen)
{
	char tmp[4096];
	if (!ah_ledger_is_sqlite(l) || !dest_path || !*dest_path)
		return AH_EINVAL;
	int rc = temp_beside(dest_path, "backup", tmp, sizeof tmp);
	if (rc < 0)
		return rc;
	unlink(tmp);
	if ((rc = copy_db(((sql_ledger *)l)->db, tmp, err, errlen)) < 0) {
		unlink(tmp);
		return rc;
	}
	if (rename(tmp, dest_path) != 0) {
		if (err)
			snprintf(err, errlen, "%s: cannot rename the backup into place: %s", dest_path, strerror(errno));
		unlink(tmp);
		return AH_EIO;
	}
	return 0;
}

/* An ahead ledger has our tables and a schema this code knows. */
static int check_ledger_file(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int version = -1, tables = 0;
	int rc = read_user_version(db, &version);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db,
					"SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN"
					" ('meta','policy','pools','tenants','allocations','queue','events')",
					-1, &st, NULL);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		tables = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_OK) {
		if (err)
			snprintf(err, errlen, "%s: not an ahead ledger: %s", path, sqlite3_errmsg(db));
		return AH_EINVAL;
	}
	if (tables != 7) {
		if (err)
			snprintf(err, errlen, "%s: not an ahead ledger (its tables are missing)", path);
		return AH_EINVAL;
	}
	if (version > SCHEMA_LATEST) {
		if (err)
			snprintf(err, errlen, "%s: ledger schema version %d is newer than this ahead knows (%d)", path,
				 version, SCHEMA_LATEST);
		return AH_EUNSUPPORTED;
	}
	return 0;
}

/* Folds the live ledger's WAL into its file, so no stale WAL is left to be
 * replayed onto the restored file. */
static int checkpoint_target(const char *db_path, char *err, size_t errlen)
{
	if (access(db_path, F_OK) != 0)
		return 0;
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, 10000);
		rc = sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	}
	if (rc != SQLITE_OK && err)
		snprintf(err, errlen, "%s: cannot checkpoint before restore: %s", db_path,
			 db ? sqlite3_errmsg(db) : "out of memory");
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : AH_EIO;
}

int ah_ledger_sqlite_restore(const char *backup_path, const char *db_path, char *err, size_t errlen)
{
	char tmp[4096], side[4200];
	sqlite3 *src = NULL;
	if (!backup_path || !*backup_path || !db_path || !*db_path)
		return AH_EINVAL;
	int rc = temp_beside(db_path, "restore", tmp, sizeof tmp);
	if (rc < 0)
		return rc;
	if (sqlite3_open_v2(backup_path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		if (err)
			snprintf(err, errlen, "%s: cannot open: %s", backup_path, src ? sqlite3_errmsg(src) : "out of memory");
		rc = AH_EIO;
		goto out;
	}
	if ((rc = check_ledger_file(src, backup_path, err, errlen)) < 0)
		goto out;
	unlink(tmp);
	if ((rc = copy_db(src, tmp, err, errlen)) < 0 || (rc = checkpoint_target(db_path, err, errlen)) < 0)
		goto out;
	if (rename(tmp, db_path) != 0) {
		if (err)
			snprintf(err, errlen, "%s: cannot rename the restored ledger into place: %s", db_path,
				 strerror(errno));
		rc = AH_EIO;
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		snprintf(side, sizeof side, "%s%s", db_path, i ? "-shm" : "-wal");
		unlink(side);
	}
out:
	sqlite3_close(src);
	if (rc < 0)
		unlink(tmp);
	return rc;
}
