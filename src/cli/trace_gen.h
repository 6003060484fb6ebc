/* replay --generate: a synthetic usage trace, so a replay (or the demo)
 * needs no data file. Seeded: the same options give the same bytes.
 *
 * N workloads, named by kind and number (web-01, api-02, batch-03,
 * cache-04, web-05, ...), each one row of cpu (millicores) and one of
 * memory (bytes) every step, in the plain trace format (trace.h:
 * "time,workload,dim,used"), starting at 2026-01-01T00:00:00Z:
 *   web, api  busy by day: a daily cosine peaking at 14:00 (web) or
 *             11:00 (api), +-2 h per workload;
 *   batch     busy by night: peaking at 02:00 +-1 h, deeper troughs;
 *   cache     nearly flat cpu, large steady memory.
 * Levels are drawn per workload (cpu base 200m..1200m, memory 256Mi..2Gi,
 * cache 1Gi..3Gi). On the cycle sits AR(1) noise (8 % of the level,
 * correlated from one step to the next) and, with probability 0.4 % per
 * step, a spike of 2..6 steps at 1.8..3x the cpu level (+20 % memory).
 * docs/REPLAY.md, "Generated traces", says the same for users. */
#ifndef AHEAD_CLI_TRACE_GEN_H
#define AHEAD_CLI_TRACE_GEN_H

#include <stdint.h>
#include <stdio.h>

/* 2026-01-01T00:00:00Z: where generated traces start. */
#define AH_TRACE_GEN_START_S INT64_C(1767225600)

typedef struct {
	int workloads;  /* 1..AH_TRACE_GEN_WORKLOADS_MAX */
	int days;       /* 1..AH_TRACE_GEN_DAYS_MAX */
	int64_t step_s; /* seconds between samples, 1..86400 */
	uint64_t seed;
	int64_t start_s; /* first sample's time (Unix seconds) */
} ah_trace_gen_opts;

void ah_trace_gen_opts_init(ah_trace_gen_opts *o);

/* Writes the trace to f, header included. 0, or AH_EINVAL (an option out
 * of range) or AH_EIO (a write failed). */
int ah_trace_gen_write(FILE *f, const ah_trace_gen_opts *o);

#endif
