/* ahead: stable sort of doubles (see sort_doubles.h): insertion sort on
 * short runs, then bottom-up merges through a scratch array. */
#include <string.h>

#include "sort_doubles.h"

#define RUN 8

static void insertion(double *a, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		double v = a[i];
		size_t j = i;
		for (; j > 0 && a[j - 1] > v; j--) /* strictly greater: equal keys keep their order */
			a[j] = a[j - 1];
		a[j] = v;
	}
}

/* dst[lo..hi) from the sorted runs src[lo..mid) and src[mid..hi). */
static void merge(const double *src, double *dst, size_t lo, size_t mid, size_t hi)
{
	size_t i = lo, j = mid, k = lo;
	while (i < mid && j < hi)
		dst[k++] = src[j] < src[i] ? src[j++] : src[i++]; /* ties from the left: stable */
	while (i < mid)
		dst[k++] = src[i++];
	while (j < hi)
		dst[k++] = src[j++];
}

void ah_fc_sort_doubles(double *a, size_t n, double *tmp)
{
	for (size_t lo = 0; lo < n; lo += RUN)
		insertion(a + lo, n - lo < RUN ? n - lo : RUN);
	double *src = a, *dst = tmp;
	for (size_t w = RUN; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			merge(src, dst, lo, mid, hi);
		}
		double *t = src;
		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, n * sizeof(double));
}
