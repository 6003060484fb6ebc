/* The sizing policies' registry and default parameters. */
#include <stdio.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/sizing.h"
#include "sizing/sizing_int.h"

static const ah_sizing_ops *const all_ops[AH_SIZING_KIND_COUNT] = {
	&ah_sizing_static_ops, &ah_sizing_threshold_ops, &ah_sizing_vpa_ops, &ah_sizing_autopilot_ops,
	&ah_sizing_ahead_ops,
};

/* The policy file's sizing values (include/ahead/policy.h) are builtin,
 * then the policies in the registry's order. */
_Static_assert(AH_SIZING_STATIC == AH_SIZING_KIND_STATIC + 1 && AH_SIZING_AHEAD == AH_SIZING_KIND_AHEAD + 1,
	       "ah_sizing and ah_sizing_kind must stay in step");

void ah_sizing_dim_default(const char *name, ah_sizing_dim *d)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name ? name : "");
	d->shrink_hysteresis = 0.10;
	d->min_dwell_s = 0;
	d->resizes_per_day = 0;
	d->hard_margin = -1;
	d->peak_cap = -1;
	d->cold_hold_s = 0;
	if (name && !strcmp(name, "cpu")) {
		/* Chosen on the July Bitbrains sweeps (docs/RESULTS.md). */
		d->quantile = 0.998;
		d->violation_cost = 50.0 * 1000; /* 50 cores */
		d->score_share = 0.5;
		d->score_default = 1000.0;       /* 1 core */
		d->quantum = 100;                /* 100 millicores */
		d->hist_unit = 1000.0;           /* VPA's histograms count cores */
		/* aggregations_config.go cpuHistogramOptions: the first bucket
		 * is 0.01 core wide, the range ends at 1000 cores */
		d->hist_first = 0.01;
		d->hist_max = 1000.0;
		d->floor = 25;                   /* VPA: 25 millicores */
		return;
	}
	if (name && !strcmp(name, "memory")) {
		d->incompressible = true;
		d->hard_margin = 0.25; /* memory.max 25% over the higher of memory.high and the 48 h peak */
		/* the violation cost is the better knob: the quantile is a ceiling */
		d->quantile = 0.9999;
		d->violation_cost = 320.0 * (double)(1 << 30); /* 320 GiB */
		d->score_share = 0.25;
		d->score_default = (double)((int64_t)2 << 30); /* 2 GiB */
		d->quantum = (int64_t)128 << 20;                /* 128 MiB */
		d->hist_unit = 1.0;
		d->hist_first = 1e7;
		d->hist_max = 1e12;
		d->floor = (int64_t)250 << 20;                  /* VPA: 250 MiB */
		return;
	}
	/* Rates and counts: throttled, not killed, past the reservation. The
	 * histogram ranges span 10^6 (VPA's 5% buckets fit 256 of them). */
	d->quantile = 0.998;
	d->violation_cost = 0;
	d->score_share = 0.5;
	d->hist_unit = 1.0;
	if (name && !strcmp(name, "io")) { /* bytes/s: 10 kB/s .. 10 GB/s */
		d->score_default = (double)(1 << 20);
		d->quantum = 1 << 20;
		d->hist_first = 1e4;
		d->hist_max = 1e10;
	} else if (name && !strcmp(name, "net")) { /* bits/s: 100 kbit/s .. 100 Gbit/s */
		d->score_default = 1e6;
		d->quantum = 1000000;
		d->hist_first = 1e5;
		d->hist_max = 1e11;
	} else { /* plain units: 1 .. 10^6 */
		d->score_default = 1.0;
		d->quantum = 1;
		d->hist_first = 1.0;
		d->hist_max = 1e6;
	}
}

void ah_sizing_params_default(ah_sizing_params *p, const ah_dimset *dims)
{
	memset(p, 0, sizeof(*p));
	p->step_s = 300;
	p->hpa_target = 0.7;
	p->hpa_tolerance = 0.1;
	p->hpa_window_s = 300;
	p->hpa_sync_s = 15;
	p->autopilot_pct = 0.95;
	p->autopilot_half_life_s = 12 * 3600;
	p->autopilot_peak_window_s = 48 * 3600;
	p->autopilot_margin = 0;
	p->vpa_target_pct = 0.9;
	p->vpa_lower_pct = 0.5;
	p->vpa_upper_pct = 0.95;
	p->vpa_margin = 0.15;
	p->vpa_cpu_half_life_s = 24 * 3600;
	p->vpa_mem_half_life_s = 24 * 3600;
	p->vpa_mem_interval_s = 24 * 3600;
	p->vpa_update_threshold = 0.10;
	p->vpa_lifetime_s = 12 * 3600;
	if (!dims) {
		p->ndims = 2;
		ah_sizing_dim_default("cpu", &p->dim[AH_DIM_CPU]);
		ah_sizing_dim_default("memory", &p->dim[AH_DIM_MEMORY]);
		return;
	}
	p->ndims = dims->n < AH_MAX_DIMS ? dims->n : AH_MAX_DIMS;
	for (int d = 0; d < p->ndims; d++)
		ah_sizing_dim_default(dims->name[d], &p->dim[d]);
}

const ah_sizing_ops *ah_sizing_get(ah_sizing_kind k)
{
	return (unsigned)k < AH_SIZING_KIND_COUNT ? all_ops[k] : NULL;
}

const char *ah_sizing_name(ah_sizing_kind k)
{
	return (unsigned)k < AH_SIZING_KIND_COUNT ? all_ops[k]->name : "?";
}

int ah_sizing_parse(const char *name, ah_sizing_kind *out)
{
	for (int k = 0; k < AH_SIZING_KIND_COUNT; k++)
		if (name && !strcmp(name, all_ops[k]->name)) {
			*out = (ah_sizing_kind)k;
			return 0;
		}
	return AH_EINVAL;
}

int ah_sizing_find(const char *name, const ah_sizing_ops **out)
{
	if (!name || !out)
		return AH_EINVAL;
	if (!strcmp(name, "builtin")) {
		*out = NULL;
		return 0;
	}
	ah_sizing_kind k;
	if (ah_sizing_parse(name, &k))
		return AH_ENOENT;
	*out = all_ops[k];
	return 0;
}

int ah_sizing_of_policy(ah_sizing s, ah_sizing_kind *out)
{
	if (s == AH_SIZING_BUILTIN)
		return AH_ENOENT;
	if ((unsigned)s > AH_SIZING_AHEAD || !out)
		return AH_EINVAL;
	*out = (ah_sizing_kind)(s - 1);
	return 0;
}
