/* ahead: loading and validating the policy file (docs/POLICY.md).
 *
 * Two passes. Pass 1 runs libinih over the text through our own line reader
 * (Debian's inih handler gets no line numbers, so the reader counts lines)
 * and only records sections and "key = value" entries with their line
 * numbers; syntax errors stop here with AH_EPARSE. Pass 2 interprets the
 * record: all [dimension] sections first (so a custom dimension may be used
 * above its declaration), then [ahead], then pools, classes and tenants in
 * file order; any error stops with AH_EPOLICY. Loading is all-or-nothing. */
#include "ahead/policy.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ahead/error.h"
#include "ahead/input_unit.h"
#include "ahead/names.h"
#include "ahead/placement.h"

#define NS_PER_S INT64_C(1000000000)
#define NS_PER_MS INT64_C(1000000)
#define PRIORITY_MAX 1000
#define MAX_QUEUE_MAX 1000000
#define RATE_MAX 1e6
#define BURST_MAX 1e9
#define MARGIN_MAX 10.0
/* Scaling keys: defaults and sanity bounds (a week of lead time or
 * stabilisation is already far outside what a scaler can plan for). */
#define STABILISE_DEFAULT (10 * 60 * NS_PER_S)
#define STABILISE_MAX (7 * 86400 * NS_PER_S)
#define LEAD_TIME_MAX (7 * 86400 * NS_PER_S)
#define HOOK_TIMEOUT_DEFAULT (60 * NS_PER_S)
#define HOOK_TIMEOUT_MAX (3600 * NS_PER_S)
#define HOOK_RETRIES_DEFAULT 3
#define HOOK_RETRIES_MAX 10
/* Caps on what pass 1 stores, so that the checks of pass 2 stay cheap on a
 * hostile 4 MiB file. A valid policy never comes near them: it has at most
 * 1 + 12 + 64 + 16 + 1025 + 64 sections and 18 keys per section, so a file beyond
 * either cap is bound to fail on what was stored (and is refused if not). */
#define MAX_SECTIONS (1 + AH_MAX_DIMS + AH_MAX_POOLS + AH_MAX_CLASSES + AH_MAX_TENANTS + AH_MAX_SOURCES + 1 + 1)
#define MAX_KEYS 32

#include "core/policy_int.h"

static const char *const sec_kind_names[] = {"ahead", "dimension", "pool", "class", "tenant", "source", "linux"};

static int fail(struct loader *L, int rc, int line, const struct section *s, const char *key,
		const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Records the first error as "FILE:LINE: [section] key: reason". */
static int fail(struct loader *L, int rc, int line, const struct section *s, const char *key,
		const char *fmt, ...)
{
	if (L->rc)
		return L->rc;
	L->rc = rc;
	if (!L->err || L->errlen == 0)
		return rc;
	char reason[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	char where[24] = "";
	if (line > 0)
		snprintf(where, sizeof(where), ":%d", line);
	char sec[128] = "";
	if (s)
		snprintf(sec, sizeof(sec), " [%.100s]", s->header);
	char k[80] = "";
	if (key)
		snprintf(k, sizeof(k), " %.64s", key);
	snprintf(L->err, L->errlen, "%.200s%s:%s%s%s %s", L->file, where, sec, k,
		 (s || key) ? ":" : "", reason);
	return rc;
}

/* ---- pass 1: syntax --------------------------------------------------- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static int add_section(struct loader *L, const char *h, size_t hl)
{
	if (L->nsec >= MAX_SECTIONS) {
		L->sec_overflow = true;
		L->cur = -2;
		return 0;
	}
	if (L->nsec == L->capsec) {
		int ncap = L->capsec ? L->capsec * 2 : 16;
		struct section *ns = realloc(L->sec, (size_t)ncap * sizeof(*ns));
		if (!ns)
			return AH_ENOMEM;
		L->sec = ns;
		L->capsec = ncap;
	}
	struct section *s = &L->sec[L->nsec];
	memset(s, 0, sizeof(*s));
	s->header = strndup(h, hl);
	if (!s->header)
		return AH_ENOMEM;
	s->line = L->line;
	L->cur = L->nsec++;
	return 0;
}

/* Looks at one raw line (leading blanks already skipped) before inih does:
 * section headers are recorded here, because inih does not report empty
 * sections and truncates long section names. */
static void check_line(struct loader *L, const char *a, size_t len)
{
	while (len > 0 && is_blank(a[len - 1]))
		len--;
	if (len == 0 || a[0] == ';' || a[0] == '#')
		return;
	if (a[0] == '[') {
		const char *close = memchr(a, ']', len);
		if (!close) {
			fail(L, AH_EPARSE, L->line, NULL, NULL,
			     "section header without closing ']'");
			return;
		}
		const char *rest = close + 1, *end = a + len;
		while (rest < end && is_blank(*rest))
			rest++;
		if (rest < end && *rest != ';' && *rest != '#') {
			fail(L, AH_EPARSE, L->line, NULL, NULL,
			     "unexpected text after ']' in section header");
			return;
		}
		const char *h = a + 1, *he = close;
		while (h < he && is_blank(*h))
			h++;
		while (he > h && is_blank(he[-1]))
			he--;
		if (add_section(L, h, (size_t)(he - h)) != 0)
			fail(L, AH_ENOMEM, 0, NULL, NULL, "out of memory");
		return;
	}
	if (!memchr(a, '=', len) && !memchr(a, ':', len))
		fail(L, AH_EPARSE, L->line, NULL, NULL,
		     "expected 'key = value' or '[section]', got '%.*s%s'", len > 40 ? 40 : (int)len,
		     a, len > 40 ? "..." : "");
}

/* fgets-like reader over the in-memory text; one call is one line. */
static char *reader(char *str, int num, void *stream)
{
	struct loader *L = stream;
	if (L->p >= L->end || num < 3)
		return NULL;
	const char *a = L->p;
	const char *nl = memchr(a, '\n', (size_t)(L->end - a));
	const char *b = nl ? nl : L->end;
	L->p = nl ? nl + 1 : L->end;
	L->line++;
	/* Leading blanks are dropped so that inih never takes an indented
	 * line as a continuation of the previous value. */
	while (a < b && is_blank(*a))
		a++;
	size_t len = (size_t)(b - a);
	/* inih needs room for the line, '\n' and '\0' */
	if (len + 3 > (size_t)num) {
		fail(L, AH_EPARSE, L->line, NULL, NULL, "line too long (%zu characters, at most %d)",
		     len, num - 3);
		str[0] = '\n';
		str[1] = '\0';
		return str;
	}
	memcpy(str, a, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	if (!L->rc)
		check_line(L, a, len);
	return str;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct loader *L = user;
	(void)section; /* we track sections ourselves (see check_line) */
	if (L->rc || L->cur == -2)
		return 1;
	if (L->cur < 0) {
		fail(L, AH_EPARSE, L->line, NULL, name,
		     "key outside of any section (add a [section] header above it)");
		return 1;
	}
	struct section *s = &L->sec[L->cur];
	if (!name[0]) {
		fail(L, AH_EPARSE, L->line, s, NULL, "missing key name before '='");
		return 1;
	}
	if (s->n >= MAX_KEYS) {
		s->overflow = true;
		return 1;
	}
	if (s->n == s->cap) {
		int ncap = s->cap ? s->cap * 2 : 8;
		struct entry *ne = realloc(s->e, (size_t)ncap * sizeof(*ne));
		if (!ne) {
			fail(L, AH_ENOMEM, 0, NULL, NULL, "out of memory");
			return 1;
		}
		s->e = ne;
		s->cap = ncap;
	}
	struct entry *e = &s->e[s->n];
	e->key = strdup(name);
	e->value = strdup(value ? value : "");
	e->line = L->line;
	if (!e->key || !e->value) {
		free(e->key);
		free(e->value);
		fail(L, AH_ENOMEM, 0, NULL, NULL, "out of memory");
		return 1;
	}
	s->n++;
	return 1;
}

/* ---- value parsers ---------------------------------------------------- */

static int get_vec(struct loader *L, const struct section *s, const struct entry *e, ah_vec *out,
		   bool mask[AH_MAX_DIMS])
{
	char why[512];
	ah_vec v;
	int rc = ah_vec_parse(&L->P->dims, e->value, &v, why, sizeof(why));
	if (rc)
		return fail(L, AH_EPOLICY, e->line, s, e->key, "%s", why);
	/* which dimensions were named (ah_vec_parse has validated the syntax) */
	for (int d = 0; d < AH_MAX_DIMS; d++)
		mask[d] = false;
	const char *p = e->value;
	for (;;) {
		const char *comma = strchr(p, ',');
		const char *eq = strchr(p, '=');
		if (eq && (!comma || eq < comma)) {
			const char *a = p, *b = eq;
			while (a < b && isspace((unsigned char)*a))
				a++;
			while (b > a && isspace((unsigned char)b[-1]))
				b--;
			char name[AH_NAME_MAX];
			size_t n = (size_t)(b - a);
			if (n < sizeof(name)) {
				memcpy(name, a, n);
				name[n] = '\0';
				int d = ah_dimset_find(&L->P->dims, name);
				if (d >= 0)
					mask[d] = true;
			}
		}
		if (!comma)
			break;
		p = comma + 1;
	}
	*out = v;
	return 0;
}

static int get_duration(struct loader *L, const struct section *s, const struct entry *e,
			int64_t *out)
{
	int rc = ah_duration_parse(e->value, out);
	if (rc == AH_ERANGE)
		return fail(L, AH_EPOLICY, e->line, s, e->key, "duration '%.40s' is out of range",
			    e->value);
	if (rc)
		return fail(L, AH_EPOLICY, e->line, s, e->key,
			    "bad duration '%.40s' (write e.g. 250ms, 30s, 5m, 1h, 2d or plain seconds)",
			    e->value);
	return 0;
}

static int get_int(struct loader *L, const struct section *s, const struct entry *e, long lo,
		   long hi, int *out)
{
	const char *v = e->value;
	if (v[0] == '-')
		return fail(L, AH_EPOLICY, e->line, s, e->key, "must not be negative (got '%.40s')",
			    v);
	size_t n = strlen(v);
	if (n == 0 || n > 9 || strspn(v, "0123456789") != n)
		return fail(L, AH_EPOLICY, e->line, s, e->key,
			    "expected a whole number from %ld to %ld, got '%.40s'", lo, hi, v);
	long x = strtol(v, NULL, 10);
	if (x < lo || x > hi)
		return fail(L, AH_EPOLICY, e->line, s, e->key, "%ld is out of range (%ld to %ld)", x,
			    lo, hi);
	*out = (int)x;
	return 0;
}

/* A plain decimal number "D+(.D+)?": no sign, exponent, hex, inf or nan. */
static int get_num(struct loader *L, const struct section *s, const struct entry *e,
		   double *out)
{
	const char *v = e->value;
	if (v[0] == '-')
		return fail(L, AH_EPOLICY, e->line, s, e->key, "must not be negative (got '%.40s')",
			    v);
	size_t n = strlen(v), i = strspn(v, "0123456789");
	bool ok = i > 0 && n <= 40;
	if (ok && i < n) {
		size_t f = v[i] == '.' ? strspn(v + i + 1, "0123456789") : 0;
		ok = f > 0 && i + 1 + f == n;
	}
	if (!ok)
		return fail(L, AH_EPOLICY, e->line, s, e->key,
			    "expected a decimal number such as 0.95, got '%.40s'", v);
	*out = strtod(v, NULL);
	return 0;
}

static int get_bool(struct loader *L, const struct section *s, const struct entry *e, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	for (int i = 0; i < 4; i++) {
		if (strcasecmp(e->value, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(e->value, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return fail(L, AH_EPOLICY, e->line, s, e->key, "expected true or false, got '%.40s'",
		    e->value);
}

/* "D+(.D+)?" of exactly n characters: the decimal syntax of get_num. */
static bool parse_decimal(const char *v, size_t n, double *out)
{
	size_t i = 0;
	while (i < n && isdigit((unsigned char)v[i]))
		i++;
	if (i == 0 || n > 40)
		return false;
	if (i < n) {
		if (v[i] != '.')
			return false;
		size_t j = i + 1;
		while (j < n && isdigit((unsigned char)v[j]))
			j++;
		if (j == i + 1 || j != n)
			return false;
	}
	char buf[48];
	memcpy(buf, v, n);
	buf[n] = '\0';
	*out = strtod(buf, NULL);
	return true;
}

/* The quantity a price without "/QUANTITY" is for: one core, one GiB, one
 * MiB/s, one Mbit/s, one unit. Prices per base unit (per byte-hour) would
 * be unreadably small numbers, and the file has no exponent notation. */
static int64_t cost_reference(ah_unit_kind k)
{
	switch (k) {
	case AH_UNIT_CPU:
		return 1000;
	case AH_UNIT_BYTES:
		return (int64_t)1 << 30;
	case AH_UNIT_BYTES_PER_S:
		return (int64_t)1 << 20;
	case AH_UNIT_BITS_PER_S:
		return 1000000;
	case AH_UNIT_COUNT:
	default:
		return 1;
	}
}

#define COST_MAX 1e9

/* Prices: "PRICE" (each dimension, per reference quantity) or
 * "dim=PRICE[/QUANTITY], ..." (dimensions left out cost nothing). Stored
 * per base unit, so the scaler never needs to know how the file priced. */
static int get_cost(struct loader *L, const struct section *s, const struct entry *e,
		    double out[AH_MAX_DIMS])
{
	const ah_policy *P = L->P;
	double c[AH_MAX_DIMS] = {0};
	bool seen[AH_MAX_DIMS] = {false};
	const char *v = e->value;
	if (!strchr(v, '=')) {
		double price;
		if (strchr(v, '/'))
			return fail(L, AH_EPOLICY, e->line, s, e->key,
				    "a single price is per core, GiB, MiB/s, Mbit/s or unit of each "
				    "dimension; to price another quantity name the dimension "
				    "(e.g. memory=0.5/100Gi)");
		if (!parse_decimal(v, strlen(v), &price) || price > COST_MAX)
			return fail(L, AH_EPOLICY, e->line, s, e->key,
				    "expected a price such as 0.04 (at most %g) or dim=PRICE[/QUANTITY], "
				    "got '%.40s'", COST_MAX, v);
		for (int d = 0; d < P->dims.n; d++)
			c[d] = price / (double)cost_reference(P->dims.kind[d]);
		memcpy(out, c, sizeof(c));
		return 0;
	}
	const char *p = v;
	for (;;) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		const char *a = p, *b = end;
		while (a < b && is_blank(*a))
			a++;
		while (b > a && is_blank(b[-1]))
			b--;
		const char *eq = memchr(a, '=', (size_t)(b - a));
		if (!eq)
			return fail(L, AH_EPOLICY, e->line, s, e->key,
				    "expected dim=PRICE[/QUANTITY], got '%.*s'",
				    (int)((b - a) > 40 ? 40 : (b - a)), a);
		const char *ne = eq;
		while (ne > a && is_blank(ne[-1]))
			ne--;
		char name[AH_NAME_MAX];
		size_t nl = (size_t)(ne - a);
		if (nl == 0 || nl >= sizeof(name))
			return fail(L, AH_EPOLICY, e->line, s, e->key, "missing or too long dimension name");
		memcpy(name, a, nl);
		name[nl] = '\0';
		int d = ah_dimset_find(&P->dims, name);
		if (d < 0)
			return fail(L, AH_EPOLICY, e->line, s, e->key, "%s: unknown dimension", name);
		if (seen[d])
			return fail(L, AH_EPOLICY, e->line, s, e->key, "%s: appears twice", name);
		seen[d] = true;
		const char *pv = eq + 1;
		while (pv < b && is_blank(*pv))
			pv++;
		const char *slash = memchr(pv, '/', (size_t)(b - pv));
		const char *pe = slash ? slash : b;
		double price;
		if (!parse_decimal(pv, (size_t)(pe - pv), &price) || price > COST_MAX)
			return fail(L, AH_EPOLICY, e->line, s, e->key,
				    "%s: expected a price such as 0.04 (at most %g), got '%.*s'", name,
				    COST_MAX, (int)((pe - pv) > 40 ? 40 : (pe - pv)), pv);
		int64_t qty = cost_reference(P->dims.kind[d]);
		if (slash) {
			char qs[72];
			size_t ql = (size_t)(b - slash - 1);
			if (ql == 0 || ql >= sizeof(qs))
				return fail(L, AH_EPOLICY, e->line, s, e->key,
					    "%s: missing or too long quantity after '/'", name);
			memcpy(qs, slash + 1, ql);
			qs[ql] = '\0';
			if (ah_unit_parse(P->dims.kind[d], qs, &qty) != 0 || qty <= 0)
				return fail(L, AH_EPOLICY, e->line, s, e->key,
					    "%s: bad quantity '%.40s' (a %s value above 0)", name, qs,
					    ah_unit_kind_name(P->dims.kind[d]));
		}
		c[d] = price / (double)qty;
		if (!comma)
			break;
		p = comma + 1;
	}
	memcpy(out, c, sizeof(c));
	return 0;
}

/* A duration within [lo, hi]; named in the error with its limits. */
static int get_duration_in(struct loader *L, const struct section *s, const struct entry *e,
			   int64_t lo, int64_t hi, int64_t *out)
{
	int64_t v;
	if (get_duration(L, s, e, &v))
		return L->rc;
	if (v < lo || v > hi) {
		char a[32], b[32];
		ah_duration_format(lo, a, sizeof(a));
		ah_duration_format(hi, b, sizeof(b));
		return fail(L, AH_EPOLICY, e->line, s, e->key, "%.40s is out of range (%s to %s)",
			    e->value, a, b);
	}
	*out = v;
	return 0;
}

/* The hook runs without a shell: words split on blanks, no quoting, no
 * PATH lookup (an absolute path says exactly which program the scaler may
 * start on the operator's behalf). */
static int get_hook(struct loader *L, const struct section *s, const struct entry *e, char *out,
		    size_t len)
{
	const char *v = e->value;
	size_t n = strlen(v);
	if (n == 0)
		return fail(L, AH_EPOLICY, e->line, s, e->key, "empty command");
	if (n >= len)
		return fail(L, AH_EPOLICY, e->line, s, e->key, "command too long (at most %zu characters)",
			    len - 1);
	if (v[0] != '/')
		return fail(L, AH_EPOLICY, e->line, s, e->key,
			    "'%.40s' is not an absolute path (the hook runs without a shell or PATH lookup)",
			    v);
	if (strpbrk(v, "\"'\\`"))
		return fail(L, AH_EPOLICY, e->line, s, e->key,
			    "quotes and backslashes are not allowed (no shell: arguments are split on blanks)");
	int words = 0;
	for (size_t i = 0; i < n; i++)
		if (!is_blank(v[i]) && (i == 0 || is_blank(v[i - 1])))
			words++;
	if (words > AH_SCALE_HOOK_MAX_ARGS - 5)
		return fail(L, AH_EPOLICY, e->line, s, e->key, "too many words (at most %d)",
			    AH_SCALE_HOOK_MAX_ARGS - 5);
	memcpy(out, v, n + 1);
	return 0;
}

static void fmt_val(const ah_policy *P, int d, int64_t v, char *buf, size_t len)
{
	if (ah_unit_format(P->dims.kind[d], v, buf, len) != 0)
		snprintf(buf, len, "?");
}

/* ---- pass 2: sections ------------------------------------------------- */

static int parse_header(struct loader *L, struct section *s)
{
	char tok[3][128];
	int nt = 0;
	const char *p = s->header;
	while (*p) {
		while (*p && is_blank(*p))
			p++;
		if (!*p)
			break;
		const char *q = p;
		while (*q && !is_blank(*q))
			q++;
		if (nt < 3) {
			size_t l = (size_t)(q - p);
			if (l >= sizeof(tok[0]))
				l = sizeof(tok[0]) - 1;
			memcpy(tok[nt], p, l);
			tok[nt][l] = '\0';
		}
		nt++;
		p = q;
	}
	if (nt == 0)
		return fail(L, AH_EPOLICY, s->line, s, NULL, "empty section name");
	int kind = -1;
	for (int k = 0; k < N_SEC_KINDS; k++)
		if (strcmp(tok[0], sec_kind_names[k]) == 0)
			kind = k;
	if (kind < 0)
		return fail(L, AH_EPOLICY, s->line, s, NULL,
			    "unknown section kind '%s' (expected ahead, dimension, pool, class, "
			    "tenant, source or linux)", tok[0]);
	s->kind = (enum sec_kind)kind;
	if (kind == SEC_AHEAD || kind == SEC_LINUX) {
		if (nt > 1)
			return fail(L, AH_EPOLICY, s->line, s, NULL, "[%s] takes no name", tok[0]);
		return 0;
	}
	if (nt == 1)
		return fail(L, AH_EPOLICY, s->line, s, NULL, "missing name, e.g. [%s example]",
			    tok[0]);
	if (nt > 2)
		return fail(L, AH_EPOLICY, s->line, s, NULL, "unexpected '%s' after the name",
			    tok[2]);
	bool ok;
	if (kind == SEC_DIMENSION)
		ok = ah_name_check_dim(tok[1]) == 0;
	else if (kind == SEC_TENANT && strcmp(tok[1], "*") == 0)
		ok = true;
	else
		ok = ah_name_check_object(tok[1]) == 0;
	if (!ok)
		return fail(L, AH_EPOLICY, s->line, s, NULL, "invalid name '%.64s' (names are %s)",
			    tok[1],
			    kind == SEC_DIMENSION ? AH_NAME_DIM_GRAMMAR : AH_NAME_OBJECT_GRAMMAR);
	memcpy(s->name, tok[1], strlen(tok[1]) + 1); /* validated: at most 63 characters */
	return 0;
}

static int check_structure(struct loader *L)
{
	for (int i = 0; i < L->nsec; i++) {
		struct section *s = &L->sec[i];
		if (parse_header(L, s))
			return L->rc;
		for (int j = 0; j < i; j++) {
			struct section *t = &L->sec[j];
			if (t->kind == s->kind && strcmp(t->name, s->name) == 0)
				return fail(L, AH_EPOLICY, s->line, s, NULL,
					    "duplicate section (first defined at line %d)", t->line);
		}
		for (int k = 0; k < s->n; k++)
			for (int j = 0; j < k; j++)
				if (strcmp(s->e[j].key, s->e[k].key) == 0)
					return fail(L, AH_EPOLICY, s->e[k].line, s, s->e[k].key,
						    "duplicate key (first set at line %d)",
						    s->e[j].line);
	}
	return 0;
}

static int unknown_key(struct loader *L, const struct section *s, const struct entry *e,
		       const char *allowed)
{
	return fail(L, AH_EPOLICY, e->line, s, e->key, "unknown key (allowed: %s)", allowed);
}

static int do_dimension(struct loader *L, struct section *s)
{
	ah_policy *P = L->P;
	const struct entry *unit = NULL;
	for (int i = 0; i < s->n; i++) {
		if (strcmp(s->e[i].key, "unit") == 0)
			unit = &s->e[i];
		else
			return unknown_key(L, s, &s->e[i], "unit");
	}
	if (ah_dimset_find(&P->dims, s->name) >= 0)
		return fail(L, AH_EPOLICY, s->line, s, NULL,
			    "'%s' is a built-in dimension and cannot be redefined", s->name);
	if (!unit)
		return fail(L, AH_EPOLICY, s->line, s, NULL,
			    "missing required key 'unit' (count, cpu, bytes, bytes_per_s or "
			    "bits_per_s)");
	ah_unit_kind kind;
	if (ah_unit_kind_parse(unit->value, &kind) != 0)
		return fail(L, AH_EPOLICY, unit->line, s, unit->key,
			    "unknown unit '%.40s' (expected count, cpu, bytes, bytes_per_s or "
			    "bits_per_s)", unit->value);
	int rc = ah_dimset_add(&P->dims, s->name, kind, NULL);
	if (rc == AH_ETOOBIG)
		return fail(L, AH_EPOLICY, s->line, s, NULL, "too many dimensions (at most %d custom)",
			    AH_MAX_DIMS - 4);
	if (rc)
		return fail(L, AH_EPOLICY, s->line, s, NULL, "cannot add dimension: %s",
			    ah_strerror(rc));
	return 0;
}

struct ahead_keys {
	const struct entry *lease_ttl, *max_lease_ttl, *default_class, *unknown_tenants;
	const struct section *sec;
};

static int do_ahead(struct loader *L, struct section *s, struct ahead_keys *ak)
{
	ah_policy *P = L->P;
	ak->sec = s;
	for (int i = 0; i < s->n; i++) {
		struct entry *e = &s->e[i];
		const char *k = e->key;
		if (strcmp(k, "lease_ttl") == 0) {
			if (get_duration(L, s, e, &P->lease_ttl_ns))
				return L->rc;
			if (P->lease_ttl_ns <= 0)
				return fail(L, AH_EPOLICY, e->line, s, k, "must be greater than 0");
			ak->lease_ttl = e;
		} else if (strcmp(k, "max_lease_ttl") == 0) {
			if (get_duration(L, s, e, &P->max_lease_ttl_ns))
				return L->rc;
			if (P->max_lease_ttl_ns <= 0)
				return fail(L, AH_EPOLICY, e->line, s, k, "must be greater than 0");
			ak->max_lease_ttl = e;
		} else if (strcmp(k, "queue_timeout") == 0) {
			if (get_duration(L, s, e, &P->queue_timeout_ns))
				return L->rc;
		} else if (strcmp(k, "autocorrect") == 0) {
			if (get_bool(L, s, e, &P->autocorrect))
				return L->rc;
		} else if (strcmp(k, "default_class") == 0) {
			ak->default_class = e; /* resolved once classes are known */
		} else if (strcmp(k, "unknown_tenants") == 0) {
			if (strcmp(e->value, "refuse") == 0)
				P->unknown_tenants = false;
			else if (strcmp(e->value, "default") == 0)
				P->unknown_tenants = true;
			else
				return fail(L, AH_EPOLICY, e->line, s, k,
					    "expected refuse or default, got '%.40s'", e->value);
			ak->unknown_tenants = e;
		} else if (strcmp(k, "durability") == 0) {
			if (strcmp(e->value, "process") == 0)
				P->durability = AH_DURABILITY_PROCESS;
			else if (strcmp(e->value, "power") == 0)
				P->durability = AH_DURABILITY_POWER;
			else
				return fail(L, AH_EPOLICY, e->line, s, k,
					    "expected process or power, got '%.40s'", e->value);
		} else if (strcmp(k, "sizing") == 0) {
			static const char *const names[] = {"builtin", "static", "threshold", "vpa", "autopilot",
							    "ahead"};
			int found = -1;
			for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
				if (strcmp(e->value, names[i]) == 0)
					found = i;
			if (found < 0)
				return fail(L, AH_EPOLICY, e->line, s, k,
					    "expected builtin, ahead, static, threshold, vpa or autopilot, got '%.40s'",
					    e->value);
			P->sizing = (ah_sizing)found;
		} else if (strcmp(k, "report_interval") == 0) {
			if (get_duration_in(L, s, e, 1000000000LL, 86400LL * 1000000000LL, &P->report_interval_ns))
				return L->rc;
		} else if (strcmp(k, "max_clock_skew") == 0) {
			if (get_duration_in(L, s, e, 0, AH_CLOCK_SKEW_MAX_NS, &P->max_clock_skew_ns))
				return L->rc;
		} else {
			return unknown_key(L, s, e,
					   "lease_ttl, max_lease_ttl, queue_timeout, autocorrect, "
					   "default_class, unknown_tenants, durability, sizing, report_interval, "
					   "max_clock_skew");
		}
	}
	if (P->lease_ttl_ns > P->max_lease_ttl_ns) {
		char a[32], b[32];
		ah_duration_format(P->lease_ttl_ns, a, sizeof(a));
		ah_duration_format(P->max_lease_ttl_ns, b, sizeof(b));
		const struct entry *e = ak->max_lease_ttl ? ak->max_lease_ttl : ak->lease_ttl;
		if (e == ak->max_lease_ttl)
			return fail(L, AH_EPOLICY, e->line, s, e->key, "%s is below lease_ttl %s%s", b,
				    a, ak->lease_ttl ? "" : " (the default)");
		return fail(L, AH_EPOLICY, e->line, s, e->key, "%s is above max_lease_ttl %s%s", a, b,
			    " (the default)");
	}
	return 0;
}

/* nodes = "*" (every node) or labels (names.h's label grammar). */
static int get_node_select(struct loader *L, struct section *s, struct entry *e, char *out, size_t outlen)
{
	if (strcmp(e->value, "*")) {
		ah_label lab[AH_PLACE_LABELS_MAX];
		int n = 0;
		char why[160];
		if (!*e->value)
			return fail(L, AH_EPOLICY, e->line, s, e->key,
				    "is empty (give '*' for every node, or labels such as zone=a)");
		if (ah_labels_parse(e->value, lab, AH_PLACE_LABELS_MAX, &n, why, sizeof why) < 0)
			return fail(L, AH_EPOLICY, e->line, s, e->key, "%s", why);
	}
	if (strlen(e->value) >= outlen)
		return fail(L, AH_EPOLICY, e->line, s, e->key, "longer than %zu bytes", outlen - 1);
	snprintf(out, outlen, "%s", e->value);
	return 0;
}

/* A pool on nodes takes its capacity from them: a stated capacity, scaling
 * bounds or headroom would contradict it (shaping counts nodes instead:
 * node_size, min_nodes, max_nodes). */
static int check_node_pool(struct loader *L, struct section *s, const struct entry *nodes, const struct entry *spread,
			   const struct entry *bad)
{
	if (!nodes)
		return fail(L, AH_EPOLICY, spread->line, s, spread->key, "has no effect without 'nodes'");
	if (bad)
		return fail(L, AH_EPOLICY, bad->line, s, bad->key,
			    "a pool on nodes (nodes = %.64s) takes its capacity from them: remove '%s'", nodes->value,
			    bad->key);
	return 0;
}

/* Shaping a pool on nodes: the scaler works in whole nodes of node_size
 * (its bounds and step), and the hook adds or removes them. */
static int node_shaping(struct loader *L, struct section *s, ah_pool_policy *pp, const struct entry *shaping,
			const struct entry *nsize, const struct entry *nmin, const struct entry *nmax,
			const struct entry *hook, const struct entry *hook_opt)
{
	ah_policy *P = L->P;
	if (hook_opt && !hook)
		return fail(L, AH_EPOLICY, hook_opt->line, s, hook_opt->key, "has no effect without a scale_hook");
	if (!pp->shaping) {
		const struct entry *x = nsize ? nsize : nmin ? nmin : nmax ? nmax : hook;
		if (x)
			return fail(L, AH_EPOLICY, x->line, s, x->key, "has no effect without shaping = on");
		return 0;
	}
	if (!nsize || !nmax)
		return fail(L, AH_EPOLICY, shaping->line, s, shaping->key,
			    "on for a pool on nodes needs %s (what one node adds, and at most how many)",
			    !nsize ? "node_size" : "max_nodes");
	if (!hook)
		return fail(L, AH_EPOLICY, shaping->line, s, shaping->key,
			    "on for a pool on nodes needs a scale_hook (it adds and removes the nodes)");
	if (!nmin)
		pp->min_nodes = 1;
	if (pp->min_nodes > pp->max_nodes)
		return fail(L, AH_EPOLICY, nmin->line, s, nmin->key, "%d is above max_nodes %d", pp->min_nodes,
			    pp->max_nodes);
	bool any = false;
	for (int d = 0; d < P->dims.n; d++) {
		int64_t v = pp->node_size.v[d];
		if (v <= 0) {
			pp->min_size.v[d] = AH_VALUE_MAX; /* not shaped: a node adds none of it */
			continue;
		}
		any = true;
		pp->min_size.v[d] = v * pp->min_nodes;
		pp->max_size.v[d] = v * pp->max_nodes;
		pp->scale_step.v[d] = v;
		if (!(pp->capacity_cost[d] > 0))
			return fail(L, AH_EPOLICY, shaping->line, s, shaping->key,
				    "on needs a capacity_cost for %s (a node adds it, and free capacity would always "
				    "grow to the maximum)", P->dims.name[d]);
	}
	if (!any)
		return fail(L, AH_EPOLICY, nsize->line, s, nsize->key, "names no dimension above 0");
	return 0;
}

static int do_pool(struct loader *L, struct section *s, bool *headroom_prio_set)
{
	ah_policy *P = L->P;
	const int nd = P->dims.n;
	if (P->n_pools >= AH_MAX_POOLS)
		return fail(L, AH_EPOLICY, s->line, s, NULL, "too many pools (at most %d)",
			    AH_MAX_POOLS);
	ah_pool_policy *pp = &P->pools[P->n_pools];
	memset(pp, 0, sizeof(*pp));
	snprintf(pp->name, sizeof(pp->name), "%s", s->name);
	pp->max_queue = 10000;
	*headroom_prio_set = false;
	for (int d = 0; d < nd; d++)
		pp->unit.v[d] = 1;

	pp->stabilise_ns = STABILISE_DEFAULT;
	pp->hook_timeout_ns = HOOK_TIMEOUT_DEFAULT;
	pp->hook_retries = HOOK_RETRIES_DEFAULT;

	const struct entry *cap = NULL, *min = NULL, *max = NULL, *unit = NULL, *minreq = NULL,
			   *head = NULL, *shaping = NULL, *step = NULL, *hook = NULL, *hook_opt = NULL,
			   *nodes = NULL, *spread = NULL, *node_opt = NULL, *nsize = NULL, *nmin = NULL,
			   *nmax = NULL;
	bool mnsize[AH_MAX_DIMS];
	ah_vec vmin, vmax, vunit, vstep;
	bool mmin[AH_MAX_DIMS], mmax[AH_MAX_DIMS], munit[AH_MAX_DIMS], mtmp[AH_MAX_DIMS],
		mstep[AH_MAX_DIMS];
	for (int i = 0; i < s->n; i++) {
		struct entry *e = &s->e[i];
		const char *k = e->key;
		int rc = 0;
		if (strcmp(k, "capacity") == 0) {
			cap = e;
			rc = get_vec(L, s, e, &pp->capacity, mtmp);
		} else if (strcmp(k, "min") == 0) {
			min = e;
			rc = get_vec(L, s, e, &vmin, mmin);
		} else if (strcmp(k, "max") == 0) {
			max = e;
			rc = get_vec(L, s, e, &vmax, mmax);
		} else if (strcmp(k, "unit") == 0) {
			unit = e;
			rc = get_vec(L, s, e, &vunit, munit);
		} else if (strcmp(k, "min_request") == 0) {
			minreq = e;
			rc = get_vec(L, s, e, &pp->min_request, mtmp);
		} else if (strcmp(k, "headroom") == 0) {
			head = e;
			rc = get_vec(L, s, e, &pp->headroom, mtmp);
		} else if (strcmp(k, "headroom_priority") == 0) {
			rc = get_int(L, s, e, 0, PRIORITY_MAX, &pp->headroom_priority);
			*headroom_prio_set = true;
		} else if (strcmp(k, "max_queue") == 0) {
			rc = get_int(L, s, e, 0, MAX_QUEUE_MAX, &pp->max_queue);
		} else if (strcmp(k, "shaping") == 0) {
			shaping = e;
			rc = get_bool(L, s, e, &pp->shaping);
		} else if (strcmp(k, "capacity_cost") == 0) {
			rc = get_cost(L, s, e, pp->capacity_cost);
		} else if (strcmp(k, "create_cost") == 0) {
			rc = get_cost(L, s, e, pp->create_cost);
		} else if (strcmp(k, "lead_time") == 0) {
			rc = get_duration_in(L, s, e, 0, LEAD_TIME_MAX, &pp->lead_time_ns);
		} else if (strcmp(k, "stabilise") == 0) {
			rc = get_duration_in(L, s, e, 0, STABILISE_MAX, &pp->stabilise_ns);
		} else if (strcmp(k, "scale_step") == 0) {
			step = e;
			rc = get_vec(L, s, e, &vstep, mstep);
		} else if (strcmp(k, "scale_hook") == 0) {
			hook = e;
			rc = get_hook(L, s, e, pp->scale_hook, sizeof(pp->scale_hook));
		} else if (strcmp(k, "hook_timeout") == 0) {
			hook_opt = e;
			rc = get_duration_in(L, s, e, 1000000, HOOK_TIMEOUT_MAX, &pp->hook_timeout_ns);
		} else if (strcmp(k, "hook_retries") == 0) {
			hook_opt = e;
			rc = get_int(L, s, e, 0, HOOK_RETRIES_MAX, &pp->hook_retries);
		} else if (strcmp(k, "nodes") == 0) {
			nodes = e;
			rc = get_node_select(L, s, e, pp->nodes, sizeof(pp->nodes));
		} else if (strcmp(k, "spread") == 0) {
			spread = e;
			if (ah_name_check_label_key(e->value))
				rc = fail(L, AH_EPOLICY, e->line, s, k,
					  "'%.64s' is not a label key (" AH_NAME_LABEL_KEY_GRAMMAR ")", e->value);
			else
				snprintf(pp->spread, sizeof(pp->spread), "%s", e->value);
		} else if (strcmp(k, "rebalance") == 0) {
			node_opt = e;
			rc = get_bool(L, s, e, &pp->rebalance);
		} else if (strcmp(k, "node_size") == 0) {
			nsize = e;
			rc = get_vec(L, s, e, &pp->node_size, mnsize);
		} else if (strcmp(k, "min_nodes") == 0) {
			nmin = e;
			rc = get_int(L, s, e, 0, AH_NODES_MAX, &pp->min_nodes);
		} else if (strcmp(k, "max_nodes") == 0) {
			nmax = e;
			rc = get_int(L, s, e, 1, AH_NODES_MAX, &pp->max_nodes);
		} else if (strcmp(k, "on_node_down") == 0) {
			node_opt = e;
			if (strcmp(e->value, "requeue") && strcmp(e->value, "evict"))
				rc = fail(L, AH_EPOLICY, e->line, s, k, "'%.40s' is not one of requeue, evict",
					  e->value);
			pp->node_down_evict = !strcmp(e->value, "evict");
		} else if (strcmp(k, "parent") == 0) {
			if (ah_name_check_object(e->value))
				rc = fail(L, AH_EPOLICY, e->line, s, k,
					  "invalid group name '%.64s' (names are " AH_NAME_OBJECT_GRAMMAR ")",
					  e->value);
			else
				snprintf(pp->parent, sizeof(pp->parent), "%s", e->value);
		} else {
			return unknown_key(L, s, e,
					   "capacity, min, max, unit, min_request, headroom, "
					   "headroom_priority, max_queue, shaping, capacity_cost, create_cost, "
					   "lead_time, stabilise, scale_step, scale_hook, hook_timeout, "
					   "hook_retries, parent, nodes, spread, on_node_down, rebalance, node_size, "
					   "min_nodes, max_nodes");
		}
		if (rc)
			return L->rc;
	}
	const struct entry *nshape = nsize ? nsize : nmin ? nmin : nmax;
	if (nodes || spread || node_opt || nshape) {
		int rc = check_node_pool(L, s, nodes, spread ? spread : node_opt ? node_opt : nshape,
					 cap ? cap : min ? min : max ? max : head);
		if (rc)
			return rc;
		/* What the pool may ever offer is its nodes' sum: no bound here. */
		for (int d = 0; d < nd; d++) {
			pp->max_size.v[d] = AH_VALUE_MAX;
			pp->unit.v[d] = unit && munit[d] ? vunit.v[d] : 1;
			pp->scale_step.v[d] = pp->unit.v[d];
			if (pp->unit.v[d] < 1)
				return fail(L, AH_EPOLICY, unit->line, s, unit->key,
					    "%s: the allocation unit must be at least 1", P->dims.name[d]);
		}
		if ((rc = node_shaping(L, s, pp, shaping, nsize, nmin, nmax, hook, hook_opt)))
			return rc;
		P->n_pools++;
		return 0;
	}
	if (!cap)
		return fail(L, AH_EPOLICY, s->line, s, NULL,
			    "missing required key 'capacity' (e.g. capacity = cpu=8, memory=32Gi)");
	/* Scaling bounds default to the capacity, dimension by dimension. */
	pp->min_size = pp->capacity;
	pp->max_size = pp->capacity;
	for (int d = 0; d < nd; d++) {
		if (min && mmin[d])
			pp->min_size.v[d] = vmin.v[d];
		if (max && mmax[d])
			pp->max_size.v[d] = vmax.v[d];
		if (unit && munit[d])
			pp->unit.v[d] = vunit.v[d];
	}
	/* Scale steps default to the allocation unit: capacity that is not a
	 * whole number of units could never be granted. */
	for (int d = 0; d < nd; d++)
		pp->scale_step.v[d] = step && mstep[d] ? vstep.v[d] : pp->unit.v[d];
	char a[32], b[32];
	for (int d = 0; d < nd; d++) {
		const char *dn = P->dims.name[d];
		if (pp->min_size.v[d] > pp->capacity.v[d]) {
			fmt_val(P, d, pp->min_size.v[d], a, sizeof(a));
			fmt_val(P, d, pp->capacity.v[d], b, sizeof(b));
			return fail(L, AH_EPOLICY, min->line, s, min->key,
				    "%s=%s is above the capacity %s=%s", dn, a, dn, b);
		}
		if (pp->capacity.v[d] > pp->max_size.v[d]) {
			fmt_val(P, d, pp->max_size.v[d], a, sizeof(a));
			fmt_val(P, d, pp->capacity.v[d], b, sizeof(b));
			return fail(L, AH_EPOLICY, max->line, s, max->key,
				    "%s=%s is below the capacity %s=%s", dn, a, dn, b);
		}
		if (pp->unit.v[d] < 1) {
			fmt_val(P, d, 1, a, sizeof(a));
			return fail(L, AH_EPOLICY, unit->line, s, unit->key,
				    "%s: the allocation unit must be at least %s", dn, a);
		}
		if (pp->min_request.v[d] > pp->max_size.v[d]) {
			fmt_val(P, d, pp->min_request.v[d], a, sizeof(a));
			fmt_val(P, d, pp->max_size.v[d], b, sizeof(b));
			return fail(L, AH_EPOLICY, minreq->line, s, minreq->key,
				    "%s=%s can never be granted: the pool grows to at most %s=%s", dn,
				    a, dn, b);
		}
		if (pp->headroom.v[d] > pp->capacity.v[d]) {
			fmt_val(P, d, pp->headroom.v[d], a, sizeof(a));
			fmt_val(P, d, pp->capacity.v[d], b, sizeof(b));
			return fail(L, AH_EPOLICY, head->line, s, head->key,
				    "%s=%s is above the capacity %s=%s", dn, a, dn, b);
		}
		if (pp->scale_step.v[d] < 1) {
			fmt_val(P, d, 1, a, sizeof(a));
			return fail(L, AH_EPOLICY, step->line, s, step->key,
				    "%s: the scale step must be at least %s", dn, a);
		}
	}
	if (hook_opt && !hook)
		return fail(L, AH_EPOLICY, hook_opt->line, s, hook_opt->key,
			    "has no effect without a scale_hook");
	if (pp->shaping) {
		bool range = false;
		for (int d = 0; d < nd; d++)
			if (pp->min_size.v[d] < pp->max_size.v[d])
				range = true;
		if (!range)
			return fail(L, AH_EPOLICY, shaping->line, s, shaping->key,
				    "on needs room to scale: set min below max in at least one dimension");
		/* A dimension that may scale but costs nothing to hold would
		 * always grow to its maximum: refuse rather than buy blindly. */
		for (int d = 0; d < nd; d++)
			if (pp->min_size.v[d] < pp->max_size.v[d] && !(pp->capacity_cost[d] > 0))
				return fail(L, AH_EPOLICY, shaping->line, s, shaping->key,
					    "on needs a capacity_cost for %s (it may scale there, and free "
					    "capacity would always grow to the maximum)", P->dims.name[d]);
	}
	P->n_pools++;
	return 0;
}

static int do_class(struct loader *L, struct section *s, const struct entry **prio_entries)
{
	ah_policy *P = L->P;
	const int nd = P->dims.n;
	if (P->n_classes >= AH_MAX_CLASSES)
		return fail(L, AH_EPOLICY, s->line, s, NULL, "too many classes (at most %d)",
			    AH_MAX_CLASSES);
	ah_class_policy *c = &P->classes[P->n_classes];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", s->name);
	c->quantile = 0.95;
	c->enforce = AH_ENFORCE_INHERIT;
	for (int d = 0; d < nd; d++)
		c->max_request.v[d] = AH_UNLIMITED;
	const struct entry *prio = NULL;
	bool mask[AH_MAX_DIMS];
	for (int i = 0; i < s->n; i++) {
		struct entry *e = &s->e[i];
		const char *k = e->key;
		int rc = 0;
		if (strcmp(k, "priority") == 0) {
			prio = e;
			rc = get_int(L, s, e, 0, PRIORITY_MAX, &c->priority);
		} else if (strcmp(k, "quantile") == 0) {
			rc = get_num(L, s, e, &c->quantile);
			if (!rc && !(c->quantile > 0.0 && c->quantile < 1.0))
				rc = fail(L, AH_EPOLICY, e->line, s, k,
					  "%.40s is not strictly between 0 and 1", e->value);
		} else if (strcmp(k, "margin") == 0) {
			rc = get_num(L, s, e, &c->margin);
			if (!rc && c->margin > MARGIN_MAX)
				rc = fail(L, AH_EPOLICY, e->line, s, k,
					  "%.40s is too large (at most %g, i.e. +%g%%)", e->value,
					  MARGIN_MAX, MARGIN_MAX * 100);
		} else if (strcmp(k, "preempt") == 0) {
			rc = get_bool(L, s, e, &c->preempt);
		} else if (strcmp(k, "prediction") == 0) {
			static const char *modes[] = {"off", "raise", "lower", "both"};
			c->prediction = -1;
			for (int m = 0; m < 4; m++)
				if (strcmp(e->value, modes[m]) == 0)
					c->prediction = m;
			if (c->prediction < 0)
				rc = fail(L, AH_EPOLICY, e->line, s, k,
					  "'%.40s' is not one of off, raise, lower, both", e->value);
		} else if (strcmp(k, "max_request") == 0) {
			ah_vec v;
			rc = get_vec(L, s, e, &v, mask);
			for (int d = 0; !rc && d < nd; d++)
				if (mask[d])
					c->max_request.v[d] = v.v[d];
		} else if (strcmp(k, "lease_ttl") == 0) {
			rc = get_duration(L, s, e, &c->lease_ttl_ns);
			if (!rc && c->lease_ttl_ns <= 0)
				rc = fail(L, AH_EPOLICY, e->line, s, k,
					  "must be greater than 0 (omit it to use [ahead] lease_ttl)");
			if (!rc && c->lease_ttl_ns > P->max_lease_ttl_ns) {
				char a[32];
				ah_duration_format(P->max_lease_ttl_ns, a, sizeof(a));
				rc = fail(L, AH_EPOLICY, e->line, s, k,
					  "%.40s is above max_lease_ttl %s", e->value, a);
			}
		} else if (strcmp(k, "queue_timeout") == 0) {
			rc = get_duration(L, s, e, &c->queue_timeout_ns);
			if (!rc && c->queue_timeout_ns <= 0)
				rc = fail(L, AH_EPOLICY, e->line, s, k,
					  "must be greater than 0 (omit it to use [ahead] "
					  "queue_timeout)");
		} else if (strcmp(k, "shortfall_cost") == 0) {
			rc = get_cost(L, s, e, c->shortfall_cost);
		} else if (strcmp(k, "enforce") == 0) {
			rc = ah_pol_class_enforce(L, s, e, &c->enforce);
		} else if (strcmp(k, "run_default") == 0) {
			rc = get_vec(L, s, e, &c->run_default, mask);
		} else {
			return unknown_key(L, s, e,
					   "priority, quantile, margin, preempt, prediction, max_request, "
					   "lease_ttl, queue_timeout, shortfall_cost, enforce, run_default");
		}
		if (rc)
			return L->rc;
	}
	if (!prio)
		return fail(L, AH_EPOLICY, s->line, s, NULL,
			    "missing required key 'priority' (0 to %d, higher wins)", PRIORITY_MAX);
	for (int j = 0; j < P->n_classes; j++)
		if (P->classes[j].priority == c->priority)
			return fail(L, AH_EPOLICY, prio->line, s, prio->key,
				    "%d is already the priority of class '%s' (line %d); priorities "
				    "must be unique",
				    c->priority, P->classes[j].name, prio_entries[j]->line);
	prio_entries[P->n_classes] = prio;
	P->n_classes++;
	return 0;
}

static int do_tenant(struct loader *L, struct section *s)
{
	ah_policy *P = L->P;
	const int nd = P->dims.n;
	bool is_default = strcmp(s->name, "*") == 0;
	if (!is_default && P->n_tenants >= AH_MAX_TENANTS)
		return fail(L, AH_EPOLICY, s->line, s, NULL, "too many tenants (at most %d)",
			    AH_MAX_TENANTS);
	ah_tenant_policy t;
	memset(&t, 0, sizeof(t));
	snprintf(t.name, sizeof(t.name), "%s", s->name);
	for (int d = 0; d < nd; d++)
		t.quota.v[d] = AH_UNLIMITED;
	const struct entry *burst = NULL;
	bool mask[AH_MAX_DIMS];
	for (int i = 0; i < s->n; i++) {
		struct entry *e = &s->e[i];
		const char *k = e->key;
		int rc = 0;
		if (strcmp(k, "quota") == 0) {
			ah_vec v;
			rc = get_vec(L, s, e, &v, mask);
			for (int d = 0; !rc && d < nd; d++)
				if (mask[d])
					t.quota.v[d] = v.v[d];
		} else if (strcmp(k, "rate") == 0) {
			rc = get_num(L, s, e, &t.rate_per_s);
			if (!rc && t.rate_per_s > RATE_MAX)
				rc = fail(L, AH_EPOLICY, e->line, s, k,
					  "%.40s is too large (at most %g requests/s)", e->value,
					  RATE_MAX);
		} else if (strcmp(k, "burst") == 0) {
			burst = e;
			rc = get_num(L, s, e, &t.burst);
			if (!rc && (t.burst < 1.0 || t.burst > BURST_MAX))
				rc = fail(L, AH_EPOLICY, e->line, s, k,
					  "%.40s is out of range (1 to %g requests)", e->value,
					  BURST_MAX);
		} else {
			return unknown_key(L, s, e, "quota, rate, burst");
		}
		if (rc)
			return L->rc;
	}
	if (burst && t.rate_per_s == 0)
		return fail(L, AH_EPOLICY, burst->line, s, burst->key,
			    "has no effect without a rate (set rate = requests per second)");
	if (!burst)
		t.burst = t.rate_per_s > 1.0 ? t.rate_per_s : 1.0;
	if (is_default)
		P->default_tenant = t;
	else
		P->tenants[P->n_tenants++] = t;
	return 0;
}

/* ---- [source NAME] ---- */

#define SOURCE_DEFAULT_NS (60 * NS_PER_S)
#define SOURCE_LOOKBACK_DEFAULT_NS (3600 * NS_PER_S)
#define SOURCE_EVERY_MIN_NS NS_PER_S
#define SOURCE_EVERY_MAX_NS (86400 * NS_PER_S)
#define SOURCE_STEP_MAX_NS (86400 * NS_PER_S)
#define SOURCE_KEYS "kind, url, query, workload, dim, unit, of, match, step, every, lookback"

static bool label_name_ok(const char *a, size_t n)
{
	if (!n || !(isalpha((unsigned char)a[0]) || a[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)a[i]) || a[i] == '_'))
			return false;
	return true;
}

/* A name key (workload, dim): the object-name grammar. */
static int get_name(struct loader *L, const struct section *s, const struct entry *e, char *out)
{
	if (ah_name_check_object(e->value) != 0)
		return fail(L, AH_EPOLICY, e->line, s, e->key, "invalid name '%.64s' (names are %s)", e->value,
			    AH_NAME_OBJECT_GRAMMAR);
	memcpy(out, e->value, strlen(e->value) + 1); /* validated: shorter than AH_NAME_MAX */
	return 0;
}

static int get_url(struct loader *L, const struct section *s, const struct entry *e, char *out)
{
	const char *u = e->value;
	if (strncmp(u, "http://", 7) && strncmp(u, "https://", 8))
		return fail(L, AH_EPOLICY, e->line, s, e->key, "'%.64s' is not an http:// or https:// URL", u);
	if (strlen(u) > AH_PROM_URL_MAX)
		return fail(L, AH_EPOLICY, e->line, s, e->key, "longer than %d bytes", AH_PROM_URL_MAX);
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '?' || *p == '#')
			return fail(L, AH_EPOLICY, e->line, s, e->key,
				    "'%.64s' is not a base URL (no spaces, query or fragment; e.g. "
				    "http://localhost:9090)", u);
	memcpy(out, u, strlen(u) + 1);
	return 0;
}

static int get_match(struct loader *L, const struct section *s, const struct entry *e, char *out)
{
	const char *v = e->value;
	if (strlen(v) > AH_PROM_MATCH_TEXT_MAX)
		return fail(L, AH_EPOLICY, e->line, s, e->key, "longer than %d bytes", AH_PROM_MATCH_TEXT_MAX);
	int n = 0;
	for (const char *p = v;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		if (!eq || !label_name_ok(p, (size_t)(eq - p)))
			return fail(L, AH_EPOLICY, e->line, s, e->key,
				    "expected LABEL=VALUE[,LABEL=VALUE] with LABEL of [a-zA-Z_][a-zA-Z0-9_]*, "
				    "got '%.*s'", len > 64 ? 64 : (int)len, p);
		if (++n > AH_PROM_MATCH_MAX)
			return fail(L, AH_EPOLICY, e->line, s, e->key, "at most %d filters", AH_PROM_MATCH_MAX);
		if (!comma)
			break;
		p = comma + 1;
	}
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

static int get_duration_range(struct loader *L, const struct section *s, const struct entry *e, int64_t lo,
			      int64_t hi, const char *why, int64_t *out)
{
	int64_t v;
	if (get_duration(L, s, e, &v))
		return L->rc;
	if (v < lo || v > hi) {
		char a[AH_DURATION_TEXT_MAX], b[AH_DURATION_TEXT_MAX];
		if (ah_duration_format(lo, a, sizeof a) || ah_duration_format(hi, b, sizeof b))
			a[0] = b[0] = '\0';
		return fail(L, AH_EPOLICY, e->line, s, e->key, "%.40s is out of range (%s to %s%s)", e->value, a,
			    b, why);
	}
	*out = v;
	return 0;
}

static int do_source(struct loader *L, struct section *s)
{
	ah_policy *P = L->P;
	if (P->n_sources >= AH_MAX_SOURCES)
		return fail(L, AH_EPOLICY, s->line, s, NULL, "too many sources (at most %d)", AH_MAX_SOURCES);
	ah_source_policy *src = &P->sources[P->n_sources];
	memset(src, 0, sizeof *src);
	snprintf(src->name, sizeof src->name, "%s", s->name);
	src->step_ns = SOURCE_DEFAULT_NS;
	src->every_ns = SOURCE_DEFAULT_NS;
	src->lookback_ns = SOURCE_LOOKBACK_DEFAULT_NS;
	const struct entry *kind = NULL, *url = NULL, *query = NULL, *workload = NULL, *dim = NULL, *unit = NULL,
			   *of = NULL, *lookback = NULL, *step = NULL;
	for (int i = 0; i < s->n; i++) {
		struct entry *e = &s->e[i];
		const char *k = e->key;
		int rc = 0;
		if (strcmp(k, "kind") == 0) {
			kind = e;
			if (strcmp(e->value, "prometheus") != 0)
				rc = fail(L, AH_EPOLICY, e->line, s, k, "unknown kind '%.40s' (expected prometheus)",
					  e->value);
		} else if (strcmp(k, "url") == 0) {
			url = e;
			rc = get_url(L, s, e, src->url);
		} else if (strcmp(k, "query") == 0) {
			query = e;
			if (!e->value[0])
				rc = fail(L, AH_EPOLICY, e->line, s, k, "empty (a PromQL query)");
			else if (strlen(e->value) > AH_PROM_QUERY_MAX)
				rc = fail(L, AH_EPOLICY, e->line, s, k, "longer than %d bytes", AH_PROM_QUERY_MAX);
			else
				memcpy(src->query, e->value, strlen(e->value) + 1);
		} else if (strcmp(k, "workload") == 0) {
			workload = e;
			rc = get_name(L, s, e, src->workload);
		} else if (strcmp(k, "dim") == 0) {
			dim = e;
			if (ah_dimset_find(&P->dims, e->value) < 0)
				rc = fail(L, AH_EPOLICY, e->line, s, k, "'%.64s' is not a dimension of this policy",
					  e->value);
			else
				memcpy(src->dim, e->value, strlen(e->value) + 1);
		} else if (strcmp(k, "unit") == 0) {
			unit = e;
			ah_input_units u;
			ah_input_units_init(&u);
			if (strlen(e->value) >= sizeof src->unit || ah_input_units_add(&u, e->value) != 0)
				rc = fail(L, AH_EPOLICY, e->line, s, k, "unknown unit '%.40s' (expected one of %s)",
					  e->value, AH_INPUT_UNIT_GRAMMAR);
			else
				memcpy(src->unit, e->value, strlen(e->value) + 1);
		} else if (strcmp(k, "of") == 0) {
			of = e;
			rc = get_num(L, s, e, &src->of_cores);
			if (!rc && (src->of_cores <= 0 || src->of_cores > 1e6))
				rc = fail(L, AH_EPOLICY, e->line, s, k, "%.40s is out of range (more than 0, at most "
					  "1000000 cores)", e->value);
		} else if (strcmp(k, "match") == 0) {
			rc = get_match(L, s, e, src->match);
		} else if (strcmp(k, "step") == 0) {
			step = e;
			rc = get_duration_range(L, s, e, NS_PER_MS, SOURCE_STEP_MAX_NS, "", &src->step_ns);
			if (!rc && src->step_ns % NS_PER_MS)
				rc = fail(L, AH_EPOLICY, e->line, s, k, "Prometheus takes whole milliseconds (got %.40s)",
					  e->value);
		} else if (strcmp(k, "every") == 0) {
			rc = get_duration_range(L, s, e, SOURCE_EVERY_MIN_NS, SOURCE_EVERY_MAX_NS, "", &src->every_ns);
		} else if (strcmp(k, "lookback") == 0) {
			lookback = e;
			rc = get_duration_range(L, s, e, 0, 7 * 86400 * NS_PER_S, "", &src->lookback_ns);
		} else {
			return unknown_key(L, s, e, SOURCE_KEYS);
		}
		if (rc)
			return L->rc;
	}
	const char *missing = !kind ? "kind (prometheus)" : !url ? "url (Prometheus's base URL)"
			      : !query ? "query (PromQL)" : !workload ? "workload" : !dim ? "dim" : NULL;
	if (missing)
		return fail(L, AH_EPOLICY, s->line, s, NULL, "missing required key '%s'", missing);
	ah_input_units u;
	ah_input_units_init(&u);
	if (src->unit[0])
		ah_input_units_add(&u, src->unit); /* validated above */
	if (src->of_cores > 0)
		ah_input_units_set_of(&u, src->of_cores);
	const char *why;
	if (ah_input_units_check(&u, &why)) { /* its reason names the options: say it in keys */
		if (of)
			return fail(L, AH_EPOLICY, of->line, s, of->key, "applies to unit = percent only");
		return fail(L, AH_EPOLICY, unit->line, s, unit->key,
			    "percent needs of = N (the cores 100 percent stands for)");
	}
	/* the shadow store reads a dimension's kind from its name (cpu, memory, io, net) */
	ah_unit_kind k = ah_input_units_kind_of_dim(src->dim);
	if (unit && (!ah_input_units_fits(k) || (k == AH_UNIT_CPU ? u.bytes_set : u.cpu_set)))
		return fail(L, AH_EPOLICY, unit->line, s, unit->key, "%s does not fit dim %s (%ss)", src->unit,
			    src->dim, ah_input_units_base_name(k));
	if ((uint64_t)(src->lookback_ns / src->step_ns) >= AH_PROM_POINTS_MAX) {
		const struct entry *e = lookback ? lookback : step;
		return fail(L, AH_EPOLICY, e ? e->line : s->line, s, e ? e->key : "lookback",
			    "lookback / step is more than %d points (Prometheus's limit per query): a larger step "
			    "or a shorter lookback", AH_PROM_POINTS_MAX - 1);
	}
	P->n_sources++;
	return 0;
}

static void policy_defaults(ah_policy *P)
{
	ah_dimset_init(&P->dims);
	P->lease_ttl_ns = 5 * 60 * NS_PER_S;
	P->queue_timeout_ns = 30 * NS_PER_S;
	P->max_lease_ttl_ns = 24 * 3600 * NS_PER_S;
	/* also without a [linux] section (ahead run reads it) */
	P->linux_host.run_hard_margin = 0.25;
	snprintf(P->linux_host.proc_root, sizeof P->linux_host.proc_root, "/proc");
	P->autocorrect = false;
	P->default_class = 0;
	P->unknown_tenants = false;
	P->durability = AH_DURABILITY_PROCESS;
	P->sizing = AH_SIZING_BUILTIN;
	P->report_interval_ns = 300LL * 1000000000LL;
	P->max_clock_skew_ns = -1;
	snprintf(P->default_tenant.name, sizeof(P->default_tenant.name), "*");
	for (int d = 0; d < P->dims.n; d++)
		P->default_tenant.quota.v[d] = AH_UNLIMITED;
	P->default_tenant.burst = 1.0;
}

static int interpret(struct loader *L)
{
	ah_policy *P = L->P;
	if (check_structure(L))
		return L->rc;
	for (int i = 0; i < L->nsec; i++)
		if (L->sec[i].kind == SEC_DIMENSION && do_dimension(L, &L->sec[i]))
			return L->rc;
	/* Custom dimensions of the default tenant are unlimited too. */
	for (int d = 0; d < P->dims.n; d++)
		P->default_tenant.quota.v[d] = AH_UNLIMITED;
	struct ahead_keys ak = {0};
	for (int i = 0; i < L->nsec; i++)
		if (L->sec[i].kind == SEC_AHEAD && do_ahead(L, &L->sec[i], &ak))
			return L->rc;

	bool hp_set[AH_MAX_POOLS];
	const struct entry *prio_entries[AH_MAX_CLASSES];
	const struct section *default_tenant_sec = NULL;
	for (int i = 0; i < L->nsec; i++) {
		struct section *s = &L->sec[i];
		int rc = 0;
		switch (s->kind) {
		case SEC_POOL:
			rc = do_pool(L, s, &hp_set[P->n_pools < AH_MAX_POOLS ? P->n_pools : 0]);
			break;
		case SEC_CLASS:
			rc = do_class(L, s, prio_entries);
			break;
		case SEC_SOURCE:
			rc = do_source(L, s);
			break;
		case SEC_LINUX:
			rc = ah_pol_linux(L, s);
			break;
		case SEC_TENANT:
			rc = do_tenant(L, s);
			if (strcmp(s->name, "*") == 0)
				default_tenant_sec = s;
			break;
		default:
			break;
		}
		if (rc)
			return L->rc;
	}
	if (P->n_pools == 0)
		return fail(L, AH_EPOLICY, 0, NULL, NULL,
			    "no [pool NAME] section: at least one pool is required");
	if (P->n_classes == 0)
		return fail(L, AH_EPOLICY, 0, NULL, NULL,
			    "no [class NAME] section: at least one class is required");
	if (ak.default_class) {
		int c = ah_policy_find_class(P, ak.default_class->value);
		if (c < 0)
			return fail(L, AH_EPOLICY, ak.default_class->line, ak.sec,
				    ak.default_class->key, "no [class %.64s] section defines it",
				    ak.default_class->value);
		P->default_class = c;
	} else if (P->n_classes == 1) {
		P->default_class = 0;
	} else {
		return fail(L, AH_EPOLICY, ak.sec ? ak.sec->line : 0, ak.sec, "default_class",
			    "required when more than one class is defined");
	}
	if (P->unknown_tenants && !default_tenant_sec)
		return fail(L, AH_EPOLICY, ak.unknown_tenants->line, ak.sec, ak.unknown_tenants->key,
			    "'default' needs a [tenant *] section describing the default tenant");
	/* A shaped pool weighs capacity against shortfall: with no class
	 * pricing a shortfall, the cheapest pool is always the smallest. */
	bool short_priced = false;
	for (int c = 0; c < P->n_classes; c++)
		for (int d = 0; d < P->dims.n; d++)
			if (P->classes[c].shortfall_cost[d] > 0)
				short_priced = true;
	for (int i = 0; !short_priced && i < L->nsec; i++) {
		const struct section *s = &L->sec[i];
		int p = s->kind == SEC_POOL ? ah_policy_find_pool(P, s->name) : -1;
		if (p < 0 || !P->pools[p].shaping)
			continue;
		for (int k = 0; k < s->n; k++)
			if (strcmp(s->e[k].key, "shaping") == 0)
				return fail(L, AH_EPOLICY, s->e[k].line, s, s->e[k].key,
					    "on needs a shortfall_cost in at least one [class] (the price "
					    "of demand left unserved)");
	}
	/* Headroom is by default kept for the most important class. */
	int top = 0;
	for (int c = 0; c < P->n_classes; c++)
		if (P->classes[c].priority > top)
			top = P->classes[c].priority;
	for (int p = 0; p < P->n_pools; p++)
		if (!hp_set[p])
			P->pools[p].headroom_priority = top;
	/* Unreachable for any input (see MAX_SECTIONS), kept as a guard. */
	if (L->sec_overflow)
		return fail(L, AH_EPOLICY, 0, NULL, NULL, "too many sections (at most %d)",
			    MAX_SECTIONS);
	for (int i = 0; i < L->nsec; i++)
		if (L->sec[i].overflow)
			return fail(L, AH_EPOLICY, L->sec[i].line, &L->sec[i], NULL,
				    "too many keys (at most %d)", MAX_KEYS);
	return 0;
}

static void loader_fini(struct loader *L)
{
	for (int i = 0; i < L->nsec; i++) {
		struct section *s = &L->sec[i];
		for (int j = 0; j < s->n; j++) {
			free(s->e[j].key);
			free(s->e[j].value);
		}
		free(s->e);
		free(s->header);
	}
	free(L->sec);
}

int ah_policy_load_string(const char *text, size_t len, const char *name, ah_policy **out,
			  char *err, size_t errlen)
{
	struct loader L;
	memset(&L, 0, sizeof(L));
	L.file = name ? name : "<string>";
	L.err = err;
	L.errlen = errlen;
	L.cur = -1;
	if (!text || !out)
		return fail(&L, AH_EINVAL, 0, NULL, NULL, "invalid argument");
	if (len > AH_POLICY_MAX_BYTES)
		return fail(&L, AH_ETOOBIG, 0, NULL, NULL,
			    "file is too large (%zu bytes; a policy is at most %d bytes)", len,
			    AH_POLICY_MAX_BYTES);
	/* Binary data is refused up front, with the line where it starts. */
	int line = 1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\n')
			line++;
		else if (c == 0)
			return fail(&L, AH_EPARSE, line, NULL, NULL,
				    "binary data (NUL byte): not a policy file");
		else if ((c < 0x20 && c != '\t' && c != '\r' && c != '\f' && c != '\v') || c == 0x7f)
			return fail(&L, AH_EPARSE, line, NULL, NULL,
				    "control character 0x%02x: not a text file", c);
	}
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) { /* UTF-8 byte order mark */
		text += 3;
		len -= 3;
	}
	L.p = text;
	L.end = text + len;

	ah_policy *P = calloc(1, sizeof(*P));
	if (!P)
		return fail(&L, AH_ENOMEM, 0, NULL, NULL, "out of memory");
	policy_defaults(P);
	L.P = P;

	int rc = ini_parse_stream(reader, &L, handler, &L);
	if (!L.rc && rc > 0)
		fail(&L, AH_EPARSE, rc, NULL, NULL, "syntax error (expected '[section]' or 'key = value')");
	else if (!L.rc && rc < 0)
		fail(&L, AH_ENOMEM, 0, NULL, NULL, "out of memory while parsing");
	if (!L.rc && L.nsec == 0)
		fail(&L, AH_EPOLICY, 0, NULL, NULL,
		     "empty policy: at least one [pool NAME] and one [class NAME] section are "
		     "required");
	if (!L.rc)
		interpret(&L);
	rc = L.rc;
	loader_fini(&L);
	if (rc) {
		free(P);
		return rc;
	}
	*out = P;
	return 0;
}

int ah_policy_load_file(const char *path, ah_policy **out, char *err, size_t errlen)
{
	struct loader L;
	memset(&L, 0, sizeof(L));
	L.file = path ? path : "<null>";
	L.err = err;
	L.errlen = errlen;
	if (!path || !out)
		return fail(&L, AH_EINVAL, 0, NULL, NULL, "invalid argument");
	char eb[128];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(&L, AH_EIO, 0, NULL, NULL, "cannot open: %s",
			    strerror_r(errno, eb, sizeof(eb)));
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = 0;
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		rc = fail(&L, AH_EIO, 0, NULL, NULL, "is a directory, not a policy file");
		goto out;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > AH_POLICY_MAX_BYTES) {
		rc = fail(&L, AH_ETOOBIG, 0, NULL, NULL,
			  "file is too large (%lld bytes; a policy is at most %d bytes)",
			  (long long)st.st_size, AH_POLICY_MAX_BYTES);
		goto out;
	}
	/* Read at most one byte past the cap (the file may grow, or be a pipe). */
	for (;;) {
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 16384;
			if (ncap > (size_t)AH_POLICY_MAX_BYTES + 1)
				ncap = (size_t)AH_POLICY_MAX_BYTES + 1;
			if (ncap == cap) {
				rc = fail(&L, AH_ETOOBIG, 0, NULL, NULL,
					  "file is too large (a policy is at most %d bytes)",
					  AH_POLICY_MAX_BYTES);
				goto out;
			}
			char *nb = realloc(buf, ncap);
			if (!nb) {
				rc = fail(&L, AH_ENOMEM, 0, NULL, NULL, "out of memory");
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = fail(&L, AH_EIO, 0, NULL, NULL, "read error: %s",
				  strerror_r(errno, eb, sizeof(eb)));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	rc = ah_policy_load_string(buf ? buf : "", len, path, out, err, errlen);
out:
	free(buf);
	close(fd);
	return rc;
}

void ah_policy_free(ah_policy *p)
{
	free(p);
}

int ah_policy_find_pool(const ah_policy *p, const char *name)
{
	if (!p || !name)
		return -1;
	for (int i = 0; i < p->n_pools; i++)
		if (strcmp(p->pools[i].name, name) == 0)
			return i;
	return -1;
}

int ah_policy_find_class(const ah_policy *p, const char *name)
{
	if (!p || !name)
		return -1;
	for (int i = 0; i < p->n_classes; i++)
		if (strcmp(p->classes[i].name, name) == 0)
			return i;
	return -1;
}

int ah_policy_find_tenant(const ah_policy *p, const char *name)
{
	if (!p || !name)
		return -1;
	for (int i = 0; i < p->n_tenants; i++)
		if (strcmp(p->tenants[i].name, name) == 0)
			return i;
	return -1;
}

/* ---- for the loader's other files (policy_int.h) ---- */

int ah_pol_fail(struct loader *L, int rc, int line, const struct section *s, const char *key, const char *fmt, ...)
{
	if (L->rc)
		return L->rc;
	char reason[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	return fail(L, rc, line, s, key, "%s", reason);
}

int ah_pol_bool(struct loader *L, const struct section *s, const struct entry *e, bool *out)
{
	return get_bool(L, s, e, out);
}

int ah_pol_int(struct loader *L, const struct section *s, const struct entry *e, long lo, long hi, int *out)
{
	return get_int(L, s, e, lo, hi, out);
}

int ah_pol_duration_range(struct loader *L, const struct section *s, const struct entry *e, int64_t lo,
			  int64_t hi, int64_t *out)
{
	return get_duration_range(L, s, e, lo, hi, "", out);
}

int ah_pol_unknown_key(struct loader *L, const struct section *s, const struct entry *e, const char *allowed)
{
	return unknown_key(L, s, e, allowed);
}
