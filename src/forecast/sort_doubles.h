/* ahead (internal to src/forecast): a stable ascending sort of doubles
 * without NaN, for the residual windows kept sorted after a fit.
 *
 * Why not qsort: its comparison through a function pointer made sorting a
 * few hundred windows of a few hundred residuals a tenth of a fit. Being
 * stable, the result is exactly glibc qsort's (a merge sort) with the usual
 * comparison, even for -0 beside +0. */
#ifndef AHEAD_FORECAST_SORT_DOUBLES_H
#define AHEAD_FORECAST_SORT_DOUBLES_H

#include <stddef.h>

/* Sorts a[0..n); tmp holds n doubles of scratch. */
void ah_fc_sort_doubles(double *a, size_t n, double *tmp);

#endif
