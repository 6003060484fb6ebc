/* ahead: resource vectors, dimensions and unit parsing/printing.
 *
 * Values are parsed with exact decimal arithmetic: the digits of the number
 * are kept as a little-endian decimal string and multiplied by the suffix's
 * factors one small factor at a time, so "1.5Gi" is exactly 1610612736 and
 * no binary floating point rounding can creep in. Anything left after the
 * decimal point once scaled to the base unit rounds the value up. */
#include "ahead/resource.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/names.h"

/* Longest accepted value token: far more than any sane value needs (2^62 has
 * 19 digits) and a hard cap on the work done per value. */
#define TOKEN_MAX 64
/* Decimal digits after scaling: token digits plus up to 19 for the factor. */
#define DEC_MAX (TOKEN_MAX + 24)

static const char *const kind_names[] = {"cpu", "bytes", "bytes_per_s", "bits_per_s", "count"};

static const char *const builtin_names[] = {"cpu", "memory", "io", "net"};
static const ah_unit_kind builtin_kinds[] = {AH_UNIT_CPU, AH_UNIT_BYTES, AH_UNIT_BYTES_PER_S,
					     AH_UNIT_BITS_PER_S};

static bool valid_kind(ah_unit_kind kind)
{
	return (int)kind >= AH_UNIT_CPU && (int)kind <= AH_UNIT_COUNT;
}

void ah_dimset_init(ah_dimset *ds)
{
	memset(ds, 0, sizeof(*ds));
	for (int i = 0; i < 4; i++) {
		snprintf(ds->name[i], AH_NAME_MAX, "%s", builtin_names[i]);
		ds->kind[i] = builtin_kinds[i];
	}
	ds->n = 4;
}

int ah_dimset_add(ah_dimset *ds, const char *name, ah_unit_kind kind, int *out_idx)
{
	if (!ds || !name || !valid_kind(kind) || ah_name_check_dim(name))
		return AH_EINVAL;
	if (ah_dimset_find(ds, name) >= 0)
		return AH_EEXIST;
	if (ds->n >= AH_MAX_DIMS)
		return AH_ETOOBIG;
	int idx = ds->n++;
	snprintf(ds->name[idx], AH_NAME_MAX, "%s", name);
	ds->kind[idx] = kind;
	if (out_idx)
		*out_idx = idx;
	return 0;
}

/* Finds a dimension by a name that is not NUL-terminated. */
static int dimset_find_n(const ah_dimset *ds, const char *name, size_t len)
{
	if (len == 0 || len >= AH_NAME_MAX)
		return -1;
	for (int i = 0; i < ds->n; i++)
		if (strlen(ds->name[i]) == len && memcmp(ds->name[i], name, len) == 0)
			return i;
	return -1;
}

int ah_dimset_find(const ah_dimset *ds, const char *name)
{
	if (!ds || !name)
		return -1;
	return dimset_find_n(ds, name, strlen(name));
}

const char *ah_unit_kind_name(ah_unit_kind kind)
{
	return valid_kind(kind) ? kind_names[kind] : "unknown";
}

int ah_unit_kind_parse(const char *s, ah_unit_kind *out)
{
	if (!s)
		return AH_EINVAL;
	for (int i = 0; i <= AH_UNIT_COUNT; i++) {
		if (strcmp(s, kind_names[i]) == 0) {
			if (out)
				*out = (ah_unit_kind)i;
			return 0;
		}
	}
	return AH_EINVAL;
}

/* ---- parsing ---------------------------------------------------------- */

/* A multiplier as "factor ^ power", optionally times 8 (bytes -> bits). */
struct scale {
	unsigned factor;
	int power;
	bool times8;
};

struct prefix {
	const char *s;
	unsigned factor;
	int power;
};

/* Longest first so that "Ki" is tried before "k"-like single letters. */
static const struct prefix prefixes[] = {
	{"Ki", 1024, 1}, {"Mi", 1024, 2}, {"Gi", 1024, 3}, {"Ti", 1024, 4},
	{"Pi", 1024, 5}, {"Ei", 1024, 6}, {"k", 1000, 1},  {"M", 1000, 2},
	{"G", 1000, 3},  {"T", 1000, 4},  {"P", 1000, 5},  {"E", 1000, 6},
};

static void why_set(char *why, size_t whylen, const char *fmt, const char *tok, size_t toklen)
{
	if (!why || whylen == 0)
		return;
	char q[TOKEN_MAX + 8];
	size_t n = toklen > 32 ? 32 : toklen;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)tok[i];
		q[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (toklen > n) {
		memcpy(q + n, "...", 3);
		n += 3;
	}
	q[n] = '\0';
	snprintf(why, whylen, fmt, q);
}

/* Matches a suffix (everything after the number) for a unit kind. */
static int match_suffix(ah_unit_kind kind, const char *s, size_t len, struct scale *sc)
{
	sc->factor = 1;
	sc->power = 0;
	sc->times8 = false;

	switch (kind) {
	case AH_UNIT_CPU:
		if (len == 0) {
			sc->factor = 1000; /* cores -> millicores */
			sc->power = 1;
			return 0;
		}
		if (len == 1 && s[0] == 'm')
			return 0;
		return AH_EINVAL;
	case AH_UNIT_COUNT:
		return len == 0 ? 0 : AH_EINVAL;
	case AH_UNIT_BYTES:
	case AH_UNIT_BYTES_PER_S:
	case AH_UNIT_BITS_PER_S:
		break;
	default:
		return AH_EINVAL;
	}

	size_t plen = 0;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t l = strlen(prefixes[i].s);
		if (l <= len && memcmp(s, prefixes[i].s, l) == 0) {
			sc->factor = prefixes[i].factor;
			sc->power = prefixes[i].power;
			plen = l;
			break;
		}
	}
	const char *t = s + plen;
	size_t tl = len - plen;
#define TAIL(lit) (tl == sizeof(lit) - 1 && memcmp(t, lit, tl) == 0)
	if (tl == 0)
		return 0;
	if (kind == AH_UNIT_BYTES)
		return TAIL("B") ? 0 : AH_EINVAL;
	if (kind == AH_UNIT_BYTES_PER_S)
		return (TAIL("B") || TAIL("/s") || TAIL("B/s")) ? 0 : AH_EINVAL;
	/* bits per second */
	if (TAIL("bps") || TAIL("b/s"))
		return 0;
	if (TAIL("B/s")) {
		sc->times8 = true;
		return 0;
	}
	return AH_EINVAL;
#undef TAIL
}

static const char *suffix_help(ah_unit_kind kind)
{
	switch (kind) {
	case AH_UNIT_CPU:
		return "expected no suffix (cores) or 'm' (millicores)";
	case AH_UNIT_COUNT:
		return "count values take no suffix";
	case AH_UNIT_BYTES:
		return "expected k M G T P E or Ki Mi Gi Ti Pi Ei, optionally followed by B";
	case AH_UNIT_BYTES_PER_S:
		return "expected k M G T P E or Ki Mi Gi Ti Pi Ei, optionally followed by B, /s or B/s";
	case AH_UNIT_BITS_PER_S:
		return "expected k M G T P E or Ki Mi Gi Ti Pi Ei, optionally followed by bps, b/s "
		       "(bits) or B/s (bytes)";
	}
	return "";
}

static void dec_mul(unsigned char *d, int *n, unsigned f)
{
	unsigned long long carry = 0;
	for (int i = 0; i < *n; i++) {
		unsigned long long t = (unsigned long long)d[i] * f + carry;
		d[i] = (unsigned char)(t % 10);
		carry = t / 10;
	}
	while (carry && *n < DEC_MAX) {
		d[(*n)++] = (unsigned char)(carry % 10);
		carry /= 10;
	}
}

/* Parses s[0..len) (already trimmed). On error returns the code and writes a
 * reason into why. */
static int unit_parse_n(ah_unit_kind kind, const char *s, size_t len, int64_t *out, char *why,
			size_t whylen)
{
	if (!valid_kind(kind)) {
		why_set(why, whylen, "unknown unit kind%s", "", 0);
		return AH_EINVAL;
	}
	if (len == 0) {
		why_set(why, whylen, "empty value%s", "", 0);
		return AH_EINVAL;
	}
	if (len > TOKEN_MAX) {
		why_set(why, whylen, "value '%s' is too long", s, len);
		return AH_EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		if (isspace((unsigned char)s[i])) {
			why_set(why, whylen, "no space allowed inside value '%s' (write e.g. 5Gi)", s,
				len);
			return AH_EINVAL;
		}
	}
	if (s[0] == '-') {
		why_set(why, whylen, "negative value '%s' is not allowed", s, len);
		return AH_ERANGE;
	}

	/* number: D+ ( '.' D+ )? */
	size_t i = 0, int_digits = 0, frac_digits = 0;
	while (i < len && s[i] >= '0' && s[i] <= '9') {
		i++;
		int_digits++;
	}
	size_t dot = len;
	if (i < len && s[i] == '.') {
		dot = i++;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			i++;
			frac_digits++;
		}
	}
	if (int_digits == 0 || (dot < len && frac_digits == 0) || (i < len && s[i] == '.')) {
		why_set(why, whylen, "malformed number '%s'", s, len);
		return AH_EINVAL;
	}
	const char *suf = s + i;
	size_t suflen = len - i;
	if (suflen >= 2 && (suf[0] == 'e' || suf[0] == 'E') &&
	    (isdigit((unsigned char)suf[1]) || suf[1] == '+' || suf[1] == '-')) {
		why_set(why, whylen, "exponent notation '%s' is not supported (write the digits or use "
				     "a suffix)", s, len);
		return AH_EINVAL;
	}
	if (kind == AH_UNIT_COUNT && frac_digits > 0) {
		why_set(why, whylen, "'%s' is not a whole number (count values are integers)", s, len);
		return AH_EINVAL;
	}
	struct scale sc;
	if (match_suffix(kind, suf, suflen, &sc) != 0) {
		why_set(why, whylen, "bad unit suffix '%s'", suf, suflen);
		if (why && whylen) {
			size_t l = strlen(why);
			snprintf(why + l, whylen - l, " (%s)", suffix_help(kind));
		}
		return AH_EINVAL;
	}

	/* little-endian decimal digits; the first frac_digits are the fraction */
	unsigned char d[DEC_MAX];
	int n = 0;
	for (size_t k = i; k > 0; k--) {
		char c = s[k - 1];
		if (c != '.')
			d[n++] = (unsigned char)(c - '0');
	}
	int nfrac = (int)frac_digits;
	for (int p = 0; p < sc.power; p++)
		dec_mul(d, &n, sc.factor);
	if (sc.times8)
		dec_mul(d, &n, 8);

	bool round_up = false;
	for (int k = 0; k < nfrac; k++)
		if (d[k]) {
			round_up = true;
			break;
		}
	uint64_t v = 0;
	for (int k = n - 1; k >= nfrac; k--) {
		if (v > ((uint64_t)AH_VALUE_MAX - d[k]) / 10)
			goto too_big;
		v = v * 10 + d[k];
	}
	if (round_up && ++v > (uint64_t)AH_VALUE_MAX)
		goto too_big;
	*out = (int64_t)v;
	return 0;
too_big:
	why_set(why, whylen, "value '%s' is too large (maximum is 2^62 base units)", s, len);
	return AH_ERANGE;
}

static void trim(const char **a, const char **b)
{
	while (*a < *b && isspace((unsigned char)**a))
		(*a)++;
	while (*b > *a && isspace((unsigned char)(*b)[-1]))
		(*b)--;
}

int ah_unit_parse(ah_unit_kind kind, const char *s, int64_t *out)
{
	if (!s || !out)
		return AH_EINVAL;
	const char *a = s, *b = s + strlen(s);
	trim(&a, &b);
	int64_t v;
	int rc = unit_parse_n(kind, a, (size_t)(b - a), &v, NULL, 0);
	if (rc == 0)
		*out = v;
	return rc;
}

/* ---- printing --------------------------------------------------------- */

struct fmt_suffix {
	const char *s;
	uint64_t mult;
};

/* Largest multiplier first: the first exact divisor gives the shortest form. */
static const struct fmt_suffix fmt_suffixes[] = {
	{"Ei", 1ULL << 60}, {"E", 1000000000000000000ULL}, {"Pi", 1ULL << 50},
	{"P", 1000000000000000ULL}, {"Ti", 1ULL << 40}, {"T", 1000000000000ULL},
	{"Gi", 1ULL << 30}, {"G", 1000000000ULL}, {"Mi", 1ULL << 20}, {"M", 1000000ULL},
	{"Ki", 1ULL << 10}, {"k", 1000ULL},
};

/* Appends the decimal digits of m (no snprintf: this runs for every
 * ledger row and event a daemon writes). */
static size_t put_u64(char *p, uint64_t m)
{
	char d[20];
	size_t n = 0;
	do {
		d[n++] = (char)('0' + m % 10);
		m /= 10;
	} while (m);
	for (size_t i = 0; i < n; i++)
		p[i] = d[n - 1 - i];
	return n;
}

static size_t put_str(char *p, const char *s)
{
	size_t n = strlen(s);
	memcpy(p, s, n);
	return n;
}

int ah_unit_format(ah_unit_kind kind, int64_t v, char *buf, size_t len)
{
	if (!buf || !valid_kind(kind))
		return AH_EINVAL;
	/* Negative values never come out of the parser, but differences of
	 * vectors may be printed while debugging: print them with a sign. */
	uint64_t m = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
	char tmp[48];
	size_t w = 0;

	if (v < 0)
		tmp[w++] = '-';
	if (m == 0) {
		w = 0;
		tmp[w++] = '0';
	} else if (kind == AH_UNIT_COUNT) {
		w += put_u64(tmp + w, m);
	} else if (kind == AH_UNIT_CPU) {
		if (m % 1000 == 0) {
			w += put_u64(tmp + w, m / 1000);
		} else {
			w += put_u64(tmp + w, m);
			tmp[w++] = 'm';
		}
	} else {
		const char *suf = "";
		uint64_t q = m;
		for (size_t i = 0; i < sizeof(fmt_suffixes) / sizeof(fmt_suffixes[0]); i++) {
			if (m % fmt_suffixes[i].mult == 0) {
				suf = fmt_suffixes[i].s;
				q = m / fmt_suffixes[i].mult;
				break;
			}
		}
		w += put_u64(tmp + w, q);
		w += put_str(tmp + w, suf);
	}
	if (w >= len)
		return AH_ERANGE;
	memcpy(buf, tmp, w);
	buf[w] = '\0';
	return 0;
}

/* ---- printing for people ---------------------------------------------- */

/* Digits of the canonical form's number ("259840Mi" -> 6). */
static int lead_digits(const char *s)
{
	int n = 0;
	for (s += *s == '-'; *s >= '0' && *s <= '9'; s++)
		n++;
	return n;
}

/* About three significant digits of m / unit, trailing zeros dropped:
 * "4.69", "25.4", "254". */
static void three_digits(double x, char *out, size_t len)
{
	int dec = x < 9.995 ? 2 : x < 99.95 ? 1 : 0;
	snprintf(out, len, "%.*f", dec, x);
	if (dec) {
		char *e = out + strlen(out) - 1;
		while (*e == '0')
			*e-- = '\0';
		if (*e == '.')
			*e = '\0';
	}
}

int ah_unit_format_human(ah_unit_kind kind, int64_t v, char *buf, size_t len)
{
	char canon[48];
	int rc = ah_unit_format(kind, v, canon, sizeof(canon));
	if (rc != 0)
		return rc;
	if (kind == AH_UNIT_COUNT || lead_digits(canon) <= 3 ||
	    (kind == AH_UNIT_CPU && v % 1000 == 0) || (kind == AH_UNIT_CPU && (v < 0 ? -v : v) < 10000)) {
		if (strlen(canon) >= len)
			return AH_ERANGE;
		memcpy(buf, canon, strlen(canon) + 1);
		return 0;
	}
	static const char *const bin[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
	static const char *const dec[] = {"", "k", "M", "G", "T", "P", "E"};
	const char *const *suf = kind == AH_UNIT_BITS_PER_S ? dec : kind == AH_UNIT_CPU ? NULL : bin;
	double base = kind == AH_UNIT_BITS_PER_S ? 1000.0 : 1024.0;
	double x = v < 0 ? -(double)v : (double)v;
	int i = 0;
	if (kind == AH_UNIT_CPU) {
		x /= 1000.0; /* cores: "12.3" */
	} else {
		while (i < 6 && x >= base * 0.9995) /* 1023.9Ki prints as 1Mi, not 1024Ki */
			x /= base, i++;
	}
	char num[40], tmp[48];
	three_digits(x, num, sizeof(num));
	int w = snprintf(tmp, sizeof(tmp), "%s%s%s", v < 0 ? "-" : "", num, suf ? suf[i] : "");
	if (w < 0 || (size_t)w >= len)
		return AH_ERANGE;
	memcpy(buf, tmp, (size_t)w + 1);
	return 0;
}

/* ---- vectors ---------------------------------------------------------- */

static void err_set(char *err, size_t errlen, const char *field, size_t flen, const char *reason)
{
	if (!err || errlen == 0)
		return;
	char f[AH_NAME_MAX + 8];
	size_t n = flen > AH_NAME_MAX - 1 ? AH_NAME_MAX - 1 : flen;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)field[i];
		f[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (flen > n) {
		memcpy(f + n, "...", 3);
		n += 3;
	}
	f[n] = '\0';
	snprintf(err, errlen, "%s: %s", f, reason);
}

int ah_vec_parse(const ah_dimset *ds, const char *s, ah_vec *out, char *err, size_t errlen)
{
	if (!ds || !s || !out) {
		if (err && errlen)
			snprintf(err, errlen, "vector: invalid argument");
		return AH_EINVAL;
	}
	ah_vec v;
	memset(&v, 0, sizeof(v));
	bool seen[AH_MAX_DIMS] = {false};
	const char *a = s, *end = s + strlen(s);
	trim(&a, &end);
	if (a == end) {
		err_set(err, errlen, "vector", 6, "empty (write e.g. cpu=2,memory=4Gi, or 0)");
		return AH_EINVAL;
	}
	if (end - a == 1 && *a == '0') /* the printed form of the zero vector */
		goto done;

	const char *p = a;
	for (;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *ib = comma ? comma : end;
		const char *ia = p;
		trim(&ia, &ib);
		if (ia == ib) {
			err_set(err, errlen, "vector", 6, "empty item (stray ',')");
			return AH_EINVAL;
		}
		const char *eq = memchr(ia, '=', (size_t)(ib - ia));
		if (!eq) {
			err_set(err, errlen, ia, (size_t)(ib - ia),
				"expected dimension=value (e.g. cpu=2)");
			return AH_EINVAL;
		}
		const char *na = ia, *nb = eq;
		trim(&na, &nb);
		if (na == nb) {
			err_set(err, errlen, "vector", 6, "missing dimension name before '='");
			return AH_EINVAL;
		}
		int idx = dimset_find_n(ds, na, (size_t)(nb - na));
		if (idx < 0) {
			char known[AH_MAX_DIMS * (AH_NAME_MAX + 2) + 32];
			size_t k = (size_t)snprintf(known, sizeof(known), "unknown dimension (known:");
			for (int d = 0; d < ds->n && k < sizeof(known); d++)
				k += (size_t)snprintf(known + k, sizeof(known) - k, "%s %s",
						      d ? "," : "", ds->name[d]);
			if (k < sizeof(known))
				snprintf(known + k, sizeof(known) - k, ")");
			err_set(err, errlen, na, (size_t)(nb - na), known);
			return AH_EINVAL;
		}
		if (seen[idx]) {
			err_set(err, errlen, na, (size_t)(nb - na), "given more than once");
			return AH_EINVAL;
		}
		seen[idx] = true;
		const char *va = eq + 1, *vb = ib;
		trim(&va, &vb);
		char why[256];
		int rc = unit_parse_n(ds->kind[idx], va, (size_t)(vb - va), &v.v[idx], why,
				      sizeof(why));
		if (rc != 0) {
			err_set(err, errlen, na, (size_t)(nb - na), why);
			return rc;
		}
		if (!comma)
			break;
		p = comma + 1;
	}
done:
	*out = v;
	return 0;
}

typedef int (*unit_fmt_fn)(ah_unit_kind, int64_t, char *, size_t);

static int vec_format_with(const ah_dimset *ds, const ah_vec *v, char *buf, size_t len, unit_fmt_fn fmt)
{
	if (!ds || !v || !buf)
		return AH_EINVAL;
	char tmp[AH_MAX_DIMS * (AH_NAME_MAX + 48)];
	size_t k = 0;
	for (int i = 0; i < ds->n && i < AH_MAX_DIMS; i++) {
		if (!v->v[i])
			continue;
		char val[48];
		int rc = fmt(ds->kind[i], v->v[i], val, sizeof(val));
		if (rc != 0)
			return rc;
		size_t nl = strlen(ds->name[i]), vl = strlen(val);
		if (k + 1 + nl + 1 + vl >= sizeof(tmp))
			return AH_ERANGE;
		if (k)
			tmp[k++] = ',';
		k += put_str(tmp + k, ds->name[i]);
		tmp[k++] = '=';
		k += put_str(tmp + k, val);
		tmp[k] = '\0';
	}
	if (k == 0) {
		tmp[k++] = '0';
		tmp[k] = '\0';
	}
	if (k >= len)
		return AH_ERANGE;
	memcpy(buf, tmp, k + 1);
	return 0;
}

int ah_vec_format(const ah_dimset *ds, const ah_vec *v, char *buf, size_t len)
{
	return vec_format_with(ds, v, buf, len, ah_unit_format);
}

int ah_vec_format_human(const ah_dimset *ds, const ah_vec *v, char *buf, size_t len)
{
	return vec_format_with(ds, v, buf, len, ah_unit_format_human);
}
