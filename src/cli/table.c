/* Aligned tables for people (cli/table.h). */
#include "cli/table.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"

void ah_cli_table_init(ah_cli_table *t, int ncol, unsigned right)
{
	memset(t, 0, sizeof(*t));
	t->ncol = ncol > AH_CLI_TABLE_COLS ? AH_CLI_TABLE_COLS : ncol;
	t->right = right;
}

void ah_cli_table_fini(ah_cli_table *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->nrows * t->ncol; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

/* Length of a valid UTF-8 sequence starting at s (1..4), or 0. */
static int utf8_len(const unsigned char *s)
{
	int n = s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 && s[0] < 0xE0 ? 2 : 0;
	if (!n)
		return 0;
	for (int i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0) || (s[0] == 0xF0 && s[1] < 0x90) ||
	    (s[0] == 0xF4 && s[1] >= 0x90))
		return 0; /* overlong, surrogate or above U+10FFFF */
	return n;
}

char *ah_cli_safe_text(const char *s, char *buf, size_t len)
{
	size_t k = 0;
	if (!len)
		return buf;
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && k + 5 < len;) {
		int n = *p >= 0x80 ? utf8_len(p) : 1;
		if (n > 1 || (n == 1 && *p >= 0x20 && *p != 0x7f)) {
			memcpy(buf + k, p, (size_t)n);
			k += (size_t)n;
			p += n;
		} else {
			static const char hex[] = "0123456789abcdef";
			buf[k++] = '\\', buf[k++] = 'x', buf[k++] = hex[*p >> 4], buf[k++] = hex[*p & 15];
			p++;
		}
	}
	buf[k] = '\0';
	return buf;
}

static char *safe_dup(const char *s)
{
	size_t n = strlen(s ? s : "") * 4 + 8;
	char *b = malloc(n);
	return b ? ah_cli_safe_text(s ? s : "-", b, n) : NULL;
}

/* The row made safe into row[] (to free); 0 or AH_ENOMEM. */
static int safe_row(const ah_cli_table *t, const char *const *cells, char **row)
{
	for (int i = 0; i < t->ncol; i++) {
		row[i] = safe_dup(cells[i]);
		if (!row[i]) {
			while (i--)
				free(row[i]);
			return AH_ENOMEM;
		}
	}
	return 0;
}

int ah_cli_table_add(ah_cli_table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		int cap = t->cap ? 2 * t->cap : 16;
		char **c = realloc(t->cells, (size_t)cap * (size_t)t->ncol * sizeof(*c));
		if (!c)
			return AH_ENOMEM;
		t->cells = c;
		t->cap = cap;
	}
	if (safe_row(t, cells, t->cells + (size_t)t->nrows * (size_t)t->ncol))
		return AH_ENOMEM;
	t->nrows++;
	return 0;
}

int ah_cli_table_addv(ah_cli_table *t, ...)
{
	const char *cells[AH_CLI_TABLE_COLS];
	va_list ap;
	va_start(ap, t);
	for (int i = 0; i < t->ncol; i++)
		cells[i] = va_arg(ap, const char *);
	va_end(ap);
	return ah_cli_table_add(t, cells);
}

/* Characters, not bytes: continuation bytes do not count. */
static int width(const char *s)
{
	int w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

/* The widths of every column: the rows kept and the rows measured. */
static void widths(const ah_cli_table *t, int w[AH_CLI_TABLE_COLS])
{
	memcpy(w, t->w, sizeof t->w);
	for (int r = 0; r < t->nrows; r++)
		for (int c = 0; c < t->ncol; c++) {
			int x = width(t->cells[r * t->ncol + c]);
			w[c] = x > w[c] ? x : w[c];
		}
}

/* One row of safe cells in widths w. Padding is written only before text
 * that follows it, so a row never ends in spaces (an empty last column). */
static void print_cells(const ah_cli_table *t, char *const *row, const int *w, FILE *f)
{
	int pending = 0;
	for (int c = 0; c < t->ncol; c++) {
		const char *s = row[c];
		int pad = w[c] - width(s);
		bool right = t->right & (1u << c);
		if (right)
			pending += pad;
		if (*s) {
			fprintf(f, "%*s%s", pending, "", s);
			pending = 0;
		}
		if (!right)
			pending += pad;
		pending += 2;
	}
	fputc('\n', f);
}

void ah_cli_table_print(const ah_cli_table *t, FILE *f)
{
	int w[AH_CLI_TABLE_COLS];
	widths(t, w);
	for (int r = 0; r < t->nrows; r++)
		print_cells(t, t->cells + (size_t)r * (size_t)t->ncol, w, f);
}

int ah_cli_table_measure(ah_cli_table *t, const char *const *cells)
{
	char *row[AH_CLI_TABLE_COLS];
	if (safe_row(t, cells, row))
		return AH_ENOMEM;
	for (int c = 0; c < t->ncol; c++) {
		int x = width(row[c]);
		t->w[c] = x > t->w[c] ? x : t->w[c];
		free(row[c]);
	}
	return 0;
}

int ah_cli_table_print_row(const ah_cli_table *t, const char *const *cells, FILE *f)
{
	char *row[AH_CLI_TABLE_COLS];
	int w[AH_CLI_TABLE_COLS];
	if (safe_row(t, cells, row))
		return AH_ENOMEM;
	widths(t, w);
	print_cells(t, row, w, f);
	for (int c = 0; c < t->ncol; c++)
		free(row[c]);
	return 0;
}

/* One CSV field on stdout, quoted when it holds a comma, quote or line break. */
void ah_cli_csv_field(const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

