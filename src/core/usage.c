/* The usage history's names, parameters, times and retention tiers
 * (include/ahead/usage.h): the grammar every caller shares — the store, the
 * service, the CLI — pure functions, no storage. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/names.h"
#include "ahead/usage.h"

static void seterr2(char *err, size_t len, const char *fmt, const char *a, const char *b)
{
	if (err && len)
		snprintf(err, len, fmt, a, b);
}

int ah_shadow_params_parse(const char *s, ah_shadow_param *params, int *out_n, char *err,
			   size_t errlen)
{
	ah_shadow_param tmp[AH_SHADOW_MAX_PARAMS];
	int n = 0;
	if (!s || !params || !out_n)
		return AH_EINVAL;
	const char *p = s;
	while (*p == ' ')
		p++;
	if (*p == '\0') {
		*out_n = 0;
		return 0;
	}
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		while (len && p[len - 1] == ' ')
			len--;
		while (len && *p == ' ') {
			p++;
			len--;
		}
		const char *eq = memchr(p, '=', len);
		char item[AH_SHADOW_PARAM_KEY_MAX + AH_SHADOW_PARAM_VALUE_MAX + 2];
		snprintf(item, sizeof(item), "%.*s", (int)(len > sizeof(item) - 1 ? sizeof(item) - 1 : len), p);
		if (!eq) {
			seterr2(err, errlen, "'%.40s': expected key=value%s", item, "");
			return AH_EINVAL;
		}
		if (n == AH_SHADOW_MAX_PARAMS) {
			seterr2(err, errlen, "%s: more than 16 parameters%s", "params", "");
			return AH_ETOOBIG;
		}
		size_t kl = (size_t)(eq - p), vl = len - kl - 1;
		if (kl >= AH_SHADOW_PARAM_KEY_MAX || vl >= AH_SHADOW_PARAM_VALUE_MAX) {
			seterr2(err, errlen, "'%.40s': %s", item,
			       kl >= AH_SHADOW_PARAM_KEY_MAX ? "key longer than 63 bytes"
							     : "value longer than 127 bytes");
			return AH_ETOOBIG;
		}
		memcpy(tmp[n].key, p, kl);
		tmp[n].key[kl] = '\0';
		memcpy(tmp[n].value, eq + 1, vl);
		tmp[n].value[vl] = '\0';
		if (ah_name_check_param_key(tmp[n].key)) {
			seterr2(err, errlen, "'%.40s': %s", item, "key must be 1-63 of [A-Za-z0-9_.-]");
			return AH_EINVAL;
		}
		if (ah_name_check_param_value(tmp[n].value)) {
			seterr2(err, errlen, "'%.40s': %s", item, "value has a control character");
			return AH_EINVAL;
		}
		for (int i = 0; i < n; i++)
			if (!strcmp(tmp[i].key, tmp[n].key)) {
				seterr2(err, errlen, "%s: %s", tmp[n].key, "given twice");
				return AH_EINVAL;
			}
		n++;
		if (!end)
			break;
		p = end + 1;
	}
	memcpy(params, tmp, sizeof(tmp[0]) * (size_t)n);
	*out_n = n;
	return 0;
}

static void seterr(char *err, size_t len, const char *fmt, const char *a)
{
	if (err && len)
		snprintf(err, len, fmt, a);
}

bool ah_shadow_param_reserved(const char *key)
{
	return strncmp(key, AH_SHADOW_RESERVED_PREFIX, sizeof(AH_SHADOW_RESERVED_PREFIX) - 1) == 0;
}

/* The conditioned model's value rules (src/forecast/conditioned.c) on top
 * of the store's: it splits groups on ';' and '|' and needs a value to tell
 * numbers from categories. */
int ah_shadow_param_value_check(const ah_shadow_param *p, char *err, size_t errlen)
{
	if (!p->value[0]) {
		seterr(err, errlen, "%s: empty value", p->key);
		return AH_EINVAL;
	}
	if (strpbrk(p->value, "=;|")) {
		seterr(err, errlen, "%s: value may not contain '=', ';' or '|'", p->key);
		return AH_EINVAL;
	}
	return 0;
}

int ah_shadow_params_check(const char *params, char *err, size_t errlen)
{
	ah_shadow_param pv[AH_SHADOW_MAX_PARAMS];
	int n = 0, rc;
	if (!params || !*params)
		return 0;
	if (strlen(params) >= AH_SHADOW_PARAMS_TEXT_MAX) {
		seterr(err, errlen, "params: longer than %s bytes", "1023");
		return AH_ETOOBIG;
	}
	if ((rc = ah_shadow_params_parse(params, pv, &n, err, errlen)))
		return rc;
	if (n > AH_SHADOW_MAX_USER_PARAMS) {
		if (err && errlen)
			snprintf(err, errlen, "params: more than %d parameters", AH_SHADOW_MAX_USER_PARAMS);
		return AH_ETOOBIG;
	}
	for (int i = 0; i < n; i++) {
		if (ah_shadow_param_reserved(pv[i].key)) {
			seterr(err, errlen, "%s: keys starting with '" AH_SHADOW_RESERVED_PREFIX "' are reserved", pv[i].key);
			return AH_EINVAL;
		}
		if ((rc = ah_shadow_param_value_check(&pv[i], err, errlen)))
			return rc;
	}
	return 0;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

int ah_shadow_format_time(int64_t t_ns, char *buf, size_t len)
{
	if (!buf || t_ns < 0)
		return AH_EINVAL;
	int64_t secs = t_ns / AH_NS_PER_S, frac = t_ns % AH_NS_PER_S;
	int64_t days = secs / 86400, sod = secs % 86400, y;
	int m, d;
	civil_from_days(days, &y, &m, &d);
	int n = snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02d", (long long)y, m, d,
			 (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
	if (n < 0 || (size_t)n >= len)
		return AH_ERANGE;
	if (frac) {
		char f[16];
		snprintf(f, sizeof(f), ".%09lld", (long long)frac);
		size_t fl = strlen(f);
		while (fl > 1 && f[fl - 1] == '0')
			f[--fl] = '\0';
		if ((size_t)n + fl + 2 > len)
			return AH_ERANGE;
		memcpy(buf + n, f, fl);
		n += (int)fl;
	}
	if ((size_t)n + 2 > len)
		return AH_ERANGE;
	buf[n++] = 'Z';
	buf[n] = '\0';
	return 0;
}

/* Reads exactly k digits. */
static int digits(const char **p, int k, int *out)
{
	int v = 0;
	for (int i = 0; i < k; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += k;
	*out = v;
	return 0;
}

/* ".fffffffff" (1..9 digits) to ns; p points at the dot or elsewhere. */
static int fraction(const char **p, int64_t *ns)
{
	*ns = 0;
	if (**p != '.')
		return 0;
	(*p)++;
	int k = 0;
	int64_t v = 0;
	while (**p >= '0' && **p <= '9') {
		if (++k > 9)
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	if (k == 0)
		return -1;
	while (k++ < 9)
		v *= 10;
	*ns = v;
	return 0;
}

int ah_shadow_parse_time(const char *s, int64_t *out_ns)
{
	if (!s || !*s || !out_ns)
		return AH_EINVAL;
	const char *p = s;
	int64_t frac = 0;
	if (strlen(s) > 40)
		return AH_EINVAL;
	/* Epoch seconds: digits, optional fraction. */
	size_t k = strspn(s, "0123456789");
	if (k > 0 && (s[k] == '\0' || s[k] == '.')) {
		int64_t secs = 0;
		while (*p >= '0' && *p <= '9') {
			if (secs > AH_SHADOW_T_MAX / AH_NS_PER_S)
				return AH_ERANGE;
			secs = secs * 10 + (*p - '0');
			p++;
		}
		if (fraction(&p, &frac) || *p)
			return AH_EINVAL;
		if (secs > (AH_SHADOW_T_MAX - frac) / AH_NS_PER_S)
			return AH_ERANGE;
		*out_ns = secs * AH_NS_PER_S + frac;
		return 0;
	}
	int y, mo, d, h = 0, mi = 0, se = 0;
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d))
		return AH_EINVAL;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
		return AH_EINVAL;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return AH_EINVAL;
	int64_t off = 0;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			return AH_EINVAL;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &se) || fraction(&p, &frac))
				return AH_EINVAL;
		}
		if (h > 23 || mi > 59 || se > 59)
			return AH_EINVAL;
		if (*p == 'Z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om;
			if (digits(&p, 2, &oh))
				return AH_EINVAL;
			if (*p == ':')
				p++;
			if (digits(&p, 2, &om) || oh > 23 || om > 59)
				return AH_EINVAL;
			off = sign * (int64_t)(oh * 3600 + om * 60);
		}
	}
	if (*p)
		return AH_EINVAL;
	int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
	if (secs < 0)
		return AH_ERANGE;
	if (secs > (AH_SHADOW_T_MAX - frac) / AH_NS_PER_S)
		return AH_ERANGE;
	*out_ns = secs * AH_NS_PER_S + frac;
	return 0;
}

void ah_shadow_default_tiers(ah_shadow_tier tiers[AH_SHADOW_MAX_TIERS], int *out_n)
{
	const int64_t min = 60 * AH_NS_PER_S, hour = 60 * min, day = 24 * hour;
	memset(tiers, 0, sizeof(ah_shadow_tier) * AH_SHADOW_MAX_TIERS);
	tiers[0] = (ah_shadow_tier){0, day};
	tiers[1] = (ah_shadow_tier){min, 30 * day};
	tiers[2] = (ah_shadow_tier){hour, 365 * day};
	*out_n = 3;
}

int ah_shadow_check_tiers(const ah_shadow_tier *tiers, int n)
{
	if (!tiers || n < 1 || n > AH_SHADOW_MAX_TIERS)
		return AH_EINVAL;
	if (tiers[0].width_ns != 0)
		return AH_EINVAL;
	for (int i = 0; i < n; i++) {
		if (tiers[i].keep_ns <= 0)
			return AH_ERANGE;
		if (i > 0 && (tiers[i].width_ns <= tiers[i - 1].width_ns ||
			      tiers[i].width_ns < AH_SHADOW_GRAN_MIN_NS ||
			      tiers[i].width_ns > 366 * AH_SHADOW_GRAN_MAX_NS))
			return AH_ERANGE;
	}
	return 0;
}

