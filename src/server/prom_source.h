/* The daemon's [source] polls (docs/SHADOW.md, "Live sources"): each
 * [source NAME] of the applied policy is a Prometheus range query read
 * every `every` into the usage history of its workload and dimension.
 *
 * The polls run in the server's loop (src/server/http.c, timers): a poll
 * blocks the loop for at most AH_PROM_SOURCE_TIMEOUT_S (one request: a
 * source's lookback / step is at most one query's points). A failed poll
 * (Prometheus down, a refused query) logs a warning and is retried at the
 * next interval. A source goes on from the last point read (at first: the
 * history's latest point of its series, else `lookback` ago). The
 * applied policy is read every tick: a reload that changes or removes a
 * source restarts or stops its polls. */
#ifndef AHEAD_SERVER_PROM_SOURCE_H
#define AHEAD_SERVER_PROM_SOURCE_H

#include <stdint.h>

#include "ahead/service.h"

typedef struct ah_prom_sources ah_prom_sources;

/* 0 or AH_ENOMEM. */
int ah_prom_sources_new(ah_prom_sources **out);
void ah_prom_sources_free(ah_prom_sources *ps);
/* Polls the sources that are due at mono_ns (CLOCK_MONOTONIC), reading up
 * to wall_ns (CLOCK_REALTIME). NULL-safe: does nothing. */
void ah_prom_sources_tick(ah_prom_sources *ps, ah_service *svc, int64_t mono_ns, int64_t wall_ns);

#endif
