/* replay --generate (cli/trace_gen.h): daily cycles, noise and spikes,
 * from a seeded generator of our own (splitmix64), so the bytes do not
 * depend on the C library. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "ahead/error.h"
#include "ahead/limits.h"
#include "cli/trace_gen.h"

#define NOISE_SD 0.08    /* of the level, stationary */
#define NOISE_RHO 0.7    /* step-to-step correlation of the noise */
#define SPIKE_P 0.004    /* a spike starts at a step with this probability */

static const char *const KINDS[] = {"web", "api", "batch", "cache"};

typedef struct {
	uint64_t rng;
	double cpu, amp, peak_h, mem;
	double e;        /* AR(1) noise */
	int spike_left;  /* steps of the spike still to come */
	double spike;    /* its factor */
} gen_wl;

static uint64_t next_u64(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double uniform(uint64_t *s)
{
	return (double)(next_u64(s) >> 11) * 0x1.0p-53;
}

static double between(uint64_t *s, double lo, double hi)
{
	return lo + (hi - lo) * uniform(s);
}

/* Standard normal (Box-Muller; one of the pair). */
static double normal(uint64_t *s)
{
	double u = uniform(s), v = uniform(s);
	return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v);
}

void ah_trace_gen_opts_init(ah_trace_gen_opts *o)
{
	o->workloads = 12;
	o->days = 1;
	o->step_s = 300;
	o->seed = 1;
	o->start_s = AH_TRACE_GEN_START_S;
}

static void setup(gen_wl *w, int i, uint64_t seed)
{
	w->rng = seed * UINT64_C(0x2545f4914f6cdd1d) + (uint64_t)(i + 1) * UINT64_C(0x9e3779b97f4a7c15);
	(void)next_u64(&w->rng);
	int kind = i % 4;
	w->cpu = between(&w->rng, 200, 1200);
	w->mem = between(&w->rng, 256, 2048) * 1024 * 1024;
	switch (kind) {
	case 0: /* web */
		w->amp = between(&w->rng, 0.4, 0.75);
		w->peak_h = 14 + between(&w->rng, -2, 2);
		break;
	case 1: /* api */
		w->amp = between(&w->rng, 0.4, 0.75);
		w->peak_h = 11 + between(&w->rng, -2, 2);
		break;
	case 2: /* batch */
		w->amp = between(&w->rng, 0.7, 0.95);
		w->peak_h = 2 + between(&w->rng, -1, 1);
		break;
	default: /* cache */
		w->amp = between(&w->rng, 0.05, 0.15);
		w->peak_h = between(&w->rng, 0, 24);
		w->cpu *= 0.5;
		w->mem = between(&w->rng, 1024, 3072) * 1024 * 1024;
		break;
	}
	w->e = 0;
	w->spike_left = 0;
	w->spike = 1;
}

/* One step of a workload at hour-of-day h: cpu millicores, memory bytes. */
static void step(gen_wl *w, double h, int64_t *cpu, int64_t *mem)
{
	w->e = NOISE_RHO * w->e + NOISE_SD * sqrt(1 - NOISE_RHO * NOISE_RHO) * normal(&w->rng);
	if (w->spike_left == 0 && uniform(&w->rng) < SPIKE_P) {
		w->spike_left = 2 + (int)(uniform(&w->rng) * 5); /* 2..6 steps */
		w->spike = between(&w->rng, 1.8, 3.0);
	}
	bool spiking = w->spike_left > 0;
	double cyc = cos(2.0 * M_PI * (h - w->peak_h) / 24.0);
	double c = w->cpu * (1 + w->amp * cyc) * (1 + w->e) * (spiking ? w->spike : 1);
	double m = w->mem * (1 + 0.3 * w->amp * cyc) * (1 + 0.25 * w->e) * (spiking ? 1.2 : 1);
	if (spiking)
		w->spike_left--;
	*cpu = c < 10 ? 10 : (int64_t)llround(c);
	*mem = m < 16 * 1024 * 1024 ? 16 * 1024 * 1024 : (int64_t)llround(m / 1024) * 1024;
}

int ah_trace_gen_write(FILE *f, const ah_trace_gen_opts *o)
{
	if (o->workloads < 1 || o->workloads > AH_TRACE_GEN_WORKLOADS_MAX || o->days < 1 ||
	    o->days > AH_TRACE_GEN_DAYS_MAX || o->step_s < 1 || o->step_s > 86400 || o->start_s < 0 ||
	    o->start_s > AH_TRACE_TIME_MAX - (int64_t)o->days * 86400)
		return AH_EINVAL;
	gen_wl *w = calloc((size_t)o->workloads, sizeof *w);
	if (!w)
		return AH_ENOMEM;
	for (int i = 0; i < o->workloads; i++)
		setup(&w[i], i, o->seed);
	fprintf(f, "time,workload,dim,used\n");
	int64_t end = o->start_s + (int64_t)o->days * 86400;
	for (int64_t t = o->start_s; t < end; t += o->step_s) {
		double h = (double)(t % 86400) / 3600.0;
		for (int i = 0; i < o->workloads; i++) {
			int64_t c, m;
			step(&w[i], h, &c, &m);
			fprintf(f, "%lld,%s-%02d,cpu,%lld\n%lld,%s-%02d,memory,%lld\n", (long long)t, KINDS[i % 4], i + 1,
				(long long)c, (long long)t, KINDS[i % 4], i + 1, (long long)m);
		}
	}
	free(w);
	return ferror(f) ? AH_EIO : 0;
}
