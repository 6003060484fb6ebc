/* ahead: time series read from CSV files (one time column, one value column).
 *
 * Input rules (documented in docs/FORECAST.md):
 *  - The first line is a header naming the columns. Fields are separated by
 *    commas; a field may be wrapped in double quotes ("" is a literal quote).
 *  - Time column: ISO 8601 ("2014-02-14 14:30:00", "2014-02-14T14:30:00Z",
 *    "2014-02-14T14:30:00.25+02:00", "2014-02-14") or epoch seconds, possibly
 *    fractional ("1392388200.5"). Times without an offset are UTC. Times must
 *    lie within +-4e9 s of the epoch (years 1843..2096), so spacings fit int64 ns.
 *  - Value column: a decimal number; an empty field, "NaN", "NA" or "null"
 *    is a missing value (kept as NaN; models treat NaN as missing).
 *    Infinity or text is refused.
 *  - Default columns: the time column is the one named "timestamp" or "time"
 *    (case-insensitive), else column 0; the value column is the one named
 *    "value", else column 1. Either may be chosen by name or 0-based index.
 *  - Timestamps must increase strictly. A duplicate timestamp or one that goes
 *    backwards is refused with "FILE:LINE: reason", unless the options ask for
 *    sorting and/or a duplicate policy (keep last, mean).
 *  - The step is the median spacing of consecutive timestamps. A gap of more
 *    than 1.5 steps is filled with NaN points on the step grid (so the i-th
 *    point is one step after the (i-1)-th), unless AH_SERIES_NO_FILL.
 *  - Hard caps: a line is at most AH_SERIES_MAX_LINE bytes, a file at most
 *    opts->max_rows points (default AH_SERIES_MAX_ROWS, counting fill points).
 *    A NUL or other control byte is refused as binary data.
 * Errors are written to err as "FILE:LINE: reason" (or "FILE: reason"). */
#ifndef AHEAD_SERIES_H
#define AHEAD_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "ahead/limits.h"

#ifdef __cplusplus
extern "C" {
#endif

/* AH_SERIES_MAX_LINE, AH_SERIES_MAX_ROWS: limits.h. */

enum {
	AH_SERIES_NO_FILL = 1u << 0,   /* do not insert NaN points into gaps */
	AH_SERIES_SORT = 1u << 1,      /* sort rows by time (stable) instead of refusing disorder */
	AH_SERIES_UNORDERED = 1u << 2, /* keep rows exactly as in the file: no order or
					* duplicate checks, no gap fill (for row-order
					* benchmarks); step is still the median |spacing| */
};

typedef enum {
	AH_SERIES_DUP_ERROR = 0, /* refuse a repeated timestamp (default) */
	AH_SERIES_DUP_LAST = 1,  /* keep the last row's value */
	AH_SERIES_DUP_MEAN = 2,  /* average the non-missing values */
} ah_series_dup_policy;

typedef struct {
	const char *time_col;  /* name or 0-based index; NULL: "timestamp"/"time" else 0 */
	const char *value_col; /* name or 0-based index; NULL: "value" else 1 */
	size_t max_rows;       /* 0: AH_SERIES_MAX_ROWS */
	unsigned flags;        /* AH_SERIES_* */
	ah_series_dup_policy dups;
} ah_series_csv_opts; /* all-zero is the default */

typedef struct {
	int64_t *t_ns;  /* n timestamps, ns since the Unix epoch */
	double *v;      /* n values; NaN = missing */
	size_t n;
	int64_t step_ns;      /* median spacing (0 when n < 2) */
	size_t rows;          /* data rows read from the file */
	size_t missing;       /* rows whose value was missing (NaN/empty) */
	size_t gaps;          /* gaps longer than 1.5 steps */
	size_t filled;        /* NaN points inserted into those gaps */
	size_t duplicates;    /* rows merged by the duplicate policy */
	size_t reordered;     /* rows that were out of order (AH_SERIES_SORT) */
	int time_col;         /* columns used (0-based) */
	int value_col;
} ah_series;

/* Reads path into *out (caller storage; release with ah_series_fini).
 * Returns 0, or AH_EIO (cannot open/read), AH_EPARSE (malformed line),
 * AH_EINVAL (bad columns, disorder, duplicates, empty), AH_ETOOBIG (caps),
 * AH_ENOMEM; on error *out is untouched and err says why. */
int ah_series_read_csv(const char *path, const ah_series_csv_opts *opts, ah_series *out,
		       char *err, size_t errlen);

/* The same cleaning (order, duplicates, step, gap fill; opts' flags, dups
 * and max_rows; its columns are ignored) over samples read elsewhere, e.g.
 * a column of a Bitbrains trace. LINES (may be NULL: 1..n) are the samples'
 * line numbers in NAME for messages. Same returns as ah_series_read_csv;
 * time_col and value_col are -1 in *out. */
int ah_series_from_samples(const char *name, const int64_t *t_ns, const double *v, const size_t *lines, size_t n,
			   const ah_series_csv_opts *opts, ah_series *out, char *err, size_t errlen);

/* Parses one timestamp field (ISO 8601 or epoch seconds) to ns. 0 or AH_EINVAL. */
int ah_series_parse_time(const char *s, int64_t *out_ns);

/* Count of non-missing values. */
size_t ah_series_count_valid(const ah_series *s);

void ah_series_fini(ah_series *s); /* NULL-safe; leaves *s zeroed */

#ifdef __cplusplus
}
#endif
#endif
