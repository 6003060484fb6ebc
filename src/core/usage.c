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
		const char *why = "is not text";
		if (ah_name_check_text(tmp[n].value, vl, &why) || ah_name_check_param_value(tmp[n].value)) {
			seterr2(err, errlen, "key '%.63s': value %s", tmp[n].key, why);
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

