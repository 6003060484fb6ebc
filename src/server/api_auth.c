/* Bearer tokens: 256 random bits from the OS, shown once, kept only as the
 * SHA-256 of the whole token and compared in constant time. A token reads
 * "ahead_<id>_<secret>": the id (public, 16 hex digits) finds its row, so
 * checking one costs one hash whatever the number of tokens. Roles: admin,
 * operator, tenant (bound to one tenant), viewer; an expiry per token;
 * rotation makes a new token of the same name and lets the old one live
 * for a grace period, so clients switch without downtime. */
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ahead/duration.h"
#include "ahead/error.h"
#include "ahead/names.h"
#include "server/api_int.h"

#define TOKEN_PREFIX "ahead_"
#define ID_HEX 16
#define SECRET_BYTES 32
/* how often a daemon looks for tokens changed by `ahead token` elsewhere */
#define TOKEN_RECHECK_NS INT64_C(1000000000)

void api_sha256(const void *data, size_t len, uint8_t out[32])
{
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, out) < 0)
		memset(out, 0, 32);
}

bool api_ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	volatile uint8_t d = 0;
	for (size_t i = 0; i < n; i++)
		d |= (uint8_t)(a[i] ^ b[i]);
	return d == 0;
}

static int random_bytes(uint8_t *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = getrandom(buf + got, n - got, 0);
		if (r < 0)
			return AH_EIO;
		got += (size_t)r;
	}
	return 0;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ---- the token table ---- */

static int collect(void *ctx, const ah_token_row *t)
{
	api_tokens *tk = ctx;
	if (tk->n == tk->cap) {
		size_t cap = tk->cap ? tk->cap * 2 : 16;
		ah_token_row *r = realloc(tk->rows, cap * sizeof *r);
		if (!r)
			return AH_ENOMEM;
		tk->rows = r;
		tk->cap = cap;
	}
	tk->rows[tk->n++] = *t;
	return 0;
}

int api_tokens_load(ah_api *a)
{
	ah_ledger *l = ah_service_ledger_get(a->svc);
	uint64_t gen = 0;
	int rc = ah_ledger_token_generation(l, &gen);
	if (rc < 0)
		return rc;
	if (a->tokens.loaded && gen == a->tokens.generation)
		return 0;
	a->tokens.n = 0;
	if ((rc = ah_ledger_token_list(l, collect, &a->tokens)) < 0)
		return rc;
	a->tokens.generation = gen;
	a->tokens.loaded = true;
	return 0;
}

void api_tokens_fini(api_tokens *t)
{
	free(t->rows);
	gnutls_memset(t, 0, sizeof *t);
}

/* The SHA-256 of a well-formed token (n bytes, fixed length), memoised by
 * its public id: the slot is reused only when the whole token matches (in
 * constant time), so a wrong secret is hashed and fails as before. The
 * tokens kept here are the ones requests carry anyway; the ledger still
 * keeps only hashes. */
static void token_hash(api_tokens *tk, const char *tok, size_t n, uint8_t h[32])
{
	size_t slot = 0;
	for (size_t i = 0; i < ID_HEX; i++)
		slot = slot * 31 + (unsigned char)tok[sizeof TOKEN_PREFIX - 1 + i];
	slot %= sizeof tk->memo / sizeof tk->memo[0];
	_Static_assert(sizeof tk->memo[0].token > sizeof TOKEN_PREFIX + ID_HEX + 1 + 2 * SECRET_BYTES, "memo slot");
	char *m = tk->memo[slot].token;
	if (m[0] && api_ct_equal((const uint8_t *)m, (const uint8_t *)tok, n)) {
		memcpy(h, tk->memo[slot].hash, 32);
		return;
	}
	api_sha256(tok, n, h);
	memcpy(m, tok, n);
	m[n] = '\0';
	memcpy(tk->memo[slot].hash, h, 32);
}

int api_authenticate(ah_api *a, const char *authorization, int64_t now_ns, api_principal *who, const char **why)
{
	memset(who, 0, sizeof *who);
	snprintf(who->id, sizeof who->id, "-");
	if (a->tokens.checked_ns == INT64_MIN || now_ns - a->tokens.checked_ns >= TOKEN_RECHECK_NS ||
	    now_ns < a->tokens.checked_ns) {
		int rc = api_tokens_load(a);
		if (rc < 0)
			return rc;
		a->tokens.checked_ns = now_ns;
	}
	if (!authorization) {
		*why = "a bearer token is required (Authorization: Bearer TOKEN)";
		return 0;
	}
	const char *tok = authorization;
	if (strncasecmp(tok, "Bearer ", 7)) {
		*why = "the Authorization header must be 'Bearer TOKEN'";
		return 0;
	}
	tok += 7;
	while (*tok == ' ')
		tok++;
	size_t n = strlen(tok);
	const size_t plen = sizeof TOKEN_PREFIX - 1;
	if (n != plen + ID_HEX + 1 + 2 * SECRET_BYTES || strncmp(tok, TOKEN_PREFIX, plen) || tok[plen + ID_HEX] != '_') {
		*why = "not an ahead token";
		return 0;
	}
	char id[40];
	snprintf(id, sizeof id, "tk-%.*s", ID_HEX, tok + plen);
	uint8_t h[32];
	token_hash(&a->tokens, tok, n, h);
	for (size_t i = 0; i < a->tokens.n; i++) {
		const ah_token_row *t = &a->tokens.rows[i];
		if (strcmp(t->id, id))
			continue;
		if (!api_ct_equal(t->hash, h, 32))
			break;
		if (t->revoked_ns) {
			*why = "this token was revoked";
			return 0;
		}
		if (t->expires_ns && now_ns >= t->expires_ns) {
			*why = "this token expired";
			return 0;
		}
		who->authenticated = true;
		/* the row's fields fit these buffers (same caps) */
		memcpy(who->id, t->id, sizeof who->id < sizeof t->id ? sizeof who->id : sizeof t->id);
		who->id[sizeof who->id - 1] = '\0';
		memcpy(who->name, t->name, sizeof who->name);
		memcpy(who->tenant, t->tenant, sizeof who->tenant);
		who->role = t->role;
		return 0;
	}
	*why = "unknown token";
	return 0;
}

int api_token_make(ah_api *a, const char *name, ah_role role, const char *tenant, int64_t expires_ns,
		   const char *rotated_from, int64_t now_ns, ah_token_row *out_row, char *secret, size_t len)
{
	uint8_t idb[ID_HEX / 2], sec[SECRET_BYTES];
	char idh[ID_HEX + 1], sech[2 * SECRET_BYTES + 1];
	if (len < sizeof TOKEN_PREFIX + ID_HEX + 2 + 2 * SECRET_BYTES)
		return AH_EINVAL;
	int rc = random_bytes(idb, sizeof idb);
	if (rc == 0)
		rc = random_bytes(sec, sizeof sec);
	if (rc < 0)
		return rc;
	hex(idb, sizeof idb, idh);
	hex(sec, sizeof sec, sech);
	ah_token_row t;
	memset(&t, 0, sizeof t);
	snprintf(t.id, sizeof t.id, "tk-%s", idh);
	snprintf(t.name, sizeof t.name, "%s", name);
	snprintf(t.tenant, sizeof t.tenant, "%s", tenant ? tenant : "");
	snprintf(t.rotated_from, sizeof t.rotated_from, "%s", rotated_from ? rotated_from : "");
	t.role = role;
	t.created_ns = now_ns;
	t.expires_ns = expires_ns;
	snprintf(secret, len, TOKEN_PREFIX "%s_%s", idh, sech);
	api_sha256(secret, strlen(secret), t.hash);
	gnutls_memset(sec, 0, sizeof sec);
	gnutls_memset(sech, 0, sizeof sech);
	if ((rc = ah_ledger_token_put(ah_service_ledger_get(a->svc), &t)) < 0) {
		gnutls_memset(secret, 0, len);
		return rc;
	}
	if (out_row)
		*out_row = t;
	a->tokens.checked_ns = INT64_MIN; /* reload at the next call */
	return 0;
}

int ah_api_bootstrap_admin(ah_api *a, int64_t now_ns, char *out, size_t len)
{
	int rc = api_tokens_load(a);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < a->tokens.n; i++)
		if (!a->tokens.rows[i].revoked_ns && (!a->tokens.rows[i].expires_ns || a->tokens.rows[i].expires_ns > now_ns))
			return 0;
	if ((rc = api_token_make(a, "admin", AH_ROLE_ADMIN, NULL, 0, NULL, now_ns, NULL, out, len)) < 0)
		return rc;
	if ((rc = api_tokens_load(a)) < 0)
		return rc;
	return 1;
}

json_t *api_json_token(const ah_token_row *t)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(t->id));
	json_object_set_new(o, "name", ah_json_text(t->name));
	json_object_set_new(o, "role", json_string(ah_role_name(t->role)));
	json_object_set_new(o, "tenant", t->tenant[0] ? ah_json_text(t->tenant) : json_null());
	json_object_set_new(o, "created", ah_json_time(t->created_ns));
	json_object_set_new(o, "expires", t->expires_ns ? ah_json_time(t->expires_ns) : json_null());
	json_object_set_new(o, "revoked", t->revoked_ns ? ah_json_time(t->revoked_ns) : json_null());
	json_object_set_new(o, "rotated_from", t->rotated_from[0] ? json_string(t->rotated_from) : json_null());
	return o;
}

/* ---- routes ---- */

void api_token_list(api_call *c)
{
	int rc = api_tokens_load(c->a);
	if (rc < 0) {
		api_error_rc(c, rc, "tokens");
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < c->a->tokens.n; i++)
		json_array_append_new(items, api_json_token(&c->a->tokens.rows[i]));
	api_reply(c, 200, api_json_list(c->a, items));
}

static void created(api_call *c, const ah_token_row *t, const char *secret, const char *outcome)
{
	json_t *o = api_json_token(t);
	json_object_set_new(o, "outcome", json_string(outcome));
	json_object_set_new(o, "token", json_string(secret));
	api_reply(c, 201, o);
}

static const char *const CREATE_FIELDS[] = {"name", "role", "tenant", "expires_in", NULL};

void api_token_create(api_call *c)
{
	const char *name = NULL, *role_s = NULL, *tenant = NULL;
	bool has_n, has_r, has_t, has_e;
	int64_t ttl = 0;
	ah_role role;
	if (!api_body_check(c, CREATE_FIELDS) || !api_body_string(c, "name", AH_NAME_MAX - 1, &name, &has_n) ||
	    !api_body_string(c, "role", 16, &role_s, &has_r) || !api_body_string(c, "tenant", AH_NAME_MAX - 1, &tenant, &has_t) ||
	    !api_body_duration(c, "expires_in", &ttl, &has_e))
		return;
	if (!has_n || ah_name_check_object(name) < 0) {
		api_error(c, 400, "invalid", "name", "name: a token name is required ([A-Za-z0-9][A-Za-z0-9_.-]*)");
		return;
	}
	if (!has_r || ah_role_parse(role_s, &role) < 0) {
		api_error(c, 400, "invalid", "role", "role: admin, operator, tenant or viewer");
		return;
	}
	if ((role == AH_ROLE_TENANT) != has_t || (has_t && ah_name_check_object(tenant) < 0)) {
		api_error(c, 400, "invalid", "tenant", "tenant: %s", role == AH_ROLE_TENANT ? "a tenant token names its tenant" : "only a tenant token names a tenant");
		return;
	}
	char secret[160];
	ah_token_row t;
	int rc = api_token_make(c->a, name, role, tenant, has_e && ttl ? c->now_ns + ttl : 0, NULL, c->now_ns, &t,
				secret, sizeof secret);
	if (rc < 0) {
		api_error_rc(c, rc, "token");
		return;
	}
	created(c, &t, secret, "created");
	gnutls_memset(secret, 0, sizeof secret);
}

static ah_token_row *find_token(api_call *c)
{
	if (api_tokens_load(c->a) < 0)
		return NULL;
	for (size_t i = 0; i < c->a->tokens.n; i++)
		if (!strcmp(c->a->tokens.rows[i].id, c->param))
			return &c->a->tokens.rows[i];
	api_error(c, 404, "not_found", NULL, "no token %.40s", c->param);
	return NULL;
}

void api_token_revoke(api_call *c)
{
	ah_token_row *t = find_token(c);
	if (!t)
		return;
	ah_token_row r = *t;
	if (!r.revoked_ns)
		r.revoked_ns = c->now_ns;
	int rc = ah_ledger_token_put(ah_service_ledger_get(c->a->svc), &r);
	if (rc < 0) {
		api_error_rc(c, rc, "token");
		return;
	}
	c->a->tokens.checked_ns = INT64_MIN;
	json_t *o = api_json_token(&r);
	json_object_set_new(o, "outcome", json_string("revoked"));
	api_reply(c, 200, o);
}

static const char *const ROTATE_FIELDS[] = {"grace", NULL};

void api_token_rotate(api_call *c)
{
	int64_t grace = INT64_C(3600) * 1000000000;
	bool has;
	if (!api_body_check(c, ROTATE_FIELDS) || !api_body_duration(c, "grace", &grace, &has))
		return;
	ah_token_row *t = find_token(c);
	if (!t)
		return;
	if (t->revoked_ns) {
		api_error(c, 409, "conflict", NULL, "token %s is revoked", t->id);
		return;
	}
	ah_token_row old = *t;
	/* the old token lives on for the grace period, then expires */
	if (!old.expires_ns || old.expires_ns > c->now_ns + grace)
		old.expires_ns = c->now_ns + grace;
	char secret[160];
	ah_token_row n;
	int rc = api_token_make(c->a, old.name, old.role, old.tenant, t->expires_ns, old.id, c->now_ns, &n, secret,
				sizeof secret);
	if (rc == 0)
		rc = ah_ledger_token_put(ah_service_ledger_get(c->a->svc), &old);
	if (rc < 0) {
		api_error_rc(c, rc, "token");
		return;
	}
	created(c, &n, secret, "rotated");
	json_t *o = json_loads(c->out->body, 0, NULL);
	if (o) { /* say until when the old one still works */
		json_object_set_new(o, "previous", json_string(old.id));
		json_object_set_new(o, "previous_expires", ah_json_time(old.expires_ns));
		api_reply(c, 201, o);
	}
	gnutls_memset(secret, 0, sizeof secret);
}
