/* ahead CLI: tables for people, aligned whatever the cell lengths.
 *
 * Rows are kept until ah_cli_table_print, which sizes each column from its
 * widest cell (counted in characters, not bytes). Cells are copied with
 * outside bytes made safe for a terminal: control characters and bytes that
 * are not UTF-8 print as \xNN, so nothing vanishes and nothing moves the
 * cursor. */
#ifndef AHEAD_CLI_TABLE_H
#define AHEAD_CLI_TABLE_H

#include <stdio.h>

#define AH_CLI_TABLE_COLS 16

typedef struct {
	int ncol;
	unsigned right;  /* bit i: column i is right-aligned (numbers) */
	int nrows, cap;
	char **cells;    /* nrows * ncol, row-major */
	int w[AH_CLI_TABLE_COLS]; /* widths measured without keeping the row */
} ah_cli_table;

/* A table of ncol (<= AH_CLI_TABLE_COLS) columns; right-aligned columns as
 * a bit mask. */
void ah_cli_table_init(ah_cli_table *t, int ncol, unsigned right);
void ah_cli_table_fini(ah_cli_table *t);
/* Adds a row of ncol cells (NULL prints as "-"); 0 or AH_ENOMEM. */
int ah_cli_table_add(ah_cli_table *t, const char *const *cells);
/* The same with the cells as arguments (exactly ncol of them). */
int ah_cli_table_addv(ah_cli_table *t, ...);
/* Prints every row, columns two spaces apart, the last one unpadded. */
void ah_cli_table_print(const ah_cli_table *t, FILE *f);

/* For rows too many to keep (a series' points): a first pass measures
 * each row without keeping it, a second prints each row as it comes, in
 * the widths measured (and those of the rows kept, e.g. a header). Cells
 * as in ah_cli_table_add; measure and print must see the same cells. */
int ah_cli_table_measure(ah_cli_table *t, const char *const *cells);
int ah_cli_table_print_row(const ah_cli_table *t, const char *const *cells, FILE *f);

/* Outside text made safe for a terminal (see above) into buf; returns buf. */
char *ah_cli_safe_text(const char *s, char *buf, size_t len);

/* One CSV field on stdout, quoted (RFC 4180) when it must be. */
void ah_cli_csv_field(const char *s);

#endif
