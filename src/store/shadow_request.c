/* ahead: shadow store request records.
 *
 * A request's parameters live one row per key in request_param (indexed by
 * key and value), so "all requests of W with size=large" is a query, and the
 * observed/predicted figures one row per dimension in request_dim, so a
 * request may report any dimension. NaN figures are stored as NULL. A
 * dimension also keeps its newest report (last, last_ns: each report
 * overwrites them in the report's own transaction) and the model that sized
 * it at add (model, model_n: NULL when unknown). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "store/shadow_int.h"

static int check_figure(double v)
{
	return isnan(v) || isfinite(v) ? 0 : AH_EINVAL;
}

static int check_dims(const ah_shadow_req_dim *dims, int n)
{
	if (n < 0 || n > AH_MAX_DIMS || (n && !dims))
		return AH_EINVAL;
	for (int i = 0; i < n; i++) {
		int rc = ah_name_check_dim(dims[i].dim);
		if (rc)
			return rc;
		if (check_figure(dims[i].peak) || check_figure(dims[i].mean) ||
		    check_figure(dims[i].predicted))
			return AH_EINVAL;
		/* the model's name: "" (unknown) or the dimension grammar */
		if (memchr(dims[i].model, '\0', sizeof dims[i].model) == NULL ||
		    (dims[i].model[0] && ah_name_check_dim(dims[i].model)) || dims[i].model_n < 0)
			return AH_EINVAL;
		for (int j = 0; j < i; j++)
			if (!strcmp(dims[i].dim, dims[j].dim))
				return AH_EINVAL;
	}
	return 0;
}

static void bind_fig(sqlite3_stmt *st, int i, double v)
{
	if (isnan(v))
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_double(st, i, v);
}

static int put_dims(ah_shadow *s, int64_t id, const ah_shadow_req_dim *dims, int n)
{
	sqlite3_stmt *st = NULL;
	int rc = sh_err(sqlite3_prepare_v2(
		s->db,
		"INSERT INTO request_dim(req, dim, peak, mean, predicted, model, model_n)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"
		" ON CONFLICT(req, dim) DO UPDATE SET peak = coalesce(excluded.peak, peak),"
		" mean = coalesce(excluded.mean, mean),"
		" predicted = coalesce(excluded.predicted, predicted),"
		" model = coalesce(model, excluded.model), model_n = coalesce(model_n, excluded.model_n)",
		-1, &st, NULL));
	for (int i = 0; i < n && rc == 0; i++) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, dims[i].dim, -1, SQLITE_STATIC);
		bind_fig(st, 3, dims[i].peak);
		bind_fig(st, 4, dims[i].mean);
		bind_fig(st, 5, dims[i].predicted);
		if (dims[i].model[0]) {
			sqlite3_bind_text(st, 6, dims[i].model, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 7, dims[i].model_n);
		} else {
			sqlite3_bind_null(st, 6);
			sqlite3_bind_null(st, 7);
		}
		int r = sqlite3_step(st);
		sqlite3_reset(st);
		rc = r == SQLITE_DONE ? 0 : sh_err(r);
	}
	sqlite3_finalize(st);
	return rc;
}

int ah_shadow_request_add(ah_shadow *s, const ah_shadow_request *r, int64_t *out_id)
{
	int rc;
	sh_tx tx;
	sqlite3_stmt *st = NULL;
	int64_t id = 0;
	if (!s || !r || !out_id)
		return AH_EINVAL;
	if ((rc = ah_name_check_workload(r->workload)))
		return rc;
	if (r->start_ns < 0 || r->start_ns > AH_SHADOW_T_MAX || r->end_ns > AH_SHADOW_T_MAX ||
	    (r->end_ns != -1 && r->end_ns < r->start_ns))
		return AH_ERANGE;
	if (r->n_params < 0 || r->n_params > AH_SHADOW_MAX_PARAMS)
		return AH_ETOOBIG;
	for (int i = 0; i < r->n_params; i++) {
		if ((rc = ah_name_check_param_key(r->params[i].key)) || (rc = ah_name_check_param_value(r->params[i].value)))
			return rc;
		for (int j = 0; j < i; j++)
			if (!strcmp(r->params[i].key, r->params[j].key))
				return AH_EINVAL;
	}
	if ((rc = check_dims(r->dims, r->n_dims)))
		return rc;
	if ((rc = sh_tx_begin(s, &tx)))
		return rc;
	rc = sh_err(sqlite3_prepare_v2(
		s->db, "INSERT INTO request(workload, start_ns, end_ns) VALUES(?1, ?2, ?3)", -1, &st, NULL));
	if (rc)
		goto out;
	sqlite3_bind_text(st, 1, r->workload, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->start_ns);
	if (r->end_ns >= 0)
		sqlite3_bind_int64(st, 3, r->end_ns);
	if ((rc = sh_err(sqlite3_step(st))))
		goto out;
	id = sqlite3_last_insert_rowid(s->db);
	sqlite3_finalize(st);
	st = NULL;
	rc = sh_err(sqlite3_prepare_v2(
		s->db, "INSERT INTO request_param(req, key, value) VALUES(?1, ?2, ?3)", -1, &st, NULL));
	for (int i = 0; i < r->n_params && rc == 0; i++) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, r->params[i].key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, r->params[i].value, -1, SQLITE_STATIC);
		int x = sqlite3_step(st);
		sqlite3_reset(st);
		rc = x == SQLITE_DONE ? 0 : sh_err(x);
	}
	if (rc == 0)
		rc = put_dims(s, id, r->dims, r->n_dims);
out:
	sqlite3_finalize(st);
	rc = sh_tx_end(s, &tx, rc);
	if (rc == 0)
		*out_id = id;
	return rc;
}

int ah_shadow_request_end(ah_shadow *s, int64_t id, int64_t end_ns, const ah_shadow_req_dim *dims,
			  int n_dims)
{
	int rc;
	sh_tx tx;
	sqlite3_stmt *st = NULL;
	if (!s)
		return AH_EINVAL;
	if (end_ns < 0 || end_ns > AH_SHADOW_T_MAX)
		return AH_ERANGE;
	if ((rc = check_dims(dims, n_dims)))
		return rc;
	if ((rc = sh_tx_begin(s, &tx)))
		return rc;
	rc = sh_err(sqlite3_prepare_v2(s->db, "SELECT start_ns, end_ns FROM request WHERE id = ?1", -1,
				       &st, NULL));
	if (rc)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	int x = sqlite3_step(st);
	if (x == SQLITE_DONE) {
		rc = AH_ENOENT;
		goto out;
	}
	if (x != SQLITE_ROW) {
		rc = sh_err(x);
		goto out;
	}
	if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
		rc = AH_ESTATE;
		goto out;
	}
	if (end_ns < sqlite3_column_int64(st, 0)) {
		rc = AH_ERANGE;
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	rc = sh_err(sqlite3_prepare_v2(s->db, "UPDATE request SET end_ns = ?2 WHERE id = ?1", -1, &st,
				       NULL));
	if (rc)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, end_ns);
	if ((rc = sh_err(sqlite3_step(st))))
		goto out;
	rc = put_dims(s, id, dims, n_dims);
out:
	sqlite3_finalize(st);
	return sh_tx_end(s, &tx, rc);
}

static double col_fig(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

/* Reads records by id through three statements prepared once, so a visit
 * of many records does not prepare three statements per record. */
typedef struct {
	sqlite3_stmt *head, *params, *dims;
} reader;

static void reader_fini(reader *rd)
{
	sqlite3_finalize(rd->head);
	sqlite3_finalize(rd->params);
	sqlite3_finalize(rd->dims);
	rd->head = rd->params = rd->dims = NULL;
}

static int reader_init(ah_shadow *s, reader *rd)
{
	int rc;
	rd->head = rd->params = rd->dims = NULL;
	if ((rc = sh_err(sqlite3_prepare_v2(s->db, "SELECT workload, start_ns, end_ns FROM request WHERE id = ?1",
					    -1, &rd->head, NULL))) ||
	    (rc = sh_err(sqlite3_prepare_v2(s->db, "SELECT key, value FROM request_param WHERE req = ?1 ORDER BY key",
					    -1, &rd->params, NULL))) ||
	    (rc = sh_err(sqlite3_prepare_v2(s->db,
					    "SELECT dim, peak, mean, predicted, last, last_ns, model, model_n FROM request_dim"
					    " WHERE req = ?1 ORDER BY dim",
					    -1, &rd->dims, NULL))))
		reader_fini(rd);
	return rc;
}

/* Fills r (partly, on failure: callers read into scratch storage). At most
 * AH_SHADOW_MAX_PARAMS parameters and AH_MAX_DIMS dimensions are read. */
static int reader_get(reader *rd, int64_t id, ah_shadow_request *r)
{
	sqlite3_stmt *st = rd->head;
	int rc = 0, x;
	memset(r, 0, sizeof(*r));
	sqlite3_bind_int64(st, 1, id);
	x = sqlite3_step(st);
	if (x != SQLITE_ROW) {
		rc = x == SQLITE_DONE ? AH_ENOENT : sh_err(x);
		goto out;
	}
	r->id = id;
	snprintf(r->workload, sizeof(r->workload), "%s", (const char *)sqlite3_column_text(st, 0));
	r->start_ns = sqlite3_column_int64(st, 1);
	r->end_ns = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 2);
	sqlite3_reset(st);
	st = rd->params;
	sqlite3_bind_int64(st, 1, id);
	while ((x = sqlite3_step(st)) == SQLITE_ROW && r->n_params < AH_SHADOW_MAX_PARAMS) {
		ah_shadow_param *p = &r->params[r->n_params++];
		snprintf(p->key, sizeof(p->key), "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(p->value, sizeof(p->value), "%s", (const char *)sqlite3_column_text(st, 1));
	}
	if (x != SQLITE_DONE && x != SQLITE_ROW) {
		rc = sh_err(x);
		goto out;
	}
	sqlite3_reset(st);
	st = rd->dims;
	sqlite3_bind_int64(st, 1, id);
	while ((x = sqlite3_step(st)) == SQLITE_ROW && r->n_dims < AH_MAX_DIMS) {
		ah_shadow_req_dim *d = &r->dims[r->n_dims++];
		snprintf(d->dim, sizeof(d->dim), "%s", (const char *)sqlite3_column_text(st, 0));
		d->peak = col_fig(st, 1);
		d->mean = col_fig(st, 2);
		d->predicted = col_fig(st, 3);
		d->last = col_fig(st, 4);
		d->last_ns = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 5);
		if (isnan(d->last))
			d->last_ns = -1;
		if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
			snprintf(d->model, sizeof d->model, "%s", (const char *)sqlite3_column_text(st, 6));
			d->model_n = sqlite3_column_int64(st, 7);
		}
	}
	if (x != SQLITE_DONE && x != SQLITE_ROW)
		rc = sh_err(x);
out:
	sqlite3_reset(st);
	return rc;
}

int ah_shadow_request_get(ah_shadow *s, int64_t id, ah_shadow_request *out)
{
	reader rd;
	ah_shadow_request *r;
	int rc;
	if (!s || !out)
		return AH_EINVAL;
	r = malloc(sizeof(*r));
	if (!r)
		return AH_ENOMEM;
	if ((rc = reader_init(s, &rd)) == 0) {
		rc = reader_get(&rd, id, r);
		reader_fini(&rd);
	}
	if (rc == 0)
		*out = *r;
	free(r);
	return rc;
}

int ah_shadow_request_list(ah_shadow *s, const char *workload, const char *param_key,
			   const char *param_value, size_t limit, ah_shadow_request **out,
			   size_t *out_n)
{
	sqlite3_stmt *st = NULL;
	int64_t *ids = NULL;
	ah_shadow_request *v = NULL;
	size_t n = 0;
	int rc;
	if (!s || !out || !out_n)
		return AH_EINVAL;
	if ((rc = ah_name_check_workload(workload)))
		return rc;
	if (param_key && ((rc = ah_name_check_param_key(param_key)) || !param_value || (rc = ah_name_check_param_value(param_value))))
		return rc ? rc : AH_EINVAL;
	rc = sh_err(sqlite3_prepare_v2(
		s->db,
		param_key ? "SELECT r.id FROM request r JOIN request_param p ON p.req = r.id"
			    " WHERE r.workload = ?1 AND p.key = ?2 AND p.value = ?3"
			    " ORDER BY r.start_ns, r.id LIMIT ?4"
			  : "SELECT id FROM request WHERE workload = ?1 ORDER BY start_ns, id LIMIT ?4",
		-1, &st, NULL));
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, workload, -1, SQLITE_STATIC);
	if (param_key) {
		sqlite3_bind_text(st, 2, param_key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, param_value, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(st, 4, limit ? (int64_t)limit : -1);
	if ((rc = sh_step_ids(st, &ids, &n)))
		goto out;
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		rc = AH_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = ah_shadow_request_get(s, ids[i], &v[i]);
	if (rc == 0) {
		*out = v;
		*out_n = n;
		v = NULL;
	}
out:
	sqlite3_finalize(st);
	free(ids);
	free(v);
	return rc;
}

/* Steps st (whose first column is a record id) and hands each record to fn;
 * one record in memory at a time. */
static int visit(ah_shadow *s, sqlite3_stmt *st, ah_shadow_request_fn fn, void *ctx)
{
	reader rd;
	ah_shadow_request *r = malloc(sizeof(*r));
	int rc, x;
	if (!r)
		return AH_ENOMEM;
	if ((rc = reader_init(s, &rd))) {
		free(r);
		return rc;
	}
	while ((x = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = reader_get(&rd, sqlite3_column_int64(st, 0), r)) || (rc = fn(ctx, r)))
			break;
	}
	if (rc == 0 && x != SQLITE_DONE)
		rc = sh_err(x);
	reader_fini(&rd);
	free(r);
	return rc;
}

int ah_shadow_request_each_ended(ah_shadow *s, const char *workload, const char *skip_key, size_t limit,
				 ah_shadow_request_fn fn, void *ctx)
{
	sqlite3_stmt *st = NULL;
	int rc;
	if (!s || !fn || !limit || limit > INT64_MAX)
		return AH_EINVAL;
	if ((rc = ah_name_check_workload(workload)) || (skip_key && (rc = ah_name_check_param_key(skip_key))))
		return rc;
	/* The inner query picks the newest; the outer ORDER BY sorts them
	 * before the first row comes back, so the set is fixed even if fn
	 * writes. */
	rc = sh_err(sqlite3_prepare_v2(
		s->db,
		"SELECT id FROM (SELECT id, start_ns FROM request r WHERE workload = ?1 AND end_ns IS NOT NULL"
		" AND (?2 IS NULL OR NOT EXISTS (SELECT 1 FROM request_param WHERE req = r.id AND key = ?2))"
		" ORDER BY start_ns DESC, id DESC LIMIT ?3) ORDER BY start_ns, id",
		-1, &st, NULL));
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, workload, -1, SQLITE_STATIC);
	if (skip_key)
		sqlite3_bind_text(st, 2, skip_key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)limit);
	rc = visit(s, st, fn, ctx);
	sqlite3_finalize(st);
	return rc;
}

int ah_shadow_request_each_open(ah_shadow *s, const char *key, size_t limit, ah_shadow_request_fn fn, void *ctx)
{
	sqlite3_stmt *st = NULL;
	int rc;
	if (!s || !fn || !key || !limit || limit > INT64_MAX)
		return AH_EINVAL;
	if ((rc = ah_name_check_param_key(key)))
		return rc;
	rc = sh_err(sqlite3_prepare_v2(s->db,
				       "SELECT r.id FROM request r JOIN request_param p ON p.req = r.id AND p.key = ?1"
				       " WHERE r.end_ns IS NULL ORDER BY r.id LIMIT ?2",
				       -1, &st, NULL));
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)limit);
	rc = visit(s, st, fn, ctx);
	sqlite3_finalize(st);
	return rc;
}

int ah_shadow_request_find_open(ah_shadow *s, const char *key, const char *value, int64_t *out_id)
{
	int rc, x;
	if (!s || !key || !value || !out_id)
		return AH_EINVAL;
	if ((rc = ah_name_check_param_key(key)) || (rc = ah_name_check_param_value(value)))
		return rc;
	/* on every release and report of a daemon: prepared once */
	if (!s->st_find_open &&
	    (rc = sh_err(sqlite3_prepare_v3(s->db,
					    "SELECT r.id FROM request_param p JOIN request r ON r.id = p.req"
					    " WHERE p.key = ?1 AND p.value = ?2 AND r.end_ns IS NULL"
					    " ORDER BY r.id DESC LIMIT 1",
					    -1, SQLITE_PREPARE_PERSISTENT, &s->st_find_open, NULL))))
		return rc;
	sqlite3_stmt *st = s->st_find_open;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	x = sqlite3_step(st);
	if (x == SQLITE_ROW)
		*out_id = sqlite3_column_int64(st, 0);
	else
		rc = x == SQLITE_DONE ? AH_ENOENT : sh_err(x);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

/* The record's state and, when key is set, whether it has that parameter
 * (its value into val) and how many it has. Inside the caller's scope. */
static int rec_state(ah_shadow *s, int64_t id, const char *key, char *workload, int64_t *end_ns, char *val,
		     int *has_key, int *n_params)
{
	sqlite3_stmt *st = NULL;
	int rc, x;
	rc = sh_err(sqlite3_prepare_v2(s->db,
				       "SELECT workload, end_ns, (SELECT count(*) FROM request_param WHERE req = r.id),"
				       " (SELECT value FROM request_param WHERE req = r.id AND key = ?2)"
				       " FROM request r WHERE id = ?1",
				       -1, &st, NULL));
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	x = sqlite3_step(st);
	if (x != SQLITE_ROW) {
		rc = x == SQLITE_DONE ? AH_ENOENT : sh_err(x);
		goto out;
	}
	if (workload)
		snprintf(workload, AH_SHADOW_WORKLOAD_MAX, "%s", (const char *)sqlite3_column_text(st, 0));
	*end_ns = sqlite3_column_type(st, 1) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 1);
	*n_params = sqlite3_column_int(st, 2);
	*has_key = sqlite3_column_type(st, 3) != SQLITE_NULL;
	if (val)
		snprintf(val, AH_SHADOW_PARAM_VALUE_MAX, "%s",
			 *has_key ? (const char *)sqlite3_column_text(st, 3) : "");
out:
	sqlite3_finalize(st);
	return rc;
}

static int put_param(ah_shadow *s, int64_t id, const char *key, const char *value)
{
	sqlite3_stmt *st = NULL;
	int rc = sh_err(sqlite3_prepare_v2(s->db,
					   "INSERT INTO request_param(req, key, value) VALUES(?1, ?2, ?3)"
					   " ON CONFLICT(req, key) DO UPDATE SET value = excluded.value",
					   -1, &st, NULL));
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
	rc = sh_err(sqlite3_step(st));
	sqlite3_finalize(st);
	return rc;
}

int ah_shadow_request_set_param(ah_shadow *s, int64_t id, const char *key, const char *value)
{
	int64_t end_ns;
	int has, n, rc;
	sh_tx tx;
	if (!s || !key || !value)
		return AH_EINVAL;
	if ((rc = ah_name_check_param_key(key)) || (rc = ah_name_check_param_value(value)))
		return rc;
	if ((rc = sh_tx_begin(s, &tx)))
		return rc;
	if ((rc = rec_state(s, id, key, NULL, &end_ns, NULL, &has, &n)))
		goto out;
	if (!has && n >= AH_SHADOW_MAX_PARAMS) {
		rc = AH_ETOOBIG;
		goto out;
	}
	rc = put_param(s, id, key, value);
out:
	return sh_tx_end(s, &tx, rc);
}

/* Raises the running peak and folds v into the running mean, weighted by
 * the `before` reports merged earlier (an insert starts both at v); v at
 * t_ns becomes the dimension's last report, unless one newer is stored (a
 * clock stepped back keeps the newest). */
static int merge_dim(ah_shadow *s, int64_t req, const char *dim, double v, int64_t before, int64_t t_ns)
{
	sqlite3_stmt *st = NULL;
	int rc = sh_err(sqlite3_prepare_v2(
		s->db,
		"INSERT INTO request_dim(req, dim, peak, mean, last, last_ns) VALUES(?1, ?2, ?3, ?3, ?3, ?5)"
		" ON CONFLICT(req, dim) DO UPDATE SET peak = max(coalesce(peak, excluded.peak), excluded.peak),"
		" mean = CASE WHEN mean IS NULL OR ?4 = 0 THEN excluded.mean"
		" ELSE (mean * ?4 + excluded.mean) / (?4 + 1) END,"
		" last = CASE WHEN last_ns IS NULL OR last_ns <= ?5 THEN excluded.last ELSE last END,"
		" last_ns = max(coalesce(last_ns, ?5), ?5)",
		-1, &st, NULL));
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, req);
	sqlite3_bind_text(st, 2, dim, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 3, v);
	sqlite3_bind_int64(st, 4, before);
	sqlite3_bind_int64(st, 5, t_ns);
	rc = sh_err(sqlite3_step(st));
	sqlite3_finalize(st);
	return rc;
}

int ah_shadow_request_observe(ah_shadow *s, int64_t id, const char *count_key, int64_t t_ns,
			      const char *const *dims, const double *values, int n)
{
	char workload[AH_SHADOW_WORKLOAD_MAX], val[AH_SHADOW_PARAM_VALUE_MAX];
	int64_t end_ns, before = 0;
	int has, np, rc;
	sh_tx tx;
	if (!s || !count_key || n < 0 || n > AH_MAX_DIMS || (n && (!dims || !values)))
		return AH_EINVAL;
	if ((rc = ah_name_check_param_key(count_key)))
		return rc;
	if (t_ns < 0 || t_ns > AH_SHADOW_T_MAX)
		return AH_ERANGE;
	/* Validated whole first, so a bad entry writes nothing. */
	for (int i = 0; i < n; i++) {
		if (!dims[i] || (rc = ah_name_check_dim(dims[i])))
			return rc ? rc : AH_EINVAL;
		if (!isfinite(values[i]))
			return AH_EINVAL;
		for (int j = 0; j < i; j++)
			if (!strcmp(dims[i], dims[j]))
				return AH_EINVAL;
	}
	if ((rc = sh_tx_begin(s, &tx)))
		return rc;
	if ((rc = rec_state(s, id, count_key, workload, &end_ns, val, &has, &np)))
		goto out;
	if (end_ns >= 0) {
		rc = AH_ESTATE;
		goto out;
	}
	if (!has && np >= AH_SHADOW_MAX_PARAMS) {
		rc = AH_ETOOBIG;
		goto out;
	}
	/* A count edited by hand into something else weighs nothing. */
	if (has)
		before = strtoll(val, NULL, 10);
	if (before < 0)
		before = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		int64_t sid;
		if ((rc = ah_shadow_series_ensure(s, workload, dims[i], 0, &sid)) ||
		    (rc = ah_shadow_append(s, sid, &t_ns, &values[i], 1)))
			break;
		rc = merge_dim(s, id, dims[i], values[i], before, t_ns);
	}
	if (rc == 0) {
		snprintf(val, sizeof val, "%" PRId64, before < INT64_MAX ? before + 1 : before);
		rc = put_param(s, id, count_key, val);
	}
out:
	return sh_tx_end(s, &tx, rc);
}
