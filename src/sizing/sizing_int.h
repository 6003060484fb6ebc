/* Private to src/sizing: the exponential decaying histogram shared by the
 * vpa and autopilot policies, and the policies' ops tables. */
#ifndef AHEAD_SIZING_INT_H
#define AHEAD_SIZING_INT_H

#include <stdint.h>

#include "ahead/sizing.h"

#define AH_HIST_MAX_BUCKETS 256

/* Bucketing as in VPA's exponentialHistogramOptions: bucket 0 covers
 * [0, first), bucket n >= 1 starts at first * (ratio^n - 1) / (ratio - 1). */
typedef struct {
	int nbuckets;
	double first, ratio, log_ratio, epsilon;
} ah_hist_opts;

int ah_hist_opts_init(ah_hist_opts *o, double max_value, double first, double ratio, double epsilon);
int ah_hist_find_bucket(const ah_hist_opts *o, double v);
double ah_hist_bucket_start(const ah_hist_opts *o, int b);

/* VPA's histogram + decayingHistogram: sample weights are multiplied by
 * 2^((t - ref) / half_life); ref moves forward (to the hour) when the
 * exponent would pass 100, rescaling the weights. */
typedef struct {
	const ah_hist_opts *o;
	double w[AH_HIST_MAX_BUCKETS];
	double total;
	int minb, maxb;
	int64_t half_life_s;
	int64_t ref_s;
	int has_ref;
} ah_dhist;

void ah_dhist_init(ah_dhist *h, const ah_hist_opts *o, int64_t half_life_s);
void ah_dhist_add(ah_dhist *h, double v, double weight, int64_t t_s);
void ah_dhist_sub(ah_dhist *h, double v, double weight, int64_t t_s);
int ah_dhist_empty(const ah_dhist *h);
/* VPA's Percentile: end of the bucket where the cumulative weight reaches
 * p x total (start of the last bucket if it is the last); 0 when empty. */
double ah_dhist_percentile(const ah_dhist *h, double p);

extern const ah_sizing_ops ah_sizing_static_ops;
extern const ah_sizing_ops ah_sizing_threshold_ops;
extern const ah_sizing_ops ah_sizing_vpa_ops;
extern const ah_sizing_ops ah_sizing_autopilot_ops;
extern const ah_sizing_ops ah_sizing_ahead_ops;

#endif
