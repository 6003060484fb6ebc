/* ahead (internal to src/forecast): Nelder-Mead with its candidate points
 * evaluated in batches.
 *
 * Why: a Holt-Winters score is a chain of dependent floating-point steps, so
 * one evaluation leaves the core mostly waiting; a few evaluations run side
 * by side cost about one. Each iteration therefore asks for the reflection,
 * the expansion and both contractions at once and keeps only what the
 * sequential method would have evaluated: the same path, the same result,
 * the same count of evaluations (as ah_nm_minimize counts them). */
#ifndef AHEAD_FORECAST_NM_BATCH_H
#define AHEAD_FORECAST_NM_BATCH_H

#include <stddef.h>

#define AH_NM_BATCH 4

/* out[j] = f(x[j]) for j < k (1 <= k <= AH_NM_BATCH). */
typedef void (*ah_nm_batch_fn)(const double *const *x, size_t k, double *out, void *ctx);

/* As ah_nm_minimize (model.h), with f evaluating up to AH_NM_BATCH points. */
size_t ah_nm_minimize_batch(ah_nm_batch_fn f, void *ctx, double *x, size_t dim, double step, size_t max_evals,
			    double tol, double *fmin);

#endif
