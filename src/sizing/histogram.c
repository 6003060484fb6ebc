/* Exponential decaying histogram, a faithful C port of the Kubernetes VPA
 * recommender's util/histogram.go, histogram_options.go and
 * decaying_histogram.go (kubernetes/autoscaler, vertical-pod-autoscaler). */
#include <math.h>
#include <string.h>

#include "ahead/error.h"
#include "sizing/sizing_int.h"

#define MAX_DECAY_EXPONENT 100

int ah_hist_opts_init(ah_hist_opts *o, double max_value, double first, double ratio, double epsilon)
{
	if (!(max_value > 0) || !(first > 0) || !(ratio > 1) || !(epsilon > 0))
		return AH_EINVAL;
	double lr = log(ratio);
	int n = (int)ceil(log(max_value * (ratio - 1) / first + 1) / lr) + 1;
	if (n > AH_HIST_MAX_BUCKETS)
		return AH_ERANGE;
	o->nbuckets = n;
	o->first = first;
	o->ratio = ratio;
	o->log_ratio = lr;
	o->epsilon = epsilon;
	return 0;
}

int ah_hist_find_bucket(const ah_hist_opts *o, double v)
{
	if (!(v >= o->first))
		return 0;
	int b = (int)(log(v * (o->ratio - 1) / o->first + 1) / o->log_ratio);
	return b >= o->nbuckets ? o->nbuckets - 1 : b;
}

double ah_hist_bucket_start(const ah_hist_opts *o, int b)
{
	if (b <= 0)
		return 0.0;
	return o->first * (pow(o->ratio, b) - 1) / (o->ratio - 1);
}

void ah_dhist_init(ah_dhist *h, const ah_hist_opts *o, int64_t half_life_s)
{
	memset(h, 0, sizeof(*h));
	h->o = o;
	h->minb = o->nbuckets - 1;
	h->maxb = 0;
	h->half_life_s = half_life_s;
}

static void update_min_max(ah_dhist *h)
{
	double eps = h->o->epsilon;
	int last = h->o->nbuckets - 1;
	while (h->w[h->minb] < eps && h->minb < last)
		h->minb++;
	while (h->w[h->maxb] < eps && h->maxb > 0)
		h->maxb--;
}

static void scale(ah_dhist *h, double f)
{
	for (int b = h->minb; b <= h->maxb; b++)
		h->w[b] *= f;
	h->total *= f;
	update_min_max(h);
}

static double decay_factor(ah_dhist *h, int64_t t)
{
	if (!h->has_ref) {
		/* VPA starts from the zero time, so the first sample shifts the
		 * reference to its own time rounded to the hour. */
		h->ref_s = (int64_t)llround((double)t / 3600.0) * 3600;
		h->has_ref = 1;
	} else if (t > h->ref_s + h->half_life_s * MAX_DECAY_EXPONENT) {
		int64_t nref = (int64_t)llround((double)t / 3600.0) * 3600;
		scale(h, exp2((double)(h->ref_s - nref) / (double)h->half_life_s));
		h->ref_s = nref;
	}
	return exp2((double)(t - h->ref_s) / (double)h->half_life_s);
}

void ah_dhist_add(ah_dhist *h, double v, double weight, int64_t t_s)
{
	if (!(weight >= 0))
		return;
	weight *= decay_factor(h, t_s);
	int b = ah_hist_find_bucket(h->o, v);
	h->w[b] += weight;
	h->total += weight;
	if (b < h->minb && h->w[b] >= h->o->epsilon)
		h->minb = b;
	if (b > h->maxb && h->w[b] >= h->o->epsilon)
		h->maxb = b;
}

void ah_dhist_sub(ah_dhist *h, double v, double weight, int64_t t_s)
{
	if (!(weight >= 0))
		return;
	weight *= decay_factor(h, t_s);
	int b = ah_hist_find_bucket(h->o, v);
	if (weight > h->w[b] - h->o->epsilon)
		weight = h->w[b];
	h->total -= weight;
	h->w[b] -= weight;
	update_min_max(h);
}

int ah_dhist_empty(const ah_dhist *h)
{
	return h->w[h->minb] < h->o->epsilon;
}

double ah_dhist_percentile(const ah_dhist *h, double p)
{
	if (ah_dhist_empty(h))
		return 0.0;
	double partial = 0, threshold = p * h->total;
	int b = h->minb;
	for (; b < h->maxb; b++) {
		partial += h->w[b];
		if (partial >= threshold)
			break;
	}
	if (b < h->o->nbuckets - 1)
		return ah_hist_bucket_start(h->o, b + 1);
	return ah_hist_bucket_start(h->o, b);
}
