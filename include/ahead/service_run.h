/* ahead: what the service keeps of `ahead run` beyond the request path —
 * one ledger event per run's end (exited, killed for exceeding what the
 * pool can give, an orphan reconciled after a crash) or a limit changed
 * behind ahead's back (drift). The allocation's own grant, resizes and
 * release are the engine's events as for any allocation. */
#ifndef AHEAD_SERVICE_RUN_H
#define AHEAD_SERVICE_RUN_H

#include <stdint.h>

#include "ahead/service.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Appends a "run" event for allocation id (tenant, pool and class taken
 * from the engine while it still holds the allocation) in its own ledger
 * transaction. reason: a stable code ("exited", "killed", "signalled",
 * "orphaned", "drift", "unconfined", "dry-run"); detail: a line for people;
 * data: a JSON object or NULL; res (may be NULL): the usage it names. */
int ah_service_run_event(ah_service *s, uint64_t id, const char *reason, const char *detail, const char *data,
			 const ah_vec *res, int64_t now_ns);

#ifdef __cplusplus
}
#endif
#endif
