/* ahead: streaming readers for usage traces (input of `ahead replay`).
 *
 * A trace is read one line at a time into a fixed buffer: memory stays
 * bounded whatever the file size (a 1 GB trace streams like a 1 KB one).
 * Rows come out in file order, one (time, workload, dimension) sample each.
 *
 * Formats (docs/REPLAY.md has the details and the tolerated quirks):
 *   bitbrains  GWA-T-12 per-VM CSV, separator ";\t", header line, timestamps
 *              in Unix seconds (despite "[ms]"). One file per VM; the VM is
 *              named after the file (basename without ".csv"). Each line gives
 *              two rows: cpu (MHz converted to millicores with the VM's
 *              per-core clock; requested = cores x 1000) and memory (KB x 1024
 *              bytes; requested = provisioned KB x 1024).
 *   plain      "time,workload,dim,used[,requested]" with that header line;
 *              time in Unix seconds or ISO 8601, dim "cpu" or "mem"/"memory",
 *              values non-negative decimal numbers in millicores and bytes
 *              unless ah_trace_set_units says otherwise (replay --unit).
 *
 * Errors are "FILE:LINE: reason" (ah_trace_error). */
#ifndef AHEAD_TRACE_H
#define AHEAD_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ahead/input_unit.h"
#include "ahead/resource.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Hard caps on what a trace may hold: AH_TRACE_CPU_MAX, AH_TRACE_MEM_MAX,
 * AH_TRACE_TIME_MAX in limits.h; lines are CSV lines (AH_CSV_LINE_MAX). */
#define AH_TRACE_LINE_MAX AH_CSV_LINE_MAX

typedef enum { AH_TRACE_BITBRAINS = 0, AH_TRACE_PLAIN = 1 } ah_trace_format;

int ah_trace_format_parse(const char *s, ah_trace_format *out);

typedef struct {
	int64_t t_s;          /* Unix seconds */
	const char *workload; /* borrowed from the reader; valid until the next call */
	int dim;              /* AH_DIM_CPU (millicores) or AH_DIM_MEMORY (bytes) */
	int64_t used;
	int64_t requested;    /* -1 when the trace does not say */
} ah_trace_row;

/* Counters of the tolerated quirks met so far. */
typedef struct {
	uint64_t lines;          /* lines read, header included */
	uint64_t rows;           /* rows returned */
	uint64_t duplicate_rows; /* bitbrains: repeated timestamp, later copy skipped */
	uint64_t off_rows;       /* bitbrains: VM off (provisioned 0), sample skipped */
	uint64_t ms_timestamps;  /* bitbrains: timestamps that were really ms (divided) */
	/* plain: values read, and those above 0 that round to 0 in the base
	 * unit (a wrong --unit, e.g. percent read as millicores), per
	 * dimension: [AH_DIM_CPU], [AH_DIM_MEMORY] */
	uint64_t values[2];
	uint64_t rounded_to_zero[2];
} ah_trace_stats;

typedef struct ah_trace ah_trace;

/* Opens PATH for streaming. AH_EIO if it cannot be opened. */
int ah_trace_open(const char *path, ah_trace_format fmt, ah_trace **out);
/* Streams from an already open FILE (not closed by ah_trace_free); NAME is
 * used in errors and, for bitbrains, as the workload name. */
int ah_trace_open_stream(FILE *f, const char *name, ah_trace_format fmt, ah_trace **out);
void ah_trace_free(ah_trace *tr);
/* Plain traces: the units of used/requested values (input_unit.h; default
 * millicores and bytes). AH_EINVAL for a bitbrains trace, whose units the
 * format states. Call before the first ah_trace_next. */
int ah_trace_set_units(ah_trace *tr, const ah_input_units *u);

/* Next row: 1 = row written, 0 = end of trace, <0 = AH_E* error (the reader
 * then stays in error; ah_trace_error says where and why). */
int ah_trace_next(ah_trace *tr, ah_trace_row *row);
const char *ah_trace_error(const ah_trace *tr);
/* "FILE:LINE" of the last line read (for errors found by the caller). */
const char *ah_trace_where(const ah_trace *tr, char *buf, size_t len);
void ah_trace_get_stats(const ah_trace *tr, ah_trace_stats *out);
/* The most rows ever held in the reader at once (by design at most 2, one
 * line's worth): lets tests assert bounded memory without timing. */
size_t ah_trace_max_buffered_rows(const ah_trace *tr);

/* Several traces as one stream in time order (ties keep the inputs'
 * order), so a replay sees one clock across files. Takes ownership of the
 * readers (freed by ah_trace_merge_free). Each reader must itself be in
 * time order for the merge to be; the replay checks per workload. */
typedef struct ah_trace_merge ah_trace_merge;
int ah_trace_merge_new(ah_trace **traces, size_t n, ah_trace_merge **out);
void ah_trace_merge_free(ah_trace_merge *m);
/* 1 = row written (from: the reader it came from, for error locations),
 * 0 = end, <0 = a reader's error (ah_trace_merge_error_source says which). */
int ah_trace_merge_next(ah_trace_merge *m, ah_trace_row *row, const ah_trace **from);
const ah_trace *ah_trace_merge_error_source(const ah_trace_merge *m);

#ifdef __cplusplus
}
#endif
#endif
