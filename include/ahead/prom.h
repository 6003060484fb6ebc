/* A Prometheus client: one series from the HTTP API's range query
 * (GET /api/v1/query_range, docs: prometheus.io, "Querying API"), for
 * `ahead shadow import --prometheus URL --query PROMQL` and for the
 * daemon's [source] polls (src/server/prom_source.c).
 *
 * A range of more than AH_PROM_POINTS_MAX steps (Prometheus's own limit
 * per query) is split into several requests, each answer capped at
 * AH_PROM_BODY_MAX bytes and timeout_s seconds (AH_PROM_TIMEOUT_S when 0). The answer must
 * be a matrix holding one series, or several of which the --match
 * filters leave one; values are decimal strings, and "NaN", "+Inf",
 * "-Inf" are skipped and counted as missing. Values are returned as
 * Prometheus gave them: the caller applies the units (--unit). */
#ifndef AHEAD_PROM_H
#define AHEAD_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "ahead/limits.h" /* AH_PROM_*: caps on ranges, answers, filters */

typedef struct {
	const char *url;   /* base URL: http(s)://host:port[/prefix], without /api/v1 */
	const char *query; /* PromQL */
	/* [start, end] in steps of step; times and step whole milliseconds */
	int64_t start_ns, end_ns, step_ns;
	const char *match[AH_PROM_MATCH_MAX]; /* "label=value": the series must carry it */
	size_t n_match;
	int timeout_s; /* per request; 0: AH_PROM_TIMEOUT_S (connecting: at most 5 s) */
} ah_prom_range;

typedef struct {
	int64_t *t_ns; /* ascending */
	double *v;     /* finite values, as Prometheus gave them */
	size_t n;
	size_t missing;  /* NaN and infinite values skipped */
	size_t requests; /* HTTP requests made */
	char series[512]; /* the series read, as name{label="value",...} (cut when long) */
} ah_prom_samples;

/* Checks a range before any request: the URL's shape, the --match
 * filters, the time bounds and the number of requests it takes. 0, or
 * AH_EINVAL / AH_ETOOBIG with the reason (naming the option) in err. */
int ah_prom_range_check(const ah_prom_range *r, char *err, size_t errlen);

/* Reads the series. 0 with *out (ah_prom_samples_fini), or:
 *   AH_EINVAL   bad range or filters (ah_prom_range_check); several series
 *               and no --match to pick one (err names them and their labels)
 *   AH_EPARSE   Prometheus refused the query (HTTP 400/422: its errorType
 *               and "error" in err), or its answer is not a query_range one
 *   AH_ENOENT   no series (or none the filters keep), or only missing values
 *   AH_ETOOBIG  an answer above AH_PROM_BODY_MAX
 *   AH_EIO      no answer (connection refused, DNS, TLS) or another status
 *   AH_ETIMEDOUT no answer within the timeout
 *   AH_ENOMEM
 * Every message names the URL; HTTP errors name the status and
 * Prometheus's own message. */
int ah_prom_query_range(const ah_prom_range *r, ah_prom_samples *out, char *err, size_t errlen);
void ah_prom_samples_fini(ah_prom_samples *s);

#endif
