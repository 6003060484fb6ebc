/* ahead: the shadow store — series, samples, queries, retention.
 *
 * Layout (docs/SHADOW.md): a series (workload, dim, granularity) owns lanes,
 * one per bucket width it holds: the raw lane (width = granularity) and one
 * per coarser retention tier it has been rolled into. Points live in one
 * WITHOUT ROWID table keyed by (lane, t) where t is the bucket index in the
 * lane's width (t_ns = t * width_ns): small integers, no rowid, and rows of
 * one lane sit together in key order. A point stores its mean v, its max mx
 * (NULL when equal to v) and its count n (NULL when 1), so a single raw
 * sample costs one value. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "store/ledger_internal.h"
#include "store/shadow_int.h"

/* Schema 1: series, lanes, points, request records. Schema 2: a request's
 * dimension also keeps its newest report (last, last_ns) and the model that
 * sized it (model, model_n); a schema-1 store is upgraded in place on open. */
#define SCHEMA_VERSION 2
#define MAX_LANES 64

/* Merging two points (old row, excluded) keeps the count-weighted mean, the
 * larger max and the summed count. Expressions read the old row's values. */
#define MERGE_SET                                                                              \
	" ON CONFLICT(lane, t) DO UPDATE SET"                                                  \
	" v = (v * coalesce(n, 1) + excluded.v * coalesce(excluded.n, 1))"                     \
	"     / (coalesce(n, 1) + coalesce(excluded.n, 1)),"                                   \
	" mx = max(coalesce(mx, v), coalesce(excluded.mx, excluded.v)),"                       \
	" n = coalesce(n, 1) + coalesce(excluded.n, 1)"

static const char *schema_sql =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS series(id INTEGER PRIMARY KEY, workload TEXT NOT NULL,"
	" dim TEXT NOT NULL, granularity_ns INTEGER NOT NULL, UNIQUE(workload, dim));"
	"CREATE TABLE IF NOT EXISTS lane(id INTEGER PRIMARY KEY, series INTEGER NOT NULL,"
	" width_ns INTEGER NOT NULL, UNIQUE(series, width_ns));"
	"CREATE TABLE IF NOT EXISTS point(lane INTEGER NOT NULL, t INTEGER NOT NULL,"
	" v REAL NOT NULL, mx REAL, n INTEGER, PRIMARY KEY(lane, t)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS request(id INTEGER PRIMARY KEY, workload TEXT NOT NULL,"
	" start_ns INTEGER NOT NULL, end_ns INTEGER);"
	"CREATE INDEX IF NOT EXISTS request_by_workload ON request(workload, start_ns);"
	"CREATE INDEX IF NOT EXISTS request_by_end ON request(end_ns);"
	"CREATE TABLE IF NOT EXISTS request_param(req INTEGER NOT NULL, key TEXT NOT NULL,"
	" value TEXT NOT NULL, PRIMARY KEY(req, key)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS request_param_by_kv ON request_param(key, value);"
	"CREATE TABLE IF NOT EXISTS request_dim(req INTEGER NOT NULL, dim TEXT NOT NULL,"
	" peak REAL, mean REAL, predicted REAL, last REAL, last_ns INTEGER, model TEXT, model_n INTEGER,"
	" PRIMARY KEY(req, dim)) WITHOUT ROWID;"
	"INSERT OR IGNORE INTO meta(key, value) VALUES('schema', 2);";

/* The steps from each older schema to the next, applied in order inside the
 * open's transaction: step[v - 1] takes schema v to v + 1. */
static const char *const upgrade_sql[SCHEMA_VERSION - 1] = {
	/* 1 -> 2 */
	"ALTER TABLE request_dim ADD COLUMN last REAL;"
	"ALTER TABLE request_dim ADD COLUMN last_ns INTEGER;"
	"ALTER TABLE request_dim ADD COLUMN model TEXT;"
	"ALTER TABLE request_dim ADD COLUMN model_n INTEGER;"
	"UPDATE meta SET value = 2 WHERE key = 'schema';",
};

int sh_step_ids(sqlite3_stmt *st, int64_t **out_ids, size_t *out_n)
{
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	int x, rc = 0;
	while ((x = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 64;
			int64_t *ni = realloc(ids, nc * sizeof(*ni));
			if (!ni) {
				rc = AH_ENOMEM;
				goto out;
			}
			ids = ni;
			cap = nc;
		}
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	if (x != SQLITE_DONE)
		rc = sh_err(x);
out:
	if (rc) {
		free(ids);
		return rc;
	}
	*out_ids = ids;
	*out_n = n;
	return 0;
}

int sh_err(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return AH_EBUSY;
	case SQLITE_NOMEM:
		return AH_ENOMEM;
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_FULL:
		return AH_EIO;
	default:
		return AH_ESTORE;
	}
}

int sh_exec(ah_shadow *s, const char *sql)
{
	return sh_err(sqlite3_exec(s->db, sql, NULL, NULL, NULL));
}

int sh_tx_begin(ah_shadow *s, sh_tx *tx)
{
	int rc;
	if (sqlite3_get_autocommit(s->db)) {
		rc = sh_exec(s, "BEGIN IMMEDIATE");
		tx->owned = 1;
	} else {
		rc = sh_exec(s, "SAVEPOINT ah_shadow_op");
		tx->owned = 2;
	}
	if (rc)
		tx->owned = 0;
	return rc;
}

int sh_tx_end(ah_shadow *s, sh_tx *tx, int rc)
{
	if (tx->owned == 1) {
		if (rc == 0) {
			rc = sh_exec(s, "COMMIT");
			if (rc)
				sh_exec(s, "ROLLBACK");
		} else {
			sh_exec(s, "ROLLBACK");
		}
	} else if (tx->owned == 2) {
		if (rc != 0)
			sh_exec(s, "ROLLBACK TO ah_shadow_op");
		int rc2 = sh_exec(s, "RELEASE ah_shadow_op");
		if (rc == 0)
			rc = rc2;
	}
	tx->owned = 0;
	return rc;
}

static int prep(ah_shadow *s, const char *sql, sqlite3_stmt **st)
{
	return sh_err(sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL));
}

int ah_shadow_path_for_db(const char *db_path, char *buf, size_t len)
{
	if (!db_path || !*db_path || !buf || !strncmp(db_path, "etcd://", 7))
		return AH_EINVAL; /* an etcd ledger: history is local, named by --shadow */
	size_t n = strlen(db_path);
	const char *slash = strrchr(db_path, '/');
	const char *base = slash ? slash + 1 : db_path;
	size_t stem = n;
	/* Strip ".db" only from a base name that has more than the suffix. */
	if (strlen(base) > 3 && !strcmp(db_path + n - 3, ".db"))
		stem = n - 3;
	if (stem + sizeof("-shadow.db") > len)
		return AH_ERANGE;
	memcpy(buf, db_path, stem);
	memcpy(buf + stem, "-shadow.db", sizeof("-shadow.db"));
	return 0;
}

void ah_shadow_free(ah_shadow *s)
{
	if (!s)
		return;
	if (s->db && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_finalize(s->st_series_find);
	sqlite3_finalize(s->st_series_ins);
	sqlite3_finalize(s->st_series_raw);
	sqlite3_finalize(s->st_lane_find);
	sqlite3_finalize(s->st_lane_ins);
	sqlite3_finalize(s->st_upsert);
	sqlite3_finalize(s->st_find_open);
	sqlite3_close(s->db);
	free(s);
}

/* Brings an older schema to SCHEMA_VERSION, step by step; a newer (or
 * foreign) schema is AH_ESTORE and is not touched. Inside a transaction. */
static int upgrade(ah_shadow *s)
{
	sqlite3_stmt *st = NULL;
	int v = 0;
	int rc = sh_err(sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key='schema'", -1, &st, NULL));
	if (rc == 0) {
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER)
			v = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	if (rc)
		return rc;
	if (v < 1 || v > SCHEMA_VERSION)
		return AH_ESTORE;
	for (; v < SCHEMA_VERSION && rc == 0; v++)
		rc = sh_exec(s, upgrade_sql[v - 1]);
	return rc;
}

int ah_shadow_open(const char *path, ah_shadow **out)
{
	if (!path || !*path || !out)
		return AH_EINVAL;
	int rc;
	ah_shadow *s = calloc(1, sizeof(*s));
	if (!s)
		return AH_ENOMEM;
	ah_store_sqlite_config();
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		rc = s->db ? AH_EIO : AH_ENOMEM;
		goto out;
	}
	sqlite3_busy_timeout(s->db, 5000);
	/* WAL: readers never block the writer. synchronous=NORMAL: a crash
	 * loses at most the last commits, never consistency — usage history
	 * tolerates that and ingest is much faster. */
	sqlite3_stmt *st = NULL;
	rc = sh_err(sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL));
	if (rc)
		goto out;
	/* an in-memory store (":memory:", a published model state loaded for
	 * prediction) has no file to journal: "memory" is its mode */
	const char *want = strcmp(path, ":memory:") ? "wal" : "memory";
	if (sqlite3_step(st) != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(st, 0), want) != 0) {
		sqlite3_finalize(st);
		rc = AH_ESTORE;
		goto out;
	}
	sqlite3_finalize(st);
	char pragmas[96];
	snprintf(pragmas, sizeof(pragmas), "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-%d;",
		 AH_STORE_SHADOW_CACHE_KIB);
	if ((rc = sh_exec(s, pragmas)))
		goto out;
	sh_tx tx;
	if ((rc = sh_tx_begin(s, &tx)))
		goto out;
	rc = sh_exec(s, schema_sql);
	if (rc == 0)
		rc = upgrade(s);
	if ((rc = sh_tx_end(s, &tx, rc)))
		goto out;
	if ((rc = prep(s, "SELECT id, granularity_ns FROM series WHERE workload = ?1 AND dim = ?2",
		       &s->st_series_find)) ||
	    (rc = prep(s, "INSERT INTO series(workload, dim, granularity_ns) VALUES(?1, ?2, ?3)",
		       &s->st_series_ins)) ||
	    (rc = prep(s, "SELECT s.granularity_ns, l.id FROM series s JOIN lane l"
			  " ON l.series = s.id AND l.width_ns = s.granularity_ns WHERE s.id = ?1",
		       &s->st_series_raw)) ||
	    (rc = prep(s, "SELECT id FROM lane WHERE series = ?1 AND width_ns = ?2", &s->st_lane_find)) ||
	    (rc = prep(s, "INSERT INTO lane(series, width_ns) VALUES(?1, ?2)", &s->st_lane_ins)) ||
	    (rc = prep(s, "INSERT INTO point(lane, t, v, mx, n) VALUES(?1, ?2, ?3, ?4, ?5)" MERGE_SET,
		       &s->st_upsert)))
		goto out;
	*out = s;
	return 0;
out:
	ah_shadow_free(s);
	return rc;
}

int ah_shadow_begin(ah_shadow *s)
{
	if (!s)
		return AH_EINVAL;
	if (!sqlite3_get_autocommit(s->db))
		return AH_ESTATE;
	return sh_exec(s, "BEGIN IMMEDIATE");
}

int ah_shadow_commit(ah_shadow *s)
{
	if (!s)
		return AH_EINVAL;
	if (sqlite3_get_autocommit(s->db))
		return AH_ESTATE;
	int rc = sh_exec(s, "COMMIT");
	if (rc)
		sh_exec(s, "ROLLBACK");
	return rc;
}

int ah_shadow_rollback(ah_shadow *s)
{
	if (!s)
		return AH_EINVAL;
	if (sqlite3_get_autocommit(s->db))
		return AH_ESTATE;
	return sh_exec(s, "ROLLBACK");
}

int ah_shadow_scope_begin(ah_shadow *s, ah_shadow_scope *sc)
{
	sh_tx tx;
	int rc;
	if (!s || !sc)
		return AH_EINVAL;
	if ((rc = sh_tx_begin(s, &tx)))
		return rc;
	sc->owned = tx.owned;
	return 0;
}

int ah_shadow_scope_end(ah_shadow *s, ah_shadow_scope *sc, int rc)
{
	if (!s || !sc)
		return rc ? rc : AH_EINVAL;
	sh_tx tx = {.owned = sc->owned};
	sc->owned = 0;
	return sh_tx_end(s, &tx, rc);
}

int sh_lane_get(ah_shadow *s, int64_t series_id, int64_t width_ns, int create, int64_t *out_lane)
{
	int rc;
	sqlite3_stmt *st = s->st_lane_find;
	sqlite3_bind_int64(st, 1, series_id);
	sqlite3_bind_int64(st, 2, width_ns);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out_lane = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		return 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sh_err(rc);
	if (!create)
		return AH_ENOENT;
	st = s->st_lane_ins;
	sqlite3_bind_int64(st, 1, series_id);
	sqlite3_bind_int64(st, 2, width_ns);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sh_err(rc);
	*out_lane = sqlite3_last_insert_rowid(s->db);
	return 0;
}

static int series_lookup(ah_shadow *s, const char *workload, const char *dim, int64_t *id,
			 int64_t *gran)
{
	sqlite3_stmt *st = s->st_series_find;
	sqlite3_bind_text(st, 1, workload, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, dim, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		*gran = sqlite3_column_int64(st, 1);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? AH_ENOENT : sh_err(rc);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

int ah_shadow_series_find(ah_shadow *s, const char *workload, const char *dim, int64_t *out_id)
{
	int rc;
	int64_t id, g;
	if (!s || !out_id)
		return AH_EINVAL;
	if ((rc = ah_name_check_workload(workload)) || (rc = ah_name_check_dim(dim)))
		return rc;
	if ((rc = series_lookup(s, workload, dim, &id, &g)))
		return rc;
	*out_id = id;
	return 0;
}

int ah_shadow_series_ensure(ah_shadow *s, const char *workload, const char *dim,
			    int64_t granularity_ns, int64_t *out_id)
{
	int rc;
	int64_t id, g, lane;
	sh_tx tx;
	if (!s || !out_id)
		return AH_EINVAL;
	if ((rc = ah_name_check_workload(workload)) || (rc = ah_name_check_dim(dim)))
		return rc;
	if (granularity_ns != 0 &&
	    (granularity_ns < AH_SHADOW_GRAN_MIN_NS || granularity_ns > AH_SHADOW_GRAN_MAX_NS))
		return AH_ERANGE;
	if ((rc = sh_tx_begin(s, &tx)))
		return rc;
	rc = series_lookup(s, workload, dim, &id, &g);
	if (rc == 0) {
		if (granularity_ns && granularity_ns != g)
			rc = AH_EEXIST;
		goto out;
	}
	if (rc != AH_ENOENT)
		goto out;
	g = granularity_ns ? granularity_ns : AH_SHADOW_GRAN_DEFAULT_NS;
	sqlite3_stmt *st = s->st_series_ins;
	sqlite3_bind_text(st, 1, workload, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, dim, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, g);
	rc = sh_err(sqlite3_step(st));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc)
		goto out;
	id = sqlite3_last_insert_rowid(s->db);
	rc = sh_lane_get(s, id, g, 1, &lane);
out:
	rc = sh_tx_end(s, &tx, rc);
	if (rc == 0)
		*out_id = id;
	return rc;
}

static int series_raw(ah_shadow *s, int64_t series_id, int64_t *gran, int64_t *lane)
{
	sqlite3_stmt *st = s->st_series_raw;
	sqlite3_bind_int64(st, 1, series_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*gran = sqlite3_column_int64(st, 0);
		*lane = sqlite3_column_int64(st, 1);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? AH_ENOENT : sh_err(rc);
	}
	sqlite3_reset(st);
	return rc;
}

static int upsert(ah_shadow *s, int64_t lane, int64_t t, double mean, double max, int64_t n)
{
	sqlite3_stmt *st = s->st_upsert;
	sqlite3_bind_int64(st, 1, lane);
	sqlite3_bind_int64(st, 2, t);
	sqlite3_bind_double(st, 3, mean);
	if (n > 1 && max != mean)
		sqlite3_bind_double(st, 4, max);
	else
		sqlite3_bind_null(st, 4);
	if (n > 1)
		sqlite3_bind_int64(st, 5, n);
	else
		sqlite3_bind_null(st, 5);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : sh_err(rc);
}

int ah_shadow_append(ah_shadow *s, int64_t series_id, const int64_t *t_ns, const double *values,
		     size_t n)
{
	int rc;
	int64_t g, lane;
	sh_tx tx;
	if (!s || (n && (!t_ns || !values)))
		return AH_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (t_ns[i] < 0 || t_ns[i] > AH_SHADOW_T_MAX)
			return AH_ERANGE;
		if (!isfinite(values[i]))
			return AH_EINVAL;
	}
	if ((rc = series_raw(s, series_id, &g, &lane)))
		return rc;
	if (n == 0)
		return 0;
	if ((rc = sh_tx_begin(s, &tx)))
		return rc;
	/* Consecutive samples of one bucket are merged here first: sorted
	 * input at sub-bucket rates costs one upsert per bucket. */
	int64_t cur = t_ns[0] / g, cnt = 0;
	double sum = 0, mx = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t b = t_ns[i] / g;
		if (b != cur && cnt) {
			if ((rc = upsert(s, lane, cur, sum / (double)cnt, mx, cnt)))
				goto out;
			cnt = 0;
		}
		if (cnt == 0) {
			cur = b;
			sum = values[i];
			mx = values[i];
		} else {
			sum += values[i];
			if (values[i] > mx)
				mx = values[i];
		}
		cnt++;
	}
	/* A single sample is stored exactly, without the division. */
	rc = upsert(s, lane, cur, cnt == 1 ? mx : sum / (double)cnt, mx, cnt);
out:
	return sh_tx_end(s, &tx, rc);
}

int ah_shadow_append_points(ah_shadow *s, int64_t series_id, const ah_shadow_point *p, size_t n)
{
	int rc;
	int64_t g, lane;
	sh_tx tx;
	if (!s || (n && !p))
		return AH_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (p[i].t_ns < 0 || p[i].t_ns > AH_SHADOW_T_MAX)
			return AH_ERANGE;
		if (!isfinite(p[i].mean) || !isfinite(p[i].max) || p[i].max < p[i].mean)
			return AH_EINVAL;
		if (p[i].count < 1 || p[i].count > AH_VALUE_MAX)
			return AH_ERANGE;
	}
	if ((rc = series_raw(s, series_id, &g, &lane)))
		return rc;
	if (n == 0)
		return 0;
	if ((rc = sh_tx_begin(s, &tx)))
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = upsert(s, lane, p[i].t_ns / g, p[i].mean, p[i].max, p[i].count);
	return sh_tx_end(s, &tx, rc);
}

typedef struct {
	int64_t id, width;
} lane_ref;

/* A series' lanes, narrowest first. */
static int series_lanes(ah_shadow *s, int64_t series_id, lane_ref *lanes, int *out_n)
{
	sqlite3_stmt *st = NULL;
	int n = 0;
	int rc = sh_err(sqlite3_prepare_v2(
		s->db, "SELECT id, width_ns FROM lane WHERE series = ?1 ORDER BY width_ns", -1, &st, NULL));
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, series_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == MAX_LANES) {
			rc = SQLITE_FULL;
			break;
		}
		lanes[n].id = sqlite3_column_int64(st, 0);
		lanes[n].width = sqlite3_column_int64(st, 1);
		n++;
	}
	rc = rc == SQLITE_DONE ? 0 : (rc == SQLITE_FULL ? AH_ETOOBIG : sh_err(rc));
	sqlite3_finalize(st);
	if (rc == 0)
		*out_n = n;
	return rc;
}

static int64_t ceil_div(int64_t x, int64_t w)
{
	return x / w + (x % w != 0);
}

typedef struct {
	sqlite3_stmt *st;
	int64_t width;
	int live;
	ah_shadow_point cur;
} lane_cursor;

static int cursor_next(lane_cursor *c)
{
	int rc = sqlite3_step(c->st);
	if (rc == SQLITE_ROW) {
		c->cur.t_ns = sqlite3_column_int64(c->st, 0) * c->width;
		c->cur.width_ns = c->width;
		c->cur.mean = sqlite3_column_double(c->st, 1);
		c->cur.max = sqlite3_column_double(c->st, 2);
		c->cur.count = sqlite3_column_int64(c->st, 3);
		c->live = 1;
		return 0;
	}
	c->live = 0;
	return rc == SQLITE_DONE ? 0 : sh_err(rc);
}

int ah_shadow_query(ah_shadow *s, int64_t series_id, int64_t from_ns, int64_t to_ns, int64_t step_ns,
		    ah_shadow_point_fn fn, void *ctx)
{
	lane_ref lanes[MAX_LANES];
	lane_cursor cur[MAX_LANES];
	int nl = 0, rc;
	int64_t g, raw;
	if (!s || !fn)
		return AH_EINVAL;
	if (from_ns > to_ns || step_ns < 0)
		return AH_ERANGE;
	if ((rc = series_raw(s, series_id, &g, &raw)))
		return rc;
	if (from_ns < 0)
		from_ns = 0;
	if (to_ns > AH_SHADOW_T_MAX)
		to_ns = AH_SHADOW_T_MAX + 1;
	if (to_ns < 0)
		to_ns = 0;
	if ((rc = series_lanes(s, series_id, lanes, &nl)))
		return rc;
	memset(cur, 0, sizeof(cur));
	/* A read transaction gives one consistent snapshot across the lanes. */
	int own_read = sqlite3_get_autocommit(s->db);
	if (own_read && (rc = sh_exec(s, "BEGIN")))
		return rc;
	for (int i = 0; i < nl; i++) {
		cur[i].width = lanes[i].width;
		rc = sh_err(sqlite3_prepare_v2(s->db,
					       "SELECT t, v, coalesce(mx, v), coalesce(n, 1) FROM point"
					       " WHERE lane = ?1 AND t >= ?2 AND t < ?3 ORDER BY t",
					       -1, &cur[i].st, NULL));
		if (rc)
			goto out;
		sqlite3_bind_int64(cur[i].st, 1, lanes[i].id);
		sqlite3_bind_int64(cur[i].st, 2, ceil_div(from_ns, lanes[i].width));
		sqlite3_bind_int64(cur[i].st, 3, ceil_div(to_ns, lanes[i].width));
		if ((rc = cursor_next(&cur[i])))
			goto out;
	}
	ah_shadow_point acc = {0};
	double acc_sum = 0;
	int have = 0;
	for (;;) {
		/* k-way merge by start time; on ties the wider (older tier) first. */
		int best = -1;
		for (int i = 0; i < nl; i++)
			if (cur[i].live && (best < 0 || cur[i].cur.t_ns < cur[best].cur.t_ns ||
					    (cur[i].cur.t_ns == cur[best].cur.t_ns &&
					     cur[i].width > cur[best].width)))
				best = i;
		if (best < 0)
			break;
		ah_shadow_point p = cur[best].cur;
		if ((rc = cursor_next(&cur[best])))
			goto out;
		if (step_ns == 0) {
			if ((rc = fn(ctx, &p)))
				goto out;
			continue;
		}
		int64_t b = p.t_ns / step_ns * step_ns;
		if (have && b != acc.t_ns) {
			acc.mean = acc_sum / (double)acc.count;
			if ((rc = fn(ctx, &acc)))
				goto out;
			have = 0;
		}
		if (!have) {
			acc.t_ns = b;
			acc.width_ns = step_ns;
			acc.max = p.max;
			acc.count = 0;
			acc_sum = 0;
			have = 1;
		}
		acc_sum += p.mean * (double)p.count;
		acc.count += p.count;
		if (p.max > acc.max)
			acc.max = p.max;
	}
	if (have) {
		acc.mean = acc_sum / (double)acc.count;
		rc = fn(ctx, &acc);
	}
out:
	for (int i = 0; i < nl; i++)
		sqlite3_finalize(cur[i].st);
	if (own_read)
		sh_exec(s, rc ? "ROLLBACK" : "COMMIT");
	return rc;
}

static int series_info_fill(ah_shadow *s, ah_shadow_series_info *info)
{
	sqlite3_stmt *st = NULL;
	int rc = sh_err(sqlite3_prepare_v2(
		s->db,
		"SELECT count(*), coalesce(sum(coalesce(p.n, 1)), 0), min(p.t * l.width_ns),"
		" max(p.t * l.width_ns) FROM lane l JOIN point p ON p.lane = l.id WHERE l.series = ?1",
		-1, &st, NULL));
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, info->id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		info->points = sqlite3_column_int64(st, 0);
		info->samples = sqlite3_column_int64(st, 1);
		info->first_ns = info->points ? sqlite3_column_int64(st, 2) : -1;
		info->last_ns = info->points ? sqlite3_column_int64(st, 3) : -1;
		rc = 0;
	} else {
		rc = sh_err(rc);
		if (rc == 0)
			rc = AH_ESTORE;
	}
	sqlite3_finalize(st);
	return rc;
}

static void copy_text(char *dst, size_t len, const unsigned char *src)
{
	snprintf(dst, len, "%s", src ? (const char *)src : "");
}

int ah_shadow_series_info_get(ah_shadow *s, int64_t series_id, ah_shadow_series_info *out)
{
	ah_shadow_series_info info;
	sqlite3_stmt *st = NULL;
	if (!s || !out)
		return AH_EINVAL;
	memset(&info, 0, sizeof(info));
	int rc = sh_err(sqlite3_prepare_v2(
		s->db, "SELECT workload, dim, granularity_ns FROM series WHERE id = ?1", -1, &st, NULL));
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, series_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		info.id = series_id;
		copy_text(info.workload, sizeof(info.workload), sqlite3_column_text(st, 0));
		copy_text(info.dim, sizeof(info.dim), sqlite3_column_text(st, 1));
		info.granularity_ns = sqlite3_column_int64(st, 2);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? AH_ENOENT : sh_err(rc);
	}
	sqlite3_finalize(st);
	if (rc == 0)
		rc = series_info_fill(s, &info);
	if (rc == 0)
		*out = info;
	return rc;
}

int ah_shadow_series_list(ah_shadow *s, ah_shadow_series_info **out, size_t *out_n)
{
	ah_shadow_series_info *v = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st = NULL;
	if (!s || !out || !out_n)
		return AH_EINVAL;
	int rc = sh_err(sqlite3_prepare_v2(
		s->db, "SELECT id, workload, dim, granularity_ns FROM series ORDER BY workload, dim", -1,
		&st, NULL));
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			ah_shadow_series_info *nv = realloc(v, nc * sizeof(*nv));
			if (!nv) {
				rc = SQLITE_NOMEM;
				break;
			}
			v = nv;
			cap = nc;
		}
		ah_shadow_series_info *info = &v[n++];
		memset(info, 0, sizeof(*info));
		info->id = sqlite3_column_int64(st, 0);
		copy_text(info->workload, sizeof(info->workload), sqlite3_column_text(st, 1));
		copy_text(info->dim, sizeof(info->dim), sqlite3_column_text(st, 2));
		info->granularity_ns = sqlite3_column_int64(st, 3);
	}
	rc = rc == SQLITE_DONE ? 0 : sh_err(rc);
	sqlite3_finalize(st);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = series_info_fill(s, &v[i]);
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	*out_n = n;
	return 0;
}

int ah_shadow_checkpoint(ah_shadow *s)
{
	if (!s)
		return AH_EINVAL;
	return sh_err(sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL));
}
