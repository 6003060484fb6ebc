/* What the API keeps in the ledger (include/ahead/api_records.h), over the
 * SQLite and the memory store: tokens and their generation, the append-only
 * audit log, idempotency keys and their transactions, events compaction and
 * bounds, per-allocation versions; and a schema-v1 file upgraded in place. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ahead/api_records.h"
#include "ahead/error.h"
#include "ahead/ledger_sqlite.h"
#include "db_fixture.h"
#include "engine_fixture.h"

static char dbpath[256];

static ah_ledger *open_sqlite(void)
{
	char err[256];
	ah_ledger *l = NULL;
	assert_int_equal(ah_ledger_sqlite_open(dbpath, AH_DURABILITY_PROCESS, &l, err, sizeof err), 0);
	return l;
}

static int setup_sqlite(void **state)
{
	db_fixture_path(dbpath, sizeof dbpath, "api-records");
	db_fixture_unlink(dbpath);
	*state = open_sqlite();
	return 0;
}

static int setup_memory(void **state)
{
	ah_ledger *l;
	assert_int_equal(ah_ledger_memory_new(64, &l), 0);
	*state = l;
	return 0;
}

static int teardown(void **state)
{
	ah_ledger_free(*state);
	db_fixture_unlink(dbpath);
	return 0;
}

/* ---- roles ------------------------------------------------------------------ */

static void test_roles(void **state)
{
	(void)state;
	const char *names[] = {"viewer", "tenant", "operator", "admin"};
	for (int i = 0; i < AH_ROLE__COUNT; i++) {
		ah_role r = AH_ROLE__COUNT;
		assert_string_equal(ah_role_name((ah_role)i), names[i]);
		assert_int_equal(ah_role_parse(names[i], &r), 0);
		assert_int_equal(r, i);
	}
	ah_role r = AH_ROLE_ADMIN;
	assert_int_equal(ah_role_parse("Admin", &r), AH_EINVAL);
	assert_int_equal(ah_role_parse("", &r), AH_EINVAL);
	assert_int_equal(r, AH_ROLE_ADMIN); /* untouched on failure */
	assert_string_equal(ah_role_name(AH_ROLE__COUNT), "unknown");
}

/* ---- tokens ----------------------------------------------------------------- */

static ah_token_row token(const char *id, const char *name, ah_role role, const char *tenant, int64_t created)
{
	ah_token_row t = {.role = role, .created_ns = created};
	snprintf(t.id, sizeof t.id, "%s", id);
	snprintf(t.name, sizeof t.name, "%s", name);
	snprintf(t.tenant, sizeof t.tenant, "%s", tenant);
	for (int i = 0; i < 32; i++)
		t.hash[i] = (uint8_t)(i + created);
	return t;
}

typedef struct {
	int n;
	ah_token_row rows[8];
} token_list;

static int collect_token(void *ctx, const ah_token_row *t)
{
	token_list *c = ctx;
	if (c->n < 8)
		c->rows[c->n] = *t;
	c->n++;
	return 0;
}

static void test_tokens(void **state)
{
	ah_ledger *l = *state;
	uint64_t gen = 99;
	assert_int_equal(ah_ledger_token_generation(l, &gen), 0);
	assert_int_equal(gen, 0);

	ah_token_row admin = token("tk-00000000000000a2", "root", AH_ROLE_ADMIN, "", 200);
	ah_token_row acme = token("tk-00000000000000a1", "acme-ci", AH_ROLE_TENANT, "acme", 100);
	assert_int_equal(ah_ledger_token_put(l, &admin), 0);
	assert_int_equal(ah_ledger_token_put(l, &acme), 0);
	assert_int_equal(ah_ledger_token_generation(l, &gen), 0);
	assert_int_equal(gen, 2);

	token_list c = {0};
	assert_int_equal(ah_ledger_token_list(l, collect_token, &c), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.rows[0].id, acme.id); /* by created_ns */
	assert_string_equal(c.rows[0].tenant, "acme");
	assert_int_equal(c.rows[0].role, AH_ROLE_TENANT);
	assert_memory_equal(c.rows[0].hash, acme.hash, 32);
	assert_string_equal(c.rows[1].name, "root");

	/* Rotation: the old one revoked (replaced by id), a new one from it. */
	acme.revoked_ns = 300;
	ah_token_row next = token("tk-00000000000000a3", "acme-ci", AH_ROLE_TENANT, "acme", 300);
	next.expires_ns = 9000;
	snprintf(next.rotated_from, sizeof next.rotated_from, "%s", acme.id);
	assert_int_equal(ah_ledger_token_put(l, &acme), 0);
	assert_int_equal(ah_ledger_token_put(l, &next), 0);
	assert_int_equal(ah_ledger_token_generation(l, &gen), 0);
	assert_int_equal(gen, 4);
	memset(&c, 0, sizeof c);
	assert_int_equal(ah_ledger_token_list(l, collect_token, &c), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.rows[0].revoked_ns, 300);
	assert_string_equal(c.rows[2].id, next.id);
	assert_string_equal(c.rows[2].rotated_from, acme.id);
	assert_int_equal(c.rows[2].expires_ns, 9000);

	/* Shapes refused, nothing written. */
	ah_token_row bad = token("tk-b", "x", AH_ROLE_TENANT, "", 1);
	assert_int_equal(ah_ledger_token_put(l, &bad), AH_EINVAL); /* a tenant token without a tenant */
	bad = token("tk-b", "x", AH_ROLE_VIEWER, "acme", 1);
	assert_int_equal(ah_ledger_token_put(l, &bad), AH_EINVAL); /* only tenant tokens name one */
	bad = token("", "x", AH_ROLE_VIEWER, "", 1);
	assert_int_equal(ah_ledger_token_put(l, &bad), AH_EINVAL);
	bad = token("tk b", "x", AH_ROLE_VIEWER, "", 1);
	assert_int_equal(ah_ledger_token_put(l, &bad), AH_EINVAL);
	bad = token("tk-b", "Bad Name", AH_ROLE_VIEWER, "", 1);
	assert_int_equal(ah_ledger_token_put(l, &bad), AH_EINVAL);
	bad = token("tk-b", "x", AH_ROLE__COUNT, "", 1);
	assert_int_equal(ah_ledger_token_put(l, &bad), AH_EINVAL);
	assert_int_equal(ah_ledger_token_generation(l, &gen), 0);
	assert_int_equal(gen, 4);

	/* A put in a transaction that rolls back is taken back. */
	assert_true(l->ops->begin(l) >= 0);
	ah_token_row gone = token("tk-gone", "gone", AH_ROLE_VIEWER, "", 50);
	acme.revoked_ns = 0;
	assert_int_equal(ah_ledger_token_put(l, &gone), 0);
	assert_int_equal(ah_ledger_token_put(l, &acme), 0);
	l->ops->rollback(l);
	assert_int_equal(ah_ledger_token_generation(l, &gen), 0);
	assert_int_equal(gen, 4);
	memset(&c, 0, sizeof c);
	assert_int_equal(ah_ledger_token_list(l, collect_token, &c), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.rows[0].revoked_ns, 300);
}

/* Another process's put is seen through the generation (SQLite). */
static void test_token_generation_across_handles(void **state)
{
	ah_ledger *l = *state, *other = open_sqlite();
	uint64_t gen = 99;
	assert_int_equal(ah_ledger_token_generation(l, &gen), 0);
	assert_int_equal(gen, 0);
	ah_token_row t = token("tk-1", "ops", AH_ROLE_OPERATOR, "", 1);
	assert_int_equal(ah_ledger_token_put(other, &t), 0);
	assert_int_equal(ah_ledger_token_generation(l, &gen), 0);
	assert_int_equal(gen, 1);
	assert_int_equal(ah_ledger_token_generation(l, &gen), 0); /* cached */
	assert_int_equal(gen, 1);
	ah_ledger_free(other);
}

/* ---- audit ------------------------------------------------------------------ */

typedef struct {
	int n;
	int64_t seq[8];
	char who[8][40], path[2048], detail[2048];
	int status[8];
} audit_list;

static int collect_audit(void *ctx, const ah_audit_row *r)
{
	audit_list *c = ctx;
	if (c->n < 8) {
		c->seq[c->n] = r->seq;
		snprintf(c->who[c->n], sizeof c->who[0], "%s", r->who);
		c->status[c->n] = r->status;
		snprintf(c->path, sizeof c->path, "%s", r->path);
		snprintf(c->detail, sizeof c->detail, "%s", r->detail);
	}
	c->n++;
	return 0;
}

static void audit(ah_ledger *l, int64_t t, const char *who, int status)
{
	ah_audit_row r = {.t_ns = t, .who = who, .name = "n", .role = "admin", .source = "127.0.0.1:5555",
			  .method = "POST", .path = "/v1/allocations", .status = status, .outcome = "granted"};
	assert_int_equal(ah_ledger_audit_put(l, &r), 0);
}

static void test_audit(void **state)
{
	ah_ledger *l = *state;
	audit(l, 10, "tk-a", 201);
	audit(l, 20, "-", 401);
	audit(l, 30, "tk-a", 409);
	audit(l, 40, "local", 200);

	audit_list c = {0};
	assert_int_equal(ah_ledger_audit_list(l, NULL, collect_audit, &c), 0);
	assert_int_equal(c.n, 4);
	assert_int_equal(c.seq[0], 1);
	assert_int_equal(c.seq[3], 4);
	assert_string_equal(c.who[1], "-");
	assert_int_equal(c.status[1], 401);

	ah_audit_query q = {.who = "tk-a"};
	memset(&c, 0, sizeof c);
	assert_int_equal(ah_ledger_audit_list(l, &q, collect_audit, &c), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.status[1], 409);

	q = (ah_audit_query){.after_seq = 1, .since_ns = 30};
	memset(&c, 0, sizeof c);
	assert_int_equal(ah_ledger_audit_list(l, &q, collect_audit, &c), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.seq[0], 3);

	q = (ah_audit_query){.after_seq = 1, .limit = 2};
	memset(&c, 0, sizeof c);
	assert_int_equal(ah_ledger_audit_list(l, &q, collect_audit, &c), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.seq[1], 3);

	/* A long path and detail are cut (on a UTF-8 boundary), not refused. */
	char path[AH_AUDIT_PATH_MAX + 100], detail[AH_AUDIT_DETAIL_MAX + 10];
	memset(path, 'p', sizeof path);
	path[sizeof path - 1] = '\0';
	memset(detail, 'd', sizeof detail);
	memcpy(detail + AH_AUDIT_DETAIL_MAX - 1, "\xc3\xa9", 2); /* é across the cap */
	detail[sizeof detail - 1] = '\0';
	ah_audit_row r = {.t_ns = 50, .who = "tk-a", .path = path, .detail = detail, .status = 200};
	assert_int_equal(ah_ledger_audit_put(l, &r), 0);
	q = (ah_audit_query){.after_seq = 4};
	memset(&c, 0, sizeof c);
	assert_int_equal(ah_ledger_audit_list(l, &q, collect_audit, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(strlen(c.path), AH_AUDIT_PATH_MAX);
	assert_int_equal(strlen(c.detail), AH_AUDIT_DETAIL_MAX - 1);

	/* Identifiers over their caps, or no who, are refused. */
	char method[AH_AUDIT_METHOD_MAX + 2];
	memset(method, 'M', sizeof method);
	method[sizeof method - 1] = '\0';
	r = (ah_audit_row){.t_ns = 60, .who = "tk-a", .method = method};
	assert_int_equal(ah_ledger_audit_put(l, &r), AH_ETOOBIG);
	r = (ah_audit_row){.t_ns = 60, .who = ""};
	assert_int_equal(ah_ledger_audit_put(l, &r), AH_EINVAL);

	/* A row written in a transaction that rolls back is gone, and its seq
	 * is not spent. */
	assert_true(l->ops->begin(l) >= 0);
	audit(l, 70, "tk-gone", 201);
	l->ops->rollback(l);
	audit(l, 80, "tk-b", 201);
	memset(&c, 0, sizeof c);
	q = (ah_audit_query){.after_seq = 5};
	assert_int_equal(ah_ledger_audit_list(l, &q, collect_audit, &c), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.who[0], "tk-b");
	assert_int_equal(c.seq[0], 6);
}

static void test_audit_append_only(void **state)
{
	ah_ledger *l = *state;
	audit(l, 10, "tk-a", 201);
	audit(l, 20, "tk-b", 201);
	sqlite3 *db;
	char *msg = NULL;
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE api_audit SET status=500", NULL, NULL, &msg), SQLITE_OK);
	assert_non_null(strstr(msg, "append-only"));
	sqlite3_free(msg);
	msg = NULL;
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM api_audit WHERE seq=1", NULL, NULL, &msg), SQLITE_OK);
	assert_non_null(strstr(msg, "append-only"));
	sqlite3_free(msg);
	sqlite3_close(db);
	audit_list c = {0};
	assert_int_equal(ah_ledger_audit_list(l, NULL, collect_audit, &c), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.status[0], 201);
}

/* ---- idempotency keys ----------------------------------------------------------- */

typedef struct {
	int n, status;
	uint8_t hash[32];
	char body[64], key[AH_IDEM_KEY_MAX + 1];
	int64_t t_ns;
} idem_seen;

static int collect_idem(void *ctx, const ah_idem_row *r)
{
	idem_seen *c = ctx;
	c->n++;
	c->status = r->status;
	memcpy(c->hash, r->req_hash, 32);
	snprintf(c->body, sizeof c->body, "%s", r->body);
	snprintf(c->key, sizeof c->key, "%s", r->key);
	c->t_ns = r->t_ns;
	return 0;
}

static ah_idem_row idem(const char *scope, const char *key, int64_t t, const char *body)
{
	ah_idem_row r = {.scope = scope, .key = key, .status = 201, .body = body, .t_ns = t};
	for (int i = 0; i < 32; i++)
		r.req_hash[i] = (uint8_t)(0xA0 + i);
	return r;
}

static void test_idem(void **state)
{
	ah_ledger *l = *state;
	idem_seen c = {0};
	assert_int_equal(ah_ledger_idem_get(l, "ci", "k1", collect_idem, &c), AH_ENOENT);
	ah_idem_row r = idem("ci", "k1", 100, "{\"id\":1}");
	assert_int_equal(ah_ledger_idem_put(l, &r), 0);
	assert_int_equal(ah_ledger_idem_get(l, "ci", "k1", collect_idem, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.status, 201);
	assert_string_equal(c.body, "{\"id\":1}");
	assert_memory_equal(c.hash, r.req_hash, 32);
	assert_int_equal(c.t_ns, 100);
	/* The same key in another scope is another key. */
	assert_int_equal(ah_ledger_idem_get(l, "other", "k1", collect_idem, &c), AH_ENOENT);

	/* A duplicate: AH_EEXIST, the first row kept, and an open transaction
	 * unharmed (what else it wrote commits). */
	ah_idem_row dup = idem("ci", "k1", 200, "{\"id\":2}");
	assert_int_equal(ah_ledger_idem_put(l, &dup), AH_EEXIST);
	assert_true(l->ops->begin(l) >= 0);
	assert_int_equal(ah_ledger_idem_put(l, &dup), AH_EEXIST);
	ah_idem_row k2 = idem("ci", "k2", 300, "{}");
	assert_int_equal(ah_ledger_idem_put(l, &k2), 0);
	assert_int_equal(l->ops->commit(l), 0);
	memset(&c, 0, sizeof c);
	assert_int_equal(ah_ledger_idem_get(l, "ci", "k1", collect_idem, &c), 0);
	assert_string_equal(c.body, "{\"id\":1}");
	assert_int_equal(ah_ledger_idem_get(l, "ci", "k2", collect_idem, &c), 0);

	/* Caps. */
	char key[AH_IDEM_KEY_MAX + 2];
	memset(key, 'k', sizeof key);
	key[AH_IDEM_KEY_MAX] = '\0';
	ah_idem_row longest = idem("ci", key, 400, "{}");
	assert_int_equal(ah_ledger_idem_put(l, &longest), 0);
	assert_int_equal(ah_ledger_idem_get(l, "ci", key, collect_idem, &c), 0);
	assert_string_equal(c.key, key);
	key[AH_IDEM_KEY_MAX] = 'k';
	key[AH_IDEM_KEY_MAX + 1] = '\0';
	longest.key = key;
	assert_int_equal(ah_ledger_idem_put(l, &longest), AH_ETOOBIG);
	assert_int_equal(ah_ledger_idem_get(l, "ci", key, collect_idem, &c), AH_ETOOBIG);
	ah_idem_row empty = idem("ci", "", 1, "{}");
	assert_int_equal(ah_ledger_idem_put(l, &empty), AH_EINVAL);

	/* Sweep: rows older than 300 go. */
	size_t n = 99;
	assert_int_equal(ah_ledger_idem_sweep(l, 300, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ah_ledger_idem_get(l, "ci", "k1", collect_idem, &c), AH_ENOENT);
	assert_int_equal(ah_ledger_idem_get(l, "ci", "k2", collect_idem, &c), 0);
	assert_int_equal(ah_ledger_idem_sweep(l, 300, &n), 0);
	assert_int_equal(n, 0);
	/* A swept key may be used again. */
	assert_int_equal(ah_ledger_idem_put(l, &r), 0);
}

/* An idem row in a transaction that rolls back is gone; one in a
 * committed transaction survives (on SQLite, closing and reopening). */
static void idem_txn(ah_ledger **lp, bool reopen)
{
	ah_ledger *l = *lp;
	idem_seen c = {0};
	ah_idem_row gone = idem("ci", "gone", 100, "{\"gone\":true}");
	ah_idem_row kept = idem("ci", "kept", 100, "{\"kept\":true}");
	assert_true(l->ops->begin(l) >= 0);
	assert_int_equal(ah_ledger_idem_put(l, &gone), 0);
	assert_int_equal(ah_ledger_idem_get(l, "ci", "gone", collect_idem, &c), 0); /* seen inside */
	l->ops->rollback(l);
	assert_int_equal(ah_ledger_idem_get(l, "ci", "gone", collect_idem, &c), AH_ENOENT);

	assert_true(l->ops->begin(l) >= 0);
	assert_int_equal(ah_ledger_idem_put(l, &kept), 0);
	assert_int_equal(l->ops->commit(l), 0);
	if (reopen) {
		ah_ledger_free(l);
		*lp = l = open_sqlite();
	}
	memset(&c, 0, sizeof c);
	assert_int_equal(ah_ledger_idem_get(l, "ci", "kept", collect_idem, &c), 0);
	assert_string_equal(c.body, "{\"kept\":true}");
	assert_int_equal(ah_ledger_idem_get(l, "ci", "gone", collect_idem, &c), AH_ENOENT);
	/* The rolled-back key was never used. */
	assert_int_equal(ah_ledger_idem_put(l, &gone), 0);
}

static void test_idem_txn_sqlite(void **state)
{
	idem_txn((ah_ledger **)state, true);
}

static void test_idem_txn_memory(void **state)
{
	idem_txn((ah_ledger **)state, false);
}

/* A failed commit (a policy precondition no longer holds) takes the row
 * back too: the memory store. */
static void test_idem_failed_commit_memory(void **state)
{
	ah_ledger *l = *state;
	idem_seen c = {0};
	assert_true(l->ops->begin(l) >= 0);
	assert_int_equal(ah_ledger_precond_add(l, AH_PRECOND_POLICY, NULL, 7), 0); /* generation is 0 */
	ah_idem_row r = idem("ci", "k", 1, "{}");
	assert_int_equal(ah_ledger_idem_put(l, &r), 0);
	audit(l, 1, "tk-a", 201);
	assert_int_equal(l->ops->commit(l), AH_EBUSY);
	assert_int_equal(ah_ledger_idem_get(l, "ci", "k", collect_idem, &c), AH_ENOENT);
	audit_list a = {0};
	assert_int_equal(ah_ledger_audit_list(l, NULL, collect_audit, &a), 0);
	assert_int_equal(a.n, 0);
}

/* ---- events compaction and bounds ----------------------------------------------- */

static void events(ah_ledger *l, int64_t t0, int n)
{
	assert_true(l->ops->begin(l) >= 0);
	for (int i = 0; i < n; i++) {
		ah_ledger_event ev = {.t_ns = t0 + i, .kind = AH_EV_REFUSE, .tenant = "a", .pool = "p", .reason = "x"};
		assert_int_equal(l->ops->event(l, &ev), 0);
	}
	assert_int_equal(l->ops->commit(l), 0);
}

static void bounds(ah_ledger *l, int64_t first, int64_t last)
{
	int64_t f = -1, la = -1;
	assert_int_equal(ah_ledger_events_bounds(l, &f, &la), 0);
	assert_int_equal(f, first);
	assert_int_equal(la, last);
}

static void compact(ah_ledger **lp, bool reopen)
{
	ah_ledger *l = *lp;
	size_t n = 99;
	bounds(l, 0, 0);
	assert_int_equal(ah_ledger_events_compact(l, 100, 0, &n), 0);
	assert_int_equal(n, 0);
	events(l, 1, 10); /* seq 1..10 at t 1..10 */
	bounds(l, 1, 10);
	assert_int_equal(ah_ledger_events_compact(l, 5, 0, &n), 0); /* t 1..4 */
	assert_int_equal(n, 4);
	bounds(l, 5, 10);
	assert_int_equal(ah_ledger_events_compact(l, 100, 3, &n), 0); /* all old, keep 3 */
	assert_int_equal(n, 3);
	bounds(l, 8, 10);
	assert_int_equal(ah_ledger_events_compact(l, 100, 5, &n), 0); /* fewer than keep_min */
	assert_int_equal(n, 0);
	bounds(l, 8, 10);
	assert_int_equal(ah_ledger_events_compact(l, 100, -1, &n), AH_EINVAL);

	/* A prefix: an old event after a young one stays (the log from first
	 * on is whole). */
	events(l, 2, 1); /* seq 11 at t 2 */
	assert_int_equal(ah_ledger_events_compact(l, 9, 0, &n), 0); /* seq 8 (t 8) only */
	assert_int_equal(n, 1);
	bounds(l, 9, 11);

	assert_int_equal(ah_ledger_events_compact(l, 100, 0, &n), 0);
	assert_int_equal(n, 3);
	bounds(l, 12, 11); /* all gone; last stays */
	if (reopen) {
		ah_ledger_free(l);
		*lp = l = open_sqlite();
		bounds(l, 12, 11);
	}
	events(l, 50, 1);
	bounds(l, 12, 12);
}

static void test_compact_sqlite(void **state)
{
	compact((ah_ledger **)state, true);
}

static void test_compact_memory(void **state)
{
	compact((ah_ledger **)state, false);
}

/* ---- per-allocation versions ------------------------------------------------------ */

typedef struct {
	int n;
	uint64_t id[8];
	int64_t seq[8];
} versions;

static int collect_version(void *ctx, uint64_t id, int64_t seq)
{
	versions *c = ctx;
	if (c->n < 8) {
		c->id[c->n] = id;
		c->seq[c->n] = seq;
	}
	c->n++;
	return 0;
}

typedef struct {
	uint64_t id;
	int64_t seq;
} last_event;

static int find_last(void *ctx, const ah_event_row *ev)
{
	last_event *c = ctx;
	if (ev->id == c->id)
		c->seq = ev->seq;
	return 0;
}

static int64_t last_seq_of(ah_ledger *l, uint64_t id)
{
	last_event c = {.id = id};
	assert_int_equal(ah_ledger_events(l, NULL, find_last, &c), 0);
	return c.seq;
}

static void test_alloc_versions(void **state)
{
	ah_ledger *l = *state;
	ah_policy *pol = fx_policy();
	ah_engine *e;
	ah_decision d;
	assert_int_equal(ah_engine_new(pol, l, 1 * SEC, &e), 0);
	ah_request big = fx_req("a", NULL, 8000, GI), small = fx_req("b", NULL, 1000, GI);
	assert_int_equal(ah_engine_request(e, &big, 2 * SEC, &d), 0); /* id 1, granted */
	assert_int_equal(d.outcome, AH_GRANTED);
	big.queue_timeout_ns = 60 * SEC;
	assert_int_equal(ah_engine_request(e, &big, 3 * SEC, &d), 0); /* id 2, queued */
	assert_int_equal(d.outcome, AH_QUEUED);
	assert_int_equal(ah_engine_request(e, &small, 4 * SEC, &d), 0); /* id 3 */
	assert_int_equal(d.outcome, AH_GRANTED);
	assert_int_equal(ah_engine_release(e, 3, 5 * SEC), 0);

	versions c = {0};
	assert_int_equal(ah_ledger_alloc_versions(l, collect_version, &c), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.id[0], 1);
	assert_int_equal(c.id[1], 2);
	assert_true(c.seq[0] > 0);
	assert_int_equal(c.seq[0], last_seq_of(l, 1));
	assert_int_equal(c.seq[1], last_seq_of(l, 2));
	assert_true(c.seq[1] > c.seq[0]);

	/* Release 1: 2 is granted from the queue, its version moves on. */
	int64_t queued_at = c.seq[1];
	assert_int_equal(ah_engine_release(e, 1, 6 * SEC), 0);
	memset(&c, 0, sizeof c);
	assert_int_equal(ah_ledger_alloc_versions(l, collect_version, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.id[0], 2);
	assert_true(c.seq[0] > queued_at);
	assert_int_equal(c.seq[0], last_seq_of(l, 2));

	/* Its events compacted away: still listed, at 0. */
	size_t n;
	assert_int_equal(ah_ledger_events_compact(l, INT64_MAX, 0, &n), 0);
	memset(&c, 0, sizeof c);
	assert_int_equal(ah_ledger_alloc_versions(l, collect_version, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.seq[0], 0);
	ah_engine_free(e);
	free(pol);
}

/* The memory store's bounds: a full idempotency table drops its oldest
 * rows (never the open transaction's); its live-id table survives heavy
 * churn (deletes in any order). */
static void test_memory_bounds(void **state)
{
	ah_ledger *l = *state;
	char key[32];
	idem_seen c = {0};
	for (int i = 0; i <= 65536; i++) {
		snprintf(key, sizeof key, "k%d", i);
		ah_idem_row r = idem("ci", key, i, "{}");
		assert_int_equal(ah_ledger_idem_put(l, &r), 0);
	}
	assert_int_equal(ah_ledger_idem_get(l, "ci", "k0", collect_idem, &c), AH_ENOENT);
	assert_int_equal(ah_ledger_idem_get(l, "ci", "k65536", collect_idem, &c), 0);
	assert_int_equal(ah_ledger_idem_get(l, "ci", "k9000", collect_idem, &c), 0);

	ah_ledger_row row = {.tenant = "a", .pool = "p", .klass = "standard"};
	for (uint64_t id = 1; id <= 5000; id++) {
		row.id = id;
		assert_int_equal(l->ops->put_alloc(l, &row), 0);
	}
	for (uint64_t id = 1; id <= 5000; id++)
		if (id % 3 || id % 7 == 0)
			assert_int_equal(l->ops->del_alloc(l, (id * 7919) % 5000 + 1), 0);
	versions v = {0};
	assert_int_equal(ah_ledger_alloc_versions(l, collect_version, &v), 0);
	int live = 0; /* 7919 is prime to 5000: each k deletes a distinct id */
	for (uint64_t k = 1; k <= 5000; k++)
		live += !(k % 3 || k % 7 == 0);
	assert_int_equal(v.n, live);
}

/* ---- an old ledger, upgraded ---------------------------------------------------------- */

static int user_version(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int v = -1;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void test_v1_upgrades(void **state)
{
	(void)state;
	const char *src = getenv("AHEAD_SRC");
	char from[512], cmd[1400];
	db_fixture_path(dbpath, sizeof dbpath, "api-records-v1");
	db_fixture_unlink(dbpath);
	snprintf(from, sizeof from, "%s/tests/data/ledger-v1.db", src ? src : ".");
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, dbpath);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(user_version(dbpath), 1);
	ah_ledger *l = open_sqlite();
	assert_int_equal(user_version(dbpath), 7);

	/* The fixture's live allocations 1, 2, 3, 6 and queued 5, each with
	 * its newest event. */
	versions v = {0};
	assert_int_equal(ah_ledger_alloc_versions(l, collect_version, &v), 0);
	assert_int_equal(v.n, 5);
	uint64_t want[] = {1, 2, 3, 5, 6};
	for (int i = 0; i < 5; i++) {
		assert_int_equal(v.id[i], want[i]);
		assert_int_equal(v.seq[i], last_seq_of(l, want[i]));
		assert_true(v.seq[i] > 0);
	}
	int64_t first, last;
	assert_int_equal(ah_ledger_events_bounds(l, &first, &last), 0);
	assert_int_equal(first, 1);
	assert_int_equal(last, 12);

	ah_token_row t = token("tk-1", "root", AH_ROLE_ADMIN, "", 1);
	assert_int_equal(ah_ledger_token_put(l, &t), 0);
	audit(l, 1, "tk-1", 200);
	ah_idem_row r = idem("root", "k", 1, "{}");
	assert_int_equal(ah_ledger_idem_put(l, &r), 0);
	assert_int_equal(ah_ledger_idem_put(l, &r), AH_EEXIST);
	size_t n;
	assert_int_equal(ah_ledger_events_compact(l, INT64_MAX, 2, &n), 0);
	assert_int_equal(n, 10);
	ah_ledger_free(l);

	l = open_sqlite();
	uint64_t gen;
	assert_int_equal(ah_ledger_token_generation(l, &gen), 0);
	assert_int_equal(gen, 1);
	token_list tl = {0};
	assert_int_equal(ah_ledger_token_list(l, collect_token, &tl), 0);
	assert_int_equal(tl.n, 1);
	audit_list al = {0};
	assert_int_equal(ah_ledger_audit_list(l, NULL, collect_audit, &al), 0);
	assert_int_equal(al.n, 1);
	idem_seen c = {0};
	assert_int_equal(ah_ledger_idem_get(l, "root", "k", collect_idem, &c), 0);
	assert_int_equal(ah_ledger_events_bounds(l, &first, &last), 0);
	assert_int_equal(first, 11);
	assert_int_equal(last, 12);
	ah_ledger_free(l);
	db_fixture_unlink(dbpath);
}

/* ---- a store without the operations --------------------------------------------------- */

static int no_begin(ah_ledger *l)
{
	(void)l;
	return 0;
}

static void test_unsupported(void **state)
{
	(void)state;
	static const ah_ledger_ops bare = {.begin = no_begin};
	ah_ledger l = {.ops = &bare};
	uint64_t gen;
	int64_t a, b;
	size_t n;
	ah_token_row t = token("tk-1", "root", AH_ROLE_ADMIN, "", 1);
	ah_idem_row r = idem("s", "k", 1, "{}");
	assert_int_equal(ah_ledger_token_put(&l, &t), AH_EUNSUPPORTED);
	assert_int_equal(ah_ledger_token_list(&l, collect_token, NULL), AH_EUNSUPPORTED);
	assert_int_equal(ah_ledger_token_generation(&l, &gen), AH_EUNSUPPORTED);
	audit_list al;
	ah_audit_row ar = {.who = "x"};
	assert_int_equal(ah_ledger_audit_put(&l, &ar), AH_EUNSUPPORTED);
	assert_int_equal(ah_ledger_audit_list(&l, NULL, collect_audit, &al), AH_EUNSUPPORTED);
	assert_int_equal(ah_ledger_idem_put(&l, &r), AH_EUNSUPPORTED);
	assert_int_equal(ah_ledger_idem_get(&l, "s", "k", collect_idem, NULL), AH_EUNSUPPORTED);
	assert_int_equal(ah_ledger_idem_sweep(&l, 1, &n), AH_EUNSUPPORTED);
	assert_int_equal(ah_ledger_events_compact(&l, 1, 0, &n), AH_EUNSUPPORTED);
	assert_int_equal(ah_ledger_events_bounds(&l, &a, &b), AH_EUNSUPPORTED);
	assert_int_equal(ah_ledger_alloc_versions(&l, collect_version, NULL), AH_EUNSUPPORTED);
}

#define BOTH(fn)                                                                                               \
	cmocka_unit_test_setup_teardown(fn, setup_sqlite, teardown),                                           \
		cmocka_unit_test_setup_teardown(fn, setup_memory, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles),
		BOTH(test_tokens),
		cmocka_unit_test_setup_teardown(test_token_generation_across_handles, setup_sqlite, teardown),
		BOTH(test_audit),
		cmocka_unit_test_setup_teardown(test_audit_append_only, setup_sqlite, teardown),
		BOTH(test_idem),
		cmocka_unit_test_setup_teardown(test_idem_txn_sqlite, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_idem_txn_memory, setup_memory, teardown),
		cmocka_unit_test_setup_teardown(test_idem_failed_commit_memory, setup_memory, teardown),
		cmocka_unit_test_setup_teardown(test_compact_sqlite, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_compact_memory, setup_memory, teardown),
		BOTH(test_alloc_versions),
		cmocka_unit_test_setup_teardown(test_memory_bounds, setup_memory, teardown),
		cmocka_unit_test(test_v1_upgrades),
		cmocka_unit_test(test_unsupported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
