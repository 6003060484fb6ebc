/* The grammar of times (include/ahead/timestamp.h): one parser for every
 * reader — the CLI's time options, the shadow store's CSV, long imports,
 * series files and plain traces. Civil-date arithmetic by hand (Howard
 * Hinnant's algorithms): no timegm, no locale, no time zone database. */
#include <stdio.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/limits.h"
#include "ahead/timestamp.h"

#define NS_PER_S INT64_C(1000000000)

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

int ah_time_format_exact(int64_t t_ns, char *buf, size_t len)
{
	if (!buf || t_ns < 0)
		return AH_EINVAL;
	int64_t secs = t_ns / NS_PER_S, frac = t_ns % NS_PER_S;
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
	if (**p != '.' && **p != ',')
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

int ah_time_parse(const char *s, int64_t *out_ns)
{
	if (!s || !*s || !out_ns)
		return AH_EINVAL;
	const char *p = s;
	int64_t frac = 0;
	if (strlen(s) > AH_TIME_TEXT_MAX)
		return AH_EINVAL;
	/* Epoch seconds: digits, optional fraction. */
	size_t k = strspn(s, "0123456789");
	if (k > 0 && (s[k] == '\0' || s[k] == '.')) {
		int64_t secs = 0;
		while (*p >= '0' && *p <= '9') {
			if (secs > AH_TIME_MAX_NS / NS_PER_S)
				return AH_ERANGE;
			secs = secs * 10 + (*p - '0');
			p++;
		}
		if (fraction(&p, &frac) || *p)
			return AH_EINVAL;
		if (secs > (AH_TIME_MAX_NS - frac) / NS_PER_S)
			return AH_ERANGE;
		*out_ns = secs * NS_PER_S + frac;
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
	if (*p == 'T' || *p == 't' || *p == ' ') {
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
		if (*p == 'Z' || *p == 'z') {
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
	if (secs > (AH_TIME_MAX_NS - frac) / NS_PER_S)
		return AH_ERANGE;
	*out_ns = secs * NS_PER_S + frac;
	return 0;
}

