/* ahead (internal to src/forecast): the radix-2 complex FFT behind the
 * autocorrelation (season.c). */
#ifndef AHEAD_FORECAST_FFT_H
#define AHEAD_FORECAST_FFT_H

#include <stdbool.h>
#include <stddef.h>

/* Every stage's twiddle factors of an n-point transform: stage len (2, 4,
 * ..., n) at re/im[len/2 - 1 .. len - 1). */
typedef struct {
	size_t n;
	bool inverse;
	double *re, *im;
} ah_fft_twiddles;

/* The tables for n (a power of two, >= 2) and the direction, built on first
 * use and kept for the process (a transform size recurs in every fit). NULL
 * when out of memory. Thread-safe. */
const ah_fft_twiddles *ah_fft_twiddles_get(size_t n, bool inverse);

/* rev(i) -> rev(i + 1) for the bit reversal over log2(n) bits: callers write
 * a transform's input in bit-reversed order with it. */
size_t ah_fft_rev_next(size_t j, size_t n);

/* In place, of input in bit-reversed order. */
void ah_fft_reversed(double *re, double *im, const ah_fft_twiddles *tw);

#endif
