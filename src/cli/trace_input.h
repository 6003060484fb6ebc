/* Bitbrains traces (trace.h) as input to the series commands (forecast,
 * anomalies) and shadow import: one column, in its stated base unit. */
#ifndef AHEAD_CLI_TRACE_INPUT_H
#define AHEAD_CLI_TRACE_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "ahead/series.h"

/* --column: "cpu" (millicores: MHz used over the VM's per-core MHz) or
 * "memory"/"mem" (bytes: KB x 1024). */
#define AH_CLI_BB_COLUMNS "cpu (millicores) or memory (bytes)"

typedef struct {
	int64_t *t_ns;
	double *v;
	size_t *lines; /* each sample's line in the file */
	size_t n;
	char workload[64]; /* the VM: the file's base name */
} ah_cli_samples;

/* Reads COLUMN of the Bitbrains file PATH. 0, or an AH_E* code with
 * "FILE:LINE: reason" (or "--column: ...") in err. */
int ah_cli_bitbrains_read(const char *path, const char *column, ah_cli_samples *out, char *err, size_t errlen);
void ah_cli_samples_fini(ah_cli_samples *s);

/* The same as a cleaned series (ah_series_from_samples with SO). */
int ah_cli_bitbrains_series(const char *path, const char *column, const ah_series_csv_opts *so, ah_series *out,
			    char *err, size_t errlen);

/* --unit U[,U]: adds each unit to the ah_input_units at dst (AH_OPT_EACH). */
int ah_cli_opt_unit(const char *cmd, const char *opt, const char *s, void *dst);

#endif
