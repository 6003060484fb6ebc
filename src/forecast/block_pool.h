/* ahead (internal to src/forecast): large scratch blocks kept between fits.
 *
 * Why: a forecaster's fit touches about 4 MB of fresh memory (a residual
 * window per horizon per candidate, the autocorrelation's FFT buffers); the
 * allocator hands it back to the kernel when the forecaster is freed, and
 * the next fit pays a page fault per 4 KB again: a fifth of a fit's time on
 * the report set. Blocks put back here are kept (up to a bound) for the next
 * fit in any thread. */
#ifndef AHEAD_FORECAST_BLOCK_POOL_H
#define AHEAD_FORECAST_BLOCK_POOL_H

#include <stddef.h>

/* Uninitialised memory of `bytes` (NULL on failure), to be put back with
 * the same size. */
void *ah_fc_block_get(size_t bytes);
/* Keeps p for a later get of the same size, or frees it. NULL-safe. */
void ah_fc_block_put(void *p, size_t bytes);

#endif
