/* Bitbrains traces as series input (cli/trace_input.h): the reader replay
 * uses (src/sim/trace.c), one dimension's rows kept. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/trace.h"
#include "ahead/input_unit.h"
#include "cli/cli.h"
#include "cli/trace_input.h"

static int column_dim(const char *column, int *dim)
{
	if (!column || !strcmp(column, "cpu"))
		*dim = AH_DIM_CPU;
	else if (!strcmp(column, "memory"))
		*dim = AH_DIM_MEMORY;
	else
		return AH_EINVAL;
	return 0;
}

static int grow(ah_cli_samples *s, size_t *cap)
{
	size_t nc = *cap ? *cap * 2 : 1024;
	int64_t *t = realloc(s->t_ns, nc * sizeof(*t));
	if (t)
		s->t_ns = t;
	double *v = realloc(s->v, nc * sizeof(*v));
	if (v)
		s->v = v;
	size_t *l = realloc(s->lines, nc * sizeof(*l));
	if (l)
		s->lines = l;
	if (!t || !v || !l)
		return AH_ENOMEM;
	*cap = nc;
	return 0;
}

/* The line number of the row just read, from "FILE:LINE". */
static size_t line_of(const ah_trace *tr)
{
	char where[320];
	const char *c = strrchr(ah_trace_where(tr, where, sizeof where), ':');
	return c ? (size_t)strtoull(c + 1, NULL, 10) : 0;
}

static int read_rows(ah_trace *tr, int dim, ah_cli_samples *s, char *err, size_t errlen)
{
	size_t cap = 0;
	ah_trace_row row;
	int rc;
	while ((rc = ah_trace_next(tr, &row)) == 1) {
		if (row.dim != dim)
			continue;
		if (s->n >= AH_SERIES_MAX_ROWS) {
			snprintf(err, errlen, "%s: more than %zu rows (hard cap)", ah_trace_error(tr), AH_SERIES_MAX_ROWS);
			return AH_ETOOBIG;
		}
		if (s->n == cap && (rc = grow(s, &cap)))
			return rc;
		s->t_ns[s->n] = row.t_s * INT64_C(1000000000);
		s->v[s->n] = (double)row.used;
		s->lines[s->n++] = line_of(tr);
		snprintf(s->workload, sizeof s->workload, "%s", row.workload);
	}
	if (rc < 0)
		snprintf(err, errlen, "%s", ah_trace_error(tr));
	return rc;
}

int ah_cli_bitbrains_read(const char *path, const char *column, ah_cli_samples *out, char *err, size_t errlen)
{
	int dim;
	if (column_dim(column, &dim)) {
		snprintf(err, errlen, "--column: expected " AH_CLI_BB_COLUMNS ", got '%.32s'", column);
		return AH_EINVAL;
	}
	ah_trace *tr;
	int rc = ah_trace_open(path, AH_TRACE_BITBRAINS, &tr);
	if (rc) {
		snprintf(err, errlen, "%s: cannot open: %s", path, rc == AH_EIO ? strerror(errno) : ah_strerror(rc));
		return rc;
	}
	ah_cli_samples s = {0};
	rc = read_rows(tr, dim, &s, err, errlen);
	ah_trace_free(tr);
	if (rc == 0 && s.n == 0) {
		snprintf(err, errlen, "%s: no %s samples (the VM was off throughout?)", path,
			 dim == AH_DIM_CPU ? "cpu" : "memory");
		rc = AH_EINVAL;
	}
	if (rc) {
		ah_cli_samples_fini(&s);
		return rc == AH_ENOMEM ? rc : rc == AH_EINVAL ? rc : AH_EPARSE;
	}
	*out = s;
	return 0;
}

void ah_cli_samples_fini(ah_cli_samples *s)
{
	if (!s)
		return;
	free(s->t_ns);
	free(s->v);
	free(s->lines);
	memset(s, 0, sizeof(*s));
}

int ah_cli_bitbrains_series(const char *path, const char *column, const ah_series_csv_opts *so, ah_series *out,
			    char *err, size_t errlen)
{
	ah_cli_samples s;
	int rc = ah_cli_bitbrains_read(path, column, &s, err, errlen);
	if (rc)
		return rc;
	rc = ah_series_from_samples(path, s.t_ns, s.v, s.lines, s.n, so, out, err, errlen);
	ah_cli_samples_fini(&s);
	return rc;
}

/* --unit U[,U]: one input unit per kind of dimension (an AH_OPT_EACH callback;
 * dst is an ah_input_units). */
/* ---- import ---- */

int ah_cli_opt_unit(const char *cmd, const char *opt, const char *s, void *dst)
{
	/* "U" or "U,U": one unit per kind of dimension */
	char buf[64];
	if (strlen(s) >= sizeof(buf)) {
		ah_cli_err(cmd, "%s: longer than %zu bytes", opt, sizeof(buf) - 1);
		return -1;
	}
	memcpy(buf, s, strlen(s) + 1);
	for (char *save = NULL, *u = strtok_r(buf, ",", &save); u; u = strtok_r(NULL, ",", &save)) {
		int rc = ah_input_units_add(dst, u);
		if (rc == AH_EEXIST)
			ah_cli_err(cmd, "%s: '%.32s': that kind of dimension already has a unit", opt, u);
		else if (rc)
			ah_cli_err(cmd, "%s: expected one of " AH_INPUT_UNIT_GRAMMAR ", got '%.32s'", opt, u);
		if (rc)
			return -1;
	}
	return 0;
}

