/* ahead: the grammar of durations, the one the policy file and every CLI
 * option use (docs/GRAMMAR.md): a number with an optional unit — ns, us,
 * ms, s, m (minutes), h, d; no unit means seconds. A fraction is allowed
 * when the result is a whole number of nanoseconds ("1.5m" = 90s, "0.25s";
 * "1.5ns" is refused). No blanks inside, no sign, no exponent, at most
 * INT64_MAX ns. */
#ifndef AHEAD_DURATION_H
#define AHEAD_DURATION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 0, AH_EINVAL (not a duration) or AH_ERANGE (negative or too large);
 * blanks around the text are ignored. */
int ah_duration_parse(const char *s, int64_t *out_ns);
/* The largest exact unit: "5m", "90s", "1500ms", "0s". AH_ERANGE when
 * negative or the buffer is short. */
int ah_duration_format(int64_t ns, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
