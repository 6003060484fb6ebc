/* The grammar of ids (include/ahead/id.h). Digits are walked by hand:
 * strtoull would take a leading blank, a sign or "0x" in some forms. */
#include <stddef.h>

#include "ahead/error.h"
#include "ahead/id.h"

int ah_id_parse(const char *s, uint64_t *out)
{
	if (!s || !*s || !out)
		return AH_EINVAL;
	uint64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return AH_EINVAL;
		unsigned d = (unsigned)(*p - '0');
		if (v > ((uint64_t)INT64_MAX - d) / 10)
			return AH_ERANGE;
		v = v * 10 + d;
	}
	if (v == 0)
		return AH_EINVAL;
	*out = v;
	return 0;
}
