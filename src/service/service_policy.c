/* Applying a policy, reading the applied one, and reading events: calls on
 * a ledger file that need no engine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ahead/error.h"
#include "ahead/ledger_etcd.h"
#include "ahead/ledger_sqlite.h"
#include "service/service_int.h"

/* Every live row must still make sense under the new policy. */
typedef struct {
	const ah_policy *p;
	char err[256];
} check_ctx;

static int check_row(check_ctx *c, const ah_ledger_row *r, const char *what)
{
	const char *drop = ah_policy_find_pool(c->p, r->pool) < 0	? "pool"
			   : ah_policy_find_class(c->p, r->klass) < 0 ? "class"
			   : ah_policy_find_tenant(c->p, r->tenant) < 0 && !c->p->unknown_tenants ? "tenant"
											   : NULL;
	if (!drop)
		return 0;
	const char *name = *drop == 'p' ? r->pool : *drop == 'c' ? r->klass : r->tenant;
	snprintf(c->err, sizeof c->err, "%s %llu %s %s '%s', which the new policy drops", what,
		 (unsigned long long)r->id, *drop == 't' ? "belongs to" : *drop == 'p' ? "is in" : "has", drop, name);
	return AH_EPOLICY;
}

static int check_alloc(void *ctx, const ah_ledger_row *r)
{
	return check_row(ctx, r, "allocation");
}

static int check_queued(void *ctx, const ah_ledger_row *r)
{
	return check_row(ctx, r, "queued request");
}

int ah_service_policy_apply(const char *db_path, const char *text, size_t len, const char *name, int64_t now_ns,
			    ah_policy **out_policy, char *err, size_t errlen)
{
	ah_policy *p = NULL;
	ah_ledger *led = NULL;
	bool in_txn = false;
	int rc;
	if (memchr(text, 0, len)) {
		snprintf(err, errlen, "%s: contains NUL bytes: not a policy file", name);
		return AH_EPARSE;
	}
	if ((rc = ah_policy_load_string(text, len, name, &p, err, errlen)) < 0)
		return rc == AH_ENOMEM ? rc : AH_EPARSE;
	if ((rc = ah_service_ledger_open(db_path, p->durability, false, &led, err, errlen)) < 0)
		goto out;
	led->dims = &p->dims;
	if ((rc = led->ops->begin(led)) < 0) {
		snprintf(err, errlen, "%s: %s", db_path, ah_ledger_errmsg(led));
		goto out;
	}
	in_txn = true;
	check_ctx cc = {.p = p};
	ah_ledger_loader ld = {.ctx = &cc, .alloc = check_alloc, .queued = check_queued};
	uint64_t next;
	if ((rc = led->ops->load(led, &p->dims, &ld, &next)) < 0) {
		snprintf(err, errlen, "%s: not applied: %s", name, cc.err[0] ? cc.err : ah_ledger_errmsg(led));
		if (cc.err[0] || rc == AH_ESTATE)
			rc = AH_EPOLICY;
		goto out;
	}
	if ((rc = ah_ledger_policy_put(led, text, p, now_ns)) < 0 || (rc = led->ops->commit(led)) < 0) {
		snprintf(err, errlen, "%s: %s", db_path, ah_ledger_errmsg(led));
		goto out;
	}
	in_txn = false;
	if (out_policy) {
		*out_policy = p;
		p = NULL;
	}
out:
	if (in_txn)
		led->ops->rollback(led);
	ah_ledger_free(led);
	ah_policy_free(p);
	return rc;
}

/* Read-only calls never create a ledger where there is none. */
static int open_existing(const char *db_path, ah_ledger **led, char *err, size_t errlen)
{
	struct stat st;
	if (ah_ledger_etcd_url(db_path))
		return ah_service_ledger_open(db_path, AH_DURABILITY_PROCESS, false, led, err, errlen);
	if (stat(db_path, &st) != 0) {
		snprintf(err, errlen, "%s: no such ledger (apply a policy first: ahead policy apply FILE)", db_path);
		return AH_ENOENT;
	}
	return ah_ledger_sqlite_open(db_path, AH_DURABILITY_PROCESS, led, err, errlen);
}

int ah_service_policy_text(const char *db_path, char **out_text, int64_t *out_applied_ns, char *err, size_t errlen)
{
	ah_ledger *led = NULL;
	int rc = open_existing(db_path, &led, err, errlen);
	if (rc < 0)
		return rc;
	rc = ah_ledger_policy_get(led, out_text, out_applied_ns);
	if (rc == AH_ENOENT)
		snprintf(err, errlen, "%s: no policy applied yet", db_path);
	else if (rc < 0)
		snprintf(err, errlen, "%s: %s", db_path, ah_ledger_errmsg(led));
	ah_ledger_free(led);
	return rc;
}

typedef struct {
	int (*fn)(void *ctx, const ah_service_event *ev);
	void *ctx;
} ev_ctx;

static int pass_event(void *ctx, const ah_event_row *r)
{
	ev_ctx *c = ctx;
	ah_service_event ev = {.seq = r->seq, .t_ns = r->t_ns, .kind = r->kind, .tenant = r->tenant, .pool = r->pool,
			       .klass = r->klass, .resources = r->resources, .reason = r->reason,
			       .detail = r->detail, .id = r->id, .data = r->data};
	return c->fn(c->ctx, &ev);
}

int ah_service_events(const char *db_path, const ah_event_filter *f,
		      int (*fn)(void *ctx, const ah_service_event *ev), void *ctx, char *err, size_t errlen)
{
	ah_ledger *led = NULL;
	int rc = open_existing(db_path, &led, err, errlen);
	if (rc < 0)
		return rc;
	ev_ctx c = {.fn = fn, .ctx = ctx};
	ah_event_query q = {.after_seq = f ? f->after_seq : 0, .limit = f ? f->limit : 0, .id = f ? f->id : 0,
			    .since_ns = f ? f->since_ns : 0};
	rc = ah_ledger_events(led, &q, pass_event, &c);
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", db_path, ah_ledger_errmsg(led));
	ah_ledger_free(led);
	return rc;
}

int ah_service_backup(const char *db_path, const char *dest_path, char *err, size_t errlen)
{
	ah_ledger *led = NULL;
	int rc = open_existing(db_path, &led, err, errlen);
	if (rc < 0)
		return rc;
	rc = ah_ledger_sqlite_backup(led, dest_path, err, errlen);
	ah_ledger_free(led);
	return rc;
}

int ah_service_restore(const char *backup_path, const char *db_path, char *err, size_t errlen)
{
	struct stat st;
	if (stat(backup_path, &st) != 0) {
		snprintf(err, errlen, "%s: no such backup file", backup_path);
		return AH_ENOENT;
	}
	return ah_ledger_sqlite_restore(backup_path, db_path, err, errlen);
}
