/* ahead: the grammar of times, one for every reader (docs/GRAMMAR.md).
 * Accepted: epoch seconds with an optional fraction ("1700000000",
 * "1700000000.25"), or ISO 8601 / RFC 3339: a date "YYYY-MM-DD", optionally
 * followed by 'T', 't' or ' ' and "hh:mm[:ss[.f]]" (1-9 fraction digits,
 * '.' or ','), then 'Z', 'z', "+hh:mm", "-hhmm" or nothing (= UTC).
 * Refused: negative times, times after AH_TIME_MAX_NS (2262-01-01), leap
 * seconds (":60"), more than 9 fraction digits or AH_TIME_TEXT_MAX chars. */
#ifndef AHEAD_TIMESTAMP_H
#define AHEAD_TIMESTAMP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Nanoseconds since the epoch. 0, AH_EINVAL or AH_ERANGE. */
int ah_time_parse(const char *s, int64_t *out_ns);
/* RFC 3339 UTC with as many fraction digits as t_ns needs, none when whole
 * ("2024-01-01T00:00:00.25Z"): lossless, for exports read back. Needs up
 * to 40 bytes; AH_EINVAL when negative, AH_ERANGE when buf is short. */
int ah_time_format_exact(int64_t t_ns, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
