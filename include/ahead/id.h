/* ahead: the grammar of ids (allocations, queued requests, events, series):
 * a positive decimal integer up to INT64_MAX, digits only — no sign, no
 * blank, no base prefix, nothing after. */
#ifndef AHEAD_ID_H
#define AHEAD_ID_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 0, AH_EINVAL (empty, zero, a non-digit) or AH_ERANGE (above INT64_MAX). */
int ah_id_parse(const char *s, uint64_t *out);

#ifdef __cplusplus
}
#endif
#endif
