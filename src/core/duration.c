/* The grammar of durations (include/ahead/duration.h): the policy file's
 * and every CLI option's. */
#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ahead/duration.h"
#include "ahead/error.h"
#include "ahead/limits.h"

#define AH_NS_PER_S_ INT64_C(1000000000)

struct dur_unit {
	const char *s;
	int64_t ns;
};

/* Largest first, for printing. */
static const struct dur_unit dur_units[] = {
	{"d", 86400 * AH_NS_PER_S_}, {"h", 3600 * AH_NS_PER_S_}, {"m", 60 * AH_NS_PER_S_}, {"s", AH_NS_PER_S_},
	{"ms", 1000000},         {"us", 1000},           {"ns", 1},
};

int ah_duration_parse(const char *s, int64_t *out_ns)
{
	if (!s || !out_ns)
		return AH_EINVAL;
	while (isspace((unsigned char)*s))
		s++;
	size_t len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 0 || len > AH_DURATION_TEXT_MAX)
		return AH_EINVAL;
	if (s[0] == '-')
		return AH_ERANGE;
	size_t i = 0;
	uint64_t ip = 0;
	bool big = false;
	while (i < len && isdigit((unsigned char)s[i])) {
		if (ip > (UINT64_MAX - 9) / 10)
			big = true;
		else
			ip = ip * 10 + (uint64_t)(s[i] - '0');
		i++;
	}
	if (i == 0)
		return AH_EINVAL;
	uint64_t fp = 0; /* fraction digits, trailing zeros dropped */
	int fd = 0;
	if (i < len && s[i] == '.') {
		size_t j = ++i, last = 0;
		while (i < len && isdigit((unsigned char)s[i])) {
			if (s[i] != '0')
				last = i + 1;
			i++;
		}
		if (i == j)
			return AH_EINVAL;
		for (size_t k = j; k < last; k++) {
			if (fd >= 18)
				return AH_EINVAL; /* far finer than a nanosecond */
			fp = fp * 10 + (uint64_t)(s[k] - '0');
			fd++;
		}
	}
	const char *suf = s + i;
	size_t sl = len - i;
	int64_t mult = -1;
	if (sl == 0)
		mult = AH_NS_PER_S_;
	for (size_t u = 0; mult < 0 && u < sizeof(dur_units) / sizeof(dur_units[0]); u++)
		if (strlen(dur_units[u].s) == sl && memcmp(suf, dur_units[u].s, sl) == 0)
			mult = dur_units[u].ns;
	if (mult < 0)
		return AH_EINVAL;
	/* the fraction must be a whole number of nanoseconds */
	uint64_t m = (uint64_t)mult;
	while (fd > 0 && m % 10 == 0) {
		m /= 10;
		fd--;
	}
	if (fd > 0)
		return AH_EINVAL;
	if (big || ip > (uint64_t)INT64_MAX / (uint64_t)mult)
		return AH_ERANGE;
	uint64_t ns = ip * (uint64_t)mult;
	if (fp > ((uint64_t)INT64_MAX - ns) / m)
		return AH_ERANGE;
	ns += fp * m;
	*out_ns = (int64_t)ns;
	return 0;
}

int ah_duration_format(int64_t ns, char *buf, size_t len)
{
	if (!buf)
		return AH_EINVAL;
	if (ns < 0)
		return AH_ERANGE;
	char tmp[32];
	int w;
	if (ns == 0) {
		w = snprintf(tmp, sizeof(tmp), "0s");
	} else {
		size_t u = 0;
		while (ns % dur_units[u].ns != 0)
			u++;
		w = snprintf(tmp, sizeof(tmp), "%" PRId64 "%s", ns / dur_units[u].ns, dur_units[u].s);
	}
	if (w < 0 || (size_t)w >= len)
		return AH_ERANGE;
	memcpy(buf, tmp, (size_t)w + 1);
	return 0;
}
