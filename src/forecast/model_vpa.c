/* ahead: decaying exponential histogram (Kubernetes VPA recommender style)
 * and the model built on it, used for allocation sizing percentiles. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/model.h"

#define VPA_MAX_BUCKETS 4096

struct ah_vpa_hist {
	double first, ratio, half_life;
	size_t nb;
	double *w;
	double total;
	double age;   /* samples added (the clock of the decay) */
	double scale; /* weight multiplier for a new sample: 2^(age/half_life) */
	double grow;  /* 2^(1/half_life): scale grows by it per sample (no pow per add) */
	double lr;    /* log(ratio) */
	double *start; /* start[i]: ah_vpa_bucket_start(i), so no pow per add or query */
	/* prefix sums of w as the percentile scan adds them, valid below `valid`:
	 * a new sample changes only those from its bucket on */
	double *pre;
	size_t valid;
};

ah_vpa_hist *ah_vpa_new(double first_bucket, double max_value, double ratio, double half_life)
{
	if (!(first_bucket > 0) || !(max_value > first_bucket) || !(ratio > 1) || !(half_life > 0) ||
	    !isfinite(max_value))
		return NULL;
	double nbd = ceil(log(1 + max_value * (ratio - 1) / first_bucket) / log(ratio)) + 1;
	if (nbd > VPA_MAX_BUCKETS)
		return NULL;
	ah_vpa_hist *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->nb = (size_t)nbd;
	h->w = calloc(h->nb, sizeof(double));
	h->start = malloc(h->nb * sizeof(double));
	h->pre = malloc(h->nb * sizeof(double));
	if (!h->w || !h->start || !h->pre) {
		ah_vpa_free(h);
		return NULL;
	}
	h->first = first_bucket;
	h->ratio = ratio;
	h->half_life = half_life;
	h->grow = pow(2, 1 / half_life);
	h->scale = 1;
	h->lr = log(ratio);
	for (size_t i = 0; i < h->nb; i++)
		h->start[i] = ah_vpa_bucket_start(h, i);
	return h;
}

double ah_vpa_bucket_start(const ah_vpa_hist *h, size_t i)
{
	return h->first * (pow(h->ratio, (double)i) - 1) / (h->ratio - 1);
}

size_t ah_vpa_buckets(const ah_vpa_hist *h)
{
	return h ? h->nb : 0;
}

static size_t bucket_of(const ah_vpa_hist *h, double v)
{
	if (!(v > 0))
		return 0;
	double b = floor(log(1 + v * (h->ratio - 1) / h->first) / h->lr);
	if (b < 0)
		return 0;
	if (b >= (double)h->nb)
		return h->nb - 1;
	size_t i = (size_t)b;
	/* guard the float rounding at bucket edges */
	if (i + 1 < h->nb && v >= h->start[i + 1])
		i++;
	else if (i > 0 && v < h->start[i])
		i--;
	return i;
}

void ah_vpa_add(ah_vpa_hist *h, double v, double weight)
{
	if (!h || isnan(v) || !(weight > 0))
		return;
	/* Instead of decaying every bucket, newer samples weigh more
	 * (2^(age/half_life)); renormalise before the numbers get huge. */
	if (h->scale > 1e100) {
		for (size_t i = 0; i < h->nb; i++)
			h->w[i] /= h->scale;
		h->total /= h->scale;
		h->scale = 1;
		h->age = 0;
		h->valid = 0;
	}
	double w = weight * h->scale;
	size_t b = bucket_of(h, v);
	h->w[b] += w;
	if (h->valid > b)
		h->valid = b;
	h->total += w;
	h->age += 1;
	h->scale *= h->grow;
}

double ah_vpa_percentile(const ah_vpa_hist *h, double p)
{
	if (!h || !(h->total > 0))
		return 0;
	double want = p * h->total, s = 0;
	size_t i = 0;
	for (; i < h->nb; i++) {
		s += h->w[i];
		if (s >= want && h->w[i] > 0)
			break;
	}
	if (i >= h->nb - 1)
		return h->start[h->nb - 1];
	return h->start[i + 1];
}

/* ah_vpa_percentile through the prefix cache: the same sums, so the same
 * answer; the valid part is searched by bisection (the sums never fall). */
static double percentile_cached(ah_vpa_hist *h, double p)
{
	if (!(h->total > 0))
		return 0;
	double want = p * h->total;
	size_t lo = 0, hi = h->valid;
	while (lo < hi) { /* the first cached prefix >= want */
		size_t mid = (lo + hi) / 2;
		if (h->pre[mid] >= want)
			hi = mid;
		else
			lo = mid + 1;
	}
	size_t i = lo;
	for (; i < h->nb; i++) {
		if (i >= h->valid) {
			h->pre[i] = (i ? h->pre[i - 1] : 0) + h->w[i];
			h->valid = i + 1;
		}
		if (h->pre[i] >= want && h->w[i] > 0)
			break;
	}
	if (i >= h->nb - 1)
		return h->start[h->nb - 1];
	return h->start[i + 1];
}

void ah_vpa_free(ah_vpa_hist *h)
{
	if (!h)
		return;
	free(h->w);
	free(h->start);
	free(h->pre);
	free(h);
}

typedef struct {
	ah_model base;
	ah_vpa_hist *h;
} vpa_model;

static void vpa_update(ah_model *m, double y)
{
	vpa_model *v = (vpa_model *)m;
	if (isnan(y))
		return;
	double e = y - percentile_cached(v->h, 0.5);
	v->base.err_var = v->base.nobs ? 0.98 * v->base.err_var + 0.02 * e * e : 0;
	v->base.nobs++;
	ah_vpa_add(v->h, y, 1);
}

static void vpa_forecast(const ah_model *m, size_t h, const double *q, size_t nq, double *point,
			 double *qout)
{
	const vpa_model *v = (const vpa_model *)m;
	double med = ah_vpa_percentile(v->h, 0.5);
	for (size_t i = 0; i < h; i++) {
		point[i] = med;
		for (size_t j = 0; j < nq; j++)
			qout[i * nq + j] = i ? qout[j] : ah_vpa_percentile(v->h, q[j]);
	}
}

static void vpa_free(ah_model *m)
{
	vpa_model *v = (vpa_model *)m;
	if (!v)
		return;
	ah_vpa_free(v->h);
	free(v);
}

static const ah_model_ops vpa_ops = {"vpa-histogram", vpa_update, vpa_forecast, vpa_free};

ah_model *ah_model_vpa_new(double first_bucket, double max_value, double half_life)
{
	vpa_model *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->h = ah_vpa_new(first_bucket, max_value, 1.05, half_life);
	if (!v->h) {
		free(v);
		return NULL;
	}
	v->base.ops = &vpa_ops;
	return &v->base;
}
