/* ahead: the store-neutral functions of what the API keeps in the ledger
 * (include/ahead/api_records.h): roles, and the argument checks before each
 * store's op, so every store sees rows of the same shape. */
#include <string.h>

#include "ahead/api_records.h"
#include "ahead/error.h"
#include "ahead/names.h"

static const char *const role_names[] = {"viewer", "tenant", "operator", "admin"};
_Static_assert(sizeof(role_names) / sizeof(role_names[0]) == AH_ROLE__COUNT, "role without a name");

const char *ah_role_name(ah_role r)
{
	if ((int)r < 0 || r >= AH_ROLE__COUNT)
		return "unknown";
	return role_names[r];
}

int ah_role_parse(const char *s, ah_role *out)
{
	if (!s || !out)
		return AH_EINVAL;
	for (int i = 0; i < AH_ROLE__COUNT; i++)
		if (!strcmp(s, role_names[i])) {
			*out = (ah_role)i;
			return 0;
		}
	return AH_EINVAL;
}

/* ---- tokens --------------------------------------------------------------- */

/* A token id: 1..AH_TOKEN_ID_MAX-1 of [A-Za-z0-9_.-], NUL inside the buffer. */
static int check_token_id(const char *id, bool may_be_empty)
{
	const char *z = memchr(id, '\0', AH_TOKEN_ID_MAX);
	if (!z)
		return AH_ETOOBIG;
	if (z == id)
		return may_be_empty ? 0 : AH_EINVAL;
	for (const char *c = id; c < z; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' ||
		      *c == '.' || *c == '-'))
			return AH_EINVAL;
	return 0;
}

static int check_token(const ah_token_row *t)
{
	int rc;
	if ((rc = check_token_id(t->id, false)) < 0 || (rc = check_token_id(t->rotated_from, true)) < 0)
		return rc;
	if (!memchr(t->name, '\0', sizeof t->name) || !memchr(t->tenant, '\0', sizeof t->tenant))
		return AH_ETOOBIG;
	if ((rc = ah_name_check_object(t->name)) < 0)
		return rc;
	if ((int)t->role < 0 || t->role >= AH_ROLE__COUNT)
		return AH_EINVAL;
	if (t->role == AH_ROLE_TENANT) {
		if ((rc = ah_name_check_object(t->tenant)) < 0)
			return rc;
	} else if (t->tenant[0]) {
		return AH_EINVAL; /* only a tenant token names a tenant */
	}
	if (t->created_ns < 0 || t->expires_ns < 0 || t->revoked_ns < 0)
		return AH_ERANGE;
	return 0;
}

int ah_ledger_token_put(ah_ledger *l, const ah_token_row *t)
{
	if (!l || !t)
		return AH_EINVAL;
	int rc = check_token(t);
	if (rc < 0)
		return rc;
	return l->ops->token_put ? l->ops->token_put(l, t) : AH_EUNSUPPORTED;
}

int ah_ledger_token_list(ah_ledger *l, int (*fn)(void *ctx, const ah_token_row *t), void *ctx)
{
	if (!l || !fn)
		return AH_EINVAL;
	return l->ops->token_list ? l->ops->token_list(l, fn, ctx) : AH_EUNSUPPORTED;
}

int ah_ledger_token_generation(ah_ledger *l, uint64_t *out_gen)
{
	if (!l || !out_gen)
		return AH_EINVAL;
	return l->ops->token_generation ? l->ops->token_generation(l, out_gen) : AH_EUNSUPPORTED;
}

/* ---- audit ---------------------------------------------------------------- */

/* s, or "" for NULL; AH_ETOOBIG when longer than max bytes. */
static int field(const char *s, size_t max, const char **out)
{
	if (!s)
		s = "";
	if (strnlen(s, max + 1) > max)
		return AH_ETOOBIG;
	*out = s;
	return 0;
}

/* s cut to at most max bytes into buf (max + 1 bytes), never inside a UTF-8
 * sequence; s itself when it fits. */
static const char *cut(const char *s, char *buf, size_t max)
{
	if (!s)
		return "";
	size_t n = strnlen(s, max + 1);
	if (n <= max)
		return s;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) /* s[n] continues a sequence: back off */
		n--;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

int ah_ledger_audit_put(ah_ledger *l, const ah_audit_row *r)
{
	char path[AH_AUDIT_PATH_MAX + 1], detail[AH_AUDIT_DETAIL_MAX + 1];
	if (!l || !r || !r->who || !r->who[0])
		return AH_EINVAL;
	if (r->status < 0 || r->status > 999 || r->t_ns < 0)
		return AH_ERANGE;
	ah_audit_row c = {.t_ns = r->t_ns, .status = r->status};
	int rc;
	if ((rc = field(r->who, AH_TOKEN_ID_MAX - 1, &c.who)) < 0 || (rc = field(r->name, AH_NAME_MAX - 1, &c.name)) < 0 ||
	    (rc = field(r->role, AH_NAME_MAX - 1, &c.role)) < 0 ||
	    (rc = field(r->tenant, AH_NAME_MAX - 1, &c.tenant)) < 0 ||
	    (rc = field(r->source, AH_AUDIT_SOURCE_MAX, &c.source)) < 0 ||
	    (rc = field(r->method, AH_AUDIT_METHOD_MAX, &c.method)) < 0 ||
	    (rc = field(r->outcome, AH_AUDIT_OUTCOME_MAX, &c.outcome)) < 0)
		return rc;
	c.path = cut(r->path, path, AH_AUDIT_PATH_MAX);
	c.detail = cut(r->detail, detail, AH_AUDIT_DETAIL_MAX);
	return l->ops->audit_put ? l->ops->audit_put(l, &c) : AH_EUNSUPPORTED;
}

int ah_ledger_audit_list(ah_ledger *l, const ah_audit_query *q, int (*fn)(void *ctx, const ah_audit_row *r),
			 void *ctx)
{
	static const ah_audit_query all;
	if (!l || !fn)
		return AH_EINVAL;
	return l->ops->audit_list ? l->ops->audit_list(l, q ? q : &all, fn, ctx) : AH_EUNSUPPORTED;
}

/* ---- idempotency keys ----------------------------------------------------- */

static int check_scope_key(const char *scope, const char *key)
{
	if (!scope || !key || !scope[0] || !key[0])
		return AH_EINVAL;
	if (strnlen(scope, AH_NAME_MAX) >= AH_NAME_MAX || strnlen(key, AH_IDEM_KEY_MAX + 1) > AH_IDEM_KEY_MAX)
		return AH_ETOOBIG;
	return 0;
}

int ah_ledger_idem_get(ah_ledger *l, const char *scope, const char *key, int (*fn)(void *ctx, const ah_idem_row *r),
		       void *ctx)
{
	if (!l || !fn)
		return AH_EINVAL;
	int rc = check_scope_key(scope, key);
	if (rc < 0)
		return rc;
	return l->ops->idem_get ? l->ops->idem_get(l, scope, key, fn, ctx) : AH_EUNSUPPORTED;
}

int ah_ledger_idem_put(ah_ledger *l, const ah_idem_row *r)
{
	if (!l || !r || !r->body)
		return AH_EINVAL;
	int rc = check_scope_key(r->scope, r->key);
	if (rc < 0)
		return rc;
	if (strnlen(r->body, AH_IDEM_BODY_MAX + 1) > AH_IDEM_BODY_MAX)
		return AH_ETOOBIG;
	if (r->status < 0 || r->status > 999 || r->t_ns < 0)
		return AH_ERANGE;
	return l->ops->idem_put ? l->ops->idem_put(l, r) : AH_EUNSUPPORTED;
}

int ah_ledger_idem_sweep(ah_ledger *l, int64_t before_ns, size_t *out_n)
{
	if (!l)
		return AH_EINVAL;
	size_t n = 0;
	int rc = l->ops->idem_sweep ? l->ops->idem_sweep(l, before_ns, &n) : AH_EUNSUPPORTED;
	if (rc == 0 && out_n)
		*out_n = n;
	return rc;
}

/* ---- the event log, for watches ------------------------------------------- */

int ah_ledger_events_compact(ah_ledger *l, int64_t before_ns, int64_t keep_min, size_t *out_n)
{
	if (!l || keep_min < 0)
		return AH_EINVAL;
	size_t n = 0;
	int rc = l->ops->events_compact ? l->ops->events_compact(l, before_ns, keep_min, &n) : AH_EUNSUPPORTED;
	if (rc == 0 && out_n)
		*out_n = n;
	return rc;
}

int ah_ledger_events_bounds(ah_ledger *l, int64_t *out_first_seq, int64_t *out_last_seq)
{
	if (!l || !out_first_seq || !out_last_seq)
		return AH_EINVAL;
	int64_t first = 0, last = 0;
	int rc = l->ops->events_bounds ? l->ops->events_bounds(l, &first, &last) : AH_EUNSUPPORTED;
	if (rc == 0) {
		*out_first_seq = first;
		*out_last_seq = last;
	}
	return rc;
}

int ah_ledger_alloc_versions(ah_ledger *l, int (*fn)(void *ctx, uint64_t id, int64_t last_seq), void *ctx)
{
	if (!l || !fn)
		return AH_EINVAL;
	return l->ops->alloc_versions ? l->ops->alloc_versions(l, fn, ctx) : AH_EUNSUPPORTED;
}
